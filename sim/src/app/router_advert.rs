//! A scripted IPv6 router's advertisements (RFC 4861 §6.2): Router Advertisements to all nodes, at a fixed
//! interval, from the host's link-local address, carrying one on-link prefix that hosts may autoconfigure
//! addresses in (RFC 4862 SLAAC) and the link MTU. Enough to show a synack host form a global address and
//! learn its default router; it does not forward (a router interface advertises itself with `advertise = true`).

use super::{App, AppReport, Cx};
use std::time::Duration;
use synack::wire::ethernet::{EtherType, EthernetFrame, EthernetRepr};
use synack::wire::icmpv6::{Icmpv6Packet, Icmpv6Repr};
use synack::wire::ipv6::{self, Ipv6Packet, Ipv6Repr};
use synack::wire::ndp::{NdpRepr, PrefixInformation, Prefixes};
use synack::wire::{EcnCodepoint, IpProtocol};
use synack::{Event, Ipv6Cidr, SocketHandle};

/// Counts advertisements sent; complete once `count` are out.
#[derive(Debug)]
pub struct RouterAdvert {
    report: AppReport,
    prefix: Ipv6Cidr,
    count: u32,
    interval: Duration,
    /// Router lifetime advertised (0: not a default router).
    lifetime: Duration,
    sent: u32,
}

impl RouterAdvert {
    pub fn new(
        report: AppReport,
        prefix: Ipv6Cidr,
        count: u32,
        interval: Duration,
        lifetime: Duration,
    ) -> RouterAdvert {
        RouterAdvert { report, prefix, count, interval, lifetime, sent: 0 }
    }

    fn advertise(&mut self, cx: &mut Cx<'_>) {
        let mac = cx.stack.config().mac;
        let src = ipv6::link_local_from_mac(mac);
        let prefix = PrefixInformation {
            prefix_len: self.prefix.prefix_len(),
            on_link: true,
            autonomous: true,
            valid_lifetime: 86_400,
            preferred_lifetime: 14_400,
            prefix: self.prefix.addr(),
        };
        let list = [prefix];
        let ra = Icmpv6Repr::Ndp(NdpRepr::RouterAdvert {
            hop_limit: 64,
            managed: false,
            other: false,
            router_lifetime: u16::try_from(self.lifetime.as_secs()).unwrap_or(u16::MAX),
            reachable_time: 0,
            retrans_time: 0,
            source_lladdr: Some(mac),
            mtu: Some(cx.stack.config().mtu as u32),
            prefixes: Prefixes::from_slice(&list),
        });
        let ip = Ipv6Repr {
            src_addr: src,
            dst_addr: ipv6::ALL_NODES,
            next_header: IpProtocol::ICMPV6,
            payload_len: ra.buffer_len(),
            hop_limit: 255,
            dscp: 0,
            ecn: EcnCodepoint::NotEct,
            flow_label: 0,
        };
        let mut frame = vec![0u8; (14 + ipv6::HEADER_LEN + ra.buffer_len()).max(60)];
        let mut eth = EthernetFrame::new_unchecked(&mut frame[..]);
        let dst_mac = ipv6::multicast_mac(&ipv6::ALL_NODES);
        EthernetRepr { src_addr: mac, dst_addr: dst_mac, ethertype: EtherType::Ipv6 }.emit(&mut eth);
        let mut packet = Ipv6Packet::new_unchecked(&mut eth.payload_mut()[..ipv6::HEADER_LEN + ra.buffer_len()]);
        ip.emit(&mut packet);
        ra.emit(&mut Icmpv6Packet::new_unchecked(packet.payload_mut()), &src, &ipv6::ALL_NODES);
        cx.transmit(frame);
        self.sent += 1;
        self.report.count += 1;
        if self.sent < self.count {
            cx.set_timer(cx.now() + self.interval, 0);
        } else {
            self.report.complete = true;
            self.report.done_at = Some(cx.now());
        }
    }
}

impl App for RouterAdvert {
    fn start(&mut self, cx: &mut Cx<'_>) {
        if self.count == 0 {
            self.report.complete = true;
            self.report.done_at = Some(cx.now());
            return;
        }
        self.advertise(cx);
    }

    fn on_event(&mut self, _cx: &mut Cx<'_>, _sock: SocketHandle, _event: &Event) {}

    fn on_timer(&mut self, cx: &mut Cx<'_>, _token: u64) {
        self.advertise(cx);
    }

    fn is_finished(&self) -> bool {
        self.report.complete
    }

    fn report(&self) -> AppReport {
        self.report.clone()
    }
}
