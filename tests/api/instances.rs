//! Two server processes on one database, the way a deployment scales out: what must happen once
//! happens once whichever instance a request reaches.
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, ServerProcess, scalar_i64, spawn_app};
use crate::settlement::{complete_small_march, preview, world};

#[tokio::test]
async fn two_instances_on_one_database_do_each_thing_once() {
    let app = spawn_app().await;
    let a = ServerProcess::start(&app).await;
    let b = ServerProcess::start(&app).await;
    let instance = |n: usize| if n.is_multiple_of(2) { &a } else { &b };

    // One Idempotency-Key sent eight times at once, alternately to each instance: one row, and
    // every answer names it.
    let organization = app.create_organization("Energia Condivisa").await;
    let configuration = app
        .create_configuration(organization, "CER Due Istanze", None)
        .await;
    let body = json!({ "configuration_id": configuration, "kind": "incentive",
        "period_start": "2025-01-01", "period_end": "2025-01-31", "energy_kwh": "10.000",
        "amount_eur": "12.34", "description": "Incentivo gennaio", "reference": "GSE-2025-01" });
    let posts = (0..8).map(|n| {
        app.client
            .post(instance(n).url("/api/v1/transactions/"))
            .bearer_auth(&app.admin_token)
            .header("Idempotency-Key", "two-instances-1")
            .json(&body)
            .send()
    });
    let mut ids = std::collections::BTreeSet::new();
    for response in futures_util::future::join_all(posts).await {
        let response = response.unwrap();
        assert!(response.status().is_success(), "{}", response.status());
        ids.insert(
            response.json::<Value>().await.unwrap()["id"]
                .as_i64()
                .unwrap(),
        );
    }
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(
        scalar_i64(&app.db, "SELECT CAST(COUNT(*) AS BIGINT) FROM transactions").await,
        1
    );

    // A refresh token spent at both instances at once: one new pair, the other refused.
    let login: Value = app
        .client
        .post(a.url("/api/v1/login/access-token"))
        .form(&[("username", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["refresh_token"].as_str().unwrap();
    let refresh = |server: &ServerProcess, token: &str| {
        app.client
            .post(server.url("/api/v1/login/refresh-token"))
            .json(&json!({ "refresh_token": token }))
            .send()
    };
    let (first, second) = tokio::join!(refresh(&a, token), refresh(&b, token));
    let statuses = [first.unwrap().status(), second.unwrap().status()];
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );

    // Two finalisations of the same month at once, one at each instance: one set of ledger rows.
    let w = world(&app).await;
    complete_small_march(&app, &w).await;
    let run = preview(&app, w.configuration).await;
    let finalize = |server: &ServerProcess| {
        app.client
            .post(server.url(&format!("/api/v1/settlements/{}/finalize", run["id"])))
            .bearer_auth(&app.admin_token)
            .send()
    };
    let (first, second) = tokio::join!(finalize(&a), finalize(&b));
    for response in [first.unwrap(), second.unwrap()] {
        let status = response.status();
        assert!(
            status.is_success() || status == StatusCode::CONFLICT,
            "{status}: {}",
            response.text().await.unwrap()
        );
    }
    let ledger = format!(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM transactions WHERE configuration_id = {}",
        w.configuration
    );
    let rows = scalar_i64(&app.db, &ledger).await;
    assert!(rows > 0);
    // Finalising once more, anywhere, adds nothing.
    let again = finalize(&b).await.unwrap();
    assert!(again.status().is_success() || again.status() == StatusCode::CONFLICT);
    assert_eq!(scalar_i64(&app.db, &ledger).await, rows);
    let finalised = format!(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM settlement_runs WHERE configuration_id = {} AND status = 'finalized'",
        w.configuration
    );
    assert_eq!(scalar_i64(&app.db, &finalised).await, 1);
}
