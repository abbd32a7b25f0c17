use sea_orm::entity::prelude::*;

/// A regulated value (TRAS_E, BTAU, cPR…) with its validity period `[valid_from, valid_to)`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "market_parameters")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub code: String,
    /// Millionths of the unit: exact on both databases.
    pub value_micro: i64,
    pub unit: String,
    pub valid_from: Date,
    pub valid_to: Option<Date>,
    pub note: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

timestamped!();
