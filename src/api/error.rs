//! The one place where errors become HTTP responses, in FastAPI's `{"detail": …}` shapes.
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sea_orm::{DbErr, SqlErr, TransactionError};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

pub const CREDENTIALS_DETAIL: &str = "Could not validate credentials";
pub const FORBIDDEN_DETAIL: &str = "The user doesn't have enough privileges";
pub const INTERNAL_DETAIL: &str = "Internal server error";
pub const UNAVAILABLE_DETAIL: &str = "Service unavailable";

/// One entry of a 422 response, as FastAPI/pydantic write it.
#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct FieldError {
    /// Where the bad value is: `["body", "email"]`, `["query", "limit"]`, `["path", "id"]`;
    /// list positions are integers (`["body", "rows", 3, "pod"]`).
    #[schema(schema_with = location_schema)]
    pub loc: Vec<Value>,
    pub msg: String,
    #[serde(rename = "type")]
    pub kind: String,
}

/// `loc` items are strings (names) or integers (list positions), as in FastAPI.
fn location_schema() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Type};
    ArrayBuilder::new()
        .items(
            OneOfBuilder::new()
                .item(ObjectBuilder::new().schema_type(Type::String))
                .item(ObjectBuilder::new().schema_type(Type::Integer)),
        )
        .build()
}

impl FieldError {
    pub fn new(loc: &[&str], msg: impl Into<String>, kind: impl Into<String>) -> Self {
        FieldError {
            loc: loc.iter().map(|part| Value::from(*part)).collect(),
            msg: msg.into(),
            kind: kind.into(),
        }
    }

    pub fn body(field: &str, msg: impl Into<String>, kind: impl Into<String>) -> Self {
        FieldError::new(&["body", field], msg, kind)
    }
}

/// The body of every error response except 422.
#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    pub detail: String,
}

/// The body of a 422 response.
#[derive(Serialize, ToSchema)]
pub struct ValidationErrorBody {
    pub detail: Vec<FieldError>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("{0}")]
    BadRequest(String),
    #[error("unauthorized")]
    Unauthorized,
    #[error("forbidden")]
    Forbidden,
    /// A 403 that says why (the role may act, but not on this object).
    #[error("{0}")]
    ForbiddenBecause(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("request body too large")]
    PayloadTooLarge,
    /// An upload past a limit the detail names.
    #[error("{0}")]
    UploadTooLarge(String),
    #[error("service unavailable")]
    Unavailable,
    /// 429 with `Retry-After` (seconds).
    #[error("{detail}")]
    TooManyRequests { detail: String, retry_after: i64 },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn not_found(what: &str) -> Self {
        ApiError::NotFound(format!("{what} not found"))
    }

    pub fn invalid(error: FieldError) -> Self {
        ApiError::Validation(vec![error])
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden | ApiError::ForbiddenBecause(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge | ApiError::UploadTooLarge(_) => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let detail = match self {
            ApiError::Validation(errors) => {
                return (status, axum::Json(json!({ "detail": errors }))).into_response();
            }
            ApiError::Internal(error) => {
                // The cause goes to the log only: database texts can reveal schema and data.
                tracing::error!(error = format!("{error:#}"), "internal error");
                // `middleware::complete_internal_errors` adds the request id.
                return (status, axum::Json(json!({ "detail": INTERNAL_DETAIL }))).into_response();
            }
            ApiError::Unauthorized => {
                let mut response =
                    (status, axum::Json(json!({ "detail": CREDENTIALS_DETAIL }))).into_response();
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                return response;
            }
            ApiError::TooManyRequests {
                detail,
                retry_after,
            } => {
                let mut response =
                    (status, axum::Json(json!({ "detail": detail }))).into_response();
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
                return response;
            }
            ApiError::Forbidden => FORBIDDEN_DETAIL.to_string(),
            ApiError::PayloadTooLarge => "Request body too large".to_string(),
            ApiError::Unavailable => UNAVAILABLE_DETAIL.to_string(),
            ApiError::BadRequest(detail)
            | ApiError::ForbiddenBecause(detail)
            | ApiError::NotFound(detail)
            | ApiError::UploadTooLarge(detail)
            | ApiError::Conflict(detail) => detail,
        };
        (status, axum::Json(json!({ "detail": detail }))).into_response()
    }
}

impl From<DbErr> for ApiError {
    fn from(error: DbErr) -> Self {
        if is_connection_error(&error) {
            tracing::warn!(error = %error, "database unavailable");
            return ApiError::Unavailable;
        }
        match error.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(message)) => match violated_column(&message) {
                Some((table, column)) => ApiError::Conflict(format!(
                    "A {} with this {} already exists",
                    singular(&table),
                    column.replace('_', " ")
                )),
                None => ApiError::Conflict("A record with these values already exists".into()),
            },
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => {
                ApiError::Conflict("The operation conflicts with related records".into())
            }
            _ => ApiError::Internal(error.into()),
        }
    }
}

impl From<TransactionError<ApiError>> for ApiError {
    fn from(error: TransactionError<ApiError>) -> Self {
        match error {
            TransactionError::Connection(error) => error.into(),
            TransactionError::Transaction(error) => error,
        }
    }
}

