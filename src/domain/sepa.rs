//! SEPA Credit Transfer files, ISO 20022 `pain.001.001.09` as the EPC's implementation
//! guidelines (EPC132-08, 2019 rulebook onwards) restrict it: the file a community uploads to its
//! bank to pay its members their energy-sharing incentives in one go.
//!
//! Pure: a [`PaymentOrder`] in, UTF-8 XML bytes out, or the first thing a bank would refuse,
//! named by field and transfer. The official XSD checks structure and lengths; the EPC adds what
//! it cannot: the Latin character set, names of at most 70 characters, amounts from 0.01 to
//! 999,999,999.99 EUR with two decimals, identifiers without leading, trailing or double `/`.
//! Names and remittance text are transliterated into that set (never dropped, see
//! [`sepa_text`]); identifiers are refused instead, because the bank reports each transfer
//! back by its end-to-end id and a silently changed id would match nothing.
use std::collections::HashMap;
use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::charts::escape;
use super::contacts::{ContactError, Iban};

/// The XML namespace of the message version the EPC's 2019+ guidelines use.
pub const NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09";
/// MsgId, PmtInfId and EndToEndId (ISO `Max35Text`).
pub const ID_MAX_CHARS: usize = 35;
/// Dbtr/Nm, Cdtr/Nm and InitgPty/Nm: ISO allows 140, the EPC 70.
pub const NAME_MAX_CHARS: usize = 70;
/// One RmtInf/Ustrd, the only one the EPC allows.
pub const REMITTANCE_MAX_CHARS: usize = 140;
/// 999,999,999.99 EUR: the largest amount of one SEPA credit transfer.
pub const MAX_AMOUNT_CENTS: i64 = 99_999_999_999;
/// CtrlSum is an ISO `DecimalNumber`: 18 digits in all, 2 of them decimals here.
const MAX_CONTROL_SUM_CENTS: i128 = 999_999_999_999_999_999;

/// The SEPA countries inside the EEA (EU 27, Iceland, Liechtenstein, Norway). A payee or payer
/// banking in the scheme's other countries (Switzerland, the United Kingdom, San Marino, the
/// Vatican, Monaco, Andorra, Gibraltar…) needs postal addresses in the file (the EU funds
/// transfer regulation), which this file does not carry.
const EEA_COUNTRIES: [&str; 30] = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IS",
    "IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK",
];

/// Whether an account in `country` (an IBAN's first two letters) can be paid by this file.
pub fn in_eea(country: &str) -> bool {
    EEA_COUNTRIES.contains(&country)
}

/// A bank's business identifier code (ISO 9362), as the EPC's schema writes it: 4 letters of
/// bank, 2 of country, 2 of location (the second never `O`), optionally 3 of branch.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Bic(String);

impl Bic {
    /// Accepts what a person types: spaces anywhere, lower case.
    pub fn parse(input: &str) -> Result<Bic, SepaError> {
        let compact: String = input
            .chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_uppercase)
            .collect();
        let refuse = |problem| SepaError::Bic {
            input: input.trim().to_string(),
            problem,
        };
        let length = compact.chars().count();
        if length != 8 && length != 11 {
            return Err(refuse(BicProblem::Length(length)));
        }
        for (index, c) in compact.chars().enumerate() {
            let allowed = match index {
                0..6 => c.is_ascii_uppercase(),
                6 => c.is_ascii_uppercase() || ('2'..='9').contains(&c),
                7 => (c.is_ascii_uppercase() && c != 'O') || c.is_ascii_digit(),
                _ => c.is_ascii_uppercase() || c.is_ascii_digit(),
            };
            if !allowed {
                return Err(refuse(BicProblem::Character {
                    position: index + 1,
                    found: c,
                }));
            }
        }
        Ok(Bic(compact))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Bic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who pays: the community's own account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Debtor {
    pub name: String,
    pub iban: Iban,
    /// Without it the file says `NOTPROVIDED` and the bank finds itself by the IBAN.
    pub bic: Option<Bic>,
}

/// One payment to one member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditTransfer {
    /// Unique in the order; the bank reports the transfer back by it (see [`sepa_id`]).
    pub end_to_end_id: String,
    pub amount_cents: i64,
    pub creditor_name: String,
    pub creditor_iban: Iban,
    pub creditor_bic: Option<Bic>,
    /// What the member reads on the statement; transliterated, cut to 140 characters, left out
    /// when nothing readable remains.
    pub remittance: String,
}

/// One file: one debit of the community's account, booked as one sum (`batch_booking`) or
/// transfer by transfer, for every transfer on the same day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentOrder {
    pub message_id: String,
    pub created_at: DateTime<Utc>,
    pub initiating_party: String,
    pub payment_info_id: String,
    pub requested_execution_date: NaiveDate,
    pub debtor: Debtor,
    pub batch_booking: bool,
    pub transfers: Vec<CreditTransfer>,
}

/// Why no file was written; `Display` says which field (and transfer) and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SepaError {
    #[error("`{input}` is not a BIC: {problem}")]
    Bic { input: String, problem: BicProblem },
    #[error("the payment order has no transfers: a SEPA file needs at least one")]
    NoTransfers,
    #[error("{0}")]
    Order(Problem),
    /// `index` is the transfer's position in [`PaymentOrder::transfers`], from 0.
    #[error("transfer at index {index} (end-to-end id `{end_to_end_id}`): {problem}")]
    Transfer {
        index: usize,
        end_to_end_id: String,
        problem: Problem,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BicProblem {
    #[error("a BIC has 8 or 11 characters, this one has {0}")]
    Length(usize),
    #[error(
        "character {position} (`{found}`) does not belong there: 4 letters of bank, 2 of \
         country, 2 letters or digits of location (the second not `O`), optionally 3 of branch"
    )]
    Character { position: usize, found: char },
}

