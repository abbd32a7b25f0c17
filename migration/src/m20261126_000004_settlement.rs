//! Settlement: the tariff constants as regulated parameters (so they carry a validity period like
//! TRAS_E), each configuration's sharing-out policy (versioned), and settlement runs with the
//! lines they computed.
//!
//! At most one run per configuration and month is `finalized` at a time: a partial unique index
//! makes the database refuse a second one, whatever the application does.
use sea_orm_migration::prelude::*;

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
enum SettlementPolicies {
    Table,
    Id,
    ConfigurationId,
    Version,
    ValidFrom,
    Document,
    Note,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum SettlementRuns {
    Table,
    Id,
    ConfigurationId,
    PeriodStart,
    PeriodEnd,
    Status,
    PolicyId,
    Fingerprint,
    Finalizable,
    CorrectsRunId,
    Report,
    CreatedBy,
    CreatedAt,
    FinalizedBy,
    FinalizedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum SettlementLines {
    Table,
    Id,
    RunId,
    MemberId,
    Account,
    Kind,
    EnergyWh,
    AmountCents,
}

/// The DM 414/2023 constants and GSE fees, valid from 2024 (see GSE_RULES.md).
const TARIFF_PARAMETERS: &[(&str, i64, &str, &str)] = &[
    (
        "TIP_REF_PRICE",
        180_000_000,
        "EUR/MWh",
        "Zonal price below which the tariff grows",
    ),
    (
        "TIP_BAND1_KW",
        200_000_000,
        "kW",
        "Upper power of the first tariff band",
    ),
    (
        "TIP_BAND1_BASE",
        80_000_000,
        "EUR/MWh",
        "Fixed part, plants up to 200 kW",
    ),
    (
        "TIP_BAND1_CAP",
        120_000_000,
        "EUR/MWh",
        "Cap, plants up to 200 kW",
    ),
    (
        "TIP_BAND2_KW",
        600_000_000,
        "kW",
        "Upper power of the second tariff band",
    ),
    (
        "TIP_BAND2_BASE",
        70_000_000,
        "EUR/MWh",
        "Fixed part, plants up to 600 kW",
    ),
    (
        "TIP_BAND2_CAP",
        110_000_000,
        "EUR/MWh",
        "Cap, plants up to 600 kW",
    ),
    (
        "TIP_BAND3_BASE",
        60_000_000,
        "EUR/MWh",
        "Fixed part, plants above 600 kW",
    ),
    (
        "TIP_BAND3_CAP",
        100_000_000,
        "EUR/MWh",
        "Cap, plants above 600 kW",
    ),
    (
        "TIP_FC_NORTH",
        10_000_000,
        "EUR/MWh",
        "PV zonal correction, northern regions",
    ),
    (
        "TIP_FC_CENTRE",
        4_000_000,
        "EUR/MWh",
        "PV zonal correction, central regions",
    ),
    (
        "TIP_GRANT_MAX_F",
        500_000,
        "ratio",
        "Largest tariff reduction for a capital grant",
    ),
    (
        "TIP_GRANT_FULL",
        400_000,
        "ratio",
        "Grant share that gives the largest reduction",
    ),
    (
        "EXCESS_TARIFF",
        550_000,
        "ratio",
        "Excess threshold, tariff-only plants",
    ),
    (
        "EXCESS_GRANT",
        450_000,
        "ratio",
        "Excess threshold, plants with a grant",
    ),
    (
        "ADVANCE_SHARE",
        600_000,
        "ratio",
        "Share of the expected tariff paid ahead",
    ),
    (
        "ADVANCE_PREMIUM",
        20_000_000,
        "EUR/MWh",
        "Premium assumed by the advance",
    ),
    (
        "FEE_FREE_KW",
        3_000_000,
        "kW",
        "Plants up to this power pay no GSE fee",
    ),
    (
        "FEE_FLAT_KW",
        20_000_000,
        "kW",
        "Plants up to this power pay the flat fee",
    ),
    (
        "FEE_FLAT",
        15_000_000,
        "EUR",
        "GSE yearly flat fee per plant",
    ),
    (
        "FEE_PER_KW",
        1_000_000,
        "EUR/kW",
        "GSE yearly fee per kW beyond FEE_FLAT_KW",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (code, value_micro, unit, note) in TARIFF_PARAMETERS {
            manager
                .get_connection()
                .execute_unprepared(&format!(
                    "INSERT INTO market_parameters (code, value_micro, unit, valid_from, note, created_at, updated_at) \
                     VALUES ('{code}', {value_micro}, '{unit}', '2024-01-01', '{note}', \
                     '2024-01-01T00:00:00+00:00', '2024-01-01T00:00:00+00:00')"
                ))
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(SettlementPolicies::Table)
                    .col(
                        ColumnDef::new(SettlementPolicies::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(SettlementPolicies::ConfigurationId)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementPolicies::Version)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementPolicies::ValidFrom)
                            .date()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementPolicies::Document)
                            .text()
                            .not_null(),
                    )
                    .col(ColumnDef::new(SettlementPolicies::Note).text())
                    .col(ColumnDef::new(SettlementPolicies::CreatedBy).integer())
                    .col(
                        ColumnDef::new(SettlementPolicies::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_settlement_policies__configuration_id")
                            .from(
                                SettlementPolicies::Table,
                                SettlementPolicies::ConfigurationId,
                            )
                            .to(Configurations::Table, Configurations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_settlement_policies__created_by")
                            .from(SettlementPolicies::Table, SettlementPolicies::CreatedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_settlement_policies__configuration_id__version")
                    .table(SettlementPolicies::Table)
                    .col(SettlementPolicies::ConfigurationId)
                    .col(SettlementPolicies::Version)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SettlementRuns::Table)
                    .col(
                        ColumnDef::new(SettlementRuns::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(SettlementRuns::ConfigurationId)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementRuns::PeriodStart)
                            .date()
                            .not_null(),
                    )
                    .col(ColumnDef::new(SettlementRuns::PeriodEnd).date().not_null())
                    .col(
                        ColumnDef::new(SettlementRuns::Status)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(SettlementRuns::PolicyId).integer())
                    .col(
                        ColumnDef::new(SettlementRuns::Fingerprint)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementRuns::Finalizable)
                            .boolean()
                            .not_null(),
                    )
                    .col(ColumnDef::new(SettlementRuns::CorrectsRunId).integer())
                    .col(ColumnDef::new(SettlementRuns::Report).text().not_null())
                    .col(ColumnDef::new(SettlementRuns::CreatedBy).integer())
                    .col(
                        ColumnDef::new(SettlementRuns::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(SettlementRuns::FinalizedBy).integer())
                    .col(ColumnDef::new(SettlementRuns::FinalizedAt).timestamp_with_time_zone())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_settlement_runs__configuration_id")
                            .from(SettlementRuns::Table, SettlementRuns::ConfigurationId)
                            .to(Configurations::Table, Configurations::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_settlement_runs__policy_id")
                            .from(SettlementRuns::Table, SettlementRuns::PolicyId)
                            .to(SettlementPolicies::Table, SettlementPolicies::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_settlement_runs__corrects_run_id")
                            .from(SettlementRuns::Table, SettlementRuns::CorrectsRunId)
                            .to(SettlementRuns::Table, SettlementRuns::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_settlement_runs__created_by")
                            .from(SettlementRuns::Table, SettlementRuns::CreatedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_settlement_runs__finalized_by")
                            .from(SettlementRuns::Table, SettlementRuns::FinalizedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_settlement_runs__configuration_id__period_start")
                    .table(SettlementRuns::Table)
                    .col(SettlementRuns::ConfigurationId)
                    .col(SettlementRuns::PeriodStart)
                    .to_owned(),
            )
            .await?;
        // Partial indexes read the same on both databases; sea-query has no builder for them.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ux_settlement_runs__finalized_period \
                 ON settlement_runs (configuration_id, period_start) WHERE status = 'finalized'",
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SettlementLines::Table)
                    .col(
                        ColumnDef::new(SettlementLines::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(SettlementLines::RunId).integer().not_null())
                    // No foreign key: the lines are the audit trail and outlive a deleted member.
                    .col(ColumnDef::new(SettlementLines::MemberId).integer())
                    .col(
                        ColumnDef::new(SettlementLines::Account)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementLines::Kind)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(ColumnDef::new(SettlementLines::EnergyWh).big_integer())
                    .col(
                        ColumnDef::new(SettlementLines::AmountCents)
                            .big_integer()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_settlement_lines__run_id")
                            .from(SettlementLines::Table, SettlementLines::RunId)
                            .to(SettlementRuns::Table, SettlementRuns::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("ix_settlement_lines__run_id", SettlementLines::RunId),
            ("ix_settlement_lines__member_id", SettlementLines::MemberId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(SettlementLines::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SettlementLines::Table.into_iden(),
            SettlementRuns::Table.into_iden(),
            SettlementPolicies::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        let codes: Vec<String> = TARIFF_PARAMETERS
            .iter()
            .map(|(code, ..)| format!("'{code}'"))
            .collect();
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "DELETE FROM market_parameters WHERE code IN ({})",
                codes.join(", ")
            ))
            .await?;
        Ok(())
    }
}
