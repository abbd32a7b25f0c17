//! The `condivisa` command line: one binary for the server and its operations.
use std::io::{IsTerminal, Read};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use migration::{Migrator, MigratorTrait};

use crate::app::Application;
use crate::bootstrap;
use crate::core::config::{Settings, redact_url};
use crate::core::security::PasswordService;
use crate::db;
use crate::telemetry;

/// condivisa — backend for renewable energy communities (CER, AUC, AID).
///
/// Configuration comes from environment variables, optionally from `condivisa.toml` (or the file
/// named by CONDIVISA_CONFIG); the environment wins. See README.md for every variable.
#[derive(Parser)]
#[command(name = "condivisa", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Start the HTTP server (the default when no command is given).
    Serve,
    /// Manage the database schema.
    #[command(subcommand)]
    Migrate(MigrateCommand),
    /// Create an admin account.
    CreateAdmin {
        /// The admin's email (also the login).
        #[arg(long)]
        email: String,
        #[arg(long)]
        full_name: Option<String>,
        /// Read the password from standard input instead of asking on the terminal.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
enum MigrateCommand {
    /// Apply pending migrations: `head` (all) or `+N` (the next N).
    Upgrade {
        #[arg(default_value = "head", allow_hyphen_values = true)]
        target: String,
    },
    /// Revert migrations: `-N` (the last N) or `base` (all).
    Downgrade {
        #[arg(allow_hyphen_values = true)]
        target: String,
    },
    /// Show the revision the database is at.
    Current,
    /// List every revision, oldest first, with its state.
    History,
}

pub async fn run() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("condivisa: {error}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(settings.log_format);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings).await,
        Command::Migrate(command) => migrate(settings, command).await,
        Command::CreateAdmin {
            email,
            full_name,
            password_stdin,
        } => create_admin(settings, email, full_name, password_stdin).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("condivisa: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    tracing::info!(database = %redact_url(&settings.database_url), "starting");
    let application = Application::build(settings).await?;
    tracing::info!(address = %application.local_addr()?, "listening; API docs at /docs");
    application.run_until_stopped().await?;
    Ok(())
}

async fn migrate(settings: Settings, command: MigrateCommand) -> anyhow::Result<()> {
    let db = db::connect(&settings).await?;
    match command {
        MigrateCommand::Upgrade { target } => {
            let steps = match target.as_str() {
                "head" => None,
                other => Some(parse_steps(other, '+')?),
            };
            db::with_migration_lock(&db, || Migrator::up(&db, steps)).await?;
            println!("upgraded to {}", current_revision(&db).await?);
        }
        MigrateCommand::Downgrade { target } => {
            let steps = match target.as_str() {
                "base" => None,
                other => Some(parse_steps(other, '-')?),
            };
            db::with_migration_lock(&db, || Migrator::down(&db, steps)).await?;
            println!("downgraded to {}", current_revision(&db).await?);
        }
        MigrateCommand::Current => println!("{}", current_revision(&db).await?),
        MigrateCommand::History => {
            for migration in Migrator::get_migration_with_status(&db).await? {
                println!("{} ({})", migration.name(), migration.status());
            }
        }
    }
    Ok(())
}

fn parse_steps(text: &str, sign: char) -> anyhow::Result<u32> {
    text.strip_prefix(sign)
        .and_then(|n| n.parse::<u32>().ok())
        .filter(|n| *n > 0)
        .ok_or_else(|| anyhow::anyhow!("expected `{sign}N` with N ≥ 1, got `{text}`"))
}

async fn current_revision(db: &sea_orm::DatabaseConnection) -> anyhow::Result<String> {
    let applied = Migrator::get_applied_migrations(db).await?;
    Ok(applied
        .last()
        .map(|m| m.name().to_string())
        .unwrap_or_else(|| "not migrated".to_string()))
}

async fn create_admin(
    settings: Settings,
    email: String,
    full_name: Option<String>,
    password_stdin: bool,
) -> anyhow::Result<()> {
    let password = if password_stdin {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        text.trim_end_matches(['\r', '\n']).to_string()
    } else if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Repeat password: ")?;
        if first != again {
            anyhow::bail!("the passwords do not match");
        }
        first
    } else {
        anyhow::bail!("no terminal to ask for the password: use --password-stdin");
    };
    let db = db::connect(&settings).await?;
    if settings.auto_migrate {
        db::migrate_to_head(&db).await?;
    }
    let admin =
        bootstrap::create_admin(&db, &PasswordService::new(), &email, &password, full_name).await?;
    println!("created admin {} (id {})", admin.email, admin.id);
    Ok(())
}
