//! What GSE published and paid, recorded by the referent (by form or file), and compared with
//! the finalised runs. A payment recorded here is a `gse_payment` ledger row of the
//! configuration, so the ledger shows what GSE paid beside what members were credited.
use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;
use sea_orm::{DatabaseConnection, Set, TransactionTrait};

use super::{
    Actor, Outcome, Place, Problem, ServiceError, configurations, italian_today, nonnegative_fixed,
};
use crate::core::permissions::Permission;
use crate::crud;
use crate::domain::gse_files::{GseFigures, format_named};
use crate::domain::month::Period;
use crate::domain::quantities::{CENTS, KWH_MILLI, from_fixed, to_fixed};
use crate::domain::reconciliation::{self, Component, Tolerance, Verdict};
use crate::models::enums::{GseStatementKind, RunStatus, TransactionKind, TransactionStatus};
use crate::models::{configuration, gse_statement, settlement_run, transaction};
use crate::schemas::common::clean;
use crate::schemas::gse::{
    ComponentReconciliation, LedgerBalance, PeriodReconciliation, Reconciliation,
};

/// The first month a configuration could have GSE figures: the experimental self-consumption
/// schemes of DL 162/2019 (March 2020).
const FIRST_PERIOD: (i32, u32) = (2020, 3);

/// A statement in the actor's scope; any other is "not found".
pub async fn visible(
    actor: &Actor,
    db: &DatabaseConnection,
    id: i32,
) -> Outcome<(gse_statement::Model, configuration::Model)> {
    let not_found = || ServiceError::NotFound("GSE statement");
    let statement = crud::gse::find(db, id).await?.ok_or_else(not_found)?;
    let configuration = configurations::visible(actor, db, statement.configuration_id)
        .await
        .map_err(|_| not_found())?;
    actor.require(Permission::GseReconciliation)?;
    Ok((statement, configuration))
}

pub async fn list(
    actor: &Actor,
    db: &DatabaseConnection,
    configuration_id: i32,
    year: Option<i32>,
) -> Outcome<Vec<gse_statement::Model>> {
    let configuration =
        configurations::visible_for(actor, db, configuration_id, Permission::GseReconciliation)
            .await?;
    let within = year.and_then(|year| {
        NaiveDate::from_ymd_opt(year, 1, 1).zip(NaiveDate::from_ymd_opt(year, 12, 31))
    });
    Ok(crud::gse::of_configuration(db, configuration.id, within).await?)
}

/// The first month the configuration can have figures for: its constitution's. Not
/// `activation_date`, which is when it was activated here, possibly long after it began
/// sharing energy.
fn first_month(configuration: &configuration::Model) -> Option<NaiveDate> {
    configuration
        .constituted_on
        .map(|d| d.with_day(1).unwrap_or(d))
}

/// A payment's date against the period it pays and today: GSE pays a period after it ends, and
/// a payment is recorded once it has arrived.
fn paid_on_problem(
    paid_on: NaiveDate,
    period_end: NaiveDate,
    label: &str,
    today: NaiveDate,
) -> Option<String> {
    if paid_on > today {
        Some(format!(
            "{paid_on} is in the future: record a payment once it has arrived"
        ))
    } else if paid_on <= period_end {
        Some(format!(
            "{paid_on} is not after {label}: GSE pays a period after it ends"
        ))
    } else {
        None
    }
}

/// How a statement's period is named in messages and the ledger: `2026-03`, `2026 true-up`.
fn label_of(statement: &gse_statement::Model) -> String {
    match statement.kind {
        GseStatementKind::Month => statement.period_start.format("%Y-%m").to_string(),
        GseStatementKind::Year => format!("{} true-up", statement.period_start.year()),
    }
}

/// GSE's figures checked: the period, integers of their units, the payment.
struct Checked {
    kind: GseStatementKind,
    period_start: NaiveDate,
    period_end: NaiveDate,
    label: String,
    shared_wh: Option<i64>,
    premium_cents: Option<i64>,
    valorisation_cents: Option<i64>,
    advance_cents: Option<i64>,
    fees_cents: Option<i64>,
    paid_cents: Option<i64>,
    paid_on: Option<NaiveDate>,
    payment_reference: Option<String>,
    note: Option<String>,
}

