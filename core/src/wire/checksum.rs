//! The Internet checksum (RFC 1071): the one's complement of the one's complement sum of 16-bit words.
//!
//! [`data`] returns the folded sum (not complemented) so that partial sums (pseudo-header, header, payload)
//! can be [`combine`]d; a field is written as `!combine(..)`, and a received packet verifies when the sum over
//! everything including the checksum field is `0xffff`.

use super::ipv4::IpProtocol;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Folds a wide accumulator into 16 bits with end-around carry.
fn fold(mut sum: u64) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// One's complement sum of `bytes` as big-endian 16-bit words (an odd last byte is padded with zero).
///
/// The sum is independent of byte order (RFC 1071 §2 (B)) and of the word width (2^16 = 1 mod 0xffff, so a
/// native 32-bit word is worth its two native 16-bit words): whole 64-byte blocks go to `block_sum`, the rest
/// to `short_sum`, and the sum is folded once at the end (§2 (C), deferred carries) and swapped to network
/// order. The value equals the word-by-word big-endian sum exactly: both are 0 only for all-zero input and
/// otherwise the same residue in 1..=0xffff.
pub fn data(bytes: &[u8]) -> u16 {
    if let Ok(header) = <&[u8; 20]>::try_from(bytes) {
        // An IPv4 header or a TCP header without options (most calls): five words, no loop.
        let word = |i: usize| u64::from(u32::from_ne_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]]));
        return u16::from_be(fold_short(word(0) + word(4) + word(8) + word(12) + word(16)));
    }
    if bytes.len() < BLOCK {
        // Headers and small segments (most frames): no vector loop to set up, whose cost was about that of the
        // few words themselves.
        return u16::from_be(fold_short(short_sum(bytes)));
    }
    let (blocks, rest) = bytes.split_at(bytes.len() - bytes.len() % BLOCK);
    u16::from_be(fold(block_sum(blocks) + short_sum(rest)))
}

const BLOCK: usize = 64;

/// The sum of `blocks` (whole 64-byte blocks; a remainder is ignored), with the widest vector adds the CPU
/// offers: the same plain loop (`lane_sum`), compiled once for the default target and once with AVX2, the
/// choice made at run time (`pulp` detects the CPU once and keeps the `unsafe` of calling code compiled for
/// other CPU features in its own crate). Both give the same sum, so which one ran changes no output. AVX2's
/// 256-bit adds take half the time of SSE2's 128-bit ones per byte.
///
/// Never inlined: in a function of its own the compiler turns the lanes into wide vector adds in any build at
/// opt-level 3. Inlined into `data`, it did so only when the crate was compiled in several codegen units: in
/// one, or with LTO, the lanes ran as scalar adds (10% more instructions in a bulk transfer, half the speed per
/// byte).
#[inline(never)]
fn block_sum(blocks: &[u8]) -> u64 {
    pulp::Arch::new().dispatch(LaneSum(blocks))
}

/// [`lane_sum`] for `pulp`'s dispatch: its body is compiled for each instruction set `pulp` may pick.
struct LaneSum<'a>(&'a [u8]);

impl pulp::WithSimd for LaneSum<'_> {
    type Output = u64;

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) -> u64 {
        lane_sum(self.0)
    }
}

/// Native-endian 32-bit words of whole 64-byte blocks into 16 independent 64-bit lanes, one block at a time,
/// each lane folded to 33 bits at the end (a lane cannot overflow before 2^32 blocks, 256 GiB).
#[inline(always)]
fn lane_sum(blocks: &[u8]) -> u64 {
    let mut lanes = [0u64; BLOCK / 4];
    for b in blocks.chunks_exact(BLOCK) {
        add_block(&mut lanes, b);
    }
    fold_lanes(&lanes)
}

/// Adds one 64-byte block's native-endian 32-bit words to the 16 lanes.
#[inline(always)]
fn add_block(lanes: &mut [u64; BLOCK / 4], block: &[u8]) {
    for (lane, w) in lanes.iter_mut().zip(block.chunks_exact(4)) {
        *lane += u64::from(u32::from_ne_bytes([w[0], w[1], w[2], w[3]]));
    }
}

/// The lanes' total: folded to 33 bits each, the 16 lanes add up without overflow.
#[inline(always)]
fn fold_lanes(lanes: &[u64; BLOCK / 4]) -> u64 {
    lanes.iter().map(|&l| (l & 0xffff_ffff) + (l >> 32)).sum()
}

