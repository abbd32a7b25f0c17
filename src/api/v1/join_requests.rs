//! Joining a configuration: the public request form (no account), the confirmation of the
//! applicant's e-mail, and the referent's review — list, read, approve, reject.
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};

use super::configurations::total_count_header;
use crate::api::deps::CurrentUser;
use crate::api::error::{ApiError, ErrorDetail, ValidationErrorBody};
use crate::api::extract::{ClientAddress, ValidJson, ValidPath, ValidQuery};
use crate::api::state::AppState;
use crate::schemas::join_request::{
    JoinApproval, JoinRejection, JoinRequestCreate, JoinRequestListParams, JoinRequestPublic,
    JoinRequestReceipt, JoinVerification,
};
use crate::service::join_requests;

fn public(model: crate::models::join_request::Model) -> Result<JoinRequestPublic, ApiError> {
    JoinRequestPublic::of(model).map_err(|error| ApiError::Internal(error.into()))
}

/// Asks to join the configuration, without an account. The configuration must be open to
/// requests. The applicant gets a link by e-mail (valid 48 h) to confirm the address; only then
/// does the referent see the request. Limited per client address and per configuration.
#[utoipa::path(
    post,
    path = "/api/v1/configurations/{id}/join-requests",
    tag = "join requests",
    params(("id" = i32, Path, description = "Configuration id")),
    request_body = JoinRequestCreate,
    responses(
        (status = 202, description = "Received; a confirmation link is on its way to the e-mail address", body = JoinRequestReceipt),
        (status = 404, description = "No configuration open to join requests", body = ErrorDetail),
        (status = 422, description = "Invalid field (names, fiscal code, address, IBAN, phone, e-mail, PODs, roles the configuration does not admit, missing consents)", body = ValidationErrorBody),
        (status = 429, description = "Too many requests from this address, or to this configuration today: wait the `Retry-After` seconds", body = ErrorDetail,
         headers(("retry-after" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn submit_join_request(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    ValidPath(id): ValidPath<i32>,
    ValidJson(body): ValidJson<JoinRequestCreate>,
) -> Result<(StatusCode, Json<JoinRequestReceipt>), ApiError> {
    let request =
        join_requests::submit(&state.db, &state.mailer, &state.settings, id, body, client).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(JoinRequestReceipt {
            id: request.id,
            status: request.status,
            message: "Request received: confirm it with the link sent to your e-mail address"
                .into(),
        }),
    ))
}

/// Confirms the applicant's e-mail address with the token of the mailed link (single-use).
#[utoipa::path(
    post,
    path = "/api/v1/join-requests/verify",
    tag = "join requests",
    request_body = JoinVerification,
    responses(
        (status = 200, description = "Confirmed: the request waits for the referent's review", body = JoinRequestReceipt),
        (status = 400, description = "Unknown, used or expired token", body = ErrorDetail),
        (status = 422, description = "Malformed body", body = ValidationErrorBody),
    )
)]
pub async fn verify_join_request(
    State(state): State<AppState>,
    ValidJson(body): ValidJson<JoinVerification>,
) -> Result<Json<JoinRequestReceipt>, ApiError> {
    let request = join_requests::verify(&state.db, &body.token).await?;
    Ok(Json(JoinRequestReceipt {
        id: request.id,
        status: request.status,
        message: "E-mail address confirmed: the referent will review the request".into(),
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/configurations/{id}/join-requests",
    tag = "join requests",
    params(("id" = i32, Path, description = "Configuration id"), JoinRequestListParams),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "The configuration's requests, oldest first; the total is in `X-Total-Count`", body = Vec<JoinRequestPublic>,
         headers(("x-total-count" = u64, description = "Rows matching the filters"))),
        (status = 403, description = "The role does not review join requests", body = ErrorDetail),
        (status = 404, description = "Configuration not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Bad parameter", body = ValidationErrorBody),
    )
)]
pub async fn list_join_requests(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    ValidQuery(params): ValidQuery<JoinRequestListParams>,
) -> Result<(HeaderMap, Json<Vec<JoinRequestPublic>>), ApiError> {
    let (rows, total) = join_requests::list(
        &current.actor(),
        &state.db,
        id,
        params.status,
        params.skip,
        params.limit,
    )
    .await?;
    let rows = rows.into_iter().map(public).collect::<Result<_, _>>()?;
    Ok((total_count_header(total), Json(rows)))
}

#[utoipa::path(
    get,
    path = "/api/v1/join-requests/{id}",
    tag = "join requests",
    params(("id" = i32, Path, description = "Join request id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "The request", body = JoinRequestPublic),
        (status = 403, description = "The role does not review join requests", body = ErrorDetail),
        (status = 404, description = "Join request not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Bad id", body = ValidationErrorBody),
    )
)]
pub async fn read_join_request(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<Json<JoinRequestPublic>, ApiError> {
    let (request, _) = join_requests::visible(&current.actor(), &state.db, id).await?;
    Ok(Json(public(request)?))
}

/// Approves a confirmed request: the holder is registered (or found by fiscal code) and
/// activated with the consents given, each point becomes a member from `joined_at` (default
/// today) with `gse_notified_on` empty — the settlement flags it until GSE is told —, and the
/// applicant is mailed. A point the configuration cannot take refuses the whole approval.
#[utoipa::path(
    post,
    path = "/api/v1/join-requests/{id}/approve",
    tag = "join requests",
    params(("id" = i32, Path, description = "Join request id")),
    request_body = JoinApproval,
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Approved", body = JoinRequestPublic),
        (status = 403, description = "The role may not add members", body = ErrorDetail),
        (status = 404, description = "Join request not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 409, description = "Not confirmed yet, already decided, a POD already in a configuration, or the configuration closed", body = ErrorDetail),
        (status = 422, description = "A point breaks a community rule, or a malformed body", body = ValidationErrorBody),
    )
)]
pub async fn approve_join_request(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    ValidJson(body): ValidJson<JoinApproval>,
) -> Result<Json<JoinRequestPublic>, ApiError> {
    let saved = join_requests::approve(
        &current.actor(),
        &state.db,
        &state.mailer,
        id,
        body.joined_at,
    )
    .await?;
    Ok(Json(public(saved)?))
}

/// Rejects a request with the reason the applicant is told by mail (a request whose address
/// was never confirmed is rejected without a mail).
#[utoipa::path(
    post,
    path = "/api/v1/join-requests/{id}/reject",
    tag = "join requests",
    params(("id" = i32, Path, description = "Join request id")),
    request_body = JoinRejection,
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Rejected", body = JoinRequestPublic),
        (status = 403, description = "The role does not review join requests", body = ErrorDetail),
        (status = 404, description = "Join request not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 409, description = "Already decided", body = ErrorDetail),
        (status = 422, description = "No reason, or a malformed body", body = ValidationErrorBody),
    )
)]
pub async fn reject_join_request(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    ValidJson(body): ValidJson<JoinRejection>,
) -> Result<Json<JoinRequestPublic>, ApiError> {
    let saved =
        join_requests::reject(&current.actor(), &state.db, &state.mailer, id, &body.reason).await?;
    Ok(Json(public(saved)?))
}
