//! The schema history of condivisa. Every schema change goes through a migration here; the
//! `condivisa migrate` CLI and the server's auto-migrate both drive this `Migrator`.
/// The engine itself, for the CLI (the version table, the schema manager).
pub use sea_orm_migration as engine;
pub use sea_orm_migration::prelude::*;

/// Runs `statements` as one batch, so that every statement runs on the same pooled connection
/// (see migration 5).
pub(crate) async fn batch(manager: &SchemaManager<'_>, statements: &[String]) -> Result<(), DbErr> {
    manager
        .get_connection()
        .execute_unprepared(&statements.join("; "))
        .await
        .map(|_| ())
}

/// Runs `statements` one after another on the migration's connection.
pub(crate) async fn each(manager: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    let connection = manager.get_connection();
    for statement in statements {
        connection.execute_unprepared(statement).await?;
    }
    Ok(())
}

/// [`each`], on SQLite only: for what PostgreSQL does another way or needs not at all.
pub(crate) async fn each_on_sqlite(
    manager: &SchemaManager<'_>,
    statements: &[&str],
) -> Result<(), DbErr> {
    if manager.get_database_backend() == sea_orm_migration::sea_orm::DbBackend::Postgres {
        return Ok(());
    }
    each(manager, statements).await
}

mod m20261126_000001_foundation;
mod m20261126_000002_communities;
mod m20261126_000003_meter_data;
mod m20261126_000004_settlement;
mod m20261126_000005_clustered_readings;
mod m20261201_000006_trusted_money;
mod m20261202_000007_hot_paths;
mod m20261203_000008_reading_curves;
mod m20261203_000009_partitioned_readings;
mod m20261204_000010_holders;
mod m20261204_000011_login_throttles;
mod m20261205_000012_mail_outbox;
mod m20261205_000013_join_requests;
mod m20261206_000014_money_out;
mod m20261206_000015_web_sessions;
mod m20261206_000016_member_counts;
mod m20261206_000017_sqlite_user_search;
mod m20261207_000018_iban_change_requests;
mod m20261207_000019_join_documents;
mod m20261208_000020_audit_events;
mod m20261209_000021_sqlite_user_search_merged;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_foundation::Migration),
            Box::new(m20261126_000002_communities::Migration),
            Box::new(m20261126_000003_meter_data::Migration),
            Box::new(m20261126_000004_settlement::Migration),
            Box::new(m20261126_000005_clustered_readings::Migration),
            Box::new(m20261201_000006_trusted_money::Migration),
            Box::new(m20261202_000007_hot_paths::Migration),
            Box::new(m20261203_000008_reading_curves::Migration),
            Box::new(m20261203_000009_partitioned_readings::Migration),
            Box::new(m20261204_000010_holders::Migration),
            Box::new(m20261204_000011_login_throttles::Migration),
            Box::new(m20261205_000012_mail_outbox::Migration),
            Box::new(m20261205_000013_join_requests::Migration),
            Box::new(m20261206_000014_money_out::Migration),
            Box::new(m20261206_000015_web_sessions::Migration),
            Box::new(m20261206_000016_member_counts::Migration),
            Box::new(m20261206_000017_sqlite_user_search::Migration),
            Box::new(m20261207_000018_iban_change_requests::Migration),
            Box::new(m20261207_000019_join_documents::Migration),
            Box::new(m20261208_000020_audit_events::Migration),
            Box::new(m20261209_000021_sqlite_user_search_merged::Migration),
        ]
    }
}
