//! The append-only ledger: rows are recorded `pending`, then settled or cancelled, never edited
//! or deleted. Recording with an idempotency key makes retries safe.
use sea_orm::sea_query::Condition;
use sea_orm::{DatabaseConnection, DbBackend, Set, TransactionTrait, TryIntoModel};
use sha2::{Digest, Sha256};

use super::{Actor, Claimed, Outcome, Place, Problem, ServiceError, configurations, fixed_point};
use crate::core::permissions::Permission;
use crate::crud;
use crate::domain::quantities::{CENTS, KWH_MILLI};
use crate::models::enums::{ConfigurationStatus, TransactionKind, TransactionStatus};
use crate::models::transaction;
use crate::schemas::common::clean;
use crate::schemas::transaction::{TransactionCreate, TransactionListParams, TransactionPublic};

/// What recording answered: the new row, or — for a retry with the same key — the first answer
/// as it was stored (HTTP status and JSON body).
pub enum Recorded {
    Created(String),
    Replayed { status: u16, body: String },
}

pub async fn list(
    actor: &Actor,
    db: &DatabaseConnection,
    params: &TransactionListParams,
) -> Outcome<(Vec<transaction::Model>, u64)> {
    actor.require(Permission::ConfigurationsRead)?;
    check_dates(params)?;
    Ok(crud::transactions::list(db, actor.community_scope(), params).await?)
}

fn check_dates(params: &TransactionListParams) -> Outcome<()> {
    if let (Some(from), Some(to)) = (params.from, params.to)
        && from > to
    {
        return Err(ServiceError::Invalid(vec![Problem {
            place: vec![Place::Query, Place::Field("to".into())],
            message: "`to` cannot be before `from`".into(),
            kind: "date_order".into(),
        }]));
    }
    Ok(())
}

/// Every ledger row of a configuration (or of one member, when `member_id` is set) that the
/// filters select, for a file: the configuration or member must be in the actor's scope.
pub async fn export(
    actor: &Actor,
    db: &DatabaseConnection,
    params: &TransactionListParams,
) -> Outcome<Vec<transaction::Model>> {
    actor.require(Permission::ConfigurationsRead)?;
    check_dates(params)?;
    Ok(crud::transactions::all(db, actor.community_scope(), params).await?)
}

/// A ledger row in the actor's scope; any other is "not found".
pub async fn visible(
    actor: &Actor,
    db: &DatabaseConnection,
    id: i32,
) -> Outcome<transaction::Model> {
    actor.require(Permission::ConfigurationsRead)?;
    crud::transactions::find_in_scope(db, actor.community_scope(), id)
        .await?
        .ok_or(ServiceError::NotFound("Transaction"))
}

/// Records a `pending` row. With an idempotency key, the first answer is stored in the same
/// transaction as the row, and a retry with the same key and input gets it back unchanged —
/// even where the same request would now be refused (the configuration closed since).
pub async fn record(
    actor: &Actor,
    db: &DatabaseConnection,
    input: &TransactionCreate,
    idempotency_key: Option<&str>,
) -> Outcome<Recorded> {
    actor.require(Permission::TransactionsWrite)?;
    record_as(actor, None, db, input, idempotency_key)
        .await?
        .ok_or_else(|| {
            ServiceError::Internal(anyhow::anyhow!("an unguarded write went unconfirmed"))
        })
}

/// [`record`] on an access token's claim, checked in the statement that reads the row's
/// configuration, before anything is written. `None`: the role may not write, or that statement
/// found nothing (the claim no longer holds, or the configuration is not referable) — load the
/// user and call [`record`].
pub async fn record_claimed(
    claimed: &Claimed,
    db: &DatabaseConnection,
    input: &TransactionCreate,
    idempotency_key: Option<&str>,
) -> Outcome<Option<Recorded>> {
    let Some((actor, guard)) = claimed.permitted(Permission::TransactionsWrite) else {
        return Ok(None);
    };
    record_as(actor, Some(guard), db, input, idempotency_key).await
}

