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

/// Responses carry money and energy as strings of a fixed scale, whatever the arithmetic
/// behind them produced (`162.289828`, never `162.28982771160840663507592818`): kWh and kW with
/// three decimals, amounts paid with two, and € amounts before rounding to cents (premiums,
/// excess) with six — exact to the micro-euro; the `…_cents` fields are what is paid.
pub mod fixed_scale {
    use rust_decimal::{Decimal, RoundingStrategy};
    use serde::Serializer;

    fn write<S: Serializer>(value: &Decimal, scale: u32, serializer: S) -> Result<S::Ok, S::Error> {
        let mut fixed = value.round_dp_with_strategy(scale, RoundingStrategy::MidpointAwayFromZero);
        fixed.rescale(scale);
        serializer.serialize_str(&fixed.to_string())
    }

    /// kWh (or kW) to the Wh (W).
    pub fn kwh<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
        write(value, 3, serializer)
    }

    /// € to the cent.
    pub fn cents<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
        write(value, 2, serializer)
    }

    /// € before rounding to cents, to the micro-euro.
    pub fn eur<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
        write(value, 6, serializer)
    }
}

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

    #[test]
    fn responses_have_a_fixed_scale() {
        #[derive(serde::Serialize)]
        struct Shown {
            #[serde(serialize_with = "fixed_scale::eur")]
            premium: Decimal,
            #[serde(serialize_with = "fixed_scale::kwh")]
            energy: Decimal,
            #[serde(serialize_with = "fixed_scale::cents")]
            fee: Decimal,
        }
        let shown = Shown {
            premium: dec("162.28982771160840663507592818"),
            energy: dec("50"),
            fee: dec("145.005"),
        };
        assert_eq!(
            serde_json::to_string(&shown).unwrap(),
            r#"{"premium":"162.289828","energy":"50.000","fee":"145.01"}"#
        );
    }
}
