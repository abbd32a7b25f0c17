//! One settlement period's arithmetic, fed hour by hour: shared and incentivised energy, the
//! seniority allocation, each plant's premium, the valorisation, the excess premium. Pure: the
//! caller streams the hours in; memory holds one accumulator per plant, not the readings.
use std::collections::HashMap;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use rust_decimal_macros::dec;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::settlement::{
    TariffRules, allocate_by_seniority, auc_extra, shared_energy, valorisation,
};
use crate::models::enums::{ConfigurationType, ConnectionVoltage, HolderType, PlantSource, Region};

/// A plant as the run sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlantSpec {
    pub id: i32,
    pub member_id: i32,
    pub pod: String,
    pub source: PlantSource,
    pub power_kw: Decimal,
    pub grant_share: Decimal,
    pub voltage: ConnectionVoltage,
    /// Commissioning (local midnight, UNIX seconds): no tariff for earlier hours.
    pub commissioned_at: i64,
    /// Earns the tariff at all (not an existing plant, within the power limit and 20 years).
    pub incentivised: bool,
}

/// The regulated values that apply on one day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayParameters {
    pub rules: TariffRules,
    pub tras_e: Decimal,
    pub btau: Decimal,
    pub cpr_lv: Decimal,
    pub cpr_mv: Decimal,
}

/// One hour of the configuration, as read from the database.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HourData {
    pub start: i64,
    /// The configuration's totals (members only while their membership covers the hour).
    pub injected_wh: i64,
    pub withdrawn_wh: i64,
    /// Injection per POD that has plants.
    pub injection_by_pod: Vec<(String, i64)>,
    /// The hourly zonal price, if known.
    pub price: Option<Decimal>,
    /// Withdrawal in the hour of the holder types that may be exempt from F (public bodies,
    /// religious / third-sector bodies, natural persons), for configurations with a
    /// grant-reduced plant; which of them are exempt depends on the day's rules.
    pub exempt_capable_withdrawn_wh: Vec<(HolderType, i64)>,
}

