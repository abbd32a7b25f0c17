//! Joining a configuration: a newcomer asks through the public form (no account), confirms the
//! e-mail address through a mailed single-use link, and the referent approves — the holder and
//! its points are registered, the memberships start, GSE is still to be told — or rejects with
//! a reason. The applicant hears of either by mail, in its language.
//!
//! The form is public, so it is limited per client address and per configuration, counted in
//! the database (every instance sees the same counts).
use std::collections::BTreeSet;
use std::net::IpAddr;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{DatabaseConnection, Set, TransactionTrait};
use serde_json::json;

use super::holders::{self, Fields, Registration};
use super::members::{self, Draft, HolderChoice};
use super::{Actor, Outcome, Problem, ServiceError, TokenProblem, links};
use crate::core::config::Settings;
use crate::core::permissions::Permission;
use crate::crud;
use crate::crud::join_requests::RecentFilter;
use crate::domain::community_rules::check_member;
use crate::domain::mail::MailTemplate;
use crate::domain::pod::Pod;
use crate::mail::Mailer;
use crate::models::enums::{
    ConfigurationStatus, ConsentKind, ConsentMethod, JoinRequestStatus, Language, MemberStatus,
    TokenPurpose,
};
use crate::models::{configuration, join_request};
use crate::schemas::holder::ConsentGiven;
use crate::schemas::join_request::{JoinConsent, JoinPoint, JoinRequestCreate};

/// How long the verification link works.
const VERIFICATION_HOURS: i64 = 48;

/// A configuration taking requests: it exists, is open to them and is not closed. Any other
/// answers the same "not found", so the form does not reveal configurations.
pub async fn open_configuration(db: &DatabaseConnection, id: i32) -> Outcome<configuration::Model> {
    use sea_orm::EntityTrait;
    configuration::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|c| c.accepts_join_requests && c.status != ConfigurationStatus::Closed)
        .ok_or(ServiceError::NotFound(
            "Configuration open to join requests",
        ))
}

/// Receives a request: every field checked as a holder's would be (all problems at once), the
/// limits applied, the request stored `unverified` and the verification link mailed.
pub async fn submit(
    db: &DatabaseConnection,
    mailer: &Mailer,
    settings: &Settings,
    configuration_id: i32,
    input: JoinRequestCreate,
    client: Option<IpAddr>,
) -> Outcome<join_request::Model> {
    let configuration = open_configuration(db, configuration_id).await?;
    let (fields, points, consents) = checked(&configuration, &input)?;
    let email = fields.email.clone().ok_or_else(|| {
        ServiceError::invalid("email", "The e-mail address is required", "missing")
    })?;
    let now = Utc::now();
    let address = client.map(|ip| ip.to_string());
    let language = input.language.unwrap_or(Language::It);

    let txn = db.begin().await?;
    // One configuration's requests are counted and written one at a time, so that concurrent
    // requests cannot all pass the count.
    crud::write_lock(&txn, &format!("join_requests:{configuration_id}")).await?;
    if let Some(address) = &address {
        let (count, oldest) = crud::join_requests::recent(
            &txn,
            RecentFilter::Address(address),
            now - Duration::hours(1),
        )
        .await?;
        if count >= u64::from(settings.join_requests_per_address_per_hour) {
            return Err(limited(
                "Too many join requests from this address: try again later",
                oldest,
                Duration::hours(1),
                now,
            ));
        }
    }
    let (count, oldest) = crud::join_requests::recent(
        &txn,
        RecentFilter::Configuration(configuration_id),
        now - Duration::days(1),
    )
    .await?;
    if count >= u64::from(settings.join_requests_per_configuration_per_day) {
        return Err(limited(
            "This configuration has received too many join requests today: try again later",
            oldest,
            Duration::days(1),
            now,
        ));
    }
    let request = crud::join_requests::insert(
        &txn,
        join_request::ActiveModel {
            configuration_id: Set(configuration_id),
            status: Set(JoinRequestStatus::Unverified),
            kind: Set(input.kind),
            first_name: Set(fields.first_name.clone()),
            last_name: Set(fields.last_name.clone()),
            company_name: Set(fields.company_name.clone()),
            fiscal_code: Set(fields.fiscal_code.clone()),
            vat_number: Set(fields.vat_number.clone()),
            street: Set(fields.street.clone()),
            postcode: Set(fields.postcode.clone()),
            municipality: Set(fields.municipality.clone()),
            province: Set(fields.province.clone()),
            email: Set(email.clone()),
            phone: Set(fields.phone.clone()),
            iban: Set(fields.iban.clone()),
            language: Set(language),
            points: Set(serde_json::to_string(&points).map_err(anyhow::Error::from)?),
            consents: Set(serde_json::to_string(&consents).map_err(anyhow::Error::from)?),
            client_address: Set(address),
            created_at: Set(now),
            verified_at: Set(None),
            decided_at: Set(None),
            decided_by: Set(None),
            decision_reason: Set(None),
            holder_id: Set(None),
            joined_at: Set(None),
            ..Default::default()
        },
    )
    .await?;
    let token = links::issue(
        &txn,
        TokenPurpose::JoinVerification,
        None,
        Some(request.id),
        Duration::hours(VERIFICATION_HOURS),
    )
    .await?;
    mailer
        .queue(
            &txn,
            &email,
            language,
            MailTemplate::JoinVerification,
            json!({
                "name": applicant_name(&request),
                "configuration": configuration.name,
                "link": format!("{}/join-requests/verify?token={token}", settings.public_url()),
                "valid_hours": VERIFICATION_HOURS,
            }),
        )
        .await?;
    txn.commit().await?;
    mailer.wake();
    tracing::info!(
        join_request_id = request.id,
        configuration_id,
        "join request received"
    );
    Ok(request)
}

