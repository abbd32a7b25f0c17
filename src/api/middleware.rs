//! Cross-cutting HTTP behaviour that every route shares.
use std::time::Instant;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::error::INTERNAL_DETAIL;
use super::ops::RequestLabels;
use crate::api::state::AppState;

pub const REQUEST_ID: &str = "x-request-id";

/// Every 500 — from our errors or from a caught panic — answers the same JSON, with the request
/// id the client can quote to an operator, who finds the cause in the log.
pub async fn complete_internal_errors(request: Request, next: Next) -> Response {
    let request_id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let response = next.run(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    // The inner body may have been compressed; this one is not.
    parts.headers.remove(header::CONTENT_ENCODING);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let body = json!({ "detail": INTERNAL_DETAIL, "request_id": request_id });
    Response::from_parts(parts, Body::from(body.to_string()))
}

pub async fn record_metrics(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let response = next.run(request).await;
    let labels = RequestLabels {
        method,
        route,
        status: response.status().as_u16().to_string(),
    };
    state.metrics.requests.get_or_create(&labels).inc();
    state
        .metrics
        .latency
        .get_or_create(&labels)
        .observe(started.elapsed().as_secs_f64());
    response
}

/// The upload routes' size limit (`UPLOAD_MAX_BYTES`): a declared length beyond it answers 413
/// at once, before the body is read; a body that turns out longer (chunked, or lying about its
/// length) fails to read at the limit, which the use case reports as 413 after writing nothing.
pub async fn limit_uploads(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let limit = state.settings.upload_max_bytes;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit) {
        let detail = upload_too_large(limit);
        if request.uri().path().starts_with("/console") {
            let lang = crate::web::language(request.headers());
            return crate::web::console::message_page(lang, StatusCode::PAYLOAD_TOO_LARGE, detail);
        }
        return super::error::ApiError::UploadTooLarge(detail).into_response();
    }
    let (parts, body) = request.into_parts();
    let limited = http_body_util::Limited::new(body, usize::try_from(limit).unwrap_or(usize::MAX));
    next.run(Request::from_parts(parts, Body::new(limited)))
        .await
}

/// What a person is told of an upload past the limit.
pub fn upload_too_large(limit: u64) -> String {
    const MB: u64 = 1024 * 1024;
    let size = if limit >= MB && limit.is_multiple_of(MB) {
        format!("{} MB", limit / MB)
    } else {
        format!("{limit} bytes")
    };
    format!(
        "The file is larger than this server takes ({size}, UPLOAD_MAX_BYTES): split it, by month or by POD"
    )
}

/// A request that outlives the configured timeout answers 503 instead of holding the client.
pub async fn enforce_timeout(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    match tokio::time::timeout(state.settings.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!("request timed out");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(json!({ "detail": "Request timed out" })),
            )
                .into_response()
        }
    }
}

pub async fn security_headers(request: Request, next: Next) -> Response {
    let is_docs = request.uri().path().starts_with("/docs");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let mut set = |name: &'static str, value: &'static str| {
        headers
            .entry(HeaderName::from_static(name))
            .or_insert(HeaderValue::from_static(value));
    };
    set("x-content-type-options", "nosniff");
    set("x-frame-options", "DENY");
    set("referrer-policy", "no-referrer");
    set("cross-origin-opener-policy", "same-origin");
    if !is_docs {
        // Swagger UI needs its own scripts and styles; the API itself serves only data.
        set(
            "content-security-policy",
            "default-src 'none'; frame-ancestors 'none'",
        );
        set("cache-control", "no-store");
    }
    response
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::to_bytes;
    use axum::http::Request as HttpRequest;
    use axum::middleware::from_fn;
    use axum::routing::get;
    use tower::ServiceExt;
    use tower_http::compression::CompressionLayer;

    use super::*;

    #[tokio::test]
    async fn a_500_goes_out_as_plain_json_even_when_the_inner_body_was_compressed() {
        let app = Router::new()
            .route(
                "/",
                get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "x".repeat(4096)) }),
            )
            .layer(CompressionLayer::new())
            .layer(from_fn(complete_internal_errors));
        let response = app
            .oneshot(
                HttpRequest::get("/")
                    .header(header::ACCEPT_ENCODING, "gzip")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.headers().get(header::CONTENT_ENCODING), None);
        let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["detail"], INTERNAL_DETAIL);
    }
}
