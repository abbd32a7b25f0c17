use sea_orm::entity::prelude::*;

/// One sending of a period's statements to a configuration's members.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "statement_mailings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub configuration_id: i32,
    pub period_start: Date,
    pub period_end: Date,
    /// Messages queued (one per member with an address).
    pub queued: i32,
    /// Members not mailed (no holder, no address).
    pub skipped: i32,
    pub created_by: i32,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
