//! Configurations (CER, AUC, AID): who may create, change, move and delete them.
use chrono::Utc;
use sea_orm::{DatabaseConnection, IntoActiveModel, Set};

use super::{Actor, Outcome, ServiceError};
use crate::core::permissions::Permission;
use crate::crud;
use crate::domain::community_rules::status_transition_allowed;
use crate::models::configuration;
use crate::models::enums::{ConfigurationStatus, Role};
use crate::schemas::common::clean;
use crate::schemas::configuration::{
    ConfigurationCreate, ConfigurationListParams, ConfigurationUpdate,
};

pub async fn list(
    actor: &Actor,
    db: &DatabaseConnection,
    params: &ConfigurationListParams,
) -> Outcome<(Vec<configuration::Model>, u64)> {
    actor.require(Permission::ConfigurationsRead)?;
    Ok(crud::configurations::list(db, actor.community_scope(), params).await?)
}

/// A configuration in the actor's scope; any other is "not found".
pub async fn visible(
    actor: &Actor,
    db: &DatabaseConnection,
    id: i32,
) -> Outcome<configuration::Model> {
    actor.require(Permission::ConfigurationsRead)?;
    crud::configurations::find_in_scope(db, actor.community_scope(), id)
        .await?
        .ok_or(ServiceError::NotFound("Configuration"))
}

/// A configuration in the actor's scope, if its role also has `permission` (a role without it
/// is refused only once the configuration is known to be visible: 404 before 403).
pub async fn visible_for(
    actor: &Actor,
    db: &DatabaseConnection,
    id: i32,
    permission: Permission,
) -> Outcome<configuration::Model> {
    let configuration = visible(actor, db, id).await?;
    actor.require(permission)?;
    Ok(configuration)
}

/// A configuration named by an input's `configuration_id`: one outside the scope is an
/// invalid field, not a missing page.
pub async fn referenced(
    actor: &Actor,
    db: &DatabaseConnection,
    id: i32,
) -> Outcome<configuration::Model> {
    crud::configurations::find_in_scope(db, actor.community_scope(), id)
        .await?
        .ok_or_else(not_referable)
}

/// A `configuration_id` in a body that names no configuration the actor sees.
pub fn not_referable() -> ServiceError {
    ServiceError::invalid("configuration_id", "Configuration not found", "not_found")
}

pub async fn create(
    actor: &Actor,
    db: &DatabaseConnection,
    input: ConfigurationCreate,
) -> Outcome<configuration::Model> {
    actor.require(Permission::ConfigurationsCreate)?;
    let organization_id = match (
        actor.may(Permission::AnyOrganization),
        input.organization_id,
    ) {
        (true, Some(id)) => id,
        (true, None) => {
            return Err(ServiceError::invalid(
                "organization_id",
                "Field required",
                "conditionally_required",
            ));
        }
        (false, requested) => {
            let own = actor.organization_id.ok_or(ServiceError::Forbidden)?;
            if requested.is_some_and(|id| id != own) {
                return Err(organization_not_found());
            }
            own
        }
    };
    check_organization(actor, db, organization_id).await?;
    check_referent(db, organization_id, input.referent_id).await?;
    let model = configuration::ActiveModel {
        organization_id: Set(organization_id),
        name: Set(input.name.trim().to_string()),
        kind: Set(input.kind),
        status: Set(ConfigurationStatus::Draft),
        primary_substation: Set(input.primary_substation.trim().to_ascii_uppercase()),
        market_zone: Set(input.market_zone),
        region: Set(input.region),
        referent_id: Set(input.referent_id),
        description: Set(clean(input.description.as_deref())),
        constituted_on: Set(input.constituted_on),
        activation_date: Set(None),
        municipality_population: Set(input.municipality_population),
        accepts_join_requests: Set(input.accepts_join_requests),
        privacy_notice_version: Set(clean(input.privacy_notice_version.as_deref())),
        statute_version: Set(clean(input.statute_version.as_deref())),
        ..Default::default()
    };
    Ok(crud::insert(db, model).await?)
}

