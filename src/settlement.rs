//! Settlement runs: gather a month's inputs in one consistent read, settle them with the pure
//! engine (`domain::month::settle`), store the run; finalise it into the ledger (once, in one
//! transaction), and correct a finalised month with adjustment rows. Used by the HTTP API and
//! the CLI alike.
use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use sea_orm::{
    AccessMode, ActiveValue::Set, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    DbBackend, DbErr, EntityTrait, IsolationLevel, TransactionTrait,
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::crud;
use crate::domain::community_rules::is_final_customer;
use crate::domain::curves::{CurveMonth, MemberCurves, MonthReadings, ReadAs, month_readings};
use crate::domain::month::{
    ConfigurationFacts, MemberInputs, MeterData, MissingParameter, MonthInputs, PlantInputs,
    PolicyVersion, PriorMonth, member_windows, needs_holder_withdrawal, plant_specs,
};
use crate::domain::sharing::Policy;
use crate::models::enums::{
    HolderType, LineAccount, LineKind, ParameterCode, RunStatus, TransactionKind, TransactionStatus,
};
use crate::models::{configuration, member, settlement_run, transaction};

pub use crate::domain::month::{
    Coverage, MemberResult, MoneyTotals, ParameterUsed, Period, REPORT_VERSION, Report,
    SettlementLine,
};

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

impl From<MissingParameter> for SettleError {
    fn from(missing: MissingParameter) -> Self {
        SettleError::MissingParameter {
            code: missing.code,
            date: missing.date,
        }
    }
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

/// A computed month, ready to be stored.
pub struct Computation {
    pub report: Report,
    pub lines: Vec<SettlementLine>,
    pub fingerprint: String,
    pub policy_id: Option<i32>,
}

/// Whether the period is over (Italian date): a month is finalisable from its next day.
fn month_ended(period: Period) -> bool {
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Rome)
        .date_naive();
    period.end < today
}

fn parameter_used(row: &crate::models::market_parameter::Model) -> ParameterUsed {
    ParameterUsed {
        id: row.id,
        code: row.code.clone(),
        value: Decimal::new(row.value_micro, 6).normalize(),
        unit: row.unit.clone(),
        valid_from: row.valid_from,
        valid_to: row.valid_to,
    }
}

/// One consistent view of the database for a gather: every read of it on one transaction.
/// PostgreSQL: read-only and repeatable read (one snapshot for all statements). SQLite in WAL
/// mode: a transaction's reads all see the snapshot of its first read, and take no lock that
/// would hold an import back.
struct ReadView {
    txn: DatabaseTransaction,
}

impl ReadView {
    async fn open(db: &DatabaseConnection) -> Result<ReadView, DbErr> {
        let txn = match db.get_database_backend() {
            DbBackend::Postgres => {
                db.begin_with_config(
                    Some(IsolationLevel::RepeatableRead),
                    Some(AccessMode::ReadOnly),
                )
                .await?
            }
            _ => db.begin().await?,
        };
        Ok(ReadView { txn })
    }

    async fn close(self) -> Result<(), DbErr> {
        // Nothing was written.
        self.txn.rollback().await
    }
}

/// Reads everything the month's settlement depends on into a [`MonthInputs`], in one
/// consistent view of the database. Nothing is written.
pub async fn gather(
    db: &DatabaseConnection,
    configuration: &configuration::Model,
    period: Period,
    progress: &(dyn Fn(&'static str) + Sync),
) -> Result<MonthInputs, SettleError> {
    let view = ReadView::open(db).await?;
    let inputs = gather_in(&view, configuration, period, progress).await;
    view.close().await?;
    inputs
}

async fn gather_in(
    view: &ReadView,
    configuration: &configuration::Model,
    period: Period,
    progress: &(dyn Fn(&'static str) + Sync),
) -> Result<MonthInputs, SettleError> {
    let txn = &view.txn;
    let (from, to) = period.instants();

    progress("policy and parameters");
    let policy_row = crud::settlement::policy_for(txn, configuration.id, period.start).await?;
    let policy_document = match &policy_row {
        Some(row) => serde_json::from_str::<Policy>(&row.document)
            .map_err(|e| SettleError::BadPolicy(e.to_string()))?,
        None => Policy::default_document(),
    };
    let parameters: Vec<ParameterUsed> =
        crud::settlement::parameters_overlapping(txn, period.start, period.end)
            .await?
            .iter()
            .map(parameter_used)
            .collect();
    let gse_late_days: Vec<ParameterUsed> =
        crud::settlement::parameters_with_code(txn, ParameterCode::GseLateDays)
            .await?
            .iter()
            .map(parameter_used)
            .collect();

    progress("members and plants");
    let mut member_rows: Vec<member::Model> =
        crud::members::in_configuration(txn, configuration.id, None)
            .await?
            .into_iter()
            .filter(|m| {
                m.joined_at <= period.end && m.withdrawn_at.is_none_or(|w| w > period.start)
            })
            .collect();
    member_rows.sort_by_key(|m| m.id);
    let mut members: Vec<MemberInputs> = member_rows
        .iter()
        .map(|m| {
            let windows = member_windows(
                period,
                m.joined_at,
                m.withdrawn_at,
                m.gse_notified_on,
                &gse_late_days,
            );
            MemberInputs {
                id: m.id,
                pod: m.pod.clone(),
                role: m.role,
                holder_type: m.holder_type,
                joined_at: m.joined_at,
                withdrawn_at: m.withdrawn_at,
                gse_notified_on: m.gse_notified_on,
                gse_effective_from: windows.gse_effective_from,
                membership: windows.membership,
                counted: windows.counted,
                withdrawal: MeterData::default(),
                injection: MeterData::default(),
            }
        })
        .collect();
    let pods: std::collections::HashMap<i32, &str> =
        members.iter().map(|m| (m.id, m.pod.as_str())).collect();
    let mut plants: Vec<PlantInputs> = crud::plants::in_configuration(txn, configuration.id)
        .await?
        .into_iter()
        .filter_map(|plant| {
            let pod = pods.get(&plant.member_id)?.to_string();
            Some(PlantInputs {
                id: plant.id,
                member_id: plant.member_id,
                pod,
                source: plant.source,
                power_w: plant.power_w,
                capital_grant_ppm: plant.capital_grant_ppm,
                voltage: plant.connection_voltage,
                commissioned_on: plant.commissioned_on,
                gse_notified_on: plant.gse_notified_on,
            })
        })
        .collect();
    plants.sort_by_key(|p| p.id);

    // Withdrawal by holder type matters only where F is not zero. The F-exempt-capable holder
    // type with the most members is not summed member by member: its hourly withdrawal is the
    // hour's total less the other holder types' (exactly the same sum, one entry per hour).
    let any_grant = needs_holder_withdrawal(&plant_specs(&plants, &gse_late_days, period));
    let derived_holder = if any_grant {
        let count = |h: HolderType| members.iter().filter(|m| m.holder_type == h).count();
        [
            HolderType::NaturalPerson,
            HolderType::PublicBody,
            HolderType::ReligiousOrThirdSector,
        ]
        .into_iter()
        .filter(|h| count(*h) > 0)
        .max_by_key(|h| count(*h))
    } else {
        None
    };
    progress("curves and prices");
    // Every member's curves of the month (two short values each), then the month's readings
    // from them in memory: the hourly totals over the counted windows, the producers' injection,
    // the withdrawal by holder type where F exemptions need it, each member's sums and weight.
    let month = CurveMonth::of(period.start);
    let pods: Vec<&str> = members.iter().map(|m| m.pod.as_str()).collect();
    let mut curves: HashMap<String, MemberCurves> = HashMap::new();
    let stored = crud::curves::of_month(txn, &pods, month).await?;
    progress("month readings");
    for curve in stored {
        let entry = curves.entry(curve.pod).or_default();
        match curve.direction.as_str() {
            "W" => entry.withdrawal = Some(curve.cells),
            "I" => entry.injection = Some(curve.cells),
            _ => {}
        }
    }
    let prices = crud::market::zonal_prices(txn, configuration.market_zone, from, to).await?;
    let none = MemberCurves::default();
    let producing: std::collections::HashSet<i32> = plants.iter().map(|p| p.member_id).collect();
    let asked: Vec<(&MemberInputs, ReadAs, &MemberCurves)> = members
        .iter()
        .map(|m| {
            let read_as = ReadAs {
                producing: producing.contains(&m.id),
                exempt_holder: (any_grant && Some(m.holder_type) != derived_holder)
                    .then_some(m.holder_type),
            };
            (m, read_as, curves.get(&m.pod).unwrap_or(&none))
        })
        .collect();
    let MonthReadings { hours, meters } = month_readings(month, &asked, derived_holder);
    drop(asked);
    for (m, (withdrawal, injection)) in members.iter_mut().zip(meters) {
        m.withdrawal = withdrawal.unwrap_or_default();
        m.injection = injection.unwrap_or_default();
    }
    // Uncovered hours are listed only where they count: withdrawal of final customers,
    // injection of points with plants.
    for m in &mut members {
        if !is_final_customer(m.role) {
            m.withdrawal.covered_hours.clear();
        }
        if !producing.contains(&m.id) {
            m.injection.covered_hours.clear();
        }
    }

    // The year so far, for the excess premium: the finalised earlier months of the same year.
    let mut year_to_date = Vec::new();
    for run in crud::settlement::finalized_runs_of_year(txn, configuration.id, period.start).await?
    {
        let report = decode_report(&run)?;
        year_to_date.push(PriorMonth {
            run_id: run.id,
            period: report.period,
            fingerprint: run.fingerprint,
            excess_basis: report.excess_basis,
        });
    }

    Ok(MonthInputs {
        configuration: ConfigurationFacts {
            id: configuration.id,
            kind: configuration.kind,
            market_zone: configuration.market_zone,
            region: configuration.region,
            status: configuration.status,
        },
        period,
        // The configuration's status and whether the month is over decide the blockers: a
        // preview made while either was different cannot be finalised without recomputing.
        month_ended: month_ended(period),
        policy: policy_row.as_ref().map(|p| PolicyVersion {
            id: p.id,
            version: p.version,
        }),
        policy_document,
        parameters,
        gse_late_days,
        members,
        plants,
        hours,
        prices,
        year_to_date,
    })
}

/// Computes a configuration's month: gather, settle, fingerprint. Nothing is written.
pub async fn compute(
    db: &DatabaseConnection,
    configuration: &configuration::Model,
    period: Period,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Computation, SettleError> {
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
    let inputs = gather(db, configuration, period, &progress).await?;
    progress("settling");
    let fingerprint = crate::domain::month::fingerprint(&inputs)
        .map_err(|e| DbErr::Custom(format!("settlement inputs: {e}")))?;
    let settlement = crate::domain::month::settle(&inputs)?;
    progress("done");
    Ok(Computation {
        report: settlement.report,
        lines: settlement.lines,
        fingerprint,
        policy_id: inputs.policy.map(|p| p.id),
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
    // The lines are written when the run is finalised, from the recomputation that proves
    // its inputs unchanged (the same lines): a preview is its report.
    let run = sea_orm::ActiveModelTrait::insert(run, &txn).await?;
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
    // The run's lines, from the recomputation (previews stored before lines moved here had
    // their own copy: replaced, the same lines).
    crud::settlement::replace_lines(&txn, run.id, &now.lines).await?;
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
    /// Other ledger rows of the member in the month (adjustments, fees, manual entries): neither
    /// settlements nor payments.
    pub other_cents: i64,
    /// Paid to the member (its `payment` rows, as a positive amount).
    pub payments_cents: i64,
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
    /// What the year leaves owed to the member: income and other rows, minus payments.
    pub balance_cents: i64,
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
        let month = months.entry(start).or_default();
        match row.kind {
            TransactionKind::Payment => month.payments_cents -= row.amount_cents,
            _ => month.other_cents += row.amount_cents,
        }
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
            total.payments_cents += month.payments_cents;
            month
        })
        .collect();
    let balance_cents = total.incentive_cents
        + total.excess_premium_cents
        + total.valorisation_cents
        + total.other_cents
        - total.payments_cents;
    Ok(Statement {
        member_id: member.id,
        pod: member.pod.clone(),
        year,
        months,
        total,
        balance_cents,
    })
}
