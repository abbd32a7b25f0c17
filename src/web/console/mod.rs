//! The operators' console and the members' portal under `/console`: server-rendered pages on
//! the same use cases as the API (`crate::service`), signed in with a cookie session
//! (`service::sessions`: stored in the database, so any instance serves any page).
//!
//! - The session cookie is `HttpOnly`, `SameSite=Lax`, and `Secure` when `PUBLIC_URL` is https.
//! - Every form carries the session's CSRF token; a post without it, or with another, is a 403
//!   and changes nothing. The sign-in form, before there is a session, uses a double-submit
//!   cookie instead (login CSRF).
//! - Pages allow no inline script or style (`default-src 'none'`; the stylesheet and the one
//!   script — upload progress, `upload.js`, without which the forms still work — come from
//!   `/console/static/`), are never framed and never cached.
//! - A page outside the person's scope is a 404, as in the API: the use case decides.
use axum::Form;
use axum::Router;
use axum::extract::{FromRequest, FromRequestParts, Multipart, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Serialize;

use super::{language, strings, text};
use crate::api::state::AppState;
use crate::models::enums::{Language, Role};
use crate::service::sessions::{self, Current};
use crate::service::{Place, ServiceError};

mod holders;
mod iban_changes;
mod join;
mod join_requests;
mod operators;
mod payouts;
mod policy;
mod portal;
mod prices;
mod reconciliation;
mod signin;

pub const SESSION_COOKIE: &str = "condivisa_session";
pub const LOGIN_CSRF_COOKIE: &str = "condivisa_login_csrf";
/// The public join form's double-submit token (there is no session to hold one).
pub const JOIN_CSRF_COOKIE: &str = "condivisa_join_csrf";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console", get(home))
        .route("/console/", get(home))
        .route("/console/login", get(signin::show).post(signin::submit))
        .route("/console/logout", post(signin::sign_out))
        .route("/console/static/console.css", get(stylesheet))
        .route("/console/static/favicon.svg", get(favicon))
        .route("/console/static/upload.js", get(upload_script))
        .route(
            "/console/configurations/{id}",
            get(operators::configuration),
        )
        .route(
            "/console/configurations/{id}/members",
            get(operators::members),
        )
        .route(
            "/console/configurations/{id}/previews",
            post(operators::preview),
        )
        .route(
            "/console/configurations/{id}/ledger.csv",
            get(operators::ledger),
        )
        .route(
            "/console/imports/{id}/revert",
            post(operators::revert_import),
        )
        .route("/console/runs/{id}", get(operators::run))
        .route("/console/runs/{id}/finalize", post(operators::finalize))
        .route(
            "/console/runs/{id}/statements",
            post(operators::mail_statements),
        )
        .route(
            "/console/configurations/{id}/policy",
            get(policy::show).post(policy::adopt),
        )
        .route(
            "/console/configurations/{id}/join-requests",
            get(join_requests::list),
        )
        .route(
            "/console/join-requests/{id}/approve",
            post(join_requests::approve),
        )
        .route(
            "/console/join-requests/{id}/reject",
            post(join_requests::reject),
        )
        .route("/console/holders", get(holders::list))
        .route("/console/holders/{id}", get(holders::show))
        .route(
            "/console/holders/{id}/iban",
            get(iban_changes::show).post(iban_changes::ask),
        )
        .route("/console/iban-changes", get(iban_changes::queue))
        .route(
            "/console/iban-changes/{id}/withdraw",
            post(iban_changes::withdraw),
        )
        .route(
            "/console/iban-changes/{id}/confirm",
            post(iban_changes::confirm),
        )
        .route(
            "/console/iban-changes/{id}/reject",
            post(iban_changes::reject),
        )
        .route("/console/join/{id}", get(join::show).post(join::submit))
        .route(
            "/console/configurations/{id}/payouts",
            get(payouts::show).post(payouts::prepare),
        )
        .route(
            "/console/configurations/{id}/payout-account",
            post(payouts::set_account),
        )
        .route(
            "/console/configurations/{id}/reconciliation",
            get(reconciliation::show),
        )
        .route(
            "/console/configurations/{id}/reconciliation.csv",
            get(reconciliation::csv),
        )
        .route(
            "/console/configurations/{id}/gse-statements",
            post(reconciliation::import),
        )
        .route("/console/payouts/{id}", get(payouts::batch))
        .route("/console/payouts/{id}/approve", post(payouts::approve))
        .route("/console/payouts/{id}/export", post(payouts::export))
        .route("/console/payouts/{id}/paid", post(payouts::paid))
        .route("/console/payouts/{id}/cancel", post(payouts::cancel))
        .route("/console/payouts/{id}/sepa.xml", get(payouts::file))
        .route("/console/members/{id}", get(portal::member))
        .route("/console/members/{id}/energy.svg", get(portal::energy_svg))
        .route(
            "/console/members/{id}/statement.pdf",
            get(portal::statement_pdf),
        )
}

