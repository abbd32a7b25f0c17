//! Money out and back (issue 15): GSE's figures recorded and reconciled with the finalised
//! runs, GSE's payment in the ledger, and a payout batch from preview to a SEPA file a bank
//! would accept (validated against the official schema) to the ledger's payment rows.
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use condivisa::models::enums::Language;

use crate::helpers::{
    TestApp, assert_detail, assert_validation_error, scalar_i64, spawn_app, spawn_app_with,
};
use crate::settlement::{
    C1, C2, P1, World, complete_small_march, created, dec, finalize, preview, to_cents, world,
};
use crate::smtp::SmtpSink;

const IBAN: &str = "IT60X0542811101000000123456";
const OTHER_IBAN: &str = "IT98Z1234512345123456789012";

async fn json_of(response: reqwest::Response, status: StatusCode) -> Value {
    let code = response.status();
    let body = response.text().await.unwrap();
    assert_eq!(code, status, "{body}");
    serde_json::from_str(&body).unwrap()
}

async fn put(app: &TestApp, token: &str, path: &str, body: &Value) -> reqwest::Response {
    app.client
        .put(app.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// A finalised March 2025 (50 kWh from P1, 30 + 20 withdrawn by C1 and C2); the run.
pub(crate) async fn finalised_march(app: &TestApp) -> (World, Value) {
    let w = world(app).await;
    complete_small_march(app, &w).await;
    let run = preview(app, w.configuration).await;
    assert_eq!(finalize(app, &run, None).await.status(), StatusCode::OK);
    (w, run)
}

/// Makes a member's holder (created as a draft with the member) active: a person with a
/// fiscal code, an address, the two required consents, and `iban` if given.
pub(crate) async fn activate_holder(
    app: &TestApp,
    member: i64,
    fiscal_code: &str,
    iban: Option<&str>,
) -> i64 {
    let holder = app
        .get(&app.admin_token, &format!("/api/v1/members/{member}"))
        .await
        .json::<Value>()
        .await
        .unwrap()["holder_id"]
        .as_i64()
        .unwrap();
    let mut data = json!({
        "kind": "natural_person", "first_name": "Niccolò", "last_name": "Ferrà",
        "fiscal_code": fiscal_code, "street": "Via Roma 1", "postcode": "35100",
        "municipality": "Padova", "province": "PD"
    });
    if let Some(iban) = iban {
        data["iban"] = json!(iban);
    }
    json_of(
        app.patch(
            &app.admin_token,
            &format!("/api/v1/holders/{holder}"),
            &data,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    for kind in ["privacy_notice", "statute"] {
        json_of(
            app.post(
                &app.admin_token,
                &format!("/api/v1/holders/{holder}/consents"),
                &json!({"kind": kind, "document_version": "v1", "method": "paper"}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
    }
    json_of(
        app.post(
            &app.admin_token,
            &format!("/api/v1/holders/{holder}/activate"),
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    holder
}

fn component<'a>(period: &'a Value, name: &str) -> &'a Value {
    period["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["component"] == name)
        .unwrap_or_else(|| panic!("no {name} in {period}"))
}

fn period<'a>(reconciliation: &'a Value, label: &str) -> &'a Value {
    reconciliation["periods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["period"] == label)
        .unwrap_or_else(|| panic!("no {label} in {reconciliation}"))
}

#[tokio::test]
async fn gse_figures_are_reconciled_with_the_runs_and_gses_payment_is_in_the_ledger() {
    let app = spawn_app().await;
    let (w, run) = finalised_march(&app).await;
    let c = w.configuration;
    let path = format!("/api/v1/configurations/{c}/gse-statements");
    let money = &run["report"]["money"];
    let shared = run["report"]["totals"]["shared_kwh"].as_str().unwrap();
    let premium = money["premium_cents"].as_i64().unwrap();
    let valorisation = money["valorisation_cents"].as_i64().unwrap();
    let fees = money["fees_cents"].as_i64().unwrap();
    let eur = |cents: i64| format!("{}.{:02}", cents / 100, cents % 100);

    // Bad input first: each problem named, nothing written.
    assert_validation_error(
        app.post(
            &app.admin_token,
            &path,
            &json!({"period": "2025-03", "premium_eur": "-5.00"}),
        )
        .await,
        &["body", "premium_eur"],
    )
    .await;
    for (period, says) in [
        ("2025-13", "is not a period"),
        ("2999-01", "not over yet"),
        ("2023-12", "before the configuration began"),
        ("2019-05", "first energy-sharing schemes"),
    ] {
        let body = assert_validation_error(
            app.post(
                &app.admin_token,
                &path,
                &json!({"period": period, "premium_eur": "1.00"}),
            )
            .await,
            &["body", "period"],
        )
        .await;
        assert!(body.to_string().contains(says), "{period}: {body}");
    }
    assert_validation_error(
        app.post(
            &app.admin_token,
            &path,
            &json!({"period": "2025-03", "paid_eur": "10.00"}),
        )
        .await,
        &["body", "paid_on"],
    )
    .await;
    assert_validation_error(
        app.post(
            &app.admin_token,
            &path,
            &json!({"period": "2025-03", "kind": "year", "premium_eur": "1"}),
        )
        .await,
        &["body", "period"],
    )
    .await;
    assert_validation_error(
        app.post(&app.admin_token, &path, &json!({"period": "2025-03"}))
            .await,
        &["body", "premium_eur"],
    )
    .await;
    assert_eq!(
        scalar_i64(&app.db, "SELECT COUNT(*) FROM gse_statements").await,
        0
    );

    // GSE's March: shared energy and premium as ours, valorisation 0.50 € more, fees as ours.
    let march = json_of(
        app.post(
            &app.admin_token,
            &path,
            &json!({"period": "2025-03", "shared_energy_kwh": shared, "premium_eur": eur(premium),
                    "valorisation_eur": eur(valorisation + 50), "fees_eur": eur(fees)}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(march["kind"], "month");
    assert_eq!(march["period"], "2025-03");
    assert!(march["paid_eur"].is_null());
    let again = app
        .post(
            &app.admin_token,
            &path,
            &json!({"period": "2025-03", "premium_eur": "1"}),
        )
        .await;
    assert!(
        assert_detail(again, StatusCode::CONFLICT)
            .await
            .contains("already recorded")
    );

    let reconciliation_path = format!("/api/v1/configurations/{c}/reconciliation?year=2025");
    let r = json_of(
        app.get(&app.admin_token, &reconciliation_path).await,
        StatusCode::OK,
    )
    .await;
    let m = period(&r, "2025-03");
    assert_eq!(m["status"], "differs", "{m}");
    assert_eq!(m["run_id"], run["id"]);
    assert_eq!(component(m, "shared_energy")["status"], "matched");
    assert_eq!(component(m, "premium")["status"], "matched");
    assert_eq!(component(m, "fees")["status"], "matched");
    let v = component(m, "valorisation");
    assert_eq!(
        (v["status"].as_str(), v["difference"].as_str()),
        (Some("differs"), Some("0.50"))
    );
    assert_eq!(dec(&v["gse"]) - dec(&v["computed"]), dec(&json!("0.50")));
    // A tolerance of 0.50 € makes it match.
    let tolerant = json_of(
        app.get(
            &app.admin_token,
            &format!("{reconciliation_path}&tolerance_eur=0.50"),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(period(&tolerant, "2025-03")["status"], "matched");

    // February: GSE's figures without a run of ours; April: a preview only.
    json_of(
        app.post(
            &app.admin_token,
            &path,
            &json!({"period": "2025-02", "advance_eur": "12.00"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    created(
        app.post(
            &app.admin_token,
            &format!("/api/v1/configurations/{c}/settlements/"),
            &json!({ "period": "2025-04" }),
        )
        .await,
    )
    .await;
    let r = json_of(
        app.get(&app.admin_token, &reconciliation_path).await,
        StatusCode::OK,
    )
    .await;
    let february = period(&r, "2025-02");
    assert_eq!(february["status"], "missing");
    assert_eq!(february["advance_eur"], "12.00");
    assert!(
        february["explanations"]
            .to_string()
            .contains("no settlement run"),
        "{february}"
    );
    let april = period(&r, "2025-04");
    assert_eq!(april["status"], "missing");
    assert!(
        april["explanations"].to_string().contains("only a preview"),
        "{april}"
    );
    assert!(
        april["explanations"]
            .to_string()
            .contains("not recorded yet"),
        "{april}"
    );

    // GSE pays March: once, after the month, not in the future; a gse_payment ledger row.
    let pay = format!("/api/v1/gse-statements/{}/payment", march["id"]);
    // A month's fees are a twelfth of a yearly fee GSE withholds when it pays: this payment has none.
    let paid_eur = eur(premium + valorisation + 50);
    assert_validation_error(
        app.post(
            &app.admin_token,
            &pay,
            &json!({"paid_eur": paid_eur, "paid_on": "2025-03-20"}),
        )
        .await,
        &["body", "paid_on"],
    )
    .await;
    assert_validation_error(
        app.post(
            &app.admin_token,
            &pay,
            &json!({"paid_eur": "-1.00", "paid_on": "2025-05-30"}),
        )
        .await,
        &["body", "paid_eur"],
    )
    .await;
    let paid = json_of(
        app.post(
            &app.admin_token,
            &pay,
            &json!({"paid_eur": paid_eur, "paid_on": "2025-05-30", "payment_reference": "GSE-0001"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(paid["paid_eur"], paid_eur.as_str());
    let twice = app
        .post(
            &app.admin_token,
            &pay,
            &json!({"paid_eur": "1.00", "paid_on": "2025-05-30"}),
        )
        .await;
    assert!(
        assert_detail(twice, StatusCode::CONFLICT)
            .await
            .contains("already recorded")
    );
    let rows: Value = app
        .get(
            &app.admin_token,
            &format!("/api/v1/transactions/?configuration_id={c}&kind=gse_payment"),
        )
        .await
        .json()
        .await
        .unwrap();
    let rows = rows["items"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["amount_eur"], paid_eur.as_str());
    assert!(rows[0]["member_id"].is_null());
    assert_eq!(rows[0]["reference"], format!("gse:{}", march["id"]));
    // A paid statement stays; an unpaid one recorded by mistake can go.
    let gone = app
        .delete(
            &app.admin_token,
            &format!("/api/v1/gse-statements/{}", march["id"]),
        )
        .await;
    assert_eq!(gone.status(), StatusCode::CONFLICT);
    let r = json_of(
        app.get(&app.admin_token, &reconciliation_path).await,
        StatusCode::OK,
    )
    .await;
    let ledger = &r["ledger"];
    assert_eq!(ledger["gse_paid_eur"], paid_eur.as_str());
    assert_eq!(
        to_cents(&ledger["gse_expected_eur"]),
        premium + valorisation - fees
    );
    assert_eq!(ledger["members_paid_eur"], "0.00");
    assert_eq!(
        to_cents(&ledger["cash_held_eur"]),
        to_cents(&json!(paid_eur))
    );
    let csv = app
        .get(
            &app.admin_token,
            &format!("/api/v1/configurations/{c}/reconciliation.csv?year=2025"),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(csv.contains("\r\n2025-03;valorisation;EUR;"), "{csv}");
    assert!(csv.contains(";0,50;differs;differs\r\n"), "{csv}");

    // A file: all or nothing, every problem by line.
    let import = format!("{path}/import");
    let broken =
        "periodo;tariffa_premio_eur;data_pagamento\r\n2025-01;-3,00;\r\n2025-05;12,3,4;\r\n";
    let response = app
        .client
        .post(app.url(&import))
        .bearer_auth(&app.admin_token)
        .header("content-type", "text/csv")
        .body(broken)
        .send()
        .await
        .unwrap();
    let body = json_of(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    let locs: Vec<String> = body["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| format!("{} {}", d["loc"], d["msg"]))
        .collect();
    assert!(
        locs.iter()
            .any(|l| l.starts_with("[\"body\",2]") && l.contains("negative")),
        "{locs:?}"
    );
    assert!(
        locs.iter().any(|l| l.starts_with("[\"body\",3]")),
        "{locs:?}"
    );
    let good = "periodo;tariffa_premio_eur;acconto_eur\r\n01/2025;10,00;\r\n2025-05;;7,50\r\n2025-03;1,00;\r\n";
    let response = app
        .client
        .post(app.url(&import))
        .bearer_auth(&app.admin_token)
        .header("content-type", "text/csv")
        .body(good)
        .send()
        .await
        .unwrap();
    let body = json_of(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(body.to_string().contains("already recorded"), "{body}");
    let good = "periodo;tariffa_premio_eur;acconto_eur\r\n01/2025;10,00;\r\n2025-05;;7,50\r\n";
    let response = app
        .client
        .post(app.url(&import))
        .bearer_auth(&app.admin_token)
        .header("content-type", "text/csv")
        .body(good)
        .send()
        .await
        .unwrap();
    let body = json_of(response, StatusCode::CREATED).await;
    assert_eq!(body["created"].as_array().unwrap().len(), 2);
    assert_eq!(body["created"][0]["source"], "import");
    assert_eq!(
        scalar_i64(&app.db, "SELECT COUNT(*) FROM gse_statements").await,
        4
    );
}

#[tokio::test]
async fn gse_figures_and_payouts_are_for_operators_in_scope_only() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let c = w.configuration;
    let other_org = app.create_organization("Altra").await;
    let (_, stranger) = app
        .create_user("vendor@altra.example.com", "vendor", Some(other_org))
        .await;
    let organization = crate::helpers::organization_of(&app, c).await;
    let (member_user, member_token) = app
        .create_user("socio@example.com", "user", Some(organization))
        .await;
    json_of(
        app.patch(
            &app.admin_token,
            &format!("/api/v1/members/{}", w.members[C1]),
            &json!({ "user_id": member_user }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    for path in [
        format!("/api/v1/configurations/{c}/gse-statements"),
        format!("/api/v1/configurations/{c}/reconciliation?year=2025"),
        format!("/api/v1/configurations/{c}/payouts"),
        format!("/api/v1/configurations/{c}/payout-account"),
    ] {
        assert_eq!(
            app.get(&stranger, &path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
        assert_eq!(
            app.get(&member_token, &path).await.status(),
            StatusCode::FORBIDDEN,
            "{path}"
        );
        assert_eq!(
            app.get(&app.admin_token, &path).await.status(),
            StatusCode::OK,
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_payout_batch_pays_by_sepa_file_and_holds_back_members_it_cannot_pay() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let c = w.configuration;
    complete_small_march(&app, &w).await;
    let run = preview(&app, c).await;
    let payouts = format!("/api/v1/configurations/{c}/payouts");

    // Not finalised yet: refused, naming the preview.
    let early = app
        .post(&app.admin_token, &payouts, &json!({"through": "2025-03"}))
        .await;
    assert!(
        assert_detail(early, StatusCode::CONFLICT)
            .await
            .contains("is a preview")
    );
    assert_eq!(finalize(&app, &run, None).await.status(), StatusCode::OK);
    let april = app
        .post(&app.admin_token, &payouts, &json!({"through": "2025-04"}))
        .await;
    assert!(
        assert_detail(april, StatusCode::CONFLICT)
            .await
            .contains("no finalised settlement")
    );
    assert_validation_error(
        app.post(&app.admin_token, &payouts, &json!({"through": "March"}))
            .await,
        &["body", "through"],
    )
    .await;
    assert_validation_error(
        app.post(
            &app.admin_token,
            &payouts,
            &json!({"through": "2025-03", "minimum_eur": "-1"}),
        )
        .await,
        &["body", "minimum_eur"],
    )
    .await;

    // C1 and P1 can be paid; C2 is active without an IBAN; P2's holder is still a draft.
    let c1_holder = activate_holder(&app, w.members[C1], "MRTMTT91D08F205J", Some(IBAN)).await;
    activate_holder(&app, w.members[P1], "RSSMRA85T10A562S", Some(IBAN)).await;
    activate_holder(&app, w.members[C2], "BNCGLI90A41H501E", None).await;

    let draft = json_of(
        app.post(&app.admin_token, &payouts, &json!({"through": "2025-03"}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["through"], "2025-03");
    let items = draft["items"].as_array().unwrap().clone();
    let item = |pod: &str| items.iter().find(|i| i["pod"] == pod).cloned();
    let (_, sums) = crate::settlement::ledger(&app, c).await;
    let credited = |pod: &str| -> i64 {
        sums.iter()
            .filter(|((member, _), _)| *member == Some(w.members[pod]))
            .map(|(_, (cents, _))| cents)
            .sum()
    };
    let c1 = item(C1).expect("C1 is in the batch");
    assert_eq!(c1["status"], "included");
    assert_eq!(to_cents(&c1["amount_eur"]), credited(C1));
    assert_eq!(c1["iban"], IBAN);
    assert_eq!(c1["creditor_name"], "Niccolò Ferrà");
    let c2 = item(C2).expect("C2 has a balance");
    assert_eq!(
        (c2["status"].as_str(), c2["amount_eur"].as_str()),
        (Some("held"), Some("0.00"))
    );
    assert!(c2["reason"].as_str().unwrap().contains("no IBAN"), "{c2}");
    let included: Vec<&Value> = items.iter().filter(|i| i["status"] == "included").collect();
    let total: i64 = included.iter().map(|i| to_cents(&i["amount_eur"])).sum();
    assert_eq!(to_cents(&draft["total_eur"]), total);
    assert_eq!(draft["transfers"], included.len());
    assert_eq!(draft["held"], items.len() - included.len());
    let batch = draft["id"].as_i64().unwrap();

    // One open batch at a time.
    let second = app
        .post(&app.admin_token, &payouts, &json!({"through": "2025-03"}))
        .await;
    assert!(
        assert_detail(second, StatusCode::CONFLICT)
            .await
            .contains("still draft")
    );
    // Not exported before approval; not approved by who prepared it.
    let at = |step: &str| format!("/api/v1/payouts/{batch}/{step}");
    let early = app.post(&app.admin_token, &at("export"), &json!({})).await;
    assert!(
        assert_detail(early, StatusCode::CONFLICT)
            .await
            .contains("approve it first")
    );
    let own = app.post(&app.admin_token, &at("approve"), &json!({})).await;
    assert!(
        assert_detail(own, StatusCode::FORBIDDEN)
            .await
            .contains("second person")
    );
    let organization = crate::helpers::organization_of(&app, c).await;
    let (_, vendor) = app
        .create_user("tesoriere@example.com", "vendor", Some(organization))
        .await;
    let approved = json_of(
        app.post(&vendor, &at("approve"), &json!({})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(approved["status"], "approved");

    // No payout account yet; then bad fields named; then set.
    let nowhere = app.post(&vendor, &at("export"), &json!({})).await;
    assert!(
        assert_detail(nowhere, StatusCode::CONFLICT)
            .await
            .contains("payout-account")
    );
    let account = format!("/api/v1/configurations/{c}/payout-account");
    let body = json_of(
        put(&app, &vendor, &account, &json!({"account_name": "CER Padova", "iban": "IT60X0542811101000000123457", "bic": "BP!OIT22", "minimum_eur": "-1"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
    .to_string();
    for field in ["iban", "bic", "minimum_eur"] {
        assert!(body.contains(&format!("\"{field}\"")), "{field}: {body}");
    }
    // What the schema documents is what the server takes: at most 15 integer digits.
    let huge = put(
        &app,
        &vendor,
        &account,
        &json!({"account_name": "CER Padova", "iban": OTHER_IBAN, "minimum_eur": 1_000_000_000_000_000_i64}),
    )
    .await;
    assert_validation_error(huge, &["body", "minimum_eur"]).await;
    json_of(
        put(
            &app,
            &vendor,
            &account,
            &json!({"account_name": "CER Padova & Co.", "iban": OTHER_IBAN, "bic": "bpmoit22xxx"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;

    // C1's IBAN changes after approval: the export is refused, naming the point.
    json_of(
        app.patch(
            &app.admin_token,
            &format!("/api/v1/holders/{c1_holder}"),
            &json!({"iban": OTHER_IBAN}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let moved = app.post(&vendor, &at("export"), &json!({})).await;
    let detail = assert_detail(moved, StatusCode::CONFLICT).await;
    assert!(
        detail.contains("changed after") && detail.contains(C1),
        "{detail}"
    );
    assert_eq!(
        json_of(
            app.post(&vendor, &at("cancel"), &json!({})).await,
            StatusCode::OK
        )
        .await["status"],
        "cancelled"
    );

    // A new batch with the new IBAN, approved, exported once.
    let batch = json_of(
        app.post(&app.admin_token, &payouts, &json!({"through": "2025-03"}))
            .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let at = |step: &str| format!("/api/v1/payouts/{batch}/{step}");
    json_of(
        app.post(&vendor, &at("approve"), &json!({})).await,
        StatusCode::OK,
    )
    .await;
    assert_validation_error(
        app.post(
            &vendor,
            &at("export"),
            &json!({"execution_date": "2020-01-01"}),
        )
        .await,
        &["body", "execution_date"],
    )
    .await;
    let exported = json_of(
        app.post(&vendor, &at("export"), &json!({})).await,
        StatusCode::OK,
    )
    .await;
    let c1_paid = exported["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["pod"] == C1)
        .unwrap()["amount_eur"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(exported["status"], "exported");
    let twice = app.post(&vendor, &at("export"), &json!({})).await;
    assert!(
        assert_detail(twice, StatusCode::CONFLICT)
            .await
            .contains("already exported")
    );

    let file = app.get(&vendor, &at("sepa.xml")).await;
    assert_eq!(file.status(), StatusCode::OK);
    let xml = file.bytes().await.unwrap();
    let sha: String = Sha256::digest(&xml)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(exported["file_sha256"], sha);
    crate::sepa::assert_valid_pain_001_001_09(&xml);
    let text = String::from_utf8(xml.to_vec()).unwrap();
    assert!(
        text.contains(&format!(
            "<CtrlSum>{}</CtrlSum>",
            exported["total_eur"].as_str().unwrap()
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("<NbOfTxs>{}</NbOfTxs>", exported["transfers"])),
        "{text}"
    );
    assert!(
        text.contains(&format!("<IBAN>{OTHER_IBAN}</IBAN>")),
        "{text}"
    );
    assert!(
        text.contains("Niccolo Ferra"),
        "names are transliterated, not dropped: {text}"
    );
    assert!(text.contains("<BICFI>BPMOIT22XXX</BICFI>"), "{text}");
    assert!(!text.contains(C2), "C2 is held back: {text}");

    // Paid: not in the future, then one payment row per transfer, once.
    assert_validation_error(
        app.post(&vendor, &at("paid"), &json!({"paid_on": "2999-01-01"}))
            .await,
        &["body", "paid_on"],
    )
    .await;
    // The bank's day is Italy's, as the server takes it: between 23:00 and midnight UTC it is
    // already tomorrow there.
    let today = condivisa::service::italian_today().to_string();
    let paid = json_of(
        app.post(&vendor, &at("paid"), &json!({"paid_on": today}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(paid["status"], "paid");
    let payments = || {
        scalar_i64(
            &app.db,
            "SELECT COUNT(*) FROM transactions WHERE kind = 'payment'",
        )
    };
    assert_eq!(payments().await, exported["transfers"].as_i64().unwrap());
    json_of(
        app.post(&vendor, &at("paid"), &json!({"paid_on": today}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(payments().await, exported["transfers"].as_i64().unwrap());
    let late = app
        .post(&vendor, &at("cancel"), &json!({"reason": "x"}))
        .await;
    assert!(
        assert_detail(late, StatusCode::CONFLICT)
            .await
            .contains("already paid")
    );

    // C1's statement: income and payments apart, nothing owed any more.
    let statement = json_of(
        app.get(
            &app.admin_token,
            &format!("/api/v1/members/{}/statement?year=2025", w.members[C1]),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(statement["total"]["payments_cents"], credited(C1));
    assert_eq!(statement["total"]["other_cents"], 0);
    assert_eq!(statement["balance_cents"], 0);

    // The month's PDF statement: the ledger's figures, the payment apart from the income.
    let response = app
        .get(
            &app.admin_token,
            &format!(
                "/api/v1/members/{}/statement.pdf?year=2025&month=3",
                w.members[C1]
            ),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    let text = crate::statement_pdf::pdf_text(&response.bytes().await.unwrap());
    let it = |cents: i64| condivisa::documents::money(Language::It, cents);
    assert!(
        text.contains("Niccolò Ferrà") && text.contains(C1),
        "{text}"
    );
    let march = &statement["months"][0];
    assert!(
        text.contains(&it(march["incentive_cents"].as_i64().unwrap())),
        "{text}"
    );
    assert!(
        text.contains(&it(march["valorisation_cents"].as_i64().unwrap())),
        "{text}"
    );
    assert!(text.contains(&it(credited(C1))), "the payment: {text}");
    let english = app
        .get(
            &app.admin_token,
            &format!(
                "/api/v1/members/{}/statement.pdf?year=2025&language=en",
                w.members[C1]
            ),
        )
        .await;
    assert_eq!(english.status(), StatusCode::OK);
    let text = crate::statement_pdf::pdf_text(&english.bytes().await.unwrap());
    assert!(
        text.contains(&condivisa::documents::money(Language::En, credited(C1))),
        "{text}"
    );
    assert_validation_error(
        app.get(
            &app.admin_token,
            &format!(
                "/api/v1/members/{}/statement.pdf?year=2025&month=13",
                w.members[C1]
            ),
        )
        .await,
        &["query", "month"],
    )
    .await;

    // The ledger as files: the member's rows, the configuration's payments.
    let app = &app;
    let file = |path: String| async move {
        let response = app.get(&app.admin_token, &path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        response.text().await.unwrap()
    };
    let mine = file(format!(
        "/api/v1/members/{}/transactions.csv",
        w.members[C1]
    ))
    .await;
    assert!(mine.starts_with("\u{feff}id;recorded_on;"), "{mine}");
    let paid_line = format!(
        ";{};payment;2025-03-01;2025-03-31;;-{};settled;",
        w.members[C1],
        c1_paid.replace('.', ",")
    );
    assert!(mine.contains(&paid_line), "{paid_line} in {mine}");
    assert!(mine.contains(";incentive;"), "{mine}");
    let payments_file = file(format!(
        "/api/v1/configurations/{c}/transactions.csv?kind=payment"
    ))
    .await;
    assert_eq!(
        payments_file.trim_end().lines().count() as i64,
        1 + exported["transfers"].as_i64().unwrap()
    );

    // The next batch has nothing for C1 (paid) and still holds C2 back.
    let next = json_of(
        app.post(&app.admin_token, &payouts, &json!({"through": "2025-03"}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let next_items = next["items"].as_array().unwrap();
    assert!(next_items.iter().all(|i| i["pod"] != C1), "{next}");
    assert!(
        next_items
            .iter()
            .any(|i| i["pod"] == C2 && i["status"] == "held"),
        "{next}"
    );
}

#[tokio::test]
async fn a_payment_to_a_member_is_negative_and_a_gse_payment_has_no_member() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let row = |kind: &str, member: Option<i64>, amount: &str| {
        json!({ "configuration_id": w.configuration, "member_id": member, "kind": kind,
                "period_start": "2025-03-01", "period_end": "2025-03-31", "amount_eur": amount })
    };
    assert_validation_error(
        app.post(
            &app.admin_token,
            "/api/v1/transactions/",
            &row("payment", Some(w.members[C1]), "5.00"),
        )
        .await,
        &["body", "amount_eur"],
    )
    .await;
    assert_validation_error(
        app.post(
            &app.admin_token,
            "/api/v1/transactions/",
            &row("gse_payment", Some(w.members[C1]), "5.00"),
        )
        .await,
        &["body", "member_id"],
    )
    .await;
    for (n, body) in [
        row("payment", Some(w.members[C1]), "-5.00"),
        row("gse_payment", None, "120.00"),
    ]
    .into_iter()
    .enumerate()
    {
        // With and without a key: the answer is the row as a read returns it, to the microsecond.
        let mut request = app
            .client
            .post(app.url("/api/v1/transactions/"))
            .bearer_auth(&app.admin_token)
            .json(&body);
        if n == 0 {
            request = request.header("Idempotency-Key", "pagamento-1");
        }
        let answer = json_of(request.send().await.unwrap(), StatusCode::CREATED).await;
        let read = json_of(
            app.get(
                &app.admin_token,
                &format!("/api/v1/transactions/{}", answer["id"]),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(answer, read);
    }
}

#[tokio::test]
async fn a_months_statements_are_mailed_with_the_pdf_and_a_record_of_who_got_them() {
    let sink = SmtpSink::start();
    let url = sink.url();
    let app = spawn_app_with(std::collections::HashMap::from([
        ("SMTP_URL", url.as_str()),
        ("MAIL_FROM", "CER Padova <noreply@cer-padova.example.org>"),
    ]))
    .await;
    let w = world(&app).await;
    let c = w.configuration;
    complete_small_march(&app, &w).await;
    let run = preview(&app, c).await;
    let mailings = format!("/api/v1/configurations/{c}/statement-mailings");
    let early = app
        .post(&app.admin_token, &mailings, &json!({"period": "2025-03"}))
        .await;
    assert!(
        assert_detail(early, StatusCode::CONFLICT)
            .await
            .contains("not finalised")
    );
    assert_eq!(finalize(&app, &run, None).await.status(), StatusCode::OK);
    let holder = activate_holder(&app, w.members[C1], "MRTMTT91D08F205J", Some(IBAN)).await;
    json_of(
        app.patch(
            &app.admin_token,
            &format!("/api/v1/holders/{holder}"),
            &json!({"email": "niccolo@example.org", "language": "en"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;

    let mailing = json_of(
        app.post(&app.admin_token, &mailings, &json!({"period": "2025-03"}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(mailing["queued"], 1, "{mailing}");
    let items = mailing["items"].as_array().unwrap();
    assert_eq!(mailing["skipped"], items.len() - 1);
    let to_c1 = items
        .iter()
        .find(|i| i["member_id"] == w.members[C1])
        .unwrap();
    assert_eq!(to_c1["recipient"], "niccolo@example.org");
    assert!(
        items
            .iter()
            .filter(|i| i["member_id"] != w.members[C1])
            .all(|i| i["reason"].as_str().unwrap().contains("no e-mail address")),
        "{mailing}"
    );
    let received = sink.wait_for(1).await;
    let message = &received[0];
    assert_eq!(message.to, "niccolo@example.org");
    assert_eq!(message.subject, "CER Padova: statement for 2025-03");
    assert_eq!(message.attachments.len(), 1);
    let attachment = &message.attachments[0];
    assert_eq!(attachment.content_type, "application/pdf");
    assert_eq!(
        attachment.filename.as_deref(),
        Some("statement-2025-03.pdf")
    );
    let text = crate::statement_pdf::pdf_text(&attachment.bytes());
    assert!(text.contains(C1), "{text}");

    // Once per month, unless asked again; the record says where each message stands.
    let twice = app
        .post(&app.admin_token, &mailings, &json!({"period": "2025-03"}))
        .await;
    assert!(
        assert_detail(twice, StatusCode::CONFLICT)
            .await
            .contains("already mailed")
    );
    json_of(
        app.post(
            &app.admin_token,
            &mailings,
            &json!({"period": "2025-03", "again": true}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    sink.wait_for(2).await;
    let listed = json_of(app.get(&app.admin_token, &mailings).await, StatusCode::OK).await;
    assert_eq!(listed.as_array().unwrap().len(), 2);
    let outbox_id = listed[1]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["member_id"] == w.members[C1])
        .unwrap()["outbox_id"]
        .as_i64()
        .unwrap();
    let outbox: Value = app
        .get(&app.admin_token, "/api/v1/mail/outbox")
        .await
        .json()
        .await
        .unwrap();
    let row = outbox
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == outbox_id)
        .unwrap();
    assert_eq!(row["attachment_name"], "statement-2025-03.pdf");
    assert_eq!(row["template"], "statement");
}

/// `kill -9` in the middle of a payout export: the test holds the batch's row, so the server's
/// export stops at its write — the file, its digest, the status — inside its transaction. Killed
/// there, the server leaves the batch approved with no file; restarted, it exports it once.
/// (PostgreSQL only: on SQLite the export takes the database's write lock before it writes, so no
/// test can hold it half-way; a kill mid-write there is covered by the import's kill test.)
#[tokio::test]
async fn a_server_killed_in_the_middle_of_a_payout_export_leaves_the_batch_approved() {
    use sea_orm::{ConnectionTrait, DbBackend, TransactionTrait};
    let app = spawn_app().await;
    if app.db.get_database_backend() != DbBackend::Postgres {
        return;
    }
    let (w, _) = finalised_march(&app).await;
    let c = w.configuration;
    activate_holder(&app, w.members[C1], "MRTMTT91D08F205J", Some(IBAN)).await;
    let batch = json_of(
        app.post(
            &app.admin_token,
            &format!("/api/v1/configurations/{c}/payouts"),
            &json!({"through": "2025-03"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let organization = crate::helpers::organization_of(&app, c).await;
    let (_, vendor) = app
        .create_user("tesoriere@example.com", "vendor", Some(organization))
        .await;
    json_of(
        app.post(
            &vendor,
            &format!("/api/v1/payouts/{batch}/approve"),
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    json_of(
        put(
            &app,
            &vendor,
            &format!("/api/v1/configurations/{c}/payout-account"),
            &json!({"account_name": "CER Padova", "iban": OTHER_IBAN}),
        )
        .await,
        StatusCode::OK,
    )
    .await;

    let holder = app.db.begin().await.unwrap();
    holder
        .execute_unprepared(&format!(
            "SELECT id FROM payout_batches WHERE id = {batch} FOR NO KEY UPDATE"
        ))
        .await
        .unwrap();
    let mut server = crate::helpers::ServerProcess::start(&app).await;
    let exporting = {
        let request = app
            .client
            .post(server.url(&format!("/api/v1/payouts/{batch}/export")))
            .bearer_auth(&vendor)
            .json(&json!({}));
        tokio::spawn(async move { request.send().await })
    };
    assert!(
        crate::helpers::a_statement_waits_on_a_lock(&app.db, "UPDATE%payout_batches%").await,
        "the export never reached its write"
    );
    server.process.kill().unwrap();
    server.process.wait().unwrap();
    assert!(
        exporting.await.unwrap().is_err(),
        "the server died before answering"
    );
    holder.rollback().await.unwrap();
    crate::helpers::open_transactions_end(&app.db).await;
    let state = format!(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM payout_batches WHERE id = {batch} \
         AND status = 'approved' AND file_content IS NULL"
    );
    assert_eq!(scalar_i64(&app.db, &state).await, 1, "approved, no file");
    assert_eq!(
        scalar_i64(
            &app.db,
            "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_events WHERE action = 'payout.exported'"
        )
        .await,
        0
    );

    // Restarted, the server exports the batch once.
    let server = crate::helpers::ServerProcess::start(&app).await;
    let export = || {
        app.client
            .post(server.url(&format!("/api/v1/payouts/{batch}/export")))
            .bearer_auth(&vendor)
            .json(&json!({}))
            .send()
    };
    assert_eq!(export().await.unwrap().status(), StatusCode::OK);
    assert_eq!(export().await.unwrap().status(), StatusCode::CONFLICT);
    assert_eq!(
        scalar_i64(
            &app.db,
            "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_events WHERE action = 'payout.exported'"
        )
        .await,
        1
    );
}
