//! The `Stack`: one pure state machine. Frames, timers and commands go in; frames, replies and events come out.
//!
//! This file holds the dispatch (and the ARP retry timer); each protocol's handling lives in its own module as
//! an `impl Stack` block: ARP in `arp.rs`, IPv4 in `ipv4.rs`, ICMP in `icmp.rs`, UDP in `udp.rs`, TCP in `tcp/`.

use crate::api::{Command, CommandError, Event, Input, Output, Reply, SocketHandle, UnreachableReason};
use crate::arp::{ArpCache, Retry};
use crate::config::{Config, ConfigError};
use crate::icmp::PingSockets;
use crate::ports::PortAllocator;
use crate::ratelimit::{PeerBuckets, TokenBucket};
use crate::reassembly::Reassembler;
use crate::seed::derive_seed;
use crate::stats::{DropReason, Layer, Stats};
use crate::tcp::TcpSockets;
use crate::time::{Clock, Instant};
use crate::timer::{TimerKey, TimerQueue};
use crate::udp::UdpSockets;
use crate::wire::{EtherType, EthernetAddress, EthernetFrame};

/// A received frame, and whether the device already vouched for its TCP/UDP checksum.
///
/// A virtual device (virtio-net, a TAP device with a virtio-net header) hands over packets that a local sender
/// built with the transport checksum left unfinished (`VIRTIO_NET_HDR_F_NEEDS_CSUM`); such a packet never
/// crossed a wire, and computing its checksum only to verify it is wasted work (Linux marks it
/// `CHECKSUM_PARTIAL` and does not verify it either). Set `checksum_offloaded` only for such frames: the stack
/// then skips the TCP/UDP checksum of an unfragmented packet (counted in
/// [`Stats::transport_checksums_offloaded`](crate::Stats)); every other check still runs. A plain `&[u8]`
/// converts to a frame whose checksums are verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RxFrame<'a> {
    pub bytes: &'a [u8],
    pub checksum_offloaded: bool,
}

impl<'a> From<&'a [u8]> for RxFrame<'a> {
    fn from(bytes: &'a [u8]) -> Self {
        RxFrame { bytes, checksum_offloaded: false }
    }
}

/// A user-space TCP/IP host: ARP, IPv4, ICMP, UDP and TCP over one Ethernet interface.
///
/// Pure: the same inputs at the same `now` with the same [`Config::seed`] give the same outputs, byte for byte.
#[derive(Debug)]
pub struct Stack {
    pub(crate) config: Config,
    pub(crate) clock: Clock,
    pub(crate) stats: Stats,
    pub(crate) arp: ArpCache,
    pub(crate) reassembly: Reassembler,
    pub(crate) timers: TimerQueue,
    pub(crate) udp: UdpSockets,
    pub(crate) tcp: TcpSockets,
    pub(crate) ping: PingSockets,
    pub(crate) icmp_errors: TokenBucket,
    /// The same, per destination.
    pub(crate) icmp_errors_per_peer: PeerBuckets,
    /// Identification fields of the datagrams we originate, counted per flow.
    pub(crate) ip_idents: crate::ip_ident::IpIdents,
    /// IPv4 path MTUs learnt from "fragmentation needed" (RFC 1191), per destination.
    pub(crate) ipv4_path_mtu: crate::path_mtu::PathMtus<core::net::Ipv4Addr>,
    next_handle: u32,
    /// Frame buffers handed back by the driver ([`Stack::recycle_frame`]), reused for the next transmissions.
    frame_pool: Vec<Vec<u8>>,
    /// With [`Config::explain`]: why the IP packet being built is sent (its note follows its frame).
    pub(crate) sending_because: Option<crate::explain::Why>,
    /// With [`Config::explain`]: frames dropped while handling the current input, noted after its outputs.
    dropped: Vec<DropReason>,
    /// The DHCP client, with [`Config::dhcp`].
    pub(crate) dhcp: Option<crate::dhcp::DhcpClient>,
    /// The lease in use.
    pub(crate) dhcp_lease: Option<crate::dhcp::DhcpLease>,
    /// The deadline last scheduled for the DHCP client (so each is queued once).
    pub(crate) dhcp_timer: Option<Instant>,
    /// IPv6, with [`Config::ipv6`].
    pub(crate) ip6: Option<Box<crate::ipv6::Ipv6Host>>,
}

/// Most buffers [`Stack::recycle_frame`] keeps; more are freed.
const FRAME_POOL_MAX: usize = 256;

