//! Congestion control behind a trait, with CUBIC (RFC 9438, the default) and NewReno (RFC 5681 + RFC 6582) built in.
//!
//! The connection decides *when* something happened (new ACK, third duplicate ACK, partial ACK, timeout, ECN
//! echo); the algorithm decides what that does to the congestion window. An application can bring its own:
//! implement [`CongestionControl`] and a [`CongestionFactory`] that builds one per connection, then install it
//! for every new connection of a stack (`TcpConfig::congestion = CongestionAlgorithm::Custom(..)`) or for one
//! connection (`Command::TcpSetCongestion`).
//!
//! The built-in algorithms share slow start (`slow_start` here), with HyStart++ (RFC 9406, `hystart.rs`) in the
//! first one unless `TcpConfig::hystart` is off. A custom algorithm can use the same: keep a [`HyStart`] and
//! call [`HyStart::slow_start`].

use super::seq::SeqNum;
use super::tcb::Tcb;
use crate::time::Instant;
use core::fmt;
use core::time::Duration;
use std::sync::Arc;

pub use super::cubic::Cubic;
pub use super::hystart::{HyStart, HyStartPhase};
pub use super::newreno::NewReno;

/// An acknowledgement of new data outside fast recovery, as an algorithm sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AckSample {
    /// Bytes newly acknowledged.
    pub acked: usize,
    /// Bytes a full segment carries.
    pub mss: usize,
    /// When the ACK arrived.
    pub now: Instant,
    /// The connection's smoothed round-trip time, once measured.
    pub srtt: Option<Duration>,
    /// The round trip this ACK measured, if it measured one: from the timestamp echo (RFC 7323 §4.1, every
    /// ACK when timestamps are in use) or the segment timed for RFC 6298. Unsmoothed, for delay-based
    /// decisions such as HyStart++'s.
    pub rtt: Option<Duration>,
    /// The acknowledgement number (SND.UNA from now on).
    pub ack: SeqNum,
    /// The highest sequence number sent so far (SND.NXT; after a timeout rewound SND.NXT, the highest it
    /// reached): HyStart++ ends a round when this, as it stood at the round's start, is acknowledged.
    pub snd_max: SeqNum,
    /// The congestion window, not the application or the peer's window, limited sending in the current window
    /// of data; in slow start, also while the window is under twice the largest flight of that window (Linux's
    /// `tcp_is_cwnd_limited`). When false the window was not used, and RFC 9438 §5.8 (RFC 7661 for Reno) says
    /// not to grow it: the built-in algorithms leave it as it is, so a window earned by nothing is never spent
    /// later as a line-rate burst.
    pub cwnd_limited: bool,
}

/// A congestion control algorithm for one connection. All sizes are in bytes.
pub trait CongestionControl: fmt::Debug + Send {
    fn name(&self) -> &'static str;
    /// The congestion window.
    fn cwnd(&self) -> usize;
    /// The slow start threshold.
    fn ssthresh(&self) -> usize;
    /// New data was acknowledged outside fast recovery.
    fn on_ack(&mut self, ack: &AckSample);
    /// The third duplicate ACK: fast retransmit and enter fast recovery with `flight` bytes outstanding.
    fn on_enter_recovery(&mut self, flight: usize, mss: usize);
    /// A further duplicate ACK during fast recovery: a segment has left the network.
    fn on_recovery_dup_ack(&mut self, mss: usize);
    /// An ACK during recovery that acknowledges some but not all data outstanding at its start.
    fn on_partial_ack(&mut self, acked: usize, mss: usize);
    /// The ACK that ends fast recovery; `flight` bounds the window (RFC 6582 §3.2 step 6: FlightSize + MSS).
    /// After SACK recovery the stack passes ssthresh, so the window becomes ssthresh (RFC 6937 §3, Linux's
    /// `tcp_end_cwnd_reduction`): PRR already brought the flight down to it.
    fn on_exit_recovery(&mut self, flight: usize, mss: usize);
    /// The retransmission timer expired.
    fn on_timeout(&mut self, flight: usize, mss: usize);
    /// The peer echoed a congestion mark (RFC 3168 §6.1.2: an ACK with ECE), with `flight` bytes outstanding:
    /// reduce the window as for a loss, but nothing is lost and nothing is retransmitted. The connection calls
    /// it at most once per window of data, never during fast recovery. By default the algorithm enters fast
    /// recovery and leaves it at once, so its multiplicative decrease applies (NewReno halves, CUBIC keeps
    /// β = 0.7 of the window) and the window becomes the new ssthresh, or less if less is in flight.
    fn on_ecn(&mut self, flight: usize, mss: usize) {
        self.on_enter_recovery(flight, mss);
        self.on_exit_recovery(flight, mss);
    }
    /// The connection switched to this algorithm mid-way (`Command::TcpSetCongestion`): take over the window
    /// the previous one had reached. By default the new algorithm keeps its own initial window.
    fn resume(&mut self, cwnd: usize, ssthresh: usize) {
        let _ = (cwnd, ssthresh);
    }
}

