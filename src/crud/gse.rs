//! GSE's statements, and the ledger sums the reconciliation needs.
use chrono::NaiveDate;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::models::enums::{GseStatementKind, TransactionKind, TransactionStatus};
use crate::models::gse_statement::{Column, Entity, Model};
use crate::models::transaction;

pub async fn find(db: &impl ConnectionTrait, id: i32) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id).one(db).await
}

pub async fn of_period(
    db: &impl ConnectionTrait,
    configuration_id: i32,
    kind: GseStatementKind,
    period_start: NaiveDate,
) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::ConfigurationId.eq(configuration_id))
        .filter(Column::Kind.eq(kind))
        .filter(Column::PeriodStart.eq(period_start))
        .one(db)
        .await
}

/// The configuration's statements (those whose period starts in `[from, to]` when given),
/// oldest first.
pub async fn of_configuration(
    db: &impl ConnectionTrait,
    configuration_id: i32,
    within: Option<(NaiveDate, NaiveDate)>,
) -> Result<Vec<Model>, DbErr> {
    let mut query = Entity::find().filter(Column::ConfigurationId.eq(configuration_id));
    if let Some((from, to)) = within {
        query = query
            .filter(Column::PeriodStart.gte(from))
            .filter(Column::PeriodStart.lte(to));
    }
    query
        .order_by_asc(Column::PeriodStart)
        .order_by_asc(Column::Kind)
        .all(db)
        .await
}

pub async fn delete(db: &impl ConnectionTrait, id: i32) -> Result<(), DbErr> {
    Entity::delete_by_id(id).exec(db).await.map(|_| ())
}

/// Σ amount of the configuration's live ledger rows by kind, split into members' rows and the
/// configuration's own (`true`: members'), for the rows whose period starts in `[from, to]`.
pub async fn ledger_sums(
    db: &impl ConnectionTrait,
    configuration_id: i32,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(TransactionKind, bool, i64)>, DbErr> {
    use transaction::Column as T;
    // Cast: PostgreSQL sums BIGINT into NUMERIC, and SQLite has no booleans.
    let for_member = "CAST(CASE WHEN member_id IS NULL THEN 0 ELSE 1 END AS BIGINT)";
    let rows: Vec<(TransactionKind, i64, i64)> = transaction::Entity::find()
        .select_only()
        .column(T::Kind)
        .column_as(Expr::cust(for_member), "for_member")
        .column_as(Expr::cust("CAST(SUM(amount_cents) AS BIGINT)"), "cents")
        .filter(T::ConfigurationId.eq(configuration_id))
        .filter(T::Status.ne(TransactionStatus::Cancelled))
        .filter(T::PeriodStart.gte(from))
        .filter(T::PeriodStart.lte(to))
        .group_by(T::Kind)
        .group_by(Expr::cust(for_member))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(kind, member, cents)| (kind, member == 1, cents))
        .collect())
}
