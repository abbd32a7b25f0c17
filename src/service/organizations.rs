//! Organizations, the tenants: admins manage them; a vendor reads its own.
use sea_orm::{DatabaseConnection, IntoActiveModel, Set};

use super::{Actor, Outcome, ServiceError};
use crate::core::permissions::Permission;
use crate::crud;
use crate::models::organization;
use crate::schemas::common::clean;
use crate::schemas::organization::{
    OrganizationCreate, OrganizationListParams, OrganizationUpdate,
};

pub async fn list(
    actor: &Actor,
    db: &DatabaseConnection,
    params: &OrganizationListParams,
) -> Outcome<(Vec<organization::Model>, u64)> {
    actor.require(Permission::OrganizationsRead)?;
    Ok(crud::organizations::list(db, actor.organization_scope(), params).await?)
}

/// An organization in the actor's scope; any other is "not found".
pub async fn visible(
    actor: &Actor,
    db: &DatabaseConnection,
    id: i32,
) -> Outcome<organization::Model> {
    actor.require(Permission::OrganizationsRead)?;
    crud::organizations::find_in_scope(db, actor.organization_scope(), id)
        .await?
        .ok_or(ServiceError::NotFound("Organization"))
}

pub async fn create(
    actor: &Actor,
    db: &DatabaseConnection,
    input: OrganizationCreate,
) -> Outcome<organization::Model> {
    actor.require(Permission::OrganizationsWrite)?;
    let model = organization::ActiveModel {
        name: Set(input.name.trim().to_string()),
        description: Set(clean(input.description.as_deref())),
        is_active: Set(true),
        ..Default::default()
    };
    Ok(crud::insert(db, model).await?)
}

pub async fn update(
    actor: &Actor,
    db: &DatabaseConnection,
    id: i32,
    input: OrganizationUpdate,
) -> Outcome<organization::Model> {
    let existing = visible(actor, db, id).await?;
    actor.require(Permission::OrganizationsWrite)?;
    let mut model = existing.into_active_model();
    if let Some(name) = &input.name {
        model.name = Set(name.trim().to_string());
    }
    if let Some(description) = &input.description {
        model.description = Set(clean(description.as_deref()));
    }
    if let Some(is_active) = input.is_active {
        model.is_active = Set(is_active);
    }
    Ok(crud::update(db, model).await?)
}
