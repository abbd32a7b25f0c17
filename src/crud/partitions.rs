//! PostgreSQL's monthly partitions of `readings` (migration 9): one table per Italian month,
//! `readings_yYYYYmMM`, so that a month can be detached and archived and a month's queries read
//! one table. The months come with the data, so the binary creates them, under the migration
//! lock before it serves: the months from two years back to one year ahead of today, and every
//! month that has rows in the default partition (an import of a month without a partition puts
//! its rows there; they move into their month's table at the next start). SQLite keeps one table.
use chrono::{Datelike, Months, NaiveDate};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement, TransactionTrait};

use crate::domain::curves::CurveMonth;

/// Months kept ready around today.
const MONTHS_BACK: u32 = 24;
const MONTHS_AHEAD: u32 = 12;

fn partition_name(first: NaiveDate) -> String {
    format!("readings_y{:04}m{:02}", first.year(), first.month())
}

async fn bigints(db: &impl ConnectionTrait, sql: &str) -> Result<Vec<Option<i64>>, DbErr> {
    db.query_all_raw(Statement::from_string(DbBackend::Postgres, sql.to_string()))
        .await?
        .iter()
        .map(|r| r.try_get_by_index::<Option<i64>>(0))
        .collect()
}

/// Creates the missing monthly partitions (see the module's comment); returns how many.
pub async fn ensure_reading_partitions(
    db: &DatabaseConnection,
    today: NaiveDate,
) -> Result<usize, DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(0);
    }
    let partitioned = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT 1 FROM pg_partitioned_table t JOIN pg_class c ON c.oid = t.partrelid \
             WHERE c.relname = 'readings' AND c.relnamespace = current_schema()::regnamespace",
        ))
        .await?
        .is_some();
    if !partitioned {
        return Ok(0);
    }
    let existing: std::collections::HashSet<String> = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
             JOIN pg_class p ON p.oid = i.inhparent \
             WHERE p.relname = 'readings' AND p.relnamespace = current_schema()::regnamespace",
        ))
        .await?
        .iter()
        .map(|r| r.try_get::<String>("", "name"))
        .collect::<Result<_, _>>()?;

    let this_month = today.with_day(1).unwrap_or(today);
    let mut wanted: Vec<NaiveDate> = (0..=MONTHS_BACK + MONTHS_AHEAD)
        .filter_map(|i| {
            this_month
                .checked_sub_months(Months::new(MONTHS_BACK))?
                .checked_add_months(Months::new(i))
        })
        .collect();
    // Months outside that window with rows in the default partition. (A month inside it is
    // probed again in its own transaction below: that probe decides whether rows move.)
    let span = bigints(
        db,
        "SELECT MIN(interval_start) FROM readings_default UNION ALL SELECT MAX(interval_start) FROM readings_default",
    )
    .await?;
    if let [Some(first), Some(last)] = span[..] {
        for month in CurveMonth::spanning(first, last) {
            if wanted.contains(&month.first_day()) {
                continue;
            }
            let found = bigints(
                db,
                &format!(
                    "SELECT CAST(1 AS BIGINT) FROM readings_default WHERE interval_start >= {} AND interval_start < {} LIMIT 1",
                    month.start, month.end
                ),
            )
            .await?;
            if !found.is_empty() {
                wanted.push(month.first_day());
            }
        }
    }
    wanted.sort();
    wanted.dedup();

    let mut created = 0;
    for first in wanted {
        let name = partition_name(first);
        if existing.contains(&name) {
            continue;
        }
        let month = CurveMonth::of(first);
        let (from, to) = (month.start, month.end);
        let txn = db.begin().await?;
        let in_default = bigints(
            &txn,
            &format!(
                "SELECT CAST(1 AS BIGINT) FROM readings_default WHERE interval_start >= {from} AND interval_start < {to} LIMIT 1"
            ),
        )
        .await?;
        if in_default.is_empty() {
            txn.execute_unprepared(&format!(
                "CREATE TABLE {name} PARTITION OF readings FOR VALUES FROM ({from}) TO ({to})"
            ))
            .await?;
        } else {
            // The month's rows leave the default partition for their own table, which is then
            // attached (attaching checks that the default one holds none of them any more).
            txn.execute_unprepared(&format!(
                "CREATE TABLE {name} (LIKE readings INCLUDING DEFAULTS INCLUDING CONSTRAINTS); \
                 INSERT INTO {name} SELECT * FROM readings_default WHERE interval_start >= {from} AND interval_start < {to}; \
                 DELETE FROM readings_default WHERE interval_start >= {from} AND interval_start < {to}; \
                 ALTER TABLE readings ATTACH PARTITION {name} FOR VALUES FROM ({from}) TO ({to})"
            ))
            .await?;
        }
        txn.commit().await?;
        created += 1;
    }
    if created > 0 {
        tracing::info!(created, "monthly partitions of readings created");
    }
    Ok(created)
}
