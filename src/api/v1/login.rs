//! OAuth2 password login, token refresh with rotation and reuse detection, logout.
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{Duration, Utc};

use crate::api::deps::CurrentUser;
use crate::api::error::{ApiError, ErrorDetail, ValidationErrorBody};
use crate::api::extract::{ValidForm, ValidJson};
use crate::app::AppState;
use crate::core::security::{hash_refresh_token, new_refresh_token};
use crate::crud;
use crate::schemas::auth::{PasswordForm, RefreshRequest, Token};
use crate::schemas::user::UserPublic;

const INCORRECT_CREDENTIALS: &str = "Incorrect email or password";

/// OAuth2 password flow: exchange an email (or username) and password for tokens.
#[utoipa::path(
    post,
    path = "/api/v1/login/access-token",
    tag = "login",
    request_body(content = PasswordForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Tokens", body = Token),
        (status = 400, description = "Incorrect email or password, or inactive user", body = ErrorDetail),
        (status = 422, description = "Malformed form", body = ValidationErrorBody),
    )
)]
pub async fn access_token(
    State(state): State<AppState>,
    ValidForm(form): ValidForm<PasswordForm>,
) -> Result<Json<Token>, ApiError> {
    let user = crud::users::find_by_login(&state.db, &form.username).await?;
    let hash = user.as_ref().map(|user| user.hashed_password.as_str());
    let verified = state.passwords.verify(&form.password, hash).await;
    let user = match user {
        Some(user) if verified => user,
        _ => return Err(ApiError::BadRequest(INCORRECT_CREDENTIALS.into())),
    };
    if !user.is_active() {
        return Err(ApiError::BadRequest("Inactive user".into()));
    }
    let family = uuid::Uuid::new_v4().to_string();
    Ok(Json(issue_tokens(&state, user.id, &family).await?))
}

/// Returns the user the bearer token belongs to.
#[utoipa::path(
    post,
    path = "/api/v1/login/test-token",
    tag = "login",
    security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "The current user", body = UserPublic),
        (status = 400, description = "Inactive user", body = ErrorDetail),
        (status = 401, description = "Could not validate credentials", body = ErrorDetail),
    )
)]
pub async fn test_token(current: CurrentUser) -> Json<UserPublic> {
    Json(current.0.into())
}

/// Exchanges a refresh token for a new pair. The presented token is spent; presenting a spent
/// token again revokes every token descended from the same login.
#[utoipa::path(
    post,
    path = "/api/v1/login/refresh-token",
    tag = "login",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new token pair", body = Token),
        (status = 401, description = "Invalid, expired, revoked or reused refresh token", body = ErrorDetail),
        (status = 422, description = "Malformed body", body = ValidationErrorBody),
    )
)]
pub async fn refresh_token(
    State(state): State<AppState>,
    ValidJson(body): ValidJson<RefreshRequest>,
) -> Result<Json<Token>, ApiError> {
    let stored =
        crud::refresh_tokens::find_by_hash(&state.db, &hash_refresh_token(&body.refresh_token))
            .await?
            .ok_or(ApiError::Unauthorized)?;
    if stored.used_at.is_some() || stored.revoked_at.is_some() {
        tracing::warn!(
            user_id = stored.user_id,
            "spent refresh token presented: revoking its family"
        );
        crud::refresh_tokens::revoke_family(&state.db, &stored.family_id).await?;
        return Err(ApiError::Unauthorized);
    }
    if stored.expires_at <= Utc::now() {
        return Err(ApiError::Unauthorized);
    }
    if !crud::refresh_tokens::claim(&state.db, stored.id).await? {
        // Someone spent it between our read and our write: the same theft signal.
        crud::refresh_tokens::revoke_family(&state.db, &stored.family_id).await?;
        return Err(ApiError::Unauthorized);
    }
    match crud::users::find(&state.db, stored.user_id).await? {
        Some(user) if user.is_active() => Ok(Json(
            issue_tokens(&state, user.id, &stored.family_id).await?,
        )),
        _ => Err(ApiError::Unauthorized),
    }
}

/// Revokes the refresh token (and the tokens of the same login). Answers 204 whether or not the
/// token was known, so the endpoint cannot be used to test tokens.
#[utoipa::path(
    post,
    path = "/api/v1/logout",
    tag = "login",
    request_body = RefreshRequest,
    responses(
        (status = 204, description = "Logged out"),
        (status = 422, description = "Malformed body", body = ValidationErrorBody),
    )
)]
pub async fn logout(
    State(state): State<AppState>,
    ValidJson(body): ValidJson<RefreshRequest>,
) -> Result<StatusCode, ApiError> {
    let hash = hash_refresh_token(&body.refresh_token);
    if let Some(stored) = crud::refresh_tokens::find_by_hash(&state.db, &hash).await? {
        crud::refresh_tokens::revoke_family(&state.db, &stored.family_id).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn issue_tokens(state: &AppState, user_id: i32, family: &str) -> Result<Token, ApiError> {
    let now = Utc::now();
    let ttl = state.settings.access_token_expire_minutes * 60;
    let access_token = state.keys.create_access_token(user_id, now, ttl);
    let (refresh_token, refresh_hash) = new_refresh_token();
    let expires_at = now + Duration::days(state.settings.refresh_token_expire_days);
    crud::refresh_tokens::insert(&state.db, user_id, family, refresh_hash, expires_at).await?;
    Ok(Token {
        access_token,
        token_type: "bearer".into(),
        expires_in: ttl,
        refresh_token,
    })
}
