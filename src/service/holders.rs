//! Holders: the people and organisations behind the points. Every change is recorded as a
//! revision (who, when, what; the IBAN in force from then on); consents are given and
//! withdrawn, never deleted; erasure anonymises the personal fields and keeps the ledger.
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    Set, TransactionTrait,
};
use serde_json::{Map, Value, json};

use super::community_users::{check_linked_user, writable_organization};
use super::{Actor, Outcome, Place, Problem, ServiceError};
use crate::core::permissions::Permission;
use crate::crud;
use crate::domain::community_rules::check_member;
use crate::domain::contacts::{Iban, Phone, Postcode, Province};
use crate::domain::tax_codes::{FiscalCode, VatNumber};
use crate::models::enums::{ConsentKind, HolderAction, HolderStatus, HolderType, Language};
use crate::models::{configuration, holder, holder_consent, holder_revision, member, transaction};
use crate::schemas::holder::{
    ConsentGiven, ConsentWithdrawal, HolderCreate, HolderListParams, HolderUpdate,
};

/// The consents a holder needs to become active.
pub const REQUIRED_CONSENTS: [ConsentKind; 2] = [ConsentKind::PrivacyNotice, ConsentKind::Statute];

pub async fn list(
    actor: &Actor,
    db: &DatabaseConnection,
    params: &HolderListParams,
) -> Outcome<(Vec<holder::Model>, u64)> {
    actor.require(Permission::HoldersRead)?;
    Ok(crud::holders::list(db, actor.community_scope(), params).await?)
}

/// A holder in the actor's scope; any other is "not found".
pub async fn visible(actor: &Actor, db: &impl ConnectionTrait, id: i32) -> Outcome<holder::Model> {
    actor.require(Permission::HoldersRead)?;
    crud::holders::find_in_scope(db, actor.community_scope(), id)
        .await?
        .ok_or(ServiceError::NotFound("Holder"))
}

/// A holder the actor may write to: visible, writable by its role, not erased.
async fn writable(actor: &Actor, db: &impl ConnectionTrait, id: i32) -> Outcome<holder::Model> {
    let found = visible(actor, db, id).await?;
    actor.require(Permission::HoldersWrite)?;
    if found.status == HolderStatus::Erased {
        return Err(ServiceError::conflict(
            "The holder's personal data was erased: register the person again if needed",
        ));
    }
    Ok(found)
}

/// The personal fields of a holder, validated and in their stored form.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Fields {
    pub(super) first_name: Option<String>,
    pub(super) last_name: Option<String>,
    pub(super) company_name: Option<String>,
    pub(super) fiscal_code: Option<String>,
    pub(super) vat_number: Option<String>,
    pub(super) street: Option<String>,
    pub(super) postcode: Option<String>,
    pub(super) municipality: Option<String>,
    pub(super) province: Option<String>,
    pub(super) email: Option<String>,
    pub(super) phone: Option<String>,
    pub(super) iban: Option<String>,
}

impl Fields {
    pub(super) fn of(m: &holder::Model) -> Fields {
        Fields {
            first_name: m.first_name.clone(),
            last_name: m.last_name.clone(),
            company_name: m.company_name.clone(),
            fiscal_code: m.fiscal_code.clone(),
            vat_number: m.vat_number.clone(),
            street: m.street.clone(),
            postcode: m.postcode.clone(),
            municipality: m.municipality.clone(),
            province: m.province.clone(),
            email: m.email.clone(),
            phone: m.phone.clone(),
            iban: m.iban.clone(),
        }
    }

