//! The import's transaction on PostgreSQL: `COPY` for bulk rows, an advisory lock for the
//! configuration, temporary tables dropped at commit, a generous `work_mem` for the merge.
use std::fmt::Write;

use sea_orm::DatabaseConnection;
use sea_orm::sqlx::{self, Postgres, Transaction};

use super::{ImportTxn, STAGING_COLUMNS, Store, direction_code};
use crate::domain::meter_files::Reading;

pub(super) struct PgStore;

pub(super) struct PgImport(Transaction<'static, Postgres>);

#[async_trait::async_trait]
impl Store for PgStore {
    async fn begin_import(
        &self,
        db: &DatabaseConnection,
    ) -> Result<Box<dyn ImportTxn>, sqlx::Error> {
        let mut txn = PgImport(db.get_postgres_connection_pool().begin().await?);
        // The merge hashes millions of staged rows: keep that in memory, for this transaction only.
        txn.execute("SET LOCAL work_mem = '256MB'").await?;
        Ok(Box::new(txn))
    }

    async fn refresh_statistics(&self, db: &DatabaseConnection) -> Result<(), sqlx::Error> {
        let pool = db.get_postgres_connection_pool();
        sqlx::query("ANALYZE readings").execute(pool).await?;
        sqlx::query("ANALYZE configuration_hours")
            .execute(pool)
            .await?;
        Ok(())
    }
}

impl PgImport {
    /// Sends rows to a `COPY … FROM STDIN` in its text format, a chunk at a time: PostgreSQL
    /// stores the first chunk while the next is formatted, instead of waiting for the batch.
    async fn copy<'r>(
        &mut self,
        statement: &str,
        rows: &[&'r Reading],
        line: impl Fn(&mut String, &'r Reading),
    ) -> Result<(), sqlx::Error> {
        const CHUNK: usize = 4096;
        let mut copy = self.0.copy_in_raw(statement).await?;
        let mut text = String::with_capacity(CHUNK * 48);
        for chunk in rows.chunks(CHUNK) {
            text.clear();
            for r in chunk {
                line(&mut text, r);
            }
            copy.send(text.as_bytes()).await?;
        }
        copy.finish().await?;
        Ok(())
    }
}

super::import_txn! { PgImport {
    fn temporary_table(&self, name: &str, columns: &str) -> String {
        format!("CREATE TEMPORARY TABLE {name} ({columns}) ON COMMIT DROP")
    }

    fn writes_directly(&self) -> bool {
        true
    }

    async fn write_readings(
        &mut self,
        rows: &[&Reading],
        import_id: i32,
    ) -> Result<(), sqlx::Error> {
        self.copy(
            "COPY readings (pod, direction, interval_start, interval_minutes, wh, revision, import_id) FROM STDIN",
            rows,
            |text, r| {
                let _ = writeln!(
                    text,
                    "{}\t{}\t{}\t{}\t{}\t1\t{import_id}",
                    r.pod,
                    direction_code(r.direction),
                    r.interval_start,
                    r.interval_minutes,
                    r.wh,
                );
            },
        )
        .await
    }

    async fn stage(&mut self, rows: &[&Reading]) -> Result<(), sqlx::Error> {
        self.copy(
            &format!("COPY import_staging ({STAGING_COLUMNS}) FROM STDIN"),
            rows,
            |text, r| {
                let _ = writeln!(
                    text,
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    r.pod,
                    direction_code(r.direction),
                    r.interval_start,
                    r.interval_minutes,
                    r.wh,
                    r.line
                );
            },
        )
        .await
    }

    async fn lock_configuration(&mut self, configuration_id: i32) -> Result<(), sqlx::Error> {
        // The key membership changes take (`crud::write_lock`).
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind(format!("configuration:{configuration_id}"))
            .execute(&mut *self.0)
            .await
            .map(drop)
    }

    async fn commit(self: Box<Self>) -> Result<(), sqlx::Error> {
        self.0.commit().await
    }
}}
