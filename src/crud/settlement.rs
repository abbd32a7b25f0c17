//! Settlement queries: policies, the period's inputs (aggregated in SQL, so a month of a
//! thousand PODs comes back as a few thousand rows), runs and their lines.
use chrono::NaiveDate;
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set, Statement,
};

use super::readings::{MembershipWindow, windows_cte};
use super::scope::{self, CommunityScope};
use crate::models::enums::{HolderType, ParameterCode, RunStatus};
use crate::models::{market_parameter, settlement_line, settlement_policy, settlement_run};

/// The policy version in force for a period starting on `period_start`.
pub async fn policy_for(
    db: &impl ConnectionTrait,
    configuration_id: i32,
    period_start: NaiveDate,
) -> Result<Option<settlement_policy::Model>, DbErr> {
    settlement_policy::Entity::find()
        .filter(settlement_policy::Column::ConfigurationId.eq(configuration_id))
        .filter(settlement_policy::Column::ValidFrom.lte(period_start))
        .order_by_desc(settlement_policy::Column::ValidFrom)
        .order_by_desc(settlement_policy::Column::Version)
        .one(db)
        .await
}

pub async fn policies(
    db: &impl ConnectionTrait,
    configuration_id: i32,
) -> Result<Vec<settlement_policy::Model>, DbErr> {
    settlement_policy::Entity::find()
        .filter(settlement_policy::Column::ConfigurationId.eq(configuration_id))
        .order_by_asc(settlement_policy::Column::Version)
        .all(db)
        .await
}

/// Stores a new version (the caller holds the configuration's write lock).
pub async fn insert_policy(
    db: &impl ConnectionTrait,
    configuration_id: i32,
    valid_from: NaiveDate,
    document: String,
    note: Option<String>,
    created_by: i32,
) -> Result<settlement_policy::Model, DbErr> {
    let latest = settlement_policy::Entity::find()
        .filter(settlement_policy::Column::ConfigurationId.eq(configuration_id))
        .order_by_desc(settlement_policy::Column::Version)
        .one(db)
        .await?;
    settlement_policy::ActiveModel {
        configuration_id: Set(configuration_id),
        version: Set(latest.map_or(1, |p| p.version + 1)),
        valid_from: Set(valid_from),
        document: Set(document),
        note: Set(note),
        created_by: Set(Some(created_by)),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Parameter rows whose validity overlaps `[from, to]` (dates inclusive).
pub async fn parameters_overlapping(
    db: &impl ConnectionTrait,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<market_parameter::Model>, DbErr> {
    market_parameter::Entity::find()
        .filter(market_parameter::Column::ValidFrom.lte(to))
        .filter(
            Condition::any()
                .add(market_parameter::Column::ValidTo.is_null())
                .add(market_parameter::Column::ValidTo.gt(from)),
        )
        .order_by_asc(market_parameter::Column::Id)
        .all(db)
        .await
}

/// Every row of one parameter, whatever its validity (rules looked up on days outside the
/// period, such as a notification's).
pub async fn parameters_with_code(
    db: &impl ConnectionTrait,
    code: ParameterCode,
) -> Result<Vec<market_parameter::Model>, DbErr> {
    market_parameter::Entity::find()
        .filter(market_parameter::Column::Code.eq(code.as_str()))
        .order_by_asc(market_parameter::Column::Id)
        .all(db)
        .await
}

/// The value (millionths) of a parameter valid on `day`, if one is.
pub async fn parameter_on(
    db: &impl ConnectionTrait,
    code: ParameterCode,
    day: NaiveDate,
) -> Result<Option<i64>, DbErr> {
    Ok(parameters_with_code(db, code)
        .await?
        .into_iter()
        .filter(|r| r.valid_from <= day && r.valid_to.is_none_or(|to| to > day))
        .max_by_key(|r| r.valid_from)
        .map(|r| r.value_micro))
}

/// Hourly `(hour, injected Wh, withdrawn Wh)` of the readings inside `spans` (PODs over
/// `[from_ts, to_ts)`), in `[from, to)`.
pub async fn hourly_totals_of(
    db: &impl ConnectionTrait,
    spans: &[MembershipWindow],
    from: i64,
    to: i64,
) -> Result<Vec<(i64, i64, i64)>, DbErr> {
    if spans.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "{} SELECT (r.interval_start / 3600) * 3600 AS hour, \
           CAST(SUM(CASE WHEN r.direction = 'I' THEN r.wh ELSE 0 END) AS BIGINT) AS injected, \
           CAST(SUM(CASE WHEN r.direction = 'W' THEN r.wh ELSE 0 END) AS BIGINT) AS withdrawn \
         FROM readings r JOIN m ON r.pod = m.pod AND r.interval_start >= m.from_ts AND r.interval_start < m.to_ts \
         WHERE r.direction IN ('I', 'W') AND r.interval_start >= {from} AND r.interval_start < {to} \
         GROUP BY (r.interval_start / 3600) * 3600",
        windows_cte(spans)
    );
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("", "hour")?,
                r.try_get("", "injected")?,
                r.try_get("", "withdrawn")?,
            ))
        })
        .collect()
}

