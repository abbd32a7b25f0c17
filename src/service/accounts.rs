//! Getting back into an account: a password-reset link by e-mail, and setting a new password
//! with it. The link is single-use, expires, and is stored only as its hash; using it ends
//! every session of the account and lifts a login lock.
use chrono::{Duration, Utc};
use sea_orm::{DatabaseConnection, TransactionTrait};
use serde_json::json;

use super::{Outcome, ServiceError, TokenProblem, links};
use crate::core::config::Settings;
use crate::core::security::PasswordService;
use crate::crud;
use crate::domain::mail::MailTemplate;
use crate::mail::Mailer;
use crate::models::enums::{Language, TokenPurpose};
use crate::models::user;

/// Reset links sent to one account per hour at most: the endpoint is public, and must not
/// become a way to flood someone's mailbox.
const RESETS_PER_HOUR: u64 = 3;

/// The language of the messages to an account: its holder's (the portal account of a member)
/// or Italian.
pub async fn language_of(db: &DatabaseConnection, user: &user::Model) -> Outcome<Language> {
    Ok(crud::holders::of_user(db, user.id)
        .await?
        .map_or(Language::It, |holder| holder.language))
}

/// Sends a reset link to the account with this e-mail, if there is an active one. Says
/// nothing either way, so the endpoint cannot tell who has an account.
pub async fn request_password_reset(
    db: &DatabaseConnection,
    mailer: &Mailer,
    settings: &Settings,
    email: &str,
) -> Outcome<()> {
    let email = email.trim().to_lowercase();
    if !email.contains('@') {
        return Ok(());
    }
    let Some(user) = crud::users::find_by_login(db, &email).await? else {
        return Ok(());
    };
    if !user.is_active() {
        return Ok(());
    }
    let now = Utc::now();
    let recent = crud::one_time_tokens::issued_since(
        db,
        TokenPurpose::PasswordReset,
        user.id,
        now - Duration::hours(1),
    )
    .await?;
    if recent >= RESETS_PER_HOUR {
        tracing::warn!(
            user_id = user.id,
            "password reset requested again within the hour: no further mail"
        );
        return Ok(());
    }
    let language = language_of(db, &user).await?;
    let minutes = settings.password_reset_expire_minutes;
    let txn = db.begin().await?;
    let token = links::issue(
        &txn,
        TokenPurpose::PasswordReset,
        Some(user.id),
        None,
        Duration::minutes(minutes),
    )
    .await?;
    mailer
        .queue(
            &txn,
            &user.email,
            language,
            MailTemplate::PasswordReset,
            json!({
                "name": user.full_name,
                "email": user.email,
                "link": reset_link(settings, &token),
                "valid_minutes": minutes,
            }),
        )
        .await?;
    txn.commit().await?;
    mailer.wake();
    Ok(())
}

/// The server's reset page: without a token it asks for the e-mail address.
pub fn reset_page(settings: &Settings) -> String {
    format!("{}/reset-password", settings.public_url())
}

/// The link in the reset mail: the reset page with the token, which posts to the API.
pub fn reset_link(settings: &Settings, token: &str) -> String {
    format!("{}?token={token}", reset_page(settings))
}

/// Sets a new password with a reset link's token. The token is spent (and every other reset
/// link of the account with it), every refresh token of the account is revoked, and a login
/// lock on the account is lifted.
pub async fn reset_password(
    db: &DatabaseConnection,
    passwords: &PasswordService,
    token: &str,
    new_password: &str,
) -> Outcome<()> {
    let now = Utc::now();
    let stored = links::usable(db, TokenPurpose::PasswordReset, token, now).await?;
    let user_id = stored
        .user_id
        .ok_or_else(|| ServiceError::InvalidToken(TokenProblem::Unknown))?;
    let user = crud::users::find(db, user_id)
        .await?
        .ok_or_else(|| ServiceError::InvalidToken(TokenProblem::Unknown))?;
    if !user.is_active() {
        return Err(ServiceError::InactiveUser);
    }
    // Hashing takes a while: before the transaction, not inside it.
    let hashed = passwords.hash(new_password).await;
    let txn = db.begin().await?;
    links::spend(&txn, &stored, now).await?;
    crud::one_time_tokens::spend_all_of_user(&txn, TokenPurpose::PasswordReset, user.id, now)
        .await?;
    crud::users::set_password(&txn, user.id, hashed).await?;
    super::sessions::sign_out_everywhere(&txn, user.id).await?;
    crud::login_throttles::clear(&txn, &format!("login:{}", user.email)).await?;
    if let Some(username) = &user.username {
        crud::login_throttles::clear(&txn, &format!("login:{username}")).await?;
    }
    txn.commit().await?;
    tracing::info!(user_id = user.id, "password reset through an e-mailed link");
    Ok(())
}
