//! IPv6 header (RFC 8200 §3), the walk over its extension headers (§4) with the answers RFC 8200 asks for,
//! the fragment header for emitting (§4.5), and the addresses a host derives from its MAC (RFC 4291, RFC 4862).
//!
//! The walk stops at the first header that is not hop-by-hop, routing, destination options or an atomic
//! fragment: that is the upper-layer protocol (or a fragment to reassemble first, or "no next header"). It
//! never reads out of bounds and visits at most [`MAX_EXTENSION_HEADERS`] headers, so no input can loop.

use super::ethernet::EthernetAddress;
use super::ipv4::{EcnCodepoint, IpProtocol};
use super::{Error, Result};
use core::net::Ipv6Addr;

/// Next-header values of IPv6 (IANA "Assigned Internet Protocol Numbers"), as [`IpProtocol`] constants so the
/// IPv4 code's exhaustive matches stay as they are: these are `IpProtocol::Unknown(n)` values with names.
impl IpProtocol {
    /// IPv6 Hop-by-Hop Options (RFC 8200 §4.3).
    pub const HOP_BY_HOP: IpProtocol = IpProtocol::Unknown(0);
    /// Routing Header for IPv6 (RFC 8200 §4.4).
    pub const IPV6_ROUTE: IpProtocol = IpProtocol::Unknown(43);
    /// Fragment Header for IPv6 (RFC 8200 §4.5).
    pub const IPV6_FRAG: IpProtocol = IpProtocol::Unknown(44);
    /// ICMP for IPv6 (RFC 4443).
    pub const ICMPV6: IpProtocol = IpProtocol::Unknown(58);
    /// No Next Header (RFC 8200 §4.7): nothing follows.
    pub const IPV6_NO_NXT: IpProtocol = IpProtocol::Unknown(59);
    /// Destination Options for IPv6 (RFC 8200 §4.6).
    pub const IPV6_OPTS: IpProtocol = IpProtocol::Unknown(60);
}

/// Length of the fixed IPv6 header.
pub const HEADER_LEN: usize = 40;
/// The link MTU every IPv6 link must carry (RFC 8200 §5).
pub const MIN_MTU: usize = 1280;
/// The most extension headers [`walk`] visits before giving up with [`Error::Unsupported`].
pub const MAX_EXTENSION_HEADERS: usize = 8;

/// ff02::1, every node on the link (RFC 4291 §2.7.1).
pub const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
/// ff02::2, every router on the link (RFC 4291 §2.7.1).
pub const ALL_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2);

const VERSION: u8 = 6;

mod field {
    use core::ops::Range;

    /// Version (4 bits), traffic class (8 bits), flow label (20 bits).
    pub const VER_TC_FLOW: Range<usize> = 0..4;
    pub const PAYLOAD_LEN: Range<usize> = 4..6;
    pub const NEXT_HEADER: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC_ADDR: Range<usize> = 8..24;
    pub const DST_ADDR: Range<usize> = 24..40;
    pub const PAYLOAD: usize = 40;
}

const FLOW_LABEL_MASK: u32 = 0x000f_ffff;

/// A read/write view of an IPv6 packet.
#[derive(Debug, Clone)]
pub struct Ipv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv6Packet<T> {
    /// Wraps a buffer without checking it; use only on buffers sized by the caller (e.g. when emitting).
    pub fn new_unchecked(buffer: T) -> Self {
        Ipv6Packet { buffer }
    }

    /// Wraps a buffer after checking the version and that header and payload length fit, so every accessor
    /// stays in bounds. Bytes beyond the payload length are link-layer padding.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let packet = Ipv6Packet { buffer };
        packet.check_len()?;
        Ok(packet)
    }

    /// `Truncated` if the header or the payload the length field claims does not fit; `BadVersion` if the
    /// version is not 6. (A payload length of 0 with a jumbo payload option is not supported: it reads as an
    /// empty payload.)
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        if self.version() != VERSION {
            return Err(Error::BadVersion);
        }
        if HEADER_LEN + usize::from(self.payload_len()) > len {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn ver_tc_flow(&self) -> u32 {
        let b = &self.buffer.as_ref()[field::VER_TC_FLOW];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }

    fn read_addr(&self, range: core::ops::Range<usize>) -> Ipv6Addr {
        let mut octets = [0u8; 16];
        octets.copy_from_slice(&self.buffer.as_ref()[range]);
        Ipv6Addr::from(octets)
    }

    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[0] >> 4
    }

    /// The traffic class byte: DSCP in the high six bits, ECN in the low two (RFC 8200 §7, RFC 3168).
    pub fn traffic_class(&self) -> u8 {
        (self.ver_tc_flow() >> 20) as u8
    }

    /// The ECN codepoint (RFC 3168 §5).
    pub fn ecn(&self) -> EcnCodepoint {
        EcnCodepoint::from_bits(self.traffic_class())
    }

    /// The 20-bit flow label (RFC 6437).
    pub fn flow_label(&self) -> u32 {
        self.ver_tc_flow() & FLOW_LABEL_MASK
    }

    /// Length of everything after the fixed header (extension headers included).
    pub fn payload_len(&self) -> u16 {
        let b = &self.buffer.as_ref()[field::PAYLOAD_LEN];
        u16::from_be_bytes([b[0], b[1]])
    }

    /// The header that follows the fixed one: an extension header or the upper-layer protocol.
    pub fn next_header(&self) -> IpProtocol {
        IpProtocol::from(self.buffer.as_ref()[field::NEXT_HEADER])
    }

    pub fn hop_limit(&self) -> u8 {
        self.buffer.as_ref()[field::HOP_LIMIT]
    }

    pub fn src_addr(&self) -> Ipv6Addr {
        self.read_addr(field::SRC_ADDR)
    }

    pub fn dst_addr(&self) -> Ipv6Addr {
        self.read_addr(field::DST_ADDR)
    }

    /// The fixed header.
    pub fn header(&self) -> &[u8] {
        &self.buffer.as_ref()[..HEADER_LEN]
    }

    /// The payload as the length field delimits it (extension headers included).
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[field::PAYLOAD..HEADER_LEN + usize::from(self.payload_len())]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv6Packet<T> {
    fn set_ver_tc_flow(&mut self, value: u32) {
        self.buffer.as_mut()[field::VER_TC_FLOW].copy_from_slice(&value.to_be_bytes());
    }

    /// Sets version 6 (the other fields of the first word are kept).
    pub fn set_version(&mut self) {
        let word = self.ver_tc_flow() & 0x0fff_ffff;
        self.set_ver_tc_flow(word | (u32::from(VERSION) << 28));
    }

    pub fn set_traffic_class(&mut self, value: u8) {
        let word = self.ver_tc_flow() & 0xf00f_ffff;
        self.set_ver_tc_flow(word | (u32::from(value) << 20));
    }

    /// Sets the ECN bits and leaves the DSCP bits alone.
    pub fn set_ecn(&mut self, ecn: EcnCodepoint) {
        let tc = self.traffic_class();
        self.set_traffic_class((tc & !EcnCodepoint::MASK) | ecn.bits());
    }

    /// Sets the flow label (bits above the 20th are dropped).
    pub fn set_flow_label(&mut self, value: u32) {
        let word = self.ver_tc_flow() & !FLOW_LABEL_MASK;
        self.set_ver_tc_flow(word | (value & FLOW_LABEL_MASK));
    }

    pub fn set_payload_len(&mut self, value: u16) {
        self.buffer.as_mut()[field::PAYLOAD_LEN].copy_from_slice(&value.to_be_bytes());
    }

    pub fn set_next_header(&mut self, value: IpProtocol) {
        self.buffer.as_mut()[field::NEXT_HEADER] = value.into();
    }

    pub fn set_hop_limit(&mut self, value: u8) {
        self.buffer.as_mut()[field::HOP_LIMIT] = value;
    }

    pub fn set_src_addr(&mut self, addr: Ipv6Addr) {
        self.buffer.as_mut()[field::SRC_ADDR].copy_from_slice(&addr.octets());
    }

    pub fn set_dst_addr(&mut self, addr: Ipv6Addr) {
        self.buffer.as_mut()[field::DST_ADDR].copy_from_slice(&addr.octets());
    }

    /// The payload as the length field delimits it (set the length first).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let end = HEADER_LEN + usize::from(self.payload_len());
        &mut self.buffer.as_mut()[field::PAYLOAD..end]
    }
}

