use sea_orm::entity::prelude::*;

use super::enums::RunStatus;

/// One computation of a configuration's month, with everything it found (`report`, JSON) and
/// the fingerprint of its inputs.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "settlement_runs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub configuration_id: i32,
    pub period_start: Date,
    /// The period's last day (inclusive, as in the ledger).
    pub period_end: Date,
    pub status: RunStatus,
    pub policy_id: Option<i32>,
    /// SHA-256 over the readings' revisions, hourly totals, prices, parameters, plants,
    /// memberships and policy the run used.
    pub fingerprint: String,
    pub finalizable: bool,
    pub corrects_run_id: Option<i32>,
    pub report: String,
    /// The layout of `report` (see `settlement::REPORT_VERSION`).
    pub report_version: i32,
    /// Why the run was finalised although data were missing (the gaps are in the report).
    pub incomplete_reason: Option<String>,
    pub incomplete_accepted_by: Option<i32>,
    pub created_by: Option<i32>,
    pub created_at: DateTimeUtc,
    pub finalized_by: Option<i32>,
    pub finalized_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
