use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use rust_decimal::Decimal;

use super::common::{
    MAX_LIMIT, MAX_SKIP, default_limit, exact_decimal_option, nullable, nullable_exact_decimal,
};
use crate::domain::quantities::{KW_MILLI, from_fixed};
use crate::models::enums::{HolderType, MemberRole, MemberStatus};
use crate::models::member;

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"configuration_id": 1, "pod": "IT001E00000082", "role": "prosumer", "holder_type": "natural_person", "joined_at": "2024-02-01", "gse_notified_on": "2024-02-01", "available_power_kw": "4.5"}))]
pub struct MemberCreate {
    pub configuration_id: i32,
    /// The member's own account, if it has one (same organization as the configuration).
    pub user_id: Option<i32>,
    /// The holder of the point (`/holders`, same organization as the configuration). Absent:
    /// a draft holder of `holder_type` is registered with the member, to be completed.
    pub holder_id: Option<i32>,
    /// `IT` + 3-digit distributor + `E` + 8 digits (+ optional check character).
    #[schema(
        pattern = r"^[Ii][Tt][0-9]{3}[Ee][0-9]{8}[A-Za-z0-9]?$",
        example = "IT001E00012345"
    )]
    pub pod: String,
    pub role: MemberRole,
    /// Who holds the point: `natural_person`, `sme`, `public_body`,
    /// `religious_or_third_sector` (religious, third-sector and environmental bodies),
    /// `association` (associations, research and training bodies) or `other_company` (a
    /// business that is not an SME: not allowed in a CER). Decides whether the grant reduction
    /// F applies to the point's shared energy (DM 414/2023; DM 127/2025 for natural persons)
    /// and whether it may receive the excess premium (non-businesses only). `category` (with
    /// `domestic`, `large_enterprise`) is still read, as the earlier name of this field.
    /// It is the holder's kind: required without `holder_id`, and with one it must match.
    #[serde(
        default,
        alias = "category",
        deserialize_with = "crate::models::enums::optional_holder_type_or_category"
    )]
    #[schema(value_type = Option<HolderType>)]
    pub holder_type: Option<HolderType>,
    /// The point's available power (kW, up to 3 decimals), if known: withdrawal readings above
    /// it (plus 10%) are refused as implausible.
    #[serde(default, deserialize_with = "exact_decimal_option")]
    #[schema(schema_with = crate::schemas::common::kw_nullable_schema)]
    pub available_power_kw: Option<Decimal>,
    /// When GSE was notified of the membership (its request on GSE's portal). Absent: not yet —
    /// GSE does not count the point, and settlements say so. From 4 Apr 2025 a membership
    /// counts for GSE from the later of `joined_at` and this date.
    pub gse_notified_on: Option<NaiveDate>,
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
#[schema(example = json!({"available_power_kw": "6"}))]
pub struct MemberUpdate {
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i32>)]
    pub user_id: Option<Option<i32>>,
    /// Moves the point to another holder of the same organization (merging holders).
    pub holder_id: Option<i32>,
    pub role: Option<MemberRole>,
    #[serde(
        default,
        alias = "category",
        deserialize_with = "crate::models::enums::optional_holder_type_or_category"
    )]
    /// The holder's kind: changing it here is allowed while the holder has this point only.
    #[schema(value_type = Option<HolderType>)]
    pub holder_type: Option<HolderType>,
    #[serde(default, deserialize_with = "nullable_exact_decimal")]
    #[schema(schema_with = crate::schemas::common::kw_nullable_schema)]
    pub available_power_kw: Option<Option<Decimal>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub gse_notified_on: Option<Option<NaiveDate>>,
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
    pub holder_id: Option<i32>,
    pub pod: String,
    pub role: MemberRole,
    pub holder_type: HolderType,
    /// kW, three decimals; absent when not recorded.
    #[schema(value_type = Option<String>, example = "4.500")]
    pub available_power_kw: Option<Decimal>,
    #[serde(serialize_with = "crate::schemas::wire::optional_date")]
    pub gse_notified_on: Option<NaiveDate>,
    pub status: MemberStatus,
    #[serde(serialize_with = "crate::schemas::wire::date")]
    pub joined_at: NaiveDate,
    #[serde(serialize_with = "crate::schemas::wire::optional_date")]
    pub withdrawn_at: Option<NaiveDate>,
    pub net_metering: bool,
    #[serde(serialize_with = "crate::schemas::wire::utc")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::schemas::wire::utc")]
    pub updated_at: DateTime<Utc>,
}

impl From<member::Model> for MemberPublic {
    fn from(m: member::Model) -> Self {
        MemberPublic {
            id: m.id,
            configuration_id: m.configuration_id,
            user_id: m.user_id,
            holder_id: m.holder_id,
            pod: m.pod,
            role: m.role,
            holder_type: m.holder_type,
            available_power_kw: m.available_power_w.map(|w| from_fixed(w, KW_MILLI)),
            gse_notified_on: m.gse_notified_on,
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
    pub configuration_id: Option<i32>,
    pub role: Option<MemberRole>,
    pub status: Option<MemberStatus>,
    pub holder_type: Option<HolderType>,
    /// Case-insensitive substring of the POD or of the linked user's name or email.
    #[validate(length(max = 200))]
    #[param(max_length = 200)]
    pub search: Option<String>,
}
