//! What the transports ask of IP without caring which version: our address toward a destination, whether an
//! address is ours, how large a payload fits, and sending one datagram. Each family's own work (routing,
//! neighbour resolution, headers) lives in `ipv4.rs` and `ipv6.rs`.

use crate::api::{CommandError, Output, SocketHandle};
use crate::stack::Stack;
use crate::time::Instant;
use crate::wire::{EcnCodepoint, IpProtocol};
use core::net::{IpAddr, SocketAddr};

/// Length of the IP header we put in front of a datagram to `dst` (no options, no extension headers).
pub(crate) fn header_len(dst: IpAddr) -> usize {
    match dst {
        IpAddr::V4(_) => crate::wire::ipv4::HEADER_LEN,
        IpAddr::V6(_) => crate::wire::ipv6::HEADER_LEN,
    }
}

/// The largest transport payload one datagram to `dst` carries, fragmented or not: 65,535 less the IPv4 header,
/// or less IPv6's Fragment header.
pub(crate) fn largest_payload(dst: IpAddr) -> usize {
    match dst {
        IpAddr::V4(_) => crate::ipv4::MAX_DATAGRAM_PAYLOAD,
        IpAddr::V6(_) => crate::ipv6::MAX_PACKET_PAYLOAD,
    }
}

/// A payload larger than one packet to `dst` carries (`max`), built whole so it can leave in fragments, as Linux
/// sends datagrams and echo replies; TCP never fragments (it sizes its segments), and nothing exceeds the
/// largest datagram.
pub(crate) fn whole_for_fragments(
    dst: IpAddr,
    protocol: IpProtocol,
    payload_len: usize,
    max: usize,
    fill: impl FnOnce(&mut [u8]),
) -> Result<Vec<u8>, CommandError> {
    if protocol == IpProtocol::Tcp {
        return Err(CommandError::MessageTooLong { max });
    }
    let largest = largest_payload(dst);
    if payload_len > largest {
        return Err(CommandError::MessageTooLong { max: largest });
    }
    let mut whole = vec![0u8; payload_len];
    fill(&mut whole);
    Ok(whole)
}

impl Stack {
    /// Hands a fragment (of either family) to the reassembler: drops are counted, a new datagram's timer is
    /// scheduled, and the whole datagram comes back once complete.
    pub(crate) fn add_fragment(
        &mut self,
        fragment: crate::reassembly::Fragment<'_>,
        now: Instant,
    ) -> Option<crate::reassembly::Datagram> {
        use crate::reassembly::Outcome;
        self.stats.fragments_received += 1;
        let mut evicted = 0;
        let outcome = self.reassembly.add(fragment, now, &mut evicted);
        for _ in 0..evicted {
            self.drop_frame(crate::stats::DropReason::ReassemblyEvicted);
        }
        match outcome {
            Outcome::Stored { new: Some((deadline, serial)) } => {
                self.timers.schedule(deadline, crate::timer::TimerKey::Reassembly(serial));
                None
            }
            Outcome::Stored { new: None } => None,
            Outcome::Dropped(reason) => {
                self.drop_frame(reason);
                None
            }
            Outcome::Complete(datagram) => {
                self.stats.datagrams_reassembled += 1;
                Some(datagram)
            }
        }
    }

    /// Is `ip` one of our addresses (an IPv6 one in any usable state)?
    pub(crate) fn is_our_address(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(v4) => v4 == self.config.ipv4.addr() && !v4.is_unspecified(),
            IpAddr::V6(v6) => self.ipv6_is_ours(v6),
        }
    }

    /// May a socket bind `local`: the unspecified address of its family, or one of ours?
    pub(crate) fn check_bindable(&self, local: IpAddr) -> Result<(), CommandError> {
        if local.is_unspecified() || self.is_our_address(local) {
            Ok(())
        } else {
            Err(CommandError::AddrNotAvailable(local))
        }
    }

    /// The address we send from toward `dst` (RFC 6724 for IPv6), after checking `dst` can be sent to at
    /// all: the errors name `dst` with `port`.
    pub(crate) fn source_for(&self, dst: SocketAddr) -> Result<IpAddr, CommandError> {
        let named = |e: CommandError| match e {
            CommandError::BadDestination(_) => CommandError::BadDestination(dst),
            other => other,
        };
        match dst.ip() {
            IpAddr::V4(v4) => {
                self.route(v4).map_err(named)?;
                Ok(IpAddr::V4(self.config.ipv4.addr()))
            }
            IpAddr::V6(v6) => self.ipv6_source_for(v6).map(IpAddr::V6).map_err(named),
        }
    }

    /// Largest payload of a datagram to `dst`: what the MTU allows, or for TCP with segmentation offload on,
    /// what the device will cut into MTU-sized segments.
    pub(crate) fn max_payload_of(&self, dst: IpAddr, protocol: IpProtocol) -> usize {
        let offload = self.config.tcp.segmentation_offload;
        if protocol == IpProtocol::Tcp && offload > 0 {
            offload - header_len(dst)
        } else {
            self.max_ip_payload(dst)
        }
    }

    /// Largest payload of one unfragmented datagram to `dst`.
    #[inline]
    pub(crate) fn max_ip_payload(&self, dst: IpAddr) -> usize {
        match dst {
            IpAddr::V4(_) if self.ipv4_path_mtu.is_empty() => self.config.mtu - crate::wire::ipv4::HEADER_LEN,
            IpAddr::V4(v4) => {
                self.ipv4_path_mtu.get(v4, self.clock.now(), self.config.mtu) - crate::wire::ipv4::HEADER_LEN
            }
            IpAddr::V6(v6) => self.ipv6_path_mtu(v6) - crate::wire::ipv6::HEADER_LEN,
        }
    }

    /// Builds a datagram from `src` (ours) to `dst` whose payload `fill` writes, and sends it (after address
    /// resolution if needed). `owner`/`port` name who to tell if the next hop never answers.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn send_ip(
        &mut self,
        src: IpAddr,
        dst: IpAddr,
        protocol: IpProtocol,
        ecn: EcnCodepoint,
        payload_len: usize,
        owner: Option<SocketHandle>,
        port: Option<u16>,
        now: Instant,
        out: &mut Vec<Output>,
        fill: impl FnOnce(&mut [u8]),
    ) -> Result<(), CommandError> {
        match (src, dst) {
            (IpAddr::V4(_), IpAddr::V4(d)) => {
                self.send_ipv4_marked(d, protocol, ecn, payload_len, owner, port, now, out, fill)
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                self.send_ipv6(s, d, protocol, ecn, payload_len, owner, port, now, out, fill)
            }
            _ => Err(CommandError::BadDestination(SocketAddr::new(dst, port.unwrap_or(0)))),
        }
    }
}
