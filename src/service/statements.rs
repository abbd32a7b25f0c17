//! Members' statements as documents: the PDF of a month or a year, in the member's language,
//! with the same figures as the ledger; and a period's statements mailed to every member, with
//! a record of who was sent what and who was not (and why).
use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set, TransactionTrait};
use serde_json::json;

use super::{Actor, Outcome, ServiceError, configurations, italian_today, members};
use crate::core::permissions::Permission;
use crate::crud;
use crate::documents::statement::{
    CommunityDetails, EntryKind, LedgerEntry, MemberDetails, MemberStatement, MonthFigures,
    StatementPeriod, render,
};
use crate::domain::mail::MailTemplate;
use crate::domain::month::Period;
use crate::mail::Mailer;
use crate::models::enums::{Language, LineKind, RunStatus};
use crate::models::{configuration, holder, member, statement_mailing, statement_mailing_item};
use crate::schemas::holder::display_name;

/// The first and last day a statement covers.
fn bounds(period: StatementPeriod) -> (NaiveDate, NaiveDate) {
    match period {
        StatementPeriod::Month(day) => {
            let month = Period::of(day.with_day(1).unwrap_or(day));
            (month.start, month.end)
        }
        StatementPeriod::Year(year) => (
            NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default(),
            NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or_default(),
        ),
    }
}

/// A finalised run's month and its report, decoded once for every statement that needs it.
struct FinalisedMonth {
    start: NaiveDate,
    incomplete_reason: Option<String>,
    report: crate::domain::month::Report,
}

/// The configuration's finalised months within `period`, their reports decoded.
async fn finalised_months(
    db: &impl sea_orm::ConnectionTrait,
    configuration_id: i32,
    period: StatementPeriod,
) -> Outcome<Vec<FinalisedMonth>> {
    let (from, to) = bounds(period);
    let mut months = Vec::new();
    for run in crud::settlement::runs_of(db, configuration_id)
        .await?
        .iter()
        .filter(|r| {
            r.status == RunStatus::Finalized && r.period_start >= from && r.period_start <= to
        })
    {
        months.push(FinalisedMonth {
            start: run.period_start,
            incomplete_reason: run.incomplete_reason.clone(),
            report: crate::settlement::decode_report(run)?,
        });
    }
    Ok(months)
}

/// The statement of `member` over `period`, from the finalised runs and the ledger, in
/// `language` (the holder's when `None`).
async fn prepare(
    db: &impl sea_orm::ConnectionTrait,
    configuration: &configuration::Model,
    member: &member::Model,
    holder: Option<&holder::Model>,
    reports: &[FinalisedMonth],
    period: StatementPeriod,
    language: Option<Language>,
) -> Outcome<MemberStatement> {
    let (from, to) = bounds(period);
    let mut months: BTreeMap<NaiveDate, MonthFigures> = BTreeMap::new();
    // Energy from the runs' reports (the lines carry only the shared energy and the money).
    for finalised in reports.iter().filter(|f| f.start >= from && f.start <= to) {
        if let Some(row) = finalised
            .report
            .members
            .iter()
            .find(|m| m.member_id == member.id)
        {
            let month = months.entry(finalised.start).or_default();
            month.month = finalised.start;
            month.withdrawal_kwh = row.withdrawn_kwh;
            month.injection_kwh = row.injected_kwh;
            month.provisional = finalised.incomplete_reason.clone();
        }
    }
    // Money and shared energy from the finalised runs' lines: what the ledger holds.
    for (start, incomplete, line) in
        crud::settlement::member_lines(db, configuration.id, &[member.id], from, to).await?
    {
        let month = months.entry(start).or_default();
        month.month = start;
        month.provisional = incomplete.or(month.provisional.take());
        match line.kind {
            LineKind::SharedEnergy => {
                month.shared_kwh += rust_decimal::Decimal::new(line.energy_wh.unwrap_or(0), 3)
            }
            LineKind::Incentive => month.incentive_cents += line.amount_cents,
            LineKind::ExcessPremium => month.excess_premium_cents += line.amount_cents,
            LineKind::Valorisation => month.valorisation_cents += line.amount_cents,
            LineKind::Fee => {}
        }
    }
    let entries = crud::transactions::other_than_settlements(db, member.id, from, to)
        .await?
        .into_iter()
        .filter_map(|row| {
            EntryKind::of(row.kind).map(|kind| LedgerEntry {
                kind,
                date: row
                    .settled_at
                    .unwrap_or(row.created_at)
                    .with_timezone(&chrono_tz::Europe::Rome)
                    .date_naive(),
                month: row.period_start.with_day(1).unwrap_or(row.period_start),
                reference: row.reference,
                description: row.description,
                amount_cents: row.amount_cents,
            })
        })
        .collect();
    let address = holder.and_then(|h| match (&h.street, &h.postcode, &h.municipality) {
        (Some(street), Some(postcode), Some(municipality)) => Some(format!(
            "{street}, {postcode} {municipality}{}",
            h.province
                .as_deref()
                .map_or(String::new(), |p| format!(" ({p})"))
        )),
        _ => None,
    });
    Ok(MemberStatement {
        language: language
            .or(holder.map(|h| h.language))
            .unwrap_or(Language::It),
        community: CommunityDetails {
            name: configuration.name.clone(),
            kind: configuration.kind,
        },
        member: MemberDetails {
            holder_name: holder
                .and_then(display_name)
                .unwrap_or_else(|| member.pod.clone()),
            fiscal_code: holder.and_then(|h| h.fiscal_code.clone()),
            address,
            pods: vec![member.pod.clone()],
        },
        period,
        produced_on: italian_today(),
        months: months.into_values().collect(),
        entries,
    })
}

