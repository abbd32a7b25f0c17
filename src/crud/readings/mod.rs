//! Bulk storage of meter readings: the hot path of the product, so it talks to the database
//! through raw sqlx on the pool SeaORM owns (PostgreSQL `COPY`, SQLite multi-row inserts).
//!
//! An import runs in ONE transaction: rows are staged in a temporary table, checked there
//! (duplicates within the file, membership of each POD at each instant) and merged into
//! `readings` with set-based statements. A value that changes moves the old one, with its
//! revision, to `reading_revisions`; a value that does not change is left alone, so importing
//! the same file twice writes nothing new.
use sea_orm::sqlx;
use sea_orm::{DatabaseConnection, DbBackend, DbErr};

/// `impl ImportTxn for $txn { … }` for a newtype over a sqlx transaction: the methods whose
/// statements and bindings are the same on both databases written once here, then the
/// backend's own (`$own`: bulk writes, locks, temporary tables, commit).
macro_rules! import_txn {
    ($txn:ty { $($own:tt)* }) => {
        #[async_trait::async_trait]
        impl super::ImportTxn for $txn {
            async fn execute(&mut self, sql: &str) -> Result<u64, sea_orm::sqlx::Error> {
                sea_orm::sqlx::query(sea_orm::sqlx::AssertSqlSafe(sql.to_string()))
                    .execute(&mut *self.0)
                    .await
                    .map(|r| r.rows_affected())
            }

            async fn fetch_i64s(&mut self, sql: &str) -> Result<Vec<Vec<i64>>, sea_orm::sqlx::Error> {
                use sea_orm::sqlx::Row;
                let rows = sea_orm::sqlx::query(sea_orm::sqlx::AssertSqlSafe(sql.to_string()))
                    .fetch_all(&mut *self.0)
                    .await?;
                rows.iter()
                    .map(|row| (0..row.len()).map(|i| row.try_get::<i64, _>(i)).collect())
                    .collect()
            }

            async fn fetch_texts(
                &mut self,
                sql: &str,
            ) -> Result<Vec<Vec<Option<String>>>, sea_orm::sqlx::Error> {
                use sea_orm::sqlx::Row;
                let rows = sea_orm::sqlx::query(sea_orm::sqlx::AssertSqlSafe(sql.to_string()))
                    .fetch_all(&mut *self.0)
                    .await?;
                rows.iter()
                    .map(|row| (0..row.len()).map(|i| row.try_get::<Option<String>, _>(i)).collect())
                    .collect()
            }

            async fn insert_import(
                &mut self,
                sql: &str,
                import: &super::ImportRecord,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<i32, sea_orm::sqlx::Error> {
                use sea_orm::sqlx::Row;
                sea_orm::sqlx::query(sea_orm::sqlx::AssertSqlSafe(sql.to_string()))
                    .bind(import.configuration_id)
                    .bind(import.kind)
                    .bind(import.source.as_str())
                    .bind(import.format.as_str())
                    .bind(import.uploaded_by)
                    .bind(import.rows as i64)
                    .bind(now)
                    .fetch_one(&mut *self.0)
                    .await?
                    .try_get::<i32, _>(0)
            }

            async fn set_warnings(
                &mut self,
                import_id: i32,
                warnings: &str,
            ) -> Result<(), sea_orm::sqlx::Error> {
                sea_orm::sqlx::query("UPDATE reading_imports SET warnings = $1 WHERE id = $2")
                    .bind(warnings)
                    .bind(import_id)
                    .execute(&mut *self.0)
                    .await
                    .map(drop)
            }

            $($own)*
        }
    };
}
use import_txn;

mod postgres;
mod sqlite;

use super::curves::ImportCurves;
use crate::domain::meter_files::{Direction, Reading};
use crate::domain::pod::Pod;

/// A member's POD over its membership (or the part of it a query looks at), as UNIX seconds
/// `[from, to)`: the one window type of imports, series and settlement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MembershipWindow {
    pub member_id: i32,
    /// A parsed code: the windows' SQL is built from it as a literal.
    pub pod: Pod,
    pub from: i64,
    pub to: i64,
}

