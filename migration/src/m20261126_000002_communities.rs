//! Energy communities: configurations, members (PODs), plants, the community registry of people,
//! and the append-only transactions ledger with its idempotency keys.
//!
//! Money and energy are stored as integers of their smallest unit (cents, Wh, W, and millionths
//! for shares): SQLite has no exact decimal type, and integers sum exactly on both databases.
use sea_orm_migration::prelude::*;

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
enum Configurations {
    Table,
    Id,
    OrganizationId,
    Name,
    Type,
    Status,
    PrimarySubstation,
    MarketZone,
    Region,
    ReferentId,
    Description,
    ConstitutedOn,
    ActivationDate,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Members {
    Table,
    Id,
    ConfigurationId,
    UserId,
    Pod,
    Role,
    Category,
    Status,
    JoinedAt,
    WithdrawnAt,
    NetMetering,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Plants {
    Table,
    Id,
    MemberId,
    Name,
    Source,
    PowerW,
    CommissionedOn,
    CapitalGrantPpm,
    ConnectionVoltage,
    CensimpCode,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum CommunityUsers {
    Table,
    Id,
    OrganizationId,
    Email,
    FullName,
    Role,
    Status,
    UserId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Transactions {
    Table,
    Id,
    ConfigurationId,
    MemberId,
    Kind,
    PeriodStart,
    PeriodEnd,
    EnergyWh,
    AmountCents,
    Status,
    Description,
    Reference,
    CreatedBy,
    CreatedAt,
    SettledAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum IdempotencyKeys {
    Table,
    Id,
    UserId,
    Key,
    RequestHash,
    StatusCode,
    ResponseBody,
    CreatedAt,
}

pub(crate) fn id(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column)
        .integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

pub(crate) fn timestamp(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

pub(crate) fn foreign_key(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(on_delete)
        .to_owned()
}

pub(crate) async fn indexes<T: IntoIden + Copy + 'static>(
    manager: &SchemaManager<'_>,
    table: T,
    prefix: &str,
    specs: Vec<(&str, Vec<DynIden>, bool)>,
) -> Result<(), DbErr> {
    for (name, columns, unique) in specs {
        let mut index = Index::create();
        index
            .name(format!(
                "{}_{prefix}__{name}",
                if unique { "ux" } else { "ix" }
            ))
            .table(table);
        for column in columns {
            index.col(column);
        }
        if unique {
            index.unique();
        }
        manager.create_index(index).await?;
    }
    Ok(())
}

pub(crate) fn cols(columns: impl IntoIterator<Item = impl IntoIden>) -> Vec<DynIden> {
    columns.into_iter().map(IntoIden::into_iden).collect()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Configurations::Table)
                    .col(id(Configurations::Id))
                    .col(
                        ColumnDef::new(Configurations::OrganizationId)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Configurations::Name)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Configurations::Type)
                            .string_len(8)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Configurations::Status)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Configurations::PrimarySubstation)
                            .string_len(11)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Configurations::MarketZone)
                            .string_len(8)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Configurations::Region)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Configurations::ReferentId).integer())
                    .col(ColumnDef::new(Configurations::Description).text())
                    .col(ColumnDef::new(Configurations::ConstitutedOn).date())
                    .col(ColumnDef::new(Configurations::ActivationDate).date())
                    .col(timestamp(Configurations::CreatedAt))
                    .col(timestamp(Configurations::UpdatedAt))
                    .foreign_key(&mut foreign_key(
                        "fk_configurations__organization_id",
                        (Configurations::Table, Configurations::OrganizationId),
                        (Organizations::Table, Organizations::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut foreign_key(
                        "fk_configurations__referent_id",
                        (Configurations::Table, Configurations::ReferentId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        indexes(
            manager,
            Configurations::Table,
            "configurations",
            vec![
                (
                    "organization_id",
                    cols([Configurations::OrganizationId]),
                    false,
                ),
                ("referent_id", cols([Configurations::ReferentId]), false),
                ("status", cols([Configurations::Status]), false),
                ("type", cols([Configurations::Type]), false),
            ],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Members::Table)
                    .col(id(Members::Id))
                    .col(
                        ColumnDef::new(Members::ConfigurationId)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Members::UserId).integer())
                    .col(ColumnDef::new(Members::Pod).string_len(15).not_null())
                    .col(ColumnDef::new(Members::Role).string_len(16).not_null())
                    .col(ColumnDef::new(Members::Category).string_len(32).not_null())
                    .col(ColumnDef::new(Members::Status).string_len(16).not_null())
                    .col(ColumnDef::new(Members::JoinedAt).date().not_null())
                    .col(ColumnDef::new(Members::WithdrawnAt).date())
                    .col(
                        ColumnDef::new(Members::NetMetering)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(timestamp(Members::CreatedAt))
                    .col(timestamp(Members::UpdatedAt))
                    .foreign_key(&mut foreign_key(
                        "fk_members__configuration_id",
                        (Members::Table, Members::ConfigurationId),
                        (Configurations::Table, Configurations::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut foreign_key(
                        "fk_members__user_id",
                        (Members::Table, Members::UserId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        indexes(
            manager,
            Members::Table,
            "members",
            vec![
                ("configuration_id", cols([Members::ConfigurationId]), false),
                ("user_id", cols([Members::UserId]), false),
                ("pod", cols([Members::Pod]), false),
                ("role", cols([Members::Role]), false),
                ("status", cols([Members::Status]), false),
                ("category", cols([Members::Category]), false),
            ],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Plants::Table)
                    .col(id(Plants::Id))
                    .col(ColumnDef::new(Plants::MemberId).integer().not_null())
                    .col(ColumnDef::new(Plants::Name).string_len(200).not_null())
                    .col(ColumnDef::new(Plants::Source).string_len(16).not_null())
                    .col(ColumnDef::new(Plants::PowerW).big_integer().not_null())
                    .col(ColumnDef::new(Plants::CommissionedOn).date().not_null())
                    .col(
                        ColumnDef::new(Plants::CapitalGrantPpm)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(
                        ColumnDef::new(Plants::ConnectionVoltage)
                            .string_len(4)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Plants::CensimpCode).string_len(32))
                    .col(timestamp(Plants::CreatedAt))
                    .col(timestamp(Plants::UpdatedAt))
                    .foreign_key(&mut foreign_key(
                        "fk_plants__member_id",
                        (Plants::Table, Plants::MemberId),
                        (Members::Table, Members::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        indexes(
            manager,
            Plants::Table,
            "plants",
            vec![("member_id", cols([Plants::MemberId]), false)],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(CommunityUsers::Table)
                    .col(id(CommunityUsers::Id))
                    .col(
                        ColumnDef::new(CommunityUsers::OrganizationId)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CommunityUsers::Email)
                            .string_len(254)
                            .not_null(),
                    )
                    .col(ColumnDef::new(CommunityUsers::FullName).string_len(200))
                    .col(
                        ColumnDef::new(CommunityUsers::Role)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CommunityUsers::Status)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(CommunityUsers::UserId).integer())
                    .col(timestamp(CommunityUsers::CreatedAt))
                    .col(timestamp(CommunityUsers::UpdatedAt))
                    .foreign_key(&mut foreign_key(
                        "fk_community_users__organization_id",
                        (CommunityUsers::Table, CommunityUsers::OrganizationId),
                        (Organizations::Table, Organizations::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut foreign_key(
                        "fk_community_users__user_id",
                        (CommunityUsers::Table, CommunityUsers::UserId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        // Emails are unique per organization (tenants must not learn of each other's people).
        indexes(
            manager,
            CommunityUsers::Table,
            "community_users",
            vec![
                (
                    "email",
                    cols([CommunityUsers::OrganizationId, CommunityUsers::Email]),
                    true,
                ),
                ("user_id", cols([CommunityUsers::UserId]), true),
                ("status", cols([CommunityUsers::Status]), false),
            ],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Transactions::Table)
                    .col(id(Transactions::Id))
                    .col(
                        ColumnDef::new(Transactions::ConfigurationId)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Transactions::MemberId).integer())
                    .col(ColumnDef::new(Transactions::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(Transactions::PeriodStart).date().not_null())
                    .col(ColumnDef::new(Transactions::PeriodEnd).date().not_null())
                    .col(ColumnDef::new(Transactions::EnergyWh).big_integer())
                    .col(
                        ColumnDef::new(Transactions::AmountCents)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Transactions::Status)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Transactions::Description).text())
                    .col(ColumnDef::new(Transactions::Reference).string_len(200))
                    .col(ColumnDef::new(Transactions::CreatedBy).integer().not_null())
                    .col(timestamp(Transactions::CreatedAt))
                    .col(ColumnDef::new(Transactions::SettledAt).timestamp_with_time_zone())
                    .foreign_key(&mut foreign_key(
                        "fk_transactions__configuration_id",
                        (Transactions::Table, Transactions::ConfigurationId),
                        (Configurations::Table, Configurations::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut foreign_key(
                        "fk_transactions__member_id",
                        (Transactions::Table, Transactions::MemberId),
                        (Members::Table, Members::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut foreign_key(
                        "fk_transactions__created_by",
                        (Transactions::Table, Transactions::CreatedBy),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        indexes(
            manager,
            Transactions::Table,
            "transactions",
            vec![
                (
                    "configuration_id",
                    cols([Transactions::ConfigurationId]),
                    false,
                ),
                ("member_id", cols([Transactions::MemberId]), false),
                ("kind", cols([Transactions::Kind]), false),
                ("status", cols([Transactions::Status]), false),
                (
                    "period",
                    cols([Transactions::PeriodStart, Transactions::PeriodEnd]),
                    false,
                ),
                ("created_by", cols([Transactions::CreatedBy]), false),
            ],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .col(id(IdempotencyKeys::Id))
                    .col(ColumnDef::new(IdempotencyKeys::UserId).integer().not_null())
                    .col(
                        ColumnDef::new(IdempotencyKeys::Key)
                            .string_len(255)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IdempotencyKeys::RequestHash)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IdempotencyKeys::StatusCode)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IdempotencyKeys::ResponseBody)
                            .text()
                            .not_null(),
                    )
                    .col(timestamp(IdempotencyKeys::CreatedAt))
                    .foreign_key(&mut foreign_key(
                        "fk_idempotency_keys__user_id",
                        (IdempotencyKeys::Table, IdempotencyKeys::UserId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        indexes(
            manager,
            IdempotencyKeys::Table,
            "idempotency_keys",
            vec![(
                "key",
                cols([IdempotencyKeys::UserId, IdempotencyKeys::Key]),
                true,
            )],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            IdempotencyKeys::Table.into_iden(),
            Transactions::Table.into_iden(),
            CommunityUsers::Table.into_iden(),
            Plants::Table.into_iden(),
            Members::Table.into_iden(),
            Configurations::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
