//! Neighbor Discovery for IPv6 (RFC 4861): router and neighbor solicitations and advertisements, redirects,
//! and the options a host uses (link-layer addresses, prefix information, MTU).
//!
//! NDP messages are ICMPv6 messages (types 133 to 137), so [`NdpRepr::parse`] reads an
//! [`Icmpv6Packet`] view, and [`super::Icmpv6Repr::parse`] calls it (after verifying the checksum once) to give
//! `Icmpv6Repr::Ndp`. Emitting goes the same way: `Icmpv6Repr::Ndp(repr).emit(..)` writes the message and the
//! checksum.
//!
//! Parsing checks what RFC 4861 §6.1 and §7.1 ask that the message alone can show: code 0, the least length
//! of each type, options of nonzero length that fit, a unicast target. The checks that need the IPv6 header
//! (hop limit 255, the source and destination rules) are [`NdpRepr::check_ip`], for the stack to call.
//! Unknown options are skipped (§4.6).

use super::ethernet::EthernetAddress;
use super::icmpv6::{msg_type, Icmpv6Packet};
use super::ipv6;
use super::{Error, Result};
use core::fmt;
use core::net::Ipv6Addr;

/// The hop limit every NDP message is sent with and must arrive with (RFC 4861 §6.1, §7.1): proof that it
/// did not cross a router.
pub const HOP_LIMIT: u8 = 255;

/// Offsets in the ICMPv6 message.
mod field {
    use core::ops::Range;

    /// Router advertisement: current hop limit, M/O flags, router lifetime, reachable time, retrans timer.
    pub const RA_HOP_LIMIT: usize = 4;
    pub const RA_FLAGS: usize = 5;
    pub const RA_ROUTER_LIFETIME: Range<usize> = 6..8;
    pub const RA_REACHABLE_TIME: Range<usize> = 8..12;
    pub const RA_RETRANS_TIMER: Range<usize> = 12..16;
    /// Neighbor advertisement R/S/O flags (then 29 reserved bits).
    pub const NA_FLAGS: usize = 4;
    /// Target address of NS, NA and redirect.
    pub const TARGET: Range<usize> = 8..24;
    /// Destination address of a redirect.
    pub const DESTINATION: Range<usize> = 24..40;

    /// Where the options start: each type's fixed part ends there (also its least length).
    pub const RS_OPTIONS: usize = 8;
    pub const RA_OPTIONS: usize = 16;
    pub const NS_NA_OPTIONS: usize = 24;
    pub const REDIRECT_OPTIONS: usize = 40;
}

mod flag {
    pub const MANAGED: u8 = 0x80;
    pub const OTHER: u8 = 0x40;
    pub const ROUTER: u8 = 0x80;
    pub const SOLICITED: u8 = 0x40;
    pub const OVERRIDE: u8 = 0x20;
    pub const ON_LINK: u8 = 0x80;
    pub const AUTONOMOUS: u8 = 0x40;
}

/// Option types (RFC 4861 §4.6).
mod option {
    pub const SOURCE_LLADDR: u8 = 1;
    pub const TARGET_LLADDR: u8 = 2;
    pub const PREFIX_INFO: u8 = 3;
    pub const MTU: u8 = 5;
    /// Option lengths count 8-byte units, type and length included.
    pub const UNIT: usize = 8;
    /// Lengths (in units) of the options with a fixed size.
    pub const LLADDR_UNITS: usize = 1;
    pub const PREFIX_INFO_UNITS: usize = 4;
    pub const MTU_UNITS: usize = 1;
}

/// A prefix information option (RFC 4861 §4.6.2): what a router says about an on-link prefix and whether
/// hosts may form addresses in it (SLAAC, RFC 4862).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PrefixInformation {
    pub prefix_len: u8,
    /// L: the prefix is on-link.
    pub on_link: bool,
    /// A: hosts may form addresses in it by stateless autoconfiguration.
    pub autonomous: bool,
    /// Seconds; 0xffffffff is infinity.
    pub valid_lifetime: u32,
    /// Seconds; 0xffffffff is infinity.
    pub preferred_lifetime: u32,
    pub prefix: Ipv6Addr,
}

impl PrefixInformation {
    const LEN: usize = option::PREFIX_INFO_UNITS * option::UNIT;

    /// Reads the 32 bytes of the option (type and length included); `BadOption` for a prefix length above 128.
    fn parse(bytes: &[u8]) -> Result<Self> {
        let u32_at = |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
        let mut prefix = [0u8; 16];
        prefix.copy_from_slice(&bytes[16..32]);
        let info = PrefixInformation {
            prefix_len: bytes[2],
            on_link: bytes[3] & flag::ON_LINK != 0,
            autonomous: bytes[3] & flag::AUTONOMOUS != 0,
            valid_lifetime: u32_at(4),
            preferred_lifetime: u32_at(8),
            prefix: Ipv6Addr::from(prefix),
        };
        if info.prefix_len > 128 {
            return Err(Error::BadOption);
        }
        Ok(info)
    }

