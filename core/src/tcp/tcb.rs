//! The transmission control block: one connection, assembled from one small struct per RFC concept (each
//! private to the file named after it), its named constructors (active, passive and SYN-cookie open), the
//! state transitions every file shares, and what the connection asks of the stack after an input (`Effects`).

use super::ack::AckState;
use super::autotune::RecvAutotune;
use super::buffer::RecvBuffer;
use super::byte_queue::BlockPool;
use super::congestion::{Controller, WindowUse};
use super::counters::Counters;
use super::ecn::EcnState;
use super::flags::Flags;
use super::options::Agreed;
use super::recovery::LossRecovery;
use super::recv::RecvSequence;
use super::rtt::RttEstimator;
use super::segment::Outgoing;
use super::send::SendSequence;
use super::seq::SeqNum;
use super::time_wait::TimeWaitSlot;
use super::timers::Timers;
use super::timestamps::Timestamps;
use super::TcpState;
use crate::api::{Event, SocketHandle};
use crate::config::TcpConfig;
use crate::stats::DropReason;
use crate::time::Instant;
use crate::wire::{EcnCodepoint, TcpRepr};
use core::net::{IpAddr, Ipv4Addr, SocketAddr};

/// Largest window scale shift (RFC 7323 §2.3).
pub(crate) const MAX_WINDOW_SHIFT: u8 = 14;
/// The send MSS a peer's SYN gives: its MSS option, or without one the default RFC 9293 §3.7.1 (MUST-15) sets,
/// 536 for IPv4 (576 - 40) and 1220 for IPv6 (1280 - 60). An option of 0 counts as none, as Linux ignores it
/// (`tcp_parse_options`); any other value is the peer's, however small (callers clamp it).
pub(crate) fn peer_mss(option: Option<u16>, remote: IpAddr) -> usize {
    match option.filter(|&mss| mss != 0) {
        Some(mss) => usize::from(mss),
        None if remote.to_canonical().is_ipv4() => 536,
        None => 1220,
    }
}

/// What a connection asks of the stack after handling an input.
#[derive(Debug, Default)]
pub(crate) struct Effects {
    /// Segments to send, in order (the stack builds each from the connection's state: `build_segment`).
    pub transmit: Vec<Outgoing>,
    pub events: Vec<Event>,
    pub drops: Vec<DropReason>,
    /// Forget the connection (closed, reset, timed out).
    pub release: bool,
    /// The connection finished but the application still holds the handle: free the four-tuple, keep the TCB
    /// (in CLOSED) until `TcpClose`.
    pub unlink: bool,
    /// A passive connection just became established (the listener's accept queue grows).
    pub established: bool,
    /// Set by the stack: the input is part of a batch of frames, so an `AckDue::EndOfBatch` ACK may wait.
    pub in_batch: bool,
    /// The connection holds an ACK back until the end of the batch.
    pub ack_at_batch_end: bool,
    /// Set by the stack: its spare receive-buffer blocks, lent for the input (taken when data arrives, given
    /// back when the application reads); kept with the emptied `Effects` between inputs.
    pub blocks: BlockPool,
    /// Set by the stack: how many bytes of the segment's payload it copied into the receive buffer (past its
    /// data, not added) while verifying the checksum. The text step adds them instead of copying.
    pub staged: usize,
}

impl Effects {
    /// Empties the effects in place, keeping the vectors' memory for the next input.
    pub(crate) fn recycle(&mut self) {
        // Naming every field makes a new one a compile error here.
        let Effects {
            transmit,
            events,
            drops,
            release,
            unlink,
            established,
            in_batch,
            ack_at_batch_end,
            blocks: _,
            staged,
        } = self;
        transmit.clear();
        events.clear();
        drops.clear();
        (*release, *unlink, *established, *in_batch, *ack_at_batch_end) = (false, false, false, false, false);
        *staged = 0;
    }
}

