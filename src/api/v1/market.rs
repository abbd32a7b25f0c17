//! `/market`: zonal prices and the regulated parameters the settlement needs.
use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use futures_util::TryStreamExt;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set,
    Statement, TransactionTrait,
};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio_util::io::StreamReader;

use crate::api::deps::CurrentUser;
use crate::api::error::{ApiError, ErrorDetail, FieldError, ValidationErrorBody, fixed_point};
use crate::api::extract::{ValidJson, ValidPath, ValidQuery};
use crate::app::AppState;
use crate::crud;
use crate::domain::energy_series::local_days;
use crate::domain::market::{PriceFileParser, hourly_prices, validity_overlaps};
use crate::models::enums::Role;
use crate::models::market_parameter;
use crate::schemas::market::{
    PARAMETER_SCALE, ParameterCreate, ParameterListParams, ParameterPublic, ParameterUpdate,
    PriceImportParams, PriceImportSummary, PriceParams, PricePublic, PriceResolution,
};

const ZONES: [&str; 7] = ["NORD", "CNOR", "CSUD", "SUD", "CALA", "SICI", "SARD"];
use crate::crud::market::PRICE_SCALE;

fn require_admin(current: &CurrentUser) -> Result<(), ApiError> {
    if current.role() == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

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
    require_admin(&current)?;
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
    require_admin(&current)?;
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
    require_admin(&current)?;
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

/// Zonal prices outside these bounds (€/MWh) are refused as implausible: the day-ahead
/// market's harmonised minimum and maximum clearing prices are −500 and 4,000 €/MWh.
const MIN_PLAUSIBLE_PRICE: rust_decimal::Decimal =
    rust_decimal::Decimal::from_parts(500, 0, 0, true, 0);
const MAX_PLAUSIBLE_PRICE: rust_decimal::Decimal =
    rust_decimal::Decimal::from_parts(4000, 0, 0, false, 0);

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
    require_admin(&current)?;
    // A price file is small (a year of quarter-hours is about a megabyte): a form's file part
    // is read whole, a plain body streamed.
    let mut reader: Box<dyn tokio::io::AsyncBufRead + Unpin + Send> =
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
    let mut text = String::new();
    let mut problems: Vec<FieldError> = Vec::new();
    let problem = |line: u64, msg: String| FieldError {
        loc: vec![
            serde_json::Value::from("body"),
            serde_json::Value::from(line),
        ],
        msg,
        kind: "price".into(),
    };
    let io = |e: std::io::Error| ApiError::BadRequest(format!("Could not read the upload: {e}"));
    reader.read_line(&mut text).await.map_err(io)?;
    let mut parser = PriceFileParser::new(
        text.trim_end(),
        u32::from(params.interval_minutes.unwrap_or(60)),
    )
    .map_err(|msg| ApiError::Validation(vec![problem(1, msg)]))?;
    let mut rows = Vec::new();
    let mut line = 1u64;
    let mut keys = std::collections::HashMap::new();
    // A file of €/kWh read as €/MWh: every value under 1 (and not all zero).
    let (mut all_below_one, mut any_positive) = (true, false);
    loop {
        text.clear();
        if reader.read_line(&mut text).await.map_err(io)? == 0 {
            break;
        }
        line += 1;
        let content = text.trim_end();
        if content.is_empty() {
            continue;
        }
        match parser.parse_line(content, &ZONES) {
            Ok(row) => {
                let price = row.point.eur_mwh;
                if !(MIN_PLAUSIBLE_PRICE..=MAX_PLAUSIBLE_PRICE).contains(&price) {
                    problems.push(problem(
                        line,
                        format!(
                            "{price} €/MWh is outside the plausible range {MIN_PLAUSIBLE_PRICE}…{MAX_PLAUSIBLE_PRICE} €/MWh (the day-ahead market's harmonised limits)"
                        ),
                    ));
                }
                all_below_one &= price < rust_decimal::Decimal::ONE;
                any_positive |= price > rust_decimal::Decimal::ZERO;
                if let Some(first) = keys.insert((row.zone.clone(), row.point.start), line) {
                    problems.push(problem(line, format!("duplicate of line {first}")));
                }
                rows.push(row);
            }
            Err(msg) => problems.push(problem(line, msg)),
        }
        if problems.len() >= 100 {
            break;
        }
    }
    if problems.is_empty() && !rows.is_empty() && all_below_one && any_positive {
        problems.push(problem(
            2,
            "every price is below 1 €/MWh: the values look like €/kWh, the file must give €/MWh (multiply by 1,000)".into(),
        ));
    }
    if !problems.is_empty() {
        return Err(ApiError::Validation(problems));
    }
    let txn = state.db.begin().await?;
    let import_id =
        crud::market::insert_price_import(&txn, current.id(), rows.len() as u64).await?;
    let (mut new_values, mut changed) = (0u64, 0u64);
    let zones: std::collections::BTreeSet<&str> = rows.iter().map(|r| r.zone.as_str()).collect();
    let backend = txn.get_database_backend();
    // Zones come from the closed list and instants are integers: safe as literals.
    for chunk in rows.chunks(500) {
        let mut values = Vec::with_capacity(chunk.len());
        for row in chunk {
            values.push((row, fixed_point("eur_mwh", row.point.eur_mwh, PRICE_SCALE)?));
        }
        let keys: Vec<String> = values
            .iter()
            .map(|(r, _)| format!("('{}', {})", r.zone, r.point.start))
            .collect();
        let stored = txn
            .query_all_raw(Statement::from_string(
                backend,
                format!(
                    "SELECT zone, interval_start, eur_mwh_micro FROM zonal_prices WHERE (zone, interval_start) IN ({})",
                    keys.join(", ")
                ),
            ))
            .await?;
        let mut known = std::collections::HashMap::new();
        for r in stored {
            known.insert(
                (
                    r.try_get::<String>("", "zone")?,
                    r.try_get::<i64>("", "interval_start")?,
                ),
                r.try_get::<i64>("", "eur_mwh_micro")?,
            );
        }
        let mut upserts = Vec::new();
        for (row, micro) in &values {
            match known.get(&(row.zone.clone(), row.point.start)) {
                Some(old) if old == micro => continue,
                Some(_) => changed += 1,
                None => new_values += 1,
            }
            upserts.push(format!(
                "('{}', {}, {}, {}, {import_id})",
                row.zone, row.point.start, row.point.minutes, micro
            ));
        }
        if !upserts.is_empty() {
            txn.execute_unprepared(&format!(
                "INSERT INTO zonal_prices (zone, interval_start, interval_minutes, eur_mwh_micro, import_id) VALUES {} \
                 ON CONFLICT (zone, interval_start) DO UPDATE \
                 SET eur_mwh_micro = excluded.eur_mwh_micro, interval_minutes = excluded.interval_minutes, \
                 import_id = excluded.import_id",
                upserts.join(", ")
            ))
            .await?;
        }
    }
    let rows_count = rows.len() as u64;
    crud::market::complete_price_import(&txn, import_id, new_values, changed).await?;
    txn.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(PriceImportSummary {
            import_id,
            rows: rows_count,
            zones: zones.len() as u64,
            new_values,
            changed_values: changed,
            unchanged: rows_count - new_values - changed,
        }),
    ))
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
