//! TCP (RFC 9293). A connection (`Tcb`) owns its state and builds every segment it sends; this file
//! is the glue: the connection table, demultiplexing, the timer heap, and wrapping segments in IP.
//!
//! The path of a segment, file by file:
//!
//! - in: `ipv4.rs` hands the payload to `Stack::on_tcp` here, which parses it (`wire/tcp.rs`; the checksum over
//!   the pseudo-header and header only), finds the connection by `ConnectionKey` (`demux.rs`, IPv4 tuples in
//!   `bucket_table.rs`) or the listener (`listen.rs`: passive open, SYN cookies in `cookie.rs`), takes the TCB out
//!   of the table (`table.rs`), has it verify the payload (`Tcb::verify_payload`: the next in-order payload is
//!   summed as it is copied into the receive buffer, the one pass over it) and runs it with an empty `Effects`.
//!   Every open, active or passive, goes through `Stack::open_connection`; a new connection's local port is
//!   counted in `port_counts.rs`.
//! - the connection: `input.rs` (RFC 9293 §3.10.7: acceptability, RST, SYN, handshake, text and FIN) calls
//!   `send.rs` for the fifth step (ACK processing, the send sequence space and window), `recovery.rs` (fast
//!   recovery and what a timeout does; losses found by RACK in `rack.rs` with SACK, `sack.rs`'s scoreboard, or
//!   by duplicate ACKs without; PRR in `prr.rs`; D-SACK and timestamp undo), `congestion.rs` (the window algorithm:
//!   `cubic.rs`, `newreno.rs`, their slow start with `hystart.rs`), `rtt.rs` (RFC 6298 and Karn), `recv.rs` (the receive sequence space: data, FIN, window advertisement,
//!   SACK blocks, autotuning with `autotune.rs`, buffers in `buffer.rs` / `byte_queue.rs`), `ack.rs` (when to
//!   acknowledge), `ecn.rs` (RFC 3168: CE marks echoed, echoes answered) and `time_wait.rs`; `errors.rs` and
//!   `pmtu.rs` take ICMP and ARP news. Then `output.rs` (`poll_send`: windows, Nagle, SWS avoidance, FIN,
//!   persist) decides what goes out, as `Outgoing` entries in `Effects`. `timers.rs` (RTO, TLP, RACK's
//!   reordering timer, persist, delayed ACK, close) and `commands.rs` (the application's calls) end the same way.
//! - out: back here, `apply_effects` asks the connection for each segment's complete header
//!   (`Tcb::build_segment` in `segment.rs`, options from `options.rs`) under the stack's challenge-ACK budget,
//!   wraps it in IP with the ECN codepoint the connection chose (`ipv4.rs`, ARP in `arp.rs`), reports events,
//!   re-arms the connection's one timer-heap entry, keeps the TIME-WAIT bound, and puts the TCB back (or
//!   forgets it).
//!
//! Each concept's state is a small struct private to its file (`SendSequence`, `RecvSequence`, `Agreed`,
//! `Timers`, `LossRecovery` with `Rack` (which keeps the SACK scoreboard) and `Prr`, `AckState`, `RttEstimator`
//! (which times one segment per round trip), `EcnState`, `Owner`): other files read it through accessors and
//! change it only through the methods its file offers. Booleans of one concept share a byte (`flags.rs`): every
//! byte of a connection is paid once per connection, a million times at scale.

mod ack;
mod autotune;
mod bucket_table;
mod buffer;
mod byte_queue;
mod commands;
pub mod congestion;
mod cookie;
mod counters;
mod cubic;
mod demux;
mod ecn;
mod errors;
mod flags;
pub mod hystart;
mod input;
mod listen;
mod newreno;
mod options;
mod output;
mod pmtu;
mod port_counts;
mod prr;
mod rack;
mod recovery;
mod recv;
mod rtt;
mod sack;
mod segment;
mod send;
pub mod seq;
pub(crate) mod table;
mod tcb;
mod time_wait;
mod timers;
mod timestamps;

pub use congestion::{
    AckSample, CongestionAlgorithm, CongestionControl, CongestionFactory, Cubic, HyStart, HyStartPhase, NewReno,
};
pub use ecn::Ecn;
pub(crate) use errors::ErrorReport;
pub use seq::SeqNum;
pub use tcb::TcpCounters;

use crate::api::{CommandError, Event, Output, SocketHandle};
use crate::config::Config;
use crate::ipv4::Received;
use crate::ports::PortAllocator;
use crate::ratelimit::TokenBucket;
use crate::seed::derive_seed;
use crate::stack::Stack;
use crate::stats::{DropReason, Layer};
use crate::time::Instant;
use crate::timer::TimerKey;
use crate::wire::{IpProtocol, TcpFlags, TcpOptions, TcpPacket, TcpRepr};
use core::hash::BuildHasher;
use core::net::{IpAddr, SocketAddr};
use core::time::Duration;
use demux::{ConnectionKey, Demux};
use listen::ListenerTable;
use segment::Outgoing;
use table::ConnTable;
use tcb::{Effects, Tcb};
use time_wait::TimeWaitBound;

