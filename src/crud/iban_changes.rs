//! Members' requests for a new IBAN: one holder's, the operators' queue, the state changes.
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

use super::scope::{self, CommunityScope};
use crate::models::enums::IbanChangeStatus;
use crate::models::iban_change_request::{Column, Entity, Model};
use crate::models::member;

pub async fn find(db: &impl ConnectionTrait, id: i32) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id).one(db).await
}

/// A request whose holder the scope sees; any other is not there.
pub async fn find_in_scope(
    db: &impl ConnectionTrait,
    scope: CommunityScope,
    id: i32,
) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id)
        .filter(Column::HolderId.in_subquery(scope::visible_holder_ids(scope)))
        .one(db)
        .await
}

/// Every request of a holder, newest first.
pub async fn of_holder(db: &impl ConnectionTrait, holder_id: i32) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::HolderId.eq(holder_id))
        .order_by_desc(Column::Id)
        .all(db)
        .await
}

/// The holder's request waiting for a decision, if any.
pub async fn pending_of(db: &impl ConnectionTrait, holder_id: i32) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::HolderId.eq(holder_id))
        .filter(Column::Status.eq(IbanChangeStatus::Pending))
        .one(db)
        .await
}

/// One page of the requests the scope sees, oldest first, optionally of one status and of the
/// holders of one configuration's points.
pub async fn list(
    db: &impl ConnectionTrait,
    scope: CommunityScope,
    status: Option<IbanChangeStatus>,
    configuration_id: Option<i32>,
    skip: u64,
    limit: u64,
) -> Result<(Vec<Model>, u64), DbErr> {
    let mut query =
        Entity::find().filter(Column::HolderId.in_subquery(scope::visible_holder_ids(scope)));
    if let Some(status) = status {
        query = query.filter(Column::Status.eq(status));
    }
    if let Some(configuration_id) = configuration_id {
        query = query.filter(Column::HolderId.in_subquery(scope::holders_of_members(
            Condition::all().add(member::Column::ConfigurationId.eq(configuration_id)),
        )));
    }
    super::paginate(db, query, skip, limit).await
}

/// Moves a pending request to `to` with its decision; `false` when it was no longer pending
/// (of two concurrent decisions exactly one applies).
pub async fn decide(
    db: &impl ConnectionTrait,
    id: i32,
    to: IbanChangeStatus,
    by: i32,
    at: DateTime<Utc>,
    reason: Option<&str>,
) -> Result<bool, DbErr> {
    let result = Entity::update_many()
        .col_expr(Column::Status, Expr::value(to.as_str()))
        .col_expr(Column::DecidedBy, Expr::value(by))
        .col_expr(Column::DecidedAt, Expr::value(at))
        .col_expr(
            Column::DecisionReason,
            Expr::value(reason.map(str::to_string)),
        )
        .filter(Column::Id.eq(id))
        .filter(Column::Status.eq(IbanChangeStatus::Pending))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Erasure: the holder's requests keep their dates and outcomes, not the account or the note;
/// one still waiting is withdrawn.
pub async fn erase_of_holder(
    db: &impl ConnectionTrait,
    holder_id: i32,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(
            Column::Status,
            Expr::value(IbanChangeStatus::Withdrawn.as_str()),
        )
        .col_expr(Column::DecidedAt, Expr::value(at))
        .filter(Column::HolderId.eq(holder_id))
        .filter(Column::Status.eq(IbanChangeStatus::Pending))
        .exec(db)
        .await?;
    Entity::update_many()
        .col_expr(Column::Iban, Expr::value(Option::<String>::None))
        .col_expr(Column::Note, Expr::value(Option::<String>::None))
        .col_expr(Column::DecisionReason, Expr::value(Option::<String>::None))
        .filter(Column::HolderId.eq(holder_id))
        .exec(db)
        .await?;
    Ok(())
}