async fn record_as(
    actor: &Actor,
    guard: Option<Condition>,
    db: &DatabaseConnection,
    input: &TransactionCreate,
    idempotency_key: Option<&str>,
) -> Outcome<Option<Recorded>> {
    let request_hash = hash_request(input);
    // The common case, a new key, costs no lookup: the key is claimed by the insert that stores
    // the answer, and only a refusal or a taken key reads what was stored.
    let refusal = match write(actor, guard, db, input, idempotency_key, &request_hash).await {
        Ok(Written::Answer(body)) => return Ok(Some(Recorded::Created(body))),
        Ok(Written::Unconfirmed) => return Ok(None),
        Ok(Written::KeyTaken) => None,
        Err(error @ (ServiceError::Database(_) | ServiceError::Internal(_))) => return Err(error),
        Err(refusal) => Some(refusal),
    };
    let stored = match idempotency_key {
        Some(key) => crud::idempotency::find(db, actor.user_id, key).await?,
        None => None,
    };
    match (stored, refusal) {
        (Some(stored), _) => replay(stored, &request_hash).map(Some),
        (None, Some(refusal)) => Err(refusal),
        // The key was taken and its row is gone: only a purge between the two statements.
        (None, None) => Err(ServiceError::conflict(
            "This Idempotency-Key is being used by another request; retry",
        )),
    }
}

/// What [`write`] did.
enum Written {
    /// The row (and the answer under the key) is written; this is the answer.
    Answer(String),
    /// The key was already taken: nothing was written.
    KeyTaken,
    /// Read on a claim, the configuration's statement found nothing: nothing was written.
    Unconfirmed,
}

/// Validates and writes the row (and the answer under `key`).
async fn write(
    actor: &Actor,
    guard: Option<Condition>,
    db: &DatabaseConnection,
    input: &TransactionCreate,
    idempotency_key: Option<&str>,
    request_hash: &str,
) -> Outcome<Written> {
    let postgres = db.get_database_backend() == DbBackend::Postgres;
    let claimed = guard.is_some();
    let target = crud::configurations::ledger_target(
        db,
        actor.community_scope(),
        guard.unwrap_or_else(Condition::all),
        input.configuration_id,
        input.member_id,
        postgres,
    )
    .await?;
    let Some(crud::configurations::LedgerTarget {
        configuration,
        member_belongs,
        transaction_id,
    }) = target
    else {
        return match claimed {
            true => Ok(Written::Unconfirmed),
            false => Err(configurations::not_referable()),
        };
    };
    if configuration.status == ConfigurationStatus::Closed {
        return Err(ServiceError::conflict("The configuration is closed"));
    }
    if input.member_id.is_some() && !member_belongs {
        return Err(ServiceError::invalid(
            "member_id",
            "Member not found in the configuration",
            "not_found",
        ));
    }
    // Amounts are seen from the member's side: credits positive, a payment to the member
    // negative (what it is owed goes down). A positive payment would be a credit in disguise.
    if input.kind == TransactionKind::Payment
        && input.member_id.is_some()
        && input.amount_eur.is_sign_positive()
        && !input.amount_eur.is_zero()
    {
        return Err(ServiceError::invalid(
            "amount_eur",
            "A payment to a member is recorded as a negative amount (what it is owed goes down), e.g. -2.30",
            "sign",
        ));
    }
    if input.kind == TransactionKind::GsePayment && input.member_id.is_some() {
        return Err(ServiceError::invalid(
            "member_id",
            "A GSE payment belongs to the configuration: leave member_id null",
            "gse_payment",
        ));
    }
    if input.period_start > input.period_end {
        return Err(ServiceError::invalid(
            "period_end",
            "period_end cannot be before period_start",
            "date_order",
        ));
    }
    let model = transaction::ActiveModel {
        configuration_id: Set(configuration.id),
        member_id: Set(input.member_id),
        kind: Set(input.kind),
        period_start: Set(input.period_start),
        period_end: Set(input.period_end),
        energy_wh: Set(input
            .energy_kwh
            .map(|kwh| fixed_point("energy_kwh", kwh, KWH_MILLI))
            .transpose()?),
        amount_cents: Set(fixed_point("amount_eur", input.amount_eur, CENTS)?),
        status: Set(TransactionStatus::Pending),
        description: Set(clean(input.description.as_deref())),
        reference: Set(clean(input.reference.as_deref())),
        created_by: Set(actor.user_id),
        settled_at: Set(None),
        ..Default::default()
    };

    if let Some(id) = transaction_id {
        return write_in_one_statement(actor, db, id, model, idempotency_key, request_hash).await;
    }
    let txn = db.begin().await?;
    let created = crud::transactions::insert(&txn, model).await?;
    let response_body =
        serde_json::to_string(&TransactionPublic::from(created)).map_err(anyhow::Error::from)?;
    if let Some(key) = idempotency_key {
        let stored = crud::idempotency::store(
            &txn,
            actor.user_id,
            key,
            request_hash.to_string(),
            CREATED,
            response_body.clone(),
        )
        .await?;
        if !stored {
            // Another request with this key committed first: ours is rolled back (dropping
            // the transaction) and the caller gets the stored answer.
            return Ok(Written::KeyTaken);
        }
    }
    txn.commit().await?;
    Ok(Written::Answer(response_body))
}