impl Stack {
    /// Builds a stack after checking every field of `config`.
    pub fn new(mut config: Config) -> Result<Stack, ConfigError> {
        config.validate()?;
        let seed = config.seed;
        let (lo, hi) = config.ephemeral_ports;
        let dhcp = config.dhcp.clone().map(|d| crate::dhcp::DhcpClient::new(d, config.mac, derive_seed(seed, 6)));
        let mut timers = TimerQueue::default();
        if let Some(client) = &dhcp {
            // Without an address until a lease is bound; the first DISCOVER goes out when timers first run.
            config.ipv4 = crate::config::Ipv4Cidr::UNCONFIGURED;
            config.gateway = None;
            if let Some(at) = client.deadline() {
                timers.schedule(at, TimerKey::Dhcp);
            }
        }
        let ip6 = config.ipv6.clone().map(|c| Box::new(crate::ipv6::Ipv6Host::new(c, config.mac, config.mtu, seed)));
        if ip6.is_some() {
            timers.schedule(Instant::ZERO, TimerKey::Ipv6Start);
        }
        Ok(Stack {
            ip6,
            dhcp_timer: dhcp.as_ref().and_then(|c| c.deadline()),
            dhcp,
            dhcp_lease: None,
            arp: ArpCache::new(config.arp.clone()),
            reassembly: Reassembler::new(config.reassembly.clone()),
            udp: UdpSockets::new(PortAllocator::randomized(lo, hi, derive_seed(seed, 1))),
            tcp: TcpSockets::new(&config, PortAllocator::new(lo, hi, derive_seed(seed, 4)), derive_seed(seed, 5)),
            ping: PingSockets::new(PortAllocator::new(1, u16::MAX, derive_seed(seed, 2))),
            icmp_errors: TokenBucket::new(config.icmp_error_rate),
            icmp_errors_per_peer: PeerBuckets::new(config.icmp_error_rate_per_peer),
            ip_idents: crate::ip_ident::IpIdents::new(derive_seed(seed, 3)),
            ipv4_path_mtu: crate::path_mtu::PathMtus::new(),
            clock: Clock::default(),
            stats: Stats::default(),
            timers,
            next_handle: 1,
            frame_pool: Vec::new(),
            sending_because: None,
            dropped: Vec::new(),
            config,
        })
    }

