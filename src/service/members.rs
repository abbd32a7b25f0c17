//! Members: the PODs taking part in a configuration, under the GSE membership rules. Every
//! write keeps the configuration's hourly totals in step with the membership's dates.
use chrono::NaiveDate;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, IntoActiveModel, Set, TransactionSession, TransactionTrait,
};

use super::plants::power_w;
use super::{Actor, Claimed, Outcome, ServiceError, configurations, holders};
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
use crate::schemas::member::{MemberCreate, MemberListParams, MemberUpdate};

pub async fn list(
    actor: &Actor,
    db: &DatabaseConnection,
    params: &MemberListParams,
) -> Outcome<(Vec<member::Model>, u64)> {
    actor.require(Permission::ConfigurationsRead)?;
    Ok(crud::members::list(db, actor.community_scope(), params).await?)
}

/// [`list`] on an access token's claim, for the page worth it: one configuration's members,
/// unfiltered, with the claim checked in the page's own statement. `None`: another list, a role
/// that may not read, or nothing came back — load the user and call [`list`].
pub async fn list_claimed(
    claimed: &Claimed,
    db: &DatabaseConnection,
    params: &MemberListParams,
) -> Outcome<Option<(Vec<member::Model>, u64)>> {
    let Some((actor, guard)) = claimed.permitted(Permission::ConfigurationsRead) else {
        return Ok(None);
    };
    Ok(crud::members::list_if(db, actor.community_scope(), guard, params).await?)
}

/// A member in the actor's scope; any other is "not found".
pub async fn visible(actor: &Actor, db: &DatabaseConnection, id: i32) -> Outcome<member::Model> {
    actor.require(Permission::ConfigurationsRead)?;
    crud::members::find_in_scope(db, actor.community_scope(), id)
        .await?
        .ok_or(ServiceError::NotFound("Member"))
}

pub async fn create(
    actor: &Actor,
    db: &DatabaseConnection,
    input: MemberCreate,
) -> Outcome<member::Model> {
    actor.require(Permission::MembersWrite)?;
    let configuration = configurations::referenced(actor, db, input.configuration_id).await?;
    let pod = Pod::parse(&input.pod)
        .map_err(|error| ServiceError::invalid("pod", error.to_string(), "pod"))?;
    let (holder, holder_type) = match input.holder_id {
        Some(id) => named_holder(actor, db, id, &configuration, input.holder_type).await?,
        None => {
            let kind = input.holder_type.ok_or_else(|| {
                ServiceError::invalid(
                    "holder_type",
                    "Field required (or name the point's holder with holder_id)",
                    "missing",
                )
            })?;
            (HolderChoice::NewDraft, kind)
        }
    };
    let draft = Draft {
        pod: pod.into_string(),
        user_id: input.user_id,
        holder,
        role: input.role,
        holder_type,
        available_power_w: input
            .available_power_kw
            .map(|kw| power_w("available_power_kw", kw))
            .transpose()?,
        gse_notified_on: input.gse_notified_on,
        status: input.status.unwrap_or(MemberStatus::Active),
        joined_at: input.joined_at,
        withdrawn_at: input.withdrawn_at,
        net_metering: input.net_metering,
    };
    save(actor, db, &configuration, draft, None).await
}

/// The holder a write names with `holder_id`, and the point's holder type that follows from
/// it: a `holder_type` given beside it must be the holder's kind.
async fn named_holder(
    actor: &Actor,
    db: &DatabaseConnection,
    holder_id: i32,
    configuration: &configuration::Model,
    given: Option<HolderType>,
) -> Outcome<(HolderChoice, HolderType)> {
    let found = holders::for_member(actor, db, holder_id, configuration.organization_id).await?;
    match given {
        Some(kind) if kind != found.kind => Err(ServiceError::invalid(
            "holder_type",
            format!(
                "The holder is `{}`: a point's holder type is its holder's kind (change it on the holder)",
                found.kind.as_str()
            ),
            "holder_kind",
        )),
        _ => Ok((HolderChoice::Existing(found.id), found.kind)),
    }
}

