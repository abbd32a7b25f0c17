//! Bulk import of members with their holders from a spreadsheet (issue 14): one use case for
//! `POST /configurations/{id}/members/import` and `condivisa import members`.
//!
//! All or nothing: the file is read and every row checked — the sheet's cells
//! (`domain::member_sheet`), the holders' rules, then, in one transaction, everything the
//! database decides (a POD in another configuration, the community rules) — and any problem
//! refuses the whole file, listed by line and column, with nothing written. A dry run is the
//! same transaction rolled back, so it answers exactly what the real run would.
//!
//! Holders are found again by fiscal code within the configuration's organization, members by
//! POD within the configuration, so importing the same file again changes nothing. A line
//! whose data differ from what is stored updates it through the same rules as a PATCH (with
//! the holder's revision); blank optional cells leave stored values as they are (an import
//! never clears data).
use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, NaiveDate};
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};

use super::holders::{self, Change, Fields, Registration};
use super::members::{self, Draft, HolderChoice};
use super::plants::power_w;
use super::{Actor, Outcome, Place, Problem, ServiceError, configurations};
use crate::core::permissions::Permission;
use crate::crud;
use crate::domain::member_sheet::{self, Column, SheetProblem, SheetRow};
use crate::models::enums::{
    ConfigurationStatus, ConsentKind, HolderStatus, HolderType, Language, MemberRole, MemberStatus,
};
use crate::models::{configuration, holder, holder_consent, member};
use crate::schemas::holder::ConsentGiven;
use crate::schemas::member_import::{ImportCounts, ImportedLine, LineOutcome, MemberImportReport};

/// At most this many problems are listed (a file that bad is fixed a column at a time).
const LISTED_PROBLEMS: usize = 200;

/// Imports (or with `dry_run` checks) a members file into configuration `configuration_id`.
pub async fn import(
    actor: &Actor,
    db: &DatabaseConnection,
    configuration_id: i32,
    bytes: &[u8],
    dry_run: bool,
) -> Outcome<MemberImportReport> {
    let configuration = configurations::visible(actor, db, configuration_id).await?;
    // What creating a member and registering its holder each need.
    actor.require(Permission::MembersWrite)?;
    actor.require(Permission::HoldersWrite)?;
    if configuration.status == ConfigurationStatus::Closed {
        return Err(ServiceError::conflict("The configuration is closed"));
    }
    let today = super::italian_today();
    let sheet = member_sheet::parse(bytes, today);
    let mut problems: Vec<(u64, Problem)> = sheet.problems.iter().map(from_sheet).collect();
    let rows = sheet.rows.len() as u64;

    let ready = checked(sheet.rows, &sheet.problems, &mut problems);

    let mut report = MemberImportReport {
        configuration_id,
        dry_run,
        rows,
        encoding: sheet.encoding.label().to_string(),
        separator: sheet.separator.to_string(),
        holders: ImportCounts::default(),
        members: ImportCounts::default(),
        lines: Vec::new(),
    };
    let txn = db.begin().await?;
    let known = known(&txn, actor, &configuration, &ready).await?;
    let mut holders_done: HashMap<String, ImportedHolder> = HashMap::new();
    for row in &ready {
        // Each line in a savepoint: a refused line leaves nothing behind for the next ones
        // (and PostgreSQL's transaction stays usable), so every line is checked.
        let savepoint = txn.begin().await?;
        let done = holders_done.get(row.fiscal_code()).cloned();
        match import_line(&savepoint, actor, &configuration, &known, row, done).await {
            Ok((holder, imported)) => {
                savepoint.commit().await?;
                if imported.holder_line == row.line {
                    report.holders.add(imported.holder);
                    holders_done.insert(row.fiscal_code().to_string(), holder);
                }
                report.members.add(imported.member);
                report.lines.push(imported);
            }
            Err(LineError::Fatal(error)) => return Err(error),
            Err(LineError::Refused(found)) => {
                savepoint.rollback().await?;
                problems.extend(found.into_iter().map(|p| (row.line, p)));
            }
        }
    }
    if !problems.is_empty() {
        txn.rollback().await?;
        return Err(ServiceError::Invalid(listed(problems)));
    }
    if dry_run {
        txn.rollback().await?;
        // Ids of rows that were never kept mean nothing.
        for line in &mut report.lines {
            if line.holder == LineOutcome::Created {
                line.holder_id = None;
            }
            if line.member == LineOutcome::Created {
                line.member_id = None;
            }
        }
    } else {
        txn.commit().await?;
        tracing::info!(
            configuration_id,
            rows,
            members_created = report.members.created,
            members_updated = report.members.updated,
            holders_created = report.holders.created,
            holders_updated = report.holders.updated,
            "members imported"
        );
    }
    Ok(report)
}

