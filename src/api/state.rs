//! What every request handler shares: the pool, the settings, the token keys, the password
//! hasher, the metrics and the mail queue. Built once by `app::Application::build`; nothing in it is
//! per-instance state that would break running several instances on one database.
use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::api::ops::Metrics;
use crate::core::config::Settings;
use crate::core::security::{JwtKeys, PasswordService};
use crate::mail::Mailer;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    pub keys: Arc<JwtKeys>,
    pub passwords: PasswordService,
    pub metrics: Arc<Metrics>,
    /// Queues e-mail and wakes this instance's delivery worker.
    pub mailer: Mailer,
}