/// Per-connection counters, exported through [`super::TcpInfo`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpCounters {
    pub segments_sent: u64,
    pub segments_received: u64,
    /// New payload bytes sent (first transmissions only).
    pub bytes_sent: u64,
    /// Payload bytes acknowledged by the peer.
    pub bytes_acked: u64,
    /// Payload bytes received in order.
    pub bytes_received: u64,
    pub retransmitted_segments: u64,
    pub retransmitted_bytes: u64,
    pub fast_retransmits: u64,
    pub timeouts: u64,
    pub dup_acks_received: u64,
    pub zero_window_probes: u64,
    /// Keep-alive probes sent (`TcpConfig::keepalive`).
    pub keepalive_probes: u64,
    pub tail_loss_probes: u64,
    pub challenge_acks: u64,
    /// Unacceptable segments without data left unanswered (`TcpConfig::invalid_ack_interval`).
    pub invalid_acks_suppressed: u64,
    /// Segments RACK (RFC 8985) marked lost.
    pub lost_segments: u64,
    /// D-SACKs received (RFC 2883): the peer got some data twice.
    pub dsacks_received: u64,
    /// Fast recoveries undone: the timestamp echo or D-SACKs showed every retransmission needless (reordering
    /// or delay, not loss).
    pub spurious_recoveries_undone: u64,
    /// Retransmission timeouts undone the same way (a delay spike, not a loss).
    pub spurious_timeouts_undone: u64,
    /// A crossed bare SYN (simultaneous open) was set aside for a SYN-ACK that acknowledged our SYN.
    pub crossed_syns_superseded: u64,
    /// A simultaneous open that a crossed bare SYN started was reset; the connection went back to SYN-SENT.
    pub crossed_syns_reset: u64,
    /// Times receive autotuning grew the receive buffer (`TcpConfig::recv_buffer_max`).
    pub recv_buffer_growths: u64,
    /// Times send autotuning grew the send buffer (`TcpConfig::send_buffer_max`).
    pub send_buffer_growths: u64,
    /// Data segments that arrived CE-marked on an ECN connection (RFC 3168: each starts or renews our ECE echo).
    pub ce_received: u64,
    /// ACKs with ECE on an ECN connection: the peer echoing a CE mark on one of our segments.
    pub ece_received: u64,
    /// Congestion window reductions in answer to ECE (at most one per window of data; no retransmission).
    pub cwnd_reductions_ecn: u64,
}

/// The application's side of a connection: who holds the handle and what it was told.
#[derive(Debug)]
pub(crate) struct Owner {
    holder: Holder,
    /// The listener that opened a passive connection (what `Holder::Listener` refers to); kept beside the holder
    /// rather than in it, so the owner takes 8 bytes, not 12.
    listener: SocketHandle,
    /// Opened by a listener (passive open) rather than by `TcpConnect`.
    passive: bool,
    /// A send was refused or cut short: tell the app when space frees up.
    want_writable: bool,
    /// `Closed` was reported.
    closed_notified: bool,
}

/// Who holds a connection's handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Holder {
    /// A passive connection not accepted yet: its listener (`Owner::listener`); events are withheld until
    /// `TcpAccept`.
    Listener,
    /// The application.
    App,
    /// The application called `TcpClose` (or `TcpAbort`, or its listener closed): the handle is gone once the
    /// connection finishes.
    Released,
}

impl Owner {
    fn new(listener: Option<SocketHandle>) -> Owner {
        let holder = if listener.is_some() { Holder::Listener } else { Holder::App };
        let listener = listener.unwrap_or(SocketHandle(0));
        Owner { holder, listener, passive: holder == Holder::Listener, want_writable: false, closed_notified: false }
    }

    /// The listener of a passive connection not accepted yet.
    pub(crate) fn listener(&self) -> Option<SocketHandle> {
        (self.holder == Holder::Listener).then_some(self.listener)
    }
    pub(crate) fn passive(&self) -> bool {
        self.passive
    }
    /// The application holds the handle (commands may name it).
    pub(crate) fn held_by_app(&self) -> bool {
        self.holder == Holder::App
    }
    pub(crate) fn app_closed(&self) -> bool {
        self.holder == Holder::Released
    }
    pub(crate) fn wants_writable(&self) -> bool {
        self.want_writable
    }

    /// `TcpAccept` handed the connection to the application.
    pub(crate) fn accepted(&mut self) {
        self.holder = Holder::App;
    }
    /// The application (or the closing listener) let go of the handle.
    pub(crate) fn release(&mut self) {
        self.holder = Holder::Released;
    }
    /// A send was refused or cut short.
    pub(crate) fn wish_writable(&mut self) {
        self.want_writable = true;
    }
    /// Space freed up: returns whether the application waits to hear it (and forgets that it does).
    pub(crate) fn take_writable_wish(&mut self) -> bool {
        core::mem::take(&mut self.want_writable)
    }
}

/// A connection's two ends. An IPv4 connection keeps them inline in 12 bytes; any other (IPv6: 36 bytes) in a
/// box of its own, so every connection pays 16 bytes here where two `(IpAddr, u16)` take 40 and two
/// `SocketAddr`s 64. Most connections are IPv4; an IPv6 one pays an allocation instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Ends {
    V4 { local: Ipv4Addr, remote: Ipv4Addr, local_port: u16, remote_port: u16 },
    Other(Box<(SocketAddr, SocketAddr)>),
}