/// The lines that pass every check needing no database: the holders' rules on each, and the
/// lines of one holder agreeing. The others' problems go to `problems`, except those of cells
/// the sheet already refused (a blank fiscal code is "required", not also "needed to be
/// active").
fn checked(
    rows: Vec<SheetRow>,
    refused: &[SheetProblem],
    problems: &mut Vec<(u64, Problem)>,
) -> Vec<Prepared> {
    let refused_lines: HashSet<u64> = refused.iter().map(|p| p.line).collect();
    let refused_cells: HashSet<(u64, &str)> = refused
        .iter()
        .filter_map(|p| Some((p.line, p.column.as_deref()?)))
        .collect();
    let mut ready = Vec::new();
    let mut described: HashMap<String, (u64, HolderRow)> = HashMap::new();
    for row in rows {
        let line = row.line;
        let prepared = match prepare(row) {
            Err(found) => {
                let new = found.into_iter().filter(|p| {
                    !p.place.iter().any(|place| match place {
                        Place::Field(column) => refused_cells.contains(&(line, column.as_str())),
                        _ => false,
                    })
                });
                problems.extend(new.map(|p| (line, p)));
                continue;
            }
            Ok(None) => continue,
            Ok(Some(prepared)) => prepared,
        };
        let code = prepared.fiscal_code().to_string();
        let disagreements = match described.get(&code) {
            Some((first, holder)) => disagreements(*first, holder, &prepared.holder),
            None => {
                described.insert(code, (line, prepared.holder.clone()));
                Vec::new()
            }
        };
        let agrees = disagreements.is_empty();
        problems.extend(disagreements.into_iter().map(|p| (line, p)));
        if agrees && !refused_lines.contains(&line) {
            ready.push(prepared);
        }
    }
    ready
}

/// What the lines need from the database, read once, under the locks.
struct Known {
    /// The organization's holders with the file's fiscal codes, in scope or not.
    holders: HashMap<String, holder::Model>,
    /// Of those, the ones the actor sees.
    visible: HashSet<i32>,
    consents: HashMap<i32, Vec<holder_consent::Model>>,
    /// The configuration's memberships of the file's PODs (several when one left and
    /// joined again).
    memberships: HashMap<String, Vec<member::Model>>,
}

