//! One configuration's month as data, and its settlement as a pure function of that data.
//!
//! `crate::settlement::gather` reads everything a month's settlement depends on, in one
//! consistent read, into a [`MonthInputs`]; [`settle`] turns it into the report and the ledger
//! lines without a database or a clock; [`fingerprint`] is the SHA-256 of the inputs, so a
//! preview is finalisable only while a fresh gather hashes the same. The rules applied here are
//! those of `shared/docs/GSE_RULES.md` (sections cited where they apply).
use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::community_rules::{gse_effective_from, is_final_customer, plant_incentive_eligible};
use super::coverage;
use super::energy_series::local_midnight;
use super::market::{PricePoint, hourly_prices};
use super::settlement::{TariffRules, split_cents};
use super::settlement_run::{
    DayParameters, ExcessBasis, HourData, PeriodEngine, PeriodTotals, PlantResult, PlantSpec,
    to_cents,
};
use super::sharing::{Distribution, Participant, Policy};
use crate::models::enums::{
    ConfigurationStatus, ConfigurationType, ConnectionVoltage, HolderType, LineAccount, LineKind,
    MarketZone, MemberRole, ParameterCode, PlantSource, Region,
};

/// The months' Italian names, January first (statements print them; the e-distribuzione portal
/// names its exports with them).
pub const ITALIAN_MONTHS: [&str; 12] = [
    "gennaio",
    "febbraio",
    "marzo",
    "aprile",
    "maggio",
    "giugno",
    "luglio",
    "agosto",
    "settembre",
    "ottobre",
    "novembre",
    "dicembre",
];

/// Incentives end this many years after commissioning (GSE_RULES §2).
pub const INCENTIVE_YEARS: i32 = 20;
/// At most this many missing-price hours are listed (all are counted).
const LISTED_HOURS: usize = 100;
/// The layout of [`MonthInputs`] as hashed: bump it when a field changes meaning, so that no
/// preview made before is finalised against inputs read differently.
const INPUTS_VERSION: i32 = 1;

/// A calendar month.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub start: NaiveDate,
    /// The last day (inclusive).
    pub end: NaiveDate,
}

impl Period {
    /// `YYYY-MM`.
    pub fn parse(text: &str) -> Option<Period> {
        let (year, month) = text.split_once('-')?;
        if year.len() != 4 || month.len() != 2 {
            return None;
        }
        let start = NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, 1)?;
        Some(Period::of(start))
    }

    pub fn of(start: NaiveDate) -> Period {
        let next = start
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(start);
        Period {
            start,
            end: next.pred_opt().unwrap_or(start),
        }
    }

    pub fn label(&self) -> String {
        self.start.format("%Y-%m").to_string()
    }

    /// `[from, to)` as UNIX seconds, Italian days.
    pub fn instants(&self) -> (i64, i64) {
        (
            local_midnight(self.start),
            local_midnight(self.end.succ_opt().unwrap_or(self.end)),
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Inputs

/// What of the configuration a run depends on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConfigurationFacts {
    pub id: i32,
    pub kind: ConfigurationType,
    pub market_zone: MarketZone,
    pub region: Region,
    /// A draft configuration's month is computed but cannot be finalised.
    pub status: ConfigurationStatus,
}

/// The sharing-out policy version in force for the month.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct PolicyVersion {
    pub id: i32,
    pub version: i32,
}

/// `[from, to)`, UNIX seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Window {
    pub from: i64,
    pub to: i64,
}

impl Window {
    pub fn is_empty(&self) -> bool {
        self.to <= self.from
    }

    /// Whole hours in the window.
    pub fn hours(&self) -> i64 {
        ((self.to - self.from) / 3600).max(0)
    }
}

/// How many minutes of readings one hour has (for the hours a point's data leave uncovered).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct HourMinutes {
    pub hour: i64,
    pub minutes: i64,
}

/// A member's readings in one direction within the part of the month GSE counts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MeterData {
    /// Energy in the direction (Wh).
    pub wh: i64,
    /// Minutes of the window covered by readings.
    pub minutes: i64,
    /// Withdrawals only: Σ over readings of `wh × EAC_h / With_h`, in milli-Wh, the member's
    /// exact weight in the split of the configuration's shared energy.
    pub shared_mwh: i64,
    /// How many readings, the sum of their revisions and the last import that wrote one: they
    /// change the fingerprint when data change without changing the totals.
    pub rows: i64,
    pub revisions: i64,
    pub last_import: i64,
    /// Minutes of readings per hour, read only when `minutes` fall short of the window (to name
    /// the missing hours); empty otherwise.
    pub covered_hours: Vec<HourMinutes>,
}

/// A member as the month sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MemberInputs {
    pub id: i32,
    pub pod: String,
    pub role: MemberRole,
    pub holder_type: HolderType,
    pub joined_at: NaiveDate,
    pub withdrawn_at: Option<NaiveDate>,
    pub gse_notified_on: Option<NaiveDate>,
    /// From [`member_windows`]: the first day GSE counts the membership, if it counts at all.
    pub gse_effective_from: Option<NaiveDate>,
    /// The membership, clipped to the month.
    pub membership: Window,
    /// The part of the membership GSE counts (empty while not notified); the readings below and
    /// the configuration's hourly totals cover exactly this window.
    pub counted: Window,
    pub withdrawal: MeterData,
    pub injection: MeterData,
}

/// A plant of one of the month's members.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlantInputs {
    pub id: i32,
    pub member_id: i32,
    /// The POD of the member that holds the plant (its injection is the plant's).
    pub pod: String,
    pub source: PlantSource,
    pub power_w: i64,
    pub capital_grant_ppm: i32,
    pub voltage: ConnectionVoltage,
    pub commissioned_on: NaiveDate,
    pub gse_notified_on: Option<NaiveDate>,
}

/// Energy of one POD in one hour.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct PodEnergy {
    pub pod: String,
    pub wh: i64,
}

/// Withdrawal of one holder type in one hour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct HolderEnergy {
    pub holder_type: HolderType,
    pub wh: i64,
}

/// An hour with data: the configuration's totals over the counted memberships.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HourInputs {
    /// UNIX seconds of the hour's start.
    pub start: i64,
    pub injected_wh: i64,
    pub withdrawn_wh: i64,
    /// Injection of each POD that has plants.
    pub injection: Vec<PodEnergy>,
    /// Withdrawal of the holder types that may be exempt from F (public bodies, religious or
    /// third-sector bodies, natural persons); needed only when a plant has a capital grant.
    pub exempt_capable_withdrawal: Vec<HolderEnergy>,
}

/// A finalised earlier month of the same year (the excess premium counts the year to date).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PriorMonth {
    pub run_id: i32,
    pub period: String,
    pub fingerprint: String,
    pub excess_basis: ExcessBasis,
}

