//! `/transactions`: the append-only ledger. Corrections are new `adjustment` rows; a pending row
//! is settled or cancelled, never edited or deleted.
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sea_orm::{Set, TransactionTrait};
use sha2::{Digest, Sha256};

use super::configurations::configuration_for_write;
use crate::api::deps::CurrentUser;
use crate::api::error::{
    ApiError, ErrorDetail, FieldError, ValidationErrorBody, fixed_point, invalid_field,
};
use crate::api::extract::{ValidJson, ValidPath, ValidQuery};
use crate::app::AppState;
use crate::core::permissions::Permission;
use crate::crud;
use crate::domain::quantities::{CENTS, KWH_MILLI};
use crate::models::enums::{ConfigurationStatus, TransactionStatus};
use crate::models::transaction;
use crate::schemas::common::{Page, clean};
use crate::schemas::transaction::{TransactionCreate, TransactionListParams, TransactionPublic};

const IDEMPOTENCY_KEY: &str = "idempotency-key";

#[utoipa::path(
    get,
    path = "/api/v1/transactions/",
    tag = "transactions",
    params(TransactionListParams),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "A page of ledger rows in scope", body = Page<TransactionPublic>),
        (status = 401, description = "Could not validate credentials", body = ErrorDetail),
        (status = 422, description = "Bad query parameter", body = ValidationErrorBody),
    )
)]
pub async fn list_transactions(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidQuery(params): ValidQuery<TransactionListParams>,
) -> Result<Json<Page<TransactionPublic>>, ApiError> {
    current.require(Permission::ConfigurationsRead)?;
    if let (Some(from), Some(to)) = (params.from, params.to)
        && from > to
    {
        return Err(ApiError::invalid(FieldError::new(
            &["query", "to"],
            "`to` cannot be before `from`",
            "date_order",
        )));
    }
    let (rows, total) =
        crud::transactions::list(&state.db, current.community_scope(), &params).await?;
    let items = rows.into_iter().map(Into::into).collect();
    Ok(Json(Page::new(items, total, params.skip, params.limit)))
}

/// Records a ledger row (always `pending`). With an `Idempotency-Key` header, a retry of the same
/// request answers the first response again and writes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/transactions/",
    tag = "transactions",
    request_body = TransactionCreate,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and body replay the first response")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 201, description = "Recorded", body = TransactionPublic),
        (status = 401, description = "Could not validate credentials", body = ErrorDetail),
        (status = 403, description = "The role may not record transactions", body = ErrorDetail),
        (status = 409, description = "The configuration is closed", body = ErrorDetail),
        (status = 422, description = "Invalid body, or an Idempotency-Key reused with another body", body = ValidationErrorBody),
    )
)]
pub async fn create_transaction(
    State(state): State<AppState>,
    current: CurrentUser,
    headers: HeaderMap,
    ValidJson(body): ValidJson<TransactionCreate>,
) -> Result<Response, ApiError> {
    current.require(Permission::TransactionsWrite)?;
    let key = idempotency_key(&headers)?;
    let request_hash = hash_request(&body);
    if let Some(key) = &key
        && let Some(stored) = crud::idempotency::find(&state.db, current.id(), key).await?
    {
        return replay(stored, &request_hash);
    }

    let configuration = configuration_for_write(&state, &current, body.configuration_id).await?;
    if configuration.status == ConfigurationStatus::Closed {
        return Err(ApiError::Conflict("The configuration is closed".into()));
    }
    if let Some(member_id) = body.member_id {
        let belongs = crud::members::find_in_scope(&state.db, current.community_scope(), member_id)
            .await?
            .is_some_and(|member| member.configuration_id == configuration.id);
        if !belongs {
            return Err(invalid_field(
                "member_id",
                "Member not found in the configuration",
                "not_found",
            ));
        }
    }
    if body.period_start > body.period_end {
        return Err(invalid_field(
            "period_end",
            "period_end cannot be before period_start",
            "date_order",
        ));
    }
    let model = transaction::ActiveModel {
        configuration_id: Set(configuration.id),
        member_id: Set(body.member_id),
        kind: Set(body.kind),
        period_start: Set(body.period_start),
        period_end: Set(body.period_end),
        energy_wh: Set(body
            .energy_kwh
            .map(|kwh| fixed_point("energy_kwh", kwh, KWH_MILLI))
            .transpose()?),
        amount_cents: Set(fixed_point("amount_eur", body.amount_eur, CENTS)?),
        status: Set(TransactionStatus::Pending),
        description: Set(clean(body.description.as_deref())),
        reference: Set(clean(body.reference.as_deref())),
        created_by: Set(current.id()),
        settled_at: Set(None),
        ..Default::default()
    };

    let txn = state.db.begin().await?;
    let created = crud::transactions::insert(&txn, model).await?;
    let response_body = serde_json::to_string(&TransactionPublic::from(created))
        .map_err(|e| ApiError::Internal(e.into()))?;
    if let Some(key) = &key {
        let stored = crud::idempotency::insert(
            &txn,
            current.id(),
            key,
            request_hash.clone(),
            StatusCode::CREATED.as_u16(),
            response_body.clone(),
        )
        .await;
        if let Err(error) = stored {
            // A concurrent request with the same key committed first: ours is rolled back and
            // the caller gets the winner's response.
            drop(txn);
            if let Some(stored) = crud::idempotency::find(&state.db, current.id(), key).await? {
                return replay(stored, &request_hash);
            }
            return Err(error.into());
        }
    }
    txn.commit().await?;
    Ok(json_response(StatusCode::CREATED, response_body))
}

