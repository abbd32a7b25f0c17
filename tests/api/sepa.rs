//! SEPA files checked by an outside validator: `xmllint` (Debian's libxml2-utils) against the
//! official `pain.001.001.09.xsd`, taken from the PyPI package sepaxml (pinned, installed on
//! first use in a virtual environment under `~/.cache/condivisa`, like the SMTP tests'
//! aiosmtpd). `assert_valid_pain_001_001_09` is for any test that receives such a file.
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use chrono::{NaiveDate, TimeZone, Utc};
use condivisa::domain::contacts::Iban;
use condivisa::domain::sepa::{
    Bic, CreditTransfer, Debtor, MAX_AMOUNT_CENTS, PaymentOrder, REMITTANCE_MAX_CHARS,
    pain_001_001_09, sepa_text,
};

const SEPAXML_VERSION: &str = "2.7.0";
/// Inside the installed package.
const XSD_IN_PACKAGE: &str = "sepaxml/schemas/pain.001.001.09.xsd";

/// Fails the test, with xmllint's words and the document, unless `xml` is valid against the
/// official schema.
pub fn assert_valid_pain_001_001_09(xml: &[u8]) {
    if let Err(complaint) = validate(xml) {
        panic!(
            "xmllint refuses the pain.001.001.09 document:\n{complaint}\n{}",
            String::from_utf8_lossy(xml)
        );
    }
}

/// `Err` with xmllint's output when the schema refuses `xml`.
fn validate(xml: &[u8]) -> Result<(), String> {
    let file = tempfile::Builder::new().suffix(".xml").tempfile().unwrap();
    std::fs::write(file.path(), xml).unwrap();
    let output = Command::new(xmllint())
        .arg("--noout")
        .arg("--schema")
        .arg(xsd())
        .arg(file.path())
        .output()
        .expect("xmllint runs");
    let said = String::from_utf8_lossy(&output.stderr).into_owned();
    if output.status.success() {
        Ok(())
    } else {
        Err(said)
    }
}

/// The schema file, installed once per machine (a marker names it only after a whole
/// install) and looked up once per test run.
fn xsd() -> &'static PathBuf {
    static XSD: OnceLock<PathBuf> = OnceLock::new();
    XSD.get_or_init(|| {
        let home = std::env::var_os("HOME").expect("HOME is set");
        let cache = PathBuf::from(home).join(".cache/condivisa");
        let venv = cache.join(format!("sepaxml-{SEPAXML_VERSION}"));
        let marker = venv.join("xsd-path");
        let installed = || {
            let relative = std::fs::read_to_string(&marker).ok()?;
            let xsd = venv.join(relative.trim());
            xsd.is_file().then_some(xsd)
        };
        if let Some(xsd) = installed() {
            return xsd;
        }
        // Built aside and renamed into place, so a test run elsewhere on the machine never
        // sees half an install.
        std::fs::create_dir_all(&cache).unwrap();
        let partial = cache.join(format!(
            "sepaxml-{SEPAXML_VERSION}.partial-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&partial);
        install(&partial);
        let _ = std::fs::remove_dir_all(&venv);
        if std::fs::rename(&partial, &venv).is_err() {
            // Another test run won the race; its install is as good.
            let _ = std::fs::remove_dir_all(&partial);
        }
        installed().unwrap_or_else(|| panic!("no schema at {} after install", venv.display()))
    })
}

/// sepaxml without its dependencies (xmlschema, text-unidecode): only its schema files are
/// used, never its code.
fn install(venv: &Path) {
    let created = Command::new("python3")
        .args(["-m", "venv"])
        .arg(venv)
        .status()
        .expect("python3 runs (the SEPA tests need Python 3 with venv)");
    assert!(created.success(), "python3 -m venv {}", venv.display());
    let package = format!("sepaxml=={SEPAXML_VERSION}");
    let installed = Command::new(venv.join("bin/pip"))
        .args(["install", "-q", "--no-deps", &package])
        .status()
        .expect("pip runs");
    assert!(installed.success(), "pip install {package} (needs PyPI)");
    let purelib = Command::new(venv.join("bin/python"))
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_path('purelib'))",
        ])
        .output()
        .expect("the virtual environment's python runs");
    let purelib = PathBuf::from(String::from_utf8(purelib.stdout).unwrap().trim());
    let xsd = purelib.join(XSD_IN_PACKAGE);
    assert!(xsd.is_file(), "{} is not in {package}", xsd.display());
    let relative = xsd.strip_prefix(venv).unwrap();
    std::fs::write(venv.join("xsd-path"), relative.to_str().unwrap()).unwrap();
}

