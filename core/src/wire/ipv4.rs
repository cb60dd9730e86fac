//! IPv4 header (RFC 791).

/// The protocol carried in an IPv4 payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IpProtocol {
    Icmp,
    Tcp,
    Udp,
    Unknown(u8),
}

impl From<u8> for IpProtocol {
    fn from(v: u8) -> Self {
        match v {
            1 => IpProtocol::Icmp,
            6 => IpProtocol::Tcp,
            17 => IpProtocol::Udp,
            other => IpProtocol::Unknown(other),
        }
    }
}

impl From<IpProtocol> for u8 {
    fn from(p: IpProtocol) -> u8 {
        match p {
            IpProtocol::Icmp => 1,
            IpProtocol::Tcp => 6,
            IpProtocol::Udp => 17,
            IpProtocol::Unknown(other) => other,
        }
    }
}

use super::{checksum, Error, Result};
use core::fmt;
use core::net::Ipv4Addr;

/// The ECN field of an IPv4 header (RFC 3168 §5): the low two bits of the former TOS byte.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EcnCodepoint {
    /// Not ECN-capable transport: a router that would mark this packet drops it instead.
    #[default]
    NotEct,
    /// ECN-capable transport, codepoint 01 (RFC 3168; RFC 9331 gives it to L4S).
    Ect1,
    /// ECN-capable transport, codepoint 10: what an RFC 3168 sender puts on its data.
    Ect0,
    /// Congestion experienced: a router marked an ECN-capable packet instead of dropping it.
    Ce,
}

impl EcnCodepoint {
    /// Mask of the ECN bits in the DSCP/ECN byte.
    pub const MASK: u8 = 0b11;

    /// The codepoint in the low two bits of `dscp_ecn` (the DSCP bits are ignored).
    pub const fn from_bits(dscp_ecn: u8) -> EcnCodepoint {
        match dscp_ecn & Self::MASK {
            0b00 => EcnCodepoint::NotEct,
            0b01 => EcnCodepoint::Ect1,
            0b10 => EcnCodepoint::Ect0,
            _ => EcnCodepoint::Ce,
        }
    }

    /// The two bits of the codepoint.
    pub const fn bits(self) -> u8 {
        match self {
            EcnCodepoint::NotEct => 0b00,
            EcnCodepoint::Ect1 => 0b01,
            EcnCodepoint::Ect0 => 0b10,
            EcnCodepoint::Ce => 0b11,
        }
    }

    /// ECT(0) or ECT(1): a packet a router may mark CE instead of dropping it.
    pub const fn is_ect(self) -> bool {
        matches!(self, EcnCodepoint::Ect0 | EcnCodepoint::Ect1)
    }
}

impl fmt::Display for EcnCodepoint {
    /// RFC 3168's names: `Not-ECT`, `ECT(1)`, `ECT(0)`, `CE`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EcnCodepoint::NotEct => "Not-ECT",
            EcnCodepoint::Ect1 => "ECT(1)",
            EcnCodepoint::Ect0 => "ECT(0)",
            EcnCodepoint::Ce => "CE",
        })
    }
}

mod field {
    use core::ops::Range;

    /// Version (high nibble) and IHL, the header length in 32-bit words (low nibble).
    pub const VER_IHL: usize = 0;
    pub const DSCP_ECN: usize = 1;
    pub const TOTAL_LEN: Range<usize> = 2..4;
    pub const IDENT: Range<usize> = 4..6;
    /// Three flag bits (reserved, DF, MF) then the 13-bit fragment offset in 8-byte units.
    pub const FLAGS_FRAG: Range<usize> = 6..8;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: Range<usize> = 10..12;
    pub const SRC_ADDR: Range<usize> = 12..16;
    pub const DST_ADDR: Range<usize> = 16..20;
    /// Options (if any) start where the fixed header ends.
    pub const OPTIONS: usize = 20;
}

/// Bits of the flags/fragment-offset word.
mod flag {
    pub const RESERVED: u16 = 0x8000;
    pub const DONT_FRAG: u16 = 0x4000;
    pub const MORE_FRAGS: u16 = 0x2000;
    pub const OFFSET_MASK: u16 = 0x1fff;
    /// The offset field counts 8-byte units.
    pub const OFFSET_UNIT: u16 = 8;
}

/// The flags and fragment offset word (reserved bit cleared); `offset` is in bytes, a multiple of 8.
fn flags_word(dont_frag: bool, more_frags: bool, offset: u16) -> u16 {
    let mut word = (offset / flag::OFFSET_UNIT) & flag::OFFSET_MASK;
    if dont_frag {
        word |= flag::DONT_FRAG;
    }
    if more_frags {
        word |= flag::MORE_FRAGS;
    }
    word
}