    /// `(name, value)` of every field, for revisions and erasure.
    pub(super) fn named(&self) -> [(&'static str, &Option<String>); 12] {
        [
            ("first_name", &self.first_name),
            ("last_name", &self.last_name),
            ("company_name", &self.company_name),
            ("fiscal_code", &self.fiscal_code),
            ("vat_number", &self.vat_number),
            ("street", &self.street),
            ("postcode", &self.postcode),
            ("municipality", &self.municipality),
            ("province", &self.province),
            ("email", &self.email),
            ("phone", &self.phone),
            ("iban", &self.iban),
        ]
    }

    fn apply(&self, model: &mut holder::ActiveModel) {
        model.first_name = Set(self.first_name.clone());
        model.last_name = Set(self.last_name.clone());
        model.company_name = Set(self.company_name.clone());
        model.fiscal_code = Set(self.fiscal_code.clone());
        model.vat_number = Set(self.vat_number.clone());
        model.street = Set(self.street.clone());
        model.postcode = Set(self.postcode.clone());
        model.municipality = Set(self.municipality.clone());
        model.province = Set(self.province.clone());
        model.email = Set(self.email.clone());
        model.phone = Set(self.phone.clone());
        model.iban = Set(self.iban.clone());
    }

    /// Every value checked and normalised for `kind`; all problems at once, so a form can show
    /// each next to its field.
    pub(super) fn validated(self, kind: HolderType) -> Result<Fields, Vec<Problem>> {
        let mut problems = Vec::new();
        let mut check =
            |field: &str, value: Option<String>, parse: &dyn Fn(&str) -> Result<String, String>| {
                match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                    None => None,
                    Some(text) => match parse(text) {
                        Ok(stored) => Some(stored),
                        Err(message) => {
                            problems.push(Problem::at_field(field, message, field));
                            None
                        }
                    },
                }
            };
        // The columns' lengths (PostgreSQL refuses longer values; SQLite would keep them).
        let text = |max: usize| {
            move |v: &str| {
                if v.chars().count() > max {
                    Err(format!("at most {max} characters"))
                } else {
                    Ok(v.to_string())
                }
            }
        };
        let (short, long) = (text(100), text(200));
        let person = kind == HolderType::NaturalPerson;
        let fields = Fields {
            first_name: check("first_name", self.first_name, &short),
            last_name: check("last_name", self.last_name, &short),
            company_name: check("company_name", self.company_name, &long),
            fiscal_code: check("fiscal_code", self.fiscal_code, &|v| {
                let as_person = FiscalCode::parse(v).map(|c| c.as_str().to_string());
                if person {
                    return as_person.map_err(|e| format!("not a valid codice fiscale: {e}"));
                }
                // An organisation's code is its 11 digits; a sole trader's is personal.
                as_person.or_else(|_| {
                    VatNumber::parse(v)
                        .map(|c| c.as_str().to_string())
                        .map_err(|e| {
                            format!(
                                "not a valid fiscal code (11 digits, or 16 characters for a sole \
                                 trader): {e}"
                            )
                        })
                })
            }),
            vat_number: check("vat_number", self.vat_number, &|v| {
                VatNumber::parse(v)
                    .map(|c| c.as_str().to_string())
                    .map_err(|e| format!("not a valid partita IVA: {e}"))
            }),
            street: check("street", self.street, &long),
            postcode: check("postcode", self.postcode, &|v| {
                Postcode::parse(v)
                    .map(|p| p.as_str().to_string())
                    .map_err(|e| e.to_string())
            }),
            municipality: check("municipality", self.municipality, &short),
            province: check("province", self.province, &|v| {
                Province::parse(v)
                    .map(|p| p.as_str().to_string())
                    .map_err(|e| e.to_string())
            }),
            email: check("email", self.email, &|v| {
                if v.len() <= 254 && validator::ValidateEmail::validate_email(&v) {
                    Ok(v.to_lowercase())
                } else {
                    Err("not a valid e-mail address".to_string())
                }
            }),
            phone: check("phone", self.phone, &|v| {
                Phone::parse(v)
                    .map(|p| p.as_str().to_string())
                    .map_err(|e| e.to_string())
            }),
            iban: check("iban", self.iban, &|v| {
                Iban::parse(v)
                    .map(|i| i.as_str().to_string())
                    .map_err(|e| e.to_string())
            }),
        };
        if person {
            if fields.company_name.is_some() {
                problems.push(Problem::at_field(
                    "company_name",
                    "A natural person has no company_name (a sole trader is an `sme`)",
                    "not_allowed",
                ));
            }
            if fields.vat_number.is_some() {
                problems.push(Problem::at_field(
                    "vat_number",
                    "A natural person has no VAT number (a sole trader is an `sme`)",
                    "not_allowed",
                ));
            }
        }
        let address = [
            ("street", &fields.street),
            ("postcode", &fields.postcode),
            ("municipality", &fields.municipality),
            ("province", &fields.province),
        ];
        if address.iter().any(|(_, v)| v.is_some()) {
            for (field, _) in address.iter().filter(|(_, v)| v.is_none()) {
                // A value already refused is not also "missing".
                let refused = problems
                    .iter()
                    .any(|p| p.place.last() == Some(&Place::Field(field.to_string())));
                if !refused {
                    problems.push(Problem::at_field(
                        field,
                        "An address needs street, postcode, municipality and province",
                        "missing",
                    ));
                }
            }
        }
        if problems.is_empty() {
            Ok(fields)
        } else {
            Err(problems)
        }
    }

