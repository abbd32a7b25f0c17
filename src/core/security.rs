//! Passwords (argon2id), access tokens (HS256 JWT) and refresh tokens (opaque, stored hashed).
use std::sync::Arc;
use std::time::Duration;

use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation, decode, encode};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::models::enums::Role;

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

thread_local! {
    /// The argon2 working memory of a hashing thread, kept between verifications. Allocated
    /// afresh, each login's 19 MiB came back from the system and faulted in again page by page
    /// under mimalloc (the argon2 rate with the server's allocator was 135/s against 146/s with
    /// glibc's, BENCHMARKS.md). Emptied when the thread goes idle ([`PasswordService`]).
    static WORKING_MEMORY: std::cell::RefCell<Vec<argon2::Block>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// [`verify_password_blocking`] in the calling thread's kept working memory: the same checks
/// as the argon2 crate's `verify_password` (algorithm, version and parameters read from the
/// stored hash, the output compared in constant time).
pub fn verify_password_in_kept_memory(password: &str, hash: &str) -> bool {
    use argon2::PasswordHash;
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm.as_str()) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(version) => version.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let blocks = params.block_count();
    let hasher = Argon2::new(algorithm, version, params);
    let mut computed = vec![0u8; expected.len()];
    WORKING_MEMORY.with_borrow_mut(|memory| {
        if memory.len() < blocks {
            memory.resize(blocks, argon2::Block::default());
        }
        hasher
            .hash_password_into_with_memory(
                password.as_bytes(),
                salt.as_ref(),
                &mut computed,
                &mut memory[..blocks],
            )
            .is_ok()
    }) && argon2::password_hash::phc::Output::new(&computed).is_ok_and(|output| &output == expected)
}

/// Gives the calling thread's kept argon2 memory back.
fn forget_working_memory() {
    WORKING_MEMORY.with_borrow_mut(|memory| *memory = Vec::new());
}

/// Runs argon2 on threads of its own at a lower CPU priority (nice 10), one per core. Alone,
/// a login storm has every core (argon2 is the whole cost of a login); beside other requests
/// the scheduler serves those first, so a storm slows logins instead of every route
/// (BENCHMARKS.md, the `storm` scenario). Jobs wait in a queue while all threads are busy.
#[derive(Clone)]
pub struct PasswordService {
    jobs: flume::Sender<Job>,
    /// Verified against when the user does not exist, so the response time does not tell
    /// an attacker which emails are registered.
    dummy_hash: Arc<str>,
}

type Job = Box<dyn FnOnce() + Send>;

/// A hashing thread that has had no job for this long returns its freed memory to the system.
const GIVE_BACK_AFTER: Duration = Duration::from_secs(1);

/// Niceness of the hashing threads: a tenth of a normal thread's CPU share when the cores are
/// contended (CFS weights 110 against 1024), all of it when they are not.
const HASHING_NICENESS: i32 = 10;

impl PasswordService {
    pub fn new() -> Self {
        let workers = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        let (jobs, queue) = flume::unbounded::<Job>();
        for n in 0..workers {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || {
                    lower_own_priority(HASHING_NICENESS);
                    // Ends when the last PasswordService is dropped. Waits without a timeout
                    // once the memory is given back: an idle thread is not woken.
                    let mut dirty = false;
                    loop {
                        let next = if dirty {
                            queue.recv_timeout(GIVE_BACK_AFTER)
                        } else {
                            queue
                                .recv()
                                .map_err(|_| flume::RecvTimeoutError::Disconnected)
                        };
                        match next {
                            Ok(job) => {
                                job();
                                dirty = true;
                            }
                            Err(flume::RecvTimeoutError::Timeout) => {
                                if std::mem::take(&mut dirty) {
                                    forget_working_memory();
                                    give_memory_back();
                                }
                            }
                            Err(flume::RecvTimeoutError::Disconnected) => return,
                        }
                    }
                })
                .expect("cannot start a password hashing thread");
        }
        PasswordService {
            jobs,
            dummy_hash: hash_password_blocking("condivisa dummy password, never valid").into(),
        }
    }

    async fn run<T: Send + 'static>(&self, job: impl FnOnce() -> T + Send + 'static) -> T {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = answer.send(job());
        });
        self.jobs
            .send(job)
            .expect("the hashing threads live as long as the service");
        answered.await.expect("argon2 job panicked")
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
            .run(move || verify_password_in_kept_memory(&password, &hash))
            .await;
        matches && real
    }
}

/// Each argon2 job allocates 19 MiB and frees it; mimalloc (the binary's allocator) keeps freed
/// memory in the thread's own heap until that thread allocates again, which an idle hashing
/// thread never does: after a login storm 38 MB stayed resident (BENCHMARKS.md, issue 13).
fn give_memory_back() {
    // SAFETY: mi_collect only walks and trims the calling thread's mimalloc heap.
    unsafe { libmimalloc_sys::mi_collect(true) }
}

/// Linux keeps a niceness per thread: this lowers the calling thread's only.
#[cfg(target_os = "linux")]
fn lower_own_priority(niceness: i32) {
    // SAFETY: plain system calls on the calling thread's own id, no memory is passed.
    let failed = unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, niceness) != 0
    };
    if failed {
        tracing::warn!("could not lower the priority of a password hashing thread");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_own_priority(_niceness: i32) {}

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
    /// The role and organisation the user had when the token was issued. Never trusted alone:
    /// a route that reads with it checks it against the user's row in its own statement
    /// (`crud::scope::still_acting`), and every other route loads the user. Absent from tokens
    /// issued before it existed, which take the load-first path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<ActingAs>,
}

