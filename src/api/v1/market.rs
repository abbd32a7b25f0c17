//! `/market`: zonal prices and the regulated parameters the settlement needs.
use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use futures_util::TryStreamExt;
use sea_orm::{
    ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use tokio::io::BufReader;
use tokio_util::io::StreamReader;

use crate::api::deps::CurrentUser;
use crate::api::error::{ApiError, ErrorDetail, FieldError, ValidationErrorBody, fixed_point};
use crate::api::extract::{ValidJson, ValidPath, ValidQuery};
use crate::app::AppState;
use crate::core::permissions::Permission;
use crate::crud;
use crate::domain::energy_series::local_days;
use crate::domain::market::{hourly_prices, validity_overlaps};
use crate::models::market_parameter;
use crate::schemas::market::{
    PARAMETER_SCALE, ParameterCreate, ParameterListParams, ParameterPublic, ParameterUpdate,
    PriceImportParams, PriceImportSummary, PriceParams, PricePublic, PriceResolution,
};

#[utoipa::path(
    get,
    path = "/api/v1/market/parameters",
    tag = "market",
    params(ParameterListParams),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "Parameter values, by code and validity", body = Vec<ParameterPublic>),
        (status = 401, description = "Could not validate credentials", body = ErrorDetail),
        (status = 422, description = "Bad query parameter", body = ValidationErrorBody),
    )
)]
pub async fn list_parameters(
    State(state): State<AppState>,
    _current: CurrentUser,
    ValidQuery(params): ValidQuery<ParameterListParams>,
) -> Result<Json<Vec<ParameterPublic>>, ApiError> {
    let mut query = market_parameter::Entity::find();
    if let Some(code) = params.code {
        query = query.filter(market_parameter::Column::Code.eq(code.as_str()));
    }
    if let Some(at) = params.at {
        query = query
            .filter(market_parameter::Column::ValidFrom.lte(at))
            .filter(
                sea_orm::Condition::any()
                    .add(market_parameter::Column::ValidTo.is_null())
                    .add(market_parameter::Column::ValidTo.gt(at)),
            );
    }
    let rows = query
        .order_by_asc(market_parameter::Column::Code)
        .order_by_asc(market_parameter::Column::ValidFrom)
        .all(&state.db)
        .await?;
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
        (status = 401, description = "Could not validate credentials", body = ErrorDetail),
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
    current.require(Permission::MarketWrite)?;
    let value_micro = fixed_point("value", body.value, PARAMETER_SCALE)?;
    let model = market_parameter::ActiveModel {
        code: Set(body.code.as_str().to_string()),
        value_micro: Set(value_micro),
        unit: Set(body.code.unit().to_string()),
        valid_from: Set(body.valid_from),
        valid_to: Set(body.valid_to),
        note: Set(body.note.clone()),
        ..Default::default()
    };
    let saved = save_parameter(
        &state,
        body.code.as_str(),
        None,
        (body.valid_from, body.valid_to),
        model,
    )
    .await?;
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
        (status = 401, description = "Could not validate credentials", body = ErrorDetail),
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
    current.require(Permission::MarketWrite)?;
    let existing = market_parameter::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::not_found("Parameter"))?;
    let valid_from = body.valid_from.unwrap_or(existing.valid_from);
    let valid_to = body.valid_to.unwrap_or(existing.valid_to);
    let code = existing.code.clone();
    let mut model = existing.into_active_model();
    if let Some(value) = body.value {
        model.value_micro = Set(fixed_point("value", value, PARAMETER_SCALE)?);
    }
    if let Some(note) = &body.note {
        model.note = Set(note.clone());
    }
    model.valid_from = Set(valid_from);
    model.valid_to = Set(valid_to);
    Ok(Json(
        save_parameter(&state, &code, Some(id), (valid_from, valid_to), model)
            .await?
            .into(),
    ))
}

