//! `condivisa migrate check`: does the live database have the schema this build expects?
//!
//! The expected schema is what the migrations produce, built in a scratch space (an in-memory
//! SQLite database, or a temporary PostgreSQL schema) and read back the same way as the live
//! one; the entities are checked against it too, so code, migrations and database must agree.
//! Compared: tables, columns (type, nullability), indexes (columns, uniqueness), foreign keys.
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, EntityTrait,
    Iterable, Statement,
};

use crate::models;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Table {
    /// name → (type, nullable)
    pub columns: BTreeMap<String, (String, bool)>,
    /// name → (columns, unique)
    pub indexes: BTreeMap<String, (Vec<String>, bool)>,
    /// (column, referenced table, referenced column)
    pub foreign_keys: BTreeSet<(String, String, String)>,
}

pub type Snapshot = BTreeMap<String, Table>;

const VERSION_TABLE: &str = "seaql_migrations";

/// The differences between what this build expects and the live database; empty when they agree.
pub async fn check(live: &DatabaseConnection, database_url: &str) -> Result<Vec<String>, DbErr> {
    let expected = expected_snapshot(live.get_database_backend(), database_url).await?;
    let actual = snapshot(live, None).await?;
    let mut differences = entity_differences(&expected);
    differences.extend(diff(&expected, &actual));
    Ok(differences)
}

async fn expected_snapshot(backend: DbBackend, database_url: &str) -> Result<Snapshot, DbErr> {
    match backend {
        DbBackend::Postgres => {
            let schema = format!("condivisa_check_{}", uuid::Uuid::new_v4().simple());
            let admin = Database::connect(database_url).await?;
            admin
                .execute_unprepared(&format!("CREATE SCHEMA \"{schema}\""))
                .await?;
            let result = async {
                let mut options = ConnectOptions::new(database_url.to_string());
                let search_path = schema.clone();
                options
                    .max_connections(1)
                    .sqlx_logging(false)
                    .acquire_timeout(Duration::from_secs(10))
                    .map_sqlx_postgres_opts(move |o| {
                        o.options([("search_path", search_path.as_str())])
                    });
                let scratch = Database::connect(options).await?;
                Migrator::up(&scratch, None).await?;
                let snapshot = snapshot(&scratch, Some(&schema)).await;
                scratch.close().await?;
                snapshot
            }
            .await;
            admin
                .execute_unprepared(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
                .await?;
            admin.close().await?;
            result
        }
        _ => {
            let mut options = ConnectOptions::new("sqlite::memory:".to_string());
            options
                .max_connections(1)
                .min_connections(1)
                .sqlx_logging(false);
            let scratch = Database::connect(options).await?;
            Migrator::up(&scratch, None).await?;
            snapshot(&scratch, None).await
        }
    }
}

/// Reads the schema of a database (for PostgreSQL, of `schema` or the current one).
pub async fn snapshot(db: &DatabaseConnection, schema: Option<&str>) -> Result<Snapshot, DbErr> {
    match db.get_database_backend() {
        DbBackend::Postgres => postgres_snapshot(db, schema).await,
        _ => sqlite_snapshot(db).await,
    }
}

async fn rows(
    db: &DatabaseConnection,
    sql: &str,
    values: Vec<sea_orm::Value>,
) -> Result<Vec<sea_orm::QueryResult>, DbErr> {
    db.query_all_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        sql,
        values,
    ))
    .await
}

async fn sqlite_snapshot(db: &DatabaseConnection) -> Result<Snapshot, DbErr> {
    let mut snapshot = Snapshot::new();
    let tables = rows(
        db,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        vec![],
    )
    .await?;
    for row in tables {
        let name: String = row.try_get("", "name")?;
        if name == VERSION_TABLE {
            continue;
        }
        let mut table = Table::default();
        for column in rows(db, &format!("PRAGMA table_info(\"{name}\")"), vec![]).await? {
            let column_name: String = column.try_get("", "name")?;
            let data_type: String = column.try_get("", "type")?;
            let not_null: i32 = column.try_get("", "notnull")?;
            let primary_key: i32 = column.try_get("", "pk")?;
            table.columns.insert(
                column_name,
                (data_type.to_lowercase(), not_null == 0 && primary_key == 0),
            );
        }
        for index in rows(db, &format!("PRAGMA index_list(\"{name}\")"), vec![]).await? {
            let index_name: String = index.try_get("", "name")?;
            if index_name.starts_with("sqlite_autoindex") {
                continue;
            }
            let unique: i32 = index.try_get("", "unique")?;
            let mut columns = Vec::new();
            for column in rows(db, &format!("PRAGMA index_info(\"{index_name}\")"), vec![]).await? {
                columns.push(column.try_get::<String>("", "name")?);
            }
            table.indexes.insert(index_name, (columns, unique != 0));
        }
        for key in rows(db, &format!("PRAGMA foreign_key_list(\"{name}\")"), vec![]).await? {
            table.foreign_keys.insert((
                key.try_get("", "from")?,
                key.try_get("", "table")?,
                key.try_get("", "to")?,
            ));
        }
        snapshot.insert(name, table);
    }
    Ok(snapshot)
}

