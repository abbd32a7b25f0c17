//! `condivisa backup FILE`: a consistent copy of the database while the server runs.
//!
//! - SQLite: `VACUUM INTO`, SQLite's own online copy — one transaction, so the file is the
//!   database as of one instant, compacted, and can be opened as it is (`DATABASE_URL=sqlite://FILE`).
//! - PostgreSQL: `pg_dump --format=custom`, which also reads one snapshot; restore it into an
//!   empty database with `pg_restore --no-owner --dbname=URL FILE`, then `condivisa migrate
//!   check`. `pg_dump` must be on the `PATH` and of the server's major version or newer.
//!
//! A backup never overwrites a file: an existing `FILE` is refused.
use std::path::Path;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

/// What a backup did, for the person who ran it.
#[derive(Debug)]
pub struct BackupDone {
    pub bytes: u64,
    pub how: &'static str,
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} exists: a backup never overwrites a file, choose a new name")]
    Exists(String),
    #[error(
        "pg_dump is not installed (PostgreSQL's client tools): install it, e.g. `apt-get install postgresql-client`"
    )]
    NoPgDump,
    #[error("pg_dump failed: {0}")]
    PgDump(String),
    #[error(transparent)]
    Database(#[from] sea_orm::DbErr),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Copies the database at `database_url` (open as `db`) into `file`.
pub async fn backup(
    db: &DatabaseConnection,
    database_url: &str,
    file: &Path,
) -> Result<BackupDone, BackupError> {
    if file.exists() {
        return Err(BackupError::Exists(file.display().to_string()));
    }
    let how = match db.get_database_backend() {
        DbBackend::Postgres => {
            let mut command = std::process::Command::new("pg_dump");
            command
                .arg("--format=custom")
                .arg("--no-owner")
                .arg("--file")
                .arg(file)
                .arg(database_url);
            // pg_dump runs for as long as the database takes to copy: off the async threads.
            let output = tokio::task::spawn_blocking(move || command.output())
                .await
                .map_err(|e| BackupError::Io(std::io::Error::other(e)))?
                .map_err(|e| match e.kind() {
                    std::io::ErrorKind::NotFound => BackupError::NoPgDump,
                    _ => BackupError::Io(e),
                })?;
            if !output.status.success() {
                // pg_dump's message names the problem; the URL (and its password) is not in it.
                let _ = std::fs::remove_file(file);
                return Err(BackupError::PgDump(
                    String::from_utf8_lossy(&output.stderr).trim().to_string(),
                ));
            }
            "pg_dump --format=custom (restore with pg_restore --no-owner --dbname=URL FILE)"
        }
        backend => {
            db.execute_raw(Statement::from_sql_and_values(
                backend,
                "VACUUM INTO ?",
                [file.to_string_lossy().to_string().into()],
            ))
            .await?;
            "SQLite VACUUM INTO (open it as DATABASE_URL=sqlite://FILE)"
        }
    };
    Ok(BackupDone {
        bytes: std::fs::metadata(file)?.len(),
        how,
    })
}
