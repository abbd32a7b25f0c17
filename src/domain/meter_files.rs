//! Meter-data CSV files → quarter-hour / hourly readings, one line at a time.
//!
//! Files can hold millions of lines, so the parser is fed line by line and keeps only what a
//! layout forces it to remember: the e-distribuzione autumn day waiting for its duplicate row,
//! the (POD, direction, local time) keys seen inside an autumn fall-back hour, and the set of
//! days already seen in a one-row-per-day export.
//!
//! Two layouts are understood (see `GSE_RULES.md` §4):
//! - **long**: one reading per row, with a header naming the columns;
//! - **e-distribuzione "Curve di carico"**: one row per day, `Giorno` then 96 quarter-hours in
//!   local Italian time, POD and direction taken from outside the rows (options, file name).
//!
//! Energies are exact: kWh with at most 3 decimals become integer Wh; extra precision is an
//! error, never rounded. Times are stored as UTC unix seconds of the interval START; local
//! Italian times are converted through the IANA `Europe/Rome` zone, so the 23- and 25-hour days
//! come out right.
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

use chrono::{Datelike, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Timelike};
use chrono_tz::Europe::Rome;
use rust_decimal::Decimal;

use crate::domain::pod::Pod;
use crate::domain::quantities::{KWH_MILLI, QuantityError, to_fixed};

/// Which way the energy flows through the meter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Into the grid (register 2.8.0, app magnitude A2, "immissione").
    Injection,
    /// From the grid (register 1.8.0, app magnitude A1, "prelievo").
    Withdrawal,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Injection => "injection",
            Direction::Withdrawal => "withdrawal",
        }
    }
}

/// One metered interval.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reading {
    /// 1-based line of the file the value came from (for the autumn duplicate-day layout, the
    /// second-occurrence hour comes from the duplicate row).
    pub line: u64,
    /// Normalised POD (upper case, no spaces).
    pub pod: String,
    /// Start of the interval, UTC unix seconds.
    pub interval_start: i64,
    /// 15 or 60.
    pub interval_minutes: u8,
    pub direction: Direction,
    pub wh: i64,
}

/// A problem with one line; the parser carries on with the next one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineError {
    /// 1-based, the header being line 1.
    pub line: u64,
    pub message: String,
}

impl LineError {
    fn new(line: u64, message: impl Into<String>) -> LineError {
        LineError {
            line,
            message: message.into(),
        }
    }
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for LineError {}

/// The file layouts we can read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One reading per row: timestamp, POD, direction, kWh (+ optional interval).
    Long,
    /// e-distribuzione portal "Curve di carico" export: one row per day, 96 quarter-hours.
    EDistribuzione,
    /// Distributors' hourly curves, one row per POD and day: `POD;ANNO;MESE;GIORNO;KWH_01;…;
    /// KWH_24;KWH_25;KWH_MESE;DATA_INIZIO_VALIDITA;DATA_FINE_VALIDITA`.
    HourlyWide,
    /// The distributor → seller XML measure flow: `DatiPod` elements with `Pod`, `MeseAnno` and
    /// a `Curva` of `Ea` elements, one per day (and DST part), quarter-hour values as attributes.
    DistributorXml,
}

/// What the caller knows about the file besides its content.
#[derive(Clone, Debug, Default)]
pub struct ParseOptions {
    /// Force a layout instead of detecting it from the header.
    pub format: Option<Format>,
    /// POD for layouts whose rows do not carry one (e-distribuzione). Ignored by the long format,
    /// whose rows name their POD.
    pub pod: Option<String>,
    /// Direction for layouts whose rows do not carry one (e-distribuzione). Ignored by the long
    /// format.
    pub direction: Option<Direction>,
    /// Default interval of long-format rows without an `interval_minutes` column (15 if unset).
    /// e-distribuzione exports are always quarter-hourly, so any other value is refused there.
    pub interval_minutes: Option<u8>,
    /// Original upload name: e-distribuzione names the POD and quantity only there.
    pub file_name: Option<String>,
    /// The most lines the file may have (`UPLOAD_MAX_LINES` over HTTP; none from the CLI).
    pub max_lines: Option<u64>,
}

/// Streaming parser for one file. Create it with the header line, then feed every following
/// line to [`MeterFileParser::parse_line`] and call [`MeterFileParser::finish`] at the end.
#[derive(Debug)]
pub struct MeterFileParser {
    separator: char,
    /// `,` as decimal separator is only unambiguous when it is not the cell separator.
    decimal_comma: bool,
    layout: Layout,
}

#[derive(Debug)]
enum Layout {
    Long(LongLayout),
    EDistribuzione(EdisLayout),
    HourlyWide(HourlyLayout),
    DistributorXml(XmlLayout),
}

impl MeterFileParser {
    /// Reads the header (line 1), detects or checks the format, and returns the parser.
    pub fn new(header: &str, options: ParseOptions) -> Result<MeterFileParser, LineError> {
        let header = strip_line_end(header);
        let header = header.strip_prefix('\u{feff}').unwrap_or(header);
        let separator = detect_separator(header);
        let cells = split_cells(header, separator);
        let first_is_giorno = cells
            .first()
            .is_some_and(|c| c.eq_ignore_ascii_case("giorno"));
        let format = match options.format {
            Some(format) => format,
            None if first_is_giorno => Format::EDistribuzione,
            None if HourlyColumns::recognised(&cells) => Format::HourlyWide,
            None if header.trim_start().starts_with('<') => Format::DistributorXml,
            None => match LongColumns::from_header(&cells) {
                Ok(_) => Format::Long,
                Err(detail) => {
                    return Err(LineError::new(
                        1,
                        format!("unrecognised header ({detail}); {ACCEPTED_LAYOUTS}"),
                    ));
                }
            },
        };
        let layout = match format {
            Format::Long => {
                let default_interval = match options.interval_minutes {
                    None => 15,
                    Some(minutes) => check_interval(minutes).map_err(|m| LineError::new(1, m))?,
                };
                let columns = LongColumns::from_header(&cells).map_err(|m| LineError::new(1, m))?;
                Layout::Long(LongLayout {
                    columns,
                    column_count: cells.len() - trailing_empty(&cells),
                    default_interval,
                    ambiguous_seen: HashMap::new(),
                })
            }
            Format::EDistribuzione => {
                Layout::EDistribuzione(EdisLayout::new(header, &cells, &options)?)
            }
            Format::HourlyWide => Layout::HourlyWide(HourlyLayout::new(&cells, &options)?),
            Format::DistributorXml => Layout::DistributorXml(XmlLayout::new(header, &options)?),
        };
        Ok(MeterFileParser {
            separator,
            decimal_comma: separator != ',',
            layout,
        })
    }

    pub fn format(&self) -> Format {
        match self.layout {
            Layout::Long(_) => Format::Long,
            Layout::EDistribuzione(_) => Format::EDistribuzione,
            Layout::HourlyWide(_) => Format::HourlyWide,
            Layout::DistributorXml(_) => Format::DistributorXml,
        }
    }

    /// One data line (`line` is its 1-based number); appends 0..n readings to `out`.
    ///
    /// Blank lines, and lines made only of separators (spreadsheet exports pad with them), are
    /// skipped without error. A line with an error adds no reading of its own; readings held back
    /// from an earlier line are still appended.
    pub fn parse_line(
        &mut self,
        line: u64,
        text: &str,
        out: &mut Vec<Reading>,
    ) -> Result<(), LineError> {
        let text = strip_line_end(text);
        if let Layout::DistributorXml(xml) = &mut self.layout {
            xml.push_line(line, text);
            return Ok(());
        }
        if text.trim().is_empty() {
            return Ok(());
        }
        let cells = split_cells(text, self.separator);
        if cells.iter().all(|c| c.is_empty()) {
            return Ok(());
        }
        let decimal_comma = self.decimal_comma;
        match &mut self.layout {
            Layout::Long(long) => long.parse(line, &cells, decimal_comma, out),
            Layout::EDistribuzione(edis) => edis.parse(line, &cells, decimal_comma, out),
            Layout::HourlyWide(hourly) => hourly.parse(line, &cells, decimal_comma),
            Layout::DistributorXml(_) => Ok(()),
        }
    }

    /// What the file says about itself that its rows contradict, for the import's warnings:
    /// the rows' own dates are what is stored, so a mismatch is said, not refused. Today: an
    /// e-distribuzione export named for one month (`ExportData_marzo…`) holding days of others.
    pub fn warnings(&self) -> Vec<String> {
        let Layout::EDistribuzione(edis) = &self.layout else {
            return Vec::new();
        };
        let Some(named) = edis.named_month else {
            return Vec::new();
        };
        let mut others: Vec<NaiveDate> = edis
            .days_seen
            .keys()
            .filter(|day| day.month() != named)
            .copied()
            .collect();
        if others.is_empty() {
            return Vec::new();
        }
        others.sort();
        let name = super::month::ITALIAN_MONTHS[named as usize - 1];
        vec![format!(
            "the file is named for {name}, but {} of its days are of another month (from {} to {}): check it is the export you meant",
            others.len(),
            format_day(others[0]),
            format_day(others[others.len() - 1])
        )]
    }

    /// End of file: flushes anything held back (e.g. a DST day waiting for its duplicate row).
    pub fn finish(&mut self, out: &mut Vec<Reading>) -> Result<(), LineError> {
        match &mut self.layout {
            Layout::EDistribuzione(edis) => edis.flush(out),
            Layout::HourlyWide(hourly) => return hourly.finish(out),
            Layout::DistributorXml(xml) => return xml.finish(out),
            Layout::Long(_) => {}
        }
        Ok(())
    }
}

const ACCEPTED_LAYOUTS: &str = "accepted layouts: (1) long format, \
     separated by ';' or ',', with columns timestamp (or data_ora/datetime), pod, direction \
     (or tipo), kwh (or energia_kwh/energy_kwh) and optionally interval_minutes; (2) \
     e-distribuzione 'Curve di carico' export, ';' separated, first column 'Giorno' followed by \
     96 quarter-hour columns; (3) hourly curves, one row per POD and day, with columns POD, ANNO, \
     MESE, GIORNO, KWH_01 … KWH_25, KWH_MESE and DATA_INIZIO_VALIDITA; (4) the distributors' XML \
     measure flow (DatiPod with Pod, MeseAnno and a Curva of Ea elements)";

/// Recognises the direction words used by our own templates, GSE/DSO files (IMMISSIONE /
/// PRELIEVO), the e-distribuzione portal (immessa / prelevata) and its app API (A2 / A1).
pub fn parse_direction(text: &str) -> Option<Direction> {
    let word = text.trim().to_ascii_lowercase();
    match word.as_str() {
        "injection" | "immissione" | "immessa" | "a2" => Some(Direction::Injection),
        "withdrawal" | "prelievo" | "prelevata" | "a1" => Some(Direction::Withdrawal),
        _ => None,
    }
}

/// Local Italian time (Europe/Rome, via chrono-tz) to UTC unix seconds; `fold` picks the second occurrence of an ambiguous autumn hour; None for a non-existent spring time.
///
/// `fold` is ignored when the local time is not ambiguous, so callers may pass it blindly.
pub fn rome_to_utc(date: NaiveDate, hour: u32, minute: u32, fold: bool) -> Option<i64> {
    let local = date.and_hms_opt(hour, minute, 0)?;
    match rome_local(&local) {
        LocalTime::Single(t) => Some(t),
        LocalTime::Ambiguous { first, second } => Some(if fold { second } else { first }),
        LocalTime::Missing => None,
    }
}

/// A local Italian wall-clock time resolved to UTC unix seconds.
enum LocalTime {
    Single(i64),
    /// Inside the autumn fall-back hour: CEST (+02:00) first, then CET (+01:00).
    Ambiguous {
        first: i64,
        second: i64,
    },
    /// Inside the spring gap (02:00–02:59 on the last Sunday of March).
    Missing,
}

fn rome_local(local: &NaiveDateTime) -> LocalTime {
    match Rome.from_local_datetime(local) {
        LocalResult::Single(t) => LocalTime::Single(t.timestamp()),
        LocalResult::Ambiguous(a, b) => {
            // chrono documents (earliest, latest); do not depend on it.
            let (a, b) = (a.timestamp(), b.timestamp());
            LocalTime::Ambiguous {
                first: a.min(b),
                second: a.max(b),
            }
        }
        LocalResult::None => LocalTime::Missing,
    }
}

// ---------------------------------------------------------------------------------------------
// Shared cell handling
// ---------------------------------------------------------------------------------------------

/// What a file's first line looked like, for the refusal of a file no layout recognises: the
/// line (its first 120 characters) and the separator it seems to use.
pub fn describe_header(header: &str) -> String {
    let header = strip_line_end(header);
    let header = header.strip_prefix('\u{feff}').unwrap_or(header);
    let shown: String = header.chars().take(120).collect();
    let more = if header.chars().count() > 120 {
        "…"
    } else {
        ""
    };
    let separator = match detect_separator(header) {
        ';' if header.contains(';') => "separated by ';'",
        ',' => "separated by ','",
        _ => "with neither ';' nor ','",
    };
    format!("the first line reads \"{shown}{more}\" ({separator})")
}

/// Callers may pass lines straight from a reader that keeps `\r\n`.
fn strip_line_end(text: &str) -> &str {
    text.trim_end_matches(['\r', '\n'])
}

/// The header decides: whichever of `;` and `,` it uses more (ties go to `;`, the Italian
/// spreadsheet default, because a `,`-separated header rarely contains `;`).
pub(crate) fn detect_separator(header: &str) -> char {
    let semicolons = header.matches(';').count();
    let commas = header.matches(',').count();
    if commas > semicolons { ',' } else { ';' }
}