/// The connection states of RFC 9293 §3.3.2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TcpState {
    Closed,
    Listen,
    SynSent,
    SynReceived,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
}

impl core::fmt::Display for TcpState {
    /// The RFC's name: `SYN-SENT`, `ESTABLISHED`, `TIME-WAIT`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            TcpState::Closed => "CLOSED",
            TcpState::Listen => "LISTEN",
            TcpState::SynSent => "SYN-SENT",
            TcpState::SynReceived => "SYN-RECEIVED",
            TcpState::Established => "ESTABLISHED",
            TcpState::FinWait1 => "FIN-WAIT-1",
            TcpState::FinWait2 => "FIN-WAIT-2",
            TcpState::CloseWait => "CLOSE-WAIT",
            TcpState::Closing => "CLOSING",
            TcpState::LastAck => "LAST-ACK",
            TcpState::TimeWait => "TIME-WAIT",
        })
    }
}

/// A snapshot of one connection, for summaries, plots and tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpInfo {
    pub state: TcpState,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub snd_una: SeqNum,
    pub snd_nxt: SeqNum,
    /// The peer's advertised window, scaled, in bytes.
    pub snd_wnd: usize,
    pub rcv_nxt: SeqNum,
    /// The window we last advertised, in bytes.
    pub rcv_wnd: usize,
    /// The congestion control algorithm (`CongestionControl::name`).
    pub congestion: &'static str,
    pub cwnd: usize,
    pub ssthresh: usize,
    pub srtt: Option<Duration>,
    pub rttvar: Duration,
    pub rto: Duration,
    pub mss: usize,
    /// Window scale shifts: ours (applied to what we advertise) and the peer's.
    pub rcv_wscale: u8,
    pub snd_wscale: u8,
    pub in_recovery: bool,
    /// Bytes presumed still in the network (RFC 6675 "pipe"): sent and not yet acknowledged, minus what the
    /// peer SACKed and what RACK marked lost and was not resent yet.
    pub in_flight: usize,
    /// The path was seen to reorder (RACK, RFC 8985: a segment delivered below one sent after it, or a D-SACK).
    pub reordering_seen: bool,
    /// How long past its expected arrival RACK waits before it calls a segment lost (outside recovery).
    pub reorder_window: Duration,
    /// The smallest round trip measured.
    pub min_rtt: Option<Duration>,
    /// RFC 7323 timestamps are in use (both SYNs carried them).
    pub timestamps: bool,
    /// RFC 3168 ECN is in use (an ECN-setup SYN was answered by an ECN-setup SYN-ACK).
    pub ecn: bool,
    /// Bytes queued by the application and not yet acknowledged / received and not yet read.
    pub send_queued: usize,
    pub recv_queued: usize,
    /// The buffers' current sizes (they grow with autotuning: `TcpConfig::send_buffer_max`, `recv_buffer_max`).
    pub send_buffer: usize,
    pub recv_buffer: usize,
    pub counters: TcpCounters,
}

/// SipHash-1-3 keyed from the seed: deterministic for a given seed, unpredictable to a peer that does not know
/// it (hash-flooding resistance). Only used for lookups, never iterated.
#[derive(Clone, Debug)]
pub(crate) struct SeededHasher(u64, u64);

impl BuildHasher for SeededHasher {
    type Hasher = siphasher::sip::SipHasher13;
    fn build_hasher(&self) -> Self::Hasher {
        siphasher::sip::SipHasher13::new_with_keys(self.0, self.1)
    }
}

/// Every TCP socket of a stack.
#[derive(Debug)]
pub(crate) struct TcpSockets {
    conns: ConnTable,
    demux: Demux,
    listeners: crate::ports::BoundPorts,
    listener_state: ListenerTable,
    /// How many connections use each local port (ephemeral allocation avoids them).
    ports_in_use: port_counts::PortCounts,
    ports: PortAllocator,
    /// RFC 6528 secret key.
    isn_key: (u64, u64),
    /// Connections use RFC 7323 timestamps (`TcpConfig::timestamps`): without them a connection's timestamp
    /// offset is never read, so it is not computed.
    timestamps: bool,
    cookies: cookie::CookieJar,
    challenge_acks: TokenBucket,
    /// Emptied `Effects` kept for the next input, so handling a segment allocates nothing. Boxed, so taking it
    /// out and putting it back moves a pointer (`None` while one is in use).
    spare_fx: Option<Box<Effects>>,
    /// A batch of frames is being handled ([`Stack::handle_frames_into`]).
    in_batch: bool,
    /// Connections holding an ACK until the batch ends (in the order they asked; may repeat).
    batch_acks: Vec<SocketHandle>,
    /// Connections in TIME-WAIT, against `TcpConfig::max_time_wait`.
    time_wait: TimeWaitBound,
    /// The boxes of connections that went away, reused by new ones (at most `SPARE_TCBS`): a short connection
    /// after another then costs no allocation and no free. (Boxes, not TCBs: the allocations are what is kept.)
    #[allow(clippy::vec_box)]
    spare_tcbs: Vec<Box<Tcb>>,
}

