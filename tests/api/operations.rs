use std::collections::HashMap;

use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
}

#[tokio::test]
async fn health_answers_ok() {
    let app = spawn_app().await;

    let response = app.client.get(app.url("/health")).send().await.unwrap();

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({ "status": "ok" })
    );
}

#[tokio::test]
async fn ready_answers_ok_when_the_database_answers() {
    let app = spawn_app().await;

    let response = app.client.get(app.url("/ready")).send().await.unwrap();

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({ "status": "ready" })
    );
}

#[tokio::test]
async fn metrics_are_prometheus_text_with_route_templates() {
    let app = spawn_app().await;
    let health = app.client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let id = app.create_organization("Misurata").await;
    let read = app
        .get(&app.admin_token, &format!("/api/v1/organizations/{id}"))
        .await;
    assert_eq!(read.status(), StatusCode::OK);

    let response = app.client.get(app.url("/metrics")).send().await.unwrap();

    assert_eq!(response.status(), StatusCode::OK);
    let content_type = header(&response, "content-type")
        .unwrap_or_default()
        .to_string();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = response.text().await.unwrap();
    let samples: Vec<&str> = text.lines().filter(|line| !line.starts_with('#')).collect();
    let health_line = samples
        .iter()
        .find(|line| {
            line.starts_with("http_requests_total{")
                && line.contains(r#"method="GET""#)
                && line.contains(r#"route="/health""#)
                && line.contains(r#"status="200""#)
        })
        .unwrap_or_else(|| panic!("no http_requests_total sample for /health in:\n{text}"));
    let count: f64 = health_line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(count >= 1.0, "{health_line}");
    assert!(
        samples
            .iter()
            .any(|line| line.starts_with("http_requests_total{")
                && line.contains(r#"route="/api/v1/organizations/{id}""#)),
        "the route template, not the raw path, labels the series:\n{text}"
    );
    assert!(
        !text.contains(&format!("/api/v1/organizations/{id}\"")),
        "raw ids must not become labels:\n{text}"
    );
    assert!(
        text.contains("# TYPE http_requests_total counter")
            || text.contains("# TYPE http_requests counter")
    );
    assert!(
        text.contains("http_request_duration_seconds_bucket{"),
        "{text}"
    );
    assert!(
        samples
            .iter()
            .any(|line| line.starts_with(r#"db_pool_connections{state="max"} 5"#)),
        "the pool gauge reports the configured size:\n{text}"
    );
    assert!(
        samples
            .iter()
            .any(|line| line.starts_with(r#"db_pool_connections{state="idle"}"#)),
        "{text}"
    );
}

#[tokio::test]
async fn unknown_route_answers_json_not_found() {
    let app = spawn_app().await;

    for path in ["/does-not-exist", "/api/v1/does-not-exist"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "GET {path}");
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            json!({ "detail": "Not Found" }),
            "GET {path}"
        );
    }
}

#[tokio::test]
async fn wrong_method_answers_json_method_not_allowed() {
    let app = spawn_app().await;

    let response = app.client.delete(app.url("/health")).send().await.unwrap();

    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({ "detail": "Method Not Allowed" })
    );
}

#[tokio::test]
async fn responses_carry_a_generated_request_id() {
    let app = spawn_app().await;

    let first = app.client.get(app.url("/health")).send().await.unwrap();
    let second = app
        .client
        .get(app.url("/does-not-exist"))
        .send()
        .await
        .unwrap();

    let first_id = header(&first, "x-request-id")
        .expect("a generated request id")
        .to_string();
    let second_id = header(&second, "x-request-id")
        .expect("a request id on errors too")
        .to_string();
    assert!(uuid::Uuid::parse_str(&first_id).is_ok(), "{first_id}");
    assert!(uuid::Uuid::parse_str(&second_id).is_ok(), "{second_id}");
    assert_ne!(first_id, second_id);
}

#[tokio::test]
async fn incoming_request_id_is_echoed() {
    let app = spawn_app().await;

    let response = app
        .client
        .get(app.url("/health"))
        .header("x-request-id", "my-id-123")
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "x-request-id"), Some("my-id-123"));
}

#[tokio::test]
async fn security_headers_are_set() {
    let app = spawn_app().await;

    let api = app.get(&app.admin_token, "/api/v1/organizations/").await;
    let not_found = app.client.get(app.url("/nowhere")).send().await.unwrap();

    for response in [&api, &not_found] {
        assert_eq!(header(response, "x-content-type-options"), Some("nosniff"));
        assert_eq!(header(response, "x-frame-options"), Some("DENY"));
        assert_eq!(header(response, "referrer-policy"), Some("no-referrer"));
        assert_eq!(header(response, "cache-control"), Some("no-store"));
        let csp = header(response, "content-security-policy").unwrap_or_default();
        assert!(csp.contains("default-src 'none'"), "{csp}");
    }
}

#[tokio::test]
async fn body_over_the_configured_limit_is_rejected() {
    let app = spawn_app_with(HashMap::from([("REQUEST_BODY_LIMIT_BYTES", "2048")])).await;
    let body = json!({ "name": "Troppo Grande", "description": "x".repeat(4000) });

    let response = app
        .post(&app.admin_token, "/api/v1/organizations/", &body)
        .await;

    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = response.json().await.unwrap();
    assert!(body["detail"].is_string(), "{body}");
    let listed: Value = app
        .get(&app.admin_token, "/api/v1/organizations/")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["total"], 0, "nothing was created");

    let small = app
        .post(
            &app.admin_token,
            "/api/v1/organizations/",
            &json!({ "name": "Piccola" }),
        )
        .await;
    assert_eq!(
        small.status(),
        StatusCode::CREATED,
        "a body under the limit still passes"
    );
}

#[tokio::test]
async fn body_over_the_default_limit_is_rejected() {
    let app = spawn_app().await;
    let body = json!({ "name": "Enorme", "description": "x".repeat(2 * 1024 * 1024) });

    let response = app
        .post(&app.admin_token, "/api/v1/organizations/", &body)
        .await;

    let detail = assert_detail(response, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert!(!detail.is_empty());
}

#[tokio::test]
async fn swagger_ui_is_served_without_a_cdn() {
    let app = spawn_app().await;

    let response = app.client.get(app.url("/docs/")).send().await.unwrap();

    assert_eq!(response.status(), StatusCode::OK);
    let content_type = header(&response, "content-type")
        .unwrap_or_default()
        .to_string();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let html = response.text().await.unwrap().to_lowercase();
    assert!(html.contains("swagger"), "{html}");
    for cdn in ["cdn", "unpkg", "jsdelivr"] {
        assert!(
            !html.contains(cdn),
            "the page loads assets from a CDN ({cdn}):\n{html}"
        );
    }
    assert!(
        !html.contains("src=\"http://") && !html.contains("src=\"https://"),
        "{html}"
    );
    assert!(
        !html.contains("href=\"http://") && !html.contains("href=\"https://"),
        "{html}"
    );

    let initializer = app
        .client
        .get(app.url("/docs/swagger-initializer.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(initializer.status(), StatusCode::OK);
    let script = initializer.text().await.unwrap();
    assert!(script.contains("/api/v1/openapi.json"), "{script}");
}

#[tokio::test]
async fn openapi_documents_every_route_and_the_password_flow() {
    let app = spawn_app().await;

    let spec = app.openapi().await;
    assert!(
        spec["openapi"]
            .as_str()
            .unwrap_or_default()
            .starts_with('3'),
        "{}",
        spec["openapi"]
    );

    let schemes = spec["components"]["securitySchemes"]
        .as_object()
        .expect("security schemes");
    assert!(
        schemes.values().any(|scheme| scheme["type"] == "oauth2"
            && scheme["flows"]["password"]["tokenUrl"] == "/api/v1/login/access-token"),
        "no OAuth2 password scheme in {schemes:?}"
    );

    // Every `$ref` names a schema the document defines.
    fn refs(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, inner) in map {
                    match (key.as_str(), inner.as_str()) {
                        ("$ref", Some(target)) => out.push(target.to_string()),
                        _ => refs(inner, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| refs(item, out)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    refs(&spec, &mut found);
    let dangling: Vec<&String> = found
        .iter()
        .filter(|target| {
            let name = target.trim_start_matches("#/components/schemas/");
            spec["components"]["schemas"][name].is_null()
        })
        .collect();
    assert!(dangling.is_empty(), "undefined schemas: {dangling:?}");

    let paths = spec["paths"].as_object().expect("paths");
    let expected = [
        "/api/v1/login/access-token",
        "/api/v1/login/test-token",
        "/api/v1/login/refresh-token",
        "/api/v1/logout",
        "/api/v1/users/",
        "/api/v1/users/me",
        "/api/v1/users/{id}",
        "/api/v1/organizations/",
        "/api/v1/organizations/{id}",
        "/api/v1/configurations/",
        "/api/v1/configurations/{id}",
        "/api/v1/members/",
        "/api/v1/members/{id}",
        "/api/v1/plants/",
        "/api/v1/plants/{id}",
        "/api/v1/community-users/",
        "/api/v1/community-users/check",
        "/api/v1/community-users/{id}",
        "/api/v1/transactions/",
        "/api/v1/transactions/{id}",
        "/api/v1/transactions/{id}/settle",
        "/api/v1/transactions/{id}/cancel",
        "/api/v1/configurations/{id}/policy",
        "/api/v1/configurations/{id}/policy/versions",
        "/api/v1/configurations/{id}/settlements",
        "/api/v1/settlements/{id}",
        "/api/v1/settlements/{id}/finalize",
        "/api/v1/settlements/{id}/members.csv",
        "/api/v1/members/{id}/statement",
        "/api/v1/members/{id}/statement.csv",
        "/health",
        "/ready",
        "/metrics",
    ];
    for path in expected {
        assert!(
            paths.contains_key(path),
            "{path} is not documented; documented: {:?}",
            paths.keys()
        );
    }

    let methods = ["get", "post", "put", "patch", "delete"];
    let mut operation_ids = Vec::new();
    for (path, item) in paths {
        for method in methods {
            let Some(operation) = item.get(method) else {
                continue;
            };
            if let Some(id) = operation["operationId"].as_str() {
                operation_ids.push(id.to_string());
            }
            // Every resource route needs a bearer token; only the login routes do not.
            let public = path.starts_with("/api/v1/login/")
                || path.starts_with("/api/v1/auth/")
                || path == "/api/v1/logout"
                || path.starts_with("/api/v1/password-recovery/")
                || path == "/api/v1/reset-password/"
                || path == "/api/v1/join-requests/verify"
                || (method == "post" && path == "/api/v1/configurations/{id}/join-requests")
                || !path.starts_with("/api/v1/");
            if public {
                continue;
            }
            let responses = operation["responses"].as_object().expect("responses");
            assert!(
                responses.contains_key("401"),
                "{method} {path} does not document 401"
            );
            // A 422 is possible wherever the client sends input (path, query or body).
            let takes_input = operation["parameters"]
                .as_array()
                .is_some_and(|p| !p.is_empty())
                || operation.get("requestBody").is_some();
            if takes_input {
                assert!(
                    responses.contains_key("422"),
                    "{method} {path} does not document 422"
                );
            }
        }
    }
    let count = operation_ids.len();
    operation_ids.sort();
    operation_ids.dedup();
    assert_eq!(operation_ids.len(), count, "operation ids are unique");
}

#[tokio::test]
async fn unreachable_database_answers_service_unavailable() {
    let app = spawn_app().await;
    let db = app.db.clone();
    db.close().await.unwrap();

    let me = app.get(&app.admin_token, "/api/v1/users/me").await;
    assert_eq!(me.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        me.json::<Value>().await.unwrap(),
        json!({ "detail": "Service unavailable" })
    );

    let ready = app.client.get(app.url("/ready")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        ready.json::<Value>().await.unwrap(),
        json!({ "detail": "Service unavailable" })
    );

    let health = app.client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(
        health.status(),
        StatusCode::OK,
        "liveness does not depend on the database"
    );
}

#[tokio::test]
async fn cors_preflight_allows_configured_origins_only() {
    let app = spawn_app_with(HashMap::from([("CORS_ORIGINS", "https://app.example.org")])).await;
    let preflight = |origin: &str| {
        app.client
            .request(Method::OPTIONS, app.url("/api/v1/organizations/"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .send()
    };

    let allowed = preflight("https://app.example.org").await.unwrap();
    assert!(allowed.status().is_success(), "{}", allowed.status());
    assert_eq!(
        header(&allowed, "access-control-allow-origin"),
        Some("https://app.example.org")
    );
    let methods = header(&allowed, "access-control-allow-methods")
        .unwrap_or_default()
        .to_uppercase();
    assert!(methods.contains("POST"), "{methods}");

    let refused = preflight("https://evil.example.com").await.unwrap();
    assert_eq!(header(&refused, "access-control-allow-origin"), None);
}

/// A query cut while it runs — its PostgreSQL connection terminated (a failover, a restart),
/// or SQLite locked past its busy timeout — answers 503 "Service unavailable", never 500, and
/// the same request succeeds once the database is back.
#[tokio::test]
async fn a_query_cut_while_it_runs_answers_503_and_the_next_one_succeeds() {
    use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};
    let app = spawn_app().await;
    let organization = app.create_organization("Energia Interrotta").await;
    let configuration = app
        .create_configuration(organization, "CER Interrotta", None)
        .await;
    let member = json!({ "configuration_id": configuration, "pod": "IT001E00999001",
                         "role": "consumer", "holder_type": "natural_person", "joined_at": "2024-02-01" });
    let backend = app.db.get_database_backend();

    // Hold the configuration's write lock, so that adding a member waits inside its query.
    let holder = app.db.begin().await.unwrap();
    match backend {
        DbBackend::Postgres => {
            holder
                .execute_raw(Statement::from_string(
                    backend,
                    format!(
                        "SELECT pg_advisory_xact_lock(hashtext('configuration:{configuration}'))"
                    ),
                ))
                .await
                .unwrap();
        }
        _ => {
            holder
                .execute_unprepared("UPDATE organizations SET id = id WHERE 1 = 0")
                .await
                .unwrap();
        }
    }
    let waiting = {
        let client = app.client.clone();
        let url = app.url("/api/v1/members/");
        let token = app.admin_token.clone();
        let body = member.clone();
        tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
        })
    };
    if backend == DbBackend::Postgres {
        // The request's backend, once it waits on the lock; then its connection is cut.
        let mut pid = None;
        for _ in 0..400 {
            let row = app
                .db
                .query_one_raw(Statement::from_string(
                    backend,
                    "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' \
                     AND wait_event = 'advisory' AND datname = current_database()",
                ))
                .await
                .unwrap();
            if let Some(row) = row {
                pid = Some(row.try_get::<i32>("", "pid").unwrap());
                break;
            }
            tokio::task::yield_now().await;
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        let pid = pid.expect("the request waits on the lock within 10 s");
        app.db
            .execute_raw(Statement::from_string(
                backend,
                format!("SELECT pg_terminate_backend({pid})"),
            ))
            .await
            .unwrap();
    }
    // SQLite: the request gives up after the busy timeout (10 s) while the lock is held.
    let response = waiting.await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({ "detail": "Service unavailable" }));
    holder.rollback().await.unwrap();

    let again = app
        .post(&app.admin_token, "/api/v1/members/", &member)
        .await;
    assert_eq!(again.status(), StatusCode::CREATED);
}

/// PostgreSQL goes away under steady load — its database stops taking connections and every
/// open one is cut — and comes back: meanwhile every answer is 503 "Service unavailable" (never
/// 500) and `/ready` says not ready; the first request after the return succeeds, without a
/// restart; nothing acknowledged before is lost. (PostgreSQL only: an embedded SQLite file has
/// no server to lose.)
#[tokio::test]
async fn a_database_outage_under_load_answers_503_and_the_first_request_after_succeeds() {
    use sea_orm::{ConnectionTrait, DbBackend};
    let app = spawn_app().await;
    if app.db.get_database_backend() != DbBackend::Postgres {
        return;
    }
    let name = app.database_url.rsplit('/').next().unwrap().to_string();
    let admin = sea_orm::Database::connect(std::env::var("TEST_DATABASE_URL").unwrap())
        .await
        .unwrap();
    for n in 0..3 {
        app.create_organization(&format!("Prima del guasto {n}"))
            .await;
    }

    // Steady load: the organizations list, one request after another, until told to stop
    // (at most 20,000 requests).
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = {
        let (client, url, token, stop) = (
            app.client.clone(),
            app.url("/api/v1/organizations/"),
            app.admin_token.clone(),
            stop.clone(),
        );
        tokio::spawn(async move {
            let mut statuses = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && statuses.len() < 20_000 {
                let response = client.get(&url).bearer_auth(&token).send().await.unwrap();
                statuses.push(response.status().as_u16());
            }
            statuses
        })
    };
    let ok_before = app.get(&app.admin_token, "/api/v1/organizations/").await;
    assert_eq!(ok_before.status(), StatusCode::OK);

    // The outage.
    admin
        .execute_unprepared(&format!(
            "ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS false"
        ))
        .await
        .unwrap();
    admin
        .execute_unprepared(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
        ))
        .await
        .unwrap();
    let mut during = None;
    for _ in 0..200 {
        let response = app.get(&app.admin_token, "/api/v1/organizations/").await;
        if response.status() == StatusCode::SERVICE_UNAVAILABLE {
            during = Some(response.json::<Value>().await.unwrap());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(during, Some(json!({ "detail": "Service unavailable" })));
    let ready = app.client.get(app.url("/ready")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);

    // The return: the very next request succeeds.
    admin
        .execute_unprepared(&format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS true"))
        .await
        .unwrap();
    let after = app.get(&app.admin_token, "/api/v1/organizations/").await;
    assert_eq!(after.status(), StatusCode::OK);
    let ready = app.client.get(app.url("/ready")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let statuses = load.await.unwrap();
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 503),
        "answers other than 200 and 503: {:?}",
        statuses
            .iter()
            .filter(|s| **s != 200 && **s != 503)
            .collect::<Vec<_>>()
    );
    let listed: Value = after.json().await.unwrap();
    assert_eq!(
        listed["total"], 3,
        "nothing acknowledged before the outage was lost"
    );
}
