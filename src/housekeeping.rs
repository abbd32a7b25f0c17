//! Personal data kept no longer than it is needed (GDPR art. 5(1)(e)): every instance sweeps
//! once an hour — the deletes are idempotent, so several instances sweeping at once is fine.
//!
//! - delivered mail older than `MAIL_RETENTION_DAYS` (its text names the person; failed and
//!   pending mail stays for the admins);
//! - single-use links expired more than a week ago (they can no longer be used; the week keeps
//!   "this link has expired" answerable);
//! - join requests never confirmed, 30 days after they came (their 48-hour link is long dead,
//!   and the address may not even be the sender's);
//! - browser sessions a week after they ended (expired or signed out).
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use tokio::sync::watch;

use crate::models::enums::{JoinRequestStatus, MailStatus};
use crate::models::{join_request, mail_outbox, one_time_token};

/// How long each kind of record is kept.
#[derive(Clone, Copy, Debug)]
pub struct Retention {
    pub sent_mail: chrono::Duration,
    pub expired_links: chrono::Duration,
    pub unconfirmed_join_requests: chrono::Duration,
}

impl Retention {
    pub fn of(settings: &crate::core::config::Settings) -> Retention {
        Retention {
            sent_mail: chrono::Duration::days(i64::from(settings.mail_retention_days)),
            expired_links: chrono::Duration::days(7),
            unconfirmed_join_requests: chrono::Duration::days(30),
        }
    }
}

/// What one sweep deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    pub sent_mail: u64,
    pub expired_links: u64,
    pub unconfirmed_join_requests: u64,
    pub ended_sessions: u64,
}

pub async fn sweep(
    db: &impl ConnectionTrait,
    retention: &Retention,
    now: DateTime<Utc>,
) -> Result<Swept, DbErr> {
    let sent_mail = mail_outbox::Entity::delete_many()
        .filter(mail_outbox::Column::Status.eq(MailStatus::Sent))
        .filter(mail_outbox::Column::SentAt.lt(now - retention.sent_mail))
        .exec(db)
        .await?
        .rows_affected;
    let expired_links = one_time_token::Entity::delete_many()
        .filter(one_time_token::Column::ExpiresAt.lt(now - retention.expired_links))
        .exec(db)
        .await?
        .rows_affected;
    let unconfirmed_join_requests = join_request::Entity::delete_many()
        .filter(join_request::Column::Status.eq(JoinRequestStatus::Unverified))
        .filter(join_request::Column::CreatedAt.lt(now - retention.unconfirmed_join_requests))
        .exec(db)
        .await?
        .rows_affected;
    let ended_sessions =
        crate::crud::web_sessions::delete_ended(db, now - retention.expired_links).await?;
    Ok(Swept {
        sent_mail,
        expired_links,
        unconfirmed_join_requests,
        ended_sessions,
    })
}

/// Sweeps now and then every hour until `stop` turns true.
pub async fn run(
    db: sea_orm::DatabaseConnection,
    retention: Retention,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        match sweep(&db, &retention, Utc::now()).await {
            Ok(swept) if swept != Swept::default() => tracing::info!(?swept, "housekeeping"),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "housekeeping failed; next try in an hour"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            return;
        }
    }
}