/// Every problem of one statement, as (field, message).
fn check(
    figures: &GseFigures,
    configuration: &configuration::Model,
    today: NaiveDate,
) -> Result<Checked, Vec<(&'static str, String)>> {
    let mut problems: Vec<(&'static str, String)> = Vec::new();
    let period_text = figures.period.trim();
    let month = Period::parse(period_text);
    let year = (period_text.len() == 4 && period_text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| period_text.parse::<i32>().ok())
        .flatten();
    let period = match (figures.kind, month, year) {
        (None | Some(GseStatementKind::Month), Some(month), _) => Some((
            GseStatementKind::Month,
            month.start,
            month.end,
            month.label(),
        )),
        (None | Some(GseStatementKind::Year), None, Some(year)) => {
            NaiveDate::from_ymd_opt(year, 1, 1)
                .zip(NaiveDate::from_ymd_opt(year, 12, 31))
                .map(|(start, end)| (GseStatementKind::Year, start, end, year.to_string()))
        }
        (Some(GseStatementKind::Year), Some(_), _) => {
            problems.push((
                "period",
                format!("a year's true-up covers a whole year: write `period` as YYYY, not `{period_text}`"),
            ));
            None
        }
        (Some(GseStatementKind::Month), None, Some(_)) => {
            problems.push((
                "period",
                format!("a monthly statement needs a month: write `period` as YYYY-MM, not `{period_text}`"),
            ));
            None
        }
        _ => {
            problems.push((
                "period",
                format!("`{period_text}` is not a period: write YYYY-MM for a month or YYYY for a year's true-up"),
            ));
            None
        }
    };
    if let Some((_, start, end, label)) = &period {
        let first = NaiveDate::from_ymd_opt(FIRST_PERIOD.0, FIRST_PERIOD.1, 1).unwrap_or_default();
        if *end >= today {
            problems.push((
                "period",
                format!("{label} is not over yet: GSE publishes a period's figures after it ends"),
            ));
        } else if *start < first {
            problems.push((
                "period",
                format!("{label} is before the first energy-sharing schemes (March 2020): GSE has no figures for it"),
            ));
        } else if let Some(began) = first_month(configuration).filter(|began| end < began) {
            problems.push((
                "period",
                format!(
                    "{label} ends before the configuration began ({}): GSE has no figures for it",
                    began.format("%Y-%m")
                ),
            ));
        }
    }
    let mut fixed = |field: &'static str, value: Option<Decimal>, scale: u32| -> Option<i64> {
        match nonnegative_fixed(field, value?, scale) {
            Ok(units) => Some(units),
            Err(problem) => {
                problems.push((field, problem.message));
                None
            }
        }
    };
    let shared_wh = fixed("shared_energy_kwh", figures.shared_energy_kwh, KWH_MILLI);
    let premium_cents = fixed("premium_eur", figures.premium_eur, CENTS);
    let valorisation_cents = fixed("valorisation_eur", figures.valorisation_eur, CENTS);
    let advance_cents = fixed("advance_eur", figures.advance_eur, CENTS);
    let fees_cents = fixed("fees_eur", figures.fees_eur, CENTS);
    let paid_cents = fixed("paid_eur", figures.paid_eur, CENTS);
    match (figures.paid_eur, figures.paid_on) {
        (Some(_), None) => problems.push((
            "paid_on",
            "`paid_eur` needs `paid_on`, the day GSE paid".to_string(),
        )),
        (None, Some(_)) => problems.push((
            "paid_eur",
            "`paid_on` needs `paid_eur`, the amount GSE paid".to_string(),
        )),
        _ => {}
    }
    if let Some(paid_on) = figures.paid_on {
        // Without a readable period only the future is checked.
        let (end, label) = match &period {
            Some((_, _, end, label)) => (*end, label.as_str()),
            None => (NaiveDate::MIN, ""),
        };
        if let Some(message) = paid_on_problem(paid_on, end, label, today) {
            problems.push(("paid_on", message));
        }
    }
    let given = [
        figures.shared_energy_kwh,
        figures.premium_eur,
        figures.valorisation_eur,
        figures.advance_eur,
        figures.fees_eur,
        figures.paid_eur,
    ];
    if given.iter().all(Option::is_none) {
        problems.push((
            "premium_eur",
            "no figure given: record at least one of shared_energy_kwh, premium_eur, valorisation_eur, advance_eur, fees_eur, paid_eur".to_string(),
        ));
    }
    match period {
        Some((kind, period_start, period_end, label)) if problems.is_empty() => Ok(Checked {
            kind,
            period_start,
            period_end,
            label,
            shared_wh,
            premium_cents,
            valorisation_cents,
            advance_cents,
            fees_cents,
            paid_cents,
            paid_on: figures.paid_on,
            payment_reference: clean(figures.payment_reference.as_deref()),
            note: clean(figures.note.as_deref()),
        }),
        _ => Err(problems),
    }
}