    /// The names a holder of `kind` is known by, as problems if missing: both names of a
    /// person, an organisation's.
    fn missing_names(&self, kind: HolderType) -> Vec<Problem> {
        let missing = |field: &str, message: &str| Problem::at_field(field, message, "missing");
        if kind != HolderType::NaturalPerson {
            return match self.company_name {
                None => vec![missing(
                    "company_name",
                    "An organisation needs company_name",
                )],
                Some(_) => Vec::new(),
            };
        }
        [
            ("first_name", &self.first_name),
            ("last_name", &self.last_name),
        ]
        .into_iter()
        .filter(|(_, value)| value.is_none())
        .map(|(field, _)| missing(field, "A natural person needs first_name and last_name"))
        .collect()
    }

    /// What an active holder must have besides its consents, as problems if missing: its
    /// names, who it is for the tax office and where it lives.
    pub(super) fn missing_for_activation(&self, kind: HolderType) -> Vec<Problem> {
        let mut missing = self.missing_names(kind);
        if self.fiscal_code.is_none() {
            missing.push(Problem::at_field(
                "fiscal_code",
                "An active holder needs its fiscal_code",
                "missing",
            ));
        }
        if self.street.is_none() {
            missing.push(Problem::at_field(
                "street",
                "An active holder needs its address (street, postcode, municipality, province)",
                "missing",
            ));
        }
        missing
    }
}

/// `{field: [before, after]}` for the fields that differ.
fn diff(before: &Fields, after: &Fields) -> Map<String, Value> {
    before
        .named()
        .into_iter()
        .zip(after.named())
        .filter(|((_, b), (_, a))| b != a)
        .map(|((name, b), (_, a))| (name.to_string(), json!([b, a])))
        .collect()
}

pub(super) async fn record(
    db: &impl ConnectionTrait,
    holder: &holder::Model,
    actor: Option<&Actor>,
    action: HolderAction,
    changes: Map<String, Value>,
) -> Outcome<()> {
    let revision = holder_revision::ActiveModel {
        holder_id: Set(holder.id),
        changed_at: Set(Utc::now()),
        changed_by: Set(actor.map(|a| a.user_id)),
        action: Set(action),
        changes: Set(Value::Object(changes).to_string()),
        iban: Set(holder.iban.clone()),
        ..Default::default()
    };
    crud::insert(db, revision).await?;
    Ok(())
}

fn invalid(problems: Vec<Problem>) -> ServiceError {
    ServiceError::Invalid(problems)
}

/// No two holders of an organization share a fiscal code; an account is one holder's portal.
async fn check_unique(
    db: &impl ConnectionTrait,
    organization_id: i32,
    fields: &Fields,
    user_id: Option<i32>,
    except: Option<i32>,
) -> Outcome<()> {
    if let Some(code) = &fields.fiscal_code
        && let Some(other) =
            crud::holders::with_fiscal_code(db, organization_id, code, except).await?
    {
        return Err(ServiceError::conflict(format!(
            "Holder {} of the organization already has fiscal code {code}: add the point to that holder",
            other.id
        )));
    }
    if let Some(user_id) = user_id
        && let Some(other) = crud::holders::of_user(db, user_id).await?
        && Some(other.id) != except
    {
        return Err(ServiceError::conflict(format!(
            "Account {user_id} is already the portal account of holder {}",
            other.id
        )));
    }
    Ok(())
}

/// A consent's document version must say something once trimmed.
fn check_consent(field_prefix: &str, consent: &ConsentGiven) -> Outcome<()> {
    if consent.document_version.trim().is_empty() {
        return Err(ServiceError::invalid(
            &format!("{field_prefix}document_version"),
            "Name the version of the document that was accepted",
            "missing",
        ));
    }
    check_consent_time(
        &format!("{field_prefix}given_at"),
        consent.given_at.unwrap_or_else(Utc::now),
        None,
    )
}