/// What is wrong with one field of the order or of one transfer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("the {field} `{value}` {rule}")]
    Identifier {
        field: Field,
        value: String,
        rule: IdRule,
    },
    #[error(
        "the {field} `{original}` has no letter or digit left in the SEPA character set: \
         write it with Latin letters"
    )]
    NoLetters { field: Field, original: String },
    #[error("the amount must be at least 0.01 EUR, not {cents} cents")]
    AmountNotPositive { cents: i64 },
    #[error(
        "the amount {} EUR is above the SEPA limit of 999999999.99 EUR: split it",
        euros(i128::from(*.cents))
    )]
    AmountTooLarge { cents: i64 },
    #[error(
        "the end-to-end id is also that of the transfer at index {first_index}: each transfer \
         needs its own, the bank reports transfers back by it"
    )]
    DuplicateEndToEndId { first_index: usize },
    #[error("the {field} `{iban}` is not valid: {reason}")]
    Iban {
        field: Field,
        iban: String,
        reason: ContactError,
    },
    #[error(
        "the {field} is held in {country}, a SEPA country outside the EEA: a transfer there \
         needs the postal addresses of payer and payee, which this file does not carry; pay \
         it another way"
    )]
    OutsideEea { field: Field, country: String },
    #[error(
        "the transfers add up to {} EUR, more than a control sum's 18 digits: split the order",
        euros(*.cents)
    )]
    ControlSumTooLarge { cents: i128 },
}

/// A field of the order, in words and by its XML element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    MessageId,
    PaymentInfoId,
    InitiatingParty,
    DebtorName,
    DebtorIban,
    EndToEndId,
    CreditorName,
    CreditorIban,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::MessageId => "message id (GrpHdr/MsgId)",
            Field::PaymentInfoId => "payment information id (PmtInf/PmtInfId)",
            Field::InitiatingParty => "initiating party's name (InitgPty/Nm)",
            Field::DebtorName => "debtor's name (Dbtr/Nm)",
            Field::DebtorIban => "debtor's IBAN (DbtrAcct/Id/IBAN)",
            Field::EndToEndId => "end-to-end id (PmtId/EndToEndId)",
            Field::CreditorName => "creditor's name (Cdtr/Nm)",
            Field::CreditorIban => "creditor's IBAN (CdtrAcct/Id/IBAN)",
        })
    }
}

/// The EPC's rules for references and identifiers, each as one refusal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdRule {
    #[error("is empty")]
    Empty,
    #[error("has {chars} characters, at most {max} are allowed")]
    TooLong { chars: usize, max: usize },
    #[error(
        "has `{found}` at position {position}: identifiers take only a-z A-Z 0-9 and \
         / - ? : ( ) . , ' + (no spaces)"
    )]
    Character { position: usize, found: char },
    #[error("starts or ends with `/`")]
    SlashAtEdge,
    #[error("contains `//`")]
    DoubleSlash,
}

/// The order as a `pain.001.001.09` document, UTF-8 XML; the same order gives the same bytes.
pub fn pain_001_001_09(order: &PaymentOrder) -> Result<Vec<u8>, SepaError> {
    let checked = check(order)?;
    Ok(write(order, &checked).into_bytes())
}

/// What `check` derived from the order: the texts as they go into the file.
struct Checked {
    initiating_party: String,
    debtor_name: String,
    control_sum: String,
    transfers: Vec<CheckedTransfer>,
}

struct CheckedTransfer {
    amount: String,
    creditor_name: String,
    remittance: Option<String>,
}

fn check(order: &PaymentOrder) -> Result<Checked, SepaError> {
    if order.transfers.is_empty() {
        return Err(SepaError::NoTransfers);
    }
    check_id(Field::MessageId, &order.message_id).map_err(SepaError::Order)?;
    check_id(Field::PaymentInfoId, &order.payment_info_id).map_err(SepaError::Order)?;
    let initiating_party =
        name(Field::InitiatingParty, &order.initiating_party).map_err(SepaError::Order)?;
    let debtor_name = name(Field::DebtorName, &order.debtor.name).map_err(SepaError::Order)?;
    check_account(Field::DebtorIban, &order.debtor.iban).map_err(SepaError::Order)?;

    let mut first_index_of: HashMap<&str, usize> = HashMap::new();
    let mut control_sum: i128 = 0;
    let mut transfers = Vec::with_capacity(order.transfers.len());
    for (index, transfer) in order.transfers.iter().enumerate() {
        let refuse = |problem| SepaError::Transfer {
            index,
            end_to_end_id: transfer.end_to_end_id.clone(),
            problem,
        };
        check_id(Field::EndToEndId, &transfer.end_to_end_id).map_err(refuse)?;
        if let Some(&first_index) = first_index_of.get(transfer.end_to_end_id.as_str()) {
            return Err(refuse(Problem::DuplicateEndToEndId { first_index }));
        }
        first_index_of.insert(&transfer.end_to_end_id, index);
        let cents = transfer.amount_cents;
        if cents <= 0 {
            return Err(refuse(Problem::AmountNotPositive { cents }));
        }
        if cents > MAX_AMOUNT_CENTS {
            return Err(refuse(Problem::AmountTooLarge { cents }));
        }
        let creditor_name = name(Field::CreditorName, &transfer.creditor_name).map_err(refuse)?;
        check_account(Field::CreditorIban, &transfer.creditor_iban).map_err(refuse)?;
        let remittance = sepa_text(&transfer.remittance, REMITTANCE_MAX_CHARS);
        control_sum += i128::from(cents);
        transfers.push(CheckedTransfer {
            amount: euros(i128::from(cents)),
            creditor_name,
            remittance: has_letters(&remittance).then_some(remittance),
        });
    }
    Ok(Checked {
        initiating_party,
        debtor_name,
        control_sum: control_sum_text(control_sum)?,
        transfers,
    })
}

/// Out of reach in practice (ten million transfers of the largest amount), but a file must
/// not break the schema's 18 digits whatever it holds.
fn control_sum_text(cents: i128) -> Result<String, SepaError> {
    if cents > MAX_CONTROL_SUM_CENTS {
        return Err(SepaError::Order(Problem::ControlSumTooLarge { cents }));
    }
    Ok(euros(cents))
}

/// Exact: `1234` cents is `"12.34"`. Never negative here.
fn euros(cents: i128) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

fn check_id(field: Field, value: &str) -> Result<(), Problem> {
    id_rule(value, ID_MAX_CHARS).map_or(Ok(()), |rule| {
        Err(Problem::Identifier {
            field,
            value: value.to_string(),
            rule,
        })
    })
}

