use sea_orm::entity::prelude::*;

use super::enums::{Role, UserKind, UserStatus, UserType};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Always lower case: uniqueness is case-insensitive.
    pub email: String,
    /// Lower case, like the email, so `Mario` and `mario` cannot both exist.
    pub username: Option<String>,
    pub full_name: Option<String>,
    /// Upper case: codice fiscale for a person, partita IVA for a company.
    pub fiscal_code: Option<String>,
    #[sea_orm(column_name = "type")]
    pub kind: UserKind,
    pub user_type: UserType,
    pub address: Option<String>,
    pub role: Role,
    pub status: UserStatus,
    pub hashed_password: String,
    pub organization_id: Option<i32>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl Model {
    pub fn is_active(&self) -> bool {
        self.status == UserStatus::Active
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::organization::Entity",
        from = "Column::OrganizationId",
        to = "super::organization::Column::Id"
    )]
    Organization,
}

impl Related<super::organization::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Organization.def()
    }
}

timestamped!();
