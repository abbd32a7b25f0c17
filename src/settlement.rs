//! Settlement runs: gather a month's inputs, run the pure engine and the sharing-out policy,
//! store the run; finalise it into the ledger (once, in one transaction), and correct a
//! finalised month with adjustment rows. Used by the HTTP API and the CLI alike.
use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::crud;
use crate::crud::settlement::{MemberReadings, MemberWindow};
use crate::domain::community_rules::{
    gse_effective_from, is_final_customer, plant_incentive_eligible,
};
use crate::domain::coverage;
use crate::domain::energy_series::local_midnight;
use crate::domain::market::hourly_prices;
use crate::domain::settlement::{TariffRules, split_cents};
use crate::domain::settlement_run::{
    DayParameters, ExcessBasis, HourData, PeriodEngine, PeriodTotals, PlantResult, PlantSpec,
    to_cents,
};
use crate::domain::sharing::{Distribution, Participant, Policy};
use crate::models::enums::{
    ConfigurationStatus, HolderType, LineAccount, LineKind, ParameterCode, RunStatus,
    TransactionKind, TransactionStatus,
};
use crate::models::{configuration, member, settlement_run, transaction};

/// Incentives end this many years after commissioning.
const INCENTIVE_YEARS: i32 = 20;
/// At most this many missing-price hours are listed (all are counted).
const LISTED_HOURS: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum SettleError {
    #[error("no value of {code} is valid on {date}: add one under /api/v1/market/parameters")]
    MissingParameter { code: &'static str, date: NaiveDate },
    #[error("the stored policy is not valid: {0}")]
    BadPolicy(String),
    #[error("this run cannot be finalised: {}", .0.join("; "))]
    NotFinalizable(Vec<String>),
    #[error(
        "the inputs changed since this preview (readings, prices, parameters, plants, members or policy): create a new preview"
    )]
    InputsChanged,
    #[error("this run was superseded by a later finalisation of the same month")]
    Superseded,
    #[error(
        "this run cannot be finalised while data are missing: {}. To finalise it anyway, send {{\"accept_incomplete\": true, \"reason\": \"…\"}}",
        .0.join("; ")
    )]
    Incomplete(Vec<String>),
    #[error(
        "the stored report of settlement run {run_id} cannot be read ({reason}): create a new preview of the month"
    )]
    CorruptReport { run_id: i32, reason: String },
    #[error(transparent)]
    Database(#[from] DbErr),
}

/// A calendar month.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub start: NaiveDate,
    /// The last day (inclusive).
    pub end: NaiveDate,
}

impl Period {
    /// `YYYY-MM`.
    pub fn parse(text: &str) -> Option<Period> {
        let (year, month) = text.split_once('-')?;
        if year.len() != 4 || month.len() != 2 {
            return None;
        }
        let start = NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, 1)?;
        Some(Period::of(start))
    }

    pub fn of(start: NaiveDate) -> Period {
        let next = start
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(start);
        Period {
            start,
            end: next.pred_opt().unwrap_or(start),
        }
    }

    pub fn label(&self) -> String {
        self.start.format("%Y-%m").to_string()
    }

    /// `[from, to)` as UNIX seconds, Italian days.
    pub fn instants(&self) -> (i64, i64) {
        (
            local_midnight(self.start),
            local_midnight(self.end.succ_opt().unwrap_or(self.end)),
        )
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MoneyTotals {
    /// The month's premium, rounded to cents (excess included).
    pub premium_cents: i64,
    /// The part of the premium above the excess thresholds.
    pub excess_cents: i64,
    pub valorisation_cents: i64,
    /// The month's share of the plants' yearly GSE fees (a twelfth, to the cent).
    pub fees_cents: i64,
    pub management_cents: i64,
    pub social_fund_cents: i64,
    /// What the members receive in all.
    pub members_cents: i64,
}

/// How much of the expected meter data a member (or its plants' POD) has in the period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Coverage {
    /// Hours of the member's window within the period for which readings are expected.
    pub expected_hours: i64,
    /// Expected hours with no reading, or with only part of the hour covered.
    pub missing_hours: i64,
    /// Share of the expected time covered by readings, percent, truncated to two decimals
    /// (so an incomplete month never shows 100.00).
    #[schema(value_type = String, example = "99.86")]
    pub coverage_percent: Decimal,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MemberResult {
    pub member_id: i32,
    pub pod: String,
    /// Report version 1 stored the member's `category`; it is read as the holder type.
    #[serde(
        alias = "category",
        deserialize_with = "crate::models::enums::holder_type_or_category"
    )]
    pub holder_type: HolderType,
    /// "Your withdrawal": energy the point drew from the grid in the month (kWh).
    #[schema(value_type = String, example = "140.000")]
    pub withdrawn_kwh: Decimal,
    /// "Your injection": energy the point fed into the grid in the month (kWh).
    #[schema(value_type = String, example = "0.000")]
    pub injected_kwh: Decimal,
    /// "Shared energy attributed to you": your part of the configuration's shared energy
    /// (EAC), Σ_h withdrawal_h × EAC_h / With_h, apportioned to the Wh with the largest-remainder
    /// rule so that the members' parts add up exactly to the configuration's EAC.
    #[schema(value_type = String, example = "100.000")]
    pub shared_kwh: Decimal,
    /// The first day GSE counts the membership (its notification date rules, from 4 Apr 2025);
    /// absent while GSE has not been notified: the point is then left out of the run.
    #[serde(default)]
    pub gse_effective_from: Option<NaiveDate>,
    /// Withdrawal data coverage (absent for a member that withdraws nothing by its role).
    #[serde(default)]
    pub withdrawal: Option<Coverage>,
    /// Injection data coverage of the member's POD (absent for a member without plants).
    #[serde(default)]
    pub injection: Option<Coverage>,
    pub incentive_cents: i64,
    pub excess_premium_cents: i64,
    pub valorisation_cents: i64,
    pub total_cents: i64,
}

