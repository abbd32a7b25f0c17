//! Single-use links, stored as the SHA-256 of the token.
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};

use crate::models::enums::TokenPurpose;
use crate::models::one_time_token::{ActiveModel, Column, Entity, Model};

pub async fn insert(
    db: &impl ConnectionTrait,
    purpose: TokenPurpose,
    token_hash: String,
    user_id: Option<i32>,
    subject_id: Option<i32>,
    expires_at: DateTime<Utc>,
) -> Result<Model, DbErr> {
    ActiveModel {
        purpose: Set(purpose),
        token_hash: Set(token_hash),
        user_id: Set(user_id),
        subject_id: Set(subject_id),
        expires_at: Set(expires_at),
        used_at: Set(None),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
}

pub async fn find(
    db: &impl ConnectionTrait,
    purpose: TokenPurpose,
    token_hash: &str,
) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::Purpose.eq(purpose))
        .filter(Column::TokenHash.eq(token_hash))
        .one(db)
        .await
}

/// Marks the token used if it is still unused and unexpired; of two concurrent uses exactly
/// one wins.
pub async fn claim(db: &impl ConnectionTrait, id: i32, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let result = Entity::update_many()
        .col_expr(Column::UsedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::UsedAt.is_null())
        .filter(Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Spends every outstanding token of `purpose` for the user (a reset makes the other reset
/// links of the same account useless).
pub async fn spend_all_of_user(
    db: &impl ConnectionTrait,
    purpose: TokenPurpose,
    user_id: i32,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::UsedAt, Expr::value(now))
        .filter(Column::Purpose.eq(purpose))
        .filter(Column::UserId.eq(user_id))
        .filter(Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// How many tokens of `purpose` the user was given since `since` (to bound reset mails).
pub async fn issued_since(
    db: &impl ConnectionTrait,
    purpose: TokenPurpose,
    user_id: i32,
    since: DateTime<Utc>,
) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    Entity::find()
        .filter(Column::Purpose.eq(purpose))
        .filter(Column::UserId.eq(user_id))
        .filter(Column::CreatedAt.gte(since))
        .count(db)
        .await
}
