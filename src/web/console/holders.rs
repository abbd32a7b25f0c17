//! Holders as operators see them: the list of the holders in scope (search, status, a
//! configuration's, paged on the server) and one holder's page — its data, the points the
//! operator may see, its consents and every revision of its history. The same use cases as the
//! API; a holder outside the scope is a 404.
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    Frame, Pager, Signed, bad_page, failure, grouped_iban, message_page, minute, not_found,
    page_number, path_id, render,
};
use crate::api::state::AppState;
use crate::models::enums::HolderStatus;
use crate::models::{holder, holder_revision};
use crate::schemas::holder::{HolderListParams, display_name};
use crate::service;
use crate::web::text;

const PAGE_SIZE: u64 = 50;

#[derive(Deserialize)]
pub struct ListQuery {
    search: Option<String>,
    status: Option<String>,
    configuration_id: Option<String>,
    page: Option<String>,
}

#[derive(Serialize)]
struct HolderRow {
    id: i32,
    name: String,
    kind: String,
    status: String,
    fiscal_code: Option<String>,
    email: Option<String>,
}

#[derive(Serialize)]
struct StatusChoice {
    value: &'static str,
    selected: bool,
}

#[derive(Serialize)]
struct HoldersView {
    #[serde(flatten)]
    frame: Frame,
    holders: Vec<HolderRow>,
    total: u64,
    #[serde(flatten)]
    pager: Pager,
    search: String,
    statuses: Vec<StatusChoice>,
    configuration: Option<(i32, String)>,
}

fn name_of(h: &holder::Model) -> String {
    display_name(h).unwrap_or_else(|| format!("#{}", h.id))
}

/// `/console/holders`: the holders in scope.
pub async fn list(
    State(state): State<AppState>,
    signed: Signed,
    Query(query): Query<ListQuery>,
) -> Response {
    let lang = signed.lang;
    let Some(page) = page_number(query.page.as_deref()) else {
        return bad_page(lang);
    };
    let status = match query.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(text_status) => match [
            HolderStatus::Draft,
            HolderStatus::Active,
            HolderStatus::Erased,
        ]
        .into_iter()
        .find(|s| s.as_str() == text_status)
        {
            Some(status) => Some(status),
            None => return message_page(lang, StatusCode::BAD_REQUEST, text(lang, "bad_filter")),
        },
    };
    let configuration_id = match query.configuration_id.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(id) => match path_id(id) {
            Some(id) => Some(id),
            None => return not_found(lang),
        },
    };
    let search: String = query
        .search
        .unwrap_or_default()
        .trim()
        .chars()
        .take(200)
        .collect();
    let actor = signed.actor();
    let configuration = match configuration_id {
        None => None,
        Some(id) => match service::configurations::visible(&actor, &state.db, id).await {
            Ok(c) => Some((c.id, c.name)),
            Err(error) => return failure(lang, error),
        },
    };
    let params = HolderListParams {
        skip: (page - 1) * PAGE_SIZE,
        limit: PAGE_SIZE,
        kind: None,
        status,
        configuration_id,
        search: Some(search.clone()).filter(|s| !s.is_empty()),
    };
    let (rows, total) = match service::holders::list(&actor, &state.db, &params).await {
        Ok(found) => found,
        Err(error) => return failure(lang, error),
    };
    let link = |p: u64| {
        let mut query = vec![("page", p.to_string())];
        if !search.is_empty() {
            query.push(("search", search.clone()));
        }
        if let Some(status) = status {
            query.push(("status", status.as_str().to_string()));
        }
        if let Some(id) = configuration_id {
            query.push(("configuration_id", id.to_string()));
        }
        format!(
            "/console/holders?{}",
            serde_urlencoded::to_string(query).unwrap_or_default()
        )
    };
    let title = match &configuration {
        Some((_, name)) => format!("{} · {name}", text(lang, "holders")),
        None => text(lang, "holders"),
    };
    render(
        StatusCode::OK,
        "console/holders.html",
        HoldersView {
            frame: signed.frame(title),
            holders: rows
                .iter()
                .map(|h| HolderRow {
                    id: h.id,
                    name: name_of(h),
                    kind: h.kind.as_str().to_string(),
                    status: h.status.as_str().to_string(),
                    fiscal_code: h.fiscal_code.clone().or(h.vat_number.clone()),
                    email: h.email.clone(),
                })
                .collect(),
            total,
            pager: Pager::new(page, total, PAGE_SIZE, link),
            statuses: ["draft", "active", "erased"]
                .into_iter()
                .map(|value| StatusChoice {
                    value,
                    selected: status.map(|s| s.as_str()) == Some(value),
                })
                .collect(),
            search,
            configuration,
        },
    )
}

#[derive(Serialize)]
struct PointRow {
    id: i32,
    pod: String,
    configuration_id: i32,
    configuration: String,
    role: String,
    status: String,
    joined_at: String,
    withdrawn_at: Option<String>,
}

#[derive(Serialize)]
struct ConsentRow {
    kind: String,
    version: String,
    given_at: String,
    method: String,
    withdrawn_at: Option<String>,
    withdrawal_method: Option<String>,
}

#[derive(Serialize)]
struct RevisionRow {
    changed_at: String,
    changed_by: Option<i32>,
    action: String,
    changes: Vec<String>,
}

#[derive(Serialize)]
struct HolderView {
    #[serde(flatten)]
    frame: Frame,
    id: i32,
    name: String,
    kind: String,
    status: String,
    fiscal_code: Option<String>,
    vat_number: Option<String>,
    address: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    iban: Option<String>,
    language: String,
    has_account: bool,
    created_at: String,
    erased_at: Option<String>,
    points: Vec<PointRow>,
    consents: Vec<ConsentRow>,
    history: Vec<RevisionRow>,
}

