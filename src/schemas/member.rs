use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::common::{MAX_LIMIT, default_limit, nullable};
use crate::models::enums::{MemberCategory, MemberRole, MemberStatus};
use crate::models::member;

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberCreate {
    pub configuration_id: i32,
    /// The member's own account, if it has one (same organization as the configuration).
    pub user_id: Option<i32>,
    /// `IT` + 3-digit distributor + `E` + 8 digits (+ optional check character).
    pub pod: String,
    pub role: MemberRole,
    pub category: MemberCategory,
    /// `pending` or `active` (default); withdraw later with PATCH.
    pub status: Option<MemberStatus>,
    pub joined_at: NaiveDate,
    /// First day the POD no longer takes part (exclusive end of the membership).
    pub withdrawn_at: Option<NaiveDate>,
    /// Scambio sul Posto active on this POD.
    #[serde(default)]
    pub net_metering: bool,
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberUpdate {
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i32>)]
    pub user_id: Option<Option<i32>>,
    pub role: Option<MemberRole>,
    pub category: Option<MemberCategory>,
    pub status: Option<MemberStatus>,
    pub joined_at: Option<NaiveDate>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub withdrawn_at: Option<Option<NaiveDate>>,
    pub net_metering: Option<bool>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct MemberPublic {
    pub id: i32,
    pub configuration_id: i32,
    pub user_id: Option<i32>,
    pub pod: String,
    pub role: MemberRole,
    pub category: MemberCategory,
    pub status: MemberStatus,
    pub joined_at: NaiveDate,
    pub withdrawn_at: Option<NaiveDate>,
    pub net_metering: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<member::Model> for MemberPublic {
    fn from(m: member::Model) -> Self {
        MemberPublic {
            id: m.id,
            configuration_id: m.configuration_id,
            user_id: m.user_id,
            pod: m.pod,
            role: m.role,
            category: m.category,
            status: m.status,
            joined_at: m.joined_at,
            withdrawn_at: m.withdrawn_at,
            net_metering: m.net_metering,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberListParams {
    #[serde(default)]
    pub skip: u64,
    #[serde(default = "default_limit")]
    #[validate(range(min = 1, max = MAX_LIMIT))]
    pub limit: u64,
    pub configuration_id: Option<i32>,
    pub role: Option<MemberRole>,
    pub status: Option<MemberStatus>,
    pub category: Option<MemberCategory>,
    /// Case-insensitive substring of the POD or of the linked user's name or email.
    #[validate(length(max = 200))]
    pub search: Option<String>,
}
