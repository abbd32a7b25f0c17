//! OAuth2 password login, token refresh with rotation and reuse detection, logout.
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use crate::api::deps::CurrentUser;
use crate::api::error::{ApiError, ErrorDetail, ValidationErrorBody};
use crate::api::extract::{ClientAddress, ValidForm, ValidJson};
use crate::api::state::AppState;
use crate::schemas::auth::{Message, NewPassword, PasswordForm, RefreshRequest, Token};
use crate::schemas::user::UserPublic;
use crate::service::accounts;
use crate::service::auth::Authority;

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
        (status = 429, description = "Too many failed logins for this account or from this address: wait the `Retry-After` seconds (the password is not checked meanwhile)", body = ErrorDetail,
         headers(("retry-after" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn access_token(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    ValidForm(form): ValidForm<PasswordForm>,
) -> Result<Json<Token>, ApiError> {
    Ok(Json(
        authority(&state)
            .login(&form.username, &form.password, client)
            .await?,
    ))
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
    Ok(Json(authority(&state).refresh(&body.refresh_token).await?))
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
    authority(&state).logout(&body.refresh_token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends a password-reset link to the account with this e-mail. Answers the same whether or
/// not there is such an account, so it cannot be used to find out who has one; at most three
/// links an hour reach one account.
#[utoipa::path(
    post,
    path = "/api/v1/password-recovery/{email}",
    tag = "login",
    params(("email" = String, Path, description = "The account's e-mail address")),
    responses(
        (status = 200, description = "If the account exists and is active, a link is on its way", body = Message),
    )
)]
pub async fn recover_password(
    State(state): State<AppState>,
    Path(email): Path<String>,
) -> Result<Json<Message>, ApiError> {
    accounts::request_password_reset(&state.db, &state.mailer, &state.settings, &email).await?;
    Ok(Json(Message {
        message: "Password recovery email sent".into(),
    }))
}

/// Sets a new password with the token of a reset link. The link is spent, every session of
/// the account ends (its refresh tokens are revoked), and a login lock on it is lifted.
#[utoipa::path(
    post,
    path = "/api/v1/reset-password/",
    tag = "login",
    request_body = NewPassword,
    responses(
        (status = 200, description = "Password updated", body = Message),
        (status = 400, description = "Unknown, used or expired token, or an inactive account", body = ErrorDetail),
        (status = 422, description = "Malformed body or a password outside 8–128 characters", body = ValidationErrorBody),
    )
)]
pub async fn reset_password(
    State(state): State<AppState>,
    ValidJson(body): ValidJson<NewPassword>,
) -> Result<Json<Message>, ApiError> {
    accounts::reset_password(&state.db, &state.passwords, &body.token, &body.new_password).await?;
    Ok(Json(Message {
        message: "Password updated successfully".into(),
    }))
}

fn authority(state: &AppState) -> Authority<'_> {
    Authority {
        db: &state.db,
        passwords: &state.passwords,
        keys: &state.keys,
        settings: &state.settings,
        mailer: &state.mailer,
    }
}
