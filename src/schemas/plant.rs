use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::common::{
    MAX_LIMIT, MAX_SKIP, default_limit, exact_decimal, exact_decimal_option, nullable,
};
use crate::domain::community_rules::{is_existing_plant, plant_incentive_eligible};
use crate::domain::quantities::{KW_MILLI, SHARE_MICRO, from_fixed};
use crate::models::enums::{ConnectionVoltage, PlantSource};
use crate::models::plant;

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"member_id": 1, "name": "Tetto del municipio", "source": "pv", "power_kw": "50", "commissioned_on": "2024-03-01", "gse_notified_on": "2024-03-01"}))]
pub struct PlantCreate {
    pub member_id: i32,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub source: PlantSource,
    /// kW, up to 3 decimals, as a string or a number.
    #[serde(deserialize_with = "exact_decimal")]
    #[schema(schema_with = crate::schemas::common::kw_schema)]
    pub power_kw: Decimal,
    pub commissioned_on: NaiveDate,
    /// The PNRR capital grant as a share of the eligible cost, 0 to 0.40.
    #[serde(default, deserialize_with = "exact_decimal_option")]
    #[schema(schema_with = crate::schemas::common::grant_share_nullable_schema)]
    pub capital_grant_share: Option<Decimal>,
    pub connection_voltage: Option<ConnectionVoltage>,
    /// Terna GAUDÌ CENSIMP code.
    #[validate(length(min = 1, max = 32))]
    #[schema(min_length = 1, max_length = 32)]
    pub censimp_code: Option<String>,
    /// When GSE was notified of the plant. Absent: not yet — it earns no tariff, and
    /// settlements say so. From 4 Apr 2025 it earns from the later of commissioning and this date.
    pub gse_notified_on: Option<NaiveDate>,
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Tetto della scuola"}))]
pub struct PlantUpdate {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    pub source: Option<PlantSource>,
    #[serde(default, deserialize_with = "exact_decimal_option")]
    #[schema(schema_with = crate::schemas::common::kw_nullable_schema)]
    pub power_kw: Option<Decimal>,
    pub commissioned_on: Option<NaiveDate>,
    #[serde(default, deserialize_with = "exact_decimal_option")]
    #[schema(schema_with = crate::schemas::common::grant_share_nullable_schema)]
    pub capital_grant_share: Option<Decimal>,
    pub connection_voltage: Option<ConnectionVoltage>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    #[validate(length(min = 1, max = 32))]
    #[schema(min_length = 1, max_length = 32)]
    pub censimp_code: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub gse_notified_on: Option<Option<NaiveDate>>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct PlantPublic {
    pub id: i32,
    pub member_id: i32,
    pub name: String,
    pub source: PlantSource,
    #[schema(value_type = String, example = "150.000")]
    pub power_kw: Decimal,
    pub commissioned_on: NaiveDate,
    #[schema(value_type = String, example = "0.200000")]
    pub capital_grant_share: Decimal,
    pub connection_voltage: ConnectionVoltage,
    pub censimp_code: Option<String>,
    pub gse_notified_on: Option<NaiveDate>,
    /// Commissioned before 16 Dec 2021: counts for sharing, earns no tariff.
    pub existing: bool,
    /// Earns the GSE tariff: not existing and at most 1 MW.
    pub incentive_eligible: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<plant::Model> for PlantPublic {
    fn from(m: plant::Model) -> Self {
        PlantPublic {
            existing: is_existing_plant(m.commissioned_on),
            incentive_eligible: plant_incentive_eligible(m.power_w, m.commissioned_on),
            id: m.id,
            member_id: m.member_id,
            name: m.name,
            source: m.source,
            power_kw: from_fixed(m.power_w, KW_MILLI),
            commissioned_on: m.commissioned_on,
            capital_grant_share: from_fixed(i64::from(m.capital_grant_ppm), SHARE_MICRO),
            connection_voltage: m.connection_voltage,
            censimp_code: m.censimp_code,
            gse_notified_on: m.gse_notified_on,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlantListParams {
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
    pub member_id: Option<i32>,
    pub configuration_id: Option<i32>,
}
