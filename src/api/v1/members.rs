//! `/members`: the PODs taking part in a configuration, with the GSE membership rules.
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::NaiveDate;
use sea_orm::{IntoActiveModel, Set, TransactionTrait};

use super::configurations::{configuration_for_write, total_count_header};
use super::plants::power_w;
use crate::api::deps::CurrentUser;
use crate::api::error::{ApiError, ErrorDetail, ValidationErrorBody, invalid_field};
use crate::api::extract::{ValidJson, ValidPath, ValidQuery};
use crate::app::AppState;
use crate::core::permissions::Permission;
use crate::crud;
use crate::crud::readings::apply_window_to_hours;
use crate::domain::community_rules::{
    check_member, is_final_customer, may_have_plants, memberships_overlap,
};
use crate::domain::pod::Pod;
use crate::imports::window_of;
use crate::models::enums::{
    ConfigurationStatus, ConfigurationType, HolderType, MemberRole, MemberStatus,
};
use crate::models::{configuration, member};
use crate::schemas::member::{MemberCreate, MemberListParams, MemberPublic, MemberUpdate};

#[utoipa::path(
    get,
    path = "/api/v1/members/",
    tag = "members",
    params(MemberListParams),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Members in scope; the total is in `X-Total-Count`", body = Vec<MemberPublic>,
         headers(("x-total-count" = u64, description = "Rows matching the filters"))),
        (status = 401, description = "Could not validate credentials", body = ErrorDetail),
        (status = 422, description = "Bad query parameter", body = ValidationErrorBody),
    )
)]
pub async fn list_members(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidQuery(params): ValidQuery<MemberListParams>,
) -> Result<(HeaderMap, Json<Vec<MemberPublic>>), ApiError> {
    current.require(Permission::ConfigurationsRead)?;
    let (rows, total) = crud::members::list(&state.db, current.community_scope(), &params).await?;
    Ok((
        total_count_header(total),
        Json(rows.into_iter().map(Into::into).collect()),
    ))
}

