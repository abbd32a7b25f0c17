//! The import log: what each meter-data or price file did.
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

use super::scope::{self, CommunityScope};
use crate::models::reading_import;

/// A configuration's imports of `kind` (`readings`: its own files and their reverts;
/// `prices`: every price file), newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    configuration_id: i32,
    kind: Option<&str>,
) -> Result<Vec<reading_import::Model>, DbErr> {
    use reading_import::Column;
    let mut belongs = sea_orm::Condition::any();
    if kind != Some("prices") {
        belongs = belongs.add(
            sea_orm::Condition::all()
                .add(Column::Kind.is_in(["readings", "revert"]))
                .add(Column::ConfigurationId.eq(configuration_id)),
        );
    }
    if kind != Some("readings") {
        belongs = belongs.add(Column::Kind.eq("prices"));
    }
    reading_import::Entity::find()
        .filter(belongs)
        .order_by_desc(Column::Id)
        .all(db)
        .await
}

pub async fn find_in_scope(
    db: &impl ConnectionTrait,
    scope: CommunityScope,
    id: i32,
) -> Result<Option<reading_import::Model>, DbErr> {
    reading_import::Entity::find_by_id(id)
        .filter(scope::reading_imports(scope))
        .one(db)
        .await
}

/// What a revert did.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct RevertSummary {
    /// The `revert` record (the import's values are kept as revisions superseded by it).
    pub revert_import_id: i32,
    /// Values the import had changed, back to the revision before it.
    pub restored: u64,
    /// Values the import had added, removed.
    pub removed: u64,
}

/// Why an import cannot be reverted.
#[derive(Debug, thiserror::Error)]
pub enum RevertError {
    #[error(
        "import {0} is not a meter-data import: price imports keep no earlier values to restore"
    )]
    NotReadings(i32),
    #[error("import {id} was already reverted (by import {by})")]
    AlreadyReverted { id: i32, by: i32 },
    #[error(
        "values of import {id} were changed since by import(s) {}: revert those first",
        .later.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
    )]
    ChangedLater { id: i32, later: Vec<i32> },
    #[error(transparent)]
    Database(#[from] DbErr),
}

fn one_i64(row: Option<sea_orm::QueryResult>, column: &str) -> Result<Option<i64>, DbErr> {
    match row {
        Some(row) => row.try_get("", column),
        None => Ok(None),
    }
}

