//! Request and response types: what travels over HTTP, with validation rules and OpenAPI schemas.
//! Request types reject unknown fields, so nothing can be mass-assigned.
pub mod audit;
pub mod auth;
pub mod common;
pub mod community_user;
pub mod configuration;
pub mod energy;
pub mod gse;
pub mod holder;
pub mod iban_change;
pub mod join_request;
pub mod mail;
pub mod market;
pub mod member;
pub mod member_import;
pub mod organization;
pub mod payout;
pub mod plant;
pub mod settlement;
pub mod transaction;
pub mod user;
pub mod wire;
