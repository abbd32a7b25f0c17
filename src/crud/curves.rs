//! The hourly curves beside the readings (`domain::curves`): rebuilt from `readings` after every
//! write that touches them, in the writer's transaction, and read by the settlement.
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement, TransactionTrait};

use crate::domain::curves::{self, CurveMonth, HourCell};
#[cfg(test)]
use chrono::NaiveDate;

/// Where a rebuild runs its SQL: an import's own transaction or any SeaORM connection.
#[async_trait::async_trait]
pub(crate) trait CurveSql: Send {
    fn backend(&self) -> DbBackend;
    /// Rows whose columns are all BIGINT.
    async fn rows(&mut self, sql: &str) -> Result<Vec<Vec<i64>>, DbErr>;
    async fn run(&mut self, sql: &str) -> Result<(), DbErr>;
}

/// A SeaORM connection or transaction as a [`CurveSql`].
pub(crate) struct OnConnection<'a, C>(pub &'a C);

#[async_trait::async_trait]
impl<C: ConnectionTrait + Sync> CurveSql for OnConnection<'_, C> {
    fn backend(&self) -> DbBackend {
        self.0.get_database_backend()
    }

    async fn rows(&mut self, sql: &str) -> Result<Vec<Vec<i64>>, DbErr> {
        let rows = self
            .0
            .query_all_raw(Statement::from_string(self.backend(), sql.to_string()))
            .await?;
        rows.iter()
            .map(|row| {
                let width = row.column_names().len();
                (0..width).map(|i| row.try_get_by_index::<i64>(i)).collect()
            })
            .collect()
    }

    async fn run(&mut self, sql: &str) -> Result<(), DbErr> {
        self.0.execute_unprepared(sql).await.map(drop)
    }
}

/// A POD goes into SQL as a literal: letters and digits only (what `Pod` guarantees).
fn literal_pod(pod: &str) -> Result<&str, DbErr> {
    if !pod.is_empty() && pod.len() <= 15 && pod.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(pod)
    } else {
        Err(DbErr::Custom(format!(
            "curves: {pod:?} is not a POD code and is not put in SQL"
        )))
    }
}

fn blob_literal(backend: DbBackend, bytes: &[u8]) -> String {
    let mut hex = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        use std::fmt::Write;
        let _ = write!(hex, "{b:02x}");
    }
    match backend {
        DbBackend::Postgres => format!("decode('{hex}', 'hex')"),
        _ => format!("X'{hex}'"),
    }
}

/// How many hour rows one rebuild query may bring back (its memory: ≈ 100 bytes a row).
const HOURS_PER_QUERY: usize = 100_000;

/// Rebuilds the curves of every month that `[first, last]` (reading instants) touches, for each
/// `(pod, first, last)`, from the readings as they are now in `sql`'s transaction: the months'
/// old curves go, a curve is written for each month and direction with at least one reading.
pub(crate) async fn rebuild(
    sql: &mut dyn CurveSql,
    ranges: &[(String, i64, i64)],
) -> Result<(), DbErr> {
    let backend = sql.backend();
    let mut ranges: Vec<&(String, i64, i64)> = ranges.iter().collect();
    ranges.sort_by_key(|(_, first, _)| *first);
    let mut start = 0;
    while start < ranges.len() {
        // PODs whose months are the same go together, as many as keep the answer bounded.
        let months = CurveMonth::spanning(ranges[start].1, ranges[start].2);
        let hours: usize = months.iter().map(CurveMonth::hours).sum::<usize>() * 2;
        let per_query = (HOURS_PER_QUERY / hours.max(1)).clamp(1, 500);
        let mut end = start + 1;
        while end < ranges.len()
            && end - start < per_query
            && CurveMonth::spanning(ranges[end].1, ranges[end].2) == months
        {
            end += 1;
        }
        let pods: Vec<&str> = ranges[start..end]
            .iter()
            .map(|(pod, _, _)| literal_pod(pod))
            .collect::<Result<_, _>>()?;
        rebuild_months(sql, backend, &pods, &months).await?;
        start = end;
    }
    Ok(())
}

