//! `/holders`: the people and organisations behind the points — identity, contacts, IBAN,
//! consents, history, the holder's own copy of its data, and erasure.
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};

use super::configurations::total_count_header;
use crate::api::deps::CurrentUser;
use crate::api::error::{ApiError, ErrorDetail, ValidationErrorBody};
use crate::api::extract::{ValidJson, ValidPath, ValidQuery};
use crate::api::state::AppState;
use crate::schemas::holder::{
    ConsentGiven, ConsentPublic, ConsentWithdrawal, HolderCreate, HolderExport, HolderListParams,
    HolderPublic, HolderRevisionPublic, HolderUpdate, IbanOnDate, IbanOnParams,
};
use crate::service;

#[utoipa::path(
    get,
    path = "/api/v1/holders/",
    tag = "holders",
    params(HolderListParams),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Holders in scope; the total is in `X-Total-Count`", body = Vec<HolderPublic>,
         headers(("x-total-count" = u64, description = "Rows matching the filters"))),
        (status = 422, description = "Bad query parameter", body = ValidationErrorBody),
    )
)]
pub async fn list_holders(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidQuery(params): ValidQuery<HolderListParams>,
) -> Result<(HeaderMap, Json<Vec<HolderPublic>>), ApiError> {
    let (rows, total) = service::holders::list(&current.actor(), &state.db, &params).await?;
    Ok((
        total_count_header(total),
        Json(rows.into_iter().map(Into::into).collect()),
    ))
}

/// Registers a holder as `draft`; `POST /holders/{id}/activate` once it is complete.
#[utoipa::path(
    post,
    path = "/api/v1/holders/",
    tag = "holders",
    request_body = HolderCreate,
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 201, description = "Registered (status `draft`)", body = HolderPublic),
        (status = 403, description = "The role may not register holders", body = ErrorDetail),
        (status = 409, description = "The fiscal code or the account belongs to another holder", body = ErrorDetail),
        (status = 422, description = "Invalid field (IBAN, fiscal code, postcode, province, phone, e-mail, names)", body = ValidationErrorBody),
    )
)]
pub async fn create_holder(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidJson(body): ValidJson<HolderCreate>,
) -> Result<(StatusCode, Json<HolderPublic>), ApiError> {
    let created = service::holders::create(&current.actor(), &state.db, body).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[utoipa::path(
    get,
    path = "/api/v1/holders/{id}",
    tag = "holders",
    params(("id" = i32, Path, description = "Holder id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "The holder", body = HolderPublic),
        (status = 404, description = "Holder not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Bad id", body = ValidationErrorBody),
    )
)]
pub async fn read_holder(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<Json<HolderPublic>, ApiError> {
    let found = service::holders::visible(&current.actor(), &state.db, id).await?;
    Ok(Json(found.into()))
}

#[utoipa::path(
    patch,
    path = "/api/v1/holders/{id}",
    tag = "holders",
    params(("id" = i32, Path, description = "Holder id")),
    request_body = HolderUpdate,
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Updated (the change is in the history)", body = HolderPublic),
        (status = 403, description = "The role may not change holders", body = ErrorDetail),
        (status = 404, description = "Holder not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 409, description = "Erased, or the fiscal code or account belongs to another holder", body = ErrorDetail),
        (status = 422, description = "Invalid field, or a new kind that one of the holder's points may not have", body = ValidationErrorBody),
    )
)]
pub async fn update_holder(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    ValidJson(body): ValidJson<HolderUpdate>,
) -> Result<Json<HolderPublic>, ApiError> {
    let updated = service::holders::update(&current.actor(), &state.db, id, body).await?;
    Ok(Json(updated.into()))
}

/// Draft → active: needs the fiscal code, the address and the privacy-notice and statute
/// consents in force.
#[utoipa::path(
    post,
    path = "/api/v1/holders/{id}/activate",
    tag = "holders",
    params(("id" = i32, Path, description = "Holder id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Active", body = HolderPublic),
        (status = 403, description = "The role may not change holders", body = ErrorDetail),
        (status = 404, description = "Holder not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 409, description = "Erased", body = ErrorDetail),
        (status = 422, description = "What is missing: each field or consent", body = ValidationErrorBody),
    )
)]
pub async fn activate_holder(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<Json<HolderPublic>, ApiError> {
    let activated = service::holders::activate(&current.actor(), &state.db, id).await?;
    Ok(Json(activated.into()))
}

/// Erasure: the personal fields are cleared, in the history too; the points, the ledger and
/// the consents' evidence stay. Repeating it changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/holders/{id}/erase",
    tag = "holders",
    params(("id" = i32, Path, description = "Holder id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Erased", body = HolderPublic),
        (status = 403, description = "Only admins and the organization's vendor erase", body = ErrorDetail),
        (status = 404, description = "Holder not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Bad id", body = ValidationErrorBody),
    )
)]
pub async fn erase_holder(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<Json<HolderPublic>, ApiError> {
    let erased = service::holders::erase(&current.actor(), &state.db, id).await?;
    Ok(Json(erased.into()))
}

#[utoipa::path(
    get,
    path = "/api/v1/holders/{id}/consents",
    tag = "holders",
    params(("id" = i32, Path, description = "Holder id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Every consent given, withdrawn ones included", body = Vec<ConsentPublic>),
        (status = 404, description = "Holder not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Bad id", body = ValidationErrorBody),
    )
)]
pub async fn list_consents(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<Json<Vec<ConsentPublic>>, ApiError> {
    let rows = service::holders::consents(&current.actor(), &state.db, id).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

#[utoipa::path(
    post,
    path = "/api/v1/holders/{id}/consents",
    tag = "holders",
    params(("id" = i32, Path, description = "Holder id")),
    request_body = ConsentGiven,
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 201, description = "Recorded", body = ConsentPublic),
        (status = 403, description = "The role may not change holders", body = ErrorDetail),
        (status = 404, description = "Holder not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 409, description = "Erased", body = ErrorDetail),
        (status = 422, description = "Invalid body (a time in the future)", body = ValidationErrorBody),
    )
)]
pub async fn give_consent(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    ValidJson(body): ValidJson<ConsentGiven>,
) -> Result<(StatusCode, Json<ConsentPublic>), ApiError> {
    let given = service::holders::give_consent(&current.actor(), &state.db, id, body).await?;
    Ok((StatusCode::CREATED, Json(given.into())))
}

