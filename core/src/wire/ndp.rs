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
    /// that). `Unsupported` for a type outside 133..=137; `BadField` for a nonzero code or a multicast target
    /// (NS, NA) or destination (redirect); `Truncated` below the type's least length; option errors as above.
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
            NdpRepr::Redirect { destination, .. } if destination.is_multicast() => Err(Error::BadField),
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