/// The fixed IPv6 header as the stack sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv6Repr {
    pub src_addr: Ipv6Addr,
    pub dst_addr: Ipv6Addr,
    /// The header after the fixed one (an extension header or the upper-layer protocol).
    pub next_header: IpProtocol,
    /// Bytes after the fixed header, extension headers included.
    pub payload_len: usize,
    pub hop_limit: u8,
    /// Differentiated services codepoint: the high six bits of the traffic class.
    pub dscp: u8,
    pub ecn: EcnCodepoint,
    /// The 20-bit flow label (RFC 6437); 0 for "no label".
    pub flow_label: u32,
}

impl Ipv6Repr {
    /// Parses a view: `BadField` for a multicast source (RFC 4291 §2.7).
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Ipv6Packet<&T>) -> Result<Ipv6Repr> {
        // The view may come from `new_unchecked`; re-check so parsing never panics.
        packet.check_len()?;
        let src_addr = packet.src_addr();
        if src_addr.is_multicast() {
            return Err(Error::BadField);
        }
        Ok(Ipv6Repr {
            src_addr,
            dst_addr: packet.dst_addr(),
            next_header: packet.next_header(),
            payload_len: usize::from(packet.payload_len()),
            hop_limit: packet.hop_limit(),
            dscp: packet.traffic_class() >> 2,
            ecn: packet.ecn(),
            flow_label: packet.flow_label(),
        })
    }

    /// Bytes of header this repr emits (the payload follows).
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the fixed header into a view of at least `HEADER_LEN + payload_len` bytes. A payload length
    /// beyond 65535 saturates (no jumbograms); DSCP and flow label are cut to their field widths.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Ipv6Packet<T>) {
        packet.set_ver_tc_flow(0);
        packet.set_version();
        packet.set_traffic_class((self.dscp << 2) | self.ecn.bits());
        packet.set_flow_label(self.flow_label);
        packet.set_payload_len(u16::try_from(self.payload_len).unwrap_or(u16::MAX));
        packet.set_next_header(self.next_header);
        packet.set_hop_limit(self.hop_limit);
        packet.set_src_addr(self.src_addr);
        packet.set_dst_addr(self.dst_addr);
    }
}

// ---- Fragment header (RFC 8200 §4.5) -----------------------------------------------------------------------

/// Length of the fragment header.
pub const FRAGMENT_HEADER_LEN: usize = 8;
/// Fragment offsets count 8-byte units, so every fragment but the last carries a multiple of 8 bytes.
const FRAGMENT_UNIT: usize = 8;

mod frag_field {
    use core::ops::Range;

    pub const NEXT_HEADER: usize = 0;
    pub const RESERVED: usize = 1;
    /// 13-bit offset in 8-byte units, 2 reserved bits, the M flag.
    pub const OFFSET_M: Range<usize> = 2..4;
    pub const IDENT: Range<usize> = 4..8;

    pub const MORE_FRAGS: u16 = 0x0001;
    pub const OFFSET_MASK: u16 = 0xfff8;
}

/// A read/write view of a fragment header (exactly its 8 bytes, or more: the rest is ignored).
#[derive(Debug, Clone)]
pub struct Ipv6FragmentHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv6FragmentHeader<T> {
    pub fn new_unchecked(buffer: T) -> Self {
        Ipv6FragmentHeader { buffer }
    }

    /// `Truncated` if the buffer is shorter than the header.
    pub fn new_checked(buffer: T) -> Result<Self> {
        if buffer.as_ref().len() < FRAGMENT_HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(Ipv6FragmentHeader { buffer })
    }

    fn offset_m(&self) -> u16 {
        let b = &self.buffer.as_ref()[frag_field::OFFSET_M];
        u16::from_be_bytes([b[0], b[1]])
    }

    /// The first header of the fragmentable part of the original packet.
    pub fn next_header(&self) -> IpProtocol {
        IpProtocol::from(self.buffer.as_ref()[frag_field::NEXT_HEADER])
    }

    /// Offset of this fragment's data in the original packet's fragmentable part, in bytes.
    pub fn frag_offset(&self) -> u16 {
        self.offset_m() & frag_field::OFFSET_MASK
    }

    /// The M flag: more fragments follow.
    pub fn more_frags(&self) -> bool {
        self.offset_m() & frag_field::MORE_FRAGS != 0
    }