/// Copies `src` into `dst` (of the same length: the caller cuts both) and returns what [`data`] of the bytes
/// would: one pass over them instead of two (Linux's csum-and-copy). Whole 64-byte blocks are copied and summed
/// together with the widest vector adds the CPU has; a short buffer is copied, then summed.
pub(crate) fn copy_and_sum(src: &[u8], dst: &mut [u8]) -> u16 {
    if src.len() < BLOCK {
        dst.copy_from_slice(src);
        return data(dst);
    }
    let whole = src.len() - src.len() % BLOCK;
    let (blocks, rest) = src.split_at(whole);
    let (dst_blocks, dst_rest) = dst.split_at_mut(whole);
    let sum = block_copy_sum(blocks, dst_blocks);
    dst_rest.copy_from_slice(rest);
    u16::from_be(fold(sum + short_sum(rest)))
}

/// [`block_sum`] that also copies the blocks into `dst`, block by block (each is summed while it is in
/// registers). Never inlined, for the reason `block_sum` is not.
#[inline(never)]
fn block_copy_sum(blocks: &[u8], dst: &mut [u8]) -> u64 {
    pulp::Arch::new().dispatch(LaneCopySum(blocks, dst))
}

/// [`lane_copy_sum`] for `pulp`'s dispatch.
struct LaneCopySum<'a, 'b>(&'a [u8], &'b mut [u8]);

impl pulp::WithSimd for LaneCopySum<'_, '_> {
    type Output = u64;

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) -> u64 {
        lane_copy_sum(self.0, self.1)
    }
}

/// [`lane_sum`] of `blocks`, copying each block into `dst` first.
#[inline(always)]
fn lane_copy_sum(blocks: &[u8], dst: &mut [u8]) -> u64 {
    let mut lanes = [0u64; BLOCK / 4];
    for (b, d) in blocks.chunks_exact(BLOCK).zip(dst.chunks_exact_mut(BLOCK)) {
        d.copy_from_slice(b);
        add_block(&mut lanes, b);
    }
    fold_lanes(&lanes)
}

/// The checksum of bytes copied piece by piece, in order (a segment's payload from the send queue's chunks, a
/// received payload into the receive queue's blocks): each piece is copied and summed in one pass
/// ([`copy_and_sum`]) and added at its offset in the whole.
#[derive(Debug, Default)]
pub(crate) struct CopySum {
    sum: u16,
    offset: usize,
}

impl CopySum {
    /// Copies the next piece, `src`, into `dst` (of the same length) and adds its sum. Inlined into the copy
    /// loops, so the running sum stays in registers.
    #[inline(always)]
    pub(crate) fn copy(&mut self, src: &[u8], dst: &mut [u8]) {
        self.sum = combine(&[self.sum, at_offset(copy_and_sum(src, dst), self.offset)]);
        self.offset += src.len();
    }

    /// What [`data`] of the pieces copied so far, end to end, gives.
    pub(crate) fn sum(&self) -> u16 {
        self.sum
    }
}

/// The sum of a part of a buffer, as `data` of that part returns it, moved to where the part starts in the whole:
/// a part at an odd offset has its bytes in the other halves of the whole's 16-bit words, so its sum is
/// byte-swapped (RFC 1071 §2 (B)).
pub(crate) fn at_offset(sum: u16, offset: usize) -> u16 {
    if offset % 2 == 1 {
        sum.swap_bytes()
    } else {
        sum
    }
}

/// The native-endian one's complement sum (unfolded, below 2^34) of fewer than 64 bytes (headers, mostly):
/// 64-bit words into a 128-bit accumulator (a native 64-bit word is four native 16-bit words, and 2^16 = 1 mod
/// 0xffff, so are 2^32 and 2^64: the halves of a wide sum add up to the same residue), then a last 32-bit word,
/// 16-bit word and byte.
fn short_sum(bytes: &[u8]) -> u64 {
    let mut rest = bytes;
    let mut wide: u128 = 0;
    // Two words a round (a 20-byte header takes one round and a last 32-bit word): the halves of a native
    // 128-bit word are the native 64-bit words of its two halves, in either byte order.
    while let Some((pair, tail)) = rest.split_first_chunk::<16>() {
        let w = u128::from_ne_bytes(*pair);
        wide += u128::from(w as u64) + (w >> 64);
        rest = tail;
    }
    if let Some((w, tail)) = rest.split_first_chunk::<8>() {
        wide += u128::from(u64::from_ne_bytes(*w));
        rest = tail;
    }
    // At most 7 words of 2^64: the high half is tiny, and adding it to the low half carries at most once.
    let (low, carry) = (wide as u64).overflowing_add((wide >> 64) as u64);
    let folded = low + u64::from(carry);
    let mut acc = (folded & 0xffff_ffff) + (folded >> 32);
    if let Some((w, tail)) = rest.split_first_chunk::<4>() {
        acc += u64::from(u32::from_ne_bytes(*w));
        rest = tail;
    }
    if let Some((w, tail)) = rest.split_first_chunk::<2>() {
        acc += u64::from(u16::from_ne_bytes(*w));
        rest = tail;
    }
    if let [last] = rest {
        acc += u64::from(u16::from_ne_bytes([*last, 0]));
    }
    acc
}

