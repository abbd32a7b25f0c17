//! Join requests as an operator reviews them: a configuration's requests by status, paged on
//! the server, each with its applicant and points, approved (from a date) or rejected (with
//! the reason the applicant is told) through the same use cases as the API.
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{
    CheckedForm, Frame, Signed, bad_page, csrf_form, failure, message_page, not_found, page_number,
    path_id, render, said,
};
use crate::api::state::AppState;
use crate::models::enums::{JoinRequestStatus, Language};
use crate::models::join_request;
use crate::schemas::join_request::JoinPoint;
use crate::service::{self, ServiceError};
use crate::web::text;

const PAGE_SIZE: u64 = 20;

#[derive(Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    page: Option<String>,
}

#[derive(Serialize)]
struct FilterLink {
    label: String,
    href: String,
    current: bool,
}

#[derive(Serialize)]
struct RequestRow {
    id: i32,
    applicant: String,
    kind: String,
    fiscal_code: Option<String>,
    email: String,
    phone: Option<String>,
    address: String,
    points: Vec<String>,
    created_at: String,
    status: String,
    /// Pending: confirmed by the applicant, waiting for a decision.
    decidable: bool,
    /// Unconfirmed requests may only be rejected.
    rejectable: bool,
    decision: Option<String>,
}

#[derive(Serialize)]
struct JoinRequestsView {
    #[serde(flatten)]
    frame: Frame,
    configuration_id: i32,
    configuration_name: String,
    filters: Vec<FilterLink>,
    requests: Vec<RequestRow>,
    total: u64,
    page: u64,
    pages: u64,
    previous: Option<String>,
    next: Option<String>,
    today: String,
    notice: Option<String>,
    problems: Vec<String>,
}

/// The status filter of the page: a request's status, or every request.
#[derive(Clone, Copy)]
enum Filter {
    Only(JoinRequestStatus),
    All,
}

impl Filter {
    fn parse(text: Option<&str>) -> Option<Filter> {
        match text.filter(|s| !s.is_empty()) {
            None => Some(Filter::Only(JoinRequestStatus::Pending)),
            Some("all") => Some(Filter::All),
            Some(other) => [
                JoinRequestStatus::Pending,
                JoinRequestStatus::Unverified,
                JoinRequestStatus::Approved,
                JoinRequestStatus::Rejected,
            ]
            .into_iter()
            .find(|s| s.as_str() == other)
            .map(Filter::Only),
        }
    }

    fn key(self) -> &'static str {
        match self {
            Filter::Only(status) => status.as_str(),
            Filter::All => "all",
        }
    }
}

fn list_link(configuration_id: i32, filter: Filter, page: u64) -> String {
    format!(
        "/console/configurations/{configuration_id}/join-requests?status={}&page={page}",
        filter.key()
    )
}