/// The schema's partitions (the readings' months, created with the data, not by migrations): the
/// partitioned table stands for them.
const PARTITIONS: &str = "SELECT c.relname FROM pg_class c WHERE c.relispartition \
     AND c.relnamespace = CAST($1 AS regnamespace)";

async fn postgres_snapshot(
    db: &DatabaseConnection,
    schema: Option<&str>,
) -> Result<Snapshot, DbErr> {
    let schema = match schema {
        Some(schema) => schema.to_string(),
        None => {
            let row = rows(db, "SELECT current_schema() AS schema", vec![]).await?;
            row.first()
                .map(|r| r.try_get::<String>("", "schema"))
                .transpose()?
                .unwrap_or_else(|| "public".into())
        }
    };
    let mut snapshot = Snapshot::new();
    let columns = rows(
        db,
        &format!(
            "SELECT table_name, column_name, data_type, character_maximum_length, is_nullable \
             FROM information_schema.columns WHERE table_schema = $1 AND table_name NOT IN ({PARTITIONS}) \
             ORDER BY table_name, ordinal_position"
        ),
        vec![schema.clone().into()],
    )
    .await?;
    for row in columns {
        let table: String = row.try_get("", "table_name")?;
        if table == VERSION_TABLE {
            continue;
        }
        let column: String = row.try_get("", "column_name")?;
        let mut data_type: String = row.try_get("", "data_type")?;
        if let Some(length) = row.try_get::<Option<i32>>("", "character_maximum_length")? {
            data_type = format!("{data_type}({length})");
        }
        let nullable: String = row.try_get("", "is_nullable")?;
        snapshot
            .entry(table)
            .or_default()
            .columns
            .insert(column, (data_type, nullable == "YES"));
    }
    let indexes = rows(
        db,
        &format!(
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = $1 \
             AND tablename NOT IN ({PARTITIONS})"
        ),
        vec![schema.clone().into()],
    )
    .await?;
    for row in indexes {
        let table: String = row.try_get("", "tablename")?;
        let name: String = row.try_get("", "indexname")?;
        if table == VERSION_TABLE || name.ends_with("_pkey") {
            continue;
        }
        let definition: String = row.try_get("", "indexdef")?;
        let columns = index_columns(&definition);
        let unique = definition.starts_with("CREATE UNIQUE");
        snapshot
            .entry(table)
            .or_default()
            .indexes
            .insert(name, (columns, unique));
    }
    let keys = rows(
        db,
        "SELECT kcu.table_name, kcu.column_name, ccu.table_name AS foreign_table, ccu.column_name AS foreign_column \
         FROM information_schema.table_constraints tc \
         JOIN information_schema.key_column_usage kcu \
           ON tc.constraint_name = kcu.constraint_name AND tc.table_schema = kcu.table_schema \
         JOIN information_schema.constraint_column_usage ccu \
           ON ccu.constraint_name = tc.constraint_name AND ccu.table_schema = tc.table_schema \
         WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = $1",
        vec![schema.into()],
    )
    .await?;
    for row in keys {
        let table: String = row.try_get("", "table_name")?;
        snapshot.entry(table).or_default().foreign_keys.insert((
            row.try_get("", "column_name")?,
            row.try_get("", "foreign_table")?,
            row.try_get("", "foreign_column")?,
        ));
    }
    Ok(snapshot)
}

/// The key columns of `CREATE [UNIQUE] INDEX name ON table USING method (a, b) [WHERE …]`:
/// the parentheses after `USING`, read to their matching close (a partial index's predicate has
/// parentheses of its own, which PostgreSQL prints differently after a dump and restore), each
/// without its operator class (`search_text gin_trgm_ops`, printed schema-qualified or not
/// depending on the search_path).
fn index_columns(definition: &str) -> Vec<String> {
    let Some(list) = definition
        .find(" USING ")
        .and_then(|using| definition[using..].find('(').map(|open| using + open + 1))
    else {
        return Vec::new();
    };
    let mut columns = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    for c in definition[list..].chars() {
        match c {
            ')' if depth == 0 => break,
            ',' if depth == 0 => columns.push(std::mem::take(&mut current)),
            '(' => {
                depth += 1;
                current.push(c);
            }
            ')' => {
                depth -= 1;
                current.push(c);
            }
            _ => current.push(c),
        }
    }
    columns.push(current);
    columns
        .iter()
        .map(|c| {
            c.split_whitespace()
                .next()
                .unwrap_or_default()
                .trim_matches('"')
                .to_string()
        })
        .collect()
}

