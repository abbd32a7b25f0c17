//! Connecting to SQLite or PostgreSQL (picked by the URL) and migrating under a lock.
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr};

use crate::core::config::Settings;

/// Any constant will do, as long as every instance uses the same one ("condivisa" in ASCII).
const MIGRATION_LOCK_KEY: i64 = 0x636f_6e64_6976_6973;

pub mod backup;
pub mod migrate;
pub mod revision;
pub mod schema_check;
mod sqlite_memory;
mod sqlite_plans;

pub async fn connect(settings: &Settings) -> Result<DatabaseConnection, DbErr> {
    connect_url(
        &settings.database_url,
        settings.database_pool_size,
        settings.database_acquire_timeout,
    )
    .await
}

pub async fn connect_url(
    url: &str,
    pool_size: u32,
    acquire_timeout: Duration,
) -> Result<DatabaseConnection, DbErr> {
    if url.starts_with("sqlite:") {
        sqlite_memory::install();
    }
    let mut options = ConnectOptions::new(url.to_string());
    options
        .max_connections(pool_size)
        .min_connections(0)
        .acquire_timeout(acquire_timeout)
        .connect_timeout(acquire_timeout)
        // sqlx pings a connection on every acquire by default: a second round trip for every
        // statement. A connection in use is known to be alive; one idle for a while is checked.
        .test_before_acquire_if_idle_for(Duration::from_secs(30))
        // SeaORM logs every statement at INFO by default: far too much, and it can carry data.
        .sqlx_logging(false)
        .map_sqlx_postgres_opts(|options| {
            // PostgreSQL's default random_page_cost (4) prices a heap page fetched through an
            // index as if it came from a spinning disk. With the working set in memory that
            // makes it walk the primary key and filter ~450 rows for a members page instead of
            // reading its 50 rows through (configuration_id, id): pgbench on the page's
            // statement, 2,430 → 2,710–3,270 tps (BENCHMARKS.md). 1.1 is the usual value for
            // SSDs; a DATABASE_URL that sets it (`options=-c random_page_cost=…`) wins.
            let chosen = options
                .get_options()
                .is_some_and(|given| given.contains("random_page_cost"));
            if chosen {
                options
            } else {
                options.options([("random_page_cost", "1.1")])
            }
        })
        .map_sqlx_sqlite_opts(|options| {
            use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
            options
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                // sqlx hands a statement's rows from the connection's thread to the request
                // through a channel of 50 by default: a page of 50 rows and its closing result
                // filled it, and that thread stopped until the request had taken a row. Room
                // for the largest page (1,000 rows) keeps it running; the channel allocates only
                // what a statement sends. Members page on SQLite +1.8 %, +3.5 % (BENCHMARKS.md).
                .row_buffer_size(1024)
        });
    Database::connect(options).await
}

/// Applies every pending migration, then creates the readings' monthly partitions and rebuilds
/// the derived data a migration asked for, under the migration lock.
pub async fn migrate_to_head(db: &DatabaseConnection) -> Result<(), DbErr> {
    with_migration_lock(db, || async {
        Migrator::up(db, None).await?;
        // PostgreSQL's monthly partitions of the readings, then the derived data a migration
        // asked for, before anything reads them.
        let today = chrono::Utc::now()
            .with_timezone(&chrono_tz::Europe::Rome)
            .date_naive();
        crate::crud::partitions::ensure_reading_partitions(db, today).await?;
        crate::crud::curves::rebuild_if_requested(db).await
    })
    .await
}

/// Runs `job` while holding the migration lock, so that instances starting together migrate
/// one after the other and the later ones find nothing to do (sea-orm-migration takes no lock of
/// its own). PostgreSQL: a session-level advisory lock. SQLite: an OS lock on a file beside the
/// database, since processes sharing a SQLite file share a host.
pub async fn with_migration_lock<F, Fut, T>(db: &DatabaseConnection, job: F) -> Result<T, DbErr>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<T, DbErr>>,
{
    match db.get_database_backend() {
        DbBackend::Postgres => with_advisory_lock(db, job).await,
        DbBackend::Sqlite => {
            let database = db
                .get_sqlite_connection_pool()
                .connect_options()
                .get_filename()
                .to_path_buf();
            if database.as_os_str().is_empty() || database.to_string_lossy().contains(":memory:") {
                return job().await;
            }
            let mut lock_path = database.into_os_string();
            lock_path.push(".migration-lock");
            let lock_error = |e: std::io::Error| DbErr::Custom(format!("migration lock: {e}"));
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&lock_path)
                .map_err(lock_error)?;
            let file = tokio::task::spawn_blocking(move || file.lock().map(|()| file))
                .await
                .map_err(|e| DbErr::Custom(format!("migration lock: {e}")))?
                .map_err(lock_error)?;
            let result = job().await;
            drop(file); // closing the file releases the lock
            result
        }
        _ => job().await,
    }
}

async fn with_advisory_lock<F, Fut, T>(db: &DatabaseConnection, job: F) -> Result<T, DbErr>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<T, DbErr>>,
{
    use sea_orm::sqlx::{Connection, PgConnection};
    // A connection of its own, outside the pool: the migrations run through the pool, which
    // may hold a single connection (`DATABASE_POOL_SIZE=1`).
    let options = db.get_postgres_connection_pool().connect_options();
    let mut lock_connection = PgConnection::connect_with(&options)
        .await
        .map_err(|e| DbErr::Custom(format!("migration lock: {e}")))?;
    sea_orm::sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(MIGRATION_LOCK_KEY)
        .execute(&mut lock_connection)
        .await
        .map_err(|e| DbErr::Custom(format!("migration lock: {e}")))?;
    let result = job().await;
    // Closing the session releases the lock whatever happened to the unlock.
    let _ = sea_orm::sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(MIGRATION_LOCK_KEY)
        .execute(&mut lock_connection)
        .await;
    let _ = lock_connection.close().await;
    result
}

/// The readiness probe: does the database answer?
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.execute_unprepared("SELECT 1").await.is_ok()
}
