//! Egress queue disciplines of switch and router ports: what a port does with a frame it cannot send at once
//! (tail drop, RED, CoDel, FQ-CoDel), with ECN marking instead of dropping where the discipline signals
//! congestion and the packet is ECN-capable (RFC 3168).
//!
//! A discipline only orders and sheds frames; the port's transmitter ([`crate::node::Egress`]) asks it for
//! the next frame whenever the wire is free, at the port's rate. Everything is deterministic: RED draws from
//! the port's seeded ChaCha8 stream, FQ-CoDel hashes flows with a seed derived from the scenario's.

mod codel;
mod fifo;
mod fq_codel;
mod red;
pub mod stats;
mod tail_drop;

pub use codel::{CoDel, CoDelParams};
pub use fifo::{Fifo, Queued};
pub use fq_codel::FqCoDel;
pub use red::{Red, RedParams};
pub use stats::QueueStats;
pub use tail_drop::TailDrop;

use crate::impairment::{mark_ce, CeMark};
use rand_chacha::ChaCha8Rng;
use std::fmt;
use synack::Instant;

/// How much a queue may hold; a frame that would exceed either bound is not taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub bytes: usize,
    pub packets: usize,
}

impl Limit {
    pub fn admits(&self, fifo_bytes: usize, fifo_packets: usize, len: usize) -> bool {
        fifo_bytes + len <= self.bytes && fifo_packets < self.packets
    }
}

/// What a discipline needs from its port besides the frame: the clock, the port's random stream, whether
/// to mark ECN-capable packets instead of dropping them, and the counters to bump.
#[derive(Debug)]
pub struct QueueCx<'a> {
    pub now: Instant,
    pub rng: &'a mut ChaCha8Rng,
    pub ecn: bool,
    pub stats: &'a mut QueueStats,
}

impl QueueCx<'_> {
    /// Signals congestion on `frame`: marks it CE and returns true if ECN is on and the frame is
    /// ECN-capable (the frame goes on); otherwise counts a drop for `why` and returns false (the caller
    /// discards it).
    pub fn signal(&mut self, frame: &mut Queued, why: &'static str) -> bool {
        if self.ecn {
            match mark_ce(&mut frame.bytes) {
                CeMark::Marked => {
                    self.stats.marked += 1;
                    return true;
                }
                CeMark::AlreadyCe => return true,
                CeMark::NotEct => {}
            }
        }
        self.stats.drop(why);
        false
    }
}

/// A queueing discipline.
pub trait Discipline: fmt::Debug {
    /// Takes `frame`, or gives it back when it drops it on arrival (after counting why in `cx.stats`).
    fn enqueue(&mut self, frame: Queued, cx: &mut QueueCx<'_>) -> Result<(), Queued>;
    /// The next frame to send, if any; frames it drops on the way are counted in `cx.stats`.
    fn dequeue(&mut self, cx: &mut QueueCx<'_>) -> Option<Queued>;
    /// Bytes and frames waiting.
    fn backlog(&self) -> (usize, usize);
    /// `tail_drop`, `red`, `codel` or `fq_codel`.
    fn name(&self) -> &'static str;
}