/// A regulated parameter row the run used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ParameterUsed {
    pub id: i32,
    pub code: String,
    #[schema(value_type = String, example = "10.57")]
    pub value: Decimal,
    pub unit: String,
    pub valid_from: NaiveDate,
    /// Exclusive end; absent while in force.
    pub valid_to: Option<NaiveDate>,
}

/// The layout of the stored report; readers upgrade older layouts or refuse unknown ones.
/// 1: until issue 10 (members' `category`, no coverage, parameters, gaps or blockers).
pub const REPORT_VERSION: i32 = 2;

/// Everything a run found: stored with the run and returned by the API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Report {
    pub period: String,
    /// The policy version applied; absent when the configuration has none (default policy).
    pub policy_version: Option<i32>,
    pub totals: PeriodTotals,
    pub money: MoneyTotals,
    /// This month's figures for the excess premium, per plant set.
    pub excess_basis: ExcessBasis,
    /// The finalised earlier months of the year that the excess premium counted (year to date).
    pub excess_months_before: Vec<String>,
    pub plants: Vec<PlantResult>,
    pub members: Vec<MemberResult>,
    pub missing_price_hours: u32,
    /// The first hours without a zonal price (UTC, RFC 3339).
    pub missing_price_list: Vec<String>,
    /// Hours of the month with no reading from any member.
    pub hours_without_data: u32,
    /// PODs of members with no reading at all in the month.
    #[serde(default)]
    pub members_without_data: Vec<String>,
    /// Plants whose POD has no injection reading in the month.
    #[serde(default)]
    pub plants_without_injection: Vec<i32>,
    /// Every regulated parameter row the run used.
    #[serde(default)]
    pub parameters: Vec<ParameterUsed>,
    /// The dated rules that shaped the figures (F exemptions…), with their sources.
    #[serde(default)]
    pub rules: Vec<String>,
    /// How the policy had to be applied (a share nobody could receive…).
    pub notes: Vec<String>,
    /// Missing data (readings, prices): finalising needs `accept_incomplete` and a reason.
    #[serde(default)]
    pub gaps: Vec<String>,
    /// What no reason can override (a draft configuration, a month not yet over).
    #[serde(default)]
    pub blockers: Vec<String>,
    /// Why the run cannot be finalised as it is: the blockers, then the gaps; empty when it can.
    pub problems: Vec<String>,
}

/// Reads a run's stored report, upgrading older layouts; a report that cannot be read is an
/// error naming the run, never an empty report.
pub fn decode_report(run: &settlement_run::Model) -> Result<Report, SettleError> {
    let corrupt = |reason: String| SettleError::CorruptReport {
        run_id: run.id,
        reason,
    };
    match run.report_version {
        1 | REPORT_VERSION => serde_json::from_str(&run.report).map_err(|e| corrupt(e.to_string())),
        other => Err(corrupt(format!(
            "report version {other} is not known to this build (it reads 1 to {REPORT_VERSION})"
        ))),
    }
}

/// What a run assigns to one account: `(member, account, kind, Wh, cents)`.
pub type Line = (Option<i32>, LineAccount, LineKind, Option<i64>, i64);

/// A computed month, ready to be stored.
pub struct Computation {
    pub report: Report,
    pub lines: Vec<Line>,
    pub fingerprint: String,
    pub policy_id: Option<i32>,
}

fn rfc3339(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|t| t.to_rfc3339())
        .unwrap_or_default()
}

/// The regulated values for each day of the period.
fn day_parameters(
    rows: &[crate::models::market_parameter::Model],
    period: Period,
) -> Result<Vec<(i64, DayParameters)>, SettleError> {
    let mut out = Vec::new();
    let mut day = period.start;
    while day <= period.end {
        let value = |code: ParameterCode| {
            rows.iter()
                .filter(|r| {
                    r.code == code.as_str()
                        && r.valid_from <= day
                        && r.valid_to.is_none_or(|to| to > day)
                })
                .max_by_key(|r| r.valid_from)
                .map(|r| Decimal::new(r.value_micro, 6).normalize())
        };
        let missing = |code: ParameterCode| SettleError::MissingParameter {
            code: code.as_str(),
            date: day,
        };
        let rules = TariffRules::from_parameters(value).map_err(missing)?;
        let get = |code| value(code).ok_or_else(|| missing(code));
        out.push((
            local_midnight(day),
            DayParameters {
                rules,
                tras_e: get(ParameterCode::TrasE)?,
                btau: get(ParameterCode::Btau)?,
                cpr_lv: get(ParameterCode::CprLv)?,
                cpr_mv: get(ParameterCode::CprMv)?,
            },
        ));
        day = day.succ_opt().unwrap_or(day);
        if day == period.start {
            break;
        }
    }
    Ok(out)
}

/// The configuration's own accounts: management and social-fund shares, and the GSE fee.
fn configuration_lines(d: &Distribution, fees_cents: i64) -> Vec<Line> {
    use LineAccount::{Gse, Management, SocialFund};
    use LineKind::{ExcessPremium, Fee, Incentive, Valorisation};
    [
        (Management, Incentive, d.incentive.management),
        (Management, ExcessPremium, d.excess.management),
        (Management, Valorisation, d.valorisation.management),
        (SocialFund, Incentive, d.incentive.social_fund),
        (SocialFund, ExcessPremium, d.excess.social_fund),
        (SocialFund, Valorisation, d.valorisation.social_fund),
        (Gse, Fee, -fees_cents),
    ]
    .into_iter()
    .filter(|(_, _, cents)| *cents != 0)
    .map(|(account, kind, cents)| (None, account, kind, None, cents))
    .collect()
}

