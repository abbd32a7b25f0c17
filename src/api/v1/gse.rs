//! GSE's figures (recorded by form or file, and GSE's payments) and the reconciliation with
//! the finalised runs.
use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use utoipa::IntoParams;
use validator::Validate;

use crate::api::csv;
use crate::api::deps::CurrentUser;
use crate::api::error::{ApiError, ErrorDetail, ValidationErrorBody};
use crate::api::extract::{ValidJson, ValidPath, ValidQuery, first_file, is_multipart, read_body};
use crate::api::state::AppState;
use crate::schemas::gse::{
    GseImportParams, GseImportReport, GsePaymentCreate, GseStatementCreate, GseStatementPublic,
    Reconciliation, ReconciliationParams,
};
use crate::service;

#[derive(Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GseListParams {
    /// Only the statements of this year.
    #[validate(range(min = 2020, max = 2100))]
    #[param(minimum = 2020, maximum = 2100)]
    pub year: Option<i32>,
}

#[utoipa::path(
    get,
    path = "/api/v1/configurations/{id}/gse-statements",
    tag = "gse",
    params(("id" = i32, Path, description = "Configuration id"), GseListParams),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "GSE's statements, oldest period first", body = Vec<GseStatementPublic>),
        (status = 403, description = "The role may not see GSE's figures", body = ErrorDetail),
        (status = 404, description = "Configuration not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Bad id or query", body = ValidationErrorBody),
    )
)]
pub async fn list_gse_statements(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    ValidQuery(params): ValidQuery<GseListParams>,
) -> Result<Json<Vec<GseStatementPublic>>, ApiError> {
    let rows = service::gse::list(&current.actor(), &state.db, id, params.year).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// Records GSE's figures for a month (`YYYY-MM`) or a year's true-up (`YYYY`), as published on
/// GSE's portal. With `paid_eur` and `paid_on` the payment is recorded too, as a `gse_payment`
/// ledger row of the configuration.
#[utoipa::path(
    post,
    path = "/api/v1/configurations/{id}/gse-statements",
    tag = "gse",
    params(("id" = i32, Path, description = "Configuration id")),
    request_body = GseStatementCreate,
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 201, description = "Recorded", body = GseStatementPublic),
        (status = 403, description = "The role may not record GSE's figures", body = ErrorDetail),
        (status = 404, description = "Configuration not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 409, description = "GSE's figures for the period are already recorded", body = ErrorDetail),
        (status = 422, description = "A bad figure (negative, more decimals than its unit has), a period that is not over, before the configuration began or unreadable, a payment without its date", body = ValidationErrorBody),
    )
)]
pub async fn create_gse_statement(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    ValidJson(input): ValidJson<GseStatementCreate>,
) -> Result<(StatusCode, Json<GseStatementPublic>), ApiError> {
    let statement = service::gse::record(&current.actor(), &state.db, id, input.into()).await?;
    Ok((StatusCode::CREATED, Json(statement.into())))
}

/// Records GSE's statements from a file (`text/csv` as the body, or the first file of a form):
/// the `condivisa` layout is in the README (GSE reconciliation). All or nothing: every problem
/// is reported with its line (`loc`: `["body", line]`).
#[utoipa::path(
    post,
    path = "/api/v1/configurations/{id}/gse-statements/import",
    tag = "gse",
    params(("id" = i32, Path, description = "Configuration id"), GseImportParams),
    request_body(
        description = "The file, as the body (`text/csv`) or as the first part of a form",
        content((String = "text/csv"), (crate::schemas::energy::FileUpload = "multipart/form-data"))
    ),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 201, description = "Every statement recorded", body = GseImportReport),
        (status = 400, description = "The upload could not be read", body = ErrorDetail),
        (status = 403, description = "The role may not record GSE's figures", body = ErrorDetail),
        (status = 404, description = "Configuration not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 413, description = "The file is larger than `UPLOAD_MAX_BYTES`: nothing was written", body = ErrorDetail),
        (status = 422, description = "The file was refused, nothing was written: every problem by line", body = ValidationErrorBody),
    )
)]
pub async fn import_gse_statements(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    ValidQuery(params): ValidQuery<GseImportParams>,
    request: Request,
) -> Result<(StatusCode, Json<GseImportReport>), ApiError> {
    let bytes = if is_multipart(request.headers()) {
        first_file(request, &state).await?
    } else {
        read_body(request, &state).await?.to_vec()
    };
    let created =
        service::gse::import(&current.actor(), &state.db, id, &params.format, &bytes).await?;
    Ok((
        StatusCode::CREATED,
        Json(GseImportReport {
            format: params.format,
            created: created.into_iter().map(Into::into).collect(),
        }),
    ))
}

