use sea_orm::entity::prelude::*;

/// A version of a configuration's sharing-out policy, applying from `valid_from` (a month's first
/// day) until the next version's.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "settlement_policies")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub configuration_id: i32,
    pub version: i32,
    pub valid_from: Date,
    /// The policy document (`domain::sharing::Policy`) as JSON.
    pub document: String,
    pub note: Option<String>,
    pub created_by: Option<i32>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
