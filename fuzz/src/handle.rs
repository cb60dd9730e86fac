//! `Stack::handle` under an arbitrary sequence of frames, commands and time steps.
//!
//! The stack (10.0.0.2) starts with a listener on port 80, one accepted passive connection and one active
//! connection to its peer (10.0.0.1), both ESTABLISHED through hand-made handshakes. The input then decodes, op
//! by op, into raw frames, TCP segments aimed at the listener or at live connections (sequence and
//! acknowledgment numbers exact, near or far from the window, any flags, raw options and data offsets,
//! mutated), other frames, commands (TCP, UDP, ping) with arbitrary handles and sizes, and time steps.
//!
//! Checked after every call: no panic; each command yields exactly one reply, first; every emitted frame is
//! valid per etherparse with correct checksums; and — as long as only generated payloads were sent — every byte
//! the application reads equals the byte the peer sent at that sequence number. The whole run is done twice
//! and must give the same outputs and stats (determinism).

use crate::build::{self, Tcp, ACK, FIN, PSH, RST, SYN};
use crate::{check_command_outputs, check_transmit};
use arbitrary::{Arbitrary, Result, Unstructured};
use core::net::{Ipv4Addr, SocketAddr};
use core::time::Duration;
use std::collections::BTreeMap;
use synack::tcp::TcpState;
use synack::wire::EthernetAddress;
use synack::{Command, Config, Event, Input, Instant, Output, Reply, SocketHandle, Stack, Stats};

pub const STACK_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x0b]);
pub const STACK_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
pub const PEER_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x0a]);
pub const PEER_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
pub const LISTEN_PORT: u16 = 80;
/// The port the stack's active connection goes to.
pub const PEER_PORT: u16 = 8080;
const UDP_PORT: u16 = 7;

/// The byte a generated peer puts at sequence number `seq`: reads are checked against it.
pub fn byte_at(seq: u32) -> u8 {
    (seq.wrapping_mul(0x9e37_79b1) >> 24) as u8
}

fn payload_at(seq: u32, len: usize) -> Vec<u8> {
    (0..len as u32).map(|i| byte_at(seq.wrapping_add(i))).collect()
}

/// A few configurations, so small buffers, tiny queues and no window scaling get explored too.
fn config(variant: u8, seed: u64) -> Config {
    let mut c = Config { mac: STACK_MAC, ipv4: "10.0.0.2/24".parse().unwrap(), seed, ..Config::default() };
    // Dual stack but for the tiny-MTU variant (IPv6 needs 1280): NDP, ICMPv6, fragments and TCP/UDP over IPv6
    // are reachable from the frames the fuzzer makes.
    if variant % 4 != 2 {
        let addresses = vec!["2001:db8::2/64".parse().unwrap()];
        c.ipv6 =
            Some(synack::Ipv6Config { addresses, gateway: Some("fe80::1".parse().unwrap()), ..Default::default() });
    }
    match variant % 4 {
        0 => {}
        1 => {
            c.tcp.send_buffer = 4096;
            c.tcp.recv_buffer = 2048;
            c.tcp.max_out_of_order = 2;
            // Buffers that may grow (autotuning) from small starting sizes.
            c.tcp.send_buffer_max = 1 << 20;
            c.tcp.recv_buffer_max = 1 << 20;
            if let Some(v6) = c.ipv6.as_mut() {
                v6.nd.max_pending_frames = 2;
                v6.nd.max_entries = 4;
                v6.nd.dup_addr_detect_transmits = 0;
            }
        }
        2 => {
            c.tcp.window_scaling = false;
            c.tcp.syn_queue = 1;
            c.tcp.max_backlog = 2;
            c.tcp.challenge_ack_rate = synack::RateLimit { per_second: 1, burst: 1 };
            c.mtu = 576;
            // One connection in TIME-WAIT at most: the rest are cut short.
            c.tcp.max_time_wait = 1;
        }
        _ => {
            c.tcp.syn_cookies = false;
            c.tcp.syn_queue = 2;
            c.tcp.nodelay = true;
            c.tcp.max_retransmissions = 2;
            c.tcp.syn_retries = 1;
            c.tcp.synack_retries = 1;
            // Data frames of several segments, as for a device that cuts them (TSO).
            c.tcp.segmentation_offload = 9000;
        }
    }
    c
}