/// Undoes a meter-data import in one transaction (the caller's, holding the configuration's
/// lock): every value it changed goes back to the revision before it, every value it added
/// is removed, and the configuration's hourly totals over the import's hours are recomputed
/// from the readings inside `windows` (the memberships as they are now), as are the PODs'
/// curves. Nothing is deleted
/// from the history: the import's values move to `reading_revisions`, superseded by a new
/// `revert` record, and a restored value is a new revision that names the import it came
/// from — so that import can be reverted in turn. Values changed later by an import that was
/// itself reverted do not hold a revert back.
pub async fn revert(
    txn: &impl ConnectionTrait,
    import: &reading_import::Model,
    windows: &[crate::crud::readings::MembershipWindow],
    user_id: i32,
) -> Result<RevertSummary, RevertError> {
    use sea_orm::Statement;
    let id = import.id;
    if import.kind != "readings" {
        return Err(RevertError::NotReadings(id));
    }
    if let Some(by) = import.reverted_by_import_id {
        return Err(RevertError::AlreadyReverted { id, by });
    }
    let backend = txn.get_database_backend();
    let later: Vec<i32> = txn
        .query_all_raw(Statement::from_string(
            backend,
            format!(
                "SELECT DISTINCT superseded_by AS later FROM reading_revisions WHERE import_id = {id} \
                 AND superseded_by NOT IN (SELECT i.id FROM reading_imports i \
                   WHERE i.reverted_by_import_id IS NOT NULL OR i.kind = 'revert') \
                 ORDER BY superseded_by LIMIT 20"
            ),
        ))
        .await?
        .iter()
        .map(|r| r.try_get("", "later"))
        .collect::<Result<_, _>>()?;
    if !later.is_empty() {
        return Err(RevertError::ChangedLater { id, later });
    }
    let configuration_id = import.configuration_id.unwrap_or_default();
    // Each POD's span of the import's values: their curves are rebuilt once the values moved.
    let pod_ranges: Vec<(String, i64, i64)> = txn
        .query_all_raw(Statement::from_string(
            backend,
            format!(
                "SELECT pod, CAST(MIN(interval_start) AS BIGINT) AS first, CAST(MAX(interval_start) AS BIGINT) AS last \
                 FROM readings WHERE import_id = {id} GROUP BY pod"
            ),
        ))
        .await?
        .iter()
        .map(|r| Ok((r.try_get("", "pod")?, r.try_get("", "first")?, r.try_get("", "last")?)))
        .collect::<Result<_, DbErr>>()?;
    let range = txn
        .query_one_raw(Statement::from_string(
            backend,
            format!(
                "SELECT CAST(MIN(interval_start) AS BIGINT) AS first, CAST(MAX(interval_start) AS BIGINT) AS last \
                 FROM readings WHERE import_id = {id}"
            ),
        ))
        .await?;
    let (first, last) = match &range {
        Some(row) => (
            row.try_get::<Option<i64>>("", "first")?,
            row.try_get::<Option<i64>>("", "last")?,
        ),
        None => (None, None),
    };
    let revert_id: i32 = one_i64(
        txn.query_one_raw(Statement::from_sql_and_values(
            backend,
            "INSERT INTO reading_imports (configuration_id, kind, source, format, uploaded_by, rows, intervals, pods, \
             new_values, revised_values, unchanged, created_at) \
             VALUES ($1, 'revert', $2, 'revert', $3, 0, 0, 0, 0, 0, 0, $4) RETURNING CAST(id AS BIGINT) AS id",
            [
                configuration_id.into(),
                format!("revert of import {id}").into(),
                user_id.into(),
                chrono::Utc::now().into(),
            ],
        ))
        .await?,
        "id",
    )?
    .ok_or(DbErr::RecordNotInserted)? as i32;
    let key = "p.pod = readings.pod AND p.direction = readings.direction AND p.interval_start = readings.interval_start";
    // The import's values join the history, superseded by the revert.
    txn.execute_unprepared(&format!(
        "INSERT INTO reading_revisions (pod, direction, interval_start, interval_minutes, wh, revision, import_id, superseded_by) \
         SELECT pod, direction, interval_start, interval_minutes, wh, revision, import_id, {revert_id} \
         FROM readings WHERE import_id = {id}"
    ))
    .await?;
    let restored = txn
        .execute_unprepared(&format!(
            "UPDATE readings SET wh = p.wh, interval_minutes = p.interval_minutes, revision = readings.revision + 1, \
             import_id = p.import_id FROM reading_revisions p \
             WHERE readings.import_id = {id} AND p.superseded_by = {id} AND {key}"
        ))
        .await?
        .rows_affected();
    let removed = txn
        .execute_unprepared(&format!("DELETE FROM readings WHERE import_id = {id}"))
        .await?
        .rows_affected();
    if let (Some(first), Some(last)) = (first, last) {
        let (from, to) = (
            first - first.rem_euclid(3600),
            last - last.rem_euclid(3600) + 3600,
        );
        txn.execute_unprepared(&format!(
            "DELETE FROM configuration_hours WHERE configuration_id = {configuration_id} \
             AND hour_start >= {from} AND hour_start < {to}"
        ))
        .await?;
        if !windows.is_empty() {
            txn.execute_unprepared(&format!(
                "{} \
                 INSERT INTO configuration_hours (configuration_id, hour_start, injected_wh, withdrawn_wh) \
                 SELECT {configuration_id}, (r.interval_start / 3600) * 3600, \
                   SUM(CASE WHEN r.direction = 'I' THEN r.wh ELSE 0 END), \
                   SUM(CASE WHEN r.direction = 'W' THEN r.wh ELSE 0 END) \
                 FROM readings r JOIN m ON r.pod = m.pod AND r.interval_start >= m.from_ts AND r.interval_start < m.to_ts \
                 WHERE r.interval_start >= {from} AND r.interval_start < {to} \
                 GROUP BY (r.interval_start / 3600) * 3600",
                super::readings::windows_cte(windows)
            ))
            .await?;
        }
    }
    crate::crud::curves::rebuild(&mut crate::crud::curves::OnConnection(txn), &pod_ranges).await?;
    txn.execute_unprepared(&format!(
        "UPDATE reading_imports SET rows = {n}, intervals = {n}, revised_values = {restored}, new_values = 0, \
         unchanged = 0 WHERE id = {revert_id}",
        n = restored + removed
    ))
    .await?;
    txn.execute_unprepared(&format!(
        "UPDATE reading_imports SET reverted_by_import_id = {revert_id} WHERE id = {id}"
    ))
    .await?;
    Ok(RevertSummary {
        revert_import_id: revert_id,
        restored,
        removed,
    })
}
