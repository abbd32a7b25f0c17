//! The audit trail, read-only: there is no route that writes, changes or deletes an event.
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;

use super::configurations::total_count_header;
use crate::api::deps::CurrentUser;
use crate::api::error::{ApiError, ErrorDetail, ValidationErrorBody};
use crate::api::extract::ValidQuery;
use crate::api::state::AppState;
use crate::schemas::audit::{AuditEventPublic, AuditListParams};
use crate::service;

/// The security-relevant events the caller may read, oldest first: an admin every event, a
/// vendor or referent those of their configurations. Sign-ins and their failures, role and
/// status changes, IBAN changes decided, consents, finalisations, payout approvals and exports,
/// imports and reverts: who, when, from which address, and what.
#[utoipa::path(
    get,
    path = "/api/v1/audit-events/",
    tag = "audit",
    params(AuditListParams),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "One page; the total is in `X-Total-Count`", body = Vec<AuditEventPublic>,
         headers(("x-total-count" = u64, description = "Events matching the filters"))),
        (status = 403, description = "Members do not read the audit trail", body = ErrorDetail),
        (status = 404, description = "Configuration not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Bad parameter", body = ValidationErrorBody),
    )
)]
pub async fn list_audit_events(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidQuery(params): ValidQuery<AuditListParams>,
) -> Result<(HeaderMap, Json<Vec<AuditEventPublic>>), ApiError> {
    let (rows, total) = service::audit::list(&current.actor(), &state.db, &params).await?;
    Ok((
        total_count_header(total),
        Json(rows.into_iter().map(Into::into).collect()),
    ))
}
