//! The `condivisa` command line: one binary for the server and its operations.
use std::io::{IsTerminal, Read};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sea_orm::DbBackend;

use crate::app::Application;
use crate::bootstrap;
use crate::core::config::{DatabaseKind, Settings, redact_url};
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
    /// Import data files.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Settle a configuration's month (or each month of a year): store a preview run, print its
    /// totals, and with --finalize write it into the ledger.
    Settle {
        #[arg(long)]
        configuration: i32,
        /// `YYYY-MM`, or `YYYY` for each month of the year in turn.
        #[arg(long)]
        period: String,
        #[arg(long)]
        finalize: bool,
        /// With --finalize: finalise although readings or prices are missing, for this reason
        /// (the figures are then provisional; the reason is kept on the run and the ledger).
        #[arg(long, value_name = "REASON", requires = "finalize")]
        accept_incomplete: Option<String>,
        /// Whose name the ledger rows carry (an admin, referent or vendor's email); the first
        /// admin when absent.
        #[arg(long)]
        by: Option<String>,
    },
    /// Copy the database into FILE while the server may run: SQLite's online copy (`VACUUM
    /// INTO`, a database file to open as it is), PostgreSQL's `pg_dump --format=custom` (restore
    /// with `pg_restore --no-owner --dbname=URL FILE`). An existing FILE is refused.
    Backup { file: std::path::PathBuf },
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
enum ImportCommand {
    /// Import a meter-data file (long format or e-distribuzione "Curve di carico") into a
    /// configuration: all or nothing, re-importing the same file changes nothing.
    Readings {
        file: std::path::PathBuf,
        /// The configuration's id.
        #[arg(long)]
        configuration: i32,
        /// `long`, `edistribuzione`, `hourly_wide` or `distributor_xml` (detected from the
        /// content when absent).
        #[arg(long)]
        format: Option<String>,
        /// For e-distribuzione files whose name does not carry the POD.
        #[arg(long)]
        pod: Option<String>,
        /// `injection` or `withdrawal`, for e-distribuzione files whose name does not say.
        #[arg(long)]
        direction: Option<String>,
        /// 15 or 60, for long-format files without an interval column (default 15).
        #[arg(long)]
        interval_minutes: Option<u8>,
        /// Store values beyond their POD's physical bound (or that look like Wh) instead of
        /// rejecting the file; each is recorded as a warning on the import.
        #[arg(long)]
        allow_outliers: bool,
        /// Who imports (an admin, vendor or referent's email, recorded as the uploader); the
        /// first admin when absent.
        #[arg(long)]
        by: Option<String>,
    },
    /// Import members with their holders from a spreadsheet (CSV as Italian Excel saves it,
    /// or UTF-8; columns in the README): all or nothing, the same use case as
    /// `POST /api/v1/configurations/{id}/members/import`. Importing the same file again changes
    /// nothing.
    Members {
        file: std::path::PathBuf,
        /// The configuration's id.
        #[arg(long)]
        configuration: i32,
        /// Check every line (the database's rules included) and report; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Who imports (an admin, vendor or referent's email, recorded as the author of the
        /// holders' revisions and consents); the first admin when absent.
        #[arg(long)]
        by: Option<String>,
    },
    /// Import a zonal-price file, €/MWh: GME's MGP results as downloaded (`MGPPrezzi.xml`),
    /// GME's price table as CSV, or `timestamp;zone;eur_mwh[;interval_minutes]`, recognised
    /// from the content. All or nothing, the same use case as
    /// `POST /api/v1/market/zonal-prices`.
    Prices {
        file: std::path::PathBuf,
        /// `long`, `gme_xml`, `gme_table` or `gme_xlsx` (detected from the content when absent).
        #[arg(long)]
        format: Option<String>,
        /// Keep only this zone's prices (NORD, CNOR, CSUD, SUD, CALA, SICI, SARD); every
        /// Italian zone in the file when absent.
        #[arg(long)]
        zone: Option<String>,
        /// 15 or 60, for long-format files without an `interval_minutes` column (default 60).
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(["15", "60"]))]
        interval_minutes: Option<String>,
        /// Who imports (an admin's email); the first admin when absent.
        #[arg(long)]
        by: Option<String>,
    },
}

