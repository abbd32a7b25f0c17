//! User accounts: who may create and change which, under the role rules of the permission
//! table and the actor's scope. Deactivation keeps the account (the ledger names it) and ends
//! its sessions; the last active admin stays.
use sea_orm::{ActiveValue, DatabaseConnection, IntoActiveModel, Set, TransactionTrait};

use super::{Actor, Claimed, Outcome, ServiceError};
use crate::core::permissions::Permission;
use crate::core::security::PasswordService;
use crate::crud;
use crate::domain::tax_codes::{TaxpayerKind, parse_tax_code};
use crate::models::enums::{Role, UserKind, UserStatus};
use crate::models::user;
use crate::schemas::common::clean;
use crate::schemas::user::{UserCreate, UserListParams, UserUpdate, UserUpdateMe};

pub async fn list(
    actor: &Actor,
    db: &DatabaseConnection,
    params: &UserListParams,
) -> Outcome<(Vec<user::Model>, u64)> {
    actor.require(Permission::UsersRead)?;
    Ok(crud::users::list(db, actor.user_scope(), params).await?)
}

/// [`list`] on an access token's claim, checked in the list's own statement. `None`: a role
/// that may not read, or an empty answer (the claim may no longer hold) — load the user and call
/// [`list`].
pub async fn list_claimed(
    claimed: &Claimed,
    db: &DatabaseConnection,
    params: &UserListParams,
) -> Outcome<Option<(Vec<user::Model>, u64)>> {
    let Some((actor, guard)) = claimed.permitted(Permission::UsersRead) else {
        return Ok(None);
    };
    Ok(crud::users::list_if(db, actor.user_scope(), guard, params).await?)
}

/// An account in the actor's scope; any other is "not found".
pub async fn visible(actor: &Actor, db: &DatabaseConnection, id: i32) -> Outcome<user::Model> {
    crud::users::find_in_scope(db, actor.user_scope(), id)
        .await?
        .ok_or(ServiceError::NotFound("User"))
}

/// Creates an account; vendors create only referents and users, in their organization.
pub async fn create(
    actor: &Actor,
    db: &DatabaseConnection,
    passwords: &PasswordService,
    input: UserCreate,
) -> Outcome<user::Model> {
    actor.require(Permission::UsersWrite)?;
    if !actor.may_assign(input.role) {
        return Err(ServiceError::Forbidden);
    }
    let organization_id = if actor.may(Permission::AnyOrganization) {
        input.organization_id
    } else {
        if input.organization_id.is_some() && input.organization_id != actor.organization_id {
            return Err(organization_not_found());
        }
        actor.organization_id
    };
    check_organization(actor, db, input.role, organization_id).await?;
    let user = user::ActiveModel {
        email: Set(normalize_email(&input.email)),
        username: Set(clean(input.username.as_deref()).map(|u| u.to_lowercase())),
        full_name: Set(clean(input.full_name.as_deref())),
        fiscal_code: Set(normalize_fiscal_code(
            input.kind,
            input.fiscal_code.as_deref(),
        )?),
        kind: Set(input.kind),
        user_type: Set(input.user_type),
        address: Set(clean(input.address.as_deref())),
        role: Set(input.role),
        status: Set(input.status),
        hashed_password: Set(passwords.hash(&input.password).await),
        organization_id: Set(organization_id),
        ..Default::default()
    };
    let created = crud::insert(db, user).await?;
    tracing::info!(user_id = created.id, by = actor.user_id, "user created");
    Ok(created)
}

