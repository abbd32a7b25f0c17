//! The member statement's PDF, read back as text by poppler's `pdftotext`: every figure in each
//! language's format, the totals, the provisional mark and its reason, page numbers, accented
//! names, and nothing drawn off the page. `pdf_text` is for the endpoint's tests too.
//!
//! Set `STATEMENT_PDF_DIR` to keep the rendered files there (to look at them).
use std::io::Write;
use std::process::{Command, Stdio};
use std::str::FromStr;
use std::sync::OnceLock;

use chrono::NaiveDate;
use condivisa::documents::statement::{
    CommunityDetails, EntryKind, LedgerEntry, MemberDetails, MemberStatement, MonthFigures,
    StatementPeriod, render,
};
use condivisa::models::enums::{ConfigurationType, Language};
use rust_decimal::Decimal;

/// The text of a PDF as `pdftotext -layout` reads it, pages separated by form feeds.
pub fn pdf_text(pdf: &[u8]) -> String {
    poppler(&["-layout", "-enc", "UTF-8", "-", "-"], pdf)
}

/// Runs `pdftotext` with `args` on `pdf` (given on standard input).
fn poppler(args: &[&str], pdf: &[u8]) -> String {
    ensure_pdftotext();
    let mut child = Command::new("pdftotext")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("pdftotext starts");
    let mut stdin = child.stdin.take().expect("pdftotext's input");
    let input = pdf.to_vec();
    // Written from another thread, so that a full output pipe cannot stall the writing.
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().expect("pdftotext runs");
    writer.join().unwrap().expect("pdftotext reads the PDF");
    assert!(
        output.status.success(),
        "pdftotext failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("pdftotext writes UTF-8")
}

/// poppler-utils is a test dependency: installed here when missing and we may (root), else a
/// clear failure — never a skipped test.
fn ensure_pdftotext() {
    static READY: OnceLock<()> = OnceLock::new();
    READY.get_or_init(|| crate::helpers::ensure_debian_tool("pdftotext", "-v", "poppler-utils"));
}

fn day(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap()
}

fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

fn keep(name: &str, pdf: &[u8]) {
    if let Ok(dir) = std::env::var("STATEMENT_PDF_DIR") {
        std::fs::write(std::path::Path::new(&dir).join(name), pdf).unwrap();
    }
}

/// March 2026 of Niccolò Ferrà: figures with thousands, a payment, a fee and an adjustment.
fn march(language: Language) -> MemberStatement {
    MemberStatement {
        language,
        community: CommunityDetails {
            name: "Comunità Energetica Sole di Città".into(),
            kind: ConfigurationType::Cer,
        },
        member: MemberDetails {
            holder_name: "Niccolò Ferrà".into(),
            fiscal_code: Some("FRRNCL80A01H501Z".into()),
            address: Some("Via Nazionale 12, 00184 Roma (RM)".into()),
            pods: vec!["IT001E00000082".into(), "IT001E00000083".into()],
        },
        period: StatementPeriod::Month(day(2026, 3, 1)),
        produced_on: day(2026, 4, 15),
        months: vec![MonthFigures {
            month: day(2026, 3, 1),
            withdrawal_kwh: dec("1234.567"),
            injection_kwh: dec("2500.5"),
            shared_kwh: dec("345.678"),
            incentive_cents: 123_456,
            excess_premium_cents: 7_890,
            valorisation_cents: 4_321,
            provisional: None,
        }],
        entries: vec![
            LedgerEntry {
                kind: EntryKind::Payment,
                date: day(2026, 4, 10),
                month: day(2026, 3, 1),
                reference: Some("CRO 0012345".into()),
                description: Some("Bonifico quota marzo".into()),
                amount_cents: -100_000,
            },
            LedgerEntry {
                kind: EntryKind::Fee,
                date: day(2026, 3, 31),
                month: day(2026, 3, 1),
                reference: None,
                description: Some("Quota di gestione".into()),
                amount_cents: -1_500,
            },
            LedgerEntry {
                kind: EntryKind::Adjustment,
                date: day(2026, 3, 31),
                month: day(2026, 3, 1),
                reference: None,
                description: Some("Conguaglio febbraio".into()),
                amount_cents: 250,
            },
        ],
    }
}

/// A year with every month, two of them provisional, and many payments and fees.
fn long_year(language: Language) -> MemberStatement {
    let mut statement = march(language);
    statement.period = StatementPeriod::Year(2026);
    statement.months = (1..=12)
        .map(|month| MonthFigures {
            month: day(2026, month, 1),
            withdrawal_kwh: dec("300.100"),
            injection_kwh: dec("0"),
            shared_kwh: dec("100.001"),
            incentive_cents: 100_000,
            excess_premium_cents: 1_000,
            valorisation_cents: 101,
            provisional: match month {
                3 => Some("Letture di marzo parziali: acconto, conguaglio ad aprile".into()),
                11 => Some("Curve del distributore mancanti per 2 giorni".into()),
                _ => None,
            },
        })
        .collect();
    statement.entries = (1..=100)
        .map(|n| LedgerEntry {
            kind: EntryKind::Payment,
            date: day(2026, (n - 1) % 12 + 1, 28),
            month: day(2026, (n - 1) % 12 + 1, 1),
            reference: Some(format!("CRO {n:07}")),
            description: None,
            amount_cents: -1_000,
        })
        .chain((1..=20).map(|n| LedgerEntry {
            kind: EntryKind::Fee,
            date: day(2026, (n - 1) % 12 + 1, 28),
            month: day(2026, (n - 1) % 12 + 1, 1),
            reference: None,
            description: Some(format!("Quota di gestione n. {n}")),
            amount_cents: -100,
        }))
        .collect();
    statement
}

/// Some line of `text` has `parts` in this order (pdftotext keeps a row on one line).
fn assert_row(text: &str, parts: &[&str]) {
    let found = text.lines().any(|line| {
        let mut rest = line;
        parts.iter().all(|part| match rest.find(part) {
            Some(at) => {
                rest = &rest[at + part.len()..];
                true
            }
            None => false,
        })
    });
    assert!(found, "no line with {parts:?} in:\n{text}");
}

#[test]
fn an_italian_month_reads_back_with_italian_figures() {
    let pdf = render(&march(Language::It));
    keep("march-it.pdf", &pdf);
    let text = pdf_text(&pdf);
    assert_row(&text, &["Estratto conto", "marzo 2026"]);
    assert_row(&text, &["Membro", "Niccolò Ferrà"]);
    assert_row(&text, &["Codice fiscale", "FRRNCL80A01H501Z"]);
    assert_row(&text, &["POD", "IT001E00000082, IT001E00000083"]);
    assert_row(
        &text,
        &[
            "Comunità Energetica Sole di Città",
            "Comunità energetica rinnovabile (CER)",
        ],
    );
    assert_row(&text, &["Emesso il", "15 aprile 2026"]);
    assert_row(&text, &["Energia prelevata dalla rete", "1.234,567 kWh"]);
    assert_row(&text, &["Energia immessa in rete", "2.500,500 kWh"]);
    assert_row(&text, &["Energia condivisa attribuita", "345,678 kWh"]);
    assert_row(&text, &["Incentivo (tariffa premio)", "€ 1.234,56"]);
    assert_row(&text, &["Premio eccedente", "€ 78,90"]);
    assert_row(&text, &["Valorizzazione", "€ 43,21"]);
    assert!(text.contains("Quota della tariffa premio oltre il limite fissato dalle regole"));
    assert_row(&text, &["Totale proventi", "€ 1.356,67"]);
    assert_row(
        &text,
        &[
            "10/04/2026",
            "CRO 0012345 – Bonifico quota marzo",
            "€ 1.000,00",
        ],
    );
    assert_row(
        &text,
        &["31/03/2026", "Commissione", "Quota di gestione", "€ -15,00"],
    );
    assert_row(
        &text,
        &["31/03/2026", "Rettifica", "Conguaglio febbraio", "€ 2,50"],
    );
    assert_row(&text, &["Pagamenti ricevuti", "€ -1.000,00"]);
    assert_row(&text, &["Altri movimenti", "€ -12,50"]);
    // 1.356,67 − 1.000,00 − 12,50
    assert_row(&text, &["Saldo del periodo", "€ 344,17"]);
    assert_row(&text, &["Estratto conto", "Pagina 1 di 1"]);
    assert!(!text.contains("PROVVISORIO"));
    // A month has no month-by-month table.
    assert!(!text.contains("Dettaglio mensile"));
}

#[test]
fn an_english_month_reads_back_with_english_figures() {
    let pdf = render(&march(Language::En));
    keep("march-en.pdf", &pdf);
    let text = pdf_text(&pdf);
    assert_row(&text, &["Member statement", "March 2026"]);
    assert_row(&text, &["Member", "Niccolò Ferrà"]);
    assert_row(&text, &["Issued on", "15 April 2026"]);
    assert_row(&text, &["Renewable energy community (CER)"]);
    assert_row(&text, &["Energy withdrawn from the grid", "1,234.567 kWh"]);
    assert_row(&text, &["Energy fed into the grid", "2,500.500 kWh"]);
    assert_row(&text, &["Shared energy attributed", "345.678 kWh"]);
    assert_row(&text, &["Incentive (premium tariff)", "€1,234.56"]);
    assert_row(&text, &["Excess premium", "€78.90"]);
    assert_row(&text, &["Valorisation", "€43.21"]);
    assert!(text.contains("Quota of the premium above the cap set by the rules, allocated"));
    assert_row(&text, &["Total income", "€1,356.67"]);
    assert_row(
        &text,
        &[
            "10 Apr 2026",
            "CRO 0012345 – Bonifico quota marzo",
            "€1,000.00",
        ],
    );
    assert_row(&text, &["31 Mar 2026", "Fee", "-€15.00"]);
    assert_row(&text, &["Other entries", "-€12.50"]);
    assert_row(&text, &["Balance for the period", "€344.17"]);
    assert_row(&text, &["Page 1 of 1"]);
    assert!(!text.contains("PROVISIONAL"));
}

#[test]
fn a_long_provisional_year_paginates_with_every_row_and_the_mark_on_each_page() {
    for language in [Language::It, Language::En] {
        let pdf = render(&long_year(language));
        keep(&format!("year-{}.pdf", language.as_str()), &pdf);
        let text = pdf_text(&pdf);
        let pages: Vec<&str> = text
            .split('\u{c}')
            .filter(|p| !p.trim().is_empty())
            .collect();
        assert!(pages.len() >= 3, "{} pages", pages.len());
        let (page_of, banner, total, continued) = match language {
            Language::It => (
                "Pagina {n} di {count}",
                "PROVVISORIO",
                "Totale 2026",
                "Pagamenti ricevuti (segue)",
            ),
            Language::En => (
                "Page {n} of {count}",
                "PROVISIONAL",
                "Total 2026",
                "Payments received (continued)",
            ),
        };
        for (index, page) in pages.iter().enumerate() {
            let number = page_of
                .replace("{n}", &(index + 1).to_string())
                .replace("{count}", &pages.len().to_string());
            assert!(page.contains(&number), "page {index} lacks `{number}`");
            assert!(page.contains(banner), "page {index} lacks the banner");
        }
        // A table cut by a page break goes on under its title, marked as continued.
        assert!(pages[2].contains(continued), "{}", pages[2]);
        // Every payment once, none lost or repeated at a page break.
        for n in 1..=100 {
            assert_eq!(text.matches(&format!("CRO {n:07}")).count(), 1, "CRO {n}");
        }
        // The operator's reasons, and the table's total row: 12 × each month.
        assert!(text.contains("Letture di marzo parziali: acconto, conguaglio ad aprile"));
        assert!(text.contains("Curve del distributore mancanti per 2 giorni"));
        match language {
            Language::It => {
                assert_row(&text, &["marzo 2026 *", "100,001 kWh", "€ 1.000,00"]);
                assert_row(
                    &text,
                    &[
                        total,
                        "1.200,012 kWh",
                        "€ 12.000,00",
                        "€ 120,00",
                        "€ 12,12",
                        "€ 1.000,00",
                    ],
                );
                assert_row(&text, &["Totale proventi", "€ 12.132,12"]);
                // 12.132,12 − 1.000,00 − 20,00
                assert_row(&text, &["Saldo del periodo", "€ 11.112,12"]);
            }
            Language::En => {
                assert_row(&text, &["March 2026 *", "100.001 kWh", "€1,000.00"]);
                assert_row(
                    &text,
                    &[
                        total,
                        "1,200.012 kWh",
                        "€12,000.00",
                        "€120.00",
                        "€12.12",
                        "€1,000.00",
                    ],
                );
                assert_row(&text, &["Balance for the period", "€11,112.12"]);
            }
        }
    }
}

#[test]
fn nothing_is_drawn_off_the_page() {
    let mut statement = long_year(Language::It);
    // Text longer than any column: wrapped, shrunk or cut, never past the margins.
    statement.member.holder_name = "Società Cooperativa Agricola ".repeat(6);
    statement.member.address = Some("Località Piè di Costa ".repeat(12));
    statement.entries[0].reference = Some("X".repeat(200));
    statement.entries[1].description = Some("una descrizione molto lunga ".repeat(10));
    // Pasted by mistake: kept to a few lines, so that its row still fits on a page.
    statement.entries[2].description = Some("testo incollato per errore ".repeat(400));
    statement.months[2].provisional = Some("motivo lunghissimo ".repeat(300));
    statement.months[0].incentive_cents = 123_456_789_012;
    let pdf = render(&statement);
    keep("stress.pdf", &pdf);
    let html = poppler(&["-bbox", "-enc", "UTF-8", "-", "-"], &pdf);
    let attribute = |tag: &str, name: &str| -> f32 {
        let start = tag.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        tag[start..].split('"').next().unwrap().parse().unwrap()
    };
    let mut words = 0;
    for tag in html.split("<word ").skip(1) {
        let (x_min, x_max) = (attribute(tag, "xMin"), attribute(tag, "xMax"));
        let (y_min, y_max) = (attribute(tag, "yMin"), attribute(tag, "yMax"));
        // The page is 595 × 842 points; the margins are 48 (pdftotext's y grows downwards).
        assert!(
            x_min >= 47.0 && x_max <= 548.0 && y_min >= 40.0 && y_max <= 812.0,
            "off the page: {}",
            &tag[..tag.find("</word>").unwrap_or(tag.len())]
        );
        words += 1;
    }
    assert!(words > 1000, "{words} words");
}
