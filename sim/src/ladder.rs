//! Ladder diagrams: the two-column message sequence chart of one connection, built from one or two hosts'
//! pcapng captures.
//!
//! Each endpoint is a column; each frame is an arrow from the sender's column at its send time to the
//! receiver's column at its arrival time. With both hosts' captures the two times are known (virtual time is one
//! clock for every host), so the arrow slants by the link delay; a frame the link dropped (the sender's packet
//! comment says so) ends in a cross half-way; a frame the link duplicated arrives twice (two arrows from one
//! send). With one capture only, the far end's times are unknown and arrows are drawn flat.
//!
//! Frames are matched across captures by their bytes. A frame the link corrupted arrives with other bytes: it is
//! matched to the sent frame of the same length whose comment says it was corrupted. A received frame matched to
//! nothing is drawn arriving from nowhere.
//!
//! TCP states are inferred per side from the flags it sent and received (RFC 9293's state diagram); a
//! `state: A -> B` line in the comment of a frame a side sent overrides the inference. A comment line `why: TEXT` becomes the arrow's
//! label. Otherwise the label is the segment in relative sequence numbers: `SYN seq=0`, `ACK 1461`,
//! `1461:2921 (1460)`. [`text`] draws the ladder for a terminal, [`svg`] as an SVG picture.

pub mod cli;
pub mod svg;
pub mod text;

use crate::decode::{comment_says_dropped, CaptureFile, CapturedFrame, Direction};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use synack::wire::{
    ArpOperation, ArpPacket, EtherType, EthernetFrame, IpProtocol, Ipv4Packet, TcpFlags, TcpOptions, TcpPacket,
};

/// One side of the ladder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Left,
    Right,
}

impl Side {
    pub fn other(self) -> Side {
        match self {
            Side::Left => Side::Right,
            Side::Right => Side::Left,
        }
    }
}

/// One frame from one side to the other.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arrow {
    /// The side that sent it.
    pub from: Side,
    /// Send time, ns since the first frame of the ladder's captures (unknown without the sender's capture).
    pub sent: Option<u64>,
    /// Arrival time (unknown without the receiver's capture, or when it was dropped).
    pub arrived: Option<u64>,
    /// The link dropped it (the sender's comment says so).
    pub dropped: bool,
    /// What the frame is: the stack's reason (`why:`) or the segment in relative numbers.
    pub label: String,
    /// The state the sender entered by sending it, and the one the receiver entered by receiving it.
    pub sender_state: Option<String>,
    pub receiver_state: Option<String>,
    /// What the link did to it, from the packet comments (`duplicated by link (duplicate)`), if anything.
    pub link_note: Option<String>,
}

impl Arrow {
    /// The time the arrow starts at: when it was sent, or when it arrived if that is all we know.
    pub fn start(&self) -> u64 {
        self.sent.or(self.arrived).unwrap_or(0)
    }
}

/// A whole ladder: two named columns and the arrows between them, in time order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ladder {
    /// What is drawn: `TCP 10.0.0.1:49152 <-> 10.0.0.2:5001`.
    pub title: String,
    /// Column headings: host name and address.
    pub left: Column,
    pub right: Column,
    pub arrows: Vec<Arrow>,
    /// Remarks to print under the title (other connections in the capture, ...).
    pub notes: Vec<String>,
}

/// A column heading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    /// The host's name (from the capture's header), or its address when unknown.
    pub name: String,
    /// `10.0.0.1:49152` (or `10.0.0.1` for a host pair without TCP).
    pub addr: String,
}

/// Which connection to draw: `--conn PORT` or `--conn A:P-B:Q`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnFilter {
    /// The connection with this port at either end.
    Port(u16),
    /// The connection between these two endpoints (either way round).
    Pair(SocketAddr, SocketAddr),
}

impl std::str::FromStr for ConnFilter {
    type Err = String;
    fn from_str(s: &str) -> Result<ConnFilter, String> {
        let err = || format!("--conn {s:?}: expected a port (5001) or two endpoints (10.0.0.1:49152-10.0.0.2:5001)");
        if let Ok(port) = s.trim().parse::<u16>() {
            return Ok(ConnFilter::Port(port));
        }
        let (a, b) = s.split_once('-').ok_or_else(err)?;
        Ok(ConnFilter::Pair(a.trim().parse().map_err(|_| err())?, b.trim().parse().map_err(|_| err())?))
    }
}

impl ConnFilter {
    fn matches(&self, conn: &Conn) -> bool {
        match self {
            ConnFilter::Port(p) => conn.a.port() == *p || conn.b.port() == *p,
            ConnFilter::Pair(x, y) => (conn.a == *x && conn.b == *y) || (conn.a == *y && conn.b == *x),
        }
    }
}

/// A TCP connection, `a` being the endpoint seen sending first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Conn {
    a: SocketAddr,
    b: SocketAddr,
}

impl std::fmt::Display for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.a, self.b)
    }
}

