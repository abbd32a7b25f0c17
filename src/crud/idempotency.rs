use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

use crate::models::idempotency_key::{ActiveModel, Column, Entity, Model};

pub async fn find(
    db: &impl ConnectionTrait,
    user_id: i32,
    key: &str,
) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::UserId.eq(user_id))
        .filter(Column::Key.eq(key))
        .one(db)
        .await
}

/// Stores the first answer under `key`, unless the key is already taken (by a concurrent
/// request that committed first, or an earlier one): then nothing is written and the answer is
/// `false`. One statement, no error to recover from.
pub async fn store(
    db: &impl ConnectionTrait,
    user_id: i32,
    key: &str,
    request_hash: String,
    status_code: u16,
    response_body: String,
) -> Result<bool, DbErr> {
    let row = ActiveModel {
        user_id: Set(user_id),
        key: Set(key.to_string()),
        request_hash: Set(request_hash),
        status_code: Set(i32::from(status_code)),
        response_body: Set(response_body),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    let inserted = Entity::insert(row)
        .on_conflict(
            OnConflict::columns([Column::UserId, Column::Key])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(inserted == 1)
}
