use sea_orm::entity::prelude::*;

use super::enums::PayoutItemStatus;

/// A member's balance in a payout batch and what the batch does with it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payout_items")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub batch_id: i32,
    pub member_id: i32,
    pub holder_id: Option<i32>,
    pub pod: String,
    /// What the ledger owes the member through the batch's month (credits minus payments).
    pub balance_cents: i64,
    /// The transfer (the balance when included, 0 otherwise).
    pub amount_cents: i64,
    pub status: PayoutItemStatus,
    /// Why the balance is held back or carried over.
    pub reason: Option<String>,
    /// The account holder's name and IBAN as previewed, then as approved.
    pub creditor_name: Option<String>,
    pub iban: Option<String>,
    pub end_to_end_id: Option<String>,
    /// The ledger's `payment` row, once the batch is marked paid.
    pub transaction_id: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
