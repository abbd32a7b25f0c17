//! The GSE incentive formulas for shared energy (DM 7 Dec 2023 n. 414, GSE "Regole operative"
//! for CACER, ARERA TIAD), as pure functions over exact decimals. No HTTP, no database: the
//! settlement runs (issue 6) feed them hourly data and store what they return.
//!
//! Every number that can change is in `TariffRules`, so that a run can be made with the rules
//! valid for its period; `TariffRules::dm_414_2023()` holds the values in force since 2024.
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use crate::models::enums::{ParameterCode, PlantSource, Region};

/// Italy's three macro-areas as the decree uses them (zonal correction and producibility).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MacroArea {
    North,
    Centre,
    South,
}

pub fn macro_area(region: Region) -> MacroArea {
    use Region::*;
    match region {
        EmiliaRomagna | FriuliVeneziaGiulia | Liguria | Lombardia | Piemonte
        | TrentinoAltoAdige | ValleDAosta | Veneto => MacroArea::North,
        Lazio | Marche | Toscana | Umbria | Abruzzo => MacroArea::Centre,
        Molise | Campania | Puglia | Basilicata | Calabria | Sicilia | Sardegna => MacroArea::South,
    }
}

/// The tariff's parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TariffRules {
    /// `(max power kW, BASE €/MWh, CAP €/MWh)`, ascending by power, each edge inclusive
    /// ([RO]: `P ≤ 200`, `P ≤ 600`); above the last edge (1 MW) no tariff at all.
    pub bands: Vec<(Decimal, Decimal, Decimal)>,
    /// The zonal price below which the tariff grows: `BASE + max(0, REFERENCE − Pz)`.
    pub reference_price: Decimal,
    /// PV zonal correction (€/MWh), added after the cap.
    pub pv_correction_north: Decimal,
    pub pv_correction_centre: Decimal,
    /// The grant factor `F = min(MAX_F, MAX_F × share / FULL_SHARE)`.
    pub max_grant_factor: Decimal,
    pub full_grant_share: Decimal,
    /// Yearly shared/injected ratio above which the premium is "excess", per plant set.
    pub excess_threshold_tariff_only: Decimal,
    pub excess_threshold_with_grant: Decimal,
    /// Monthly advance: `P × H/12 × ADVANCE_SHARE × (BASE + ADVANCE_PREMIUM + FC) × (1 − F)`.
    pub advance_share: Decimal,
    pub advance_premium: Decimal,
    /// GSE's yearly fee: nothing up to `fee_free_kw`, `fee_flat` up to `fee_flat_kw`, then
    /// `fee_per_kw` for each kW beyond `fee_flat_kw` on top.
    pub fee_free_kw: Decimal,
    pub fee_flat_kw: Decimal,
    pub fee_flat: Decimal,
    pub fee_per_kw: Decimal,
    /// F is not applied to the shared energy of natural persons' withdrawal points
    /// (DM MASE 16 May 2025 n. 127, in force 26 Jun 2025).
    pub natural_persons_f_exempt: bool,
}

impl TariffRules {
    pub fn dm_414_2023() -> TariffRules {
        TariffRules {
            bands: vec![
                (dec!(200), dec!(80), dec!(120)),
                (dec!(600), dec!(70), dec!(110)),
                (dec!(1000), dec!(60), dec!(100)),
            ],
            reference_price: dec!(180),
            pv_correction_north: dec!(10),
            pv_correction_centre: dec!(4),
            max_grant_factor: dec!(0.5),
            full_grant_share: dec!(0.40),
            excess_threshold_tariff_only: dec!(0.55),
            excess_threshold_with_grant: dec!(0.45),
            advance_share: dec!(0.60),
            advance_premium: dec!(20),
            fee_free_kw: dec!(3),
            fee_flat_kw: dec!(20),
            fee_flat: dec!(15),
            fee_per_kw: dec!(1),
            natural_persons_f_exempt: false,
        }
    }