/// The console's upload routes: no body-size limit (files are streamed), like the API's.
pub fn uploads() -> Router<AppState> {
    Router::new()
        .route(
            "/console/configurations/{id}/imports",
            post(operators::import),
        )
        .route("/console/prices", get(prices::show).post(prices::import))
}

/// A signed-in person on a console page, with the page's language.
pub struct Signed {
    pub current: Current,
    pub lang: Language,
    /// The client's address, for the audit trail.
    pub address: Option<std::net::IpAddr>,
}

impl Signed {
    pub fn actor(&self) -> crate::service::Actor {
        self.current.actor().from(self.address)
    }

    /// What every page's frame needs: who is signed in, the sign-out form's token.
    pub fn frame(&self, title: String) -> Frame {
        let user = &self.current.user;
        Frame {
            lang: self.lang,
            t: strings(self.lang),
            title,
            user_name: user
                .full_name
                .clone()
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| user.email.clone()),
            role: user.role.as_str(),
            operator: user.role != Role::User,
            csrf: self.current.session.csrf_token.clone(),
        }
    }

    /// The refusal (403, nothing changed) of a form whose CSRF token is not this session's;
    /// `None` when the token is the session's.
    pub fn csrf_refusal(&self, sent: Option<&str>) -> Option<Response> {
        let expected = self.current.session.csrf_token.as_bytes();
        let matches = sent.is_some_and(|sent| constant_time_eq(sent.as_bytes(), expected));
        if matches {
            return None;
        }
        tracing::warn!(
            session_id = self.current.session.id,
            "console form without its CSRF token refused"
        );
        Some(message_page(
            self.lang,
            StatusCode::FORBIDDEN,
            text(self.lang, "csrf_refused"),
        ))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The frame of every console page (`console/base.html`).
#[derive(Serialize)]
pub struct Frame {
    pub lang: Language,
    pub t: &'static super::Strings,
    pub title: String,
    pub user_name: String,
    pub role: &'static str,
    pub operator: bool,
    pub csrf: String,
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// A `Set-Cookie` value for a console cookie: never readable by scripts, sent on top-level
/// navigation from elsewhere (links in mails) but not on cross-site posts, `Secure` when the
/// server is reached over https.
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age_seconds: i64) -> HeaderValue {
    let secure = if state.settings.public_url().starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_seconds}{secure}"
    ))
    .expect("cookie values are URL-safe base64")
}

/// A page whose form has no session to hold its CSRF token (sign-in, the public join form):
/// the token goes in `cookie_name` (an hour) and in the form; [`double_submit_ok`] compares them.
pub fn with_form_token(
    state: &AppState,
    cookie_name: &str,
    token: &str,
    mut response: Response,
) -> Response {
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(state, cookie_name, token, 3600),
    );
    response
}

/// Whether the form's token is the one in `cookie_name` (both present, compared whole).
pub fn double_submit_ok(headers: &HeaderMap, cookie_name: &str, submitted: Option<&str>) -> bool {
    matches!(
        (cookie(headers, cookie_name), submitted),
        (Some(a), Some(b)) if !a.is_empty() && constant_time_eq(a.as_bytes(), b.as_bytes())
    )
}

impl FromRequestParts<AppState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let lang = language(&parts.headers);
        let token = cookie(&parts.headers, SESSION_COOKIE).filter(|t| !t.is_empty());
        let current = match token {
            Some(token) => sessions::current(&state.db, &state.settings, token)
                .await
                .map_err(|error| failure(lang, error))?,
            None => None,
        };
        match current {
            Some(current) => {
                let crate::api::extract::ClientAddress(address) =
                    crate::api::extract::ClientAddress::from_request_parts(parts, state)
                        .await
                        .unwrap_or(crate::api::extract::ClientAddress(None));
                Ok(Signed {
                    current,
                    lang,
                    address,
                })
            }
            None => {
                // Back to the page asked for after signing in; only a path of this console.
                let next = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .filter(|p| p.starts_with("/console"))
                    .unwrap_or("/console");
                let query = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
                Err(Redirect::to(&format!("/console/login?{query}")).into_response())
            }
        }
    }
}