/// Splits a CSV line, honouring double quotes (Excel quotes cells that contain the separator)
/// and trimming spaces. Lines without quotes, the usual case, are split without copying.
pub(crate) fn split_cells(text: &str, separator: char) -> Vec<Cow<'_, str>> {
    if !text.contains('"') {
        return text
            .split(separator)
            .map(|c| Cow::Borrowed(c.trim()))
            .collect();
    }
    let mut cells = Vec::new();
    let mut current = String::new();
    let mut in_quotes = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_quotes {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    current.push('"');
                    chars.next();
                } else {
                    in_quotes = false;
                }
            } else {
                current.push(c);
            }
        } else if c == '"' {
            in_quotes = true;
        } else if c == separator {
            cells.push(Cow::Owned(current.trim().to_owned()));
            current.clear();
        } else {
            current.push(c);
        }
    }
    cells.push(Cow::Owned(current.trim().to_owned()));
    cells
}

/// A kWh cell to exact Wh. Only plain decimals are accepted (no exponent, no thousands
/// separators, no `_` that `rust_decimal` would otherwise skip), so a mistyped value cannot
/// silently become another number.
fn parse_kwh(cell: &str, decimal_comma: bool) -> Result<i64, String> {
    let text = cell.trim();
    if text.is_empty() {
        return Err("kWh value is empty".to_owned());
    }
    let normalised: Cow<'_, str> = if decimal_comma && text.contains(',') {
        if text.contains('.') {
            return Err(format!(
                "invalid kWh value '{text}': use either ',' or '.' as decimal separator, without thousands separators"
            ));
        }
        Cow::Owned(text.replace(',', "."))
    } else {
        Cow::Borrowed(text)
    };
    let unsigned = normalised
        .strip_prefix('-')
        .or_else(|| normalised.strip_prefix('+'))
        .unwrap_or(&normalised);
    let well_formed = unsigned.chars().any(|c| c.is_ascii_digit())
        && unsigned.chars().all(|c| c.is_ascii_digit() || c == '.')
        && unsigned.matches('.').count() <= 1;
    if !well_formed {
        return Err(format!("invalid kWh value '{text}'"));
    }
    let value =
        Decimal::from_str_exact(&normalised).map_err(|_| format!("invalid kWh value '{text}'"))?;
    if value.is_sign_negative() && !value.is_zero() {
        return Err(format!("kWh value '{text}' must not be negative"));
    }
    match to_fixed(value, KWH_MILLI) {
        Ok(wh) => Ok(wh.abs()),
        Err(QuantityError::TooPrecise { .. }) => Err(format!(
            "kWh value '{text}' has too many decimals: at most 3 decimal places (Wh) are allowed"
        )),
        Err(QuantityError::OutOfRange) => Err(format!("kWh value '{text}' is out of range")),
    }
}

fn check_interval(minutes: u8) -> Result<u8, String> {
    match minutes {
        15 | 60 => Ok(minutes),
        other => Err(format!("interval_minutes must be 15 or 60, not {other}")),
    }
}

fn parse_pod(cell: &str) -> Result<String, String> {
    Pod::parse(cell)
        .map(Pod::into_string)
        .map_err(|e| format!("invalid POD '{cell}': {e}"))
}

/// `dd/mm/yyyy` as in Italian exports; `yyyy-mm-dd` as well since it costs nothing.
fn parse_day(cell: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(cell, "%d/%m/%Y")
        .or_else(|_| NaiveDate::parse_from_str(cell, "%Y-%m-%d"))
        .ok()
}

fn format_day(date: NaiveDate) -> String {
    date.format("%d/%m/%Y").to_string()
}

// ---------------------------------------------------------------------------------------------
// Long format
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
struct LongColumns {
    timestamp: usize,
    pod: usize,
    direction: usize,
    kwh: usize,
    interval: Option<usize>,
}

