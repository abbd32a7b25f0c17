use sea_orm::entity::prelude::*;

use super::enums::PayoutStatus;

/// One payment run of a configuration to its members: balances through `through_period`'s
/// month, approved, exported as a SEPA file (kept byte for byte), then marked paid.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payout_batches")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub configuration_id: i32,
    pub status: PayoutStatus,
    /// The last day of the last month whose ledger rows the balances count.
    pub through_period: Date,
    pub minimum_cents: i64,
    /// The sum of the included transfers.
    pub total_cents: i64,
    pub transfers: i32,
    pub held: i32,
    /// SHA-256 of the items as previewed: approval refuses a batch whose balances moved.
    pub fingerprint: String,
    pub created_by: i32,
    pub created_at: DateTimeUtc,
    pub approved_by: Option<i32>,
    pub approved_at: Option<DateTimeUtc>,
    pub execution_date: Option<Date>,
    pub message_id: Option<String>,
    pub debtor_name: Option<String>,
    pub debtor_iban: Option<String>,
    pub debtor_bic: Option<String>,
    pub file_name: Option<String>,
    pub file_content: Option<String>,
    pub file_sha256: Option<String>,
    pub exported_by: Option<i32>,
    pub exported_at: Option<DateTimeUtc>,
    pub paid_on: Option<Date>,
    pub paid_by: Option<i32>,
    pub paid_at: Option<DateTimeUtc>,
    pub cancelled_by: Option<i32>,
    pub cancelled_at: Option<DateTimeUtc>,
    pub cancel_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