fn payment_row(
    statement: &gse_statement::Model,
    paid_cents: i64,
    reference: Option<&str>,
    user_id: i32,
) -> transaction::ActiveModel {
    let label = label_of(statement);
    transaction::ActiveModel {
        configuration_id: Set(statement.configuration_id),
        member_id: Set(None),
        kind: Set(TransactionKind::GsePayment),
        period_start: Set(statement.period_start),
        period_end: Set(statement.period_end),
        energy_wh: Set(None),
        amount_cents: Set(paid_cents),
        status: Set(TransactionStatus::Settled),
        description: Set(Some(match reference {
            Some(reference) => format!("GSE payment for {label} (reference {reference})"),
            None => format!("GSE payment for {label}"),
        })),
        reference: Set(Some(format!("gse:{}", statement.id))),
        created_by: Set(user_id),
        created_at: Set(Utc::now()),
        settled_at: Set(Some(Utc::now())),
        ..Default::default()
    }
}

/// Writes checked statements in one transaction: all or nothing. `places` says where each
/// statement came from (a field of the form, a line of the file) for a duplicate's message.
async fn write(
    actor: &Actor,
    db: &DatabaseConnection,
    configuration: &configuration::Model,
    statements: Vec<(Checked, Vec<Place>)>,
    source: &str,
) -> Outcome<Vec<gse_statement::Model>> {
    let txn = db.begin().await?;
    crud::write_lock(&txn, &format!("gse:{}", configuration.id)).await?;
    let mut created = Vec::new();
    let mut problems = Vec::new();
    for (checked, place) in statements {
        if let Some(existing) =
            crud::gse::of_period(&txn, configuration.id, checked.kind, checked.period_start).await?
        {
            let message = format!(
                "GSE's figures for {} are already recorded (statement {}): delete it first to record them again",
                checked.label, existing.id
            );
            if place.is_empty() {
                return Err(ServiceError::conflict(message));
            }
            problems.push(Problem {
                place,
                message,
                kind: "duplicate".into(),
            });
            continue;
        }
        let model = gse_statement::ActiveModel {
            configuration_id: Set(configuration.id),
            kind: Set(checked.kind),
            period_start: Set(checked.period_start),
            period_end: Set(checked.period_end),
            shared_wh: Set(checked.shared_wh),
            premium_cents: Set(checked.premium_cents),
            valorisation_cents: Set(checked.valorisation_cents),
            advance_cents: Set(checked.advance_cents),
            fees_cents: Set(checked.fees_cents),
            paid_cents: Set(checked.paid_cents),
            paid_on: Set(checked.paid_on),
            payment_reference: Set(checked.payment_reference.clone()),
            note: Set(checked.note),
            source: Set(source.to_string()),
            created_by: Set(actor.user_id),
            created_at: Set(Utc::now()),
            ..Default::default()
        };
        let statement = crud::insert(&txn, model).await?;
        if let Some(paid) = checked.paid_cents {
            crud::insert(
                &txn,
                payment_row(
                    &statement,
                    paid,
                    checked.payment_reference.as_deref(),
                    actor.user_id,
                ),
            )
            .await?;
        }
        created.push(statement);
    }
    if !problems.is_empty() {
        return Err(ServiceError::Invalid(problems));
    }
    txn.commit().await?;
    Ok(created)
}

