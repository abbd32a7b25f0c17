//! The mail outbox as an admin sees it: what was sent, what is waiting, what failed and why;
//! a failed message can be queued again once the cause is fixed.
use sea_orm::DatabaseConnection;

use super::{Actor, Outcome, ServiceError};
use crate::core::permissions::Permission;
use crate::crud;
use crate::mail::Mailer;
use crate::models::enums::MailStatus;
use crate::models::mail_outbox;

pub async fn list(
    actor: &Actor,
    db: &DatabaseConnection,
    status: Option<MailStatus>,
    skip: u64,
    limit: u64,
) -> Outcome<(Vec<mail_outbox::Model>, u64)> {
    actor.require(Permission::MailOutbox)?;
    Ok(crud::outbox::list(db, status, skip, limit).await?)
}

/// Queues a failed message again, due now, with a fresh count of attempts.
pub async fn requeue(
    actor: &Actor,
    db: &DatabaseConnection,
    mailer: &Mailer,
    id: i32,
) -> Outcome<mail_outbox::Model> {
    actor.require(Permission::MailOutbox)?;
    let message = crud::outbox::find(db, id)
        .await?
        .ok_or(ServiceError::NotFound("Message"))?;
    if message.status != MailStatus::Failed {
        return Err(ServiceError::conflict(format!(
            "Only a failed message can be queued again; this one is {}",
            message.status.as_str()
        )));
    }
    crud::outbox::requeue(db, id).await?;
    mailer.wake();
    crud::outbox::find(db, id)
        .await?
        .ok_or(ServiceError::NotFound("Message"))
}
