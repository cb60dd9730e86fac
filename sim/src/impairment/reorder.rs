//! Reordering: a frame is held back so that frames sent after it overtake it.

use super::{FrameInfo, Impairment, Verdict};
use crate::rng::chance;
use rand_chacha::ChaCha8Rng;
use std::time::Duration;

/// Holds each frame back by `hold` with probability `p`.
#[derive(Clone, Debug)]
pub struct Reorder {
    pub p: f64,
    pub hold: Duration,
}

impl Impairment for Reorder {
    fn name(&self) -> &'static str {
        "reorder"
    }
    fn apply(&mut self, _frame: &FrameInfo<'_>, rng: &mut ChaCha8Rng) -> Verdict {
        if chance(rng, self.p) {
            Verdict::Delay(self.hold)
        } else {
            Verdict::Pass
        }
    }
}