fn limited(
    detail: &str,
    oldest: Option<DateTime<Utc>>,
    window: Duration,
    now: DateTime<Utc>,
) -> ServiceError {
    let free_at = oldest.map_or(now + window, |oldest| oldest + window);
    ServiceError::RateLimited {
        detail: detail.to_string(),
        retry_after: crate::domain::login_throttle::retry_after_seconds(free_at - now),
    }
}

/// The request's fields as a holder's (validated, normalised), its points (parsed, distinct,
/// admitted by the configuration's rules) and its consents (the required ones present, each
/// kind once) — or every problem at once.
fn checked(
    configuration: &configuration::Model,
    input: &JoinRequestCreate,
) -> Outcome<(Fields, Vec<JoinPoint>, Vec<JoinConsent>)> {
    let mut problems = Vec::new();
    let fields = Fields {
        first_name: input.first_name.clone(),
        last_name: input.last_name.clone(),
        company_name: input.company_name.clone(),
        fiscal_code: input.fiscal_code.clone(),
        vat_number: input.vat_number.clone(),
        street: input.street.clone(),
        postcode: input.postcode.clone(),
        municipality: input.municipality.clone(),
        province: input.province.clone(),
        email: Some(input.email.clone()),
        phone: input.phone.clone(),
        iban: input.iban.clone(),
    }
    .validated(input.kind);
    let fields = match fields {
        Ok(fields) => {
            problems.extend(fields.missing_for_activation(input.kind));
            Some(fields)
        }
        Err(found) => {
            problems.extend(found);
            None
        }
    };
    if input.points.is_empty() {
        problems.push(Problem::at_field(
            "points",
            "Name at least one point (POD) to join with",
            "missing",
        ));
    }
    let mut points = Vec::new();
    let mut seen = BTreeSet::new();
    for (index, point) in input.points.iter().enumerate() {
        let at = |name: &str, message: String, kind: &str| {
            Problem::at_item("points", index, name, message, kind)
        };
        match Pod::parse(&point.pod) {
            Err(error) => problems.push(at("pod", error.to_string(), "pod")),
            Ok(pod) if !seen.insert(pod.as_str().to_string()) => {
                problems.push(at("pod", format!("{pod} is listed twice"), "duplicate"))
            }
            Ok(pod) => {
                if let Err(rule) = check_member(configuration.kind, point.role, input.kind, false) {
                    problems.push(at("role", rule.message().to_string(), "membership_rule"));
                }
                points.push(JoinPoint {
                    pod: pod.as_str().to_string(),
                    role: point.role,
                });
            }
        }
    }
    let mut consents: Vec<JoinConsent> = Vec::new();
    for (index, consent) in input.consents.iter().enumerate() {
        let version = consent.document_version.trim();
        if version.is_empty() {
            problems.push(Problem::at_item(
                "consents",
                index,
                "document_version",
                "The document version says nothing",
                "missing",
            ));
        } else if let Some(in_force) = in_force(configuration, consent.kind)
            && in_force != version
        {
            problems.push(Problem::at_item(
                "consents",
                index,
                "document_version",
                format!(
                    "The {} in force is version {in_force}: accept that one",
                    consent.kind.as_str().replace('_', " ")
                ),
                "document_version",
            ));
        } else if consents.iter().any(|c| c.kind == consent.kind) {
            problems.push(Problem::at_item(
                "consents",
                index,
                "kind",
                format!("The {} consent is given twice", consent.kind.as_str()),
                "duplicate",
            ));
        } else {
            consents.push(JoinConsent {
                kind: consent.kind,
                document_version: version.to_string(),
            });
        }
    }
    for required in [ConsentKind::PrivacyNotice, ConsentKind::Statute] {
        if !input.consents.iter().any(|c| c.kind == required) {
            problems.push(Problem::at_field(
                "consents",
                format!(
                    "The {} consent is required to join (with the version of the document accepted)",
                    required.as_str()
                ),
                "missing",
            ));
        }
    }
    match fields {
        Some(fields) if problems.is_empty() => Ok((fields, points, consents)),
        _ => Err(ServiceError::Invalid(problems)),
    }
}

