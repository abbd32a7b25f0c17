//! Validation of Italian tax identifiers: the *codice fiscale* of a natural
//! person and the *partita IVA* (which is also a company's codice fiscale).
//!
//! Everything here is pure and offline: we only check structure and check
//! characters, so a value that passes is *well formed*, not necessarily
//! registered with the Agenzia delle Entrate.

use std::fmt;
use std::str::FromStr;

/// Why a tax code was rejected. Each variant renders a short, human-readable
/// message through `Display`, suitable for showing back to the user.
///
/// Positions are 1-based, because they are meant for people, not for indexing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaxCodeError {
    /// Nothing left after trimming (and, for a VAT number, after the `IT` prefix).
    Empty,
    /// The code does not have the required number of characters.
    WrongLength { expected: usize, found: usize },
    /// A character is not allowed at that position.
    InvalidCharacter { position: usize, found: char },
    /// The month letter of a codice fiscale is not one of `ABCDEHLMPRST`.
    InvalidMonth(char),
    /// The encoded day of birth (after removing the +40 used for women) is not in 1..=31.
    InvalidDay(u8),
    /// The final letter of a codice fiscale does not match the computed one.
    WrongCheckCharacter { expected: char, found: char },
    /// The final digit of a partita IVA does not match the computed one.
    WrongCheckDigit { expected: char, found: char },
    /// `00000000000` passes the checksum but is never a real partita IVA.
    AllZeros,
}

impl fmt::Display for TaxCodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => write!(f, "tax code is empty"),
            Self::WrongLength { expected, found } => {
                write!(
                    f,
                    "wrong length: expected {expected} characters, found {found}"
                )
            }
            Self::InvalidCharacter { position, found } => {
                write!(f, "invalid character '{found}' at position {position}")
            }
            Self::InvalidMonth(c) => write!(f, "invalid month letter '{c}'"),
            Self::InvalidDay(day) => write!(f, "invalid day of birth {day:02}"),
            Self::WrongCheckCharacter { expected, found } => {
                write!(f, "wrong check character '{found}' (expected '{expected}')")
            }
            Self::WrongCheckDigit { expected, found } => {
                write!(f, "wrong check digit '{found}' (expected '{expected}')")
            }
            Self::AllZeros => write!(f, "VAT number cannot be all zeros"),
        }
    }
}

impl std::error::Error for TaxCodeError {}

/// Letters that replace the digits 0-9 in an *omocodice*: when two people
/// would get the same code, the Agenzia substitutes digits (right to left)
/// with these letters, so they must be accepted wherever a digit is.
const OMOCODIA_LETTERS: &[u8; 10] = b"LMNPQRSTUV";

/// Month letters January..December, in order.
const MONTH_LETTERS: &[u8; 12] = b"ABCDEHLMPRST";

/// Indices of a codice fiscale that hold a digit (or its omocodia letter).
const DIGIT_SLOTS: [usize; 7] = [6, 7, 9, 10, 12, 13, 14];

/// Index of the month letter in a codice fiscale.
const MONTH_SLOT: usize = 8;

/// Values for characters at odd (1st, 3rd, ...) positions, indexed by
/// `A..=Z` — and equally by `0..=9`, since the official table gives each
/// digit the same value as the letter with the same index (0=A, 1=B, ...).
const ODD_VALUES: [u32; 26] = [
    1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23,
];

const FISCAL_CODE_LEN: usize = 16;
const VAT_NUMBER_LEN: usize = 11;

/// Codice fiscale of a natural person, validated and stored upper-case.
///
/// Only the 16-character form is accepted: the 11-digit form belongs to
/// companies (see [`VatNumber`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FiscalCode(String);

