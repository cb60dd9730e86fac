//! ICMPv6 (RFC 4443): echo, the four error messages, and (in [`super::ndp`]) Neighbor Discovery.
//!
//! The view covers exactly the ICMPv6 message (the upper-layer payload of an IPv6 packet). Unlike ICMPv4 the
//! checksum covers the IPv6 pseudo-header too (RFC 4443 §2.3), so parsing and emitting take both addresses.
//!
//! Neighbor Discovery messages (types 133 to 137) are ICMPv6 messages: [`Icmpv6Repr::parse`] verifies the
//! checksum once and hands them to [`NdpRepr::parse`], which reads the same view, so the stack parses every
//! ICMPv6 message with one call and gets `Icmpv6Repr::Ndp(..)` for Neighbor Discovery.

use super::checksum;
use super::ipv4::IpProtocol;
use super::ipv6::{self, Ipv6Packet, ParamProblem, FRAGMENT_HEADER_LEN, MAX_EXTENSION_HEADERS};
use super::ndp::NdpRepr;
use super::{Error, Result};
use crate::tcp::SeqNum;
use core::net::Ipv6Addr;

/// Length of the fixed ICMPv6 header (type, code, checksum and the 4-byte message-specific word).
pub const HEADER_LEN: usize = 8;
/// The most an error message may quote so that it fits the IPv6 minimum MTU (RFC 4443 §2.4 (c)).
pub const MAX_QUOTE_LEN: usize = ipv6::MIN_MTU - ipv6::HEADER_LEN - HEADER_LEN;

pub(super) mod field {
    use core::ops::Range;

    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: Range<usize> = 2..4;
    pub const ECHO_IDENT: Range<usize> = 4..6;
    pub const ECHO_SEQ_NO: Range<usize> = 6..8;
    /// MTU of packet too big, pointer of parameter problem, unused (zero) in the other errors.
    pub const WORD: Range<usize> = 4..8;
    pub const DATA: usize = 8;
}

/// ICMPv6 message types (RFC 4443 §2.1, RFC 4861 §4).
pub mod msg_type {
    pub const DST_UNREACHABLE: u8 = 1;
    pub const PACKET_TOO_BIG: u8 = 2;
    pub const TIME_EXCEEDED: u8 = 3;
    pub const PARAM_PROBLEM: u8 = 4;
    pub const ECHO_REQUEST: u8 = 128;
    pub const ECHO_REPLY: u8 = 129;
    pub const ROUTER_SOLICIT: u8 = 133;
    pub const ROUTER_ADVERT: u8 = 134;
    pub const NEIGHBOR_SOLICIT: u8 = 135;
    pub const NEIGHBOR_ADVERT: u8 = 136;
    pub const REDIRECT: u8 = 137;
    /// Types below this are errors, the others informational (RFC 4443 §2.1).
    pub const FIRST_INFORMATIONAL: u8 = 128;
}

/// Code of a destination unreachable message (RFC 4443 §3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Icmpv6DstUnreachable {
    /// Code 0.
    NoRoute,
    /// Code 1.
    AdminProhibited,
    /// Code 2.
    BeyondScope,
    /// Code 3.
    AddrUnreachable,
    /// Code 4: what a host answers a UDP datagram for a port nobody listens on.
    PortUnreachable,
    /// Code 5.
    FailedPolicy,
    /// Code 6.
    RejectRoute,
    /// Any other code, kept so it can be reported.
    Other(u8),
}

impl From<u8> for Icmpv6DstUnreachable {
    fn from(code: u8) -> Self {
        match code {
            0 => Icmpv6DstUnreachable::NoRoute,
            1 => Icmpv6DstUnreachable::AdminProhibited,
            2 => Icmpv6DstUnreachable::BeyondScope,
            3 => Icmpv6DstUnreachable::AddrUnreachable,
            4 => Icmpv6DstUnreachable::PortUnreachable,
            5 => Icmpv6DstUnreachable::FailedPolicy,
            6 => Icmpv6DstUnreachable::RejectRoute,
            other => Icmpv6DstUnreachable::Other(other),
        }
    }
}

impl From<Icmpv6DstUnreachable> for u8 {
    fn from(reason: Icmpv6DstUnreachable) -> u8 {
        match reason {
            Icmpv6DstUnreachable::NoRoute => 0,
            Icmpv6DstUnreachable::AdminProhibited => 1,
            Icmpv6DstUnreachable::BeyondScope => 2,
            Icmpv6DstUnreachable::AddrUnreachable => 3,
            Icmpv6DstUnreachable::PortUnreachable => 4,
            Icmpv6DstUnreachable::FailedPolicy => 5,
            Icmpv6DstUnreachable::RejectRoute => 6,
            Icmpv6DstUnreachable::Other(code) => code,
        }
    }
}

