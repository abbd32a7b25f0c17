//! The operators' pages (admin, vendor, referent): configurations, a configuration's dashboard
//! (runs, imports, the month to settle), members, meter-data upload, a run's report and its
//! finalisation. Each handler parses, calls the use case the API calls, and renders.
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};
use tokio::io::BufReader;
use tokio_util::io::StreamReader;

use super::{
    CheckedForm, CheckedUpload, Frame, Pager, Signed, bad_page, csrf_form, decimal, euros, failure,
    message_page, not_found, page_number, path_id, problem_lines, render,
};
use crate::api::state::AppState;
use crate::api::v1::transactions;
use crate::domain::month::Period;
use crate::schemas::configuration::ConfigurationListParams;
use crate::schemas::energy::{ImportParams, ImportPublic};
use crate::schemas::member::MemberListParams;
use crate::schemas::settlement::SettlementPublic;
use crate::service;
use crate::web::text;

/// Rows on one page of a console list.
const PAGE_SIZE: u64 = 50;

#[derive(Serialize)]
struct ConfigurationRow {
    id: i32,
    name: String,
    kind: String,
    status: String,
}

#[derive(Serialize)]
struct HomeView {
    #[serde(flatten)]
    frame: Frame,
    configurations: Vec<ConfigurationRow>,
    total: u64,
    #[serde(flatten)]
    pager: Pager,
}

pub async fn home(state: &AppState, signed: &Signed, page: u64) -> Response {
    let params = ConfigurationListParams {
        skip: (page - 1) * PAGE_SIZE,
        limit: PAGE_SIZE,
        ..query_default()
    };
    match service::configurations::list(&signed.actor(), &state.db, &params).await {
        Ok((configurations, total)) => render(
            StatusCode::OK,
            "console/home.html",
            HomeView {
                frame: signed.frame(text(signed.lang, "configurations")),
                configurations: configurations
                    .into_iter()
                    .map(|c| ConfigurationRow {
                        id: c.id,
                        name: c.name,
                        kind: c.kind.as_str().to_string(),
                        status: c.status.as_str().to_string(),
                    })
                    .collect(),
                total,
                pager: Pager::new(page, total, PAGE_SIZE, |p| format!("/console?page={p}")),
            },
        ),
        Err(error) => failure(signed.lang, error),
    }
}

/// A list query with every filter absent, as the API reads an empty query string.
fn query_default<T: serde::de::DeserializeOwned>() -> T {
    serde_urlencoded::from_str("").expect("every list filter is optional")
}

#[derive(Serialize)]
struct RunRow {
    id: i32,
    period: String,
    status: String,
    stale: bool,
    finalizable: bool,
    members_total: String,
    problems: usize,
}

#[derive(Serialize)]
struct ImportRow {
    id: i32,
    /// `readings`, or `revert` for the record of an undone import.
    kind: String,
    file_name: String,
    format: String,
    intervals: i64,
    pods: i32,
    created_at: String,
    reverted: bool,
    warnings: Vec<String>,
}

#[derive(Serialize)]
struct MonthData {
    month: String,
    members: u64,
    with_data: u64,
    complete: bool,
}

#[derive(Serialize)]
struct SituationView {
    members_not_notified: u64,
    plants_not_notified: u64,
    months: Vec<MonthData>,
    gse_differs: Vec<String>,
}

#[derive(Serialize)]
struct ConfigurationView {
    #[serde(flatten)]
    frame: Frame,
    id: i32,
    name: String,
    kind: String,
    status: String,
    members: u64,
    /// Join requests waiting for a decision; none when the role does not review them.
    join_pending: Option<u64>,
    situation: SituationView,
    /// Whether the public join page is offered: open to requests, with the documents' versions.
    join_page: bool,
    runs: Vec<RunRow>,
    imports: Vec<ImportRow>,
    /// The last month that is over: the one to settle next, as `YYYY-MM`.
    suggested_month: String,
    /// Set after an upload: what was imported, or the problems by line.
    imported: Option<String>,
    import_problems: Vec<String>,
    preview_problems: Vec<String>,
}

pub(super) fn last_month_over() -> String {
    use chrono::Datelike;
    let today = service::italian_today();
    let first = today.with_day(1).unwrap_or(today);
    let previous = first.pred_opt().unwrap_or(first);
    format!("{:04}-{:02}", previous.year(), previous.month())
}