/// Records GSE's figures for one period, from the form.
pub async fn record(
    actor: &Actor,
    db: &DatabaseConnection,
    configuration_id: i32,
    figures: GseFigures,
) -> Outcome<gse_statement::Model> {
    let configuration =
        configurations::visible_for(actor, db, configuration_id, Permission::GseReconciliation)
            .await?;
    let checked = check(&figures, &configuration, italian_today()).map_err(|problems| {
        ServiceError::Invalid(
            problems
                .into_iter()
                .map(|(field, message)| Problem::at_field(field, message, "gse_statement"))
                .collect(),
        )
    })?;
    let mut created = write(
        actor,
        db,
        &configuration,
        vec![(checked, Vec::new())],
        "form",
    )
    .await?;
    created
        .pop()
        .ok_or_else(|| ServiceError::Internal(anyhow::anyhow!("no statement written")))
}

/// Records every statement of a file in `format`, all or nothing; each problem names its line.
pub async fn import(
    actor: &Actor,
    db: &DatabaseConnection,
    configuration_id: i32,
    format: &str,
    bytes: &[u8],
) -> Outcome<Vec<gse_statement::Model>> {
    let configuration =
        configurations::visible_for(actor, db, configuration_id, Permission::GseReconciliation)
            .await?;
    let reader = format_named(format).ok_or_else(|| {
        ServiceError::Invalid(vec![Problem {
            place: vec![Place::Query, Place::Field("format".into())],
            message: format!("unknown format `{format}`: the formats are `condivisa`"),
            kind: "enum".into(),
        }])
    })?;
    let rows = reader.parse(bytes).map_err(|problems| {
        ServiceError::Invalid(
            problems
                .into_iter()
                .map(|p| Problem::at_line(p.line, p.message, "gse_file"))
                .collect(),
        )
    })?;
    let today = italian_today();
    let mut checked = Vec::new();
    let mut problems = Vec::new();
    let mut seen: BTreeMap<(&str, NaiveDate), u64> = BTreeMap::new();
    for figures in &rows {
        match check(figures, &configuration, today) {
            Ok(statement) => {
                if let Some(first) = seen.insert(
                    (statement.kind.as_str(), statement.period_start),
                    figures.line,
                ) {
                    problems.push(Problem::at_line(
                        figures.line,
                        format!(
                            "{} is also on line {first}: one statement per period",
                            statement.label
                        ),
                        "duplicate",
                    ));
                }
                checked.push((statement, vec![Place::Body, Place::Line(figures.line)]));
            }
            Err(found) => problems.extend(found.into_iter().map(|(field, message)| {
                Problem::at_line(
                    figures.line,
                    format!("`{field}`: {message}"),
                    "gse_statement",
                )
            })),
        }
    }
    if !problems.is_empty() {
        return Err(ServiceError::Invalid(problems));
    }
    write(actor, db, &configuration, checked, "import").await
}