/// Incentivised energy of a plant on which F was not applied, by the holder type of the
/// withdrawal points it is attributed to (pro rata of their withdrawal in each hour).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FExemptShare {
    pub holder_type: HolderType,
    /// kWh, three decimals.
    #[schema(value_type = String, example = "12.345")]
    #[serde(serialize_with = "crate::domain::quantities::fixed_scale::kwh")]
    pub shared_kwh: Decimal,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PlantResult {
    pub plant_id: i32,
    pub member_id: i32,
    pub incentivised: bool,
    #[schema(value_type = String)]
    #[serde(serialize_with = "crate::domain::quantities::fixed_scale::kwh")]
    pub power_kw: Decimal,
    /// The plant's part of its POD's injection (POD injection split by power).
    #[schema(value_type = String)]
    #[serde(serialize_with = "crate::domain::quantities::fixed_scale::kwh")]
    pub injected_kwh: Decimal,
    /// Incentivised shared energy allocated to the plant by seniority.
    #[schema(value_type = String)]
    #[serde(serialize_with = "crate::domain::quantities::fixed_scale::kwh")]
    pub shared_kwh: Decimal,
    /// The grant reduction F of the plant (0 without a capital grant).
    #[schema(value_type = String)]
    pub grant_factor: Decimal,
    /// The part of `shared_kwh` on which F was not applied, and for which holders
    /// (0 when the plant has no F to waive).
    #[schema(value_type = String)]
    #[serde(serialize_with = "crate::domain::quantities::fixed_scale::kwh")]
    pub f_exempt_kwh: Decimal,
    pub f_exempt: Vec<FExemptShare>,
    /// Premium (tariff × allocated energy), exact.
    #[schema(value_type = String)]
    #[serde(serialize_with = "crate::domain::quantities::fixed_scale::eur")]
    pub premium_eur: Decimal,
    /// The part of the premium above the excess threshold (plant set's ratio for the period).
    #[schema(value_type = String)]
    #[serde(serialize_with = "crate::domain::quantities::fixed_scale::eur")]
    pub excess_eur: Decimal,
    /// What GSE pays ahead each month for this plant (cash planning; 0 if not incentivised).
    #[schema(value_type = String)]
    #[serde(serialize_with = "crate::domain::quantities::fixed_scale::cents")]
    pub monthly_advance_eur: Decimal,
    #[schema(value_type = String)]
    #[serde(serialize_with = "crate::domain::quantities::fixed_scale::cents")]
    pub yearly_fee_eur: Decimal,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PeriodTotals {
    pub hours: u32,
    #[schema(value_type = String)]
    #[serde(serialize_with = "crate::domain::quantities::fixed_scale::kwh")]
    pub injected_kwh: Decimal,
    #[schema(value_type = String)]
    #[serde(serialize_with = "crate::domain::quantities::fixed_scale::kwh")]
    pub withdrawn_kwh: Decimal,
    /// EAC: Σ min(Inj_h, With_h).
    #[schema(value_type = String)]
    #[serde(serialize_with = "crate::domain::quantities::fixed_scale::kwh")]
    pub shared_kwh: Decimal,
    /// EACI: Σ min(incentivised Inj_h, With_h).
    #[schema(value_type = String)]
    #[serde(serialize_with = "crate::domain::quantities::fixed_scale::kwh")]
    pub incentivised_shared_kwh: Decimal,
    #[schema(value_type = String)]
    #[serde(serialize_with = "crate::domain::quantities::fixed_scale::eur")]
    pub premium_eur: Decimal,
    #[schema(value_type = String)]
    #[serde(serialize_with = "crate::domain::quantities::fixed_scale::eur")]
    pub excess_eur: Decimal,
    /// CACV (TRAS_E) plus, for an AUC, the BTAU and avoided-loss terms.
    #[schema(value_type = String)]
    #[serde(serialize_with = "crate::domain::quantities::fixed_scale::eur")]
    pub valorisation_eur: Decimal,
    #[schema(value_type = String)]
    #[serde(serialize_with = "crate::domain::quantities::fixed_scale::eur")]
    pub auc_extra_eur: Decimal,
}

/// One plant set's figures for the excess premium (tariff-only plants, or plants with a grant).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ExcessSet {
    #[schema(value_type = String)]
    #[serde(serialize_with = "crate::domain::quantities::fixed_scale::kwh")]
    pub shared_kwh: Decimal,
    /// Injection of the set's plants while they earn the tariff.
    #[schema(value_type = String)]
    #[serde(serialize_with = "crate::domain::quantities::fixed_scale::kwh")]
    pub injected_kwh: Decimal,
    #[schema(value_type = String)]
    #[serde(serialize_with = "crate::domain::quantities::fixed_scale::eur")]
    pub premium_eur: Decimal,
    /// The excess counted in this period (year to date less earlier months).
    #[schema(value_type = String)]
    #[serde(serialize_with = "crate::domain::quantities::fixed_scale::eur")]
    pub excess_eur: Decimal,
}

/// The two plant sets' figures for one period, or summed over the year's earlier periods.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ExcessBasis {
    pub tariff_only: ExcessSet,
    pub with_grant: ExcessSet,
}

impl ExcessBasis {
    fn set(&self, with_grant: bool) -> &ExcessSet {
        if with_grant {
            &self.with_grant
        } else {
            &self.tariff_only
        }
    }

    fn set_mut(&mut self, with_grant: bool) -> &mut ExcessSet {
        if with_grant {
            &mut self.with_grant
        } else {
            &mut self.tariff_only
        }
    }

    /// Adds another period's figures.
    pub fn add(&mut self, other: &ExcessBasis) {
        for (mine, theirs) in [
            (&mut self.tariff_only, &other.tariff_only),
            (&mut self.with_grant, &other.with_grant),
        ] {
            mine.shared_kwh += theirs.shared_kwh;
            mine.injected_kwh += theirs.injected_kwh;
            mine.premium_eur += theirs.premium_eur;
            mine.excess_eur += theirs.excess_eur;
        }
    }
}

pub struct PeriodEngine {
    kind: ConfigurationType,
    region: Region,
    /// By seniority: commissioning, then id.
    plants: Vec<PlantSpec>,
    results: Vec<PlantResult>,
    /// POD → (plant index, power share of the POD's injection).
    pod_plants: HashMap<String, Vec<(usize, Decimal)>>,
    /// Power of same-source plants behind the plant's POD (the tariff band's power).
    band_power: Vec<Decimal>,
    incentivised_injection: Vec<Decimal>,
    totals: PeriodTotals,
    missing_prices: Vec<i64>,
}

fn kwh(wh: i64) -> Decimal {
    Decimal::new(wh, 3)
}

