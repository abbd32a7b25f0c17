//! Market data rules, kept in one place because they are the ones most likely to change.
use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::meter_files::{Stamp, parse_timestamp};

/// A zonal price for one interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PricePoint {
    /// UNIX seconds of the interval's start.
    pub start: i64,
    pub minutes: u32,
    pub eur_mwh: Decimal,
}

/// The hourly price used by the tariff (`Pz_h`).
///
/// Since 1 October 2025 the Italian day-ahead market clears every quarter-hour, while the GSE
/// tariff is hourly; how GSE maps the one onto the other is not published (GSE_RULES.md marks it
/// UNVERIFIED). The rule here — the plain average of the hour's four quarter-hour prices, and no
/// price for an hour that lacks any of them — is isolated in this one function so that it can be
/// changed in one place. Hourly prices pass through unchanged.
pub fn hourly_prices(points: &[PricePoint]) -> Vec<PricePoint> {
    let mut out: Vec<PricePoint> = Vec::new();
    let mut quarters: Vec<&PricePoint> = Vec::new();
    let flush = |quarters: &mut Vec<&PricePoint>, out: &mut Vec<PricePoint>| {
        if quarters.len() == 4 {
            let sum: Decimal = quarters.iter().map(|p| p.eur_mwh).sum();
            let hour = quarters[0].start - quarters[0].start.rem_euclid(3600);
            out.push(PricePoint {
                start: hour,
                minutes: 60,
                eur_mwh: (sum / Decimal::from(4)).normalize(),
            });
        }
        quarters.clear();
    };
    for point in points {
        if point.minutes == 60 {
            flush(&mut quarters, &mut out);
            out.push(*point);
            continue;
        }
        let hour = point.start - point.start.rem_euclid(3600);
        if quarters
            .first()
            .is_some_and(|q| q.start - q.start.rem_euclid(3600) != hour)
        {
            flush(&mut quarters, &mut out);
        }
        quarters.push(point);
    }
    flush(&mut quarters, &mut out);
    out
}

/// Validity periods `[from, to)` (open end = `None`) of one parameter must not overlap, so that
/// a date always has at most one value.
pub fn validity_overlaps(
    a: (NaiveDate, Option<NaiveDate>),
    b: (NaiveDate, Option<NaiveDate>),
) -> bool {
    a.1.is_none_or(|end| end > b.0) && b.1.is_none_or(|end| end > a.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn p(start: i64, minutes: u32, price: &str) -> PricePoint {
        PricePoint {
            start,
            minutes,
            eur_mwh: Decimal::from_str(price).unwrap(),
        }
    }

    #[test]
    fn quarter_hours_are_averaged_per_hour() {
        let h = 1_759_273_200; // 2025-10-01T00:00:00+01:00 … any hour boundary
        let points = [
            p(h, 15, "100"),
            p(h + 900, 15, "101"),
            p(h + 1800, 15, "102.5"),
            p(h + 2700, 15, "99.5"),
        ];
        let hourly = hourly_prices(&points);
        assert_eq!(hourly.len(), 1);
        assert_eq!(hourly[0].start, h);
        assert_eq!(hourly[0].eur_mwh, Decimal::from_str("100.75").unwrap());
    }

    #[test]
    fn incomplete_hours_have_no_price_and_hourly_prices_pass_through() {
        let h = 1_759_273_200;
        let points = [
            p(h - 3600, 60, "80"),
            p(h, 15, "100"),
            p(h + 900, 15, "101"),
            p(h + 3600, 60, "90"),
        ];
        let hourly = hourly_prices(&points);
        assert_eq!(
            hourly.iter().map(|x| x.start).collect::<Vec<_>>(),
            vec![h - 3600, h + 3600]
        );
    }

    #[test]
    fn validity_periods() {
        let d = |m| NaiveDate::from_ymd_opt(2024, m, 1).unwrap();
        assert!(validity_overlaps((d(1), None), (d(6), None)));
        assert!(!validity_overlaps((d(1), Some(d(6))), (d(6), None)));
        assert!(validity_overlaps((d(1), Some(d(7))), (d(6), Some(d(8)))));
    }
}

/// One line of a zonal-price file (`timestamp;zone;eur_mwh`, header first), parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriceRow {
    pub zone: String,
    pub point: PricePoint,
}

/// Parses zonal-price CSV files: `timestamp;zone;eur_mwh` (or `,`-separated), timestamps in
/// ISO 8601 with offset or local Italian `dd/mm/yyyy HH:MM`, an optional `interval_minutes`
/// column, prices with up to 6 decimals (negative prices exist).
pub struct PriceFileParser {
    separator: char,
    columns: [usize; 3],
    interval_column: Option<usize>,
    default_minutes: u32,
    /// Local times already seen in the autumn repeated hour, per zone: the second is CET.
    seen_ambiguous: std::collections::HashSet<(String, chrono::NaiveDateTime)>,
}

impl PriceFileParser {
    pub fn new(header: &str, default_minutes: u32) -> Result<PriceFileParser, String> {
        let header = header.trim_start_matches('\u{feff}');
        let separator = if header.contains(';') { ';' } else { ',' };
        let names: Vec<String> = header
            .split(separator)
            .map(|c| c.trim().to_ascii_lowercase())
            .collect();
        let find =
            |candidates: &[&str]| names.iter().position(|n| candidates.contains(&n.as_str()));
        let timestamp = find(&["timestamp", "data_ora", "datetime"]);
        let zone = find(&["zone", "zona"]);
        let price = find(&["eur_mwh", "prezzo_eur_mwh", "price", "prezzo"]);
        match (timestamp, zone, price) {
            (Some(t), Some(z), Some(p)) => Ok(PriceFileParser {
                separator,
                columns: [t, z, p],
                interval_column: find(&["interval_minutes"]),
                default_minutes,
                seen_ambiguous: Default::default(),
            }),
            _ => Err("the header must name the columns timestamp;zone;eur_mwh".into()),
        }
    }

