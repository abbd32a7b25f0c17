//! The sharing-out policy — the statute's rule for who receives what — and the split of a month's
//! money under it, in cents, with the largest-remainder method so the parts always add up.
//!
//! The policy is a small declarative document, stored as JSON with a version and a validity date:
//!
//! ```json
//! {"shares": {"management": "10", "social_fund": "5", "producers": "40", "consumers": "45"},
//!  "producers_split": "by_incentivised_energy", "consumers_split": "by_shared_withdrawal",
//!  "excess_to": "non_business_consumers"}
//! ```
//!
//! The shares (percent) apply to the incentive and to the valorisation separately, so that a
//! member's statement keeps the two apart (their tax treatment differs). The excess premium is
//! taken off the incentive first and goes where `excess_to` says.
use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::settlement::split_cents;
use crate::models::enums::HolderType;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Shares {
    /// Percent of the month's money kept by the configuration for running costs.
    #[schema(value_type = String, example = "10")]
    #[serde(deserialize_with = "crate::schemas::common::exact_decimal")]
    pub management: Decimal,
    #[schema(value_type = String, example = "5")]
    #[serde(deserialize_with = "crate::schemas::common::exact_decimal")]
    pub social_fund: Decimal,
    #[schema(value_type = String, example = "40")]
    #[serde(deserialize_with = "crate::schemas::common::exact_decimal")]
    pub producers: Decimal,
    #[schema(value_type = String, example = "45")]
    #[serde(deserialize_with = "crate::schemas::common::exact_decimal")]
    pub consumers: Decimal,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProducersSplit {
    /// In proportion to the incentivised energy allocated to the member's plants.
    ByIncentivisedEnergy,
    /// In proportion to the member's plant power.
    ByPower,
    Equal,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConsumersSplit {
    /// Each hour's withdrawal times that hour's shared fraction `EAC_h / With_h`, summed.
    BySharedWithdrawal,
    ByWithdrawal,
    Equal,
    /// Fixed coefficients per member (`coefficients`), normalised over the members present.
    Coefficients,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExcessDestination {
    /// Consumers that are not businesses (domestic, public bodies, religious/third sector),
    /// split like the consumers' share; to the social fund when there are none.
    NonBusinessConsumers,
    SocialFund,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub shares: Shares,
    pub producers_split: ProducersSplit,
    pub consumers_split: ConsumersSplit,
    /// Member id → coefficient; required by (and only allowed with) `coefficients`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::schemas::common::exact_decimal_map"
    )]
    #[schema(value_type = Option<BTreeMap<String, String>>)]
    pub coefficients: Option<BTreeMap<i32, Decimal>>,
    pub excess_to: ExcessDestination,
}

impl Policy {
    /// What applies when a configuration has no policy yet: everything to the members, producers
    /// and consumers half each, split by energy; the excess to non-business consumers.
    pub fn default_document() -> Policy {
        Policy {
            shares: Shares {
                management: Decimal::ZERO,
                social_fund: Decimal::ZERO,
                producers: Decimal::from(50),
                consumers: Decimal::from(50),
            },
            producers_split: ProducersSplit::ByIncentivisedEnergy,
            consumers_split: ConsumersSplit::BySharedWithdrawal,
            coefficients: None,
            excess_to: ExcessDestination::NonBusinessConsumers,
        }
    }

    /// Problems as `(field path, message)`; empty when the policy can be applied.
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let shares = [
            ("management", self.shares.management),
            ("social_fund", self.shares.social_fund),
            ("producers", self.shares.producers),
            ("consumers", self.shares.consumers),
        ];
        for (name, value) in shares {
            if value.is_sign_negative() || value > Decimal::from(100) {
                out.push((format!("shares.{name}"), "must be between 0 and 100".into()));
            } else if value.normalize().scale() > 4 {
                out.push((
                    format!("shares.{name}"),
                    "at most 4 decimal places are allowed".into(),
                ));
            }
        }
        let total: Decimal = shares.iter().map(|(_, v)| *v).sum();
        if total != Decimal::from(100) {
            out.push((
                "shares".into(),
                format!("the shares must add up to 100, not {}", total.normalize()),
            ));
        }
        match (self.consumers_split, &self.coefficients) {
            (ConsumersSplit::Coefficients, None) => out.push((
                "coefficients".into(),
                "required when consumers_split is \"coefficients\"".into(),
            )),
            (ConsumersSplit::Coefficients, Some(map)) => {
                if map.is_empty() {
                    out.push((
                        "coefficients".into(),
                        "must name at least one member".into(),
                    ));
                }
                for (member, value) in map {
                    if value.is_sign_negative() {
                        out.push((
                            format!("coefficients.{member}"),
                            "must not be negative".into(),
                        ));
                    }
                }
            }
            (_, Some(_)) => out.push((
                "coefficients".into(),
                "only allowed when consumers_split is \"coefficients\"".into(),
            )),
            (_, None) => {}
        }
        out
    }
}

