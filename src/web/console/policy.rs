//! The sharing-out policy as a form: the version in force, every version adopted, and a new
//! version from a month on, checked by the same use case as the API (`adopt_policy`), with each
//! refusal shown next to its field. Percentages and coefficients are read with a decimal comma
//! or point, exactly (never through a float).
use std::collections::{BTreeMap, HashMap};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{
    CheckedForm, Frame, Signed, csrf_form, failure, not_found, parse_decimal, path_id, render,
};
use crate::api::state::AppState;
use crate::domain::month::Period;
use crate::domain::sharing::{ConsumersSplit, ExcessDestination, Policy, ProducersSplit, Shares};
use crate::models::enums::Language;
use crate::models::settlement_policy;
use crate::schemas::settlement::PolicyCreate;
use crate::service::{self, Place, Problem, ServiceError};
use crate::web::text;

/// The form's fields as typed (kept to show them back after a refusal).
#[derive(Clone, Default, Deserialize, Serialize)]
pub struct PolicyForm {
    csrf: Option<String>,
    valid_from: Option<String>,
    management: Option<String>,
    social_fund: Option<String>,
    producers: Option<String>,
    consumers: Option<String>,
    producers_split: Option<String>,
    consumers_split: Option<String>,
    excess_to: Option<String>,
    coefficients: Option<String>,
    note: Option<String>,
}

csrf_form!(PolicyForm);

#[derive(Serialize)]
struct Choice {
    value: &'static str,
    label: String,
}

#[derive(Serialize)]
struct VersionRow {
    version: i32,
    valid_from: String,
    created_at: String,
    summary: String,
    note: Option<String>,
}

#[derive(Serialize)]
struct PolicyView {
    #[serde(flatten)]
    frame: Frame,
    configuration_id: i32,
    configuration_name: String,
    /// The version in force this month, or none (the default applies).
    current: Option<i32>,
    versions: Vec<VersionRow>,
    form: PolicyForm,
    producers_splits: Vec<Choice>,
    consumers_splits: Vec<Choice>,
    excess_destinations: Vec<Choice>,
    /// Field name → what is wrong with it.
    errors: BTreeMap<String, Vec<String>>,
    adopted: Option<String>,
}

const PRODUCERS_SPLITS: &[&str] = &["by_incentivised_energy", "by_power", "equal"];
const CONSUMERS_SPLITS: &[&str] = &[
    "by_shared_withdrawal",
    "by_withdrawal",
    "equal",
    "coefficients",
];
const EXCESS_DESTINATIONS: &[&str] = &["non_business_consumers", "social_fund"];