impl Ends {
    pub(crate) fn new(local: SocketAddr, remote: SocketAddr) -> Ends {
        match (local, remote) {
            (SocketAddr::V4(l), SocketAddr::V4(r)) => {
                Ends::V4 { local: *l.ip(), remote: *r.ip(), local_port: l.port(), remote_port: r.port() }
            }
            // Only the address and port are a connection's: no flow label or scope id is kept.
            (l, r) => Ends::Other(Box::new((SocketAddr::new(l.ip(), l.port()), SocketAddr::new(r.ip(), r.port())))),
        }
    }
    pub(crate) fn local(&self) -> SocketAddr {
        match self {
            Ends::V4 { local, local_port, .. } => SocketAddr::new(IpAddr::V4(*local), *local_port),
            Ends::Other(ends) => ends.0,
        }
    }
    pub(crate) fn remote(&self) -> SocketAddr {
        match self {
            Ends::V4 { remote, remote_port, .. } => SocketAddr::new(IpAddr::V4(*remote), *remote_port),
            Ends::Other(ends) => ends.1,
        }
    }
    pub(crate) fn local_port(&self) -> u16 {
        match self {
            Ends::V4 { local_port, .. } => *local_port,
            Ends::Other(ends) => ends.0.port(),
        }
    }
    pub(crate) fn remote_port(&self) -> u16 {
        match self {
            Ends::V4 { remote_port, .. } => *remote_port,
            Ends::Other(ends) => ends.1.port(),
        }
    }
    pub(crate) fn local_ip(&self) -> IpAddr {
        match self {
            Ends::V4 { local, .. } => IpAddr::V4(*local),
            Ends::Other(ends) => ends.0.ip(),
        }
    }
    pub(crate) fn remote_ip(&self) -> IpAddr {
        match self {
            Ends::V4 { remote, .. } => IpAddr::V4(*remote),
            Ends::Other(ends) => ends.1.ip(),
        }
    }
}

/// The transmission control block: one connection's state, in one small struct per RFC concept.
#[derive(Debug)]
pub(crate) struct Tcb {
    pub(super) state: TcpState,
    /// The state last reported in a [`crate::explain::Note::State`] (with `Config::explain`).
    pub(super) reported_state: TcpState,
    pub(super) ends: Ends,
    pub(super) handle: SocketHandle,
    pub(super) owner: Owner,
    pub(super) snd: SendSequence,
    pub(super) rcv: RecvSequence,
    pub(super) opts: Agreed,
    pub(super) timers: Timers,
    /// The RTO estimate, and the segment being timed for its next sample.
    pub(super) rtt: RttEstimator,
    /// The congestion controller; the handshake builds it again for the MSS agreed (RFC 6928's initial window
    /// counts segments of that size).
    pub(super) cc: Controller,
    /// Whether the congestion window or something else (the application, the peer's window) limits sending.
    pub(super) window_use: WindowUse,
    /// The built-in algorithms use HyStart++ in their first slow start (`TcpConfig::hystart`).
    pub(super) hystart: bool,
    pub(super) recovery: LossRecovery,
    pub(super) ack: AckState,
    pub(super) ts: Timestamps,
    /// Explicit Congestion Notification (RFC 3168): agreed or not, the echo of CE marks, the CWR owed.
    pub(super) ecn: EcnState,
    /// The application's switches, a bit each: Nagle off ([`NODELAY`], `TcpSetNoDelay`), keep-alive probes on
    /// ([`KEEPALIVE`], `TcpSetKeepAlive`).
    pub(super) switches: Flags,
    /// The last soft error (RFC 1122 §4.2.3.9) since the connection last made progress, for `TimedOut`.
    pub(super) soft_error: Option<crate::api::UnreachableReason>,
    /// Where this connection stands against the stack's TIME-WAIT bound (`TcpConfig::max_time_wait`).
    pub(super) time_wait_slot: TimeWaitSlot,
    /// The four-tuple is registered in the demultiplexing table.
    pub(super) linked: bool,
    pub(super) counters: Counters,
}

/// [`Tcb::switches`]: Nagle's algorithm is off.
pub(super) const NODELAY: u8 = 1;
/// [`Tcb::switches`]: keep-alive probes are on.
pub(super) const KEEPALIVE: u8 = 1 << 1;

