//! Paying members: a batch of their ledger balances through a finalised month, prepared (a
//! preview), approved by a second person or the referent, exported as a SEPA Credit Transfer
//! file, then marked paid — one `payment` ledger row per transfer. The rules of who is paid are
//! in `domain::payouts`; the file is written by `domain::sepa`.
use chrono::{Datelike, NaiveDate, Utc};
use sea_orm::{DatabaseConnection, IntoActiveModel, Set, TransactionTrait};
use sha2::{Digest, Sha256};

use super::{
    Actor, Outcome, Problem, ServiceError, configurations, italian_today, nonnegative_fixed,
};
use crate::core::permissions::Permission;
use crate::crud;
use crate::domain::contacts::Iban;
use crate::domain::month::Period;
use crate::domain::payouts::{Candidate, Decision, HolderFacts, decide, fingerprint};
use crate::domain::quantities::CENTS;
use crate::domain::sepa;
use crate::models::enums::{
    HolderStatus, PayoutItemStatus, PayoutStatus, TransactionKind, TransactionStatus,
};
use crate::models::{configuration, holder, member, payout_batch, payout_item, transaction};
use crate::schemas::common::clean;
use crate::schemas::holder::display_name;
use crate::schemas::payout::{
    PayoutAccountUpdate, PayoutBatchCreate, PayoutCancel, PayoutExport, PayoutPaid,
};

/// The configuration's payout account (and minimum).
pub async fn account(
    actor: &Actor,
    db: &DatabaseConnection,
    configuration_id: i32,
) -> Outcome<configuration::Model> {
    configurations::visible_for(actor, db, configuration_id, Permission::Payouts).await
}

/// Sets the account the configuration pays from; every bad field is reported at once.
pub async fn set_account(
    actor: &Actor,
    db: &DatabaseConnection,
    configuration_id: i32,
    input: PayoutAccountUpdate,
) -> Outcome<configuration::Model> {
    let configuration =
        configurations::visible_for(actor, db, configuration_id, Permission::Payouts).await?;
    let mut problems = Vec::new();
    let iban = Iban::parse(&input.iban)
        .map_err(|e| problems.push(Problem::at_field("iban", e.to_string(), "iban")))
        .ok();
    let bic = match input
        .bic
        .as_deref()
        .map(str::trim)
        .filter(|b| !b.is_empty())
    {
        Some(bic) => sepa::Bic::parse(bic)
            .map_err(|e| problems.push(Problem::at_field("bic", e.to_string(), "bic")))
            .ok(),
        None => None,
    };
    let name = input.account_name.trim().to_string();
    if sepa::sepa_text(&name, 70).trim().is_empty() {
        problems.push(Problem::at_field(
            "account_name",
            "the account name has no letters or digits a bank file can carry",
            "account_name",
        ));
    }
    let minimum = match input.minimum_eur {
        None => Some(configuration.payout_minimum_cents),
        Some(value) => nonnegative_fixed("minimum_eur", value, CENTS)
            .map_err(|problem| problems.push(problem))
            .ok(),
    };
    if !problems.is_empty() {
        return Err(ServiceError::Invalid(problems));
    }
    let mut model = configuration.into_active_model();
    model.payout_account_name = Set(Some(name));
    model.payout_iban = Set(iban.map(|i| i.as_str().to_string()));
    model.payout_bic = Set(bic.map(|b| b.as_str().to_string()));
    model.payout_minimum_cents = Set(minimum.unwrap_or(0));
    Ok(crud::update(db, model).await?)
}

/// A batch in the actor's scope; any other is "not found".
pub async fn visible(
    actor: &Actor,
    db: &DatabaseConnection,
    id: i32,
) -> Outcome<(payout_batch::Model, configuration::Model)> {
    let not_found = || ServiceError::NotFound("Payout batch");
    let batch = crud::payouts::find(db, id).await?.ok_or_else(not_found)?;
    let configuration = configurations::visible(actor, db, batch.configuration_id)
        .await
        .map_err(|_| not_found())?;
    actor.require(Permission::Payouts)?;
    Ok((batch, configuration))
}

pub async fn list(
    actor: &Actor,
    db: &DatabaseConnection,
    configuration_id: i32,
) -> Outcome<Vec<payout_batch::Model>> {
    let configuration =
        configurations::visible_for(actor, db, configuration_id, Permission::Payouts).await?;
    Ok(crud::payouts::of_configuration(db, configuration.id).await?)
}