/// How a connection opens (see `Stack::open_connection`).
#[derive(Clone, Copy)]
enum Opening<'a> {
    /// The application connects.
    Active,
    /// `syn` arrived for `listener` in a datagram with the ECN codepoint `ip`; `iss`, when set, is the initial
    /// sequence number to use (one that replaces a TIME-WAIT incarnation) instead of RFC 6528's.
    Passive { listener: SocketHandle, syn: &'a TcpRepr<'a>, ip: crate::wire::EcnCodepoint, iss: Option<seq::SeqNum> },
}

/// How many boxes of gone connections a stack keeps for new ones (a few KiB; a burst of closes frees the rest).
const SPARE_TCBS: usize = 16;

impl TcpSockets {
    pub(crate) fn new(config: &Config, ports: PortAllocator, seed: u64) -> TcpSockets {
        let hasher = SeededHasher(derive_seed(seed, 1), derive_seed(seed, 2));
        TcpSockets {
            conns: ConnTable::default(),
            demux: Demux::new(hasher),
            listeners: crate::ports::BoundPorts::default(),
            listener_state: ListenerTable::default(),
            ports_in_use: port_counts::PortCounts::default(),
            ports,
            isn_key: (derive_seed(seed, 3), derive_seed(seed, 4)),
            timestamps: config.tcp.timestamps,
            cookies: cookie::CookieJar::new((derive_seed(seed, 5), derive_seed(seed, 6))),
            challenge_acks: TokenBucket::new(config.tcp.challenge_ack_rate),
            spare_fx: None,
            in_batch: false,
            batch_acks: Vec::new(),
            time_wait: TimeWaitBound::new(config.tcp.max_time_wait),
            spare_tcbs: Vec::new(),
        }
    }

    /// RFC 6528: ISN = M + F(localip, localport, remoteip, remoteport, secretkey), M a 4 µs clock.
    fn isn(&self, tuple: &[u8], now: Instant) -> SeqNum {
        let f = siphasher::sip::SipHasher24::new_with_keys(self.isn_key.0, self.isn_key.1).hash(tuple);
        let m = (now.as_nanos() / 4_000) as u32;
        SeqNum((f as u32).wrapping_add(m))
    }

    /// What a new connection from `local` to `remote` starts from: RFC 6528's ISN, and a timestamp offset from
    /// the same secret (RFC 7323 §5.4), so neither is predictable to others nor random between runs. Without
    /// timestamps the offset is never read: it is left at 0 rather than hashed.
    fn initial(&self, local: SocketAddr, remote: SocketAddr, local_mss: usize, now: Instant) -> tcb::Initial {
        let keyed = |tuple: &[u8]| {
            let offset = if self.timestamps {
                siphasher::sip::SipHasher24::new_with_keys(self.isn_key.1, self.isn_key.0).hash(tuple) as u32
            } else {
                0
            };
            tcb::Initial { iss: self.isn(tuple, now), ts_offset: offset, local_mss }
        };
        // IPv4, by far the common case, hashes a fixed-size message (the hasher then needs no length loop).
        match (local, remote) {
            (SocketAddr::V4(l), SocketAddr::V4(r)) => keyed(&four_tuple_v4(l, r)),
            _ => keyed(four_tuple_bytes(local, remote).as_slice()),
        }
    }

    pub(crate) fn is_listener(&self, sock: SocketHandle) -> bool {
        self.listener_state.contains_key(&sock)
    }

    /// Lets a listener on `[::]` take IPv4 connections too (`dual`), or stop.
    pub(crate) fn set_listener_dual_stack(&mut self, sock: SocketHandle, dual: bool) -> Result<(), CommandError> {
        let l = self.listener_state.get(&sock).ok_or(CommandError::NoSuchSocket(sock))?;
        if l.local.ip() != IpAddr::V6(core::net::Ipv6Addr::UNSPECIFIED) {
            return Err(CommandError::BadArgument("only a listener on [::] can take IPv4 too"));
        }
        self.listeners.set_dual(l.local.port(), sock, dual)
    }

    /// An ephemeral port used by no listener and no connection.
    fn allocate_free_port(&mut self) -> Option<u16> {
        let (listeners, in_use) = (&self.listeners, &self.ports_in_use);
        self.ports.allocate(|p| listeners.is_taken(p) || in_use.contains(p))
    }

    /// An ephemeral port for a connection to `remote`: a free one if there is one; otherwise, as Linux does, one
    /// that other connections use but none to `remote` (connections are told apart by their four-tuple), so a
    /// host can hold more outgoing connections than it has ephemeral ports.
    fn allocate_port_for(&mut self, local_ip: IpAddr, remote: SocketAddr) -> Option<u16> {
        self.allocate_free_port().or_else(|| {
            let (listeners, demux) = (&self.listeners, &self.demux);
            let key = |p: u16| ConnectionKey::new(SocketAddr::new(local_ip, p), remote);
            self.ports.allocate(|p| listeners.is_taken(p) || demux.contains(&key(p)))
        })
    }

