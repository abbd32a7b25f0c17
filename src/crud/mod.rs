//! Queries. Every list takes its scope as an argument and turns it into a `WHERE`, so counts and
//! pages never include rows the caller may not see.
pub mod organizations;
pub mod refresh_tokens;
pub mod users;

use sea_orm::sea_query::{Expr, ExprTrait, Func, IntoColumnRef, LikeExpr, SimpleExpr};

/// `lower(column) LIKE '%needle%'`, with the needle's own `%`, `_` and `\` escaped: a search for
/// `50%` finds "50%", not everything. Portable across SQLite and PostgreSQL.
pub fn contains_case_insensitive(column: impl IntoColumnRef, needle: &str) -> SimpleExpr {
    let escaped = needle
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    Expr::expr(Func::lower(Expr::col(column)))
        .like(LikeExpr::new(format!("%{escaped}%")).escape('\\'))
}
