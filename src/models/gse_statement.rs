use sea_orm::entity::prelude::*;

use super::enums::GseStatementKind;

/// GSE's figures for one month or one year's true-up, as recorded from GSE's portal, and the
/// payment when it arrives. Absent figures are ones GSE has not published (yet).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "gse_statements")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub configuration_id: i32,
    pub kind: GseStatementKind,
    pub period_start: Date,
    /// The period's last day (inclusive, as in the ledger).
    pub period_end: Date,
    /// Shared energy GSE recognised, Wh.
    pub shared_wh: Option<i64>,
    pub premium_cents: Option<i64>,
    pub valorisation_cents: Option<i64>,
    /// The advance GSE computed for the month (its estimate, not a settlement).
    pub advance_cents: Option<i64>,
    /// GSE's fees withheld from the payment.
    pub fees_cents: Option<i64>,
    /// What GSE actually paid (net of fees); set with `paid_on`.
    pub paid_cents: Option<i64>,
    pub paid_on: Option<Date>,
    pub payment_reference: Option<String>,
    pub note: Option<String>,
    /// `form` or `import`.
    pub source: String,
    pub created_by: i32,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