/// Takes the write locks of everything the lines touch, in the order every writer takes
/// them — the PODs, then the configuration (as `members::save` does, so that an import and a
/// single member's write never wait for each other), then the holders already registered, by
/// id (so that two imports sharing holders cannot each hold one the other waits for) —, then
/// reads what the lines need.
async fn known(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    configuration: &configuration::Model,
    lines: &[Prepared],
) -> Outcome<Known> {
    let pods: BTreeSet<&str> = lines.iter().map(|l| l.member.pod.as_str()).collect();
    let mut keys: Vec<String> = pods.iter().map(|pod| format!("pod:{pod}")).collect();
    keys.push(format!("configuration:{}", configuration.id));
    crud::write_locks(txn, &keys).await?;
    let codes: BTreeSet<String> = lines.iter().map(|l| l.fiscal_code().to_string()).collect();
    let codes: Vec<String> = codes.into_iter().collect();
    let registered =
        crud::holders::with_fiscal_codes(txn, configuration.organization_id, &codes).await?;
    let keys: Vec<String> = registered
        .iter()
        .map(|h| format!("holder:{}", h.id))
        .collect();
    crud::write_locks(txn, &keys).await?;
    // Read again under their locks: a concurrent change is before or after the import.
    let registered =
        crud::holders::with_fiscal_codes(txn, configuration.organization_id, &codes).await?;
    let ids: Vec<i32> = registered.iter().map(|h| h.id).collect();
    let visible = crud::holders::visible_ids(txn, actor.community_scope(), &ids)
        .await?
        .into_iter()
        .collect();
    let mut consents: HashMap<i32, Vec<holder_consent::Model>> = HashMap::new();
    for consent in crud::holders::consents_of_holders(txn, &ids).await? {
        consents.entry(consent.holder_id).or_default().push(consent);
    }
    let mut memberships: HashMap<String, Vec<member::Model>> = HashMap::new();
    for membership in crud::members::in_configuration(txn, configuration.id, None).await? {
        if pods.contains(membership.pod.as_str()) {
            memberships
                .entry(membership.pod.clone())
                .or_default()
                .push(membership);
        }
    }
    Ok(Known {
        holders: registered
            .into_iter()
            .filter_map(|h| Some((h.fiscal_code.clone()?, h)))
            .collect(),
        visible,
        consents,
        memberships,
    })
}

/// A line's holder, checked by the holders' rules.
#[derive(Clone)]
struct HolderRow {
    kind: HolderType,
    language: Option<Language>,
    /// Validated and normalised; the fiscal code is always there (the sheet requires it).
    fields: Fields,
    consents: Vec<ConsentGiven>,
}

/// A line's membership, its power in W.
struct MemberRow {
    pod: String,
    role: MemberRole,
    joined_at: NaiveDate,
    gse_notified_on: Option<NaiveDate>,
    available_power_w: Option<i64>,
    net_metering: Option<bool>,
    status: Option<MemberStatus>,
    withdrawn_at: Option<NaiveDate>,
}

/// A line that passed every check that needs no database.
struct Prepared {
    line: u64,
    holder: HolderRow,
    member: MemberRow,
}

impl Prepared {
    fn fiscal_code(&self) -> &str {
        self.holder
            .fields
            .fiscal_code
            .as_deref()
            .unwrap_or_default()
    }
}

/// The holder's fields through the holders' own rules (every problem of the line at once),
/// and the member's power in W. `Ok(None)`: the sheet already refused a part of the line.
fn prepare(row: SheetRow) -> Result<Option<Prepared>, Vec<Problem>> {
    let cells = row.holder;
    let raw = Fields {
        first_name: cells.first_name,
        last_name: cells.last_name,
        company_name: cells.company_name,
        fiscal_code: cells.fiscal_code,
        vat_number: cells.vat_number,
        street: cells.street,
        postcode: cells.postcode,
        municipality: cells.municipality,
        province: cells.province,
        email: cells.email,
        phone: cells.phone,
        iban: cells.iban,
    };
    let Some(kind) = cells.kind else {
        return Ok(None);
    };
    let mut problems = Vec::new();
    let fields = match raw.validated(kind) {
        Ok(fields) => {
            // Imported holders are made active: they need what activation needs.
            problems.extend(fields.missing_for_activation(kind));
            Some(fields)
        }
        Err(found) => {
            problems.extend(found);
            None
        }
    };
    let power = row.member.as_ref().and_then(|m| m.available_power_kw);
    let available_power_w = match power.map(|kw| power_w(Column::AvailablePowerKw.name(), kw)) {
        Some(Err(ServiceError::Invalid(found))) => {
            problems.extend(found);
            None
        }
        Some(Ok(watts)) => Some(watts),
        _ => None,
    };
    let problems: Vec<Problem> = problems.into_iter().map(|p| in_column(p, None)).collect();
    if !problems.is_empty() {
        return Err(problems);
    }
    let (Some(fields), Some(member), Some(consents)) = (fields, row.member, row.consents) else {
        return Ok(None);
    };
    // A consent given on a day was given at its start (Italian time): never "in the future".
    let given_at = DateTime::from_timestamp(
        crate::domain::energy_series::local_midnight(consents.given_on),
        0,
    );
    let consent = |kind: ConsentKind, version: &str| ConsentGiven {
        kind,
        document_version: version.to_string(),
        method: consents.method,
        given_at,
    };
    let mut given = vec![
        consent(ConsentKind::PrivacyNotice, &consents.privacy_notice),
        consent(ConsentKind::Statute, &consents.statute),
    ];
    if let Some(version) = &consents.communications {
        given.push(consent(ConsentKind::Communications, version));
    }
    Ok(Some(Prepared {
        line: row.line,
        holder: HolderRow {
            kind,
            language: cells.language,
            fields,
            consents: given,
        },
        member: MemberRow {
            pod: member.pod.into_string(),
            role: member.role,
            joined_at: member.joined_at,
            gse_notified_on: member.gse_notified_on,
            available_power_w,
            net_metering: member.net_metering,
            status: member.status,
            withdrawn_at: member.withdrawn_at,
        },
    }))
}

