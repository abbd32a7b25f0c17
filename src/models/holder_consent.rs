use sea_orm::entity::prelude::*;

use super::enums::{ConsentKind, ConsentMethod};

/// One consent given by a holder; a withdrawal is recorded on it, never deleted.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "holder_consents")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub holder_id: i32,
    pub kind: ConsentKind,
    /// Which version of the document was accepted (as the operator names it: "2025-03", "v2").
    pub document_version: String,
    pub given_at: DateTimeUtc,
    pub method: ConsentMethod,
    /// The account that recorded it (null: the holder, through a public form).
    pub recorded_by: Option<i32>,
    pub withdrawn_at: Option<DateTimeUtc>,
    pub withdrawal_method: Option<ConsentMethod>,
    pub withdrawn_by: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