/// The first EPC rule for identifiers that `value` breaks.
fn id_rule(value: &str, max_chars: usize) -> Option<IdRule> {
    if value.is_empty() {
        return Some(IdRule::Empty);
    }
    let chars = value.chars().count();
    if chars > max_chars {
        return Some(IdRule::TooLong {
            chars,
            max: max_chars,
        });
    }
    if let Some((index, found)) = value
        .chars()
        .enumerate()
        .find(|&(_, c)| c == ' ' || !is_sepa_char(c))
    {
        return Some(IdRule::Character {
            position: index + 1,
            found,
        });
    }
    if value.starts_with('/') || value.ends_with('/') {
        return Some(IdRule::SlashAtEdge);
    }
    value.contains("//").then_some(IdRule::DoubleSlash)
}

/// A name as it goes into the file, or a refusal when no letter or digit survives.
fn name(field: Field, original: &str) -> Result<String, Problem> {
    let text = sepa_text(original, NAME_MAX_CHARS);
    if has_letters(&text) {
        Ok(text)
    } else {
        Err(Problem::NoLetters {
            field,
            original: original.to_string(),
        })
    }
}

fn has_letters(text: &str) -> bool {
    text.chars().any(|c| c.is_ascii_alphanumeric())
}

/// `Iban::from_stored` trusts the database; parsing again checks the country is in SEPA.
fn check_account(field: Field, iban: &Iban) -> Result<(), Problem> {
    Iban::parse(iban.as_str()).map_err(|reason| Problem::Iban {
        field,
        iban: iban.as_str().to_string(),
        reason,
    })?;
    if in_eea(iban.country()) {
        Ok(())
    } else {
        Err(Problem::OutsideEea {
            field,
            country: iban.country().to_string(),
        })
    }
}

fn write(order: &PaymentOrder, checked: &Checked) -> String {
    let transfer_count = order.transfers.len().to_string();
    let mut xml = Xml::new();
    xml.element_with("Document", ("xmlns", NAMESPACE), |xml| {
        xml.element("CstmrCdtTrfInitn", |xml| {
            xml.element("GrpHdr", |xml| {
                xml.leaf("MsgId", &order.message_id);
                let created = order.created_at.format("%Y-%m-%dT%H:%M:%SZ");
                xml.leaf("CreDtTm", &created.to_string());
                xml.leaf("NbOfTxs", &transfer_count);
                xml.leaf("CtrlSum", &checked.control_sum);
                xml.element("InitgPty", |xml| xml.leaf("Nm", &checked.initiating_party));
            });
            xml.element("PmtInf", |xml| {
                xml.leaf("PmtInfId", &order.payment_info_id);
                xml.leaf("PmtMtd", "TRF");
                xml.leaf(
                    "BtchBookg",
                    if order.batch_booking { "true" } else { "false" },
                );
                xml.leaf("NbOfTxs", &transfer_count);
                xml.leaf("CtrlSum", &checked.control_sum);
                xml.element("PmtTpInf", |xml| {
                    xml.element("SvcLvl", |xml| xml.leaf("Cd", "SEPA"));
                });
                xml.element("ReqdExctnDt", |xml| {
                    let date = order.requested_execution_date.format("%Y-%m-%d");
                    xml.leaf("Dt", &date.to_string());
                });
                xml.element("Dbtr", |xml| xml.leaf("Nm", &checked.debtor_name));
                xml.account("DbtrAcct", &order.debtor.iban);
                xml.element("DbtrAgt", |xml| {
                    xml.element("FinInstnId", |xml| match &order.debtor.bic {
                        Some(bic) => xml.leaf("BICFI", bic.as_str()),
                        // The EPC's way of saying "IBAN only".
                        None => xml.element("Othr", |xml| xml.leaf("Id", "NOTPROVIDED")),
                    });
                });
                xml.leaf("ChrgBr", "SLEV");
                for (transfer, checked) in order.transfers.iter().zip(&checked.transfers) {
                    xml.element("CdtTrfTxInf", |xml| {
                        xml.element("PmtId", |xml| {
                            xml.leaf("EndToEndId", &transfer.end_to_end_id)
                        });
                        xml.element("Amt", |xml| {
                            xml.leaf_with("InstdAmt", ("Ccy", "EUR"), &checked.amount);
                        });
                        if let Some(bic) = &transfer.creditor_bic {
                            xml.element("CdtrAgt", |xml| {
                                xml.element("FinInstnId", |xml| xml.leaf("BICFI", bic.as_str()));
                            });
                        }
                        xml.element("Cdtr", |xml| xml.leaf("Nm", &checked.creditor_name));
                        xml.account("CdtrAcct", &transfer.creditor_iban);
                        if let Some(remittance) = &checked.remittance {
                            xml.element("RmtInf", |xml| xml.leaf("Ustrd", remittance));
                        }
                    });
                }
            });
        });
    });
    xml.out
}

/// Just enough of an XML writer for one fixed layout: elements nest through closures, so every
/// tag is closed, and all text and attribute values are escaped. Indented for a person who
/// opens the file; banks ignore the whitespace between elements.
struct Xml {
    out: String,
    depth: usize,
}

impl Xml {
    fn new() -> Xml {
        Xml {
            out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"),
            depth: 0,
        }
    }

    fn start_tag(&mut self, tag: &str, attribute: Option<(&str, &str)>) {
        self.out.push_str(&"  ".repeat(self.depth));
        self.out.push('<');
        self.out.push_str(tag);
        if let Some((name, value)) = attribute {
            self.out.push_str(&format!(" {name}=\"{}\"", escape(value)));
        }
        self.out.push('>');
    }

    fn element(&mut self, tag: &str, children: impl FnOnce(&mut Xml)) {
        self.element_inner(tag, None, children);
    }

    fn element_with(
        &mut self,
        tag: &str,
        attribute: (&str, &str),
        children: impl FnOnce(&mut Xml),
    ) {
        self.element_inner(tag, Some(attribute), children);
    }

