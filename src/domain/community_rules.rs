//! The GSE membership and plant rules (TIAD, DM 414/2023, GSE "Regole operative" §1.2), as pure
//! functions. The API turns each violation into a 409/422 that names the rule.
use chrono::NaiveDate;

use crate::models::enums::{ConfigurationStatus, ConfigurationType, HolderType, MemberRole};

/// Plants commissioned before this day are "existing": they count for sharing, earn no tariff.
pub fn existing_plant_cutoff() -> NaiveDate {
    NaiveDate::from_ymd_opt(2021, 12, 16).expect("valid date")
}

/// Above 1 MW a plant earns only the ARERA valorisation, not the tariff.
pub const MAX_INCENTIVISED_POWER_W: i64 = 1_000_000;

/// Existing plants may make up at most 30% of a configuration's total power.
pub const MAX_EXISTING_SHARE_PERCENT: i64 = 30;

pub fn is_existing_plant(commissioned_on: NaiveDate) -> bool {
    commissioned_on < existing_plant_cutoff()
}

pub fn plant_incentive_eligible(power_w: i64, commissioned_on: NaiveDate) -> bool {
    power_w <= MAX_INCENTIVISED_POWER_W && !is_existing_plant(commissioned_on)
}

/// Whether existing plants stay within their share of the configuration's total power.
pub fn existing_share_within_limit(existing_w: i64, total_w: i64) -> bool {
    existing_w * 100 <= total_w * MAX_EXISTING_SHARE_PERCENT
}

/// draft → active → suspended ⇄ active → closed. Staying put is always allowed.
pub fn status_transition_allowed(from: ConfigurationStatus, to: ConfigurationStatus) -> bool {
    use ConfigurationStatus::*;
    from == to
        || matches!(
            (from, to),
            (Draft, Active) | (Active, Suspended) | (Suspended, Active) | (Active, Closed)
        )
}

/// Memberships cover `[joined_at, withdrawn_at)`; an open end covers every later day.
pub fn memberships_overlap(
    a: (NaiveDate, Option<NaiveDate>),
    b: (NaiveDate, Option<NaiveDate>),
) -> bool {
    let is_empty =
        |(start, end): (NaiveDate, Option<NaiveDate>)| end.is_some_and(|end| end <= start);
    if is_empty(a) || is_empty(b) {
        return false;
    }
    let a_ends_after_b_starts = a.1.is_none_or(|end| end > b.0);
    let b_ends_after_a_starts = b.1.is_none_or(|end| end > a.0);
    a_ends_after_b_starts && b_ends_after_a_starts
}

#[derive(Debug, PartialEq, Eq)]
pub enum MemberRuleViolation {
    LargeEnterpriseInCer,
    NetMeteringConsumer,
}

impl MemberRuleViolation {
    pub fn field(&self) -> &'static str {
        match self {
            MemberRuleViolation::LargeEnterpriseInCer => "holder_type",
            MemberRuleViolation::NetMeteringConsumer => "net_metering",
        }
    }

    pub fn message(&self) -> &'static str {
        match self {
            MemberRuleViolation::LargeEnterpriseInCer => {
                "A large enterprise (other_company: not an SME) cannot be a member of a CER"
            }
            MemberRuleViolation::NetMeteringConsumer => {
                "A POD with Scambio sul Posto (net metering) cannot join as a consumer"
            }
        }
    }
}

/// The rules that depend on the member alone (and its configuration's type).
pub fn check_member(
    configuration_type: ConfigurationType,
    role: MemberRole,
    holder_type: HolderType,
    net_metering: bool,
) -> Result<(), MemberRuleViolation> {
    if configuration_type == ConfigurationType::Cer && !holder_type.may_join_cer() {
        return Err(MemberRuleViolation::LargeEnterpriseInCer);
    }
    if net_metering && role == MemberRole::Consumer {
        return Err(MemberRuleViolation::NetMeteringConsumer);
    }
    Ok(())
}

/// Members that withdraw energy as final customers.
pub fn is_final_customer(role: MemberRole) -> bool {
    matches!(role, MemberRole::Consumer | MemberRole::Prosumer)
}

/// Only members that produce have plants.
pub fn may_have_plants(role: MemberRole) -> bool {
    matches!(role, MemberRole::Producer | MemberRole::Prosumer)
}