/// What the split needs to know of one member in the month.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Participant {
    pub member_id: i32,
    pub holder_type: HolderType,
    /// Has plants in the configuration (takes part in the producers' share).
    pub producer: bool,
    /// Withdraws energy in the month (takes part in the consumers' share).
    pub consumer: bool,
    pub incentivised_kwh: Decimal,
    pub power_kw: Decimal,
    pub shared_withdrawal_kwh: Decimal,
    pub withdrawal_kwh: Decimal,
}

impl Participant {
    fn non_business(&self) -> bool {
        !self.holder_type.is_business()
    }
}

/// One component's money (cents) as split: per member, and what the configuration keeps.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Split {
    /// Aligned with the participants.
    pub members: Vec<i64>,
    pub management: i64,
    pub social_fund: i64,
}

impl Split {
    pub fn total(&self) -> i64 {
        self.members.iter().sum::<i64>() + self.management + self.social_fund
    }
}

/// What went where, and the reasons for anything that could not go where the policy says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Distribution {
    pub incentive: Split,
    pub valorisation: Split,
    pub excess: Split,
    pub notes: Vec<String>,
}

fn weighted(
    participants: &[Participant],
    eligible: impl Fn(&Participant) -> bool,
    weight: impl Fn(&Participant) -> Decimal,
    cents: i64,
) -> Option<Vec<i64>> {
    let chosen: Vec<usize> = (0..participants.len())
        .filter(|&i| eligible(&participants[i]))
        .collect();
    if chosen.is_empty() {
        return None;
    }
    let weights: Vec<Decimal> = chosen.iter().map(|&i| weight(&participants[i])).collect();
    let parts = split_cents(cents, &weights);
    let mut out = vec![0; participants.len()];
    for (index, part) in chosen.into_iter().zip(parts) {
        out[index] = part;
    }
    Some(out)
}

impl Policy {
    fn producer_weights(&self, p: &Participant) -> Decimal {
        match self.producers_split {
            ProducersSplit::ByIncentivisedEnergy => p.incentivised_kwh,
            ProducersSplit::ByPower => p.power_kw,
            ProducersSplit::Equal => Decimal::ONE,
        }
    }

    fn consumer_weights(&self, p: &Participant) -> Decimal {
        match self.consumers_split {
            ConsumersSplit::BySharedWithdrawal => p.shared_withdrawal_kwh,
            ConsumersSplit::ByWithdrawal => p.withdrawal_kwh,
            ConsumersSplit::Equal => Decimal::ONE,
            ConsumersSplit::Coefficients => self
                .coefficients
                .as_ref()
                .and_then(|c| c.get(&p.member_id).copied())
                .unwrap_or_default(),
        }
    }

    fn is_consumer(&self, p: &Participant) -> bool {
        p.consumer
            && (self.consumers_split != ConsumersSplit::Coefficients
                || self.consumer_weights(p) > Decimal::ZERO)
    }

