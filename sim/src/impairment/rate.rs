//! Rate limit: the link serialises frames at `bits_per_second` through a FIFO of at most `queue_bytes`; a frame
//! that does not fit behind the backlog is tail-dropped (a frame reaching an idle link is always sent). Sizes
//! count the Ethernet frame without preamble, FCS or inter-frame gap.
//!
//! Time on the transmitter is kept exactly, in units of 1/`bits_per_second` of a nanosecond (a frame of `b` bits
//! takes `b * 10^9` units), so a frame shorter than a nanosecond on a fast link costs its exact share, not a
//! whole nanosecond: rounding each frame up made a faster link build a longer backlog, and drop more, than a
//! slower one. Only the delivery time is rounded, up to the next nanosecond of the simulator's clock.

use super::{FrameInfo, Impairment, Verdict};
use rand_chacha::ChaCha8Rng;
use std::time::Duration;

const NANOS_PER_SEC: u128 = 1_000_000_000;

#[derive(Clone, Debug)]
pub struct RateLimit {
    pub bits_per_second: u64,
    pub queue_bytes: usize,
    /// When the transmitter finishes the last accepted frame, in units of 1/`bits_per_second` ns.
    busy_until: u128,
}

impl RateLimit {
    pub fn new(bits_per_second: u64, queue_bytes: usize) -> RateLimit {
        RateLimit { bits_per_second: bits_per_second.max(1), queue_bytes, busy_until: 0 }
    }

    /// A time in nanoseconds in the transmitter's units.
    fn units(&self, nanos: u64) -> u128 {
        u128::from(nanos).saturating_mul(u128::from(self.bits_per_second))
    }
}

impl Impairment for RateLimit {
    fn name(&self) -> &'static str {
        "rate limit"
    }
    fn apply(&mut self, frame: &FrameInfo<'_>, _rng: &mut ChaCha8Rng) -> Verdict {
        let now = self.units(frame.at.as_nanos());
        // The clock counts whole nanoseconds: frames stamped with the same nanosecond arrived somewhere within
        // it, and by its end the transmitter has sent a nanosecond's worth of bits more than at its start.
        // The queue is judged at that end, so frames that coalesce into one nanosecond on a fast link do not
        // count as a burst the link could not have drained.
        let judged = self.units(frame.at.as_nanos().saturating_add(1)) - 1;
        // Bytes still waiting to be sent: one unit of backlog time is 10^-9 bit.
        let backlog = self.busy_until.saturating_sub(judged) / NANOS_PER_SEC / 8;
        if backlog > 0 && backlog + frame.bytes.len() as u128 > self.queue_bytes as u128 {
            return Verdict::Drop("queue full");
        }
        let bits = frame.bytes.len() as u128 * 8;
        self.busy_until = self.busy_until.max(now).saturating_add(bits * NANOS_PER_SEC);
        let done = self.busy_until.div_ceil(u128::from(self.bits_per_second));
        let delay = done.saturating_sub(u128::from(frame.at.as_nanos()));
        Verdict::Delay(Duration::from_nanos(u64::try_from(delay).unwrap_or(u64::MAX)))
    }
}
