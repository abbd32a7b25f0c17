//! `/community-users`: the community's registry of people, who may not have an account yet.
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QuerySelect, Set};

use super::configurations::total_count_header;
use crate::api::deps::CurrentUser;
use crate::api::error::{ApiError, ErrorDetail, ValidationErrorBody, invalid_field};
use crate::api::extract::{ValidJson, ValidPath, ValidQuery};
use crate::app::AppState;
use crate::core::permissions::Permission;
use crate::crud;
use crate::models::enums::{CommunityUserRole, CommunityUserStatus, Role};
use crate::models::{community_user, configuration};
use crate::schemas::common::clean;
use crate::schemas::community_user::{
    CommunityUserCreate, CommunityUserListParams, CommunityUserPublic, CommunityUserUpdate,
    EmailCheck, EmailCheckParams,
};

#[utoipa::path(
    get,
    path = "/api/v1/community-users/",
    tag = "community-users",
    params(CommunityUserListParams),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "People in scope; the total is in `X-Total-Count`", body = Vec<CommunityUserPublic>,
         headers(("x-total-count" = u64, description = "Rows matching the filters"))),
        (status = 401, description = "Could not validate credentials", body = ErrorDetail),
        (status = 403, description = "The role may not read the registry", body = ErrorDetail),
        (status = 422, description = "Bad query parameter", body = ValidationErrorBody),
    )
)]
pub async fn list_community_users(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidQuery(params): ValidQuery<CommunityUserListParams>,
) -> Result<(HeaderMap, Json<Vec<CommunityUserPublic>>), ApiError> {
    current.require(Permission::CommunityUsersRead)?;
    let (rows, total) =
        crud::community_users::list(&state.db, current.community_scope(), &params).await?;
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
        (status = 401, description = "Could not validate credentials", body = ErrorDetail),
        (status = 403, description = "The role may not read the registry", body = ErrorDetail),
        (status = 422, description = "Bad query parameter", body = ValidationErrorBody),
    )
)]
pub async fn check_email(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidQuery(params): ValidQuery<EmailCheckParams>,
) -> Result<Json<EmailCheck>, ApiError> {
    current.require(Permission::CommunityUsersRead)?;
    let found = crud::community_users::find_by_email_in_scope(
        &state.db,
        current.community_scope(),
        &params.email,
    )
    .await?;
    Ok(Json(EmailCheck {
        exists: found.is_some(),
        id: found.map(|row| row.id),
    }))
}

#[utoipa::path(
    post,
    path = "/api/v1/community-users/",
    tag = "community-users",
    request_body = CommunityUserCreate,
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 201, description = "Created", body = CommunityUserPublic),
        (status = 401, description = "Could not validate credentials", body = ErrorDetail),
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
    current.require(Permission::CommunityUsersWrite)?;
    let organization_id = writable_organization(&state, &current, body.organization_id).await?;
    check_linked_user(&state, organization_id, body.user_id).await?;
    let model = community_user::ActiveModel {
        organization_id: Set(organization_id),
        email: Set(body.email.to_lowercase()),
        full_name: Set(clean(body.full_name.as_deref())),
        role: Set(body.role.unwrap_or(CommunityUserRole::Member)),
        status: Set(body.status.unwrap_or(CommunityUserStatus::Active)),
        user_id: Set(body.user_id),
        ..Default::default()
    };
    let created = crud::insert(&state.db, model).await?;
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
        (status = 401, description = "Could not validate credentials", body = ErrorDetail),
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
    Ok(Json(visible(&state, &current, id).await?.into()))
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
        (status = 401, description = "Could not validate credentials", body = ErrorDetail),
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
    let existing = visible(&state, &current, id).await?;
    current.require(Permission::CommunityUsersWrite)?;
    if let Some(user_id) = body.user_id {
        check_linked_user(&state, existing.organization_id, user_id).await?;
    }
    let mut model = existing.into_active_model();
    if let Some(email) = &body.email {
        model.email = Set(email.to_lowercase());
    }
    if let Some(full_name) = &body.full_name {
        model.full_name = Set(clean(full_name.as_deref()));
    }
    if let Some(role) = body.role {
        model.role = Set(role);
    }
    if let Some(status) = body.status {
        model.status = Set(status);
    }
    if let Some(user_id) = body.user_id {
        model.user_id = Set(user_id);
    }
    Ok(Json(crud::update(&state.db, model).await?.into()))
}

async fn visible(
    state: &AppState,
    current: &CurrentUser,
    id: i32,
) -> Result<community_user::Model, ApiError> {
    current.require(Permission::CommunityUsersRead)?;
    crud::community_users::find_in_scope(&state.db, current.community_scope(), id)
        .await?
        .ok_or_else(|| ApiError::not_found("Community user"))
}

/// The organization a new registry entry goes to: the vendor's own; for a referent, the one of
/// its configurations (it must say which if it runs configurations in several).
async fn writable_organization(
    state: &AppState,
    current: &CurrentUser,
    requested: Option<i32>,
) -> Result<i32, ApiError> {
    let not_found = || invalid_field("organization_id", "Organization not found", "not_found");
    match current.role() {
        Role::Admin => {
            let id = requested
                .ok_or_else(|| invalid_field("organization_id", "Field required", "missing"))?;
            crud::organizations::find_in_scope(&state.db, current.organization_scope(), id)
                .await?
                .ok_or_else(not_found)?;
            Ok(id)
        }
        Role::Vendor => {
            let own = current.0.organization_id.ok_or(ApiError::Forbidden)?;
            match requested {
                Some(id) if id != own => Err(not_found()),
                _ => Ok(own),
            }
        }
        _ => {
            let organizations: Vec<i32> = configuration::Entity::find()
                .select_only()
                .column(configuration::Column::OrganizationId)
                .distinct()
                .filter(configuration::Column::ReferentId.eq(current.id()))
                .into_tuple()
                .all(&state.db)
                .await?;
            match (requested, organizations.as_slice()) {
                (Some(id), _) if organizations.contains(&id) => Ok(id),
                (Some(_), _) | (None, []) => Err(not_found()),
                (None, [only]) => Ok(*only),
                (None, _) => Err(invalid_field(
                    "organization_id",
                    "You run configurations in several organizations: say which",
                    "conditionally_required",
                )),
            }
        }
    }
}

async fn check_linked_user(
    state: &AppState,
    organization_id: i32,
    user_id: Option<i32>,
) -> Result<(), ApiError> {
    let Some(user_id) = user_id else {
        return Ok(());
    };
    let same_organization = crud::users::find(&state.db, user_id)
        .await?
        .is_some_and(|user| user.organization_id == Some(organization_id));
    if same_organization {
        Ok(())
    } else {
        Err(invalid_field(
            "user_id",
            "User not found in the organization",
            "not_found",
        ))
    }
}
