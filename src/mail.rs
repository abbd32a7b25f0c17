//! E-mail: messages are queued in the database (`mail_outbox`) by the use case that causes
//! them, in its own transaction, and delivered over SMTP by a worker that every server
//! instance runs. A request never waits on SMTP; a message survives SMTP being down (retried
//! with doubling waits, then marked failed for an admin to see and requeue); several instances
//! never send one message twice at once (each claims a message for a lease before sending).
//! Delivery is at least once: a worker that dies between the SMTP server's "accepted" and
//! marking the row sent leaves a message that is sent again when its lease runs out.
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use tokio::sync::{Notify, watch};

use crate::core::config::Settings;
use crate::crud;
use crate::domain::mail::{MailTemplate, render};
use crate::models::enums::Language;
use crate::models::mail_outbox;

/// How long a worker owns a claimed message; longer than an SMTP exchange can take.
const LEASE: Duration = Duration::from_secs(120);
/// The SMTP exchange's own time limit.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);
/// Messages claimed at once.
const BATCH: u64 = 20;

/// What a use case needs to send mail: queue it, and wake this instance's worker.
#[derive(Clone, Default)]
pub struct Mailer {
    wake: Arc<Notify>,
}

impl Mailer {
    pub fn new() -> Mailer {
        Mailer::default()
    }

    /// Renders `template` and queues it for `recipient` on `db` (a transaction, to queue with
    /// the change that causes the message). Call [`Mailer::wake`] once it is committed.
    pub async fn queue(
        &self,
        db: &impl ConnectionTrait,
        recipient: &str,
        language: Language,
        template: MailTemplate,
        context: serde_json::Value,
    ) -> anyhow::Result<mail_outbox::Model> {
        self.queue_with(db, recipient, language, template, context, None)
            .await
    }

    /// [`Mailer::queue`] with a file attached (a PDF statement).
    pub async fn queue_with(
        &self,
        db: &impl ConnectionTrait,
        recipient: &str,
        language: Language,
        template: MailTemplate,
        context: serde_json::Value,
        attachment: Option<crud::outbox::Attachment>,
    ) -> anyhow::Result<mail_outbox::Model> {
        let mail = render(template, language, &context)?;
        let row = crud::outbox::enqueue(
            db,
            recipient,
            language,
            template.name(),
            &mail.subject,
            &mail.body,
            attachment,
        )
        .await?;
        tracing::info!(
            outbox_id = row.id,
            template = template.name(),
            "mail queued"
        );
        Ok(row)
    }

    /// Tells this instance's worker that a message is waiting (others find it by polling).
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// `SMTP_URL` as lettre reads it (checked at start, nothing connects).
pub fn check_smtp_url(url: &str) -> Result<(), String> {
    AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
        .map(|_| ())
        .map_err(|error| format!("not an smtp:// or smtps:// URL lettre accepts: {error}"))
}

/// `MAIL_FROM` as an address with an optional display name.
pub fn check_mailbox(value: &str) -> Result<(), String> {
    Mailbox::from_str(value)
        .map(|_| ())
        .map_err(|error| format!("`{value}` is not an e-mail address: {error}"))
}

/// The doubling wait after `attempts` failed attempts: 30 s, 1 min, 2 min … up to 1 h.
pub fn backoff(attempts: i32) -> chrono::Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(7);
    (chrono::Duration::seconds(30) * 2i32.pow(doublings)).min(chrono::Duration::hours(1))
}

/// The delivery loop of one instance.
pub struct Postman {
    db: DatabaseConnection,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    poll: Duration,
    max_attempts: i32,
    wake: Arc<Notify>,
}

impl Postman {
    /// `None` without `SMTP_URL`: messages then stay in the outbox, and the log says so.
    pub fn new(db: DatabaseConnection, settings: &Settings, mailer: &Mailer) -> Option<Postman> {
        let Some(url) = settings.smtp_url.as_deref() else {
            tracing::warn!(
                "SMTP_URL is not set: e-mail is kept in the outbox, not sent \
                 (GET /api/v1/mail/outbox lists it)"
            );
            return None;
        };
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .expect("SMTP_URL was checked when the settings were loaded")
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        let from = settings
            .mail_from
            .as_deref()
            .and_then(|from| Mailbox::from_str(from).ok())
            .expect("MAIL_FROM was checked when the settings were loaded");
        Some(Postman {
            db,
            transport,
            from,
            poll: settings.mail_poll_interval,
            max_attempts: i32::try_from(settings.mail_max_attempts).unwrap_or(i32::MAX),
            wake: mailer.wake.clone(),
        })
    }

