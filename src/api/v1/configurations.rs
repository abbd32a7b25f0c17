//! `/configurations`: the energy-sharing configurations (CER, AUC, AID).
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use chrono::Utc;
use sea_orm::{IntoActiveModel, Set};

use crate::api::deps::CurrentUser;
use crate::api::error::{ApiError, ErrorDetail, ValidationErrorBody, invalid_field};
use crate::api::extract::{ValidJson, ValidPath, ValidQuery};
use crate::app::AppState;
use crate::core::permissions::Permission;
use crate::crud;
use crate::domain::community_rules::status_transition_allowed;
use crate::models::configuration;
use crate::models::enums::{ConfigurationStatus, Role};
use crate::schemas::common::clean;
use crate::schemas::configuration::{
    ConfigurationCreate, ConfigurationListParams, ConfigurationPublic, ConfigurationUpdate,
};

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
        (status = 401, description = "Could not validate credentials", body = ErrorDetail),
        (status = 422, description = "Bad query parameter", body = ValidationErrorBody),
    )
)]
pub async fn list_configurations(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidQuery(params): ValidQuery<ConfigurationListParams>,
) -> Result<(HeaderMap, Json<Vec<ConfigurationPublic>>), ApiError> {
    current.require(Permission::ConfigurationsRead)?;
    let (rows, total) =
        crud::configurations::list(&state.db, current.community_scope(), &params).await?;
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
        (status = 401, description = "Could not validate credentials", body = ErrorDetail),
        (status = 403, description = "Only admins and vendors create configurations", body = ErrorDetail),
        (status = 422, description = "Invalid body", body = ValidationErrorBody),
    )
)]
pub async fn create_configuration(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidJson(body): ValidJson<ConfigurationCreate>,
) -> Result<(StatusCode, Json<ConfigurationPublic>), ApiError> {
    current.require(Permission::ConfigurationsCreate)?;
    let organization_id = match (current.role(), body.organization_id) {
        (Role::Admin, Some(id)) => id,
        (Role::Admin, None) => {
            return Err(invalid_field(
                "organization_id",
                "Field required",
                "conditionally_required",
            ));
        }
        (_, requested) => {
            let own = current.0.organization_id.ok_or(ApiError::Forbidden)?;
            if requested.is_some_and(|id| id != own) {
                return Err(invalid_field(
                    "organization_id",
                    "Organization not found",
                    "not_found",
                ));
            }
            own
        }
    };
    crud::organizations::find_in_scope(&state.db, current.organization_scope(), organization_id)
        .await?
        .ok_or_else(|| invalid_field("organization_id", "Organization not found", "not_found"))?;
    check_referent(&state, organization_id, body.referent_id).await?;
    let model = configuration::ActiveModel {
        organization_id: Set(organization_id),
        name: Set(body.name.trim().to_string()),
        kind: Set(body.kind),
        status: Set(ConfigurationStatus::Draft),
        primary_substation: Set(body.primary_substation.trim().to_ascii_uppercase()),
        market_zone: Set(body.market_zone),
        region: Set(body.region),
        referent_id: Set(body.referent_id),
        description: Set(clean(body.description.as_deref())),
        constituted_on: Set(body.constituted_on),
        activation_date: Set(None),
        municipality_population: Set(body.municipality_population),
        ..Default::default()
    };
    let created = crud::insert(&state.db, model).await?;
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
        (status = 401, description = "Could not validate credentials", body = ErrorDetail),
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
        visible_configuration(&state, &current, id).await?.into(),
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
        (status = 401, description = "Could not validate credentials", body = ErrorDetail),
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
    let existing = visible_configuration(&state, &current, id).await?;
    current.require(Permission::ConfigurationsUpdate)?;
    let moves_organization = body
        .organization_id
        .is_some_and(|org| org != existing.organization_id);
    let changes_referent = body
        .referent_id
        .is_some_and(|referent| referent != existing.referent_id);
    if moves_organization {
        current.require(Permission::ConfigurationsMove)?;
    }
    if changes_referent {
        current.require(Permission::ConfigurationsAssignReferent)?;
    }
    let organization_id = body.organization_id.unwrap_or(existing.organization_id);
    if moves_organization {
        crud::organizations::find_in_scope(
            &state.db,
            current.organization_scope(),
            organization_id,
        )
        .await?
        .ok_or_else(|| invalid_field("organization_id", "Organization not found", "not_found"))?;
    }
    let referent_id = body.referent_id.unwrap_or(existing.referent_id);
    if moves_organization || changes_referent {
        check_referent(&state, organization_id, referent_id).await?;
    }
    let mut model = existing.clone().into_active_model();
    if let Some(status) = body.status {
        if !status_transition_allowed(existing.status, status) {
            return Err(ApiError::Conflict(format!(
                "A configuration cannot move from {} to {}",
                existing.status.as_str(),
                status.as_str()
            )));
        }
        if status == ConfigurationStatus::Active && existing.activation_date.is_none() {
            model.activation_date = Set(Some(Utc::now().date_naive()));
        }
        model.status = Set(status);
    }
    if let Some(name) = &body.name {
        model.name = Set(name.trim().to_string());
    }
    if let Some(code) = &body.primary_substation {
        model.primary_substation = Set(code.trim().to_ascii_uppercase());
    }
    if let Some(zone) = body.market_zone {
        model.market_zone = Set(zone);
    }
    if let Some(region) = body.region {
        model.region = Set(region);
    }
    if let Some(description) = &body.description {
        model.description = Set(clean(description.as_deref()));
    }
    if let Some(constituted_on) = body.constituted_on {
        model.constituted_on = Set(constituted_on);
    }
    if let Some(activation_date) = body.activation_date {
        model.activation_date = Set(activation_date);
    }
    if let Some(population) = body.municipality_population {
        model.municipality_population = Set(population);
    }
    model.organization_id = Set(organization_id);
    model.referent_id = Set(referent_id);
    Ok(Json(crud::update(&state.db, model).await?.into()))
}

