//! Meter data over HTTP: imports in every format, all-or-nothing rejection, revisions, coverage,
//! series against hand-computed sums, charts, prices and parameters — on both databases.
use std::str::FromStr;

use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::helpers::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/readings");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).unwrap()
}

fn dec(value: &Value) -> Decimal {
    Decimal::from_str(
        value
            .as_str()
            .unwrap_or_else(|| panic!("not a decimal string: {value}")),
    )
    .unwrap()
}

struct Community {
    configuration: i64,
    members: Vec<i64>,
}

/// A CER in NORD with the two PODs the fixtures use, members since 1 Feb 2024.
async fn community(app: &TestApp) -> Community {
    let org = app.create_organization("Energia Pulita").await;
    let response = app
        .post(
            &app.admin_token,
            "/api/v1/configurations/",
            &json!({ "name": "CER Torino", "type": "CER", "primary_substation": "AC001E00123", "market_zone": "NORD",
                     "region": "piemonte", "organization_id": org, "constituted_on": "2024-01-10" }),
        )
        .await;
    let configuration = response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let mut members = Vec::new();
    for pod in ["IT001E00112233", "IT001E04455667A"] {
        let body = json!({ "configuration_id": configuration, "pod": pod, "role": "prosumer", "holder_type": "natural_person", "joined_at": "2024-02-01" });
        let response = app.post(&app.admin_token, "/api/v1/members/", &body).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let member = response.json::<Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap();
        // Injection readings need a plant behind the POD (and stay within its power).
        let plant = json!({ "member_id": member, "name": "Tetto", "source": "pv", "power_kw": "200",
                            "commissioned_on": "2024-02-01" });
        let response = app.post(&app.admin_token, "/api/v1/plants/", &plant).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        members.push(member);
    }
    Community {
        configuration,
        members,
    }
}

