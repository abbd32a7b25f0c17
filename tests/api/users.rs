use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::helpers::*;

const FORBIDDEN: &str = "The user doesn't have enough privileges";

/// Two organizations, each with a vendor, a referent and a user.
struct World {
    org_a: i64,
    org_b: i64,
    vendor_a: (i64, String),
    referent_a: (i64, String),
    user_a: (i64, String),
    vendor_b: (i64, String),
    user_b: (i64, String),
}

async fn world(app: &TestApp) -> World {
    let org_a = app.create_organization("Comunità Alpha").await;
    let org_b = app.create_organization("Comunità Beta").await;
    World {
        org_a,
        org_b,
        vendor_a: app
            .create_user("vendor.a@example.com", "vendor", Some(org_a))
            .await,
        referent_a: app
            .create_user("referent.a@example.com", "referent", Some(org_a))
            .await,
        user_a: app
            .create_user("user.a@example.com", "user", Some(org_a))
            .await,
        vendor_b: app
            .create_user("vendor.b@example.com", "vendor", Some(org_b))
            .await,
        user_b: app
            .create_user("user.b@example.com", "user", Some(org_b))
            .await,
    }
}

fn emails(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn admin_creates_a_user_with_normalised_fields() {
    let app = spawn_app().await;
    let org = app.create_organization("Energia Insieme").await;
    let response = app
        .post(
            &app.admin_token,
            "/api/v1/users",
            &json!({
                "email": "  Giulia.Bianchi@Example.IT ",
                "username": "GBianchi",
                "full_name": "Giulia Bianchi",
                "fiscal_code": "rssmra85t10a562s",
                "type": "person",
                "user_type": "prosumer",
                "address": "Via Roma 1, Torino",
                "role": "referent",
                "password": PASSWORD,
                "organization_id": org
            }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let user: Value = response.json().await.unwrap();
    assert_eq!(user["email"], "giulia.bianchi@example.it");
    assert_eq!(user["username"], "gbianchi");
    assert_eq!(user["fiscal_code"], "RSSMRA85T10A562S");
    assert_eq!(user["type"], "person");
    assert_eq!(user["user_type"], "prosumer");
    assert_eq!(user["role"], "referent");
    assert_eq!(user["status"], "active");
    assert_eq!(user["is_active"], true);
    assert_eq!(user["organization_id"], org);
    assert!(user.get("password").is_none() && user.get("hashed_password").is_none());

    let fetched = app
        .get(&app.admin_token, &format!("/api/v1/users/{}", user["id"]))
        .await;
    assert_eq!(fetched.json::<Value>().await.unwrap(), user);
}

#[tokio::test]
async fn a_company_needs_a_valid_partita_iva() {
    let app = spawn_app().await;
    let base = json!({ "email": "srl@example.com", "type": "company", "password": PASSWORD });
    let mut wrong = base.clone();
    wrong["fiscal_code"] = json!("00743110158");
    let body = assert_validation_error(
        app.post(&app.admin_token, "/api/v1/users/", &wrong).await,
        &["body", "fiscal_code"],
    )
    .await;
    assert!(body.to_string().contains("partita IVA"), "{body}");
    let mut person_code = base.clone();
    person_code["fiscal_code"] = json!("RSSMRA85T10A562S");
    assert_validation_error(
        app.post(&app.admin_token, "/api/v1/users/", &person_code)
            .await,
        &["body", "fiscal_code"],
    )
    .await;
    let mut right = base;
    right["fiscal_code"] = json!("IT00743110157");
    let response = app.post(&app.admin_token, "/api/v1/users/", &right).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(
        response.json::<Value>().await.unwrap()["fiscal_code"],
        "00743110157"
    );
}

#[tokio::test]
async fn invalid_bodies_answer_422_naming_the_field() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({ "email": "not-an-email", "password": PASSWORD }),
            "email",
        ),
        (
            json!({ "email": "a@example.com", "password": "short" }),
            "password",
        ),
        (
            json!({ "email": "a@example.com", "password": "x".repeat(129) }),
            "password",
        ),
        (json!({ "password": PASSWORD }), "email"),
        (
            json!({ "email": "a@example.com", "password": PASSWORD, "role": "superuser" }),
            "role",
        ),
        (
            json!({ "email": "a@example.com", "password": PASSWORD, "is_superuser": true }),
            "is_superuser",
        ),
        (
            json!({ "email": "a@example.com", "password": PASSWORD, "fiscal_code": "RSSMRA85T10A562X" }),
            "fiscal_code",
        ),
        (
            json!({ "email": "a@example.com", "password": PASSWORD, "username": "no spaces" }),
            "username",
        ),
        (json!({ "email": 42, "password": PASSWORD }), "email"),
    ];
    for (body, field) in cases {
        assert_validation_error(
            app.post(&app.admin_token, "/api/v1/users/", &body).await,
            &["body", field],
        )
        .await;
    }
}

