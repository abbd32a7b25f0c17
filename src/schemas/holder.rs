//! Holders: the people and organisations behind the points, with their consents and history.
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::common::{MAX_LIMIT, MAX_SKIP, default_limit, nullable};
use super::member::MemberPublic;
use crate::models::enums::{
    ConsentKind, ConsentMethod, HolderAction, HolderStatus, HolderType, Language,
};
use crate::models::{holder, holder_consent, holder_revision};

/// A consent as given: what, which version of the document, how and (default: now) when.
#[derive(Deserialize, Validate, ToSchema, Clone)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "privacy_notice", "document_version": "2025-03", "method": "paper", "given_at": "2026-11-30T10:00:00Z"}))]
pub struct ConsentGiven {
    pub kind: ConsentKind,
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub document_version: String,
    pub method: ConsentMethod,
    /// When it was given (not in the future); absent: now.
    pub given_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"method": "email"}))]
pub struct ConsentWithdrawal {
    pub method: ConsentMethod,
    /// When it was withdrawn (not before it was given, not in the future); absent: now.
    pub withdrawn_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "organization_id": 1, "kind": "natural_person", "first_name": "Mario", "last_name": "Rossi",
    "fiscal_code": "RSSMRA85T10A562S", "street": "Via Roma 1", "postcode": "00184",
    "municipality": "Roma", "province": "RM", "email": "mario.rossi@example.com",
    "phone": "+39 333 123 4567", "iban": "IT60 X054 2811 1010 0000 0123 456", "language": "it",
    "consents": [{"kind": "privacy_notice", "document_version": "2025-03", "method": "paper"},
                 {"kind": "statute", "document_version": "2025-03", "method": "paper"}]
}))]
pub struct HolderCreate {
    /// Required for admins; others register holders in their own organization.
    pub organization_id: Option<i32>,
    pub kind: HolderType,
    /// A natural person's names (both required for one).
    #[validate(length(max = 100))]
    #[schema(max_length = 100)]
    pub first_name: Option<String>,
    #[validate(length(max = 100))]
    #[schema(max_length = 100)]
    pub last_name: Option<String>,
    /// An organisation's name (required for every kind but `natural_person`).
    #[validate(length(max = 200))]
    #[schema(max_length = 200)]
    pub company_name: Option<String>,
    /// A natural person's 16-character codice fiscale; for an organisation its 11 digits (or
    /// a sole trader's personal code).
    pub fiscal_code: Option<String>,
    /// Partita IVA (11 digits, `IT` prefix accepted), organisations only.
    pub vat_number: Option<String>,
    /// The address: street and number, CAP (5 digits), municipality, province code — all four
    /// or none.
    #[validate(length(max = 200))]
    #[schema(max_length = 200)]
    pub street: Option<String>,
    #[schema(pattern = r"^\s*[0-9]{5}\s*$")]
    pub postcode: Option<String>,
    #[validate(length(max = 100))]
    #[schema(max_length = 100)]
    pub municipality: Option<String>,
    #[schema(example = "RM")]
    #[schema(pattern = r"^\s*[A-Za-z]{2}\s*$")]
    pub province: Option<String>,
    /// Checked with the other personal fields, so that every problem is reported at once.
    #[validate(length(max = 254))]
    #[schema(max_length = 254, format = Email)]
    pub email: Option<String>,
    /// With the country code (`+39 …` or `0039 …`).
    #[schema(example = "+39 333 123 4567")]
    pub phone: Option<String>,
    /// A SEPA IBAN (spaces allowed); Italian ones have their CIN checked too.
    #[schema(example = "IT60X0542811101000000123456")]
    pub iban: Option<String>,
    /// `it` (default) or `en`: the language the holder is written to in.
    pub language: Option<Language>,
    /// The holder's portal account (a `user` of the same organization, not linked to another
    /// holder).
    pub user_id: Option<i32>,
    /// Consents given with the registration.
    #[serde(default)]
    #[validate(nested)]
    pub consents: Vec<ConsentGiven>,
}

/// Every field optional; `null` clears an optional one. A change of `kind` applies to every
/// point of the holder (their membership rules are checked again).
#[derive(Deserialize, Validate, ToSchema, Default)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"iban": "IT60X0542811101000000123456"}))]
pub struct HolderUpdate {
    pub kind: Option<HolderType>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 100)]
    pub first_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 100)]
    pub last_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub company_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub fiscal_code: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub vat_number: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub street: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, pattern = r"^\s*[0-9]{5}\s*$")]
    pub postcode: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 100)]
    pub municipality: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, pattern = r"^\s*[A-Za-z]{2}\s*$")]
    pub province: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = Email, max_length = 254)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub iban: Option<Option<String>>,
    pub language: Option<Language>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i32>)]
    pub user_id: Option<Option<i32>>,
}

