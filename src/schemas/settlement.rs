use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::domain::sharing::Policy;
use crate::models::enums::RunStatus;
use crate::models::{settlement_policy, settlement_run};
use crate::settlement::{Finalization, MoneyTotals, Report, SettleError, decode_report};

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"valid_from": "2025-01-01", "note": "Statuto art. 12", "document": {"shares": {"management": "10", "social_fund": "0", "producers": "40", "consumers": "50"}, "producers_split": "by_incentivised_energy", "consumers_split": "by_shared_withdrawal", "excess_to": "non_business_consumers"}}))]
pub struct PolicyCreate {
    /// The first day of the month from which this version applies.
    pub valid_from: NaiveDate,
    pub document: Policy,
    #[validate(length(max = 1000))]
    #[schema(max_length = 1000)]
    pub note: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PolicyPublic {
    /// Absent for the default policy (the configuration has none yet).
    pub id: Option<i32>,
    pub version: Option<i32>,
    pub valid_from: Option<NaiveDate>,
    pub document: Policy,
    pub note: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
}

impl PolicyPublic {
    pub fn default_policy() -> Self {
        PolicyPublic {
            id: None,
            version: None,
            valid_from: None,
            document: Policy::default_document(),
            note: None,
            created_at: None,
        }
    }

    /// A stored version; a document that cannot be read is an error, never shown as the
    /// default (settlement refuses such a version too).
    pub fn from_model(m: settlement_policy::Model) -> anyhow::Result<Self> {
        let document = serde_json::from_str(&m.document)
            .map_err(|error| anyhow::anyhow!("policy version {} cannot be read: {error}", m.id))?;
        Ok(PolicyPublic {
            id: Some(m.id),
            version: Some(m.version),
            valid_from: Some(m.valid_from),
            document,
            note: m.note,
            created_at: Some(m.created_at),
        })
    }
}

#[derive(Deserialize, IntoParams, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PolicyParams {
    /// The month whose policy to show (`YYYY-MM`); the current month when absent.
    #[param(pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])$", example = "2025-03")]
    pub period: Option<String>,
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"period": "2025-03"}))]
pub struct SettlementCreate {
    /// The calendar month to settle, `YYYY-MM`.
    #[schema(example = "2025-03")]
    #[schema(pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])$", example = "2025-03")]
    pub period: String,
}

/// Optional body of `POST /settlements/{id}/finalize`.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"accept_incomplete": true, "reason": "Letture di marzo parziali: acconto, conguaglio ad aprile"}))]
pub struct FinalizeRequest {
    /// Finalise although readings or prices are missing (the run's `gaps`): the figures are
    /// then provisional, and `reason` is required.
    #[serde(default)]
    pub accept_incomplete: bool,
    /// Why the month is finalised with data missing; stored on the run and in the ledger rows.
    #[validate(length(min = 1, max = 1000))]
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: Option<String>,
}

#[derive(Deserialize, IntoParams, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SettlementListParams {
    /// Only runs in this state.
    pub status: Option<RunStatus>,
}