/// Window scale shift needed to advertise `buffer` bytes (RFC 7323 §2.3).
pub(crate) fn window_shift_for(buffer: usize) -> u8 {
    let mut shift = 0;
    while shift < MAX_WINDOW_SHIFT && (buffer >> shift) > usize::from(u16::MAX) {
        shift += 1;
    }
    shift
}

/// What a new connection starts from on our side: its initial sequence number (RFC 6528), its timestamp
/// clock's offset (RFC 7323 §5.4), and the MSS our interface allows.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Initial {
    pub iss: SeqNum,
    pub ts_offset: u32,
    pub local_mss: usize,
}

impl Tcb {
    /// The common part of every open: a connection in `state` that has sent nothing yet. The stack builds one
    /// only through `TcpSockets::new_tcb`, one copy of this code for every kind of open.
    pub(crate) fn new(
        handle: SocketHandle,
        state: TcpState,
        (local, remote): (SocketAddr, SocketAddr),
        Initial { iss, ts_offset, local_mss: mss }: Initial,
        cfg: &TcpConfig,
    ) -> Tcb {
        let tune = (cfg.recv_buffer_max > cfg.recv_buffer).then(|| Box::new(RecvAutotune::new(mss)));
        Tcb {
            state,
            // A new connection comes from CLOSED (active) or from its listener (passive, cookie).
            reported_state: if state == TcpState::SynSent { TcpState::Closed } else { TcpState::Listen },
            ends: Ends::new(local, remote),
            handle,
            owner: Owner::new(None),
            snd: SendSequence::new(iss, cfg.send_buffer),
            rcv: RecvSequence::new(
                RecvBuffer::new(cfg.recv_buffer, cfg.max_out_of_order),
                tune,
                Tcb::offered_window_shift(cfg),
            ),
            opts: Agreed::new(mss, cfg),
            timers: Timers::default(),
            rtt: RttEstimator::new(cfg.rto_initial, cfg.rto_min, cfg.rto_max),
            cc: cfg.congestion.build(mss, cfg.hystart),
            window_use: WindowUse::new(iss),
            hystart: cfg.hystart,
            recovery: LossRecovery::new(iss, cfg.prr),
            ack: AckState::new(),
            ts: Timestamps::new(ts_offset),
            ecn: EcnState::new(cfg.ecn),
            switches: {
                let mut s = Flags::NONE;
                s.set(NODELAY, cfg.nodelay);
                s.set(KEEPALIVE, cfg.keepalive);
                s
            },
            soft_error: None,
            time_wait_slot: TimeWaitSlot::None,
            linked: true,
            counters: Counters::default(),
        }
    }

    /// Passive open (RFC 9293 §3.10.7.2), after `new` in SYN-RECEIVED: `syn` arrived for `listener` at `now`,
    /// with the IP ECN codepoint `ip`; the connection is about to answer with a SYN-ACK.
    pub(crate) fn take_passive_syn(
        &mut self,
        listener: SocketHandle,
        syn: &TcpRepr<'_>,
        ip: EcnCodepoint,
        local_mss: usize,
        cfg: &TcpConfig,
        now: Instant,
    ) {
        self.owner = Owner::new(Some(listener));
        self.rcv.synchronize(syn.seq_number);
        self.take_syn_options(syn, local_mss, cfg, now);
        self.ecn.take_syn(syn.flags, ip, false);
        self.snd.take_syn_window(syn.seq_number, syn.window_len);
        self.counters.segment_received();
    }

    /// The final ACK of a SYN-cookie handshake (RFC 4987 §3.6) proved the peer got our SYN-ACK, whose ISN was
    /// the cookie: the connection, made by `new` in ESTABLISHED from `cookie_initial`, takes the sequence spaces
    /// from `ack`. It has the MSS the cookie carried and no window scaling (the cookie could not carry it; our
    /// SYN-ACK advertised an unscaled window), and no ECN (the SYN-ACK did not offer it: see `tcp::ecn`). The
    /// ACK itself is then handled as any segment.
    pub(crate) fn take_cookie_ack(&mut self, listener: SocketHandle, ack: &TcpRepr<'_>, cfg: &TcpConfig) {
        self.owner = Owner::new(Some(listener));
        self.snd.establish_from_cookie(ack.seq_number, ack.ack_number, ack.window_len);
        self.rcv.synchronize_from_cookie(ack.seq_number, cfg.recv_buffer.min(usize::from(u16::MAX)));
    }