/// The configuration's stored hourly totals in `[from, to)`: `(hour, injected Wh, withdrawn Wh)`.
pub async fn configuration_hours(
    db: &impl ConnectionTrait,
    configuration_id: i32,
    from: i64,
    to: i64,
) -> Result<Vec<(i64, i64, i64)>, DbErr> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "SELECT hour_start, injected_wh, withdrawn_wh FROM configuration_hours \
             WHERE configuration_id = $1 AND hour_start >= $2 AND hour_start < $3 ORDER BY hour_start",
            [configuration_id.into(), from.into(), to.into()],
        ))
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("", "hour_start")?,
                r.try_get("", "injected_wh")?,
                r.try_get("", "withdrawn_wh")?,
            ))
        })
        .collect()
}

/// Hourly injection `(hour, POD, Wh)` of the PODs in `windows` (those with plants), each only
/// while its membership covers the instant, in `[from, to)`.
pub async fn hourly_injection(
    db: &impl ConnectionTrait,
    windows: &[MembershipWindow],
    from: i64,
    to: i64,
) -> Result<Vec<(i64, String, i64)>, DbErr> {
    if windows.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "{} SELECT (r.interval_start / 3600) * 3600 AS hour, r.pod AS pod, CAST(SUM(r.wh) AS BIGINT) AS wh \
         FROM readings r JOIN m ON r.pod = m.pod AND r.interval_start >= m.from_ts AND r.interval_start < m.to_ts \
         WHERE r.direction = 'I' AND r.interval_start >= {from} AND r.interval_start < {to} \
         GROUP BY (r.interval_start / 3600) * 3600, r.pod",
        windows_cte(windows)
    );
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("", "hour")?,
                r.try_get("", "pod")?,
                r.try_get("", "wh")?,
            ))
        })
        .collect()
}

/// Hourly withdrawal `(hour, holder type, Wh)` of the members in `windows`, grouped by their
/// holder type, each only while its window covers the instant, in `[from, to)`.
pub async fn hourly_withdrawal_by_holder(
    db: &impl ConnectionTrait,
    windows: &[(MembershipWindow, HolderType)],
    from: i64,
    to: i64,
) -> Result<Vec<(i64, HolderType, i64)>, DbErr> {
    if windows.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<String> = windows
        .iter()
        .map(|(w, holder)| {
            format!(
                "('{}', '{}', CAST({} AS BIGINT), CAST({} AS BIGINT))",
                w.pod,
                holder.as_str(),
                w.from,
                w.to
            )
        })
        .collect();
    let sql = format!(
        "WITH m(pod, holder_type, from_ts, to_ts) AS (VALUES {}) \
         SELECT (r.interval_start / 3600) * 3600 AS hour, m.holder_type AS holder_type, \
           CAST(SUM(r.wh) AS BIGINT) AS wh \
         FROM m JOIN readings r ON r.pod = m.pod AND r.direction = 'W' \
           AND r.interval_start >= m.from_ts AND r.interval_start < m.to_ts \
         WHERE r.interval_start >= {from} AND r.interval_start < {to} \
         GROUP BY (r.interval_start / 3600) * 3600, m.holder_type",
        rows.join(", ")
    );
    let found = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?;
    found
        .iter()
        .map(|r| {
            let code: String = r.try_get("", "holder_type")?;
            let holder = HolderType::from_code(&code)
                .ok_or_else(|| DbErr::Custom(format!("unknown holder type {code}")))?;
            Ok((r.try_get("", "hour")?, holder, r.try_get("", "wh")?))
        })
        .collect()
}

