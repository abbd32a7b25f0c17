use sea_orm::entity::prelude::*;

use super::enums::TokenPurpose;

/// A single-use link: only the SHA-256 of the token is stored. `user_id` names the account it
/// acts on (password reset), `subject_id` the object (a join request to verify).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "one_time_tokens")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub purpose: TokenPurpose,
    pub token_hash: String,
    pub user_id: Option<i32>,
    pub subject_id: Option<i32>,
    pub expires_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    User,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