    pub fn parse_line(&mut self, line: &str, zones: &[&str]) -> Result<PriceRow, String> {
        let cells: Vec<&str> = line.split(self.separator).map(str::trim).collect();
        let cell = |i: usize| {
            cells
                .get(i)
                .copied()
                .ok_or_else(|| "missing column".to_string())
        };
        let zone = cell(self.columns[1])?.to_ascii_uppercase();
        if !zones.contains(&zone.as_str()) {
            return Err(format!("unknown market zone `{zone}`"));
        }
        let minutes = match self.interval_column {
            Some(i) => cell(i)?
                .parse::<u32>()
                .map_err(|_| "interval_minutes must be 15 or 60".to_string())?,
            None => self.default_minutes,
        };
        if minutes != 15 && minutes != 60 {
            return Err("interval_minutes must be 15 or 60".into());
        }
        let start = self.parse_instant(cell(self.columns[0])?, &zone)?;
        if start.rem_euclid(i64::from(minutes) * 60) != 0 {
            return Err(format!("the timestamp is not aligned to {minutes} minutes"));
        }
        let raw = cell(self.columns[2])?;
        let text = if self.separator == ';' {
            raw.replace(',', ".")
        } else {
            raw.to_string()
        };
        let price =
            Decimal::from_str_exact(&text).map_err(|_| format!("`{raw}` is not a price"))?;
        if price.normalize().scale() > 6 {
            return Err("a price has at most 6 decimal places".into());
        }
        Ok(PriceRow {
            zone,
            point: PricePoint {
                start,
                minutes,
                eur_mwh: price,
            },
        })
    }

    /// Timestamps are read as in meter-data files (`meter_files::parse_timestamp`); local
    /// times in the repeated autumn hour are taken in file order, per zone.
    fn parse_instant(&mut self, text: &str, zone: &str) -> Result<i64, String> {
        use chrono::TimeZone;
        use chrono_tz::Europe::Rome;
        let local = match parse_timestamp(text)? {
            Stamp::Instant(utc) => return Ok(utc.and_utc().timestamp()),
            Stamp::Local(local) => local,
        };
        match Rome.from_local_datetime(&local) {
            chrono::LocalResult::Single(t) => Ok(t.timestamp()),
            chrono::LocalResult::Ambiguous(first, second) => {
                let key = (zone.to_string(), local);
                if self.seen_ambiguous.insert(key) {
                    Ok(first.timestamp())
                } else {
                    Ok(second.timestamp())
                }
            }
            chrono::LocalResult::None => Err(format!(
                "{text} does not exist in Italian time (clocks go forward)"
            )),
        }
    }
}

#[cfg(test)]
mod price_file_tests {
    use super::*;
    use std::str::FromStr;

    const ZONES: [&str; 2] = ["NORD", "SUD"];

    #[test]
    fn parses_iso_and_local_times_with_decimal_commas() {
        let mut parser = PriceFileParser::new("timestamp;zone;eur_mwh", 60).unwrap();
        let row = parser
            .parse_line("2025-03-01T10:00:00+01:00;nord;110,50", &ZONES)
            .unwrap();
        assert_eq!(row.zone, "NORD");
        assert_eq!(row.point.start, 1_740_819_600);
        assert_eq!(row.point.eur_mwh, Decimal::from_str("110.50").unwrap());
        let local = parser
            .parse_line("01/03/2025 10:00;SUD;-5", &ZONES)
            .unwrap();
        assert_eq!(local.point.start, 1_740_819_600);
        assert_eq!(local.point.eur_mwh, Decimal::from(-5));
    }

    #[test]
    fn the_repeated_autumn_hour_is_read_in_order() {
        let mut parser = PriceFileParser::new("timestamp;zone;eur_mwh", 60).unwrap();
        let first = parser
            .parse_line("26/10/2025 02:00;NORD;90", &ZONES)
            .unwrap();
        let second = parser
            .parse_line("26/10/2025 02:00;NORD;80", &ZONES)
            .unwrap();
        assert_eq!(second.point.start - first.point.start, 3600);
        assert_eq!(first.point.start, 1_761_436_800); // 2025-10-26T00:00:00Z
    }

    #[test]
    fn bad_lines_say_why() {
        let mut parser =
            PriceFileParser::new("timestamp,zone,eur_mwh,interval_minutes", 60).unwrap();
        for (line, expected) in [
            ("2025-03-01T10:00:00Z,XYZ,1,60", "zone"),
            ("2025-03-01T10:00:00Z,NORD,abc,60", "price"),
            ("2025-03-01T10:00:00Z,NORD,1.1234567,60", "6 decimal"),
            ("2025-03-01T10:10:00Z,NORD,1,15", "aligned"),
            ("30/03/2025 02:30,NORD,1,15", "does not exist"),
            ("2025-03-01T10:00:00Z,NORD,1,30", "15 or 60"),
        ] {
            let error = parser.parse_line(line, &ZONES).unwrap_err();
            assert!(error.contains(expected), "{line}: {error}");
        }
        assert!(PriceFileParser::new("when;where;what", 60).is_err());
    }
}
