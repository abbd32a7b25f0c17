//! The acting user, extracted from the bearer token and reloaded from the database on every
//! request, so that deactivation and role changes take effect at once.
use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};

use super::error::ApiError;
use crate::api::state::AppState;
use crate::core::permissions::Permission;
use crate::crud;
use crate::models::user;

pub struct CurrentUser(pub user::Model, pub Option<std::net::IpAddr>);

impl CurrentUser {
    /// The caller as the use cases see it, with the client's address.
    pub fn actor(&self) -> crate::service::Actor {
        crate::service::Actor::of(&self.0).from(self.1)
    }

    /// 403 unless the role has the permission (for checks a handler makes before parsing).
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        Ok(self.actor().require(permission)?)
    }
}

fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer_token(parts).ok_or(ApiError::Unauthorized)?;
        let user_id = state
            .keys
            .verify_access_token(token)
            .ok_or(ApiError::Unauthorized)?;
        let user = crud::users::find(&state.db, user_id)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        if !user.is_active() {
            return Err(ApiError::BadRequest("Inactive user".into()));
        }
        let crate::api::extract::ClientAddress(address) =
            crate::api::extract::ClientAddress::from_request_parts(parts, state)
                .await
                .unwrap_or(crate::api::extract::ClientAddress(None));
        Ok(CurrentUser(user, address))
    }
}