/// `xmllint`, installed with apt-get when it is missing and this runs as root.
fn xmllint() -> &'static str {
    static XMLLINT: OnceLock<&'static str> = OnceLock::new();
    XMLLINT.get_or_init(|| {
        crate::helpers::ensure_debian_tool("xmllint", "--version", "libxml2-utils");
        "xmllint"
    })
}

fn iban(text: &str) -> Iban {
    Iban::parse(text).expect(text)
}

fn transfer(end_to_end_id: &str, amount_cents: i64) -> CreditTransfer {
    CreditTransfer {
        end_to_end_id: end_to_end_id.to_string(),
        amount_cents,
        creditor_name: "Maria Rossi".to_string(),
        creditor_iban: iban("IT60X0542811101000000123456"),
        creditor_bic: None,
        remittance: "Incentivo condivisione energia 2024".to_string(),
    }
}

fn order(transfers: Vec<CreditTransfer>) -> PaymentOrder {
    PaymentOrder {
        message_id: "CER-2025-03-PAYOUT-1".to_string(),
        created_at: Utc.with_ymd_and_hms(2025, 3, 17, 9, 30, 0).unwrap(),
        initiating_party: "CER Sole di Comunità".to_string(),
        payment_info_id: "CER-2025-03-PAYOUT-1/1".to_string(),
        requested_execution_date: NaiveDate::from_ymd_opt(2025, 3, 20).unwrap(),
        debtor: Debtor {
            name: "CER Sole di Comunità ETS".to_string(),
            iban: iban("IT25O0306909606100000012345"),
            bic: Some(Bic::parse("BCITITMM").unwrap()),
        },
        batch_booking: true,
        transfers,
    }
}

fn written(order: &PaymentOrder) -> Vec<u8> {
    pain_001_001_09(order).expect("the order is writable")
}

#[test]
fn one_transfer_is_valid() {
    assert_valid_pain_001_001_09(&written(&order(vec![transfer("E2E-1", 1234)])));
}

#[test]
fn five_hundred_transfers_are_valid() {
    let ibans = [
        "IT60X0542811101000000123456",
        "DE89370400440532013000",
        "FR1420041010050500013M02606",
        "ES9121000418450200051332",
        "PL61109010140000071219812874",
    ];
    let transfers = (0..500)
        .map(|n| CreditTransfer {
            creditor_iban: iban(ibans[n % ibans.len()]),
            creditor_bic: (n % 3 == 0).then(|| Bic::parse("COBADEFFXXX").unwrap()),
            creditor_name: format!("Socio numero {n}"),
            ..transfer(&format!("CER-2025-03-{n:04}"), 1 + 997 * n as i64)
        })
        .collect();
    let mut order = order(transfers);
    order.batch_booking = false;
    let xml = written(&order);
    assert_eq!(
        String::from_utf8_lossy(&xml)
            .matches("<CdtTrfTxInf>")
            .count(),
        500
    );
    assert_valid_pain_001_001_09(&xml);
}

#[test]
fn names_from_many_languages_and_symbols_are_valid() {
    let names = [
        "Zoë Müller-Łukasz",
        "Jürgen Großmann & Söhne",
        "Niccolò D’Àngelo <S.r.l.>",
        "François \"Le Solaire\" Lefèvre",
        "Søren Ærø 😀 👩\u{200D}💻",
        "Γιώργος Παπαδόπουλος",
        "Жечев @ Щерев; 50% #1",
    ];
    let transfers = names
        .iter()
        .enumerate()
        .map(|(n, name)| CreditTransfer {
            creditor_name: name.to_string(),
            remittance: format!("Incentivo per {name} — €12,34 «CER»"),
            ..transfer(&format!("E2E-{n}"), 100)
        })
        .collect();
    let mut order = order(transfers);
    order.initiating_party = "Comunità Energetica & Solidale <Łódź>".to_string();
    order.debtor.name = "Comunità Energetica & Solidale \"Ørsted\"".to_string();
    let xml = written(&order);
    let text = String::from_utf8(xml.clone()).unwrap();
    assert!(text.contains("<Nm>Zoe Muller-Lukasz</Nm>"), "{text}");
    assert!(
        text.contains("<Nm>Niccolo D&apos;Angelo (S.r.l.)</Nm>"),
        "{text}"
    );
    assert_valid_pain_001_001_09(&xml);
}

