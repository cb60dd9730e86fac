//! IPv6 header (RFC 8200 §3) and the fragment header (§4.5); the walk over the extension headers is in
//! `extension`, the addresses a host derives from its MAC in `address` (both re-exported here).

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

mod address;
mod extension;
pub use address::{
    address_from_mac, eui64_interface_id, is_link_local, is_solicited_node, link_local_from_mac, multicast_mac,
    solicited_node,
};
pub use extension::{walk, walk_from, ExtHeaderWalk, ParamProblem, WalkStart};

/// Addresses and packets the tests of this module and of its children build.
#[cfg(test)]
mod test_support {
    use super::*;

    pub(super) const SRC: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0x0200, 0x00ff, 0xfe00, 0x0001);
    pub(super) const DST: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);

    /// An IPv6 header (traffic class 0xb9: DSCP 46 = EF, ECN ECT(1); flow label 0x12345) carrying 8 bytes of UDP.
    pub(super) const PACKET: [u8; 48] = [
        0x6b, 0x91, 0x23, 0x45, // version 6, TC 0xb9, flow 0x12345
        0x00, 0x08, 17, 64, // payload length 8, next header UDP, hop limit 64
        0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x01, // source
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, // destination
        0x9c, 0x40, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00, // payload
    ];

    pub(super) fn repr() -> Ipv6Repr {
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
    pub(super) fn packet(first: IpProtocol, dst: Ipv6Addr, headers: &[u8], upper: &[u8]) -> Vec<u8> {
        let r = Ipv6Repr { next_header: first, dst_addr: dst, payload_len: headers.len() + upper.len(), ..repr() };
        let mut buf = vec![0u8; HEADER_LEN + r.payload_len];
        r.emit(&mut Ipv6Packet::new_unchecked(&mut buf[..]));
        buf[HEADER_LEN..HEADER_LEN + headers.len()].copy_from_slice(headers);
        buf[HEADER_LEN + headers.len()..].copy_from_slice(upper);
        buf
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::{repr, DST, PACKET, SRC};
    use super::*;
    use proptest::prelude::*;

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