/// What no reason can override: a draft configuration, a month that has not ended.
fn run_blockers(configuration: &configuration::Model, month_ended: bool) -> Vec<String> {
    let mut blockers = Vec::new();
    if configuration.status == ConfigurationStatus::Draft {
        blockers.push("the configuration is still a draft: activate it first".into());
    }
    if !month_ended {
        blockers.push("the month has not ended yet".into());
    }
    blockers
}

/// Whether the period is over (Italian date): a month is finalisable from its next day.
fn month_ended(period: Period) -> bool {
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Rome)
        .date_naive();
    period.end < today
}

/// The coverage of a member's readings in one direction (`W`, `I`) over its window (clipped to
/// the period); when data are missing, the gap's description goes to `gaps`.
async fn coverage_of(
    db: &DatabaseConnection,
    window: &MemberWindow,
    direction: &'static str,
    present_minutes: i64,
    gaps: &mut Vec<String>,
) -> Result<Coverage, DbErr> {
    let expected_hours = ((window.to - window.from) / 3600).max(0);
    let expected_minutes = expected_hours * 60;
    if expected_hours == 0 || present_minutes >= expected_minutes {
        return Ok(Coverage {
            expected_hours,
            missing_hours: 0,
            coverage_percent: Decimal::new(10_000, 2),
        });
    }
    // Which hours are not fully covered: only for the points that have gaps.
    let covered =
        crud::settlement::covered_hours(db, &window.pod, direction, window.from, window.to).await?;
    let missing = coverage::missing_hours(window.from, window.to, &covered);
    let percent = (Decimal::from(present_minutes.max(0)) * Decimal::ONE_HUNDRED
        / Decimal::from(expected_minutes))
    .trunc_with_scale(2);
    gaps.push(format!(
        "{}: no {} data {} ({} hour{})",
        window.pod,
        if direction == "W" {
            "withdrawal"
        } else {
            "injection"
        },
        coverage::describe_hours(&missing),
        missing.len(),
        if missing.len() == 1 { "" } else { "s" }
    ));
    Ok(Coverage {
        expected_hours,
        missing_hours: missing.len() as i64,
        coverage_percent: percent,
    })
}

