//! A token bucket in integer arithmetic (no floats, so every run counts the same).

use crate::config::RateLimit;
use crate::time::Instant;

/// Units per token: one token is earned per `1e9 / per_second` nanoseconds.
const UNIT: u64 = 1_000_000_000;

#[derive(Debug)]
pub(crate) struct TokenBucket {
    limit: RateLimit,
    /// Tokens scaled by `UNIT`.
    credit: u64,
    last: Instant,
}

impl TokenBucket {
    /// Starts full.
    pub(crate) fn new(limit: RateLimit) -> TokenBucket {
        TokenBucket { limit, credit: u64::from(limit.burst).saturating_mul(UNIT), last: Instant::ZERO }
    }

    /// Takes one token if available.
    pub(crate) fn try_take(&mut self, now: Instant) -> bool {
        let cap = u64::from(self.limit.burst).saturating_mul(UNIT);
        let elapsed = now.as_nanos().saturating_sub(self.last.as_nanos());
        self.last = self.last.max(now);
        let earned = elapsed.saturating_mul(u64::from(self.limit.per_second));
        self.credit = self.credit.saturating_add(earned).min(cap);
        if self.credit >= UNIT {
            self.credit -= UNIT;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_steady_rate() {
        let mut b = TokenBucket::new(RateLimit { per_second: 10, burst: 3 });
        let t0 = Instant::from_secs(1);
        assert!((0..3).all(|_| b.try_take(t0)));
        assert!(!b.try_take(t0));
        assert!(!b.try_take(Instant::from_millis(1099)));
        assert!(b.try_take(Instant::from_millis(1100)));
        assert!(!b.try_take(Instant::from_millis(1100)));
        // A long quiet period refills only up to the burst.
        let later = Instant::from_secs(100);
        assert_eq!((0..10).filter(|_| b.try_take(later)).count(), 3);
    }
}
