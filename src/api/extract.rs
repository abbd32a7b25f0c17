//! Extractors that validate and answer every rejection in FastAPI's 422 shape, instead of axum's
//! plain-text rejections. Handlers receive only values that passed serde *and* `validator`.
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{StatusCode, header, request::Parts};
use serde::de::DeserializeOwned;
use serde::de::IgnoredAny;
use serde_json::Value;
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use super::error::{ApiError, FieldError};

/// A JSON body, deserialised strictly and validated.
pub struct ValidJson<T>(pub T);

/// An `application/x-www-form-urlencoded` body (the OAuth2 password flow), validated.
pub struct ValidForm<T>(pub T);

/// Query parameters, validated.
pub struct ValidQuery<T>(pub T);

/// Path parameters; a non-numeric id answers 422 naming the parameter.
pub struct ValidPath<T>(pub T);

fn content_type_is(req: &Request, expected: &str) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == expected || (expected == "application/json" && mime.ends_with("+json"))
        })
        .unwrap_or(false)
}

/// The whole body, within the body limit (413 beyond it).
pub async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state)
        .await
        .map_err(|rejection: BytesRejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::BadRequest("Could not read the request body".into())
            }
        })
}

impl<T, S> FromRequest<S> for ValidJson<T>
where
    T: DeserializeOwned + Validate,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !content_type_is(&req, "application/json") {
            return Err(not_json());
        }
        let bytes = read_body(req, state).await?;
        Ok(ValidJson(parse_json(&bytes)?))
    }
}

fn not_json() -> ApiError {
    ApiError::invalid(FieldError::new(
        &["body"],
        "Expected a request with `Content-Type: application/json`",
        "content_type",
    ))
}

fn parse_json<T: DeserializeOwned + Validate>(bytes: &[u8]) -> Result<T, ApiError> {
    // Every body is an object. serde would also fill a struct from an array of its fields in
    // order (`[null, null]` was a valid update): pydantic refuses that, and so do we.
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|&b| b != b'{') && serde_json::from_slice::<IgnoredAny>(bytes).is_ok() {
        return Err(ApiError::invalid(FieldError::new(
            &["body"],
            "Input should be a valid dictionary or object to extract fields from",
            "model_attributes_type",
        )));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|error| ApiError::invalid(json_error(error)))?;
    deserializer.end().map_err(|_| {
        ApiError::invalid(FieldError::new(
            &["body"],
            "JSON decode error",
            "json_invalid",
        ))
    })?;
    validate(&value, "body")?;
    Ok(value)
}

/// A JSON body that may be left out: an empty body (or `null`) is `None`; anything else is
/// read and validated as `ValidJson` would.
pub struct OptionalJson<T>(pub Option<T>);

impl<T, S> FromRequest<S> for OptionalJson<T>
where
    T: DeserializeOwned + Validate,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = content_type_is(&req, "application/json");
        let bytes = read_body(req, state).await?;
        // No body, or JSON `null` (what the document allows for an optional body).
        if bytes.is_empty() || (json && bytes.trim_ascii() == b"null") {
            return Ok(OptionalJson(None));
        }
        if !json {
            return Err(not_json());
        }
        Ok(OptionalJson(Some(parse_json(&bytes)?)))
    }
}

impl<T, S> FromRequest<S> for ValidForm<T>
where
    T: DeserializeOwned + Validate,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !content_type_is(&req, "application/x-www-form-urlencoded") {
            return Err(ApiError::invalid(FieldError::new(
                &["body"],
                "Expected a request with `Content-Type: application/x-www-form-urlencoded`",
                "content_type",
            )));
        }
        let bytes = read_body(req, state).await?;
        let value = urlencoded(&bytes, "body")?;
        Ok(ValidForm(value))
    }
}

impl<T, S> FromRequestParts<S> for ValidQuery<T>
where
    T: DeserializeOwned + Validate,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        Ok(ValidQuery(urlencoded(query.as_bytes(), "query")?))
    }
}