async fn upload_csv(
    app: &TestApp,
    token: &str,
    configuration: i64,
    query: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    app.client
        .post(app.url(&format!(
            "/api/v1/configurations/{configuration}/readings?{query}"
        )))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn upload_file(app: &TestApp, configuration: i64, name: &str) -> reqwest::Response {
    upload_named(app, configuration, "", name).await
}

/// The fixture `name` as a form's file, under its own name, with the import's `query`.
async fn upload_named(
    app: &TestApp,
    configuration: i64,
    query: &str,
    name: &str,
) -> reqwest::Response {
    let part = reqwest::multipart::Part::bytes(fixture(name)).file_name(name.to_string());
    app.client
        .post(app.url(&format!(
            "/api/v1/configurations/{configuration}/readings?{query}"
        )))
        .bearer_auth(&app.admin_token)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap()
}

async fn summary(response: reqwest::Response) -> Value {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

async fn series(app: &TestApp, token: &str, path: &str) -> Value {
    let response = app.get(token, path).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test]
async fn long_format_files_import_with_counts() {
    let app = spawn_app().await;
    let c = community(&app).await;
    let body = summary(
        upload_csv(
            &app,
            &app.admin_token,
            c.configuration,
            "",
            fixture("long_semicolon.csv"),
        )
        .await,
    )
    .await;
    assert_eq!(body["format"], "long");
    assert_eq!(
        (
            body["rows"].as_u64(),
            body["intervals"].as_u64(),
            body["pods"].as_u64()
        ),
        (Some(32), Some(32), Some(2))
    );
    assert_eq!(
        (
            body["new_values"].as_u64(),
            body["revised_values"].as_u64(),
            body["unchanged"].as_u64()
        ),
        (Some(32), Some(0), Some(0))
    );

    // Hourly, comma-separated, local times across the autumn change (the 02:00 hour twice).
    let body = summary(
        upload_csv(
            &app,
            &app.admin_token,
            c.configuration,
            "",
            fixture("long_comma_local.csv"),
        )
        .await,
    )
    .await;
    assert_eq!(body["intervals"], 15);
    let months = series(
        &app,
        &app.admin_token,
        &format!(
            "/api/v1/configurations/{}/energy?from=2025-07-01&to=2025-10-31&granularity=month",
            c.configuration
        ),
    )
    .await;
    let total = dec(&months["total_injected_kwh"]) + dec(&months["total_withdrawn_kwh"]);
    assert_eq!(
        total,
        Decimal::from_str("10.040").unwrap(),
        "sum of the file's 15 values"
    );
}

#[tokio::test]
async fn e_distribuzione_exports_handle_both_daylight_saving_days() {
    let app = spawn_app().await;
    let c = community(&app).await;
    let march = summary(
        upload_file(
            &app,
            c.configuration,
            "ExportData_marzo_IT001E00112233_immessa.csv",
        )
        .await,
    )
    .await;
    assert_eq!(march["format"], "edistribuzione");
    assert_eq!(march["intervals"], 96 * 3 + 92);
    let october = summary(
        upload_file(
            &app,
            c.configuration,
            "ExportData_ottobre_IT001E00112233_prelevata.csv",
        )
        .await,
    )
    .await;
    assert_eq!(october["intervals"], 96 + 100 + 96);

    let days = series(
        &app,
        &app.admin_token,
        &format!(
            "/api/v1/configurations/{}/energy?from=2025-03-28&to=2025-03-31",
            c.configuration
        ),
    )
    .await;
    let points = days["points"].as_array().unwrap();
    let by_day: Vec<(&str, u64, Decimal)> = points
        .iter()
        .map(|p| {
            (
                p["label"].as_str().unwrap(),
                p["hours"].as_u64().unwrap(),
                dec(&p["injected_kwh"]),
            )
        })
        .collect();
    // Hand-summed from the fixture's cells.
    assert_eq!(
        by_day,
        vec![
            ("2025-03-28", 24, Decimal::from_str("29.646").unwrap()),
            ("2025-03-29", 24, Decimal::from_str("24.705").unwrap()),
            ("2025-03-30", 23, Decimal::from_str("30.332").unwrap()),
            ("2025-03-31", 24, Decimal::from_str("29.600").unwrap()),
        ]
    );
    assert_eq!(
        dec(&days["total_injected_kwh"]),
        Decimal::from_str("114.283").unwrap()
    );

    let autumn = series(
        &app,
        &app.admin_token,
        &format!(
            "/api/v1/configurations/{}/energy?from=2025-10-26&to=2025-10-26&granularity=hour",
            c.configuration
        ),
    )
    .await;
    let hours = autumn["points"].as_array().unwrap();
    assert_eq!(hours.len(), 25, "the 25-hour day has 25 hourly buckets");
    assert_eq!(hours[2]["label"], "2025-10-26T02:00+02:00");
    assert_eq!(hours[3]["label"], "2025-10-26T02:00+01:00");
    assert_eq!(
        dec(&autumn["total_withdrawn_kwh"]),
        Decimal::from_str("13.897").unwrap()
    );
}

#[tokio::test]
async fn a_bad_file_is_rejected_whole_with_line_numbers() {
    let app = spawn_app().await;
    let c = community(&app).await;
    let response = upload_csv(
        &app,
        &app.admin_token,
        c.configuration,
        "",
        fixture("long_errors.csv"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    let lines: Vec<u64> = body["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["loc"][1].as_u64().unwrap())
        .collect();
    assert!(
        lines.len() >= 5 && lines.windows(2).all(|w| w[0] < w[1]),
        "{lines:?}"
    );
    assert!(
        body["detail"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["loc"][0] == "body" && d["msg"].is_string())
    );
    let coverage: Value = series(
        &app,
        &app.admin_token,
        &format!(
            "/api/v1/configurations/{}/readings/coverage?from=2025-03-01&to=2025-03-01",
            c.configuration
        ),
    )
    .await;
    assert!(
        coverage
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["present"] == 0),
        "nothing was written: {coverage}"
    );

    // A POD that is not a member, and a duplicate inside the file: rejected, nothing written.
    let csv = "timestamp;pod;direction;kwh\n\
               2025-03-01T10:00:00+01:00;IT001E00112233;injection;1,000\n\
               2025-03-01T10:00:00+01:00;IT001E99999999;injection;1,000\n\
               2025-03-01T10:00:00+01:00;IT001E00112233;injection;2,000\n\
               2024-01-01T10:00:00+01:00;IT001E04455667A;withdrawal;1,000\n";
    let response = upload_csv(
        &app,
        &app.admin_token,
        c.configuration,
        "",
        csv.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    let messages: Vec<(u64, String)> = body["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["loc"][1].as_u64().unwrap(),
                d["msg"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        messages
            .iter()
            .any(|(l, m)| *l == 3 && m.contains("not a member")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|(l, m)| *l == 4 && m.contains("duplicate of line 2")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|(l, m)| *l == 5 && m.contains("not a member of the configuration at")),
        "{messages:?}"
    );
    let day = series(
        &app,
        &app.admin_token,
        &format!(
            "/api/v1/configurations/{}/energy?from=2025-03-01&to=2025-03-01",
            c.configuration
        ),
    )
    .await;
    assert!(day["points"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn curves_a_migration_asks_for_are_built_from_the_readings_before_serving() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    let c = community(&app).await;
    summary(
        upload_csv(
            &app,
            &app.admin_token,
            c.configuration,
            "",
            fixture("long_semicolon.csv"),
        )
        .await,
    )
    .await;
    let run = |sql: &'static str| {
        let db = &app.db;
        async move { db.execute_unprepared(sql).await.unwrap() }
    };
    // As a database migrated from before the curves: readings, no curves, the request.
    run("DELETE FROM reading_curves").await;
    run("INSERT INTO derived_rebuilds (name) VALUES ('reading_curves')").await;
    condivisa::db::migrate_to_head(&app.db).await.unwrap();
    assert_curves_match_readings(&app.db).await;
    let left = app
        .db
        .query_all_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            "SELECT name FROM derived_rebuilds",
        ))
        .await
        .unwrap();
    assert!(left.is_empty(), "the request is removed once done");
    let curves = app
        .db
        .query_all_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            "SELECT pod FROM reading_curves",
        ))
        .await
        .unwrap();
    assert!(!curves.is_empty());
}

#[tokio::test]
async fn postgres_keeps_each_month_of_readings_in_a_partition_of_its_own() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    let c = community(&app).await;
    summary(
        upload_csv(
            &app,
            &app.admin_token,
            c.configuration,
            "",
            fixture("long_semicolon.csv"),
        )
        .await,
    )
    .await;
    let db = &app.db;
    let count = |sql: String| async move { scalar_i64(db, &sql).await };
    let total = count("SELECT CAST(COUNT(*) AS BIGINT) FROM readings".into()).await;
    assert!(total > 0);
    let today = chrono::Utc::now().date_naive();
    if db.get_database_backend() != sea_orm::DbBackend::Postgres {
        let created = condivisa::crud::partitions::ensure_reading_partitions(db, today)
            .await
            .unwrap();
        assert_eq!(created, 0, "SQLite keeps one table");
        return;
    }
    // The fixture is March 2025; the server made that month's partition at start only if March
    // 2025 is within two years of today.
    let ready = count(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM pg_class WHERE relname = 'readings_y2025m03'".into(),
    )
    .await
        == 1;
    if ready {
        assert_eq!(
            count("SELECT CAST(COUNT(*) AS BIGINT) FROM readings_y2025m03".into()).await,
            total
        );
        // An archived month leaves the table whole, and nothing of it stays behind.
        db.execute_unprepared("ALTER TABLE readings DETACH PARTITION readings_y2025m03")
            .await
            .unwrap();
        assert_eq!(
            count("SELECT CAST(COUNT(*) AS BIGINT) FROM readings".into()).await,
            0
        );
        // Brought back while the month has no partition: the rows land in the default one.
        db.execute_unprepared(
            "INSERT INTO readings SELECT * FROM readings_y2025m03; DROP TABLE readings_y2025m03",
        )
        .await
        .unwrap();
    }
    assert_eq!(
        count("SELECT CAST(COUNT(*) AS BIGINT) FROM readings_default".into()).await,
        total
    );
    // The next start moves them into their month's own table.
    let created = condivisa::crud::partitions::ensure_reading_partitions(db, today)
        .await
        .unwrap();
    assert_eq!(created, 1);
    assert_eq!(
        count("SELECT CAST(COUNT(*) AS BIGINT) FROM readings_default".into()).await,
        0
    );
    assert_eq!(
        count("SELECT CAST(COUNT(*) AS BIGINT) FROM readings_y2025m03".into()).await,
        total
    );
    assert_eq!(
        condivisa::crud::partitions::ensure_reading_partitions(db, today)
            .await
            .unwrap(),
        0,
        "nothing to do the second time"
    );
    // The same file again changes nothing, read through the month's partition.
    let again = summary(
        upload_csv(
            &app,
            &app.admin_token,
            c.configuration,
            "",
            fixture("long_semicolon.csv"),
        )
        .await,
    )
    .await;
    assert_eq!(again["new_values"].as_u64(), Some(0));
    assert_eq!(
        count("SELECT CAST(COUNT(*) AS BIGINT) FROM readings".into()).await,
        total
    );
    assert_curves_match_readings(db).await;
}

#[tokio::test]
async fn corrections_make_revisions_and_a_reimport_changes_nothing() {
    let app = spawn_app().await;
    let c = community(&app).await;
    let original = fixture("long_semicolon.csv");
    summary(
        upload_csv(
            &app,
            &app.admin_token,
            c.configuration,
            "",
            original.clone(),
        )
        .await,
    )
    .await;
    let again = summary(
        upload_csv(
            &app,
            &app.admin_token,
            c.configuration,
            "",
            original.clone(),
        )
        .await,
    )
    .await;
    assert_eq!(
        (
            again["new_values"].as_u64(),
            again["revised_values"].as_u64(),
            again["unchanged"].as_u64()
        ),
        (Some(0), Some(0), Some(32))
    );

    // The distributor corrects two values (0,762 → 0,800 and 0,675 → 0,600).
    let corrected = String::from_utf8(original)
        .unwrap()
        .replacen(";0,762", ";0,800", 1)
        .replacen(";0,675", ";0,600", 1);
    let revised = summary(
        upload_csv(
            &app,
            &app.admin_token,
            c.configuration,
            "",
            corrected.into_bytes(),
        )
        .await,
    )
    .await;
    assert_eq!(
        (
            revised["new_values"].as_u64(),
            revised["revised_values"].as_u64(),
            revised["unchanged"].as_u64()
        ),
        (Some(0), Some(2), Some(30))
    );
    assert_curves_match_readings(&app.db).await;

    let rows = app
        .db
        .query_all_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            "SELECT wh, revision FROM reading_revisions ORDER BY wh",
        ))
        .await
        .unwrap();
    let kept: Vec<(i64, i32)> = rows
        .iter()
        .map(|r| {
            (
                r.try_get("", "wh").unwrap(),
                r.try_get("", "revision").unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kept,
        vec![(675, 1), (762, 1)],
        "the superseded values are kept with their revision"
    );
    let current = app
        .db
        .query_all_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            "SELECT wh FROM readings WHERE revision = 2 ORDER BY wh",
        ))
        .await
        .unwrap();
    let current: Vec<i64> = current
        .iter()
        .map(|r| r.try_get("", "wh").unwrap())
        .collect();
    assert_eq!(current, vec![600, 800]);
}

use sea_orm::ConnectionTrait;

