//! The OpenAPI document: generated from the handlers' annotations, collected by the routers
//! that serve them (`api::v1::router`), so it cannot drift from what the server does.
use utoipa::openapi::security::{Flow, OAuth2, Password, Scopes, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::error::{ErrorDetail, FieldError, ValidationErrorBody};

/// The whole document: the info, tags and shared components declared here, the paths the
/// routers collected, then what is added to every operation (aliases, the 400 for inactive
/// users, links from creates).
pub fn document(
    collected: impl IntoIterator<Item = utoipa::openapi::OpenApi>,
) -> utoipa::openapi::OpenApi {
    let mut document = ApiDoc::openapi();
    for part in collected {
        document.merge(part);
    }
    for modifier in [&AuthAliases as &dyn Modify, &SignedIn, &CreateLinks] {
        modifier.modify(&mut document);
    }
    document
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "condivisa",
        description = "Backend for renewable energy communities (CER, AUC, AID). Authorize with \
                       the password flow; errors follow FastAPI's `{\"detail\": …}` shapes."
    ),
    // Enums used only by query parameters are referenced there but collected nowhere else, so
    // they are defined here (the OpenAPI test checks that every reference resolves).
    components(schemas(
        ErrorDetail,
        ValidationErrorBody,
        FieldError,
        crate::domain::energy_series::Granularity,
        crate::schemas::energy::ImportKind,
        crate::models::enums::RunStatus,
        crate::schemas::market::PriceResolution
    )),
    modifiers(&SecurityAddon),
    tags(
        (name = "login", description = "OAuth2 password flow and refresh tokens"),
        (name = "users", description = "Accounts and roles"),
        (name = "organizations", description = "Tenants"),
        (name = "configurations", description = "Energy-sharing configurations (CER, AUC, AID)"),
        (name = "members", description = "Connection points (PODs) taking part in a configuration"),
        (name = "plants", description = "Production plants behind producer and prosumer PODs"),
        (name = "community-users", description = "The community's registry of people"),
        (name = "holders", description = "The people and organisations behind the points: identity, contacts, IBAN, consents, history, access and erasure"),
        (name = "transactions", description = "The append-only ledger"),
        (name = "meter data", description = "Readings import, coverage, energy series and charts"),
        (name = "market", description = "Zonal prices and regulated parameters"),
        (name = "settlement", description = "Sharing-out policies, settlement runs and member statements"),
        (name = "gse", description = "What GSE published and paid, and the reconciliation with the finalised runs"),
        (name = "payouts", description = "Paying members: batches approved by a second person, SEPA Credit Transfer files (pain.001.001.09), payments in the ledger"),
        (name = "join requests", description = "Newcomers asking to join a configuration: the public form, e-mail confirmation, the referent's review"),
        (name = "mail", description = "The outbox of e-mail the server sends (admins)"),
        (name = "audit", description = "The append-only audit trail of security-relevant events"),
        (name = "operations", description = "Health, readiness and metrics"),
    )
)]
pub struct ApiDoc;

struct SecurityAddon;

impl Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "OAuth2PasswordBearer",
            SecurityScheme::OAuth2(OAuth2::new([Flow::Password(Password::new(
                "/api/v1/login/access-token",
                Scopes::new(),
            ))])),
        );
    }
}

/// Lists, in each login operation's description, the other paths that serve it: documented
/// once, so that clients generated from the document get one method per operation.
struct AuthAliases;

/// The other paths of a login route (`/api/v1/login/…` or `/api/v1/logout`).
pub fn login_aliases(path: &str) -> Vec<String> {
    if let Some(rest) = path.strip_prefix("/api/v1/login/") {
        vec![
            format!("/api/v1/auth/login/{rest}"),
            format!("/api/v1/auth/{rest}"),
        ]
    } else if path == "/api/v1/logout" {
        vec!["/api/v1/auth/logout".to_string()]
    } else {
        Vec::new()
    }
}

impl Modify for AuthAliases {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let aliases = login_aliases(path);
            if aliases.is_empty() {
                continue;
            }
            if let Some(operation) = item.post.as_mut() {
                let listed: Vec<String> = aliases.iter().map(|a| format!("`{a}`")).collect();
                let note = format!("Also served, identically, at {}.", listed.join(" and "));
                operation.description = Some(match operation.description.take() {
                    Some(text) if !text.is_empty() => format!("{text}\n\n{note}"),
                    _ => note,
                });
            }
        }
    }
}