/// The column of each consent kind, for messages.
fn consent_column(kind: ConsentKind) -> Column {
    match kind {
        ConsentKind::PrivacyNotice => Column::PrivacyNoticeVersion,
        ConsentKind::Statute => Column::StatuteVersion,
        ConsentKind::Communications => Column::CommunicationsVersion,
    }
}

/// A holder described on several lines must be described the same way on each: which of
/// its cells on `line` differ from those on `first`.
fn disagreements(first: u64, there: &HolderRow, here: &HolderRow) -> Vec<Problem> {
    let code = here.fields.fiscal_code.as_deref().unwrap_or_default();
    let shown = |value: Option<&str>| match value {
        Some(text) => format!("`{text}`"),
        None => "blank".to_string(),
    };
    let differs = |column: Column, here_value: Option<&str>, there_value: Option<&str>| {
        (here_value != there_value).then(|| {
            Problem::at_field(
                column.name(),
                format!(
                    "holder {code} is also described on line {first}, where {} is {}; here it is {}: a holder's lines must agree",
                    column.name(),
                    shown(there_value),
                    shown(here_value)
                ),
                "holder_mismatch",
            )
        })
    };
    let mut found: Vec<Problem> = here
        .fields
        .named()
        .into_iter()
        .zip(there.fields.named())
        .filter_map(|((name, a), (_, b))| {
            let column = Column::ALL.into_iter().find(|c| c.name() == name)?;
            differs(column, a.as_deref(), b.as_deref())
        })
        .collect();
    found.extend(differs(
        Column::HolderKind,
        Some(here.kind.as_str()),
        Some(there.kind.as_str()),
    ));
    found.extend(differs(
        Column::Language,
        here.language.map(Language::as_str),
        there.language.map(Language::as_str),
    ));
    for kind in [
        ConsentKind::PrivacyNotice,
        ConsentKind::Statute,
        ConsentKind::Communications,
    ] {
        let version = |row: &HolderRow| {
            row.consents
                .iter()
                .find(|c| c.kind == kind)
                .map(|c| c.document_version.clone())
        };
        found.extend(differs(
            consent_column(kind),
            version(here).as_deref(),
            version(there).as_deref(),
        ));
    }
    let given = |row: &HolderRow| {
        row.consents
            .first()
            .map(|c| (c.given_at, c.method.as_str()))
    };
    if given(here) != given(there) {
        found.push(Problem::at_field(
            Column::ConsentsGivenOn.name(),
            format!(
                "holder {code} is also described on line {first} with another consents_given_on or consent_method: a holder's lines must agree"
            ),
            "holder_mismatch",
        ));
    }
    found
}

/// What became of a holder, for the later lines that name it again.
#[derive(Clone)]
struct ImportedHolder {
    model: holder::Model,
    outcome: LineOutcome,
    line: u64,
    changes: Vec<String>,
}

enum LineError {
    /// The line breaks a rule: its problems, by column.
    Refused(Vec<Problem>),
    /// Not the line's fault (the database failed): the import stops.
    Fatal(ServiceError),
}

