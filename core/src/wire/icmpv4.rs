//! ICMPv4 (RFC 792): echo, destination unreachable and time exceeded.
//!
//! The view covers exactly the ICMP message (the IPv4 payload); the checksum covers all of it.

use super::checksum;
use super::ipv4::{self, IpProtocol, Ipv4Packet};
use super::{Error, Result};
use crate::tcp::SeqNum;
use core::net::Ipv4Addr;

/// Length of the fixed ICMP header (type, code, checksum and the 4-byte "rest of header").
pub const HEADER_LEN: usize = 8;

/// Shortest `original` an error message may quote: a minimal IPv4 header plus the 8 payload bytes that
/// RFC 792 requires (enough for the ports of TCP and UDP).
const MIN_ORIGINAL_LEN: usize = 20 + 8;

mod field {
    use core::ops::Range;

    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: Range<usize> = 2..4;
    /// Echo identifier (echo request / reply).
    pub const ECHO_IDENT: Range<usize> = 4..6;
    /// Echo sequence number (echo request / reply).
    pub const ECHO_SEQ_NO: Range<usize> = 6..8;
    /// The "rest of header" word, unused (zero) in time exceeded.
    pub const REST: Range<usize> = 4..8;
    /// Unused half of the rest-of-header word in destination unreachable.
    pub const UNUSED: Range<usize> = 4..6;
    /// Next-hop MTU in "fragmentation needed" (RFC 1191 §4).
    pub const NEXT_HOP_MTU: Range<usize> = 6..8;
    /// The pointer of a parameter problem: the offset of the octet in the quoted datagram at fault.
    pub const POINTER: usize = 4;
    pub const DATA: usize = 8;
}

/// ICMP message types this stack understands.
pub(crate) mod msg_type {
    pub const ECHO_REPLY: u8 = 0;
    pub const DST_UNREACHABLE: u8 = 3;
    pub const ECHO_REQUEST: u8 = 8;
    pub const TIME_EXCEEDED: u8 = 11;
    pub const PARAM_PROBLEM: u8 = 12;
}

/// Code of a destination unreachable message (RFC 792, RFC 1191 for `FragRequired`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DstUnreachable {
    /// Code 0.
    NetUnreachable,
    /// Code 1.
    HostUnreachable,
    /// Code 2.
    ProtoUnreachable,
    /// Code 3.
    PortUnreachable,
    /// Code 4: fragmentation needed and DF set; carries the next-hop MTU (path MTU discovery).
    FragRequired,
    /// Code 5.
    SrcRouteFailed,
    /// Any other code, kept so it can be reported.
    Other(u8),
}

impl From<u8> for DstUnreachable {
    fn from(code: u8) -> Self {
        match code {
            0 => DstUnreachable::NetUnreachable,
            1 => DstUnreachable::HostUnreachable,
            2 => DstUnreachable::ProtoUnreachable,
            3 => DstUnreachable::PortUnreachable,
            4 => DstUnreachable::FragRequired,
            5 => DstUnreachable::SrcRouteFailed,
            other => DstUnreachable::Other(other),
        }
    }
}

impl From<DstUnreachable> for u8 {
    fn from(reason: DstUnreachable) -> u8 {
        match reason {
            DstUnreachable::NetUnreachable => 0,
            DstUnreachable::HostUnreachable => 1,
            DstUnreachable::ProtoUnreachable => 2,
            DstUnreachable::PortUnreachable => 3,
            DstUnreachable::FragRequired => 4,
            DstUnreachable::SrcRouteFailed => 5,
            DstUnreachable::Other(code) => code,
        }
    }
}

/// Code of a time exceeded message (RFC 792).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TimeExceeded {
    /// Code 0: TTL reached zero in transit.
    TtlExpired,
    /// Code 1: fragment reassembly timed out.
    FragReassembly,
    /// Any other code.
    Other(u8),
}

impl From<u8> for TimeExceeded {
    fn from(code: u8) -> Self {
        match code {
            0 => TimeExceeded::TtlExpired,
            1 => TimeExceeded::FragReassembly,
            other => TimeExceeded::Other(other),
        }
    }
}