async fn rebuild_months(
    sql: &mut dyn CurveSql,
    backend: DbBackend,
    pods: &[&str],
    months: &[CurveMonth],
) -> Result<(), DbErr> {
    let (Some(first), Some(last)) = (months.first(), months.last()) else {
        return Ok(());
    };
    let (from, to) = (first.start, last.end);
    let listed: Vec<String> = pods.iter().map(|p| format!("'{p}'")).collect();
    let listed = listed.join(", ");
    let index: Vec<String> = pods
        .iter()
        .enumerate()
        .map(|(i, p)| format!("WHEN '{p}' THEN {i}"))
        .collect();
    let rows = sql
        .rows(&format!(
            "SELECT CAST(CASE pod {} END AS BIGINT), CAST(CASE WHEN direction = 'I' THEN 1 ELSE 0 END AS BIGINT), \
               CAST((interval_start / 3600) * 3600 AS BIGINT), CAST(SUM(wh) AS BIGINT), \
               CAST(SUM(interval_minutes) AS BIGINT), CAST(COUNT(*) AS BIGINT), CAST(SUM(revision) AS BIGINT), \
               CAST(MAX(import_id) AS BIGINT) \
             FROM readings WHERE pod IN ({listed}) AND direction IN ('I', 'W') \
               AND interval_start >= {from} AND interval_start < {to} \
             GROUP BY pod, direction, (interval_start / 3600) * 3600 ORDER BY 1, 2, 3",
            index.join(" ")
        ))
        .await?;
    sql.run(&format!(
        "DELETE FROM reading_curves WHERE pod IN ({listed}) AND month_start >= {from} AND month_start < {to}"
    ))
    .await?;
    let mut values: Vec<String> = Vec::new();
    let mut at = 0;
    while at < rows.len() {
        let (pod, direction) = (rows[at][0], rows[at][1]);
        let mut hours: Vec<(i64, HourCell)> = Vec::new();
        while at < rows.len() && rows[at][0] == pod && rows[at][1] == direction {
            let r = &rows[at];
            hours.push((
                r[2],
                HourCell {
                    wh: r[3],
                    minutes: r[4],
                    rows: r[5],
                    revisions: r[6],
                    last_import: r[7],
                },
            ));
            at += 1;
        }
        let pod = pods
            .get(pod as usize)
            .ok_or_else(|| DbErr::Custom(format!("curves: unknown POD index {pod}")))?;
        let direction = if direction == 1 { 'I' } else { 'W' };
        for (month, cells) in curves::curves_of(&hours) {
            values.push(format!(
                "('{pod}', '{direction}', {}, {})",
                month.start,
                blob_literal(backend, &curves::encode(&cells))
            ));
        }
    }
    for chunk in values.chunks(200) {
        insert_curves(sql, chunk).await?;
    }
    Ok(())
}

/// Builds every curve from the readings when a migration asked for it (`derived_rebuilds`),
/// then removes the request: called under the migration lock, before anything is served.
pub async fn rebuild_if_requested(db: &sea_orm::DatabaseConnection) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let requested = db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT name FROM derived_rebuilds WHERE name = 'reading_curves'",
        ))
        .await?;
    if requested.is_none() {
        return Ok(());
    }
    let started = std::time::Instant::now();
    let pods = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT pod, CAST(MIN(interval_start) AS BIGINT) AS first, CAST(MAX(interval_start) AS BIGINT) AS last \
             FROM readings GROUP BY pod ORDER BY pod",
        ))
        .await?
        .iter()
        .map(|r| Ok((r.try_get("", "pod")?, r.try_get("", "first")?, r.try_get("", "last")?)))
        .collect::<Result<Vec<(String, i64, i64)>, DbErr>>()?;
    let txn = db.begin().await?;
    if backend == DbBackend::Postgres {
        // The hourly sums hash a POD's year at a time: in memory, for this transaction only.
        txn.execute_unprepared("SET LOCAL work_mem = '256MB'")
            .await?;
    }
    txn.execute_unprepared("DELETE FROM reading_curves").await?;
    rebuild(&mut OnConnection(&txn), &pods).await?;
    txn.execute_unprepared("DELETE FROM derived_rebuilds WHERE name = 'reading_curves'")
        .await?;
    txn.commit().await?;
    if !pods.is_empty() {
        tracing::info!(
            pods = pods.len(),
            seconds = started.elapsed().as_secs_f64(),
            "hourly curves built from the stored readings"
        );
    }
    Ok(())
}

/// A month's stored curve of one POD and direction.
pub struct StoredCurve {
    pub pod: String,
    pub direction: String,
    pub cells: Vec<HourCell>,
}

