//! A spreadsheet of members and their holders, as an operator keeps it: one row per point
//! (POD), with the holder's identity, address, IBAN and consents beside it. Read here into
//! typed rows; the holders' own rules (fiscal code, IBAN, postcode, phone…) and everything
//! that needs the database are checked by `service::member_import`.
//!
//! Files come as Italian Excel saves them (`;`, a UTF-8 byte-order mark or Windows-1252
//! bytes, CRLF, `dd/mm/yyyy`, decimal commas) or as plain UTF-8 `,`-separated CSV. Every bad
//! cell is reported with its line (the header is line 1), its column and what to do; all of
//! them at once, so that one round trip fixes a file.
use std::collections::HashMap;
use std::collections::hash_map::Entry;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sea_orm::Iterable;

use super::pod::Pod;
use crate::models::enums::{ConsentMethod, HolderType, Language, MemberRole, MemberStatus};

/// The columns of the sheet. Names are matched case-insensitively, with spaces and dashes
/// read as `_`; each also answers to its Italian name (`codice_fiscale`, `cap`…).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Column {
    Pod,
    Role,
    JoinedAt,
    GseNotifiedOn,
    AvailablePowerKw,
    NetMetering,
    Status,
    WithdrawnAt,
    HolderKind,
    FirstName,
    LastName,
    CompanyName,
    FiscalCode,
    VatNumber,
    Street,
    Postcode,
    Municipality,
    Province,
    Email,
    Phone,
    Iban,
    Language,
    PrivacyNoticeVersion,
    StatuteVersion,
    CommunicationsVersion,
    ConsentsGivenOn,
    ConsentMethod,
}

impl Column {
    pub const ALL: [Column; 27] = [
        Column::Pod,
        Column::Role,
        Column::JoinedAt,
        Column::GseNotifiedOn,
        Column::AvailablePowerKw,
        Column::NetMetering,
        Column::Status,
        Column::WithdrawnAt,
        Column::HolderKind,
        Column::FirstName,
        Column::LastName,
        Column::CompanyName,
        Column::FiscalCode,
        Column::VatNumber,
        Column::Street,
        Column::Postcode,
        Column::Municipality,
        Column::Province,
        Column::Email,
        Column::Phone,
        Column::Iban,
        Column::Language,
        Column::PrivacyNoticeVersion,
        Column::StatuteVersion,
        Column::CommunicationsVersion,
        Column::ConsentsGivenOn,
        Column::ConsentMethod,
    ];

    /// The name problems are reported under (and the README documents).
    pub fn name(self) -> &'static str {
        match self {
            Column::Pod => "pod",
            Column::Role => "role",
            Column::JoinedAt => "joined_at",
            Column::GseNotifiedOn => "gse_notified_on",
            Column::AvailablePowerKw => "available_power_kw",
            Column::NetMetering => "net_metering",
            Column::Status => "status",
            Column::WithdrawnAt => "withdrawn_at",
            Column::HolderKind => "holder_kind",
            Column::FirstName => "first_name",
            Column::LastName => "last_name",
            Column::CompanyName => "company_name",
            Column::FiscalCode => "fiscal_code",
            Column::VatNumber => "vat_number",
            Column::Street => "street",
            Column::Postcode => "postcode",
            Column::Municipality => "municipality",
            Column::Province => "province",
            Column::Email => "email",
            Column::Phone => "phone",
            Column::Iban => "iban",
            Column::Language => "language",
            Column::PrivacyNoticeVersion => "privacy_notice_version",
            Column::StatuteVersion => "statute_version",
            Column::CommunicationsVersion => "communications_version",
            Column::ConsentsGivenOn => "consents_given_on",
            Column::ConsentMethod => "consent_method",
        }
    }

    /// Other names the column is known by: its Italian name, and `holder_type` (the members'
    /// field) for the holder's kind.
    fn aliases(self) -> &'static [&'static str] {
        match self {
            Column::Pod => &["codice_pod"],
            Column::Role => &["ruolo"],
            Column::JoinedAt => &["data_adesione"],
            Column::GseNotifiedOn => &["data_notifica_gse"],
            Column::AvailablePowerKw => &["potenza_disponibile_kw"],
            Column::NetMetering => &["scambio_sul_posto"],
            Column::Status => &["stato"],
            Column::WithdrawnAt => &["data_recesso"],
            Column::HolderKind => &["holder_type", "tipo_titolare"],
            Column::FirstName => &["nome"],
            Column::LastName => &["cognome"],
            Column::CompanyName => &["ragione_sociale"],
            Column::FiscalCode => &["codice_fiscale"],
            Column::VatNumber => &["partita_iva"],
            Column::Street => &["indirizzo"],
            Column::Postcode => &["cap"],
            Column::Municipality => &["comune"],
            Column::Province => &["provincia"],
            Column::Email => &["e_mail"],
            Column::Phone => &["telefono"],
            Column::Iban => &[],
            Column::Language => &["lingua"],
            Column::PrivacyNoticeVersion => &["versione_informativa_privacy"],
            Column::StatuteVersion => &["versione_statuto"],
            Column::CommunicationsVersion => &["versione_consenso_comunicazioni"],
            Column::ConsentsGivenOn => &["data_consensi"],
            Column::ConsentMethod => &["modalita_consenso"],
        }
    }

    /// Columns every file must have: what a member needs, and what its holder needs to be
    /// active and paid (the names depend on the kind, so they are checked per row).
    pub fn required(self) -> bool {
        matches!(
            self,
            Column::Pod
                | Column::Role
                | Column::JoinedAt
                | Column::HolderKind
                | Column::FiscalCode
                | Column::Street
                | Column::Postcode
                | Column::Municipality
                | Column::Province
                | Column::Iban
                | Column::PrivacyNoticeVersion
                | Column::StatuteVersion
                | Column::ConsentsGivenOn
        )
    }

    /// The column a header cell names, if any.
    fn named(header: &str) -> Option<Column> {
        let folded: String = header
            .trim()
            .to_lowercase()
            .chars()
            .map(|c| if c == ' ' || c == '-' { '_' } else { c })
            .collect();
        Column::ALL
            .into_iter()
            .find(|column| column.name() == folded || column.aliases().contains(&folded.as_str()))
    }
}