    /// Delivers due messages until `stop` turns true: after each pass it waits for a wake-up
    /// from this instance or the poll interval (messages queued by other instances, retries).
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        tracing::info!("mail worker started");
        loop {
            if *stop.borrow() {
                break;
            }
            if let Err(error) = self.deliver_due(&stop).await {
                tracing::warn!(%error, "mail worker: reading the outbox failed");
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(self.poll) => {}
                _ = stop.changed() => {}
            }
        }
        tracing::info!("mail worker stopped");
    }

    async fn deliver_due(&self, stop: &watch::Receiver<bool>) -> Result<(), sea_orm::DbErr> {
        loop {
            let now = Utc::now();
            let lease = chrono::Duration::from_std(LEASE).expect("a short lease");
            let batch = crud::outbox::claim_due(&self.db, now, now + lease, BATCH).await?;
            if batch.is_empty() {
                return Ok(());
            }
            for message in batch {
                if *stop.borrow() {
                    // Unsent claims go back at their lease's end.
                    return Ok(());
                }
                self.deliver(message).await?;
            }
        }
    }

    async fn deliver(&self, message: mail_outbox::Model) -> Result<(), sea_orm::DbErr> {
        match self.send(&message).await {
            Ok(()) => {
                crud::outbox::mark_sent(&self.db, message.id, Utc::now()).await?;
                tracing::info!(outbox_id = message.id, template = %message.template, "mail sent");
            }
            Err(failure) => {
                let last = failure.permanent || message.attempts >= self.max_attempts;
                let next = (!last).then(|| Utc::now() + backoff(message.attempts));
                tracing::warn!(
                    outbox_id = message.id,
                    attempts = message.attempts,
                    error = %failure.reason,
                    gave_up = last,
                    "mail not delivered"
                );
                crud::outbox::mark_attempt_failed(&self.db, message.id, &failure.reason, next)
                    .await?;
            }
        }
        Ok(())
    }

    async fn send(&self, message: &mail_outbox::Model) -> Result<(), Failure> {
        let to = Mailbox::from_str(&message.recipient).map_err(|error| Failure {
            reason: format!("the recipient is not an e-mail address: {error}"),
            permanent: true,
        })?;
        let builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(message.subject.clone());
        let built = match (&message.attachment_name, &message.attachment) {
            (Some(name), Some(bytes)) => {
                let kind = if name.ends_with(".pdf") {
                    "application/pdf"
                } else {
                    "application/octet-stream"
                };
                let content_type = ContentType::parse(kind).map_err(|error| Failure {
                    reason: format!("the attachment's type cannot be written: {error}"),
                    permanent: true,
                })?;
                builder.multipart(
                    MultiPart::mixed()
                        .singlepart(SinglePart::plain(message.body.clone()))
                        .singlepart(
                            Attachment::new(name.clone()).body(bytes.clone(), content_type),
                        ),
                )
            }
            _ => builder
                .header(ContentType::TEXT_PLAIN)
                .body(message.body.clone()),
        };
        let email = built.map_err(|error| Failure {
            reason: format!("the message cannot be built: {error}"),
            permanent: true,
        })?;
        self.transport
            .send(email)
            .await
            .map(|_| ())
            .map_err(|error| Failure {
                permanent: error.is_permanent(),
                reason: error.to_string(),
            })
    }
}

struct Failure {
    reason: String,
    permanent: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_from_thirty_seconds_up_to_an_hour() {
        assert_eq!(backoff(1), chrono::Duration::seconds(30));
        assert_eq!(backoff(2), chrono::Duration::seconds(60));
        assert_eq!(backoff(4), chrono::Duration::seconds(240));
        assert_eq!(backoff(8), chrono::Duration::hours(1));
        assert_eq!(backoff(80), chrono::Duration::hours(1));
    }

    #[test]
    fn settings_are_checked_without_connecting() {
        assert!(check_smtp_url("smtp://127.0.0.1:2525").is_ok());
        assert!(check_smtp_url("smtps://user:pass@mail.example.org").is_ok());
        assert!(check_smtp_url("smtp://mail.example.org:587?tls=required").is_ok());
        assert!(check_smtp_url("mail.example.org").is_err());
        assert!(check_mailbox("CER Sole <noreply@example.org>").is_ok());
        assert!(check_mailbox("noreply").is_err());
    }
}
