//! Meter data of a configuration: import files, see what is missing, and look at the energy
//! flows as series and charts.
use axum::Json;
use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::TryStreamExt;
use tokio::io::BufReader;
use tokio_util::io::StreamReader;

use crate::api::deps::CurrentUser;
use crate::api::error::{ApiError, ErrorDetail, FieldError, ValidationErrorBody};
use crate::api::extract::{ValidPath, ValidQuery, is_multipart, multipart_error, no_file};
use crate::api::state::AppState;
use crate::crud::energy::Coverage;
use crate::domain::charts::{EnergyBucket, energy_chart_svg};
use crate::domain::meter_files::ParseOptions;
use crate::imports::{ImportSummary, import_options};
use crate::schemas::energy::{
    EnergySeries, FileUpload, ImportKind, ImportListParams, ImportParams, ImportPublic,
    PeriodParams, SeriesParams,
};
use crate::service;

/// Imports a meter-data file (long format or e-distribuzione "Curve di carico"), streamed:
/// send it as `text/csv` or as the first file of a `multipart/form-data` body. All or nothing:
/// any bad row rejects the file (422 listing up to 100 problems by line) and nothing is written.
#[utoipa::path(
    post,
    path = "/api/v1/configurations/{id}/readings",
    tag = "meter data",
    params(("id" = i32, Path, description = "Configuration id"), ImportParams),
    request_body(
        description = "The file, as the body (`text/csv`) or as the first part of a form",
        content((String = "text/csv"), (FileUpload = "multipart/form-data"))
    ),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 201, description = "Imported", body = ImportSummary),
        (status = 403, description = "The role may not import readings", body = ErrorDetail),
        (status = 404, description = "Configuration not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 400, description = "The upload could not be read (the connection broke)", body = ErrorDetail),
        (status = 413, description = "The file is larger than `UPLOAD_MAX_BYTES` or has more lines than `UPLOAD_MAX_LINES`: nothing was written", body = ErrorDetail),
        (status = 422, description = "The file was rejected: problems by line (`loc`: [\"body\", line])", body = ValidationErrorBody),
    )
)]
pub async fn import(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    ValidQuery(params): ValidQuery<ImportParams>,
    request: Request,
) -> Result<(StatusCode, Json<ImportSummary>), ApiError> {
    let mut options = parse_options(&params)?;
    options.max_lines = Some(state.settings.upload_max_lines);
    let allow_outliers = params.allow_outliers.unwrap_or(false);
    let limit = state.settings.upload_max_bytes;
    // A form's first file part, or the body itself; streamed either way. The form lives here,
    // outside the branch, because its part borrows it.
    let mut form;
    let reader: Box<dyn tokio::io::AsyncBufRead + Unpin + Send + '_> =
        if is_multipart(request.headers()) {
            form = Multipart::from_request(request, &state)
                .await
                .map_err(multipart_error)?;
            let field = form
                .next_field()
                .await
                .map_err(multipart_error)?
                .ok_or_else(no_file)?;
            if options.file_name.is_none() {
                options.file_name = field.file_name().map(str::to_string);
            }
            let read_error = crate::api::extract::field_read_error(limit);
            Box::new(BufReader::new(StreamReader::new(field.map_err(read_error))))
        } else {
            let stream = request
                .into_body()
                .into_data_stream()
                .map_err(crate::api::extract::body_read_error(limit));
            Box::new(BufReader::new(StreamReader::new(stream)))
        };
    let summary = service::readings::import(
        &current.actor(),
        &state.db,
        id,
        reader,
        options,
        allow_outliers,
        |_| {},
    )
    .await?;
    Ok((StatusCode::CREATED, Json(summary)))
}

fn parse_options(params: &ImportParams) -> Result<ParseOptions, ApiError> {
    import_options(params).map_err(|(field, msg)| {
        ApiError::invalid(FieldError::new(&["query", field], msg, "value_error"))
    })
}

