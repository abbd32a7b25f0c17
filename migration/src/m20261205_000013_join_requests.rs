//! Joining a configuration (issue 14): a newcomer's request, filled in without an account,
//! confirmed through a link mailed to the address it gives, reviewed by the referent.
//!
//! - `configurations.accepts_join_requests`: whether the configuration's public request form
//!   is open (closed by default).
//! - `join_requests`: the applicant's data as a holder would have it, the points (`points`,
//!   JSON `[{"pod", "role"}]`) and consents (`consents`, JSON `[{"kind", "document_version"}]`)
//!   it asks to join with, the client address it came from (the per-address limit counts these
//!   rows), and the decision: who, when, why, and the holder created on approval.
use sea_orm_migration::prelude::*;

use crate::batch;
use crate::m20261126_000002_communities::{cols, foreign_key, id, indexes, timestamp};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Configurations {
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
}

#[derive(DeriveIden, Clone, Copy)]
enum JoinRequests {
    Table,
    Id,
    ConfigurationId,
    Status,
    Kind,
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
    Points,
    Consents,
    ClientAddress,
    CreatedAt,
    VerifiedAt,
    DecidedAt,
    DecidedBy,
    DecisionReason,
    HolderId,
    JoinedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        batch(
            manager,
            &["ALTER TABLE configurations ADD COLUMN accepts_join_requests BOOLEAN NOT NULL DEFAULT FALSE"
                .to_string()],
        )
        .await?;
        let text = |column: JoinRequests, length: u32| {
            ColumnDef::new(column).string_len(length).to_owned()
        };
        manager
            .create_table(
                Table::create()
                    .table(JoinRequests::Table)
                    .col(id(JoinRequests::Id))
                    .col(
                        ColumnDef::new(JoinRequests::ConfigurationId)
                            .integer()
                            .not_null(),
                    )
                    .col(text(JoinRequests::Status, 16).not_null())
                    .col(text(JoinRequests::Kind, 32).not_null())
                    .col(text(JoinRequests::FirstName, 100))
                    .col(text(JoinRequests::LastName, 100))
                    .col(text(JoinRequests::CompanyName, 200))
                    .col(text(JoinRequests::FiscalCode, 16))
                    .col(text(JoinRequests::VatNumber, 11))
                    .col(text(JoinRequests::Street, 200))
                    .col(text(JoinRequests::Postcode, 5))
                    .col(text(JoinRequests::Municipality, 100))
                    .col(text(JoinRequests::Province, 2))
                    .col(text(JoinRequests::Email, 254).not_null())
                    .col(text(JoinRequests::Phone, 16))
                    .col(text(JoinRequests::Iban, 34))
                    .col(text(JoinRequests::Language, 2).not_null())
                    .col(ColumnDef::new(JoinRequests::Points).text().not_null())
                    .col(ColumnDef::new(JoinRequests::Consents).text().not_null())
                    .col(text(JoinRequests::ClientAddress, 45))
                    .col(timestamp(JoinRequests::CreatedAt))
                    .col(ColumnDef::new(JoinRequests::VerifiedAt).timestamp_with_time_zone())
                    .col(ColumnDef::new(JoinRequests::DecidedAt).timestamp_with_time_zone())
                    .col(ColumnDef::new(JoinRequests::DecidedBy).integer())
                    .col(ColumnDef::new(JoinRequests::DecisionReason).text())
                    .col(ColumnDef::new(JoinRequests::HolderId).integer())
                    .col(ColumnDef::new(JoinRequests::JoinedAt).date())
                    .foreign_key(&mut foreign_key(
                        "fk_join_requests__configuration_id",
                        (JoinRequests::Table, JoinRequests::ConfigurationId),
                        (Configurations::Table, Configurations::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut foreign_key(
                        "fk_join_requests__decided_by",
                        (JoinRequests::Table, JoinRequests::DecidedBy),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut foreign_key(
                        "fk_join_requests__holder_id",
                        (JoinRequests::Table, JoinRequests::HolderId),
                        (Holders::Table, Holders::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        // The referent's list (by configuration and status, in order); the spam limits count
        // the recent requests of one address and of one configuration.
        indexes(
            manager,
            JoinRequests::Table,
            "join_requests",
            vec![
                (
                    "configuration_id_status",
                    cols([
                        JoinRequests::ConfigurationId,
                        JoinRequests::Status,
                        JoinRequests::Id,
                    ]),
                    false,
                ),
                (
                    "configuration_id_created_at",
                    cols([JoinRequests::ConfigurationId, JoinRequests::CreatedAt]),
                    false,
                ),
                (
                    "client_address_created_at",
                    cols([JoinRequests::ClientAddress, JoinRequests::CreatedAt]),
                    false,
                ),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(JoinRequests::Table).to_owned())
            .await?;
        batch(
            manager,
            &["ALTER TABLE configurations DROP COLUMN accepts_join_requests".to_string()],
        )
        .await
    }
}
