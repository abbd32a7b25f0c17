use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::common::{MAX_LIMIT, MAX_SKIP, default_limit, exact_decimal, exact_decimal_option};
use crate::domain::quantities::{CENTS, KWH_MILLI, from_fixed};
use crate::models::enums::{TransactionKind, TransactionStatus};
use crate::models::transaction;

/// Serialised too, so that an `Idempotency-Key` retry can be compared with the first request.
#[derive(Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"configuration_id": 1, "member_id": 1, "kind": "payment", "amount_eur": "-2.30", "period_start": "2025-03-01", "period_end": "2025-03-31", "description": "Bonifico quota marzo"}))]
pub struct TransactionCreate {
    pub configuration_id: i32,
    /// `null` for configuration-level rows (e.g. GSE fees).
    pub member_id: Option<i32>,
    pub kind: TransactionKind,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// kWh with up to 3 decimals, as a string or a number.
    #[serde(default, deserialize_with = "exact_decimal_option")]
    #[schema(schema_with = crate::schemas::common::kwh_nullable_schema)]
    pub energy_kwh: Option<Decimal>,
    /// € with up to 2 decimals, as a string or a number.
    #[serde(deserialize_with = "exact_decimal")]
    #[schema(schema_with = crate::schemas::common::eur_schema)]
    pub amount_eur: Decimal,
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    #[validate(length(max = 200))]
    #[schema(max_length = 200)]
    pub reference: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct TransactionPublic {
    pub id: i32,
    pub configuration_id: i32,
    pub member_id: Option<i32>,
    pub kind: TransactionKind,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    #[schema(value_type = Option<String>, example = "123.456")]
    pub energy_kwh: Option<Decimal>,
    #[schema(value_type = String, example = "12.50")]
    pub amount_eur: Decimal,
    pub status: TransactionStatus,
    pub description: Option<String>,
    pub reference: Option<String>,
    pub created_by: i32,
    pub created_at: DateTime<Utc>,
    pub settled_at: Option<DateTime<Utc>>,
}

impl From<transaction::Model> for TransactionPublic {
    fn from(m: transaction::Model) -> Self {
        TransactionPublic {
            id: m.id,
            configuration_id: m.configuration_id,
            member_id: m.member_id,
            kind: m.kind,
            period_start: m.period_start,
            period_end: m.period_end,
            energy_kwh: m.energy_wh.map(|wh| from_fixed(wh, KWH_MILLI)),
            amount_eur: from_fixed(m.amount_cents, CENTS),
            status: m.status,
            description: m.description,
            reference: m.reference,
            created_by: m.created_by,
            created_at: m.created_at,
            settled_at: m.settled_at,
        }
    }
}

#[derive(Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TransactionListParams {
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
    pub member_id: Option<i32>,
    pub kind: Option<TransactionKind>,
    pub status: Option<TransactionStatus>,
    /// Rows whose period overlaps `[from, to]`.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}