/// The curves of `pods` for `month`, unpacked; damage is an error naming the curve.
pub async fn of_month(
    db: &impl ConnectionTrait,
    pods: &[&str],
    month: CurveMonth,
) -> Result<Vec<StoredCurve>, DbErr> {
    if pods.is_empty() {
        return Ok(Vec::new());
    }
    let listed: Vec<String> = pods
        .iter()
        .map(|p| literal_pod(p).map(|p| format!("'{p}'")))
        .collect::<Result<_, _>>()?;
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            format!(
                "SELECT pod, direction, data FROM reading_curves WHERE month_start = {} AND pod IN ({})",
                month.start,
                listed.join(", ")
            ),
        ))
        .await?;
    rows.iter()
        .map(|r| {
            let pod: String = r.try_get("", "pod")?;
            let direction: String = r.try_get("", "direction")?;
            let data: Vec<u8> = r.try_get("", "data")?;
            let cells = curves::decode(&data, month.hours()).map_err(|e| {
                DbErr::Custom(format!(
                    "the stored hourly curve of POD {pod}, direction {direction}, month starting at {} cannot be read ({e})",
                    month.start
                ))
            })?;
            Ok(StoredCurve {
                pod,
                direction,
                cells,
            })
        })
        .collect()
}

/// Curves summed from an import's own rows while they stream, for the PODs that had no
/// readings before it (their curves are exactly the file's sums: one revision each, this
/// import's): no second pass over what was just written. Compact cells (6 bytes an hour)
/// within a memory budget; a POD whose curves cannot be kept so (an hour over the cells' range,
/// rows that come back after its curves were written, the budget spent by files that interleave
/// every POD) is rebuilt from the readings at the end instead.
pub(crate) struct ImportCurves {
    import_id: i32,
    pods: std::collections::HashMap<String, PodCurves>,
    /// PODs whose curves are written at the end from the readings.
    pub(crate) rebuild: std::collections::HashSet<String>,
    /// PODs whose summed curves were written already.
    written: std::collections::HashSet<String>,
    cells: usize,
    budget: usize,
    batch: u64,
}

struct PodCurves {
    last_batch: u64,
    months: Vec<CompactCurve>,
}

struct CompactCurve {
    injection: bool,
    month: CurveMonth,
    wh: Vec<i32>,
    minutes: Vec<u8>,
    rows: Vec<u8>,
}

/// About 64 MB of cells.
const CELL_BUDGET: usize = 11_000_000;

impl ImportCurves {
    pub(crate) fn new(import_id: i32) -> ImportCurves {
        Self::with_budget(import_id, CELL_BUDGET)
    }

    fn with_budget(import_id: i32, budget: usize) -> ImportCurves {
        ImportCurves {
            import_id,
            pods: Default::default(),
            rebuild: Default::default(),
            written: Default::default(),
            cells: 0,
            budget,
            batch: 0,
        }
    }

    /// Gives up summing `pod`: its curves come from the readings at the end.
    pub(crate) fn rebuild_pod(&mut self, pod: &str) {
        if let Some(curves) = self.pods.remove(pod) {
            self.cells -= curves.months.iter().map(|c| c.wh.len()).sum::<usize>();
        }
        self.rebuild.insert(pod.to_string());
    }