/// One reason the file is refused: where (`line`, counted from 1 with the header; `column`,
/// absent for a whole line) and what to do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SheetProblem {
    pub line: u64,
    pub column: Option<String>,
    pub message: String,
    pub kind: &'static str,
}

impl SheetProblem {
    fn at(line: u64, column: Column, message: impl Into<String>, kind: &'static str) -> Self {
        SheetProblem {
            line,
            column: Some(column.name().to_string()),
            message: message.into(),
            kind,
        }
    }

    fn on_line(line: u64, message: impl Into<String>, kind: &'static str) -> Self {
        SheetProblem {
            line,
            column: None,
            message: message.into(),
            kind,
        }
    }
}

/// The holder's cells. The personal fields are as typed (trimmed, blank = absent): the
/// holders' rules check and normalise them. `kind` and `language` are `None` when absent or
/// refused (a refusal is among the sheet's problems).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HolderCells {
    pub kind: Option<HolderType>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company_name: Option<String>,
    pub fiscal_code: Option<String>,
    pub vat_number: Option<String>,
    pub street: Option<String>,
    pub postcode: Option<String>,
    pub municipality: Option<String>,
    pub province: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub iban: Option<String>,
    pub language: Option<Language>,
}

/// The membership's cells; optional ones are `None` when blank.
#[derive(Clone, Debug, PartialEq)]
pub struct MemberCells {
    pub pod: Pod,
    pub role: MemberRole,
    pub joined_at: NaiveDate,
    pub gse_notified_on: Option<NaiveDate>,
    pub available_power_kw: Option<Decimal>,
    pub net_metering: Option<bool>,
    pub status: Option<MemberStatus>,
    pub withdrawn_at: Option<NaiveDate>,
}

/// The consents the holder gave, on paper or otherwise, on `given_on`: the versions of the
/// documents it accepted.
#[derive(Clone, Debug, PartialEq)]
pub struct ConsentCells {
    pub privacy_notice: String,
    pub statute: String,
    pub communications: Option<String>,
    pub given_on: NaiveDate,
    pub method: ConsentMethod,
}

/// One data row. `member` and `consents` are `None` when one of their cells was refused; a
/// row with any problem is not imported.
#[derive(Clone, Debug, PartialEq)]
pub struct SheetRow {
    pub line: u64,
    pub holder: HolderCells,
    pub member: Option<MemberCells>,
    pub consents: Option<ConsentCells>,
}

/// How the bytes were read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    /// Excel's "CSV (separatore: punto e virgola)" on an Italian Windows.
    Windows1252,
}

impl Encoding {
    /// As the API reports it: the WHATWG label (`utf-8`, `windows-1252`).
    pub fn label(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Windows1252 => "windows-1252",
        }
    }

    /// As a message to a person names it (`UTF-8`, `Windows-1252`).
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Windows1252 => "Windows-1252",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Sheet {
    pub rows: Vec<SheetRow>,
    pub problems: Vec<SheetProblem>,
    pub separator: char,
    pub encoding: Encoding,
}

/// The longest consent document version the database keeps.
const MAX_VERSION_CHARS: usize = 64;

