//! Signing in and out of the console. The sign-in calls the same use case as the API's
//! password login (`Authority::authenticate`: argon2id, throttling per account and address),
//! then opens a database session.
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};

use super::{
    CheckedForm, LOGIN_CSRF_COOKIE, SESSION_COOKIE, csrf_form, double_submit_ok, render,
    set_cookie, with_form_token,
};
use crate::api::extract::ClientAddress;
use crate::api::state::AppState;
use crate::core::security::random_token;
use crate::models::enums::Language;
use crate::service::ServiceError;
use crate::service::auth::Authority;
use crate::service::sessions;
use crate::web::{language, strings, text};

#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct Submitted {
    login: Option<String>,
    password: Option<String>,
    csrf: Option<String>,
    next: Option<String>,
}

#[derive(Serialize)]
struct View {
    lang: Language,
    t: &'static crate::web::Strings,
    title: String,
    csrf: String,
    next: String,
    login: String,
    error: Option<String>,
}

/// Only a page of this console: never an address elsewhere (an open redirect).
fn safe_next(next: Option<&str>) -> String {
    next.filter(|n| n.starts_with("/console") && !n.starts_with("//") && !n.contains('\\'))
        .unwrap_or("/console")
        .to_string()
}

/// The form, with a fresh double-submit token in a cookie and in the form.
fn form(
    state: &AppState,
    lang: Language,
    status: StatusCode,
    next: String,
    login: String,
    error: Option<String>,
) -> Response {
    let csrf = random_token();
    let response = render(
        status,
        "console/login.html",
        View {
            lang,
            t: strings(lang),
            title: text(lang, "signin_title"),
            csrf: csrf.clone(),
            next,
            login,
            error,
        },
    );
    with_form_token(state, LOGIN_CSRF_COOKIE, &csrf, response)
}

pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(next): Query<Next>,
) -> Response {
    form(
        &state,
        language(&headers),
        StatusCode::OK,
        safe_next(next.next.as_deref()),
        String::new(),
        None,
    )
}

pub async fn submit(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    headers: HeaderMap,
    form_data: Result<Form<Submitted>, FormRejection>,
) -> Response {
    let lang = language(&headers);
    let Ok(Form(submitted)) = form_data else {
        return form(
            &state,
            lang,
            StatusCode::BAD_REQUEST,
            "/console".into(),
            String::new(),
            Some(text(lang, "signin_failed")),
        );
    };
    let next = safe_next(submitted.next.as_deref());
    let login = submitted.login.unwrap_or_default();
    if !double_submit_ok(&headers, LOGIN_CSRF_COOKIE, submitted.csrf.as_deref()) {
        tracing::warn!("console sign-in without its CSRF token refused");
        return form(
            &state,
            lang,
            StatusCode::FORBIDDEN,
            next,
            login,
            Some(text(lang, "csrf_refused")),
        );
    }
    let authority = Authority {
        db: &state.db,
        passwords: &state.passwords,
        keys: &state.keys,
        settings: &state.settings,
        mailer: &state.mailer,
    };
    let password = submitted.password.unwrap_or_default();
    match sessions::sign_in(&authority, &login, &password, client).await {
        Ok(opened) => {
            let mut response = Redirect::to(&next).into_response();
            let max_age = state.settings.session_absolute_hours * 3600;
            let headers = response.headers_mut();
            headers.append(
                header::SET_COOKIE,
                set_cookie(&state, SESSION_COOKIE, &opened.token, max_age),
            );
            headers.append(
                header::SET_COOKIE,
                set_cookie(&state, LOGIN_CSRF_COOKIE, "", 0),
            );
            response
        }
        Err(error) => {
            let (status, key) = match &error {
                ServiceError::BadCredentials => (StatusCode::UNAUTHORIZED, "signin_failed"),
                ServiceError::InactiveUser => (StatusCode::FORBIDDEN, "reset_inactive"),
                ServiceError::TooManyAttempts { .. } => {
                    (StatusCode::TOO_MANY_REQUESTS, "signin_throttled")
                }
                _ => return super::failure(lang, error),
            };
            form(&state, lang, status, next, login, Some(text(lang, key)))
        }
    }
}

#[derive(Deserialize)]
pub struct SignOut {
    csrf: Option<String>,
}

csrf_form!(SignOut);

pub async fn sign_out(
    State(state): State<AppState>,
    CheckedForm(signed, _): CheckedForm<SignOut>,
) -> Response {
    if let Err(error) = sessions::sign_out(&state.db, &signed.current).await {
        return super::failure(signed.lang, error);
    }
    let mut response = Redirect::to("/console/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, SESSION_COOKIE, "", 0),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn after_sign_in_only_console_pages() {
        assert_eq!(safe_next(Some("/console/runs/4")), "/console/runs/4");
        assert_eq!(safe_next(Some("https://evil.example")), "/console");
        assert_eq!(safe_next(Some("//evil.example/console")), "/console");
        assert_eq!(safe_next(Some("/console\\@evil")), "/console");
        assert_eq!(safe_next(None), "/console");
    }
}