/// The version of the document behind a consent that the configuration has published, if any
/// (communications are consented to under the privacy notice).
pub fn in_force(configuration: &configuration::Model, kind: ConsentKind) -> Option<&str> {
    match kind {
        ConsentKind::PrivacyNotice | ConsentKind::Communications => {
            configuration.privacy_notice_version.as_deref()
        }
        ConsentKind::Statute => configuration.statute_version.as_deref(),
    }
}

fn applicant_name(request: &join_request::Model) -> String {
    match (
        &request.first_name,
        &request.last_name,
        &request.company_name,
    ) {
        (_, _, Some(company)) => company.clone(),
        (Some(first), Some(last), None) => format!("{first} {last}"),
        (Some(name), None, None) | (None, Some(name), None) => name.clone(),
        (None, None, None) => request.email.clone(),
    }
}

/// Confirms the applicant's e-mail address with the mailed link: the request goes to the
/// referent's review. The link is single-use.
pub async fn verify(db: &DatabaseConnection, token: &str) -> Outcome<join_request::Model> {
    let now = Utc::now();
    let link = links::usable(db, TokenPurpose::JoinVerification, token, now).await?;
    let id = link
        .subject_id
        .ok_or(ServiceError::InvalidToken(TokenProblem::Unknown))?;
    let txn = db.begin().await?;
    links::spend(&txn, &link, now).await?;
    crud::join_requests::transition(
        &txn,
        id,
        &[JoinRequestStatus::Unverified],
        JoinRequestStatus::Pending,
        join_request::Column::VerifiedAt,
        now,
    )
    .await?;
    txn.commit().await?;
    crud::join_requests::find(db, id)
        .await?
        .ok_or(ServiceError::InvalidToken(TokenProblem::Unknown))
}

