use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

async fn id_of(response: reqwest::Response) -> i64 {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_i64().unwrap()
}

fn configuration_body(name: &str, kind: &str, organization: i64) -> Value {
    json!({
        "name": name,
        "type": kind,
        "primary_substation": "ac001e00123",
        "market_zone": "NORD",
        "region": "piemonte",
        "organization_id": organization,
        "constituted_on": "2024-01-10",
        "municipality_population": 12_000,
    })
}

async fn create_configuration(app: &TestApp, name: &str, kind: &str, organization: i64) -> i64 {
    id_of(
        app.post(
            &app.admin_token,
            "/api/v1/configurations/",
            &configuration_body(name, kind, organization),
        )
        .await,
    )
    .await
}

fn member_body(configuration: i64, pod: &str, role: &str) -> Value {
    json!({ "configuration_id": configuration, "pod": pod, "role": role, "holder_type": "natural_person", "joined_at": "2024-02-01" })
}

async fn create_member(app: &TestApp, configuration: i64, pod: &str, role: &str) -> i64 {
    id_of(
        app.post(
            &app.admin_token,
            "/api/v1/members/",
            &member_body(configuration, pod, role),
        )
        .await,
    )
    .await
}

fn plant_body(member: i64, power_kw: &str, commissioned_on: &str) -> Value {
    json!({ "member_id": member, "name": "Impianto", "source": "pv", "power_kw": power_kw, "commissioned_on": commissioned_on })
}

#[tokio::test]
async fn a_configuration_is_created_in_draft_with_normalised_codes() {
    let app = spawn_app().await;
    let org = app.create_organization("CER Piemonte").await;
    let (referent, _) = app
        .create_user("ref@example.com", "referent", Some(org))
        .await;
    let mut body = configuration_body("CER Torino Nord", "CER", org);
    body["referent_id"] = json!(referent);
    body["description"] = json!("Condominio e scuola");
    let response = app
        .post(&app.admin_token, "/api/v1/configurations", &body)
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["status"], "draft");
    assert_eq!(created["type"], "CER");
    assert_eq!(created["primary_substation"], "AC001E00123");
    assert_eq!(created["referent_id"], referent);
    assert_eq!(created["constituted_on"], "2024-01-10");
    assert_eq!(created["activation_date"], Value::Null);
    let fetched: Value = app
        .get(
            &app.admin_token,
            &format!("/api/v1/configurations/{}", created["id"]),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fetched, created);
}

#[tokio::test]
async fn configuration_fields_are_validated() {
    let app = spawn_app().await;
    let org = app.create_organization("Org").await;
    let cases = [
        ("primary_substation", json!("AC001")),
        ("primary_substation", json!("AC001E0012!")),
        ("type", json!("CEC")),
        ("market_zone", json!("ITALIA")),
        ("region", json!("Padania")),
        ("constituted_on", json!("2024-13-01")),
        ("status", json!("active")),
    ];
    for (field, value) in cases {
        let mut body = configuration_body("X", "CER", org);
        body[field] = value;
        assert_validation_error(
            app.post(&app.admin_token, "/api/v1/configurations/", &body)
                .await,
            &["body", field],
        )
        .await;
    }
    let mut body = configuration_body("X", "CER", org);
    body.as_object_mut().unwrap().remove("organization_id");
    assert_validation_error(
        app.post(&app.admin_token, "/api/v1/configurations/", &body)
            .await,
        &["body", "organization_id"],
    )
    .await;
    // The referent must be a referent of the same organization.
    let other = app.create_organization("Other").await;
    let (foreign_referent, _) = app
        .create_user("r2@example.com", "referent", Some(other))
        .await;
    let (plain_user, _) = app.create_user("u@example.com", "user", Some(org)).await;
    for referent in [foreign_referent, plain_user, 999_999] {
        let mut body = configuration_body("X", "CER", org);
        body["referent_id"] = json!(referent);
        assert_validation_error(
            app.post(&app.admin_token, "/api/v1/configurations/", &body)
                .await,
            &["body", "referent_id"],
        )
        .await;
    }
}