#[derive(Subcommand)]
enum MigrateCommand {
    /// Apply migrations: `head` (all pending), `+N` (the next N) or up to and including REVISION.
    Upgrade {
        /// `head`, `+N` or a revision (full name or unique prefix). With --sql, `FROM:TO` too.
        #[arg(default_value = "head", allow_hyphen_values = true)]
        target: String,
        /// Print the SQL for the target database instead of running it (offline: starts from
        /// `base` unless the target is `FROM:TO`; nothing is written).
        #[arg(long)]
        sql: bool,
    },
    /// Revert migrations: `-N` (the last N), down to (not including) REVISION, or `base` (all).
    Downgrade {
        #[arg(allow_hyphen_values = true)]
        target: String,
        /// Print the SQL instead of running it (offline: starts from `head` unless `FROM:TO`).
        #[arg(long)]
        sql: bool,
        /// Do not ask before dropping data.
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Show the revision the database is at.
    Current {
        #[arg(long, short)]
        verbose: bool,
    },
    /// List every revision, oldest first, marking applied, current and head.
    History {
        #[arg(long, short)]
        verbose: bool,
        /// Only revisions in FROM:TO (revisions, `base`, `head`; either side may be empty).
        #[arg(long)]
        range: Option<String>,
    },
    /// List the revisions not yet applied.
    Pending,
    /// Record REVISION (or `head`, `base`) as the current one without running anything.
    Stamp { revision: String },
    /// Compare the schema this build expects with the live database; non-zero on differences.
    Check,
    /// Create a new migration file in the migration crate and register it.
    Revision {
        /// What the migration does, e.g. "add user email column".
        #[arg(short, long)]
        message: String,
        /// Where the migration sources are.
        #[arg(long, default_value = "migration/src")]
        dir: std::path::PathBuf,
    },
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
        Command::Serve => serve(settings).await.map_err(CliError::Other),
        Command::Migrate(command) => migrate(settings, command).await,
        Command::Import(command) => import(settings, command).await,
        Command::Settle {
            configuration,
            period,
            finalize,
            accept_incomplete,
            by,
        } => {
            settle(
                settings,
                configuration,
                period,
                finalize,
                accept_incomplete,
                by,
            )
            .await
        }
        Command::Backup { file } => backup(settings, file).await,
        Command::CreateAdmin {
            email,
            full_name,
            password_stdin,
        } => create_admin(settings, email, full_name, password_stdin)
            .await
            .map_err(CliError::Other),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            match &error {
                CliError::Other(inner) => eprintln!("condivisa: {inner:#}"),
                other => eprintln!("condivisa: {other}"),
            }
            ExitCode::from(error.exit_code())
        }
    }
}