#[utoipa::path(
    get,
    path = "/api/v1/transactions/{id}",
    tag = "transactions",
    params(("id" = i32, Path, description = "Transaction id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "The ledger row", body = TransactionPublic),
        (status = 401, description = "Could not validate credentials", body = ErrorDetail),
        (status = 404, description = "Transaction not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Bad id", body = ValidationErrorBody),
    )
)]
pub async fn read_transaction(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<Json<TransactionPublic>, ApiError> {
    Ok(Json(visible(&state, &current, id).await?.into()))
}

#[utoipa::path(
    post,
    path = "/api/v1/transactions/{id}/settle",
    tag = "transactions",
    params(("id" = i32, Path, description = "Transaction id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Settled", body = TransactionPublic),
        (status = 401, description = "Could not validate credentials", body = ErrorDetail),
        (status = 403, description = "The role may not settle transactions", body = ErrorDetail),
        (status = 404, description = "Transaction not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 409, description = "Only a pending transaction can be settled", body = ErrorDetail),
        (status = 422, description = "Bad id", body = ValidationErrorBody),
    )
)]
pub async fn settle_transaction(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<Json<TransactionPublic>, ApiError> {
    close(&state, &current, id, TransactionStatus::Settled).await
}

#[utoipa::path(
    post,
    path = "/api/v1/transactions/{id}/cancel",
    tag = "transactions",
    params(("id" = i32, Path, description = "Transaction id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Cancelled", body = TransactionPublic),
        (status = 401, description = "Could not validate credentials", body = ErrorDetail),
        (status = 403, description = "The role may not cancel transactions", body = ErrorDetail),
        (status = 404, description = "Transaction not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 409, description = "Only a pending transaction can be cancelled", body = ErrorDetail),
        (status = 422, description = "Bad id", body = ValidationErrorBody),
    )
)]
pub async fn cancel_transaction(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<Json<TransactionPublic>, ApiError> {
    close(&state, &current, id, TransactionStatus::Cancelled).await
}

async fn close(
    state: &AppState,
    current: &CurrentUser,
    id: i32,
    status: TransactionStatus,
) -> Result<Json<TransactionPublic>, ApiError> {
    let existing = visible(state, current, id).await?;
    current.require(Permission::TransactionsWrite)?;
    // Conditional update: of two concurrent settle/cancel calls exactly one wins.
    if !crud::transactions::close_pending(&state.db, existing.id, status).await? {
        return Err(ApiError::Conflict(format!(
            "Only a pending transaction can be {}",
            if status == TransactionStatus::Settled {
                "settled"
            } else {
                "cancelled"
            }
        )));
    }
    Ok(Json(visible(state, current, id).await?.into()))
}

async fn visible(
    state: &AppState,
    current: &CurrentUser,
    id: i32,
) -> Result<transaction::Model, ApiError> {
    current.require(Permission::ConfigurationsRead)?;
    crud::transactions::find_in_scope(&state.db, current.community_scope(), id)
        .await?
        .ok_or_else(|| ApiError::not_found("Transaction"))
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let invalid = || {
        ApiError::invalid(FieldError::new(
            &["header", "Idempotency-Key"],
            "The Idempotency-Key must be 1 to 255 visible ASCII characters",
            "string_type",
        ))
    };
    let key = value.to_str().map_err(|_| invalid())?.trim();
    if key.is_empty() || key.len() > 255 {
        return Err(invalid());
    }
    Ok(Some(key.to_string()))
}

/// The request as parsed, not as sent: whitespace, key order or `12.5` vs `"12.50"` do not make
/// it "another" request.
fn hash_request(body: &TransactionCreate) -> String {
    let mut value = serde_json::to_value(body).unwrap_or_default();
    value["amount_eur"] = serde_json::Value::from(body.amount_eur.normalize().to_string());
    value["energy_kwh"] = body.energy_kwh.map(|e| e.normalize().to_string()).into();
    let canonical = value.to_string();
    Sha256::digest(canonical.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn replay(
    stored: crate::models::idempotency_key::Model,
    request_hash: &str,
) -> Result<Response, ApiError> {
    if stored.request_hash != request_hash {
        return Err(ApiError::invalid(FieldError::new(
            &["header", "Idempotency-Key"],
            "This Idempotency-Key was already used with a different request",
            "idempotency_key_reused",
        )));
    }
    let status = StatusCode::from_u16(stored.status_code as u16).unwrap_or(StatusCode::OK);
    Ok(json_response(status, stored.response_body))
}

fn json_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        Body::from(body),
    )
        .into_response()
}
