//! Zonal-price files as operators download them (GME's XML and table), recognised from their
//! content; the fixtures are written by `tests/fixtures/prices/make.py`, whose prices are
//! `base(zone) + hour + quarter/4` (NORD 100, CNOR 101, CSUD 102 …).
use std::str::FromStr;

use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/prices");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).unwrap()
}

fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

/// The fixture as a form's file part, under its own name, as a browser sends it.
async fn upload(app: &TestApp, name: &str, query: &str) -> reqwest::Response {
    let part = reqwest::multipart::Part::bytes(fixture(name)).file_name(name.to_string());
    app.client
        .post(app.url(&format!("/api/v1/market/zonal-prices?{query}")))
        .bearer_auth(&app.admin_token)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap()
}

async fn created(response: reqwest::Response) -> Value {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

/// The problems of a 422, as (line, message).
async fn refused(response: reqwest::Response) -> Vec<(Value, String)> {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    body["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["loc"][1].clone(), d["msg"].as_str().unwrap().to_string()))
        .collect()
}

/// A zone's stored prices of one Italian day, as (start, €/MWh).
async fn prices(app: &TestApp, zone: &str, day: &str, resolution: &str) -> Vec<(String, Decimal)> {
    let list: Vec<Value> = app
        .get(
            &app.admin_token,
            &format!(
                "/api/v1/market/zonal-prices?zone={zone}&from={day}&to={day}&resolution={resolution}"
            ),
        )
        .await
        .json()
        .await
        .unwrap();
    list.iter()
        .map(|p| {
            (
                p["start"].as_str().unwrap().to_string(),
                dec(p["eur_mwh"].as_str().unwrap()),
            )
        })
        .collect()
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn gme_price_files_are_recognised_and_read_as_downloaded() {
    let app = spawn_app().await;

    // The spring day's hourly XML: 23 hours, every Italian zone, the rest named.
    let spring = created(upload(&app, "20250330MGPPrezzi.xml", "").await).await;
    assert_eq!(spring["format"], "gme_xml");
    assert_eq!(spring["rows"], 23 * 7);
    assert_eq!(
        strings(&spring["zone_codes"]),
        ["CALA", "CNOR", "CSUD", "NORD", "SARD", "SICI", "SUD"]
    );
    let left_out = strings(&spring["left_out"]);
    assert!(left_out.contains(&"PUN") && left_out.contains(&"AUST") && left_out.contains(&"XFRA"));
    assert!(!left_out.contains(&"NORD"));
    assert_eq!(spring["from"], "2025-03-29T23:00:00+00:00");
    assert_eq!(spring["to"], "2025-03-30T22:00:00+00:00");
    assert_eq!(spring["gaps"], json!([]));
    let nord = prices(&app, "NORD", "2025-03-30", "raw").await;
    assert_eq!(nord.len(), 23);
    assert_eq!(nord[0], ("2025-03-29T23:00:00+00:00".into(), dec("101")));
    // Ora 3 is 03:00 summer time: 02:00 does not exist that day.
    assert_eq!(nord[2], ("2025-03-30T01:00:00+00:00".into(), dec("103")));
    assert_eq!(nord[22], ("2025-03-30T21:00:00+00:00".into(), dec("123")));
    let sici = prices(&app, "SICI", "2025-03-30", "raw").await;
    assert_eq!(sici[0].1, dec("111"));

    // Importing it again changes nothing.
    let again = created(upload(&app, "20250330MGPPrezzi.xml", "format=gme_xml").await).await;
    assert_eq!(
        (again["unchanged"].as_u64(), again["new_values"].as_u64()),
        (Some(161), Some(0))
    );

    // The autumn day's quarter-hour XML for one zone: 100 periods, 25 hourly prices.
    let autumn = created(upload(&app, "20251026MGPPrezzi.xml", "zone=csud").await).await;
    assert_eq!(autumn["format"], "gme_xml");
    assert_eq!(autumn["rows"], 100);
    assert_eq!(strings(&autumn["zone_codes"]), ["CSUD"]);
    assert_eq!(
        strings(&autumn["other_zones"]),
        ["CALA", "CNOR", "NORD", "SARD", "SICI", "SUD"]
    );
    let quarters = prices(&app, "CSUD", "2025-10-26", "raw").await;
    assert_eq!(quarters.len(), 100);
    assert_eq!(
        quarters[99],
        ("2025-10-26T22:45:00+00:00".into(), dec("127.75"))
    );
    let hours = prices(&app, "CSUD", "2025-10-26", "hourly").await;
    assert_eq!(hours.len(), 25);
    // The two 02:00s: 00:00 and 01:00 UTC, the third and fourth hours of the day.
    assert_eq!(
        hours[2],
        ("2025-10-26T00:00:00+00:00".into(), dec("105.375"))
    );
    assert_eq!(
        hours[3],
        ("2025-10-26T01:00:00+00:00".into(), dec("106.375"))
    );
    assert!(prices(&app, "NORD", "2025-10-26", "raw").await.is_empty());

    // GME's spreadsheet saved as CSV by an Italian Excel (Windows-1252, a two-line quoted
    // header), sent as a plain body: the autumn day of 2024, 25 hours.
    let table = app
        .post_csv(
            "/api/v1/market/zonal-prices",
            fixture("Prezzi_MGP_2024-10-27.csv"),
        )
        .await;
    let table = created(table).await;
    assert_eq!(table["format"], "gme_table");
    assert_eq!(table["rows"], 25 * 7);
    assert_eq!(table["gaps"], json!([]));
    let nord = prices(&app, "NORD", "2024-10-27", "raw").await;
    assert_eq!(nord.len(), 25);
    assert_eq!(nord[3], ("2024-10-27T01:00:00+00:00".into(), dec("104")));
    assert_eq!(nord[24], ("2024-10-27T22:00:00+00:00".into(), dec("125")));

    // GME's results as an Excel workbook: its prices sheet (not the first), an Excel date, a
    // price as floating point left it (101.30000000000001).
    let workbook = created(upload(&app, "Prezzi_MGP_2025-03-30.xlsx", "zone=NORD").await).await;
    assert_eq!(workbook["format"], "gme_xlsx");
    assert_eq!(workbook["rows"], 23);
    assert_eq!(
        (
            workbook["changed_values"].as_u64(),
            workbook["unchanged"].as_u64()
        ),
        (Some(1), Some(22)),
        "{workbook}"
    );
    let nord = prices(&app, "NORD", "2025-03-30", "raw").await;
    assert_eq!(nord[0], ("2025-03-29T23:00:00+00:00".into(), dec("101.3")));
    assert_eq!(nord[22], ("2025-03-30T21:00:00+00:00".into(), dec("123")));

    // GME's download of several days: a ZIP of daily XML files, read in name order.
    let archive =
        created(upload(&app, "MGP_Prezzi_20250330_20251026.zip", "zone=NORD").await).await;
    assert_eq!(
        (archive["format"].as_str(), archive["files"].as_u64()),
        (Some("gme_xml"), Some(2))
    );
    assert_eq!(archive["rows"], 23 + 100);
    // The spring day's NORD prices were stored above (its first hour changes back from the
    // workbook's 101.3); the autumn day's are new.
    assert_eq!(
        (
            archive["unchanged"].as_u64(),
            archive["changed_values"].as_u64(),
            archive["new_values"].as_u64()
        ),
        (Some(22), Some(1), Some(100))
    );
    assert_eq!(archive["from"], "2025-03-29T23:00:00+00:00");
    assert_eq!(archive["to"], "2025-10-26T23:00:00+00:00");
    assert_eq!(prices(&app, "NORD", "2025-10-26", "raw").await.len(), 100);

    // The import records name the layout they read.
    use sea_orm::ConnectionTrait;
    let formats: Vec<String> = app
        .db
        .query_all_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            "SELECT format FROM reading_imports WHERE kind = 'prices' ORDER BY id",
        ))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get::<String>("", "format").unwrap())
        .collect();
    assert_eq!(
        formats,
        [
            "gme_xml",
            "gme_xml",
            "gme_xml",
            "gme_table",
            "gme_xlsx",
            "gme_xml"
        ]
    );
}