impl LongColumns {
    /// Columns are found by name, so their order is free; unknown columns (notes, units…) are
    /// ignored rather than refused, since exporters like to add them.
    fn from_header(cells: &[Cow<'_, str>]) -> Result<LongColumns, String> {
        const NAMES: [&str; 5] = ["timestamp", "pod", "direction", "kwh", "interval_minutes"];
        let mut found: [Option<usize>; 5] = [None; 5];
        for (index, cell) in cells.iter().enumerate() {
            let role = match cell.to_ascii_lowercase().as_str() {
                "timestamp" | "data_ora" | "datetime" => 0,
                "pod" => 1,
                "direction" | "tipo" => 2,
                "kwh" | "energia_kwh" | "energy_kwh" => 3,
                "interval_minutes" => 4,
                _ => continue,
            };
            if found[role].is_some() {
                return Err(format!("the header names the {} column twice", NAMES[role]));
            }
            found[role] = Some(index);
        }
        let missing: Vec<&str> = (0..4)
            .filter(|&role| found[role].is_none())
            .map(|role| NAMES[role])
            .collect();
        match found {
            [
                Some(timestamp),
                Some(pod),
                Some(direction),
                Some(kwh),
                interval,
            ] => Ok(LongColumns {
                timestamp,
                pod,
                direction,
                kwh,
                interval,
            }),
            _ => Err(format!(
                "long-format header lacks the column(s) {} (accepted names: timestamp/data_ora/datetime, pod, direction/tipo, kwh/energia_kwh/energy_kwh, optional interval_minutes)",
                missing.join(", ")
            )),
        }
    }
}

/// (POD, direction, interval, local time) of a row inside an autumn fall-back hour.
type AmbiguousKey = (String, Direction, u8, NaiveDateTime);

#[derive(Debug)]
struct LongLayout {
    columns: LongColumns,
    column_count: usize,
    default_interval: u8,
    /// How many times each key inside an ambiguous hour has been seen. Only those keys are
    /// kept: a handful per POD and direction for each autumn day in the file, however long.
    ambiguous_seen: HashMap<AmbiguousKey, u8>,
}

/// A timestamp cell: either a fixed instant or an Italian wall-clock time still to resolve.
/// A parsed timestamp: an instant (it had an offset) or Italian wall-clock time.
pub(crate) enum Stamp {
    Instant(NaiveDateTime),
    Local(NaiveDateTime),
}

impl LongLayout {
    fn parse(
        &mut self,
        line: u64,
        cells: &[Cow<'_, str>],
        decimal_comma: bool,
        out: &mut Vec<Reading>,
    ) -> Result<(), LineError> {
        let err = |message: String| LineError::new(line, message);
        // Extra cells are tolerated only when empty: a trailing separator loses no data.
        let fits = cells.len() >= self.column_count
            && cells[self.column_count..].iter().all(|c| c.is_empty());
        if !fits {
            return Err(err(format!(
                "expected {} columns, found {}",
                self.column_count,
                cells.len()
            )));
        }
        let columns = self.columns;
        let stamp = parse_timestamp(&cells[columns.timestamp]).map_err(err)?;
        let pod = parse_pod(&cells[columns.pod]).map_err(err)?;
        let direction_cell = &cells[columns.direction];
        let direction = parse_direction(direction_cell).ok_or_else(|| {
            err(format!(
                "unknown direction '{direction_cell}' (expected injection/withdrawal, IMMISSIONE/PRELIEVO, immessa/prelevata or A2/A1)"
            ))
        })?;
        let interval_minutes = match columns.interval.map(|i| &cells[i]) {
            None => self.default_interval,
            Some(cell) if cell.is_empty() => self.default_interval,
            Some(cell) => {
                let minutes = cell
                    .parse::<u8>()
                    .map_err(|_| err(format!("interval_minutes must be 15 or 60, not '{cell}'")))?;
                check_interval(minutes).map_err(err)?
            }
        };
        // The local time is resolved (and its occurrence counted) before the kWh is checked: a
        // row is the first or second occurrence by its position, even if its value is bad.
        let (naive, utc) = match stamp {
            Stamp::Instant(utc) => (utc, utc.and_utc().timestamp()),
            Stamp::Local(local) => (
                local,
                self.resolve_local(&pod, direction, interval_minutes, local)
                    .map_err(err)?,
            ),
        };
        let wh = parse_kwh(&cells[columns.kwh], decimal_comma).map_err(err)?;
        let step = i64::from(interval_minutes) * 60;
        if naive.second() != 0 || naive.nanosecond() != 0 || utc.rem_euclid(step) != 0 {
            return Err(err(format!(
                "timestamp '{}' is not aligned to a {interval_minutes}-minute interval start",
                cells[columns.timestamp]
            )));
        }
        out.push(Reading {
            line,
            pod,
            interval_start: utc,
            interval_minutes,
            direction,
            wh,
        });
        Ok(())
    }

    /// The first row for a (POD, direction, interval, local time) inside the autumn repeated
    /// hour is the CEST occurrence, the second the CET one: meters and exports list the hour
    /// twice in time order, and that is the only information the file gives.
    fn resolve_local(
        &mut self,
        pod: &str,
        direction: Direction,
        interval_minutes: u8,
        local: NaiveDateTime,
    ) -> Result<i64, String> {
        match rome_local(&local) {
            LocalTime::Single(t) => Ok(t),
            LocalTime::Missing => Err(format!(
                "local time {} does not exist in Italy (clocks jump from 02:00 to 03:00 when summer time starts)",
                local.format("%d/%m/%Y %H:%M")
            )),
            LocalTime::Ambiguous { first, second } => {
                let key = (pod.to_owned(), direction, interval_minutes, local);
                let seen = self.ambiguous_seen.entry(key).or_insert(0);
                *seen = seen.saturating_add(1);
                match *seen {
                    1 => Ok(first),
                    2 => Ok(second),
                    _ => Err(format!(
                        "local time {} appears more than twice for {pod} {}: the autumn hour repeats only once",
                        local.format("%d/%m/%Y %H:%M"),
                        direction.as_str()
                    )),
                }
            }
        }
    }
}

const TIMESTAMP_HELP: &str = "expected ISO 8601 with offset (2025-03-01T00:15:00+01:00 or …Z) \
     or local Italian time (dd/mm/yyyy HH:MM or yyyy-mm-dd HH:MM)";

/// An explicit offset (`Z`, `±HH:MM`, `±HHMM`) makes the time an instant; without one it is
/// Italian wall-clock time.
pub(crate) fn parse_timestamp(cell: &str) -> Result<Stamp, String> {
    let text = cell.trim();
    let (body, offset_seconds) = split_offset(text);
    let naive =
        parse_naive(body).ok_or_else(|| format!("invalid timestamp '{text}': {TIMESTAMP_HELP}"))?;
    match offset_seconds {
        None => Ok(Stamp::Local(naive)),
        Some(offset) => naive
            .checked_sub_signed(chrono::TimeDelta::seconds(offset))
            .map(Stamp::Instant)
            .ok_or_else(|| format!("invalid timestamp '{text}': out of range")),
    }
}

fn split_offset(text: &str) -> (&str, Option<i64>) {
    if let Some(body) = text.strip_suffix(['Z', 'z']) {
        return (body, Some(0));
    }
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        if part.bytes().all(|b| b.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    // ±HH:MM
    if bytes.len() > 6 && bytes[bytes.len() - 3] == b':' {
        let start = bytes.len() - 6;
        if let (Some(sign), Some(h), Some(m)) = (
            sign_of(bytes[start]),
            digits(start + 1..start + 3),
            digits(start + 4..start + 6),
        ) {
            // A time such as "10:15" ends like an offset only if a sign precedes it.
            return (&text[..start], Some(sign * (h * 3600 + m * 60)));
        }
    }
    // ±HHMM
    if bytes.len() > 5 {
        let start = bytes.len() - 5;
        if let (Some(sign), Some(h), Some(m)) = (
            sign_of(bytes[start]),
            digits(start + 1..start + 3),
            digits(start + 3..start + 5),
        ) {
            return (&text[..start], Some(sign * (h * 3600 + m * 60)));
        }
    }
    (text, None)
}

fn sign_of(byte: u8) -> Option<i64> {
    match byte {
        b'+' => Some(1),
        b'-' => Some(-1),
        _ => None,
    }
}

fn parse_naive(text: &str) -> Option<NaiveDateTime> {
    const FORMATS: [&str; 6] = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%d/%m/%Y %H:%M:%S",
        "%d/%m/%Y %H:%M",
    ];
    FORMATS
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
}

// ---------------------------------------------------------------------------------------------
// e-distribuzione "Curve di carico"
// ---------------------------------------------------------------------------------------------

const QUARTERS: usize = 96;
/// Local quarter-hours 02:00–02:45: the ones that vanish in spring and repeat in autumn under
/// the EU rule (clocks change at 01:00 UTC), in force for any date a meter file can cover. Days
/// are still classified through the time zone, so a date under another rule fails loudly
/// ("does not exist") instead of being shifted.
const DST_QUARTERS: std::ops::Range<usize> = 8..12;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DayKind {
    Normal,
    /// 23 hours: 02:00–02:59 local does not exist.
    SpringForward,
    /// 25 hours: 02:00–02:59 local happens twice.
    FallBack,
}

fn day_kind(date: NaiveDate) -> DayKind {
    match (
        rome_to_utc(date, 2, 0, false),
        rome_to_utc(date, 2, 0, true),
    ) {
        (None, _) => DayKind::SpringForward,
        (Some(first), Some(second)) if first != second => DayKind::FallBack,
        _ => DayKind::Normal,
    }
}

fn quarter_label(q: usize) -> String {
    format!("{:02}:{:02}", q / 4, (q % 4) * 15)
}

/// A 96-value autumn DST day whose duplicate row (carrying the CET repetition of 02:00–02:59)
/// may be the next line.
#[derive(Debug)]
struct PendingDay {
    line: u64,
    date: NaiveDate,
    values: Vec<Option<i64>>,
}

#[derive(Debug)]
struct DaySeen {
    line: u64,
    /// Whether that row parsed; a duplicate of a bad autumn row cannot be merged.
    valid: bool,
}

#[derive(Debug)]
struct EdisLayout {
    pod: String,
    direction: Direction,
    /// One entry per row (= per day), so tiny next to the file itself; it catches a day
    /// exported twice, which would otherwise double its energy.
    days_seen: HashMap<NaiveDate, DaySeen>,
    pending: Option<PendingDay>,
    /// The month the portal named the file for (`ExportData_marzo…`), if it did.
    named_month: Option<u32>,
}

/// The month an e-distribuzione export's name gives (`ExportData_settembre.csv` → 9): a word
/// of the name between `_`, `-`, `.` or spaces, in any case.
fn month_in_name(file_name: &str) -> Option<u32> {
    file_name
        .split(['_', '-', '.', ' '])
        .find_map(|word| {
            super::month::ITALIAN_MONTHS
                .iter()
                .position(|m| m.eq_ignore_ascii_case(word))
        })
        .map(|index| index as u32 + 1)
}

impl EdisLayout {
    fn new(
        header: &str,
        cells: &[Cow<'_, str>],
        options: &ParseOptions,
    ) -> Result<EdisLayout, LineError> {
        let err = |message: String| LineError::new(1, message);
        if !cells
            .first()
            .is_some_and(|c| c.eq_ignore_ascii_case("giorno"))
        {
            return Err(err(
                "an e-distribuzione export starts with a 'Giorno' column".to_owned(),
            ));
        }
        let columns = cells.len().saturating_sub(1 + trailing_empty(cells));
        if columns != QUARTERS {
            return Err(err(format!(
                "an e-distribuzione export has 'Giorno' followed by 96 quarter-hour columns, this header has {columns}"
            )));
        }
        if let Some(minutes) = options.interval_minutes
            && minutes != 15
        {
            return Err(err(format!(
                "e-distribuzione exports are quarter-hourly; interval_minutes {minutes} does not apply"
            )));
        }
        let file_name = options.file_name.as_deref().unwrap_or("");
        let pod = match &options.pod {
            Some(pod) => Some(parse_pod(pod).map_err(err)?),
            None => match pod_in_text(file_name).map_err(|m| err(format!("file name: {m}")))? {
                Some(pod) => Some(pod),
                None => pod_in_text(header).map_err(|m| err(format!("header: {m}")))?,
            },
        };
        let direction = match options.direction {
            Some(direction) => Some(direction),
            None => {
                match direction_in_text(file_name).map_err(|m| err(format!("file name: {m}")))? {
                    Some(direction) => Some(direction),
                    None => direction_in_text(header).map_err(|m| err(format!("header: {m}")))?,
                }
            }
        };
        match (pod, direction) {
            (Some(pod), Some(direction)) => Ok(EdisLayout {
                pod,
                direction,
                days_seen: HashMap::new(),
                pending: None,
                named_month: month_in_name(file_name),
            }),
            (pod, direction) => {
                let missing = match (pod.is_none(), direction.is_none()) {
                    (true, true) => "POD and direction",
                    (true, false) => "POD",
                    _ => "direction",
                };
                Err(err(format!(
                    "{missing} missing: an e-distribuzione export does not say which POD and quantity it holds; \
                     pass them explicitly or keep the original file name (e.g. ExportData_marzo_IT001E00112233_immessa.csv)"
                )))
            }
        }
    }

    fn parse(
        &mut self,
        line: u64,
        cells: &[Cow<'_, str>],
        decimal_comma: bool,
        out: &mut Vec<Reading>,
    ) -> Result<(), LineError> {
        let err = |message: String| LineError::new(line, message);
        let day_cell = cells.first().map(|c| c.as_ref()).unwrap_or("");
        let Some(date) = parse_day(day_cell) else {
            self.flush(out);
            return Err(err(format!(
                "invalid day '{day_cell}': expected dd/mm/yyyy"
            )));
        };
        if self.pending.as_ref().is_some_and(|p| p.date == date) {
            return self.merge_duplicate(line, date, cells, decimal_comma, out);
        }
        self.flush(out);
        if let Some(seen) = self.days_seen.get(&date) {
            let message = if !seen.valid && day_kind(date) == DayKind::FallBack {
                format!(
                    "duplicate day {}: its first row (line {}) is invalid, so this repetition cannot be merged",
                    format_day(date),
                    seen.line
                )
            } else {
                format!(
                    "duplicate day {} (already at line {})",
                    format_day(date),
                    seen.line
                )
            };
            return Err(err(message));
        }
        let result = self.parse_day_row(line, date, cells, decimal_comma, out);
        self.days_seen.insert(
            date,
            DaySeen {
                line,
                valid: result.is_ok(),
            },
        );
        result.map_err(err)
    }

    fn parse_day_row(
        &mut self,
        line: u64,
        date: NaiveDate,
        cells: &[Cow<'_, str>],
        decimal_comma: bool,
        out: &mut Vec<Reading>,
    ) -> Result<(), String> {
        let kind = day_kind(date);
        let allowed: &[usize] = match kind {
            DayKind::Normal => &[96],
            DayKind::SpringForward => &[96, 92],
            DayKind::FallBack => &[96, 100],
        };
        let values = value_cells(cells, allowed).ok_or_else(|| {
            format!(
                "{} needs {} quarter-hour values, found {}",
                format_day(date),
                match kind {
                    DayKind::Normal => "96",
                    DayKind::SpringForward => "96 (with 02:00–02:45 empty) or 92 (the last Sunday of March has 23 hours)",
                    DayKind::FallBack => "96 (plus a duplicate row for the repeated hour) or 100 (the last Sunday of October has 25 hours)",
                },
                cells.len().saturating_sub(1)
            )
        })?;
        // (local quarter, second occurrence?) for each value column.
        let slots: Vec<(usize, bool)> = match (kind, values.len()) {
            (DayKind::SpringForward, 92) => (0..92)
                .map(|k| (if k < DST_QUARTERS.start { k } else { k + 4 }, false))
                .collect(),
            (DayKind::FallBack, 100) => (0..100)
                .map(|k| match k {
                    k if k < DST_QUARTERS.end => (k, false),
                    k if k < DST_QUARTERS.end + 4 => (k - 4, true),
                    k => (k - 4, false),
                })
                .collect(),
            _ => (0..QUARTERS).map(|k| (k, false)).collect(),
        };
        let mut parsed = Vec::with_capacity(values.len());
        for (&(q, fold), cell) in slots.iter().zip(values) {
            let value = parse_cell(cell, decimal_comma).map_err(|m| {
                let which = if kind == DayKind::FallBack && DST_QUARTERS.contains(&q) {
                    if fold {
                        " (second occurrence)"
                    } else {
                        " (first occurrence)"
                    }
                } else {
                    ""
                };
                format!("{}{which}: {m}", quarter_label(q))
            })?;
            if kind == DayKind::SpringForward && DST_QUARTERS.contains(&q) {
                // The quarter does not exist; exports put an empty cell or a zero there.
                if value.is_some_and(|wh| wh != 0) {
                    return Err(format!(
                        "{}: a value is given for {}, which does not exist on the day summer time starts",
                        quarter_label(q),
                        format_day(date)
                    ));
                }
                continue;
            }
            parsed.push((q, fold, value));
        }
        if kind == DayKind::FallBack && values.len() == QUARTERS {
            // Hold back: the next line may carry the CET repetition of 02:00–02:59.
            self.pending = Some(PendingDay {
                line,
                date,
                values: parsed.into_iter().map(|(_, _, v)| v).collect(),
            });
            return Ok(());
        }
        let start = out.len();
        for (q, fold, value) in parsed {
            if let Some(wh) = value
                && let Err(m) = self.push(out, line, date, q, fold, wh)
            {
                out.truncate(start);
                return Err(m);
            }
        }
        Ok(())
    }

    /// The second row of an autumn DST day: its 02:xx cells are the CET repetition, every other
    /// cell must be empty or repeat the first row. The first row was valid on its own, so its
    /// readings are emitted even when the repetition is refused.
    fn merge_duplicate(
        &mut self,
        line: u64,
        date: NaiveDate,
        cells: &[Cow<'_, str>],
        decimal_comma: bool,
        out: &mut Vec<Reading>,
    ) -> Result<(), LineError> {
        let Some(pending) = self.pending.take() else {
            return Ok(());
        };
        let second_hour = repeated_hour(&pending, cells, decimal_comma);
        let mut failure = second_hour.as_ref().err().cloned();
        for (q, value) in pending.values.iter().enumerate() {
            if let Some(wh) = *value
                && let Err(m) = self.push(out, pending.line, date, q, false, wh)
            {
                failure.get_or_insert(m);
            }
            if q + 1 == DST_QUARTERS.end
                && let Ok(hour) = &second_hour
            {
                for (i, value) in hour.iter().enumerate() {
                    if let Some(wh) = *value
                        && let Err(m) = self.push(out, line, date, DST_QUARTERS.start + i, true, wh)
                    {
                        failure.get_or_insert(m);
                    }
                }
            }
        }
        match failure {
            Some(m) => Err(LineError::new(line, m)),
            None => Ok(()),
        }
    }

    /// Emits a held-back autumn day as it is: without a duplicate row, its 02:xx cells are the
    /// first (CEST) occurrence and the CET repetition is a gap.
    fn flush(&mut self, out: &mut Vec<Reading>) {
        if let Some(pending) = self.pending.take() {
            for (q, value) in pending.values.iter().enumerate() {
                if let Some(wh) = *value {
                    // Every quarter of an autumn day exists, so this cannot fail.
                    let _ = self.push(out, pending.line, pending.date, q, false, wh);
                }
            }
        }
    }

    fn push(
        &self,
        out: &mut Vec<Reading>,
        line: u64,
        date: NaiveDate,
        q: usize,
        fold: bool,
        wh: i64,
    ) -> Result<(), String> {
        let hour = u32::try_from(q / 4).unwrap_or(u32::MAX);
        let minute = u32::try_from((q % 4) * 15).unwrap_or(u32::MAX);
        let interval_start = rome_to_utc(date, hour, minute, fold).ok_or_else(|| {
            format!(
                "local time {} {} does not exist in Italy",
                format_day(date),
                quarter_label(q)
            )
        })?;
        out.push(Reading {
            line,
            pod: self.pod.clone(),
            interval_start,
            interval_minutes: 15,
            direction: self.direction,
            wh,
        });
        Ok(())
    }
}

/// For layouts whose rows carry neither: the interval, which must be the layout's own, and the
/// direction, from the request or the file's name (`example` shows how), or a refusal of line 1.
fn interval_and_direction(
    options: &ParseOptions,
    minutes: u8,
    layout: &str,
    example: &str,
) -> Result<Direction, LineError> {
    let err = |message: String| LineError::new(1, message);
    if let Some(given) = options.interval_minutes
        && given != minutes
    {
        return Err(err(format!(
            "{layout} have {minutes}-minute intervals; interval_minutes {given} does not apply"
        )));
    }
    let file_name = options.file_name.as_deref().unwrap_or("");
    let direction = match options.direction {
        Some(direction) => Some(direction),
        None => direction_in_text(file_name).map_err(|m| err(format!("file name: {m}")))?,
    };
    direction.ok_or_else(|| {
        err(format!(
            "direction missing: {layout} do not say whether they hold injection or withdrawal; \
             pass it explicitly (direction=withdrawal) or keep it in the file name (e.g. {example})"
        ))
    })
}

/// Where the hourly layout's columns are (found by name, any order, any case).
#[derive(Debug)]
struct HourlyColumns {
    pod: usize,
    year: usize,
    month: usize,
    day: usize,
    /// `KWH_01` … `KWH_25`: the hour starting at local 00:00 … 23:00, then the repeated
    /// 02:00–02:59 of the day winter time returns.
    hours: [usize; 25],
    month_total: usize,
    valid_from: usize,
}

impl HourlyColumns {
    fn find(cells: &[Cow<'_, str>], name: &str) -> Option<usize> {
        cells
            .iter()
            .position(|c| c.trim().eq_ignore_ascii_case(name))
    }

    fn recognised(cells: &[Cow<'_, str>]) -> bool {
        ["POD", "ANNO", "MESE", "GIORNO", "KWH_01", "KWH_24"]
            .iter()
            .all(|name| Self::find(cells, name).is_some())
    }

    fn from_header(cells: &[Cow<'_, str>]) -> Result<HourlyColumns, String> {
        let mut missing = Vec::new();
        let mut need = |name: &str| {
            Self::find(cells, name).unwrap_or_else(|| {
                missing.push(name.to_string());
                0
            })
        };
        let pod = need("POD");
        let year = need("ANNO");
        let month = need("MESE");
        let day = need("GIORNO");
        let mut hours = [0; 25];
        for (i, slot) in hours.iter_mut().enumerate() {
            *slot = need(&format!("KWH_{:02}", i + 1));
        }
        let month_total = need("KWH_MESE");
        let valid_from = need("DATA_INIZIO_VALIDITA");
        if missing.is_empty() {
            Ok(HourlyColumns {
                pod,
                year,
                month,
                day,
                hours,
                month_total,
                valid_from,
            })
        } else {
            Err(format!(
                "an hourly curve file needs the columns {}",
                missing.join(", ")
            ))
        }
    }
}

/// One POD's day as the file gives it, for the validity it belongs to.
#[derive(Debug)]
struct HourlyRow {
    line: u64,
    valid_from: NaiveDate,
    /// Wh of KWH_01 … KWH_25 (empty cells are none).
    values: [Option<i64>; 25],
}

/// One POD's month under one validity: every row repeats the month's total, which the rows'
/// hours must add up to.
#[derive(Debug)]
struct HourlyMonth {
    first_line: u64,
    total: i64,
    sum: i64,
}

/// Hourly curves: rows are kept until the end of the file, because a later row of the same POD
/// and day with a newer `DATA_INIZIO_VALIDITA` replaces it (a distributor's revision), and
/// each month's `KWH_MESE` is checked against its days once they are all read.
#[derive(Debug)]
struct HourlyLayout {
    columns: HourlyColumns,
    direction: Direction,
    rows: BTreeMap<(String, NaiveDate), HourlyRow>,
    months: BTreeMap<(String, i32, u32, NaiveDate), HourlyMonth>,
}

impl HourlyLayout {
    fn new(cells: &[Cow<'_, str>], options: &ParseOptions) -> Result<HourlyLayout, LineError> {
        let err = |message: String| LineError::new(1, message);
        let columns = HourlyColumns::from_header(cells).map_err(err)?;
        let direction =
            interval_and_direction(options, 60, "hourly curves", "curve_prelievo_2025-03.csv")?;
        Ok(HourlyLayout {
            columns,
            direction,
            rows: BTreeMap::new(),
            months: BTreeMap::new(),
        })
    }

    fn parse(
        &mut self,
        line: u64,
        cells: &[Cow<'_, str>],
        decimal_comma: bool,
    ) -> Result<(), LineError> {
        let err = |message: String| LineError::new(line, message);
        let cell = |i: usize| cells.get(i).map(|c| c.trim()).unwrap_or("");
        let c = &self.columns;
        let pod = parse_pod(cell(c.pod)).map_err(|m| err(format!("POD: {m}")))?;
        let number = |name: &str, i: usize| {
            cell(i)
                .parse::<u32>()
                .map_err(|_| err(format!("{name}: '{}' is not a number", cell(i))))
        };
        let year = number("ANNO", c.year)?;
        let month = number("MESE", c.month)?;
        let day_of_month = number("GIORNO", c.day)?;
        let date = i32::try_from(year)
            .ok()
            .and_then(|y| NaiveDate::from_ymd_opt(y, month, day_of_month))
            .ok_or_else(|| err(format!("{year}-{month:02}-{day_of_month:02} is not a day")))?;
        let valid_from = parse_day(cell(c.valid_from))
            .or_else(|| NaiveDate::parse_from_str(cell(c.valid_from), "%Y-%m-%d").ok())
            .ok_or_else(|| {
                err(format!(
                    "DATA_INIZIO_VALIDITA: '{}' is not a date (dd/mm/yyyy)",
                    cell(c.valid_from)
                ))
            })?;
        let total = parse_cell(cell(c.month_total), decimal_comma)
            .map_err(|m| err(format!("KWH_MESE: {m}")))?
            .ok_or_else(|| err("KWH_MESE is empty".to_owned()))?;
        let kind = day_kind(date);
        let mut values = [None; 25];
        for (h, slot) in values.iter_mut().enumerate() {
            let value = parse_cell(cell(c.hours[h]), decimal_comma)
                .map_err(|m| err(format!("KWH_{:02}: {m}", h + 1)))?;
            let exists = match h {
                // 02:00–02:59 does not exist on the day summer time starts.
                2 => kind != DayKind::SpringForward,
                // The repeated 02:00–02:59 exists only on the day winter time returns.
                24 => kind == DayKind::FallBack,
                _ => true,
            };
            if !exists {
                if value.is_some_and(|wh| wh != 0) {
                    return Err(err(format!(
                        "KWH_{:02}: a value is given for an hour that {} does not have",
                        h + 1,
                        format_day(date)
                    )));
                }
                continue;
            }
            *slot = value;
        }
        let sum: i64 = values.iter().flatten().sum();
        let group = self
            .months
            .entry((pod.clone(), date.year(), date.month(), valid_from))
            .or_insert(HourlyMonth {
                first_line: line,
                total,
                sum: 0,
            });
        if group.total != total {
            return Err(err(format!(
                "KWH_MESE {} differs from the {} given at line {} for the same POD, month and validity",
                kwh_text(total),
                kwh_text(group.total),
                group.first_line
            )));
        }
        group.sum += sum;
        let key = (pod, date);
        match self.rows.get(&key) {
            Some(kept) if kept.valid_from == valid_from => Err(err(format!(
                "{} {} is already at line {} with the same validity",
                key.0,
                format_day(date),
                kept.line
            ))),
            // An older validity than the row kept: superseded already.
            Some(kept) if kept.valid_from > valid_from => Ok(()),
            _ => {
                self.rows.insert(
                    key,
                    HourlyRow {
                        line,
                        valid_from,
                        values,
                    },
                );
                Ok(())
            }
        }
    }

    /// Checks every month's total, then emits the rows kept (the newest validity of each day).
    fn finish(&mut self, out: &mut Vec<Reading>) -> Result<(), LineError> {
        for ((pod, year, month, valid_from), group) in &self.months {
            if group.sum != group.total {
                return Err(LineError::new(
                    group.first_line,
                    format!(
                        "KWH_MESE {} for {pod} {year}-{month:02} (valid from {}) but its days add up to {}",
                        kwh_text(group.total),
                        format_day(*valid_from),
                        kwh_text(group.sum)
                    ),
                ));
            }
        }
        for ((pod, date), row) in std::mem::take(&mut self.rows) {
            for (h, value) in row.values.iter().enumerate() {
                let Some(wh) = *value else { continue };
                let (hour, fold) = if h == 24 {
                    (2, true)
                } else {
                    (h as u32, false)
                };
                let interval_start = rome_to_utc(date, hour, 0, fold).ok_or_else(|| {
                    LineError::new(
                        row.line,
                        format!(
                            "local hour {hour:02}:00 of {} does not exist",
                            format_day(date)
                        ),
                    )
                })?;
                out.push(Reading {
                    line: row.line,
                    pod: pod.clone(),
                    interval_start,
                    interval_minutes: 60,
                    direction: self.direction,
                    wh,
                });
            }
        }
        Ok(())
    }
}

/// The distributor → seller XML measure flow, as read by the open-source parser of
/// `DatiPod/Pod`, `DatiPod/MeseAnno` and `DatiPod/Curva/Ea` (a Python reader published on
/// GitHub, `tree.DatiPod.Curva.getchildren()`), and as GSE_RULES §0.1 lists it:
///
/// - one `DatiPod` per POD (several in a file), with `Pod`, `MeseAnno` (`mm/yyyy`) and a `Curva`;
/// - in the `Curva`, one `Ea` (active energy, kWh, decimal comma) per day and DST part: its text
///   is the day of the month, its attributes are the quarter-hour values in order (every
///   attribute but `Dst`; numbered names such as `E1`…`E96` are put in their numbers' order);
/// - `Dst="0"`: 96 values; `Dst="1"`: the day summer time starts, 92 values (no 02:00–02:45);
///   the day winter time returns comes in two parts, `Dst="2"` with the 12 quarter-hours
///   00:00–02:45 of summer time and `Dst="3"` with the 88 from 02:00 of winter time to midnight.
///
/// `Er` (reactive energy) is not stored. The whole file is held until its end, then checked
/// against this structure: a wrong count, a `Dst` that the day does not have, a day missing from
/// the month or given twice is refused with the element's line.
#[derive(Debug)]
struct XmlLayout {
    direction: Direction,
    text: String,
    /// The line each of `text`'s lines came from (the file's own numbering), and where in
    /// `text` each starts.
    lines: Vec<u64>,
    starts: Vec<usize>,
}

/// One `Ea` element as read.
#[derive(Debug)]
struct EaPart {
    line: u64,
    day: u32,
    dst: u8,
    values: Vec<String>,
}

impl XmlLayout {
    fn new(header: &str, options: &ParseOptions) -> Result<XmlLayout, LineError> {
        let direction = interval_and_direction(
            options,
            15,
            "the distributors' XML curves",
            "misure_prelievo_2025-10.xml",
        )?;
        let mut layout = XmlLayout {
            direction,
            text: String::new(),
            lines: Vec::new(),
            starts: Vec::new(),
        };
        layout.push_line(1, header.strip_prefix('\u{feff}').unwrap_or(header));
        Ok(layout)
    }

    fn push_line(&mut self, line: u64, text: &str) {
        self.starts.push(self.text.len());
        self.text.push_str(text);
        self.text.push('\n');
        self.lines.push(line);
    }

    /// The file's line of a byte offset into `text` (a binary search: a month of a thousand
    /// PODs has millions of elements).
    fn line_at(&self, offset: usize) -> u64 {
        let index = self.starts.partition_point(|start| *start <= offset);
        self.lines
            .get(index.saturating_sub(1))
            .or(self.lines.last())
            .copied()
            .unwrap_or(1)
    }

    fn finish(&mut self, out: &mut Vec<Reading>) -> Result<(), LineError> {
        use quick_xml::events::Event;
        let mut reader = quick_xml::Reader::from_str(&self.text);
        reader.config_mut().trim_text(true);
        // The open element names, and what the current DatiPod has given so far.
        let mut path: Vec<String> = Vec::new();
        let mut pod: Option<(String, u64)> = None;
        let mut month: Option<(NaiveDate, u64)> = None;
        let mut parts: Vec<EaPart> = Vec::new();
        let mut open_ea: Option<EaPart> = None;
        let mut pods_seen = 0usize;
        loop {
            let at = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
            let event = reader.read_event().map_err(|e| {
                LineError::new(self.line_at(at), format!("the XML is not well-formed: {e}"))
            })?;
            // The element just read ends here, on its own line.
            let line = self.line_at(
                usize::try_from(reader.buffer_position())
                    .unwrap_or(usize::MAX)
                    .saturating_sub(1),
            );
            match event {
                Event::Start(element) => {
                    let name = String::from_utf8_lossy(element.local_name().as_ref()).into_owned();
                    if name == "DatiPod" {
                        pod = None;
                        month = None;
                        parts.clear();
                    }
                    if name == "Ea" && path.last().map(String::as_str) == Some("Curva") {
                        open_ea = Some(ea_attributes(&element, line)?);
                    }
                    path.push(name);
                }
                Event::Empty(element) => {
                    let name = String::from_utf8_lossy(element.local_name().as_ref()).into_owned();
                    if name == "Ea" && path.last().map(String::as_str) == Some("Curva") {
                        return Err(LineError::new(
                            line,
                            "an Ea element without its day".to_owned(),
                        ));
                    }
                }
                Event::Text(text) => {
                    let value = text
                        .decode()
                        .map_err(|e| LineError::new(line, format!("unreadable text: {e}")))?
                        .trim()
                        .to_string();
                    match path.last().map(String::as_str) {
                        Some("Pod") if path.iter().any(|p| p == "DatiPod") => {
                            let parsed = parse_pod(&value)
                                .map_err(|m| LineError::new(line, format!("Pod: {m}")))?;
                            pod = Some((parsed, line));
                        }
                        Some("MeseAnno") if path.iter().any(|p| p == "DatiPod") => {
                            let first =
                                NaiveDate::parse_from_str(&format!("01/{value}"), "%d/%m/%Y")
                                    .map_err(|_| {
                                        LineError::new(
                                            line,
                                            format!("MeseAnno '{value}' is not mm/yyyy"),
                                        )
                                    })?;
                            month = Some((first, line));
                        }
                        Some("Ea") => {
                            if let Some(ea) = open_ea.as_mut() {
                                ea.day = value.parse().map_err(|_| {
                                    LineError::new(
                                        line,
                                        format!("Ea: the day '{value}' is not a number"),
                                    )
                                })?;
                            }
                        }
                        _ => {}
                    }
                }
                Event::End(element) => {
                    let name = String::from_utf8_lossy(element.local_name().as_ref()).into_owned();
                    path.pop();
                    if name == "Ea"
                        && let Some(ea) = open_ea.take()
                    {
                        if ea.day == 0 {
                            return Err(LineError::new(
                                ea.line,
                                "an Ea element without its day".to_owned(),
                            ));
                        }
                        parts.push(ea);
                    }
                    if name == "DatiPod" {
                        pods_seen += 1;
                        let line_of_pod = line;
                        let (pod, _) = pod.take().ok_or_else(|| {
                            LineError::new(line_of_pod, "a DatiPod without its Pod".to_owned())
                        })?;
                        let (first, _) = month.take().ok_or_else(|| {
                            LineError::new(
                                line_of_pod,
                                format!("DatiPod of {pod} without its MeseAnno"),
                            )
                        })?;
                        self.emit(&pod, first, std::mem::take(&mut parts), out)?;
                    }
                }
                Event::Eof => {
                    if let Some(open) = path.last() {
                        return Err(LineError::new(
                            self.lines.last().copied().unwrap_or(1),
                            format!("the XML ends inside <{open}>: the file is cut short"),
                        ));
                    }
                    break;
                }
                _ => {}
            }
        }
        if pods_seen == 0 {
            return Err(LineError::new(
                1,
                "the XML has no DatiPod element".to_owned(),
            ));
        }
        Ok(())
    }

    /// One POD's month: each day of the month once, in the parts its `Dst` says.
    fn emit(
        &self,
        pod: &str,
        first: NaiveDate,
        parts: Vec<EaPart>,
        out: &mut Vec<Reading>,
    ) -> Result<(), LineError> {
        let last = crate::domain::month::Period::of(first).end;
        let mut by_day: BTreeMap<u32, Vec<EaPart>> = BTreeMap::new();
        for part in parts {
            by_day.entry(part.day).or_default().push(part);
        }
        for day in 1..=last.day() {
            let date = first.with_day(day).unwrap_or(first);
            let Some(mut day_parts) = by_day.remove(&day) else {
                return Err(LineError::new(
                    1,
                    format!("{pod}: no Ea for {} in its month", format_day(date)),
                ));
            };
            day_parts.sort_by_key(|p| p.dst);
            let kind = day_kind(date);
            let dsts: Vec<u8> = day_parts.iter().map(|p| p.dst).collect();
            let expected: &[u8] = match kind {
                DayKind::Normal => &[0],
                DayKind::SpringForward => &[1],
                DayKind::FallBack => &[2, 3],
            };
            if dsts != expected {
                return Err(LineError::new(
                    day_parts[0].line,
                    format!(
                        "{pod} {}: Ea with Dst {:?}, but this day takes Dst {:?}",
                        format_day(date),
                        dsts,
                        expected
                    ),
                ));
            }
            for part in day_parts {
                let wanted = match part.dst {
                    0 => 96,
                    1 => 92,
                    2 => 12,
                    _ => 88,
                };
                if part.values.len() != wanted {
                    return Err(LineError::new(
                        part.line,
                        format!(
                            "{pod} {}: Dst {} takes {wanted} quarter-hour values, this Ea has {}",
                            format_day(date),
                            part.dst,
                            part.values.len()
                        ),
                    ));
                }
                for (k, value) in part.values.iter().enumerate() {
                    let wh = parse_kwh(value, value.contains(',')).map_err(|m| {
                        LineError::new(part.line, format!("{pod} {}: {m}", format_day(date)))
                    })?;
                    // (local quarter, second occurrence?)
                    let (q, fold) = match part.dst {
                        1 if k >= DST_QUARTERS.start => (k + 4, false),
                        3 => (DST_QUARTERS.start + k, k < 4),
                        _ => (k, false),
                    };
                    let hour = u32::try_from(q / 4).unwrap_or(u32::MAX);
                    let minute = u32::try_from((q % 4) * 15).unwrap_or(u32::MAX);
                    let interval_start =
                        rome_to_utc(date, hour, minute, fold).ok_or_else(|| {
                            LineError::new(
                                part.line,
                                format!(
                                    "local time {} {} does not exist",
                                    format_day(date),
                                    quarter_label(q)
                                ),
                            )
                        })?;
                    out.push(Reading {
                        line: part.line,
                        pod: pod.to_string(),
                        interval_start,
                        interval_minutes: 15,
                        direction: self.direction,
                        wh,
                    });
                }
            }
        }
        if let Some((day, parts)) = by_day.into_iter().next() {
            return Err(LineError::new(
                parts[0].line,
                format!(
                    "{pod}: Ea for day {day}, which the month {} does not have",
                    first.format("%m/%Y")
                ),
            ));
        }
        Ok(())
    }
}

/// An `Ea` element's `Dst` and its values, in their order.
fn ea_attributes(
    element: &quick_xml::events::BytesStart<'_>,
    line: u64,
) -> Result<EaPart, LineError> {
    let mut dst = None;
    let mut values: Vec<(String, String)> = Vec::new();
    for attribute in element.attributes() {
        let attribute = attribute
            .map_err(|e| LineError::new(line, format!("Ea: unreadable attribute: {e}")))?;
        let key = String::from_utf8_lossy(attribute.key.local_name().as_ref()).into_owned();
        let value = attribute
            .unescape_value()
            .map_err(|e| LineError::new(line, format!("Ea: unreadable attribute {key}: {e}")))?
            .into_owned();
        if key == "Dst" {
            dst = Some(value);
        } else {
            values.push((key, value));
        }
    }
    let dst = match dst.as_deref().map(str::trim) {
        Some("0") => 0,
        Some("1") => 1,
        Some("2") => 2,
        Some("3") => 3,
        Some(other) => {
            return Err(LineError::new(
                line,
                format!("Ea: Dst '{other}' is not 0, 1, 2 or 3"),
            ));
        }
        None => {
            return Err(LineError::new(
                line,
                "Ea without its Dst attribute".to_owned(),
            ));
        }
    };
    // Numbered names (E1 … E96) go in their numbers' order, whatever order they are written in.
    let number = |key: &str| {
        key.trim_start_matches(|c: char| !c.is_ascii_digit())
            .parse::<u32>()
            .ok()
    };
    if values.iter().all(|(key, _)| number(key).is_some()) {
        values.sort_by_key(|(key, _)| number(key));
    }
    Ok(EaPart {
        line,
        day: 0,
        dst,
        values: values.into_iter().map(|(_, v)| v).collect(),
    })
}

/// Wh as kWh with a decimal comma, as the files write it.
fn kwh_text(wh: i64) -> String {
    let sign = if wh < 0 { "-" } else { "" };
    let wh = wh.unsigned_abs();
    format!("{sign}{},{:03}", wh / 1000, wh % 1000)
}

/// The CET 02:00–02:45 values of an autumn day's duplicate row, after checking that its other
/// cells are empty or equal (as numbers: `0,08` equals `0,080`) to the first row's.
fn repeated_hour(
    first: &PendingDay,
    cells: &[Cow<'_, str>],
    decimal_comma: bool,
) -> Result<[Option<i64>; 4], String> {
    let day = format_day(first.date);
    let values = value_cells(cells, &[QUARTERS]).ok_or_else(|| {
        format!(
            "the duplicate row for {day} needs 96 quarter-hour values, found {}",
            cells.len().saturating_sub(1)
        )
    })?;
    let mut hour = [None; 4];
    for (q, cell) in values.iter().enumerate() {
        let value = parse_cell(cell, decimal_comma).map_err(|m| {
            let which = if DST_QUARTERS.contains(&q) {
                " (second occurrence)"
            } else {
                ""
            };
            format!("{}{which}: {m}", quarter_label(q))
        })?;
        if DST_QUARTERS.contains(&q) {
            hour[q - DST_QUARTERS.start] = value;
        } else if value.is_some() && value != first.values.get(q).copied().flatten() {
            return Err(format!(
                "the duplicate row for {day} differs from line {} at {} (outside 02:00–02:59 it must be empty or equal)",
                first.line,
                quarter_label(q)
            ));
        }
    }
    Ok(hour)
}

/// Number of empty cells at the end of a row (a trailing separator makes one).
fn trailing_empty(cells: &[Cow<'_, str>]) -> usize {
    cells.iter().rev().take_while(|c| c.is_empty()).count()
}

/// The value cells (after `Giorno`) if their count is one of `allowed`, tolerating one extra
/// empty cell left by a trailing separator.
fn value_cells<'a, 'b>(cells: &'a [Cow<'b, str>], allowed: &[usize]) -> Option<&'a [Cow<'b, str>]> {
    let values = cells.get(1..)?;
    if allowed.contains(&values.len()) {
        return Some(values);
    }
    match values.split_last() {
        Some((last, rest)) if last.is_empty() && allowed.contains(&rest.len()) => Some(rest),
        _ => None,
    }
}

/// An empty cell is a gap (no reading), not zero.
fn parse_cell(cell: &str, decimal_comma: bool) -> Result<Option<i64>, String> {
    if cell.is_empty() {
        Ok(None)
    } else {
        parse_kwh(cell, decimal_comma).map(Some)
    }
}

/// Finds `IT` + 3 digits + `E` + 8 digits (+ an optional check character) in free text such as
/// a file name. The check character is taken only when a word boundary follows it, so
/// `…IT001E00112233immessa` does not yield a POD ending in `I`.
fn pod_in_text(text: &str) -> Result<Option<String>, String> {
    let upper = text.to_ascii_uppercase();
    let bytes = upper.as_bytes();
    let mut found: Option<String> = None;
    let mut i = 0;
    while i + 14 <= bytes.len() {
        let candidate = &bytes[i..];
        let matches = candidate.starts_with(b"IT")
            && candidate[2..5].iter().all(u8::is_ascii_digit)
            && candidate[5] == b'E'
            && candidate[6..14].iter().all(u8::is_ascii_digit);
        if !matches {
            i += 1;
            continue;
        }
        let check = candidate.get(14).filter(|b| b.is_ascii_alphanumeric());
        let boundary_after_check = candidate.get(15).is_none_or(|b| !b.is_ascii_alphanumeric());
        let len = if check.is_some() && boundary_after_check {
            15
        } else {
            14
        };
        let code = &upper[i..i + len];
        let pod = parse_pod(code)?;
        match &found {
            Some(other) if *other != pod => {
                return Err(format!("it names two PODs, {other} and {pod}"));
            }
            _ => found = Some(pod),
        }
        i += len;
    }
    Ok(found)
}

/// Direction keywords as they appear in e-distribuzione file and folder names. Short codes
/// (A1/A2, 1.8.0/2.8.0) must stand alone so that e.g. `data1.csv` does not read as A1.
fn direction_in_text(text: &str) -> Result<Option<Direction>, String> {
    let lower = text.to_ascii_lowercase();
    let words_in = ["immess", "immission", "injection", "injected"];
    let words_out = ["prelev", "preliev", "withdrawal", "withdrawn"];
    let injection = words_in.iter().any(|w| lower.contains(w))
        || contains_code(&lower, "a2")
        || contains_code(&lower, "2.8.0");
    let withdrawal = words_out.iter().any(|w| lower.contains(w))
        || contains_code(&lower, "a1")
        || contains_code(&lower, "1.8.0");
    match (injection, withdrawal) {
        (true, true) => Err("it mentions both injection and withdrawal".to_owned()),
        (true, false) => Ok(Some(Direction::Injection)),
        (false, true) => Ok(Some(Direction::Withdrawal)),
        (false, false) => Ok(None),
    }
}

/// `code` occurs with neither a letter nor a digit right before or after it.
fn contains_code(text: &str, code: &str) -> bool {
    text.match_indices(code).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + code.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphanumeric())
            && !after.is_some_and(|c| c.is_ascii_alphanumeric())
    })
}

#[cfg(test)]
mod tests {
    //! Expected instants and sums were computed independently (Python `zoneinfo` and integer
    //! arithmetic on the fixture text), never by running this parser.
    use super::*;

    const LONG_SEMICOLON: &str = include_str!("../../tests/fixtures/readings/long_semicolon.csv");
    const LONG_COMMA_LOCAL: &str =
        include_str!("../../tests/fixtures/readings/long_comma_local.csv");
    const LONG_ERRORS: &str = include_str!("../../tests/fixtures/readings/long_errors.csv");
    const MARZO: &str =
        include_str!("../../tests/fixtures/readings/ExportData_marzo_IT001E00112233_immessa.csv");
    const MARZO_NAME: &str = "ExportData_marzo_IT001E00112233_immessa.csv";
    const OTTOBRE: &str = include_str!(
        "../../tests/fixtures/readings/ExportData_ottobre_IT001E00112233_prelevata.csv"
    );
    const OTTOBRE_NAME: &str = "ExportData_ottobre_IT001E00112233_prelevata.csv";

    /// Feeds a whole text the way the caller streams a file.
    /// A header of the hourly layout and one row (`values`: KWH_01 … KWH_25 as written).
    fn hourly(rows: &[(&str, &str, [&str; 25], &str, &str)]) -> String {
        let mut text = String::from("POD;ANNO;MESE;GIORNO");
        for h in 1..=25 {
            text.push_str(&format!(";KWH_{h:02}"));
        }
        text.push_str(";KWH_MESE;DATA_INIZIO_VALIDITA;DATA_FINE_VALIDITA\n");
        for (pod, day, values, total, valid_from) in rows {
            let (y, m, d) = (&day[0..4], &day[5..7], &day[8..10]);
            text.push_str(&format!(
                "{pod};{y};{m};{d};{};{total};{valid_from};\n",
                values.join(";")
            ));
        }
        text
    }

    fn withdrawal() -> ParseOptions {
        ParseOptions {
            direction: Some(Direction::Withdrawal),
            ..ParseOptions::default()
        }
    }

    const XML_OCTOBER: &str =
        include_str!("../../tests/fixtures/readings/misure_prelievo_2025-10.xml");

    fn xml_options() -> ParseOptions {
        ParseOptions {
            file_name: Some("misure_prelievo_2025-10.xml".into()),
            ..ParseOptions::default()
        }
    }

    #[test]
    fn distributor_xml_curves_read_every_pod_and_both_parts_of_the_autumn_day() {
        let (format, readings, errors) = run(XML_OCTOBER, xml_options());
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(format, Format::DistributorXml);
        // Two PODs; October 2025 has 30 days of 96 quarter-hours and one of 100.
        assert_eq!(readings.len(), 2 * (30 * 96 + 100));
        assert!(
            readings
                .iter()
                .all(|r| r.direction == Direction::Withdrawal)
        );
        let of = |pod: &str| {
            readings
                .iter()
                .filter(|r| r.pod == pod)
                .map(|r| r.wh)
                .sum::<i64>()
        };
        assert_eq!(of("IT001E00112233"), 2980 * 10);
        assert_eq!(of("IT001E04455667A"), 2980 * 20);
        // On the 26th, 02:00 CEST (Dst 2) is 00:00 UTC and 02:00 CET (Dst 3) 01:00 UTC.
        let at = |text: &str| {
            chrono::DateTime::parse_from_rfc3339(text)
                .unwrap()
                .timestamp()
        };
        let starts: std::collections::BTreeSet<i64> = readings
            .iter()
            .filter(|r| r.pod == "IT001E00112233")
            .map(|r| r.interval_start)
            .collect();
        assert_eq!(starts.len(), 2980, "no instant twice");
        for instant in [
            "2025-10-26T00:00:00Z",
            "2025-10-26T01:00:00Z",
            "2025-10-26T01:45:00Z",
        ] {
            assert!(starts.contains(&at(instant)), "{instant}");
        }
        // Er (reactive energy) is not read as active energy.
        assert!(readings.iter().all(|r| r.wh == 10 || r.wh == 20));
    }

    #[test]
    fn distributor_xml_curves_refuse_a_wrong_structure_by_its_line() {
        // A day with 95 values: the element's line.
        let line_of_day5 = XML_OCTOBER
            .lines()
            .position(|l| l.contains("<Ea Dst=\"0\"") && l.ends_with(">5</Ea>"))
            .unwrap() as u64
            + 1;
        let short = XML_OCTOBER.replacen(" E96=\"0,010\">5</Ea>", ">5</Ea>", 1);
        let (_, _, errors) = run(&short, xml_options());
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].line, line_of_day5);
        assert!(
            errors[0]
                .message
                .contains("takes 96 quarter-hour values, this Ea has 95"),
            "{}",
            errors[0].message
        );

        // The autumn day given as a plain day: its Dst is named.
        let plain = XML_OCTOBER.replacen("<Ea Dst=\"2\"", "<Ea Dst=\"0\"", 1);
        let (_, _, errors) = run(&plain, xml_options());
        assert!(
            errors[0]
                .message
                .contains("26/10/2025: Ea with Dst [0, 3], but this day takes Dst [2, 3]"),
            "{}",
            errors[0].message
        );

        // Cut short: said so, not read as far as it goes.
        let cut = &XML_OCTOBER[..XML_OCTOBER.len() / 2];
        let cut = &cut[..cut.rfind('\n').unwrap()];
        let (_, readings, errors) = run(cut, xml_options());
        assert!(readings.is_empty());
        assert!(
            errors[0].message.contains("cut short")
                || errors[0].message.contains("not well-formed"),
            "{}",
            errors[0].message
        );

        // A day missing from the month.
        let missing: String = XML_OCTOBER
            .lines()
            .filter(|l| !l.ends_with(">7</Ea>"))
            .collect::<Vec<_>>()
            .join("\n");
        let (_, _, errors) = run(&missing, xml_options());
        assert!(
            errors[0].message.contains("no Ea for 07/10/2025"),
            "{}",
            errors[0].message
        );
    }

    #[test]
    fn hourly_curves_cover_both_dst_days_and_check_the_months_total() {
        const P: &str = "IT001E00112233";
        // Spring: KWH_03 (02:00–02:59) does not exist and is empty; 23 hours of 1,000 kWh.
        let mut spring = ["1,000"; 25];
        spring[2] = "";
        spring[24] = "";
        // Autumn: KWH_25 is the repeated 02:00–02:59; 25 hours of 0,500 kWh.
        let autumn = ["0,500"; 25];
        let text = hourly(&[
            (P, "2025-03-30", spring, "23,000", "01/04/2025"),
            (P, "2025-10-26", autumn, "12,500", "01/11/2025"),
        ]);
        let (format, readings, errors) = run(&text, withdrawal());
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(format, Format::HourlyWide);
        assert_eq!(readings.len(), 23 + 25);
        assert!(
            readings
                .iter()
                .all(|r| r.interval_minutes == 60 && r.direction == Direction::Withdrawal)
        );
        let at = |text: &str| {
            chrono::DateTime::parse_from_rfc3339(text)
                .unwrap()
                .timestamp()
        };
        let starts: Vec<i64> = readings.iter().map(|r| r.interval_start).collect();
        // 00:00 CET of 30 March is 23:00 UTC the day before; 03:00 CEST follows 01:00 CET.
        assert_eq!(starts[0], at("2025-03-29T23:00:00Z"));
        assert_eq!(starts[2], at("2025-03-30T01:00:00Z"));
        assert_eq!(starts[22], at("2025-03-30T21:00:00Z"));
        // 26 October: 02:00 CEST (KWH_03) is 00:00 UTC, 02:00 CET (KWH_25) 01:00 UTC.
        let october: Vec<i64> = starts[23..].to_vec();
        assert!(october.contains(&at("2025-10-26T00:00:00Z")));
        assert!(october.contains(&at("2025-10-26T01:00:00Z")));
        assert_eq!(
            october
                .iter()
                .collect::<std::collections::BTreeSet<_>>()
                .len(),
            25
        );
        assert_eq!(readings.iter().map(|r| r.wh).sum::<i64>(), 23_000 + 12_500);
    }

    #[test]
    fn hourly_curves_refuse_what_does_not_add_up_and_keep_the_newest_validity() {
        const P: &str = "IT001E00112233";
        let day = ["0,100"; 25].map(|v| v);
        let mut normal = day;
        normal[24] = "";
        // The month's total says 2,500 kWh, the day adds up to 2,400.
        let text = hourly(&[(P, "2025-05-06", normal, "2,500", "01/06/2025")]);
        let (_, _, errors) = run(&text, withdrawal());
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].line, 2);
        assert!(
            errors[0].message.contains("KWH_MESE 2,500") && errors[0].message.contains("2,400"),
            "{}",
            errors[0].message
        );

        // A value in KWH_25 on a day without a repeated hour names the line and the column.
        let mut extra = normal;
        extra[24] = "0,100";
        let text = hourly(&[(P, "2025-05-06", extra, "2,500", "01/06/2025")]);
        let (_, _, errors) = run(&text, withdrawal());
        assert_eq!(errors[0].line, 2);
        assert!(
            errors[0].message.starts_with("KWH_25"),
            "{}",
            errors[0].message
        );

        // A newer validity of the same day replaces the older one, whichever comes first.
        let mut revised = normal;
        revised[0] = "1,100";
        for rows in [
            [
                (P, "2025-05-06", normal, "2,400", "01/06/2025"),
                (P, "2025-05-06", revised, "3,400", "15/07/2025"),
            ],
            [
                (P, "2025-05-06", revised, "3,400", "15/07/2025"),
                (P, "2025-05-06", normal, "2,400", "01/06/2025"),
            ],
        ] {
            let (_, readings, errors) = run(&hourly(&rows), withdrawal());
            assert!(errors.is_empty(), "{errors:?}");
            assert_eq!(readings.len(), 24);
            assert_eq!(readings.iter().map(|r| r.wh).sum::<i64>(), 3_400);
        }
        // The same day twice under one validity is a mistake, not a revision.
        let text = hourly(&[
            (P, "2025-05-06", normal, "4,800", "01/06/2025"),
            (P, "2025-05-06", normal, "4,800", "01/06/2025"),
        ]);
        let (_, _, errors) = run(&text, withdrawal());
        assert!(
            errors
                .iter()
                .any(|e| e.line == 3 && e.message.contains("already at line 2")),
            "{errors:?}"
        );

        // Without a direction (not given, not in the file's name) the file is refused at once.
        let header = hourly(&[]);
        let refused = MeterFileParser::new(header.lines().next().unwrap(), ParseOptions::default())
            .expect_err("no direction");
        assert_eq!(refused.line, 1);
        assert!(
            refused.message.contains("direction missing"),
            "{}",
            refused.message
        );
        let named = ParseOptions {
            file_name: Some("curve_orarie_prelievo_2025-05.csv".into()),
            ..ParseOptions::default()
        };
        assert!(MeterFileParser::new(header.lines().next().unwrap(), named).is_ok());
    }

    fn run(text: &str, options: ParseOptions) -> (Format, Vec<Reading>, Vec<LineError>) {
        let mut lines = text.lines();
        let header = lines.next().expect("a header line");
        let mut parser = MeterFileParser::new(header, options).expect("header accepted");
        let mut readings = Vec::new();
        let mut errors = Vec::new();
        for (index, text) in lines.enumerate() {
            let line = index as u64 + 2;
            if let Err(e) = parser.parse_line(line, text, &mut readings) {
                errors.push(e);
            }
        }
        if let Err(e) = parser.finish(&mut readings) {
            errors.push(e);
        }
        (parser.format(), readings, errors)
    }

    fn header_error(header: &str, options: ParseOptions) -> LineError {
        MeterFileParser::new(header, options).expect_err("header refused")
    }

    fn named(file_name: &str) -> ParseOptions {
        ParseOptions {
            file_name: Some(file_name.to_owned()),
            ..ParseOptions::default()
        }
    }

    fn edis_header() -> String {
        let mut header = String::from("Giorno");
        for q in 0..QUARTERS {
            header.push_str(&format!(";{}-{}", quarter_label(q), quarter_label(q + 1)));
        }
        header
    }

    /// A day row whose k-th value is k Wh ("0,00k"), so each reading names its column.
    fn indexed_row(day: &str, count: usize) -> String {
        let mut row = day.to_owned();
        for k in 0..count {
            row.push_str(&format!(";0,{k:03}"));
        }
        row
    }

    fn per_line(readings: &[Reading]) -> HashMap<u64, (usize, i64)> {
        let mut map: HashMap<u64, (usize, i64)> = HashMap::new();
        for r in readings {
            let entry = map.entry(r.line).or_default();
            entry.0 += 1;
            entry.1 += r.wh;
        }
        map
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    // --- helpers and small functions -----------------------------------------------------

    #[test]
    fn direction_words() {
        for word in ["injection", "IMMISSIONE", "Immessa", "a2", " A2 "] {
            assert_eq!(parse_direction(word), Some(Direction::Injection), "{word}");
        }
        for word in ["withdrawal", "PRELIEVO", "prelevata", "A1", "Withdrawal"] {
            assert_eq!(parse_direction(word), Some(Direction::Withdrawal), "{word}");
        }
        for word in ["", "consumo", "a3", "produzione"] {
            assert_eq!(parse_direction(word), None, "{word}");
        }
        assert_eq!(Direction::Injection.as_str(), "injection");
        assert_eq!(Direction::Withdrawal.as_str(), "withdrawal");
    }

    #[test]
    fn rome_to_utc_ordinary_spring_gap_and_autumn_fold() {
        // 15/01/2025 12:00 CET = 11:00Z; 01/07/2025 12:00 CEST = 10:00Z.
        assert_eq!(
            rome_to_utc(date(2025, 1, 15), 12, 0, false),
            Some(1_736_938_800)
        );
        assert_eq!(
            rome_to_utc(date(2025, 1, 15), 12, 0, true),
            Some(1_736_938_800)
        );
        assert_eq!(
            rome_to_utc(date(2025, 7, 1), 12, 0, false),
            Some(1_751_364_000)
        );
        // Spring: 01:45 CET = 00:45Z, 02:00–02:59 missing, 03:00 CEST = 01:00Z.
        assert_eq!(
            rome_to_utc(date(2025, 3, 30), 1, 45, false),
            Some(1_743_295_500)
        );
        for minute in [0, 15, 30, 45] {
            assert_eq!(rome_to_utc(date(2025, 3, 30), 2, minute, false), None);
            assert_eq!(rome_to_utc(date(2025, 3, 30), 2, minute, true), None);
        }
        assert_eq!(
            rome_to_utc(date(2025, 3, 30), 3, 0, false),
            Some(1_743_296_400)
        );
        // Autumn: 02:00 first (CEST) = 00:00Z, second (CET) = 01:00Z; 03:00 CET = 02:00Z.
        assert_eq!(
            rome_to_utc(date(2025, 10, 26), 1, 45, true),
            Some(1_761_435_900)
        );
        assert_eq!(
            rome_to_utc(date(2025, 10, 26), 2, 0, false),
            Some(1_761_436_800)
        );
        assert_eq!(
            rome_to_utc(date(2025, 10, 26), 2, 0, true),
            Some(1_761_440_400)
        );
        assert_eq!(
            rome_to_utc(date(2025, 10, 26), 2, 45, false),
            Some(1_761_439_500)
        );
        assert_eq!(
            rome_to_utc(date(2025, 10, 26), 2, 45, true),
            Some(1_761_443_100)
        );
        assert_eq!(
            rome_to_utc(date(2025, 10, 26), 3, 0, false),
            Some(1_761_444_000)
        );
        assert_eq!(rome_to_utc(date(2025, 10, 26), 24, 0, false), None);
    }

    #[test]
    fn kwh_cells_are_exact() {
        assert_eq!(parse_kwh("1,5", true), Ok(1500));
        assert_eq!(parse_kwh("1.5", true), Ok(1500));
        assert_eq!(parse_kwh("0,001", true), Ok(1));
        assert_eq!(parse_kwh("12", false), Ok(12_000));
        assert_eq!(parse_kwh("0", false), Ok(0));
        // Trailing zeros are not extra precision (same rule as `quantities::to_fixed`).
        assert_eq!(parse_kwh("0,1230", true), Ok(123));
        let too_precise = parse_kwh("0,1234", true).expect_err("4 decimals");
        assert!(
            too_precise.contains("at most 3 decimal places"),
            "{too_precise}"
        );
        for bad in ["1.234,5", "1e3", "1_000", "abc", "1.2.3", "-", ".", "0x1"] {
            assert!(parse_kwh(bad, false).is_err(), "{bad}");
        }
        assert!(
            parse_kwh("1,5", false).is_err(),
            "',' is not a decimal with ',' cells"
        );
        assert!(parse_kwh("1.234,5", true).is_err());
        assert!(
            parse_kwh("-0,5", true)
                .expect_err("negative")
                .contains("negative")
        );
        assert!(parse_kwh("", true).expect_err("empty").contains("empty"));
    }

    #[test]
    fn month_names_in_export_names() {
        assert_eq!(month_in_name("ExportData_settembre.csv"), Some(9));
        assert_eq!(
            month_in_name("ExportData_MARZO_IT001E00112233_immessa.csv"),
            Some(3)
        );
        assert_eq!(month_in_name("ExportData_IT001E00112233.csv"), None);
        // A month name inside another word is not one.
        assert_eq!(month_in_name("ExportData_marzolino.csv"), None);
    }

    #[test]
    fn finds_pod_and_direction_in_names() {
        assert_eq!(
            pod_in_text(MARZO_NAME),
            Ok(Some("IT001E00112233".to_owned()))
        );
        assert_eq!(
            pod_in_text("curve_it001e00112233a_2.8.0.csv"),
            Ok(Some("IT001E00112233A".to_owned()))
        );
        // No boundary after the 15th character: the letter starts a word, not a check digit.
        assert_eq!(
            pod_in_text("ExportData_IT001E00112233immessa.csv"),
            Ok(Some("IT001E00112233".to_owned()))
        );
        assert_eq!(pod_in_text("ExportData_gennaio.csv"), Ok(None));
        assert!(pod_in_text("IT001E00112233_IT001E99999999.csv").is_err());

        assert_eq!(
            direction_in_text(MARZO_NAME),
            Ok(Some(Direction::Injection))
        );
        assert_eq!(
            direction_in_text(OTTOBRE_NAME),
            Ok(Some(Direction::Withdrawal))
        );
        assert_eq!(
            direction_in_text("curve_2.8.0.csv"),
            Ok(Some(Direction::Injection))
        );
        assert_eq!(
            direction_in_text("curve_1.8.0.csv"),
            Ok(Some(Direction::Withdrawal))
        );
        assert_eq!(
            direction_in_text("pod_A2.csv"),
            Ok(Some(Direction::Injection))
        );
        assert_eq!(
            direction_in_text("pod-a1-marzo.csv"),
            Ok(Some(Direction::Withdrawal))
        );
        // "data1" is not A1, "11.8.0" is not 1.8.0.
        assert_eq!(direction_in_text("data1.csv"), Ok(None));
        assert_eq!(direction_in_text("x11.8.0.csv"), Ok(None));
        assert!(direction_in_text("immessa_e_prelevata.csv").is_err());
    }

    // --- long format -------------------------------------------------------------------------

    #[test]
    fn long_semicolon_fixture_with_offsets_and_decimal_comma() {
        let (format, readings, errors) = run(LONG_SEMICOLON, ParseOptions::default());
        assert_eq!(format, Format::Long);
        assert_eq!(errors, vec![]);
        assert_eq!(readings.len(), 32);
        assert!(readings.iter().all(|r| r.interval_minutes == 15));

        // Line 2: 2025-03-01T11:00:00+01:00 = 10:00Z, IMMISSIONE 0,762.
        assert_eq!(
            readings[0],
            Reading {
                line: 2,
                pod: "IT001E00112233".to_owned(),
                interval_start: 1_740_823_200,
                interval_minutes: 15,
                direction: Direction::Injection,
                wh: 762,
            }
        );
        // Line 18: 2025-03-01T10:00:00Z is the same instant, written in UTC.
        let line18 = &readings[16];
        assert_eq!(line18.line, 18);
        assert_eq!(line18.pod, "IT001E04455667A");
        assert_eq!(line18.interval_start, 1_740_823_200);
        assert_eq!(line18.wh, 914);
        // Last line: 11:45Z.
        assert_eq!(readings[31].interval_start, 1_740_829_500);
        assert_eq!(readings[31].direction, Direction::Withdrawal);
        // A '.' decimal (line 7: 0.783), a short decimal (line 5: 0,6) and a bare zero (line 13).
        assert_eq!(readings[5].wh, 783);
        assert_eq!(readings[3].wh, 600);
        assert_eq!(readings[11].wh, 0);

        let mut sums: HashMap<(&str, Direction), i64> = HashMap::new();
        for r in &readings {
            *sums.entry((r.pod.as_str(), r.direction)).or_default() += r.wh;
        }
        assert_eq!(sums[&("IT001E00112233", Direction::Injection)], 6096);
        assert_eq!(sums[&("IT001E00112233", Direction::Withdrawal)], 991);
        assert_eq!(sums[&("IT001E04455667A", Direction::Injection)], 7160);
        assert_eq!(sums[&("IT001E04455667A", Direction::Withdrawal)], 1353);
    }

    #[test]
    fn long_comma_local_fixture_hourly_across_autumn_change() {
        let (format, readings, errors) = run(LONG_COMMA_LOCAL, ParseOptions::default());
        assert_eq!(format, Format::Long);
        assert_eq!(errors, vec![]);
        use Direction::{Injection as I, Withdrawal as W};
        const A: &str = "IT001E00112233";
        const B: &str = "IT001E04455667A";
        // (line, pod, direction, UTC start, Wh); 26/10 02:00 is 00:00Z the first time a
        // (POD, direction) lists it and 01:00Z the second time.
        let expected = [
            (2, A, W, 1_761_426_000, 412),
            (3, A, W, 1_761_429_600, 305),
            (4, A, W, 1_761_433_200, 281),
            (5, A, W, 1_761_436_800, 264),
            (6, B, W, 1_761_436_800, 190),
            (7, A, I, 1_761_436_800, 0),
            (8, A, W, 1_761_440_400, 259),
            (9, A, W, 1_761_444_000, 247),
            (10, B, W, 1_761_440_400, 201),
            (11, A, I, 1_761_440_400, 0),
            (12, A, W, 1_761_447_600, 233),
            (13, A, I, 1_761_476_400, 2145),
            (14, A, I, 1_761_480_000, 1987),
            (15, B, W, 1_761_548_400, 512),
            (16, B, I, 1_752_573_600, 3004),
        ];
        assert_eq!(readings.len(), expected.len());
        for (r, (line, pod, direction, start, wh)) in readings.iter().zip(expected) {
            assert_eq!(
                (r.line, r.pod.as_str(), r.direction, r.interval_start, r.wh),
                (line, pod, direction, start, wh)
            );
            assert_eq!(r.interval_minutes, 60);
        }
    }

    #[test]
    fn long_errors_fixture_reports_each_bad_line() {
        let (_, readings, errors) = run(LONG_ERRORS, ParseOptions::default());
        let expected: [(u64, &[&str]); 10] = [
            (3, &["invalid POD", "IT001E0011223"]),
            (4, &["invalid kWh value", "0,4x1"]),
            (5, &["at most 3 decimal places", "0,4875"]),
            (7, &["invalid timestamp", "31/02/2025 11:15"]),
            (8, &["unknown direction", "CONSUMO"]),
            (9, &["30/03/2025 02:30", "does not exist"]),
            (11, &["expected 4 columns, found 3"]),
            (12, &["empty"]),
            (13, &["negative"]),
            (14, &["not aligned", "04:10"]),
        ];
        assert_eq!(errors.len(), expected.len(), "{errors:?}");
        for (error, (line, needles)) in errors.iter().zip(expected) {
            assert_eq!(error.line, line, "{error}");
            for needle in needles {
                assert!(error.message.contains(needle), "{error} lacks {needle}");
            }
        }
        let good: Vec<(u64, i64, Direction, i64)> = readings
            .iter()
            .map(|r| (r.line, r.interval_start, r.direction, r.wh))
            .collect();
        assert_eq!(
            good,
            vec![
                (2, 1_740_819_600, Direction::Injection, 512),
                (6, 1_740_823_200, Direction::Withdrawal, 120),
                (10, 1_743_296_400, Direction::Withdrawal, 101),
                (15, 1_743_300_900, Direction::Withdrawal, 93),
            ]
        );
    }

    #[test]
    fn long_local_times_in_the_repeated_hour_first_then_second_then_error() {
        let text = "datetime;pod;direction;kwh\n\
                    2025-10-26 02:15;IT001E00112233;A1;0,1\n\
                    2025-10-26T02:15;IT001E00112233;A1;0,2\n\
                    2025-10-26 02:15;IT001E00112233;A1;0,3\n\
                    2025-10-26 02:15;IT001E00112233;A2;0,4\n";
        let (_, readings, errors) = run(text, ParseOptions::default());
        // 02:15 CEST = 00:15Z, 02:15 CET = 01:15Z.
        let got: Vec<(u64, i64)> = readings
            .iter()
            .map(|r| (r.line, r.interval_start))
            .collect();
        assert_eq!(
            got,
            vec![(2, 1_761_437_700), (3, 1_761_441_300), (5, 1_761_437_700)]
        );
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 4);
        assert!(
            errors[0].message.contains("more than twice"),
            "{}",
            errors[0]
        );
    }

    #[test]
    fn long_interval_option_column_and_alignment() {
        let text =
            "timestamp,pod,direction,kwh\n2025-01-15T12:00:00+01:00,IT001E00112233,injection,1.5\n";
        let options = ParseOptions {
            interval_minutes: Some(60),
            ..ParseOptions::default()
        };
        let (_, readings, errors) = run(text, options);
        assert_eq!(errors, vec![]);
        assert_eq!(readings[0].interval_minutes, 60);
        assert_eq!(readings[0].interval_start, 1_736_938_800);
        assert_eq!(readings[0].wh, 1500);

        let bad_option = ParseOptions {
            interval_minutes: Some(30),
            ..ParseOptions::default()
        };
        let e = header_error("timestamp,pod,direction,kwh", bad_option);
        assert_eq!(e.line, 1);
        assert!(e.message.contains("15 or 60"));

        let text = "timestamp;pod;direction;kwh;interval_minutes\n\
                    2025-01-15T12:00:00+01:00;IT001E00112233;injection;1;30\n\
                    2025-01-15T12:15:00+01:00;IT001E00112233;injection;1;60\n\
                    2025-01-15T12:15:00+01:00;IT001E00112233;injection;1;\n\
                    2025-01-15T12:15:30+01:00;IT001E00112233;injection;1;15\n";
        let (_, readings, errors) = run(text, ParseOptions::default());
        let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![2, 3, 5]);
        assert!(errors[0].message.contains("15 or 60"));
        assert!(errors[1].message.contains("not aligned"));
        assert!(errors[2].message.contains("not aligned"));
        // An empty interval cell falls back to the default (15).
        assert_eq!(readings.len(), 1);
        assert_eq!((readings[0].line, readings[0].interval_minutes), (4, 15));
    }

    #[test]
    fn long_tolerates_bom_crlf_quotes_blank_lines_and_extra_columns() {
        let text = "\u{feff}\"Timestamp\";\"POD\";\"Direction\";\"kWh\";\"Note\"\r\n\
                    \"2025-01-15T11:00:00Z\";\"IT001E 0011 2233\";\"PRELIEVO\";\"0,25\";\"a; b\"\r\n\
                    \r\n\
                    ;;;;\r\n\
                    2025-01-15T11:15:00Z;IT001E00112233;PRELIEVO;0,25;;\r\n\
                    2025-01-15T11:30:00Z;IT001E00112233;PRELIEVO;0,25;;x\r\n";
        let (_, readings, errors) = run(text, ParseOptions::default());
        // A trailing separator is harmless; an extra non-empty cell is not.
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 6);
        assert!(
            errors[0].message.contains("expected 5 columns, found 6"),
            "{}",
            errors[0]
        );
        assert_eq!(readings.len(), 2);
        assert_eq!(readings[0].pod, "IT001E00112233");
        assert_eq!(readings[0].interval_start, 1_736_938_800);
        assert_eq!(readings[0].wh, 250);
    }