/// Everything a month's settlement depends on, and nothing else.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MonthInputs {
    pub configuration: ConfigurationFacts,
    pub period: Period,
    /// Whether the month was over (Italian date) when the inputs were read.
    pub month_ended: bool,
    /// The policy version in force; `None`: the default policy.
    pub policy: Option<PolicyVersion>,
    pub policy_document: Policy,
    /// Every parameter row valid on some day of the month.
    pub parameters: Vec<ParameterUsed>,
    /// Every `GSE_LATE_DAYS` row: the lateness rule is looked up on a notification's day,
    /// which may lie before the month.
    pub gse_late_days: Vec<ParameterUsed>,
    /// By id.
    pub members: Vec<MemberInputs>,
    /// By id.
    pub plants: Vec<PlantInputs>,
    /// The hours with data, in order; an hour absent here had no reading at all.
    pub hours: Vec<HourInputs>,
    /// The month's zonal prices as stored (hourly or quarter-hourly), in order.
    pub prices: Vec<PricePoint>,
    pub year_to_date: Vec<PriorMonth>,
}

/// The SHA-256 of the inputs (hex): equal inputs, equal fingerprints.
pub fn fingerprint(inputs: &MonthInputs) -> Result<String, serde_json::Error> {
    let mut hasher = Sha256::new();
    hasher.update(format!("month inputs v{INPUTS_VERSION}, report v{REPORT_VERSION}\n").as_bytes());
    serde_json::to_writer(&mut hasher, inputs)?;
    Ok(format!("{:x}", hasher.finalize()))
}

/// A member's windows in the month.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemberWindows {
    pub gse_effective_from: Option<NaiveDate>,
    pub membership: Window,
    pub counted: Window,
}

/// The row of `code` in force on `day`: valid then, the latest to start.
fn in_force(rows: &[ParameterUsed], code: ParameterCode, day: NaiveDate) -> Option<&ParameterUsed> {
    rows.iter()
        .filter(|r| {
            r.code == code.as_str() && r.valid_from <= day && r.valid_to.is_none_or(|to| to > day)
        })
        .max_by_key(|r| r.valid_from)
}

/// The lateness limit (`GSE_LATE_DAYS`) in force on `day`, from its dated rows.
fn late_days_on(rows: &[ParameterUsed], day: NaiveDate) -> Option<i64> {
    in_force(rows, ParameterCode::GseLateDays, day).and_then(|r| r.value.trunc().to_i64())
}

/// The membership clipped to the month, and the part of it GSE counts: from its GSE effective
/// date (GSE_RULES §0, from 4 Apr 2025), nothing while GSE has not been notified.
pub fn member_windows(
    period: Period,
    joined_at: NaiveDate,
    withdrawn_at: Option<NaiveDate>,
    gse_notified_on: Option<NaiveDate>,
    gse_late_days: &[ParameterUsed],
) -> MemberWindows {
    let (from, to) = period.instants();
    let clip = |start: NaiveDate| {
        let start = local_midnight(start).max(from);
        let end = withdrawn_at.map_or(i64::MAX, local_midnight).min(to);
        Window {
            from: start,
            to: end.max(start),
        }
    };
    let membership = clip(joined_at);
    let effective = gse_effective_from(joined_at, gse_notified_on, |day| {
        late_days_on(gse_late_days, day)
    });
    let counted = match effective {
        Some(day) => clip(day.max(joined_at)),
        None => Window {
            from: membership.to,
            to: membership.to,
        },
    };
    MemberWindows {
        gse_effective_from: effective,
        membership,
        counted,
    }
}

/// The first day a plant earns the tariff for GSE, if it does (notification rule as above).
pub fn plant_earns_from(plant: &PlantInputs, gse_late_days: &[ParameterUsed]) -> Option<NaiveDate> {
    gse_effective_from(plant.commissioned_on, plant.gse_notified_on, |day| {
        late_days_on(gse_late_days, day)
    })
}

/// The plants as the engine sees them: power, grant, band, and whether they earn the tariff at
/// all this month (a new plant within the power limit, within 20 years, notified to GSE).
pub fn plant_specs(
    plants: &[PlantInputs],
    gse_late_days: &[ParameterUsed],
    period: Period,
) -> Vec<PlantSpec> {
    plants
        .iter()
        .map(|plant| {
            let within_term = plant
                .commissioned_on
                .checked_add_months(chrono::Months::new(12 * INCENTIVE_YEARS as u32))
                .is_some_and(|end| end > period.start);
            let earns_from = plant_earns_from(plant, gse_late_days);
            PlantSpec {
                id: plant.id,
                member_id: plant.member_id,
                pod: plant.pod.clone(),
                source: plant.source,
                power_kw: Decimal::new(plant.power_w, 3),
                grant_share: Decimal::new(plant.capital_grant_ppm as i64, 6),
                voltage: plant.voltage,
                commissioned_at: local_midnight(earns_from.unwrap_or(plant.commissioned_on)),
                incentivised: within_term
                    && earns_from.is_some()
                    && plant_incentive_eligible(plant.power_w, plant.commissioned_on),
            }
        })
        .collect()
}

/// Whether withdrawal by holder type matters: only where F is not zero (a plant that earns
/// the tariff has a capital grant).
pub fn needs_holder_withdrawal(specs: &[PlantSpec]) -> bool {
    specs
        .iter()
        .any(|p| p.incentivised && !p.grant_share.is_zero())
}

// ---------------------------------------------------------------------------------------------
// Outputs

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MoneyTotals {
    /// The month's premium, rounded to cents (excess included).
    pub premium_cents: i64,
    /// The part of the premium above the excess thresholds.
    pub excess_cents: i64,
    pub valorisation_cents: i64,
    /// The month's share of the plants' yearly GSE fees (a twelfth, to the cent).
    pub fees_cents: i64,
    pub management_cents: i64,
    pub social_fund_cents: i64,
    /// What the members receive in all.
    pub members_cents: i64,
}

/// How much of the expected meter data a member (or its plants' POD) has in the period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = SettlementCoverage)]
pub struct Coverage {
    /// Hours of the member's window within the period for which readings are expected.
    pub expected_hours: i64,
    /// Expected hours with no reading, or with only part of the hour covered.
    pub missing_hours: i64,
    /// Share of the expected time covered by readings, percent, truncated to two decimals
    /// (so an incomplete month never shows 100.00).
    #[schema(value_type = String, example = "99.86")]
    pub coverage_percent: Decimal,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MemberResult {
    pub member_id: i32,
    pub pod: String,
    /// Report version 1 stored the member's `category`; it is read as the holder type.
    #[serde(
        alias = "category",
        deserialize_with = "crate::models::enums::holder_type_or_category"
    )]
    pub holder_type: HolderType,
    /// "Your withdrawal": energy the point drew from the grid in the month (kWh).
    #[schema(value_type = String, example = "140.000")]
    pub withdrawn_kwh: Decimal,
    /// "Your injection": energy the point fed into the grid in the month (kWh).
    #[schema(value_type = String, example = "0.000")]
    pub injected_kwh: Decimal,
    /// "Shared energy attributed to you": your part of the configuration's shared energy
    /// (EAC), Σ_h withdrawal_h × EAC_h / With_h, apportioned to the Wh with the largest-remainder
    /// rule so that the members' parts add up exactly to the configuration's EAC.
    #[schema(value_type = String, example = "100.000")]
    pub shared_kwh: Decimal,
    /// The first day GSE counts the membership (its notification date rules, from 4 Apr 2025);
    /// absent while GSE has not been notified: the point is then left out of the run.
    #[serde(default)]
    pub gse_effective_from: Option<NaiveDate>,
    /// Withdrawal data coverage (absent for a member that withdraws nothing by its role).
    #[serde(default)]
    pub withdrawal: Option<Coverage>,
    /// Injection data coverage of the member's POD (absent for a member without plants).
    #[serde(default)]
    pub injection: Option<Coverage>,
    pub incentive_cents: i64,
    pub excess_premium_cents: i64,
    pub valorisation_cents: i64,
    pub total_cents: i64,
}

