//! `/market`: zonal prices and the regulated parameters the settlement needs.
use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use futures_util::TryStreamExt;
use tokio_util::io::StreamReader;

use crate::api::deps::CurrentUser;
use crate::api::error::{ApiError, ErrorDetail, FieldError, ValidationErrorBody};
use crate::api::extract::{ValidJson, ValidPath, ValidQuery};
use crate::api::state::AppState;
use crate::domain::price_files::PriceFormat;
use crate::schemas::market::{
    ParameterCreate, ParameterListParams, ParameterPublic, ParameterUpdate, PriceImportParams,
    PriceImportSummary, PriceParams, PricePublic,
};
use crate::service;

#[utoipa::path(
    get,
    path = "/api/v1/market/parameters",
    tag = "market",
    params(ParameterListParams),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Parameter values, by code and validity", body = Vec<ParameterPublic>),
        (status = 422, description = "Bad query parameter", body = ValidationErrorBody),
    )
)]
pub async fn list_parameters(
    State(state): State<AppState>,
    _current: CurrentUser,
    ValidQuery(params): ValidQuery<ParameterListParams>,
) -> Result<Json<Vec<ParameterPublic>>, ApiError> {
    let rows = service::parameters::list(&state.db, &params).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

#[utoipa::path(
    post,
    path = "/api/v1/market/parameters",
    tag = "market",
    request_body = ParameterCreate,
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 201, description = "Created", body = ParameterPublic),
        (status = 403, description = "Admins only", body = ErrorDetail),
        (status = 409, description = "Overlaps another validity period of the same parameter", body = ErrorDetail),
        (status = 422, description = "Invalid body", body = ValidationErrorBody),
    )
)]
pub async fn create_parameter(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidJson(body): ValidJson<ParameterCreate>,
) -> Result<(StatusCode, Json<ParameterPublic>), ApiError> {
    let saved = service::parameters::create(&current.actor(), &state.db, body).await?;
    Ok((StatusCode::CREATED, Json(saved.into())))
}

#[utoipa::path(
    patch,
    path = "/api/v1/market/parameters/{id}",
    tag = "market",
    params(("id" = i32, Path, description = "Parameter value id")),
    request_body = ParameterUpdate,
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Updated", body = ParameterPublic),
        (status = 403, description = "Admins only", body = ErrorDetail),
        (status = 404, description = "Parameter not found", body = ErrorDetail),
        (status = 409, description = "Overlaps another validity period", body = ErrorDetail),
        (status = 422, description = "Invalid body", body = ValidationErrorBody),
    )
)]
pub async fn update_parameter(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    ValidJson(body): ValidJson<ParameterUpdate>,
) -> Result<Json<ParameterPublic>, ApiError> {
    let saved = service::parameters::update(&current.actor(), &state.db, id, body).await?;
    Ok(Json(saved.into()))
}

#[utoipa::path(
    delete,
    path = "/api/v1/market/parameters/{id}",
    tag = "market",
    params(("id" = i32, Path, description = "Parameter value id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Admins only", body = ErrorDetail),
        (status = 404, description = "Parameter not found", body = ErrorDetail),
        (status = 422, description = "Bad id", body = ValidationErrorBody),
    )
)]
pub async fn delete_parameter(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<StatusCode, ApiError> {
    service::parameters::delete(&current.actor(), &state.db, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Imports zonal prices: our long layout (`timestamp;zone;eur_mwh`), GME's MGP price results
/// as downloaded (`MGPPrezzi.xml`, hourly or quarter-hourly, or a ZIP of daily files) or GME's
/// price table as CSV or as an Excel workbook, recognised from the content; all or nothing. Values already stored for the same zone and
/// interval are replaced. Prices outside −500…4,000 €/MWh are refused, and so is a file whose
/// prices are all below 1 (€/kWh, not €/MWh). The summary names the layout, the zones stored,
/// what was left out (the PUN, foreign zones) and the days not covered whole. Each import gets
/// an id that the stored prices carry.
#[utoipa::path(
    post,
    path = "/api/v1/market/zonal-prices",
    tag = "market",
    params(PriceImportParams),
    request_body(
        description = "The file, as the body or as the first part of a form; the body is read as it is whatever its declared type, so an XML, ZIP or .xlsx file may be sent as `text/csv` too",
        content((String = "text/csv"), (crate::schemas::energy::FileUpload = "multipart/form-data"))
    ),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 201, description = "Imported", body = PriceImportSummary),
        (status = 403, description = "Admins only", body = ErrorDetail),
        (status = 400, description = "The upload could not be read (the connection broke)", body = ErrorDetail),
        (status = 413, description = "The file is larger than `UPLOAD_MAX_BYTES`: nothing was written", body = ErrorDetail),
        (status = 422, description = "The file was rejected: problems by line", body = ValidationErrorBody),
    )
)]
pub async fn import_prices(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidQuery(params): ValidQuery<PriceImportParams>,
    request: Request,
) -> Result<(StatusCode, Json<PriceImportSummary>), ApiError> {
    let format = match params.format.as_deref() {
        None => None,
        Some(text) => Some(PriceFormat::parse(text).ok_or_else(|| {
            ApiError::invalid(FieldError::new(
                &["query", "format"],
                "format must be `long`, `gme_xml`, `gme_table` or `gme_xlsx`",
                "value_error",
            ))
        })?),
    };
    // A form's file part is read whole, a plain body streamed; the use case bounds both.
    let reader: Box<dyn tokio::io::AsyncRead + Unpin + Send> =
        if crate::api::extract::is_multipart(request.headers()) {
            let bytes = crate::api::extract::first_file(request, &state).await?;
            Box::new(std::io::Cursor::new(bytes))
        } else {
            let stream = request.into_body().into_data_stream().map_err(
                crate::api::extract::body_read_error(state.settings.upload_max_bytes),
            );
            Box::new(StreamReader::new(stream))
        };
    let options = service::prices::PriceImportOptions {
        format,
        default_minutes: u32::from(params.interval_minutes.unwrap_or(60)),
        zone: params.zone,
    };
    let summary = service::prices::import(&current.actor(), &state.db, reader, options).await?;
    Ok((StatusCode::CREATED, Json(summary)))
}

#[utoipa::path(
    get,
    path = "/api/v1/market/zonal-prices",
    tag = "market",
    params(PriceParams),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Prices in €/MWh", body = Vec<PricePublic>),
        (status = 422, description = "Bad query parameter", body = ValidationErrorBody),
    )
)]
pub async fn list_prices(
    State(state): State<AppState>,
    _current: CurrentUser,
    ValidQuery(params): ValidQuery<PriceParams>,
) -> Result<Json<Vec<PricePublic>>, ApiError> {
    let points = service::prices::list(&state.db, &params).await?;
    Ok(Json(
        points
            .into_iter()
            .map(|p| PricePublic {
                start: chrono::DateTime::from_timestamp(p.start, 0)
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_default(),
                minutes: p.minutes,
                eur_mwh: p.eur_mwh,
            })
            .collect(),
    ))
}
