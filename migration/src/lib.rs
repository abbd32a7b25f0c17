//! The schema history of condivisa. Every schema change goes through a migration here; the
//! `condivisa migrate` CLI and the server's auto-migrate both drive this `Migrator`.
/// The engine itself, for the CLI (the version table, the schema manager).
pub use sea_orm_migration as engine;
pub use sea_orm_migration::prelude::*;

mod m20261126_000001_foundation;
mod m20261126_000002_communities;
mod m20261126_000003_meter_data;
mod m20261126_000004_settlement;
mod m20261126_000005_clustered_readings;
mod m20261201_000006_trusted_money;

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
        ]
    }
}