    /// Splits one component (`cents`) by the shares, then within producers and consumers. A share
    /// with nobody to receive it stays with the configuration (management), with a note.
    fn split_component(
        &self,
        name: &str,
        cents: i64,
        participants: &[Participant],
        notes: &mut Vec<String>,
    ) -> Split {
        let shares = &self.shares;
        let parts = split_cents(
            cents,
            &[
                shares.management,
                shares.social_fund,
                shares.producers,
                shares.consumers,
            ],
        );
        let mut split = Split {
            members: vec![0; participants.len()],
            management: parts[0],
            social_fund: parts[1],
        };
        for (side, amount) in [("producers", parts[2]), ("consumers", parts[3])] {
            if amount == 0 {
                continue;
            }
            let shares = if side == "producers" {
                weighted(
                    participants,
                    |p| p.producer,
                    |p| self.producer_weights(p),
                    amount,
                )
            } else {
                weighted(
                    participants,
                    |p| self.is_consumer(p),
                    |p| self.consumer_weights(p),
                    amount,
                )
            };
            match shares {
                Some(shares) => {
                    for (total, part) in split.members.iter_mut().zip(shares) {
                        *total += part;
                    }
                }
                None => {
                    split.management += amount;
                    notes.push(format!(
                        "no {side} in the month: their {name} share ({amount} cents) stays with the configuration"
                    ));
                }
            }
        }
        split
    }

