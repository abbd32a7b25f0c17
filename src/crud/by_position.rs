//! Reading a row's values by their position in the select list, straight from the driver's row.
//!
//! Why: the hottest pages (a configuration's members, 50 rows of 15 columns) spent more CPU in
//! decoding than PostgreSQL spent answering. SeaORM's derived `FromQueryResult` finds every
//! column by name and, for every NULL it reads into an `Option`, formats an error string that
//! it then throws away. This reads the same driver types (the ones SeaORM's `TryGetable` reads:
//! `i32`, `String`, `NaiveDate`, `DateTime<Utc>`…) at a known position, so a row decoded here
//! is the row SeaORM would have given (tested on both databases beside `from_query_result`).
use sea_orm::sqlx::{Decode, Postgres, Row, Sqlite, Type};
use sea_orm::{ActiveEnum, DbErr, QueryResult};

/// The value at `index` of `row`; `column` names it in the error.
pub fn get<T>(row: &QueryResult, index: usize, column: &str) -> Result<T, DbErr>
where
    T: for<'r> Decode<'r, Postgres> + Type<Postgres> + for<'r> Decode<'r, Sqlite> + Type<Sqlite>,
{
    let read = if let Some(row) = row.try_as_pg_row() {
        row.try_get::<T, usize>(index)
    } else if let Some(row) = row.try_as_sqlite_row() {
        row.try_get::<T, usize>(index)
    } else {
        return Err(DbErr::Type(format!(
            "column {column}: the row comes from neither PostgreSQL nor SQLite"
        )));
    };
    read.map_err(|e| DbErr::Type(format!("column {column} (position {index}): {e}")))
}

/// An enum stored as its string value (`DeriveActiveEnum` with `rs_type = "String"`).
pub fn get_enum<E>(row: &QueryResult, index: usize, column: &str) -> Result<E, DbErr>
where
    E: ActiveEnum<Value = String>,
{
    let stored: String = get(row, index, column)?;
    E::try_from_value(&stored)
        .map_err(|e| DbErr::Type(format!("column {column} (position {index}): {e}")))
}

/// A model read by position: `model!(row, first, Column, Model { field: get Column, … })` reads
/// each field with [`get`] or [`get_enum`] at `first + Column::… as usize` — the entity's column
/// order, the order `Entity::find()` selects in. Every field is named, so a new one fails to
/// compile until it is read here too.
macro_rules! model {
    ($row:expr, $first:expr, $column:ident, $model:ident {
        $($field:ident: $get:ident $variant:ident),* $(,)?
    }) => {
        $model {
            $($field: $crate::crud::by_position::$get(
                $row,
                $first + $column::$variant as usize,
                stringify!($variant),
            )?,)*
        }
    };
}
pub(crate) use model;