/// `(hour start, minutes of readings)` of one POD and direction in `[from, to)`: to find the
/// hours a member's data leave uncovered (asked only for the points with gaps).
pub async fn covered_hours(
    db: &impl ConnectionTrait,
    pod: &str,
    direction: &str,
    from: i64,
    to: i64,
) -> Result<Vec<(i64, i64)>, DbErr> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "SELECT (interval_start / 3600) * 3600 AS hour, CAST(SUM(interval_minutes) AS BIGINT) AS minutes \
             FROM readings WHERE pod = $1 AND direction = $2 AND interval_start >= $3 AND interval_start < $4 \
             GROUP BY (interval_start / 3600) * 3600",
            [pod.into(), direction.into(), from.into(), to.into()],
        ))
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("", "hour")?, r.try_get("", "minutes")?)))
        .collect()
}

/// One member's readings in the period, for one direction.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemberReadings {
    pub member_id: i32,
    pub direction: String,
    pub wh: i64,
    /// Minutes of the period covered by readings (to count the hours without data).
    pub minutes: i64,
    /// Withdrawals only: Σ of `wh × EAC_h / With_h`, in milli-Wh, exact integers (truncated per
    /// reading on PostgreSQL, per member-hour on SQLite: the same for hourly data).
    pub shared_mwh: i64,
    /// For the fingerprint: how many readings, the sum of their revisions, the last import.
    pub rows: i64,
    pub revisions: i64,
    pub last_import: i64,
}

/// An hour in which the configuration shared energy: `(hour, EAC_h Wh, With_h Wh)`.
pub type SharedHour = (i64, i64, i64);

