//! Login throttling (issue 14): failed logins counted per account and per client address, in
//! the database so that every instance sees the same counters.
use sea_orm_migration::prelude::*;

use crate::m20261126_000002_communities::timestamp;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum LoginThrottles {
    Table,
    /// `login:<the login, lower case>` or `ip:<address>`.
    Key,
    Failures,
    LastFailureAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LoginThrottles::Table)
                    .col(
                        ColumnDef::new(LoginThrottles::Key)
                            .string_len(320)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(LoginThrottles::Failures)
                            .integer()
                            .not_null(),
                    )
                    .col(timestamp(LoginThrottles::LastFailureAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LoginThrottles::Table).to_owned())
            .await
    }
}
