use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

const COLLECTION: &str = "/api/v1/organizations/";

fn item_path(id: i64) -> String {
    format!("/api/v1/organizations/{id}")
}

fn names(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items is a list")
        .iter()
        .map(|item| item["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn admin_creates_an_organization() {
    let app = spawn_app().await;

    let response = app
        .post(
            &app.admin_token,
            COLLECTION,
            &json!({ "name": "  Sole Comune  ", "description": "CER di prova" }),
        )
        .await;

    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    assert!(body["id"].is_i64(), "{body}");
    assert_eq!(body["name"], "Sole Comune");
    assert_eq!(body["description"], "CER di prova");
    assert_eq!(body["is_active"], true);
    assert!(body["created_at"].is_string(), "{body}");
    assert!(body["updated_at"].is_string(), "{body}");
    let fields: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for field in [
        "id",
        "name",
        "description",
        "is_active",
        "created_at",
        "updated_at",
    ] {
        assert!(fields.contains(&field), "missing {field} in {body}");
    }

    let read = app
        .get(&app.admin_token, &item_path(body["id"].as_i64().unwrap()))
        .await;
    assert_eq!(read.status(), StatusCode::OK);
    assert_eq!(read.json::<Value>().await.unwrap(), body);
}

#[tokio::test]
async fn duplicate_name_is_a_conflict_naming_the_field() {
    let app = spawn_app().await;
    app.create_organization("Energia Condivisa").await;

    let response = app
        .post(
            &app.admin_token,
            COLLECTION,
            &json!({ "name": "Energia Condivisa" }),
        )
        .await;

    let detail = assert_detail(response, StatusCode::CONFLICT).await;
    assert!(detail.contains("name"), "{detail}");
}

#[tokio::test]
async fn create_rejects_an_empty_or_missing_name() {
    let app = spawn_app().await;

    let empty = app
        .post(&app.admin_token, COLLECTION, &json!({ "name": "" }))
        .await;
    assert_validation_error(empty, &["body", "name"]).await;

    let missing = app
        .post(
            &app.admin_token,
            COLLECTION,
            &json!({ "description": "no name" }),
        )
        .await;
    assert_validation_error(missing, &["body", "name"]).await;
}

#[tokio::test]
async fn create_rejects_unknown_fields() {
    let app = spawn_app().await;

    let extra = app
        .post(
            &app.admin_token,
            COLLECTION,
            &json!({ "name": "Ok", "is_admin": true }),
        )
        .await;

    let body = assert_validation_error(extra, &["body", "is_admin"]).await;
    assert_eq!(body["detail"][0]["type"], "extra_forbidden");
}

#[tokio::test]
async fn list_pages_with_skip_limit_and_search() {
    let app = spawn_app().await;
    for name in [
        "Alpha Energia",
        "Beta Solare",
        "Gamma Energia",
        "Delta Vento",
        "Epsilon Energia",
    ] {
        app.create_organization(name).await;
    }

    let all = app.get(&app.admin_token, COLLECTION).await;
    assert_eq!(all.status(), StatusCode::OK);
    let all: Value = all.json().await.unwrap();
    assert_eq!(all["total"], 5);
    assert_eq!(all["page"], 1);
    assert_eq!(all["size"], 100);
    assert_eq!(
        names(&all),
        [
            "Alpha Energia",
            "Beta Solare",
            "Gamma Energia",
            "Delta Vento",
            "Epsilon Energia"
        ]
    );

    let page: Value = app
        .get(&app.admin_token, &format!("{COLLECTION}?skip=2&limit=2"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 5);
    assert_eq!(page["page"], 2);
    assert_eq!(page["size"], 2);
    assert_eq!(names(&page), ["Gamma Energia", "Delta Vento"]);

    let last: Value = app
        .get(&app.admin_token, &format!("{COLLECTION}?skip=4&limit=2"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(last["page"], 3);
    assert_eq!(names(&last), ["Epsilon Energia"]);

    let found: Value = app
        .get(&app.admin_token, &format!("{COLLECTION}?search=energia"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["total"], 3);
    assert_eq!(
        names(&found),
        ["Alpha Energia", "Gamma Energia", "Epsilon Energia"]
    );

    let found_page: Value = app
        .get(
            &app.admin_token,
            &format!("{COLLECTION}?search=ENERGIA&skip=1&limit=1"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found_page["total"], 3);
    assert_eq!(found_page["page"], 2);
    assert_eq!(found_page["size"], 1);
    assert_eq!(names(&found_page), ["Gamma Energia"]);
}

#[tokio::test]
async fn list_rejects_bad_paging_parameters() {
    let app = spawn_app().await;

    let zero = app
        .get(&app.admin_token, &format!("{COLLECTION}?limit=0"))
        .await;
    assert_validation_error(zero, &["query", "limit"]).await;

    let negative = app
        .get(&app.admin_token, &format!("{COLLECTION}?skip=-1"))
        .await;
    assert_validation_error(negative, &["query", "skip"]).await;
}

#[tokio::test]
async fn collection_answers_with_and_without_trailing_slash() {
    let app = spawn_app().await;
    app.create_organization("Con Barra").await;

    for path in ["/api/v1/organizations", "/api/v1/organizations/"] {
        let response = app.get(&app.admin_token, path).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["total"], 1, "GET {path}");
    }

    let created = app
        .post(
            &app.admin_token,
            "/api/v1/organizations",
            &json!({ "name": "Senza Barra" }),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let listed: Value = app
        .get(&app.admin_token, COLLECTION)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["total"], 2);
}

#[tokio::test]
async fn admin_updates_an_organization() {
    let app = spawn_app().await;
    let created = app
        .post(
            &app.admin_token,
            COLLECTION,
            &json!({ "name": "Vecchio Nome", "description": "descrizione" }),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    let id = created["id"].as_i64().unwrap();

    let renamed = app
        .patch(
            &app.admin_token,
            &item_path(id),
            &json!({ "name": "Nuovo Nome" }),
        )
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    let renamed: Value = renamed.json().await.unwrap();
    assert_eq!(renamed["id"], id);
    assert_eq!(renamed["name"], "Nuovo Nome");
    assert_eq!(
        renamed["description"], "descrizione",
        "absent fields are left as they are"
    );
    assert_eq!(renamed["created_at"], created["created_at"]);

    let deactivated = app
        .patch(
            &app.admin_token,
            &item_path(id),
            &json!({ "is_active": false }),
        )
        .await;
    assert_eq!(deactivated.status(), StatusCode::OK);
    assert_eq!(
        deactivated.json::<Value>().await.unwrap()["is_active"],
        false
    );

    let cleared = app
        .patch(
            &app.admin_token,
            &item_path(id),
            &json!({ "description": null }),
        )
        .await;
    assert_eq!(cleared.status(), StatusCode::OK);
    let cleared: Value = cleared.json().await.unwrap();
    assert!(cleared["description"].is_null(), "{cleared}");

    let read: Value = app
        .get(&app.admin_token, &item_path(id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["name"], "Nuovo Nome");
    assert!(read["description"].is_null(), "{read}");
    assert_eq!(read["is_active"], false);
}

#[tokio::test]
async fn update_rejects_unknown_fields() {
    let app = spawn_app().await;
    let id = app.create_organization("Rigorosa").await;

    let response = app
        .patch(
            &app.admin_token,
            &item_path(id),
            &json!({ "owner": "someone" }),
        )
        .await;

    assert_validation_error(response, &["body", "owner"]).await;
}

#[tokio::test]
async fn a_body_that_is_not_an_object_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let id = app.create_organization("Rigorosa").await;
    // serde alone would read an array as the struct's fields in order.
    for body in [
        json!([null, null]),
        json!(["Altra"]),
        json!("Altra"),
        json!(7),
    ] {
        let response = app.patch(&app.admin_token, &item_path(id), &body).await;
        let error = assert_validation_error(response, &["body"]).await;
        assert_eq!(
            error["detail"][0]["type"], "model_attributes_type",
            "{body}"
        );
    }
    let response = app.get(&app.admin_token, &item_path(id)).await;
    let stored: Value = response.json().await.unwrap();
    assert_eq!(stored["name"], "Rigorosa");
}

#[tokio::test]
async fn update_to_a_taken_name_is_a_conflict() {
    let app = spawn_app().await;
    app.create_organization("Prima").await;
    let second = app.create_organization("Seconda").await;

    let response = app
        .patch(
            &app.admin_token,
            &item_path(second),
            &json!({ "name": "Prima" }),
        )
        .await;

    let detail = assert_detail(response, StatusCode::CONFLICT).await;
    assert!(detail.contains("name"), "{detail}");
}

#[tokio::test]
async fn vendor_sees_only_its_own_organization() {
    let app = spawn_app().await;
    let own = app.create_organization("Del Venditore").await;
    let other = app.create_organization("Altrui").await;
    let (_, vendor) = app.create_user("v@a.it", "vendor", Some(own)).await;

    let read = app.get(&vendor, &item_path(own)).await;
    assert_eq!(read.status(), StatusCode::OK);
    assert_eq!(read.json::<Value>().await.unwrap()["name"], "Del Venditore");

    let foreign = app.get(&vendor, &item_path(other)).await;
    assert_eq!(
        assert_detail(foreign, StatusCode::NOT_FOUND).await,
        "Organization not found"
    );

    let list = app.get(&vendor, COLLECTION).await;
    assert_eq!(list.status(), StatusCode::OK);
    let list: Value = list.json().await.unwrap();
    assert_eq!(list["total"], 1);
    assert_eq!(names(&list), ["Del Venditore"]);
}

#[tokio::test]
async fn vendor_cannot_create_or_update_organizations() {
    let app = spawn_app().await;
    let own = app.create_organization("Del Venditore").await;
    let (_, vendor) = app.create_user("v@a.it", "vendor", Some(own)).await;

    let created = app
        .post(&vendor, COLLECTION, &json!({ "name": "Abusiva" }))
        .await;
    assert_eq!(created.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        created.json::<Value>().await.unwrap(),
        json!({ "detail": "The user doesn't have enough privileges" })
    );

    let updated = app
        .patch(&vendor, &item_path(own), &json!({ "name": "Rinominata" }))
        .await;
    assert_eq!(
        assert_detail(updated, StatusCode::FORBIDDEN).await,
        "The user doesn't have enough privileges"
    );

    let unchanged: Value = app
        .get(&app.admin_token, &item_path(own))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(unchanged["name"], "Del Venditore");
    let listed: Value = app
        .get(&app.admin_token, COLLECTION)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["total"], 1);
}

#[tokio::test]
async fn referents_and_users_may_not_read_organizations() {
    let app = spawn_app().await;
    let org = app.create_organization("Comunità").await;
    let (_, referent) = app.create_user("r@a.it", "referent", Some(org)).await;
    let (_, user) = app.create_user("u@a.it", "user", Some(org)).await;

    for token in [&referent, &user] {
        let list = app.get(token, COLLECTION).await;
        assert_eq!(
            assert_detail(list, StatusCode::FORBIDDEN).await,
            "The user doesn't have enough privileges"
        );
        let read = app.get(token, &item_path(org)).await;
        assert_eq!(read.status(), StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn unknown_organization_is_not_found() {
    let app = spawn_app().await;

    let read = app.get(&app.admin_token, &item_path(999_999)).await;
    assert_eq!(read.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        read.json::<Value>().await.unwrap(),
        json!({ "detail": "Organization not found" })
    );

    let update = app
        .patch(
            &app.admin_token,
            &item_path(999_999),
            &json!({ "name": "Fantasma" }),
        )
        .await;
    assert_eq!(
        assert_detail(update, StatusCode::NOT_FOUND).await,
        "Organization not found"
    );
}

#[tokio::test]
async fn non_numeric_id_is_a_validation_error() {
    let app = spawn_app().await;

    let read = app.get(&app.admin_token, "/api/v1/organizations/abc").await;
    assert_validation_error(read, &["path", "id"]).await;

    let update = app
        .patch(
            &app.admin_token,
            "/api/v1/organizations/abc",
            &json!({ "name": "X" }),
        )
        .await;
    assert_validation_error(update, &["path", "id"]).await;
}

#[tokio::test]
async fn requests_without_a_token_are_unauthorized() {
    let app = spawn_app().await;
    let id = app.create_organization("Privata").await;

    let requests = [
        app.client.get(app.url(COLLECTION)),
        app.client
            .post(app.url(COLLECTION))
            .json(&json!({ "name": "Anonima" })),
        app.client.get(app.url(&item_path(id))),
        app.client
            .patch(app.url(&item_path(id)))
            .json(&json!({ "name": "Anonima" })),
    ];
    for request in requests {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            response
                .headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok()),
            Some("Bearer")
        );
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            json!({ "detail": "Could not validate credentials" })
        );
    }

    let garbage = app.get("not-a-jwt", COLLECTION).await;
    assert_eq!(garbage.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(garbage.headers().get("www-authenticate").unwrap(), "Bearer");
}