impl From<TimeExceeded> for u8 {
    fn from(reason: TimeExceeded) -> u8 {
        match reason {
            TimeExceeded::TtlExpired => 0,
            TimeExceeded::FragReassembly => 1,
            TimeExceeded::Other(code) => code,
        }
    }
}

/// A zero-copy view of an ICMPv4 message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Icmpv4Packet<T: AsRef<[u8]>> {
    buf: T,
}

impl<T: AsRef<[u8]>> Icmpv4Packet<T> {
    /// Wraps `buf` without checking it; accessors may panic if it is shorter than [`HEADER_LEN`].
    pub fn new_unchecked(buf: T) -> Self {
        Icmpv4Packet { buf }
    }

    /// Wraps `buf` after checking that it holds the whole header, so accessors cannot panic.
    pub fn new_checked(buf: T) -> Result<Self> {
        let packet = Self::new_unchecked(buf);
        packet.check_len()?;
        Ok(packet)
    }

    /// `Truncated` if the buffer cannot hold the fixed header.
    pub fn check_len(&self) -> Result<()> {
        if self.buf.as_ref().len() < HEADER_LEN {
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

    pub fn msg_type(&self) -> u8 {
        self.buf.as_ref()[field::TYPE]
    }

    pub fn msg_code(&self) -> u8 {
        self.buf.as_ref()[field::CODE]
    }

    pub fn checksum(&self) -> u16 {
        self.read_u16(field::CHECKSUM)
    }

    /// Identifier of an echo request / reply.
    pub fn echo_ident(&self) -> u16 {
        self.read_u16(field::ECHO_IDENT)
    }

    /// Sequence number of an echo request / reply.
    pub fn echo_seq_no(&self) -> u16 {
        self.read_u16(field::ECHO_SEQ_NO)
    }

    /// Next-hop MTU of a "fragmentation needed" destination unreachable.
    pub fn next_hop_mtu(&self) -> u16 {
        self.read_u16(field::NEXT_HOP_MTU)
    }

    /// Everything after the 8-byte header: echo data, or the quoted original datagram of an error.
    pub fn data(&self) -> &[u8] {
        &self.buf.as_ref()[field::DATA..]
    }

    /// Whether the checksum over the whole message verifies.
    pub fn verify_checksum(&self) -> bool {
        checksum::data(self.buf.as_ref()) == 0xffff
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Icmpv4Packet<&'a T> {
    /// Like [`Icmpv4Packet::data`], but borrowed for the buffer's whole lifetime so a repr can keep it.
    fn data_ref(&self) -> &'a [u8] {
        let buf: &'a T = self.buf;
        &buf.as_ref()[field::DATA..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Icmpv4Packet<T> {
    fn write_u16(&mut self, range: core::ops::Range<usize>, value: u16) {
        self.buf.as_mut()[range].copy_from_slice(&value.to_be_bytes());
    }

    pub fn set_msg_type(&mut self, value: u8) {
        self.buf.as_mut()[field::TYPE] = value;
    }

    pub fn set_msg_code(&mut self, value: u8) {
        self.buf.as_mut()[field::CODE] = value;
    }

    pub fn set_checksum(&mut self, value: u16) {
        self.write_u16(field::CHECKSUM, value);
    }

    pub fn set_echo_ident(&mut self, value: u16) {
        self.write_u16(field::ECHO_IDENT, value);
    }

    pub fn set_echo_seq_no(&mut self, value: u16) {
        self.write_u16(field::ECHO_SEQ_NO, value);
    }

    pub fn set_next_hop_mtu(&mut self, value: u16) {
        self.write_u16(field::NEXT_HOP_MTU, value);
    }

    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buf.as_mut()[field::DATA..]
    }

    /// Computes the checksum over the whole buffer (every other field must already be written).
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let sum = checksum::data(self.buf.as_ref());
        self.set_checksum(!sum);
    }
}

/// An ICMPv4 message the stack sends or reacts to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Icmpv4Repr<'a> {
    EchoRequest {
        ident: u16,
        seq_no: u16,
        data: &'a [u8],
    },
    EchoReply {
        ident: u16,
        seq_no: u16,
        data: &'a [u8],
    },
    /// `original` is the invoking datagram's IPv4 header plus at least 8 bytes of its payload, raw.
    DstUnreachable {
        reason: DstUnreachable,
        next_hop_mtu: u16,
        original: &'a [u8],
    },
    /// `original` is the invoking datagram's IPv4 header plus at least 8 bytes of its payload, raw.
    TimeExceeded {
        reason: TimeExceeded,
        original: &'a [u8],
    },
    /// Parameter problem, code 0 (RFC 792): `pointer` is the offset in `original` (as above) of the octet at
    /// fault, such as a malformed IP option.
    ParamProblem {
        pointer: u8,
        original: &'a [u8],
    },
}

impl<'a> Icmpv4Repr<'a> {
    /// Parses a checked view. Echo replies and parameter problems must have code 0, echo requests may have any
    /// (see [`Icmpv4Repr::EchoRequest`]'s parsing); other types are `Unsupported`.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Icmpv4Packet<&'a T>) -> Result<Icmpv4Repr<'a>> {
        // The view may come from `new_unchecked`; re-check so parsing never panics.
        packet.check_len()?;
        if !packet.verify_checksum() {
            return Err(Error::BadChecksum);
        }
        let data = packet.data_ref();
        let code = packet.msg_code();
        let original = || {
            if data.len() < MIN_ORIGINAL_LEN {
                Err(Error::Truncated)
            } else {
                Ok(data)
            }
        };
        match packet.msg_type() {
            // Any code: RFC 792 defines only 0, but Linux answers the others too and echoes the code back
            // (`icmp_echo`), which probes such as nmap's check. The code is the message's, not the repr's.
            msg_type::ECHO_REQUEST => {
                Ok(Icmpv4Repr::EchoRequest { ident: packet.echo_ident(), seq_no: packet.echo_seq_no(), data })
            }
            msg_type::ECHO_REPLY if code == 0 => {
                Ok(Icmpv4Repr::EchoReply { ident: packet.echo_ident(), seq_no: packet.echo_seq_no(), data })
            }
            msg_type::DST_UNREACHABLE => Ok(Icmpv4Repr::DstUnreachable {
                reason: DstUnreachable::from(code),
                next_hop_mtu: packet.next_hop_mtu(),
                original: original()?,
            }),
            msg_type::TIME_EXCEEDED => {
                Ok(Icmpv4Repr::TimeExceeded { reason: TimeExceeded::from(code), original: original()? })
            }
            msg_type::PARAM_PROBLEM if code == 0 => {
                Ok(Icmpv4Repr::ParamProblem { pointer: packet.buf.as_ref()[field::POINTER], original: original()? })
            }
            _ => Err(Error::Unsupported),
        }
    }

    /// Bytes needed to emit this message.
    pub fn buffer_len(&self) -> usize {
        let data = match self {
            Icmpv4Repr::EchoRequest { data, .. } | Icmpv4Repr::EchoReply { data, .. } => data,
            Icmpv4Repr::DstUnreachable { original, .. }
            | Icmpv4Repr::TimeExceeded { original, .. }
            | Icmpv4Repr::ParamProblem { original, .. } => original,
        };
        HEADER_LEN + data.len()
    }

    /// Writes the whole message, checksum included, into a view of exactly [`buffer_len`](Self::buffer_len)
    /// bytes (the checksum covers the whole buffer).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Icmpv4Packet<T>) {
        let data = match *self {
            Icmpv4Repr::EchoRequest { ident, seq_no, data } => {
                Self::emit_echo_header(packet, msg_type::ECHO_REQUEST, ident, seq_no);
                data
            }
            Icmpv4Repr::EchoReply { ident, seq_no, data } => {
                Self::emit_echo_header(packet, msg_type::ECHO_REPLY, ident, seq_no);
                data
            }
            Icmpv4Repr::DstUnreachable { reason, next_hop_mtu, original } => {
                packet.set_msg_type(msg_type::DST_UNREACHABLE);
                packet.set_msg_code(reason.into());
                packet.buf.as_mut()[field::UNUSED].fill(0);
                packet.set_next_hop_mtu(next_hop_mtu);
                original
            }
            Icmpv4Repr::TimeExceeded { reason, original } => {
                packet.set_msg_type(msg_type::TIME_EXCEEDED);
                packet.set_msg_code(reason.into());
                packet.buf.as_mut()[field::REST].fill(0);
                original
            }
            Icmpv4Repr::ParamProblem { pointer, original } => {
                packet.set_msg_type(msg_type::PARAM_PROBLEM);
                packet.set_msg_code(0);
                packet.buf.as_mut()[field::REST].fill(0);
                packet.buf.as_mut()[field::POINTER] = pointer;
                original
            }
        };
        packet.data_mut()[..data.len()].copy_from_slice(data);
        packet.fill_checksum();
    }