/// Lists, per member POD and direction, the intervals with no reading in the period.
#[utoipa::path(
    get,
    path = "/api/v1/configurations/{id}/readings/coverage",
    tag = "meter data",
    params(("id" = i32, Path, description = "Configuration id"), PeriodParams),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Coverage per POD and direction", body = Vec<Coverage>),
        (status = 403, description = "The role may not see the whole configuration's data", body = ErrorDetail),
        (status = 404, description = "Configuration not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Bad period", body = ValidationErrorBody),
    )
)]
pub async fn coverage(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    ValidQuery(params): ValidQuery<PeriodParams>,
) -> Result<Json<Vec<Coverage>>, ApiError> {
    Ok(Json(
        service::energy::coverage(&current.actor(), &state.db, id, &params).await?,
    ))
}

/// The chart of a series as an SVG response (the API's and the console's).
pub(crate) fn svg_response(title: &str, series: &EnergySeries) -> Response {
    let buckets: Vec<EnergyBucket> = series
        .points
        .iter()
        .map(|p| EnergyBucket {
            label: p.label.clone(),
            injected_kwh: p.injected_kwh,
            withdrawn_kwh: p.withdrawn_kwh,
            shared_kwh: p.shared_kwh,
        })
        .collect();
    let subtitle = format!(
        "{} – {}, by {} · shared {} kWh of {} kWh injected",
        series.from,
        series.to,
        series.granularity,
        series.total_shared_kwh,
        series.total_injected_kwh
    );
    let svg = energy_chart_svg(title, &subtitle, &buckets);
    (
        [(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8")],
        Body::from(svg),
    )
        .into_response()
}

/// Injected, withdrawn and shared energy of the configuration, in Italian local-time buckets.
#[utoipa::path(
    get,
    path = "/api/v1/configurations/{id}/energy",
    tag = "meter data",
    params(("id" = i32, Path, description = "Configuration id"), SeriesParams),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "The series", body = EnergySeries),
        (status = 403, description = "Members see only their own POD's series", body = ErrorDetail),
        (status = 404, description = "Configuration not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Bad period or granularity", body = ValidationErrorBody),
    )
)]
pub async fn configuration_energy(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    ValidQuery(params): ValidQuery<SeriesParams>,
) -> Result<Json<EnergySeries>, ApiError> {
    let (_, series) =
        service::energy::configuration_series(&current.actor(), &state.db, id, &params).await?;
    Ok(Json(series))
}

/// The same as a chart.
#[utoipa::path(
    get,
    path = "/api/v1/configurations/{id}/energy.svg",
    tag = "meter data",
    params(("id" = i32, Path, description = "Configuration id"), SeriesParams),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "SVG chart", content_type = "image/svg+xml", body = String),
        (status = 403, description = "Members see only their own POD's series", body = ErrorDetail),
        (status = 404, description = "Configuration not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Bad period or granularity", body = ValidationErrorBody),
    )
)]
pub async fn configuration_energy_svg(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    ValidQuery(params): ValidQuery<SeriesParams>,
) -> Result<Response, ApiError> {
    let (configuration, series) =
        service::energy::configuration_series(&current.actor(), &state.db, id, &params).await?;
    Ok(svg_response(&configuration.name, &series))
}

/// One member's POD: "your injection", "your withdrawal", and "shared energy attributed to
/// you" — your part of the configuration's shared energy, `Σ_h withdrawal_h × EAC_h / With_h`,
/// the quantity of the settlement report and the statement (which apportion it to the Wh: a
/// month there may differ from the sum of this series by a Wh).
#[utoipa::path(
    get,
    path = "/api/v1/members/{id}/energy",
    tag = "meter data",
    params(("id" = i32, Path, description = "Member id"), SeriesParams),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "The series", body = EnergySeries),
        (status = 404, description = "Member not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Bad period or granularity", body = ValidationErrorBody),
    )
)]
pub async fn member_energy(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    ValidQuery(params): ValidQuery<SeriesParams>,
) -> Result<Json<EnergySeries>, ApiError> {
    let (_, series) =
        service::energy::member_series(&current.actor(), &state.db, id, &params).await?;
    Ok(Json(series))
}