#[utoipa::path(
    post,
    path = "/api/v1/members/",
    tag = "members",
    request_body = MemberCreate,
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 201, description = "Created", body = MemberPublic),
        (status = 401, description = "Could not validate credentials", body = ErrorDetail),
        (status = 403, description = "The role may not manage members", body = ErrorDetail),
        (status = 409, description = "A membership rule is broken (POD already in a configuration, AID final customer, closed configuration)", body = ErrorDetail),
        (status = 422, description = "Invalid body or a member rule (large enterprise in a CER, net metering consumer)", body = ValidationErrorBody),
    )
)]
pub async fn create_member(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidJson(body): ValidJson<MemberCreate>,
) -> Result<(StatusCode, Json<MemberPublic>), ApiError> {
    current.require(Permission::MembersWrite)?;
    let configuration = configuration_for_write(&state, &current, body.configuration_id).await?;
    let pod =
        Pod::parse(&body.pod).map_err(|error| invalid_field("pod", error.to_string(), "pod"))?;
    let status = body.status.unwrap_or(MemberStatus::Active);
    let draft = Draft {
        pod: pod.into_string(),
        user_id: body.user_id,
        role: body.role,
        holder_type: body.holder_type,
        available_power_w: body
            .available_power_kw
            .map(|kw| power_w("available_power_kw", kw))
            .transpose()?,
        gse_notified_on: body.gse_notified_on,
        status,
        joined_at: body.joined_at,
        withdrawn_at: body.withdrawn_at,
        net_metering: body.net_metering,
    };
    let created = save(&state, &configuration, draft, None).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[utoipa::path(
    get,
    path = "/api/v1/members/{id}",
    tag = "members",
    params(("id" = i32, Path, description = "Member id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "The member", body = MemberPublic),
        (status = 401, description = "Could not validate credentials", body = ErrorDetail),
        (status = 404, description = "Member not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Bad id", body = ValidationErrorBody),
    )
)]
pub async fn read_member(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<Json<MemberPublic>, ApiError> {
    Ok(Json(visible_member(&state, &current, id).await?.into()))
}

/// Changes a membership. Withdraw with `{"status": "withdrawn", "withdrawn_at": "…"}`.
#[utoipa::path(
    patch,
    path = "/api/v1/members/{id}",
    tag = "members",
    params(("id" = i32, Path, description = "Member id")),
    request_body = MemberUpdate,
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Updated", body = MemberPublic),
        (status = 401, description = "Could not validate credentials", body = ErrorDetail),
        (status = 403, description = "The role may not manage members", body = ErrorDetail),
        (status = 404, description = "Member not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 409, description = "A membership rule is broken", body = ErrorDetail),
        (status = 422, description = "Invalid body or a member rule", body = ValidationErrorBody),
    )
)]
pub async fn update_member(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    ValidJson(body): ValidJson<MemberUpdate>,
) -> Result<Json<MemberPublic>, ApiError> {
    let existing = visible_member(&state, &current, id).await?;
    current.require(Permission::MembersWrite)?;
    let configuration =
        configuration_for_write(&state, &current, existing.configuration_id).await?;
    let draft = Draft {
        pod: existing.pod.clone(),
        user_id: body.user_id.unwrap_or(existing.user_id),
        role: body.role.unwrap_or(existing.role),
        holder_type: body.holder_type.unwrap_or(existing.holder_type),
        available_power_w: match body.available_power_kw {
            None => existing.available_power_w,
            Some(None) => None,
            Some(Some(kw)) => Some(power_w("available_power_kw", kw)?),
        },
        gse_notified_on: body.gse_notified_on.unwrap_or(existing.gse_notified_on),
        status: body.status.unwrap_or(existing.status),
        joined_at: body.joined_at.unwrap_or(existing.joined_at),
        withdrawn_at: body.withdrawn_at.unwrap_or(existing.withdrawn_at),
        net_metering: body.net_metering.unwrap_or(existing.net_metering),
    };
    Ok(Json(
        save(&state, &configuration, draft, Some(existing))
            .await?
            .into(),
    ))
}

#[utoipa::path(
    delete,
    path = "/api/v1/members/{id}",
    tag = "members",
    params(("id" = i32, Path, description = "Member id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Could not validate credentials", body = ErrorDetail),
        (status = 403, description = "The role may not manage members", body = ErrorDetail),
        (status = 404, description = "Member not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 409, description = "It has transactions or plants: withdraw it instead", body = ErrorDetail),
        (status = 422, description = "Bad id", body = ValidationErrorBody),
    )
)]
pub async fn delete_member(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<StatusCode, ApiError> {
    let existing = visible_member(&state, &current, id).await?;
    current.require(Permission::MembersWrite)?;
    let (plants, transactions) = crud::members::dependents(&state.db, id).await?;
    if transactions > 0 {
        return Err(ApiError::Conflict(
            "The member has transactions: withdraw it (status=withdrawn, withdrawn_at) instead"
                .into(),
        ));
    }
    if plants > 0 {
        return Err(ApiError::Conflict(
            "The member has plants: delete them first, or withdraw the member".into(),
        ));
    }
    let txn = state.db.begin().await?;
    let window = window_of(&existing.pod, existing.joined_at, existing.withdrawn_at);
    apply_window_to_hours(&txn, existing.configuration_id, &window, -1).await?;
    crud::members::delete(&txn, existing).await?;
    txn.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn visible_member(
    state: &AppState,
    current: &CurrentUser,
    id: i32,
) -> Result<member::Model, ApiError> {
    current.require(Permission::ConfigurationsRead)?;
    crud::members::find_in_scope(&state.db, current.community_scope(), id)
        .await?
        .ok_or_else(|| ApiError::not_found("Member"))
}

/// The membership as it will be after the write.
struct Draft {
    pod: String,
    user_id: Option<i32>,
    role: MemberRole,
    holder_type: HolderType,
    available_power_w: Option<i64>,
    gse_notified_on: Option<NaiveDate>,
    status: MemberStatus,
    joined_at: NaiveDate,
    withdrawn_at: Option<NaiveDate>,
    net_metering: bool,
}

/// Checks every rule and writes, in one transaction that holds the POD's and the
/// configuration's write locks, so that two concurrent writes cannot both pass the checks.
async fn save(
    state: &AppState,
    configuration: &configuration::Model,
    draft: Draft,
    existing: Option<member::Model>,
) -> Result<member::Model, ApiError> {
    if configuration.status == ConfigurationStatus::Closed {
        return Err(ApiError::Conflict("The configuration is closed".into()));
    }
    check_member(
        configuration.kind,
        draft.role,
        draft.holder_type,
        draft.net_metering,
    )
    .map_err(|rule| invalid_field(rule.field(), rule.message(), "membership_rule"))?;
    if draft.withdrawn_at.is_some_and(|end| end < draft.joined_at) {
        return Err(invalid_field(
            "withdrawn_at",
            "withdrawn_at cannot be before joined_at",
            "date_order",
        ));
    }
    if draft.status == MemberStatus::Withdrawn && draft.withdrawn_at.is_none() {
        return Err(invalid_field(
            "withdrawn_at",
            "A withdrawn member needs withdrawn_at",
            "conditionally_required",
        ));
    }
    if let Some(user_id) = draft.user_id {
        let same_organization = crud::users::find(&state.db, user_id)
            .await?
            .is_some_and(|user| user.organization_id == Some(configuration.organization_id));
        if !same_organization {
            return Err(invalid_field(
                "user_id",
                "User not found in the configuration's organization",
                "not_found",
            ));
        }
    }
    let aid_final_customer = configuration.kind == ConfigurationType::Aid
        && is_final_customer(draft.role)
        && draft.status != MemberStatus::Withdrawn;
    if aid_final_customer && draft.user_id.is_none() {
        return Err(invalid_field(
            "user_id",
            "In an AID every consumer POD must be linked to the final customer's account",
            "conditionally_required",
        ));
    }

    let existing_id = existing.as_ref().map(|m| m.id);
    let old_window = existing
        .as_ref()
        .map(|m| window_of(&m.pod, m.joined_at, m.withdrawn_at));
    let new_window = window_of(&draft.pod, draft.joined_at, draft.withdrawn_at);
    let txn = state.db.begin().await?;
    crud::write_lock(&txn, &format!("pod:{}", draft.pod)).await?;
    crud::write_lock(&txn, &format!("configuration:{}", configuration.id)).await?;

    let period = (draft.joined_at, draft.withdrawn_at);
    for other in crud::members::other_memberships_of_pod(&txn, &draft.pod, existing_id).await? {
        if memberships_overlap(period, (other.joined_at, other.withdrawn_at)) {
            return Err(ApiError::Conflict(format!(
                "POD {} already takes part in a configuration over an overlapping period: a POD belongs to one configuration at a time",
                draft.pod
            )));
        }
    }
    if aid_final_customer {
        let others = crud::members::in_configuration(&txn, configuration.id, existing_id).await?;
        let another_customer = others.iter().any(|m| {
            is_final_customer(m.role)
                && m.status != MemberStatus::Withdrawn
                && m.user_id != draft.user_id
        });
        if another_customer {
            return Err(ApiError::Conflict(
                "An AID has exactly one final customer: all its consumer PODs must belong to the same user".into(),
            ));
        }
    }
    if let Some(current) = &existing
        && may_have_plants(current.role)
        && !may_have_plants(draft.role)
        && crud::members::dependents(&txn, current.id).await?.0 > 0
    {
        return Err(ApiError::Conflict(
            "A member with plants must stay a producer or prosumer".into(),
        ));
    }

    let mut model = match existing {
        Some(current) => current.into_active_model(),
        None => member::ActiveModel {
            configuration_id: Set(configuration.id),
            pod: Set(draft.pod.clone()),
            ..Default::default()
        },
    };
    model.user_id = Set(draft.user_id);
    model.role = Set(draft.role);
    model.holder_type = Set(draft.holder_type);
    model.available_power_w = Set(draft.available_power_w);
    model.gse_notified_on = Set(draft.gse_notified_on);
    model.status = Set(draft.status);
    model.joined_at = Set(draft.joined_at);
    model.withdrawn_at = Set(draft.withdrawn_at);
    model.net_metering = Set(draft.net_metering);
    let saved = if existing_id.is_some() {
        crud::update(&txn, model).await?
    } else {
        crud::insert(&txn, model).await?
    };
    // The configuration's hourly totals follow the membership's dates.
    if old_window.as_ref() != Some(&new_window) {
        if let Some(old) = &old_window {
            apply_window_to_hours(&txn, configuration.id, old, -1).await?;
        }
        apply_window_to_hours(&txn, configuration.id, &new_window, 1).await?;
    }
    txn.commit().await?;
    Ok(saved)
}