/// What the ladder needs of one frame.
#[derive(Clone, Debug)]
struct Parsed {
    kind: Kind,
    /// The frame's IP source and destination (ARP: sender and target protocol addresses).
    src: IpAddr,
    dst: IpAddr,
}

#[derive(Clone, Debug)]
enum Kind {
    Tcp(Seg),
    /// ARP, ICMP, UDP, ...: labelled with its one-line decode.
    Other(String),
}

/// The fields of a TCP segment a label and the state inference use.
#[derive(Clone, Copy, Debug)]
struct Seg {
    src: SocketAddr,
    dst: SocketAddr,
    seq: u32,
    ack: u32,
    len: u32,
    win: u16,
    flags: TcpFlags,
    sack: [Option<(u32, u32)>; 4],
    window_scale: Option<u8>,
}

fn parse(f: &CapturedFrame) -> Option<Parsed> {
    let mut whole = f.data.clone();
    if whole.len() < f.original_len {
        // Cut by the snap length: the headers are whole, zeros stand in for the payload.
        whole.resize(f.original_len, 0);
    }
    let eth = EthernetFrame::new_checked(&whole[..]).ok()?;
    match eth.ethertype() {
        EtherType::Arp => {
            let arp = ArpPacket::new_checked(eth.payload()).ok()?;
            let ip = |b: &[u8]| <[u8; 4]>::try_from(b).ok().map(Ipv4Addr::from);
            let (src, dst) = (ip(arp.source_protocol_addr())?, ip(arp.target_protocol_addr())?);
            let text = match arp.operation() {
                ArpOperation::Request => format!("ARP who-has {dst}"),
                ArpOperation::Reply => format!("ARP {src} is-at"),
                _ => "ARP".to_string(),
            };
            Some(Parsed { kind: Kind::Other(text), src: src.into(), dst: dst.into() })
        }
        EtherType::Ipv4 | EtherType::Ipv6 => {
            let (src, dst, protocol, transport) = match crate::ip_view::transport(&whole) {
                Some(t) => t,
                // A fragment: its addresses, labelled with its decode.
                None => fragment_addrs(&whole)?,
            };
            if protocol == IpProtocol::Tcp {
                let tcp = TcpPacket::new_checked(transport).ok()?;
                let opts = TcpOptions::parse(tcp.options()).unwrap_or_default();
                let seg = Seg {
                    src: SocketAddr::new(src, tcp.src_port()),
                    dst: SocketAddr::new(dst, tcp.dst_port()),
                    seq: tcp.seq_number().0,
                    ack: tcp.ack_number().0,
                    len: tcp.payload().len() as u32,
                    win: tcp.window_len(),
                    flags: tcp.flags(),
                    sack: opts.sack_blocks.map(|b| b.map(|(l, r)| (l.0, r.0))),
                    window_scale: opts.window_scale,
                };
                return Some(Parsed { kind: Kind::Tcp(seg), src, dst });
            }
            // "10.0.0.1 > 10.0.0.2 ICMP echo request ..." without the addresses the columns already say.
            let line = synack::wire::pretty::frame_summary(&whole);
            let short = line.split_once(&format!("{dst} ")).map(|(_, rest)| rest.to_string()).unwrap_or(line);
            Some(Parsed { kind: Kind::Other(short), src, dst })
        }
        _ => None,
    }
}

/// The addresses of an IP fragment (or of a packet whose upper layer cannot be reached), with a protocol that
/// is not TCP, so it is drawn with its one-line decode.
fn fragment_addrs(frame: &[u8]) -> Option<(IpAddr, IpAddr, IpProtocol, &[u8])> {
    let eth = EthernetFrame::new_checked(frame).ok()?;
    let (src, dst): (IpAddr, IpAddr) = match eth.ethertype() {
        EtherType::Ipv4 => {
            let ip = Ipv4Packet::new_checked(eth.payload()).ok()?;
            (ip.src_addr().into(), ip.dst_addr().into())
        }
        _ => {
            let ip = synack::wire::ipv6::Ipv6Packet::new_checked(eth.payload()).ok()?;
            (ip.src_addr().into(), ip.dst_addr().into())
        }
    };
    Some((src, dst, IpProtocol::Unknown(44), &[]))
}

/// A capture of one host, ready for [`build`].
#[derive(Debug)]
pub struct HostCapture {
    /// The host's name (section header `host=NAME`, or the interface name, or the file name).
    pub host: String,
    /// Where it came from, for messages.
    pub origin: String,
    pub file: CaptureFile,
}

impl HostCapture {
    /// Parses pcapng bytes; `origin` names them in errors and stands in for a missing host name.
    pub fn from_bytes(bytes: &[u8], origin: &str) -> Result<HostCapture, String> {
        let file = crate::decode::read(bytes).map_err(|e| format!("{origin}: {e}"))?;
        let from_header = file
            .comment
            .as_deref()
            .and_then(|c| c.split_whitespace().find_map(|w| w.strip_prefix("host=")).map(str::to_string));
        let from_interface = file.interface.as_deref().map(|i| i.split('/').next().unwrap_or(i).to_string());
        let host = from_header
            .or(from_interface)
            .unwrap_or_else(|| Path::new(origin).file_stem().and_then(|s| s.to_str()).unwrap_or(origin).to_string());
        Ok(HostCapture { host, origin: origin.to_string(), file })
    }