    fn element_inner(
        &mut self,
        tag: &str,
        attribute: Option<(&str, &str)>,
        children: impl FnOnce(&mut Xml),
    ) {
        self.start_tag(tag, attribute);
        self.out.push('\n');
        self.depth += 1;
        children(self);
        self.depth -= 1;
        self.out.push_str(&"  ".repeat(self.depth));
        self.out.push_str(&format!("</{tag}>\n"));
    }

    fn leaf(&mut self, tag: &str, text: &str) {
        self.leaf_inner(tag, None, text);
    }

    fn leaf_with(&mut self, tag: &str, attribute: (&str, &str), text: &str) {
        self.leaf_inner(tag, Some(attribute), text);
    }

    fn leaf_inner(&mut self, tag: &str, attribute: Option<(&str, &str)>, text: &str) {
        self.start_tag(tag, attribute);
        self.out.push_str(&escape(text));
        self.out.push_str(&format!("</{tag}>\n"));
    }

    fn account(&mut self, tag: &str, iban: &Iban) {
        self.element(tag, |xml| {
            xml.element("Id", |xml| xml.leaf("IBAN", iban.as_str()))
        });
    }
}

/// The EPC's Latin character set, which every bank in SEPA must accept.
fn is_sepa_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || " /-?:().,'+".contains(c)
}

/// `input` written in the SEPA character set (a-z A-Z 0-9 / - ? : ( ) . , ' + space), for names
/// and remittance text. The convention:
/// - accents and other diacritics are dropped, one rule for every language: `Müller` →
///   `Muller`, `Niccolò` → `Niccolo`, `Łukasz` → `Lukasz`, `François` → `Francois`; letters
///   without a base letter are spelled out: `ß` → `ss`, `Æ` → `AE`, `Œ` → `OE`, `Ø` → `O`,
///   `Þ` → `TH`; ligatures and full-width forms are split (`ﬁ` → `fi`);
/// - Greek and Cyrillic letters are romanised letter by letter (ELOT 743 and the Bulgarian
///   system, simplified): `Γιώργος` → `Giorgos`, `Жечев` → `Zhechev`;
/// - `&` → `+`, `@` → `(at)`, `€` → `EUR`, every quote mark → `'`, brackets → `( )`, dashes and
///   `_` `~` → `-`, `;` → `,`, `!` → `.`, `\` `|` → `/`;
/// - any other character (emoji, other scripts, `#`, `%`, `*`…) → `.`, so a reader sees that
///   something stood there; invisible ones (joiners, variation selectors) are dropped;
/// - whitespace is collapsed to single spaces and trimmed, and the result cut to `max_chars`
///   characters (all ASCII, so a cut never splits a character) — the only shortening.
pub fn sepa_text(input: &str, max_chars: usize) -> String {
    let mut spelled = String::with_capacity(input.len());
    let mut previous = None;
    for c in input.chars() {
        // Greek `ου` is one sound, `ou` (Παπαδόπουλος → Papadopoulos), not `oy`.
        if greek_base(c) == Some('υ') && previous.and_then(greek_base) == Some('ο') {
            spelled.push(if c.is_uppercase() { 'U' } else { 'u' });
        } else {
            transliterate(c, &mut spelled);
        }
        previous = Some(c);
    }
    let mut text = spelled.split_whitespace().collect::<Vec<_>>().join(" ");
    text.truncate(max_chars);
    text.truncate(text.trim_end().len());
    text
}

/// An identifier (MsgId, PmtInfId, EndToEndId) made from any text: transliterated like
/// [`sepa_text`], spaces → `-`, `//` → `/`, no `/` at either end, cut to `max_chars`. `None`
/// when nothing is left. An identifier that already follows the rules comes back unchanged;
/// a cut one may collide with another, which [`pain_001_001_09`] refuses.
pub fn sepa_id(input: &str, max_chars: usize) -> Option<String> {
    let text = sepa_text(input, usize::MAX);
    let mut id = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            // `Payout 2025 - March` → `Payout-2025-March`, not `Payout-2025---March`.
            ' ' if id.ends_with('-') || chars.peek() == Some(&'-') => {}
            ' ' => id.push('-'),
            '/' if id.is_empty() || id.ends_with('/') => {}
            c => id.push(c),
        }
    }
    id.truncate(max_chars);
    id.truncate(id.trim_end_matches('/').len());
    (!id.is_empty()).then_some(id)
}

fn transliterate(c: char, out: &mut String) {
    if spell(c, out) {
        return;
    }
    // Invisible: marks already decomposed in the input (`e` + U+0301), variation selectors,
    // joiners, direction marks, soft hyphen, byte order mark, skin tone modifiers.
    if is_combining_mark(c)
        || matches!(c, '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}')
        || ('\u{1F3FB}'..='\u{1F3FF}').contains(&c)
    {
        return;
    }
    // Accented letters, ligatures, full-width and other compatibility forms.
    let mut decomposed = std::iter::once(c).nfkd().peekable();
    if decomposed.peek() == Some(&c) {
        out.push('.');
        return;
    }
    for part in decomposed {
        if !is_combining_mark(part) && !spell(part, out) {
            out.push('.');
        }
    }
}

/// Writes `c` in the SEPA set if the table knows it.
fn spell(c: char, out: &mut String) -> bool {
    if is_sepa_char(c) {
        out.push(c);
    } else if c.is_whitespace() || c.is_control() {
        out.push(' ');
    } else if let Some(spelled) = spelling(c) {
        out.push_str(spelled);
    } else if let Some(spelled) = romanised(c) {
        out.push_str(&spelled);
    } else {
        return false;
    }
    true
}

