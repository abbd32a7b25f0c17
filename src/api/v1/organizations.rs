//! `/organizations`: the tenants. Admins manage them; a vendor reads its own.
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use crate::api::deps::CurrentUser;
use crate::api::error::{ApiError, ErrorDetail, ValidationErrorBody};
use crate::api::extract::{ValidJson, ValidPath, ValidQuery};
use crate::api::state::AppState;
use crate::schemas::common::Page;
use crate::schemas::organization::{
    OrganizationCreate, OrganizationListParams, OrganizationPublic, OrganizationUpdate,
};
use crate::service;

#[utoipa::path(
    get,
    path = "/api/v1/organizations/",
    tag = "organizations",
    params(OrganizationListParams),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "A page of organizations", body = Page<OrganizationPublic>),
        (status = 403, description = "The role may not read organizations", body = ErrorDetail),
        (status = 422, description = "Bad query parameter", body = ValidationErrorBody),
    )
)]
pub async fn list_organizations(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidQuery(params): ValidQuery<OrganizationListParams>,
) -> Result<Json<Page<OrganizationPublic>>, ApiError> {
    let (rows, total) = service::organizations::list(&current.actor(), &state.db, &params).await?;
    let items = rows.into_iter().map(OrganizationPublic::from).collect();
    Ok(Json(Page::new(items, total, params.skip, params.limit)))
}

#[utoipa::path(
    post,
    path = "/api/v1/organizations/",
    tag = "organizations",
    request_body = OrganizationCreate,
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 201, description = "Created", body = OrganizationPublic),
        (status = 403, description = "Only admins create organizations", body = ErrorDetail),
        (status = 409, description = "Duplicate name", body = ErrorDetail),
        (status = 422, description = "Invalid body", body = ValidationErrorBody),
    )
)]
pub async fn create_organization(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidJson(body): ValidJson<OrganizationCreate>,
) -> Result<(StatusCode, Json<OrganizationPublic>), ApiError> {
    let created = service::organizations::create(&current.actor(), &state.db, body).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[utoipa::path(
    get,
    path = "/api/v1/organizations/{id}",
    tag = "organizations",
    params(("id" = i32, Path, description = "Organization id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "The organization", body = OrganizationPublic),
        (status = 403, description = "The role may not read organizations", body = ErrorDetail),
        (status = 404, description = "Organization not found (or not the caller's)", body = ErrorDetail),
        (status = 422, description = "Bad id", body = ValidationErrorBody),
    )
)]
pub async fn read_organization(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<Json<OrganizationPublic>, ApiError> {
    let organization = service::organizations::visible(&current.actor(), &state.db, id).await?;
    Ok(Json(organization.into()))
}

#[utoipa::path(
    patch,
    path = "/api/v1/organizations/{id}",
    tag = "organizations",
    params(("id" = i32, Path, description = "Organization id")),
    request_body = OrganizationUpdate,
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Updated", body = OrganizationPublic),
        (status = 403, description = "Only admins update organizations", body = ErrorDetail),
        (status = 404, description = "Organization not found (or not the caller's)", body = ErrorDetail),
        (status = 409, description = "Duplicate name", body = ErrorDetail),
        (status = 422, description = "Invalid body", body = ValidationErrorBody),
    )
)]
pub async fn update_organization(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    ValidJson(body): ValidJson<OrganizationUpdate>,
) -> Result<Json<OrganizationPublic>, ApiError> {
    let updated = service::organizations::update(&current.actor(), &state.db, id, body).await?;
    Ok(Json(updated.into()))
}
