//! Money out and back (issue 15): what GSE actually paid, and the community paying its members.
//!
//! - `configurations`: the account the community pays its members from (name, IBAN, BIC: the
//!   debtor of the SEPA file) and the smallest balance worth a transfer (`payout_minimum_cents`;
//!   below it a balance carries over to the next batch).
//! - `gse_statements`: GSE's figures for one month (`kind` `month`) or for a year's true-up
//!   (`year`), as the referent recorded them from GSE's portal: shared energy recognised,
//!   premium, valorisation, advance, fees withheld, and — once it arrives — the payment (amount,
//!   date, reference), which is also a `gse_payment` ledger row. One statement per kind and
//!   period.
//! - `payout_batches`: one payment run of the community to its members, through a month's end:
//!   draft (the preview) → approved (by a second person or the referent) → exported (the SEPA
//!   file, kept byte for byte) → paid (one `payment` ledger row per transfer) or cancelled. At
//!   most one batch per configuration is open (draft, approved or exported) at a time, so two
//!   batches can never pay the same balance.
//! - `payout_items`: each member's balance in the batch, and whether it is paid (`included`,
//!   with the IBAN and name approved), held back (and why), or carried over (below the minimum).
//! - `mail_outbox.attachment_name`, `.attachment`: a file sent with the message (a member's PDF
//!   statement), rendered when queued like the text.
//! - `statement_mailings`: one sending of a period's statements to a configuration's members;
//!   `statement_mailing_items`: to whom (the outbox row), or why not (no e-mail address).
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
enum Members {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum MailOutbox {
    Table,
    AttachmentName,
    Attachment,
}

#[derive(DeriveIden, Clone, Copy)]
enum StatementMailings {
    Table,
    Id,
    ConfigurationId,
    PeriodStart,
    PeriodEnd,
    Queued,
    Skipped,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum StatementMailingItems {
    Table,
    Id,
    MailingId,
    MemberId,
    Recipient,
    OutboxId,
    Reason,
}

#[derive(DeriveIden, Clone, Copy)]
enum GseStatements {
    Table,
    Id,
    ConfigurationId,
    Kind,
    PeriodStart,
    PeriodEnd,
    SharedWh,
    PremiumCents,
    ValorisationCents,
    AdvanceCents,
    FeesCents,
    PaidCents,
    PaidOn,
    PaymentReference,
    Note,
    Source,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum PayoutBatches {
    Table,
    Id,
    ConfigurationId,
    Status,
    ThroughPeriod,
    MinimumCents,
    TotalCents,
    Transfers,
    Held,
    Fingerprint,
    CreatedBy,
    CreatedAt,
    ApprovedBy,
    ApprovedAt,
    ExecutionDate,
    MessageId,
    DebtorName,
    DebtorIban,
    DebtorBic,
    FileName,
    FileContent,
    FileSha256,
    ExportedBy,
    ExportedAt,
    PaidOn,
    PaidBy,
    PaidAt,
    CancelledBy,
    CancelledAt,
    CancelReason,
}

#[derive(DeriveIden, Clone, Copy)]
enum PayoutItems {
    Table,
    Id,
    BatchId,
    MemberId,
    HolderId,
    Pod,
    BalanceCents,
    AmountCents,
    Status,
    Reason,
    CreditorName,
    Iban,
    EndToEndId,
    TransactionId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        batch(
            manager,
            &[
                "ALTER TABLE configurations ADD COLUMN payout_account_name VARCHAR(70)".to_string(),
                "ALTER TABLE configurations ADD COLUMN payout_iban VARCHAR(34)".to_string(),
                "ALTER TABLE configurations ADD COLUMN payout_bic VARCHAR(11)".to_string(),
                "ALTER TABLE configurations ADD COLUMN payout_minimum_cents BIGINT NOT NULL DEFAULT 0"
                    .to_string(),
            ],
        )
        .await?;