/// Changes a membership; withdrawing is `status = withdrawn` with `withdrawn_at`.
pub async fn update(
    actor: &Actor,
    db: &DatabaseConnection,
    id: i32,
    input: MemberUpdate,
) -> Outcome<member::Model> {
    let existing = visible(actor, db, id).await?;
    actor.require(Permission::MembersWrite)?;
    let configuration = configurations::referenced(actor, db, existing.configuration_id).await?;
    let (holder, holder_type) = match (input.holder_id, existing.holder_id) {
        (Some(id), _) => named_holder(actor, db, id, &configuration, input.holder_type).await?,
        (None, Some(current)) => match input.holder_type {
            Some(kind) if kind != existing.holder_type => (HolderChoice::Retyped(current), kind),
            _ => (HolderChoice::Existing(current), existing.holder_type),
        },
        (None, None) => (
            HolderChoice::NewDraft,
            input.holder_type.unwrap_or(existing.holder_type),
        ),
    };
    let draft = Draft {
        pod: existing.pod.clone(),
        user_id: input.user_id.unwrap_or(existing.user_id),
        holder,
        role: input.role.unwrap_or(existing.role),
        holder_type,
        available_power_w: match input.available_power_kw {
            None => existing.available_power_w,
            Some(None) => None,
            Some(Some(kw)) => Some(power_w("available_power_kw", kw)?),
        },
        gse_notified_on: input.gse_notified_on.unwrap_or(existing.gse_notified_on),
        status: input.status.unwrap_or(existing.status),
        joined_at: input.joined_at.unwrap_or(existing.joined_at),
        withdrawn_at: input.withdrawn_at.unwrap_or(existing.withdrawn_at),
        net_metering: input.net_metering.unwrap_or(existing.net_metering),
    };
    save(actor, db, &configuration, draft, Some(existing)).await
}

/// Only a member without history can be deleted; one with history is withdrawn instead.
pub async fn delete(actor: &Actor, db: &DatabaseConnection, id: i32) -> Outcome<()> {
    let existing = visible(actor, db, id).await?;
    actor.require(Permission::MembersWrite)?;
    let (plants, transactions) = crud::members::dependents(db, id).await?;
    if transactions > 0 {
        return Err(ServiceError::conflict(
            "The member has transactions: withdraw it (status=withdrawn, withdrawn_at) instead",
        ));
    }
    if plants > 0 {
        return Err(ServiceError::conflict(
            "The member has plants: delete them first, or withdraw the member",
        ));
    }
    let txn = db.begin().await?;
    let window = window_of(
        existing.id,
        &existing.pod,
        existing.joined_at,
        existing.withdrawn_at,
    );
    apply_window_to_hours(&txn, existing.configuration_id, &window, -1).await?;
    crud::members::delete(&txn, existing).await?;
    txn.commit().await?;
    Ok(())
}

/// Whose point it is after the write.
pub(super) enum HolderChoice {
    Existing(i32),
    /// The same holder with a new kind, allowed while this is its only point.
    Retyped(i32),
    /// A draft holder registered with the member (none was named).
    NewDraft,
}

/// The membership as it will be after the write.
pub(super) struct Draft {
    pub(super) pod: String,
    pub(super) user_id: Option<i32>,
    pub(super) holder: HolderChoice,
    pub(super) role: MemberRole,
    pub(super) holder_type: HolderType,
    pub(super) available_power_w: Option<i64>,
    pub(super) gse_notified_on: Option<NaiveDate>,
    pub(super) status: MemberStatus,
    pub(super) joined_at: NaiveDate,
    pub(super) withdrawn_at: Option<NaiveDate>,
    pub(super) net_metering: bool,
}

