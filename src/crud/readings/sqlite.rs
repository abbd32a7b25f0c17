//! The import's transaction on SQLite: `BEGIN IMMEDIATE` takes the database's write lock at
//! once (so a concurrent writer waits instead of failing half-way, and no other lock is needed),
//! rows go in as multi-row `INSERT`s, the temporary staging table is dropped before commit.
use sea_orm::DatabaseConnection;
use sea_orm::sqlx::{self, Sqlite, Transaction};

use super::{ImportTxn, STAGING_COLUMNS, Store, direction_code};
use crate::domain::meter_files::Reading;

/// Rows per multi-row INSERT: 6 bound values each, under SQLite's 32 766 variables.
const BATCH: usize = 5000;

pub(super) struct SqliteStore;

pub(super) struct SqliteImport(Transaction<'static, Sqlite>);

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn begin_import(
        &self,
        db: &DatabaseConnection,
    ) -> Result<Box<dyn ImportTxn>, sqlx::Error> {
        let txn = db
            .get_sqlite_connection_pool()
            .begin_with("BEGIN IMMEDIATE")
            .await?;
        Ok(Box::new(SqliteImport(txn)))
    }

    /// SQLite's planner needs no statistics for these queries.
    async fn refresh_statistics(&self, _db: &DatabaseConnection) -> Result<(), sqlx::Error> {
        Ok(())
    }
}

impl SqliteImport {
    /// `INSERT INTO {table} ({columns}) VALUES (?,…),…` in batches, one row of `values` per reading.
    async fn insert_rows(
        &mut self,
        table_and_columns: &str,
        rows: &[&Reading],
        import_id: Option<i32>,
    ) -> Result<(), sqlx::Error> {
        let placeholders = if import_id.is_some() {
            "(?,?,?,?,?,1,?)"
        } else {
            "(?,?,?,?,?,?)"
        };
        for chunk in rows.chunks(BATCH) {
            let mut sql = String::with_capacity(40 + chunk.len() * (placeholders.len() + 1));
            sql.push_str("INSERT INTO ");
            sql.push_str(table_and_columns);
            sql.push_str(" VALUES ");
            for i in 0..chunk.len() {
                if i > 0 {
                    sql.push(',');
                }
                sql.push_str(placeholders);
            }
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for r in chunk {
                query = query
                    .bind(r.pod.as_str())
                    .bind(direction_code(r.direction))
                    .bind(r.interval_start)
                    .bind(i64::from(r.interval_minutes))
                    .bind(r.wh);
                query = match import_id {
                    Some(id) => query.bind(id),
                    None => query.bind(r.line as i64),
                };
            }
            query.execute(&mut *self.0).await?;
        }
        Ok(())
    }
}

super::import_txn! { SqliteImport {
    fn temporary_table(&self, name: &str, columns: &str) -> String {
        format!("CREATE TEMPORARY TABLE {name} ({columns})")
    }

    fn writes_directly(&self) -> bool {
        // Multi-row inserts gain nothing over staging here; every row goes through the merge.
        false
    }

    async fn write_readings(
        &mut self,
        rows: &[&Reading],
        import_id: i32,
    ) -> Result<(), sqlx::Error> {
        self.insert_rows(
            "readings (pod, direction, interval_start, interval_minutes, wh, revision, import_id)",
            rows,
            Some(import_id),
        )
        .await
    }

    async fn stage(&mut self, rows: &[&Reading]) -> Result<(), sqlx::Error> {
        self.insert_rows(&format!("import_staging ({STAGING_COLUMNS})"), rows, None)
            .await
    }

    /// `BEGIN IMMEDIATE` already holds the database's write lock.
    async fn lock_configuration(&mut self, _configuration_id: i32) -> Result<(), sqlx::Error> {
        Ok(())
    }

    async fn commit(mut self: Box<Self>) -> Result<(), sqlx::Error> {
        // Temporary tables outlive the transaction on SQLite: drop it, or the next import on
        // this pooled connection would find it.
        self.execute("DROP TABLE import_staging").await?;
        self.0.commit().await
    }
}}
