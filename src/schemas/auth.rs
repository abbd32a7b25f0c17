use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

/// The OAuth2 password flow form (`application/x-www-form-urlencoded`).
#[derive(Deserialize, Validate, ToSchema)]
pub struct PasswordForm {
    /// `password`, or left out.
    #[validate(custom(function = "only_password_grant"))]
    #[schema(pattern = "^password$")]
    pub grant_type: Option<String>,
    /// The email or the username.
    #[validate(length(min = 1, max = 254))]
    #[schema(min_length = 1, max_length = 254)]
    pub username: String,
    #[validate(length(min = 1, max = 128))]
    #[schema(min_length = 1, max_length = 128)]
    pub password: String,
    #[serde(default)]
    pub scope: String,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

fn only_password_grant(grant_type: &str) -> Result<(), ValidationError> {
    if grant_type == "password" {
        Ok(())
    } else {
        Err(ValidationError::new("grant_type").with_message("grant_type must be `password`".into()))
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Token {
    pub access_token: String,
    /// Always `bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Opaque; exchange it at `/login/refresh-token`. Each use rotates it.
    pub refresh_token: String,
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    #[validate(length(min = 1, max = 256))]
    #[schema(min_length = 1, max_length = 256)]
    pub refresh_token: String,
}

/// A plain confirmation.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct Message {
    pub message: String,
}

/// A new password, set with the token of an e-mailed reset link.
#[derive(Deserialize, Validate, ToSchema)]
#[schema(example = json!({"token": "M9Dbsy-7aYKlWN-m4E9MidltO26Q0RaPYfXKy8uRqWs", "new_password": "una-nuova-password"}))]
#[serde(deny_unknown_fields)]
pub struct NewPassword {
    /// The `token` parameter of the link in the reset mail.
    #[validate(length(min = 1, max = 256))]
    #[schema(min_length = 1, max_length = 256)]
    pub token: String,
    #[validate(length(min = 8, max = 128))]
    #[schema(min_length = 8, max_length = 128)]
    pub new_password: String,
}
