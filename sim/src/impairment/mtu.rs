//! MTU: frames whose IP part exceeds the link MTU are dropped (links do not fragment).

use super::{FrameInfo, Impairment, Verdict};
use rand_chacha::ChaCha8Rng;

/// Ethernet II header length, not counted in the MTU.
const ETHERNET_HEADER: usize = 14;

/// Drops frames carrying more than `mtu` bytes after the Ethernet header.
#[derive(Clone, Debug)]
pub struct Mtu {
    pub mtu: usize,
}

impl Impairment for Mtu {
    fn name(&self) -> &'static str {
        "mtu"
    }
    fn apply(&mut self, frame: &FrameInfo<'_>, _rng: &mut ChaCha8Rng) -> Verdict {
        if frame.bytes.len().saturating_sub(ETHERNET_HEADER) > self.mtu {
            Verdict::Drop("mtu")
        } else {
            Verdict::Pass
        }
    }
}
