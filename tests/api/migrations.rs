//! `condivisa migrate …` against SQLite and PostgreSQL, through the real binary.
use std::process::{Command, Output, Stdio};

use condivisa::db::migrate::{execute_script, revisions};
use condivisa::db::schema_check::snapshot;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

use crate::helpers::*;

struct Cli {
    url: String,
    dir: tempfile::TempDir,
    _database: TestDatabase,
}

impl Cli {
    async fn new() -> Cli {
        let (url, database) = fresh_database().await;
        Cli {
            url,
            dir: tempfile::tempdir().unwrap(),
            _database: database,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_condivisa"));
        command
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", &self.url)
            .env("SECRET_KEY", SECRET_KEY)
            .env("RUST_LOG", "warn")
            .arg("migrate")
            .args(args)
            .stdin(Stdio::null());
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs and asserts success; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "migrate {args:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// One connection, like a psql or sqlite3 session: an offline script's BEGIN and COMMIT
    /// must reach the same connection as the statements between them.
    async fn connect(&self) -> DatabaseConnection {
        let mut options = sea_orm::ConnectOptions::new(self.url.clone());
        options.max_connections(1).sqlx_logging(false);
        Database::connect(options).await.unwrap()
    }

    fn current(&self) -> String {
        self.ok(&["current"]).trim().to_string()
    }
}

#[tokio::test]
async fn round_trip_upgrade_check_downgrade_upgrade() {
    let cli = Cli::new().await;
    let names = revisions();
    assert_eq!(cli.current(), "not migrated");
    cli.ok(&["upgrade", "head"]);
    assert_eq!(cli.current(), names[names.len() - 1]);
    assert!(cli.ok(&["check"]).contains("matches"));

    cli.ok(&["downgrade", "base", "--yes"]);
    assert_eq!(cli.current(), "not migrated");
    let db = cli.connect().await;
    assert!(
        snapshot(&db, None).await.unwrap().is_empty(),
        "downgrade base leaves no table behind"
    );
    let drift = cli.run(&["check"]);
    assert_eq!(drift.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&drift.stderr).contains("missing table `users`"));

    cli.ok(&["upgrade", "head"]);
    assert!(cli.ok(&["check"]).contains("matches"));
    db.close().await.unwrap();
}

#[tokio::test]
async fn stepwise_through_every_revision() {
    let cli = Cli::new().await;
    let names = revisions();
    for name in &names {
        cli.ok(&["upgrade", "+1"]);
        assert_eq!(&cli.current(), name);
    }
    let too_far = cli.run(&["upgrade", "+1"]);
    assert_eq!(too_far.status.code(), Some(2));
    for index in (0..names.len()).rev() {
        cli.ok(&["downgrade", "-1", "--yes"]);
        let expected = if index == 0 {
            "not migrated".to_string()
        } else {
            names[index - 1].clone()
        };
        assert_eq!(cli.current(), expected);
    }
    // By name: up to and including the first, then back down to (not including) it.
    cli.ok(&["upgrade", &names[0]]);
    assert_eq!(cli.current(), names[0]);
    cli.ok(&["upgrade", "head"]);
    cli.ok(&["downgrade", &names[0], "--yes"]);
    assert_eq!(cli.current(), names[0]);
}

#[tokio::test]
async fn history_pending_and_current_describe_the_state() {
    let cli = Cli::new().await;
    let names = revisions();
    cli.ok(&["upgrade", "+1"]);
    let history = cli.ok(&["history"]);
    let lines: Vec<&str> = history.lines().collect();
    assert_eq!(lines.len(), names.len());
    assert!(
        lines[0].starts_with(&names[0])
            && lines[0].contains("applied")
            && lines[0].contains("current")
    );
    assert!(lines[names.len() - 1].contains("pending") && lines[names.len() - 1].contains("head"));
    let verbose = cli.ok(&[
        "history",
        "--verbose",
        "--range",
        &format!("{}:{}", names[0], names[0]),
    ]);
    assert!(
        verbose.contains("description: foundation") && verbose.contains("applied at:"),
        "{verbose}"
    );
    assert_eq!(
        cli.ok(&["pending"]).lines().collect::<Vec<_>>(),
        names[1..].iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert!(cli.ok(&["current", "--verbose"]).contains("applied at"));
}

#[tokio::test]
async fn stamp_records_a_revision_without_running_it() {
    let cli = Cli::new().await;
    let names = revisions();
    cli.ok(&["stamp", "head"]);
    assert_eq!(cli.current(), names[names.len() - 1]);
    assert_eq!(cli.ok(&["pending"]).trim(), "no pending revisions");
    let db = cli.connect().await;
    assert!(
        snapshot(&db, None).await.unwrap().is_empty(),
        "stamp runs nothing"
    );
    cli.ok(&["stamp", "base"]);
    assert_eq!(cli.current(), "not migrated");
    cli.ok(&["stamp", &names[0][..16]]);
    assert_eq!(cli.current(), names[0]);
    db.close().await.unwrap();
}

#[tokio::test]
async fn offline_sql_applied_by_hand_gives_the_same_schema() {
    let cli = Cli::new().await;
    let script = cli.ok(&["upgrade", "head", "--sql"]);
    let db = cli.connect().await;
    assert!(
        snapshot(&db, None).await.unwrap().is_empty(),
        "--sql writes nothing"
    );
    assert_eq!(cli.current(), "not migrated");
    execute_script(&db, &script).await.unwrap();
    assert_eq!(cli.current(), revisions().last().unwrap().as_str());
    assert!(cli.ok(&["check"]).contains("matches"));

    let down = cli.ok(&["downgrade", "base", "--sql"]);
    execute_script(&db, &down).await.unwrap();
    assert_eq!(cli.current(), "not migrated");
    assert!(snapshot(&db, None).await.unwrap().is_empty());
    db.close().await.unwrap();
}

#[tokio::test]
async fn check_catches_hand_made_drift() {
    let cli = Cli::new().await;
    cli.ok(&["upgrade", "head"]);
    let db = cli.connect().await;
    db.execute_unprepared("ALTER TABLE users ADD COLUMN nickname varchar(20)")
        .await
        .unwrap();
    db.execute_unprepared("DROP INDEX ix_members__status")
        .await
        .unwrap();
    let output = cli.run(&["check"]);
    assert_eq!(output.status.code(), Some(1));
    let report = String::from_utf8_lossy(&output.stderr);
    assert!(report.contains("extra column `users.nickname`"), "{report}");
    assert!(
        report.contains("missing index `ix_members__status`"),
        "{report}"
    );
    db.close().await.unwrap();
}

#[tokio::test]
async fn bad_revisions_exit_with_code_2() {
    let cli = Cli::new().await;
    for args in [
        vec!["upgrade", "nonexistent"],
        vec!["upgrade", "m2026"],
        vec!["stamp", "zzz"],
        vec!["downgrade", "-1"],
    ] {
        let output = cli.run(&args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let ambiguous = cli.run(&["upgrade", "m2026"]);
    assert!(String::from_utf8_lossy(&ambiguous.stderr).contains("ambiguous"));
}

#[tokio::test]
async fn a_destructive_downgrade_needs_yes_without_a_terminal() {
    let cli = Cli::new().await;
    cli.ok(&["upgrade", "head"]);
    // The last two revisions drop columns, the one before only rebuilds the readings table
    // (data kept), the one before that drops the settlement tables.
    let refused = cli.run(&["downgrade", "-4"]);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("DROP TABLE") && stderr.contains("--yes"),
        "{stderr}"
    );
    assert_eq!(
        cli.current(),
        revisions().last().unwrap().as_str(),
        "nothing was reverted"
    );
}

#[tokio::test]
async fn a_failing_migration_is_named_and_leaves_the_previous_revision() {
    let cli = Cli::new().await;
    let names = revisions();
    cli.ok(&["upgrade", "+1"]);
    let db = cli.connect().await;
    // Someone created a table the next migration wants to create.
    db.execute_unprepared("CREATE TABLE configurations (id integer)")
        .await
        .unwrap();
    let output = cli.run(&["upgrade", "head"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&names[1]), "{stderr}");
    assert_eq!(cli.current(), names[0]);
    let tables = snapshot(&db, None).await.unwrap();
    assert!(
        !tables.contains_key("members"),
        "the failed migration left nothing behind"
    );
    db.close().await.unwrap();
}

#[tokio::test]
async fn concurrent_upgrades_both_succeed_and_apply_once() {
    let cli = Cli::new().await;
    let mut first = cli
        .command(&["upgrade", "head"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut second = cli
        .command(&["upgrade", "head"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(first.wait().unwrap().success());
    assert!(second.wait().unwrap().success());
    let db = cli.connect().await;
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT version FROM seaql_migrations",
        ))
        .await
        .unwrap();
    assert_eq!(rows.len(), revisions().len());
    assert!(cli.ok(&["check"]).contains("matches"));
    db.close().await.unwrap();
}

#[test]
fn revision_creates_a_registered_migration_file() {
    let dir = tempfile::tempdir().unwrap();
    let lib = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/migration/src/lib.rs"))
        .unwrap();
    std::fs::write(dir.path().join("lib.rs"), &lib).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_condivisa"))
        .current_dir(dir.path())
        .env("DATABASE_URL", "sqlite::memory:")
        .args([
            "migrate",
            "revision",
            "-m",
            "Add user email column",
            "--dir",
            ".",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let created: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|name| name.ends_with("_add_user_email_column.rs"))
        .collect();
    assert_eq!(created.len(), 1, "{created:?}");
    let module = created[0].trim_end_matches(".rs");
    assert!(
        module.starts_with('m') && module.len() == "m20261126_101500_add_user_email_column".len()
    );
    let registered = std::fs::read_to_string(dir.path().join("lib.rs")).unwrap();
    assert!(registered.contains(&format!("mod {module};")));
    assert!(registered.contains(&format!("Box::new({module}::Migration),")));
    let template = std::fs::read_to_string(dir.path().join(&created[0])).unwrap();
    assert!(template.contains("async fn up") && template.contains("async fn down"));
}

/// Migration 10 gives every existing member a draft holder of its own: the member's id and
/// holder type, in its configuration's organization, with a first revision; new holders take
/// ids after them (PostgreSQL's sequence moved past the copied ids).
#[tokio::test]
async fn existing_members_get_a_draft_holder_each() {
    let cli = Cli::new().await;
    let names = revisions();
    let holders = names
        .iter()
        .position(|n| n.contains("holders"))
        .expect("the holders migration");
    cli.ok(&["upgrade", &names[holders - 1]]);
    let db = cli.connect().await;
    let now = "'2026-12-01T00:00:00+00:00'";
    for statement in [
        format!(
            "INSERT INTO organizations (id, name, created_at, updated_at) VALUES (7, 'Org', {now}, {now})"
        ),
        format!(
            "INSERT INTO configurations (id, organization_id, name, type, status, primary_substation, \
             market_zone, region, created_at, updated_at) VALUES (3, 7, 'CER', 'CER', 'draft', \
             'AC001E00123', 'NORD', 'piemonte', {now}, {now})"
        ),
        format!(
            "INSERT INTO members (id, configuration_id, pod, role, holder_type, status, joined_at, \
             net_metering, created_at, updated_at) VALUES \
             (41, 3, 'IT001E00112233', 'consumer', 'sme', 'active', '2024-02-01', false, {now}, {now}), \
             (42, 3, 'IT001E00112234', 'producer', 'public_body', 'active', '2024-02-01', false, {now}, {now})"
        ),
    ] {
        db.execute_unprepared(&statement).await.unwrap();
    }
    cli.ok(&["upgrade", "head"]);
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT m.id, m.holder_id, h.kind, h.status, h.organization_id \
             FROM members m JOIN holders h ON h.id = m.holder_id ORDER BY m.id"
                .to_string(),
        ))
        .await
        .unwrap();
    let got: Vec<(i32, i32, String, String, i32)> = rows
        .iter()
        .map(|r| {
            (
                r.try_get_by_index(0).unwrap(),
                r.try_get_by_index(1).unwrap(),
                r.try_get_by_index(2).unwrap(),
                r.try_get_by_index(3).unwrap(),
                r.try_get_by_index(4).unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (41, 41, "sme".into(), "draft".into(), 7),
            (42, 42, "public_body".into(), "draft".into(), 7)
        ]
    );
    assert_eq!(
        scalar_i64(
            &db,
            "SELECT COUNT(*) FROM holder_revisions WHERE action = 'migrated'"
        )
        .await,
        2
    );
    db.execute_unprepared(&format!(
        "INSERT INTO holders (organization_id, kind, status, language, created_at, updated_at) \
         VALUES (7, 'sme', 'draft', 'it', {now}, {now})"
    ))
    .await
    .unwrap();
    assert_eq!(
        scalar_i64(&db, "SELECT CAST(MAX(id) AS BIGINT) FROM holders").await,
        43
    );
    db.close().await.unwrap();
}