    /// What a cookie connection starts from: the cookie was our ISN, and it carried no timestamp option
    /// either, so none is used.
    pub(crate) fn cookie_initial(ack: &TcpRepr<'_>, mss: usize) -> Initial {
        Initial { iss: ack.ack_number - 1, ts_offset: 0, local_mss: mss }
    }

    /// Is the connection synchronized (past the handshake)?
    pub(crate) fn synchronized(&self) -> bool {
        !matches!(self.state, TcpState::Closed | TcpState::Listen | TcpState::SynSent | TcpState::SynReceived)
    }

    /// Moves to `state` (RFC 9293 §3.3.2): the one place the connection state changes.
    pub(crate) fn transition(&mut self, state: TcpState) {
        self.state = state;
    }

    /// Emits `Closed` once.
    pub(crate) fn notify_closed(&mut self, fx: &mut Effects) {
        if !core::mem::replace(&mut self.owner.closed_notified, true) {
            fx.events.push(Event::Closed);
        }
    }

    /// The connection finished normally (LAST-ACK acknowledged, or TIME-WAIT over). The handle lives on in
    /// CLOSED until the application closes it, so buffered data can still be read.
    pub(crate) fn finish(&mut self, fx: &mut Effects) {
        self.notify_closed(fx);
        if self.owner.app_closed() {
            self.terminate(None, fx);
        } else {
            self.transition(TcpState::Closed);
            self.timers.stop_all();
            fx.unlink = true;
        }
    }

    /// The window scale we offer in our SYN (RFC 7323): enough for the largest receive buffer, or none.
    pub(crate) fn offered_window_shift(cfg: &TcpConfig) -> u8 {
        if cfg.window_scaling {
            window_shift_for(cfg.recv_buffer_limit())
        } else {
            0
        }
    }

    /// The application read `n` bytes: receive autotuning may grow the buffer.
    pub(crate) fn note_read(&mut self, n: usize, now: Instant, cfg: &TcpConfig) {
        if self.rcv.autotune_after_read(n, self.opts.mss(), cfg.recv_buffer_limit(), now) {
            self.counters.rare().recv_buffer_growths += 1;
        }
    }

    /// The connection is gone: `event` tells why (if anything), and the stack forgets it.
    pub(crate) fn terminate(&mut self, event: Option<Event>, fx: &mut Effects) {
        self.transition(TcpState::Closed);
        self.timers.stop_all();
        if let Some(e) = event {
            fx.events.push(e);
        }
        fx.release = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_shift_covers_the_buffer() {
        assert_eq!(window_shift_for(65_535), 0);
        assert_eq!(window_shift_for(65_536), 1);
        assert_eq!(window_shift_for(256 * 1024), 3);
        assert_eq!(window_shift_for(1 << 30), 14);
    }
}

#[cfg(test)]
mod size {
    /// The connection's size is part of what an idle connection costs (BENCHMARKS.md, scale): a field that
    /// grows it should be a deliberate choice, so this bound moves only on purpose (976 -> 648: the queues
    /// held only while they hold bytes, RACK's state and CUBIC's curve only once data made them, HyStart++
    /// packed, the congestion algorithm kept only in its controller; 648 -> 568: the five everyday counters in
    /// 32 bits with their carries in the rare box, the SACK scoreboard boxed from its first block, windows,
    /// MSS and buffer sizes in the widths their limits allow, the per-ACK round trip passed on, not kept;
    /// 568 -> 512: an IPv4 connection's ends in 16 bytes, the receive side's optional sequence numbers with
    /// one byte of flags, the retransmission counts in 16 bits; 512 -> 480: the RTO floor read from the
    /// configuration, the timed segment kept in the estimator's spare room, ECN's reduction mark and the owner's
    /// listener beside their flags, the loss episode's undo and PRR state in one box; 480 -> 472: HyStart++'s
    /// flags and CSS credit in one byte, with no `Option` around it; 472 -> 456: ECN's and the options' flags
    /// in one byte each, the SACK scoreboard kept with RACK's log; 456 -> 464 on purpose: when data last left,
    /// in 32 bits, for the restart window after idle, RFC 5681 §4.1; 464 -> 472 on purpose: the largest flight
    /// of the current window of data and its end, so an unused window does not grow, RFC 9438 §5.8; the box
    /// stays in the same 480-byte heap chunk).
    #[test]
    fn a_connection_stays_small() {
        let size = core::mem::size_of::<super::Tcb>();
        eprintln!("Tcb: {size} bytes");
        assert!(size <= 472, "Tcb grew to {size} bytes");
    }
}