/// PostgreSQL: the id is drawn first (with the configuration's check), so the answer is known
/// before the row is written, and the row with its key and answer go in one statement — one
/// round trip instead of four (begin, row, key, commit). The statement is atomic on its own: a
/// key already taken writes nothing.
async fn write_in_one_statement(
    actor: &Actor,
    db: &DatabaseConnection,
    id: i32,
    model: transaction::ActiveModel,
    idempotency_key: Option<&str>,
    request_hash: &str,
) -> Outcome<Written> {
    let mut model = model;
    model.id = Set(id);
    // Microseconds, as PostgreSQL keeps them: the answer written now says what a read returns.
    model.created_at = Set(chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 6));
    let row = model
        .try_into_model()
        .map_err(|error| ServiceError::Internal(anyhow::anyhow!("ledger row: {error}")))?;
    let response_body = serde_json::to_string(&TransactionPublic::from(row.clone()))
        .map_err(anyhow::Error::from)?;
    let answer = idempotency_key.map(|key| crud::transactions::KeyedAnswer {
        user_id: actor.user_id,
        key,
        request_hash,
        status_code: CREATED,
        response_body: &response_body,
    });
    if crud::transactions::insert_with_answer(db, &row, answer).await? {
        Ok(Written::Answer(response_body))
    } else {
        Ok(Written::KeyTaken)
    }
}

/// Settles or cancels a pending row: of two concurrent calls exactly one wins.
pub async fn close(
    actor: &Actor,
    db: &DatabaseConnection,
    id: i32,
    status: TransactionStatus,
) -> Outcome<transaction::Model> {
    let existing = visible(actor, db, id).await?;
    actor.require(Permission::TransactionsWrite)?;
    if !crud::transactions::close_pending(db, existing.id, status).await? {
        return Err(ServiceError::conflict(format!(
            "Only a pending transaction can be {}",
            if status == TransactionStatus::Settled {
                "settled"
            } else {
                "cancelled"
            }
        )));
    }
    visible(actor, db, id).await
}

/// The HTTP status stored with a first answer.
const CREATED: u16 = 201;

/// The request as parsed, not as sent: whitespace, key order or `12.5` vs `"12.50"` do not make
/// it "another" request.
fn hash_request(input: &TransactionCreate) -> String {
    let mut value = serde_json::to_value(input).unwrap_or_default();
    value["amount_eur"] = serde_json::Value::from(input.amount_eur.normalize().to_string());
    value["energy_kwh"] = input.energy_kwh.map(|e| e.normalize().to_string()).into();
    let canonical = value.to_string();
    format!("{:x}", Sha256::digest(canonical.as_bytes()))
}

fn replay(stored: crate::models::idempotency_key::Model, request_hash: &str) -> Outcome<Recorded> {
    if stored.request_hash != request_hash {
        return Err(ServiceError::Invalid(vec![Problem {
            place: vec![Place::Header, Place::Field("Idempotency-Key".into())],
            message: "This Idempotency-Key was already used with a different request".into(),
            kind: "idempotency_key_reused".into(),
        }]));
    }
    Ok(Recorded::Replayed {
        status: stored.status_code as u16,
        body: stored.response_body,
    })
}