/// A value of a revision as a person reads it: text as it is, nothing as a dash.
fn shown(value: &Value) -> String {
    match value {
        Value::Null => "–".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `{field: [before, after]}` as `field: before → after` lines; any other entry (the request
/// an IBAN came from, the fields erasure cleared) as `key: value`. A revision whose record
/// cannot be read says so rather than showing nothing.
fn change_lines(revision: &holder_revision::Model, unreadable: &str) -> Vec<String> {
    let Ok(changes) = serde_json::from_str::<serde_json::Map<String, Value>>(&revision.changes)
    else {
        return vec![unreadable.to_string()];
    };
    changes
        .iter()
        .map(|(field, value)| match value {
            // Erasure lists the fields it cleared: a list, not a before and after.
            Value::Array(pair) if pair.len() == 2 && field != "cleared" => {
                format!("{field}: {} → {}", shown(&pair[0]), shown(&pair[1]))
            }
            Value::Array(items) => format!(
                "{field}: {}",
                items.iter().map(shown).collect::<Vec<_>>().join(", ")
            ),
            other => format!("{field}: {}", shown(other)),
        })
        .collect()
}

/// `/console/holders/{id}`: one holder, whole.
pub async fn show(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Response {
    let lang = signed.lang;
    let Some(id) = path_id(&id) else {
        return not_found(lang);
    };
    let actor = signed.actor();
    let found = match service::holders::visible(&actor, &state.db, id).await {
        Ok(found) => found,
        Err(error) => return failure(lang, error),
    };
    let (points, consents, history) = match tokio::try_join!(
        service::holders::points(&actor, &state.db, id),
        service::holders::consents(&actor, &state.db, id),
        service::holders::history(&actor, &state.db, id),
    ) {
        Ok(found) => found,
        Err(error) => return failure(lang, error),
    };
    // The configurations' names: the points are in configurations the operator sees.
    let mut names = std::collections::BTreeMap::new();
    for point in &points {
        if let std::collections::btree_map::Entry::Vacant(slot) =
            names.entry(point.configuration_id)
        {
            match service::configurations::visible(&actor, &state.db, point.configuration_id).await
            {
                Ok(c) => slot.insert(c.name),
                Err(error) => return failure(lang, error),
            };
        }
    }
    let address = [
        found.street.as_deref(),
        found.postcode.as_deref(),
        found.municipality.as_deref(),
        found.province.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(", ");
    let unreadable = text(lang, "revision_unreadable");
    render(
        StatusCode::OK,
        "console/holder.html",
        HolderView {
            frame: signed.frame(format!("{} · {}", text(lang, "holder"), name_of(&found))),
            id: found.id,
            name: name_of(&found),
            kind: found.kind.as_str().to_string(),
            status: found.status.as_str().to_string(),
            fiscal_code: found.fiscal_code.clone(),
            vat_number: found.vat_number.clone(),
            address: (!address.is_empty()).then_some(address),
            email: found.email.clone(),
            phone: found.phone.clone(),
            iban: found.iban.as_deref().map(grouped_iban),
            language: found.language.as_str().to_string(),
            has_account: found.user_id.is_some(),
            created_at: minute(found.created_at),
            erased_at: found.erased_at.map(minute),
            points: points
                .into_iter()
                .map(|m| PointRow {
                    id: m.id,
                    pod: m.pod,
                    configuration: names.get(&m.configuration_id).cloned().unwrap_or_default(),
                    configuration_id: m.configuration_id,
                    role: m.role.as_str().to_string(),
                    status: m.status.as_str().to_string(),
                    joined_at: m.joined_at.to_string(),
                    withdrawn_at: m.withdrawn_at.map(|d| d.to_string()),
                })
                .collect(),
            consents: consents
                .into_iter()
                .map(|c| ConsentRow {
                    kind: c.kind.as_str().to_string(),
                    version: c.document_version,
                    given_at: minute(c.given_at),
                    method: c.method.as_str().to_string(),
                    withdrawn_at: c.withdrawn_at.map(minute),
                    withdrawal_method: c.withdrawal_method.map(|m| m.as_str().to_string()),
                })
                .collect(),
            history: history
                .iter()
                .rev()
                .map(|r| RevisionRow {
                    changed_at: minute(r.changed_at),
                    changed_by: r.changed_by,
                    action: r.action.as_str().to_string(),
                    changes: change_lines(r, &unreadable),
                })
                .collect(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::enums::HolderAction;

    fn revision(changes: &str) -> holder_revision::Model {
        holder_revision::Model {
            id: 1,
            holder_id: 1,
            changed_at: chrono::Utc::now(),
            changed_by: None,
            action: HolderAction::Updated,
            changes: changes.to_string(),
            iban: None,
        }
    }

    #[test]
    fn a_revision_reads_as_before_and_after() {
        let lines = change_lines(
            &revision(
                r#"{"iban": ["IT60X", "IT98Z"], "iban_change_request": 7, "phone": [null, "+39333"]}"#,
            ),
            "?",
        );
        assert_eq!(
            lines,
            [
                "iban: IT60X → IT98Z",
                "iban_change_request: 7",
                "phone: – → +39333"
            ]
        );
        assert_eq!(
            change_lines(&revision(r#"{"cleared": ["email", "iban"]}"#), "?"),
            ["cleared: email, iban"]
        );
        assert_eq!(
            change_lines(&revision("not json"), "unreadable"),
            ["unreadable"]
        );
    }
}