/// [`fold`] of a sum below 2^34 ([`short_sum`]'s), without a loop: three end-around carries always suffice
/// (below 2^19 after the first, at most 0xffff + 7 after the second), and a carry leaves a sum of at most
/// 0xffff unchanged, so the result is `fold`'s exactly. The loop's exit branch, taken after one, two or three
/// rounds depending on the data, was mispredicted often enough to matter on header-sized inputs.
pub(crate) fn fold_short(sum: u64) -> u16 {
    let carry = |s: u64| (s & 0xffff) + (s >> 16);
    carry(carry(carry(sum))) as u16
}

/// One's complement sum of partial sums.
pub fn combine(parts: &[u16]) -> u16 {
    fold(parts.iter().map(|&p| u64::from(p)).sum())
}

/// An IP address family as the transport checksums see it: the pseudo-header that TCP, UDP and ICMPv6 sum
/// (RFC 9293 §3.1 and RFC 768 for IPv4, RFC 8200 §8.1 for IPv6). `IpAddr` picks the family at run time; the
/// stack's hot IPv4 path names `Ipv4Addr` and pays nothing for the choice.
pub trait PseudoHeader {
    /// Sum of the pseudo-header of a `length`-byte upper-layer packet from `self` to `dst`.
    fn pseudo_sum(&self, dst: &Self, protocol: IpProtocol, length: u32) -> u16;
    /// Whether a UDP checksum of zero ("none computed") is acceptable: it is over IPv4 (RFC 768), never over
    /// IPv6 (RFC 8200 §8.1).
    fn zero_udp_checksum_allowed(&self) -> bool;
}

impl PseudoHeader for Ipv4Addr {
    fn pseudo_sum(&self, dst: &Self, protocol: IpProtocol, length: u32) -> u16 {
        pseudo_header(self, dst, protocol, length as u16)
    }
    fn zero_udp_checksum_allowed(&self) -> bool {
        true
    }
}

impl PseudoHeader for Ipv6Addr {
    fn pseudo_sum(&self, dst: &Self, protocol: IpProtocol, length: u32) -> u16 {
        pseudo_header_v6(self, dst, protocol, length)
    }
    fn zero_udp_checksum_allowed(&self) -> bool {
        false
    }
}

impl PseudoHeader for IpAddr {
    /// Mixed families cannot occur on one packet; they are summed as IPv6 with the IPv4 address mapped.
    fn pseudo_sum(&self, dst: &Self, protocol: IpProtocol, length: u32) -> u16 {
        match (self, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => s.pseudo_sum(d, protocol, length),
            (s, d) => pseudo_header_v6(&to_v6(s), &to_v6(d), protocol, length),
        }
    }
    fn zero_udp_checksum_allowed(&self) -> bool {
        self.is_ipv4()
    }
}

fn to_v6(a: &IpAddr) -> Ipv6Addr {
    match a {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => *v6,
    }
}

/// Sum of the IPv4 pseudo-header used by TCP and UDP (RFC 9293 §3.1, RFC 768).
pub fn pseudo_header(src: &Ipv4Addr, dst: &Ipv4Addr, protocol: IpProtocol, length: u16) -> u16 {
    let s = src.octets();
    let d = dst.octets();
    combine(&[
        u16::from_be_bytes([s[0], s[1]]),
        u16::from_be_bytes([s[2], s[3]]),
        u16::from_be_bytes([d[0], d[1]]),
        u16::from_be_bytes([d[2], d[3]]),
        u16::from(u8::from(protocol)),
        length,
    ])
}