    /// Reads a pcapng file.
    pub fn read(path: &Path) -> Result<HostCapture, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        HostCapture::from_bytes(&bytes, &path.display().to_string())
    }

    fn outbound(&self, f: &CapturedFrame) -> bool {
        match (f.direction, self.file.mac, f.src_mac()) {
            (Some(d), _, _) => d == Direction::Outbound,
            (None, Some(me), Some(src)) => me == src,
            _ => false,
        }
    }
}

/// One frame of one capture, parsed, in the ladder's terms.
#[derive(Debug)]
struct Seen<'a> {
    frame: &'a CapturedFrame,
    parsed: Parsed,
    outbound: bool,
    /// Index of the capture it belongs to (0 = left, 1 = right).
    capture: usize,
    /// Position among all frames read (first capture, then second).
    index: usize,
}

/// Two columns must be two ends of one run: not one host twice (same host name or MAC), and, where their
/// section headers say, the same scenario and seed.
fn check_pair(a: &HostCapture, b: &HostCapture) -> Result<(), String> {
    let same_mac = a.file.mac.is_some() && a.file.mac == b.file.mac;
    if a.host == b.host || same_mac {
        return Err(format!(
            "{} and {} are both captures of host {:?}: give the captures of the connection's two ends",
            a.origin, b.origin, a.host
        ));
    }
    let header = |c: &HostCapture, key: &str| {
        c.file
            .comment
            .as_deref()
            .and_then(|t| t.split_whitespace().find_map(|w| w.strip_prefix(key)).map(str::to_string))
    };
    for key in ["scenario=", "seed="] {
        if let (Some(x), Some(y)) = (header(a, key), header(b, key)) {
            if x != y {
                let what = key.trim_end_matches('=');
                return Err(format!(
                    "{} ({what} {x}) and {} ({what} {y}) come from different runs: give two captures of one run",
                    a.origin, b.origin
                ));
            }
        }
    }
    Ok(())
}

