use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::{Validate, ValidationError};

use super::common::{MAX_LIMIT, MAX_SKIP, default_limit, nullable, trimmed, trimmed_option};
use crate::models::enums::{Role, UserKind, UserStatus, UserType};
use crate::models::user;

fn person() -> UserKind {
    UserKind::Person
}
fn consumer() -> UserType {
    UserType::Consumer
}
fn plain_user() -> Role {
    Role::User
}
fn active() -> UserStatus {
    UserStatus::Active
}

/// Usernames are login names: letters, digits and `._-`, so they can never look like an email.
fn username_characters(username: &str) -> Result<(), ValidationError> {
    if username
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        Ok(())
    } else {
        Err(ValidationError::new("username")
            .with_message("Username may contain only letters, digits, '.', '_' and '-'".into()))
    }
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "anna.rossi@example.com", "password": "una-password-sicura", "full_name": "Anna Rossi", "type": "person", "user_type": "consumer", "role": "user", "status": "active", "organization_id": 1}))]
pub struct UserCreate {
    #[serde(deserialize_with = "trimmed")]
    #[validate(email, length(max = 254))]
    #[schema(max_length = 254, format = Email)]
    pub email: String,
    #[validate(length(min = 3, max = 64), custom(function = "username_characters"))]
    #[schema(min_length = 3, max_length = 64, pattern = r"^[A-Za-z0-9._-]*$")]
    pub username: Option<String>,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub full_name: Option<String>,
    /// Codice fiscale (16 characters) for a person, partita IVA (11 digits) for a company.
    pub fiscal_code: Option<String>,
    #[serde(rename = "type", default = "person")]
    #[schema(default = "person")]
    pub kind: UserKind,
    #[serde(default = "consumer")]
    pub user_type: UserType,
    #[validate(length(max = 500))]
    #[schema(max_length = 500)]
    pub address: Option<String>,
    #[serde(default = "plain_user")]
    pub role: Role,
    #[serde(default = "active")]
    pub status: UserStatus,
    #[validate(length(min = 8, max = 128))]
    #[schema(min_length = 8, max_length = 128)]
    pub password: String,
    /// Required for vendors; a vendor's new users always join the vendor's own organization.
    pub organization_id: Option<i32>,
}

/// What an admin or vendor may change on another account.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"full_name": "Anna Maria Rossi"}))]
pub struct UserUpdate {
    #[serde(default, deserialize_with = "trimmed_option")]
    #[validate(email, length(max = 254))]
    #[schema(max_length = 254, format = Email)]
    pub email: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    #[validate(length(min = 3, max = 64), custom(function = "username_characters"))]
    #[schema(min_length = 3, max_length = 64, pattern = r"^[A-Za-z0-9._-]*$")]
    pub username: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub full_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub fiscal_code: Option<Option<String>>,
    #[serde(rename = "type")]
    pub kind: Option<UserKind>,
    pub user_type: Option<UserType>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    #[validate(length(max = 500))]
    #[schema(max_length = 500)]
    pub address: Option<Option<String>>,
    pub role: Option<Role>,
    pub status: Option<UserStatus>,
    #[validate(length(min = 8, max = 128))]
    #[schema(min_length = 8, max_length = 128)]
    pub password: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i32>)]
    pub organization_id: Option<Option<i32>>,
}

/// What every user may change on their own account. Changing the email or the password needs
/// the current password, so a stolen access token cannot take the account over.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"full_name": "Amministratore della piattaforma"}))]
pub struct UserUpdateMe {
    #[serde(default, deserialize_with = "trimmed_option")]
    #[validate(email, length(max = 254))]
    #[schema(max_length = 254, format = Email)]
    pub email: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    #[validate(length(min = 3, max = 64), custom(function = "username_characters"))]
    #[schema(min_length = 3, max_length = 64, pattern = r"^[A-Za-z0-9._-]*$")]
    pub username: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub full_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    #[validate(length(max = 500))]
    #[schema(max_length = 500)]
    pub address: Option<Option<String>>,
    #[validate(length(min = 8, max = 128))]
    #[schema(min_length = 8, max_length = 128)]
    pub password: Option<String>,
    #[validate(length(min = 1, max = 128))]
    #[schema(min_length = 1, max_length = 128)]
    pub current_password: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct UserPublic {
    pub id: i32,
    pub email: String,
    pub username: Option<String>,
    pub full_name: Option<String>,
    pub fiscal_code: Option<String>,
    #[serde(rename = "type")]
    pub kind: UserKind,
    pub user_type: UserType,
    pub address: Option<String>,
    pub role: Role,
    pub status: UserStatus,
    pub is_active: bool,
    pub organization_id: Option<i32>,
    #[serde(serialize_with = "crate::schemas::wire::utc")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::schemas::wire::utc")]
    pub updated_at: DateTime<Utc>,
}

impl From<user::Model> for UserPublic {
    fn from(model: user::Model) -> Self {
        UserPublic {
            is_active: model.is_active(),
            id: model.id,
            email: model.email,
            username: model.username,
            full_name: model.full_name,
            fiscal_code: model.fiscal_code,
            kind: model.kind,
            user_type: model.user_type,
            address: model.address,
            role: model.role,
            status: model.status,
            organization_id: model.organization_id,
            created_at: model.created_at,
            updated_at: model.updated_at,
        }
    }
}

#[derive(Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserListParams {
    /// How many items to leave out before the page (0 to 10^12).
    #[serde(default)]
    #[validate(range(max = MAX_SKIP))]
    #[param(minimum = 0, maximum = 1_000_000_000_000_u64)]
    pub skip: u64,
    /// Page size, 1 to 1000.
    #[serde(default = "default_limit")]
    #[validate(range(min = 1, max = MAX_LIMIT))]
    #[param(minimum = 1)]
    #[param(minimum = 1, maximum = 1000, default = 100)]
    pub limit: u64,
    /// Filter on the account type: `person` or `company`.
    pub type_filter: Option<UserKind>,
    pub user_type: Option<UserType>,
    pub status: Option<UserStatus>,
    pub role: Option<Role>,
    pub organization_id: Option<i32>,
    /// Case-insensitive substring of email, username, full name or fiscal code.
    #[validate(length(max = 200))]
    #[param(max_length = 200)]
    pub search: Option<String>,
}
