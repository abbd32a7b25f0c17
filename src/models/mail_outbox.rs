use sea_orm::entity::prelude::*;

use super::enums::{Language, MailStatus};

/// A message to send: rendered when queued (so it says what was true then), delivered by the
/// outbox worker. `claimed_until` is the lease of the worker sending it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mail_outbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub recipient: String,
    pub language: Language,
    pub template: String,
    pub subject: String,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub status: MailStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub claimed_until: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
    /// A file sent with the message (a member's PDF statement).
    pub attachment_name: Option<String>,
    #[sea_orm(column_type = "Blob", nullable)]
    pub attachment: Option<Vec<u8>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
