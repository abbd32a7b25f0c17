//! Settlement over HTTP on both databases: policy, preview, finalise, correct the data, re-run,
//! adjustments — with every figure computed by hand in the comments.
use std::collections::HashMap;
use std::str::FromStr;

use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::helpers::*;

pub(crate) const P1: &str = "IT001E00000001";
pub(crate) const P2: &str = "IT001E00000002";
pub(crate) const C1: &str = "IT001E00000003";
pub(crate) const C2: &str = "IT001E00000004";

pub(crate) fn dec(value: &Value) -> Decimal {
    Decimal::from_str(
        value
            .as_str()
            .unwrap_or_else(|| panic!("not a decimal: {value}")),
    )
    .unwrap()
}

pub(crate) async fn created(response: reqwest::Response) -> Value {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

pub(crate) struct World {
    pub(crate) configuration: i64,
    /// By POD.
    pub(crate) members: HashMap<&'static str, i64>,
}

/// An active CER in Veneto (NORD, PV correction +10): producers P1 (plant A, 150 kW, 2024-03-01)
/// and P2 (plant B, 300 kW, 2024-06-01, 20% grant), both businesses; domestic consumers C1, C2.
pub(crate) async fn world(app: &TestApp) -> World {
    let w = draft_world(app).await;
    activate(app, w.configuration).await;
    w
}

async fn activate(app: &TestApp, configuration: i64) {
    let active = app
        .patch(
            &app.admin_token,
            &format!("/api/v1/configurations/{configuration}"),
            &json!({ "status": "active" }),
        )
        .await;
    assert_eq!(active.status(), StatusCode::OK);
}

/// The same world while the configuration is still a draft.
async fn draft_world(app: &TestApp) -> World {
    let org = app.create_organization("CER Veneto").await;
    let configuration = created(
        app.post(
            &app.admin_token,
            "/api/v1/configurations/",
            &json!({ "name": "CER Padova", "type": "CER", "primary_substation": "AC001E00999", "market_zone": "NORD",
                     "region": "veneto", "organization_id": org, "constituted_on": "2024-01-10",
                     "municipality_population": 20000 }),
        )
        .await,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let mut members = HashMap::new();
    for (pod, role, holder) in [
        (P1, "producer", "sme"),
        (P2, "producer", "sme"),
        (C1, "consumer", "natural_person"),
        (C2, "consumer", "natural_person"),
    ] {
        let body = json!({ "configuration_id": configuration, "pod": pod, "role": role, "holder_type": holder,
                           "joined_at": "2024-02-01", "gse_notified_on": "2024-02-01" });
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
                         "commissioned_on": commissioned, "capital_grant_share": grant,
                         "gse_notified_on": commissioned }),
            )
            .await,
        )
        .await;
    }
    World {
        configuration,
        members,
    }
}

/// A complete March 2025 for each `(POD, direction)`: `kwh` in the hour 10 March 12:00–13:00
/// (Italian time), 0 in the other 742 hours, so the month passes the completeness gate.
async fn import_readings(app: &TestApp, configuration: i64, rows: &[(&str, &str, &str)]) {
    import_hours(app, configuration, rows, &march_hours()).await;
}

/// Every hour of March 2025 in Italy (743: the clocks go forward on the 30th), UTC.
pub(crate) fn march_hours() -> Vec<chrono::DateTime<chrono::Utc>> {
    let mut t = chrono::DateTime::parse_from_rfc3339("2025-02-28T23:00:00Z")
        .unwrap()
        .to_utc();
    let to = chrono::DateTime::parse_from_rfc3339("2025-03-31T22:00:00Z").unwrap();
    let mut out = Vec::new();
    while t < to {
        out.push(t);
        t += chrono::Duration::hours(1);
    }
    out
}