fn choices(lang: Language, values: &[&'static str]) -> Vec<Choice> {
    values
        .iter()
        .map(|value| Choice {
            value,
            // "coefficients" also names the field of the coefficients themselves.
            label: match *value {
                "coefficients" => text(lang, "policy_coefficients_choice"),
                other => text(lang, &format!("policy_{other}")),
            },
        })
        .collect()
}

fn enum_text<T: Serialize>(value: T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// A decimal for a person's eyes: the comma in Italian.
fn shown(value: Decimal, lang: Language) -> String {
    let text = value.normalize().to_string();
    match lang {
        Language::It => text.replace('.', ","),
        _ => text,
    }
}

/// The form filled with a stored document (member ids shown as the members' PODs).
fn form_of(
    document: &Policy,
    pods: &HashMap<i32, String>,
    lang: Language,
    valid_from: String,
) -> PolicyForm {
    PolicyForm {
        csrf: None,
        valid_from: Some(valid_from),
        management: Some(shown(document.shares.management, lang)),
        social_fund: Some(shown(document.shares.social_fund, lang)),
        producers: Some(shown(document.shares.producers, lang)),
        consumers: Some(shown(document.shares.consumers, lang)),
        producers_split: Some(enum_text(document.producers_split)),
        consumers_split: Some(enum_text(document.consumers_split)),
        excess_to: Some(enum_text(document.excess_to)),
        coefficients: document.coefficients.as_ref().map(|map| {
            map.iter()
                .map(|(member, value)| {
                    let who = pods
                        .get(member)
                        .cloned()
                        .unwrap_or_else(|| format!("#{member}"));
                    format!("{who} = {}", shown(*value, lang))
                })
                .collect::<Vec<_>>()
                .join("\n")
        }),
        note: None,
    }
}

fn summary_of(document: &Policy, lang: Language) -> String {
    text(lang, "policy_summary")
        .replace("{management}", &shown(document.shares.management, lang))
        .replace("{social_fund}", &shown(document.shares.social_fund, lang))
        .replace("{producers}", &shown(document.shares.producers, lang))
        .replace("{consumers}", &shown(document.shares.consumers, lang))
}

/// The stored document of a version; one that cannot be read is an error, never the default.
fn document_of(version: &settlement_policy::Model) -> Result<Policy, ServiceError> {
    serde_json::from_str(&version.document).map_err(|error| {
        ServiceError::Internal(anyhow::anyhow!(
            "policy version {} cannot be read: {error}",
            version.id
        ))
    })
}

/// The configuration's members' PODs by member id, read page by page.
async fn pods_of(
    state: &AppState,
    signed: &Signed,
    configuration_id: i32,
) -> Result<HashMap<i32, String>, ServiceError> {
    let mut pods = HashMap::new();
    loop {
        let page = crate::schemas::member::MemberListParams {
            configuration_id: Some(configuration_id),
            skip: pods.len() as u64,
            limit: 1000,
            ..serde_urlencoded::from_str("").expect("every list filter is optional")
        };
        let (rows, total) = service::members::list(&signed.actor(), &state.db, &page).await?;
        let read = rows.len();
        pods.extend(rows.into_iter().map(|m| (m.id, m.pod)));
        if read == 0 || pods.len() as u64 >= total {
            return Ok(pods);
        }
    }
}

async fn view(
    state: &AppState,
    signed: &Signed,
    configuration_id: i32,
) -> Result<PolicyView, ServiceError> {
    let lang = signed.lang;
    let actor = signed.actor();
    let configuration =
        service::configurations::visible(&actor, &state.db, configuration_id).await?;
    let versions =
        service::settlements::policy_versions(&actor, &state.db, configuration.id).await?;
    let this_month = Period::of(
        chrono::Datelike::with_day(&service::italian_today(), 1)
            .expect("the first of a month exists"),
    );
    let current = versions
        .iter()
        .filter(|v| v.valid_from <= this_month.start)
        .max_by_key(|v| (v.valid_from, v.version))
        .map(|v| v.version);
    let pods = pods_of(state, signed, configuration.id).await?;
    let newest = versions.iter().max_by_key(|v| v.version);
    // A new version applies from next month by default: this month may be settled already.
    let next_month = this_month.end.succ_opt().unwrap_or(this_month.end);
    let suggested = next_month.format("%Y-%m").to_string();
    let form = match newest {
        Some(version) => form_of(&document_of(version)?, &pods, lang, suggested),
        None => form_of(&Policy::default_document(), &pods, lang, suggested),
    };
    let rows = versions
        .iter()
        .rev()
        .map(|v| {
            Ok(VersionRow {
                version: v.version,
                valid_from: v.valid_from.format("%Y-%m").to_string(),
                created_at: super::minute(v.created_at),
                summary: summary_of(&document_of(v)?, lang),
                note: v.note.clone(),
            })
        })
        .collect::<Result<Vec<_>, ServiceError>>()?;
    Ok(PolicyView {
        frame: signed.frame(format!("{} · {}", text(lang, "policy"), configuration.name)),
        configuration_id: configuration.id,
        configuration_name: configuration.name,
        current,
        versions: rows,
        form,
        producers_splits: choices(lang, PRODUCERS_SPLITS),
        consumers_splits: choices(lang, CONSUMERS_SPLITS),
        excess_destinations: choices(lang, EXCESS_DESTINATIONS),
        errors: BTreeMap::new(),
        adopted: None,
    })
}

pub async fn show(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Response {
    let Some(id) = path_id(&id) else {
        return not_found(signed.lang);
    };
    match view(&state, &signed, id).await {
        Ok(view) => render(StatusCode::OK, "console/policy.html", view),
        Err(error) => failure(signed.lang, error),
    }
}

/// Collects the problems of reading the form, by field.
#[derive(Default)]
struct Problems(BTreeMap<String, Vec<String>>);

impl Problems {
    fn add(&mut self, field: &str, message: String) {
        self.0.entry(field.to_string()).or_default().push(message);
    }
}

fn parse_choice<T: serde::de::DeserializeOwned>(
    problems: &mut Problems,
    lang: Language,
    field: &str,
    value: Option<&str>,
) -> Option<T> {
    let value = value.unwrap_or_default();
    let parsed = serde_json::from_value(serde_json::Value::String(value.to_string())).ok();
    if parsed.is_none() {
        problems.add(field, text(lang, "policy_choose"));
    }
    parsed
}

/// `POD = coefficient` per line (`;` or `:` also separate), each POD a member of the
/// configuration; the line of any problem is named.
fn parse_coefficients(
    problems: &mut Problems,
    lang: Language,
    text_value: &str,
    members: &HashMap<String, i32>,
) -> BTreeMap<i32, Decimal> {
    let mut map = BTreeMap::new();
    for (index, line) in text_value.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let number = index + 1;
        let Some((pod, value)) = line.split_once(['=', ';', ':']) else {
            problems.add(
                "coefficients",
                text(lang, "policy_coefficient_line").replace("{line}", &number.to_string()),
            );
            continue;
        };
        let pod = pod.trim().to_uppercase();
        let Some(member) = members.get(&pod) else {
            problems.add(
                "coefficients",
                text(lang, "policy_coefficient_pod")
                    .replace("{line}", &number.to_string())
                    .replace("{pod}", &pod),
            );
            continue;
        };
        match parse_decimal(value) {
            Some(value) => {
                if map.insert(*member, value).is_some() {
                    problems.add(
                        "coefficients",
                        text(lang, "policy_coefficient_twice")
                            .replace("{line}", &number.to_string())
                            .replace("{pod}", &pod),
                    );
                }
            }
            None => problems.add(
                "coefficients",
                text(lang, "policy_coefficient_value").replace("{line}", &number.to_string()),
            ),
        }
    }
    map
}

/// The form read into the API's input, or the problems by field.
fn read_form(
    lang: Language,
    form: &PolicyForm,
    members: &HashMap<String, i32>,
) -> Result<PolicyCreate, Problems> {
    let mut problems = Problems::default();
    let valid_from = match Period::parse(form.valid_from.as_deref().unwrap_or_default().trim()) {
        Some(period) => Some(period.start),
        None => {
            problems.add("valid_from", text(lang, "month_invalid"));
            None
        }
    };
    let mut share = |field: &str, value: &Option<String>| {
        let parsed = parse_decimal(value.as_deref().unwrap_or_default());
        if parsed.is_none() {
            problems.add(field, text(lang, "policy_percent"));
        }
        parsed.unwrap_or_default()
    };
    let shares = Shares {
        management: share("management", &form.management),
        social_fund: share("social_fund", &form.social_fund),
        producers: share("producers", &form.producers),
        consumers: share("consumers", &form.consumers),
    };
    let producers_split: Option<ProducersSplit> = parse_choice(
        &mut problems,
        lang,
        "producers_split",
        form.producers_split.as_deref(),
    );
    let consumers_split: Option<ConsumersSplit> = parse_choice(
        &mut problems,
        lang,
        "consumers_split",
        form.consumers_split.as_deref(),
    );
    let excess_to: Option<ExcessDestination> =
        parse_choice(&mut problems, lang, "excess_to", form.excess_to.as_deref());
    let coefficients = form
        .coefficients
        .as_deref()
        .filter(|text| !text.trim().is_empty())
        .map(|text| parse_coefficients(&mut problems, lang, text, members));
    let note = form
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    if note.as_ref().is_some_and(|n| n.chars().count() > 1000) {
        problems.add("note", text(lang, "policy_note_long"));
    }
    match (valid_from, producers_split, consumers_split, excess_to) {
        (Some(valid_from), Some(producers_split), Some(consumers_split), Some(excess_to))
            if problems.0.is_empty() =>
        {
            Ok(PolicyCreate {
                valid_from,
                document: Policy {
                    shares,
                    producers_split,
                    consumers_split,
                    coefficients,
                    excess_to,
                },
                note,
            })
        }
        _ => Err(problems),
    }
}

/// The use case's refusals by the form's field: the last field of each problem's place
/// (`document.shares.management` → `management`; `shares` → the shares as a whole).
fn problems_by_field(problems: &[Problem]) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for problem in problems {
        let fields: Vec<&str> = problem
            .place
            .iter()
            .filter_map(|p| match p {
                Place::Field(field) => Some(field.as_str()),
                _ => None,
            })
            .collect();
        // `coefficients.<member id>` belongs to the coefficients field.
        let field = match fields.as_slice() {
            [.., "coefficients", _] => "coefficients",
            [.., last] => last,
            [] => "shares",
        };
        map.entry(field.to_string())
            .or_default()
            .push(problem.message.clone());
    }
    map
}

pub async fn adopt(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedForm(signed, form): CheckedForm<PolicyForm>,
) -> Response {
    let lang = signed.lang;
    let Some(id) = path_id(&id) else {
        return not_found(lang);
    };
    let mut page = match view(&state, &signed, id).await {
        Ok(page) => page,
        Err(error) => return failure(lang, error),
    };
    let pods = match pods_of(&state, &signed, id).await {
        Ok(pods) => pods,
        Err(error) => return failure(lang, error),
    };
    let members: HashMap<String, i32> = pods.into_iter().map(|(id, pod)| (pod, id)).collect();
    let outcome = match read_form(lang, &form, &members) {
        Ok(input) => service::settlements::adopt_policy(&signed.actor(), &state.db, id, input)
            .await
            .map_err(|error| match error {
                ServiceError::Invalid(problems) => Refusal::Fields(problems_by_field(&problems)),
                other => Refusal::Other(other),
            }),
        Err(problems) => Err(Refusal::Fields(problems.0)),
    };
    match outcome {
        Ok(adopted) => match view(&state, &signed, id).await {
            Ok(mut page) => {
                page.adopted = Some(
                    text(lang, "policy_adopted")
                        .replace("{version}", &adopted.version.to_string())
                        .replace("{month}", &adopted.valid_from.format("%Y-%m").to_string()),
                );
                render(StatusCode::CREATED, "console/policy.html", page)
            }
            Err(error) => failure(lang, error),
        },
        Err(Refusal::Other(error)) => failure(lang, error),
        Err(Refusal::Fields(errors)) => {
            page.errors = errors;
            page.form = PolicyForm { csrf: None, ..form };
            render(
                StatusCode::UNPROCESSABLE_ENTITY,
                "console/policy.html",
                page,
            )
        }
    }
}

/// Why a new version was not adopted: problems to show by their fields, or the use case's
/// other refusals (scope, permission) as the console shows them everywhere.
enum Refusal {
    Fields(BTreeMap<String, Vec<String>>),
    Other(ServiceError),
}