fn check_consent_time(
    field: &str,
    at: DateTime<Utc>,
    not_before: Option<DateTime<Utc>>,
) -> Outcome<()> {
    if at > Utc::now() + chrono::Duration::minutes(5) {
        return Err(ServiceError::invalid(
            field,
            "cannot be in the future",
            "future",
        ));
    }
    if not_before.is_some_and(|first| at < first) {
        return Err(ServiceError::invalid(
            field,
            "cannot be before the consent was given",
            "date_order",
        ));
    }
    Ok(())
}

pub(super) fn consent_model(
    holder_id: i32,
    consent: &ConsentGiven,
    recorded_by: Option<i32>,
) -> holder_consent::ActiveModel {
    holder_consent::ActiveModel {
        holder_id: Set(holder_id),
        kind: Set(consent.kind),
        document_version: Set(consent.document_version.trim().to_string()),
        given_at: Set(consent.given_at.unwrap_or_else(Utc::now)),
        method: Set(consent.method),
        recorded_by: Set(recorded_by),
        ..Default::default()
    }
}

pub async fn create(
    actor: &Actor,
    db: &DatabaseConnection,
    input: HolderCreate,
) -> Outcome<holder::Model> {
    actor.require(Permission::HoldersWrite)?;
    let organization_id = writable_organization(actor, db, input.organization_id).await?;
    let fields = Fields {
        first_name: input.first_name,
        last_name: input.last_name,
        company_name: input.company_name,
        fiscal_code: input.fiscal_code,
        vat_number: input.vat_number,
        street: input.street,
        postcode: input.postcode,
        municipality: input.municipality,
        province: input.province,
        email: input.email,
        phone: input.phone,
        iban: input.iban,
    }
    .validated(input.kind)
    .map_err(invalid)?;
    let unnamed = fields.missing_names(input.kind);
    if !unnamed.is_empty() {
        return Err(invalid(unnamed));
    }
    for (index, consent) in input.consents.iter().enumerate() {
        check_consent(&format!("consents.{index}."), consent)?;
    }
    check_linked_user(db, organization_id, input.user_id).await?;
    let txn = db.begin().await?;
    let registration = Registration {
        organization_id,
        kind: input.kind,
        language: input.language.unwrap_or(Language::It),
        user_id: input.user_id,
        fields,
    };
    let saved = register_in(&txn, actor, registration, &input.consents).await?;
    txn.commit().await?;
    Ok(saved)
}

/// A new holder as registered: validated fields (names included), its account checked.
pub(super) struct Registration {
    pub(super) organization_id: i32,
    pub(super) kind: HolderType,
    pub(super) language: Language,
    pub(super) user_id: Option<i32>,
    pub(super) fields: Fields,
}

/// Writes a new draft holder with its consents and its `created` revision, inside `txn` (the
/// caller's transaction: a registration, or a whole import), once its fiscal code and account
/// are found unique there.
pub(super) async fn register_in(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    registration: Registration,
    consents: &[ConsentGiven],
) -> Outcome<holder::Model> {
    let Registration {
        organization_id,
        kind,
        language,
        user_id,
        fields,
    } = registration;
    check_unique(txn, organization_id, &fields, user_id, None).await?;
    let mut model = holder::ActiveModel {
        organization_id: Set(organization_id),
        user_id: Set(user_id),
        kind: Set(kind),
        status: Set(HolderStatus::Draft),
        language: Set(language),
        created_by: Set(Some(actor.user_id)),
        erased_at: Set(None),
        ..Default::default()
    };
    fields.apply(&mut model);
    let saved = crud::insert(txn, model).await?;
    for consent in consents {
        crud::insert(txn, consent_model(saved.id, consent, Some(actor.user_id))).await?;
    }
    let mut changes = diff(&Fields::default(), &fields);
    changes.insert("kind".into(), json!([null, kind.as_str()]));
    record(txn, &saved, Some(actor), HolderAction::Created, changes).await?;
    Ok(saved)
}

/// A draft holder registered with a member that named none (`service::members`): only the
/// kind is known.
pub(super) async fn create_draft_for_member(
    db: &impl ConnectionTrait,
    actor: &Actor,
    organization_id: i32,
    kind: HolderType,
) -> Outcome<holder::Model> {
    let model = holder::ActiveModel {
        organization_id: Set(organization_id),
        kind: Set(kind),
        status: Set(HolderStatus::Draft),
        language: Set(Language::It),
        created_by: Set(Some(actor.user_id)),
        ..Default::default()
    };
    let saved = crud::insert(db, model).await?;
    let changes = Map::from_iter([("kind".to_string(), json!([null, kind.as_str()]))]);
    record(db, &saved, Some(actor), HolderAction::Created, changes).await?;
    Ok(saved)
}