    #[test]
    fn header_detection_and_errors() {
        let e = header_error("foo;bar;baz", ParseOptions::default());
        assert_eq!(e.line, 1);
        assert!(e.message.contains("accepted layouts"), "{e}");
        assert!(e.message.contains("Giorno"), "{e}");
        let e = header_error("timestamp;pod;direction", ParseOptions::default());
        assert!(e.message.contains("kwh"), "{e}");
        let e = header_error(
            "timestamp;data_ora;pod;direction;kwh",
            ParseOptions::default(),
        );
        assert!(e.message.contains("twice"), "{e}");
        // A forced format must match the header.
        let forced = ParseOptions {
            format: Some(Format::EDistribuzione),
            ..named(MARZO_NAME)
        };
        assert!(
            header_error("timestamp;pod;direction;kwh", forced)
                .message
                .contains("Giorno")
        );
        let forced = ParseOptions {
            format: Some(Format::Long),
            ..ParseOptions::default()
        };
        assert!(
            header_error(&edis_header(), forced)
                .message
                .contains("timestamp")
        );
        let e = header_error("Giorno;00:00-00:15;00:15-00:30", named(MARZO_NAME));
        assert!(e.message.contains("has 2"), "{e}");
    }

    // --- e-distribuzione -------------------------------------------------------------------

