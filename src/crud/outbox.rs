//! The mail outbox: queued with the change that causes the message, claimed by one worker for
//! a lease, marked sent or rescheduled.
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter,
    QueryOrder, Set, Statement,
};

use crate::models::enums::{Language, MailStatus};
use crate::models::mail_outbox::{ActiveModel, Column, Entity, Model};

/// A file sent with a message: its name and bytes (a PDF).
pub type Attachment = (String, Vec<u8>);

pub async fn enqueue(
    db: &impl ConnectionTrait,
    recipient: &str,
    language: Language,
    template: &str,
    subject: &str,
    body: &str,
    attachment: Option<Attachment>,
) -> Result<Model, DbErr> {
    let now = Utc::now();
    let (attachment_name, attachment) = attachment.unzip();
    ActiveModel {
        recipient: Set(recipient.to_string()),
        language: Set(language),
        template: Set(template.to_string()),
        subject: Set(subject.to_string()),
        body: Set(body.to_string()),
        status: Set(MailStatus::Pending),
        attempts: Set(0),
        next_attempt_at: Set(now),
        claimed_until: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        sent_at: Set(None),
        attachment_name: Set(attachment_name),
        attachment: Set(attachment),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Claims up to `limit` due messages until `lease_until`, counting the attempt, in one
/// statement: on PostgreSQL rows another instance is claiming are skipped (`SKIP LOCKED`), on
/// SQLite the statement holds the write lock. A message whose lease ran out (its worker died
/// mid-send) is due again, so delivery is at least once.
pub async fn claim_due(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Model>, DbErr> {
    let backend = db.get_database_backend();
    let (skip_locked, p) = match backend {
        DbBackend::Postgres => (" FOR UPDATE SKIP LOCKED", "$"),
        _ => ("", "?"),
    };
    let sql = format!(
        "UPDATE mail_outbox SET claimed_until = {p}1, attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM mail_outbox \
                      WHERE status = 'pending' AND next_attempt_at <= {p}2 \
                        AND (claimed_until IS NULL OR claimed_until < {p}2) \
                      ORDER BY id LIMIT {p}3{skip_locked}) \
         RETURNING id"
    );
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [lease_until.into(), now.into(), limit.into()],
        ))
        .await?;
    let ids = rows
        .iter()
        .map(|row| row.try_get_by_index::<i32>(0))
        .collect::<Result<Vec<_>, _>>()?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Entity::find()
        .filter(Column::Id.is_in(ids))
        .order_by_asc(Column::Id)
        .all(db)
        .await
}

pub async fn mark_sent(
    db: &impl ConnectionTrait,
    id: i32,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::Status, Expr::value(MailStatus::Sent.as_str()))
        .col_expr(Column::SentAt, Expr::value(now))
        .col_expr(
            Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(Column::LastError, Expr::value(Option::<String>::None))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Records a failed attempt: due again at `next_attempt_at`, or `failed` for good when
/// `next_attempt_at` is `None`.
pub async fn mark_attempt_failed(
    db: &impl ConnectionTrait,
    id: i32,
    error: &str,
    next_attempt_at: Option<DateTime<Utc>>,
) -> Result<(), DbErr> {
    let mut update = Entity::update_many()
        .col_expr(Column::LastError, Expr::value(error))
        .col_expr(
            Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        );
    update = match next_attempt_at {
        Some(at) => update.col_expr(Column::NextAttemptAt, Expr::value(at)),
        None => update.col_expr(Column::Status, Expr::value(MailStatus::Failed.as_str())),
    };
    update.filter(Column::Id.eq(id)).exec(db).await?;
    Ok(())
}

/// A failed message queued again, due now, with a fresh count of attempts.
pub async fn requeue(db: &impl ConnectionTrait, id: i32) -> Result<bool, DbErr> {
    let result = Entity::update_many()
        .col_expr(Column::Status, Expr::value(MailStatus::Pending.as_str()))
        .col_expr(Column::Attempts, Expr::value(0))
        .col_expr(Column::NextAttemptAt, Expr::value(Utc::now()))
        .col_expr(
            Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(Column::Id.eq(id))
        .filter(Column::Status.eq(MailStatus::Failed))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

pub async fn find(db: &impl ConnectionTrait, id: i32) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id).one(db).await
}

/// One page of the outbox, optionally of one status.
pub async fn list(
    db: &impl ConnectionTrait,
    status: Option<MailStatus>,
    skip: u64,
    limit: u64,
) -> Result<(Vec<Model>, u64), DbErr> {
    let mut query = Entity::find();
    if let Some(status) = status {
        query = query.filter(Column::Status.eq(status));
    }
    super::paginate(db, query, skip, limit).await
}

/// Removes every message to `recipient` (a holder's erasure: the texts name the person).
pub async fn delete_to(db: &impl ConnectionTrait, recipient: &str) -> Result<u64, DbErr> {
    Ok(Entity::delete_many()
        .filter(Column::Recipient.eq(recipient))
        .exec(db)
        .await?
        .rows_affected)
}