    /// The configuration this stack runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Counters since creation.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The latest time at which [`Input::Timer`] must be handled; `None` if nothing is pending.
    /// Calling earlier is harmless.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next_deadline()
    }

    /// Handles one input and returns every effect.
    pub fn handle(&mut self, input: Input<'_>, now: Instant) -> Vec<Output> {
        let mut out = Vec::new();
        self.handle_into(input, now, &mut out);
        out
    }

    /// Like [`Stack::handle`], appending to `out` so a driver can reuse one vector.
    pub fn handle_into(&mut self, input: Input<'_>, now: Instant, out: &mut Vec<Output>) {
        let now = self.clock.advance(now);
        match input {
            Input::Frame(frame) => {
                self.on_frame(frame, false, now, out);
                if self.config.explain {
                    self.note_drops(out);
                }
            }
            Input::Timer => self.on_timers(now, out),
            Input::Command(cmd) => {
                let mark = out.len();
                let reply = self.on_command(cmd, now, out);
                out.insert(mark, Output::Reply(reply));
            }
        }
    }

    /// Runs one command and returns its reply; every other effect (frames, events) is appended to `out`.
    ///
    /// The same as [`Stack::handle_into`] with [`Input::Command`], except that the reply comes back as the
    /// return value instead of as the first [`Output::Reply`]: for a driver or test that wants the reply and
    /// would otherwise fish it out of the vector. `out` never receives an [`Output::Reply`] from this call.
    pub fn command(&mut self, cmd: Command, now: Instant, out: &mut Vec<Output>) -> Result<Reply, CommandError> {
        let now = self.clock.advance(now);
        self.on_command(cmd, now, out)
    }

    /// Handles frames that arrived together, such as everything a driver read from its device in one wake-up.
    /// The same as calling [`Stack::handle_into`] with each frame in turn, except that a connection that
    /// receives several in-order segments acknowledges them with one ACK at the end of the batch, where it
    /// would otherwise send one for every second segment (Linux does the same after GRO). Out-of-order data,
    /// FINs and window updates are still acknowledged at once. Fewer ACKs cost both ends less per byte; a
    /// batch should hold only frames that are already waiting, never frames held back to make one.
    ///
    /// Items are frames (`&[u8]`) or [`RxFrame`]s, which can say that the device vouched for a frame's checksum.
    pub fn handle_frames_into<'f, F: Into<RxFrame<'f>>>(
        &mut self,
        frames: impl IntoIterator<Item = F>,
        now: Instant,
        out: &mut Vec<Output>,
    ) {
        let now = self.clock.advance(now);
        self.begin_tcp_batch();
        for frame in frames {
            let frame = frame.into();
            self.on_frame(frame.bytes, frame.checksum_offloaded, now, out);
            if self.config.explain {
                self.note_drops(out);
            }
        }
        self.end_tcp_batch(now, out);
    }

    /// Hands back the buffer of a transmitted frame once the driver is done with it, so the stack can build a
    /// later frame in it instead of allocating. Optional: a driver that drops its frames loses nothing but
    /// speed. Does not change what the stack does or sends.
    ///
    /// Inlined into the driver: called, it took the frame by reference to the driver's copy and read it back in
    /// a 16-byte piece over two 8-byte fields just written, which stalls the CPU (store forwarding fails).
    #[inline]
    pub fn recycle_frame(&mut self, frame: Vec<u8>) {
        if self.frame_pool.len() < FRAME_POOL_MAX && frame.capacity() > 0 {
            self.frame_pool.push(frame);
        }
    }

    /// A buffer of `len` bytes for a frame, recycled if possible. A recycled buffer keeps its old bytes (only
    /// growth is zeroed): the emitters write every header and payload byte, and `send_ipv4` zeroes the
    /// Ethernet padding, so clearing the whole buffer first would be wasted work. Debug builds fill recycled
    /// buffers with a poison byte instead, so any byte an emitter forgets shows up in every test.
    pub(crate) fn frame_buffer(&mut self, len: usize) -> Vec<u8> {
        match self.frame_pool.pop() {
            Some(mut buf) => {
                if cfg!(debug_assertions) {
                    buf.clear();
                    buf.resize(len, 0xa5);
                } else {
                    buf.resize(len, 0);
                }
                buf
            }
            None => vec![0u8; len],
        }
    }

    pub(crate) fn alloc_handle(&mut self) -> SocketHandle {
        let h = SocketHandle(self.next_handle);
        self.next_handle += 1;
        h
    }

    pub(crate) fn drop_frame(&mut self, reason: DropReason) {
        self.stats.drop(reason);
        if self.config.explain {
            self.dropped.push(reason);
        }
    }

    /// Notes the drops of the input just handled ([`Config::explain`]).
    fn note_drops(&mut self, out: &mut Vec<Output>) {
        out.extend(self.dropped.drain(..).map(|r| Output::Note(crate::explain::Note::Dropped(r))));
    }

    /// Hands a finished frame to the driver.
    #[inline(always)]
    pub(crate) fn transmit(&mut self, frame: Vec<u8>, out: &mut Vec<Output>) {
        self.stats.frames_out += 1;
        self.stats.bytes_out += frame.len() as u64;
        push_frame(out, frame);
    }

    /// Transmits a frame, then the note saying why it was sent (only ever known with [`Config::explain`]).
    #[inline(always)]
    pub(crate) fn transmit_because(&mut self, frame: Vec<u8>, why: Option<crate::explain::Why>, out: &mut Vec<Output>) {
        self.transmit(frame, out);
        if let Some(why) = why.filter(|_| self.config.explain) {
            out.push(Output::Note(crate::explain::Note::Sent(why)));
        }
    }

    fn on_frame(&mut self, bytes: &[u8], checksum_offloaded: bool, now: Instant, out: &mut Vec<Output>) {
        self.stats.frames_in += 1;
        self.stats.bytes_in += bytes.len() as u64;
        let frame = match EthernetFrame::new_checked(bytes) {
            Ok(f) => f,
            Err(e) => return self.drop_frame(DropReason::Malformed(Layer::Ethernet, e)),
        };
        let dst = frame.dst_addr();
        // IPv6 multicast (33:33:...) is checked against our groups at the IP layer.
        let ipv6_group = self.ip6.is_some() && dst.0[..2] == [0x33, 0x33];
        if dst != self.config.mac && !dst.is_broadcast() && !ipv6_group {
            return self.drop_frame(DropReason::NotOurMac);
        }
        let src = frame.src_addr();
        if src.is_multicast() || src == EthernetAddress([0; 6]) {
            return self.drop_frame(DropReason::Malformed(Layer::Ethernet, crate::wire::Error::BadField));
        }
        let link_broadcast = dst.is_broadcast();
        match frame.ethertype() {
            EtherType::Arp => self.on_arp(frame.payload(), now, out),
            EtherType::Ipv4 if !ipv6_group => {
                self.on_ipv4(frame.payload(), link_broadcast, checksum_offloaded, now, out)
            }
            // One of our own frames, reflected by the link: a DAD probe of ours must not count as another node's
            // (RFC 4862 §5.4.3). IPv4 needs no such check: a reflected datagram has our own source address, and ARP
            // refuses our MAC as a sender.
            EtherType::Ipv6 if src == self.config.mac => self.drop_frame(DropReason::LoopedBack),
            EtherType::Ipv6 => {
                let group = link_broadcast || ipv6_group;
                self.on_ipv6(frame.payload(), group, checksum_offloaded, now, out)
            }
            EtherType::Ipv4 => self.drop_frame(DropReason::NotOurMac),
            _ => self.drop_frame(DropReason::UnsupportedEtherType),
        }
    }

    fn on_timers(&mut self, now: Instant, out: &mut Vec<Output>) {
        while let Some((at, key)) = self.timers.pop_due(now) {
            match key {
                TimerKey::ArpRetry(ip) => self.on_arp_retry(ip, now, out),
                TimerKey::Reassembly(serial) => self.on_reassembly_timeout(serial, now, out),
                TimerKey::Tcp(sock) => self.on_tcp_timer(sock, at, now, out),
                TimerKey::Ipv6Start => self.ipv6_start(now, out),
                TimerKey::Ndp(t) => self.on_ndp_timer(t, now, out),
                TimerKey::Dhcp => {
                    if self.dhcp_timer == Some(at) {
                        self.dhcp_timer = None;
                    }
                    self.on_dhcp_timer(now, out);
                }
            }
        }
    }

    fn on_arp_retry(&mut self, ip: core::net::Ipv4Addr, now: Instant, out: &mut Vec<Output>) {
        match self.arp.on_retry(ip) {
            Retry::Resend => {
                self.send_arp_request(ip, out);
                self.timers.schedule(now + self.arp.retry_interval(), TimerKey::ArpRetry(ip));
            }
            Retry::GiveUp(frames) => {
                // One event per (socket, destination), in queue order.
                let mut told: Vec<(SocketHandle, core::net::Ipv4Addr, Option<u16>)> = Vec::new();
                for f in frames {
                    self.drop_frame(DropReason::ArpUnresolved);
                    if let Some(owner) = f.owner {
                        if self.on_tcp_no_neighbour(owner) {
                            continue; // soft for TCP: remembered, reported only if the connection times out
                        }
                        let key = (owner, f.dst, f.port);
                        if !told.contains(&key) {
                            told.push(key);
                            let reason = UnreachableReason::NoNeighbour;
                            out.push(Output::Event(
                                owner,
                                Event::Unreachable { dst: f.dst.into(), port: f.port, reason, reporter: None },
                            ));
                        }
                    }
                }
            }
            Retry::Nothing => {}
        }
    }

    /// `IPV6_V6ONLY` for a TCP listener or UDP socket bound to `[::]`.
    fn set_ipv6_only(&mut self, sock: SocketHandle, ipv6_only: bool) -> Result<Reply, CommandError> {
        if self.tcp.is_listener(sock) {
            self.tcp.set_listener_dual_stack(sock, !ipv6_only)?;
        } else {
            self.udp.set_dual_stack(sock, !ipv6_only)?;
        }
        Ok(Reply::Done)
    }

    fn on_command(&mut self, cmd: Command, now: Instant, out: &mut Vec<Output>) -> Result<Reply, CommandError> {
        match cmd {
            Command::UdpBind { local } => self.udp_bind(local),
            Command::UdpSendTo { sock, remote, data } => self.udp_send_to(sock, remote, &data, now, out),
            Command::UdpRecv { sock } => self.udp.recv(sock),
            Command::UdpClose { sock } => self.udp.close(sock),
            Command::PingOpen { ident } => self.ping_open(ident),
            Command::Ping { sock, dst, seq_no, payload_len } => {
                self.ping_send(sock, dst, seq_no, payload_len, now, out)
            }
            Command::PingClose { sock } => self.ping.close(sock),
            Command::TcpListen { local, backlog } => self.tcp_listen(local, backlog),
            Command::TcpAccept { listener } => self.tcp_accept(listener, out),
            Command::TcpConnect { remote, local_port } => self.tcp_connect(remote, local_port, now, out),
            Command::TcpSend { sock, data } => self.tcp_send(sock, data.into(), now, out),
            Command::TcpSendBytes { sock, data } => self.tcp_send(sock, data.into(), now, out),
            Command::TcpRecv { sock, max } => self.tcp_recv(sock, max, now, out),
            Command::TcpShutdown { sock } => self.tcp_shutdown(sock, now, out),
            Command::TcpClose { sock } => self.tcp_close(sock, now, out),
            Command::TcpAbort { sock } => self.tcp_abort(sock, now, out),
            Command::TcpSetNoDelay { sock, nodelay } => self.tcp_set_nodelay(sock, nodelay, now, out),
            Command::TcpSetKeepAlive { sock, keepalive } => self.tcp_set_keepalive(sock, keepalive, now, out),
            Command::TcpSetCongestion { sock, algorithm } => self.tcp_set_congestion(sock, &algorithm, now, out),
            Command::SetIpv6Only { sock, ipv6_only } => self.set_ipv6_only(sock, ipv6_only),
        }
    }
}

