//! Physical bounds on meter readings, checked on every import before anything is stored:
//! a value no connection point could have measured is a slip (wrong unit, wrong POD, a
//! column shifted), and money computed from it would be wrong.
use super::meter_files::{Direction, Reading};

/// Without a recorded available power, withdrawal is bounded by this (1,000 kW).
pub const DEFAULT_WITHDRAWAL_LIMIT_W: i64 = 1_000_000;

/// What the configuration knows about one POD.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PodLimits {
    /// The POD's plants summed (W); 0 when it has none.
    pub plant_power_w: i64,
    /// The member's available power (W), when recorded.
    pub available_power_w: Option<i64>,
    /// Held by a natural person (a household): for the unit-slip hint.
    pub household: bool,
}

/// What is wrong with one reading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finding {
    /// Never stored: injection on a POD without a plant.
    Refused(String),
    /// Beyond the physical bound: refused unless the import allows outliers.
    Outlier(String),
}

/// `wh` over `power_w × minutes / 60 × 1.1`, in integers.
fn beyond(wh: i64, power_w: i64, minutes: u8) -> bool {
    i128::from(wh) * 600 > i128::from(power_w) * i128::from(minutes) * 11
}

fn kwh(wh: i64) -> String {
    rust_decimal::Decimal::new(wh, 3).to_string()
}

fn kw(w: i64) -> String {
    rust_decimal::Decimal::new(w, 3).normalize().to_string()
}

/// Checks one reading against its POD's limits.
pub fn check(reading: &Reading, limits: &PodLimits) -> Option<Finding> {
    let minutes = reading.interval_minutes;
    match reading.direction {
        Direction::Injection if limits.plant_power_w == 0 => Some(Finding::Refused(format!(
            "POD {} has no plant in the configuration: its injection readings are refused (add the plant first)",
            reading.pod
        ))),
        Direction::Injection if beyond(reading.wh, limits.plant_power_w, minutes) => {
            Some(Finding::Outlier(format!(
                "POD {}: injection of {} kWh in {minutes} minutes is more than its plants ({} kW) can produce (+10%)",
                reading.pod,
                kwh(reading.wh),
                kw(limits.plant_power_w)
            )))
        }
        Direction::Withdrawal => {
            let (limit, what) = match limits.available_power_w {
                Some(w) => (w, "its available power"),
                None => (
                    DEFAULT_WITHDRAWAL_LIMIT_W,
                    "the default bound (no available power recorded)",
                ),
            };
            beyond(reading.wh, limit, minutes).then(|| {
                Finding::Outlier(format!(
                    "POD {}: withdrawal of {} kWh in {minutes} minutes is more than {what} of {} kW allows (+10%)",
                    reading.pod,
                    kwh(reading.wh),
                    kw(limit)
                ))
            })
        }
        Direction::Injection => None,
    }
}

/// At least this many household withdrawal values before the unit hint speaks.
const UNIT_HINT_MIN_VALUES: u64 = 24;

/// Watches a file's household withdrawals for the Wh-instead-of-kWh slip: a household never
/// draws 10 kWh or more in every interval, in whole kWh each time.
#[derive(Clone, Debug, Default)]
pub struct UnitSniffer {
    household_values: u64,
    /// Every household value so far is a whole number of kWh ≥ 10.
    all_large_integers: bool,
}

impl UnitSniffer {
    pub fn new() -> Self {
        UnitSniffer {
            household_values: 0,
            all_large_integers: true,
        }
    }

    pub fn add(&mut self, reading: &Reading, limits: &PodLimits) {
        if reading.direction == Direction::Withdrawal && limits.household {
            self.household_values += 1;
            self.all_large_integers &= reading.wh >= 10_000 && reading.wh % 1_000 == 0;
        }
    }

    /// The hint, when the file looks like Wh.
    pub fn verdict(&self) -> Option<String> {
        (self.household_values >= UNIT_HINT_MIN_VALUES && self.all_large_integers).then(|| {
            "the households' values look like Wh: every one is a whole number of 10 or more, the format expects kWh (divide by 1,000)".to_string()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(direction: Direction, wh: i64, minutes: u8) -> Reading {
        Reading {
            line: 2,
            pod: "IT001E00000001".into(),
            interval_start: 0,
            interval_minutes: minutes,
            direction,
            wh,
        }
    }

    #[test]
    fn injection_needs_a_plant_and_stays_within_its_power() {
        let none = PodLimits::default();
        assert!(matches!(
            check(&reading(Direction::Injection, 1, 60), &none),
            Some(Finding::Refused(_))
        ));
        let plant = PodLimits {
            plant_power_w: 6_000,
            ..PodLimits::default()
        };
        // 6 kW × 15 min = 1.5 kWh; +10% = 1.65 kWh.
        assert_eq!(
            check(&reading(Direction::Injection, 1_650, 15), &plant),
            None
        );
        let Some(Finding::Outlier(message)) =
            check(&reading(Direction::Injection, 1_651, 15), &plant)
        else {
            panic!("an outlier");
        };
        assert!(
            message.contains("1.651 kWh in 15 minutes") && message.contains("(6 kW)"),
            "{message}"
        );
    }

    #[test]
    fn withdrawal_is_bounded_by_the_available_power_or_a_megawatt() {
        let household = PodLimits {
            available_power_w: Some(3_000),
            household: true,
            ..PodLimits::default()
        };
        assert_eq!(
            check(&reading(Direction::Withdrawal, 3_300, 60), &household),
            None
        );
        assert!(check(&reading(Direction::Withdrawal, 3_301, 60), &household).is_some());
        let unknown = PodLimits::default();
        assert_eq!(
            check(&reading(Direction::Withdrawal, 1_100_000, 60), &unknown),
            None
        );
        assert!(check(&reading(Direction::Withdrawal, 1_100_001, 60), &unknown).is_some());
    }

    #[test]
    fn whole_kwh_of_ten_or_more_in_every_household_interval_look_like_wh() {
        let household = PodLimits {
            household: true,
            ..PodLimits::default()
        };
        let mut sniffer = UnitSniffer::new();
        for _ in 0..24 {
            sniffer.add(&reading(Direction::Withdrawal, 350_000, 60), &household);
        }
        assert!(sniffer.verdict().is_some());
        sniffer.add(&reading(Direction::Withdrawal, 350, 60), &household);
        assert_eq!(sniffer.verdict(), None);
        let mut few = UnitSniffer::new();
        few.add(&reading(Direction::Withdrawal, 100_000, 60), &household);
        assert_eq!(few.verdict(), None, "one value says nothing");
    }
}