/// A form posted by a signed-in person whose CSRF token is the session's: a handler that takes
/// its form this way cannot forget the check. A form without the token, with another, or that
/// cannot be read at all is refused with 403 before the handler runs, and nothing changes.
pub struct CheckedForm<F>(pub Signed, pub F);

/// A form that carries the session's CSRF token in its `csrf` field.
pub trait CsrfField {
    fn csrf(&self) -> Option<&str>;
}

impl<F> FromRequest<AppState> for CheckedForm<F>
where
    F: serde::de::DeserializeOwned + CsrfField + Send,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let signed = Signed::from_request_parts(&mut parts, state).await?;
        let form = Form::<F>::from_request(Request::from_parts(parts, body), state)
            .await
            .ok()
            .map(|Form(form)| form);
        if let Some(refused) = signed.csrf_refusal(form.as_ref().and_then(CsrfField::csrf)) {
            return Err(refused);
        }
        match form {
            Some(form) => Ok(CheckedForm(signed, form)),
            None => Err(message_page(
                signed.lang,
                StatusCode::FORBIDDEN,
                text(signed.lang, "forbidden"),
            )),
        }
    }
}

/// The multipart twin of [`CheckedForm`]: an upload whose first part is the session's CSRF
/// token, checked before the handler reads the rest (the file is then streamed). A body that
/// is not a multipart form is a 400; a missing or wrong token a 403.
pub struct CheckedUpload(pub Signed, pub Multipart);

impl FromRequest<AppState> for CheckedUpload {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let signed = Signed::from_request_parts(&mut parts, state).await?;
        let lang = signed.lang;
        let mut multipart = Multipart::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|_| {
                message_page(
                    lang,
                    StatusCode::BAD_REQUEST,
                    text(lang, "upload_unreadable"),
                )
            })?;
        let csrf = match multipart.next_field().await {
            Ok(Some(field)) if field.name() == Some("csrf") => field.text().await.ok(),
            _ => None,
        };
        if let Some(refused) = signed.csrf_refusal(csrf.as_deref()) {
            return Err(refused);
        }
        Ok(CheckedUpload(signed, multipart))
    }
}

/// Implements [`CsrfField`] for forms whose token is the field `csrf: Option<String>`.
macro_rules! csrf_form {
    ($($form:ty),+ $(,)?) => {
        $(impl $crate::web::console::CsrfField for $form {
            fn csrf(&self) -> Option<&str> {
                self.csrf.as_deref()
            }
        })+
    };
}
pub(crate) use csrf_form;

/// `/console`: operators see their configurations, members their memberships.
async fn home(
    axum::extract::State(state): axum::extract::State<AppState>,
    signed: Signed,
    axum::extract::Query(query): axum::extract::Query<PageQuery>,
) -> Response {
    let Some(page) = page_number(query.page.as_deref()) else {
        return bad_page(signed.lang);
    };
    if signed.current.user.role == Role::User {
        portal::home(&state, &signed, page).await
    } else {
        operators::home(&state, &signed, page).await
    }
}

async fn stylesheet() -> Response {
    asset(
        include_str!("../../../templates/console/console.css"),
        "text/css; charset=utf-8",
    )
}

async fn upload_script() -> Response {
    asset(
        include_str!("../../../templates/console/upload.js"),
        "text/javascript; charset=utf-8",
    )
}

async fn favicon() -> Response {
    asset(
        include_str!("../../../templates/console/favicon.svg"),
        "image/svg+xml",
    )
}

/// A file of the console's own, compiled into the binary; cached for an hour.
fn asset(content: &'static str, content_type: &'static str) -> Response {
    let mut response = content.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}

/// A console page: the frame's headers, plus a stylesheet from this server only.
pub fn render(status: StatusCode, template: &str, context: impl Serialize) -> Response {
    let mut response = super::page(status, template, context);
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    response
}

#[derive(Serialize)]
struct MessageView {
    lang: Language,
    t: &'static super::Strings,
    title: String,
    message: String,
    problems: Vec<String>,
}

/// A list's `page` parameter: absent is the first page; `None` for a number out of
/// 1..=1,000,000 or not a number (the caller answers with [`bad_page`]).
pub fn page_number(page: Option<&str>) -> Option<u64> {
    match page.filter(|p| !p.is_empty()) {
        None => Some(1),
        Some(p) => p
            .parse::<u64>()
            .ok()
            .filter(|p| (1..=1_000_000).contains(p)),
    }
}

