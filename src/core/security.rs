//! Passwords (argon2id), access tokens (HS256 JWT) and refresh tokens (opaque, stored hashed).
use std::sync::Arc;

use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation, decode, encode};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

/// OWASP's recommended argon2id parameters: 19 MiB, 2 iterations, 1 lane.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash_password_blocking(password: &str) -> String {
    argon2()
        .hash_password(password.as_bytes())
        .expect("argon2 hashing cannot fail with valid parameters")
        .to_string()
}

pub fn verify_password_blocking(password: &str, hash: &str) -> bool {
    argon2().verify_password(password.as_bytes(), hash).is_ok()
}

/// Runs argon2 on the blocking pool with bounded concurrency, so that a login storm queues here
/// instead of starving the async executor and every other request.
#[derive(Clone)]
pub struct PasswordService {
    permits: Arc<Semaphore>,
    /// Verified against when the user does not exist, so the response time does not tell
    /// an attacker which emails are registered.
    dummy_hash: Arc<str>,
}

impl PasswordService {
    pub fn new() -> Self {
        let workers = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        let dummy_hash = hash_password_blocking("condivisa dummy password, never valid");
        PasswordService {
            permits: Arc::new(Semaphore::new(workers)),
            dummy_hash: dummy_hash.into(),
        }
    }

    async fn run<T: Send + 'static>(&self, job: impl FnOnce() -> T + Send + 'static) -> T {
        let _permit = self
            .permits
            .acquire()
            .await
            .expect("the semaphore is never closed");
        tokio::task::spawn_blocking(job)
            .await
            .expect("argon2 job panicked")
    }

    pub async fn hash(&self, password: &str) -> String {
        let password = password.to_owned();
        self.run(move || hash_password_blocking(&password)).await
    }

    /// Verifies against `hash`, or against the dummy hash when there is none.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> bool {
        let password = password.to_owned();
        let (hash, real) = match hash {
            Some(hash) => (hash.to_owned(), true),
            None => (self.dummy_hash.to_string(), false),
        };
        let matches = self
            .run(move || verify_password_blocking(&password, &hash))
            .await;
        matches && real
    }
}

impl Default for PasswordService {
    fn default() -> Self {
        Self::new()
    }
}

const ACCESS_TOKEN_TYPE: &str = "access";

#[derive(Debug, Serialize, Deserialize)]
pub struct AccessClaims {
    pub sub: String,
    pub exp: i64,
    pub iat: i64,
    /// Distinguishes access tokens from any other token we might sign with the same key.
    pub typ: String,
}

#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl JwtKeys {
    pub fn new(secret: &str) -> Self {
        JwtKeys {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
        }
    }

    pub fn create_access_token(
        &self,
        user_id: i32,
        now: DateTime<Utc>,
        ttl_seconds: i64,
    ) -> String {
        let claims = AccessClaims {
            sub: user_id.to_string(),
            iat: now.timestamp(),
            exp: now.timestamp() + ttl_seconds,
            typ: ACCESS_TOKEN_TYPE.to_string(),
        };
        encode(&Header::default(), &claims, &self.encoding).expect("HS256 signing cannot fail")
    }

    /// The user id of a valid, unexpired access token. Only HS256 is accepted, so `alg: none`
    /// and algorithm-confusion tokens fail here.
    pub fn verify_access_token(&self, token: &str) -> Option<i32> {
        let mut validation = Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        let data = decode::<AccessClaims>(token, &self.decoding, &validation).ok()?;
        if data.claims.typ != ACCESS_TOKEN_TYPE {
            return None;
        }
        data.claims.sub.parse().ok()
    }
}

/// A fresh opaque refresh token and the hash under which it is stored.
pub fn new_refresh_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_refresh_token(&token);
    (token, hash)
}

/// Refresh tokens carry 256 random bits, so a fast hash is enough: there is nothing to brute-force.
pub fn hash_refresh_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A random secret for signing tokens, for the embedded default set-up.
pub fn generate_secret_key() -> String {
    let mut bytes = [0u8; 48];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_hashes_are_argon2id_and_verify() {
        let hash = hash_password_blocking("correct horse");
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify_password_blocking("correct horse", &hash));
        assert!(!verify_password_blocking("wrong horse", &hash));
        assert!(!verify_password_blocking("correct horse", "not a hash"));
    }

    #[test]
    fn access_tokens_round_trip_and_expire() {
        let keys = JwtKeys::new("a-test-secret-that-is-long-enough-for-hs256");
        let now = Utc::now();
        let token = keys.create_access_token(42, now, 60);
        assert_eq!(keys.verify_access_token(&token), Some(42));
        let expired = keys.create_access_token(42, now - chrono::Duration::minutes(5), 60);
        assert_eq!(keys.verify_access_token(&expired), None);
        let other = JwtKeys::new("another-secret-that-is-long-enough-for-hs256");
        assert_eq!(other.verify_access_token(&token), None);
    }

    #[test]
    fn unsigned_tokens_are_rejected() {
        let keys = JwtKeys::new("a-test-secret-that-is-long-enough-for-hs256");
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let exp = Utc::now().timestamp() + 600;
        let payload = URL_SAFE_NO_PAD
            .encode(format!(r#"{{"sub":"1","exp":{exp},"iat":0,"typ":"access"}}"#).as_bytes());
        assert_eq!(
            keys.verify_access_token(&format!("{header}.{payload}.")),
            None
        );
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let (a, hash_a) = new_refresh_token();
        let (b, _) = new_refresh_token();
        assert_ne!(a, b);
        assert_eq!(hash_refresh_token(&a), hash_a);
        assert_eq!(hash_a.len(), 64);
    }
}