#[tokio::test]
async fn the_status_moves_only_along_its_lifecycle() {
    let app = spawn_app().await;
    let org = app.create_organization("Org").await;
    let id = create_configuration(&app, "C", "CER", org).await;
    let path = format!("/api/v1/configurations/{id}");
    let set = |status: &'static str| {
        let (app, path) = (&app, &path);
        async move {
            app.patch(&app.admin_token, path, &json!({ "status": status }))
                .await
        }
    };
    let refused = set("suspended").await;
    let detail = assert_detail(refused, StatusCode::CONFLICT).await;
    assert!(
        detail.contains("draft") && detail.contains("suspended"),
        "{detail}"
    );
    assert_eq!(set("closed").await.status(), StatusCode::CONFLICT);
    let activated: Value = set("active").await.json().await.unwrap();
    assert_eq!(activated["status"], "active");
    assert!(
        activated["activation_date"].is_string(),
        "activation sets the date"
    );
    assert_eq!(set("suspended").await.status(), StatusCode::OK);
    assert_eq!(set("active").await.status(), StatusCode::OK);
    assert_eq!(set("draft").await.status(), StatusCode::CONFLICT);
    assert_eq!(set("closed").await.status(), StatusCode::OK);
    assert_eq!(set("active").await.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_configuration_is_deleted_only_while_empty() {
    let app = spawn_app().await;
    let org = app.create_organization("Org").await;
    let empty = create_configuration(&app, "Empty", "CER", org).await;
    assert_eq!(
        app.delete(&app.admin_token, &format!("/api/v1/configurations/{empty}"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get(&app.admin_token, &format!("/api/v1/configurations/{empty}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    let busy = create_configuration(&app, "Busy", "CER", org).await;
    create_member(&app, busy, "IT001E00000001", "consumer").await;
    let detail = assert_detail(
        app.delete(&app.admin_token, &format!("/api/v1/configurations/{busy}"))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(detail.contains("member"), "{detail}");
}

#[tokio::test]
async fn configurations_list_filters_and_counts() {
    let app = spawn_app().await;
    let org = app.create_organization("Org").await;
    let a = create_configuration(&app, "Solare Alpha", "CER", org).await;
    create_configuration(&app, "Condominio Beta", "AUC", org).await;
    create_configuration(&app, "Casa Gamma", "AID", org).await;
    app.patch(
        &app.admin_token,
        &format!("/api/v1/configurations/{a}"),
        &json!({ "status": "active" }),
    )
    .await;

    let check = |query: &'static str, expected: Vec<&'static str>| {
        let app = &app;
        async move {
            let response = app
                .get(
                    &app.admin_token,
                    &format!("/api/v1/configurations/?{query}"),
                )
                .await;
            assert_eq!(response.status(), StatusCode::OK);
            let total = response.headers()["x-total-count"]
                .to_str()
                .unwrap()
                .to_string();
            let rows: Vec<Value> = response.json().await.unwrap();
            let names: Vec<&str> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
            assert_eq!(names, expected, "{query}");
            total.parse::<usize>().unwrap()
        }
    };
    assert_eq!(
        check("", vec!["Solare Alpha", "Condominio Beta", "Casa Gamma"]).await,
        3
    );
    assert_eq!(check("status=active", vec!["Solare Alpha"]).await, 1);
    assert_eq!(check("type=AUC", vec!["Condominio Beta"]).await, 1);
    assert_eq!(check("search=GAMMA", vec!["Casa Gamma"]).await, 1);
    // The header counts every match, the page holds `limit` of them.
    assert_eq!(check("skip=1&limit=1", vec!["Condominio Beta"]).await, 3);
    assert_validation_error(
        app.get(&app.admin_token, "/api/v1/configurations/?type=XYZ")
            .await,
        &["query", "type"],
    )
    .await;
}

#[tokio::test]
async fn a_pod_takes_part_in_one_configuration_at_a_time() {
    let app = spawn_app().await;
    let org = app.create_organization("Org").await;
    let first = create_configuration(&app, "First", "CER", org).await;
    let second = create_configuration(&app, "Second", "CER", org).await;
    let member = create_member(&app, first, "it001e12345678", "consumer").await;

    let member_json: Value = app
        .get(&app.admin_token, &format!("/api/v1/members/{member}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(member_json["pod"], "IT001E12345678");

    let elsewhere = app
        .post(
            &app.admin_token,
            "/api/v1/members/",
            &member_body(second, "IT001E12345678", "consumer"),
        )
        .await;
    let detail = assert_detail(elsewhere, StatusCode::CONFLICT).await;
    assert!(detail.contains("one configuration at a time"), "{detail}");

    // Withdrawn from 1 June: it may join the other configuration from that day, not before.
    let withdraw = app
        .patch(
            &app.admin_token,
            &format!("/api/v1/members/{member}"),
            &json!({ "status": "withdrawn", "withdrawn_at": "2024-06-01" }),
        )
        .await;
    assert_eq!(withdraw.status(), StatusCode::OK);
    let mut early = member_body(second, "IT001E12345678", "consumer");
    early["joined_at"] = json!("2024-05-31");
    assert_eq!(
        app.post(&app.admin_token, "/api/v1/members/", &early)
            .await
            .status(),
        StatusCode::CONFLICT
    );
    let mut on_time = member_body(second, "IT001E12345678", "consumer");
    on_time["joined_at"] = json!("2024-06-01");
    assert_eq!(
        app.post(&app.admin_token, "/api/v1/members/", &on_time)
            .await
            .status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn concurrent_joins_of_one_pod_let_exactly_one_through() {
    let app = spawn_app().await;
    let org = app.create_organization("Org").await;
    let first = create_configuration(&app, "First", "CER", org).await;
    let second = create_configuration(&app, "Second", "CER", org).await;
    let a = member_body(first, "IT001E55555555", "consumer");
    let b = member_body(second, "IT001E55555555", "consumer");
    let (ra, rb) = tokio::join!(
        app.post(&app.admin_token, "/api/v1/members/", &a),
        app.post(&app.admin_token, "/api/v1/members/", &b)
    );
    let mut statuses = [ra.status(), rb.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CONFLICT]);
}

#[tokio::test]
async fn member_rules_are_enforced_with_the_rule_named() {
    let app = spawn_app().await;
    let org = app.create_organization("Org").await;
    let cer = create_configuration(&app, "CER", "CER", org).await;
    let auc = create_configuration(&app, "AUC", "AUC", org).await;

    let mut large = member_body(cer, "IT001E00000011", "consumer");
    large["holder_type"] = json!("other_company");
    let body = assert_validation_error(
        app.post(&app.admin_token, "/api/v1/members/", &large).await,
        &["body", "holder_type"],
    )
    .await;
    assert!(body.to_string().contains("large enterprise"), "{body}");
    large["configuration_id"] = json!(auc);
    assert_eq!(
        app.post(&app.admin_token, "/api/v1/members/", &large)
            .await
            .status(),
        StatusCode::CREATED
    );

    let mut ssp = member_body(cer, "IT001E00000012", "consumer");
    ssp["net_metering"] = json!(true);
    let body = assert_validation_error(
        app.post(&app.admin_token, "/api/v1/members/", &ssp).await,
        &["body", "net_metering"],
    )
    .await;
    assert!(body.to_string().contains("Scambio sul Posto"), "{body}");
    ssp["role"] = json!("producer");
    assert_eq!(
        app.post(&app.admin_token, "/api/v1/members/", &ssp)
            .await
            .status(),
        StatusCode::CREATED
    );

    for pod in ["IT001E1234567", "FR001E12345678", "IT001X12345678"] {
        assert_validation_error(
            app.post(
                &app.admin_token,
                "/api/v1/members/",
                &member_body(cer, pod, "consumer"),
            )
            .await,
            &["body", "pod"],
        )
        .await;
    }
    let mut backwards = member_body(cer, "IT001E00000013", "consumer");
    backwards["withdrawn_at"] = json!("2024-01-01");
    assert_validation_error(
        app.post(&app.admin_token, "/api/v1/members/", &backwards)
            .await,
        &["body", "withdrawn_at"],
    )
    .await;

    let member = create_member(&app, cer, "IT001E00000014", "consumer").await;
    let no_date = app
        .patch(
            &app.admin_token,
            &format!("/api/v1/members/{member}"),
            &json!({ "status": "withdrawn" }),
        )
        .await;
    assert_validation_error(no_date, &["body", "withdrawn_at"]).await;
    let pod_change = app
        .patch(
            &app.admin_token,
            &format!("/api/v1/members/{member}"),
            &json!({ "pod": "IT001E00000099" }),
        )
        .await;
    assert_validation_error(pod_change, &["body", "pod"]).await;
}

#[tokio::test]
async fn an_aid_has_exactly_one_final_customer() {
    let app = spawn_app().await;
    let org = app.create_organization("Org").await;
    let aid = create_configuration(&app, "AID", "AID", org).await;
    let (customer, _) = app
        .create_user("cliente@example.com", "user", Some(org))
        .await;
    let (someone_else, _) = app
        .create_user("altro@example.com", "user", Some(org))
        .await;

    let unlinked = app
        .post(
            &app.admin_token,
            "/api/v1/members/",
            &member_body(aid, "IT001E00000021", "consumer"),
        )
        .await;
    assert_validation_error(unlinked, &["body", "user_id"]).await;

    let mut first = member_body(aid, "IT001E00000021", "consumer");
    first["user_id"] = json!(customer);
    assert_eq!(
        app.post(&app.admin_token, "/api/v1/members/", &first)
            .await
            .status(),
        StatusCode::CREATED
    );
    let mut second = member_body(aid, "IT001E00000022", "prosumer");
    second["user_id"] = json!(customer);
    assert_eq!(
        app.post(&app.admin_token, "/api/v1/members/", &second)
            .await
            .status(),
        StatusCode::CREATED
    );
    let mut intruder = member_body(aid, "IT001E00000023", "consumer");
    intruder["user_id"] = json!(someone_else);
    let detail = assert_detail(
        app.post(&app.admin_token, "/api/v1/members/", &intruder)
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(detail.contains("one final customer"), "{detail}");
    // A producer that is not a final customer may belong to someone else.
    let mut producer = member_body(aid, "IT001E00000024", "producer");
    producer["user_id"] = json!(someone_else);
    assert_eq!(
        app.post(&app.admin_token, "/api/v1/members/", &producer)
            .await
            .status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn members_are_deleted_only_without_plants_or_transactions() {
    let app = spawn_app().await;
    let org = app.create_organization("Org").await;
    let cer = create_configuration(&app, "CER", "CER", org).await;
    let producer = create_member(&app, cer, "IT001E00000031", "producer").await;
    let plant = id_of(
        app.post(
            &app.admin_token,
            "/api/v1/plants/",
            &plant_body(producer, "10", "2024-05-01"),
        )
        .await,
    )
    .await;
    assert_eq!(
        app.delete(&app.admin_token, &format!("/api/v1/members/{producer}"))
            .await
            .status(),
        StatusCode::CONFLICT
    );
    // Nor can it stop producing while it has plants.
    let demote = app
        .patch(
            &app.admin_token,
            &format!("/api/v1/members/{producer}"),
            &json!({ "role": "consumer" }),
        )
        .await;
    assert_eq!(demote.status(), StatusCode::CONFLICT);
    assert_eq!(
        app.delete(&app.admin_token, &format!("/api/v1/plants/{plant}"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.delete(&app.admin_token, &format!("/api/v1/members/{producer}"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );

    let consumer = create_member(&app, cer, "IT001E00000032", "consumer").await;
    let row = json!({ "configuration_id": cer, "member_id": consumer, "kind": "payment", "period_start": "2025-01-01", "period_end": "2025-01-31", "amount_eur": "-5.00" });
    assert_eq!(
        app.post(&app.admin_token, "/api/v1/transactions/", &row)
            .await
            .status(),
        StatusCode::CREATED
    );
    let detail = assert_detail(
        app.delete(&app.admin_token, &format!("/api/v1/members/{consumer}"))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(detail.contains("withdraw"), "{detail}");
}

#[tokio::test]
async fn members_list_filters_and_searches_the_linked_user() {
    let app = spawn_app().await;
    let org = app.create_organization("Org").await;
    let cer = create_configuration(&app, "CER", "CER", org).await;
    let other = create_configuration(&app, "Other", "CER", org).await;
    let response = app
        .post(&app.admin_token, "/api/v1/users/", &json!({ "email": "maria.verdi@example.com", "full_name": "Maria Verdi", "password": PASSWORD, "organization_id": org }))
        .await;
    let maria = response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let mut linked = member_body(cer, "IT001E00000041", "prosumer");
    linked["user_id"] = json!(maria);
    assert_eq!(
        app.post(&app.admin_token, "/api/v1/members/", &linked)
            .await
            .status(),
        StatusCode::CREATED
    );
    create_member(&app, cer, "IT001E00000042", "consumer").await;
    create_member(&app, other, "IT002E00000043", "consumer").await;

    let pods = |query: &'static str| {
        let app = &app;
        async move {
            let response = app
                .get(&app.admin_token, &format!("/api/v1/members?{query}"))
                .await;
            let total: usize = response.headers()["x-total-count"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            let rows: Vec<Value> = response.json().await.unwrap();
            let pods: Vec<String> = rows
                .iter()
                .map(|r| r["pod"].as_str().unwrap().to_string())
                .collect();
            assert_eq!(pods.len(), total, "{query}: one page holds them all");
            (pods, total)
        }
    };
    assert_eq!(pods("").await.1, 3);
    assert_eq!(
        pods("configuration_id=1").await.0,
        ["IT001E00000041", "IT001E00000042"]
    );
    assert_eq!(pods("role=prosumer").await.0, ["IT001E00000041"]);
    assert_eq!(pods("search=verdi").await.0, ["IT001E00000041"]);
    assert_eq!(pods("search=it002").await.0, ["IT002E00000043"]);
    assert_eq!(pods("holder_type=sme").await.1, 0);
}

#[tokio::test]
async fn plant_rules_are_enforced() {
    let app = spawn_app().await;
    let org = app.create_organization("Org").await;
    let cer = create_configuration(&app, "CER", "CER", org).await;
    let consumer = create_member(&app, cer, "IT001E00000051", "consumer").await;
    let producer = create_member(&app, cer, "IT001E00000052", "producer").await;

    let detail = assert_detail(
        app.post(
            &app.admin_token,
            "/api/v1/plants/",
            &plant_body(consumer, "10", "2024-05-01"),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(detail.contains("producer or prosumer"), "{detail}");

    // The CER was constituted on 2024-01-10: a new plant cannot predate it.
    let early = app
        .post(
            &app.admin_token,
            "/api/v1/plants/",
            &plant_body(producer, "10", "2023-06-01"),
        )
        .await;
    assert_validation_error(early, &["body", "commissioned_on"]).await;

    let response = app
        .post(
            &app.admin_token,
            "/api/v1/plants/",
            &plant_body(producer, "1000.001", "2024-05-01"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let big: Value = response.json().await.unwrap();
    assert_eq!(big["power_kw"], "1000.001");
    assert_eq!(big["incentive_eligible"], false);
    assert_eq!(big["existing"], false);

    for (field, value) in [
        ("power_kw", json!("0")),
        ("power_kw", json!("1.0001")),
        ("power_kw", json!("abc")),
        ("capital_grant_share", json!("0.41")),
        ("source", json!("nuclear")),
    ] {
        let mut body = plant_body(producer, "10", "2024-05-01");
        body[field] = value;
        assert_validation_error(
            app.post(&app.admin_token, "/api/v1/plants/", &body).await,
            &["body", field],
        )
        .await;
    }

    // Existing plants: 300 kW existing vs 1000.001 kW new is within 30%; 400 kW more is not.
    let existing = app
        .post(
            &app.admin_token,
            "/api/v1/plants/",
            &plant_body(producer, "300", "2020-01-01"),
        )
        .await;
    assert_eq!(existing.status(), StatusCode::CREATED);
    let existing: Value = existing.json().await.unwrap();
    assert_eq!(existing["existing"], true);
    assert_eq!(existing["incentive_eligible"], false);
    let detail = assert_detail(
        app.post(
            &app.admin_token,
            "/api/v1/plants/",
            &plant_body(producer, "400", "2019-01-01"),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(detail.contains("30%"), "{detail}");
    let grow = app
        .patch(
            &app.admin_token,
            &format!("/api/v1/plants/{}", existing["id"]),
            &json!({ "power_kw": 500 }),
        )
        .await;
    assert_eq!(grow.status(), StatusCode::CONFLICT);
    // Removing the new plant would leave only existing power.
    let remove_new = app
        .delete(&app.admin_token, &format!("/api/v1/plants/{}", big["id"]))
        .await;
    assert_eq!(remove_new.status(), StatusCode::CONFLICT);

    let plants: Vec<Value> = app
        .get(
            &app.admin_token,
            &format!("/api/v1/plants?configuration_id={cer}"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(plants.len(), 2);
    let by_member: Vec<Value> = app
        .get(
            &app.admin_token,
            &format!("/api/v1/plants/?member_id={consumer}"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(by_member.is_empty());
}

#[tokio::test]
async fn the_capital_grant_is_stored_exactly() {
    let app = spawn_app().await;
    let org = app.create_organization("Org").await;
    let cer = create_configuration(&app, "CER", "CER", org).await;
    let producer = create_member(&app, cer, "IT001E00000061", "prosumer").await;
    let mut body = plant_body(producer, "150.5", "2024-05-01");
    body["capital_grant_share"] = json!(0.2);
    body["connection_voltage"] = json!("MV");
    let plant: Value = app
        .post(&app.admin_token, "/api/v1/plants/", &body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(plant["power_kw"], "150.500");
    assert_eq!(plant["capital_grant_share"], "0.200000");
    assert_eq!(plant["connection_voltage"], "MV");
    assert_eq!(plant["incentive_eligible"], true);
}

/// The PNRR grant (DM 127/2025, as dated parameters): municipalities under 50,000
/// inhabitants, commissioning by 31 Dec 2027; refused with the field named otherwise.
#[tokio::test]
async fn a_pnrr_grant_needs_a_small_municipality_and_commissioning_by_2027() {
    let app = spawn_app().await;
    let org = app.create_organization("Org").await;
    let mut large = configuration_body("CER Torino", "CER", org);
    large["municipality_population"] = json!(50_000);
    let large = id_of(
        app.post(&app.admin_token, "/api/v1/configurations/", &large)
            .await,
    )
    .await;
    let mut unknown = configuration_body("CER ?", "CER", org);
    unknown["municipality_population"] = Value::Null;
    let unknown = id_of(
        app.post(&app.admin_token, "/api/v1/configurations/", &unknown)
            .await,
    )
    .await;
    let small = create_configuration(&app, "CER Ala", "CER", org).await;
    for (configuration, pod, commissioned, field, words) in [
        (
            large,
            "IT001E00000071",
            "2024-05-01",
            "capital_grant_share",
            "under 50000 inhabitants",
        ),
        (
            unknown,
            "IT001E00000072",
            "2024-05-01",
            "capital_grant_share",
            "municipality_population",
        ),
        (
            small,
            "IT001E00000073",
            "2028-01-01",
            "commissioned_on",
            "by 31/12/2027",
        ),
    ] {
        let producer = create_member(&app, configuration, pod, "producer").await;
        let mut body = plant_body(producer, "100", commissioned);
        body["capital_grant_share"] = json!("0.30");
        let error = assert_validation_error(
            app.post(&app.admin_token, "/api/v1/plants/", &body).await,
            &["body", field],
        )
        .await;
        assert!(error.to_string().contains(words), "{error}");
        // Without the grant the same plant is welcome.
        body["capital_grant_share"] = json!("0");
        assert_eq!(
            app.post(&app.admin_token, "/api/v1/plants/", &body)
                .await
                .status(),
            StatusCode::CREATED
        );
    }
    let producer = create_member(&app, small, "IT001E00000074", "producer").await;
    let mut body = plant_body(producer, "100", "2027-12-31");
    body["capital_grant_share"] = json!("0.30");
    assert_eq!(
        app.post(&app.admin_token, "/api/v1/plants/", &body)
            .await
            .status(),
        StatusCode::CREATED
    );
}

/// Two organizations; in A a vendor, a referent of configuration A1, a second configuration A2,
/// and a user who is member M of A1.
struct Tenants {
    a1: i64,
    a2: i64,
    b1: i64,
    member_a1: i64,
    member_user_a1: i64,
    member_a2: i64,
    member_b1: i64,
    vendor_a: String,
    referent_a1: String,
    user_a1: String,
    user_a1_id: i64,
    vendor_b: String,
}

async fn tenants(app: &TestApp) -> Tenants {
    let w = two_tenants(app).await;
    let member_a1 = create_member(app, w.a1, "IT001E10000001", "producer").await;
    let mut linked = member_body(w.a1, "IT001E10000002", "prosumer");
    linked["user_id"] = json!(w.user_a.0);
    let member_user_a1 = id_of(
        app.post(&app.admin_token, "/api/v1/members/", &linked)
            .await,
    )
    .await;
    let member_a2 = create_member(app, w.a2, "IT001E10000003", "consumer").await;
    let member_b1 = create_member(app, w.b1, "IT001E10000004", "consumer").await;
    Tenants {
        a1: w.a1,
        a2: w.a2,
        b1: w.b1,
        member_a1,
        member_user_a1,
        member_a2,
        member_b1,
        vendor_a: w.vendor_a.1,
        referent_a1: w.referent_a1.1,
        user_a1: w.user_a.1,
        user_a1_id: w.user_a.0,
        vendor_b: w.vendor_b.1,
    }
}

async fn visible_ids(app: &TestApp, token: &str, path: &str) -> (Vec<i64>, u64) {
    let response = app.get(token, path).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    let total = response
        .headers()
        .get("x-total-count")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    let rows: Vec<Value> = response.json().await.unwrap();
    let ids = rows
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect::<Vec<_>>();
    (ids.clone(), total.unwrap_or(ids.len() as u64))
}

#[tokio::test]
async fn each_role_sees_exactly_its_scope() {
    let app = spawn_app().await;
    let t = tenants(&app).await;

    let cases: [(&str, &str, Vec<i64>, Vec<i64>); 4] = [
        (
            "vendor A",
            &t.vendor_a,
            vec![t.a1, t.a2],
            vec![t.member_a1, t.member_user_a1, t.member_a2],
        ),
        (
            "referent A1",
            &t.referent_a1,
            vec![t.a1],
            vec![t.member_a1, t.member_user_a1],
        ),
        ("user A1", &t.user_a1, vec![t.a1], vec![t.member_user_a1]),
        ("vendor B", &t.vendor_b, vec![t.b1], vec![t.member_b1]),
    ];
    for (who, token, configurations, members) in cases {
        let (ids, total) = visible_ids(&app, token, "/api/v1/configurations/").await;
        assert_eq!(ids, configurations, "{who} configurations");
        assert_eq!(
            total,
            configurations.len() as u64,
            "{who}: the count leaks nothing"
        );
        let (ids, total) = visible_ids(&app, token, "/api/v1/members/").await;
        assert_eq!(ids, members, "{who} members");
        assert_eq!(total, members.len() as u64);
        for configuration in [t.a1, t.a2, t.b1] {
            let status = app
                .get(token, &format!("/api/v1/configurations/{configuration}"))
                .await
                .status();
            let expected = if configurations.contains(&configuration) {
                StatusCode::OK
            } else {
                StatusCode::NOT_FOUND
            };
            assert_eq!(status, expected, "{who} GET configuration {configuration}");
        }
        for member in [t.member_a1, t.member_user_a1, t.member_a2, t.member_b1] {
            let status = app
                .get(token, &format!("/api/v1/members/{member}"))
                .await
                .status();
            let expected = if members.contains(&member) {
                StatusCode::OK
            } else {
                StatusCode::NOT_FOUND
            };
            assert_eq!(status, expected, "{who} GET member {member}");
        }
    }
}

#[tokio::test]
async fn each_role_may_do_exactly_its_actions() {
    let app = spawn_app().await;
    let t = tenants(&app).await;
    let org_a = 1;

    // Creating configurations: admin and vendor (in its own organization only).
    let mut body = configuration_body("New", "CER", org_a);
    assert_eq!(
        app.post(&t.vendor_a, "/api/v1/configurations/", &body)
            .await
            .status(),
        StatusCode::CREATED
    );
    body["organization_id"] = json!(2);
    assert_validation_error(
        app.post(&t.vendor_a, "/api/v1/configurations/", &body)
            .await,
        &["body", "organization_id"],
    )
    .await;
    for token in [&t.referent_a1, &t.user_a1] {
        assert_eq!(
            app.post(
                token,
                "/api/v1/configurations/",
                &configuration_body("X", "CER", org_a)
            )
            .await
            .status(),
            StatusCode::FORBIDDEN
        );
    }

    // The referent updates its configuration, but not its referent or organization, and cannot delete it.
    let a1 = format!("/api/v1/configurations/{}", t.a1);
    assert_eq!(
        app.patch(&t.referent_a1, &a1, &json!({ "description": "Aggiornata" }))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        app.patch(&t.referent_a1, &a1, &json!({ "referent_id": null }))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.patch(&t.referent_a1, &a1, &json!({ "organization_id": 2 }))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.delete(&t.referent_a1, &a1).await.status(),
        StatusCode::FORBIDDEN
    );
    // The vendor may not move it to another organization either.
    assert_eq!(
        app.patch(&t.vendor_a, &a1, &json!({ "organization_id": 2 }))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    // Others' configurations are invisible, so every action on them is a 404.
    let b1 = format!("/api/v1/configurations/{}", t.b1);
    for token in [&t.vendor_a, &t.referent_a1, &t.user_a1] {
        assert_eq!(
            app.patch(token, &b1, &json!({ "description": "x" }))
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(app.delete(token, &b1).await.status(), StatusCode::NOT_FOUND);
    }
    // The user reads but never writes.
    assert_eq!(
        app.patch(&t.user_a1, &a1, &json!({ "description": "x" }))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let own_member = format!("/api/v1/members/{}", t.member_user_a1);
    assert_eq!(
        app.patch(&t.user_a1, &own_member, &json!({ "net_metering": true }))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post(
            &t.user_a1,
            "/api/v1/members/",
            &member_body(t.a1, "IT001E10000009", "consumer")
        )
        .await
        .status(),
        StatusCode::FORBIDDEN
    );

    // The referent manages members of its configuration only; foreign ids in a body are 422.
    let created = app
        .post(
            &t.referent_a1,
            "/api/v1/members/",
            &member_body(t.a1, "IT001E10000010", "consumer"),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    for configuration in [t.a2, t.b1] {
        let response = app
            .post(
                &t.referent_a1,
                "/api/v1/members/",
                &member_body(configuration, "IT001E10000011", "consumer"),
            )
            .await;
        assert_validation_error(response, &["body", "configuration_id"]).await;
    }
    assert_eq!(
        app.delete(&t.referent_a1, &format!("/api/v1/members/{}", t.member_a2))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    // Linking a user of another organization is refused.
    let mut foreign_user = member_body(t.b1, "IT001E10000012", "consumer");
    foreign_user["user_id"] = json!(t.user_a1_id); // in organization A
    assert_validation_error(
        app.post(&t.vendor_b, "/api/v1/members/", &foreign_user)
            .await,
        &["body", "user_id"],
    )
    .await;

    // Plants: the referent adds one to its producer; the user sees it but cannot add any.
    let plant = app
        .post(
            &t.referent_a1,
            "/api/v1/plants/",
            &plant_body(t.member_a1, "20", "2024-05-01"),
        )
        .await;
    assert_eq!(plant.status(), StatusCode::CREATED);
    let own_plant = app
        .post(
            &t.referent_a1,
            "/api/v1/plants/",
            &plant_body(t.member_user_a1, "6", "2024-05-01"),
        )
        .await;
    let own_plant = own_plant.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        app.post(
            &t.user_a1,
            "/api/v1/plants/",
            &plant_body(t.member_user_a1, "3", "2024-05-01")
        )
        .await
        .status(),
        StatusCode::FORBIDDEN
    );
    let visible: Vec<Value> = app
        .get(&t.user_a1, "/api/v1/plants/")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        visible
            .iter()
            .map(|p| p["id"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        vec![own_plant]
    );
    let foreign_member_plant = app
        .post(
            &t.vendor_b,
            "/api/v1/plants/",
            &plant_body(t.member_a1, "3", "2024-05-01"),
        )
        .await;
    assert_validation_error(foreign_member_plant, &["body", "member_id"]).await;
}

/// Clients written against the earlier API send `category`: it is read as the holder type
/// (`domestic` → `natural_person`, `large_enterprise` → `other_company`), and a large
/// enterprise is still refused in a CER, now naming `holder_type`.
#[tokio::test]
async fn the_earlier_category_field_is_read_as_the_holder_type() {
    let app = spawn_app().await;
    let org = app.create_organization("Legacy").await;
    let configuration = create_configuration(&app, "CER Legacy", "CER", org).await;
    let body = json!({ "configuration_id": configuration, "pod": "IT001E00000091", "role": "consumer",
                       "category": "domestic", "joined_at": "2024-02-01" });
    let created = app.post(&app.admin_token, "/api/v1/members/", &body).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let member: Value = created.json().await.unwrap();
    assert_eq!(member["holder_type"], "natural_person");
    let body = json!({ "configuration_id": configuration, "pod": "IT001E00000092", "role": "consumer",
                       "category": "large_enterprise", "joined_at": "2024-02-01" });
    assert_validation_error(
        app.post(&app.admin_token, "/api/v1/members/", &body).await,
        &["body", "holder_type"],
    )
    .await;
}

#[tokio::test]
async fn regions_zones_and_types_are_accepted_as_people_type_them() {
    let app = spawn_app().await;
    let org = app.create_organization("Comunità Emilia").await;
    for (typed_region, region, zone, kind) in [
        ("Emilia-Romagna", "emilia_romagna", "nord", "cer"),
        (
            "Trentino-Alto Adige/Südtirol",
            "trentino_alto_adige",
            "Nord",
            "Auc",
        ),
        ("Valle d'Aosta", "valle_d_aosta", "NORD", "aid"),
        ("08", "emilia_romagna", "csud", "CER"),
    ] {
        let mut body = configuration_body(&format!("CER {typed_region}"), kind, org);
        body["region"] = json!(typed_region);
        body["market_zone"] = json!(zone);
        let response = app
            .post(&app.admin_token, "/api/v1/configurations/", &body)
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "{typed_region}");
        let created: Value = response.json().await.unwrap();
        assert_eq!(created["region"], region);
        assert_eq!(created["market_zone"], zone.to_ascii_uppercase());
        assert_eq!(created["type"], kind.to_ascii_uppercase());
        let moved = app
            .patch(
                &app.admin_token,
                &format!("/api/v1/configurations/{}", created["id"]),
                &json!({ "region": "Friuli Venezia Giulia", "market_zone": "sud" }),
            )
            .await;
        let moved: Value = moved.json().await.unwrap();
        assert_eq!(moved["region"], "friuli_venezia_giulia");
        assert_eq!(moved["market_zone"], "SUD");
    }
    let listed = app
        .get(&app.admin_token, "/api/v1/configurations/?type=auc")
        .await;
    assert_eq!(
        listed
            .json::<Value>()
            .await
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let mut body = configuration_body("CER Padania", "CER", org);
    body["region"] = json!("Padania");
    let refused = assert_validation_error(
        app.post(&app.admin_token, "/api/v1/configurations/", &body)
            .await,
        &["body", "region"],
    )
    .await;
    let message = refused["detail"][0]["msg"].as_str().unwrap();
    assert!(
        message.contains("got `Padania`") && message.contains("`emilia_romagna`"),
        "{message}"
    );
}

#[tokio::test]
async fn a_power_beyond_a_gigawatt_is_refused_naming_the_field() {
    let app = spawn_app().await;
    let org = app.create_organization("Comunità Potenza").await;
    let configuration = create_configuration(&app, "CER Potenza", "CER", org).await;
    let producer = create_member(&app, configuration, "IT001E00000091", "producer").await;
    for power in [json!("1000000"), json!(1_000_000), json!("0"), json!("-5")] {
        let mut body = plant_body(producer, "1", "2024-03-01");
        body["power_kw"] = power.clone();
        assert_validation_error(
            app.post(&app.admin_token, "/api/v1/plants/", &body).await,
            &["body", "power_kw"],
        )
        .await;
    }
    let mut body = plant_body(producer, "999999.999", "2024-03-01");
    body["name"] = json!("La più grande");
    assert_eq!(
        app.post(&app.admin_token, "/api/v1/plants/", &body)
            .await
            .status(),
        StatusCode::CREATED
    );
}

/// A configuration's members page takes its total from `configurations.members_count`, which
/// the database's triggers keep (migration 16): it must follow every insert and delete, stay
/// within the caller's scope, and equal a count of the rows.
/// `GET /members/?query`; asserts 200 and returns the total header and the rows on the page.
async fn members_page(app: &TestApp, token: &str, query: &str) -> (u64, usize) {
    let response = app.get(token, &format!("/api/v1/members/?{query}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let total: u64 = response.headers()["x-total-count"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let rows: Vec<Value> = response.json().await.unwrap();
    (total, rows.len())
}

/// The members page of a configuration is read on the access token's claim (role and
/// organisation), checked inside the page's own statement: a change to the account must show on
/// the very next request with the same token, exactly as on the routes that load the user first.
/// A configuration's page reads its rows by position (`crud::members::page_row`); the one
/// member's route reads them through SeaORM's own decoding. Every field, set and NULL, must
/// come out the same both ways, on both databases and on both paths (on the token's claim, and
/// with the user loaded).
#[tokio::test]
async fn a_configurations_members_page_reads_every_field_as_the_member_itself_does() {
    let app = spawn_app().await;
    let t = two_tenants(&app).await;
    let mut full = member_body(t.a1, "IT001E00000031", "prosumer");
    full["user_id"] = json!(t.user_a.0);
    full["holder_type"] = json!("sme");
    full["available_power_kw"] = json!("4.5");
    full["gse_notified_on"] = json!("2024-03-01");
    full["status"] = json!("pending");
    full["withdrawn_at"] = json!("2025-01-01");
    full["net_metering"] = json!(true);
    let created = app.post(&app.admin_token, "/api/v1/members/", &full).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    create_member(&app, t.a1, "IT001E00000032", "consumer").await;
    create_member(&app, t.a1, "IT001E00000033", "producer").await;

    let path = format!("/api/v1/members/?configuration_id={}", t.a1);
    for token in [&t.vendor_a.1, &app.admin_token] {
        let page: Vec<Value> = app.get(token, &path).await.json().await.unwrap();
        assert_eq!(page.len(), 3);
        for item in &page {
            let one: Value = app
                .get(token, &format!("/api/v1/members/{}", item["id"]))
                .await
                .json()
                .await
                .unwrap();
            assert_eq!(item, &one);
        }
        let first = &page[0];
        assert_eq!(first["user_id"], json!(t.user_a.0));
        assert_eq!(first["available_power_kw"], json!("4.500"));
        assert_eq!(first["withdrawn_at"], json!("2025-01-01"));
        assert_eq!(page[1]["user_id"], Value::Null);
        assert_eq!(page[1]["gse_notified_on"], Value::Null);
    }
}

/// On PostgreSQL a page's statement is planned once and its plan kept: its LIMIT and OFFSET
/// are written into its text (`crud::page_bounds_written_out`). With them bound, PostgreSQL
/// planned the statement afresh on every run (`custom_plans` grew, `generic_plans` stayed 0),
/// which took half of its work for a members page. Pages past the first, past the end and of
/// other sizes keep their answers. The server runs on one connection, so the session whose
/// prepared statements are read is the one that served the pages.
#[tokio::test]
async fn a_members_page_is_planned_once_and_its_plan_kept() {
    let app = spawn_app_with(std::collections::HashMap::from([(
        "DATABASE_POOL_SIZE",
        "1",
    )]))
    .await;
    let t = two_tenants(&app).await;
    for pod in ["IT001E00000041", "IT001E00000042", "IT001E00000043"] {
        create_member(&app, t.a1, pod, "consumer").await;
    }
    let token = &t.vendor_a.1;
    let first = format!("configuration_id={}&limit=2", t.a1);
    for _ in 0..8 {
        assert_eq!(members_page(&app, token, &first).await, (3, 2));
    }
    for (query, expected) in [
        (format!("configuration_id={}&limit=2&skip=2", t.a1), (3, 1)),
        (format!("configuration_id={}&limit=2&skip=3", t.a1), (3, 0)),
        (format!("configuration_id={}&skip=1", t.a1), (3, 2)),
        (format!("configuration_id={}&skip=1000000", t.a1), (3, 0)),
    ] {
        assert_eq!(members_page(&app, token, &query).await, expected, "{query}");
    }
    let ids: Vec<i64> = {
        let page: Vec<Value> = app
            .get(token, &format!("/api/v1/members/?{first}&skip=1"))
            .await
            .json()
            .await
            .unwrap();
        page.iter().map(|m| m["id"].as_i64().unwrap()).collect()
    };
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "in id order: {ids:?}");

    if app.database_url.starts_with("postgres") {
        let kept = |column: &str| {
            format!(
                "SELECT COALESCE(SUM({column}), -1)::bigint FROM pg_prepared_statements \
                 WHERE statement LIKE '%condivisa_page_total%' AND statement LIKE '%\"members\"%' \
                 AND statement LIKE '%LIMIT 2 OFFSET 0%' \
                 AND statement NOT LIKE '%pg_prepared_statements%'"
            )
        };
        let generic = scalar_i64(&app.db, &kept("generic_plans")).await;
        let custom = scalar_i64(&app.db, &kept("custom_plans")).await;
        assert!(
            generic >= 1,
            "the first page's plan was kept: generic {generic}, custom {custom}"
        );
        assert!(
            custom <= 5,
            "planned afresh at most while PostgreSQL learns: custom {custom}"
        );
    }
}

#[tokio::test]
async fn a_members_page_read_on_the_tokens_claim_follows_the_account_at_once() {
    let app = spawn_app().await;
    let t = two_tenants(&app).await;
    create_member(&app, t.a1, "IT001E00000021", "consumer").await;
    create_member(&app, t.a1, "IT001E00000022", "producer").await;
    create_member(&app, t.b1, "IT001E00000023", "consumer").await;
    let (vendor, token) = t.vendor_a.clone();
    let page = |token: String, configuration: i64| {
        let app = &app;
        async move { members_page(app, &token, &format!("configuration_id={configuration}")).await }
    };
    assert_eq!(page(token.clone(), t.a1).await, (2, 2));
    assert_eq!(page(token.clone(), t.b1).await, (0, 0));

    // A token issued before the claim existed names only its user: the user is loaded first.
    let unclaimed = {
        use jsonwebtoken::{EncodingKey, Header, encode};
        let exp = chrono::Utc::now().timestamp() + 600;
        let claims = json!({"sub": vendor.to_string(), "exp": exp, "iat": 0, "typ": "access"});
        encode(
            &Header::default(),
            &claims,
            &EncodingKey::from_secret(SECRET_KEY.as_bytes()),
        )
        .unwrap()
    };
    assert_eq!(page(unclaimed.clone(), t.a1).await, (2, 2));

    // Moved to the other organisation: the old one's page is empty, the new one's readable.
    app.admin_changes_user(vendor, json!({ "organization_id": t.org_b }))
        .await;
    assert_eq!(page(token.clone(), t.a1).await, (0, 0));
    assert_eq!(page(token.clone(), t.b1).await, (1, 1));

    // Made a plain user: only their own memberships, of which they have none.
    app.admin_changes_user(vendor, json!({ "role": "user" }))
        .await;
    assert_eq!(page(token.clone(), t.b1).await, (0, 0));

    // Made the referent of a configuration of the first organisation: that one only.
    app.admin_changes_user(
        vendor,
        json!({ "role": "referent", "organization_id": t.org_a }),
    )
    .await;
    let referent = app
        .patch(
            &app.admin_token,
            &format!("/api/v1/configurations/{}", t.a2),
            &json!({ "referent_id": vendor }),
        )
        .await;
    assert_eq!(referent.status(), StatusCode::OK);
    create_member(&app, t.a2, "IT001E00000024", "consumer").await;
    assert_eq!(page(token.clone(), t.a2).await, (1, 1));
    assert_eq!(page(token.clone(), t.a1).await, (0, 0));

    // Deactivated: locked out at once, with the same answer as on every other route.
    app.admin_changes_user(vendor, json!({ "status": "inactive" }))
        .await;
    for locked_out in [&token, &unclaimed] {
        let locked = app
            .get(
                locked_out,
                &format!("/api/v1/members/?configuration_id={}", t.a2),
            )
            .await;
        assert_eq!(
            assert_detail(locked, StatusCode::BAD_REQUEST).await,
            "Inactive user"
        );
    }
}

#[tokio::test]
async fn a_configurations_members_total_follows_every_write_and_the_scope() {
    let app = spawn_app().await;
    let t = two_tenants(&app).await;
    let first = create_member(&app, t.a1, "IT001E00000011", "consumer").await;
    create_member(&app, t.a1, "IT001E00000012", "consumer").await;
    create_member(&app, t.a1, "IT001E00000014", "producer").await;
    create_member(&app, t.a2, "IT001E00000013", "consumer").await;
    let page = |token: String, query: String| {
        let app = &app;
        async move { members_page(app, &token, &query).await }
    };
    let admin = app.admin_token.clone();
    assert_eq!(
        page(admin.clone(), format!("configuration_id={}", t.a1)).await,
        (3, 3)
    );
    assert_eq!(
        page(admin.clone(), format!("configuration_id={}", t.a2)).await,
        (1, 1)
    );
    assert_eq!(
        page(admin.clone(), format!("configuration_id={}&limit=2", t.a1)).await,
        (3, 2)
    );
    assert_eq!(
        page(admin.clone(), format!("configuration_id={}&skip=5", t.a1)).await,
        (3, 0)
    );
    let deleted = app
        .delete(&admin, &format!("/api/v1/members/{first}"))
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        page(admin.clone(), format!("configuration_id={}", t.a1)).await,
        (2, 2)
    );
    // A filter counts the rows themselves, and agrees.
    assert_eq!(
        page(
            admin.clone(),
            format!("configuration_id={}&role=producer", t.a1)
        )
        .await,
        (1, 1)
    );
    // Outside the caller's scope: nothing, not even the total.
    assert_eq!(
        page(t.vendor_b.1.clone(), format!("configuration_id={}", t.a1)).await,
        (0, 0)
    );
    assert_eq!(
        page(
            t.referent_a1.1.clone(),
            format!("configuration_id={}", t.a1)
        )
        .await,
        (2, 2)
    );
    assert_eq!(
        page(
            t.referent_a1.1.clone(),
            format!("configuration_id={}", t.a2)
        )
        .await,
        (0, 0)
    );
    assert_eq!(
        page(t.vendor_a.1.clone(), format!("configuration_id={}", t.a2)).await,
        (1, 1)
    );
    // A configuration deleted with its members leaves no stale count behind elsewhere.
    let drifted = scalar_i64(
        &app.db,
        "SELECT CAST(count(*) AS BIGINT) FROM configurations c WHERE c.members_count <> \
         (SELECT count(*) FROM members m WHERE m.configuration_id = c.id)",
    )
    .await;
    assert_eq!(drifted, 0);
}
