//! Use cases: one function per thing a person does, called alike by the HTTP API, the CLI and
//! the web console. A use case takes the [`Actor`] (who acts, checked against the permission
//! table), the database and its input, and owns its rules, locks and transaction; front ends
//! only parse, call and present. Errors are [`ServiceError`], in the domain's words; each front
//! end converts them once (`api::error` for HTTP).
use sea_orm::DbErr;

use crate::core::permissions::{Permission, has_permission};
use crate::crud::organizations::OrganizationScope;
use crate::crud::scope::CommunityScope;
use crate::crud::users::UserScope;
use crate::models::enums::Role;

pub mod accounts;
pub mod audit;
pub mod auth;
pub mod community_users;
pub mod configurations;
pub mod energy;
pub mod gse;
pub mod holders;
pub mod iban_changes;
pub mod join_requests;
mod links;
pub mod mail;
pub mod member_import;
pub mod members;
pub mod organizations;
pub mod parameters;
pub mod payouts;
pub mod plants;
pub mod prices;
pub mod readings;
pub mod sessions;
pub mod settlements;
pub mod statements;
pub mod transactions;
pub mod users;

/// Who acts: built once per request (from the bearer token), per CLI run (`--by EMAIL` or the
/// first admin), per console session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Actor {
    pub user_id: i32,
    pub role: Role,
    pub organization_id: Option<i32>,
    /// Where the request came from, for the audit trail (none from the CLI).
    pub address: Option<std::net::IpAddr>,
}

impl Actor {
    pub fn of(user: &crate::models::user::Model) -> Actor {
        Actor {
            user_id: user.id,
            role: user.role,
            organization_id: user.organization_id,
            address: None,
        }
    }

    /// The same actor, acting from `address`.
    pub fn from(self, address: Option<std::net::IpAddr>) -> Actor {
        Actor { address, ..self }
    }

    /// Appends `action` on an object to the audit trail, as this actor (`crud::audit`).
    pub async fn audit(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        action: &'static str,
        object: (&'static str, Option<i64>),
        configuration_id: Option<i32>,
        detail: serde_json::Value,
    ) -> Result<(), DbErr> {
        crate::crud::audit::record(
            db,
            crate::crud::audit::AuditEvent {
                actor_id: Some(self.user_id),
                address: self.address,
                action,
                object_type: object.0,
                object_id: object.1,
                configuration_id,
                detail,
            },
        )
        .await
    }

    /// Refused (`Forbidden`) unless the permission table grants the actor's role `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), ServiceError> {
        if self.may(permission) {
            Ok(())
        } else {
            Err(ServiceError::Forbidden)
        }
    }

    /// Whether the permission table grants the actor's role this permission.
    pub fn may(&self, permission: Permission) -> bool {
        has_permission(self.role, permission)
    }

    /// Whether the actor may hand out `role` (and manage accounts that have it).
    pub fn may_assign(&self, role: Role) -> bool {
        crate::core::permissions::may_assign(self.role, role)
    }

    /// Which user accounts the actor can see.
    pub fn user_scope(&self) -> UserScope {
        match (self.role, self.organization_id) {
            (Role::Admin, _) => UserScope::All,
            (Role::Vendor, Some(organization)) => UserScope::Organization(organization),
            _ => UserScope::Only(self.user_id),
        }
    }

    /// Which configurations — and so members, plants, transactions — the actor can see.
    pub fn community_scope(&self) -> CommunityScope {
        match (self.role, self.organization_id) {
            (Role::Admin, _) => CommunityScope::All,
            (Role::Vendor, Some(organization)) => CommunityScope::Organization(organization),
            (Role::Vendor, None) => CommunityScope::Nobody,
            (Role::Referent, _) => CommunityScope::Referent(self.user_id),
            (Role::User, _) => CommunityScope::MemberUser(self.user_id),
        }
    }

    pub fn organization_scope(&self) -> OrganizationScope {
        match (self.role, self.organization_id) {
            (Role::Admin, _) => OrganizationScope::All,
            (_, Some(organization)) => OrganizationScope::Only(organization),
            (_, None) => OrganizationScope::Nobody,
        }
    }
}

/// An actor as their access token claims them (`core::security::ActingAs`), the user not yet
/// loaded. Only a use case that checks the claim inside the statement that reads
/// ([`Claimed::still_acting`]) takes one — the hot pages, where the user's own round trip was a
/// fifth to a third of the database's work. Such a use case answers `None` whenever that
/// statement found nothing, and the front end then loads the user and calls the ordinary use
/// case: an answer given on a claim is the answer the ordinary path gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Claimed(Actor);

impl Claimed {
    pub fn new(actor: Actor) -> Claimed {
        Claimed(actor)
    }

    /// The claimed actor and the condition that the claim still holds (active, same role and
    /// organisation), when the claimed role has `permission`. `None` otherwise: the ordinary
    /// path then answers, a refusal included, from the user as loaded.
    fn permitted(&self, permission: Permission) -> Option<(&Actor, sea_orm::sea_query::Condition)> {
        let actor = &self.0;
        actor.may(permission).then(|| {
            let still_acting =
                crate::crud::scope::still_acting(actor.user_id, actor.role, actor.organization_id);
            (actor, still_acting)
        })
    }
}

