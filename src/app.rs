//! Wiring: settings → database → state → router → listener. `main` and the tests both use
//! `Application::build`, so the tests exercise exactly what production runs.
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Method, StatusCode, header};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::IntoResponse;
use sea_orm::DatabaseConnection;
use serde_json::json;
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use utoipa_swagger_ui::SwaggerUi;

use crate::api::middleware::{
    REQUEST_ID, complete_internal_errors, enforce_timeout, record_metrics, security_headers,
};
use crate::api::ops::Metrics;
use crate::api::state::{AppState, Shared};
use crate::bootstrap;
use crate::core::config::Settings;
use crate::core::security::{JwtKeys, PasswordService};
use crate::db;
use crate::mail::{Mailer, Postman};

pub fn build_router(state: AppState) -> Router {
    let settings = state.settings.clone();
    let crate::api::Routes {
        api,
        uploads,
        document,
    } = crate::api::routes();
    let routes = Router::new()
        .merge(api)
        .merge(SwaggerUi::new("/docs").url("/api/v1/openapi.json", document))
        .merge(crate::web::router())
        .layer(from_fn_with_state(state.clone(), enforce_timeout))
        .layer(DefaultBodyLimit::max(settings.request_body_limit_bytes))
        .merge(
            uploads
                .merge(crate::web::console::uploads())
                .layer(DefaultBodyLimit::disable())
                .layer(from_fn_with_state(
                    state.clone(),
                    crate::api::middleware::limit_uploads,
                )),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn_with_state(state.clone(), record_metrics))
        .with_state(state);

    let request_id = HeaderName::from_static(REQUEST_ID);
    routes.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(|request: &axum::http::Request<_>| {
                        let id = request
                            .headers()
                            .get(REQUEST_ID)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default();
                        // The path only: query strings and bodies stay out of the access log.
                        tracing::info_span!(
                            "request",
                            method = %request.method(),
                            path = %request.uri().path(),
                            request_id = %id,
                        )
                    })
                    .on_response(DefaultOnResponse::new().level(Level::INFO)),
            )
            .layer(PropagateRequestIdLayer::new(request_id))
            .layer(from_fn(complete_internal_errors))
            .layer(CatchPanicLayer::new())
            .layer(from_fn(security_headers))
            .option_layer(cors_layer(&settings))
            .layer(CompressionLayer::new()),
    )
}

fn cors_layer(settings: &Settings) -> Option<CorsLayer> {
    if settings.cors_origins.is_empty() {
        return None;
    }
    let origins = if settings.cors_origins.iter().any(|origin| origin == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            settings
                .cors_origins
                .iter()
                .filter_map(|origin| origin.parse().ok()),
        )
    };
    Some(
        CorsLayer::new()
            .allow_origin(origins)
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static(REQUEST_ID),
                HeaderName::from_static("idempotency-key"),
            ])
            .expose_headers([
                HeaderName::from_static(REQUEST_ID),
                HeaderName::from_static("x-total-count"),
            ]),
    )
}

async fn not_found() -> impl IntoResponse {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({ "detail": "Not Found" })),
    )
}

async fn method_not_allowed() -> impl IntoResponse {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        axum::Json(json!({ "detail": "Method Not Allowed" })),
    )
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    db: DatabaseConnection,
    /// The mail delivery worker (absent without `SMTP_URL`), run beside the server.
    postman: Option<Postman>,
    /// How long the hourly sweep keeps personal data it no longer needs.
    retention: crate::housekeeping::Retention,
}

impl Application {
    /// Connects, migrates (unless `AUTO_MIGRATE=false`), creates the first admin if configured,
    /// and binds the listener (port 0 picks a free port).
    pub async fn build(mut settings: Settings) -> anyhow::Result<Application> {
        let secret = bootstrap::resolve_secret_key(&settings)?;
        settings.secret_key = Some(secret.clone());
        let db = db::connect(&settings).await?;
        if settings.auto_migrate {
            db::migrate_to_head(&db).await?;
        }
        let passwords = PasswordService::new();
        bootstrap::ensure_first_superuser(&db, &passwords, &settings).await?;
        let listener = TcpListener::bind(settings.bind_address).await?;
        if settings.public_url.is_none() {
            // The links in messages lead to where this server really listens (port 0 chose one).
            settings.public_url = Some(format!("http://{}", listener.local_addr()?));
        }
        let mailer = Mailer::new();
        let postman = Postman::new(db.clone(), &settings, &mailer);
        let state = AppState::new(Shared {
            mailer,
            db: db.clone(),
            settings: Arc::new(settings.clone()),
            keys: Arc::new(JwtKeys::new(&secret)),
            passwords,
            metrics: Arc::new(Metrics::new()),
        });
        Ok(Application {
            listener,
            router: build_router(state),
            db,
            postman,
            retention: crate::housekeeping::Retention::of(&settings),
        })
    }

    /// The pool the server uses (tests close it to observe the 503 path).
    pub fn database(&self) -> DatabaseConnection {
        self.db.clone()
    }

    pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `stop` resolves, then lets in-flight requests finish and closes the pool.
    pub async fn run_until(
        self,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        // The peer address reaches the handlers (login throttling per client address).
        let service = self
            .router
            .into_make_service_with_connect_info::<std::net::SocketAddr>();
        let (stop_workers, workers_stopped) = tokio::sync::watch::channel(false);
        let postman = self
            .postman
            .map(|postman| tokio::spawn(postman.run(workers_stopped.clone())));
        let housekeeping = tokio::spawn(crate::housekeeping::run(
            self.db.clone(),
            self.retention,
            workers_stopped,
        ));
        let served = axum::serve(self.listener, service)
            .with_graceful_shutdown(stop)
            .await;
        // The mail worker finishes the message it is sending; the rest waits in the outbox.
        let _ = stop_workers.send(true);
        if let Some(postman) = postman {
            let _ = postman.await;
        }
        let _ = housekeeping.await;
        served?;
        if let Err(error) = self.db.close().await {
            tracing::warn!(%error, "closing the database pool");
        }
        Ok(())
    }
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
