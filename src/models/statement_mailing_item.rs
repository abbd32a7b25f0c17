use sea_orm::entity::prelude::*;

/// To whom a mailing sent a statement (the outbox row says whether it arrived), or why not.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "statement_mailing_items")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub mailing_id: i32,
    pub member_id: i32,
    pub recipient: Option<String>,
    pub outbox_id: Option<i32>,
    pub reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
