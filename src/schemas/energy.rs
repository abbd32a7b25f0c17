use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::domain::energy_series::{Bucket, Granularity};
use crate::domain::quantities::{KWH_MILLI, from_fixed};

/// Query of the import endpoint (the file itself is the body).
#[derive(Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// `long`, `edistribuzione`, `hourly_wide` or `distributor_xml`; detected from the content
    /// when absent.
    #[param(
        pattern = r"^(long|edistribuzione|e-distribuzione|curve_di_carico|hourly_wide|orario|distributor_xml|xml|LONG|EDISTRIBUZIONE|HOURLY_WIDE|DISTRIBUTOR_XML)$"
    )]
    pub format: Option<String>,
    /// For e-distribuzione files, when the file name does not carry it.
    #[param(pattern = r"^[Ii][Tt][0-9]{3}[Ee][0-9]{8}[A-Za-z0-9]?$")]
    pub pod: Option<String>,
    /// `injection` or `withdrawal` (also IMMISSIONE/PRELIEVO), for e-distribuzione files and
    /// hourly curves.
    #[param(
        pattern = r"^(injection|withdrawal|immissione|prelievo|immessa|prelevata|a1|a2|INJECTION|WITHDRAWAL|IMMISSIONE|PRELIEVO|A1|A2)$"
    )]
    pub direction: Option<String>,
    /// 15 or 60, for long-format files without an `interval_minutes` column (default 15).
    #[validate(custom(function = "crate::schemas::common::fifteen_or_sixty"))]
    #[param(schema_with = crate::schemas::common::interval_minutes_schema)]
    pub interval_minutes: Option<u8>,
    /// The original file name, when the body is raw CSV (its POD/direction hints are used).
    #[validate(length(max = 255))]
    #[param(max_length = 255)]
    pub file_name: Option<String>,
    /// Store values beyond their POD's physical bound (plants' power, available power, +10%)
    /// or that look like the wrong unit, instead of rejecting the file; each is recorded as a
    /// warning on the import. Injection on a POD without a plant is refused regardless.
    pub allow_outliers: Option<bool>,
}

/// A period in Italian dates: `from` included, `to` included (whole local days).
#[derive(Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodParams {
    /// The first Italian day, included (YYYY-MM-DD).
    pub from: NaiveDate,
    /// The last Italian day, **included** (YYYY-MM-DD): not before `from`, at most three years
    /// (1,098 days) after it.
    pub to: NaiveDate,
}

#[derive(Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SeriesParams {
    /// The first Italian day, included (YYYY-MM-DD).
    pub from: NaiveDate,
    /// The last Italian day, **included** (YYYY-MM-DD): not before `from`, at most three years
    /// (1,098 days) after it.
    pub to: NaiveDate,
    /// `hour`, `day` (default) or `month`, in Italian local time.
    pub granularity: Option<Granularity>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct EnergyPoint {
    /// Local Italian label of the bucket.
    pub label: String,
    /// Bucket start, UTC.
    pub start: String,
    pub hours: u32,
    #[schema(value_type = String, example = "12.345")]
    pub injected_kwh: Decimal,
    #[schema(value_type = String, example = "10.000")]
    pub withdrawn_kwh: Decimal,
    /// For a configuration: its shared energy, Σ over the hours of min(injected, withdrawn).
    /// For a member: the shared energy attributed to it, Σ_h withdrawal_h × EAC_h / With_h.
    #[schema(value_type = String, example = "9.500")]
    pub shared_kwh: Decimal,
}

impl From<&Bucket> for EnergyPoint {
    fn from(b: &Bucket) -> Self {
        EnergyPoint {
            label: b.label.clone(),
            start: chrono::DateTime::from_timestamp(b.start, 0)
                .map(|t| t.to_rfc3339())
                .unwrap_or_default(),
            hours: b.hours,
            injected_kwh: from_fixed(b.injected_wh, KWH_MILLI),
            withdrawn_kwh: from_fixed(b.withdrawn_wh, KWH_MILLI),
            shared_kwh: from_fixed(b.shared_wh, KWH_MILLI),
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct EnergySeries {
    pub from: NaiveDate,
    pub to: NaiveDate,
    #[schema(value_type = String, example = "day")]
    pub granularity: String,
    pub points: Vec<EnergyPoint>,
    #[schema(value_type = String)]
    pub total_injected_kwh: Decimal,
    #[schema(value_type = String)]
    pub total_withdrawn_kwh: Decimal,
    #[schema(value_type = String)]
    pub total_shared_kwh: Decimal,
}

/// `GET /configurations/{id}/imports` filter.
#[derive(Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportListParams {
    /// `readings` (the configuration's meter-data files and their reverts) or `prices` (zonal
    /// price files); both when absent.
    pub kind: Option<ImportKind>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportKind {
    Readings,
    Prices,
}

impl ImportKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ImportKind::Readings => "readings",
            ImportKind::Prices => "prices",
        }
    }
}

/// One imported file and what it did.
#[derive(Serialize, ToSchema)]
pub struct ImportPublic {
    pub id: i32,
    /// Absent for price files (market data, not a configuration's).
    pub configuration_id: Option<i32>,
    /// `readings`, `prices` or `revert` (the undoing of a readings import).
    pub kind: String,
    /// The uploaded file's name (`upload` when the request named none).
    pub file_name: String,
    pub format: String,
    pub uploaded_by: Option<i32>,
    /// Data lines read.
    pub rows: i64,
    /// Values in the file (POD × direction × interval, or zone × interval).
    pub intervals: i64,
    pub pods: i32,
    pub new_values: i64,
    pub revised_values: i64,
    pub unchanged: i64,
    /// What the import was accepted with (outliers stored on request…).
    pub warnings: Vec<String>,
    /// The `revert` import that undid this one.
    pub reverted_by_import_id: Option<i32>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl ImportPublic {
    /// The stored warnings are a JSON list; one that cannot be read is an error, not "none".
    pub fn from_model(m: crate::models::reading_import::Model) -> Result<Self, String> {
        let warnings = match &m.warnings {
            None => Vec::new(),
            Some(text) => serde_json::from_str(text)
                .map_err(|e| format!("the warnings of import {} cannot be read: {e}", m.id))?,
        };
        Ok(ImportPublic {
            id: m.id,
            configuration_id: m.configuration_id,
            kind: m.kind,
            file_name: m.source,
            format: m.format,
            uploaded_by: m.uploaded_by,
            rows: m.rows,
            intervals: m.intervals,
            pods: m.pods,
            new_values: m.new_values,
            revised_values: m.revised_values,
            unchanged: m.unchanged,
            warnings,
            reverted_by_import_id: m.reverted_by_import_id,
            created_at: m.created_at,
        })
    }
}

/// A file sent as `multipart/form-data`: the first part is read, whatever its name (`file` by
/// convention); its file name gives the POD and direction hints of e-distribuzione exports.
#[derive(ToSchema)]
pub struct FileUpload {
    #[schema(value_type = String, format = Binary, content_media_type = "text/csv")]
    pub file: Vec<u8>,
}
