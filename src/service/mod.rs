//! Use cases: one function per thing a person does, called alike by the HTTP API, the CLI and
//! the web console. A use case takes the [`Actor`] (who acts, checked against the permission
//! table), the database and its input, and owns its rules, locks and transaction; front ends
//! only parse, call and present. Errors are [`ServiceError`], in the domain's words; each front
//! end converts them once (`api::error` for HTTP).
use sea_orm::DbErr;

use crate::core::permissions::{Permission, has_permission};
use crate::models::enums::Role;

pub mod prices;

/// Who acts: built once per request (from the bearer token), per CLI run (`--by EMAIL` or the
/// first admin), per console session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Actor {
    pub user_id: i32,
    pub role: Role,
    pub organization_id: Option<i32>,
}

impl Actor {
    pub fn of(user: &crate::models::user::Model) -> Actor {
        Actor {
            user_id: user.id,
            role: user.role,
            organization_id: user.organization_id,
        }
    }

    pub fn require(&self, permission: Permission) -> Result<(), ServiceError> {
        if has_permission(self.role, permission) {
            Ok(())
        } else {
            Err(ServiceError::Forbidden)
        }
    }
}

/// Where a problem is: in the body (a field, or a line of an uploaded file) or the query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    Body,
    Query,
    Field(String),
    /// A line of an uploaded file, counted from 1 (the header).
    Line(u64),
}

/// One reason an input is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub place: Vec<Place>,
    pub message: String,
    pub kind: String,
}

impl Problem {
    pub fn at_line(line: u64, message: impl Into<String>, kind: &str) -> Problem {
        Problem {
            place: vec![Place::Body, Place::Line(line)],
            message: message.into(),
            kind: kind.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("the role may not do this")]
    Forbidden,
    #[error("{0}")]
    Conflict(String),
    /// The input breaks a rule: each problem says where and why.
    #[error("{}", .0.iter().map(|p| p.message.as_str()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<Problem>),
    /// The input could not be read at all (a broken upload).
    #[error("{0}")]
    Unreadable(String),
    #[error(transparent)]
    Database(#[from] DbErr),
}