impl LineError {
    /// A use case's refusal, reported in `column` unless it names a field of its own.
    fn from(error: ServiceError, column: Column) -> LineError {
        match error {
            ServiceError::Invalid(problems) => LineError::Refused(
                problems
                    .into_iter()
                    .map(|p| in_column(p, Some(column)))
                    .collect(),
            ),
            ServiceError::Conflict(message) | ServiceError::ForbiddenBecause(message) => {
                LineError::Refused(vec![Problem::at_field(column.name(), message, "conflict")])
            }
            ServiceError::NotFound(what) => LineError::Refused(vec![Problem::at_field(
                column.name(),
                format!("{what} not found"),
                "not_found",
            )]),
            other => LineError::Fatal(other),
        }
    }
}

async fn import_line<C>(
    db: &C,
    actor: &Actor,
    configuration: &configuration::Model,
    known: &Known,
    row: &Prepared,
    done: Option<ImportedHolder>,
) -> Result<(ImportedHolder, ImportedLine), LineError>
where
    C: ConnectionTrait + TransactionTrait,
{
    let holder = match done {
        Some(holder) => holder,
        None => import_holder(db, actor, configuration.organization_id, known, row).await?,
    };
    let memberships = known
        .memberships
        .get(&row.member.pod)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let (member, outcome, member_changes) =
        import_member(db, actor, configuration, memberships, row, &holder.model)
            .await
            .map_err(|error| {
                // The membership rules' conflicts are about the POD, except a producer with
                // plants turned consumer, which is about its role.
                let column = match &error {
                    ServiceError::Conflict(message) if message.contains("plants") => Column::Role,
                    _ => Column::Pod,
                };
                LineError::from(error, column)
            })?;
    let line = ImportedLine {
        line: row.line,
        pod: row.member.pod.clone(),
        fiscal_code: row.fiscal_code().to_string(),
        holder: holder.outcome,
        holder_line: holder.line,
        holder_id: Some(holder.model.id),
        holder_changes: holder.changes.clone(),
        member: outcome,
        member_id: Some(member.id),
        member_changes,
    };
    Ok((holder, line))
}

/// The line's holder: registered (with its consents) and activated, or found by fiscal code
/// and brought up to date.
async fn import_holder(
    db: &impl ConnectionTrait,
    actor: &Actor,
    organization_id: i32,
    known: &Known,
    row: &Prepared,
) -> Result<ImportedHolder, LineError> {
    let fatal = |error: sea_orm::DbErr| LineError::Fatal(error.into());
    let refused = |error: ServiceError| LineError::from(error, Column::FiscalCode);
    let wanted = &row.holder;
    let code = row.fiscal_code();
    let Some(found) = known.holders.get(code) else {
        let registration = Registration {
            organization_id,
            kind: wanted.kind,
            language: wanted.language.unwrap_or(Language::It),
            user_id: None,
            fields: wanted.fields.clone(),
        };
        let created = holders::register_in(db, actor, registration, &wanted.consents)
            .await
            .map_err(refused)?;
        let model = holders::activate_in(db, actor, created)
            .await
            .map_err(refused)?;
        return Ok(ImportedHolder {
            model,
            outcome: LineOutcome::Created,
            line: row.line,
            changes: Vec::new(),
        });
    };
    if !known.visible.contains(&found.id) {
        return Err(LineError::Refused(vec![Problem::at_field(
            Column::FiscalCode.name(),
            format!(
                "holder {} of the organization has fiscal code {code} but is outside your scope: ask the organization's vendor to import this line",
                found.id
            ),
            "scope",
        )]));
    }
    if found.kind != wanted.kind {
        return Err(LineError::Refused(vec![Problem::at_field(
            Column::HolderKind.name(),
            format!(
                "holder {} ({code}) is `{}`, not `{}`: a holder's kind is changed on the holder (PATCH /api/v1/holders/{}), for all its points at once",
                found.id,
                found.kind.as_str(),
                wanted.kind.as_str(),
                found.id
            ),
            "holder_kind",
        )]));
    }
    let mut changes = Vec::new();
    let change = Change {
        kind: found.kind,
        language: wanted.language.unwrap_or(found.language),
        user_id: found.user_id,
        fields: filled(Fields::of(found), &wanted.fields),
    };
    let mut model = match holders::change_in(db, actor, found, change)
        .await
        .map_err(refused)?
    {
        Some((saved, mut names)) => {
            names.sort();
            changes.extend(names);
            saved
        }
        None => found.clone(),
    };
    let stored = known
        .consents
        .get(&model.id)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for consent in &wanted.consents {
        let same = |c: &&holder_consent::Model| {
            c.kind == consent.kind && c.document_version == consent.document_version
        };
        if stored.iter().filter(same).any(|c| c.withdrawn_at.is_none()) {
            continue;
        }
        if let Some(withdrawn) = stored.iter().find(same) {
            // A spreadsheet of old forms must not give back what the holder took back.
            return Err(LineError::Refused(vec![Problem::at_field(
                consent_column(consent.kind).name(),
                format!(
                    "holder {} withdrew its `{}` consent (version {}) on {}: an import does not undo a withdrawal — record a new consent on the holder if it was given again",
                    model.id,
                    consent.kind.as_str(),
                    consent.document_version,
                    withdrawn
                        .withdrawn_at
                        .map(|t| t.format("%d/%m/%Y").to_string())
                        .unwrap_or_default()
                ),
                "consent_withdrawn",
            )]));
        }
        crud::insert(
            db,
            holders::consent_model(model.id, consent, Some(actor.user_id)),
        )
        .await
        .map_err(fatal)?;
        changes.push(format!("consents.{}", consent.kind.as_str()));
    }
    if model.status == HolderStatus::Draft {
        model = holders::activate_in(db, actor, model)
            .await
            .map_err(refused)?;
        changes.push("status".to_string());
    }
    let outcome = if changes.is_empty() {
        LineOutcome::Unchanged
    } else {
        LineOutcome::Updated
    };
    Ok(ImportedHolder {
        model,
        outcome,
        line: row.line,
        changes,
    })
}