/// Builds the ladder of one connection from one or two captures (the first is the left column).
pub fn build(captures: &[HostCapture], filter: Option<&ConnFilter>) -> Result<Ladder, String> {
    let Some(first) = captures.first() else { return Err("no capture given".into()) };
    if captures.len() > 2 {
        return Err(format!("a ladder has two columns: give one or two captures, not {}", captures.len()));
    }
    if let [a, b] = captures {
        check_pair(a, b)?;
    }
    let mut seen: Vec<Seen<'_>> = Vec::new();
    for (i, c) in captures.iter().enumerate() {
        for f in &c.file.frames {
            if let Some(parsed) = parse(f) {
                let index = seen.len();
                seen.push(Seen { frame: f, parsed, outbound: c.outbound(f), capture: i, index });
            }
        }
    }
    // Connections in order of first appearance (in the first capture, then the second).
    let mut conns: Vec<Conn> = Vec::new();
    for s in &seen {
        if let Kind::Tcp(seg) = &s.parsed.kind {
            let known = conns.iter().any(|c| (c.a == seg.src && c.b == seg.dst) || (c.a == seg.dst && c.b == seg.src));
            if !known {
                conns.push(Conn { a: seg.src, b: seg.dst });
            }
        }
    }
    let list = |conns: &[Conn]| conns.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", ");
    let chosen = match filter {
        Some(f) => Some(*conns.iter().find(|c| f.matches(c)).ok_or_else(|| {
            let what = match f {
                ConnFilter::Port(p) => format!("port {p}"),
                ConnFilter::Pair(a, b) => format!("{a}-{b}"),
            };
            let files: Vec<&str> = captures.iter().map(|c| c.origin.as_str()).collect();
            if conns.is_empty() {
                format!("--conn: no TCP connection with {what} in {}: it holds no TCP at all", files.join(", "))
            } else {
                format!("--conn: no TCP connection with {what} in {}; it holds {}", files.join(", "), list(&conns))
            }
        })?),
        None => conns.first().copied(),
    };
    let mut notes = Vec::new();
    if filter.is_none() && conns.len() > 1 {
        notes.push(format!(
            "{} TCP connections; drawn: the first (choose with --conn PORT or --conn A:P-B:Q): {}",
            conns.len(),
            list(&conns)
        ));
    }
    // Which address is the left column: the first capture's host.
    let left_ip = |a: IpAddr, b: IpAddr| -> bool {
        // `a` is left when the first capture sent a frame from it (or, failing that, received one from `b`).
        seen.iter().any(|s| s.capture == 0 && s.outbound && s.parsed.src == a)
            || !seen.iter().any(|s| s.capture == 0 && s.outbound && s.parsed.src == b)
    };
    let (left_ep, right_ep, pair) = match chosen {
        Some(c) => {
            let (l, r) = if left_ip(c.a.ip(), c.b.ip()) { (c.a, c.b) } else { (c.b, c.a) };
            (l.to_string(), r.to_string(), (l.ip(), r.ip()))
        }
        None => {
            // No TCP: the host pair of the first IP or ARP frame between two distinct addresses (not to a group).
            let s = seen
                .iter()
                .find(|s| {
                    let (a, b) = (s.parsed.src, s.parsed.dst);
                    a != b && !a.is_unspecified() && !b.is_multicast()
                })
                .ok_or_else(|| format!("{}: no TCP connection and no frame between two hosts to draw", first.origin))?;
            let (a, b) = (s.parsed.src, s.parsed.dst);
            let (l, r) = if left_ip(a, b) { (a, b) } else { (b, a) };
            (l.to_string(), r.to_string(), (l, r))
        }
    };
    // Keep the connection's segments and the other frames between its two hosts.
    let in_ladder = |p: &Parsed| -> bool {
        match (&p.kind, chosen) {
            (Kind::Tcp(seg), Some(c)) => (seg.src == c.a && seg.dst == c.b) || (seg.src == c.b && seg.dst == c.a),
            (Kind::Tcp(_), None) => false,
            (Kind::Other(_), _) => (p.src, p.dst) == pair || (p.dst, p.src) == pair,
        }
    };
    let origin_of = |capture: usize, frame_is_outbound: bool| -> Side {
        // The side that sent a frame seen in `capture`.
        match (capture, frame_is_outbound) {
            (0, true) | (1, false) => Side::Left,
            _ => Side::Right,
        }
    };
    let kept: Vec<&Seen<'_>> = seen.iter().filter(|s| in_ladder(&s.parsed)).collect();
    let t0 = kept.iter().map(|s| s.frame.time_ns).min().unwrap_or(0);
    let two = captures.len() == 2;
    // Sent frames first, then each received frame matched to one of them.
    let mut arrows: Vec<(Arrow, Option<&Seen<'_>>)> = Vec::new();
    for s in kept.iter().filter(|s| s.outbound) {
        let comment = s.frame.comment.as_deref().unwrap_or("");
        let dropped = comment_says_dropped(comment);
        let arrow = Arrow {
            from: origin_of(s.capture, true),
            sent: Some(s.frame.time_ns - t0),
            arrived: None,
            dropped,
            label: String::new(),
            sender_state: None,
            receiver_state: None,
            link_note: link_note(comment),
        };
        arrows.push((arrow, Some(s)));
    }
    let mut matched: Vec<usize> = vec![0; arrows.len()];
    let mut unmatched_received: Vec<&Seen<'_>> = Vec::new();
    for r in kept.iter().filter(|s| !s.outbound) {
        let from = origin_of(r.capture, false);
        let candidates = |exact: bool| {
            arrows
                .iter()
                .enumerate()
                .filter(|(_, (a, _))| a.from == from && !a.dropped && a.sent <= Some(r.frame.time_ns - t0))
                .filter(move |(_, (_, s))| {
                    let Some(s) = s else { return false };
                    if exact {
                        s.frame.data == r.frame.data
                    } else {
                        s.frame.original_len == r.frame.original_len
                            && s.frame.comment.as_deref().is_some_and(|c| c.contains("corrupted"))
                    }
                })
                .map(|(i, _)| i)
                .collect::<Vec<usize>>()
        };
        let pick = |c: Vec<usize>, matched: &[usize]| -> Option<usize> {
            // The earliest not yet matched; all matched: a duplicate of the latest.
            c.iter().copied().find(|&i| matched[i] == 0).or_else(|| c.last().copied())
        };
        let found =
            if two { pick(candidates(true), &matched).or_else(|| pick(candidates(false), &matched)) } else { None };
        match found {
            Some(i) if matched[i] == 0 => {
                matched[i] = 1;
                arrows[i].0.arrived = Some(r.frame.time_ns - t0);
                if arrows[i].0.link_note.is_none() {
                    arrows[i].0.link_note = r.frame.comment.as_deref().and_then(link_note);
                }
            }
            Some(i) => {
                matched[i] += 1;
                let mut copy = arrows[i].0.clone();
                copy.arrived = Some(r.frame.time_ns - t0);
                copy.link_note = r.frame.comment.as_deref().and_then(link_note).or(copy.link_note);
                let sender = arrows[i].1;
                arrows.push((copy, sender));
                matched.push(1);
            }
            None => unmatched_received.push(r),
        }
    }
    for r in unmatched_received {
        let comment = r.frame.comment.as_deref().unwrap_or("");
        let arrow = Arrow {
            from: origin_of(r.capture, false),
            sent: None,
            arrived: Some(r.frame.time_ns - t0),
            dropped: false,
            label: String::new(),
            sender_state: None,
            receiver_state: None,
            link_note: link_note(comment),
        };
        arrows.push((arrow, Some(r)));
    }
    // Time order (stable: equal times keep capture order, sends before the matching receives).
    // Ties in time keep the order the frames have in their captures.
    arrows.sort_by_key(|(a, s)| (a.start(), s.map(|s| s.index)));
    label_and_states(&mut arrows, two);
    let (left_name, right_name) = match (captures.len(), captures.get(1)) {
        (2, Some(second)) => (first.host.clone(), second.host.clone()),
        _ => (first.host.clone(), "(peer)".to_string()),
    };
    let title = match chosen {
        Some(_) => format!("TCP {left_ep} <-> {right_ep}"),
        None => format!("{left_ep} <-> {right_ep}"),
    };
    if !two {
        notes.push("one capture only: the peer's times are unknown, arrows are drawn flat".to_string());
    }
    Ok(Ladder {
        title,
        left: Column { name: left_name, addr: left_ep },
        right: Column { name: right_name, addr: right_ep },
        arrows: arrows.into_iter().map(|(a, _)| a).collect(),
        notes,
    })
}

