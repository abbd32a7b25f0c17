//! The regulated parameters (dated values per code) the settlement and the plant rules read.
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};

use crate::models::enums::ParameterCode;
use crate::models::market_parameter::{Column, Entity, Model};

/// Values by code and validity period; with `at`, only those valid on that day.
pub async fn list(
    db: &impl ConnectionTrait,
    code: Option<ParameterCode>,
    at: Option<chrono::NaiveDate>,
) -> Result<Vec<Model>, DbErr> {
    let mut query = Entity::find();
    if let Some(code) = code {
        query = query.filter(Column::Code.eq(code.as_str()));
    }
    if let Some(at) = at {
        query = query.filter(Column::ValidFrom.lte(at)).filter(
            Condition::any()
                .add(Column::ValidTo.is_null())
                .add(Column::ValidTo.gt(at)),
        );
    }
    query
        .order_by_asc(Column::Code)
        .order_by_asc(Column::ValidFrom)
        .all(db)
        .await
}

pub async fn find(db: &impl ConnectionTrait, id: i32) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id).one(db).await
}

/// Every value of one code.
pub async fn of_code(db: &impl ConnectionTrait, code: &str) -> Result<Vec<Model>, DbErr> {
    Entity::find().filter(Column::Code.eq(code)).all(db).await
}

/// Whether a value was deleted.
pub async fn delete(db: &impl ConnectionTrait, id: i32) -> Result<bool, DbErr> {
    Ok(Entity::delete_by_id(id).exec(db).await?.rows_affected > 0)
}
