//! README.md's ```http blocks, sent in order against a real server: the README's examples are
//! requests that work, not prose that can drift from the API.
use std::collections::HashMap;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::*;

/// One ```http block: directives (`# save NAME = FIELD`, `# expect STATUS`), the request line,
/// headers, a blank line, the body.
struct Example {
    line: usize,
    saves: Vec<(String, String)>,
    expect: Option<u16>,
    method: Method,
    path: String,
    headers: Vec<(String, String)>,
    body: String,
}

fn examples(readme: &str) -> Vec<Example> {
    let mut out = Vec::new();
    let mut lines = readme.lines().enumerate();
    while let Some((start, line)) = lines.next() {
        if line.trim() != "```http" {
            continue;
        }
        let block: Vec<&str> = lines
            .by_ref()
            .map(|(_, l)| l)
            .take_while(|l| l.trim() != "```")
            .collect();
        let mut saves = Vec::new();
        let mut expect = None;
        let mut rest = block.iter().peekable();
        while let Some(directive) = rest.peek().and_then(|l| l.strip_prefix('#')) {
            let directive = directive.trim();
            if let Some(save) = directive.strip_prefix("save ") {
                let (name, field) = save.split_once('=').expect("# save NAME = FIELD");
                saves.push((name.trim().to_string(), field.trim().to_string()));
            } else if let Some(status) = directive.strip_prefix("expect ") {
                expect = Some(status.trim().parse().expect("# expect STATUS"));
            } else {
                panic!("README line {}: unknown directive #{directive}", start + 1);
            }
            rest.next();
        }
        let request_line = rest.next().expect("a request line");
        let (method, path) = request_line.split_once(' ').expect("METHOD PATH");
        let mut headers = Vec::new();
        for header in rest.by_ref() {
            if header.trim().is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').expect("Name: value");
            headers.push((name.trim().to_string(), value.trim().to_string()));
        }
        let body: Vec<&str> = rest.copied().collect();
        out.push(Example {
            line: start + 1,
            saves,
            expect,
            method: method.parse().expect("an HTTP method"),
            path: path.trim().to_string(),
            headers,
            body: body.join("\n"),
        });
    }
    out
}

fn fill(text: &str, saved: &HashMap<String, String>) -> String {
    let mut text = text
        .replace(
            "username=admin@example.com",
            &format!("username={ADMIN_EMAIL}"),
        )
        .replace(
            "password=change-me-now",
            &format!("password={ADMIN_PASSWORD}"),
        );
    for (name, value) in saved {
        text = text.replace(&format!("{{{name}}}"), value);
    }
    text
}

#[tokio::test]
async fn every_request_example_in_the_readme_works() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let examples = examples(&readme);
    assert!(
        examples.len() >= 16,
        "the README's walk-through lost its examples"
    );
    let app = spawn_app().await;
    let mut saved: HashMap<String, String> = HashMap::new();
    for example in &examples {
        let path = fill(&example.path, &saved);
        let mut request = app.client.request(example.method.clone(), app.url(&path));
        for (name, value) in &example.headers {
            request = request.header(name, fill(value, &saved));
        }
        let body = fill(&example.body, &saved);
        if !body.trim().is_empty() {
            let is_csv = example.headers.iter().any(|(_, v)| v == "text/csv");
            request = request.body(if is_csv {
                format!("{}\n", body.trim_end())
            } else {
                body
            });
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        let where_ = format!("README line {}: {} {path}", example.line, example.method);
        match example.expect {
            Some(expected) => assert_eq!(
                status,
                StatusCode::from_u16(expected).unwrap(),
                "{where_}: {text}"
            ),
            None => assert!(status.is_success(), "{where_}: {status} {text}"),
        }
        if !example.saves.is_empty() {
            let json: Value = serde_json::from_str(&text).unwrap();
            for (name, field) in &example.saves {
                let value = match &json[field] {
                    Value::String(s) => s.clone(),
                    Value::Null => panic!("{where_}: no `{field}` in {text}"),
                    other => other.to_string(),
                };
                saved.insert(name.clone(), value);
            }
        }
    }
    // The walk-through's month is provisional (one day of data), and says so.
    let statement: Value = app
        .get(
            &app.admin_token,
            &format!("/api/v1/members/{}/statement?year=2025", saved["consumer"]),
        )
        .await
        .json()
        .await
        .unwrap();
    let march = &statement["months"][0];
    assert!(
        march["provisional"]
            .as_str()
            .unwrap()
            .contains("Letture di marzo parziali"),
        "{statement}"
    );
    assert_eq!(march["shared_kwh"], "2.100");
}

/// SECURITY.md names the tests that cover each risk: every name it gives is a test that exists,
/// so the map cannot drift from the suite.
#[test]
fn every_test_named_in_security_md_exists() {
    let root = env!("CARGO_MANIFEST_DIR");
    let security = std::fs::read_to_string(format!("{root}/SECURITY.md")).unwrap();
    let mut checked = 0;
    for name in security.split('`').skip(1).step_by(2) {
        let parts: Vec<&str> = name.split("::").collect();
        if parts.len() < 2
            || !parts.iter().all(|p| {
                !p.is_empty()
                    && p.chars()
                        .all(|c| c.is_ascii_lowercase() || c == '_' || c == '*')
            })
        {
            continue;
        }
        let api_file = format!("{root}/tests/api/{}.rs", parts[0]);
        let (file, function) = if std::path::Path::new(&api_file).exists() {
            (api_file, parts[parts.len() - 1])
        } else {
            // A unit test: `domain::price_files::tests::name` is in src/domain/price_files.rs.
            let module: Vec<&str> = parts
                .iter()
                .copied()
                .take_while(|p| *p != "tests")
                .collect();
            let file = format!("{root}/src/{}.rs", module.join("/"));
            let function = if parts.contains(&"tests") {
                parts[parts.len() - 1]
            } else {
                "*"
            };
            (file, function)
        };
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|_| panic!("SECURITY.md names `{name}`, but {file} does not exist"));
        if function != "*" {
            assert!(
                text.contains(&format!("fn {function}(")),
                "SECURITY.md names `{name}`, but {file} has no test `{function}`"
            );
        }
        checked += 1;
    }
    assert!(
        checked > 40,
        "only {checked} test names found in SECURITY.md"
    );
}
