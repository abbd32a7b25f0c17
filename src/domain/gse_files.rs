//! Files of GSE's figures. GSE's own export layout is not public, so condivisa reads its own
//! documented CSV (`condivisa`) and keeps the reader behind [`StatementFormat`]: another layout
//! is one more implementation, chosen by name, with the same checks after it.
//!
//! The `condivisa` layout: a header row naming the columns (English or Italian, any order, any
//! case), then one row per statement; `;` or `,` separated, UTF-8 or Windows-1252 (what Excel
//! writes), decimal comma or point, dates as `dd/mm/yyyy` or `yyyy-mm-dd`.
//!
//! | column | Italian | value |
//! |---|---|---|
//! | `period` | `periodo` | `2026-03` or `03/2026` (a month), `2026` (a year's true-up) |
//! | `kind` | `tipo` | optional: `month`/`mese`, `year`/`anno`/`conguaglio`; else from the period |
//! | `shared_energy_kwh` | `energia_condivisa_kwh` | shared energy GSE recognised |
//! | `premium_eur` | `tariffa_premio_eur` | the incentive (premium) |
//! | `valorisation_eur` | `valorizzazione_eur` | ARERA's valorisation |
//! | `advance_eur` | `acconto_eur` | the advance GSE computed |
//! | `fees_eur` | `corrispettivi_eur` | GSE's fees withheld |
//! | `paid_eur` | `importo_pagato_eur` | what GSE paid (with `paid_on`) |
//! | `paid_on` | `data_pagamento` | the payment's date |
//! | `payment_reference` | `riferimento_pagamento` | the transfer's reference |
//! | `note` | `note` | free text |
use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::member_sheet::{Record, date, decimal_of, decode, detect_separator, not_a_csv, records};
use crate::models::enums::GseStatementKind;

/// One statement as a file gives it; the use case checks it like a form.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GseFigures {
    /// The file's line (1 is the header); 0 for a form.
    pub line: u64,
    pub kind: Option<GseStatementKind>,
    pub period: String,
    pub shared_energy_kwh: Option<Decimal>,
    pub premium_eur: Option<Decimal>,
    pub valorisation_eur: Option<Decimal>,
    pub advance_eur: Option<Decimal>,
    pub fees_eur: Option<Decimal>,
    pub paid_eur: Option<Decimal>,
    pub paid_on: Option<NaiveDate>,
    pub payment_reference: Option<String>,
    pub note: Option<String>,
}

/// A reason a file's line cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileProblem {
    pub line: u64,
    pub message: String,
}

/// A layout of GSE statement files.
pub trait StatementFormat: Sync {
    fn name(&self) -> &'static str;
    /// Every statement of the file, or every problem found (all lines are read).
    fn parse(&self, bytes: &[u8]) -> Result<Vec<GseFigures>, Vec<FileProblem>>;
}

/// The layouts condivisa reads, by the name a request gives.
pub fn format_named(name: &str) -> Option<&'static dyn StatementFormat> {
    const FORMATS: [&dyn StatementFormat; 1] = [&CondivisaCsv];
    FORMATS.into_iter().find(|f| f.name() == name)
}

/// condivisa's own CSV layout (the module's table).
pub struct CondivisaCsv;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Column {
    Period,
    Kind,
    SharedEnergy,
    Premium,
    Valorisation,
    Advance,
    Fees,
    Paid,
    PaidOn,
    Reference,
    Note,
}

const COLUMNS: [(Column, &str, &str); 11] = [
    (Column::Period, "period", "periodo"),
    (Column::Kind, "kind", "tipo"),
    (
        Column::SharedEnergy,
        "shared_energy_kwh",
        "energia_condivisa_kwh",
    ),
    (Column::Premium, "premium_eur", "tariffa_premio_eur"),
    (
        Column::Valorisation,
        "valorisation_eur",
        "valorizzazione_eur",
    ),
    (Column::Advance, "advance_eur", "acconto_eur"),
    (Column::Fees, "fees_eur", "corrispettivi_eur"),
    (Column::Paid, "paid_eur", "importo_pagato_eur"),
    (Column::PaidOn, "paid_on", "data_pagamento"),
    (
        Column::Reference,
        "payment_reference",
        "riferimento_pagamento",
    ),
    (Column::Note, "note", "note"),
];