        let cents = |column: GseStatements| ColumnDef::new(column).big_integer().to_owned();
        manager
            .create_table(
                Table::create()
                    .table(GseStatements::Table)
                    .col(id(GseStatements::Id))
                    .col(
                        ColumnDef::new(GseStatements::ConfigurationId)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(GseStatements::Kind).string_len(8).not_null())
                    .col(ColumnDef::new(GseStatements::PeriodStart).date().not_null())
                    .col(ColumnDef::new(GseStatements::PeriodEnd).date().not_null())
                    .col(cents(GseStatements::SharedWh))
                    .col(cents(GseStatements::PremiumCents))
                    .col(cents(GseStatements::ValorisationCents))
                    .col(cents(GseStatements::AdvanceCents))
                    .col(cents(GseStatements::FeesCents))
                    .col(cents(GseStatements::PaidCents))
                    .col(ColumnDef::new(GseStatements::PaidOn).date())
                    .col(ColumnDef::new(GseStatements::PaymentReference).string_len(140))
                    .col(ColumnDef::new(GseStatements::Note).text())
                    .col(
                        ColumnDef::new(GseStatements::Source)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(GseStatements::CreatedBy)
                            .integer()
                            .not_null(),
                    )
                    .col(timestamp(GseStatements::CreatedAt))
                    .foreign_key(&mut foreign_key(
                        "fk_gse_statements__configuration_id",
                        (GseStatements::Table, GseStatements::ConfigurationId),
                        (Configurations::Table, Configurations::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut foreign_key(
                        "fk_gse_statements__created_by",
                        (GseStatements::Table, GseStatements::CreatedBy),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        indexes(
            manager,
            GseStatements::Table,
            "gse_statements",
            vec![(
                "configuration_id_kind_period_start",
                cols([
                    GseStatements::ConfigurationId,
                    GseStatements::Kind,
                    GseStatements::PeriodStart,
                ]),
                true,
            )],
        )
        .await?;

        let user = |column: PayoutBatches| ColumnDef::new(column).integer().to_owned();
        let when =
            |column: PayoutBatches| ColumnDef::new(column).timestamp_with_time_zone().to_owned();
        manager
            .create_table(
                Table::create()
                    .table(PayoutBatches::Table)
                    .col(id(PayoutBatches::Id))
                    .col(
                        ColumnDef::new(PayoutBatches::ConfigurationId)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PayoutBatches::Status)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PayoutBatches::ThroughPeriod)
                            .date()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PayoutBatches::MinimumCents)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PayoutBatches::TotalCents)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PayoutBatches::Transfers)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(PayoutBatches::Held).integer().not_null())
                    .col(
                        ColumnDef::new(PayoutBatches::Fingerprint)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(user(PayoutBatches::CreatedBy).not_null())
                    .col(timestamp(PayoutBatches::CreatedAt))
                    .col(user(PayoutBatches::ApprovedBy))
                    .col(when(PayoutBatches::ApprovedAt))
                    .col(ColumnDef::new(PayoutBatches::ExecutionDate).date())
                    .col(ColumnDef::new(PayoutBatches::MessageId).string_len(35))
                    .col(ColumnDef::new(PayoutBatches::DebtorName).string_len(70))
                    .col(ColumnDef::new(PayoutBatches::DebtorIban).string_len(34))
                    .col(ColumnDef::new(PayoutBatches::DebtorBic).string_len(11))
                    .col(ColumnDef::new(PayoutBatches::FileName).string_len(100))
                    .col(ColumnDef::new(PayoutBatches::FileContent).text())
                    .col(ColumnDef::new(PayoutBatches::FileSha256).string_len(64))
                    .col(user(PayoutBatches::ExportedBy))
                    .col(when(PayoutBatches::ExportedAt))
                    .col(ColumnDef::new(PayoutBatches::PaidOn).date())
                    .col(user(PayoutBatches::PaidBy))
                    .col(when(PayoutBatches::PaidAt))
                    .col(user(PayoutBatches::CancelledBy))
                    .col(when(PayoutBatches::CancelledAt))
                    .col(ColumnDef::new(PayoutBatches::CancelReason).text())
                    .foreign_key(&mut foreign_key(
                        "fk_payout_batches__configuration_id",
                        (PayoutBatches::Table, PayoutBatches::ConfigurationId),
                        (Configurations::Table, Configurations::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut foreign_key(
                        "fk_payout_batches__created_by",
                        (PayoutBatches::Table, PayoutBatches::CreatedBy),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        indexes(
            manager,
            PayoutBatches::Table,
            "payout_batches",
            vec![(
                "configuration_id_id",
                cols([PayoutBatches::ConfigurationId, PayoutBatches::Id]),
                false,
            )],
        )
        .await?;
        // At most one open batch per configuration: the database refuses a second one even if
        // two instances prepare a batch at the same moment. Both engines have partial indexes.
        batch(
            manager,
            &[
                "CREATE UNIQUE INDEX ux_payout_batches__open ON payout_batches (configuration_id) \
               WHERE status IN ('draft', 'approved', 'exported')"
                    .to_string(),
            ],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(PayoutItems::Table)
                    .col(id(PayoutItems::Id))
                    .col(ColumnDef::new(PayoutItems::BatchId).integer().not_null())
                    .col(ColumnDef::new(PayoutItems::MemberId).integer().not_null())
                    .col(ColumnDef::new(PayoutItems::HolderId).integer())
                    .col(ColumnDef::new(PayoutItems::Pod).string_len(15).not_null())
                    .col(
                        ColumnDef::new(PayoutItems::BalanceCents)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PayoutItems::AmountCents)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PayoutItems::Status)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(PayoutItems::Reason).text())
                    .col(ColumnDef::new(PayoutItems::CreditorName).string_len(200))
                    .col(ColumnDef::new(PayoutItems::Iban).string_len(34))
                    .col(ColumnDef::new(PayoutItems::EndToEndId).string_len(35))
                    .col(ColumnDef::new(PayoutItems::TransactionId).integer())
                    .foreign_key(&mut foreign_key(
                        "fk_payout_items__batch_id",
                        (PayoutItems::Table, PayoutItems::BatchId),
                        (PayoutBatches::Table, PayoutBatches::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut foreign_key(
                        "fk_payout_items__member_id",
                        (PayoutItems::Table, PayoutItems::MemberId),
                        (Members::Table, Members::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        indexes(
            manager,
            PayoutItems::Table,
            "payout_items",
            vec![
                (
                    "batch_id_member_id",
                    cols([PayoutItems::BatchId, PayoutItems::MemberId]),
                    true,
                ),
                ("member_id", cols([PayoutItems::MemberId]), false),
            ],
        )
        .await?;

        // SQLite adds one column per statement.
        for column in [
            ColumnDef::new(MailOutbox::AttachmentName)
                .string_len(100)
                .to_owned(),
            ColumnDef::new(MailOutbox::Attachment).blob().to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(MailOutbox::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(StatementMailings::Table)
                    .col(id(StatementMailings::Id))
                    .col(
                        ColumnDef::new(StatementMailings::ConfigurationId)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(StatementMailings::PeriodStart)
                            .date()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(StatementMailings::PeriodEnd)
                            .date()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(StatementMailings::Queued)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(StatementMailings::Skipped)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(StatementMailings::CreatedBy)
                            .integer()
                            .not_null(),
                    )
                    .col(timestamp(StatementMailings::CreatedAt))
                    .foreign_key(&mut foreign_key(
                        "fk_statement_mailings__configuration_id",
                        (StatementMailings::Table, StatementMailings::ConfigurationId),
                        (Configurations::Table, Configurations::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        indexes(
            manager,
            StatementMailings::Table,
            "statement_mailings",
            vec![(
                "configuration_id_period_start",
                cols([
                    StatementMailings::ConfigurationId,
                    StatementMailings::PeriodStart,
                ]),
                false,
            )],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(StatementMailingItems::Table)
                    .col(id(StatementMailingItems::Id))
                    .col(
                        ColumnDef::new(StatementMailingItems::MailingId)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(StatementMailingItems::MemberId)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(StatementMailingItems::Recipient).string_len(254))
                    .col(ColumnDef::new(StatementMailingItems::OutboxId).integer())
                    .col(ColumnDef::new(StatementMailingItems::Reason).text())
                    .foreign_key(&mut foreign_key(
                        "fk_statement_mailing_items__mailing_id",
                        (
                            StatementMailingItems::Table,
                            StatementMailingItems::MailingId,
                        ),
                        (StatementMailings::Table, StatementMailings::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut foreign_key(
                        "fk_statement_mailing_items__member_id",
                        (
                            StatementMailingItems::Table,
                            StatementMailingItems::MemberId,
                        ),
                        (Members::Table, Members::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        indexes(
            manager,
            StatementMailingItems::Table,
            "statement_mailing_items",
            vec![(
                "mailing_id_member_id",
                cols([
                    StatementMailingItems::MailingId,
                    StatementMailingItems::MemberId,
                ]),
                true,
            )],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            StatementMailingItems::Table.into_iden(),
            StatementMailings::Table.into_iden(),
            PayoutItems::Table.into_iden(),
            PayoutBatches::Table.into_iden(),
            GseStatements::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        batch(
            manager,
            &[
                "ALTER TABLE mail_outbox DROP COLUMN attachment".to_string(),
                "ALTER TABLE mail_outbox DROP COLUMN attachment_name".to_string(),
                "ALTER TABLE configurations DROP COLUMN payout_minimum_cents".to_string(),
                "ALTER TABLE configurations DROP COLUMN payout_bic".to_string(),
                "ALTER TABLE configurations DROP COLUMN payout_iban".to_string(),
                "ALTER TABLE configurations DROP COLUMN payout_account_name".to_string(),
            ],
        )
        .await
    }
}
