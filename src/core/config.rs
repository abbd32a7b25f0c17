//! Typed settings, loaded once: defaults < `condivisa.toml` < environment variables.
//!
//! Every value is parsed here, at start-up, and a bad one stops the process with a message that
//! names the variable — the server never discovers a broken setting under load.
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the embedded default database lives when `DATABASE_URL` is unset.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://condivisa.db?mode=rwc";
pub const CONFIG_FILE_VARIABLE: &str = "CONDIVISA_CONFIG";
const DEFAULT_CONFIG_FILE: &str = "condivisa.toml";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid value for {variable}: {reason}")]
    Invalid {
        variable: &'static str,
        reason: String,
    },
    #[error("cannot read configuration file {path}: {reason}")]
    File { path: PathBuf, reason: String },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DatabaseKind {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Settings {
    pub database_url: String,
    pub bind_address: SocketAddr,
    /// `None` until resolved at start-up (see `bootstrap::resolve_secret_key`).
    pub secret_key: Option<String>,
    pub access_token_expire_minutes: i64,
    pub refresh_token_expire_days: i64,
    pub first_superuser_email: Option<String>,
    pub first_superuser_password: Option<String>,
    pub cors_origins: Vec<String>,
    pub log_format: LogFormat,
    pub database_pool_size: u32,
    pub database_acquire_timeout: Duration,
    pub auto_migrate: bool,
    pub request_body_limit_bytes: usize,
    /// The largest file an upload route takes (meter data, prices, GSE statements): 413 beyond
    /// it, before anything is written.
    pub upload_max_bytes: u64,
    /// The most lines a meter-data upload may have: 413 beyond it, before anything is written.
    pub upload_max_lines: u64,
    pub request_timeout: Duration,
    /// Failed logins of one account before it is locked for a while (then doubling).
    pub login_max_failures: u32,
    /// Failed logins from one client address before it is locked (any accounts).
    pub login_max_failures_per_address: u32,
    /// Failures older than this after the last lock ended are forgotten.
    pub login_failure_window: Duration,
    /// The first lock; each further failure doubles it, up to `login_lock_max`.
    pub login_lock_base: Duration,
    pub login_lock_max: Duration,
    /// Take the client's address from the last `X-Forwarded-For` entry (behind a proxy that
    /// sets it) instead of the connection's peer.
    pub trust_forwarded_for: bool,
    /// Where mail goes (lettre's URL form: `smtp://host:25`, `smtp://host:587?tls=required`
    /// for STARTTLS, `smtps://user:pass@host:465` for TLS). Unset: messages stay in the outbox.
    pub smtp_url: Option<String>,
    /// The sender of every message (`condivisa <noreply@example.org>`); required with `SMTP_URL`.
    pub mail_from: Option<String>,
    /// The address people reach this server at, for the links in messages; unset, the
    /// address the server listens on (`Application::build` fills it in once bound).
    pub public_url: Option<String>,
    /// How often each instance looks for due messages (it also wakes when it queues one).
    pub mail_poll_interval: Duration,
    /// Attempts before a message is marked failed (the waits double from 30 s, up to 1 h).
    pub mail_max_attempts: u32,
    /// How long a password-reset link stays valid.
    pub password_reset_expire_minutes: i64,
    /// Join requests one client address may send in an hour (the public form's spam limit).
    pub join_requests_per_address_per_hour: u32,
    /// Join requests one configuration takes in a day.
    pub join_requests_per_configuration_per_day: u32,
    /// Days delivered mail is kept (the hourly housekeeping deletes it after).
    pub mail_retention_days: u32,
    /// A console session unused for this long is over (the person signs in again).
    pub session_idle_minutes: i64,
    /// A console session is over this long after sign-in, however much it is used.
    pub session_absolute_hours: i64,
}

impl std::fmt::Debug for Settings {
    // Hand-written so that secrets never reach a log line through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &redact_url(&self.database_url))
            .field("bind_address", &self.bind_address)
            .field(
                "secret_key",
                &self.secret_key.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "access_token_expire_minutes",
                &self.access_token_expire_minutes,
            )
            .field("refresh_token_expire_days", &self.refresh_token_expire_days)
            .field("first_superuser_email", &self.first_superuser_email)
            .field("cors_origins", &self.cors_origins)
            .field("log_format", &self.log_format)
            .field("database_pool_size", &self.database_pool_size)
            .field("auto_migrate", &self.auto_migrate)
            .field("smtp_url", &self.smtp_url.as_deref().map(redact_url))
            .field("mail_from", &self.mail_from)
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

/// Hides the password of a `postgres://user:password@host/db` URL.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &credentials[..colon],
                    &url[at..]
                ),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// `DATABASE_POOL_SIZE` when not set: twice the cores this host has, plus one — the usual rule
/// for a database's connections (its cores kept busy while others wait on the network or
/// disk), taken from this host's cores since a small deployment runs PostgreSQL beside the
/// server. More connections than that only add context switches: on a 2-core host, 5
/// connections against 10 gave test-token +8 % and a lower p99 on every route, the writes
/// unchanged (BENCHMARKS.md, issue 13, eleventh pass). A database on a larger host of its own
/// wants the setting raised to suit its cores.
pub fn default_pool_size() -> u32 {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    u32::try_from(2 * cores + 1).unwrap_or(1000).clamp(3, 1000)
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            database_url: DEFAULT_DATABASE_URL.to_string(),
            bind_address: "127.0.0.1:8000".parse().expect("valid literal address"),
            secret_key: None,
            access_token_expire_minutes: 30,
            refresh_token_expire_days: 14,
            first_superuser_email: None,
            first_superuser_password: None,
            cors_origins: Vec::new(),
            log_format: LogFormat::Pretty,
            database_pool_size: default_pool_size(),
            database_acquire_timeout: Duration::from_secs(5),
            auto_migrate: true,
            request_body_limit_bytes: 1024 * 1024,
            // A month of quarter-hours for 10,000 PODs in the long layout is about 1.5 GB.
            upload_max_bytes: 2 * 1024 * 1024 * 1024,
            upload_max_lines: 100_000_000,
            request_timeout: Duration::from_secs(30),
            login_max_failures: 5,
            login_max_failures_per_address: 50,
            login_failure_window: Duration::from_secs(15 * 60),
            login_lock_base: Duration::from_secs(30),
            login_lock_max: Duration::from_secs(60 * 60),
            trust_forwarded_for: false,
            smtp_url: None,
            mail_from: None,
            public_url: None,
            mail_poll_interval: Duration::from_secs(10),
            mail_max_attempts: 10,
            password_reset_expire_minutes: 60,
            join_requests_per_address_per_hour: 5,
            join_requests_per_configuration_per_day: 100,
            mail_retention_days: 90,
            session_idle_minutes: 30,
            session_absolute_hours: 12,
        }
    }
}

