//! The users search on SQLite answered by a trigram index (issue 13).
//!
//! PostgreSQL answers `GET /users/?search=` from a trigram GIN index over `users.search_text`
//! (migration 7). SQLite had no index for a `LIKE '%…%'`: every search read every user and ran
//! four `LIKE … ESCAPE` per row, twice (the total and the page), which made the embedded default
//! the slower database for a read. SQLite's FTS5 with its `trigram` tokenizer (built into the
//! bundled SQLite) is the same kind of index: `users_search` holds each user's `search_text`
//! under the user's id, and a quoted phrase of three characters or more matches exactly the
//! rows whose text contains it, case-folded. Triggers keep it in the same transaction as every
//! insert, change of a searched field and delete, whatever writes them. PostgreSQL: nothing.
use sea_orm_migration::prelude::*;

use crate::each_on_sqlite;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &[&str] = &[
    "CREATE VIRTUAL TABLE users_search USING fts5(search_text, tokenize = 'trigram')",
    "INSERT INTO users_search (rowid, search_text) SELECT id, search_text FROM users",
    "CREATE TRIGGER tr_users__search_insert AFTER INSERT ON users BEGIN \
     INSERT INTO users_search (rowid, search_text) VALUES (NEW.id, NEW.search_text); \
     END",
    "CREATE TRIGGER tr_users__search_update \
     AFTER UPDATE OF email, username, full_name, fiscal_code ON users BEGIN \
     UPDATE users_search SET search_text = NEW.search_text WHERE rowid = OLD.id; \
     END",
    "CREATE TRIGGER tr_users__search_delete AFTER DELETE ON users BEGIN \
     DELETE FROM users_search WHERE rowid = OLD.id; \
     END",
];

const DOWN: &[&str] = &[
    "DROP TRIGGER tr_users__search_insert",
    "DROP TRIGGER tr_users__search_update",
    "DROP TRIGGER tr_users__search_delete",
    "DROP TABLE users_search",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        each_on_sqlite(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        each_on_sqlite(manager, DOWN).await
    }
}
