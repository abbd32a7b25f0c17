use sea_orm::entity::prelude::*;

use super::enums::{HolderType, MemberRole, MemberStatus};

/// A connection point (POD) taking part in a configuration over `[joined_at, withdrawn_at)`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "members")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub configuration_id: i32,
    pub user_id: Option<i32>,
    /// The person or organisation holding the point; its kind is the member's holder type.
    pub holder_id: Option<i32>,
    pub pod: String,
    pub role: MemberRole,
    /// Who holds the point: decides whether it may join a CER and whether F applies to it.
    pub holder_type: HolderType,
    pub status: MemberStatus,
    pub joined_at: Date,
    pub withdrawn_at: Option<Date>,
    pub net_metering: bool,
    /// The point's available power in watts, when recorded (bounds plausible withdrawal).
    pub available_power_w: Option<i64>,
    /// When GSE was notified of the membership (null: not yet; then GSE does not count it).
    pub gse_notified_on: Option<Date>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::configuration::Entity",
        from = "Column::ConfigurationId",
        to = "super::configuration::Column::Id"
    )]
    Configuration,
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id"
    )]
    User,
}

impl Related<super::configuration::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Configuration.def()
    }
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

timestamped!();