/// The stored fields with the file's values where it has one: a blank cell keeps what is
/// stored.
fn filled(stored: Fields, file: &Fields) -> Fields {
    let pick = |file: &Option<String>, stored: Option<String>| file.clone().or(stored);
    Fields {
        first_name: pick(&file.first_name, stored.first_name),
        last_name: pick(&file.last_name, stored.last_name),
        company_name: pick(&file.company_name, stored.company_name),
        fiscal_code: pick(&file.fiscal_code, stored.fiscal_code),
        vat_number: pick(&file.vat_number, stored.vat_number),
        street: pick(&file.street, stored.street),
        postcode: pick(&file.postcode, stored.postcode),
        municipality: pick(&file.municipality, stored.municipality),
        province: pick(&file.province, stored.province),
        email: pick(&file.email, stored.email),
        phone: pick(&file.phone, stored.phone),
        iban: pick(&file.iban, stored.iban),
    }
}

/// The line's membership: created, or found by POD (the membership with the line's
/// `joined_at`, else the current one) and changed where the file differs, through the same
/// rules as `POST`/`PATCH /members`.
async fn import_member<C>(
    db: &C,
    actor: &Actor,
    configuration: &configuration::Model,
    memberships: &[member::Model],
    row: &Prepared,
    holder: &holder::Model,
) -> Outcome<(member::Model, LineOutcome, Vec<String>)>
where
    C: ConnectionTrait + TransactionTrait,
{
    let wanted = &row.member;
    let existing = memberships
        .iter()
        .find(|m| m.joined_at == wanted.joined_at)
        .or_else(|| memberships.iter().find(|m| m.withdrawn_at.is_none()))
        .cloned();
    let stored = existing.as_ref();
    let draft = Draft {
        pod: wanted.pod.clone(),
        user_id: stored.and_then(|m| m.user_id),
        holder: HolderChoice::Existing(holder.id),
        role: wanted.role,
        holder_type: holder.kind,
        available_power_w: wanted
            .available_power_w
            .or(stored.and_then(|m| m.available_power_w)),
        gse_notified_on: wanted
            .gse_notified_on
            .or(stored.and_then(|m| m.gse_notified_on)),
        status: wanted
            .status
            .or(stored.map(|m| m.status))
            .unwrap_or(MemberStatus::Active),
        joined_at: wanted.joined_at,
        withdrawn_at: wanted.withdrawn_at.or(stored.and_then(|m| m.withdrawn_at)),
        net_metering: wanted
            .net_metering
            .or(stored.map(|m| m.net_metering))
            .unwrap_or(false),
    };
    let Some(current) = existing else {
        let saved = members::save(actor, db, configuration, draft, None).await?;
        return Ok((saved, LineOutcome::Created, Vec::new()));
    };
    let changes = member_changes(&current, &draft);
    if changes.is_empty() {
        return Ok((current, LineOutcome::Unchanged, changes));
    }
    let saved = members::save(actor, db, configuration, draft, Some(current)).await?;
    Ok((saved, LineOutcome::Updated, changes))
}

