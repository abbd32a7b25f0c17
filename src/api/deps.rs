//! The acting user, from the bearer token, checked against the database on every request so
//! that deactivation and role changes take effect at once: loaded first ([`CurrentUser`]), or —
//! on the hot routes — checked inside the route's own statement ([`TokenCaller`]).
use std::net::IpAddr;

use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};

use super::error::ApiError;
use crate::api::extract::ClientAddress;
use crate::api::state::AppState;
use crate::core::permissions::Permission;
use crate::core::security::AccessToken;
use crate::crud;
use crate::models::user;
use crate::service;

pub struct CurrentUser(pub user::Model, pub Option<IpAddr>);

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

/// The caller the bearer token names, the user not yet loaded: for the hot routes whose use case
/// checks the token's claim inside its own statement (`service::Claimed`). [`Self::confirm`]
/// loads the user as [`CurrentUser`] does, for the rest.
pub struct TokenCaller {
    access: AccessToken,
    address: Option<IpAddr>,
}

impl TokenCaller {
    /// Answers with `on_claim` when it can (`Some`), else loads the user and answers with
    /// `loaded`: the one way a route reads on the token's claim, so none can leave out the
    /// fallback that keeps its answers the ordinary path's.
    pub async fn on_claim_or_loaded<T>(
        &self,
        state: &AppState,
        on_claim: impl AsyncFnOnce(&service::Claimed) -> service::Outcome<Option<T>>,
        loaded: impl AsyncFnOnce(CurrentUser) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        if let Some(claimed) = self.claimed()
            && let Some(answer) = on_claim(&claimed).await?
        {
            return Ok(answer);
        }
        loaded(self.confirm(state).await?).await
    }

    /// The token's claim, if it carries one (tokens issued before the claim existed do not).
    fn claimed(&self) -> Option<service::Claimed> {
        self.access.acting_as.map(|acting| {
            service::Claimed::new(service::Actor {
                user_id: self.access.user_id,
                role: acting.role,
                organization_id: acting.org,
                address: self.address,
            })
        })
    }

    /// The user, loaded: 401 if gone, 400 if deactivated.
    async fn confirm(&self, state: &AppState) -> Result<CurrentUser, ApiError> {
        let user = crud::users::find(&state.db, self.access.user_id)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        if !user.is_active() {
            return Err(ApiError::BadRequest("Inactive user".into()));
        }
        Ok(CurrentUser(user, self.address))
    }
}

impl FromRequestParts<AppState> for TokenCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer_token(parts).ok_or(ApiError::Unauthorized)?;
        let access = state
            .keys
            .verify_access(token)
            .ok_or(ApiError::Unauthorized)?;
        let ClientAddress(address) = ClientAddress::from_request_parts(parts, state)
            .await
            .unwrap_or(ClientAddress(None));
        Ok(TokenCaller { access, address })
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        TokenCaller::from_request_parts(parts, state)
            .await?
            .confirm(state)
            .await
    }
}
