//! Settlement: the sharing-out policy's versions, monthly runs (preview → finalise → correct)
//! and members' statements. The computation lives in `crate::settlement`; here are who may do
//! what, on which configuration, and the locks around the writes. The API and
//! `condivisa settle` call these.
use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use sea_orm::{DatabaseConnection, TransactionTrait};

use super::{Actor, Outcome, Place, Problem, ServiceError, configurations, members};
use crate::core::permissions::Permission;
use crate::crud;
use crate::crud::scope::CommunityScope;
use crate::models::{configuration, settlement_policy, settlement_run};
use crate::schemas::settlement::PolicyCreate;
use crate::settlement::{self, Finalization, Period, SettleError, Statement};

impl From<SettleError> for ServiceError {
    fn from(error: SettleError) -> Self {
        match error {
            SettleError::Database(error) => ServiceError::Database(error),
            other => ServiceError::Conflict(other.to_string()),
        }
    }
}

/// The configuration's own policy version that applies to `period`, if it has one.
pub async fn policy(
    actor: &Actor,
    db: &DatabaseConnection,
    configuration_id: i32,
    period: Period,
) -> Outcome<Option<settlement_policy::Model>> {
    let configuration = configurations::visible(actor, db, configuration_id).await?;
    Ok(crud::settlement::policy_for(db, configuration.id, period.start).await?)
}

/// Every version of the configuration's policy, oldest first.
pub async fn policy_versions(
    actor: &Actor,
    db: &DatabaseConnection,
    configuration_id: i32,
) -> Outcome<Vec<settlement_policy::Model>> {
    let configuration = configurations::visible(actor, db, configuration_id).await?;
    Ok(crud::settlement::policies(db, configuration.id).await?)
}

/// Adopts a new version of the policy from the first day of a month; versions are numbered
/// under the configuration's policy lock.
pub async fn adopt_policy(
    actor: &Actor,
    db: &DatabaseConnection,
    configuration_id: i32,
    input: PolicyCreate,
) -> Outcome<settlement_policy::Model> {
    let configuration = configurations::visible(actor, db, configuration_id).await?;
    actor.require(Permission::SettlementsWrite)?;
    if input.valid_from.day() != 1 {
        return Err(ServiceError::invalid(
            "valid_from",
            "must be the first day of a month",
            "value_error",
        ));
    }
    let problems: Vec<Problem> = input
        .document
        .problems()
        .into_iter()
        .map(|(field, message)| {
            let mut place = vec![Place::Body, Place::Field("document".into())];
            place.extend(field.split('.').map(|part| Place::Field(part.into())));
            Problem {
                place,
                message,
                kind: "value_error".into(),
            }
        })
        .collect();
    if !problems.is_empty() {
        return Err(ServiceError::Invalid(problems));
    }
    let document = serde_json::to_string(&input.document).map_err(anyhow::Error::from)?;
    let txn = db.begin().await?;
    crud::write_lock(&txn, &format!("policy:{}", configuration.id)).await?;
    let policy = crud::settlement::insert_policy(
        &txn,
        configuration.id,
        input.valid_from,
        document,
        input.note,
        actor.user_id,
    )
    .await?;
    txn.commit().await?;
    Ok(policy)
}

async fn settleable(
    actor: &Actor,
    db: &DatabaseConnection,
    configuration_id: i32,
) -> Outcome<configuration::Model> {
    let configuration = configurations::visible(actor, db, configuration_id).await?;
    actor.require(Permission::SettlementsRead)?;
    Ok(configuration)
}

/// Computes a month and stores it as a preview; `progress` hears each step's name.
pub async fn preview(
    actor: &Actor,
    db: &DatabaseConnection,
    configuration_id: i32,
    period: Period,
    progress: &(dyn Fn(&str) + Sync),
) -> Outcome<settlement_run::Model> {
    let configuration = settleable(actor, db, configuration_id).await?;
    actor.require(Permission::SettlementsWrite)?;
    Ok(settlement::preview(db, &configuration, period, Some(actor.user_id), progress).await?)
}