/// Sum of the IPv6 pseudo-header used by TCP, UDP and ICMPv6 (RFC 8200 §8.1): both addresses, the 32-bit
/// upper-layer length and the upper-layer protocol (`next_header`, not that of an extension header).
pub fn pseudo_header_v6(src: &Ipv6Addr, dst: &Ipv6Addr, next_header: IpProtocol, length: u32) -> u16 {
    // Summed straight from the addresses' words: every TCP segment over IPv6 pays this twice (send and
    // receive), and building a word array through iterators cost about ten times as much.
    let words = |a: &Ipv6Addr| a.segments().iter().map(|&w| u64::from(w)).sum::<u64>();
    let length = u64::from(length >> 16) + u64::from(length & 0xffff);
    fold(words(src) + words(dst) + length + u64::from(u8::from(next_header)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The straightforward 16-bit loop the fast version must agree with.
    fn reference(bytes: &[u8]) -> u16 {
        let mut sum: u32 = 0;
        for pair in bytes.chunks(2) {
            let w = u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]);
            sum += u32::from(w);
            sum = (sum & 0xffff) + (sum >> 16);
        }
        sum as u16
    }

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to 0xddf2.
        assert_eq!(data(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]), 0xddf2);
    }

    #[test]
    fn fast_sum_matches_reference_for_every_length() {
        let bytes: Vec<u8> = (0..300u32).map(|i| (i.wrapping_mul(197) ^ 0xa5) as u8).collect();
        for len in 0..bytes.len() {
            assert_eq!(data(&bytes[..len]), reference(&bytes[..len]), "len {len}");
        }
        let ones = vec![0xffu8; 1001];
        assert_eq!(data(&ones), reference(&ones));
        // All-ones words carry at every addition: every short length, and across the 64-byte blocks.
        for len in 0..200 {
            assert_eq!(data(&ones[..len]), reference(&ones[..len]), "ones, len {len}");
        }
    }

    #[test]
    fn short_fold_equals_the_loop() {
        let edges = [0, 1, 0xfffe, 0xffff, 0x1_0000, 0x1_fffe, 0x1_ffff, 0xffff_ffff, (1 << 34) - 1];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mixed = (0..10_000).map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % (1 << 34)
        });
        for s in edges.into_iter().chain(mixed) {
            assert_eq!(fold_short(s), fold(s), "sum {s:#x}");
        }
    }

    #[test]
    fn the_sum_never_overflows_on_long_inputs() {
        // All-ones words are the worst case for the sum (every addition carries); a long input, ending unaligned.
        let mut big = vec![0xffu8; (4 << 20) + 64 * 3 + 7];
        assert_eq!(data(&big), reference(&big));
        big[12_345] = 0x12;
        assert_eq!(data(&big), reference(&big));
    }

    #[test]
    fn known_ipv4_header_verifies() {
        // A real header (from Wikipedia's IPv4 checksum example), checksum 0xb861 included.
        let hdr = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8,
            0x00, 0xc7,
        ];
        assert_eq!(data(&hdr), 0xffff);
    }

    #[test]
    fn ipv6_pseudo_header_sums_its_words() {
        let src = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
        let dst = Ipv6Addr::new(0xfe80, 0, 0, 0, 0x1234, 0, 0xffff, 2);
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&src.octets());
        bytes.extend_from_slice(&dst.octets());
        bytes.extend_from_slice(&0x0001_0203u32.to_be_bytes());
        bytes.extend_from_slice(&[0, 0, 0, 58]);
        assert_eq!(pseudo_header_v6(&src, &dst, IpProtocol::Unknown(58), 0x0001_0203), reference(&bytes));
    }

    proptest::proptest! {
        /// Whichever instruction set the dispatch picks, the sum is the reference's, and the same as the loop
        /// compiled for the default target (called directly here) gives.
        #[test]
        fn long_buffers_sum_alike_on_every_path(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..3000)) {
            let whole = bytes.len() - bytes.len() % BLOCK;
            proptest::prop_assert_eq!(block_sum(&bytes[..whole]), lane_sum(&bytes[..whole]));
            proptest::prop_assert_eq!(data(&bytes), reference(&bytes));
        }

        /// Copying and summing in one pass gives the copy and the sum of two, and parts summed apart and moved
        /// to their offsets add up to the whole's sum.
        #[test]
        fn copy_and_sum_is_a_copy_and_data(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..3000), cut in 0usize..3000) {
            let mut copy = vec![0xa5; bytes.len()];
            proptest::prop_assert_eq!(copy_and_sum(&bytes, &mut copy), data(&bytes));
            proptest::prop_assert_eq!(&copy, &bytes);
            let cut = cut.min(bytes.len());
            let (a, b) = bytes.split_at(cut);
            proptest::prop_assert_eq!(combine(&[data(a), at_offset(data(b), cut)]), data(&bytes));
        }

        #[test]
        fn ipv6_pseudo_header_matches_the_reference(
            src: [u8; 16],
            dst: [u8; 16],
            length: u32,
            next_header: u8,
        ) {
            let mut bytes = Vec::new();
            bytes.extend_from_slice(&src);
            bytes.extend_from_slice(&dst);
            bytes.extend_from_slice(&length.to_be_bytes());
            bytes.extend_from_slice(&[0, 0, 0, next_header]);
            let (src, dst) = (Ipv6Addr::from(src), Ipv6Addr::from(dst));
            proptest::prop_assert_eq!(
                pseudo_header_v6(&src, &dst, IpProtocol::from(next_header), length),
                reference(&bytes)
            );
        }
    }
}