/// The database is away or busy, not the request wrong: the connection could not be had or
/// was cut (also while a query ran: PostgreSQL's `08…` connection exceptions, `57P01`–`57P03`
/// for a server shutting down or starting, `53300` too many connections), or SQLite stayed
/// locked past its busy timeout. Answered 503, so that a client retries.
fn is_connection_error(error: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    use sea_orm::sqlx::Error as SqlxError;
    match error {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(inner)) | DbErr::Query(RuntimeErr::SqlxError(inner)) => {
            match inner.as_ref() {
                SqlxError::Io(_)
                | SqlxError::PoolTimedOut
                | SqlxError::PoolClosed
                | SqlxError::Tls(_)
                | SqlxError::Protocol(_)
                | SqlxError::WorkerCrashed => true,
                SqlxError::Database(database) => database.code().is_some_and(|code| {
                    code.starts_with("08")
                        || matches!(
                            code.as_ref(),
                            "57P01" | "57P02" | "57P03" | "53300"
                                // SQLITE_BUSY, _LOCKED and their extended codes.
                                | "5" | "6" | "261" | "262" | "517" | "773"
                        )
                }),
                _ => false,
            }
        }
        _ => false,
    }
}

/// `(table, column)` of a unique violation, from PostgreSQL's index name (`ux_users__email`)
/// or SQLite's `UNIQUE constraint failed: users.email`.
fn violated_column(message: &str) -> Option<(String, String)> {
    if let Some(rest) = message.split("ux_").nth(1) {
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let (table, column) = name.split_once("__")?;
        return Some((table.to_string(), column.to_string()));
    }
    // A composite index lists the scoping columns first and the user-facing one last.
    let columns = message.split("failed: ").nth(1)?;
    let last = columns.split(',').next_back()?.trim();
    let (table, column) = last.split_once('.')?;
    Some((table.to_string(), column.to_string()))
}

fn singular(table: &str) -> String {
    table.strip_suffix('s').unwrap_or(table).replace('_', " ")
}

impl From<crate::settlement::SettleError> for ApiError {
    fn from(error: crate::settlement::SettleError) -> Self {
        use crate::settlement::SettleError;
        match error {
            SettleError::Database(error) => error.into(),
            other => ApiError::Conflict(other.to_string()),
        }
    }
}

/// The one place where the use cases' errors become HTTP answers.
impl From<crate::service::ServiceError> for ApiError {
    fn from(error: crate::service::ServiceError) -> Self {
        use crate::service::{Place, ServiceError};
        match error {
            ServiceError::NotFound(what) => ApiError::not_found(what),
            ServiceError::Forbidden => ApiError::Forbidden,
            ServiceError::ForbiddenBecause(reason) => ApiError::ForbiddenBecause(reason),
            ServiceError::Conflict(detail) => ApiError::Conflict(detail),
            ServiceError::Unreadable(detail) => ApiError::BadRequest(detail),
            ServiceError::TooLarge(detail) => ApiError::UploadTooLarge(detail),
            ServiceError::InvalidToken(problem) => ApiError::BadRequest(problem.to_string()),
            ServiceError::Unauthenticated => ApiError::Unauthorized,
            ServiceError::TooManyAttempts { retry_after } => ApiError::TooManyRequests {
                detail: error.to_string(),
                retry_after,
            },
            ServiceError::RateLimited {
                detail,
                retry_after,
            } => ApiError::TooManyRequests {
                detail,
                retry_after,
            },
            ServiceError::IncorrectPassword
            | ServiceError::BadCredentials
            | ServiceError::InactiveUser => ApiError::BadRequest(error.to_string()),
            ServiceError::Database(error) => error.into(),
            ServiceError::Internal(error) => ApiError::Internal(error),
            ServiceError::Invalid(problems) => ApiError::Validation(
                problems
                    .into_iter()
                    .map(|problem| FieldError {
                        loc: problem
                            .place
                            .into_iter()
                            .map(|place| match place {
                                Place::Body => Value::from("body"),
                                Place::Query => Value::from("query"),
                                Place::Header => Value::from("header"),
                                Place::Field(name) => Value::from(name),
                                Place::Line(line) => Value::from(line),
                                Place::Index(index) => Value::from(index),
                            })
                            .collect(),
                        msg: problem.message,
                        kind: problem.kind,
                    })
                    .collect(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_pool_timeout_in_the_readings_store_is_a_503() {
        let error = crate::crud::readings::db_err(sea_orm::sqlx::Error::PoolTimedOut);
        assert_eq!(
            ApiError::from(error).status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }

    use super::*;

    #[test]
    fn unique_violations_name_their_column_on_both_databases() {
        assert_eq!(
            violated_column(
                "duplicate key value violates unique constraint \"ux_users__fiscal_code\""
            ),
            Some(("users".into(), "fiscal_code".into()))
        );
        assert_eq!(
            violated_column("UNIQUE constraint failed: users.email"),
            Some(("users".into(), "email".into()))
        );
        assert_eq!(
            violated_column(
                "UNIQUE constraint failed: community_users.organization_id, community_users.email"
            ),
            Some(("community_users".into(), "email".into()))
        );
        assert_eq!(violated_column("something else"), None);
    }
}
