//! `/plants`: production plants behind producer and prosumer PODs.
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use sea_orm::{IntoActiveModel, Set, TransactionTrait};

use super::configurations::total_count_header;
use super::members::visible_member;
use crate::api::deps::CurrentUser;
use crate::api::error::{ApiError, ErrorDetail, ValidationErrorBody, fixed_point, invalid_field};
use crate::api::extract::{ValidJson, ValidPath, ValidQuery};
use crate::app::AppState;
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
use crate::schemas::plant::{PlantCreate, PlantListParams, PlantPublic, PlantUpdate};

/// The PNRR grant covers at most 40% of the eligible cost.
const MAX_CAPITAL_GRANT_PPM: i64 = 400_000;

#[utoipa::path(
    get,
    path = "/api/v1/plants/",
    tag = "plants",
    params(PlantListParams),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Plants in scope; the total is in `X-Total-Count`", body = Vec<PlantPublic>,
         headers(("x-total-count" = u64, description = "Rows matching the filters"))),
        (status = 401, description = "Could not validate credentials", body = ErrorDetail),
        (status = 422, description = "Bad query parameter", body = ValidationErrorBody),
    )
)]
pub async fn list_plants(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidQuery(params): ValidQuery<PlantListParams>,
) -> Result<(HeaderMap, Json<Vec<PlantPublic>>), ApiError> {
    current.require(Permission::ConfigurationsRead)?;
    let (rows, total) = crud::plants::list(&state.db, current.community_scope(), &params).await?;
    Ok((
        total_count_header(total),
        Json(rows.into_iter().map(Into::into).collect()),
    ))
}