    /// A new connection in `state` that has sent nothing yet, in a box: a spare one if there is one (what it
    /// held is dropped in place). The one place a TCB is built: a handshake runs an active and a passive open,
    /// and were each to build its own, the instruction cache would hold the whole construction twice (a
    /// handshake's code already outgrows it).
    ///
    /// The connection is built inside each arm: the compiler then builds a new box's connection where it stays,
    /// where one built first and moved in was built on the stack and copied (the whole TCB read back right after
    /// being written field by field, which stalls the CPU, and a memcpy call). A spare box still gets a copy: it
    /// holds its old connection until the new one replaces it.
    #[inline(never)]
    fn new_tcb(
        &mut self,
        handle: SocketHandle,
        state: TcpState,
        ends: (SocketAddr, SocketAddr),
        initial: tcb::Initial,
        cfg: &crate::config::TcpConfig,
    ) -> Box<Tcb> {
        match self.spare_tcbs.pop() {
            Some(mut spare) => {
                *spare = Tcb::new(handle, state, ends, initial, cfg);
                spare
            }
            None => Box::new(Tcb::new(handle, state, ends, initial, cfg)),
        }
    }

    /// Makes a new connection findable by its four-tuple (the TCB itself goes in via `apply_effects`).
    fn register(&mut self, local: SocketAddr, remote: SocketAddr, h: SocketHandle) {
        self.demux.insert(ConnectionKey::new(local, remote), h);
        self.ports_in_use.add(local.port());
    }

    /// Removes a connection's four-tuple from the lookup tables (once).
    fn unlink(&mut self, tcb: &mut Tcb) {
        if !tcb.linked {
            return;
        }
        tcb.linked = false;
        let key = ConnectionKey::new(tcb.ends.local(), tcb.ends.remote());
        self.demux.remove_if(&key, tcb.handle);
        self.ports_in_use.remove(tcb.ends.local_port());
    }

    /// Forgets a connection that was taken out of `conns`.
    fn forget(&mut self, tcb: &mut Tcb) {
        self.conns.remove(&tcb.handle);
        self.unlink(tcb);
        if let Some(l) = tcb.owner.listener().and_then(|l| self.listener_state.get_mut(&l)) {
            l.forget(tcb.handle);
        }
    }
}

impl Stack {
    /// A snapshot of a TCP connection, or `None` if `sock` is not one.
    pub fn tcp_info(&self, sock: SocketHandle) -> Option<TcpInfo> {
        let t = self.tcp.conns.get(&sock)?;
        Some(TcpInfo {
            state: t.state,
            local: t.ends.local(),
            remote: t.ends.remote(),
            snd_una: t.snd.una(),
            snd_nxt: t.snd.nxt(),
            snd_wnd: t.snd.wnd(),
            rcv_nxt: t.rcv.nxt(),
            rcv_wnd: t.rcv.window(),
            congestion: t.cc.name(),
            cwnd: t.cc.cwnd(),
            ssthresh: t.cc.ssthresh(),
            srtt: t.rtt.srtt(),
            rttvar: t.rtt.rttvar(),
            rto: t.rtt.rto(),
            mss: t.opts.mss(),
            rcv_wscale: t.rcv.wscale(),
            snd_wscale: t.snd.wscale(),
            in_recovery: t.recovery.in_recovery(),
            in_flight: t.pipe(),
            reordering_seen: t.recovery.rack().reordering_seen(),
            reorder_window: t.recovery.rack().reorder_window(false, t.rtt.srtt()),
            min_rtt: t.recovery.rack().min_rtt(),
            timestamps: t.ts.enabled(),
            ecn: t.ecn.agreed(),
            send_queued: t.snd.buf().len(),
            recv_queued: t.rcv.buf().readable(),
            send_buffer: t.snd.buf().capacity(),
            recv_buffer: t.rcv.buf().capacity(),
            counters: t.counters.snapshot(),
        })
    }

    /// Handles of every TCP connection (not listeners), in handle order.
    pub fn tcp_connections(&self) -> Vec<SocketHandle> {
        self.tcp.conns.handles()
    }

    /// MSS our MTU allows toward `remote` (no IP or TCP options in data segments).
    fn mtu_mss(&self, remote: IpAddr) -> usize {
        self.config.mtu - crate::ip::header_len(remote) - crate::wire::tcp::HEADER_LEN
    }

