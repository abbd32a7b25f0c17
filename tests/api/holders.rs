//! Holders: the people behind the points — validation of every personal field, consents and
//! activation, history and the IBAN valid on a date, scope, members deriving their holder type,
//! the holder's export, and erasure that keeps the ledger.
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

pub(crate) const IBAN: &str = "IT60X0542811101000000123456";
/// Another valid Italian IBAN (the same bank, another account; check digits and CIN computed).
pub(crate) const OTHER_IBAN: &str = "IT98Z1234512345123456789012";

pub(crate) fn person(fiscal_code: &str) -> Value {
    json!({
        "kind": "natural_person", "first_name": "Mario", "last_name": "Rossi",
        "fiscal_code": fiscal_code, "street": "Via Roma 1", "postcode": "00184",
        "municipality": "Roma", "province": "rm", "email": "Mario.Rossi@Example.com",
        "phone": "+39 333 123 4567", "iban": "it60 x054 2811 1010 0000 0123 456"
    })
}

pub(crate) fn consents() -> Value {
    json!([
        {"kind": "privacy_notice", "document_version": "2025-03", "method": "paper"},
        {"kind": "statute", "document_version": "v2", "method": "paper"}
    ])
}

pub(crate) async fn json_of(response: reqwest::Response, status: StatusCode) -> Value {
    let code = response.status();
    let body = response.text().await.unwrap();
    assert_eq!(code, status, "{body}");
    serde_json::from_str(&body).unwrap()
}

pub(crate) async fn register(app: &TestApp, token: &str, mut body: Value) -> Value {
    if body.get("organization_id").is_none() && token == app.admin_token {
        panic!("admins name the organization");
    }
    if body.get("consents").is_none() {
        body["consents"] = json!([]);
    }
    json_of(
        app.post(token, "/api/v1/holders/", &body).await,
        StatusCode::CREATED,
    )
    .await
}

async fn count(app: &TestApp, table: &str) -> i64 {
    scalar_i64(&app.db, &format!("SELECT COUNT(*) FROM {table}")).await
}

