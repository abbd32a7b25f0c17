//! Which hours of a window lack meter data, and how to say so in words an operator reads:
//! Italian local dates, whole days as `01/03–31/03`, parts of days with their hours.
use chrono::{DateTime, Timelike};
use chrono_tz::Europe::Rome;

/// The hours of `[from, to)` (UNIX seconds, on the hour) not fully covered by readings:
/// `covered` lists `(hour start, minutes of readings in it)`, in any order.
pub fn missing_hours(from: i64, to: i64, covered: &[(i64, i64)]) -> Vec<i64> {
    let full: std::collections::HashSet<i64> = covered
        .iter()
        .filter(|(_, minutes)| *minutes >= 60)
        .map(|(hour, _)| *hour)
        .collect();
    let mut out = Vec::new();
    let mut hour = from - from.rem_euclid(3600);
    while hour < to {
        if !full.contains(&hour) {
            out.push(hour);
        }
        hour += 3600;
    }
    out
}

/// Consecutive hours (ascending hour starts) as `[start, end)` ranges.
pub fn ranges(hours: &[i64]) -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = Vec::new();
    for &hour in hours {
        match out.last_mut() {
            Some((_, end)) if *end == hour => *end = hour + 3600,
            _ => out.push((hour, hour + 3600)),
        }
    }
    out
}

/// At most this many ranges are written out; the rest are counted.
const LISTED_RANGES: usize = 5;

/// Hour starts (ascending) as the ranges an operator reads: `01/03–31/03` for whole local
/// days, `10/03 13:00–15:00` for part of a day (end exclusive), separated by commas.
pub fn describe_hours(hours: &[i64]) -> String {
    let ranges = ranges(hours);
    let mut parts: Vec<String> = ranges
        .iter()
        .take(LISTED_RANGES)
        .map(|&(start, end)| describe_range(start, end))
        .collect();
    if ranges.len() > LISTED_RANGES {
        parts.push(format!(
            "and {} more range(s)",
            ranges.len() - LISTED_RANGES
        ));
    }
    parts.join(", ")
}

fn local(t: i64) -> DateTime<chrono_tz::Tz> {
    DateTime::from_timestamp(t, 0)
        .unwrap_or_default()
        .with_timezone(&Rome)
}

/// One `[start, end)` range in Italian local time.
pub fn describe_range(start: i64, end: i64) -> String {
    let (a, b) = (local(start), local(end));
    let midnight = |t: &DateTime<chrono_tz::Tz>| t.hour() == 0 && t.minute() == 0;
    if midnight(&a) && midnight(&b) {
        let last_day = local(end - 1);
        if last_day.date_naive() == a.date_naive() {
            a.format("%d/%m").to_string()
        } else {
            format!("{}–{}", a.format("%d/%m"), last_day.format("%d/%m"))
        }
    } else if a.date_naive() == b.date_naive() {
        format!("{}–{}", a.format("%d/%m %H:%M"), b.format("%H:%M"))
    } else {
        format!("{}–{}", a.format("%d/%m %H:%M"), b.format("%d/%m %H:%M"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::energy_series::local_midnight;
    use chrono::NaiveDate;

    fn day(m: u32, d: u32) -> i64 {
        local_midnight(NaiveDate::from_ymd_opt(2025, m, d).unwrap())
    }

    #[test]
    fn a_month_without_data_is_named_by_its_days() {
        // March 2025 in Italy: 743 hours (the clocks go forward on the 30th).
        let missing = missing_hours(day(3, 1), day(4, 1), &[]);
        assert_eq!(missing.len(), 743);
        assert_eq!(describe_hours(&missing), "01/03–31/03");
    }

    #[test]
    fn partial_hours_and_parts_of_days() {
        let from = day(3, 10);
        let to = day(3, 11);
        let mut covered: Vec<(i64, i64)> = (0..24).map(|h| (from + h * 3600, 60)).collect();
        covered[12].1 = 45; // 12:00–13:00 has three quarter-hours only
        covered.remove(14); // 14:00–15:00 has nothing
        covered.remove(14); // nor 15:00–16:00
        let missing = missing_hours(from, to, &covered);
        assert_eq!(missing.len(), 3);
        assert_eq!(
            describe_hours(&missing),
            "10/03 12:00–13:00, 10/03 14:00–16:00"
        );
        assert_eq!(describe_hours(&[day(3, 2)]), "02/03 00:00–01:00");
        assert_eq!(
            describe_range(day(3, 2) + 22 * 3600, day(3, 3) + 2 * 3600),
            "02/03 22:00–03/03 02:00"
        );
        assert_eq!(describe_range(day(3, 2), day(3, 3)), "02/03");
    }

    #[test]
    fn many_ranges_are_counted_not_listed() {
        let hours: Vec<i64> = (0..8).map(|i| day(3, 1) + i * 7200).collect();
        let text = describe_hours(&hours);
        assert!(text.ends_with("and 3 more range(s)"), "{text}");
    }
}
