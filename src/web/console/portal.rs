//! The members' portal: a member's memberships, and for each its energy month by month (the
//! table and the API's SVG chart), its statement with the PDF of each finalised month and of
//! the year. Operators open the same page for a member in their scope; anyone else gets a 404,
//! as from the API (`service::members::visible` decides).
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use super::{
    Frame, Pager, Signed, YearQuery, decimal, euros, failure, masked_iban, message_page, not_found,
    path_id, render, year_of,
};
use crate::api::state::AppState;
use crate::domain::energy_series::Granularity;
use crate::schemas::energy::SeriesParams;
use crate::schemas::member::MemberListParams;
use crate::service;
use crate::web::text;

#[derive(Serialize)]
struct Membership {
    id: i32,
    pod: String,
    role: String,
    status: String,
}

#[derive(Serialize)]
struct HomeView {
    #[serde(flatten)]
    frame: Frame,
    memberships: Vec<Membership>,
    #[serde(flatten)]
    pager: Pager,
}

/// Memberships on one page of a member's home.
const MEMBERSHIPS_PAGE: u64 = 50;

pub async fn home(state: &AppState, signed: &Signed, page: u64) -> Response {
    let params: MemberListParams = serde_urlencoded::from_str(&format!(
        "skip={}&limit={MEMBERSHIPS_PAGE}",
        (page - 1) * MEMBERSHIPS_PAGE
    ))
    .expect("a member list query with a page only");
    match service::members::list(&signed.actor(), &state.db, &params).await {
        Ok((members, total)) => render(
            StatusCode::OK,
            "console/portal_home.html",
            HomeView {
                frame: signed.frame(text(signed.lang, "my_memberships")),
                memberships: members
                    .into_iter()
                    .map(|m| Membership {
                        id: m.id,
                        pod: m.pod,
                        role: m.role.as_str().to_string(),
                        status: m.status.as_str().to_string(),
                    })
                    .collect(),
                pager: Pager::new(page, total, MEMBERSHIPS_PAGE, |p| {
                    format!("/console?page={p}")
                }),
            },
        ),
        Err(error) => failure(signed.lang, error),
    }
}

#[derive(Serialize)]
struct EnergyRow {
    label: String,
    withdrawn_kwh: String,
    injected_kwh: String,
    shared_kwh: String,
}

#[derive(Serialize)]
struct StatementRow {
    period: String,
    month: u32,
    shared_kwh: String,
    incentive: String,
    valorisation: String,
    total: String,
    provisional: Option<String>,
}

#[derive(Serialize)]
struct MemberView {
    #[serde(flatten)]
    frame: Frame,
    id: i32,
    pod: String,
    year: i32,
    previous_year: i32,
    next_year: Option<i32>,
    energy: Vec<EnergyRow>,
    total_shared_kwh: String,
    statement: Vec<StatementRow>,
    statement_total: String,
    balance: String,
    /// The point's holder as stored, when the person may read it (a draft or erased holder
    /// shows what is left).
    holder: Option<HolderView>,
}

#[derive(Serialize)]
struct HolderView {
    id: i32,
    /// The viewer is the holder's own account (it may ask for a new IBAN).
    own: bool,
    name: String,
    kind: String,
    status: String,
    fiscal_code: Option<String>,
    address: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    /// Only the last four characters: the page is not where the whole IBAN needs to be.
    iban: Option<String>,
    consents: Vec<ConsentRow>,
}

#[derive(Serialize)]
struct ConsentRow {
    kind: String,
    version: String,
    given_at: String,
    withdrawn_at: Option<String>,
}

/// The member's holder and its consents, or none when the point has no holder.
async fn holder_view(
    state: &AppState,
    signed: &Signed,
    holder_id: Option<i32>,
) -> Result<Option<HolderView>, service::ServiceError> {
    let Some(holder_id) = holder_id else {
        return Ok(None);
    };
    let actor = signed.actor();
    let holder = service::holders::visible(&actor, &state.db, holder_id).await?;
    let consents = service::holders::consents(&actor, &state.db, holder.id).await?;
    let joined = |parts: [Option<&str>; 4], separator: &str| {
        let parts: Vec<&str> = parts
            .into_iter()
            .flatten()
            .filter(|p| !p.is_empty())
            .collect();
        (!parts.is_empty()).then(|| parts.join(separator))
    };
    let day = |at: chrono::DateTime<chrono::Utc>| at.format("%Y-%m-%d").to_string();
    Ok(Some(HolderView {
        id: holder.id,
        own: holder.user_id == Some(actor.user_id),
        name: holder
            .company_name
            .clone()
            .or_else(|| {
                joined(
                    [
                        holder.first_name.as_deref(),
                        holder.last_name.as_deref(),
                        None,
                        None,
                    ],
                    " ",
                )
            })
            .unwrap_or_default(),
        kind: holder.kind.as_str().to_string(),
        status: holder.status.as_str().to_string(),
        fiscal_code: holder.fiscal_code.clone().or(holder.vat_number.clone()),
        address: joined(
            [
                holder.street.as_deref(),
                holder.postcode.as_deref(),
                holder.municipality.as_deref(),
                holder.province.as_deref(),
            ],
            ", ",
        ),
        email: holder.email.clone(),
        phone: holder.phone.clone(),
        iban: holder.iban.as_deref().map(masked_iban),
        consents: consents
            .into_iter()
            .map(|c| ConsentRow {
                kind: c.kind.as_str().to_string(),
                version: c.document_version,
                given_at: day(c.given_at),
                withdrawn_at: c.withdrawn_at.map(day),
            })
            .collect(),
    }))
}