/// The variables we read, so that a typo in `condivisa.toml` is reported rather than ignored.
const VARIABLES: &[&str] = &[
    "DATABASE_URL",
    "BIND_ADDRESS",
    "SECRET_KEY",
    "ACCESS_TOKEN_EXPIRE_MINUTES",
    "REFRESH_TOKEN_EXPIRE_DAYS",
    "FIRST_SUPERUSER_EMAIL",
    "FIRST_SUPERUSER_PASSWORD",
    "CORS_ORIGINS",
    "LOG_FORMAT",
    "DATABASE_POOL_SIZE",
    "DATABASE_ACQUIRE_TIMEOUT_SECONDS",
    "AUTO_MIGRATE",
    "REQUEST_BODY_LIMIT_BYTES",
    "UPLOAD_MAX_BYTES",
    "UPLOAD_MAX_LINES",
    "REQUEST_TIMEOUT_SECONDS",
    "LOGIN_MAX_FAILURES",
    "LOGIN_MAX_FAILURES_PER_ADDRESS",
    "LOGIN_FAILURE_WINDOW_SECONDS",
    "LOGIN_LOCK_BASE_SECONDS",
    "LOGIN_LOCK_MAX_SECONDS",
    "TRUST_FORWARDED_FOR",
    "SMTP_URL",
    "MAIL_FROM",
    "PUBLIC_URL",
    "MAIL_POLL_SECONDS",
    "MAIL_MAX_ATTEMPTS",
    "PASSWORD_RESET_EXPIRE_MINUTES",
    "JOIN_REQUESTS_PER_ADDRESS_PER_HOUR",
    "JOIN_REQUESTS_PER_CONFIGURATION_PER_DAY",
    "MAIL_RETENTION_DAYS",
    "SESSION_IDLE_MINUTES",
    "SESSION_ABSOLUTE_HOURS",
];

