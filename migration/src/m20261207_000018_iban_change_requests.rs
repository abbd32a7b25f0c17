//! A member asks to be paid on another account (issue 16): the request waits for an operator of
//! one of the holder's configurations to confirm it (the holder's IBAN then changes, with a
//! revision naming the request) or to reject it with a reason; the member may withdraw it first.
//!
//! - `iban_change_requests`: the holder, the account that asked and when, the new IBAN and the
//!   member's note, the status (`pending`, `confirmed`, `rejected`, `withdrawn`) and the decision:
//!   who, when, why. `iban` and `note` are nullable only because erasing a holder clears them.
//! - At most one request of a holder is pending: a partial unique index, so that two requests
//!   sent at once cannot both wait (the use case also says so first, in words).
use sea_orm_migration::prelude::*;

use crate::each;
use crate::m20261126_000002_communities::{cols, foreign_key, id, indexes, timestamp};

#[derive(DeriveMigrationName)]
pub struct Migration;

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
enum IbanChangeRequests {
    Table,
    Id,
    HolderId,
    Status,
    Iban,
    Note,
    RequestedBy,
    RequestedAt,
    DecidedBy,
    DecidedAt,
    DecisionReason,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(IbanChangeRequests::Table)
                    .col(id(IbanChangeRequests::Id))
                    .col(
                        ColumnDef::new(IbanChangeRequests::HolderId)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IbanChangeRequests::Status)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(IbanChangeRequests::Iban).string_len(34))
                    .col(ColumnDef::new(IbanChangeRequests::Note).text())
                    .col(ColumnDef::new(IbanChangeRequests::RequestedBy).integer())
                    .col(timestamp(IbanChangeRequests::RequestedAt))
                    .col(ColumnDef::new(IbanChangeRequests::DecidedBy).integer())
                    .col(ColumnDef::new(IbanChangeRequests::DecidedAt).timestamp_with_time_zone())
                    .col(ColumnDef::new(IbanChangeRequests::DecisionReason).text())
                    .foreign_key(&mut foreign_key(
                        "fk_iban_change_requests__holder_id",
                        (IbanChangeRequests::Table, IbanChangeRequests::HolderId),
                        (Holders::Table, Holders::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    // The accounts stay named after they are deactivated; a deleted account
                    // leaves the request without its author rather than blocking the deletion.
                    .foreign_key(&mut foreign_key(
                        "fk_iban_change_requests__requested_by",
                        (IbanChangeRequests::Table, IbanChangeRequests::RequestedBy),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .foreign_key(&mut foreign_key(
                        "fk_iban_change_requests__decided_by",
                        (IbanChangeRequests::Table, IbanChangeRequests::DecidedBy),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        // A holder's requests, newest first; the operators' queue by status.
        indexes(
            manager,
            IbanChangeRequests::Table,
            "iban_change_requests",
            vec![
                (
                    "holder_id",
                    cols([IbanChangeRequests::HolderId, IbanChangeRequests::Id]),
                    false,
                ),
                (
                    "status",
                    cols([IbanChangeRequests::Status, IbanChangeRequests::Id]),
                    false,
                ),
            ],
        )
        .await?;
        // Both databases accept the same partial index.
        each(
            manager,
            &[
                "CREATE UNIQUE INDEX ux_iban_change_requests__pending ON iban_change_requests \
               (holder_id) WHERE status = 'pending'",
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(IbanChangeRequests::Table).to_owned())
            .await
    }
}