    pub fn ident(&self) -> u32 {
        let b = &self.buffer.as_ref()[frag_field::IDENT];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv6FragmentHeader<T> {
    pub fn set_next_header(&mut self, value: IpProtocol) {
        self.buffer.as_mut()[frag_field::NEXT_HEADER] = value.into();
    }

    /// Writes offset (in bytes; the low three bits are dropped) and M flag, and zeroes the reserved bits.
    pub fn set_frag_offset_and_more(&mut self, offset: u16, more_frags: bool) {
        let word = (offset & frag_field::OFFSET_MASK) | if more_frags { frag_field::MORE_FRAGS } else { 0 };
        self.buffer.as_mut()[frag_field::OFFSET_M].copy_from_slice(&word.to_be_bytes());
    }

    pub fn set_ident(&mut self, value: u32) {
        self.buffer.as_mut()[frag_field::IDENT].copy_from_slice(&value.to_be_bytes());
    }
}

/// A fragment header's fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ipv6FragmentRepr {
    /// The first header of the fragmentable part (of the reassembled packet).
    pub next_header: IpProtocol,
    /// Byte offset of this fragment's data; a multiple of 8.
    pub frag_offset: u16,
    pub more_frags: bool,
    pub ident: u32,
}

impl Ipv6FragmentRepr {
    pub fn parse<T: AsRef<[u8]> + ?Sized>(header: &Ipv6FragmentHeader<&T>) -> Result<Self> {
        if header.buffer.as_ref().len() < FRAGMENT_HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(Ipv6FragmentRepr {
            next_header: header.next_header(),
            frag_offset: header.frag_offset(),
            more_frags: header.more_frags(),
            ident: header.ident(),
        })
    }

    /// An atomic fragment (offset 0, no more fragments; RFC 6946) is a whole packet.
    pub const fn is_atomic(&self) -> bool {
        self.frag_offset == 0 && !self.more_frags
    }

    pub const fn buffer_len(&self) -> usize {
        FRAGMENT_HEADER_LEN
    }

    /// Writes the 8 bytes (reserved fields zero) into a view of at least that many.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, header: &mut Ipv6FragmentHeader<T>) {
        header.set_next_header(self.next_header);
        header.buffer.as_mut()[frag_field::RESERVED] = 0;
        header.set_frag_offset_and_more(self.frag_offset, self.more_frags);
        header.set_ident(self.ident);
    }
}

// ---- The extension header walk (RFC 8200 §4) ---------------------------------------------------------------

/// The ICMPv6 parameter problem codes (RFC 4443 §3.4) the walk can ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ParamProblem {
    /// Code 0: erroneous header field encountered.
    ErroneousHeaderField,
    /// Code 1: unrecognized Next Header type encountered.
    UnrecognizedNextHeader,
    /// Code 2: unrecognized IPv6 option encountered.
    UnrecognizedOption,
    /// Any other code (received messages only).
    Other(u8),
}

impl From<u8> for ParamProblem {
    fn from(code: u8) -> Self {
        match code {
            0 => ParamProblem::ErroneousHeaderField,
            1 => ParamProblem::UnrecognizedNextHeader,
            2 => ParamProblem::UnrecognizedOption,
            other => ParamProblem::Other(other),
        }
    }
}

impl From<ParamProblem> for u8 {
    fn from(code: ParamProblem) -> u8 {
        match code {
            ParamProblem::ErroneousHeaderField => 0,
            ParamProblem::UnrecognizedNextHeader => 1,
            ParamProblem::UnrecognizedOption => 2,
            ParamProblem::Other(code) => code,
        }
    }
}

/// What the extension headers of a packet tell the receiver to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExtHeaderWalk {
    /// Deliver: the upper-layer header starts at `offset` (from the start of the IPv6 header). `protocol` is
    /// TCP, UDP or ICMPv6 (anything else is [`ExtHeaderWalk::ParameterProblem`] code 1). `fragment` is an
    /// atomic fragment header (RFC 6946) the walk went through.
    Upper { protocol: IpProtocol, offset: usize, fragment: Option<Ipv6FragmentRepr> },
    /// A fragment of a larger packet (its length checked as RFC 8200 §4.5 asks: a multiple of 8 bytes unless
    /// it is the last, and not beyond 65535 bytes of reassembled payload; otherwise this is a
    /// `ParameterProblem`): its data starts at `offset`; reassemble, then walk the reassembled
    /// fragmentable part with [`walk_from`] starting at `fragment.next_header` (named at `offset - 8`).
    Fragment { fragment: Ipv6FragmentRepr, offset: usize },
    /// Next header 59: nothing to deliver (RFC 8200 §4.7).
    NoNextHeader,
    /// Drop silently: an unrecognized option whose type says so (RFC 8200 §4.2, action 01, or 11 for a
    /// multicast destination). `pointer` is the option type's offset.
    Discard { pointer: usize },
    /// Drop and answer an ICMPv6 parameter problem with this code and pointer (offset from the start of the
    /// IPv6 header of the byte at fault).
    ParameterProblem { code: ParamProblem, pointer: usize },
}

/// Option types of hop-by-hop and destination options headers that the walk knows (RFC 8200 §4.2).
mod option_type {
    pub const PAD1: u8 = 0;
    pub const PADN: u8 = 1;
    /// Router alert (RFC 2711): for routers; a host reads past it.
    pub const ROUTER_ALERT: u8 = 5;
    /// The two high bits say what to do with an unrecognized option.
    pub const ACTION_SHIFT: u32 = 6;
}

/// Extension headers length unit: the length field counts 8-byte units beyond the first 8 bytes.
const EXT_LEN_UNIT: usize = 8;
/// Offsets within a routing header.
const ROUTING_TYPE: usize = 2;
const SEGMENTS_LEFT: usize = 3;

/// Walks the extension headers of a checked packet (see [`walk_from`]).
pub fn walk<T: AsRef<[u8]>>(packet: &Ipv6Packet<T>) -> Result<ExtHeaderWalk> {
    packet.check_len()?;
    let start = WalkStart { first: packet.next_header(), named_at: field::NEXT_HEADER, base: HEADER_LEN };
    walk_from(start, packet.payload(), packet.dst_addr().is_multicast())
}

/// Where a walk starts: the first header's type, the offset of the Next Header field that names it, and the
/// offset of the bytes walked; offsets count from the start of the IPv6 header, as ICMPv6 pointers do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WalkStart {
    pub first: IpProtocol,
    pub named_at: usize,
    pub base: usize,
}

