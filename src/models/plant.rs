use sea_orm::entity::prelude::*;

use super::enums::{ConnectionVoltage, PlantSource};

/// A production plant (or plant section) behind a member's POD.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "plants")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub member_id: i32,
    pub name: String,
    pub source: PlantSource,
    /// Watts: kW with three exact decimals.
    pub power_w: i64,
    pub commissioned_on: Date,
    /// The PNRR capital grant as millionths of the eligible cost (0.40 = 400 000).
    pub capital_grant_ppm: i32,
    pub connection_voltage: ConnectionVoltage,
    pub censimp_code: Option<String>,
    /// When GSE was notified of the plant (null: not yet; then it earns no tariff).
    pub gse_notified_on: Option<Date>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::member::Entity",
        from = "Column::MemberId",
        to = "super::member::Column::Id"
    )]
    Member,
}

impl Related<super::member::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Member.def()
    }
}

timestamped!();