/// Reads a members file. `today` (Italian date) bounds the consents' date: a consent is not
/// given in the future.
pub fn parse(bytes: &[u8], today: NaiveDate) -> Sheet {
    let mut sheet = Sheet {
        rows: Vec::new(),
        problems: Vec::new(),
        separator: ';',
        encoding: Encoding::Utf8,
    };
    if let Some(message) = not_a_csv(bytes) {
        sheet
            .problems
            .push(SheetProblem::on_line(1, message, "format"));
        return sheet;
    }
    let (text, encoding) = decode(bytes);
    sheet.encoding = encoding;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);

    // Excel honours a first line `sep=;` naming the separator; some tools write one.
    let (first_line, after_first) = match text.find(['\r', '\n']) {
        Some(end) => {
            let rest = &text[end..];
            (
                &text[..end],
                rest.strip_prefix("\r\n").unwrap_or(&rest[1..]),
            )
        }
        None => (text, ""),
    };
    let declared = first_line
        .trim()
        .strip_prefix("sep=")
        .and_then(|rest| {
            let mut chars = rest.chars();
            chars.next().filter(|_| chars.next().is_none())
        })
        .filter(|c| matches!(c, ';' | ','));
    let (body, header_offset) = match declared {
        Some(_) => (after_first, 1),
        None => (text, 0),
    };

    sheet.separator = declared.unwrap_or_else(|| detect_separator(body));
    let mut records = records(body, sheet.separator)
        .into_iter()
        .map(|mut record| {
            record.line += header_offset;
            record
        });
    let Some(header) = records.by_ref().find(|r| !r.is_blank()) else {
        sheet.problems.push(SheetProblem::on_line(
            1,
            "the file is empty: it needs a header line naming the columns, then one line per member",
            "empty",
        ));
        return sheet;
    };
    let columns = match read_header(&header) {
        Ok(columns) => columns,
        Err(problems) => {
            sheet.problems = problems;
            return sheet;
        }
    };

    let mut pods: HashMap<String, u64> = HashMap::new();
    for record in records {
        if record.is_blank() {
            continue;
        }
        let (row, mut problems) = read_row(&record, &columns, today);
        if let Some(member) = &row.member {
            match pods.entry(member.pod.as_str().to_string()) {
                Entry::Vacant(entry) => {
                    entry.insert(record.line);
                }
                Entry::Occupied(first) => problems.push(SheetProblem::at(
                    record.line,
                    Column::Pod,
                    format!(
                        "POD {} is also on line {}: a point is listed once (one holder, one membership)",
                        member.pod.as_str(),
                        first.get()
                    ),
                    "duplicate_pod",
                )),
            }
        }
        sheet.problems.extend(problems);
        sheet.rows.push(row);
    }
    if sheet.rows.is_empty() && sheet.problems.is_empty() {
        sheet.problems.push(SheetProblem::on_line(
            header.line,
            "the file has a header but no members",
            "empty",
        ));
    }
    sheet
}

/// Files that are not text at all, said in words rather than as a list of garbled cells.
pub(crate) fn not_a_csv(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"PK\x03\x04") {
        return Some(
            "this is an Excel workbook (.xlsx), not a CSV file: in Excel use File › Save as › \
             \"CSV (separatore: punto e virgola)\" or \"CSV UTF-8\"",
        );
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Some(
            "this file is UTF-16 (Excel's \"Unicode text\"): save it as \"CSV (separatore: \
             punto e virgola)\" or \"CSV UTF-8\"",
        );
    }
    None
}

/// UTF-8 when the bytes are; otherwise Windows-1252, what Excel writes on an Italian Windows
/// ("Forlì" is `46 6F 72 6C EC`), which decodes any byte.
pub(crate) fn decode(bytes: &[u8]) -> (String, Encoding) {
    match std::str::from_utf8(bytes) {
        Ok(text) => (text.to_string(), Encoding::Utf8),
        Err(_) => (
            bytes.iter().map(|&b| windows_1252(b)).collect(),
            Encoding::Windows1252,
        ),
    }
}

/// Windows-1252 differs from Latin-1 (whose bytes are their code points) only in 0x80–0x9F;
/// the five bytes it leaves undefined are read as the C1 controls, as WHATWG does.
fn windows_1252(byte: u8) -> char {
    const HIGH: [char; 32] = [
        '\u{20AC}', '\u{0081}', '\u{201A}', '\u{0192}', '\u{201E}', '\u{2026}', '\u{2020}',
        '\u{2021}', '\u{02C6}', '\u{2030}', '\u{0160}', '\u{2039}', '\u{0152}', '\u{008D}',
        '\u{017D}', '\u{008F}', '\u{0090}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}',
        '\u{2022}', '\u{2013}', '\u{2014}', '\u{02DC}', '\u{2122}', '\u{0161}', '\u{203A}',
        '\u{0153}', '\u{009D}', '\u{017E}', '\u{0178}',
    ];
    match byte {
        0x80..=0x9F => HIGH[usize::from(byte - 0x80)],
        _ => char::from(byte),
    }
}

/// The header's first line decides: `;` unless it has more `,` (a `,`-separated header has
/// no `;`, while a `;` one may name nothing with a comma either).
pub(crate) fn detect_separator(text: &str) -> char {
    let header = text
        .lines()
        .find(|line| !line.trim().is_empty())
        .unwrap_or_default();
    if header.matches(',').count() > header.matches(';').count() {
        ','
    } else {
        ';'
    }
}

/// One record of the file: the line it starts on and its cells, trimmed.
#[derive(Debug)]
pub(crate) struct Record {
    pub(crate) line: u64,
    pub(crate) cells: Vec<String>,
    /// A quote was opened and never closed: the rest of the file was read into one cell.
    pub(crate) unterminated: bool,
}

impl Record {
    pub(crate) fn is_blank(&self) -> bool {
        self.cells.iter().all(|c| c.is_empty())
    }
}