/// Where a generated segment's sequence (or acknowledgment) number lies relative to a reference.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Near {
    Exact,
    Offset(i16),
    Far(u32),
    /// A quarter of the sequence space away (surely outside any window).
    Opposite,
}

impl Near {
    fn apply(self, reference: u32) -> u32 {
        match self {
            Near::Exact => reference,
            Near::Offset(d) => reference.wrapping_add(d as i32 as u32),
            Near::Far(v) => v,
            Near::Opposite => reference.wrapping_add(0x4000_0000),
        }
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Options {
    None,
    /// MSS, SACK-permitted, timestamps, window scale: what Linux puts on a SYN.
    Linux {
        mss: u16,
        wscale: u8,
    },
    Timestamp(u32, u32),
    Sack {
        left: i16,
        len: u16,
    },
    /// Up to 16 raw bytes (padded with zeros to a multiple of 4).
    Raw {
        bytes: [u8; 16],
        len: u8,
    },
}

impl Options {
    fn bytes(self, rcv_nxt: u32) -> Vec<u8> {
        match self {
            Options::None => Vec::new(),
            Options::Linux { mss, wscale } => {
                let [m0, m1] = mss.to_be_bytes();
                vec![2, 4, m0, m1, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, wscale]
            }
            Options::Timestamp(a, b) => {
                let mut v = vec![1, 1, 8, 10];
                v.extend_from_slice(&a.to_be_bytes());
                v.extend_from_slice(&b.to_be_bytes());
                v
            }
            Options::Sack { left, len } => {
                let l = rcv_nxt.wrapping_add(left as i32 as u32);
                let mut v = vec![1, 1, 5, 10];
                v.extend_from_slice(&l.to_be_bytes());
                v.extend_from_slice(&l.wrapping_add(u32::from(len)).to_be_bytes());
                v
            }
            Options::Raw { bytes, len } => bytes[..usize::from(len) % 17].to_vec(),
        }
    }
}

/// Changes to a generated frame before it is fed.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Mutation {
    None,
    FlipBit {
        at: u16,
        bit: u8,
    },
    SetByte {
        at: u16,
        value: u8,
    },
    Truncate {
        len: u16,
    },
    /// Sets the TCP data offset (in 32-bit words) of a 20-byte-IP-header frame.
    DataOffset(u8),
    /// Sets the IPv4 total length.
    TotalLen(u16),
}

impl Mutation {
    fn apply(self, f: &mut Vec<u8>) {
        let n = f.len();
        match self {
            Mutation::None => {}
            Mutation::FlipBit { at, bit } => f[usize::from(at) % n] ^= 1 << (bit % 8),
            Mutation::SetByte { at, value } => f[usize::from(at) % n] = value,
            Mutation::Truncate { len } => f.truncate(usize::from(len) % (n + 1)),
            Mutation::DataOffset(words) => {
                if let Some(b) = f.get_mut(build::ETH_LEN + build::IP_LEN + 12) {
                    *b = (words << 4) | (*b & 0x0f);
                }
            }
            Mutation::TotalLen(len) => f[build::ETH_LEN + 2..build::ETH_LEN + 4].copy_from_slice(&len.to_be_bytes()),
        }
    }
}

/// A TCP segment built from fuzz input.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct Segment {
    /// Low 12 bits: the flags. Bits 12..: a preset (0-3 keeps the raw flags, others pick a common set).
    pub flags: u16,
    pub seq: Near,
    pub ack: Near,
    pub window: u16,
    pub options: Options,
    pub payload_len: u16,
    pub mutation: Mutation,
    /// Recompute the checksums after the mutation, so deeper checks see the mutated fields.
    pub fix: bool,
}