/// Computes a configuration's month: nothing is written.
pub async fn compute(
    db: &DatabaseConnection,
    configuration: &configuration::Model,
    period: Period,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Computation, SettleError> {
    let (from, to) = period.instants();
    // Each step's time goes to the log (RUST_LOG=condivisa::settlement=debug), for benchmarks.
    let started = std::sync::Mutex::new((std::time::Instant::now(), "start"));
    let progress = |step: &'static str| {
        if let Ok(mut last) = started.lock() {
            tracing::debug!(
                step = last.1,
                ms = last.0.elapsed().as_millis() as u64,
                "settlement step"
            );
            *last = (std::time::Instant::now(), step);
        }
        progress(step);
    };
    let mut fingerprint = Sha256::new();
    let mut feed = |text: String| {
        fingerprint.update(text.as_bytes());
        fingerprint.update(b"\n");
    };
    // The configuration's status and whether the month is over decide the blockers: a preview
    // made while either was different cannot be finalised without recomputing.
    let ended = month_ended(period);
    feed(format!(
        "v{REPORT_VERSION} {} {} {} {} {} {} {}",
        configuration.id,
        configuration.kind.as_str(),
        configuration.market_zone.as_str(),
        configuration.region.as_str(),
        configuration.status.as_str(),
        ended,
        period.label()
    ));

    progress("policy and parameters");
    let policy_row = crud::settlement::policy_for(db, configuration.id, period.start).await?;
    let policy = match &policy_row {
        Some(row) => serde_json::from_str::<Policy>(&row.document)
            .map_err(|e| SettleError::BadPolicy(e.to_string()))?,
        None => Policy::default_document(),
    };
    feed(format!(
        "policy {:?} {:?}",
        policy_row.as_ref().map(|p| (p.id, p.version)),
        policy
    ));
    let parameter_rows =
        crud::settlement::parameters_overlapping(db, period.start, period.end).await?;
    for row in &parameter_rows {
        feed(format!(
            "parameter {} {} {} {} {:?}",
            row.id, row.code, row.value_micro, row.valid_from, row.valid_to
        ));
    }
    let days = day_parameters(&parameter_rows, period)?;

    progress("members and plants");
    let members: Vec<member::Model> = crud::members::in_configuration(db, configuration.id, None)
        .await?
        .into_iter()
        .filter(|m| m.joined_at <= period.end && m.withdrawn_at.is_none_or(|w| w > period.start))
        .collect();
    // What GSE counts: each membership from its GSE effective date (the dated lateness rule is
    // looked up on the notification's day, so all its rows are read).
    let late_rows = crud::settlement::parameters_with_code(db, ParameterCode::GseLateDays).await?;
    for row in &late_rows {
        feed(format!(
            "parameter {} {} {} {} {:?}",
            row.id, row.code, row.value_micro, row.valid_from, row.valid_to
        ));
    }
    let late_days_on = |day: NaiveDate| {
        late_rows
            .iter()
            .filter(|r| r.valid_from <= day && r.valid_to.is_none_or(|to| to > day))
            .max_by_key(|r| r.valid_from)
            .map(|r| r.value_micro / 1_000_000)
    };
    let clipped = |member_id: i32, pod: &str, joined: NaiveDate, withdrawn: Option<NaiveDate>| {
        let window = crate::imports::window_of(pod, joined, withdrawn);
        MemberWindow {
            member_id,
            pod: pod.to_string(),
            from: window.from.max(from),
            to: window.to.min(to).max(window.from.max(from)),
        }
    };
    let mut gaps = Vec::new();
    let mut effective_dates = Vec::new();
    let mut windows: Vec<MemberWindow> = Vec::new();
    // Parts of memberships in the period that GSE does not count yet: their readings are in the
    // stored hourly totals, so they are taken out again below.
    let mut not_counted: Vec<MemberWindow> = Vec::new();
    for m in &members {
        let membership = clipped(m.id, &m.pod, m.joined_at, m.withdrawn_at);
        let effective = gse_effective_from(m.joined_at, m.gse_notified_on, late_days_on);
        let window = match effective {
            Some(day) => clipped(m.id, &m.pod, day.max(m.joined_at), m.withdrawn_at),
            None => MemberWindow {
                from: membership.to,
                ..membership.clone()
            },
        };
        if effective.is_none() && membership.to > membership.from {
            gaps.push(format!(
                "{}: the membership has not been notified to GSE (gse_notified_on): GSE does not count the point, nor does this run",
                m.pod
            ));
        }
        if window.from > membership.from {
            not_counted.push(MemberWindow {
                to: window.from.min(membership.to),
                ..membership
            });
        }
        feed(format!(
            "member {} {} {} {} {:?} {} {}",
            m.id,
            m.pod,
            m.role.as_str(),
            m.holder_type.as_str(),
            m.gse_notified_on,
            window.from,
            window.to
        ));
        effective_dates.push(effective);
        windows.push(window);
    }
    let member_ids: Vec<i32> = members.iter().map(|m| m.id).collect();
    let plants: Vec<_> = crud::plants::in_configuration(db, configuration.id)
        .await?
        .into_iter()
        .filter(|p| member_ids.contains(&p.member_id))
        .collect();
    let mut specs = Vec::new();
    for plant in &plants {
        feed(format!(
            "plant {} {} {} {} {} {} {}",
            plant.id,
            plant.member_id,
            plant.source.as_str(),
            plant.power_w,
            plant.capital_grant_ppm,
            plant.connection_voltage.as_str(),
            plant.commissioned_on
        ));
        let pod = members
            .iter()
            .find(|m| m.id == plant.member_id)
            .map(|m| m.pod.clone())
            .unwrap_or_default();
        let within_term = plant
            .commissioned_on
            .checked_add_months(chrono::Months::new(12 * INCENTIVE_YEARS as u32))
            .is_some_and(|end| end > period.start);
        let earns_from =
            gse_effective_from(plant.commissioned_on, plant.gse_notified_on, late_days_on);
        if earns_from.is_none() {
            gaps.push(format!(
                "plant {} on {pod}: not notified to GSE (gse_notified_on): it earns no tariff",
                plant.id
            ));
        }
        feed(format!(
            "plant notified {} {:?}",
            plant.id, plant.gse_notified_on
        ));
        specs.push(PlantSpec {
            id: plant.id,
            member_id: plant.member_id,
            pod,
            source: plant.source,
            power_kw: Decimal::new(plant.power_w, 3),
            grant_share: Decimal::new(plant.capital_grant_ppm as i64, 6),
            voltage: plant.connection_voltage,
            commissioned_at: local_midnight(earns_from.unwrap_or(plant.commissioned_on)),
            incentivised: within_term
                && earns_from.is_some()
                && plant_incentive_eligible(plant.power_w, plant.commissioned_on),
        });
    }
    let producing_windows: Vec<MemberWindow> = windows
        .iter()
        .filter(|w| plants.iter().any(|p| p.member_id == w.member_id))
        .cloned()
        .collect();
    // Withdrawal by holder type matters only where F is not zero. The F-exempt-capable holder
    // type with the most members is not read again: its hourly withdrawal is the hour's total
    // less the other members' (in a CER mostly of households, little is read twice).
    let any_grant = specs
        .iter()
        .any(|p| p.incentivised && !p.grant_share.is_zero());
    let derived_holder = any_grant
        .then(|| {
            let count = |h: HolderType| members.iter().filter(|m| m.holder_type == h).count();
            [
                HolderType::NaturalPerson,
                HolderType::PublicBody,
                HolderType::ReligiousOrThirdSector,
            ]
            .into_iter()
            .filter(|h| count(*h) > 0)
            .max_by_key(|h| count(*h))
        })
        .flatten();
    let by_holder: Vec<(MemberWindow, HolderType)> = if any_grant {
        members
            .iter()
            .zip(&windows)
            .filter(|(m, _)| Some(m.holder_type) != derived_holder)
            .map(|(m, w)| (w.clone(), m.holder_type))
            .collect()
    } else {
        Vec::new()
    };

    progress("hourly data, prices and members' readings");
    // The hourly totals first (the members' shared withdrawal needs each hour's share); then
    // independent queries side by side, the members' readings (the bulk of the work) in as many
    // chunks as there are cores, each on its own pooled connection.
    let mut hours = crud::settlement::configuration_hours(db, configuration.id, from, to).await?;
    if !not_counted.is_empty() {
        let excluded: HashMap<i64, (i64, i64)> =
            crud::settlement::hourly_totals_of(db, &not_counted, from, to)
                .await?
                .into_iter()
                .map(|(hour, injected, withdrawn)| (hour, (injected, withdrawn)))
                .collect();
        for (hour, injected, withdrawn) in &mut hours {
            if let Some((i, w)) = excluded.get(hour) {
                *injected -= i;
                *withdrawn -= w;
            }
        }
        feed(format!("not counted {not_counted:?}"));
    }
    let shared_hours: Vec<crud::settlement::SharedHour> = hours
        .iter()
        .map(|(hour, injected, withdrawn)| (*hour, (*injected).min(*withdrawn), *withdrawn))
        .collect();
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    let chunk = windows.len().div_ceil(cores).max(1);
    let (injection_rows, points, exempt_rows, readings) = tokio::try_join!(
        crud::settlement::hourly_injection(db, &producing_windows, from, to),
        crud::market::zonal_prices(db, configuration.market_zone, from, to),
        crud::settlement::hourly_withdrawal_by_holder(db, &by_holder, from, to),
        async {
            let parts =
                futures_util::future::try_join_all(windows.chunks(chunk).map(|part| async {
                    let started = std::time::Instant::now();
                    let rows =
                        crud::settlement::member_readings(db, part, &shared_hours, from, to).await;
                    tracing::debug!(
                        members = part.len(),
                        ms = started.elapsed().as_millis() as u64,
                        "members' readings chunk"
                    );
                    rows
                }))
                .await?;
            Ok(parts.concat())
        },
    )?;
    let mut injection: HashMap<i64, Vec<(String, i64)>> = HashMap::new();
    for (hour, pod, wh) in injection_rows {
        injection.entry(hour).or_default().push((pod, wh));
    }
    let mut exempt_by_hour: HashMap<i64, Vec<(HolderType, i64)>> = HashMap::new();
    for (hour, holder, wh) in exempt_rows {
        exempt_by_hour.entry(hour).or_default().push((holder, wh));
    }
    let prices: HashMap<i64, Decimal> = hourly_prices(&points)
        .into_iter()
        .map(|p| (p.start, p.eur_mwh))
        .collect();
    for point in &points {
        feed(format!(
            "price {} {} {}",
            point.start, point.minutes, point.eur_mwh
        ));
    }

    progress("hours");
    let mut engine = PeriodEngine::new(configuration.kind, configuration.region, specs);
    let by_hour: HashMap<i64, (i64, i64)> = hours.iter().map(|(h, i, w)| (*h, (*i, *w))).collect();
    let mut hours_without_data = 0u32;
    let mut day_index = 0;
    let mut hour = from;
    while hour < to {
        while day_index + 1 < days.len() && days[day_index + 1].0 <= hour {
            day_index += 1;
        }
        let (injected_wh, withdrawn_wh) = match by_hour.get(&hour) {
            Some(totals) => *totals,
            None => {
                hours_without_data += 1;
                (0, 0)
            }
        };
        let mut injection_by_pod = injection.remove(&hour).unwrap_or_default();
        injection_by_pod.sort();
        let mut exempt_capable_withdrawn_wh = exempt_by_hour.remove(&hour).unwrap_or_default();
        if let Some(holder) = derived_holder {
            let others: i64 = exempt_capable_withdrawn_wh.iter().map(|(_, wh)| wh).sum();
            exempt_capable_withdrawn_wh.push((holder, withdrawn_wh - others));
        }
        exempt_capable_withdrawn_wh.sort_by_key(|(holder, _)| holder.as_str());
        feed(format!(
            "hour {hour} {injected_wh} {withdrawn_wh} {injection_by_pod:?} {exempt_capable_withdrawn_wh:?}"
        ));
        engine.add_hour(
            &HourData {
                start: hour,
                injected_wh,
                withdrawn_wh,
                injection_by_pod,
                price: prices.get(&hour).copied(),
                exempt_capable_withdrawn_wh,
            },
            &days[day_index].1,
        );
        hour += 3600;
    }
    // The year so far, for the excess premium: the finalised earlier months of the same year.
    let mut year_to_date = ExcessBasis::default();
    let mut months_before = Vec::new();
    for run in crud::settlement::finalized_runs_of_year(db, configuration.id, period.start).await? {
        let report = decode_report(&run)?;
        year_to_date.add(&report.excess_basis);
        months_before.push(report.period.clone());
        feed(format!("year to date {} {}", run.id, run.fingerprint));
    }
    let (totals, plant_results, missing_prices, excess_basis) =
        engine.finish(&days[0].1, &year_to_date);

    for r in &readings {
        feed(format!(
            "readings {} {} {} {} {} {}",
            r.member_id, r.direction, r.rows, r.wh, r.revisions, r.last_import
        ));
    }
    let by_member: HashMap<(i32, &str), &MemberReadings> = readings
        .iter()
        .map(|r| ((r.member_id, r.direction.as_str()), r))
        .collect();
    let of = |member_id: i32, direction: &str| -> MemberReadings {
        by_member
            .get(&(member_id, direction))
            .map(|r| (*r).clone())
            .unwrap_or_default()
    };

    progress("coverage");
    if !missing_prices.is_empty() {
        gaps.push(format!(
            "{} hour(s) have no {} zonal price ({}): import them under /api/v1/market/zonal-prices",
            missing_prices.len(),
            configuration.market_zone.as_str(),
            coverage::describe_hours(&missing_prices)
        ));
    }
    let mut coverages: Vec<(Option<Coverage>, Option<Coverage>)> = Vec::new();
    let mut members_without_data = Vec::new();
    for (m, window) in members.iter().zip(&windows) {
        // Withdrawal from final customers, injection from the PODs with plants.
        let withdrawal = if is_final_customer(m.role) {
            let present = of(m.id, "W").minutes;
            Some(coverage_of(db, window, "W", present, &mut gaps).await?)
        } else {
            None
        };
        let injection = if plants.iter().any(|p| p.member_id == m.id) {
            let present = of(m.id, "I").minutes;
            Some(coverage_of(db, window, "I", present, &mut gaps).await?)
        } else {
            None
        };
        coverages.push((withdrawal, injection));
        if window.to > window.from && of(m.id, "W").rows == 0 && of(m.id, "I").rows == 0 {
            members_without_data.push(m.pod.clone());
        }
    }
    let plants_without_injection: Vec<i32> = plants
        .iter()
        .filter(|p| of(p.member_id, "I").rows == 0)
        .map(|p| p.id)
        .collect();

    progress("sharing out");
    // Members' shared energy: each one's exact share (milli-Wh, summed per reading) as the
    // weight, the configuration's EAC in Wh as the total, so the parts add up exactly.
    let shared_weights: Vec<Decimal> = members
        .iter()
        .map(|m| Decimal::from(of(m.id, "W").shared_mwh))
        .collect();
    let shared_wh_total: i64 = shared_hours.iter().map(|(_, shared, _)| shared).sum();
    let shared_wh = if shared_wh_total == 0 {
        vec![0; members.len()]
    } else {
        split_cents(shared_wh_total, &shared_weights)
    };
    let participants: Vec<Participant> = members
        .iter()
        .zip(&shared_wh)
        .map(|(m, shared)| {
            let withdrawal = of(m.id, "W");
            let own_plants: Vec<&PlantResult> = plant_results
                .iter()
                .filter(|p| p.member_id == m.id)
                .collect();
            Participant {
                member_id: m.id,
                holder_type: m.holder_type,
                producer: !own_plants.is_empty(),
                consumer: withdrawal.wh > 0,
                incentivised_kwh: own_plants.iter().map(|p| p.shared_kwh).sum(),
                power_kw: own_plants.iter().map(|p| p.power_kw).sum(),
                shared_withdrawal_kwh: Decimal::new(*shared, 3),
                withdrawal_kwh: Decimal::new(withdrawal.wh, 3),
            }
        })
        .collect();
    let premium_cents = to_cents(totals.premium_eur);
    // Negative when the year's ratio fell: the month gives back excess counted earlier.
    let excess_cents = to_cents(totals.excess_eur).min(premium_cents);
    let valorisation_cents = to_cents(totals.valorisation_eur);
    let distribution = policy.distribute(
        premium_cents - excess_cents,
        excess_cents,
        valorisation_cents,
        &participants,
    );
    let yearly_fees: i64 = plant_results
        .iter()
        .map(|p| to_cents(p.yearly_fee_eur))
        .sum();
    let fees_cents = split_cents(yearly_fees, &[Decimal::ONE; 12])[period.start.month0() as usize];

    let mut lines = Vec::new();
    let mut member_results = Vec::new();
    for (index, m) in members.iter().enumerate() {
        let withdrawal = of(m.id, "W");
        let incentive = distribution.incentive.members[index];
        let excess = distribution.excess.members[index];
        let valorisation = distribution.valorisation.members[index];
        let (withdrawal_coverage, injection_coverage) = coverages[index].clone();
        member_results.push(MemberResult {
            member_id: m.id,
            pod: m.pod.clone(),
            holder_type: m.holder_type,
            withdrawn_kwh: Decimal::new(withdrawal.wh, 3),
            injected_kwh: Decimal::new(of(m.id, "I").wh, 3),
            shared_kwh: Decimal::new(shared_wh[index], 3),
            gse_effective_from: effective_dates[index],
            withdrawal: withdrawal_coverage,
            injection: injection_coverage,
            incentive_cents: incentive,
            excess_premium_cents: excess,
            valorisation_cents: valorisation,
            total_cents: incentive + excess + valorisation,
        });
        if shared_wh[index] != 0 {
            lines.push((
                Some(m.id),
                LineAccount::Member,
                LineKind::SharedEnergy,
                Some(shared_wh[index]),
                0,
            ));
        }
        for (kind, cents) in [
            (LineKind::Incentive, incentive),
            (LineKind::ExcessPremium, excess),
            (LineKind::Valorisation, valorisation),
        ] {
            if cents != 0 {
                lines.push((Some(m.id), LineAccount::Member, kind, None, cents));
            }
        }
    }
    lines.extend(configuration_lines(&distribution, fees_cents));
    let blockers = run_blockers(configuration, ended);
    let problems: Vec<String> = blockers.iter().chain(&gaps).cloned().collect();
    let mut rules = Vec::new();
    if any_grant {
        rules.push(
            "F (the grant reduction) is not applied to the incentivised energy attributed, pro rata \
             of their withdrawal in each hour, to withdrawal points held by public bodies and by \
             religious, third-sector or environmental bodies (GSE Regole operative §2.2.2.1.2)"
                .to_string(),
        );
        let natural_persons_exempt_days = days
            .iter()
            .filter(|(_, day)| day.rules.natural_persons_f_exempt)
            .count();
        if natural_persons_exempt_days > 0 {
            rules.push(format!(
                "… nor to those held by natural persons, on {natural_persons_exempt_days} of the \
                 month's {} days (DM MASE 16 May 2025 n. 127, in force 26 Jun 2025)",
                days.len()
            ));
        }
    }
    let d = &distribution;
    let members_cents = member_results.iter().map(|m| m.total_cents).sum();
    let report = Report {
        period: period.label(),
        policy_version: policy_row.as_ref().map(|p| p.version),
        totals,
        money: MoneyTotals {
            premium_cents,
            excess_cents,
            valorisation_cents,
            fees_cents,
            management_cents: d.incentive.management
                + d.excess.management
                + d.valorisation.management,
            social_fund_cents: d.incentive.social_fund
                + d.excess.social_fund
                + d.valorisation.social_fund,
            members_cents,
        },
        excess_basis,
        excess_months_before: months_before,
        plants: plant_results,
        members: member_results,
        missing_price_hours: missing_prices.len() as u32,
        missing_price_list: missing_prices
            .iter()
            .take(LISTED_HOURS)
            .map(|t| rfc3339(*t))
            .collect(),
        hours_without_data,
        members_without_data,
        plants_without_injection,
        parameters: parameter_rows
            .iter()
            .map(|row| ParameterUsed {
                id: row.id,
                code: row.code.clone(),
                value: Decimal::new(row.value_micro, 6).normalize(),
                unit: row.unit.clone(),
                valid_from: row.valid_from,
                valid_to: row.valid_to,
            })
            .collect(),
        rules,
        notes: distribution.notes.clone(),
        gaps,
        blockers,
        problems,
    };
    let fingerprint = format!("{:x}", fingerprint.finalize());
    progress("done");
    Ok(Computation {
        report,
        lines,
        fingerprint,
        policy_id: policy_row.map(|p| p.id),
    })
}

