use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::common::{MAX_LIMIT, MAX_SKIP, default_limit};
use crate::models::audit_event;

#[derive(Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditListParams {
    /// How many events to leave out before the page (0 to 10^12); events are oldest first.
    #[serde(default)]
    #[validate(range(max = MAX_SKIP))]
    #[param(minimum = 0, maximum = 1_000_000_000_000_u64)]
    pub skip: u64,
    /// Page size, 1 to 1000.
    #[serde(default = "default_limit")]
    #[validate(range(min = 1, max = MAX_LIMIT))]
    #[param(minimum = 1, maximum = 1000, default = 100)]
    pub limit: u64,
    /// One configuration's events.
    pub configuration_id: Option<i32>,
    /// One account's actions.
    pub actor_id: Option<i32>,
    /// One action, e.g. `user.signed_in`, `settlement.finalized`.
    #[validate(length(max = 64))]
    #[param(max_length = 64)]
    pub action: Option<String>,
    /// Events at or after this instant (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Events before this instant (RFC 3339).
    pub to: Option<DateTime<Utc>>,
}

/// One event of the audit trail.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct AuditEventPublic {
    pub id: i32,
    pub at: DateTime<Utc>,
    /// The account that acted (none for a failed sign-in of an unknown login).
    pub actor_id: Option<i32>,
    /// Its e-mail when it acted.
    pub actor: Option<String>,
    /// The client's address.
    pub address: Option<String>,
    /// What happened: `user.signed_in`, `user.sign_in_failed`, `user.sign_in_throttled`,
    /// `user.changed`, `user.deactivated`, `holder.iban_confirmed`, `holder.iban_rejected`,
    /// `holder.consent_given`, `holder.consent_withdrawn`, `settlement.finalized`,
    /// `payout.approved`, `payout.exported`, `readings.imported`, `readings.reverted`,
    /// `prices.imported`.
    pub action: String,
    pub object_type: String,
    pub object_id: Option<i64>,
    pub configuration_id: Option<i32>,
    /// What changed, as recorded.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

impl From<audit_event::Model> for AuditEventPublic {
    fn from(m: audit_event::Model) -> Self {
        AuditEventPublic {
            id: m.id,
            at: m.at,
            actor_id: m.actor_id,
            actor: m.actor,
            address: m.address,
            action: m.action,
            object_type: m.object_type,
            object_id: m.object_id,
            configuration_id: m.configuration_id,
            detail: serde_json::from_str(&m.detail).unwrap_or(serde_json::Value::Null),
        }
    }
}
