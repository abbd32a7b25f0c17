//! Join requests: written by the public form, counted for its limits, listed for review.
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::models::enums::JoinRequestStatus;
use crate::models::join_request::{ActiveModel, Column, Entity, Model};

pub async fn insert(db: &impl ConnectionTrait, model: ActiveModel) -> Result<Model, DbErr> {
    use sea_orm::ActiveModelTrait;
    model.insert(db).await
}

pub async fn find(db: &impl ConnectionTrait, id: i32) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id).one(db).await
}

/// How many requests came since `since` from `address` (or to `configuration_id`), and when
/// the oldest of them came (the moment the count starts to fall), in one query.
pub async fn recent(
    db: &impl ConnectionTrait,
    filter: RecentFilter<'_>,
    since: DateTime<Utc>,
) -> Result<(u64, Option<DateTime<Utc>>), DbErr> {
    let base = Entity::find().filter(Column::CreatedAt.gte(since));
    let query = match filter {
        RecentFilter::Address(address) => base.filter(Column::ClientAddress.eq(address)),
        RecentFilter::Configuration(id) => base.filter(Column::ConfigurationId.eq(id)),
    };
    let (count, oldest) = query
        .select_only()
        .column_as(Column::Id.count(), "requests")
        .column_as(Column::CreatedAt.min(), "oldest")
        .into_tuple::<(i64, Option<DateTime<Utc>>)>()
        .one(db)
        .await?
        .unwrap_or((0, None));
    Ok((u64::try_from(count).unwrap_or(0), oldest))
}

#[derive(Clone, Copy)]
pub enum RecentFilter<'a> {
    Address(&'a str),
    Configuration(i32),
}

/// One page of a configuration's requests, optionally of one status.
pub async fn list(
    db: &impl ConnectionTrait,
    configuration_id: i32,
    status: Option<JoinRequestStatus>,
    skip: u64,
    limit: u64,
) -> Result<(Vec<Model>, u64), DbErr> {
    let mut query = Entity::find().filter(Column::ConfigurationId.eq(configuration_id));
    if let Some(status) = status {
        query = query.filter(Column::Status.eq(status));
    }
    super::paginate(db, query, skip, limit).await
}

/// Moves the request from `from` to `to` only if it is still in `from`: of two concurrent
/// decisions exactly one applies.
pub async fn transition(
    db: &impl ConnectionTrait,
    id: i32,
    from: &[JoinRequestStatus],
    to: JoinRequestStatus,
    stamp: Column,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = Entity::update_many()
        .col_expr(Column::Status, Expr::value(to.as_str()))
        .col_expr(stamp, Expr::value(at))
        .filter(Column::Id.eq(id))
        .filter(Column::Status.is_in(from.iter().copied()))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// The requests approved into this holder.
pub async fn of_holder(db: &impl ConnectionTrait, holder_id: i32) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::HolderId.eq(holder_id))
        .order_by_asc(Column::Id)
        .all(db)
        .await
}

/// Clears the personal data of the requests approved into this holder (its erasure): what
/// stays is that a request was made, for which points and consents, and how it was decided.
pub async fn erase_of_holder(db: &impl ConnectionTrait, holder_id: i32) -> Result<(), DbErr> {
    let none = || Expr::value(Option::<String>::None);
    Entity::update_many()
        .col_expr(Column::FirstName, none())
        .col_expr(Column::LastName, none())
        .col_expr(Column::CompanyName, none())
        .col_expr(Column::FiscalCode, none())
        .col_expr(Column::VatNumber, none())
        .col_expr(Column::Street, none())
        .col_expr(Column::Postcode, none())
        .col_expr(Column::Municipality, none())
        .col_expr(Column::Province, none())
        .col_expr(Column::Email, Expr::value(""))
        .col_expr(Column::Phone, none())
        .col_expr(Column::Iban, none())
        .col_expr(Column::ClientAddress, none())
        .filter(Column::HolderId.eq(holder_id))
        .exec(db)
        .await?;
    Ok(())
}
