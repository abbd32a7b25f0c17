//! `condivisa migrate revision -m "…"`: a new migration file from a template, registered in the
//! migrator so that the project builds straight away.
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};

/// `add user email column` → `add_user_email_column`.
pub fn slug(message: &str) -> String {
    let mut slug = String::new();
    for c in message.trim().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('_') && !slug.is_empty() {
            slug.push('_');
        }
    }
    slug.trim_end_matches('_')
        .chars()
        .take(60)
        .collect::<String>()
        .trim_end_matches('_')
        .to_string()
}

/// The module name: `m` + UTC timestamp + slug, e.g. `m20261126_101500_add_user_email_column`.
pub fn module_name(message: &str, now: DateTime<Utc>) -> String {
    format!("m{}_{}", now.format("%Y%m%d_%H%M%S"), slug(message))
}

/// The human description of a revision: its name without the timestamp.
pub fn description_of(name: &str) -> String {
    name.splitn(3, '_').nth(2).unwrap_or(name).replace('_', " ")
}

const TEMPLATE: &str = r#"//! DESCRIPTION
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // Apply the change here, e.g. `_manager.alter_table(…)`. Runs in a transaction on PostgreSQL.
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // Undo exactly what `up` did: every migration has a real `down`.
        Ok(())
    }
}
"#;

pub fn create(dir: &Path, message: &str, now: DateTime<Utc>) -> anyhow::Result<PathBuf> {
    if slug(message).is_empty() {
        bail!("the message must contain letters or digits");
    }
    let lib = dir.join("lib.rs");
    let source = std::fs::read_to_string(&lib).with_context(|| {
        format!(
            "reading {} (run from the repository root or pass --dir)",
            lib.display()
        )
    })?;
    let name = module_name(message, now);
    let file = dir.join(format!("{name}.rs"));
    if file.exists() {
        bail!("{} already exists", file.display());
    }
    let registered = register(&source, &name)?;
    std::fs::write(&file, TEMPLATE.replace("DESCRIPTION", message.trim()))?;
    std::fs::write(&lib, registered)?;
    Ok(file)
}

/// Adds `mod NAME;` after the last migration module and `Box::new(NAME::Migration)` after the
/// last entry of `migrations()`.
fn register(source: &str, name: &str) -> anyhow::Result<String> {
    let lines: Vec<&str> = source.lines().collect();
    let last_mod = lines
        .iter()
        .rposition(|line| line.starts_with("mod m"))
        .context("no `mod m…;` line in lib.rs")?;
    let last_entry = lines
        .iter()
        .rposition(|line| line.trim_start().starts_with("Box::new(m"))
        .context("no `Box::new(m…::Migration)` entry in lib.rs")?;
    let indent: String = lines[last_entry]
        .chars()
        .take_while(|c| c.is_whitespace())
        .collect();
    let mut out = Vec::with_capacity(lines.len() + 2);
    for (index, line) in lines.iter().enumerate() {
        let line = if index == last_entry && !line.trim_end().ends_with(',') {
            format!("{},", line.trim_end())
        } else {
            line.to_string()
        };
        out.push(line);
        if index == last_mod {
            out.push(format!("mod {name};"));
        }
        if index == last_entry {
            out.push(format!("{indent}Box::new({name}::Migration),"));
        }
    }
    Ok(out.join("\n") + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_timestamped_slugs() {
        let now = DateTime::parse_from_rfc3339("2026-11-26T10:15:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            module_name("Add user email column!", now),
            "m20261126_101500_add_user_email_column"
        );
        assert_eq!(
            slug("  split  full-name into first/last "),
            "split_full_name_into_first_last"
        );
        assert_eq!(
            description_of("m20261126_000002_communities"),
            "communities"
        );
    }

    #[test]
    fn registration_adds_the_module_and_the_entry() {
        let source = "mod m1_a;\nmod m2_b;\n\nfn migrations() {\n    vec![\n        Box::new(m1_a::Migration),\n        Box::new(m2_b::Migration),\n    ]\n}\n";
        let out = register(source, "m3_c").unwrap();
        assert!(out.contains("mod m2_b;\nmod m3_c;\n"), "{out}");
        assert!(
            out.contains(
                "        Box::new(m2_b::Migration),\n        Box::new(m3_c::Migration),\n    ]"
            ),
            "{out}"
        );
    }
}