async fn backup(settings: Settings, file: std::path::PathBuf) -> Result<(), CliError> {
    // The schema is left as it is: a backup copies what is there, pending migrations included.
    let db = db::connect(&settings).await?;
    match db::backup::backup(&db, &settings.database_url, &file).await {
        Ok(done) => {
            println!(
                "backed up {} into {} ({} bytes) with {}",
                redact_url(&settings.database_url),
                file.display(),
                done.bytes,
                done.how
            );
            Ok(())
        }
        Err(error @ db::backup::BackupError::Exists(_)) => Err(CliError::Usage(error.to_string())),
        Err(error) => Err(CliError::Refused(error.to_string())),
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    tracing::info!(database = %redact_url(&settings.database_url), "starting");
    let application = Application::build(settings).await?;
    tracing::info!(address = %application.local_addr()?, "listening; API docs at /docs");
    application.run_until_stopped().await?;
    Ok(())
}

async fn migrate(settings: Settings, command: MigrateCommand) -> Result<(), CliError> {
    use crate::db::migrate::{self as workflow, Direction};
    let backend = match settings.database_kind() {
        DatabaseKind::Postgres => DbBackend::Postgres,
        DatabaseKind::Sqlite => DbBackend::Sqlite,
    };
    match command {
        MigrateCommand::Revision { message, dir } => {
            let path = crate::db::revision::create(&dir, &message, chrono::Utc::now())?;
            println!("created {}", path.display());
            return Ok(());
        }
        MigrateCommand::Upgrade { target, sql: true } => {
            let (from, to) = offline_range(&target, "base")?;
            let (start, end) = workflow::upgrade_range(from, &to)?;
            print!(
                "{}",
                workflow::offline_script(backend, Direction::Up, (start, end)).await?
            );
            return Ok(());
        }
        MigrateCommand::Downgrade {
            target, sql: true, ..
        } => {
            let (from, to) = offline_range(&target, "head")?;
            let (start, end) = workflow::downgrade_range(from, &to)?;
            print!(
                "{}",
                workflow::offline_script(backend, Direction::Down, (start, end)).await?
            );
            return Ok(());
        }
        _ => {}
    }
    let db = db::connect(&settings).await?;
    let names = workflow::revisions();
    match command {
        MigrateCommand::Upgrade { target, .. } => {
            db::with_migration_lock(&db, || async {
                let applied = workflow::applied_count(&db).await?;
                let (from, to) = workflow::upgrade_range(applied, &target).map_err(to_db_err)?;
                workflow::upgrade(&db, to - from).await
            })
            .await
            .map_err(from_db_err)?;
            println!("at {}", describe_current(&db).await?);
        }
        MigrateCommand::Downgrade { target, yes, .. } => {
            let applied = workflow::applied_count(&db).await?;
            let (from, to) = workflow::downgrade_range(applied, &target)?;
            let destructive = workflow::destructive_statements(backend, (from, to)).await?;
            if !destructive.is_empty() && !yes {
                eprintln!("This downgrade drops data:");
                for statement in &destructive {
                    eprintln!("  {statement}");
                }
                if !confirm("Proceed?")? {
                    return Err(CliError::Refused(
                        "downgrade cancelled: it drops data (pass --yes to run it without a terminal)".into(),
                    ));
                }
            }
            db::with_migration_lock(&db, || async {
                let applied = workflow::applied_count(&db).await?;
                let (from, to) = workflow::downgrade_range(applied, &target).map_err(to_db_err)?;
                workflow::downgrade(&db, from - to).await
            })
            .await
            .map_err(from_db_err)?;
            println!("at {}", describe_current(&db).await?);
        }
        MigrateCommand::Current { verbose } => {
            let states = workflow::states(&db).await?;
            match states.iter().rev().find(|s| s.applied_at.is_some()) {
                None => println!("not migrated"),
                Some(state) if verbose => {
                    let head = if state.name == names[names.len() - 1] {
                        " (head)"
                    } else {
                        ""
                    };
                    println!(
                        "{}{head} applied at {}",
                        state.name,
                        format_time(state.applied_at)
                    );
                }
                Some(state) => println!("{}", state.name),
            }
        }
        MigrateCommand::History { verbose, range } => {
            let states = workflow::states(&db).await?;
            let (start, end) = history_range(range.as_deref(), names.len())?;
            let current = states.iter().rposition(|s| s.applied_at.is_some());
            for (index, state) in states.iter().enumerate().take(end).skip(start) {
                let mut marks = Vec::new();
                if current == Some(index) {
                    marks.push("current");
                }
                if index == names.len() - 1 {
                    marks.push("head");
                }
                let status = if state.applied_at.is_some() {
                    "applied"
                } else {
                    "pending"
                };
                let marks = if marks.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", marks.join(", "))
                };
                println!("{:<48} {status}{marks}", state.name);
                if verbose {
                    println!(
                        "    description: {}",
                        crate::db::revision::description_of(&state.name)
                    );
                    println!("    file:        migration/src/{}.rs", state.name);
                    if state.applied_at.is_some() {
                        println!("    applied at:  {}", format_time(state.applied_at));
                    }
                }
            }
        }
        MigrateCommand::Pending => {
            let states = workflow::states(&db).await?;
            let pending: Vec<_> = states
                .into_iter()
                .filter(|s| s.applied_at.is_none())
                .collect();
            if pending.is_empty() {
                println!("no pending revisions");
            }
            for state in pending {
                println!("{}", state.name);
            }
        }
        MigrateCommand::Stamp { revision } => {
            let count = match revision.as_str() {
                "head" => names.len(),
                "base" => 0,
                spec => workflow::resolve(spec)? + 1,
            };
            db::with_migration_lock(&db, || workflow::stamp(&db, count)).await?;
            println!("stamped {}", describe_current(&db).await?);
        }
        MigrateCommand::Check => {
            let differences = crate::db::schema_check::check(&db, &settings.database_url).await?;
            if !differences.is_empty() {
                return Err(CliError::Drift(differences));
            }
            println!("the database schema matches this build");
        }
        MigrateCommand::Revision { .. } => unreachable!("handled before connecting"),
    }
    Ok(())
}

