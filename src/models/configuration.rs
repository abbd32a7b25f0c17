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