fn column_named(name: &str) -> Option<Column> {
    let name = name.trim().to_lowercase().replace([' ', '-'], "_");
    COLUMNS
        .iter()
        .find(|(_, en, it)| name == *en || name == *it)
        .map(|(column, _, _)| *column)
}

impl StatementFormat for CondivisaCsv {
    fn name(&self) -> &'static str {
        "condivisa"
    }

    fn parse(&self, bytes: &[u8]) -> Result<Vec<GseFigures>, Vec<FileProblem>> {
        let refuse = |line: u64, message: String| Err(vec![FileProblem { line, message }]);
        if let Some(reason) = not_a_csv(bytes) {
            return refuse(1, reason.to_string());
        }
        let (text, _) = decode(bytes);
        let text = text.trim_start_matches('\u{feff}');
        let separator = detect_separator(text);
        let mut rows = records(text, separator)
            .into_iter()
            .filter(|r| !r.is_blank());
        let Some(header) = rows.next() else {
            return refuse(
                1,
                "the file is empty: it needs a header row and one row per statement".into(),
            );
        };
        let mut columns = Vec::new();
        let mut problems = Vec::new();
        for name in &header.cells {
            match column_named(name) {
                Some(column) if columns.contains(&Some(column)) => problems.push(FileProblem {
                    line: header.line,
                    message: format!("the column `{name}` appears twice"),
                }),
                Some(column) => columns.push(Some(column)),
                None if name.is_empty() => columns.push(None),
                None => problems.push(FileProblem {
                    line: header.line,
                    message: format!(
                        "unknown column `{name}`: the columns are {}",
                        COLUMNS
                            .iter()
                            .map(|(_, en, it)| format!("`{en}` (`{it}`)"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                }),
            }
        }
        if !columns.contains(&Some(Column::Period)) {
            problems.push(FileProblem {
                line: header.line,
                message: "the header has no `period` (`periodo`) column".into(),
            });
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let mut statements = Vec::new();
        for record in rows {
            match read_row(&record, &columns) {
                Ok(figures) => statements.push(figures),
                Err(mut found) => problems.append(&mut found),
            }
        }
        if statements.is_empty() && problems.is_empty() {
            return refuse(
                header.line,
                "the file has a header but no statements".into(),
            );
        }
        if problems.is_empty() {
            Ok(statements)
        } else {
            Err(problems)
        }
    }
}

fn read_row(record: &Record, columns: &[Option<Column>]) -> Result<GseFigures, Vec<FileProblem>> {
    let mut problems = Vec::new();
    let mut problem = |message: String| {
        problems.push(FileProblem {
            line: record.line,
            message,
        })
    };
    if record.unterminated {
        problem("a quote opened on this line is never closed".into());
    }
    if record.cells.len() > columns.len()
        && record.cells[columns.len()..].iter().any(|c| !c.is_empty())
    {
        problem(format!(
            "the line has {} cells but the header names {} columns",
            record.cells.len(),
            columns.len()
        ));
    }
    let mut figures = GseFigures {
        line: record.line,
        ..GseFigures::default()
    };
    for (cell, column) in record.cells.iter().zip(columns) {
        let Some(column) = column else { continue };
        if cell.is_empty() {
            continue;
        }
        let name = COLUMNS
            .iter()
            .find(|(c, _, _)| c == column)
            .map_or("", |(_, en, _)| en);
        let amount = |unit: &str| -> Result<Decimal, String> {
            if cell.starts_with('-') {
                return Err(format!(
                    "`{name}` is negative ({cell}): GSE's figures are written as amounts ≥ 0"
                ));
            }
            decimal_of(cell, unit).map_err(|e| format!("`{name}`: {e}"))
        };
        let read = match column {
            Column::Period => {
                figures.period = period_text(cell);
                Ok(())
            }
            Column::Kind => match cell.to_lowercase().as_str() {
                "month" | "mese" | "mensile" => {
                    figures.kind = Some(GseStatementKind::Month);
                    Ok(())
                }
                "year" | "anno" | "annuale" | "conguaglio" | "true_up" => {
                    figures.kind = Some(GseStatementKind::Year);
                    Ok(())
                }
                other => Err(format!(
                    "`kind` is `{other}`: write month (mese) or year (anno, conguaglio)"
                )),
            },
            Column::SharedEnergy => amount("kWh").map(|v| figures.shared_energy_kwh = Some(v)),
            Column::Premium => amount("€").map(|v| figures.premium_eur = Some(v)),
            Column::Valorisation => amount("€").map(|v| figures.valorisation_eur = Some(v)),
            Column::Advance => amount("€").map(|v| figures.advance_eur = Some(v)),
            Column::Fees => amount("€").map(|v| figures.fees_eur = Some(v)),
            Column::Paid => amount("€").map(|v| figures.paid_eur = Some(v)),
            Column::PaidOn => date(cell)
                .map(|d| figures.paid_on = Some(d))
                .map_err(|e| format!("`paid_on`: {e}")),
            Column::Reference => {
                figures.payment_reference = Some(cell.clone());
                Ok(())
            }
            Column::Note => {
                figures.note = Some(cell.clone());
                Ok(())
            }
        };
        if let Err(message) = read {
            problem(message);
        }
    }
    if figures.period.is_empty() {
        problem("`period` is empty: write the month (2026-03) or the year (2026)".into());
    }
    if problems.is_empty() {
        Ok(figures)
    } else {
        Err(problems)
    }
}

/// `03/2026` (as Excel writes a month) read as `2026-03`; other forms are left to the period
/// parser, which names what it expects.
fn period_text(cell: &str) -> String {
    match cell.split_once('/') {
        Some((month, year)) if month.len() <= 2 && year.len() == 4 => {
            format!("{year}-{month:0>2}")
        }
        _ => cell.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn parse(text: &str) -> Result<Vec<GseFigures>, Vec<FileProblem>> {
        format_named("condivisa").unwrap().parse(text.as_bytes())
    }

    #[test]
    fn reads_italian_excel_and_english_headers_alike() {
        let it = parse(
            "\u{feff}periodo;energia_condivisa_kwh;tariffa_premio_eur;valorizzazione_eur;corrispettivi_eur;importo_pagato_eur;data_pagamento;riferimento_pagamento\r\n\
             03/2026;1234,567;148,15;13,05;1,25;159,95;30/05/2026;GSE-CER-0001\r\n",
        )
        .unwrap();
        assert_eq!(it.len(), 1);
        let s = &it[0];
        assert_eq!((s.line, s.period.as_str()), (2, "2026-03"));
        assert_eq!(s.shared_energy_kwh, Some(dec!(1234.567)));
        assert_eq!(s.premium_eur, Some(dec!(148.15)));
        assert_eq!(s.fees_eur, Some(dec!(1.25)));
        assert_eq!(s.paid_on, NaiveDate::from_ymd_opt(2026, 5, 30));
        assert_eq!(s.advance_eur, None);
        let en = parse("period,kind,premium_eur\n2025,year,1000.00\n").unwrap();
        assert_eq!(en[0].kind, Some(GseStatementKind::Year));
        assert_eq!(en[0].period, "2025");
    }

    #[test]
    fn every_bad_cell_is_named_with_its_line() {
        let problems = parse(
            "period;premium_eur;paid_on;kind\n2026-03;-5,00;;\n2026-04;12,3,4;31/02/2026;weekly\n",
        )
        .unwrap_err();
        let messages: Vec<String> = problems
            .iter()
            .map(|p| format!("{}: {}", p.line, p.message))
            .collect();
        assert!(
            messages[0].starts_with("2: `premium_eur` is negative"),
            "{messages:?}"
        );
        assert!(
            messages.iter().any(|m| m.starts_with("3: `premium_eur`")),
            "{messages:?}"
        );
        assert!(
            messages.iter().any(|m| m.starts_with("3: `paid_on`")),
            "{messages:?}"
        );
        assert!(
            messages.iter().any(|m| m.contains("weekly")),
            "{messages:?}"
        );
    }

    #[test]
    fn a_wrong_header_or_file_is_refused_before_any_row() {
        let unknown = parse("period;bonus\n2026-03;1\n").unwrap_err();
        assert!(unknown[0].message.contains("unknown column `bonus`"));
        let no_period = parse("premium_eur\n1\n").unwrap_err();
        assert!(no_period[0].message.contains("no `period`"));
        let empty = parse("period\n").unwrap_err();
        assert!(empty[0].message.contains("no statements"));
        let xlsx = CondivisaCsv.parse(b"PK\x03\x04rest").unwrap_err();
        assert!(xlsx[0].message.contains("Excel workbook"));
        assert!(format_named("gse-portal").is_none());
    }
}
