//! Payout batches: the community paying its members, and the account it pays from.
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::common::exact_decimal_option;
use crate::domain::quantities::{CENTS, from_fixed};
use crate::models::enums::{PayoutItemStatus, PayoutStatus};
use crate::models::{configuration, payout_batch, payout_item};

/// The account a configuration pays its members from: the SEPA file's debtor.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"account_name": "CER del Sole APS", "iban": "IT60X0542811101000000123456", "bic": "BPMOIT22XXX", "minimum_eur": "10.00"}))]
pub struct PayoutAccountUpdate {
    /// The account holder's name as the bank knows it (≤ 70 characters).
    #[validate(length(min = 1, max = 70))]
    #[schema(min_length = 1, max_length = 70)]
    pub account_name: String,
    #[validate(length(min = 15, max = 42))]
    #[schema(
        min_length = 15,
        max_length = 42,
        example = "IT60X0542811101000000123456"
    )]
    pub iban: String,
    /// The bank's BIC (8 or 11 characters); optional in SEPA.
    #[validate(length(min = 8, max = 11))]
    #[schema(min_length = 8, max_length = 11, example = "BPMOIT22XXX")]
    pub bic: Option<String>,
    /// Balances below this carry over to the next batch (default 0: pay every positive balance).
    #[serde(default, deserialize_with = "exact_decimal_option")]
    #[schema(schema_with = crate::schemas::common::eur_nonnegative_nullable_schema)]
    pub minimum_eur: Option<Decimal>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct PayoutAccountPublic {
    pub configuration_id: i32,
    pub account_name: Option<String>,
    pub iban: Option<String>,
    pub bic: Option<String>,
    #[schema(value_type = String, example = "10.00")]
    pub minimum_eur: Decimal,
}

impl From<&configuration::Model> for PayoutAccountPublic {
    fn from(m: &configuration::Model) -> Self {
        PayoutAccountPublic {
            configuration_id: m.id,
            account_name: m.payout_account_name.clone(),
            iban: m.payout_iban.clone(),
            bic: m.payout_bic.clone(),
            minimum_eur: from_fixed(m.payout_minimum_cents, CENTS),
        }
    }
}

/// Prepares a batch (a preview, status `draft`) of the balances through a finalised month.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"through": "2026-03"}))]
pub struct PayoutBatchCreate {
    /// The last month whose credits are paid (`YYYY-MM`); its settlement must be finalised.
    #[validate(length(min = 7, max = 7))]
    #[schema(min_length = 7, max_length = 7, example = "2026-03")]
    pub through: String,
    /// Overrides the account's minimum for this batch.
    #[serde(default, deserialize_with = "exact_decimal_option")]
    #[schema(schema_with = crate::schemas::common::eur_nonnegative_nullable_schema)]
    pub minimum_eur: Option<Decimal>,
}

/// Exports an approved batch as a SEPA Credit Transfer file (pain.001.001.09).
#[derive(Deserialize, Validate, ToSchema, Default)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({}))]
pub struct PayoutExport {
    /// The day the bank should execute the transfers (today or later; default today, Italian
    /// time).
    pub execution_date: Option<NaiveDate>,
}

/// Marks an exported batch paid: each transfer becomes a `payment` row of the ledger.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"paid_on": "2026-05-04"}))]
pub struct PayoutPaid {
    /// The day the bank executed the transfers.
    pub paid_on: NaiveDate,
}

#[derive(Deserialize, Validate, ToSchema, Default)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Wrong minimum"}))]
pub struct PayoutCancel {
    /// Why; required once the file was exported (the bank may have it).
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
pub struct PayoutItemPublic {
    pub member_id: i32,
    pub pod: String,
    pub holder_id: Option<i32>,
    /// Credits through the batch's month minus every payment so far.
    #[schema(value_type = String, example = "148.15")]
    pub balance_eur: Decimal,
    /// The transfer (0 when held back or carried over).
    #[schema(value_type = String, example = "148.15")]
    pub amount_eur: Decimal,
    pub status: PayoutItemStatus,
    pub reason: Option<String>,
    pub creditor_name: Option<String>,
    pub iban: Option<String>,
    pub end_to_end_id: Option<String>,
    /// The ledger's `payment` row, once paid.
    pub transaction_id: Option<i32>,
}

impl From<payout_item::Model> for PayoutItemPublic {
    fn from(m: payout_item::Model) -> Self {
        PayoutItemPublic {
            member_id: m.member_id,
            pod: m.pod,
            holder_id: m.holder_id,
            balance_eur: from_fixed(m.balance_cents, CENTS),
            amount_eur: from_fixed(m.amount_cents, CENTS),
            status: m.status,
            reason: m.reason,
            creditor_name: m.creditor_name,
            iban: m.iban,
            end_to_end_id: m.end_to_end_id,
            transaction_id: m.transaction_id,
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
pub struct PayoutBatchPublic {
    pub id: i32,
    pub configuration_id: i32,
    pub status: PayoutStatus,
    /// The last month paid (`YYYY-MM`).
    pub through: String,
    #[schema(value_type = String, example = "10.00")]
    pub minimum_eur: Decimal,
    /// The sum of the transfers (the file's control sum).
    #[schema(value_type = String, example = "296.30")]
    pub total_eur: Decimal,
    pub transfers: i32,
    /// Members held back (no IBAN, no consent…) or carried over (below the minimum).
    pub held: i32,
    pub created_by: i32,
    pub created_at: DateTime<Utc>,
    pub approved_by: Option<i32>,
    pub approved_at: Option<DateTime<Utc>>,
    pub execution_date: Option<NaiveDate>,
    /// The SEPA file's message id (`MsgId`), once exported.
    pub message_id: Option<String>,
    pub file_name: Option<String>,
    pub file_sha256: Option<String>,
    pub exported_by: Option<i32>,
    pub exported_at: Option<DateTime<Utc>>,
    pub paid_on: Option<NaiveDate>,
    pub paid_by: Option<i32>,
    pub paid_at: Option<DateTime<Utc>>,
    pub cancelled_by: Option<i32>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancel_reason: Option<String>,
    /// Present when the batch is read whole (one batch), absent in lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<PayoutItemPublic>>,
}

impl PayoutBatchPublic {
    pub fn of(m: payout_batch::Model, items: Option<Vec<payout_item::Model>>) -> Self {
        PayoutBatchPublic {
            id: m.id,
            configuration_id: m.configuration_id,
            status: m.status,
            through: m.through_period.format("%Y-%m").to_string(),
            minimum_eur: from_fixed(m.minimum_cents, CENTS),
            total_eur: from_fixed(m.total_cents, CENTS),
            transfers: m.transfers,
            held: m.held,
            created_by: m.created_by,
            created_at: m.created_at,
            approved_by: m.approved_by,
            approved_at: m.approved_at,
            execution_date: m.execution_date,
            message_id: m.message_id,
            file_name: m.file_name,
            file_sha256: m.file_sha256,
            exported_by: m.exported_by,
            exported_at: m.exported_at,
            paid_on: m.paid_on,
            paid_by: m.paid_by,
            paid_at: m.paid_at,
            cancelled_by: m.cancelled_by,
            cancelled_at: m.cancelled_at,
            cancel_reason: m.cancel_reason,
            items: items.map(|items| items.into_iter().map(PayoutItemPublic::from).collect()),
        }
    }
}
