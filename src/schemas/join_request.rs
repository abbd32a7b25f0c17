use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::common::{MAX_LIMIT, MAX_SKIP, default_limit};
use crate::models::enums::{ConsentKind, HolderType, JoinRequestStatus, Language, MemberRole};
use crate::models::join_request;

/// A point the applicant asks to bring into the configuration.
#[derive(Clone, Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinPoint {
    /// `IT` + 3-digit distributor + `E` + 8 digits (+ optional check character).
    #[schema(
        pattern = r"^\s*[Ii][Tt][0-9]{3}[Ee][0-9]{8}[A-Za-z0-9]?\s*$",
        example = "IT001E00012345"
    )]
    pub pod: String,
    pub role: MemberRole,
}

/// A consent given with the request: the version of the document the applicant accepted.
#[derive(Clone, Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinConsent {
    pub kind: ConsentKind,
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub document_version: String,
}

/// A newcomer's request to join, sent without an account. Everything an active holder needs
/// is required: names, fiscal code, address, e-mail (confirmed through a mailed link), and the
/// privacy-notice and statute consents.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "kind": "natural_person", "first_name": "Giulia", "last_name": "Bianchi",
    "fiscal_code": "BNCGLI90A41H501E", "street": "Via Garibaldi 12", "postcode": "41042",
    "municipality": "Fiorano Modenese", "province": "MO", "email": "giulia.bianchi@example.com",
    "phone": "+39 347 765 4321", "iban": "IT60 X054 2811 1010 0000 0123 456", "language": "it",
    "points": [{"pod": "IT001E00076543", "role": "consumer"}],
    "consents": [{"kind": "privacy_notice", "document_version": "2025-03"},
                 {"kind": "statute", "document_version": "2025-03"}]
}))]
pub struct JoinRequestCreate {
    pub kind: HolderType,
    #[validate(length(max = 100))]
    #[schema(max_length = 100)]
    pub first_name: Option<String>,
    #[validate(length(max = 100))]
    #[schema(max_length = 100)]
    pub last_name: Option<String>,
    #[validate(length(max = 200))]
    #[schema(max_length = 200)]
    pub company_name: Option<String>,
    pub fiscal_code: Option<String>,
    pub vat_number: Option<String>,
    #[validate(length(max = 200))]
    #[schema(max_length = 200)]
    pub street: Option<String>,
    #[schema(pattern = r"^\s*[0-9]{5}\s*$")]
    pub postcode: Option<String>,
    #[validate(length(max = 100))]
    #[schema(max_length = 100)]
    pub municipality: Option<String>,
    #[schema(pattern = r"^\s*[A-Za-z]{2}\s*$")]
    pub province: Option<String>,
    #[validate(length(min = 3, max = 254))]
    #[schema(min_length = 3, max_length = 254, format = Email)]
    pub email: String,
    pub phone: Option<String>,
    pub iban: Option<String>,
    /// `it` (default) or `en`: the language of the mails about the request.
    pub language: Option<Language>,
    /// One to ten points.
    #[validate(length(min = 1, max = 10), nested)]
    #[schema(min_items = 1, max_items = 10)]
    pub points: Vec<JoinPoint>,
    #[validate(length(max = 3), nested)]
    #[schema(max_items = 3)]
    pub consents: Vec<JoinConsent>,
}

/// What the applicant is told: the request's number and what happens next.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct JoinRequestReceipt {
    pub id: i32,
    pub status: JoinRequestStatus,
    pub message: String,
}

/// The token of the link in the verification mail.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "M9Dbsy-7aYKlWN-m4E9MidltO26Q0RaPYfXKy8uRqWs"}))]
pub struct JoinVerification {
    #[validate(length(min = 1, max = 256))]
    #[schema(min_length = 1, max_length = 256)]
    pub token: String,
}

/// Approval: the memberships start on `joined_at` (default: today, Italian time).
#[derive(Deserialize, Validate, ToSchema, Default)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"joined_at": "2026-12-01"}))]
pub struct JoinApproval {
    pub joined_at: Option<NaiveDate>,
}

/// Rejection, with the reason the applicant is told.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Il POD è collegato a un'altra cabina primaria"}))]
pub struct JoinRejection {
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
}

/// A join request as the referent reviews it.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct JoinRequestPublic {
    pub id: i32,
    pub configuration_id: i32,
    pub status: JoinRequestStatus,
    pub kind: HolderType,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company_name: Option<String>,
    pub fiscal_code: Option<String>,
    pub vat_number: Option<String>,
    pub street: Option<String>,
    pub postcode: Option<String>,
    pub municipality: Option<String>,
    pub province: Option<String>,
    pub email: String,
    pub phone: Option<String>,
    pub iban: Option<String>,
    pub language: Language,
    pub points: Vec<JoinPoint>,
    pub consents: Vec<JoinConsent>,
    pub created_at: DateTime<Utc>,
    /// When the e-mail address was confirmed.
    pub verified_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<i32>,
    /// Why it was rejected.
    pub decision_reason: Option<String>,
    /// The holder registered (or found by fiscal code) on approval.
    pub holder_id: Option<i32>,
    pub joined_at: Option<NaiveDate>,
}

impl JoinRequestPublic {
    /// Its stored JSON columns read back; they were written by us, so a bad one is a bug.
    pub fn of(m: join_request::Model) -> Result<JoinRequestPublic, serde_json::Error> {
        Ok(JoinRequestPublic {
            points: serde_json::from_str(&m.points)?,
            consents: serde_json::from_str(&m.consents)?,
            id: m.id,
            configuration_id: m.configuration_id,
            status: m.status,
            kind: m.kind,
            first_name: m.first_name,
            last_name: m.last_name,
            company_name: m.company_name,
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
            created_at: m.created_at,
            verified_at: m.verified_at,
            decided_at: m.decided_at,
            decided_by: m.decided_by,
            decision_reason: m.decision_reason,
            holder_id: m.holder_id,
            joined_at: m.joined_at,
        })
    }
}

#[derive(Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JoinRequestListParams {
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
    pub status: Option<JoinRequestStatus>,
}
