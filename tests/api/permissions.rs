//! Every permission of the table, for every role, against the use case that needs it: a role
//! without the permission is refused, a role with it is not. The use cases are called directly
//! (as the CLI and the web console call them), on a world built through the API.
use condivisa::core::permissions::{Permission, has_permission};
use condivisa::core::security::PasswordService;
use condivisa::models::enums::Role;
use condivisa::service::{self, Actor, ServiceError};
use condivisa::settlement::Period;
use reqwest::StatusCode;
use sea_orm::DatabaseConnection;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::helpers::{ADMIN_EMAIL, TestApp, spawn_app, two_tenants};

struct World {
    organization: i32,
    other_organization: i32,
    /// Run by the referent, with one member linked to the user account.
    configuration: i32,
    /// For the writes that change who runs a configuration or where it belongs.
    spare: i32,
    other_referent: i32,
    member: i32,
    /// The member's holder (visible to the user through its point).
    holder: i32,
    /// A holder that the roles allowed to erase may erase.
    erasable: i32,
}

async fn created(app: &TestApp, path: &str, body: Value) -> i32 {
    let response = app.post(&app.admin_token, path, &body).await;
    assert_eq!(response.status(), StatusCode::CREATED, "{path}");
    response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap() as i32
}

fn input<T: DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("a valid input")
}

/// Calls the use case that `permission` guards, as `actor`.
async fn attempt(
    db: &DatabaseConnection,
    world: &World,
    actor: &Actor,
    permission: Permission,
    attempt: usize,
) -> Result<(), ServiceError> {
    let passwords = PasswordService::new();
    let email = format!("probe{attempt}@example.com");
    let c = world.configuration;
    match permission {
        Permission::UsersRead => service::users::list(actor, db, &input(json!({})))
            .await
            .map(drop),
        Permission::UsersWrite => {
            service::users::update(actor, db, &passwords, actor.user_id, input(json!({})))
                .await
                .map(drop)
        }
        Permission::OrganizationsRead => service::organizations::list(actor, db, &input(json!({})))
            .await
            .map(drop),
        Permission::OrganizationsWrite => {
            service::organizations::update(actor, db, world.organization, input(json!({})))
                .await
                .map(drop)
        }
        Permission::ConfigurationsRead => {
            service::configurations::list(actor, db, &input(json!({})))
                .await
                .map(drop)
        }
        Permission::ConfigurationsCreate => service::configurations::create(
            actor,
            db,
            input(
                json!({ "name": "Nuova", "type": "CER", "primary_substation": "AC001E00123",
                          "market_zone": "NORD", "region": "piemonte",
                          "organization_id": world.organization }),
            ),
        )
        .await
        .map(drop),
        Permission::ConfigurationsUpdate => {
            service::configurations::update(actor, db, c, input(json!({})))
                .await
                .map(drop)
        }
        // It has a member: a permitted role gets a conflict, nothing is deleted.
        Permission::ConfigurationsDelete => service::configurations::delete(actor, db, c).await,
        Permission::ConfigurationsMove => service::configurations::update(
            actor,
            db,
            world.spare,
            input(json!({ "organization_id": world.other_organization })),
        )
        .await
        .map(drop),
        Permission::ConfigurationsAssignReferent => service::configurations::update(
            actor,
            db,
            c,
            input(json!({ "referent_id": world.other_referent })),
        )
        .await
        .map(drop),
        Permission::MembersWrite => {
            service::members::update(actor, db, world.member, input(json!({})))
                .await
                .map(drop)
        }
        Permission::CommunityUsersRead => {
            service::community_users::list(actor, db, &input(json!({})))
                .await
                .map(drop)
        }
        Permission::CommunityUsersWrite => service::community_users::create(
            actor,
            db,
            input(json!({ "email": email, "organization_id": world.organization })),
        )
        .await
        .map(drop),
        Permission::TransactionsWrite => service::transactions::record(
            actor,
            db,
            &input(
                json!({ "configuration_id": c, "kind": "adjustment", "amount_eur": "1.00",
                          "period_start": "2025-01-01", "period_end": "2025-01-31" }),
            ),
            None,
        )
        .await
        .map(drop),
        Permission::SettlementsRead => service::settlements::runs(actor, db, c).await.map(drop),
        Permission::SettlementsWrite => {
            let january = Period::parse("2025-01").unwrap();
            service::settlements::preview(actor, db, c, january, &|_| {})
                .await
                .map(drop)
        }
        Permission::MarketWrite => service::parameters::delete(actor, db, i32::MAX).await,
        Permission::ConfigurationDataRead => service::energy::coverage(
            actor,
            db,
            c,
            &input(json!({ "from": "2025-01-01", "to": "2025-01-31" })),
        )
        .await
        .map(drop),
        Permission::HoldersRead => service::holders::list(actor, db, &input(json!({})))
            .await
            .map(drop),
        Permission::HoldersWrite => {
            service::holders::update(actor, db, world.holder, input(json!({})))
                .await
                .map(drop)
        }
        Permission::HoldersErase => service::holders::erase(actor, db, world.erasable)
            .await
            .map(drop),
        Permission::IbanChangeRequest => service::iban_changes::request(
            actor,
            db,
            &condivisa::mail::Mailer::new(),
            world.holder,
            input(json!({ "iban": "IT98Z1234512345123456789012" })),
        )
        .await
        .map(drop),
        Permission::MailOutbox => service::mail::list(actor, db, None, 0, 10).await.map(drop),
        Permission::JoinRequestsReview => service::join_requests::list(actor, db, c, None, 0, 10)
            .await
            .map(drop),
        Permission::GseReconciliation => service::gse::list(actor, db, c, None).await.map(drop),
        Permission::Payouts => service::payouts::list(actor, db, c).await.map(drop),
        Permission::AuditRead => service::audit::list(actor, db, &input(json!({})))
            .await
            .map(drop),
        Permission::AnyOrganization => service::users::create(
            actor,
            db,
            &passwords,
            input(
                json!({ "email": email, "password": "a long enough password",
                          "organization_id": world.other_organization }),
            ),
        )
        .await
        .map(drop),
    }
}

