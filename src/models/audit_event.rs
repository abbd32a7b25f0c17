use sea_orm::entity::prelude::*;

/// One security-relevant event, never changed once written (the database refuses it).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub at: DateTimeUtc,
    pub actor_id: Option<i32>,
    /// The account's e-mail when it acted.
    pub actor: Option<String>,
    pub address: Option<String>,
    pub action: String,
    pub object_type: String,
    pub object_id: Option<i64>,
    pub configuration_id: Option<i32>,
    /// JSON.
    #[sea_orm(column_type = "Text")]
    pub detail: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
