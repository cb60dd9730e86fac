//! Ethernet II frames (IEEE 802.3 with an EtherType), without preamble or FCS.

use super::{Error, Result};
use core::fmt;
use core::str::FromStr;

/// A 48-bit IEEE MAC address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EthernetAddress(pub [u8; 6]);

impl EthernetAddress {
    /// ff:ff:ff:ff:ff:ff, which every station on the segment receives (ARP requests go here).
    pub const BROADCAST: EthernetAddress = EthernetAddress([0xff; 6]);

    /// Builds an address from a slice; `None` unless it is exactly six bytes long.
    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        <[u8; 6]>::try_from(b).ok().map(EthernetAddress)
    }

    pub fn as_bytes(&self) -> &[u8; 6] {
        &self.0
    }

    pub fn is_broadcast(&self) -> bool {
        *self == Self::BROADCAST
    }

    /// The I/G bit (least significant bit of the first octet) marks group addresses, broadcast included.
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 0x01 != 0
    }

    pub fn is_unicast(&self) -> bool {
        !self.is_multicast()
    }
}

impl fmt::Display for EthernetAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        write!(f, "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", b[0], b[1], b[2], b[3], b[4], b[5])
    }
}

/// The text was not six colon-separated groups of two hex digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseEthernetAddressError;

impl fmt::Display for ParseEthernetAddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid Ethernet address (expected xx:xx:xx:xx:xx:xx)")
    }
}

impl std::error::Error for ParseEthernetAddressError {}

impl FromStr for EthernetAddress {
    type Err = ParseEthernetAddressError;

    fn from_str(s: &str) -> core::result::Result<Self, Self::Err> {
        let mut out = [0u8; 6];
        let mut groups = s.split(':');
        for byte in out.iter_mut() {
            let group = groups.next().ok_or(ParseEthernetAddressError)?;
            // `from_str_radix` alone would accept a leading '+', so insist on exactly two hex digits.
            if group.len() != 2 || !group.bytes().all(|c| c.is_ascii_hexdigit()) {
                return Err(ParseEthernetAddressError);
            }
            *byte = u8::from_str_radix(group, 16).map_err(|_| ParseEthernetAddressError)?;
        }
        if groups.next().is_some() {
            return Err(ParseEthernetAddressError);
        }
        Ok(EthernetAddress(out))
    }
}

/// The protocol carried in the frame payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EtherType {
    Ipv4,
    Arp,
    Ipv6,
    Unknown(u16),
}

impl From<u16> for EtherType {
    fn from(v: u16) -> Self {
        match v {
            0x0800 => EtherType::Ipv4,
            0x0806 => EtherType::Arp,
            0x86dd => EtherType::Ipv6,
            other => EtherType::Unknown(other),
        }
    }
}

impl From<EtherType> for u16 {
    fn from(t: EtherType) -> u16 {
        match t {
            EtherType::Ipv4 => 0x0800,
            EtherType::Arp => 0x0806,
            EtherType::Ipv6 => 0x86dd,
            EtherType::Unknown(other) => other,
        }
    }
}

mod field {
    use core::ops::Range;

    pub const DST_ADDR: Range<usize> = 0..6;
    pub const SRC_ADDR: Range<usize> = 6..12;
    pub const ETHERTYPE: Range<usize> = 12..14;
    pub const PAYLOAD: usize = 14;
}

/// Length of the Ethernet II header (two addresses and the EtherType).
pub const HEADER_LEN: usize = field::PAYLOAD;

/// Smallest legal frame, excluding the 4-byte FCS: 64 bytes on the wire minus FCS.
pub const MIN_FRAME_LEN: usize = 60;

/// Size of a frame carrying `payload_len` bytes, including the zero padding up to [`MIN_FRAME_LEN`].
pub fn frame_len(payload_len: usize) -> usize {
    (HEADER_LEN + payload_len).max(MIN_FRAME_LEN)
}

/// A read/write view of an Ethernet II frame.
#[derive(Debug, Clone)]
pub struct EthernetFrame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> EthernetFrame<T> {
    /// Wraps a buffer without checking it; accessors index directly, so use only on buffers known to hold
    /// at least [`HEADER_LEN`] bytes (e.g. when emitting).
    pub fn new_unchecked(buffer: T) -> Self {
        EthernetFrame { buffer }
    }

