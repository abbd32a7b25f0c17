//! Zonal prices for the admin: a price file uploaded from the browser into the same import as
//! the API's `POST /market/zonal-prices/import`, all or nothing, every refused line named.
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use futures_util::TryStreamExt;
use serde::Serialize;
use tokio::io::BufReader;
use tokio_util::io::StreamReader;

use super::{CheckedUpload, Frame, Signed, failure, message_page, problem_lines, render};
use crate::api::state::AppState;
use crate::core::permissions::Permission;
use crate::service;
use crate::web::text;

#[derive(Serialize)]
struct PricesView {
    #[serde(flatten)]
    frame: Frame,
    imported: Option<String>,
    problems: Vec<String>,
}

fn page(
    signed: &Signed,
    status: StatusCode,
    imported: Option<String>,
    problems: Vec<String>,
) -> Response {
    render(
        status,
        "console/prices.html",
        PricesView {
            frame: signed.frame(text(signed.lang, "prices")),
            imported,
            problems,
        },
    )
}

pub async fn show(signed: Signed) -> Response {
    if let Err(error) = signed.actor().require(Permission::MarketWrite) {
        return failure(signed.lang, error);
    }
    page(&signed, StatusCode::OK, None, Vec::new())
}

/// The form's parts in order: the CSRF token, the interval of files without one, the file.
pub async fn import(
    State(state): State<AppState>,
    CheckedUpload(signed, mut multipart): CheckedUpload,
) -> Response {
    let lang = signed.lang;
    let minutes = match multipart.next_field().await {
        Ok(Some(field)) if field.name() == Some("interval_minutes") => {
            match field.text().await.ok().as_deref().map(str::trim) {
                Some("60") => 60,
                Some("15") => 15,
                _ => {
                    return page(
                        &signed,
                        StatusCode::UNPROCESSABLE_ENTITY,
                        None,
                        vec![text(lang, "prices_interval_invalid")],
                    );
                }
            }
        }
        _ => return message_page(lang, StatusCode::BAD_REQUEST, text(lang, "upload_missing")),
    };
    let field = match multipart.next_field().await {
        Ok(Some(field)) if field.name() == Some("file") => field,
        _ => return message_page(lang, StatusCode::BAD_REQUEST, text(lang, "upload_missing")),
    };
    let reader = BufReader::new(StreamReader::new(field.map_err(std::io::Error::other)));
    match service::prices::import(&signed.actor(), &state.db, reader, minutes).await {
        Ok(summary) => page(
            &signed,
            StatusCode::CREATED,
            Some(
                text(lang, "prices_imported")
                    .replace("{rows}", &summary.rows.to_string())
                    .replace("{zones}", &summary.zones.to_string())
                    .replace("{new}", &summary.new_values.to_string())
                    .replace("{changed}", &summary.changed_values.to_string())
                    .replace("{unchanged}", &summary.unchanged.to_string()),
            ),
            Vec::new(),
        ),
        Err(error @ service::ServiceError::Invalid(_)) => page(
            &signed,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            problem_lines(lang, &error),
        ),
        Err(error) => failure(lang, error),
    }
}