#[utoipa::path(
    get,
    path = "/api/v1/members/{id}/energy.svg",
    tag = "meter data",
    params(("id" = i32, Path, description = "Member id"), SeriesParams),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "SVG chart", content_type = "image/svg+xml", body = String),
        (status = 404, description = "Member not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Bad period or granularity", body = ValidationErrorBody),
    )
)]
pub async fn member_energy_svg(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    ValidQuery(params): ValidQuery<SeriesParams>,
) -> Result<Response, ApiError> {
    let (pod, series) =
        service::energy::member_series(&current.actor(), &state.db, id, &params).await?;
    Ok(svg_response(&format!("POD {pod}"), &series))
}

fn public_imports(
    rows: Vec<crate::models::reading_import::Model>,
) -> Result<Vec<ImportPublic>, ApiError> {
    rows.into_iter()
        .map(|row| ImportPublic::from_model(row).map_err(ApiError::Conflict))
        .collect()
}

/// The configuration's import log, newest first: each meter-data file (and, unless
/// `kind=readings`, each zonal-price file) with who uploaded it, when, its name, what it
/// changed and the warnings it was accepted with.
#[utoipa::path(
    get,
    path = "/api/v1/configurations/{id}/imports",
    tag = "energy",
    params(("id" = i32, Path, description = "Configuration id"), ImportListParams),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Imports", body = [ImportPublic]),
        (status = 403, description = "Only referents, vendors and admins read the import log", body = ErrorDetail),
        (status = 404, description = "Configuration not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Invalid id or query", body = ValidationErrorBody),
    )
)]
pub async fn list_imports(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    ValidQuery(params): ValidQuery<ImportListParams>,
) -> Result<Json<Vec<ImportPublic>>, ApiError> {
    let rows = service::readings::imports_of(
        &current.actor(),
        &state.db,
        id,
        params.kind.map(ImportKind::as_str),
    )
    .await?;
    Ok(Json(public_imports(rows)?))
}

#[utoipa::path(
    get,
    path = "/api/v1/imports/{id}",
    tag = "energy",
    params(("id" = i32, Path, description = "Import id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "The import", body = ImportPublic),
        (status = 403, description = "Only referents, vendors and admins read the import log", body = ErrorDetail),
        (status = 404, description = "Not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Invalid id", body = ValidationErrorBody),
    )
)]
pub async fn read_import(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<Json<ImportPublic>, ApiError> {
    let row = service::readings::visible_import(&current.actor(), &state.db, id).await?;
    Ok(Json(public_imports(vec![row])?.remove(0)))
}

/// Undoes a meter-data import in one transaction: every value it changed goes back to the
/// revision before it, every value it added is removed, the configuration's hourly totals
/// follow; the history keeps everything (the import's values become revisions superseded by a
/// new `revert` record). Previews computed on the import's values no longer match their
/// inputs and must be recomputed. Refused (409) for price imports, for an import already
/// reverted, and for one whose values a later import changed (revert that one first).
#[utoipa::path(
    post,
    path = "/api/v1/imports/{id}/revert",
    tag = "energy",
    params(("id" = i32, Path, description = "Import id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Reverted", body = crate::crud::imports::RevertSummary),
        (status = 403, description = "The role may not change meter data", body = ErrorDetail),
        (status = 404, description = "Not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 409, description = "A price import, already reverted, or changed later", body = ErrorDetail),
        (status = 422, description = "Invalid id", body = ValidationErrorBody),
    )
)]
pub async fn revert_import(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<Json<crate::crud::imports::RevertSummary>, ApiError> {
    Ok(Json(
        service::readings::revert(&current.actor(), &state.db, id).await?,
    ))
}
