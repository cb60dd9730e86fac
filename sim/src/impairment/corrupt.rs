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
use synack::wire::{ethernet, icmpv4, tcp, udp, EtherType, EthernetFrame, IpProtocol, Ipv4Packet};

/// Bytes of a TCP header a parser reads before the checksum: the data offset (relative to the header).
const TCP_SKIP: &[usize] = &[12];
/// Bytes of a UDP header not to flip: the length (read before the checksum) and the checksum itself.
const UDP_SKIP: &[usize] = &[4, 5, 6, 7];

/// Flips one checksum-protected bit of each frame with probability `p`.
#[derive(Clone, Debug)]
pub struct Corrupt {
    pub p: f64,
}

/// The corruptible bytes of a frame: a byte range and the bytes inside it to skip (relative to its start).
pub fn corruptible_bits(frame: &[u8]) -> Option<(std::ops::Range<usize>, &'static [usize])> {
    let eth = EthernetFrame::new_checked(frame).ok().filter(|f| f.ethertype() == EtherType::Ipv4)?;
    // Version 4, header and total length consistent and within the frame.
    let ip = Ipv4Packet::new_checked(eth.payload()).ok().filter(|ip| !ip.is_fragment())?;
    let start = ethernet::HEADER_LEN + ip.header_len();
    let end = ethernet::HEADER_LEN + usize::from(ip.total_len());
    let (min_len, skip) = match ip.protocol() {
        IpProtocol::Tcp => (tcp::HEADER_LEN, TCP_SKIP),
        IpProtocol::Udp => (udp::HEADER_LEN, UDP_SKIP),
        IpProtocol::Icmp => (icmpv4::HEADER_LEN, &[][..]),
        IpProtocol::Unknown(_) => return None,
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