/// Records the withdrawal (the consent stays, with its dates). A required consent withdrawn
/// from an active holder puts it back to `draft`.
#[utoipa::path(
    post,
    path = "/api/v1/holders/{id}/consents/{consent_id}/withdraw",
    tag = "holders",
    params(
        ("id" = i32, Path, description = "Holder id"),
        ("consent_id" = i32, Path, description = "Consent id"),
    ),
    request_body = ConsentWithdrawal,
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Withdrawn", body = ConsentPublic),
        (status = 403, description = "The role may not change holders", body = ErrorDetail),
        (status = 404, description = "Holder or consent not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 409, description = "Already withdrawn, or the holder was erased", body = ErrorDetail),
        (status = 422, description = "Invalid body (a time before the consent or in the future)", body = ValidationErrorBody),
    )
)]
pub async fn withdraw_consent(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath((id, consent_id)): ValidPath<(i32, i32)>,
    ValidJson(body): ValidJson<ConsentWithdrawal>,
) -> Result<Json<ConsentPublic>, ApiError> {
    let withdrawn =
        service::holders::withdraw_consent(&current.actor(), &state.db, id, consent_id, body)
            .await?;
    Ok(Json(withdrawn.into()))
}

#[utoipa::path(
    get,
    path = "/api/v1/holders/{id}/history",
    tag = "holders",
    params(("id" = i32, Path, description = "Holder id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Every change, oldest first, with who made it", body = Vec<HolderRevisionPublic>),
        (status = 404, description = "Holder not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Bad id", body = ValidationErrorBody),
    )
)]
pub async fn holder_history(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<Json<Vec<HolderRevisionPublic>>, ApiError> {
    let rows = service::holders::history(&current.actor(), &state.db, id).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// The IBAN in force at the end of a day: the one a payout on that day goes to.
#[utoipa::path(
    get,
    path = "/api/v1/holders/{id}/iban",
    tag = "holders",
    params(("id" = i32, Path, description = "Holder id"), IbanOnParams),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "The IBAN valid that day (absent: none recorded)", body = IbanOnDate),
        (status = 404, description = "Holder not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Bad id or date", body = ValidationErrorBody),
    )
)]
pub async fn holder_iban_on(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    ValidQuery(params): ValidQuery<IbanOnParams>,
) -> Result<Json<IbanOnDate>, ApiError> {
    let revision =
        service::holders::revision_on(&current.actor(), &state.db, id, params.on).await?;
    let (iban, valid_from) = match revision {
        Some(r) if r.iban.is_some() => (r.iban, Some(r.changed_at)),
        _ => (None, None),
    };
    Ok(Json(IbanOnDate {
        holder_id: id,
        on: params.on,
        iban,
        valid_from,
    }))
}

/// Everything stored about the holder (GDPR art. 15), as one JSON document.
#[utoipa::path(
    get,
    path = "/api/v1/holders/{id}/export",
    tag = "holders",
    params(("id" = i32, Path, description = "Holder id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "The holder's data, consents, history, points and their ledger rows", body = HolderExport),
        (status = 404, description = "Holder not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Bad id", body = ValidationErrorBody),
    )
)]
pub async fn export_holder(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<Json<HolderExport>, ApiError> {
    let export = service::holders::export(&current.actor(), &state.db, id).await?;
    Ok(Json(HolderExport {
        exported_at: chrono::Utc::now(),
        holder: export.holder.into(),
        consents: export.consents.into_iter().map(Into::into).collect(),
        history: export.history.into_iter().map(Into::into).collect(),
        members: export.members.into_iter().map(Into::into).collect(),
        transactions: export.transactions.into_iter().map(Into::into).collect(),
        join_requests: export
            .join_requests
            .into_iter()
            .map(crate::schemas::join_request::JoinRequestPublic::of)
            .collect::<Result<_, _>>()
            .map_err(|error| ApiError::Internal(error.into()))?,
        iban_changes: export.iban_changes.into_iter().map(Into::into).collect(),
    }))
}