/// `FROM:TO` for offline SQL (where there is no database to ask where we are).
fn offline_range(target: &str, default_from: &str) -> Result<(usize, String), CliError> {
    use crate::db::migrate::{resolve, revisions};
    let (from, to) = match target.split_once(':') {
        Some((from, to)) => (from, to),
        None => (default_from, target),
    };
    let from = match from {
        "base" => 0,
        "head" => revisions().len(),
        spec => resolve(spec)? + 1,
    };
    Ok((from, to.to_string()))
}

fn history_range(range: Option<&str>, total: usize) -> Result<(usize, usize), CliError> {
    use crate::db::migrate::resolve;
    let Some(range) = range else {
        return Ok((0, total));
    };
    let (from, to) = range
        .split_once(':')
        .ok_or_else(|| CliError::Usage(format!("--range takes FROM:TO, got `{range}`")))?;
    let start = match from {
        "" | "base" => 0,
        spec => resolve(spec)?,
    };
    let end = match to {
        "" | "head" => total,
        spec => resolve(spec)? + 1,
    };
    Ok((start, end.max(start)))
}

async fn describe_current(db: &sea_orm::DatabaseConnection) -> Result<String, CliError> {
    let states = crate::db::migrate::states(db).await?;
    Ok(states
        .iter()
        .rev()
        .find(|s| s.applied_at.is_some())
        .map(|s| s.name.clone())
        .unwrap_or_else(|| "base (not migrated)".to_string()))
}

fn format_time(timestamp: Option<i64>) -> String {
    timestamp
        .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
        .map(|t| t.to_rfc3339())
        .unwrap_or_else(|| "-".to_string())
}

fn confirm(question: &str) -> Result<bool, CliError> {
    if !std::io::stdin().is_terminal() {
        return Ok(false);
    }
    eprint!("{question} [y/N] ");
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

const REVISION_ERROR_PREFIX: &str = "revision: ";

/// Carries a revision error through sea-orm's error type inside the migration lock.
fn to_db_err(error: crate::db::migrate::MigrateError) -> sea_orm::DbErr {
    sea_orm::DbErr::Custom(format!("{REVISION_ERROR_PREFIX}{error}"))
}

fn from_db_err(error: sea_orm::DbErr) -> CliError {
    match &error {
        sea_orm::DbErr::Custom(message) if message.starts_with(REVISION_ERROR_PREFIX) => {
            CliError::Revision(message[REVISION_ERROR_PREFIX.len()..].to_string())
        }
        _ => CliError::Other(error.into()),
    }
}

/// What went wrong, and so which exit code: 2 for usage and revision errors, 1 otherwise.
#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Revision(String),
    #[error("{0}")]
    Refused(String),
    #[error("the database schema differs from this build:\n  - {}", .0.join("\n  - "))]
    Drift(Vec<String>),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl CliError {
    fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) | CliError::Revision(_) => 2,
            _ => 1,
        }
    }
}

impl From<crate::db::migrate::MigrateError> for CliError {
    fn from(error: crate::db::migrate::MigrateError) -> Self {
        use crate::db::migrate::MigrateError;
        match error {
            MigrateError::Revision(message) => CliError::Revision(message),
            MigrateError::Database(error) => CliError::Other(error.into()),
        }
    }
}

impl From<sea_orm::DbErr> for CliError {
    fn from(error: sea_orm::DbErr) -> Self {
        CliError::Other(error.into())
    }
}

impl From<std::io::Error> for CliError {
    fn from(error: std::io::Error) -> Self {
        CliError::Other(error.into())
    }
}

async fn import(settings: Settings, command: ImportCommand) -> Result<(), CliError> {
    match command {
        ImportCommand::Prices {
            file,
            format,
            zone,
            interval_minutes,
            by,
        } => import_prices(settings, file, format, zone, interval_minutes, by).await,
        ImportCommand::Members {
            file,
            configuration,
            dry_run,
            by,
        } => import_members(settings, file, configuration, dry_run, by).await,
        readings => import_readings(settings, readings).await,
    }
}

