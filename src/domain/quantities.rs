//! Exact decimal quantities stored as integers of a fixed scale (cents, Wh, W, millionths).
//!
//! A value with more decimals than its scale is rejected, never rounded: an operator who types
//! 12.345 € means something we would otherwise silently change.
use rust_decimal::Decimal;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuantityError {
    TooPrecise { max_decimals: u32 },
    OutOfRange,
}

impl std::fmt::Display for QuantityError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QuantityError::TooPrecise { max_decimals } => {
                write!(f, "at most {max_decimals} decimal places are allowed")
            }
            QuantityError::OutOfRange => f.write_str("value out of range"),
        }
    }
}

/// `value × 10^scale` as an integer, if that is exact.
pub fn to_fixed(value: Decimal, scale: u32) -> Result<i64, QuantityError> {
    let normalized = value.normalize();
    if normalized.scale() > scale {
        return Err(QuantityError::TooPrecise {
            max_decimals: scale,
        });
    }
    let factor = Decimal::from(10_i64.pow(scale));
    let scaled = normalized
        .checked_mul(factor)
        .ok_or(QuantityError::OutOfRange)?;
    i64::try_from(scaled).map_err(|_| QuantityError::OutOfRange)
}

/// The decimal `units / 10^scale`, carrying exactly `scale` decimal places (so `12.50`, not `12.5`).
pub fn from_fixed(units: i64, scale: u32) -> Decimal {
    Decimal::new(units, scale)
}

pub const CENTS: u32 = 2;
/// kWh with 3 decimals = Wh.
pub const KWH_MILLI: u32 = 3;
/// kW with 3 decimals = W.
pub const KW_MILLI: u32 = 3;
/// Shares (0.40) with 6 decimals.
pub const SHARE_MICRO: u32 = 6;

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn round_trips_exactly() {
        assert_eq!(to_fixed(dec("12.50"), CENTS), Ok(1250));
        assert_eq!(to_fixed(dec("12.5000"), CENTS), Ok(1250));
        assert_eq!(to_fixed(dec("-0.01"), CENTS), Ok(-1));
        assert_eq!(from_fixed(1250, CENTS).to_string(), "12.50");
        assert_eq!(from_fixed(100, KWH_MILLI).to_string(), "0.100");
        assert_eq!(
            to_fixed(dec("0.1"), KWH_MILLI).unwrap() + to_fixed(dec("0.2"), KWH_MILLI).unwrap(),
            300
        );
    }

    #[test]
    fn rejects_extra_precision_and_overflow() {
        assert_eq!(
            to_fixed(dec("12.345"), CENTS),
            Err(QuantityError::TooPrecise { max_decimals: 2 })
        );
        assert_eq!(
            to_fixed(dec("99999999999999999999"), CENTS),
            Err(QuantityError::OutOfRange)
        );
    }
}
