//! What Swagger UI's "Try it out" puts in a request body is the body schema's example: every
//! JSON body has one, and each, sent as it stands (path ids 1), is accepted — never a 422 —
//! on a server where the examples before it created the objects it names.

use crate::helpers::*;

/// Creates first, in the order the examples depend on each other.
const FIRST: &[&str] = &[
    "create_organization",
    "create_user",
    "create_configuration",
    "create_member",
    "create_holder",
    "give_consent",
    "create_plant",
    "create_community_user",
    "create_transaction",
    "write_policy",
    "create_settlement",
];

#[tokio::test]
async fn every_request_body_has_an_example_the_server_accepts() {
    let app = spawn_app().await;
    let document = app.openapi().await;
    let schemas = &document["components"]["schemas"];
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let content = &operation["requestBody"]["content"]["application/json"]["schema"];
            if content.is_null() {
                continue;
            }
            let schema = content["$ref"]
                .as_str()
                .or_else(|| content["oneOf"][0]["$ref"].as_str())
                .map(|r| &schemas[r.trim_start_matches("#/components/schemas/")])
                .unwrap_or(content);
            let id = operation["operationId"].as_str().unwrap().to_string();
            let example = schema["example"].clone();
            operations.push((id, method.clone(), path.clone(), example));
        }
    }
    operations.sort_by_key(|(id, ..)| FIRST.iter().position(|f| f == id).unwrap_or(FIRST.len()));
    let mut without = Vec::new();
    for (id, method, path, example) in &operations {
        if example.is_null() {
            without.push(id.clone());
            continue;
        }
        // Every path parameter is an id: 1.
        let path_with_ids = path
            .split('/')
            .map(|part| if part.starts_with('{') { "1" } else { part })
            .collect::<Vec<_>>()
            .join("/");
        let url = app.url(&path_with_ids);
        let request = app
            .client
            .request(method.to_uppercase().parse().unwrap(), url);
        let response = request
            .bearer_auth(&app.admin_token)
            .json(example)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body = response.text().await.unwrap();
        assert!(
            status.as_u16() != 422 && !status.is_server_error(),
            "{method} {path} ({id}) refused its own example: {status} {body}"
        );
        if FIRST.contains(&id.as_str()) {
            assert!(status.is_success(), "{id}: {status} {body}");
        }
    }
    assert!(
        operations.len() - without.len() >= 18,
        "{} examples",
        operations.len() - without.len()
    );
    // Refresh tokens cannot have a working example: a made-up one is a 401, as documented.
    without.sort();
    assert_eq!(
        without,
        ["logout", "refresh_token"],
        "request bodies without an example"
    );
}
