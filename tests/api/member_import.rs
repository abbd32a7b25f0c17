//! Bulk import of members with their holders (issue 14): a spreadsheet as Italian Excel saves
//! it, a dry run that writes nothing, an import that writes everything or nothing, re-imports
//! that change nothing, every bad cell named by line and column, scope.
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

/// The holders' check letter (codice fiscale; the same rule gives an Italian IBAN's CIN):
/// odd positions through the official table, even ones by value, the sum mod 26.
fn check_letter(chars: &str) -> char {
    const ODD: [u32; 26] = [
        1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24,
        23,
    ];
    let sum: u32 = chars
        .bytes()
        .enumerate()
        .map(|(i, b)| {
            let value = if b.is_ascii_digit() {
                b - b'0'
            } else {
                b - b'A'
            };
            if i % 2 == 0 {
                ODD[usize::from(value)]
            } else {
                u32::from(value)
            }
        })
        .sum();
    char::from(b'A' + (sum % 26) as u8)
}

/// A valid codice fiscale for member `i` (0–49): each a different birth year.
fn fiscal_code(i: usize) -> String {
    person_code("BNCLCU", i)
}

/// The same for another name (its six letters).
fn person_code(name: &str, i: usize) -> String {
    let first = format!("{name}{:02}T{:02}F257", 40 + i % 50, 1 + i % 28);
    format!("{first}{}", check_letter(&first))
}

/// A valid Italian IBAN (CIN and mod-97 check digits computed) for account `123456 + i`.
fn iban(i: usize) -> String {
    let bban_tail = format!("0542811101{:012}", 123_456 + i);
    let bban = format!("{}{bban_tail}", check_letter(&bban_tail));
    let remainder = format!("{bban}IT00").bytes().fold(0u32, |acc, b| {
        if b.is_ascii_digit() {
            (acc * 10 + u32::from(b - b'0')) % 97
        } else {
            (acc * 100 + u32::from(b - b'A') + 10) % 97
        }
    });
    format!("IT{:02}{bban}", 98 - remainder)
}

/// A valid partita IVA from its first ten digits.
fn vat_number(first_ten: &str) -> String {
    let sum: u32 = first_ten
        .bytes()
        .enumerate()
        .map(|(i, b)| {
            let digit = u32::from(b - b'0');
            match (i % 2, digit * 2) {
                (0, _) => digit,
                (_, doubled) if doubled > 9 => doubled - 9,
                (_, doubled) => doubled,
            }
        })
        .sum();
    format!("{first_ten}{}", (10 - sum % 10) % 10)
}

fn pod(i: usize) -> String {
    format!("IT001E{:08}", 1000 + i)
}

#[test]
fn the_generators_reproduce_codes_the_server_is_known_to_accept() {
    // The README's holder and the holders tests use these.
    assert_eq!(check_letter("RSSMRA85T10A562"), 'S');
    assert_eq!(iban(0), "IT60X0542811101000000123456");
    assert_eq!(vat_number("0123456789"), "01234567897");
}

const COLUMNS: [&str; 25] = [
    "pod",
    "role",
    "joined_at",
    "holder_kind",
    "first_name",
    "last_name",
    "company_name",
    "fiscal_code",
    "vat_number",
    "street",
    "postcode",
    "municipality",
    "province",
    "email",
    "phone",
    "iban",
    "language",
    "available_power_kw",
    "net_metering",
    "gse_notified_on",
    "privacy_notice_version",
    "statute_version",
    "communications_version",
    "consents_given_on",
    "consent_method",
];

