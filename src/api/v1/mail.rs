//! `/mail/outbox`: the messages the server sends, for admins — what is waiting, what was sent,
//! what failed and why — and requeueing a failed one.
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;

use super::configurations::total_count_header;
use crate::api::deps::CurrentUser;
use crate::api::error::{ApiError, ErrorDetail, ValidationErrorBody};
use crate::api::extract::{ValidPath, ValidQuery};
use crate::api::state::AppState;
use crate::schemas::mail::{MailListParams, MailPublic};
use crate::service;

#[utoipa::path(
    get,
    path = "/api/v1/mail/outbox",
    tag = "mail",
    params(MailListParams),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Messages, oldest first; the total is in `X-Total-Count`", body = Vec<MailPublic>,
         headers(("x-total-count" = u64, description = "Rows matching the filters"))),
        (status = 403, description = "Only admins see the outbox", body = ErrorDetail),
        (status = 422, description = "Bad query parameter", body = ValidationErrorBody),
    )
)]
pub async fn list_outbox(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidQuery(params): ValidQuery<MailListParams>,
) -> Result<(HeaderMap, Json<Vec<MailPublic>>), ApiError> {
    let (rows, total) = service::mail::list(
        &current.actor(),
        &state.db,
        params.status,
        params.skip,
        params.limit,
    )
    .await?;
    Ok((
        total_count_header(total),
        Json(rows.into_iter().map(Into::into).collect()),
    ))
}

/// Queues a failed message again (due now, attempts counted afresh).
#[utoipa::path(
    post,
    path = "/api/v1/mail/outbox/{id}/retry",
    tag = "mail",
    params(("id" = i32, Path, description = "Message id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Queued again", body = MailPublic),
        (status = 403, description = "Only admins manage the outbox", body = ErrorDetail),
        (status = 404, description = "No such message", body = ErrorDetail),
        (status = 409, description = "The message has not failed", body = ErrorDetail),
        (status = 422, description = "Bad id", body = ValidationErrorBody),
    )
)]
pub async fn retry_mail(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<Json<MailPublic>, ApiError> {
    let message = service::mail::requeue(&current.actor(), &state.db, &state.mailer, id).await?;
    Ok(Json(message.into()))
}