    /// The month's money under this policy. `incentive_cents` excludes the excess premium.
    pub fn distribute(
        &self,
        incentive_cents: i64,
        excess_cents: i64,
        valorisation_cents: i64,
        participants: &[Participant],
    ) -> Distribution {
        let mut notes = Vec::new();
        let incentive =
            self.split_component("incentive", incentive_cents, participants, &mut notes);
        let valorisation =
            self.split_component("valorisation", valorisation_cents, participants, &mut notes);
        let mut excess = Split {
            members: vec![0; participants.len()],
            ..Split::default()
        };
        if excess_cents != 0 {
            let to_members = match self.excess_to {
                ExcessDestination::NonBusinessConsumers => weighted(
                    participants,
                    |p| self.is_consumer(p) && p.non_business(),
                    |p| self.consumer_weights(p),
                    excess_cents,
                ),
                ExcessDestination::SocialFund => None,
            };
            match to_members {
                Some(parts) => excess.members = parts,
                None => {
                    if self.excess_to == ExcessDestination::NonBusinessConsumers {
                        notes.push(
                            "no non-business consumers in the month: the excess premium goes to the social fund"
                                .into(),
                        );
                    }
                    excess.social_fund = excess_cents;
                }
            }
        }
        Distribution {
            incentive,
            valorisation,
            excess,
            notes,
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    use super::*;

    fn participant(id: i32, producer: bool, consumer: bool, shared: Decimal) -> Participant {
        Participant {
            member_id: id,
            holder_type: HolderType::NaturalPerson,
            producer,
            consumer,
            incentivised_kwh: if producer { dec!(100) } else { dec!(0) },
            power_kw: if producer { dec!(20) } else { dec!(0) },
            shared_withdrawal_kwh: shared,
            withdrawal_kwh: shared * dec!(2),
        }
    }

    fn policy() -> Policy {
        Policy {
            shares: Shares {
                management: dec!(10),
                social_fund: dec!(5),
                producers: dec!(40),
                consumers: dec!(45),
            },
            producers_split: ProducersSplit::ByIncentivisedEnergy,
            consumers_split: ConsumersSplit::BySharedWithdrawal,
            coefficients: None,
            excess_to: ExcessDestination::NonBusinessConsumers,
        }
    }

    #[test]
    fn a_valid_policy_has_no_problems_and_a_bad_one_names_its_fields() {
        assert!(policy().problems().is_empty());
        assert!(Policy::default_document().problems().is_empty());
        let mut bad = policy();
        bad.shares.consumers = dec!(50);
        bad.consumers_split = ConsumersSplit::Coefficients;
        let fields: Vec<String> = bad.problems().into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            vec!["shares".to_string(), "coefficients".to_string()]
        );
        let mut negative = policy();
        negative.shares.management = dec!(-5);
        negative.shares.consumers = dec!(60);
        assert_eq!(negative.problems()[0].0, "shares.management");
    }

    #[test]
    fn the_policy_splits_a_month_as_the_statute_says() {
        // 1,000.00 € incentive, 100.00 € excess, 50.00 € valorisation; one producer (member 1)
        // and two consumers sharing 30 and 10 kWh.
        let people = [
            participant(1, true, false, dec!(0)),
            participant(2, false, true, dec!(30)),
            participant(3, false, true, dec!(10)),
        ];
        let d = policy().distribute(100_000, 10_000, 5_000, &people);
        assert_eq!(d.incentive.management, 10_000);
        assert_eq!(d.incentive.social_fund, 5_000);
        assert_eq!(d.incentive.members, vec![40_000, 33_750, 11_250]);
        assert_eq!(d.valorisation.members, vec![2_000, 1_688, 562]);
        assert_eq!(d.valorisation.total(), 5_000);
        assert_eq!(d.excess.members, vec![0, 7_500, 2_500]);
        assert!(d.notes.is_empty());
    }

    #[test]
    fn shares_without_recipients_stay_with_the_configuration() {
        let people = [participant(1, false, true, dec!(5))];
        let mut business = policy();
        business.excess_to = ExcessDestination::NonBusinessConsumers;
        let mut people_sme = people.clone();
        people_sme[0].holder_type = HolderType::Sme;
        let d = business.distribute(10_000, 1_000, 0, &people_sme);
        assert_eq!(d.incentive.management, 1_000 + 4_000);
        assert_eq!(d.excess.social_fund, 1_000);
        assert_eq!(d.notes.len(), 2);
    }

    #[test]
    fn coefficients_split_among_the_named_members_only() {
        let mut p = policy();
        p.consumers_split = ConsumersSplit::Coefficients;
        p.coefficients = Some(BTreeMap::from([(2, dec!(3)), (3, dec!(1))]));
        let people = [
            participant(2, false, true, dec!(0)),
            participant(3, false, true, dec!(0)),
            participant(4, false, true, dec!(50)),
        ];
        let d = p.distribute(0, 0, 10_000, &people);
        assert_eq!(d.valorisation.members, vec![3_375, 1_125, 0]);
    }

    proptest! {
        #[test]
        fn every_component_adds_up_to_its_total(
            incentive in -1_000_000i64..10_000_000,
            excess in 0i64..1_000_000,
            valorisation in 0i64..1_000_000,
            shares in proptest::collection::vec(0u32..=100, 3),
            members in proptest::collection::vec((any::<bool>(), any::<bool>(), 0u32..100_000), 0..20),
        ) {
            let (a, b, c) = (shares[0].min(100), shares[1].min(100 - shares[0].min(100)), shares[2]);
            let c = c.min(100 - a - b);
            let mut p = policy();
            p.shares = Shares {
                management: Decimal::from(a),
                social_fund: Decimal::from(b),
                producers: Decimal::from(c),
                consumers: Decimal::from(100 - a - b - c),
            };
            prop_assert!(p.problems().is_empty());
            let people: Vec<Participant> = members
                .iter()
                .enumerate()
                .map(|(i, (producer, consumer, wh))| participant(i as i32, *producer, *consumer, Decimal::new(*wh as i64, 3)))
                .collect();
            let d = p.distribute(incentive, excess, valorisation, &people);
            prop_assert_eq!(d.incentive.total(), incentive);
            prop_assert_eq!(d.excess.total(), excess);
            prop_assert_eq!(d.valorisation.total(), valorisation);
            for (i, person) in people.iter().enumerate() {
                if !person.producer && !person.consumer {
                    prop_assert_eq!(d.incentive.members[i] + d.valorisation.members[i] + d.excess.members[i], 0);
                }
            }
        }
    }
}
