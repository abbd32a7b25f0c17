//! The regulated parameters (tariffs, premiums' bounds, PNRR limits) as dated values per code:
//! admins keep them, everyone reads them; two values of one code never overlap in time.
use chrono::NaiveDate;
use sea_orm::{DatabaseConnection, IntoActiveModel, Set, TransactionTrait};

use super::{Actor, Outcome, ServiceError, fixed_point};
use crate::core::permissions::Permission;
use crate::crud;
use crate::domain::market::validity_overlaps;
use crate::models::market_parameter;
use crate::schemas::market::{
    PARAMETER_SCALE, ParameterCreate, ParameterListParams, ParameterUpdate,
};

/// Everyone signed in reads the parameters: they are public regulation.
pub async fn list(
    db: &DatabaseConnection,
    params: &ParameterListParams,
) -> Outcome<Vec<market_parameter::Model>> {
    Ok(crud::parameters::list(db, params.code, params.at).await?)
}

pub async fn create(
    actor: &Actor,
    db: &DatabaseConnection,
    input: ParameterCreate,
) -> Outcome<market_parameter::Model> {
    actor.require(Permission::MarketWrite)?;
    let value_micro = fixed_point("value", input.value, PARAMETER_SCALE)?;
    let model = market_parameter::ActiveModel {
        code: Set(input.code.as_str().to_string()),
        value_micro: Set(value_micro),
        unit: Set(input.code.unit().to_string()),
        valid_from: Set(input.valid_from),
        valid_to: Set(input.valid_to),
        note: Set(input.note.clone()),
        ..Default::default()
    };
    save(
        db,
        input.code.as_str(),
        None,
        (input.valid_from, input.valid_to),
        model,
    )
    .await
}

pub async fn update(
    actor: &Actor,
    db: &DatabaseConnection,
    id: i32,
    input: ParameterUpdate,
) -> Outcome<market_parameter::Model> {
    actor.require(Permission::MarketWrite)?;
    let existing = crud::parameters::find(db, id)
        .await?
        .ok_or(ServiceError::NotFound("Parameter"))?;
    let valid_from = input.valid_from.unwrap_or(existing.valid_from);
    let valid_to = input.valid_to.unwrap_or(existing.valid_to);
    let code = existing.code.clone();
    let mut model = existing.into_active_model();
    if let Some(value) = input.value {
        model.value_micro = Set(fixed_point("value", value, PARAMETER_SCALE)?);
    }
    if let Some(note) = &input.note {
        model.note = Set(note.clone());
    }
    model.valid_from = Set(valid_from);
    model.valid_to = Set(valid_to);
    save(db, &code, Some(id), (valid_from, valid_to), model).await
}

pub async fn delete(actor: &Actor, db: &DatabaseConnection, id: i32) -> Outcome<()> {
    actor.require(Permission::MarketWrite)?;
    if crud::parameters::delete(db, id).await? {
        Ok(())
    } else {
        Err(ServiceError::NotFound("Parameter"))
    }
}

/// Checks the validity period against the code's other values and saves, serialised per code.
async fn save(
    db: &DatabaseConnection,
    code: &str,
    id: Option<i32>,
    period: (NaiveDate, Option<NaiveDate>),
    model: market_parameter::ActiveModel,
) -> Outcome<market_parameter::Model> {
    if period.1.is_some_and(|to| to <= period.0) {
        return Err(ServiceError::invalid(
            "valid_to",
            "valid_to must be after valid_from",
            "date_order",
        ));
    }
    let txn = db.begin().await?;
    crud::write_lock(&txn, &format!("parameter:{code}")).await?;
    let others = crud::parameters::of_code(&txn, code).await?;
    if let Some(clash) = others
        .iter()
        .find(|o| Some(o.id) != id && validity_overlaps(period, (o.valid_from, o.valid_to)))
    {
        return Err(ServiceError::conflict(format!(
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
