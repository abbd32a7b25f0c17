//! Zonal-price files as an operator receives them, read whole (a year of quarter-hours for
//! every zone is a few megabytes) and recognised from their content.
//!
//! Three layouts:
//! - `long`, our own `timestamp;zone;eur_mwh[;interval_minutes]`, one price per line
//!   ([`PriceFileParser`]);
//! - `gme_xml`, GME's day-ahead market (MGP) price results exactly as downloaded from
//!   mercatoelettrico.org (`20251026MGPPrezzi.xml`);
//! - `gme_table`, the same results as a table: GME's spreadsheet saved as CSV by Excel
//!   (`;`, decimal comma, Windows-1252) or any CSV with a day column, an hour or period column
//!   and one column per zone.
//!
//! GME publishes no schema beside the one its files carry inline. What this reader follows:
//! - the files themselves: a `NewDataSet` root, an inline `xs:schema` (skipped), then one record
//!   per hour — `Prezzi` with `Data` (`yyyymmdd`), `Mercato` (`MGP`), `Ora` (1–25), `PUN` and one
//!   element per zone (`NORD`, `CNOR`, `CSUD`, `SUD`, `CALA`, `SICI`, `SARD`, foreign and
//!   coupling zones) — or, since the 15-minute market of 1 October 2025, per quarter-hour —
//!   `Prezzi15` with `Periodo` (1–100) and `Granularity` (`PT15`); €/MWh with a decimal comma
//!   (`95,123456`);
//! - the open-source reader of the Home Assistant integration `virtualdj/pun_sensor`
//!   (`custom_components/pun_sensor/utils.py`: `extract_xml`, `get_datetime_from_periodo_15min`,
//!   October 2025), which reads `Ora` and `Periodo` as intervals elapsed since the Italian
//!   midnight: the day summer time starts has 23 hours (92 periods), the day it ends 25 (100),
//!   its repeated hour in order;
//! - `../shared/docs/GSE_RULES.md` §0.1 (one column per zone, keyed by date and hour/period).
//!
//! Only the seven Italian bidding zones are prices of a configuration; the national price
//! (`PUN`) and the foreign and coupling zones are left out and named in the result, never
//! dropped silently.
use std::borrow::Cow;
use std::collections::BTreeSet;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::market::{PriceFileParser, PricePoint, PriceRow};
use super::member_sheet::Encoding;
use super::meter_files::{describe_header, detect_separator, split_cells};

/// The price layouts we read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PriceFormat {
    Long,
    GmeXml,
    GmeTable,
    /// GME's results as an Excel workbook (`.xlsx`): the table on the prices sheet.
    GmeWorkbook,
}

impl PriceFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            PriceFormat::Long => "long",
            PriceFormat::GmeXml => "gme_xml",
            PriceFormat::GmeTable => "gme_table",
            PriceFormat::GmeWorkbook => "gme_xlsx",
        }
    }

    /// A format as a person names it (`gme` and `xml` for the XML, `gme_csv` for the table).
    pub fn parse(text: &str) -> Option<PriceFormat> {
        match text.trim().to_ascii_lowercase().as_str() {
            "long" => Some(PriceFormat::Long),
            "gme_xml" | "gme" | "xml" => Some(PriceFormat::GmeXml),
            "gme_table" | "gme_csv" => Some(PriceFormat::GmeTable),
            "gme_xlsx" | "xlsx" => Some(PriceFormat::GmeWorkbook),
            _ => None,
        }
    }
}

/// What we read, for the refusal of a file none of them recognises.
const FORMATS_WE_READ: &str = "`long` (timestamp;zone;eur_mwh[;interval_minutes]), `gme_xml` (GME's MGP price results, MGPPrezzi.xml, or a ZIP of them), `gme_table` (GME's price table as CSV: Data;Ora or Periodo;NORD;CNOR;…) and `gme_xlsx` (the same table as an Excel workbook)";

/// What the caller knows besides the content.
#[derive(Clone, Copy, Debug)]
pub struct PriceFileOptions<'a> {
    /// Force a layout instead of detecting it.
    pub format: Option<PriceFormat>,
    /// Interval of long-format lines without an `interval_minutes` column.
    pub default_minutes: u32,
    /// The zones whose prices are kept (upper case).
    pub zones: &'a [&'a str],
    /// How the bytes were decoded, to describe a file no layout takes.
    pub encoding: Encoding,
}

/// A file read: its layout, its prices with the line each came from, and what it held besides.
#[derive(Debug)]
pub struct PriceFile {
    pub format: PriceFormat,
    pub rows: Vec<(u64, PriceRow)>,
    /// Columns or elements with prices that are not an Italian zone's (`PUN`, `AUST`, …).
    pub left_out: BTreeSet<String>,
}

/// A refusal by line (1 for the file as a whole).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriceProblem {
    pub line: u64,
    pub message: String,
}

impl PriceProblem {
    fn new(line: u64, message: impl Into<String>) -> PriceProblem {
        PriceProblem {
            line,
            message: message.into(),
        }
    }
}

/// At most this many problems are listed.
const LISTED_PROBLEMS: usize = 100;

/// Reads a whole price file (already decoded; a leading BOM is ignored).
pub fn read_price_file(
    text: &str,
    options: PriceFileOptions<'_>,
) -> Result<PriceFile, Vec<PriceProblem>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let format = match options.format {
        Some(format) => format,
        None => detect(text, options.zones, options.encoding)
            .map_err(|m| vec![PriceProblem::new(1, m)])?,
    };
    match format {
        PriceFormat::Long => read_long(text, options),
        PriceFormat::GmeXml => read_gme_xml(text, options.zones).map_err(|p| vec![p]),
        PriceFormat::GmeTable => read_gme_table(text, options.zones),
        PriceFormat::GmeWorkbook => Err(vec![PriceProblem::new(
            1,
            "the file is text, not an Excel workbook (.xlsx)",
        )]),
    }
}

/// Whether the bytes are a ZIP archive (GME's download page serves a range of days as a ZIP of
/// one XML file per day).
pub fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