    fn emit(&self, bytes: &mut [u8]) {
        bytes[0] = option::PREFIX_INFO;
        bytes[1] = option::PREFIX_INFO_UNITS as u8;
        bytes[2] = self.prefix_len;
        bytes[3] = if self.on_link { flag::ON_LINK } else { 0 } | if self.autonomous { flag::AUTONOMOUS } else { 0 };
        bytes[4..8].copy_from_slice(&self.valid_lifetime.to_be_bytes());
        bytes[8..12].copy_from_slice(&self.preferred_lifetime.to_be_bytes());
        bytes[12..16].fill(0);
        bytes[16..32].copy_from_slice(&self.prefix.octets());
    }
}

/// The prefix information options of a router advertisement: read from a parsed message (no copy), or given
/// as a slice to emit. Two lists are equal when they hold the same prefixes in the same order.
#[derive(Clone, Copy)]
pub struct Prefixes<'a>(PrefixSource<'a>);

#[derive(Clone, Copy)]
enum PrefixSource<'a> {
    /// A message's options, already checked by [`walk_options`].
    Options(&'a [u8]),
    List(&'a [PrefixInformation]),
}

impl<'a> Prefixes<'a> {
    pub const fn from_slice(list: &'a [PrefixInformation]) -> Self {
        Prefixes(PrefixSource::List(list))
    }

    pub const fn none() -> Self {
        Prefixes(PrefixSource::List(&[]))
    }

    /// The prefixes in message order.
    pub fn iter(&self) -> impl Iterator<Item = PrefixInformation> + 'a {
        let (options, list): (&'a [u8], &'a [PrefixInformation]) = match self.0 {
            PrefixSource::Options(bytes) => (bytes, &[]),
            PrefixSource::List(list) => (&[], list),
        };
        OptionIter { bytes: options }
            .filter_map(|(ty, body)| if ty == option::PREFIX_INFO { PrefixInformation::parse(body).ok() } else { None })
            .chain(list.iter().copied())
    }

    pub fn len(&self) -> usize {
        self.iter().count()
    }

    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }
}

impl PartialEq for Prefixes<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for Prefixes<'_> {}

impl fmt::Debug for Prefixes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Iterates the (type, whole option) pairs of an options area that [`walk_options`] accepted.
struct OptionIter<'a> {
    bytes: &'a [u8],
}

impl<'a> Iterator for OptionIter<'a> {
    type Item = (u8, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let len = usize::from(*self.bytes.get(1)?) * option::UNIT;
        if len == 0 || len > self.bytes.len() {
            return None;
        }
        let (this, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        Some((this[0], this))
    }
}

/// What a message's options say, the prefixes aside.
#[derive(Default)]
struct Options {
    source_lladdr: Option<EthernetAddress>,
    target_lladdr: Option<EthernetAddress>,
    mtu: Option<u32>,
}

/// Checks an options area and reads the options a host uses (the first of each kind counts). Errors:
/// `BadOption` for a zero length (§4.6), a known option of the wrong length, or a prefix length above 128;
/// `Truncated` for an option that runs past the message.
fn walk_options(bytes: &[u8]) -> Result<Options> {
    let mut options = Options::default();
    let mut rest = bytes;
    while !rest.is_empty() {
        let units = usize::from(*rest.get(1).ok_or(Error::Truncated)?);
        if units == 0 {
            return Err(Error::BadOption);
        }
        let body = rest.get(..units * option::UNIT).ok_or(Error::Truncated)?;
        let lladdr = || EthernetAddress::from_bytes(&body[2..8]).ok_or(Error::BadOption);
        match body[0] {
            option::SOURCE_LLADDR | option::TARGET_LLADDR if units != option::LLADDR_UNITS => {
                return Err(Error::BadOption)
            }
            option::SOURCE_LLADDR => {
                options.source_lladdr = options.source_lladdr.or(Some(lladdr()?));
            }
            option::TARGET_LLADDR => {
                options.target_lladdr = options.target_lladdr.or(Some(lladdr()?));
            }
            option::PREFIX_INFO if units != option::PREFIX_INFO_UNITS => return Err(Error::BadOption),
            option::PREFIX_INFO => {
                PrefixInformation::parse(body)?;
            }
            option::MTU if units != option::MTU_UNITS => return Err(Error::BadOption),
            option::MTU => {
                let mtu = u32::from_be_bytes([body[4], body[5], body[6], body[7]]);
                options.mtu = options.mtu.or(Some(mtu));
            }
            _ => {}
        }
        rest = &rest[body.len()..];
    }
    Ok(options)
}

/// A Neighbor Discovery message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NdpRepr<'a> {
    /// Type 133.
    RouterSolicit { source_lladdr: Option<EthernetAddress> },
    /// Type 134. `router_lifetime` in seconds (0: not a default router), `reachable_time` and `retrans_time`
    /// in milliseconds (0: unspecified), `hop_limit` 0 for unspecified.
    RouterAdvert {
        hop_limit: u8,
        /// M: addresses are available by DHCPv6.
        managed: bool,
        /// O: other configuration is available by DHCPv6.
        other: bool,
        router_lifetime: u16,
        reachable_time: u32,
        retrans_time: u32,
        source_lladdr: Option<EthernetAddress>,
        mtu: Option<u32>,
        prefixes: Prefixes<'a>,
    },
    /// Type 135.
    NeighborSolicit { target: Ipv6Addr, source_lladdr: Option<EthernetAddress> },
    /// Type 136.
    NeighborAdvert {
        /// R: the sender is a router.
        router: bool,
        /// S: the answer to a solicitation.
        solicited: bool,
        /// O: the link-layer address should replace a cached one.
        override_: bool,
        target: Ipv6Addr,
        target_lladdr: Option<EthernetAddress>,
    },
    /// Type 137: packets for `destination` are better sent to `target`. (A redirected header option is
    /// skipped when parsing and never emitted.)
    Redirect { target: Ipv6Addr, destination: Ipv6Addr, target_lladdr: Option<EthernetAddress> },
}