#[utoipa::path(
    get,
    path = "/api/v1/gse-statements/{id}",
    tag = "gse",
    params(("id" = i32, Path, description = "GSE statement id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "The statement", body = GseStatementPublic),
        (status = 403, description = "The role may not see GSE's figures", body = ErrorDetail),
        (status = 404, description = "Not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Bad id", body = ValidationErrorBody),
    )
)]
pub async fn read_gse_statement(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<Json<GseStatementPublic>, ApiError> {
    let (statement, _) = service::gse::visible(&current.actor(), &state.db, id).await?;
    Ok(Json(statement.into()))
}

/// Deletes a statement recorded by mistake, while its payment is not in the ledger.
#[utoipa::path(
    delete,
    path = "/api/v1/gse-statements/{id}",
    tag = "gse",
    params(("id" = i32, Path, description = "GSE statement id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "The role may not record GSE's figures", body = ErrorDetail),
        (status = 404, description = "Not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 409, description = "GSE's payment of it is in the ledger", body = ErrorDetail),
        (status = 422, description = "Bad id", body = ValidationErrorBody),
    )
)]
pub async fn delete_gse_statement(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
) -> Result<StatusCode, ApiError> {
    service::gse::delete(&current.actor(), &state.db, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Records GSE's payment of a statement (once): a `gse_payment` ledger row.
#[utoipa::path(
    post,
    path = "/api/v1/gse-statements/{id}/payment",
    tag = "gse",
    params(("id" = i32, Path, description = "GSE statement id")),
    request_body = GsePaymentCreate,
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Recorded", body = GseStatementPublic),
        (status = 403, description = "The role may not record GSE's figures", body = ErrorDetail),
        (status = 404, description = "Not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 409, description = "The payment is already recorded", body = ErrorDetail),
        (status = 422, description = "A negative amount, a date in the future or not after the period", body = ValidationErrorBody),
    )
)]
pub async fn record_gse_payment(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    ValidJson(input): ValidJson<GsePaymentCreate>,
) -> Result<Json<GseStatementPublic>, ApiError> {
    let statement = service::gse::record_payment(
        &current.actor(),
        &state.db,
        id,
        input.paid_eur,
        input.paid_on,
        input.payment_reference,
    )
    .await?;
    Ok(Json(statement.into()))
}

async fn reconcile(
    state: &AppState,
    current: &CurrentUser,
    id: i32,
    params: ReconciliationParams,
) -> Result<Reconciliation, ApiError> {
    Ok(service::gse::reconciliation(
        &current.actor(),
        &state.db,
        id,
        params.year,
        params.tolerance_eur,
        params.tolerance_kwh,
    )
    .await?)
}

/// Our finalised runs against GSE's figures, month by month (and the year's true-up): each
/// component (shared energy, premium, valorisation, fees) with GSE's minus ours and a status —
/// `matched` within the tolerance, `differs`, or `missing` (a side has no figure) — with what
/// explains the differences; and the ledger's balance of GSE's payments against what members
/// were credited and paid.
#[utoipa::path(
    get,
    path = "/api/v1/configurations/{id}/reconciliation",
    tag = "gse",
    params(("id" = i32, Path, description = "Configuration id"), ReconciliationParams),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "The year's reconciliation", body = Reconciliation),
        (status = 403, description = "The role may not see GSE's figures", body = ErrorDetail),
        (status = 404, description = "Configuration not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Bad id, year or tolerance", body = ValidationErrorBody),
    )
)]
pub async fn read_reconciliation(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    ValidQuery(params): ValidQuery<ReconciliationParams>,
) -> Result<Json<Reconciliation>, ApiError> {
    Ok(Json(reconcile(&state, &current, id, params).await?))
}

/// The reconciliation as a semicolon-separated file (Italian Excel): one line per period and
/// component.
#[utoipa::path(
    get,
    path = "/api/v1/configurations/{id}/reconciliation.csv",
    tag = "gse",
    params(("id" = i32, Path, description = "Configuration id"), ReconciliationParams),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "CSV", content_type = "text/csv", body = String),
        (status = 403, description = "The role may not see GSE's figures", body = ErrorDetail),
        (status = 404, description = "Configuration not found (or outside the caller's scope)", body = ErrorDetail),
        (status = 422, description = "Bad id, year or tolerance", body = ValidationErrorBody),
    )
)]
pub async fn read_reconciliation_csv(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidPath(id): ValidPath<i32>,
    ValidQuery(params): ValidQuery<ReconciliationParams>,
) -> Result<Response, ApiError> {
    let reconciliation = reconcile(&state, &current, id, params).await?;
    Ok(reconciliation_file(&reconciliation))
}

/// The reconciliation as the CSV file the API and the console give: one line per period and
/// component.
pub fn reconciliation_file(reconciliation: &Reconciliation) -> Response {
    let mut lines =
        vec!["period;component;unit;computed;gse;difference;status;period_status".to_string()];
    for period in &reconciliation.periods {
        for c in &period.components {
            lines.push(format!(
                "{};{};{};{};{};{};{};{}",
                period.period,
                c.component.as_str(),
                c.unit,
                csv::italian_or_blank(c.computed),
                csv::italian_or_blank(c.gse),
                csv::italian_or_blank(c.difference),
                c.status.as_str(),
                period.status.as_str(),
            ));
        }
    }
    csv::response(
        &format!(
            "reconciliation-{}-{}.csv",
            reconciliation.configuration_id, reconciliation.year
        ),
        lines,
    )
}
