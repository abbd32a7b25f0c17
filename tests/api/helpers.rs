//! Black-box test support: every test starts the real server on a random port against a fresh
//! database — a temporary SQLite file, or a new PostgreSQL database when `TEST_DATABASE_URL` is
//! set (an admin URL such as `postgres://postgres@127.0.0.1:5432/postgres`), dropped afterwards.
use std::collections::HashMap;

use condivisa::app::Application;
use condivisa::core::config::Settings;
use reqwest::{Client, Response, StatusCode};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "admin-password-1";
pub const SECRET_KEY: &str = "test-secret-key-that-is-at-least-32-characters";
pub const PASSWORD: &str = "a-good-password";

pub struct TestApp {
    pub address: String,
    pub client: Client,
    pub admin_token: String,
    pub db: DatabaseConnection,
    pub database_url: String,
    _database: TestDatabase,
}

pub enum TestDatabase {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let TestDatabase::Postgres { admin_url, name } = self {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop runs inside the test's runtime, which cannot block: use a thread of our own.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async {
                    if let Ok(admin) = Database::connect(&admin_url).await {
                        let _ = admin
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                            ))
                            .await;
                        let _ = admin.close().await;
                    }
                });
            })
            .join();
        }
    }
}

/// A new empty database and its URL; dropped with the returned guard.
pub async fn fresh_database() -> (String, TestDatabase) {
    match std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
    {
        Some(admin_url) => {
            let name = format!("condivisa_test_{}", uuid::Uuid::new_v4().simple());
            let admin = Database::connect(&admin_url)
                .await
                .expect("TEST_DATABASE_URL must be reachable");
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .unwrap();
            admin.close().await.unwrap();
            let base = admin_url
                .rsplit_once('/')
                .map(|(base, _)| base)
                .unwrap_or(&admin_url);
            (
                format!("{base}/{name}"),
                TestDatabase::Postgres { admin_url, name },
            )
        }
        None => {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
            (url, TestDatabase::Sqlite(dir))
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(HashMap::new()).await
}

/// Starts the server with extra settings (`NAME -> value`, as in the environment).
pub async fn spawn_app_with(overrides: HashMap<&str, &str>) -> TestApp {
    if std::env::var("TEST_LOG").is_ok() {
        condivisa::telemetry::init(condivisa::core::config::LogFormat::Pretty);
    }
    let (database_url, database) = fresh_database().await;
    let (address, db) = start_server(&database_url, &overrides).await;
    let client = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut app = TestApp {
        address,
        client,
        admin_token: String::new(),
        db,
        database_url,
        _database: database,
    };
    app.admin_token = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    app
}

/// Builds and starts a server on `database_url`; returns its base URL and its pool.
async fn start_server(
    database_url: &str,
    overrides: &HashMap<&str, &str>,
) -> (String, DatabaseConnection) {
    let mut values: HashMap<String, String> = [
        ("DATABASE_URL", database_url),
        ("BIND_ADDRESS", "127.0.0.1:0"),
        ("SECRET_KEY", SECRET_KEY),
        ("FIRST_SUPERUSER_EMAIL", ADMIN_EMAIL),
        ("FIRST_SUPERUSER_PASSWORD", ADMIN_PASSWORD),
        ("DATABASE_POOL_SIZE", "5"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (name, value) in overrides {
        values.insert(name.to_string(), value.to_string());
    }
    let settings = Settings::from_values(&values).expect("valid test settings");
    let application = Application::build(settings)
        .await
        .expect("the application starts");
    let address = format!("http://{}", application.local_addr().unwrap());
    let db = application.database();
    tokio::spawn(application.run_until(std::future::pending()));
    (address, db)
}

impl TestApp {
    /// Starts another instance of the server on the same database (as behind a load
    /// balancer); returns its base URL.
    pub async fn spawn_instance(&self, overrides: HashMap<&str, &str>) -> String {
        start_server(&self.database_url, &overrides).await.0
    }

    /// The server's OpenAPI document.
    pub async fn openapi(&self) -> Value {
        let response = self
            .client
            .get(self.url("/api/v1/openapi.json"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn login_response(&self, username: &str, password: &str) -> Response {
        self.client
            .post(self.url("/api/v1/login/access-token"))
            .form(&[
                ("username", username),
                ("password", password),
                ("grant_type", "password"),
            ])
            .send()
            .await
            .unwrap()
    }

    /// Logs in and returns the access token.
    pub async fn login(&self, username: &str, password: &str) -> String {
        let response = self.login_response(username, password).await;
        assert_eq!(response.status(), StatusCode::OK, "login of {username}");
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_string()
    }

    pub async fn get(&self, token: &str, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// Uploads a CSV body (`text/csv`), as the admin.
    pub async fn post_csv(&self, path: &str, csv: impl Into<reqwest::Body>) -> Response {
        self.client
            .post(self.url(path))
            .bearer_auth(&self.admin_token)
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await
            .unwrap()
    }

    pub async fn post(&self, token: &str, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn patch(&self, token: &str, path: &str, body: &Value) -> Response {
        self.client
            .patch(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn delete(&self, token: &str, path: &str) -> Response {
        self.client
            .delete(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// Runs the `condivisa` binary against this app's database (clean environment, quiet log).
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        self.cli_on(&self.database_url, args)
    }

    /// [`TestApp::cli`] against another database (a restored backup, say).
    pub fn cli_on(&self, database_url: &str, args: &[&str]) -> std::process::Output {
        std::process::Command::new(env!("CARGO_BIN_EXE_condivisa"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", database_url)
            .env("SECRET_KEY", SECRET_KEY)
            .env("RUST_LOG", "warn")
            .args(args)
            .output()
            .unwrap()
    }

    /// Creates an organization as admin; returns its id.
    pub async fn create_organization(&self, name: &str) -> i64 {
        let response = self
            .post(
                &self.admin_token,
                "/api/v1/organizations/",
                &json!({ "name": name }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json::<Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap()
    }

    /// Creates a user as admin with `PASSWORD`; returns `(id, access token)`.
    pub async fn create_user(
        &self,
        email: &str,
        role: &str,
        organization_id: Option<i64>,
    ) -> (i64, String) {
        let response = self
            .post(
                &self.admin_token,
                "/api/v1/users/",
                &json!({ "email": email, "password": PASSWORD, "role": role, "organization_id": organization_id }),
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "{}",
            response.text().await.unwrap()
        );
        let id = response.json::<Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap();
        (id, self.login(email, PASSWORD).await)
    }

    /// The admin changes account `id` (`PATCH /users/{id}`); asserts 200.
    pub async fn admin_changes_user(&self, id: i64, body: Value) {
        let response = self
            .patch(&self.admin_token, &format!("/api/v1/users/{id}"), &body)
            .await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "{}",
            response.text().await.unwrap()
        );
    }
}

/// Asserts a 422 whose `detail` names `loc`, and returns the body.
pub async fn assert_validation_error(response: Response, loc: &[&str]) -> Value {
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    let expected: Vec<Value> = loc.iter().map(|part| json!(part)).collect();
    let details = body["detail"].as_array().expect("detail is a list");
    assert!(
        details
            .iter()
            .any(|d| d["loc"].as_array() == Some(&expected)
                && d["msg"].is_string()
                && d["type"].is_string()),
        "no error at {loc:?} in {body}"
    );
    body
}

/// Asserts the status and a string `detail`; returns the detail.
pub async fn assert_detail(response: Response, status: StatusCode) -> String {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    body["detail"]
        .as_str()
        .unwrap_or_else(|| panic!("detail is a string: {body}"))
        .to_string()
}

/// The world the scope and permission tests share: two organizations, A and B. In A a vendor,
/// a referent who runs configuration A1, a second configuration A2 (no referent) and a `user`
/// account; in B a vendor and configuration B1. Each module adds the members and rows it
/// needs. Accounts are `(id, access token)`.
pub struct TwoTenants {
    pub org_a: i64,
    pub org_b: i64,
    pub a1: i64,
    pub a2: i64,
    pub b1: i64,
    pub vendor_a: (i64, String),
    pub vendor_b: (i64, String),
    pub referent_a1: (i64, String),
    pub user_a: (i64, String),
}

pub async fn two_tenants(app: &TestApp) -> TwoTenants {
    let org_a = app.create_organization("Comunità Alpha").await;
    let org_b = app.create_organization("Comunità Beta").await;
    let vendor_a = app
        .create_user("vendor.a@example.com", "vendor", Some(org_a))
        .await;
    let vendor_b = app
        .create_user("vendor.b@example.com", "vendor", Some(org_b))
        .await;
    let referent_a1 = app
        .create_user("referent.a@example.com", "referent", Some(org_a))
        .await;
    let user_a = app
        .create_user("user.a@example.com", "user", Some(org_a))
        .await;
    let a1 = app
        .create_configuration(org_a, "CER Alpha 1", Some(referent_a1.0))
        .await;
    let a2 = app.create_configuration(org_a, "CER Alpha 2", None).await;
    let b1 = app.create_configuration(org_b, "CER Beta", None).await;
    TwoTenants {
        org_a,
        org_b,
        a1,
        a2,
        b1,
        vendor_a,
        vendor_b,
        referent_a1,
        user_a,
    }
}

impl TestApp {
    /// A draft CER in NORD, created by the admin; returns its id.
    pub async fn create_configuration(
        &self,
        organization: i64,
        name: &str,
        referent: Option<i64>,
    ) -> i64 {
        let response = self
            .post(
                &self.admin_token,
                "/api/v1/configurations/",
                &json!({ "name": name, "type": "CER", "primary_substation": "AC001E00123",
                         "market_zone": "NORD", "region": "piemonte", "organization_id": organization,
                         "referent_id": referent, "constituted_on": "2024-01-10" }),
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "{}",
            response.text().await.unwrap()
        );
        response.json::<Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap()
    }
}

/// The one BIGINT a query returns (a count, a sum cast to BIGINT), on either database.
pub async fn scalar_i64(db: &DatabaseConnection, sql: &str) -> i64 {
    use sea_orm::ConnectionTrait;
    db.query_one_raw(sea_orm::Statement::from_string(
        db.get_database_backend(),
        sql.to_string(),
    ))
    .await
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
    .unwrap_or_else(|| panic!("{sql}: no row"))
    .try_get_by_index::<i64>(0)
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The stored hourly curves say exactly what the readings say: every hour with readings, in
/// every POD and direction, has the curve cell that summing its readings gives, and no curve
/// holds anything else.
pub async fn assert_curves_match_readings(db: &DatabaseConnection) {
    use condivisa::domain::curves::{CurveMonth, HourCell, decode};
    use std::collections::BTreeMap;
    let backend = db.get_database_backend();
    let query =
        |sql: &str| db.query_all_raw(sea_orm::Statement::from_string(backend, sql.to_string()));
    let mut expected: BTreeMap<(String, String, i64), HourCell> = BTreeMap::new();
    for r in query(
        "SELECT pod, direction, CAST(interval_start AS BIGINT) AS t, CAST(interval_minutes AS BIGINT) AS minutes, \
         CAST(wh AS BIGINT) AS wh, CAST(revision AS BIGINT) AS revision, CAST(import_id AS BIGINT) AS import_id FROM readings",
    )
    .await
    .unwrap()
    {
        let t: i64 = r.try_get("", "t").unwrap();
        expected
            .entry((r.try_get("", "pod").unwrap(), r.try_get("", "direction").unwrap(), t - t % 3600))
            .or_default()
            .add(HourCell {
                wh: r.try_get("", "wh").unwrap(),
                minutes: r.try_get("", "minutes").unwrap(),
                rows: 1,
                revisions: r.try_get("", "revision").unwrap(),
                last_import: r.try_get("", "import_id").unwrap(),
            });
    }
    let mut stored: BTreeMap<(String, String, i64), HourCell> = BTreeMap::new();
    for r in
        query("SELECT pod, direction, CAST(month_start AS BIGINT) AS m, data FROM reading_curves")
            .await
            .unwrap()
    {
        let start: i64 = r.try_get("", "m").unwrap();
        let month = CurveMonth::containing(start);
        assert_eq!(month.start, start, "a curve keyed off a month's start");
        let data: Vec<u8> = r.try_get("", "data").unwrap();
        let cells = decode(&data, month.hours()).unwrap();
        assert!(
            cells.iter().any(|c| c.rows > 0),
            "an empty curve was stored"
        );
        let (pod, direction): (String, String) = (
            r.try_get("", "pod").unwrap(),
            r.try_get("", "direction").unwrap(),
        );
        for (i, cell) in cells.into_iter().enumerate() {
            if cell.rows > 0 {
                stored.insert(
                    (pod.clone(), direction.clone(), start + 3600 * i as i64),
                    cell,
                );
            }
        }
    }
    assert_eq!(stored, expected);
}

/// Makes sure Debian's `package` provides `program` (run with `probe` to check it works):
/// installed with apt-get when missing and the tests run as root. Tests in one process ask for
/// different packages at once, so apt-get waits for the other's lock instead of failing.
pub fn ensure_debian_tool(program: &str, probe: &str, package: &str) {
    use std::process::Command;
    let present = || {
        Command::new(program)
            .arg(probe)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if present() {
        return;
    }
    // SAFETY: geteuid only reads the process's user id.
    let root = unsafe { libc::geteuid() } == 0;
    assert!(
        root,
        "{program} is missing: install Debian's {package} (apt-get install -y {package})"
    );
    let apt_get = |arguments: &[&str]| {
        Command::new("apt-get")
            .args(["-o", "DPkg::Lock::Timeout=600", "-q"])
            .args(arguments)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|s| s.success())
    };
    // A fresh machine's package lists may be missing or stale.
    if !apt_get(&["install", "-y", package]) {
        assert!(apt_get(&["update"]), "apt-get update failed");
        assert!(
            apt_get(&["install", "-y", package]),
            "apt-get install {package} failed"
        );
    }
    assert!(
        present(),
        "{program} still missing after installing {package}"
    );
}

/// The `condivisa` binary serving the test's database on a port of its own, as a process a
/// test can kill or run beside another; answers once `/health` does.
pub struct ServerProcess {
    pub process: std::process::Child,
    pub address: String,
}

impl ServerProcess {
    pub async fn start(app: &TestApp) -> ServerProcess {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let address = format!("127.0.0.1:{port}");
        let process = std::process::Command::new(env!("CARGO_BIN_EXE_condivisa"))
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", &app.database_url)
            .env("SECRET_KEY", SECRET_KEY)
            .env("BIND_ADDRESS", &address)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let server = ServerProcess { process, address };
        for _ in 0..200 {
            let health = app.client.get(server.url("/health")).send().await;
            if health.is_ok_and(|r| r.status().is_success()) {
                return server;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the server did not answer /health within 10 s");
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// PostgreSQL: whether, within 10 s, a backend of this database comes to wait on a lock in a
/// statement matching `pattern` (SQL `LIKE`): a server's transaction held where a test wants it.
pub async fn a_statement_waits_on_a_lock(db: &DatabaseConnection, pattern: &str) -> bool {
    let waiting = format!(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM pg_stat_activity WHERE datname = current_database() \
         AND wait_event_type = 'Lock' AND query LIKE '{pattern}'"
    );
    for _ in 0..200 {
        if scalar_i64(db, &waiting).await > 0 {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    false
}

/// PostgreSQL, after a server process was killed: waits (at most 10 s) until no other backend
/// of this database is inside a transaction — PostgreSQL rolls a dead client's back once it sees
/// the socket closed. Either way what a test then reads is what was committed.
pub async fn open_transactions_end(db: &DatabaseConnection) {
    let open = "SELECT CAST(COUNT(*) AS BIGINT) FROM pg_stat_activity \
         WHERE datname = current_database() AND xact_start IS NOT NULL AND pid <> pg_backend_pid()";
    for _ in 0..200 {
        if scalar_i64(db, open).await == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The organization a configuration belongs to.
pub async fn organization_of(app: &TestApp, configuration: i64) -> i64 {
    app.get(
        &app.admin_token,
        &format!("/api/v1/configurations/{configuration}"),
    )
    .await
    .json::<serde_json::Value>()
    .await
    .unwrap()["organization_id"]
        .as_i64()
        .unwrap()
}