    /// Adds a batch of readings of PODs that had no readings before the import.
    pub(crate) fn add(&mut self, readings: &[&crate::domain::meter_files::Reading]) {
        use crate::domain::meter_files::Direction;
        self.batch += 1;
        // Files come grouped by POD: look each run of one POD's rows up once, not per row.
        for run in readings.chunk_by(|a, b| a.pod == b.pod) {
            let name = &run[0].pod;
            if self.rebuild.contains(name) {
                continue;
            }
            if self.written.contains(name) {
                // Its curves went out already: the readings will tell the whole of it.
                self.rebuild_pod(&name.clone());
                continue;
            }
            let pod = match self.pods.get_mut(name) {
                Some(pod) => pod,
                None => self.pods.entry(name.clone()).or_insert(PodCurves {
                    last_batch: 0,
                    months: Vec::new(),
                }),
            };
            pod.last_batch = self.batch;
            let mut overflowed = false;
            for r in run {
                let injection = r.direction == Direction::Injection;
                let at = r.interval_start;
                let found = pod.months.iter().position(|c| {
                    c.injection == injection && at >= c.month.start && at < c.month.end
                });
                let index = match found {
                    Some(i) => i,
                    None => {
                        let month = CurveMonth::containing(at);
                        let hours = month.hours();
                        self.cells += hours;
                        pod.months.push(CompactCurve {
                            injection,
                            month,
                            wh: vec![0; hours],
                            minutes: vec![0; hours],
                            rows: vec![0; hours],
                        });
                        pod.months.len() - 1
                    }
                };
                let curve = &mut pod.months[index];
                let hour = curve.month.index(at);
                let summed = i32::try_from(r.wh)
                    .ok()
                    .and_then(|wh| curve.wh[hour].checked_add(wh))
                    .zip(curve.minutes[hour].checked_add(r.interval_minutes))
                    .zip(curve.rows[hour].checked_add(1));
                match summed {
                    Some(((wh, minutes), rows)) => {
                        curve.wh[hour] = wh;
                        curve.minutes[hour] = minutes;
                        curve.rows[hour] = rows;
                    }
                    None => {
                        overflowed = true;
                        break;
                    }
                }
            }
            if overflowed {
                // Beyond the compact cells: the readings will tell the whole of it.
                self.rebuild_pod(&name.clone());
            }
        }
    }

    /// Over budget after a batch: the PODs this batch did not touch are done (or will be
    /// rebuilt if they come back); write them out. If the batch alone fills the budget, its
    /// PODs are left to the rebuild.
    pub(crate) async fn spill_if_over(&mut self, sql: &mut dyn CurveSql) -> Result<(), DbErr> {
        if self.cells <= self.budget {
            return Ok(());
        }
        let done: Vec<String> = self
            .pods
            .iter()
            .filter(|(_, c)| c.last_batch < self.batch)
            .map(|(pod, _)| pod.clone())
            .collect();
        self.write(sql, &done).await?;
        if self.cells > self.budget {
            let all: Vec<String> = self.pods.keys().cloned().collect();
            for pod in all {
                self.rebuild_pod(&pod);
            }
        }
        Ok(())
    }

    /// Writes every summed curve; the PODs left to rebuild are returned.
    pub(crate) async fn finish(
        mut self,
        sql: &mut dyn CurveSql,
    ) -> Result<std::collections::HashSet<String>, DbErr> {
        let all: Vec<String> = self.pods.keys().cloned().collect();
        self.write(sql, &all).await?;
        Ok(self.rebuild)
    }

    async fn write(&mut self, sql: &mut dyn CurveSql, pods: &[String]) -> Result<(), DbErr> {
        let backend = sql.backend();
        let mut values = Vec::new();
        for pod in pods {
            let Some(curves) = self.pods.remove(pod) else {
                continue;
            };
            let pod = literal_pod(pod)?.to_string();
            for curve in curves.months {
                self.cells -= curve.wh.len();
                let cells: Vec<HourCell> = (0..curve.wh.len())
                    .map(|i| {
                        let rows = i64::from(curve.rows[i]);
                        HourCell {
                            wh: i64::from(curve.wh[i]),
                            minutes: i64::from(curve.minutes[i]),
                            rows,
                            revisions: rows,
                            last_import: if rows > 0 {
                                i64::from(self.import_id)
                            } else {
                                0
                            },
                        }
                    })
                    .collect();
                values.push(format!(
                    "('{pod}', '{}', {}, {})",
                    if curve.injection { 'I' } else { 'W' },
                    curve.month.start,
                    blob_literal(backend, &curves::encode(&cells))
                ));
            }
            self.written.insert(pod);
            // A few hundred curves a statement, sent as they are made: the SQL text never holds
            // more than that.
            if values.len() >= 200 {
                insert_curves(sql, &values).await?;
                values.clear();
            }
        }
        insert_curves(sql, &values).await
    }
}