    /// Wraps a buffer after checking it holds a whole header, so that accessors cannot go out of bounds.
    pub fn new_checked(buffer: T) -> Result<Self> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(EthernetFrame { buffer })
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn dst_addr(&self) -> EthernetAddress {
        let mut a = [0u8; 6];
        a.copy_from_slice(&self.buffer.as_ref()[field::DST_ADDR]);
        EthernetAddress(a)
    }

    pub fn src_addr(&self) -> EthernetAddress {
        let mut a = [0u8; 6];
        a.copy_from_slice(&self.buffer.as_ref()[field::SRC_ADDR]);
        EthernetAddress(a)
    }

    pub fn ethertype(&self) -> EtherType {
        let b = &self.buffer.as_ref()[field::ETHERTYPE];
        EtherType::from(u16::from_be_bytes([b[0], b[1]]))
    }

    /// Everything after the header, including any padding: only the inner protocol knows its own length.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[field::PAYLOAD..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> EthernetFrame<T> {
    pub fn set_dst_addr(&mut self, addr: EthernetAddress) {
        self.buffer.as_mut()[field::DST_ADDR].copy_from_slice(addr.as_bytes());
    }

    pub fn set_src_addr(&mut self, addr: EthernetAddress) {
        self.buffer.as_mut()[field::SRC_ADDR].copy_from_slice(addr.as_bytes());
    }

    pub fn set_ethertype(&mut self, ethertype: EtherType) {
        self.buffer.as_mut()[field::ETHERTYPE].copy_from_slice(&u16::from(ethertype).to_be_bytes());
    }

    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::PAYLOAD..]
    }
}

/// The decoded Ethernet II header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EthernetRepr {
    pub src_addr: EthernetAddress,
    pub dst_addr: EthernetAddress,
    pub ethertype: EtherType,
}

