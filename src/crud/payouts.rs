//! Payout batches and their items, and the members' balances a batch pays.
use chrono::NaiveDate;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::models::enums::{PayoutStatus, TransactionStatus};
use crate::models::{payout_batch, payout_item, transaction};

pub async fn find(
    db: &impl ConnectionTrait,
    id: i32,
) -> Result<Option<payout_batch::Model>, DbErr> {
    payout_batch::Entity::find_by_id(id).one(db).await
}

/// The configuration's batches, newest first.
pub async fn of_configuration(
    db: &impl ConnectionTrait,
    configuration_id: i32,
) -> Result<Vec<payout_batch::Model>, DbErr> {
    payout_batch::Entity::find()
        .filter(payout_batch::Column::ConfigurationId.eq(configuration_id))
        .order_by_desc(payout_batch::Column::Id)
        .all(db)
        .await
}

/// The configuration's batch still open (draft, approved or exported), if any.
pub async fn open_batch(
    db: &impl ConnectionTrait,
    configuration_id: i32,
) -> Result<Option<payout_batch::Model>, DbErr> {
    payout_batch::Entity::find()
        .filter(payout_batch::Column::ConfigurationId.eq(configuration_id))
        .filter(payout_batch::Column::Status.is_in([
            PayoutStatus::Draft,
            PayoutStatus::Approved,
            PayoutStatus::Exported,
        ]))
        .one(db)
        .await
}

pub async fn items_of(
    db: &impl ConnectionTrait,
    batch_id: i32,
) -> Result<Vec<payout_item::Model>, DbErr> {
    payout_item::Entity::find()
        .filter(payout_item::Column::BatchId.eq(batch_id))
        .order_by_asc(payout_item::Column::MemberId)
        .all(db)
        .await
}

/// Each member's balance for a batch through `through_end`: the live credits (every row but
/// payments) of periods ending by then, minus every payment ever recorded — whatever period a
/// payment was booked under, it was paid, so a later batch can never pay it again.
pub async fn balances(
    db: &impl ConnectionTrait,
    configuration_id: i32,
    through_end: NaiveDate,
) -> Result<Vec<(i32, i64)>, DbErr> {
    use transaction::Column as T;
    // The date is ours (a NaiveDate), so writing it into the statement is safe; both engines
    // compare `YYYY-MM-DD` dates correctly.
    let balance = format!(
        "CAST(SUM(CASE WHEN kind = 'payment' OR period_end <= '{}' THEN amount_cents ELSE 0 END) AS BIGINT)",
        through_end.format("%Y-%m-%d")
    );
    let rows: Vec<(Option<i32>, i64)> = transaction::Entity::find()
        .select_only()
        .column(T::MemberId)
        .column_as(Expr::cust(balance), "balance")
        .filter(T::ConfigurationId.eq(configuration_id))
        .filter(T::MemberId.is_not_null())
        .filter(T::Status.ne(TransactionStatus::Cancelled))
        .group_by(T::MemberId)
        .order_by_asc(T::MemberId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(member, cents)| member.map(|m| (m, cents)))
        .collect())
}