/// Walks the headers in `bytes` as `start` describes them; `dst_multicast` is whether the packet went to a
/// multicast address (RFC 8200 §4.2 action 11). Hop-by-hop is accepted only first after the fixed header
/// (`base` 40).
///
/// Errors: `Truncated` if a header runs past `bytes`, `BadOption` for an option that runs past its header,
/// `Unsupported` after [`MAX_EXTENSION_HEADERS`] headers.
pub fn walk_from(start: WalkStart, bytes: &[u8], dst_multicast: bool) -> Result<ExtHeaderWalk> {
    let WalkStart { first: mut next, mut named_at, base } = start;
    let mut at = 0usize;
    let mut atomic = None;
    for index in 0..=MAX_EXTENSION_HEADERS {
        let pointer_of = |offset: usize| base + offset;
        match next {
            IpProtocol::Tcp | IpProtocol::Udp | IpProtocol::ICMPV6 => {
                return Ok(ExtHeaderWalk::Upper { protocol: next, offset: base + at, fragment: atomic });
            }
            IpProtocol::IPV6_NO_NXT => return Ok(ExtHeaderWalk::NoNextHeader),
            _ if index == MAX_EXTENSION_HEADERS => return Err(Error::Unsupported),
            IpProtocol::HOP_BY_HOP | IpProtocol::IPV6_OPTS | IpProtocol::IPV6_ROUTE => {
                // Hop-by-hop must come first (RFC 8200 §4.1): elsewhere it is an unrecognized next header.
                if next == IpProtocol::HOP_BY_HOP && (index > 0 || base != HEADER_LEN) {
                    return Ok(unrecognized_next_header(named_at));
                }
                let header = bytes.get(at..at + 2).ok_or(Error::Truncated)?;
                let len = (usize::from(header[1]) + 1) * EXT_LEN_UNIT;
                let header = bytes.get(at..at + len).ok_or(Error::Truncated)?;
                if next == IpProtocol::IPV6_ROUTE {
                    // A host processes no routing type; one that still has segments to visit is an error
                    // pointing at the type (RFC 8200 §4.4). With none left it is ignored.
                    if header[SEGMENTS_LEFT] != 0 {
                        return Ok(ExtHeaderWalk::ParameterProblem {
                            code: ParamProblem::ErroneousHeaderField,
                            pointer: pointer_of(at + ROUTING_TYPE),
                        });
                    }
                } else if let Some(outcome) = walk_options(header, base + at, dst_multicast)? {
                    return Ok(outcome);
                }
                named_at = base + at;
                next = IpProtocol::from(header[0]);
                at += len;
            }
            IpProtocol::IPV6_FRAG => {
                let header = bytes.get(at..at + FRAGMENT_HEADER_LEN).ok_or(Error::Truncated)?;
                let fragment = Ipv6FragmentRepr::parse(&Ipv6FragmentHeader::new_unchecked(header))?;
                at += FRAGMENT_HEADER_LEN;
                if !fragment.is_atomic() {
                    // RFC 8200 §4.5: every fragment but the last carries a multiple of 8 bytes (else the
                    // pointer names the payload length), and no fragment reaches past 65535 bytes (else it
                    // names the fragment offset).
                    let data_len = bytes.len() - at;
                    if fragment.more_frags && data_len % FRAGMENT_UNIT != 0 {
                        return Ok(ExtHeaderWalk::ParameterProblem {
                            code: ParamProblem::ErroneousHeaderField,
                            pointer: field::PAYLOAD_LEN.start,
                        });
                    }
                    if usize::from(fragment.frag_offset) + data_len > usize::from(u16::MAX) {
                        return Ok(ExtHeaderWalk::ParameterProblem {
                            code: ParamProblem::ErroneousHeaderField,
                            pointer: base + at - FRAGMENT_HEADER_LEN + frag_field::OFFSET_M.start,
                        });
                    }
                    return Ok(ExtHeaderWalk::Fragment { fragment, offset: base + at });
                }
                named_at = base + at - FRAGMENT_HEADER_LEN;
                atomic = Some(fragment);
                next = fragment.next_header;
            }
            _ => return Ok(unrecognized_next_header(named_at)),
        }
    }
    Err(Error::Unsupported)
}

fn unrecognized_next_header(named_at: usize) -> ExtHeaderWalk {
    ExtHeaderWalk::ParameterProblem { code: ParamProblem::UnrecognizedNextHeader, pointer: named_at }
}

/// Reads the options of a hop-by-hop or destination options `header` (whole, at `offset` from the IPv6
/// header) and applies RFC 8200 §4.2 to the first unrecognized one; `None` if every option may be skipped.
fn walk_options(header: &[u8], offset: usize, dst_multicast: bool) -> Result<Option<ExtHeaderWalk>> {
    let mut at = 2;
    while at < header.len() {
        let ty = header[at];
        if ty == option_type::PAD1 {
            at += 1;
            continue;
        }
        let len = usize::from(*header.get(at + 1).ok_or(Error::BadOption)?);
        let end = at + 2 + len;
        if end > header.len() {
            return Err(Error::BadOption);
        }
        if !matches!(ty, option_type::PADN | option_type::ROUTER_ALERT) {
            let pointer = offset + at;
            let problem = ExtHeaderWalk::ParameterProblem { code: ParamProblem::UnrecognizedOption, pointer };
            match ty >> option_type::ACTION_SHIFT {
                0b00 => {}
                0b01 => return Ok(Some(ExtHeaderWalk::Discard { pointer })),
                0b10 => return Ok(Some(problem)),
                _ if dst_multicast => return Ok(Some(ExtHeaderWalk::Discard { pointer })),
                _ => return Ok(Some(problem)),
            }
        }
        at = end;
    }
    Ok(None)
}

// ---- Addresses a host derives (RFC 4291, RFC 4862) ---------------------------------------------------------

/// The solicited-node multicast address of `addr` (RFC 4291 §2.7.1): ff02::1:ff00:0/104 plus its low 24 bits.
pub fn solicited_node(addr: &Ipv6Addr) -> Ipv6Addr {
    let o = addr.octets();
    Ipv6Addr::from([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, o[13], o[14], o[15]])
}

/// Whether `addr` is a solicited-node multicast address (ff02::1:ffXX:XXXX).
pub fn is_solicited_node(addr: &Ipv6Addr) -> bool {
    addr.octets()[..13] == solicited_node(&Ipv6Addr::UNSPECIFIED).octets()[..13]
}