#[tokio::test]
async fn malformed_price_files_are_refused_by_line_and_store_nothing() {
    let app = spawn_app().await;

    let cut = refused(upload(&app, "MGPPrezzi_troncato.xml", "").await).await;
    assert!(cut[0].1.contains("cut short"), "{cut:?}");
    assert!(cut[0].0.as_u64().unwrap() > 1, "{cut:?}");

    // In an archive, a problem names the file it is in.
    let archive = {
        use std::io::Write;
        let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for name in ["20250330MGPPrezzi.xml", "MGPPrezzi_troncato.xml"] {
            out.start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap();
            out.write_all(&fixture(name)).unwrap();
        }
        out.finish().unwrap().into_inner()
    };
    let found = refused(app.post_csv("/api/v1/market/zonal-prices", archive).await).await;
    assert!(
        found[0]
            .1
            .starts_with("MGPPrezzi_troncato.xml: the XML ends"),
        "{found:?}"
    );

    let forced = refused(upload(&app, "Prezzi_MGP_2025-03-30.xlsx", "format=gme_xml").await).await;
    assert!(
        forced[0]
            .1
            .contains("an Excel workbook (.xlsx), not `gme_xml`"),
        "{forced:?}"
    );

    let per_kwh = refused(upload(&app, "prezzi_eur_kwh.csv", "").await).await;
    assert!(per_kwh[0].1.contains("look like €/kWh"), "{per_kwh:?}");

    let wrong_zone = refused(upload(&app, "prezzi_solo_nord.csv", "zone=SARD").await).await;
    assert_eq!(wrong_zone[0].0, json!(1));
    assert!(
        wrong_zone[0]
            .1
            .contains("prices for NORD but none for SARD"),
        "{wrong_zone:?}"
    );

    // An hour the day does not have, in the table and in the XML.
    let spring_table = "Data;Ora;NORD\n20250330;1;100\n20250330;24;100\n";
    let found = refused(
        app.post_csv("/api/v1/market/zonal-prices", spring_table)
            .await,
    )
    .await;
    assert_eq!(found[0].0, json!(3));
    assert!(
        found[0].1.contains("Ora 24 does not exist on 30/03/2025"),
        "{found:?}"
    );
    let text = String::from_utf8(fixture("20250330MGPPrezzi.xml")).unwrap();
    let bad_hour = text.replace("<Ora>23</Ora>", "<Ora>24</Ora>");
    let found = refused(app.post_csv("/api/v1/market/zonal-prices", bad_hour).await).await;
    let line = text
        .lines()
        .position(|l| l.contains("<Ora>23</Ora>"))
        .unwrap()
        + 1;
    assert_eq!(found[0].0, json!(line), "{found:?}");

    // A price that is not one is named with its zone and line.
    let bad_price = text.replacen("<SARD>106,000000</SARD>", "<SARD>106,0x</SARD>", 1);
    let found = refused(app.post_csv("/api/v1/market/zonal-prices", bad_price).await).await;
    assert!(
        found[0].1.starts_with("SARD: `106,0x` is not a price"),
        "{found:?}"
    );

    // A file no layout recognises says what we read and what it looked like.
    let found = refused(
        app.post_csv(
            "/api/v1/market/zonal-prices",
            "giorno;valore\n01/03/2025;1\n",
        )
        .await,
    )
    .await;
    assert!(found[0].1.contains("gme_xml"), "{found:?}");
    assert!(found[0].1.contains("giorno;valore"), "{found:?}");

    let bogus = app
        .client
        .post(app.url("/api/v1/market/zonal-prices?format=csv"))
        .bearer_auth(&app.admin_token)
        .header("content-type", "text/csv")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(bogus.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = bogus.json().await.unwrap();
    assert_eq!(
        body["detail"][0]["loc"],
        json!(["query", "format"]),
        "{body}"
    );

    // Nothing of any refused file was written.
    assert!(prices(&app, "NORD", "2025-03-01", "raw").await.is_empty());
    assert!(prices(&app, "NORD", "2025-03-30", "raw").await.is_empty());
    assert!(prices(&app, "CSUD", "2025-10-26", "raw").await.is_empty());
}

#[tokio::test]
async fn the_cli_recognises_gme_files_and_picks_a_zone() {
    let app = spawn_app().await;
    let file = format!("{FIXTURES}/20251026MGPPrezzi.xml");
    let output = app.cli(&["import", "prices", &file, "--zone", "nord"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("(gme_xml, import"), "{stdout}");
    assert!(stdout.contains("100 prices in 1 zone(s) NORD"), "{stdout}");
    assert!(
        stdout.contains("left out (not an Italian zone): AUST"),
        "{stdout}"
    );
    assert!(
        stdout.contains("other zones in the file, not imported: CALA"),
        "{stdout}"
    );
    assert_eq!(prices(&app, "NORD", "2025-10-26", "raw").await.len(), 100);

    let output = app.cli(&[
        "import",
        "prices",
        &format!("{FIXTURES}/prezzi_solo_nord.csv"),
        "--zone",
        "SARD",
    ]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("none for SARD"), "{stderr}");
}
