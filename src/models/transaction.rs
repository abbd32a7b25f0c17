use sea_orm::entity::prelude::*;

use super::enums::{TransactionKind, TransactionStatus};

/// One row of the append-only ledger between a configuration and its members.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "transactions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub configuration_id: i32,
    pub member_id: Option<i32>,
    pub kind: TransactionKind,
    pub period_start: Date,
    pub period_end: Date,
    /// kWh × 1000.
    pub energy_wh: Option<i64>,
    /// € × 100.
    pub amount_cents: i64,
    pub status: TransactionStatus,
    pub description: Option<String>,
    pub reference: Option<String>,
    pub created_by: i32,
    pub created_at: DateTimeUtc,
    pub settled_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
