//! `/users`: accounts, with the role rules of the permission table and the caller's scope.
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use sea_orm::{ActiveValue, IntoActiveModel, Set, TransactionTrait};

use crate::api::deps::CurrentUser;
use crate::api::error::{ApiError, ErrorDetail, FieldError, ValidationErrorBody};
use crate::api::extract::{ValidJson, ValidPath, ValidQuery};
use crate::app::AppState;
use crate::core::permissions::{Permission, vendor_may_assign};
use crate::crud;
use crate::domain::tax_codes::{TaxpayerKind, parse_tax_code};
use crate::models::enums::{Role, UserKind, UserStatus};
use crate::models::user;
use crate::schemas::common::{Page, clean};
use crate::schemas::user::{UserCreate, UserListParams, UserPublic, UserUpdate, UserUpdateMe};

const USER: &str = "User";

/// Lists the users the caller may manage (admin: all; vendor: its organization).
#[utoipa::path(
    get,
    path = "/api/v1/users/",
    tag = "users",
    params(UserListParams),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "A page of users", body = Page<UserPublic>),
        (status = 401, description = "Could not validate credentials", body = ErrorDetail),
        (status = 403, description = "The role may not list users", body = ErrorDetail),
        (status = 422, description = "Bad query parameter", body = ValidationErrorBody),
    )
)]
pub async fn list_users(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidQuery(params): ValidQuery<UserListParams>,
) -> Result<Json<Page<UserPublic>>, ApiError> {
    current.require(Permission::UsersRead)?;
    let (users, total) = crud::users::list(&state.db, current.user_scope(), &params).await?;
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
        (status = 401, description = "Could not validate credentials", body = ErrorDetail),
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
    current.require(Permission::UsersWrite)?;
    let organization_id = match current.role() {
        Role::Admin => body.organization_id,
        _ => {
            if !vendor_may_assign(body.role) {
                return Err(ApiError::Forbidden);
            }
            if body.organization_id.is_some() && body.organization_id != current.0.organization_id {
                return Err(organization_not_found());
            }
            current.0.organization_id
        }
    };
    check_organization(&state, &current, body.role, organization_id).await?;
    let user = user::ActiveModel {
        email: Set(normalize_email(&body.email)),
        username: Set(clean(body.username.as_deref()).map(|u| u.to_lowercase())),
        full_name: Set(clean(body.full_name.as_deref())),
        fiscal_code: Set(normalize_fiscal_code(
            body.kind,
            body.fiscal_code.as_deref(),
        )?),
        kind: Set(body.kind),
        user_type: Set(body.user_type),
        address: Set(clean(body.address.as_deref())),
        role: Set(body.role),
        status: Set(body.status),
        hashed_password: Set(state.passwords.hash(&body.password).await),
        organization_id: Set(organization_id),
        ..Default::default()
    };
    let created = crud::insert(&state.db, user).await?;
    tracing::info!(user_id = created.id, by = current.id(), "user created");
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[utoipa::path(
    get,
    path = "/api/v1/users/me",
    tag = "users",
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "The current user", body = UserPublic),
        (status = 401, description = "Could not validate credentials", body = ErrorDetail),
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
        (status = 401, description = "Could not validate credentials", body = ErrorDetail),
        (status = 409, description = "Duplicate email or username", body = ErrorDetail),
        (status = 422, description = "Invalid body", body = ValidationErrorBody),
    )
)]
pub async fn update_me(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidJson(body): ValidJson<UserUpdateMe>,
) -> Result<Json<UserPublic>, ApiError> {
    let me = current.0;
    let new_email = body
        .email
        .as_deref()
        .map(normalize_email)
        .filter(|email| *email != me.email);
    if new_email.is_some() || body.password.is_some() {
        let Some(current_password) = body.current_password.as_deref() else {
            return Err(ApiError::invalid(FieldError::body(
                "current_password",
                "The current password is required to change the email or the password",
                "conditionally_required",
            )));
        };
        if !state
            .passwords
            .verify(current_password, Some(&me.hashed_password))
            .await
        {
            return Err(ApiError::BadRequest("Incorrect password".into()));
        }
    }
    let password_changed = body.password.is_some();
    let mut model = me.clone().into_active_model();
    if let Some(email) = new_email {
        model.email = Set(email);
    }
    if let Some(username) = &body.username {
        model.username = Set(clean(username.as_deref()).map(|u| u.to_lowercase()));
    }
    if let Some(full_name) = &body.full_name {
        model.full_name = Set(clean(full_name.as_deref()));
    }
    if let Some(address) = &body.address {
        model.address = Set(clean(address.as_deref()));
    }
    if let Some(password) = &body.password {
        model.hashed_password = Set(state.passwords.hash(password).await);
    }
    let updated = crud::update(&state.db, model).await?;
    if password_changed {
        crud::refresh_tokens::revoke_all_for_user(&state.db, updated.id).await?;
    }
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
        (status = 401, description = "Could not validate credentials", body = ErrorDetail),
        (status = 404, description = "User not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Bad id", body = ValidationErrorBody),
    )
)]
pub async fn read_user(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<Json<UserPublic>, ApiError> {
    Ok(Json(visible_user(&state, &current, id).await?.into()))
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
        (status = 401, description = "Could not validate credentials", body = ErrorDetail),
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
    let target = visible_user(&state, &current, id).await?;
    current.require(Permission::UsersWrite)?;
    check_may_manage(&current, &target)?;

    let role = body.role.unwrap_or(target.role);
    let status = body.status.unwrap_or(target.status);
    let organization_id = body.organization_id.unwrap_or(target.organization_id);
    if target.id == current.id()
        && (role != target.role
            || status != target.status
            || organization_id != target.organization_id)
    {
        // Nobody raises their own role, changes their own status or moves themselves.
        return Err(ApiError::Forbidden);
    }
    if current.role() != Role::Admin {
        if role != target.role && !vendor_may_assign(role) {
            return Err(ApiError::Forbidden);
        }
        if organization_id != target.organization_id {
            return Err(organization_not_found());
        }
    }
    if organization_id != target.organization_id || role != target.role {
        check_organization(&state, &current, role, organization_id).await?;
    }
    let kind = body.kind.unwrap_or(target.kind);
    let fiscal_code = match &body.fiscal_code {
        Some(code) => normalize_fiscal_code(kind, code.as_deref())?,
        None if kind != target.kind => normalize_fiscal_code(kind, target.fiscal_code.as_deref())?,
        None => target.fiscal_code.clone(),
    };
    let password_hash = match &body.password {
        Some(password) => Some(state.passwords.hash(password).await),
        None => None,
    };

    let mut model = target.clone().into_active_model();
    if let Some(email) = &body.email {
        model.email = Set(normalize_email(email));
    }
    if let Some(username) = &body.username {
        model.username = Set(clean(username.as_deref()).map(|u| u.to_lowercase()));
    }
    if let Some(full_name) = &body.full_name {
        model.full_name = Set(clean(full_name.as_deref()));
    }
    if let Some(address) = &body.address {
        model.address = Set(clean(address.as_deref()));
    }
    if let Some(user_type) = body.user_type {
        model.user_type = Set(user_type);
    }
    if let Some(hash) = password_hash {
        model.hashed_password = Set(hash);
    }
    model.kind = Set(kind);
    model.fiscal_code = Set(fiscal_code);
    model.role = Set(role);
    model.status = Set(status);
    model.organization_id = Set(organization_id);

    let updated = save_guarding_last_admin(&state, &target, model).await?;
    if updated.status != UserStatus::Active || body.password.is_some() {
        crud::refresh_tokens::revoke_all_for_user(&state.db, updated.id).await?;
    }
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
        (status = 401, description = "Could not validate credentials", body = ErrorDetail),
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
    let target = visible_user(&state, &current, id).await?;
    current.require(Permission::UsersWrite)?;
    check_may_manage(&current, &target)?;
    if target.id == current.id() {
        // As FastAPI's template refuses it to superusers: nobody locks themselves out.
        return Err(ApiError::ForbiddenBecause(
            "You cannot deactivate your own account: ask an admin".into(),
        ));
    }
    if target.status != UserStatus::Inactive {
        let mut model = target.clone().into_active_model();
        model.status = Set(UserStatus::Inactive);
        save_guarding_last_admin(&state, &target, model).await?;
    }
    crud::refresh_tokens::revoke_all_for_user(&state.db, target.id).await?;
    tracing::info!(user_id = target.id, by = current.id(), "user deactivated");
    Ok(StatusCode::NO_CONTENT)
}

async fn visible_user(
    state: &AppState,
    current: &CurrentUser,
    id: i32,
) -> Result<user::Model, ApiError> {
    crud::users::find_in_scope(&state.db, current.user_scope(), id)
        .await?
        .ok_or_else(|| ApiError::not_found(USER))
}

/// Vendors manage the referents and users of their organization, and themselves; not other
/// vendors nor admins.
fn check_may_manage(current: &CurrentUser, target: &user::Model) -> Result<(), ApiError> {
    if current.role() == Role::Admin || target.id == current.id() || vendor_may_assign(target.role)
    {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

/// Saves a change to `target`; if it takes away the last active admin, answers 409 instead.
async fn save_guarding_last_admin(
    state: &AppState,
    target: &user::Model,
    model: user::ActiveModel,
) -> Result<user::Model, ApiError> {
    let still_active_admin = matches!(
        model.role,
        ActiveValue::Set(Role::Admin) | ActiveValue::Unchanged(Role::Admin)
    ) && matches!(
        model.status,
        ActiveValue::Set(UserStatus::Active) | ActiveValue::Unchanged(UserStatus::Active)
    );
    let removes_an_admin = target.role == Role::Admin && target.is_active() && !still_active_admin;
    if !removes_an_admin {
        return Ok(crud::update(&state.db, model).await?);
    }
    let txn = state.db.begin().await?;
    crud::users::lock_admin_changes(&txn).await?;
    if crud::users::count_active_admins(&txn).await? <= 1 {
        return Err(ApiError::Conflict(
            "The last active admin cannot be deactivated or demoted".into(),
        ));
    }
    let updated = crud::update(&txn, model).await?;
    txn.commit().await?;
    Ok(updated)
}

/// The organization must exist (and, for non-admins, be the caller's); vendors need one.
async fn check_organization(
    state: &AppState,
    current: &CurrentUser,
    role: Role,
    organization_id: Option<i32>,
) -> Result<(), ApiError> {
    match organization_id {
        Some(id) => {
            crud::organizations::find_in_scope(&state.db, current.organization_scope(), id)
                .await?
                .ok_or_else(organization_not_found)?;
        }
        None if role == Role::Vendor => {
            return Err(ApiError::invalid(FieldError::body(
                "organization_id",
                "A vendor must belong to an organization",
                "conditionally_required",
            )));
        }
        None => {}
    }
    Ok(())
}

fn organization_not_found() -> ApiError {
    ApiError::invalid(FieldError::body(
        "organization_id",
        "Organization not found",
        "not_found",
    ))
}

fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

fn normalize_fiscal_code(kind: UserKind, code: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(code) = clean(code) else {
        return Ok(None);
    };
    let taxpayer = match kind {
        UserKind::Person => TaxpayerKind::Person,
        UserKind::Company => TaxpayerKind::Company,
    };
    parse_tax_code(taxpayer, &code).map(Some).map_err(|error| {
        let what = match kind {
            UserKind::Person => "codice fiscale",
            UserKind::Company => "partita IVA",
        };
        ApiError::invalid(FieldError::body(
            "fiscal_code",
            format!("Invalid {what}: {error}"),
            "fiscal_code",
        ))
    })
}
