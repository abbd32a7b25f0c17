//! The `/api/v1` router. Collection routes answer with and without the trailing slash (FastAPI's
//! canonical form is `/users/`), and the login routes also answer under `/auth` and `/auth/login`.
use axum::Router;
use axum::routing::{MethodRouter, get, patch, post};

use crate::api::state::AppState;

pub mod community_users;
pub mod configurations;
pub mod energy;
pub mod login;
pub mod market;
pub mod members;
pub mod organizations;
pub mod plants;
pub mod settlements;
pub mod transactions;
pub mod users;

pub fn router() -> Router<AppState> {
    let login = Router::new()
        .route("/access-token", post(login::access_token))
        .route("/test-token", post(login::test_token))
        .route("/refresh-token", post(login::refresh_token));
    // The design's form is `/auth/login/access-token`; `/auth/access-token` and `/login/…` are
    // served too (one handler each, documented once with the aliases listed).
    let auth = login
        .clone()
        .route("/logout", post(login::logout))
        .nest("/login", login.clone());

    Router::new()
        .nest("/login", login)
        .route("/logout", post(login::logout))
        .nest("/auth", auth)
        .merge(collection(
            "/users",
            get(users::list_users).post(users::create_user),
        ))
        .route("/users/me", get(users::read_me).patch(users::update_me))
        .route(
            "/users/{id}",
            get(users::read_user)
                .patch(users::update_user)
                .delete(users::delete_user),
        )
        .merge(collection(
            "/organizations",
            get(organizations::list_organizations).post(organizations::create_organization),
        ))
        .route(
            "/organizations/{id}",
            get(organizations::read_organization).patch(organizations::update_organization),
        )
        .merge(collection(
            "/configurations",
            get(configurations::list_configurations).post(configurations::create_configuration),
        ))
        .route(
            "/configurations/{id}",
            get(configurations::read_configuration)
                .patch(configurations::update_configuration)
                .delete(configurations::delete_configuration),
        )
        .merge(collection(
            "/members",
            get(members::list_members).post(members::create_member),
        ))
        .route(
            "/members/{id}",
            get(members::read_member)
                .patch(members::update_member)
                .delete(members::delete_member),
        )
        .merge(collection(
            "/plants",
            get(plants::list_plants).post(plants::create_plant),
        ))
        .route(
            "/plants/{id}",
            get(plants::read_plant)
                .patch(plants::update_plant)
                .delete(plants::delete_plant),
        )
        .merge(collection(
            "/community-users",
            get(community_users::list_community_users).post(community_users::create_community_user),
        ))
        .route("/community-users/check", get(community_users::check_email))
        .route(
            "/community-users/{id}",
            get(community_users::read_community_user).patch(community_users::update_community_user),
        )
        .merge(collection(
            "/transactions",
            get(transactions::list_transactions).post(transactions::create_transaction),
        ))
        .route("/transactions/{id}", get(transactions::read_transaction))
        .route(
            "/transactions/{id}/settle",
            post(transactions::settle_transaction),
        )
        .route(
            "/transactions/{id}/cancel",
            post(transactions::cancel_transaction),
        )
        .route(
            "/configurations/{id}/readings/coverage",
            get(energy::coverage),
        )
        .route(
            "/configurations/{id}/energy",
            get(energy::configuration_energy),
        )
        .route(
            "/configurations/{id}/energy.svg",
            get(energy::configuration_energy_svg),
        )
        .route("/members/{id}/energy", get(energy::member_energy))
        .route("/members/{id}/energy.svg", get(energy::member_energy_svg))
        .merge(collection(
            "/market/parameters",
            get(market::list_parameters).post(market::create_parameter),
        ))
        .route(
            "/market/parameters/{id}",
            patch(market::update_parameter).delete(market::delete_parameter),
        )
        .merge(collection("/market/zonal-prices", get(market::list_prices)))
        .route(
            "/configurations/{id}/policy",
            get(settlements::read_policy).put(settlements::write_policy),
        )
        .route(
            "/configurations/{id}/policy/versions",
            get(settlements::policy_versions),
        )
        .merge(collection(
            "/configurations/{id}/settlements",
            get(settlements::list_settlements).post(settlements::create_settlement),
        ))
        .route("/configurations/{id}/imports", get(energy::list_imports))
        .route("/imports/{id}", get(energy::read_import))
        .route("/imports/{id}/revert", post(energy::revert_import))
        .route(
            "/settlements/{id}",
            get(settlements::read_settlement).delete(settlements::delete_settlement),
        )
        .route(
            "/settlements/{id}/finalize",
            post(settlements::finalize_settlement),
        )
        .route(
            "/settlements/{id}/members.csv",
            get(settlements::settlement_members_csv),
        )
        .route("/members/{id}/statement", get(settlements::read_statement))
        .route(
            "/members/{id}/statement.csv",
            get(settlements::read_statement_csv),
        )
}

/// File uploads: streamed bodies of any size, without the request timeout (a year of meter
/// data takes longer than an ordinary request should). Full paths: merged beside `router()`.
pub fn upload_router() -> Router<AppState> {
    Router::new()
        .merge(collection(
            "/api/v1/configurations/{id}/readings",
            post(energy::import),
        ))
        .merge(collection(
            "/api/v1/market/zonal-prices",
            post(market::import_prices),
        ))
}

/// A collection route under both `/things` and `/things/`.
fn collection(path: &str, methods: MethodRouter<AppState>) -> Router<AppState> {
    Router::new()
        .route(path, methods.clone())
        .route(&format!("{path}/"), methods)
}
