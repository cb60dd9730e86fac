//! TCP (RFC 9293): the connection table and its glue to the stack. The per-connection engine lives in
//! `tcb.rs` (state), `input.rs` (segment arrival), `output.rs` (what to send), `timers.rs`; listeners in
//! `listen.rs`; application commands in `commands.rs`.

mod autotune;
mod buffer;
mod byte_queue;
mod commands;
pub mod congestion;
mod cookie;
mod demux;
mod input;
mod listen;
mod output;
mod rtt;
mod sack;
pub mod seq;
mod table;
mod tcb;
mod timers;

pub use congestion::{CongestionAlgorithm, CongestionControl, NewReno};
pub use seq::SeqNum;
pub use tcb::TcpCounters;

use crate::api::{Event, Output, SocketHandle};
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
use core::net::{Ipv4Addr, SocketAddrV4};
use core::time::Duration;
use demux::Demux;
use listen::Listener;
use std::collections::{BTreeMap, HashMap};
use table::{ConnTable, HandleHasher};
use tcb::{Effects, Seg, Tcb, TimeWaitSlot};

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

/// A snapshot of one connection, for summaries, plots and tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpInfo {
    pub state: TcpState,
    pub local: SocketAddrV4,
    pub remote: SocketAddrV4,
    pub snd_una: SeqNum,
    pub snd_nxt: SeqNum,
    /// The peer's advertised window, scaled, in bytes.
    pub snd_wnd: usize,
    pub rcv_nxt: SeqNum,
    /// The window we last advertised, in bytes.
    pub rcv_wnd: usize,
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
    listeners: BTreeMap<u16, SocketHandle>,
    listener_state: BTreeMap<SocketHandle, Listener>,
    /// How many connections use each local port (ephemeral allocation avoids them). Our own ports, never
    /// chosen by a peer, so the unkeyed handle hash will do; only looked up, never iterated.
    ports_in_use: HashMap<u16, u32, HandleHasher>,
    ports: PortAllocator,
    /// RFC 6528 secret key.
    isn_key: (u64, u64),
    cookies: cookie::CookieJar,
    challenge_acks: TokenBucket,
    /// Emptied `Effects` kept for the next input, so handling a segment allocates nothing.
    spare_fx: Effects,
    /// A batch of frames is being handled ([`Stack::handle_frames_into`]).
    in_batch: bool,
    /// Connections holding an ACK until the batch ends (in the order they asked; may repeat).
    batch_acks: Vec<SocketHandle>,
    /// Connections in TIME-WAIT, against `TcpConfig::max_time_wait`.
    time_wait: usize,
}

impl TcpSockets {
    pub(crate) fn new(config: &Config, ports: PortAllocator, seed: u64) -> TcpSockets {
        let hasher = SeededHasher(derive_seed(seed, 1), derive_seed(seed, 2));
        TcpSockets {
            conns: ConnTable::default(),
            demux: Demux::new(hasher),
            listeners: BTreeMap::new(),
            listener_state: BTreeMap::new(),
            ports_in_use: HashMap::with_hasher(HandleHasher),
            ports,
            isn_key: (derive_seed(seed, 3), derive_seed(seed, 4)),
            cookies: cookie::CookieJar::new((derive_seed(seed, 5), derive_seed(seed, 6))),
            challenge_acks: TokenBucket::new(config.tcp.challenge_ack_rate),
            spare_fx: Effects::default(),
            in_batch: false,
            batch_acks: Vec::new(),
            time_wait: 0,
        }
    }

    /// RFC 6528: ISN = M + F(localip, localport, remoteip, remoteport, secretkey), M a 4 µs clock.
    fn isn(&self, local: SocketAddrV4, remote: SocketAddrV4, now: Instant) -> SeqNum {
        use core::hash::Hasher;
        let mut h = siphasher::sip::SipHasher24::new_with_keys(self.isn_key.0, self.isn_key.1);
        h.write(&local.ip().octets());
        h.write(&local.port().to_be_bytes());
        h.write(&remote.ip().octets());
        h.write(&remote.port().to_be_bytes());
        let m = (now.as_nanos() / 4_000) as u32;
        SeqNum((h.finish() as u32).wrapping_add(m))
    }