#[derive(Serialize, ToSchema)]
pub struct SettlementSummary {
    pub id: i32,
    pub configuration_id: i32,
    pub period: String,
    /// `preview`, `finalized` or `superseded`.
    pub status: String,
    pub finalizable: bool,
    /// A preview older than the latest run of the same month: look at (or finalise) the
    /// latest one instead.
    pub stale: bool,
    pub fingerprint: String,
    pub policy_version: Option<i32>,
    pub corrects_run_id: Option<i32>,
    /// Set when the run was finalised with data missing on purpose: the operator's reason.
    pub incomplete_reason: Option<String>,
    pub incomplete_accepted_by: Option<i32>,
    /// The stored report's layout version.
    pub report_version: i32,
    pub money: MoneyTotals,
    pub created_at: DateTime<Utc>,
    pub finalized_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct SettlementPublic {
    #[serde(flatten)]
    pub summary: SettlementSummary,
    pub report: Report,
}

impl SettlementPublic {
    /// The run with its report; a report that cannot be read is an error naming the run.
    /// `latest_of_period` is the newest run's id for the same configuration and month.
    pub fn from_model(
        m: settlement_run::Model,
        latest_of_period: i32,
    ) -> Result<Self, SettleError> {
        let report: Report = decode_report(&m)?;
        Ok(SettlementPublic {
            summary: SettlementSummary {
                id: m.id,
                configuration_id: m.configuration_id,
                period: m.period_start.format("%Y-%m").to_string(),
                status: m.status.as_str().to_string(),
                finalizable: m.finalizable,
                stale: m.status == RunStatus::Preview && m.id < latest_of_period,
                fingerprint: m.fingerprint,
                policy_version: report.policy_version,
                corrects_run_id: m.corrects_run_id,
                incomplete_reason: m.incomplete_reason,
                incomplete_accepted_by: m.incomplete_accepted_by,
                report_version: m.report_version,
                money: report.money.clone(),
                created_at: m.created_at,
                finalized_at: m.finalized_at,
            },
            report,
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct FinalizeResponse {
    #[serde(flatten)]
    pub finalization: Finalization,
    pub settlement: SettlementSummary,
}

#[derive(Deserialize, IntoParams, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatementParams {
    #[validate(range(min = 2000, max = 2100))]
    #[param(minimum = 2000, maximum = 2100)]
    pub year: i32,
}

/// A statement document: a year, or one month of it.
#[derive(Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatementPdfParams {
    #[validate(range(min = 2000, max = 2100))]
    #[param(minimum = 2000, maximum = 2100)]
    pub year: i32,
    /// 1–12 for a month's statement; absent for the year's.
    #[validate(range(min = 1, max = 12))]
    #[param(minimum = 1, maximum = 12)]
    pub month: Option<u32>,
    /// `it` or `en`; the holder's language when absent.
    pub language: Option<crate::models::enums::Language>,
}

/// Mails a finalised month's statements to the configuration's members.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"period": "2025-03"}))]
pub struct StatementMailingCreate {
    /// The month (`YYYY-MM`); it must be finalised.
    #[validate(length(min = 7, max = 7))]
    #[schema(min_length = 7, max_length = 7, example = "2025-03")]
    pub period: String,
    /// Send again a month already mailed.
    #[serde(default)]
    pub again: bool,
}

/// One member of a mailing: where its statement went, or why it did not.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct StatementMailingItemPublic {
    pub member_id: i32,
    pub recipient: Option<String>,
    /// The outbox message (see `/mail/outbox`), when one was queued.
    pub outbox_id: Option<i32>,
    /// The message's status in the outbox: `pending`, `sent` or `failed`.
    pub delivery: Option<String>,
    /// Why no message was queued.
    pub reason: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct StatementMailingPublic {
    pub id: i32,
    pub configuration_id: i32,
    /// `YYYY-MM`.
    pub period: String,
    pub queued: i32,
    pub skipped: i32,
    pub created_by: i32,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub items: Vec<StatementMailingItemPublic>,
}

impl StatementMailingPublic {
    pub fn of(
        m: crate::models::statement_mailing::Model,
        items: Vec<(crate::models::statement_mailing_item::Model, Option<String>)>,
    ) -> Self {
        StatementMailingPublic {
            id: m.id,
            configuration_id: m.configuration_id,
            period: m.period_start.format("%Y-%m").to_string(),
            queued: m.queued,
            skipped: m.skipped,
            created_by: m.created_by,
            created_at: m.created_at,
            items: items
                .into_iter()
                .map(|(i, delivery)| StatementMailingItemPublic {
                    member_id: i.member_id,
                    recipient: i.recipient,
                    outbox_id: i.outbox_id,
                    delivery,
                    reason: i.reason,
                })
                .collect(),
        }
    }
}