/// Every operation behind the bearer token answers 401 without a valid one (declared here,
/// once, not on each handler), and every authenticated operation (those that answer 401) also
/// answers 400 "Inactive user" when the caller's account was deactivated after its token was
/// issued, as FastAPI's template does.
struct SignedIn;

impl Modify for SignedIn {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let error = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorDetail")))
                        .build(),
                )
                .build()
        };
        let unauthenticated = error("Could not validate credentials");
        let response = error("Inactive user: the account was deactivated");
        for item in openapi.paths.paths.values_mut() {
            for operation in [
                item.get.as_mut(),
                item.post.as_mut(),
                item.put.as_mut(),
                item.patch.as_mut(),
                item.delete.as_mut(),
            ]
            .into_iter()
            .flatten()
            {
                let signed_in = operation
                    .security
                    .as_ref()
                    .is_some_and(|requirements| !requirements.is_empty());
                let responses = &mut operation.responses.responses;
                if signed_in && !responses.contains_key("401") {
                    responses.insert("401".into(), RefOr::T(unauthenticated.clone()));
                }
                if responses.contains_key("401") && !responses.contains_key("400") {
                    responses.insert("400".into(), RefOr::T(response.clone()));
                }
            }
        }
    }
}

/// OpenAPI links from each create operation to the operations that take the created id, so that
/// clients and stateful testers can follow them (`$response.body#/id`).
struct CreateLinks;

/// `(create path, the prefix of the paths whose first `{id}` is the created object, the
/// response field carrying the id)`: most creates answer the object under its own collection;
/// settlement runs and imports are created under their configuration.
const CREATED_UNDER: &[(&str, &str, &str)] = &[
    (
        "/api/v1/configurations/{id}/settlements",
        "/api/v1/settlements/",
        "id",
    ),
    (
        "/api/v1/configurations/{id}/readings",
        "/api/v1/imports/",
        "import_id",
    ),
    (
        "/api/v1/market/zonal-prices",
        "/api/v1/imports/",
        "import_id",
    ),
];

impl Modify for CreateLinks {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::RefOr;
        use utoipa::openapi::link::LinkBuilder;
        // Every operation taking an `{id}` right after a prefix, by prefix.
        let targets = |prefix: &str| -> Vec<String> {
            openapi
                .paths
                .paths
                .iter()
                .filter(|(path, _)| {
                    path.strip_prefix(prefix)
                        .is_some_and(|rest| rest.starts_with("{id}"))
                })
                .flat_map(|(_, item)| {
                    [&item.get, &item.put, &item.post, &item.patch, &item.delete]
                        .into_iter()
                        .flatten()
                        .filter_map(|operation| operation.operation_id.clone())
                        .collect::<Vec<_>>()
                })
                .collect()
        };
        let mut plans: Vec<(String, Vec<String>, &str)> = Vec::new();
        for (path, item) in &openapi.paths.paths {
            if item.post.is_none() {
                continue;
            }
            if let Some((_, prefix, field)) = CREATED_UNDER.iter().find(|(p, _, _)| p == path) {
                plans.push((path.clone(), targets(prefix), field));
            } else if path.ends_with('/')
                || openapi.paths.paths.contains_key(&format!("{path}/{{id}}"))
            {
                let prefix = if path.ends_with('/') {
                    path.clone()
                } else {
                    format!("{path}/")
                };
                plans.push((path.clone(), targets(&prefix), "id"));
            }
        }
        for (path, operation_ids, field) in plans {
            let Some(operation) = openapi
                .paths
                .paths
                .get_mut(&path)
                .and_then(|item| item.post.as_mut())
            else {
                continue;
            };
            for (status, response) in operation.responses.responses.iter_mut() {
                let RefOr::T(response) = response else {
                    continue;
                };
                if !matches!(status.as_str(), "200" | "201") {
                    continue;
                }
                for operation_id in &operation_ids {
                    response.links.insert(
                        operation_id.clone(),
                        RefOr::T(
                            LinkBuilder::new()
                                .operation_id(operation_id.clone())
                                .parameter("id", format!("$response.body#/{field}"))
                                .build(),
                        ),
                    );
                }
            }
        }
    }
}