/// `rows` in the hour of 10 March 12:00 (Italian time) and 0 in the other `hours`.
async fn import_hours(
    app: &TestApp,
    configuration: i64,
    rows: &[(&str, &str, &str)],
    hours: &[chrono::DateTime<chrono::Utc>],
) {
    let the_hour = chrono::DateTime::parse_from_rfc3339("2025-03-10T11:00:00Z").unwrap();
    let mut csv = String::from("timestamp;pod;direction;kwh;interval_minutes\n");
    for (pod, direction, kwh) in rows {
        for t in hours {
            let value = if *t == the_hour { kwh } else { "0" };
            csv.push_str(&format!(
                "{};{pod};{direction};{value};60\n",
                t.to_rfc3339()
            ));
        }
    }
    created(
        app.post_csv(
            &format!("/api/v1/configurations/{configuration}/readings"),
            csv,
        )
        .await,
    )
    .await;
}

/// A NORD price of 110 €/MWh for every hour of March 2025 (Italian time: 743 hours).
pub(crate) async fn import_march_prices(app: &TestApp) {
    let mut csv = String::from("timestamp;zone;eur_mwh;interval_minutes\n");
    for t in march_hours() {
        csv.push_str(&format!("{};NORD;110;60\n", t.to_rfc3339()));
    }
    created(app.post_csv("/api/v1/market/zonal-prices", csv).await).await;
}

pub(crate) async fn put_policy(
    app: &TestApp,
    configuration: i64,
    body: &Value,
) -> reqwest::Response {
    app.client
        .put(app.url(&format!("/api/v1/configurations/{configuration}/policy")))
        .bearer_auth(&app.admin_token)
        .json(body)
        .send()
        .await
        .unwrap()
}

pub(crate) fn the_statute() -> Value {
    json!({ "valid_from": "2025-01-01", "note": "Statuto art. 12",
            "document": { "shares": { "management": "10", "social_fund": "0", "producers": "40", "consumers": "50" },
                          "producers_split": "by_incentivised_energy", "consumers_split": "by_shared_withdrawal",
                          "excess_to": "non_business_consumers" } })
}

