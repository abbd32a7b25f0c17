//! When a login is refused for a while after failed attempts: the arithmetic, no storage.
//!
//! A counter (per account, per client address) counts failures. From `max_failures` on, each
//! further failure doubles the lock, from `base_lock` up to `max_lock`. A counter whose last
//! lock ended more than `window` ago starts again from one: a few typos a day never lock.
use chrono::{DateTime, Duration, Utc};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThrottlePolicy {
    pub max_failures: u32,
    pub window: Duration,
    pub base_lock: Duration,
    pub max_lock: Duration,
}

/// A counter as stored: failures so far and the time of the last one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FailureCount {
    pub failures: u32,
    pub last_failure_at: DateTime<Utc>,
}

impl ThrottlePolicy {
    /// How long the lock after `failures` failures lasts (zero below the threshold).
    pub fn lock_after(&self, failures: u32) -> Duration {
        if failures < self.max_failures {
            return Duration::zero();
        }
        let doublings = (failures - self.max_failures).min(30);
        let lock = self.base_lock * 2i32.pow(doublings);
        lock.min(self.max_lock)
    }

    /// When the counter's current lock ends (its last failure if it is not locked).
    fn lock_end(&self, count: &FailureCount) -> DateTime<Utc> {
        count.last_failure_at + self.lock_after(count.failures)
    }

    /// How long logins on this counter are still refused, if they are.
    pub fn remaining(&self, count: &FailureCount, now: DateTime<Utc>) -> Option<Duration> {
        let end = self.lock_end(count);
        (end > now && count.failures >= self.max_failures).then(|| end - now)
    }

    /// Whether a new failure starts the count again rather than adding to it.
    pub fn is_stale(&self, count: &FailureCount, now: DateTime<Utc>) -> bool {
        now > self.lock_end(count) + self.window
    }
}

/// `Retry-After` in whole seconds, never 0 while locked.
pub fn retry_after_seconds(remaining: Duration) -> i64 {
    let millis = remaining.num_milliseconds().max(1);
    (millis + 999) / 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> ThrottlePolicy {
        ThrottlePolicy {
            max_failures: 5,
            window: Duration::minutes(15),
            base_lock: Duration::seconds(30),
            max_lock: Duration::hours(1),
        }
    }

    #[test]
    fn the_lock_starts_at_the_threshold_and_doubles_up_to_the_cap() {
        let p = policy();
        assert_eq!(p.lock_after(4), Duration::zero());
        assert_eq!(p.lock_after(5), Duration::seconds(30));
        assert_eq!(p.lock_after(6), Duration::seconds(60));
        assert_eq!(p.lock_after(7), Duration::seconds(120));
        assert_eq!(p.lock_after(12), Duration::hours(1));
        assert_eq!(p.lock_after(u32::MAX), Duration::hours(1));
    }

    #[test]
    fn remaining_and_staleness() {
        let p = policy();
        let t0 = DateTime::parse_from_rfc3339("2026-12-04T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let four = FailureCount {
            failures: 4,
            last_failure_at: t0,
        };
        assert_eq!(p.remaining(&four, t0), None);
        let five = FailureCount {
            failures: 5,
            last_failure_at: t0,
        };
        assert_eq!(
            p.remaining(&five, t0 + Duration::seconds(10)),
            Some(Duration::seconds(20))
        );
        assert_eq!(p.remaining(&five, t0 + Duration::seconds(30)), None);
        // Fresh until the window has passed after the lock's end.
        assert!(!p.is_stale(&five, t0 + Duration::minutes(15)));
        assert!(p.is_stale(&five, t0 + Duration::minutes(16)));
        assert!(p.is_stale(&four, t0 + Duration::minutes(16)));
        assert_eq!(retry_after_seconds(Duration::milliseconds(1)), 1);
        assert_eq!(retry_after_seconds(Duration::milliseconds(20_001)), 21);
    }
}
