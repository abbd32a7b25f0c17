use sea_orm::entity::prelude::*;

use super::enums::{LineAccount, LineKind};

/// What a run assigns to one account for one kind of quantity (full values, not differences).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "settlement_lines")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub run_id: i32,
    pub member_id: Option<i32>,
    pub account: LineAccount,
    pub kind: LineKind,
    pub energy_wh: Option<i64>,
    pub amount_cents: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
