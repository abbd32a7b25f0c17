//! Reading the meter data back: hourly totals for series, and what is missing (coverage).
use std::collections::BTreeMap;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Statement, StreamTrait};

use super::readings::{MembershipWindow, windows_cte};
use crate::domain::energy_series::HourTotals;

/// The configuration's hourly totals in `[from, to)` (kept up to date by imports and
/// membership changes), ascending; hours without data absent.
pub async fn configuration_hourly_totals(
    db: &DatabaseConnection,
    configuration_id: i32,
    from: i64,
    to: i64,
) -> Result<Vec<HourTotals>, DbErr> {
    Ok(
        super::settlement::configuration_hours(db, configuration_id, from, to)
            .await?
            .into_iter()
            .map(|(hour, injected, withdrawn)| HourTotals::configuration(hour, injected, withdrawn))
            .collect(),
    )
}

/// Hourly injected and withdrawn totals of the PODs in `windows`, each counted only while its
/// membership covers the instant, for `[from, to)`; ascending, hours without data absent.
/// Their `shared_mwh` is left at 0: what is shared is the configuration's to attribute
/// (`domain::energy_series::attributed_to_member`).
pub async fn hourly_totals(
    db: &DatabaseConnection,
    windows: &[MembershipWindow],
    from: i64,
    to: i64,
) -> Result<Vec<HourTotals>, DbErr> {
    if windows.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "{} SELECT (r.interval_start / 3600) * 3600 AS hour, r.direction AS direction, CAST(SUM(r.wh) AS BIGINT) AS wh \
         FROM readings r JOIN m ON r.pod = m.pod AND r.interval_start >= m.from_ts AND r.interval_start < m.to_ts \
         WHERE r.interval_start >= {from} AND r.interval_start < {to} \
         GROUP BY (r.interval_start / 3600) * 3600, r.direction ORDER BY 1",
        windows_cte(windows)
    );
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?;
    let mut hours: BTreeMap<i64, HourTotals> = BTreeMap::new();
    for row in rows {
        let hour: i64 = row.try_get("", "hour")?;
        let direction: String = row.try_get("", "direction")?;
        let wh: i64 = row.try_get("", "wh")?;
        let entry = hours.entry(hour).or_insert(HourTotals {
            hour_start: hour,
            injected_wh: 0,
            withdrawn_wh: 0,
            shared_mwh: 0,
        });
        if direction == "I" {
            entry.injected_wh += wh;
        } else {
            entry.withdrawn_wh += wh;
        }
    }
    Ok(hours.into_values().collect())
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Gap {
    /// First missing interval start (UTC, RFC 3339).
    pub from: String,
    /// End of the last missing interval (exclusive).
    pub to: String,
    pub intervals: u64,
}

#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Coverage {
    pub pod: String,
    pub direction: String,
    pub interval_minutes: u32,
    pub expected: u64,
    pub present: u64,
    pub missing: u64,
    pub gaps: Vec<Gap>,
}

fn rfc3339(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|t| t.to_rfc3339())
        .unwrap_or_default()
}

/// For each POD and direction, the intervals of `[from, to)` (within its membership) that have
/// no reading. The step is the POD's own interval (15 or 60 minutes), 15 if it has no data.
pub async fn coverage(
    db: &DatabaseConnection,
    windows: &[MembershipWindow],
    from: i64,
    to: i64,
) -> Result<Vec<Coverage>, DbErr> {
    use futures_util::TryStreamExt;
    let mut out = Vec::new();
    for window in windows {
        let start = window.from.max(from);
        let end = window.to.min(to);
        if start >= end {
            continue;
        }
        for direction in ["I", "W"] {
            let sql = format!(
                "SELECT interval_start, CAST(interval_minutes AS INTEGER) AS interval_minutes FROM readings WHERE pod = '{}' AND direction = '{direction}' \
                 AND interval_start >= {start} AND interval_start < {end} ORDER BY interval_start",
                window.pod
            );
            let mut stream = db
                .stream_raw(Statement::from_string(db.get_database_backend(), sql))
                .await?;
            let mut step = 0i64;
            let mut cursor = start;
            let mut present = 0u64;
            let mut gaps = Vec::new();
            let mut missing = 0u64;
            while let Some(row) = stream.try_next().await? {
                let t: i64 = row.try_get("", "interval_start")?;
                let minutes: i32 = row.try_get("", "interval_minutes")?;
                if step == 0 {
                    step = i64::from(minutes) * 60;
                    // Align the expected grid on the data.
                    cursor = start + (t - start).rem_euclid(step);
                }
                if t > cursor {
                    let n = ((t - cursor) / step) as u64;
                    if n > 0 {
                        gaps.push(Gap {
                            from: rfc3339(cursor),
                            to: rfc3339(cursor + n as i64 * step),
                            intervals: n,
                        });
                        missing += n;
                    }
                }
                present += 1;
                cursor = t + step;
            }
            drop(stream);
            if step == 0 {
                step = 15 * 60;
                cursor = start;
            }
            if cursor < end {
                let n = ((end - cursor + step - 1) / step) as u64;
                gaps.push(Gap {
                    from: rfc3339(cursor),
                    to: rfc3339(cursor + n as i64 * step),
                    intervals: n,
                });
                missing += n;
            }
            out.push(Coverage {
                pod: window.pod.to_string(),
                direction: if direction == "I" {
                    "injection".into()
                } else {
                    "withdrawal".into()
                },
                interval_minutes: (step / 60) as u32,
                expected: present + missing,
                present,
                missing,
                gaps,
            });
        }
    }
    Ok(out)
}