impl<T, S> FromRequestParts<S> for ValidPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::path::ErrorKind;
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(ValidPath(value)),
            Err(PathRejection::FailedToDeserializePathParams(error)) => {
                // A lone parameter (`Path<i32>`) reports no key: name it from the route.
                let first_name = axum::extract::RawPathParams::from_request_parts(parts, state)
                    .await
                    .ok()
                    .and_then(|params| params.iter().next().map(|(name, _)| name.to_string()))
                    .unwrap_or_default();
                let (key, message) = match error.into_kind() {
                    ErrorKind::ParseErrorAtKey {
                        key, expected_type, ..
                    } => (
                        key,
                        format!("Input should be a valid {}", friendly_type(expected_type)),
                    ),
                    ErrorKind::ParseErrorAtIndex {
                        index,
                        expected_type,
                        ..
                    } => (
                        index.to_string(),
                        format!("Input should be a valid {}", friendly_type(expected_type)),
                    ),
                    ErrorKind::ParseError { expected_type, .. } => (
                        first_name,
                        format!("Input should be a valid {}", friendly_type(expected_type)),
                    ),
                    other => (first_name, other.to_string()),
                };
                Err(ApiError::invalid(FieldError::new(
                    &["path", &key],
                    message,
                    "int_parsing",
                )))
            }
            Err(other) => Err(ApiError::Internal(anyhow::anyhow!(
                "path extraction: {other}"
            ))),
        }
    }
}

fn friendly_type(rust_type: &str) -> &str {
    if rust_type.starts_with('i') || rust_type.starts_with('u') {
        "integer"
    } else {
        rust_type
    }
}

fn urlencoded<T: DeserializeOwned + Validate>(bytes: &[u8], location: &str) -> Result<T, ApiError> {
    let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(bytes));
    let value: T = serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let message = error.inner().to_string();
        ApiError::invalid(describe_serde_error(location, &path, &message))
    })?;
    validate(&value, location)?;
    Ok(value)
}

fn json_error(error: serde_path_to_error::Error<serde_json::Error>) -> FieldError {
    use serde_json::error::Category;
    let path = error.path().to_string();
    let inner = error.into_inner();
    match inner.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            FieldError::new(&["body"], "JSON decode error", "json_invalid")
        }
        Category::Data => {
            // serde_json appends " at line L column C": not useful next to a `loc`.
            let message = inner.to_string();
            let message = message
                .split(" at line ")
                .next()
                .unwrap_or(&message)
                .to_string();
            describe_serde_error("body", &path, &message)
        }
    }
}

/// What `str::parse` says of a bad integer.
const INTEGER_ERRORS: &[&str] = &[
    "invalid digit found in string",
    "cannot parse integer from empty string",
    "number too large to fit in target type",
    "number too small to fit in target type",
];

/// What chrono says of a bad date (`NaiveDate` fields).
const DATE_ERRORS: &[&str] = &[
    "input contains invalid characters",
    "premature end of input",
    "trailing input",
    "input is out of range",
    "input is not enough for unique date and time",
    "no possible date and time matching input",
];