/// What Unicode decomposition leaves outside the set. `ł` and `ø` have no decomposition;
/// `й` and `ї` are looked up before they decompose, as Bulgarian and Ukrainian spell them.
fn spelling(c: char) -> Option<&'static str> {
    Some(match c {
        'ß' => "ss",
        'ẞ' => "SS",
        'Æ' => "AE",
        'æ' => "ae",
        'Œ' => "OE",
        'œ' => "oe",
        'Ø' => "O",
        'Ð' | 'Đ' => "D",
        'ø' => "o",
        'ð' | 'đ' => "d",
        'Ł' => "L",
        'ł' => "l",
        'Þ' => "TH",
        'þ' => "th",
        'Ħ' => "H",
        'ħ' => "h",
        'ı' => "i",
        'Ŋ' => "N",
        'ŋ' => "n",
        'Ŧ' => "T",
        'ŧ' => "t",
        'ƒ' => "f",
        '&' => "+",
        '@' => "(at)",
        '€' => "EUR",
        '"' | '`' | '´' | '‘' | '’' | '‚' | '‛' | '′' | '“' | '”' | '„' | '‟' | '″' | '«' | '»'
        | '‹' | '›' => "'",
        '<' | '[' | '{' => "(",
        '>' | ']' | '}' => ")",
        '‐'..='―' | '−' | '_' | '~' => "-",
        ';' => ",",
        '!' => ".",
        '\\' | '|' | '⁄' => "/",
        '×' => "x",
        _ => return None,
    })
}

/// Greek and Cyrillic, lower case; an upper-case letter is looked up in lower case and its
/// spelling capitalised (`Ж` → `Zh`).
const ROMANISATIONS: [(char, &str); 75] = [
    ('α', "a"),
    ('β', "v"),
    ('γ', "g"),
    ('δ', "d"),
    ('ε', "e"),
    ('ζ', "z"),
    ('η', "i"),
    ('θ', "th"),
    ('ι', "i"),
    ('κ', "k"),
    ('λ', "l"),
    ('μ', "m"),
    ('ν', "n"),
    ('ξ', "x"),
    ('ο', "o"),
    ('π', "p"),
    ('ρ', "r"),
    ('σ', "s"),
    ('ς', "s"),
    ('τ', "t"),
    ('υ', "y"),
    ('φ', "f"),
    ('χ', "ch"),
    ('ψ', "ps"),
    ('ω', "o"),
    ('а', "a"),
    ('б', "b"),
    ('в', "v"),
    ('г', "g"),
    ('д', "d"),
    ('е', "e"),
    ('ж', "zh"),
    ('з', "z"),
    ('и', "i"),
    ('й', "y"),
    ('к', "k"),
    ('л', "l"),
    ('м', "m"),
    ('н', "n"),
    ('о', "o"),
    ('п', "p"),
    ('р', "r"),
    ('с', "s"),
    ('т', "t"),
    ('у', "u"),
    ('ф', "f"),
    ('х', "h"),
    ('ц', "ts"),
    ('ч', "ch"),
    ('ш', "sh"),
    ('щ', "sht"),
    ('ъ', "a"),
    ('ь', "y"),
    ('ю', "yu"),
    ('я', "ya"),
    ('ё', "yo"),
    ('ы', "y"),
    ('э', "e"),
    ('і', "i"),
    ('ї', "yi"),
    ('є', "ye"),
    ('ґ', "g"),
    ('ј', "j"),
    ('љ', "lj"),
    ('њ', "nj"),
    ('џ', "dz"),
    ('ћ', "c"),
    ('ђ', "dj"),
    ('ѓ', "gj"),
    ('ќ', "kj"),
    ('ѕ', "dz"),
    ('ў', "u"),
    ('ә', "a"),
    ('ө', "o"),
    ('ү', "u"),
];

/// The lower-case Greek letter under `c`'s accents, if `c` is one.
fn greek_base(c: char) -> Option<char> {
    let base = c.to_lowercase().nfd().next()?;
    ('α'..='ω').contains(&base).then_some(base)
}

