//! Pages for people, served by the binary: server-rendered HTML (minijinja templates in
//! `templates/pages/`, strings in `templates/i18n/`), no scripts, nothing loaded from elsewhere.
//! The pages behind the mails (password reset, join-request verification), and the operators'
//! console with the members' portal (`console`), on the same use cases as the API.
use std::collections::BTreeMap;
use std::sync::LazyLock;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

use crate::api::state::AppState;
use crate::models::enums::Language;

pub mod console;
mod join_requests;
mod reset_password;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(console::router())
        .route(
            "/reset-password",
            get(reset_password::show).post(reset_password::submit),
        )
        .route(
            "/join-requests/verify",
            get(join_requests::show).post(join_requests::confirm),
        )
}

const PAGES: &[(&str, &str)] = &[
    (
        "reset_password.html",
        include_str!("../../templates/pages/reset_password.html"),
    ),
    (
        "join_verify.html",
        include_str!("../../templates/pages/join_verify.html"),
    ),
    (
        "console/base.html",
        include_str!("../../templates/console/base.html"),
    ),
    (
        "console/message.html",
        include_str!("../../templates/console/message.html"),
    ),
    (
        "console/login.html",
        include_str!("../../templates/console/login.html"),
    ),
    (
        "console/home.html",
        include_str!("../../templates/console/home.html"),
    ),
    (
        "console/configuration.html",
        include_str!("../../templates/console/configuration.html"),
    ),
    (
        "console/members.html",
        include_str!("../../templates/console/members.html"),
    ),
    (
        "console/run.html",
        include_str!("../../templates/console/run.html"),
    ),
    (
        "console/portal_home.html",
        include_str!("../../templates/console/portal_home.html"),
    ),
    (
        "console/member.html",
        include_str!("../../templates/console/member.html"),
    ),
    (
        "console/join_requests.html",
        include_str!("../../templates/console/join_requests.html"),
    ),
    (
        "console/policy.html",
        include_str!("../../templates/console/policy.html"),
    ),
    (
        "console/progress.html",
        include_str!("../../templates/console/progress.html"),
    ),
    (
        "console/reconciliation.html",
        include_str!("../../templates/console/reconciliation.html"),
    ),
    (
        "console/payouts.html",
        include_str!("../../templates/console/payouts.html"),
    ),
    (
        "console/payout.html",
        include_str!("../../templates/console/payout.html"),
    ),
    (
        "console/join.html",
        include_str!("../../templates/console/join.html"),
    ),
    (
        "console/holders.html",
        include_str!("../../templates/console/holders.html"),
    ),
    (
        "console/holder.html",
        include_str!("../../templates/console/holder.html"),
    ),
    (
        "console/iban.html",
        include_str!("../../templates/console/iban.html"),
    ),
    (
        "console/iban_changes.html",
        include_str!("../../templates/console/iban_changes.html"),
    ),
    (
        "console/prices.html",
        include_str!("../../templates/console/prices.html"),
    ),
    (
        "console/pager.html",
        include_str!("../../templates/console/pager.html"),
    ),
];

/// The string that tells why a single-use link was refused.
pub fn token_problem_key(problem: crate::service::TokenProblem) -> &'static str {
    use crate::service::TokenProblem;
    match problem {
        TokenProblem::Unknown => "link_invalid",
        TokenProblem::Used => "link_used",
        TokenProblem::Expired => "link_expired",
    }
}

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut environment = Environment::new();
    environment.set_undefined_behavior(UndefinedBehavior::SemiStrict);
    for (name, source) in PAGES {
        environment
            .add_template(name, source)
            .unwrap_or_else(|error| panic!("page template {name} does not parse: {error}"));
    }
    environment
});

/// The strings of one language, from `templates/i18n/<language>.toml`.
pub type Strings = BTreeMap<String, String>;

fn load_strings(source: &str, file: &str) -> Strings {
    toml::from_str(source).unwrap_or_else(|error| panic!("{file} does not parse: {error}"))
}

static ITALIAN: LazyLock<Strings> =
    LazyLock::new(|| load_strings(include_str!("../../templates/i18n/it.toml"), "it.toml"));
static ENGLISH: LazyLock<Strings> =
    LazyLock::new(|| load_strings(include_str!("../../templates/i18n/en.toml"), "en.toml"));

pub fn strings(language: Language) -> &'static Strings {
    match language {
        Language::It => &ITALIAN,
        Language::En => &ENGLISH,
    }
}

/// One string; a key missing from the file is a bug the translation test catches.
pub fn text(language: Language, key: &str) -> String {
    strings(language)
        .get(key)
        .cloned()
        .unwrap_or_else(|| panic!("no string `{key}` for {}", language.as_str()))
}

/// Italian unless the browser prefers English (`Accept-Language`, in its order of preference).
pub fn language(headers: &HeaderMap) -> Language {
    let Some(accepted) = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
    else {
        return Language::It;
    };
    let mut ranked: Vec<(f32, usize, &str)> = accepted
        .split(',')
        .enumerate()
        .filter_map(|(position, item)| {
            let mut parts = item.split(';');
            let tag = parts.next()?.trim();
            let quality = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            Some((quality, position, tag))
        })
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    ranked
        .iter()
        .filter(|(quality, _, _)| *quality > 0.0)
        .find_map(|(_, _, tag)| {
            let primary = tag.split('-').next().unwrap_or_default();
            match primary.to_ascii_lowercase().as_str() {
                "it" => Some(Language::It),
                "en" => Some(Language::En),
                _ => None,
            }
        })
        .unwrap_or(Language::It)
}

/// A rendered page with the headers every page carries: no scripts or styles from anywhere,
/// forms only to this server, never framed, never cached (pages can hold personal data).
pub fn page(status: StatusCode, template: &str, context: impl Serialize) -> Response {
    let html = match TEMPLATES
        .get_template(template)
        .and_then(|t| t.render(minijinja::Value::from(minijinja::value::Serde(&context))))
    {
        Ok(html) => html,
        Err(error) => {
            tracing::error!(error = %format!("{error:#}"), template, "page does not render");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; form-action 'self'; frame-ancestors 'none'"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_have_the_same_strings() {
        let italian: Vec<&String> = ITALIAN.keys().collect();
        let english: Vec<&String> = ENGLISH.keys().collect();
        assert_eq!(italian, english);
        assert!(
            ITALIAN
                .values()
                .chain(ENGLISH.values())
                .all(|s| !s.trim().is_empty())
        );
    }

    #[test]
    fn the_browser_chooses_among_the_languages_we_have() {
        let of = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(
                header::ACCEPT_LANGUAGE,
                HeaderValue::from_str(value).unwrap(),
            );
            language(&headers)
        };
        assert_eq!(language(&HeaderMap::new()), Language::It);
        assert_eq!(of("en-GB,en;q=0.9"), Language::En);
        assert_eq!(of("de-DE,en;q=0.5,it;q=0.8"), Language::It);
        assert_eq!(of("fr, en;q=0.3"), Language::En);
        assert_eq!(of("de"), Language::It);
        assert_eq!(of("en;q=0, it;q=0.1"), Language::It);
    }
}
