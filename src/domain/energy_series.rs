//! From hourly totals to the series people look at: shared energy is decided hour by hour
//! (`min(injected, withdrawn)` — the TIAD definition), then summed into Italian-time buckets,
//! so a day is 23, 24 or 25 hours as the calendar says.
use chrono::{DateTime, NaiveDate, TimeZone};
use chrono_tz::Europe::Rome;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HourTotals {
    /// UNIX seconds of the hour's start (UTC).
    pub hour_start: i64,
    pub injected_wh: i64,
    pub withdrawn_wh: i64,
    /// Shared energy in the hour, milli-Wh: a configuration's EAC `min(injected, withdrawn)`,
    /// or a member's part of it (see `attributed_to_member`).
    pub shared_mwh: i64,
}

impl HourTotals {
    /// A configuration's hour: its shared energy is `min(injected, withdrawn)`.
    pub fn configuration(hour_start: i64, injected_wh: i64, withdrawn_wh: i64) -> Self {
        HourTotals {
            hour_start,
            injected_wh,
            withdrawn_wh,
            shared_mwh: injected_wh.min(withdrawn_wh) * 1000,
        }
    }
}

/// "Shared energy attributed to you", hour by hour, as the settlement defines it: a member's
/// withdrawal × the configuration's `EAC_h / With_h` (milli-Wh, truncated, as the settlement's
/// weights are). `configuration` holds the configuration's hours (any order).
pub fn attributed_to_member(
    member: &[HourTotals],
    configuration: &[HourTotals],
) -> Vec<HourTotals> {
    let by_hour: std::collections::HashMap<i64, &HourTotals> =
        configuration.iter().map(|h| (h.hour_start, h)).collect();
    member
        .iter()
        .map(|own| {
            let shared_mwh = match by_hour.get(&own.hour_start) {
                Some(total) if total.withdrawn_wh > 0 => {
                    let eac = i128::from(total.injected_wh.min(total.withdrawn_wh));
                    (i128::from(own.withdrawn_wh) * 1000 * eac / i128::from(total.withdrawn_wh))
                        as i64
                }
                _ => 0,
            };
            HourTotals { shared_mwh, ..*own }
        })
        .collect()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    Hour,
    Day,
    Month,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bucket {
    /// UNIX seconds of the bucket's first hour.
    pub start: i64,
    /// Local Italian label: `2025-03-30T03:00+02:00`, `2025-03-30`, `2025-03`.
    pub label: String,
    pub injected_wh: i64,
    pub withdrawn_wh: i64,
    /// Shared energy to the Wh (the hours' milli-Wh summed, then rounded half up).
    pub shared_wh: i64,
    pub hours: u32,
    shared_mwh: i64,
}

fn local(hour_start: i64) -> DateTime<chrono_tz::Tz> {
    Rome.timestamp_opt(hour_start, 0)
        .single()
        .expect("every instant has one Italian time")
}

fn bucket_label(hour_start: i64, granularity: Granularity) -> String {
    let t = local(hour_start);
    match granularity {
        Granularity::Hour => t.format("%Y-%m-%dT%H:%M%:z").to_string(),
        Granularity::Day => t.format("%Y-%m-%d").to_string(),
        Granularity::Month => t.format("%Y-%m").to_string(),
    }
}

/// Sums hours (in ascending order) into buckets; hours with no data are simply absent.
pub fn bucketize(
    hours: impl IntoIterator<Item = HourTotals>,
    granularity: Granularity,
) -> Vec<Bucket> {
    let mut out: Vec<Bucket> = Vec::new();
    for hour in hours {
        let label = bucket_label(hour.hour_start, granularity);
        match out.last_mut() {
            Some(last) if last.label == label => {
                last.injected_wh += hour.injected_wh;
                last.withdrawn_wh += hour.withdrawn_wh;
                last.shared_mwh += hour.shared_mwh;
                last.hours += 1;
            }
            _ => out.push(Bucket {
                start: hour.hour_start,
                label,
                injected_wh: hour.injected_wh,
                withdrawn_wh: hour.withdrawn_wh,
                shared_wh: 0,
                hours: 1,
                shared_mwh: hour.shared_mwh,
            }),
        }
    }
    for bucket in &mut out {
        bucket.shared_wh = (bucket.shared_mwh + 500).div_euclid(1000);
    }
    out
}

/// Local midnight at the start of `date`, as UNIX seconds.
pub fn local_midnight(date: NaiveDate) -> i64 {
    Rome.from_local_datetime(&date.and_hms_opt(0, 0, 0).expect("midnight exists"))
        .earliest()
        .expect("Italian midnight always exists")
        .timestamp()
}

/// Whole Italian days `from..=to` as UNIX seconds `[start, end)`.
pub fn local_days(from: NaiveDate, to: NaiveDate) -> (i64, i64) {
    (
        local_midnight(from),
        local_midnight(to.succ_opt().unwrap_or(to)),
    )
}

/// The hours a local day really has (23, 24 or 25).
pub fn hours_in_local_day(date: NaiveDate) -> i64 {
    let next = date.succ_opt().expect("a next day");
    (local_midnight(next) - local_midnight(date)) / 3600
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn days_have_23_24_or_25_hours() {
        assert_eq!(hours_in_local_day(d(2025, 3, 30)), 23);
        assert_eq!(hours_in_local_day(d(2025, 10, 26)), 25);
        assert_eq!(hours_in_local_day(d(2025, 6, 1)), 24);
        // 2025-03-30 00:00 in Rome is 2025-03-29T23:00Z.
        assert_eq!(local_midnight(d(2025, 3, 30)), 1_743_289_200);
    }

    #[test]
    fn shared_energy_is_decided_hour_by_hour() {
        let start = local_midnight(d(2025, 3, 30));
        // Hour 1: 10 in, 4 out → 4 shared. Hour 2: 1 in, 9 out → 1 shared. Day: 11 / 13 / 5,
        // where min(11, 13) = 11 would be wrong.
        let hours = [
            HourTotals::configuration(start, 10, 4),
            HourTotals::configuration(start + 3600, 1, 9),
        ];
        let day = bucketize(hours, Granularity::Day);
        assert_eq!(day.len(), 1);
        assert_eq!(
            (day[0].injected_wh, day[0].withdrawn_wh, day[0].shared_wh),
            (11, 13, 5)
        );
        assert_eq!(day[0].label, "2025-03-30");
    }

    #[test]
    fn a_25_hour_day_is_one_bucket_with_distinct_hour_labels() {
        let start = local_midnight(d(2025, 10, 26));
        let hours: Vec<HourTotals> = (0..25)
            .map(|h| HourTotals::configuration(start + h * 3600, 1, 2))
            .collect();
        let day = bucketize(hours.clone(), Granularity::Day);
        assert_eq!(day.len(), 1);
        assert_eq!(day[0].hours, 25);
        assert_eq!(day[0].shared_wh, 25);
        let by_hour = bucketize(hours, Granularity::Hour);
        assert_eq!(
            by_hour.len(),
            25,
            "the repeated 02:00 hour keeps its own bucket"
        );
        assert_eq!(by_hour[2].label, "2025-10-26T02:00+02:00");
        assert_eq!(by_hour[3].label, "2025-10-26T02:00+01:00");
        let month = bucketize(
            vec![HourTotals::configuration(start, 5, 5)],
            Granularity::Month,
        );
        assert_eq!(month[0].label, "2025-10");
    }

    /// The hour: 160 kWh injected, three members withdrawing 100 kWh each: each is
    /// attributed 53.333 kWh (the settlement then apportions the last Wh).
    #[test]
    fn a_members_series_shows_the_shared_energy_attributed_to_it() {
        let start = local_midnight(d(2025, 3, 10));
        let configuration = [HourTotals::configuration(start, 160_000, 300_000)];
        let member = [HourTotals {
            hour_start: start,
            injected_wh: 0,
            withdrawn_wh: 100_000,
            shared_mwh: 0,
        }];
        let attributed = attributed_to_member(&member, &configuration);
        assert_eq!(attributed[0].shared_mwh, 53_333_333);
        let day = bucketize(attributed, Granularity::Day);
        assert_eq!(day[0].shared_wh, 53_333);
        // No configuration data for the hour: nothing attributed.
        assert_eq!(attributed_to_member(&member, &[])[0].shared_mwh, 0);
    }
}
