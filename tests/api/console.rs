//! The operators' console and the members' portal, rendered by the server and checked over
//! HTTP without a browser (the browser suite is `tests/browser/`): sessions, CSRF, scope, and
//! a referent's month from upload to finalisation.
use std::collections::HashMap;

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::multipart::{Form, Part};
use serde_json::json;

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD, TestApp, organization_of, spawn_app};
use crate::settlement::{C1, C2, P1, P2, World, import_march_prices, march_hours, world};

/// A browser without JavaScript: keeps its cookies, follows no redirect by itself.
struct Browser<'a> {
    app: &'a TestApp,
    cookies: HashMap<String, String>,
    language: &'static str,
}

impl<'a> Browser<'a> {
    fn new(app: &'a TestApp) -> Browser<'a> {
        Browser {
            app,
            cookies: HashMap::new(),
            language: "it-IT,it;q=0.9",
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all(SET_COOKIE) {
            let value = value.to_str().unwrap();
            let (pair, attributes) = value.split_once(';').unwrap_or((value, ""));
            let (name, content) = pair.split_once('=').unwrap();
            if attributes.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), content.to_string());
            }
        }
    }

    /// Sends a request as the browser would: its cookies and its languages; keeps what the
    /// answer sets.
    async fn send(&mut self, request: reqwest::RequestBuilder) -> reqwest::Response {
        let response = request
            .header(COOKIE, self.cookie_header())
            .header("accept-language", self.language)
            .send()
            .await
            .unwrap();
        self.keep_cookies(&response);
        response
    }

    async fn get(&mut self, path: &str) -> reqwest::Response {
        let request = self.app.client.get(self.app.url(path));
        self.send(request).await
    }

    async fn page(&mut self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.text().await.unwrap()
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let request = self.app.client.post(self.app.url(path)).form(form);
        self.send(request).await
    }

    async fn upload(
        &mut self,
        path: &str,
        csrf: &str,
        name: &str,
        csv: String,
    ) -> reqwest::Response {
        self.upload_with(path, &[("csrf", csrf)], name, csv).await
    }

    /// A multipart form: `fields` in order, then the file.
    async fn upload_with(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        name: &str,
        csv: String,
    ) -> reqwest::Response {
        let form = fields
            .iter()
            .fold(Form::new(), |form, (key, value)| {
                form.text(key.to_string(), value.to_string())
            })
            .part("file", Part::text(csv).file_name(name.to_string()));
        let request = self.app.client.post(self.app.url(path)).multipart(form);
        self.send(request).await
    }

    /// Signs in through the form; returns the page's CSRF token for the session's forms.
    async fn sign_in(&mut self, login: &str, password: &str) -> String {
        let form = self.page("/console/login").await;
        let csrf = csrf_of(&form);
        let response = self
            .post(
                "/console/login",
                &[
                    ("login", login),
                    ("password", password),
                    ("csrf", &csrf),
                    ("next", "/console"),
                ],
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "sign-in of {login}"
        );
        assert_eq!(response.headers()[LOCATION], "/console");
        let home = self.page("/console").await;
        csrf_of(&home)
    }
}

/// The id of a member's holder (a draft is made with every member).
async fn holder_of(app: &TestApp, member: i64) -> i64 {
    app.get(&app.admin_token, &format!("/api/v1/members/{member}"))
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap()["holder_id"]
        .as_i64()
        .unwrap()
}