    #[test]
    fn edis_march_fixture_with_spring_day() {
        let (format, readings, errors) = run(MARZO, named(MARZO_NAME));
        assert_eq!(format, Format::EDistribuzione);
        assert_eq!(errors, vec![]);
        assert!(readings.iter().all(|r| r.pod == "IT001E00112233"
            && r.direction == Direction::Injection
            && r.interval_minutes == 15));
        // Rows: 28/03 (line 2), 29/03, 30/03 (23 hours), 31/03 (line 5).
        let days = per_line(&readings);
        assert_eq!(days[&2], (96, 29_646));
        assert_eq!(days[&3], (96, 24_705));
        assert_eq!(days[&4], (92, 30_332));
        assert_eq!(days[&5], (96, 29_600));

        // 30/03 runs without a hole from 00:00 CET (29/03 23:00Z) to 31/03 00:00 CEST
        // (30/03 22:00Z = 1_743_372_000): 92 quarters of 900 s.
        let spring: Vec<i64> = readings
            .iter()
            .filter(|r| r.line == 4)
            .map(|r| r.interval_start)
            .collect();
        let expected: Vec<i64> = (0..92).map(|i| 1_743_289_200 + 900 * i).collect();
        assert_eq!(spring, expected);
        assert_eq!(1_743_289_200 + 92 * 900, 1_743_372_000);
        let at = |line: u64, start: i64| {
            readings
                .iter()
                .find(|r| r.line == line && r.interval_start == start)
                .map(|r| r.wh)
        };
        assert_eq!(at(4, 1_743_295_500), Some(0)); // 30/03 01:45
        assert_eq!(at(4, 1_743_296_400), Some(0)); // 30/03 03:00 = 01:00Z
        assert_eq!(at(4, 1_743_328_800), Some(1056)); // 30/03 12:00 CEST
        assert_eq!(at(2, 1_743_159_600), Some(1051)); // 28/03 12:00 CET
        assert_eq!(readings[0].interval_start, 1_743_116_400); // 28/03 00:00 CET
    }