/// Computes the month and stores it as a preview run.
pub async fn preview(
    db: &DatabaseConnection,
    configuration: &configuration::Model,
    period: Period,
    user_id: Option<i32>,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<settlement_run::Model, SettleError> {
    let computation = compute(db, configuration, period, progress).await?;
    let storing = std::time::Instant::now();
    progress("storing");
    let txn = db.begin().await?;
    let run = settlement_run::ActiveModel {
        configuration_id: Set(configuration.id),
        period_start: Set(period.start),
        period_end: Set(period.end),
        status: Set(RunStatus::Preview),
        policy_id: Set(computation.policy_id),
        fingerprint: Set(computation.fingerprint),
        finalizable: Set(computation.report.problems.is_empty()),
        corrects_run_id: Set(None),
        report: Set(serde_json::to_string(&computation.report).map_err(|e| {
            SettleError::Database(DbErr::Custom(format!("settlement report: {e}")))
        })?),
        report_version: Set(REPORT_VERSION),
        incomplete_reason: Set(None),
        incomplete_accepted_by: Set(None),
        created_by: Set(user_id),
        created_at: Set(chrono::Utc::now()),
        finalized_by: Set(None),
        finalized_at: Set(None),
        ..Default::default()
    };
    let run = sea_orm::ActiveModelTrait::insert(run, &txn).await?;
    crud::settlement::insert_lines(&txn, run.id, &computation.lines).await?;
    txn.commit().await?;
    tracing::debug!(
        ms = storing.elapsed().as_millis() as u64,
        "settlement stored"
    );
    Ok(run)
}

/// What finalising did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Finalization {
    /// Ledger rows written now (0 when the run was already final).
    pub transactions_written: u64,
    /// The run this one corrects, when the month had been finalised before.
    pub corrects_run_id: Option<i32>,
}