    /// An ephemeral port used by no listener and no connection.
    fn allocate_free_port(&mut self) -> Option<u16> {
        let (listeners, in_use) = (&self.listeners, &self.ports_in_use);
        self.ports.allocate(|p| listeners.contains_key(&p) || in_use.contains_key(&p))
    }

    /// An ephemeral port for a connection to `remote`: a free one if there is one; otherwise, as Linux does, one
    /// that other connections use but none to `remote` (connections are told apart by their four-tuple), so a
    /// host can hold more outgoing connections than it has ephemeral ports.
    fn allocate_port_for(&mut self, remote: SocketAddrV4) -> Option<u16> {
        self.allocate_free_port().or_else(|| {
            let (listeners, demux) = (&self.listeners, &self.demux);
            let key = |p: u16| (p, *remote.ip(), remote.port());
            self.ports.allocate(|p| listeners.contains_key(&p) || demux.contains(&key(p)))
        })
    }

    /// Makes a new connection findable by its four-tuple (the TCB itself goes in via `apply_effects`).
    fn register(&mut self, local: SocketAddrV4, remote: SocketAddrV4, h: SocketHandle) {
        self.demux.insert((local.port(), *remote.ip(), remote.port()), h);
        *self.ports_in_use.entry(local.port()).or_insert(0) += 1;
    }

    /// Removes a connection's four-tuple from the lookup tables (once).
    fn unlink(&mut self, tcb: &mut Tcb) {
        if !tcb.linked {
            return;
        }
        tcb.linked = false;
        let key = (tcb.local.port(), *tcb.remote.ip(), tcb.remote.port());
        self.demux.remove_if(&key, tcb.handle);
        if let Some(n) = self.ports_in_use.get_mut(&tcb.local.port()) {
            *n -= 1;
            if *n == 0 {
                self.ports_in_use.remove(&tcb.local.port());
                table::release_spare_capacity(&mut self.ports_in_use);
            }
        }
    }

