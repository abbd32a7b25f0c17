//! Zonal prices for the admin: a price file uploaded from the browser into the same import as
//! the API's `POST /market/zonal-prices` (GME's XML or table as downloaded, or our long CSV,
//! recognised from the content), all or nothing, every refused line named; the page says what
//! was read and what it covers.
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use futures_util::TryStreamExt;
use serde::Serialize;
use tokio_util::io::StreamReader;

use super::{CheckedUpload, Frame, Signed, failure, message_page, problem_lines, render};
use crate::api::state::AppState;
use crate::core::permissions::Permission;
use crate::models::enums::{MarketZone, TypedByPeople};
use crate::schemas::market::PriceImportSummary;
use crate::service;
use crate::web::text;

#[derive(Serialize)]
struct PricesView {
    #[serde(flatten)]
    frame: Frame,
    imported: Option<String>,
    /// What the import left aside or does not cover, one sentence each.
    notes: Vec<String>,
    gaps: Vec<String>,
    zones: Vec<&'static str>,
    problems: Vec<String>,
}

fn page(
    signed: &Signed,
    status: StatusCode,
    summary: Option<&PriceImportSummary>,
    problems: Vec<String>,
) -> Response {
    let lang = signed.lang;
    let mut view = PricesView {
        frame: signed.frame(text(lang, "prices")),
        imported: None,
        notes: Vec::new(),
        gaps: Vec::new(),
        zones: <MarketZone as sea_orm::Iterable>::iter()
            .map(MarketZone::as_str)
            .collect(),
        problems,
    };
    if let Some(summary) = summary {
        let at = |instant: Option<&str>| {
            instant
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| super::minute(t.with_timezone(&chrono::Utc)))
                .unwrap_or_else(|| "-".into())
        };
        view.imported = Some(
            text(lang, "prices_imported")
                .replace("{rows}", &summary.rows.to_string())
                .replace("{zones}", &summary.zones.to_string())
                .replace("{zone_codes}", &summary.zone_codes.join(", "))
                .replace("{format}", &summary.format)
                .replace("{from}", &at(summary.from.as_deref()))
                .replace("{to}", &at(summary.to.as_deref()))
                .replace("{new}", &summary.new_values.to_string())
                .replace("{changed}", &summary.changed_values.to_string())
                .replace("{unchanged}", &summary.unchanged.to_string()),
        );
        if !summary.left_out.is_empty() {
            view.notes.push(
                text(lang, "prices_left_out").replace("{columns}", &summary.left_out.join(", ")),
            );
        }
        if !summary.other_zones.is_empty() {
            view.notes.push(
                text(lang, "prices_other_zones")
                    .replace("{zones}", &summary.other_zones.join(", ")),
            );
        }
        view.gaps = summary
            .gaps
            .iter()
            .map(|gap| {
                text(lang, "prices_gap")
                    .replace("{zone}", &gap.zone)
                    .replace("{day}", &gap.day.format("%d/%m/%Y").to_string())
                    .replace("{covered}", &gap.minutes_covered.to_string())
                    .replace("{whole}", &gap.minutes_in_day.to_string())
            })
            .collect();
    }
    render(status, "console/prices.html", view)
}

pub async fn show(signed: Signed) -> Response {
    if let Err(error) = signed.actor().require(Permission::MarketWrite) {
        return failure(signed.lang, error);
    }
    page(&signed, StatusCode::OK, None, Vec::new())
}

/// The form's parts in order: the CSRF token, the interval of long files without one, the
/// zone (empty for every zone in the file), the file.
pub async fn import(
    State(state): State<AppState>,
    CheckedUpload(signed, mut multipart): CheckedUpload,
) -> Response {
    let lang = signed.lang;
    let refused = |key: &str| {
        page(
            &signed,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            vec![text(lang, key)],
        )
    };
    let mut minutes = None;
    let mut zone = None;
    let field = loop {
        match multipart.next_field().await {
            Ok(Some(field)) if field.name() == Some("file") => break field,
            Ok(Some(field)) if field.name() == Some("interval_minutes") => {
                minutes = match field.text().await.ok().as_deref().map(str::trim) {
                    Some("60") => Some(60),
                    Some("15") => Some(15),
                    _ => return refused("prices_interval_invalid"),
                };
            }
            Ok(Some(field)) if field.name() == Some("zone") => {
                let value = field.text().await.unwrap_or_default();
                zone = match value.trim() {
                    "" => None,
                    code => match MarketZone::from_typed(code) {
                        Some(zone) => Some(zone),
                        None => return refused("prices_zone"),
                    },
                };
            }
            _ => return message_page(lang, StatusCode::BAD_REQUEST, text(lang, "upload_missing")),
        }
    };
    let Some(minutes) = minutes else {
        return refused("prices_interval_invalid");
    };
    let read_error = crate::api::extract::field_read_error(state.settings.upload_max_bytes);
    let reader = StreamReader::new(field.map_err(read_error));
    let options = service::prices::PriceImportOptions {
        format: None,
        default_minutes: minutes,
        zone,
    };
    match service::prices::import(&signed.actor(), &state.db, reader, options).await {
        Ok(summary) => page(&signed, StatusCode::CREATED, Some(&summary), Vec::new()),
        Err(error @ service::ServiceError::Invalid(_)) => page(
            &signed,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            problem_lines(lang, &error),
        ),
        Err(error) => failure(lang, error),
    }
}
