//! Members as people (issue 14): the registry of holders — the person or organisation behind
//! one or more points —, their consents and the history of their data.
//!
//! - `holders`: identity (kind, names, fiscal code, VAT number), address, e-mail, phone, IBAN,
//!   language, an optional portal account, who registered it (a referent sees the holders it
//!   registered before they have a point in its configurations), and a status (`draft` until the required consents
//!   and identity are there, `active`, `erased` once anonymised).
//! - `holder_consents`: each consent with its document version, when and how it was given, and
//!   its withdrawal (recorded, never deleted).
//! - `holder_revisions`: who changed what and when; `iban` is the IBAN in force from that
//!   revision on, so a payout can ask which IBAN was valid on its date.
//! - `members.holder_id`: every existing member gets a holder of its own (`draft`, with the
//!   member's holder type; the holder's id is the member's), to be completed and merged.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::batch;
use crate::m20261126_000002_communities::{cols, foreign_key, id, indexes, timestamp};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Organizations {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Holders {
    Table,
    Id,
    OrganizationId,
    UserId,
    Kind,
    Status,
    FirstName,
    LastName,
    CompanyName,
    FiscalCode,
    VatNumber,
    Street,
    Postcode,
    Municipality,
    Province,
    Email,
    Phone,
    Iban,
    Language,
    CreatedBy,
    ErasedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum HolderConsents {
    Table,
    Id,
    HolderId,
    Kind,
    DocumentVersion,
    GivenAt,
    Method,
    RecordedBy,
    WithdrawnAt,
    WithdrawalMethod,
    WithdrawnBy,
}

#[derive(DeriveIden, Clone, Copy)]
enum HolderRevisions {
    Table,
    Id,
    HolderId,
    ChangedAt,
    ChangedBy,
    Action,
    Changes,
    Iban,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Holders::Table)
                    .col(id(Holders::Id))
                    .col(ColumnDef::new(Holders::OrganizationId).integer().not_null())
                    .col(ColumnDef::new(Holders::UserId).integer())
                    .col(ColumnDef::new(Holders::Kind).string_len(32).not_null())
                    .col(ColumnDef::new(Holders::Status).string_len(16).not_null())
                    .col(ColumnDef::new(Holders::FirstName).string_len(100))
                    .col(ColumnDef::new(Holders::LastName).string_len(100))
                    .col(ColumnDef::new(Holders::CompanyName).string_len(200))
                    .col(ColumnDef::new(Holders::FiscalCode).string_len(16))
                    .col(ColumnDef::new(Holders::VatNumber).string_len(11))
                    .col(ColumnDef::new(Holders::Street).string_len(200))
                    .col(ColumnDef::new(Holders::Postcode).string_len(5))
                    .col(ColumnDef::new(Holders::Municipality).string_len(100))
                    .col(ColumnDef::new(Holders::Province).string_len(2))
                    .col(ColumnDef::new(Holders::Email).string_len(254))
                    .col(ColumnDef::new(Holders::Phone).string_len(16))
                    .col(ColumnDef::new(Holders::Iban).string_len(34))
                    .col(ColumnDef::new(Holders::Language).string_len(2).not_null())
                    .col(ColumnDef::new(Holders::CreatedBy).integer())
                    .col(ColumnDef::new(Holders::ErasedAt).timestamp_with_time_zone())
                    .col(timestamp(Holders::CreatedAt))
                    .col(timestamp(Holders::UpdatedAt))
                    .foreign_key(&mut foreign_key(
                        "fk_holders__organization_id",
                        (Holders::Table, Holders::OrganizationId),
                        (Organizations::Table, Organizations::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut foreign_key(
                        "fk_holders__created_by",
                        (Holders::Table, Holders::CreatedBy),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut foreign_key(
                        "fk_holders__user_id",
                        (Holders::Table, Holders::UserId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        // A fiscal code names one holder per organization (NULLs, i.e. not yet known or
        // erased, do not collide); an account is the portal of at most one holder.
        indexes(
            manager,
            Holders::Table,
            "holders",
            vec![
                (
                    "organization_id",
                    cols([Holders::OrganizationId, Holders::Id]),
                    false,
                ),
                (
                    "fiscal_code",
                    cols([Holders::OrganizationId, Holders::FiscalCode]),
                    true,
                ),
                ("user_id", cols([Holders::UserId]), true),
            ],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(HolderConsents::Table)
                    .col(id(HolderConsents::Id))
                    .col(
                        ColumnDef::new(HolderConsents::HolderId)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(HolderConsents::Kind)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(HolderConsents::DocumentVersion)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(timestamp(HolderConsents::GivenAt))
                    .col(
                        ColumnDef::new(HolderConsents::Method)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(HolderConsents::RecordedBy).integer())
                    .col(ColumnDef::new(HolderConsents::WithdrawnAt).timestamp_with_time_zone())
                    .col(ColumnDef::new(HolderConsents::WithdrawalMethod).string_len(16))
                    .col(ColumnDef::new(HolderConsents::WithdrawnBy).integer())
                    .foreign_key(&mut foreign_key(
                        "fk_holder_consents__holder_id",
                        (HolderConsents::Table, HolderConsents::HolderId),
                        (Holders::Table, Holders::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut foreign_key(
                        "fk_holder_consents__recorded_by",
                        (HolderConsents::Table, HolderConsents::RecordedBy),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut foreign_key(
                        "fk_holder_consents__withdrawn_by",
                        (HolderConsents::Table, HolderConsents::WithdrawnBy),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        indexes(
            manager,
            HolderConsents::Table,
            "holder_consents",
            vec![(
                "holder_id",
                cols([HolderConsents::HolderId, HolderConsents::Kind]),
                false,
            )],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(HolderRevisions::Table)
                    .col(id(HolderRevisions::Id))
                    .col(
                        ColumnDef::new(HolderRevisions::HolderId)
                            .integer()
                            .not_null(),
                    )
                    .col(timestamp(HolderRevisions::ChangedAt))
                    .col(ColumnDef::new(HolderRevisions::ChangedBy).integer())
                    .col(
                        ColumnDef::new(HolderRevisions::Action)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(HolderRevisions::Changes).text().not_null())
                    .col(ColumnDef::new(HolderRevisions::Iban).string_len(34))
                    .foreign_key(&mut foreign_key(
                        "fk_holder_revisions__holder_id",
                        (HolderRevisions::Table, HolderRevisions::HolderId),
                        (Holders::Table, Holders::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut foreign_key(
                        "fk_holder_revisions__changed_by",
                        (HolderRevisions::Table, HolderRevisions::ChangedBy),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        indexes(
            manager,
            HolderRevisions::Table,
            "holder_revisions",
            vec![(
                "holder_id",
                cols([HolderRevisions::HolderId, HolderRevisions::ChangedAt]),
                false,
            )],
        )
        .await?;

        let mut statements = vec![
            "ALTER TABLE members ADD COLUMN holder_id integer NULL \
             CONSTRAINT fk_members__holder_id REFERENCES holders (id)"
                .to_string(),
            "CREATE INDEX ix_members__holder_id ON members (holder_id)".to_string(),
            // One draft holder per existing member, sharing its id, in the member's
            // configuration's organization and with its holder type.
            "INSERT INTO holders (id, organization_id, kind, status, language, created_at, updated_at) \
             SELECT m.id, c.organization_id, m.holder_type, 'draft', 'it', m.created_at, m.created_at \
             FROM members m JOIN configurations c ON c.id = m.configuration_id"
                .to_string(),
            "UPDATE members SET holder_id = id".to_string(),
            "INSERT INTO holder_revisions (holder_id, changed_at, action, changes) \
             SELECT id, created_at, 'migrated', '{}' FROM holders"
                .to_string(),
        ];
        if manager.get_database_backend() == DbBackend::Postgres {
            // Explicit ids do not move the sequence.
            statements.push(
                "SELECT setval(pg_get_serial_sequence('holders', 'id'), \
                 COALESCE((SELECT MAX(id) FROM holders), 0) + 1, false)"
                    .to_string(),
            );
        }
        batch(manager, &statements).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        batch(
            manager,
            &[
                "DROP INDEX ix_members__holder_id".to_string(),
                "ALTER TABLE members DROP COLUMN holder_id".to_string(),
                "DROP TABLE holder_revisions".to_string(),
                "DROP TABLE holder_consents".to_string(),
                "DROP TABLE holders".to_string(),
            ],
        )
        .await
    }
}