#[tokio::test]
async fn malformed_json_and_wrong_content_type_are_422_json() {
    let app = spawn_app().await;
    let malformed = app
        .client
        .post(app.url("/api/v1/users/"))
        .bearer_auth(&app.admin_token)
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    let body = assert_validation_error(malformed, &["body"]).await;
    assert_eq!(body["detail"][0]["type"], "json_invalid");

    let wrong_type = app
        .client
        .post(app.url("/api/v1/users/"))
        .bearer_auth(&app.admin_token)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_validation_error(wrong_type, &["body"]).await;
}

#[tokio::test]
async fn duplicates_are_409_naming_the_field() {
    let app = spawn_app().await;
    let first = json!({ "email": "dup@example.com", "username": "dup", "fiscal_code": "MRTMTT91D08F205J", "password": PASSWORD });
    assert_eq!(
        app.post(&app.admin_token, "/api/v1/users/", &first)
            .await
            .status(),
        StatusCode::CREATED
    );
    let cases = [
        (
            json!({ "email": "DUP@example.com", "password": PASSWORD }),
            "email",
        ),
        (
            json!({ "email": "other1@example.com", "username": "DUP", "password": PASSWORD }),
            "username",
        ),
        (
            json!({ "email": "other2@example.com", "fiscal_code": "mrtmtt91d08f205j", "password": PASSWORD }),
            "fiscal code",
        ),
    ];
    for (body, field) in cases {
        let detail = assert_detail(
            app.post(&app.admin_token, "/api/v1/users/", &body).await,
            StatusCode::CONFLICT,
        )
        .await;
        assert!(detail.contains(field), "{detail} should name {field}");
    }
    // A PATCH into an existing email is the same conflict.
    let (id, _) = app.create_user("second@example.com", "user", None).await;
    let response = app
        .patch(
            &app.admin_token,
            &format!("/api/v1/users/{id}"),
            &json!({ "email": "dup@example.com" }),
        )
        .await;
    assert!(
        assert_detail(response, StatusCode::CONFLICT)
            .await
            .contains("email")
    );
}