/// The configuration's runs, newest period first, each with the id of the latest run of its
/// month (an older preview is stale).
pub async fn runs(
    actor: &Actor,
    db: &DatabaseConnection,
    configuration_id: i32,
) -> Outcome<Vec<(settlement_run::Model, i32)>> {
    let configuration = settleable(actor, db, configuration_id).await?;
    let runs = crud::settlement::runs_of(db, configuration.id).await?;
    let mut latest: HashMap<NaiveDate, i32> = HashMap::new();
    for run in &runs {
        let id = latest.entry(run.period_start).or_insert(run.id);
        *id = (*id).max(run.id);
    }
    Ok(runs
        .into_iter()
        .map(|run| {
            let newest = latest[&run.period_start];
            (run, newest)
        })
        .collect())
}

/// A run in the actor's scope, with the id of the latest run of its month.
pub async fn visible_run(
    actor: &Actor,
    db: &DatabaseConnection,
    id: i32,
) -> Outcome<(settlement_run::Model, i32)> {
    actor.require(Permission::SettlementsRead)?;
    let run = crud::settlement::find_run_in_scope(db, actor.community_scope(), id)
        .await?
        .ok_or(ServiceError::NotFound("Settlement"))?;
    let latest = crud::settlement::latest_run_id(db, run.configuration_id, run.period_start)
        .await?
        .unwrap_or(run.id);
    Ok((run, latest))
}

/// Deletes a preview; finalised and superseded runs stay (the ledger refers to them).
pub async fn delete_preview(actor: &Actor, db: &DatabaseConnection, id: i32) -> Outcome<()> {
    let (run, _) = visible_run(actor, db, id).await?;
    actor.require(Permission::SettlementsWrite)?;
    let txn = db.begin().await?;
    crud::write_lock(&txn, &format!("settlement:{}", run.configuration_id)).await?;
    if !crud::settlement::delete_preview(&txn, run.id).await? {
        return Err(ServiceError::conflict(format!(
            "Settlement run {} is {}: only previews are deleted (the ledger refers to finalised runs)",
            run.id,
            run.status.as_str()
        )));
    }
    txn.commit().await?;
    Ok(())
}

/// Writes the run into the ledger. `accept_incomplete` is the reason for finalising with data
/// missing (`None`: refuse when data are missing); an empty reason is refused.
pub async fn finalize(
    actor: &Actor,
    db: &DatabaseConnection,
    id: i32,
    accept_incomplete: Option<Option<String>>,
) -> Outcome<(Finalization, settlement_run::Model, i32)> {
    let (run, _) = visible_run(actor, db, id).await?;
    actor.require(Permission::SettlementsWrite)?;
    let reason = match accept_incomplete {
        Some(reason) => Some(
            reason
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty())
                .ok_or_else(|| {
                    ServiceError::invalid(
                        "reason",
                        "Say why the month is finalised with data missing (accept_incomplete needs a reason)",
                        "conditionally_required",
                    )
                })?,
        ),
        None => None,
    };
    let configuration =
        crud::configurations::find_in_scope(db, CommunityScope::All, run.configuration_id)
            .await?
            .ok_or(ServiceError::NotFound("Configuration"))?;
    let finalization =
        settlement::finalize(db, &run, &configuration, actor.user_id, reason.as_deref()).await?;
    // Only the call that finalised (the others find the run final and write nothing).
    if finalization.transactions_written > 0 {
        actor
            .audit(
                db,
                "settlement.finalized",
                ("settlement_run", Some(i64::from(run.id))),
                Some(run.configuration_id),
                serde_json::json!({
                    "ledger_rows": finalization.transactions_written,
                    "corrects_run_id": finalization.corrects_run_id,
                    "accepted_incomplete": reason,
                }),
            )
            .await?;
    }
    let (run, latest) = visible_run(actor, db, id).await?;
    Ok((finalization, run, latest))
}

/// A member's year from finalised runs.
pub async fn statement(
    actor: &Actor,
    db: &DatabaseConnection,
    member_id: i32,
    year: i32,
) -> Outcome<Statement> {
    let member = members::visible(actor, db, member_id).await?;
    Ok(settlement::statement(db, &member, year).await?)
}
