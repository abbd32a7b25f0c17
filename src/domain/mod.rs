//! Pure domain logic: no HTTP, no database. Unit-tested directly.
pub mod charts;
pub mod community_rules;
pub mod contacts;
pub mod coverage;
pub mod curves;
pub mod energy_series;
pub mod login_throttle;
pub mod market;
pub mod meter_files;
pub mod month;
pub mod plausibility;
pub mod pod;
pub mod quantities;
pub mod settlement;
pub mod settlement_run;
pub mod sharing;
pub mod tax_codes;