#[tokio::test]
async fn shared_energy_is_the_hourly_minimum_summed() {
    let app = spawn_app().await;
    let c = community(&app).await;
    // Hour 10: A injects 4 × 1.000, B withdraws 4 × 0.500 → shared 2.
    // Hour 11: A injects 4 × 0.250, B withdraws 4 × 1.000 → shared 1. Day: 5 / 6 / 3 (not min(5, 6)).
    let mut csv = String::from("timestamp;pod;direction;kwh\n");
    for (hour, a, b) in [(10, "1.000", "0.500"), (11, "0.250", "1.000")] {
        for quarter in [0, 15, 30, 45] {
            csv.push_str(&format!(
                "2025-06-10T{hour}:{quarter:02}:00+02:00;IT001E00112233;injection;{a}\n"
            ));
            csv.push_str(&format!(
                "2025-06-10T{hour}:{quarter:02}:00+02:00;IT001E04455667A;withdrawal;{b}\n"
            ));
        }
    }
    summary(
        upload_csv(
            &app,
            &app.admin_token,
            c.configuration,
            "",
            csv.into_bytes(),
        )
        .await,
    )
    .await;
    let day = series(
        &app,
        &app.admin_token,
        &format!(
            "/api/v1/configurations/{}/energy?from=2025-06-10&to=2025-06-10",
            c.configuration
        ),
    )
    .await;
    let point = &day["points"][0];
    assert_eq!(
        (
            dec(&point["injected_kwh"]),
            dec(&point["withdrawn_kwh"]),
            dec(&point["shared_kwh"])
        ),
        (Decimal::from(5), Decimal::from(6), Decimal::from(3))
    );
    let hours = series(
        &app,
        &app.admin_token,
        &format!(
            "/api/v1/configurations/{}/energy?from=2025-06-10&to=2025-06-10&granularity=hour",
            c.configuration
        ),
    )
    .await;
    let shared: Vec<Decimal> = hours["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| dec(&p["shared_kwh"]))
        .collect();
    assert_eq!(shared, vec![Decimal::from(2), Decimal::from(1)]);
    let month = series(
        &app,
        &app.admin_token,
        &format!(
            "/api/v1/configurations/{}/energy?from=2025-06-01&to=2025-06-30&granularity=month",
            c.configuration
        ),
    )
    .await;
    assert_eq!(month["points"][0]["label"], "2025-06");
    assert_eq!(dec(&month["total_shared_kwh"]), Decimal::from(3));

    // One member's own series: its injection only.
    let own = series(
        &app,
        &app.admin_token,
        &format!(
            "/api/v1/members/{}/energy?from=2025-06-10&to=2025-06-10",
            c.members[0]
        ),
    )
    .await;
    assert_eq!(dec(&own["total_injected_kwh"]), Decimal::from(5));
    assert_eq!(dec(&own["total_withdrawn_kwh"]), Decimal::ZERO);

    let svg = app.get(&app.admin_token, &format!("/api/v1/configurations/{}/energy.svg?from=2025-06-10&to=2025-06-10&granularity=hour", c.configuration)).await;
    assert_eq!(svg.status(), StatusCode::OK);
    assert!(
        svg.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("image/svg+xml")
    );
    let text = svg.text().await.unwrap();
    assert!(
        text.starts_with("<svg") && text.trim_end().ends_with("</svg>"),
        "{}",
        &text[..100.min(text.len())]
    );
    assert!(text.contains("CER Torino") && text.contains("kWh"));

    for bad in [
        "from=2025-06-10&to=2025-06-01",
        "from=2025-06-10",
        "from=2025-06-10&to=2025-06-10&granularity=week",
    ] {
        let response = app
            .get(
                &app.admin_token,
                &format!("/api/v1/configurations/{}/energy?{bad}", c.configuration),
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
}

#[tokio::test]
async fn coverage_lists_the_missing_intervals() {
    let app = spawn_app().await;
    let c = community(&app).await;
    // 10:00 and 10:30 present, 10:15 and 10:45 missing, for one POD and direction.
    let csv = "timestamp;pod;direction;kwh\n2025-06-10T10:00:00+02:00;IT001E00112233;injection;1\n2025-06-10T10:30:00+02:00;IT001E00112233;injection;1\n";
    summary(
        upload_csv(
            &app,
            &app.admin_token,
            c.configuration,
            "",
            csv.as_bytes().to_vec(),
        )
        .await,
    )
    .await;
    let coverage = series(
        &app,
        &app.admin_token,
        &format!(
            "/api/v1/configurations/{}/readings/coverage?from=2025-06-10&to=2025-06-10",
            c.configuration
        ),
    )
    .await;
    let entries = coverage.as_array().unwrap();
    assert_eq!(entries.len(), 4, "two PODs × two directions");
    let injection = entries
        .iter()
        .find(|e| e["pod"] == "IT001E00112233" && e["direction"] == "injection")
        .unwrap();
    assert_eq!(
        (
            injection["expected"].as_u64(),
            injection["present"].as_u64(),
            injection["missing"].as_u64()
        ),
        (Some(96), Some(2), Some(94))
    );
    let gaps: Vec<(&str, &str, u64)> = injection["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["from"].as_str().unwrap(),
                g["to"].as_str().unwrap(),
                g["intervals"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        gaps,
        vec![
            ("2025-06-09T22:00:00+00:00", "2025-06-10T08:00:00+00:00", 40),
            ("2025-06-10T08:15:00+00:00", "2025-06-10T08:30:00+00:00", 1),
            ("2025-06-10T08:45:00+00:00", "2025-06-10T22:00:00+00:00", 53),
        ]
    );
    let empty = entries
        .iter()
        .find(|e| e["pod"] == "IT001E04455667A" && e["direction"] == "withdrawal")
        .unwrap();
    assert_eq!(empty["missing"], 96);
}

#[tokio::test]
async fn members_see_only_their_own_energy() {
    let app = spawn_app().await;
    let c = community(&app).await;
    let (user_id, user_token) = app.create_user("socio@example.com", "user", Some(1)).await;
    let response = app
        .patch(
            &app.admin_token,
            &format!("/api/v1/members/{}", c.members[0]),
            &json!({ "user_id": user_id }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let own = format!(
        "/api/v1/members/{}/energy?from=2025-06-10&to=2025-06-10",
        c.members[0]
    );
    assert_eq!(app.get(&user_token, &own).await.status(), StatusCode::OK);
    assert_eq!(
        app.get(
            &user_token,
            &format!(
                "{}.svg?from=2025-06-10&to=2025-06-10",
                own.split('?').next().unwrap()
            )
        )
        .await
        .status(),
        StatusCode::OK
    );
    let other = format!(
        "/api/v1/members/{}/energy?from=2025-06-10&to=2025-06-10",
        c.members[1]
    );
    assert_eq!(
        app.get(&user_token, &other).await.status(),
        StatusCode::NOT_FOUND
    );
    let whole = format!(
        "/api/v1/configurations/{}/energy?from=2025-06-10&to=2025-06-10",
        c.configuration
    );
    assert_eq!(
        app.get(&user_token, &whole).await.status(),
        StatusCode::FORBIDDEN
    );
    let upload = upload_csv(
        &app,
        &user_token,
        c.configuration,
        "",
        fixture("long_semicolon.csv"),
    )
    .await;
    assert_eq!(upload.status(), StatusCode::FORBIDDEN);

    let other_org = app.create_organization("Altra").await;
    let (_, vendor) = app
        .create_user("vendor.altra@example.com", "vendor", Some(other_org))
        .await;
    assert_eq!(
        app.get(&vendor, &whole).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        upload_csv(
            &app,
            &vendor,
            c.configuration,
            "",
            fixture("long_semicolon.csv")
        )
        .await
        .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn quarter_hour_prices_are_averaged_per_hour() {
    let app = spawn_app().await;
    let csv = "timestamp;zone;eur_mwh;interval_minutes\n\
               2025-10-01T10:00:00+02:00;NORD;100,00;15\n\
               2025-10-01T10:15:00+02:00;NORD;101,00;15\n\
               2025-10-01T10:30:00+02:00;NORD;102,50;15\n\
               2025-10-01T10:45:00+02:00;NORD;99,50;15\n\
               2025-10-01T11:00:00+02:00;NORD;120;15\n";
    let post = |body: &'static str, token: String| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/api/v1/market/zonal-prices"))
                .bearer_auth(token)
                .header("content-type", "text/csv")
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    let response = post(csv, app.admin_token.clone()).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let summary: Value = response.json().await.unwrap();
    assert_eq!(
        (summary["rows"].as_u64(), summary["new_values"].as_u64()),
        (Some(5), Some(5))
    );
    let again: Value = post(csv, app.admin_token.clone())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["unchanged"], 5);

    let raw: Vec<Value> = app
        .get(
            &app.admin_token,
            "/api/v1/market/zonal-prices?zone=NORD&from=2025-10-01&to=2025-10-01",
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(raw.len(), 5);
    let hourly: Vec<Value> = app
        .get(
            &app.admin_token,
            "/api/v1/market/zonal-prices?zone=NORD&from=2025-10-01&to=2025-10-01&resolution=hourly",
        )
        .await
        .json()
        .await
        .unwrap();
    // (100 + 101 + 102.5 + 99.5) / 4 = 100.75; the 11:00 hour has one quarter only: no price.
    assert_eq!(hourly.len(), 1);
    assert_eq!(hourly[0]["start"], "2025-10-01T08:00:00+00:00");
    assert_eq!(
        dec(&hourly[0]["eur_mwh"]),
        Decimal::from_str("100.75").unwrap()
    );

    let bad = post("timestamp;zone;eur_mwh\n2025-10-01T10:00:00+02:00;MARS;1\n2025-10-01T10:00:00+02:00;NORD;x\n", app.admin_token.clone()).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = bad.json().await.unwrap();
    let lines: Vec<&Value> = body["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["loc"][1])
        .collect();
    assert_eq!(lines, vec![&json!(2), &json!(3)], "{body}");
    let (_, vendor) = app
        .create_user(
            "v@example.com",
            "vendor",
            Some(app.create_organization("O").await),
        )
        .await;
    assert_eq!(post(csv, vendor).await.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn regulated_parameters_are_seeded_versioned_and_admin_managed() {
    let app = spawn_app().await;
    let seeded: Vec<Value> = app
        .get(&app.admin_token, "/api/v1/market/parameters?at=2024-06-01")
        .await
        .json()
        .await
        .unwrap();
    let value = |code: &str| {
        seeded
            .iter()
            .find(|p| p["code"] == code)
            .map(|p| dec(&p["value"]))
            .unwrap()
    };
    assert_eq!(value("TRAS_E"), Decimal::from_str("10.57").unwrap());
    assert_eq!(value("BTAU"), Decimal::from_str("0.65").unwrap());
    assert_eq!(value("CPR_MV"), Decimal::from_str("0.012").unwrap());
    assert_eq!(value("CPR_LV"), Decimal::from_str("0.026").unwrap());

    let tras = seeded.iter().find(|p| p["code"] == "TRAS_E").unwrap()["id"]
        .as_i64()
        .unwrap();
    // A 2025 value overlaps the open 2024 period until that one is closed.
    let new = json!({ "code": "TRAS_E", "value": "8.48", "valid_from": "2025-01-01" });
    assert_eq!(
        app.post(&app.admin_token, "/api/v1/market/parameters", &new)
            .await
            .status(),
        StatusCode::CONFLICT
    );
    let close = app
        .patch(
            &app.admin_token,
            &format!("/api/v1/market/parameters/{tras}"),
            &json!({ "valid_to": "2025-01-01" }),
        )
        .await;
    assert_eq!(close.status(), StatusCode::OK);
    assert_eq!(
        app.post(&app.admin_token, "/api/v1/market/parameters/", &new)
            .await
            .status(),
        StatusCode::CREATED
    );
    let in_2025: Vec<Value> = app
        .get(
            &app.admin_token,
            "/api/v1/market/parameters?code=TRAS_E&at=2025-03-01",
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(in_2025.len(), 1);
    assert_eq!(
        dec(&in_2025[0]["value"]),
        Decimal::from_str("8.48").unwrap()
    );

    let (_, user) = app.create_user("u@example.com", "user", None).await;
    assert_eq!(
        app.get(&user, "/api/v1/market/parameters").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.post(&user, "/api/v1/market/parameters", &new)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let invalid = json!({ "code": "TRAS_E", "value": "1.1234567", "valid_from": "2030-01-01" });
    assert_validation_error(
        app.post(&app.admin_token, "/api/v1/market/parameters", &invalid)
            .await,
        &["body", "value"],
    )
    .await;
    let unknown = json!({ "code": "PUN", "value": "1", "valid_from": "2030-01-01" });
    assert_validation_error(
        app.post(&app.admin_token, "/api/v1/market/parameters", &unknown)
            .await,
        &["body", "code"],
    )
    .await;
}

#[tokio::test]
async fn the_cli_imports_a_file_and_reports_rejections() {
    let app = spawn_app().await;
    let c = community(&app).await;
    let run = |file: &str| {
        app.cli(&[
            "import",
            "readings",
            &format!("{FIXTURES}/{file}"),
            "--configuration",
            &c.configuration.to_string(),
        ])
    };
    let output = run("ExportData_marzo_IT001E00112233_immessa.csv");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("380 intervals") && stdout.contains("380 new"),
        "{stdout}"
    );

    let rejected = run("long_errors.csv");
    assert_eq!(rejected.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&rejected.stderr);
    assert!(
        stderr.contains("rejected, nothing was written") && stderr.contains("line 3:"),
        "{stderr}"
    );

    let days = series(
        &app,
        &app.admin_token,
        &format!(
            "/api/v1/configurations/{}/energy?from=2025-03-28&to=2025-03-31",
            c.configuration
        ),
    )
    .await;
    assert_eq!(
        dec(&days["total_injected_kwh"]),
        Decimal::from_str("114.283").unwrap()
    );
}

#[tokio::test]
async fn series_follow_membership_changes() {
    let app = spawn_app().await;
    let c = community(&app).await;
    // B withdraws 1 kWh at 10:00 on 10 and on 11 June; A injects 3 kWh at the same times.
    let mut csv = String::from("timestamp;pod;direction;kwh;interval_minutes\n");
    for day in [10, 11] {
        csv.push_str(&format!(
            "2025-06-{day}T10:00:00+02:00;IT001E00112233;injection;3;60\n"
        ));
        csv.push_str(&format!(
            "2025-06-{day}T10:00:00+02:00;IT001E04455667A;withdrawal;1;60\n"
        ));
    }
    summary(
        upload_csv(
            &app,
            &app.admin_token,
            c.configuration,
            "",
            csv.into_bytes(),
        )
        .await,
    )
    .await;
    let path = format!(
        "/api/v1/configurations/{}/energy?from=2025-06-10&to=2025-06-11",
        c.configuration
    );
    let shared = |body: Value| -> Vec<Decimal> {
        body["points"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| dec(&p["shared_kwh"]))
            .collect()
    };
    assert_eq!(
        shared(series(&app, &app.admin_token, &path).await),
        vec![Decimal::from(1), Decimal::from(1)]
    );

    // B leaves on 11 June: from that day its withdrawal no longer counts for the community.
    let member_b = format!("/api/v1/members/{}", c.members[1]);
    let leave = app
        .patch(
            &app.admin_token,
            &member_b,
            &json!({ "status": "withdrawn", "withdrawn_at": "2025-06-11" }),
        )
        .await;
    assert_eq!(leave.status(), StatusCode::OK);
    let after = series(&app, &app.admin_token, &path).await;
    assert_eq!(shared(after.clone()), vec![Decimal::from(1), Decimal::ZERO]);
    assert_eq!(dec(&after["total_withdrawn_kwh"]), Decimal::from(1));
    assert_eq!(dec(&after["total_injected_kwh"]), Decimal::from(6));

    // Back in: the totals are restored exactly.
    let back = app
        .patch(
            &app.admin_token,
            &member_b,
            &json!({ "status": "active", "withdrawn_at": null }),
        )
        .await;
    assert_eq!(back.status(), StatusCode::OK);
    let restored = series(&app, &app.admin_token, &path).await;
    assert_eq!(
        shared(restored.clone()),
        vec![Decimal::from(1), Decimal::from(1)]
    );
    assert_eq!(dec(&restored["total_withdrawn_kwh"]), Decimal::from(2));
}

/// `timestamp;pod;direction;kwh;interval_minutes` rows, one per `(pod, direction, kwh)`, on
/// consecutive hours from 1 March 2024 00:00 (Italian time).
fn hourly_csv(rows: &[(&str, &str, &str)]) -> Vec<u8> {
    let start = chrono::DateTime::parse_from_rfc3339("2024-02-29T23:00:00Z").unwrap();
    let mut csv = String::from("timestamp;pod;direction;kwh;interval_minutes\n");
    for (index, (pod, direction, kwh)) in rows.iter().enumerate() {
        let t = start + chrono::Duration::hours(index as i64);
        csv.push_str(&format!("{};{pod};{direction};{kwh};60\n", t.to_rfc3339()));
    }
    csv.into_bytes()
}

async fn problems(response: reqwest::Response) -> Vec<(i64, String)> {
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    body["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["loc"][1].as_i64().unwrap(),
                p["msg"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn stored_readings(app: &TestApp) -> i64 {
    scalar_i64(&app.db, "SELECT CAST(COUNT(*) AS BIGINT) FROM readings").await
}

/// Values no connection point could have measured are refused with their line, before
/// anything is stored; `allow_outliers` stores them and keeps a warning on the import.
#[tokio::test]
async fn implausible_readings_are_refused_line_by_line() {
    let app = spawn_app().await;
    let c = community(&app).await;
    const HOUSE: &str = "IT001E00000077";
    let body = json!({ "configuration_id": c.configuration, "pod": HOUSE, "role": "consumer",
                       "holder_type": "natural_person", "available_power_kw": "3", "joined_at": "2024-02-01" });
    let response = app.post(&app.admin_token, "/api/v1/members/", &body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let upload = |csv: Vec<u8>, query: &'static str| {
        let app = &app;
        async move { upload_csv(app, &app.admin_token, c.configuration, query, csv).await }
    };

    // A consumer without a plant cannot inject; 3.3 kWh is the most a 3 kW point draws in an
    // hour (+10%); the 200 kW plants inject at most 220 kWh an hour.
    let found = problems(
        upload(
            hourly_csv(&[
                (HOUSE, "IMMISSIONE", "0.5"),
                (HOUSE, "PRELIEVO", "3.3"),
                (HOUSE, "PRELIEVO", "3.301"),
                ("IT001E00112233", "IMMISSIONE", "220"),
                ("IT001E00112233", "IMMISSIONE", "220.001"),
            ]),
            "",
        )
        .await,
    )
    .await;
    assert_eq!(found.len(), 3, "{found:?}");
    assert_eq!(found[0].0, 2);
    assert!(
        found[0].1.contains("has no plant in the configuration"),
        "{}",
        found[0].1
    );
    assert_eq!(found[1].0, 4);
    assert!(
        found[1].1.contains("3.301 kWh in 60 minutes")
            && found[1].1.contains("available power of 3 kW"),
        "{}",
        found[1].1
    );
    assert_eq!(found[2].0, 6);
    assert!(found[2].1.contains("plants (200 kW)"), "{}", found[2].1);
    assert_eq!(stored_readings(&app).await, 0, "nothing was stored");

    // Asked to, the outlier is stored and the import says so; the injection stays refused.
    let accepted = upload(
        hourly_csv(&[(HOUSE, "PRELIEVO", "3.301")]),
        "allow_outliers=true",
    )
    .await;
    assert_eq!(accepted.status(), StatusCode::CREATED);
    let summary: Value = accepted.json().await.unwrap();
    let warnings = summary["warnings"].to_string();
    assert!(
        warnings.contains("1 value(s) beyond their POD's physical bound"),
        "{warnings}"
    );
    assert!(
        warnings.contains("line 2: POD IT001E00000077: withdrawal of 3.301 kWh"),
        "{warnings}"
    );
    // The import log keeps them; the rejected files left nothing there.
    let log: Value = app
        .get(
            &app.admin_token,
            &format!(
                "/api/v1/configurations/{}/imports?kind=readings",
                c.configuration
            ),
        )
        .await
        .json()
        .await
        .unwrap();
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["id"], summary["import_id"]);
    assert_eq!(log[0]["kind"], "readings");
    assert_eq!(log[0]["new_values"], 1);
    assert_eq!(log[0]["warnings"], summary["warnings"]);
    let one: Value = app
        .get(
            &app.admin_token,
            &format!("/api/v1/imports/{}", summary["import_id"]),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["warnings"], summary["warnings"]);
    assert!(one["uploaded_by"].is_i64());
    let refused = upload(
        hourly_csv(&[(HOUSE, "IMMISSIONE", "1")]),
        "allow_outliers=true",
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // A household file in Wh: a day of whole numbers of 10 or more.
    let day_in_wh: Vec<(&str, &str, &str)> = (0..24)
        .map(|_| ("IT001E00112233", "PRELIEVO", "350"))
        .collect();
    let found = problems(upload(hourly_csv(&day_in_wh), "").await).await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].1.contains("look like Wh"), "{}", found[0].1);
}

/// Prices outside the market's limits, or a file in €/kWh, are refused; an accepted file gets
/// an import id that its prices carry.
#[tokio::test]
async fn implausible_prices_are_refused_and_imports_have_ids() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    let upload = |csv: String| app.post_csv("/api/v1/market/zonal-prices", csv);
    let header = "timestamp;zone;eur_mwh;interval_minutes\n";
    let found = problems(
        upload(format!(
            "{header}2025-03-01T00:00:00+01:00;NORD;4000.01;60\n2025-03-01T01:00:00+01:00;NORD;-500;60\n"
        ))
        .await,
    )
    .await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, 2);
    assert!(
        found[0].1.contains("outside the plausible range"),
        "{}",
        found[0].1
    );
    let found = problems(
        upload(format!(
            "{header}2025-03-01T00:00:00+01:00;NORD;0.11;60\n2025-03-01T01:00:00+01:00;NORD;0.105;60\n"
        ))
        .await,
    )
    .await;
    assert!(found[0].1.contains("look like €/kWh"), "{}", found[0].1);
    let accepted = upload(format!(
        "{header}2025-03-01T00:00:00+01:00;NORD;110;60\n2025-03-01T01:00:00+01:00;NORD;-3.5;60\n"
    ))
    .await;
    assert_eq!(accepted.status(), StatusCode::CREATED);
    let summary: Value = accepted.json().await.unwrap();
    let import_id = summary["import_id"].as_i64().unwrap();
    assert!(import_id > 0);
    let rows = app
        .db
        .query_all_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            "SELECT DISTINCT CAST(import_id AS BIGINT) AS import_id FROM zonal_prices",
        ))
        .await
        .unwrap();
    let ids: Vec<i64> = rows
        .iter()
        .map(|r| r.try_get("", "import_id").unwrap())
        .collect();
    assert_eq!(ids, vec![import_id]);
    let one: Value = app
        .get(&app.admin_token, &format!("/api/v1/imports/{import_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            one["kind"].as_str(),
            one["configuration_id"].is_null(),
            one["new_values"].as_i64()
        ),
        (Some("prices"), true, Some(2))
    );
}

/// An import and a membership change on the same configuration, started together: the import
/// reads the memberships under the configuration's lock, inside its own transaction, so
/// whichever goes first, the hourly totals are exactly the readings inside the memberships
/// as they end up (and a reading outside them was never accepted).
#[tokio::test]
async fn an_import_and_a_membership_change_do_not_interleave() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    let c = community(&app).await;
    // March 2024, both PODs, both directions, every quarter-hour: 0.1 kWh each.
    let start = chrono::DateTime::parse_from_rfc3339("2024-02-29T23:00:00Z").unwrap();
    let mut csv = String::from("timestamp;pod;direction;kwh;interval_minutes\n");
    for quarter in 0..(31 * 96) {
        let t = (start + chrono::Duration::minutes(15 * quarter)).to_rfc3339();
        for pod in ["IT001E00112233", "IT001E04455667A"] {
            for direction in ["IMMISSIONE", "PRELIEVO"] {
                csv.push_str(&format!("{t};{pod};{direction};0.1;15\n"));
            }
        }
    }
    let member = format!("/api/v1/members/{}", c.members[1]);
    let withdrawal = json!({ "withdrawn_at": "2024-03-15" });
    let (import, change) = tokio::join!(
        upload_csv(
            &app,
            &app.admin_token,
            c.configuration,
            "",
            csv.into_bytes()
        ),
        app.patch(&app.admin_token, &member, &withdrawal),
    );
    assert_eq!(change.status(), StatusCode::OK);
    // First the change: the import meets rows after the withdrawal and is refused whole.
    // First the import: the change then takes the withdrawn days out of the totals.
    assert!(
        import.status() == StatusCode::CREATED
            || import.status() == StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        import.status()
    );
    let sum = |sql: String| {
        let db = &app.db;
        async move {
            let row = db
                .query_one_raw(sea_orm::Statement::from_string(
                    db.get_database_backend(),
                    sql,
                ))
                .await
                .unwrap()
                .unwrap();
            let injected: Option<i64> = row.try_get("", "injected").unwrap();
            let withdrawn: Option<i64> = row.try_get("", "withdrawn").unwrap();
            (injected.unwrap_or(0), withdrawn.unwrap_or(0))
        }
    };
    let totals = sum(format!(
        "SELECT CAST(SUM(injected_wh) AS BIGINT) AS injected, CAST(SUM(withdrawn_wh) AS BIGINT) AS withdrawn \
         FROM configuration_hours WHERE configuration_id = {}",
        c.configuration
    ))
    .await;
    // Member 1's window ends at local midnight of 15 March 2024 (23:00 UTC on the 14th).
    let end = chrono::DateTime::parse_from_rfc3339("2024-03-14T23:00:00Z")
        .unwrap()
        .timestamp();
    let inside = sum(format!(
        "SELECT CAST(SUM(CASE WHEN direction = 'I' THEN wh ELSE 0 END) AS BIGINT) AS injected, \
                CAST(SUM(CASE WHEN direction = 'W' THEN wh ELSE 0 END) AS BIGINT) AS withdrawn \
         FROM readings WHERE pod = 'IT001E00112233' OR (pod = 'IT001E04455667A' AND interval_start < {end})"
    ))
    .await;
    assert_eq!(totals, inside);
    let outside = stored_readings(&app).await;
    if import.status() == StatusCode::CREATED {
        assert_eq!(outside, 4 * 31 * 96, "every reading was stored");
        assert_eq!(totals.0, 2 * 31 * 96 * 100 - (31 - 14) * 96 * 100);
    } else {
        assert_eq!(outside, 0, "nothing was stored");
    }
}

/// A: POD 1 withdraws 1 kWh at 00:00 and 01:00 on 1 March 2024 (new values). B: 2 kWh at 00:00
/// (a revision of A's) and 3 kWh at 02:00 (new). A cannot be reverted while B's change stands;
/// reverting B puts 00:00 back to A's 1 kWh and removes 02:00, with the hourly totals, keeping
/// every value in the history; then A can be reverted too, and the POD has nothing left.
#[tokio::test]
async fn an_import_is_reverted_to_the_values_before_it() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    let c = community(&app).await;
    let pod = "IT001E00112233";
    let import = |rows: Vec<(&'static str, &'static str)>| {
        let app = &app;
        async move {
            let mut csv = String::from("timestamp;pod;direction;kwh;interval_minutes\n");
            for (at, kwh) in rows {
                csv.push_str(&format!("{at};{pod};PRELIEVO;{kwh};60\n"));
            }
            let response = app
                .post_csv(
                    &format!("/api/v1/configurations/{}/readings", c.configuration),
                    csv,
                )
                .await;
            assert_eq!(response.status(), StatusCode::CREATED);
            response.json::<Value>().await.unwrap()["import_id"]
                .as_i64()
                .unwrap()
        }
    };
    let a = import(vec![
        ("2024-03-01T00:00:00+01:00", "1"),
        ("2024-03-01T01:00:00+01:00", "1"),
    ])
    .await;
    let b = import(vec![
        ("2024-03-01T00:00:00+01:00", "2"),
        ("2024-03-01T02:00:00+01:00", "3"),
    ])
    .await;
    let state = |sql: &'static str| {
        let db = &app.db;
        async move {
            db.query_all_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                sql,
            ))
            .await
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r.try_get::<i64>("", "t").unwrap(),
                    r.try_get::<i64>("", "wh").unwrap(),
                )
            })
            .collect::<Vec<_>>()
        }
    };
    let readings = || {
        state(
            "SELECT CAST(interval_start AS BIGINT) AS t, CAST(wh AS BIGINT) AS wh FROM readings ORDER BY interval_start",
        )
    };
    let hours = || {
        state(
            "SELECT CAST(hour_start AS BIGINT) AS t, CAST(withdrawn_wh AS BIGINT) AS wh FROM configuration_hours WHERE withdrawn_wh <> 0 ORDER BY hour_start",
        )
    };
    let h0 = chrono::DateTime::parse_from_rfc3339("2024-03-01T00:00:00+01:00")
        .unwrap()
        .timestamp();
    assert_eq!(
        readings().await,
        vec![(h0, 2000), (h0 + 3600, 1000), (h0 + 7200, 3000)]
    );
    assert_curves_match_readings(&app.db).await;

    let revert = |id: i64| {
        let app = &app;
        async move {
            app.post(
                &app.admin_token,
                &format!("/api/v1/imports/{id}/revert"),
                &json!({}),
            )
            .await
        }
    };
    let blocked = assert_detail(revert(a).await, StatusCode::CONFLICT).await;
    assert!(
        blocked.contains(&format!("changed since by import(s) {b}")),
        "{blocked}"
    );

    let undone = revert(b).await;
    assert_eq!(undone.status(), StatusCode::OK);
    let undone: Value = undone.json().await.unwrap();
    assert_eq!(
        (undone["restored"].as_i64(), undone["removed"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(readings().await, vec![(h0, 1000), (h0 + 3600, 1000)]);
    assert_eq!(hours().await, vec![(h0, 1000), (h0 + 3600, 1000)]);
    assert_curves_match_readings(&app.db).await;
    let history = state(
        "SELECT CAST(interval_start AS BIGINT) AS t, CAST(wh AS BIGINT) AS wh FROM reading_revisions ORDER BY interval_start, revision",
    );
    assert_eq!(
        history.await,
        vec![(h0, 1000), (h0, 2000), (h0 + 7200, 3000)],
        "nothing is lost"
    );
    let b_now: Value = app
        .get(&app.admin_token, &format!("/api/v1/imports/{b}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(b_now["reverted_by_import_id"], undone["revert_import_id"]);
    let again = assert_detail(revert(b).await, StatusCode::CONFLICT).await;
    assert!(again.contains("already reverted"), "{again}");

    assert_eq!(revert(a).await.status(), StatusCode::OK);
    assert_eq!(readings().await, vec![]);
    assert_eq!(hours().await, vec![]);
    let log: Value = app
        .get(
            &app.admin_token,
            &format!(
                "/api/v1/configurations/{}/imports?kind=readings",
                c.configuration
            ),
        )
        .await
        .json()
        .await
        .unwrap();
    let kinds: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["revert", "revert", "readings", "readings"]);
}

#[tokio::test]
async fn a_price_file_can_be_sent_as_a_form_as_generated_clients_do() {
    let app = spawn_app().await;
    let csv = "timestamp;zone;eur_mwh\n2025-03-01T00:00:00+01:00;NORD;101.5\n2025-03-01T01:00:00+01:00;NORD;99\n";
    let part = reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("prezzi.csv");
    let response = app
        .client
        .post(app.url("/api/v1/market/zonal-prices"))
        .bearer_auth(&app.admin_token)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let prices: Value = app
        .get(
            &app.admin_token,
            "/api/v1/market/zonal-prices?zone=nord&from=2025-03-01&to=2025-03-01",
        )
        .await
        .json()
        .await
        .unwrap();
    let values: Vec<&str> = prices
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["eur_mwh"].as_str().unwrap())
        .collect();
    assert_eq!(values, ["101.5", "99"]);

    let empty = app
        .client
        .post(app.url("/api/v1/market/zonal-prices"))
        .bearer_auth(&app.admin_token)
        .multipart(reqwest::multipart::Form::new())
        .send()
        .await
        .unwrap();
    assert_validation_error(empty, &["body"]).await;
}

#[tokio::test]
async fn the_cli_imports_prices_through_the_same_use_case_as_the_api() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("prezzi.csv");
    std::fs::write(&file, "timestamp;zone;eur_mwh\n2025-03-01T00:00:00+01:00;SUD;88.8\n2025-03-01T01:00:00+01:00;SUD;90\n").unwrap();
    let output = app.cli(&["import", "prices", file.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("(long, import"), "{stdout}");
    assert!(
        stdout.contains("2 prices in 1 zone(s) SUD from 2025-02-28T23:00:00+00:00 to 2025-03-01T01:00:00+00:00 — 2 new, 0 changed, 0 unchanged"),
        "{stdout}"
    );
    assert!(
        stdout.contains("SUD 2025-03-01: 120 of 1440 minutes have a price"),
        "{stdout}"
    );
    let prices: Value = app
        .get(
            &app.admin_token,
            "/api/v1/market/zonal-prices?zone=SUD&from=2025-03-01&to=2025-03-01",
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(prices.as_array().unwrap().len(), 2);

    // A bad file: refused line by line, exit code non-zero, nothing written.
    std::fs::write(&file, "timestamp;zone;eur_mwh\n2025-03-02T00:00:00+01:00;SUD;0.09\n2025-03-02T01:00:00+01:00;SUD;0.1\n").unwrap();
    let output = app.cli(&["import", "prices", file.to_str().unwrap()]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("line 2: every price is below 1 €/MWh"),
        "{stderr}"
    );

    // Only admins import prices, whoever asks.
    let org = app.create_organization("Comunità Prezzi").await;
    app.create_user("vendor@prezzi.it", "vendor", Some(org))
        .await;
    let output = app.cli(&[
        "import",
        "prices",
        file.to_str().unwrap(),
        "--by",
        "vendor@prezzi.it",
    ]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("may not import prices"));
}

#[tokio::test]
async fn hourly_curves_are_recognised_and_their_month_totals_checked() {
    let app = spawn_app().await;
    let c = community(&app).await;
    // Two PODs, 25–27 October 2025 (the 26th has 25 hours), the direction in the file's name.
    let name = "curve_orarie_prelievo_2025-10.csv";
    let imported = summary(upload_file(&app, c.configuration, name).await).await;
    assert_eq!(imported["format"], "hourly_wide");
    assert_eq!(imported["intervals"], 2 * (24 + 25 + 24));
    assert_eq!(imported["pods"], 2);
    let days = series(
        &app,
        &app.admin_token,
        &format!(
            "/api/v1/configurations/{}/energy?from=2025-10-26&to=2025-10-26",
            c.configuration
        ),
    )
    .await;
    // 25 hours of 250 + 10·h Wh and of 400 + 10·h Wh (h = 0 … 24).
    let expected_wh = 25 * 250 + 25 * 400 + 2 * 10 * (0..25).sum::<i64>();
    assert_eq!(days["points"][0]["hours"], 25, "{days}");
    assert_eq!(
        dec(&days["points"][0]["withdrawn_kwh"]) * Decimal::from(1000),
        Decimal::from(expected_wh),
        "{days}"
    );

    // The same file with one hour changed: its month no longer adds up; nothing is written.
    let text = String::from_utf8(fixture(name)).unwrap();
    let changed = text.replacen(";0,250;", ";0,260;", 1);
    let before = crate::helpers::scalar_i64(&app.db, "SELECT COUNT(*) FROM readings").await;
    let refused = upload_csv(
        &app,
        &app.admin_token,
        c.configuration,
        "direction=withdrawal",
        changed.into_bytes(),
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = refused.json().await.unwrap();
    // Named by the first line of the POD's month.
    assert_eq!(body["detail"][0]["loc"], json!(["body", 2]), "{body}");
    let message = body["detail"][0]["msg"].as_str().unwrap();
    assert!(
        message.contains("KWH_MESE 26,770") && message.contains("add up to 26,780"),
        "{message}"
    );
    // A POD that is not a member is refused by its line, as in the other layouts, though its
    // readings come out only at the end of the file.
    let stranger = text.replace("IT001E04455667A", "IT001E09999999");
    let refused = upload_csv(
        &app,
        &app.admin_token,
        c.configuration,
        "direction=withdrawal",
        stranger.into_bytes(),
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["detail"][0]["loc"], json!(["body", 5]), "{body}");
    assert!(
        body["detail"][0]["msg"]
            .as_str()
            .unwrap()
            .contains("IT001E09999999"),
        "{body}"
    );
    assert_eq!(
        crate::helpers::scalar_i64(&app.db, "SELECT COUNT(*) FROM readings").await,
        before
    );
}

#[tokio::test]
async fn a_file_saved_by_excel_in_windows_1252_is_read_and_says_so() {
    let app = spawn_app().await;
    let c = community(&app).await;
    // A byte-order mark-less, Windows-1252 file: "località" and "Forlì" in that encoding.
    let mut file: Vec<u8> = b"timestamp;pod;direction;kwh;localit\xe0\n".to_vec();
    file.extend_from_slice(b"2025-05-06T10:00:00+02:00;IT001E00112233;PRELIEVO;1,5;Forl\xec\n");
    file.extend_from_slice(b"2025-05-06T10:15:00+02:00;IT001E00112233;PRELIEVO;0,5;Forl\xec\n");
    let body = summary(upload_csv(&app, &app.admin_token, c.configuration, "", file).await).await;
    assert_eq!(body["intervals"], 2, "{body}");
    assert!(
        body["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("Windows-1252")),
        "{body}"
    );
    // The same file in UTF-8 with a byte-order mark says nothing about its encoding.
    let mut utf8: Vec<u8> = "\u{feff}timestamp;pod;direction;kwh;località\n"
        .as_bytes()
        .to_vec();
    utf8.extend_from_slice(
        "2025-05-07T10:00:00+02:00;IT001E00112233;PRELIEVO;1,5;Forlì\n".as_bytes(),
    );
    let body = summary(upload_csv(&app, &app.admin_token, c.configuration, "", utf8).await).await;
    assert_eq!(body["intervals"], 1, "{body}");
    assert!(
        !body["warnings"].to_string().contains("Windows-1252"),
        "{body}"
    );
}

#[tokio::test]
async fn a_file_no_layout_takes_is_described_with_the_layouts_we_read() {
    let app = spawn_app().await;
    let c = community(&app).await;
    let refused = upload_csv(
        &app,
        &app.admin_token,
        c.configuration,
        "",
        b"Data,Ora,Potenza\n06/05/2025,10:00,3\n".to_vec(),
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["detail"][0]["loc"], json!(["body", 1]), "{body}");
    let message = body["detail"][0]["msg"].as_str().unwrap();
    for part in [
        "accepted layouts",
        "e-distribuzione",
        "hourly curves",
        r#"the first line reads "Data,Ora,Potenza" (separated by ',')"#,
        "read as UTF-8",
    ] {
        assert!(message.contains(part), "{part} missing from: {message}");
    }
    assert_eq!(
        crate::helpers::scalar_i64(&app.db, "SELECT COUNT(*) FROM reading_imports").await,
        0
    );
}

#[tokio::test]
async fn an_e_distribuzione_export_exactly_as_downloaded_is_read() {
    let app = spawn_app().await;
    let c = community(&app).await;
    // Quoted day and values, decimal commas, a trailing `;`, CRLF, no POD in the file or its
    // name (`ExportData_settembre.csv`): the POD and direction come with the request.
    let name = "ExportData_settembre.csv";
    let response = upload_named(
        &app,
        c.configuration,
        "pod=IT001E00112233&direction=withdrawal",
        name,
    )
    .await;
    let body = summary(response).await;
    assert_eq!(body["format"], "edistribuzione");
    assert_eq!(body["intervals"], 2 * 96);
    assert!(
        !body["warnings"].to_string().contains("named for"),
        "{body}"
    );
    // The same rows under another month's name: the rows' dates are stored, the mismatch said.
    let part = reqwest::multipart::Part::bytes(fixture(name)).file_name("ExportData_agosto.csv");
    let renamed = app
        .client
        .post(app.url(&format!(
            "/api/v1/configurations/{}/readings?pod=IT001E00112233&direction=withdrawal",
            c.configuration
        )))
        .bearer_auth(&app.admin_token)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    let renamed = summary(renamed).await;
    assert_eq!(renamed["unchanged"], 2 * 96);
    assert_eq!(
        renamed["warnings"][0],
        "the file is named for agosto, but 2 of its days are of another month (from 01/09/2024 to 02/09/2024): check it is the export you meant",
        "{renamed}"
    );
    let days = series(
        &app,
        &app.admin_token,
        &format!(
            "/api/v1/configurations/{}/energy?from=2024-09-01&to=2024-09-02",
            c.configuration
        ),
    )
    .await;
    // Each day: 0,100 + 0,101 + … + 0,195 kWh.
    let day_wh: i64 = (100..196).sum();
    assert_eq!(
        dec(&days["total_withdrawn_kwh"]) * Decimal::from(1000),
        Decimal::from(2 * day_wh),
        "{days}"
    );
    // Without the POD (not in the name, not asked), the file is refused saying where it goes.
    let refused = upload_named(&app, c.configuration, "direction=withdrawal", name).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = refused.json().await.unwrap();
    assert!(body.to_string().contains("POD missing"), "{body}");
}

#[tokio::test]
async fn a_distributors_xml_month_is_imported_as_it_comes() {
    let app = spawn_app().await;
    let c = community(&app).await;
    // Both PODs' October 2025 (the 26th in its two DST parts); the direction in the name.
    let name = "misure_prelievo_2025-10.xml";
    let body = summary(upload_file(&app, c.configuration, name).await).await;
    assert_eq!(body["format"], "distributor_xml");
    assert_eq!(body["intervals"], 2 * (30 * 96 + 100));
    assert_eq!(body["pods"], 2);
    let month = series(
        &app,
        &app.admin_token,
        &format!(
            "/api/v1/configurations/{}/energy?from=2025-10-01&to=2025-10-31&granularity=month",
            c.configuration
        ),
    )
    .await;
    // 2,980 quarter-hours of 10 Wh and of 20 Wh.
    assert_eq!(
        dec(&month["total_withdrawn_kwh"]),
        Decimal::from_str("89.400").unwrap(),
        "{month}"
    );

    // The same file cut short: refused, nothing written.
    let before = crate::helpers::scalar_i64(&app.db, "SELECT COUNT(*) FROM readings").await;
    let text = String::from_utf8(fixture(name)).unwrap();
    let cut = text[..text.len() / 3].to_string();
    let refused = upload_csv(
        &app,
        &app.admin_token,
        c.configuration,
        "direction=withdrawal",
        cut.into_bytes(),
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = refused.json().await.unwrap();
    assert!(body.to_string().contains("XML"), "{body}");
    assert_eq!(
        crate::helpers::scalar_i64(&app.db, "SELECT COUNT(*) FROM readings").await,
        before
    );
}

/// A request whose body is sent in chunks, without a declared length (as a client streaming a
/// file does): the status and the body of the answer.
async fn post_chunked(app: &TestApp, path: &str, body: &[u8]) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        app.admin_token
    )
    .into_bytes();
    for chunk in body.chunks(1000) {
        request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        request.extend_from_slice(chunk);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    // The server may answer (and close) before it has read everything: a failed write is fine.
    let _ = stream.write_all(&request).await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer).to_string();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, answer)
}

#[tokio::test]
async fn uploads_past_the_size_or_line_limit_answer_413_and_write_nothing() {
    let app = crate::helpers::spawn_app_with(std::collections::HashMap::from([
        ("UPLOAD_MAX_BYTES", "4096"),
        ("UPLOAD_MAX_LINES", "50"),
    ]))
    .await;
    let c = community(&app).await;
    let rows = |count: usize| {
        let mut csv = String::from("timestamp;pod;direction;kwh;interval_minutes\n");
        for hour in 0..count {
            csv.push_str(&format!(
                "2024-03-{:02}T{:02}:00:00+01:00;IT001E00112233;withdrawal;0.5;60\n",
                1 + hour / 24,
                hour % 24
            ));
        }
        csv.into_bytes()
    };
    // Over 4,096 bytes within two lines, so that the size, not the line count, is what trips.
    let mut big = rows(1);
    big.extend(std::iter::repeat_n(b'x', 5000));
    big.push(b'\n');
    let path = format!("/api/v1/configurations/{}/readings", c.configuration);

    // A declared length over the limit: refused before the body is read.
    let declared = upload_csv(&app, &app.admin_token, c.configuration, "", big.clone()).await;
    assert_eq!(declared.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = declared.json().await.unwrap();
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("larger than this server takes (4096 bytes, UPLOAD_MAX_BYTES)"),
        "{body}"
    );

    // No declared length: the read stops at the limit, the import writes nothing.
    let (status, answer) = post_chunked(&app, &path, &big).await;
    assert_eq!(status, 413, "{answer}");
    assert!(answer.contains("UPLOAD_MAX_BYTES"), "{answer}");
    let (status, answer) = post_chunked(&app, "/api/v1/market/zonal-prices", &big).await;
    assert_eq!(status, 413, "{answer}");

    // The same as a form's file.
    let part = reqwest::multipart::Part::bytes(big.clone()).file_name("letture.csv");
    let form = app
        .client
        .post(app.url(&path))
        .bearer_auth(&app.admin_token)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // Under the byte limit but over the line limit (60 lines of 51 allowed with the header).
    let long = rows(60);
    assert!(long.len() < 4096);
    let lines = upload_csv(&app, &app.admin_token, c.configuration, "", long).await;
    assert_eq!(lines.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = lines.json().await.unwrap();
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("more than 50 lines, the most this server takes (UPLOAD_MAX_LINES)"),
        "{body}"
    );
    for table in ["readings", "reading_imports"] {
        assert_eq!(
            crate::helpers::scalar_i64(&app.db, &format!("SELECT COUNT(*) FROM {table}")).await,
            0,
            "{table}"
        );
    }

    // Within both limits the file goes in.
    let fits = upload_csv(&app, &app.admin_token, c.configuration, "", rows(40)).await;
    assert_eq!(fits.status(), StatusCode::CREATED);
}

/// `kill -9` in the middle of a large import: after restart nothing of it is in the database
/// (no readings, revisions, curves, totals or import record), and the same file imports whole.
#[tokio::test]
async fn a_server_killed_in_the_middle_of_an_import_leaves_nothing_behind() {
    use tokio::io::AsyncWriteExt;
    let app = spawn_app().await;
    let c = community(&app).await;
    // Both PODs, both directions, every quarter-hour from January 2025: about 10 MB.
    let mut body = String::from("timestamp;pod;direction;kwh;interval_minutes\n");
    let start = chrono::DateTime::parse_from_rfc3339("2025-01-01T00:00:00+01:00").unwrap();
    let quarters = 43_000;
    for q in 0..quarters {
        let at = (start + chrono::Duration::minutes(15 * q)).to_rfc3339();
        for (pod, direction) in [
            ("IT001E00112233", "injection"),
            ("IT001E00112233", "withdrawal"),
            ("IT001E04455667A", "injection"),
            ("IT001E04455667A", "withdrawal"),
        ] {
            body.push_str(&format!("{at};{pod};{direction};0.5;15\n"));
        }
    }
    let body = body.into_bytes();
    let path = format!("/api/v1/configurations/{}/readings", c.configuration);

    let mut server = ServerProcess::start(&app).await;
    let mut stream = tokio::net::TcpStream::connect(&server.address)
        .await
        .unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n",
        server.address, app.admin_token
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    // Seven tenths of the file: more than the sockets buffer, so the server has read and
    // written part of it inside the import's transaction.
    for chunk in body[..body.len() * 7 / 10].chunks(64 * 1024) {
        let frame = [
            format!("{:x}\r\n", chunk.len()).as_bytes(),
            chunk,
            b"\r\n".as_slice(),
        ]
        .concat();
        stream.write_all(&frame).await.unwrap();
    }
    let backend = app.db.get_database_backend();
    let open_transactions = "SELECT CAST(COUNT(*) AS BIGINT) FROM pg_stat_activity \
         WHERE datname = current_database() AND xact_start IS NOT NULL AND pid <> pg_backend_pid()";
    if backend == sea_orm::DbBackend::Postgres {
        // The import's transaction is open on the server's connection.
        let mut open = 0;
        for _ in 0..200 {
            open = scalar_i64(&app.db, open_transactions).await;
            if open > 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(open > 0, "the import's transaction never opened");
    }
    server.process.kill().unwrap(); // SIGKILL: no shutdown, no rollback by the server
    server.process.wait().unwrap();
    drop(stream);
    if backend == sea_orm::DbBackend::Postgres {
        open_transactions_end(&app.db).await;
    }
    let tables = [
        "readings",
        "reading_revisions",
        "reading_curves",
        "configuration_hours",
        "reading_imports",
    ];
    for table in tables {
        let sql = format!("SELECT CAST(COUNT(*) AS BIGINT) FROM {table}");
        assert_eq!(scalar_i64(&app.db, &sql).await, 0, "{table} after the kill");
    }

    // Restarted, the server takes the same file whole.
    let server = ServerProcess::start(&app).await;
    let response = app
        .client
        .post(format!("http://{}{path}", server.address))
        .bearer_auth(&app.admin_token)
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let summary: Value = response.json().await.unwrap();
    assert_eq!(summary["intervals"], quarters * 4);
    assert_eq!(
        scalar_i64(
            &app.db,
            "SELECT CAST(COUNT(*) AS BIGINT) FROM reading_imports"
        )
        .await,
        1
    );
}
