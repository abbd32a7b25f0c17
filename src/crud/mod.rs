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
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, IdenStatic,
    Iterable, PrimaryKeyToColumn, QueryOrder, QueryResult, QuerySelect, QueryTrait, Select,
    Statement,
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
            // Written out, not bound: the page's LIMIT and OFFSET stay the last parameters.
            Expr::cust("TRUE"),
        );
    let backend = db.get_database_backend();
    let sorted_here = ordered_by_the_server(backend, id);
    if !sorted_here {
        statement.order_by((Alias::new("page"), id), Order::Asc);
    }
    let mut built = backend.build(&statement);
    if backend == DbBackend::Postgres {
        built = page_bounds_written_out(built, skip, limit);
    }
    let rows = db.query_all_raw(built).await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let total = u64::try_from(first.try_get::<i64>("", PAGE_TOTAL)?).unwrap_or_default();
    if skip >= total || limit == 0 {
        // The one row carries only the total: the page's columns are NULL.
        return Ok(Some((Vec::new(), total)));
    }
    let rows = if sorted_here {
        in_key_order(rows, id.as_str())?
    } else {
        rows
    };
    let items = rows.iter().map(decode).collect::<Result<Vec<_>, _>>()?;
    Ok(Some((items, total)))
}

/// A page's rows in the order of their integer column `key` (see [`ordered_by_the_server`]).
fn in_key_order(rows: Vec<QueryResult>, key: &str) -> Result<Vec<QueryResult>, DbErr> {
    let mut keyed = rows
        .into_iter()
        .map(|row| Ok((row.try_get::<i64>("", key)?, row)))
        .collect::<Result<Vec<_>, DbErr>>()?;
    // Already in order as SQLite reads the page today: a check, not a sort.
    keyed.sort_by_key(|(key, _)| *key);
    Ok(keyed.into_iter().map(|(_, row)| row).collect())
}

/// Whether a page's rows are put in order by their primary key `id` here rather than by an
/// outer `ORDER BY`. SQLite materialises the page and sorts it again for that outer `ORDER BY`
/// (`USE TEMP B-TREE FOR ORDER BY`), copying every row into a sorter (BENCHMARKS.md, issue 13,
/// twelfth pass); the server orders an integer key for less. PostgreSQL's plan keeps the page's
/// order and needs no second sort; a key of another type keeps the SQL's.
fn ordered_by_the_server(backend: DbBackend, id: impl ColumnTrait) -> bool {
    use sea_orm::sea_query::ColumnType;
    backend == DbBackend::Sqlite
        && matches!(
            id.def().get_column_type(),
            ColumnType::TinyInteger
                | ColumnType::SmallInteger
                | ColumnType::Integer
                | ColumnType::BigInteger
        )
}

/// A page's statement with its `LIMIT` and `OFFSET` — its last two parameters — written into
/// its text, for PostgreSQL. While either is a parameter, PostgreSQL plans the prepared
/// statement afresh on every run: its generic plan must guess the bounds (a tenth of the
/// rows), costs more than a plan for the values at hand, so it is never chosen
/// (`pg_prepared_statements.custom_plans` grows with every run, `generic_plans` stays 0).
/// Written out, the statement's generic plan is as good as a custom one and is kept: pgbench
/// on a members page as the server sends it, 7,650 → 14,780 tps (BENCHMARKS.md, issue 13,
/// eleventh pass). The bounds are numbers the server formats itself; each pair of them is a
/// statement of its own in the connection's cache, which holds the few a client pages with.
/// SQLite needs none of this: it keeps its plans whatever is bound (`db::sqlite_plans`).
fn page_bounds_written_out(statement: Statement, skip: u64, limit: u64) -> Statement {
    let Statement {
        sql,
        values,
        db_backend,
    } = statement;
    let mut values = values.map(|values| values.0).unwrap_or_default();
    let count = values.len();
    let placeholders = format!(" LIMIT ${} OFFSET ${count}", count.saturating_sub(1));
    let ours = count >= 2
        && values[count - 2] == sea_orm::Value::BigUnsigned(Some(limit))
        && values[count - 1] == sea_orm::Value::BigUnsigned(Some(skip))
        && sql.matches(&placeholders).count() == 1;
    if !ours {
        // Not the shape this expects: the statement as built is as right, only planned anew.
        return Statement::from_sql_and_values(db_backend, sql, values);
    }
    values.truncate(count - 2);
    let sql = sql.replace(&placeholders, &format!(" LIMIT {limit} OFFSET {skip}"));
    Statement::from_sql_and_values(db_backend, sql, values)
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

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::Value;

    fn page(skip: u64, limit: u64) -> Statement {
        let page = Query::select()
            .column(Asterisk)
            .from(Alias::new("members"))
            .and_where(Expr::col(Alias::new("configuration_id")).eq(7))
            .limit(limit)
            .offset(skip)
            .to_owned();
        let statement = Query::select()
            .column((Alias::new("page"), Asterisk))
            .from_subquery(page, Alias::new("page"))
            .to_owned();
        DbBackend::Postgres.build(&statement)
    }

    #[test]
    fn only_sqlite_pages_with_an_integer_key_are_put_in_order_by_the_server() {
        use crate::models::{login_throttle, member, user};
        assert!(ordered_by_the_server(DbBackend::Sqlite, member::Column::Id));
        assert!(ordered_by_the_server(DbBackend::Sqlite, user::Column::Id));
        // A text key keeps SQLite's own ORDER BY: the server would read it as a number.
        assert!(!ordered_by_the_server(
            DbBackend::Sqlite,
            login_throttle::Column::Key
        ));
        assert!(!ordered_by_the_server(
            DbBackend::Postgres,
            member::Column::Id
        ));
    }

    #[test]
    fn a_pages_bounds_are_written_into_its_text_and_its_other_values_stay_bound() {
        let written = page_bounds_written_out(page(100, 50), 100, 50);
        assert!(
            written.sql.contains(" LIMIT 50 OFFSET 100)"),
            "{}",
            written.sql
        );
        assert!(!written.sql.contains("$2"), "{}", written.sql);
        assert_eq!(written.values.unwrap().0, vec![Value::Int(Some(7))]);
    }

    #[test]
    fn a_statement_whose_last_values_are_not_its_bounds_is_left_as_built() {
        let built = page(100, 50);
        for (skip, limit) in [(50, 100), (100, 49), (0, 50)] {
            let left = page_bounds_written_out(built.clone(), skip, limit);
            assert_eq!(left.sql, built.sql);
            assert_eq!(left.values, built.values);
        }
        let unbounded = DbBackend::Postgres.build(
            Query::select()
                .column(Asterisk)
                .from(Alias::new("members"))
                .and_where(Expr::col(Alias::new("id")).eq(5)),
        );
        let left = page_bounds_written_out(unbounded.clone(), 0, 5);
        assert_eq!(left.sql, unbounded.sql);
    }
}
