//! A member's request for a new IBAN: asked from the holder's own account, confirmed or
//! rejected by an operator of its configuration (the holder told by mail each time), withdrawn
//! while it waits, limited in number, and cleared by erasure.
use std::collections::HashMap;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, TwoTenants, assert_detail, assert_validation_error, scalar_i64, spawn_app_with,
    two_tenants,
};
use crate::holders::{IBAN, OTHER_IBAN, consents, json_of, person, register};
use crate::smtp::SmtpSink;

/// The holder of `user_a`, with a point in configuration `a1` (so its referent sees it).
async fn members_holder(app: &TestApp, tenants: &TwoTenants) -> i64 {
    let mut body = person("RSSMRA85T10A562S");
    body["user_id"] = json!(tenants.user_a.0);
    body["consents"] = consents();
    let holder = register(app, &tenants.vendor_a.1, body).await;
    let id = holder["id"].as_i64().unwrap();
    json_of(
        app.post(
            &tenants.vendor_a.1,
            "/api/v1/members/",
            &json!({"configuration_id": tenants.a1, "pod": "IT001E00112233", "role": "consumer",
                    "holder_id": id, "joined_at": "2024-02-01", "user_id": tenants.user_a.0}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    id
}

async fn ask(app: &TestApp, token: &str, holder: i64, iban: &str) -> reqwest::Response {
    app.post(
        token,
        &format!("/api/v1/holders/{holder}/iban-change-requests"),
        &json!({"iban": iban, "note": "  Conto nuovo  "}),
    )
    .await
}

async fn holder_iban(app: &TestApp, holder: i64) -> Value {
    json_of(
        app.get(&app.admin_token, &format!("/api/v1/holders/{holder}"))
            .await,
        StatusCode::OK,
    )
    .await["iban"]
        .clone()
}

async fn mailer_app(sink: &SmtpSink) -> TestApp {
    let url = sink.url();
    spawn_app_with(HashMap::from([
        ("SMTP_URL", url.as_str()),
        ("MAIL_FROM", "CER Alpha <noreply@cer-alpha.example.org>"),
    ]))
    .await
}

#[tokio::test]
async fn a_member_asks_for_a_new_iban_and_the_referent_confirms_it() {
    let sink = SmtpSink::start();
    let app = mailer_app(&sink).await;
    let tenants = two_tenants(&app).await;
    let holder = members_holder(&app, &tenants).await;
    let member = &tenants.user_a.1;
    let referent = &tenants.referent_a1.1;

    // What cannot be an IBAN, or is the one in use, is refused by field; nothing is stored.
    let bad = ask(&app, member, holder, "IT60X0542811101000000123457").await;
    let body = assert_validation_error(bad, &["body", "iban"]).await;
    assert!(body.to_string().contains("check"), "{body}");
    let same = ask(&app, member, holder, "it60 x054 2811 1010 0000 0123 456").await;
    let body = assert_validation_error(same, &["body", "iban"]).await;
    assert!(body.to_string().contains("already"), "{body}");
    assert_eq!(
        scalar_i64(&app.db, "SELECT COUNT(*) FROM iban_change_requests").await,
        0
    );

    // Operators change the IBAN on the holder; the request is the member's own.
    let forbidden = ask(&app, referent, holder, OTHER_IBAN).await;
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);

    let asked = json_of(
        ask(&app, member, holder, "it98 z123 4512 3451 2345 6789 012").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(asked["status"], "pending");
    assert_eq!(asked["iban"], OTHER_IBAN);
    assert_eq!(asked["note"], "Conto nuovo");
    assert_eq!(asked["requested_by"], tenants.user_a.0);
    let id = asked["id"].as_i64().unwrap();
    // The holder's address hears of it at once, by the last four characters only.
    let mails = sink.wait_for(1).await;
    assert!(
        mails[0].envelope_to[0].eq_ignore_ascii_case("mario.rossi@example.com"),
        "{:?}",
        mails[0].envelope_to
    );
    assert!(mails[0].body().contains("9012"), "{}", mails[0].body());
    assert!(!mails[0].body().contains(OTHER_IBAN));
    // Nothing changes until an operator confirms.
    assert_eq!(holder_iban(&app, holder).await, IBAN);

    // One request waits at a time.
    let again = ask(&app, member, holder, OTHER_IBAN).await;
    let detail = assert_detail(again, StatusCode::CONFLICT).await;
    assert!(detail.contains("withdraw"), "{detail}");

    // The referent's queue; another organization's vendor does not see it at all.
    let queue = app
        .get(referent, "/api/v1/iban-change-requests?status=pending")
        .await;
    assert_eq!(queue.headers()["x-total-count"], "1");
    let queue: Value = queue.json().await.unwrap();
    assert_eq!(queue[0]["id"], id);
    let foreign = app
        .get(&tenants.vendor_b.1, "/api/v1/iban-change-requests/")
        .await;
    assert_eq!(foreign.headers()["x-total-count"], "0");
    let path = format!("/api/v1/iban-change-requests/{id}");
    assert_eq!(
        app.get(&tenants.vendor_b.1, &path).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.post(&tenants.vendor_b.1, &format!("{path}/confirm"), &json!({}))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    // The member cannot confirm its own request.
    assert_eq!(
        app.post(member, &format!("{path}/confirm"), &json!({}))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );

    let confirmed = json_of(
        app.post(referent, &format!("{path}/confirm"), &json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(confirmed["status"], "confirmed");
    assert_eq!(confirmed["decided_by"], tenants.referent_a1.0);
    assert_eq!(holder_iban(&app, holder).await, OTHER_IBAN);
    // The holder's history names the request; the IBAN of today is the new one.
    let history = json_of(
        app.get(referent, &format!("/api/v1/holders/{holder}/history"))
            .await,
        StatusCode::OK,
    )
    .await;
    let last = history.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["changes"]["iban"], json!([IBAN, OTHER_IBAN]));
    assert_eq!(last["changes"]["iban_change_request"], id);
    assert_eq!(last["changed_by"], tenants.referent_a1.0);
    let mails = sink.wait_for(2).await;
    assert!(mails[1].body().contains("9012"), "{}", mails[1].body());

    // Decided once: neither a second confirmation nor a withdrawal applies.
    for action in ["confirm", "withdraw"] {
        let token = if action == "confirm" {
            referent
        } else {
            member
        };
        let late = app
            .post(token, &format!("{path}/{action}"), &json!({}))
            .await;
        let detail = assert_detail(late, StatusCode::CONFLICT).await;
        assert!(detail.contains("confirmed"), "{detail}");
    }
    // The member sees its requests on its holder, newest first.
    let own = json_of(
        app.get(
            member,
            &format!("/api/v1/holders/{holder}/iban-change-requests"),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(own.as_array().unwrap().len(), 1);
    assert_eq!(own[0]["status"], "confirmed");
}

#[tokio::test]
async fn a_request_is_rejected_with_a_reason_withdrawn_limited_and_erased() {
    let sink = SmtpSink::start();
    let app = mailer_app(&sink).await;
    let tenants = two_tenants(&app).await;
    let holder = members_holder(&app, &tenants).await;
    let member = &tenants.user_a.1;
    let referent = &tenants.referent_a1.1;

    let first = json_of(
        ask(&app, member, holder, OTHER_IBAN).await,
        StatusCode::CREATED,
    )
    .await;
    let reject = format!("/api/v1/iban-change-requests/{}/reject", first["id"]);
    assert_validation_error(
        app.post(referent, &reject, &json!({"reason": "   "})).await,
        &["body", "reason"],
    )
    .await;
    let rejected = json_of(
        app.post(
            referent,
            &reject,
            &json!({"reason": "Il conto non è intestato al titolare"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(
        rejected["decision_reason"],
        "Il conto non è intestato al titolare"
    );
    assert_eq!(holder_iban(&app, holder).await, IBAN);
    let mails = sink.wait_for(2).await;
    assert!(
        mails[1]
            .body()
            .contains("Il conto non è intestato al titolare"),
        "{}",
        mails[1].body()
    );

    // Withdrawn by the member while it waits; the referent cannot withdraw for it.
    for _ in 0..4 {
        let asked = json_of(
            ask(&app, member, holder, OTHER_IBAN).await,
            StatusCode::CREATED,
        )
        .await;
        let withdraw = format!("/api/v1/iban-change-requests/{}/withdraw", asked["id"]);
        assert_eq!(
            app.post(referent, &withdraw, &json!({})).await.status(),
            StatusCode::FORBIDDEN
        );
        let withdrawn = json_of(
            app.post(member, &withdraw, &json!({})).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(withdrawn["status"], "withdrawn");
    }
    // Five in 24 hours, then the member waits: each one mails the holder.
    let limited = ask(&app, member, holder, OTHER_IBAN).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: i64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=86_400).contains(&wait), "{wait}");

    // A day later the member may ask again.
    sea_orm::ConnectionTrait::execute_unprepared(
        &app.db,
        "UPDATE iban_change_requests SET requested_at = '2020-01-01 00:00:00+00:00'",
    )
    .await
    .unwrap();
    let waiting = json_of(
        ask(&app, member, holder, OTHER_IBAN).await,
        StatusCode::CREATED,
    )
    .await;

    // The holder's export carries its requests; erasure withdraws the one waiting and clears
    // the IBANs and notes of all of them.
    let export = json_of(
        app.get(member, &format!("/api/v1/holders/{holder}/export"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(export["iban_changes"].as_array().unwrap().len(), 6);
    assert_eq!(export["iban_changes"][0]["id"], waiting["id"]);
    json_of(
        app.post(
            &tenants.vendor_a.1,
            &format!("/api/v1/holders/{holder}/erase"),
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let after = json_of(
        app.get(
            &tenants.vendor_a.1,
            &format!("/api/v1/iban-change-requests/{}", waiting["id"]),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(after["status"], "withdrawn");
    assert_eq!(
        scalar_i64(
            &app.db,
            "SELECT COUNT(*) FROM iban_change_requests WHERE iban IS NOT NULL OR note IS NOT NULL \
             OR decision_reason IS NOT NULL",
        )
        .await,
        0
    );
}