impl Settings {
    /// Loads from the optional TOML file (`CONDIVISA_CONFIG`, default `./condivisa.toml`) and the
    /// process environment; the environment wins.
    pub fn load() -> Result<Settings, ConfigError> {
        let explicit = std::env::var(CONFIG_FILE_VARIABLE).ok().map(PathBuf::from);
        let path = explicit
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_FILE));
        let mut values = if path.exists() || explicit.is_some() {
            read_toml(&path)?
        } else {
            HashMap::new()
        };
        for name in VARIABLES {
            if let Ok(value) = std::env::var(name) {
                values.insert(name.to_string(), value);
            }
        }
        Settings::from_values(&values)
    }

    /// Builds settings from already-merged `NAME -> value` pairs (upper-case names).
    pub fn from_values(values: &HashMap<String, String>) -> Result<Settings, ConfigError> {
        let get = |name: &str| values.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let mut settings = Settings::default();
        if let Some(url) = get("DATABASE_URL") {
            settings.database_url = url.to_string();
            database_kind(&settings.database_url)?;
        }
        if let Some(value) = get("BIND_ADDRESS") {
            settings.bind_address = parse("BIND_ADDRESS", value)?;
        }
        if let Some(value) = get("SECRET_KEY") {
            if value.len() < 32 {
                return Err(invalid("SECRET_KEY", "must be at least 32 characters long"));
            }
            settings.secret_key = Some(value.to_string());
        }
        if let Some(value) = get("ACCESS_TOKEN_EXPIRE_MINUTES") {
            settings.access_token_expire_minutes =
                parse_in_range("ACCESS_TOKEN_EXPIRE_MINUTES", value, 1, 24 * 60)?;
        }
        if let Some(value) = get("REFRESH_TOKEN_EXPIRE_DAYS") {
            settings.refresh_token_expire_days =
                parse_in_range("REFRESH_TOKEN_EXPIRE_DAYS", value, 1, 365)?;
        }
        settings.first_superuser_email = get("FIRST_SUPERUSER_EMAIL").map(str::to_string);
        settings.first_superuser_password = get("FIRST_SUPERUSER_PASSWORD").map(str::to_string);
        if settings.first_superuser_email.is_some() != settings.first_superuser_password.is_some() {
            let missing = if settings.first_superuser_email.is_some() {
                "FIRST_SUPERUSER_PASSWORD"
            } else {
                "FIRST_SUPERUSER_EMAIL"
            };
            return Err(invalid(
                missing,
                "FIRST_SUPERUSER_EMAIL and FIRST_SUPERUSER_PASSWORD must be set together",
            ));
        }
        if let Some(value) = get("CORS_ORIGINS") {
            settings.cors_origins = parse_origins(value)?;
        }
        if let Some(value) = get("LOG_FORMAT") {
            settings.log_format = match value.to_ascii_lowercase().as_str() {
                "pretty" => LogFormat::Pretty,
                "json" => LogFormat::Json,
                _ => return Err(invalid("LOG_FORMAT", "expected `pretty` or `json`")),
            };
        }
        if let Some(value) = get("DATABASE_POOL_SIZE") {
            settings.database_pool_size = parse_in_range("DATABASE_POOL_SIZE", value, 1, 1000)?;
        }
        if let Some(value) = get("DATABASE_ACQUIRE_TIMEOUT_SECONDS") {
            settings.database_acquire_timeout = Duration::from_secs(parse_in_range(
                "DATABASE_ACQUIRE_TIMEOUT_SECONDS",
                value,
                1,
                300,
            )?);
        }
        if let Some(value) = get("AUTO_MIGRATE") {
            settings.auto_migrate = parse_bool("AUTO_MIGRATE", value)?;
        }
        if let Some(value) = get("REQUEST_BODY_LIMIT_BYTES") {
            settings.request_body_limit_bytes =
                parse_in_range("REQUEST_BODY_LIMIT_BYTES", value, 1024, 1024 * 1024 * 1024)?;
        }
        if let Some(value) = get("UPLOAD_MAX_BYTES") {
            settings.upload_max_bytes =
                parse_in_range("UPLOAD_MAX_BYTES", value, 1024, 1024 * 1024 * 1024 * 1024)?;
        }
        if let Some(value) = get("UPLOAD_MAX_LINES") {
            settings.upload_max_lines =
                parse_in_range("UPLOAD_MAX_LINES", value, 1, 10_000_000_000)?;
        }
        if let Some(value) = get("REQUEST_TIMEOUT_SECONDS") {
            settings.request_timeout =
                Duration::from_secs(parse_in_range("REQUEST_TIMEOUT_SECONDS", value, 1, 3600)?);
        }
        if let Some(value) = get("LOGIN_MAX_FAILURES") {
            settings.login_max_failures = parse_in_range("LOGIN_MAX_FAILURES", value, 1, 1000)?;
        }
        if let Some(value) = get("LOGIN_MAX_FAILURES_PER_ADDRESS") {
            settings.login_max_failures_per_address =
                parse_in_range("LOGIN_MAX_FAILURES_PER_ADDRESS", value, 1, 1_000_000)?;
        }
        let seconds = |name: &'static str, value: &str, max: u64| {
            parse_in_range(name, value, 1, max).map(Duration::from_secs)
        };
        if let Some(value) = get("LOGIN_FAILURE_WINDOW_SECONDS") {
            settings.login_failure_window =
                seconds("LOGIN_FAILURE_WINDOW_SECONDS", value, 7 * 86_400)?;
        }
        if let Some(value) = get("LOGIN_LOCK_BASE_SECONDS") {
            settings.login_lock_base = seconds("LOGIN_LOCK_BASE_SECONDS", value, 86_400)?;
        }
        if let Some(value) = get("LOGIN_LOCK_MAX_SECONDS") {
            settings.login_lock_max = seconds("LOGIN_LOCK_MAX_SECONDS", value, 7 * 86_400)?;
        }
        if settings.login_lock_max < settings.login_lock_base {
            return Err(invalid(
                "LOGIN_LOCK_MAX_SECONDS",
                "must not be shorter than LOGIN_LOCK_BASE_SECONDS",
            ));
        }
        if let Some(value) = get("TRUST_FORWARDED_FOR") {
            settings.trust_forwarded_for = parse_bool("TRUST_FORWARDED_FOR", value)?;
        }
        if let Some(value) = get("PUBLIC_URL") {
            settings.public_url = Some(parse_public_url(value)?);
        }
        if let Some(value) = get("SMTP_URL") {
            crate::mail::check_smtp_url(value).map_err(|reason| invalid("SMTP_URL", reason))?;
            settings.smtp_url = Some(value.to_string());
        }
        if let Some(value) = get("MAIL_FROM") {
            crate::mail::check_mailbox(value).map_err(|reason| invalid("MAIL_FROM", reason))?;
            settings.mail_from = Some(value.to_string());
        }
        if settings.smtp_url.is_some() && settings.mail_from.is_none() {
            return Err(invalid(
                "MAIL_FROM",
                "is required with SMTP_URL (the sender of every message)",
            ));
        }
        if let Some(value) = get("MAIL_POLL_SECONDS") {
            settings.mail_poll_interval = seconds("MAIL_POLL_SECONDS", value, 3600)?;
        }
        if let Some(value) = get("MAIL_MAX_ATTEMPTS") {
            settings.mail_max_attempts = parse_in_range("MAIL_MAX_ATTEMPTS", value, 1, 100)?;
        }
        if let Some(value) = get("PASSWORD_RESET_EXPIRE_MINUTES") {
            settings.password_reset_expire_minutes =
                parse_in_range("PASSWORD_RESET_EXPIRE_MINUTES", value, 5, 7 * 24 * 60)?;
        }
        if let Some(value) = get("JOIN_REQUESTS_PER_ADDRESS_PER_HOUR") {
            settings.join_requests_per_address_per_hour =
                parse_in_range("JOIN_REQUESTS_PER_ADDRESS_PER_HOUR", value, 1, 100_000)?;
        }
        if let Some(value) = get("JOIN_REQUESTS_PER_CONFIGURATION_PER_DAY") {
            settings.join_requests_per_configuration_per_day = parse_in_range(
                "JOIN_REQUESTS_PER_CONFIGURATION_PER_DAY",
                value,
                1,
                1_000_000,
            )?;
        }
        if let Some(value) = get("MAIL_RETENTION_DAYS") {
            settings.mail_retention_days = parse_in_range("MAIL_RETENTION_DAYS", value, 1, 3650)?;
        }
        if let Some(value) = get("SESSION_IDLE_MINUTES") {
            settings.session_idle_minutes =
                parse_in_range("SESSION_IDLE_MINUTES", value, 1, 7 * 24 * 60)?;
        }
        if let Some(value) = get("SESSION_ABSOLUTE_HOURS") {
            settings.session_absolute_hours =
                parse_in_range("SESSION_ABSOLUTE_HOURS", value, 1, 30 * 24)?;
        }
        Ok(settings)
    }

    /// The base of the links in messages: `PUBLIC_URL`, or the address the server listens on.
    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.bind_address))
    }

    pub fn database_kind(&self) -> DatabaseKind {
        database_kind(&self.database_url).expect("validated when the settings were loaded")
    }
}