impl Segment {
    fn flags(&self) -> u16 {
        match self.flags >> 12 {
            4 => ACK,
            5 => ACK | PSH,
            6 => ACK | FIN,
            7 => RST,
            8 => RST | ACK,
            9 => SYN,
            10 => SYN | ACK,
            11 => ACK | PSH | FIN,
            _ => self.flags & 0x0fff,
        }
    }
}

/// Commands, with handles as small numbers so that they hit real sockets often.
#[derive(Arbitrary, Debug, Clone)]
pub enum Cmd {
    TcpListen { port: u8, backlog: u8 },
    TcpAccept { sock: u8 },
    TcpConnect { host: u8, port: u16, local_port: Option<u16> },
    TcpSend { sock: u8, len: u16 },
    TcpRecv { sock: u8, max: u16 },
    TcpShutdown { sock: u8 },
    TcpClose { sock: u8 },
    TcpAbort { sock: u8 },
    TcpSetNoDelay { sock: u8, nodelay: bool },
    UdpBind { port: u8 },
    UdpSendTo { sock: u8, host: u8, port: u16, len: u16 },
    UdpRecv { sock: u8 },
    UdpClose { sock: u8 },
    PingOpen { ident: Option<u16> },
    Ping { sock: u8, host: u8, seq_no: u16, len: u16 },
    PingClose { sock: u8 },
}

fn handle_of(n: u8) -> SocketHandle {
    SocketHandle(u32::from(n % 12))
}

fn host(n: u8) -> Ipv4Addr {
    match n % 8 {
        0..=3 => PEER_IP,
        4 => Ipv4Addr::new(10, 0, 0, n),
        5 => Ipv4Addr::BROADCAST,
        6 => STACK_IP,
        _ => Ipv4Addr::new(192, 168, 1, n),
    }
}

fn port(p: u8) -> u16 {
    match p % 4 {
        0 => 0,
        1 => LISTEN_PORT,
        _ => u16::from(p),
    }
}

impl Cmd {
    fn command(&self) -> Command {
        let data = |len: u16| payload_at(0, usize::from(len) * 2);
        match *self {
            Cmd::TcpListen { port: p, backlog } => Command::TcpListen {
                local: SocketAddr::from((if p & 0x80 != 0 { STACK_IP } else { Ipv4Addr::UNSPECIFIED }, port(p))),
                backlog: usize::from(backlog % 8),
            },
            Cmd::TcpAccept { sock } => Command::TcpAccept { listener: handle_of(sock) },
            Cmd::TcpConnect { host: h, port, local_port } => {
                Command::TcpConnect { remote: SocketAddr::from((host(h), port)), local_port }
            }
            Cmd::TcpSend { sock, len } => Command::TcpSend { sock: handle_of(sock), data: data(len) },
            Cmd::TcpRecv { sock, max } => Command::TcpRecv { sock: handle_of(sock), max: usize::from(max) },
            Cmd::TcpShutdown { sock } => Command::TcpShutdown { sock: handle_of(sock) },
            Cmd::TcpClose { sock } => Command::TcpClose { sock: handle_of(sock) },
            Cmd::TcpAbort { sock } => Command::TcpAbort { sock: handle_of(sock) },
            Cmd::TcpSetNoDelay { sock, nodelay } => Command::TcpSetNoDelay { sock: handle_of(sock), nodelay },
            Cmd::UdpBind { port: p } => Command::UdpBind { local: SocketAddr::from((Ipv4Addr::UNSPECIFIED, port(p))) },
            Cmd::UdpSendTo { sock, host: h, port, len } => Command::UdpSendTo {
                sock: handle_of(sock),
                remote: SocketAddr::from((host(h), port)),
                data: data(len / 16),
            },
            Cmd::UdpRecv { sock } => Command::UdpRecv { sock: handle_of(sock) },
            Cmd::UdpClose { sock } => Command::UdpClose { sock: handle_of(sock) },
            Cmd::PingOpen { ident } => Command::PingOpen { ident },
            Cmd::Ping { sock, host: h, seq_no, len } => {
                Command::Ping { sock: handle_of(sock), dst: host(h).into(), seq_no, payload_len: usize::from(len) }
            }
            Cmd::PingClose { sock } => Command::PingClose { sock: handle_of(sock) },
        }
    }
}

