//! Settlement over HTTP on both databases: policy, preview, finalise, correct the data, re-run,
//! adjustments — with every figure computed by hand in the comments.
use std::collections::HashMap;
use std::str::FromStr;

use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::helpers::*;

const P1: &str = "IT001E00000001";
const P2: &str = "IT001E00000002";
const C1: &str = "IT001E00000003";
const C2: &str = "IT001E00000004";

fn dec(value: &Value) -> Decimal {
    Decimal::from_str(
        value
            .as_str()
            .unwrap_or_else(|| panic!("not a decimal: {value}")),
    )
    .unwrap()
}

async fn created(response: reqwest::Response) -> Value {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

struct World {
    configuration: i64,
    /// By POD.
    members: HashMap<&'static str, i64>,
}

/// An active CER in Veneto (NORD, PV correction +10): producers P1 (plant A, 150 kW, 2024-03-01)
/// and P2 (plant B, 300 kW, 2024-06-01, 20% grant), both businesses; domestic consumers C1, C2.
async fn world(app: &TestApp) -> World {
    let org = app.create_organization("CER Veneto").await;
    let configuration = created(
        app.post(
            &app.admin_token,
            "/api/v1/configurations/",
            &json!({ "name": "CER Padova", "type": "CER", "primary_substation": "AC001E00999", "market_zone": "NORD",
                     "region": "veneto", "organization_id": org, "constituted_on": "2024-01-10" }),
        )
        .await,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let mut members = HashMap::new();
    for (pod, role, category) in [
        (P1, "producer", "sme"),
        (P2, "producer", "sme"),
        (C1, "consumer", "domestic"),
        (C2, "consumer", "domestic"),
    ] {
        let body = json!({ "configuration_id": configuration, "pod": pod, "role": role, "category": category, "joined_at": "2024-02-01" });
        let member = created(app.post(&app.admin_token, "/api/v1/members/", &body).await).await;
        members.insert(pod, member["id"].as_i64().unwrap());
    }
    for (pod, kw, commissioned, grant) in [
        (P1, "150", "2024-03-01", "0"),
        (P2, "300", "2024-06-01", "0.20"),
    ] {
        created(
            app.post(
                &app.admin_token,
                "/api/v1/plants/",
                &json!({ "member_id": members[pod], "name": "Tetto", "source": "pv", "power_kw": kw,
                         "commissioned_on": commissioned, "capital_grant_share": grant }),
            )
            .await,
        )
        .await;
    }
    let active = app
        .patch(
            &app.admin_token,
            &format!("/api/v1/configurations/{configuration}"),
            &json!({ "status": "active" }),
        )
        .await;
    assert_eq!(active.status(), StatusCode::OK);
    World {
        configuration,
        members,
    }
}

async fn import_readings(app: &TestApp, configuration: i64, rows: &[(&str, &str, &str)]) {
    let mut csv = String::from("timestamp;pod;direction;kwh;interval_minutes\n");
    for (pod, direction, kwh) in rows {
        csv.push_str(&format!(
            "2025-03-10T12:00:00+01:00;{pod};{direction};{kwh};60\n"
        ));
    }
    let response = app
        .client
        .post(app.url(&format!("/api/v1/configurations/{configuration}/readings")))
        .bearer_auth(&app.admin_token)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    created(response).await;
}

/// A NORD price of 110 €/MWh for every hour of March 2025 (Italian time: 743 hours).
async fn import_march_prices(app: &TestApp) {
    let from = chrono::DateTime::parse_from_rfc3339("2025-02-28T23:00:00Z").unwrap();
    let to = chrono::DateTime::parse_from_rfc3339("2025-03-31T22:00:00Z").unwrap();
    let mut csv = String::from("timestamp;zone;eur_mwh;interval_minutes\n");
    let mut t = from;
    while t < to {
        csv.push_str(&format!("{};NORD;110;60\n", t.to_rfc3339()));
        t += chrono::Duration::hours(1);
    }
    let response = app
        .client
        .post(app.url("/api/v1/market/zonal-prices"))
        .bearer_auth(&app.admin_token)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    created(response).await;
}

async fn put_policy(app: &TestApp, configuration: i64, body: &Value) -> reqwest::Response {
    app.client
        .put(app.url(&format!("/api/v1/configurations/{configuration}/policy")))
        .bearer_auth(&app.admin_token)
        .json(body)
        .send()
        .await
        .unwrap()
}

fn the_statute() -> Value {
    json!({ "valid_from": "2025-01-01", "note": "Statuto art. 12",
            "document": { "shares": { "management": "10", "social_fund": "0", "producers": "40", "consumers": "50" },
                          "producers_split": "by_incentivised_energy", "consumers_split": "by_shared_withdrawal",
                          "excess_to": "non_business_consumers" } })
}

async fn preview(app: &TestApp, configuration: i64) -> Value {
    created(
        app.post(
            &app.admin_token,
            &format!("/api/v1/configurations/{configuration}/settlements/"),
            &json!({ "period": "2025-03" }),
        )
        .await,
    )
    .await
}

fn member_row(report: &Value, member: i64) -> &Value {
    report["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["member_id"] == member)
        .unwrap()
}

/// Σ amount (and Wh) of the configuration's ledger rows per (member, kind).
async fn ledger(
    app: &TestApp,
    configuration: i64,
) -> (Vec<Value>, HashMap<(Option<i64>, String), (i64, i64)>) {
    let page: Value = app
        .get(
            &app.admin_token,
            &format!("/api/v1/transactions/?configuration_id={configuration}&limit=1000"),
        )
        .await
        .json()
        .await
        .unwrap();
    let rows = page["items"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("{page}"));
    let mut sums: HashMap<(Option<i64>, String), (i64, i64)> = HashMap::new();
    for row in &rows {
        let kind = row["kind"].as_str().unwrap().to_string();
        let entry = sums.entry((row["member_id"].as_i64(), kind)).or_default();
        entry.0 += to_cents(&row["amount_eur"]);
        entry.1 += row["energy_kwh"].as_str().map_or(0, |k| {
            (Decimal::from_str(k).unwrap() * Decimal::from(1000))
                .try_into()
                .unwrap()
        });
    }
    (rows, sums)
}

fn to_cents(amount: &Value) -> i64 {
    (dec(amount) * Decimal::from(100)).try_into().unwrap()
}

#[tokio::test]
async fn preview_finalise_correct_and_adjust() {
    let app = spawn_app().await;
    let w = world(&app).await;
    import_march_prices(&app).await;
    // The hour: A 50 kWh, B 120 kWh; C1 withdraws 100, C2 40 (140 in all).
    import_readings(
        &app,
        w.configuration,
        &[
            (P1, "IMMISSIONE", "50"),
            (P2, "IMMISSIONE", "120"),
            (C1, "PRELIEVO", "100"),
            (C2, "PRELIEVO", "40"),
        ],
    )
    .await;
    let policy = created(put_policy(&app, w.configuration, &the_statute()).await).await;
    assert_eq!(policy["version"], 1);

    let run = preview(&app, w.configuration).await;
    let report = &run["report"];
    assert_eq!(run["status"], "preview");
    assert_eq!(run["finalizable"], true, "{report}");
    assert_eq!(report["policy_version"], 1);
    assert_eq!(report["totals"]["hours"], 743);
    assert_eq!(dec(&report["totals"]["shared_kwh"]), Decimal::from(140));
    assert_eq!(
        dec(&report["totals"]["incentivised_shared_kwh"]),
        Decimal::from(140)
    );
    // A (older) takes 50 at 130 €/MWh = 6.50 €; B 90 at 90 €/MWh = 8.10 €.
    let plants = report["plants"].as_array().unwrap();
    assert_eq!(dec(&plants[0]["shared_kwh"]), Decimal::from(50));
    assert_eq!(dec(&plants[1]["shared_kwh"]), Decimal::from(90));
    assert_eq!(
        dec(&plants[0]["premium_eur"]),
        Decimal::from_str("6.5").unwrap()
    );
    assert_eq!(
        dec(&plants[1]["premium_eur"]),
        Decimal::from_str("8.1").unwrap()
    );
    // Excess: A (1.00 − 0.55) × 6.50 = 2.925; B (0.75 − 0.45) × 8.10 = 2.43 → 5.355 € → 536 c.
    // Valorisation 140 × 10.57 / 1000 = 1.4798 € → 148 c. Fees (145 + 295) / 12 → March 36.67 €.
    let money = &report["money"];
    assert_eq!(money["premium_cents"], 1460);
    assert_eq!(money["excess_cents"], 536);
    assert_eq!(money["valorisation_cents"], 148);
    assert_eq!(money["fees_cents"], 3667);
    // Incentive 924 c: management 92, producers 370 (50:90 → 132, 238), consumers 462
    // (100:40 → 330, 132); excess 536 to the domestic consumers (383, 153); valorisation 148:
    // management 15, producers 59 (21, 38), consumers 74 (53, 21).
    for (pod, incentive, excess, valorisation) in [
        (P1, 132, 0, 21),
        (P2, 238, 0, 38),
        (C1, 330, 383, 53),
        (C2, 132, 153, 21),
    ] {
        let row = member_row(report, w.members[pod]);
        assert_eq!(
            (
                row["incentive_cents"].as_i64(),
                row["excess_premium_cents"].as_i64(),
                row["valorisation_cents"].as_i64()
            ),
            (Some(incentive), Some(excess), Some(valorisation)),
            "{pod}: {row}"
        );
    }
    assert_eq!(money["management_cents"], 92 + 15);
    assert_eq!(money["members_cents"], 1460 + 148 - 107);
    assert_eq!(
        dec(&member_row(report, w.members[C1])["shared_kwh"]),
        Decimal::from(100)
    );

    // The CSV for Italian Excel.
    let run_id = run["id"].as_i64().unwrap();
    let csv = app
        .get(
            &app.admin_token,
            &format!("/api/v1/settlements/{run_id}/members.csv"),
        )
        .await;
    assert_eq!(csv.status(), StatusCode::OK);
    let text = csv.text().await.unwrap();
    assert!(
        text.starts_with("\u{feff}member_id;pod;category;"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{};{C1};domestic;100,000;0,000;100,000;",
            w.members[C1]
        )),
        "{text}"
    );
    assert!(text.contains(";3,30;3,83;0,53;7,66\r\n"), "{text}");

    // Finalise: one ledger row per non-zero line; again: nothing new.
    let finalize = |id: i64| {
        let app = &app;
        async move {
            app.post(
                &app.admin_token,
                &format!("/api/v1/settlements/{id}/finalize"),
                &json!({}),
            )
            .await
        }
    };
    let first = finalize(run_id).await;
    assert_eq!(first.status(), StatusCode::OK);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["settlement"]["status"], "finalized");
    let written = first["transactions_written"].as_i64().unwrap();
    // C1, C2: shared energy, incentive, excess, valorisation (4 each); P1, P2: incentive and
    // valorisation (2 each); management: incentive and valorisation; the GSE fee.
    assert_eq!(written, 4 + 4 + 2 + 2 + 2 + 1);
    let again: Value = finalize(run_id).await.json().await.unwrap();
    assert_eq!(again["transactions_written"], 0);
    let (rows, sums) = ledger(&app, w.configuration).await;
    assert_eq!(rows.len() as i64, written);
    assert_eq!(
        sums[&(Some(w.members[C1]), "incentive".into())].0,
        330 + 383
    );
    assert_eq!(
        sums[&(Some(w.members[C1]), "shared_energy".into())].1,
        100_000
    );
    assert_eq!(sums[&(None, "fee".into())].0, -3667);

    // The distributor corrects C2's withdrawal: 40 → 60 kWh. A new preview sees it.
    import_readings(&app, w.configuration, &[(C2, "PRELIEVO", "60")]).await;
    let rerun = preview(&app, w.configuration).await;
    assert_ne!(rerun["fingerprint"], run["fingerprint"]);
    // EAC 160 = EACI; A 50 (6.50 €), B 110 at 90 €/MWh (9.90 €) → 16.40 €; valorisation
    // 160 × 10.57 / 1000 = 1.6912 € → 169 c.
    assert_eq!(rerun["report"]["money"]["premium_cents"], 1640);
    assert_eq!(rerun["report"]["money"]["valorisation_cents"], 169);
    let rerun_id = rerun["id"].as_i64().unwrap();
    let corrected: Value = finalize(rerun_id).await.json().await.unwrap();
    assert_eq!(corrected["corrects_run_id"], run_id);
    let (rows_after, sums_after) = ledger(&app, w.configuration).await;
    let new_rows = &rows_after[rows.len()..];
    assert_eq!(
        new_rows.len() as i64,
        corrected["transactions_written"].as_i64().unwrap()
    );
    assert!(
        new_rows.iter().all(|r| r["kind"] == "adjustment"),
        "{new_rows:?}"
    );
    // C2's shared energy grows by 20 kWh; the ledger's money now adds up to the new run.
    let c2_energy: i64 = new_rows
        .iter()
        .filter(|r| r["member_id"] == w.members[C2] && r["energy_kwh"].is_string())
        .map(|r| i64::try_from(dec(&r["energy_kwh"]) * Decimal::from(1000)).unwrap())
        .sum::<i64>();
    assert_eq!(c2_energy, 20_000);
    let money_total: i64 = sums_after
        .iter()
        .filter(|((_, kind), _)| kind != "fee" && kind != "shared_energy")
        .map(|(_, (cents, _))| cents)
        .sum();
    assert_eq!(money_total, 1640 + 169);
    let old: Value = app
        .get(&app.admin_token, &format!("/api/v1/settlements/{run_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(old["status"], "superseded");
    assert_eq!(
        assert_detail(finalize(run_id).await, StatusCode::CONFLICT).await,
        "this run was superseded by a later finalisation of the same month"
    );

    // A preview whose inputs change before it is finalised is refused.
    let stale = preview(&app, w.configuration).await;
    import_readings(&app, w.configuration, &[(C1, "PRELIEVO", "90")]).await;
    let detail = assert_detail(
        finalize(stale["id"].as_i64().unwrap()).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(detail.contains("inputs changed"), "{detail}");

    // The member's statement follows the latest finalised run (C2: 60 kWh shared).
    let statement: Value = app
        .get(
            &app.admin_token,
            &format!("/api/v1/members/{}/statement?year=2025", w.members[C2]),
        )
        .await
        .json()
        .await
        .unwrap();
    let march = &statement["months"][0];
    assert_eq!(march["period"], "2025-03");
    assert_eq!(dec(&march["shared_kwh"]), Decimal::from(60));
    let c2_line = member_row(&rerun["report"], w.members[C2]);
    assert_eq!(march["incentive_cents"], c2_line["incentive_cents"]);
    assert_eq!(
        march["excess_premium_cents"],
        c2_line["excess_premium_cents"]
    );
    assert_eq!(march["valorisation_cents"], c2_line["valorisation_cents"]);
    let csv = app
        .get(
            &app.admin_token,
            &format!("/api/v1/members/{}/statement.csv?year=2025", w.members[C2]),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(csv.contains("\r\n2025-03;60,000;"), "{csv}");
    assert!(csv.contains("\r\n2025;60,000;"), "{csv}");

    // April counts the excess on the year to date: March (finalised) is its basis, and with no
    // data of its own April neither adds nor gives back any.
    let april = created(
        app.post(
            &app.admin_token,
            &format!("/api/v1/configurations/{}/settlements", w.configuration),
            &json!({ "period": "2025-04" }),
        )
        .await,
    )
    .await;
    assert_eq!(april["report"]["excess_months_before"], json!(["2025-03"]));
    assert_eq!(april["report"]["money"]["excess_cents"], 0);
}

#[tokio::test]
async fn members_see_their_own_statement_and_never_the_runs() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let organization = app
        .get(
            &app.admin_token,
            &format!("/api/v1/configurations/{}", w.configuration),
        )
        .await
        .json::<Value>()
        .await
        .unwrap()["organization_id"]
        .as_i64();
    let (user, token) = app
        .create_user("socio@example.com", "user", organization)
        .await;
    let link = app
        .patch(
            &app.admin_token,
            &format!("/api/v1/members/{}", w.members[C1]),
            &json!({ "user_id": user }),
        )
        .await;
    assert_eq!(link.status(), StatusCode::OK);
    let run = preview(&app, w.configuration).await;
    let run_id = run["id"].as_i64().unwrap();
    assert_eq!(
        app.get(&token, &format!("/api/v1/settlements/{run_id}"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post(
            &token,
            &format!("/api/v1/settlements/{run_id}/finalize"),
            &json!({})
        )
        .await
        .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post(
            &token,
            &format!("/api/v1/configurations/{}/settlements", w.configuration),
            &json!({ "period": "2025-03" })
        )
        .await
        .status(),
        StatusCode::FORBIDDEN
    );
    let own = app
        .get(
            &token,
            &format!("/api/v1/members/{}/statement?year=2025", w.members[C1]),
        )
        .await;
    assert_eq!(own.status(), StatusCode::OK);
    assert_eq!(
        app.get(
            &token,
            &format!("/api/v1/members/{}/statement?year=2025", w.members[C2])
        )
        .await
        .status(),
        StatusCode::NOT_FOUND
    );
    // Another organization's vendor does not see the run at all.
    let other = app.create_organization("Altro").await;
    let (_, vendor) = app
        .create_user("vendor@example.com", "vendor", Some(other))
        .await;
    assert_eq!(
        app.get(&vendor, &format!("/api/v1/settlements/{run_id}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn missing_prices_block_finalisation_and_bad_input_names_the_field() {
    let app = spawn_app().await;
    let w = world(&app).await;
    import_readings(
        &app,
        w.configuration,
        &[
            (P1, "IMMISSIONE", "10"),
            (C1, "PRELIEVO", "8"),
            (C2, "PRELIEVO", "12"),
        ],
    )
    .await;
    let run = preview(&app, w.configuration).await;
    // 10 kWh shared of 20 withdrawn: each consumer's withdrawal counts half.
    assert_eq!(
        dec(&member_row(&run["report"], w.members[C1])["shared_kwh"]),
        Decimal::from(4)
    );
    assert_eq!(
        dec(&member_row(&run["report"], w.members[C2])["shared_kwh"]),
        Decimal::from(6)
    );
    assert_eq!(run["finalizable"], false);
    assert_eq!(run["report"]["missing_price_hours"], 743);
    assert_eq!(
        run["report"]["missing_price_list"][0],
        "2025-02-28T23:00:00+00:00"
    );
    assert_eq!(run["report"]["policy_version"], Value::Null);
    let detail = assert_detail(
        app.post(
            &app.admin_token,
            &format!("/api/v1/settlements/{}/finalize", run["id"]),
            &json!({}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(
        detail.contains("743 hour(s) have no NORD zonal price"),
        "{detail}"
    );
    let (rows, _) = ledger(&app, w.configuration).await;
    assert!(rows.is_empty());

    let path = format!("/api/v1/configurations/{}/settlements", w.configuration);
    assert_validation_error(
        app.post(&app.admin_token, &path, &json!({ "period": "2025-13" }))
            .await,
        &["body", "period"],
    )
    .await;
    let mut policy = the_statute();
    policy["document"]["shares"]["consumers"] = json!("55");
    policy["document"]["consumers_split"] = json!("coefficients");
    let body = assert_validation_error(
        put_policy(&app, w.configuration, &policy).await,
        &["body", "document", "shares"],
    )
    .await;
    assert!(body.to_string().contains("coefficients"), "{body}");
    policy = the_statute();
    policy["valid_from"] = json!("2025-01-15");
    assert_validation_error(
        put_policy(&app, w.configuration, &policy).await,
        &["body", "valid_from"],
    )
    .await;
    let versions: Value = app
        .get(
            &app.admin_token,
            &format!("/api/v1/configurations/{}/policy/versions", w.configuration),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(versions, json!([]));
    let current: Value = app
        .get(
            &app.admin_token,
            &format!(
                "/api/v1/configurations/{}/policy?period=2025-03",
                w.configuration
            ),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(current["version"], Value::Null);
    assert_eq!(current["document"]["shares"]["producers"], "50");
}

#[tokio::test]
async fn the_cli_settles_and_finalises_a_month() {
    let app = spawn_app().await;
    let w = world(&app).await;
    import_march_prices(&app).await;
    import_readings(
        &app,
        w.configuration,
        &[
            (P1, "IMMISSIONE", "50"),
            (P2, "IMMISSIONE", "120"),
            (C1, "PRELIEVO", "100"),
            (C2, "PRELIEVO", "40"),
        ],
    )
    .await;
    let settle = |period: &str| {
        app.cli(&[
            "settle",
            "--configuration",
            &w.configuration.to_string(),
            "--period",
            period,
            "--finalize",
        ])
    };
    let output = settle("2025-03");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Without a policy: the default one (50% producers, 50% consumers); premium 14.60 €.
    assert!(
        stdout.contains("2025-03: run ") && stdout.contains("premium 14.60 €"),
        "{stdout}"
    );
    // Consumers 4 rows each, producers 2 each, the fee; nothing kept by the configuration.
    assert!(stdout.contains("finalised: 13 ledger row(s)"), "{stdout}");
    let (rows, _) = ledger(&app, w.configuration).await;
    assert_eq!(rows.len(), 13);
    assert!(rows.iter().all(|r| r["created_by"].as_i64().is_some()));

    // April has no prices: the preview is stored, finalisation refused, exit code 1.
    let refused = settle("2025-04");
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("cannot be finalised") && stderr.contains("zonal price"),
        "{stderr}"
    );
    let bad = settle("March");
    assert_eq!(bad.status.code(), Some(2));
}
