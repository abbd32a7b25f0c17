//! Browser sessions for the web console and the members' portal (issue 16).
//!
//! - `web_sessions`: one signed-in browser. The cookie carries a random token; the table keeps
//!   only its SHA-256, so a copy of the database opens no session. Stored here rather than in
//!   the process so that several instances on one database share them and a sign-out (or an
//!   administrator deactivating the account) ends them everywhere at once. Each session has its
//!   own CSRF token for the forms it renders, an absolute expiry set at sign-in and an idle
//!   expiry pushed forward as it is used (`last_seen_at`, written at most once a minute).
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
enum WebSessions {
    Table,
    Id,
    TokenHash,
    UserId,
    CsrfToken,
    CreatedAt,
    LastSeenAt,
    ExpiresAt,
    RevokedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WebSessions::Table)
                    .col(id(WebSessions::Id))
                    .col(
                        ColumnDef::new(WebSessions::TokenHash)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(ColumnDef::new(WebSessions::UserId).integer().not_null())
                    .col(
                        ColumnDef::new(WebSessions::CsrfToken)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(timestamp(WebSessions::CreatedAt))
                    .col(timestamp(WebSessions::LastSeenAt))
                    .col(timestamp(WebSessions::ExpiresAt))
                    .col(ColumnDef::new(WebSessions::RevokedAt).timestamp_with_time_zone())
                    .foreign_key(&mut foreign_key(
                        "fk_web_sessions__user_id",
                        (WebSessions::Table, WebSessions::UserId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        // Every console request finds its session by the token's hash; a sign-out everywhere
        // (password reset, deactivation) finds a user's sessions.
        indexes(
            manager,
            WebSessions::Table,
            "web_sessions",
            vec![
                ("token_hash", cols([WebSessions::TokenHash]), true),
                ("user_id", cols([WebSessions::UserId]), false),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(WebSessions::Table).to_owned())
            .await
    }
}
