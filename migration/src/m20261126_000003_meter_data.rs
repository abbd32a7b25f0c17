//! Meter readings with their revision history, import log, zonal prices and the regulated
//! parameters (seeded with the 2024 values, which admins can correct).
//!
//! Readings are the largest table by far (a year of quarter-hours for 1,000 PODs is 70 million
//! rows), so they are compact: instants as UNIX seconds, the direction as one letter (`I`
//! injection, `W` withdrawal), energy in Wh, and the natural key as the primary key.
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
enum ReadingImports {
    Table,
    Id,
    ConfigurationId,
    Kind,
    Source,
    Format,
    UploadedBy,
    Rows,
    Intervals,
    Pods,
    NewValues,
    RevisedValues,
    Unchanged,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Readings {
    Table,
    Pod,
    Direction,
    IntervalStart,
    IntervalMinutes,
    Wh,
    Revision,
    ImportId,
}

#[derive(DeriveIden, Clone, Copy)]
enum ReadingRevisions {
    Table,
    Pod,
    Direction,
    IntervalStart,
    IntervalMinutes,
    Wh,
    Revision,
    ImportId,
    SupersededBy,
}

/// Hourly injected/withdrawn totals of each configuration's members, maintained on every import
/// and membership change, so that series over a year read 8,760 rows, not millions.
#[derive(DeriveIden, Clone, Copy)]
enum ConfigurationHours {
    Table,
    ConfigurationId,
    HourStart,
    InjectedWh,
    WithdrawnWh,
}

#[derive(DeriveIden, Clone, Copy)]
enum ZonalPrices {
    Table,
    Zone,
    IntervalStart,
    IntervalMinutes,
    EurMwhMicro,
    ImportId,
}

#[derive(DeriveIden, Clone, Copy)]
enum MarketParameters {
    Table,
    Id,
    Code,
    ValueMicro,
    Unit,
    ValidFrom,
    ValidTo,
    Note,
    CreatedAt,
    UpdatedAt,
}

/// PODs and direction codes are ASCII codes, compared byte by byte: on PostgreSQL the "C"
/// collation makes the readings' primary key much cheaper to maintain than a locale's rules.
fn key_text(manager: &SchemaManager, column: &mut ColumnDef) -> ColumnDef {
    if manager.get_database_backend() == sea_orm_migration::sea_orm::DbBackend::Postgres {
        column.extra("COLLATE \"C\"");
    }
    column.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ReadingImports::Table)
                    .col(
                        ColumnDef::new(ReadingImports::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(ReadingImports::ConfigurationId).integer())
                    .col(
                        ColumnDef::new(ReadingImports::Kind)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ReadingImports::Source)
                            .string_len(255)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ReadingImports::Format)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(ColumnDef::new(ReadingImports::UploadedBy).integer())
                    .col(
                        ColumnDef::new(ReadingImports::Rows)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ReadingImports::Intervals)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(ReadingImports::Pods).integer().not_null())
                    .col(
                        ColumnDef::new(ReadingImports::NewValues)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ReadingImports::RevisedValues)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ReadingImports::Unchanged)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ReadingImports::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_reading_imports__configuration_id")
                            .from(ReadingImports::Table, ReadingImports::ConfigurationId)
                            .to(Configurations::Table, Configurations::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_reading_imports__uploaded_by")
                            .from(ReadingImports::Table, ReadingImports::UploadedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_reading_imports__configuration_id")
                    .table(ReadingImports::Table)
                    .col(ReadingImports::ConfigurationId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Readings::Table)
                    .col(key_text(
                        manager,
                        ColumnDef::new(Readings::Pod).string_len(15).not_null(),
                    ))
                    .col(key_text(
                        manager,
                        ColumnDef::new(Readings::Direction).string_len(1).not_null(),
                    ))
                    .col(
                        ColumnDef::new(Readings::IntervalStart)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Readings::IntervalMinutes)
                            .small_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Readings::Wh).big_integer().not_null())
                    .col(ColumnDef::new(Readings::Revision).integer().not_null())
                    .col(ColumnDef::new(Readings::ImportId).integer().not_null())
                    .primary_key(
                        Index::create()
                            .name("pk_readings")
                            .col(Readings::Pod)
                            .col(Readings::Direction)
                            .col(Readings::IntervalStart),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReadingRevisions::Table)
                    .col(key_text(
                        manager,
                        ColumnDef::new(ReadingRevisions::Pod)
                            .string_len(15)
                            .not_null(),
                    ))
                    .col(key_text(
                        manager,
                        ColumnDef::new(ReadingRevisions::Direction)
                            .string_len(1)
                            .not_null(),
                    ))
                    .col(
                        ColumnDef::new(ReadingRevisions::IntervalStart)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ReadingRevisions::IntervalMinutes)
                            .small_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ReadingRevisions::Wh)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ReadingRevisions::Revision)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ReadingRevisions::ImportId)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ReadingRevisions::SupersededBy)
                            .integer()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .name("pk_reading_revisions")
                            .col(ReadingRevisions::Pod)
                            .col(ReadingRevisions::Direction)
                            .col(ReadingRevisions::IntervalStart)
                            .col(ReadingRevisions::Revision),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ConfigurationHours::Table)
                    .col(
                        ColumnDef::new(ConfigurationHours::ConfigurationId)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ConfigurationHours::HourStart)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ConfigurationHours::InjectedWh)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ConfigurationHours::WithdrawnWh)
                            .big_integer()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .name("pk_configuration_hours")
                            .col(ConfigurationHours::ConfigurationId)
                            .col(ConfigurationHours::HourStart),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_configuration_hours__configuration_id")
                            .from(
                                ConfigurationHours::Table,
                                ConfigurationHours::ConfigurationId,
                            )
                            .to(Configurations::Table, Configurations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ZonalPrices::Table)
                    .col(ColumnDef::new(ZonalPrices::Zone).string_len(8).not_null())
                    .col(
                        ColumnDef::new(ZonalPrices::IntervalStart)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ZonalPrices::IntervalMinutes)
                            .small_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ZonalPrices::EurMwhMicro)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(ZonalPrices::ImportId).integer().not_null())
                    .primary_key(
                        Index::create()
                            .name("pk_zonal_prices")
                            .col(ZonalPrices::Zone)
                            .col(ZonalPrices::IntervalStart),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(MarketParameters::Table)
                    .col(
                        ColumnDef::new(MarketParameters::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(MarketParameters::Code)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MarketParameters::ValueMicro)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MarketParameters::Unit)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MarketParameters::ValidFrom)
                            .date()
                            .not_null(),
                    )
                    .col(ColumnDef::new(MarketParameters::ValidTo).date())
                    .col(ColumnDef::new(MarketParameters::Note).text())
                    .col(
                        ColumnDef::new(MarketParameters::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MarketParameters::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_market_parameters__code")
                    .table(MarketParameters::Table)
                    .col(MarketParameters::Code)
                    .col(MarketParameters::ValidFrom)
                    .to_owned(),
            )
            .await?;

        // The 2024 values (GSE Regole operative; ARERA). Data, not code: admins correct them.
        // Literals rather than bound values, so each database coerces them to its own types.
        for (code, value_micro, unit, note) in [
            (
                "TRAS_E",
                10_570_000_i64,
                "EUR/MWh",
                "ARERA transmission tariff TRAS_E, 2024",
            ),
            (
                "BTAU",
                650_000,
                "EUR/MWh",
                "Highest BTAU distribution component, 2024",
            ),
            (
                "CPR_MV",
                12_000,
                "ratio",
                "Avoided-loss coefficient, plants on MV (1.2%)",
            ),
            (
                "CPR_LV",
                26_000,
                "ratio",
                "Avoided-loss coefficient, plants on LV (2.6%)",
            ),
        ] {
            manager
                .get_connection()
                .execute_unprepared(&format!(
                    "INSERT INTO market_parameters (code, value_micro, unit, valid_from, note, created_at, updated_at) \
                     VALUES ('{code}', {value_micro}, '{unit}', '2024-01-01', '{note}', \
                     '2024-01-01T00:00:00+00:00', '2024-01-01T00:00:00+00:00')"
                ))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            MarketParameters::Table.into_iden(),
            ZonalPrices::Table.into_iden(),
            ConfigurationHours::Table.into_iden(),
            ReadingRevisions::Table.into_iden(),
            Readings::Table.into_iden(),
            ReadingImports::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