/// Other frames a neighbour may send.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Other {
    ArpRequest {
        host: u8,
    },
    ArpReply {
        host: u8,
    },
    Echo {
        len: u16,
    },
    Udp {
        to_bound: bool,
        len: u16,
    },
    /// An ICMP error quoting a segment of connection `conn` with sequence number near its SND.UNA.
    IcmpAboutTcp {
        conn: u8,
        ty_is_unreachable: bool,
        code: u8,
        seq: Near,
        mtu: u16,
    },
}

/// One step of a run. Decoded by hand (a tag byte, then the fields) so that seed files are easy to write.
#[derive(Debug, Clone)]
pub enum Op {
    /// Raw bytes as a frame.
    Raw(Vec<u8>),
    /// A segment to live connection number `conn` (in handle order).
    ToConn {
        conn: u8,
        seg: Segment,
    },
    /// A segment to the listener from peer port `src_port` (sequence numbers absolute).
    ToListener {
        src_port: u16,
        seg: Segment,
    },
    /// Completes the handshake of the most recent SYN-ACK the stack sent to the peer.
    CompleteHandshake {
        nth: u8,
    },
    /// The peer acknowledges everything of every connection (and opens its window), so data flows.
    AckAll,
    Other(Other, Mutation),
    Timer(u16),
    NextDeadline,
    Command(Cmd),
}

/// The tag byte of [`Op::Raw`]: a seed file is `[RAW_TAG, len_lo, len_hi, frame...]*`.
pub const RAW_TAG: u8 = 0;
const OPS: u8 = 9;

impl Op {
    pub fn decode(u: &mut Unstructured<'_>) -> Result<Op> {
        Ok(match u.arbitrary::<u8>()? % OPS {
            RAW_TAG => {
                let len = usize::from(u16::from_le_bytes([u.arbitrary()?, u.arbitrary()?]));
                Op::Raw(u.bytes(len.min(u.len()))?.to_vec())
            }
            1 => Op::ToConn { conn: u.arbitrary()?, seg: u.arbitrary()? },
            2 => Op::ToListener { src_port: u.arbitrary()?, seg: u.arbitrary()? },
            3 => Op::CompleteHandshake { nth: u.arbitrary()? },
            4 => Op::AckAll,
            5 => Op::Other(u.arbitrary()?, u.arbitrary()?),
            6 => Op::Timer(u.arbitrary()?),
            7 => Op::NextDeadline,
            _ => Op::Command(u.arbitrary()?),
        })
    }
}

/// A decoded fuzz input: configuration, seed and ops.
#[derive(Debug, Clone)]
pub struct Plan {
    pub config: u8,
    pub seed: u64,
    pub ops: Vec<Op>,
}

impl Plan {
    pub fn decode(data: &[u8]) -> Plan {
        let mut u = Unstructured::new(data);
        let config = u.arbitrary().unwrap_or(0);
        let seed = u64::from(u.arbitrary::<u8>().unwrap_or(0));
        let mut ops = Vec::new();
        while !u.is_empty() && ops.len() < 256 {
            match Op::decode(&mut u) {
                Ok(op) => ops.push(op),
                Err(_) => break,
            }
        }
        Plan { config, seed, ops }
    }
}

/// What a run produced, for the determinism check.
#[derive(Debug, PartialEq, Eq)]
pub struct Outcome {
    pub log: Vec<Output>,
    pub stats: Stats,
}

