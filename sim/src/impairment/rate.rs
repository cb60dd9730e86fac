//! Rate limit: the link serialises frames at `bits_per_second` through a FIFO of at most `queue_bytes`; a frame
//! that does not fit behind the backlog is tail-dropped (a frame reaching an idle link is always sent). Sizes count the Ethernet frame without preamble, FCS
//! or inter-frame gap.

use super::{FrameInfo, Impairment, Verdict};
use rand_chacha::ChaCha8Rng;
use std::time::Duration;
use synack::Instant;

const NANOS_PER_SEC: u128 = 1_000_000_000;

#[derive(Clone, Debug)]
pub struct RateLimit {
    pub bits_per_second: u64,
    pub queue_bytes: usize,
    /// When the transmitter finishes the last accepted frame.
    busy_until: Instant,
}

impl RateLimit {
    pub fn new(bits_per_second: u64, queue_bytes: usize) -> RateLimit {
        RateLimit { bits_per_second: bits_per_second.max(1), queue_bytes, busy_until: Instant::ZERO }
    }

    fn bytes_in(&self, d: Duration) -> u128 {
        d.as_nanos() * u128::from(self.bits_per_second) / 8 / NANOS_PER_SEC
    }

    fn time_for(&self, bytes: usize) -> Duration {
        let nanos = (bytes as u128 * 8 * NANOS_PER_SEC).div_ceil(u128::from(self.bits_per_second));
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }
}

impl Impairment for RateLimit {
    fn name(&self) -> &'static str {
        "rate limit"
    }
    fn apply(&mut self, frame: &FrameInfo<'_>, _rng: &mut ChaCha8Rng) -> Verdict {
        let backlog = self.bytes_in(self.busy_until - frame.at);
        if backlog > 0 && backlog + frame.bytes.len() as u128 > self.queue_bytes as u128 {
            return Verdict::Drop("queue full");
        }
        let start = self.busy_until.max(frame.at);
        self.busy_until = start + self.time_for(frame.bytes.len());
        Verdict::Delay(self.busy_until - frame.at)
    }
}
