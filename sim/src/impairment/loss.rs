//! Loss: independent (Bernoulli) and bursty (Gilbert-Elliott two-state Markov chain).

use super::{FrameInfo, Impairment, Verdict};
use crate::rng::chance;
use rand_chacha::ChaCha8Rng;

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
#[derive(Clone, Debug)]
pub struct GilbertElliott {
    pub p: f64,
    pub r: f64,
    pub loss_good: f64,
    pub loss_bad: f64,
    bad: bool,
}

impl GilbertElliott {
    pub fn new(p: f64, r: f64, loss_good: f64, loss_bad: f64) -> GilbertElliott {
        GilbertElliott { p, r, loss_good, loss_bad, bad: false }
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
        if chance(rng, flip) {
            self.bad = !self.bad;
        }
        let loss = if self.bad { self.loss_bad } else { self.loss_good };
        if chance(rng, loss) {
            Verdict::Drop("burst loss")
        } else {
            Verdict::Pass
        }
    }
}