/// Code of a time exceeded message (RFC 4443 §3.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Icmpv6TimeExceeded {
    /// Code 0: the hop limit reached zero in transit.
    HopLimitExceeded,
    /// Code 1: fragment reassembly timed out.
    FragReassembly,
    /// Any other code.
    Other(u8),
}

impl From<u8> for Icmpv6TimeExceeded {
    fn from(code: u8) -> Self {
        match code {
            0 => Icmpv6TimeExceeded::HopLimitExceeded,
            1 => Icmpv6TimeExceeded::FragReassembly,
            other => Icmpv6TimeExceeded::Other(other),
        }
    }
}

impl From<Icmpv6TimeExceeded> for u8 {
    fn from(reason: Icmpv6TimeExceeded) -> u8 {
        match reason {
            Icmpv6TimeExceeded::HopLimitExceeded => 0,
            Icmpv6TimeExceeded::FragReassembly => 1,
            Icmpv6TimeExceeded::Other(code) => code,
        }
    }
}

/// A zero-copy view of an ICMPv6 message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Icmpv6Packet<T: AsRef<[u8]>> {
    buf: T,
}

impl<T: AsRef<[u8]>> Icmpv6Packet<T> {
    /// Wraps `buf` without checking it; accessors may panic if it is shorter than [`HEADER_LEN`].
    pub fn new_unchecked(buf: T) -> Self {
        Icmpv6Packet { buf }
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

    pub fn into_inner(self) -> T {
        self.buf
    }

    fn read_u16(&self, range: core::ops::Range<usize>) -> u16 {
        let b = &self.buf.as_ref()[range];
        u16::from_be_bytes([b[0], b[1]])
    }

    fn word(&self) -> u32 {
        let b = &self.buf.as_ref()[field::WORD];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
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

    /// The MTU of a packet too big message.
    pub fn mtu(&self) -> u32 {
        self.word()
    }

    /// The pointer of a parameter problem message: the offset in the invoking packet of the byte at fault.
    pub fn pointer(&self) -> u32 {
        self.word()
    }

    /// Everything after the 8-byte header: echo data, an error's quoted packet, or the rest of an NDP message.
    pub fn data(&self) -> &[u8] {
        &self.buf.as_ref()[field::DATA..]
    }

    fn sum(&self, src: &Ipv6Addr, dst: &Ipv6Addr) -> Option<u16> {
        let buf = self.buf.as_ref();
        let len = u32::try_from(buf.len()).ok()?;
        let pseudo = checksum::pseudo_header_v6(src, dst, IpProtocol::ICMPV6, len);
        Some(checksum::combine(&[pseudo, checksum::data(buf)]))
    }

    /// Whether the checksum verifies over the IPv6 pseudo-header and the whole message.
    pub fn verify_checksum(&self, src: &Ipv6Addr, dst: &Ipv6Addr) -> bool {
        self.sum(src, dst) == Some(0xffff)
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Icmpv6Packet<&'a T> {
    /// The whole message, borrowed for the buffer's lifetime so a repr can keep parts of it.
    pub(super) fn bytes_ref(&self) -> &'a [u8] {
        let buf: &'a T = self.buf;
        buf.as_ref()
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Icmpv6Packet<T> {
    pub(super) fn bytes_mut(&mut self) -> &mut [u8] {
        self.buf.as_mut()
    }

    pub fn set_msg_type(&mut self, value: u8) {
        self.buf.as_mut()[field::TYPE] = value;
    }

    pub fn set_msg_code(&mut self, value: u8) {
        self.buf.as_mut()[field::CODE] = value;
    }

    pub fn set_checksum(&mut self, value: u16) {
        self.buf.as_mut()[field::CHECKSUM].copy_from_slice(&value.to_be_bytes());
    }

    pub fn set_echo_ident(&mut self, value: u16) {
        self.buf.as_mut()[field::ECHO_IDENT].copy_from_slice(&value.to_be_bytes());
    }

    pub fn set_echo_seq_no(&mut self, value: u16) {
        self.buf.as_mut()[field::ECHO_SEQ_NO].copy_from_slice(&value.to_be_bytes());
    }

    /// Writes the message-specific word: the MTU, the pointer, or 0 (unused).
    pub fn set_word(&mut self, value: u32) {
        self.buf.as_mut()[field::WORD].copy_from_slice(&value.to_be_bytes());
    }

    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buf.as_mut()[field::DATA..]
    }

    /// Computes the checksum over the pseudo-header and the whole buffer (every other byte must be written).
    pub fn fill_checksum(&mut self, src: &Ipv6Addr, dst: &Ipv6Addr) {
        self.set_checksum(0);
        let sum = self.sum(src, dst).map_or(0, |s| !s);
        self.set_checksum(sum);
    }
}

/// An ICMPv6 message the stack sends or reacts to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Icmpv6Repr<'a> {
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
    /// `original` is the start of the invoking packet, its IPv6 header first (see [`QuotedPacket`]).
    DstUnreachable {
        reason: Icmpv6DstUnreachable,
        original: &'a [u8],
    },
    /// The next-hop link's MTU (path MTU discovery, RFC 8201).
    PacketTooBig {
        mtu: u32,
        original: &'a [u8],
    },
    TimeExceeded {
        reason: Icmpv6TimeExceeded,
        original: &'a [u8],
    },
    /// `pointer` is the offset in `original` of the byte at fault.
    ParamProblem {
        reason: ParamProblem,
        pointer: u32,
        original: &'a [u8],
    },
    /// An error type this module does not know (RFC 4443 §2.4 (a): still passed to the upper layer the quote
    /// names). Emitted with a zero message-specific word.
    UnknownError {
        msg_type: u8,
        code: u8,
        original: &'a [u8],
    },
    /// A Neighbor Discovery message (types 133 to 137).
    Ndp(NdpRepr<'a>),
}

impl<'a> Icmpv6Repr<'a> {
    /// Parses a checked view whose IPv6 packet went from `src` to `dst`: `BadChecksum` if the checksum fails;
    /// `Unsupported` for an unknown informational type (RFC 4443 §2.4 (b): drop it silently) and for an echo
    /// with a nonzero code; `Truncated` for an error quoting less than an IPv6 header. Neighbor Discovery
    /// messages are checked as [`NdpRepr::parse`] says.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(
        packet: &Icmpv6Packet<&'a T>,
        src: &Ipv6Addr,
        dst: &Ipv6Addr,
    ) -> Result<Icmpv6Repr<'a>> {
        packet.check_len()?;
        if !packet.verify_checksum(src, dst) {
            return Err(Error::BadChecksum);
        }
        let data = &packet.bytes_ref()[field::DATA..];
        let code = packet.msg_code();
        let original = || if data.len() < ipv6::HEADER_LEN { Err(Error::Truncated) } else { Ok(data) };
        let echo = (packet.echo_ident(), packet.echo_seq_no());
        match packet.msg_type() {
            // Any code, as for ICMPv4: Linux answers them, the reply carrying the request's code.
            msg_type::ECHO_REQUEST => Ok(Icmpv6Repr::EchoRequest { ident: echo.0, seq_no: echo.1, data }),
            msg_type::ECHO_REPLY if code == 0 => Ok(Icmpv6Repr::EchoReply { ident: echo.0, seq_no: echo.1, data }),
            msg_type::DST_UNREACHABLE => Ok(Icmpv6Repr::DstUnreachable { reason: code.into(), original: original()? }),
            msg_type::PACKET_TOO_BIG => Ok(Icmpv6Repr::PacketTooBig { mtu: packet.mtu(), original: original()? }),
            msg_type::TIME_EXCEEDED => Ok(Icmpv6Repr::TimeExceeded { reason: code.into(), original: original()? }),
            msg_type::PARAM_PROBLEM => {
                Ok(Icmpv6Repr::ParamProblem { reason: code.into(), pointer: packet.pointer(), original: original()? })
            }
            msg_type::ROUTER_SOLICIT..=msg_type::REDIRECT => Ok(Icmpv6Repr::Ndp(NdpRepr::parse(packet)?)),
            ty if ty < msg_type::FIRST_INFORMATIONAL => {
                Ok(Icmpv6Repr::UnknownError { msg_type: ty, code, original: original()? })
            }
            _ => Err(Error::Unsupported),
        }
    }

    /// Whether this is an error message (which a host must never answer with another error, RFC 4443 §2.4 (e)).
    pub fn is_error(&self) -> bool {
        !matches!(self, Icmpv6Repr::EchoRequest { .. } | Icmpv6Repr::EchoReply { .. } | Icmpv6Repr::Ndp(_))
    }

    /// Bytes needed to emit this message.
    pub fn buffer_len(&self) -> usize {
        match self {
            Icmpv6Repr::EchoRequest { data, .. } | Icmpv6Repr::EchoReply { data, .. } => HEADER_LEN + data.len(),
            Icmpv6Repr::DstUnreachable { original, .. }
            | Icmpv6Repr::PacketTooBig { original, .. }
            | Icmpv6Repr::TimeExceeded { original, .. }
            | Icmpv6Repr::ParamProblem { original, .. }
            | Icmpv6Repr::UnknownError { original, .. } => HEADER_LEN + original.len(),
            Icmpv6Repr::Ndp(ndp) => ndp.buffer_len(),
        }
    }

    /// Writes the whole message, checksum included, into a view of exactly [`buffer_len`](Self::buffer_len)
    /// bytes, for an IPv6 packet from `src` to `dst`.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Icmpv6Packet<T>, src: &Ipv6Addr, dst: &Ipv6Addr) {
        let (ty, code, word, data) = match *self {
            Icmpv6Repr::EchoRequest { ident, seq_no, data } | Icmpv6Repr::EchoReply { ident, seq_no, data } => {
                let ty = if matches!(self, Icmpv6Repr::EchoRequest { .. }) {
                    msg_type::ECHO_REQUEST
                } else {
                    msg_type::ECHO_REPLY
                };
                (ty, 0, (u32::from(ident) << 16) | u32::from(seq_no), data)
            }
            Icmpv6Repr::DstUnreachable { reason, original } => (msg_type::DST_UNREACHABLE, reason.into(), 0, original),
            Icmpv6Repr::PacketTooBig { mtu, original } => (msg_type::PACKET_TOO_BIG, 0, mtu, original),
            Icmpv6Repr::TimeExceeded { reason, original } => (msg_type::TIME_EXCEEDED, reason.into(), 0, original),
            Icmpv6Repr::ParamProblem { reason, pointer, original } => {
                (msg_type::PARAM_PROBLEM, reason.into(), pointer, original)
            }
            Icmpv6Repr::UnknownError { msg_type, code, original } => (msg_type, code, 0, original),
            Icmpv6Repr::Ndp(ndp) => {
                ndp.emit(packet);
                packet.fill_checksum(src, dst);
                return;
            }
        };
        packet.set_msg_type(ty);
        packet.set_msg_code(code);
        packet.set_word(word);
        packet.data_mut()[..data.len()].copy_from_slice(data);
        packet.fill_checksum(src, dst);
    }
}

