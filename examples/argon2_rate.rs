//! The argon2id rate this machine allows with the server's parameters and allocator, on all
//! cores: the ceiling for `POST /login/access-token` (each login verifies one hash).
//!
//! `cargo run --release --example argon2_rate [SECONDS]` prints verifications per second, first
//! as the argon2 crate's `verify_password` does it (a fresh 19 MiB block each time), then as the
//! server does it (`verify_password_in_kept_memory`: one block kept per thread).
use std::time::{Duration, Instant};

use condivisa::core::security::{
    hash_password_blocking, verify_password_blocking, verify_password_in_kept_memory,
};

/// The server's allocator (src/main.rs), so the figures are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn rate(label: &str, seconds: u64, verify: fn(&str, &str) -> bool) {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let hash = hash_password_blocking("a password of the benchmark");
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let counts: Vec<u64> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = 0u64;
                    while Instant::now() < deadline {
                        assert!(verify("a password of the benchmark", &hash));
                        done += 1;
                    }
                    done
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let elapsed = started.elapsed().as_secs_f64();
    let total: u64 = counts.iter().sum();
    println!(
        "RESULT argon2id m=19456 t=2 p=1 verify={label} threads={threads} verifications={total} seconds={elapsed:.1} rate={:.1}/s",
        total as f64 / elapsed
    );
}

fn main() {
    let seconds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    rate("fresh_memory", seconds, verify_password_blocking);
    rate("kept_memory", seconds, verify_password_in_kept_memory);
}