async fn import_members(
    settings: Settings,
    file: std::path::PathBuf,
    configuration: i32,
    dry_run: bool,
    by: Option<String>,
) -> Result<(), CliError> {
    use crate::schemas::member_import::{ImportCounts, LineOutcome};
    let bytes = std::fs::read(&file)?;
    let db = open(&settings).await?;
    let actor = crate::service::Actor::of(&acting_user(&db, by.as_deref()).await?);
    let report = crate::service::member_import::import(&actor, &db, configuration, &bytes, dry_run)
        .await
        .map_err(|error| refused(&file.display().to_string(), error))?;
    let word = |outcome: LineOutcome| match outcome {
        LineOutcome::Created => "created",
        LineOutcome::Updated => "updated",
        LineOutcome::Unchanged => "unchanged",
    };
    // Only what changes is listed: a second import of the same file prints the totals alone.
    for line in &report.lines {
        if line.member == LineOutcome::Unchanged && line.holder == LineOutcome::Unchanged {
            continue;
        }
        let changes = |names: &[String]| {
            if names.is_empty() {
                String::new()
            } else {
                format!(" ({})", names.join(", "))
            }
        };
        println!(
            "  line {}: {} member {}{}, holder {} {}{}",
            line.line,
            line.pod,
            word(line.member),
            changes(&line.member_changes),
            line.fiscal_code,
            word(line.holder),
            if line.holder_line == line.line {
                changes(&line.holder_changes)
            } else {
                format!(" (line {})", line.holder_line)
            }
        );
    }
    let counts = |c: &ImportCounts| {
        format!(
            "{} created, {} updated, {} unchanged",
            c.created, c.updated, c.unchanged
        )
    };
    println!(
        "{} {} ({}, `{}`): {} line(s) — members {}; holders {}{}",
        if dry_run { "checked" } else { "imported" },
        file.display(),
        report.encoding,
        report.separator,
        report.rows,
        counts(&report.members),
        counts(&report.holders),
        if dry_run {
            " — dry run, nothing was written"
        } else {
            ""
        }
    );
    Ok(())
}

async fn import_readings(settings: Settings, command: ImportCommand) -> Result<(), CliError> {
    let ImportCommand::Readings {
        file,
        configuration,
        format,
        pod,
        direction,
        interval_minutes,
        allow_outliers,
        by,
    } = command
    else {
        return Err(CliError::Usage("not a readings import".into()));
    };
    let params = crate::schemas::energy::ImportParams {
        format,
        pod,
        direction,
        interval_minutes,
        file_name: file.file_name().map(|n| n.to_string_lossy().to_string()),
        allow_outliers: Some(allow_outliers),
    };
    let options = crate::imports::import_options(&params)
        .map_err(|(option, message)| CliError::Usage(format!("--{option}: {message}")))?;
    let db = open(&settings).await?;
    let actor = crate::service::Actor::of(&acting_user(&db, by.as_deref()).await?);
    let size = std::fs::metadata(&file)?.len();
    let reader =
        tokio::io::BufReader::with_capacity(256 * 1024, tokio::fs::File::open(&file).await?);
    let bar = byte_bar(size);
    let started = std::time::Instant::now();
    let result = crate::service::readings::import(
        &actor,
        &db,
        configuration,
        reader,
        options,
        allow_outliers,
        |bytes| {
            if let Some(bar) = &bar {
                bar.set_position(bytes);
            }
        },
    )
    .await;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    match result {
        Ok(s) => {
            let seconds = started.elapsed().as_secs_f64();
            println!(
                "imported {} ({}): {} rows, {} intervals, {} PODs — {} new, {} revised, {} unchanged — in {:.1} s ({:.0} intervals/s)",
                file.display(),
                s.format,
                s.rows,
                s.intervals,
                s.pods,
                s.new_values,
                s.revised_values,
                s.unchanged,
                seconds,
                s.intervals as f64 / seconds.max(1e-9)
            );
            Ok(())
        }
        Err(error) => Err(refused(&file.display().to_string(), error)),
    }
}

/// A progress bar over a file's bytes, on a terminal only.
fn byte_bar(size: u64) -> Option<indicatif::ProgressBar> {
    std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(size);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {bytes}/{total_bytes} [{bar:40}] {bytes_per_sec} ETA {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    })
}