#[tokio::test]
async fn every_bad_field_is_named_and_nothing_is_written() {
    let app = spawn_app().await;
    let tenants = two_tenants(&app).await;
    let before = (
        count(&app, "holders").await,
        count(&app, "holder_revisions").await,
    );
    let response = app
        .post(
            &tenants.vendor_a.1,
            "/api/v1/holders/",
            &json!({
                "kind": "natural_person", "first_name": "Mario", "last_name": "Rossi",
                "fiscal_code": "RSSMRA85T10A562X", "street": "Via Roma 1", "postcode": "0018",
                "municipality": "Roma", "province": "XX", "email": "not-an-address",
                "phone": "333 123 4567",
                // Mod 97 recomputed over a wrong CIN: only the CIN check catches it.
                "iban": "IT64Y0542811101000000123456"
            }),
        )
        .await;
    let body = json_of(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    let fields: Vec<&str> = body["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["loc"][1].as_str().unwrap())
        .collect();
    for field in [
        "fiscal_code",
        "postcode",
        "province",
        "email",
        "phone",
        "iban",
    ] {
        assert!(fields.contains(&field), "{field} not named in {body}");
    }
    let text = body.to_string();
    assert!(text.contains("CIN"), "{text}");
    assert!(text.contains("country code"), "{text}");
    assert_eq!(
        (
            count(&app, "holders").await,
            count(&app, "holder_revisions").await
        ),
        before
    );

    // A partial address, a person with a VAT number, an organisation without its name.
    for (body, field) in [
        (
            json!({"kind": "natural_person", "first_name": "A", "last_name": "B", "street": "Via X 1"}),
            "postcode",
        ),
        (
            json!({"kind": "natural_person", "first_name": "A", "last_name": "B", "vat_number": "01234567897"}),
            "vat_number",
        ),
        (json!({"kind": "sme", "first_name": "A"}), "company_name"),
        (
            json!({"kind": "natural_person", "first_name": "A"}),
            "last_name",
        ),
        (
            json!({"kind": "sme", "company_name": "Forno Srl", "vat_number": "01234567890"}),
            "vat_number",
        ),
    ] {
        let response = app
            .post(&tenants.vendor_a.1, "/api/v1/holders/", &body)
            .await;
        assert_validation_error(response, &["body", field]).await;
    }
    assert_eq!(count(&app, "holders").await, before.0);
}

#[tokio::test]
async fn a_holder_is_activated_with_its_consents_and_a_withdrawal_is_recorded() {
    let app = spawn_app().await;
    let tenants = two_tenants(&app).await;
    let token = &tenants.vendor_a.1;
    let holder = register(&app, token, person("RSSMRA85T10A562S")).await;
    let id = holder["id"].as_i64().unwrap();
    assert_eq!(holder["status"], "draft");
    assert_eq!(holder["iban"], IBAN);
    assert_eq!(holder["phone"], "+393331234567");
    assert_eq!(holder["province"], "RM");
    assert_eq!(holder["email"], "mario.rossi@example.com");
    assert_eq!(holder["display_name"], "Mario Rossi");
    assert_eq!(holder["organization_id"], tenants.org_a);

    // Without consents: 422 naming each one missing.
    let activate = format!("/api/v1/holders/{id}/activate");
    let body = json_of(
        app.post(token, &activate, &json!({})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
    .to_string();
    assert!(
        body.contains("privacy_notice") && body.contains("statute"),
        "{body}"
    );

    let consents_path = format!("/api/v1/holders/{id}/consents");
    let mut given = Vec::new();
    for consent in consents().as_array().unwrap() {
        let row = json_of(
            app.post(token, &consents_path, consent).await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(row["in_force"], true);
        assert_eq!(row["recorded_by"], tenants.vendor_a.0);
        given.push(row["id"].as_i64().unwrap());
    }
    // A consent dated in the future is refused.
    let future = json!({"kind": "communications", "document_version": "1", "method": "email",
                        "given_at": "2999-01-01T00:00:00Z"});
    assert_validation_error(
        app.post(token, &consents_path, &future).await,
        &["body", "given_at"],
    )
    .await;
    let blank = json!({"kind": "communications", "document_version": "  ", "method": "email"});
    assert_validation_error(
        app.post(token, &consents_path, &blank).await,
        &["body", "document_version"],
    )
    .await;
    let active = json_of(app.post(token, &activate, &json!({})).await, StatusCode::OK).await;
    assert_eq!(active["status"], "active");

    // An active holder keeps its fiscal code.
    assert_validation_error(
        app.patch(
            token,
            &format!("/api/v1/holders/{id}"),
            &json!({"fiscal_code": null}),
        )
        .await,
        &["body", "fiscal_code"],
    )
    .await;

    // Withdrawing the statute puts the holder back to draft; the consent stays, withdrawn.
    let withdraw = format!("/api/v1/holders/{id}/consents/{}/withdraw", given[1]);
    let withdrawn = json_of(
        app.post(token, &withdraw, &json!({"method": "email"}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(withdrawn["in_force"], false);
    assert_eq!(withdrawn["withdrawal_method"], "email");
    assert_detail(
        app.post(token, &withdraw, &json!({"method": "email"}))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    let after = json_of(
        app.get(token, &format!("/api/v1/holders/{id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(after["status"], "draft");
    let listed = json_of(app.get(token, &consents_path).await, StatusCode::OK).await;
    assert_eq!(listed.as_array().unwrap().len(), 2);
    let history = json_of(
        app.get(token, &format!("/api/v1/holders/{id}/history"))
            .await,
        StatusCode::OK,
    )
    .await;
    let actions: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["created", "activated", "suspended"]);
    // A consent of another holder is not this holder's.
    let other = register(&app, token, person("MRTMTT91D08F205J")).await;
    let foreign = format!(
        "/api/v1/holders/{}/consents/{}/withdraw",
        other["id"], given[0]
    );
    assert_detail(
        app.post(token, &foreign, &json!({"method": "email"})).await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn changes_are_kept_and_the_iban_of_a_past_day_is_the_one_then_in_force() {
    let app = spawn_app().await;
    let tenants = two_tenants(&app).await;
    let token = &tenants.vendor_a.1;
    let holder = register(&app, token, person("RSSMRA85T10A562S")).await;
    let id = holder["id"].as_i64().unwrap();
    let updated = json_of(
        app.patch(
            token,
            &format!("/api/v1/holders/{id}"),
            &json!({"iban": OTHER_IBAN, "language": "en"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(updated["iban"], OTHER_IBAN);
    let history = json_of(
        app.get(token, &format!("/api/v1/holders/{id}/history"))
            .await,
        StatusCode::OK,
    )
    .await;
    let last = &history.as_array().unwrap()[1];
    assert_eq!(last["action"], "updated");
    assert_eq!(last["changed_by"], tenants.vendor_a.0);
    assert_eq!(last["changes"]["iban"], json!([IBAN, OTHER_IBAN]));
    assert_eq!(last["changes"]["language"], json!(["it", "en"]));
    assert_eq!(last["iban"], OTHER_IBAN);

    // As if registered ten days ago and changed today: five days ago the first IBAN held.
    let (created_id, changed_id) = (
        history[0]["id"].as_i64().unwrap(),
        last["id"].as_i64().unwrap(),
    );
    use sea_orm::ConnectionTrait;
    let ten_days_ago = (chrono::Utc::now() - chrono::Duration::days(10)).to_rfc3339();
    app.db
        .execute_unprepared(&format!(
            "UPDATE holder_revisions SET changed_at = '{ten_days_ago}' WHERE id = {created_id}"
        ))
        .await
        .unwrap();
    // Italian days, as the route reads them: from 23:00 UTC (22:00 in summer) Italy is
    // already on the next day.
    let day = |days: i64| {
        (chrono::Utc::now().with_timezone(&chrono_tz::Europe::Rome) - chrono::Duration::days(days))
            .date_naive()
    };
    let on = |d: chrono::NaiveDate| format!("/api/v1/holders/{id}/iban?on={d}");
    let then = json_of(app.get(token, &on(day(5))).await, StatusCode::OK).await;
    assert_eq!(then["iban"], IBAN);
    let now = json_of(app.get(token, &on(day(0))).await, StatusCode::OK).await;
    assert_eq!(now["iban"], OTHER_IBAN);
    let before = json_of(app.get(token, &on(day(20))).await, StatusCode::OK).await;
    assert_eq!(before["iban"], Value::Null);
    assert!(changed_id > created_id);
    assert_validation_error(
        app.get(token, &format!("/api/v1/holders/{id}/iban?on=yesterday"))
            .await,
        &["query", "on"],
    )
    .await;

    // PostgreSQL's column lengths are checked for every database, before writing.
    assert_validation_error(
        app.patch(
            token,
            &format!("/api/v1/holders/{id}"),
            &json!({"first_name": "x".repeat(101)}),
        )
        .await,
        &["body", "first_name"],
    )
    .await;
    // An unchanged PATCH records nothing.
    app.patch(
        token,
        &format!("/api/v1/holders/{id}"),
        &json!({"iban": OTHER_IBAN}),
    )
    .await;
    let again = json_of(
        app.get(token, &format!("/api/v1/holders/{id}/history"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(again.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn holders_are_seen_only_within_scope_and_fiscal_codes_are_unique_per_organization() {
    let app = spawn_app().await;
    let tenants = two_tenants(&app).await;
    let mut body = person("RSSMRA85T10A562S");
    body["user_id"] = json!(tenants.user_a.0);
    let own = register(&app, &tenants.vendor_a.1, body).await;
    let id = own["id"].as_i64().unwrap();
    let path = format!("/api/v1/holders/{id}");

    // The same person twice in one organization: 409 naming the holder. In another: fine.
    let again = assert_detail(
        app.post(
            &tenants.vendor_a.1,
            "/api/v1/holders/",
            &person("RSSMRA85T10A562S"),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(again.contains(&format!("Holder {id}")), "{again}");
    register(&app, &tenants.vendor_b.1, person("RSSMRA85T10A562S")).await;

    // The other tenant's vendor, and a referent it does not concern: 404.
    assert_detail(
        app.get(&tenants.vendor_b.1, &path).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_detail(
        app.get(&tenants.referent_a1.1, &path).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_detail(
        app.get(&tenants.referent_a1.1, &format!("{path}/export"))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    // Its own user sees it and may not change it.
    json_of(app.get(&tenants.user_a.1, &path).await, StatusCode::OK).await;
    assert_eq!(
        app.patch(
            &tenants.user_a.1,
            &path,
            &json!({"phone": "+39 06 1234 5678"})
        )
        .await
        .status(),
        StatusCode::FORBIDDEN
    );
    let mine = app.get(&tenants.user_a.1, "/api/v1/holders/").await;
    assert_eq!(mine.headers()["x-total-count"], "1");

    // A referent sees the holders with a point in its configuration, and those it registered.
    let member = json_of(
        app.post(
            &tenants.vendor_a.1,
            "/api/v1/members/",
            &json!({"configuration_id": tenants.a1, "pod": "IT001E00112233", "role": "consumer",
                    "holder_id": id, "joined_at": "2024-02-01"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(member["holder_id"], id);
    assert_eq!(member["holder_type"], "natural_person");
    json_of(app.get(&tenants.referent_a1.1, &path).await, StatusCode::OK).await;
    let registered = register(
        &app,
        &tenants.referent_a1.1,
        json!({"kind": "association", "company_name": "Pro Loco"}),
    )
    .await;
    json_of(
        app.get(
            &tenants.referent_a1.1,
            &format!("/api/v1/holders/{}", registered["id"]),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let listed = app
        .get(
            &tenants.referent_a1.1,
            &format!("/api/v1/holders/?configuration_id={}", tenants.a1),
        )
        .await;
    assert_eq!(listed.headers()["x-total-count"], "1");
    let search = app
        .get(&tenants.vendor_a.1, "/api/v1/holders?search=rossi")
        .await;
    assert_eq!(search.headers()["x-total-count"], "1");
    // The other tenant's vendor cannot attach a point to it either.
    let foreign = app
        .post(
            &tenants.vendor_b.1,
            "/api/v1/members/",
            &json!({"configuration_id": tenants.b1, "pod": "IT001E00998877", "role": "consumer",
                    "holder_id": id, "joined_at": "2024-02-01"}),
        )
        .await;
    assert_validation_error(foreign, &["body", "holder_id"]).await;
}

#[tokio::test]
async fn a_members_holder_type_is_its_holders_kind() {
    let app = spawn_app().await;
    let tenants = two_tenants(&app).await;
    let token = &tenants.vendor_a.1;
    // Without a holder: a draft one is registered with the member, of its holder type.
    let member = json_of(
        app.post(
            token,
            "/api/v1/members/",
            &json!({"configuration_id": tenants.a1, "pod": "IT001E00112233", "role": "consumer",
                    "holder_type": "sme", "joined_at": "2024-02-01"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let holder_id = member["holder_id"]
        .as_i64()
        .expect("a holder was registered");
    let draft = json_of(
        app.get(token, &format!("/api/v1/holders/{holder_id}"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (draft["kind"].as_str(), draft["status"].as_str()),
        (Some("sme"), Some("draft"))
    );
    // Neither a holder nor a type: 422.
    assert_validation_error(
        app.post(
            token,
            "/api/v1/members/",
            &json!({"configuration_id": tenants.a1, "pod": "IT001E00112234", "role": "consumer",
                    "joined_at": "2024-02-01"}),
        )
        .await,
        &["body", "holder_type"],
    )
    .await;
    // A type that is not the named holder's: 422.
    assert_validation_error(
        app.post(
            token,
            "/api/v1/members/",
            &json!({"configuration_id": tenants.a1, "pod": "IT001E00112235", "role": "consumer",
                    "holder_id": holder_id, "holder_type": "natural_person",
                    "joined_at": "2024-02-01"}),
        )
        .await,
        &["body", "holder_type"],
    )
    .await;
    // A second point of the same holder.
    let second = json_of(
        app.post(
            token,
            "/api/v1/members/",
            &json!({"configuration_id": tenants.a2, "pod": "IT001E00112236", "role": "consumer",
                    "holder_id": holder_id, "joined_at": "2024-02-01"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    // The kind changes on the holder, for both points…
    let path = format!("/api/v1/holders/{holder_id}");
    json_of(
        app.patch(
            token,
            &path,
            &json!({"kind": "public_body", "company_name": "Comune"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    for id in [&member["id"], &second["id"]] {
        let m = json_of(
            app.get(token, &format!("/api/v1/members/{id}")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(m["holder_type"], "public_body");
    }
    // …not on one of its points…
    assert_validation_error(
        app.patch(
            token,
            &format!("/api/v1/members/{}", member["id"]),
            &json!({"holder_type": "sme"}),
        )
        .await,
        &["body", "holder_type"],
    )
    .await;
    // …and not to a kind a CER refuses, naming the point.
    let refused = json_of(
        app.patch(token, &path, &json!({"kind": "other_company"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(refused.to_string().contains("IT001E00112233"), "{refused}");
    // Moving a point to another holder (merging) takes that holder's kind.
    let person = register(&app, token, person("RSSMRA85T10A562S")).await;
    let moved = json_of(
        app.patch(
            token,
            &format!("/api/v1/members/{}", second["id"]),
            &json!({"holder_id": person["id"]}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(moved["holder_type"], "natural_person");
    // A holder with one point may change its type through the point.
    let alone = json_of(
        app.patch(
            token,
            &format!("/api/v1/members/{}", member["id"]),
            &json!({"holder_type": "sme"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(alone["holder_type"], "sme");
    let holder = json_of(app.get(token, &path).await, StatusCode::OK).await;
    assert_eq!(holder["kind"], "sme");
}

#[tokio::test]
async fn a_holder_downloads_everything_and_erasure_keeps_the_ledger() {
    let app = spawn_app().await;
    let tenants = two_tenants(&app).await;
    let token = &tenants.vendor_a.1;
    let mut body = person("RSSMRA85T10A562S");
    body["user_id"] = json!(tenants.user_a.0);
    body["consents"] = consents();
    let holder = register(&app, token, body).await;
    let id = holder["id"].as_i64().unwrap();
    let member = json_of(
        app.post(
            token,
            "/api/v1/members/",
            &json!({"configuration_id": tenants.a1, "pod": "IT001E00112233", "role": "consumer",
                    "holder_id": id, "joined_at": "2024-02-01", "user_id": tenants.user_a.0}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    json_of(
        app.post(
            token,
            "/api/v1/transactions/",
            &json!({"configuration_id": tenants.a1, "member_id": member["id"],
                    "kind": "adjustment", "amount_eur": "12.34",
                    "period_start": "2025-01-01", "period_end": "2025-01-31"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;

    // The holder's own account downloads everything.
    let export = json_of(
        app.get(&tenants.user_a.1, &format!("/api/v1/holders/{id}/export"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(export["holder"]["fiscal_code"], "RSSMRA85T10A562S");
    assert_eq!(export["consents"].as_array().unwrap().len(), 2);
    assert_eq!(export["history"][0]["changes"]["iban"][1], IBAN);
    assert_eq!(export["members"][0]["pod"], "IT001E00112233");
    assert_eq!(export["transactions"][0]["amount_eur"], "12.34");

    // Only admins and vendors erase.
    let erase = format!("/api/v1/holders/{id}/erase");
    assert_eq!(
        app.post(&tenants.referent_a1.1, &erase, &json!({}))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let erased = json_of(app.post(token, &erase, &json!({})).await, StatusCode::OK).await;
    assert_eq!(erased["status"], "erased");
    for field in [
        "first_name",
        "last_name",
        "fiscal_code",
        "street",
        "postcode",
        "email",
        "phone",
        "iban",
        "user_id",
        "display_name",
    ] {
        assert_eq!(erased[field], Value::Null, "{field}");
    }
    // Nothing personal is left anywhere the holder's data is shown.
    let after = json_of(
        app.get(token, &format!("/api/v1/holders/{id}/export"))
            .await,
        StatusCode::OK,
    )
    .await
    .to_string();
    for personal in [
        "RSSMRA85T10A562S",
        "Rossi",
        "IT60X054",
        "mario.rossi",
        "3331234567",
    ] {
        assert!(
            !after.contains(personal),
            "{personal} survived erasure: {after}"
        );
    }
    assert!(
        after.contains("\"iban\""),
        "the history still names the changed fields"
    );
    // The ledger and the points are intact.
    assert_eq!(
        scalar_i64(
            &app.db,
            &format!(
                "SELECT COUNT(*) FROM transactions WHERE member_id = {}",
                member["id"]
            )
        )
        .await,
        1
    );
    json_of(
        app.get(token, &format!("/api/v1/members/{}", member["id"]))
            .await,
        StatusCode::OK,
    )
    .await;
    // Erased is final: no more changes, no new points; erasing again changes nothing.
    assert_detail(
        app.patch(
            token,
            &format!("/api/v1/holders/{id}"),
            &json!({"phone": "+39 06 1234 5678"}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_validation_error(
        app.post(
            token,
            "/api/v1/members/",
            &json!({"configuration_id": tenants.a1, "pod": "IT001E00445566", "role": "consumer",
                    "holder_id": id, "joined_at": "2024-02-01"}),
        )
        .await,
        &["body", "holder_id"],
    )
    .await;
    let twice = json_of(app.post(token, &erase, &json!({})).await, StatusCode::OK).await;
    assert_eq!(twice["erased_at"], erased["erased_at"]);
    // The account is no longer the holder's portal: the fiscal code may be registered again.
    register(&app, token, person("RSSMRA85T10A562S")).await;
}
