use sea_orm::entity::prelude::*;

use super::enums::HolderAction;

/// Who changed a holder, when, and what: `changes` is a JSON object `{field: [before, after]}`
/// (after erasure `{field: null}`: only the field names are left). `iban` is the IBAN in force from this
/// revision on, so the IBAN valid on a date is the one of the last revision before it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "holder_revisions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub holder_id: i32,
    pub changed_at: DateTimeUtc,
    pub changed_by: Option<i32>,
    pub action: HolderAction,
    #[sea_orm(column_type = "Text")]
    pub changes: String,
    pub iban: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
