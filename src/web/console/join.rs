//! The public page on which a newcomer asks to join a configuration, without an account: the
//! same use case as the API's `POST /configurations/{id}/join-requests` (every field checked as
//! a holder's, the limits per address and per configuration, the confirmation link mailed).
//! The page shows the versions of the privacy notice and statute the configuration has
//! published and records them with the consents; without them the page is not offered. There
//! is no session, so the form's CSRF token is a double-submit cookie, as on the sign-in page.
use std::collections::BTreeMap;

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::{
    JOIN_CSRF_COOKIE, double_submit_ok, message_page, not_found, path_id, render, with_form_token,
};
use crate::api::extract::ClientAddress;
use crate::api::state::AppState;
use crate::core::security::random_token;
use crate::domain::community_rules::check_member;
use crate::models::configuration;
use crate::models::enums::{ConsentKind, HolderType, Language, MemberRole};
use crate::schemas::join_request::{JoinConsent, JoinPoint, JoinRequestCreate};
use crate::service::{self, Place, ServiceError};
use crate::web::{language, strings, text};

/// Rows for points on the page (the API takes up to ten).
const POINT_ROWS: usize = 3;

/// What the person typed, given back with the refusals.
#[derive(Deserialize, Serialize, Default, Clone)]
pub struct JoinFields {
    #[serde(default, skip_serializing)]
    csrf: Option<String>,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    company_name: String,
    #[serde(default)]
    fiscal_code: String,
    #[serde(default)]
    vat_number: String,
    #[serde(default)]
    street: String,
    #[serde(default)]
    postcode: String,
    #[serde(default)]
    municipality: String,
    #[serde(default)]
    province: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    iban: String,
    #[serde(default)]
    pod_0: String,
    #[serde(default)]
    role_0: String,
    #[serde(default)]
    pod_1: String,
    #[serde(default)]
    role_1: String,
    #[serde(default)]
    pod_2: String,
    #[serde(default)]
    role_2: String,
    #[serde(default)]
    privacy_notice: Option<String>,
    #[serde(default)]
    statute: Option<String>,
    #[serde(default)]
    communications: Option<String>,
}

impl JoinFields {
    fn points(&self) -> [(&str, &str); POINT_ROWS] {
        [
            (&self.pod_0, &self.role_0),
            (&self.pod_1, &self.role_1),
            (&self.pod_2, &self.role_2),
        ]
    }
}

#[derive(Serialize)]
struct Choice {
    value: &'static str,
    label: String,
}

#[derive(Serialize)]
struct JoinView {
    lang: Language,
    t: &'static crate::web::Strings,
    title: String,
    /// The base page's frame: nobody is signed in here.
    user_name: &'static str,
    csrf: String,
    configuration_id: i32,
    configuration_name: String,
    privacy_notice_version: String,
    statute_version: String,
    kinds: Vec<Choice>,
    roles: Vec<Choice>,
    rows: Vec<usize>,
    form: JoinFields,
    errors: BTreeMap<String, Vec<String>>,
}

/// The configuration's published versions, or `None` when the page cannot record consents.
fn versions(c: &configuration::Model) -> Option<(String, String)> {
    Some((
        c.privacy_notice_version.clone()?,
        c.statute_version.clone()?,
    ))
}

/// The holder kinds the configuration admits for some role, and the roles it admits.
fn choices(c: &configuration::Model, lang: Language) -> (Vec<Choice>, Vec<Choice>) {
    use sea_orm::Iterable;
    let roles: Vec<MemberRole> = MemberRole::iter().collect();
    let kinds = HolderType::iter()
        .filter(|kind| {
            roles
                .iter()
                .any(|role| check_member(c.kind, *role, *kind, false).is_ok())
        })
        .map(|kind| Choice {
            value: kind.as_str(),
            label: text(lang, &format!("holder_{}", kind.as_str())),
        })
        .collect();
    let roles = roles
        .into_iter()
        .map(|role| Choice {
            value: role.as_str(),
            label: text(lang, &format!("member_{}", role.as_str())),
        })
        .collect();
    (kinds, roles)
}

/// The form with a fresh double-submit token in a cookie and in the form.
fn form_page(
    state: &AppState,
    lang: Language,
    status: StatusCode,
    c: &configuration::Model,
    (privacy_notice_version, statute_version): (String, String),
    form: JoinFields,
    errors: BTreeMap<String, Vec<String>>,
) -> Response {
    let csrf = random_token();
    let (kinds, roles) = choices(c, lang);
    let response = render(
        status,
        "console/join.html",
        JoinView {
            lang,
            t: strings(lang),
            title: text(lang, "join_title").replace("{name}", &c.name),
            user_name: "",
            csrf: csrf.clone(),
            configuration_id: c.id,
            configuration_name: c.name.clone(),
            privacy_notice_version,
            statute_version,
            kinds,
            roles,
            rows: (0..POINT_ROWS).collect(),
            form,
            errors,
        },
    );
    with_form_token(state, JOIN_CSRF_COOKIE, &csrf, response)
}

/// The configuration if it takes requests through this page; otherwise the page that says so.
async fn offered(
    state: &AppState,
    lang: Language,
    id: &str,
) -> Result<(configuration::Model, (String, String)), Response> {
    let id = path_id(id).ok_or_else(|| not_found(lang))?;
    let found = service::join_requests::open_configuration(&state.db, id)
        .await
        .map_err(|_| not_found(lang))?;
    match versions(&found) {
        Some(versions) => Ok((found, versions)),
        // Open to requests through the API, but without the documents' versions the page
        // could not say what is being accepted.
        None => Err(message_page(
            lang,
            StatusCode::NOT_FOUND,
            text(lang, "join_unavailable"),
        )),
    }
}