fn row_of(lang: Language, r: join_request::Model) -> RequestRow {
    let applicant = match (&r.company_name, &r.first_name, &r.last_name) {
        (Some(company), _, _) => company.clone(),
        (None, first, last) => [first.as_deref(), last.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" "),
    };
    let address = [
        r.street.as_deref(),
        r.postcode.as_deref(),
        r.municipality.as_deref(),
        r.province.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(", ");
    // The points were validated when the request was made; a row that cannot be read is
    // shown as such rather than hidden.
    let points = match serde_json::from_str::<Vec<JoinPoint>>(&r.points) {
        Ok(points) => points
            .into_iter()
            .map(|p| {
                format!(
                    "{} ({})",
                    p.pod,
                    text(lang, &format!("member_{}", p.role.as_str()))
                )
            })
            .collect(),
        Err(_) => vec![text(lang, "points_unreadable")],
    };
    let decision = r.decided_at.map(|at| {
        let mut line = super::minute(at);
        if let Some(joined) = r.joined_at {
            line.push_str(&format!(" · {} {joined}", text(lang, "joined")));
        }
        if let Some(reason) = &r.decision_reason {
            line.push_str(&format!(" · {reason}"));
        }
        line
    });
    RequestRow {
        id: r.id,
        applicant,
        kind: r.kind.as_str().to_string(),
        fiscal_code: r.fiscal_code.or(r.vat_number),
        email: r.email,
        phone: r.phone,
        address,
        points,
        created_at: super::minute(r.created_at),
        status: r.status.as_str().to_string(),
        decidable: r.status == JoinRequestStatus::Pending,
        rejectable: matches!(
            r.status,
            JoinRequestStatus::Pending | JoinRequestStatus::Unverified
        ),
        decision,
    }
}

async fn view(
    state: &AppState,
    signed: &Signed,
    configuration_id: i32,
    filter: Filter,
    page: u64,
) -> Result<JoinRequestsView, ServiceError> {
    let lang = signed.lang;
    let actor = signed.actor();
    let configuration =
        service::configurations::visible(&actor, &state.db, configuration_id).await?;
    let status = match filter {
        Filter::Only(status) => Some(status),
        Filter::All => None,
    };
    let (rows, total) = service::join_requests::list(
        &actor,
        &state.db,
        configuration.id,
        status,
        (page - 1) * PAGE_SIZE,
        PAGE_SIZE,
    )
    .await?;
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let filters = [
        Filter::Only(JoinRequestStatus::Pending),
        Filter::Only(JoinRequestStatus::Unverified),
        Filter::Only(JoinRequestStatus::Approved),
        Filter::Only(JoinRequestStatus::Rejected),
        Filter::All,
    ]
    .into_iter()
    .map(|f| FilterLink {
        label: text(lang, &format!("join_{}", f.key())),
        href: list_link(configuration.id, f, 1),
        current: f.key() == filter.key(),
    })
    .collect();
    Ok(JoinRequestsView {
        frame: signed.frame(format!(
            "{} · {}",
            text(lang, "join_requests"),
            configuration.name
        )),
        configuration_id: configuration.id,
        configuration_name: configuration.name,
        filters,
        requests: rows.into_iter().map(|r| row_of(lang, r)).collect(),
        total,
        page,
        pages,
        previous: (page > 1).then(|| list_link(configuration_id, filter, page - 1)),
        next: (page < pages).then(|| list_link(configuration_id, filter, page + 1)),
        today: service::italian_today().to_string(),
        notice: None,
        problems: Vec::new(),
    })
}

pub async fn list(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Query(query): Query<ListQuery>,
) -> Response {
    let lang = signed.lang;
    let Some(id) = path_id(&id) else {
        return not_found(lang);
    };
    let Some(filter) = Filter::parse(query.status.as_deref()) else {
        return message_page(lang, StatusCode::BAD_REQUEST, text(lang, "bad_filter"));
    };
    let Some(page) = page_number(query.page.as_deref()) else {
        return bad_page(lang);
    };
    match view(&state, &signed, id, filter, page).await {
        Ok(view) => render(StatusCode::OK, "console/join_requests.html", view),
        Err(error) => failure(lang, error),
    }
}

#[derive(Deserialize)]
pub struct ApproveForm {
    csrf: Option<String>,
    joined_at: Option<String>,
}

#[derive(Deserialize)]
pub struct RejectForm {
    csrf: Option<String>,
    reason: Option<String>,
}

csrf_form!(ApproveForm, RejectForm);

/// After a decision: the configuration's pending requests with what happened, or why not.
async fn decided(
    state: &AppState,
    signed: &Signed,
    configuration_id: i32,
    outcome: Result<String, ServiceError>,
) -> Response {
    let lang = signed.lang;
    let said = match said(lang, StatusCode::OK, outcome) {
        Ok(said) => said,
        Err(error) => return failure(lang, error),
    };
    let filter = Filter::Only(JoinRequestStatus::Pending);
    let page = view(state, signed, configuration_id, filter, 1).await;
    super::told(lang, "console/join_requests.html", said, page)
}

super::tells!(JoinRequestsView);

pub async fn approve(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedForm(signed, form): CheckedForm<ApproveForm>,
) -> Response {
    let lang = signed.lang;
    let Some(id) = path_id(&id) else {
        return not_found(lang);
    };
    let actor = signed.actor();
    let configuration = match service::join_requests::visible(&actor, &state.db, id).await {
        Ok((_, configuration)) => configuration,
        Err(error) => return failure(lang, error),
    };
    let joined_at = form.joined_at.unwrap_or_default();
    let joined_at = joined_at.trim();
    let outcome = match joined_at {
        "" => Ok(None),
        text_date => NaiveDate::parse_from_str(text_date, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| {
                ServiceError::invalid("joined_at", text(lang, "date_invalid"), "value_error")
            }),
    };
    let outcome = match outcome {
        Ok(joined_at) => {
            service::join_requests::approve(&actor, &state.db, &state.mailer, id, joined_at)
                .await
                .map(|approved| {
                    text(lang, "join_approved_notice")
                        .replace("{who}", &row_of(lang, approved.clone()).applicant)
                        .replace(
                            "{date}",
                            &approved
                                .joined_at
                                .map(|d| d.to_string())
                                .unwrap_or_default(),
                        )
                })
        }
        Err(error) => Err(error),
    };
    decided(&state, &signed, configuration.id, outcome).await
}

pub async fn reject(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedForm(signed, form): CheckedForm<RejectForm>,
) -> Response {
    let lang = signed.lang;
    let Some(id) = path_id(&id) else {
        return not_found(lang);
    };
    let actor = signed.actor();
    let configuration = match service::join_requests::visible(&actor, &state.db, id).await {
        Ok((_, configuration)) => configuration,
        Err(error) => return failure(lang, error),
    };
    let reason = form.reason.unwrap_or_default();
    let outcome = service::join_requests::reject(&actor, &state.db, &state.mailer, id, &reason)
        .await
        .map(|rejected| {
            text(lang, "join_rejected_notice").replace("{who}", &row_of(lang, rejected).applicant)
        });
    decided(&state, &signed, configuration.id, outcome).await
}