/// The Ethernet address an IPv6 multicast address maps to: 33:33 and its low 32 bits (RFC 2464 §7).
pub fn multicast_mac(addr: &Ipv6Addr) -> EthernetAddress {
    let o = addr.octets();
    EthernetAddress([0x33, 0x33, o[12], o[13], o[14], o[15]])
}

/// The modified EUI-64 interface identifier of a MAC: ff:fe in the middle, the universal/local bit inverted
/// (RFC 4291 Appendix A).
pub fn eui64_interface_id(mac: EthernetAddress) -> [u8; 8] {
    let m = mac.0;
    [m[0] ^ 0x02, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]]
}

/// The address `prefix` (its first 64 bits) plus the interface identifier of `mac` (RFC 4862 §5.5.3).
pub fn address_from_mac(prefix: &Ipv6Addr, mac: EthernetAddress) -> Ipv6Addr {
    let mut o = prefix.octets();
    o[8..].copy_from_slice(&eui64_interface_id(mac));
    Ipv6Addr::from(o)
}

/// The link-local address fe80::/64 plus the interface identifier of `mac` (RFC 4862 §5.3).
pub fn link_local_from_mac(mac: EthernetAddress) -> Ipv6Addr {
    address_from_mac(&Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), mac)
}

/// Whether `addr` is link-local unicast (fe80::/10).
pub fn is_link_local(addr: &Ipv6Addr) -> bool {
    addr.segments()[0] & 0xffc0 == 0xfe80
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SRC: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0x0200, 0x00ff, 0xfe00, 0x0001);
    const DST: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);

    /// An IPv6 header (traffic class 0xb9: DSCP 46 = EF, ECN ECT(1); flow label 0x12345) carrying 8 bytes of UDP.
    const PACKET: [u8; 48] = [
        0x6b, 0x91, 0x23, 0x45, // version 6, TC 0xb9, flow 0x12345
        0x00, 0x08, 17, 64, // payload length 8, next header UDP, hop limit 64
        0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x01, // source
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, // destination
        0x9c, 0x40, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00, // payload
    ];

    fn repr() -> Ipv6Repr {
        Ipv6Repr {
            src_addr: SRC,
            dst_addr: DST,
            next_header: IpProtocol::Udp,
            payload_len: 8,
            hop_limit: 64,
            dscp: 46,
            ecn: EcnCodepoint::Ect1,
            flow_label: 0x12345,
        }
    }

    /// A packet to `dst` whose payload is `headers` (extension headers, built by hand) then `upper`.
    fn packet(first: IpProtocol, dst: Ipv6Addr, headers: &[u8], upper: &[u8]) -> Vec<u8> {
        let r = Ipv6Repr { next_header: first, dst_addr: dst, payload_len: headers.len() + upper.len(), ..repr() };
        let mut buf = vec![0u8; HEADER_LEN + r.payload_len];
        r.emit(&mut Ipv6Packet::new_unchecked(&mut buf[..]));
        buf[HEADER_LEN..HEADER_LEN + headers.len()].copy_from_slice(headers);
        buf[HEADER_LEN + headers.len()..].copy_from_slice(upper);
        buf
    }

    fn walk_bytes(buf: &[u8]) -> Result<ExtHeaderWalk> {
        walk(&Ipv6Packet::new_checked(buf)?)
    }

    /// An options header (hop-by-hop or destination) with `next`, holding `options` padded with PadN to a
    /// multiple of 8 bytes.
    fn options_header(next: u8, options: &[u8]) -> Vec<u8> {
        let mut h = vec![next, 0];
        h.extend_from_slice(options);
        let pad = (8 - h.len() % 8) % 8;
        match pad {
            0 => {}
            1 => h.push(0),
            n => h.extend([1, (n - 2) as u8].into_iter().chain(core::iter::repeat_n(0, n - 2))),
        }
        h[1] = (h.len() / 8 - 1) as u8;
        h
    }

    #[test]
    fn parse_known_packet() {
        let p = Ipv6Packet::new_checked(&PACKET[..]).unwrap();
        assert_eq!(p.version(), 6);
        assert_eq!(p.traffic_class(), 0xb9);
        assert_eq!(p.ecn(), EcnCodepoint::Ect1);
        assert_eq!(p.flow_label(), 0x12345);
        assert_eq!(p.payload_len(), 8);
        assert_eq!(p.next_header(), IpProtocol::Udp);
        assert_eq!(p.hop_limit(), 64);
        assert_eq!((p.src_addr(), p.dst_addr()), (SRC, DST));
        assert_eq!(p.header(), &PACKET[..40]);
        assert_eq!(p.payload(), &PACKET[40..]);
        assert_eq!(Ipv6Repr::parse(&p).unwrap(), repr());
    }

    #[test]
    fn emit_matches_known_bytes_and_round_trips() {
        let mut buf = [0xccu8; 48];
        let mut p = Ipv6Packet::new_unchecked(&mut buf[..]);
        repr().emit(&mut p);
        p.payload_mut().copy_from_slice(&PACKET[40..]);
        assert_eq!(buf, PACKET);
        assert_eq!(repr().buffer_len(), HEADER_LEN);
        for (i, ecn) in
            [EcnCodepoint::NotEct, EcnCodepoint::Ect0, EcnCodepoint::Ect1, EcnCodepoint::Ce].into_iter().enumerate()
        {
            let r = Ipv6Repr { ecn, dscp: i as u8 * 21, flow_label: 0xfffff - i as u32, hop_limit: 255, ..repr() };
            let mut buf = [0u8; 48];
            r.emit(&mut Ipv6Packet::new_unchecked(&mut buf[..]));
            assert_eq!(Ipv6Repr::parse(&Ipv6Packet::new_checked(&buf[..]).unwrap()).unwrap(), r);
        }
    }

    #[test]
    fn emit_cuts_fields_to_their_widths() {
        let r = Ipv6Repr { payload_len: 70_000, flow_label: 0xfff_ffff, dscp: 0xff, ..repr() };
        let mut buf = [0u8; 40];
        let mut p = Ipv6Packet::new_unchecked(&mut buf[..]);
        r.emit(&mut p);
        assert_eq!((p.version(), p.payload_len(), p.flow_label(), p.traffic_class()), (6, 65535, 0xfffff, 0xfd));
    }

    #[test]
    fn setters_keep_the_neighbouring_bits() {
        let mut buf = PACKET;
        let mut p = Ipv6Packet::new_unchecked(&mut buf[..]);
        p.set_ecn(EcnCodepoint::Ce);
        assert_eq!((p.traffic_class(), p.flow_label(), p.version()), (0xbb, 0x12345, 6));
        p.set_flow_label(0xabcde);
        assert_eq!((p.traffic_class(), p.flow_label(), p.version()), (0xbb, 0xabcde, 6));
        p.set_traffic_class(0x01);
        assert_eq!((p.traffic_class(), p.flow_label(), p.version()), (0x01, 0xabcde, 6));
    }

    #[test]
    fn every_truncation_is_an_error() {
        for len in 0..PACKET.len() {
            assert_eq!(Ipv6Packet::new_checked(&PACKET[..len]).unwrap_err(), Error::Truncated, "len {len}");
            assert_eq!(Ipv6Repr::parse(&Ipv6Packet::new_unchecked(&PACKET[..len])).unwrap_err(), Error::Truncated);
        }
    }

    #[test]
    fn padding_after_the_payload_is_ignored() {
        let mut buf = PACKET.to_vec();
        buf.extend_from_slice(&[0xee; 10]);
        let p = Ipv6Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(p.payload(), &PACKET[40..]);
    }

    #[test]
    fn version_4_and_multicast_sources_are_refused() {
        let mut buf = PACKET;
        buf[0] = 0x4b;
        assert_eq!(Ipv6Packet::new_checked(&buf[..]).unwrap_err(), Error::BadVersion);
        let mut buf = PACKET;
        buf[8] = 0xff;
        assert_eq!(Ipv6Repr::parse(&Ipv6Packet::new_checked(&buf[..]).unwrap()).unwrap_err(), Error::BadField);
    }

    #[test]
    fn protocol_constants_are_the_iana_numbers() {
        for (p, n) in [
            (IpProtocol::HOP_BY_HOP, 0u8),
            (IpProtocol::IPV6_ROUTE, 43),
            (IpProtocol::IPV6_FRAG, 44),
            (IpProtocol::ICMPV6, 58),
            (IpProtocol::IPV6_NO_NXT, 59),
            (IpProtocol::IPV6_OPTS, 60),
        ] {
            assert_eq!((u8::from(p), IpProtocol::from(n)), (n, p));
        }
    }

    #[test]
    fn fragment_header_round_trips() {
        let r =
            Ipv6FragmentRepr { next_header: IpProtocol::Tcp, frag_offset: 1448, more_frags: true, ident: 0xdead_beef };
        let mut buf = [0xffu8; 8];
        r.emit(&mut Ipv6FragmentHeader::new_unchecked(&mut buf[..]));
        assert_eq!(buf, [6, 0, 0x05, 0xa9, 0xde, 0xad, 0xbe, 0xef]);
        let view = Ipv6FragmentHeader::new_checked(&buf[..]).unwrap();
        assert_eq!(Ipv6FragmentRepr::parse(&view).unwrap(), r);
        assert!(!r.is_atomic());
        assert_eq!(r.buffer_len(), 8);
        for len in 0..8 {
            assert_eq!(Ipv6FragmentHeader::new_checked(&buf[..len]).unwrap_err(), Error::Truncated);
            assert_eq!(Ipv6FragmentRepr::parse(&Ipv6FragmentHeader::new_unchecked(&buf[..len])), Err(Error::Truncated));
        }
        // Reserved bits read as zero in the offset; offset bits below 8 are dropped when written.
        let mut h = Ipv6FragmentHeader::new_unchecked(&mut buf[..]);
        h.set_frag_offset_and_more(8 * 3 + 5, false);
        assert_eq!((h.frag_offset(), h.more_frags()), (24, false));
    }

    #[test]
    fn walk_finds_the_upper_layer_directly() {
        assert_eq!(
            walk_bytes(&PACKET).unwrap(),
            ExtHeaderWalk::Upper { protocol: IpProtocol::Udp, offset: 40, fragment: None }
        );
        let buf = packet(IpProtocol::IPV6_NO_NXT, DST, &[], &[1, 2, 3]);
        assert_eq!(walk_bytes(&buf).unwrap(), ExtHeaderWalk::NoNextHeader);
    }

    #[test]
    fn walk_through_a_chain_of_headers() {
        // Hop-by-hop (router alert, Pad1), destination options (PadN), routing with no segments left,
        // atomic fragment, destination options, then TCP.
        let mut headers = options_header(60, &[5, 2, 0, 0, 0]);
        headers.extend(options_header(43, &[1, 0]));
        headers.extend([44, 0, 0, 0, 0, 0, 0, 0]); // routing: type 0, segments left 0, 4 reserved
        headers.extend([60, 0, 0, 0, 0, 0, 0, 7]); // atomic fragment, ident 7
        headers.extend(options_header(6, &[]));
        let buf = packet(IpProtocol::HOP_BY_HOP, DST, &headers, &[0; 20]);
        let atomic =
            Ipv6FragmentRepr { next_header: IpProtocol::IPV6_OPTS, frag_offset: 0, more_frags: false, ident: 7 };
        assert_eq!(
            walk_bytes(&buf).unwrap(),
            ExtHeaderWalk::Upper { protocol: IpProtocol::Tcp, offset: 40 + headers.len(), fragment: Some(atomic) }
        );
    }

    #[test]
    fn walk_stops_at_a_fragment() {
        let headers = [17, 0, 0x05, 0xa9, 0, 0, 1, 0];
        let buf = packet(IpProtocol::IPV6_FRAG, DST, &headers, &[9; 16]);
        let fragment =
            Ipv6FragmentRepr { next_header: IpProtocol::Udp, frag_offset: 1448, more_frags: true, ident: 256 };
        assert_eq!(walk_bytes(&buf).unwrap(), ExtHeaderWalk::Fragment { fragment, offset: 48 });
        // A first fragment stops there too: its later headers are walked after reassembly.
        let buf = packet(IpProtocol::IPV6_FRAG, DST, &[60, 0, 0, 1, 0, 0, 1, 0], &[0; 8]);
        assert!(matches!(walk_bytes(&buf).unwrap(), ExtHeaderWalk::Fragment { offset: 48, .. }));
    }

    #[test]
    fn fragments_of_a_bad_length_are_problems() {
        let problem = |pointer| ExtHeaderWalk::ParameterProblem { code: ParamProblem::ErroneousHeaderField, pointer };
        // M set, 12 bytes of data: not a multiple of 8, the pointer names the payload length.
        let buf = packet(IpProtocol::IPV6_FRAG, DST, &[17, 0, 0, 1, 0, 0, 0, 1], &[0; 12]);
        assert_eq!(walk_bytes(&buf).unwrap(), problem(4));
        // The last fragment may end anywhere.
        let buf = packet(IpProtocol::IPV6_FRAG, DST, &[17, 0, 0, 8, 0, 0, 0, 1], &[0; 12]);
        assert!(matches!(walk_bytes(&buf).unwrap(), ExtHeaderWalk::Fragment { offset: 48, .. }));
        // Offset 65528 plus 16 bytes runs past 65535: the pointer names the fragment offset.
        let buf = packet(IpProtocol::IPV6_FRAG, DST, &[17, 0, 0xff, 0xf8, 0, 0, 0, 1], &[0; 16]);
        assert_eq!(walk_bytes(&buf).unwrap(), problem(42));
        let buf = packet(IpProtocol::IPV6_FRAG, DST, &[17, 0, 0xff, 0xf8, 0, 0, 0, 1], &[0; 7]);
        assert!(matches!(walk_bytes(&buf).unwrap(), ExtHeaderWalk::Fragment { .. }));
    }

    #[test]
    fn walk_from_continues_after_reassembly() {
        let dest = options_header(58, &[]);
        let start = WalkStart { first: IpProtocol::IPV6_OPTS, named_at: 40, base: 48 };
        assert_eq!(
            walk_from(start, &[&dest[..], &[128, 0, 0, 0]].concat(), false).unwrap(),
            ExtHeaderWalk::Upper { protocol: IpProtocol::ICMPV6, offset: 56, fragment: None }
        );
        // Hop-by-hop is not allowed there.
        let start = WalkStart { first: IpProtocol::HOP_BY_HOP, named_at: 40, base: 48 };
        assert_eq!(
            walk_from(start, &dest, false).unwrap(),
            ExtHeaderWalk::ParameterProblem { code: ParamProblem::UnrecognizedNextHeader, pointer: 40 }
        );
    }

    #[test]
    fn unknown_options_follow_the_action_bits() {
        // RFC 8200 §4.2: 00 skip, 01 discard, 10 problem, 11 problem unless the destination is multicast.
        let group = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
        let problem = ExtHeaderWalk::ParameterProblem { code: ParamProblem::UnrecognizedOption, pointer: 44 };
        for (ty, unicast, multicast) in [
            (0x1eu8, None, None),
            (0x5e, Some(ExtHeaderWalk::Discard { pointer: 44 }), Some(ExtHeaderWalk::Discard { pointer: 44 })),
            (0x9e, Some(problem), Some(problem)),
            (0xde, Some(problem), Some(ExtHeaderWalk::Discard { pointer: 44 })),
        ] {
            for first in [IpProtocol::HOP_BY_HOP, IpProtocol::IPV6_OPTS] {
                // Pad1, Pad1, then the unknown option at offset 40 + 4.
                let headers = options_header(17, &[0, 0, ty, 1, 0xaa]);
                for (dst, expected) in [(DST, unicast), (group, multicast)] {
                    let buf = packet(first, dst, &headers, &[0; 8]);
                    let upper = ExtHeaderWalk::Upper { protocol: IpProtocol::Udp, offset: 48, fragment: None };
                    assert_eq!(walk_bytes(&buf).unwrap(), expected.unwrap_or(upper), "type {ty:#x} to {dst}");
                }
            }
        }
    }

    #[test]
    fn routing_header_with_segments_left_is_a_problem_at_its_type() {
        for ty in [0u8, 2, 3, 4, 253] {
            // Destination options, then the routing header at offset 48: its type is at 50.
            let mut chain = options_header(43, &[]);
            chain.extend([6, 0, ty, 1, 0, 0, 0, 0]);
            let buf = packet(IpProtocol::IPV6_OPTS, DST, &chain, &[0; 20]);
            assert_eq!(
                walk_bytes(&buf).unwrap(),
                ExtHeaderWalk::ParameterProblem { code: ParamProblem::ErroneousHeaderField, pointer: 50 }
            );
        }
    }

    #[test]
    fn unrecognized_next_headers_point_at_the_field_that_names_them() {
        // Straight after the fixed header: pointer 6.
        let buf = packet(IpProtocol::Unknown(99), DST, &[], &[0; 8]);
        let expected =
            |pointer| ExtHeaderWalk::ParameterProblem { code: ParamProblem::UnrecognizedNextHeader, pointer };
        assert_eq!(walk_bytes(&buf).unwrap(), expected(6));
        // After a destination options header: its first byte.
        let buf = packet(IpProtocol::IPV6_OPTS, DST, &options_header(99, &[]), &[0; 8]);
        assert_eq!(walk_bytes(&buf).unwrap(), expected(40));
        // Hop-by-hop anywhere but first.
        let buf = packet(IpProtocol::IPV6_OPTS, DST, &options_header(0, &[]), &options_header(17, &[]));
        assert_eq!(walk_bytes(&buf).unwrap(), expected(40));
        // After an atomic fragment: the fragment header's next header.
        let buf = packet(IpProtocol::IPV6_FRAG, DST, &[4, 0, 0, 0, 0, 0, 0, 1], &[0; 20]);
        assert_eq!(walk_bytes(&buf).unwrap(), expected(40));
        // IPv4 protocols are not IPv6 upper layers.
        let buf = packet(IpProtocol::Icmp, DST, &[], &[0; 8]);
        assert_eq!(walk_bytes(&buf).unwrap(), expected(6));
    }

    #[test]
    fn malformed_extension_headers_are_errors() {
        // A header longer than the payload.
        let mut h = options_header(17, &[]);
        h[1] = 3;
        assert_eq!(walk_bytes(&packet(IpProtocol::IPV6_OPTS, DST, &h, &[])), Err(Error::Truncated));
        // Too short for even the two first bytes, or a fragment header.
        assert_eq!(walk_bytes(&packet(IpProtocol::IPV6_OPTS, DST, &[17], &[])), Err(Error::Truncated));
        assert_eq!(walk_bytes(&packet(IpProtocol::IPV6_FRAG, DST, &[17, 0, 0], &[])), Err(Error::Truncated));
        assert_eq!(walk_bytes(&packet(IpProtocol::IPV6_ROUTE, DST, &[17, 0, 0, 0], &[])), Err(Error::Truncated));
        // An option running past its header, and an option cut after its type.
        assert_eq!(
            walk_bytes(&packet(IpProtocol::IPV6_OPTS, DST, &[17, 0, 1, 5, 0, 0, 0, 0], &[])),
            Err(Error::BadOption)
        );
        assert_eq!(
            walk_bytes(&packet(IpProtocol::IPV6_OPTS, DST, &[17, 0, 0, 0, 0, 0, 0, 1], &[])),
            Err(Error::BadOption)
        );
    }

    #[test]
    fn the_walk_is_bounded() {
        // Eight destination options headers are walked; a ninth is too many.
        for (count, expected) in [
            (
                MAX_EXTENSION_HEADERS,
                Ok(ExtHeaderWalk::Upper { protocol: IpProtocol::Udp, offset: 40 + 64, fragment: None }),
            ),
            (MAX_EXTENSION_HEADERS + 1, Err(Error::Unsupported)),
            (200, Err(Error::Unsupported)),
        ] {
            let mut headers = Vec::new();
            for i in 0..count {
                headers.extend(options_header(if i + 1 == count { 17 } else { 60 }, &[]));
            }
            assert_eq!(walk_bytes(&packet(IpProtocol::IPV6_OPTS, DST, &headers, &[])), expected, "{count}");
        }
        // Atomic fragments count too.
        let mut headers = Vec::new();
        for _ in 0..20 {
            headers.extend([44, 0, 0, 0, 0, 0, 0, 0]);
        }
        assert_eq!(walk_bytes(&packet(IpProtocol::IPV6_FRAG, DST, &headers, &[])), Err(Error::Unsupported));
    }

    #[test]
    fn derived_addresses() {
        // RFC 4291 App. A: ff:fe in the middle, the universal/local bit (0x02 of the first byte) inverted.
        let mac = EthernetAddress([0x00, 0x1b, 0x21, 0x3a, 0x4c, 0x5d]);
        assert_eq!(eui64_interface_id(mac), [0x02, 0x1b, 0x21, 0xff, 0xfe, 0x3a, 0x4c, 0x5d]);
        assert_eq!(link_local_from_mac(mac), "fe80::21b:21ff:fe3a:4c5d".parse::<Ipv6Addr>().unwrap());
        let prefix: Ipv6Addr = "2001:db8:1:2::".parse().unwrap();
        assert_eq!(address_from_mac(&prefix, mac), "2001:db8:1:2:21b:21ff:fe3a:4c5d".parse::<Ipv6Addr>().unwrap());
        let addr: Ipv6Addr = "2001:db8::abcd:1234:5678".parse().unwrap();
        let group = solicited_node(&addr);
        assert_eq!(group, "ff02::1:ff34:5678".parse::<Ipv6Addr>().unwrap());
        assert!(is_solicited_node(&group));
        assert!(!is_solicited_node(&ALL_NODES));
        assert!(!is_solicited_node(&addr));
        assert_eq!(multicast_mac(&group), EthernetAddress([0x33, 0x33, 0xff, 0x34, 0x56, 0x78]));
        assert_eq!(multicast_mac(&ALL_NODES), EthernetAddress([0x33, 0x33, 0, 0, 0, 1]));
        assert!(is_link_local(&SRC));
        assert!(is_link_local(&"febf::1".parse().unwrap()));
        assert!(!is_link_local(&"fec0::1".parse().unwrap()));
        assert!(!is_link_local(&DST));
    }

    #[test]
    fn param_problem_codes_convert_both_ways() {
        for code in 0..=255u8 {
            assert_eq!(u8::from(ParamProblem::from(code)), code);
        }
    }

    proptest! {
        #[test]
        fn parsing_and_walking_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut bytes = bytes;
            if bytes.len() >= HEADER_LEN {
                // Mostly well-formed fixed headers, so the walk gets exercised.
                bytes[0] = 0x60 | (bytes[0] & 0x0f);
                let len = (bytes.len() - HEADER_LEN) as u16;
                let claimed = u16::from_be_bytes([bytes[4], bytes[5]]);
                bytes[4..6].copy_from_slice(&len.min(claimed).to_be_bytes());
            }
            let view = Ipv6Packet::new_unchecked(&bytes[..]);
            let _ = Ipv6Repr::parse(&view);
            if let Ok(view) = Ipv6Packet::new_checked(&bytes[..]) {
                match walk(&view) {
                    Ok(ExtHeaderWalk::Upper { offset, .. } | ExtHeaderWalk::Fragment { offset, .. }) => {
                        prop_assert!(offset <= HEADER_LEN + view.payload().len());
                    }
                    Ok(ExtHeaderWalk::ParameterProblem { pointer, .. } | ExtHeaderWalk::Discard { pointer }) => {
                        prop_assert!(pointer < HEADER_LEN + view.payload().len());
                    }
                    _ => {}
                }
            }
            let _ = Ipv6FragmentRepr::parse(&Ipv6FragmentHeader::new_unchecked(&bytes[..]));
        }

        #[test]
        fn repr_round_trips(src in any::<[u8; 16]>(), dst in any::<[u8; 16]>(), next in any::<u8>(), len in 0usize..=65535,
                            hop_limit in any::<u8>(), dscp in 0u8..64, ecn in 0u8..4, flow_label in 0u32..(1 << 20)) {
            let mut src = src;
            src[0] &= 0xfe; // not multicast
            let r = Ipv6Repr {
                src_addr: src.into(),
                dst_addr: dst.into(),
                next_header: next.into(),
                payload_len: len,
                hop_limit,
                dscp,
                ecn: EcnCodepoint::from_bits(ecn),
                flow_label,
            };
            let mut buf = vec![0u8; HEADER_LEN + len];
            r.emit(&mut Ipv6Packet::new_unchecked(&mut buf[..]));
            prop_assert_eq!(Ipv6Repr::parse(&Ipv6Packet::new_checked(&buf[..]).unwrap()).unwrap(), r);
        }

        #[test]
        fn fragment_repr_round_trips(next in any::<u8>(), units in 0u16..8192, more_frags in any::<bool>(), ident in any::<u32>()) {
            let r = Ipv6FragmentRepr { next_header: next.into(), frag_offset: units * 8, more_frags, ident };
            let mut buf = [0u8; 8];
            r.emit(&mut Ipv6FragmentHeader::new_unchecked(&mut buf[..]));
            prop_assert_eq!(Ipv6FragmentRepr::parse(&Ipv6FragmentHeader::new_checked(&buf[..]).unwrap()).unwrap(), r);
        }
    }
}