fn addr_at(bytes: &[u8], range: core::ops::Range<usize>) -> Ipv6Addr {
    let mut o = [0u8; 16];
    o.copy_from_slice(&bytes[range]);
    Ipv6Addr::from(o)
}

impl<'a> NdpRepr<'a> {
    /// Parses an NDP message from an ICMPv6 view (the checksum is not verified here: `Icmpv6Repr::parse` does
    /// that). `Unsupported` for a type outside 133..=137; `BadField` for a nonzero code, a multicast target
    /// (NS, NA) or destination (redirect), or a redirect target neither link-local nor the destination;
    /// `Truncated` below the type's least length; option errors as above.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Icmpv6Packet<&'a T>) -> Result<NdpRepr<'a>> {
        packet.check_len()?;
        let bytes = packet.bytes_ref();
        let options_at = match packet.msg_type() {
            msg_type::ROUTER_SOLICIT => field::RS_OPTIONS,
            msg_type::ROUTER_ADVERT => field::RA_OPTIONS,
            msg_type::NEIGHBOR_SOLICIT | msg_type::NEIGHBOR_ADVERT => field::NS_NA_OPTIONS,
            msg_type::REDIRECT => field::REDIRECT_OPTIONS,
            _ => return Err(Error::Unsupported),
        };
        if packet.msg_code() != 0 {
            return Err(Error::BadField);
        }
        let option_bytes = bytes.get(options_at..).ok_or(Error::Truncated)?;
        let options = walk_options(option_bytes)?;
        let repr = match packet.msg_type() {
            msg_type::ROUTER_SOLICIT => NdpRepr::RouterSolicit { source_lladdr: options.source_lladdr },
            msg_type::ROUTER_ADVERT => {
                let u32_at = |r: core::ops::Range<usize>| {
                    u32::from_be_bytes([bytes[r.start], bytes[r.start + 1], bytes[r.start + 2], bytes[r.start + 3]])
                };
                let lifetime = &bytes[field::RA_ROUTER_LIFETIME];
                NdpRepr::RouterAdvert {
                    hop_limit: bytes[field::RA_HOP_LIMIT],
                    managed: bytes[field::RA_FLAGS] & flag::MANAGED != 0,
                    other: bytes[field::RA_FLAGS] & flag::OTHER != 0,
                    router_lifetime: u16::from_be_bytes([lifetime[0], lifetime[1]]),
                    reachable_time: u32_at(field::RA_REACHABLE_TIME),
                    retrans_time: u32_at(field::RA_RETRANS_TIMER),
                    source_lladdr: options.source_lladdr,
                    mtu: options.mtu,
                    prefixes: Prefixes(PrefixSource::Options(option_bytes)),
                }
            }
            msg_type::NEIGHBOR_SOLICIT => {
                NdpRepr::NeighborSolicit { target: addr_at(bytes, field::TARGET), source_lladdr: options.source_lladdr }
            }
            msg_type::NEIGHBOR_ADVERT => {
                let flags = bytes[field::NA_FLAGS];
                NdpRepr::NeighborAdvert {
                    router: flags & flag::ROUTER != 0,
                    solicited: flags & flag::SOLICITED != 0,
                    override_: flags & flag::OVERRIDE != 0,
                    target: addr_at(bytes, field::TARGET),
                    target_lladdr: options.target_lladdr,
                }
            }
            _ => NdpRepr::Redirect {
                target: addr_at(bytes, field::TARGET),
                destination: addr_at(bytes, field::DESTINATION),
                target_lladdr: options.target_lladdr,
            },
        };
        match repr {
            NdpRepr::NeighborSolicit { target, .. } | NdpRepr::NeighborAdvert { target, .. }
                if target.is_multicast() =>
            {
                Err(Error::BadField)
            }
            // RFC 4861 §8.1: a unicast destination, and a target that is a (link-local) router or the
            // destination itself.
            NdpRepr::Redirect { destination, target, .. }
                if destination.is_multicast() || !(ipv6::is_link_local(&target) || target == destination) =>
            {
                Err(Error::BadField)
            }
            _ => Ok(repr),
        }
    }

    /// The checks of RFC 4861 §6.1 and §7.1 that need the IPv6 header the message came in: `BadField` unless
    /// the hop limit is 255; a router advertisement or redirect must come from a link-local address; a
    /// solicitation from the unspecified address must carry no source link-layer address (and an NS then goes
    /// to a solicited-node address); an advertisement to a multicast address must not be solicited.
    pub fn check_ip(&self, src: &Ipv6Addr, dst: &Ipv6Addr, hop_limit: u8) -> Result<()> {
        let ok = hop_limit == HOP_LIMIT
            && match self {
                NdpRepr::RouterSolicit { source_lladdr } => !src.is_unspecified() || source_lladdr.is_none(),
                NdpRepr::RouterAdvert { .. } | NdpRepr::Redirect { .. } => ipv6::is_link_local(src),
                NdpRepr::NeighborSolicit { source_lladdr, .. } => {
                    !src.is_unspecified() || (ipv6::is_solicited_node(dst) && source_lladdr.is_none())
                }
                NdpRepr::NeighborAdvert { solicited, .. } => !(dst.is_multicast() && *solicited),
            };
        if ok {
            Ok(())
        } else {
            Err(Error::BadField)
        }
    }

    fn msg_type(&self) -> u8 {
        match self {
            NdpRepr::RouterSolicit { .. } => msg_type::ROUTER_SOLICIT,
            NdpRepr::RouterAdvert { .. } => msg_type::ROUTER_ADVERT,
            NdpRepr::NeighborSolicit { .. } => msg_type::NEIGHBOR_SOLICIT,
            NdpRepr::NeighborAdvert { .. } => msg_type::NEIGHBOR_ADVERT,
            NdpRepr::Redirect { .. } => msg_type::REDIRECT,
        }
    }

    /// The fixed part's length and the link-layer address option to write (with its type).
    fn layout(&self) -> (usize, Option<(u8, EthernetAddress)>) {
        let src = |a: &Option<EthernetAddress>| a.map(|a| (option::SOURCE_LLADDR, a));
        let tgt = |a: &Option<EthernetAddress>| a.map(|a| (option::TARGET_LLADDR, a));
        match self {
            NdpRepr::RouterSolicit { source_lladdr } => (field::RS_OPTIONS, src(source_lladdr)),
            NdpRepr::RouterAdvert { source_lladdr, .. } => (field::RA_OPTIONS, src(source_lladdr)),
            NdpRepr::NeighborSolicit { source_lladdr, .. } => (field::NS_NA_OPTIONS, src(source_lladdr)),
            NdpRepr::NeighborAdvert { target_lladdr, .. } => (field::NS_NA_OPTIONS, tgt(target_lladdr)),
            NdpRepr::Redirect { target_lladdr, .. } => (field::REDIRECT_OPTIONS, tgt(target_lladdr)),
        }
    }

    /// Bytes of the whole ICMPv6 message.
    pub fn buffer_len(&self) -> usize {
        let (fixed, lladdr) = self.layout();
        let mut len = fixed + lladdr.map_or(0, |_| option::LLADDR_UNITS * option::UNIT);
        if let NdpRepr::RouterAdvert { mtu, prefixes, .. } = self {
            len += mtu.map_or(0, |_| option::MTU_UNITS * option::UNIT);
            len += prefixes.len() * PrefixInformation::LEN;
        }
        len
    }

    /// Writes the message (without the checksum: `Icmpv6Repr::emit` fills it) into a view of exactly
    /// [`buffer_len`](Self::buffer_len) bytes. Options go in the order link-layer address, MTU, prefixes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Icmpv6Packet<T>) {
        let (fixed, lladdr) = self.layout();
        packet.set_msg_type(self.msg_type());
        packet.set_msg_code(0);
        packet.set_checksum(0);
        let bytes = packet.bytes_mut();
        bytes[4..fixed].fill(0);
        match *self {
            NdpRepr::RouterSolicit { .. } => {}
            NdpRepr::RouterAdvert {
                hop_limit, managed, other, router_lifetime, reachable_time, retrans_time, ..
            } => {
                bytes[field::RA_HOP_LIMIT] = hop_limit;
                bytes[field::RA_FLAGS] = if managed { flag::MANAGED } else { 0 } | if other { flag::OTHER } else { 0 };
                bytes[field::RA_ROUTER_LIFETIME].copy_from_slice(&router_lifetime.to_be_bytes());
                bytes[field::RA_REACHABLE_TIME].copy_from_slice(&reachable_time.to_be_bytes());
                bytes[field::RA_RETRANS_TIMER].copy_from_slice(&retrans_time.to_be_bytes());
            }
            NdpRepr::NeighborSolicit { target, .. } => bytes[field::TARGET].copy_from_slice(&target.octets()),
            NdpRepr::NeighborAdvert { router, solicited, override_, target, .. } => {
                bytes[field::NA_FLAGS] = if router { flag::ROUTER } else { 0 }
                    | if solicited { flag::SOLICITED } else { 0 }
                    | if override_ { flag::OVERRIDE } else { 0 };
                bytes[field::TARGET].copy_from_slice(&target.octets());
            }
            NdpRepr::Redirect { target, destination, .. } => {
                bytes[field::TARGET].copy_from_slice(&target.octets());
                bytes[field::DESTINATION].copy_from_slice(&destination.octets());
            }
        }
        let mut at = fixed;
        if let Some((ty, addr)) = lladdr {
            bytes[at] = ty;
            bytes[at + 1] = option::LLADDR_UNITS as u8;
            bytes[at + 2..at + 8].copy_from_slice(addr.as_bytes());
            at += option::LLADDR_UNITS * option::UNIT;
        }
        if let NdpRepr::RouterAdvert { mtu, prefixes, .. } = self {
            if let Some(mtu) = mtu {
                bytes[at..at + 4].copy_from_slice(&[option::MTU, option::MTU_UNITS as u8, 0, 0]);
                bytes[at + 4..at + 8].copy_from_slice(&mtu.to_be_bytes());
                at += option::MTU_UNITS * option::UNIT;
            }
            for prefix in prefixes.iter() {
                prefix.emit(&mut bytes[at..at + PrefixInformation::LEN]);
                at += PrefixInformation::LEN;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::icmpv6::Icmpv6Repr;
    use proptest::prelude::*;

    const LL_A: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
    const LL_B: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 2);
    const MAC: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);

    fn prefix() -> PrefixInformation {
        PrefixInformation {
            prefix_len: 64,
            on_link: true,
            autonomous: true,
            valid_lifetime: 2_592_000,
            preferred_lifetime: 604_800,
            prefix: "2001:db8:1::".parse().unwrap(),
        }
    }

    fn emit(repr: &NdpRepr<'_>) -> Vec<u8> {
        let mut buf = vec![0xa5; repr.buffer_len()];
        Icmpv6Repr::Ndp(*repr).emit(&mut Icmpv6Packet::new_unchecked(&mut buf[..]), &LL_A, &LL_B);
        buf
    }

    /// Parses as the stack would: checksum and all.
    fn parse(bytes: &[u8]) -> Result<NdpRepr<'_>> {
        match Icmpv6Repr::parse(&Icmpv6Packet::new_checked(bytes)?, &LL_A, &LL_B)? {
            Icmpv6Repr::Ndp(ndp) => Ok(ndp),
            other => panic!("not NDP: {other:?}"),
        }
    }

    /// `bytes` with its checksum made right (for hand-edited messages).
    fn fixed(mut bytes: Vec<u8>) -> Vec<u8> {
        Icmpv6Packet::new_unchecked(&mut bytes[..]).fill_checksum(&LL_A, &LL_B);
        bytes
    }

    #[test]
    fn neighbor_solicitation_known_bytes() {
        let target: Ipv6Addr = "2001:db8::5".parse().unwrap();
        let repr = NdpRepr::NeighborSolicit { target, source_lladdr: Some(MAC) };
        let bytes = emit(&repr);
        let mut expected = vec![135, 0, bytes[2], bytes[3], 0, 0, 0, 0];
        expected.extend_from_slice(&target.octets());
        expected.extend_from_slice(&[1, 1, 2, 0, 0, 0, 0, 1]);
        assert_eq!(bytes, expected);
        assert_eq!(parse(&bytes).unwrap(), repr);
    }

    #[test]
    fn every_message_round_trips() {
        let prefixes = [prefix(), PrefixInformation { on_link: false, prefix_len: 48, ..prefix() }];
        let reprs = [
            NdpRepr::RouterSolicit { source_lladdr: Some(MAC) },
            NdpRepr::RouterSolicit { source_lladdr: None },
            NdpRepr::RouterAdvert {
                hop_limit: 64,
                managed: true,
                other: false,
                router_lifetime: 1800,
                reachable_time: 30_000,
                retrans_time: 1000,
                source_lladdr: Some(MAC),
                mtu: Some(1500),
                prefixes: Prefixes::from_slice(&prefixes),
            },
            NdpRepr::RouterAdvert {
                hop_limit: 0,
                managed: false,
                other: true,
                router_lifetime: 0,
                reachable_time: 0,
                retrans_time: 0,
                source_lladdr: None,
                mtu: None,
                prefixes: Prefixes::none(),
            },
            NdpRepr::NeighborSolicit { target: LL_B, source_lladdr: None },
            NdpRepr::NeighborAdvert {
                router: true,
                solicited: true,
                override_: false,
                target: LL_A,
                target_lladdr: Some(MAC),
            },
            NdpRepr::NeighborAdvert {
                router: false,
                solicited: false,
                override_: true,
                target: LL_A,
                target_lladdr: None,
            },
            NdpRepr::Redirect { target: LL_B, destination: "2001:db8::9".parse().unwrap(), target_lladdr: Some(MAC) },
        ];
        for repr in reprs {
            let bytes = emit(&repr);
            assert_eq!(bytes.len(), repr.buffer_len());
            assert_eq!(parse(&bytes).unwrap(), repr, "{repr:?}");
        }
    }

    #[test]
    fn router_advertisement_fields_sit_where_rfc_4861_puts_them() {
        let prefixes = [prefix()];
        let repr = NdpRepr::RouterAdvert {
            hop_limit: 64,
            managed: true,
            other: true,
            router_lifetime: 0x0708,
            reachable_time: 0x0102_0304,
            retrans_time: 0x0506_0708,
            source_lladdr: None,
            mtu: Some(1280),
            prefixes: Prefixes::from_slice(&prefixes),
        };
        let b = emit(&repr);
        assert_eq!(&b[4..16], &[64, 0xc0, 0x07, 0x08, 1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(&b[16..24], &[5, 1, 0, 0, 0, 0, 0x05, 0x00]);
        assert_eq!(&b[24..28], &[3, 4, 64, 0xc0]);
        assert_eq!(&b[28..36], &[0, 0x27, 0x8d, 0x00, 0, 0x09, 0x3a, 0x80]);
        assert_eq!(&b[36..40], &[0, 0, 0, 0]);
        assert_eq!(&b[40..56], &prefix().prefix.octets());
    }

    #[test]
    fn neighbor_advertisement_flags() {
        for (router, solicited, override_, bits) in [
            (true, false, false, 0x80u8),
            (false, true, false, 0x40),
            (false, false, true, 0x20),
            (true, true, true, 0xe0),
        ] {
            let repr = NdpRepr::NeighborAdvert { router, solicited, override_, target: LL_A, target_lladdr: None };
            let bytes = emit(&repr);
            assert_eq!(&bytes[4..8], &[bits, 0, 0, 0]);
            assert_eq!(parse(&bytes).unwrap(), repr);
        }
    }

    #[test]
    fn unknown_options_are_skipped_and_the_first_of_each_kind_counts() {
        let mut bytes = emit(&NdpRepr::NeighborSolicit { target: LL_B, source_lladdr: Some(MAC) });
        // An unknown option (type 200, 16 bytes), a nonce (14), a second source link-layer address.
        bytes.extend([200, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        bytes.extend([14, 1, 1, 2, 3, 4, 5, 6]);
        bytes.extend([1, 1, 9, 9, 9, 9, 9, 9]);
        let bytes = fixed(bytes);
        assert_eq!(parse(&bytes).unwrap(), NdpRepr::NeighborSolicit { target: LL_B, source_lladdr: Some(MAC) });
        // The redirected header option is skipped too.
        let mut redirect = emit(&NdpRepr::Redirect { target: LL_B, destination: LL_A, target_lladdr: None });
        redirect.extend([4, 2, 0, 0, 0, 0, 0, 0, 0x60, 0, 0, 0, 0, 0, 0, 0]);
        assert!(parse(&fixed(redirect)).is_ok());
    }

    #[test]
    fn option_errors() {
        let base = emit(&NdpRepr::RouterSolicit { source_lladdr: None });
        for (option, error) in [
            (&[1u8, 0, 0, 0, 0, 0, 0, 0][..], Error::BadOption), // length 0 (RFC 4861 §4.6)
            (&[200, 0, 0, 0, 0, 0, 0, 0][..], Error::BadOption), // length 0, unknown type
            (&[1, 2, 0, 0, 0, 0, 0, 0][..], Error::Truncated),   // runs past the message
            (&[1][..], Error::Truncated),                        // no length byte
            (&[1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0][..], Error::BadOption), // lladdr of 16 bytes
            (&[5, 2, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0][..], Error::BadOption), // MTU of 16 bytes
            (&[3, 1, 64, 0, 0, 0, 0, 0][..], Error::BadOption),  // prefix information of 8 bytes
        ] {
            let bytes = fixed([&base[..], option].concat());
            assert_eq!(parse(&bytes), Err(error), "{option:?}");
        }
        let mut info = emit(&NdpRepr::RouterAdvert {
            hop_limit: 0,
            managed: false,
            other: false,
            router_lifetime: 0,
            reachable_time: 0,
            retrans_time: 0,
            source_lladdr: None,
            mtu: None,
            prefixes: Prefixes::from_slice(&[prefix()]),
        });
        info[18] = 129; // prefix length
        assert_eq!(parse(&fixed(info)), Err(Error::BadOption));
    }

    #[test]
    fn message_errors() {
        // Code not 0.
        let mut bytes = emit(&NdpRepr::RouterSolicit { source_lladdr: None });
        bytes[1] = 1;
        assert_eq!(parse(&fixed(bytes)), Err(Error::BadField));
        // Shorter than the type's fixed part.
        for (ty, least) in [(133u8, 8usize), (134, 16), (135, 24), (136, 24), (137, 40)] {
            for len in 8..least {
                let mut bytes = vec![0u8; len];
                bytes[0] = ty;
                assert_eq!(parse(&fixed(bytes)), Err(Error::Truncated), "type {ty} len {len}");
            }
            let mut bytes = vec![0u8; least];
            bytes[0] = ty;
            assert!(parse(&fixed(bytes)).is_ok(), "type {ty}");
        }
        // Multicast targets and redirect destinations.
        let group = ipv6::ALL_NODES;
        for repr in [
            NdpRepr::NeighborSolicit { target: group, source_lladdr: None },
            NdpRepr::NeighborAdvert {
                router: false,
                solicited: false,
                override_: false,
                target: group,
                target_lladdr: None,
            },
            NdpRepr::Redirect { target: LL_A, destination: group, target_lladdr: None },
            NdpRepr::Redirect {
                target: "2001:db8::1".parse().unwrap(),
                destination: "2001:db8::2".parse().unwrap(),
                target_lladdr: None,
            },
        ] {
            assert_eq!(parse(&emit(&repr)), Err(Error::BadField), "{repr:?}");
        }
        // Other types are not NDP.
        let echo = [128u8, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(NdpRepr::parse(&Icmpv6Packet::new_unchecked(&echo[..])), Err(Error::Unsupported));
        assert_eq!(NdpRepr::parse(&Icmpv6Packet::new_unchecked(&echo[..3])), Err(Error::Truncated));
    }

    #[test]
    fn checks_that_need_the_ip_header() {
        let ns = NdpRepr::NeighborSolicit { target: LL_B, source_lladdr: Some(MAC) };
        let dad = NdpRepr::NeighborSolicit { target: LL_B, source_lladdr: None };
        let unspecified = Ipv6Addr::UNSPECIFIED;
        let group = ipv6::solicited_node(&LL_B);
        assert_eq!(ns.check_ip(&LL_A, &group, 255), Ok(()));
        assert_eq!(ns.check_ip(&LL_A, &group, 254), Err(Error::BadField), "hop limit 255 only");
        assert_eq!(dad.check_ip(&unspecified, &group, 255), Ok(()), "duplicate address detection");
        assert_eq!(ns.check_ip(&unspecified, &group, 255), Err(Error::BadField), "no lladdr from ::");
        assert_eq!(dad.check_ip(&unspecified, &LL_B, 255), Err(Error::BadField), "DAD goes to the group");

        let rs = NdpRepr::RouterSolicit { source_lladdr: Some(MAC) };
        assert_eq!(rs.check_ip(&LL_A, &ipv6::ALL_ROUTERS, 255), Ok(()));
        assert_eq!(rs.check_ip(&unspecified, &ipv6::ALL_ROUTERS, 255), Err(Error::BadField));
        assert_eq!(
            NdpRepr::RouterSolicit { source_lladdr: None }.check_ip(&unspecified, &ipv6::ALL_ROUTERS, 255),
            Ok(())
        );

        let ra = NdpRepr::RouterAdvert {
            hop_limit: 64,
            managed: false,
            other: false,
            router_lifetime: 1800,
            reachable_time: 0,
            retrans_time: 0,
            source_lladdr: None,
            mtu: None,
            prefixes: Prefixes::none(),
        };
        assert_eq!(ra.check_ip(&LL_A, &ipv6::ALL_NODES, 255), Ok(()));
        let global: Ipv6Addr = "2001:db8::1".parse().unwrap();
        assert_eq!(ra.check_ip(&global, &ipv6::ALL_NODES, 255), Err(Error::BadField), "RA from link-local only");
        let redirect = NdpRepr::Redirect { target: LL_B, destination: global, target_lladdr: None };
        assert_eq!(redirect.check_ip(&LL_A, &LL_B, 255), Ok(()));
        assert_eq!(redirect.check_ip(&global, &LL_B, 255), Err(Error::BadField));

        let na = |solicited| NdpRepr::NeighborAdvert {
            router: false,
            solicited,
            override_: true,
            target: LL_A,
            target_lladdr: Some(MAC),
        };
        assert_eq!(na(true).check_ip(&LL_A, &LL_B, 255), Ok(()));
        assert_eq!(na(false).check_ip(&LL_A, &ipv6::ALL_NODES, 255), Ok(()));
        assert_eq!(na(true).check_ip(&LL_A, &ipv6::ALL_NODES, 255), Err(Error::BadField), "solicited to a group");
    }

    #[test]
    fn prefix_lists_compare_by_content() {
        let list = [prefix()];
        let ra = NdpRepr::RouterAdvert {
            hop_limit: 1,
            managed: false,
            other: false,
            router_lifetime: 1,
            reachable_time: 1,
            retrans_time: 1,
            source_lladdr: Some(MAC),
            mtu: Some(9000),
            prefixes: Prefixes::from_slice(&list),
        };
        let bytes = emit(&ra);
        let NdpRepr::RouterAdvert { prefixes, .. } = parse(&bytes).unwrap() else { panic!("not an RA") };
        assert_eq!(prefixes, Prefixes::from_slice(&list));
        assert_ne!(prefixes, Prefixes::none());
        assert_eq!((prefixes.len(), prefixes.is_empty()), (1, false));
        assert!(Prefixes::none().is_empty());
        assert_eq!(format!("{:?}", Prefixes::none()), "[]");
    }

    proptest! {
        #[test]
        fn parsing_arbitrary_bytes_never_panics(ty in 133u8..=137, body in proptest::collection::vec(any::<u8>(), 0..160)) {
            let mut bytes = vec![ty, 0, 0, 0];
            bytes.extend(body);
            let packet = Icmpv6Packet::new_unchecked(&bytes[..]);
            if let Ok(repr) = NdpRepr::parse(&packet) {
                let _ = repr.check_ip(&LL_A, &LL_B, 255);
                if let NdpRepr::RouterAdvert { prefixes, .. } = repr {
                    prop_assert!(prefixes.len() <= bytes.len() / 32);
                }
                // What parses re-emits into what parses the same.
                let again = emit(&repr);
                prop_assert_eq!(parse(&again).unwrap(), repr);
            }
        }

        #[test]
        fn router_advertisements_round_trip(hop_limit in any::<u8>(), flags in 0u8..4, lifetimes in any::<(u16, u32, u32)>(),
                                            mac in proptest::option::of(any::<[u8; 6]>()), mtu in proptest::option::of(any::<u32>()),
                                            raw in proptest::collection::vec((0u8..=128, any::<(bool, bool, u32, u32, [u8; 16])>()), 0..4)) {
            let list: Vec<PrefixInformation> = raw
                .into_iter()
                .map(|(prefix_len, (on_link, autonomous, valid_lifetime, preferred_lifetime, prefix))| PrefixInformation {
                    prefix_len, on_link, autonomous, valid_lifetime, preferred_lifetime, prefix: prefix.into(),
                })
                .collect();
            let repr = NdpRepr::RouterAdvert {
                hop_limit,
                managed: flags & 1 != 0,
                other: flags & 2 != 0,
                router_lifetime: lifetimes.0,
                reachable_time: lifetimes.1,
                retrans_time: lifetimes.2,
                source_lladdr: mac.map(EthernetAddress),
                mtu,
                prefixes: Prefixes::from_slice(&list),
            };
            let bytes = emit(&repr);
            prop_assert_eq!(parse(&bytes).unwrap(), repr);
        }
    }
}