pub(crate) async fn preview(app: &TestApp, configuration: i64) -> Value {
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
pub(crate) async fn ledger(
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

pub(crate) fn to_cents(amount: &Value) -> i64 {
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
    // Money and energy go out at a fixed scale, as strings.
    assert_eq!(
        (
            &plants[1]["premium_eur"],
            &plants[1]["shared_kwh"],
            &plants[1]["yearly_fee_eur"]
        ),
        (&json!("8.100000"), &json!("90.000"), &json!("295.00"))
    );
    assert_eq!(report["totals"]["valorisation_eur"], "1.479800");
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
        text.starts_with("\u{feff}member_id;pod;holder_type;"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{};{C1};natural_person;100,000;0,000;100,000;",
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

pub(crate) async fn finalize(app: &TestApp, run: &Value, body: Option<Value>) -> reqwest::Response {
    let request = app
        .client
        .post(app.url(&format!("/api/v1/settlements/{}/finalize", run["id"])))
        .bearer_auth(&app.admin_token);
    match body {
        Some(body) => request.json(&body),
        None => request,
    }
    .send()
    .await
    .unwrap()
}

/// C2 sent nothing for March and plant B's POD (P2) nothing either: the run names both gaps,
/// refuses to finalise until an operator accepts them with a reason, and then everything
/// downstream says the figures are provisional.
#[tokio::test]
async fn an_incomplete_month_is_refused_until_accepted_with_a_reason() {
    let app = spawn_app().await;
    let w = world(&app).await;
    import_march_prices(&app).await;
    import_readings(
        &app,
        w.configuration,
        &[(P1, "IMMISSIONE", "50"), (C1, "PRELIEVO", "100")],
    )
    .await;
    let run = preview(&app, w.configuration).await;
    let report = &run["report"];
    assert_eq!(run["finalizable"], false);
    assert_eq!(report["blockers"], json!([]));
    let gaps: Vec<&str> = report["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g.as_str().unwrap())
        .collect();
    assert_eq!(
        gaps,
        vec![
            format!("{P2}: no injection data 01/03–31/03 (743 hours)"),
            format!("{C2}: no withdrawal data 01/03–31/03 (743 hours)"),
        ]
    );
    assert_eq!(report["members_without_data"], json!([P2, C2]));
    assert_eq!(
        report["plants_without_injection"].as_array().unwrap().len(),
        1
    );
    assert_eq!(
        member_row(report, w.members[C2])["withdrawal"],
        json!({ "expected_hours": 743, "missing_hours": 743, "coverage_percent": "0.00" })
    );
    assert_eq!(
        member_row(report, w.members[C1])["withdrawal"],
        json!({ "expected_hours": 743, "missing_hours": 0, "coverage_percent": "100.00" })
    );
    assert_eq!(member_row(report, w.members[C1])["injection"], Value::Null);

    // Without a body, or without a reason: refused, nothing written.
    let detail = assert_detail(finalize(&app, &run, None).await, StatusCode::CONFLICT).await;
    assert!(
        detail.contains("no withdrawal data") && detail.contains("accept_incomplete"),
        "{detail}"
    );
    let missing_reason = finalize(&app, &run, Some(json!({ "accept_incomplete": true }))).await;
    assert_eq!(missing_reason.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = missing_reason.json().await.unwrap();
    assert_eq!(body["detail"][0]["loc"], json!(["body", "reason"]));
    assert!(ledger(&app, w.configuration).await.0.is_empty());

    let reason = "C2's distributor sends March late; to be corrected in April";
    let done = finalize(
        &app,
        &run,
        Some(json!({ "accept_incomplete": true, "reason": reason })),
    )
    .await;
    assert_eq!(done.status(), StatusCode::OK);
    let done: Value = done.json().await.unwrap();
    assert_eq!(done["settlement"]["status"], "finalized");
    assert_eq!(done["settlement"]["incomplete_reason"], reason);
    assert!(done["settlement"]["incomplete_accepted_by"].is_i64());
    let (rows, _) = ledger(&app, w.configuration).await;
    assert!(!rows.is_empty());
    for row in &rows {
        assert!(
            row["reference"].as_str().unwrap().ends_with(":provisional"),
            "{row}"
        );
        assert!(
            row["description"]
                .as_str()
                .unwrap()
                .contains("provisional, data incomplete"),
            "{row}"
        );
    }
    let statement: Value = app
        .get(
            &app.admin_token,
            &format!("/api/v1/members/{}/statement?year=2025", w.members[C1]),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        statement["months"][0]["provisional"],
        format!("provisional, data incomplete: {reason}")
    );
}

/// Three consumers withdraw 100 kWh each while P1 injects 160: each one's exact share is
/// 53.333… kWh. Truncated per member that made 159.999 kWh; split with the largest remainder
/// the members' energy is exactly the configuration's 160 kWh, in the report and the ledger.
#[tokio::test]
async fn members_shared_energy_adds_up_exactly_to_the_configuration() {
    let app = spawn_app().await;
    let w = world(&app).await;
    const C3: &str = "IT001E00000005";
    let c3 = created(
        app.post(
            &app.admin_token,
            "/api/v1/members/",
            &json!({ "configuration_id": w.configuration, "pod": C3, "role": "consumer",
                     "holder_type": "natural_person", "joined_at": "2024-02-01",
                     "gse_notified_on": "2024-02-01" }),
        )
        .await,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    import_march_prices(&app).await;
    import_readings(
        &app,
        w.configuration,
        &[
            (P1, "IMMISSIONE", "160"),
            (P2, "IMMISSIONE", "0"),
            (C1, "PRELIEVO", "100"),
            (C2, "PRELIEVO", "100"),
            (C3, "PRELIEVO", "100"),
        ],
    )
    .await;
    let run = preview(&app, w.configuration).await;
    assert_eq!(run["finalizable"], true, "{}", run["report"]["problems"]);
    let report = &run["report"];
    assert_eq!(dec(&report["totals"]["shared_kwh"]), Decimal::from(160));
    let shares: Vec<Decimal> = [w.members[C1], w.members[C2], c3]
        .iter()
        .map(|id| dec(&member_row(report, *id)["shared_kwh"]))
        .collect();
    assert_eq!(shares.iter().sum::<Decimal>(), Decimal::from(160));
    for share in &shares {
        assert!(
            *share == Decimal::from_str("53.334").unwrap()
                || *share == Decimal::from_str("53.333").unwrap(),
            "{shares:?}"
        );
    }
    // The member's own energy series uses the same quantity: 53.333 kWh attributed (the
    // report apportions the month's last Wh).
    for (id, share) in [w.members[C1], w.members[C2], c3].iter().zip(&shares) {
        let series: Value = app
            .get(
                &app.admin_token,
                &format!(
                    "/api/v1/members/{id}/energy?from=2025-03-01&to=2025-03-31&granularity=month"
                ),
            )
            .await
            .json()
            .await
            .unwrap();
        let attributed = dec(&series["total_shared_kwh"]);
        assert_eq!(attributed, Decimal::from_str("53.333").unwrap(), "{series}");
        assert!((*share - attributed).abs() <= Decimal::from_str("0.001").unwrap());
    }
    assert_eq!(finalize(&app, &run, None).await.status(), StatusCode::OK);
    let (_, sums) = ledger(&app, w.configuration).await;
    let ledger_wh: i64 = sums
        .iter()
        .filter(|((_, kind), _)| kind == "shared_energy")
        .map(|(_, (_, wh))| *wh)
        .sum();
    assert_eq!(ledger_wh, 160_000);
}

/// One hour in May and one in July 2025, the same data: plant B (20% grant, F = 0.25) gets
/// all 120 kWh of incentivised energy; C1 and C2 are natural persons. In May F applies:
/// 120 kWh × (min(110, 70 + 70) + 10) × 0.75 = 10.80 €. From 26 Jun 2025 (DM 127/2025) F is
/// not applied to natural persons' shared energy: 120 × 120 / 1000 = 14.40 €, all of it
/// reported as F-exempt for natural persons.
#[tokio::test]
async fn natural_persons_shared_energy_has_no_f_from_26_june_2025() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let mut premiums = Vec::new();
    for (month, hour) in [
        ("2025-05", "2025-05-12T12:00:00+02:00"),
        ("2025-07", "2025-07-14T12:00:00+02:00"),
    ] {
        let readings: String = [
            (P2, "IMMISSIONE", "120"),
            (C1, "PRELIEVO", "100"),
            (C2, "PRELIEVO", "40"),
        ]
        .iter()
        .map(|(pod, direction, kwh)| format!("{hour};{pod};{direction};{kwh};60\n"))
        .collect();
        let response = app
            .post_csv(
                &format!("/api/v1/configurations/{}/readings", w.configuration),
                format!("timestamp;pod;direction;kwh;interval_minutes\n{readings}"),
            )
            .await;
        created(response).await;
        let response = app
            .post_csv(
                "/api/v1/market/zonal-prices",
                format!("timestamp;zone;eur_mwh;interval_minutes\n{hour};NORD;110;60\n"),
            )
            .await;
        created(response).await;
        let run = created(
            app.post(
                &app.admin_token,
                &format!("/api/v1/configurations/{}/settlements", w.configuration),
                &json!({ "period": month }),
            )
            .await,
        )
        .await;
        let plant_b = run["report"]["plants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["grant_factor"] == "0.25")
            .cloned()
            .unwrap();
        premiums.push((
            dec(&plant_b["premium_eur"]),
            plant_b["f_exempt_kwh"].clone(),
            plant_b["f_exempt"].clone(),
            run["report"]["rules"].to_string(),
        ));
    }
    let (may, july) = (&premiums[0], &premiums[1]);
    assert_eq!(may.0, Decimal::from_str("10.8").unwrap());
    assert_eq!(may.1, "0.000");
    assert!(!may.3.contains("DM MASE 16 May 2025"), "{}", may.3);
    assert_eq!(july.0, Decimal::from_str("14.4").unwrap());
    assert_eq!(july.1, "120.000");
    assert_eq!(
        july.2,
        json!([{ "holder_type": "natural_person", "shared_kwh": "120.000" }])
    );
    assert!(july.3.contains("DM MASE 16 May 2025 n. 127"), "{}", july.3);
}

/// Prices and every member's readings for March: 50 kWh from P1, 30 + 20 kWh withdrawn.
pub(crate) async fn complete_small_march(app: &TestApp, w: &World) {
    import_march_prices(app).await;
    import_readings(
        app,
        w.configuration,
        &[
            (P1, "IMMISSIONE", "50"),
            (P2, "IMMISSIONE", "0"),
            (C1, "PRELIEVO", "30"),
            (C2, "PRELIEVO", "20"),
        ],
    )
    .await;
}

/// A preview made while the configuration was a draft is stale once it is activated: it is
/// refused as such (recompute), not with the draft reason it had then.
#[tokio::test]
async fn a_draft_preview_cannot_be_finalised_after_activation() {
    let app = spawn_app().await;
    let w = draft_world(&app).await;
    complete_small_march(&app, &w).await;
    let draft = preview(&app, w.configuration).await;
    assert_eq!(
        draft["report"]["blockers"],
        json!(["the configuration is still a draft: activate it first"])
    );
    let refused = assert_detail(finalize(&app, &draft, None).await, StatusCode::CONFLICT).await;
    assert!(refused.contains("still a draft"), "{refused}");
    activate(&app, w.configuration).await;
    let stale = assert_detail(finalize(&app, &draft, None).await, StatusCode::CONFLICT).await;
    assert!(stale.contains("create a new preview"), "{stale}");
    let fresh = preview(&app, w.configuration).await;
    assert_eq!(
        fresh["finalizable"], true,
        "{}",
        fresh["report"]["problems"]
    );
    // The optional body may also be JSON `null`, as the document allows.
    assert_eq!(
        finalize(&app, &fresh, Some(Value::Null)).await.status(),
        StatusCode::OK
    );
}

/// A stored report that cannot be read is an error that names the run — never an empty
/// report, and never a zero year-to-date basis for the next month's excess premium.
#[tokio::test]
async fn a_corrupt_stored_report_is_an_error_naming_the_run() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    let w = world(&app).await;
    complete_small_march(&app, &w).await;
    let run = preview(&app, w.configuration).await;
    assert_eq!(finalize(&app, &run, None).await.status(), StatusCode::OK);
    app.db
        .execute_unprepared(&format!(
            "UPDATE settlement_runs SET report = '{{\"period\": \"2025-03\", \"totals\": 17}}' WHERE id = {}",
            run["id"]
        ))
        .await
        .unwrap();
    let detail = assert_detail(
        app.get(
            &app.admin_token,
            &format!("/api/v1/settlements/{}", run["id"]),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(
        detail.contains(&format!("settlement run {} cannot be read", run["id"])),
        "{detail}"
    );
    // April's excess premium needs March as its basis: refused, not computed on zero.
    let april = assert_detail(
        app.post(
            &app.admin_token,
            &format!("/api/v1/configurations/{}/settlements", w.configuration),
            &json!({ "period": "2025-04" }),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(
        april.contains(&format!("settlement run {} cannot be read", run["id"])),
        "{april}"
    );
    app.db
        .execute_unprepared(&format!(
            "UPDATE settlement_runs SET report_version = 9 WHERE id = {}",
            run["id"]
        ))
        .await
        .unwrap();
    let unknown = assert_detail(
        app.get(
            &app.admin_token,
            &format!("/api/v1/settlements/{}", run["id"]),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(
        unknown.contains("report version 9 is not known"),
        "{unknown}"
    );
}

/// From 4 Apr 2025 GSE counts a membership from the later of joining and its notification
/// (GSE_RULES §0): C3, a member since 2024 notified on 15 April 2025, counts only from that day;
/// C4, never notified, not at all (named as a gap); their readings stay stored, and leave the
/// configuration's figures. April 2025: P1 injects 100 kWh on the 10th and the 20th at 12:00;
/// C1 withdraws 30, C3 50 and C4 40 in both hours.
#[tokio::test]
async fn gse_counts_a_membership_from_its_notification() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let mut ids = HashMap::new();
    for (pod, notified) in [
        ("IT001E00000005", json!("2025-04-15")),
        ("IT001E00000006", Value::Null),
    ] {
        let member = created(
            app.post(
                &app.admin_token,
                "/api/v1/members/",
                &json!({ "configuration_id": w.configuration, "pod": pod, "role": "consumer",
                         "holder_type": "natural_person", "joined_at": "2024-02-01",
                         "gse_notified_on": notified }),
            )
            .await,
        )
        .await;
        ids.insert(pod, member["id"].as_i64().unwrap());
    }
    let (c3, c4) = ("IT001E00000005", "IT001E00000006");
    let mut t = chrono::DateTime::parse_from_rfc3339("2025-03-31T22:00:00Z").unwrap();
    let end = chrono::DateTime::parse_from_rfc3339("2025-04-30T22:00:00Z").unwrap();
    let special = [
        chrono::DateTime::parse_from_rfc3339("2025-04-10T10:00:00Z").unwrap(),
        chrono::DateTime::parse_from_rfc3339("2025-04-20T10:00:00Z").unwrap(),
    ];
    let rows = [
        (P1, "IMMISSIONE", "100"),
        (P2, "IMMISSIONE", "0"),
        (C1, "PRELIEVO", "30"),
        (C2, "PRELIEVO", "0"),
        (c3, "PRELIEVO", "50"),
        (c4, "PRELIEVO", "40"),
    ];
    let mut csv = String::from("timestamp;pod;direction;kwh;interval_minutes\n");
    while t < end {
        for (pod, direction, kwh) in rows {
            let value = if special.contains(&t) { kwh } else { "0" };
            csv.push_str(&format!(
                "{};{pod};{direction};{value};60\n",
                t.to_rfc3339()
            ));
        }
        t += chrono::Duration::hours(1);
    }
    created(
        app.post_csv(
            &format!("/api/v1/configurations/{}/readings", w.configuration),
            csv,
        )
        .await,
    )
    .await;
    let run = created(
        app.post(
            &app.admin_token,
            &format!("/api/v1/configurations/{}/settlements", w.configuration),
            &json!({ "period": "2025-04" }),
        )
        .await,
    )
    .await;
    let report = &run["report"];
    // The 10th: only C1's 30 kWh count; the 20th: C1 and C3, 80 kWh.
    assert_eq!(dec(&report["totals"]["withdrawn_kwh"]), Decimal::from(110));
    assert_eq!(dec(&report["totals"]["shared_kwh"]), Decimal::from(110));
    let c3_row = member_row(report, ids[c3]);
    assert_eq!(c3_row["gse_effective_from"], "2025-04-15");
    assert_eq!(dec(&c3_row["withdrawn_kwh"]), Decimal::from(50));
    assert_eq!(dec(&c3_row["shared_kwh"]), Decimal::from(50));
    let c4_row = member_row(report, ids[c4]);
    assert_eq!(c4_row["gse_effective_from"], Value::Null);
    assert_eq!(dec(&c4_row["shared_kwh"]), Decimal::ZERO);
    assert!(
        report["gaps"].as_array().unwrap().iter().any(|g| g
            == &json!(format!(
                "{c4}: the membership has not been notified to GSE (gse_notified_on): GSE does not count the point, nor does this run"
            ))),
        "{}",
        report["gaps"]
    );
    // Notifying C4 changes the inputs: the preview can no longer be finalised as it is.
    let patched = app
        .patch(
            &app.admin_token,
            &format!("/api/v1/members/{}", ids[c4]),
            &json!({ "gse_notified_on": "2025-04-01" }),
        )
        .await;
    assert_eq!(patched.status(), StatusCode::OK);
    let again = created(
        app.post(
            &app.admin_token,
            &format!("/api/v1/configurations/{}/settlements", w.configuration),
            &json!({ "period": "2025-04" }),
        )
        .await,
    )
    .await;
    // Notified before the rule came into force: counted from joining, the whole month.
    assert_eq!(
        member_row(&again["report"], ids[c4])["gse_effective_from"],
        "2024-02-01"
    );
    assert_eq!(
        dec(&again["report"]["totals"]["withdrawn_kwh"]),
        Decimal::from(190)
    );
    assert_ne!(again["fingerprint"], run["fingerprint"]);
}

/// Previews pile up while data are corrected: the older ones of a month are marked stale, runs
/// can be listed by status, and previews (never finalised runs) deleted.
#[tokio::test]
async fn previews_are_listed_by_status_marked_stale_and_deleted() {
    let app = spawn_app().await;
    let w = world(&app).await;
    complete_small_march(&app, &w).await;
    let first = preview(&app, w.configuration).await;
    let second = preview(&app, w.configuration).await;
    assert_eq!(second["stale"], false);
    let listed = |query: &'static str| {
        let app = &app;
        let path = format!(
            "/api/v1/configurations/{}/settlements{query}",
            w.configuration
        );
        async move {
            let runs: Value = app.get(&app.admin_token, &path).await.json().await.unwrap();
            runs.as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    (
                        r["id"].as_i64().unwrap(),
                        r["status"].clone(),
                        r["stale"].clone(),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    let (one, two) = (
        first["id"].as_i64().unwrap(),
        second["id"].as_i64().unwrap(),
    );
    assert_eq!(
        listed("").await,
        vec![
            (two, json!("preview"), json!(false)),
            (one, json!("preview"), json!(true))
        ]
    );
    let old: Value = app
        .get(&app.admin_token, &format!("/api/v1/settlements/{one}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(old["stale"], true);
    assert_eq!(finalize(&app, &second, None).await.status(), StatusCode::OK);
    assert_eq!(
        listed("?status=finalized").await,
        vec![(two, json!("finalized"), json!(false))]
    );
    assert_eq!(
        listed("?status=preview").await,
        vec![(one, json!("preview"), json!(true))]
    );
    assert_validation_error(
        app.get(
            &app.admin_token,
            &format!(
                "/api/v1/configurations/{}/settlements?status=draft",
                w.configuration
            ),
        )
        .await,
        &["query", "status"],
    )
    .await;

    let refused = assert_detail(
        app.delete(&app.admin_token, &format!("/api/v1/settlements/{two}"))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(refused.contains("only previews are deleted"), "{refused}");
    let deleted = app
        .delete(&app.admin_token, &format!("/api/v1/settlements/{one}"))
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&app.admin_token, &format!("/api/v1/settlements/{one}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        listed("").await,
        vec![(two, json!("finalized"), json!(false))]
    );
}

#[tokio::test]
async fn a_configuration_with_a_settlement_run_is_not_deleted_and_says_why() {
    let app = spawn_app().await;
    let org = app.create_organization("CER vuota").await;
    let configuration = created(
        app.post(
            &app.admin_token,
            "/api/v1/configurations/",
            &json!({ "name": "CER senza membri", "type": "CER", "primary_substation": "AC001E00998",
                     "market_zone": "NORD", "region": "veneto", "organization_id": org }),
        )
        .await,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    preview(&app, configuration).await;
    let path = format!("/api/v1/configurations/{configuration}");
    let response = app.delete(&app.admin_token, &path).await;
    // A plain JSON error body, never a compressed body under a mislabelled encoding.
    assert_eq!(response.headers().get("content-encoding"), None);
    let detail = assert_detail(response, StatusCode::CONFLICT).await;
    assert!(detail.contains("1 settlement run(s)"), "{detail}");
    assert!(detail.contains("close it instead"), "{detail}");
    assert_eq!(
        app.get(&app.admin_token, &path).await.status(),
        StatusCode::OK
    );
}

/// `kill -9` in the middle of a finalisation: the test holds the run's row, so the server's
/// finalisation stops at its last step — the run's status — with its settlement lines and ledger
/// rows already written in its transaction. Killed there, the server leaves the run a preview and
/// the ledger without its rows; restarted, it finalises the month once. (PostgreSQL only: on
/// SQLite a finalisation takes the database's one write lock before it writes anything, so no
/// test can hold it half-way; a kill mid-write there is covered by the import's kill test.)
#[tokio::test]
async fn a_server_killed_in_the_middle_of_a_finalisation_leaves_the_month_as_it_was() {
    use sea_orm::{ConnectionTrait, DbBackend, TransactionTrait};
    let app = spawn_app().await;
    let w = world(&app).await;
    complete_small_march(&app, &w).await;
    let run = preview(&app, w.configuration).await;
    let ledger = format!(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM transactions WHERE configuration_id = {}",
        w.configuration
    );
    let status = format!(
        "SELECT status FROM settlement_runs WHERE id = {}",
        run["id"]
    );
    let backend = app.db.get_database_backend();
    if backend != DbBackend::Postgres {
        return;
    }

    let holder = app.db.begin().await.unwrap();
    holder
        .execute_unprepared(&format!(
            "SELECT id FROM settlement_runs WHERE id = {} FOR NO KEY UPDATE",
            run["id"]
        ))
        .await
        .unwrap();
    let mut server = crate::helpers::ServerProcess::start(&app).await;
    let finalizing = {
        let request = app
            .client
            .post(server.url(&format!("/api/v1/settlements/{}/finalize", run["id"])))
            .bearer_auth(&app.admin_token);
        tokio::spawn(async move { request.send().await })
    };
    // The server's finalisation waits on the run's row: everything before is written.
    assert!(
        a_statement_waits_on_a_lock(&app.db, "UPDATE%settlement_runs%").await,
        "the finalisation never reached the run's status"
    );
    server.process.kill().unwrap();
    server.process.wait().unwrap();
    assert!(
        finalizing.await.unwrap().is_err(),
        "the server died before answering"
    );
    holder.rollback().await.unwrap();
    open_transactions_end(&app.db).await;
    assert_eq!(scalar_i64(&app.db, &ledger).await, 0);
    let row = app
        .db
        .query_one_raw(sea_orm::Statement::from_string(backend, status.clone()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.try_get::<String>("", "status").unwrap(), "preview");

    // Restarted, the server finalises the month once.
    let server = crate::helpers::ServerProcess::start(&app).await;
    let done = app
        .client
        .post(server.url(&format!("/api/v1/settlements/{}/finalize", run["id"])))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::OK);
    let rows = scalar_i64(&app.db, &ledger).await;
    assert!(rows > 0);
    let again = app
        .client
        .post(server.url(&format!("/api/v1/settlements/{}/finalize", run["id"])))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap();
    assert!(again.status().is_success() || again.status() == StatusCode::CONFLICT);
    assert_eq!(scalar_i64(&app.db, &ledger).await, rows);
}