type LineKey = (Option<i32>, LineAccount, LineKind);
/// Per line key (sortable, so ledger rows come out in a stable order): key, Wh, cents.
type Differences = BTreeMap<(Option<i32>, &'static str, &'static str), (LineKey, i64, i64)>;

fn ledger_kind(kind: LineKind) -> TransactionKind {
    match kind {
        LineKind::SharedEnergy => TransactionKind::SharedEnergy,
        LineKind::Incentive | LineKind::ExcessPremium => TransactionKind::Incentive,
        LineKind::Valorisation => TransactionKind::Valorisation,
        LineKind::Fee => TransactionKind::Fee,
    }
}

/// Writes the run into the ledger. The first finalisation of a month writes the lines as they
/// are; a later one writes `adjustment` rows for the differences from the run it supersedes.
/// Finalising a final run again writes nothing.
///
/// A run with gaps in its data (missing readings or prices) is finalised only with
/// `accept_incomplete`, the operator's reason: it is stored on the run, and the ledger rows
/// say "provisional, data incomplete". Blockers (a draft configuration, a month not yet over)
/// cannot be accepted.
pub async fn finalize(
    db: &DatabaseConnection,
    run: &settlement_run::Model,
    configuration: &configuration::Model,
    user_id: i32,
    accept_incomplete: Option<&str>,
) -> Result<Finalization, SettleError> {
    match run.status {
        RunStatus::Finalized => {
            return Ok(Finalization {
                transactions_written: 0,
                corrects_run_id: run.corrects_run_id,
            });
        }
        RunStatus::Superseded => return Err(SettleError::Superseded),
        RunStatus::Preview => {}
    }
    let report = decode_report(run)?;
    let period = Period::of(run.period_start);
    // Recomputed first: a preview whose inputs (or the configuration's status, or whether the
    // month is over) changed is refused as stale, not with the reasons it had then.
    let now = compute(db, configuration, period, &|_| {}).await?;
    if now.fingerprint != run.fingerprint {
        return Err(SettleError::InputsChanged);
    }
    if !report.blockers.is_empty() {
        return Err(SettleError::NotFinalizable(report.blockers));
    }
    let accepted = match accept_incomplete {
        _ if report.gaps.is_empty() => None,
        None => return Err(SettleError::Incomplete(report.gaps)),
        Some(reason) => Some(reason.to_string()),
    };
    if !run.finalizable && accepted.is_none() {
        return Err(SettleError::NotFinalizable(report.problems));
    }

    let txn = db.begin().await?;
    crud::write_lock(&txn, &format!("settlement:{}", configuration.id)).await?;
    // Re-read under the lock: a concurrent finalisation may have won.
    let current =
        crud::settlement::find_run_in_scope(&txn, crud::scope::CommunityScope::All, run.id)
            .await?
            .ok_or(DbErr::RecordNotFound("settlement run".into()))?;
    if current.status != RunStatus::Preview {
        txn.rollback().await?;
        return Box::pin(finalize(
            db,
            &current,
            configuration,
            user_id,
            accept_incomplete,
        ))
        .await;
    }
    let previous =
        crud::settlement::finalized_run(&txn, configuration.id, run.period_start).await?;
    let lines = crud::settlement::lines_of(&txn, run.id).await?;
    let mut rows: Vec<transaction::ActiveModel> = Vec::new();
    let label = period.label();
    let provisional = match &accepted {
        Some(reason) => format!(" — provisional, data incomplete: {reason}"),
        None => String::new(),
    };
    let describe = |account: LineAccount, kind: LineKind| match account {
        LineAccount::Member => format!("{} {label}{provisional}", kind.as_str().replace('_', " ")),
        other => format!(
            "{} {label} ({}){provisional}",
            kind.as_str().replace('_', " "),
            other.as_str().replace('_', " ")
        ),
    };
    let suffix = if accepted.is_some() {
        ":provisional"
    } else {
        ""
    };
    let row = |member_id: Option<i32>,
               kind: TransactionKind,
               energy: Option<i64>,
               cents: i64,
               description: String,
               reference: String| {
        transaction::ActiveModel {
            configuration_id: Set(configuration.id),
            member_id: Set(member_id),
            kind: Set(kind),
            period_start: Set(period.start),
            period_end: Set(period.end),
            energy_wh: Set(energy),
            amount_cents: Set(cents),
            status: Set(TransactionStatus::Pending),
            description: Set(Some(description)),
            reference: Set(Some(reference)),
            created_by: Set(user_id),
            created_at: Set(chrono::Utc::now()),
            settled_at: Set(None),
            ..Default::default()
        }
    };
    match &previous {
        None => {
            for line in &lines {
                rows.push(row(
                    line.member_id,
                    ledger_kind(line.kind),
                    line.energy_wh,
                    line.amount_cents,
                    describe(line.account, line.kind),
                    format!("settlement:{}{suffix}", run.id),
                ));
            }
        }
        Some(previous) => {
            let mut differences = Differences::new();
            for (sign, set) in [
                (-1, crud::settlement::lines_of(&txn, previous.id).await?),
                (1, lines.clone()),
            ] {
                for line in set {
                    let key = (line.member_id, line.account.as_str(), line.kind.as_str());
                    let entry = differences.entry(key).or_insert((
                        (line.member_id, line.account, line.kind),
                        0,
                        0,
                    ));
                    entry.1 += sign * line.energy_wh.unwrap_or(0);
                    entry.2 += sign * line.amount_cents;
                }
            }
            for ((member_id, account, kind), energy, cents) in differences.into_values() {
                if energy == 0 && cents == 0 {
                    continue;
                }
                rows.push(row(
                    member_id,
                    TransactionKind::Adjustment,
                    (energy != 0).then_some(energy),
                    cents,
                    format!(
                        "adjustment of {}: run {} corrects run {}",
                        describe(account, kind),
                        run.id,
                        previous.id
                    ),
                    format!("settlement:{}:corrects:{}{suffix}", run.id, previous.id),
                ));
            }
            crud::settlement::set_status(
                &txn,
                previous.id,
                RunStatus::Finalized,
                RunStatus::Superseded,
                None,
                None,
            )
            .await?;
        }
    }
    let written = rows.len() as u64;
    for chunk in rows.chunks(1_000) {
        transaction::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    let corrects = previous.as_ref().map(|p| p.id);
    if !crud::settlement::set_status(
        &txn,
        run.id,
        RunStatus::Preview,
        RunStatus::Finalized,
        Some(user_id),
        corrects,
    )
    .await?
    {
        txn.rollback().await?;
        return Err(SettleError::Superseded);
    }
    if let Some(reason) = &accepted {
        crud::settlement::record_acceptance(&txn, run.id, reason, user_id).await?;
    }
    txn.commit().await?;
    Ok(Finalization {
        transactions_written: written,
        corrects_run_id: corrects,
    })
}

/// A member's finalised settlement lines month by month.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct StatementMonth {
    pub period: String,
    #[schema(value_type = String)]
    pub shared_kwh: Decimal,
    pub incentive_cents: i64,
    pub excess_premium_cents: i64,
    pub valorisation_cents: i64,
    /// Other ledger rows of the member in the month (payments, manual entries), not settlements.
    pub other_cents: i64,
    /// Present when the month was finalised with data missing: "provisional, data
    /// incomplete" and the operator's reason.
    pub provisional: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Statement {
    pub member_id: i32,
    pub pod: String,
    pub year: i32,
    pub months: Vec<StatementMonth>,
    pub total: StatementMonth,
}

pub async fn statement(
    db: &impl ConnectionTrait,
    member: &member::Model,
    year: i32,
) -> Result<Statement, DbErr> {
    let from = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default();
    let to = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or_default();
    let mut months: BTreeMap<NaiveDate, StatementMonth> = BTreeMap::new();
    for (start, incomplete, line) in
        crud::settlement::member_lines(db, member.configuration_id, &[member.id], from, to).await?
    {
        let month = months.entry(start).or_default();
        if let Some(reason) = incomplete {
            month.provisional = Some(format!("provisional, data incomplete: {reason}"));
        }
        match line.kind {
            LineKind::SharedEnergy => {
                month.shared_kwh += Decimal::new(line.energy_wh.unwrap_or(0), 3)
            }
            LineKind::Incentive => month.incentive_cents += line.amount_cents,
            LineKind::ExcessPremium => month.excess_premium_cents += line.amount_cents,
            LineKind::Valorisation => month.valorisation_cents += line.amount_cents,
            LineKind::Fee => {}
        }
    }
    for row in crud::transactions::other_than_settlements(db, member.id, from, to).await? {
        let start = row.period_start.with_day(1).unwrap_or(row.period_start);
        months.entry(start).or_default().other_cents += row.amount_cents;
    }
    let mut total = StatementMonth {
        period: year.to_string(),
        ..StatementMonth::default()
    };
    let months: Vec<StatementMonth> = months
        .into_iter()
        .map(|(start, mut month)| {
            month.period = start.format("%Y-%m").to_string();
            total.shared_kwh += month.shared_kwh;
            total.incentive_cents += month.incentive_cents;
            total.excess_premium_cents += month.excess_premium_cents;
            total.valorisation_cents += month.valorisation_cents;
            total.other_cents += month.other_cents;
            month
        })
        .collect();
    Ok(Statement {
        member_id: member.id,
        pod: member.pod.clone(),
        year,
        months,
        total,
    })
}
