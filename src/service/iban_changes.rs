//! A member's request to be paid on another account. The member asks (only the holder's own
//! portal account may), an operator who may change the holder confirms it — the holder's IBAN
//! changes with a revision naming the request, so the payouts after it use the new account —
//! or rejects it with a reason. The holder is mailed at each step: an IBAN change is where
//! fraud happens, so the address on file hears of it even when someone else asked.
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    QuerySelect, Set, TransactionTrait,
};
use serde_json::{Map, json};

use super::holders::{self, record};
use super::{Actor, Outcome, ServiceError};
use crate::core::permissions::Permission;
use crate::crud;
use crate::domain::contacts::Iban;
use crate::domain::mail::MailTemplate;
use crate::mail::Mailer;
use crate::models::enums::{HolderAction, HolderStatus, IbanChangeStatus};
use crate::models::{holder, iban_change_request};
use crate::schemas::holder::display_name;
use crate::schemas::iban_change::{IbanChangeCreate, IbanChangeListParams};

/// How many requests a holder may make in [`WINDOW`]: each one mails the holder.
pub const REQUESTS_PER_DAY: u64 = 5;
const WINDOW: Duration = Duration::hours(24);

/// The last four characters, as the holder's mail and the portal show an IBAN.
pub fn iban_tail(iban: &str) -> String {
    let chars: Vec<char> = iban.chars().collect();
    chars[chars.len().saturating_sub(4)..].iter().collect()
}

/// Asks for `input.iban` to replace the holder's IBAN.
pub async fn request(
    actor: &Actor,
    db: &DatabaseConnection,
    mailer: &Mailer,
    holder_id: i32,
    input: IbanChangeCreate,
) -> Outcome<iban_change_request::Model> {
    let found = holders::visible(actor, db, holder_id).await?;
    actor.require(Permission::IbanChangeRequest)?;
    if found.user_id != Some(actor.user_id) {
        return Err(ServiceError::ForbiddenBecause(
            "Only the holder's own account asks for a new IBAN; an operator changes it on the holder"
                .into(),
        ));
    }
    if found.status == HolderStatus::Erased {
        return Err(ServiceError::conflict(
            "The holder's personal data was erased",
        ));
    }
    let iban = Iban::parse(&input.iban)
        .map_err(|error| ServiceError::invalid("iban", error.to_string(), "iban"))?;
    if found.iban.as_deref() == Some(iban.as_str()) {
        return Err(ServiceError::invalid(
            "iban",
            "This is already the IBAN the holder is paid on",
            "unchanged",
        ));
    }
    let note = input
        .note
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty());
    let now = Utc::now();
    let txn = db.begin().await?;
    crud::write_lock(&txn, &format!("holder:{holder_id}")).await?;
    if let Some(waiting) = crud::iban_changes::pending_of(&txn, holder_id).await? {
        return Err(ServiceError::conflict(format!(
            "Request {} of {} for a new IBAN is still waiting for an operator: withdraw it before asking again",
            waiting.id,
            waiting.requested_at.format("%Y-%m-%d")
        )));
    }
    check_rate(&txn, holder_id, now).await?;
    let saved = crud::insert(
        &txn,
        iban_change_request::ActiveModel {
            holder_id: Set(holder_id),
            status: Set(IbanChangeStatus::Pending),
            iban: Set(Some(iban.as_str().to_string())),
            note: Set(note),
            requested_by: Set(Some(actor.user_id)),
            requested_at: Set(now),
            ..Default::default()
        },
    )
    .await?;
    tell_holder(
        &txn,
        mailer,
        &found,
        MailTemplate::IbanChangeRequested,
        json!({"iban_tail": iban_tail(iban.as_str())}),
    )
    .await?;
    txn.commit().await?;
    mailer.wake();
    tracing::info!(
        iban_change_request_id = saved.id,
        holder_id,
        "new IBAN requested"
    );
    Ok(saved)
}

async fn check_rate(db: &impl ConnectionTrait, holder_id: i32, now: DateTime<Utc>) -> Outcome<()> {
    let since = now - WINDOW;
    // At most a handful of rows: the times of the holder's requests in the window.
    let recent: Vec<DateTime<Utc>> = iban_change_request::Entity::find()
        .select_only()
        .column(iban_change_request::Column::RequestedAt)
        .filter(iban_change_request::Column::HolderId.eq(holder_id))
        .filter(iban_change_request::Column::RequestedAt.gt(since))
        .into_tuple()
        .all(db)
        .await?;
    if (recent.len() as u64) < REQUESTS_PER_DAY {
        return Ok(());
    }
    let oldest = recent.into_iter().min().unwrap_or(now);
    Err(ServiceError::RateLimited {
        detail: format!(
            "At most {REQUESTS_PER_DAY} requests for a new IBAN in 24 hours: ask again later"
        ),
        retry_after: crate::domain::login_throttle::retry_after_seconds(oldest + WINDOW - now),
    })
}

