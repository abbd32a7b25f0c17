//! An append-only audit trail (issue 18): who did what, when, from where, to which object, for
//! the security-relevant events — sign-ins and their failures, role and status changes, IBAN
//! changes decided, consents, finalisations, payout approvals and exports, imports and reverts.
//!
//! - `audit_events`: when (`at`), the account (`actor_id`, and its e-mail then, `actor`, since an
//!   address may change), the client address, the action (`user.signed_in`, …), the object
//!   (`object_type`, `object_id`), the configuration it belongs to (so that a referent reads
//!   their configurations' events), and the details as JSON text.
//! - No foreign keys: nothing that happens to an account or a configuration may change a row.
//! - Append-only in the database itself: a trigger refuses every `UPDATE` and `DELETE` (and, on
//!   PostgreSQL, `TRUNCATE`), so that not even a bug or a hand-typed statement can edit the
//!   trail; only dropping the table (this migration's `down`) removes it.
use sea_orm_migration::prelude::*;

use crate::each;
use crate::m20261126_000002_communities::{cols, id, indexes, timestamp};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum AuditEvents {
    Table,
    Id,
    At,
    ActorId,
    Actor,
    Address,
    Action,
    ObjectType,
    ObjectId,
    ConfigurationId,
    Detail,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .col(id(AuditEvents::Id))
                    .col(timestamp(AuditEvents::At))
                    .col(ColumnDef::new(AuditEvents::ActorId).integer())
                    .col(ColumnDef::new(AuditEvents::Actor).string_len(255))
                    .col(ColumnDef::new(AuditEvents::Address).string_len(64))
                    .col(
                        ColumnDef::new(AuditEvents::Action)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AuditEvents::ObjectType)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(ColumnDef::new(AuditEvents::ObjectId).big_integer())
                    .col(ColumnDef::new(AuditEvents::ConfigurationId).integer())
                    .col(ColumnDef::new(AuditEvents::Detail).text().not_null())
                    .to_owned(),
            )
            .await?;
        // The trail newest first; a configuration's, an account's.
        indexes(
            manager,
            AuditEvents::Table,
            "audit_events",
            vec![
                (
                    "configuration_id",
                    cols([AuditEvents::ConfigurationId, AuditEvents::Id]),
                    false,
                ),
                (
                    "actor_id",
                    cols([AuditEvents::ActorId, AuditEvents::Id]),
                    false,
                ),
            ],
        )
        .await?;
        match manager.get_database_backend() {
            sea_orm::DbBackend::Postgres => {
                each(
                    manager,
                    &[
                        "CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ \
                         BEGIN RAISE EXCEPTION 'audit events are append-only'; END $$",
                        "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events \
                         FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
                        "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events \
                         FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()",
                    ],
                )
                .await
            }
            _ => {
                each(
                    manager,
                    &[
                        "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events \
                         BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END",
                        "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events \
                         BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END",
                    ],
                )
                .await
            }
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditEvents::Table).to_owned())
            .await?;
        if manager.get_database_backend() == sea_orm::DbBackend::Postgres {
            each(manager, &["DROP FUNCTION audit_events_append_only()"]).await?;
        }
        Ok(())
    }
}
