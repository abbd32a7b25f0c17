//! Our finalised figures against GSE's, component by component. Pure: the use case
//! (`service::gse`) reads the runs and GSE's statements and explains the differences it can.
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A component's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Both sides have a figure and they agree within the tolerance.
    Matched,
    /// Both sides have a figure and they do not agree.
    Differs,
    /// One side (or both) has no figure yet.
    Missing,
}

impl Verdict {
    /// As on the wire (`serde`'s snake case).
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Matched => "matched",
            Verdict::Differs => "differs",
            Verdict::Missing => "missing",
        }
    }
}

/// What is compared, in its unit: energy in Wh, money in cents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Component {
    SharedEnergy,
    Premium,
    Valorisation,
    Fees,
}

impl Component {
    pub const ALL: [Component; 4] = [
        Component::SharedEnergy,
        Component::Premium,
        Component::Valorisation,
        Component::Fees,
    ];

    pub fn is_energy(self) -> bool {
        self == Component::SharedEnergy
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Component::SharedEnergy => "shared_energy",
            Component::Premium => "premium",
            Component::Valorisation => "valorisation",
            Component::Fees => "fees",
        }
    }
}

/// How far apart two figures may be and still match: rounding (GSE rounds its own way).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tolerance {
    pub energy_wh: i64,
    pub cents: i64,
}

impl Tolerance {
    fn of(self, component: Component) -> i64 {
        if component.is_energy() {
            self.energy_wh
        } else {
            self.cents
        }
    }
}

/// One component of one period: both figures (integers of the component's unit), GSE's minus
/// ours, and the verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comparison {
    pub component: Component,
    pub computed: Option<i64>,
    pub gse: Option<i64>,
    pub difference: Option<i64>,
    pub verdict: Verdict,
}

pub fn compare(
    component: Component,
    computed: Option<i64>,
    gse: Option<i64>,
    tolerance: Tolerance,
) -> Comparison {
    let difference = match (computed, gse) {
        (Some(ours), Some(theirs)) => Some(theirs - ours),
        _ => None,
    };
    let verdict = match difference {
        None => Verdict::Missing,
        Some(d) if d.abs() <= tolerance.of(component) => Verdict::Matched,
        Some(_) => Verdict::Differs,
    };
    Comparison {
        component,
        computed,
        gse,
        difference,
        verdict,
    }
}

/// A period's verdict from its components': missing when either side has nothing for the
/// period, differs when any component differs, matched when every component both sides have
/// matches.
pub fn overall(verdicts: &[Verdict], computed_exists: bool, gse_exists: bool) -> Verdict {
    if !computed_exists || !gse_exists {
        return Verdict::Missing;
    }
    if verdicts.contains(&Verdict::Differs) {
        Verdict::Differs
    } else if verdicts.iter().all(|v| *v == Verdict::Missing) {
        Verdict::Missing
    } else {
        Verdict::Matched
    }
}

/// A figure in its unit as a decimal: kWh (3 places) or € (2 places).
pub fn as_decimal(component: Component, value: i64) -> Decimal {
    if component.is_energy() {
        Decimal::new(value, 3)
    } else {
        Decimal::new(value, 2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOLERANCE: Tolerance = Tolerance {
        energy_wh: 1,
        cents: 1,
    };

    #[test]
    fn a_difference_is_gse_minus_ours_and_the_tolerance_is_inclusive() {
        let c = compare(Component::Premium, Some(10_000), Some(10_001), TOLERANCE);
        assert_eq!((c.difference, c.verdict), (Some(1), Verdict::Matched));
        let c = compare(Component::Premium, Some(10_000), Some(9_998), TOLERANCE);
        assert_eq!((c.difference, c.verdict), (Some(-2), Verdict::Differs));
        let c = compare(Component::SharedEnergy, None, Some(5), TOLERANCE);
        assert_eq!((c.difference, c.verdict), (None, Verdict::Missing));
    }

    #[test]
    fn the_period_matches_only_when_both_sides_exist_and_nothing_differs() {
        let matched = compare(Component::Premium, Some(1), Some(1), TOLERANCE).verdict;
        let missing = compare(Component::Fees, Some(1), None, TOLERANCE).verdict;
        let differs = compare(Component::Valorisation, Some(1), Some(500), TOLERANCE).verdict;
        assert_eq!(overall(&[matched, missing], true, true), Verdict::Matched);
        assert_eq!(overall(&[matched, differs], true, true), Verdict::Differs);
        assert_eq!(overall(&[missing], true, true), Verdict::Missing);
        assert_eq!(overall(&[matched], false, true), Verdict::Missing);
    }

    #[test]
    fn verdicts_are_named_as_on_the_wire() {
        for verdict in [Verdict::Matched, Verdict::Differs, Verdict::Missing] {
            assert_eq!(
                serde_json::to_value(verdict).unwrap(),
                serde_json::json!(verdict.as_str())
            );
        }
    }

    #[test]
    fn figures_read_in_their_units() {
        assert_eq!(
            as_decimal(Component::SharedEnergy, 1_234_567).to_string(),
            "1234.567"
        );
        assert_eq!(as_decimal(Component::Fees, -1_250).to_string(), "-12.50");
    }
}