impl FiscalCode {
    /// Parses a codice fiscale, tolerating surrounding whitespace and lower case.
    ///
    /// Checks, in order: length, character class of every position
    /// (including omocodia letters), month letter, day range, check letter.
    ///
    /// # Errors
    ///
    /// Returns the first [`TaxCodeError`] found, in the order above.
    pub fn parse(input: &str) -> Result<Self, TaxCodeError> {
        let code = input.trim().to_ascii_uppercase();
        let chars: Vec<char> = code.chars().collect();
        if chars.is_empty() {
            return Err(TaxCodeError::Empty);
        }
        if chars.len() != FISCAL_CODE_LEN {
            return Err(TaxCodeError::WrongLength {
                expected: FISCAL_CODE_LEN,
                found: chars.len(),
            });
        }

        for (index, &c) in chars.iter().enumerate() {
            let allowed = if index == MONTH_SLOT {
                if !MONTH_LETTERS.iter().any(|&m| char::from(m) == c) {
                    return Err(TaxCodeError::InvalidMonth(c));
                }
                true
            } else if DIGIT_SLOTS.contains(&index) {
                c.is_ascii_digit() || OMOCODIA_LETTERS.iter().any(|&l| char::from(l) == c)
            } else {
                c.is_ascii_uppercase()
            };
            if !allowed {
                return Err(TaxCodeError::InvalidCharacter {
                    position: index + 1,
                    found: c,
                });
            }
        }

        // Every character is now ASCII, so byte indexing is safe.
        let bytes = code.as_bytes();
        let encoded_day = 10 * digit_value(bytes[9]) + digit_value(bytes[10]);
        // Women have 40 added to the day of birth.
        let day = if encoded_day > 40 {
            encoded_day - 40
        } else {
            encoded_day
        };
        if !(1..=31).contains(&day) {
            return Err(TaxCodeError::InvalidDay(encoded_day));
        }

        let expected = check_letter(&bytes[..FISCAL_CODE_LEN - 1]);
        let found = char::from(bytes[FISCAL_CODE_LEN - 1]);
        if expected != found {
            return Err(TaxCodeError::WrongCheckCharacter { expected, found });
        }

        Ok(Self(code))
    }

    /// The normalised (trimmed, upper-case) code.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FiscalCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for FiscalCode {
    type Err = TaxCodeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl AsRef<str> for FiscalCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Numeric value of a digit slot, undoing omocodia substitution.
/// Callers must have validated the byte already.
fn digit_value(b: u8) -> u8 {
    if b.is_ascii_digit() {
        b - b'0'
    } else {
        (0u8..)
            .zip(OMOCODIA_LETTERS)
            .find(|&(_, &letter)| letter == b)
            .map_or(0, |(value, _)| value)
    }
}

/// Official check letter: odd positions go through [`ODD_VALUES`], even
/// positions count as their plain index (0-9 / A-Z = 0-25); the sum mod 26
/// is the letter. The same rule gives an Italian IBAN's CIN over its ABI,
/// CAB and account number (`domain::contacts`). `chars` are ASCII digits and
/// upper-case letters.
pub(crate) fn check_letter(chars: &[u8]) -> char {
    let sum: u32 = chars
        .iter()
        .enumerate()
        .map(|(index, &b)| {
            let value = if b.is_ascii_digit() {
                b - b'0'
            } else {
                b - b'A'
            };
            // `index` is 0-based, so even indices are the 1-based odd positions.
            if index % 2 == 0 {
                ODD_VALUES[usize::from(value)]
            } else {
                u32::from(value)
            }
        })
        .sum();
    char::from(b'A' + (sum % 26) as u8)
}

/// Partita IVA: 11 digits, the last one a Luhn-style check digit.
/// Stored without the optional `IT` prefix.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VatNumber(String);

impl VatNumber {
    /// Parses a partita IVA, tolerating surrounding whitespace and an `IT`
    /// prefix (as printed on invoices and in VIES), in any case.
    ///
    /// # Errors
    ///
    /// [`TaxCodeError::Empty`], `WrongLength`, `InvalidCharacter`,
    /// `AllZeros` or `WrongCheckDigit`, checked in that order.
    pub fn parse(input: &str) -> Result<Self, TaxCodeError> {
        let trimmed = input.trim();
        let digits = match trimmed.get(..2) {
            Some(prefix) if prefix.eq_ignore_ascii_case("IT") => trimmed[2..].trim_start(),
            _ => trimmed,
        };
        if digits.is_empty() {
            return Err(TaxCodeError::Empty);
        }
        let found_len = digits.chars().count();
        if found_len != VAT_NUMBER_LEN {
            return Err(TaxCodeError::WrongLength {
                expected: VAT_NUMBER_LEN,
                found: found_len,
            });
        }
        if let Some((index, c)) = digits
            .chars()
            .enumerate()
            .find(|(_, c)| !c.is_ascii_digit())
        {
            return Err(TaxCodeError::InvalidCharacter {
                position: index + 1,
                found: c,
            });
        }
        if digits.bytes().all(|b| b == b'0') {
            return Err(TaxCodeError::AllZeros);
        }

        let bytes = digits.as_bytes();
        let expected = vat_check_digit(&bytes[..VAT_NUMBER_LEN - 1]);
        let found = char::from(bytes[VAT_NUMBER_LEN - 1]);
        if expected != found {
            return Err(TaxCodeError::WrongCheckDigit { expected, found });
        }

        Ok(Self(digits.to_owned()))
    }