/// Where a paged list is: its page, how many pages, and the links to the pages beside it
/// (`link` makes a page's address).
#[derive(Serialize)]
pub struct Pager {
    pub page: u64,
    pub pages: u64,
    pub previous: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    pub fn new(page: u64, total: u64, size: u64, link: impl Fn(u64) -> String) -> Pager {
        let pages = total.div_ceil(size).max(1);
        Pager {
            page,
            pages,
            previous: (page > 1).then(|| link(page - 1)),
            next: (page < pages).then(|| link(page + 1)),
        }
    }
}

/// The query of a list that pages and filters nothing else.
#[derive(serde::Deserialize)]
pub struct PageQuery {
    page: Option<String>,
}

/// The 400 page of a page number that cannot be read.
pub fn bad_page(lang: Language) -> Response {
    message_page(lang, StatusCode::BAD_REQUEST, text(lang, "bad_page"))
}

/// An id in a console path: a positive number, or the page does not exist.
pub fn path_id(text: &str) -> Option<i32> {
    text.parse::<i32>().ok().filter(|id| *id > 0)
}

pub fn not_found(lang: Language) -> Response {
    message_page(lang, StatusCode::NOT_FOUND, text(lang, "not_found"))
}

/// A page that only says what went wrong.
pub fn message_page(lang: Language, status: StatusCode, message: String) -> Response {
    problems_page(lang, status, message, Vec::new())
}

fn problems_page(
    lang: Language,
    status: StatusCode,
    message: String,
    problems: Vec<String>,
) -> Response {
    render(
        status,
        "console/message.html",
        MessageView {
            lang,
            t: strings(lang),
            title: text(lang, "error_title"),
            message,
            problems,
        },
    )
}