/// The holder a member is attached to: visible to the actor, of the configuration's
/// organization, not erased.
pub(super) async fn for_member(
    actor: &Actor,
    db: &impl ConnectionTrait,
    holder_id: i32,
    organization_id: i32,
) -> Outcome<holder::Model> {
    let not_found = || ServiceError::invalid("holder_id", "Holder not found", "not_found");
    let found = crud::holders::find_in_scope(db, actor.community_scope(), holder_id)
        .await?
        .ok_or_else(not_found)?;
    if found.organization_id != organization_id {
        return Err(ServiceError::invalid(
            "holder_id",
            "The holder belongs to another organization than the configuration",
            "organization",
        ));
    }
    if found.status == HolderStatus::Erased {
        return Err(ServiceError::invalid(
            "holder_id",
            "The holder's personal data was erased: it cannot take new points",
            "erased",
        ));
    }
    Ok(found)
}

pub async fn update(
    actor: &Actor,
    db: &DatabaseConnection,
    id: i32,
    input: HolderUpdate,
) -> Outcome<holder::Model> {
    let existing = writable(actor, db, id).await?;
    let kind = input.kind.unwrap_or(existing.kind);
    let before = Fields::of(&existing);
    let pick = |given: Option<Option<String>>, current: &Option<String>| match given {
        None => current.clone(),
        Some(value) => value,
    };
    let after = Fields {
        first_name: pick(input.first_name, &before.first_name),
        last_name: pick(input.last_name, &before.last_name),
        company_name: pick(input.company_name, &before.company_name),
        fiscal_code: pick(input.fiscal_code, &before.fiscal_code),
        vat_number: pick(input.vat_number, &before.vat_number),
        street: pick(input.street, &before.street),
        postcode: pick(input.postcode, &before.postcode),
        municipality: pick(input.municipality, &before.municipality),
        province: pick(input.province, &before.province),
        email: pick(input.email, &before.email),
        phone: pick(input.phone, &before.phone),
        iban: pick(input.iban, &before.iban),
    }
    .validated(kind)
    .map_err(invalid)?;
    if existing.status == HolderStatus::Active {
        let missing = after.missing_for_activation(kind);
        if !missing.is_empty() {
            return Err(invalid(missing));
        }
    }
    let user_id = input.user_id.unwrap_or(existing.user_id);
    if user_id != existing.user_id {
        check_linked_user(db, existing.organization_id, user_id).await?;
    }
    let txn = db.begin().await?;
    crud::write_lock(&txn, &format!("holder:{id}")).await?;
    let change = Change {
        kind,
        language: input.language.unwrap_or(existing.language),
        user_id,
        fields: after,
    };
    match change_in(&txn, actor, &existing, change).await? {
        Some((saved, _)) => {
            txn.commit().await?;
            Ok(saved)
        }
        None => {
            txn.rollback().await?;
            Ok(existing)
        }
    }
}

/// A holder as it will be after a change (fields validated).
pub(super) struct Change {
    pub(super) kind: HolderType,
    pub(super) language: Language,
    pub(super) user_id: Option<i32>,
    pub(super) fields: Fields,
}

/// Writes what `change` changes of `existing` inside `txn`, which holds the holder's lock,
/// with an `updated` revision: the saved holder and the names of the changed fields, or
/// `None` when nothing differs (nothing is written, no revision).
pub(super) async fn change_in(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    existing: &holder::Model,
    change: Change,
) -> Outcome<Option<(holder::Model, Vec<String>)>> {
    let Change {
        kind,
        language,
        user_id,
        fields: after,
    } = change;
    let id = existing.id;
    check_unique(txn, existing.organization_id, &after, user_id, Some(id)).await?;
    let mut changes = diff(&Fields::of(existing), &after);
    if kind != existing.kind {
        retype_members(txn, id, kind).await?;
        changes.insert(
            "kind".into(),
            json!([existing.kind.as_str(), kind.as_str()]),
        );
    }
    if language != existing.language {
        changes.insert(
            "language".into(),
            json!([existing.language.as_str(), language.as_str()]),
        );
    }
    if user_id != existing.user_id {
        changes.insert("user_id".into(), json!([existing.user_id, user_id]));
    }
    if changes.is_empty() {
        return Ok(None);
    }
    let mut model = existing.clone().into_active_model();
    after.apply(&mut model);
    model.kind = Set(kind);
    model.language = Set(language);
    model.user_id = Set(user_id);
    let saved = crud::update(txn, model).await?;
    let names = changes.keys().cloned().collect();
    record(txn, &saved, Some(actor), HolderAction::Updated, changes).await?;
    Ok(Some((saved, names)))
}