#[tokio::test]
async fn every_use_case_enforces_the_permission_table_for_every_role() {
    let app = spawn_app().await;
    let tenants = two_tenants(&app).await;
    let (organization, other_organization) = (tenants.org_a as i32, tenants.org_b as i32);
    let (other_referent, _) = app
        .create_user("altro@example.com", "referent", Some(tenants.org_a))
        .await;
    let configuration = tenants.a1 as i32;
    let spare = app
        .create_configuration(tenants.org_a, "Spare", Some(tenants.referent_a1.0))
        .await as i32;
    let user_id = tenants.user_a.0;
    let member = created(
        &app,
        "/api/v1/members/",
        json!({ "configuration_id": configuration, "pod": "IT001E00112233", "role": "consumer",
                "holder_type": "natural_person", "joined_at": "2024-02-01", "user_id": user_id }),
    )
    .await;
    // The user takes part in the spare one too, so that it sees both.
    created(
        &app,
        "/api/v1/members/",
        json!({ "configuration_id": spare, "pod": "IT001E04455667A", "role": "consumer",
                "holder_type": "natural_person", "joined_at": "2024-02-01", "user_id": user_id }),
    )
    .await;
    let holder = app
        .get(&app.admin_token, &format!("/api/v1/members/{member}"))
        .await
        .json::<Value>()
        .await
        .unwrap()["holder_id"]
        .as_i64()
        .unwrap() as i32;
    // Registered by the referent and linked to the user's account, so that every role sees it
    // (a role without the permission is refused, not told it does not exist).
    let erasable = {
        let response = app
            .post(
                &tenants.referent_a1.1,
                "/api/v1/holders/",
                &json!({ "kind": "natural_person", "first_name": "Ada", "last_name": "Neri",
                         "user_id": user_id }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json::<Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap() as i32
    };
    let world = World {
        organization,
        other_organization,
        configuration,
        spare,
        other_referent: other_referent as i32,
        member,
        holder,
        erasable,
    };
    let admin = condivisa::crud::users::find_by_login(&app.db, ADMIN_EMAIL)
        .await
        .unwrap()
        .expect("the first superuser");
    let mut actors = Vec::new();
    // Who may not act goes first: refusals change nothing, so every role finds the same world.
    for (id, _) in [&tenants.user_a, &tenants.referent_a1, &tenants.vendor_a] {
        let user = condivisa::crud::users::find(&app.db, *id as i32)
            .await
            .unwrap()
            .unwrap();
        actors.push(Actor::of(&user));
    }
    actors.push(Actor::of(&admin));

    let mut attempts = 0;
    for actor in &actors {
        for permission in Permission::ALL {
            attempts += 1;
            let outcome = attempt(&app.db, &world, actor, permission, attempts).await;
            let role = actor.role.as_str();
            let code = permission.code();
            if has_permission(actor.role, permission) {
                assert!(
                    !matches!(outcome, Err(ServiceError::Forbidden)),
                    "{role} has {code} but was refused"
                );
            } else if permission == Permission::AnyOrganization && actor.role == Role::Vendor {
                // A vendor may create accounts, only not in another organization.
                assert!(
                    matches!(&outcome, Err(ServiceError::Invalid(_))),
                    "{role} lacks {code}: {outcome:?}"
                );
            } else {
                assert!(
                    matches!(outcome, Err(ServiceError::Forbidden)),
                    "{role} lacks {code} but was not refused: {outcome:?}"
                );
            }
        }
    }
}