/// What the link did, from a packet comment: its lines other than the stack's `state:` and `why:`.
fn link_note(comment: &str) -> Option<String> {
    let lines: Vec<&str> =
        comment.lines().filter(|l| !l.starts_with("state: ") && !l.starts_with("why: ") && !l.is_empty()).collect();
    (!lines.is_empty()).then(|| lines.join("; "))
}

/// The text after `why: ` on a comment line, if any.
fn why(comment: &str) -> Option<String> {
    comment.lines().rev().find_map(|l| l.strip_prefix("why: ")).map(|w| w.trim().to_string())
}

/// The state a `state: A -> B` comment line moves to.
/// The state a `state: #N FROM -> TO` line of `comment` moves this connection to: the last line whose FROM is
/// `current`. A frame may carry another connection's change (the simulator writes changes no frame of their
/// own carries on the host's next frame), which starts from a state this connection is not in.
fn explicit_state(comment: &str, current: &str) -> Option<String> {
    comment.lines().filter_map(|l| l.strip_prefix("state: ")).rev().find_map(|s| match s.rsplit_once("->") {
        Some((from, to)) => {
            let from = from.split_whitespace().next_back().unwrap_or("");
            (from == current).then(|| to.trim().to_string())
        }
        None => Some(s.trim().to_string()),
    })
}

/// The states of RFC 9293 §3.3.2 a ladder can show.
const STATES: [&str; 11] = [
    "CLOSED",
    "LISTEN",
    "SYN-SENT",
    "SYN-RECEIVED",
    "ESTABLISHED",
    "FIN-WAIT-1",
    "FIN-WAIT-2",
    "CLOSE-WAIT",
    "CLOSING",
    "LAST-ACK",
    "TIME-WAIT",
];

/// RFC 9293's states, as far as the segments a side sent and received show them.
#[derive(Clone, Debug)]
struct Tracker {
    state: &'static str,
    /// Sequence number just past our FIN, once we sent one.
    fin_end: Option<u32>,
    /// What we received in order (RCV.NXT), once the peer's SYN arrived, and runs that arrived beyond it: the
    /// peer's FIN counts only once everything before it is in (an out-of-order FIN changes no state).
    rcv_nxt: Option<u32>,
    out_of_order: Vec<(u32, u32)>,
    /// Sequence number of the peer's FIN, once seen, until it is taken in order.
    peer_fin: Option<u32>,
}

/// `a` is at or after `b` in sequence space.
fn seq_ge(a: u32, b: u32) -> bool {
    a.wrapping_sub(b) as i32 >= 0
}

impl Tracker {
    fn new() -> Tracker {
        Tracker { state: "CLOSED", fin_end: None, rcv_nxt: None, out_of_order: Vec::new(), peer_fin: None }
    }

    /// Takes in `seg`'s sequence space; returns whether the peer's FIN is now in order (taken once).
    fn take_in_order(&mut self, seg: &Seg) -> bool {
        if seg.flags.contains(TcpFlags::SYN) {
            self.rcv_nxt = Some(seg.seq.wrapping_add(1).wrapping_add(seg.len));
            self.out_of_order.clear();
        }
        let Some(mut nxt) = self.rcv_nxt else {
            // No SYN seen (a capture that starts mid-connection): every FIN is taken as it comes.
            return seg.flags.contains(TcpFlags::FIN);
        };
        let start = seg.seq.wrapping_add(u32::from(seg.flags.contains(TcpFlags::SYN)));
        let end = start.wrapping_add(seg.len);
        if seg.flags.contains(TcpFlags::FIN) {
            self.peer_fin = Some(end);
        }
        if seq_ge(nxt, start) {
            if seq_ge(end, nxt) {
                nxt = end;
            }
        } else if seg.len > 0 {
            self.out_of_order.push((start, end));
        }
        // Runs held beyond the hole join once it is filled.
        loop {
            let before = nxt;
            self.out_of_order.retain(|&(s, e)| {
                if seq_ge(nxt, s) {
                    if seq_ge(e, nxt) {
                        nxt = e;
                    }
                    false
                } else {
                    true
                }
            });
            if nxt == before {
                break;
            }
        }
        let fin_in_order = self.peer_fin == Some(nxt);
        if fin_in_order {
            self.peer_fin = None;
            nxt = nxt.wrapping_add(1);
        }
        self.rcv_nxt = Some(nxt);
        fin_in_order
    }

