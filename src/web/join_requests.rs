//! `/join-requests/verify`: the page the verification mail links to. Opening it changes
//! nothing (mail scanners open links too); its button confirms the address, calling the same
//! use case as `POST /api/v1/join-requests/verify`.
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::{language, page, strings, text};
use crate::api::state::AppState;
use crate::models::enums::Language;
use crate::service::{ServiceError, join_requests};

#[derive(Deserialize)]
pub struct Link {
    token: Option<String>,
}

#[derive(Serialize)]
struct View {
    lang: Language,
    t: &'static super::Strings,
    token: Option<String>,
    notice: Option<String>,
    error: Option<String>,
}

impl View {
    fn new(lang: Language, token: Option<String>) -> View {
        View {
            lang,
            t: strings(lang),
            token: token.filter(|t| !t.is_empty()),
            notice: None,
            error: None,
        }
    }
}

fn render(status: StatusCode, view: View) -> Response {
    page(status, "join_verify.html", view)
}

pub async fn show(headers: HeaderMap, Query(link): Query<Link>) -> Response {
    let lang = language(&headers);
    let mut view = View::new(lang, link.token);
    if view.token.is_none() {
        view.error = Some(text(lang, "link_invalid"));
        return render(StatusCode::BAD_REQUEST, view);
    }
    render(StatusCode::OK, view)
}

pub async fn confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<Link>, FormRejection>,
) -> Response {
    let lang = language(&headers);
    let token = form
        .ok()
        .and_then(|Form(link)| link.token)
        .unwrap_or_default();
    let mut view = View::new(lang, None);
    match join_requests::verify(&state.db, &token).await {
        Ok(request) => {
            let name = match join_requests::configuration_name(&state.db, &request).await {
                Ok(name) => name,
                Err(error) => return crate::api::error::ApiError::from(error).into_response(),
            };
            view.notice = Some(text(lang, "join_verify_done").replace("{configuration}", &name));
            render(StatusCode::OK, view)
        }
        Err(ServiceError::InvalidToken(problem)) => {
            view.error = Some(text(lang, super::token_problem_key(problem)));
            render(StatusCode::BAD_REQUEST, view)
        }
        Err(other) => crate::api::error::ApiError::from(other).into_response(),
    }
}
