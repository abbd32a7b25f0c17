//! One integration-test binary (fast to link), one module per area.
mod auth;
mod helpers;
mod operations;
mod organizations;
mod startup;
mod users;