/// A regulated parameter row the run used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ParameterUsed {
    pub id: i32,
    pub code: String,
    #[schema(value_type = String, example = "10.57")]
    pub value: Decimal,
    pub unit: String,
    pub valid_from: NaiveDate,
    /// Exclusive end; absent while in force.
    pub valid_to: Option<NaiveDate>,
}

/// The layout of the stored report; readers upgrade older layouts or refuse unknown ones.
/// 1: until issue 10 (members' `category`, no coverage, parameters, gaps or blockers).
pub const REPORT_VERSION: i32 = 2;

/// Everything a run found: stored with the run and returned by the API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Report {
    pub period: String,
    /// The policy version applied; absent when the configuration has none (default policy).
    pub policy_version: Option<i32>,
    pub totals: PeriodTotals,
    pub money: MoneyTotals,
    /// This month's figures for the excess premium, per plant set.
    pub excess_basis: ExcessBasis,
    /// The finalised earlier months of the year that the excess premium counted (year to date).
    pub excess_months_before: Vec<String>,
    pub plants: Vec<PlantResult>,
    pub members: Vec<MemberResult>,
    pub missing_price_hours: u32,
    /// The first hours without a zonal price (UTC, RFC 3339).
    pub missing_price_list: Vec<String>,
    /// Hours of the month with no reading from any member.
    pub hours_without_data: u32,
    /// PODs of members with no reading at all in the month.
    #[serde(default)]
    pub members_without_data: Vec<String>,
    /// Plants whose POD has no injection reading in the month.
    #[serde(default)]
    pub plants_without_injection: Vec<i32>,
    /// Every regulated parameter row the run used.
    #[serde(default)]
    pub parameters: Vec<ParameterUsed>,
    /// The dated rules that shaped the figures (F exemptions…), with their sources.
    #[serde(default)]
    pub rules: Vec<String>,
    /// How the policy had to be applied (a share nobody could receive…).
    pub notes: Vec<String>,
    /// Missing data (readings, prices): finalising needs `accept_incomplete` and a reason.
    #[serde(default)]
    pub gaps: Vec<String>,
    /// What no reason can override (a draft configuration, a month not yet over).
    #[serde(default)]
    pub blockers: Vec<String>,
    /// Why the run cannot be finalised as it is: the blockers, then the gaps; empty when it can.
    pub problems: Vec<String>,
}

/// What a run assigns to one account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettlementLine {
    /// `None` for the configuration's own accounts (management, social fund, GSE).
    pub member_id: Option<i32>,
    pub account: LineAccount,
    pub kind: LineKind,
    /// Shared-energy lines only.
    pub energy_wh: Option<i64>,
    pub amount_cents: i64,
}

/// A settled month: the report and the lines the ledger gets when it is finalised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settlement {
    pub report: Report,
    pub lines: Vec<SettlementLine>,
}

/// No value of a regulated parameter is valid on a day of the month.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MissingParameter {
    pub code: &'static str,
    pub date: NaiveDate,
}

// ---------------------------------------------------------------------------------------------
// Settling

/// The regulated values for each day of the period, with the day's local midnight.
pub fn day_parameters(
    rows: &[ParameterUsed],
    period: Period,
) -> Result<Vec<(i64, DayParameters)>, MissingParameter> {
    let mut out = Vec::new();
    let mut day = period.start;
    while day <= period.end {
        let value = |code: ParameterCode| in_force(rows, code, day).map(|r| r.value);
        let missing = |code: ParameterCode| MissingParameter {
            code: code.as_str(),
            date: day,
        };
        let rules = TariffRules::from_parameters(value).map_err(missing)?;
        let get = |code| value(code).ok_or_else(|| missing(code));
        out.push((
            local_midnight(day),
            DayParameters {
                rules,
                tras_e: get(ParameterCode::TrasE)?,
                btau: get(ParameterCode::Btau)?,
                cpr_lv: get(ParameterCode::CprLv)?,
                cpr_mv: get(ParameterCode::CprMv)?,
            },
        ));
        day = day.succ_opt().unwrap_or(day);
        if day == period.start {
            break;
        }
    }
    Ok(out)
}

/// The configuration's own accounts: management and social-fund shares, and the GSE fee.
fn configuration_lines(d: &Distribution, fees_cents: i64) -> Vec<SettlementLine> {
    use LineAccount::{Gse, Management, SocialFund};
    use LineKind::{ExcessPremium, Fee, Incentive, Valorisation};
    [
        (Management, Incentive, d.incentive.management),
        (Management, ExcessPremium, d.excess.management),
        (Management, Valorisation, d.valorisation.management),
        (SocialFund, Incentive, d.incentive.social_fund),
        (SocialFund, ExcessPremium, d.excess.social_fund),
        (SocialFund, Valorisation, d.valorisation.social_fund),
        (Gse, Fee, -fees_cents),
    ]
    .into_iter()
    .filter(|(_, _, cents)| *cents != 0)
    .map(|(account, kind, amount_cents)| SettlementLine {
        member_id: None,
        account,
        kind,
        energy_wh: None,
        amount_cents,
    })
    .collect()
}

/// What no reason can override: a draft configuration, a month that has not ended.
fn run_blockers(inputs: &MonthInputs) -> Vec<String> {
    let mut blockers = Vec::new();
    if inputs.configuration.status == ConfigurationStatus::Draft {
        blockers.push("the configuration is still a draft: activate it first".into());
    }
    if !inputs.month_ended {
        blockers.push("the month has not ended yet".into());
    }
    blockers
}