    /// The rules from the regulated parameters valid on a day; `Err` names the first missing one.
    pub fn from_parameters(
        value: impl Fn(ParameterCode) -> Option<Decimal>,
    ) -> Result<TariffRules, ParameterCode> {
        use ParameterCode::*;
        let get = |code| value(code).ok_or(code);
        Ok(TariffRules {
            bands: vec![
                (get(TipBand1Kw)?, get(TipBand1Base)?, get(TipBand1Cap)?),
                (get(TipBand2Kw)?, get(TipBand2Base)?, get(TipBand2Cap)?),
                (get(TipBand3Kw)?, get(TipBand3Base)?, get(TipBand3Cap)?),
            ],
            reference_price: get(TipRefPrice)?,
            pv_correction_north: get(TipFcNorth)?,
            pv_correction_centre: get(TipFcCentre)?,
            max_grant_factor: get(TipGrantMaxF)?,
            full_grant_share: get(TipGrantFull)?,
            excess_threshold_tariff_only: get(ExcessTariff)?,
            excess_threshold_with_grant: get(ExcessGrant)?,
            advance_share: get(AdvanceShare)?,
            advance_premium: get(AdvancePremium)?,
            fee_free_kw: get(FeeFreeKw)?,
            fee_flat_kw: get(FeeFlatKw)?,
            fee_flat: get(FeeFlat)?,
            fee_per_kw: get(FeePerKw)?,
            natural_persons_f_exempt: !get(FExemptNaturalPersons)?.is_zero(),
        })
    }

    /// GSE's yearly fee for a plant of `power_kw`.
    pub fn yearly_fee(&self, power_kw: Decimal) -> Decimal {
        if power_kw <= self.fee_free_kw {
            Decimal::ZERO
        } else if power_kw <= self.fee_flat_kw {
            self.fee_flat
        } else {
            self.fee_flat + (power_kw - self.fee_flat_kw) * self.fee_per_kw
        }
    }

    /// `(BASE, CAP)` for a plant of `power_kw` (same-source sections behind one POD summed);
    /// `None` above the last band: such a plant earns no tariff.
    pub fn band(&self, power_kw: Decimal) -> Option<(Decimal, Decimal)> {
        self.bands
            .iter()
            .find(|(max, _, _)| power_kw <= *max)
            .map(|(_, base, cap)| (*base, *cap))
    }

    pub fn zonal_correction(&self, source: PlantSource, region: Region) -> Decimal {
        match (source, macro_area(region)) {
            (PlantSource::Pv, MacroArea::North) => self.pv_correction_north,
            (PlantSource::Pv, MacroArea::Centre) => self.pv_correction_centre,
            _ => Decimal::ZERO,
        }
    }

    pub fn grant_factor(&self, grant_share: Decimal) -> Decimal {
        if self.full_grant_share.is_zero() {
            return self.max_grant_factor;
        }
        (self.max_grant_factor * grant_share / self.full_grant_share).min(self.max_grant_factor)
    }

    /// `min(CAP, BASE + max(0, 180 − Pz_h)) + FC`, in €/MWh: the tariff before the grant
    /// reduction (what F-exempt energy earns). `None` when the plant's power has no band.
    pub fn tariff_before_grant_factor(
        &self,
        zonal_price: Decimal,
        power_kw: Decimal,
        source: PlantSource,
        region: Region,
    ) -> Option<Decimal> {
        let (base, cap) = self.band(power_kw)?;
        let variable = (self.reference_price - zonal_price).max(Decimal::ZERO);
        let capped = (base + variable).min(cap);
        Some(capped + self.zonal_correction(source, region))
    }

    /// `TIP_h = (min(CAP, BASE + max(0, 180 − Pz_h)) + FC) × (1 − F)`, in €/MWh.
    pub fn hourly_tariff(
        &self,
        zonal_price: Decimal,
        power_kw: Decimal,
        source: PlantSource,
        region: Region,
        grant_share: Decimal,
    ) -> Option<Decimal> {
        Some(
            self.tariff_before_grant_factor(zonal_price, power_kw, source, region)?
                * (Decimal::ONE - self.grant_factor(grant_share)),
        )
    }

