//! Zonal prices as stored.
use sea_orm::{ConnectionTrait, DbErr, Statement};

use crate::domain::market::PricePoint;
use crate::domain::quantities::from_fixed;
use crate::models::enums::MarketZone;

/// Prices are stored in millionths of €/MWh.
pub const PRICE_SCALE: u32 = 6;

/// The stored prices of `zone` in `[from, to)`, ascending.
pub async fn zonal_prices(
    db: &impl ConnectionTrait,
    zone: MarketZone,
    from: i64,
    to: i64,
) -> Result<Vec<PricePoint>, DbErr> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "SELECT interval_start, CAST(interval_minutes AS INTEGER) AS interval_minutes, eur_mwh_micro FROM zonal_prices \
             WHERE zone = $1 AND interval_start >= $2 AND interval_start < $3 ORDER BY interval_start",
            [zone.as_str().into(), from.into(), to.into()],
        ))
        .await?;
    rows.iter()
        .map(|r| {
            Ok(PricePoint {
                start: r.try_get("", "interval_start")?,
                minutes: r.try_get::<i32>("", "interval_minutes")? as u32,
                eur_mwh: from_fixed(r.try_get("", "eur_mwh_micro")?, PRICE_SCALE).normalize(),
            })
        })
        .collect()
}

/// Opens the import record of a price file (the caller's transaction): its id goes on every
/// price the file writes.
pub async fn insert_price_import(
    db: &impl sea_orm::ConnectionTrait,
    uploaded_by: i32,
    rows: u64,
    format: &str,
) -> Result<i32, sea_orm::DbErr> {
    let row = db
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            db.get_database_backend(),
            "INSERT INTO reading_imports (configuration_id, kind, source, format, uploaded_by, rows, intervals, pods, \
             new_values, revised_values, unchanged, created_at) \
             VALUES (NULL, 'prices', 'upload', $1, $2, $3, $4, 0, 0, 0, 0, $5) RETURNING id",
            [
                format.into(),
                uploaded_by.into(),
                (rows as i64).into(),
                (rows as i64).into(),
                chrono::Utc::now().into(),
            ],
        ))
        .await?
        .ok_or_else(|| sea_orm::DbErr::RecordNotInserted)?;
    row.try_get("", "id")
}

/// Completes a price import's record with what it changed.
pub async fn complete_price_import(
    db: &impl sea_orm::ConnectionTrait,
    import_id: i32,
    new_values: u64,
    changed: u64,
) -> Result<(), sea_orm::DbErr> {
    db.execute_raw(sea_orm::Statement::from_sql_and_values(
        db.get_database_backend(),
        "UPDATE reading_imports SET new_values = $1, revised_values = $2, \
         unchanged = intervals - $1 - $2 WHERE id = $3",
        [
            (new_values as i64).into(),
            (changed as i64).into(),
            import_id.into(),
        ],
    ))
    .await
    .map(|_| ())
}

/// A price to store: `zone` from the closed list of market zones (checked by the parser),
/// integers otherwise, so each is safe as a SQL literal.
pub struct PriceValue {
    pub zone: String,
    pub start: i64,
    pub minutes: u32,
    pub eur_mwh_micro: i64,
}

/// Writes prices that are new or changed, marked with `import_id`: `(new, changed)`.
pub async fn upsert_prices(
    db: &impl sea_orm::ConnectionTrait,
    import_id: i32,
    prices: &[PriceValue],
) -> Result<(u64, u64), sea_orm::DbErr> {
    let (mut new_values, mut changed) = (0u64, 0u64);
    let backend = db.get_database_backend();
    for chunk in prices.chunks(500) {
        let keys: Vec<String> = chunk
            .iter()
            .map(|p| format!("('{}', {})", p.zone, p.start))
            .collect();
        let stored = db
            .query_all_raw(sea_orm::Statement::from_string(
                backend,
                format!(
                    "SELECT zone, interval_start, eur_mwh_micro FROM zonal_prices WHERE (zone, interval_start) IN ({})",
                    keys.join(", ")
                ),
            ))
            .await?;
        let mut known = std::collections::HashMap::new();
        for r in stored {
            known.insert(
                (
                    r.try_get::<String>("", "zone")?,
                    r.try_get::<i64>("", "interval_start")?,
                ),
                r.try_get::<i64>("", "eur_mwh_micro")?,
            );
        }
        let mut upserts = Vec::new();
        for p in chunk {
            match known.get(&(p.zone.clone(), p.start)) {
                Some(old) if *old == p.eur_mwh_micro => continue,
                Some(_) => changed += 1,
                None => new_values += 1,
            }
            upserts.push(format!(
                "('{}', {}, {}, {}, {import_id})",
                p.zone, p.start, p.minutes, p.eur_mwh_micro
            ));
        }
        if !upserts.is_empty() {
            db.execute_unprepared(&format!(
                "INSERT INTO zonal_prices (zone, interval_start, interval_minutes, eur_mwh_micro, import_id) VALUES {} \
                 ON CONFLICT (zone, interval_start) DO UPDATE \
                 SET eur_mwh_micro = excluded.eur_mwh_micro, interval_minutes = excluded.interval_minutes, \
                 import_id = excluded.import_id",
                upserts.join(", ")
            ))
            .await?;
        }
    }
    Ok((new_values, changed))
}
