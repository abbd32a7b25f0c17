//! The `/api/v1` router. Collection routes answer with and without the trailing slash (FastAPI's
//! canonical form is `/users/`), and the login routes also answer under `/auth`.
use axum::Router;
use axum::routing::{get, post};

use crate::app::AppState;

pub mod login;
pub mod organizations;
pub mod users;

pub fn router() -> Router<AppState> {
    let login = Router::new()
        .route("/access-token", post(login::access_token))
        .route("/test-token", post(login::test_token))
        .route("/refresh-token", post(login::refresh_token));
    let auth = login.clone().route("/logout", post(login::logout));

    let users_collection = get(users::list_users).post(users::create_user);
    let organizations_collection =
        get(organizations::list_organizations).post(organizations::create_organization);

    Router::new()
        .nest("/login", login)
        .route("/logout", post(login::logout))
        .nest("/auth", auth)
        .route("/users", users_collection.clone())
        .route("/users/", users_collection)
        .route("/users/me", get(users::read_me).patch(users::update_me))
        .route(
            "/users/{id}",
            get(users::read_user)
                .patch(users::update_user)
                .delete(users::delete_user),
        )
        .route("/organizations", organizations_collection.clone())
        .route("/organizations/", organizations_collection)
        .route(
            "/organizations/{id}",
            get(organizations::read_organization).patch(organizations::update_organization),
        )
}