/// The configuration's name, for the page that confirms a verification.
pub async fn configuration_name(
    db: &DatabaseConnection,
    request: &join_request::Model,
) -> Outcome<String> {
    use sea_orm::EntityTrait;
    Ok(configuration::Entity::find_by_id(request.configuration_id)
        .one(db)
        .await?
        .map(|c| c.name)
        .unwrap_or_default())
}

/// A configuration's requests, for those who run it.
pub async fn list(
    actor: &Actor,
    db: &DatabaseConnection,
    configuration_id: i32,
    status: Option<JoinRequestStatus>,
    skip: u64,
    limit: u64,
) -> Outcome<(Vec<join_request::Model>, u64)> {
    actor.require(Permission::JoinRequestsReview)?;
    super::configurations::visible(actor, db, configuration_id).await?;
    Ok(crud::join_requests::list(db, configuration_id, status, skip, limit).await?)
}

/// One request, if its configuration is in the actor's scope.
pub async fn visible(
    actor: &Actor,
    db: &DatabaseConnection,
    id: i32,
) -> Outcome<(join_request::Model, configuration::Model)> {
    actor.require(Permission::JoinRequestsReview)?;
    let request = crud::join_requests::find(db, id)
        .await?
        .ok_or(ServiceError::NotFound("Join request"))?;
    let configuration =
        crud::configurations::find_in_scope(db, actor.community_scope(), request.configuration_id)
            .await?
            .ok_or(ServiceError::NotFound("Join request"))?;
    Ok((request, configuration))
}

fn undecidable(request: &join_request::Model) -> Option<ServiceError> {
    match request.status {
        JoinRequestStatus::Pending => None,
        JoinRequestStatus::Unverified => Some(ServiceError::conflict(
            "The applicant has not confirmed the e-mail address yet",
        )),
        done => Some(ServiceError::conflict(format!(
            "The request was already {}",
            done.as_str()
        ))),
    }
}