/// Per member and direction, in one pass over the period's readings. Naming both directions
/// lets the readings' key `(pod, direction, interval_start)` bound the scan to the period.
///
/// `shared_hours` (only the hours with shared energy) travel as a literal table: a lookup into
/// that small table costs about a third less per reading than one into `configuration_hours`
/// (measured on the settlement benchmark), and the readings are the whole cost of a run.
pub async fn member_readings(
    db: &impl ConnectionTrait,
    windows: &[MembershipWindow],
    shared_hours: &[SharedHour],
    from: i64,
    to: i64,
) -> Result<Vec<MemberReadings>, DbErr> {
    if windows.is_empty() {
        return Ok(Vec::new());
    }
    let mut shares: Vec<String> = shared_hours
        .iter()
        .filter(|(_, shared, withdrawn)| *shared > 0 && *withdrawn > 0)
        .map(|(hour, shared, withdrawn)| {
            format!(
                "(CAST({hour} AS BIGINT), CAST({shared} AS BIGINT), CAST({withdrawn} AS BIGINT))"
            )
        })
        .collect();
    if shares.is_empty() {
        // VALUES needs a row: one that matches no reading.
        shares.push("(CAST(-1 AS BIGINT), CAST(0 AS BIGINT), CAST(1 AS BIGINT))".into());
    }
    let ctes = format!(
        "{}, s(hour_start, shared_wh, withdrawn_wh) AS (VALUES {})",
        windows_cte(windows),
        shares.join(", ")
    );
    // PostgreSQL joins each reading with its hour's share. SQLite first sums each member's
    // readings per hour (a streaming aggregation along its clustered key) and looks the share up
    // once per hour: four times fewer lookups for quarter-hour data (2.2 → 1.7 s a month), at
    // some cost for hourly data (0.5 → 0.8 s); on PostgreSQL the same rewrite was slower for
    // both (BENCHMARKS.md). With hourly data the two give identical weights; with sub-hourly
    // data SQLite truncates per hour and PostgreSQL per reading (< 1 milli-Wh per reading).
    let per_reading = "CAST(SUM(r.wh) AS BIGINT) AS wh, CAST(SUM(r.interval_minutes) AS BIGINT) AS minutes, \
         CAST(SUM(CASE WHEN r.direction = 'W' AND s.withdrawn_wh > 0 THEN \
           (r.wh * 1000 * s.shared_wh) / s.withdrawn_wh ELSE 0 END) AS BIGINT) AS shared_mwh, \
         CAST(COUNT(*) AS BIGINT) AS row_count, CAST(SUM(r.revision) AS BIGINT) AS revisions, \
         CAST(MAX(r.import_id) AS BIGINT) AS last_import";
    let hours = "LEFT JOIN s ON s.hour_start = (r.interval_start / 3600) * 3600";
    let per_hour = "CAST(SUM(h.wh) AS BIGINT) AS wh, CAST(SUM(h.minutes) AS BIGINT) AS minutes, \
         CAST(SUM(CASE WHEN h.direction = 'W' AND s.withdrawn_wh > 0 THEN \
           (h.wh * 1000 * s.shared_wh) / s.withdrawn_wh ELSE 0 END) AS BIGINT) AS shared_mwh, \
         CAST(SUM(h.n) AS BIGINT) AS row_count, CAST(SUM(h.revisions) AS BIGINT) AS revisions, \
         CAST(MAX(h.last_import) AS BIGINT) AS last_import";
    let bounds = format!(
        "r.direction IN ('I', 'W') AND r.interval_start >= m.from_ts AND r.interval_start < m.to_ts \
         AND r.interval_start >= {from} AND r.interval_start < {to}"
    );
    let sql = match db.get_database_backend() {
        // A lateral subquery pins PostgreSQL to one index range per member, aggregated on the
        // spot: with fresh statistics it would otherwise scan the whole table in parallel.
        sea_orm::DbBackend::Postgres => format!(
            "{ctes} SELECT m.member_id AS member_id, x.* FROM m CROSS JOIN LATERAL ( \
               SELECT r.direction AS direction, {per_reading} FROM readings r {hours} \
               WHERE r.pod = m.pod AND {bounds} GROUP BY r.direction) x ORDER BY 1, 2"
        ),
        _ => format!(
            "{ctes}, h AS (SELECT m.member_id AS member_id, r.direction AS direction, \
               (r.interval_start / 3600) * 3600 AS hour, SUM(r.wh) AS wh, SUM(r.interval_minutes) AS minutes, \
               COUNT(*) AS n, SUM(r.revision) AS revisions, MAX(r.import_id) AS last_import \
               FROM m JOIN readings r ON r.pod = m.pod WHERE {bounds} \
               GROUP BY m.member_id, r.direction, (r.interval_start / 3600) * 3600) \
             SELECT h.member_id AS member_id, h.direction AS direction, {per_hour} \
             FROM h LEFT JOIN s ON s.hour_start = h.hour GROUP BY h.member_id, h.direction ORDER BY 1, 2"
        ),
    };
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?;
    let mut out = Vec::new();
    for r in rows {
        out.push(MemberReadings {
            member_id: r.try_get("", "member_id")?,
            direction: r.try_get("", "direction")?,
            wh: r.try_get("", "wh")?,
            minutes: r.try_get("", "minutes")?,
            shared_mwh: r.try_get("", "shared_mwh")?,
            rows: r.try_get("", "row_count")?,
            revisions: r.try_get("", "revisions")?,
            last_import: r.try_get("", "last_import")?,
        });
    }
    Ok(out)
}