/// A statement period from a year and an optional month, or the field that is wrong.
pub fn period_of(year: i32, month: Option<u32>) -> Outcome<StatementPeriod> {
    match month {
        None => Ok(StatementPeriod::Year(year)),
        Some(month) => NaiveDate::from_ymd_opt(year, month, 1)
            .map(StatementPeriod::Month)
            .ok_or_else(|| {
                ServiceError::invalid(
                    "month",
                    format!("{month} is not a month (1 to 12)"),
                    "range",
                )
            }),
    }
}

/// A member's statement as a PDF: (file name, bytes). Members read their own; operators those
/// in their scope.
pub async fn pdf(
    actor: &Actor,
    db: &DatabaseConnection,
    member_id: i32,
    period: StatementPeriod,
    language: Option<Language>,
) -> Outcome<(String, Vec<u8>)> {
    let member = members::visible(actor, db, member_id).await?;
    let configuration = crud::configurations::find_in_scope(
        db,
        crud::scope::CommunityScope::All,
        member.configuration_id,
    )
    .await?
    .ok_or(ServiceError::NotFound("Configuration"))?;
    let holder = match member.holder_id {
        Some(id) => holder::Entity::find_by_id(id).one(db).await?,
        None => None,
    };
    let reports = finalised_months(db, configuration.id, period).await?;
    let statement = prepare(
        db,
        &configuration,
        &member,
        holder.as_ref(),
        &reports,
        period,
        language,
    )
    .await?;
    Ok((statement.file_name(), render(&statement)))
}