/// The PNRR grant's rules in force (DM 414/2023 as amended by DM 127/2025).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PnrrRules {
    /// The municipality must have fewer inhabitants than this.
    pub max_population: i64,
    /// The plant must be commissioned on or before this day.
    pub last_day: NaiveDate,
}

/// Why a plant cannot have a PNRR capital grant: `(field, message)`.
pub fn check_pnrr_grant(
    configuration_type: ConfigurationType,
    municipality_population: Option<i32>,
    commissioned_on: NaiveDate,
    rules: PnrrRules,
) -> Result<(), (&'static str, String)> {
    if configuration_type == ConfigurationType::Aid {
        return Err((
            "capital_grant_share",
            "Only CER and AUC plants can receive the PNRR capital grant, not an AID's".into(),
        ));
    }
    match municipality_population {
        None => {
            return Err((
                "capital_grant_share",
                "A PNRR capital grant needs the configuration's municipality_population (the grant is for municipalities under the threshold): record it first".into(),
            ));
        }
        Some(population) if i64::from(population) >= rules.max_population => {
            return Err((
                "capital_grant_share",
                format!(
                    "The PNRR capital grant is for plants in municipalities under {} inhabitants; the configuration's municipality has {population}",
                    rules.max_population
                ),
            ));
        }
        Some(_) => {}
    }
    if commissioned_on > rules.last_day {
        return Err((
            "commissioned_on",
            format!(
                "A plant with the PNRR capital grant must be commissioned by {}",
                rules.last_day.format("%d/%m/%Y")
            ),
        ));
    }
    Ok(())
}

/// A date kept in a parameter as `yyyymmdd`.
pub fn date_from_yyyymmdd(value: i64) -> Option<NaiveDate> {
    let (year, rest) = (value / 10_000, value % 10_000);
    NaiveDate::from_ymd_opt(
        i32::try_from(year).ok()?,
        (rest / 100) as u32,
        (rest % 100) as u32,
    )
}