/// Everything `actual` lacks or has beyond `expected`, in words.
pub fn diff(expected: &Snapshot, actual: &Snapshot) -> Vec<String> {
    let mut out = Vec::new();
    for name in actual.keys().filter(|name| !expected.contains_key(*name)) {
        out.push(format!("extra table `{name}`"));
    }
    for (name, want) in expected {
        let Some(have) = actual.get(name) else {
            out.push(format!("missing table `{name}`"));
            continue;
        };
        for (column, (data_type, nullable)) in &want.columns {
            match have.columns.get(column) {
                None => out.push(format!("missing column `{name}.{column}`")),
                Some((have_type, have_nullable)) => {
                    if have_type != data_type {
                        out.push(format!(
                            "column `{name}.{column}` has type {have_type}, expected {data_type}"
                        ));
                    }
                    if have_nullable != nullable {
                        let word = |n: &bool| if *n { "nullable" } else { "NOT NULL" };
                        out.push(format!(
                            "column `{name}.{column}` is {}, expected {}",
                            word(have_nullable),
                            word(nullable)
                        ));
                    }
                }
            }
        }
        for column in have
            .columns
            .keys()
            .filter(|c| !want.columns.contains_key(*c))
        {
            out.push(format!("extra column `{name}.{column}`"));
        }
        for (index, (columns, unique)) in &want.indexes {
            let kind = if *unique { "unique index" } else { "index" };
            match have.indexes.get(index) {
                None => out.push(format!(
                    "missing {kind} `{index}` on `{name}` ({})",
                    columns.join(", ")
                )),
                Some(found) if found != &(columns.clone(), *unique) => out.push(format!(
                    "index `{index}` on `{name}` is ({}){}, expected ({}){}",
                    found.0.join(", "),
                    if found.1 { " unique" } else { "" },
                    columns.join(", "),
                    if *unique { " unique" } else { "" }
                )),
                Some(_) => {}
            }
        }
        for index in have
            .indexes
            .keys()
            .filter(|i| !want.indexes.contains_key(*i))
        {
            out.push(format!("extra index `{index}` on `{name}`"));
        }
        for key in want.foreign_keys.difference(&have.foreign_keys) {
            out.push(format!(
                "missing foreign key `{name}.{}` → `{}.{}`",
                key.0, key.1, key.2
            ));
        }
        for key in have.foreign_keys.difference(&want.foreign_keys) {
            out.push(format!(
                "extra foreign key `{name}.{}` → `{}.{}`",
                key.0, key.1, key.2
            ));
        }
    }
    out
}

fn entity_columns<E: EntityTrait>() -> (String, Vec<String>) {
    use sea_orm::IdenStatic;
    let table = E::default().table_name().to_string();
    let columns = E::Column::iter().map(|c| c.as_str().to_string()).collect();
    (table, columns)
}

/// The entities must find every column they map in the schema the migrations build.
fn entity_differences(expected: &Snapshot) -> Vec<String> {
    let entities = [
        entity_columns::<models::organization::Entity>(),
        entity_columns::<models::user::Entity>(),
        entity_columns::<models::refresh_token::Entity>(),
        entity_columns::<models::configuration::Entity>(),
        entity_columns::<models::member::Entity>(),
        entity_columns::<models::holder::Entity>(),
        entity_columns::<models::holder_consent::Entity>(),
        entity_columns::<models::holder_revision::Entity>(),
        entity_columns::<models::iban_change_request::Entity>(),
        entity_columns::<models::login_throttle::Entity>(),
        entity_columns::<models::plant::Entity>(),
        entity_columns::<models::community_user::Entity>(),
        entity_columns::<models::transaction::Entity>(),
        entity_columns::<models::idempotency_key::Entity>(),
        entity_columns::<models::settlement_policy::Entity>(),
        entity_columns::<models::settlement_run::Entity>(),
        entity_columns::<models::settlement_line::Entity>(),
        entity_columns::<models::reading_import::Entity>(),
        entity_columns::<models::gse_statement::Entity>(),
        entity_columns::<models::payout_batch::Entity>(),
        entity_columns::<models::payout_item::Entity>(),
        entity_columns::<models::statement_mailing::Entity>(),
        entity_columns::<models::statement_mailing_item::Entity>(),
        entity_columns::<models::mail_outbox::Entity>(),
        entity_columns::<models::web_session::Entity>(),
    ];
    let mut out = Vec::new();
    for (table, columns) in entities {
        match expected.get(&table) {
            None => out.push(format!("entity `{table}` has no table in the migrations")),
            Some(found) => {
                for column in columns.iter().filter(|c| !found.columns.contains_key(*c)) {
                    out.push(format!("entity `{table}` maps column `{column}`, which the migrations do not create"));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_columns_ignore_a_partial_indexs_predicate() {
        let original = "CREATE UNIQUE INDEX ux_payout_batches__open ON public.payout_batches USING btree (configuration_id) WHERE ((status)::text = ANY ((ARRAY['draft'::character varying, 'approved'::character varying])::text[]))";
        let restored = "CREATE UNIQUE INDEX ux_payout_batches__open ON public.payout_batches USING btree (configuration_id) WHERE ((status)::text = ANY (ARRAY[('draft'::character varying)::text, ('approved'::character varying)::text]))";
        assert_eq!(index_columns(original), vec!["configuration_id"]);
        assert_eq!(index_columns(restored), vec!["configuration_id"]);
        assert_eq!(
            index_columns(
                "CREATE INDEX ix_users__search ON public.users USING gin (search_text public.gin_trgm_ops, lower((email)::text))"
            ),
            vec!["search_text", "lower((email)::text)"]
        );
    }
}
