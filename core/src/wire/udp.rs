//! UDP header (RFC 768).
//!
//! The view covers the IPv4 payload; the datagram itself ends where its length field says, and any bytes
//! beyond that (link-layer padding that survived, say) are ignored.

use super::checksum::{self, PseudoHeader};
use super::ipv4::IpProtocol;
use super::{Error, Result};

/// Length of the UDP header.
pub const HEADER_LEN: usize = 8;
/// Where the checksum field starts in the header (what a checksum-offload device is told as `csum_offset`).
pub const CHECKSUM_OFFSET: usize = field::CHECKSUM.start;

mod field {
    use core::ops::Range;

    pub const SRC_PORT: Range<usize> = 0..2;
    pub const DST_PORT: Range<usize> = 2..4;
    pub const LENGTH: Range<usize> = 4..6;
    pub const CHECKSUM: Range<usize> = 6..8;
    pub const PAYLOAD: usize = 8;
}

/// A zero-copy view of a UDP datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpPacket<T: AsRef<[u8]>> {
    buf: T,
}

impl<T: AsRef<[u8]>> UdpPacket<T> {
    /// Wraps `buf` without checking it; accessors may panic if the length field does not fit the buffer.
    pub fn new_unchecked(buf: T) -> Self {
        UdpPacket { buf }
    }

    /// Wraps `buf` after checking the header and the length field, so accessors cannot panic.
    pub fn new_checked(buf: T) -> Result<Self> {
        let packet = Self::new_unchecked(buf);
        packet.check_len()?;
        Ok(packet)
    }

