//! Requests for a new IBAN: a member asks for its own holder, an operator confirms or rejects,
//! the member may withdraw while it waits.
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};

use super::configurations::total_count_header;
use crate::api::deps::CurrentUser;
use crate::api::error::{ApiError, ErrorDetail, ValidationErrorBody};
use crate::api::extract::{ValidJson, ValidPath, ValidQuery};
use crate::api::state::AppState;
use crate::schemas::iban_change::{
    IbanChangeCreate, IbanChangeListParams, IbanChangePublic, IbanChangeRejection,
};
use crate::service::iban_changes;

/// Asks for the holder to be paid on another IBAN. Only the holder's own portal account asks;
/// the request waits for an operator, and the holder's e-mail address is told at once. One
/// request waits at a time; at most five are made in 24 hours.
#[utoipa::path(
    post,
    path = "/api/v1/holders/{id}/iban-change-requests",
    tag = "holders",
    params(("id" = i32, Path, description = "Holder id")),
    request_body = IbanChangeCreate,
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 201, description = "Waiting for an operator", body = IbanChangePublic),
        (status = 403, description = "Not the holder's own account", body = ErrorDetail),
        (status = 404, description = "Holder not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 409, description = "Another request is waiting, or the holder was erased", body = ErrorDetail),
        (status = 422, description = "Not a valid IBAN, the IBAN already in use, or a malformed body", body = ValidationErrorBody),
        (status = 429, description = "Too many requests in 24 hours: wait the `Retry-After` seconds", body = ErrorDetail,
         headers(("retry-after" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn request_iban_change(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    ValidJson(body): ValidJson<IbanChangeCreate>,
) -> Result<(StatusCode, Json<IbanChangePublic>), ApiError> {
    let saved = iban_changes::request(&current.actor(), &state.db, &state.mailer, id, body).await?;
    Ok((StatusCode::CREATED, Json(saved.into())))
}

#[utoipa::path(
    get,
    path = "/api/v1/holders/{id}/iban-change-requests",
    tag = "holders",
    params(("id" = i32, Path, description = "Holder id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "The holder's requests, newest first", body = Vec<IbanChangePublic>),
        (status = 404, description = "Holder not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Bad id", body = ValidationErrorBody),
    )
)]
pub async fn holder_iban_changes(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<Json<Vec<IbanChangePublic>>, ApiError> {
    let rows = iban_changes::of_holder(&current.actor(), &state.db, id).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// The requests of the holders the caller sees, oldest first (operators: their queue with
/// `status=pending`).
#[utoipa::path(
    get,
    path = "/api/v1/iban-change-requests/",
    tag = "holders",
    params(IbanChangeListParams),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "One page; the total is in `X-Total-Count`", body = Vec<IbanChangePublic>,
         headers(("x-total-count" = u64, description = "Rows matching the filters"))),
        (status = 404, description = "Configuration not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Bad parameter", body = ValidationErrorBody),
    )
)]
pub async fn list_iban_changes(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidQuery(params): ValidQuery<IbanChangeListParams>,
) -> Result<(HeaderMap, Json<Vec<IbanChangePublic>>), ApiError> {
    let (rows, total) = iban_changes::list(&current.actor(), &state.db, &params).await?;
    let rows = rows.into_iter().map(|(r, _)| r.into()).collect();
    Ok((total_count_header(total), Json(rows)))
}

#[utoipa::path(
    get,
    path = "/api/v1/iban-change-requests/{id}",
    tag = "holders",
    params(("id" = i32, Path, description = "Request id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "The request", body = IbanChangePublic),
        (status = 404, description = "Request not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Bad id", body = ValidationErrorBody),
    )
)]
pub async fn read_iban_change(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<Json<IbanChangePublic>, ApiError> {
    let (request, _) = iban_changes::visible(&current.actor(), &state.db, id).await?;
    Ok(Json(request.into()))
}

/// Confirms a waiting request: the holder is paid on the new IBAN from now on (a holder
/// revision records it, naming the request) and is told by e-mail. Whoever asked cannot
/// confirm.
#[utoipa::path(
    post,
    path = "/api/v1/iban-change-requests/{id}/confirm",
    tag = "holders",
    params(("id" = i32, Path, description = "Request id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Confirmed", body = IbanChangePublic),
        (status = 403, description = "The role may not change holders, or the caller asked for it", body = ErrorDetail),
        (status = 404, description = "Request not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 409, description = "Already decided or withdrawn, or the holder was erased", body = ErrorDetail),
        (status = 422, description = "Bad id", body = ValidationErrorBody),
    )
)]
pub async fn confirm_iban_change(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<Json<IbanChangePublic>, ApiError> {
    let saved = iban_changes::confirm(&current.actor(), &state.db, &state.mailer, id).await?;
    Ok(Json(saved.into()))
}

/// Rejects a waiting request with the reason the holder is told; the IBAN stays.
#[utoipa::path(
    post,
    path = "/api/v1/iban-change-requests/{id}/reject",
    tag = "holders",
    params(("id" = i32, Path, description = "Request id")),
    request_body = IbanChangeRejection,
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Rejected", body = IbanChangePublic),
        (status = 403, description = "The role may not change holders", body = ErrorDetail),
        (status = 404, description = "Request not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 409, description = "Already decided or withdrawn", body = ErrorDetail),
        (status = 422, description = "No reason, or a malformed body", body = ValidationErrorBody),
    )
)]
pub async fn reject_iban_change(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    ValidJson(body): ValidJson<IbanChangeRejection>,
) -> Result<Json<IbanChangePublic>, ApiError> {
    let saved =
        iban_changes::reject(&current.actor(), &state.db, &state.mailer, id, &body.reason).await?;
    Ok(Json(saved.into()))
}

/// The member takes back a request still waiting.
#[utoipa::path(
    post,
    path = "/api/v1/iban-change-requests/{id}/withdraw",
    tag = "holders",
    params(("id" = i32, Path, description = "Request id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Withdrawn", body = IbanChangePublic),
        (status = 403, description = "Not the holder's own account", body = ErrorDetail),
        (status = 404, description = "Request not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 409, description = "Already decided or withdrawn", body = ErrorDetail),
        (status = 422, description = "Bad id", body = ValidationErrorBody),
    )
)]
pub async fn withdraw_iban_change(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<Json<IbanChangePublic>, ApiError> {
    let saved = iban_changes::withdraw(&current.actor(), &state.db, id).await?;
    Ok(Json(saved.into()))
}
