//! Importing meter-data files: parse line by line (bounded memory, whatever the file size),
//! stage, check, merge — all or nothing. Used by the HTTP API and the CLI alike.
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufRead, AsyncBufReadExt};

use crate::crud::readings::{ImportRecord, ImportSession, MembershipWindow, MergeOutcome};
use crate::domain::member_sheet::{Encoding, decode};
use crate::domain::meter_files::{
    Direction, Format, LineError, MeterFileParser, ParseOptions, Reading, rome_to_utc,
};
use crate::domain::plausibility::{self, Finding, PodLimits, UnitSniffer};
use crate::models::enums::HolderType;
use crate::models::{configuration, member};

/// At most this many problems are reported; the file is rejected at the first anyway.
pub const MAX_REPORTED_PROBLEMS: usize = 100;
/// After an import that wrote this many values, PostgreSQL's planner statistics are refreshed at
/// once rather than at autovacuum's next pass: with a table it believes small, the settlement's
/// per-member queries were planned as sequential scans (12 s instead of 1 s, BENCHMARKS.md).
const REFRESH_STATISTICS_AFTER: u64 = 100_000;
/// Readings per batch: 50,000 measured best between memory and round trips (BENCHMARKS.md).
const BATCH: usize = 50_000;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file was rejected; nothing was written. `(line, message)`, by line.
    #[error("the file has {} problem(s)", .0.len())]
    Rejected(Vec<(u64, String)>),
    #[error("reading the upload failed: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Database(#[from] DbErr),
}

#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ImportSummary {
    pub import_id: i32,
    pub format: String,
    /// Data lines read.
    pub rows: u64,
    /// Readings (POD × direction × interval) in the file.
    pub intervals: u64,
    pub pods: u64,
    pub new_values: u64,
    pub revised_values: u64,
    pub unchanged: u64,
    /// What the import was accepted with (outliers stored because `allow_outliers` was set,
    /// withdrawal checked against the default bound…).
    pub warnings: Vec<String>,
}

/// The configuration's memberships as instants, each from local midnight of `joined_at` to
/// local midnight of `withdrawn_at` (Italian time).
pub async fn membership_windows(
    db: &impl sea_orm::ConnectionTrait,
    configuration_id: i32,
) -> Result<Vec<MembershipWindow>, DbErr> {
    let members = member::Entity::find()
        .filter(member::Column::ConfigurationId.eq(configuration_id))
        .all(db)
        .await?;
    Ok(members
        .iter()
        .map(|m| window_of(m.id, &m.pod, m.joined_at, m.withdrawn_at))
        .collect())
}

/// One line of the upload (its end included) into `text`: UTF-8 when its bytes are, otherwise
/// Windows-1252, which decodes any byte (`encoding` remembers that a line needed it).
async fn read_text_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    raw: &mut Vec<u8>,
    text: &mut String,
    encoding: &mut Encoding,
) -> std::io::Result<usize> {
    raw.clear();
    let n = reader.read_until(b'\n', raw).await?;
    let (decoded, found) = decode(raw);
    if found == Encoding::Windows1252 {
        *encoding = Encoding::Windows1252;
    }
    text.push_str(&decoded);
    Ok(n)
}

fn format_name(format: Format) -> &'static str {
    match format {
        Format::Long => "long",
        Format::EDistribuzione => "edistribuzione",
        Format::HourlyWide => "hourly_wide",
        Format::DistributorXml => "distributor_xml",
    }
}

/// At most this many outliers are written out in an accepted import's warnings.
const LISTED_OUTLIERS: usize = 20;

