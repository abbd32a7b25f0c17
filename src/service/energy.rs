//! Meter data as people look at it: what is missing, and the energy flows of a configuration
//! or of one member's POD in local-time buckets. Configuration-wide data is for those who run
//! the configuration; members see only their own POD.
use chrono::NaiveDate;
use sea_orm::DatabaseConnection;

use super::{Actor, Outcome, Place, Problem, ServiceError, configurations, members};
use crate::core::permissions::Permission;
use crate::crud;
use crate::crud::energy::Coverage;
use crate::crud::readings::MembershipWindow;
use crate::domain::energy_series::{Granularity, attributed_to_member, bucketize, local_days};
use crate::domain::quantities::{KWH_MILLI, from_fixed};
use crate::imports::membership_windows;
use crate::models::configuration;
use crate::schemas::energy::{EnergyPoint, EnergySeries, PeriodParams, SeriesParams};

/// A configuration whose configuration-wide data the actor may read.
async fn run_by_actor(
    actor: &Actor,
    db: &DatabaseConnection,
    id: i32,
) -> Outcome<configuration::Model> {
    let configuration = configurations::visible(actor, db, id).await?;
    actor.require(Permission::ConfigurationDataRead)?;
    Ok(configuration)
}

/// Per member POD and direction, the intervals with no reading in the period.
pub async fn coverage(
    actor: &Actor,
    db: &DatabaseConnection,
    configuration_id: i32,
    params: &PeriodParams,
) -> Outcome<Vec<Coverage>> {
    let configuration = run_by_actor(actor, db, configuration_id).await?;
    let (from, to) = period(params.from, params.to)?;
    let windows = membership_windows(db, configuration.id).await?;
    Ok(crud::energy::coverage(db, &windows, from, to).await?)
}

/// The configuration's injected, withdrawn and shared energy (and the configuration, for its
/// name).
pub async fn configuration_series(
    actor: &Actor,
    db: &DatabaseConnection,
    configuration_id: i32,
    params: &SeriesParams,
) -> Outcome<(configuration::Model, EnergySeries)> {
    let configuration = run_by_actor(actor, db, configuration_id).await?;
    let series = series(db, Source::Configuration(configuration.id), params).await?;
    Ok((configuration, series))
}

/// One member's POD: its injection, withdrawal and the shared energy attributed to it (and the
/// POD, for the title).
pub async fn member_series(
    actor: &Actor,
    db: &DatabaseConnection,
    member_id: i32,
    params: &SeriesParams,
) -> Outcome<(String, EnergySeries)> {
    let member = members::visible(actor, db, member_id).await?;
    let windows: Vec<MembershipWindow> = membership_windows(db, member.configuration_id)
        .await?
        .into_iter()
        .filter(|w| w.pod.as_str() == member.pod)
        .collect();
    let series = series(
        db,
        Source::Member(member.configuration_id, &windows),
        params,
    )
    .await?;
    Ok((member.pod, series))
}

fn query_problem(message: &str, kind: &str) -> ServiceError {
    ServiceError::Invalid(vec![Problem {
        place: vec![Place::Query, Place::Field("to".into())],
        message: message.into(),
        kind: kind.into(),
    }])
}

/// `[local midnight of from, local midnight after to)`; at most three years.
fn period(from: NaiveDate, to: NaiveDate) -> Outcome<(i64, i64)> {
    if to < from {
        return Err(query_problem("`to` cannot be before `from`", "date_order"));
    }
    if (to - from).num_days() > 3 * 366 {
        return Err(query_problem("At most three years at a time", "range"));
    }
    Ok(local_days(from, to))
}

/// Whose hours a series sums: a whole configuration (its maintained hourly totals) or the
/// membership windows of one POD (its readings).
enum Source<'a> {
    Configuration(i32),
    /// A member's POD: its windows in its configuration.
    Member(i32, &'a [MembershipWindow]),
}

async fn series(
    db: &DatabaseConnection,
    source: Source<'_>,
    params: &SeriesParams,
) -> Outcome<EnergySeries> {
    let (from, to) = period(params.from, params.to)?;
    let granularity = params.granularity.unwrap_or(Granularity::Day);
    let hours = match source {
        Source::Configuration(id) => {
            crud::energy::configuration_hourly_totals(db, id, from, to).await?
        }
        Source::Member(configuration_id, windows) => {
            let own = crud::energy::hourly_totals(db, windows, from, to).await?;
            let all =
                crud::energy::configuration_hourly_totals(db, configuration_id, from, to).await?;
            attributed_to_member(&own, &all)
        }
    };
    let buckets = bucketize(hours, granularity);
    let total = |f: fn(&crate::domain::energy_series::Bucket) -> i64| {
        from_fixed(buckets.iter().map(f).sum(), KWH_MILLI)
    };
    Ok(EnergySeries {
        from: params.from,
        to: params.to,
        granularity: match granularity {
            Granularity::Hour => "hour",
            Granularity::Day => "day",
            Granularity::Month => "month",
        }
        .into(),
        total_injected_kwh: total(|b| b.injected_wh),
        total_withdrawn_kwh: total(|b| b.withdrawn_wh),
        total_shared_kwh: total(|b| b.shared_wh),
        points: buckets.iter().map(EnergyPoint::from).collect(),
    })
}
