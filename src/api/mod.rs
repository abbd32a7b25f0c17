pub mod deps;
pub mod docs;
pub mod error;
pub mod extract;
pub mod middleware;
pub mod ops;
pub mod state;
pub mod v1;
