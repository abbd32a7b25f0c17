//! The failed-login counters. Each change is one statement, so that concurrent failures on
//! several instances all count.
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, Statement,
};

use crate::domain::login_throttle::FailureCount;
use crate::models::login_throttle::{Column, Entity};

/// The stored counters among `keys`, by key (a key never counted is absent), in one query.
pub async fn counts(
    db: &impl ConnectionTrait,
    keys: &[String],
) -> Result<HashMap<String, FailureCount>, DbErr> {
    Ok(Entity::find()
        .filter(Column::Key.is_in(keys.iter().cloned()))
        .all(db)
        .await?
        .into_iter()
        .map(|row| {
            let count = FailureCount {
                failures: u32::try_from(row.failures).unwrap_or(0),
                last_failure_at: row.last_failure_at,
            };
            (row.key, count)
        })
        .collect())
}

/// Adds a failure — or starts the count again at one when the stored one is stale (its last
/// failure before `stale_before`, which the caller computes from the count it read) — and
/// returns the count after it. A concurrent failure sees the first one's time, so it adds.
pub async fn record_failure(
    db: &impl ConnectionTrait,
    key: &str,
    now: DateTime<Utc>,
    stale_before: DateTime<Utc>,
) -> Result<u32, DbErr> {
    let backend = db.get_database_backend();
    let sql = "INSERT INTO login_throttles (key, failures, last_failure_at) VALUES ($1, 1, $2) \
               ON CONFLICT (key) DO UPDATE SET \
               failures = CASE WHEN login_throttles.last_failure_at < $3 THEN 1 \
                               ELSE login_throttles.failures + 1 END, \
               last_failure_at = $2 \
               RETURNING failures";
    // SQLite numbers its parameters `?N`.
    let sql = match backend {
        DbBackend::Postgres => sql.to_string(),
        _ => sql.replace('$', "?"),
    };
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [key.into(), now.into(), stale_before.into()],
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("login_throttles row".into()))?;
    let failures: i32 = row.try_get_by_index(0)?;
    Ok(u32::try_from(failures).unwrap_or(0))
}

pub async fn clear(db: &impl ConnectionTrait, key: &str) -> Result<(), DbErr> {
    Entity::delete_by_id(key.to_string()).exec(db).await?;
    Ok(())
}
