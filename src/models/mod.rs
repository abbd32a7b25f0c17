//! SeaORM entities: the tables, as the database sees them. Behaviour lives in `crud`.
pub mod enums;
pub mod organization;
pub mod refresh_token;
pub mod user;
