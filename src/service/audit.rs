//! Reading the audit trail: an admin all of it, a vendor or referent their configurations'
//! events; nobody edits it (the database refuses updates and deletes).
use sea_orm::DatabaseConnection;

use super::{Actor, Outcome};
use crate::core::permissions::Permission;
use crate::crud;
use crate::crud::audit::AuditFilter;
use crate::models::audit_event;
use crate::schemas::audit::AuditListParams;

pub async fn list(
    actor: &Actor,
    db: &DatabaseConnection,
    params: &AuditListParams,
) -> Outcome<(Vec<audit_event::Model>, u64)> {
    actor.require(Permission::AuditRead)?;
    if let Some(configuration_id) = params.configuration_id {
        super::configurations::visible(actor, db, configuration_id).await?;
    }
    let filter = AuditFilter {
        configuration_id: params.configuration_id,
        actor_id: params.actor_id,
        action: params.action.clone(),
        from: params.from,
        to: params.to,
    };
    Ok(crud::audit::list(
        db,
        actor.community_scope(),
        &filter,
        params.skip,
        params.limit,
    )
    .await?)
}