/// A members spreadsheet being edited: named columns, one row per member.
#[derive(Clone)]
struct Sheet {
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Sheet {
    /// `count` natural persons, one point each, as an operator fills the sheet.
    fn of(count: usize) -> Sheet {
        let rows = (0..count)
            .map(|i| {
                let spaced_iban = if i % 2 == 0 {
                    // As printed on a bank statement, in groups of four.
                    iban(i)
                        .as_bytes()
                        .chunks(4)
                        .map(|c| std::str::from_utf8(c).unwrap())
                        .collect::<Vec<_>>()
                        .join(" ")
                } else {
                    iban(i)
                };
                let values = [
                    pod(i),
                    if i % 10 == 0 { "prosumer" } else { "consumer" }.to_string(),
                    "01/02/2024".to_string(),
                    "natural_person".to_string(),
                    "Luca".to_string(),
                    format!("Bianchi {i}"),
                    String::new(),
                    fiscal_code(i),
                    String::new(),
                    format!("Via Roma {}", i + 1),
                    "41042".to_string(),
                    "Fiorano Modenese".to_string(),
                    "MO".to_string(),
                    format!("socio{i}@example.com"),
                    format!("+39 333 {:07}", 1_000_000 + i),
                    spaced_iban,
                    "it".to_string(),
                    if i % 2 == 0 { "3,5" } else { "" }.to_string(),
                    "no".to_string(),
                    String::new(),
                    "2025-03".to_string(),
                    "v2".to_string(),
                    if i % 3 == 0 { "2025-03" } else { "" }.to_string(),
                    "15/01/2024".to_string(),
                    String::new(),
                ];
                values.to_vec()
            })
            .collect();
        Sheet {
            columns: COLUMNS.iter().map(|c| c.to_string()).collect(),
            rows,
        }
    }

    fn index(&self, column: &str) -> usize {
        self.columns
            .iter()
            .position(|c| c == column)
            .unwrap_or_else(|| panic!("no column {column}"))
    }

    /// Sets a cell of the row on file line `line` (the header is line 1).
    fn set(&mut self, line: usize, column: &str, value: &str) -> &mut Self {
        let index = self.index(column);
        self.rows[line - 2][index] = value.to_string();
        self
    }

    fn get(&self, line: usize, column: &str) -> String {
        self.rows[line - 2][self.index(column)].clone()
    }

    fn drop_column(&mut self, column: &str) -> &mut Self {
        let index = self.index(column);
        self.columns.remove(index);
        for row in &mut self.rows {
            row.remove(index);
        }
        self
    }

    fn rename_column(&mut self, column: &str, to: &str) -> &mut Self {
        let index = self.index(column);
        self.columns[index] = to.to_string();
        self
    }

    fn text(&self, separator: &str, line_end: &str) -> String {
        let quote = |cell: &String| {
            if cell.contains(separator) || cell.contains('"') {
                format!("\"{}\"", cell.replace('"', "\"\""))
            } else {
                cell.clone()
            }
        };
        std::iter::once(&self.columns)
            .chain(&self.rows)
            .map(|cells| cells.iter().map(quote).collect::<Vec<_>>().join(separator))
            .map(|line| line + line_end)
            .collect()
    }

    /// As Italian Excel saves "CSV UTF-8": `;`, a byte-order mark, CRLF.
    fn excel(&self) -> Vec<u8> {
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend(self.text(";", "\r\n").into_bytes());
        bytes
    }

    /// As Italian Excel saves "CSV (separatore: punto e virgola)" on Windows: Windows-1252.
    fn excel_windows_1252(&self) -> Vec<u8> {
        self.text(";", "\r\n")
            .chars()
            .map(|c| match c {
                'ì' => 0xEC,
                'à' => 0xE0,
                c if c.is_ascii() => c as u8,
                other => panic!("{other} not in the test's Windows-1252 table"),
            })
            .collect()
    }

    /// Plain UTF-8 CSV with `,`.
    fn csv(&self) -> Vec<u8> {
        self.text(",", "\n").into_bytes()
    }
}

fn import_path(configuration: i64, dry_run: bool) -> String {
    format!("/api/v1/configurations/{configuration}/members/import?dry_run={dry_run}")
}

async fn upload(app: &TestApp, token: &str, path: &str, body: Vec<u8>) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn json_of(response: reqwest::Response, status: StatusCode) -> Value {
    let code = response.status();
    let body = response.text().await.unwrap();
    assert_eq!(code, status, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// Rows of every table an import writes.
async fn stored(app: &TestApp) -> [i64; 4] {
    let mut counts = [0; 4];
    for (count, table) in
        counts
            .iter_mut()
            .zip(["holders", "members", "holder_consents", "holder_revisions"])
    {
        *count = scalar_i64(&app.db, &format!("SELECT COUNT(*) FROM {table}")).await;
    }
    counts
}

fn counts(report: &Value, what: &str) -> (u64, u64, u64) {
    let c = &report[what];
    (
        c["created"].as_u64().unwrap(),
        c["updated"].as_u64().unwrap(),
        c["unchanged"].as_u64().unwrap(),
    )
}

/// The `(loc, msg)` of every problem in a 422.
async fn problems(response: reqwest::Response) -> Vec<(Value, String)> {
    let body = json_of(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    body["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["loc"].clone(), d["msg"].as_str().unwrap().to_string()))
        .collect()
}

fn at(line: u64, column: &str) -> Value {
    json!(["body", line, column])
}

#[tokio::test]
async fn fifty_members_from_excel_are_checked_then_imported_once() {
    let app = spawn_app().await;
    let tenants = two_tenants(&app).await;
    let token = &tenants.vendor_a.1;
    let sheet = Sheet::of(50);
    let empty = stored(&app).await;

    // The dry run checks everything and writes nothing.
    let report = json_of(
        upload(&app, token, &import_path(tenants.a1, true), sheet.excel()).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["rows"], 50);
    assert_eq!(report["separator"], ";");
    assert_eq!(report["encoding"], "utf-8");
    assert_eq!(counts(&report, "holders"), (50, 0, 0));
    assert_eq!(counts(&report, "members"), (50, 0, 0));
    assert_eq!(report["lines"][0]["line"], 2);
    assert_eq!(report["lines"][0]["member"], "created");
    assert_eq!(report["lines"][0]["member_id"], Value::Null);
    assert_eq!(stored(&app).await, empty, "a dry run writes nothing");

    let report = json_of(
        upload(&app, token, &import_path(tenants.a1, false), sheet.excel()).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(report["dry_run"], false);
    assert_eq!(counts(&report, "holders"), (50, 0, 0));
    assert_eq!(counts(&report, "members"), (50, 0, 0));
    let after = stored(&app).await;
    // 50 holders and members; privacy notice and statute for each, communications for every
    // third; a `created` and an `activated` revision each.
    assert_eq!(after, [50, 50, 100 + 17, 100]);

    let holders: Value = app
        .get(
            token,
            &format!("/api/v1/holders/?configuration_id={}&limit=100", tenants.a1),
        )
        .await
        .json()
        .await
        .unwrap();
    let holders = holders.as_array().unwrap();
    assert_eq!(holders.len(), 50);
    for holder in holders {
        assert_eq!(holder["status"], "active", "{holder}");
        assert_eq!(holder["organization_id"], tenants.org_a);
    }
    let first = holders
        .iter()
        .find(|h| h["fiscal_code"] == fiscal_code(0).as_str())
        .unwrap();
    // Stored in their normal forms: the IBAN without its spaces, the phone E.164.
    assert_eq!(first["iban"], iban(0));
    assert_eq!(first["phone"], "+393331000000");
    assert_eq!(first["display_name"], "Luca Bianchi 0");
    let consents: Value = app
        .get(token, &format!("/api/v1/holders/{}/consents", first["id"]))
        .await
        .json()
        .await
        .unwrap();
    let consents = consents.as_array().unwrap();
    let mut kinds: Vec<&str> = consents
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    kinds.sort();
    assert_eq!(kinds, ["communications", "privacy_notice", "statute"]);
    for consent in consents {
        assert_eq!(consent["method"], "import");
        assert_eq!(consent["in_force"], true);
        assert_eq!(consent["recorded_by"], tenants.vendor_a.0);
        // 15/01/2024 from its first instant, Italian time.
        assert_eq!(consent["given_at"], "2024-01-14T23:00:00Z");
    }

    let members: Value = app
        .get(
            token,
            &format!("/api/v1/members/?configuration_id={}&limit=100", tenants.a1),
        )
        .await
        .json()
        .await
        .unwrap();
    let members = members.as_array().unwrap();
    assert_eq!(members.len(), 50);
    let member = members
        .iter()
        .find(|m| m["pod"] == pod(0).as_str())
        .unwrap();
    assert_eq!(member["holder_id"], first["id"]);
    assert_eq!(member["holder_type"], "natural_person");
    assert_eq!(member["role"], "prosumer");
    assert_eq!(member["joined_at"], "2024-02-01");
    assert_eq!(member["available_power_kw"], "3.500");
    assert_eq!(member["status"], "active");
    assert_eq!(report["lines"][0]["member_id"], member["id"]);
    assert_eq!(report["lines"][0]["holder_id"], first["id"]);

    // The same file again, even as UTF-8 with commas: nothing changes.
    for body in [sheet.excel(), sheet.csv()] {
        let again = json_of(
            upload(&app, token, &import_path(tenants.a1, false), body).await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(counts(&again, "holders"), (0, 0, 50));
        assert_eq!(counts(&again, "members"), (0, 0, 50));
        assert_eq!(stored(&app).await, after);
    }

    // One member moved to Forlì, saved by Excel on Windows (Windows-1252): that holder is
    // updated, with a revision naming what changed; nothing else.
    let mut moved = sheet.clone();
    moved
        .set(2, "municipality", "Forlì")
        .set(2, "province", "FC")
        .set(2, "postcode", "47121");
    let report = json_of(
        upload(
            &app,
            token,
            &import_path(tenants.a1, false),
            moved.excel_windows_1252(),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(report["encoding"], "windows-1252");
    assert_eq!(counts(&report, "holders"), (0, 1, 49));
    assert_eq!(counts(&report, "members"), (0, 0, 50));
    assert_eq!(
        report["lines"][0]["holder_changes"],
        json!(["municipality", "postcode", "province"])
    );
    let holder: Value = app
        .get(token, &format!("/api/v1/holders/{}", first["id"]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(holder["municipality"], "Forlì");
    let history: Value = app
        .get(token, &format!("/api/v1/holders/{}/history", first["id"]))
        .await
        .json()
        .await
        .unwrap();
    let last = history.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "updated");
    assert_eq!(last["changed_by"], tenants.vendor_a.0);
    assert_eq!(
        last["changes"]["municipality"],
        json!(["Fiorano Modenese", "Forlì"])
    );
    let mut expected = after;
    expected[3] += 1;
    assert_eq!(stored(&app).await, expected);
    // The configuration's members count, kept by the database's triggers through a bulk
    // import (one statement of many rows on PostgreSQL), equals the rows.
    let drifted = scalar_i64(
        &app.db,
        "SELECT CAST(count(*) AS BIGINT) FROM configurations c WHERE c.members_count <> \
         (SELECT count(*) FROM members m WHERE m.configuration_id = c.id)",
    )
    .await;
    assert_eq!(drifted, 0);
}

#[tokio::test]
async fn each_bad_input_is_named_by_line_and_column_and_nothing_is_written() {
    let app = spawn_app().await;
    let tenants = two_tenants(&app).await;
    let token = &tenants.vendor_a.1;
    // A point of another configuration (of the same organization), not in the good file.
    let elsewhere = app
        .post(
            token,
            "/api/v1/members/",
            &json!({"configuration_id": tenants.a2, "pod": pod(500), "role": "consumer",
                    "holder_type": "natural_person", "joined_at": "2024-01-01"}),
        )
        .await;
    assert_eq!(elsewhere.status(), StatusCode::CREATED);
    let good = Sheet::of(50);
    let before = stored(&app).await;

    type Edit = fn(&mut Sheet);
    let cases: Vec<(&str, Edit, Value, &str)> = vec![
        (
            "an IBAN with a mistyped digit",
            |s| {
                let wrong = s.get(3, "iban").replace("123457", "123458");
                s.set(3, "iban", &wrong);
            },
            at(3, "iban"),
            "check digits",
        ),
        (
            "a fiscal code with the wrong check letter",
            |s| {
                let mut code = s.get(4, "fiscal_code");
                let last = code.pop().unwrap();
                code.push(if last == 'A' { 'B' } else { 'A' });
                s.set(4, "fiscal_code", &code);
            },
            at(4, "fiscal_code"),
            "check character",
        ),
        (
            "a four-digit postcode",
            |s| {
                s.set(5, "postcode", "4104");
            },
            at(5, "postcode"),
            "",
        ),
        (
            "a phone without its country code",
            |s| {
                s.set(6, "phone", "333 123 4567");
            },
            at(6, "phone"),
            "country code",
        ),
        (
            "a missing statute consent",
            |s| {
                s.set(7, "statute_version", "");
            },
            at(7, "statute_version"),
            "required",
        ),
        (
            "no privacy-notice column at all",
            |s| {
                s.drop_column("privacy_notice_version");
            },
            at(1, "privacy_notice_version"),
            "required",
        ),
        (
            "a consent dated in the future",
            |s| {
                s.set(8, "consents_given_on", "01/01/2999");
            },
            at(8, "consents_given_on"),
            "future",
        ),
        (
            "a POD listed twice",
            |s| {
                let first = s.get(8, "pod");
                s.set(9, "pod", &first);
            },
            at(9, "pod"),
            "also on line 8",
        ),
        (
            "an unknown column",
            |s| {
                s.rename_column("language", "lingua madre");
            },
            at(1, "lingua madre"),
            "unknown column",
        ),
        (
            "a POD already in another configuration",
            |s| {
                s.set(12, "pod", &pod(500));
            },
            at(12, "pod"),
            "one configuration at a time",
        ),
        (
            "a large enterprise in a CER",
            |s| {
                s.set(13, "holder_kind", "other_company")
                    .set(13, "first_name", "")
                    .set(13, "last_name", "")
                    .set(13, "company_name", "Acciaierie del Nord S.p.A.")
                    .set(13, "fiscal_code", &vat_number("0765432101"));
            },
            at(13, "holder_kind"),
            "CER",
        ),
        (
            "a consumer with net metering",
            |s| {
                s.set(14, "net_metering", "sì");
            },
            at(14, "net_metering"),
            "",
        ),
        (
            // Reported once: "required", not also "an active holder needs its fiscal_code".
            "a blank fiscal code",
            |s| {
                s.set(16, "fiscal_code", "");
            },
            at(16, "fiscal_code"),
            "required",
        ),
        (
            "a date Excel never writes",
            |s| {
                s.set(15, "joined_at", "2024/02/01");
            },
            at(15, "joined_at"),
            "dd/mm/yyyy",
        ),
    ];
    // Each case: 49 good lines and one bad one (or a bad header) — refused, naming just that.
    for (case, edit, loc, words) in cases {
        let mut sheet = good.clone();
        edit(&mut sheet);
        let response = upload(&app, token, &import_path(tenants.a1, false), sheet.excel()).await;
        let found = problems(response).await;
        let locs: Vec<Value> = found.iter().map(|(loc, _)| loc.clone()).collect();
        assert_eq!(locs, std::slice::from_ref(&loc), "{case}: {found:?}");
        let message = &found[0].1;
        assert!(message.contains(words), "{case}: {message}");
        assert_eq!(stored(&app).await, before, "{case}: nothing is written");
    }

    // All at once, as a dry run: every problem is listed, the database's too, in line order.
    let mut sheet = good.clone();
    sheet
        .set(12, "pod", &pod(500))
        .set(3, "iban", "IT00X0542811101000000123456")
        .set(5, "postcode", "4104")
        .set(5, "phone", "12345")
        .set(6, "role", "consumatore");
    let found =
        problems(upload(&app, token, &import_path(tenants.a1, true), sheet.excel()).await).await;
    let locs: Vec<Value> = found.iter().map(|(loc, _)| loc.clone()).collect();
    assert_eq!(
        locs,
        [
            at(3, "iban"),
            at(5, "postcode"),
            at(5, "phone"),
            at(6, "role"),
            at(12, "pod")
        ]
    );
    assert_eq!(stored(&app).await, before);

    // The good file itself imports: each refusal above was its one bad line's.
    let report = json_of(
        upload(&app, token, &import_path(tenants.a1, false), good.excel()).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(counts(&report, "members"), (50, 0, 0));
}

#[tokio::test]
async fn a_holder_of_several_points_is_one_holder_and_changes_are_updates() {
    let app = spawn_app().await;
    let tenants = two_tenants(&app).await;
    let token = &tenants.referent_a1.1;
    // A point registered earlier without its holder's data: a draft holder of its own.
    let earlier = json_of(
        app.post(
            token,
            "/api/v1/members/",
            &json!({"configuration_id": tenants.a1, "pod": pod(2), "role": "consumer",
                    "holder_type": "natural_person", "joined_at": "2024-02-01"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let mut sheet = Sheet::of(3);
    // Lines 3 and 4: the same person, two points.
    for column in [
        "last_name",
        "fiscal_code",
        "street",
        "email",
        "phone",
        "iban",
        "available_power_kw",
        "communications_version",
    ] {
        let value = sheet.get(3, column);
        sheet.set(4, column, &value);
    }
    let mut disagreeing = sheet.clone();
    disagreeing.set(4, "iban", &iban(7));
    let found = problems(
        upload(
            &app,
            token,
            &import_path(tenants.a1, false),
            disagreeing.excel(),
        )
        .await,
    )
    .await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, at(4, "iban"));
    assert!(found[0].1.contains("line 3"), "{}", found[0].1);

    let report = json_of(
        upload(&app, token, &import_path(tenants.a1, false), sheet.excel()).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(counts(&report, "holders"), (2, 0, 0));
    // The point registered earlier is found by its POD and moves to its real holder.
    assert_eq!(counts(&report, "members"), (2, 1, 0));
    let lines = report["lines"].as_array().unwrap();
    assert_eq!(lines[2]["holder_line"], 3);
    assert_eq!(lines[2]["holder_id"], lines[1]["holder_id"]);
    assert_eq!(lines[2]["member_id"], earlier["id"]);
    assert_eq!(lines[2]["member_changes"], json!(["holder_id"]));
    let holder_id = lines[1]["holder_id"].as_i64().unwrap();
    let member: Value = app
        .get(token, &format!("/api/v1/members/{}", earlier["id"]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(member["holder_id"], holder_id);

    // A new IBAN for the holder of two points, a role changed on one of them.
    let before = stored(&app).await;
    let mut changed = sheet.clone();
    changed
        .set(3, "iban", &iban(9))
        .set(4, "iban", &iban(9))
        .set(4, "role", "prosumer")
        // Blank optional cells keep what is stored.
        .set(2, "email", "")
        .set(2, "available_power_kw", "");
    let report = json_of(
        upload(
            &app,
            token,
            &import_path(tenants.a1, false),
            changed.excel(),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(counts(&report, "holders"), (0, 1, 1));
    assert_eq!(counts(&report, "members"), (0, 1, 2));
    let lines = report["lines"].as_array().unwrap();
    assert_eq!(lines[1]["holder_changes"], json!(["iban"]));
    assert_eq!(lines[2]["member_changes"], json!(["role"]));
    let mut expected = before;
    expected[3] += 1;
    assert_eq!(stored(&app).await, expected, "one revision, no new rows");
    let today = chrono::Utc::now().date_naive();
    let in_force: Value = app
        .get(
            token,
            &format!(
                "/api/v1/holders/{holder_id}/iban?on={}",
                today.succ_opt().unwrap()
            ),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(in_force["iban"], iban(9));
    let untouched: Value = app
        .get(
            token,
            &format!("/api/v1/holders/{}", report["lines"][0]["holder_id"]),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(untouched["email"], "socio0@example.com");
    let member: Value = app
        .get(
            token,
            &format!("/api/v1/members/{}", report["lines"][0]["member_id"]),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(member["available_power_kw"], "3.500");

    // A kind is changed on the holder, for all its points, not by a line of a file.
    let mut retyped = changed.clone();
    retyped
        .set(2, "holder_kind", "sme")
        .set(2, "company_name", "Bianchi Luca ditta individuale")
        .set(2, "first_name", "")
        .set(2, "last_name", "");
    let found =
        problems(upload(&app, token, &import_path(tenants.a1, true), retyped.excel()).await).await;
    assert_eq!(found[0].0, at(2, "holder_kind"));
    assert!(found[0].1.contains("PATCH"), "{}", found[0].1);
}

#[tokio::test]
async fn a_withdrawn_consent_is_not_given_back_by_an_old_file() {
    let app = spawn_app().await;
    let tenants = two_tenants(&app).await;
    let token = &tenants.vendor_a.1;
    let sheet = Sheet::of(2);
    let report = json_of(
        upload(&app, token, &import_path(tenants.a1, false), sheet.excel()).await,
        StatusCode::CREATED,
    )
    .await;
    let holder = report["lines"][1]["holder_id"].as_i64().unwrap();
    let consents: Value = app
        .get(token, &format!("/api/v1/holders/{holder}/consents"))
        .await
        .json()
        .await
        .unwrap();
    let statute = consents
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "statute")
        .unwrap()["id"]
        .clone();
    let withdrawn = app
        .post(
            token,
            &format!("/api/v1/holders/{holder}/consents/{statute}/withdraw"),
            &json!({"method": "email"}),
        )
        .await;
    assert_eq!(withdrawn.status(), StatusCode::OK);
    let before = stored(&app).await;
    let found =
        problems(upload(&app, token, &import_path(tenants.a1, false), sheet.excel()).await).await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, at(3, "statute_version"));
    assert!(found[0].1.contains("withdrew"), "{}", found[0].1);
    assert_eq!(stored(&app).await, before);

    // A new version of the statute, accepted again: recorded, and the holder active again.
    let mut renewed = sheet.clone();
    renewed.set(3, "statute_version", "v3");
    let report = json_of(
        upload(
            &app,
            token,
            &import_path(tenants.a1, false),
            renewed.excel(),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        report["lines"][1]["holder_changes"],
        json!(["consents.statute", "status"])
    );
    let holder: Value = app
        .get(token, &format!("/api/v1/holders/{holder}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(holder["status"], "active");
}

#[tokio::test]
async fn imports_stay_in_scope_and_accept_a_form_upload() {
    let app = spawn_app().await;
    let tenants = two_tenants(&app).await;
    let sheet = Sheet::of(3);
    // Another organization's vendor, a plain user: the configuration does not exist for them.
    for token in [&tenants.vendor_b.1, &tenants.user_a.1] {
        let response = upload(&app, token, &import_path(tenants.a1, true), sheet.excel()).await;
        assert_detail(response, StatusCode::NOT_FOUND).await;
    }
    let response = upload(
        &app,
        &tenants.vendor_a.1,
        &import_path(tenants.b1, false),
        sheet.excel(),
    )
    .await;
    assert_detail(response, StatusCode::NOT_FOUND).await;
    assert_eq!(stored(&app).await[..2], [0, 0]);

    // A generated client sends files as a form.
    let part = reqwest::multipart::Part::bytes(sheet.excel()).file_name("soci.csv");
    let response = app
        .client
        .post(app.url(&import_path(tenants.a1, false)))
        .bearer_auth(&tenants.referent_a1.1)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    let report = json_of(response, StatusCode::CREATED).await;
    assert_eq!(counts(&report, "members"), (3, 0, 0));

    // A closed configuration takes no members.
    let closed = app
        .create_configuration(tenants.org_a, "Chiusa", None)
        .await;
    for status in ["active", "closed"] {
        let response = app
            .patch(
                &app.admin_token,
                &format!("/api/v1/configurations/{closed}"),
                &json!({ "status": status }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK, "{status}");
    }
    let response = upload(
        &app,
        &tenants.vendor_a.1,
        &import_path(closed, true),
        sheet.excel(),
    )
    .await;
    assert!(
        assert_detail(response, StatusCode::CONFLICT)
            .await
            .contains("closed")
    );
}

#[tokio::test]
async fn the_cli_imports_members_through_the_same_use_case() {
    let app = spawn_app().await;
    let tenants = two_tenants(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("soci.csv");
    std::fs::write(&file, Sheet::of(5).excel()).unwrap();
    let configuration = tenants.a1.to_string();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "import",
            "members",
            file.to_str().unwrap(),
            "--configuration",
            &configuration,
            "--by",
            "vendor.a@example.com",
        ];
        args.extend_from_slice(extra);
        app.cli(&args)
    };

    let output = run(&["--dry-run"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("members 5 created, 0 updated, 0 unchanged")
            && stdout.contains("nothing was written"),
        "{stdout}"
    );
    assert_eq!(stored(&app).await[..2], [0, 0]);

    let output = run(&[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(
        stdout.contains("line 2: IT001E00001000 member created"),
        "{stdout}"
    );
    assert_eq!(stored(&app).await[..2], [5, 5]);
    let revisions = scalar_i64(
        &app.db,
        &format!(
            "SELECT COUNT(*) FROM holder_revisions WHERE changed_by = {}",
            tenants.vendor_a.0
        ),
    )
    .await;
    assert_eq!(revisions, 10, "the --by account is the author");

    let output = run(&[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!stdout.contains("line 2:"), "{stdout}");
    assert!(
        stdout.contains("0 created, 0 updated, 5 unchanged"),
        "{stdout}"
    );

    let mut bad = Sheet::of(5);
    bad.set(3, "iban", "IT60X0542811101000000999999");
    std::fs::write(&file, bad.excel()).unwrap();
    let output = run(&[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("nothing was written") && stderr.contains("line 3, iban:"),
        "{stderr}"
    );

    let output = app.cli(&[
        "import",
        "members",
        file.to_str().unwrap(),
        "--configuration",
        &tenants.b1.to_string(),
        "--by",
        "vendor.a@example.com",
    ]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("not found"));
}

#[tokio::test]
async fn the_readme_example_imports_and_the_route_is_documented() {
    let app = spawn_app().await;
    let tenants = two_tenants(&app).await;
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let block = readme
        .split("```csv\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a ```csv block in the README");
    let report = json_of(
        upload(
            &app,
            &tenants.vendor_a.1,
            &import_path(tenants.a1, true),
            block.as_bytes().to_vec(),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(counts(&report, "members"), (1, 0, 0));
    assert_eq!(counts(&report, "holders"), (1, 0, 0));

    let document = app.openapi().await;
    let operation = &document["paths"]["/api/v1/configurations/{id}/members/import"]["post"];
    let content = operation["requestBody"]["content"].as_object().unwrap();
    assert!(content.contains_key("text/csv") && content.contains_key("multipart/form-data"));
    let mut statuses: Vec<&String> = operation["responses"].as_object().unwrap().keys().collect();
    statuses.sort();
    assert_eq!(
        statuses,
        [
            "200", "201", "400", "401", "403", "404", "409", "413", "422"
        ]
    );
    let parameters: Vec<&str> = operation["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(parameters, ["id", "dry_run"]);
}

#[tokio::test]
async fn concurrent_writes_of_the_same_points_do_not_interleave() {
    let app = spawn_app().await;
    let tenants = two_tenants(&app).await;
    let token = &tenants.vendor_a.1;
    let sheet = Sheet::of(50);

    // The same file twice at once: one creates, the other then finds everything in place.
    let path = import_path(tenants.a1, false);
    let (first, second) = tokio::join!(
        upload(&app, token, &path, sheet.excel()),
        upload(&app, token, &path, sheet.excel()),
    );
    let first = json_of(first, StatusCode::CREATED).await;
    let second = json_of(second, StatusCode::CREATED).await;
    let mut outcomes = [counts(&first, "members"), counts(&second, "members")];
    outcomes.sort();
    assert_eq!(outcomes, [(0, 0, 50), (50, 0, 0)]);
    assert_eq!(stored(&app).await[..2], [50, 50]);

    // An import and a single join of one of its PODs elsewhere: exactly one gets the point.
    let mut others = Sheet::of(50);
    for line in 2..=51 {
        let i = line - 2;
        others
            .set(line, "pod", &pod(100 + i))
            .set(line, "fiscal_code", &person_code("VRDLCU", i));
    }
    let contested = others.get(30, "pod");
    let join = json!({"configuration_id": tenants.a2, "pod": contested, "role": "consumer",
                      "holder_type": "natural_person", "joined_at": "2024-01-01"});
    let (import, join) = tokio::join!(
        upload(&app, token, &path, others.excel()),
        app.post(token, "/api/v1/members/", &join),
    );
    let memberships = scalar_i64(
        &app.db,
        &format!("SELECT COUNT(*) FROM members WHERE pod = '{contested}'"),
    )
    .await;
    assert_eq!(memberships, 1);
    match (import.status(), join.status()) {
        (StatusCode::CREATED, StatusCode::CONFLICT) => {}
        (StatusCode::UNPROCESSABLE_ENTITY, StatusCode::CREATED) => {
            let found = problems(import).await;
            assert_eq!(found.len(), 1, "{found:?}");
            assert_eq!(found[0].0, at(30, "pod"));
        }
        other => panic!("both or neither got the point: {other:?}"),
    }
}
