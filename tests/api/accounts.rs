//! E-mail over real SMTP (an aiosmtpd server started by the test, `smtp.rs`), the outbox, and
//! getting back into an account: the reset mail, its link and page, and the lock mail.
use std::collections::HashMap;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, assert_detail, scalar_i64, spawn_app_with};
use crate::smtp::{SmtpSink, token_of};

const FROM: &str = "CER Sole <noreply@cer-sole.example.org>";

async fn app_mailing_to(sink: &SmtpSink, extra: &[(&'static str, &'static str)]) -> TestApp {
    let url = sink.url();
    let mut settings: HashMap<&str, &str> =
        HashMap::from([("SMTP_URL", url.as_str()), ("MAIL_FROM", FROM)]);
    settings.extend(extra.iter().copied());
    // `url` only needs to live until the settings are parsed.
    spawn_app_with(settings).await
}

async fn recover(app: &TestApp, email: &str) -> Value {
    let response = app
        .client
        .post(app.url(&format!("/api/v1/password-recovery/{email}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

async fn reset(app: &TestApp, token: &str, new_password: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/reset-password/"))
        .json(&json!({ "token": token, "new_password": new_password }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_forgotten_password_is_reset_through_a_mail_that_arrived_over_smtp() {
    let sink = SmtpSink::start();
    let app = app_mailing_to(&sink, &[]).await;
    app.create_user("anna@example.com", "user", None).await;
    let session = app
        .login_response("anna@example.com", PASSWORD)
        .await
        .json::<Value>()
        .await
        .unwrap();

    // Known and unknown addresses get the same answer; only the known one gets a mail.
    let known = recover(&app, "Anna@Example.com").await;
    let unknown = recover(&app, "nobody@example.com").await;
    assert_eq!(known, unknown);
    assert_eq!(known["message"], "Password recovery email sent");
    let mail = sink.wait_for(1).await.remove(0);
    assert_eq!(mail.envelope_to, vec!["anna@example.com"]);
    assert_eq!(mail.envelope_from, "noreply@cer-sole.example.org");
    assert_eq!(mail.to, "anna@example.com");
    assert!(mail.from.contains("CER Sole"), "{}", mail.from);
    assert_eq!(mail.content_type, "text/plain");
    // Italian first: the account has no holder saying otherwise.
    assert_eq!(mail.subject, "Reimposta la password di condivisa");
    assert!(mail.body().contains("entro 60 minuti"), "{}", mail.body());
    let link = mail.link(&app.url("/reset-password?token="));

    // The link opens the server's own page, with the token in its form.
    let page = app.client.get(&link).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    let html = page.text().await.unwrap();
    let token = token_of(&link);
    assert!(
        html.contains(&format!("name=\"token\" value=\"{token}\"")),
        "{html}"
    );

    // The page posts the new password twice; a mismatch is said, and nothing changes.
    let mismatch = app
        .client
        .post(app.url("/reset-password"))
        .form(&[
            ("token", token.as_str()),
            ("new_password", "a brand new password"),
            ("confirm_password", "another password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(mismatch.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(mismatch.text().await.unwrap().contains("non coincidono"));
    let done = app
        .client
        .post(app.url("/reset-password"))
        .form(&[
            ("token", token.as_str()),
            ("new_password", "a brand new password"),
            ("confirm_password", "a brand new password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::OK);
    assert!(
        done.text()
            .await
            .unwrap()
            .contains("la password è cambiata")
    );

    // The new password works, the old one does not, the old sessions are over.
    assert_eq!(
        app.login_response("anna@example.com", PASSWORD)
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    app.login("anna@example.com", "a brand new password").await;
    let refreshed = app
        .client
        .post(app.url("/api/v1/login/refresh-token"))
        .json(&json!({ "refresh_token": session["refresh_token"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), StatusCode::UNAUTHORIZED);

    // The link is single-use.
    let again = reset(&app, &token, "yet another password").await;
    let detail = assert_detail(again, StatusCode::BAD_REQUEST).await;
    assert!(detail.contains("already used"), "{detail}");
    // The token is stored only as its hash.
    assert_eq!(
        scalar_i64(
            &app.db,
            &format!("SELECT COUNT(*) FROM one_time_tokens WHERE token_hash = '{token}'")
        )
        .await,
        0
    );
}

#[tokio::test]
async fn reset_tokens_expire_are_spent_by_a_reset_and_are_rate_limited() {
    let sink = SmtpSink::start();
    let app = app_mailing_to(&sink, &[]).await;
    app.create_user("bruno@example.com", "user", None).await;
    recover(&app, "bruno@example.com").await;
    recover(&app, "bruno@example.com").await;
    let mails = sink.wait_for(2).await;
    let first = mails[0].token(&app.url("/reset-password?token="));
    let second = mails[1].token(&app.url("/reset-password?token="));
    assert_ne!(first, second);

    // An expired link is refused and says so.
    sea_orm::ConnectionTrait::execute_unprepared(
        &app.db,
        "UPDATE one_time_tokens SET expires_at = created_at WHERE id = (SELECT MIN(id) FROM one_time_tokens)",
    )
    .await
    .unwrap();
    let expired = reset(&app, &first, "a fine new password").await;
    assert!(
        assert_detail(expired, StatusCode::BAD_REQUEST)
            .await
            .contains("expired")
    );
    // Unknown tokens and short passwords.
    let unknown = reset(&app, "not-a-token", "a fine new password").await;
    assert_eq!(
        assert_detail(unknown, StatusCode::BAD_REQUEST).await,
        "Invalid token"
    );
    let short = reset(&app, &second, "short").await;
    assert_eq!(short.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // A third request in the hour still mails; a fourth does not.
    recover(&app, "bruno@example.com").await;
    let third = sink.wait_for(3).await[2].token(&app.url("/reset-password?token="));
    recover(&app, "bruno@example.com").await;
    assert_eq!(
        scalar_i64(&app.db, "SELECT COUNT(*) FROM mail_outbox").await,
        3,
        "the fourth request of the hour queued a mail"
    );
    // Using one link spends the others of the account.
    assert_eq!(
        reset(&app, &second, "a fine new password").await.status(),
        StatusCode::OK
    );
    let spent = reset(&app, &third, "another fine password").await;
    assert!(
        assert_detail(spent, StatusCode::BAD_REQUEST)
            .await
            .contains("already used")
    );
}

#[tokio::test]
async fn the_owner_of_a_locked_account_is_told_by_mail_and_a_reset_lifts_the_lock() {
    let sink = SmtpSink::start();
    let app = app_mailing_to(&sink, &[("LOGIN_MAX_FAILURES", "3")]).await;
    app.create_user("carla@example.com", "user", None).await;
    for _ in 0..3 {
        let response = app.login_response("carla@example.com", "wrong guess").await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }
    assert_eq!(
        app.login_response("carla@example.com", PASSWORD)
            .await
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    let mail = sink.wait_for(1).await.remove(0);
    assert_eq!(mail.envelope_to, vec!["carla@example.com"]);
    assert!(mail.subject.contains("Troppi accessi"), "{}", mail.subject);
    assert!(mail.body().contains("3 tentativi"), "{}", mail.body());
    // Further failures while locked do not mail again.
    app.login_response("carla@example.com", "wrong guess").await;
    assert_eq!(
        scalar_i64(&app.db, "SELECT COUNT(*) FROM mail_outbox").await,
        1
    );

    // The mail leads to the reset page; a reset lifts the lock.
    let page_link = mail.link(&app.url("/reset-password"));
    let page = app.client.get(&page_link).send().await.unwrap();
    assert!(page.text().await.unwrap().contains("name=\"email\""));
    let asked = app
        .client
        .post(app.url("/reset-password"))
        .header("accept-language", "en-GB,en;q=0.9")
        .form(&[("email", "carla@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(asked.status(), StatusCode::OK);
    assert!(
        asked
            .text()
            .await
            .unwrap()
            .contains("the link is on its way")
    );
    let reset_mail = sink.wait_for(2).await.remove(1);
    let token = reset_mail.token(&app.url("/reset-password?token="));
    assert_eq!(
        reset(&app, &token, "carla's new password").await.status(),
        StatusCode::OK
    );
    app.login("carla@example.com", "carla's new password").await;
}

/// A free loopback port with nothing listening on it (yet).
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn mail_waits_in_the_outbox_while_smtp_is_down_and_an_admin_sees_and_requeues_it() {
    let port = closed_port();
    let url = format!("smtp://127.0.0.1:{port}");
    let app = spawn_app_with(HashMap::from([
        ("SMTP_URL", url.as_str()),
        ("MAIL_FROM", FROM),
        ("MAIL_MAX_ATTEMPTS", "1"),
    ]))
    .await;
    let (_, user_token) = app.create_user("dario@example.com", "user", None).await;
    recover(&app, "dario@example.com").await;

    // The one attempt fails (nothing listens): the message is failed, with the reason.
    let failed = loop {
        let response = app
            .get(&app.admin_token, "/api/v1/mail/outbox?status=failed")
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let rows: Vec<Value> = response.json().await.unwrap();
        if let Some(row) = rows.into_iter().next() {
            break row;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(failed["recipient"], "dario@example.com");
    assert_eq!(failed["attempts"], 1);
    assert!(!failed["last_error"].as_str().unwrap().is_empty());
    // Only admins see the outbox.
    let denied = app.get(&user_token, "/api/v1/mail/outbox").await;
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);

    // SMTP comes back on that port; the admin queues the message again and it goes.
    let sink = SmtpSink::start_with(&["--port", &port.to_string()]);
    let id = failed["id"].as_i64().unwrap();
    let requeued = app
        .post(
            &app.admin_token,
            &format!("/api/v1/mail/outbox/{id}/retry"),
            &json!({}),
        )
        .await;
    assert_eq!(requeued.status(), StatusCode::OK);
    let mail = sink.wait_for(1).await.remove(0);
    assert_eq!(mail.envelope_to, vec!["dario@example.com"]);
    let again = app
        .post(
            &app.admin_token,
            &format!("/api/v1/mail/outbox/{id}/retry"),
            &json!({}),
        )
        .await;
    // Sent meanwhile or still pending: either way not failed, so not requeued.
    assert_eq!(again.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_busy_smtp_server_is_retried_after_a_wait() {
    let sink = SmtpSink::start_with(&["--reject-first", "1"]);
    let app = app_mailing_to(&sink, &[]).await;
    app.create_user("elena@example.com", "user", None).await;
    recover(&app, "elena@example.com").await;
    // The 451 is recorded, and the next attempt waits its 30 s.
    let pending = loop {
        let rows: Vec<Value> = app
            .get(&app.admin_token, "/api/v1/mail/outbox?status=pending")
            .await
            .json()
            .await
            .unwrap();
        if rows
            .first()
            .is_some_and(|row| row["attempts"] == 1 && !row["last_error"].is_null())
        {
            break rows[0].clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(
        pending["last_error"].as_str().unwrap().contains("451"),
        "{pending}"
    );
    let next: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(pending["next_attempt_at"].clone()).unwrap();
    let created: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(pending["created_at"].clone()).unwrap();
    assert!(next - created >= chrono::Duration::seconds(29), "{pending}");
    // Due now (as if the wait were over): the worker of another instance delivers it.
    sea_orm::ConnectionTrait::execute_unprepared(
        &app.db,
        "UPDATE mail_outbox SET next_attempt_at = created_at",
    )
    .await
    .unwrap();
    let url = sink.url();
    app.spawn_instance(HashMap::from([
        ("SMTP_URL", url.as_str()),
        ("MAIL_FROM", FROM),
        ("AUTO_MIGRATE", "false"),
    ]))
    .await;
    let mail = sink.wait_for(1).await.remove(0);
    assert_eq!(mail.envelope_to, vec!["elena@example.com"]);
}

#[tokio::test]
async fn several_instances_send_each_message_once() {
    let sink = SmtpSink::start();
    let app = app_mailing_to(&sink, &[]).await;
    let url = sink.url();
    for _ in 0..2 {
        app.spawn_instance(HashMap::from([
            ("SMTP_URL", url.as_str()),
            ("MAIL_FROM", FROM),
            ("AUTO_MIGRATE", "false"),
            ("MAIL_POLL_SECONDS", "1"),
        ]))
        .await;
    }
    let count = 30;
    for n in 0..count {
        app.create_user(&format!("member{n}@example.com"), "user", None)
            .await;
    }
    // Queued through the first instance; three workers race for them.
    for n in 0..count {
        recover(&app, &format!("member{n}@example.com")).await;
    }
    let mut recipients: Vec<String> = sink
        .wait_for(count)
        .await
        .into_iter()
        .flat_map(|mail| mail.envelope_to)
        .collect();
    recipients.sort();
    let mut expected: Vec<String> = (0..count)
        .map(|n| format!("member{n}@example.com"))
        .collect();
    expected.sort();
    assert_eq!(recipients, expected);
    // Every message is marked sent once all arrived (and nothing more arrives).
    loop {
        let sent = scalar_i64(
            &app.db,
            "SELECT COUNT(*) FROM mail_outbox WHERE status = 'sent'",
        )
        .await;
        if sent == count as i64 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(sink.received().len(), count);
}

#[tokio::test]
async fn without_smtp_the_outbox_keeps_the_messages() {
    let app = spawn_app_with(HashMap::new()).await;
    app.create_user("fabio@example.com", "user", None).await;
    recover(&app, "fabio@example.com").await;
    let rows: Vec<Value> = app
        .get(&app.admin_token, "/api/v1/mail/outbox")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["status"], "pending");
    assert_eq!(rows[0]["attempts"], 0);
    assert_eq!(rows[0]["template"], "password_reset");
    assert!(
        rows[0]["body"]
            .as_str()
            .unwrap()
            .contains("/reset-password?token=")
    );
}

#[tokio::test]
async fn housekeeping_forgets_old_mail_dead_links_and_unconfirmed_join_requests() {
    use condivisa::housekeeping::{Retention, Swept, sweep};
    use sea_orm::ConnectionTrait;
    let app = spawn_app_with(HashMap::new()).await;
    app.create_user("gina@example.com", "user", None).await;
    recover(&app, "gina@example.com").await;
    recover(&app, "gina@example.com").await;
    // One message delivered long ago, one yesterday; one link long expired, one fresh.
    let (old, recent) = {
        let ids: Vec<Value> = app
            .get(&app.admin_token, "/api/v1/mail/outbox")
            .await
            .json()
            .await
            .unwrap();
        (
            ids[0]["id"].as_i64().unwrap(),
            ids[1]["id"].as_i64().unwrap(),
        )
    };
    let ago = |days: i64| (chrono::Utc::now() - chrono::Duration::days(days)).to_rfc3339();
    for (id, days) in [(old, 100), (recent, 1)] {
        app.db
            .execute_unprepared(&format!(
                "UPDATE mail_outbox SET status = 'sent', sent_at = '{}' WHERE id = {id}",
                ago(days)
            ))
            .await
            .unwrap();
    }
    app.db
        .execute_unprepared(&format!(
            "UPDATE one_time_tokens SET expires_at = '{}' WHERE id = (SELECT MIN(id) FROM one_time_tokens)",
            ago(8)
        ))
        .await
        .unwrap();
    let retention = Retention {
        sent_mail: chrono::Duration::days(90),
        expired_links: chrono::Duration::days(7),
        unconfirmed_join_requests: chrono::Duration::days(30),
    };
    let swept = sweep(&app.db, &retention, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(
        swept,
        Swept {
            sent_mail: 1,
            expired_links: 1,
            unconfirmed_join_requests: 0,
            ended_sessions: 0,
        }
    );
    let left: Vec<Value> = app
        .get(&app.admin_token, "/api/v1/mail/outbox")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["id"], recent);
    assert_eq!(
        scalar_i64(&app.db, "SELECT COUNT(*) FROM one_time_tokens").await,
        1
    );
    // A second sweep finds nothing more.
    let again = sweep(&app.db, &retention, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(again, Swept::default());
}
