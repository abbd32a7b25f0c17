use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::common::{MAX_LIMIT, MAX_SKIP, default_limit};
use crate::models::enums::IbanChangeStatus;
use crate::models::iban_change_request;

/// A member asks to be paid on another account; an operator confirms it.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"iban": "IT60 X054 2811 1010 0000 0123 456", "note": "Nuovo conto presso la banca di paese"}))]
pub struct IbanChangeCreate {
    /// A SEPA IBAN; spaces and dashes are ignored.
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub iban: String,
    /// What the operator should know (whose account it is, since when).
    #[validate(length(max = 1000))]
    #[schema(max_length = 1000)]
    pub note: Option<String>,
}

/// Rejection, with the reason the member is told.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "L'intestatario del conto non è il titolare del punto"}))]
pub struct IbanChangeRejection {
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
}

/// A request for a new IBAN and its outcome.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct IbanChangePublic {
    pub id: i32,
    pub holder_id: i32,
    pub status: IbanChangeStatus,
    /// The IBAN asked for (empty once the holder was erased).
    pub iban: Option<String>,
    pub note: Option<String>,
    pub requested_by: Option<i32>,
    pub requested_at: DateTime<Utc>,
    pub decided_by: Option<i32>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_reason: Option<String>,
}

impl From<iban_change_request::Model> for IbanChangePublic {
    fn from(m: iban_change_request::Model) -> Self {
        IbanChangePublic {
            id: m.id,
            holder_id: m.holder_id,
            status: m.status,
            iban: m.iban,
            note: m.note,
            requested_by: m.requested_by,
            requested_at: m.requested_at,
            decided_by: m.decided_by,
            decided_at: m.decided_at,
            decision_reason: m.decision_reason,
        }
    }
}

#[derive(Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IbanChangeListParams {
    /// How many items to leave out before the page (0 to 10^12).
    #[serde(default)]
    #[validate(range(max = MAX_SKIP))]
    #[param(minimum = 0, maximum = 1_000_000_000_000_u64)]
    pub skip: u64,
    /// Page size, 1 to 1000.
    #[serde(default = "default_limit")]
    #[validate(range(min = 1, max = MAX_LIMIT))]
    #[param(minimum = 1, maximum = 1000, default = 100)]
    pub limit: u64,
    pub status: Option<IbanChangeStatus>,
    /// Requests of the holders of this configuration's points.
    pub configuration_id: Option<i32>,
}