/// Changes one's own profile: a new email or password needs the current password, and a new
/// password ends the other sessions.
pub async fn update_me(
    db: &DatabaseConnection,
    passwords: &PasswordService,
    me: user::Model,
    input: UserUpdateMe,
) -> Outcome<user::Model> {
    let new_email = input
        .email
        .as_deref()
        .map(normalize_email)
        .filter(|email| *email != me.email);
    if new_email.is_some() || input.password.is_some() {
        let Some(current_password) = input.current_password.as_deref() else {
            return Err(ServiceError::invalid(
                "current_password",
                "The current password is required to change the email or the password",
                "conditionally_required",
            ));
        };
        if !passwords
            .verify(current_password, Some(&me.hashed_password))
            .await
        {
            return Err(ServiceError::IncorrectPassword);
        }
    }
    let password_changed = input.password.is_some();
    let mut model = me.clone().into_active_model();
    if let Some(email) = new_email {
        model.email = Set(email);
    }
    set_profile(
        &mut model,
        &input.username,
        &input.full_name,
        &input.address,
    );
    if let Some(password) = &input.password {
        model.hashed_password = Set(passwords.hash(password).await);
    }
    let updated = crud::update(db, model).await?;
    if password_changed {
        super::sessions::sign_out_everywhere(db, updated.id).await?;
    }
    Ok(updated)
}

pub async fn update(
    actor: &Actor,
    db: &DatabaseConnection,
    passwords: &PasswordService,
    id: i32,
    input: UserUpdate,
) -> Outcome<user::Model> {
    let target = visible(actor, db, id).await?;
    actor.require(Permission::UsersWrite)?;
    check_may_manage(actor, &target)?;

    let role = input.role.unwrap_or(target.role);
    let status = input.status.unwrap_or(target.status);
    let organization_id = input.organization_id.unwrap_or(target.organization_id);
    if target.id == actor.user_id
        && (role != target.role
            || status != target.status
            || organization_id != target.organization_id)
    {
        // Nobody raises their own role, changes their own status or moves themselves.
        return Err(ServiceError::Forbidden);
    }
    if role != target.role && !actor.may_assign(role) {
        return Err(ServiceError::Forbidden);
    }
    if organization_id != target.organization_id && !actor.may(Permission::AnyOrganization) {
        return Err(organization_not_found());
    }
    if organization_id != target.organization_id || role != target.role {
        check_organization(actor, db, role, organization_id).await?;
    }
    let kind = input.kind.unwrap_or(target.kind);
    let fiscal_code = match &input.fiscal_code {
        Some(code) => normalize_fiscal_code(kind, code.as_deref())?,
        None if kind != target.kind => normalize_fiscal_code(kind, target.fiscal_code.as_deref())?,
        None => target.fiscal_code.clone(),
    };
    let password_hash = match &input.password {
        Some(password) => Some(passwords.hash(password).await),
        None => None,
    };

    let mut model = target.clone().into_active_model();
    if let Some(email) = &input.email {
        model.email = Set(normalize_email(email));
    }
    set_profile(
        &mut model,
        &input.username,
        &input.full_name,
        &input.address,
    );
    if let Some(user_type) = input.user_type {
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

    let updated = save_guarding_last_admin(db, &target, model).await?;
    if updated.status != UserStatus::Active || input.password.is_some() {
        super::sessions::sign_out_everywhere(db, updated.id).await?;
    }
    // Role, status, organization and password are what an attacker would change.
    let mut changed = serde_json::Map::new();
    if updated.role != target.role {
        changed.insert(
            "role".into(),
            serde_json::json!([target.role.as_str(), updated.role.as_str()]),
        );
    }
    if updated.status != target.status {
        changed.insert(
            "status".into(),
            serde_json::json!([target.status.as_str(), updated.status.as_str()]),
        );
    }
    if updated.organization_id != target.organization_id {
        changed.insert(
            "organization_id".into(),
            serde_json::json!([target.organization_id, updated.organization_id]),
        );
    }
    if input.password.is_some() {
        changed.insert("password".into(), serde_json::json!("changed"));
    }
    if !changed.is_empty() {
        actor
            .audit(
                db,
                "user.changed",
                ("user", Some(i64::from(updated.id))),
                None,
                changed.into(),
            )
            .await?;
    }
    Ok(updated)
}

/// Deactivates an account and revokes its sessions; nobody deactivates themselves.
pub async fn deactivate(actor: &Actor, db: &DatabaseConnection, id: i32) -> Outcome<()> {
    let target = visible(actor, db, id).await?;
    actor.require(Permission::UsersWrite)?;
    check_may_manage(actor, &target)?;
    if target.id == actor.user_id {
        // As FastAPI's template refuses it to superusers: nobody locks themselves out.
        return Err(ServiceError::ForbiddenBecause(
            "You cannot deactivate your own account: ask an admin".into(),
        ));
    }
    if target.status != UserStatus::Inactive {
        let mut model = target.clone().into_active_model();
        model.status = Set(UserStatus::Inactive);
        save_guarding_last_admin(db, &target, model).await?;
    }
    super::sessions::sign_out_everywhere(db, target.id).await?;
    actor
        .audit(
            db,
            "user.deactivated",
            ("user", Some(i64::from(target.id))),
            None,
            serde_json::json!({}),
        )
        .await?;
    tracing::info!(user_id = target.id, by = actor.user_id, "user deactivated");
    Ok(())
}

/// The profile fields both the account's owner and its managers change: each given one is
/// set (`null` clears it), the username lower-cased.
fn set_profile(
    model: &mut user::ActiveModel,
    username: &Option<Option<String>>,
    full_name: &Option<Option<String>>,
    address: &Option<Option<String>>,
) {
    if let Some(username) = username {
        model.username = Set(clean(username.as_deref()).map(|u| u.to_lowercase()));
    }
    if let Some(full_name) = full_name {
        model.full_name = Set(clean(full_name.as_deref()));
    }
    if let Some(address) = address {
        model.address = Set(clean(address.as_deref()));
    }
}

/// One manages oneself and the accounts whose role one may hand out (vendors: the referents
/// and users of their organization, not other vendors nor admins).
fn check_may_manage(actor: &Actor, target: &user::Model) -> Outcome<()> {
    if target.id == actor.user_id || actor.may_assign(target.role) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden)
    }
}