pub async fn find_run_in_scope(
    db: &impl ConnectionTrait,
    scope: CommunityScope,
    id: i32,
) -> Result<Option<settlement_run::Model>, DbErr> {
    settlement_run::Entity::find_by_id(id)
        .filter(scope::settlement_runs(scope))
        .one(db)
        .await
}

pub async fn runs_of(
    db: &impl ConnectionTrait,
    configuration_id: i32,
) -> Result<Vec<settlement_run::Model>, DbErr> {
    settlement_run::Entity::find()
        .filter(settlement_run::Column::ConfigurationId.eq(configuration_id))
        .order_by_desc(settlement_run::Column::PeriodStart)
        .order_by_desc(settlement_run::Column::Id)
        .all(db)
        .await
}

/// The newest run's id of the configuration's period (to tell stale previews).
pub async fn latest_run_id(
    db: &impl ConnectionTrait,
    configuration_id: i32,
    period_start: NaiveDate,
) -> Result<Option<i32>, DbErr> {
    Ok(settlement_run::Entity::find()
        .filter(settlement_run::Column::ConfigurationId.eq(configuration_id))
        .filter(settlement_run::Column::PeriodStart.eq(period_start))
        .order_by_desc(settlement_run::Column::Id)
        .one(db)
        .await?
        .map(|r| r.id))
}

/// Deletes a preview and its lines; false when the run is no longer a preview (finalised and
/// superseded runs are kept: the ledger refers to them).
pub async fn delete_preview(db: &impl ConnectionTrait, run_id: i32) -> Result<bool, DbErr> {
    let preview = settlement_run::Entity::find_by_id(run_id)
        .filter(settlement_run::Column::Status.eq(RunStatus::Preview))
        .one(db)
        .await?;
    if preview.is_none() {
        return Ok(false);
    }
    settlement_line::Entity::delete_many()
        .filter(settlement_line::Column::RunId.eq(run_id))
        .exec(db)
        .await?;
    let deleted = settlement_run::Entity::delete_many()
        .filter(settlement_run::Column::Id.eq(run_id))
        .filter(settlement_run::Column::Status.eq(RunStatus::Preview))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected == 1)
}

/// The run currently finalised for the configuration's period, if any.
pub async fn finalized_run(
    db: &impl ConnectionTrait,
    configuration_id: i32,
    period_start: NaiveDate,
) -> Result<Option<settlement_run::Model>, DbErr> {
    settlement_run::Entity::find()
        .filter(settlement_run::Column::ConfigurationId.eq(configuration_id))
        .filter(settlement_run::Column::PeriodStart.eq(period_start))
        .filter(settlement_run::Column::Status.eq(RunStatus::Finalized))
        .one(db)
        .await
}

/// The finalised runs of the configuration's months from January of `period_start`'s year up to
/// (not including) `period_start`.
pub async fn finalized_runs_of_year(
    db: &impl ConnectionTrait,
    configuration_id: i32,
    period_start: NaiveDate,
) -> Result<Vec<settlement_run::Model>, DbErr> {
    use chrono::Datelike;
    let january = period_start.with_month(1).unwrap_or(period_start);
    settlement_run::Entity::find()
        .filter(settlement_run::Column::ConfigurationId.eq(configuration_id))
        .filter(settlement_run::Column::Status.eq(RunStatus::Finalized))
        .filter(settlement_run::Column::PeriodStart.gte(january))
        .filter(settlement_run::Column::PeriodStart.lt(period_start))
        .order_by_asc(settlement_run::Column::PeriodStart)
        .all(db)
        .await
}

pub async fn lines_of(
    db: &impl ConnectionTrait,
    run_id: i32,
) -> Result<Vec<settlement_line::Model>, DbErr> {
    settlement_line::Entity::find()
        .filter(settlement_line::Column::RunId.eq(run_id))
        .order_by_asc(settlement_line::Column::Id)
        .all(db)
        .await
}