    /// The 11 digits, without any `IT` prefix.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for VatNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for VatNumber {
    type Err = TaxCodeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl AsRef<str> for VatNumber {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Check digit of a partita IVA: digits at odd (1-based) positions are
/// summed as-is, digits at even positions are doubled (minus 9 if over 9);
/// the check is what brings the total to a multiple of 10.
fn vat_check_digit(first_ten: &[u8]) -> char {
    let sum: u32 = first_ten
        .iter()
        .enumerate()
        .map(|(index, &b)| {
            let digit = u32::from(b - b'0');
            if index % 2 == 0 {
                digit
            } else {
                let doubled = digit * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            }
        })
        .sum();
    char::from(b'0' + ((10 - sum % 10) % 10) as u8)
}

/// Who the tax code belongs to; decides which format is acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaxpayerKind {
    /// Natural person: 16-character codice fiscale.
    Person,
    /// Company or other entity: its codice fiscale is its 11-digit partita IVA.
    Company,
}

/// Validates `input` as the tax code for `kind` and returns it normalised
/// (upper-case codice fiscale, or the 11 bare digits of a partita IVA).
///
/// # Errors
///
/// Whatever [`FiscalCode::parse`] or [`VatNumber::parse`] reports.
pub fn parse_tax_code(kind: TaxpayerKind, input: &str) -> Result<String, TaxCodeError> {
    match kind {
        TaxpayerKind::Person => FiscalCode::parse(input).map(|code| code.0),
        TaxpayerKind::Company => VatNumber::parse(input).map(|vat| vat.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Every expected check character/digit below was computed with an
    // independent throwaway implementation of the official algorithms,
    // and cross-checked against the well-known examples
    // RSSMRA85T10A562S and MRTMTT91D08F205J.

    #[test]
    fn accepts_well_known_fiscal_codes() {
        for code in ["RSSMRA85T10A562S", "MRTMTT91D08F205J"] {
            let parsed = FiscalCode::parse(code).expect(code);
            assert_eq!(parsed.as_str(), code);
            assert_eq!(parsed.to_string(), code);
        }
    }

    #[test]
    fn normalises_case_and_whitespace() {
        let parsed = FiscalCode::parse("  rssmra85t10a562s\n").unwrap();
        assert_eq!(parsed.as_str(), "RSSMRA85T10A562S");
        let via_from_str: FiscalCode = "MrtMtt91d08F205j".parse().unwrap();
        assert_eq!(via_from_str.as_str(), "MRTMTT91D08F205J");
    }

    #[test]
    fn accepts_female_days() {
        // Day 50 -> 10, 41 -> 1, 71 -> 31.
        for code in ["RSSMRA85T50A562W", "RSSMRA85T41A562U", "RSSMRA85T71A562X"] {
            assert!(FiscalCode::parse(code).is_ok(), "{code}");
        }
        assert!(FiscalCode::parse("RSSMRA85T01A562Q").is_ok());
    }

    #[test]
    fn accepts_omocodia_variants() {
        // RSSMRA85T10A562S with digits replaced right to left.
        for code in [
            "RSSMRA85T10A56NH",
            "RSSMRA85T10A5SNT",
            "RSSMRA85T10ARSNO",
            "RSSMRAURTMLARSNL",
        ] {
            assert!(FiscalCode::parse(code).is_ok(), "{code}");
        }
    }

    #[test]
    fn rejects_wrong_check_character() {
        assert_eq!(
            FiscalCode::parse("RSSMRA85T10A562T"),
            Err(TaxCodeError::WrongCheckCharacter {
                expected: 'S',
                found: 'T'
            })
        );
        // An omocodia variant keeping the original check letter is wrong.
        assert_eq!(
            FiscalCode::parse("RSSMRA85T10A56NS"),
            Err(TaxCodeError::WrongCheckCharacter {
                expected: 'H',
                found: 'S'
            })
        );
    }

    #[test]
    fn rejects_wrong_length() {
        assert_eq!(
            FiscalCode::parse("RSSMRA85T10A562"),
            Err(TaxCodeError::WrongLength {
                expected: 16,
                found: 15
            })
        );
        assert_eq!(
            FiscalCode::parse("RSSMRA85T10A562SX"),
            Err(TaxCodeError::WrongLength {
                expected: 16,
                found: 17
            })
        );
        assert_eq!(FiscalCode::parse("   "), Err(TaxCodeError::Empty));
    }

    #[test]
    fn rejects_invalid_characters() {
        assert_eq!(
            FiscalCode::parse("RSS1RA85T10A562S"),
            Err(TaxCodeError::InvalidCharacter {
                position: 4,
                found: '1'
            })
        );
        // 'A' is not an omocodia letter.
        assert_eq!(
            FiscalCode::parse("RSSMRAA5T10A562S"),
            Err(TaxCodeError::InvalidCharacter {
                position: 7,
                found: 'A'
            })
        );
        assert_eq!(
            FiscalCode::parse("RSSMRA85T10A562-"),
            Err(TaxCodeError::InvalidCharacter {
                position: 16,
                found: '-'
            })
        );
        // Non-ASCII counts as one character, not as its UTF-8 bytes.
        assert_eq!(
            FiscalCode::parse("RSSMRÀ85T10A562S"),
            Err(TaxCodeError::InvalidCharacter {
                position: 6,
                found: 'À'
            })
        );
    }

    #[test]
    fn rejects_bad_month() {
        assert_eq!(
            FiscalCode::parse("RSSMRA85F10A562S"),
            Err(TaxCodeError::InvalidMonth('F'))
        );
        assert_eq!(
            FiscalCode::parse("RSSMRA85110A562S"),
            Err(TaxCodeError::InvalidMonth('1'))
        );
    }

    #[test]
    fn rejects_bad_day() {
        for (code, encoded) in [
            ("RSSMRA85T00A562S", 0),
            ("RSSMRA85T32A562S", 32),
            ("RSSMRA85T40A562S", 40),
            ("RSSMRA85T72A562S", 72),
            // Omocodia P=3, N=2 -> 32.
            ("RSSMRA85TPNA562S", 32),
        ] {
            assert_eq!(
                FiscalCode::parse(code),
                Err(TaxCodeError::InvalidDay(encoded)),
                "{code}"
            );
        }
    }

    #[test]
    fn accepts_real_vat_numbers() {
        for vat in ["00743110157", "07643520567", "01114601006"] {
            let parsed = VatNumber::parse(vat).expect(vat);
            assert_eq!(parsed.as_str(), vat);
            assert_eq!(parsed.to_string(), vat);
        }
    }

    #[test]
    fn strips_it_prefix_and_whitespace() {
        assert_eq!(
            VatNumber::parse("IT00743110157").unwrap().as_str(),
            "00743110157"
        );
        assert_eq!(
            VatNumber::parse("  it 07643520567 ").unwrap().as_str(),
            "07643520567"
        );
        assert_eq!(VatNumber::parse("IT"), Err(TaxCodeError::Empty));
    }

    #[test]
    fn rejects_bad_vat_numbers() {
        assert_eq!(
            VatNumber::parse("00743110158"),
            Err(TaxCodeError::WrongCheckDigit {
                expected: '7',
                found: '8'
            })
        );
        assert_eq!(
            VatNumber::parse("0074311015A"),
            Err(TaxCodeError::InvalidCharacter {
                position: 11,
                found: 'A'
            })
        );
        assert_eq!(
            VatNumber::parse("0074311015"),
            Err(TaxCodeError::WrongLength {
                expected: 11,
                found: 10
            })
        );
        assert_eq!(
            VatNumber::parse("007431101577"),
            Err(TaxCodeError::WrongLength {
                expected: 11,
                found: 12
            })
        );
        assert_eq!(VatNumber::parse("00000000000"), Err(TaxCodeError::AllZeros));
        assert_eq!(VatNumber::parse(""), Err(TaxCodeError::Empty));
    }

    #[test]
    fn parse_tax_code_dispatches_on_kind() {
        assert_eq!(
            parse_tax_code(TaxpayerKind::Person, " rssmra85t10a562s"),
            Ok("RSSMRA85T10A562S".to_owned())
        );
        assert_eq!(
            parse_tax_code(TaxpayerKind::Company, "IT01114601006"),
            Ok("01114601006".to_owned())
        );
        assert_eq!(
            parse_tax_code(TaxpayerKind::Person, "00743110157"),
            Err(TaxCodeError::WrongLength {
                expected: 16,
                found: 11
            })
        );
        assert_eq!(
            parse_tax_code(TaxpayerKind::Company, "RSSMRA85T10A562S"),
            Err(TaxCodeError::WrongLength {
                expected: 11,
                found: 16
            })
        );
    }

    #[test]
    fn error_messages_are_readable() {
        assert_eq!(
            TaxCodeError::WrongCheckCharacter {
                expected: 'S',
                found: 'T'
            }
            .to_string(),
            "wrong check character 'T' (expected 'S')"
        );
        assert_eq!(
            TaxCodeError::InvalidCharacter {
                position: 4,
                found: '1'
            }
            .to_string(),
            "invalid character '1' at position 4"
        );
        assert_eq!(
            TaxCodeError::InvalidDay(32).to_string(),
            "invalid day of birth 32"
        );
        let boxed: Box<dyn std::error::Error> = Box::new(TaxCodeError::AllZeros);
        assert_eq!(boxed.to_string(), "VAT number cannot be all zeros");
    }
}
