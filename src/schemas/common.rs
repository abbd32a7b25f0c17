use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

/// One page of a collection, in the design's shape.
#[derive(Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub items: Vec<T>,
    pub total: u64,
    /// 1-based: `skip / limit + 1`.
    pub page: u64,
    /// The page size: the `limit` asked for.
    pub size: u64,
}

impl<T: ToSchema> Page<T> {
    pub fn new(items: Vec<T>, total: u64, skip: u64, limit: u64) -> Self {
        Page {
            items,
            total,
            page: skip / limit + 1,
            size: limit,
        }
    }
}

pub const DEFAULT_LIMIT: u64 = 100;
pub const MAX_LIMIT: u64 = 1000;
/// The largest `skip` (beyond what a database offset takes, and far beyond any real list).
pub const MAX_SKIP: u64 = 1_000_000_000_000;

pub fn default_limit() -> u64 {
    DEFAULT_LIMIT
}

/// For PATCH fields that may be cleared: absent → `None` (leave as is), `null` → `Some(None)`.
pub fn nullable<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Trims, and turns an all-blank string into "no value".
pub fn clean(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// Accepts `"  Name@Example.com "` as the user meant it: surrounding blanks are not part of a value.
pub fn trimmed<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    String::deserialize(deserializer).map(|value| value.trim().to_string())
}

pub fn trimmed_option<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(deserializer).map(|value| value.map(|v| v.trim().to_string()))
}

/// Deserialises an exact decimal from a JSON string (`"12.50"`) or number (`12.5`). Numbers
/// never pass through a float: serde_json's `arbitrary_precision` hands us their digits.
pub fn exact_decimal<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<rust_decimal::Decimal, D::Error> {
    deserializer.deserialize_any(DecimalVisitor)
}

pub fn exact_decimal_option<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<rust_decimal::Decimal>, D::Error> {
    struct OptionVisitor;
    impl<'de> serde::de::Visitor<'de> for OptionVisitor {
        type Value = Option<rust_decimal::Decimal>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a decimal number, as a string or a number, or null")
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(
            self,
            deserializer: D,
        ) -> Result<Self::Value, D::Error> {
            exact_decimal(deserializer).map(Some)
        }
    }
    deserializer.deserialize_option(OptionVisitor)
}

/// For PATCH: absent → `None`, `null` → `Some(None)`, a value → `Some(Some(v))`.
pub fn nullable_exact_decimal<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<rust_decimal::Decimal>>, D::Error> {
    exact_decimal_option(deserializer).map(Some)
}

struct DecimalVisitor;

impl<'de> serde::de::Visitor<'de> for DecimalVisitor {
    type Value = rust_decimal::Decimal;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a decimal number, as a string or a number")
    }

    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Self::Value, E> {
        parse_plain_decimal(value.trim())
            .ok_or_else(|| E::custom(format!("`{value}` is not a decimal number")))
    }

    fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<Self::Value, E> {
        Ok(value.into())
    }

    fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<Self::Value, E> {
        Ok(value.into())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        // serde_json's arbitrary-precision numbers arrive as a one-entry map of their digits.
        let digits = match map.next_entry::<String, String>()? {
            Some((_, digits)) => digits,
            None => return Err(serde::de::Error::custom("expected a decimal number")),
        };
        let parsed = if digits.contains(['e', 'E']) {
            // Exact for what people write (1e3, 2.5E-2); the plain form is the documented one.
            rust_decimal::Decimal::from_scientific(&digits).ok()
        } else {
            parse_plain_decimal(&digits)
        };
        parsed
            .ok_or_else(|| serde::de::Error::custom(format!("`{digits}` is not a decimal number")))
    }
}

/// `[-+]digits[.digits]`, parsed exactly: more precision than a decimal holds is an error, not a
/// rounding, and forms like `1_000` or `.5` are not accepted as money.
pub fn parse_plain_decimal(text: &str) -> Option<rust_decimal::Decimal> {
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, "0"));
    let well_formed = !whole.is_empty()
        && !fraction.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit());
    if !well_formed {
        return None;
    }
    rust_decimal::Decimal::from_str_exact(text.strip_prefix('+').unwrap_or(text)).ok()
}

/// A map of exact decimals keyed by id (`{"12": "0.5", "13": 0.25}`), absent → `None`.
pub fn exact_decimal_map<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<std::collections::BTreeMap<i32, rust_decimal::Decimal>>, D::Error> {
    #[derive(Deserialize)]
    struct Exact(#[serde(deserialize_with = "exact_decimal")] rust_decimal::Decimal);
    let map = Option::<std::collections::BTreeMap<i32, Exact>>::deserialize(deserializer)?;
    Ok(map.map(|m| m.into_iter().map(|(k, Exact(v))| (k, v)).collect()))
}

/// An interval's length in minutes: 15 or 60.
pub fn fifteen_or_sixty(minutes: u8) -> Result<(), validator::ValidationError> {
    if minutes == 15 || minutes == 60 {
        Ok(())
    } else {
        Err(validator::ValidationError::new("interval_minutes")
            .with_message("must be 15 or 60".into()))
    }
}

/// The schema of an interval's minutes: the integers 15 and 60.
pub fn interval_minutes_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::Integer)
        .enum_values(Some([15, 60]))
        .build()
}