/// A use case's refusal as the CLI says it: the problems by line, or why.
fn refused(what: &str, error: crate::service::ServiceError) -> CliError {
    use crate::service::{Place, ServiceError};
    match error {
        ServiceError::Invalid(problems) => {
            eprintln!("{what} was rejected, nothing was written:");
            for problem in &problems {
                let line = problem.place.iter().find_map(|p| match p {
                    Place::Line(line) => Some(*line),
                    _ => None,
                });
                // A spreadsheet's problems also name their column.
                let column = problem.place.iter().find_map(|p| match p {
                    Place::Field(name) => Some(name.as_str()),
                    _ => None,
                });
                match (line, column) {
                    (Some(line), Some(column)) => {
                        eprintln!("  line {line}, {column}: {}", problem.message)
                    }
                    (Some(line), None) => eprintln!("  line {line}: {}", problem.message),
                    (None, _) => eprintln!("  {}", problem.message),
                }
            }
            CliError::Refused(format!("{} problem(s)", problems.len()))
        }
        ServiceError::Forbidden | ServiceError::ForbiddenBecause(_) => {
            CliError::Usage("--by: that account may not do this".into())
        }
        ServiceError::NotFound(what) => {
            CliError::Usage(format!("{what} not found (or not in --by's scope)"))
        }
        ServiceError::Database(error) => CliError::Other(error.into()),
        ServiceError::Internal(error) => CliError::Other(error),
        other => CliError::Refused(format!("{what}: {other}")),
    }
}

/// Connects, migrating first if configured.
async fn open(settings: &Settings) -> Result<sea_orm::DatabaseConnection, CliError> {
    let db = db::connect(settings).await?;
    if settings.auto_migrate {
        db::migrate_to_head(&db).await?;
    }
    Ok(db)
}

/// Who a command acts as: `--by EMAIL` (an admin, vendor or referent), else the first admin.
async fn acting_user(
    db: &sea_orm::DatabaseConnection,
    by: Option<&str>,
) -> Result<crate::models::user::Model, CliError> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

    use crate::models::{enums::Role, user};
    Ok(match by {
        Some(email) => user::Entity::find()
            .filter(user::Column::Email.eq(email.to_lowercase()))
            .filter(user::Column::Role.ne(Role::User))
            .one(db)
            .await?
            .ok_or_else(|| {
                CliError::Usage(format!("--by: no admin, vendor or referent {email}"))
            })?,
        None => user::Entity::find()
            .filter(user::Column::Role.eq(Role::Admin))
            .order_by_asc(user::Column::Id)
            .one(db)
            .await?
            .ok_or_else(|| CliError::Usage("no admin account: pass --by EMAIL".into()))?,
    })
}

async fn import_prices(
    settings: Settings,
    file: std::path::PathBuf,
    format: Option<String>,
    zone: Option<String>,
    interval_minutes: Option<String>,
    by: Option<String>,
) -> Result<(), CliError> {
    use crate::domain::price_files::PriceFormat;
    use crate::models::enums::{MarketZone, TypedByPeople};
    use crate::service::ServiceError;
    use tokio::io::AsyncReadExt;
    let format = match format.as_deref() {
        None => None,
        Some(text) => Some(PriceFormat::parse(text).ok_or_else(|| {
            CliError::Usage("--format: `long`, `gme_xml`, `gme_table` or `gme_xlsx`".into())
        })?),
    };
    let zone = match zone.as_deref() {
        None => None,
        Some(text) => Some(MarketZone::from_typed(text).ok_or_else(|| {
            CliError::Usage(format!(
                "--zone: `{text}` is not one of NORD, CNOR, CSUD, SUD, CALA, SICI, SARD"
            ))
        })?),
    };
    let db = open(&settings).await?;
    let user = acting_user(&db, by.as_deref()).await?;
    let actor = crate::service::Actor::of(&user);
    let minutes = interval_minutes.map_or(60, |m| if m == "15" { 15 } else { 60 });
    let size = std::fs::metadata(&file)?.len();
    if size > crate::service::prices::MAX_PRICE_FILE_BYTES {
        return Err(CliError::Usage(format!(
            "{} is larger than {} MB: split it by month",
            file.display(),
            crate::service::prices::MAX_PRICE_FILE_BYTES / 1024 / 1024
        )));
    }
    // The file is read with the same progress bar as meter data, then handed over whole.
    let bar = byte_bar(size);
    let mut reader = tokio::fs::File::open(&file).await?;
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    let mut chunk = vec![0u8; 256 * 1024];
    loop {
        let n = reader.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        bytes.extend_from_slice(&chunk[..n]);
        if let Some(bar) = &bar {
            bar.set_position(bytes.len() as u64);
        }
    }
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let options = crate::service::prices::PriceImportOptions {
        format,
        default_minutes: minutes,
        zone,
    };
    let started = std::time::Instant::now();
    match crate::service::prices::import(&actor, &db, std::io::Cursor::new(bytes), options).await {
        Ok(s) => {
            println!(
                "imported {} ({}, import {}): {} prices in {} zone(s) {} from {} to {} — {} new, {} changed, {} unchanged — in {:.1} s",
                file.display(),
                s.format,
                s.import_id,
                s.rows,
                s.zones,
                s.zone_codes.join(", "),
                s.from.as_deref().unwrap_or("-"),
                s.to.as_deref().unwrap_or("-"),
                s.new_values,
                s.changed_values,
                s.unchanged,
                started.elapsed().as_secs_f64()
            );
            if !s.left_out.is_empty() {
                println!("left out (not an Italian zone): {}", s.left_out.join(", "));
            }
            if !s.other_zones.is_empty() {
                println!(
                    "other zones in the file, not imported: {}",
                    s.other_zones.join(", ")
                );
            }
            for gap in &s.gaps {
                println!(
                    "{} {}: {} of {} minutes have a price",
                    gap.zone, gap.day, gap.minutes_covered, gap.minutes_in_day
                );
            }
            Ok(())
        }
        Err(ServiceError::Forbidden) => Err(CliError::Usage(format!(
            "--by: {} may not import prices (admins only)",
            user.email
        ))),
        Err(error) => Err(refused(&file.display().to_string(), error)),
    }
}