/// Where a problem is, in the page's words: "line 12", "field period".
pub fn place_of(lang: Language, place: &[Place]) -> String {
    place
        .iter()
        .filter_map(|p| match p {
            Place::Line(line) => Some(format!("{} {line}", text(lang, "line"))),
            Place::Field(field) => Some(field.clone()),
            Place::Index(index) => Some(format!("#{}", index + 1)),
            Place::Body | Place::Query | Place::Header => None,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Each problem of a refused input, with its place.
pub fn problem_lines(lang: Language, error: &ServiceError) -> Vec<String> {
    match error {
        ServiceError::Invalid(problems) => problems
            .iter()
            .map(|problem| {
                let place = place_of(lang, &problem.place);
                if place.is_empty() {
                    problem.message.clone()
                } else {
                    format!("{place}: {}", problem.message)
                }
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// A use case's refusal as a page: not found and forbidden as the API answers them (404, 403),
/// conflicts and invalid input with the use case's own words; the database being down (503)
/// or a bug (500) as the API answers them.
/// What a list's page says after an action on it: the notice, or the refusals a person can act
/// on (a rule broken, 422; a state that changed, 409; a reason the role may not, 403), shown
/// beside the list. Any other failure is given back, for a page of its own ([`failure`]).
pub struct Said {
    pub status: StatusCode,
    pub notice: Option<String>,
    pub problems: Vec<String>,
}

pub fn said(
    lang: Language,
    done: StatusCode,
    outcome: Result<String, ServiceError>,
) -> Result<Said, ServiceError> {
    let (status, notice, problems) = match outcome {
        Ok(notice) => (done, Some(notice), Vec::new()),
        Err(error @ ServiceError::Invalid(_)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            problem_lines(lang, &error),
        ),
        Err(ServiceError::Conflict(detail)) => (StatusCode::CONFLICT, None, vec![detail]),
        Err(ServiceError::ForbiddenBecause(detail)) => (StatusCode::FORBIDDEN, None, vec![detail]),
        Err(error) => return Err(error),
    };
    Ok(Said {
        status,
        notice,
        problems,
    })
}

/// A list page that says what an action on it did.
pub trait Tells {
    fn tell(&mut self, notice: Option<String>, problems: Vec<String>);
}

/// The page after an action: `view`, built again after it, saying what `said` says, at its
/// status; or the page of why the view could not be built.
pub fn told<V: Tells + Serialize>(
    lang: Language,
    template: &str,
    said: Said,
    view: Result<V, ServiceError>,
) -> Response {
    match view {
        Ok(mut view) => {
            view.tell(said.notice, said.problems);
            render(said.status, template, view)
        }
        Err(error) => failure(lang, error),
    }
}

/// `Tells` for views whose fields are `notice` and `problems`.
macro_rules! tells {
    ($($view:ty),+ $(,)?) => {
        $(impl $crate::web::console::Tells for $view {
            fn tell(&mut self, notice: Option<String>, problems: Vec<String>) {
                self.notice = notice;
                self.problems = problems;
            }
        })+
    };
}
pub(crate) use tells;

/// A page built by a use case, or the page of why not.
pub fn shown(
    lang: Language,
    template: &str,
    view: Result<impl Serialize, ServiceError>,
) -> Response {
    match view {
        Ok(view) => render(StatusCode::OK, template, view),
        Err(error) => failure(lang, error),
    }
}

pub fn failure(lang: Language, error: ServiceError) -> Response {
    match &error {
        ServiceError::NotFound(_) => {
            message_page(lang, StatusCode::NOT_FOUND, text(lang, "not_found"))
        }
        ServiceError::Forbidden | ServiceError::ForbiddenBecause(_) => {
            message_page(lang, StatusCode::FORBIDDEN, text(lang, "forbidden"))
        }
        ServiceError::Conflict(detail) => message_page(lang, StatusCode::CONFLICT, detail.clone()),
        ServiceError::Invalid(_) => problems_page(
            lang,
            StatusCode::UNPROCESSABLE_ENTITY,
            text(lang, "invalid_input"),
            problem_lines(lang, &error),
        ),
        ServiceError::Unreadable(detail) => {
            message_page(lang, StatusCode::BAD_REQUEST, detail.clone())
        }
        ServiceError::TooLarge(detail) => {
            message_page(lang, StatusCode::PAYLOAD_TOO_LARGE, detail.clone())
        }
        ServiceError::TooManyAttempts { .. } | ServiceError::RateLimited { .. } => {
            message_page(lang, StatusCode::TOO_MANY_REQUESTS, error.to_string())
        }
        _ => crate::api::error::ApiError::from(error).into_response(),
    }
}

/// Euros from cents in the language's way: `1.234,56 €` or `€1,234.56`.
pub fn euros(cents: i64, lang: Language) -> String {
    let negative = cents < 0;
    let cents = cents.unsigned_abs();
    let (units, fraction) = (cents / 100, cents % 100);
    let (group, decimal) = match lang {
        Language::It => ('.', ','),
        Language::En => (',', '.'),
    };
    let digits = units.to_string();
    let mut grouped = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(group);
        }
        grouped.push(digit);
    }
    let sign = if negative { "−" } else { "" };
    match lang {
        Language::It => format!("{sign}{grouped}{decimal}{fraction:02} €"),
        Language::En => format!("{sign}€{grouped}{decimal}{fraction:02}"),
    }
}

/// An instant as the console writes it: to the minute, in UTC, said so.
pub fn minute(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// An IBAN in groups of four, as banks print it (as stored, should it not read as one).
pub fn grouped_iban(iban: &str) -> String {
    crate::domain::contacts::Iban::parse(iban)
        .map(|i| i.grouped())
        .unwrap_or_else(|_| iban.to_string())
}

/// An IBAN by its last four characters, as a member's pages and mails show it.
pub fn masked_iban(iban: &str) -> String {
    format!("•••• {}", crate::service::iban_changes::iban_tail(iban))
}

/// A page's `?year=`.
#[derive(serde::Deserialize)]
pub struct YearQuery {
    year: Option<String>,
}

/// The year asked for, or this one; `None` for one that is not a plausible year (outside what
/// the API accepts).
pub fn year_of(query: &YearQuery) -> Option<i32> {
    use chrono::Datelike;
    match query.year.as_deref().filter(|y| !y.is_empty()) {
        None => Some(crate::service::italian_today().year()),
        Some(y) => y.parse::<i32>().ok().filter(|y| (2020..=2100).contains(y)),
    }
}

/// A decimal as a person types it: `12,5` or `12.5`, spaces around ignored.
pub fn parse_decimal(text: &str) -> Option<rust_decimal::Decimal> {
    use std::str::FromStr;
    let text = text.trim().replace(',', ".");
    if text.is_empty() || text.contains('e') || text.contains('E') {
        return None;
    }
    rust_decimal::Decimal::from_str(&text).ok()
}

/// A decimal (as the API writes it, `"1234.567"`) in the language's way.
pub fn decimal(value: &str, lang: Language) -> String {
    match lang {
        Language::It => value.replace('.', ","),
        Language::En => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn euros_are_written_as_each_language_writes_them() {
        assert_eq!(euros(123_456, Language::It), "1.234,56 €");
        assert_eq!(euros(123_456, Language::En), "€1,234.56");
        assert_eq!(euros(-5, Language::It), "−0,05 €");
        assert_eq!(euros(100_000_000, Language::En), "€1,000,000.00");
        assert_eq!(euros(0, Language::It), "0,00 €");
    }

    #[test]
    fn a_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; condivisa_session=abc; b=2"),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&headers, "missing"), None);
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
