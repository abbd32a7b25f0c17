use sea_orm::entity::prelude::*;

use super::enums::{ConfigurationStatus, ConfigurationType, MarketZone, Region};

/// An energy-sharing configuration (a CER, AUC or AID) under one primary substation.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "configurations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub organization_id: i32,
    pub name: String,
    #[sea_orm(column_name = "type")]
    pub kind: ConfigurationType,
    pub status: ConfigurationStatus,
    pub primary_substation: String,
    pub market_zone: MarketZone,
    pub region: Region,
    pub referent_id: Option<i32>,
    pub description: Option<String>,
    pub constituted_on: Option<Date>,
    pub activation_date: Option<Date>,
    /// Inhabitants of the plants' municipality, when recorded (the PNRR grant's threshold).
    pub municipality_population: Option<i32>,
    /// Whether newcomers may ask to join through the public request form.
    pub accepts_join_requests: bool,
    /// The version of the privacy notice in force, which newcomers accept when asking to join.
    pub privacy_notice_version: Option<String>,
    /// The version of the statute (or regulation) in force, likewise.
    pub statute_version: Option<String>,
    /// The account the community pays its members from (the SEPA file's debtor).
    pub payout_account_name: Option<String>,
    pub payout_iban: Option<String>,
    pub payout_bic: Option<String>,
    /// Balances below this many cents carry over to the next payout batch.
    pub payout_minimum_cents: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::member::Entity")]
    Members,
}

impl Related<super::member::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Members.def()
    }
}

timestamped!();