/// Where a problem is: in the body (a field, or a line of an uploaded file) or the query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    Body,
    Query,
    Header,
    Field(String),
    /// A line of an uploaded file, counted from 1 (the header).
    Line(u64),
    /// An item of a list in the body, counted from 0.
    Index(usize),
}

/// One reason an input is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub place: Vec<Place>,
    pub message: String,
    pub kind: String,
}

impl Problem {
    /// A field of the body.
    pub fn at_field(field: &str, message: impl Into<String>, kind: &str) -> Problem {
        Problem {
            place: vec![Place::Body, Place::Field(field.into())],
            message: message.into(),
            kind: kind.into(),
        }
    }

    /// A field of an item of a list in the body (`points.2.pod`).
    pub fn at_item(
        list: &str,
        index: usize,
        field: &str,
        message: impl Into<String>,
        kind: &str,
    ) -> Problem {
        Problem {
            place: vec![
                Place::Body,
                Place::Field(list.into()),
                Place::Index(index),
                Place::Field(field.into()),
            ],
            message: message.into(),
            kind: kind.into(),
        }
    }

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
    /// The role may act, but not on this object: the reason says why.
    #[error("{0}")]
    ForbiddenBecause(String),
    #[error("{0}")]
    Conflict(String),
    /// The input breaks a rule: each problem says where and why.
    #[error("{}", .0.iter().map(|p| p.message.as_str()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<Problem>),
    /// No valid credentials (a bad, expired or spent token).
    #[error("Could not validate credentials")]
    Unauthenticated,
    #[error("Incorrect email or password")]
    BadCredentials,
    /// Too many failed logins for this account or from this address: wait `retry_after`
    /// seconds (the password is not even checked meanwhile).
    #[error("Too many failed logins: try again in {retry_after} seconds")]
    TooManyAttempts { retry_after: i64 },
    /// Past a limit on how often something may be done (the detail says which): wait
    /// `retry_after` seconds.
    #[error("{detail}")]
    RateLimited { detail: String, retry_after: i64 },
    #[error("Inactive user")]
    InactiveUser,
    /// A single-use link's token that is unknown, spent or expired.
    #[error("{0}")]
    InvalidToken(TokenProblem),
    /// A password given to confirm a change is not the account's.
    #[error("Incorrect password")]
    IncorrectPassword,
    /// The input could not be read at all (a broken upload).
    #[error("{0}")]
    Unreadable(String),
    /// An upload past the server's size or line limit (`UPLOAD_MAX_BYTES`, `UPLOAD_MAX_LINES`).
    #[error("{0}")]
    TooLarge(String),
    #[error(transparent)]
    Database(#[from] DbErr),
    /// A bug, not an input: answered as an internal error.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ServiceError {
    /// One field of the input breaks a rule.
    pub fn invalid(field: &str, message: impl Into<String>, kind: &str) -> ServiceError {
        ServiceError::Invalid(vec![Problem::at_field(field, message, kind)])
    }

    pub fn conflict(detail: impl Into<String>) -> ServiceError {
        ServiceError::Conflict(detail.into())
    }
}

/// A decimal from an input as an integer of `scale` decimals, or an invalid `field`.
pub fn fixed_point(field: &str, value: rust_decimal::Decimal, scale: u32) -> Outcome<i64> {
    crate::domain::quantities::to_fixed(value, scale)
        .map_err(|error| ServiceError::invalid(field, error.to_string(), "decimal"))
}

/// An amount the schema documents as ≥ 0 with at most 15 integer digits (a figure of GSE's, a
/// minimum), as an integer of `scale` decimals, or the problem with `field`.
pub fn nonnegative_fixed(
    field: &str,
    value: rust_decimal::Decimal,
    scale: u32,
) -> Result<i64, Problem> {
    let problem = |message: String, kind: &str| Problem::at_field(field, message, kind);
    if value.is_sign_negative() && !value.is_zero() {
        return Err(problem(
            format!("`{field}` is negative ({value}): it is an amount ≥ 0"),
            "range",
        ));
    }
    if value.trunc() >= rust_decimal::Decimal::from(1_000_000_000_000_000_i64) {
        return Err(problem(
            format!("`{field}` is too large ({value}): at most 15 digits before the decimal point"),
            "range",
        ));
    }
    crate::domain::quantities::to_fixed(value, scale)
        .map_err(|error| problem(error.to_string(), "decimal"))
}

/// Why a single-use link's token is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenProblem {
    #[error("Invalid token")]
    Unknown,
    #[error("This link was already used: ask for a new one")]
    Used,
    #[error("This link has expired: ask for a new one")]
    Expired,
}

/// Today in Italy: the day that dates of money and meter data are compared with.
pub fn italian_today() -> chrono::NaiveDate {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Rome)
        .date_naive()
}

/// What a use case returns.
pub type Outcome<T> = Result<T, ServiceError>;

/// A failure to read an upload: past the size limit (the HTTP layer reports it as
/// [`std::io::ErrorKind::FileTooLarge`]) it is [`ServiceError::TooLarge`], otherwise the upload
/// is unreadable.
pub fn upload_failed(error: std::io::Error) -> ServiceError {
    if error.kind() == std::io::ErrorKind::FileTooLarge {
        ServiceError::TooLarge(error.to_string())
    } else {
        ServiceError::Unreadable(format!("Could not read the upload: {error}"))
    }
}
