use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::common::{MAX_LIMIT, MAX_SKIP, default_limit, nullable, trimmed};
use crate::models::community_user;
use crate::models::enums::{CommunityUserRole, CommunityUserStatus};

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "mario.bianchi@example.com", "full_name": "Mario Bianchi", "organization_id": 1}))]
pub struct CommunityUserCreate {
    #[serde(deserialize_with = "trimmed")]
    #[validate(email, length(max = 254))]
    #[schema(max_length = 254, format = Email)]
    pub email: String,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub full_name: Option<String>,
    pub role: Option<CommunityUserRole>,
    pub status: Option<CommunityUserStatus>,
    /// Required for admins (and for referents of several organizations).
    pub organization_id: Option<i32>,
    /// The linked app account, of the same organization.
    pub user_id: Option<i32>,
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"full_name": "Mario Bianchi"}))]
pub struct CommunityUserUpdate {
    #[serde(default, deserialize_with = "super::common::trimmed_option")]
    #[validate(email, length(max = 254))]
    #[schema(max_length = 254, format = Email)]
    pub email: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub full_name: Option<Option<String>>,
    pub role: Option<CommunityUserRole>,
    pub status: Option<CommunityUserStatus>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i32>)]
    pub user_id: Option<Option<i32>>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct CommunityUserPublic {
    pub id: i32,
    pub organization_id: i32,
    pub email: String,
    pub full_name: Option<String>,
    pub role: CommunityUserRole,
    pub status: CommunityUserStatus,
    pub user_id: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<community_user::Model> for CommunityUserPublic {
    fn from(m: community_user::Model) -> Self {
        CommunityUserPublic {
            id: m.id,
            organization_id: m.organization_id,
            email: m.email,
            full_name: m.full_name,
            role: m.role,
            status: m.status,
            user_id: m.user_id,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CommunityUserListParams {
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
    /// Case-insensitive substring of the email or name.
    #[validate(length(max = 200))]
    #[param(max_length = 200)]
    pub search: Option<String>,
}

#[derive(Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EmailCheckParams {
    #[validate(length(min = 1, max = 254))]
    #[param(min_length = 1, max_length = 254)]
    pub email: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct EmailCheck {
    pub exists: bool,
    pub id: Option<i32>,
}