/// Drives one stack and checks every output.
struct Driver {
    stack: Stack,
    now: Instant,
    mtu: usize,
    log: Vec<Output>,
    /// Peer port -> sequence number of the SYN-ACK the stack sent to it (for completing handshakes).
    synacks: BTreeMap<u16, (u32, u32)>,
    /// Whether raw or checksum-fixed mutated frames were fed: then read data is no longer checked.
    tainted: bool,
    /// In batch mode (half the plans), frames wait here and reach the stack together through
    /// `handle_frames_into` just before the next command, timer or the end of the run.
    batch: Option<Vec<Vec<u8>>>,
    /// Batches claim the device vouched for their checksums (`RxFrame::checksum_offloaded`), so corrupt
    /// transport checksums reach TCP and UDP unverified.
    checksum_offloaded: bool,
}

impl Driver {
    fn feed(&mut self, input: Input<'_>) -> Vec<Output> {
        if let (Some(batch), Input::Frame(f)) = (self.batch.as_mut(), &input) {
            batch.push(f.to_vec());
            return Vec::new();
        }
        self.flush_batch();
        let frames_in = self.stack.stats().frames_in;
        let is_frame = matches!(input, Input::Frame(_));
        let cmd = match &input {
            Input::Command(c) => Some(c.clone()),
            _ => None,
        };
        let out = self.stack.handle(input, self.now);
        if is_frame {
            assert_eq!(self.stack.stats().frames_in, frames_in + 1, "frame not counted");
        }
        if let Some(cmd) = &cmd {
            check_command_outputs(cmd, &out);
        }
        self.check_outputs(&out, cmd.is_some());
        out
    }

    /// Hands the waiting frames to the stack as one batch.
    fn flush_batch(&mut self) {
        let Some(frames) = self.batch.as_mut().map(std::mem::take) else { return };
        if frames.is_empty() {
            return;
        }
        let frames_in = self.stack.stats().frames_in;
        let mut out = Vec::new();
        let offloaded = self.checksum_offloaded;
        let rx = frames.iter().map(|f| synack::RxFrame { bytes: f, checksum_offloaded: offloaded });
        self.stack.handle_frames_into(rx, self.now, &mut out);
        assert_eq!(self.stack.stats().frames_in, frames_in + frames.len() as u64, "batch not counted");
        self.check_outputs(&out, false);
    }

    /// Checks every output (frames valid, no stray replies) and logs them.
    fn check_outputs(&mut self, out: &[Output], had_command: bool) {
        for o in out {
            match o {
                Output::Transmit(f) => {
                    check_transmit(f, STACK_MAC, STACK_IP, self.mtu);
                    if let Some(t) = build::seen_tcp(f).filter(|t| t.flags & (SYN | ACK) == SYN | ACK) {
                        self.synacks.insert(t.dst_port, (t.seq, t.ack));
                    }
                }
                Output::Reply(_) if !had_command => panic!("a reply without a command: {o:?}"),
                _ => {}
            }
        }
        self.log.extend(out.iter().cloned());
    }

    fn frame(&mut self, f: &[u8]) -> Vec<Output> {
        self.feed(Input::Frame(f))
    }

    fn command(&mut self, cmd: Command) -> Vec<Output> {
        // Before a read: the sequence number of the first readable byte, to check what comes out.
        let check_from = match &cmd {
            Command::TcpRecv { sock, .. } if !self.tainted => self.first_readable_seq(*sock),
            _ => None,
        };
        let out = self.feed(Input::Command(cmd));
        if let (Some(seq), Output::Reply(Ok(Reply::Data(d)))) = (check_from, &out[0]) {
            assert_eq!(d, &payload_at(seq, d.len()), "read bytes differ from what the peer sent");
        }
        out
    }

    fn first_readable_seq(&self, sock: SocketHandle) -> Option<u32> {
        let info = self.stack.tcp_info(sock)?;
        let fin = match info.state {
            TcpState::Established | TcpState::FinWait1 | TcpState::FinWait2 => 0,
            TcpState::CloseWait | TcpState::LastAck | TcpState::Closing | TcpState::TimeWait => 1,
            _ => return None,
        };
        Some(info.rcv_nxt.0.wrapping_sub(info.recv_queued as u32).wrapping_sub(fin))
    }