/// Length of the fixed header; we never emit options, so it is also the length of every header we write.
pub const HEADER_LEN: usize = field::OPTIONS;

/// IPv4 option types (RFC 791, RFC 2113) that [`Ipv4Packet::option_problem`] looks into.
pub(super) mod option {
    pub const END: u8 = 0;
    pub const NOP: u8 = 1;
    pub const RECORD_ROUTE: u8 = 7;
    pub const TIMESTAMP: u8 = 68;
    pub const LOOSE_ROUTE: u8 = 131;
    pub const STRICT_ROUTE: u8 = 137;
    pub const ROUTER_ALERT: u8 = 148;
}

/// The only version this module speaks.
const VERSION: u8 = 4;
/// IHL counts 32-bit words.
const IHL_UNIT: usize = 4;
/// A received header verifies when the one's complement sum over it, checksum included, is all ones.
const CHECKSUM_OK: u16 = 0xffff;

/// A read/write view of an IPv4 packet.
#[derive(Debug, Clone)]
pub struct Ipv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    /// Wraps a buffer without checking it; use only on buffers sized by the caller (e.g. when emitting).
    pub fn new_unchecked(buffer: T) -> Self {
        Ipv4Packet { buffer }
    }

    /// Wraps a buffer after checking the version and that the header and total length fit, so every
    /// accessor (including `options` and `payload`) stays in bounds.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let packet = Ipv4Packet { buffer };
        packet.check_len()?;
        Ok(packet)
    }

    fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        if self.version() != VERSION {
            return Err(Error::BadVersion);
        }
        let header_len = self.header_len();
        let total_len = usize::from(self.total_len());
        if header_len < HEADER_LEN || total_len < header_len {
            return Err(Error::BadLength);
        }
        // Bytes beyond `total_len` are allowed: Ethernet pads short frames.
        if header_len > len || total_len > len {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn read_u16(&self, range: core::ops::Range<usize>) -> u16 {
        let b = &self.buffer.as_ref()[range];
        u16::from_be_bytes([b[0], b[1]])
    }

    fn read_addr(&self, range: core::ops::Range<usize>) -> Ipv4Addr {
        let b = &self.buffer.as_ref()[range];
        Ipv4Addr::new(b[0], b[1], b[2], b[3])
    }

    fn flags_frag(&self) -> u16 {
        self.read_u16(field::FLAGS_FRAG)
    }

    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] >> 4
    }

    /// Header length in bytes (IHL × 4), options included.
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::VER_IHL] & 0x0f) * IHL_UNIT
    }

    /// The former TOS byte: DSCP in the high six bits, ECN in the low two.
    pub fn dscp_ecn(&self) -> u8 {
        self.buffer.as_ref()[field::DSCP_ECN]
    }

    /// The ECN codepoint (RFC 3168 §5).
    pub fn ecn(&self) -> EcnCodepoint {
        EcnCodepoint::from_bits(self.dscp_ecn())
    }

    /// Length of header plus payload; anything after it in the buffer is link-layer padding.
    pub fn total_len(&self) -> u16 {
        self.read_u16(field::TOTAL_LEN)
    }

    pub fn ident(&self) -> u16 {
        self.read_u16(field::IDENT)
    }

    pub fn dont_frag(&self) -> bool {
        self.flags_frag() & flag::DONT_FRAG != 0
    }

    pub fn more_frags(&self) -> bool {
        self.flags_frag() & flag::MORE_FRAGS != 0
    }

    /// The "evil bit": must be zero, exposed so callers can decide what to do with it.
    pub fn reserved_flag(&self) -> bool {
        self.flags_frag() & flag::RESERVED != 0
    }

    /// Fragment offset in bytes (the field counts 8-byte units; 8191 × 8 still fits a `u16`).
    pub fn frag_offset(&self) -> u16 {
        (self.flags_frag() & flag::OFFSET_MASK) * flag::OFFSET_UNIT
    }

    /// Whether this is part of a fragmented datagram rather than a whole one.
    pub fn is_fragment(&self) -> bool {
        self.more_frags() || self.frag_offset() != 0
    }

    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref()[field::TTL]
    }

    pub fn protocol(&self) -> IpProtocol {
        IpProtocol::from(self.buffer.as_ref()[field::PROTOCOL])
    }

    pub fn checksum(&self) -> u16 {
        self.read_u16(field::CHECKSUM)
    }

    pub fn src_addr(&self) -> Ipv4Addr {
        self.read_addr(field::SRC_ADDR)
    }

    pub fn dst_addr(&self) -> Ipv4Addr {
        self.read_addr(field::DST_ADDR)
    }

    /// Raw options (empty when IHL is 5); interpreting them is left to the caller ([`option_problem`] checks
    /// them).
    ///
    /// [`option_problem`]: Ipv4Packet::option_problem
    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[field::OPTIONS..self.header_len()]
    }

    /// The first malformed option, as the offset in the header of the octet at fault (an ICMP parameter
    /// problem's pointer), or `None` when the options are sound. The checks are those of Linux's
    /// `ip_options_compile` that apply to a datagram a host receives:
    /// - every option but end-of-list and no-operation has a length octet, at least 2, that stays within the
    ///   options;
    /// - record route, loose and strict source route: a length of at least 3 and a pointer of at least 4;
    ///   record route, while it has room left, room for a whole address;
    /// - timestamp: a length of at least 4 and a pointer of at least 5, and, while it has room left, room for
    ///   a whole entry (4 bytes, or 8 with addresses);
    /// - router alert: a length of at least 4;
    /// - none of record route, source route and timestamp twice.
    ///
    /// Options this stack does not know pass: a host ignores them (RFC 1122 §3.2.1.8).
    pub fn option_problem(&self) -> Option<usize> {
        let options = self.options();
        let (mut route, mut record, mut stamp) = (false, false, false);
        let mut i = 0;
        while i < options.len() {
            let at = HEADER_LEN + i;
            let kind = options[i];
            match kind {
                option::END => return None,
                option::NOP => {
                    i += 1;
                    continue;
                }
                _ => {}
            }
            let len = match options.get(i + 1) {
                Some(&len) if len >= 2 && usize::from(len) <= options.len() - i => usize::from(len),
                _ => return Some(at),
            };
            let opt = &options[i..i + len];
            let pointer = opt.get(2).map(|&p| usize::from(p));
            let problem = match kind {
                option::RECORD_ROUTE | option::LOOSE_ROUTE | option::STRICT_ROUTE => {
                    let seen = if kind == option::RECORD_ROUTE { &mut record } else { &mut route };
                    match pointer {
                        _ if core::mem::replace(seen, true) => Some(at),
                        None => Some(at + 1),
                        Some(p) if p < 4 => Some(at + 2),
                        Some(p) if kind == option::RECORD_ROUTE && p <= len && p + 3 > len => Some(at + 2),
                        Some(_) => None,
                    }
                }
                option::TIMESTAMP => {
                    // Flags 1 and 3: an address before each stamp.
                    let entry = if opt.get(3).is_some_and(|flags| matches!(flags & 0xf, 1 | 3)) { 8 } else { 4 };
                    match pointer {
                        _ if core::mem::replace(&mut stamp, true) => Some(at),
                        _ if len < 4 => Some(at + 1),
                        Some(p) if p < 5 => Some(at + 2),
                        Some(p) if p <= len && p + entry - 1 > len => Some(at + 2),
                        // Full, and its overflow count (the flags byte's high nibble) cannot count another hop
                        // (RFC 791: the datagram is in error; Linux's `ip_options_compile` points at that byte).
                        // Prespecified addresses (flag 3) never overflow.
                        Some(p) if p > len && opt.get(3).is_some_and(|f| f & 0xf != 3 && f >> 4 == 15) => Some(at + 3),
                        _ => None,
                    }
                }
                option::ROUTER_ALERT if len < 4 => Some(at + 1),
                _ => None,
            };
            if problem.is_some() {
                return problem;
            }
            i += len;
        }
        None
    }

    /// Whether the options hold a loose or strict source route (options already found sound by
    /// [`Ipv4Packet::option_problem`]; a malformed length ends the search).
    pub fn has_source_route(&self) -> bool {
        let options = self.options();
        let mut i = 0;
        while let Some(&kind) = options.get(i) {
            match kind {
                option::END => return false,
                option::NOP => i += 1,
                option::LOOSE_ROUTE | option::STRICT_ROUTE => return true,
                _ => match options.get(i + 1) {
                    Some(&len) if len >= 2 => i += usize::from(len),
                    _ => return false,
                },
            }
        }
        false
    }

    /// The whole header, options included: what the header checksum covers.
    pub fn header(&self) -> &[u8] {
        &self.buffer.as_ref()[..self.header_len()]
    }

    /// The payload up to `total_len`, excluding any link-layer padding.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..usize::from(self.total_len())]
    }

    pub fn verify_checksum(&self) -> bool {
        checksum::data(self.header()) == CHECKSUM_OK
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv4Packet<T> {
    fn write_u16(&mut self, range: core::ops::Range<usize>, value: u16) {
        self.buffer.as_mut()[range].copy_from_slice(&value.to_be_bytes());
    }

    /// Sets version and IHL together since they share a byte; `header_len` is in bytes (a multiple of 4).
    pub fn set_version_and_header_len(&mut self, version: u8, header_len: usize) {
        let ihl = (header_len / IHL_UNIT) as u8 & 0x0f;
        self.buffer.as_mut()[field::VER_IHL] = (version << 4) | ihl;
    }

    /// Writes `options` (whole words) after the fixed header and sets IHL to cover them; the total length,
    /// which counts them, and the checksum are the caller's.
    pub fn set_options(&mut self, options: &[u8]) {
        self.buffer.as_mut()[HEADER_LEN..HEADER_LEN + options.len()].copy_from_slice(options);
        self.set_version_and_header_len(VERSION, HEADER_LEN + options.len());
    }

    pub fn set_dscp_ecn(&mut self, value: u8) {
        self.buffer.as_mut()[field::DSCP_ECN] = value;
    }

    /// Sets the ECN codepoint, keeping the DSCP bits (the header checksum is the caller's to refill).
    pub fn set_ecn(&mut self, ecn: EcnCodepoint) {
        let dscp = self.dscp_ecn() & !EcnCodepoint::MASK;
        self.set_dscp_ecn(dscp | ecn.bits());
    }

    pub fn set_total_len(&mut self, value: u16) {
        self.write_u16(field::TOTAL_LEN, value);
    }

    pub fn set_ident(&mut self, value: u16) {
        self.write_u16(field::IDENT, value);
    }

    /// Writes the flags word (reserved bit cleared); `offset` is in bytes and must be a multiple of 8.
    pub fn set_flags_and_frag_offset(&mut self, dont_frag: bool, more_frags: bool, offset: u16) {
        self.write_u16(field::FLAGS_FRAG, flags_word(dont_frag, more_frags, offset));
    }

    pub fn set_ttl(&mut self, value: u8) {
        self.buffer.as_mut()[field::TTL] = value;
    }

    pub fn set_protocol(&mut self, value: IpProtocol) {
        self.buffer.as_mut()[field::PROTOCOL] = value.into();
    }

    pub fn set_checksum(&mut self, value: u16) {
        self.write_u16(field::CHECKSUM, value);
    }

    pub fn set_src_addr(&mut self, addr: Ipv4Addr) {
        self.buffer.as_mut()[field::SRC_ADDR].copy_from_slice(&addr.octets());
    }

    pub fn set_dst_addr(&mut self, addr: Ipv4Addr) {
        self.buffer.as_mut()[field::DST_ADDR].copy_from_slice(&addr.octets());
    }

    /// Computes the header checksum over `header_len` bytes; call after every other header field is set.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let sum = checksum::data(self.header());
        self.set_checksum(!sum);
    }

    /// The payload up to `total_len`, for writing; set the header length and total length first.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let range = self.header_len()..usize::from(self.total_len());
        &mut self.buffer.as_mut()[range]
    }
}

