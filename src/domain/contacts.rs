//! How a holder is reached and paid: IBAN, Italian postcode and province, phone number.
//!
//! Each type parses what a person types (spaces, lower case, `00` for `+`) into one stored
//! form, or says in words what is wrong. Pure and offline: a value that passes is well formed
//! (an IBAN's check digits and an Italian IBAN's CIN agree), not known to exist.
use std::fmt;

use super::tax_codes::check_letter;

/// Why a value was refused; `Display` is the message shown next to the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactError {
    Empty,
    IbanCountry(String),
    IbanLength {
        country: String,
        expected: usize,
        found: usize,
    },
    IbanCharacter {
        position: usize,
        found: char,
    },
    IbanChecksum,
    /// An Italian (or San Marino) IBAN whose CIN letter does not match ABI, CAB and account.
    IbanCin {
        expected: char,
        found: char,
    },
    Postcode,
    Province(String),
    Phone,
}

impl fmt::Display for ContactError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => write!(f, "must not be empty"),
            Self::IbanCountry(code) => write!(
                f,
                "`{code}` is not the country code of a SEPA country: an IBAN starts with two \
                 letters such as IT"
            ),
            Self::IbanLength {
                country,
                expected,
                found,
            } => write!(
                f,
                "an IBAN from {country} has {expected} characters, this one has {found}"
            ),
            Self::IbanCharacter { position, found } => write!(
                f,
                "character {position} (`{found}`) is not allowed in an IBAN: letters and digits \
                 only"
            ),
            Self::IbanChecksum => write!(
                f,
                "the IBAN's check digits do not match the rest: a character is mistyped"
            ),
            Self::IbanCin { expected, found } => write!(
                f,
                "the CIN (character 5, `{found}`) does not match the bank and account numbers \
                 (expected `{expected}`): a character is mistyped"
            ),
            Self::Postcode => write!(f, "an Italian postcode (CAP) has exactly five digits"),
            Self::Province(code) => write!(
                f,
                "`{code}` is not the code of an Italian province (two letters, such as RM or MI)"
            ),
            Self::Phone => write!(
                f,
                "write the number with its country code, e.g. +39 333 123 4567 (up to 15 digits)"
            ),
        }
    }
}

impl std::error::Error for ContactError {}

/// IBAN lengths of the SEPA scheme's countries (EPC409-09, the IBAN registry's figures).
const SEPA_IBAN_LENGTHS: [(&str, usize); 37] = [
    ("AD", 24),
    ("AT", 20),
    ("BE", 16),
    ("BG", 22),
    ("CH", 21),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("EE", 20),
    ("ES", 24),
    ("FI", 18),
    ("FR", 27),
    ("GB", 22),
    ("GI", 23),
    ("GR", 27),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IS", 26),
    ("IT", 27),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("MC", 27),
    ("MT", 31),
    ("NL", 18),
    ("NO", 15),
    ("PL", 28),
    ("PT", 25),
    ("RO", 24),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("VA", 22),
];

/// An IBAN of a SEPA country, stored in its electronic form (upper case, no spaces).
///
/// Checked: the country's length, ISO 13616's mod-97 check digits and, for Italy and San
/// Marino (the same BBAN: CIN, ABI, CAB, account), the CIN letter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Iban(String);

impl Iban {
    pub fn parse(input: &str) -> Result<Iban, ContactError> {
        let compact: String = input
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .flat_map(char::to_uppercase)
            .collect();
        if compact.is_empty() {
            return Err(ContactError::Empty);
        }
        if let Some((index, found)) = compact
            .chars()
            .enumerate()
            .find(|(_, c)| !c.is_ascii_alphanumeric())
        {
            return Err(ContactError::IbanCharacter {
                position: index + 1,
                found,
            });
        }
        let country: String = compact.chars().take(2).collect();
        let expected = SEPA_IBAN_LENGTHS
            .iter()
            .find(|(code, _)| *code == country)
            .map(|(_, length)| *length)
            .ok_or_else(|| ContactError::IbanCountry(country.clone()))?;
        if compact.len() != expected {
            return Err(ContactError::IbanLength {
                country,
                expected,
                found: compact.len(),
            });
        }
        let bytes = compact.as_bytes();
        if let Some(position) = (2..4).find(|&i| !bytes[i].is_ascii_digit()) {
            return Err(ContactError::IbanCharacter {
                position: position + 1,
                found: char::from(bytes[position]),
            });
        }
        if mod97(&bytes[4..], &bytes[..4]) != 1 {
            return Err(ContactError::IbanChecksum);
        }
        if country == "IT" || country == "SM" {
            check_italian_bban(&bytes[4..])?;
        }
        Ok(Iban(compact))
    }

