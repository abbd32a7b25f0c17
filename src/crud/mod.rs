//! Queries. Every list takes its scope as an argument and turns it into a `WHERE`, so counts and
//! pages never include rows the caller may not see.
pub mod audit;
pub mod by_position;
pub mod community_users;
pub mod configurations;
pub mod curves;
pub mod energy;
pub mod gse;
pub mod holders;
pub mod iban_changes;
pub mod idempotency;
pub mod imports;
pub mod join_requests;
pub mod login_throttles;
pub mod market;
pub mod members;
pub mod one_time_tokens;
pub mod organizations;
pub mod outbox;
pub mod parameters;
pub mod partitions;
pub mod payouts;
pub mod plants;
pub mod readings;
pub mod refresh_tokens;
pub mod scope;
pub mod settlement;
pub mod transactions;
pub mod users;
pub mod web_sessions;

use sea_orm::sea_query::{
    Alias, Asterisk, Expr, ExprTrait, Func, IntoColumnRef, JoinType, LikeExpr, Order, Query,
    SelectStatement, SimpleExpr, WithClause,
};
use sea_orm::{ActiveModelBehavior, ActiveModelTrait, IntoActiveModel};
use sea_orm::{
    ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, Iterable, PrimaryKeyToColumn,
    QueryOrder, QueryResult, QuerySelect, QueryTrait, Select, Statement,
};

/// A list's `search` parameter, trimmed; blank is no search.
pub fn search_term(search: &Option<String>) -> Option<&str> {
    search.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// `lower(column) LIKE '%needle%'`, with the needle's own `%`, `_` and `\` escaped: a search for
/// `50%` finds "50%", not everything. Portable across SQLite and PostgreSQL.
pub fn contains_case_insensitive(column: impl IntoColumnRef, needle: &str) -> SimpleExpr {
    Expr::expr(Func::lower(Expr::col(column))).like(contains_pattern(needle))
}

/// The same without `LOWER()` around the column, which keeps an index on the column usable and
/// folds no row: for a column stored lower-case (`users.search_text`), or on SQLite, whose
/// `LIKE` ignores ASCII case by itself (the only case its `lower()` folds).
pub fn contains_lowered_needle(column: impl IntoColumnRef, needle: &str) -> SimpleExpr {
    Expr::col(column).like(contains_pattern(needle))
}

fn contains_pattern(needle: &str) -> LikeExpr {
    let escaped = needle
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    LikeExpr::new(format!("%{escaped}%")).escape('\\')
}

/// One page of `query` (filtered, not ordered: pages run in primary-key order) and the total it
/// pages through, in one statement and one round trip:
/// `SELECT counted.page_total, page.* FROM (SELECT COUNT(*) …) counted
///  LEFT JOIN (SELECT … ORDER BY id LIMIT … OFFSET …) page ON 1 = 1 ORDER BY page.id`.
/// The count is a plain `COUNT(*)` over the same conditions (no subquery of every column); the
/// left join keeps the total when the page is past the end. One statement reads one snapshot,
/// so the total and the page always agree.
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
    paginate_sharing(db, None, query, skip, limit).await
}

/// [`paginate`], with common tables (`WITH`) that `query`'s condition reads: the total and the
/// page then work them out once between them.
pub async fn paginate_sharing<E>(
    db: &impl ConnectionTrait,
    shared: Option<WithClause>,
    query: Select<E>,
    skip: u64,
    limit: u64,
) -> Result<(Vec<E::Model>, u64), DbErr>
where
    E: EntityTrait,
    E::Model: FromQueryResult + Send + Sync,
{
    let counted = query
        .clone()
        .select_only()
        .expr_as(Expr::cust("COUNT(*)"), PAGE_TOTAL)
        .into_query();
    let page = paginate_counted_found(db, shared, counted, query, skip, limit, |row| {
        E::Model::from_query_result(row, "")
    })
    .await?;
    Ok(page.unwrap_or_default())
}

/// A page of `query` with its total taken from `counted` — a statement giving at most one row
/// with the total in column [`PAGE_TOTAL`] — in one statement; `None` when `counted` gave no
/// row (nothing visible).
///
/// Each row is read by `decode`: the total is at position 0 and the page's columns follow from
/// position 1 in the entity's column order (the order `Entity::find()` selects them in), for
/// decoders that read by position ([`by_position`]). `shared`: common tables (`WITH`) that
/// both the total and the page read, so that what they share is worked out once.
pub async fn paginate_counted_found<E, M>(
    db: &impl ConnectionTrait,
    shared: Option<WithClause>,
    counted: SelectStatement,
    query: Select<E>,
    skip: u64,
    limit: u64,
    decode: impl Fn(&QueryResult) -> Result<M, DbErr>,
) -> Result<Option<(Vec<M>, u64)>, DbErr>
where
    E: EntityTrait,
{
    let id = E::PrimaryKey::iter()
        .next()
        .expect("every entity has a primary key")
        .into_column();
    let page = query
        .order_by_asc(id)
        .offset(skip)
        .limit(limit)
        .into_query();
    let mut statement = Query::select();
    if let Some(shared) = shared {
        statement.with_cte(shared);
    }
    statement
        .column((Alias::new("counted"), Alias::new(PAGE_TOTAL)))
        .column((Alias::new("page"), Asterisk))
        .from_subquery(counted, Alias::new("counted"))
        .join_subquery(
            JoinType::LeftJoin,
            page,
            Alias::new("page"),
            Expr::val(1).eq(1),
        )
        .order_by((Alias::new("page"), id), Order::Asc);
    let rows = db
        .query_all_raw(db.get_database_backend().build(&statement))
        .await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let total = u64::try_from(first.try_get::<i64>("", PAGE_TOTAL)?).unwrap_or_default();
    if skip >= total || limit == 0 {
        // The one row carries only the total: the page's columns are NULL.
        return Ok(Some((Vec::new(), total)));
    }
    let items = rows.iter().map(decode).collect::<Result<Vec<_>, _>>()?;
    Ok(Some((items, total)))
}

/// The total's column in a page; no table has a column of that name.
pub const PAGE_TOTAL: &str = "condivisa_page_total";

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

/// [`write_lock`] on each of `keys`, in their order, in few statements (a bulk write locks
/// what it touches up front: on PostgreSQL up to 1,000 advisory locks per statement, on SQLite
/// the database's one write lock).
pub async fn write_locks(txn: &impl ConnectionTrait, keys: &[String]) -> Result<(), DbErr> {
    if txn.get_database_backend() != DbBackend::Postgres {
        return match keys.first() {
            Some(key) => write_lock(txn, key).await,
            None => Ok(()),
        };
    }
    for chunk in keys.chunks(1000) {
        // The ordered subquery feeds the aggregate row by row: the locks are taken in order.
        let rows: Vec<String> = (1..=chunk.len()).map(|n| format!("(${n}, {n})")).collect();
        let sql = format!(
            "SELECT COUNT(pg_advisory_xact_lock(hashtext(key))) FROM \
             (SELECT key FROM (VALUES {}) AS keys(key, n) ORDER BY n) ordered",
            rows.join(", ")
        );
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            chunk.iter().map(|key| key.as_str().into()),
        ))
        .await?;
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
