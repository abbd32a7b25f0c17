//! What every request handler shares: the pool, the settings, the token keys, the password
//! hasher, the metrics and the mail queue. Built once by `app::Application::build`; nothing in it is
//! per-instance state that would break running several instances on one database.
use std::ops::Deref;
use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::api::ops::Metrics;
use crate::core::config::Settings;
use crate::core::security::{JwtKeys, PasswordService};
use crate::mail::Mailer;

/// Cloned by axum for every extractor and stateful middleware of every request, so it is one
/// `Arc`: one reference count to touch instead of one per part (the parts held their own
/// `Arc`s — the pool's among them — and cloning and dropping them was ≈ 1.5 % of a test-token
/// request's CPU under load, BENCHMARKS.md).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    pub keys: Arc<JwtKeys>,
    pub passwords: PasswordService,
    pub metrics: Arc<Metrics>,
    /// Queues e-mail and wakes this instance's delivery worker.
    pub mailer: Mailer,
}

impl AppState {
    pub fn new(shared: Shared) -> AppState {
        AppState(Arc::new(shared))
    }
}

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}
