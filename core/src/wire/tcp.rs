//! TCP header (RFC 9293 §3.1) and the options this stack speaks: MSS (RFC 9293 §3.2, RFC 6691), window
//! scale and timestamps (RFC 7323), SACK-permitted and SACK (RFC 2018).
//!
//! The view covers exactly the IPv4 payload (the caller slices it by the IPv4 total length), so the payload
//! runs from the end of the header to the end of the buffer and the checksum covers the whole buffer.

use super::checksum::{self, PseudoHeader};
use super::ipv4::IpProtocol;
use super::{Error, Result};
use crate::tcp::SeqNum;
use core::fmt;
use core::ops::{BitOr, BitOrAssign};

/// Length of the TCP header without options.
pub const HEADER_LEN: usize = 20;
/// Where the checksum field starts in the header (what a checksum-offload device is told as `csum_offset`).
pub const CHECKSUM_OFFSET: usize = field::CHECKSUM.start;

pub use super::tcp_options::TcpOptions;

/// Field offsets; `pub(super)` so an ICMP error's quote of a header can be read by the same names.
pub(super) mod field {
    use core::ops::Range;

    pub const SRC_PORT: Range<usize> = 0..2;
    pub const DST_PORT: Range<usize> = 2..4;
    pub const SEQ_NUM: Range<usize> = 4..8;
    pub const ACK_NUM: Range<usize> = 8..12;
    /// Data offset (4 bits), reserved (3 bits), then the 9 flag bits.
    pub const OFFSET_FLAGS: Range<usize> = 12..14;
    pub const WINDOW: Range<usize> = 14..16;
    pub const CHECKSUM: Range<usize> = 16..18;
    pub const URGENT: Range<usize> = 18..20;
    pub const OPTIONS: usize = 20;

    /// The data offset bits within `OFFSET_FLAGS`.
    pub const OFFSET_MASK: u16 = 0xf000;
    /// The data offset counts 32-bit words.
    pub const OFFSET_SHIFT: u32 = 12;
    pub const WORD: usize = 4;
}

/// The 9 TCP control bits, with the values they have on the wire.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpFlags(u16);

impl TcpFlags {
    pub const FIN: TcpFlags = TcpFlags(0x001);
    pub const SYN: TcpFlags = TcpFlags(0x002);
    pub const RST: TcpFlags = TcpFlags(0x004);
    pub const PSH: TcpFlags = TcpFlags(0x008);
    pub const ACK: TcpFlags = TcpFlags(0x010);
    pub const URG: TcpFlags = TcpFlags(0x020);
    pub const ECE: TcpFlags = TcpFlags(0x040);
    pub const CWR: TcpFlags = TcpFlags(0x080);
    pub const NS: TcpFlags = TcpFlags(0x100);

    const ALL_BITS: u16 = 0x1ff;

    /// tcpdump's letters, in tcpdump's order (`e` is its name for the NS / AE bit).
    const LETTERS: [(TcpFlags, char); 9] = [
        (TcpFlags::FIN, 'F'),
        (TcpFlags::SYN, 'S'),
        (TcpFlags::RST, 'R'),
        (TcpFlags::PSH, 'P'),
        (TcpFlags::ACK, '.'),
        (TcpFlags::URG, 'U'),
        (TcpFlags::ECE, 'E'),
        (TcpFlags::CWR, 'W'),
        (TcpFlags::NS, 'e'),
    ];

    pub const fn empty() -> TcpFlags {
        TcpFlags(0)
    }

    pub const fn bits(self) -> u16 {
        self.0
    }

    /// Keeps the 9 flag bits and drops the rest (data offset, reserved bits).
    pub const fn from_bits_truncate(bits: u16) -> TcpFlags {
        TcpFlags(bits & Self::ALL_BITS)
    }

    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether every flag of `other` is set.
    pub const fn contains(self, other: TcpFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether any flag of `other` is set.
    pub const fn intersects(self, other: TcpFlags) -> bool {
        self.0 & other.0 != 0
    }

    pub fn insert(&mut self, other: TcpFlags) {
        self.0 |= other.0;
    }

    pub fn remove(&mut self, other: TcpFlags) {
        self.0 &= !other.0;
    }
}

impl BitOr for TcpFlags {
    type Output = TcpFlags;
    fn bitor(self, rhs: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 | rhs.0)
    }
}

impl BitOrAssign for TcpFlags {
    fn bitor_assign(&mut self, rhs: TcpFlags) {
        self.0 |= rhs.0;
    }
}