impl PeriodEngine {
    pub fn new(kind: ConfigurationType, region: Region, mut plants: Vec<PlantSpec>) -> Self {
        plants.sort_by(|a, b| {
            a.commissioned_at
                .cmp(&b.commissioned_at)
                .then(a.id.cmp(&b.id))
        });
        let mut pod_power: HashMap<&str, Decimal> = HashMap::new();
        for plant in &plants {
            *pod_power.entry(plant.pod.as_str()).or_default() += plant.power_kw;
        }
        let mut pod_plants: HashMap<String, Vec<(usize, Decimal)>> = HashMap::new();
        let count_on_pod = |pod: &str| plants.iter().filter(|p| p.pod == pod).count();
        for (index, plant) in plants.iter().enumerate() {
            let total = pod_power[plant.pod.as_str()];
            let share = if total.is_zero() {
                Decimal::ONE / Decimal::from(count_on_pod(&plant.pod))
            } else {
                plant.power_kw / total
            };
            pod_plants
                .entry(plant.pod.clone())
                .or_default()
                .push((index, share));
        }
        let band_power = plants
            .iter()
            .map(|plant| {
                plants
                    .iter()
                    .filter(|other| other.pod == plant.pod && other.source == plant.source)
                    .map(|other| other.power_kw)
                    .sum()
            })
            .collect();
        let results = plants
            .iter()
            .map(|p| PlantResult {
                plant_id: p.id,
                member_id: p.member_id,
                incentivised: p.incentivised,
                power_kw: p.power_kw,
                ..PlantResult::default()
            })
            .collect();
        let count = plants.len();
        PeriodEngine {
            kind,
            region,
            plants,
            results,
            pod_plants,
            band_power,
            incentivised_injection: vec![Decimal::ZERO; count],
            totals: PeriodTotals::default(),
            missing_prices: Vec::new(),
        }
    }

    pub fn add_hour(&mut self, hour: &HourData, day: &DayParameters) {
        self.totals.hours += 1;
        let injected = kwh(hour.injected_wh);
        let withdrawn = kwh(hour.withdrawn_wh);
        let shared = shared_energy(injected, withdrawn);
        self.totals.injected_kwh += injected;
        self.totals.withdrawn_kwh += withdrawn;
        self.totals.shared_kwh += shared;
        if hour.price.is_none() {
            self.missing_prices.push(hour.start);
        }

        // Each plant's part of its POD's injection, and which of it earns the tariff this hour.
        let mut plant_injection = vec![Decimal::ZERO; self.plants.len()];
        for (pod, wh) in &hour.injection_by_pod {
            if let Some(plants) = self.pod_plants.get(pod) {
                for (index, share) in plants {
                    plant_injection[*index] += kwh(*wh) * share;
                }
            }
        }
        let earning: Vec<Decimal> = self
            .plants
            .iter()
            .zip(&plant_injection)
            .zip(&self.band_power)
            .map(|((plant, injection), band_power)| {
                // A plant earns from commissioning, and only while its band power has a band
                // (above 1 MW of same-source sections behind its POD: no tariff at all).
                if plant.incentivised
                    && hour.start >= plant.commissioned_at
                    && day.rules.band(*band_power).is_some()
                {
                    *injection
                } else {
                    Decimal::ZERO
                }
            })
            .collect();
        let incentivised_injection: Decimal = earning.iter().sum();
        let incentivised_shared = shared_energy(incentivised_injection, withdrawn);
        self.totals.incentivised_shared_kwh += incentivised_shared;
        let allocation = allocate_by_seniority(incentivised_shared, &earning);
        // Which share of the hour's withdrawal (hence of the EACI, pro rata) belongs to
        // withdrawal points whose holders are exempt from F today.
        let exempt: Vec<(HolderType, Decimal)> = if withdrawn.is_zero() {
            Vec::new()
        } else {
            hour.exempt_capable_withdrawn_wh
                .iter()
                .filter(|(holder, wh)| {
                    *wh > 0 && holder.f_exempt(day.rules.natural_persons_f_exempt)
                })
                .map(|(holder, wh)| (*holder, kwh(*wh) / withdrawn))
                .collect()
        };
        let exempt_fraction: Decimal = exempt.iter().map(|(_, part)| *part).sum();
        for (index, plant) in self.plants.iter().enumerate() {
            let result = &mut self.results[index];
            result.injected_kwh += plant_injection[index];
            self.incentivised_injection[index] += earning[index];
            result.shared_kwh += allocation[index];
            if allocation[index].is_zero() {
                continue;
            }
            let Some(price) = hour.price else { continue };
            let Some(tariff) = day.rules.tariff_before_grant_factor(
                price,
                self.band_power[index],
                plant.source,
                self.region,
            ) else {
                continue;
            };
            let grant_factor = day.rules.grant_factor(plant.grant_share);
            // TIP × [(1 − F) × (1 − exempt) + exempt] = TIP × (1 − F × (1 − exempt)).
            let reduction = if grant_factor.is_zero() {
                Decimal::ZERO
            } else {
                for (holder, part) in &exempt {
                    let energy = allocation[index] * part;
                    match result
                        .f_exempt
                        .iter_mut()
                        .find(|s| s.holder_type == *holder)
                    {
                        Some(share) => share.shared_kwh += energy,
                        None => result.f_exempt.push(FExemptShare {
                            holder_type: *holder,
                            shared_kwh: energy,
                        }),
                    }
                    result.f_exempt_kwh += energy;
                }
                grant_factor * (Decimal::ONE - exempt_fraction)
            };
            result.premium_eur +=
                allocation[index] * tariff * (Decimal::ONE - reduction) / dec!(1000);
        }

        self.totals.valorisation_eur += valorisation(shared, day.tras_e);
        if self.kind == ConfigurationType::Auc
            && let Some(price) = hour.price
            && !shared.is_zero()
        {
            // Withdrawal points of a building are on LV, so every plant's share counts; the
            // shared energy is attributed to plant voltages in proportion to their injection.
            let mut by_voltage = [Decimal::ZERO; 2];
            for (index, plant) in self.plants.iter().enumerate() {
                by_voltage[(plant.voltage == ConnectionVoltage::Mv) as usize] +=
                    plant_injection[index];
            }
            let attributed: Decimal = by_voltage.iter().sum();
            by_voltage[0] += (injected - attributed).max(Decimal::ZERO);
            let total: Decimal = by_voltage.iter().sum();
            if !total.is_zero() {
                for (voltage, cpr) in [(0, day.cpr_lv), (1, day.cpr_mv)] {
                    let part = shared * by_voltage[voltage] / total;
                    self.totals.auc_extra_eur += auc_extra(part, day.btau, cpr, price);
                }
            }
        }
    }