/// `/console/join/{id}`: the form.
pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let lang = language(&headers);
    match offered(&state, lang, &id).await {
        Ok((found, versions)) => form_page(
            &state,
            lang,
            StatusCode::OK,
            &found,
            versions,
            JoinFields {
                kind: "natural_person".into(),
                ..JoinFields::default()
            },
            BTreeMap::new(),
        ),
        Err(page) => page,
    }
}

fn optional(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_string())
}

/// The request as the API would receive it, or the problems found before the use case.
fn request_of(
    form: &JoinFields,
    lang: Language,
    (privacy_notice_version, statute_version): &(String, String),
) -> Result<JoinRequestCreate, BTreeMap<String, Vec<String>>> {
    let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let kind = HolderType::from_code(form.kind.trim());
    if kind.is_none() {
        errors
            .entry("kind".into())
            .or_default()
            .push(text(lang, "join_kind_missing"));
    }
    let mut points = Vec::new();
    for (index, (pod, role)) in form.points().into_iter().enumerate() {
        if pod.trim().is_empty() {
            continue;
        }
        let role = <MemberRole as sea_orm::Iterable>::iter().find(|r| r.as_str() == role.trim());
        match role {
            Some(role) => points.push(JoinPoint {
                pod: pod.trim().to_string(),
                role,
            }),
            None => errors
                .entry(format!("points.{index}.role"))
                .or_default()
                .push(text(lang, "join_role_missing")),
        }
    }
    if points.is_empty() && !errors.keys().any(|k| k.starts_with("points.")) {
        errors
            .entry("points".into())
            .or_default()
            .push(text(lang, "join_points_missing"));
    }
    let mut consents = Vec::new();
    for (given, kind, version, key) in [
        (
            &form.privacy_notice,
            ConsentKind::PrivacyNotice,
            privacy_notice_version,
            Some("join_privacy_missing"),
        ),
        (
            &form.statute,
            ConsentKind::Statute,
            statute_version,
            Some("join_statute_missing"),
        ),
        (
            &form.communications,
            ConsentKind::Communications,
            privacy_notice_version,
            None,
        ),
    ] {
        match (given.is_some(), key) {
            (true, _) => consents.push(JoinConsent {
                kind,
                document_version: version.clone(),
            }),
            (false, Some(key)) => errors
                .entry(kind.as_str().into())
                .or_default()
                .push(text(lang, key)),
            (false, None) => {}
        }
    }
    match kind {
        Some(kind) if errors.is_empty() => Ok(JoinRequestCreate {
            kind,
            first_name: optional(&form.first_name),
            last_name: optional(&form.last_name),
            company_name: optional(&form.company_name),
            fiscal_code: optional(&form.fiscal_code),
            vat_number: optional(&form.vat_number),
            street: optional(&form.street),
            postcode: optional(&form.postcode),
            municipality: optional(&form.municipality),
            province: optional(&form.province),
            email: form.email.trim().to_string(),
            phone: optional(&form.phone),
            iban: optional(&form.iban),
            language: Some(lang),
            points,
            consents,
        }),
        _ => Err(errors),
    }
}

/// The use case's refusals by the form's field: `points.1.pod`, `fiscal_code`, `consents`.
fn errors_by_field(problems: &[service::Problem]) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for problem in problems {
        let key = problem
            .place
            .iter()
            .filter_map(|p| match p {
                Place::Field(field) => Some(field.clone()),
                Place::Index(index) => Some(index.to_string()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join(".");
        let key = if key.is_empty() { "form".into() } else { key };
        map.entry(key).or_default().push(problem.message.clone());
    }
    map
}

/// The request sent: the page that says to confirm it by mail, or the form again with what
/// was typed and why it was refused.
pub async fn submit(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Result<Form<JoinFields>, FormRejection>,
) -> Response {
    let lang = language(&headers);
    let (found, versions) = match offered(&state, lang, &id).await {
        Ok(offered) => offered,
        Err(page) => return page,
    };
    let Ok(Form(form)) = form else {
        return message_page(lang, StatusCode::BAD_REQUEST, text(lang, "invalid_input"));
    };
    if !double_submit_ok(&headers, JOIN_CSRF_COOKIE, form.csrf.as_deref()) {
        tracing::warn!("join form without its CSRF token refused");
        return message_page(lang, StatusCode::FORBIDDEN, text(lang, "forbidden"));
    }
    let input = match request_of(&form, lang, &versions) {
        Ok(input) => input,
        Err(errors) => {
            return form_page(
                &state,
                lang,
                StatusCode::UNPROCESSABLE_ENTITY,
                &found,
                versions,
                form,
                errors,
            );
        }
    };
    match service::join_requests::submit(
        &state.db,
        &state.mailer,
        &state.settings,
        found.id,
        input,
        client,
    )
    .await
    {
        Ok(_) => message_page(
            lang,
            StatusCode::ACCEPTED,
            text(lang, "join_sent").replace("{email}", form.email.trim()),
        ),
        Err(ServiceError::Invalid(problems)) => form_page(
            &state,
            lang,
            StatusCode::UNPROCESSABLE_ENTITY,
            &found,
            versions,
            form,
            errors_by_field(&problems),
        ),
        Err(error) => super::failure(lang, error),
    }
}