pub fn database_kind(url: &str) -> Result<DatabaseKind, ConfigError> {
    if url.starts_with("sqlite:") {
        Ok(DatabaseKind::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(DatabaseKind::Postgres)
    } else {
        Err(invalid(
            "DATABASE_URL",
            "expected a `sqlite://…` or `postgres://…` URL",
        ))
    }
}

/// The file behind a `sqlite://path?…` URL, or `None` for an in-memory database.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        None
    } else {
        Some(PathBuf::from(path))
    }
}

fn read_toml(path: &Path) -> Result<HashMap<String, String>, ConfigError> {
    let file_error = |reason: String| ConfigError::File {
        path: path.to_path_buf(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| file_error(e.to_string()))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| file_error(e.to_string()))?;
    let mut values = HashMap::new();
    for (key, value) in table {
        let name = key.to_ascii_uppercase();
        if !VARIABLES.contains(&name.as_str()) {
            return Err(file_error(format!("unknown setting `{key}`")));
        }
        let text = match value {
            toml::Value::String(s) => s,
            toml::Value::Array(items) => items
                .iter()
                .map(|item| {
                    item.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| item.to_string())
                })
                .collect::<Vec<_>>()
                .join(","),
            other => other.to_string(),
        };
        values.insert(name, text);
    }
    Ok(values)
}

