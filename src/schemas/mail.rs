use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::common::{MAX_LIMIT, MAX_SKIP, default_limit};
use crate::models::enums::{Language, MailStatus};
use crate::models::mail_outbox;

/// A message of the outbox.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct MailPublic {
    pub id: i32,
    pub recipient: String,
    pub language: Language,
    /// Which message it is (`password_reset`, `account_locked`, `join_verification`…).
    pub template: String,
    pub subject: String,
    pub body: String,
    pub status: MailStatus,
    /// Delivery attempts so far.
    pub attempts: i32,
    /// When the worker tries again (pending messages).
    pub next_attempt_at: DateTime<Utc>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// The name of the file sent with it (a PDF statement), if any.
    pub attachment_name: Option<String>,
}

impl From<mail_outbox::Model> for MailPublic {
    fn from(m: mail_outbox::Model) -> Self {
        MailPublic {
            id: m.id,
            recipient: m.recipient,
            language: m.language,
            template: m.template,
            subject: m.subject,
            body: m.body,
            status: m.status,
            attempts: m.attempts,
            next_attempt_at: m.next_attempt_at,
            last_error: m.last_error,
            created_at: m.created_at,
            sent_at: m.sent_at,
            attachment_name: m.attachment_name,
        }
    }
}

#[derive(Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MailListParams {
    /// How many items to leave out before the page (0 to 10^12).
    #[serde(default)]
    #[validate(range(max = MAX_SKIP))]
    #[param(minimum = 0, maximum = 1_000_000_000_000_u64)]
    pub skip: u64,
    /// Page size, 1 to 1000.
    #[serde(default = "default_limit")]
    #[validate(range(min = 1, max = MAX_LIMIT))]
    #[param(minimum = 1, maximum = 1000, default = 100)]
    pub limit: u64,
    pub status: Option<MailStatus>,
}