/// Saves a change to `target`; if it takes away the last active admin, answers 409 instead.
async fn save_guarding_last_admin(
    db: &DatabaseConnection,
    target: &user::Model,
    model: user::ActiveModel,
) -> Outcome<user::Model> {
    let still_active_admin = matches!(
        model.role,
        ActiveValue::Set(Role::Admin) | ActiveValue::Unchanged(Role::Admin)
    ) && matches!(
        model.status,
        ActiveValue::Set(UserStatus::Active) | ActiveValue::Unchanged(UserStatus::Active)
    );
    let removes_an_admin = target.role == Role::Admin && target.is_active() && !still_active_admin;
    if !removes_an_admin {
        return Ok(crud::update(db, model).await?);
    }
    let txn = db.begin().await?;
    crud::users::lock_admin_changes(&txn).await?;
    if crud::users::count_active_admins(&txn).await? <= 1 {
        return Err(ServiceError::conflict(
            "The last active admin cannot be deactivated or demoted",
        ));
    }
    let updated = crud::update(&txn, model).await?;
    txn.commit().await?;
    Ok(updated)
}

/// The organization must exist (and, for non-admins, be the caller's); vendors need one.
async fn check_organization(
    actor: &Actor,
    db: &DatabaseConnection,
    role: Role,
    organization_id: Option<i32>,
) -> Outcome<()> {
    match organization_id {
        Some(id) => {
            crud::organizations::find_in_scope(db, actor.organization_scope(), id)
                .await?
                .ok_or_else(organization_not_found)?;
        }
        None if role == Role::Vendor => {
            return Err(ServiceError::invalid(
                "organization_id",
                "A vendor must belong to an organization",
                "conditionally_required",
            ));
        }
        None => {}
    }
    Ok(())
}

fn organization_not_found() -> ServiceError {
    ServiceError::invalid("organization_id", "Organization not found", "not_found")
}

fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

fn normalize_fiscal_code(kind: UserKind, code: Option<&str>) -> Outcome<Option<String>> {
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
        ServiceError::invalid(
            "fiscal_code",
            format!("Invalid {what}: {error}"),
            "fiscal_code",
        )
    })
}