/// The schema of an exact decimal in a request: a string of digits (the documented form, up to
/// the field's scale) or a JSON integer within the field's range. (JSON numbers with decimals
/// are read exactly too, but are not advertised: generated clients would send floats.)
fn decimal_schema(
    pattern: &str,
    integers: (i64, i64),
    nullable: bool,
    description: &str,
    example: &str,
) -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
    let mut one_of = OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(pattern))
                .examples([example]),
        )
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(integers.0))
                .maximum(Some(integers.1)),
        );
    if nullable {
        one_of = one_of.item(ObjectBuilder::new().schema_type(Type::Null));
    }
    one_of.description(Some(description)).into()
}

const POSITIVE_KW: &str = r"^\+?0*([1-9][0-9]{0,5}(\.[0-9]{1,3}0{0,9})?|0\.[0-9]{0,2}[1-9]0{0,9})$";
const GRANT_SHARE: &str = r"^\+?0+(\.(0{1,15}|[0-3][0-9]{0,5}0{0,9}|40{0,9}))?$";
const EUR: &str = r"^[-+]?[0-9]{1,15}(\.[0-9]{1,2}0{0,9})?$";
const EUR_NONNEGATIVE: &str = r"^\+?[0-9]{1,15}(\.[0-9]{1,2}0{0,9})?$";
const KWH_NONNEGATIVE: &str = r"^\+?[0-9]{1,15}(\.[0-9]{1,3}0{0,9})?$";
const KWH: &str = r"^[-+]?[0-9]{1,15}(\.[0-9]{1,3}0{0,9})?$";
const PARAMETER: &str = r"^[-+]?[0-9]{1,12}(\.[0-9]{1,6}0{0,9})?$";
const KW_TEXT: &str = "kW, greater than 0 and less than 1,000,000, up to 3 decimals";
const SHARE_TEXT: &str = "share of the eligible cost, 0 to 0.40, up to 6 decimals";

pub fn kw_schema() -> utoipa::openapi::schema::Schema {
    decimal_schema(POSITIVE_KW, (1, 999_999), false, KW_TEXT, "150.000")
}
pub fn kw_nullable_schema() -> utoipa::openapi::schema::Schema {
    decimal_schema(POSITIVE_KW, (1, 999_999), true, KW_TEXT, "4.500")
}
pub fn grant_share_nullable_schema() -> utoipa::openapi::schema::Schema {
    decimal_schema(GRANT_SHARE, (0, 0), true, SHARE_TEXT, "0.20")
}
pub fn eur_schema() -> utoipa::openapi::schema::Schema {
    let range = (-999_999_999_999_999, 999_999_999_999_999);
    decimal_schema(EUR, range, false, "€, up to 2 decimals", "12.50")
}
/// € ≥ 0 (GSE's figures, a payout minimum), or null.
pub fn eur_nonnegative_nullable_schema() -> utoipa::openapi::schema::Schema {
    let range = (0, 999_999_999_999_999);
    decimal_schema(
        EUR_NONNEGATIVE,
        range,
        true,
        "€ ≥ 0, up to 2 decimals",
        "148.15",
    )
}
/// kWh ≥ 0, or null.
pub fn kwh_nonnegative_nullable_schema() -> utoipa::openapi::schema::Schema {
    let range = (0, 999_999_999_999_999);
    decimal_schema(
        KWH_NONNEGATIVE,
        range,
        true,
        "kWh ≥ 0, up to 3 decimals",
        "1234.567",
    )
}
pub fn kwh_nullable_schema() -> utoipa::openapi::schema::Schema {
    let range = (-999_999_999_999_999, 999_999_999_999_999);
    decimal_schema(KWH, range, true, "kWh, up to 3 decimals", "123.456")
}
pub fn parameter_value_schema() -> utoipa::openapi::schema::Schema {
    let range = (-999_999_999_999, 999_999_999_999);
    decimal_schema(
        PARAMETER,
        range,
        false,
        "up to 6 decimals, in the code's unit",
        "10.57",
    )
}
pub fn parameter_value_nullable_schema() -> utoipa::openapi::schema::Schema {
    let range = (-999_999_999_999, 999_999_999_999);
    decimal_schema(
        PARAMETER,
        range,
        true,
        "up to 6 decimals, in the code's unit",
        "10.57",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_decimals_parse_exactly_or_not_at_all() {
        assert_eq!(parse_plain_decimal("12.50").unwrap().to_string(), "12.50");
        assert_eq!(parse_plain_decimal("-0.1").unwrap().to_string(), "-0.1");
        assert_eq!(parse_plain_decimal("+7").unwrap().to_string(), "7");
        for bad in [
            "",
            ".5",
            "5.",
            "1_000",
            "1e2",
            "abc",
            "1.00000000000000000000000000001",
            "--1",
        ] {
            assert!(parse_plain_decimal(bad).is_none(), "{bad}");
        }
    }
}
