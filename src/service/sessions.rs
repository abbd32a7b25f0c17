//! Browser sessions for the console and the members' portal: signing in with the same checks
//! and throttling as the API's password login, finding the session a cookie names, signing
//! out. Sessions live in the database (`web_sessions`), so every instance sees a sign-out or a
//! deactivated account at once.
use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};

use super::auth::Authority;
use super::{Actor, Outcome};
use crate::core::config::Settings;
use crate::core::security::{hash_refresh_token, new_refresh_token, random_token};
use crate::crud;
use crate::models::{user, web_session};

/// A session just opened: `token` goes into the cookie and is never stored.
pub struct Opened {
    pub token: String,
    pub session: web_session::Model,
    pub user: user::Model,
}

/// A live session and who it belongs to.
#[derive(Clone, Debug)]
pub struct Current {
    pub session: web_session::Model,
    pub user: user::Model,
}

impl Current {
    pub fn actor(&self) -> Actor {
        Actor::of(&self.user)
    }
}

pub async fn sign_in(
    authority: &Authority<'_>,
    login: &str,
    password: &str,
    client: Option<IpAddr>,
) -> Outcome<Opened> {
    let user = authority.authenticate(login, password, client).await?;
    let (token, token_hash) = new_refresh_token();
    let csrf_token = random_token();
    let now = Utc::now();
    let expires_at = now + Duration::hours(authority.settings.session_absolute_hours);
    let session = crud::web_sessions::insert(
        authority.db,
        token_hash,
        user.id,
        csrf_token,
        now,
        expires_at,
    )
    .await?;
    tracing::info!(
        user_id = user.id,
        session_id = session.id,
        "console sign-in"
    );
    Ok(Opened {
        token,
        session,
        user,
    })
}

/// Why a session is not live, or `None` when it is.
fn ended(
    session: &web_session::Model,
    user: &user::Model,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Option<&'static str> {
    if session.revoked_at.is_some() {
        Some("signed out")
    } else if session.expires_at <= now {
        Some("expired")
    } else if session.last_seen_at + Duration::minutes(settings.session_idle_minutes) <= now {
        Some("idle")
    } else if !user.is_active() {
        Some("account inactive")
    } else {
        None
    }
}

/// How often a session's `last_seen_at` is written: often enough for the idle timeout, rarely
/// enough that reading pages does not write on every request.
const TOUCH_EVERY: Duration = Duration::minutes(1);

/// The live session behind a cookie's token; `None` for an unknown, ended or idle one, or when
/// its account is no longer active.
pub async fn current(
    db: &DatabaseConnection,
    settings: &Settings,
    token: &str,
) -> Outcome<Option<Current>> {
    let Some((session, user)) =
        crud::web_sessions::find_with_user(db, &hash_refresh_token(token)).await?
    else {
        return Ok(None);
    };
    let now = Utc::now();
    if let Some(reason) = ended(&session, &user, settings, now) {
        tracing::debug!(session_id = session.id, reason, "console session refused");
        return Ok(None);
    }
    if now - session.last_seen_at >= TOUCH_EVERY {
        crud::web_sessions::touch(db, session.id, now).await?;
    }
    Ok(Some(Current { session, user }))
}

/// Ends every way the user is signed in — the API's refresh tokens and the console's sessions —
/// on every instance at once (password change or reset, deactivation).
pub async fn sign_out_everywhere(db: &impl ConnectionTrait, user_id: i32) -> Result<(), DbErr> {
    crud::refresh_tokens::revoke_all_for_user(db, user_id).await?;
    crud::web_sessions::revoke_all_for_user(db, user_id).await
}

pub async fn sign_out(db: &DatabaseConnection, current: &Current) -> Outcome<()> {
    crud::web_sessions::revoke(db, current.session.id, Utc::now()).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::enums::{Role, UserKind, UserStatus, UserType};

    fn person(status: UserStatus) -> user::Model {
        user::Model {
            id: 1,
            email: "r@example.org".into(),
            username: None,
            full_name: None,
            fiscal_code: None,
            kind: UserKind::Person,
            user_type: UserType::Consumer,
            address: None,
            role: Role::Referent,
            status,
            hashed_password: String::new(),
            organization_id: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn session(now: DateTime<Utc>) -> web_session::Model {
        web_session::Model {
            id: 1,
            token_hash: "h".into(),
            user_id: 1,
            csrf_token: "c".into(),
            created_at: now,
            last_seen_at: now,
            expires_at: now + Duration::hours(12),
            revoked_at: None,
        }
    }

    #[test]
    fn a_session_ends_by_sign_out_expiry_idleness_or_deactivation() {
        let now = Utc::now();
        let settings = Settings::default();
        let user = person(UserStatus::Active);
        assert_eq!(ended(&session(now), &user, &settings, now), None);
        let mut revoked = session(now);
        revoked.revoked_at = Some(now);
        assert_eq!(ended(&revoked, &user, &settings, now), Some("signed out"));
        assert_eq!(
            ended(&session(now), &user, &settings, now + Duration::hours(12)),
            Some("expired")
        );
        assert_eq!(
            ended(&session(now), &user, &settings, now + Duration::minutes(30)),
            Some("idle")
        );
        assert_eq!(
            ended(&session(now), &user, &settings, now + Duration::minutes(29)),
            None
        );
        let inactive = person(UserStatus::Inactive);
        assert_eq!(
            ended(&session(now), &inactive, &settings, now),
            Some("account inactive")
        );
    }
}
