//! TCP for the hostile-input harness: a peer that builds real connections by hand (answering the stack's
//! SYN-ACK with an ACK made from its sequence numbers), and segments aimed at a listener or at a live connection
//! with any flags, sequence and acknowledgment numbers near or far from the window, raw options and data
//! offsets. Payload bytes are a function of their sequence number, so every byte the application reads is
//! checked against what the peer sent.

use super::malformed::*;
use core::net::{Ipv4Addr, SocketAddr};
use proptest::prelude::*;
use synack::tcp::TcpState;
use synack::wire::checksum;
use synack::{Command, Event, Output, Reply, SocketHandle, Stack};

/// The listener every TCP harness has, and the port its active connection goes to.
pub const LISTEN_PORT: u16 = 80;
pub const PEER_PORT: u16 = 8080;
/// Handles created by [`tcp_harness`]: the UDP socket is #1.
pub const LISTENER: SocketHandle = SocketHandle(2);
pub const PASSIVE: SocketHandle = SocketHandle(3);
pub const ACTIVE: SocketHandle = SocketHandle(4);

pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;

/// The byte the peer sends at sequence number `seq`.
pub fn byte_at(seq: u32) -> u8 {
    (seq.wrapping_mul(0x9e37_79b1) >> 24) as u8
}

pub fn payload_at(seq: u32, len: usize) -> Vec<u8> {
    (0..len as u32).map(|i| byte_at(seq.wrapping_add(i))).collect()
}

/// The sequence number of the first byte a read on `sock` would return (`None` if not synchronized).
pub fn first_readable_seq(stack: &Stack, sock: SocketHandle) -> Option<u32> {
    let info = stack.tcp_info(sock)?;
    let fin = match info.state {
        TcpState::Established | TcpState::FinWait1 | TcpState::FinWait2 => 0,
        TcpState::CloseWait | TcpState::LastAck | TcpState::Closing | TcpState::TimeWait => 1,
        _ => return None,
    };
    Some(info.rcv_nxt.0.wrapping_sub(info.recv_queued as u32).wrapping_sub(fin))
}

/// Recomputes the IPv4 header checksum and the TCP checksum over the lengths the headers claim (if they fit).
pub fn fix_checksums(frame: &mut [u8]) {
    refresh_ipv4_checksum(frame);
    let Some(ip) = frame.get_mut(ETH_LEN..) else { return };
    let header_len = usize::from(ip[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    if ip[9] != 6 || header_len < IP_LEN || total < header_len + 20 || total > ip.len() {
        return;
    }
    let src = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
    let dst = Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]);
    let segment = &mut ip[header_len..total];
    segment[16..18].fill(0);
    let pseudo = checksum::pseudo_header(&src, &dst, synack::wire::IpProtocol::Tcp, segment.len() as u16);
    let sum = !checksum::combine(&[pseudo, checksum::data(segment)]);
    segment[16..18].copy_from_slice(&sum.to_be_bytes());
}

/// A segment from the peer to the stack, as raw bytes: options are padded with zeros to a multiple of 4 (at
/// most 40), and `data_offset` (in words) overrides the header length field.
#[allow(clippy::too_many_arguments)]
pub fn segment_frame(
    ports: (u16, u16),
    seq: u32,
    ack: u32,
    flags: u8,
    window: u16,
    options: &[u8],
    payload: &[u8],
    data_offset: Option<u8>,
) -> Vec<u8> {
    let mut opts = options[..options.len().min(40)].to_vec();
    opts.resize(opts.len().next_multiple_of(4), 0);
    let words = data_offset.unwrap_or((5 + opts.len() / 4) as u8);
    let mut s = Vec::new();
    s.extend_from_slice(&ports.0.to_be_bytes());
    s.extend_from_slice(&ports.1.to_be_bytes());
    s.extend_from_slice(&seq.to_be_bytes());
    s.extend_from_slice(&ack.to_be_bytes());
    s.extend_from_slice(&[words << 4, flags]);
    s.extend_from_slice(&window.to_be_bytes());
    s.extend_from_slice(&[0, 0, 0, 0]);
    s.extend_from_slice(&opts);
    s.extend_from_slice(payload);
    let mut f = Ip::new(PEER_IP, 6).frame(&s);
    fix_checksums(&mut f);
    f
}