    /// The period's results; `parameters` are those of the period's first day (thresholds,
    /// advance, fees). `before` is the year so far (the finalised earlier months of the same
    /// year): the excess premium is a yearly quantity, so each month takes the year-to-date
    /// excess less what earlier months already counted — in December the months add up to the
    /// year's excess exactly, and a month that lowers the ratio gives some back (negative).
    pub fn finish(
        mut self,
        parameters: &DayParameters,
        before: &ExcessBasis,
    ) -> (PeriodTotals, Vec<PlantResult>, Vec<i64>, ExcessBasis) {
        let rules = &parameters.rules;
        let mut basis = ExcessBasis::default();
        for with_grant in [false, true] {
            let members: Vec<usize> = (0..self.plants.len())
                .filter(|&i| {
                    self.plants[i].incentivised
                        && (self.plants[i].grant_share > Decimal::ZERO) == with_grant
                })
                .collect();
            let month = ExcessSet {
                shared_kwh: members.iter().map(|&i| self.results[i].shared_kwh).sum(),
                injected_kwh: members
                    .iter()
                    .map(|&i| self.incentivised_injection[i])
                    .sum(),
                premium_eur: members.iter().map(|&i| self.results[i].premium_eur).sum(),
                excess_eur: Decimal::ZERO,
            };
            let earlier = before.set(with_grant);
            let injected = earlier.injected_kwh + month.injected_kwh;
            let year_to_date = if injected.is_zero() {
                Decimal::ZERO
            } else {
                rules.excess_premium(
                    earlier.shared_kwh + month.shared_kwh,
                    injected,
                    with_grant,
                    earlier.premium_eur + month.premium_eur,
                )
            };
            let excess = year_to_date - earlier.excess_eur;
            // Per plant, in proportion to the month's premium (for the report).
            if !month.premium_eur.is_zero() {
                for &i in &members {
                    self.results[i].excess_eur =
                        excess * self.results[i].premium_eur / month.premium_eur;
                }
            }
            self.totals.excess_eur += excess;
            *basis.set_mut(with_grant) = ExcessSet {
                excess_eur: excess,
                ..month
            };
        }
        for ((plant, result), band_power) in self
            .plants
            .iter()
            .zip(self.results.iter_mut())
            .zip(&self.band_power)
        {
            result.yearly_fee_eur = rules.yearly_fee(plant.power_kw);
            result.grant_factor = rules.grant_factor(plant.grant_share).normalize();
            // F-exempt energy is part of the plant's shared energy: computed through other
            // divisions it can come out a few units of the 28th digit above it, which rounding
            // to the Wh can turn into 1 Wh too many. Then the holders' parts are split from the
            // rounded total with the largest remainder, so that they add up to it exactly.
            result.f_exempt_kwh = round_kwh(result.f_exempt_kwh.min(result.shared_kwh));
            let weights: Vec<Decimal> = result.f_exempt.iter().map(|s| s.shared_kwh).collect();
            let total_wh = (result.f_exempt_kwh * dec!(1000))
                .trunc()
                .to_i64()
                .unwrap_or(0);
            let parts = super::settlement::split_cents(total_wh, &weights);
            for (share, wh) in result.f_exempt.iter_mut().zip(parts) {
                share.shared_kwh = Decimal::new(wh, 3);
            }
            result.f_exempt.sort_by_key(|s| s.holder_type.as_str());
            if plant.incentivised && rules.band(*band_power).is_some() {
                result.monthly_advance_eur = rules
                    .monthly_advance(plant.power_kw, plant.source, self.region, plant.grant_share)
                    .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
            }
            result.premium_eur = result.premium_eur.normalize();
            result.excess_eur = result.excess_eur.normalize();
            self.totals.premium_eur += result.premium_eur;
        }
        self.totals.valorisation_eur += self.totals.auc_extra_eur;
        for value in [
            &mut self.totals.premium_eur,
            &mut self.totals.excess_eur,
            &mut self.totals.valorisation_eur,
            &mut self.totals.auc_extra_eur,
        ] {
            *value = value.normalize();
        }
        self.results.sort_by_key(|r| r.plant_id);
        (self.totals, self.results, self.missing_prices, basis)
    }
}

