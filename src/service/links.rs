//! Single-use links (password reset, e-mail confirmation): issued as a random token whose hash
//! alone is stored, checked (unknown, used, expired — each said as such) and spent once.
use chrono::{DateTime, Duration, Utc};
use sea_orm::ConnectionTrait;

use super::{Outcome, ServiceError, TokenProblem};
use crate::core::security::{hash_refresh_token, new_refresh_token};
use crate::crud;
use crate::models::enums::TokenPurpose;
use crate::models::one_time_token;

/// A new link's token for `purpose`, valid for `valid_for`; only its hash is stored.
pub(super) async fn issue(
    db: &impl ConnectionTrait,
    purpose: TokenPurpose,
    user_id: Option<i32>,
    subject_id: Option<i32>,
    valid_for: Duration,
) -> Outcome<String> {
    let (token, hash) = new_refresh_token();
    crud::one_time_tokens::insert(
        db,
        purpose,
        hash,
        user_id,
        subject_id,
        Utc::now() + valid_for,
    )
    .await?;
    Ok(token)
}

/// The stored link of `token` if it can still be used at `now`; otherwise why not.
pub(super) async fn usable(
    db: &impl ConnectionTrait,
    purpose: TokenPurpose,
    token: &str,
    now: DateTime<Utc>,
) -> Outcome<one_time_token::Model> {
    let stored = crud::one_time_tokens::find(db, purpose, &hash_refresh_token(token.trim()))
        .await?
        .ok_or(ServiceError::InvalidToken(TokenProblem::Unknown))?;
    if stored.used_at.is_some() {
        return Err(ServiceError::InvalidToken(TokenProblem::Used));
    }
    if stored.expires_at <= now {
        return Err(ServiceError::InvalidToken(TokenProblem::Expired));
    }
    Ok(stored)
}

/// Spends the link inside the caller's transaction; a concurrent use that came first makes
/// this one "already used".
pub(super) async fn spend(
    txn: &impl ConnectionTrait,
    link: &one_time_token::Model,
    now: DateTime<Utc>,
) -> Outcome<()> {
    if crud::one_time_tokens::claim(txn, link.id, now).await? {
        Ok(())
    } else {
        Err(ServiceError::InvalidToken(TokenProblem::Used))
    }
}
