//! Loss: independent (Bernoulli) and bursty (Gilbert-Elliott two-state Markov chain).

use super::{FrameInfo, Impairment, Verdict};
use crate::rng::chance;
use rand_chacha::ChaCha8Rng;
use std::time::Duration;
use synack::Instant;

/// Drops each frame independently with probability `p`.
#[derive(Clone, Debug)]
pub struct Bernoulli {
    pub p: f64,
}

impl Impairment for Bernoulli {
    fn name(&self) -> &'static str {
        "loss"
    }
    fn apply(&mut self, _frame: &FrameInfo<'_>, rng: &mut ChaCha8Rng) -> Verdict {
        if chance(rng, self.p) {
            Verdict::Drop("loss")
        } else {
            Verdict::Pass
        }
    }
}

/// Gilbert-Elliott burst loss. Before each frame the channel moves Good->Bad with probability `p` and Bad->Good
/// with probability `r`; the frame is then lost with probability `loss_good` or `loss_bad` of the new state.
/// With `loss_good = 0` and `loss_bad = 1`, bursts last `1/r` frames on average and the loss rate is
/// `p / (p + r)`.
///
/// The chain moves per frame, not per unit of time (like netem's `gemodel`), so a sender that sends little — a
/// TCP sender backing off, one retransmission per RTO — can stay in a burst for minutes. `max_duration` ends a
/// burst that long after it began, as a fade of the medium would end, whatever the traffic.
#[derive(Clone, Debug)]
pub struct GilbertElliott {
    pub p: f64,
    pub r: f64,
    pub loss_good: f64,
    pub loss_bad: f64,
    pub max_duration: Option<Duration>,
    bad: bool,
    bad_since: Instant,
}

impl GilbertElliott {
    pub fn new(p: f64, r: f64, loss_good: f64, loss_bad: f64) -> GilbertElliott {
        let (max_duration, bad, bad_since) = (None, false, Instant::ZERO);
        GilbertElliott { p, r, loss_good, loss_bad, max_duration, bad, bad_since }
    }

    /// Bursts end at the latest `max` after they began.
    pub fn with_max_duration(mut self, max: Option<Duration>) -> GilbertElliott {
        self.max_duration = max;
        self
    }
}

impl Impairment for GilbertElliott {
    fn name(&self) -> &'static str {
        "burst loss"
    }
    fn apply(&mut self, frame: &FrameInfo<'_>, rng: &mut ChaCha8Rng) -> Verdict {
        if frame.copy != 0 {
            return Verdict::Pass;
        }
        let flip = if self.bad { self.r } else { self.p };
        let was_bad = self.bad;
        if chance(rng, flip) {
            self.bad = !self.bad;
        }
        if self.bad && !was_bad {
            self.bad_since = frame.at;
        }
        if self.bad && self.max_duration.is_some_and(|max| frame.at - self.bad_since >= max) {
            self.bad = false;
        }
        let loss = if self.bad { self.loss_bad } else { self.loss_good };
        if chance(rng, loss) {
            Verdict::Drop("burst loss")
        } else {
            Verdict::Pass
        }
    }
}
