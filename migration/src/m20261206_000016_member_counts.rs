//! Each configuration's number of members, kept by the database itself (issue 13).
//!
//! The members page of a configuration (the console's and the API's `GET /members/?
//! configuration_id=`) answered its total by counting the configuration's index entries on
//! every request: most of the database's work for that page. `configurations.members_count` is
//! now maintained by triggers on `members` — in the same transaction as every insert, delete or
//! move of a member, whichever code path or tool makes it — so the page reads one row for its
//! total. PostgreSQL uses statement-level triggers over the transition tables (one update per
//! configuration per statement, however many rows a bulk import writes); SQLite row-level ones.
//! The column is not part of the configuration entity: no application write can set it.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::each;

#[derive(DeriveMigrationName)]
pub struct Migration;

const COLUMN: &str =
    "ALTER TABLE configurations ADD COLUMN members_count bigint NOT NULL DEFAULT 0";
const BACKFILL: &str = "UPDATE configurations SET members_count = \
     (SELECT count(*) FROM members WHERE members.configuration_id = configurations.id)";

/// PostgreSQL: the net change per configuration of one statement's rows.
const POSTGRES: &[&str] = &[
    "CREATE FUNCTION condivisa_members_count_added() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN \
       UPDATE configurations c SET members_count = c.members_count + d.n \
       FROM (SELECT configuration_id, count(*) AS n FROM added GROUP BY configuration_id) d \
       WHERE c.id = d.configuration_id; \
       RETURN NULL; \
     END $$",
    "CREATE FUNCTION condivisa_members_count_removed() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN \
       UPDATE configurations c SET members_count = c.members_count - d.n \
       FROM (SELECT configuration_id, count(*) AS n FROM removed GROUP BY configuration_id) d \
       WHERE c.id = d.configuration_id; \
       RETURN NULL; \
     END $$",
    // An update touches a count only when a member changes configuration.
    "CREATE FUNCTION condivisa_members_count_moved() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN \
       UPDATE configurations c SET members_count = c.members_count + d.n \
       FROM (SELECT configuration_id, sum(n) AS n FROM ( \
               SELECT configuration_id, 1 AS n FROM added \
               UNION ALL SELECT configuration_id, -1 FROM removed) moves \
             GROUP BY configuration_id HAVING sum(n) <> 0) d \
       WHERE c.id = d.configuration_id; \
       RETURN NULL; \
     END $$",
    "CREATE TRIGGER tr_members__count_insert AFTER INSERT ON members \
     REFERENCING NEW TABLE AS added FOR EACH STATEMENT \
     EXECUTE FUNCTION condivisa_members_count_added()",
    "CREATE TRIGGER tr_members__count_delete AFTER DELETE ON members \
     REFERENCING OLD TABLE AS removed FOR EACH STATEMENT \
     EXECUTE FUNCTION condivisa_members_count_removed()",
    "CREATE TRIGGER tr_members__count_update AFTER UPDATE ON members \
     REFERENCING OLD TABLE AS removed NEW TABLE AS added FOR EACH STATEMENT \
     EXECUTE FUNCTION condivisa_members_count_moved()",
];

const SQLITE: &[&str] = &[
    "CREATE TRIGGER tr_members__count_insert AFTER INSERT ON members BEGIN \
     UPDATE configurations SET members_count = members_count + 1 WHERE id = NEW.configuration_id; \
     END",
    "CREATE TRIGGER tr_members__count_delete AFTER DELETE ON members BEGIN \
     UPDATE configurations SET members_count = members_count - 1 WHERE id = OLD.configuration_id; \
     END",
    "CREATE TRIGGER tr_members__count_update AFTER UPDATE OF configuration_id ON members \
     WHEN NEW.configuration_id IS NOT OLD.configuration_id BEGIN \
     UPDATE configurations SET members_count = members_count - 1 WHERE id = OLD.configuration_id; \
     UPDATE configurations SET members_count = members_count + 1 WHERE id = NEW.configuration_id; \
     END",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        each(manager, &[COLUMN, BACKFILL]).await?;
        match manager.get_database_backend() {
            DbBackend::Postgres => each(manager, POSTGRES).await,
            _ => each(manager, SQLITE).await,
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut statements = vec![
            "DROP TRIGGER tr_members__count_insert ON members",
            "DROP TRIGGER tr_members__count_delete ON members",
            "DROP TRIGGER tr_members__count_update ON members",
            "DROP FUNCTION condivisa_members_count_added()",
            "DROP FUNCTION condivisa_members_count_removed()",
            "DROP FUNCTION condivisa_members_count_moved()",
        ];
        if manager.get_database_backend() != DbBackend::Postgres {
            statements = vec![
                "DROP TRIGGER tr_members__count_insert",
                "DROP TRIGGER tr_members__count_delete",
                "DROP TRIGGER tr_members__count_update",
            ];
        }
        statements.push("ALTER TABLE configurations DROP COLUMN members_count");
        each(manager, &statements).await
    }
}