async fn insert_curves(sql: &mut dyn CurveSql, values: &[String]) -> Result<(), DbErr> {
    if values.is_empty() {
        return Ok(());
    }
    sql.run(&format!(
        "INSERT INTO reading_curves (pod, direction, month_start, data) VALUES {}",
        values.join(", ")
    ))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::meter_files::{Direction, Reading};
    use sea_orm::Database;

    /// An import's curves, summed while streaming with a budget small enough to spill and to
    /// give PODs up, then completed by the rebuild of the PODs given up, equal the curves
    /// rebuilt from the readings alone (a real SQLite database, the migrations' tables).
    #[tokio::test]
    async fn summed_spilled_and_given_up_curves_equal_the_rebuilt_ones() {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        use migration::MigratorTrait;
        migration::Migrator::up(&db, None).await.unwrap();
        let import_id = 7;
        let start = CurveMonth::of(NaiveDate::from_ymd_opt(2025, 3, 1).unwrap()).start;
        let reading = |pod: usize, hour: i64, quarter: i64, wh: i64, injection: bool| Reading {
            line: 0,
            pod: format!("IT001E{pod:08}"),
            interval_start: start + hour * 3600 + quarter * 900,
            interval_minutes: 15,
            direction: if injection {
                Direction::Injection
            } else {
                Direction::Withdrawal
            },
            wh,
        };
        // Batches: POD 0 alone (two months), then PODs 1 and 2 interleaved, then POD 0 again
        // (after its curves went out), then POD 3 with an hour beyond the compact cells.
        let batches: Vec<Vec<Reading>> = vec![
            (0..800).map(|h| reading(0, h, 0, h % 97, false)).collect(),
            (0..400)
                .flat_map(|h| [reading(1, h, 1, 5, true), reading(2, h, 2, 7, false)])
                .collect(),
            vec![reading(0, 3, 3, 11, false)],
            vec![
                reading(3, 0, 0, 3_000_000_000, false),
                reading(3, 1, 0, 4, false),
            ],
        ];
        let mut curves = ImportCurves::with_budget(import_id, 2_000);
        let mut sql = OnConnection(&db);
        for batch in &batches {
            let rows: Vec<String> = batch
                .iter()
                .map(|r| {
                    format!(
                        "('{}', '{}', {}, 15, {}, 1, {import_id})",
                        r.pod,
                        if r.direction == Direction::Injection {
                            'I'
                        } else {
                            'W'
                        },
                        r.interval_start,
                        r.wh
                    )
                })
                .collect();
            db.execute_unprepared(&format!(
                "INSERT INTO readings (pod, direction, interval_start, interval_minutes, wh, revision, import_id) VALUES {}",
                rows.join(", ")
            ))
            .await
            .unwrap();
            let refs: Vec<&Reading> = batch.iter().collect();
            curves.add(&refs);
            curves.spill_if_over(&mut sql).await.unwrap();
        }
        let given_up = curves.finish(&mut sql).await.unwrap();
        assert!(
            given_up.contains("IT001E00000000"),
            "POD 0 came back after it was written"
        );
        assert!(
            given_up.contains("IT001E00000003"),
            "POD 3 has an hour beyond i32"
        );
        assert_eq!(given_up.len(), 2, "PODs 1 and 2 were spilled, not given up");
        let ranges: Vec<(String, i64, i64)> = given_up
            .iter()
            .map(|pod| (pod.clone(), start, start + 800 * 3600))
            .collect();
        rebuild(&mut sql, &ranges).await.unwrap();
        let stored = |db: &sea_orm::DatabaseConnection| {
            let db = db.clone();
            async move {
                let rows = db
                    .query_all_raw(Statement::from_string(
                        DbBackend::Sqlite,
                        "SELECT pod, direction, month_start, data FROM reading_curves ORDER BY 1, 2, 3",
                    ))
                    .await
                    .unwrap();
                rows.iter()
                    .map(|r| {
                        (
                            r.try_get::<String>("", "pod").unwrap(),
                            r.try_get::<String>("", "direction").unwrap(),
                            r.try_get::<i64>("", "month_start").unwrap(),
                            r.try_get::<Vec<u8>>("", "data").unwrap(),
                        )
                    })
                    .collect::<Vec<_>>()
            }
        };
        let summed = stored(&db).await;
        assert_eq!(
            summed.len(),
            5,
            "POD 0 in March and April, PODs 1, 2, 3 in March"
        );
        db.execute_unprepared("DELETE FROM reading_curves")
            .await
            .unwrap();
        let all: Vec<(String, i64, i64)> = (0..4)
            .map(|p| (format!("IT001E{p:08}"), start, start + 800 * 3600))
            .collect();
        rebuild(&mut sql, &all).await.unwrap();
        assert_eq!(summed, stored(&db).await);
    }
}