    /// A value read back from the database, written there by `parse`.
    pub fn from_stored(value: &str) -> Iban {
        Iban(value.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn country(&self) -> &str {
        &self.0[..2]
    }

    /// In groups of four, as printed on statements.
    pub fn grouped(&self) -> String {
        self.0
            .as_bytes()
            .chunks(4)
            .map(|chunk| std::str::from_utf8(chunk).expect("an IBAN is ASCII"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl fmt::Display for Iban {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// ISO 7064 mod 97-10 of `rest` followed by `head` (the IBAN rearranged), letters as 10..35.
fn mod97(rest: &[u8], head: &[u8]) -> u32 {
    rest.iter().chain(head).fold(0u32, |acc, &b| {
        if b.is_ascii_digit() {
            (acc * 10 + u32::from(b - b'0')) % 97
        } else {
            (acc * 100 + u32::from(b - b'A') + 10) % 97
        }
    })
}

/// CIN (1 letter), ABI (5 digits), CAB (5 digits), account (12 letters or digits).
fn check_italian_bban(bban: &[u8]) -> Result<(), ContactError> {
    let cin = bban[0];
    if !cin.is_ascii_uppercase() {
        return Err(ContactError::IbanCharacter {
            position: 5,
            found: char::from(cin),
        });
    }
    if let Some(offset) = (1..11).find(|&i| !bban[i].is_ascii_digit()) {
        return Err(ContactError::IbanCharacter {
            position: offset + 5,
            found: char::from(bban[offset]),
        });
    }
    let expected = check_letter(&bban[1..]);
    if char::from(cin) != expected {
        return Err(ContactError::IbanCin {
            expected,
            found: char::from(cin),
        });
    }
    Ok(())
}

/// An Italian postcode (CAP): five digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Postcode(String);

impl Postcode {
    pub fn parse(input: &str) -> Result<Postcode, ContactError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(ContactError::Empty);
        }
        if trimmed.len() == 5 && trimmed.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Postcode(trimmed.to_string()))
        } else {
            Err(ContactError::Postcode)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The two-letter codes of Italy's provinces and metropolitan cities (ISTAT, with the
/// Sardinian codes used again since the 2021–2025 reorganisation: CI, OG, OT, VS).
const PROVINCES: [&str; 111] = [
    "AG", "AL", "AN", "AO", "AP", "AQ", "AR", "AT", "AV", "BA", "BG", "BI", "BL", "BN", "BO", "BR",
    "BS", "BT", "BZ", "CA", "CB", "CE", "CH", "CI", "CL", "CN", "CO", "CR", "CS", "CT", "CZ", "EN",
    "FC", "FE", "FG", "FI", "FM", "FR", "GE", "GO", "GR", "IM", "IS", "KR", "LC", "LE", "LI", "LO",
    "LT", "LU", "MB", "MC", "ME", "MI", "MN", "MO", "MS", "MT", "NA", "NO", "NU", "OG", "OR", "OT",
    "PA", "PC", "PD", "PE", "PG", "PI", "PN", "PO", "PR", "PT", "PU", "PV", "PZ", "RA", "RC", "RE",
    "RG", "RI", "RM", "RN", "RO", "SA", "SI", "SO", "SP", "SR", "SS", "SU", "SV", "TA", "TE", "TN",
    "TO", "TP", "TR", "TS", "TV", "UD", "VA", "VB", "VC", "VE", "VI", "VR", "VS", "VT", "VV",
];

/// An Italian province code, upper case (`rm` → `RM`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Province(String);

impl Province {
    pub fn parse(input: &str) -> Result<Province, ContactError> {
        let code = input.trim().to_ascii_uppercase();
        if code.is_empty() {
            return Err(ContactError::Empty);
        }
        if PROVINCES.contains(&code.as_str()) {
            Ok(Province(code))
        } else {
            Err(ContactError::Province(input.trim().to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A phone number in E.164 form: `+`, a country code and at most 15 digits in all.
///
/// Spaces, dots, dashes and brackets are dropped and a leading `00` is read as `+`; a number
/// without its country code is refused rather than assumed Italian.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    pub fn parse(input: &str) -> Result<Phone, ContactError> {
        let compact: String = input
            .chars()
            .filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')' | '/') && !c.is_whitespace())
            .collect();
        if compact.is_empty() {
            return Err(ContactError::Empty);
        }
        let digits = if let Some(rest) = compact.strip_prefix('+') {
            rest
        } else if let Some(rest) = compact.strip_prefix("00") {
            rest
        } else {
            return Err(ContactError::Phone);
        };
        let well_formed = (8..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        if well_formed {
            Ok(Phone(format!("+{digits}")))
        } else {
            Err(ContactError::Phone)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ibans_as_people_type_them() {
        // The Italian example of the ECBS/EPC IBAN registry, and the same in print form.
        for input in [
            "IT60X0542811101000000123456",
            "it60 x054 2811 1010 0000 0123 456",
            "IT60-X054-2811-1010-0000-0123-456",
        ] {
            let iban = Iban::parse(input).expect(input);
            assert_eq!(iban.as_str(), "IT60X0542811101000000123456");
            assert_eq!(iban.country(), "IT");
        }
        // Other SEPA countries: the registry's examples.
        for input in [
            "DE89370400440532013000",
            "FR1420041010050500013M02606",
            "GB29NWBK60161331926819",
            "NO9386011117947",
            "MT84MALT011000012345MTLCAST001S",
        ] {
            assert_eq!(Iban::parse(input).expect(input).as_str(), input);
        }
        assert_eq!(
            Iban::parse("IT60X0542811101000000123456")
                .unwrap()
                .grouped(),
            "IT60 X054 2811 1010 0000 0123 456"
        );
    }

    #[test]
    fn says_what_is_wrong_with_an_iban() {
        assert_eq!(Iban::parse("  "), Err(ContactError::Empty));
        assert_eq!(
            Iban::parse("US12345678901234567890"),
            Err(ContactError::IbanCountry("US".into()))
        );
        assert_eq!(
            Iban::parse("IT60X054281110100000012345"),
            Err(ContactError::IbanLength {
                country: "IT".into(),
                expected: 27,
                found: 26
            })
        );
        assert_eq!(
            Iban::parse("IT60X05428111010000001234_6"),
            Err(ContactError::IbanCharacter {
                position: 26,
                found: '_'
            })
        );
        // One digit of the account changed: mod 97 catches it.
        assert_eq!(
            Iban::parse("IT60X0542811101000000123457"),
            Err(ContactError::IbanChecksum)
        );
        // Two adjacent digits swapped, also caught by mod 97.
        assert_eq!(
            Iban::parse("IT60X0542811101000000124356"),
            Err(ContactError::IbanChecksum)
        );
    }

    /// The CIN catches what mod 97 alone lets through: an IBAN whose check digits were
    /// recomputed over a wrong CIN (as a careless converter would).
    #[test]
    fn checks_the_italian_cin() {
        let bban = "Y0542811101000000123456";
        let check = 98 - mod97(format!("{bban}IT00").as_bytes(), b"");
        let forged = format!("IT{check:02}{bban}");
        assert_eq!(mod97(&forged.as_bytes()[4..], &forged.as_bytes()[..4]), 1);
        assert_eq!(
            Iban::parse(&forged),
            Err(ContactError::IbanCin {
                expected: 'X',
                found: 'Y'
            })
        );
        let bban = "X05428A1101000000123456";
        let check = 98 - mod97(format!("{bban}IT00").as_bytes(), b"");
        assert_eq!(
            Iban::parse(&format!("IT{check:02}{bban}")),
            Err(ContactError::IbanCharacter {
                position: 11,
                found: 'A'
            })
        );
    }

    #[test]
    fn postcodes_are_five_digits() {
        assert_eq!(Postcode::parse(" 00184 ").unwrap().as_str(), "00184");
        for bad in ["0018", "001844", "0018A", "I-00184"] {
            assert_eq!(Postcode::parse(bad), Err(ContactError::Postcode), "{bad}");
        }
        assert_eq!(Postcode::parse(""), Err(ContactError::Empty));
    }

    #[test]
    fn provinces_are_known_codes() {
        assert_eq!(Province::parse("rm").unwrap().as_str(), "RM");
        assert_eq!(Province::parse(" SU ").unwrap().as_str(), "SU");
        assert_eq!(
            Province::parse("XX"),
            Err(ContactError::Province("XX".into()))
        );
        assert_eq!(
            Province::parse("Roma"),
            Err(ContactError::Province("Roma".into()))
        );
        let mut sorted = PROVINCES.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), PROVINCES.len(), "no code twice");
    }

    #[test]
    fn phones_in_international_form() {
        for (input, stored) in [
            ("+39 333 123 4567", "+393331234567"),
            ("0039 06 1234 5678", "+390612345678"),
            ("+39 (06) 1234-5678", "+390612345678"),
            ("+44 20 7946 0958", "+442079460958"),
        ] {
            assert_eq!(Phone::parse(input).expect(input).as_str(), stored);
        }
        for bad in [
            "333 123 4567",
            "+39 333 abc 4567",
            "+0 123 456 789",
            "+39 12",
            "+39 3331 2345 6789 0123",
        ] {
            assert_eq!(Phone::parse(bad), Err(ContactError::Phone), "{bad}");
        }
    }
}