/// Queues `template` to the holder's address on file, if it has one.
async fn tell_holder(
    db: &impl ConnectionTrait,
    mailer: &Mailer,
    holder: &holder::Model,
    template: MailTemplate,
    context: serde_json::Value,
) -> Outcome<()> {
    let Some(email) = &holder.email else {
        return Ok(());
    };
    let mut context = context;
    context["name"] = json!(display_name(holder).unwrap_or_default());
    mailer
        .queue(db, email, holder.language, template, context)
        .await
        .map_err(ServiceError::Internal)?;
    Ok(())
}

/// A request whose holder the actor sees, with that holder; any other is "not found".
pub async fn visible(
    actor: &Actor,
    db: &impl ConnectionTrait,
    id: i32,
) -> Outcome<(iban_change_request::Model, holder::Model)> {
    actor.require(Permission::HoldersRead)?;
    let request = crud::iban_changes::find_in_scope(db, actor.community_scope(), id)
        .await?
        .ok_or(ServiceError::NotFound("IBAN change request"))?;
    let found = holders::visible(actor, db, request.holder_id).await?;
    Ok((request, found))
}

/// A holder's requests, newest first.
pub async fn of_holder(
    actor: &Actor,
    db: &DatabaseConnection,
    holder_id: i32,
) -> Outcome<Vec<iban_change_request::Model>> {
    let found = holders::visible(actor, db, holder_id).await?;
    Ok(crud::iban_changes::of_holder(db, found.id).await?)
}

/// The requests the actor sees, oldest first, with their holders.
pub async fn list(
    actor: &Actor,
    db: &DatabaseConnection,
    params: &IbanChangeListParams,
) -> Outcome<(Vec<(iban_change_request::Model, holder::Model)>, u64)> {
    actor.require(Permission::HoldersRead)?;
    if let Some(configuration_id) = params.configuration_id {
        super::configurations::visible(actor, db, configuration_id).await?;
    }
    let (rows, total) = crud::iban_changes::list(
        db,
        actor.community_scope(),
        params.status,
        params.configuration_id,
        params.skip,
        params.limit,
    )
    .await?;
    let ids: Vec<i32> = rows.iter().map(|r| r.holder_id).collect();
    let found: std::collections::HashMap<i32, holder::Model> = holder::Entity::find()
        .filter(holder::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|h| (h.id, h))
        .collect();
    let rows = rows
        .into_iter()
        .map(|r| {
            let h = found
                .get(&r.holder_id)
                .cloned()
                .ok_or(ServiceError::NotFound("Holder"))?;
            Ok((r, h))
        })
        .collect::<Outcome<Vec<_>>>()?;
    Ok((rows, total))
}

fn undecidable(request: &iban_change_request::Model) -> ServiceError {
    ServiceError::conflict(format!(
        "Request {} is already {}",
        request.id,
        request.status.as_str()
    ))
}

/// The request, read again under its holder's lock, still waiting; and the holder.
async fn pending_locked(
    txn: &impl ConnectionTrait,
    id: i32,
    holder_id: i32,
) -> Outcome<(iban_change_request::Model, holder::Model)> {
    crud::write_lock(txn, &format!("holder:{holder_id}")).await?;
    let request = crud::iban_changes::find(txn, id)
        .await?
        .ok_or(ServiceError::NotFound("IBAN change request"))?;
    if request.status != IbanChangeStatus::Pending {
        return Err(undecidable(&request));
    }
    let found = holder::Entity::find_by_id(holder_id)
        .one(txn)
        .await?
        .ok_or(ServiceError::NotFound("Holder"))?;
    Ok((request, found))
}