/// `WITH m(member_id, pod, from_ts, to_ts) AS (VALUES …)`: the windows as a literal table, for
/// queries that join readings to memberships (a `Pod` is letters and digits only).
pub(crate) fn windows_cte(windows: &[MembershipWindow]) -> String {
    let rows: Vec<String> = windows
        .iter()
        .map(|w| {
            format!(
                "(CAST({} AS INTEGER), '{}', CAST({} AS BIGINT), CAST({} AS BIGINT))",
                w.member_id, w.pod, w.from, w.to
            )
        })
        .collect();
    format!(
        "WITH m(member_id, pod, from_ts, to_ts) AS (VALUES {})",
        rows.join(", ")
    )
}

/// What a merge did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MergeCounts {
    pub intervals: u64,
    pub pods: u64,
    pub new_values: u64,
    pub revised_values: u64,
    pub unchanged: u64,
}

pub fn direction_code(direction: Direction) -> &'static str {
    match direction {
        Direction::Injection => "I",
        Direction::Withdrawal => "W",
    }
}

/// The meter-data store of one kind of database: the single place that picks PostgreSQL's
/// or SQLite's implementation.
#[async_trait::async_trait]
trait Store: Sync {
    /// Opens an import's transaction.
    async fn begin_import(
        &self,
        db: &DatabaseConnection,
    ) -> Result<Box<dyn ImportTxn>, sqlx::Error>;
    /// Planner statistics after bulk loads.
    async fn refresh_statistics(&self, db: &DatabaseConnection) -> Result<(), sqlx::Error>;
}

fn store(db: &DatabaseConnection) -> &'static dyn Store {
    match db.get_database_backend() {
        DbBackend::Postgres => &postgres::PgStore,
        _ => &sqlite::SqliteStore,
    }
}