async fn settle(
    settings: Settings,
    configuration: i32,
    period: String,
    finalize: bool,
    accept_incomplete: Option<String>,
    by: Option<String>,
) -> Result<(), CliError> {
    use crate::settlement::Period;
    let periods: Vec<Period> = match Period::parse(&period) {
        Some(month) => vec![month],
        None => {
            let year: i32 = period
                .parse()
                .ok()
                .filter(|y| (2000..=2100).contains(y))
                .ok_or_else(|| CliError::Usage("--period: must be YYYY-MM or YYYY".into()))?;
            (1..=12)
                .filter_map(|m| chrono::NaiveDate::from_ymd_opt(year, m, 1))
                .map(Period::of)
                .collect()
        }
    };
    let db = open(&settings).await?;
    let actor = crate::service::Actor::of(&acting_user(&db, by.as_deref()).await?);
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(periods.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar
    });
    let started = std::time::Instant::now();
    for period in periods {
        let label = period.label();
        let progress = |step: &str| {
            if let Some(bar) = &bar {
                bar.set_message(format!("{label}: {step}"));
            }
        };
        let month_started = std::time::Instant::now();
        let run =
            crate::service::settlements::preview(&actor, &db, configuration, period, &progress)
                .await
                .map_err(|e| refused(&label, e))?;
        let public = crate::schemas::settlement::SettlementPublic::from_model(run.clone(), run.id)
            .map_err(|e| CliError::Refused(e.to_string()))?;
        let (totals, money) = (&public.report.totals, &public.report.money);
        let line = format!(
            "{label}: run {} — shared {} kWh (incentivised {}), premium {} €, valorisation {} €, to members {} € — {:.2} s",
            run.id,
            totals.shared_kwh.round_dp(3),
            totals.incentivised_shared_kwh.round_dp(3),
            rust_decimal::Decimal::new(money.premium_cents, 2),
            rust_decimal::Decimal::new(money.valorisation_cents, 2),
            rust_decimal::Decimal::new(money.members_cents, 2),
            month_started.elapsed().as_secs_f64()
        );
        match &bar {
            Some(bar) => bar.println(line),
            None => println!("{line}"),
        }
        for problem in &public.report.problems {
            eprintln!("  {label}: {problem}");
        }
        if finalize {
            let (outcome, _, _) = crate::service::settlements::finalize(
                &actor,
                &db,
                run.id,
                accept_incomplete.clone().map(Some),
            )
            .await
            .map_err(|e| refused(&label, e))?;
            println!(
                "  finalised: {} ledger row(s){}",
                outcome.transactions_written,
                outcome
                    .corrects_run_id
                    .map(|id| format!(" (adjustments, correcting run {id})"))
                    .unwrap_or_default()
            );
        }
        if let Some(bar) = &bar {
            bar.inc(1);
        }
    }
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    println!("done in {:.2} s", started.elapsed().as_secs_f64());
    Ok(())
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