    /// The yearly excess premium of a plant set: `max(0, ratio − threshold) × C_year`.
    pub fn excess_premium(
        &self,
        shared_kwh: Decimal,
        injected_kwh: Decimal,
        with_grant: bool,
        premium_eur: Decimal,
    ) -> Decimal {
        if injected_kwh.is_zero() {
            return Decimal::ZERO;
        }
        let threshold = if with_grant {
            self.excess_threshold_with_grant
        } else {
            self.excess_threshold_tariff_only
        };
        ((shared_kwh / injected_kwh) - threshold).max(Decimal::ZERO) * premium_eur
    }

    /// What GSE pays ahead each month for a plant (for cash planning).
    pub fn monthly_advance(
        &self,
        power_kw: Decimal,
        source: PlantSource,
        region: Region,
        grant_share: Decimal,
    ) -> Decimal {
        let Some((base, _)) = self.band(power_kw) else {
            return Decimal::ZERO;
        };
        let hours = yearly_hours(source, region);
        power_kw * hours / dec!(12)
            * self.advance_share
            * (base + self.advance_premium + self.zonal_correction(source, region))
            * (Decimal::ONE - self.grant_factor(grant_share))
            / dec!(1000)
    }
}

/// Conventional yearly producibility (hours at full power) for the advance.
pub fn yearly_hours(source: PlantSource, region: Region) -> Decimal {
    match source {
        PlantSource::Pv => match macro_area(region) {
            MacroArea::North => dec!(900),
            MacroArea::Centre => dec!(1050),
            MacroArea::South => dec!(1100),
        },
        PlantSource::Wind | PlantSource::Hydro => dec!(1500),
        PlantSource::Biomass => dec!(5000),
        PlantSource::Other => dec!(500),
    }
}

/// Shared energy in an hour: `min(injected, withdrawn)`.
pub fn shared_energy(injected_kwh: Decimal, withdrawn_kwh: Decimal) -> Decimal {
    injected_kwh.min(withdrawn_kwh)
}

/// Assigns the hour's incentivised energy to plants by seniority: `injections` sorted by
/// commissioning date (then id); each takes `min(its injection, what is left)`.
pub fn allocate_by_seniority(incentivised_kwh: Decimal, injections: &[Decimal]) -> Vec<Decimal> {
    let mut left = incentivised_kwh.max(Decimal::ZERO);
    injections
        .iter()
        .map(|injection| {
            let share = (*injection).max(Decimal::ZERO).min(left);
            left -= share;
            share
        })
        .collect()
}

/// CER/AID valorisation: `EACV × TRAS_E / 1000` €.
pub fn valorisation(self_consumed_kwh: Decimal, tras_e_eur_mwh: Decimal) -> Decimal {
    self_consumed_kwh * tras_e_eur_mwh / dec!(1000)
}

/// The AUC's extra terms for one voltage level: `EACVC × BTAU / 1000 + EACVC × cPR × Pz / 1000` €.
pub fn auc_extra(
    self_consumed_kwh: Decimal,
    btau_eur_mwh: Decimal,
    loss_coefficient: Decimal,
    zonal_price: Decimal,
) -> Decimal {
    self_consumed_kwh * btau_eur_mwh / dec!(1000)
        + self_consumed_kwh * loss_coefficient * zonal_price / dec!(1000)
}