/// The coverage of a point's readings in one direction over its counted window; when data are
/// missing, the gap's description goes to `gaps`.
fn coverage_of(
    pod: &str,
    window: Window,
    direction: &str,
    data: &MeterData,
    gaps: &mut Vec<String>,
) -> Coverage {
    let expected_hours = window.hours();
    let expected_minutes = expected_hours * 60;
    if expected_hours == 0 || data.minutes >= expected_minutes {
        return Coverage {
            expected_hours,
            missing_hours: 0,
            coverage_percent: Decimal::new(10_000, 2),
        };
    }
    let covered: Vec<(i64, i64)> = data
        .covered_hours
        .iter()
        .map(|h| (h.hour, h.minutes))
        .collect();
    let missing = coverage::missing_hours(window.from, window.to, &covered);
    let percent = (Decimal::from(data.minutes.max(0)) * Decimal::ONE_HUNDRED
        / Decimal::from(expected_minutes))
    .trunc_with_scale(2);
    gaps.push(format!(
        "{pod}: no {direction} data {} ({} hour{})",
        coverage::describe_hours(&missing),
        missing.len(),
        if missing.len() == 1 { "" } else { "s" }
    ));
    Coverage {
        expected_hours,
        missing_hours: missing.len() as i64,
        coverage_percent: percent,
    }
}

fn rfc3339(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|t| t.to_rfc3339())
        .unwrap_or_default()
}

/// Settles the month: the GSE figures hour by hour (`PeriodEngine`), the members' shares of the
/// shared energy, the sharing-out policy, the completeness gaps and the blockers.
pub fn settle(inputs: &MonthInputs) -> Result<Settlement, MissingParameter> {
    let period = inputs.period;
    let (from, to) = period.instants();
    let days = day_parameters(&inputs.parameters, period)?;
    let members = &inputs.members;

    let mut gaps = Vec::new();
    for m in members {
        if m.gse_effective_from.is_none() && !m.membership.is_empty() {
            gaps.push(format!(
                "{}: the membership has not been notified to GSE (gse_notified_on): GSE does not count the point, nor does this run",
                m.pod
            ));
        }
    }
    for plant in &inputs.plants {
        if plant_earns_from(plant, &inputs.gse_late_days).is_none() {
            gaps.push(format!(
                "plant {} on {}: not notified to GSE (gse_notified_on): it earns no tariff",
                plant.id, plant.pod
            ));
        }
    }
    let specs = plant_specs(&inputs.plants, &inputs.gse_late_days, period);
    let any_grant = needs_holder_withdrawal(&specs);

    // The GSE figures, hour by hour.
    let prices: HashMap<i64, Decimal> = hourly_prices(&inputs.prices)
        .into_iter()
        .map(|p| (p.start, p.eur_mwh))
        .collect();
    let by_hour: HashMap<i64, &HourInputs> = inputs.hours.iter().map(|h| (h.start, h)).collect();
    let mut engine = PeriodEngine::new(
        inputs.configuration.kind,
        inputs.configuration.region,
        specs,
    );
    let mut hours_without_data = 0u32;
    let mut shared_wh_total = 0i64;
    let mut day_index = 0;
    let mut hour = from;
    while hour < to {
        while day_index + 1 < days.len() && days[day_index + 1].0 <= hour {
            day_index += 1;
        }
        let data = by_hour.get(&hour);
        if data.is_none() {
            hours_without_data += 1;
        }
        let mut injection_by_pod: Vec<(String, i64)> = data
            .map(|h| h.injection.iter().map(|p| (p.pod.clone(), p.wh)).collect())
            .unwrap_or_default();
        injection_by_pod.sort();
        let mut exempt_capable_withdrawn_wh: Vec<(HolderType, i64)> = data
            .map(|h| {
                h.exempt_capable_withdrawal
                    .iter()
                    .map(|e| (e.holder_type, e.wh))
                    .collect()
            })
            .unwrap_or_default();
        exempt_capable_withdrawn_wh.sort_by_key(|(holder, _)| holder.as_str());
        let (injected_wh, withdrawn_wh) = data.map_or((0, 0), |h| (h.injected_wh, h.withdrawn_wh));
        shared_wh_total += injected_wh.min(withdrawn_wh).max(0);
        engine.add_hour(
            &HourData {
                start: hour,
                injected_wh,
                withdrawn_wh,
                injection_by_pod,
                price: prices.get(&hour).copied(),
                exempt_capable_withdrawn_wh,
            },
            &days[day_index].1,
        );
        hour += 3600;
    }
    // The year so far, for the excess premium: the finalised earlier months of the same year.
    let mut year_to_date = ExcessBasis::default();
    for prior in &inputs.year_to_date {
        year_to_date.add(&prior.excess_basis);
    }
    let (totals, plant_results, missing_prices, excess_basis) =
        engine.finish(&days[0].1, &year_to_date);

    // Completeness.
    if !missing_prices.is_empty() {
        gaps.push(format!(
            "{} hour(s) have no {} zonal price ({}): import them under /api/v1/market/zonal-prices",
            missing_prices.len(),
            inputs.configuration.market_zone.as_str(),
            coverage::describe_hours(&missing_prices)
        ));
    }
    let has_plants = |member_id: i32| inputs.plants.iter().any(|p| p.member_id == member_id);
    let mut coverages: Vec<(Option<Coverage>, Option<Coverage>)> = Vec::new();
    let mut members_without_data = Vec::new();
    for m in members {
        // Withdrawal from final customers, injection from the PODs with plants.
        let withdrawal = is_final_customer(m.role)
            .then(|| coverage_of(&m.pod, m.counted, "withdrawal", &m.withdrawal, &mut gaps));
        let injection = has_plants(m.id)
            .then(|| coverage_of(&m.pod, m.counted, "injection", &m.injection, &mut gaps));
        coverages.push((withdrawal, injection));
        if !m.counted.is_empty() && m.withdrawal.rows == 0 && m.injection.rows == 0 {
            members_without_data.push(m.pod.clone());
        }
    }
    let plants_without_injection: Vec<i32> = inputs
        .plants
        .iter()
        .filter(|p| {
            members
                .iter()
                .find(|m| m.id == p.member_id)
                .is_none_or(|m| m.injection.rows == 0)
        })
        .map(|p| p.id)
        .collect();

    // Members' shared energy: each one's exact share (milli-Wh, summed per reading) as the
    // weight, the configuration's EAC in Wh as the total, so the parts add up exactly.
    let shared_weights: Vec<Decimal> = members
        .iter()
        .map(|m| Decimal::from(m.withdrawal.shared_mwh))
        .collect();
    let shared_wh = if shared_wh_total == 0 {
        vec![0; members.len()]
    } else {
        split_cents(shared_wh_total, &shared_weights)
    };
    let participants: Vec<Participant> = members
        .iter()
        .zip(&shared_wh)
        .map(|(m, shared)| {
            let own_plants: Vec<&PlantResult> = plant_results
                .iter()
                .filter(|p| p.member_id == m.id)
                .collect();
            Participant {
                member_id: m.id,
                holder_type: m.holder_type,
                producer: !own_plants.is_empty(),
                consumer: m.withdrawal.wh > 0,
                incentivised_kwh: own_plants.iter().map(|p| p.shared_kwh).sum(),
                power_kw: own_plants.iter().map(|p| p.power_kw).sum(),
                shared_withdrawal_kwh: Decimal::new(*shared, 3),
                withdrawal_kwh: Decimal::new(m.withdrawal.wh, 3),
            }
        })
        .collect();
    let premium_cents = to_cents(totals.premium_eur);
    // Negative when the year's ratio fell: the month gives back excess counted earlier.
    let excess_cents = to_cents(totals.excess_eur).min(premium_cents);
    let valorisation_cents = to_cents(totals.valorisation_eur);
    let distribution = inputs.policy_document.distribute(
        premium_cents - excess_cents,
        excess_cents,
        valorisation_cents,
        &participants,
    );
    let yearly_fees: i64 = plant_results
        .iter()
        .map(|p| to_cents(p.yearly_fee_eur))
        .sum();
    let fees_cents = split_cents(yearly_fees, &[Decimal::ONE; 12])[period.start.month0() as usize];

    let mut lines = Vec::new();
    let mut member_results = Vec::new();
    for (index, m) in members.iter().enumerate() {
        let incentive = distribution.incentive.members[index];
        let excess = distribution.excess.members[index];
        let valorisation = distribution.valorisation.members[index];
        let (withdrawal_coverage, injection_coverage) = coverages[index].clone();
        member_results.push(MemberResult {
            member_id: m.id,
            pod: m.pod.clone(),
            holder_type: m.holder_type,
            withdrawn_kwh: Decimal::new(m.withdrawal.wh, 3),
            injected_kwh: Decimal::new(m.injection.wh, 3),
            shared_kwh: Decimal::new(shared_wh[index], 3),
            gse_effective_from: m.gse_effective_from,
            withdrawal: withdrawal_coverage,
            injection: injection_coverage,
            incentive_cents: incentive,
            excess_premium_cents: excess,
            valorisation_cents: valorisation,
            total_cents: incentive + excess + valorisation,
        });
        if shared_wh[index] != 0 {
            lines.push(SettlementLine {
                member_id: Some(m.id),
                account: LineAccount::Member,
                kind: LineKind::SharedEnergy,
                energy_wh: Some(shared_wh[index]),
                amount_cents: 0,
            });
        }
        for (kind, amount_cents) in [
            (LineKind::Incentive, incentive),
            (LineKind::ExcessPremium, excess),
            (LineKind::Valorisation, valorisation),
        ] {
            if amount_cents != 0 {
                lines.push(SettlementLine {
                    member_id: Some(m.id),
                    account: LineAccount::Member,
                    kind,
                    energy_wh: None,
                    amount_cents,
                });
            }
        }
    }
    lines.extend(configuration_lines(&distribution, fees_cents));
    let blockers = run_blockers(inputs);
    let problems: Vec<String> = blockers.iter().chain(&gaps).cloned().collect();
    let mut rules = Vec::new();
    if any_grant {
        rules.push(
            "F (the grant reduction) is not applied to the incentivised energy attributed, pro rata \
             of their withdrawal in each hour, to withdrawal points held by public bodies and by \
             religious, third-sector or environmental bodies (GSE Regole operative §2.2.2.1.2)"
                .to_string(),
        );
        let natural_persons_exempt_days = days
            .iter()
            .filter(|(_, day)| day.rules.natural_persons_f_exempt)
            .count();
        if natural_persons_exempt_days > 0 {
            rules.push(format!(
                "… nor to those held by natural persons, on {natural_persons_exempt_days} of the \
                 month's {} days (DM MASE 16 May 2025 n. 127, in force 26 Jun 2025)",
                days.len()
            ));
        }
    }
    // The rows used: those of the month, and the lateness rule's rows where a date needed one.
    let mut parameters = inputs.parameters.clone();
    for row in &inputs.gse_late_days {
        if !parameters.iter().any(|p| p.id == row.id) {
            parameters.push(row.clone());
        }
    }
    let d = &distribution;
    let members_cents = member_results.iter().map(|m| m.total_cents).sum();
    let report = Report {
        period: period.label(),
        policy_version: inputs.policy.map(|p| p.version),
        totals,
        money: MoneyTotals {
            premium_cents,
            excess_cents,
            valorisation_cents,
            fees_cents,
            management_cents: d.incentive.management
                + d.excess.management
                + d.valorisation.management,
            social_fund_cents: d.incentive.social_fund
                + d.excess.social_fund
                + d.valorisation.social_fund,
            members_cents,
        },
        excess_basis,
        excess_months_before: inputs
            .year_to_date
            .iter()
            .map(|p| p.period.clone())
            .collect(),
        plants: plant_results,
        members: member_results,
        missing_price_hours: missing_prices.len() as u32,
        missing_price_list: missing_prices
            .iter()
            .take(LISTED_HOURS)
            .map(|t| rfc3339(*t))
            .collect(),
        hours_without_data,
        members_without_data,
        plants_without_injection,
        parameters,
        rules,
        notes: distribution.notes.clone(),
        gaps,
        blockers,
        problems,
    };
    Ok(Settlement { report, lines })
}