/// The TCP segments among the stack's outputs: (src port, dst port, seq, ack, flags).
pub fn sent_segments(out: &[Output]) -> Vec<(u16, u16, u32, u32, u8)> {
    transmits(out)
        .into_iter()
        .filter(|f| f.len() >= ETH_LEN + IP_LEN + 20 && f[12..14] == [8, 0] && f[ETH_LEN + 9] == 6)
        .map(|f| {
            let t = &f[ETH_LEN + usize::from(f[ETH_LEN] & 0x0f) * 4..];
            let be32 = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
            (u16::from_be_bytes([t[0], t[1]]), u16::from_be_bytes([t[2], t[3]]), be32(&t[4..]), be32(&t[8..]), t[13])
        })
        .collect()
}

const SYN_OPTIONS: [u8; 20] = [2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7];

/// [`Harness::primed`] plus a listener on port 80 (#2), a passive connection from 10.0.0.1:40000 that was
/// accepted (#3), and an active connection to 10.0.0.1:8080 (#4), both ESTABLISHED by hand-made segments.
pub fn tcp_harness(seed: u64) -> Harness {
    let mut h = Harness::primed(seed);
    let out =
        h.command(Command::TcpListen { local: SocketAddr::from((Ipv4Addr::UNSPECIFIED, LISTEN_PORT)), backlog: 4 });
    assert_eq!(
        out[0],
        Output::Reply(Ok(Reply::Bound { sock: LISTENER, local: SocketAddr::from((Ipv4Addr::UNSPECIFIED, 80)) }))
    );
    // Passive open: SYN, then the ACK built from the stack's SYN-ACK.
    let out = h.frame(&segment_frame((40000, LISTEN_PORT), 1000, 0, SYN, 64240, &SYN_OPTIONS, &[], None));
    let [(_, _, synack_seq, synack_ack, flags)] = sent_segments(&out)[..] else { panic!("no SYN-ACK: {out:?}") };
    assert_eq!((flags, synack_ack), (SYN | ACK, 1001));
    let info = h.stack.tcp_info(SocketHandle(3)).expect("a half-open connection");
    assert_eq!(info.snd_nxt.0, synack_seq.wrapping_add(1), "tcp_info agrees with the SYN-ACK");
    let ack = segment_frame((40000, LISTEN_PORT), 1001, info.snd_nxt.0, ACK, 502, &[], &[], None);
    let out = h.frame(&ack);
    assert!(out.contains(&Output::Event(LISTENER, Event::Acceptable)), "{out:?}");
    let out = h.command(Command::TcpAccept { listener: LISTENER });
    assert!(matches!(out[0], Output::Reply(Ok(Reply::Accepted { sock: PASSIVE, .. }))), "{out:?}");
    // Active open: our SYN-ACK answers the stack's SYN.
    let out = h.command(Command::TcpConnect { remote: SocketAddr::from((PEER_IP, PEER_PORT)), local_port: None });
    let Output::Reply(Ok(Reply::Bound { sock: ACTIVE, local })) = out[0] else { panic!("{out:?}") };
    let [(_, _, syn_seq, _, SYN)] = sent_segments(&out)[..] else { panic!("no SYN: {out:?}") };
    let synack = segment_frame(
        (PEER_PORT, local.port()),
        5000,
        syn_seq.wrapping_add(1),
        SYN | ACK,
        65535,
        &SYN_OPTIONS,
        &[],
        None,
    );
    let out = h.frame(&synack);
    assert!(out.contains(&Output::Event(ACTIVE, Event::Connected)), "{out:?}");
    for sock in [PASSIVE, ACTIVE] {
        assert_eq!(h.stack.tcp_info(sock).unwrap().state, TcpState::Established);
    }
    h
}

/// Where a sequence or acknowledgment number lies relative to the connection's.
#[derive(Clone, Copy, Debug)]
pub enum Near {
    Exact,
    Offset(i32),
    Absolute(u32),
}

impl Near {
    fn apply(self, reference: u32) -> u32 {
        match self {
            Near::Exact => reference,
            Near::Offset(d) => reference.wrapping_add(d as u32),
            Near::Absolute(v) => v,
        }
    }
}

fn near() -> impl Strategy<Value = Near> {
    prop_oneof![
        3 => Just(Near::Exact),
        3 => (-3000i32..3000).prop_map(Near::Offset),
        1 => prop_oneof![Just(1i32 << 30), Just(-(1i32 << 30)), Just(i32::MIN), 300_000i32..2_000_000].prop_map(Near::Offset),
        1 => any::<u32>().prop_map(Near::Absolute),
    ]
}

/// Which connection a segment goes to.
#[derive(Clone, Copy, Debug)]
pub enum Target {
    /// The listener, from peer port 30000 + n (a new connection, or one still handshaking).
    Listener(u8),
    /// Live connection number n (in handle order), with seq relative to RCV.NXT and ack relative to SND.NXT.
    Conn(usize),
}