#[test]
fn with_and_without_bics_is_valid() {
    let mut transfers = vec![transfer("NO-BIC", 100), transfer("BIC-8", 200)];
    transfers[1].creditor_bic = Some(Bic::parse("deutdeff").unwrap());
    transfers.push(CreditTransfer {
        creditor_bic: Some(Bic::parse("UNCR ITMM XXX").unwrap()),
        ..transfer("BIC-11", 300)
    });
    let with_debtor_bic = order(transfers.clone());
    assert_valid_pain_001_001_09(&written(&with_debtor_bic));
    let mut without_debtor_bic = order(transfers);
    without_debtor_bic.debtor.bic = None;
    let xml = written(&without_debtor_bic);
    assert!(String::from_utf8_lossy(&xml).contains("<Id>NOTPROVIDED</Id>"));
    assert_valid_pain_001_001_09(&xml);
}

#[test]
fn the_smallest_and_largest_amounts_are_valid() {
    let xml = written(&order(vec![
        transfer("ONE-CENT", 1),
        transfer("MAXIMUM", MAX_AMOUNT_CENTS),
    ]));
    let text = String::from_utf8_lossy(&xml);
    assert!(text.contains(r#"<InstdAmt Ccy="EUR">0.01</InstdAmt>"#));
    assert!(text.contains(r#"<InstdAmt Ccy="EUR">999999999.99</InstdAmt>"#));
    assert!(text.contains("<CtrlSum>1000000000.00</CtrlSum>"));
    assert_valid_pain_001_001_09(&xml);
}

#[test]
fn a_remittance_of_exactly_140_characters_is_valid() {
    // 70 × "ß" is 140 characters once spelled `ss`; the longer one is cut to 140.
    let remittances = ["ß".repeat(70), format!("Quota {}", "è".repeat(200))];
    let transfers = remittances
        .iter()
        .enumerate()
        .map(|(n, remittance)| CreditTransfer {
            remittance: remittance.clone(),
            ..transfer(&format!("E2E-{n}"), 100)
        })
        .collect();
    let xml = written(&order(transfers));
    let text = String::from_utf8_lossy(&xml);
    for remittance in &remittances {
        let spelled = sepa_text(remittance, REMITTANCE_MAX_CHARS);
        assert_eq!(spelled.len(), REMITTANCE_MAX_CHARS);
        assert!(
            text.contains(&format!("<Ustrd>{spelled}</Ustrd>")),
            "{text}"
        );
    }
    assert_valid_pain_001_001_09(&xml);
}

/// The validator is real: documents broken the way a writer could break them are refused, each
/// for the broken element.
#[test]
fn the_schema_refuses_broken_documents() {
    let valid = String::from_utf8(written(&order(vec![transfer("E2E-1", 1234)]))).unwrap();
    assert_valid_pain_001_001_09(valid.as_bytes());
    let broken = [
        (
            "NbOfTxs after CtrlSum",
            swapped_with_next_line(&valid, "<NbOfTxs>"),
            "NbOfTxs",
        ),
        (
            "no EndToEndId",
            valid.replace("<EndToEndId>E2E-1</EndToEndId>", ""),
            "PmtId",
        ),
        (
            "141 characters of remittance",
            valid.replace(
                "<Ustrd>Incentivo condivisione energia 2024</Ustrd>",
                &format!("<Ustrd>{}</Ustrd>", "x".repeat(141)),
            ),
            "Ustrd",
        ),
        (
            "a BIC of 9 characters",
            valid.replace("<BICFI>BCITITMM</BICFI>", "<BICFI>BCITITMM5</BICFI>"),
            "BICFI",
        ),
        (
            "an amount with a comma",
            valid.replace(">12.34</InstdAmt>", ">12,34</InstdAmt>"),
            "InstdAmt",
        ),
    ];
    for (what, document, element) in broken {
        assert_ne!(
            document, valid,
            "{what}: the test did not change the document"
        );
        let complaint = validate(document.as_bytes())
            .err()
            .unwrap_or_else(|| panic!("{what}: xmllint accepted it"));
        assert!(
            complaint.contains(element),
            "{what}: xmllint refused it, but not for {element}: {complaint}"
        );
    }
}

/// `document` with the first line that holds `element` and the line after it swapped.
fn swapped_with_next_line(document: &str, element: &str) -> String {
    let mut lines: Vec<&str> = document.lines().collect();
    let at = lines
        .iter()
        .position(|line| line.contains(element))
        .unwrap();
    lines.swap(at, at + 1);
    lines.join("\n")
}
