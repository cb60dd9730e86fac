//! Partition: while the link is down (between scheduled `partition` and `heal` events) every frame is lost.

use super::{FrameInfo, Impairment, Verdict};
use rand_chacha::ChaCha8Rng;

/// Drops everything while `down`.
#[derive(Clone, Debug, Default)]
pub struct Partition {
    pub down: bool,
}

impl Impairment for Partition {
    fn name(&self) -> &'static str {
        "partition"
    }
    fn apply(&mut self, _frame: &FrameInfo<'_>, _rng: &mut ChaCha8Rng) -> Verdict {
        if self.down {
            Verdict::Drop("partition")
        } else {
            Verdict::Pass
        }
    }
}
