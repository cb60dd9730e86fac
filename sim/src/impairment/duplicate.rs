//! Duplication: the link delivers an original frame twice.

use super::{FrameInfo, Impairment, Verdict};
use crate::rng::chance;
use rand_chacha::ChaCha8Rng;

/// Duplicates each original frame with probability `p` (copies are never duplicated again).
#[derive(Clone, Debug)]
pub struct Duplicate {
    pub p: f64,
}

impl Impairment for Duplicate {
    fn name(&self) -> &'static str {
        "duplicate"
    }
    fn apply(&mut self, frame: &FrameInfo<'_>, rng: &mut ChaCha8Rng) -> Verdict {
        if frame.copy == 0 && chance(rng, self.p) {
            Verdict::Duplicate
        } else {
            Verdict::Pass
        }
    }
}
