use std::collections::HashMap;

use chrono::Utc;
use condivisa::core::security::{ActingAs, JwtKeys};
use condivisa::models::enums::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

/// The first admin (user 1) as a token claims it.
const ADMIN_ACTS: ActingAs = ActingAs {
    role: Role::Admin,
    org: None,
};

async fn token_pair(app: &TestApp, path_prefix: &str) -> Value {
    let response = app
        .client
        .post(app.url(&format!("{path_prefix}/access-token")))
        .form(&[("username", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

async fn refresh(app: &TestApp, refresh_token: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/login/refresh-token"))
        .json(&json!({ "refresh_token": refresh_token }))
        .send()
        .await
        .unwrap()
}

async fn assert_unauthorized(response: reqwest::Response) {
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({ "detail": "Could not validate credentials" }));
}

#[tokio::test]
async fn login_returns_a_bearer_token_pair() {
    let app = spawn_app().await;
    let body = token_pair(&app, "/api/v1/login").await;
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 30 * 60);
    assert!(body["refresh_token"].as_str().unwrap().len() >= 32);
    let me = app
        .client
        .post(app.url("/api/v1/login/test-token"))
        .bearer_auth(body["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["email"], ADMIN_EMAIL);
    assert_eq!(me["role"], "admin");
    assert!(me.get("hashed_password").is_none());
}

#[tokio::test]
async fn login_accepts_the_email_in_any_case_and_the_username() {
    let app = spawn_app().await;
    let response = app
        .post(
            &app.admin_token,
            "/api/v1/users/",
            &json!({ "email": "Mario.Rossi@Example.com", "username": "Mario.Rossi", "password": PASSWORD }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    app.login("MARIO.ROSSI@example.COM", PASSWORD).await;
    app.login("mario.rossi", PASSWORD).await;
}

#[tokio::test]
async fn wrong_credentials_answer_400_without_telling_which_part_was_wrong() {
    let app = spawn_app().await;
    let wrong_password = app.login_response(ADMIN_EMAIL, "not-the-password").await;
    assert_eq!(
        assert_detail(wrong_password, StatusCode::BAD_REQUEST).await,
        "Incorrect email or password"
    );
    let unknown = app
        .login_response("nobody@example.com", "whatever-password")
        .await;
    assert_eq!(
        assert_detail(unknown, StatusCode::BAD_REQUEST).await,
        "Incorrect email or password"
    );
}

#[tokio::test]
async fn an_inactive_account_cannot_log_in_and_is_locked_out_at_once() {
    let app = spawn_app().await;
    let (id, token) = app.create_user("luigi@example.com", "user", None).await;
    assert_eq!(
        app.get(&token, "/api/v1/users/me").await.status(),
        StatusCode::OK
    );

    let response = app
        .delete(&app.admin_token, &format!("/api/v1/users/{id}"))
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    // The access token is still unexpired, but every request reloads the user.
    let locked = app.get(&token, "/api/v1/users/me").await;
    assert_eq!(
        assert_detail(locked, StatusCode::BAD_REQUEST).await,
        "Inactive user"
    );
    let login = app.login_response("luigi@example.com", PASSWORD).await;
    assert_eq!(
        assert_detail(login, StatusCode::BAD_REQUEST).await,
        "Inactive user"
    );
}

#[tokio::test]
async fn the_login_form_is_validated_in_fastapi_shape() {
    let app = spawn_app().await;
    let missing = app
        .client
        .post(app.url("/api/v1/login/access-token"))
        .form(&[("username", ADMIN_EMAIL)])
        .send()
        .await
        .unwrap();
    assert_validation_error(missing, &["body", "password"]).await;

    let wrong_grant = app
        .client
        .post(app.url("/api/v1/login/access-token"))
        .form(&[
            ("username", ADMIN_EMAIL),
            ("password", ADMIN_PASSWORD),
            ("grant_type", "client_credentials"),
        ])
        .send()
        .await
        .unwrap();
    assert_validation_error(wrong_grant, &["body", "grant_type"]).await;

    let as_json = app
        .client
        .post(app.url("/api/v1/login/access-token"))
        .json(&json!({ "username": ADMIN_EMAIL, "password": ADMIN_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_validation_error(as_json, &["body"]).await;
}

#[tokio::test]
async fn missing_malformed_and_tampered_tokens_are_401() {
    let app = spawn_app().await;
    let no_header = app
        .client
        .get(app.url("/api/v1/users/me"))
        .send()
        .await
        .unwrap();
    assert_unauthorized(no_header).await;

    let not_bearer = app
        .client
        .get(app.url("/api/v1/users/me"))
        .header("authorization", format!("Basic {}", app.admin_token))
        .send()
        .await
        .unwrap();
    assert_unauthorized(not_bearer).await;

    assert_unauthorized(app.get("not.a.jwt", "/api/v1/users/me").await).await;

    // Flip one character of the signature.
    let mut tampered = app.admin_token.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    assert_unauthorized(app.get(&tampered, "/api/v1/users/me").await).await;

    // Same claims, `alg: none`, no signature.
    let payload = app.admin_token.split('.').nth(1).unwrap();
    let unsigned = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
    assert_unauthorized(app.get(&unsigned, "/api/v1/users/me").await).await;

    let other_key = JwtKeys::new("some-other-secret-key-of-sufficient-length").create_access_token(
        1,
        ADMIN_ACTS,
        Utc::now(),
        600,
    );
    assert_unauthorized(app.get(&other_key, "/api/v1/users/me").await).await;
}

#[tokio::test]
async fn expired_tokens_and_refresh_tokens_used_as_access_tokens_are_401() {
    let app = spawn_app().await;
    let keys = JwtKeys::new(SECRET_KEY);
    let valid = keys.create_access_token(1, ADMIN_ACTS, Utc::now(), 600);
    assert_eq!(
        app.get(&valid, "/api/v1/users/me").await.status(),
        StatusCode::OK
    );
    let expired =
        keys.create_access_token(1, ADMIN_ACTS, Utc::now() - chrono::Duration::hours(1), 600);
    assert_unauthorized(app.get(&expired, "/api/v1/users/me").await).await;

    let pair = token_pair(&app, "/api/v1/login").await;
    assert_unauthorized(
        app.get(pair["refresh_token"].as_str().unwrap(), "/api/v1/users/me")
            .await,
    )
    .await;
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_whole_family() {
    let app = spawn_app().await;
    let first = token_pair(&app, "/api/v1/login").await;
    let first_refresh = first["refresh_token"].as_str().unwrap();

    let response = refresh(&app, first_refresh).await;
    assert_eq!(response.status(), StatusCode::OK);
    let second: Value = response.json().await.unwrap();
    let second_refresh = second["refresh_token"].as_str().unwrap();
    assert_ne!(second_refresh, first_refresh);
    let me = app
        .get(second["access_token"].as_str().unwrap(), "/api/v1/users/me")
        .await;
    assert_eq!(me.status(), StatusCode::OK);

    // The spent token comes back: somebody copied it. Both it and its successor die.
    assert_unauthorized(refresh(&app, first_refresh).await).await;
    assert_unauthorized(refresh(&app, second_refresh).await).await;

    // Another login is another family and is unaffected.
    let other = token_pair(&app, "/api/v1/login").await;
    assert_eq!(
        refresh(&app, other["refresh_token"].as_str().unwrap())
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn concurrent_refreshes_with_one_token_let_at_most_one_through() {
    let app = spawn_app().await;
    let pair = token_pair(&app, "/api/v1/login").await;
    let token = pair["refresh_token"].as_str().unwrap();
    let (a, b) = tokio::join!(refresh(&app, token), refresh(&app, token));
    let statuses = [a.status(), b.status()];
    assert!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count() <= 1,
        "{statuses:?}"
    );
    assert!(statuses.contains(&StatusCode::UNAUTHORIZED), "{statuses:?}");
}

#[tokio::test]
async fn unknown_refresh_tokens_are_401_and_malformed_bodies_422() {
    let app = spawn_app().await;
    assert_unauthorized(refresh(&app, "made-up-token").await).await;
    let empty = app
        .client
        .post(app.url("/api/v1/login/refresh-token"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_validation_error(empty, &["body", "refresh_token"]).await;
}

#[tokio::test]
async fn logout_revokes_the_refresh_token() {
    let app = spawn_app().await;
    let pair = token_pair(&app, "/api/v1/login").await;
    let token = pair["refresh_token"].as_str().unwrap();
    let response = app
        .client
        .post(app.url("/api/v1/logout"))
        .json(&json!({ "refresh_token": token }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_unauthorized(refresh(&app, token).await).await;
}

#[tokio::test]
async fn the_login_routes_also_answer_under_auth() {
    let app = spawn_app().await;
    let pair = token_pair(&app, "/api/v1/auth").await;
    let access = pair["access_token"].as_str().unwrap();
    let test = app
        .client
        .post(app.url("/api/v1/auth/test-token"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(test.status(), StatusCode::OK);
    let refreshed = app
        .client
        .post(app.url("/api/v1/auth/refresh-token"))
        .json(&json!({ "refresh_token": pair["refresh_token"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), StatusCode::OK);
    let refreshed: Value = refreshed.json().await.unwrap();
    let logout = app
        .client
        .post(app.url("/api/v1/auth/logout"))
        .json(&json!({ "refresh_token": refreshed["refresh_token"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    assert_unauthorized(refresh(&app, refreshed["refresh_token"].as_str().unwrap()).await).await;
}

#[tokio::test]
async fn changing_the_password_ends_other_sessions() {
    let app = spawn_app().await;
    let pair = token_pair(&app, "/api/v1/login").await;
    let response = app
        .patch(
            &app.admin_token,
            "/api/v1/users/me",
            &json!({ "password": "a-brand-new-password", "current_password": ADMIN_PASSWORD }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_unauthorized(refresh(&app, pair["refresh_token"].as_str().unwrap()).await).await;
    app.login(ADMIN_EMAIL, "a-brand-new-password").await;
}

#[tokio::test]
async fn the_designs_auth_login_paths_answer_and_are_documented_once() {
    let app = spawn_app().await;
    let pair = token_pair(&app, "/api/v1/auth/login").await;
    let test = app
        .client
        .post(app.url("/api/v1/auth/login/test-token"))
        .bearer_auth(pair["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(test.status(), StatusCode::OK);
    let refreshed = app
        .client
        .post(app.url("/api/v1/auth/login/refresh-token"))
        .json(&json!({ "refresh_token": pair["refresh_token"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), StatusCode::OK);

    let document = app.openapi().await;
    let paths = document["paths"].as_object().unwrap();
    assert!(
        !paths.keys().any(|p| p.starts_with("/api/v1/auth/")),
        "aliases are not separate operations"
    );
    let description = document["paths"]["/api/v1/login/access-token"]["post"]["description"]
        .as_str()
        .unwrap();
    assert!(
        description.contains("`/api/v1/auth/login/access-token`"),
        "{description}"
    );
    assert!(
        description.contains("`/api/v1/auth/access-token`"),
        "{description}"
    );
}

/// Sends a login with an `X-Forwarded-For` header.
async fn login_from(
    app: &TestApp,
    forwarded_for: &str,
    username: &str,
    password: &str,
) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/login/access-token"))
        .header("x-forwarded-for", forwarded_for)
        .form(&[("username", username), ("password", password)])
        .send()
        .await
        .unwrap()
}

fn retry_after(response: &reqwest::Response) -> i64 {
    response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn repeated_failures_lock_the_account_for_longer_each_time() {
    let app = spawn_app_with(HashMap::from([
        ("LOGIN_MAX_FAILURES", "3"),
        ("LOGIN_LOCK_BASE_SECONDS", "60"),
    ]))
    .await;
    app.create_user("victim@example.com", "user", None).await;
    app.create_user("bystander@example.com", "user", None).await;
    // Two typos, then the right password: the count starts again.
    for _ in 0..2 {
        let response = app
            .login_response("victim@example.com", "wrong password")
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }
    assert_eq!(
        app.login_response("Victim@Example.com", PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );
    for _ in 0..3 {
        let response = app
            .login_response("victim@example.com", "wrong password")
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }
    // Locked: even the right password waits, and the answer says how long.
    let locked = app.login_response("victim@example.com", PASSWORD).await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait = retry_after(&locked);
    assert!((1..=60).contains(&wait), "{wait}");
    let detail: Value = locked.json().await.unwrap();
    assert!(detail["detail"].as_str().unwrap().contains("try again in"));
    // The same login in another case is the same account; another account is not affected.
    assert_eq!(
        app.login_response("VICTIM@example.com", PASSWORD)
            .await
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        app.login_response("bystander@example.com", PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );
    // As if the lock had passed: one more failure locks for twice as long.
    use sea_orm::ConnectionTrait;
    let past = (chrono::Utc::now() - chrono::Duration::seconds(61)).to_rfc3339();
    app.db
        .execute_unprepared(&format!(
            "UPDATE login_throttles SET last_failure_at = '{past}' WHERE key = 'login:victim@example.com'"
        ))
        .await
        .unwrap();
    assert_eq!(
        app.login_response("victim@example.com", "wrong again")
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    let longer = app.login_response("victim@example.com", PASSWORD).await;
    assert_eq!(longer.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after(&longer) > 60, "{}", retry_after(&longer));
    assert_eq!(
        scalar_i64(
            &app.db,
            "SELECT CAST(failures AS BIGINT) FROM login_throttles WHERE key = 'login:victim@example.com'"
        )
        .await,
        4
    );
}

#[tokio::test]
async fn one_address_trying_many_accounts_is_locked_too() {
    let app = spawn_app_with(HashMap::from([
        ("LOGIN_MAX_FAILURES_PER_ADDRESS", "4"),
        ("TRUST_FORWARDED_FOR", "true"),
    ]))
    .await;
    // Four accounts, one wrong guess each, from one address (as the proxy saw it: the last
    // entry; the first is the client's own claim and changes nothing).
    for n in 0..4 {
        let response = login_from(
            &app,
            &format!("198.51.100.{n}, 203.0.113.7"),
            &format!("guess{n}@example.com"),
            "password",
        )
        .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }
    let locked = login_from(&app, "203.0.113.7", ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    // Another address logs in.
    let other = login_from(&app, "203.0.113.8", ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(other.status(), StatusCode::OK);
}
