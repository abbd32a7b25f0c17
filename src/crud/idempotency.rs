use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};

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

pub async fn insert(
    db: &impl ConnectionTrait,
    user_id: i32,
    key: &str,
    request_hash: String,
    status_code: u16,
    response_body: String,
) -> Result<Model, DbErr> {
    ActiveModel {
        user_id: Set(user_id),
        key: Set(key.to_string()),
        request_hash: Set(request_hash),
        status_code: Set(i32::from(status_code)),
        response_body: Set(response_body),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
}
