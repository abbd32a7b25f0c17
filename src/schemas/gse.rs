//! GSE's figures as recorded, and the reconciliation with the finalised runs.
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::common::exact_decimal_option;
use crate::domain::gse_files::GseFigures;
use crate::domain::quantities::{CENTS, KWH_MILLI, from_fixed};
use crate::domain::reconciliation::{Component, Verdict};
use crate::models::enums::GseStatementKind;
use crate::models::gse_statement;

/// GSE's figures for a month (or a year's true-up), as published on GSE's portal. Give the
/// figures GSE has published; the payment (`paid_eur` with `paid_on`) can come later.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"period": "2026-03", "shared_energy_kwh": "1234.567", "premium_eur": "148.15", "valorisation_eur": "13.05", "fees_eur": "1.25"}))]
pub struct GseStatementCreate {
    /// `month` (the default for `YYYY-MM`) or `year` (the true-up, for `YYYY`).
    pub kind: Option<GseStatementKind>,
    /// `YYYY-MM` for a month, `YYYY` for a year's true-up.
    #[validate(length(min = 4, max = 7))]
    #[schema(min_length = 4, max_length = 7, example = "2026-03")]
    pub period: String,
    /// Shared energy GSE recognised, kWh.
    #[serde(default, deserialize_with = "exact_decimal_option")]
    #[schema(schema_with = crate::schemas::common::kwh_nonnegative_nullable_schema)]
    pub shared_energy_kwh: Option<Decimal>,
    #[serde(default, deserialize_with = "exact_decimal_option")]
    #[schema(schema_with = crate::schemas::common::eur_nonnegative_nullable_schema)]
    pub premium_eur: Option<Decimal>,
    #[serde(default, deserialize_with = "exact_decimal_option")]
    #[schema(schema_with = crate::schemas::common::eur_nonnegative_nullable_schema)]
    pub valorisation_eur: Option<Decimal>,
    /// The advance GSE computed for the month.
    #[serde(default, deserialize_with = "exact_decimal_option")]
    #[schema(schema_with = crate::schemas::common::eur_nonnegative_nullable_schema)]
    pub advance_eur: Option<Decimal>,
    /// GSE's fees withheld from the payment.
    #[serde(default, deserialize_with = "exact_decimal_option")]
    #[schema(schema_with = crate::schemas::common::eur_nonnegative_nullable_schema)]
    pub fees_eur: Option<Decimal>,
    /// What GSE paid, net of its fees (with `paid_on`).
    #[serde(default, deserialize_with = "exact_decimal_option")]
    #[schema(schema_with = crate::schemas::common::eur_nonnegative_nullable_schema)]
    pub paid_eur: Option<Decimal>,
    pub paid_on: Option<NaiveDate>,
    #[validate(length(max = 140))]
    #[schema(max_length = 140)]
    pub payment_reference: Option<String>,
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

impl From<GseStatementCreate> for GseFigures {
    fn from(input: GseStatementCreate) -> GseFigures {
        GseFigures {
            line: 0,
            kind: input.kind,
            period: input.period,
            shared_energy_kwh: input.shared_energy_kwh,
            premium_eur: input.premium_eur,
            valorisation_eur: input.valorisation_eur,
            advance_eur: input.advance_eur,
            fees_eur: input.fees_eur,
            paid_eur: input.paid_eur,
            paid_on: input.paid_on,
            payment_reference: input.payment_reference,
            note: input.note,
        }
    }
}

/// GSE's payment of a statement already recorded.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"paid_eur": "159.95", "paid_on": "2026-05-29", "payment_reference": "GSE-CER-0001"}))]
pub struct GsePaymentCreate {
    #[serde(deserialize_with = "exact_decimal_option")]
    #[schema(schema_with = crate::schemas::common::eur_nonnegative_nullable_schema)]
    pub paid_eur: Option<Decimal>,
    pub paid_on: NaiveDate,
    #[validate(length(max = 140))]
    #[schema(max_length = 140)]
    pub payment_reference: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct GseStatementPublic {
    pub id: i32,
    pub configuration_id: i32,
    pub kind: GseStatementKind,
    /// `YYYY-MM` or `YYYY`.
    pub period: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    #[schema(value_type = Option<String>, example = "1234.567")]
    pub shared_energy_kwh: Option<Decimal>,
    #[schema(value_type = Option<String>, example = "148.15")]
    pub premium_eur: Option<Decimal>,
    #[schema(value_type = Option<String>, example = "13.05")]
    pub valorisation_eur: Option<Decimal>,
    #[schema(value_type = Option<String>, example = "120.00")]
    pub advance_eur: Option<Decimal>,
    #[schema(value_type = Option<String>, example = "1.25")]
    pub fees_eur: Option<Decimal>,
    #[schema(value_type = Option<String>, example = "159.95")]
    pub paid_eur: Option<Decimal>,
    pub paid_on: Option<NaiveDate>,
    pub payment_reference: Option<String>,
    pub note: Option<String>,
    /// `form` or `import`.
    pub source: String,
    pub created_by: i32,
    pub created_at: DateTime<Utc>,
}

impl From<gse_statement::Model> for GseStatementPublic {
    fn from(m: gse_statement::Model) -> Self {
        let eur = |cents: Option<i64>| cents.map(|c| from_fixed(c, CENTS));
        GseStatementPublic {
            id: m.id,
            configuration_id: m.configuration_id,
            kind: m.kind,
            period: match m.kind {
                GseStatementKind::Month => m.period_start.format("%Y-%m").to_string(),
                GseStatementKind::Year => m.period_start.format("%Y").to_string(),
            },
            period_start: m.period_start,
            period_end: m.period_end,
            shared_energy_kwh: m.shared_wh.map(|wh| from_fixed(wh, KWH_MILLI)),
            premium_eur: eur(m.premium_cents),
            valorisation_eur: eur(m.valorisation_cents),
            advance_eur: eur(m.advance_cents),
            fees_eur: eur(m.fees_cents),
            paid_eur: eur(m.paid_cents),
            paid_on: m.paid_on,
            payment_reference: m.payment_reference,
            note: m.note,
            source: m.source,
            created_by: m.created_by,
            created_at: m.created_at,
        }
    }
}

/// What an import recorded.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct GseImportReport {
    pub format: String,
    pub created: Vec<GseStatementPublic>,
}

#[derive(Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GseImportParams {
    /// The file's layout: `condivisa` (the documented CSV; the only one so far).
    #[serde(default = "default_format")]
    #[param(default = "condivisa", max_length = 32)]
    #[validate(length(max = 32))]
    pub format: String,
}