/// The IPv4 header fields the stack reasons about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv4Repr {
    pub src_addr: Ipv4Addr,
    pub dst_addr: Ipv4Addr,
    pub protocol: IpProtocol,
    pub payload_len: usize,
    pub ttl: u8,
    pub ident: u16,
    pub dont_frag: bool,
    /// The ECN codepoint (RFC 3168 §5); the DSCP bits beside it are never used and emitted as zero.
    pub ecn: EcnCodepoint,
}

impl Ipv4Repr {
    /// Decodes a header whose lengths, version and checksum are valid. Fragments and options are accepted
    /// here: the caller inspects the view to decide whether to drop them.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Ipv4Packet<&T>) -> Result<Self> {
        // The view may have come from `new_unchecked`; re-check so parsing never panics.
        packet.check_len()?;
        if !packet.verify_checksum() {
            return Err(Error::BadChecksum);
        }
        Ok(Ipv4Repr {
            src_addr: packet.src_addr(),
            dst_addr: packet.dst_addr(),
            protocol: packet.protocol(),
            payload_len: usize::from(packet.total_len()) - packet.header_len(),
            ttl: packet.ttl(),
            ident: packet.ident(),
            dont_frag: packet.dont_frag(),
            ecn: packet.ecn(),
        })
    }

    /// Header bytes we emit (never any options).
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes a whole, unfragmented header with its checksum. The payload is the caller's, written through
    /// `payload_mut` afterwards. A `payload_len` too large for the 16-bit total length field saturates it.
    ///
    /// The checksum is summed from the field values, not read back from the header just written: that read
    /// spanned several narrower stores still on their way to memory, which stalls the CPU (store forwarding
    /// fails) on every datagram sent.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Ipv4Packet<T>) {
        let total_len = u16::try_from(HEADER_LEN.saturating_add(self.payload_len)).unwrap_or(u16::MAX);
        let flags = flags_word(self.dont_frag, false, 0);
        let ver_ihl = (VERSION << 4) | ((HEADER_LEN / IHL_UNIT) as u8 & 0x0f);
        let (src, dst) = (u64::from(self.src_addr.to_bits()), u64::from(self.dst_addr.to_bits()));
        let words = u64::from(u16::from_be_bytes([ver_ihl, self.ecn.bits()]))
            + u64::from(total_len)
            + u64::from(self.ident)
            + u64::from(flags)
            + u64::from(u16::from_be_bytes([self.ttl, self.protocol.into()]))
            + (src >> 16)
            + (src & 0xffff)
            + (dst >> 16)
            + (dst & 0xffff);
        // The header is put together on the stack and written with one bounds check, not field by field.
        let mut header = [0; HEADER_LEN];
        header[field::VER_IHL] = ver_ihl;
        header[field::DSCP_ECN] = self.ecn.bits();
        header[field::TOTAL_LEN].copy_from_slice(&total_len.to_be_bytes());
        header[field::IDENT].copy_from_slice(&self.ident.to_be_bytes());
        header[field::FLAGS_FRAG].copy_from_slice(&flags.to_be_bytes());
        header[field::TTL] = self.ttl;
        header[field::PROTOCOL] = self.protocol.into();
        header[field::CHECKSUM].copy_from_slice(&(!checksum::fold_short(words)).to_be_bytes());
        header[field::SRC_ADDR].copy_from_slice(&self.src_addr.octets());
        header[field::DST_ADDR].copy_from_slice(&self.dst_addr.octets());
        packet.buffer.as_mut()[..HEADER_LEN].copy_from_slice(&header);
        debug_assert!(packet.verify_checksum(), "the checksum summed from the fields verifies");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A whole ICMP echo request, 10.0.0.1 -> 10.0.0.2, DF set, header checksum 0x0a99.
    const PACKET: [u8; 28] = [
        0x45, 0x00, 0x00, 0x1c, // version 4, IHL 5, DSCP/ECN 0, total length 28
        0x1c, 0x46, 0x40, 0x00, // ident 0x1c46, DF, offset 0
        0x40, 0x01, 0x0a, 0x99, // TTL 64, ICMP, checksum
        0x0a, 0x00, 0x00, 0x01, // source
        0x0a, 0x00, 0x00, 0x02, // destination
        0x08, 0x00, 0xf7, 0xff, 0x00, 0x00, 0x00, 0x00, // ICMP echo request, id 0, seq 0
    ];

    fn packet_repr() -> Ipv4Repr {
        Ipv4Repr {
            src_addr: Ipv4Addr::new(10, 0, 0, 1),
            dst_addr: Ipv4Addr::new(10, 0, 0, 2),
            protocol: IpProtocol::Icmp,
            payload_len: 8,
            ttl: 64,
            ident: 0x1c46,
            dont_frag: true,
            ecn: EcnCodepoint::NotEct,
        }
    }

    /// A UDP header from Wikipedia's checksum example (total length 115, checksum 0xb861).
    const UDP_HEADER: [u8; 20] = [
        0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, //
        0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
    ];

    /// Builds a packet with `ihl` words of header (options filled with NOPs), `payload_len` bytes of
    /// payload and `padding` trailing bytes, with a valid checksum.
    fn build(ihl: u8, payload_len: usize, padding: usize) -> Vec<u8> {
        let header_len = usize::from(ihl) * 4;
        let total = header_len + payload_len;
        let mut buf = vec![0u8; total + padding];
        buf[..HEADER_LEN].copy_from_slice(&PACKET[..HEADER_LEN]);
        buf[HEADER_LEN..header_len].fill(0x01);
        for (i, b) in buf[header_len..total].iter_mut().enumerate() {
            *b = i as u8 ^ 0x5a;
        }
        buf[total..].fill(0xee);
        let mut p = Ipv4Packet::new_unchecked(&mut buf[..]);
        p.set_version_and_header_len(4, header_len);
        p.set_total_len(total as u16);
        p.fill_checksum();
        buf
    }

    #[test]
    fn parse_known_packet() {
        let p = Ipv4Packet::new_checked(&PACKET[..]).unwrap();
        assert_eq!(p.version(), 4);
        assert_eq!(p.header_len(), 20);
        assert_eq!(p.dscp_ecn(), 0);
        assert_eq!(p.total_len(), 28);
        assert_eq!(p.ident(), 0x1c46);
        assert!(p.dont_frag());
        assert!(!p.more_frags());
        assert!(!p.reserved_flag());
        assert_eq!(p.frag_offset(), 0);
        assert!(!p.is_fragment());
        assert_eq!(p.ttl(), 64);
        assert_eq!(p.protocol(), IpProtocol::Icmp);
        assert_eq!(p.checksum(), 0x0a99);
        assert_eq!(p.src_addr(), Ipv4Addr::new(10, 0, 0, 1));
        assert_eq!(p.dst_addr(), Ipv4Addr::new(10, 0, 0, 2));
        assert!(p.options().is_empty());
        assert_eq!(p.header(), &PACKET[..20]);
        assert_eq!(p.payload(), &PACKET[20..]);
        assert!(p.verify_checksum());
        assert_eq!(Ipv4Repr::parse(&p).unwrap(), packet_repr());
    }

    #[test]
    fn parse_known_udp_header() {
        let mut buf = [0u8; 115];
        buf[..20].copy_from_slice(&UDP_HEADER);
        let p = Ipv4Packet::new_checked(&buf[..]).unwrap();
        assert!(p.verify_checksum());
        let repr = Ipv4Repr::parse(&p).unwrap();
        assert_eq!(repr.protocol, IpProtocol::Udp);
        assert_eq!(repr.payload_len, 95);
        assert_eq!(repr.src_addr, Ipv4Addr::new(192, 168, 0, 1));
        assert_eq!(repr.dst_addr, Ipv4Addr::new(192, 168, 0, 199));
    }

    #[test]
    fn emit_matches_known_bytes() {
        let repr = packet_repr();
        let mut buf = [0xccu8; 28];
        let mut p = Ipv4Packet::new_unchecked(&mut buf[..]);
        repr.emit(&mut p);
        p.payload_mut().copy_from_slice(&PACKET[20..]);
        assert_eq!(repr.buffer_len(), HEADER_LEN);
        assert_eq!(buf, PACKET);

        let udp = Ipv4Repr {
            src_addr: Ipv4Addr::new(192, 168, 0, 1),
            dst_addr: Ipv4Addr::new(192, 168, 0, 199),
            protocol: IpProtocol::Udp,
            payload_len: 95,
            ttl: 64,
            ident: 0,
            dont_frag: true,
            ecn: EcnCodepoint::NotEct,
        };
        let mut hdr = [0xccu8; 20];
        udp.emit(&mut Ipv4Packet::new_unchecked(&mut hdr[..]));
        assert_eq!(hdr, UDP_HEADER);
    }

    #[test]
    fn round_trip() {
        let ecns = [EcnCodepoint::NotEct, EcnCodepoint::Ect1, EcnCodepoint::Ect0, EcnCodepoint::Ce];
        for (i, dont_frag) in [false, true].into_iter().enumerate() {
            for (j, protocol) in
                [IpProtocol::Tcp, IpProtocol::Udp, IpProtocol::Icmp, IpProtocol::Unknown(89)].into_iter().enumerate()
            {
                let repr = Ipv4Repr {
                    src_addr: Ipv4Addr::new(172, 16, 3, 4),
                    dst_addr: Ipv4Addr::new(8, 8, 4, 4),
                    protocol,
                    payload_len: 13,
                    ttl: 1,
                    ident: 0xbeef,
                    dont_frag,
                    ecn: ecns[(i + j) % 4],
                };
                let mut buf = vec![0u8; repr.buffer_len() + repr.payload_len];
                repr.emit(&mut Ipv4Packet::new_unchecked(&mut buf[..]));
                let p = Ipv4Packet::new_checked(&buf[..]).unwrap();
                assert!(!p.is_fragment());
                assert_eq!(Ipv4Repr::parse(&p).unwrap(), repr);
            }
        }
    }

    #[test]
    fn emit_saturates_oversized_total_len() {
        let mut repr = packet_repr();
        repr.payload_len = usize::MAX;
        let mut buf = [0u8; 20];
        let mut p = Ipv4Packet::new_unchecked(&mut buf[..]);
        repr.emit(&mut p);
        assert_eq!(p.total_len(), u16::MAX);
    }

    #[test]
    fn every_truncation_is_an_error() {
        for len in 0..PACKET.len() {
            let short = &PACKET[..len];
            assert_eq!(Ipv4Packet::new_checked(short).unwrap_err(), Error::Truncated, "len {len}");
            let unchecked = Ipv4Packet::new_unchecked(short);
            assert_eq!(Ipv4Repr::parse(&unchecked).unwrap_err(), Error::Truncated, "len {len}");
        }
    }

    #[test]
    fn every_truncation_with_options_is_an_error() {
        let buf = build(15, 7, 0);
        for len in 0..buf.len() {
            assert!(Ipv4Packet::new_checked(&buf[..len]).is_err(), "len {len}");
            assert!(Ipv4Repr::parse(&Ipv4Packet::new_unchecked(&buf[..len])).is_err(), "len {len}");
        }
        assert!(Ipv4Repr::parse(&Ipv4Packet::new_checked(&buf[..]).unwrap()).is_ok());
    }

    #[test]
    fn version_6_is_bad_version() {
        let mut buf = PACKET;
        buf[0] = 0x65;
        assert_eq!(Ipv4Packet::new_checked(&buf[..]).unwrap_err(), Error::BadVersion);
        assert_eq!(Ipv4Repr::parse(&Ipv4Packet::new_unchecked(&buf[..])).unwrap_err(), Error::BadVersion);
    }

    #[test]
    fn ihl_below_5_is_bad_length() {
        for ihl in 0..5u8 {
            let mut buf = PACKET;
            buf[0] = 0x40 | ihl;
            assert_eq!(Ipv4Packet::new_checked(&buf[..]).unwrap_err(), Error::BadLength, "ihl {ihl}");
        }
    }

    #[test]
    fn total_len_below_header_is_bad_length() {
        for total in [0u16, 1, 19] {
            let mut buf = PACKET;
            buf[2..4].copy_from_slice(&total.to_be_bytes());
            assert_eq!(Ipv4Packet::new_checked(&buf[..]).unwrap_err(), Error::BadLength, "total {total}");
        }
        // With options, total_len must cover them too.
        let mut buf = build(6, 0, 4);
        buf[2..4].copy_from_slice(&20u16.to_be_bytes());
        assert_eq!(Ipv4Packet::new_checked(&buf[..]).unwrap_err(), Error::BadLength);
    }

    #[test]
    fn total_len_beyond_buffer_is_truncated() {
        let mut buf = PACKET;
        buf[2..4].copy_from_slice(&29u16.to_be_bytes());
        assert_eq!(Ipv4Packet::new_checked(&buf[..]).unwrap_err(), Error::Truncated);
    }

    #[test]
    fn header_beyond_buffer_is_truncated() {
        // IHL 15 claims a 60-byte header but the buffer holds 40.
        let mut buf = [0u8; 40];
        buf[..28].copy_from_slice(&PACKET);
        buf[0] = 0x4f;
        buf[2..4].copy_from_slice(&60u16.to_be_bytes());
        assert_eq!(Ipv4Packet::new_checked(&buf[..]).unwrap_err(), Error::Truncated);
    }

    #[test]
    fn bad_checksum_is_rejected_by_parse_only() {
        let mut buf = PACKET;
        buf[11] ^= 0x01;
        let p = Ipv4Packet::new_checked(&buf[..]).unwrap();
        assert!(!p.verify_checksum());
        assert_eq!(Ipv4Repr::parse(&p).unwrap_err(), Error::BadChecksum);

        // A flipped bit elsewhere in the header is caught too.
        let mut buf = PACKET;
        buf[8] ^= 0x80;
        let p = Ipv4Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(Ipv4Repr::parse(&p).unwrap_err(), Error::BadChecksum);
    }

    #[test]
    fn options_are_tolerated_and_skipped() {
        for ihl in 6..=15u8 {
            let header_len = usize::from(ihl) * 4;
            let buf = build(ihl, 10, 0);
            let p = Ipv4Packet::new_checked(&buf[..]).unwrap();
            assert_eq!(p.header_len(), header_len);
            assert_eq!(p.options().len(), header_len - HEADER_LEN);
            assert!(p.options().iter().all(|&b| b == 0x01));
            assert_eq!(p.header(), &buf[..header_len]);
            assert_eq!(p.payload(), &buf[header_len..]);
            assert_eq!(p.payload()[0], 0x5a);
            assert!(p.verify_checksum());
            let repr = Ipv4Repr::parse(&p).unwrap();
            assert_eq!(repr.payload_len, 10);
        }
    }

    #[test]
    fn ethernet_padding_is_excluded_from_payload() {
        // A 28-byte packet in a minimum-size Ethernet payload (46 bytes).
        let mut buf = [0u8; 46];
        buf[..28].copy_from_slice(&PACKET);
        buf[28..].fill(0xee);
        let p = Ipv4Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(p.payload(), &PACKET[20..]);
        assert_eq!(Ipv4Repr::parse(&p).unwrap(), packet_repr());

        let mut padded = build(7, 3, 30);
        let p = Ipv4Packet::new_checked(&padded[..]).unwrap();
        assert_eq!(p.payload().len(), 3);
        let mut p = Ipv4Packet::new_unchecked(&mut padded[..]);
        assert_eq!(p.payload_mut().len(), 3);
    }

    #[test]
    fn fragment_fields_read() {
        // MF set, offset 185 units = 1480 bytes.
        let mut buf = PACKET;
        buf[6..8].copy_from_slice(&0x20b9u16.to_be_bytes());
        let p = Ipv4Packet::new_checked(&buf[..]).unwrap();
        assert!(!p.dont_frag());
        assert!(p.more_frags());
        assert!(!p.reserved_flag());
        assert_eq!(p.frag_offset(), 1480);
        assert!(p.is_fragment());

        // Last fragment: MF clear but nonzero offset.
        buf[6..8].copy_from_slice(&0x00b9u16.to_be_bytes());
        let p = Ipv4Packet::new_checked(&buf[..]).unwrap();
        assert!(!p.more_frags());
        assert!(p.is_fragment());

        // First fragment: MF set, offset 0.
        buf[6..8].copy_from_slice(&0x2000u16.to_be_bytes());
        let p = Ipv4Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(p.frag_offset(), 0);
        assert!(p.is_fragment());

        // Reserved bit and the largest offset.
        buf[6..8].copy_from_slice(&0xbfffu16.to_be_bytes());
        let p = Ipv4Packet::new_checked(&buf[..]).unwrap();
        assert!(p.reserved_flag());
        assert!(!p.dont_frag());
        assert!(p.more_frags());
        assert_eq!(p.frag_offset(), 8191 * 8);
    }

    #[test]
    fn fragments_still_parse() {
        let mut buf = PACKET;
        let mut p = Ipv4Packet::new_unchecked(&mut buf[..]);
        p.set_flags_and_frag_offset(false, true, 8);
        p.fill_checksum();
        let p = Ipv4Packet::new_checked(&buf[..]).unwrap();
        let repr = Ipv4Repr::parse(&p).unwrap();
        assert!(!repr.dont_frag);
        assert!(p.is_fragment());
    }

    #[test]
    fn fragment_fields_written() {
        let mut buf = PACKET;
        let mut p = Ipv4Packet::new_unchecked(&mut buf[..]);
        p.set_flags_and_frag_offset(false, true, 1480);
        assert_eq!(&p.header()[6..8], &[0x20, 0xb9]);
        p.set_flags_and_frag_offset(true, false, 0);
        assert_eq!(&p.header()[6..8], &[0x40, 0x00]);
        p.set_flags_and_frag_offset(true, true, 65528);
        assert_eq!(&p.header()[6..8], &[0x7f, 0xff]);
        assert!(p.dont_frag() && p.more_frags());
        assert_eq!(p.frag_offset(), 65528);
        p.set_flags_and_frag_offset(false, false, 16);
        assert_eq!(&p.header()[6..8], &[0x00, 0x02]);
        assert!(!p.dont_frag() && !p.more_frags() && !p.reserved_flag());
    }

    #[test]
    fn setters_write_each_field() {
        let mut buf = [0u8; 24];
        let mut p = Ipv4Packet::new_unchecked(&mut buf[..]);
        p.set_version_and_header_len(4, 20);
        p.set_dscp_ecn(0xb8); // EF, not-ECT
        p.set_total_len(24);
        p.set_ident(0x1234);
        p.set_flags_and_frag_offset(true, false, 0);
        p.set_ttl(255);
        p.set_protocol(IpProtocol::Tcp);
        p.set_src_addr(Ipv4Addr::new(1, 2, 3, 4));
        p.set_dst_addr(Ipv4Addr::new(5, 6, 7, 8));
        p.fill_checksum();
        p.payload_mut().copy_from_slice(&[9, 10, 11, 12]);
        let p = Ipv4Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(p.version(), 4);
        assert_eq!(p.dscp_ecn(), 0xb8);
        assert_eq!(p.total_len(), 24);
        assert_eq!(p.ident(), 0x1234);
        assert_eq!(p.ttl(), 255);
        assert_eq!(p.protocol(), IpProtocol::Tcp);
        assert_eq!(p.src_addr(), Ipv4Addr::new(1, 2, 3, 4));
        assert_eq!(p.dst_addr(), Ipv4Addr::new(5, 6, 7, 8));
        assert_eq!(p.payload(), &[9, 10, 11, 12]);
        assert!(p.verify_checksum());
        assert_eq!(checksum::data(p.header()), 0xffff);
    }

    #[test]
    fn ecn_codepoints_read_and_write_beside_dscp() {
        let mut buf = PACKET;
        let mut p = Ipv4Packet::new_unchecked(&mut buf[..]);
        p.set_dscp_ecn(0xb8); // EF, Not-ECT
        for (ecn, bits, name) in [
            (EcnCodepoint::Ect0, 0b10, "ECT(0)"),
            (EcnCodepoint::Ect1, 0b01, "ECT(1)"),
            (EcnCodepoint::Ce, 0b11, "CE"),
            (EcnCodepoint::NotEct, 0b00, "Not-ECT"),
        ] {
            p.set_ecn(ecn);
            assert_eq!((p.dscp_ecn(), p.ecn()), (0xb8 | bits, ecn), "{name}");
            assert_eq!(ecn.to_string(), name);
            assert_eq!(ecn.is_ect(), bits == 0b01 || bits == 0b10);
        }
        assert_eq!(Ipv4Packet::new_checked(&PACKET[..]).unwrap().ecn(), EcnCodepoint::NotEct);
    }

    #[test]
    fn protocol_conversions() {
        for v in 0..=255u8 {
            assert_eq!(u8::from(IpProtocol::from(v)), v);
        }
        assert_eq!(IpProtocol::from(6), IpProtocol::Tcp);
    }
}
