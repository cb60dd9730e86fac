//! The walk over an IPv6 packet's extension headers (RFC 8200 §4) with the answers RFC 8200 asks for.
//!
//! The walk stops at the first header that is not hop-by-hop, routing, destination options or an atomic
//! fragment: that is the upper-layer protocol (or a fragment to reassemble first, or "no next header"). It
//! never reads out of bounds and visits at most [`MAX_EXTENSION_HEADERS`] headers, so no input can loop.

use super::{
    field, frag_field, Ipv6FragmentHeader, Ipv6FragmentRepr, Ipv6Packet, FRAGMENT_HEADER_LEN, FRAGMENT_UNIT,
    HEADER_LEN, MAX_EXTENSION_HEADERS,
};
use crate::wire::ipv4::IpProtocol;
use crate::wire::{Error, Result};

/// The ICMPv6 parameter problem codes (RFC 4443 §3.4) the walk can ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ParamProblem {
    /// Code 0: erroneous header field encountered.
    ErroneousHeaderField,
    /// Code 1: unrecognized Next Header type encountered.
    UnrecognizedNextHeader,
    /// Code 2: unrecognized IPv6 option encountered.
    UnrecognizedOption,
    /// Code 3: a first fragment without the whole header chain (RFC 7112).
    IncompleteHeaderChain,
    /// Any other code (received messages only).
    Other(u8),
}

impl From<u8> for ParamProblem {
    fn from(code: u8) -> Self {
        match code {
            0 => ParamProblem::ErroneousHeaderField,
            1 => ParamProblem::UnrecognizedNextHeader,
            2 => ParamProblem::UnrecognizedOption,
            3 => ParamProblem::IncompleteHeaderChain,
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
            ParamProblem::IncompleteHeaderChain => 3,
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

/// The most padding (Pad1 and PadN) an option header can need in a row: it is a multiple of 8 bytes.
const MAX_PADDING: usize = 7;

/// Reads the options of a hop-by-hop or destination options `header` (whole, at `offset` from the IPv6
/// header) and applies RFC 8200 §4.2 to the first unrecognized one; `None` if every option may be skipped.
fn walk_options(header: &[u8], offset: usize, dst_multicast: bool) -> Result<Option<ExtHeaderWalk>> {
    let mut at = 2;
    // Padding in a row: more than 7 bytes of it, or a PadN with anything but zeros, pads nothing (an option
    // header is a multiple of 8 bytes) and can only carry data past the checks; as Linux (`ip6_parse_tlv`, RFC
    // 4942 §2.1.9.5), the packet is dropped.
    let mut padding = 0;
    while at < header.len() {
        let ty = header[at];
        if ty == option_type::PAD1 {
            padding += 1;
            if padding > MAX_PADDING {
                return Ok(Some(ExtHeaderWalk::Discard { pointer: offset + at }));
            }
            at += 1;
            continue;
        }
        let len = usize::from(*header.get(at + 1).ok_or(Error::BadOption)?);
        let end = at + 2 + len;
        if end > header.len() {
            return Err(Error::BadOption);
        }
        if ty == option_type::PADN {
            padding += 2 + len;
            if padding > MAX_PADDING || header[at + 2..end].iter().any(|&b| b != 0) {
                return Ok(Some(ExtHeaderWalk::Discard { pointer: offset + at }));
            }
            at = end;
            continue;
        }
        padding = 0;
        if ty != option_type::ROUTER_ALERT {
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

#[cfg(test)]
mod tests {
    use super::super::test_support::{packet, DST, PACKET};
    use super::*;
    use core::net::Ipv6Addr;

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
    fn padding_beyond_seven_bytes_or_not_zero_discards_the_packet() {
        let upper = ExtHeaderWalk::Upper { protocol: IpProtocol::Udp, offset: 48, fragment: None };
        let longer = ExtHeaderWalk::Upper { protocol: IpProtocol::Udp, offset: 56, fragment: None };
        let discard = |pointer| Ok(ExtHeaderWalk::Discard { pointer });
        for (options, expected) in [
            // Six Pad1 fill the header: the most an 8-byte header needs.
            (&[0u8, 0, 0, 0, 0, 0][..], Ok(upper)),
            (&[1, 4, 0, 0, 0, 0], Ok(upper)),
            // PadN carrying data.
            (&[1, 4, 0xde, 0xad, 0xbe, 0xef], discard(42)),
            // A router alert between two runs of padding resets the count.
            (&[1, 4, 0, 0, 0, 0, 5, 2, 0, 0, 1, 2, 0, 0], Ok(longer)),
            // Eight bytes of PadN.
            (&[1, 6, 0, 0, 0, 0, 0, 0], discard(42)),
            // Pad1 after a PadN: the eighth byte of padding.
            (&[1, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], discard(49)),
        ] {
            let headers = options_header(17, options);
            let buf = packet(IpProtocol::IPV6_OPTS, DST, &headers, &[0; 8]);
            assert_eq!(walk_bytes(&buf), expected, "{options:?}");
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
    fn param_problem_codes_convert_both_ways() {
        for code in 0..=255u8 {
            assert_eq!(u8::from(ParamProblem::from(code)), code);
        }
    }
}