#[cfg(test)]
mod tests {
    //! `settle` on hand-built months. `Month` plays the part of `gather`: it turns a table of
    //! readings (member × hour) into the aggregates gather reads in SQL, by the same formulas.
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn row(
        id: i32,
        code: &str,
        micro: i64,
        from: NaiveDate,
        to: Option<NaiveDate>,
    ) -> ParameterUsed {
        ParameterUsed {
            id,
            code: code.into(),
            value: Decimal::new(micro, 6).normalize(),
            unit: String::new(),
            valid_from: from,
            valid_to: to,
        }
    }

    /// The regulated values as the migrations seed them.
    fn parameters() -> Vec<ParameterUsed> {
        let since = d(2024, 1, 1);
        let mut rows: Vec<ParameterUsed> = [
            ("TRAS_E", 10_570_000),
            ("BTAU", 650_000),
            ("CPR_MV", 12_000),
            ("CPR_LV", 26_000),
            ("TIP_REF_PRICE", 180_000_000),
            ("TIP_BAND1_KW", 200_000_000),
            ("TIP_BAND1_BASE", 80_000_000),
            ("TIP_BAND1_CAP", 120_000_000),
            ("TIP_BAND2_KW", 600_000_000),
            ("TIP_BAND2_BASE", 70_000_000),
            ("TIP_BAND2_CAP", 110_000_000),
            ("TIP_BAND3_KW", 1_000_000_000),
            ("TIP_BAND3_BASE", 60_000_000),
            ("TIP_BAND3_CAP", 100_000_000),
            ("TIP_FC_NORTH", 10_000_000),
            ("TIP_FC_CENTRE", 4_000_000),
            ("TIP_GRANT_MAX_F", 500_000),
            ("TIP_GRANT_FULL", 400_000),
            ("EXCESS_TARIFF", 550_000),
            ("EXCESS_GRANT", 450_000),
            ("ADVANCE_SHARE", 700_000),
            ("ADVANCE_PREMIUM", 60_000_000),
            ("FEE_FREE_KW", 3_000_000),
            ("FEE_FLAT_KW", 20_000_000),
            ("FEE_FLAT", 30_000_000),
            ("FEE_PER_KW", 1_000_000),
        ]
        .iter()
        .enumerate()
        .map(|(i, (code, micro))| row(i as i32 + 1, code, *micro, since, None))
        .collect();
        rows.push(row(100, "F_EXEMPT_PERSONS", 0, since, Some(d(2025, 6, 26))));
        rows.push(row(
            101,
            "F_EXEMPT_PERSONS",
            1_000_000,
            d(2025, 6, 26),
            None,
        ));
        rows
    }