/// Mails a finalised month's statement (PDF attached) to every member of the configuration with
/// a line in it, in one transaction with the record of the mailing: members whose holder has no
/// e-mail address are listed with the reason. A month is mailed once, unless `again`.
pub async fn mail_month(
    actor: &Actor,
    db: &DatabaseConnection,
    mailer: &Mailer,
    configuration_id: i32,
    month: Period,
    again: bool,
) -> Outcome<(statement_mailing::Model, Vec<statement_mailing_item::Model>)> {
    let configuration =
        configurations::visible_for(actor, db, configuration_id, Permission::SettlementsWrite)
            .await?;
    if crud::settlement::finalized_run(db, configuration.id, month.start)
        .await?
        .is_none()
    {
        return Err(ServiceError::conflict(format!(
            "{} is not finalised: its statements are sent once the month is",
            month.label()
        )));
    }
    let txn = db.begin().await?;
    crud::write_lock(&txn, &format!("statements:{}", configuration.id)).await?;
    let earlier = statement_mailing::Entity::find()
        .filter(statement_mailing::Column::ConfigurationId.eq(configuration.id))
        .filter(statement_mailing::Column::PeriodStart.eq(month.start))
        .one(&txn)
        .await?;
    if let (Some(earlier), false) = (&earlier, again) {
        return Err(ServiceError::conflict(format!(
            "The statements of {} were already mailed (mailing {} on {}): send them again with \"again\": true",
            month.label(),
            earlier.id,
            earlier.created_at.format("%Y-%m-%d %H:%M UTC")
        )));
    }
    let reports =
        finalised_months(&txn, configuration.id, StatementPeriod::Month(month.start)).await?;
    let all = crud::members::in_configuration(&txn, configuration.id, None).await?;
    let ids: Vec<i32> = all.iter().map(|m| m.id).collect();
    let with_lines: std::collections::HashSet<i32> =
        crud::settlement::member_lines(&txn, configuration.id, &ids, month.start, month.end)
            .await?
            .into_iter()
            .filter_map(|(_, _, line)| line.member_id)
            .collect();
    let members: Vec<member::Model> = all
        .into_iter()
        .filter(|m| with_lines.contains(&m.id))
        .collect();
    let holders: HashMap<i32, holder::Model> = holder::Entity::find()
        .filter(holder::Column::Id.is_in(members.iter().filter_map(|m| m.holder_id)))
        .all(&txn)
        .await?
        .into_iter()
        .map(|h| (h.id, h))
        .collect();
    let mailing = crud::insert(
        &txn,
        statement_mailing::ActiveModel {
            configuration_id: Set(configuration.id),
            period_start: Set(month.start),
            period_end: Set(month.end),
            queued: Set(0),
            skipped: Set(0),
            created_by: Set(actor.user_id),
            created_at: Set(Utc::now()),
            ..Default::default()
        },
    )
    .await?;
    let mut items = Vec::new();
    for member in &members {
        let holder = member.holder_id.and_then(|id| holders.get(&id));
        let address = holder.and_then(|h| h.email.clone());
        let (outbox_id, reason) = match (holder, address.as_deref()) {
            (None, _) => (
                None,
                Some("no holder is registered for the point".to_string()),
            ),
            (Some(h), None) => (None, Some(format!("holder {} has no e-mail address", h.id))),
            (Some(h), Some(address)) => {
                let statement = prepare(
                    &txn,
                    &configuration,
                    member,
                    Some(h),
                    &reports,
                    StatementPeriod::Month(month.start),
                    None,
                )
                .await?;
                let pdf = render(&statement);
                let row = mailer
                    .queue_with(
                        &txn,
                        address,
                        h.language,
                        MailTemplate::Statement,
                        json!({
                            "name": display_name(h).unwrap_or_else(|| member.pod.clone()),
                            "configuration": configuration.name,
                            "period": month.label(),
                            "pods": [member.pod],
                            "provisional": statement
                                .months
                                .iter()
                                .find_map(|m| m.provisional.clone())
                                .unwrap_or_default(),
                        }),
                        Some((statement.file_name(), pdf)),
                    )
                    .await
                    .map_err(ServiceError::Internal)?;
                (Some(row.id), None)
            }
        };
        items.push(statement_mailing_item::ActiveModel {
            mailing_id: Set(mailing.id),
            member_id: Set(member.id),
            recipient: Set(outbox_id.and(address)),
            outbox_id: Set(outbox_id),
            reason: Set(reason),
            ..Default::default()
        });
    }
    let queued = items
        .iter()
        .filter(|i| matches!(&i.outbox_id, sea_orm::ActiveValue::Set(Some(_))))
        .count() as i32;
    let skipped = items.len() as i32 - queued;
    for chunk in items.chunks(500) {
        statement_mailing_item::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    let mut model: statement_mailing::ActiveModel = mailing.into();
    model.queued = Set(queued);
    model.skipped = Set(skipped);
    let mailing = crud::update(&txn, model).await?;
    let items = mailing_items(&txn, mailing.id).await?;
    txn.commit().await?;
    mailer.wake();
    Ok((mailing, items))
}

async fn mailing_items(
    db: &impl sea_orm::ConnectionTrait,
    mailing_id: i32,
) -> Result<Vec<statement_mailing_item::Model>, sea_orm::DbErr> {
    use sea_orm::QueryOrder;
    statement_mailing_item::Entity::find()
        .filter(statement_mailing_item::Column::MailingId.eq(mailing_id))
        .order_by_asc(statement_mailing_item::Column::MemberId)
        .all(db)
        .await
}

/// The configuration's mailings, newest first, each with its items and where each message is.
pub async fn mailings(
    actor: &Actor,
    db: &DatabaseConnection,
    configuration_id: i32,
) -> Outcome<
    Vec<(
        statement_mailing::Model,
        Vec<(statement_mailing_item::Model, Option<String>)>,
    )>,
> {
    use sea_orm::QueryOrder;
    let configuration =
        configurations::visible_for(actor, db, configuration_id, Permission::SettlementsWrite)
            .await?;
    let mailings = statement_mailing::Entity::find()
        .filter(statement_mailing::Column::ConfigurationId.eq(configuration.id))
        .order_by_desc(statement_mailing::Column::Id)
        .all(db)
        .await?;
    let mut out = Vec::new();
    for mailing in mailings {
        let items = mailing_items(db, mailing.id).await?;
        let outbox: HashMap<i32, String> = crate::models::mail_outbox::Entity::find()
            .filter(
                crate::models::mail_outbox::Column::Id
                    .is_in(items.iter().filter_map(|i| i.outbox_id)),
            )
            .all(db)
            .await?
            .into_iter()
            .map(|m| (m.id, m.status.as_str().to_string()))
            .collect();
        let items = items
            .into_iter()
            .map(|i| {
                let status = i.outbox_id.and_then(|id| outbox.get(&id).cloned());
                (i, status)
            })
            .collect();
        out.push((mailing, items));
    }
    Ok(out)
}