/// Approves a confirmed request: in one transaction the holder is registered (or found by its
/// fiscal code in the organization, its consents added) and activated, each point becomes a
/// member from `joined_at` (default today) with the GSE notification still to do, and the
/// applicant is mailed. Any rule a point breaks (a POD already in a configuration, …) refuses
/// the whole approval.
pub async fn approve(
    actor: &Actor,
    db: &DatabaseConnection,
    mailer: &Mailer,
    id: i32,
    joined_at: Option<NaiveDate>,
) -> Outcome<join_request::Model> {
    actor.require(Permission::MembersWrite)?;
    actor.require(Permission::HoldersWrite)?;
    let (request, configuration) = visible(actor, db, id).await?;
    if let Some(refusal) = undecidable(&request) {
        return Err(refusal);
    }
    let joined_at = joined_at.unwrap_or_else(super::italian_today);
    let points: Vec<JoinPoint> =
        serde_json::from_str(&request.points).map_err(anyhow::Error::from)?;
    let consents: Vec<JoinConsent> =
        serde_json::from_str(&request.consents).map_err(anyhow::Error::from)?;
    let given: Vec<ConsentGiven> = consents
        .iter()
        .map(|c| ConsentGiven {
            kind: c.kind,
            document_version: c.document_version.clone(),
            method: ConsentMethod::WebForm,
            given_at: Some(request.created_at),
        })
        .collect();
    let now = Utc::now();

    let txn = db.begin().await?;
    crud::write_lock(&txn, &format!("join_request:{id}")).await?;
    let request = crud::join_requests::find(&txn, id)
        .await?
        .ok_or(ServiceError::NotFound("Join request"))?;
    if let Some(refusal) = undecidable(&request) {
        return Err(refusal);
    }
    let fields = Fields {
        first_name: request.first_name.clone(),
        last_name: request.last_name.clone(),
        company_name: request.company_name.clone(),
        fiscal_code: request.fiscal_code.clone(),
        vat_number: request.vat_number.clone(),
        street: request.street.clone(),
        postcode: request.postcode.clone(),
        municipality: request.municipality.clone(),
        province: request.province.clone(),
        email: Some(request.email.clone()),
        phone: request.phone.clone(),
        iban: request.iban.clone(),
    };
    let known = match &request.fiscal_code {
        Some(code) => {
            crud::holders::with_fiscal_code(&txn, configuration.organization_id, code, None).await?
        }
        None => None,
    };
    let holder = match known {
        Some(holder) => {
            crud::write_lock(&txn, &format!("holder:{}", holder.id)).await?;
            for consent in &given {
                crud::insert(
                    &txn,
                    holders::consent_model(holder.id, consent, Some(actor.user_id)),
                )
                .await?;
            }
            holder
        }
        None => {
            let registration = Registration {
                organization_id: configuration.organization_id,
                kind: request.kind,
                language: request.language,
                user_id: None,
                fields,
            };
            let created = holders::register_in(&txn, actor, registration, &given).await?;
            holders::activate_in(&txn, actor, created).await?
        }
    };
    let mut pods = Vec::new();
    for point in &points {
        let draft = Draft {
            pod: point.pod.clone(),
            user_id: None,
            holder: HolderChoice::Existing(holder.id),
            role: point.role,
            holder_type: holder.kind,
            available_power_w: None,
            gse_notified_on: None,
            status: MemberStatus::Active,
            joined_at,
            withdrawn_at: None,
            net_metering: false,
        };
        members::save(actor, &txn, &configuration, draft, None).await?;
        pods.push(point.pod.clone());
    }
    let mut model: join_request::ActiveModel = request.clone().into();
    model.status = Set(JoinRequestStatus::Approved);
    model.decided_at = Set(Some(now));
    model.decided_by = Set(Some(actor.user_id));
    model.holder_id = Set(Some(holder.id));
    model.joined_at = Set(Some(joined_at));
    let saved = crud::update(&txn, model).await?;
    mailer
        .queue(
            &txn,
            &request.email,
            request.language,
            MailTemplate::JoinApproved,
            json!({
                "name": applicant_name(&request),
                "configuration": configuration.name,
                "joined_at": joined_at.format("%d/%m/%Y").to_string(),
                "pods": pods,
            }),
        )
        .await?;
    txn.commit().await?;
    mailer.wake();
    Ok(saved)
}

/// Rejects a request with the reason the applicant is told. An unconfirmed request (perhaps
/// not the address owner's) is rejected without a mail.
pub async fn reject(
    actor: &Actor,
    db: &DatabaseConnection,
    mailer: &Mailer,
    id: i32,
    reason: &str,
) -> Outcome<join_request::Model> {
    let (_, configuration) = visible(actor, db, id).await?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ServiceError::invalid(
            "reason",
            "The reason says nothing",
            "missing",
        ));
    }
    let now = Utc::now();
    let txn = db.begin().await?;
    crud::write_lock(&txn, &format!("join_request:{id}")).await?;
    let request = crud::join_requests::find(&txn, id)
        .await?
        .ok_or(ServiceError::NotFound("Join request"))?;
    let verified = request.status == JoinRequestStatus::Pending;
    if !verified && request.status != JoinRequestStatus::Unverified {
        return Err(undecidable(&request).expect("a decided request"));
    }
    let mut model: join_request::ActiveModel = request.clone().into();
    model.status = Set(JoinRequestStatus::Rejected);
    model.decided_at = Set(Some(now));
    model.decided_by = Set(Some(actor.user_id));
    model.decision_reason = Set(Some(reason.to_string()));
    let saved = crud::update(&txn, model).await?;
    if verified {
        mailer
            .queue(
                &txn,
                &request.email,
                request.language,
                MailTemplate::JoinRejected,
                json!({
                    "name": applicant_name(&request),
                    "configuration": configuration.name,
                    "reason": reason,
                }),
            )
            .await?;
    }
    txn.commit().await?;
    mailer.wake();
    Ok(saved)
}
