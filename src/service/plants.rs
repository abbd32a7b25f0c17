//! Plants: the production plants behind producer and prosumer PODs, under the limits on
//! existing plants' share of the power and the PNRR grant's rules.
use chrono::NaiveDate;
use rust_decimal::Decimal;
use sea_orm::{DatabaseConnection, IntoActiveModel, Set, TransactionTrait};

use super::{Actor, Outcome, ServiceError, configurations, fixed_point, members};
use crate::core::permissions::Permission;
use crate::crud;
use crate::domain::community_rules::{
    PnrrRules, check_pnrr_grant, date_from_yyyymmdd, existing_share_within_limit,
    is_existing_plant, may_have_plants,
};
use crate::domain::quantities::{KW_MILLI, SHARE_MICRO};
use crate::models::enums::{ConfigurationType, ConnectionVoltage, ParameterCode};
use crate::models::{member, plant};
use crate::schemas::common::clean;
use crate::schemas::plant::{PlantCreate, PlantListParams, PlantUpdate};

/// The PNRR grant covers at most 40% of the eligible cost.
const MAX_CAPITAL_GRANT_PPM: i64 = 400_000;

pub async fn list(
    actor: &Actor,
    db: &DatabaseConnection,
    params: &PlantListParams,
) -> Outcome<(Vec<plant::Model>, u64)> {
    actor.require(Permission::ConfigurationsRead)?;
    Ok(crud::plants::list(db, actor.community_scope(), params).await?)
}

/// A plant in the actor's scope; any other is "not found".
pub async fn visible(actor: &Actor, db: &DatabaseConnection, id: i32) -> Outcome<plant::Model> {
    actor.require(Permission::ConfigurationsRead)?;
    crud::plants::find_in_scope(db, actor.community_scope(), id)
        .await?
        .ok_or(ServiceError::NotFound("Plant"))
}

pub async fn create(
    actor: &Actor,
    db: &DatabaseConnection,
    input: PlantCreate,
) -> Outcome<plant::Model> {
    actor.require(Permission::MembersWrite)?;
    let member = crud::members::find_in_scope(db, actor.community_scope(), input.member_id)
        .await?
        .ok_or_else(|| ServiceError::invalid("member_id", "Member not found", "not_found"))?;
    let draft = Draft {
        name: input.name.trim().to_string(),
        source: input.source,
        power_w: power_w("power_kw", input.power_kw)?,
        commissioned_on: input.commissioned_on,
        capital_grant_ppm: grant_ppm(input.capital_grant_share.unwrap_or_default())?,
        connection_voltage: input.connection_voltage.unwrap_or(ConnectionVoltage::Lv),
        censimp_code: clean(input.censimp_code.as_deref()),
        gse_notified_on: input.gse_notified_on,
    };
    save(actor, db, &member, draft, None).await
}

pub async fn update(
    actor: &Actor,
    db: &DatabaseConnection,
    id: i32,
    input: PlantUpdate,
) -> Outcome<plant::Model> {
    let existing = visible(actor, db, id).await?;
    actor.require(Permission::MembersWrite)?;
    let member = members::visible(actor, db, existing.member_id).await?;
    let draft = Draft {
        name: input
            .name
            .as_deref()
            .map(|n| n.trim().to_string())
            .unwrap_or_else(|| existing.name.clone()),
        source: input.source.unwrap_or(existing.source),
        power_w: input
            .power_kw
            .map(|kw| power_w("power_kw", kw))
            .transpose()?
            .unwrap_or(existing.power_w),
        commissioned_on: input.commissioned_on.unwrap_or(existing.commissioned_on),
        capital_grant_ppm: match input.capital_grant_share {
            Some(share) => grant_ppm(share)?,
            None => existing.capital_grant_ppm,
        },
        connection_voltage: input
            .connection_voltage
            .unwrap_or(existing.connection_voltage),
        censimp_code: match &input.censimp_code {
            Some(code) => clean(code.as_deref()),
            None => existing.censimp_code.clone(),
        },
        gse_notified_on: input.gse_notified_on.unwrap_or(existing.gse_notified_on),
    };
    save(actor, db, &member, draft, Some(existing)).await
}

/// Deleting a plant may not leave existing plants over their share of the power.
pub async fn delete(actor: &Actor, db: &DatabaseConnection, id: i32) -> Outcome<()> {
    let existing = visible(actor, db, id).await?;
    actor.require(Permission::MembersWrite)?;
    let member = members::visible(actor, db, existing.member_id).await?;
    let txn = db.begin().await?;
    crud::write_lock(&txn, &format!("configuration:{}", member.configuration_id)).await?;
    let plants = crud::plants::in_configuration(&txn, member.configuration_id).await?;
    let before = power_split(plants.iter());
    let after = power_split(plants.iter().filter(|p| p.id != existing.id));
    check_existing_share(before, after)?;
    crud::plants::delete(&txn, existing).await?;
    txn.commit().await?;
    Ok(())
}

struct Draft {
    name: String,
    source: crate::models::enums::PlantSource,
    power_w: i64,
    commissioned_on: NaiveDate,
    capital_grant_ppm: i32,
    connection_voltage: ConnectionVoltage,
    censimp_code: Option<String>,
    gse_notified_on: Option<NaiveDate>,
}

/// The largest power accepted: 999,999.999 kW.
pub const MAX_POWER_W: i64 = 999_999_999;