/// Turns a serde message into pydantic's vocabulary: missing field → `missing`, unknown field →
/// `extra_forbidden`, anything else → the serde message under the field's `loc`.
fn describe_serde_error(location: &str, path: &str, message: &str) -> FieldError {
    let mut loc: Vec<Value> = vec![Value::from(location)];
    for segment in path.split('.').filter(|s| !s.is_empty() && *s != "?") {
        match segment
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<u64>()
        {
            Ok(index) if segment.starts_with('[') => loc.push(Value::from(index)),
            _ => loc.push(Value::from(segment)),
        }
    }
    let backticked = || message.split('`').nth(1).map(str::to_string);
    let (msg, kind) = if message.starts_with("missing field") {
        if let Some(field) = backticked() {
            loc.push(Value::from(field));
        }
        ("Field required".to_string(), "missing")
    } else if message.starts_with("unknown field") {
        // serde_path_to_error already ends the path with the unknown key.
        if let Some(field) =
            backticked().filter(|field| loc.last() != Some(&Value::from(field.as_str())))
        {
            loc.push(Value::from(field));
        }
        (
            "Extra inputs are not permitted".to_string(),
            "extra_forbidden",
        )
    } else if message.starts_with("unknown variant") {
        (
            message.replace(
                "unknown variant",
                "Input should be one of the allowed values, got",
            ),
            "enum",
        )
    } else if message.starts_with("invalid type") {
        (message.to_string(), "type_error")
    } else if INTEGER_ERRORS.contains(&message) {
        // `str::parse` speaks of digits; say what the field takes.
        let field = loc.last().and_then(Value::as_str).unwrap_or_default();
        let msg = match field {
            "skip" => "must be a whole number ≥ 0 (at most 10^12)".to_string(),
            "limit" => "must be a whole number from 1 to 1000".to_string(),
            _ => "Input should be a valid integer".to_string(),
        };
        (msg, "int_parsing")
    } else if DATE_ERRORS.contains(&message) {
        ("expected a date YYYY-MM-DD".to_string(), "date_parsing")
    } else {
        (message.to_string(), "value_error")
    };
    FieldError {
        loc,
        msg,
        kind: kind.to_string(),
    }
}

/// Runs `validator` rules and reports each failure under its field.
pub fn validate<T: Validate>(value: &T, location: &str) -> Result<(), ApiError> {
    match value.validate() {
        Ok(()) => Ok(()),
        Err(errors) => {
            let mut out = Vec::new();
            collect(&errors, &[Value::from(location)], &mut out);
            Err(ApiError::Validation(out))
        }
    }
}

fn collect(errors: &ValidationErrors, prefix: &[Value], out: &mut Vec<FieldError>) {
    let mut fields: Vec<_> = errors.errors().iter().collect();
    fields.sort_by(|a, b| a.0.cmp(b.0));
    for (field, kind) in fields {
        let mut loc = prefix.to_vec();
        if field != "__all__" {
            loc.push(Value::from(field.as_ref()));
        }
        match kind {
            ValidationErrorsKind::Field(items) => {
                for item in items {
                    out.push(FieldError {
                        loc: loc.clone(),
                        msg: describe_rule(item),
                        kind: item.code.to_string(),
                    });
                }
            }
            ValidationErrorsKind::Struct(inner) => collect(inner, &loc, out),
            ValidationErrorsKind::List(items) => {
                for (index, inner) in items {
                    let mut item_loc = loc.clone();
                    item_loc.push(Value::from(*index as u64));
                    collect(inner, &item_loc, out);
                }
            }
        }
    }
}

fn describe_rule(error: &validator::ValidationError) -> String {
    if let Some(message) = &error.message {
        return message.to_string();
    }
    let param = |name: &str| error.params.get(name).map(|v| v.to_string());
    match error.code.as_ref() {
        "length" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => format!("Length must be between {min} and {max} characters"),
            (Some(min), None) => format!("Length must be at least {min} characters"),
            (None, Some(max)) => format!("Length must be at most {max} characters"),
            _ => "Invalid length".to_string(),
        },
        "range" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => format!("Value must be between {min} and {max}"),
            (Some(min), None) => format!("Value must be at least {min}"),
            (None, Some(max)) => format!("Value must be at most {max}"),
            _ => "Value out of range".to_string(),
        },
        "email" => "Value is not a valid email address".to_string(),
        other => format!("Invalid value ({other})"),
    }
}

/// Whether a request carries a `multipart/form-data` body.
pub fn is_multipart(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"))
}

/// The bytes of a form's first part (for small files; large ones are streamed by their
/// handler): a form without parts is a 422 on `body`.
pub async fn first_file<S: Send + Sync>(request: Request, state: &S) -> Result<Vec<u8>, ApiError> {
    let mut multipart = axum::extract::Multipart::from_request(request, state)
        .await
        .map_err(multipart_error)?;
    let field = multipart
        .next_field()
        .await
        .map_err(multipart_error)?
        .ok_or_else(no_file)?;
    let bytes = field.bytes().await.map_err(multipart_error)?;
    Ok(bytes.to_vec())
}

