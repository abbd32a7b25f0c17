//! The operators' console and the members' portal, rendered by the server and checked over
//! HTTP without a browser (the browser suite is `tests/browser/`): sessions, CSRF, scope, and
//! a referent's month from upload to finalisation.
use std::collections::HashMap;

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::multipart::{Form, Part};
use serde_json::json;

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD, TestApp, spawn_app};
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
        let form = Form::new()
            .text("csrf", csrf.to_string())
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
    let configuration: serde_json::Value = app
        .get(
            &app.admin_token,
            &format!("/api/v1/configurations/{}", w.configuration),
        )
        .await
        .json()
        .await
        .unwrap();
    let (user_id, _) = app
        .create_user(
            "socio@example.com",
            "user",
            configuration["organization_id"].as_i64(),
        )
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
    assert!(
        !html.contains("style=") && !html.contains("<script"),
        "{html}"
    );
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
