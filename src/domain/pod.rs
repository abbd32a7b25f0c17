//! The Italian POD (point of delivery) code that identifies a connection point.
use std::fmt;

/// `IT` + 3-digit distributor code + `E` + 8 digits + an optional check character: 14 or 15
/// characters, stored upper case. Distributors do not agree on the check character (digit or
/// letter), so it is accepted as either but not computed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Pod(String);

#[derive(Debug, PartialEq, Eq)]
pub struct InvalidPod;

impl fmt::Display for InvalidPod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "POD must be IT + 3-digit distributor code + E + 8 digits (+ optional check character)",
        )
    }
}

impl Pod {
    pub fn parse(input: &str) -> Result<Pod, InvalidPod> {
        let code: String = input
            .trim()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        let bytes = code.as_bytes();
        let well_formed = matches!(bytes.len(), 14 | 15)
            && bytes.starts_with(b"IT")
            && bytes[2..5].iter().all(u8::is_ascii_digit)
            && bytes[5] == b'E'
            && bytes[6..14].iter().all(u8::is_ascii_digit)
            && bytes.get(14).is_none_or(u8::is_ascii_alphanumeric);
        if well_formed {
            Ok(Pod(code))
        } else {
            Err(InvalidPod)
        }
    }

    /// A code read back from the database. Every write of a POD goes through [`Pod::parse`], so
    /// what is stored is already valid; a debug build checks it again.
    pub fn from_stored(code: &str) -> Pod {
        debug_assert!(
            Pod::parse(code).is_ok_and(|pod| pod.0 == code),
            "stored POD {code:?} is not a parsed code"
        );
        Pod(code.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Pod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_shapes_and_normalises_case_and_spaces() {
        assert_eq!(
            Pod::parse("IT001E12345678").unwrap().as_str(),
            "IT001E12345678"
        );
        assert_eq!(
            Pod::parse(" it001e12345678a ").unwrap().as_str(),
            "IT001E12345678A"
        );
        assert_eq!(
            Pod::parse("IT002E 0000 1234 5").unwrap().as_str(),
            "IT002E000012345"
        );
    }

    #[test]
    fn rejects_malformed_codes() {
        for code in [
            "",
            "IT001E1234567",
            "IT001E1234567890",
            "FR001E12345678",
            "IT01AE12345678",
            "IT001X12345678",
            "IT001E1234567-",
            "IT001E1234A678",
        ] {
            assert_eq!(Pod::parse(code), Err(InvalidPod), "{code}");
        }
    }
}