#[tokio::test]
async fn the_list_paginates_and_filters() {
    let app = spawn_app().await;
    for i in 0..5 {
        let body = json!({
            "email": format!("person{i}@example.com"),
            "full_name": format!("Persona Numero {i}"),
            "user_type": if i % 2 == 0 { "producer" } else { "consumer" },
            "password": PASSWORD,
        });
        assert_eq!(
            app.post(&app.admin_token, "/api/v1/users/", &body)
                .await
                .status(),
            StatusCode::CREATED
        );
    }
    let company = json!({ "email": "azienda@example.com", "type": "company", "fiscal_code": "07643520567", "status": "pending", "password": PASSWORD });
    assert_eq!(
        app.post(&app.admin_token, "/api/v1/users/", &company)
            .await
            .status(),
        StatusCode::CREATED
    );

    let page: Value = app
        .get(&app.admin_token, "/api/v1/users/?skip=2&limit=2")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 7);
    assert_eq!(page["page"], 2);
    assert_eq!(page["size"], 2);
    assert_eq!(
        emails(&page),
        ["person1@example.com", "person2@example.com"]
    );

    let check = |query: &'static str, expected: Vec<&'static str>| {
        let app = &app;
        async move {
            let page: Value = app
                .get(&app.admin_token, &format!("/api/v1/users?{query}"))
                .await
                .json()
                .await
                .unwrap();
            assert_eq!(emails(&page), expected, "{query}");
            assert_eq!(page["total"], expected.len(), "{query}");
        }
    };
    check("type_filter=company", vec!["azienda@example.com"]).await;
    check("status=pending", vec!["azienda@example.com"]).await;
    check(
        "user_type=producer&search=persona",
        vec![
            "person0@example.com",
            "person2@example.com",
            "person4@example.com",
        ],
    )
    .await;
    check("search=NUMERO%203", vec!["person3@example.com"]).await;
    check("search=07643", vec!["azienda@example.com"]).await;
    check("search=AZIENDA%40", vec!["azienda@example.com"]).await;
    check("search=%25", vec![]).await;
    check("role=admin", vec![ADMIN_EMAIL]).await;
    // Each field matches on its own: the end of a name and the start of the email do not make
    // one match, and a separator in the needle is not a way around that.
    check("search=numero%201", vec!["person1@example.com"]).await;
    check("search=1person", vec![]).await;
    check("search=1%1Fperson", vec![]).await;
    check("search=ONA%20NUMERO%204", vec!["person4@example.com"]).await;
    // Past the last page: no rows, the total still there.
    let beyond: Value = app
        .get(
            &app.admin_token,
            "/api/v1/users/?search=persona&skip=5&limit=2",
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(beyond["total"], 5);
    assert_eq!(beyond["items"], json!([]));
}

/// The users list is read on the access token's claim (role and organisation), checked in the
/// list's own statements: a change to the account shows on the next request with the same token.
#[tokio::test]
async fn the_users_list_read_on_the_tokens_claim_follows_the_account_at_once() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let (vendor, token) = w.vendor_a.clone();
    let list = |query: &'static str| {
        let app = &app;
        let token = token.clone();
        async move {
            let response = app.get(&token, &format!("/api/v1/users/?{query}")).await;
            assert_eq!(response.status(), StatusCode::OK);
            let mut found = emails(&response.json::<Value>().await.unwrap());
            found.sort();
            found
        }
    };
    assert_eq!(
        list("search=user.").await,
        ["user.a@example.com".to_string()]
    );
    // Nothing matches: an empty page, not an error.
    assert!(list("search=nobody-by-this-name").await.is_empty());

    app.admin_changes_user(vendor, json!({ "organization_id": w.org_b }))
        .await;
    assert_eq!(
        list("search=user.").await,
        ["user.b@example.com".to_string()]
    );
    // A referent may not list accounts at all.
    app.admin_changes_user(vendor, json!({ "role": "referent" }))
        .await;
    let refused = app.get(&token, "/api/v1/users/?search=user.").await;
    assert_eq!(
        assert_detail(refused, StatusCode::FORBIDDEN).await,
        FORBIDDEN
    );
    app.admin_changes_user(vendor, json!({ "status": "inactive" }))
        .await;
    let locked = app.get(&token, "/api/v1/users/?search=user.").await;
    assert_eq!(
        assert_detail(locked, StatusCode::BAD_REQUEST).await,
        "Inactive user"
    );
}

#[tokio::test]
async fn bad_query_parameters_are_422_naming_the_parameter() {
    let app = spawn_app().await;
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("skip=-1", "skip"),
        ("limit=ten", "limit"),
        ("status=gone", "status"),
    ] {
        assert_validation_error(
            app.get(&app.admin_token, &format!("/api/v1/users/?{query}"))
                .await,
            &["query", field],
        )
        .await;
    }
    assert_validation_error(
        app.get(&app.admin_token, "/api/v1/users/abc").await,
        &["path", "id"],
    )
    .await;
}