    fn late_days() -> Vec<ParameterUsed> {
        vec![row(200, "GSE_LATE_DAYS", 120_000_000, d(2025, 4, 4), None)]
    }

    struct Who {
        id: i32,
        role: MemberRole,
        holder_type: HolderType,
        notified: Option<NaiveDate>,
    }

    fn consumer(id: i32, holder_type: HolderType) -> Who {
        Who {
            id,
            role: MemberRole::Consumer,
            holder_type,
            notified: Some(d(2024, 1, 10)),
        }
    }

    fn producer(id: i32) -> Who {
        Who {
            id,
            role: MemberRole::Producer,
            holder_type: HolderType::Sme,
            notified: Some(d(2024, 1, 10)),
        }
    }

    fn pod(id: i32) -> String {
        format!("IT001E{id:08}")
    }

    fn plant(id: i32, member_id: i32, power_w: i64, grant_ppm: i32) -> PlantInputs {
        PlantInputs {
            id,
            member_id,
            pod: pod(member_id),
            source: PlantSource::Pv,
            power_w,
            capital_grant_ppm: grant_ppm,
            voltage: ConnectionVoltage::Lv,
            commissioned_on: d(2024, 3, 1),
            gse_notified_on: Some(d(2024, 3, 5)),
        }
    }

    /// `reading(hour index, member index)` → `(withdrawn Wh, injected Wh)`; `None`: no reading.
    fn month(
        label: &str,
        who: &[Who],
        plants: Vec<PlantInputs>,
        reading: impl Fn(usize, usize) -> Option<(i64, i64)>,
    ) -> MonthInputs {
        let period = Period::parse(label).unwrap();
        let (from, to) = period.instants();
        let late = late_days();
        let mut members: Vec<MemberInputs> = who
            .iter()
            .map(|w| {
                let windows = member_windows(period, d(2024, 1, 1), None, w.notified, &late);
                MemberInputs {
                    id: w.id,
                    pod: pod(w.id),
                    role: w.role,
                    holder_type: w.holder_type,
                    joined_at: d(2024, 1, 1),
                    withdrawn_at: None,
                    gse_notified_on: w.notified,
                    gse_effective_from: windows.gse_effective_from,
                    membership: windows.membership,
                    counted: windows.counted,
                    withdrawal: MeterData::default(),
                    injection: MeterData::default(),
                }
            })
            .collect();
        let any_grant = needs_holder_withdrawal(&plant_specs(&plants, &late, period));
        let mut hours = Vec::new();
        let mut covered: Vec<(Vec<HourMinutes>, Vec<HourMinutes>)> =
            vec![(Vec::new(), Vec::new()); who.len()];
        let mut start = from;
        let mut index = 0;
        while start < to {
            let values: Vec<Option<(i64, i64)>> = (0..who.len())
                .map(|m| {
                    let counted = members[m].counted;
                    (start >= counted.from && start < counted.to)
                        .then(|| reading(index, m))
                        .flatten()
                })
                .collect();
            if values.iter().any(Option::is_some) {
                let withdrawn: i64 = values.iter().flatten().map(|v| v.0).sum();
                let injected: i64 = values.iter().flatten().map(|v| v.1).sum();
                let shared = injected.min(withdrawn);
                let mut injection = Vec::new();
                let mut exempt: Vec<HolderEnergy> = Vec::new();
                for (m, value) in values.iter().enumerate() {
                    let Some((w, i)) = value else { continue };
                    let member = &mut members[m];
                    let has_plants = plants.iter().any(|p| p.member_id == member.id);
                    let (covered_w, covered_i) = &mut covered[m];
                    for (data, wh, hours) in [
                        (&mut member.withdrawal, *w, covered_w),
                        (&mut member.injection, *i, covered_i),
                    ] {
                        data.wh += wh;
                        data.minutes += 60;
                        data.rows += 1;
                        data.revisions += 1;
                        hours.push(HourMinutes {
                            hour: start,
                            minutes: 60,
                        });
                    }
                    if withdrawn > 0 {
                        member.withdrawal.shared_mwh += w * 1000 * shared / withdrawn;
                    }
                    if has_plants {
                        injection.push(PodEnergy {
                            pod: member.pod.clone(),
                            wh: *i,
                        });
                    }
                    if any_grant
                        && matches!(
                            member.holder_type,
                            HolderType::NaturalPerson
                                | HolderType::PublicBody
                                | HolderType::ReligiousOrThirdSector
                        )
                    {
                        match exempt
                            .iter_mut()
                            .find(|e| e.holder_type == member.holder_type)
                        {
                            Some(e) => e.wh += w,
                            None => exempt.push(HolderEnergy {
                                holder_type: member.holder_type,
                                wh: *w,
                            }),
                        }
                    }
                }
                hours.push(HourInputs {
                    start,
                    injected_wh: injected,
                    withdrawn_wh: withdrawn,
                    injection,
                    exempt_capable_withdrawal: exempt,
                });
            }
            start += 3600;
            index += 1;
        }
        for (member, (w, i)) in members.iter_mut().zip(covered) {
            let expected = member.counted.hours() * 60;
            if member.withdrawal.minutes < expected {
                member.withdrawal.covered_hours = w;
            }
            if member.injection.minutes < expected {
                member.injection.covered_hours = i;
            }
        }
        let prices = (0..)
            .map(|h| from + h * 3600)
            .take_while(|t| *t < to)
            .map(|start| PricePoint {
                start,
                minutes: 60,
                eur_mwh: dec!(100),
            })
            .collect();
        MonthInputs {
            configuration: ConfigurationFacts {
                id: 1,
                kind: ConfigurationType::Cer,
                market_zone: MarketZone::Nord,
                region: Region::Lombardia,
                status: ConfigurationStatus::Active,
            },
            period,
            month_ended: true,
            policy: None,
            policy_document: Policy::default_document(),
            parameters: parameters(),
            gse_late_days: late,
            members,
            plants,
            hours,
            prices,
            year_to_date: Vec::new(),
        }
    }

    /// Daytime: the plant injects, the consumers withdraw.
    fn sunny(hour: usize, member: usize) -> Option<(i64, i64)> {
        let daytime = (8..16).contains(&(hour % 24));
        Some(match member {
            0 => (0, if daytime { 60_000 } else { 0 }),
            m => (20_000 + m as i64 * 7, 0),
        })
    }

