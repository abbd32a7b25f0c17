//! Tenants, users and refresh tokens.
//!
//! Unique indexes are named `ux_<table>__<column>` so that a constraint violation can be mapped
//! back to the offending field on both PostgreSQL (which reports the index name) and SQLite
//! (which reports `table.column`).
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
    Name,
    Description,
    IsActive,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
    Username,
    FullName,
    FiscalCode,
    Type,
    UserType,
    Address,
    Role,
    Status,
    HashedPassword,
    OrganizationId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    Id,
    UserId,
    FamilyId,
    TokenHash,
    ExpiresAt,
    CreatedAt,
    UsedAt,
    RevokedAt,
}

fn timestamps(table: &mut TableCreateStatement, created: impl IntoIden, updated: impl IntoIden) {
    table
        .col(
            ColumnDef::new(created)
                .timestamp_with_time_zone()
                .not_null(),
        )
        .col(
            ColumnDef::new(updated)
                .timestamp_with_time_zone()
                .not_null(),
        );
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut organizations = Table::create();
        organizations
            .table(Organizations::Table)
            .col(
                ColumnDef::new(Organizations::Id)
                    .integer()
                    .not_null()
                    .auto_increment()
                    .primary_key(),
            )
            .col(
                ColumnDef::new(Organizations::Name)
                    .string_len(200)
                    .not_null(),
            )
            .col(ColumnDef::new(Organizations::Description).text())
            .col(
                ColumnDef::new(Organizations::IsActive)
                    .boolean()
                    .not_null()
                    .default(true),
            );
        timestamps(
            &mut organizations,
            Organizations::CreatedAt,
            Organizations::UpdatedAt,
        );
        manager.create_table(organizations).await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_organizations__name")
                    .table(Organizations::Table)
                    .col(Organizations::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;

        let mut users = Table::create();
        users
            .table(Users::Table)
            .col(
                ColumnDef::new(Users::Id)
                    .integer()
                    .not_null()
                    .auto_increment()
                    .primary_key(),
            )
            .col(ColumnDef::new(Users::Email).string_len(254).not_null())
            .col(ColumnDef::new(Users::Username).string_len(64))
            .col(ColumnDef::new(Users::FullName).string_len(200))
            .col(ColumnDef::new(Users::FiscalCode).string_len(16))
            .col(ColumnDef::new(Users::Type).string_len(16).not_null())
            .col(ColumnDef::new(Users::UserType).string_len(16).not_null())
            .col(ColumnDef::new(Users::Address).string_len(500))
            .col(ColumnDef::new(Users::Role).string_len(16).not_null())
            .col(ColumnDef::new(Users::Status).string_len(16).not_null())
            .col(
                ColumnDef::new(Users::HashedPassword)
                    .string_len(255)
                    .not_null(),
            )
            .col(ColumnDef::new(Users::OrganizationId).integer())
            .foreign_key(
                ForeignKey::create()
                    .name("fk_users__organization_id")
                    .from(Users::Table, Users::OrganizationId)
                    .to(Organizations::Table, Organizations::Id)
                    .on_delete(ForeignKeyAction::Restrict),
            );
        timestamps(&mut users, Users::CreatedAt, Users::UpdatedAt);
        manager.create_table(users).await?;
        for (name, column, unique) in [
            ("ux_users__email", Users::Email, true),
            ("ux_users__username", Users::Username, true),
            ("ux_users__fiscal_code", Users::FiscalCode, true),
            ("ix_users__organization_id", Users::OrganizationId, false),
            ("ix_users__role", Users::Role, false),
            ("ix_users__status", Users::Status, false),
        ] {
            let mut index = Index::create();
            index.name(name).table(Users::Table).col(column);
            if unique {
                index.unique();
            }
            manager.create_index(index).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .col(
                        ColumnDef::new(RefreshTokens::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(RefreshTokens::UserId).integer().not_null())
                    .col(
                        ColumnDef::new(RefreshTokens::FamilyId)
                            .string_len(36)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RefreshTokens::TokenHash)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RefreshTokens::ExpiresAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RefreshTokens::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(RefreshTokens::UsedAt).timestamp_with_time_zone())
                    .col(ColumnDef::new(RefreshTokens::RevokedAt).timestamp_with_time_zone())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_refresh_tokens__user_id")
                            .from(RefreshTokens::Table, RefreshTokens::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column, unique) in [
            (
                "ux_refresh_tokens__token_hash",
                RefreshTokens::TokenHash,
                true,
            ),
            (
                "ix_refresh_tokens__family_id",
                RefreshTokens::FamilyId,
                false,
            ),
            ("ix_refresh_tokens__user_id", RefreshTokens::UserId, false),
        ] {
            let mut index = Index::create();
            index.name(name).table(RefreshTokens::Table).col(column);
            if unique {
                index.unique();
            }
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RefreshTokens::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Users::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Organizations::Table).to_owned())
            .await
    }
}