/// Imports one file for `configuration`. `progress` is told how many bytes were read so far.
///
/// Every reading is checked against its POD's physical bounds (`domain::plausibility`):
/// injection on a POD without a plant is refused; values beyond the plants' power or the
/// point's available power (+10%), and a household file that looks like Wh, reject the file
/// unless `allow_outliers`, which stores them and records each as a warning on the import.
pub async fn import_readings<R: AsyncBufRead + Unpin>(
    db: &DatabaseConnection,
    configuration: &configuration::Model,
    mut reader: R,
    options: ParseOptions,
    allow_outliers: bool,
    uploaded_by: Option<i32>,
    mut progress: impl FnMut(u64),
) -> Result<ImportSummary, ImportError> {
    let started = Instant::now();
    let source = options
        .file_name
        .clone()
        .unwrap_or_else(|| "upload".to_string());
    let mut text = String::new();
    let mut raw = Vec::new();
    // Excel on an Italian Windows saves CSV in Windows-1252: each line is read as UTF-8 when it
    // is, as Windows-1252 otherwise, and the import says so.
    let mut encoding = Encoding::Utf8;
    let mut bytes_read = 0u64;
    let mut line_number = 0u64;
    let max_lines = options.max_lines;

    // The header: the first non-empty line.
    let header = loop {
        text.clear();
        let n = read_text_line(&mut reader, &mut raw, &mut text, &mut encoding).await?;
        bytes_read += n as u64;
        line_number += 1;
        if n == 0 {
            return Err(ImportError::Rejected(vec![(1, "the file is empty".into())]));
        }
        let line = text
            .trim_start_matches('\u{feff}')
            .trim_end_matches(['\r', '\n']);
        if !line.trim().is_empty() {
            break line.to_string();
        }
    };
    let mut parser = MeterFileParser::new(&header, options).map_err(|e| {
        // A header no layout takes: say what the file looked like, so that a person can tell
        // a wrong file from a wrong layout.
        let message = if e.line == 1 {
            format!(
                "{}; {}, read as {}",
                e.message,
                crate::domain::meter_files::describe_header(&header),
                encoding.name()
            )
        } else {
            e.message
        };
        ImportError::Rejected(vec![(e.line, message)])
    })?;
    let format = format_name(parser.format()).to_string();

    let mut import = ImportRecord {
        configuration_id: Some(configuration.id),
        kind: "readings",
        source,
        format: format.clone(),
        uploaded_by,
        rows: 0,
        warnings: Vec::new(),
    };
    let mut session = ImportSession::begin(db, configuration.id, &import).await?;
    // Inside the import's transaction, under the configuration's lock.
    let (members, plant_power) = session.configuration_members().await?;
    let windows: Vec<MembershipWindow> = members
        .iter()
        .map(|m| window_of(m.id, &m.pod, m.joined_at, m.withdrawn_at))
        .collect();
    let limits: std::collections::HashMap<String, PodLimits> = members
        .iter()
        .map(|m| {
            let limits = PodLimits {
                plant_power_w: plant_power.get(&m.pod).copied().unwrap_or(0),
                available_power_w: m.available_power_w,
                household: m.holder_type == HolderType::NaturalPerson.as_str(),
            };
            (m.pod.clone(), limits)
        })
        .collect();
    let mut sniffer = UnitSniffer::new();
    let mut first_household_line = None;
    let mut outliers: Vec<(u64, String)> = Vec::new();
    let mut outlier_count = 0u64;
    let mut default_bound_pods = std::collections::BTreeSet::new();
    // Parsing (here) and writing (a task of its own) overlap, so both cores work; the bounded
    // channel keeps memory flat whatever the file size.
    let (batches, mut incoming) = tokio::sync::mpsc::channel::<Vec<Reading>>(2);
    let writer = tokio::spawn(async move {
        let mut session = session;
        // Where the writer's time goes tells which side bounds the import: waiting for the
        // parser, or writing to the database.
        let (mut waited, mut writing) = (Duration::ZERO, Duration::ZERO);
        loop {
            let asked = Instant::now();
            let Some(batch) = incoming.recv().await else {
                break;
            };
            let got = Instant::now();
            waited += got - asked;
            session.stage(&batch).await?;
            writing += got.elapsed();
        }
        tracing::info!(
            waiting_for_parser_seconds = waited.as_secs_f64(),
            writing_seconds = writing.as_secs_f64(),
            copying_seconds = session.timings.copying.as_secs_f64(),
            spilling_seconds = session.timings.spilling.as_secs_f64(),
            "import: writer done"
        );
        Ok::<ImportSession, DbErr>(session)
    });
    let membership = MembershipIndex::new(&windows);
    let mut pod_ranges: std::collections::HashMap<String, (i64, i64)> =
        std::collections::HashMap::new();
    let mut problems: Vec<(u64, String)> = Vec::new();
    let mut batch = Vec::with_capacity(BATCH + 128);
    let mut rows = 0u64;
    let record = |problems: &mut Vec<(u64, String)>, error: LineError| {
        problems.push((error.line, error.message))
    };
    // The end of the file is one more step of the loop: what the parser held back until then
    // (an autumn day waiting for its repetition, hourly curves waiting for a newer validity)
    // goes through the same checks as every other reading.
    let mut at_end = false;
    loop {
        let before = batch.len();
        text.clear();
        let n = read_text_line(&mut reader, &mut raw, &mut text, &mut encoding).await?;
        if n == 0 {
            at_end = true;
            if problems.len() < MAX_REPORTED_PROBLEMS
                && let Err(error) = parser.finish(&mut batch)
            {
                record(&mut problems, error);
            }
        } else {
            bytes_read += n as u64;
            line_number += 1;
            if let Some(max) = max_lines
                && line_number > max
            {
                return Err(ImportError::Io(std::io::Error::new(
                    std::io::ErrorKind::FileTooLarge,
                    format!(
                        "The file has more than {max} lines, the most this server takes (UPLOAD_MAX_LINES): split it, by month or by POD"
                    ),
                )));
            }
            let line = text.trim_end_matches(['\r', '\n']);
            if line.trim().is_empty() {
                continue;
            }
            rows += 1;
            if let Err(error) = parser.parse_line(line_number, line, &mut batch) {
                record(&mut problems, error);
            }
        }
        // Rows outside the memberships are reported and kept out; the rest are still staged,
        // so that duplicates are found in the same round.
        let mut index = before;
        while index < batch.len() {
            let reading = &batch[index];
            let finding = match membership.problem(reading) {
                Some(message) => Some(Finding::Refused(message)),
                None => {
                    let pod_limits = limits.get(&reading.pod).copied().unwrap_or_default();
                    sniffer.add(reading, &pod_limits);
                    if pod_limits.household && reading.direction == Direction::Withdrawal {
                        first_household_line.get_or_insert(reading.line);
                    }
                    if reading.direction == Direction::Withdrawal
                        && pod_limits.available_power_w.is_none()
                        && !default_bound_pods.contains(&reading.pod)
                    {
                        default_bound_pods.insert(reading.pod.clone());
                    }
                    plausibility::check(reading, &pod_limits)
                }
            };
            match finding {
                Some(Finding::Outlier(message)) if allow_outliers => {
                    outlier_count += 1;
                    if outliers.len() < LISTED_OUTLIERS {
                        outliers.push((reading.line, message));
                    }
                    index += 1;
                }
                Some(Finding::Refused(message) | Finding::Outlier(message)) => {
                    if problems.last().map(|(line, _)| *line) != Some(reading.line) {
                        problems.push((reading.line, message));
                    }
                    batch.remove(index);
                }
                None => index += 1,
            }
        }
        if problems.len() >= MAX_REPORTED_PROBLEMS {
            break;
        }
        if at_end {
            break;
        }
        if batch.len() >= BATCH {
            note_ranges(&mut pod_ranges, &batch);
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH + 128));
            if batches.send(full).await.is_err() {
                break; // the writer failed: its error is reported below
            }
            progress(bytes_read);
        }
    }
    import.warnings.extend(parser.warnings());
    if encoding == Encoding::Windows1252 {
        import.warnings.push(
            "read as Windows-1252 (what Excel saves on an Italian Windows): the file is not UTF-8"
                .into(),
        );
    }
    if let Some(hint) = sniffer.verdict() {
        if allow_outliers {
            import.warnings.push(format!("stored on request: {hint}"));
        } else {
            problems.push((first_household_line.unwrap_or(1), hint));
        }
    }
    if outlier_count > 0 {
        import.warnings.push(format!(
            "{outlier_count} value(s) beyond their POD's physical bound stored on request (allow_outliers)"
        ));
        import.warnings.extend(
            outliers
                .iter()
                .map(|(line, message)| format!("line {line}: {message}")),
        );
    }
    if !default_bound_pods.is_empty() {
        import.warnings.push(format!(
            "{} POD(s) have no available power recorded, so their withdrawal was checked against {} kW only: {}",
            default_bound_pods.len(),
            plausibility::DEFAULT_WITHDRAWAL_LIMIT_W / 1000,
            default_bound_pods.iter().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    note_ranges(&mut pod_ranges, &batch);
    let _ = batches.send(batch).await;
    drop(batches);
    let mut session = writer
        .await
        .map_err(|e| DbErr::Custom(format!("import writer: {e}")))??;
    if !problems.is_empty() {
        problems.extend(session.duplicate_problems(MAX_REPORTED_PROBLEMS).await?);
        problems.sort();
        problems.dedup_by_key(|(line, _)| *line);
        problems.truncate(MAX_REPORTED_PROBLEMS);
        // Dropping the session rolls the transaction back: nothing was written.
        return Err(ImportError::Rejected(problems));
    }
    progress(bytes_read);
    tracing::info!(
        readings = session.staged(),
        seconds = started.elapsed().as_secs_f64(),
        "import: file read and staged"
    );
    import.rows = rows;
    let merge_started = Instant::now();
    let outcome = session
        .finish(&import, &pod_ranges, MAX_REPORTED_PROBLEMS)
        .await?;
    tracing::info!(
        seconds = merge_started.elapsed().as_secs_f64(),
        "import: checked, merged and committed"
    );
    let (import_id, counts) = match outcome {
        MergeOutcome::Imported(id, counts) => (id, counts),
        MergeOutcome::Rejected(problems) => return Err(ImportError::Rejected(problems)),
    };
    if counts.new_values + counts.revised_values >= REFRESH_STATISTICS_AFTER {
        crate::crud::readings::refresh_statistics(db).await?;
    }
    Ok(ImportSummary {
        import_id,
        format,
        rows,
        intervals: counts.intervals,
        pods: counts.pods,
        new_values: counts.new_values,
        revised_values: counts.revised_values,
        unchanged: counts.unchanged,
        warnings: import.warnings,
    })
}

/// First and last instant per POD, gathered while streaming.
fn note_ranges(
    ranges: &mut std::collections::HashMap<String, (i64, i64)>,
    readings: &[crate::domain::meter_files::Reading],
) {
    for reading in readings {
        match ranges.get_mut(&reading.pod) {
            Some((first, last)) => {
                *first = (*first).min(reading.interval_start);
                *last = (*last).max(reading.interval_start);
            }
            None => {
                ranges.insert(
                    reading.pod.clone(),
                    (reading.interval_start, reading.interval_start),
                );
            }
        }
    }
}

/// A membership as instants: from local midnight of `joined_at` to local midnight of
/// `withdrawn_at` (Italian time), open-ended without one.
pub fn window_of(
    member_id: i32,
    pod: &str,
    joined_at: chrono::NaiveDate,
    withdrawn_at: Option<chrono::NaiveDate>,
) -> MembershipWindow {
    MembershipWindow {
        member_id,
        pod: crate::domain::pod::Pod::from_stored(pod),
        from: rome_to_utc(joined_at, 0, 0, false).unwrap_or(i64::MIN),
        to: withdrawn_at
            .and_then(|d| rome_to_utc(d, 0, 0, false))
            .unwrap_or(i64::MAX),
    }
}

/// The configuration's membership windows by POD, to check every reading as it is parsed.
struct MembershipIndex<'a> {
    by_pod: std::collections::HashMap<&'a str, Vec<(i64, i64)>>,
}

impl<'a> MembershipIndex<'a> {
    fn new(windows: &'a [MembershipWindow]) -> Self {
        let mut by_pod: std::collections::HashMap<&str, Vec<(i64, i64)>> =
            std::collections::HashMap::new();
        for w in windows {
            by_pod
                .entry(w.pod.as_str())
                .or_default()
                .push((w.from, w.to));
        }
        MembershipIndex { by_pod }
    }

    /// Why `reading` cannot be imported into the configuration, if it cannot.
    fn problem(&self, reading: &Reading) -> Option<String> {
        match self.by_pod.get(reading.pod.as_str()) {
            None => Some(format!(
                "POD {} is not a member of the configuration",
                reading.pod
            )),
            Some(windows)
                if windows.iter().any(|(from, to)| {
                    *from <= reading.interval_start && reading.interval_start < *to
                }) =>
            {
                None
            }
            Some(_) => {
                let when = chrono::DateTime::from_timestamp(reading.interval_start, 0)
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_default();
                Some(format!(
                    "POD {} is not a member of the configuration at {when}",
                    reading.pod
                ))
            }
        }
    }
}

/// Import options from their textual form (query string or CLI flags); an error names the
/// option and says what it accepts.
pub fn import_options(
    params: &crate::schemas::energy::ImportParams,
) -> Result<ParseOptions, (&'static str, String)> {
    let format = match params
        .format
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None => None,
        Some("long") => Some(Format::Long),
        Some("edistribuzione" | "e-distribuzione" | "curve_di_carico") => {
            Some(Format::EDistribuzione)
        }
        Some("hourly_wide" | "orario") => Some(Format::HourlyWide),
        Some("distributor_xml" | "xml") => Some(Format::DistributorXml),
        Some(_) => {
            return Err((
                "format",
                "format must be `long`, `edistribuzione`, `hourly_wide` or `distributor_xml`"
                    .into(),
            ));
        }
    };
    let direction = match params.direction.as_deref() {
        None => None,
        Some(text) => Some(crate::domain::meter_files::parse_direction(text).ok_or((
            "direction",
            "direction must be injection or withdrawal".to_string(),
        ))?),
    };
    let pod = match params.pod.as_deref() {
        None => None,
        Some(text) => Some(
            crate::domain::pod::Pod::parse(text)
                .map_err(|e| ("pod", e.to_string()))?
                .into_string(),
        ),
    };
    Ok(ParseOptions {
        format,
        pod,
        direction,
        interval_minutes: params.interval_minutes,
        file_name: params.file_name.clone(),
        max_lines: None,
    })
}