    fn community() -> Vec<Who> {
        vec![
            producer(1),
            consumer(2, HolderType::NaturalPerson),
            consumer(3, HolderType::NaturalPerson),
            consumer(4, HolderType::NaturalPerson),
        ]
    }

    fn shared_wh(report: &Report) -> i64 {
        report
            .members
            .iter()
            .map(|m| (m.shared_kwh * dec!(1000)).to_i64().unwrap())
            .sum()
    }

    #[test]
    fn a_complete_month_is_finalizable_and_its_splits_are_exact() {
        let inputs = month(
            "2025-03",
            &community(),
            vec![plant(1, 1, 100_000, 0)],
            sunny,
        );
        let s = settle(&inputs).unwrap();
        let r = &s.report;
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(r.totals.hours, 743, "March has the spring-forward day");
        assert!(r.totals.shared_kwh > Decimal::ZERO);
        assert_eq!(Decimal::new(shared_wh(r), 3), r.totals.shared_kwh);
        let shared_lines: i64 = s
            .lines
            .iter()
            .filter(|l| l.kind == LineKind::SharedEnergy)
            .map(|l| l.energy_wh.unwrap())
            .sum();
        assert_eq!(shared_lines, shared_wh(r));
        let m = &r.money;
        assert!(m.premium_cents > 0);
        assert_eq!(
            m.members_cents + m.management_cents + m.social_fund_cents,
            m.premium_cents + m.valorisation_cents
        );
        for member in &r.members[1..] {
            let coverage = member.withdrawal.as_ref().unwrap();
            assert_eq!(coverage.missing_hours, 0);
            assert_eq!(coverage.coverage_percent, dec!(100.00));
        }
        assert!(
            r.members[0].withdrawal.is_none(),
            "a producer withdraws nothing by its role"
        );
        assert_eq!(r.members[0].injection.as_ref().unwrap().expected_hours, 743);
    }

    #[test]
    fn three_equal_members_share_an_hour_to_the_wh() {
        // 160 kWh shared among three equal withdrawals: 53.334 + 53.333 + 53.333, not 159.999.
        let inputs = month(
            "2025-03",
            &community(),
            vec![plant(1, 1, 200_000, 0)],
            |h, m| (h == 12).then_some(if m == 0 { (0, 160_000) } else { (60_000, 0) }),
        );
        let r = settle(&inputs).unwrap().report;
        let parts: Vec<Decimal> = r.members[1..].iter().map(|m| m.shared_kwh).collect();
        assert_eq!(parts, vec![dec!(53.334), dec!(53.333), dec!(53.333)]);
        assert_eq!(r.totals.shared_kwh, dec!(160));
    }

    #[test]
    fn a_member_without_data_is_a_gap_that_names_it() {
        let inputs = month(
            "2025-03",
            &community(),
            vec![plant(1, 1, 100_000, 0)],
            |h, m| (m != 3).then(|| sunny(h, m)).flatten(),
        );
        let r = settle(&inputs).unwrap().report;
        assert_eq!(r.members_without_data, vec![pod(4)]);
        assert!(
            r.gaps.iter().any(
                |g| g.starts_with(&format!("{}: no withdrawal data", pod(4)))
                    && g.ends_with("(743 hours)")
            ),
            "{:?}",
            r.gaps
        );
        assert_eq!(r.problems, r.gaps);
        assert_eq!(r.members[3].shared_kwh, Decimal::ZERO);
    }

    #[test]
    fn missing_hours_are_counted_and_the_coverage_is_never_rounded_up() {
        let inputs = month(
            "2025-03",
            &community(),
            vec![plant(1, 1, 100_000, 0)],
            |h, m| (m != 2 || h != 100).then(|| sunny(h, m)).flatten(),
        );
        let r = settle(&inputs).unwrap().report;
        let coverage = r.members[2].withdrawal.as_ref().unwrap();
        assert_eq!(coverage.missing_hours, 1);
        assert_eq!(coverage.coverage_percent, dec!(99.86));
        assert!(
            r.gaps.iter().any(|g| g.ends_with("(1 hour)")),
            "{:?}",
            r.gaps
        );
    }

    #[test]
    fn a_membership_gse_was_not_told_of_counts_nowhere() {
        let mut who = community();
        who[3].notified = None;
        let inputs = month("2025-07", &who, vec![plant(1, 1, 100_000, 0)], sunny);
        let r = settle(&inputs).unwrap().report;
        assert!(
            r.gaps
                .iter()
                .any(|g| g.contains("has not been notified to GSE"))
        );
        assert_eq!(r.members[3].gse_effective_from, None);
        assert_eq!(r.members[3].withdrawn_kwh, Decimal::ZERO);
        assert_eq!(r.members[3].total_cents, 0);
        assert_eq!(Decimal::new(shared_wh(&r), 3), r.totals.shared_kwh);
    }

    #[test]
    fn a_plant_gse_was_not_told_of_earns_no_tariff() {
        let mut unnotified = plant(1, 1, 100_000, 0);
        unnotified.gse_notified_on = None;
        let inputs = month("2025-03", &community(), vec![unnotified], sunny);
        let r = settle(&inputs).unwrap().report;
        assert!(
            r.gaps.iter().any(|g| g.starts_with("plant 1 on")),
            "{:?}",
            r.gaps
        );
        assert!(!r.plants[0].incentivised);
        assert_eq!(r.money.premium_cents, 0);
        assert!(
            r.money.valorisation_cents > 0,
            "shared energy is still valorised"
        );
    }

    #[test]
    fn hours_without_prices_are_a_gap_pointing_to_the_import_route() {
        let mut inputs = month(
            "2025-03",
            &community(),
            vec![plant(1, 1, 100_000, 0)],
            sunny,
        );
        inputs.prices.truncate(700);
        let r = settle(&inputs).unwrap().report;
        assert_eq!(r.missing_price_hours, 43);
        assert!(
            r.gaps
                .iter()
                .any(|g| g.starts_with("43 hour(s) have no NORD zonal price")
                    && g.contains("/api/v1/market/zonal-prices")),
            "{:?}",
            r.gaps
        );
    }

    #[test]
    fn drafts_and_months_not_over_are_blockers_not_gaps() {
        let mut inputs = month(
            "2025-03",
            &community(),
            vec![plant(1, 1, 100_000, 0)],
            sunny,
        );
        inputs.configuration.status = ConfigurationStatus::Draft;
        inputs.month_ended = false;
        let r = settle(&inputs).unwrap().report;
        assert_eq!(r.blockers.len(), 2);
        assert!(r.gaps.is_empty());
        assert_eq!(r.problems, r.blockers);
    }

    #[test]
    fn a_missing_parameter_names_its_code_and_day() {
        let mut inputs = month(
            "2025-03",
            &community(),
            vec![plant(1, 1, 100_000, 0)],
            sunny,
        );
        inputs.parameters.retain(|p| p.code != "BTAU");
        assert_eq!(
            settle(&inputs).unwrap_err(),
            MissingParameter {
                code: "BTAU",
                date: d(2025, 3, 1)
            }
        );
    }

