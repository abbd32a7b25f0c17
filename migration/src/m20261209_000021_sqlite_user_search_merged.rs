//! SQLite only: keep the users' search index (`users_search`, migration 17) merged.
//!
//! FTS5 writes every transaction's rows as a new segment of its index and merges segments
//! only when four of one level pile up (`automerge` 4, `crisismerge` 16). Users arrive one
//! transaction at a time, so after a thousand sign-ups a search read some dozen segments per
//! trigram. Measured on the benchmark's 1,000 users (BENCHMARKS.md, issue 13, tenth pass): the
//! users search ran 2,788–2,848 req/s on such an index and 3,416–3,614 with the settings below
//! (4,010–4,144 on a fully optimised one), while a sign-up costs about 10 % more index work.
//!
//! - `automerge` 2 and `crisismerge` 2: merge as soon as two segments share a level;
//! - `optimize` once, for the segments an existing database already holds.
//!
//! The settings live in the index's own `users_search_config` table, so they hold for every
//! connection and every instance of the embedded server. PostgreSQL has no such index.
use sea_orm_migration::prelude::*;

use crate::each_on_sqlite;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &[&str] = &[
    "INSERT INTO users_search (users_search, rank) VALUES ('automerge', 2)",
    "INSERT INTO users_search (users_search, rank) VALUES ('crisismerge', 2)",
    "INSERT INTO users_search (users_search) VALUES ('optimize')",
];

/// FTS5's own defaults.
const DOWN: &[&str] = &[
    "INSERT INTO users_search (users_search, rank) VALUES ('automerge', 4)",
    "INSERT INTO users_search (users_search, rank) VALUES ('crisismerge', 16)",
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
