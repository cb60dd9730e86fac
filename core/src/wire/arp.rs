//! ARP (RFC 826), resolving IPv4 addresses to Ethernet addresses.
//!
//! The view reads any hardware/protocol combination (address fields are sized by `hlen`/`plen`); the
//! [`ArpRepr`] and the setters only speak Ethernet + IPv4, the one combination this stack uses.

use super::ethernet::{EtherType, EthernetAddress};
use super::{Error, Result};
use core::net::Ipv4Addr;

/// What an ARP packet asks or answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ArpOperation {
    Request,
    Reply,
    Unknown(u16),
}

impl From<u16> for ArpOperation {
    fn from(v: u16) -> Self {
        match v {
            1 => ArpOperation::Request,
            2 => ArpOperation::Reply,
            other => ArpOperation::Unknown(other),
        }
    }
}

impl From<ArpOperation> for u16 {
    fn from(op: ArpOperation) -> u16 {
        match op {
            ArpOperation::Request => 1,
            ArpOperation::Reply => 2,
            ArpOperation::Unknown(other) => other,
        }
    }
}

mod field {
    use core::ops::Range;

    pub const HTYPE: Range<usize> = 0..2;
    pub const PTYPE: Range<usize> = 2..4;
    pub const HLEN: usize = 4;
    pub const PLEN: usize = 5;
    pub const OPER: Range<usize> = 6..8;
    /// Start of the four variable-length address fields.
    pub const ADDRS: usize = 8;

    // The address fields, whose positions depend on the hardware and protocol address lengths.
    pub fn sha(hlen: usize, _plen: usize) -> Range<usize> {
        ADDRS..ADDRS + hlen
    }
    pub fn spa(hlen: usize, plen: usize) -> Range<usize> {
        let start = sha(hlen, plen).end;
        start..start + plen
    }
    pub fn tha(hlen: usize, plen: usize) -> Range<usize> {
        let start = spa(hlen, plen).end;
        start..start + hlen
    }
    pub fn tpa(hlen: usize, plen: usize) -> Range<usize> {
        let start = tha(hlen, plen).end;
        start..start + plen
    }

    // The same fields for Ethernet (6-byte) hardware and IPv4 (4-byte) protocol addresses.
    pub const ETH_IPV4_SHA: Range<usize> = 8..14;
    pub const ETH_IPV4_SPA: Range<usize> = 14..18;
    pub const ETH_IPV4_THA: Range<usize> = 18..24;
    pub const ETH_IPV4_TPA: Range<usize> = 24..28;
}

/// ARP hardware type for Ethernet.
const HTYPE_ETHERNET: u16 = 1;
/// Length of an Ethernet address, ARP's `hlen` for Ethernet.
const ETHERNET_ADDR_LEN: u8 = 6;
/// Length of an IPv4 address, ARP's `plen` for IPv4.
const IPV4_ADDR_LEN: u8 = 4;

/// Length of an Ethernet/IPv4 ARP packet.
const ETH_IPV4_PACKET_LEN: usize = field::ETH_IPV4_TPA.end;

/// A read/write view of an ARP packet.
#[derive(Debug, Clone)]
pub struct ArpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> ArpPacket<T> {
    /// Wraps a buffer without checking it; use only on buffers sized by the caller (e.g. when emitting).
    pub fn new_unchecked(buffer: T) -> Self {
        ArpPacket { buffer }
    }

