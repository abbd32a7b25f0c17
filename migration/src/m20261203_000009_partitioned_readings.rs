//! PostgreSQL: `readings` becomes a table partitioned by range of `interval_start`, so that a
//! month's readings live in a table of their own (`readings_y2025m03`, Italian months), which an
//! operator can detach and archive (`ALTER TABLE readings DETACH PARTITION …`) and which a month's
//! queries read alone. This migration creates the partitioned table with its default partition
//! and moves the rows into it; the binary creates the monthly partitions (those around today and
//! every month that has rows in the default one, whose rows it moves) under the migration lock
//! before it serves (`crud::partitions`), since the months come with the data.
//!
//! SQLite keeps one table (clustered by its key, migration 5).
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::batch;

#[derive(DeriveMigrationName)]
pub struct Migration;

const COLUMNS: &str = "pod, direction, interval_start, interval_minutes, wh, revision, import_id";

const DEFINITION: &str = "pod varchar(15) COLLATE \"C\" NOT NULL, direction varchar(1) COLLATE \"C\" NOT NULL, \
     interval_start bigint NOT NULL, interval_minutes smallint NOT NULL, wh bigint NOT NULL, \
     revision integer NOT NULL, import_id integer NOT NULL, \
     CONSTRAINT pk_readings PRIMARY KEY (pod, direction, interval_start)";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        batch(
            manager,
            &[
                "ALTER TABLE readings RENAME TO readings_single".to_string(),
                "ALTER INDEX pk_readings RENAME TO pk_readings_single".to_string(),
                format!("CREATE TABLE readings ({DEFINITION}) PARTITION BY RANGE (interval_start)"),
                "CREATE TABLE readings_default PARTITION OF readings DEFAULT".to_string(),
                format!("INSERT INTO readings ({COLUMNS}) SELECT {COLUMNS} FROM readings_single"),
                "DROP TABLE readings_single".to_string(),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        batch(
            manager,
            &[
                "ALTER TABLE readings RENAME TO readings_partitioned".to_string(),
                "ALTER INDEX pk_readings RENAME TO pk_readings_partitioned".to_string(),
                format!("CREATE TABLE readings ({DEFINITION})"),
                format!(
                    "INSERT INTO readings ({COLUMNS}) SELECT {COLUMNS} FROM readings_partitioned"
                ),
                // The monthly partitions go with their parent.
                "DROP TABLE readings_partitioned".to_string(),
            ],
        )
        .await
    }
}
