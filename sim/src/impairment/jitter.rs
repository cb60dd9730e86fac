//! Jitter: a uniformly distributed extra delay per frame (which may reorder frames, as netem's does).

use super::{FrameInfo, Impairment, Verdict};
use crate::rng::below;
use rand_chacha::ChaCha8Rng;
use std::time::Duration;

/// Adds a delay drawn uniformly from [0, `max`] (nanosecond granularity).
#[derive(Clone, Debug)]
pub struct Jitter {
    pub max: Duration,
}

impl Impairment for Jitter {
    fn name(&self) -> &'static str {
        "jitter"
    }
    fn apply(&mut self, _frame: &FrameInfo<'_>, rng: &mut ChaCha8Rng) -> Verdict {
        let max = u64::try_from(self.max.as_nanos()).unwrap_or(u64::MAX);
        if max == 0 {
            return Verdict::Pass;
        }
        match below(rng, max.saturating_add(1)) {
            0 => Verdict::Pass,
            ns => Verdict::Delay(Duration::from_nanos(ns)),
        }
    }
}