/// Splits text into records, honouring double quotes as Excel writes them: a quoted cell may
/// hold the separator, `""` for a quote, and line breaks. Lines end in LF, CRLF or a lone CR
/// (older Excel for Mac).
pub(crate) fn records(text: &str, separator: char) -> Vec<Record> {
    let mut out = Vec::new();
    let mut line = 1u64;
    let mut record = Record {
        line,
        cells: Vec::new(),
        unterminated: false,
    };
    let mut cell = String::new();
    let mut in_quotes = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let line_break = c == '\n' || c == '\r';
        if line_break {
            if c == '\r' && chars.peek() == Some(&'\n') {
                chars.next();
            }
            line += 1;
        }
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    cell.push('"');
                }
                '"' => in_quotes = false,
                _ if line_break => cell.push('\n'),
                _ => cell.push(c),
            }
        } else if c == '"' {
            in_quotes = true;
        } else if c == separator {
            record.cells.push(cell.trim().to_string());
            cell.clear();
        } else if line_break {
            record.cells.push(cell.trim().to_string());
            cell.clear();
            let next = Record {
                line,
                cells: Vec::new(),
                unterminated: false,
            };
            out.push(std::mem::replace(&mut record, next));
        } else {
            cell.push(c);
        }
    }
    if !cell.is_empty() || !record.cells.is_empty() || in_quotes {
        record.cells.push(cell.trim().to_string());
        record.unterminated = in_quotes;
        out.push(record);
    }
    out
}

/// Which column each position holds (`None`: a nameless column, to be left empty).
type Columns = Vec<Option<Column>>;

fn read_header(header: &Record) -> Result<Columns, Vec<SheetProblem>> {
    let mut problems = Vec::new();
    let mut columns = Vec::new();
    let mut seen: HashMap<Column, usize> = HashMap::new();
    for (index, text) in header.cells.iter().enumerate() {
        if text.is_empty() {
            columns.push(None);
            continue;
        }
        match Column::named(text) {
            Some(column) => {
                if let Some(first) = seen.insert(column, index) {
                    problems.push(SheetProblem::at(
                        header.line,
                        column,
                        format!(
                            "column `{}` appears twice (cells {} and {}): keep one",
                            column.name(),
                            first + 1,
                            index + 1
                        ),
                        "duplicate_column",
                    ));
                }
                columns.push(Some(column));
            }
            None => {
                problems.push(SheetProblem {
                    line: header.line,
                    column: Some(text.clone()),
                    message: format!(
                        "unknown column `{text}`: the columns are {}",
                        Column::ALL.map(Column::name).join(", ")
                    ),
                    kind: "unknown_column",
                });
                columns.push(None);
            }
        }
    }
    for column in Column::ALL {
        if column.required() && !seen.contains_key(&column) {
            problems.push(SheetProblem::at(
                header.line,
                column,
                format!(
                    "the header has no `{}` column, which is required",
                    column.name()
                ),
                "missing_column",
            ));
        }
    }
    if problems.is_empty() {
        Ok(columns)
    } else {
        Err(problems)
    }
}

/// The cells of one record, by column.
struct Cells<'a> {
    record: &'a Record,
    columns: &'a Columns,
    problems: Vec<SheetProblem>,
}

impl<'a> Cells<'a> {
    /// The trimmed value of `column`; `None` when the column is absent or the cell blank.
    fn text(&self, column: Column) -> Option<&'a str> {
        let index = self.columns.iter().position(|c| *c == Some(column))?;
        self.record
            .cells
            .get(index)
            .map(String::as_str)
            .filter(|text| !text.is_empty())
    }

    fn owned(&self, column: Column) -> Option<String> {
        self.text(column).map(str::to_string)
    }

    fn refuse(&mut self, column: Column, message: String, kind: &'static str) {
        self.problems
            .push(SheetProblem::at(self.record.line, column, message, kind));
    }

    /// A required cell: blank is a problem.
    fn required<T>(
        &mut self,
        column: Column,
        read: impl Fn(&str) -> Result<T, String>,
        kind: &'static str,
    ) -> Option<T> {
        match self.text(column) {
            None => {
                self.refuse(
                    column,
                    format!("`{}` is required", column.name()),
                    "missing",
                );
                None
            }
            Some(text) => self.read(column, text, read, kind),
        }
    }

    /// An optional cell: blank is `Ok(None)`; a refused value is `Err(())` (reported).
    fn optional<T>(
        &mut self,
        column: Column,
        read: impl Fn(&str) -> Result<T, String>,
        kind: &'static str,
    ) -> Result<Option<T>, ()> {
        match self.text(column) {
            None => Ok(None),
            Some(text) => self.read(column, text, read, kind).map(Some).ok_or(()),
        }
    }

    fn read<T>(
        &mut self,
        column: Column,
        text: &str,
        read: impl Fn(&str) -> Result<T, String>,
        kind: &'static str,
    ) -> Option<T> {
        match read(text) {
            Ok(value) => Some(value),
            Err(message) => {
                self.refuse(column, message, kind);
                None
            }
        }
    }
}

