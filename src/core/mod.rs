pub mod config;
pub mod permissions;
pub mod security;
