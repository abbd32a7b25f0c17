//! `/reset-password`: the page the reset mail links to. Without a token it asks for the
//! account's e-mail and sends a link; with one it asks for the new password twice and sets it.
//! Both call the same use cases as `POST /api/v1/password-recovery/{email}` and
//! `POST /api/v1/reset-password/`.
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use validator::Validate;

use super::{language, page, strings, text};
use crate::api::state::AppState;
use crate::models::enums::Language;
use crate::schemas::auth::NewPassword;
use crate::service::{ServiceError, accounts};

#[derive(Deserialize)]
pub struct Link {
    token: Option<String>,
}

#[derive(Deserialize)]
pub struct Submitted {
    email: Option<String>,
    token: Option<String>,
    new_password: Option<String>,
    confirm_password: Option<String>,
}

#[derive(Serialize)]
struct View<'a> {
    lang: Language,
    t: &'static super::Strings,
    token: Option<&'a str>,
    notice: Option<String>,
    error: Option<String>,
    done: bool,
    api_docs: &'static str,
}

impl<'a> View<'a> {
    fn new(language: Language, token: Option<&'a str>) -> View<'a> {
        View {
            lang: language,
            t: strings(language),
            token: token.filter(|t| !t.is_empty()),
            notice: None,
            error: None,
            done: false,
            api_docs: "/docs",
        }
    }
}

fn render(status: StatusCode, view: View<'_>) -> Response {
    page(status, "reset_password.html", view)
}

pub async fn show(headers: HeaderMap, Query(link): Query<Link>) -> Response {
    render(
        StatusCode::OK,
        View::new(language(&headers), link.token.as_deref()),
    )
}

pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<Submitted>, FormRejection>,
) -> Response {
    let lang = language(&headers);
    let Ok(Form(form)) = form else {
        let mut view = View::new(lang, None);
        view.error = Some(text(lang, "link_invalid"));
        return render(StatusCode::BAD_REQUEST, view);
    };
    if let Some(token) = form.token.as_deref().filter(|t| !t.is_empty()) {
        return set_password(&state, lang, token, &form).await;
    }
    let mut view = View::new(lang, None);
    let email = form.email.unwrap_or_default();
    match accounts::request_password_reset(&state.db, &state.mailer, &state.settings, &email).await
    {
        Ok(()) => {
            view.notice = Some(text(lang, "reset_sent"));
            render(StatusCode::OK, view)
        }
        Err(error) => failed(view, error),
    }
}

async fn set_password(state: &AppState, lang: Language, token: &str, form: &Submitted) -> Response {
    let mut view = View::new(lang, Some(token));
    let password = form.new_password.as_deref().unwrap_or_default();
    // The API's own rule for a new password (`NewPassword`), not a copy of its bounds.
    let candidate = NewPassword {
        token: token.to_string(),
        new_password: password.to_string(),
    };
    let refused = candidate
        .validate()
        .is_err_and(|errors| errors.field_errors().contains_key("new_password"));
    if refused {
        view.error = Some(text(lang, "reset_length"));
        return render(StatusCode::UNPROCESSABLE_ENTITY, view);
    }
    if form.confirm_password.as_deref() != Some(password) {
        view.error = Some(text(lang, "reset_mismatch"));
        return render(StatusCode::UNPROCESSABLE_ENTITY, view);
    }
    match accounts::reset_password(&state.db, &state.passwords, token, password).await {
        Ok(()) => {
            view.token = None;
            view.done = true;
            view.notice = Some(text(lang, "reset_done"));
            render(StatusCode::OK, view)
        }
        Err(error) => failed(view, error),
    }
}

/// A refusal in the page's words; anything else is answered as the API answers it.
fn failed(mut view: View<'_>, error: ServiceError) -> Response {
    let lang = view.lang;
    let key = match error {
        ServiceError::InvalidToken(problem) => super::token_problem_key(problem),
        ServiceError::InactiveUser => "reset_inactive",
        other => {
            // Database unavailable (503) or a bug (500), answered as the API answers them.
            return crate::api::error::ApiError::from(other).into_response();
        }
    };
    // A refused link cannot be retried: drop the form, keep the message.
    view.token = None;
    view.error = Some(text(lang, key));
    render(StatusCode::BAD_REQUEST, view)
}
