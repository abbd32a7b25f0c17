//! Requests for a new IBAN in the browser. A member sees its holder's IBAN (by its last four
//! characters), asks for a new one and withdraws a request still waiting; operators review the
//! requests of the holders they see — the whole IBANs, since they check them against the
//! member's documents — and confirm or reject them. The same use cases as the API.
use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Redirect, Response};
use serde::{Deserialize, Serialize};

use super::{
    CheckedForm, Frame, Pager, Signed, bad_page, csrf_form, failure, grouped_iban, masked_iban,
    message_page, minute, not_found, page_number, path_id, render, shown,
};
use crate::api::state::AppState;
use crate::models::enums::{IbanChangeStatus, Language};
use crate::models::{holder, iban_change_request};
use crate::schemas::holder::display_name;
use crate::schemas::iban_change::{IbanChangeCreate, IbanChangeListParams};
use crate::service::{self, ServiceError};
use crate::web::text;

const PAGE_SIZE: u64 = 20;

#[derive(Serialize)]
struct RequestRow {
    id: i32,
    status: String,
    iban: Option<String>,
    note: Option<String>,
    requested_at: String,
    decided_at: Option<String>,
    reason: Option<String>,
    pending: bool,
}

impl RequestRow {
    /// `whole`: the IBAN in full (operators) or by its last four characters (the member).
    fn of(r: &iban_change_request::Model, whole: bool) -> RequestRow {
        RequestRow {
            id: r.id,
            status: r.status.as_str().to_string(),
            iban: if whole {
                r.iban.as_deref().map(grouped_iban)
            } else {
                r.iban.as_deref().map(masked_iban)
            },
            note: r.note.clone(),
            requested_at: minute(r.requested_at),
            decided_at: r.decided_at.map(minute),
            reason: r.decision_reason.clone(),
            pending: r.status == IbanChangeStatus::Pending,
        }
    }
}

#[derive(Serialize, Default)]
struct AskForm {
    iban: String,
    note: String,
}

#[derive(Serialize)]
struct HolderIbanView {
    #[serde(flatten)]
    frame: Frame,
    holder_id: i32,
    holder_name: String,
    current: Option<String>,
    /// The viewer is the holder's own account: it may ask and withdraw.
    own: bool,
    pending: Option<RequestRow>,
    requests: Vec<RequestRow>,
    form: AskForm,
    errors: BTreeMap<String, Vec<String>>,
    notice: Option<String>,
}

async fn holder_view(
    state: &AppState,
    signed: &Signed,
    holder_id: i32,
) -> Result<HolderIbanView, ServiceError> {
    let actor = signed.actor();
    let found = service::holders::visible(&actor, &state.db, holder_id).await?;
    let requests = service::iban_changes::of_holder(&actor, &state.db, found.id).await?;
    let own = found.user_id == Some(actor.user_id);
    let whole = !own && signed.current.user.role != crate::models::enums::Role::User;
    Ok(HolderIbanView {
        frame: signed.frame(text(signed.lang, "iban_title")),
        holder_id: found.id,
        holder_name: display_name(&found).unwrap_or_default(),
        current: if whole {
            found.iban.as_deref().map(grouped_iban)
        } else {
            found.iban.as_deref().map(masked_iban)
        },
        own,
        pending: requests
            .iter()
            .find(|r| r.status == IbanChangeStatus::Pending)
            .map(|r| RequestRow::of(r, whole)),
        requests: requests.iter().map(|r| RequestRow::of(r, whole)).collect(),
        form: AskForm::default(),
        errors: BTreeMap::new(),
        notice: None,
    })
}