    fn acks_our_fin(&self, seg: &Seg) -> bool {
        seg.flags.contains(TcpFlags::ACK) && self.fin_end.is_some_and(|f| seg.ack.wrapping_sub(f) as i32 >= 0)
    }

    /// Our side sent `seg`; returns the new state if it changed.
    fn sent(&mut self, seg: &Seg) -> Option<&'static str> {
        let before = self.state;
        let syn = seg.flags.contains(TcpFlags::SYN);
        let ack = seg.flags.contains(TcpFlags::ACK);
        if seg.flags.contains(TcpFlags::RST) {
            self.state = "CLOSED";
        } else if syn && !ack && self.state == "CLOSED" {
            self.state = "SYN-SENT";
        } else if syn && ack && matches!(self.state, "CLOSED" | "LISTEN") {
            self.state = "SYN-RECEIVED";
        }
        if seg.flags.contains(TcpFlags::FIN) {
            let end = seg.seq.wrapping_add(seg.len).wrapping_add(1);
            self.fin_end = Some(end);
            self.state = match self.state {
                "ESTABLISHED" | "SYN-RECEIVED" => "FIN-WAIT-1",
                "CLOSE-WAIT" => "LAST-ACK",
                s => s,
            };
        }
        (self.state != before).then_some(self.state)
    }

    /// Our side received `seg`; returns the new state if it changed.
    fn received(&mut self, seg: &Seg) -> Option<&'static str> {
        let before = self.state;
        let syn = seg.flags.contains(TcpFlags::SYN);
        let ack = seg.flags.contains(TcpFlags::ACK);
        if seg.flags.contains(TcpFlags::RST) {
            self.state = "CLOSED";
            return (self.state != before).then_some(self.state);
        }
        let fin = self.take_in_order(seg);
        self.state = match (self.state, syn, ack) {
            // A listener's SYN-RECEIVED shows when it answers with SYN+ACK (a closed port answers with RST).
            ("SYN-SENT", true, true) => "ESTABLISHED",
            ("SYN-SENT", true, false) => "SYN-RECEIVED",
            ("SYN-RECEIVED", false, true) => "ESTABLISHED",
            ("SYN-RECEIVED", true, true) => "ESTABLISHED",
            (s, _, _) => s,
        };
        if fin {
            self.state = match self.state {
                "ESTABLISHED" => "CLOSE-WAIT",
                "FIN-WAIT-1" if self.acks_our_fin(seg) => "TIME-WAIT",
                "FIN-WAIT-1" => "CLOSING",
                "FIN-WAIT-2" => "TIME-WAIT",
                s => s,
            };
        } else if self.acks_our_fin(seg) {
            self.state = match self.state {
                "FIN-WAIT-1" => "FIN-WAIT-2",
                "CLOSING" => "TIME-WAIT",
                "LAST-ACK" => "CLOSED",
                s => s,
            };
        }
        (self.state != before).then_some(self.state)
    }
}

/// Relative sequence numbers: each direction's ISN (its SYN's sequence number, or the first seen); and the
/// window scale each side announced in its SYN (used only when both did, RFC 7323 §2.2).
#[derive(Debug, Default)]
struct Isns {
    left: Option<u32>,
    right: Option<u32>,
    scales: [Option<u8>; 2],
}

impl Isns {
    fn of(&mut self, side: Side) -> &mut Option<u32> {
        match side {
            Side::Left => &mut self.left,
            Side::Right => &mut self.right,
        }
    }
}

