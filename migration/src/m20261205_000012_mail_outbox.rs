//! E-mail and single-use links (issue 14).
//!
//! - `mail_outbox`: every message the server sends, written in the same transaction as the
//!   change that causes it and delivered later by a worker, so that a request never waits on
//!   SMTP, nothing is lost while SMTP is down, and several instances never send one message
//!   twice (a worker claims a row for a lease before sending it). Failures stay visible.
//! - `one_time_tokens`: single-use links (password reset, e-mail verification) stored as the
//!   SHA-256 of the token, with their purpose, expiry and the moment they were used.
use sea_orm_migration::prelude::*;

use crate::m20261126_000002_communities::{cols, foreign_key, id, indexes, timestamp};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum MailOutbox {
    Table,
    Id,
    Recipient,
    Language,
    Template,
    Subject,
    Body,
    Status,
    Attempts,
    NextAttemptAt,
    ClaimedUntil,
    LastError,
    CreatedAt,
    SentAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum OneTimeTokens {
    Table,
    Id,
    Purpose,
    TokenHash,
    UserId,
    SubjectId,
    ExpiresAt,
    UsedAt,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MailOutbox::Table)
                    .col(id(MailOutbox::Id))
                    .col(
                        ColumnDef::new(MailOutbox::Recipient)
                            .string_len(254)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MailOutbox::Language)
                            .string_len(2)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MailOutbox::Template)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MailOutbox::Subject)
                            .string_len(300)
                            .not_null(),
                    )
                    .col(ColumnDef::new(MailOutbox::Body).text().not_null())
                    .col(ColumnDef::new(MailOutbox::Status).string_len(16).not_null())
                    .col(ColumnDef::new(MailOutbox::Attempts).integer().not_null())
                    .col(timestamp(MailOutbox::NextAttemptAt))
                    .col(ColumnDef::new(MailOutbox::ClaimedUntil).timestamp_with_time_zone())
                    .col(ColumnDef::new(MailOutbox::LastError).text())
                    .col(timestamp(MailOutbox::CreatedAt))
                    .col(ColumnDef::new(MailOutbox::SentAt).timestamp_with_time_zone())
                    .to_owned(),
            )
            .await?;
        // The worker's claim reads the due messages in order; admins list by status.
        indexes(
            manager,
            MailOutbox::Table,
            "mail_outbox",
            vec![(
                "status_next_attempt_at",
                cols([
                    MailOutbox::Status,
                    MailOutbox::NextAttemptAt,
                    MailOutbox::Id,
                ]),
                false,
            )],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(OneTimeTokens::Table)
                    .col(id(OneTimeTokens::Id))
                    .col(
                        ColumnDef::new(OneTimeTokens::Purpose)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(OneTimeTokens::TokenHash)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(ColumnDef::new(OneTimeTokens::UserId).integer())
                    .col(ColumnDef::new(OneTimeTokens::SubjectId).integer())
                    .col(timestamp(OneTimeTokens::ExpiresAt))
                    .col(ColumnDef::new(OneTimeTokens::UsedAt).timestamp_with_time_zone())
                    .col(timestamp(OneTimeTokens::CreatedAt))
                    .foreign_key(&mut foreign_key(
                        "fk_one_time_tokens__user_id",
                        (OneTimeTokens::Table, OneTimeTokens::UserId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        indexes(
            manager,
            OneTimeTokens::Table,
            "one_time_tokens",
            vec![
                ("token_hash", cols([OneTimeTokens::TokenHash]), true),
                (
                    "purpose_user_id",
                    cols([OneTimeTokens::Purpose, OneTimeTokens::UserId]),
                    false,
                ),
                (
                    "purpose_subject_id",
                    cols([OneTimeTokens::Purpose, OneTimeTokens::SubjectId]),
                    false,
                ),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(OneTimeTokens::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(MailOutbox::Table).to_owned())
            .await
    }
}
