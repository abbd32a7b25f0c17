//! Queries. Every list takes its scope as an argument and turns it into a `WHERE`, so counts and
//! pages never include rows the caller may not see.
pub mod community_users;
pub mod configurations;
pub mod energy;
pub mod idempotency;
pub mod imports;
pub mod market;
pub mod members;
pub mod organizations;
pub mod parameters;
pub mod plants;
pub mod readings;
pub mod refresh_tokens;
pub mod scope;
pub mod settlement;
pub mod transactions;
pub mod users;

use sea_orm::sea_query::{Expr, ExprTrait, Func, IntoColumnRef, LikeExpr, SimpleExpr};
use sea_orm::{ActiveModelBehavior, ActiveModelTrait, IntoActiveModel};
use sea_orm::{
    ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, PaginatorTrait, QuerySelect,
    Select, Statement,
};

/// `lower(column) LIKE '%needle%'`, with the needle's own `%`, `_` and `\` escaped: a search for
/// `50%` finds "50%", not everything. Portable across SQLite and PostgreSQL.
pub fn contains_case_insensitive(column: impl IntoColumnRef, needle: &str) -> SimpleExpr {
    let escaped = needle
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    Expr::expr(Func::lower(Expr::col(column)))
        .like(LikeExpr::new(format!("%{escaped}%")).escape('\\'))
}

/// One page of `query` (already filtered and ordered) and the total it pages through.
pub async fn paginate<E>(
    db: &impl ConnectionTrait,
    query: Select<E>,
    skip: u64,
    limit: u64,
) -> Result<(Vec<E::Model>, u64), DbErr>
where
    E: EntityTrait,
    E::Model: FromQueryResult + Send + Sync,
{
    let total = query.clone().count(db).await?;
    let items = query.offset(skip).limit(limit).all(db).await?;
    Ok((items, total))
}

/// Serialises writers that check-then-write on the same `key` (a POD, a configuration), inside
/// the current transaction. PostgreSQL: a transaction-level advisory lock on the key. SQLite:
/// a write statement first, which takes the database's write lock (waiting up to the busy
/// timeout) before anything is read, so the check sees every committed write.
pub async fn write_lock(txn: &impl ConnectionTrait, key: &str) -> Result<(), DbErr> {
    match txn.get_database_backend() {
        DbBackend::Postgres => {
            txn.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_advisory_xact_lock(hashtext($1))",
                [key.into()],
            ))
            .await?;
        }
        _ => {
            txn.execute_unprepared("UPDATE organizations SET id = id WHERE 1 = 0")
                .await?;
        }
    }
    Ok(())
}

/// Inserts a row; `created_at`/`updated_at` are stamped by the entity's `before_save`.
pub async fn insert<A>(
    db: &impl ConnectionTrait,
    model: A,
) -> Result<<A::Entity as EntityTrait>::Model, DbErr>
where
    A: ActiveModelTrait + ActiveModelBehavior + Send,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
{
    model.insert(db).await
}

/// Saves the changed columns of a row; `updated_at` is stamped by the entity's `before_save`.
pub async fn update<A>(
    db: &impl ConnectionTrait,
    model: A,
) -> Result<<A::Entity as EntityTrait>::Model, DbErr>
where
    A: ActiveModelTrait + ActiveModelBehavior + Send,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
{
    model.update(db).await
}