/// What an import needs from its transaction; the SQL it runs through `execute` and the
/// fetches is the same on both databases.
#[async_trait::async_trait]
trait ImportTxn: Send {
    /// Runs a statement; the rows it affected.
    async fn execute(&mut self, sql: &str) -> Result<u64, sqlx::Error>;
    /// Rows whose columns are all BIGINT.
    async fn fetch_i64s(&mut self, sql: &str) -> Result<Vec<Vec<i64>>, sqlx::Error>;
    /// Rows whose columns are all (nullable) text.
    async fn fetch_texts(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, sqlx::Error>;
    /// Inserts the import's record with `sql` (`$1…$7` bound from `import` and `now`): its id.
    async fn insert_import(
        &mut self,
        sql: &str,
        import: &ImportRecord,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<i32, sqlx::Error>;
    /// Records the warnings (a JSON list) the import was accepted with.
    async fn set_warnings(&mut self, import_id: i32, warnings: &str) -> Result<(), sqlx::Error>;
    /// The DDL of a temporary table for this transaction.
    fn temporary_table(&self, name: &str, columns: &str) -> String;
    /// Whether rows of PODs with no stored readings are written straight into `readings`,
    /// skipping the staging table and the merge.
    fn writes_directly(&self) -> bool;
    /// Writes rows as new values of `readings` (revision 1, this import's).
    async fn write_readings(
        &mut self,
        rows: &[&Reading],
        import_id: i32,
    ) -> Result<(), sqlx::Error>;
    /// Adds rows to the staging table.
    async fn stage(&mut self, rows: &[&Reading]) -> Result<(), sqlx::Error>;
    /// Takes the configuration's write lock (the one membership changes take) until commit.
    async fn lock_configuration(&mut self, configuration_id: i32) -> Result<(), sqlx::Error>;
    async fn commit(self: Box<Self>) -> Result<(), sqlx::Error>;
}

/// Keeps sqlx's error as it is (not a `DbErr::Custom` string), so that a pool timeout during an
/// import is a 503 like anywhere else, and a constraint violation is recognised.
pub(crate) fn db_err(error: sqlx::Error) -> DbErr {
    DbErr::Query(sea_orm::RuntimeErr::SqlxError(std::sync::Arc::new(error)))
}

const STAGING_COLUMNS: &str = "pod, direction, interval_start, interval_minutes, wh, line";

/// The runs of consecutive rows of one POD (files come grouped by POD): looked up once per run.
fn pod_runs(readings: &[Reading]) -> impl Iterator<Item = &[Reading]> {
    readings.chunk_by(|a, b| a.pod == b.pod)
}

/// One import in progress.
pub struct ImportSession {
    txn: Box<dyn ImportTxn>,
    staged: u64,
    configuration_id: i32,
    import_id: i32,
    /// PODs with no stored readings before this import: their rows go straight into
    /// `readings` (PostgreSQL `COPY`), skipping the staging table and the merge.
    clean: std::collections::HashMap<String, bool>,
    direct: u64,
    /// Hourly totals of the rows written directly, added to `configuration_hours` at the end.
    direct_hours: std::collections::BTreeMap<i64, (i64, i64)>,
    backend: DbBackend,
    /// The curves of the PODs new to the store, summed as their rows stream.
    curves: Option<ImportCurves>,
    /// Where `stage` spent its time: in the database's `COPY`, spilling curves.
    pub timings: StageTimings,
}

/// Time spent by an import's writer, by step (logged at the end of the read).
#[derive(Debug, Default, Clone, Copy)]
pub struct StageTimings {
    pub copying: std::time::Duration,
    pub spilling: std::time::Duration,
}

#[async_trait::async_trait]
impl super::curves::CurveSql for ImportSession {
    fn backend(&self) -> DbBackend {
        self.backend
    }

    async fn rows(&mut self, sql: &str) -> Result<Vec<Vec<i64>>, DbErr> {
        self.fetch_i64s(sql).await
    }

    async fn run(&mut self, sql: &str) -> Result<(), DbErr> {
        self.execute(sql).await.map(drop)
    }
}

/// How an import ended.
pub enum MergeOutcome {
    Imported(i32, MergeCounts),
    /// `(line, message)` problems; the transaction was rolled back.
    Rejected(Vec<(u64, String)>),
}

impl ImportSession {
    /// Opens the transaction (on SQLite taking the write lock at once, so a concurrent writer
    /// waits instead of failing half-way) and creates the staging tables.
    pub async fn begin(
        db: &DatabaseConnection,
        configuration_id: i32,
        import: &ImportRecord,
    ) -> Result<ImportSession, DbErr> {
        let txn = store(db).begin_import(db).await.map_err(db_err)?;
        let mut session = ImportSession {
            txn,
            staged: 0,
            configuration_id,
            import_id: 0,
            clean: Default::default(),
            direct: 0,
            direct_hours: Default::default(),
            timings: StageTimings::default(),
            backend: db.get_database_backend(),
            curves: None,
        };
        session.import_id = session.insert_import(import).await?;
        session
            .execute("DROP TABLE IF EXISTS import_staging")
            .await?;
        session
            .execute(&session.txn.temporary_table(
                "import_staging",
                "pod VARCHAR(15) NOT NULL, direction CHAR(1) NOT NULL, interval_start BIGINT NOT NULL, \
                 interval_minutes SMALLINT NOT NULL, wh BIGINT NOT NULL, line BIGINT NOT NULL",
            ))
            .await?;
        Ok(session)
    }

    async fn execute(&mut self, sql: &str) -> Result<u64, DbErr> {
        self.txn.execute(sql).await.map_err(db_err)
    }

    async fn fetch_i64s(&mut self, sql: &str) -> Result<Vec<Vec<i64>>, DbErr> {
        self.txn.fetch_i64s(sql).await.map_err(db_err)
    }

    /// Adds parsed readings: straight into `readings` for PODs that had none (PostgreSQL), to
    /// the staging table for the others (their values may revise stored ones).
    pub async fn stage(&mut self, readings: &[Reading]) -> Result<(), DbErr> {
        if readings.is_empty() {
            return Ok(());
        }
        // Which PODs are clean was read with the members (`configuration_members`); rows of
        // any other POD are refused before they reach here, and one that did would be staged
        // and merged (correct, only slower), never written directly.
        let mut curves = self
            .curves
            .take()
            .unwrap_or_else(|| ImportCurves::new(self.import_id));
        let (mut clean, mut dirty) = (Vec::new(), Vec::new());
        for run in pod_runs(readings) {
            if self.clean.get(&run[0].pod).copied().unwrap_or(false) {
                clean.extend(run);
            } else {
                dirty.extend(run);
            }
        }
        curves.add(&clean);
        let staged = self.stage_or_write(clean, dirty, &mut curves).await;
        let spilling = std::time::Instant::now();
        let spilled = match staged {
            Ok(()) => curves.spill_if_over(self).await,
            Err(e) => Err(e),
        };
        self.timings.spilling += spilling.elapsed();
        self.curves = Some(curves);
        spilled
    }

    /// Writes the rows of clean PODs (no readings before this import) straight into
    /// `readings` where the store can, and stages the others.
    async fn stage_or_write(
        &mut self,
        clean: Vec<&Reading>,
        dirty: Vec<&Reading>,
        curves: &mut ImportCurves,
    ) -> Result<(), DbErr> {
        if self.txn.writes_directly() {
            let direct = clean;
            let mut staged = dirty;
            if !direct.is_empty() {
                self.execute("SAVEPOINT import_direct").await?;
                let copying = std::time::Instant::now();
                let written = self.txn.write_readings(&direct, self.import_id).await;
                self.timings.copying += copying.elapsed();
                match written {
                    Ok(()) => {
                        self.execute("RELEASE SAVEPOINT import_direct").await?;
                        self.direct += direct.len() as u64;
                        // Rows come in time order within a POD: sum each hour's run, then
                        // add it to the map once.
                        let hour_of =
                            |r: &Reading| r.interval_start - r.interval_start.rem_euclid(3600);
                        for run in direct.chunk_by(|a, b| hour_of(a) == hour_of(b)) {
                            let total = self.direct_hours.entry(hour_of(run[0])).or_default();
                            for r in run {
                                match r.direction {
                                    Direction::Injection => total.0 += r.wh,
                                    Direction::Withdrawal => total.1 += r.wh,
                                }
                            }
                        }
                    }
                    Err(error)
                        if error
                            .as_database_error()
                            .is_some_and(|e| e.is_unique_violation()) =>
                    {
                        // A duplicate inside the file: these PODs go through staging, where
                        // duplicates are found with their line numbers.
                        self.execute("ROLLBACK TO SAVEPOINT import_direct").await?;
                        for r in &direct {
                            self.clean.insert(r.pod.clone(), false);
                            curves.rebuild_pod(&r.pod);
                        }
                        staged.extend(direct);
                    }
                    Err(error) => return Err(db_err(error)),
                }
            }
            return self.stage_rows(&staged).await;
        }
        let mut all = clean;
        all.extend(dirty);
        self.stage_rows(&all).await
    }

    async fn stage_rows(&mut self, readings: &[&Reading]) -> Result<(), DbErr> {
        if readings.is_empty() {
            return Ok(());
        }
        self.staged += readings.len() as u64;
        let copying = std::time::Instant::now();
        let staged = self.txn.stage(readings).await.map_err(db_err);
        self.timings.copying += copying.elapsed();
        staged
    }

    async fn try_execute(&mut self, sql: &str) -> Result<u64, sqlx::Error> {
        self.txn.execute(sql).await
    }

    /// Up to `limit` rows that repeat an earlier row's POD, direction and interval, by line.
    pub async fn duplicate_problems(&mut self, limit: usize) -> Result<Vec<(u64, String)>, DbErr> {
        let duplicates = self
            .fetch_i64s(&format!(
                "SELECT MIN(line), MAX(line) FROM import_staging GROUP BY pod, direction, interval_start \
                 HAVING COUNT(*) > 1 ORDER BY MIN(line) LIMIT {limit}"
            ))
            .await?;
        let mut problems: Vec<(u64, String)> = duplicates
            .into_iter()
            .map(|row| {
                (
                    row[1] as u64,
                    format!(
                        "duplicate of line {}: same POD, direction and interval",
                        row[0]
                    ),
                )
            })
            .collect();
        if self.direct > 0 {
            let import_id = self.import_id;
            let earlier = self
                .fetch_i64s(&format!(
                    "SELECT s.line FROM import_staging s JOIN readings r ON r.pod = s.pod AND r.direction = s.direction \
                     AND r.interval_start = s.interval_start WHERE r.import_id = {import_id} ORDER BY s.line LIMIT {limit}"
                ))
                .await?;
            problems.extend(earlier.into_iter().map(|row| {
                (
                    row[0] as u64,
                    "duplicate: the same POD, direction and interval appear earlier in the file"
                        .to_string(),
                )
            }));
        }
        problems.sort();
        problems.truncate(limit);
        Ok(problems)
    }

    /// Merges the staged rows into `readings` (keeping superseded values as revisions), updates
    /// the configuration's hourly totals and the PODs' curves, completes the import record and commits. Rows were
    /// already checked against the memberships while streaming; `pod_ranges` (first and last
    /// instant per POD) tell whether staged rows can meet stored ones at all.
    pub async fn finish(
        mut self,
        import: &ImportRecord,
        pod_ranges: &std::collections::HashMap<String, (i64, i64)>,
        limit: usize,
    ) -> Result<MergeOutcome, DbErr> {
        let key_match =
            "r.pod = s.pod AND r.direction = s.direction AND r.interval_start = s.interval_start";
        let import_id = self.import_id;
        let configuration = self.configuration_id;
        let hours_upsert = "ON CONFLICT (configuration_id, hour_start) DO UPDATE SET \
             injected_wh = configuration_hours.injected_wh + excluded.injected_wh, \
             withdrawn_wh = configuration_hours.withdrawn_wh + excluded.withdrawn_wh";
        let hour = "(s.interval_start / 3600) * 3600";
        let mut counts = MergeCounts {
            intervals: self.staged + self.direct,
            pods: pod_ranges.len() as u64,
            new_values: self.direct,
            revised_values: 0,
            unchanged: 0,
        };
        if self.staged > 0 {
            let mut overlaps_stored = false;
            for (pod, (first, last)) in pod_ranges {
                if self.clean.get(pod).copied().unwrap_or(false) {
                    continue;
                }
                let found = self
                    .fetch_i64s(&format!(
                        "SELECT CAST(1 AS BIGINT) FROM readings WHERE pod = '{pod}' AND import_id <> {import_id} \
                         AND interval_start >= {first} AND interval_start <= {last} LIMIT 1"
                    ))
                    .await?;
                if !found.is_empty() {
                    overlaps_stored = true;
                    break;
                }
            }
            if !overlaps_stored {
                // Only new values: one insert, with the primary key catching duplicates.
                self.execute("SAVEPOINT import_insert").await?;
                let inserted = self
                    .try_execute(&format!(
                        "INSERT INTO readings (pod, direction, interval_start, interval_minutes, wh, revision, import_id) \
                         SELECT s.pod, s.direction, s.interval_start, s.interval_minutes, s.wh, 1, {import_id} FROM import_staging s"
                    ))
                    .await;
                match inserted {
                    Ok(new_values) => {
                        self.execute(&format!(
                            "INSERT INTO configuration_hours (configuration_id, hour_start, injected_wh, withdrawn_wh) \
                             SELECT {configuration}, {hour}, \
                               SUM(CASE WHEN s.direction = 'I' THEN s.wh ELSE 0 END), \
                               SUM(CASE WHEN s.direction = 'W' THEN s.wh ELSE 0 END) \
                             FROM import_staging s WHERE 1 = 1 GROUP BY {hour} {hours_upsert}"
                        ))
                        .await?;
                        counts.new_values += new_values;
                    }
                    Err(error)
                        if error
                            .as_database_error()
                            .is_some_and(|e| e.is_unique_violation()) =>
                    {
                        self.execute("ROLLBACK TO SAVEPOINT import_insert").await?;
                        return Ok(MergeOutcome::Rejected(
                            self.duplicate_problems(limit).await?,
                        ));
                    }
                    Err(error) => return Err(db_err(error)),
                }
            } else {
                let duplicates = self.duplicate_problems(limit).await?;
                if !duplicates.is_empty() {
                    return Ok(MergeOutcome::Rejected(duplicates));
                }
                // The file's span, written out so that PostgreSQL reads only its months'
                // partitions of the readings.
                let lo = pod_ranges.values().map(|r| r.0).min().unwrap_or(0);
                let hi = pod_ranges.values().map(|r| r.1).max().unwrap_or(0);
                let bounded = format!("r.interval_start >= {lo} AND r.interval_start <= {hi}");
                let revised = self
                    .fetch_i64s(&format!(
                        "SELECT COUNT(*) FROM import_staging s JOIN readings r ON {key_match} WHERE r.wh <> s.wh AND {bounded}"
                    ))
                    .await?[0][0] as u64;
                // Hourly totals move by the difference each new or changed value makes.
                self.execute(&format!(
                    "INSERT INTO configuration_hours (configuration_id, hour_start, injected_wh, withdrawn_wh) \
                     SELECT {configuration}, {hour}, \
                       SUM(CASE WHEN s.direction = 'I' THEN s.wh - COALESCE(r.wh, 0) ELSE 0 END), \
                       SUM(CASE WHEN s.direction = 'W' THEN s.wh - COALESCE(r.wh, 0) ELSE 0 END) \
                     FROM import_staging s LEFT JOIN readings r ON {key_match} AND {bounded} \
                     WHERE r.wh IS NULL OR r.wh <> s.wh GROUP BY {hour} {hours_upsert}"
                ))
                .await?;
                self.execute(&format!(
                    "INSERT INTO reading_revisions (pod, direction, interval_start, interval_minutes, wh, revision, import_id, superseded_by) \
                     SELECT r.pod, r.direction, r.interval_start, r.interval_minutes, r.wh, r.revision, r.import_id, {import_id} \
                     FROM readings r JOIN import_staging s ON {key_match} WHERE r.wh <> s.wh AND {bounded}"
                ))
                .await?;
                self.execute(&format!(
                    "UPDATE readings SET wh = s.wh, interval_minutes = s.interval_minutes, revision = readings.revision + 1, \
                     import_id = {import_id} FROM import_staging s \
                     WHERE readings.pod = s.pod AND readings.direction = s.direction \
                       AND readings.interval_start = s.interval_start AND readings.wh <> s.wh \
                       AND readings.interval_start >= {lo} AND readings.interval_start <= {hi}"
                ))
                .await?;
                let new_values = self
                    .execute(&format!(
                        "INSERT INTO readings (pod, direction, interval_start, interval_minutes, wh, revision, import_id) \
                         SELECT s.pod, s.direction, s.interval_start, s.interval_minutes, s.wh, 1, {import_id} \
                         FROM import_staging s WHERE NOT EXISTS (SELECT 1 FROM readings r WHERE {key_match} AND {bounded})"
                    ))
                    .await?;
                counts.new_values += new_values;
                counts.revised_values = revised;
                counts.unchanged = self.staged - new_values - revised;
            }
        }
        let direct_hours = std::mem::take(&mut self.direct_hours);
        let rows: Vec<String> = direct_hours
            .iter()
            .map(|(hour, (injected, withdrawn))| {
                format!("({configuration}, {hour}, {injected}, {withdrawn})")
            })
            .collect();
        for chunk in rows.chunks(500) {
            self.execute(&format!(
                "INSERT INTO configuration_hours (configuration_id, hour_start, injected_wh, withdrawn_wh) VALUES {} {hours_upsert}",
                chunk.join(", ")
            ))
            .await?;
        }
        // The curves of every month the file touched: summed while streaming for the PODs new
        // to the store, from the readings as merged for the others.
        let rebuild = match self.curves.take() {
            Some(curves) => curves.finish(&mut self).await?,
            None => Default::default(),
        };
        let ranges: Vec<(String, i64, i64)> = pod_ranges
            .iter()
            .filter(|(pod, _)| {
                !self.clean.get(*pod).copied().unwrap_or(false) || rebuild.contains(*pod)
            })
            .map(|(pod, (first, last))| (pod.clone(), *first, *last))
            .collect();
        super::curves::rebuild(&mut self, &ranges).await?;
        self.execute(&format!(
            "UPDATE reading_imports SET rows = {}, intervals = {}, pods = {}, new_values = {}, revised_values = {}, \
             unchanged = {} WHERE id = {import_id}",
            import.rows, counts.intervals, counts.pods, counts.new_values, counts.revised_values, counts.unchanged
        ))
        .await?;
        if !import.warnings.is_empty() {
            let warnings = serde_json::to_string(&import.warnings)
                .map_err(|e| DbErr::Custom(format!("readings store: warnings: {e}")))?;
            self.txn
                .set_warnings(import_id, &warnings)
                .await
                .map_err(db_err)?;
        }
        self.txn.commit().await.map_err(db_err)?;
        Ok(MergeOutcome::Imported(import_id, counts))
    }

    /// Opens the import's record (its counts are completed when the import ends).
    async fn insert_import(&mut self, import: &ImportRecord) -> Result<i32, DbErr> {
        let sql = "INSERT INTO reading_imports (configuration_id, kind, source, format, uploaded_by, rows, intervals, pods, \
                   new_values, revised_values, unchanged, created_at) \
                   VALUES ($1, $2, $3, $4, $5, $6, 0, 0, 0, 0, 0, $7) RETURNING id";
        self.txn
            .insert_import(sql, import, chrono::Utc::now())
            .await
            .map_err(db_err)
    }

    /// Takes the configuration's write lock for the rest of the import (the one membership
    /// changes take), then reads its members and their plants' power inside the import's
    /// transaction: a membership change can no longer slip between the checks and the merge.
    pub async fn configuration_members(
        &mut self,
    ) -> Result<(Vec<ImportMember>, std::collections::HashMap<String, i64>), DbErr> {
        let configuration = self.configuration_id;
        self.txn
            .lock_configuration(configuration)
            .await
            .map_err(db_err)?;
        // Everything as text, read alike on both databases and parsed here.
        let members = self
            .txn
            .fetch_texts(&format!(
                "SELECT CAST(id AS TEXT), pod, CAST(joined_at AS TEXT), CAST(withdrawn_at AS TEXT), holder_type, \
                 CAST(available_power_w AS TEXT) FROM members WHERE configuration_id = {configuration}"
            ))
            .await
            .map_err(db_err)?;
        let plants = self
            .txn
            .fetch_texts(&format!(
                "SELECT m.pod, CAST(SUM(p.power_w) AS TEXT) FROM plants p JOIN members m ON m.id = p.member_id \
                 WHERE m.configuration_id = {configuration} GROUP BY m.pod"
            ))
            .await
            .map_err(db_err)?;
        // Which of the members' PODs already have readings (a POD with readings has curves,
        // kept in the same transactions), in one query: one probe per POD as its first row
        // arrived cost 1.8 ms each, 18 s of a 10,000-POD import.
        let stored = self
            .txn
            .fetch_texts(&format!(
                "SELECT DISTINCT c.pod FROM reading_curves c JOIN members m ON m.pod = c.pod \
                 WHERE m.configuration_id = {configuration}"
            ))
            .await
            .map_err(db_err)?;
        let stored: std::collections::HashSet<&str> =
            stored.iter().filter_map(|row| row[0].as_deref()).collect();
        for row in &members {
            if let Some(pod) = row[1].as_deref() {
                self.clean.insert(pod.to_string(), !stored.contains(pod));
            }
        }
        let unreadable = |what: &str, text: &Option<String>| {
            DbErr::Custom(format!("readings store: unreadable {what} {text:?}"))
        };
        let required = |what: &str, text: &Option<String>| -> Result<String, DbErr> {
            text.clone().ok_or_else(|| unreadable(what, text))
        };
        let number = |what: &str, text: &Option<String>| -> Result<Option<i64>, DbErr> {
            text.as_deref()
                .map(|t| t.parse::<i64>().map_err(|_| unreadable(what, text)))
                .transpose()
        };
        let date =
            |what: &str, text: &Option<String>| -> Result<Option<chrono::NaiveDate>, DbErr> {
                text.as_deref()
                    .map(|t| {
                        chrono::NaiveDate::parse_from_str(&t[..t.len().min(10)], "%Y-%m-%d")
                            .map_err(|_| unreadable(what, text))
                    })
                    .transpose()
            };
        let members = members
            .iter()
            .map(|row| {
                let id = number("member id", &row[0])?
                    .ok_or_else(|| unreadable("member id", &row[0]))?;
                Ok(ImportMember {
                    id: i32::try_from(id).map_err(|_| unreadable("member id", &row[0]))?,
                    pod: required("POD", &row[1])?,
                    joined_at: date("joined_at", &row[2])?
                        .ok_or_else(|| unreadable("joined_at", &row[2]))?,
                    withdrawn_at: date("withdrawn_at", &row[3])?,
                    holder_type: required("holder_type", &row[4])?,
                    available_power_w: number("available_power_w", &row[5])?,
                })
            })
            .collect::<Result<Vec<_>, DbErr>>()?;
        let plants = plants
            .iter()
            .map(|row| {
                let power = number("plant power", &row[1])?
                    .ok_or_else(|| unreadable("plant power", &row[1]))?;
                Ok((required("POD", &row[0])?, power))
            })
            .collect::<Result<std::collections::HashMap<_, _>, DbErr>>()?;
        Ok((members, plants))
    }

    /// Readings taken so far (staged or written directly).
    pub fn staged(&self) -> u64 {
        self.staged + self.direct
    }
}

/// A member of the configuration, as the import reads it (inside its transaction).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportMember {
    pub id: i32,
    pub pod: String,
    pub joined_at: chrono::NaiveDate,
    pub withdrawn_at: Option<chrono::NaiveDate>,
    /// The stored code (`natural_person`, …).
    pub holder_type: String,
    pub available_power_w: Option<i64>,
}

/// What the import log records about a file.
pub struct ImportRecord {
    pub configuration_id: Option<i32>,
    pub kind: &'static str,
    pub source: String,
    pub format: String,
    pub uploaded_by: Option<i32>,
    pub rows: u64,
    /// What the import was accepted with (outliers stored on request…), as a JSON list.
    pub warnings: Vec<String>,
}

/// Adds (`sign` = 1) or removes (`sign` = -1) a POD's readings in `[from, to)` to or from the
/// configuration's hourly totals: called when a membership starts, ends or changes its dates.
pub async fn apply_window_to_hours(
    db: &impl sea_orm::ConnectionTrait,
    configuration_id: i32,
    window: &MembershipWindow,
    sign: i64,
) -> Result<(), DbErr> {
    let hour = "(interval_start / 3600) * 3600";
    db.execute_unprepared(&format!(
        "INSERT INTO configuration_hours (configuration_id, hour_start, injected_wh, withdrawn_wh) \
         SELECT {configuration_id}, {hour}, \
           {sign} * SUM(CASE WHEN direction = 'I' THEN wh ELSE 0 END), \
           {sign} * SUM(CASE WHEN direction = 'W' THEN wh ELSE 0 END) \
         FROM readings WHERE pod = '{}' AND interval_start >= {} AND interval_start < {} GROUP BY {hour} \
         ON CONFLICT (configuration_id, hour_start) DO UPDATE SET \
           injected_wh = configuration_hours.injected_wh + excluded.injected_wh, \
           withdrawn_wh = configuration_hours.withdrawn_wh + excluded.withdrawn_wh",
        window.pod, window.from, window.to
    ))
    .await
    .map(|_| ())
}

/// Planner statistics of the meter-data tables after bulk loads (`ANALYZE` on PostgreSQL).
pub async fn refresh_statistics(db: &DatabaseConnection) -> Result<(), DbErr> {
    store(db).refresh_statistics(db).await.map_err(db_err)
}