/// Confirms a pending request: the holder is paid on the new IBAN from now on (a revision
/// records it, naming the request). Whoever asked cannot confirm it.
pub async fn confirm(
    actor: &Actor,
    db: &DatabaseConnection,
    mailer: &Mailer,
    id: i32,
) -> Outcome<iban_change_request::Model> {
    let (request, found) = visible(actor, db, id).await?;
    actor.require(Permission::HoldersWrite)?;
    if request.requested_by == Some(actor.user_id) {
        return Err(ServiceError::ForbiddenBecause(
            "You asked for this change yourself: another operator confirms it".into(),
        ));
    }
    let now = Utc::now();
    let txn = db.begin().await?;
    let (request, found) = pending_locked(&txn, request.id, found.id).await?;
    if found.status == HolderStatus::Erased {
        return Err(ServiceError::conflict(
            "The holder's personal data was erased",
        ));
    }
    let iban = request
        .iban
        .clone()
        .ok_or_else(|| ServiceError::conflict("The request no longer holds an IBAN"))?;
    // Stored validated; read again, so that nothing unreadable ever reaches a payment file.
    Iban::parse(&iban).map_err(|error| {
        ServiceError::Internal(anyhow::anyhow!(
            "stored IBAN of request {id} is invalid: {error}"
        ))
    })?;
    if found.iban.as_deref() != Some(iban.as_str()) {
        let before = found.iban.clone();
        let mut model = found.clone().into_active_model();
        model.iban = Set(Some(iban.clone()));
        let saved = crud::update(&txn, model).await?;
        let changes = Map::from_iter([
            ("iban".to_string(), json!([before, iban])),
            ("iban_change_request".to_string(), json!(request.id)),
        ]);
        record(&txn, &saved, Some(actor), HolderAction::Updated, changes).await?;
    }
    if !crud::iban_changes::decide(
        &txn,
        request.id,
        IbanChangeStatus::Confirmed,
        actor.user_id,
        now,
        None,
    )
    .await?
    {
        return Err(undecidable(&request));
    }
    tell_holder(
        &txn,
        mailer,
        &found,
        MailTemplate::IbanChangeConfirmed,
        json!({"iban_tail": iban_tail(&iban)}),
    )
    .await?;
    actor
        .audit(
            &txn,
            "holder.iban_confirmed",
            ("iban_change_request", Some(i64::from(request.id))),
            None,
            json!({"holder_id": found.id, "iban_tail": iban_tail(&iban)}),
        )
        .await?;
    txn.commit().await?;
    mailer.wake();
    reread(db, request.id).await
}

/// Rejects a pending request with the reason the holder is told; the IBAN stays.
pub async fn reject(
    actor: &Actor,
    db: &DatabaseConnection,
    mailer: &Mailer,
    id: i32,
    reason: &str,
) -> Outcome<iban_change_request::Model> {
    let (request, found) = visible(actor, db, id).await?;
    actor.require(Permission::HoldersWrite)?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ServiceError::invalid(
            "reason",
            "The reason says nothing",
            "missing",
        ));
    }
    let txn = db.begin().await?;
    let (request, found) = pending_locked(&txn, request.id, found.id).await?;
    if !crud::iban_changes::decide(
        &txn,
        request.id,
        IbanChangeStatus::Rejected,
        actor.user_id,
        Utc::now(),
        Some(reason),
    )
    .await?
    {
        return Err(undecidable(&request));
    }
    let tail = request.iban.as_deref().map(iban_tail).unwrap_or_default();
    tell_holder(
        &txn,
        mailer,
        &found,
        MailTemplate::IbanChangeRejected,
        json!({"iban_tail": tail, "reason": reason}),
    )
    .await?;
    actor
        .audit(
            &txn,
            "holder.iban_rejected",
            ("iban_change_request", Some(i64::from(request.id))),
            None,
            json!({"holder_id": found.id, "iban_tail": tail, "reason": reason}),
        )
        .await?;
    txn.commit().await?;
    mailer.wake();
    reread(db, request.id).await
}

/// The holder's own account takes back a request still waiting.
pub async fn withdraw(
    actor: &Actor,
    db: &DatabaseConnection,
    id: i32,
) -> Outcome<iban_change_request::Model> {
    let (request, found) = visible(actor, db, id).await?;
    if request.requested_by != Some(actor.user_id) && found.user_id != Some(actor.user_id) {
        return Err(ServiceError::ForbiddenBecause(
            "Only the holder's own account withdraws its request; an operator rejects it".into(),
        ));
    }
    let txn = db.begin().await?;
    let (request, _) = pending_locked(&txn, request.id, found.id).await?;
    if !crud::iban_changes::decide(
        &txn,
        request.id,
        IbanChangeStatus::Withdrawn,
        actor.user_id,
        Utc::now(),
        None,
    )
    .await?
    {
        return Err(undecidable(&request));
    }
    txn.commit().await?;
    reread(db, request.id).await
}

/// The request as it was committed.
async fn reread(db: &DatabaseConnection, id: i32) -> Outcome<iban_change_request::Model> {
    crud::iban_changes::find(db, id)
        .await?
        .ok_or(ServiceError::NotFound("IBAN change request"))
}