    /// A TCP segment arrived for us.
    pub(crate) fn on_tcp(&mut self, rx: &Received<'_>, now: Instant, out: &mut Vec<Output>) {
        let mut pending = None;
        let parsed = TcpPacket::new_checked(rx.payload).and_then(|p| {
            if rx.checksum_offloaded {
                TcpRepr::parse_unverified(&p)
            } else {
                // The payload's part of the checksum is verified below, where the payload is copied anyway.
                TcpRepr::parse_deferring_payload(&p, &rx.src, &rx.dst, &mut pending)
            }
        });
        self.stats.transport_checksums_offloaded += u64::from(rx.checksum_offloaded && parsed.is_ok());
        // Matched in place: moving the parsed segment out would copy it just after it was written.
        let seg = match &parsed {
            Ok(s) => s,
            Err(e) => return self.drop_frame(DropReason::Malformed(Layer::Tcp, *e)),
        };
        // A segment whose payload fails the checksum is dropped before anything else may look at it.
        let bad_payload = |seg: &TcpRepr<'_>| pending.is_some_and(|p| !p.verifies(seg.payload));
        if rx.broadcast {
            if bad_payload(seg) {
                return self.drop_bad_checksum();
            }
            // TCP is unicast only; never answer a broadcast.
            return self.drop_frame(DropReason::TcpNoSocket);
        }
        let key = ConnectionKey::of_segment(&rx.dst, seg.dst_port, &rx.src, seg.src_port);
        if let Some(h) = self.tcp.demux.find(&key) {
            let Some(mut tcb) = self.tcp.conns.take(&h) else {
                return;
            };
            let mut fx = self.new_effects();
            if pending.is_some_and(|p| !tcb.verify_payload(seg, p, &mut fx)) {
                self.put_back_untouched(tcb, fx);
                return self.drop_bad_checksum();
            }
            let completes_handshake = tcb.state == TcpState::SynReceived
                && seg.flags.contains(TcpFlags::ACK)
                && !seg.flags.contains(TcpFlags::RST);
            if completes_handshake && self.accept_queue_full(tcb.owner.listener()) {
                // Like Linux: the handshake's last ACK waits (dropped; our SYN-ACK is retransmitted) while the
                // listener's accept queue is full.
                self.put_back_untouched(tcb, fx);
                return self.drop_frame(DropReason::TcpListenOverflow);
            }
            // Only a SYN in TIME-WAIT may reopen through the listener: other segments skip its lookup.
            let reuse =
                tcb.reuse_for_syn(seg).and_then(|iss| Some((self.tcp.listeners.get(rx.dst, seg.dst_port)?, iss)));
            if let Some((l, iss)) = reuse {
                // RFC 1122 §4.2.2.13, RFC 6191: a new incarnation ends TIME-WAIT and opens through the listener.
                self.stats.tcp_time_wait_reused += 1;
                self.run_tcb_with(tcb, fx, now, out, |tcb, _, fx| tcb.finish(fx));
                return self.on_listen_segment(l, rx, seg, Some(iss), now, out);
            }
            if let IpAddr::V6(peer) = rx.src {
                // RFC 4861 §7.3.1: new data acknowledged confirms the neighbour on the path is reachable.
                let una = tcb.snd.una();
                self.run_tcb_with(tcb, fx, now, out, |tcb, cfg, fx| tcb.on_segment(seg, rx.ecn, now, cfg, fx));
                if self.tcp.conns.get(&h).is_some_and(|t| t.snd.una() != una) {
                    self.ipv6_confirm(peer, now);
                }
                return;
            }
            return self.run_tcb_with(tcb, fx, now, out, |tcb, cfg, fx| tcb.on_segment(seg, rx.ecn, now, cfg, fx));
        }
        if bad_payload(seg) {
            return self.drop_bad_checksum();
        }
        if let Some(l) = self.tcp.listeners.get(rx.dst, seg.dst_port) {
            return self.on_listen_segment(l, rx, seg, None, now, out);
        }
        self.drop_frame(DropReason::TcpNoSocket);
        if let Some(reset) = reset_reply(seg) {
            let why = crate::explain::Why::Reset(crate::explain::ResetWhy::NoSocket { port: seg.dst_port });
            self.send_stateless(rx.dst, rx.src, &reset, why, now, out);
        }
    }

    /// Opens a connection from `local` to `remote`, sends its SYN (active) or SYN-ACK (passive) and makes it
    /// findable. One function for both kinds: a handshake runs both, and each with its own copy of the steps
    /// would fill the instruction cache twice.
    #[inline(never)]
    fn open_connection(
        &mut self,
        opening: Opening<'_>,
        local: SocketAddr,
        remote: SocketAddr,
        now: Instant,
        out: &mut Vec<Output>,
    ) -> SocketHandle {
        let handle = self.alloc_handle();
        let mut initial = self.tcp.initial(local, remote, self.mtu_mss(remote.ip()), now);
        let cfg = &self.config.tcp;
        let state = match opening {
            Opening::Active => TcpState::SynSent,
            Opening::Passive { iss, .. } => {
                initial.iss = iss.unwrap_or(initial.iss);
                TcpState::SynReceived
            }
        };
        let mut tcb = self.tcp.new_tcb(handle, state, (local, remote), initial, cfg);
        // A path MTU learnt toward the peer (RFC 1191, RFC 8201) bounds the segments from the start, as Linux's
        // `tcp_sync_mss` at connect; the MSS we advertise stays our interface's.
        let path_mss = self.max_ip_payload(remote.ip()).saturating_sub(crate::wire::tcp::HEADER_LEN);
        tcb.opts.clamp_mss(path_mss);
        if let Opening::Passive { listener, syn, ip, .. } = opening {
            tcb.take_passive_syn(listener, syn, ip, initial.local_mss.min(path_mss), cfg, now);
            if let Some(state) = self.tcp.listener_state.get_mut(&listener) {
                state.half_open.insert(handle);
            }
        }
        let mut fx = self.new_effects();
        tcb.send_syn(now, &mut fx);
        self.tcp.register(local, remote, handle);
        self.apply_effects(tcb, fx, now, out);
        handle
    }

