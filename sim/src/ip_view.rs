//! The IP layer of a captured frame, either family: what the ladder and the plots read of it.

use std::net::IpAddr;
use synack::wire::ipv6::{self, ExtHeaderWalk, Ipv6Packet};
use synack::wire::{EtherType, EthernetFrame, IpProtocol, Ipv4Packet};

/// An unfragmented IPv4 or IPv6 packet's addresses, upper-layer protocol and upper-layer bytes (after any IPv6
/// extension headers); `None` for anything else (ARP, fragments, malformed packets).
pub(crate) fn transport(frame: &[u8]) -> Option<(IpAddr, IpAddr, IpProtocol, &[u8])> {
    let ethertype = EthernetFrame::new_checked(frame).ok()?.ethertype();
    let payload = frame.get(synack::wire::ethernet::HEADER_LEN..)?;
    match ethertype {
        EtherType::Ipv4 => {
            let ip = Ipv4Packet::new_checked(payload).ok()?;
            if ip.is_fragment() {
                return None;
            }
            let (src, dst, protocol) = (ip.src_addr(), ip.dst_addr(), ip.protocol());
            let header_len = ip.header_len();
            let total = usize::from(ip.total_len()).min(payload.len());
            Some((src.into(), dst.into(), protocol, payload.get(header_len..total)?))
        }
        EtherType::Ipv6 => {
            let ip = Ipv6Packet::new_checked(payload).ok()?;
            let ExtHeaderWalk::Upper { protocol, offset, .. } = ipv6::walk(&ip).ok()? else { return None };
            let end = (ipv6::HEADER_LEN + usize::from(ip.payload_len())).min(payload.len());
            Some((ip.src_addr().into(), ip.dst_addr().into(), protocol, payload.get(offset..end)?))
        }
        _ => None,
    }
}