/// A TCP segment before it is aimed: flags, numbers, options, payload and header-length lies.
#[derive(Clone, Debug)]
pub struct TcpSeg {
    pub target: Target,
    pub flags: u8,
    pub seq: Near,
    pub ack: Near,
    pub window: u16,
    pub options: Vec<u8>,
    pub payload_len: usize,
    pub data_offset: Option<u8>,
}

impl TcpSeg {
    /// The frame, built from the stack's current state; `None` if the target does not exist.
    pub fn frame(&self, h: &Harness) -> Option<Vec<u8>> {
        let (ports, seq_ref, ack_ref) = match self.target {
            Target::Listener(n) => {
                let port = 30000 + u16::from(n % 8);
                // A half-open connection from that port, if any: aim at its numbers.
                let info = h.stack.tcp_connections().into_iter().find_map(|s| {
                    h.stack.tcp_info(s).filter(|i| i.remote.port() == port && i.local.port() == LISTEN_PORT)
                });
                let refs = info.map_or((7_000_000, 0), |i| (i.rcv_nxt.0, i.snd_nxt.0));
                ((port, LISTEN_PORT), refs.0, refs.1)
            }
            Target::Conn(n) => {
                let conns = h.stack.tcp_connections();
                let sock = *conns.get(n % conns.len().max(1))?;
                let info = h.stack.tcp_info(sock)?;
                if info.remote.ip() != PEER_IP {
                    return None;
                }
                ((info.remote.port(), info.local.port()), info.rcv_nxt.0, info.snd_nxt.0)
            }
        };
        let seq = self.seq.apply(seq_ref);
        let payload = payload_at(seq.wrapping_add(u32::from(self.flags & SYN != 0)), self.payload_len);
        let ack = self.ack.apply(ack_ref);
        Some(segment_frame(ports, seq, ack, self.flags, self.window, &self.options, &payload, self.data_offset))
    }
}

fn flags() -> impl Strategy<Value = u8> {
    prop_oneof![
        4 => Just(ACK),
        2 => Just(ACK | PSH),
        1 => Just(ACK | FIN),
        1 => Just(RST),
        1 => Just(RST | ACK),
        2 => Just(SYN),
        1 => Just(SYN | ACK),
        1 => Just(SYN | FIN),
        1 => Just(0u8),
        1 => Just(0xff),
        2 => any::<u8>(),
    ]
}

fn options() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => Just(Vec::new()),
        1 => Just(SYN_OPTIONS.to_vec()),
        1 => (any::<u32>(), any::<u32>()).prop_map(|(a, b)| {
            let mut v = vec![1, 1, 8, 10];
            v.extend_from_slice(&a.to_be_bytes());
            v.extend_from_slice(&b.to_be_bytes());
            v
        }),
        1 => (any::<u32>(), 1u32..5000).prop_map(|(l, len)| {
            let mut v = vec![1, 1, 5, 10];
            v.extend_from_slice(&l.to_be_bytes());
            v.extend_from_slice(&l.wrapping_add(len).to_be_bytes());
            v
        }),
        2 => prop::collection::vec(any::<u8>(), 0..41),
    ]
}

pub fn tcp_seg() -> impl Strategy<Value = TcpSeg> {
    let target = prop_oneof![1 => any::<u8>().prop_map(Target::Listener), 3 => (0usize..4).prop_map(Target::Conn)];
    (
        target,
        flags(),
        near(),
        near(),
        prop_oneof![Just(65535u16), Just(0), any::<u16>()],
        options(),
        prop_oneof![3 => Just(0usize), 3 => 1usize..200, 1 => 1000usize..1460, 1 => 1461usize..1480],
        prop_oneof![4 => Just(None), 1 => (0u8..16).prop_map(Some)],
    )
        .prop_map(|(target, flags, seq, ack, window, options, payload_len, data_offset)| TcpSeg {
            target,
            flags,
            seq,
            ack,
            window,
            options,
            payload_len,
            data_offset,
        })
}

/// The peer acknowledges everything every connection sent and opens its window, so data keeps flowing.
pub fn ack_all(h: &mut Harness) {
    for sock in h.stack.tcp_connections() {
        let Some(info) = h.stack.tcp_info(sock) else { continue };
        if info.remote.ip() != PEER_IP || matches!(info.state, TcpState::SynSent | TcpState::Closed) {
            continue;
        }
        let ports = (info.remote.port(), info.local.port());
        h.frame(&segment_frame(ports, info.rcv_nxt.0, info.snd_nxt.0, ACK, 65535, &[], &[], None));
    }
}