/// Records GSE's payment of a statement recorded without one.
pub async fn record_payment(
    actor: &Actor,
    db: &DatabaseConnection,
    id: i32,
    paid_eur: Option<Decimal>,
    paid_on: NaiveDate,
    reference: Option<String>,
) -> Outcome<gse_statement::Model> {
    let (statement, _) = visible(actor, db, id).await?;
    let paid_eur = paid_eur.ok_or_else(|| {
        ServiceError::invalid(
            "paid_eur",
            "`paid_eur` is required: the amount GSE paid",
            "missing",
        )
    })?;
    let today = italian_today();
    let mut problems = Vec::new();
    let paid_cents = nonnegative_fixed("paid_eur", paid_eur, CENTS)
        .map_err(|problem| problems.push(problem))
        .unwrap_or(0);
    if let Some(message) =
        paid_on_problem(paid_on, statement.period_end, &label_of(&statement), today)
    {
        problems.push(Problem::at_field("paid_on", message, "gse_statement"));
    }
    if !problems.is_empty() {
        return Err(ServiceError::Invalid(problems));
    }
    let reference = clean(reference.as_deref());
    let txn = db.begin().await?;
    crud::write_lock(&txn, &format!("gse:{}", statement.configuration_id)).await?;
    let current = crud::gse::find(&txn, id)
        .await?
        .ok_or(ServiceError::NotFound("GSE statement"))?;
    if let (Some(paid), Some(on)) = (current.paid_cents, current.paid_on) {
        return Err(ServiceError::conflict(format!(
            "GSE's payment of statement {id} is already recorded ({} on {on}); a different payment is a new ledger row, not a change of this one",
            from_fixed(paid, CENTS)
        )));
    }
    let mut model: gse_statement::ActiveModel = current.clone().into();
    model.paid_cents = Set(Some(paid_cents));
    model.paid_on = Set(Some(paid_on));
    model.payment_reference = Set(reference.clone());
    let updated = crud::update(&txn, model).await?;
    crud::insert(
        &txn,
        payment_row(&updated, paid_cents, reference.as_deref(), actor.user_id),
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}

/// Deletes a statement recorded by mistake, while no payment of it is in the ledger.
pub async fn delete(actor: &Actor, db: &DatabaseConnection, id: i32) -> Outcome<()> {
    let (statement, _) = visible(actor, db, id).await?;
    if statement.paid_cents.is_some() {
        return Err(ServiceError::conflict(format!(
            "GSE statement {id} has its payment in the ledger: it stays (record a correcting ledger row instead)"
        )));
    }
    crud::gse::delete(db, id).await?;
    Ok(())
}

/// Our side of one period: the components from a run's report.
struct Computed {
    shared_wh: i64,
    premium_cents: i64,
    valorisation_cents: i64,
    fees_cents: i64,
    retained_cents: i64,
}

fn computed_of(run: &settlement_run::Model) -> Outcome<(Computed, crate::domain::month::Report)> {
    let report = crate::settlement::decode_report(run)?;
    let shared_wh = to_fixed(report.totals.shared_kwh, KWH_MILLI)
        .map_err(|e| ServiceError::Internal(anyhow::anyhow!("run {}: {e}", run.id)))?;
    Ok((
        Computed {
            shared_wh,
            premium_cents: report.money.premium_cents,
            valorisation_cents: report.money.valorisation_cents,
            fees_cents: report.money.fees_cents,
            retained_cents: report.money.management_cents + report.money.social_fund_cents,
        },
        report,
    ))
}

fn components(
    computed: Option<&Computed>,
    gse: Option<&gse_statement::Model>,
    tolerance: Tolerance,
) -> Vec<ComponentReconciliation> {
    Component::ALL
        .into_iter()
        .map(|component| {
            let ours = computed.map(|c| match component {
                Component::SharedEnergy => c.shared_wh,
                Component::Premium => c.premium_cents,
                Component::Valorisation => c.valorisation_cents,
                Component::Fees => c.fees_cents,
            });
            let theirs = gse.and_then(|s| match component {
                Component::SharedEnergy => s.shared_wh,
                Component::Premium => s.premium_cents,
                Component::Valorisation => s.valorisation_cents,
                Component::Fees => s.fees_cents,
            });
            let c = reconciliation::compare(component, ours, theirs, tolerance);
            let decimal = |v: Option<i64>| v.map(|v| reconciliation::as_decimal(component, v));
            ComponentReconciliation {
                component,
                unit: if component.is_energy() { "kWh" } else { "EUR" }.into(),
                computed: decimal(c.computed),
                gse: decimal(c.gse),
                difference: decimal(c.difference),
                status: c.verdict,
            }
        })
        .collect()
}

fn verdicts(rows: &[ComponentReconciliation]) -> Vec<Verdict> {
    rows.iter().map(|r| r.status).collect()
}

fn differs(rows: &[ComponentReconciliation], component: Component) -> Option<bool> {
    rows.iter()
        .find(|r| r.component == component)
        .and_then(|r| match r.status {
            Verdict::Matched => Some(false),
            Verdict::Differs => Some(true),
            Verdict::Missing => None,
        })
}

/// The year's months (and true-up): ours against GSE's, with what explains the differences,
/// and the ledger's balance of GSE's payments against what members were credited and paid.
pub async fn reconciliation(
    actor: &Actor,
    db: &DatabaseConnection,
    configuration_id: i32,
    year: i32,
    tolerance_eur: Option<Decimal>,
    tolerance_kwh: Option<Decimal>,
) -> Outcome<Reconciliation> {
    let configuration =
        configurations::visible_for(actor, db, configuration_id, Permission::GseReconciliation)
            .await?;
    let tolerance_eur = tolerance_eur.unwrap_or(Decimal::new(1, 2));
    let tolerance_kwh = tolerance_kwh.unwrap_or(Decimal::new(1, 3));
    let mut problems = Vec::new();
    let mut tolerance_of = |field: &str, value: Decimal, scale: u32| match to_fixed(value, scale) {
        Ok(units) if units >= 0 => units,
        Ok(_) => {
            problems.push(Problem {
                place: vec![Place::Query, Place::Field(field.into())],
                message: format!("`{field}` is negative: a tolerance is ≥ 0"),
                kind: "range".into(),
            });
            0
        }
        Err(error) => {
            problems.push(Problem {
                place: vec![Place::Query, Place::Field(field.into())],
                message: error.to_string(),
                kind: "decimal".into(),
            });
            0
        }
    };
    let tolerance = Tolerance {
        cents: tolerance_of("tolerance_eur", tolerance_eur, CENTS),
        energy_wh: tolerance_of("tolerance_kwh", tolerance_kwh, KWH_MILLI),
    };
    if !problems.is_empty() {
        return Err(ServiceError::Invalid(problems));
    }
    let january = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default();
    let december = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or_default();
    let runs: Vec<settlement_run::Model> = crud::settlement::runs_of(db, configuration.id)
        .await?
        .into_iter()
        .filter(|r| r.period_start >= january && r.period_start <= december)
        .collect();
    let statements =
        crud::gse::of_configuration(db, configuration.id, Some((january, december))).await?;

    let mut months: BTreeMap<NaiveDate, (Option<&settlement_run::Model>, bool)> = BTreeMap::new();
    for run in &runs {
        let entry = months.entry(run.period_start).or_insert((None, false));
        match run.status {
            RunStatus::Finalized => entry.0 = Some(run),
            RunStatus::Preview => entry.1 = true,
            RunStatus::Superseded => {}
        }
    }
    for s in statements
        .iter()
        .filter(|s| s.kind == GseStatementKind::Month)
    {
        months.entry(s.period_start).or_insert((None, false));
    }

    let mut periods = Vec::new();
    let mut ledger = LedgerBalance::default();
    let mut year_sum = Computed {
        shared_wh: 0,
        premium_cents: 0,
        valorisation_cents: 0,
        fees_cents: 0,
        retained_cents: 0,
    };
    let mut finalised_months = Vec::new();
    for (start, (run, has_preview)) in &months {
        let label = start.format("%Y-%m").to_string();
        let statement = statements
            .iter()
            .find(|s| s.kind == GseStatementKind::Month && s.period_start == *start);
        let mut explanations = Vec::new();
        let computed = match run {
            Some(run) => {
                let (computed, report) = computed_of(run)?;
                if let Some(reason) = &run.incomplete_reason {
                    explanations.push(format!(
                        "run {} was finalised with data missing ({reason}): its figures are provisional",
                        run.id
                    ));
                }
                for m in &report.members {
                    match m.gse_effective_from {
                        None => explanations.push(format!(
                            "{}: not notified to GSE, so left out of the run; GSE does not count it either",
                            m.pod
                        )),
                        Some(from) if from > *start => explanations.push(format!(
                            "{}: GSE counts it from {from} (its notification date); if GSE had not processed the notification, its energy is missing from GSE's figures",
                            m.pod
                        )),
                        Some(_) => {}
                    }
                }
                year_sum.shared_wh += computed.shared_wh;
                year_sum.premium_cents += computed.premium_cents;
                year_sum.valorisation_cents += computed.valorisation_cents;
                year_sum.fees_cents += computed.fees_cents;
                year_sum.retained_cents += computed.retained_cents;
                finalised_months.push(*start);
                Some(computed)
            }
            None if *has_preview => {
                explanations.push(format!(
                    "{label} has only a preview: finalise its settlement to compare"
                ));
                None
            }
            None => {
                explanations.push(format!(
                    "{label} has no settlement run: compute and finalise it to compare"
                ));
                None
            }
        };
        if statement.is_none() {
            explanations.push(format!("GSE's figures for {label} are not recorded yet"));
        }
        let rows = components(computed.as_ref(), statement, tolerance);
        if differs(&rows, Component::SharedEnergy) == Some(false)
            && differs(&rows, Component::Premium) == Some(true)
        {
            explanations.push(format!(
                "the shared energy agrees: the premium differs by prices or parameters — compare the zonal prices and TIP parameters of run {}",
                run.map_or(0, |r| r.id)
            ));
        }
        if differs(&rows, Component::Fees) == Some(true) {
            explanations.push(
                "the run carries a twelfth of the plants' yearly GSE fees each month; GSE withholds its fees when it pays"
                    .into(),
            );
        }
        let status =
            reconciliation::overall(&verdicts(&rows), computed.is_some(), statement.is_some());
        periods.push(PeriodReconciliation {
            period: label,
            kind: GseStatementKind::Month,
            status,
            run_id: run.map(|r| r.id),
            gse_statement_id: statement.map(|s| s.id),
            components: rows,
            advance_eur: statement
                .and_then(|s| s.advance_cents)
                .map(|c| from_fixed(c, CENTS)),
            paid_eur: statement
                .and_then(|s| s.paid_cents)
                .map(|c| from_fixed(c, CENTS)),
            paid_on: statement.and_then(|s| s.paid_on),
            explanations,
        });
    }

    if let Some(true_up) = statements.iter().find(|s| s.kind == GseStatementKind::Year) {
        let began = first_month(&configuration)
            .filter(|d| d.year() == year)
            .unwrap_or(january);
        let expected: Vec<NaiveDate> = (began.month()..=12)
            .filter_map(|m| NaiveDate::from_ymd_opt(year, m, 1))
            .collect();
        let missing: Vec<String> = expected
            .iter()
            .filter(|m| !finalised_months.contains(m))
            .map(|m| m.format("%Y-%m").to_string())
            .collect();
        let mut explanations = Vec::new();
        let computed = if missing.is_empty() {
            Some(&year_sum)
        } else {
            explanations.push(format!(
                "months not finalised: {}; the year is compared once every month is",
                missing.join(", ")
            ));
            None
        };
        let rows = components(computed, Some(true_up), tolerance);
        let status = reconciliation::overall(&verdicts(&rows), computed.is_some(), true);
        periods.push(PeriodReconciliation {
            period: year.to_string(),
            kind: GseStatementKind::Year,
            status,
            run_id: None,
            gse_statement_id: Some(true_up.id),
            components: rows,
            advance_eur: true_up.advance_cents.map(|c| from_fixed(c, CENTS)),
            paid_eur: true_up.paid_cents.map(|c| from_fixed(c, CENTS)),
            paid_on: true_up.paid_on,
            explanations,
        });
    }

    let eur = |cents: i64| from_fixed(cents, CENTS);
    let mut gse_paid = 0;
    let mut credited = 0;
    let mut paid = 0;
    for (kind, for_member, cents) in
        crud::gse::ledger_sums(db, configuration.id, january, december).await?
    {
        match (kind, for_member) {
            (TransactionKind::GsePayment, _) => gse_paid += cents,
            (TransactionKind::Payment, true) => paid -= cents,
            (_, true) => credited += cents,
            (_, false) => {}
        }
    }
    ledger.gse_paid_eur = eur(gse_paid);
    ledger.gse_expected_eur =
        eur(year_sum.premium_cents + year_sum.valorisation_cents - year_sum.fees_cents);
    ledger.members_credited_eur = eur(credited);
    ledger.members_paid_eur = eur(paid);
    ledger.retained_eur = eur(year_sum.retained_cents);
    ledger.cash_held_eur = eur(gse_paid - paid);

    Ok(Reconciliation {
        configuration_id: configuration.id,
        year,
        tolerance_eur: from_fixed(tolerance.cents, CENTS),
        tolerance_kwh: from_fixed(tolerance.energy_wh, KWH_MILLI),
        periods,
        ledger,
    })
}
