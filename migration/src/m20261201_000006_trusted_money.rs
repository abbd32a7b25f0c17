//! Money you can trust (issue 10):
//! - members say who holds the point (`holder_type`, replacing `category`: one field answers
//!   both "may it join a CER" and "is its shared energy exempt from the grant reduction F"),
//!   and may record the point's available power (`available_power_w`, for the import's
//!   plausibility bound on withdrawal);
//! - settlement runs carry the version of their stored report and, when an operator finalised a
//!   month with gaps on purpose, the reason and who accepted it;
//! - imports keep the warnings they were accepted with (outliers stored on request), and the
//!   import that reverted them (a `revert` record of its own);
//! - memberships and plants record when GSE was notified (`gse_notified_on`, null = not yet):
//!   from 4 Apr 2025 a change counts for GSE from the later of the day it happened and the
//!   notification, and only from the notification when that came more than 120 days late;
//! - configurations record their municipality's population (the PNRR grant's threshold);
//! - dated rules as parameters: the top of the last tariff band (above it, no tariff), the F
//!   exemption of natural persons and the PNRR thresholds of DM MASE 16 May 2025 n. 127 (in
//!   force 26 Jun 2025: municipalities under 50,000, commissioning by 31 Dec 2027), and GSE's
//!   lateness limit for notifications (from 4 Apr 2025).
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::batch;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `(code, value in millionths, unit, valid_from, valid_to, note)`.
type Rule = (
    &'static str,
    i64,
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static str,
);

const RULES: &[Rule] = &[
    (
        "TIP_BAND3_KW",
        1_000_000_000,
        "kW",
        "2024-01-01",
        None,
        "DM 414/2023 art. 3: plants above 1 MW (same-source sections behind one POD) earn no tariff",
    ),
    (
        "F_EXEMPT_PERSONS",
        0,
        "flag",
        "2024-01-01",
        Some("2025-06-26"),
        "DM 414/2023: F applies to natural persons' shared energy",
    ),
    (
        "PNRR_MAX_POP",
        5_000_000_000,
        "inhabitants",
        "2024-01-01",
        Some("2025-06-26"),
        "DM 414/2023: the PNRR grant is for plants in municipalities under 5,000 inhabitants",
    ),
    (
        "PNRR_MAX_POP",
        50_000_000_000,
        "inhabitants",
        "2025-06-26",
        None,
        "DM MASE 16 May 2025 n. 127: municipalities under 50,000 inhabitants",
    ),
    (
        "PNRR_LAST_DAY",
        20_271_231_000_000,
        "yyyymmdd",
        "2025-06-26",
        None,
        "DM MASE 16 May 2025 n. 127: plants with the PNRR grant commissioned by 31 Dec 2027",
    ),
    (
        "GSE_LATE_DAYS",
        120_000_000,
        "days",
        "2025-04-04",
        None,
        "GSE, changes after admission (from 4 Apr 2025): notified later than this, a change counts from its notification",
    ),
    (
        "F_EXEMPT_PERSONS",
        1_000_000,
        "flag",
        "2025-06-26",
        None,
        "DM MASE 16 May 2025 n. 127 (in force 26 Jun 2025): no F on natural persons' shared energy",
    ),
];

/// `(old category, holder type)`; the other values keep their names.
const RENAMED: &[(&str, &str)] = &[
    ("domestic", "natural_person"),
    ("large_enterprise", "other_company"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let big = match manager.get_database_backend() {
            DbBackend::Postgres => "BIGINT",
            _ => "integer",
        };
        let mut statements = vec![
            "DROP INDEX ix_members__category".to_string(),
            "ALTER TABLE members RENAME COLUMN category TO holder_type".to_string(),
            "CREATE INDEX ix_members__holder_type ON members (holder_type)".to_string(),
            format!("ALTER TABLE members ADD COLUMN available_power_w {big} NULL"),
            "ALTER TABLE members ADD COLUMN gse_notified_on date NULL".to_string(),
            "ALTER TABLE plants ADD COLUMN gse_notified_on date NULL".to_string(),
            "ALTER TABLE configurations ADD COLUMN municipality_population integer NULL"
                .to_string(),
            "ALTER TABLE settlement_runs ADD COLUMN report_version integer NOT NULL DEFAULT 1"
                .to_string(),
            "ALTER TABLE settlement_runs ADD COLUMN incomplete_reason text NULL".to_string(),
            "ALTER TABLE settlement_runs ADD COLUMN incomplete_accepted_by integer NULL"
                .to_string(),
            "ALTER TABLE reading_imports ADD COLUMN warnings text NULL".to_string(),
            "ALTER TABLE reading_imports ADD COLUMN reverted_by_import_id integer NULL".to_string(),
        ];
        for (from, to) in RENAMED {
            statements.push(format!(
                "UPDATE members SET holder_type = '{to}' WHERE holder_type = '{from}'"
            ));
        }
        for (code, value, unit, from, to, note) in RULES {
            let to = to.map_or("NULL".to_string(), |d| format!("'{d}'"));
            let note = note.replace('\'', "''");
            statements.push(format!(
                "INSERT INTO market_parameters (code, value_micro, unit, valid_from, valid_to, note, created_at, updated_at) \
                 VALUES ('{code}', {value}, '{unit}', '{from}', {to}, '{note}', \
                 '2026-12-01T00:00:00+00:00', '2026-12-01T00:00:00+00:00')"
            ));
        }
        batch(manager, &statements).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut statements = Vec::new();
        for (from, to) in RENAMED {
            statements.push(format!(
                "UPDATE members SET holder_type = '{from}' WHERE holder_type = '{to}'"
            ));
        }
        // Holder types that had no category before: the nearest one.
        statements.push(
            "UPDATE members SET holder_type = 'sme' WHERE holder_type NOT IN \
             ('domestic', 'sme', 'public_body', 'religious_or_third_sector', 'large_enterprise')"
                .to_string(),
        );
        statements.extend([
            "DROP INDEX ix_members__holder_type".to_string(),
            "ALTER TABLE members RENAME COLUMN holder_type TO category".to_string(),
            "CREATE INDEX ix_members__category ON members (category)".to_string(),
            "ALTER TABLE members DROP COLUMN available_power_w".to_string(),
            "ALTER TABLE members DROP COLUMN gse_notified_on".to_string(),
            "ALTER TABLE plants DROP COLUMN gse_notified_on".to_string(),
            "ALTER TABLE configurations DROP COLUMN municipality_population".to_string(),
            "ALTER TABLE settlement_runs DROP COLUMN report_version".to_string(),
            "ALTER TABLE settlement_runs DROP COLUMN incomplete_reason".to_string(),
            "ALTER TABLE settlement_runs DROP COLUMN incomplete_accepted_by".to_string(),
            "ALTER TABLE reading_imports DROP COLUMN warnings".to_string(),
            "ALTER TABLE reading_imports DROP COLUMN reverted_by_import_id".to_string(),
            "DELETE FROM market_parameters WHERE code IN ('TIP_BAND3_KW', 'F_EXEMPT_PERSONS', 'GSE_LATE_DAYS', 'PNRR_MAX_POP', 'PNRR_LAST_DAY')"
                .to_string(),
        ]);
        batch(manager, &statements).await
    }
}
