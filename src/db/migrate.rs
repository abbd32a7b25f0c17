//! The migration workflow behind `condivisa migrate`, on top of sea-orm-migration: targets by
//! revision name or prefix, current/history/pending, stamp, offline SQL, and what a downgrade
//! would drop. The CLI only parses arguments and prints.
use std::time::{SystemTime, UNIX_EPOCH};

use migration::engine::{MigrationStatus, SchemaManager, seaql_migrations};
use migration::{MigrationTrait, Migrator, MigratorTrait};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, MockDatabase,
    MockExecResult, Schema, TransactionTrait,
};

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// An unknown or ambiguous revision, or a target the history does not allow.
    #[error("{0}")]
    Revision(String),
    #[error(transparent)]
    Database(#[from] DbErr),
}

/// The revisions the code knows, oldest first.
pub fn revisions() -> Vec<String> {
    Migrator::migrations()
        .iter()
        .map(|m| m.name().to_string())
        .collect()
}

/// The index of the revision named `spec`: its full name or any unique prefix.
pub fn resolve(spec: &str) -> Result<usize, MigrateError> {
    let names = revisions();
    if let Some(index) = names.iter().position(|name| name == spec) {
        return Ok(index);
    }
    let matches: Vec<usize> = names
        .iter()
        .enumerate()
        .filter(|(_, n)| n.starts_with(spec))
        .map(|(i, _)| i)
        .collect();
    match matches.as_slice() {
        [index] => Ok(*index),
        [] => Err(MigrateError::Revision(format!("unknown revision `{spec}`"))),
        many => Err(MigrateError::Revision(format!(
            "ambiguous revision `{spec}`: matches {}",
            many.iter()
                .map(|&i| names[i].as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// One revision as the database sees it.
pub struct RevisionState {
    pub name: String,
    pub applied_at: Option<i64>,
}

/// Every revision with when it was applied, without creating the version table.
pub async fn states(db: &DatabaseConnection) -> Result<Vec<RevisionState>, DbErr> {
    let recorded = if SchemaManager::new(db).has_table("seaql_migrations").await? {
        seaql_migrations::Entity::find().all(db).await?
    } else {
        Vec::new()
    };
    let known = revisions();
    if let Some(stranger) = recorded.iter().find(|row| !known.contains(&row.version)) {
        return Err(DbErr::Migration(format!(
            "the database records revision `{}`, which this build does not know (is the binary older than the database?)",
            stranger.version
        )));
    }
    Ok(known
        .into_iter()
        .map(|name| {
            let applied_at = recorded
                .iter()
                .find(|row| row.version == name)
                .map(|row| row.applied_at);
            RevisionState { name, applied_at }
        })
        .collect())
}

/// How many revisions are applied (they are always a prefix of the history).
pub async fn applied_count(db: &DatabaseConnection) -> Result<usize, DbErr> {
    let with_status = Migrator::get_migration_with_status_read_only(db).await?;
    Ok(with_status
        .iter()
        .filter(|m| m.status() == MigrationStatus::Applied)
        .count())
}

/// What `upgrade` should do: apply revisions `from..to` (indices into the history).
pub fn upgrade_range(applied: usize, target: &str) -> Result<(usize, usize), MigrateError> {
    let total = revisions().len();
    let to = match target {
        "head" => total,
        relative if relative.starts_with('+') => {
            let steps = parse_steps(relative, '+')?;
            if applied + steps > total {
                return Err(MigrateError::Revision(format!(
                    "cannot upgrade {steps} step(s): only {} revision(s) are pending",
                    total - applied
                )));
            }
            applied + steps
        }
        revision => resolve(revision)? + 1,
    };
    if to < applied {
        return Err(MigrateError::Revision(format!(
            "`{target}` is older than the current revision: use `downgrade`"
        )));
    }
    Ok((applied, to))
}

/// What `downgrade` should do: revert revisions `to..from`, newest first.
pub fn downgrade_range(applied: usize, target: &str) -> Result<(usize, usize), MigrateError> {
    let to = match target {
        "base" => 0,
        relative if relative.starts_with('-') => {
            let steps = parse_steps(relative, '-')?;
            if steps > applied {
                return Err(MigrateError::Revision(format!(
                    "cannot downgrade {steps} step(s): only {applied} revision(s) are applied"
                )));
            }
            applied - steps
        }
        // Down to, not including, the named revision: it stays applied.
        revision => resolve(revision)? + 1,
    };
    if to > applied {
        return Err(MigrateError::Revision(format!(
            "`{target}` is newer than the current revision: use `upgrade`"
        )));
    }
    Ok((applied, to))
}

fn parse_steps(text: &str, sign: char) -> Result<usize, MigrateError> {
    text.strip_prefix(sign)
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .ok_or_else(|| {
            MigrateError::Revision(format!("expected `{sign}N` with N ≥ 1, got `{text}`"))
        })
}

/// Applies `steps` pending revisions one at a time, so that a failure names its migration;
/// on PostgreSQL each runs in its own transaction and a failed one leaves no trace.
pub async fn upgrade(db: &DatabaseConnection, steps: usize) -> Result<(), DbErr> {
    let names = revisions();
    for _ in 0..steps {
        let next = applied_count(db).await?;
        Migrator::up(db, Some(1)).await.map_err(|error| {
            DbErr::Migration(format!(
                "migration {} failed: {error}",
                names.get(next).map_or("?", |n| n.as_str())
            ))
        })?;
    }
    Ok(())
}

/// Reverts `steps` revisions, newest first, one at a time.
pub async fn downgrade(db: &DatabaseConnection, steps: usize) -> Result<(), DbErr> {
    let names = revisions();
    for _ in 0..steps {
        let last = applied_count(db).await?;
        Migrator::down(db, Some(1)).await.map_err(|error| {
            let name = last
                .checked_sub(1)
                .and_then(|i| names.get(i))
                .map_or("?", |n| n.as_str());
            DbErr::Migration(format!("reverting migration {name} failed: {error}"))
        })?;
    }
    Ok(())
}

/// Records `count` first revisions as applied without running anything.
pub async fn stamp(db: &DatabaseConnection, count: usize) -> Result<(), DbErr> {
    Migrator::install(db).await?;
    let txn = db.begin().await?;
    seaql_migrations::Entity::delete_many().exec(&txn).await?;
    let now = unix_now();
    for name in revisions().into_iter().take(count) {
        let row = seaql_migrations::ActiveModel {
            version: sea_orm::Set(name),
            applied_at: sea_orm::Set(now),
        };
        seaql_migrations::Entity::insert(row).exec(&txn).await?;
    }
    txn.commit().await
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

#[derive(Clone, Copy)]
pub enum Direction {
    Up,
    Down,
}

/// The SQL of each migration in `from..to` (or `to..from` going down, newest first), captured
/// by running the migrations against a mock connection of the target database: nothing is
/// executed anywhere.
pub async fn sql_of(
    backend: DbBackend,
    direction: Direction,
    range: (usize, usize),
) -> Result<Vec<(String, Vec<String>)>, DbErr> {
    let migrations = Migrator::migrations();
    let selected: Vec<&Box<dyn MigrationTrait>> = match direction {
        Direction::Up => migrations[range.0..range.1].iter().collect(),
        Direction::Down => migrations[range.1..range.0].iter().rev().collect(),
    };
    let mut out = Vec::new();
    for migration in selected {
        let mock = MockDatabase::new(backend)
            .append_exec_results(std::iter::repeat_n(
                MockExecResult {
                    last_insert_id: 0,
                    rows_affected: 0,
                },
                1000,
            ))
            .into_connection();
        {
            let manager = SchemaManager::new(&mock);
            match direction {
                Direction::Up => migration.up(&manager).await?,
                Direction::Down => migration.down(&manager).await?,
            }
        }
        let statements = mock
            .into_transaction_log()
            .iter()
            .flat_map(|txn| txn.statements().iter().map(|s| s.to_string()))
            .collect();
        out.push((migration.name().to_string(), statements));
    }
    Ok(out)
}

/// A script that a person can apply with psql or sqlite3, including the version table, so the
/// result is the same as running the command online.
pub async fn offline_script(
    backend: DbBackend,
    direction: Direction,
    range: (usize, usize),
) -> Result<String, DbErr> {
    let mut script = String::new();
    let builder = backend;
    let version_table = Schema::new(backend)
        .create_table_from_entity(seaql_migrations::Entity)
        .if_not_exists()
        .to_owned();
    script.push_str(&format!("{};\n\n", builder.build(&version_table)));
    let transactional = backend == DbBackend::Postgres;
    let now = unix_now();
    for (name, statements) in sql_of(backend, direction, range).await? {
        script.push_str(&format!(
            "-- {} {name}\n",
            match direction {
                Direction::Up => "upgrade",
                Direction::Down => "downgrade",
            }
        ));
        if transactional {
            script.push_str("BEGIN;\n");
        }
        for statement in statements {
            script.push_str(&statement);
            script.push_str(";\n");
        }
        match direction {
            Direction::Up => script.push_str(&format!(
                "INSERT INTO \"seaql_migrations\" (\"version\", \"applied_at\") VALUES ('{name}', {now});\n"
            )),
            Direction::Down => {
                script.push_str(&format!("DELETE FROM \"seaql_migrations\" WHERE \"version\" = '{name}';\n"))
            }
        }
        if transactional {
            script.push_str("COMMIT;\n");
        }
        script.push('\n');
    }
    Ok(script)
}

/// The statements of a downgrade that destroy data (dropped tables and columns).
pub async fn destructive_statements(
    backend: DbBackend,
    range: (usize, usize),
) -> Result<Vec<String>, DbErr> {
    Ok(sql_of(backend, Direction::Down, range)
        .await?
        .into_iter()
        .flat_map(|(_, statements)| statements)
        .filter(|sql| {
            let upper = sql.to_ascii_uppercase();
            upper.starts_with("DROP TABLE") || upper.contains("DROP COLUMN")
        })
        .collect())
}

/// Splits a script made by `offline_script` into statements, for applying it programmatically.
pub fn split_script(script: &str) -> Vec<String> {
    script
        .split(";\n")
        .map(|chunk| {
            chunk
                .lines()
                .filter(|line| !line.starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .map(|chunk| chunk.trim().to_string())
        .filter(|chunk| !chunk.is_empty())
        .collect()
}

/// Runs `sql` statement by statement (used by tests to apply an offline script "by hand"). Give
/// it a single connection: the script's BEGIN/COMMIT must reach the same session.
pub async fn execute_script(db: &impl ConnectionTrait, script: &str) -> Result<(), DbErr> {
    for statement in split_script(script) {
        db.execute_unprepared(&statement).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_resolve_by_name_or_unique_prefix() {
        let names = revisions();
        assert_eq!(resolve(&names[0]).unwrap(), 0);
        assert_eq!(resolve("m20261126_000002").unwrap(), 1);
        assert!(
            matches!(resolve("m2026"), Err(MigrateError::Revision(m)) if m.contains("ambiguous"))
        );
        assert!(matches!(resolve("nope"), Err(MigrateError::Revision(m)) if m.contains("unknown")));
    }

    #[test]
    fn targets_become_ranges() {
        let total = revisions().len();
        assert_eq!(upgrade_range(0, "head").unwrap(), (0, total));
        assert_eq!(upgrade_range(0, "+1").unwrap(), (0, 1));
        assert_eq!(upgrade_range(0, "m20261126_000001").unwrap(), (0, 1));
        assert!(upgrade_range(0, "+99").is_err());
        assert!(upgrade_range(total, "m20261126_000001").is_err());
        assert_eq!(downgrade_range(total, "base").unwrap(), (total, 0));
        assert_eq!(downgrade_range(total, "-1").unwrap(), (total, total - 1));
        assert_eq!(
            downgrade_range(total, "m20261126_000001").unwrap(),
            (total, 1)
        );
        assert!(downgrade_range(1, "-2").is_err());
        assert!(downgrade_range(1, "1").is_err());
    }

    #[tokio::test]
    async fn offline_sql_covers_every_statement_and_the_version_table() {
        let total = revisions().len();
        for backend in [DbBackend::Sqlite, DbBackend::Postgres] {
            let script = offline_script(backend, Direction::Up, (0, total))
                .await
                .unwrap();
            assert!(script.contains("CREATE TABLE \"users\""), "{script}");
            assert!(
                script.contains("CREATE UNIQUE INDEX \"ux_users__email\""),
                "{script}"
            );
            assert_eq!(
                script.matches("INSERT INTO \"seaql_migrations\"").count(),
                total
            );
            let down = destructive_statements(backend, (total, 0)).await.unwrap();
            assert!(down.iter().any(|sql| sql.contains("\"users\"")), "{down:?}");
        }
    }
}
