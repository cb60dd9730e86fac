//! Corruption: one bit flipped where the receiver's checksums must catch it.
//!
//! Only the transport part of an unfragmented IPv4 datagram is corrupted (TCP, UDP or ICMP header and
//! payload), never the fields a parser checks before the checksum (TCP data offset, UDP length) nor the UDP
//! checksum itself (a checksum flipped to 0 would mean "no checksum"). Every single-bit flip in the rest changes
//! the RFC 1071 sum, so the receiver drops the frame as `Malformed(_, BadChecksum)`. Frames without such a part
//! (ARP, fragments) pass untouched.

use super::{FrameInfo, Impairment, Verdict};
use crate::rng::{below, chance};
use rand_chacha::ChaCha8Rng;

const ETHERNET_HEADER: usize = 14;
const ETHERTYPE_IPV4: [u8; 2] = [0x08, 0x00];
const PROTO_ICMP: u8 = 1;
const PROTO_TCP: u8 = 6;
const PROTO_UDP: u8 = 17;

/// Flips one checksum-protected bit of each frame with probability `p`.
#[derive(Clone, Debug)]
pub struct Corrupt {
    pub p: f64,
}

/// The corruptible bytes of a frame: a byte range and the bytes inside it to skip (relative to its start).
pub fn corruptible_bits(frame: &[u8]) -> Option<(std::ops::Range<usize>, &'static [usize])> {
    if frame.len() < ETHERNET_HEADER + 20 || frame[12..14] != ETHERTYPE_IPV4 {
        return None;
    }
    let ip = &frame[ETHERNET_HEADER..];
    let ihl = usize::from(ip[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    let frag = u16::from_be_bytes([ip[6], ip[7]]) & 0x3fff; // MF flag + offset
    if ip[0] >> 4 != 4 || ihl < 20 || total < ihl || total > ip.len() || frag != 0 {
        return None;
    }
    let start = ETHERNET_HEADER + ihl;
    let end = ETHERNET_HEADER + total;
    let (min_len, skip): (usize, &'static [usize]) = match ip[9] {
        PROTO_TCP => (20, &[12]),
        PROTO_UDP => (8, &[4, 5, 6, 7]),
        PROTO_ICMP => (8, &[]),
        _ => return None,
    };
    (end - start >= min_len).then_some((start..end, skip))
}

/// Flips bit `bit` (MSB-first numbering from the frame's first byte); out-of-range bits are ignored.
pub fn flip_bit(frame: &mut [u8], bit: usize) {
    if let Some(b) = frame.get_mut(bit / 8) {
        *b ^= 0x80 >> (bit % 8);
    }
}

impl Impairment for Corrupt {
    fn name(&self) -> &'static str {
        "corrupt"
    }
    fn apply(&mut self, frame: &FrameInfo<'_>, rng: &mut ChaCha8Rng) -> Verdict {
        let Some((range, skip)) = corruptible_bits(frame.bytes) else {
            return Verdict::Pass;
        };
        if !chance(rng, self.p) {
            return Verdict::Pass;
        }
        let usable = (range.len() - skip.len()) as u64 * 8;
        let pick = below(rng, usable) as usize;
        let (mut byte, bit_in_byte) = (pick / 8, pick % 8);
        // Map the pick onto the range, stepping over skipped bytes (sorted ascending).
        for s in skip {
            if byte >= *s {
                byte += 1;
            }
        }
        Verdict::Corrupt { bit: (range.start + byte) * 8 + bit_in_byte }
    }
}