    /// Wraps a buffer after checking it holds the fixed header and all four addresses it declares.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let packet = ArpPacket { buffer };
        packet.check_len()?;
        Ok(packet)
    }

    /// Makes every accessor in-bounds: the fixed part, then the address lengths it declares.
    fn check_len(&self) -> Result<()> {
        let buf = self.buffer.as_ref();
        if buf.len() < field::ADDRS {
            return Err(Error::Truncated);
        }
        let (hlen, plen) = self.addr_lens();
        if buf.len() < field::tpa(hlen, plen).end {
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

    fn addr_lens(&self) -> (usize, usize) {
        (usize::from(self.hardware_len()), usize::from(self.protocol_len()))
    }

    pub fn hardware_type(&self) -> u16 {
        self.read_u16(field::HTYPE)
    }

    /// An EtherType value naming the protocol whose addresses are resolved (0x0800 for IPv4).
    pub fn protocol_type(&self) -> u16 {
        self.read_u16(field::PTYPE)
    }

    pub fn hardware_len(&self) -> u8 {
        self.buffer.as_ref()[field::HLEN]
    }

    pub fn protocol_len(&self) -> u8 {
        self.buffer.as_ref()[field::PLEN]
    }

    pub fn operation(&self) -> ArpOperation {
        ArpOperation::from(self.read_u16(field::OPER))
    }

    pub fn source_hardware_addr(&self) -> &[u8] {
        let (h, p) = self.addr_lens();
        &self.buffer.as_ref()[field::sha(h, p)]
    }

    pub fn source_protocol_addr(&self) -> &[u8] {
        let (h, p) = self.addr_lens();
        &self.buffer.as_ref()[field::spa(h, p)]
    }

    pub fn target_hardware_addr(&self) -> &[u8] {
        let (h, p) = self.addr_lens();
        &self.buffer.as_ref()[field::tha(h, p)]
    }

    pub fn target_protocol_addr(&self) -> &[u8] {
        let (h, p) = self.addr_lens();
        &self.buffer.as_ref()[field::tpa(h, p)]
    }
}

/// Setters write the Ethernet/IPv4 layout (hlen 6, plen 4) regardless of the length fields.
impl<T: AsRef<[u8]> + AsMut<[u8]>> ArpPacket<T> {
    fn write_u16(&mut self, range: core::ops::Range<usize>, value: u16) {
        self.buffer.as_mut()[range].copy_from_slice(&value.to_be_bytes());
    }

    pub fn set_hardware_type(&mut self, value: u16) {
        self.write_u16(field::HTYPE, value);
    }

    pub fn set_protocol_type(&mut self, value: u16) {
        self.write_u16(field::PTYPE, value);
    }

    pub fn set_hardware_len(&mut self, value: u8) {
        self.buffer.as_mut()[field::HLEN] = value;
    }

    pub fn set_protocol_len(&mut self, value: u8) {
        self.buffer.as_mut()[field::PLEN] = value;
    }

    pub fn set_operation(&mut self, op: ArpOperation) {
        self.write_u16(field::OPER, op.into());
    }

    pub fn set_source_hardware_addr(&mut self, addr: EthernetAddress) {
        self.buffer.as_mut()[field::ETH_IPV4_SHA].copy_from_slice(addr.as_bytes());
    }

    pub fn set_source_protocol_addr(&mut self, addr: Ipv4Addr) {
        self.buffer.as_mut()[field::ETH_IPV4_SPA].copy_from_slice(&addr.octets());
    }

    pub fn set_target_hardware_addr(&mut self, addr: EthernetAddress) {
        self.buffer.as_mut()[field::ETH_IPV4_THA].copy_from_slice(addr.as_bytes());
    }

    pub fn set_target_protocol_addr(&mut self, addr: Ipv4Addr) {
        self.buffer.as_mut()[field::ETH_IPV4_TPA].copy_from_slice(&addr.octets());
    }
}

/// An Ethernet/IPv4 ARP request or reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArpRepr {
    pub operation: ArpOperation,
    pub source_hardware_addr: EthernetAddress,
    pub source_protocol_addr: Ipv4Addr,
    pub target_hardware_addr: EthernetAddress,
    pub target_protocol_addr: Ipv4Addr,
}