    #[test]
    fn natural_persons_lose_f_from_26_june_2025() {
        // A plant with a 40% grant (F at its largest), households only.
        let f_exempt = |label: &str| {
            let inputs = month(
                label,
                &community(),
                vec![plant(1, 1, 100_000, 400_000)],
                sunny,
            );
            let r = settle(&inputs).unwrap().report;
            (r.plants[0].f_exempt_kwh, r.plants[0].shared_kwh, r.rules)
        };
        let (may, may_shared, may_rules) = f_exempt("2025-05");
        assert_eq!(may, Decimal::ZERO);
        assert!(may_shared > Decimal::ZERO);
        assert_eq!(may_rules.len(), 1, "{may_rules:?}");
        let (june, june_shared, june_rules) = f_exempt("2025-06");
        // 26–30 June: five of the month's thirty days, each as sunny as the others.
        assert_eq!(june, (june_shared * dec!(5) / dec!(30)).round_dp(3));
        assert!(june_rules[1].contains("on 5 of the month's 30 days"));
        let (july, july_shared, _) = f_exempt("2025-07");
        assert_eq!(july, july_shared);
    }

    #[test]
    fn public_bodies_are_exempt_from_f_before_the_2025_decree_too() {
        let who = vec![
            producer(1),
            consumer(2, HolderType::PublicBody),
            consumer(3, HolderType::Sme),
        ];
        let inputs = month("2025-03", &who, vec![plant(1, 1, 100_000, 400_000)], sunny);
        let r = settle(&inputs).unwrap().report;
        let plant = &r.plants[0];
        assert!(plant.f_exempt_kwh > Decimal::ZERO);
        assert!(plant.f_exempt_kwh < plant.shared_kwh);
        assert_eq!(plant.f_exempt[0].holder_type, HolderType::PublicBody);
    }

    #[test]
    fn the_fingerprint_follows_every_input() {
        let inputs = month(
            "2025-03",
            &community(),
            vec![plant(1, 1, 100_000, 0)],
            sunny,
        );
        let same = month(
            "2025-03",
            &community(),
            vec![plant(1, 1, 100_000, 0)],
            sunny,
        );
        assert_eq!(fingerprint(&inputs).unwrap(), fingerprint(&same).unwrap());
        let mut revised = inputs.clone();
        revised.members[2].withdrawal.revisions += 1;
        let mut ended = inputs.clone();
        ended.month_ended = false;
        let mut parameter = inputs.clone();
        parameter.parameters[0].value += dec!(0.000001);
        let mut policy = inputs.clone();
        policy.policy = Some(PolicyVersion { id: 1, version: 1 });
        for changed in [revised, ended, parameter, policy] {
            assert_ne!(
                fingerprint(&inputs).unwrap(),
                fingerprint(&changed).unwrap()
            );
        }
    }

    #[test]
    fn a_late_notification_counts_from_its_own_day() {
        let period = Period::parse("2025-09").unwrap();
        let late = late_days();
        // Joined 1 May, told GSE 1 Sep: 123 days late, so GSE counts it from 1 Sep.
        let w = member_windows(period, d(2025, 5, 1), None, Some(d(2025, 9, 10)), &late);
        assert_eq!(w.gse_effective_from, Some(d(2025, 9, 10)));
        assert_eq!(w.counted.from, local_midnight(d(2025, 9, 10)));
        assert_eq!(w.membership.from, local_midnight(d(2025, 9, 1)));
        // Joined 15 Sep, told on 20 Sep: counts from the later date.
        let w = member_windows(period, d(2025, 9, 15), None, Some(d(2025, 9, 20)), &late);
        assert_eq!(w.gse_effective_from, Some(d(2025, 9, 20)));
        // Not told: nothing counted, an empty window at the membership's end.
        let w = member_windows(period, d(2025, 5, 1), None, None, &late);
        assert!(w.counted.is_empty());
        assert!(!w.membership.is_empty());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        /// Any month: the members' shared energy adds up to the configuration's exactly, so do
        /// the money splits, F-exempt energy stays within each plant's, and nothing is negative
        /// but the GSE fee.
        #[test]
        fn splits_are_exact_and_nothing_is_negative(
            daily in proptest::collection::vec(
                proptest::collection::vec(proptest::option::weighted(0.95, (0i64..40_000, 0i64..90_000)), 24),
                2..6,
            ),
            holders in proptest::collection::vec(0usize..4, 6),
            grant in prop_oneof![Just(0), Just(200_000), Just(400_000)],
            label in prop_oneof![Just("2025-03"), Just("2025-06"), Just("2025-10")],
        ) {
            let kinds = [
                HolderType::NaturalPerson,
                HolderType::PublicBody,
                HolderType::Sme,
                HolderType::ReligiousOrThirdSector,
            ];
            let mut who = vec![producer(1)];
            for (index, _) in daily.iter().enumerate().skip(1) {
                let mut member = consumer(index as i32 + 1, kinds[holders[index]]);
                member.role = if index % 2 == 0 { MemberRole::Prosumer } else { MemberRole::Consumer };
                who.push(member);
            }
            let plants = vec![plant(1, 1, 150_000, grant), plant(2, 1, 30_000, 0)];
            let inputs = month(label, &who, plants, |h, m| {
                daily[m][h % 24].map(|(w, i)| match m {
                    0 => (0, i),
                    m if m % 2 == 0 => (w, i / 10),
                    _ => (w, 0),
                })
            });
            let s = settle(&inputs).unwrap();
            let r = &s.report;
            prop_assert_eq!(Decimal::new(shared_wh(r), 3), r.totals.shared_kwh);
            let m = &r.money;
            prop_assert_eq!(
                m.members_cents + m.management_cents + m.social_fund_cents,
                m.premium_cents + m.valorisation_cents
            );
            for plant in &r.plants {
                prop_assert!(plant.f_exempt_kwh >= Decimal::ZERO);
                // The report rounds F-exempt energy to the Wh (the plant's shared energy is kept
                // exact and rounded the same way when written out); the holders' parts add up.
                let shared = plant.shared_kwh.round_dp_with_strategy(3, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
                prop_assert!(plant.f_exempt_kwh <= shared, "{:?}", plant);
                let by_holder: Decimal = plant.f_exempt.iter().map(|s| s.shared_kwh).sum();
                prop_assert_eq!(by_holder, plant.f_exempt_kwh);
                prop_assert!(plant.premium_eur >= Decimal::ZERO);
            }
            for member in &r.members {
                prop_assert!(member.shared_kwh >= Decimal::ZERO);
                prop_assert!(member.incentive_cents >= 0 && member.valorisation_cents >= 0);
            }
            for line in &s.lines {
                if line.account == LineAccount::Gse {
                    prop_assert!(line.amount_cents <= 0);
                } else {
                    prop_assert!(line.amount_cents >= 0, "{:?}", line);
                    prop_assert!(line.energy_wh.is_none_or(|wh| wh > 0));
                }
            }
        }
    }
}
