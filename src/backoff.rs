//! The one backoff policy: exponential steps from a base, capped, with optional jitter.
//! Failing sources, failed posts and failed edits all wait by it.

use std::time::Duration;

/// `base`, doubled for each failure after the first, capped at `cap` (`failures` 0 or 1 → `base`).
pub fn exponential(base: Duration, failures: u32, cap: Duration) -> Duration {
    let factor = 1u32 << failures.saturating_sub(1).min(20);
    base.saturating_mul(factor).min(cap)
}

/// `d` spread by ±10 %, so a backlog does not retry in lockstep.
pub fn jittered(d: Duration) -> Duration {
    let spread = d / 5;
    d.saturating_sub(d / 10) + spread.mul_f64(fastrand::f64())
}

/// Delay before retrying a post or an edit that failed `attempts` times: 1, 2, 4 … minutes,
/// capped at 6 h, with jitter.
pub fn delivery(attempts: u32) -> Duration {
    jittered(exponential(
        Duration::from_secs(60),
        attempts,
        Duration::from_secs(6 * 3600),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_double_and_stop_at_the_cap() {
        let min = Duration::from_secs(60);
        let cap = Duration::from_secs(600);
        assert_eq!(exponential(min, 0, cap), min);
        assert_eq!(exponential(min, 1, cap), min);
        assert_eq!(exponential(min, 3, cap), min * 4);
        assert_eq!(exponential(min, 40, cap), cap);
        assert_eq!(exponential(Duration::MAX, 40, cap), cap);
    }

    #[test]
    fn jitter_stays_within_ten_percent() {
        for _ in 0..1000 {
            let d = jittered(Duration::from_secs(100)).as_secs_f64();
            assert!((90.0..=110.0).contains(&d), "{d}");
        }
        let b1 = delivery(1).as_secs();
        let b3 = delivery(3).as_secs();
        assert!((54..=66).contains(&b1), "{b1}");
        assert!((216..=264).contains(&b3), "{b3}");
        assert!(delivery(30) <= Duration::from_secs(6 * 3600 * 11 / 10));
    }
}