async fn configuration_view(
    state: &AppState,
    signed: &Signed,
    id: i32,
) -> Result<ConfigurationView, service::ServiceError> {
    let actor = signed.actor();
    let configuration = service::configurations::visible(&actor, &state.db, id).await?;
    let members_query = MemberListParams {
        configuration_id: Some(configuration.id),
        limit: 1,
        ..query_default()
    };
    let (_, members) = service::members::list(&actor, &state.db, &members_query).await?;
    let join_pending = match service::join_requests::list(
        &actor,
        &state.db,
        configuration.id,
        Some(crate::models::enums::JoinRequestStatus::Pending),
        0,
        1,
    )
    .await
    {
        Ok((_, total)) => Some(total),
        Err(service::ServiceError::Forbidden) => None,
        Err(error) => return Err(error),
    };
    let situation = service::configurations::situation(&actor, &state.db, configuration.id).await?;
    let situation = SituationView {
        members_not_notified: situation.members_not_notified,
        plants_not_notified: situation.plants_not_notified,
        months: situation
            .months
            .into_iter()
            .map(|(month, members, with_data)| MonthData {
                month: month.label(),
                members,
                with_data,
                complete: members == with_data,
            })
            .collect(),
        gse_differs: situation.gse_differs,
    };
    let lang = signed.lang;
    let runs = service::settlements::runs(&actor, &state.db, configuration.id)
        .await?
        .into_iter()
        .take(24)
        .map(|(run, latest)| {
            SettlementPublic::from_model(run, latest)
                .map(|public| RunRow {
                    id: public.summary.id,
                    period: public.summary.period.clone(),
                    status: public.summary.status.clone(),
                    stale: public.summary.stale,
                    finalizable: public.summary.finalizable,
                    members_total: euros(public.summary.money.members_cents, lang),
                    problems: public.report.problems.len(),
                })
                .map_err(service::ServiceError::from)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let imports =
        service::readings::imports_of(&actor, &state.db, configuration.id, Some("readings"))
            .await?
            .into_iter()
            .take(20)
            .map(|model| {
                ImportPublic::from_model(model)
                    .map(|i| ImportRow {
                        id: i.id,
                        kind: i.kind,
                        file_name: i.file_name,
                        format: i.format,
                        intervals: i.intervals,
                        pods: i.pods,
                        created_at: super::minute(i.created_at),
                        reverted: i.reverted_by_import_id.is_some(),
                        warnings: i.warnings,
                    })
                    .map_err(|error| service::ServiceError::Internal(anyhow::anyhow!(error)))
            })
            .collect::<Result<Vec<_>, _>>()?;
    Ok(ConfigurationView {
        frame: signed.frame(configuration.name.clone()),
        id: configuration.id,
        name: configuration.name,
        kind: configuration.kind.as_str().to_string(),
        status: configuration.status.as_str().to_string(),
        members,
        join_pending,
        situation,
        join_page: configuration.accepts_join_requests
            && configuration.status != crate::models::enums::ConfigurationStatus::Closed
            && configuration.privacy_notice_version.is_some()
            && configuration.statute_version.is_some(),
        runs,
        imports,
        suggested_month: last_month_over(),
        imported: None,
        import_problems: Vec::new(),
        preview_problems: Vec::new(),
    })
}

pub async fn configuration(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Response {
    let Some(id) = path_id(&id) else {
        return not_found(signed.lang);
    };
    match configuration_view(&state, &signed, id).await {
        Ok(view) => render(StatusCode::OK, "console/configuration.html", view),
        Err(error) => failure(signed.lang, error),
    }
}

#[derive(Deserialize)]
pub struct MembersQuery {
    search: Option<String>,
    page: Option<String>,
}

#[derive(Serialize)]
struct MemberRow {
    id: i32,
    pod: String,
    role: String,
    status: String,
    holder_type: String,
    joined_at: String,
    withdrawn_at: Option<String>,
}

#[derive(Serialize)]
struct MembersView {
    #[serde(flatten)]
    frame: Frame,
    configuration_id: i32,
    configuration_name: String,
    search: String,
    members: Vec<MemberRow>,
    total: u64,
    page: u64,
    pages: u64,
    previous: Option<String>,
    next: Option<String>,
}

fn page_link(configuration_id: i32, search: &str, page: u64) -> String {
    let query = serde_urlencoded::to_string([("search", search), ("page", &page.to_string())])
        .unwrap_or_default();
    format!("/console/configurations/{configuration_id}/members?{query}")
}

pub async fn members(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Query(query): Query<MembersQuery>,
) -> Response {
    let lang = signed.lang;
    let Some(id) = path_id(&id) else {
        return not_found(lang);
    };
    let Some(page) = page_number(query.page.as_deref()) else {
        return bad_page(lang);
    };
    let search: String = query
        .search
        .unwrap_or_default()
        .trim()
        .chars()
        .take(200)
        .collect();
    let actor = signed.actor();
    let configuration = match service::configurations::visible(&actor, &state.db, id).await {
        Ok(c) => c,
        Err(error) => return failure(lang, error),
    };
    let params = MemberListParams {
        configuration_id: Some(configuration.id),
        skip: (page - 1) * PAGE_SIZE,
        limit: PAGE_SIZE,
        search: Some(search.clone()).filter(|s| !s.is_empty()),
        ..query_default()
    };
    let (rows, total) = match service::members::list(&actor, &state.db, &params).await {
        Ok(found) => found,
        Err(error) => return failure(lang, error),
    };
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    render(
        StatusCode::OK,
        "console/members.html",
        MembersView {
            frame: signed.frame(format!(
                "{} · {}",
                text(lang, "members"),
                configuration.name
            )),
            configuration_id: configuration.id,
            configuration_name: configuration.name,
            members: rows
                .into_iter()
                .map(|m| MemberRow {
                    id: m.id,
                    pod: m.pod,
                    role: m.role.as_str().to_string(),
                    status: m.status.as_str().to_string(),
                    holder_type: m.holder_type.as_str().to_string(),
                    joined_at: m.joined_at.to_string(),
                    withdrawn_at: m.withdrawn_at.map(|d| d.to_string()),
                })
                .collect(),
            total,
            page,
            pages,
            previous: (page > 1).then(|| page_link(configuration.id, &search, page - 1)),
            next: (page < pages).then(|| page_link(configuration.id, &search, page + 1)),
            search,
        },
    )
}

/// A meter-data file uploaded from the dashboard: the form's CSRF token comes first, then the
/// file, streamed into the same import as the API's.
pub async fn import(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedUpload(signed, mut multipart): CheckedUpload,
) -> Response {
    let lang = signed.lang;
    let Some(id) = path_id(&id) else {
        return not_found(lang);
    };
    let field = match multipart.next_field().await {
        Ok(Some(field)) if field.name() == Some("file") => field,
        _ => return message_page(lang, StatusCode::BAD_REQUEST, text(lang, "upload_missing")),
    };
    let mut options = match crate::imports::import_options(&query_default::<ImportParams>()) {
        Ok(options) => options,
        Err((_, message)) => return message_page(lang, StatusCode::BAD_REQUEST, message),
    };
    options.file_name = field.file_name().map(str::to_string);
    options.max_lines = Some(state.settings.upload_max_lines);
    let read_error = crate::api::extract::field_read_error(state.settings.upload_max_bytes);
    let reader = BufReader::new(StreamReader::new(field.map_err(read_error)));
    let outcome = service::readings::import(
        &signed.actor(),
        &state.db,
        id,
        reader,
        options,
        false,
        |_| {},
    )
    .await;
    let (status, imported, problems) = match outcome {
        Ok(summary) => (
            StatusCode::CREATED,
            Some(
                text(lang, "import_done")
                    .replace("{intervals}", &summary.intervals.to_string())
                    .replace("{pods}", &summary.pods.to_string()),
            ),
            Vec::new(),
        ),
        Err(error @ service::ServiceError::Invalid(_)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            problem_lines(lang, &error),
        ),
        Err(error) => return failure(lang, error),
    };
    match configuration_view(&state, &signed, id).await {
        Ok(mut view) => {
            view.imported = imported;
            view.import_problems = problems;
            render(status, "console/configuration.html", view)
        }
        Err(error) => failure(lang, error),
    }
}

#[derive(Deserialize)]
pub struct PreviewForm {
    csrf: Option<String>,
    month: Option<String>,
}

pub async fn preview(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedForm(signed, form): CheckedForm<PreviewForm>,
) -> Response {
    let lang = signed.lang;
    let Some(id) = path_id(&id) else {
        return not_found(lang);
    };
    let month = form.month.unwrap_or_default();
    let outcome = match Period::parse(month.trim()) {
        Some(period) => {
            service::settlements::preview(&signed.actor(), &state.db, id, period, &|_| {}).await
        }
        None => Err(service::ServiceError::invalid(
            "month",
            text(lang, "month_invalid"),
            "value_error",
        )),
    };
    match outcome {
        Ok(run) => Redirect::to(&format!("/console/runs/{}", run.id)).into_response(),
        Err(error @ service::ServiceError::Invalid(_)) => {
            match configuration_view(&state, &signed, id).await {
                Ok(mut view) => {
                    view.preview_problems = problem_lines(lang, &error);
                    render(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "console/configuration.html",
                        view,
                    )
                }
                Err(error) => failure(lang, error),
            }
        }
        Err(error) => failure(lang, error),
    }
}

#[derive(Serialize)]
struct MemberLine {
    member_id: i32,
    pod: String,
    holder_type: String,
    withdrawn_kwh: String,
    injected_kwh: String,
    shared_kwh: String,
    missing_hours: Option<i64>,
    total: String,
}

#[derive(Serialize)]
struct MoneyLine {
    label: String,
    amount: String,
}

#[derive(Serialize)]
struct RunView {
    #[serde(flatten)]
    frame: Frame,
    id: i32,
    configuration_id: i32,
    period: String,
    status: String,
    stale: bool,
    finalizable: bool,
    incomplete_reason: Option<String>,
    blockers: Vec<String>,
    gaps: Vec<String>,
    notes: Vec<String>,
    rules: Vec<String>,
    money: Vec<MoneyLine>,
    shared_kwh: String,
    members: Vec<MemberLine>,
    finalize_problems: Vec<String>,
    finalized_message: Option<String>,
    /// A finalised month whose statements the caller may send.
    can_mail: bool,
    mailings: Vec<MailingView>,
    mail_problems: Vec<String>,
    mailed_message: Option<String>,
}

#[derive(Serialize)]
struct MailingView {
    caption: String,
    items: Vec<MailingItemView>,
}

#[derive(Serialize)]
struct MailingItemView {
    member_id: i32,
    pod: String,
    recipient: Option<String>,
    /// The outbox's state of the message, translated, or why the member was not mailed.
    state: String,
}

async fn run_view(
    state: &AppState,
    signed: &Signed,
    id: i32,
) -> Result<RunView, service::ServiceError> {
    let (run, latest) = service::settlements::visible_run(&signed.actor(), &state.db, id).await?;
    view_of_run(signed, run, latest)
}

/// The page of a run already read (`latest`: the newest run of its month).
fn view_of_run(
    signed: &Signed,
    run: crate::models::settlement_run::Model,
    latest: i32,
) -> Result<RunView, service::ServiceError> {
    let public = SettlementPublic::from_model(run, latest)?;
    let lang = signed.lang;
    let summary = &public.summary;
    let report = &public.report;
    let m = &report.money;
    let money = [
        ("money_premium", m.premium_cents),
        ("money_excess", m.excess_cents),
        ("money_valorisation", m.valorisation_cents),
        ("money_fees", -m.fees_cents),
        ("money_management", m.management_cents),
        ("money_social_fund", m.social_fund_cents),
        ("money_members", m.members_cents),
    ]
    .into_iter()
    .map(|(key, cents)| MoneyLine {
        label: text(lang, key),
        amount: euros(cents, lang),
    })
    .collect();
    Ok(RunView {
        frame: signed.frame(format!("{} {}", text(lang, "settlement"), summary.period)),
        id: summary.id,
        configuration_id: summary.configuration_id,
        period: summary.period.clone(),
        status: summary.status.clone(),
        stale: summary.stale,
        finalizable: summary.finalizable,
        incomplete_reason: summary.incomplete_reason.clone(),
        blockers: report.blockers.clone(),
        gaps: report.gaps.clone(),
        notes: report.notes.clone(),
        rules: report.rules.clone(),
        money,
        shared_kwh: decimal(&report.totals.shared_kwh.to_string(), lang),
        members: report
            .members
            .iter()
            .map(|line| MemberLine {
                member_id: line.member_id,
                pod: line.pod.clone(),
                holder_type: line.holder_type.as_str().to_string(),
                withdrawn_kwh: decimal(&line.withdrawn_kwh.to_string(), lang),
                injected_kwh: decimal(&line.injected_kwh.to_string(), lang),
                shared_kwh: decimal(&line.shared_kwh.to_string(), lang),
                missing_hours: line
                    .withdrawal
                    .as_ref()
                    .map(|c| c.missing_hours)
                    .into_iter()
                    .chain(line.injection.as_ref().map(|c| c.missing_hours))
                    .reduce(|a, b| a + b)
                    .filter(|h| *h > 0),
                total: euros(line.total_cents, lang),
            })
            .collect(),
        finalize_problems: Vec::new(),
        finalized_message: None,
        can_mail: false,
        mailings: Vec::new(),
        mail_problems: Vec::new(),
        mailed_message: None,
    })
}

/// Adds the month's statement mailings to a finalised run's page. A role that may not send
/// statements sees the run without them.
async fn with_mailings(
    state: &AppState,
    signed: &Signed,
    mut view: RunView,
) -> Result<RunView, service::ServiceError> {
    if view.status != "finalized" {
        return Ok(view);
    }
    let lang = signed.lang;
    let mailings = match service::statements::mailings(
        &signed.actor(),
        &state.db,
        view.configuration_id,
    )
    .await
    {
        Ok(mailings) => mailings,
        Err(service::ServiceError::Forbidden) => return Ok(view),
        Err(error) => return Err(error),
    };
    let pods: std::collections::HashMap<i32, String> = view
        .members
        .iter()
        .map(|m| (m.member_id, m.pod.clone()))
        .collect();
    view.can_mail = true;
    view.mailings = mailings
        .into_iter()
        .filter(|(mailing, _)| mailing.period_start.format("%Y-%m").to_string() == view.period)
        .map(|(mailing, items)| MailingView {
            caption: text(lang, "mailing_caption")
                .replace("{date}", &super::minute(mailing.created_at))
                .replace("{queued}", &mailing.queued.to_string())
                .replace("{skipped}", &mailing.skipped.to_string()),
            items: items
                .into_iter()
                .map(|(item, delivery)| MailingItemView {
                    member_id: item.member_id,
                    pod: pods
                        .get(&item.member_id)
                        .cloned()
                        .unwrap_or_else(|| format!("#{}", item.member_id)),
                    recipient: item.recipient,
                    state: match (delivery, item.reason) {
                        (Some(status), _) => text(lang, &format!("mail_{status}")),
                        (None, Some(reason)) => format!("{}: {reason}", text(lang, "not_mailed")),
                        (None, None) => text(lang, "not_mailed"),
                    },
                })
                .collect(),
        })
        .collect();
    Ok(view)
}

pub async fn run(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Response {
    let Some(id) = path_id(&id) else {
        return not_found(signed.lang);
    };
    let view = match run_view(&state, &signed, id).await {
        Ok(view) => with_mailings(&state, &signed, view).await,
        Err(error) => Err(error),
    };
    match view {
        Ok(view) => render(StatusCode::OK, "console/run.html", view),
        Err(error) => failure(signed.lang, error),
    }
}

#[derive(Deserialize)]
pub struct FinalizeForm {
    csrf: Option<String>,
    accept_incomplete: Option<String>,
    reason: Option<String>,
}

pub async fn finalize(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedForm(signed, form): CheckedForm<FinalizeForm>,
) -> Response {
    let lang = signed.lang;
    let Some(id) = path_id(&id) else {
        return not_found(lang);
    };
    // The same choice as the API's body: accept missing data only with a reason.
    let accept_incomplete = form
        .accept_incomplete
        .filter(|v| v == "on" || v == "true")
        .map(|_| form.reason.clone());
    let outcome =
        service::settlements::finalize(&signed.actor(), &state.db, id, accept_incomplete).await;
    // A finalised run comes back from the use case; after a refusal the run is read again.
    let (status, problems, message, finalised) = match outcome {
        Ok((finalization, run, latest)) => (
            StatusCode::OK,
            Vec::new(),
            Some(
                text(lang, "finalized")
                    .replace("{rows}", &finalization.transactions_written.to_string()),
            ),
            Some((run, latest)),
        ),
        Err(error @ service::ServiceError::Invalid(_)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            problem_lines(lang, &error),
            None,
            None,
        ),
        Err(service::ServiceError::Conflict(detail)) => {
            (StatusCode::CONFLICT, vec![detail], None, None)
        }
        Err(error) => return failure(lang, error),
    };
    let view = match finalised {
        Some((run, latest)) => view_of_run(&signed, run, latest),
        None => run_view(&state, &signed, id).await,
    };
    let view = match view {
        Ok(view) => with_mailings(&state, &signed, view).await,
        Err(error) => Err(error),
    };
    match view {
        Ok(mut view) => {
            view.finalize_problems = problems;
            view.finalized_message = message;
            render(status, "console/run.html", view)
        }
        Err(error) => failure(lang, error),
    }
}

#[derive(Deserialize)]
pub struct MailForm {
    csrf: Option<String>,
    again: Option<String>,
}

/// Sends a finalised month's statements to its members (the API's `POST /configurations/{id}/
/// statement-mailings`), then shows the run with the mailing: who was mailed, who was not and
/// why, or why nothing was sent.
pub async fn mail_statements(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedForm(signed, form): CheckedForm<MailForm>,
) -> Response {
    let lang = signed.lang;
    let Some(id) = path_id(&id) else {
        return not_found(lang);
    };
    let again = form.again.is_some_and(|v| v == "on" || v == "true");
    let view = match run_view(&state, &signed, id).await {
        Ok(view) => view,
        Err(error) => return failure(lang, error),
    };
    let Some(month) = Period::parse(&view.period) else {
        return not_found(lang);
    };
    let outcome = service::statements::mail_month(
        &signed.actor(),
        &state.db,
        &state.mailer,
        view.configuration_id,
        month,
        again,
    )
    .await
    .map(|(mailing, _)| {
        text(lang, "statements_sent")
            .replace("{queued}", &mailing.queued.to_string())
            .replace("{skipped}", &mailing.skipped.to_string())
    });
    let said = match super::said(lang, StatusCode::CREATED, outcome) {
        Ok(said) => said,
        Err(error) => return failure(lang, error),
    };
    let view = with_mailings(&state, &signed, view).await;
    super::told(lang, "console/run.html", said, view)
}

impl super::Tells for RunView {
    fn tell(&mut self, notice: Option<String>, problems: Vec<String>) {
        self.mailed_message = notice;
        self.mail_problems = problems;
    }
}

/// The configuration's ledger as the API's CSV file (Italian Excel), every row.
pub async fn ledger(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Response {
    let lang = signed.lang;
    let Some(id) = path_id(&id) else {
        return not_found(lang);
    };
    let actor = signed.actor();
    let configuration = match service::configurations::visible(&actor, &state.db, id).await {
        Ok(configuration) => configuration,
        Err(error) => return failure(lang, error),
    };
    let params = transactions::file_params(query_default(), Some(configuration.id), None);
    match service::transactions::export(&actor, &state.db, &params).await {
        Ok(rows) => transactions::ledger_file(&format!("ledger-configuration-{id}.csv"), rows),
        Err(error) => failure(lang, error),
    }
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    csrf: Option<String>,
}

csrf_form!(PreviewForm, FinalizeForm, MailForm, CsrfOnly);

/// Undoes a meter-data import (the API's `POST /imports/{id}/revert`), then shows the
/// configuration's dashboard with what was put back, or why it could not be.
pub async fn revert_import(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedForm(signed, _): CheckedForm<CsrfOnly>,
) -> Response {
    let lang = signed.lang;
    let Some(id) = path_id(&id) else {
        return not_found(lang);
    };
    let actor = signed.actor();
    let import = match service::readings::visible_import(&actor, &state.db, id).await {
        Ok(import) => import,
        Err(error) => return failure(lang, error),
    };
    let Some(configuration_id) = import.configuration_id else {
        return not_found(lang);
    };
    let (status, notice, problems) = match service::readings::revert(&actor, &state.db, id).await {
        Ok(summary) => (
            StatusCode::OK,
            Some(
                text(lang, "import_reverted")
                    .replace("{file}", &import.source)
                    .replace("{restored}", &summary.restored.to_string())
                    .replace("{removed}", &summary.removed.to_string()),
            ),
            Vec::new(),
        ),
        Err(service::ServiceError::Conflict(detail)) => (StatusCode::CONFLICT, None, vec![detail]),
        Err(error) => return failure(lang, error),
    };
    match configuration_view(&state, &signed, configuration_id).await {
        Ok(mut view) => {
            view.imported = notice;
            view.import_problems = problems;
            render(status, "console/configuration.html", view)
        }
        Err(error) => failure(lang, error),
    }
}
