//! Paying members: the account a configuration pays from, and payout batches — prepare (a
//! preview), approve, export the SEPA file, mark paid, or cancel.
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::api::deps::CurrentUser;
use crate::api::error::{ApiError, ErrorDetail, ValidationErrorBody};
use crate::api::extract::{OptionalJson, ValidJson, ValidPath};
use crate::api::state::AppState;
use crate::models::{payout_batch, payout_item};
use crate::schemas::payout::{
    PayoutAccountPublic, PayoutAccountUpdate, PayoutBatchCreate, PayoutBatchPublic, PayoutCancel,
    PayoutExport, PayoutPaid,
};
use crate::service;

fn whole(
    (batch, items): (payout_batch::Model, Vec<payout_item::Model>),
) -> Json<PayoutBatchPublic> {
    Json(PayoutBatchPublic::of(batch, Some(items)))
}

#[utoipa::path(
    get,
    path = "/api/v1/configurations/{id}/payout-account",
    tag = "payouts",
    params(("id" = i32, Path, description = "Configuration id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "The account members are paid from (fields null until set)", body = PayoutAccountPublic),
        (status = 403, description = "The role may not run payouts", body = ErrorDetail),
        (status = 404, description = "Configuration not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Bad id", body = ValidationErrorBody),
    )
)]
pub async fn read_payout_account(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<Json<PayoutAccountPublic>, ApiError> {
    let configuration = service::payouts::account(&current.actor(), &state.db, id).await?;
    Ok(Json((&configuration).into()))
}

/// Sets the account members are paid from (the SEPA file's debtor) and the smallest balance
/// worth a transfer.
#[utoipa::path(
    put,
    path = "/api/v1/configurations/{id}/payout-account",
    tag = "payouts",
    params(("id" = i32, Path, description = "Configuration id")),
    request_body = PayoutAccountUpdate,
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Saved", body = PayoutAccountPublic),
        (status = 403, description = "The role may not run payouts", body = ErrorDetail),
        (status = 404, description = "Configuration not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "A bad IBAN, BIC, name or minimum (each named)", body = ValidationErrorBody),
    )
)]
pub async fn write_payout_account(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    ValidJson(input): ValidJson<PayoutAccountUpdate>,
) -> Result<Json<PayoutAccountPublic>, ApiError> {
    let configuration =
        service::payouts::set_account(&current.actor(), &state.db, id, input).await?;
    Ok(Json((&configuration).into()))
}

#[utoipa::path(
    get,
    path = "/api/v1/configurations/{id}/payouts",
    tag = "payouts",
    params(("id" = i32, Path, description = "Configuration id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "The configuration's batches, newest first (without items)", body = Vec<PayoutBatchPublic>),
        (status = 403, description = "The role may not run payouts", body = ErrorDetail),
        (status = 404, description = "Configuration not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Bad id", body = ValidationErrorBody),
    )
)]
pub async fn list_payouts(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<Json<Vec<PayoutBatchPublic>>, ApiError> {
    let batches = service::payouts::list(&current.actor(), &state.db, id).await?;
    Ok(Json(
        batches
            .into_iter()
            .map(|b| PayoutBatchPublic::of(b, None))
            .collect(),
    ))
}

/// Prepares a batch (`draft`): each member's balance through `through` — credits of periods
/// ending by then, minus every payment so far — paid whole (`included`), held back (no holder,
/// not active, no IBAN or name, a negative balance) or carried over (below the minimum), each
/// with its reason. `through` must be finalised; one open batch per configuration.
#[utoipa::path(
    post,
    path = "/api/v1/configurations/{id}/payouts",
    tag = "payouts",
    params(("id" = i32, Path, description = "Configuration id")),
    request_body = PayoutBatchCreate,
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 201, description = "The draft batch with its items", body = PayoutBatchPublic),
        (status = 403, description = "The role may not run payouts", body = ErrorDetail),
        (status = 404, description = "Configuration not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 409, description = "The month is not finalised, another batch is still open, or nobody has a balance", body = ErrorDetail),
        (status = 422, description = "An unreadable month, a negative minimum", body = ValidationErrorBody),
    )
)]
pub async fn create_payout(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    ValidJson(input): ValidJson<PayoutBatchCreate>,
) -> Result<(StatusCode, Json<PayoutBatchPublic>), ApiError> {
    let batch = service::payouts::prepare(&current.actor(), &state.db, id, input).await?;
    Ok((StatusCode::CREATED, whole(batch)))
}

