//! The wire between the two stacks: a fixed one-way delay and, per direction, seeded faults (loss, duplication,
//! holding a frame back so later ones overtake it, a flipped byte). The link also watches every TCP segment as
//! sent, before any fault, and counts what a test asserts on: resets, and retransmissions (a segment that
//! carries nothing beyond what its sender already sent on that connection).

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use synack::seed::{mix64, unit_interval, GOLDEN_GAMMA};

/// Which way a frame travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Dir {
    /// synack sent it; smoltcp receives it.
    ToSmol,
    /// smoltcp sent it; synack receives it.
    ToSynack,
}

impl Dir {
    pub const BOTH: [Dir; 2] = [Dir::ToSmol, Dir::ToSynack];

    pub fn index(self) -> usize {
        self as usize
    }

    fn arrow(self) -> &'static str {
        match self {
            Dir::ToSmol => "synack -> smoltcp",
            Dir::ToSynack => "smoltcp -> synack",
        }
    }
}

/// The faults of one direction, each a probability per frame.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Faults {
    pub loss: f64,
    pub duplicate: f64,
    /// Held back by up to `hold_back_ns` beyond the delay, so frames sent after it arrive first.
    pub reorder: f64,
    pub hold_back_ns: u64,
    /// One byte of the IPv4 datagram flipped: the IPv4 or TCP checksum must catch it.
    pub corrupt: f64,
}

impl Faults {
    pub const CLEAN: Faults = Faults { loss: 0.0, duplicate: 0.0, reorder: 0.0, hold_back_ns: 0, corrupt: 0.0 };

    /// `loss` per frame, with a third of that duplicated, held back (up to 3 ms) and corrupted each.
    pub fn lossy(loss: f64) -> Faults {
        Faults { loss, duplicate: loss / 3.0, reorder: loss / 3.0, hold_back_ns: 3_000_000, corrupt: loss / 3.0 }
    }
}

/// SplitMix64 over the stack's own mixing function: one independent stream per direction and seed.
#[derive(Clone, Debug)]
struct Draws(u64);

impl Draws {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN_GAMMA);
        mix64(self.0)
    }

    fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && unit_interval(self.next()) < p
    }
}

/// What the link did, per direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub frames: u64,
    pub lost: u64,
    pub duplicated: u64,
    pub held_back: u64,
    pub corrupted: u64,
    pub resets: u64,
    /// TCP segments whose sequence space (payload, SYN, FIN) lies wholly below what that connection already sent.
    pub retransmissions: u64,
}

/// The latest frames, for a failure message.
const HISTORY: usize = 60;

/// Frames in flight, ordered by (arrival time in ns, sending order).
pub struct Link {
    delay_ns: u64,
    faults: [Faults; 2],
    draws: [Draws; 2],
    /// (arrival, sending order) -> (direction, frame, corrupted on the way).
    in_flight: BTreeMap<(u64, u64), (Dir, Vec<u8>, bool)>,
    sent: u64,
    pub tally: [Tally; 2],
    /// Per direction: (source port, destination port) -> end of the sequence space sent so far.
    sent_up_to: [BTreeMap<(u16, u16), u32>; 2],
    history: VecDeque<String>,
    /// Every frame as it left its sender, for `INTEROP_PCAP`.
    pub capture: Option<Vec<(u64, Vec<u8>)>>,
}

impl Link {
    pub fn new(seed: u64, delay_ns: u64, faults: [Faults; 2], capture: bool) -> Link {
        Link {
            delay_ns,
            faults,
            draws: [Draws(synack::seed::derive_seed(seed, 101)), Draws(synack::seed::derive_seed(seed, 102))],
            in_flight: BTreeMap::new(),
            sent: 0,
            tally: [Tally::default(); 2],
            sent_up_to: [BTreeMap::new(), BTreeMap::new()],
            history: VecDeque::with_capacity(HISTORY),
            capture: capture.then(Vec::new),
        }
    }

    /// Puts a frame sent at `now` on the link, through the faults of its direction.
    pub fn send(&mut self, now: u64, dir: Dir, frame: Vec<u8>) {
        let d = dir.index();
        self.tally[d].frames += 1;
        self.watch(dir, &frame);
        if let Some(c) = self.capture.as_mut() {
            c.push((now, frame.clone()));
        }
        let faults = self.faults[d];
        let draws = &mut self.draws[d];
        let mut fate = String::new();
        if draws.chance(faults.loss) {
            self.tally[d].lost += 1;
            self.remember(now, dir, "LOST", &frame);
            return;
        }
        let copies = if draws.chance(faults.duplicate) {
            self.tally[d].duplicated += 1;
            fate.push_str("dup ");
            2
        } else {
            1
        };
        for _ in 0..copies {
            let mut at = now + self.delay_ns;
            let mut copy = frame.clone();
            let mut corrupted = false;
            if draws.chance(faults.reorder) {
                at += 1 + draws.next() % faults.hold_back_ns.max(1);
                self.tally[d].held_back += 1;
                let _ = write!(fate, "held+{}us ", (at - now - self.delay_ns) / 1000);
            }
            let ip_len = ipv4_len(&copy);
            if ip_len > 0 && draws.chance(faults.corrupt) {
                let i = 14 + (draws.next() % ip_len as u64) as usize;
                copy[i] ^= 1 + (draws.next() % 255) as u8;
                corrupted = true;
                self.tally[d].corrupted += 1;
                let _ = write!(fate, "corrupt@{i} ");
            }
            self.sent += 1;
            self.in_flight.insert((at, self.sent), (dir, copy, corrupted));
        }
        self.remember(now, dir, fate.trim_end(), &frame);
    }

