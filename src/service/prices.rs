//! Importing a zonal-price file in any layout we read (`domain::price_files`: our long
//! format, GME's XML results and GME's table as CSV), recognised from its content: all or
//! nothing, re-importing the same file changes nothing, each import has an id the prices carry.
use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use chrono_tz::Europe::Rome;
use rust_decimal::Decimal;
use sea_orm::{DatabaseConnection, TransactionTrait};
use tokio::io::{AsyncRead, AsyncReadExt};

use super::{Actor, Problem, ServiceError};
use crate::core::permissions::Permission;
use crate::crud;
use crate::crud::market::{PRICE_SCALE, PriceValue};
use crate::domain::member_sheet::{Encoding, decode};
use crate::domain::price_files::{
    PriceFileOptions, PriceFormat, PriceProblem, is_workbook, is_zip, read_price_file,
    read_price_workbook, unzip,
};
use crate::domain::quantities::to_fixed;
use crate::models::enums::MarketZone;
use crate::schemas::market::{PriceGap, PriceImportSummary};

/// Zonal prices outside these bounds (€/MWh) are refused as implausible: the day-ahead
/// market's harmonised minimum and maximum clearing prices are −500 and 4,000 €/MWh.
const MIN_PLAUSIBLE_PRICE: Decimal = Decimal::from_parts(500, 0, 0, true, 0);
const MAX_PLAUSIBLE_PRICE: Decimal = Decimal::from_parts(4000, 0, 0, false, 0);

/// At most this many problems are reported (the file is refused at the first anyway).
const LISTED_PROBLEMS: usize = 100;

/// At most this many incomplete days are listed in the summary.
const LISTED_GAPS: usize = 100;

/// A price file larger than this is refused before it is read: a year of quarter-hour prices
/// for every zone in GME's XML is about 30 MB.
pub const MAX_PRICE_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// An archive of more files than this is refused (a year of GME's daily files is 366).
const MAX_FILES_IN_ARCHIVE: usize = 400;

/// How to read an upload.
#[derive(Clone, Copy, Debug)]
pub struct PriceImportOptions {
    /// The layout, detected from the content when absent.
    pub format: Option<PriceFormat>,
    /// The interval of long-format files without an `interval_minutes` column (15 or 60).
    pub default_minutes: u32,
    /// Keep only this zone's prices (a file for all zones, a configuration's zone); a file
    /// without it is refused.
    pub zone: Option<MarketZone>,
}

