//! Dates and instants written into JSON exactly as chrono's own `Serialize` writes them, without
//! its formatting machinery.
//!
//! Why: chrono serialises through `collect_str`, so serde_json escapes every fragment that
//! `fmt` hands it (a digit pair, a dash) one call at a time. On a configuration's members page,
//! 50 rows of two instants and up to three dates each, that was a tenth of the server's CPU
//! (BENCHMARKS.md, issue 13, tenth pass). Here the text is built in a stack buffer and written
//! as one string. Years outside 0–9999 (never stored, but representable) go through chrono
//! itself; the unit tests compare both ways over the whole range.
use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use serde::{Serialize, Serializer};

/// A `DateTime<Utc>` as RFC 3339 with `Z` and the fraction only as long as it needs (chrono's
/// `SecondsFormat::AutoSi`): `2024-02-01T09:30:00Z`, `…:00.250Z`, `…:00.123456Z`.
pub fn utc<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    let mut text = Text::default();
    if !text.instant(at) {
        return at.serialize(serializer);
    }
    serializer.serialize_str(text.as_str())
}

/// A date as `YYYY-MM-DD`.
pub fn date<S: Serializer>(day: &NaiveDate, serializer: S) -> Result<S::Ok, S::Error> {
    let mut text = Text::default();
    if !text.date(*day) {
        return day.serialize(serializer);
    }
    serializer.serialize_str(text.as_str())
}

/// [`date`], or `null`.
pub fn optional_date<S: Serializer>(
    day: &Option<NaiveDate>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match day {
        Some(day) => date(day, serializer),
        None => serializer.serialize_none(),
    }
}

/// Room for the longest instant: `9999-12-31T23:59:60.999999999Z` is 30 bytes.
#[derive(Default)]
struct Text {
    bytes: [u8; 32],
    len: usize,
}

impl Text {
    fn push(&mut self, byte: u8) {
        self.bytes[self.len] = byte;
        self.len += 1;
    }

    /// `value` as exactly `width` decimal digits (`value` < 10^width).
    fn digits(&mut self, value: u32, width: usize) {
        let mut rest = value;
        for i in (0..width).rev() {
            self.bytes[self.len + i] = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        self.len += width;
    }

    /// False, writing nothing, for a year chrono writes with a sign.
    fn date(&mut self, day: NaiveDate) -> bool {
        let Ok(year) = u32::try_from(day.year()) else {
            return false;
        };
        if year > 9999 {
            return false;
        }
        self.digits(year, 4);
        self.push(b'-');
        self.digits(day.month(), 2);
        self.push(b'-');
        self.digits(day.day(), 2);
        true
    }

    fn instant(&mut self, at: &DateTime<Utc>) -> bool {
        let at = at.naive_utc();
        if !self.date(at.date()) {
            return false;
        }
        let (hour, minute, mut second) = (at.hour(), at.minute(), at.second());
        let mut nano = at.nanosecond();
        // A leap second is kept in the nanoseconds: chrono writes it as second 60.
        if nano >= 1_000_000_000 {
            second += 1;
            nano -= 1_000_000_000;
        }
        self.push(b'T');
        self.digits(hour, 2);
        self.push(b':');
        self.digits(minute, 2);
        self.push(b':');
        self.digits(second, 2);
        if nano != 0 {
            self.push(b'.');
            if nano.is_multiple_of(1_000_000) {
                self.digits(nano / 1_000_000, 3);
            } else if nano.is_multiple_of(1_000) {
                self.digits(nano / 1_000, 6);
            } else {
                self.digits(nano, 9);
            }
        }
        self.push(b'Z');
        true
    }

    fn as_str(&self) -> &str {
        // Only ASCII digits and punctuation were pushed.
        std::str::from_utf8(&self.bytes[..self.len]).expect("ASCII")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDateTime;
    use proptest::prelude::*;

    #[derive(Serialize)]
    struct Ours {
        #[serde(serialize_with = "utc")]
        at: DateTime<Utc>,
        #[serde(serialize_with = "date")]
        day: NaiveDate,
        #[serde(serialize_with = "optional_date")]
        maybe: Option<NaiveDate>,
    }

    #[derive(Serialize)]
    struct Chronos {
        at: DateTime<Utc>,
        day: NaiveDate,
        maybe: Option<NaiveDate>,
    }

    fn both(at: DateTime<Utc>, maybe: Option<NaiveDate>) -> (String, String) {
        let day = at.date_naive();
        (
            serde_json::to_string(&Ours { at, day, maybe }).unwrap(),
            serde_json::to_string(&Chronos { at, day, maybe }).unwrap(),
        )
    }

    fn instant(seconds: i64, nanos: u32) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, nanos).expect("in range")
    }

    #[test]
    fn every_fraction_length_and_the_edges_are_written_as_chrono_writes_them() {
        let cases = [
            instant(0, 0),
            instant(1_706_779_800, 0),
            instant(1_706_779_800, 250_000_000),
            instant(1_706_779_800, 123_456_000),
            instant(1_706_779_800, 123_456_789),
            instant(1_706_779_800, 1),
            instant(-62_167_219_200, 0),           // 0000-01-01
            instant(253_402_300_799, 999_999_999), // 9999-12-31T23:59:59.999999999
            instant(253_402_300_800, 0),           // 10000-01-01: chrono's own path
            instant(-62_167_219_201, 0),           // -0001-12-31: chrono's own path
            instant(1_483_228_799, 1_500_000_000), // a leap second, 2016-12-31T23:59:60.5
        ];
        for at in cases {
            let (ours, chronos) = both(at, Some(at.date_naive()));
            assert_eq!(ours, chronos);
        }
        let (ours, chronos) = both(instant(0, 0), None);
        assert_eq!(ours, chronos);
        assert!(ours.contains(r#""maybe":null"#));
    }

    proptest! {
        #[test]
        fn any_instant_is_written_as_chrono_writes_it(
            seconds in -62_167_219_200i64..253_402_300_800,
            nanos in prop_oneof![
                Just(0u32),
                (0u32..1000).prop_map(|ms| ms * 1_000_000),
                (0u32..1_000_000).prop_map(|us| us * 1000),
                0u32..1_000_000_000,
            ],
        ) {
            let at = instant(seconds, nanos);
            let (ours, chronos) = both(at, None);
            prop_assert_eq!(ours, chronos);
            let naive: NaiveDateTime = at.naive_utc();
            let (ours, chronos) = both(naive.and_utc(), Some(naive.date()));
            prop_assert_eq!(ours, chronos);
        }
    }
}
