use sea_orm::entity::prelude::*;

use super::enums::{CommunityUserRole, CommunityUserStatus};

/// A person in a community's registry, who may exist before having an account.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "community_users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub organization_id: i32,
    pub email: String,
    pub full_name: Option<String>,
    pub role: CommunityUserRole,
    pub status: CommunityUserStatus,
    pub user_id: Option<i32>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

timestamped!();
