//! The community's registry of people, who may not have an account yet.
use sea_orm::{DatabaseConnection, IntoActiveModel, Set};

use super::{Actor, Outcome, ServiceError};
use crate::core::permissions::Permission;
use crate::crud;
use crate::crud::scope::CommunityScope;
use crate::models::community_user;
use crate::models::enums::{CommunityUserRole, CommunityUserStatus};
use crate::schemas::common::clean;
use crate::schemas::community_user::{
    CommunityUserCreate, CommunityUserListParams, CommunityUserUpdate, EmailCheck,
};

pub async fn list(
    actor: &Actor,
    db: &DatabaseConnection,
    params: &CommunityUserListParams,
) -> Outcome<(Vec<community_user::Model>, u64)> {
    actor.require(Permission::CommunityUsersRead)?;
    Ok(crud::community_users::list(db, actor.community_scope(), params).await?)
}

/// Whether a person with this email is in the actor's registry.
pub async fn check_email(
    actor: &Actor,
    db: &DatabaseConnection,
    email: &str,
) -> Outcome<EmailCheck> {
    actor.require(Permission::CommunityUsersRead)?;
    let found =
        crud::community_users::find_by_email_in_scope(db, actor.community_scope(), email).await?;
    Ok(EmailCheck {
        exists: found.is_some(),
        id: found.map(|row| row.id),
    })
}

/// A registry entry in the actor's scope; any other is "not found".
pub async fn visible(
    actor: &Actor,
    db: &DatabaseConnection,
    id: i32,
) -> Outcome<community_user::Model> {
    actor.require(Permission::CommunityUsersRead)?;
    crud::community_users::find_in_scope(db, actor.community_scope(), id)
        .await?
        .ok_or(ServiceError::NotFound("Community user"))
}

pub async fn create(
    actor: &Actor,
    db: &DatabaseConnection,
    input: CommunityUserCreate,
) -> Outcome<community_user::Model> {
    actor.require(Permission::CommunityUsersWrite)?;
    let organization_id = writable_organization(actor, db, input.organization_id).await?;
    check_linked_user(db, organization_id, input.user_id).await?;
    let model = community_user::ActiveModel {
        organization_id: Set(organization_id),
        email: Set(input.email.to_lowercase()),
        full_name: Set(clean(input.full_name.as_deref())),
        role: Set(input.role.unwrap_or(CommunityUserRole::Member)),
        status: Set(input.status.unwrap_or(CommunityUserStatus::Active)),
        user_id: Set(input.user_id),
        ..Default::default()
    };
    Ok(crud::insert(db, model).await?)
}

pub async fn update(
    actor: &Actor,
    db: &DatabaseConnection,
    id: i32,
    input: CommunityUserUpdate,
) -> Outcome<community_user::Model> {
    let existing = visible(actor, db, id).await?;
    actor.require(Permission::CommunityUsersWrite)?;
    if let Some(user_id) = input.user_id {
        check_linked_user(db, existing.organization_id, user_id).await?;
    }
    let mut model = existing.into_active_model();
    if let Some(email) = &input.email {
        model.email = Set(email.to_lowercase());
    }
    if let Some(full_name) = &input.full_name {
        model.full_name = Set(clean(full_name.as_deref()));
    }
    if let Some(role) = input.role {
        model.role = Set(role);
    }
    if let Some(status) = input.status {
        model.status = Set(status);
    }
    if let Some(user_id) = input.user_id {
        model.user_id = Set(user_id);
    }
    Ok(crud::update(db, model).await?)
}

/// The organization a new registry entry goes to, by the actor's scope: any (it must be
/// named) for who sees all; its own for an organization's vendor; for a referent, the one of
/// its configurations (it must say which if it runs configurations in several).
pub(super) async fn writable_organization(
    actor: &Actor,
    db: &DatabaseConnection,
    requested: Option<i32>,
) -> Outcome<i32> {
    let not_found =
        || ServiceError::invalid("organization_id", "Organization not found", "not_found");
    match actor.community_scope() {
        CommunityScope::All => {
            let id = requested.ok_or_else(|| {
                ServiceError::invalid("organization_id", "Field required", "missing")
            })?;
            crud::organizations::find_in_scope(db, actor.organization_scope(), id)
                .await?
                .ok_or_else(not_found)?;
            Ok(id)
        }
        CommunityScope::Organization(own) => match requested {
            Some(id) if id != own => Err(not_found()),
            _ => Ok(own),
        },
        CommunityScope::Referent(referent_id) => {
            let organizations =
                crud::configurations::organizations_of_referent(db, referent_id).await?;
            match (requested, organizations.as_slice()) {
                (Some(id), _) if organizations.contains(&id) => Ok(id),
                (Some(_), _) | (None, []) => Err(not_found()),
                (None, [only]) => Ok(*only),
                (None, _) => Err(ServiceError::invalid(
                    "organization_id",
                    "You run configurations in several organizations: say which",
                    "conditionally_required",
                )),
            }
        }
        CommunityScope::Nobody | CommunityScope::MemberUser(_) => Err(ServiceError::Forbidden),
    }
}

pub(super) async fn check_linked_user(
    db: &DatabaseConnection,
    organization_id: i32,
    user_id: Option<i32>,
) -> Outcome<()> {
    let Some(user_id) = user_id else {
        return Ok(());
    };
    let same_organization = crud::users::find(db, user_id)
        .await?
        .is_some_and(|user| user.organization_id == Some(organization_id));
    if same_organization {
        Ok(())
    } else {
        Err(ServiceError::invalid(
            "user_id",
            "User not found in the organization",
            "not_found",
        ))
    }
}