impl EthernetRepr {
    /// Reads the header. Every field value is acceptable here; filtering by address is the caller's job.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(frame: &EthernetFrame<&T>) -> Result<Self> {
        // The view may have come from `new_unchecked`; re-check so parsing never panics.
        if frame.buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(EthernetRepr { src_addr: frame.src_addr(), dst_addr: frame.dst_addr(), ethertype: frame.ethertype() })
    }

    /// Header bytes only; see [`frame_len`] for the padded size of a whole frame.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header; the payload (and any padding) is the caller's.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, frame: &mut EthernetFrame<T>) {
        frame.set_dst_addr(self.dst_addr);
        frame.set_src_addr(self.src_addr);
        frame.set_ethertype(self.ethertype);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A broadcast ARP frame as captured on a LAN: header, 28-byte ARP body, 18 bytes of zero padding.
    const FRAME: [u8; 60] = [
        // dst ff:ff:ff:ff:ff:ff
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, //
        // src 52:54:00:12:34:56
        0x52, 0x54, 0x00, 0x12, 0x34, 0x56, //
        // EtherType ARP
        0x08, 0x06, //
        // ARP request who-has 10.0.0.1 tell 10.0.0.2
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, //
        0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x0a, 0x00, 0x00, 0x02, //
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x01, //
        // padding
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];

    fn repr() -> EthernetRepr {
        EthernetRepr {
            src_addr: EthernetAddress([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]),
            dst_addr: EthernetAddress::BROADCAST,
            ethertype: EtherType::Arp,
        }
    }

    #[test]
    fn parse_known_frame() {
        let frame = EthernetFrame::new_checked(&FRAME[..]).unwrap();
        assert_eq!(frame.dst_addr(), EthernetAddress::BROADCAST);
        assert_eq!(frame.src_addr(), EthernetAddress([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]));
        assert_eq!(frame.ethertype(), EtherType::Arp);
        assert_eq!(frame.payload().len(), 46);
        assert_eq!(&frame.payload()[..8], &[0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01]);
        assert_eq!(EthernetRepr::parse(&frame).unwrap(), repr());
    }

    #[test]
    fn emit_matches_known_frame() {
        let r = repr();
        let mut buf = [0u8; 60];
        let mut frame = EthernetFrame::new_unchecked(&mut buf[..]);
        r.emit(&mut frame);
        frame.payload_mut()[..28].copy_from_slice(&FRAME[14..42]);
        assert_eq!(r.buffer_len(), HEADER_LEN);
        assert_eq!(buf, FRAME);
    }

    #[test]
    fn round_trip() {
        for ethertype in [EtherType::Ipv4, EtherType::Arp, EtherType::Ipv6, EtherType::Unknown(0x88cc)] {
            let r = EthernetRepr {
                src_addr: EthernetAddress([0x02, 0, 0, 0, 0, 1]),
                dst_addr: EthernetAddress([0x02, 0, 0, 0, 0, 2]),
                ethertype,
            };
            let mut buf = vec![0u8; r.buffer_len()];
            r.emit(&mut EthernetFrame::new_unchecked(&mut buf[..]));
            let frame = EthernetFrame::new_checked(&buf[..]).unwrap();
            assert_eq!(EthernetRepr::parse(&frame).unwrap(), r);
            assert!(frame.payload().is_empty());
        }
    }

    #[test]
    fn every_truncation_is_an_error() {
        for len in 0..HEADER_LEN {
            assert_eq!(EthernetFrame::new_checked(&FRAME[..len]).unwrap_err(), Error::Truncated, "len {len}");
            let unchecked = EthernetFrame::new_unchecked(&FRAME[..len]);
            assert_eq!(EthernetRepr::parse(&unchecked).unwrap_err(), Error::Truncated, "len {len}");
        }
        assert!(EthernetFrame::new_checked(&FRAME[..HEADER_LEN]).is_ok());
    }

    #[test]
    fn ethertype_conversions() {
        assert_eq!(EtherType::from(0x0800), EtherType::Ipv4);
        assert_eq!(EtherType::from(0x0806), EtherType::Arp);
        assert_eq!(EtherType::from(0x86dd), EtherType::Ipv6);
        assert_eq!(EtherType::from(0x1234), EtherType::Unknown(0x1234));
        for v in [0x0800u16, 0x0806, 0x86dd, 0x1234, 0, 0xffff] {
            assert_eq!(u16::from(EtherType::from(v)), v);
        }
    }

    #[test]
    fn frame_len_pads_to_minimum() {
        assert_eq!(frame_len(0), 60);
        assert_eq!(frame_len(28), 60); // an ARP packet
        assert_eq!(frame_len(46), 60);
        assert_eq!(frame_len(47), 61);
        assert_eq!(frame_len(1500), 1514);
    }

    #[test]
    fn address_classes() {
        assert!(EthernetAddress::BROADCAST.is_broadcast());
        assert!(EthernetAddress::BROADCAST.is_multicast());
        assert!(!EthernetAddress::BROADCAST.is_unicast());
        let mcast = EthernetAddress([0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb]);
        assert!(mcast.is_multicast() && !mcast.is_broadcast() && !mcast.is_unicast());
        let ucast = EthernetAddress([0x02, 0, 0, 0, 0, 1]);
        assert!(ucast.is_unicast() && !ucast.is_multicast() && !ucast.is_broadcast());
        assert!(EthernetAddress::default().is_unicast());
    }

    #[test]
    fn from_bytes_requires_six() {
        assert_eq!(EthernetAddress::from_bytes(&[1, 2, 3, 4, 5, 6]), Some(EthernetAddress([1, 2, 3, 4, 5, 6])));
        assert_eq!(EthernetAddress::from_bytes(&[1, 2, 3, 4, 5]), None);
        assert_eq!(EthernetAddress::from_bytes(&[1, 2, 3, 4, 5, 6, 7]), None);
        assert_eq!(EthernetAddress::from_bytes(&[]), None);
        assert_eq!(EthernetAddress([1, 2, 3, 4, 5, 6]).as_bytes(), &[1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn display_and_parse_round_trip() {
        let a = EthernetAddress([0x02, 0x00, 0x00, 0xab, 0xcd, 0xef]);
        assert_eq!(a.to_string(), "02:00:00:ab:cd:ef");
        assert_eq!("02:00:00:ab:cd:ef".parse::<EthernetAddress>(), Ok(a));
        assert_eq!("02:00:00:AB:CD:EF".parse::<EthernetAddress>(), Ok(a));
        assert_eq!(EthernetAddress::BROADCAST.to_string().parse(), Ok(EthernetAddress::BROADCAST));
    }

    #[test]
    fn parse_rejects_malformed() {
        for bad in [
            "",
            "zz:00:00:00:00:01",
            "02:00:00:00:00",
            "02:00:00:00:00:01:02",
            "02:00:00:00:00:01:",
            "2:00:00:00:00:01",
            "002:00:00:00:00:01",
            "+2:00:00:00:00:01",
            "02-00-00-00-00-01",
            "02:00:00:00:00:0g",
            "02::00:00:00:01",
        ] {
            assert_eq!(bad.parse::<EthernetAddress>(), Err(ParseEthernetAddressError), "{bad:?}");
        }
        assert!(!ParseEthernetAddressError.to_string().is_empty());
    }
}