/// A batch with its items.
/// A batch with its items, and the configuration it pays from.
pub async fn read(
    actor: &Actor,
    db: &DatabaseConnection,
    id: i32,
) -> Outcome<(
    payout_batch::Model,
    Vec<payout_item::Model>,
    configuration::Model,
)> {
    let (batch, configuration) = visible(actor, db, id).await?;
    let items = crud::payouts::items_of(db, batch.id).await?;
    Ok((batch, items, configuration))
}

/// What each member with a balance would get through `through_end`, as the ledger and the
/// holders stand now.
async fn decisions(
    db: &impl sea_orm::ConnectionTrait,
    configuration_id: i32,
    through_end: NaiveDate,
    minimum_cents: i64,
) -> Result<Vec<Decision>, sea_orm::DbErr> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let balances = crud::payouts::balances(db, configuration_id, through_end).await?;
    let member_ids: Vec<i32> = balances.iter().map(|(id, _)| *id).collect();
    let members: std::collections::HashMap<i32, member::Model> = member::Entity::find()
        .filter(member::Column::Id.is_in(member_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    let holder_ids: Vec<i32> = members.values().filter_map(|m| m.holder_id).collect();
    let holders: std::collections::HashMap<i32, holder::Model> = holder::Entity::find()
        .filter(holder::Column::Id.is_in(holder_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|h| (h.id, h))
        .collect();
    Ok(balances
        .into_iter()
        .filter_map(|(member_id, balance_cents)| {
            let member = members.get(&member_id)?;
            let holder = member
                .holder_id
                .and_then(|id| holders.get(&id))
                .map(|h| HolderFacts {
                    id: h.id,
                    status: h.status,
                    name: display_name(h),
                    iban: h.iban.clone(),
                });
            decide(
                &Candidate {
                    member_id,
                    pod: member.pod.clone(),
                    holder,
                    balance_cents,
                },
                minimum_cents,
            )
        })
        .collect())
}

/// Prepares a batch through a finalised month: the preview (`draft`) of who is paid how much,
/// who is held back and why. One open batch per configuration.
pub async fn prepare(
    actor: &Actor,
    db: &DatabaseConnection,
    configuration_id: i32,
    input: PayoutBatchCreate,
) -> Outcome<(payout_batch::Model, Vec<payout_item::Model>)> {
    let configuration =
        configurations::visible_for(actor, db, configuration_id, Permission::Payouts).await?;
    let period = Period::parse(input.through.trim()).ok_or_else(|| {
        ServiceError::invalid(
            "through",
            format!("`{}` is not a month: write it as YYYY-MM", input.through),
            "month",
        )
    })?;
    let minimum_cents = match input.minimum_eur {
        None => configuration.payout_minimum_cents,
        Some(value) => nonnegative_fixed("minimum_eur", value, CENTS)
            .map_err(|problem| ServiceError::Invalid(vec![problem]))?,
    };
    if crud::settlement::finalized_run(db, configuration.id, period.start)
        .await?
        .is_none()
    {
        // The month's state, not the request, is what is wrong: a conflict, not a bad field.
        let preview = crud::settlement::latest_run_id(db, configuration.id, period.start).await?;
        return Err(ServiceError::conflict(match preview {
            Some(run) => format!(
                "{} is not finalised (run {run} is a preview): finalise the month before paying it out",
                period.label()
            ),
            None => format!(
                "{} has no finalised settlement: settle and finalise the month before paying it out",
                period.label()
            ),
        }));
    }

    let txn = db.begin().await?;
    crud::write_lock(&txn, &format!("payouts:{}", configuration.id)).await?;
    if let Some(open) = crud::payouts::open_batch(&txn, configuration.id).await? {
        return Err(ServiceError::conflict(format!(
            "Payout batch {} is still {}: mark it paid or cancel it before preparing another",
            open.id,
            open.status.as_str()
        )));
    }
    let decisions = decisions(&txn, configuration.id, period.end, minimum_cents).await?;
    if decisions.is_empty() {
        return Err(ServiceError::conflict(format!(
            "Nothing to pay: no member has a balance through {}",
            period.label()
        )));
    }
    let included = || {
        decisions
            .iter()
            .filter(|d| d.status == PayoutItemStatus::Included)
    };
    let batch = crud::insert(
        &txn,
        payout_batch::ActiveModel {
            configuration_id: Set(configuration.id),
            status: Set(PayoutStatus::Draft),
            through_period: Set(period.end),
            minimum_cents: Set(minimum_cents),
            total_cents: Set(included().map(|d| d.amount_cents).sum()),
            transfers: Set(included().count() as i32),
            held: Set((decisions.len() - included().count()) as i32),
            fingerprint: Set(fingerprint(&decisions)),
            created_by: Set(actor.user_id),
            created_at: Set(Utc::now()),
            ..Default::default()
        },
    )
    .await?;
    let items: Vec<payout_item::ActiveModel> = decisions
        .into_iter()
        .map(|d| payout_item::ActiveModel {
            batch_id: Set(batch.id),
            member_id: Set(d.member_id),
            holder_id: Set(d.holder_id),
            pod: Set(d.pod),
            balance_cents: Set(d.balance_cents),
            amount_cents: Set(d.amount_cents),
            end_to_end_id: Set((d.status == PayoutItemStatus::Included)
                .then(|| format!("CDV{}-{}", batch.id, d.member_id))),
            status: Set(d.status),
            reason: Set(d.reason),
            creditor_name: Set(d.creditor_name),
            iban: Set(d.iban),
            transaction_id: Set(None),
            ..Default::default()
        })
        .collect();
    for chunk in items.chunks(500) {
        use sea_orm::EntityTrait;
        payout_item::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    let items = crud::payouts::items_of(&txn, batch.id).await?;
    txn.commit().await?;
    Ok((batch, items))
}

/// The last month a batch pays (it stores the month's last day).
fn through_month(batch: &payout_batch::Model) -> Period {
    Period::of(
        batch
            .through_period
            .with_day(1)
            .unwrap_or(batch.through_period),
    )
}

/// Why a batch cannot take a step, from its status.
fn refuse_step(batch: &payout_batch::Model, step: &str) -> ServiceError {
    let when = |at: Option<chrono::DateTime<Utc>>| {
        at.map_or(String::new(), |at| {
            format!(" on {}", at.format("%Y-%m-%d %H:%M UTC"))
        })
    };
    ServiceError::conflict(match batch.status {
        PayoutStatus::Draft => format!("Payout batch {} is a draft: approve it first", batch.id),
        PayoutStatus::Approved => format!(
            "Payout batch {} is approved but not exported: export its file first",
            batch.id
        ),
        PayoutStatus::Exported => format!(
            "Payout batch {} was already exported{} as {} (message id {}): download the same file again from GET /api/v1/payouts/{}/sepa.xml — a second export could pay twice",
            batch.id,
            when(batch.exported_at),
            batch.file_name.as_deref().unwrap_or("its file"),
            batch.message_id.as_deref().unwrap_or("?"),
            batch.id
        ),
        PayoutStatus::Paid => format!(
            "Payout batch {} is already paid (on {}): it cannot be {step}",
            batch.id,
            batch.paid_on.map_or("?".into(), |d| d.to_string())
        ),
        PayoutStatus::Cancelled => format!(
            "Payout batch {} was cancelled{}: prepare a new one",
            batch.id,
            when(batch.cancelled_at)
        ),
    })
}

/// Re-reads the batch under the configuration's payout lock and checks it is still `status`.
async fn locked(
    txn: &sea_orm::DatabaseTransaction,
    batch: &payout_batch::Model,
    status: PayoutStatus,
    step: &str,
) -> Outcome<payout_batch::Model> {
    crud::write_lock(txn, &format!("payouts:{}", batch.configuration_id)).await?;
    let current = crud::payouts::find(txn, batch.id)
        .await?
        .ok_or(ServiceError::NotFound("Payout batch"))?;
    if current.status != status {
        return Err(refuse_step(&current, step));
    }
    Ok(current)
}

/// Approves a draft: by someone other than who prepared it, or by the configuration's
/// referent. Refused if the balances, names or IBANs moved since the preview.
pub async fn approve(
    actor: &Actor,
    db: &DatabaseConnection,
    id: i32,
) -> Outcome<(payout_batch::Model, Vec<payout_item::Model>)> {
    let (batch, configuration) = visible(actor, db, id).await?;
    if batch.status != PayoutStatus::Draft {
        return Err(if batch.status == PayoutStatus::Approved {
            ServiceError::conflict(format!(
                "Payout batch {} is already approved (by user {})",
                batch.id,
                batch.approved_by.unwrap_or_default()
            ))
        } else {
            refuse_step(&batch, "approved")
        });
    }
    let is_referent = configuration.referent_id == Some(actor.user_id);
    if batch.created_by == actor.user_id && !is_referent {
        return Err(ServiceError::ForbiddenBecause(
            "A payout batch is approved by a second person or by the configuration's referent: you prepared this one".into(),
        ));
    }
    let txn = db.begin().await?;
    let batch = locked(&txn, &batch, PayoutStatus::Draft, "approved").await?;
    let now = decisions(
        &txn,
        batch.configuration_id,
        batch.through_period,
        batch.minimum_cents,
    )
    .await?;
    if fingerprint(&now) != batch.fingerprint {
        return Err(ServiceError::conflict(format!(
            "The balances, names or IBANs changed since payout batch {} was prepared (a settlement finalised, a ledger row or a holder changed): cancel it and prepare a new one",
            batch.id
        )));
    }
    let mut model = batch.into_active_model();
    model.status = Set(PayoutStatus::Approved);
    model.approved_by = Set(Some(actor.user_id));
    model.approved_at = Set(Some(Utc::now()));
    let batch = crud::update(&txn, model).await?;
    let items = crud::payouts::items_of(&txn, batch.id).await?;
    actor
        .audit(
            &txn,
            "payout.approved",
            ("payout_batch", Some(i64::from(batch.id))),
            Some(batch.configuration_id),
            serde_json::json!({ "items": items.len(), "total_cents": batch.total_cents }),
        )
        .await?;
    txn.commit().await?;
    Ok((batch, items))
}

/// Exports an approved batch as a pain.001.001.09 file, kept byte for byte: exporting again is
/// refused (the bank could execute both), downloading the kept file is not.
pub async fn export(
    actor: &Actor,
    db: &DatabaseConnection,
    id: i32,
    input: PayoutExport,
) -> Outcome<(payout_batch::Model, Vec<payout_item::Model>)> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let (batch, configuration) = visible(actor, db, id).await?;
    if batch.status != PayoutStatus::Approved {
        return Err(refuse_step(&batch, "exported"));
    }
    let today = italian_today();
    let execution_date = input.execution_date.unwrap_or(today);
    if execution_date < today {
        return Err(ServiceError::invalid(
            "execution_date",
            format!(
                "{execution_date} is in the past: a bank executes transfers today ({today}) or later"
            ),
            "date",
        ));
    }
    let (Some(debtor_name), Some(debtor_iban)) = (
        configuration.payout_account_name.clone(),
        configuration.payout_iban.clone(),
    ) else {
        return Err(ServiceError::conflict(format!(
            "Configuration {} has no payout account: set it with PUT /api/v1/configurations/{}/payout-account before exporting",
            configuration.id, configuration.id
        )));
    };

    let txn = db.begin().await?;
    let batch = locked(&txn, &batch, PayoutStatus::Approved, "exported").await?;
    let items = crud::payouts::items_of(&txn, batch.id).await?;
    let included: Vec<&payout_item::Model> = items
        .iter()
        .filter(|i| i.status == PayoutItemStatus::Included)
        .collect();
    if included.is_empty() {
        return Err(ServiceError::conflict(format!(
            "Payout batch {} pays nobody (every balance is held back or carried over): cancel it",
            batch.id
        )));
    }
    // The accounts approved must still be the holders' accounts: an IBAN changed since
    // approval (a typo fixed, a new bank, or fraud) stops the export.
    let holder_ids: Vec<i32> = included.iter().filter_map(|i| i.holder_id).collect();
    let holders: std::collections::HashMap<i32, holder::Model> = holder::Entity::find()
        .filter(holder::Column::Id.is_in(holder_ids))
        .all(&txn)
        .await?
        .into_iter()
        .map(|h| (h.id, h))
        .collect();
    let mut changed = Vec::new();
    for item in &included {
        let holder = item.holder_id.and_then(|id| holders.get(&id));
        let now = holder.and_then(|h| {
            (h.status == HolderStatus::Active)
                .then_some(h.iban.clone())
                .flatten()
        });
        if now != item.iban || holder.and_then(display_name) != item.creditor_name {
            changed.push(format!(
                "{} (holder {}): approved {} for {}, now {}",
                item.pod,
                item.holder_id.unwrap_or_default(),
                item.iban.as_deref().unwrap_or("no IBAN"),
                item.creditor_name.as_deref().unwrap_or("?"),
                match holder {
                    Some(h) if h.status == HolderStatus::Active => format!(
                        "{} for {}",
                        h.iban.as_deref().unwrap_or("no IBAN"),
                        display_name(h).unwrap_or_else(|| "?".into())
                    ),
                    Some(h) => format!("holder {}", h.status.as_str()),
                    None => "no holder".into(),
                }
            ));
        }
    }
    if !changed.is_empty() {
        return Err(ServiceError::conflict(format!(
            "The account of {} changed after payout batch {} was approved: {}. Cancel this batch and prepare a new one",
            if changed.len() == 1 {
                "one member"
            } else {
                "some members"
            },
            batch.id,
            changed.join("; ")
        )));
    }

    let created = Utc::now();
    let message_id = format!(
        "CDV-{}-{}-{}",
        configuration.id,
        batch.id,
        created.format("%Y%m%d%H%M%S")
    );
    let through = through_month(&batch);
    let stored = |field: &str, value: &str| {
        ServiceError::Internal(anyhow::anyhow!("stored {field} `{value}` no longer parses"))
    };
    let mut transfers = Vec::new();
    for item in &included {
        let iban = item.iban.as_deref().unwrap_or_default();
        transfers.push(sepa::CreditTransfer {
            end_to_end_id: item.end_to_end_id.clone().unwrap_or_default(),
            amount_cents: item.amount_cents,
            creditor_name: item.creditor_name.clone().unwrap_or_default(),
            creditor_iban: Iban::parse(iban).map_err(|_| stored("IBAN", iban))?,
            creditor_bic: None,
            remittance: format!(
                "Ripartizione {} fino a {} POD {}",
                configuration.name,
                through.start.format("%m/%Y"),
                item.pod
            ),
        });
    }
    let order = sepa::PaymentOrder {
        message_id: message_id.clone(),
        created_at: created,
        initiating_party: debtor_name.clone(),
        payment_info_id: format!("CDV-{}-{}", configuration.id, batch.id),
        requested_execution_date: execution_date,
        debtor: sepa::Debtor {
            name: debtor_name.clone(),
            iban: Iban::parse(&debtor_iban).map_err(|_| stored("IBAN", &debtor_iban))?,
            bic: configuration
                .payout_bic
                .as_deref()
                .map(|b| sepa::Bic::parse(b).map_err(|_| stored("BIC", b)))
                .transpose()?,
        },
        batch_booking: true,
        transfers,
    };
    let xml = sepa::pain_001_001_09(&order)
        .map_err(|e| ServiceError::conflict(format!("The payment file cannot be written: {e}")))?;
    let xml = String::from_utf8(xml)
        .map_err(|e| ServiceError::Internal(anyhow::anyhow!("SEPA file is not UTF-8: {e}")))?;
    let sha256 = format!("{:x}", Sha256::digest(xml.as_bytes()));
    let mut model = batch.into_active_model();
    model.status = Set(PayoutStatus::Exported);
    model.execution_date = Set(Some(execution_date));
    model.message_id = Set(Some(message_id));
    model.debtor_name = Set(Some(debtor_name));
    model.debtor_iban = Set(Some(debtor_iban));
    model.debtor_bic = Set(configuration.payout_bic.clone());
    model.file_name = Set(Some(format!(
        "pain001-cfg{}-batch{}.xml",
        configuration.id, id
    )));
    model.file_content = Set(Some(xml));
    model.file_sha256 = Set(Some(sha256));
    model.exported_by = Set(Some(actor.user_id));
    model.exported_at = Set(Some(created));
    let batch = crud::update(&txn, model).await?;
    actor
        .audit(
            &txn,
            "payout.exported",
            ("payout_batch", Some(i64::from(batch.id))),
            Some(batch.configuration_id),
            serde_json::json!({ "file_sha256": batch.file_sha256, "execution_date": execution_date }),
        )
        .await?;
    txn.commit().await?;
    Ok((batch, items))
}

/// The exported file, as it was first written: (file name, XML).
pub async fn file(actor: &Actor, db: &DatabaseConnection, id: i32) -> Outcome<(String, String)> {
    let (batch, _) = visible(actor, db, id).await?;
    match (batch.file_name, batch.file_content) {
        (Some(name), Some(content)) => Ok((name, content)),
        _ => Err(ServiceError::conflict(format!(
            "Payout batch {id} has no file yet: it is {}; approve and export it first",
            batch.status.as_str()
        ))),
    }
}

/// Marks an exported batch paid: a `payment` row per transfer (negative: paid to the member).
/// Marking a paid batch again changes nothing.
pub async fn mark_paid(
    actor: &Actor,
    db: &DatabaseConnection,
    id: i32,
    input: PayoutPaid,
) -> Outcome<(payout_batch::Model, Vec<payout_item::Model>)> {
    let (batch, _) = visible(actor, db, id).await?;
    if batch.status == PayoutStatus::Paid {
        let items = crud::payouts::items_of(db, batch.id).await?;
        return Ok((batch, items));
    }
    if batch.status != PayoutStatus::Exported {
        return Err(refuse_step(&batch, "marked paid"));
    }
    let today = italian_today();
    if input.paid_on > today {
        return Err(ServiceError::invalid(
            "paid_on",
            format!(
                "{} is in the future: mark the batch paid once the bank has executed it",
                input.paid_on
            ),
            "date",
        ));
    }
    if let Some(execution) = batch.execution_date.filter(|e| input.paid_on < *e) {
        return Err(ServiceError::invalid(
            "paid_on",
            format!(
                "{} is before the execution date asked of the bank ({execution})",
                input.paid_on
            ),
            "date",
        ));
    }
    let txn = db.begin().await?;
    let batch = match locked(&txn, &batch, PayoutStatus::Exported, "marked paid").await {
        Ok(batch) => batch,
        // Marked paid meanwhile by someone else: the same answer as a repeat.
        Err(_) => {
            txn.rollback().await?;
            let (batch, _) = visible(actor, db, id).await?;
            if batch.status == PayoutStatus::Paid {
                let items = crud::payouts::items_of(db, batch.id).await?;
                return Ok((batch, items));
            }
            return Err(refuse_step(&batch, "marked paid"));
        }
    };
    let through = through_month(&batch);
    let items = crud::payouts::items_of(&txn, batch.id).await?;
    for item in items
        .iter()
        .filter(|i| i.status == PayoutItemStatus::Included)
    {
        let e2e = item.end_to_end_id.clone().unwrap_or_default();
        let row = crud::insert(
            &txn,
            transaction::ActiveModel {
                configuration_id: Set(batch.configuration_id),
                member_id: Set(Some(item.member_id)),
                kind: Set(TransactionKind::Payment),
                period_start: Set(through.start),
                period_end: Set(through.end),
                energy_wh: Set(None),
                amount_cents: Set(-item.amount_cents),
                status: Set(TransactionStatus::Settled),
                description: Set(Some(format!(
                    "payment of batch {} through {} ({}), paid on {}",
                    batch.id,
                    through.label(),
                    e2e,
                    input.paid_on
                ))),
                reference: Set(Some(format!("payout:{}:{}", batch.id, e2e))),
                created_by: Set(actor.user_id),
                created_at: Set(Utc::now()),
                settled_at: Set(Some(Utc::now())),
                ..Default::default()
            },
        )
        .await?;
        let mut paid = item.clone().into_active_model();
        paid.transaction_id = Set(Some(row.id));
        crud::update(&txn, paid).await?;
    }
    let mut model = batch.into_active_model();
    model.status = Set(PayoutStatus::Paid);
    model.paid_on = Set(Some(input.paid_on));
    model.paid_by = Set(Some(actor.user_id));
    model.paid_at = Set(Some(Utc::now()));
    let batch = crud::update(&txn, model).await?;
    let items = crud::payouts::items_of(&txn, batch.id).await?;
    txn.commit().await?;
    Ok((batch, items))
}

/// Cancels a batch that is not paid. Once exported, a reason is required: the bank may hold
/// the file, and whoever reads the batch later must know why it was not paid.
pub async fn cancel(
    actor: &Actor,
    db: &DatabaseConnection,
    id: i32,
    input: PayoutCancel,
) -> Outcome<(payout_batch::Model, Vec<payout_item::Model>)> {
    let (batch, _) = visible(actor, db, id).await?;
    if matches!(batch.status, PayoutStatus::Paid | PayoutStatus::Cancelled) {
        return Err(refuse_step(&batch, "cancelled"));
    }
    let reason = clean(input.reason.as_deref());
    if batch.status == PayoutStatus::Exported && reason.is_none() {
        return Err(ServiceError::invalid(
            "reason",
            "The batch's file was exported: say why it is cancelled (and make sure the bank does not execute it)",
            "conditionally_required",
        ));
    }
    let txn = db.begin().await?;
    let batch = locked(&txn, &batch, batch.status, "cancelled").await?;
    let mut model = batch.into_active_model();
    model.status = Set(PayoutStatus::Cancelled);
    model.cancelled_by = Set(Some(actor.user_id));
    model.cancelled_at = Set(Some(Utc::now()));
    model.cancel_reason = Set(reason);
    let batch = crud::update(&txn, model).await?;
    let items = crud::payouts::items_of(&txn, batch.id).await?;
    txn.commit().await?;
    Ok((batch, items))
}