/// The first day a membership or plant counts for GSE's figures, if it counts at all:
/// `happened` is the day of the change (joining, commissioning), `notified` the day GSE was told
/// (`None`: not yet — it does not count). `late_days_on(d)` is the lateness limit in force on
/// day `d` (the dated parameter `GSE_LATE_DAYS`: 120 days from 4 Apr 2025), `None` before the
/// rule: then a change counts from the day it happened. Under the rule it counts from the later
/// of the two dates, and only from the notification when that came more than the limit late.
pub fn gse_effective_from(
    happened: NaiveDate,
    notified: Option<NaiveDate>,
    late_days_on: impl Fn(NaiveDate) -> Option<i64>,
) -> Option<NaiveDate> {
    let notified = notified?;
    let Some(limit) = late_days_on(notified) else {
        return Some(happened);
    };
    // As the rule is worded (GSE_RULES §0, secondary sources), "the later of the two" already
    // gives the notification date whenever it came after the change; the limit is kept apart
    // so that a reading where a timely notification counts back to the change is one line.
    let late = (notified - happened).num_days() > limit;
    Some(if late {
        notified
    } else {
        happened.max(notified)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn the_status_machine() {
        use ConfigurationStatus::*;
        for (from, to) in [
            (Draft, Active),
            (Active, Suspended),
            (Suspended, Active),
            (Active, Closed),
            (Draft, Draft),
        ] {
            assert!(status_transition_allowed(from, to), "{from:?} -> {to:?}");
        }
        for (from, to) in [
            (Draft, Suspended),
            (Draft, Closed),
            (Suspended, Closed),
            (Closed, Active),
            (Active, Draft),
        ] {
            assert!(!status_transition_allowed(from, to), "{from:?} -> {to:?}");
        }
    }

    #[test]
    fn overlapping_memberships() {
        let open = |start| (start, None);
        assert!(memberships_overlap(
            open(d(2024, 1, 1)),
            open(d(2025, 1, 1))
        ));
        // Withdrawn on 1 March, joined elsewhere on 1 March: no overlap (the end is exclusive).
        assert!(!memberships_overlap(
            (d(2024, 1, 1), Some(d(2024, 3, 1))),
            open(d(2024, 3, 1))
        ));
        assert!(memberships_overlap(
            (d(2024, 1, 1), Some(d(2024, 3, 2))),
            open(d(2024, 3, 1))
        ));
        assert!(!memberships_overlap(
            (d(2025, 1, 1), None),
            (d(2024, 1, 1), Some(d(2024, 12, 31)))
        ));
        // A zero-length membership covers no day.
        assert!(!memberships_overlap(
            (d(2024, 5, 1), Some(d(2024, 5, 1))),
            open(d(2024, 1, 1))
        ));
    }

    #[test]
    fn member_rules() {
        use HolderType::*;
        use MemberRole::*;
        assert_eq!(
            check_member(ConfigurationType::Cer, Consumer, OtherCompany, false),
            Err(MemberRuleViolation::LargeEnterpriseInCer)
        );
        assert_eq!(
            check_member(ConfigurationType::Auc, Consumer, OtherCompany, false),
            Ok(())
        );
        assert_eq!(
            check_member(ConfigurationType::Cer, Consumer, NaturalPerson, true),
            Err(MemberRuleViolation::NetMeteringConsumer)
        );
        assert_eq!(
            check_member(ConfigurationType::Cer, Producer, NaturalPerson, true),
            Ok(())
        );
    }

    #[test]
    fn plant_rules() {
        assert!(is_existing_plant(d(2021, 12, 15)));
        assert!(!is_existing_plant(d(2021, 12, 16)));
        assert!(plant_incentive_eligible(1_000_000, d(2024, 1, 1)));
        assert!(!plant_incentive_eligible(1_000_001, d(2024, 1, 1)));
        assert!(!plant_incentive_eligible(10_000, d(2020, 1, 1)));
        assert!(existing_share_within_limit(30, 100));
        assert!(!existing_share_within_limit(31, 100));
        assert!(existing_share_within_limit(0, 0));
    }

    #[test]
    fn gse_counts_a_change_from_its_notification_when_late() {
        let rule = |day: NaiveDate| (day >= d(2025, 4, 4)).then_some(120);
        let joined = d(2025, 5, 1);
        assert_eq!(gse_effective_from(joined, None, rule), None);
        // Notified before it happened, or within 120 days: from the later date.
        assert_eq!(
            gse_effective_from(joined, Some(d(2025, 4, 20)), rule),
            Some(joined)
        );
        assert_eq!(
            gse_effective_from(joined, Some(d(2025, 6, 10)), rule),
            Some(d(2025, 6, 10))
        );
        assert_eq!(
            gse_effective_from(joined, Some(d(2025, 8, 29)), rule),
            Some(d(2025, 8, 29))
        );
        // 121 days late: only from the notification (the same day here: the later date anyway).
        assert_eq!(
            gse_effective_from(joined, Some(d(2025, 8, 30)), rule),
            Some(d(2025, 8, 30))
        );
        // Before the rule (notified before 4 Apr 2025): from the day it happened.
        let early = d(2024, 2, 1);
        assert_eq!(
            gse_effective_from(early, Some(d(2024, 9, 1)), rule),
            Some(early)
        );
        // Under the rule, a change from long ago notified now counts from now.
        assert_eq!(
            gse_effective_from(early, Some(d(2025, 6, 10)), rule),
            Some(d(2025, 6, 10))
        );
    }

    #[test]
    fn pnrr_grants_follow_the_rules_in_force() {
        let rules = PnrrRules {
            max_population: 50_000,
            last_day: d(2027, 12, 31),
        };
        let ok = d(2027, 12, 31);
        assert_eq!(
            check_pnrr_grant(ConfigurationType::Cer, Some(49_999), ok, rules),
            Ok(())
        );
        assert_eq!(
            check_pnrr_grant(ConfigurationType::Auc, Some(1), ok, rules),
            Ok(())
        );
        for (kind, population, day, field) in [
            (
                ConfigurationType::Cer,
                Some(50_000),
                ok,
                "capital_grant_share",
            ),
            (ConfigurationType::Cer, None, ok, "capital_grant_share"),
            (ConfigurationType::Aid, Some(100), ok, "capital_grant_share"),
            (
                ConfigurationType::Cer,
                Some(100),
                d(2028, 1, 1),
                "commissioned_on",
            ),
        ] {
            assert_eq!(
                check_pnrr_grant(kind, population, day, rules)
                    .unwrap_err()
                    .0,
                field
            );
        }
        assert_eq!(date_from_yyyymmdd(20_271_231), Some(d(2027, 12, 31)));
        assert_eq!(date_from_yyyymmdd(20_271_331), None);
    }
}