/// The price files in a ZIP archive, by name in name order (GME names them by day:
/// `20251001MGPPrezzi.xml`). Folders and macOS's `__MACOSX` copies are skipped; any other
/// entry that is not `.xml` or `.csv` is refused, and so is an archive that holds more than
/// `max_files` files or unpacks to more than `max_bytes` (a ZIP bomb is never unpacked whole).
pub fn unzip(
    bytes: &[u8],
    max_files: usize,
    max_bytes: u64,
) -> Result<Vec<(String, Vec<u8>)>, String> {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| format!("the ZIP archive cannot be read: {e}"))?;
    let mut files = Vec::new();
    let mut total = 0u64;
    for index in 0..archive.len() {
        let mut entry = archive
            .by_index(index)
            .map_err(|e| format!("the ZIP archive cannot be read: {e}"))?;
        let name = entry
            .name()
            .map_err(|e| format!("a file name in the ZIP archive cannot be read: {e}"))?
            .to_string();
        if entry.is_dir() || name.starts_with("__MACOSX/") {
            continue;
        }
        let lower = name.to_ascii_lowercase();
        if !lower.ends_with(".xml") && !lower.ends_with(".csv") {
            return Err(format!(
                "the ZIP archive holds `{name}`, which is not a price file (.xml or .csv)"
            ));
        }
        if files.len() == max_files {
            return Err(format!(
                "the ZIP archive holds more than {max_files} files: import it in parts"
            ));
        }
        let mut content = Vec::new();
        (&mut entry)
            .take(max_bytes - total + 1)
            .read_to_end(&mut content)
            .map_err(|e| format!("{name} cannot be unpacked: {e}"))?;
        total += content.len() as u64;
        if total > max_bytes {
            return Err(format!(
                "the ZIP archive unpacks to more than {} MB: import it in parts",
                max_bytes / 1024 / 1024
            ));
        }
        files.push((name, content));
    }
    if files.is_empty() {
        return Err("the ZIP archive holds no .xml or .csv file".into());
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(files)
}

/// Recognises a layout from the content: XML by its first character and GME's elements, CSV
/// by its header's column names.
fn detect(text: &str, zones: &[&str], encoding: Encoding) -> Result<PriceFormat, String> {
    let encoding = encoding.name();
    let start = text.trim_start();
    if start.starts_with('<') {
        let head: String = start.chars().take(20_000).collect();
        if head.contains("<Prezzi") || head.contains("<NewDataSet") {
            return Ok(PriceFormat::GmeXml);
        }
        if head.contains("DatiPod") || head.contains("<Curva") {
            return Err("this is a distributor's meter-data XML (DatiPod), not prices: upload it as meter data".into());
        }
        return Err(format!(
            "an XML file without GME's price records (Prezzi or Prezzi15 in a NewDataSet); we read {FORMATS_WE_READ}"
        ));
    }
    let header = Records::new(text)
        .next()
        .map(|(_, record)| record)
        .unwrap_or_default();
    if PriceFileParser::new(&header, 60).is_ok() {
        return Ok(PriceFormat::Long);
    }
    if TableColumns::find(&header, zones).is_ok() {
        return Ok(PriceFormat::GmeTable);
    }
    let lower = header.to_ascii_lowercase();
    if lower.contains("pod") || (lower.contains("giorno") && lower.contains("00:00")) {
        return Err(format!(
            "this looks like meter data, not prices ({}, read as {encoding}); we read {FORMATS_WE_READ}",
            describe_header(&header)
        ));
    }
    Err(format!(
        "the file is not a price layout we read: {}, read as {encoding}; we read {FORMATS_WE_READ}",
        describe_header(&header)
    ))
}

/// Logical CSV records with the line each starts on; a record whose quotes are open goes on
/// to the next line.
struct Records<'a> {
    lines: std::iter::Enumerate<std::str::Lines<'a>>,
}

impl<'a> Records<'a> {
    fn new(text: &'a str) -> Records<'a> {
        Records {
            lines: text.lines().enumerate(),
        }
    }
}

impl Iterator for Records<'_> {
    type Item = (u64, String);

    fn next(&mut self) -> Option<(u64, String)> {
        let (index, first) = self.lines.next()?;
        let mut record = first.trim_end_matches('\r').to_string();
        while record.matches('"').count() % 2 == 1 {
            match self.lines.next() {
                Some((_, more)) => {
                    record.push('\n');
                    record.push_str(more.trim_end_matches('\r'));
                }
                None => break,
            }
        }
        Some((index as u64 + 1, record))
    }
}

fn read_long(text: &str, options: PriceFileOptions<'_>) -> Result<PriceFile, Vec<PriceProblem>> {
    let mut lines = text.lines().enumerate();
    let header = lines.next().map(|(_, l)| l).unwrap_or_default();
    let mut parser = PriceFileParser::new(header.trim_end_matches('\r'), options.default_minutes)
        .map_err(|m| vec![PriceProblem::new(1, m)])?;
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for (index, line) in lines {
        let content = line.trim_end_matches('\r').trim_end();
        if content.is_empty() {
            continue;
        }
        match parser.parse_line(content, options.zones) {
            Ok(row) => rows.push((index as u64 + 1, row)),
            Err(message) => problems.push(PriceProblem::new(index as u64 + 1, message)),
        }
        if problems.len() >= LISTED_PROBLEMS {
            break;
        }
    }
    if problems.is_empty() {
        Ok(PriceFile {
            format: PriceFormat::Long,
            rows,
            left_out: BTreeSet::new(),
        })
    } else {
        Err(problems)
    }
}

/// UNIX seconds of the start of interval `ordinal` (1-based) of `minutes` on the Italian
/// `day`, counting the time elapsed since midnight: the day's real length decides how many
/// there are (23, 24 or 25 hours).
fn ordinal_start(day: NaiveDate, ordinal: u32, minutes: u32, what: &str) -> Result<i64, String> {
    if day.succ_opt().is_none() {
        return Err("the day is out of range".into());
    }
    let (start, end) = super::energy_series::local_days(day, day);
    let step = i64::from(minutes) * 60;
    let count = (end - start) / step;
    if ordinal == 0 || i64::from(ordinal) > count {
        let hours = (end - start) / 3600;
        let why = match hours {
            23 => " (summer time starts that day)",
            25 => " (summer time ends that day)",
            _ => "",
        };
        return Err(format!(
            "{what} {ordinal} does not exist on {}: that day has {count}{why}",
            day.format("%d/%m/%Y")
        ));
    }
    Ok(start + (i64::from(ordinal) - 1) * step)
}