    #[test]
    fn edis_october_fixture_with_duplicated_autumn_day() {
        let (format, readings, errors) = run(OTTOBRE, named(OTTOBRE_NAME));
        assert_eq!(format, Format::EDistribuzione);
        assert_eq!(errors, vec![]);
        assert!(
            readings
                .iter()
                .all(|r| r.direction == Direction::Withdrawal)
        );
        // 25/10 (line 2), 26/10 (line 3 + its duplicate, line 4), 27/10 (line 5).
        let days = per_line(&readings);
        assert_eq!(days[&2], (96, 13_620));
        let (first_count, first_sum) = days[&3];
        let (second_count, second_sum) = days[&4];
        assert_eq!((first_count, second_count), (96, 4));
        assert_eq!(first_count + second_count, 100);
        assert_eq!(first_sum + second_sum, 13_897);
        assert_eq!(days[&5], (96, 13_632));

        // The 25-hour day, in time order: 00:00 CEST (25/10 22:00Z) to 27/10 00:00 CET.
        let autumn: Vec<i64> = readings
            .iter()
            .filter(|r| r.line == 3 || r.line == 4)
            .map(|r| r.interval_start)
            .collect();
        let expected: Vec<i64> = (0..100).map(|i| 1_761_429_600 + 900 * i).collect();
        assert_eq!(autumn, expected);
        let find = |start: i64| {
            readings
                .iter()
                .find(|r| r.interval_start == start)
                .map(|r| (r.line, r.wh))
        };
        assert_eq!(find(1_761_436_800), Some((3, 75))); // 02:00 first (CEST)
        assert_eq!(find(1_761_440_400), Some((4, 62))); // 02:00 second (CET)
        assert_eq!(find(1_761_443_100), Some((4, 64))); // 02:45 second
        assert_eq!(readings[0].interval_start, 1_761_343_200); // 25/10 00:00 CEST
        assert_eq!(
            readings.last().map(|r| r.interval_start),
            Some(1_761_605_100)
        ); // 27/10 23:45
    }

