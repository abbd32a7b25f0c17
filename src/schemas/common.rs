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
