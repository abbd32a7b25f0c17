//! `/users`: accounts, with the role rules of the permission table and the caller's scope.
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use crate::api::deps::{CurrentUser, TokenCaller};
use crate::api::error::{ApiError, ErrorDetail, ValidationErrorBody};
use crate::api::extract::{ValidJson, ValidPath, ValidQuery};
use crate::api::state::AppState;
use crate::schemas::common::Page;
use crate::schemas::user::{UserCreate, UserListParams, UserPublic, UserUpdate, UserUpdateMe};
use crate::service;

/// Lists the users the caller may manage (admin: all; vendor: its organization).
#[utoipa::path(
    get,
    path = "/api/v1/users/",
    tag = "users",
    params(UserListParams),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "A page of users", body = Page<UserPublic>),
        (status = 403, description = "The role may not list users", body = ErrorDetail),
        (status = 422, description = "Bad query parameter", body = ValidationErrorBody),
    )
)]
pub async fn list_users(
    State(state): State<AppState>,
    caller: TokenCaller,
    ValidQuery(params): ValidQuery<UserListParams>,
) -> Result<Json<Page<UserPublic>>, ApiError> {
    // Read on the token's claim, checked in the list's own statements; an empty answer, or no
    // claim, loads the user first and takes the ordinary path.
    let (users, total) = caller
        .on_claim_or_loaded(
            &state,
            async |claimed| service::users::list_claimed(claimed, &state.db, &params).await,
            async |current| Ok(service::users::list(&current.actor(), &state.db, &params).await?),
        )
        .await?;
    let items = users.into_iter().map(UserPublic::from).collect();
    Ok(Json(Page::new(items, total, params.skip, params.limit)))
}

/// Creates an account. Vendors create only `referent` and `user` accounts, in their organization.
#[utoipa::path(
    post,
    path = "/api/v1/users/",
    tag = "users",
    request_body = UserCreate,
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 201, description = "Created", body = UserPublic),
        (status = 403, description = "The role may not create this account", body = ErrorDetail),
        (status = 409, description = "Duplicate email, username or fiscal code", body = ErrorDetail),
        (status = 422, description = "Invalid body", body = ValidationErrorBody),
    )
)]
pub async fn create_user(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidJson(body): ValidJson<UserCreate>,
) -> Result<(StatusCode, Json<UserPublic>), ApiError> {
    let created =
        service::users::create(&current.actor(), &state.db, &state.passwords, body).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[utoipa::path(
    get,
    path = "/api/v1/users/me",
    tag = "users",
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "The current user", body = UserPublic),
    )
)]
pub async fn read_me(current: CurrentUser) -> Json<UserPublic> {
    Json(current.0.into())
}

/// Updates one's own profile. Role, status and organization cannot be changed here; a new email
/// or password needs `current_password`.
#[utoipa::path(
    patch,
    path = "/api/v1/users/me",
    tag = "users",
    request_body = UserUpdateMe,
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Updated", body = UserPublic),
        (status = 400, description = "Incorrect current password", body = ErrorDetail),
        (status = 409, description = "Duplicate email or username", body = ErrorDetail),
        (status = 422, description = "Invalid body", body = ValidationErrorBody),
    )
)]
pub async fn update_me(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidJson(body): ValidJson<UserUpdateMe>,
) -> Result<Json<UserPublic>, ApiError> {
    let updated = service::users::update_me(&state.db, &state.passwords, current.0, body).await?;
    Ok(Json(updated.into()))
}

#[utoipa::path(
    get,
    path = "/api/v1/users/{id}",
    tag = "users",
    params(("id" = i32, Path, description = "User id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "The user", body = UserPublic),
        (status = 404, description = "User not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Bad id", body = ValidationErrorBody),
    )
)]
pub async fn read_user(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<Json<UserPublic>, ApiError> {
    let user = service::users::visible(&current.actor(), &state.db, id).await?;
    Ok(Json(user.into()))
}

/// Updates an account the caller manages.
#[utoipa::path(
    patch,
    path = "/api/v1/users/{id}",
    tag = "users",
    params(("id" = i32, Path, description = "User id")),
    request_body = UserUpdate,
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Updated", body = UserPublic),
        (status = 403, description = "The role may not make this change", body = ErrorDetail),
        (status = 404, description = "User not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 409, description = "Duplicate value, or the last active admin", body = ErrorDetail),
        (status = 422, description = "Invalid body", body = ValidationErrorBody),
    )
)]
pub async fn update_user(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    ValidJson(body): ValidJson<UserUpdate>,
) -> Result<Json<UserPublic>, ApiError> {
    let updated =
        service::users::update(&current.actor(), &state.db, &state.passwords, id, body).await?;
    Ok(Json(updated.into()))
}

/// Deactivates an account (it is kept for the ledger's history) and revokes its sessions.
#[utoipa::path(
    delete,
    path = "/api/v1/users/{id}",
    tag = "users",
    params(("id" = i32, Path, description = "User id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 204, description = "Deactivated"),
        (status = 403, description = "The role may not deactivate this account, or it is the caller's own", body = ErrorDetail),
        (status = 404, description = "User not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 409, description = "The last active admin cannot be deactivated", body = ErrorDetail),
        (status = 422, description = "Bad id", body = ValidationErrorBody),
    )
)]
pub async fn delete_user(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<StatusCode, ApiError> {
    service::users::deactivate(&current.actor(), &state.db, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