/// Splits `total_cents` in proportion to `weights` with the largest-remainder method: the parts
/// always add up to the total exactly, and no part differs from its exact share by a cent or
/// more. Zero weights get nothing; all-zero weights split equally.
pub fn split_cents(total_cents: i64, weights: &[Decimal]) -> Vec<i64> {
    if weights.is_empty() {
        return Vec::new();
    }
    let positive: Vec<Decimal> = weights.iter().map(|w| (*w).max(Decimal::ZERO)).collect();
    let sum: Decimal = positive.iter().sum();
    let weights: Vec<Decimal> = if sum.is_zero() {
        vec![Decimal::ONE; weights.len()]
    } else {
        positive
    };
    let sum: Decimal = weights.iter().sum();
    let total = Decimal::from(total_cents);
    let exact: Vec<Decimal> = weights.iter().map(|w| total * *w / sum).collect();
    let mut parts: Vec<i64> = exact
        .iter()
        .map(|e| e.floor().try_into().unwrap_or(0))
        .collect();
    let mut left = total_cents - parts.iter().sum::<i64>();
    let mut order: Vec<usize> = (0..parts.len()).collect();
    // Largest fractional part first; ties by position, so the result is deterministic.
    order.sort_by(|&a, &b| {
        (exact[b] - exact[b].floor())
            .cmp(&(exact[a] - exact[a].floor()))
            .then(a.cmp(&b))
    });
    for index in order.into_iter().cycle() {
        if left == 0 {
            break;
        }
        let step = left.signum();
        parts[index] += step;
        left -= step;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> TariffRules {
        TariffRules::dm_414_2023()
    }

    #[test]
    fn tariff_vectors_of_the_issue() {
        let r = rules();
        let north = Region::Lombardia;
        assert_eq!(
            r.hourly_tariff(dec!(110), dec!(150), PlantSource::Pv, north, dec!(0)),
            Some(dec!(130))
        );
        assert_eq!(
            r.hourly_tariff(dec!(110), dec!(300), PlantSource::Pv, north, dec!(0.20)),
            Some(dec!(90))
        );
        assert_eq!(
            r.hourly_tariff(dec!(200), dec!(150), PlantSource::Wind, north, dec!(0)),
            Some(dec!(80))
        );
        assert_eq!(
            r.hourly_tariff(dec!(140), dec!(150), PlantSource::Wind, north, dec!(0)),
            Some(dec!(120))
        );
        assert_eq!(
            r.hourly_tariff(
                dec!(160),
                dec!(700),
                PlantSource::Pv,
                Region::Toscana,
                dec!(0)
            ),
            Some(dec!(84))
        );
    }

    #[test]
    fn one_hour_of_a_cer_and_of_an_auc() {
        let r = rules();
        let (a, b) = (dec!(50), dec!(120));
        let withdrawn = dec!(140);
        let incentivised = shared_energy(a + b, withdrawn);
        assert_eq!(incentivised, dec!(140));
        let alloc = allocate_by_seniority(incentivised, &[a, b]);
        assert_eq!(alloc, vec![dec!(50), dec!(90)]);
        let tip_a = r
            .hourly_tariff(
                dec!(110),
                dec!(150),
                PlantSource::Pv,
                Region::Veneto,
                dec!(0),
            )
            .unwrap();
        let tip_b = r
            .hourly_tariff(
                dec!(110),
                dec!(300),
                PlantSource::Pv,
                Region::Veneto,
                dec!(0.20),
            )
            .unwrap();
        let premium_a = alloc[0] * tip_a / dec!(1000);
        let premium_b = alloc[1] * tip_b / dec!(1000);
        assert_eq!(
            (premium_a, premium_b, premium_a + premium_b),
            (dec!(6.50), dec!(8.10), dec!(14.60))
        );
        let cer = valorisation(incentivised, dec!(10.57));
        assert_eq!(cer, dec!(1.4798));
        let auc = cer + auc_extra(incentivised, dec!(0.65), dec!(0.026), dec!(110));
        assert_eq!(auc, dec!(1.9712));
    }

    #[test]
    fn advance_excess_and_fees() {
        let r = rules();
        assert_eq!(
            r.monthly_advance(dec!(100), PlantSource::Pv, Region::Piemonte, dec!(0)),
            dec!(495)
        );
        assert_eq!(
            r.excess_premium(dec!(60000), dec!(100000), false, dec!(6000)),
            dec!(300)
        );
        assert_eq!(
            r.excess_premium(dec!(50000), dec!(100000), false, dec!(6000)),
            dec!(0)
        );
        assert_eq!(r.yearly_fee(dec!(150)), dec!(145));
        assert_eq!(r.yearly_fee(dec!(3)), dec!(0));
        assert_eq!(r.yearly_fee(dec!(20)), dec!(15));
    }

    /// [RO] §2.2.2.1.2: `P ≤ 200` → 80/120, `200 < P ≤ 600` → 70/110, `600 < P ≤ 1000` →
    /// 60/100; above 1 MW no tariff (and no advance).
    #[test]
    fn band_edges_follow_the_regole_operative() {
        let r = rules();
        for (kw, band) in [
            (dec!(199.999), Some((dec!(80), dec!(120)))),
            (dec!(200), Some((dec!(80), dec!(120)))),
            (dec!(200.001), Some((dec!(70), dec!(110)))),
            (dec!(600), Some((dec!(70), dec!(110)))),
            (dec!(600.001), Some((dec!(60), dec!(100)))),
            (dec!(1000), Some((dec!(60), dec!(100)))),
            (dec!(1000.001), None),
        ] {
            assert_eq!(r.band(kw), band, "{kw} kW");
        }
        let price = dec!(150);
        assert_eq!(
            r.hourly_tariff(
                price,
                dec!(1000.001),
                PlantSource::Wind,
                Region::Sicilia,
                dec!(0)
            ),
            None
        );
        assert_eq!(
            r.monthly_advance(dec!(1000.001), PlantSource::Wind, Region::Sicilia, dec!(0)),
            dec!(0)
        );
    }

    #[test]
    fn the_grant_factor_is_capped() {
        let r = rules();
        assert_eq!(r.grant_factor(dec!(0.40)), dec!(0.5));
        assert_eq!(r.grant_factor(dec!(0.10)), dec!(0.125));
        assert_eq!(r.band(dec!(1200)), None);
    }

    #[test]
    fn allocations_never_exceed_injection_or_the_incentivised_energy() {
        let injections = [dec!(3.5), dec!(0), dec!(10), dec!(2.25)];
        for incentivised in [dec!(0), dec!(1), dec!(5), dec!(15.75), dec!(100)] {
            let alloc = allocate_by_seniority(incentivised, &injections);
            assert!(
                alloc
                    .iter()
                    .zip(&injections)
                    .all(|(a, i)| a <= i && *a >= Decimal::ZERO)
            );
            let total: Decimal = alloc.iter().sum();
            assert_eq!(total, incentivised.min(injections.iter().sum()));
        }
    }

    #[test]
    fn money_splits_add_up_exactly() {
        assert_eq!(
            split_cents(100, &[dec!(1), dec!(1), dec!(1)]),
            vec![34, 33, 33]
        );
        assert_eq!(split_cents(1000, &[dec!(0), dec!(0)]), vec![500, 500]);
        assert_eq!(split_cents(7, &[dec!(0), dec!(2), dec!(1)]), vec![0, 5, 2]);
        assert_eq!(
            split_cents(-100, &[dec!(1), dec!(1), dec!(1)])
                .iter()
                .sum::<i64>(),
            -100
        );
        for total in [0, 1, 99, 12_345, 1_000_001] {
            for weights in [
                vec![dec!(0.1), dec!(0.2), dec!(0.7)],
                vec![dec!(3); 7],
                vec![dec!(1), dec!(1000000)],
            ] {
                let parts = split_cents(total, &weights);
                assert_eq!(parts.iter().sum::<i64>(), total, "{total} {weights:?}");
                let sum: Decimal = weights.iter().sum();
                for (part, weight) in parts.iter().zip(&weights) {
                    let exact = Decimal::from(total) * *weight / sum;
                    assert!(
                        (Decimal::from(*part) - exact).abs() < Decimal::ONE,
                        "{part} vs {exact}"
                    );
                }
            }
        }
    }
}