/// Fills in every arrow's label and the states each side enters.
fn label_and_states(arrows: &mut [(Arrow, Option<&Seen<'_>>)], two: bool) {
    let mut trackers = [Tracker::new(), Tracker::new()];
    let idx = |side: Side| usize::from(side == Side::Right);
    // ISNs from the SYNs wherever they are in the ladder, so an out-of-order start still counts from the SYN.
    let mut isns = Isns::default();
    for (a, s) in arrows.iter() {
        if let Some(Kind::Tcp(seg)) = s.map(|s| &s.parsed.kind) {
            if seg.flags.contains(TcpFlags::SYN) && isns.of(a.from).is_none() {
                *isns.of(a.from) = Some(seg.seq);
                isns.scales[idx(a.from)] = seg.window_scale;
            }
        }
    }
    for (a, s) in arrows.iter() {
        if let Some(Kind::Tcp(seg)) = s.map(|s| &s.parsed.kind) {
            isns.of(a.from).get_or_insert(seg.seq);
        }
    }
    // Each side's events in its own time order: sends at their send time, receipts at their arrival time.
    // Without the receiver's capture, a frame that was not dropped is taken as received when sent.
    // Without the sender's capture a frame is taken as sent when it arrived; without the receiver's, a frame
    // that was not dropped as received when sent.
    let mut events: Vec<(u64, u8, usize, bool)> = Vec::new(); // (time, rank, arrow index, is the receipt)
    for (i, (a, _)) in arrows.iter().enumerate() {
        let send = a.sent.or(a.arrived);
        let receipt = a.arrived.or(if !a.dropped && !two { a.sent } else { None });
        // At equal times a side takes in what arrived before it sends (the send may be the answer), but a
        // frame arrives after it was sent.
        if let Some(t) = send {
            events.push((t, 1, i, false));
        }
        if let Some(t) = receipt {
            events.push((t, if Some(t) == send { 2 } else { 0 }, i, true));
        }
    }
    events.sort();
    let mut last_window: [Option<u16>; 2] = [None, None];
    // Each side's highest sequence number sent so far (SND.NXT), to tell a window probe (RFC 9293 §3.8.6.1:
    // one byte below SND.NXT, or none) from an ACK.
    let mut snd_nxt: [Option<u32>; 2] = [None, None];
    for (_, _, i, receipt) in events {
        let (arrow, seen) = &mut arrows[i];
        let Some(seen) = seen else { continue };
        let comment = seen.frame.comment.as_deref().unwrap_or("");
        let Kind::Tcp(seg) = &seen.parsed.kind else {
            if arrow.label.is_empty() {
                arrow.label = match &seen.parsed.kind {
                    Kind::Other(text) => text.clone(),
                    Kind::Tcp(_) => String::new(),
                };
            }
            continue;
        };
        if receipt {
            let t = &mut trackers[idx(arrow.from.other())];
            arrow.receiver_state = t.received(seg).map(str::to_string);
        } else {
            let t = &mut trackers[idx(arrow.from)];
            let before = t.state;
            let change = t.sent(seg);
            // The stack's word wins over the inference; a change the receipts already showed (SYN-SENT ->
            // ESTABLISHED, written on the ACK that follows the SYN+ACK) is not repeated.
            arrow.sender_state = match explicit_state(comment, before) {
                Some(told) => {
                    if let Some(known) = STATES.iter().find(|k| **k == told) {
                        t.state = known;
                    }
                    Some(told).filter(|s| s != before)
                }
                None => change.map(str::to_string),
            };
        }
        if arrow.label.is_empty() {
            // The window is news when it closes (zero) or reopens (the update after a zero).
            let w = &mut last_window[idx(arrow.from)];
            let window_changed = *w == Some(0) && seg.win != 0;
            if !seg.flags.contains(TcpFlags::SYN) {
                *w = Some(seg.win);
            }
            let nxt = &mut snd_nxt[idx(arrow.from)];
            // Only into a window the peer shut: a one-byte retransmission or a keep-alive probe is no window probe.
            let peer_window_shut = last_window[idx(arrow.from.other())] == Some(0);
            let probe = seg.len <= 1
                && peer_window_shut
                && !seg.flags.intersects(TcpFlags::SYN | TcpFlags::FIN | TcpFlags::RST)
                && nxt.is_some_and(|n| seg.seq.wrapping_add(1) == n || (seg.len == 1 && seg.seq == n.wrapping_sub(1)));
            let label = segment_label(seg, arrow.from, &isns, window_changed);
            let label = if probe {
                let rel = seg.seq.wrapping_sub(isns_get(&isns, arrow.from));
                format!("window probe seq={rel} ({} byte{})", seg.len, if seg.len == 1 { "" } else { "s" })
            } else {
                label
            };
            // What the segment carried, then the stack's reason (a learner wants both: which bytes, and why);
            // where the arrow is too short the renderer cuts the reason's end, never the numbers the tour quotes.
            arrow.label = match why(comment) {
                Some(why) => format!("{label} · {why}"),
                None => label,
            };
        }
        if !receipt {
            let syn_fin = u32::from(seg.flags.contains(TcpFlags::SYN)) + u32::from(seg.flags.contains(TcpFlags::FIN));
            let end = seg.seq.wrapping_add(seg.len).wrapping_add(syn_fin);
            let nxt = &mut snd_nxt[idx(arrow.from)];
            if nxt.is_none_or(|n| end.wrapping_sub(n) as i32 > 0) {
                *nxt = Some(end);
            }
        }
    }
    // Arrows whose frame only arrived (no sender capture) but never passed through the loop above: none; and
    // frames that are not TCP got their label above.
}

/// `SYN seq=0`, `SYN+ACK seq=0 ack=1`, `ACK 1461`, `1461:2921 (1460)`, `FIN seq=3001 ack=1`, `RST+ACK ack=1`.
fn segment_label(seg: &Seg, from: Side, isns: &Isns, window_changed: bool) -> String {
    let rel_seq = |v: u32| v.wrapping_sub(isns_get(isns, from));
    let rel_ack = |v: u32| v.wrapping_sub(isns_get(isns, from.other()));
    let f = seg.flags;
    let ack = f.contains(TcpFlags::ACK);
    let mut names: Vec<&str> = Vec::new();
    for (flag, name) in [(TcpFlags::SYN, "SYN"), (TcpFlags::FIN, "FIN"), (TcpFlags::RST, "RST")] {
        if f.contains(flag) {
            names.push(name);
        }
    }
    let mut parts: Vec<String> = Vec::new();
    if seg.len > 0 {
        let start = rel_seq(seg.seq);
        parts.push(format!("{}:{} ({})", start, start.wrapping_add(seg.len), seg.len));
        if !names.is_empty() {
            parts.insert(0, names.join("+"));
        }
        if ack {
            parts.push(format!("ack={}", rel_ack(seg.ack)));
        }
    } else if names.is_empty() {
        if ack {
            parts.push(format!("ACK {}", rel_ack(seg.ack)));
        } else {
            parts.push("(no flags)".to_string());
        }
    } else {
        if ack && f.contains(TcpFlags::SYN) {
            names.push("ACK");
        }
        let mut head = names.join("+");
        let rst_only = f.contains(TcpFlags::RST) && !f.contains(TcpFlags::SYN);
        if rst_only && ack {
            head.push_str("+ACK");
        }
        parts.push(head);
        if !(rst_only && ack) {
            parts.push(format!("seq={}", rel_seq(seg.seq)));
        }
        if ack {
            parts.push(format!("ack={}", rel_ack(seg.ack)));
        }
    }
    let blocks: Vec<String> =
        seg.sack.iter().flatten().map(|&(l, r)| format!("{}:{}", rel_ack(l), rel_ack(r))).collect();
    if !blocks.is_empty() {
        parts.push(format!("sack {}", blocks.join(",")));
    }
    if !f.contains(TcpFlags::RST) && (seg.win == 0 || (window_changed && seg.len == 0 && !f.contains(TcpFlags::SYN))) {
        let shift = match isns.scales {
            [Some(l), Some(r)] if !f.contains(TcpFlags::SYN) => {
                if from == Side::Left {
                    l
                } else {
                    r
                }
            }
            _ => 0,
        };
        parts.push(format!("win={}", u32::from(seg.win) << shift));
    }
    parts.join(" ")
}

fn isns_get(isns: &Isns, side: Side) -> u32 {
    match side {
        Side::Left => isns.left.unwrap_or(0),
        Side::Right => isns.right.unwrap_or(0),
    }
}

/// Formats nanoseconds as seconds with microseconds: `0.015000`.
pub fn seconds(ns: u64) -> String {
    format!("{}.{:06}", ns / 1_000_000_000, (ns % 1_000_000_000) / 1_000)
}

/// The captures a `ladder` command names: one or two pcapng files, or a scenario TOML to run (its first two
/// hosts' captures, in the scenario's host order).
pub fn load_inputs(paths: &[std::path::PathBuf], seed: Option<u64>) -> Result<Vec<HostCapture>, String> {
    match paths {
        [one] if one.extension().is_some_and(|e| e == "toml") => {
            let (sc, source) = crate::Scenario::load(one).map_err(|e| e.to_string())?;
            let opts = crate::BuildOptions { seed, capture: true, ..crate::BuildOptions::default() };
            let out = crate::run(&sc, &source, &opts).map_err(|e| e.to_string())?;
            out.captures
                .iter()
                .take(2)
                .map(|(host, bytes)| HostCapture::from_bytes(bytes, &format!("{} (host {host})", one.display())))
                .collect()
        }
        [] => Err("give one or two pcapng captures (or one scenario .toml)".into()),
        _ if seed.is_some() => Err("--seed only applies to a scenario .toml".into()),
        _ => paths.iter().map(|p| HostCapture::read(p)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::explicit_state;

    /// Another connection's change riding on this connection's frame is not this connection's.
    #[test]
    fn a_state_line_counts_only_from_the_state_the_connection_is_in() {
        let comment = "state: #1 TIME-WAIT -> CLOSED\nwhy: new data";
        assert_eq!(explicit_state(comment, "ESTABLISHED"), None);
        let comment = "state: #1 TIME-WAIT -> CLOSED\nstate: #2 ESTABLISHED -> FIN-WAIT-1\nwhy: new data";
        assert_eq!(explicit_state(comment, "ESTABLISHED").as_deref(), Some("FIN-WAIT-1"));
        assert_eq!(explicit_state("state: #3 CLOSED -> SYN-SENT", "CLOSED").as_deref(), Some("SYN-SENT"));
    }
}