    /// Runs `f` on a connection taken out of the table, then applies its effects.
    fn with_tcb(
        &mut self,
        h: SocketHandle,
        now: Instant,
        out: &mut Vec<Output>,
        f: impl FnOnce(&mut Tcb, &crate::config::TcpConfig, &mut Effects),
    ) {
        let Some(tcb) = self.tcp.conns.take(&h) else {
            return;
        };
        self.run_tcb(tcb, now, out, f);
    }

    /// Runs `f` on a connection already taken out of the table, then applies its effects (which put it back).
    fn run_tcb(
        &mut self,
        tcb: Box<Tcb>,
        now: Instant,
        out: &mut Vec<Output>,
        f: impl FnOnce(&mut Tcb, &crate::config::TcpConfig, &mut Effects),
    ) {
        let fx = self.new_effects();
        self.run_tcb_with(tcb, fx, now, out, f);
    }

    /// `run_tcb` with effects already begun (`new_effects`).
    fn run_tcb_with(
        &mut self,
        mut tcb: Box<Tcb>,
        mut fx: Box<Effects>,
        now: Instant,
        out: &mut Vec<Output>,
        f: impl FnOnce(&mut Tcb, &crate::config::TcpConfig, &mut Effects),
    ) {
        self.sync_mss_to_path(&mut tcb);
        f(&mut tcb, &self.config.tcp, &mut fx);
        self.apply_effects(tcb, fx, now, out);
    }

    /// Linux's `tcp_current_mss`: a path MTU learnt toward the peer (by another connection, or a datagram's ICMP
    /// message) bounds this connection's segments before it cuts any, so none is cut too large for the path.
    /// Nothing to look up until some path MTU was learnt.
    #[inline]
    fn sync_mss_to_path(&self, tcb: &mut Tcb) {
        let remote = tcb.ends.remote_ip();
        let learnt = match remote {
            IpAddr::V4(_) => !self.ipv4_path_mtu.is_empty(),
            IpAddr::V6(_) => self.ipv6_path_mtu_learnt(),
        };
        if learnt {
            let headers = crate::wire::tcp::HEADER_LEN + tcb.option_overhead();
            tcb.opts.clamp_mss(self.max_ip_payload(remote).saturating_sub(headers));
        }
    }

    /// Puts back a connection whose segment is dropped before it ran (nothing to emit), forgetting what was
    /// staged for the segment, and keeps the unused effects for the next input.
    fn put_back_untouched(&mut self, mut tcb: Box<Tcb>, mut fx: Box<Effects>) {
        tcb.drop_staged(&mut fx);
        self.tcp.conns.put(tcb);
        self.tcp.spare_fx.insert(fx).recycle();
    }

    /// A segment's payload failed the checksum (see `TcpRepr::parse_deferring_payload`).
    #[inline(never)]
    fn drop_bad_checksum(&mut self) {
        self.drop_frame(DropReason::Malformed(Layer::Tcp, crate::wire::Error::BadChecksum));
    }

    /// An empty `Effects`, reusing the last one and its vectors. Boxed, so handing it around moves a pointer,
    /// not the struct.
    pub(crate) fn new_effects(&mut self) -> Box<Effects> {
        let mut fx = self.tcp.spare_fx.take().unwrap_or_default();
        fx.in_batch = self.tcp.in_batch;
        fx
    }

    /// A batch of frames starts: ACKs due at the end of the batch wait for [`Stack::end_tcp_batch`].
    pub(crate) fn begin_tcp_batch(&mut self) {
        self.tcp.in_batch = true;
    }

    /// The batch ended: every connection that held an ACK back for it sends it now, one ACK for all the
    /// segments it received in the batch.
    pub(crate) fn end_tcp_batch(&mut self, now: Instant, out: &mut Vec<Output>) {
        self.tcp.in_batch = false;
        if self.tcp.batch_acks.is_empty() {
            return;
        }
        let mut pending = core::mem::take(&mut self.tcp.batch_acks);
        for h in pending.drain(..) {
            self.with_tcb(h, now, out, |tcb, cfg, fx| {
                tcb.ack.batch_ended();
                tcb.poll_send(now, cfg, fx)
            });
        }
        self.tcp.batch_acks = pending;
    }

    /// Emits what a connection asked for and puts it back (or forgets it).
    fn apply_effects(&mut self, tcb: Box<Tcb>, mut fx: Box<Effects>, now: Instant, out: &mut Vec<Output>) {
        self.apply_effects_inner(tcb, &mut fx, now, out);
        // Moved back first, cleared where it lies: clearing first and then moving would read the flags just
        // cleared (byte stores) back wider than they were written, which stalls the CPU (store forwarding fails).
        self.tcp.spare_fx.insert(fx).recycle();
    }