/// `/console/holders/{id}/iban`: the holder's IBAN and its requests.
pub async fn show(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Response {
    let lang = signed.lang;
    let Some(id) = path_id(&id) else {
        return not_found(lang);
    };
    shown(
        lang,
        "console/iban.html",
        holder_view(&state, &signed, id).await,
    )
}

#[derive(Deserialize)]
pub struct AskFields {
    csrf: Option<String>,
    iban: Option<String>,
    note: Option<String>,
}

#[derive(Deserialize)]
pub struct ReasonForm {
    csrf: Option<String>,
    reason: Option<String>,
}

#[derive(Deserialize)]
pub struct EmptyForm {
    csrf: Option<String>,
}

csrf_form!(AskFields, ReasonForm, EmptyForm);

/// The member's refusals in its language where the use case names them; the use case's own
/// words otherwise.
fn ask_errors(lang: Language, error: &ServiceError) -> Option<BTreeMap<String, Vec<String>>> {
    let ServiceError::Invalid(problems) = error else {
        return None;
    };
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for problem in problems {
        let field = problem
            .place
            .iter()
            .rev()
            .find_map(|p| match p {
                service::Place::Field(field) => Some(field.clone()),
                _ => None,
            })
            .unwrap_or_else(|| "iban".into());
        let message = match problem.kind.as_str() {
            "unchanged" => text(lang, "iban_unchanged"),
            "iban" => format!("{} ({})", text(lang, "iban_invalid"), problem.message),
            _ => problem.message.clone(),
        };
        map.entry(field).or_default().push(message);
    }
    Some(map)
}

/// The member asks; a refusal shows the form again with what was typed and why.
pub async fn ask(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedForm(signed, form): CheckedForm<AskFields>,
) -> Response {
    let lang = signed.lang;
    let Some(id) = path_id(&id) else {
        return not_found(lang);
    };
    let typed = AskForm {
        iban: form.iban.unwrap_or_default(),
        note: form.note.unwrap_or_default(),
    };
    let input = IbanChangeCreate {
        iban: typed.iban.clone(),
        note: Some(typed.note.clone()),
    };
    let (status, notice, errors) = if typed.iban.trim().is_empty() {
        let errors = BTreeMap::from([("iban".to_string(), vec![text(lang, "iban_required")])]);
        (StatusCode::UNPROCESSABLE_ENTITY, None, errors)
    } else if typed.note.chars().count() > 1000 {
        let errors = BTreeMap::from([("note".to_string(), vec![text(lang, "note_too_long")])]);
        (StatusCode::UNPROCESSABLE_ENTITY, None, errors)
    } else {
        match service::iban_changes::request(&signed.actor(), &state.db, &state.mailer, id, input)
            .await
        {
            Ok(_) => (
                StatusCode::CREATED,
                Some(text(lang, "iban_asked")),
                BTreeMap::new(),
            ),
            Err(error) => match ask_errors(lang, &error) {
                Some(errors) => (StatusCode::UNPROCESSABLE_ENTITY, None, errors),
                None => return failure(lang, error),
            },
        }
    };
    match holder_view(&state, &signed, id).await {
        Ok(mut view) => {
            view.notice = notice;
            if !errors.is_empty() {
                view.form = typed;
                view.errors = errors;
            }
            render(status, "console/iban.html", view)
        }
        Err(error) => failure(lang, error),
    }
}

/// The member takes back its request; back to the holder's IBAN page.
pub async fn withdraw(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedForm(signed, _form): CheckedForm<EmptyForm>,
) -> Response {
    let lang = signed.lang;
    let Some(id) = path_id(&id) else {
        return not_found(lang);
    };
    match service::iban_changes::withdraw(&signed.actor(), &state.db, id).await {
        Ok(withdrawn) => axum::response::IntoResponse::into_response(Redirect::to(&format!(
            "/console/holders/{}/iban",
            withdrawn.holder_id
        ))),
        Err(error) => failure(lang, error),
    }
}

#[derive(Deserialize)]
pub struct QueueQuery {
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
struct QueueRow {
    #[serde(flatten)]
    request: RequestRow,
    holder_id: i32,
    holder_name: String,
    fiscal_code: Option<String>,
    email: Option<String>,
    current: Option<String>,
}

#[derive(Serialize)]
struct QueueView {
    #[serde(flatten)]
    frame: Frame,
    filters: Vec<FilterLink>,
    rows: Vec<QueueRow>,
    total: u64,
    #[serde(flatten)]
    pager: Pager,
    notice: Option<String>,
    problems: Vec<String>,
}

/// `None`: every status.
fn parse_status(text: Option<&str>) -> Option<Option<IbanChangeStatus>> {
    const ALL: [IbanChangeStatus; 4] = [
        IbanChangeStatus::Pending,
        IbanChangeStatus::Confirmed,
        IbanChangeStatus::Rejected,
        IbanChangeStatus::Withdrawn,
    ];
    match text.filter(|s| !s.is_empty()) {
        None => Some(Some(IbanChangeStatus::Pending)),
        Some("all") => Some(None),
        Some(other) => ALL.into_iter().find(|s| s.as_str() == other).map(Some),
    }
}

fn status_key(status: Option<IbanChangeStatus>) -> &'static str {
    status.map_or("all", IbanChangeStatus::as_str)
}

fn queue_link(status: Option<IbanChangeStatus>, page: u64) -> String {
    format!(
        "/console/iban-changes?status={}&page={page}",
        status_key(status)
    )
}

fn queue_row(r: &iban_change_request::Model, h: &holder::Model) -> QueueRow {
    QueueRow {
        request: RequestRow::of(r, true),
        holder_id: h.id,
        holder_name: display_name(h).unwrap_or_else(|| format!("#{}", h.id)),
        fiscal_code: h.fiscal_code.clone().or(h.vat_number.clone()),
        email: h.email.clone(),
        current: h.iban.as_deref().map(grouped_iban),
    }
}

async fn queue_view(
    state: &AppState,
    signed: &Signed,
    status: Option<IbanChangeStatus>,
    page: u64,
) -> Result<QueueView, ServiceError> {
    let lang = signed.lang;
    let params = IbanChangeListParams {
        skip: (page - 1) * PAGE_SIZE,
        limit: PAGE_SIZE,
        status,
        configuration_id: None,
    };
    let (rows, total) = service::iban_changes::list(&signed.actor(), &state.db, &params).await?;
    let filters = [
        Some(IbanChangeStatus::Pending),
        Some(IbanChangeStatus::Confirmed),
        Some(IbanChangeStatus::Rejected),
        Some(IbanChangeStatus::Withdrawn),
        None,
    ]
    .into_iter()
    .map(|f| FilterLink {
        label: text(lang, &format!("iban_status_{}", status_key(f))),
        href: queue_link(f, 1),
        current: f == status,
    })
    .collect();
    Ok(QueueView {
        frame: signed.frame(text(lang, "iban_changes")),
        filters,
        rows: rows.iter().map(|(r, h)| queue_row(r, h)).collect(),
        total,
        pager: Pager::new(page, total, PAGE_SIZE, |p| queue_link(status, p)),
        notice: None,
        problems: Vec::new(),
    })
}

/// `/console/iban-changes`: the requests of the holders the operator sees (waiting first).
pub async fn queue(
    State(state): State<AppState>,
    signed: Signed,
    Query(query): Query<QueueQuery>,
) -> Response {
    let lang = signed.lang;
    let Some(status) = parse_status(query.status.as_deref()) else {
        return message_page(lang, StatusCode::BAD_REQUEST, text(lang, "bad_filter"));
    };
    let Some(page) = page_number(query.page.as_deref()) else {
        return bad_page(lang);
    };
    shown(
        lang,
        "console/iban_changes.html",
        queue_view(&state, &signed, status, page).await,
    )
}

/// After a decision: the waiting requests with what happened, or why not.
async fn decided(
    state: &AppState,
    signed: &Signed,
    outcome: Result<String, ServiceError>,
) -> Response {
    let lang = signed.lang;
    let said = match super::said(lang, StatusCode::OK, outcome) {
        Ok(said) => said,
        Err(error) => return failure(lang, error),
    };
    let view = queue_view(state, signed, Some(IbanChangeStatus::Pending), 1).await;
    super::told(lang, "console/iban_changes.html", said, view)
}

super::tells!(QueueView);

fn who(lang: Language, found: &holder::Model) -> String {
    display_name(found).unwrap_or_else(|| format!("{} {}", text(lang, "holder"), found.id))
}

pub async fn confirm(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedForm(signed, _form): CheckedForm<EmptyForm>,
) -> Response {
    let lang = signed.lang;
    let Some(id) = path_id(&id) else {
        return not_found(lang);
    };
    let actor = signed.actor();
    let found = match service::iban_changes::visible(&actor, &state.db, id).await {
        Ok((_, found)) => found,
        Err(error) => return failure(lang, error),
    };
    let outcome = service::iban_changes::confirm(&actor, &state.db, &state.mailer, id)
        .await
        .map(|_| text(lang, "iban_confirmed_notice").replace("{who}", &who(lang, &found)));
    decided(&state, &signed, outcome).await
}

pub async fn reject(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedForm(signed, form): CheckedForm<ReasonForm>,
) -> Response {
    let lang = signed.lang;
    let Some(id) = path_id(&id) else {
        return not_found(lang);
    };
    let actor = signed.actor();
    let found = match service::iban_changes::visible(&actor, &state.db, id).await {
        Ok((_, found)) => found,
        Err(error) => return failure(lang, error),
    };
    let reason = form.reason.unwrap_or_default();
    let outcome = service::iban_changes::reject(&actor, &state.db, &state.mailer, id, &reason)
        .await
        .map(|_| text(lang, "iban_rejected_notice").replace("{who}", &who(lang, &found)));
    decided(&state, &signed, outcome).await
}