    /// `Truncated` if the header or the datagram the length field claims does not fit; `BadLength` if the
    /// length field is shorter than the header.
    pub fn check_len(&self) -> Result<()> {
        let buf_len = self.buf.as_ref().len();
        if buf_len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let len = usize::from(self.len());
        if len < HEADER_LEN {
            Err(Error::BadLength)
        } else if len > buf_len {
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

    pub fn src_port(&self) -> u16 {
        self.read_u16(field::SRC_PORT)
    }

    pub fn dst_port(&self) -> u16 {
        self.read_u16(field::DST_PORT)
    }

    /// The length field: header plus payload, in bytes.
    #[allow(clippy::len_without_is_empty)] // a datagram is never empty: the field counts the header
    pub fn len(&self) -> u16 {
        self.read_u16(field::LENGTH)
    }

    pub fn checksum(&self) -> u16 {
        self.read_u16(field::CHECKSUM)
    }

    /// The datagram as the length field delimits it.
    fn datagram(&self) -> &[u8] {
        &self.buf.as_ref()[..usize::from(self.len())]
    }

    /// Payload bytes, up to the length field.
    pub fn payload(&self) -> &[u8] {
        &self.datagram()[field::PAYLOAD..]
    }

    /// Whether the checksum verifies over the pseudo-header and the datagram. A zero checksum means the
    /// sender computed none (RFC 768), which is accepted.
    pub fn verify_checksum<A: PseudoHeader>(&self, src: &A, dst: &A) -> bool {
        if self.checksum() == 0 {
            return src.zero_udp_checksum_allowed();
        }
        let pseudo = src.pseudo_sum(dst, IpProtocol::Udp, u32::from(self.len()));
        checksum::combine(&[pseudo, checksum::data(self.datagram())]) == 0xffff
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> UdpPacket<&'a T> {
    /// Like [`UdpPacket::payload`], but borrowed for the buffer's whole lifetime so a repr can keep it.
    fn payload_ref(&self) -> &'a [u8] {
        let buf: &'a T = self.buf;
        &buf.as_ref()[field::PAYLOAD..usize::from(self.len())]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> UdpPacket<T> {
    fn write_u16(&mut self, range: core::ops::Range<usize>, value: u16) {
        self.buf.as_mut()[range].copy_from_slice(&value.to_be_bytes());
    }

    pub fn set_src_port(&mut self, value: u16) {
        self.write_u16(field::SRC_PORT, value);
    }

    pub fn set_dst_port(&mut self, value: u16) {
        self.write_u16(field::DST_PORT, value);
    }

    pub fn set_len(&mut self, value: u16) {
        self.write_u16(field::LENGTH, value);
    }

    pub fn set_checksum(&mut self, value: u16) {
        self.write_u16(field::CHECKSUM, value);
    }

    /// Payload bytes, up to the length field (set the length first).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let len = usize::from(self.len());
        &mut self.buf.as_mut()[field::PAYLOAD..len]
    }

    /// Computes the checksum over the pseudo-header and the datagram (length field and payload must already
    /// be written). A computed zero is sent as 0xffff, since zero on the wire means "no checksum".
    pub fn fill_checksum<A: PseudoHeader>(&mut self, src: &A, dst: &A) {
        self.set_checksum(0);
        let pseudo = src.pseudo_sum(dst, IpProtocol::Udp, u32::from(self.len()));
        let sum = !checksum::combine(&[pseudo, checksum::data(self.datagram())]);
        self.set_checksum(if sum == 0 { 0xffff } else { sum });
    }
}

/// A UDP datagram as the stack sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UdpRepr<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    pub payload: &'a [u8],
}

impl<'a> UdpRepr<'a> {
    /// Parses a checked view: `BadChecksum` if the checksum fails. Destination port 0 parses: nothing listens
    /// there, so the datagram earns a port unreachable as for any closed port (as Linux).
    pub fn parse<T: AsRef<[u8]> + ?Sized, A: PseudoHeader>(
        packet: &UdpPacket<&'a T>,
        src: &A,
        dst: &A,
    ) -> Result<Self> {
        // The view may come from `new_unchecked`; re-check so parsing never panics.
        packet.check_len()?;
        if !packet.verify_checksum(src, dst) {
            return Err(Error::BadChecksum);
        }
        UdpRepr::parse_unverified(packet)
    }

    /// Like [`UdpRepr::parse`] without verifying the checksum: only for datagrams whose checksum the device
    /// vouched for (see [`crate::RxFrame`]).
    pub fn parse_unverified<T: AsRef<[u8]> + ?Sized>(packet: &UdpPacket<&'a T>) -> Result<Self> {
        packet.check_len()?;
        Ok(UdpRepr { src_port: packet.src_port(), dst_port: packet.dst_port(), payload: packet.payload_ref() })
    }

    /// Bytes needed to emit this datagram.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.payload.len()
    }

    /// Writes header, payload and checksum into a view of at least [`buffer_len`](Self::buffer_len) bytes.
    /// The payload must fit the 16-bit length field (at most 65527 bytes).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>, A: PseudoHeader>(&self, packet: &mut UdpPacket<T>, src: &A, dst: &A) {
        packet.set_src_port(self.src_port);
        packet.set_dst_port(self.dst_port);
        packet.set_len(self.buffer_len() as u16);
        packet.payload_mut().copy_from_slice(self.payload);
        packet.fill_checksum(src, dst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::Ipv4Addr;

    const SRC: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 10);
    const DST: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 1);

    /// A DNS query for example.com/A from 192.168.1.10:53124 to 192.168.1.1:53; checksum 0xc2f5 computed
    /// independently of this crate.
    const DNS_QUERY: [u8; 37] = [
        0xcf, 0x84, 0x00, 0x35, 0x00, 0x25, 0xc2, 0xf5, 0x1a, 0x2b, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x03, 0x63, 0x6f, 0x6d, 0x00, 0x00, 0x01, 0x00,
        0x01,
    ];

    fn emit(repr: &UdpRepr<'_>, src: &Ipv4Addr, dst: &Ipv4Addr) -> Vec<u8> {
        let mut buf = vec![0xa5; repr.buffer_len()];
        repr.emit(&mut UdpPacket::new_unchecked(&mut buf[..]), src, dst);
        buf
    }

