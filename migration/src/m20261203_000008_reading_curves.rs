//! Hourly curves of the readings (issue 13): per POD, direction and Italian month, the
//! readings summed per hour and packed (`src/domain/curves.rs`), so that a settlement reads two
//! short values per member instead of every reading. Derived data: the binary rebuilds them
//! from `readings` after every write that touches readings, in the same transaction.
//!
//! `derived_rebuilds` names derived data that the binary must rebuild from the record before it
//! serves: this migration cannot build curves itself (the packing is the binary's), so it asks
//! for a rebuild of every stored reading's curves; the server and the CLI do it under the
//! migration lock right after migrating, then remove the request.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::batch;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let statements = match manager.get_database_backend() {
            DbBackend::Postgres => vec![
                "CREATE TABLE reading_curves (pod VARCHAR(15) NOT NULL, direction CHAR(1) NOT NULL, \
                 month_start BIGINT NOT NULL, data BYTEA NOT NULL, \
                 CONSTRAINT pk_reading_curves PRIMARY KEY (pod, direction, month_start))"
                    .to_string(),
                // Already packed: compressing it again costs time on every read and saves little.
                "ALTER TABLE reading_curves ALTER COLUMN data SET STORAGE EXTERNAL".to_string(),
                "CREATE TABLE derived_rebuilds (name VARCHAR(64) NOT NULL, \
                 CONSTRAINT pk_derived_rebuilds PRIMARY KEY (name))"
                    .to_string(),
                "INSERT INTO derived_rebuilds (name) VALUES ('reading_curves')".to_string(),
            ],
            _ => vec![
                "CREATE TABLE reading_curves (pod VARCHAR(15) NOT NULL, direction CHAR(1) NOT NULL, \
                 month_start BIGINT NOT NULL, data BLOB NOT NULL, \
                 CONSTRAINT pk_reading_curves PRIMARY KEY (pod, direction, month_start)) WITHOUT ROWID"
                    .to_string(),
                "CREATE TABLE derived_rebuilds (name VARCHAR(64) NOT NULL, \
                 CONSTRAINT pk_derived_rebuilds PRIMARY KEY (name))"
                    .to_string(),
                "INSERT INTO derived_rebuilds (name) VALUES ('reading_curves')".to_string(),
            ],
        };
        batch(manager, &statements).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        batch(
            manager,
            &[
                "DROP TABLE derived_rebuilds".to_string(),
                "DROP TABLE reading_curves".to_string(),
            ],
        )
        .await
    }
}