fn read_row(record: &Record, columns: &Columns, today: NaiveDate) -> (SheetRow, Vec<SheetProblem>) {
    let mut cells = Cells {
        record,
        columns,
        problems: Vec::new(),
    };
    if record.unterminated {
        cells.problems.push(SheetProblem::on_line(
            record.line,
            "a quote (\") opened on this line is never closed: the rest of the file was read as one cell",
            "quote",
        ));
    }
    for (index, text) in record.cells.iter().enumerate() {
        if text.is_empty() {
            continue;
        }
        match columns.get(index) {
            Some(Some(_)) => {}
            Some(None) => cells.problems.push(SheetProblem::on_line(
                record.line,
                format!(
                    "cell {} holds `{text}` but its column has no name in the header",
                    index + 1
                ),
                "cells",
            )),
            None => {
                cells.problems.push(SheetProblem::on_line(
                    record.line,
                    format!(
                        "the line has {} cells, the header {}: `{text}` (cell {}) has no column — is a `{}` missing or one too many?",
                        record.cells.len(),
                        columns.len(),
                        index + 1,
                        separator_hint(record)
                    ),
                    "cells",
                ));
                break;
            }
        }
    }

    let holder = HolderCells {
        kind: cells.required(Column::HolderKind, code::<HolderType>, "enum"),
        first_name: cells.owned(Column::FirstName),
        last_name: cells.owned(Column::LastName),
        company_name: cells.owned(Column::CompanyName),
        fiscal_code: cells.owned(Column::FiscalCode),
        vat_number: cells.owned(Column::VatNumber),
        street: cells.owned(Column::Street),
        postcode: cells.owned(Column::Postcode),
        municipality: cells.owned(Column::Municipality),
        province: cells.owned(Column::Province),
        email: cells.owned(Column::Email),
        phone: cells.owned(Column::Phone),
        iban: cells.owned(Column::Iban),
        language: cells
            .optional(Column::Language, code::<Language>, "enum")
            .unwrap_or(None),
    };
    // Required by the import (the holders' rules say what else a kind needs): the fiscal code
    // finds the holder again on the next import; the IBAN is where the member is paid.
    for column in [Column::FiscalCode, Column::Iban] {
        if cells.text(column).is_none() {
            cells.refuse(
                column,
                format!("`{}` is required", column.name()),
                "missing",
            );
        }
    }

    let member = (|| {
        let pod = cells.required(
            Column::Pod,
            |text| Pod::parse(text).map_err(|e| e.to_string()),
            "pod",
        );
        let role = cells.required(Column::Role, code::<MemberRole>, "enum");
        let joined_at = cells.required(Column::JoinedAt, date, "date");
        let gse_notified_on = cells.optional(Column::GseNotifiedOn, date, "date");
        let available_power_kw = cells.optional(Column::AvailablePowerKw, decimal, "decimal");
        let net_metering = cells.optional(Column::NetMetering, boolean, "boolean");
        let status = cells.optional(Column::Status, code::<MemberStatus>, "enum");
        let withdrawn_at = cells.optional(Column::WithdrawnAt, date, "date");
        Some(MemberCells {
            pod: pod?,
            role: role?,
            joined_at: joined_at?,
            gse_notified_on: gse_notified_on.ok()?,
            available_power_kw: available_power_kw.ok()?,
            net_metering: net_metering.ok()?,
            status: status.ok()?,
            withdrawn_at: withdrawn_at.ok()?,
        })
    })();

    let consents = (|| {
        let version = |text: &str| {
            if text.chars().count() > MAX_VERSION_CHARS {
                Err(format!(
                    "a document version has at most {MAX_VERSION_CHARS} characters"
                ))
            } else {
                Ok(text.to_string())
            }
        };
        let privacy_notice = cells.required(Column::PrivacyNoticeVersion, version, "missing");
        let statute = cells.required(Column::StatuteVersion, version, "missing");
        let communications = cells.optional(Column::CommunicationsVersion, version, "missing");
        let given_on = cells.required(
            Column::ConsentsGivenOn,
            |text| {
                let day = date(text)?;
                if day > today {
                    Err(format!(
                        "`{text}` is in the future: a consent is recorded once it was given"
                    ))
                } else {
                    Ok(day)
                }
            },
            "date",
        );
        let method = cells.optional(Column::ConsentMethod, code::<ConsentMethod>, "enum");
        Some(ConsentCells {
            privacy_notice: privacy_notice?,
            statute: statute?,
            communications: communications.ok()?,
            given_on: given_on?,
            method: method.ok()?.unwrap_or(ConsentMethod::Import),
        })
    })();

    let row = SheetRow {
        line: record.line,
        holder,
        member,
        consents,
    };
    (row, cells.problems)
}

/// The other separator, named in a message about a line with too many cells.
fn separator_hint(record: &Record) -> &'static str {
    if record.cells.iter().any(|c| c.contains(';')) {
        ","
    } else {
        ";"
    }
}