pub async fn insert_lines(
    db: &impl ConnectionTrait,
    run_id: i32,
    lines: &[crate::domain::month::SettlementLine],
) -> Result<(), DbErr> {
    // Literal rows (integers and our own enum codes only): a run has a few thousand lines, and
    // one statement per 5,000 is several times faster than bound parameters on PostgreSQL.
    for chunk in lines.chunks(5_000) {
        let rows: Vec<String> = chunk
            .iter()
            .map(|line| {
                let member = line
                    .member_id
                    .map_or("NULL".to_string(), |id| id.to_string());
                let energy = line
                    .energy_wh
                    .map_or("NULL".to_string(), |wh| wh.to_string());
                format!(
                    "({run_id}, {member}, '{}', '{}', {energy}, {})",
                    line.account.as_str(),
                    line.kind.as_str(),
                    line.amount_cents
                )
            })
            .collect();
        db.execute_unprepared(&format!(
            "INSERT INTO settlement_lines (run_id, member_id, account, kind, energy_wh, amount_cents) VALUES {}",
            rows.join(", ")
        ))
        .await?;
    }
    Ok(())
}

/// Records why a run with gaps was finalised, and who accepted it.
pub async fn record_acceptance(
    db: &impl ConnectionTrait,
    run_id: i32,
    reason: &str,
    user_id: i32,
) -> Result<(), DbErr> {
    settlement_run::Entity::update_many()
        .col_expr(
            settlement_run::Column::IncompleteReason,
            Expr::value(reason),
        )
        .col_expr(
            settlement_run::Column::IncompleteAcceptedBy,
            Expr::value(user_id),
        )
        .filter(settlement_run::Column::Id.eq(run_id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Moves a run from `from` to `to`; false if it was no longer in `from`.
pub async fn set_status(
    db: &impl ConnectionTrait,
    run_id: i32,
    from: RunStatus,
    to: RunStatus,
    finalized_by: Option<i32>,
    corrects_run_id: Option<i32>,
) -> Result<bool, DbErr> {
    let mut update = settlement_run::Entity::update_many()
        .col_expr(settlement_run::Column::Status, Expr::value(to.as_str()));
    if to == RunStatus::Finalized {
        update = update
            .col_expr(
                settlement_run::Column::FinalizedBy,
                Expr::value(finalized_by),
            )
            .col_expr(
                settlement_run::Column::FinalizedAt,
                Expr::value(chrono::Utc::now()),
            )
            .col_expr(
                settlement_run::Column::CorrectsRunId,
                Expr::value(corrects_run_id),
            );
    }
    let result = update
        .filter(settlement_run::Column::Id.eq(run_id))
        .filter(settlement_run::Column::Status.eq(from))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// The finalised lines of a member in `[from, to]` (by period start), with their period and,
/// for a run finalised with data missing, the operator's reason.
pub async fn member_lines(
    db: &impl ConnectionTrait,
    configuration_id: i32,
    member_ids: &[i32],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(NaiveDate, Option<String>, settlement_line::Model)>, DbErr> {
    let runs = settlement_run::Entity::find()
        .filter(settlement_run::Column::ConfigurationId.eq(configuration_id))
        .filter(settlement_run::Column::Status.eq(RunStatus::Finalized))
        .filter(settlement_run::Column::PeriodStart.gte(from))
        .filter(settlement_run::Column::PeriodStart.lte(to))
        .all(db)
        .await?;
    if runs.is_empty() || member_ids.is_empty() {
        return Ok(Vec::new());
    }
    let lines = settlement_line::Entity::find()
        .filter(settlement_line::Column::RunId.is_in(runs.iter().map(|r| r.id)))
        .filter(settlement_line::Column::MemberId.is_in(member_ids.iter().copied()))
        .order_by_asc(settlement_line::Column::Id)
        .all(db)
        .await?;
    Ok(lines
        .into_iter()
        .filter_map(|line| {
            runs.iter()
                .find(|r| r.id == line.run_id)
                .map(|r| (r.period_start, r.incomplete_reason.clone(), line))
        })
        .collect())
}
