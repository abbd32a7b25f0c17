pub mod csv;
pub mod deps;
pub mod docs;
pub mod error;
pub mod extract;
pub mod middleware;
pub mod ops;
pub mod state;
pub mod v1;

/// Everything the HTTP API serves, with the document that describes it.
pub struct Routes {
    /// `/api/v1` and the operations endpoints (health, readiness, metrics).
    pub api: axum::Router<state::AppState>,
    /// Streamed uploads: no body limit, no request timeout.
    pub uploads: axum::Router<state::AppState>,
    pub document: utoipa::openapi::OpenApi,
}

pub fn routes() -> Routes {
    use utoipa_axum::routes;
    let (api, api_document) = v1::router()
        .routes(routes!(ops::health))
        .routes(routes!(ops::ready))
        .routes(routes!(ops::metrics))
        .split_for_parts();
    let (uploads, uploads_document) = v1::upload_router().split_for_parts();
    Routes {
        api,
        uploads,
        document: docs::document([api_document, uploads_document]),
    }
}
