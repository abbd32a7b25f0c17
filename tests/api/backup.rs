//! `condivisa backup`, and a restore a sceptic would check: the copy of a database with a
//! finalised month, restored into a fresh database, passes `migrate check` and settles the same.
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::helpers::{TestApp, scalar_i64, spawn_app};
use crate::settlement::{complete_small_march, world};

fn succeeded(output: &std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// A settlement's printout without its timings (`… — 0.05 s`, `done in …`).
fn figures(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter(|l| !l.starts_with("done in"))
        .map(|l| match l.rsplit_once(" — ") {
            Some((figures, timing)) if timing.ends_with(" s") => figures.to_string(),
            _ => l.to_string(),
        })
        .collect()
}

/// The backup restored as the documented commands do: the SQLite file opened as it is, the
/// PostgreSQL dump restored with `pg_restore` into a new database. Its URL, and the database
/// to drop after (PostgreSQL).
async fn restore(app: &TestApp, file: &std::path::Path) -> (String, Option<String>) {
    if app.db.get_database_backend() != DbBackend::Postgres {
        return (format!("sqlite://{}?mode=rw", file.display()), None);
    }
    let (server, name) = app.database_url.rsplit_once('/').unwrap();
    let restored = format!("{name}_restored");
    app.db
        .execute_unprepared(&format!("CREATE DATABASE \"{restored}\""))
        .await
        .unwrap();
    let url = format!("{server}/{restored}");
    succeeded(
        &std::process::Command::new("pg_restore")
            .args(["--no-owner", "--exit-on-error", "--dbname", &url])
            .arg(file)
            .output()
            .unwrap(),
    );
    (url, Some(restored))
}

#[tokio::test]
async fn a_backup_restored_into_a_fresh_database_settles_the_same() {
    let app = spawn_app().await;
    let w = world(&app).await;
    complete_small_march(&app, &w).await;
    let configuration = w.configuration.to_string();
    let settle = [
        "settle",
        "--configuration",
        &configuration,
        "--period",
        "2025-03",
    ];
    let finalised = succeeded(&app.cli(&[&settle[..], &["--finalize"]].concat()));
    assert!(finalised.contains("finalised:"), "{finalised}");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("condivisa.backup");
    let path = file.to_str().unwrap();
    let done = succeeded(&app.cli(&["backup", path]));
    assert!(done.contains("backed up") && done.contains(path), "{done}");
    // A backup never overwrites one.
    let again = app.cli(&["backup", path]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("never overwrites"));

    let (url, restored_database) = restore(&app, &file).await;
    succeeded(&app.cli_on(&url, &["migrate", "check"]));

    // The ledger and the runs came across whole, and a re-run settles to the same figures.
    let copy = sea_orm::Database::connect(&url).await.unwrap();
    for table in [
        "transactions",
        "settlement_runs",
        "readings",
        "zonal_prices",
    ] {
        let sql = format!("SELECT CAST(COUNT(*) AS BIGINT) FROM {table}");
        assert_eq!(
            scalar_i64(&app.db, &sql).await,
            scalar_i64(&copy, &sql).await,
            "{table}"
        );
    }
    let original = figures(&succeeded(&app.cli(&settle)));
    let restored = figures(&succeeded(&app.cli_on(&url, &settle)));
    assert!(
        original.iter().any(|l| l.contains("premium")),
        "{original:?}"
    );
    assert_eq!(original, restored);

    copy.close().await.unwrap();
    if let Some(name) = restored_database {
        app.db
            .execute_raw(Statement::from_string(
                DbBackend::Postgres,
                format!("DROP DATABASE \"{name}\" WITH (FORCE)"),
            ))
            .await
            .unwrap();
    }
}
