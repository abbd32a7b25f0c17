//! condivisa: a backend for renewable energy communities.
pub mod api;
pub mod app;
pub mod bootstrap;
pub mod cli;
pub mod core;
pub mod crud;
pub mod db;
pub mod domain;
pub mod housekeeping;
pub mod imports;
pub mod mail;
pub mod models;
pub mod schemas;
pub mod service;
pub mod settlement;
pub mod telemetry;
pub mod web;