/// Checks every rule and writes, in one transaction that holds the POD's and the
/// configuration's write locks, so that two concurrent writes cannot both pass the checks.
/// `db` is the pool, or the transaction of a larger write (an import): then this one is a
/// savepoint inside it, and the locks are held until that transaction ends.
pub(super) async fn save<C>(
    actor: &Actor,
    db: &C,
    configuration: &configuration::Model,
    draft: Draft,
    existing: Option<member::Model>,
) -> Outcome<member::Model>
where
    C: ConnectionTrait + TransactionTrait,
{
    if configuration.status == ConfigurationStatus::Closed {
        return Err(ServiceError::conflict("The configuration is closed"));
    }
    check_member(
        configuration.kind,
        draft.role,
        draft.holder_type,
        draft.net_metering,
    )
    .map_err(|rule| ServiceError::invalid(rule.field(), rule.message(), "membership_rule"))?;
    if draft.withdrawn_at.is_some_and(|end| end < draft.joined_at) {
        return Err(ServiceError::invalid(
            "withdrawn_at",
            "withdrawn_at cannot be before joined_at",
            "date_order",
        ));
    }
    if draft.status == MemberStatus::Withdrawn && draft.withdrawn_at.is_none() {
        return Err(ServiceError::invalid(
            "withdrawn_at",
            "A withdrawn member needs withdrawn_at",
            "conditionally_required",
        ));
    }
    if let Some(user_id) = draft.user_id {
        let same_organization = crud::users::find(db, user_id)
            .await?
            .is_some_and(|user| user.organization_id == Some(configuration.organization_id));
        if !same_organization {
            return Err(ServiceError::invalid(
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
        return Err(ServiceError::invalid(
            "user_id",
            "In an AID every consumer POD must be linked to the final customer's account",
            "conditionally_required",
        ));
    }

    let existing_id = existing.as_ref().map(|m| m.id);
    let old_window = existing
        .as_ref()
        .map(|m| window_of(m.id, &m.pod, m.joined_at, m.withdrawn_at));
    let txn = db.begin().await?;
    crud::write_lock(&txn, &format!("pod:{}", draft.pod)).await?;
    crud::write_lock(&txn, &format!("configuration:{}", configuration.id)).await?;

    let period = (draft.joined_at, draft.withdrawn_at);
    for other in crud::members::other_memberships_of_pod(&txn, &draft.pod, existing_id).await? {
        if memberships_overlap(period, (other.joined_at, other.withdrawn_at)) {
            return Err(ServiceError::conflict(format!(
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
            return Err(ServiceError::conflict(
                "An AID has exactly one final customer: all its consumer PODs must belong to the same user",
            ));
        }
    }
    if let Some(current) = &existing
        && may_have_plants(current.role)
        && !may_have_plants(draft.role)
        && crud::members::dependents(&txn, current.id).await?.0 > 0
    {
        return Err(ServiceError::conflict(
            "A member with plants must stay a producer or prosumer",
        ));
    }

    let holder_id = match draft.holder {
        HolderChoice::Existing(id) => id,
        HolderChoice::Retyped(id) => {
            holders::retype_sole_point(&txn, actor, id, existing_id, draft.holder_type).await?;
            id
        }
        HolderChoice::NewDraft => {
            holders::create_draft_for_member(
                &txn,
                actor,
                configuration.organization_id,
                draft.holder_type,
            )
            .await?
            .id
        }
    };
    let mut model = match existing {
        Some(current) => current.into_active_model(),
        None => member::ActiveModel {
            configuration_id: Set(configuration.id),
            pod: Set(draft.pod.clone()),
            ..Default::default()
        },
    };
    model.user_id = Set(draft.user_id);
    model.holder_id = Set(Some(holder_id));
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
    let new_window = window_of(saved.id, &saved.pod, saved.joined_at, saved.withdrawn_at);
    if old_window.as_ref() != Some(&new_window) {
        if let Some(old) = &old_window {
            apply_window_to_hours(&txn, configuration.id, old, -1).await?;
        }
        apply_window_to_hours(&txn, configuration.id, &new_window, 1).await?;
    }
    txn.commit().await?;
    Ok(saved)
}