    fn advance(&mut self, by: Duration) {
        self.now = self.now + by;
        self.feed(Input::Timer);
    }

    fn check_connections(&self) {
        let cfg = self.stack.config();
        for sock in self.stack.tcp_connections() {
            let info = self.stack.tcp_info(sock).expect("listed connection");
            assert!(info.send_queued <= info.send_buffer, "send queue beyond its buffer: {info:?}");
            assert!(info.recv_queued <= info.recv_buffer, "receive queue beyond its buffer: {info:?}");
            let (send_max, recv_max) = (cfg.tcp.send_buffer.max(cfg.tcp.send_buffer_max), cfg.tcp.recv_buffer_limit());
            assert!(info.send_buffer <= send_max && info.recv_buffer <= recv_max, "buffers past their bound: {info:?}");
            assert!(info.snd_una <= info.snd_nxt, "SND.UNA beyond SND.NXT: {info:?}");
        }
    }
}

/// The peer's ends of the two connections set up before the ops.
fn setup(d: &mut Driver) {
    let peer = (PEER_MAC, PEER_IP);
    let us = (STACK_MAC, STACK_IP);
    d.frame(&build::arp(1, EthernetAddress::BROADCAST, peer, (EthernetAddress([0; 6]), STACK_IP)));
    let out =
        d.command(Command::TcpListen { local: SocketAddr::from((Ipv4Addr::UNSPECIFIED, LISTEN_PORT)), backlog: 4 });
    assert!(matches!(out[0], Output::Reply(Ok(Reply::Bound { .. }))), "{out:?}");
    // Passive: SYN from 40000, ACK of the SYN-ACK, accept.
    let opts = Options::Linux { mss: 1460, wscale: 7 }.bytes(0);
    let syn = Tcp {
        src_port: 40000,
        dst_port: LISTEN_PORT,
        seq: 1000,
        flags: SYN,
        window: 64240,
        options: &opts,
        ..Tcp::default()
    };
    d.frame(&syn.frame(peer, us));
    let (synack_seq, _) = d.synacks.get(&40000).copied().expect("the stack answers a SYN with a SYN-ACK");
    let ack = Tcp {
        src_port: 40000,
        dst_port: LISTEN_PORT,
        seq: 1001,
        ack: synack_seq.wrapping_add(1),
        flags: ACK,
        window: 502,
        ..Tcp::default()
    };
    d.frame(&ack.frame(peer, us));
    let out = d.command(Command::TcpAccept { listener: SocketHandle(1) });
    assert!(matches!(out[0], Output::Reply(Ok(Reply::Accepted { .. }))), "handshake did not complete: {out:?}");
    // Active: connect to 8080, answer with a SYN-ACK.
    let out = d.command(Command::TcpConnect { remote: SocketAddr::from((PEER_IP, PEER_PORT)), local_port: None });
    let Output::Reply(Ok(Reply::Bound { sock, local })) = out[0] else { panic!("connect: {out:?}") };
    let their = out.iter().find_map(|o| match o {
        Output::Transmit(f) => build::seen_tcp(f),
        _ => None,
    });
    let their = their.expect("the stack sends a SYN");
    let synack = Tcp {
        src_port: PEER_PORT,
        dst_port: local.port(),
        seq: 5000,
        ack: their.seq.wrapping_add(1),
        flags: SYN | ACK,
        window: 65535,
        options: &opts,
        ..Tcp::default()
    };
    let out = d.frame(&synack.frame(peer, us));
    assert!(out.contains(&Output::Event(sock, Event::Connected)), "active open did not complete: {out:?}");
    for sock in d.stack.tcp_connections() {
        assert_eq!(d.stack.tcp_info(sock).unwrap().state, TcpState::Established);
    }
}

