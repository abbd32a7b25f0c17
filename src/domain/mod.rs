//! Pure domain logic: no HTTP, no database. Unit-tested directly.
pub mod community_rules;
pub mod pod;
pub mod quantities;
pub mod tax_codes;