    fn emit_echo_header<T: AsRef<[u8]> + AsMut<[u8]>>(packet: &mut Icmpv4Packet<T>, ty: u8, ident: u16, seq_no: u16) {
        packet.set_msg_type(ty);
        packet.set_msg_code(0);
        packet.set_echo_ident(ident);
        packet.set_echo_seq_no(seq_no);
    }
}

/// The start of the datagram an ICMP error quotes (its `original`): the IPv4 header and whatever follows of
/// the payload. RFC 792 guarantees only the first 8 payload bytes, which hold the ports of TCP and UDP and the
/// sequence number of TCP; routers often send more (RFC 1812 §4.3.2.3). The total length field describes
/// the original datagram, not the quote, so it is not checked.
#[derive(Debug, Clone, Copy)]
pub struct QuotedDatagram<'a> {
    header: &'a [u8],
    payload: &'a [u8],
}

impl<'a> QuotedDatagram<'a> {
    /// Checks the version and that the header the IHL claims fits; the payload is what follows it.
    pub fn parse(original: &'a [u8]) -> Result<Self> {
        if original.len() < ipv4::HEADER_LEN {
            return Err(Error::Truncated);
        }
        let view = Ipv4Packet::new_unchecked(original);
        let header_len = view.header_len();
        if view.version() != 4 {
            Err(Error::BadVersion)
        } else if header_len < ipv4::HEADER_LEN {
            Err(Error::BadLength)
        } else if header_len > original.len() {
            Err(Error::Truncated)
        } else {
            let (header, payload) = original.split_at(header_len);
            Ok(QuotedDatagram { header, payload })
        }
    }