    fn apply_effects_inner(&mut self, mut tcb: Box<Tcb>, fx: &mut Effects, now: Instant, out: &mut Vec<Output>) {
        if self.config.explain && tcb.state != tcb.reported_state {
            note_state(&mut tcb, out);
        }
        // Mostly empty: a drain's set-up and drop would cost more than the check.
        if !fx.drops.is_empty() {
            self.drop_frames(&mut fx.drops);
        }
        for tx in &fx.transmit {
            if tx.is_challenge_ack() && !self.tcp.challenge_acks.try_take(now) {
                self.stats.tcp_challenge_acks_suppressed += 1;
                continue;
            }
            self.transmit_segment(&mut tcb, tx, now, out);
        }
        let h = tcb.handle;
        if fx.established {
            if let Some(l) = tcb.owner.listener() {
                if let Some(state) = self.tcp.listener_state.get_mut(&l) {
                    state.promote(h);
                    out.push(Output::Event(l, Event::Acceptable));
                }
            }
        }
        // Events of a connection nobody accepted yet are withheld; accepting replays its state.
        if tcb.owner.listener().is_none() && !fx.events.is_empty() {
            // Mostly one event: plain pushes cost less than `extend`'s reservation and bookkeeping.
            for e in &mut fx.events {
                crate::stack::push_event(out, h, e);
            }
            fx.events.clear();
        }
        if tcb.account_time_wait(&mut self.tcp.time_wait, fx.release, now) {
            self.stats.tcp_time_wait_overflows += 1;
        }
        if fx.release {
            self.tcp.forget(&mut tcb);
            if self.tcp.spare_tcbs.len() < SPARE_TCBS {
                self.tcp.spare_tcbs.push(tcb);
            } else {
                drop_tcb(tcb);
            }
            return;
        }
        if fx.unlink {
            self.tcp.unlink(&mut tcb);
        }
        if fx.ack_at_batch_end {
            self.tcp.batch_acks.push(h);
        }
        let new_entry = tcb.timers.next_deadline().filter(|&next| tcb.timers.arm(next));
        self.tcp.conns.put(tcb);
        if let Some(next) = new_entry {
            // After the connection is back: the purge asks every connection which entry it waits for, so none
            // may be out of the table now (the stack works on one connection at a time, and this is its end).
            let conns = &self.tcp.conns;
            self.timers.make_room_for_tcp(conns.len(), |h, at| conns.get(&h).is_some_and(|t| t.timers.armed_at(at)));
            self.timers.schedule(next, TimerKey::Tcp(h));
        }
    }

    /// Counts the drops a connection reported. Out of line, like the other rare steps of `apply_effects`: that
    /// runs for every input, and code it carries for rare cases lies in the cache lines of the common ones (a
    /// handshake's code already outgrows the instruction cache).
    #[inline(never)]
    fn drop_frames(&mut self, drops: &mut Vec<DropReason>) {
        for d in drops.drain(..) {
            self.drop_frame(d);
        }
    }

    /// Is the accept queue of `listener` (a half-open connection's) full?
    fn accept_queue_full(&self, listener: Option<SocketHandle>) -> bool {
        listener.and_then(|l| self.tcp.listener_state.get(&l)).is_some_and(|l| l.ready.len() >= l.backlog)
    }

    /// Sends one segment of `tcb`: the connection builds it, the stack wraps it in IP.
    ///
    /// Never inlined: `apply_effects` had it (with the IP and TCP emitters it inlines) in several copies, 11.7 KB
    /// of code for every input to run through; one shared copy is smaller and, with fewer live values around
    /// it, runs fewer instructions.
    #[inline(never)]
    fn transmit_segment(&mut self, tcb: &mut Tcb, tx: &Outgoing, now: Instant, out: &mut Vec<Output>) {
        let (src, dst) = (tcb.ends.local_ip(), tcb.ends.remote_ip());
        let mut repr = TcpRepr::EMPTY;
        let max = self.max_payload_of(dst, IpProtocol::Tcp);
        let ecn = tcb.build_segment(tx, max, now, &mut repr);
        let header_len = repr.header_len();
        let len = header_len + tx.len;
        if len > max {
            // The path MTU toward the peer fell below a segment already cut (the sync before each run makes that
            // rare): the MSS follows it, and this segment is lost like one the path dropped (its data goes again,
            // smaller). TCP is never fragmented.
            return tcb.opts.clamp_mss(max.saturating_sub(header_len));
        }
        let (h, port) = (tcb.handle, tcb.ends.remote_port());
        let tcb = &*tcb;
        // With transmit checksum offload, `send_ipv4` leaves the partial checksum the device finishes.
        let compute_checksum = !self.config.tx_checksum_offload;
        if self.config.explain {
            self.sending_because = Some(tx.why);
        }
        let _ = self.send_ip(src, dst, IpProtocol::Tcp, ecn, len, Some(h), Some(port), now, out, |b| {
            let (head, body) = b.split_at_mut(header_len);
            repr.emit_with_header_len(&mut TcpPacket::new_unchecked(head), header_len);
            if !compute_checksum {
                return tcb.copy_payload(tx, body);
            }
            // The payload is summed while it is copied (one pass over it, not two), the header apart.
            let payload = tcb.copy_payload_summed(tx, body);
            let mut segment = TcpPacket::new_unchecked(b);
            match payload {
                Some(payload) => segment.fill_checksum_with_payload_sum(&src, &dst, header_len, payload),
                // A range past the send buffer (which never happens): whatever the frame holds is summed.
                None => segment.fill_checksum(&src, &dst),
            }
        });
        if self.config.explain {
            self.sending_because = None; // not sent (no route), or queued with it
        }
    }