fn segment_frame(
    d: &mut Driver,
    src_port: u16,
    dst_port: u16,
    seq: u32,
    ack: u32,
    rcv_nxt: u32,
    seg: &Segment,
) -> Vec<u8> {
    let options = seg.options.bytes(rcv_nxt);
    let flags = seg.flags();
    let data_seq = seq.wrapping_add(u32::from(flags & SYN != 0));
    let payload = payload_at(data_seq, usize::from(seg.payload_len % 3000));
    let t = Tcp {
        src_port,
        dst_port,
        seq,
        ack,
        flags,
        window: seg.window,
        urgent: 0,
        options: &options,
        payload: &payload,
    };
    let mut f = t.frame((PEER_MAC, PEER_IP), (STACK_MAC, STACK_IP));
    seg.mutation.apply(&mut f);
    if seg.fix {
        build::fix_checksums(&mut f);
        if !matches!(seg.mutation, Mutation::None) {
            d.tainted = true;
        }
    }
    f
}

fn run_op(d: &mut Driver, op: &Op) {
    let peer = (PEER_MAC, PEER_IP);
    let us = (STACK_MAC, STACK_IP);
    match op {
        Op::Raw(bytes) => {
            d.tainted = true;
            d.frame(bytes);
        }
        Op::ToConn { conn, seg } => {
            let conns = d.stack.tcp_connections();
            let Some(&sock) = conns.get(usize::from(*conn) % conns.len().max(1)) else { return };
            let info = d.stack.tcp_info(sock).expect("listed connection");
            if info.remote.ip() != PEER_IP {
                return;
            }
            let seq = seg.seq.apply(info.rcv_nxt.0);
            let ack = seg.ack.apply(info.snd_nxt.0);
            let f = segment_frame(d, info.remote.port(), info.local.port(), seq, ack, info.rcv_nxt.0, seg);
            d.frame(&f);
        }
        Op::ToListener { src_port, seg } => {
            let src_port = 30000 + src_port % 64;
            let seq = seg.seq.apply(7_000_000);
            let ack = seg.ack.apply(d.synacks.get(&src_port).map_or(0, |s| s.0.wrapping_add(1)));
            let f = segment_frame(d, src_port, LISTEN_PORT, seq, ack, 0, seg);
            d.frame(&f);
        }
        Op::CompleteHandshake { nth } => {
            let Some((&port, &(seq, ack))) = d.synacks.iter().nth(usize::from(*nth) % d.synacks.len().max(1)) else {
                return;
            };
            let t = Tcp {
                src_port: port,
                dst_port: LISTEN_PORT,
                seq: ack,
                ack: seq.wrapping_add(1),
                flags: ACK,
                window: 1000,
                ..Tcp::default()
            };
            d.frame(&t.frame(peer, us));
        }
        Op::AckAll => {
            for sock in d.stack.tcp_connections() {
                let Some(info) = d.stack.tcp_info(sock) else { continue };
                if info.remote.ip() != PEER_IP || info.state == TcpState::SynSent {
                    continue;
                }
                let t = Tcp {
                    src_port: info.remote.port(),
                    dst_port: info.local.port(),
                    seq: info.rcv_nxt.0,
                    ack: info.snd_nxt.0,
                    flags: ACK,
                    window: 65535,
                    ..Tcp::default()
                };
                d.frame(&t.frame(peer, us));
            }
        }
        Op::Other(other, mutation) => {
            let mut f = match *other {
                Other::ArpRequest { host } => {
                    let ip = Ipv4Addr::new(10, 0, 0, host);
                    let mac = EthernetAddress([0x02, 0, 0, 1, 0, host]);
                    build::arp(1, EthernetAddress::BROADCAST, (mac, ip), (EthernetAddress([0; 6]), STACK_IP))
                }
                Other::ArpReply { host } => {
                    let ip = Ipv4Addr::new(10, 0, 0, host);
                    build::arp(2, STACK_MAC, (EthernetAddress([0x02, 0, 0, 1, 0, host]), ip), us)
                }
                Other::Echo { len } => {
                    let data = payload_at(0, usize::from(len % 1600));
                    build::ipv4(PEER_MAC, STACK_MAC, PEER_IP, STACK_IP, 1, &build::icmp(8, 0, [0, 1, 0, 1], &data))
                }
                Other::Udp { to_bound, len } => {
                    let data = payload_at(0, usize::from(len % 1600));
                    let dst = if to_bound { UDP_PORT } else { 9999 };
                    let mut u = 5000u16.to_be_bytes().to_vec();
                    u.extend_from_slice(&dst.to_be_bytes());
                    u.extend_from_slice(&((8 + data.len()) as u16).to_be_bytes());
                    u.extend_from_slice(&[0, 0]);
                    u.extend_from_slice(&data);
                    build::ipv4(PEER_MAC, STACK_MAC, PEER_IP, STACK_IP, 17, &u)
                }
                Other::IcmpAboutTcp { conn, ty_is_unreachable, code, seq, mtu } => {
                    let conns = d.stack.tcp_connections();
                    let Some(&sock) = conns.get(usize::from(conn) % conns.len().max(1)) else { return };
                    let info = d.stack.tcp_info(sock).expect("listed connection");
                    let quoted = Tcp {
                        src_port: info.local.port(),
                        dst_port: info.remote.port(),
                        seq: seq.apply(info.snd_una.0),
                        flags: ACK,
                        ..Tcp::default()
                    };
                    let std::net::IpAddr::V4(remote) = info.remote.ip() else { return };
                    let inner = build::ipv4(STACK_MAC, PEER_MAC, STACK_IP, remote, 6, &quoted.bytes());
                    let original = &inner[build::ETH_LEN..build::ETH_LEN + 28];
                    let (ty, code) = if ty_is_unreachable { (3, code % 16) } else { (11, code % 2) };
                    let [m0, m1] = mtu.to_be_bytes();
                    let msg = build::icmp(ty, code, [0, 0, m0, m1], original);
                    build::ipv4(PEER_MAC, STACK_MAC, PEER_IP, STACK_IP, 1, &msg)
                }
            };
            mutation.apply(&mut f);
            d.frame(&f);
        }
        Op::Timer(ms) => d.advance(Duration::from_millis(u64::from(*ms) * 4)),
        Op::NextDeadline => {
            let by = d.stack.poll_timeout().map_or(Duration::ZERO, |at| at.saturating_duration_since(d.now));
            d.advance(by);
        }
        Op::Command(cmd) => {
            d.command(cmd.command());
        }
    }
    d.check_connections();
}