#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, PartialEq)]
pub struct HolderPublic {
    pub id: i32,
    pub organization_id: i32,
    pub kind: HolderType,
    /// `draft` until identity and the required consents are recorded, then `active`;
    /// `erased` once anonymised.
    pub status: HolderStatus,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company_name: Option<String>,
    /// The name to address the holder by: "first last", or the organisation's name.
    pub display_name: Option<String>,
    pub fiscal_code: Option<String>,
    pub vat_number: Option<String>,
    pub street: Option<String>,
    pub postcode: Option<String>,
    pub municipality: Option<String>,
    pub province: Option<String>,
    pub email: Option<String>,
    /// E.164 (`+393331234567`).
    pub phone: Option<String>,
    /// Electronic form, no spaces.
    pub iban: Option<String>,
    pub language: Language,
    pub user_id: Option<i32>,
    pub erased_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<holder::Model> for HolderPublic {
    fn from(m: holder::Model) -> Self {
        let display_name = display_name(&m);
        HolderPublic {
            id: m.id,
            organization_id: m.organization_id,
            kind: m.kind,
            status: m.status,
            first_name: m.first_name,
            last_name: m.last_name,
            company_name: m.company_name,
            display_name,
            fiscal_code: m.fiscal_code,
            vat_number: m.vat_number,
            street: m.street,
            postcode: m.postcode,
            municipality: m.municipality,
            province: m.province,
            email: m.email,
            phone: m.phone,
            iban: m.iban,
            language: m.language,
            user_id: m.user_id,
            erased_at: m.erased_at,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// "First Last" for a person, the organisation's name otherwise; `None` while unknown.
pub fn display_name(m: &holder::Model) -> Option<String> {
    if m.kind == HolderType::NaturalPerson {
        match (&m.first_name, &m.last_name) {
            (Some(first), Some(last)) => Some(format!("{first} {last}")),
            (Some(one), None) | (None, Some(one)) => Some(one.clone()),
            (None, None) => None,
        }
    } else {
        m.company_name.clone()
    }
}

#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, PartialEq)]
pub struct ConsentPublic {
    pub id: i32,
    pub holder_id: i32,
    pub kind: ConsentKind,
    pub document_version: String,
    pub given_at: DateTime<Utc>,
    pub method: ConsentMethod,
    /// The account that recorded it (absent: given by the holder through a public form).
    pub recorded_by: Option<i32>,
    /// Whether it holds now (given and not withdrawn).
    pub in_force: bool,
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub withdrawal_method: Option<ConsentMethod>,
    pub withdrawn_by: Option<i32>,
}

impl From<holder_consent::Model> for ConsentPublic {
    fn from(m: holder_consent::Model) -> Self {
        ConsentPublic {
            id: m.id,
            holder_id: m.holder_id,
            kind: m.kind,
            document_version: m.document_version,
            given_at: m.given_at,
            method: m.method,
            recorded_by: m.recorded_by,
            in_force: m.withdrawn_at.is_none(),
            withdrawn_at: m.withdrawn_at,
            withdrawal_method: m.withdrawal_method,
            withdrawn_by: m.withdrawn_by,
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, PartialEq)]
pub struct HolderRevisionPublic {
    pub id: i32,
    pub changed_at: DateTime<Utc>,
    /// The account that made the change (absent: the system, a migration or a public form).
    pub changed_by: Option<i32>,
    pub action: HolderAction,
    /// `{field: [before, after]}`; after erasure `{field: null}`: which fields changed, not how.
    #[schema(value_type = Object)]
    pub changes: serde_json::Value,
    /// The IBAN in force from this revision on.
    pub iban: Option<String>,
}

impl From<holder_revision::Model> for HolderRevisionPublic {
    fn from(m: holder_revision::Model) -> Self {
        HolderRevisionPublic {
            id: m.id,
            changed_at: m.changed_at,
            changed_by: m.changed_by,
            action: m.action,
            // Written by `service::holders` as JSON; a row that is not is shown as text.
            changes: serde_json::from_str(&m.changes)
                .unwrap_or(serde_json::Value::String(m.changes)),
            iban: m.iban,
        }
    }
}

/// Which IBAN was valid for a holder on a day (the one a payout on that day uses).
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, PartialEq)]
pub struct IbanOnDate {
    pub holder_id: i32,
    pub on: NaiveDate,
    /// Absent: no IBAN was recorded for the holder on that day.
    pub iban: Option<String>,
    /// Since when (the revision that set it).
    pub valid_from: Option<DateTime<Utc>>,
}

#[derive(Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IbanOnParams {
    /// The day (Italian time, end of day): the IBAN in force when that day ended.
    pub on: NaiveDate,
}

/// Everything stored about a holder (GDPR art. 15): its data, consents, history, points and
/// the ledger rows of those points.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct HolderExport {
    pub exported_at: DateTime<Utc>,
    pub holder: HolderPublic,
    pub consents: Vec<ConsentPublic>,
    pub history: Vec<HolderRevisionPublic>,
    pub members: Vec<MemberPublic>,
    pub transactions: Vec<super::transaction::TransactionPublic>,
    /// The join requests the holder was registered from (or approved into).
    pub join_requests: Vec<super::join_request::JoinRequestPublic>,
    /// The holder's requests for a new IBAN, newest first.
    pub iban_changes: Vec<super::iban_change::IbanChangePublic>,
}

#[derive(Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HolderListParams {
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
    pub kind: Option<HolderType>,
    pub status: Option<HolderStatus>,
    /// Holders with a point in this configuration.
    pub configuration_id: Option<i32>,
    /// Case-insensitive substring of a name, the fiscal code, the VAT number or the e-mail.
    #[validate(length(max = 200))]
    #[param(max_length = 200)]
    pub search: Option<String>,
}
