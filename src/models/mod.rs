//! SeaORM entities: the tables, as the database sees them. Behaviour lives in `crud`.
pub mod community_user;
pub mod configuration;
pub mod enums;
pub mod idempotency_key;
pub mod member;
pub mod organization;
pub mod plant;
pub mod refresh_token;
pub mod transaction;
pub mod user;