/// The names of the member's fields the draft changes.
fn member_changes(current: &member::Model, draft: &Draft) -> Vec<String> {
    let holder_id = match draft.holder {
        HolderChoice::Existing(id) | HolderChoice::Retyped(id) => Some(id),
        HolderChoice::NewDraft => None,
    };
    [
        ("holder_id", current.holder_id != holder_id),
        ("role", current.role != draft.role),
        ("holder_type", current.holder_type != draft.holder_type),
        (
            "available_power_kw",
            current.available_power_w != draft.available_power_w,
        ),
        (
            "gse_notified_on",
            current.gse_notified_on != draft.gse_notified_on,
        ),
        ("status", current.status != draft.status),
        ("joined_at", current.joined_at != draft.joined_at),
        ("withdrawn_at", current.withdrawn_at != draft.withdrawn_at),
        ("net_metering", current.net_metering != draft.net_metering),
    ]
    .into_iter()
    .filter(|(_, changed)| *changed)
    .map(|(name, _)| name.to_string())
    .collect()
}

/// A sheet's problem as the use cases' problems (in its column; the line is added when
/// listed).
fn from_sheet(problem: &SheetProblem) -> (u64, Problem) {
    (
        problem.line,
        Problem {
            place: problem.column.iter().cloned().map(Place::Field).collect(),
            message: problem.message.clone(),
            kind: problem.kind.to_string(),
        },
    )
}

/// A use case's problem on a field, moved to the sheet's column of that field (`fallback`
/// when the field is none of the sheet's). The line is added when listed.
fn in_column(problem: Problem, fallback: Option<Column>) -> Problem {
    let field = problem.place.iter().rev().find_map(|place| match place {
        Place::Field(name) => Some(name.as_str()),
        _ => None,
    });
    let column = field
        .and_then(|name| match name {
            "kind" | "holder_type" => Some(Column::HolderKind),
            "given_at" => Some(Column::ConsentsGivenOn),
            other => Column::ALL.into_iter().find(|c| c.name() == other),
        })
        .or(fallback);
    Problem {
        place: column
            .map(|c| vec![Place::Field(c.name().to_string())])
            .unwrap_or_default(),
        message: problem.message,
        kind: problem.kind,
    }
}

/// The problems by line, each at `["body", line, column]`, at most `LISTED_PROBLEMS`.
fn listed(mut problems: Vec<(u64, Problem)>) -> Vec<Problem> {
    problems.sort_by_key(|(line, _)| *line);
    let total = problems.len();
    let mut out: Vec<Problem> = problems
        .into_iter()
        .take(LISTED_PROBLEMS)
        .map(|(line, problem)| {
            let column = problem
                .place
                .into_iter()
                .filter(|place| matches!(place, Place::Field(_)));
            Problem {
                place: [Place::Body, Place::Line(line)]
                    .into_iter()
                    .chain(column)
                    .collect(),
                ..problem
            }
        })
        .collect();
    if total > LISTED_PROBLEMS {
        out.push(Problem {
            place: vec![Place::Body],
            message: format!(
                "and {} more problem(s) not listed: fix these and try again",
                total - LISTED_PROBLEMS
            ),
            kind: "more".to_string(),
        });
    }
    out
}