/// kWh to the Wh (three decimals), half away from zero: for reported energy shares.
fn round_kwh(value: Decimal) -> Decimal {
    let mut rounded = value.round_dp_with_strategy(3, RoundingStrategy::MidpointAwayFromZero);
    rounded.rescale(3);
    rounded
}

/// Euros to cents, half away from zero (how money is paid out).
pub fn to_cents(eur: Decimal) -> i64 {
    let cents = (eur * dec!(100)).round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
    i64::try_from(cents).unwrap_or(if cents.is_sign_negative() {
        i64::MIN
    } else {
        i64::MAX
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn day() -> DayParameters {
        DayParameters {
            rules: TariffRules::dm_414_2023(),
            tras_e: dec!(10.57),
            btau: dec!(0.65),
            cpr_lv: dec!(0.026),
            cpr_mv: dec!(0.012),
        }
    }

    fn plant(id: i32, pod: &str, kw: Decimal, commissioned_at: i64, grant: Decimal) -> PlantSpec {
        PlantSpec {
            id,
            member_id: id * 10,
            pod: pod.into(),
            source: PlantSource::Pv,
            power_kw: kw,
            grant_share: grant,
            voltage: ConnectionVoltage::Lv,
            commissioned_at,
            incentivised: true,
        }
    }

    /// The issue's hour: A 150 kW (older) injects 50 kWh, B 300 kW with a 20% grant 120 kWh,
    /// members withdraw 140 kWh, Pz 110 in the North.
    fn the_issue_hour(
        kind: ConfigurationType,
    ) -> (PeriodTotals, Vec<PlantResult>, Vec<i64>, ExcessBasis) {
        let plants = vec![
            plant(2, "IT001E00000002", dec!(300), 200, dec!(0.20)),
            plant(1, "IT001E00000001", dec!(150), 100, dec!(0)),
        ];
        let mut engine = PeriodEngine::new(kind, Region::Veneto, plants);
        engine.add_hour(
            &HourData {
                start: 3600,
                injected_wh: 170_000,
                withdrawn_wh: 140_000,
                injection_by_pod: vec![
                    ("IT001E00000001".into(), 50_000),
                    ("IT001E00000002".into(), 120_000),
                ],
                price: Some(dec!(110)),
                exempt_capable_withdrawn_wh: Vec::new(),
            },
            &day(),
        );
        engine.finish(&day(), &ExcessBasis::default())
    }

    #[test]
    fn the_issue_hour_through_the_engine() {
        let (totals, plants, missing, _) = the_issue_hour(ConfigurationType::Cer);
        assert!(missing.is_empty());
        assert_eq!(totals.shared_kwh, dec!(140));
        assert_eq!(totals.incentivised_shared_kwh, dec!(140));
        assert_eq!(
            (plants[0].shared_kwh, plants[1].shared_kwh),
            (dec!(50), dec!(90))
        );
        assert_eq!(
            (
                plants[0].premium_eur,
                plants[1].premium_eur,
                totals.premium_eur
            ),
            (dec!(6.5), dec!(8.1), dec!(14.6))
        );
        assert_eq!(totals.valorisation_eur, dec!(1.4798));
        // A: 50/50 shared → ratio 1 → (1 − 0.55) × 6.50; B: 90/120 = 0.75 → (0.75 − 0.45) × 8.10.
        assert_eq!(plants[0].excess_eur, dec!(2.925));
        assert_eq!(plants[1].excess_eur, dec!(2.43));
        let (auc, _, _, _) = the_issue_hour(ConfigurationType::Auc);
        assert_eq!(auc.valorisation_eur, dec!(1.9712));
    }

    #[test]
    fn a_pod_with_two_plants_splits_its_injection_by_power_and_missing_prices_are_named() {
        let plants = vec![
            plant(1, "IT001E00000001", dec!(30), 0, dec!(0)),
            PlantSpec {
                incentivised: false,
                ..plant(2, "IT001E00000001", dec!(10), 0, dec!(0))
            },
        ];
        let mut engine = PeriodEngine::new(ConfigurationType::Cer, Region::Sicilia, plants);
        let hour = HourData {
            start: 7200,
            injected_wh: 40_000,
            withdrawn_wh: 100_000,
            injection_by_pod: vec![("IT001E00000001".into(), 40_000)],
            price: None,
            exempt_capable_withdrawn_wh: Vec::new(),
        };
        engine.add_hour(&hour, &day());
        let (totals, plants, missing, _) = engine.finish(&day(), &ExcessBasis::default());
        assert_eq!(missing, vec![7200]);
        assert_eq!(plants[0].injected_kwh, dec!(30));
        assert_eq!(plants[1].injected_kwh, dec!(10));
        assert_eq!(totals.shared_kwh, dec!(40));
        assert_eq!(totals.incentivised_shared_kwh, dec!(30));
        assert_eq!(plants[0].shared_kwh, dec!(30));
        assert_eq!(totals.premium_eur, dec!(0));
    }

    #[test]
    fn the_excess_premium_is_counted_on_the_year_to_date() {
        let month = |withdrawn_wh: i64, before: &ExcessBasis| {
            let mut engine = PeriodEngine::new(
                ConfigurationType::Cer,
                Region::Veneto,
                vec![plant(1, "IT001E00000001", dec!(150), 0, dec!(0))],
            );
            engine.add_hour(
                &HourData {
                    start: 3600,
                    injected_wh: 50_000,
                    withdrawn_wh,
                    injection_by_pod: vec![("IT001E00000001".into(), 50_000)],
                    price: Some(dec!(110)),
                    exempt_capable_withdrawn_wh: Vec::new(),
                },
                &day(),
            );
            engine.finish(&day(), before)
        };
        // January: all 50 kWh shared, 6.50 € → (1 − 0.55) × 6.50 = 2.925 € excess.
        let (january, _, _, basis) = month(50_000, &ExcessBasis::default());
        assert_eq!(january.excess_eur, dec!(2.925));
        // February shares nothing: the year's ratio falls to 0.5, below 0.55, so the year has no
        // excess and February gives January's back.
        let (february, plants, _, february_basis) = month(0, &basis);
        assert_eq!(february.excess_eur, dec!(-2.925));
        assert_eq!(plants[0].excess_eur, dec!(0));
        let mut year = basis.clone();
        year.add(&february_basis);
        assert_eq!(year.tariff_only.excess_eur, dec!(0));
        assert_eq!(year.tariff_only.injected_kwh, dec!(100));
    }

    /// The issue's hour again, with C1 (100 kWh) a natural person and C2 (40 kWh) an SME:
    /// before DM 127/2025 plant B (F = 0.25) earns 90 kWh × 90 €/MWh = 8.10 €; from
    /// 26 Jun 2025 the 100/140 of its energy attributed to C1 is paid without F:
    /// 90 × 120 × (1 − 0.25 × 40/140) / 1000 = 10.8 × 13/14 €. A public body is exempt on
    /// either day. Plant A has no grant: nothing to waive, nothing reported.
    #[test]
    fn f_is_waived_pro_rata_of_the_exempt_holders_withdrawal() {
        let run = |natural_persons_f_exempt: bool, c1: HolderType| {
            let plants = vec![
                plant(2, "IT001E00000002", dec!(300), 200, dec!(0.20)),
                plant(1, "IT001E00000001", dec!(150), 100, dec!(0)),
            ];
            let mut day = day();
            day.rules.natural_persons_f_exempt = natural_persons_f_exempt;
            let mut engine = PeriodEngine::new(ConfigurationType::Cer, Region::Veneto, plants);
            engine.add_hour(
                &HourData {
                    start: 3600,
                    injected_wh: 170_000,
                    withdrawn_wh: 140_000,
                    injection_by_pod: vec![
                        ("IT001E00000001".into(), 50_000),
                        ("IT001E00000002".into(), 120_000),
                    ],
                    price: Some(dec!(110)),
                    exempt_capable_withdrawn_wh: vec![(c1, 100_000)],
                },
                &day,
            );
            engine.finish(&day, &ExcessBasis::default())
        };
        let (_, before, _, _) = run(false, HolderType::NaturalPerson);
        assert_eq!(before[1].premium_eur, dec!(8.1));
        assert_eq!(before[1].f_exempt_kwh, dec!(0));
        assert_eq!(before[1].grant_factor, dec!(0.25));
        let (totals, after, _, _) = run(true, HolderType::NaturalPerson);
        assert_eq!(
            after[1].premium_eur.round_dp(12),
            (dec!(10.8) * dec!(13) / dec!(14)).round_dp(12)
        );
        assert_eq!(after[1].f_exempt_kwh, dec!(64.286));
        assert_eq!(
            after[1].f_exempt,
            vec![FExemptShare {
                holder_type: HolderType::NaturalPerson,
                shared_kwh: dec!(64.286)
            }]
        );
        assert_eq!(
            (after[0].premium_eur, after[0].f_exempt_kwh),
            (dec!(6.5), dec!(0))
        );
        assert_eq!(
            totals.premium_eur,
            after[0].premium_eur + after[1].premium_eur
        );
        let (_, public, _, _) = run(false, HolderType::PublicBody);
        assert_eq!(public[1].premium_eur, after[1].premium_eur);
    }

    /// Two plants behind one POD, same source, 600 + 400.001 kW: the band power is over 1 MW,
    /// so neither earns a tariff and the shared energy is not allocated to them.
    #[test]
    fn above_one_megawatt_behind_a_pod_no_plant_earns() {
        let plants = vec![
            plant(1, "IT001E00000001", dec!(600), 0, dec!(0)),
            plant(2, "IT001E00000001", dec!(400.001), 0, dec!(0)),
        ];
        let mut engine = PeriodEngine::new(ConfigurationType::Cer, Region::Veneto, plants);
        engine.add_hour(
            &HourData {
                start: 3600,
                injected_wh: 100_000,
                withdrawn_wh: 100_000,
                injection_by_pod: vec![("IT001E00000001".into(), 100_000)],
                price: Some(dec!(100)),
                exempt_capable_withdrawn_wh: Vec::new(),
            },
            &day(),
        );
        let (totals, plants, _, _) = engine.finish(&day(), &ExcessBasis::default());
        assert_eq!(totals.shared_kwh, dec!(100));
        assert_eq!(totals.incentivised_shared_kwh, dec!(0));
        assert_eq!(totals.premium_eur, dec!(0));
        assert!(
            plants
                .iter()
                .all(|p| p.shared_kwh.is_zero() && p.monthly_advance_eur.is_zero())
        );
    }

    #[test]
    fn cents_round_half_away_from_zero() {
        assert_eq!(to_cents(dec!(14.605)), 1461);
        assert_eq!(to_cents(dec!(-0.005)), -1);
        assert_eq!(to_cents(dec!(1.4798)), 148);
    }

    proptest! {
        #[test]
        fn shared_energy_and_allocations_stay_within_both_sides(
            hours in proptest::collection::vec(
                (0i64..500_000, 0i64..500_000, 0i64..500_000, 0i64..400_000, 0u32..300), 1..48),
        ) {
            let plants = vec![
                plant(1, "IT001E00000001", dec!(100), 0, dec!(0)),
                plant(2, "IT001E00000002", dec!(250), 10, dec!(0.1)),
                PlantSpec { incentivised: false, ..plant(3, "IT001E00000003", dec!(50), 0, dec!(0)) },
            ];
            let mut engine = PeriodEngine::new(ConfigurationType::Cer, Region::Lazio, plants);
            let mut total_with = Decimal::ZERO;
            let mut total_inj = Decimal::ZERO;
            for (index, (a, b, c, withdrawn, price)) in hours.iter().enumerate() {
                let data = HourData {
                    start: index as i64 * 3600,
                    injected_wh: a + b + c,
                    withdrawn_wh: *withdrawn,
                    injection_by_pod: vec![
                        ("IT001E00000001".into(), *a),
                        ("IT001E00000002".into(), *b),
                        ("IT001E00000003".into(), *c),
                    ],
                    price: Some(Decimal::from(*price)),
                    exempt_capable_withdrawn_wh: Vec::new(),
                };
                total_with += kwh(*withdrawn);
                total_inj += kwh(a + b + c);
                let before = engine.totals.clone();
                engine.add_hour(&data, &day());
                let shared = engine.totals.shared_kwh - before.shared_kwh;
                let incentivised = engine.totals.incentivised_shared_kwh - before.incentivised_shared_kwh;
                prop_assert!(shared <= kwh(a + b + c) && shared <= kwh(*withdrawn));
                prop_assert!(incentivised <= shared && incentivised <= kwh(a + b));
            }
            let (totals, plants, _, _) = engine.finish(&day(), &ExcessBasis::default());
            let allocated: Decimal = plants.iter().map(|p| p.shared_kwh).sum();
            prop_assert_eq!(allocated, totals.incentivised_shared_kwh);
            for p in &plants {
                prop_assert!(p.shared_kwh <= p.injected_kwh);
                prop_assert!(p.excess_eur <= p.premium_eur && p.excess_eur >= Decimal::ZERO);
            }
            prop_assert_eq!(plants[2].shared_kwh, Decimal::ZERO);
            prop_assert!(totals.shared_kwh <= total_with && totals.shared_kwh <= total_inj);
        }

        /// Whatever the households' and public bodies' part of the withdrawal, F-exempt energy
        /// never exceeds a plant's incentivised energy (to the rounding of a Wh), premiums are
        /// never negative, and waiving F only ever raises a plant's premium.
        #[test]
        fn f_exemption_stays_within_the_incentivised_energy(
            hours in proptest::collection::vec(
                (0i64..300_000, 0i64..300_000, 0i64..200_000, 0i64..200_000, 0u32..300), 1..36),
            natural_persons_exempt in proptest::bool::ANY,
        ) {
            let plants = || vec![
                plant(1, "IT001E00000001", dec!(100), 0, dec!(0.4)),
                plant(2, "IT001E00000002", dec!(250), 10, dec!(0.1)),
            ];
            let mut with_rule = day();
            with_rule.rules.natural_persons_f_exempt = natural_persons_exempt;
            let mut exempting = PeriodEngine::new(ConfigurationType::Cer, Region::Lazio, plants());
            let mut plain = PeriodEngine::new(ConfigurationType::Cer, Region::Lazio, plants());
            for (index, (a, b, households, public, price)) in hours.iter().enumerate() {
                let withdrawn = households + public + 10_000;
                let data = HourData {
                    start: index as i64 * 3600,
                    injected_wh: a + b,
                    withdrawn_wh: withdrawn,
                    injection_by_pod: vec![
                        ("IT001E00000001".into(), *a),
                        ("IT001E00000002".into(), *b),
                    ],
                    price: Some(Decimal::from(*price)),
                    exempt_capable_withdrawn_wh: vec![
                        (HolderType::NaturalPerson, *households),
                        (HolderType::PublicBody, *public),
                    ],
                };
                exempting.add_hour(&data, &with_rule);
                plain.add_hour(&HourData { exempt_capable_withdrawn_wh: Vec::new(), ..data }, &with_rule);
            }
            let (_, exempted, _, _) = exempting.finish(&with_rule, &ExcessBasis::default());
            let (_, reduced, _, _) = plain.finish(&with_rule, &ExcessBasis::default());
            for (p, q) in exempted.iter().zip(&reduced) {
                prop_assert!(p.f_exempt_kwh <= round_kwh(p.shared_kwh), "{:?}", p);
                let by_holder: Decimal = p.f_exempt.iter().map(|s| s.shared_kwh).sum();
                prop_assert_eq!(by_holder, p.f_exempt_kwh);
                prop_assert!(p.premium_eur >= Decimal::ZERO);
                prop_assert!(p.premium_eur >= q.premium_eur);
                prop_assert_eq!(p.shared_kwh, q.shared_kwh);
            }
        }
    }
}