pub async fn update(
    actor: &Actor,
    db: &DatabaseConnection,
    id: i32,
    input: ConfigurationUpdate,
) -> Outcome<configuration::Model> {
    let existing = visible(actor, db, id).await?;
    actor.require(Permission::ConfigurationsUpdate)?;
    let moves_organization = input
        .organization_id
        .is_some_and(|org| org != existing.organization_id);
    let changes_referent = input
        .referent_id
        .is_some_and(|referent| referent != existing.referent_id);
    if moves_organization {
        actor.require(Permission::ConfigurationsMove)?;
    }
    if changes_referent {
        actor.require(Permission::ConfigurationsAssignReferent)?;
    }
    let organization_id = input.organization_id.unwrap_or(existing.organization_id);
    if moves_organization {
        check_organization(actor, db, organization_id).await?;
    }
    let referent_id = input.referent_id.unwrap_or(existing.referent_id);
    if moves_organization || changes_referent {
        check_referent(db, organization_id, referent_id).await?;
    }
    let mut model = existing.clone().into_active_model();
    if let Some(status) = input.status {
        if !status_transition_allowed(existing.status, status) {
            return Err(ServiceError::conflict(format!(
                "A configuration cannot move from {} to {}",
                existing.status.as_str(),
                status.as_str()
            )));
        }
        if status == ConfigurationStatus::Active && existing.activation_date.is_none() {
            model.activation_date = Set(Some(Utc::now().date_naive()));
        }
        model.status = Set(status);
    }
    if let Some(name) = &input.name {
        model.name = Set(name.trim().to_string());
    }
    if let Some(code) = &input.primary_substation {
        model.primary_substation = Set(code.trim().to_ascii_uppercase());
    }
    if let Some(zone) = input.market_zone {
        model.market_zone = Set(zone);
    }
    if let Some(region) = input.region {
        model.region = Set(region);
    }
    if let Some(description) = &input.description {
        model.description = Set(clean(description.as_deref()));
    }
    if let Some(constituted_on) = input.constituted_on {
        model.constituted_on = Set(constituted_on);
    }
    if let Some(activation_date) = input.activation_date {
        model.activation_date = Set(activation_date);
    }
    if let Some(open) = input.accepts_join_requests {
        model.accepts_join_requests = Set(open);
    }
    if let Some(version) = &input.privacy_notice_version {
        model.privacy_notice_version = Set(clean(version.as_deref()));
    }
    if let Some(version) = &input.statute_version {
        model.statute_version = Set(clean(version.as_deref()));
    }
    if let Some(population) = input.municipality_population {
        model.municipality_population = Set(population);
    }
    model.organization_id = Set(organization_id);
    model.referent_id = Set(referent_id);
    Ok(crud::update(db, model).await?)
}

/// Only an empty configuration can be deleted; one with history is closed instead.
pub async fn delete(actor: &Actor, db: &DatabaseConnection, id: i32) -> Outcome<()> {
    let existing = visible(actor, db, id).await?;
    actor.require(Permission::ConfigurationsDelete)?;
    let held = crud::configurations::dependents(db, id).await?;
    if held.any() {
        return Err(ServiceError::conflict(format!(
            "The configuration has {} member(s), {} transaction(s), {} settlement run(s) and {} \
             meter-data import(s): close it instead (PATCH its status to `closed`)",
            held.members, held.transactions, held.settlement_runs, held.imports
        )));
    }
    // A member, run or import added meanwhile makes the foreign key refuse: also a 409.
    crud::configurations::delete(db, existing).await?;
    Ok(())
}

fn organization_not_found() -> ServiceError {
    ServiceError::invalid("organization_id", "Organization not found", "not_found")
}

async fn check_organization(
    actor: &Actor,
    db: &DatabaseConnection,
    organization_id: i32,
) -> Outcome<()> {
    crud::organizations::find_in_scope(db, actor.organization_scope(), organization_id)
        .await?
        .map(|_| ())
        .ok_or_else(organization_not_found)
}

/// The referent must be a `referent` account of the configuration's organization.
async fn check_referent(
    db: &DatabaseConnection,
    organization_id: i32,
    referent_id: Option<i32>,
) -> Outcome<()> {
    let Some(referent_id) = referent_id else {
        return Ok(());
    };
    match crud::users::find(db, referent_id).await? {
        Some(user)
            if user.organization_id == Some(organization_id) && user.role == Role::Referent =>
        {
            Ok(())
        }
        _ => Err(ServiceError::invalid(
            "referent_id",
            "The referent must be a referent account of the configuration's organization",
            "not_found",
        )),
    }
}

/// What a configuration's operators should look at on its dashboard.
pub struct Situation {
    /// Members in the configuration, and plants of theirs, GSE has not been told of.
    pub members_not_notified: u64,
    pub plants_not_notified: u64,
    /// The three months before this one, oldest first: members in the configuration in the
    /// month, and how many of their PODs have any meter data in it.
    pub months: Vec<(crate::domain::month::Period, u64, u64)>,
    /// Periods of this year and the last whose GSE figures differ from the finalised runs.
    pub gse_differs: Vec<String>,
}

pub async fn situation(actor: &Actor, db: &DatabaseConnection, id: i32) -> Outcome<Situation> {
    use chrono::Datelike;
    let configuration = visible(actor, db, id).await?;
    actor.require(Permission::ConfigurationDataRead)?;
    let (members_not_notified, plants_not_notified) =
        crud::members::not_notified(db, configuration.id).await?;
    let today = super::italian_today();
    let this_month = today.with_day(1).unwrap_or(today);
    let mut months = Vec::new();
    for back in 1..=3 {
        let Some(first) = this_month.checked_sub_months(chrono::Months::new(back)) else {
            continue;
        };
        let month = crate::domain::month::Period::of(first);
        let (first, last) = (month.start, month.end);
        let curve = crate::domain::curves::CurveMonth::of(first);
        let (members, with_data) =
            crud::members::with_data_in_month(db, configuration.id, first, last, curve.start)
                .await?;
        months.push((month, members, with_data));
    }
    months.reverse();
    let mut gse_differs = Vec::new();
    if actor.may(Permission::GseReconciliation) {
        for year in [today.year() - 1, today.year()] {
            let reconciliation =
                super::gse::reconciliation(actor, db, configuration.id, year, None, None).await?;
            gse_differs.extend(
                reconciliation
                    .periods
                    .into_iter()
                    .filter(|p| p.status == crate::domain::reconciliation::Verdict::Differs)
                    .map(|p| p.period),
            );
        }
    }
    Ok(Situation {
        members_not_notified,
        plants_not_notified,
        months,
        gse_differs,
    })
}