/// The start of the packet an ICMPv6 error quotes: the IPv6 header, then as much of the rest as the sender
/// kept (RFC 4443 §2.4 (c)). Extension headers are walked as far as the quote goes, so the upper-layer header
/// (and in it the ports of TCP and UDP, TCP's sequence number, an echo's identifier) is found behind them. The
/// payload length field describes the original packet, not the quote, so it is not checked.
#[derive(Debug, Clone, Copy)]
pub struct QuotedPacket<'a> {
    header: &'a [u8],
    /// The upper-layer protocol and the quote from its header on, if the quote reaches it.
    upper: Option<(IpProtocol, &'a [u8])>,
}

impl<'a> QuotedPacket<'a> {
    /// `Truncated` if `original` holds less than an IPv6 header, `BadVersion` if it is not IPv6.
    pub fn parse(original: &'a [u8]) -> Result<Self> {
        if original.len() < ipv6::HEADER_LEN {
            return Err(Error::Truncated);
        }
        let (header, rest) = original.split_at(ipv6::HEADER_LEN);
        let view = Ipv6Packet::new_unchecked(header);
        if view.version() != 6 {
            return Err(Error::BadVersion);
        }
        Ok(QuotedPacket { header, upper: find_upper(view.next_header(), rest) })
    }

    fn view(&self) -> Ipv6Packet<&'a [u8]> {
        Ipv6Packet::new_unchecked(self.header)
    }

    pub fn src_addr(&self) -> Ipv6Addr {
        self.view().src_addr()
    }

    pub fn dst_addr(&self) -> Ipv6Addr {
        self.view().dst_addr()
    }

    /// The quoted fixed IPv6 header.
    pub fn header(&self) -> &'a [u8] {
        self.header
    }

    /// The upper-layer protocol behind the extension headers; `None` if the quote ends before it, or quotes a
    /// fragment other than the first.
    pub fn protocol(&self) -> Option<IpProtocol> {
        self.upper.map(|(protocol, _)| protocol)
    }

    /// The quoted bytes from the upper-layer header on (empty if it was not reached).
    pub fn payload(&self) -> &'a [u8] {
        self.upper.map_or(&[][..], |(_, payload)| payload)
    }

    fn payload_u16(&self, range: core::ops::Range<usize>) -> Option<u16> {
        let b = self.payload().get(range)?;
        Some(u16::from_be_bytes([b[0], b[1]]))
    }

    fn is_transport(&self) -> bool {
        matches!(self.protocol(), Some(IpProtocol::Tcp | IpProtocol::Udp))
    }

    /// Source port of a quoted TCP or UDP header, if quoted.
    pub fn src_port(&self) -> Option<u16> {
        self.payload_u16(super::tcp::field::SRC_PORT).filter(|_| self.is_transport())
    }

    /// Destination port of a quoted TCP or UDP header, if quoted.
    pub fn dst_port(&self) -> Option<u16> {
        self.payload_u16(super::tcp::field::DST_PORT).filter(|_| self.is_transport())
    }

    /// Sequence number of a quoted TCP header, if quoted.
    pub fn tcp_seq_number(&self) -> Option<SeqNum> {
        if self.protocol() != Some(IpProtocol::Tcp) {
            return None;
        }
        let b = self.payload().get(super::tcp::field::SEQ_NUM)?;
        Some(SeqNum(u32::from_be_bytes([b[0], b[1], b[2], b[3]])))
    }

    /// Identifier of a quoted ICMPv6 echo request (`None` for anything else, or if not quoted).
    pub fn echo_request_ident(&self) -> Option<u16> {
        if self.protocol() != Some(IpProtocol::ICMPV6)
            || self.payload().get(field::TYPE) != Some(&msg_type::ECHO_REQUEST)
        {
            return None;
        }
        self.payload_u16(field::ECHO_IDENT)
    }
}