    #[test]
    fn edis_spring_day_with_92_columns() {
        let text = format!("{}\n{}\n", edis_header(), indexed_row("30/03/2025", 92));
        let (_, readings, errors) = run(&text, named(MARZO_NAME));
        assert_eq!(errors, vec![]);
        assert_eq!(readings.len(), 92);
        // Column k holds k Wh: 0 + 1 + … + 91 = 4186.
        assert_eq!(readings.iter().map(|r| r.wh).sum::<i64>(), 4186);
        let start_of = |wh: i64| {
            readings
                .iter()
                .find(|r| r.wh == wh)
                .map(|r| r.interval_start)
        };
        assert_eq!(start_of(7), Some(1_743_295_500)); // column 7 = 01:45 CET
        assert_eq!(start_of(8), Some(1_743_296_400)); // column 8 = 03:00 CEST
        assert_eq!(start_of(91), Some(1_743_371_100)); // 23:45 CEST = 21:45Z
    }

    #[test]
    fn edis_spring_day_gap_cells_must_be_empty_or_zero() {
        let mut zeros: Vec<String> = (0..96).map(|_| "1".to_owned()).collect();
        zeros[8] = "0".to_owned();
        zeros[9] = "0,000".to_owned();
        zeros[10] = String::new();
        zeros[11] = "0.0".to_owned();
        let mut nonzero = zeros.clone();
        nonzero[9] = "0,010".to_owned();
        let text = format!(
            "{}\n30/03/2025;{}\n30/03/2024;{}\n31/03/2024;{}\n",
            edis_header(),
            zeros.join(";"),
            nonzero.join(";"),
            nonzero.join(";"),
        );
        // 31/03/2024 was the spring day of 2024; 30/03/2024 an ordinary Saturday.
        let (_, readings, errors) = run(&text, named(MARZO_NAME));
        let days = per_line(&readings);
        assert_eq!(days[&2], (92, 92_000));
        // Ordinary day: 92 cells of 1 kWh, "0", "0,010", a gap and "0.0" → 95 readings.
        assert_eq!(days[&3], (95, 92_010));
        assert!(!days.contains_key(&4));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 4);
        assert!(errors[0].message.contains("02:15"), "{}", errors[0]);
        assert!(
            errors[0].message.contains("does not exist"),
            "{}",
            errors[0]
        );
    }