fn invalid(variable: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        variable,
        reason: reason.into(),
    }
}

fn parse<T: std::str::FromStr>(variable: &'static str, value: &str) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    value
        .parse()
        .map_err(|e: T::Err| invalid(variable, format!("`{value}`: {e}")))
}

fn parse_in_range<T>(variable: &'static str, value: &str, min: T, max: T) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
    T::Err: std::fmt::Display,
{
    let parsed: T = parse(variable, value)?;
    if parsed < min || parsed > max {
        return Err(invalid(
            variable,
            format!("`{value}` is outside {min}..={max}"),
        ));
    }
    Ok(parsed)
}

fn parse_bool(variable: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(invalid(
            variable,
            format!("`{value}` is not a boolean (true/false)"),
        )),
    }
}

fn parse_public_url(value: &str) -> Result<String, ConfigError> {
    let url = value.trim_end_matches('/');
    if !(url.starts_with("http://") || url.starts_with("https://")) || url.contains('?') {
        return Err(invalid(
            "PUBLIC_URL",
            format!("`{value}` is not an http(s) base URL (like https://cer.example.org)"),
        ));
    }
    Ok(url.to_string())
}

fn parse_origins(value: &str) -> Result<Vec<String>, ConfigError> {
    value
        .split(',')
        .map(str::trim)
        .filter(|origin| !origin.is_empty())
        .map(|origin| {
            let origin = origin.trim_end_matches('/');
            if origin == "*" || origin.starts_with("http://") || origin.starts_with("https://") {
                Ok(origin.to_string())
            } else {
                Err(invalid(
                    "CORS_ORIGINS",
                    format!("`{origin}` is not an http(s) origin"),
                ))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_select_the_embedded_database() {
        let settings = Settings::from_values(&HashMap::new()).unwrap();
        assert_eq!(settings.database_kind(), DatabaseKind::Sqlite);
        assert_eq!(settings.bind_address.to_string(), "127.0.0.1:8000");
        assert_eq!(settings.access_token_expire_minutes, 30);
        assert_eq!(settings.refresh_token_expire_days, 14);
        assert!(settings.auto_migrate);
        let cores = std::thread::available_parallelism().unwrap().get() as u32;
        assert_eq!(settings.database_pool_size, (2 * cores + 1).max(3));
        let chosen = Settings::from_values(&values(&[("DATABASE_POOL_SIZE", "12")])).unwrap();
        assert_eq!(chosen.database_pool_size, 12);
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        for (name, value) in [
            ("BIND_ADDRESS", "localhost"),
            ("ACCESS_TOKEN_EXPIRE_MINUTES", "0"),
            ("DATABASE_POOL_SIZE", "many"),
            ("LOG_FORMAT", "xml"),
            ("AUTO_MIGRATE", "perhaps"),
            ("DATABASE_URL", "mysql://x"),
            ("SECRET_KEY", "short"),
            ("CORS_ORIGINS", "example.org"),
            ("SMTP_URL", "mail.example.org"),
            ("MAIL_FROM", "not an address"),
            ("PUBLIC_URL", "cer.example.org"),
            ("MAIL_MAX_ATTEMPTS", "0"),
        ] {
            let error = Settings::from_values(&values(&[(name, value)]))
                .err()
                .unwrap_or_else(|| panic!("{name}={value} was accepted"));
            assert!(error.to_string().contains(name), "{error}");
        }
    }

    #[test]
    fn mail_needs_a_sender() {
        let error = Settings::from_values(&values(&[("SMTP_URL", "smtp://127.0.0.1:2525")]))
            .err()
            .unwrap();
        assert!(error.to_string().contains("MAIL_FROM"), "{error}");
        let settings = Settings::from_values(&values(&[
            ("SMTP_URL", "smtp://user:secret@127.0.0.1:2525"),
            ("MAIL_FROM", "CER Sole <noreply@example.org>"),
            ("PUBLIC_URL", "https://cer.example.org/"),
        ]))
        .unwrap();
        assert_eq!(settings.public_url(), "https://cer.example.org");
        let printed = format!("{settings:?}");
        assert!(
            printed.contains("smtp://user:***@127.0.0.1:2525"),
            "{printed}"
        );
        assert!(!printed.contains("user:secret"), "{printed}");
    }

    #[test]
    fn superuser_credentials_come_in_pairs() {
        let error = Settings::from_values(&values(&[("FIRST_SUPERUSER_EMAIL", "a@b.it")]))
            .err()
            .unwrap();
        assert!(error.to_string().contains("FIRST_SUPERUSER_PASSWORD"));
    }

    #[test]
    fn sqlite_file_is_read_from_the_url() {
        assert_eq!(
            sqlite_file(DEFAULT_DATABASE_URL),
            Some(PathBuf::from("condivisa.db"))
        );
        assert_eq!(
            sqlite_file("sqlite:///tmp/x.db"),
            Some(PathBuf::from("/tmp/x.db"))
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
    }

    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/c"),
            "postgres://app:***@db:5432/c"
        );
        assert_eq!(redact_url("sqlite://condivisa.db"), "sqlite://condivisa.db");
    }
}