/// Runs a plan once; panics on any violated invariant.
pub fn run(plan: &Plan) -> Outcome {
    let config = config(plan.config, plan.seed);
    // With segmentation offload, TCP frames may exceed the MTU up to the offload size.
    let mtu = config.mtu.max(config.tcp.segmentation_offload);
    let mut d = Driver {
        stack: Stack::new(config).expect("valid config"),
        now: Instant::ZERO,
        mtu,
        log: Vec::new(),
        synacks: BTreeMap::new(),
        tainted: false,
        batch: None,
        checksum_offloaded: plan.seed & 0x40 != 0,
    };
    setup(&mut d);
    if plan.seed & 0x80 != 0 {
        d.batch = Some(Vec::new());
    }
    d.command(Command::UdpBind { local: SocketAddr::from((Ipv4Addr::UNSPECIFIED, UDP_PORT)) });
    for op in &plan.ops {
        run_op(&mut d, op);
    }
    d.flush_batch();
    // Let every timer run out (bounded): nothing may be left behind that panics later.
    for _ in 0..64 {
        match d.stack.poll_timeout() {
            Some(at) => {
                let by = at.saturating_duration_since(d.now);
                d.advance(by);
            }
            None => break,
        }
    }
    Outcome { log: d.log, stats: d.stack.stats().clone() }
}

/// The fuzz target's body: decode, run twice, compare.
pub fn fuzz(data: &[u8]) {
    let plan = Plan::decode(data);
    let first = run(&plan);
    let second = run(&plan);
    assert!(first == second, "same input, different outputs");
}