#[utoipa::path(
    get,
    path = "/api/v1/payouts/{id}",
    tag = "payouts",
    params(("id" = i32, Path, description = "Payout batch id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "The batch with its items", body = PayoutBatchPublic),
        (status = 403, description = "The role may not run payouts", body = ErrorDetail),
        (status = 404, description = "Not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Bad id", body = ValidationErrorBody),
    )
)]
pub async fn read_payout(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<Json<PayoutBatchPublic>, ApiError> {
    let (batch, items, _) = service::payouts::read(&current.actor(), &state.db, id).await?;
    Ok(whole((batch, items)))
}

/// Approves a draft: someone other than who prepared it, or the configuration's referent.
/// Refused if any balance, name or IBAN moved since the preview.
#[utoipa::path(
    post,
    path = "/api/v1/payouts/{id}/approve",
    tag = "payouts",
    params(("id" = i32, Path, description = "Payout batch id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Approved", body = PayoutBatchPublic),
        (status = 403, description = "The role may not run payouts, or the caller prepared the batch and is not the referent", body = ErrorDetail),
        (status = 404, description = "Not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 409, description = "Not a draft, or the balances moved since the preview", body = ErrorDetail),
        (status = 422, description = "Bad id", body = ValidationErrorBody),
    )
)]
pub async fn approve_payout(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<Json<PayoutBatchPublic>, ApiError> {
    Ok(whole(
        service::payouts::approve(&current.actor(), &state.db, id).await?,
    ))
}

/// Writes the approved batch's SEPA Credit Transfer file (ISO 20022 pain.001.001.09) and keeps
/// it: download it from `GET /payouts/{id}/sepa.xml`. Exporting twice is refused — the bank
/// could execute both files. Refused too if a member's IBAN changed after approval.
#[utoipa::path(
    post,
    path = "/api/v1/payouts/{id}/export",
    tag = "payouts",
    params(("id" = i32, Path, description = "Payout batch id")),
    request_body(content = Option<PayoutExport>, description = "Optional: the execution date"),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Exported", body = PayoutBatchPublic),
        (status = 403, description = "The role may not run payouts", body = ErrorDetail),
        (status = 404, description = "Not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 409, description = "Not approved, already exported, no payout account, or an IBAN changed after approval", body = ErrorDetail),
        (status = 422, description = "An execution date in the past", body = ValidationErrorBody),
    )
)]
pub async fn export_payout(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    OptionalJson(input): OptionalJson<PayoutExport>,
) -> Result<Json<PayoutBatchPublic>, ApiError> {
    Ok(whole(
        service::payouts::export(&current.actor(), &state.db, id, input.unwrap_or_default())
            .await?,
    ))
}

/// The exported file, byte for byte as first written.
#[utoipa::path(
    get,
    path = "/api/v1/payouts/{id}/sepa.xml",
    tag = "payouts",
    params(("id" = i32, Path, description = "Payout batch id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "pain.001.001.09", content_type = "application/xml", body = String),
        (status = 403, description = "The role may not run payouts", body = ErrorDetail),
        (status = 404, description = "Not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 409, description = "Not exported yet", body = ErrorDetail),
        (status = 422, description = "Bad id", body = ValidationErrorBody),
    )
)]
pub async fn payout_file(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<Response, ApiError> {
    let (name, content) = service::payouts::file(&current.actor(), &state.db, id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/xml".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        content,
    )
        .into_response())
}

/// Marks an exported batch paid: each transfer becomes a `payment` row of the ledger (negative:
/// paid to the member). Marking it again changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/payouts/{id}/paid",
    tag = "payouts",
    params(("id" = i32, Path, description = "Payout batch id")),
    request_body = PayoutPaid,
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Paid (or already paid)", body = PayoutBatchPublic),
        (status = 403, description = "The role may not run payouts", body = ErrorDetail),
        (status = 404, description = "Not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 409, description = "Not exported, or cancelled", body = ErrorDetail),
        (status = 422, description = "A date in the future or before the execution date", body = ValidationErrorBody),
    )
)]
pub async fn mark_payout_paid(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    ValidJson(input): ValidJson<PayoutPaid>,
) -> Result<Json<PayoutBatchPublic>, ApiError> {
    Ok(whole(
        service::payouts::mark_paid(&current.actor(), &state.db, id, input).await?,
    ))
}

/// Cancels a batch that is not paid; after export, with a reason.
#[utoipa::path(
    post,
    path = "/api/v1/payouts/{id}/cancel",
    tag = "payouts",
    params(("id" = i32, Path, description = "Payout batch id")),
    request_body(content = Option<PayoutCancel>, description = "Optional before export: the reason"),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Cancelled", body = PayoutBatchPublic),
        (status = 403, description = "The role may not run payouts", body = ErrorDetail),
        (status = 404, description = "Not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 409, description = "Paid or already cancelled", body = ErrorDetail),
        (status = 422, description = "An exported batch cancelled without a reason", body = ValidationErrorBody),
    )
)]
pub async fn cancel_payout(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    OptionalJson(input): OptionalJson<PayoutCancel>,
) -> Result<Json<PayoutBatchPublic>, ApiError> {
    Ok(whole(
        service::payouts::cancel(&current.actor(), &state.db, id, input.unwrap_or_default())
            .await?,
    ))
}
