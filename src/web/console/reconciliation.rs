//! What GSE published and paid against our finalised runs, for one configuration and year:
//! each month (and the year's true-up) component by component — ours, GSE's, the difference
//! and the verdict, with what explains it —, the ledger's balance of GSE's payments, the CSV
//! file, and GSE's figures uploaded as the API imports them (all or nothing, lines named).
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Datelike;
use serde::Serialize;

use super::{
    CheckedUpload, Frame, Signed, YearQuery, decimal, failure, message_page, not_found, path_id,
    problem_lines, year_of,
};
use crate::api::state::AppState;
use crate::models::enums::Language;
use crate::schemas::gse::Reconciliation;
use crate::service::{self, ServiceError};
use crate::web::text;

#[derive(Serialize)]
struct ComponentRow {
    component: &'static str,
    unit: String,
    computed: String,
    gse: String,
    difference: String,
    status: &'static str,
}

#[derive(Serialize)]
struct PeriodRow {
    period: String,
    status: &'static str,
    run_id: Option<i32>,
    components: Vec<ComponentRow>,
    paid: Option<String>,
    paid_on: Option<String>,
    explanations: Vec<String>,
}

#[derive(Serialize)]
struct LedgerRow {
    label: String,
    amount: String,
}

#[derive(Serialize)]
struct ReconciliationView {
    #[serde(flatten)]
    frame: Frame,
    configuration_id: i32,
    configuration_name: String,
    year: i32,
    previous_year: i32,
    next_year: i32,
    periods: Vec<PeriodRow>,
    ledger: Vec<LedgerRow>,
    notice: Option<String>,
    problems: Vec<String>,
}

/// A figure in the page's language, with its unit; a dash when that side has none.
fn figure(value: Option<rust_decimal::Decimal>, unit: &str, lang: Language) -> String {
    match value {
        None => "–".into(),
        Some(v) if unit == "EUR" => format!("{} €", decimal(&v.to_string(), lang)),
        Some(v) => format!("{} kWh", decimal(&v.to_string(), lang)),
    }
}

fn rows(r: &Reconciliation, lang: Language) -> (Vec<PeriodRow>, Vec<LedgerRow>) {
    let periods = r
        .periods
        .iter()
        .map(|p| PeriodRow {
            period: p.period.clone(),
            status: p.status.as_str(),
            run_id: p.run_id,
            components: p
                .components
                .iter()
                .map(|c| ComponentRow {
                    component: c.component.as_str(),
                    unit: c.unit.clone(),
                    computed: figure(c.computed, &c.unit, lang),
                    gse: figure(c.gse, &c.unit, lang),
                    difference: figure(c.difference, &c.unit, lang),
                    status: c.status.as_str(),
                })
                .collect(),
            paid: p.paid_eur.map(|v| figure(Some(v), "EUR", lang)),
            paid_on: p.paid_on.map(|d| d.to_string()),
            explanations: p.explanations.clone(),
        })
        .collect();
    let l = &r.ledger;
    let ledger = [
        ("recon_gse_expected", l.gse_expected_eur),
        ("recon_gse_paid", l.gse_paid_eur),
        ("recon_members_credited", l.members_credited_eur),
        ("recon_members_paid", l.members_paid_eur),
        ("recon_retained", l.retained_eur),
        ("recon_cash_held", l.cash_held_eur),
    ]
    .into_iter()
    .map(|(key, amount)| LedgerRow {
        label: text(lang, key),
        amount: figure(Some(amount), "EUR", lang),
    })
    .collect();
    (periods, ledger)
}

async fn view(
    state: &AppState,
    signed: &Signed,
    configuration_id: i32,
    year: i32,
) -> Result<ReconciliationView, ServiceError> {
    let lang = signed.lang;
    let actor = signed.actor();
    let configuration =
        service::configurations::visible(&actor, &state.db, configuration_id).await?;
    let reconciliation =
        service::gse::reconciliation(&actor, &state.db, configuration.id, year, None, None).await?;
    let (periods, ledger) = rows(&reconciliation, lang);
    Ok(ReconciliationView {
        frame: signed.frame(format!(
            "{} {year} · {}",
            text(lang, "reconciliation"),
            configuration.name
        )),
        configuration_id: configuration.id,
        configuration_name: configuration.name,
        year,
        previous_year: year - 1,
        next_year: year + 1,
        periods,
        ledger,
        notice: None,
        problems: Vec::new(),
    })
}

/// `/console/configurations/{id}/reconciliation?year=`.
pub async fn show(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Query(query): Query<YearQuery>,
) -> Response {
    let lang = signed.lang;
    let Some(id) = path_id(&id) else {
        return not_found(lang);
    };
    let Some(year) = year_of(&query) else {
        return message_page(lang, StatusCode::BAD_REQUEST, text(lang, "bad_year"));
    };
    super::shown(
        lang,
        "console/reconciliation.html",
        view(&state, &signed, id, year).await,
    )
}

/// The same figures as the API's CSV file.
pub async fn csv(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Query(query): Query<YearQuery>,
) -> Response {
    let lang = signed.lang;
    let Some(id) = path_id(&id) else {
        return not_found(lang);
    };
    let Some(year) = year_of(&query) else {
        return message_page(lang, StatusCode::BAD_REQUEST, text(lang, "bad_year"));
    };
    match service::gse::reconciliation(&signed.actor(), &state.db, id, year, None, None).await {
        Ok(reconciliation) => crate::api::v1::gse::reconciliation_file(&reconciliation),
        Err(error) => failure(lang, error),
    }
}

/// GSE's figures uploaded (the form's CSRF part first, then the file): recorded all or none,
/// then the year of the first statement recorded is shown.
pub async fn import(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedUpload(signed, mut multipart): CheckedUpload,
) -> Response {
    let lang = signed.lang;
    let Some(id) = path_id(&id) else {
        return not_found(lang);
    };
    let bytes = match multipart.next_field().await {
        Ok(Some(field)) if field.name() == Some("file") => match field.bytes().await {
            Ok(bytes) => bytes,
            Err(_) => {
                return message_page(lang, StatusCode::BAD_REQUEST, text(lang, "upload_missing"));
            }
        },
        _ => return message_page(lang, StatusCode::BAD_REQUEST, text(lang, "upload_missing")),
    };
    let outcome = service::gse::import(&signed.actor(), &state.db, id, "condivisa", &bytes).await;
    let (status, year, notice, problems) = match outcome {
        Ok(created) => (
            StatusCode::CREATED,
            created
                .first()
                .map(|s| s.period_start.year())
                .unwrap_or_else(|| service::italian_today().year()),
            Some(text(lang, "recon_imported").replace("{n}", &created.len().to_string())),
            Vec::new(),
        ),
        Err(error @ ServiceError::Invalid(_)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            service::italian_today().year(),
            None,
            problem_lines(lang, &error),
        ),
        Err(error) => return failure(lang, error),
    };
    let said = super::Said {
        status,
        notice,
        problems,
    };
    let page = view(&state, &signed, id, year).await;
    super::told(lang, "console/reconciliation.html", said, page)
}

super::tells!(ReconciliationView);
