//! The audit trail: what is recorded, who reads it, and that nobody edits it.
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::helpers::{ADMIN_EMAIL, TestApp, spawn_app};
use crate::settlement::{complete_small_march, finalize, preview, world};

async fn events(app: &TestApp, token: &str, query: &str) -> (StatusCode, Vec<Value>) {
    let response = app
        .get(token, &format!("/api/v1/audit-events/?{query}"))
        .await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    (status, body.as_array().cloned().unwrap_or_default())
}

#[tokio::test]
async fn security_events_are_recorded_scoped_and_never_edited() {
    let app = spawn_app().await;

    // Sign-ins: a failure names the login and the address, never the password.
    let failed = app.login_response(ADMIN_EMAIL, "not the password").await;
    assert_eq!(failed.status(), StatusCode::BAD_REQUEST);
    let (status, found) = events(&app, &app.admin_token, "action=user.sign_in_failed").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["actor"], ADMIN_EMAIL);
    assert_eq!(found[0]["address"], "127.0.0.1");
    assert_eq!(found[0]["detail"]["login"], ADMIN_EMAIL);
    assert!(!found[0].to_string().contains("not the password"));
    let (_, signed_in) = events(&app, &app.admin_token, "action=user.signed_in").await;
    assert!(!signed_in.is_empty());

    // A role change: who changed whom, from what to what.
    let (user_id, _) = app.create_user("promossa@example.com", "user", None).await;
    let organization = app.create_organization("Energia Tracciata").await;
    let promoted = app
        .patch(
            &app.admin_token,
            &format!("/api/v1/users/{user_id}"),
            &json!({ "role": "vendor", "organization_id": organization }),
        )
        .await;
    assert_eq!(promoted.status(), StatusCode::OK);
    let (_, changed) = events(&app, &app.admin_token, "action=user.changed").await;
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!(changed[0]["object_id"], user_id);
    assert_eq!(changed[0]["detail"]["role"], json!(["user", "vendor"]));
    assert_eq!(changed[0]["actor"], ADMIN_EMAIL);

    // A finalisation belongs to its configuration; its referent reads it, another does not.
    let w = world(&app).await;
    complete_small_march(&app, &w).await;
    let run = preview(&app, w.configuration).await;
    assert_eq!(finalize(&app, &run, None).await.status(), StatusCode::OK);
    let configuration: Value = app
        .get(
            &app.admin_token,
            &format!("/api/v1/configurations/{}", w.configuration),
        )
        .await
        .json()
        .await
        .unwrap();
    let owner = configuration["organization_id"].as_i64().unwrap();
    let (referent, referent_token) = app
        .create_user("referente@example.com", "referent", Some(owner))
        .await;
    let assigned = app
        .patch(
            &app.admin_token,
            &format!("/api/v1/configurations/{}", w.configuration),
            &json!({ "referent_id": referent }),
        )
        .await;
    assert_eq!(assigned.status(), StatusCode::OK);
    let (status, theirs) = events(&app, &referent_token, "").await;
    assert_eq!(status, StatusCode::OK);
    let actions: Vec<&str> = theirs
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"settlement.finalized"), "{actions:?}");
    assert!(actions.contains(&"readings.imported"), "{actions:?}");
    // Sign-ins and account changes have no configuration: the admins' only.
    assert!(
        actions.iter().all(|a| !a.starts_with("user.")),
        "{actions:?}"
    );
    let finalized = theirs
        .iter()
        .find(|e| e["action"] == "settlement.finalized")
        .unwrap();
    assert_eq!(finalized["object_id"], run["id"]);
    assert_eq!(finalized["configuration_id"], w.configuration);

    let (_, stranger_token) = app
        .create_user("estraneo@example.com", "referent", Some(organization))
        .await;
    let (status, none) = events(&app, &stranger_token, "").await;
    assert_eq!((status, none.len()), (StatusCode::OK, 0));
    let (status, _) = events(
        &app,
        &stranger_token,
        &format!("configuration_id={}", w.configuration),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, member_token) = app.create_user("socio@example.com", "user", None).await;
    let (status, _) = events(&app, &member_token, "").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Append-only in the database itself: no update, no delete, whatever the route.
    for statement in [
        "UPDATE audit_events SET action = 'nothing'",
        "DELETE FROM audit_events",
    ] {
        let refused = app.db.execute_unprepared(statement).await;
        assert!(
            refused
                .as_ref()
                .is_err_and(|e| e.to_string().contains("append-only")),
            "{statement}: {refused:?}"
        );
    }
    let (_, after) = events(&app, &app.admin_token, "limit=1000").await;
    assert!(after.len() >= 5);
}