    /// Forgets a connection that was taken out of `conns`.
    fn forget(&mut self, tcb: &mut Tcb) {
        self.conns.remove(&tcb.handle);
        self.unlink(tcb);
        if let Some(l) = tcb.listener.and_then(|l| self.listener_state.get_mut(&l)) {
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
            local: t.local,
            remote: t.remote,
            snd_una: t.snd_una,
            snd_nxt: t.snd_nxt,
            snd_wnd: t.snd_wnd,
            rcv_nxt: t.rcv_nxt,
            rcv_wnd: t.rcv_wnd(),
            cwnd: t.cc.cwnd(),
            ssthresh: t.cc.ssthresh(),
            srtt: t.rtt.srtt(),
            rttvar: t.rtt.rttvar(),
            rto: t.rtt.rto(),
            mss: t.mss,
            rcv_wscale: t.rcv_shift,
            snd_wscale: t.snd_shift,
            in_recovery: t.in_recovery,
            send_queued: t.send_buf.len(),
            recv_queued: t.recv_buf.readable(),
            send_buffer: t.send_buf.capacity(),
            recv_buffer: t.recv_buf.capacity(),
            counters: t.counters,
        })
    }

    /// Handles of every TCP connection (not listeners), in handle order.
    pub fn tcp_connections(&self) -> Vec<SocketHandle> {
        self.tcp.conns.handles()
    }

    /// MSS our MTU allows (no IP or TCP options in data segments).
    fn mtu_mss(&self) -> usize {
        self.config.mtu - crate::wire::ipv4::HEADER_LEN - crate::wire::tcp::HEADER_LEN
    }

    /// A TCP segment arrived for us.
    pub(crate) fn on_tcp(&mut self, rx: &Received<'_>, now: Instant, out: &mut Vec<Output>) {
        let parsed = TcpPacket::new_checked(rx.payload).and_then(|p| {
            if rx.checksum_offloaded {
                TcpRepr::parse_unverified(&p)
            } else {
                TcpRepr::parse(&p, &rx.src, &rx.dst)
            }
        });
        self.stats.transport_checksums_offloaded += u64::from(rx.checksum_offloaded && parsed.is_ok());
        let seg = match parsed {
            Ok(s) => s,
            Err(e) => return self.drop_frame(DropReason::Malformed(Layer::Tcp, e)),
        };
        if rx.broadcast {
            // TCP is unicast only; never answer a broadcast.
            return self.drop_frame(DropReason::TcpNoSocket);
        }
        let key = (seg.dst_port, rx.src, seg.src_port);
        if let Some(h) = self.tcp.demux.find(&key) {
            let Some(tcb) = self.tcp.conns.take(&h) else {
                return;
            };
            let completes_handshake = tcb.state == TcpState::SynReceived
                && seg.flags.contains(TcpFlags::ACK)
                && !seg.flags.contains(TcpFlags::RST);
            if completes_handshake && self.accept_queue_full(tcb.listener) {
                // Like Linux: the handshake's last ACK waits (dropped; our SYN-ACK is retransmitted) while the
                // listener's accept queue is full.
                self.tcp.conns.put(h, tcb);
                return self.drop_frame(DropReason::TcpListenOverflow);
            }
            return self.run_tcb(tcb, now, out, |tcb, cfg, fx| tcb.on_segment(&seg, now, cfg, fx));
        }
        if let Some(&l) = self.tcp.listeners.get(&seg.dst_port) {
            return self.on_listen_segment(l, rx, &seg, now, out);
        }
        self.drop_frame(DropReason::TcpNoSocket);
        if let Some(reset) = reset_reply(&seg) {
            self.send_stateless(rx.dst, rx.src, &reset, now, out);
        }
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
        mut tcb: Box<Tcb>,
        now: Instant,
        out: &mut Vec<Output>,
        f: impl FnOnce(&mut Tcb, &crate::config::TcpConfig, &mut Effects),
    ) {
        let mut fx = self.new_effects();
        f(&mut tcb, &self.config.tcp, &mut fx);
        self.apply_effects(tcb, fx, now, out);
    }

    /// An empty `Effects`, reusing the vectors of the last one.
    pub(crate) fn new_effects(&mut self) -> Effects {
        let mut fx = core::mem::take(&mut self.tcp.spare_fx);
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
            self.with_tcb(h, now, out, |tcb, cfg, fx| tcb.poll_send(now, cfg, fx));
        }
        self.tcp.batch_acks = pending;
    }

    /// Emits what a connection asked for and puts it back (or forgets it).
    fn apply_effects(&mut self, tcb: Box<Tcb>, mut fx: Effects, now: Instant, out: &mut Vec<Output>) {
        self.apply_effects_inner(tcb, &mut fx, now, out);
        self.tcp.spare_fx = fx.recycle();
    }

    fn apply_effects_inner(&mut self, mut tcb: Box<Tcb>, fx: &mut Effects, now: Instant, out: &mut Vec<Output>) {
        for d in fx.drops.drain(..) {
            self.drop_frame(d);
        }
        for seg in &fx.segs {
            if seg.challenge {
                if !self.tcp.challenge_acks.try_take(now) {
                    self.stats.tcp_challenge_acks_suppressed += 1;
                    continue;
                }
                tcb.counters.challenge_acks += 1;
            }
            self.emit_segment(&mut tcb, seg, now, out);
        }
        let h = tcb.handle;
        if fx.established {
            if let Some(l) = tcb.listener {
                if let Some(state) = self.tcp.listener_state.get_mut(&l) {
                    state.promote(h);
                    out.push(Output::Event(l, Event::Acceptable));
                }
            }
        }
        // Events of a connection nobody accepted yet are withheld; accepting replays its state.
        if tcb.listener.is_none() && !fx.events.is_empty() {
            out.extend(fx.events.drain(..).map(|e| Output::Event(h, e)));
        }
        self.count_time_wait(&mut tcb, fx.release, now);
        if fx.release {
            self.tcp.forget(&mut tcb);
            return;
        }
        if fx.unlink {
            self.tcp.unlink(&mut tcb);
        }
        if fx.ack_at_batch_end {
            self.tcp.batch_acks.push(h);
        }
        if let Some(next) = tcb.next_deadline() {
            if tcb.armed_at.is_none_or(|armed| next < armed) {
                self.timers.schedule(next, TimerKey::Tcp(h));
                tcb.armed_at = Some(next);
            }
        }
        self.tcp.conns.put(h, tcb);
    }

    /// Keeps the count of TIME-WAIT connections as `tcb` enters or leaves it (`released`: it is being
    /// forgotten). One that enters with `max_time_wait` already there is cut short, as Linux does: its close
    /// timer fires now and ends it the way the end of TIME-WAIT would.
    fn count_time_wait(&mut self, tcb: &mut Tcb, released: bool, now: Instant) {
        let in_time_wait = tcb.state == TcpState::TimeWait && !released;
        match (in_time_wait, tcb.time_wait_slot) {
            (true, TimeWaitSlot::None) if self.tcp.time_wait < self.config.tcp.max_time_wait => {
                self.tcp.time_wait += 1;
                tcb.time_wait_slot = TimeWaitSlot::Counted;
            }
            (true, TimeWaitSlot::None) => {
                self.stats.tcp_time_wait_overflows += 1;
                tcb.time_wait_slot = TimeWaitSlot::Cut;
                tcb.close_at = Some(now);
            }
            (false, TimeWaitSlot::Counted) => {
                self.tcp.time_wait -= 1;
                tcb.time_wait_slot = TimeWaitSlot::None;
            }
            // A retransmitted FIN restarts the TIME-WAIT timer; a connection cut short still ends now.
            (true, TimeWaitSlot::Cut) => tcb.close_at = Some(now),
            (false, TimeWaitSlot::Cut) => tcb.time_wait_slot = TimeWaitSlot::None,
            _ => {}
        }
    }

    /// Is the accept queue of `listener` (a half-open connection's) full?
    fn accept_queue_full(&self, listener: Option<SocketHandle>) -> bool {
        listener.and_then(|l| self.tcp.listener_state.get(&l)).is_some_and(|l| l.ready.len() >= l.backlog)
    }

    /// Builds and sends one segment of `tcb`.
    fn emit_segment(&mut self, tcb: &mut Tcb, seg: &Seg, now: Instant, out: &mut Vec<Output>) {
        let in_syn = seg.flags.contains(TcpFlags::SYN);
        let window_len = if seg.flags.contains(TcpFlags::RST) { 0 } else { tcb.advertise_window(in_syn) };
        let ack_number = seg.ack.unwrap_or(if seg.flags.contains(TcpFlags::ACK) { tcb.rcv_nxt } else { SeqNum(0) });
        let mut options = TcpOptions::default();
        if seg.syn_options {
            options.mss = Some(self.mtu_mss() as u16);
            let active = tcb.state == TcpState::SynSent;
            let offer_wscale = if active { self.config.tcp.window_scaling } else { tcb.peer_wants_wscale };
            if offer_wscale {
                options.window_scale = Some(tcb.rcv_shift);
            }
            options.sack_permitted = if active { self.config.tcp.sack } else { tcb.sack_ok };
        } else if tcb.sack_ok && seg.flags.contains(TcpFlags::ACK) && tcb.recv_buf.has_out_of_order() {
            options.sack_blocks = tcb.sack_blocks();
        }
        let mut repr = TcpRepr {
            src_port: tcb.local.port(),
            dst_port: tcb.remote.port(),
            seq_number: seg.seq,
            ack_number,
            flags: seg.flags,
            window_len,
            urgent_ptr: 0,
            options,
            payload: &[],
        };
        let mut header_len = repr.header_len();
        if header_len + seg.len > self.max_payload_of(IpProtocol::Tcp) {
            // A full-sized data segment has no room for SACK blocks (the MSS leaves none for options, RFC
            // 6691); the next pure ACK carries them.
            repr.options.sack_blocks = Default::default();
            header_len = repr.header_len();
        }
        let (src, dst) = (*tcb.local.ip(), *tcb.remote.ip());
        let (h, port) = (tcb.handle, tcb.remote.port());
        tcb.counters.segments_sent += 1;
        let buf = &tcb.send_buf;
        // With transmit checksum offload, `send_ipv4` leaves the partial checksum the device finishes.
        let checksum = !self.config.tx_checksum_offload;
        let _ = self.send_ipv4(dst, IpProtocol::Tcp, header_len + seg.len, Some(h), Some(port), now, out, |b| {
            let (head, body) = b.split_at_mut(header_len);
            repr.emit_without_checksum(&mut TcpPacket::new_unchecked(head));
            buf.copy_out(seg.offset, body);
            if checksum {
                TcpPacket::new_unchecked(b).fill_checksum(&src, &dst);
            }
        });
    }

    pub(crate) fn on_tcp_timer(&mut self, h: SocketHandle, at: Instant, now: Instant, out: &mut Vec<Output>) {
        match self.tcp.conns.get_mut(&h) {
            Some(tcb) if tcb.armed_at == Some(at) => tcb.armed_at = None,
            _ => return, // stale: a later entry is armed, or the connection is gone
        }
        self.with_tcb(h, now, out, |tcb, cfg, fx| tcb.on_timer(now, cfg, fx));
    }

    /// An ICMP error quoting one of our TCP segments (RFC 5927 checks: the quoted sequence number must be
    /// in flight). Hard errors abort a connection still opening; the rest are reported.
    pub(crate) fn on_tcp_icmp_error(
        &mut self,
        dst: Ipv4Addr,
        quoted: &[u8],
        reason: crate::api::UnreachableReason,
        now: Instant,
        out: &mut Vec<Output>,
    ) -> bool {
        let (Some(src_port), Some(dst_port), Some(seq)) = (be16(quoted, 0), be16(quoted, 2), be32(quoted, 4)) else {
            return false;
        };
        let Some(h) = self.tcp.demux.find(&(src_port, dst, dst_port)) else {
            return false;
        };
        let Some(tcb) = self.tcp.conns.get(&h) else {
            return false;
        };
        let seq = SeqNum(seq);
        if seq < tcb.snd_una || seq > tcb.snd_max || (seq == tcb.snd_max && tcb.snd_max != tcb.snd_una) {
            return false;
        }
        let hard = matches!(reason, crate::api::UnreachableReason::DstUnreachable { code: 2..=3, .. });
        let opening = tcb.state == TcpState::SynSent;
        // RFC 1191: "fragmentation needed" names the next hop's MTU; shrink the MSS and resend what was lost.
        let path_mss = match reason {
            crate::api::UnreachableReason::DstUnreachable { code: 4, next_hop_mtu } if next_hop_mtu >= 576 => {
                Some(usize::from(next_hop_mtu) - crate::wire::ipv4::HEADER_LEN - crate::wire::tcp::HEADER_LEN)
            }
            _ => None,
        };
        let event = Event::Unreachable { dst, port: Some(dst_port), reason };
        self.with_tcb(h, now, out, |tcb, cfg, fx| {
            fx.events.push(event);
            if hard && opening {
                tcb.terminate(None, fx);
                return;
            }
            if let Some(mss) = path_mss.filter(|m| *m < tcb.mss) {
                tcb.mss = mss;
                tcb.snd_nxt = tcb.snd_una;
                tcb.timing = None;
                tcb.poll_send(now, cfg, fx);
            }
        });
        true
    }

    /// Sends a segment that belongs to no connection (a reset, or a SYN cookie's SYN-ACK).
    fn send_stateless(&mut self, src: Ipv4Addr, dst: Ipv4Addr, seg: &TcpRepr<'_>, now: Instant, out: &mut Vec<Output>) {
        let sent = self.send_ipv4(dst, IpProtocol::Tcp, seg.buffer_len(), None, None, now, out, |b| {
            seg.emit(&mut TcpPacket::new_unchecked(b), &src, &dst)
        });
        if sent.is_ok() && seg.flags.contains(TcpFlags::RST) {
            self.stats.tcp_resets_sent += 1;
        }
    }
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes([*b.get(at)?, *b.get(at + 1)?, *b.get(at + 2)?, *b.get(at + 3)?]))
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
