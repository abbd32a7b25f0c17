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
