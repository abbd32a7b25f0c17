//! `/transactions`: the append-only ledger. Corrections are new `adjustment` rows; a pending row
//! is settled or cancelled, never edited or deleted.
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::api::deps::{CurrentUser, TokenCaller};
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
    caller: TokenCaller,
    headers: HeaderMap,
    ValidJson(body): ValidJson<TransactionCreate>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    // Written on the token's claim, checked in the statement that reads the configuration;
    // anything that statement does not confirm loads the user first and takes the ordinary path.
    let key = key.as_deref();
    let recorded = caller
        .on_claim_or_loaded(
            &state,
            async |claimed| {
                service::transactions::record_claimed(claimed, &state.db, &body, key).await
            },
            async |current| {
                current.require(Permission::TransactionsWrite)?;
                Ok(service::transactions::record(&current.actor(), &state.db, &body, key).await?)
            },
        )
        .await?;
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

/// Filters of a ledger file.
#[derive(serde::Deserialize, validator::Validate, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LedgerFileParams {
    pub kind: Option<crate::models::enums::TransactionKind>,
    pub status: Option<TransactionStatus>,
    /// Rows whose period overlaps `[from, to]`.
    pub from: Option<chrono::NaiveDate>,
    pub to: Option<chrono::NaiveDate>,
}

/// The rows as Italian Excel's CSV: one line each, in the order they were recorded.
pub(crate) fn ledger_file(
    filename: &str,
    rows: Vec<crate::models::transaction::Model>,
) -> Response {
    use crate::api::csv;
    let mut lines = vec![
        "id;recorded_on;configuration_id;member_id;kind;period_start;period_end;energy_kwh;amount_eur;status;settled_on;description;reference"
            .to_string(),
    ];
    for row in rows {
        lines.push(format!(
            "{};{};{};{};{};{};{};{};{};{};{};{};{}",
            row.id,
            row.created_at.date_naive(),
            row.configuration_id,
            row.member_id.map_or(String::new(), |m| m.to_string()),
            row.kind.as_str(),
            row.period_start,
            row.period_end,
            row.energy_wh.map_or(String::new(), |wh| csv::italian(
                rust_decimal::Decimal::new(wh, 3)
            )),
            csv::euros(row.amount_cents),
            row.status.as_str(),
            row.settled_at
                .map_or(String::new(), |at| at.date_naive().to_string()),
            csv::text(row.description.as_deref().unwrap_or("")),
            csv::text(row.reference.as_deref().unwrap_or("")),
        ));
    }
    csv::response(filename, lines)
}

pub(crate) fn file_params(
    params: LedgerFileParams,
    configuration_id: Option<i32>,
    member_id: Option<i32>,
) -> TransactionListParams {
    TransactionListParams {
        skip: 0,
        limit: 1,
        configuration_id,
        member_id,
        kind: params.kind,
        status: params.status,
        from: params.from,
        to: params.to,
    }
}

/// The configuration's ledger as a semicolon-separated file (Italian Excel: decimal commas,
/// UTF-8 BOM, CRLF): every row the filters select, members' and the configuration's own.
#[utoipa::path(
    get,
    path = "/api/v1/configurations/{id}/transactions.csv",
    tag = "transactions",
    params(("id" = i32, Path, description = "Configuration id"), LedgerFileParams),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "CSV", content_type = "text/csv", body = String),
        (status = 404, description = "Configuration not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Bad id or query", body = ValidationErrorBody),
    )
)]
pub async fn configuration_ledger_csv(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    ValidQuery(params): ValidQuery<LedgerFileParams>,
) -> Result<Response, ApiError> {
    let actor = current.actor();
    let configuration = service::configurations::visible(&actor, &state.db, id).await?;
    let rows = service::transactions::export(
        &actor,
        &state.db,
        &file_params(params, Some(configuration.id), None),
    )
    .await?;
    Ok(ledger_file(&format!("ledger-configuration-{id}.csv"), rows))
}

/// One member's ledger rows as a semicolon-separated file (Italian Excel).
#[utoipa::path(
    get,
    path = "/api/v1/members/{id}/transactions.csv",
    tag = "transactions",
    params(("id" = i32, Path, description = "Member id"), LedgerFileParams),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "CSV", content_type = "text/csv", body = String),
        (status = 404, description = "Member not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Bad id or query", body = ValidationErrorBody),
    )
)]
pub async fn member_ledger_csv(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    ValidQuery(params): ValidQuery<LedgerFileParams>,
) -> Result<Response, ApiError> {
    let actor = current.actor();
    let member = service::members::visible(&actor, &state.db, id).await?;
    let rows = service::transactions::export(
        &actor,
        &state.db,
        &file_params(params, Some(member.configuration_id), Some(member.id)),
    )
    .await?;
    Ok(ledger_file(&format!("ledger-member-{id}.csv"), rows))
}