impl ArpRepr {
    /// Decodes an Ethernet/IPv4 request or reply; anything else is well-formed but [`Error::Unsupported`].
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &ArpPacket<&T>) -> Result<Self> {
        // The view may have come from `new_unchecked`; re-check so parsing never panics.
        packet.check_len()?;
        if packet.hardware_type() != HTYPE_ETHERNET
            || packet.protocol_type() != u16::from(EtherType::Ipv4)
            || packet.hardware_len() != ETHERNET_ADDR_LEN
            || packet.protocol_len() != IPV4_ADDR_LEN
        {
            return Err(Error::Unsupported);
        }
        let operation = match packet.operation() {
            op @ (ArpOperation::Request | ArpOperation::Reply) => op,
            ArpOperation::Unknown(_) => return Err(Error::Unsupported),
        };
        Ok(ArpRepr {
            operation,
            source_hardware_addr: mac(packet.source_hardware_addr())?,
            source_protocol_addr: ipv4(packet.source_protocol_addr())?,
            target_hardware_addr: mac(packet.target_hardware_addr())?,
            target_protocol_addr: ipv4(packet.target_protocol_addr())?,
        })
    }

    pub fn buffer_len(&self) -> usize {
        ETH_IPV4_PACKET_LEN
    }

    /// Writes the whole packet; the buffer must hold at least [`ArpRepr::buffer_len`] bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut ArpPacket<T>) {
        packet.set_hardware_type(HTYPE_ETHERNET);
        packet.set_protocol_type(EtherType::Ipv4.into());
        packet.set_hardware_len(ETHERNET_ADDR_LEN);
        packet.set_protocol_len(IPV4_ADDR_LEN);
        packet.set_operation(self.operation);
        packet.set_source_hardware_addr(self.source_hardware_addr);
        packet.set_source_protocol_addr(self.source_protocol_addr);
        packet.set_target_hardware_addr(self.target_hardware_addr);
        packet.set_target_protocol_addr(self.target_protocol_addr);
    }
}

// Slice-to-address conversions; the lengths were validated in `parse`, so these cannot fail in practice,
// but returning an error keeps the no-panic guarantee local.
fn mac(b: &[u8]) -> Result<EthernetAddress> {
    EthernetAddress::from_bytes(b).ok_or(Error::Truncated)
}