/// A form that cannot be read: a 422 on `body` with the reason.
pub fn multipart_error(error: impl MultipartRejection) -> ApiError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::PayloadTooLarge;
    }
    ApiError::invalid(FieldError::new(&["body"], error.text(), "multipart"))
}

/// A form without any part.
pub fn no_file() -> ApiError {
    ApiError::invalid(FieldError::new(
        &["body"],
        "The form has no file",
        "missing",
    ))
}

/// The two errors a form can fail with, by their text.
pub trait MultipartRejection {
    fn text(&self) -> String;
    fn status(&self) -> StatusCode;
}

impl MultipartRejection for axum::extract::multipart::MultipartRejection {
    fn text(&self) -> String {
        self.body_text()
    }
    fn status(&self) -> StatusCode {
        axum::extract::multipart::MultipartRejection::status(self)
    }
}

impl MultipartRejection for axum::extract::multipart::MultipartError {
    fn text(&self) -> String {
        self.body_text()
    }
    fn status(&self) -> StatusCode {
        axum::extract::multipart::MultipartError::status(self)
    }
}

/// The client's address, for throttling: the connection's peer, or — with
/// `TRUST_FORWARDED_FOR` behind a proxy that sets it — the last `X-Forwarded-For` entry (the one
/// the proxy added; earlier ones are the client's own claim). `None` when neither is known.
pub struct ClientAddress(pub Option<std::net::IpAddr>);

impl FromRequestParts<crate::api::state::AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &crate::api::state::AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0.ip());
        if !state.settings.trust_forwarded_for {
            return Ok(ClientAddress(peer));
        }
        // Only the last entry: one that does not parse is not replaced by an earlier (the
        // client's own) one.
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .next_back()
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.rsplit(',').next())
            .and_then(|entry| entry.trim().parse().ok());
        Ok(ClientAddress(forwarded.or(peer)))
    }
}

/// Whether a body's error is its length limit's (`UPLOAD_MAX_BYTES` on the upload routes).
fn past_limit(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if error.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        current = error.source();
    }
    false
}

/// A streamed body's read error as the use cases read it: past the upload limit it is
/// [`std::io::ErrorKind::FileTooLarge`] with the words a person is told (413).
pub fn body_read_error(limit: u64) -> impl Fn(axum::Error) -> std::io::Error + Clone {
    move |error| {
        let inner = error.into_inner();
        if past_limit(inner.as_ref()) {
            std::io::Error::new(
                std::io::ErrorKind::FileTooLarge,
                crate::api::middleware::upload_too_large(limit),
            )
        } else {
            std::io::Error::other(inner)
        }
    }
}

/// The same for a form's file part.
pub fn field_read_error(
    limit: u64,
) -> impl Fn(axum::extract::multipart::MultipartError) -> std::io::Error + Clone {
    move |error| {
        if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
            std::io::Error::new(
                std::io::ErrorKind::FileTooLarge,
                crate::api::middleware::upload_too_large(limit),
            )
        } else {
            std::io::Error::other(error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_unknown_fields_name_the_field() {
        let missing = describe_serde_error("body", "", "missing field `email`");
        assert_eq!(missing.loc, vec![Value::from("body"), Value::from("email")]);
        assert_eq!(missing.kind, "missing");
        let extra = describe_serde_error("body", "", "unknown field `role`, expected one of `a`");
        assert_eq!(extra.loc, vec![Value::from("body"), Value::from("role")]);
        assert_eq!(extra.kind, "extra_forbidden");
        let nested = describe_serde_error("query", "limit", "invalid digit found in string");
        assert_eq!(nested.loc, vec![Value::from("query"), Value::from("limit")]);
    }
}