    fn parse(bytes: &[u8]) -> Result<UdpRepr<'_>> {
        UdpRepr::parse(&UdpPacket::new_checked(bytes)?, &SRC, &DST)
    }

    #[test]
    fn parses_known_dns_query() {
        let packet = UdpPacket::new_checked(&DNS_QUERY[..]).unwrap();
        assert_eq!(packet.src_port(), 53124);
        assert_eq!(packet.dst_port(), 53);
        assert_eq!(packet.len(), 37);
        assert_eq!(packet.checksum(), 0xc2f5);
        assert!(packet.verify_checksum(&SRC, &DST));
        let repr = UdpRepr::parse(&packet, &SRC, &DST).unwrap();
        assert_eq!(repr.src_port, 53124);
        assert_eq!(repr.dst_port, 53);
        assert_eq!(repr.payload, &DNS_QUERY[8..]);
    }

    #[test]
    fn emits_known_dns_query_bytes() {
        let repr = UdpRepr { src_port: 53124, dst_port: 53, payload: &DNS_QUERY[8..] };
        assert_eq!(emit(&repr, &SRC, &DST), DNS_QUERY);
    }

    #[test]
    fn round_trips_including_odd_and_empty_payloads() {
        for payload in [&b""[..], b"x", b"hello", &[0xff; 1001]] {
            let repr = UdpRepr { src_port: 1000, dst_port: 7, payload };
            assert_eq!(parse(&emit(&repr, &SRC, &DST)).unwrap(), repr);
        }
    }

    #[test]
    fn emit_agrees_with_etherparse() {
        let repr = UdpRepr { src_port: 1234, dst_port: 4321, payload: b"etherparse cross-check" };
        let bytes = emit(&repr, &SRC, &DST);
        let (header, payload) = etherparse::UdpHeader::from_slice(&bytes).unwrap();
        let expected = header.calc_checksum_ipv4_raw(SRC.octets(), DST.octets(), payload).unwrap();
        assert_eq!(header.checksum, expected);
        assert_eq!(header.length as usize, bytes.len());
    }

    #[test]
    fn every_truncation_is_an_error() {
        for len in 0..DNS_QUERY.len() {
            assert_eq!(UdpPacket::new_checked(&DNS_QUERY[..len]).unwrap_err(), Error::Truncated, "len {len}");
        }
    }

    #[test]
    fn length_field_below_header_is_bad_length() {
        let mut bytes = DNS_QUERY;
        for bad in 0..HEADER_LEN as u16 {
            UdpPacket::new_unchecked(&mut bytes[..]).set_len(bad);
            assert_eq!(UdpPacket::new_checked(&bytes[..]).unwrap_err(), Error::BadLength);
        }
    }

    #[test]
    fn bytes_beyond_the_length_field_are_ignored() {
        let mut padded = DNS_QUERY.to_vec();
        padded.extend_from_slice(&[0xee; 9]);
        let repr = parse(&padded).unwrap();
        assert_eq!(repr.payload, &DNS_QUERY[8..]);
    }

    #[test]
    fn bad_checksum_is_rejected() {
        let mut bytes = DNS_QUERY;
        bytes[30] ^= 0x40;
        assert_eq!(parse(&bytes), Err(Error::BadChecksum));
        // The pseudo-header counts: the right bytes from the wrong source fail too.
        let other = Ipv4Addr::new(192, 168, 1, 11);
        let packet = UdpPacket::new_checked(&DNS_QUERY[..]).unwrap();
        assert_eq!(UdpRepr::parse(&packet, &other, &DST), Err(Error::BadChecksum));
    }

    #[test]
    fn zero_checksum_means_none_and_is_accepted() {
        let mut bytes = DNS_QUERY;
        bytes[30] ^= 0x40;
        UdpPacket::new_unchecked(&mut bytes[..]).set_checksum(0);
        assert_eq!(parse(&bytes).unwrap().payload, &bytes[8..]);
    }

    #[test]
    fn computed_zero_checksum_is_sent_as_ffff() {
        // Pick the payload word that makes the one's complement sum 0xffff, so the checksum computes to 0.
        let repr = UdpRepr { src_port: 1, dst_port: 2, payload: &[0, 0] };
        let bytes = emit(&repr, &SRC, &DST);
        let current = UdpPacket::new_unchecked(&bytes[..]).checksum();
        // Adding `current` to the sum turns the complement to zero.
        let payload = current.to_be_bytes();
        let repr = UdpRepr { src_port: 1, dst_port: 2, payload: &payload };
        let bytes = emit(&repr, &SRC, &DST);
        let packet = UdpPacket::new_checked(&bytes[..]).unwrap();
        assert_eq!(packet.checksum(), 0xffff);
        assert!(packet.verify_checksum(&SRC, &DST));
        assert_eq!(parse(&bytes).unwrap(), repr);
    }

    #[test]
    fn destination_port_zero_parses() {
        // Nothing listens there: the stack answers it as any closed port.
        let repr = UdpRepr { src_port: 5, dst_port: 0, payload: b"x" };
        assert_eq!(parse(&emit(&repr, &SRC, &DST)), Ok(repr));
    }

    #[test]
    fn parse_of_an_unchecked_short_view_is_an_error() {
        for len in 0..DNS_QUERY.len() {
            let packet = UdpPacket::new_unchecked(&DNS_QUERY[..len]);
            assert_eq!(UdpRepr::parse(&packet, &SRC, &DST), Err(Error::Truncated));
        }
    }
}

