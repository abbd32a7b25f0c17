//! Indexes for the requests that run most (issue 13), each proven by EXPLAIN ANALYZE on the
//! benchmark's data (BENCHMARKS.md):
//! - a page of a configuration's members or ledger rows is `WHERE configuration_id = ? ORDER BY
//!   id LIMIT n`: an index on `(configuration_id, id)` reads exactly those rows in order (the
//!   single-column index made PostgreSQL walk the primary key and filter), and still serves the
//!   foreign key and the counts, so it replaces the single-column one;
//! - the users search matched four `lower(column) LIKE '%…%'` per row. One generated column,
//!   `search_text` (the four fields lower-cased, joined by the unit separator U+001F, which a
//!   search never contains), is matched once; on PostgreSQL a trigram GIN index (`pg_trgm`, a
//!   trusted extension: the database owner may create it) answers selective searches without
//!   reading the table. SQLite computes the column on read (it cannot add a stored one).
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::batch;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SEARCH_EXPRESSION: &str = "lower(email || {sep} || coalesce(username, '') || {sep} || \
     coalesce(full_name, '') || {sep} || coalesce(fiscal_code, ''))";

fn search_expression(backend: DbBackend) -> String {
    let separator = match backend {
        DbBackend::Postgres => "chr(31)",
        _ => "char(31)",
    };
    SEARCH_EXPRESSION.replace("{sep}", separator)
}

/// The tables paged per configuration.
const PAGED: &[&str] = &["members", "transactions"];

/// pg_trgm (created in `public` when the database has none) and the trigram index, with the
/// operator class named by the extension's schema, so that the index resolves whatever the
/// session's `search_path` (the schema check migrates a scratch schema with only itself on it).
/// In one statement, so that `condivisa migrate --sql` can write it out too.
const TRIGRAM_INDEX: &str = "DO $$ DECLARE trigram_schema text; BEGIN \
     CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public; \
     SELECT n.nspname INTO trigram_schema FROM pg_extension e \
     JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'; \
     EXECUTE format('CREATE INDEX ix_users__search_text ON users \
     USING gin (search_text %I.gin_trgm_ops)', trigram_schema); END $$";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let mut statements = Vec::new();
        for table in PAGED {
            statements.push(format!("DROP INDEX ix_{table}__configuration_id"));
            statements.push(format!(
                "CREATE INDEX ix_{table}__configuration_page ON {table} (configuration_id, id)"
            ));
        }
        let expression = search_expression(backend);
        match backend {
            DbBackend::Postgres => {
                statements.push(format!(
                    "ALTER TABLE users ADD COLUMN search_text text \
                     GENERATED ALWAYS AS ({expression}) STORED"
                ));
                statements.push(TRIGRAM_INDEX.to_string());
            }
            _ => statements.push(format!(
                "ALTER TABLE users ADD COLUMN search_text text \
                 GENERATED ALWAYS AS ({expression}) VIRTUAL"
            )),
        }
        batch(manager, &statements).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut statements = Vec::new();
        if manager.get_database_backend() == DbBackend::Postgres {
            // The extension stays: other schemas of the database may use it.
            statements.push("DROP INDEX ix_users__search_text".to_string());
        }
        statements.push("ALTER TABLE users DROP COLUMN search_text".to_string());
        for table in PAGED {
            statements.push(format!("DROP INDEX ix_{table}__configuration_page"));
            statements.push(format!(
                "CREATE INDEX ix_{table}__configuration_id ON {table} (configuration_id)"
            ));
        }
        batch(manager, &statements).await
    }
}
