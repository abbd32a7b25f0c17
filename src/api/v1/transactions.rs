//! `/transactions`: the append-only ledger. Corrections are new `adjustment` rows; a pending row
//! is settled or cancelled, never edited or deleted.
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::api::deps::CurrentUser;
use crate::api::error::{ApiError, ErrorDetail, FieldError, ValidationErrorBody};
use crate::api::extract::{ValidJson, ValidPath, ValidQuery};
use crate::api::state::AppState;
use crate::core::permissions::Permission;
use crate::models::enums::TransactionStatus;
use crate::schemas::common::Page;
use crate::schemas::transaction::{TransactionCreate, TransactionListParams, TransactionPublic};
use crate::service;
use crate::service::transactions::Recorded;

const IDEMPOTENCY_KEY: &str = "idempotency-key";

#[utoipa::path(
    get,
    path = "/api/v1/transactions/",
    tag = "transactions",
    params(TransactionListParams),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "A page of ledger rows in scope", body = Page<TransactionPublic>),
        (status = 422, description = "Bad query parameter", body = ValidationErrorBody),
    )
)]
pub async fn list_transactions(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidQuery(params): ValidQuery<TransactionListParams>,
) -> Result<Json<Page<TransactionPublic>>, ApiError> {
    let (rows, total) = service::transactions::list(&current.actor(), &state.db, &params).await?;
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
    let recorded =
        service::transactions::record(&current.actor(), &state.db, body, key.as_deref()).await?;
    Ok(match recorded {
        Recorded::Created(body) => json_response(StatusCode::CREATED, body),
        Recorded::Replayed { status, body } => {
            json_response(StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body)
        }
    })
}

#[utoipa::path(
    get,
    path = "/api/v1/transactions/{id}",
    tag = "transactions",
    params(("id" = i32, Path, description = "Transaction id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "The ledger row", body = TransactionPublic),
        (status = 404, description = "Transaction not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Bad id", body = ValidationErrorBody),
    )
)]
pub async fn read_transaction(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<Json<TransactionPublic>, ApiError> {
    let row = service::transactions::visible(&current.actor(), &state.db, id).await?;
    Ok(Json(row.into()))
}

#[utoipa::path(
    post,
    path = "/api/v1/transactions/{id}/settle",
    tag = "transactions",
    params(("id" = i32, Path, description = "Transaction id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Settled", body = TransactionPublic),
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
    let row =
        service::transactions::close(&current.actor(), &state.db, id, TransactionStatus::Settled)
            .await?;
    Ok(Json(row.into()))
}

#[utoipa::path(
    post,
    path = "/api/v1/transactions/{id}/cancel",
    tag = "transactions",
    params(("id" = i32, Path, description = "Transaction id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Cancelled", body = TransactionPublic),
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
    let row = service::transactions::close(
        &current.actor(),
        &state.db,
        id,
        TransactionStatus::Cancelled,
    )
    .await?;
    Ok(Json(row.into()))
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

fn json_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        Body::from(body),
    )
        .into_response()
}