    pub(crate) fn on_tcp_timer(&mut self, h: SocketHandle, at: Instant, now: Instant, out: &mut Vec<Output>) {
        // A stale entry (a later one is armed, or the connection is gone) does nothing.
        if !self.tcp.conns.get_mut(&h).is_some_and(|tcb| tcb.timers.fire(at)) {
            return;
        }
        self.with_tcb(h, now, out, |tcb, cfg, fx| tcb.on_timer(now, cfg, fx));
    }

    /// Sends a segment that belongs to no connection (a reset, or a SYN cookie's SYN-ACK).
    #[allow(clippy::too_many_arguments)]
    fn send_stateless(
        &mut self,
        src: IpAddr,
        dst: IpAddr,
        seg: &TcpRepr<'_>,
        why: crate::explain::Why,
        now: Instant,
        out: &mut Vec<Output>,
    ) {
        if self.config.explain {
            self.sending_because = Some(why);
        }
        let ecn = crate::wire::EcnCodepoint::NotEct;
        let sent = self.send_ip(src, dst, IpProtocol::Tcp, ecn, seg.buffer_len(), None, None, now, out, |b| {
            seg.emit(&mut TcpPacket::new_unchecked(b), &src, &dst)
        });
        if self.config.explain {
            self.sending_because = None;
        }
        if sent.is_ok() && seg.flags.contains(TcpFlags::RST) {
            self.stats.tcp_resets_sent += 1;
        }
    }
}

/// With `Config::explain`: notes the connection's change of state.
#[cold]
#[inline(never)]
fn note_state(tcb: &mut Tcb, out: &mut Vec<Output>) {
    let (from, to) = (core::mem::replace(&mut tcb.reported_state, tcb.state), tcb.state);
    out.push(Output::Note(crate::explain::Note::State { sock: tcb.handle, from, to }));
}

/// Frees a gone connection's box when the stack holds enough spare ones (after a burst of closes).
#[cold]
#[inline(never)]
fn drop_tcb(tcb: Box<Tcb>) {
    drop(tcb);
}

/// RFC 9293 §3.10.7.1 (CLOSED): the reset answering `seg`, or `None` if `seg` is itself a reset.
///
/// If the segment has ACK, the reset takes its sequence number from the ACK field; otherwise it has sequence
/// zero and acknowledges everything the segment occupied.
pub(crate) fn reset_reply(seg: &TcpRepr<'_>) -> Option<TcpRepr<'static>> {
    if seg.flags.contains(TcpFlags::RST) {
        return None;
    }
    let (seq_number, ack_number, flags) = if seg.flags.contains(TcpFlags::ACK) {
        (seg.ack_number, SeqNum(0), TcpFlags::RST)
    } else {
        (SeqNum(0), seg.seq_number + seg.segment_len(), TcpFlags::RST | TcpFlags::ACK)
    };
    Some(TcpRepr {
        src_port: seg.dst_port,
        dst_port: seg.src_port,
        seq_number,
        ack_number,
        flags,
        window_len: 0,
        urgent_ptr: 0,
        options: TcpOptions::default(),
        payload: &[],
    })
}

/// The four-tuple as the ISN and timestamp-offset hashes read it: local address and port, remote address and
/// port, in network byte order (one message: the same value as hashing the four fields one by one). 12 bytes
/// for IPv4, 36 for IPv6.
fn four_tuple_bytes(local: SocketAddr, remote: SocketAddr) -> TupleBytes {
    let mut t = TupleBytes { bytes: [0; 36], len: 0 };
    for end in [local, remote] {
        let at = t.len;
        let n = match end.ip() {
            IpAddr::V4(ip) => {
                t.bytes[at..at + 4].copy_from_slice(&ip.octets());
                4
            }
            IpAddr::V6(ip) => {
                t.bytes[at..at + 16].copy_from_slice(&ip.octets());
                16
            }
        };
        t.bytes[at + n..at + n + 2].copy_from_slice(&end.port().to_be_bytes());
        t.len = at + n + 2;
    }
    t
}

/// An IPv4 four-tuple as [`four_tuple_bytes`] writes it, in a fixed-size array.
fn four_tuple_v4(local: core::net::SocketAddrV4, remote: core::net::SocketAddrV4) -> [u8; 12] {
    let mut b = [0u8; 12];
    b[..4].copy_from_slice(&local.ip().octets());
    b[4..6].copy_from_slice(&local.port().to_be_bytes());
    b[6..10].copy_from_slice(&remote.ip().octets());
    b[10..].copy_from_slice(&remote.port().to_be_bytes());
    b
}

/// A four-tuple's bytes, of either family.
struct TupleBytes {
    bytes: [u8; 36],
    len: usize,
}

impl TupleBytes {
    fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}
