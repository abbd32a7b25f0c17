//! One integration-test binary (fast to link), one module per area.
mod auth;
mod communities;
mod examples;
mod helpers;
mod holders;
mod ledger;
mod member_import;
mod meter_data;
mod migrations;
mod operations;
mod organizations;
mod permissions;
mod pool;
mod readme;
mod settlement;
mod startup;
mod users;