#[tokio::test]
async fn vendors_manage_referents_and_users_of_their_own_organization() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let vendor = &w.vendor_a.1;

    let page: Value = app
        .get(vendor, "/api/v1/users/")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        emails(&page),
        [
            "vendor.a@example.com",
            "referent.a@example.com",
            "user.a@example.com"
        ]
    );
    assert_eq!(page["total"], 3);

    // Created in the vendor's organization even when none is given.
    let response = app
        .post(
            vendor,
            "/api/v1/users/",
            &json!({ "email": "new@example.com", "password": PASSWORD }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(
        response.json::<Value>().await.unwrap()["organization_id"],
        w.org_a
    );

    for role in ["vendor", "admin"] {
        let body =
            json!({ "email": format!("{role}2@example.com"), "password": PASSWORD, "role": role });
        assert_eq!(
            assert_detail(
                app.post(vendor, "/api/v1/users/", &body).await,
                StatusCode::FORBIDDEN
            )
            .await,
            FORBIDDEN
        );
    }
    let elsewhere =
        json!({ "email": "x@example.com", "password": PASSWORD, "organization_id": w.org_b });
    assert_validation_error(
        app.post(vendor, "/api/v1/users/", &elsewhere).await,
        &["body", "organization_id"],
    )
    .await;

    // Other organizations' users do not exist for this vendor.
    for path in [
        format!("/api/v1/users/{}", w.user_b.0),
        format!("/api/v1/users/{}", w.vendor_b.0),
    ] {
        assert_eq!(
            assert_detail(app.get(vendor, &path).await, StatusCode::NOT_FOUND).await,
            "User not found"
        );
        assert_eq!(
            app.patch(vendor, &path, &json!({ "full_name": "X" }))
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.delete(vendor, &path).await.status(),
            StatusCode::NOT_FOUND
        );
    }

    let user_path = format!("/api/v1/users/{}", w.user_a.0);
    let updated = app
        .patch(
            vendor,
            &user_path,
            &json!({ "full_name": "Anna Verdi", "role": "referent" }),
        )
        .await;
    assert_eq!(updated.status(), StatusCode::OK);
    let promote = app
        .patch(vendor, &user_path, &json!({ "role": "vendor" }))
        .await;
    assert_eq!(promote.status(), StatusCode::FORBIDDEN);
    let move_out = app
        .patch(vendor, &user_path, &json!({ "organization_id": w.org_b }))
        .await;
    assert_validation_error(move_out, &["body", "organization_id"]).await;
    assert_eq!(
        app.delete(vendor, &user_path).await.status(),
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn vendors_cannot_touch_other_vendors_in_their_organization() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let (other_vendor, _) = app
        .create_user("vendor.a2@example.com", "vendor", Some(w.org_a))
        .await;
    let path = format!("/api/v1/users/{other_vendor}");
    assert_eq!(app.get(&w.vendor_a.1, &path).await.status(), StatusCode::OK);
    assert_eq!(
        app.patch(&w.vendor_a.1, &path, &json!({ "full_name": "X" }))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.delete(&w.vendor_a.1, &path).await.status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn referents_and_users_see_only_themselves() {
    let app = spawn_app().await;
    let w = world(&app).await;
    for (id, token) in [&w.referent_a, &w.user_a] {
        assert_eq!(
            assert_detail(
                app.get(token, "/api/v1/users/").await,
                StatusCode::FORBIDDEN
            )
            .await,
            FORBIDDEN
        );
        let body = json!({ "email": "z@example.com", "password": PASSWORD });
        assert_eq!(
            app.post(token, "/api/v1/users/", &body).await.status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            app.get(token, &format!("/api/v1/users/{id}"))
                .await
                .status(),
            StatusCode::OK
        );
        // Visible, but not theirs to administer.
        let own = format!("/api/v1/users/{id}");
        assert_eq!(
            app.patch(token, &own, &json!({ "full_name": "X" }))
                .await
                .status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            app.delete(token, &own).await.status(),
            StatusCode::FORBIDDEN
        );
        for other in [w.vendor_a.0, w.user_b.0, 1] {
            if other != *id {
                assert_eq!(
                    app.get(token, &format!("/api/v1/users/{other}"))
                        .await
                        .status(),
                    StatusCode::NOT_FOUND
                );
            }
        }
    }
}

#[tokio::test]
async fn everyone_updates_their_own_profile_but_not_their_role_or_status() {
    let app = spawn_app().await;
    let (_, token) = app.create_user("self@example.com", "user", None).await;
    let response = app
        .patch(
            &token,
            "/api/v1/users/me",
            &json!({ "full_name": "Sara Neri", "address": "Via Po 2" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let me: Value = response.json().await.unwrap();
    assert_eq!(me["full_name"], "Sara Neri");
    assert_eq!(me["address"], "Via Po 2");
    let cleared: Value = app
        .patch(&token, "/api/v1/users/me", &json!({ "address": null }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cleared["address"], Value::Null);

    for field in ["role", "status", "organization_id"] {
        let body =
            json!({ field: if field == "organization_id" { json!(1) } else { json!("admin") } });
        assert_validation_error(
            app.patch(&token, "/api/v1/users/me", &body).await,
            &["body", field],
        )
        .await;
    }
    let no_current = app
        .patch(
            &token,
            "/api/v1/users/me",
            &json!({ "password": "another-password" }),
        )
        .await;
    assert_validation_error(no_current, &["body", "current_password"]).await;
    let wrong_current = app
        .patch(
            &token,
            "/api/v1/users/me",
            &json!({ "email": "new@example.com", "current_password": "wrong-password" }),
        )
        .await;
    assert_eq!(
        assert_detail(wrong_current, StatusCode::BAD_REQUEST).await,
        "Incorrect password"
    );
    let right = app
        .patch(
            &token,
            "/api/v1/users/me",
            &json!({ "email": "new@example.com", "current_password": PASSWORD }),
        )
        .await;
    assert_eq!(right.status(), StatusCode::OK);
    app.login("new@example.com", PASSWORD).await;
}

#[tokio::test]
async fn an_admin_cannot_change_their_own_role_or_status() {
    let app = spawn_app().await;
    let me: Value = app
        .get(&app.admin_token, "/api/v1/users/me")
        .await
        .json()
        .await
        .unwrap();
    let path = format!("/api/v1/users/{}", me["id"]);
    for body in [json!({ "role": "user" }), json!({ "status": "inactive" })] {
        assert_eq!(
            app.patch(&app.admin_token, &path, &body).await.status(),
            StatusCode::FORBIDDEN
        );
    }
}

#[tokio::test]
async fn the_last_active_admin_cannot_be_deactivated_or_demoted() {
    let app = spawn_app().await;
    let me: Value = app
        .get(&app.admin_token, "/api/v1/users/me")
        .await
        .json()
        .await
        .unwrap();
    let first = format!("/api/v1/users/{}", me["id"]);
    // Deactivating oneself is refused before the last-admin rule is even asked.
    let detail = assert_detail(
        app.delete(&app.admin_token, &first).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(detail.contains("your own account"), "{detail}");

    let (second_id, second_token) = app.create_user("admin2@example.com", "admin", None).await;
    let second = format!("/api/v1/users/{second_id}");
    // With two admins, one may deactivate the other...
    assert_eq!(
        app.delete(&second_token, &first).await.status(),
        StatusCode::NO_CONTENT
    );
    // ...but the remaining one is the last: not deletable by itself, nor demotable by anyone.
    assert_eq!(
        app.delete(&second_token, &second).await.status(),
        StatusCode::FORBIDDEN
    );
    let reactivated = app
        .patch(&second_token, &first, &json!({ "status": "active" }))
        .await;
    assert_eq!(reactivated.status(), StatusCode::OK);
    let demote = app
        .patch(&app.admin_token, &second, &json!({ "role": "user" }))
        .await;
    assert_eq!(demote.status(), StatusCode::OK);
    assert_eq!(
        app.delete(&app.admin_token, &first).await.status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn two_admins_deactivating_each_other_at_once_leave_one_active() {
    let app = spawn_app().await;
    let me: Value = app
        .get(&app.admin_token, "/api/v1/users/me")
        .await
        .json()
        .await
        .unwrap();
    let (second_id, second_token) = app.create_user("admin2@example.com", "admin", None).await;
    let first_path = format!("/api/v1/users/{}", me["id"]);
    let second_path = format!("/api/v1/users/{second_id}");
    let (a, b) = tokio::join!(
        app.delete(&app.admin_token, &second_path),
        app.delete(&second_token, &first_path)
    );
    let succeeded = [a.status(), b.status()]
        .iter()
        .filter(|s| **s == StatusCode::NO_CONTENT)
        .count();
    assert_eq!(succeeded, 1, "{:?} {:?}", a.status(), b.status());
    let admins: Value = app
        .get(
            if a.status() == StatusCode::NO_CONTENT {
                &app.admin_token
            } else {
                &second_token
            },
            "/api/v1/users/?role=admin&status=active",
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(admins["total"], 1);
}

#[tokio::test]
async fn deactivation_is_idempotent_and_keeps_the_account() {
    let app = spawn_app().await;
    let (id, _) = app.create_user("gone@example.com", "user", None).await;
    let path = format!("/api/v1/users/{id}");
    assert_eq!(
        app.delete(&app.admin_token, &path).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.delete(&app.admin_token, &path).await.status(),
        StatusCode::NO_CONTENT
    );
    let user: Value = app.get(&app.admin_token, &path).await.json().await.unwrap();
    assert_eq!(user["status"], "inactive");
    assert_eq!(user["is_active"], false);
    assert_eq!(
        app.get(&app.admin_token, "/api/v1/users/999999")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_vendor_needs_an_organization_that_exists() {
    let app = spawn_app().await;
    let no_org = json!({ "email": "v@example.com", "password": PASSWORD, "role": "vendor" });
    assert_validation_error(
        app.post(&app.admin_token, "/api/v1/users/", &no_org).await,
        &["body", "organization_id"],
    )
    .await;
    let missing_org = json!({ "email": "v@example.com", "password": PASSWORD, "role": "vendor", "organization_id": 4242 });
    assert_validation_error(
        app.post(&app.admin_token, "/api/v1/users/", &missing_org)
            .await,
        &["body", "organization_id"],
    )
    .await;
}

#[tokio::test]
async fn list_queries_out_of_range_or_mistyped_are_422s_a_person_can_act_on() {
    let app = spawn_app().await;
    let message = |body: Value| body["detail"][0]["msg"].as_str().unwrap().to_string();
    // Beyond what a database offset holds: a 422, not the 500 SQLite answered.
    for path in [
        "/api/v1/users/?skip=9223372036854775808",
        "/api/v1/configurations/?skip=1000000000001",
        "/api/v1/transactions/?skip=18446744073709551616",
    ] {
        assert_validation_error(app.get(&app.admin_token, path).await, &["query", "skip"]).await;
    }
    let negative = assert_validation_error(
        app.get(&app.admin_token, "/api/v1/members/?skip=-1").await,
        &["query", "skip"],
    )
    .await;
    assert_eq!(
        message(negative),
        "must be a whole number ≥ 0 (at most 10^12)"
    );
    let limit = assert_validation_error(
        app.get(&app.admin_token, "/api/v1/plants/?limit=abc").await,
        &["query", "limit"],
    )
    .await;
    assert_eq!(message(limit), "must be a whole number from 1 to 1000");
    let date = assert_validation_error(
        app.get(&app.admin_token, "/api/v1/transactions/?from=01/03/2025")
            .await,
        &["query", "from"],
    )
    .await;
    assert_eq!(message(date), "expected a date YYYY-MM-DD");
}

#[tokio::test]
async fn nobody_deactivates_their_own_account() {
    let app = spawn_app().await;
    let org = app.create_organization("Comunità Gamma").await;
    let (vendor, token) = app
        .create_user("vendor@gamma.it", "vendor", Some(org))
        .await;
    let refused = assert_detail(
        app.delete(&token, &format!("/api/v1/users/{vendor}")).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(
        refused,
        "You cannot deactivate your own account: ask an admin"
    );
    assert_eq!(
        app.get(&token, "/api/v1/users/me").await.status(),
        StatusCode::OK
    );
    // An admin still can.
    let deactivated = app
        .delete(&app.admin_token, &format!("/api/v1/users/{vendor}"))
        .await;
    assert_eq!(deactivated.status(), StatusCode::NO_CONTENT);
}

/// SQLite's search index merges its segments as soon as two share a level (migration 21), so
/// a search after many one-at-a-time sign-ups reads a compact index; the settings live in the
/// index itself. PostgreSQL has no such index, and the migration leaves it alone.
#[tokio::test]
async fn sqlites_users_search_index_is_kept_merged() {
    let app = spawn_app().await;
    let backend = app.db.get_database_backend();
    let read = |sql: &str| {
        app.db
            .query_all_raw(sea_orm::Statement::from_string(backend, sql.to_owned()))
    };
    match backend {
        sea_orm::DbBackend::Sqlite => {
            let rows = read("SELECT k, v FROM users_search_config WHERE k IN ('automerge', 'crisismerge') ORDER BY k")
                .await
                .unwrap();
            let settings: Vec<(String, i64)> = rows
                .iter()
                .map(|r| (r.try_get("", "k").unwrap(), r.try_get("", "v").unwrap()))
                .collect();
            assert_eq!(
                settings,
                [("automerge".to_owned(), 2), ("crisismerge".to_owned(), 2)]
            );
        }
        _ => {
            let rows = read("SELECT 1 FROM pg_class WHERE relname LIKE 'users_search%'")
                .await
                .unwrap();
            assert!(rows.is_empty());
        }
    }
    // And the index still answers: every sign-up below is its own transaction.
    for n in 0..12 {
        app.create_user(&format!("merged.{n}@example.com"), "user", None)
            .await;
    }
    let found: Value = app
        .get(&app.admin_token, "/api/v1/users/?search=merged.&limit=100")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["items"].as_array().unwrap().len(), 12);
    assert_eq!(found["total"], 12);
}

/// The search is an index on SQLite (a trigram table kept by triggers, migration 17) and on
/// PostgreSQL (a trigram index over a generated column): it must follow every write, and a
/// needle is text, never query syntax.
#[tokio::test]
async fn the_search_follows_every_change_and_reads_no_query_syntax() {
    let app = spawn_app().await;
    let created: Value = app
        .post(
            &app.admin_token,
            "/api/v1/users/",
            &json!({ "email": "giulia@example.com", "full_name": "Giulia D'Amico", "password": PASSWORD }),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_i64().unwrap();
    let company = json!({ "email": "bar@example.com", "type": "company", "fiscal_code": "07643520567",
                          "full_name": "Bar \"Il Sole\" OR NOT", "password": PASSWORD });
    assert_eq!(
        app.post(&app.admin_token, "/api/v1/users/", &company)
            .await
            .status(),
        StatusCode::CREATED
    );
    let found = |needle: &'static str| {
        let app = &app;
        async move {
            let response = app
                .get(
                    &app.admin_token,
                    &format!(
                        "/api/v1/users/?search={}",
                        needle
                            .bytes()
                            .map(|b| format!("%{b:02X}"))
                            .collect::<String>()
                    ),
                )
                .await;
            assert_eq!(response.status(), StatusCode::OK, "{needle}");
            let page: Value = response.json().await.unwrap();
            assert_eq!(
                page["total"],
                page["items"].as_array().unwrap().len(),
                "{needle}"
            );
            emails(&page)
        }
    };
    assert_eq!(found("D'AMI").await, ["giulia@example.com"]);
    assert_eq!(found("amico").await, ["giulia@example.com"]);
    // Two characters: below what a trigram index answers, still found.
    assert_eq!(found("D'").await, ["giulia@example.com"]);
    // Quotes and FTS words are matched as written.
    assert_eq!(found("\"il sole\"").await, ["bar@example.com"]);
    assert_eq!(found("\" or not").await, ["bar@example.com"]);
    for needle in [
        "sole\" OR \"giulia",
        "giul*",
        "-giulia",
        "(giulia)",
        "giulia OR bar",
        "NEAR(a b)",
    ] {
        assert_eq!(found(needle).await, Vec::<String>::new(), "{needle}");
    }

    // A renamed user is found by the new name only; a new email likewise.
    assert_eq!(
        app.patch(
            &app.admin_token,
            &format!("/api/v1/users/{id}"),
            &json!({ "full_name": "Giulia Bianchi", "email": "g.bianchi@example.com" })
        )
        .await
        .status(),
        StatusCode::OK
    );
    assert_eq!(found("amico").await, Vec::<String>::new());
    assert_eq!(found("giulia@").await, Vec::<String>::new());
    assert_eq!(found("bianchi").await, ["g.bianchi@example.com"]);
    assert_eq!(found("G.BIANCHI@").await, ["g.bianchi@example.com"]);

    // Deactivated, still found (kept for the ledger's history); deleted from the table by
    // whatever tool, gone from the search in the same statement.
    assert_eq!(
        app.delete(&app.admin_token, &format!("/api/v1/users/{id}"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(found("bianchi").await, ["g.bianchi@example.com"]);
    app.db
        .execute_unprepared(&format!("DELETE FROM users WHERE id = {id}"))
        .await
        .unwrap();
    assert_eq!(found("bianchi").await, Vec::<String>::new());
}

/// Every request that loads its user reads the row by position (`crud::users::find`); SeaORM's
/// own decoding must give the very same user, every field set or NULL, on both databases.
#[tokio::test]
async fn a_user_read_by_position_is_the_user_seaorm_reads() {
    use sea_orm::EntityTrait;
    let app = spawn_app().await;
    let org = app.create_organization("Energia Insieme").await;
    let full = app
        .post(
            &app.admin_token,
            "/api/v1/users/",
            &json!({
                "email": "giulia.bianchi@example.it",
                "username": "gbianchi",
                "full_name": "Giulia Bianchi",
                "fiscal_code": "RSSMRA85T10A562S",
                "type": "person",
                "user_type": "prosumer",
                "address": "Via Roma 1, Torino",
                "role": "referent",
                "status": "inactive",
                "password": PASSWORD,
                "organization_id": org
            }),
        )
        .await;
    assert_eq!(full.status(), StatusCode::CREATED);
    let full = full.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let (bare, _) = app.create_user("bare@example.com", "user", None).await;
    for id in [full, bare] {
        let id = i32::try_from(id).unwrap();
        let ours = condivisa::crud::users::find(&app.db, id).await.unwrap();
        let seaorms = condivisa::models::user::Entity::find_by_id(id)
            .one(&app.db)
            .await
            .unwrap();
        assert!(ours.is_some());
        assert_eq!(ours, seaorms);
    }
    let first = condivisa::crud::users::find(&app.db, i32::try_from(full).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.address.as_deref(), Some("Via Roma 1, Torino"));
    assert_eq!(first.organization_id, Some(i32::try_from(org).unwrap()));
    assert!(
        condivisa::crud::users::find(&app.db, 999_999)
            .await
            .unwrap()
            .is_none()
    );
}