/// A price as GME writes it: a decimal comma, dots only as thousands separators
/// (`1.234,5`). A dot without a comma is a decimal point unless it reads as thousands
/// (`1.234`), which could be either and is refused.
fn gme_price(raw: &str) -> Result<Decimal, String> {
    let text = raw.trim();
    if text.is_empty() {
        return Err("the price is empty".into());
    }
    let grouped = |digits: &str| {
        let digits = digits.strip_prefix('-').unwrap_or(digits);
        let mut groups = digits.split('.');
        let first = groups.next().unwrap_or_default();
        (1..=3).contains(&first.len())
            && first.bytes().all(|b| b.is_ascii_digit())
            && groups.all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()))
    };
    let plain = if let Some((whole, fraction)) = text.split_once(',') {
        if whole.contains('.') && !grouped(whole) {
            return Err(format!("`{text}` is not a price"));
        }
        format!("{}.{fraction}", whole.replace('.', ""))
    } else if text.contains('.') && grouped(text) {
        return Err(format!(
            "`{text}` could be thousands or decimals: GME writes the decimal comma (`{}`)",
            text.replacen('.', ",", 1)
        ));
    } else {
        text.to_string()
    };
    let valid = plain
        .strip_prefix('-')
        .unwrap_or(&plain)
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'.');
    let price = if valid {
        Decimal::from_str_exact(&plain).ok()
    } else {
        None
    };
    let price = price.ok_or_else(|| format!("`{text}` is not a price"))?;
    if price.normalize().scale() > 6 {
        return Err(format!("`{text}`: a price has at most 6 decimal places"));
    }
    Ok(price)
}

/// `yyyymmdd` as GME writes it, or `dd/mm/yyyy` and `yyyy-mm-dd` as a spreadsheet may.
fn gme_day(text: &str) -> Result<NaiveDate, String> {
    let text = text.trim();
    ["%Y%m%d", "%d/%m/%Y", "%Y-%m-%d"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(text, f).ok())
        .ok_or_else(|| format!("the day `{text}` is not yyyymmdd, dd/mm/yyyy or yyyy-mm-dd"))
}

/// The market of a record: only the day-ahead market's prices are zonal prices for the tariff.
fn check_market(market: &str) -> Result<(), String> {
    if market.trim().eq_ignore_ascii_case("MGP") {
        Ok(())
    } else {
        Err(format!(
            "Mercato `{}`: only the day-ahead market's (MGP) prices are the zonal prices the tariff uses",
            market.trim()
        ))
    }
}

/// `PT15`/`PT60` (also `15`/`60`) to minutes.
fn granularity(text: &str) -> Result<u32, String> {
    match text.trim().to_ascii_uppercase().as_str() {
        "PT15" | "PT15M" | "15" => Ok(15),
        "PT60" | "PT60M" | "PT1H" | "60" => Ok(60),
        other => Err(format!("Granularity `{other}` is neither PT15 nor PT60")),
    }
}

/// The columns of a record that name neither the time, the market nor an Italian zone.
fn is_time_or_market(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "data"
            | "date"
            | "mercato"
            | "market"
            | "ora"
            | "hour"
            | "periodo"
            | "period"
            | "granularity"
            | "granularità"
            | "granularita"
    )
}

// ---------------------------------------------------------------------------------------------
// GME XML
// ---------------------------------------------------------------------------------------------

/// One record as read: its element, its line and its children's text.
struct Record {
    name: String,
    line: u64,
    fields: Vec<(String, String, u64)>,
}

fn read_gme_xml(text: &str, zones: &[&str]) -> Result<PriceFile, PriceProblem> {
    use quick_xml::events::Event;
    let newlines: Vec<usize> = text
        .bytes()
        .enumerate()
        .filter(|(_, b)| *b == b'\n')
        .map(|(i, _)| i)
        .collect();
    let line_at = |offset: u64| {
        let offset = usize::try_from(offset).unwrap_or(usize::MAX);
        newlines.partition_point(|n| *n < offset) as u64 + 1
    };
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut depth = 0usize;
    let mut record: Option<Record> = None;
    let mut field: Option<(String, u64)> = None;
    let mut file = PriceFile {
        format: PriceFormat::GmeXml,
        rows: Vec::new(),
        left_out: BTreeSet::new(),
    };
    let mut records = 0usize;
    loop {
        let before = reader.buffer_position();
        let event = reader.read_event().map_err(|e| {
            // A file cut short fails on its last, unfinished tag.
            let at_end =
                usize::try_from(reader.buffer_position()).is_ok_and(|p| p >= text.trim_end().len());
            let what = if at_end {
                "the XML ends in the middle of a tag: the file is cut short"
            } else {
                "the XML is not well-formed"
            };
            PriceProblem::new(line_at(before), format!("{what} ({e})"))
        })?;
        let line = line_at(reader.buffer_position().saturating_sub(1));
        match event {
            Event::Start(element) => {
                let name = String::from_utf8_lossy(element.local_name().as_ref()).into_owned();
                depth += 1;
                if name == "schema" {
                    // The inline `xs:schema` describes the records; it is not data.
                    reader.read_to_end(element.name()).map_err(|e| {
                        PriceProblem::new(line, format!("the inline schema is cut short: {e}"))
                    })?;
                    depth -= 1;
                    continue;
                }
                match depth {
                    1 => {}
                    2 => {
                        if !name.starts_with("Prezzi") {
                            return Err(PriceProblem::new(
                                line,
                                format!(
                                    "a `{name}` record: this GME file is not the price results (MGPPrezzi.xml)"
                                ),
                            ));
                        }
                        record = Some(Record {
                            name,
                            line,
                            fields: Vec::new(),
                        });
                    }
                    3 => field = Some((name, line)),
                    _ => {
                        return Err(PriceProblem::new(
                            line,
                            format!("`{name}` is nested deeper than a price record's fields"),
                        ));
                    }
                }
            }
            Event::Empty(element) => {
                let name = String::from_utf8_lossy(element.local_name().as_ref()).into_owned();
                if let Some(record) = record.as_mut().filter(|_| depth == 2) {
                    record.fields.push((name, String::new(), line));
                }
            }
            Event::Text(content) => {
                if let (Some(record), Some((name, field_line))) = (record.as_mut(), field.as_ref())
                {
                    let value = content
                        .decode()
                        .map_err(|e| PriceProblem::new(line, format!("unreadable text: {e}")))?
                        .trim()
                        .to_string();
                    record.fields.push((name.clone(), value, *field_line));
                }
            }
            Event::End(_) => {
                match depth {
                    3 => {
                        // An element with no text (`<SARD></SARD>`) is an empty field.
                        if let (Some(record), Some((name, field_line))) =
                            (record.as_mut(), field.take())
                            && !record
                                .fields
                                .iter()
                                .any(|(n, _, l)| *n == name && *l == field_line)
                        {
                            record.fields.push((name, String::new(), field_line));
                        }
                    }
                    2 => {
                        if let Some(done) = record.take() {
                            records += 1;
                            xml_record(&done, zones, &mut file)?;
                        }
                    }
                    _ => {}
                }
                depth = depth.saturating_sub(1);
            }
            Event::Eof => {
                if depth > 0 {
                    return Err(PriceProblem::new(
                        line_at(text.len() as u64),
                        "the XML ends inside an element: the file is cut short",
                    ));
                }
                break;
            }
            _ => {}
        }
    }
    if records == 0 {
        return Err(PriceProblem::new(
            1,
            "the XML has no price records (Prezzi or Prezzi15)",
        ));
    }
    Ok(file)
}

