//! Signing in and staying signed in: password login, refresh-token rotation with reuse
//! detection, logout. The API's OAuth2 endpoints call these; a browser session would too.
use std::net::IpAddr;

use chrono::{Duration, Utc};
use sea_orm::DatabaseConnection;
use serde_json::json;

use super::{Outcome, ServiceError};
use crate::core::config::Settings;
use crate::core::security::{
    ActingAs, JwtKeys, PasswordService, hash_refresh_token, new_refresh_token,
};
use crate::crud;
use crate::domain::login_throttle::{FailureCount, ThrottlePolicy, retry_after_seconds};
use crate::domain::mail::MailTemplate;
use crate::mail::Mailer;
use crate::models::user;
use crate::schemas::auth::Token;

/// What signing in needs: the accounts, the password hasher, the token keys and lifetimes.
pub struct Authority<'a> {
    pub db: &'a DatabaseConnection,
    pub passwords: &'a PasswordService,
    pub keys: &'a JwtKeys,
    pub settings: &'a Settings,
    /// Tells an account's owner when the account is locked.
    pub mailer: &'a Mailer,
}

impl Authority<'_> {
    /// Exchanges an email (or username) and password for a new token family. Unknown logins
    /// cost the same hashing time as wrong passwords, and count as failures the same way.
    ///
    /// Throttled per account and per client address (`client`, when known): past the
    /// configured number of failures a login is refused for a while — 429 with the seconds to
    /// wait, the password not even checked — and each further failure doubles the wait. A
    /// success clears the account's count (not the address's, which a second account of the
    /// same attacker could otherwise reset).
    pub async fn login(
        &self,
        login: &str,
        password: &str,
        client: Option<IpAddr>,
    ) -> Outcome<Token> {
        let user = self.authenticate(login, password, client).await?;
        let family = uuid::Uuid::new_v4().to_string();
        self.issue(&user, &family).await
    }

    /// The account behind an email (or username) and password, under the same throttling as
    /// [`Authority::login`]: the API's tokens and the console's sessions both start here.
    pub async fn authenticate(
        &self,
        login: &str,
        password: &str,
        client: Option<IpAddr>,
    ) -> Outcome<user::Model> {
        let now = Utc::now();
        let account = (
            format!("login:{}", login.trim().to_lowercase()),
            self.policy(self.settings.login_max_failures),
        );
        let address = client.map(|ip| {
            (
                format!("ip:{ip}"),
                self.policy(self.settings.login_max_failures_per_address),
            )
        });
        let counters: Vec<(String, ThrottlePolicy)> =
            std::iter::once(account.clone()).chain(address).collect();
        let keys: Vec<String> = counters.iter().map(|(key, _)| key.clone()).collect();
        let stored = crud::login_throttles::counts(self.db, &keys).await?;
        let read: Vec<Option<FailureCount>> =
            keys.iter().map(|key| stored.get(key).copied()).collect();
        for ((_, policy), count) in counters.iter().zip(&read) {
            if let Some(wait) = count.as_ref().and_then(|c| policy.remaining(c, now)) {
                let retry_after = retry_after_seconds(wait);
                self.audit_sign_in(
                    None,
                    client,
                    "user.sign_in_throttled",
                    serde_json::json!({ "login": login.trim().to_lowercase(), "retry_after": retry_after }),
                )
                .await?;
                return Err(ServiceError::TooManyAttempts { retry_after });
            }
        }

        let user = crud::users::find_by_login(self.db, login).await?;
        let hash = user.as_ref().map(|user| user.hashed_password.as_str());
        let verified = self.passwords.verify(password, hash).await;
        let user = match user {
            Some(user) if verified => user,
            _ => {
                let now = Utc::now();
                for ((key, policy), count) in counters.iter().zip(&read) {
                    // Stale relative to the count read: a concurrent failure on another
                    // instance already moved the stored time past it, so it adds up.
                    let locked_for =
                        count.map_or(chrono::Duration::zero(), |c| policy.lock_after(c.failures));
                    let stale_before = now - locked_for - policy.window;
                    let failures =
                        crud::login_throttles::record_failure(self.db, key, now, stale_before)
                            .await?;
                    if failures == policy.max_failures {
                        tracing::warn!(
                            counter = key.split(':').next().unwrap_or_default(),
                            user_id = user.as_ref().map(|u| u.id),
                            "login locked after repeated failures"
                        );
                        if key == &account.0
                            && let Some(owner) = user.as_ref().filter(|u| u.is_active())
                        {
                            self.tell_owner_of_lock(owner, failures, policy.lock_after(failures))
                                .await?;
                        }
                    }
                }
                self.audit_sign_in(
                    user.as_ref().map(|u| u.id),
                    client,
                    "user.sign_in_failed",
                    serde_json::json!({ "login": login.trim().to_lowercase(), "reason": "bad credentials" }),
                )
                .await?;
                return Err(ServiceError::BadCredentials);
            }
        };
        if read[0].is_some() {
            crud::login_throttles::clear(self.db, &account.0).await?;
        }
        if !user.is_active() {
            self.audit_sign_in(
                Some(user.id),
                client,
                "user.sign_in_failed",
                serde_json::json!({ "login": login.trim().to_lowercase(), "reason": "inactive" }),
            )
            .await?;
            return Err(ServiceError::InactiveUser);
        }
        self.audit_sign_in(
            Some(user.id),
            client,
            "user.signed_in",
            serde_json::json!({}),
        )
        .await?;
        Ok(user)
    }

    /// A sign-in, refused or not, in the audit trail (the password never).
    async fn audit_sign_in(
        &self,
        user_id: Option<i32>,
        client: Option<IpAddr>,
        action: &'static str,
        detail: serde_json::Value,
    ) -> Result<(), sea_orm::DbErr> {
        crud::audit::record(
            self.db,
            crud::audit::AuditEvent {
                actor_id: user_id,
                address: client,
                action,
                object_type: "user",
                object_id: user_id.map(i64::from),
                configuration_id: None,
                detail,
            },
        )
        .await
    }

    /// Spends a refresh token for a new pair; a spent token presented again revokes its whole
    /// family (the theft signal).
    pub async fn refresh(&self, refresh_token: &str) -> Outcome<Token> {
        let stored =
            crud::refresh_tokens::find_by_hash(self.db, &hash_refresh_token(refresh_token))
                .await?
                .ok_or(ServiceError::Unauthenticated)?;
        if stored.used_at.is_some() || stored.revoked_at.is_some() {
            tracing::warn!(
                user_id = stored.user_id,
                "spent refresh token presented: revoking its family"
            );
            crud::refresh_tokens::revoke_family(self.db, &stored.family_id).await?;
            return Err(ServiceError::Unauthenticated);
        }
        if stored.expires_at <= Utc::now() {
            return Err(ServiceError::Unauthenticated);
        }
        if !crud::refresh_tokens::claim(self.db, stored.id).await? {
            // Someone spent it between our read and our write: the same theft signal.
            crud::refresh_tokens::revoke_family(self.db, &stored.family_id).await?;
            return Err(ServiceError::Unauthenticated);
        }
        match crud::users::find(self.db, stored.user_id).await? {
            Some(user) if user.is_active() => self.issue(&user, &stored.family_id).await,
            _ => Err(ServiceError::Unauthenticated),
        }
    }

    /// Revokes the token's family; silent whether or not the token was known.
    pub async fn logout(&self, refresh_token: &str) -> Outcome<()> {
        let hash = hash_refresh_token(refresh_token);
        if let Some(stored) = crud::refresh_tokens::find_by_hash(self.db, &hash).await? {
            crud::refresh_tokens::revoke_family(self.db, &stored.family_id).await?;
        }
        Ok(())
    }

    /// The owner of an account learns that it was locked, and how to reset the password.
    async fn tell_owner_of_lock(
        &self,
        owner: &user::Model,
        failures: u32,
        lock: chrono::Duration,
    ) -> Outcome<()> {
        let language = super::accounts::language_of(self.db, owner).await?;
        let lock_minutes = (lock.num_seconds() + 59) / 60;
        self.mailer
            .queue(
                self.db,
                &owner.email,
                language,
                MailTemplate::AccountLocked,
                json!({
                    "name": owner.full_name,
                    "email": owner.email,
                    "failures": failures,
                    "lock_minutes": lock_minutes,
                    "recovery_link": super::accounts::reset_page(self.settings),
                }),
            )
            .await?;
        self.mailer.wake();
        Ok(())
    }

    fn policy(&self, max_failures: u32) -> ThrottlePolicy {
        let duration =
            |d: std::time::Duration| chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX);
        ThrottlePolicy {
            max_failures,
            window: duration(self.settings.login_failure_window),
            base_lock: duration(self.settings.login_lock_base),
            max_lock: duration(self.settings.login_lock_max),
        }
    }

    async fn issue(&self, user: &user::Model, family: &str) -> Outcome<Token> {
        let user_id = user.id;
        let now = Utc::now();
        let ttl = self.settings.access_token_expire_minutes * 60;
        let acting_as = ActingAs {
            role: user.role,
            org: user.organization_id,
        };
        let access_token = self.keys.create_access_token(user_id, acting_as, now, ttl);
        let (refresh_token, refresh_hash) = new_refresh_token();
        let expires_at = now + Duration::days(self.settings.refresh_token_expire_days);
        crud::refresh_tokens::insert(self.db, user_id, family, refresh_hash, expires_at).await?;
        Ok(Token {
            access_token,
            token_type: "bearer".into(),
            expires_in: ttl,
            refresh_token,
        })
    }
}
