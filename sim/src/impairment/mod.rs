//! The per-direction impairment pipeline: small types, each with one job, each answering with a [`Verdict`].
//!
//! A frame entering a link direction passes, in this order:
//! 1. [`Partition`] (scheduled outage), [`Mtu`] (size limit), [`RateLimit`] (serialisation at the link rate
//!    through a bounded tail-drop queue): deterministic, driven by time and sizes only;
//! 2. the exact faults of the scenario ([`FaultScript`], "drop frame #3 client->server", "mark CE on #5");
//! 3. the random impairments, in a fixed order: [`GilbertElliott`] and [`Bernoulli`] loss, [`Corrupt`],
//!    [`Duplicate`], [`Reorder`], [`Jitter`], each drawing from the direction's own ChaCha8 stream;
//! 4. the link's base propagation delay.
//!
//! Every non-`Pass` verdict of steps 2 and 3 is recorded as a [`Fault`]. Replaying that list through a
//! [`FaultScript`] instead of the random stages reproduces the run exactly, without randomness; this is what
//! `shrink` minimises.

mod corrupt;
mod duplicate;

mod jitter;
mod loss;
mod mark;
mod mtu;
mod partition;
mod rate;
mod reorder;

pub use corrupt::{corruptible_bits, flip_bit, Corrupt};
pub use duplicate::Duplicate;
pub mod fault;
pub use fault::{Fault, FaultAction, FaultScript};
pub use jitter::Jitter;
pub use loss::{Bernoulli, GilbertElliott};
pub use mark::{mark_ce, CeMark};
pub use mtu::Mtu;
pub use partition::Partition;
pub use rate::RateLimit;
pub use reorder::Reorder;

use rand_chacha::ChaCha8Rng;
use std::fmt;
use std::time::Duration;
use synack::Instant;

/// What an impairment sees of a frame.
#[derive(Clone, Copy, Debug)]
pub struct FrameInfo<'a> {
    /// Ethernet frame bytes (as modified by earlier stages).
    pub bytes: &'a [u8],
    /// 1-based number of the frame among those sent in this direction.
    pub index: u64,
    /// 0 for the original, 1.. for duplicates made on the way.
    pub copy: u8,
    /// When the frame reaches this stage.
    pub at: Instant,
}

/// One impairment's decision about one frame copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Leave it alone.
    Pass,
    /// Drop it; the reason names the impairment ("loss", "partition", ...).
    Drop(&'static str),
    /// Deliver an extra copy (which continues through the remaining stages on its own).
    Duplicate,
    /// Flip one bit (numbered from the first bit of the frame, most significant bit first).
    Corrupt { bit: usize },
    /// Deliver it this much later.
    Delay(Duration),
    /// Mark it CE (RFC 3168) if it is an ECN-capable IPv4 datagram.
    MarkCe,
}

/// One small, composable decision maker on a link direction.
pub trait Impairment: fmt::Debug {
    /// Short name used in records and pcapng comments.
    fn name(&self) -> &'static str;
    /// Decides about one frame copy. Random impairments draw from `rng` only; deterministic ones ignore it.
    fn apply(&mut self, frame: &FrameInfo<'_>, rng: &mut ChaCha8Rng) -> Verdict;
}