/// Builds a congestion controller for each new connection (or for one that switches to it).
pub trait CongestionFactory: fmt::Debug + Send + Sync {
    /// A controller for a connection whose segments carry `mss` bytes.
    fn build(&self, mss: usize) -> Box<dyn CongestionControl>;
}

/// Which algorithm a connection uses.
#[derive(Clone, Debug, Default)]
pub enum CongestionAlgorithm {
    /// RFC 5681 + RFC 6582.
    NewReno,
    /// RFC 9438: the default, as on Linux.
    #[default]
    Cubic,
    /// The application's own (see the module docs).
    Custom(Arc<dyn CongestionFactory>),
}

impl PartialEq for CongestionAlgorithm {
    /// Built-ins by name, custom ones by identity (the same installed factory).
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (CongestionAlgorithm::NewReno, CongestionAlgorithm::NewReno) => true,
            (CongestionAlgorithm::Cubic, CongestionAlgorithm::Cubic) => true,
            (CongestionAlgorithm::Custom(a), CongestionAlgorithm::Custom(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Eq for CongestionAlgorithm {}

impl CongestionAlgorithm {
    /// A controller for a connection whose segments carry `mss` bytes. `hystart` (`TcpConfig::hystart`) applies
    /// to the built-in algorithms; a custom one decides for itself.
    pub(crate) fn build(&self, mss: usize, hystart: bool) -> Controller {
        match self {
            CongestionAlgorithm::NewReno => Controller::NewReno(NewReno::new(mss).with_hystart(hystart)),
            CongestionAlgorithm::Cubic => Controller::Cubic(Cubic::new(mss).with_hystart(hystart)),
            CongestionAlgorithm::Custom(factory) => Controller::Custom(factory.build(mss), Arc::clone(factory)),
        }
    }
}

/// A connection's congestion controller: a built-in algorithm kept inline in the connection (no allocation
/// per connection, none when the handshake rebuilds it for the MSS agreed), the application's own boxed.
/// Used through `Deref` as any [`CongestionControl`].
#[derive(Debug)]
pub(crate) enum Controller {
    NewReno(NewReno),
    Cubic(Cubic),
    /// The application's controller, and the factory that builds it again (for the MSS a handshake agrees).
    Custom(Box<dyn CongestionControl>, Arc<dyn CongestionFactory>),
}

impl Controller {
    /// The algorithm this controller runs: what builds it again for a new MSS.
    pub(crate) fn algorithm(&self) -> CongestionAlgorithm {
        match self {
            Controller::NewReno(_) => CongestionAlgorithm::NewReno,
            Controller::Cubic(_) => CongestionAlgorithm::Cubic,
            Controller::Custom(_, factory) => CongestionAlgorithm::Custom(Arc::clone(factory)),
        }
    }
}

impl core::ops::Deref for Controller {
    type Target = dyn CongestionControl;
    fn deref(&self) -> &(dyn CongestionControl + 'static) {
        match self {
            Controller::NewReno(c) => c,
            Controller::Cubic(c) => c,
            Controller::Custom(c, _) => &**c,
        }
    }
}

impl core::ops::DerefMut for Controller {
    fn deref_mut(&mut self) -> &mut (dyn CongestionControl + 'static) {
        match self {
            Controller::NewReno(c) => c,
            Controller::Cubic(c) => c,
            Controller::Custom(c, _) => &mut **c,
        }
    }
}

impl Tcb {
    /// What the congestion controller hears of an ACK of `acked` new bytes up to `ack`, arriving at `now`, which
    /// measured the round trip `rtt` (`Tcb::sample_rtt`).
    pub(crate) fn ack_sample(&self, ack: SeqNum, acked: usize, rtt: Option<Duration>, now: Instant) -> AckSample {
        let cwnd_limited = self.window_use.cwnd_limited(self.cc.cwnd(), self.cc.ssthresh());
        AckSample {
            acked,
            mss: self.opts.mss(),
            now,
            srtt: self.rtt.srtt(),
            rtt,
            ack,
            snd_max: self.snd.max(),
            cwnd_limited,
        }
    }
}

/// How much of the congestion window the connection used in its current window of data, as Linux's
/// `tcp_cwnd_validate` keeps it: whether the window ever stopped sending, and the largest flight. A window of
/// data ends when everything sent at its start is acknowledged; the next send starts the next one.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WindowUse {
    /// The largest flight in bytes (low 31 bits: a flight is within the peer's window, at most 65,535 << 14),
    /// and in the top bit whether the congestion window limited sending.
    peak: u32,
    /// The window of data ends when SND.UNA reaches this (Linux's `cwnd_usage_seq`).
    end: SeqNum,
}

impl WindowUse {
    const LIMITED: u32 = 1 << 31;

    pub(crate) fn new(iss: SeqNum) -> WindowUse {
        WindowUse { peak: 0, end: iss }
    }

    fn limited(&self) -> bool {
        self.peak & Self::LIMITED != 0
    }

    fn peak_flight(&self) -> usize {
        (self.peak & !Self::LIMITED) as usize
    }

    /// A round of sending ended with `flight` bytes out, from SND.UNA `una` to SND.NXT `nxt`; `limited`: the
    /// congestion window has no room for another full segment. A new window of data starts when the last one
    /// was acknowledged or the window limited this round; otherwise only a larger flight is remembered.
    pub(crate) fn on_sent(&mut self, limited: bool, flight: usize, una: SeqNum, nxt: SeqNum) {
        if una >= self.end || limited || (!self.limited() && flight > self.peak_flight()) {
            let flight = flight.min((Self::LIMITED - 1) as usize) as u32;
            self.peak = flight | if limited { Self::LIMITED } else { 0 };
            self.end = nxt;
        }
    }

    /// Linux's `tcp_is_cwnd_limited`: the window limited sending in the current window of data, or, in slow
    /// start (`cwnd` below `ssthresh`), it is still under twice the largest flight (slow start doubles what
    /// was actually sent).
    pub(crate) fn cwnd_limited(&self, cwnd: usize, ssthresh: usize) -> bool {
        self.limited() || (cwnd < ssthresh && cwnd < 2 * self.peak_flight())
    }
}

/// RFC 6928 §2 initial window: ten segments, capped at 14,600 bytes unless that is under two segments.
pub(crate) fn initial_window(mss: usize) -> usize {
    (10 * mss).min((2 * mss).max(14_600))
}

/// Slow start, shared by the built-in algorithms: HyStart++ when the algorithm keeps its state (see
/// [`HyStart::slow_start`]), the standard one otherwise. Returns what is left of the acknowledged bytes for
/// congestion avoidance, or `None` when slow start took all of them.
pub(crate) fn slow_start(
    cwnd: &mut usize,
    ssthresh: &mut usize,
    hystart: Option<&mut HyStart>,
    ack: &AckSample,
) -> Option<usize> {
    match hystart {
        Some(h) => h.slow_start(cwnd, ssthresh, ack),
        None => standard_slow_start(cwnd, *ssthresh, ack.acked),
    }
}

/// Standard slow start: every newly acknowledged byte grows `cwnd`, as Linux counts every segment (not at most
/// RFC 3465's L = 2 per ACK: with stretch ACKs from a batching receiver or GRO that limit makes slow start
/// linear), up to `ssthresh`. Returns what is left of `acked` for congestion avoidance, or `None` when slow
/// start took all of it.
pub(crate) fn standard_slow_start(cwnd: &mut usize, ssthresh: usize, acked: usize) -> Option<usize> {
    if *cwnd >= ssthresh {
        return Some(acked);
    }
    let grow = acked.min(ssthresh - *cwnd);
    *cwnd += grow;
    (grow < acked).then_some(acked - grow)
}

/// RFC 6582 §3.2 step 5: a partial ACK deflates the window by what it acknowledged, and adds back one segment
/// if that was at least one.
pub(crate) fn deflate_on_partial_ack(cwnd: usize, acked: usize, mss: usize) -> usize {
    let deflated = cwnd.saturating_sub(acked).max(mss);
    if acked >= mss {
        deflated + mss
    } else {
        deflated
    }
}

/// RFC 6582 §3.2 step 6, option (1): the window when fast recovery ends.
pub(crate) fn window_after_recovery(ssthresh: usize, flight: usize, mss: usize) -> usize {
    ssthresh.min(flight.max(mss) + mss)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_window_follows_rfc6928() {
        assert_eq!(initial_window(1460), 14_600);
        assert_eq!(initial_window(536), 5_360);
        assert_eq!(initial_window(8960), 17_920);
    }
}