    #[test]
    fn edis_autumn_day_with_100_values() {
        let text = format!(
            "{}\n{}\n{}\n",
            edis_header(),
            indexed_row("26/10/2025", 100),
            indexed_row("26/10/2025", 96)
        );
        let (_, readings, errors) = run(&text, named(OTTOBRE_NAME));
        assert_eq!(readings.len(), 100);
        // 0 + 1 + … + 99 = 4950.
        assert_eq!(readings.iter().map(|r| r.wh).sum::<i64>(), 4950);
        // In column order the 25 hours follow each other: column k starts at 22:00Z + k × 15'.
        for r in &readings {
            assert_eq!(r.interval_start, 1_761_429_600 + 900 * r.wh);
        }
        let start_of = |wh: i64| {
            readings
                .iter()
                .find(|r| r.wh == wh)
                .map(|r| r.interval_start)
        };
        assert_eq!(start_of(8), Some(1_761_436_800)); // 02:00 first
        assert_eq!(start_of(12), Some(1_761_440_400)); // 02:00 second
        assert_eq!(start_of(16), Some(1_761_444_000)); // 03:00 CET
        // A full 100-value day needs no duplicate row.
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 3);
        assert!(errors[0].message.contains("duplicate day"), "{}", errors[0]);
    }

    #[test]
    fn edis_autumn_day_held_back_until_next_line_or_finish() {
        let header = edis_header();
        let mut parser = MeterFileParser::new(&header, named(OTTOBRE_NAME)).expect("header");
        let mut out = Vec::new();
        parser
            .parse_line(2, &indexed_row("26/10/2025", 96), &mut out)
            .expect("row");
        assert!(out.is_empty(), "waits for a possible duplicate row");
        parser.parse_line(3, "", &mut out).expect("blank");
        assert!(out.is_empty(), "a blank line is not the next row");
        parser.finish(&mut out).expect("finish");
        assert_eq!(out.len(), 96);
        // Without a duplicate, 02:xx are the first (CEST) occurrence; the CET hour is a gap.
        let start_of = |wh: i64| out.iter().find(|r| r.wh == wh).map(|r| r.interval_start);
        assert_eq!(start_of(8), Some(1_761_436_800));
        assert_eq!(start_of(11), Some(1_761_439_500));
        assert_eq!(start_of(12), Some(1_761_444_000)); // 03:00 CET
        parser.finish(&mut out).expect("second finish");
        assert_eq!(out.len(), 96);

        // Another day on the next line flushes it too.
        let mut parser = MeterFileParser::new(&header, named(OTTOBRE_NAME)).expect("header");
        let mut out = Vec::new();
        parser
            .parse_line(2, &indexed_row("26/10/2025", 96), &mut out)
            .expect("row");
        parser
            .parse_line(3, &indexed_row("27/10/2025", 96), &mut out)
            .expect("row");
        assert_eq!(per_line(&out)[&2].0, 96);
        assert_eq!(per_line(&out)[&3].0, 96);
    }

    #[test]
    fn edis_autumn_duplicate_row_must_agree_outside_the_repeated_hour() {
        let first: Vec<String> = (0..96).map(|_| "0,100".to_owned()).collect();
        let mut second: Vec<String> = (0..96).map(|_| String::new()).collect();
        second[8] = "0,050".to_owned();
        second[40] = "0,1".to_owned(); // equal as a number
        second[50] = "0,101".to_owned(); // differs
        let text = format!(
            "{}\n26/10/2025;{}\n26/10/2025;{}\n26/10/2025;{}\n",
            edis_header(),
            first.join(";"),
            second.join(";"),
            first.join(";"),
        );
        let (_, readings, errors) = run(&text, named(OTTOBRE_NAME));
        // The first row stands on its own; the refused duplicate adds nothing.
        assert_eq!(per_line(&readings)[&2], (96, 9600));
        assert_eq!(readings.len(), 96);
        let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 4]);
        assert!(errors[0].message.contains("12:30"), "{}", errors[0]);
        assert!(errors[0].message.contains("line 2"), "{}", errors[0]);
        assert!(errors[1].message.contains("duplicate day"), "{}", errors[1]);
    }

    #[test]
    fn edis_duplicate_ordinary_day_gap_and_bad_rows() {
        let mut gap: Vec<String> = (0..96).map(|_| "0,2".to_owned()).collect();
        gap[95] = String::new(); // last quarter not yet measured
        let text = format!(
            "{header}\r\n25/10/2025;{gap};\r\n{a}\r\n{b}\r\n{a}\r\n32/10/2025;1\r\n{short}\r\n{bad}\r\n",
            header = edis_header(),
            gap = gap.join(";"),
            a = indexed_row("24/10/2025", 96),
            b = indexed_row("27/10/2025", 96),
            short = indexed_row("28/10/2025", 92),
            bad = indexed_row("29/10/2025", 95) + ";0,0001",
        );
        let (_, readings, errors) = run(&text, named(OTTOBRE_NAME));
        let days = per_line(&readings);
        // Trailing separator tolerated; the empty cell is a gap, not a zero.
        assert_eq!(days[&2], (95, 19_000));
        assert_eq!(days[&3].0, 96);
        assert_eq!(days[&4].0, 96);
        assert_eq!(days.len(), 3);
        let got: Vec<u64> = errors.iter().map(|e| e.line).collect();
        assert_eq!(got, vec![5, 6, 7, 8]);
        assert!(
            errors[0].message.contains("duplicate day 24/10/2025"),
            "{}",
            errors[0]
        );
        assert!(errors[0].message.contains("line 3"), "{}", errors[0]);
        assert!(errors[1].message.contains("invalid day"), "{}", errors[1]);
        assert!(errors[2].message.contains("found 92"), "{}", errors[2]);
        assert!(errors[3].message.contains("23:45"), "{}", errors[3]);
        assert!(
            errors[3].message.contains("at most 3 decimal places"),
            "{}",
            errors[3]
        );
    }

    #[test]
    fn edis_pod_and_direction_sources() {
        let header = edis_header();
        let e = header_error(&header, named("ExportData_marzo.csv"));
        assert_eq!(e.line, 1);
        assert!(e.message.starts_with("POD and direction missing"), "{e}");
        let e = header_error(&header, named("ExportData_marzo_immessa.csv"));
        assert!(e.message.starts_with("POD missing"), "{e}");
        let e = header_error(&header, named("ExportData_IT001E00112233.csv"));
        assert!(e.message.starts_with("direction missing"), "{e}");
        let e = header_error(&header, ParseOptions::default());
        assert!(e.message.starts_with("POD and direction missing"), "{e}");

        // Options win over the file name.
        let options = ParseOptions {
            pod: Some("it002e99887766".to_owned()),
            direction: Some(Direction::Withdrawal),
            ..named(MARZO_NAME)
        };
        let text = format!("{header}\n{}\n", indexed_row("15/01/2025", 96));
        let (_, readings, _) = run(&text, options);
        assert_eq!(readings[0].pod, "IT002E99887766");
        assert_eq!(readings[0].direction, Direction::Withdrawal);
        // 15/01/2025 00:00 CET = 14/01 23:00Z.
        assert_eq!(readings[0].interval_start, 1_736_938_800 - 12 * 3600);

        let bad = ParseOptions {
            pod: Some("IT001".to_owned()),
            ..named(MARZO_NAME)
        };
        assert!(header_error(&header, bad).message.contains("invalid POD"));

        // The header may carry them when the file was renamed (labels are only counted).
        let labelled = header.replacen(
            ";00:00-00:15",
            ";IT001E00112233 energia prelevata 00:00-00:15",
            1,
        );
        let text = format!("{labelled}\n{}\n", indexed_row("15/01/2025", 96));
        let (_, readings, errors) = run(&text, named("ExportData_gennaio.csv"));
        assert_eq!(errors, vec![]);
        assert_eq!(readings.len(), 96);
        assert_eq!(readings[0].pod, "IT001E00112233");
        assert_eq!(readings[0].direction, Direction::Withdrawal);
    }

    #[test]
    fn edis_interval_option_must_be_quarter_hour() {
        let options = ParseOptions {
            interval_minutes: Some(60),
            ..named(MARZO_NAME)
        };
        let e = header_error(&edis_header(), options);
        assert!(e.message.contains("quarter-hourly"), "{e}");
    }
}
