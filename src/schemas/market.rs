use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::common::{exact_decimal, exact_decimal_option, nullable};
use crate::domain::quantities::from_fixed;
use crate::models::enums::{MarketZone, ParameterCode};
use crate::models::market_parameter;

/// Parameters are stored in millionths of their unit.
pub const PARAMETER_SCALE: u32 = 6;

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "TRAS_E", "value": "10.68", "valid_from": "2031-01-01", "note": "ARERA, tariffe 2031"}))]
pub struct ParameterCreate {
    pub code: ParameterCode,
    /// €/MWh for TRAS_E and BTAU, a ratio for CPR_MV/CPR_LV (0.012 = 1.2%); up to 6 decimals.
    #[serde(deserialize_with = "exact_decimal")]
    #[schema(schema_with = crate::schemas::common::parameter_value_schema)]
    pub value: Decimal,
    pub valid_from: NaiveDate,
    /// Exclusive; open-ended when absent.
    pub valid_to: Option<NaiveDate>,
    #[validate(length(max = 1000))]
    #[schema(max_length = 1000)]
    pub note: Option<String>,
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"note": "ARERA, tariffe di trasmissione"}))]
pub struct ParameterUpdate {
    #[serde(default, deserialize_with = "exact_decimal_option")]
    #[schema(schema_with = crate::schemas::common::parameter_value_nullable_schema)]
    pub value: Option<Decimal>,
    pub valid_from: Option<NaiveDate>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub valid_to: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    #[validate(length(max = 1000))]
    #[schema(max_length = 1000)]
    pub note: Option<Option<String>>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ParameterPublic {
    pub id: i32,
    pub code: String,
    #[schema(value_type = String, example = "10.570000")]
    pub value: Decimal,
    pub unit: String,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<market_parameter::Model> for ParameterPublic {
    fn from(m: market_parameter::Model) -> Self {
        ParameterPublic {
            id: m.id,
            code: m.code,
            value: from_fixed(m.value_micro, PARAMETER_SCALE),
            unit: m.unit,
            valid_from: m.valid_from,
            valid_to: m.valid_to,
            note: m.note,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ParameterListParams {
    pub code: Option<ParameterCode>,
    /// Only the values valid on this date.
    pub at: Option<NaiveDate>,
}

#[derive(Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PriceParams {
    /// The market zone's code, in any case.
    #[serde(deserialize_with = "crate::models::enums::typed")]
    pub zone: MarketZone,
    /// The first Italian day, included (YYYY-MM-DD).
    pub from: NaiveDate,
    /// The last Italian day, **included** (YYYY-MM-DD).
    pub to: NaiveDate,
    /// `raw` (as stored, default) or `hourly` (the tariff's Pz_h: quarter-hours averaged).
    pub resolution: Option<PriceResolution>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PriceResolution {
    #[default]
    Raw,
    Hourly,
}

#[derive(Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PriceImportParams {
    /// `long` (timestamp;zone;eur_mwh), `gme_xml` (GME's MGPPrezzi.xml) or `gme_table` (GME's
    /// price table as CSV); detected from the content when absent.
    #[param(
        pattern = r"^(long|gme_xml|gme|xml|gme_table|gme_csv|LONG|GME_XML|GME|XML|GME_TABLE|GME_CSV)$"
    )]
    pub format: Option<String>,
    /// Keep only this zone's prices (GME's files carry every zone); a file without it is
    /// refused. Every Italian zone in the file when absent.
    #[serde(default, deserialize_with = "crate::models::enums::typed_option")]
    pub zone: Option<MarketZone>,
    /// 15 or 60, for long-format files without an `interval_minutes` column (default 60).
    #[validate(custom(function = "crate::schemas::common::fifteen_or_sixty"))]
    #[param(schema_with = crate::schemas::common::interval_minutes_schema)]
    pub interval_minutes: Option<u8>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct PricePublic {
    /// Interval start, UTC.
    pub start: String,
    pub minutes: u32,
    #[schema(value_type = String, example = "107.86")]
    pub eur_mwh: Decimal,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct PriceImportSummary {
    /// The import's id; the prices it wrote carry it.
    pub import_id: i32,
    /// The layout read: `long`, `gme_xml`, `gme_table` or `gme_xlsx` (joined by `+` when a ZIP
    /// archive held several).
    pub format: String,
    /// The files read: 1, or the price files in a ZIP archive.
    pub files: u64,
    /// How the file's bytes were read: `utf-8` or `windows-1252`.
    pub encoding: String,
    /// Prices stored.
    pub rows: u64,
    pub zones: u64,
    /// The zones whose prices were stored.
    pub zone_codes: Vec<String>,
    /// Italian zones in the file that were not stored (a `zone` was asked for).
    pub other_zones: Vec<String>,
    /// Columns or elements with prices that are not an Italian zone's (`PUN`, foreign and
    /// coupling zones): not stored.
    pub left_out: Vec<String>,
    /// The first stored interval's start (UTC, RFC 3339).
    pub from: Option<String>,
    /// The last stored interval's end (UTC, RFC 3339).
    pub to: Option<String>,
    /// Italian days a zone's prices do not cover whole (at most 100 listed): the settlement
    /// refuses the hours without a price.
    pub gaps: Vec<PriceGap>,
    pub new_values: u64,
    pub changed_values: u64,
    pub unchanged: u64,
}

/// A day a zone's prices cover only in part.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct PriceGap {
    pub zone: String,
    /// The Italian day.
    pub day: NaiveDate,
    pub minutes_covered: u32,
    /// 1,380, 1,440 or 1,500 (the days summer time starts and ends).
    pub minutes_in_day: u32,
}