/// A new kind for every point of the holder: each membership's rules are checked again (an
/// `other_company` cannot stay in a CER) and the members' holder type follows.
async fn retype_members(
    db: &impl ConnectionTrait,
    holder_id: i32,
    kind: HolderType,
) -> Outcome<()> {
    for member in crud::holders::members_of(db, holder_id).await? {
        let configuration = configuration::Entity::find_by_id(member.configuration_id)
            .one(db)
            .await?
            .ok_or(ServiceError::NotFound("Configuration"))?;
        check_member(configuration.kind, member.role, kind, member.net_metering).map_err(
            |rule| {
                ServiceError::invalid(
                    "kind",
                    format!(
                        "member {} (POD {}): {}",
                        member.id,
                        member.pod,
                        rule.message()
                    ),
                    "membership_rule",
                )
            },
        )?;
    }
    member::Entity::update_many()
        .col_expr(member::Column::HolderType, Expr::value(kind.as_str()))
        .filter(member::Column::HolderId.eq(holder_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Which required consents are not in force.
fn missing_consents(consents: &[holder_consent::Model]) -> Vec<ConsentKind> {
    REQUIRED_CONSENTS
        .into_iter()
        .filter(|kind| {
            !consents
                .iter()
                .any(|c| c.kind == *kind && c.withdrawn_at.is_none())
        })
        .collect()
}

/// Draft → active, once identity, address and the required consents are recorded.
pub async fn activate(actor: &Actor, db: &DatabaseConnection, id: i32) -> Outcome<holder::Model> {
    let existing = writable(actor, db, id).await?;
    if existing.status == HolderStatus::Active {
        return Ok(existing);
    }
    let txn = db.begin().await?;
    crud::write_lock(&txn, &format!("holder:{id}")).await?;
    let saved = activate_in(&txn, actor, existing).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Draft → active inside `txn`, which holds the holder's lock: refused (422 listing what is
/// missing) without the fiscal code, the address and the required consents in force.
pub(super) async fn activate_in(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    existing: holder::Model,
) -> Outcome<holder::Model> {
    let consents = crud::holders::consents_of(txn, existing.id).await?;
    let mut problems = Fields::of(&existing).missing_for_activation(existing.kind);
    for kind in missing_consents(&consents) {
        problems.push(Problem::at_field(
            "consents",
            format!(
                "the `{}` consent is required to activate a holder: record it first",
                kind.as_str()
            ),
            "consent_missing",
        ));
    }
    if !problems.is_empty() {
        return Err(ServiceError::Invalid(problems));
    }
    let mut model = existing.into_active_model();
    model.status = Set(HolderStatus::Active);
    let saved = crud::update(txn, model).await?;
    let changes = Map::from_iter([("status".to_string(), json!(["draft", "active"]))]);
    record(txn, &saved, Some(actor), HolderAction::Activated, changes).await?;
    Ok(saved)
}

pub async fn consents(
    actor: &Actor,
    db: &DatabaseConnection,
    id: i32,
) -> Outcome<Vec<holder_consent::Model>> {
    let found = visible(actor, db, id).await?;
    Ok(crud::holders::consents_of(db, found.id).await?)
}

pub async fn give_consent(
    actor: &Actor,
    db: &DatabaseConnection,
    id: i32,
    consent: ConsentGiven,
) -> Outcome<holder_consent::Model> {
    let found = writable(actor, db, id).await?;
    check_consent("", &consent)?;
    let txn = db.begin().await?;
    let saved = crud::insert(&txn, consent_model(found.id, &consent, Some(actor.user_id))).await?;
    actor
        .audit(
            &txn,
            "holder.consent_given",
            ("holder", Some(i64::from(found.id))),
            None,
            json!({"consent_id": saved.id, "kind": saved.kind.as_str()}),
        )
        .await?;
    txn.commit().await?;
    Ok(saved)
}

/// Records a withdrawal. A required consent withdrawn from an active holder, with no other
/// of its kind in force, puts the holder back to draft (it is not paid until it consents again).
pub async fn withdraw_consent(
    actor: &Actor,
    db: &DatabaseConnection,
    id: i32,
    consent_id: i32,
    withdrawal: ConsentWithdrawal,
) -> Outcome<holder_consent::Model> {
    let found = writable(actor, db, id).await?;
    let txn = db.begin().await?;
    crud::write_lock(&txn, &format!("holder:{id}")).await?;
    let consent = crud::holders::consent_of(&txn, found.id, consent_id)
        .await?
        .ok_or(ServiceError::NotFound("Consent"))?;
    if consent.withdrawn_at.is_some() {
        return Err(ServiceError::conflict("The consent was already withdrawn"));
    }
    let at = withdrawal.withdrawn_at.unwrap_or_else(Utc::now);
    check_consent_time("withdrawn_at", at, Some(consent.given_at))?;
    let kind = consent.kind;
    let mut model = consent.into_active_model();
    model.withdrawn_at = Set(Some(at));
    model.withdrawal_method = Set(Some(withdrawal.method));
    model.withdrawn_by = Set(Some(actor.user_id));
    let saved = crud::update(&txn, model).await?;
    let remaining = crud::holders::consents_of(&txn, found.id).await?;
    if found.status == HolderStatus::Active
        && REQUIRED_CONSENTS.contains(&kind)
        && !missing_consents(&remaining).is_empty()
    {
        let mut holder = found.into_active_model();
        holder.status = Set(HolderStatus::Draft);
        let holder = crud::update(&txn, holder).await?;
        let changes = Map::from_iter([
            ("status".to_string(), json!(["active", "draft"])),
            ("consent_withdrawn".to_string(), json!(kind.as_str())),
        ]);
        record(&txn, &holder, Some(actor), HolderAction::Suspended, changes).await?;
    }
    actor
        .audit(
            &txn,
            "holder.consent_withdrawn",
            ("holder", Some(i64::from(id))),
            None,
            json!({"consent_id": saved.id, "kind": kind.as_str()}),
        )
        .await?;
    txn.commit().await?;
    Ok(saved)
}

/// The holder's points the actor may see: a referent sees only those in its configurations,
/// even of a holder with points elsewhere.
pub async fn points(
    actor: &Actor,
    db: &DatabaseConnection,
    id: i32,
) -> Outcome<Vec<member::Model>> {
    let found = visible(actor, db, id).await?;
    Ok(crud::holders::members_of_in_scope(db, actor.community_scope(), found.id).await?)
}

pub async fn history(
    actor: &Actor,
    db: &DatabaseConnection,
    id: i32,
) -> Outcome<Vec<holder_revision::Model>> {
    let found = visible(actor, db, id).await?;
    Ok(crud::holders::revisions_of(db, found.id).await?)
}

/// The revision in force at the end of `day` (Italian time): the IBAN a payout on that day
/// uses. `None`: the holder was registered later.
pub async fn revision_on(
    actor: &Actor,
    db: &DatabaseConnection,
    id: i32,
    day: NaiveDate,
) -> Outcome<Option<holder_revision::Model>> {
    let found = visible(actor, db, id).await?;
    let next = day
        .succ_opt()
        .ok_or_else(|| ServiceError::invalid("on", "date out of range", "date"))?;
    let end = DateTime::from_timestamp(crate::domain::energy_series::local_midnight(next), 0)
        .ok_or_else(|| ServiceError::invalid("on", "date out of range", "date"))?;
    Ok(crud::holders::revision_at(db, found.id, end - chrono::Duration::microseconds(1)).await?)
}

/// Everything stored about a holder, for the holder's right of access.
pub struct Export {
    pub holder: holder::Model,
    pub consents: Vec<holder_consent::Model>,
    pub history: Vec<holder_revision::Model>,
    pub members: Vec<member::Model>,
    pub transactions: Vec<transaction::Model>,
    pub join_requests: Vec<crate::models::join_request::Model>,
    pub iban_changes: Vec<crate::models::iban_change_request::Model>,
}

pub async fn export(actor: &Actor, db: &DatabaseConnection, id: i32) -> Outcome<Export> {
    let holder = visible(actor, db, id).await?;
    let consents = crud::holders::consents_of(db, id).await?;
    let history = crud::holders::revisions_of(db, id).await?;
    let members = crud::holders::members_of(db, id).await?;
    let member_ids: Vec<i32> = members.iter().map(|m| m.id).collect();
    let transactions = if member_ids.is_empty() {
        Vec::new()
    } else {
        transaction::Entity::find()
            .filter(transaction::Column::MemberId.is_in(member_ids))
            .all(db)
            .await?
    };
    let join_requests = crud::join_requests::of_holder(db, id).await?;
    let iban_changes = crud::iban_changes::of_holder(db, id).await?;
    Ok(Export {
        holder,
        consents,
        history,
        members,
        transactions,
        join_requests,
        iban_changes,
    })
}

/// Erasure (GDPR art. 17): the personal fields are cleared — in the holder and in its history,
/// where only the names of changed fields stay —, the portal account unlinked, the status
/// `erased`. The points, the ledger and the consents' evidence (kind, version, dates) stay.
pub async fn erase(actor: &Actor, db: &DatabaseConnection, id: i32) -> Outcome<holder::Model> {
    let found = visible(actor, db, id).await?;
    actor.require(Permission::HoldersErase)?;
    if found.status == HolderStatus::Erased {
        return Ok(found);
    }
    let txn = db.begin().await?;
    crud::write_lock(&txn, &format!("holder:{id}")).await?;
    for revision in crud::holders::revisions_of(&txn, id).await? {
        // The same object, every value gone: which fields changed stays readable.
        let names: Map<String, Value> =
            serde_json::from_str::<Map<String, Value>>(&revision.changes)
                .map(|changes| changes.keys().map(|k| (k.clone(), Value::Null)).collect())
                .unwrap_or_default();
        let mut model = revision.into_active_model();
        model.changes = Set(Value::Object(names).to_string());
        model.iban = Set(None);
        crud::update(&txn, model).await?;
    }
    let cleared: Vec<&str> = Fields::of(&found)
        .named()
        .into_iter()
        .filter(|(_, value)| value.is_some())
        .map(|(name, _)| name)
        .collect();
    // The join requests it came from hold the same data; the mail sent to it, its name and
    // address.
    crud::join_requests::erase_of_holder(&txn, id).await?;
    crud::iban_changes::erase_of_holder(&txn, id, Utc::now()).await?;
    if let Some(email) = &found.email {
        crud::outbox::delete_to(&txn, email).await?;
    }
    let mut model = found.into_active_model();
    Fields::default().apply(&mut model);
    model.user_id = Set(None);
    model.status = Set(HolderStatus::Erased);
    model.erased_at = Set(Some(Utc::now()));
    let saved = crud::update(&txn, model).await?;
    record(
        &txn,
        &saved,
        Some(actor),
        HolderAction::Erased,
        Map::from_iter([("cleared".to_string(), json!(cleared))]),
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

/// A member's PATCH changing its holder type changes its holder's kind — allowed while the
/// holder has no other point, whose type would change with it.
pub(super) async fn retype_sole_point(
    db: &impl ConnectionTrait,
    actor: &Actor,
    holder_id: i32,
    member_id: Option<i32>,
    kind: HolderType,
) -> Outcome<()> {
    let others: Vec<i32> = crud::holders::members_of(db, holder_id)
        .await?
        .into_iter()
        .map(|m| m.id)
        .filter(|id| Some(*id) != member_id)
        .collect();
    if !others.is_empty() {
        return Err(ServiceError::invalid(
            "holder_type",
            format!(
                "The point's holder {holder_id} also holds members {others:?}: change the kind on the holder (PATCH /holders/{holder_id})"
            ),
            "holder_kind",
        ));
    }
    let found = holder::Entity::find_by_id(holder_id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound("Holder"))?;
    if found.kind == kind {
        return Ok(());
    }
    let changes = Map::from_iter([(
        "kind".to_string(),
        json!([found.kind.as_str(), kind.as_str()]),
    )]);
    let mut model = found.into_active_model();
    model.kind = Set(kind);
    let saved = crud::update(db, model).await?;
    record(db, &saved, Some(actor), HolderAction::Updated, changes).await
}