/// One `Prezzi`/`Prezzi15` record into a price per Italian zone.
fn xml_record(record: &Record, zones: &[&str], file: &mut PriceFile) -> Result<(), PriceProblem> {
    let field = |name: &str| {
        record
            .fields
            .iter()
            .find(|(n, _, _)| n.eq_ignore_ascii_case(name))
    };
    let missing = |what: &str| {
        PriceProblem::new(
            record.line,
            format!("a {} record without its {what}", record.name),
        )
    };
    let (_, day, day_line) = field("Data").ok_or_else(|| missing("Data"))?;
    let day = gme_day(day).map_err(|m| PriceProblem::new(*day_line, format!("Data: {m}")))?;
    if let Some((_, market, line)) = field("Mercato") {
        check_market(market).map_err(|m| PriceProblem::new(*line, m))?;
    }
    let (ordinal_field, mut minutes) = match (field("Ora"), field("Periodo")) {
        (Some(hour), _) => (hour, 60),
        (None, Some(period)) => (period, 15),
        (None, None) => return Err(missing("Ora or Periodo")),
    };
    if let Some((_, text, line)) = field("Granularity") {
        minutes = granularity(text).map_err(|m| PriceProblem::new(*line, m))?;
    }
    let (what, text, line) = ordinal_field;
    let ordinal: u32 = text
        .parse()
        .map_err(|_| PriceProblem::new(*line, format!("{what} `{text}` is not a number")))?;
    let start =
        ordinal_start(day, ordinal, minutes, what).map_err(|m| PriceProblem::new(*line, m))?;
    for (name, value, line) in &record.fields {
        let zone = name.to_ascii_uppercase();
        if zones.contains(&zone.as_str()) {
            let eur_mwh =
                gme_price(value).map_err(|m| PriceProblem::new(*line, format!("{zone}: {m}")))?;
            file.rows.push((
                *line,
                PriceRow {
                    zone,
                    point: PricePoint {
                        start,
                        minutes,
                        eur_mwh,
                    },
                },
            ));
        } else if !is_time_or_market(name) {
            file.left_out.insert(name.clone());
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// GME table (CSV)
// ---------------------------------------------------------------------------------------------

/// Where a table's columns are.
#[derive(Debug)]
struct TableColumns {
    separator: char,
    day: usize,
    /// The hour (`Ora`, 60 minutes) or quarter-hour (`Periodo`, 15 minutes) column.
    ordinal: (usize, u32, &'static str),
    market: Option<usize>,
    granularity: Option<usize>,
    /// Each Italian zone's column.
    zones: Vec<(usize, String)>,
    left_out: BTreeSet<String>,
}

impl TableColumns {
    /// A header's names, read as GME's spreadsheet writes them (`Data/Date\n(YYYYMMDD)`,
    /// `Ora\n/Hour`): the part before a `/`, `(` or line break, in any case.
    fn find(header: &str, zones: &[&str]) -> Result<TableColumns, String> {
        let separator = detect_separator(header.lines().next().unwrap_or_default());
        let cells = split_cells(header, separator);
        TableColumns::named(&cells, separator, zones)
    }

    /// The columns of a header row's cells (a CSV's or a sheet's).
    fn named(
        cells: &[Cow<'_, str>],
        separator: char,
        zones: &[&str],
    ) -> Result<TableColumns, String> {
        let names: Vec<String> = cells
            .iter()
            .map(|cell| {
                cell.split(['/', '(', '\n'])
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_lowercase()
            })
            .collect();
        let find =
            |candidates: &[&str]| names.iter().position(|n| candidates.contains(&n.as_str()));
        let day = find(&["data", "date", "giorno"]).ok_or("no Data column")?;
        let ordinal = match (find(&["ora", "hour"]), find(&["periodo", "period"])) {
            (Some(i), _) => (i, 60, "Ora"),
            (None, Some(i)) => (i, 15, "Periodo"),
            (None, None) => return Err("no Ora or Periodo column".into()),
        };
        let mut columns = TableColumns {
            separator,
            day,
            ordinal,
            market: find(&["mercato", "market"]),
            granularity: find(&["granularity", "granularità", "granularita"]),
            zones: Vec::new(),
            left_out: BTreeSet::new(),
        };
        for (i, name) in names.iter().enumerate() {
            let upper = name.to_uppercase();
            if zones.contains(&upper.as_str()) {
                columns.zones.push((i, upper));
            } else if !name.is_empty() && !is_time_or_market(name) {
                columns.left_out.insert(upper);
            }
        }
        if columns.zones.is_empty() {
            return Err(format!(
                "no column for an Italian zone ({})",
                zones.join(", ")
            ));
        }
        Ok(columns)
    }
}

fn read_gme_table(text: &str, zones: &[&str]) -> Result<PriceFile, Vec<PriceProblem>> {
    let mut records = Records::new(text);
    let (_, header) = records.next().unwrap_or_default();
    let columns = TableColumns::find(&header, zones).map_err(|m| {
        vec![PriceProblem::new(
            1,
            format!("the header is not GME's price table: {m}"),
        )]
    })?;
    let separator = columns.separator;
    let rows = records.map(|(line, record)| {
        let cells = split_cells(&record, separator)
            .into_iter()
            .map(|c| Cow::Owned(c.into_owned()))
            .collect();
        (line, cells)
    });
    table_prices(&columns, PriceFormat::GmeTable, rows, |m| m)
}

/// A table's data rows — (line or sheet row, cells) — into prices; blank rows are skipped and
/// `place` says where a problem is.
fn table_prices<'a>(
    columns: &TableColumns,
    format: PriceFormat,
    rows: impl Iterator<Item = (u64, Vec<Cow<'a, str>>)>,
    place: impl Fn(String) -> String,
) -> Result<PriceFile, Vec<PriceProblem>> {
    let mut file = PriceFile {
        format,
        rows: Vec::new(),
        left_out: columns.left_out.clone(),
    };
    let mut problems = Vec::new();
    for (line, cells) in rows {
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if let Err(message) = table_row(columns, &cells, line, &mut file.rows) {
            problems.push(PriceProblem::new(line, place(message)));
            if problems.len() >= LISTED_PROBLEMS {
                break;
            }
        }
    }
    if problems.is_empty() {
        Ok(file)
    } else {
        Err(problems)
    }
}

fn table_row(
    columns: &TableColumns,
    cells: &[Cow<'_, str>],
    line: u64,
    rows: &mut Vec<(u64, PriceRow)>,
) -> Result<(), String> {
    let cell = |i: usize| {
        cells
            .get(i)
            .map(|c| c.as_ref())
            .ok_or_else(|| format!("the line has {} cells, the header more", cells.len()))
    };
    let day = gme_day(cell(columns.day)?)?;
    if let Some(i) = columns.market {
        check_market(cell(i)?)?;
    }
    let (index, mut minutes, what) = columns.ordinal;
    if let Some(i) = columns.granularity {
        minutes = granularity(cell(i)?)?;
    }
    let text = cell(index)?;
    let ordinal: u32 = text
        .parse()
        .map_err(|_| format!("{what} `{text}` is not a number"))?;
    let start = ordinal_start(day, ordinal, minutes, what)?;
    for (i, zone) in &columns.zones {
        let eur_mwh = gme_price(cell(*i)?).map_err(|m| format!("{zone}: {m}"))?;
        rows.push((
            line,
            PriceRow {
                zone: zone.clone(),
                point: PricePoint {
                    start,
                    minutes,
                    eur_mwh,
                },
            },
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// GME workbook (.xlsx)
// ---------------------------------------------------------------------------------------------

/// Whether a ZIP is an Excel workbook (it holds `xl/workbook.xml`).
pub fn is_workbook(bytes: &[u8]) -> bool {
    is_zip(bytes)
        && zip::ZipArchive::new(std::io::Cursor::new(bytes))
            .is_ok_and(|archive| archive.index_for_name("xl/workbook.xml").is_some())
}

/// A spreadsheet part as text, at most `max_bytes` of it.
fn workbook_part(
    archive: &mut zip::ZipArchive<std::io::Cursor<&[u8]>>,
    name: &str,
    max_bytes: u64,
) -> Result<Option<String>, String> {
    use std::io::Read;
    let Some(index) = archive.index_for_name(name) else {
        return Ok(None);
    };
    let entry = archive
        .by_index(index)
        .map_err(|e| format!("the workbook cannot be read: {e}"))?;
    let mut text = String::new();
    entry
        .take(max_bytes + 1)
        .read_to_string(&mut text)
        .map_err(|e| format!("the workbook's {name} cannot be read: {e}"))?;
    if text.len() as u64 > max_bytes {
        return Err(format!(
            "the workbook unpacks to more than {} MB: save the month alone",
            max_bytes / 1024 / 1024
        ));
    }
    Ok(Some(text))
}

/// An attribute of an element by its local name (`r:id` → `id` is asked as `r:id`).
fn attribute(element: &quick_xml::events::BytesStart<'_>, key: &str) -> Option<String> {
    element
        .attributes()
        .flatten()
        .find(|a| a.key.as_ref() == key.as_bytes())
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

/// An XML reference's text: the five named entities and character references (`&#10;`).
fn entity(reference: &[u8]) -> String {
    let name = String::from_utf8_lossy(reference);
    let code = match name.strip_prefix('#') {
        Some(hex) if hex.starts_with(['x', 'X']) => u32::from_str_radix(&hex[1..], 16).ok(),
        Some(decimal) => decimal.parse().ok(),
        None => None,
    };
    if let Some(c) = code.and_then(char::from_u32) {
        return c.to_string();
    }
    match name.as_ref() {
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" => "\"",
        "apos" => "'",
        _ => "",
    }
    .to_string()
}

/// A spreadsheet column's letters (`A`, `AB`) to its 0-based index.
fn column_index(reference: &str) -> Option<usize> {
    let letters: String = reference
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    if letters.is_empty() {
        return None;
    }
    Some(
        letters.bytes().fold(0usize, |n, b| {
            n * 26 + usize::from(b.to_ascii_uppercase() - b'A') + 1
        }) - 1,
    )
}

/// A number as a spreadsheet stores it: binary floating point, so a price of six decimals may
/// come back as `101.30000000000001`. A value within 10⁻⁹ of six decimals is that price;
/// anything further is kept as written (and refused by the price rules if it has too many
/// decimals).
fn spreadsheet_number(text: &str) -> String {
    let Ok(value) = Decimal::from_str_exact(text).or_else(|_| Decimal::from_scientific(text))
    else {
        return text.to_string();
    };
    let rounded = value.round_dp(6);
    if (value - rounded).abs() < Decimal::new(1, 9) {
        rounded.normalize().to_string()
    } else {
        value.to_string()
    }
}

/// The prices sheet's rows: (row number, cells by column).
fn sheet_rows(sheet: &str, shared: &[String]) -> Result<Vec<(u64, Vec<String>)>, PriceProblem> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(sheet);
    let mut rows: Vec<(u64, Vec<String>)> = Vec::new();
    // The open cell: its column, its type and its value so far.
    let mut cell: Option<(usize, String, String)> = None;
    let mut in_value = false;
    loop {
        let event = reader.read_event().map_err(|e| {
            PriceProblem::new(1, format!("the workbook's sheet cannot be read: {e}"))
        })?;
        match event {
            Event::Start(element) | Event::Empty(element)
                if element.local_name().as_ref() == b"row" =>
            {
                let number = attribute(&element, "r")
                    .and_then(|r| r.parse().ok())
                    .unwrap_or(rows.last().map_or(1, |(n, _)| n + 1));
                rows.push((number, Vec::new()));
            }
            Event::Start(element) if element.local_name().as_ref() == b"c" => {
                let column = attribute(&element, "r")
                    .and_then(|r| column_index(&r))
                    .unwrap_or_else(|| rows.last().map_or(0, |(_, cells)| cells.len()));
                let kind = attribute(&element, "t").unwrap_or_default();
                cell = Some((column, kind, String::new()));
            }
            Event::Start(element)
                if matches!(element.local_name().as_ref(), b"v" | b"t") && cell.is_some() =>
            {
                in_value = true;
            }
            Event::Text(text) if in_value => {
                if let Some((_, _, value)) = cell.as_mut() {
                    value.push_str(&text.decode().map_err(|e| {
                        PriceProblem::new(1, format!("the workbook's sheet cannot be read: {e}"))
                    })?);
                }
            }
            Event::GeneralRef(reference) if in_value => {
                if let Some((_, _, value)) = cell.as_mut() {
                    value.push_str(&entity(&reference));
                }
            }
            Event::End(element) => match element.local_name().as_ref() {
                b"v" | b"t" => in_value = false,
                b"c" => {
                    if let (Some((column, kind, value)), Some((_, cells))) =
                        (cell.take(), rows.last_mut())
                    {
                        let text = match kind.as_str() {
                            "s" => value
                                .trim()
                                .parse::<usize>()
                                .ok()
                                .and_then(|i| shared.get(i))
                                .cloned()
                                .unwrap_or_default(),
                            "inlineStr" | "str" => value,
                            "" | "n" => spreadsheet_number(value.trim()),
                            _ => value,
                        };
                        if cells.len() <= column {
                            cells.resize(column + 1, String::new());
                        }
                        cells[column] = text;
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(rows)
}

/// The shared strings of a workbook: each `si`'s text runs, joined.
fn shared_strings(xml: &str) -> Result<Vec<String>, PriceProblem> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut strings = Vec::new();
    let mut current: Option<String> = None;
    let mut in_text = false;
    loop {
        let event = reader.read_event().map_err(|e| {
            PriceProblem::new(
                1,
                format!("the workbook's shared strings cannot be read: {e}"),
            )
        })?;
        match event {
            Event::Start(element) => match element.local_name().as_ref() {
                b"si" => current = Some(String::new()),
                b"t" => in_text = true,
                _ => {}
            },
            Event::Empty(element) if element.local_name().as_ref() == b"si" => {
                strings.push(String::new());
            }
            Event::Text(text) if in_text => {
                if let Some(current) = current.as_mut() {
                    current.push_str(&text.decode().map_err(|e| {
                        PriceProblem::new(
                            1,
                            format!("the workbook's shared strings cannot be read: {e}"),
                        )
                    })?);
                }
            }
            Event::GeneralRef(reference) if in_text => {
                if let Some(current) = current.as_mut() {
                    current.push_str(&entity(&reference));
                }
            }
            Event::End(element) => match element.local_name().as_ref() {
                b"t" => in_text = false,
                b"si" => strings.extend(current.take()),
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(strings)
}

/// An Excel date serial (days since 30 December 1899) in a day column, as `yyyymmdd`.
fn serial_day(text: &str) -> Option<String> {
    let days: i64 = text.parse().ok().filter(|d| (1..=80_000).contains(d))?;
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30)?;
    Some(
        (epoch + chrono::Duration::days(days))
            .format("%Y%m%d")
            .to_string(),
    )
}

/// GME's results as an Excel workbook: the sheet whose name says prices (`Prezzi-Prices`),
/// or the only one, read as the table (`gme_table`); its problems name the sheet's row.
pub fn read_price_workbook(
    bytes: &[u8],
    zones: &[&str],
    max_bytes: u64,
) -> Result<PriceFile, Vec<PriceProblem>> {
    use quick_xml::events::Event;
    let whole = |message: String| vec![PriceProblem::new(1, message)];
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| whole(format!("the workbook cannot be read: {e}")))?;
    let mut part = |name: &str| workbook_part(&mut archive, name, max_bytes).map_err(whole);
    let workbook = part("xl/workbook.xml")?.ok_or_else(|| whole("not an Excel workbook".into()))?;
    let relations = part("xl/_rels/workbook.xml.rels")?.unwrap_or_default();
    let shared = match part("xl/sharedStrings.xml")? {
        Some(xml) => shared_strings(&xml).map_err(|p| vec![p])?,
        None => Vec::new(),
    };
    // The sheets (name, relation id), then where each relation points.
    let mut sheets: Vec<(String, String)> = Vec::new();
    let mut reader = quick_xml::Reader::from_str(&workbook);
    while let Ok(event) = reader.read_event() {
        match event {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == b"sheet" => {
                if let (Some(name), Some(id)) = (attribute(&e, "name"), attribute(&e, "r:id")) {
                    sheets.push((name, id));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let names: Vec<&str> = sheets.iter().map(|(n, _)| n.as_str()).collect();
    let chosen = sheets
        .iter()
        .find(|(name, _)| {
            name.to_lowercase().contains("prezzi") || name.to_lowercase().contains("prices")
        })
        .or(if sheets.len() == 1 {
            sheets.first()
        } else {
            None
        })
        .ok_or_else(|| {
            whole(format!(
                "the workbook has no prices sheet (a sheet named Prezzi or Prices); its sheets: {}",
                names.join(", ")
            ))
        })?;
    let mut target = None;
    let mut reader = quick_xml::Reader::from_str(&relations);
    while let Ok(event) = reader.read_event() {
        match event {
            Event::Start(e) | Event::Empty(e)
                if e.local_name().as_ref() == b"Relationship"
                    && attribute(&e, "Id").as_deref() == Some(chosen.1.as_str()) =>
            {
                target = attribute(&e, "Target");
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let target = target.ok_or_else(|| {
        whole(format!(
            "the sheet {} cannot be found in the workbook",
            chosen.0
        ))
    })?;
    let path = match target.strip_prefix('/') {
        Some(absolute) => absolute.to_string(),
        None => format!("xl/{target}"),
    };
    let sheet = part(&path)?.ok_or_else(|| {
        whole(format!(
            "the sheet {} cannot be found in the workbook",
            chosen.0
        ))
    })?;
    let rows = sheet_rows(&sheet, &shared).map_err(|p| vec![p])?;
    let in_sheet = |message: String| format!("sheet {}: {message}", chosen.0);
    let mut rows = rows
        .into_iter()
        .filter(|(_, cells)| cells.iter().any(|c| !c.trim().is_empty()));
    let (header_row, header) = rows
        .next()
        .ok_or_else(|| whole(in_sheet("the sheet is empty".into())))?;
    let header: Vec<Cow<'_, str>> = header.iter().map(|c| c.as_str().into()).collect();
    let columns = TableColumns::named(&header, ';', zones).map_err(|m| {
        vec![PriceProblem::new(
            header_row,
            in_sheet(format!("the header is not GME's price table: {m}")),
        )]
    })?;
    let day = columns.day;
    let rows = rows.map(|(number, mut cells)| {
        if let Some(cell) = cells.get_mut(day)
            && let Some(converted) = serial_day(cell.trim())
        {
            *cell = converted;
        }
        (
            number,
            cells
                .into_iter()
                .map(|c| Cow::Owned(c.trim().to_string()))
                .collect(),
        )
    });
    table_prices(&columns, PriceFormat::GmeWorkbook, rows, in_sheet)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    const ZONES: [&str; 7] = ["NORD", "CNOR", "CSUD", "SUD", "CALA", "SICI", "SARD"];

    fn options() -> PriceFileOptions<'static> {
        PriceFileOptions {
            format: None,
            default_minutes: 60,
            zones: &ZONES,
            encoding: Encoding::Utf8,
        }
    }

    fn dec(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn utc(text: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(text)
            .unwrap()
            .timestamp()
    }

    const HOURLY: &str = r#"<?xml version="1.0" encoding="utf-8" standalone="yes"?>
<NewDataSet>
  <xs:schema id="NewDataSet" xmlns="" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:msdata="urn:schemas-microsoft-com:xml-msdata">
    <xs:element name="NewDataSet" msdata:IsDataSet="true"><xs:complexType><xs:choice minOccurs="0" maxOccurs="unbounded">
      <xs:element name="Prezzi"><xs:complexType><xs:sequence>
        <xs:element name="Data" type="xs:string" minOccurs="0" />
        <xs:element name="NORD" type="xs:string" minOccurs="0" />
      </xs:sequence></xs:complexType></xs:element>
    </xs:choice></xs:complexType></xs:element>
  </xs:schema>
  <Prezzi>
    <Data>20251026</Data>
    <Mercato>MGP</Mercato>
    <Ora>3</Ora>
    <PUN>95,123456</PUN>
    <NORD>93,50</NORD>
    <SUD>1.001,5</SUD>
    <AUST>90</AUST>
  </Prezzi>
  <Prezzi>
    <Data>20251026</Data>
    <Mercato>MGP</Mercato>
    <Ora>25</Ora>
    <PUN>88,00</PUN>
    <NORD>86,10</NORD>
    <SUD>-2,5</SUD>
    <AUST>90</AUST>
  </Prezzi>
</NewDataSet>
"#;

    #[test]
    fn gme_hourly_xml_counts_the_autumn_days_25_hours_and_keeps_italian_zones() {
        let file = read_price_file(HOURLY, options()).unwrap();
        assert_eq!(file.format, PriceFormat::GmeXml);
        let rows: Vec<(u64, &str, i64, Decimal)> = file
            .rows
            .iter()
            .map(|(l, r)| (*l, r.zone.as_str(), r.point.start, r.point.eur_mwh))
            .collect();
        // Ora 3 of 26 October 2025 is the third hour since midnight CEST (22:00 UTC the day
        // before): 00:00 UTC, the first 02:00; Ora 25 is 23:00 CET = 22:00 UTC.
        assert_eq!(
            rows,
            vec![
                (16, "NORD", utc("2025-10-26T00:00:00Z"), dec("93.50")),
                (17, "SUD", utc("2025-10-26T00:00:00Z"), dec("1001.5")),
                (25, "NORD", utc("2025-10-26T22:00:00Z"), dec("86.10")),
                (26, "SUD", utc("2025-10-26T22:00:00Z"), dec("-2.5")),
            ]
        );
        assert_eq!(
            file.left_out.into_iter().collect::<Vec<_>>(),
            vec!["AUST", "PUN"]
        );
        let spring = HOURLY.replace("20251026", "20250330");
        let problems = read_price_file(&spring, options()).unwrap_err();
        assert_eq!(problems[0].line, 23);
        assert!(
            problems[0].message.contains(
                "Ora 25 does not exist on 30/03/2025: that day has 23 (summer time starts"
            ),
            "{problems:?}"
        );
    }

    #[test]
    fn gme_quarter_hour_xml_reads_periods() {
        let xml = "<NewDataSet>\n<Prezzi15><Data>20251026</Data><Mercato>MGP</Mercato><Periodo>100</Periodo><Granularity>PT15</Granularity><PUN>1</PUN><CSUD>101,25</CSUD></Prezzi15>\n<Prezzi15><Data>20251001</Data><Mercato>MGP</Mercato><Periodo>1</Periodo><Granularity>PT15</Granularity><CSUD>99</CSUD></Prezzi15>\n</NewDataSet>";
        let file = read_price_file(xml, options()).unwrap();
        let starts: Vec<(i64, u32)> = file
            .rows
            .iter()
            .map(|(_, r)| (r.point.start, r.point.minutes))
            .collect();
        assert_eq!(
            starts,
            vec![
                (utc("2025-10-26T22:45:00Z"), 15),
                (utc("2025-09-30T22:00:00Z"), 15)
            ]
        );
        let problem = read_price_file(&xml.replace(">100<", ">101<"), options()).unwrap_err();
        assert!(
            problem[0].message.contains("Periodo 101 does not exist"),
            "{problem:?}"
        );
    }

    #[test]
    fn gme_xml_refusals_name_the_line() {
        let cut = &HOURLY[..HOURLY.find("<Ora>25").unwrap()];
        let problem = read_price_file(cut, options()).unwrap_err();
        assert!(problem[0].message.contains("cut short"), "{problem:?}");
        let intraday = HOURLY.replacen("<Mercato>MGP", "<Mercato>MI1", 1);
        let problem = read_price_file(&intraday, options()).unwrap_err();
        assert_eq!(problem[0].line, 13);
        assert!(problem[0].message.contains("MGP"), "{problem:?}");
        let volumes =
            "<NewDataSet>\n<Quantita><Data>20161229</Data><Ora>1</Ora></Quantita></NewDataSet>";
        let problem = read_price_file(volumes, options()).unwrap_err();
        assert!(
            problem[0].message.contains("`Quantita` record"),
            "{problem:?}"
        );
        let bad = HOURLY.replace("<NORD>93,50", "<NORD>93,5x");
        let problem = read_price_file(&bad, options()).unwrap_err();
        assert_eq!(problem[0].line, 16);
        assert!(problem[0].message.contains("NORD"), "{problem:?}");
        let meter = "<?xml version=\"1.0\"?>\n<FlussoMisure><DatiPod><Pod>IT001E00000001</Pod></DatiPod></FlussoMisure>";
        let problem = read_price_file(meter, options()).unwrap_err();
        assert!(problem[0].message.contains("meter data"), "{problem:?}");
    }

    #[test]
    fn gme_prices_are_decimal_commas_and_ambiguous_dots_are_refused() {
        assert_eq!(gme_price("95,123456"), Ok(dec("95.123456")));
        assert_eq!(gme_price("1.234,5"), Ok(dec("1234.5")));
        assert_eq!(gme_price("95.12"), Ok(dec("95.12")));
        assert_eq!(gme_price("-0,5"), Ok(dec("-0.5")));
        assert!(
            gme_price("1.234")
                .unwrap_err()
                .contains("thousands or decimals")
        );
        assert!(gme_price("12.34,5").is_err());
        assert!(gme_price("1e3").is_err());
        assert!(gme_price("").is_err());
        assert!(gme_price("1,1234567").unwrap_err().contains("6 decimal"));
    }

    #[test]
    fn a_gme_table_saved_by_excel_is_read_with_its_two_line_header() {
        let csv = "\"Data/Date\n(YYYYMMDD)\";\"Ora\n/Hour\";PUN;NORD;CNOR;XAUS\n20250330;1;100,5;99;98;1\n20250330;23;101;100;97;1\n;;;;;\n";
        let file = read_price_file(csv, options()).unwrap();
        assert_eq!(file.format, PriceFormat::GmeTable);
        let rows: Vec<(u64, &str, i64)> = file
            .rows
            .iter()
            .map(|(l, r)| (*l, r.zone.as_str(), r.point.start))
            .collect();
        assert_eq!(
            rows,
            vec![
                (4, "NORD", utc("2025-03-29T23:00:00Z")),
                (4, "CNOR", utc("2025-03-29T23:00:00Z")),
                (5, "NORD", utc("2025-03-30T21:00:00Z")),
                (5, "CNOR", utc("2025-03-30T21:00:00Z")),
            ]
        );
        assert_eq!(
            file.left_out.into_iter().collect::<Vec<_>>(),
            vec!["PUN", "XAUS"]
        );
        let problems =
            read_price_file(&csv.replace("20250330;23", "20250330;24"), options()).unwrap_err();
        // The header's two quoted line breaks make it three lines: the rows are lines 4 and 5.
        assert_eq!(problems[0].line, 5);
        let quarter = "Data,Periodo,SARD\n2025-10-01,96,\"80,5\"\n";
        let file = read_price_file(quarter, options()).unwrap();
        assert_eq!(file.rows[0].1.point.minutes, 15);
        assert_eq!(file.rows[0].1.point.eur_mwh, dec("80.5"));
    }

    fn zipped(entries: &[(&str, &[u8])]) -> Vec<u8> {
        use std::io::Write;
        let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, content) in entries {
            out.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            out.write_all(content).unwrap();
        }
        out.finish().unwrap().into_inner()
    }

    #[test]
    fn zip_archives_are_unpacked_in_name_order_within_bounds() {
        let archive = zipped(&[
            ("20251002MGPPrezzi.xml", b"two"),
            ("__MACOSX/._20251002MGPPrezzi.xml", b"x"),
            ("20251001MGPPrezzi.xml", b"one"),
        ]);
        assert!(is_zip(&archive));
        let files = unzip(&archive, 10, 1000).unwrap();
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["20251001MGPPrezzi.xml", "20251002MGPPrezzi.xml"]);
        assert_eq!(files[0].1, b"one");
        let big = vec![b'0'; 5000];
        assert!(
            unzip(&zipped(&[("a.xml", &big)]), 10, 1000)
                .unwrap_err()
                .contains("unpacks to more than")
        );
        assert!(
            unzip(&zipped(&[("a.xml", b"1"), ("b.xml", b"2")]), 1, 1000)
                .unwrap_err()
                .contains("more than 1 files")
        );
        assert!(
            unzip(&zipped(&[("leggimi.pdf", b"1")]), 10, 1000)
                .unwrap_err()
                .contains("`leggimi.pdf`")
        );
        assert!(unzip(b"PK\x03\x04 broken", 10, 1000).is_err());
    }

    #[test]
    fn spreadsheet_cells_read_as_excel_writes_them() {
        assert_eq!(column_index("A1"), Some(0));
        assert_eq!(column_index("AB12"), Some(27));
        assert_eq!(column_index("12"), None);
        assert_eq!(spreadsheet_number("101.30000000000001"), "101.3");
        assert_eq!(spreadsheet_number("99.9999999999"), "100");
        // Further from six decimals than floating point explains: kept, and refused later.
        assert_eq!(spreadsheet_number("1.0000001"), "1.0000001");
        assert_eq!(spreadsheet_number("1.5E-2"), "0.015");
        assert_eq!(serial_day("45746").as_deref(), Some("20250330"));
        assert_eq!(serial_day("20250330"), None);
        // Excel's shared strings: rich-text runs joined, character references decoded.
        let shared = shared_strings(
            r#"<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="3" uniqueCount="3"><si><t>Data/Date&#10;(YYYYMMDD)</t></si><si><r><rPr><b/></rPr><t>Ora</t></r><r><t xml:space="preserve">
/Hour</t></r></si><si/><si><t>NORD &amp; CNOR</t></si></sst>"#,
        )
        .unwrap();
        assert_eq!(
            shared,
            vec!["Data/Date\n(YYYYMMDD)", "Ora\n/Hour", "", "NORD & CNOR"]
        );
        let rows = sheet_rows(
            r#"<worksheet><sheetData><row r="3"><c r="A3" t="s"><v>1</v></c><c r="C3"><v>7.25</v></c></row></sheetData></worksheet>"#,
            &shared,
        )
        .unwrap();
        assert_eq!(
            rows,
            vec![(
                3,
                vec!["Ora\n/Hour".to_string(), String::new(), "7.25".to_string()]
            )]
        );
    }

    #[test]
    fn unrecognised_files_say_what_we_read_and_what_they_look_like() {
        let problem = read_price_file("when;where;what\n1;2;3\n", options()).unwrap_err();
        assert_eq!(problem[0].line, 1);
        assert!(problem[0].message.contains("gme_xml"), "{problem:?}");
        assert!(
            problem[0].message.contains("when;where;what"),
            "{problem:?}"
        );
        let meter = read_price_file("data_ora;pod;tipo;energia_kwh\n", options()).unwrap_err();
        assert!(meter[0].message.contains("meter data"), "{meter:?}");
        let long = read_price_file(
            "\u{feff}timestamp;zone;eur_mwh\n2025-03-01T10:00:00+01:00;NORD;1\n",
            options(),
        )
        .unwrap();
        assert_eq!(long.format, PriceFormat::Long);
        assert_eq!(PriceFormat::parse("GME"), Some(PriceFormat::GmeXml));
    }
}