/// Appends `Output::Transmit(frame)` to `out`.
///
/// The same as `out.push(Output::Transmit(frame))`, except in how the compiler builds it: a push builds the
/// output (72 bytes) on the stack first and then copies it in 16-byte pieces, each reading back fields just
/// written with narrower stores, which stalls the CPU (store forwarding fails) on every frame sent. When there
/// is room, an empty frame is pushed (constants, written in place) and the frame moved into it.
#[inline(always)]
fn push_frame(out: &mut Vec<Output>, frame: Vec<u8>) {
    if out.len() < out.capacity() {
        out.push(Output::Transmit(Vec::new()));
        if let Some(Output::Transmit(slot)) = out.last_mut() {
            *slot = frame;
        }
    } else {
        out.push(Output::Transmit(frame));
    }
}

/// Moves `event` into `out` as `Output::Event(sock, event)`, leaving [`Event::Readable`] (no data) in its place.
///
/// When there is room, a placeholder event is pushed (constants, written in place, as [`push_frame`] does) and
/// swapped with `event` where both lie: moved out by value, an event was copied through the stack in
/// overlapping pieces (its fields follow a one-byte tag) and read back just after being written, which stalls
/// the CPU (store forwarding fails).
#[inline(always)]
pub(crate) fn push_event(out: &mut Vec<Output>, sock: SocketHandle, event: &mut Event) {
    if out.len() < out.capacity() {
        out.push(Output::Event(sock, Event::Readable));
        if let Some(Output::Event(_, slot)) = out.last_mut() {
            *slot = core::mem::replace(event, Event::Readable);
        }
    } else {
        out.push(Output::Event(sock, core::mem::replace(event, Event::Readable)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack() -> Stack {
        Stack::new(Config { ipv4: "10.0.0.2/24".parse().unwrap(), seed: 7, ..Config::default() }).unwrap()
    }

    /// `command` is `handle` with the reply returned instead of pushed first: same reply, same other outputs.
    #[test]
    fn command_returns_the_reply_that_handle_puts_first() {
        let (mut by_handle, mut by_command) = (stack(), stack());
        let cmds = [
            Command::UdpBind { local: "0.0.0.0:7".parse().unwrap() },
            Command::UdpBind { local: "0.0.0.0:7".parse().unwrap() },
            Command::TcpConnect { remote: "10.0.0.9:80".parse().unwrap(), local_port: None },
            Command::TcpRecv { sock: SocketHandle(99), max: 10 },
        ];
        for (i, cmd) in cmds.into_iter().enumerate() {
            let now = Instant::from_millis(i as u64);
            let mut expected = by_handle.handle(Input::Command(cmd.clone()), now);
            let mut out = vec![Output::Transmit(vec![1, 2, 3])];
            let reply = by_command.command(cmd, now, &mut out);
            assert_eq!(Output::Reply(reply), expected.remove(0));
            assert_eq!(out.remove(0), Output::Transmit(vec![1, 2, 3]), "earlier outputs stay");
            assert_eq!(out, expected);
        }
    }
}