fn ipv4(b: &[u8]) -> Result<Ipv4Addr> {
    <[u8; 4]>::try_from(b).map(Ipv4Addr::from).map_err(|_| Error::Truncated)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "Who has 192.168.1.1? Tell 192.168.1.100", as sent by 00:1a:2b:3c:4d:5e.
    const REQUEST: [u8; 28] = [
        0x00, 0x01, // htype Ethernet
        0x08, 0x00, // ptype IPv4
        0x06, 0x04, // hlen, plen
        0x00, 0x01, // request
        0x00, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e, // sender MAC
        0xc0, 0xa8, 0x01, 0x64, // sender IP
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // target MAC (unknown)
        0xc0, 0xa8, 0x01, 0x01, // target IP
    ];

    /// The answer: "192.168.1.1 is at 52:54:00:aa:bb:cc".
    const REPLY: [u8; 28] = [
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, //
        0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc, 0xc0, 0xa8, 0x01, 0x01, //
        0x00, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e, 0xc0, 0xa8, 0x01, 0x64,
    ];

    fn request_repr() -> ArpRepr {
        ArpRepr {
            operation: ArpOperation::Request,
            source_hardware_addr: EthernetAddress([0x00, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e]),
            source_protocol_addr: Ipv4Addr::new(192, 168, 1, 100),
            target_hardware_addr: EthernetAddress([0; 6]),
            target_protocol_addr: Ipv4Addr::new(192, 168, 1, 1),
        }
    }

    fn reply_repr() -> ArpRepr {
        ArpRepr {
            operation: ArpOperation::Reply,
            source_hardware_addr: EthernetAddress([0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc]),
            source_protocol_addr: Ipv4Addr::new(192, 168, 1, 1),
            target_hardware_addr: EthernetAddress([0x00, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e]),
            target_protocol_addr: Ipv4Addr::new(192, 168, 1, 100),
        }
    }

    #[test]
    fn parse_known_request() {
        let p = ArpPacket::new_checked(&REQUEST[..]).unwrap();
        assert_eq!(p.hardware_type(), 1);
        assert_eq!(p.protocol_type(), 0x0800);
        assert_eq!(p.hardware_len(), 6);
        assert_eq!(p.protocol_len(), 4);
        assert_eq!(p.operation(), ArpOperation::Request);
        assert_eq!(p.source_hardware_addr(), &[0x00, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e]);
        assert_eq!(p.source_protocol_addr(), &[192, 168, 1, 100]);
        assert_eq!(p.target_hardware_addr(), &[0; 6]);
        assert_eq!(p.target_protocol_addr(), &[192, 168, 1, 1]);
        assert_eq!(ArpRepr::parse(&p).unwrap(), request_repr());
    }

    #[test]
    fn parse_known_reply() {
        let p = ArpPacket::new_checked(&REPLY[..]).unwrap();
        assert_eq!(ArpRepr::parse(&p).unwrap(), reply_repr());
    }

    #[test]
    fn parse_ignores_trailing_padding() {
        let mut padded = [0u8; 46];
        padded[..28].copy_from_slice(&REQUEST);
        let p = ArpPacket::new_checked(&padded[..]).unwrap();
        assert_eq!(ArpRepr::parse(&p).unwrap(), request_repr());
    }

    #[test]
    fn emit_matches_known_bytes() {
        for (repr, bytes) in [(request_repr(), REQUEST), (reply_repr(), REPLY)] {
            let mut buf = [0xeeu8; 28];
            assert_eq!(repr.buffer_len(), buf.len());
            repr.emit(&mut ArpPacket::new_unchecked(&mut buf[..]));
            assert_eq!(buf, bytes);
        }
    }

    #[test]
    fn round_trip() {
        for repr in [request_repr(), reply_repr()] {
            let mut buf = vec![0u8; repr.buffer_len()];
            repr.emit(&mut ArpPacket::new_unchecked(&mut buf[..]));
            let p = ArpPacket::new_checked(&buf[..]).unwrap();
            assert_eq!(ArpRepr::parse(&p).unwrap(), repr);
        }
    }

    #[test]
    fn every_truncation_is_an_error() {
        for len in 0..REQUEST.len() {
            let short = &REQUEST[..len];
            assert_eq!(ArpPacket::new_checked(short).unwrap_err(), Error::Truncated, "len {len}");
            let unchecked = ArpPacket::new_unchecked(short);
            assert_eq!(ArpRepr::parse(&unchecked).unwrap_err(), Error::Truncated, "len {len}");
        }
    }

    #[test]
    fn declared_lengths_bound_the_check() {
        // hlen 255/plen 255 claims 8 + 2*255 + 2*255 bytes.
        let mut buf = [0u8; 1028];
        buf[..28].copy_from_slice(&REQUEST);
        buf[4] = 255;
        buf[5] = 255;
        assert_eq!(ArpPacket::new_checked(&buf[..1027]).unwrap_err(), Error::Truncated);
        let p = ArpPacket::new_checked(&buf[..]).unwrap();
        assert_eq!(p.source_hardware_addr().len(), 255);
        assert_eq!(p.target_protocol_addr().len(), 255);
        assert_eq!(ArpRepr::parse(&p).unwrap_err(), Error::Unsupported);
    }

    #[test]
    fn other_hardware_lengths_are_read_but_unsupported() {
        // hlen 8 (e.g. a 64-bit hardware address): 8 + 2*8 + 2*4 = 32 bytes.
        let mut buf = [0u8; 32];
        buf[..8].copy_from_slice(&[0x00, 0x01, 0x08, 0x00, 0x08, 0x04, 0x00, 0x01]);
        buf[8..16].copy_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        buf[16..20].copy_from_slice(&[10, 0, 0, 1]);
        buf[28..32].copy_from_slice(&[10, 0, 0, 2]);
        assert_eq!(ArpPacket::new_checked(&buf[..31]).unwrap_err(), Error::Truncated);
        let p = ArpPacket::new_checked(&buf[..]).unwrap();
        assert_eq!(p.source_hardware_addr(), &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(p.source_protocol_addr(), &[10, 0, 0, 1]);
        assert_eq!(p.target_hardware_addr(), &[0; 8]);
        assert_eq!(p.target_protocol_addr(), &[10, 0, 0, 2]);
        assert_eq!(ArpRepr::parse(&p).unwrap_err(), Error::Unsupported);
    }

    #[test]
    fn ipv6_protocol_type_is_unsupported() {
        let mut buf = REQUEST;
        buf[2..4].copy_from_slice(&0x86ddu16.to_be_bytes());
        let p = ArpPacket::new_checked(&buf[..]).unwrap();
        assert_eq!(ArpRepr::parse(&p).unwrap_err(), Error::Unsupported);
    }

    #[test]
    fn other_hardware_type_is_unsupported() {
        let mut buf = REQUEST;
        buf[0..2].copy_from_slice(&6u16.to_be_bytes()); // IEEE 802
        let p = ArpPacket::new_checked(&buf[..]).unwrap();
        assert_eq!(ArpRepr::parse(&p).unwrap_err(), Error::Unsupported);
    }

    #[test]
    fn other_protocol_len_is_unsupported() {
        let mut buf = REQUEST;
        buf[5] = 3; // 8 + 12 + 6 = 26 bytes, fits
        let p = ArpPacket::new_checked(&buf[..]).unwrap();
        assert_eq!(ArpRepr::parse(&p).unwrap_err(), Error::Unsupported);
    }

    #[test]
    fn unknown_operation_is_unsupported() {
        let mut buf = REQUEST;
        buf[6..8].copy_from_slice(&3u16.to_be_bytes()); // RARP request
        let p = ArpPacket::new_checked(&buf[..]).unwrap();
        assert_eq!(p.operation(), ArpOperation::Unknown(3));
        assert_eq!(ArpRepr::parse(&p).unwrap_err(), Error::Unsupported);
    }

    #[test]
    fn operation_conversions() {
        assert_eq!(ArpOperation::from(1), ArpOperation::Request);
        assert_eq!(ArpOperation::from(2), ArpOperation::Reply);
        assert_eq!(ArpOperation::from(9), ArpOperation::Unknown(9));
        for v in [0u16, 1, 2, 3, 0xffff] {
            assert_eq!(u16::from(ArpOperation::from(v)), v);
        }
    }

    #[test]
    fn setters_write_each_field() {
        let mut buf = [0u8; 28];
        let mut p = ArpPacket::new_unchecked(&mut buf[..]);
        p.set_hardware_type(0x0102);
        p.set_protocol_type(0x0304);
        p.set_hardware_len(6);
        p.set_protocol_len(4);
        p.set_operation(ArpOperation::Unknown(0x0506));
        p.set_source_hardware_addr(EthernetAddress([1, 2, 3, 4, 5, 6]));
        p.set_source_protocol_addr(Ipv4Addr::new(7, 8, 9, 10));
        p.set_target_hardware_addr(EthernetAddress([11, 12, 13, 14, 15, 16]));
        p.set_target_protocol_addr(Ipv4Addr::new(17, 18, 19, 20));
        let p = ArpPacket::new_checked(p.into_inner()).unwrap();
        assert_eq!(p.hardware_type(), 0x0102);
        assert_eq!(p.protocol_type(), 0x0304);
        assert_eq!(p.operation(), ArpOperation::Unknown(0x0506));
        assert_eq!(p.source_hardware_addr(), &[1, 2, 3, 4, 5, 6]);
        assert_eq!(p.source_protocol_addr(), &[7, 8, 9, 10]);
        assert_eq!(p.target_hardware_addr(), &[11, 12, 13, 14, 15, 16]);
        assert_eq!(p.target_protocol_addr(), &[17, 18, 19, 20]);
    }
}