/// Follows hop-by-hop, routing, destination options and first-fragment headers through a quote; `None` when
/// the quote ends inside them, at a later fragment, or after [`MAX_EXTENSION_HEADERS`].
fn find_upper(first: IpProtocol, bytes: &[u8]) -> Option<(IpProtocol, &[u8])> {
    let mut next = first;
    let mut at = 0;
    for _ in 0..MAX_EXTENSION_HEADERS {
        match next {
            IpProtocol::HOP_BY_HOP | IpProtocol::IPV6_OPTS | IpProtocol::IPV6_ROUTE => {
                let header = bytes.get(at..at + 2)?;
                next = IpProtocol::from(header[0]);
                at += (usize::from(header[1]) + 1) * 8;
            }
            IpProtocol::IPV6_FRAG => {
                let header = bytes.get(at..at + FRAGMENT_HEADER_LEN)?;
                let fragment = ipv6::Ipv6FragmentRepr::parse(&ipv6::Ipv6FragmentHeader::new_unchecked(header)).ok()?;
                if fragment.frag_offset != 0 {
                    return None;
                }
                next = fragment.next_header;
                at += FRAGMENT_HEADER_LEN;
            }
            IpProtocol::IPV6_NO_NXT => return None,
            upper => return Some((upper, bytes.get(at..)?)),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ipv6::Ipv6Repr;
    use crate::wire::EcnCodepoint;
    use proptest::prelude::*;

    const A: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
    const B: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);

    /// The straightforward checksum the module's must agree with: 16-bit words over pseudo-header and message.
    fn reference_checksum(src: &Ipv6Addr, dst: &Ipv6Addr, message: &[u8]) -> u16 {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&src.octets());
        bytes.extend_from_slice(&dst.octets());
        bytes.extend_from_slice(&(message.len() as u32).to_be_bytes());
        bytes.extend_from_slice(&[0, 0, 0, 58]);
        bytes.extend_from_slice(message);
        let mut sum: u32 = 0;
        for pair in bytes.chunks(2) {
            sum += u32::from(u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]));
            sum = (sum & 0xffff) + (sum >> 16);
        }
        !(sum as u16)
    }

    fn emit(repr: &Icmpv6Repr<'_>) -> Vec<u8> {
        let mut buf = vec![0xa5; repr.buffer_len()];
        repr.emit(&mut Icmpv6Packet::new_unchecked(&mut buf[..]), &A, &B);
        buf
    }

    fn parse(bytes: &[u8]) -> Result<Icmpv6Repr<'_>> {
        Icmpv6Repr::parse(&Icmpv6Packet::new_checked(bytes)?, &A, &B)
    }

    /// An IPv6 packet A -> B with `next_header` and `payload`, as an error would quote it.
    fn original(next_header: IpProtocol, payload: &[u8]) -> Vec<u8> {
        let r = Ipv6Repr {
            src_addr: A,
            dst_addr: B,
            next_header,
            payload_len: 1000, // the original's, not the quote's
            hop_limit: 3,
            dscp: 0,
            ecn: EcnCodepoint::NotEct,
            flow_label: 0,
        };
        let mut buf = vec![0u8; ipv6::HEADER_LEN];
        r.emit(&mut Ipv6Packet::new_unchecked(&mut buf[..]));
        buf.extend_from_slice(payload);
        buf
    }

    const UDP_HEADER: [u8; 8] = [0x9c, 0x40, 0x00, 0x35, 0x00, 0x10, 0x12, 0x34];

    #[test]
    fn echo_request_bytes_and_checksum() {
        let repr = Icmpv6Repr::EchoRequest { ident: 0x1234, seq_no: 7, data: b"ping" };
        let bytes = emit(&repr);
        assert_eq!(&bytes[..2], &[128, 0]);
        assert_eq!(&bytes[4..], &[0x12, 0x34, 0, 7, b'p', b'i', b'n', b'g']);
        let mut zeroed = bytes.clone();
        zeroed[2..4].fill(0);
        assert_eq!(u16::from_be_bytes([bytes[2], bytes[3]]), reference_checksum(&A, &B, &zeroed));
        let packet = Icmpv6Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(
            (packet.msg_type(), packet.msg_code(), packet.echo_ident(), packet.echo_seq_no()),
            (128, 0, 0x1234, 7)
        );
        assert!(packet.verify_checksum(&A, &B));
        assert!(!packet.verify_checksum(&A, &ipv6::ALL_NODES));
        assert_eq!(parse(&bytes).unwrap(), repr);
    }

    #[test]
    fn every_kind_round_trips() {
        let quote = original(IpProtocol::Udp, &UDP_HEADER);
        let reprs = [
            Icmpv6Repr::EchoRequest { ident: 7, seq_no: 9, data: b"odd" },
            Icmpv6Repr::EchoReply { ident: 0xffff, seq_no: 0, data: b"" },
            Icmpv6Repr::DstUnreachable { reason: Icmpv6DstUnreachable::PortUnreachable, original: &quote },
            Icmpv6Repr::DstUnreachable { reason: Icmpv6DstUnreachable::Other(9), original: &quote },
            Icmpv6Repr::PacketTooBig { mtu: 1280, original: &quote },
            Icmpv6Repr::TimeExceeded { reason: Icmpv6TimeExceeded::HopLimitExceeded, original: &quote },
            Icmpv6Repr::TimeExceeded { reason: Icmpv6TimeExceeded::FragReassembly, original: &quote },
            Icmpv6Repr::ParamProblem { reason: ParamProblem::UnrecognizedNextHeader, pointer: 6, original: &quote },
            Icmpv6Repr::UnknownError { msg_type: 100, code: 3, original: &quote },
            Icmpv6Repr::Ndp(NdpRepr::RouterSolicit { source_lladdr: None }),
        ];
        for repr in reprs {
            let bytes = emit(&repr);
            assert_eq!(parse(&bytes).unwrap(), repr);
            assert_eq!(bytes.len(), repr.buffer_len());
            assert_eq!(repr.is_error(), bytes[0] < 128, "{repr:?}");
        }
        let too_big = emit(&Icmpv6Repr::PacketTooBig { mtu: 0x0102_0304, original: &quote });
        assert_eq!(&too_big[4..8], &[1, 2, 3, 4]);
        assert_eq!(Icmpv6Packet::new_checked(&too_big[..]).unwrap().mtu(), 0x0102_0304);
        let problem =
            emit(&Icmpv6Repr::ParamProblem { reason: ParamProblem::UnrecognizedOption, pointer: 44, original: &quote });
        assert_eq!((problem[1], &problem[4..8]), (2, &[0, 0, 0, 44][..]));
        assert_eq!(Icmpv6Packet::new_checked(&problem[..]).unwrap().pointer(), 44);
    }

    #[test]
    fn errors_zero_the_unused_word() {
        let quote = original(IpProtocol::Udp, &UDP_HEADER);
        for repr in [
            Icmpv6Repr::DstUnreachable { reason: Icmpv6DstUnreachable::NoRoute, original: &quote },
            Icmpv6Repr::TimeExceeded { reason: Icmpv6TimeExceeded::HopLimitExceeded, original: &quote },
            Icmpv6Repr::UnknownError { msg_type: 5, code: 0, original: &quote },
        ] {
            assert_eq!(&emit(&repr)[4..8], &[0, 0, 0, 0]);
        }
    }

    /// Found by the `wire6` fuzz target (its own over-strict check): the bytes RFC 4443 says a receiver ignores
    /// (the unused word of destination unreachable and time exceeded, the code of packet too big) are not in
    /// the repr, and are written back as zero.
    #[test]
    fn ignored_fields_are_read_past_and_written_as_zero() {
        let quote = original(IpProtocol::Udp, &UDP_HEADER);
        for (ty, code, word) in [(1u8, 4u8, [0, 0x9c, 0x40, 0]), (3, 0, [1, 2, 3, 4]), (2, 0x9c, [0, 0, 5, 0])] {
            let mut bytes = [&[ty, code, 0, 0][..], &word, &quote].concat();
            Icmpv6Packet::new_unchecked(&mut bytes[..]).fill_checksum(&A, &B);
            let repr = parse(&bytes).unwrap();
            let again = emit(&repr);
            assert_eq!(parse(&again).unwrap(), repr);
            match ty {
                2 => assert_eq!((again[1], &again[4..8]), (0, &word[..])),
                _ => assert_eq!((again[1], &again[4..8]), (code, &[0u8; 4][..])),
            }
        }
    }

    #[test]
    fn bad_checksums_are_rejected() {
        let mut bytes = emit(&Icmpv6Repr::EchoRequest { ident: 1, seq_no: 2, data: b"abc" });
        let packet = Icmpv6Packet::new_checked(&bytes[..]).unwrap();
        // The pseudo-header counts: the right message between other addresses fails.
        assert!(Icmpv6Repr::parse(&packet, &B, &A).is_ok(), "addresses swapped sum the same");
        let c = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 3);
        assert_eq!(Icmpv6Repr::parse(&packet, &A, &c), Err(Error::BadChecksum));
        bytes[9] ^= 0x40;
        assert_eq!(parse(&bytes), Err(Error::BadChecksum));
    }

    #[test]
    fn unknown_and_odd_types() {
        // An unknown informational type is dropped (RFC 4443 §2.4 (b)); an unknown error is passed up.
        let mut info = [200u8, 0, 0, 0, 0, 0, 0, 0];
        Icmpv6Packet::new_unchecked(&mut info[..]).fill_checksum(&A, &B);
        assert_eq!(parse(&info), Err(Error::Unsupported));
        // Echo with a nonzero code.
        let mut bytes = emit(&Icmpv6Repr::EchoReply { ident: 1, seq_no: 1, data: b"" });
        let mut packet = Icmpv6Packet::new_unchecked(&mut bytes[..]);
        packet.set_msg_code(1);
        packet.fill_checksum(&A, &B);
        assert_eq!(parse(&bytes), Err(Error::Unsupported));
    }

    #[test]
    fn errors_must_quote_an_ipv6_header() {
        let quote = original(IpProtocol::Udp, &[]);
        for ty in [1u8, 2, 3, 4, 99] {
            let mut bytes = vec![ty, 0, 0, 0, 0, 0, 0, 0];
            bytes.extend_from_slice(&quote[..39]);
            Icmpv6Packet::new_unchecked(&mut bytes[..]).fill_checksum(&A, &B);
            assert_eq!(parse(&bytes), Err(Error::Truncated), "type {ty}");
            bytes.push(quote[39]);
            Icmpv6Packet::new_unchecked(&mut bytes[..]).fill_checksum(&A, &B);
            assert!(parse(&bytes).is_ok(), "type {ty}");
        }
    }

    #[test]
    fn every_truncation_is_an_error() {
        for len in 0..HEADER_LEN {
            let bytes = [128u8, 0, 0, 0, 0, 0, 0, 0];
            assert_eq!(Icmpv6Packet::new_checked(&bytes[..len]).unwrap_err(), Error::Truncated);
            let view = Icmpv6Packet::new_unchecked(&bytes[..len]);
            assert_eq!(Icmpv6Repr::parse(&view, &A, &B), Err(Error::Truncated));
        }
        let quote = original(IpProtocol::Udp, &UDP_HEADER);
        let bytes = emit(&Icmpv6Repr::PacketTooBig { mtu: 1280, original: &quote });
        for len in 0..bytes.len() {
            assert!(parse(&bytes[..len]).is_err(), "len {len}");
        }
    }

    #[test]
    fn codes_convert_both_ways() {
        for code in 0..=255u8 {
            assert_eq!(u8::from(Icmpv6DstUnreachable::from(code)), code);
            assert_eq!(u8::from(Icmpv6TimeExceeded::from(code)), code);
        }
        assert_eq!(Icmpv6DstUnreachable::from(4), Icmpv6DstUnreachable::PortUnreachable);
        assert_eq!(Icmpv6TimeExceeded::from(1), Icmpv6TimeExceeded::FragReassembly);
    }

    #[test]
    fn quoted_packets_find_the_transport_behind_extension_headers() {
        let tcp = [0x01, 0xbb, 0xc0, 0x00, 0xa1, 0xb2, 0xc3, 0xd4, 0, 0, 0, 0];
        let q_udp = original(IpProtocol::Udp, &UDP_HEADER);
        let q = QuotedPacket::parse(&q_udp).unwrap();
        assert_eq!((q.src_addr(), q.dst_addr(), q.protocol()), (A, B, Some(IpProtocol::Udp)));
        assert_eq!((q.src_port(), q.dst_port(), q.tcp_seq_number()), (Some(40000), Some(53), None));
        assert_eq!((q.header(), q.payload()), (&q_udp[..40], &UDP_HEADER[..]));
        assert_eq!(q.echo_request_ident(), None);

        // Hop-by-hop (8 bytes), a first fragment, destination options (16 bytes), then TCP.
        let mut chain = vec![44, 0, 1, 4, 0, 0, 0, 0];
        chain.extend([60, 0, 0, 1, 0, 0, 0, 9]);
        chain.extend([6, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        chain.extend(tcp);
        let quoted = original(IpProtocol::HOP_BY_HOP, &chain);
        let q = QuotedPacket::parse(&quoted).unwrap();
        assert_eq!(q.protocol(), Some(IpProtocol::Tcp));
        assert_eq!(
            (q.src_port(), q.dst_port(), q.tcp_seq_number()),
            (Some(443), Some(49152), Some(SeqNum(0xa1b2_c3d4)))
        );
        // Cut inside the TCP header, inside the extension headers, right after the fixed header.
        let q = QuotedPacket::parse(&quoted[..40 + 32 + 3]).unwrap();
        assert_eq!((q.protocol(), q.src_port(), q.dst_port()), (Some(IpProtocol::Tcp), Some(443), None));
        let q = QuotedPacket::parse(&quoted[..40 + 20]).unwrap();
        assert_eq!((q.protocol(), q.src_port(), q.payload()), (None, None, &[][..]));
        let q = QuotedPacket::parse(&quoted[..40]).unwrap();
        assert_eq!(q.protocol(), None);

        // A later fragment quotes no transport header.
        let later = original(IpProtocol::IPV6_FRAG, &[17, 0, 0, 8, 0, 0, 0, 1, 0x9c, 0x40, 0, 53]);
        assert_eq!(QuotedPacket::parse(&later).unwrap().protocol(), None);
        // No next header.
        assert_eq!(QuotedPacket::parse(&original(IpProtocol::IPV6_NO_NXT, &[0; 8])).unwrap().protocol(), None);
        // Ports only for TCP and UDP.
        let sctp = original(IpProtocol::Unknown(132), &UDP_HEADER);
        let other = QuotedPacket::parse(&sctp).unwrap();
        assert_eq!((other.protocol(), other.src_port()), (Some(IpProtocol::Unknown(132)), None));

        // An echo request's identifier.
        let echo = original(IpProtocol::ICMPV6, &[128, 0, 0, 0, 0xbe, 0xef, 0, 1]);
        assert_eq!(QuotedPacket::parse(&echo).unwrap().echo_request_ident(), Some(0xbeef));
        assert_eq!(QuotedPacket::parse(&echo[..45]).unwrap().echo_request_ident(), None);
        let reply = original(IpProtocol::ICMPV6, &[129, 0, 0, 0, 0xbe, 0xef, 0, 1]);
        assert_eq!(QuotedPacket::parse(&reply).unwrap().echo_request_ident(), None);
    }

    #[test]
    fn quoted_packets_must_be_ipv6() {
        let quoted = original(IpProtocol::Udp, &UDP_HEADER);
        assert_eq!(QuotedPacket::parse(&quoted[..39]).unwrap_err(), Error::Truncated);
        let mut v4 = quoted.clone();
        v4[0] = 0x45;
        assert_eq!(QuotedPacket::parse(&v4).unwrap_err(), Error::BadVersion);
    }

    #[test]
    fn quoted_extension_loops_are_bounded() {
        let mut chain = Vec::new();
        for _ in 0..40 {
            chain.extend([60, 0, 1, 4, 0, 0, 0, 0]);
        }
        assert_eq!(QuotedPacket::parse(&original(IpProtocol::IPV6_OPTS, &chain)).unwrap().protocol(), None);
    }

    proptest! {
        #[test]
        fn parsing_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200), fix in any::<bool>()) {
            let mut bytes = bytes;
            if fix && bytes.len() >= HEADER_LEN {
                // Valid checksums, so the parsers behind it run.
                Icmpv6Packet::new_unchecked(&mut bytes[..]).fill_checksum(&A, &B);
            }
            let _ = Icmpv6Repr::parse(&Icmpv6Packet::new_unchecked(&bytes[..]), &A, &B);
            if let Ok(q) = QuotedPacket::parse(&bytes) {
                let _ = (q.protocol(), q.src_port(), q.dst_port(), q.tcp_seq_number(), q.echo_request_ident());
            }
        }

        #[test]
        fn echo_and_errors_round_trip(kind in 0u8..7, code in any::<u8>(), word in any::<u32>(),
                                     data in proptest::collection::vec(any::<u8>(), 40..120)) {
            let repr = match kind {
                0 => Icmpv6Repr::EchoRequest { ident: word as u16, seq_no: (word >> 16) as u16, data: &data },
                1 => Icmpv6Repr::EchoReply { ident: word as u16, seq_no: (word >> 16) as u16, data: &data },
                2 => Icmpv6Repr::DstUnreachable { reason: code.into(), original: &data },
                3 => Icmpv6Repr::PacketTooBig { mtu: word, original: &data },
                4 => Icmpv6Repr::TimeExceeded { reason: code.into(), original: &data },
                5 => Icmpv6Repr::ParamProblem { reason: code.into(), pointer: word, original: &data },
                _ => Icmpv6Repr::UnknownError { msg_type: code % 128, code, original: &data },
            };
            let bytes = emit(&repr);
            let parsed = parse(&bytes);
            match repr {
                // Types 1 to 4 as "unknown" parse as what they are.
                Icmpv6Repr::UnknownError { msg_type: 1..=4, .. } => prop_assert!(parsed.is_ok()),
                _ => prop_assert_eq!(parsed.unwrap(), repr),
            }
        }
    }
}