/// The value of the first hidden `csrf` field of a page.
fn csrf_of(html: &str) -> String {
    let start = html
        .find(r#"name="csrf" value=""#)
        .unwrap_or_else(|| panic!("no CSRF field in {html}"))
        + r#"name="csrf" value=""#.len();
    html[start..].split('"').next().unwrap().to_string()
}

/// March 2025 for the world's four PODs, complete, with one broken line when `broken`.
fn march_csv(broken: bool) -> String {
    let the_hour = chrono::DateTime::parse_from_rfc3339("2025-03-10T11:00:00Z").unwrap();
    let mut csv = String::from("timestamp;pod;direction;kwh;interval_minutes\n");
    for (pod, direction, kwh) in [
        (P1, "IMMISSIONE", "50"),
        (P2, "IMMISSIONE", "0"),
        (C1, "PRELIEVO", "30"),
        (C2, "PRELIEVO", "20"),
    ] {
        for t in march_hours() {
            let value = if t == the_hour { kwh } else { "0" };
            csv.push_str(&format!(
                "{};{pod};{direction};{value};60\n",
                t.to_rfc3339()
            ));
        }
    }
    if broken {
        csv.insert_str(
            csv.find('\n').unwrap() + 1,
            "2025-03-01T00:00:00Z;IT001E00000001;IMMISSIONE;tanti;60\n",
        );
    }
    csv
}

#[tokio::test]
async fn a_referent_runs_a_month_in_the_console() {
    let app = spawn_app().await;
    let w: World = world(&app).await;
    import_march_prices(&app).await;
    let mut browser = Browser::new(&app);

    // Not signed in: every console page leads to the sign-in, remembering where it was going.
    let away = browser
        .get(&format!("/console/configurations/{}", w.configuration))
        .await;
    assert_eq!(away.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        away.headers()[LOCATION],
        format!(
            "/console/login?next=%2Fconsole%2Fconfigurations%2F{}",
            w.configuration
        )
    );

    // The sign-in form: a post without its token is refused, a wrong password is named.
    let form = browser.page("/console/login").await;
    assert!(
        form.contains(r#"<label for="password">Password</label>"#),
        "{form}"
    );
    let csrf = csrf_of(&form);
    let forged = browser
        .post(
            "/console/login",
            &[("login", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)],
        )
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(!browser.cookies.contains_key("condivisa_session"));
    let form = browser.page("/console/login").await;
    let csrf_again = csrf_of(&form);
    assert_ne!(csrf, csrf_again, "each form gets a fresh token");
    let wrong = browser
        .post(
            "/console/login",
            &[
                ("login", ADMIN_EMAIL),
                ("password", "not-the-password"),
                ("csrf", &csrf_again),
            ],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("E-mail o password non corretti")
    );

    let csrf = browser.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let session_cookie = browser.cookies["condivisa_session"].clone();
    let home = browser.page("/console").await;
    assert!(home.contains("CER Padova"), "{home}");

    // The dashboard; an upload with a broken line is refused whole and the line is named.
    let dashboard_path = format!("/console/configurations/{}", w.configuration);
    let dashboard = browser.page(&dashboard_path).await;
    assert!(dashboard.contains("4 soci"), "{dashboard}");
    let imports = format!("/console/configurations/{}/imports", w.configuration);
    let refused = browser
        .upload(&imports, &csrf, "marzo.csv", march_csv(true))
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused = refused.text().await.unwrap();
    assert!(refused.contains("riga 2"), "{refused}");
    assert!(refused.contains("Il file è stato rifiutato"), "{refused}");
    let forged = browser
        .upload(&imports, "not-the-token", "marzo.csv", march_csv(false))
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let imported = browser
        .upload(&imports, &csrf, "marzo.csv", march_csv(false))
        .await;
    assert_eq!(imported.status(), StatusCode::CREATED);
    let imported = imported.text().await.unwrap();
    assert!(
        imported.contains("Importate 2972 letture di 4 POD"),
        "{imported}"
    );
    assert!(imported.contains("marzo.csv"), "{imported}");

    // Preview, then the report; a bad month is named next to the form.
    let previews = format!("/console/configurations/{}/previews", w.configuration);
    let bad = browser
        .post(&previews, &[("csrf", &csrf), ("month", "2025-13")])
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().await.unwrap().contains("AAAA-MM"));
    let made = browser
        .post(&previews, &[("csrf", &csrf), ("month", "2025-03")])
        .await;
    assert_eq!(made.status(), StatusCode::SEE_OTHER);
    let run_path = made.headers()[LOCATION].to_str().unwrap().to_string();
    let report = browser.page(&run_path).await;
    assert!(report.contains("Liquidazione 2025-03"), "{report}");
    assert!(report.contains("anteprima"), "{report}");
    assert!(report.contains(C1) && report.contains(P1), "{report}");
    assert!(report.contains("<td>persona fisica</td>"), "{report}");

    // Finalising: refused without the session's token (nothing written), then done.
    let finalize = format!("{run_path}/finalize");
    let forged = browser.post(&finalize, &[("csrf", "forged")]).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let run_id = run_path.rsplit('/').next().unwrap();
    let still: serde_json::Value = app
        .get(&app.admin_token, &format!("/api/v1/settlements/{run_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(still["status"], "preview");
    let done = browser.post(&finalize, &[("csrf", &csrf)]).await;
    assert_eq!(done.status(), StatusCode::OK);
    let done = done.text().await.unwrap();
    assert!(done.contains("Il mese è definitivo"), "{done}");
    assert!(done.contains("definitivo"), "{done}");
    // The audit trail has it, with who and from where.
    let audited = {
        use sea_orm::ConnectionTrait;
        app.db
            .query_one_raw(sea_orm::Statement::from_string(
                app.db.get_database_backend(),
                "SELECT actor, address FROM audit_events WHERE action = 'settlement.finalized'",
            ))
            .await
            .unwrap()
            .unwrap()
    };
    assert_eq!(
        (
            audited.try_get::<String>("", "actor").unwrap(),
            audited.try_get::<String>("", "address").unwrap()
        ),
        (ADMIN_EMAIL.to_string(), "127.0.0.1".to_string())
    );

    // Statements out: C1's holder has an address and is mailed, the others with money in the
    // month are listed with the reason (P2 has none: no statement); a month goes out once
    // unless sent again on purpose.
    let holder = holder_of(&app, w.members[C1]).await;
    assert_eq!(
        app.patch(
            &app.admin_token,
            &format!("/api/v1/holders/{holder}"),
            &json!({"email": "c1@example.org"})
        )
        .await
        .status(),
        StatusCode::OK
    );
    assert!(done.contains("Invia i rendiconti per e-mail"), "{done}");
    let statements = format!("{run_path}/statements");
    assert_eq!(
        browser
            .post(&statements, &[("csrf", "forged")])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let sent = browser.post(&statements, &[("csrf", &csrf)]).await;
    assert_eq!(sent.status(), StatusCode::CREATED);
    let sent = sent.text().await.unwrap();
    assert!(
        sent.contains("Rendiconti in coda di invio: 1; non inviati: 2"),
        "{sent}"
    );
    assert!(sent.contains("c1@example.org</td><td>in coda"), "{sent}");
    assert_eq!(sent.matches("<td>non inviato: ").count(), 2, "{sent}");
    let twice = browser.post(&statements, &[("csrf", &csrf)]).await;
    assert_eq!(twice.status(), StatusCode::CONFLICT);
    assert!(twice.text().await.unwrap().contains("already mailed"));
    let again = browser
        .post(&statements, &[("csrf", &csrf), ("again", "on")])
        .await;
    assert_eq!(again.status(), StatusCode::CREATED);
    let again = again.text().await.unwrap();
    assert_eq!(again.matches("<caption>Invio del ").count(), 2, "{again}");
    let shown = browser.page(&run_path).await;
    assert_eq!(shown.matches("<caption>Invio del ").count(), 2, "{shown}");

    // The member's page shows the finalised month and its PDF.
    let member = browser
        .page(&format!("/console/members/{}?year=2025", w.members[C1]))
        .await;
    assert!(member.contains("2025-03"), "{member}");
    let pdf = browser
        .get(&format!(
            "/console/members/{}/statement.pdf?year=2025&month=3",
            w.members[C1]
        ))
        .await;
    assert_eq!(pdf.status(), StatusCode::OK);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF-"));

    // The ledger as the API's CSV file.
    let ledger = browser
        .get(&format!(
            "/console/configurations/{}/ledger.csv",
            w.configuration
        ))
        .await;
    assert_eq!(ledger.status(), StatusCode::OK);
    assert!(
        ledger.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let ledger = ledger.text().await.unwrap();
    assert!(ledger.contains(";incentive;"), "{ledger}");

    // Undoing the import from the dashboard: put back, then marked, with no second button.
    let dashboard = browser.page(&dashboard_path).await;
    let marker = "action=\"/console/imports/";
    let start = dashboard.find(marker).expect("an undo button") + marker.len();
    let import_id: i64 = dashboard[start..]
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let revert = format!("/console/imports/{import_id}/revert");
    assert_eq!(
        browser.post(&revert, &[("csrf", "forged")]).await.status(),
        StatusCode::FORBIDDEN
    );
    let undone = browser.post(&revert, &[("csrf", &csrf)]).await;
    assert_eq!(undone.status(), StatusCode::OK);
    let undone = undone.text().await.unwrap();
    assert!(
        undone.contains("Importazione marzo.csv annullata"),
        "{undone}"
    );
    assert!(
        !undone.contains(&format!("/console/imports/{import_id}/revert")),
        "{undone}"
    );
    let again = browser.post(&revert, &[("csrf", &csrf)]).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);

    // Members list pages and searches on the server.
    let members = browser
        .page(&format!(
            "/console/configurations/{}/members?search=000003",
            w.configuration
        ))
        .await;
    assert!(members.contains(C1) && !members.contains(C2), "{members}");

    // Signing out ends the session on the server: the old cookie opens nothing any more.
    let out = browser.post("/console/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    browser
        .cookies
        .insert("condivisa_session".into(), session_cookie);
    assert_eq!(
        browser.get("/console").await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_member_sees_only_their_own_pages() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let organization = organization_of(&app, w.configuration).await;
    let (user_id, _) = app
        .create_user("socio@example.com", "user", Some(organization))
        .await;
    let linked = app
        .patch(
            &app.admin_token,
            &format!("/api/v1/members/{}", w.members[C1]),
            &json!({ "user_id": user_id }),
        )
        .await;
    assert_eq!(
        linked.status(),
        StatusCode::OK,
        "{}",
        linked.text().await.unwrap()
    );

    // The point's holder, as an operator recorded it, with one consent.
    let holder = holder_of(&app, w.members[C1]).await;
    let recorded = app
        .patch(
            &app.admin_token,
            &format!("/api/v1/holders/{holder}"),
            &json!({"kind": "natural_person", "first_name": "Giulia", "last_name": "Ferrà",
                    "fiscal_code": "BNCGLI90A41H501E", "email": "giulia@example.org",
                    "iban": "IT60X0542811101000000123456"}),
        )
        .await;
    assert_eq!(recorded.status(), StatusCode::OK);
    let consent = app
        .post(
            &app.admin_token,
            &format!("/api/v1/holders/{holder}/consents"),
            &json!({"kind": "privacy_notice", "document_version": "2025-03", "method": "paper"}),
        )
        .await;
    assert_eq!(consent.status(), StatusCode::CREATED);

    let mut browser = Browser::new(&app);
    browser.language = "en-GB,en;q=0.9";
    browser.sign_in("socio@example.com", PASSWORD).await;
    let home = browser.page("/console").await;
    assert!(home.contains("My memberships"), "{home}");
    assert!(home.contains(C1) && !home.contains(C2), "{home}");
    let own = browser
        .page(&format!("/console/members/{}", w.members[C1]))
        .await;
    assert!(own.contains(&format!("POD {C1}")), "{own}");
    // Their holder's data and consents; the IBAN only by its last four characters.
    assert!(
        own.contains("Holder&#x27;s data") || own.contains("Holder's data"),
        "{own}"
    );
    assert!(own.contains("Giulia Ferrà · natural person"), "{own}");
    assert!(
        own.contains("•••• 3456") && !own.contains("IT60X054"),
        "{own}"
    );
    assert!(
        own.contains("<td>privacy notice</td><td>2025-03</td>"),
        "{own}"
    );

    // Another member's page, or their PDF, by editing the URL: not found, as in the API.
    let other = browser
        .get(&format!("/console/members/{}", w.members[C2]))
        .await;
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    assert!(!other.text().await.unwrap().contains(C2));
    let other_pdf = browser
        .get(&format!(
            "/console/members/{}/statement.pdf?year=2025",
            w.members[C2]
        ))
        .await;
    assert_eq!(other_pdf.status(), StatusCode::NOT_FOUND);
    // The operators' pages are not for a member's role.
    let dashboard = browser
        .get(&format!("/console/configurations/{}", w.configuration))
        .await;
    assert!(
        matches!(
            dashboard.status(),
            StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
        ),
        "{}",
        dashboard.status()
    );

    // Deactivating the account ends its session at once.
    let deactivated = app
        .patch(
            &app.admin_token,
            &format!("/api/v1/users/{user_id}"),
            &json!({ "status": "inactive" }),
        )
        .await;
    assert_eq!(deactivated.status(), StatusCode::OK);
    assert_eq!(
        browser.get("/console").await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn console_pages_allow_nothing_from_elsewhere() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    let login = browser.get("/console/login").await;
    let csp = login.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("style-src 'self'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let cookie = login.headers()[SET_COOKIE].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let html = login.text().await.unwrap();
    assert!(!html.contains("style="), "{html}");
    // The one script is the console's own file; none is inline.
    for script in html.split("<script").skip(1) {
        assert!(
            script.starts_with(r#" src="/console/static/upload.js" defer></script>"#),
            "{html}"
        );
    }
    let script = browser.get("/console/static/upload.js").await;
    assert_eq!(script.status(), StatusCode::OK);
    assert!(
        script.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "{html}"
    );
    let css = browser.get("/console/static/console.css").await;
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    // After signing in, only pages of this console: never an address elsewhere.
    let csrf = csrf_of(&browser.page("/console/login").await);
    let away = browser
        .post(
            "/console/login",
            &[
                ("login", ADMIN_EMAIL),
                ("password", ADMIN_PASSWORD),
                ("csrf", &csrf),
                ("next", "https://evil.example/"),
            ],
        )
        .await;
    assert_eq!(away.status(), StatusCode::SEE_OTHER);
    assert_eq!(away.headers()[LOCATION], "/console");
}

/// The same tenants' world as the API's tests: the referent of CER Alpha 1 reviews the
/// requests to join it; another vendor's referent cannot see them.
#[tokio::test]
async fn a_referent_decides_join_requests_in_the_console() {
    use crate::join_requests::{applicant, open_to_requests, submit};
    use sea_orm::ConnectionTrait;

    let app = spawn_app().await;
    let tenants = crate::helpers::two_tenants(&app).await;
    open_to_requests(&app, tenants.a1).await;
    let mut giulia = applicant("BNCGLI90A41H501E", &["IT001E00076543"]);
    giulia["email"] = json!("giulia@example.com");
    let mut mario = applicant("RSSMRA80A01H501U", &["IT001E00076544"]);
    mario["first_name"] = json!("Mario");
    mario["last_name"] = json!("Rossi");
    mario["email"] = json!("mario@example.com");
    for body in [&giulia, &mario] {
        assert_eq!(
            submit(&app, tenants.a1, body).await.status(),
            StatusCode::ACCEPTED
        );
    }
    // Confirmed by their mail (that flow is tested with the API's): marked so here.
    app.db
        .execute_unprepared("UPDATE join_requests SET status = 'pending', verified_at = created_at")
        .await
        .unwrap();

    let mut browser = Browser::new(&app);
    let csrf = browser.sign_in("referent.a@example.com", PASSWORD).await;
    let dashboard = browser
        .page(&format!("/console/configurations/{}", tenants.a1))
        .await;
    assert!(
        dashboard.contains("Richieste di adesione (2 da decidere)"),
        "{dashboard}"
    );
    let list_path = format!("/console/configurations/{}/join-requests", tenants.a1);
    let list = browser.page(&list_path).await;
    assert!(list.contains("Giulia Bianchi"), "{list}");
    assert!(list.contains("IT001E00076544 (consumatore)"), "{list}");
    let id_after = |page: &str, name: &str| -> i64 {
        let at = page.find(name).unwrap();
        let marker = "action=\"/console/join-requests/";
        let start = page[at..].find(marker).unwrap() + at + marker.len();
        page[start..].split('/').next().unwrap().parse().unwrap()
    };
    let giulia_id = id_after(&list, "Giulia Bianchi");
    let mario_id = id_after(&list, "Mario Rossi");

    // Approving: without the token nothing happens; a date that cannot be read is named.
    let approve = format!("/console/join-requests/{giulia_id}/approve");
    assert_eq!(
        browser
            .post(&approve, &[("csrf", "forged"), ("joined_at", "2025-06-01")])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let bad = browser
        .post(&approve, &[("csrf", &csrf), ("joined_at", "1 giugno")])
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().await.unwrap().contains("AAAA-MM-GG"));
    let approved = browser
        .post(&approve, &[("csrf", &csrf), ("joined_at", "2025-06-01")])
        .await;
    assert_eq!(approved.status(), StatusCode::OK);
    let approved = approved.text().await.unwrap();
    assert!(
        approved.contains("Richiesta di Giulia Bianchi approvata: socio dal 2025-06-01."),
        "{approved}"
    );
    let members: serde_json::Value = app
        .get(
            &app.admin_token,
            &format!("/api/v1/members/?configuration_id={}", tenants.a1),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(members[0]["pod"], "IT001E00076543");
    assert_eq!(members[0]["joined_at"], "2025-06-01");
    let twice = browser.post(&approve, &[("csrf", &csrf)]).await;
    assert_eq!(twice.status(), StatusCode::CONFLICT);

    // Rejecting needs a reason the applicant can read.
    let reject = format!("/console/join-requests/{mario_id}/reject");
    let silent = browser
        .post(&reject, &[("csrf", &csrf), ("reason", "  ")])
        .await;
    assert_eq!(silent.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let rejected = browser
        .post(
            &reject,
            &[
                ("csrf", &csrf),
                ("reason", "Il POD è fuori dalla cabina primaria"),
            ],
        )
        .await;
    assert_eq!(rejected.status(), StatusCode::OK);
    let rejected = rejected.text().await.unwrap();
    assert!(
        rejected.contains("Richiesta di Mario Rossi respinta."),
        "{rejected}"
    );
    assert!(
        rejected.contains("Nessuna richiesta in questo stato."),
        "{rejected}"
    );
    let decided = browser.page(&format!("{list_path}?status=rejected")).await;
    assert!(
        decided.contains("Il POD è fuori dalla cabina primaria"),
        "{decided}"
    );
    assert_eq!(
        browser
            .get(&format!("{list_path}?status=whatever"))
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );

    // Outside the caller's scope: the same 404 as the API.
    let mut other = Browser::new(&app);
    let other_csrf = other.sign_in("vendor.b@example.com", PASSWORD).await;
    assert_eq!(other.get(&list_path).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        other
            .post(&reject, &[("csrf", &other_csrf), ("reason", "no")])
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_sharing_policy_is_adopted_from_a_form_with_problems_next_to_their_fields() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let mut browser = Browser::new(&app);
    let csrf = browser.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let path = format!("/console/configurations/{}/policy", w.configuration);
    let page = browser.page(&path).await;
    assert!(
        page.contains("Nessuna versione adottata: si applica il riparto predefinito"),
        "{page}"
    );
    assert!(
        page.contains(
            r#"name="producers" type="text" inputmode="decimal" size="8" required value="50""#
        ),
        "{page}"
    );
    let form = |consumers: &'static str, coefficients: String| {
        vec![
            ("csrf".to_string(), csrf.clone()),
            ("valid_from".into(), "2025-03".into()),
            ("management".into(), "10".into()),
            ("social_fund".into(), "5".into()),
            ("producers".into(), "40".into()),
            ("consumers".into(), consumers.into()),
            ("producers_split".into(), "equal".into()),
            ("consumers_split".into(), "coefficients".into()),
            ("excess_to".into(), "social_fund".into()),
            ("coefficients".into(), coefficients),
            ("note".into(), "Assemblea del 2 marzo".into()),
        ]
    };
    async fn post(
        browser: &mut Browser<'_>,
        path: &str,
        fields: Vec<(String, String)>,
    ) -> reqwest::Response {
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        browser.post(path, &pairs).await
    }

    // Problems of reading the form, each next to its field, the line of a coefficient named.
    let unreadable = post(
        &mut browser,
        &path,
        form("4O", format!("{C1} = 2\nIT001E99999999 = 1\n{C2} = tanti")),
    )
    .await;
    assert_eq!(unreadable.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let unreadable = unreadable.text().await.unwrap();
    assert!(
        unreadable.contains(r#"id="consumers" name="consumers""#)
            && unreadable.contains(r#"aria-describedby="consumers-errors""#),
        "{unreadable}"
    );
    assert!(
        unreadable.contains("riga 2: IT001E99999999 non è un membro di questa configurazione."),
        "{unreadable}"
    );
    assert!(
        unreadable.contains("riga 3: il coefficiente non è un numero."),
        "{unreadable}"
    );
    // What was typed is shown back.
    assert!(unreadable.contains(r#"value="4O""#), "{unreadable}");

    // The use case's own rule: the shares add up to 100.
    let short = post(
        &mut browser,
        &path,
        form("40", format!("{C1} = 2\n{C2} = 1,5")),
    )
    .await;
    assert_eq!(short.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let short = short.text().await.unwrap();
    assert!(
        short.contains(r#"<ul class="field-errors" id="shares-errors"><li>the shares must add up to 100, not 95</li>"#),
        "{short}"
    );

    // Without the session's token nothing is adopted.
    let mut forged = form("45", format!("{C1} = 2\n{C2} = 1,5"));
    forged[0].1 = "forged".into();
    assert_eq!(
        post(&mut browser, &path, forged).await.status(),
        StatusCode::FORBIDDEN
    );

    let adopted = post(
        &mut browser,
        &path,
        form("45", format!("{C1} = 2\n{C2} = 1,5")),
    )
    .await;
    assert_eq!(adopted.status(), StatusCode::CREATED);
    let adopted = adopted.text().await.unwrap();
    assert!(
        adopted.contains("Adottata la versione 1, in vigore dal 2025-03."),
        "{adopted}"
    );
    assert!(adopted.contains(&format!("{C2} = 1,5")), "{adopted}");
    let versions: serde_json::Value = app
        .get(
            &app.admin_token,
            &format!("/api/v1/configurations/{}/policy/versions", w.configuration),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(versions.as_array().unwrap().len(), 1, "{versions}");
    let document = &versions[0]["document"];
    assert_eq!(document["shares"]["consumers"], "45");
    assert_eq!(document["consumers_split"], "coefficients");
    assert_eq!(
        document["coefficients"][w.members[C2].to_string()],
        "1.5",
        "{versions}"
    );
    assert_eq!(versions[0]["note"], "Assemblea del 2 marzo");
}

#[tokio::test]
async fn the_admin_uploads_zonal_prices_and_nobody_else_can() {
    let app = spawn_app().await;
    crate::helpers::two_tenants(&app).await;
    let mut admin = Browser::new(&app);
    let csrf = admin.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let home = admin.page("/console").await;
    assert!(
        home.contains(r#"<a href="/console/prices">Prezzi zonali</a>"#),
        "{home}"
    );
    let page = admin.page("/console/prices").await;
    assert!(
        page.contains("File dei prezzi (XML, ZIP, XLSX o CSV)"),
        "{page}"
    );

    let hours: Vec<_> = march_hours().into_iter().take(3).collect();
    let mut broken = String::from("timestamp;zone;eur_mwh\n");
    broken.push_str(&format!("{};NORD;110\n", hours[0].to_rfc3339()));
    broken.push_str(&format!("{};NORD;centodieci\n", hours[1].to_rfc3339()));
    let refused = admin
        .upload_with(
            "/console/prices",
            &[("csrf", &csrf), ("interval_minutes", "60")],
            "prezzi.csv",
            broken,
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused = refused.text().await.unwrap();
    assert!(refused.contains("riga 3"), "{refused}");
    let none: serde_json::Value = app
        .get(
            &app.admin_token,
            "/api/v1/market/zonal-prices?zone=NORD&from=2025-03-01&to=2025-03-01",
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none, json!([]), "a refused file writes nothing");

    let mut good = String::from("timestamp;zone;eur_mwh\n");
    for (hour, price) in hours.iter().zip(["110", "95,5", "120"]) {
        good.push_str(&format!("{};NORD;{price}\n", hour.to_rfc3339()));
    }
    let forged = admin
        .upload_with(
            "/console/prices",
            &[("csrf", "forged"), ("interval_minutes", "60")],
            "prezzi.csv",
            good.clone(),
        )
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let imported = admin
        .upload_with(
            "/console/prices",
            &[("csrf", &csrf), ("interval_minutes", "60")],
            "prezzi.csv",
            good,
        )
        .await;
    let status = imported.status();
    let imported = imported.text().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{imported}");
    assert!(
        imported.contains("Importati 3 prezzi di 1 zone (NORD) dal file long"),
        "{imported}"
    );
    assert!(
        imported.contains(": 3 nuovi, 0 cambiati, 0 invariati."),
        "{imported}"
    );
    // Three hours of a day: the page says the day is not covered whole (minijinja writes `/`
    // as `&#x2f;`, which the browser shows as `/`).
    assert!(
        imported
            .replace("&#x2f;", "/")
            .contains("NORD 01/03/2025: 180 minuti su 1440"),
        "{imported}"
    );

    // GME's own file, as downloaded, for one zone: the page names the layout and what it left.
    let gme = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/prices/20250330MGPPrezzi.xml"
    ))
    .unwrap();
    let imported = admin
        .upload_with(
            "/console/prices",
            &[
                ("csrf", &csrf),
                ("interval_minutes", "60"),
                ("zone", "SARD"),
            ],
            "20250330MGPPrezzi.xml",
            gme,
        )
        .await;
    let status = imported.status();
    let imported = imported.text().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{imported}");
    assert!(
        imported.contains("Importati 23 prezzi di 1 zone (SARD) dal file gme_xml"),
        "{imported}"
    );
    assert!(
        imported.contains("Non importati (non sono zone italiane): AUST, BSP"),
        "{imported}"
    );
    assert!(
        imported.contains("Altre zone nel file, non importate: CALA, CNOR"),
        "{imported}"
    );
    assert!(!imported.contains("minuti su"), "{imported}");

    // Prices are the admin's: a vendor is refused the page and the upload.
    let mut vendor = Browser::new(&app);
    let vendor_csrf = vendor.sign_in("vendor.a@example.com", PASSWORD).await;
    assert!(!vendor.page("/console").await.contains("/console/prices"));
    assert_eq!(
        vendor.get("/console/prices").await.status(),
        StatusCode::FORBIDDEN
    );
    let refused = vendor
        .upload_with(
            "/console/prices",
            &[("csrf", &vendor_csrf), ("interval_minutes", "60")],
            "prezzi.csv",
            String::from("timestamp;zone;eur_mwh\n"),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}

/// More configurations than one page holds: the operator's home pages on the server instead of
/// cutting the list.
#[tokio::test]
async fn the_operators_home_pages_its_configurations() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let organization = organization_of(&app, w.configuration).await;
    for n in 0..54 {
        app.create_configuration(organization, &format!("CER Paginata {n:02}"), None)
            .await;
    }
    let mut browser = Browser::new(&app);
    browser.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    // Attribute values come escaped (`/` as `&#x2f;`), as a browser reads them: decoded here.
    let first = browser.page("/console").await.replace("&#x2f;", "/");
    assert!(first.contains("55 configurazioni"), "{first}");
    assert_eq!(
        first
            .matches("<tr><td><a href=\"/console/configurations/")
            .count(),
        50
    );
    assert!(first.contains("Pagina 1 di 2"), "{first}");
    assert!(
        first.contains(r#"<a href="/console?page=2" rel="next">"#),
        "{first}"
    );
    let second = browser.page("/console?page=2").await.replace("&#x2f;", "/");
    assert_eq!(
        second
            .matches("<tr><td><a href=\"/console/configurations/")
            .count(),
        5
    );
    assert!(second.contains("CER Paginata 53"), "{second}");
    assert!(
        second.contains(r#"<a href="/console?page=1" rel="prev">"#),
        "{second}"
    );
    for bad in ["0", "due", "-1"] {
        assert_eq!(
            browser.get(&format!("/console?page={bad}")).await.status(),
            StatusCode::BAD_REQUEST,
            "page={bad}"
        );
    }
}

#[tokio::test]
async fn a_member_asks_for_a_new_iban_and_the_referent_confirms_it_in_the_console() {
    let app = spawn_app().await;
    let tenants = crate::helpers::two_tenants(&app).await;
    let mut body = crate::holders::person("RSSMRA85T10A562S");
    body["user_id"] = json!(tenants.user_a.0);
    body["consents"] = crate::holders::consents();
    let holder = crate::holders::register(&app, &tenants.vendor_a.1, body).await["id"]
        .as_i64()
        .unwrap();
    let member = app
        .post(
            &tenants.vendor_a.1,
            "/api/v1/members/",
            &json!({"configuration_id": tenants.a1, "pod": "IT001E00112233", "role": "consumer",
                    "holder_id": holder, "joined_at": "2024-02-01", "user_id": tenants.user_a.0}),
        )
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let page = format!("/console/holders/{holder}/iban");

    let mut socio = Browser::new(&app);
    let csrf = socio.sign_in("user.a@example.com", PASSWORD).await;
    // From the point's page to the holder's IBAN.
    let own = socio.page(&format!("/console/members/{member}")).await;
    assert!(own.contains(&format!(r#"href="{page}""#)), "{own}");
    assert!(own.contains("chiedi un cambio"), "{own}");
    let form = socio.page(&page).await;
    assert!(
        form.contains("•••• 3456") && !form.contains("IT60X054"),
        "{form}"
    );

    // Without the form's token nothing is asked.
    let forged = socio
        .post(&page, &[("iban", crate::holders::OTHER_IBAN)])
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    // A wrong IBAN comes back next to its field, with what was typed.
    let refused = socio
        .post(
            &page,
            &[
                ("csrf", &csrf),
                ("iban", "IT60X0542811101000000123457"),
                ("note", "nuovo conto"),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused = refused.text().await.unwrap();
    assert!(refused.contains("Questo IBAN non è valido"), "{refused}");
    assert!(
        refused.contains(r#"aria-describedby="iban-errors""#),
        "{refused}"
    );
    assert!(refused.contains("IT60X0542811101000000123457"), "{refused}");
    assert!(refused.contains(">nuovo conto</textarea>"), "{refused}");

    let asked = socio
        .post(
            &page,
            &[
                ("csrf", &csrf),
                ("iban", "IT98 Z123 4512 3451 2345 6789 012"),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(asked.status(), StatusCode::CREATED);
    let asked = asked.text().await.unwrap();
    assert!(asked.contains("Richiesta inviata"), "{asked}");
    assert!(asked.contains("•••• 9012"), "{asked}");
    assert!(asked.contains("Ritira la richiesta"), "{asked}");
    assert!(
        !asked.contains(r#"name="iban""#),
        "one request at a time: {asked}"
    );

    // Another organization's vendor does not see the holder or the request.
    let mut outsider = Browser::new(&app);
    outsider.sign_in("vendor.b@example.com", PASSWORD).await;
    assert_eq!(outsider.get(&page).await.status(), StatusCode::NOT_FOUND);
    let queue = outsider.page("/console/iban-changes").await;
    assert!(!queue.contains("Mario Rossi"), "{queue}");

    // The referent's queue shows both IBANs whole, to check against the bank's document.
    let mut referent = Browser::new(&app);
    let referent_csrf = referent.sign_in("referent.a@example.com", PASSWORD).await;
    let queue = referent.page("/console/iban-changes").await;
    assert!(queue.contains("Mario Rossi"), "{queue}");
    assert!(
        queue.contains("IT60 X054 2811 1010 0000 0123 456"),
        "{queue}"
    );
    assert!(
        queue.contains("IT98 Z123 4512 3451 2345 6789 012"),
        "{queue}"
    );
    let request: i64 = scalar_i64(
        &app,
        "SELECT CAST(MAX(id) AS BIGINT) FROM iban_change_requests",
    )
    .await;
    let confirmed = referent
        .post(
            &format!("/console/iban-changes/{request}/confirm"),
            &[("csrf", &referent_csrf)],
        )
        .await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    let confirmed = confirmed.text().await.unwrap();
    assert!(
        confirmed.contains("Confermato: Mario Rossi riceve i pagamenti sul nuovo IBAN."),
        "{confirmed}"
    );
    // Decided: a second click says so instead of confirming again.
    let again = referent
        .post(
            &format!("/console/iban-changes/{request}/confirm"),
            &[("csrf", &referent_csrf)],
        )
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);

    // The member sees the new account and the outcome.
    let after = socio.page(&page).await;
    assert!(after.contains("•••• 9012"), "{after}");
    assert!(after.contains("confermata"), "{after}");
    assert!(after.contains(r#"name="iban""#), "may ask again: {after}");
    let holder_now = app
        .get(&app.admin_token, &format!("/api/v1/holders/{holder}"))
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(holder_now["iban"], crate::holders::OTHER_IBAN);
}

async fn scalar_i64(app: &TestApp, sql: &str) -> i64 {
    crate::helpers::scalar_i64(&app.db, sql).await
}

#[tokio::test]
async fn operators_find_holders_and_read_their_history_within_their_scope() {
    let app = spawn_app().await;
    let tenants = crate::helpers::two_tenants(&app).await;
    let vendor = &tenants.vendor_a.1;
    let mut body = crate::holders::person("RSSMRA85T10A562S");
    body["consents"] = crate::holders::consents();
    let holder = crate::holders::register(&app, vendor, body).await["id"]
        .as_i64()
        .unwrap();
    // One point in the referent's configuration, one in a configuration it does not run.
    for (configuration, pod) in [
        (tenants.a1, "IT001E00112233"),
        (tenants.a2, "IT001E00445566"),
    ] {
        let added = app
            .post(
                vendor,
                "/api/v1/members/",
                &json!({"configuration_id": configuration, "pod": pod, "role": "consumer",
                        "holder_id": holder, "joined_at": "2024-02-01"}),
            )
            .await;
        assert_eq!(added.status(), StatusCode::CREATED);
    }
    let changed = app
        .patch(
            vendor,
            &format!("/api/v1/holders/{holder}"),
            &json!({"phone": "+39 347 000 1111"}),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    // A holder of another organization, which nobody of this one may see.
    let mut stranger = crate::holders::person("BNCGLI90A41H501E");
    stranger["first_name"] = json!("Giulia");
    stranger["last_name"] = json!("Bianchi");
    crate::holders::register(&app, &tenants.vendor_b.1, stranger).await;

    let mut referent = Browser::new(&app);
    referent.sign_in("referent.a@example.com", PASSWORD).await;
    let dashboard = referent
        .page(&format!("/console/configurations/{}", tenants.a1))
        .await;
    let holders_link = format!("/console/holders?configuration_id={}", tenants.a1);
    assert!(
        dashboard.contains(&holders_link.replace('/', "&#x2f;"))
            || dashboard.contains(&holders_link),
        "{dashboard}"
    );
    let list = referent.page(&holders_link).await;
    assert!(list.contains("Mario Rossi"), "{list}");
    assert!(list.contains("Titolari: 1 · pagina 1 di 1"), "{list}");
    assert!(!list.contains("Giulia Bianchi"), "{list}");
    // Searched by fiscal code; a status that does not exist is a 400, not every holder.
    let found = referent.page("/console/holders?search=rssmra85").await;
    assert!(found.contains("Mario Rossi"), "{found}");
    let none = referent.page("/console/holders?search=bianchi").await;
    assert!(none.contains("Nessun titolare."), "{none}");
    assert_eq!(
        referent
            .get("/console/holders?status=sleeping")
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );

    let page = referent.page(&format!("/console/holders/{holder}")).await;
    assert!(page.contains("IT60 X054 2811 1010 0000 0123 456"), "{page}");
    assert!(page.contains("IT001E00112233"), "{page}");
    assert!(
        !page.contains("IT001E00445566"),
        "a point in a configuration the referent does not run: {page}"
    );
    assert!(page.contains("informativa privacy"), "{page}");
    // The history, newest first: the phone change before the registration.
    let changed_at = page
        .find("phone: +393331234567 → +393470001111")
        .expect(&page);
    let created_at = page.find("creato").expect(&page);
    assert!(changed_at < created_at, "{page}");

    // Another organization's holder by its URL: not found, as in the API.
    let mut outsider = Browser::new(&app);
    outsider.sign_in("vendor.b@example.com", PASSWORD).await;
    assert_eq!(
        outsider
            .get(&format!("/console/holders/{holder}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    // A member's account has no operators' list.
    let mut member = Browser::new(&app);
    member.sign_in("user.a@example.com", PASSWORD).await;
    let listed = member.get("/console/holders").await;
    let listed = listed.text().await.unwrap();
    assert!(!listed.contains("Mario Rossi"), "{listed}");
}

#[tokio::test]
async fn a_newcomer_asks_to_join_on_the_public_page() {
    use crate::join_requests::open_to_requests;

    let app = spawn_app().await;
    let tenants = crate::helpers::two_tenants(&app).await;
    let page = format!("/console/join/{}", tenants.a1);
    let mut visitor = Browser::new(&app);
    // Closed to requests: nothing says the configuration exists.
    assert_eq!(visitor.get(&page).await.status(), StatusCode::NOT_FOUND);
    open_to_requests(&app, tenants.a1).await;
    // Open, but without the documents' versions the page cannot say what is accepted.
    let unavailable = visitor.get(&page).await;
    assert_eq!(unavailable.status(), StatusCode::NOT_FOUND);
    assert!(
        unavailable
            .text()
            .await
            .unwrap()
            .contains("non raccoglie ancora richieste"),
    );
    let published = app
        .patch(
            &app.admin_token,
            &format!("/api/v1/configurations/{}", tenants.a1),
            &json!({"privacy_notice_version": " 2025-03 ", "statute_version": "v2"}),
        )
        .await;
    assert_eq!(published.status(), StatusCode::OK);
    assert_eq!(
        published.json::<serde_json::Value>().await.unwrap()["privacy_notice_version"],
        "2025-03"
    );

    let form = visitor.page(&page).await;
    assert!(
        form.contains("informativa privacy della comunità (versione 2025-03)"),
        "{form}"
    );
    assert!(
        form.contains("statuto della comunità (versione v2)"),
        "{form}"
    );
    let csrf = csrf_of(&form);
    let mut fields = vec![
        ("kind", "natural_person"),
        ("first_name", "Giulia"),
        ("last_name", "Bianchi"),
        ("fiscal_code", "BNCGLI90A41H501X"),
        ("street", "Via Garibaldi 12"),
        ("postcode", "41042"),
        ("municipality", "Fiorano Modenese"),
        ("province", "MO"),
        ("email", "giulia.bianchi@example.com"),
        ("pod_0", "IT001E00076543"),
        ("role_0", "consumer"),
        ("pod_1", "IT001E0007654"),
        ("role_1", "consumer"),
        ("privacy_notice", "yes"),
    ];
    // A post from elsewhere, without the page's token, is refused.
    let forged = visitor.post(&page, &fields).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);

    // Every problem at once, each beside its field, with what was typed kept.
    fields.push(("csrf", &csrf));
    let refused = visitor.post(&page, &fields).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused = refused.text().await.unwrap();
    assert!(
        refused.contains("serve l&#x27;accettazione dello statuto"),
        "{refused}"
    );
    assert!(
        refused.contains(r#"aria-describedby="statute-errors""#),
        "{refused}"
    );
    assert!(refused.contains(r#"value="Fiorano Modenese""#), "{refused}");
    assert_eq!(
        crate::helpers::scalar_i64(&app.db, "SELECT COUNT(*) FROM join_requests").await,
        0
    );
    let csrf = csrf_of(&refused);
    let fields: Vec<(&str, &str)> = fields
        .into_iter()
        .filter(|(k, _)| *k != "csrf")
        .chain([("statute", "yes"), ("csrf", csrf.as_str())])
        .collect();
    let refused = visitor.post(&page, &fields).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused = refused.text().await.unwrap();
    // The use case's own checks: the fiscal code's check letter, the second POD's length.
    assert!(
        refused.contains(r#"aria-describedby="fiscal_code-errors""#),
        "{refused}"
    );
    assert!(refused.contains(r#"id="points-1-pod-errors""#), "{refused}");

    let csrf = csrf_of(&refused);
    let fields: Vec<(&str, &str)> = fields
        .into_iter()
        .filter(|(k, _)| !matches!(*k, "csrf" | "fiscal_code" | "pod_1"))
        .chain([
            ("fiscal_code", "BNCGLI90A41H501E"),
            ("pod_1", ""),
            ("csrf", csrf.as_str()),
        ])
        .collect();
    let sent = visitor.post(&page, &fields).await;
    assert_eq!(sent.status(), StatusCode::ACCEPTED);
    assert!(
        sent.text()
            .await
            .unwrap()
            .contains("Ti abbiamo scritto a giulia.bianchi@example.com")
    );
    // Stored as the API stores it, with the versions the page showed, in the page's language.
    let listed = app
        .get(
            &tenants.referent_a1.1,
            &format!("/api/v1/configurations/{}/join-requests", tenants.a1),
        )
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(listed[0]["status"], "unverified");
    assert_eq!(listed[0]["language"], "it");
    assert_eq!(
        listed[0]["points"],
        json!([{"pod": "IT001E00076543", "role": "consumer"}])
    );
    assert_eq!(
        listed[0]["consents"],
        json!([{"kind": "privacy_notice", "document_version": "2025-03"},
               {"kind": "statute", "document_version": "v2"}])
    );

    // Through the API, a version other than the one published is refused by its item.
    let mut body = crate::join_requests::applicant("RSSMRA85T10A562S", &["IT001E00076549"]);
    body["consents"][0]["document_version"] = json!("2024-01");
    body["consents"][1]["document_version"] = json!("v2");
    let stale = crate::join_requests::submit(&app, tenants.a1, &body).await;
    assert_eq!(stale.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let detail = stale.json::<serde_json::Value>().await.unwrap();
    assert_eq!(
        detail["detail"][0]["loc"],
        json!(["body", "consents", 0, "document_version"]),
        "{detail}"
    );
    assert!(detail.to_string().contains("version 2025-03"), "{detail}");
    assert_eq!(detail["detail"].as_array().unwrap().len(), 1, "{detail}");
}

#[tokio::test]
async fn a_payout_batch_goes_from_preview_to_paid_in_the_console() {
    use crate::money_out::{activate_holder, finalised_march};

    let app = spawn_app().await;
    let (w, _) = finalised_march(&app).await;
    activate_holder(
        &app,
        w.members[C1],
        "MRTMTT91D08F205J",
        Some(crate::holders::IBAN),
    )
    .await;
    activate_holder(
        &app,
        w.members[P1],
        "RSSMRA85T10A562S",
        Some(crate::holders::IBAN),
    )
    .await;
    let organization = organization_of(&app, w.configuration).await;
    app.create_user("cassiere@example.com", "vendor", Some(organization))
        .await;
    let page = format!("/console/configurations/{}/payouts", w.configuration);

    let mut admin = Browser::new(&app);
    let csrf = admin.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let empty = admin.page(&page).await;
    assert!(empty.contains("Nessuna distinta."), "{empty}");
    assert!(empty.contains("Nessun conto registrato"), "{empty}");

    // The community's account: refused by its IBAN first, with a decimal comma understood.
    let account = format!("/console/configurations/{}/payout-account", w.configuration);
    let refused = admin
        .post(
            &account,
            &[
                ("csrf", &csrf),
                ("account_name", "CER Padova APS"),
                ("iban", "IT60X0542811101000000123457"),
                ("minimum_eur", "1,50"),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused = refused.text().await.unwrap();
    assert!(refused.contains("iban"), "{refused}");
    assert!(
        refused.contains(r#"value="IT60X0542811101000000123457""#),
        "{refused}"
    );
    let saved = admin
        .post(
            &account,
            &[
                ("csrf", &csrf),
                ("account_name", "CER Padova APS"),
                ("iban", crate::holders::OTHER_IBAN),
                ("minimum_eur", "1,50"),
            ],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::OK);
    assert!(saved.text().await.unwrap().contains("Conto salvato."));
    let stored = app
        .get(
            &app.admin_token,
            &format!("/api/v1/configurations/{}/payout-account", w.configuration),
        )
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(stored["minimum_eur"], "1.50");

    // A month that is not final is refused on the page; March becomes a preview batch.
    let april = admin
        .post(&page, &[("csrf", &csrf), ("through", "2025-04")])
        .await;
    assert_eq!(april.status(), StatusCode::CONFLICT);
    let prepared = admin
        .post(&page, &[("csrf", &csrf), ("through", "2025-03")])
        .await;
    assert_eq!(prepared.status(), StatusCode::SEE_OTHER);
    let batch_path = prepared.headers()[LOCATION].to_str().unwrap().to_string();
    let batch = admin.page(&batch_path).await;
    assert!(batch.contains("anteprima"), "{batch}");
    assert!(batch.contains(C1) && batch.contains("pagato"), "{batch}");
    assert!(
        batch.contains("trattenuto"),
        "someone is held back: {batch}"
    );

    // Whoever prepared it does not approve it.
    let own = admin
        .post(&format!("{batch_path}/approve"), &[("csrf", &csrf)])
        .await;
    assert_eq!(own.status(), StatusCode::FORBIDDEN);
    assert!(own.text().await.unwrap().contains("second person"));
    let mut vendor = Browser::new(&app);
    let vendor_csrf = vendor.sign_in("cassiere@example.com", PASSWORD).await;
    let approved = vendor
        .post(&format!("{batch_path}/approve"), &[("csrf", &vendor_csrf)])
        .await;
    assert_eq!(approved.status(), StatusCode::OK);
    assert!(
        approved
            .text()
            .await
            .unwrap()
            .contains("Distinta approvata")
    );

    let today = condivisa::service::italian_today();
    let exported = vendor
        .post(
            &format!("{batch_path}/export"),
            &[("csrf", &vendor_csrf), ("date", &today.to_string())],
        )
        .await;
    assert_eq!(exported.status(), StatusCode::OK);
    let exported = exported.text().await.unwrap();
    assert!(exported.contains("File SEPA esportato"), "{exported}");
    let file = vendor.get(&format!("{batch_path}/sepa.xml")).await;
    assert_eq!(file.status(), StatusCode::OK);
    assert_eq!(file.headers()["content-type"], "application/xml");
    assert!(file.text().await.unwrap().contains("pain.001.001.09"));

    // Paid: not tomorrow, today.
    let tomorrow = (today + chrono::Duration::days(1)).to_string();
    let early = vendor
        .post(
            &format!("{batch_path}/paid"),
            &[("csrf", &vendor_csrf), ("date", &tomorrow)],
        )
        .await;
    assert_eq!(early.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let paid = vendor
        .post(
            &format!("{batch_path}/paid"),
            &[("csrf", &vendor_csrf), ("date", &today.to_string())],
        )
        .await;
    assert_eq!(paid.status(), StatusCode::OK);
    let paid = paid.text().await.unwrap();
    assert!(paid.contains("segnata come pagata"), "{paid}");
    assert!(!paid.contains("Annulla la distinta"), "{paid}");

    // Another organization's vendor: not found.
    crate::helpers::two_tenants(&app).await;
    let mut outsider = Browser::new(&app);
    outsider.sign_in("vendor.b@example.com", PASSWORD).await;
    assert_eq!(
        outsider.get(&batch_path).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn gse_figures_are_uploaded_and_reconciled_in_the_console() {
    let app = spawn_app().await;
    let (w, _) = crate::money_out::finalised_march(&app).await;
    let page = format!(
        "/console/configurations/{}/reconciliation?year=2025",
        w.configuration
    );
    let upload = format!("/console/configurations/{}/gse-statements", w.configuration);
    let mut admin = Browser::new(&app);
    let csrf = admin.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let before = admin.page(&page).await;
    assert!(before.contains("2025-03"), "{before}");
    assert!(
        before.contains("manca un lato"),
        "GSE's side is missing: {before}"
    );

    // A file with a figure that cannot be read: refused by its line, nothing recorded.
    let broken = "periodo;energia_condivisa_kwh;tariffa_premio_eur\n2025-03;tanti;5,50\n";
    let refused = admin
        .upload(&upload, &csrf, "gse.csv", broken.to_string())
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused = refused.text().await.unwrap();
    assert!(refused.contains("nulla è stato scritto"), "{refused}");
    assert!(refused.contains("riga 2"), "{refused}");
    assert_eq!(
        crate::helpers::scalar_i64(&app.db, "SELECT COUNT(*) FROM gse_statements").await,
        0
    );

    // The page's own example is a file the import takes.
    let example = before
        .split("<pre>")
        .nth(1)
        .and_then(|rest| rest.split("</pre>").next())
        .expect("an example file on the page")
        .replace("&#x2f;", "/")
        .to_string()
        + "\n";
    let recorded = admin.upload(&upload, &csrf, "gse.csv", example).await;
    assert_eq!(recorded.status(), StatusCode::CREATED);
    let recorded = recorded.text().await.unwrap();
    assert!(
        recorded.contains("Registrate 1 cifre del GSE."),
        "{recorded}"
    );
    assert!(
        recorded.contains("Il GSE ha pagato 5,82 € il 2025-05-30."),
        "{recorded}"
    );
    assert!(!recorded.contains("manca un lato</td>"), "{recorded}");

    let csv = admin
        .get(&format!(
            "/console/configurations/{}/reconciliation.csv?year=2025",
            w.configuration
        ))
        .await;
    assert_eq!(csv.status(), StatusCode::OK);
    let csv = csv.text().await.unwrap();
    assert!(csv.contains("2025-03;premium;EUR;"), "{csv}");

    // A member's account does not see GSE's figures.
    let organization = organization_of(&app, w.configuration).await;
    app.create_user("socio@example.com", "user", Some(organization))
        .await;
    let mut member = Browser::new(&app);
    member.sign_in("socio@example.com", PASSWORD).await;
    assert!(matches!(
        member.get(&page).await.status(),
        StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
    ));
}

#[tokio::test]
async fn the_dashboard_says_what_needs_looking_at() {
    let app = spawn_app().await;
    let tenants = crate::helpers::two_tenants(&app).await;
    // Two points from long ago; GSE knows of one only. Only one has data last month.
    for (pod, notified) in [("IT001E00112233", true), ("IT001E00445566", false)] {
        let mut body = json!({"configuration_id": tenants.a1, "pod": pod, "role": "consumer",
                              "holder_type": "natural_person", "joined_at": "2024-02-01"});
        if notified {
            body["gse_notified_on"] = json!("2024-02-01");
        }
        let added = app.post(&app.admin_token, "/api/v1/members/", &body).await;
        assert_eq!(added.status(), StatusCode::CREATED);
    }
    use chrono::Datelike;
    let today = condivisa::service::italian_today();
    let last_month = today
        .with_day(10)
        .unwrap()
        .checked_sub_months(chrono::Months::new(1))
        .unwrap();
    let csv = format!(
        "timestamp;pod;direction;kwh;interval_minutes\n{}T12:00:00+00:00;IT001E00112233;PRELIEVO;1;60\n",
        last_month
    );
    let imported = app
        .post_csv(
            &format!("/api/v1/configurations/{}/readings", tenants.a1),
            csv,
        )
        .await;
    assert_eq!(imported.status(), StatusCode::CREATED);

    let mut referent = Browser::new(&app);
    referent.sign_in("referent.a@example.com", PASSWORD).await;
    let dashboard = referent
        .page(&format!("/console/configurations/{}", tenants.a1))
        .await;
    assert!(
        dashboard.contains(&format!(
            "{}: dati di misura per 1 POD su 2",
            last_month.format("%Y-%m")
        )),
        "{dashboard}"
    );
    assert!(
        dashboard.contains("Da comunicare al GSE: 1 soci e 0 impianti"),
        "{dashboard}"
    );
}

/// An upload past `UPLOAD_MAX_BYTES` from the browser: a page that says so, nothing stored.
#[tokio::test]
async fn an_upload_past_the_size_limit_is_refused_with_a_page() {
    let app = crate::helpers::spawn_app_with(std::collections::HashMap::from([(
        "UPLOAD_MAX_BYTES",
        "4096",
    )]))
    .await;
    let mut admin = Browser::new(&app);
    let csrf = admin.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let mut big = String::from("timestamp;zone;eur_mwh\n");
    for hour in 0..200 {
        big.push_str(&format!(
            "2025-03-{:02}T{:02}:00:00+01:00;NORD;110\n",
            1 + hour / 24,
            hour % 24
        ));
    }
    let refused = admin
        .upload_with(
            "/console/prices",
            &[("csrf", &csrf), ("interval_minutes", "60")],
            "prezzi.csv",
            big,
        )
        .await;
    assert_eq!(refused.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let page = refused.text().await.unwrap();
    assert!(page.contains("<html"), "{page}");
    assert!(page.contains("UPLOAD_MAX_BYTES"), "{page}");
    assert_eq!(
        crate::helpers::scalar_i64(&app.db, "SELECT COUNT(*) FROM zonal_prices").await,
        0
    );
}

/// A console session lives in the database: signed in at one instance, it opens the pages of
/// another, its form token holds there, and signing out at either ends it at both.
#[tokio::test]
async fn a_console_session_works_on_every_instance() {
    let app = spawn_app().await;
    let other = crate::helpers::ServerProcess::start(&app).await;
    let mut admin = Browser::new(&app);
    let csrf = admin.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let elsewhere = admin.send(app.client.get(other.url("/console"))).await;
    assert_eq!(elsewhere.status(), StatusCode::OK);
    let page = elsewhere.text().await.unwrap();
    assert!(page.contains("/console/logout"), "{page}");
    let session_cookie = admin.cookies["condivisa_session"].clone();
    let out = admin
        .send(
            app.client
                .post(other.url("/console/logout"))
                .form(&[("csrf", csrf.as_str())]),
        )
        .await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    // Signed out at the other instance: the old cookie opens nothing here either.
    admin
        .cookies
        .insert("condivisa_session".into(), session_cookie);
    assert_eq!(admin.get("/console").await.status(), StatusCode::SEE_OTHER);
}