impl fmt::Display for TcpFlags {
    /// tcpdump style: `S`, `S.`, `.`, `P.`, `F.`, `R`, ...; `none` when no flag is set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        for (flag, letter) in Self::LETTERS {
            if self.contains(flag) {
                fmt::Write::write_char(f, letter)?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for TcpFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A zero-copy view of a TCP segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpPacket<T: AsRef<[u8]>> {
    buf: T,
}

impl<T: AsRef<[u8]>> TcpPacket<T> {
    /// Wraps `buf` without checking it; accessors may panic if the header does not fit the buffer.
    pub fn new_unchecked(buf: T) -> Self {
        TcpPacket { buf }
    }

    /// Wraps `buf` after checking the fixed header and the data offset, so accessors cannot panic.
    pub fn new_checked(buf: T) -> Result<Self> {
        let packet = Self::new_unchecked(buf);
        packet.check_len()?;
        Ok(packet)
    }

    /// `Truncated` if the fixed header or the header the data offset claims does not fit; `BadLength` if
    /// the data offset is below 5 words.
    pub fn check_len(&self) -> Result<()> {
        let buf_len = self.buf.as_ref().len();
        if buf_len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let header_len = self.header_len();
        if header_len < HEADER_LEN {
            Err(Error::BadLength)
        } else if header_len > buf_len {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    /// Gives back the underlying buffer.
    pub fn into_inner(self) -> T {
        self.buf
    }

    fn read_u16(&self, range: core::ops::Range<usize>) -> u16 {
        let b = &self.buf.as_ref()[range];
        u16::from_be_bytes([b[0], b[1]])
    }

    fn read_u32(&self, range: core::ops::Range<usize>) -> u32 {
        let b = &self.buf.as_ref()[range];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }

    pub fn src_port(&self) -> u16 {
        self.read_u16(field::SRC_PORT)
    }

    pub fn dst_port(&self) -> u16 {
        self.read_u16(field::DST_PORT)
    }

    pub fn seq_number(&self) -> SeqNum {
        SeqNum(self.read_u32(field::SEQ_NUM))
    }

    pub fn ack_number(&self) -> SeqNum {
        SeqNum(self.read_u32(field::ACK_NUM))
    }

    /// Header length in bytes, options included (the data offset times 4).
    pub fn header_len(&self) -> usize {
        let words = (self.read_u16(field::OFFSET_FLAGS) & field::OFFSET_MASK) >> field::OFFSET_SHIFT;
        usize::from(words) * field::WORD
    }

    pub fn flags(&self) -> TcpFlags {
        TcpFlags::from_bits_truncate(self.read_u16(field::OFFSET_FLAGS))
    }

    pub fn window_len(&self) -> u16 {
        self.read_u16(field::WINDOW)
    }

    pub fn checksum(&self) -> u16 {
        self.read_u16(field::CHECKSUM)
    }

    pub fn urgent_at(&self) -> u16 {
        self.read_u16(field::URGENT)
    }

    /// The raw option bytes (decode them with [`TcpOptions::parse`]).
    pub fn options(&self) -> &[u8] {
        &self.buf.as_ref()[field::OPTIONS..self.header_len()]
    }

    /// Everything after the header, to the end of the buffer.
    pub fn payload(&self) -> &[u8] {
        &self.buf.as_ref()[self.header_len()..]
    }

    /// One's complement sum over the pseudo-header and the whole segment; `None` if the segment is too long
    /// for the pseudo-header's 16-bit length (it cannot have come from IPv4).
    fn sum<A: PseudoHeader>(&self, src: &A, dst: &A) -> Option<u16> {
        Some(checksum::combine(&[self.pseudo_sum(src, dst)?, checksum::data(self.buf.as_ref())]))
    }

    /// The pseudo-header's sum for this segment; `None` if it is too long for the pseudo-header's 16-bit length.
    fn pseudo_sum<A: PseudoHeader>(&self, src: &A, dst: &A) -> Option<u16> {
        let len = u16::try_from(self.buf.as_ref().len()).ok()?;
        Some(src.pseudo_sum(dst, IpProtocol::Tcp, u32::from(len)))
    }

    /// The sum over the pseudo-header and the first `header_len` bytes (the header), for a segment whose
    /// payload is summed where it is copied; `None` as for `pseudo_sum`.
    fn header_sum<A: PseudoHeader>(&self, src: &A, dst: &A, header_len: usize) -> Option<u16> {
        Some(checksum::combine(&[self.pseudo_sum(src, dst)?, checksum::data(&self.buf.as_ref()[..header_len])]))
    }

    /// Whether the checksum verifies over the pseudo-header and the whole segment.
    pub fn verify_checksum<A: PseudoHeader>(&self, src: &A, dst: &A) -> bool {
        self.sum(src, dst) == Some(0xffff)
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> TcpPacket<&'a T> {
    /// Like [`TcpPacket::payload`], but borrowed for the buffer's whole lifetime so a repr can keep it.
    fn payload_ref(&self) -> &'a [u8] {
        let buf: &'a T = self.buf;
        &buf.as_ref()[self.header_len()..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> TcpPacket<T> {
    fn write_u16(&mut self, range: core::ops::Range<usize>, value: u16) {
        self.buf.as_mut()[range].copy_from_slice(&value.to_be_bytes());
    }

    fn write_u32(&mut self, range: core::ops::Range<usize>, value: u32) {
        self.buf.as_mut()[range].copy_from_slice(&value.to_be_bytes());
    }

    pub fn set_src_port(&mut self, value: u16) {
        self.write_u16(field::SRC_PORT, value);
    }

    pub fn set_dst_port(&mut self, value: u16) {
        self.write_u16(field::DST_PORT, value);
    }

    pub fn set_seq_number(&mut self, value: SeqNum) {
        self.write_u32(field::SEQ_NUM, value.0);
    }

    pub fn set_ack_number(&mut self, value: SeqNum) {
        self.write_u32(field::ACK_NUM, value.0);
    }

    /// Sets the data offset from a header length in bytes (a multiple of 4, 20 to 60); keeps the flags.
    pub fn set_header_len(&mut self, len: usize) {
        let words = (len / field::WORD) as u16;
        let raw = self.read_u16(field::OFFSET_FLAGS);
        let raw = (raw & !field::OFFSET_MASK) | ((words << field::OFFSET_SHIFT) & field::OFFSET_MASK);
        self.write_u16(field::OFFSET_FLAGS, raw);
    }

    /// Sets the 9 flag bits and zeroes the reserved ones (RFC 9293: must be zero); keeps the data offset.
    pub fn set_flags(&mut self, flags: TcpFlags) {
        let raw = self.read_u16(field::OFFSET_FLAGS);
        self.write_u16(field::OFFSET_FLAGS, (raw & field::OFFSET_MASK) | flags.bits());
    }

    pub fn set_window_len(&mut self, value: u16) {
        self.write_u16(field::WINDOW, value);
    }

    pub fn set_checksum(&mut self, value: u16) {
        self.write_u16(field::CHECKSUM, value);
    }

    pub fn set_urgent_at(&mut self, value: u16) {
        self.write_u16(field::URGENT, value);
    }

    /// The option bytes, as the data offset delimits them (set the header length first).
    pub fn options_mut(&mut self) -> &mut [u8] {
        let end = self.header_len();
        &mut self.buf.as_mut()[field::OPTIONS..end]
    }

    /// Everything after the header (set the header length first).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let start = self.header_len();
        &mut self.buf.as_mut()[start..]
    }

    /// Computes the checksum over the pseudo-header and the whole buffer (every other byte must already be
    /// written). A buffer longer than 65535 bytes cannot be sent over IPv4 and gets checksum 0.
    pub fn fill_checksum<A: PseudoHeader>(&mut self, src: &A, dst: &A) {
        self.set_checksum(0);
        let sum = self.sum(src, dst).map_or(0, |s| !s);
        self.set_checksum(sum);
    }

    /// [`TcpPacket::fill_checksum`] for a segment whose payload, from `header_len` on, was summed as it was
    /// copied in (`checksum::copy_and_sum`): `payload_sum` stands for those bytes, and only the header is read.
    pub(crate) fn fill_checksum_with_payload_sum<A: PseudoHeader>(
        &mut self,
        src: &A,
        dst: &A,
        header_len: usize,
        payload_sum: u16,
    ) {
        self.set_checksum(0);
        let sum = self
            .header_sum(src, dst, header_len)
            .map_or(0, |header| !checksum::combine(&[header, checksum::at_offset(payload_sum, header_len)]));
        self.set_checksum(sum);
    }
}

/// A TCP segment as the stack reasons about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpRepr<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq_number: SeqNum,
    pub ack_number: SeqNum,
    pub flags: TcpFlags,
    pub window_len: u16,
    pub urgent_ptr: u16,
    pub options: TcpOptions,
    pub payload: &'a [u8],
}

/// A received segment's checksum, summed over the pseudo-header and the header: the payload's sum (an even
/// offset into the segment: headers are whole 32-bit words) completes it. See
/// [`TcpRepr::parse_deferring_payload`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PendingChecksum(u16);

impl PendingChecksum {
    /// Whether the segment verifies when its payload's sum ([`checksum::data`] of it) is `payload_sum`.
    pub fn verifies_with(self, payload_sum: u16) -> bool {
        checksum::combine(&[self.0, payload_sum]) == 0xffff
    }

    /// Whether the segment verifies with `payload`, summed here.
    pub fn verifies(self, payload: &[u8]) -> bool {
        self.verifies_with(checksum::data(payload))
    }
}

impl TcpRepr<'static> {
    /// A segment with every field zero, no options and no payload: a place for a header about to be written.
    pub(crate) const EMPTY: TcpRepr<'static> = TcpRepr {
        src_port: 0,
        dst_port: 0,
        seq_number: SeqNum(0),
        ack_number: SeqNum(0),
        flags: TcpFlags::empty(),
        window_len: 0,
        urgent_ptr: 0,
        options: TcpOptions::NONE,
        payload: &[],
    };
}

impl<'a> TcpRepr<'a> {
    /// Parses a checked view: `BadChecksum` if the checksum fails, `BadField` if the source port is 0. Malformed
    /// options are skipped as [`TcpOptions::parse_tolerant`] says.
    pub fn parse<T: AsRef<[u8]> + ?Sized, A: PseudoHeader>(
        packet: &TcpPacket<&'a T>,
        src: &A,
        dst: &A,
    ) -> Result<Self> {
        // The view may come from `new_unchecked`; re-check so parsing never panics.
        packet.check_len()?;
        if !packet.verify_checksum(src, dst) {
            return Err(Error::BadChecksum);
        }
        TcpRepr::parse_unverified(packet)
    }

    /// [`TcpRepr::parse`] for a receiver that copies the payload anyway: the checksum is verified over the
    /// pseudo-header and the header only, and the payload's part is left to whoever copies it: `pending` is set
    /// to what the payload's sum must complete (left `None` when there is no payload and the whole segment
    /// verified). Errors as `parse`, in the same order: a segment with a bad field and a bad checksum is
    /// `BadChecksum` here too. (The check is written through `pending` rather than returned beside the repr:
    /// a larger result is copied once more after it was written, which stalls the CPU on every segment.)
    pub fn parse_deferring_payload<T: AsRef<[u8]> + ?Sized, A: PseudoHeader>(
        packet: &TcpPacket<&'a T>,
        src: &A,
        dst: &A,
        pending: &mut Option<PendingChecksum>,
    ) -> Result<Self> {
        packet.check_len()?;
        let Some(check) = packet.header_sum(src, dst, packet.header_len()).map(PendingChecksum) else {
            return Err(Error::BadChecksum);
        };
        match TcpRepr::parse_unverified(packet) {
            Err(e) if check.verifies(packet.payload()) => Err(e),
            Err(_) => Err(Error::BadChecksum),
            Ok(repr) if !repr.payload.is_empty() => {
                *pending = Some(check);
                Ok(repr)
            }
            Ok(repr) if check.verifies_with(0) => Ok(repr),
            Ok(_) => Err(Error::BadChecksum),
        }
    }

    /// Like [`TcpRepr::parse`] without verifying the checksum: only for segments whose checksum the device
    /// vouched for (see [`crate::RxFrame`]).
    pub fn parse_unverified<T: AsRef<[u8]> + ?Sized>(packet: &TcpPacket<&'a T>) -> Result<Self> {
        packet.check_len()?;
        // No reply can reach source port 0, so such a segment is malformed. Destination port 0 is a closed port
        // like any other (nothing can listen there): as Linux, it is answered with a reset.
        if packet.src_port() == 0 {
            return Err(Error::BadField);
        }
        Ok(TcpRepr {
            src_port: packet.src_port(),
            dst_port: packet.dst_port(),
            seq_number: packet.seq_number(),
            ack_number: packet.ack_number(),
            flags: packet.flags(),
            window_len: packet.window_len(),
            urgent_ptr: packet.urgent_at(),
            options: TcpOptions::parse_tolerant(packet.options()),
            payload: packet.payload_ref(),
        })
    }

    /// Header bytes, options included.
    pub fn header_len(&self) -> usize {
        HEADER_LEN + self.options.len()
    }

    /// Bytes needed to emit this segment; the view passed to `emit` must be exactly this long, since the
    /// payload runs to the end of the buffer.
    pub fn buffer_len(&self) -> usize {
        self.header_len() + self.payload.len()
    }

    /// Sequence space the segment occupies: its payload, plus one each for SYN and FIN.
    pub fn segment_len(&self) -> usize {
        self.payload.len()
            + usize::from(self.flags.contains(TcpFlags::SYN))
            + usize::from(self.flags.contains(TcpFlags::FIN))
    }

    /// Writes the whole segment, checksum included, into a view of exactly
    /// [`buffer_len`](Self::buffer_len) bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>, A: PseudoHeader>(&self, packet: &mut TcpPacket<T>, src: &A, dst: &A) {
        self.emit_without_checksum(packet);
        packet.fill_checksum(src, dst);
    }

    /// Like [`TcpRepr::emit`] but leaves the checksum field alone, for a caller that writes more payload
    /// first (or leaves the checksum to the device) and computes it once at the end.
    pub fn emit_without_checksum<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut TcpPacket<T>) {
        self.emit_with_header_len(packet, self.header_len());
    }

    /// [`TcpRepr::emit_without_checksum`] for a caller that already knows [`header_len`](Self::header_len)
    /// (it sized the buffer by it): the options' layout is not summed a second time. An empty payload (every
    /// segment the stack builds: it writes the payload itself) is not copied, which would call `memcpy`.
    pub(crate) fn emit_with_header_len<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut TcpPacket<T>,
        header_len: usize,
    ) {
        debug_assert_eq!(header_len, self.header_len());
        // The fixed header is put together on the stack and written with two bounds checks (around the
        // checksum, which the caller fills), not field by field.
        let offset_flags = ((header_len / field::WORD) as u16) << field::OFFSET_SHIFT | self.flags.bits();
        let mut head = [0; field::CHECKSUM.start];
        head[field::SRC_PORT].copy_from_slice(&self.src_port.to_be_bytes());
        head[field::DST_PORT].copy_from_slice(&self.dst_port.to_be_bytes());
        head[field::SEQ_NUM].copy_from_slice(&self.seq_number.0.to_be_bytes());
        head[field::ACK_NUM].copy_from_slice(&self.ack_number.0.to_be_bytes());
        head[field::OFFSET_FLAGS].copy_from_slice(&offset_flags.to_be_bytes());
        head[field::WINDOW].copy_from_slice(&self.window_len.to_be_bytes());
        let buf = packet.buf.as_mut();
        buf[..field::CHECKSUM.start].copy_from_slice(&head);
        buf[field::URGENT].copy_from_slice(&self.urgent_ptr.to_be_bytes());
        self.options.emit(packet.options_mut());
        if !self.payload.is_empty() {
            packet.payload_mut()[..self.payload.len()].copy_from_slice(self.payload);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::Ipv4Addr;

    const SRC: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 10);
    const DST: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 1);