fn default_format() -> String {
    "condivisa".into()
}

#[derive(Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReconciliationParams {
    /// The year whose months (and true-up) are compared.
    #[validate(range(min = 2020, max = 2100))]
    #[param(minimum = 2020, maximum = 2100)]
    pub year: i32,
    /// Largest difference in € that still matches (rounding); default 0.01.
    #[serde(default, deserialize_with = "exact_decimal_option")]
    #[param(value_type = Option<String>, pattern = r"^\+?[0-9]{1,6}(\.[0-9]{1,2})?$", example = "0.01")]
    pub tolerance_eur: Option<Decimal>,
    /// Largest difference in kWh that still matches; default 0.001.
    #[serde(default, deserialize_with = "exact_decimal_option")]
    #[param(value_type = Option<String>, pattern = r"^\+?[0-9]{1,9}(\.[0-9]{1,3})?$", example = "0.001")]
    pub tolerance_kwh: Option<Decimal>,
}

/// One component of a period: ours, GSE's, GSE's minus ours (kWh or €), and the verdict.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
pub struct ComponentReconciliation {
    pub component: Component,
    /// `kWh` or `EUR`.
    pub unit: String,
    #[schema(value_type = Option<String>)]
    pub computed: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub gse: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub difference: Option<Decimal>,
    pub status: Verdict,
}

/// One month (or the year's true-up) of the reconciliation.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
pub struct PeriodReconciliation {
    /// `YYYY-MM`, or `YYYY` for the true-up.
    pub period: String,
    pub kind: GseStatementKind,
    pub status: Verdict,
    /// The finalised run compared (for the year: none; the months' runs are summed).
    pub run_id: Option<i32>,
    pub gse_statement_id: Option<i32>,
    pub components: Vec<ComponentReconciliation>,
    #[schema(value_type = Option<String>)]
    pub advance_eur: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub paid_eur: Option<Decimal>,
    pub paid_on: Option<NaiveDate>,
    /// What we can say about the differences (and about what is missing).
    pub explanations: Vec<String>,
}

/// The ledger's side of the year: what GSE paid against what members were credited and paid.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, Default)]
pub struct LedgerBalance {
    /// GSE's payments recorded (`gse_payment` rows).
    #[schema(value_type = String)]
    pub gse_paid_eur: Decimal,
    /// What the finalised runs expect from GSE: premium + valorisation − fees.
    #[schema(value_type = String)]
    pub gse_expected_eur: Decimal,
    /// Credited to members (settlements and adjustments, members' rows other than payments).
    #[schema(value_type = String)]
    pub members_credited_eur: Decimal,
    /// Paid to members (`payment` rows, as a positive amount).
    #[schema(value_type = String)]
    pub members_paid_eur: Decimal,
    /// Kept by the configuration's own accounts (management, social fund).
    #[schema(value_type = String)]
    pub retained_eur: Decimal,
    /// GSE's payments minus what was paid to members: money the community holds.
    #[schema(value_type = String)]
    pub cash_held_eur: Decimal,
}

#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
pub struct Reconciliation {
    pub configuration_id: i32,
    pub year: i32,
    #[schema(value_type = String)]
    pub tolerance_eur: Decimal,
    #[schema(value_type = String)]
    pub tolerance_kwh: Decimal,
    /// Months with a finalised run or a GSE statement, in order, then the year's true-up.
    pub periods: Vec<PeriodReconciliation>,
    pub ledger: LedgerBalance,
}
