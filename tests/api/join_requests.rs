//! Joining a configuration: the public form, the confirmation mail over real SMTP and its
//! page, the referent's review, the mails that tell the applicant, the limits.
use std::collections::HashMap;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, assert_detail, assert_validation_error, scalar_i64, spawn_app_with, two_tenants,
};
use crate::smtp::{SmtpSink, token_of};

const FROM: &str = "CER Alpha <noreply@cer-alpha.example.org>";

pub(crate) fn applicant(fiscal_code: &str, pods: &[&str]) -> Value {
    json!({
        "kind": "natural_person", "first_name": "Giulia", "last_name": "Bianchi",
        "fiscal_code": fiscal_code, "street": "Via Garibaldi 12", "postcode": "41042",
        "municipality": "Fiorano Modenese", "province": "MO",
        "email": "giulia.bianchi@example.com", "phone": "+39 347 765 4321",
        "iban": "IT60 X054 2811 1010 0000 0123 456", "language": "en",
        "points": pods.iter().map(|pod| json!({"pod": pod, "role": "consumer"})).collect::<Vec<_>>(),
        "consents": [{"kind": "privacy_notice", "document_version": "2025-03"},
                     {"kind": "statute", "document_version": "2025-03"}]
    })
}

pub(crate) async fn open_to_requests(app: &TestApp, configuration: i64) {
    let response = app
        .patch(
            &app.admin_token,
            &format!("/api/v1/configurations/{configuration}"),
            &json!({ "accepts_join_requests": true }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

pub(crate) async fn submit(app: &TestApp, configuration: i64, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url(&format!(
            "/api/v1/configurations/{configuration}/join-requests"
        )))
        .json(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_newcomer_joins_through_a_request_confirmed_by_mail_and_approved() {
    let sink = SmtpSink::start();
    let url = sink.url();
    let app = spawn_app_with(HashMap::from([
        ("SMTP_URL", url.as_str()),
        ("MAIL_FROM", FROM),
    ]))
    .await;
    let tenants = two_tenants(&app).await;
    let referent = &tenants.referent_a1.1;

    // Closed to requests by default: the form does not even say the configuration exists.
    let closed = submit(
        &app,
        tenants.a1,
        &applicant("BNCGLI90A41H501E", &["IT001E00076543"]),
    )
    .await;
    assert_eq!(closed.status(), StatusCode::NOT_FOUND);
    open_to_requests(&app, tenants.a1).await;

    let body = applicant("BNCGLI90A41H501E", &["IT001E00076543", "it001e00076544"]);
    let received = submit(&app, tenants.a1, &body).await;
    assert_eq!(received.status(), StatusCode::ACCEPTED);
    let receipt: Value = received.json().await.unwrap();
    assert_eq!(receipt["status"], "unverified");
    let id = receipt["id"].as_i64().unwrap();

    // Not confirmed yet: listed, but cannot be approved.
    let listed = app
        .get(
            referent,
            &format!("/api/v1/configurations/{}/join-requests", tenants.a1),
        )
        .await;
    assert_eq!(listed.status(), StatusCode::OK);
    let rows: Vec<Value> = listed.json().await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["iban"], "IT60X0542811101000000123456");
    assert_eq!(rows[0]["points"][1]["pod"], "IT001E00076544");
    let early = app
        .post(
            referent,
            &format!("/api/v1/join-requests/{id}/approve"),
            &json!({}),
        )
        .await;
    assert!(
        assert_detail(early, StatusCode::CONFLICT)
            .await
            .contains("not confirmed")
    );

    // The confirmation mail, in the applicant's language, links to the server's page; opening
    // the page changes nothing, its button confirms.
    let mail = sink.wait_for(1).await.remove(0);
    assert_eq!(mail.envelope_to, vec!["giulia.bianchi@example.com"]);
    assert_eq!(mail.subject, "Confirm your request to join CER Alpha 1");
    let link = mail.link(&app.url("/join-requests/verify?token="));
    let page = app.client.get(&link).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let token = token_of(&link);
    let token = token.as_str();
    assert!(
        page.text()
            .await
            .unwrap()
            .contains(&format!("value=\"{token}\""))
    );
    let still: Value = app
        .get(referent, &format!("/api/v1/join-requests/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(still["status"], "unverified");
    let confirmed = app
        .client
        .post(app.url("/join-requests/verify"))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.status(), StatusCode::OK);
    assert!(confirmed.text().await.unwrap().contains("CER Alpha 1"));
    // The link works once.
    let again = app
        .client
        .post(app.url("/api/v1/join-requests/verify"))
        .json(&json!({ "token": token }))
        .send()
        .await
        .unwrap();
    assert!(
        assert_detail(again, StatusCode::BAD_REQUEST)
            .await
            .contains("already used")
    );

    // Approved: an active holder with its consents, two members from the given day, GSE not
    // yet told; the applicant is told.
    let approved = app
        .post(
            referent,
            &format!("/api/v1/join-requests/{id}/approve"),
            &json!({ "joined_at": "2026-12-01" }),
        )
        .await;
    assert_eq!(approved.status(), StatusCode::OK);
    let approved: Value = approved.json().await.unwrap();
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["decided_by"], tenants.referent_a1.0);
    let holder_id = approved["holder_id"].as_i64().unwrap();
    let holder: Value = app
        .get(referent, &format!("/api/v1/holders/{holder_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(holder["status"], "active");
    assert_eq!(holder["iban"], "IT60X0542811101000000123456");
    assert_eq!(holder["language"], "en");
    let consents: Vec<Value> = app
        .get(referent, &format!("/api/v1/holders/{holder_id}/consents"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(consents.len(), 2);
    assert!(consents.iter().all(|c| c["method"] == "web_form"));
    let members: Vec<Value> = app
        .get(
            referent,
            &format!("/api/v1/members/?configuration_id={}", tenants.a1),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(members.len(), 2);
    for member in &members {
        assert_eq!(member["holder_id"], holder_id);
        assert_eq!(member["joined_at"], "2026-12-01");
        assert_eq!(member["gse_notified_on"], Value::Null);
    }
    let welcome = sink.wait_for(2).await.remove(1);
    assert_eq!(welcome.subject, "Welcome to CER Alpha 1");
    assert!(
        welcome.body().contains("IT001E00076544"),
        "{}",
        welcome.body()
    );
    assert!(welcome.body().contains("01/12/2026"), "{}", welcome.body());

    // Decided once.
    let twice = app
        .post(
            referent,
            &format!("/api/v1/join-requests/{id}/reject"),
            &json!({"reason": "x"}),
        )
        .await;
    assert!(
        assert_detail(twice, StatusCode::CONFLICT)
            .await
            .contains("already approved")
    );
}

#[tokio::test]
async fn a_rejected_applicant_is_told_why_and_an_unconfirmed_one_is_not_mailed() {
    let sink = SmtpSink::start();
    let url = sink.url();
    let app = spawn_app_with(HashMap::from([
        ("SMTP_URL", url.as_str()),
        ("MAIL_FROM", FROM),
    ]))
    .await;
    let tenants = two_tenants(&app).await;
    open_to_requests(&app, tenants.a1).await;
    let referent = &tenants.referent_a1.1;
    let mut italian = applicant("VRDLCU80A01F205J", &["IT001E00011111"]);
    italian["language"] = json!("it");
    italian["email"] = json!("luca.verdi@example.com");
    let first: Value = submit(&app, tenants.a1, &italian)
        .await
        .json()
        .await
        .unwrap();
    let mut unconfirmed = applicant("NREFBA75M15L219N", &["IT001E00022222"]);
    unconfirmed["email"] = json!("someone@example.com");
    let second: Value = submit(&app, tenants.a1, &unconfirmed)
        .await
        .json()
        .await
        .unwrap();
    let mails = sink.wait_for(2).await;
    let verification = mails
        .iter()
        .find(|m| m.envelope_to == ["luca.verdi@example.com"])
        .unwrap();
    assert!(
        verification
            .subject
            .starts_with("Conferma la tua richiesta")
    );
    let token = verification.token(&app.url("/join-requests/verify?token="));
    let verified = app
        .client
        .post(app.url("/api/v1/join-requests/verify"))
        .json(&json!({ "token": token }))
        .send()
        .await
        .unwrap();
    assert_eq!(verified.status(), StatusCode::OK);

    // A reason is required.
    let blank = app
        .post(
            referent,
            &format!("/api/v1/join-requests/{}/reject", first["id"]),
            &json!({ "reason": "   " }),
        )
        .await;
    assert_validation_error(blank, &["body", "reason"]).await;
    for (request, reason) in [
        (&first, "Il POD è sotto un'altra cabina primaria"),
        (&second, "spam"),
    ] {
        let rejected = app
            .post(
                referent,
                &format!("/api/v1/join-requests/{}/reject", request["id"]),
                &json!({ "reason": reason }),
            )
            .await;
        assert_eq!(rejected.status(), StatusCode::OK);
        let rejected: Value = rejected.json().await.unwrap();
        assert_eq!(rejected["status"], "rejected");
        assert_eq!(rejected["decision_reason"], reason);
    }
    let rejection = sink.wait_for(3).await.remove(2);
    assert_eq!(rejection.envelope_to, vec!["luca.verdi@example.com"]);
    assert!(
        rejection.body().contains("un'altra cabina primaria"),
        "{}",
        rejection.body()
    );
    // The unconfirmed address got its verification mail only; nothing is waiting for it.
    assert_eq!(
        scalar_i64(
            &app.db,
            "SELECT COUNT(*) FROM mail_outbox WHERE recipient = 'someone@example.com'"
        )
        .await,
        1
    );
    assert_eq!(scalar_i64(&app.db, "SELECT COUNT(*) FROM holders").await, 0);
}

#[tokio::test]
async fn bad_requests_are_refused_field_by_field_and_nothing_is_stored() {
    let app = spawn_app_with(HashMap::new()).await;
    let tenants = two_tenants(&app).await;
    open_to_requests(&app, tenants.a1).await;

    let mut bad = applicant(
        "RSSMRA85T10A562X",
        &["IT001E0007654", "IT001E00076543", "IT001E00076543"],
    );
    bad["iban"] = json!("IT61 X054 2811 1010 0000 0123 456");
    bad["postcode"] = json!("4104");
    bad["phone"] = json!("347 765 4321");
    bad["consents"] = json!([{"kind": "privacy_notice", "document_version": "2025-03"}]);
    let refused = submit(&app, tenants.a1, &bad).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = refused.json().await.unwrap();
    let places: Vec<String> = body["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            d["loc"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.to_string().replace('"', ""))
                .collect::<Vec<_>>()
                .join(".")
        })
        .collect();
    for expected in [
        "body.fiscal_code",
        "body.iban",
        "body.postcode",
        "body.phone",
        "body.points.0.pod",
        "body.points.2.pod",
        "body.consents",
    ] {
        assert!(
            places.iter().any(|p| p == expected),
            "{expected} not in {places:?}"
        );
    }
    // An address is required to join (an active holder needs one).
    let mut homeless = applicant("RSSMRA85T10A562S", &["IT001E00076543"]);
    homeless["street"] = Value::Null;
    homeless["postcode"] = Value::Null;
    homeless["municipality"] = Value::Null;
    homeless["province"] = Value::Null;
    let refused = submit(&app, tenants.a1, &homeless).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // A business that is not an SME cannot join a CER.
    let mut large = applicant("RSSMRA85T10A562S", &["IT001E00076543"]);
    large["kind"] = json!("other_company");
    large["company_name"] = json!("Grande Impresa S.p.A.");
    large["fiscal_code"] = json!("00743110157");
    let refused = submit(&app, tenants.a1, &large).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(
        body["detail"][0]["loc"],
        json!(["body", "points", 0, "role"]),
        "{body}"
    );
    assert_eq!(body["detail"][0]["type"], "membership_rule");
    assert_eq!(
        scalar_i64(&app.db, "SELECT COUNT(*) FROM join_requests").await,
        0
    );
    assert_eq!(
        scalar_i64(&app.db, "SELECT COUNT(*) FROM mail_outbox").await,
        0
    );

    // Reviewing is for those who run the configuration: others get 404 or 403.
    let vendor_b = &tenants.vendor_b.1;
    let outside = app
        .get(
            vendor_b,
            &format!("/api/v1/configurations/{}/join-requests", tenants.a1),
        )
        .await;
    assert_eq!(outside.status(), StatusCode::NOT_FOUND);
    let user = app
        .get(
            &tenants.user_a.1,
            &format!("/api/v1/configurations/{}/join-requests", tenants.a1),
        )
        .await;
    assert_eq!(user.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_public_form_is_limited_per_address_and_approval_refuses_a_taken_pod() {
    let app = spawn_app_with(HashMap::from([
        ("JOIN_REQUESTS_PER_ADDRESS_PER_HOUR", "2"),
        ("TRUST_FORWARDED_FOR", "true"),
    ]))
    .await;
    let tenants = two_tenants(&app).await;
    open_to_requests(&app, tenants.a1).await;
    let from = |address: &'static str, body: Value| {
        let app = &app;
        async move {
            app.client
                .post(app.url(&format!(
                    "/api/v1/configurations/{}/join-requests",
                    tenants.a1
                )))
                .header("x-forwarded-for", address)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    for pod in ["IT001E00000001", "IT001E00000002"] {
        let response = from("203.0.113.7", applicant("RSSMRA85T10A562S", &[pod])).await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
    }
    let third = from(
        "203.0.113.7",
        applicant("RSSMRA85T10A562S", &["IT001E00000003"]),
    )
    .await;
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: i64 = third.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((3500..=3600).contains(&wait), "{wait}");
    let other = from(
        "198.51.100.4",
        applicant("RSSMRA85T10A562S", &["IT001E00000003"]),
    )
    .await;
    assert_eq!(other.status(), StatusCode::ACCEPTED);

    // The POD of the first request joins another configuration meanwhile: approving the
    // request is refused whole (no holder, no member), and says why.
    let taken = app
        .post(
            &app.admin_token,
            "/api/v1/members/",
            &json!({"configuration_id": tenants.a2, "pod": "IT001E00000001", "role": "consumer",
                    "holder_type": "natural_person", "joined_at": "2026-01-01"}),
        )
        .await;
    assert_eq!(taken.status(), StatusCode::CREATED);
    use sea_orm::ConnectionTrait;
    app.db
        .execute_unprepared("UPDATE join_requests SET status = 'pending'")
        .await
        .unwrap();
    let holders_before = scalar_i64(&app.db, "SELECT COUNT(*) FROM holders").await;
    let first: Vec<Value> = app
        .get(
            &app.admin_token,
            &format!("/api/v1/configurations/{}/join-requests", tenants.a1),
        )
        .await
        .json()
        .await
        .unwrap();
    let refused = app
        .post(
            &app.admin_token,
            &format!("/api/v1/join-requests/{}/approve", first[0]["id"]),
            &json!({}),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert_eq!(
        scalar_i64(&app.db, "SELECT COUNT(*) FROM holders").await,
        holders_before
    );
    let still: Value = app
        .get(
            &app.admin_token,
            &format!("/api/v1/join-requests/{}", first[0]["id"]),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(still["status"], "pending");
    // The second request (same person) is approved; the third, of the same fiscal code, adds
    // its point to the same holder.
    for request in &first[1..] {
        let approved = app
            .post(
                &app.admin_token,
                &format!("/api/v1/join-requests/{}/approve", request["id"]),
                &json!({}),
            )
            .await;
        assert_eq!(
            approved.status(),
            StatusCode::OK,
            "{}",
            approved.text().await.unwrap()
        );
    }
    assert_eq!(
        scalar_i64(
            &app.db,
            "SELECT COUNT(*) FROM holders WHERE fiscal_code = 'RSSMRA85T10A562S'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn requests_never_confirmed_are_forgotten_after_thirty_days() {
    use condivisa::housekeeping::{Retention, sweep};
    use sea_orm::ConnectionTrait;
    let app = spawn_app_with(HashMap::new()).await;
    let tenants = two_tenants(&app).await;
    open_to_requests(&app, tenants.a1).await;
    for pod in ["IT001E00000001", "IT001E00000002", "IT001E00000003"] {
        let response = submit(&app, tenants.a1, &applicant("RSSMRA85T10A562S", &[pod])).await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
    }
    // The first came 31 days ago and was never confirmed; the second as old but confirmed;
    // the third is recent.
    let ago = (chrono::Utc::now() - chrono::Duration::days(31)).to_rfc3339();
    app.db
        .execute_unprepared(&format!(
            "UPDATE join_requests SET created_at = '{ago}' WHERE id IN (SELECT id FROM join_requests ORDER BY id LIMIT 2)"
        ))
        .await
        .unwrap();
    app.db
        .execute_unprepared(
            "UPDATE join_requests SET status = 'pending' WHERE id = (SELECT MAX(id) - 1 FROM join_requests)",
        )
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
    assert_eq!(swept.unconfirmed_join_requests, 1);
    let left: Vec<Value> = app
        .get(
            &app.admin_token,
            &format!("/api/v1/configurations/{}/join-requests", tenants.a1),
        )
        .await
        .json()
        .await
        .unwrap();
    let pods: Vec<&str> = left
        .iter()
        .map(|r| r["points"][0]["pod"].as_str().unwrap())
        .collect();
    assert_eq!(pods, ["IT001E00000002", "IT001E00000003"]);
}