#[utoipa::path(
    post,
    path = "/api/v1/plants/",
    tag = "plants",
    request_body = PlantCreate,
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 201, description = "Created", body = PlantPublic),
        (status = 401, description = "Could not validate credentials", body = ErrorDetail),
        (status = 403, description = "The role may not manage plants", body = ErrorDetail),
        (status = 409, description = "Not a producer/prosumer member, or existing plants over 30% of the power", body = ErrorDetail),
        (status = 422, description = "Invalid body, or commissioned before the CER was constituted", body = ValidationErrorBody),
    )
)]
pub async fn create_plant(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidJson(body): ValidJson<PlantCreate>,
) -> Result<(StatusCode, Json<PlantPublic>), ApiError> {
    current.require(Permission::MembersWrite)?;
    let member = crud::members::find_in_scope(&state.db, current.community_scope(), body.member_id)
        .await?
        .ok_or_else(|| invalid_field("member_id", "Member not found", "not_found"))?;
    let draft = Draft {
        name: body.name.trim().to_string(),
        source: body.source,
        power_w: power_w("power_kw", body.power_kw)?,
        commissioned_on: body.commissioned_on,
        capital_grant_ppm: grant_ppm(body.capital_grant_share.unwrap_or_default())?,
        connection_voltage: body.connection_voltage.unwrap_or(ConnectionVoltage::Lv),
        censimp_code: clean(body.censimp_code.as_deref()),
        gse_notified_on: body.gse_notified_on,
    };
    let created = save(&state, &current, &member, draft, None).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[utoipa::path(
    get,
    path = "/api/v1/plants/{id}",
    tag = "plants",
    params(("id" = i32, Path, description = "Plant id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "The plant", body = PlantPublic),
        (status = 401, description = "Could not validate credentials", body = ErrorDetail),
        (status = 404, description = "Plant not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Bad id", body = ValidationErrorBody),
    )
)]
pub async fn read_plant(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<Json<PlantPublic>, ApiError> {
    Ok(Json(visible_plant(&state, &current, id).await?.into()))
}

#[utoipa::path(
    patch,
    path = "/api/v1/plants/{id}",
    tag = "plants",
    params(("id" = i32, Path, description = "Plant id")),
    request_body = PlantUpdate,
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Updated", body = PlantPublic),
        (status = 401, description = "Could not validate credentials", body = ErrorDetail),
        (status = 403, description = "The role may not manage plants", body = ErrorDetail),
        (status = 404, description = "Plant not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 409, description = "Existing plants over 30% of the power", body = ErrorDetail),
        (status = 422, description = "Invalid body", body = ValidationErrorBody),
    )
)]
pub async fn update_plant(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    ValidJson(body): ValidJson<PlantUpdate>,
) -> Result<Json<PlantPublic>, ApiError> {
    let existing = visible_plant(&state, &current, id).await?;
    current.require(Permission::MembersWrite)?;
    let member = visible_member(&state, &current, existing.member_id).await?;
    let draft = Draft {
        name: body
            .name
            .as_deref()
            .map(|n| n.trim().to_string())
            .unwrap_or_else(|| existing.name.clone()),
        source: body.source.unwrap_or(existing.source),
        power_w: body
            .power_kw
            .map(|kw| power_w("power_kw", kw))
            .transpose()?
            .unwrap_or(existing.power_w),
        commissioned_on: body.commissioned_on.unwrap_or(existing.commissioned_on),
        capital_grant_ppm: match body.capital_grant_share {
            Some(share) => grant_ppm(share)?,
            None => existing.capital_grant_ppm,
        },
        connection_voltage: body
            .connection_voltage
            .unwrap_or(existing.connection_voltage),
        censimp_code: match &body.censimp_code {
            Some(code) => clean(code.as_deref()),
            None => existing.censimp_code.clone(),
        },
        gse_notified_on: body.gse_notified_on.unwrap_or(existing.gse_notified_on),
    };
    Ok(Json(
        save(&state, &current, &member, draft, Some(existing))
            .await?
            .into(),
    ))
}

#[utoipa::path(
    delete,
    path = "/api/v1/plants/{id}",
    tag = "plants",
    params(("id" = i32, Path, description = "Plant id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Could not validate credentials", body = ErrorDetail),
        (status = 403, description = "The role may not manage plants", body = ErrorDetail),
        (status = 404, description = "Plant not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 409, description = "Removing it would leave existing plants over 30% of the power", body = ErrorDetail),
        (status = 422, description = "Bad id", body = ValidationErrorBody),
    )
)]
pub async fn delete_plant(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<StatusCode, ApiError> {
    let existing = visible_plant(&state, &current, id).await?;
    current.require(Permission::MembersWrite)?;
    let member = visible_member(&state, &current, existing.member_id).await?;
    let txn = state.db.begin().await?;
    crud::write_lock(&txn, &format!("configuration:{}", member.configuration_id)).await?;
    let plants = crud::plants::in_configuration(&txn, member.configuration_id).await?;
    let before = power_split(plants.iter());
    let after = power_split(plants.iter().filter(|p| p.id != existing.id));
    check_existing_share(before, after)?;
    crud::plants::delete(&txn, existing).await?;
    txn.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn visible_plant(
    state: &AppState,
    current: &CurrentUser,
    id: i32,
) -> Result<plant::Model, ApiError> {
    current.require(Permission::ConfigurationsRead)?;
    crud::plants::find_in_scope(&state.db, current.community_scope(), id)
        .await?
        .ok_or_else(|| ApiError::not_found("Plant"))
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
pub(crate) fn power_w(field: &str, power_kw: Decimal) -> Result<i64, ApiError> {
    let watts = fixed_point(field, power_kw, KW_MILLI)?;
    if watts <= 0 {
        return Err(invalid_field(
            field,
            "The power must be greater than 0",
            "greater_than",
        ));
    }
    // A sanity bound (a gigawatt), far above any connection point of a community.
    if watts > MAX_POWER_W {
        return Err(invalid_field(
            field,
            "The power must be less than 1,000,000 kW",
            "less_than",
        ));
    }
    Ok(watts)
}

fn grant_ppm(share: Decimal) -> Result<i32, ApiError> {
    let ppm = fixed_point("capital_grant_share", share, SHARE_MICRO)?;
    if !(0..=MAX_CAPITAL_GRANT_PPM).contains(&ppm) {
        return Err(invalid_field(
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
fn check_existing_share(before: (i64, i64), after: (i64, i64)) -> Result<(), ApiError> {
    let (existing, total) = after;
    let share_grew =
        i128::from(existing) * i128::from(before.1) > i128::from(before.0) * i128::from(total);
    if !existing_share_within_limit(existing, total) && (share_grew || before.1 == 0) {
        return Err(ApiError::Conflict(
            "Existing plants (commissioned before 16 Dec 2021) may make up at most 30% of the configuration's total power"
                .into(),
        ));
    }
    Ok(())
}

/// The PNRR grant's rules in force today, from the dated parameters; a missing one is named.
async fn pnrr_rules(state: &AppState) -> Result<PnrrRules, ApiError> {
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Rome)
        .date_naive();
    let value = |code: ParameterCode| async move {
        crud::settlement::parameter_on(&state.db, code, today)
            .await?
            .ok_or_else(|| {
                ApiError::Conflict(format!(
                    "no {} is valid on {today}: add one under /api/v1/market/parameters",
                    code.as_str()
                ))
            })
    };
    let max_population = value(ParameterCode::PnrrMaxPop).await? / 1_000_000;
    let last_day = value(ParameterCode::PnrrLastDay).await? / 1_000_000;
    let last_day = date_from_yyyymmdd(last_day).ok_or_else(|| {
        ApiError::Conflict(format!(
            "PNRR_LAST_DAY valid on {today} is not a date as yyyymmdd ({last_day})"
        ))
    })?;
    Ok(PnrrRules {
        max_population,
        last_day,
    })
}

async fn save(
    state: &AppState,
    current: &CurrentUser,
    member: &member::Model,
    draft: Draft,
    existing: Option<plant::Model>,
) -> Result<plant::Model, ApiError> {
    if !may_have_plants(member.role) {
        return Err(ApiError::Conflict(
            "Only producer or prosumer members have plants".into(),
        ));
    }
    let configuration =
        super::configurations::configuration_for_write(state, current, member.configuration_id)
            .await?;
    if configuration.kind == ConfigurationType::Cer
        && !is_existing_plant(draft.commissioned_on)
        && configuration
            .constituted_on
            .is_some_and(|constituted| draft.commissioned_on < constituted)
    {
        return Err(invalid_field(
            "commissioned_on",
            "A CER's new plants cannot be commissioned before the CER was constituted",
            "plant_rule",
        ));
    }
    if draft.capital_grant_ppm > 0 {
        let rules = pnrr_rules(state).await?;
        check_pnrr_grant(
            configuration.kind,
            configuration.municipality_population,
            draft.commissioned_on,
            rules,
        )
        .map_err(|(field, message)| invalid_field(field, message, "pnrr_rule"))?;
    }
    let txn = state.db.begin().await?;
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
