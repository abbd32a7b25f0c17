//! The audit trail: appended with the change it records (in its transaction where the use
//! case has one), read by scope.
use chrono::Utc;
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use super::scope::{self, CommunityScope};
use crate::models::audit_event::{Column, Entity, Model};
use crate::models::{configuration, user};

/// What happened, to what.
#[derive(Clone, Debug)]
pub struct AuditEvent {
    pub actor_id: Option<i32>,
    pub address: Option<std::net::IpAddr>,
    pub action: &'static str,
    pub object_type: &'static str,
    pub object_id: Option<i64>,
    pub configuration_id: Option<i32>,
    pub detail: serde_json::Value,
}

/// Appends `event`; the actor's e-mail is copied as it is now.
pub async fn record(db: &impl ConnectionTrait, event: AuditEvent) -> Result<(), DbErr> {
    let actor = match event.actor_id {
        Some(id) => user::Entity::find_by_id(id).one(db).await?.map(|u| u.email),
        None => None,
    };
    let row = crate::models::audit_event::ActiveModel {
        id: sea_orm::ActiveValue::NotSet,
        at: sea_orm::ActiveValue::Set(Utc::now()),
        actor_id: sea_orm::ActiveValue::Set(event.actor_id),
        actor: sea_orm::ActiveValue::Set(actor),
        address: sea_orm::ActiveValue::Set(event.address.map(|a| a.to_string())),
        action: sea_orm::ActiveValue::Set(event.action.to_string()),
        object_type: sea_orm::ActiveValue::Set(event.object_type.to_string()),
        object_id: sea_orm::ActiveValue::Set(event.object_id),
        configuration_id: sea_orm::ActiveValue::Set(event.configuration_id),
        detail: sea_orm::ActiveValue::Set(event.detail.to_string()),
    };
    Entity::insert(row).exec_without_returning(db).await?;
    Ok(())
}

/// What a list asks for.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub configuration_id: Option<i32>,
    pub actor_id: Option<i32>,
    pub action: Option<String>,
    pub from: Option<chrono::DateTime<Utc>>,
    pub to: Option<chrono::DateTime<Utc>>,
}

/// The events `scope` may read, oldest first: an admin every event, others only those of the
/// configurations they see (an event without a configuration, a sign-in say, is the admins').
pub async fn list(
    db: &impl ConnectionTrait,
    scope: CommunityScope,
    filter: &AuditFilter,
    skip: u64,
    limit: u64,
) -> Result<(Vec<Model>, u64), DbErr> {
    let mut query = Entity::find();
    if !matches!(scope, CommunityScope::All) {
        query = query.filter(
            Column::ConfigurationId.in_subquery(
                Query::select()
                    .column(configuration::Column::Id)
                    .from(configuration::Entity)
                    .cond_where(scope::configurations(scope))
                    .to_owned(),
            ),
        );
    }
    if let Some(id) = filter.configuration_id {
        query = query.filter(Column::ConfigurationId.eq(id));
    }
    if let Some(id) = filter.actor_id {
        query = query.filter(Column::ActorId.eq(id));
    }
    if let Some(action) = &filter.action {
        query = query.filter(Column::Action.eq(action.as_str()));
    }
    if let Some(from) = filter.from {
        query = query.filter(Column::At.gte(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(Column::At.lt(to));
    }
    super::paginate(db, query, skip, limit).await
}
