use sea_orm::entity::prelude::*;

/// One imported file: meter readings of a configuration (`kind` `readings`) or zonal prices
/// (`prices`, no configuration), with what it changed and what it was accepted with; or the
/// revert of a readings import (`revert`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reading_imports")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub configuration_id: Option<i32>,
    pub kind: String,
    /// The uploaded file's name (`upload` when the request named none).
    pub source: String,
    pub format: String,
    pub uploaded_by: Option<i32>,
    pub rows: i64,
    pub intervals: i64,
    pub pods: i32,
    pub new_values: i64,
    pub revised_values: i64,
    pub unchanged: i64,
    pub created_at: DateTimeUtc,
    /// JSON list of the warnings the import was accepted with.
    pub warnings: Option<String>,
    /// The `revert` record that undid this import, if one did.
    pub reverted_by_import_id: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