#[utoipa::path(
    delete,
    path = "/api/v1/market/parameters/{id}",
    tag = "market",
    params(("id" = i32, Path, description = "Parameter value id")),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Could not validate credentials", body = ErrorDetail),
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
    current.require(Permission::MarketWrite)?;
    let result = market_parameter::Entity::delete_by_id(id)
        .exec(&state.db)
        .await?;
    if result.rows_affected == 0 {
        return Err(ApiError::not_found("Parameter"));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Checks the validity period against the parameter's others and saves, serialised per code.
async fn save_parameter(
    state: &AppState,
    code: &str,
    id: Option<i32>,
    period: (chrono::NaiveDate, Option<chrono::NaiveDate>),
    model: market_parameter::ActiveModel,
) -> Result<market_parameter::Model, ApiError> {
    if period.1.is_some_and(|to| to <= period.0) {
        return Err(ApiError::invalid(FieldError::body(
            "valid_to",
            "valid_to must be after valid_from",
            "date_order",
        )));
    }
    let txn = state.db.begin().await?;
    crud::write_lock(&txn, &format!("parameter:{code}")).await?;
    let others = market_parameter::Entity::find()
        .filter(market_parameter::Column::Code.eq(code))
        .all(&txn)
        .await?;
    if let Some(clash) = others
        .iter()
        .find(|o| Some(o.id) != id && validity_overlaps(period, (o.valid_from, o.valid_to)))
    {
        return Err(ApiError::Conflict(format!(
            "{code} already has a value valid from {} {}: close that period first",
            clash.valid_from,
            clash
                .valid_to
                .map(|d| format!("to {d}"))
                .unwrap_or_else(|| "onwards".into())
        )));
    }
    let saved = if id.is_some() {
        crud::update(&txn, model).await?
    } else {
        crud::insert(&txn, model).await?
    };
    txn.commit().await?;
    Ok(saved)
}

/// Imports zonal prices (`timestamp;zone;eur_mwh`), streamed; all or nothing. Values already
/// stored for the same zone and interval are replaced. Prices outside −500…4,000 €/MWh are
/// refused, and so is a file whose prices are all below 1 (€/kWh, not €/MWh). Each import
/// gets an id that the stored prices carry.
#[utoipa::path(
    post,
    path = "/api/v1/market/zonal-prices",
    tag = "market",
    params(PriceImportParams),
    request_body(
        description = "The file, as the body (`text/csv`) or as the first part of a form",
        content((String = "text/csv"), (crate::schemas::energy::FileUpload = "multipart/form-data"))
    ),
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 201, description = "Imported", body = PriceImportSummary),
        (status = 401, description = "Could not validate credentials", body = ErrorDetail),
        (status = 403, description = "Admins only", body = ErrorDetail),
        (status = 422, description = "The file was rejected: problems by line", body = ValidationErrorBody),
    )
)]
pub async fn import_prices(
    State(state): State<AppState>,
    current: CurrentUser,
    ValidQuery(params): ValidQuery<PriceImportParams>,
    request: Request,
) -> Result<(StatusCode, Json<PriceImportSummary>), ApiError> {
    // A price file is small (a year of quarter-hours is about a megabyte): a form's file part
    // is read whole, a plain body streamed.
    let reader: Box<dyn tokio::io::AsyncBufRead + Unpin + Send> =
        if crate::api::extract::is_multipart(request.headers()) {
            let bytes = crate::api::extract::first_file(request, &state).await?;
            Box::new(BufReader::new(std::io::Cursor::new(bytes)))
        } else {
            let stream = request
                .into_body()
                .into_data_stream()
                .map_err(std::io::Error::other);
            Box::new(BufReader::new(StreamReader::new(stream)))
        };
    let minutes = u32::from(params.interval_minutes.unwrap_or(60));
    let summary =
        crate::service::prices::import(&current.actor(), &state.db, reader, minutes).await?;
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
        (status = 401, description = "Could not validate credentials", body = ErrorDetail),
        (status = 422, description = "Bad query parameter", body = ValidationErrorBody),
    )
)]
pub async fn list_prices(
    State(state): State<AppState>,
    _current: CurrentUser,
    ValidQuery(params): ValidQuery<PriceParams>,
) -> Result<Json<Vec<PricePublic>>, ApiError> {
    let hourly = params.resolution.unwrap_or_default() == PriceResolution::Hourly;
    if params.to < params.from {
        return Err(ApiError::invalid(FieldError::new(
            &["query", "to"],
            "`to` cannot be before `from`",
            "date_order",
        )));
    }
    let (from, to) = local_days(params.from, params.to);
    let points = crud::market::zonal_prices(&state.db, params.zone, from, to).await?;
    let points = if hourly {
        hourly_prices(&points)
    } else {
        points
    };
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