    /// When the next frame arrives.
    pub fn next_arrival(&self) -> Option<u64> {
        self.in_flight.keys().next().map(|k| k.0)
    }

    /// The next frame that has arrived by `now`, and whether it was corrupted on the way.
    pub fn pop_arrived(&mut self, now: u64) -> Option<(Dir, Vec<u8>, bool)> {
        let entry = self.in_flight.first_entry().filter(|e| e.key().0 <= now)?;
        Some(entry.remove())
    }

    /// The latest frames, one line each, oldest first.
    pub fn history(&self) -> String {
        self.history.iter().map(|l| format!("  {l}\n")).collect()
    }

    fn remember(&mut self, now: u64, dir: Dir, fate: &str, frame: &[u8]) {
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        let summary = synack::wire::pretty::frame_summary(frame);
        self.history.push_back(format!("{:>12.6} ms {} {fate:>6} {summary}", now as f64 / 1e6, dir.arrow()));
    }

    /// Counts resets and retransmissions of a TCP segment (parsed by hand: the link trusts neither stack).
    fn watch(&mut self, dir: Dir, frame: &[u8]) {
        let Some(seg) = Segment::parse(frame) else {
            return;
        };
        let d = dir.index();
        if seg.rst {
            self.tally[d].resets += 1;
            return;
        }
        let end = seg.seq.wrapping_add(seg.len);
        let key = (seg.src_port, seg.dst_port);
        if seg.syn {
            // A new connection starts the count afresh; a SYN sent again is a retransmission.
            if self.sent_up_to[d].get(&key) == Some(&end) {
                self.tally[d].retransmissions += 1;
            }
            self.sent_up_to[d].insert(key, end);
            return;
        }
        if seg.len == 0 {
            return;
        }
        match self.sent_up_to[d].get_mut(&key) {
            Some(high) if (end.wrapping_sub(*high) as i32) <= 0 => self.tally[d].retransmissions += 1,
            Some(high) => *high = end,
            None => {
                self.sent_up_to[d].insert(key, end);
            }
        }
    }
}

/// The length of the IPv4 datagram in an Ethernet frame, 0 if it holds none. Only those bytes are corrupted: a
/// real link's FCS catches the rest, and ARP has no checksum of its own that could.
fn ipv4_len(frame: &[u8]) -> usize {
    match (frame.get(12..14), frame.get(16..18)) {
        (Some([0x08, 0x00]), Some(len)) => usize::from(u16::from_be_bytes([len[0], len[1]])).min(frame.len() - 14),
        _ => 0,
    }
}

/// The fields of a TCP segment in an Ethernet/IPv4 frame that the link watches.
struct Segment {
    src_port: u16,
    dst_port: u16,
    seq: u32,
    /// Sequence space taken: payload bytes, plus one each for SYN and FIN.
    len: u32,
    syn: bool,
    rst: bool,
}

impl Segment {
    fn parse(f: &[u8]) -> Option<Segment> {
        let ip = f.get(14..)?;
        if f.get(12..14)? != [0x08, 0x00] || ip.first()? >> 4 != 4 || *ip.get(9)? != 6 {
            return None;
        }
        let ihl = usize::from(ip[0] & 0x0f) * 4;
        let total = usize::from(u16::from_be_bytes([*ip.get(2)?, *ip.get(3)?]));
        let tcp = ip.get(ihl..total)?;
        let data_offset = usize::from(tcp.get(12)? >> 4) * 4;
        let flags = *tcp.get(13)?;
        let (syn, fin, rst) = (flags & 0x02 != 0, flags & 0x01 != 0, flags & 0x04 != 0);
        let payload = tcp.len().checked_sub(data_offset)? as u32;
        Some(Segment {
            src_port: u16::from_be_bytes([tcp[0], tcp[1]]),
            dst_port: u16::from_be_bytes([tcp[2], tcp[3]]),
            seq: u32::from_be_bytes([tcp[4], tcp[5], tcp[6], tcp[7]]),
            len: payload + u32::from(syn) + u32::from(fin),
            syn,
            rst,
        })
    }
}

/// Writes `frames` as a classic pcap file (Ethernet, microsecond timestamps) for tshark or Wireshark.
pub fn write_pcap(path: &std::path::Path, frames: &[(u64, Vec<u8>)]) -> std::io::Result<()> {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&0i32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&65_535u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    for (ns, frame) in frames {
        let micros = ns / 1000;
        out.extend_from_slice(&((micros / 1_000_000) as u32).to_le_bytes());
        out.extend_from_slice(&((micros % 1_000_000) as u32).to_le_bytes());
        out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        out.extend_from_slice(frame);
    }
    std::fs::write(path, out)
}