/// Reads the whole file, then writes it in one transaction.
pub async fn import(
    actor: &Actor,
    db: &DatabaseConnection,
    reader: impl AsyncRead + Unpin,
    options: PriceImportOptions,
) -> Result<PriceImportSummary, ServiceError> {
    actor.require(Permission::MarketWrite)?;
    let mut bytes = Vec::new();
    reader
        .take(MAX_PRICE_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .await
        .map_err(super::upload_failed)?;
    let problem = |line: u64, message: String| Problem::at_line(line, message, "price");
    if bytes.len() as u64 > MAX_PRICE_FILE_BYTES {
        return Err(ServiceError::Invalid(vec![problem(
            1,
            format!(
                "the file is larger than {} MB: split it by month",
                MAX_PRICE_FILE_BYTES / 1024 / 1024
            ),
        )]));
    }
    // A ZIP (GME's download of several days) is its files in name order, each read like an
    // upload of its own; problems name the file they are in.
    let parts: Vec<(Option<String>, Vec<u8>)> = if is_zip(&bytes) && !is_workbook(&bytes) {
        unzip(&bytes, MAX_FILES_IN_ARCHIVE, MAX_PRICE_FILE_BYTES)
            .map_err(|m| ServiceError::Invalid(vec![problem(1, m)]))?
            .into_iter()
            .map(|(name, content)| (Some(name), content))
            .collect()
    } else {
        vec![(None, bytes)]
    };
    let zones: Vec<&str> = <MarketZone as sea_orm::Iterable>::iter()
        .map(MarketZone::as_str)
        .collect();
    let mut formats = BTreeSet::new();
    let mut encoding = Encoding::Utf8;
    let mut left_out = BTreeSet::new();
    // Every price with where it came from: the file in the archive (if any) and its line.
    let mut read = Vec::new();
    let mut problems = Vec::new();
    for (name, content) in &parts {
        let place = |message: String| naming_file(name.as_deref(), message);
        let result = if is_workbook(content) {
            match options.format {
                None | Some(PriceFormat::GmeWorkbook) => {
                    read_price_workbook(content, &zones, MAX_PRICE_FILE_BYTES)
                }
                Some(other) => Err(vec![PriceProblem {
                    line: 1,
                    message: format!(
                        "the file is an Excel workbook (.xlsx), not `{}`",
                        other.as_str()
                    ),
                }]),
            }
        } else {
            let (text, found) = decode(content);
            if found == Encoding::Windows1252 {
                encoding = found;
            }
            read_price_file(
                &text,
                PriceFileOptions {
                    format: options.format,
                    default_minutes: options.default_minutes,
                    zones: &zones,
                    encoding: found,
                },
            )
        };
        match result {
            Ok(file) => {
                formats.insert(file.format.as_str());
                left_out.extend(file.left_out);
                read.extend(
                    file.rows
                        .into_iter()
                        .map(|(line, row)| (name.as_deref(), line, row)),
                );
            }
            Err(found) => {
                problems.extend(found.into_iter().map(|p| problem(p.line, place(p.message))))
            }
        }
        if problems.len() >= LISTED_PROBLEMS {
            break;
        }
    }
    if !problems.is_empty() {
        return Err(ServiceError::Invalid(problems));
    }

    let in_file: BTreeSet<String> = read.iter().map(|(_, _, r)| r.zone.clone()).collect();
    let mut rows = Vec::new();
    let mut seen = HashMap::new();
    // A file of €/kWh read as €/MWh: every value under 1 (and not all zero).
    let (mut all_below_one, mut any_positive) = (true, false);
    for (name, line, row) in read {
        let place = |message: String| naming_file(name, message);
        if options.zone.is_some_and(|z| z.as_str() != row.zone) {
            continue;
        }
        let price = row.point.eur_mwh;
        if !(MIN_PLAUSIBLE_PRICE..=MAX_PLAUSIBLE_PRICE).contains(&price) {
            problems.push(problem(
                line,
                place(format!(
                    "{} {price} €/MWh is outside the plausible range {MIN_PLAUSIBLE_PRICE}…{MAX_PLAUSIBLE_PRICE} €/MWh (the day-ahead market's harmonised limits)",
                    row.zone
                )),
            ));
        }
        all_below_one &= price < Decimal::ONE;
        any_positive |= price > Decimal::ZERO;
        if let Some((first_name, first)) =
            seen.insert((row.zone.clone(), row.point.start), (name, line))
        {
            let earlier = match first_name {
                Some(file) if first_name != name => format!("{file} line {first}"),
                _ => format!("line {first}"),
            };
            problems.push(problem(
                line,
                place(format!("{}: the same interval as {earlier}", row.zone)),
            ));
        }
        match to_fixed(price, PRICE_SCALE) {
            Ok(micro) => rows.push(PriceValue {
                zone: row.zone,
                start: row.point.start,
                minutes: row.point.minutes,
                eur_mwh_micro: micro,
            }),
            Err(error) => problems.push(problem(line, place(error.to_string()))),
        }
        if problems.len() >= LISTED_PROBLEMS {
            break;
        }
    }
    if let Some(zone) = options.zone
        && rows.is_empty()
        && problems.is_empty()
    {
        let found = if in_file.is_empty() {
            "no Italian zone".to_string()
        } else {
            in_file.iter().cloned().collect::<Vec<_>>().join(", ")
        };
        problems.push(problem(
            1,
            format!(
                "the file has prices for {found} but none for {}: it is not this zone's file",
                zone.as_str()
            ),
        ));
    }
    if rows.is_empty() && problems.is_empty() {
        problems.push(problem(1, "the file has no prices".into()));
    }
    if problems.is_empty() && all_below_one && any_positive {
        problems.push(problem(
            2,
            "every price is below 1 €/MWh: the values look like €/kWh, the file must give €/MWh (multiply by 1,000)".into(),
        ));
    }
    if !problems.is_empty() {
        return Err(ServiceError::Invalid(problems));
    }

    let txn = db.begin().await?;
    let format = formats.into_iter().collect::<Vec<_>>().join("+");
    let import_id =
        crud::market::insert_price_import(&txn, actor.user_id, rows.len() as u64, &format).await?;
    let (new_values, changed_values) = crud::market::upsert_prices(&txn, import_id, &rows).await?;
    crud::market::complete_price_import(&txn, import_id, new_values, changed_values).await?;
    actor
        .audit(
            &txn,
            "prices.imported",
            ("price_import", Some(i64::from(import_id))),
            None,
            serde_json::json!({ "format": format, "rows": rows.len(), "new_values": new_values, "changed_values": changed_values }),
        )
        .await?;
    txn.commit().await?;
    let count = rows.len() as u64;
    let stored: BTreeSet<&str> = rows.iter().map(|r| r.zone.as_str()).collect();
    let instant = |seconds: i64| {
        chrono::DateTime::from_timestamp(seconds, 0)
            .map(|t| t.to_rfc3339())
            .unwrap_or_default()
    };
    Ok(PriceImportSummary {
        import_id,
        format,
        files: parts.len() as u64,
        encoding: encoding.label().to_string(),
        rows: count,
        zones: stored.len() as u64,
        zone_codes: stored.iter().map(|z| z.to_string()).collect(),
        other_zones: in_file
            .iter()
            .filter(|z| !stored.contains(z.as_str()))
            .cloned()
            .collect(),
        left_out: left_out.into_iter().collect(),
        from: rows.iter().map(|r| r.start).min().map(instant),
        to: rows
            .iter()
            .map(|r| r.start + i64::from(r.minutes) * 60)
            .max()
            .map(instant),
        gaps: gaps(&rows),
        new_values,
        changed_values,
        unchanged: count - new_values - changed_values,
    })
}

/// A problem's words, naming the file it is in when the upload was an archive.
fn naming_file(name: Option<&str>, message: String) -> String {
    match name {
        Some(name) => format!("{name}: {message}"),
        None => message,
    }
}

/// The Italian days a zone's prices do not cover whole (a file that starts or ends mid-day,
/// or misses an hour): said with the import, for the settlement will refuse those hours.
fn gaps(rows: &[PriceValue]) -> Vec<PriceGap> {
    let mut covered: BTreeMap<(NaiveDate, &str), u32> = BTreeMap::new();
    for row in rows {
        let Some(start) = chrono::DateTime::from_timestamp(row.start, 0) else {
            continue;
        };
        let day = start.with_timezone(&Rome).date_naive();
        *covered.entry((day, row.zone.as_str())).or_default() += row.minutes;
    }
    let day_minutes = |day: NaiveDate| {
        let (start, end) = crate::domain::energy_series::local_days(day, day);
        u32::try_from((end - start) / 60).unwrap_or(1440)
    };
    covered
        .into_iter()
        .filter_map(|((day, zone), minutes)| {
            let whole = day_minutes(day);
            (minutes < whole).then(|| PriceGap {
                zone: zone.to_string(),
                day,
                minutes_covered: minutes,
                minutes_in_day: whole,
            })
        })
        .take(LISTED_GAPS)
        .collect()
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