fn romanised(c: char) -> Option<String> {
    let mut lower = c.to_lowercase();
    let letter = lower.next().filter(|_| lower.next().is_none())?;
    let (_, spelled) = ROMANISATIONS.iter().find(|(from, _)| *from == letter)?;
    if letter == c {
        return Some(spelled.to_string());
    }
    let mut letters = spelled.chars();
    let first = letters.next()?.to_ascii_uppercase();
    Some(std::iter::once(first).chain(letters).collect())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use proptest::prelude::*;

    use super::*;

    const DEBTOR_IBAN: &str = "IT60X0542811101000000123456";

    fn iban(text: &str) -> Iban {
        Iban::parse(text).expect(text)
    }

    fn transfer(end_to_end_id: &str, amount_cents: i64) -> CreditTransfer {
        CreditTransfer {
            end_to_end_id: end_to_end_id.to_string(),
            amount_cents,
            creditor_name: "Maria Rossi".to_string(),
            creditor_iban: iban("DE89370400440532013000"),
            creditor_bic: None,
            remittance: "Incentivo CER 2024".to_string(),
        }
    }

    fn order(transfers: Vec<CreditTransfer>) -> PaymentOrder {
        PaymentOrder {
            message_id: "MSG-2025-03-001".to_string(),
            created_at: Utc.with_ymd_and_hms(2025, 3, 17, 9, 30, 5).unwrap(),
            initiating_party: "CER Sole di Comunità".to_string(),
            payment_info_id: "PMT-2025-03-001".to_string(),
            requested_execution_date: NaiveDate::from_ymd_opt(2025, 3, 20).unwrap(),
            debtor: Debtor {
                name: "CER Sole di Comunità".to_string(),
                iban: iban(DEBTOR_IBAN),
                bic: Some(Bic::parse("UNCRITMM").unwrap()),
            },
            batch_booking: true,
            transfers,
        }
    }

    fn xml(order: &PaymentOrder) -> String {
        String::from_utf8(pain_001_001_09(order).unwrap()).unwrap()
    }

    /// The texts of every `<tag>` in document order.
    fn texts(xml: &str, tag: &str) -> Vec<String> {
        let open = format!("<{tag}>");
        xml.split(&open)
            .skip(1)
            .map(|rest| rest[..rest.find('<').unwrap()].trim().to_string())
            .collect()
    }

    fn refusal(order: &PaymentOrder) -> SepaError {
        pain_001_001_09(order).unwrap_err()
    }

    fn transfer_problem(order: &PaymentOrder) -> (usize, Problem) {
        match refusal(order) {
            SepaError::Transfer { index, problem, .. } => (index, problem),
            other => panic!("a transfer's refusal expected, got {other:?}"),
        }
    }

    #[test]
    fn amounts_are_written_with_exactly_two_decimals() {
        assert_eq!(euros(1), "0.01");
        assert_eq!(euros(10), "0.10");
        assert_eq!(euros(100), "1.00");
        assert_eq!(euros(1234), "12.34");
        assert_eq!(euros(i128::from(MAX_AMOUNT_CENTS)), "999999999.99");
        let xml = xml(&order(vec![transfer("A", 5), transfer("B", 120_000)]));
        assert!(
            xml.contains(r#"<InstdAmt Ccy="EUR">0.05</InstdAmt>"#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<InstdAmt Ccy="EUR">1200.00</InstdAmt>"#),
            "{xml}"
        );
    }

    #[test]
    fn the_control_sum_is_the_exact_sum_in_both_headers() {
        // 0.1 + 0.2 in binary floating point is 0.30000000000000004.
        let transfers = vec![
            transfer("A", 10),
            transfer("B", 20),
            transfer("C", MAX_AMOUNT_CENTS),
        ];
        let xml = xml(&order(transfers));
        assert_eq!(texts(&xml, "CtrlSum"), ["1000000000.29", "1000000000.29"]);
        assert_eq!(texts(&xml, "NbOfTxs"), ["3", "3"]);
    }

    #[test]
    fn the_document_has_the_epc_layout() {
        let mut order = order(vec![transfer("E2E-1", 1234)]);
        order.transfers[0].creditor_bic = Some(Bic::parse("cobadeffxxx").unwrap());
        let xml = xml(&order);
        let expected = [
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
            "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.09\">",
            "<CstmrCdtTrfInitn>",
            "<GrpHdr>",
            "<MsgId>MSG-2025-03-001</MsgId>",
            "<CreDtTm>2025-03-17T09:30:05Z</CreDtTm>",
            "<NbOfTxs>1</NbOfTxs>",
            "<CtrlSum>12.34</CtrlSum>",
            "<InitgPty>",
            "<Nm>CER Sole di Comunita</Nm>",
            "</InitgPty>",
            "</GrpHdr>",
            "<PmtInf>",
            "<PmtInfId>PMT-2025-03-001</PmtInfId>",
            "<PmtMtd>TRF</PmtMtd>",
            "<BtchBookg>true</BtchBookg>",
            "<NbOfTxs>1</NbOfTxs>",
            "<CtrlSum>12.34</CtrlSum>",
            "<PmtTpInf>",
            "<SvcLvl>",
            "<Cd>SEPA</Cd>",
            "</SvcLvl>",
            "</PmtTpInf>",
            "<ReqdExctnDt>",
            "<Dt>2025-03-20</Dt>",
            "</ReqdExctnDt>",
            "<Dbtr>",
            "<Nm>CER Sole di Comunita</Nm>",
            "</Dbtr>",
            "<DbtrAcct>",
            "<Id>",
            "<IBAN>IT60X0542811101000000123456</IBAN>",
            "</Id>",
            "</DbtrAcct>",
            "<DbtrAgt>",
            "<FinInstnId>",
            "<BICFI>UNCRITMM</BICFI>",
            "</FinInstnId>",
            "</DbtrAgt>",
            "<ChrgBr>SLEV</ChrgBr>",
            "<CdtTrfTxInf>",
            "<PmtId>",
            "<EndToEndId>E2E-1</EndToEndId>",
            "</PmtId>",
            "<Amt>",
            "<InstdAmt Ccy=\"EUR\">12.34</InstdAmt>",
            "</Amt>",
            "<CdtrAgt>",
            "<FinInstnId>",
            "<BICFI>COBADEFFXXX</BICFI>",
            "</FinInstnId>",
            "</CdtrAgt>",
            "<Cdtr>",
            "<Nm>Maria Rossi</Nm>",
            "</Cdtr>",
            "<CdtrAcct>",
            "<Id>",
            "<IBAN>DE89370400440532013000</IBAN>",
            "</Id>",
            "</CdtrAcct>",
            "<RmtInf>",
            "<Ustrd>Incentivo CER 2024</Ustrd>",
            "</RmtInf>",
            "</CdtTrfTxInf>",
            "</PmtInf>",
            "</CstmrCdtTrfInitn>",
            "</Document>",
        ];
        assert_eq!(xml.lines().map(str::trim).collect::<Vec<_>>(), expected);
    }

    #[test]
    fn without_bics_the_debtor_agent_is_not_provided_and_the_creditor_agent_absent() {
        let mut order = order(vec![transfer("A", 100)]);
        order.debtor.bic = None;
        order.batch_booking = false;
        let xml = xml(&order);
        assert!(xml.contains("<Othr>\n"), "{xml}");
        assert_eq!(texts(&xml, "Id"), ["", "NOTPROVIDED", ""]);
        assert!(!xml.contains("BICFI"), "{xml}");
        assert!(!xml.contains("CdtrAgt"), "{xml}");
        assert_eq!(texts(&xml, "BtchBookg"), ["false"]);
    }

    #[test]
    fn the_same_order_gives_the_same_bytes() {
        let transfers = (0..50)
            .map(|n| transfer(&format!("E2E-{n}"), 100 + n))
            .collect();
        let order = order(transfers);
        assert_eq!(pain_001_001_09(&order), pain_001_001_09(&order.clone()));
    }

    #[test]
    fn names_and_remittance_are_transliterated_and_escaped() {
        let mut order = order(vec![transfer("A", 100)]);
        order.transfers[0].creditor_name = "Zoë Müller-Łukasz & D’Angelo <S.r.l.>".to_string();
        order.transfers[0].remittance = "Quota \"CER\" 2024 — info@cer.it 😀".to_string();
        let xml = xml(&order);
        assert_eq!(
            texts(&xml, "Nm")[2],
            "Zoe Muller-Lukasz + D&apos;Angelo (S.r.l.)"
        );
        assert_eq!(
            texts(&xml, "Ustrd"),
            ["Quota &apos;CER&apos; 2024 - info(at)cer.it ."]
        );
    }

    #[test]
    fn transliteration_table() {
        let cases = [
            // Italian
            ("Niccolò Pèrez", "Niccolo Perez"),
            ("àèéìòù ÀÈÉÌÒÙ", "aeeiou AEEIOU"),
            (
                "Società Cooperativa d’Energia",
                "Societa Cooperativa d'Energia",
            ),
            // German
            ("Jürgen Großmann", "Jurgen Grossmann"),
            ("ÄÖÜ äöü ẞ", "AOU aou SS"),
            // Polish
            ("Łukasz Żółć Świętosław", "Lukasz Zolc Swietoslaw"),
            ("Ąę Ńń Śś Źź", "Ae Nn Ss Zz"),
            // French
            ("François Lefèvre-Dûbois", "Francois Lefevre-Dubois"),
            ("Œuvre Çà et là", "OEuvre Ca et la"),
            // Nordic, Baltic, Czech, Hungarian, Croatian, Icelandic
            ("Søren Ærø Åsa", "Soren AEro Asa"),
            ("Dvořák Őrs Đuro Þór", "Dvorak Ors Duro THor"),
            // Greek and Bulgarian
            ("Γιώργος Παπαδόπουλος ΚΟΥΡΗΣ", "Giorgos Papadopoulos KOURIS"),
            ("Жечев Щерев", "Zhechev Shterev"),
            // Symbols
            ("A & B @ C €5", "A + B (at) C EUR5"),
            ("«Sole» „Luna“ ‘x’ `y´", "'Sole' 'Luna' 'x' 'y'"),
            ("a_b~c;d!e\\f|g", "a-b-c,d.e/f/g"),
            ("n° 12 # 50% *", "n. 12 . 50. ."),
            ("ﬁne ½ №3 Ｒｏｍａ", "fine 1/2 No3 Roma"),
            ("Mario 👩\u{200D}💻 Rossi", "Mario .. Rossi"),
            ("thumb 👍🏽\u{FE0F}", "thumb ."),
            ("王伟", ".."),
            // Whitespace
            ("  Anna\t\n  Bianchi\u{00A0} ", "Anna Bianchi"),
        ];
        for (input, expected) in cases {
            assert_eq!(sepa_text(input, 140), expected, "{input}");
        }
    }

    #[test]
    fn text_is_cut_only_at_the_limit_and_never_ends_in_a_space() {
        assert_eq!(sepa_text("ß", 1), "s");
        assert_eq!(sepa_text("Anna Bianchi", 5), "Anna");
        assert_eq!(sepa_text("Anna Bianchi", 12), "Anna Bianchi");
        let long = "è".repeat(200);
        assert_eq!(sepa_text(&long, REMITTANCE_MAX_CHARS), "e".repeat(140));
        let mut order = order(vec![transfer("A", 100)]);
        order.transfers[0].creditor_name = "Ø".repeat(100);
        assert_eq!(texts(&xml(&order), "Nm")[2], "O".repeat(NAME_MAX_CHARS));
    }

    #[test]
    fn identifiers_made_from_text() {
        assert_eq!(
            sepa_id("Payout 2025/03 – Comunità", 35).unwrap(),
            "Payout-2025/03-Comunita"
        );
        assert_eq!(sepa_id("//a//b//", 35).unwrap(), "a/b");
        assert_eq!(sepa_id("abc/def", 4).unwrap(), "abc");
        assert_eq!(sepa_id("  ", 35), None);
        assert_eq!(sepa_id("///", 35), None);
        let valid = "PAYOUT-2025-03-17/0001";
        assert_eq!(sepa_id(valid, 35).unwrap(), valid);
    }

    #[test]
    fn a_bic_is_parsed_from_what_a_person_types() {
        assert_eq!(Bic::parse(" uncr itmm ").unwrap().as_str(), "UNCRITMM");
        assert_eq!(Bic::parse("BCITITMM500").unwrap().as_str(), "BCITITMM500");
        assert_eq!(Bic::parse("DEUTDE2H").unwrap().to_string(), "DEUTDE2H");
        let problem = |input: &str| match Bic::parse(input) {
            Err(SepaError::Bic { problem, .. }) => problem,
            other => panic!("{input}: {other:?}"),
        };
        assert_eq!(problem("UNCRIT"), BicProblem::Length(6));
        assert_eq!(problem("UNCRITMM50"), BicProblem::Length(10));
        let character = |position, found| BicProblem::Character { position, found };
        assert_eq!(problem("UNC1ITMM"), character(4, '1'));
        assert_eq!(problem("UNCRIT1M"), character(7, '1'));
        assert_eq!(problem("UNCRITMO"), character(8, 'O'));
        assert_eq!(problem("UNCRITMM5_0"), character(10, '_'));
        let message = Bic::parse("UNCRIT").unwrap_err().to_string();
        assert_eq!(
            message,
            "`UNCRIT` is not a BIC: a BIC has 8 or 11 characters, this one has 6"
        );
    }

    #[test]
    fn refuses_an_order_without_transfers() {
        assert_eq!(refusal(&order(vec![])), SepaError::NoTransfers);
    }

    #[test]
    fn refuses_amounts_outside_the_sepa_range() {
        for cents in [0, -1, i64::MIN] {
            let order = order(vec![transfer("A", 100), transfer("B", cents)]);
            assert_eq!(
                transfer_problem(&order),
                (1, Problem::AmountNotPositive { cents })
            );
        }
        let order = order(vec![transfer("A", MAX_AMOUNT_CENTS + 1)]);
        let error = refusal(&order);
        assert_eq!(
            error.to_string(),
            "transfer at index 0 (end-to-end id `A`): the amount 1000000000.00 EUR is above the \
             SEPA limit of 999999999.99 EUR: split it"
        );
    }

    #[test]
    fn refuses_a_control_sum_beyond_18_digits() {
        assert_eq!(
            control_sum_text(MAX_CONTROL_SUM_CENTS).unwrap(),
            "9999999999999999.99"
        );
        assert_eq!(
            control_sum_text(MAX_CONTROL_SUM_CENTS + 1)
                .unwrap_err()
                .to_string(),
            "the transfers add up to 10000000000000000.00 EUR, more than a control sum's 18 \
             digits: split the order"
        );
    }

    #[test]
    fn refuses_duplicate_end_to_end_ids() {
        let order = order(vec![transfer("A", 1), transfer("B", 2), transfer("A", 3)]);
        assert_eq!(
            refusal(&order).to_string(),
            "transfer at index 2 (end-to-end id `A`): the end-to-end id is also that of the \
             transfer at index 0: each transfer needs its own, the bank reports transfers back \
             by it"
        );
    }

    #[test]
    fn refuses_identifiers_that_break_the_epc_rules() {
        let cases = [
            ("", IdRule::Empty),
            (
                "123456789012345678901234567890123456",
                IdRule::TooLong { chars: 36, max: 35 },
            ),
            (
                "A B",
                IdRule::Character {
                    position: 2,
                    found: ' ',
                },
            ),
            (
                "Comunità",
                IdRule::Character {
                    position: 8,
                    found: 'à',
                },
            ),
            (
                "A_1",
                IdRule::Character {
                    position: 2,
                    found: '_',
                },
            ),
            ("/A", IdRule::SlashAtEdge),
            ("A/", IdRule::SlashAtEdge),
            ("A//B", IdRule::DoubleSlash),
        ];
        for (value, rule) in cases {
            let problem = |field| Problem::Identifier {
                field,
                value: value.to_string(),
                rule: rule.clone(),
            };
            let mut by_message = order(vec![transfer("A", 1)]);
            by_message.message_id = value.to_string();
            assert_eq!(
                refusal(&by_message),
                SepaError::Order(problem(Field::MessageId))
            );
            let mut by_payment = order(vec![transfer("A", 1)]);
            by_payment.payment_info_id = value.to_string();
            assert_eq!(
                refusal(&by_payment),
                SepaError::Order(problem(Field::PaymentInfoId))
            );
            let by_transfer = order(vec![transfer("A", 1), transfer(value, 1)]);
            assert_eq!(
                transfer_problem(&by_transfer),
                (1, problem(Field::EndToEndId))
            );
        }
        let exactly_35 = "12345678901234567890123456789012345";
        let mut order = order(vec![transfer(exactly_35, 1)]);
        order.message_id = "a-z:A-Z?0-9(+).,'/x".to_string();
        assert!(xml(&order).contains("<MsgId>a-z:A-Z?0-9(+).,&apos;/x</MsgId>"));
    }

    #[test]
    fn refuses_names_with_nothing_left_to_read() {
        let mut no_creditor = order(vec![transfer("A", 1), transfer("B", 1)]);
        no_creditor.transfers[1].creditor_name = "王伟 😀".to_string();
        assert_eq!(
            refusal(&no_creditor).to_string(),
            "transfer at index 1 (end-to-end id `B`): the creditor's name (Cdtr/Nm) `王伟 😀` \
             has no letter or digit left in the SEPA character set: write it with Latin letters"
        );
        let mut no_debtor = order(vec![transfer("A", 1)]);
        no_debtor.debtor.name = "  ".to_string();
        assert_eq!(
            refusal(&no_debtor),
            SepaError::Order(Problem::NoLetters {
                field: Field::DebtorName,
                original: "  ".to_string()
            })
        );
        let mut no_party = order(vec![transfer("A", 1)]);
        no_party.initiating_party = "…".to_string();
        assert!(matches!(
            refusal(&no_party),
            SepaError::Order(Problem::NoLetters {
                field: Field::InitiatingParty,
                ..
            })
        ));
    }

    #[test]
    fn an_empty_remittance_is_left_out() {
        let mut order = order(vec![transfer("A", 1)]);
        order.transfers[0].remittance = " 😀 ".to_string();
        assert!(!xml(&order).contains("RmtInf"));
    }

    #[test]
    fn refuses_accounts_outside_sepa_or_outside_the_eea() {
        let mut stored = order(vec![transfer("A", 1)]);
        stored.transfers[0].creditor_iban = Iban::from_stored("US12345678901234567890");
        assert_eq!(
            transfer_problem(&stored),
            (
                0,
                Problem::Iban {
                    field: Field::CreditorIban,
                    iban: "US12345678901234567890".to_string(),
                    reason: ContactError::IbanCountry("US".to_string()),
                }
            )
        );
        let mut corrupted = order(vec![transfer("A", 1)]);
        corrupted.debtor.iban = Iban::from_stored("IT60X0542811101000000123457");
        assert!(matches!(
            refusal(&corrupted),
            SepaError::Order(Problem::Iban {
                field: Field::DebtorIban,
                reason: ContactError::IbanChecksum,
                ..
            })
        ));
        for outside in ["CH9300762011623852957", "SM86U0322509800000000270100"] {
            let mut order = order(vec![transfer("A", 1)]);
            order.transfers[0].creditor_iban = iban(outside);
            assert_eq!(
                transfer_problem(&order),
                (
                    0,
                    Problem::OutsideEea {
                        field: Field::CreditorIban,
                        country: outside[..2].to_string(),
                    }
                )
            );
        }
        let mut swiss_debtor = order(vec![transfer("A", 1)]);
        swiss_debtor.debtor.iban = iban("CH9300762011623852957");
        assert_eq!(
            refusal(&swiss_debtor).to_string(),
            "the debtor's IBAN (DbtrAcct/Id/IBAN) is held in CH, a SEPA country outside the \
             EEA: a transfer there needs the postal addresses of payer and payee, which this \
             file does not carry; pay it another way"
        );
        let mut eea = order(vec![transfer("A", 1)]);
        for other in [
            "FR1420041010050500013M02606",
            "ES9121000418450200051332",
            "PL61109010140000071219812874",
        ] {
            eea.transfers[0].creditor_iban = iban(other);
            assert!(pain_001_001_09(&eea).is_ok(), "{other}");
        }
    }

    proptest! {
        #[test]
        fn any_text_comes_out_in_the_sepa_set_within_its_limit(
            input in "\\PC{0,80}",
            max in 1usize..=140,
        ) {
            let text = sepa_text(&input, max);
            prop_assert!(text.chars().count() <= max);
            prop_assert!(text.chars().all(is_sepa_char), "{text:?}");
            prop_assert!(!text.starts_with(' ') && !text.ends_with(' ') && !text.contains("  "));
            if let Some(id) = sepa_id(&input, max) {
                prop_assert_eq!(id_rule(&id, max), None, "{:?}", id);
                prop_assert_eq!(sepa_id(&id, max), Some(id.clone()));
            }
        }
    }
}