/// What an access token claims its user acts as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActingAs {
    pub role: Role,
    pub org: Option<i32>,
}

/// A valid, unexpired access token's subject and claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccessToken {
    pub user_id: i32,
    pub acting_as: Option<ActingAs>,
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
        acting_as: ActingAs,
        now: DateTime<Utc>,
        ttl_seconds: i64,
    ) -> String {
        let claims = AccessClaims {
            sub: user_id.to_string(),
            iat: now.timestamp(),
            exp: now.timestamp() + ttl_seconds,
            typ: ACCESS_TOKEN_TYPE.to_string(),
            act: Some(acting_as),
        };
        encode(&Header::default(), &claims, &self.encoding).expect("HS256 signing cannot fail")
    }

    /// The subject and claim of a valid, unexpired access token. Only HS256 is accepted, so
    /// `alg: none` and algorithm-confusion tokens fail here.
    pub fn verify_access(&self, token: &str) -> Option<AccessToken> {
        let mut validation = Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        let data = decode::<AccessClaims>(token, &self.decoding, &validation).ok()?;
        if data.claims.typ != ACCESS_TOKEN_TYPE {
            return None;
        }
        Some(AccessToken {
            user_id: data.claims.sub.parse().ok()?,
            acting_as: data.claims.act,
        })
    }
}

/// 256 random bits, URL-safe: the secret of a token, a session or a form.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A fresh opaque refresh token and the hash under which it is stored.
pub fn new_refresh_token() -> (String, String) {
    let token = random_token();
    let hash = hash_refresh_token(&token);
    (token, hash)
}

/// Refresh tokens carry 256 random bits, so a fast hash is enough: there is nothing to brute-force.
pub fn hash_refresh_token(token: &str) -> String {
    format!("{:x}", Sha256::digest(token.as_bytes()))
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
    fn verifying_in_kept_memory_agrees_with_the_argon2_crate() {
        let hash = hash_password_blocking("correct horse");
        for _ in 0..2 {
            // Twice: the second runs in the memory the first left behind.
            assert!(verify_password_in_kept_memory("correct horse", &hash));
            assert!(!verify_password_in_kept_memory("wrong horse", &hash));
        }
        // Parameters are read from the stored hash, not assumed: a smaller one verifies too.
        let small = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8, 1, 1, None).unwrap(),
        )
        .hash_password(b"tiny")
        .unwrap()
        .to_string();
        assert!(verify_password_in_kept_memory("tiny", &small));
        assert!(!verify_password_in_kept_memory("tinY", &small));
        // A tampered output, a truncated hash, another algorithm, garbage: refused.
        let mut tampered = hash.clone();
        let last = tampered.pop().unwrap();
        tampered.push(if last == 'A' { 'B' } else { 'A' });
        assert!(!verify_password_in_kept_memory("correct horse", &tampered));
        assert!(!verify_password_in_kept_memory(
            "correct horse",
            &hash[..hash.len() - 10]
        ));
        let argon2i = hash.replacen("$argon2id$", "$argon2i$", 1);
        assert!(!verify_password_in_kept_memory("correct horse", &argon2i));
        assert!(!verify_password_in_kept_memory(
            "correct horse",
            "not a hash"
        ));
        forget_working_memory();
        assert!(verify_password_in_kept_memory("correct horse", &hash));
    }

    #[test]
    fn access_tokens_round_trip_and_expire() {
        let keys = JwtKeys::new("a-test-secret-that-is-long-enough-for-hs256");
        let now = Utc::now();
        let acting_as = ActingAs {
            role: Role::Vendor,
            org: Some(7),
        };
        let token = keys.create_access_token(42, acting_as, now, 60);
        assert_eq!(keys.verify_access(&token).map(|a| a.user_id), Some(42));
        assert_eq!(
            keys.verify_access(&token),
            Some(AccessToken {
                user_id: 42,
                acting_as: Some(acting_as)
            })
        );
        let expired =
            keys.create_access_token(42, acting_as, now - chrono::Duration::minutes(5), 60);
        assert_eq!(keys.verify_access(&expired), None);
        let other = JwtKeys::new("another-secret-that-is-long-enough-for-hs256");
        assert_eq!(other.verify_access(&token), None);
    }

    #[test]
    fn a_token_without_the_claim_still_names_its_user() {
        // Tokens issued before the role claim existed stay valid until they expire; they
        // take the load-the-user-first path.
        let keys = JwtKeys::new("a-test-secret-that-is-long-enough-for-hs256");
        let exp = Utc::now().timestamp() + 600;
        let claims = serde_json::json!({"sub": "5", "exp": exp, "iat": 0, "typ": "access"});
        let token = encode(&Header::default(), &claims, &keys.encoding).unwrap();
        assert_eq!(
            keys.verify_access(&token),
            Some(AccessToken {
                user_id: 5,
                acting_as: None
            })
        );
    }

    #[test]
    fn unsigned_tokens_are_rejected() {
        let keys = JwtKeys::new("a-test-secret-that-is-long-enough-for-hs256");
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let exp = Utc::now().timestamp() + 600;
        let payload = URL_SAFE_NO_PAD
            .encode(format!(r#"{{"sub":"1","exp":{exp},"iat":0,"typ":"access"}}"#).as_bytes());
        assert_eq!(keys.verify_access(&format!("{header}.{payload}.")), None);
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