    /// The header as a view: its fixed fields are in bounds, `payload` is not (the quote is cut short).
    fn view(&self) -> Ipv4Packet<&'a [u8]> {
        Ipv4Packet::new_unchecked(self.header)
    }

    pub fn protocol(&self) -> IpProtocol {
        self.view().protocol()
    }

    pub fn src_addr(&self) -> Ipv4Addr {
        self.view().src_addr()
    }

    pub fn dst_addr(&self) -> Ipv4Addr {
        self.view().dst_addr()
    }

    /// The quoted IPv4 header, options included.
    pub fn header(&self) -> &'a [u8] {
        self.header
    }

    /// The quoted payload bytes: as many as the sender included.
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }

    fn payload_u16(&self, range: core::ops::Range<usize>) -> Option<u16> {
        let b = self.payload.get(range)?;
        Some(u16::from_be_bytes([b[0], b[1]]))
    }

    /// Source port of a quoted TCP or UDP header (both start with the two ports), if quoted.
    pub fn src_port(&self) -> Option<u16> {
        self.payload_u16(super::tcp::field::SRC_PORT)
    }

    /// Destination port of a quoted TCP or UDP header, if quoted.
    pub fn dst_port(&self) -> Option<u16> {
        self.payload_u16(super::tcp::field::DST_PORT)
    }

    /// Sequence number of a quoted TCP header, if quoted.
    pub fn tcp_seq_number(&self) -> Option<SeqNum> {
        let b = self.payload.get(super::tcp::field::SEQ_NUM)?;
        Some(SeqNum(u32::from_be_bytes([b[0], b[1], b[2], b[3]])))
    }

    /// Identifier of a quoted ICMP echo request (`None` for any other ICMP message, or if not quoted).
    pub fn echo_request_ident(&self) -> Option<u16> {
        if self.payload.get(field::TYPE) != Some(&msg_type::ECHO_REQUEST) {
            return None;
        }
        self.payload_u16(field::ECHO_IDENT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An echo request as Windows `ping` sends it (id 1, seq 0x21, the classic alphabet payload);
    /// checksum 0x4d3a computed independently of this crate.
    const ECHO_REQUEST: [u8; 40] = [
        0x08, 0x00, 0x4d, 0x3a, 0x00, 0x01, 0x00, 0x21, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a,
        0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x61, 0x62, 0x63, 0x64, 0x65,
        0x66, 0x67, 0x68, 0x69,
    ];

    /// A quoted datagram: IPv4 header (UDP, 10.0.0.1 -> 10.0.0.2) plus the 8-byte UDP header.
    const ORIGINAL: [u8; 28] = [
        0x45, 0x00, 0x00, 0x21, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00,
        0x00, 0x02, 0x9c, 0x40, 0x00, 0x09, 0x00, 0x0d, 0x00, 0x00,
    ];

    fn emit(repr: &Icmpv4Repr<'_>) -> Vec<u8> {
        let mut buf = vec![0xa5; repr.buffer_len()];
        repr.emit(&mut Icmpv4Packet::new_unchecked(&mut buf[..]));
        buf
    }

    fn parse(bytes: &[u8]) -> Result<Icmpv4Repr<'_>> {
        Icmpv4Repr::parse(&Icmpv4Packet::new_checked(bytes)?)
    }

    #[test]
    fn parses_known_echo_request() {
        let packet = Icmpv4Packet::new_checked(&ECHO_REQUEST[..]).unwrap();
        assert_eq!(packet.msg_type(), 8);
        assert_eq!(packet.msg_code(), 0);
        assert_eq!(packet.checksum(), 0x4d3a);
        assert_eq!(packet.echo_ident(), 1);
        assert_eq!(packet.echo_seq_no(), 0x21);
        assert!(packet.verify_checksum());
        assert_eq!(
            Icmpv4Repr::parse(&packet).unwrap(),
            Icmpv4Repr::EchoRequest { ident: 1, seq_no: 0x21, data: b"abcdefghijklmnopqrstuvwabcdefghi" }
        );
    }

    #[test]
    fn emits_known_echo_request_bytes() {
        let repr = Icmpv4Repr::EchoRequest { ident: 1, seq_no: 0x21, data: b"abcdefghijklmnopqrstuvwabcdefghi" };
        assert_eq!(emit(&repr), ECHO_REQUEST);
    }

    #[test]
    fn every_kind_round_trips() {
        let reprs = [
            Icmpv4Repr::EchoRequest { ident: 7, seq_no: 9, data: b"odd" },
            Icmpv4Repr::EchoReply { ident: 0xffff, seq_no: 0, data: b"" },
            Icmpv4Repr::DstUnreachable {
                reason: DstUnreachable::PortUnreachable,
                next_hop_mtu: 0,
                original: &ORIGINAL,
            },
            Icmpv4Repr::DstUnreachable {
                reason: DstUnreachable::FragRequired,
                next_hop_mtu: 1400,
                original: &ORIGINAL,
            },
            Icmpv4Repr::DstUnreachable { reason: DstUnreachable::Other(13), next_hop_mtu: 0, original: &ORIGINAL },
            Icmpv4Repr::TimeExceeded { reason: TimeExceeded::TtlExpired, original: &ORIGINAL },
            Icmpv4Repr::TimeExceeded { reason: TimeExceeded::FragReassembly, original: &ORIGINAL },
        ];
        for repr in reprs {
            let bytes = emit(&repr);
            assert_eq!(parse(&bytes).unwrap(), repr);
        }
    }

    #[test]
    fn emit_agrees_with_etherparse() {
        let repr = Icmpv4Repr::DstUnreachable {
            reason: DstUnreachable::FragRequired,
            next_hop_mtu: 1400,
            original: &ORIGINAL,
        };
        let bytes = emit(&repr);
        let (header, payload) = etherparse::Icmpv4Header::from_slice(&bytes).unwrap();
        assert_eq!(
            header.icmp_type,
            etherparse::Icmpv4Type::DestinationUnreachable(
                etherparse::icmpv4::DestUnreachableHeader::FragmentationNeeded { next_hop_mtu: 1400 }
            )
        );
        assert_eq!(header.checksum, header.icmp_type.calc_checksum(payload));
    }

    #[test]
    fn time_exceeded_zeroes_the_unused_word() {
        let bytes = emit(&Icmpv4Repr::TimeExceeded { reason: TimeExceeded::TtlExpired, original: &ORIGINAL });
        assert_eq!(&bytes[..2], &[11, 0]);
        assert_eq!(&bytes[4..8], &[0, 0, 0, 0]);
    }

    #[test]
    fn codes_convert_both_ways() {
        for code in 0..=255u8 {
            assert_eq!(u8::from(DstUnreachable::from(code)), code);
            assert_eq!(u8::from(TimeExceeded::from(code)), code);
        }
        assert_eq!(DstUnreachable::from(4), DstUnreachable::FragRequired);
        assert_eq!(TimeExceeded::from(1), TimeExceeded::FragReassembly);
    }

    #[test]
    fn every_truncation_is_an_error() {
        for len in 0..HEADER_LEN {
            assert_eq!(Icmpv4Packet::new_checked(&ECHO_REQUEST[..len]).unwrap_err(), Error::Truncated);
        }
        let error = emit(&Icmpv4Repr::TimeExceeded { reason: TimeExceeded::TtlExpired, original: &ORIGINAL });
        for len in 0..error.len() {
            // Shorter data breaks the checksum or the minimum quote; either way no panic and no Ok.
            assert!(parse(&error[..len]).is_err(), "len {len}");
        }
    }

    #[test]
    fn bad_checksum_is_rejected() {
        let mut bytes = ECHO_REQUEST;
        bytes[20] ^= 0x01;
        assert_eq!(parse(&bytes), Err(Error::BadChecksum));
    }

    #[test]
    fn unknown_type_is_unsupported() {
        // Timestamp request (type 13), otherwise well formed.
        let mut bytes = [13, 0, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0];
        Icmpv4Packet::new_unchecked(&mut bytes[..]).fill_checksum();
        assert_eq!(parse(&bytes), Err(Error::Unsupported));
        // An echo reply with a nonzero code is not one ping sockets take.
        let mut bytes = ECHO_REQUEST;
        let mut packet = Icmpv4Packet::new_unchecked(&mut bytes[..]);
        packet.set_msg_type(msg_type::ECHO_REPLY);
        packet.set_msg_code(1);
        packet.fill_checksum();
        assert_eq!(parse(&bytes), Err(Error::Unsupported));
    }

    #[test]
    fn an_echo_request_of_any_code_parses() {
        let mut bytes = ECHO_REQUEST;
        let mut packet = Icmpv4Packet::new_unchecked(&mut bytes[..]);
        packet.set_msg_code(9);
        packet.fill_checksum();
        assert!(matches!(parse(&bytes), Ok(Icmpv4Repr::EchoRequest { ident: 1, seq_no: 0x21, .. })));
    }

    #[test]
    fn parameter_problem_round_trip() {
        let original = [0x46u8; 28];
        let repr = Icmpv4Repr::ParamProblem { pointer: 21, original: &original };
        let mut bytes = vec![0u8; repr.buffer_len()];
        repr.emit(&mut Icmpv4Packet::new_unchecked(&mut bytes[..]));
        assert_eq!(&bytes[..2], &[12, 0]);
        assert_eq!(&bytes[4..8], &[21, 0, 0, 0]);
        assert_eq!(parse(&bytes), Ok(repr));
    }

    #[test]
    fn error_quoting_27_bytes_is_truncated() {
        let short = Icmpv4Repr::DstUnreachable {
            reason: DstUnreachable::PortUnreachable,
            next_hop_mtu: 0,
            original: &ORIGINAL[..27],
        };
        assert_eq!(parse(&emit(&short)), Err(Error::Truncated));
        let short = Icmpv4Repr::TimeExceeded { reason: TimeExceeded::TtlExpired, original: &ORIGINAL[..27] };
        assert_eq!(parse(&emit(&short)), Err(Error::Truncated));
    }

    #[test]
    fn parse_of_an_unchecked_short_view_is_an_error() {
        for len in 0..HEADER_LEN {
            let packet = Icmpv4Packet::new_unchecked(&ECHO_REQUEST[..len]);
            assert_eq!(Icmpv4Repr::parse(&packet), Err(Error::Truncated));
        }
    }

    /// A quoted UDP datagram, TCP segment and echo request, cut at various lengths.
    #[test]
    fn quoted_datagrams_read_what_is_there() {
        let mut header = [0u8; 20];
        header[0] = 0x45;
        header[2..4].copy_from_slice(&1000u16.to_be_bytes()); // the original's length, not the quote's
        header[9] = 17;
        header[12..16].copy_from_slice(&[10, 0, 0, 2]);
        header[16..20].copy_from_slice(&[10, 0, 0, 1]);
        let transport = [0x9c, 0x40, 0x00, 0x35, 0x01, 0x02, 0x03, 0x04, 0xff];
        let original = [&header[..], &transport[..]].concat();
        let q = QuotedDatagram::parse(&original).unwrap();
        assert_eq!(
            (q.protocol(), q.src_addr(), q.dst_addr()),
            (IpProtocol::Udp, [10, 0, 0, 2].into(), [10, 0, 0, 1].into())
        );
        assert_eq!((q.header(), q.payload()), (&header[..], &transport[..]));
        assert_eq!(
            (q.src_port(), q.dst_port(), q.tcp_seq_number()),
            (Some(40000), Some(53), Some(SeqNum(0x0102_0304)))
        );
        assert_eq!(q.echo_request_ident(), None);
        let q = QuotedDatagram::parse(&original[..23]).unwrap();
        assert_eq!((q.src_port(), q.dst_port(), q.tcp_seq_number()), (Some(40000), None, None));
        let q = QuotedDatagram::parse(&original[..20]).unwrap();
        assert_eq!((q.src_port(), q.payload()), (None, &[][..]));
        let echo = [&header[..], &[8, 0, 0, 0, 0x12, 0x34, 0, 1][..]].concat();
        assert_eq!(QuotedDatagram::parse(&echo).unwrap().echo_request_ident(), Some(0x1234));
        assert_eq!(QuotedDatagram::parse(&echo[..25]).unwrap().echo_request_ident(), None);
    }

    #[test]
    fn quoted_headers_must_be_ipv4_and_fit() {
        let mut header = [0u8; 24];
        header[0] = 0x46; // 24 bytes with options
        assert_eq!(QuotedDatagram::parse(&header[..19]).unwrap_err(), Error::Truncated);
        assert_eq!(QuotedDatagram::parse(&header[..23]).unwrap_err(), Error::Truncated);
        assert_eq!(QuotedDatagram::parse(&header).unwrap().header().len(), 24);
        header[0] = 0x44;
        assert_eq!(QuotedDatagram::parse(&header).unwrap_err(), Error::BadLength);
        header[0] = 0x65;
        assert_eq!(QuotedDatagram::parse(&header).unwrap_err(), Error::BadVersion);
    }
}
