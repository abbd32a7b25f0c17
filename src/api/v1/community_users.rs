//! `/community-users`: the community's registry of people, who may not have an account yet.
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};

use super::configurations::total_count_header;
use crate::api::deps::CurrentUser;
use crate::api::error::{ApiError, ErrorDetail, ValidationErrorBody};
use crate::api::extract::{ValidJson, ValidPath, ValidQuery};
use crate::api::state::AppState;
use crate::schemas::community_user::{
    CommunityUserCreate, CommunityUserListParams, CommunityUserPublic, CommunityUserUpdate,
    EmailCheck, EmailCheckParams,
};
use crate::service;

#[utoipa::path(
    get,
    path = "/api/v1/community-users/",
    tag = "community-users",
    params(CommunityUserListParams),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "People in scope; the total is in `X-Total-Count`", body = Vec<CommunityUserPublic>,
         headers(("x-total-count" = u64, description = "Rows matching the filters"))),
        (status = 403, description = "The role may not read the registry", body = ErrorDetail),
        (status = 422, description = "Bad query parameter", body = ValidationErrorBody),
    )
)]
pub async fn list_community_users(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidQuery(params): ValidQuery<CommunityUserListParams>,
) -> Result<(HeaderMap, Json<Vec<CommunityUserPublic>>), ApiError> {
    let (rows, total) =
        service::community_users::list(&current.actor(), &state.db, &params).await?;
    Ok((
        total_count_header(total),
        Json(rows.into_iter().map(Into::into).collect()),
    ))
}

/// Whether a person with this email is in the caller's registry.
#[utoipa::path(
    get,
    path = "/api/v1/community-users/check",
    tag = "community-users",
    params(EmailCheckParams),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Whether the email is registered (in the caller's scope)", body = EmailCheck),
        (status = 403, description = "The role may not read the registry", body = ErrorDetail),
        (status = 422, description = "Bad query parameter", body = ValidationErrorBody),
    )
)]
pub async fn check_email(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidQuery(params): ValidQuery<EmailCheckParams>,
) -> Result<Json<EmailCheck>, ApiError> {
    let found =
        service::community_users::check_email(&current.actor(), &state.db, &params.email).await?;
    Ok(Json(found))
}

#[utoipa::path(
    post,
    path = "/api/v1/community-users/",
    tag = "community-users",
    request_body = CommunityUserCreate,
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 201, description = "Created", body = CommunityUserPublic),
        (status = 403, description = "The role may not manage the registry", body = ErrorDetail),
        (status = 409, description = "Email already registered in the organization, or account already linked", body = ErrorDetail),
        (status = 422, description = "Invalid body", body = ValidationErrorBody),
    )
)]
pub async fn create_community_user(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidJson(body): ValidJson<CommunityUserCreate>,
) -> Result<(StatusCode, Json<CommunityUserPublic>), ApiError> {
    let created = service::community_users::create(&current.actor(), &state.db, body).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[utoipa::path(
    get,
    path = "/api/v1/community-users/{id}",
    tag = "community-users",
    params(("id" = i32, Path, description = "Community user id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "The person", body = CommunityUserPublic),
        (status = 403, description = "The role may not read the registry", body = ErrorDetail),
        (status = 404, description = "Community user not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Bad id", body = ValidationErrorBody),
    )
)]
pub async fn read_community_user(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<Json<CommunityUserPublic>, ApiError> {
    let row = service::community_users::visible(&current.actor(), &state.db, id).await?;
    Ok(Json(row.into()))
}

#[utoipa::path(
    patch,
    path = "/api/v1/community-users/{id}",
    tag = "community-users",
    params(("id" = i32, Path, description = "Community user id")),
    request_body = CommunityUserUpdate,
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Updated", body = CommunityUserPublic),
        (status = 403, description = "The role may not manage the registry", body = ErrorDetail),
        (status = 404, description = "Community user not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 409, description = "Email already registered, or account already linked", body = ErrorDetail),
        (status = 422, description = "Invalid body", body = ValidationErrorBody),
    )
)]
pub async fn update_community_user(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    ValidJson(body): ValidJson<CommunityUserUpdate>,
) -> Result<Json<CommunityUserPublic>, ApiError> {
    let updated = service::community_users::update(&current.actor(), &state.db, id, body).await?;
    Ok(Json(updated.into()))
}