#[utoipa::path(
    delete,
    path = "/api/v1/configurations/{id}",
    tag = "configurations",
    params(("id" = i32, Path, description = "Configuration id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Could not validate credentials", body = ErrorDetail),
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
    let existing = visible_configuration(&state, &current, id).await?;
    current.require(Permission::ConfigurationsDelete)?;
    let held = crud::configurations::dependents(&state.db, id).await?;
    if held.any() {
        return Err(ApiError::Conflict(format!(
            "The configuration has {} member(s), {} transaction(s), {} settlement run(s) and {} \
             meter-data import(s): close it instead (PATCH its status to `closed`)",
            held.members, held.transactions, held.settlement_runs, held.imports
        )));
    }
    // A member, run or import added meanwhile makes the foreign key refuse: also a 409.
    crud::configurations::delete(&state.db, existing).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn visible_configuration(
    state: &AppState,
    current: &CurrentUser,
    id: i32,
) -> Result<configuration::Model, ApiError> {
    current.require(Permission::ConfigurationsRead)?;
    crud::configurations::find_in_scope(&state.db, current.community_scope(), id)
        .await?
        .ok_or_else(|| ApiError::not_found("Configuration"))
}

/// A configuration referenced from a body: invisible ones are a 422 on that field.
pub async fn configuration_for_write(
    state: &AppState,
    current: &CurrentUser,
    id: i32,
) -> Result<configuration::Model, ApiError> {
    crud::configurations::find_in_scope(&state.db, current.community_scope(), id)
        .await?
        .ok_or_else(|| invalid_field("configuration_id", "Configuration not found", "not_found"))
}

/// The referent must be a `referent` account of the configuration's organization.
async fn check_referent(
    state: &AppState,
    organization_id: i32,
    referent_id: Option<i32>,
) -> Result<(), ApiError> {
    let Some(referent_id) = referent_id else {
        return Ok(());
    };
    match crud::users::find(&state.db, referent_id).await? {
        Some(user)
            if user.organization_id == Some(organization_id) && user.role == Role::Referent =>
        {
            Ok(())
        }
        _ => Err(invalid_field(
            "referent_id",
            "The referent must be a referent account of the configuration's organization",
            "not_found",
        )),
    }
}
