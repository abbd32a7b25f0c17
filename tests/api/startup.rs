//! The binary and the start-up sequence: configuration errors, the admin CLI, migrations.
use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};

use condivisa::app::Application;
use condivisa::core::config::Settings;
use migration::{Migrator, MigratorTrait};

use crate::helpers::*;

fn condivisa(dir: &std::path::Path, env: &[(&str, &str)], args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_condivisa"));
    command
        .current_dir(dir)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (name, value) in env {
        command.env(name, value);
    }
    command
}

#[test]
fn a_bad_setting_stops_the_binary_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    for (name, value) in [
        ("BIND_ADDRESS", "not-an-address"),
        ("ACCESS_TOKEN_EXPIRE_MINUTES", "-5"),
        ("LOG_FORMAT", "xml"),
    ] {
        let output = condivisa(dir.path(), &[(name, value)], &["migrate", "current"])
            .output()
            .unwrap();
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(name), "{name}: {stderr}");
    }
}

#[test]
fn the_toml_file_is_read_and_the_environment_wins() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("condivisa.toml"), "log_format = \"xml\"\n").unwrap();
    let output = condivisa(dir.path(), &[], &["migrate", "current"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&output.stderr).contains("LOG_FORMAT"));
    let output = condivisa(
        dir.path(),
        &[("LOG_FORMAT", "json")],
        &["migrate", "current"],
    )
    .output()
    .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "not migrated"
    );

    std::fs::write(dir.path().join("condivisa.toml"), "datbase_url = \"x\"\n").unwrap();
    let output = condivisa(dir.path(), &[], &["migrate", "current"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown setting `datbase_url`"));
}

#[test]
fn postgres_without_a_secret_key_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let output = condivisa(
        dir.path(),
        &[("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")],
        &["serve"],
    )
    .output()
    .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("SECRET_KEY"));
}

#[test]
fn create_admin_reads_the_password_from_stdin_and_migrates() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = condivisa(
        dir.path(),
        &[],
        &[
            "create-admin",
            "--email",
            "Ops@Example.com",
            "--password-stdin",
        ],
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"ops-password-1\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("created admin ops@example.com"));
    assert!(dir.path().join("condivisa.db").exists());

    let current = condivisa(dir.path(), &[], &["migrate", "current"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&current.stdout).starts_with("m2026"));

    // Without a terminal and without --password-stdin there is nobody to ask.
    let output = condivisa(
        dir.path(),
        &[],
        &["create-admin", "--email", "x@example.com"],
    )
    .stdin(Stdio::null())
    .output()
    .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--password-stdin"));
}

#[tokio::test]
async fn the_embedded_default_keeps_its_generated_secret_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("c.db").display());
    let values: HashMap<String, String> = [
        ("DATABASE_URL", url.as_str()),
        ("BIND_ADDRESS", "127.0.0.1:0"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let settings = Settings::from_values(&values).unwrap();
    let first = condivisa::bootstrap::resolve_secret_key(&settings).unwrap();
    let second = condivisa::bootstrap::resolve_secret_key(&settings).unwrap();
    assert_eq!(first, second);
    assert!(first.len() >= 32);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("c.db.secret_key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the secret file must be private");
    }
}

#[tokio::test]
async fn instances_starting_together_migrate_once_and_create_one_admin() {
    let app = spawn_app().await;
    Migrator::down(&app.db, None).await.unwrap();
    assert!(
        Migrator::get_applied_migrations(&app.db)
            .await
            .unwrap()
            .is_empty()
    );

    let url = app.database_url.clone();
    let build = |url: String| async move {
        let values: HashMap<String, String> = [
            ("DATABASE_URL", url.as_str()),
            ("BIND_ADDRESS", "127.0.0.1:0"),
            ("SECRET_KEY", SECRET_KEY),
            ("FIRST_SUPERUSER_EMAIL", ADMIN_EMAIL),
            ("FIRST_SUPERUSER_PASSWORD", ADMIN_PASSWORD),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        Application::build(Settings::from_values(&values).unwrap()).await
    };
    let (a, b, c) = tokio::join!(build(url.clone()), build(url.clone()), build(url));
    a.unwrap();
    b.unwrap();
    c.unwrap();
    let applied = Migrator::get_applied_migrations(&app.db).await.unwrap();
    assert_eq!(applied.len(), Migrator::migrations().len());
    let admins = condivisa::crud::users::count_active_admins(&app.db)
        .await
        .unwrap();
    assert_eq!(admins, 1);
}
