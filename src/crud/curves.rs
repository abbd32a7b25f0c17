//! The hourly curves beside the readings (`domain::curves`): rebuilt from `readings` after every
//! write that touches them, in the writer's transaction, and read by the settlement.
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement, TransactionTrait};

use crate::domain::curves::{self, CurveMonth, HourCell};

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
        sql.run(&format!(
            "INSERT INTO reading_curves (pod, direction, month_start, data) VALUES {}",
            chunk.join(", ")
        ))
        .await?;
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
