//! TIME-WAIT (RFC 9293 §3.6.1): entering it, and the stack's bound on how many connections wait in it at once
//! (`TcpConfig::max_time_wait`, as Linux's `tcp_max_tw_buckets`). A connection that would enter it while the
//! bound is full is cut short: its close timer fires at once and ends it the way the end of TIME-WAIT would.

use super::seq::SeqNum;
use super::tcb::{Effects, Tcb};
use super::TcpState;
use crate::config::TcpConfig;
use crate::time::Instant;
use crate::wire::{TcpFlags, TcpRepr};

/// A connection's place in the stack's count of TIME-WAIT connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TimeWaitSlot {
    /// Not in TIME-WAIT.
    None,
    /// In TIME-WAIT and counted.
    Counted,
    /// Reached TIME-WAIT with the bound full: closes at once, never counted.
    Cut,
}

/// How many connections of a stack are in TIME-WAIT, against the bound.
#[derive(Debug)]
pub(crate) struct TimeWaitBound {
    count: usize,
    max: usize,
}

impl TimeWaitBound {
    pub(crate) fn new(max: usize) -> TimeWaitBound {
        TimeWaitBound { count: 0, max }
    }
}

/// How far above the old incarnation's SND.MAX a new one's ISS starts (Linux: `tw_snd_nxt + 65535 + 2`): beyond
/// anything the old connection sent or the peer's window could still hold of it.
const REUSE_ISS_GAP: usize = 65_535 + 2;

impl Tcb {
    /// RFC 1122 §4.2.2.13 and RFC 6191, as Linux does (`tcp_timewait_state_process`): a SYN for this four-tuple
    /// while in TIME-WAIT may open a new connection when its timestamp is newer than TS.Recent, or when its
    /// sequence number is above the old RCV.NXT and its timestamp (if any) is not older: either proves a new
    /// incarnation. A timestamp equal to TS.Recent is a client reusing its port within the clock tick of the
    /// old connection's last segment (Linux's millisecond timestamps make that common under load). One whose
    /// timestamp is older fails PAWS.
    /// Returns the ISS the new connection must use, above anything this incarnation sent; `None` leaves the
    /// SYN to RFC 9293 / RFC 5961 (a challenge ACK).
    pub(crate) fn reuse_for_syn(&self, syn: &TcpRepr<'_>) -> Option<SeqNum> {
        let bare_syn = syn.flags.contains(TcpFlags::SYN) && !syn.flags.intersects(TcpFlags::ACK | TcpFlags::RST);
        if self.state != TcpState::TimeWait || !bare_syn {
            return None;
        }
        let new_incarnation = match self.ts.syn_timestamp_order(syn) {
            Some(std::cmp::Ordering::Greater) => true,
            Some(std::cmp::Ordering::Less) => false,
            Some(std::cmp::Ordering::Equal) | None => syn.seq_number > self.rcv.nxt(),
        };
        new_incarnation.then(|| self.snd.max() + REUSE_ISS_GAP)
    }

    /// Enters TIME-WAIT: only the close timer runs.
    pub(crate) fn enter_time_wait(&mut self, now: Instant, cfg: &TcpConfig, fx: &mut Effects) {
        self.transition(TcpState::TimeWait);
        self.timers.stop_rtx();
        self.timers.pause_persist();
        self.timers.close_at(now + cfg.time_wait);
        self.notify_closed(fx);
    }

    /// Keeps `bound`'s count as the connection enters or leaves TIME-WAIT (`released`: it is being forgotten),
    /// after every input. Returns true when the connection was just cut short because the bound is full.
    pub(crate) fn account_time_wait(&mut self, bound: &mut TimeWaitBound, released: bool, now: Instant) -> bool {
        let in_time_wait = self.state == TcpState::TimeWait && !released;
        match (in_time_wait, self.time_wait_slot) {
            (true, TimeWaitSlot::None) if bound.count < bound.max => {
                bound.count += 1;
                self.time_wait_slot = TimeWaitSlot::Counted;
            }
            (true, TimeWaitSlot::None) => {
                self.time_wait_slot = TimeWaitSlot::Cut;
                self.timers.close_at(now);
                return true;
            }
            (false, TimeWaitSlot::Counted) => {
                bound.count -= 1;
                self.time_wait_slot = TimeWaitSlot::None;
            }
            // A retransmitted FIN restarts the TIME-WAIT timer; a connection cut short still ends now.
            (true, TimeWaitSlot::Cut) => self.timers.close_at(now),
            (false, TimeWaitSlot::Cut) => self.time_wait_slot = TimeWaitSlot::None,
            _ => {}
        }
        false
    }
}
