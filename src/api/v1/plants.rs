//! `/plants`: production plants behind producer and prosumer PODs.
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};

use super::configurations::total_count_header;
use crate::api::deps::CurrentUser;
use crate::api::error::{ApiError, ErrorDetail, ValidationErrorBody};
use crate::api::extract::{ValidJson, ValidPath, ValidQuery};
use crate::api::state::AppState;
use crate::schemas::plant::{PlantCreate, PlantListParams, PlantPublic, PlantUpdate};
use crate::service;

#[utoipa::path(
    get,
    path = "/api/v1/plants/",
    tag = "plants",
    params(PlantListParams),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Plants in scope; the total is in `X-Total-Count`", body = Vec<PlantPublic>,
         headers(("x-total-count" = u64, description = "Rows matching the filters"))),
        (status = 422, description = "Bad query parameter", body = ValidationErrorBody),
    )
)]
pub async fn list_plants(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidQuery(params): ValidQuery<PlantListParams>,
) -> Result<(HeaderMap, Json<Vec<PlantPublic>>), ApiError> {
    let (rows, total) = service::plants::list(&current.actor(), &state.db, &params).await?;
    Ok((
        total_count_header(total),
        Json(rows.into_iter().map(Into::into).collect()),
    ))
}

#[utoipa::path(
    post,
    path = "/api/v1/plants/",
    tag = "plants",
    request_body = PlantCreate,
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 201, description = "Created", body = PlantPublic),
        (status = 403, description = "The role may not manage plants", body = ErrorDetail),
        (status = 409, description = "Not a producer/prosumer member, or existing plants over 30% of the power", body = ErrorDetail),
        (status = 422, description = "Invalid body, or commissioned before the CER was constituted", body = ValidationErrorBody),
    )
)]
pub async fn create_plant(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidJson(body): ValidJson<PlantCreate>,
) -> Result<(StatusCode, Json<PlantPublic>), ApiError> {
    let created = service::plants::create(&current.actor(), &state.db, body).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[utoipa::path(
    get,
    path = "/api/v1/plants/{id}",
    tag = "plants",
    params(("id" = i32, Path, description = "Plant id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "The plant", body = PlantPublic),
        (status = 404, description = "Plant not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Bad id", body = ValidationErrorBody),
    )
)]
pub async fn read_plant(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<Json<PlantPublic>, ApiError> {
    let plant = service::plants::visible(&current.actor(), &state.db, id).await?;
    Ok(Json(plant.into()))
}

#[utoipa::path(
    patch,
    path = "/api/v1/plants/{id}",
    tag = "plants",
    params(("id" = i32, Path, description = "Plant id")),
    request_body = PlantUpdate,
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Updated", body = PlantPublic),
        (status = 403, description = "The role may not manage plants", body = ErrorDetail),
        (status = 404, description = "Plant not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 409, description = "Existing plants over 30% of the power", body = ErrorDetail),
        (status = 422, description = "Invalid body", body = ValidationErrorBody),
    )
)]
pub async fn update_plant(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    ValidJson(body): ValidJson<PlantUpdate>,
) -> Result<Json<PlantPublic>, ApiError> {
    let plant = service::plants::update(&current.actor(), &state.db, id, body).await?;
    Ok(Json(plant.into()))
}

#[utoipa::path(
    delete,
    path = "/api/v1/plants/{id}",
    tag = "plants",
    params(("id" = i32, Path, description = "Plant id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "The role may not manage plants", body = ErrorDetail),
        (status = 404, description = "Plant not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 409, description = "Removing it would leave existing plants over 30% of the power", body = ErrorDetail),
        (status = 422, description = "Bad id", body = ValidationErrorBody),
    )
)]
pub async fn delete_plant(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<StatusCode, ApiError> {
    service::plants::delete(&current.actor(), &state.db, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