/// One of a closed set of codes (`consumer`, `natural_person`…), in any case.
fn code<T>(text: &str) -> Result<T, String>
where
    T: Iterable + Copy + Codes,
{
    T::iter()
        .find(|value| value.code().eq_ignore_ascii_case(text))
        .ok_or_else(|| {
            format!(
                "`{text}` is not one of {}",
                T::iter()
                    .map(|v| format!("`{}`", v.code()))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

/// The wire codes of the enums a sheet uses.
trait Codes {
    fn code(self) -> &'static str;
}

macro_rules! codes {
    ($($name:ident),+) => {
        $(impl Codes for $name {
            fn code(self) -> &'static str {
                self.as_str()
            }
        })+
    };
}
codes!(
    HolderType,
    Language,
    MemberRole,
    MemberStatus,
    ConsentMethod
);

/// `dd/mm/yyyy` (as Italian Excel writes a date; one-digit days and months too, and a
/// midnight time after it, which Excel adds to date-time cells) or ISO `yyyy-mm-dd`.
pub(crate) fn date(text: &str) -> Result<NaiveDate, String> {
    let refuse =
        || format!("`{text}` is not a date: write dd/mm/yyyy (as Excel does) or yyyy-mm-dd");
    let day = text
        .strip_suffix(" 00:00:00")
        .or_else(|| text.strip_suffix(" 00:00"))
        .unwrap_or(text)
        .trim();
    if let Some((d, rest)) = day.split_once('/') {
        let (m, y) = rest.split_once('/').ok_or_else(refuse)?;
        let number = |part: &str, max_len: usize| {
            (!part.is_empty() && part.len() <= max_len && part.bytes().all(|b| b.is_ascii_digit()))
                .then(|| part.parse::<u32>().ok())
                .flatten()
        };
        let (Some(d), Some(m), Some(y)) = (number(d, 2), number(m, 2), number(y, 4)) else {
            return Err(refuse());
        };
        if y < 100 {
            return Err(format!(
                "`{text}` has a two-digit year: write it with four (dd/mm/yyyy)"
            ));
        }
        if y < 1000 {
            return Err(refuse());
        }
        return NaiveDate::from_ymd_opt(y as i32, m, d)
            .ok_or_else(|| format!("`{text}` is not a day of the calendar (dd/mm/yyyy)"));
    }
    let iso = day.split_once('T').map_or(day, |(date, _)| date);
    if iso.len() == 10 && iso.as_bytes()[4] == b'-' && iso.as_bytes()[7] == b'-' {
        return NaiveDate::parse_from_str(iso, "%Y-%m-%d")
            .map_err(|_| format!("`{text}` is not a day of the calendar (yyyy-mm-dd)"));
    }
    Err(refuse())
}

/// A plain decimal with `,` or `.` as the separator (Italian Excel writes `4,5`); no
/// thousands separators, signs or exponents, so a mistyped value cannot become another number.
fn decimal(text: &str) -> Result<Decimal, String> {
    decimal_of(text, "kW")
}

/// [`decimal`] for a quantity of `unit` (the message names it).
pub(crate) fn decimal_of(text: &str, unit: &str) -> Result<Decimal, String> {
    let separators = text.matches([',', '.']).count();
    let well_formed = separators <= 1
        && text.bytes().any(|b| b.is_ascii_digit())
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b',' || b == b'.');
    if !well_formed {
        return Err(format!(
            "`{text}` is not a number of {unit}: write it like 4,5 or 4.5, without thousands separators"
        ));
    }
    text.replace(',', ".")
        .parse::<Decimal>()
        .map_err(|_| format!("`{text}` is not a number of {unit}"))
}

/// Yes or no, as people write it in either language; blank is "not said".
fn boolean(text: &str) -> Result<bool, String> {
    match text.to_lowercase().as_str() {
        "true" | "yes" | "y" | "1" | "sì" | "si" | "s" | "x" => Ok(true),
        "false" | "no" | "n" | "0" => Ok(false),
        _ => Err(format!(
            "`{text}` is not yes or no: write true/false, yes/no, sì/no or 1/0"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    const TODAY: NaiveDate = NaiveDate::from_ymd_opt(2025, 6, 30).unwrap();

    const HEADER: &str = "pod;role;joined_at;holder_kind;first_name;last_name;fiscal_code;street;postcode;municipality;province;iban;privacy_notice_version;statute_version;consents_given_on";

    fn line(pod: &str) -> String {
        format!(
            "{pod};consumer;01/02/2024;natural_person;Maria;Rossi;RSSMRA85T10A562S;Via Roma 1;41042;Fiorano Modenese;MO;IT60X0542811101000000123456;2025-03;v2;15/01/2024"
        )
    }

    fn problems_at(sheet: &Sheet) -> Vec<(u64, Option<&str>)> {
        sheet
            .problems
            .iter()
            .map(|p| (p.line, p.column.as_deref()))
            .collect()
    }

    #[test]
    fn reads_an_italian_excel_file() {
        let text = format!(
            "\u{feff}{HEADER};available_power_kw;net_metering\r\n{};4,5;no\r\n{};;\r\n",
            line("IT001E00000001"),
            line("it001e00000002")
        );
        let sheet = parse(text.as_bytes(), TODAY);
        assert_eq!(sheet.problems, []);
        assert_eq!(sheet.separator, ';');
        assert_eq!(sheet.encoding, Encoding::Utf8);
        assert_eq!(sheet.rows.len(), 2);
        let first = &sheet.rows[0];
        assert_eq!(first.line, 2);
        let member = first.member.as_ref().unwrap();
        assert_eq!(member.pod.as_str(), "IT001E00000001");
        assert_eq!(member.role, MemberRole::Consumer);
        assert_eq!(
            member.joined_at,
            NaiveDate::from_ymd_opt(2024, 2, 1).unwrap()
        );
        assert_eq!(member.available_power_kw, Some(dec!(4.5)));
        assert_eq!(member.net_metering, Some(false));
        assert_eq!(first.holder.kind, Some(HolderType::NaturalPerson));
        assert_eq!(
            first.holder.municipality.as_deref(),
            Some("Fiorano Modenese")
        );
        let consents = first.consents.as_ref().unwrap();
        assert_eq!(consents.privacy_notice, "2025-03");
        assert_eq!(consents.statute, "v2");
        assert_eq!(consents.communications, None);
        assert_eq!(consents.method, ConsentMethod::Import);
        assert_eq!(
            consents.given_on,
            NaiveDate::from_ymd_opt(2024, 1, 15).unwrap()
        );
        // Lower case POD normalised; blank optional cells are absent.
        let second = sheet.rows[1].member.as_ref().unwrap();
        assert_eq!(second.pod.as_str(), "IT001E00000002");
        assert_eq!(second.available_power_kw, None);
        assert_eq!(second.net_metering, None);
    }

    #[test]
    fn decodes_windows_1252_when_the_bytes_are_not_utf8() {
        let text = format!("{HEADER}\r\n{}\r\n", line("IT001E00000001"))
            .replace("Fiorano Modenese", "Forlì")
            .replace("MO;", "FC;");
        let bytes: Vec<u8> = text
            .chars()
            .map(|c| if c == 'ì' { 0xEC } else { c as u8 })
            .collect();
        assert!(std::str::from_utf8(&bytes).is_err());
        let sheet = parse(&bytes, TODAY);
        assert_eq!(sheet.problems, []);
        assert_eq!(sheet.encoding, Encoding::Windows1252);
        assert_eq!(sheet.rows[0].holder.municipality.as_deref(), Some("Forlì"));
        assert_eq!(windows_1252(0x80), '€');
        assert_eq!(windows_1252(0x92), '\u{2019}');
        assert_eq!(windows_1252(0xE0), 'à');
    }

    #[test]
    fn reads_comma_separated_utf8_with_quotes_iso_dates_and_aliases() {
        let text = "Codice Fiscale,POD,Ruolo,Data adesione,Tipo titolare,Ragione sociale,Indirizzo,CAP,Comune,Provincia,IBAN,privacy_notice_version,statute_version,consents_given_on,available_power_kw\n\
                    01234567897,IT001E00000003,producer,2024-02-01,sme,\"Forno Rossi, S.r.l.\",\"Via Emilia 10\",41042,Fiorano,MO,IT60X0542811101000000123456,1,1,2024-01-31,\"12,5\"\n";
        let sheet = parse(text.as_bytes(), TODAY);
        assert_eq!(sheet.problems, []);
        assert_eq!(sheet.separator, ',');
        let row = &sheet.rows[0];
        assert_eq!(
            row.holder.company_name.as_deref(),
            Some("Forno Rossi, S.r.l.")
        );
        assert_eq!(row.holder.kind, Some(HolderType::Sme));
        let member = row.member.as_ref().unwrap();
        assert_eq!(member.role, MemberRole::Producer);
        assert_eq!(member.available_power_kw, Some(dec!(12.5)));
    }

    #[test]
    fn a_sep_line_a_quoted_line_break_and_blank_lines_keep_line_numbers() {
        let text = format!(
            "sep=;\n{HEADER}\n\n;;;;;\n{}\n",
            line("IT001E00000001").replace("Via Roma 1", "\"Via Roma 1\nscala B\"")
        ) + &format!(
            "{}\n",
            line("IT001E00000002").replace("01/02/2024", "31/02/2024")
        );
        let sheet = parse(text.as_bytes(), TODAY);
        assert_eq!(sheet.rows[0].line, 5);
        assert_eq!(
            sheet.rows[0].holder.street.as_deref(),
            Some("Via Roma 1\nscala B")
        );
        // The second member starts on line 7, after the quoted line break.
        assert_eq!(problems_at(&sheet), [(7, Some("joined_at"))]);
        assert!(
            sheet.problems[0]
                .message
                .contains("not a day of the calendar")
        );
    }

    #[test]
    fn old_mac_line_ends_and_a_sep_line_are_read() {
        let text = format!(
            "sep=,\r{}\r{}\r",
            HEADER.replace(';', ","),
            line("IT001E00000001").replace(';', ",")
        );
        let sheet = parse(text.as_bytes(), TODAY);
        assert_eq!(sheet.problems, []);
        assert_eq!(sheet.separator, ',');
        assert_eq!(sheet.rows.len(), 1);
        assert_eq!(sheet.rows[0].line, 3);
    }

    #[test]
    fn unknown_duplicate_and_missing_columns_are_named() {
        let header = HEADER.replace("iban", "Iban Bancario") + ";Pod";
        let sheet = parse(format!("{header}\n").as_bytes(), TODAY);
        assert!(sheet.rows.is_empty());
        let mut found = problems_at(&sheet);
        found.sort();
        assert_eq!(
            found,
            [
                (1, Some("Iban Bancario")),
                (1, Some("iban")),
                (1, Some("pod"))
            ]
        );
        let kinds: Vec<&str> = sheet.problems.iter().map(|p| p.kind).collect();
        assert!(kinds.contains(&"unknown_column"));
        assert!(kinds.contains(&"missing_column"));
        assert!(kinds.contains(&"duplicate_column"));
    }

    #[test]
    fn every_bad_cell_of_every_line_is_reported() {
        let text = format!(
            "{HEADER};net_metering;status;language;consent_method;gse_notified_on;available_power_kw\n{};forse;gone;de;fax;1/2/24;1.234,5\n{}\n",
            line("IT001E0000001").replace("consumer", "consumatore"),
            line("IT001E00000002")
                .replace("natural_person", "")
                .replace("15/01/2024", "01/07/2025")
                .replace(";2025-03;", ";;")
        );
        let sheet = parse(text.as_bytes(), TODAY);
        let mut found = problems_at(&sheet);
        found.sort();
        assert_eq!(
            found,
            [
                (2, Some("available_power_kw")),
                (2, Some("consent_method")),
                (2, Some("gse_notified_on")),
                (2, Some("language")),
                (2, Some("net_metering")),
                (2, Some("pod")),
                (2, Some("role")),
                (2, Some("status")),
                (3, Some("consents_given_on")),
                (3, Some("holder_kind")),
                (3, Some("privacy_notice_version")),
            ]
        );
        let message = |line: u64, column: &str| {
            sheet
                .problems
                .iter()
                .find(|p| p.line == line && p.column.as_deref() == Some(column))
                .unwrap()
                .message
                .clone()
        };
        assert!(message(2, "role").contains("`consumer`, `producer`, `prosumer`"));
        assert!(message(2, "gse_notified_on").contains("four"));
        assert!(message(2, "available_power_kw").contains("thousands"));
        assert!(message(3, "consents_given_on").contains("future"));
        assert!(message(3, "privacy_notice_version").contains("required"));
        // Rows with problems are still returned (their holder cells are checked elsewhere),
        // without the parts that could not be read.
        assert_eq!(sheet.rows.len(), 2);
        assert!(sheet.rows[0].member.is_none());
        assert!(sheet.rows[1].consents.is_none());
        assert_eq!(sheet.rows[1].holder.kind, None);
    }

    #[test]
    fn a_pod_listed_twice_names_both_lines() {
        let text = format!(
            "{HEADER}\n{}\n{}\n{}\n",
            line("IT001E00000001"),
            line("IT001E00000002"),
            line(" it001e00000001 ")
        );
        let sheet = parse(text.as_bytes(), TODAY);
        assert_eq!(problems_at(&sheet), [(4, Some("pod"))]);
        assert!(sheet.problems[0].message.contains("also on line 2"));
    }

    #[test]
    fn missing_required_values_and_stray_cells_are_refused() {
        let text = format!(
            "{HEADER}\n{}\n{};extra\n",
            line("IT001E00000001")
                .replace("RSSMRA85T10A562S", "")
                .replace("IT60X0542811101000000123456", ""),
            line("IT001E00000002")
        );
        let sheet = parse(text.as_bytes(), TODAY);
        assert_eq!(
            problems_at(&sheet),
            [(2, Some("fiscal_code")), (2, Some("iban")), (3, None)]
        );
        assert!(sheet.problems[2].message.contains("`extra`"));
    }

    #[test]
    fn empty_files_workbooks_and_unclosed_quotes_are_explained() {
        assert!(parse(b"", TODAY).problems[0].message.contains("empty"));
        assert!(
            parse(format!("{HEADER}\r\n").as_bytes(), TODAY).problems[0]
                .message
                .contains("no members")
        );
        assert!(
            parse(b"PK\x03\x04rest", TODAY).problems[0]
                .message
                .contains("workbook")
        );
        let text = format!(
            "{HEADER}\n{}\n",
            line("IT001E00000001").replace("Via Roma", "\"Via Roma")
        );
        let sheet = parse(text.as_bytes(), TODAY);
        assert!(
            sheet
                .problems
                .iter()
                .any(|p| p.kind == "quote" && p.line == 2)
        );
    }

    #[test]
    fn dates_decimals_and_yes_no() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(date("01/02/2024"), Ok(day(2024, 2, 1)));
        assert_eq!(date("1/2/2024"), Ok(day(2024, 2, 1)));
        assert_eq!(date("01/02/2024 00:00"), Ok(day(2024, 2, 1)));
        assert_eq!(date("2024-02-01"), Ok(day(2024, 2, 1)));
        assert!(date("2024-02-30").is_err());
        assert!(date("02/01/24").unwrap_err().contains("four"));
        assert!(date("1 febbraio 2024").is_err());
        assert!(date("2024/02/01").unwrap_err().contains("dd/mm/yyyy"));
        assert_eq!(decimal("4,5"), Ok(dec!(4.5)));
        assert_eq!(decimal("3"), Ok(dec!(3)));
        assert_eq!(decimal("0.125"), Ok(dec!(0.125)));
        for bad in ["1.234,5", "-3", "1e3", "4_5", ",", "4,5 kW"] {
            assert!(decimal(bad).is_err(), "{bad}");
        }
        assert_eq!(boolean("Sì"), Ok(true));
        assert_eq!(boolean("NO"), Ok(false));
        assert!(boolean("maybe").is_err());
    }
}
