use sea_orm::entity::prelude::*;

use super::enums::{HolderType, JoinRequestStatus, Language};

/// A newcomer's request to join a configuration: the applicant's data as a holder would have
/// it, the points and consents (JSON text), and the referent's decision.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "join_requests")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub configuration_id: i32,
    pub status: JoinRequestStatus,
    pub kind: HolderType,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company_name: Option<String>,
    pub fiscal_code: Option<String>,
    pub vat_number: Option<String>,
    pub street: Option<String>,
    pub postcode: Option<String>,
    pub municipality: Option<String>,
    pub province: Option<String>,
    pub email: String,
    pub phone: Option<String>,
    pub iban: Option<String>,
    pub language: Language,
    /// `[{"pod": …, "role": …}]`.
    #[sea_orm(column_type = "Text")]
    pub points: String,
    /// `[{"kind": …, "document_version": …}]`.
    #[sea_orm(column_type = "Text")]
    pub consents: String,
    pub client_address: Option<String>,
    pub created_at: DateTimeUtc,
    pub verified_at: Option<DateTimeUtc>,
    pub decided_at: Option<DateTimeUtc>,
    pub decided_by: Option<i32>,
    #[sea_orm(column_type = "Text", nullable)]
    pub decision_reason: Option<String>,
    pub holder_id: Option<i32>,
    pub joined_at: Option<Date>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::configuration::Entity",
        from = "Column::ConfigurationId",
        to = "super::configuration::Column::Id",
        on_delete = "Cascade"
    )]
    Configuration,
}

impl Related<super::configuration::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Configuration.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