/// A power in kW (up to three decimals, > 0, < 1,000,000) as watts; an error names `field`.
pub(crate) fn power_w(field: &str, power_kw: Decimal) -> Outcome<i64> {
    let watts = fixed_point(field, power_kw, KW_MILLI)?;
    if watts <= 0 {
        return Err(ServiceError::invalid(
            field,
            "The power must be greater than 0",
            "greater_than",
        ));
    }
    // A sanity bound (a gigawatt), far above any connection point of a community.
    if watts > MAX_POWER_W {
        return Err(ServiceError::invalid(
            field,
            "The power must be less than 1,000,000 kW",
            "less_than",
        ));
    }
    Ok(watts)
}

fn grant_ppm(share: Decimal) -> Outcome<i32> {
    let ppm = fixed_point("capital_grant_share", share, SHARE_MICRO)?;
    if !(0..=MAX_CAPITAL_GRANT_PPM).contains(&ppm) {
        return Err(ServiceError::invalid(
            "capital_grant_share",
            "The capital grant share must be between 0 and 0.40",
            "range",
        ));
    }
    Ok(ppm as i32)
}

/// `(existing W, total W)` of a set of plants.
fn power_split<'a>(plants: impl Iterator<Item = &'a plant::Model>) -> (i64, i64) {
    plants.fold((0, 0), |(existing, total), p| {
        let existing_power = if is_existing_plant(p.commissioned_on) {
            p.power_w
        } else {
            0
        };
        (existing + existing_power, total + p.power_w)
    })
}

/// A write may not push existing plants over 30% of the total power. One that lowers their
/// share is allowed even if the configuration was already over (data from before the rule).
fn check_existing_share(before: (i64, i64), after: (i64, i64)) -> Outcome<()> {
    let (existing, total) = after;
    let share_grew =
        i128::from(existing) * i128::from(before.1) > i128::from(before.0) * i128::from(total);
    if !existing_share_within_limit(existing, total) && (share_grew || before.1 == 0) {
        return Err(ServiceError::conflict(
            "Existing plants (commissioned before 16 Dec 2021) may make up at most 30% of the configuration's total power",
        ));
    }
    Ok(())
}

/// The PNRR grant's rules in force today, from the dated parameters; a missing one is named.
async fn pnrr_rules(db: &DatabaseConnection) -> Outcome<PnrrRules> {
    let today = super::italian_today();
    let value = |code: ParameterCode| async move {
        crud::settlement::parameter_on(db, code, today)
            .await?
            .ok_or_else(|| {
                ServiceError::conflict(format!(
                    "no {} is valid on {today}: add one under /api/v1/market/parameters",
                    code.as_str()
                ))
            })
    };
    let max_population = value(ParameterCode::PnrrMaxPop).await? / 1_000_000;
    let last_day = value(ParameterCode::PnrrLastDay).await? / 1_000_000;
    let last_day = date_from_yyyymmdd(last_day).ok_or_else(|| {
        ServiceError::conflict(format!(
            "PNRR_LAST_DAY valid on {today} is not a date as yyyymmdd ({last_day})"
        ))
    })?;
    Ok(PnrrRules {
        max_population,
        last_day,
    })
}

async fn save(
    actor: &Actor,
    db: &DatabaseConnection,
    member: &member::Model,
    draft: Draft,
    existing: Option<plant::Model>,
) -> Outcome<plant::Model> {
    if !may_have_plants(member.role) {
        return Err(ServiceError::conflict(
            "Only producer or prosumer members have plants",
        ));
    }
    let configuration = configurations::referenced(actor, db, member.configuration_id).await?;
    if configuration.kind == ConfigurationType::Cer
        && !is_existing_plant(draft.commissioned_on)
        && configuration
            .constituted_on
            .is_some_and(|constituted| draft.commissioned_on < constituted)
    {
        return Err(ServiceError::invalid(
            "commissioned_on",
            "A CER's new plants cannot be commissioned before the CER was constituted",
            "plant_rule",
        ));
    }
    if draft.capital_grant_ppm > 0 {
        let rules = pnrr_rules(db).await?;
        check_pnrr_grant(
            configuration.kind,
            configuration.municipality_population,
            draft.commissioned_on,
            rules,
        )
        .map_err(|(field, message)| ServiceError::invalid(field, message, "pnrr_rule"))?;
    }
    let txn = db.begin().await?;
    crud::write_lock(&txn, &format!("configuration:{}", configuration.id)).await?;
    let plants = crud::plants::in_configuration(&txn, configuration.id).await?;
    let existing_id = existing.as_ref().map(|p| p.id);
    let before = power_split(plants.iter());
    let others = power_split(plants.iter().filter(|p| Some(p.id) != existing_id));
    let this_existing = if is_existing_plant(draft.commissioned_on) {
        draft.power_w
    } else {
        0
    };
    check_existing_share(before, (others.0 + this_existing, others.1 + draft.power_w))?;

    let mut model = match existing {
        Some(plant) => plant.into_active_model(),
        None => plant::ActiveModel {
            member_id: Set(member.id),
            ..Default::default()
        },
    };
    model.name = Set(draft.name);
    model.source = Set(draft.source);
    model.power_w = Set(draft.power_w);
    model.commissioned_on = Set(draft.commissioned_on);
    model.capital_grant_ppm = Set(draft.capital_grant_ppm);
    model.connection_voltage = Set(draft.connection_voltage);
    model.censimp_code = Set(draft.censimp_code);
    model.gse_notified_on = Set(draft.gse_notified_on);
    let saved = if existing_id.is_some() {
        crud::update(&txn, model).await?
    } else {
        crud::insert(&txn, model).await?
    };
    txn.commit().await?;
    Ok(saved)
}
