use sea_orm::entity::prelude::*;

use super::enums::{HolderStatus, HolderType, Language};

/// The natural person or organisation that holds one or more points (members).
///
/// Personal fields are optional in the table: rows migrated from members start empty, and
/// erasure clears them. What a holder needs to become active is a rule of `service::holders`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "holders")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub organization_id: i32,
    /// The holder's own portal account, if any.
    pub user_id: Option<i32>,
    pub kind: HolderType,
    pub status: HolderStatus,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company_name: Option<String>,
    /// A person's 16-character codice fiscale, or an organisation's 11 digits.
    pub fiscal_code: Option<String>,
    pub vat_number: Option<String>,
    pub street: Option<String>,
    pub postcode: Option<String>,
    pub municipality: Option<String>,
    pub province: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub iban: Option<String>,
    pub language: Language,
    /// Who registered the holder: a referent sees it before it has a point in its configurations.
    pub created_by: Option<i32>,
    pub erased_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

timestamped!();
