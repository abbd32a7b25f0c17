//! The audit trail: appended with the change it records (in its transaction where the use
//! case has one), read by scope.
use chrono::Utc;
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Statement};

use super::scope::{self, CommunityScope};
use crate::models::audit_event::{Column, Entity, Model};
use crate::models::configuration;

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

/// Appends `event` in one statement; the actor's e-mail is copied as it is now (a login's
/// event costs one round trip, not a read and a write).
pub async fn record(db: &impl ConnectionTrait, event: AuditEvent) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        "INSERT INTO audit_events (at, actor_id, actor, address, action, object_type, object_id, \
         configuration_id, detail) \
         VALUES ($1, $2, (SELECT email FROM users WHERE id = $2), $3, $4, $5, $6, $7, $8)",
        [
            Utc::now().into(),
            event.actor_id.into(),
            event.address.map(|a| a.to_string()).into(),
            event.action.into(),
            event.object_type.into(),
            event.object_id.into(),
            event.configuration_id.into(),
            event.detail.to_string().into(),
        ],
    ))
    .await?;
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