#[cfg(test)]
mod v6_tests {
    use super::*;
    use core::net::Ipv6Addr;

    const A: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
    const B: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);

    fn emit_v6(repr: &UdpRepr<'_>) -> Vec<u8> {
        let mut buf = vec![0u8; repr.buffer_len()];
        repr.emit(&mut UdpPacket::new_unchecked(&mut buf[..]), &A, &B);
        buf
    }

    #[test]
    fn round_trip_over_ipv6() {
        let repr = UdpRepr { src_port: 546, dst_port: 547, payload: b"dhcpv6?" };
        let bytes = emit_v6(&repr);
        let packet = UdpPacket::new_checked(&bytes[..]).unwrap();
        assert!(packet.verify_checksum(&A, &B));
        assert!(!packet.verify_checksum(&A, &A));
        assert_eq!(UdpRepr::parse(&packet, &A, &B).unwrap(), repr);
        // The IPv4 pseudo-header does not verify it.
        assert!(!packet.verify_checksum(&core::net::Ipv4Addr::new(10, 0, 0, 1), &core::net::Ipv4Addr::new(10, 0, 0, 2)));
    }

    #[test]
    fn zero_checksum_is_refused_over_ipv6() {
        let mut bytes = emit_v6(&UdpRepr { src_port: 1, dst_port: 2, payload: b"x" });
        bytes[6..8].fill(0);
        let packet = UdpPacket::new_checked(&bytes[..]).unwrap();
        assert!(!packet.verify_checksum(&A, &B));
        assert_eq!(UdpRepr::parse(&packet, &A, &B), Err(Error::BadChecksum));
        // Over IPv4 the same zero means "none computed" and is accepted.
        assert!(packet.verify_checksum(&core::net::Ipv4Addr::new(10, 0, 0, 1), &core::net::Ipv4Addr::new(10, 0, 0, 2)));
    }

    #[test]
    fn computed_zero_is_sent_as_all_ones() {
        // Find a payload whose checksum computes to zero, then check it goes out as 0xffff and verifies.
        let found = (0u16..=u16::MAX).find_map(|w| {
            let payload = w.to_be_bytes();
            let repr = UdpRepr { src_port: 7, dst_port: 7, payload: &payload };
            let bytes = emit_v6(&repr);
            (bytes[6..8] == [0xff, 0xff]).then_some(bytes)
        });
        let bytes = found.expect("some payload sums to zero");
        assert!(UdpPacket::new_checked(&bytes[..]).unwrap().verify_checksum(&A, &B));
    }

    #[test]
    fn bad_lengths_and_ports_over_ipv6() {
        let repr = UdpRepr { src_port: 1, dst_port: 0, payload: b"" };
        let bytes = emit_v6(&repr);
        let packet = UdpPacket::new_checked(&bytes[..]).unwrap();
        assert_eq!(UdpRepr::parse(&packet, &A, &B), Ok(repr), "port 0 parses, as over IPv4");
        let short = [0u8; 7];
        assert_eq!(UdpRepr::parse(&UdpPacket::new_unchecked(&short[..]), &A, &B), Err(Error::Truncated));
    }
}