    /// A SYN from 192.168.1.10:49152 to 192.168.1.1:80 in Linux's option layout (MSS 1460, SACK-permitted,
    /// TSval 0x0a1b2c3d, NOP, WS 7); checksum 0x2218 computed independently of this crate.
    const SYN: [u8; 40] = [
        0xc0, 0x00, 0x00, 0x50, 0x6b, 0x8b, 0x45, 0x67, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x02, 0xfa, 0xf0, 0x22, 0x18,
        0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x0a, 0x1b, 0x2c, 0x3d, 0x00, 0x00, 0x00, 0x00,
        0x01, 0x03, 0x03, 0x07,
    ];

    fn syn_repr() -> TcpRepr<'static> {
        TcpRepr {
            src_port: 49152,
            dst_port: 80,
            seq_number: SeqNum(0x6b8b4567),
            ack_number: SeqNum(0),
            flags: TcpFlags::SYN,
            window_len: 64240,
            urgent_ptr: 0,
            options: TcpOptions {
                mss: Some(1460),
                window_scale: Some(7),
                sack_permitted: true,
                sack_blocks: [None; 4],
                timestamp: Some((0x0a1b2c3d, 0)),
            },
            payload: &[],
        }
    }

    fn data_repr(payload: &[u8]) -> TcpRepr<'_> {
        TcpRepr {
            src_port: 80,
            dst_port: 49152,
            seq_number: SeqNum(u32::MAX - 2),
            ack_number: SeqNum(0x6b8b4568),
            flags: TcpFlags::PSH | TcpFlags::ACK,
            window_len: 502,
            urgent_ptr: 0,
            options: TcpOptions { timestamp: Some((7, 0x0a1b2c3d)), ..TcpOptions::default() },
            payload,
        }
    }

    fn emit(repr: &TcpRepr<'_>) -> Vec<u8> {
        let mut buf = vec![0xa5; repr.buffer_len()];
        repr.emit(&mut TcpPacket::new_unchecked(&mut buf[..]), &SRC, &DST);
        buf
    }

    fn parse(bytes: &[u8]) -> Result<TcpRepr<'_>> {
        TcpRepr::parse(&TcpPacket::new_checked(bytes)?, &SRC, &DST)
    }

    fn sack(blocks: &[(u32, u32)]) -> [Option<(SeqNum, SeqNum)>; 4] {
        let mut out = [None; 4];
        for (slot, &(l, r)) in out.iter_mut().zip(blocks) {
            *slot = Some((SeqNum(l), SeqNum(r)));
        }
        out
    }

    #[test]
    fn parses_known_syn() {
        let packet = TcpPacket::new_checked(&SYN[..]).unwrap();
        assert_eq!(packet.src_port(), 49152);
        assert_eq!(packet.dst_port(), 80);
        assert_eq!(packet.seq_number(), SeqNum(0x6b8b4567));
        assert_eq!(packet.ack_number(), SeqNum(0));
        assert_eq!(packet.header_len(), 40);
        assert_eq!(packet.flags(), TcpFlags::SYN);
        assert_eq!(packet.window_len(), 64240);
        assert_eq!(packet.checksum(), 0x2218);
        assert_eq!(packet.urgent_at(), 0);
        assert_eq!(packet.options(), &SYN[20..]);
        assert!(packet.payload().is_empty());
        assert!(packet.verify_checksum(&SRC, &DST));
        assert_eq!(TcpRepr::parse(&packet, &SRC, &DST).unwrap(), syn_repr());
    }

    #[test]
    fn emits_known_syn_bytes() {
        assert_eq!(syn_repr().header_len(), 40);
        assert_eq!(syn_repr().segment_len(), 1);
        assert_eq!(emit(&syn_repr()), SYN);
    }

    #[test]
    fn segments_round_trip() {
        let mut syn_ack = syn_repr();
        syn_ack.flags = TcpFlags::SYN | TcpFlags::ACK;
        syn_ack.ack_number = SeqNum(1);
        syn_ack.options.timestamp = None;
        let mut sacked = data_repr(b"");
        sacked.flags = TcpFlags::ACK;
        sacked.options.sack_blocks = sack(&[(100, 200), (300, 400), (500, 600)]);
        let mut fin = data_repr(b"bye");
        fin.flags = TcpFlags::FIN | TcpFlags::ACK | TcpFlags::URG | TcpFlags::ECE | TcpFlags::CWR | TcpFlags::NS;
        fin.urgent_ptr = 3;
        fin.options = TcpOptions::default();
        let rst = TcpRepr { flags: TcpFlags::RST, window_len: 0, options: TcpOptions::default(), ..data_repr(b"") };
        for repr in [syn_repr(), syn_ack, data_repr(b"hello, odd"), sacked, fin, rst] {
            let bytes = emit(&repr);
            assert_eq!(bytes.len(), repr.buffer_len());
            assert_eq!(parse(&bytes).unwrap(), repr);
        }
    }

    #[test]
    fn emit_agrees_with_etherparse() {
        let mut repr = data_repr(b"etherparse cross-check");
        repr.options.sack_blocks = sack(&[(1, 2), (3, 4)]);
        let bytes = emit(&repr);
        let (header, payload) = etherparse::TcpHeader::from_slice(&bytes).unwrap();
        assert_eq!(header.checksum, header.calc_checksum_ipv4_raw(SRC.octets(), DST.octets(), payload).unwrap());
        assert!(header.psh && header.ack && !header.syn);
        let options: Vec<_> = header.options_iterator().map(|o| o.unwrap()).collect();
        use etherparse::TcpOptionElement::*;
        assert_eq!(
            options,
            [
                Noop,
                Noop,
                Timestamp(7, 0x0a1b2c3d),
                Noop,
                Noop,
                SelectiveAcknowledgement((1, 2), [Some((3, 4)), None, None])
            ]
        );
    }

    /// `parse_deferring_payload` with its pending check completed over the payload: what `parse` says.
    fn parse_deferred(bytes: &[u8]) -> Result<TcpRepr<'_>> {
        let mut pending = None;
        let repr = TcpRepr::parse_deferring_payload(&TcpPacket::new_checked(bytes)?, &SRC, &DST, &mut pending)?;
        assert_eq!(pending.is_some(), !repr.payload.is_empty(), "a check is left exactly when there is a payload");
        match pending {
            Some(check) if !check.verifies(repr.payload) => Err(Error::BadChecksum),
            _ => Ok(repr),
        }
    }

    proptest::proptest! {
        /// Any segment, with any one byte changed (or none), and a zero port or bad options among them: the
        /// deferred verification gives the same segment or the same error as `parse`.
        #[test]
        fn deferring_the_payload_checksum_decides_as_parse_does(
            payload in proptest::collection::vec(proptest::num::u8::ANY, 0..200),
            at in proptest::num::usize::ANY,
            xor in proptest::num::u8::ANY,
            zero_port in proptest::bool::ANY,
        ) {
            let mut repr = data_repr(&payload);
            if zero_port {
                repr.src_port = 0;
            }
            let mut bytes = emit(&repr);
            let at = at % bytes.len();
            bytes[at] ^= xor;
            proptest::prop_assert_eq!(parse_deferred(&bytes), parse(&bytes));
        }
    }

    #[test]
    fn segment_len_counts_syn_and_fin() {
        let mut repr = data_repr(b"abc");
        assert_eq!(repr.segment_len(), 3);
        repr.flags |= TcpFlags::FIN;
        assert_eq!(repr.segment_len(), 4);
        repr.flags |= TcpFlags::SYN;
        assert_eq!(repr.segment_len(), 5);
    }

    #[test]
    fn every_truncation_is_an_error() {
        for len in 0..SYN.len() {
            assert_eq!(TcpPacket::new_checked(&SYN[..len]).unwrap_err(), Error::Truncated, "len {len}");
        }
        let bytes = emit(&data_repr(b"some payload bytes"));
        for len in 0..bytes.len() {
            assert!(parse(&bytes[..len]).is_err(), "len {len}");
        }
    }

    #[test]
    fn bad_checksum_is_rejected() {
        let mut bytes = SYN;
        bytes[5] ^= 0x80;
        assert_eq!(parse(&bytes), Err(Error::BadChecksum));
        let mut bytes = emit(&data_repr(b"payload"));
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(parse(&bytes), Err(Error::BadChecksum));
    }

    #[test]
    fn data_offset_below_five_is_bad_length() {
        let mut bytes = SYN;
        for words in 0..5 {
            bytes[12] = words << 4;
            assert_eq!(TcpPacket::new_checked(&bytes[..]).unwrap_err(), Error::BadLength);
        }
    }

    #[test]
    fn data_offset_beyond_buffer_is_truncated() {
        let mut bytes = SYN;
        bytes[12] = 11 << 4; // 44 bytes of header in a 40-byte segment
        assert_eq!(TcpPacket::new_checked(&bytes[..]).unwrap_err(), Error::Truncated);
        bytes[12] = 15 << 4;
        assert_eq!(TcpPacket::new_checked(&bytes[..]).unwrap_err(), Error::Truncated);
    }

    #[test]
    fn source_port_zero_is_bad_field_destination_port_zero_parses() {
        let repr = TcpRepr { src_port: 0, ..syn_repr() };
        assert_eq!(parse(&emit(&repr)), Err(Error::BadField));
        let repr = TcpRepr { dst_port: 0, ..syn_repr() };
        assert_eq!(parse(&emit(&repr)), Ok(repr));
    }

    #[test]
    fn malformed_options_in_a_segment_are_skipped_and_the_segment_parses() {
        let mut bytes = SYN;
        bytes[21] = 5; // MSS claims 5 bytes
        TcpPacket::new_unchecked(&mut bytes[..]).fill_checksum(&SRC, &DST);
        let repr = parse(&bytes).expect("the segment is still taken (RFC 9293 MUST-6/7, as Linux)");
        assert_eq!(repr.options.mss, None, "the malformed MSS is ignored");
        let packet = TcpPacket::new_checked(&bytes[..]).unwrap();
        assert_eq!(TcpOptions::parse(packet.options()), Err(Error::BadOption), "the strict decoding says why");
    }

    /// Linux's `tcp_parse_options`: a known option of the wrong length is skipped by its length, a length below 2
    /// or one past the end stops the decoding, and the options before it stay.
    #[test]
    fn tolerant_decoding_skips_or_stops_as_linux() {
        let mss = [2, 4, 5, 0xb4];
        let with = |tail: &[u8]| [&mss[..], tail].concat();
        let ts_len_2_then_ws = with(&[8, 2, 1, 3, 3, 7]);
        let o = TcpOptions::parse_tolerant(&ts_len_2_then_ws);
        assert_eq!((o.mss, o.timestamp, o.window_scale), (Some(1460), None, Some(7)), "skipped, then on");
        for stop in [with(&[30, 1, 3, 3, 7]), with(&[30, 0, 3, 3, 7]), with(&[3, 9, 7]), with(&[30])] {
            let o = TcpOptions::parse_tolerant(&stop);
            assert_eq!((o.mss, o.window_scale), (Some(1460), None), "{stop:?}: stops, keeps what came before");
        }
        let sack_without_block = with(&[1, 1, 5, 2]);
        assert_eq!(TcpOptions::parse_tolerant(&sack_without_block).sack_blocks, [None; 4]);
    }

    #[test]
    fn known_options_with_wrong_length_are_bad_option() {
        let cases: [&[u8]; 12] = [
            &[2, 3, 5, 0],
            &[2, 5, 5, 0xb4, 0],
            &[3, 2, 0, 0],
            &[3, 4, 7, 0],
            &[4, 3, 0, 0],
            &[5, 2, 0, 0],
            &[5, 9, 0, 0, 0, 1, 0, 0, 0, 2, 0],
            &[5, 11, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0],
            &[5, 3, 0],
            &[8, 9, 0, 0, 0, 1, 0, 0, 0, 0],
            &[8, 11, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0],
            &[1, 1, 8, 2, 0, 0],
        ];
        for bytes in cases {
            assert_eq!(TcpOptions::parse(bytes), Err(Error::BadOption), "{bytes:?}");
        }
    }

    #[test]
    fn unknown_options_are_skipped_by_length() {
        // Kind 30 (MPTCP) with 4 bytes, kind 34 (TFO cookie) with just its header, then MSS.
        let opts = TcpOptions::parse(&[30, 4, 0xaa, 0xbb, 34, 2, 2, 4, 5, 0xb4]).unwrap();
        assert_eq!(opts, TcpOptions { mss: Some(1460), ..TcpOptions::default() });
    }

    #[test]
    fn option_length_below_two_is_bad_option() {
        assert_eq!(TcpOptions::parse(&[30, 0, 0, 0]), Err(Error::BadOption));
        assert_eq!(TcpOptions::parse(&[30, 1, 0, 0]), Err(Error::BadOption));
        assert_eq!(TcpOptions::parse(&[2, 0, 0, 0]), Err(Error::BadOption));
    }

    #[test]
    fn option_running_past_the_end_is_bad_option() {
        assert_eq!(TcpOptions::parse(&[30, 6, 0, 0]), Err(Error::BadOption));
        assert_eq!(TcpOptions::parse(&[1, 2, 4, 5]), Err(Error::BadOption));
        // A kind byte with no length byte after it.
        assert_eq!(TcpOptions::parse(&[1, 1, 1, 30]), Err(Error::BadOption));
        assert_eq!(TcpOptions::parse(&[2]), Err(Error::BadOption));
    }

    #[test]
    fn end_of_list_stops_parsing() {
        assert_eq!(TcpOptions::parse(&[2, 4, 5, 0xb4, 0, 0xff, 0xff, 0xff]).unwrap().mss, Some(1460));
        assert_eq!(TcpOptions::parse(&[]).unwrap(), TcpOptions::default());
    }

    #[test]
    fn window_scale_above_14_is_clamped() {
        assert_eq!(TcpOptions::parse(&[1, 3, 3, 15]).unwrap().window_scale, Some(14));
        assert_eq!(TcpOptions::parse(&[1, 3, 3, 14]).unwrap().window_scale, Some(14));
    }

    #[test]
    fn sack_with_one_to_four_blocks_round_trips() {
        let all = [(1, 2), (10, 20), (u32::MAX - 5, 5), (0x8000_0000, 0x8000_1000)];
        for n in 1..=4 {
            let opts = TcpOptions { sack_blocks: sack(&all[..n]), ..TcpOptions::default() };
            let mut buf = [0u8; 40];
            let len = opts.emit(&mut buf);
            assert_eq!(len, opts.len());
            assert_eq!(len, 4 + 8 * n);
            assert_eq!(TcpOptions::parse(&buf[..len]).unwrap(), opts);
        }
    }

    #[test]
    fn sack_with_five_blocks_is_bad_option() {
        let mut bytes = vec![5, 42];
        bytes.extend_from_slice(&[0; 40]);
        assert_eq!(TcpOptions::parse(&bytes), Err(Error::BadOption));
    }

    #[test]
    fn options_too_long_drop_trailing_sack_blocks() {
        let blocks = [(1, 2), (3, 4), (5, 6), (7, 8)];
        let full = TcpOptions {
            mss: Some(1460),
            window_scale: Some(7),
            sack_permitted: true,
            sack_blocks: sack(&blocks),
            timestamp: Some((1, 2)),
        };
        let mut buf = [0u8; 40];
        assert_eq!(full.len(), 40);
        assert_eq!(full.emit(&mut buf), 40);
        let parsed = TcpOptions::parse(&buf).unwrap();
        assert_eq!(parsed, TcpOptions { sack_blocks: sack(&blocks[..2]), ..full });

        // Timestamps alone leave room for three blocks, as on Linux.
        let ts = TcpOptions { sack_blocks: sack(&blocks), timestamp: Some((1, 2)), ..TcpOptions::default() };
        assert_eq!(ts.len(), 12 + 4 + 24);
        assert_eq!(ts.emit(&mut buf), 40);
        assert_eq!(TcpOptions::parse(&buf).unwrap(), TcpOptions { sack_blocks: sack(&blocks[..3]), ..ts });
    }

    #[test]
    fn option_layouts_are_aligned() {
        let mut buf = [0xffu8; 40];
        let opts = TcpOptions { sack_permitted: true, window_scale: Some(2), ..TcpOptions::default() };
        assert_eq!(opts.emit(&mut buf), 8);
        assert_eq!(&buf[..8], &[1, 1, 4, 2, 1, 3, 3, 2]);
        let opts = TcpOptions { timestamp: Some((0x01020304, 0x05060708)), ..TcpOptions::default() };
        assert_eq!(opts.emit(&mut buf), 12);
        assert_eq!(&buf[..12], &[1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(TcpOptions::default().len(), 0);
        assert!(TcpOptions::default().is_empty());
    }

    #[test]
    fn header_len_and_flags_share_a_word_without_clobbering() {
        let mut bytes = [0u8; 60];
        let mut packet = TcpPacket::new_unchecked(&mut bytes[..]);
        packet.set_flags(TcpFlags::SYN | TcpFlags::NS);
        packet.set_header_len(60);
        assert_eq!(packet.flags(), TcpFlags::SYN | TcpFlags::NS);
        assert_eq!(packet.header_len(), 60);
        packet.set_flags(TcpFlags::ACK);
        assert_eq!(packet.header_len(), 60);
        assert_eq!(packet.flags(), TcpFlags::ACK);
    }

    #[test]
    fn reserved_bits_are_not_flags() {
        let mut bytes = SYN;
        bytes[12] |= 0x0e;
        assert_eq!(TcpPacket::new_checked(&bytes[..]).unwrap().flags(), TcpFlags::SYN);
    }

    #[test]
    fn flags_print_like_tcpdump() {
        let cases = [
            (TcpFlags::SYN, "S"),
            (TcpFlags::SYN | TcpFlags::ACK, "S."),
            (TcpFlags::ACK, "."),
            (TcpFlags::PSH | TcpFlags::ACK, "P."),
            (TcpFlags::FIN | TcpFlags::ACK, "F."),
            (TcpFlags::RST, "R"),
            (TcpFlags::RST | TcpFlags::ACK, "R."),
            (TcpFlags::empty(), "none"),
            (TcpFlags::SYN | TcpFlags::ECE | TcpFlags::CWR, "SEW"),
            (TcpFlags::URG | TcpFlags::ACK, ".U"),
        ];
        for (flags, text) in cases {
            assert_eq!(flags.to_string(), text);
            assert_eq!(format!("{flags:?}"), text);
        }
    }

    #[test]
    fn flag_set_operations() {
        let mut flags = TcpFlags::SYN;
        flags.insert(TcpFlags::ACK);
        assert!(flags.contains(TcpFlags::SYN | TcpFlags::ACK));
        assert!(!flags.contains(TcpFlags::SYN | TcpFlags::FIN));
        assert!(flags.intersects(TcpFlags::SYN | TcpFlags::FIN));
        flags.remove(TcpFlags::SYN);
        assert_eq!(flags, TcpFlags::ACK);
        assert_eq!(flags.bits(), 0x010);
        assert_eq!(TcpFlags::from_bits_truncate(0xffff).bits(), 0x1ff);
        assert_eq!(TcpFlags::NS.bits(), 0x100);
        assert_eq!(TcpFlags::CWR.bits(), 0x080);
        assert!(TcpFlags::empty().contains(TcpFlags::empty()));
    }

    #[test]
    fn parse_of_an_unchecked_short_view_is_an_error() {
        for len in 0..SYN.len() {
            let packet = TcpPacket::new_unchecked(&SYN[..len]);
            assert_eq!(TcpRepr::parse(&packet, &SRC, &DST), Err(Error::Truncated));
        }
    }
}

#[cfg(test)]
mod v6_tests {
    use super::*;
    use core::net::Ipv6Addr;

    const A: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
    const B: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);

    #[test]
    fn round_trip_over_ipv6() {
        let repr = TcpRepr {
            src_port: 49152,
            dst_port: 80,
            seq_number: SeqNum(1),
            ack_number: SeqNum(2),
            flags: TcpFlags::SYN | TcpFlags::ACK,
            window_len: 65535,
            urgent_ptr: 0,
            options: TcpOptions { mss: Some(1440), ..Default::default() },
            payload: b"hi",
        };
        let mut bytes = vec![0u8; repr.buffer_len()];
        repr.emit(&mut TcpPacket::new_unchecked(&mut bytes[..]), &A, &B);
        let packet = TcpPacket::new_checked(&bytes[..]).unwrap();
        assert!(packet.verify_checksum(&A, &B));
        assert!(!packet.verify_checksum(&B, &B));
        assert_eq!(TcpRepr::parse(&packet, &A, &B).unwrap(), repr);
        let mut bad = bytes.clone();
        bad[25] ^= 1;
        assert_eq!(TcpRepr::parse(&TcpPacket::new_checked(&bad[..]).unwrap(), &A, &B), Err(Error::BadChecksum));
        assert_eq!(TcpRepr::parse(&TcpPacket::new_unchecked(&bytes[..19]), &A, &B), Err(Error::Truncated));
    }
}