pub async fn member(
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
    let actor = signed.actor();
    let member = match service::members::visible(&actor, &state.db, id).await {
        Ok(member) => member,
        Err(error) => return failure(lang, error),
    };
    let this_year = service::italian_today().year();
    let series = match year_series(&state, &signed, id, year).await {
        Ok(series) => series,
        Err(error) => return failure(lang, error),
    };
    let statement = match service::settlements::statement(&actor, &state.db, id, year).await {
        Ok(statement) => statement,
        Err(error) => return failure(lang, error),
    };
    let holder = match holder_view(&state, &signed, member.holder_id).await {
        Ok(holder) => holder,
        Err(error) => return failure(lang, error),
    };
    let euros_of = |cents: i64| euros(cents, lang);
    render(
        StatusCode::OK,
        "console/member.html",
        MemberView {
            frame: signed.frame(format!("POD {}", member.pod)),
            id: member.id,
            pod: member.pod,
            year,
            previous_year: year - 1,
            next_year: (year < this_year).then_some(year + 1),
            total_shared_kwh: decimal(&series.total_shared_kwh.to_string(), lang),
            energy: series
                .points
                .iter()
                .map(|p| EnergyRow {
                    label: p.label.clone(),
                    withdrawn_kwh: decimal(&p.withdrawn_kwh.to_string(), lang),
                    injected_kwh: decimal(&p.injected_kwh.to_string(), lang),
                    shared_kwh: decimal(&p.shared_kwh.to_string(), lang),
                })
                .collect(),
            statement: statement
                .months
                .iter()
                .map(|m| StatementRow {
                    period: m.period.clone(),
                    month: m
                        .period
                        .get(5..7)
                        .and_then(|mm| mm.parse().ok())
                        .unwrap_or_default(),
                    shared_kwh: decimal(&m.shared_kwh.to_string(), lang),
                    incentive: euros_of(m.incentive_cents + m.excess_premium_cents),
                    valorisation: euros_of(m.valorisation_cents),
                    total: euros_of(
                        m.incentive_cents
                            + m.excess_premium_cents
                            + m.valorisation_cents
                            + m.other_cents,
                    ),
                    provisional: m.provisional.clone(),
                })
                .collect(),
            statement_total: euros_of(
                statement.total.incentive_cents
                    + statement.total.excess_premium_cents
                    + statement.total.valorisation_cents
                    + statement.total.other_cents,
            ),
            balance: euros_of(statement.balance_cents),
            holder,
        },
    )
}

/// The member's year month by month, up to today for the current year.
async fn year_series(
    state: &AppState,
    signed: &Signed,
    id: i32,
    year: i32,
) -> Result<crate::schemas::energy::EnergySeries, service::ServiceError> {
    let today = service::italian_today();
    let from = NaiveDate::from_ymd_opt(year, 1, 1).expect("a year between 2020 and 2100");
    let end = NaiveDate::from_ymd_opt(year, 12, 31).expect("a year between 2020 and 2100");
    let params = SeriesParams {
        from,
        to: end.min(today.max(from)),
        granularity: Some(Granularity::Month),
    };
    let (_, series) =
        service::energy::member_series(&signed.actor(), &state.db, id, &params).await?;
    Ok(series)
}

/// The member's year as the API's SVG chart, for the page's `<img>`.
pub async fn energy_svg(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Query(query): Query<YearQuery>,
) -> Response {
    let lang = signed.lang;
    let (Some(id), Some(year)) = (path_id(&id), year_of(&query)) else {
        return not_found(lang);
    };
    match year_series(&state, &signed, id, year).await {
        Ok(series) => crate::api::v1::energy::svg_response(&year.to_string(), &series),
        Err(error) => failure(lang, error),
    }
}

#[derive(Deserialize)]
pub struct PdfQuery {
    year: Option<String>,
    month: Option<String>,
}

pub async fn statement_pdf(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Query(query): Query<PdfQuery>,
) -> Response {
    let lang = signed.lang;
    let Some(id) = path_id(&id) else {
        return not_found(lang);
    };
    let Some(year) = year_of(&YearQuery { year: query.year }) else {
        return message_page(lang, StatusCode::BAD_REQUEST, text(lang, "bad_year"));
    };
    let month = match query.month.as_deref().filter(|m| !m.is_empty()) {
        None => None,
        Some(m) => match m.parse::<u32>() {
            Ok(m) => Some(m),
            Err(_) => return message_page(lang, StatusCode::BAD_REQUEST, text(lang, "bad_month")),
        },
    };
    let period = match service::statements::period_of(year, month) {
        Ok(period) => period,
        Err(error) => return failure(lang, error),
    };
    match service::statements::pdf(&signed.actor(), &state.db, id, period, Some(lang)).await {
        Ok((file_name, bytes)) => {
            let mut response = bytes.into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pdf"),
            );
            if let Ok(value) =
                HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\""))
            {
                headers.insert(header::CONTENT_DISPOSITION, value);
            }
            response
        }
        Err(error) => failure(lang, error),
    }
}
