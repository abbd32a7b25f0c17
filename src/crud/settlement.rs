//! Settlement queries: policies, parameters, runs and their lines (the members' readings come
//! from their curves, `crud::curves`).
use chrono::NaiveDate;
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set, Statement,
};

use super::scope::{self, CommunityScope};
use crate::models::enums::{ParameterCode, RunStatus};
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

/// The run's lines are `lines`, whatever it had before.
pub async fn replace_lines(
    db: &impl ConnectionTrait,
    run_id: i32,
    lines: &[crate::domain::month::SettlementLine],
) -> Result<(), DbErr> {
    settlement_line::Entity::delete_many()
        .filter(settlement_line::Column::RunId.eq(run_id))
        .exec(db)
        .await?;
    insert_lines(db, run_id, lines).await
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
