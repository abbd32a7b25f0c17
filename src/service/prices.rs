//! Importing a zonal-price file (`timestamp;zone;eur_mwh[;interval_minutes]`): all or nothing,
//! re-importing the same file changes nothing, each import has an id the prices carry.
use std::collections::{BTreeSet, HashMap};

use rust_decimal::Decimal;
use sea_orm::{DatabaseConnection, TransactionTrait};
use tokio::io::{AsyncBufRead, AsyncBufReadExt};

use super::{Actor, Problem, ServiceError};
use crate::core::permissions::Permission;
use crate::crud;
use crate::crud::market::{PRICE_SCALE, PriceValue};
use crate::domain::market::PriceFileParser;
use crate::domain::quantities::to_fixed;
use crate::models::enums::MarketZone;
use crate::schemas::market::PriceImportSummary;

/// Zonal prices outside these bounds (€/MWh) are refused as implausible: the day-ahead
/// market's harmonised minimum and maximum clearing prices are −500 and 4,000 €/MWh.
const MIN_PLAUSIBLE_PRICE: Decimal = Decimal::from_parts(500, 0, 0, true, 0);
const MAX_PLAUSIBLE_PRICE: Decimal = Decimal::from_parts(4000, 0, 0, false, 0);

/// At most this many problems are reported (the file is refused at the first anyway).
const LISTED_PROBLEMS: usize = 100;

/// Reads the whole file, then writes it in one transaction; `default_minutes` is the interval
/// of files without an `interval_minutes` column.
pub async fn import(
    actor: &Actor,
    db: &DatabaseConnection,
    mut reader: impl AsyncBufRead + Unpin,
    default_minutes: u32,
) -> Result<PriceImportSummary, ServiceError> {
    actor.require(Permission::MarketWrite)?;
    let unreadable =
        |e: std::io::Error| ServiceError::Unreadable(format!("Could not read the upload: {e}"));
    let problem = |line: u64, message: String| Problem::at_line(line, message, "price");
    let mut text = String::new();
    reader.read_line(&mut text).await.map_err(unreadable)?;
    let zones: Vec<&str> = <MarketZone as sea_orm::Iterable>::iter()
        .map(MarketZone::as_str)
        .collect();
    let mut parser = PriceFileParser::new(text.trim_end(), default_minutes)
        .map_err(|message| ServiceError::Invalid(vec![problem(1, message)]))?;
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let mut line = 1u64;
    let mut seen = HashMap::new();
    // A file of €/kWh read as €/MWh: every value under 1 (and not all zero).
    let (mut all_below_one, mut any_positive) = (true, false);
    loop {
        text.clear();
        if reader.read_line(&mut text).await.map_err(unreadable)? == 0 {
            break;
        }
        line += 1;
        let content = text.trim_end();
        if content.is_empty() {
            continue;
        }
        match parser.parse_line(content, &zones) {
            Ok(row) => {
                let price = row.point.eur_mwh;
                if !(MIN_PLAUSIBLE_PRICE..=MAX_PLAUSIBLE_PRICE).contains(&price) {
                    problems.push(problem(
                        line,
                        format!(
                            "{price} €/MWh is outside the plausible range {MIN_PLAUSIBLE_PRICE}…{MAX_PLAUSIBLE_PRICE} €/MWh (the day-ahead market's harmonised limits)"
                        ),
                    ));
                }
                all_below_one &= price < Decimal::ONE;
                any_positive |= price > Decimal::ZERO;
                if let Some(first) = seen.insert((row.zone.clone(), row.point.start), line) {
                    problems.push(problem(line, format!("duplicate of line {first}")));
                }
                match to_fixed(price, PRICE_SCALE) {
                    Ok(micro) => rows.push(PriceValue {
                        zone: row.zone,
                        start: row.point.start,
                        minutes: row.point.minutes,
                        eur_mwh_micro: micro,
                    }),
                    Err(error) => problems.push(problem(line, error.to_string())),
                }
            }
            Err(message) => problems.push(problem(line, message)),
        }
        if problems.len() >= LISTED_PROBLEMS {
            break;
        }
    }
    if problems.is_empty() && !rows.is_empty() && all_below_one && any_positive {
        problems.push(problem(
            2,
            "every price is below 1 €/MWh: the values look like €/kWh, the file must give €/MWh (multiply by 1,000)".into(),
        ));
    }
    if !problems.is_empty() {
        return Err(ServiceError::Invalid(problems));
    }

    let txn = db.begin().await?;
    let import_id =
        crud::market::insert_price_import(&txn, actor.user_id, rows.len() as u64).await?;
    let (new_values, changed_values) = crud::market::upsert_prices(&txn, import_id, &rows).await?;
    crud::market::complete_price_import(&txn, import_id, new_values, changed_values).await?;
    txn.commit().await?;
    let count = rows.len() as u64;
    Ok(PriceImportSummary {
        import_id,
        rows: count,
        zones: rows
            .iter()
            .map(|r| r.zone.as_str())
            .collect::<BTreeSet<_>>()
            .len() as u64,
        new_values,
        changed_values,
        unchanged: count - new_values - changed_values,
    })
}

/// The stored prices of a zone over local days `from`..=`to`, at their own interval or
/// averaged to hours.
pub async fn list(
    db: &DatabaseConnection,
    params: &crate::schemas::market::PriceParams,
) -> Result<Vec<crate::domain::market::PricePoint>, ServiceError> {
    use crate::schemas::market::PriceResolution;
    if params.to < params.from {
        return Err(ServiceError::Invalid(vec![Problem {
            place: vec![super::Place::Query, super::Place::Field("to".into())],
            message: "`to` cannot be before `from`".into(),
            kind: "date_order".into(),
        }]));
    }
    let (from, to) = crate::domain::energy_series::local_days(params.from, params.to);
    let points = crud::market::zonal_prices(db, params.zone, from, to).await?;
    Ok(
        if params.resolution.unwrap_or_default() == PriceResolution::Hourly {
            crate::domain::market::hourly_prices(&points)
        } else {
            points
        },
    )
}
