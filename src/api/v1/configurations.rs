//! `/configurations`: the energy-sharing configurations (CER, AUC, AID).
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};

use crate::api::deps::CurrentUser;
use crate::api::error::{ApiError, ErrorDetail, ValidationErrorBody};
use crate::api::extract::{ValidJson, ValidPath, ValidQuery};
use crate::api::state::AppState;
use crate::schemas::configuration::{
    ConfigurationCreate, ConfigurationListParams, ConfigurationPublic, ConfigurationUpdate,
};
use crate::service;

/// The `X-Total-Count` header of array-returning lists.
pub fn total_count_header(total: u64) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("x-total-count", HeaderValue::from(total));
    headers
}

#[utoipa::path(
    get,
    path = "/api/v1/configurations/",
    tag = "configurations",
    params(ConfigurationListParams),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Configurations in scope; the total is in `X-Total-Count`", body = Vec<ConfigurationPublic>,
         headers(("x-total-count" = u64, description = "Rows matching the filters"))),
        (status = 422, description = "Bad query parameter", body = ValidationErrorBody),
    )
)]
pub async fn list_configurations(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidQuery(params): ValidQuery<ConfigurationListParams>,
) -> Result<(HeaderMap, Json<Vec<ConfigurationPublic>>), ApiError> {
    let (rows, total) = service::configurations::list(&current.actor(), &state.db, &params).await?;
    Ok((
        total_count_header(total),
        Json(rows.into_iter().map(Into::into).collect()),
    ))
}

#[utoipa::path(
    post,
    path = "/api/v1/configurations/",
    tag = "configurations",
    request_body = ConfigurationCreate,
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 201, description = "Created, in `draft`", body = ConfigurationPublic),
        (status = 403, description = "Only admins and vendors create configurations", body = ErrorDetail),
        (status = 422, description = "Invalid body", body = ValidationErrorBody),
    )
)]
pub async fn create_configuration(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidJson(body): ValidJson<ConfigurationCreate>,
) -> Result<(StatusCode, Json<ConfigurationPublic>), ApiError> {
    let created = service::configurations::create(&current.actor(), &state.db, body).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[utoipa::path(
    get,
    path = "/api/v1/configurations/{id}",
    tag = "configurations",
    params(("id" = i32, Path, description = "Configuration id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "The configuration", body = ConfigurationPublic),
        (status = 404, description = "Configuration not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Bad id", body = ValidationErrorBody),
    )
)]
pub async fn read_configuration(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<Json<ConfigurationPublic>, ApiError> {
    Ok(Json(
        service::configurations::visible(&current.actor(), &state.db, id)
            .await?
            .into(),
    ))
}

#[utoipa::path(
    patch,
    path = "/api/v1/configurations/{id}",
    tag = "configurations",
    params(("id" = i32, Path, description = "Configuration id")),
    request_body = ConfigurationUpdate,
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Updated", body = ConfigurationPublic),
        (status = 403, description = "The role may not make this change", body = ErrorDetail),
        (status = 404, description = "Configuration not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 409, description = "A status transition the lifecycle does not allow", body = ErrorDetail),
        (status = 422, description = "Invalid body", body = ValidationErrorBody),
    )
)]
pub async fn update_configuration(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    ValidJson(body): ValidJson<ConfigurationUpdate>,
) -> Result<Json<ConfigurationPublic>, ApiError> {
    Ok(Json(
        service::configurations::update(&current.actor(), &state.db, id, body)
            .await?
            .into(),
    ))
}

#[utoipa::path(
    delete,
    path = "/api/v1/configurations/{id}",
    tag = "configurations",
    params(("id" = i32, Path, description = "Configuration id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Only admins and vendors delete configurations", body = ErrorDetail),
        (status = 404, description = "Configuration not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 409, description = "It still has members or transactions", body = ErrorDetail),
        (status = 422, description = "Bad id", body = ValidationErrorBody),
    )
)]
pub async fn delete_configuration(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<StatusCode, ApiError> {
    service::configurations::delete(&current.actor(), &state.db, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
