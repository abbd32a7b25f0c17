use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::models::refresh_token::{ActiveModel, Column, Entity, Model};

pub async fn insert(
    db: &impl ConnectionTrait,
    user_id: i32,
    family_id: &str,
    token_hash: String,
    expires_at: DateTime<Utc>,
) -> Result<Model, sea_orm::DbErr> {
    ActiveModel {
        user_id: Set(user_id),
        family_id: Set(family_id.to_string()),
        token_hash: Set(token_hash),
        expires_at: Set(expires_at),
        created_at: Set(Utc::now()),
        used_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await
}

pub async fn find_by_hash(
    db: &impl ConnectionTrait,
    hash: &str,
) -> Result<Option<Model>, sea_orm::DbErr> {
    Entity::find()
        .filter(Column::TokenHash.eq(hash))
        .one(db)
        .await
}

/// Marks the token used, only if nobody else did first: of two concurrent refreshes with the
/// same token exactly one wins, and the loser is treated as a reuse.
pub async fn claim(db: &impl ConnectionTrait, id: i32) -> Result<bool, sea_orm::DbErr> {
    let result = Entity::update_many()
        .col_expr(Column::UsedAt, Expr::value(Utc::now()))
        .filter(Column::Id.eq(id))
        .filter(Column::UsedAt.is_null())
        .filter(Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

pub async fn revoke_family(
    db: &impl ConnectionTrait,
    family_id: &str,
) -> Result<(), sea_orm::DbErr> {
    Entity::update_many()
        .col_expr(Column::RevokedAt, Expr::value(Utc::now()))
        .filter(Column::FamilyId.eq(family_id))
        .filter(Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

pub async fn revoke_all_for_user(
    db: &impl ConnectionTrait,
    user_id: i32,
) -> Result<(), sea_orm::DbErr> {
    Entity::update_many()
        .col_expr(Column::RevokedAt, Expr::value(Utc::now()))
        .filter(Column::UserId.eq(user_id))
        .filter(Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}
