//! A scripted DHCP server (RFC 2131 §4.3): hands out addresses from a pool, one per client hardware address,
//! answering DISCOVER with OFFER and REQUEST with ACK (or NAK for an address it did not give that client).
//! Enough to show a synack host acquire and renew a lease; no relays, no options beyond what a client needs.

use super::{App, AppReport, Cx};
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;
use synack::wire::dhcp::{DhcpMessageType, DhcpOp, DhcpRepr, CLIENT_PORT, SERVER_PORT};
use synack::{Command, Event, Reply, SocketHandle};

/// Counts ACKs sent. A server: always complete once bound.
#[derive(Debug)]
pub struct DhcpServer {
    report: AppReport,
    /// The first address handed out; the next client gets the next one.
    pool: Ipv4Addr,
    lease: Duration,
    sock: Option<SocketHandle>,
    /// Address given to each client (by hardware address), in order of first contact.
    leases: BTreeMap<[u8; 6], Ipv4Addr>,
}

impl DhcpServer {
    pub fn new(report: AppReport, pool: Ipv4Addr, lease: Duration) -> DhcpServer {
        DhcpServer { report, pool, lease, sock: None, leases: BTreeMap::new() }
    }

    fn address_for(&mut self, hw: [u8; 6]) -> Ipv4Addr {
        let next = Ipv4Addr::from(u32::from(self.pool).wrapping_add(self.leases.len() as u32));
        *self.leases.entry(hw).or_insert(next)
    }

    fn answer(&mut self, cx: &mut Cx<'_>, sock: SocketHandle, msg: &DhcpRepr) {
        let net = cx.stack.config().ipv4;
        let ours = net.addr();
        let hw = msg.client_hw.0;
        let kind = match msg.message_type {
            DhcpMessageType::Discover => DhcpMessageType::Offer,
            DhcpMessageType::Request => {
                if msg.server_id.is_some_and(|s| s != ours) {
                    return; // the client took another server's offer
                }
                let asked = msg.requested_ip.unwrap_or(msg.ciaddr);
                if self.leases.get(&hw) == Some(&asked) {
                    DhcpMessageType::Ack
                } else {
                    DhcpMessageType::Nak
                }
            }
            _ => return,
        };
        let yiaddr = if kind == DhcpMessageType::Nak { Ipv4Addr::UNSPECIFIED } else { self.address_for(hw) };
        let mask = Ipv4Addr::from(net.mask());
        let reply = DhcpRepr {
            op: DhcpOp::Reply,
            yiaddr,
            broadcast: msg.broadcast,
            server_id: Some(ours),
            subnet_mask: (kind != DhcpMessageType::Nak).then_some(mask),
            router: (kind != DhcpMessageType::Nak).then_some(ours),
            dns_servers: if kind == DhcpMessageType::Nak { Vec::new() } else { vec![ours] },
            lease_time: (kind != DhcpMessageType::Nak).then_some(self.lease.as_secs() as u32),
            ..DhcpRepr::client(kind, msg.xid, msg.client_hw)
        };
        let mut data = vec![0u8; reply.buffer_len()];
        reply.emit(&mut data);
        // RFC 2131 §4.1: to a client with an address, unicast; to one without, broadcast.
        let to = if msg.ciaddr.is_unspecified() { Ipv4Addr::BROADCAST } else { msg.ciaddr };
        let remote = SocketAddr::from((to, CLIENT_PORT));
        match cx.command(Command::UdpSendTo { sock, remote, data }) {
            Ok(_) if kind == DhcpMessageType::Ack => self.report.count += 1,
            Ok(_) => {}
            Err(e) => self.report.errors.push(format!("{} to {remote}: {e}", kind.name())),
        }
    }
}

impl App for DhcpServer {
    fn start(&mut self, cx: &mut Cx<'_>) {
        let local = SocketAddr::from((Ipv4Addr::UNSPECIFIED, SERVER_PORT));
        match cx.command(Command::UdpBind { local }) {
            Ok(Reply::Bound { sock, .. }) => self.sock = Some(sock),
            other => self.report.errors.push(format!("bind {local}: {other:?}")),
        }
    }

    fn on_event(&mut self, cx: &mut Cx<'_>, sock: SocketHandle, event: &Event) {
        if *event != Event::Readable {
            return;
        }
        while let Ok(Reply::Datagram { from, data }) = cx.command(Command::UdpRecv { sock }) {
            self.report.bytes += data.len() as u64;
            match DhcpRepr::parse(&data) {
                Ok(msg) if msg.op == DhcpOp::Request && from.port() == CLIENT_PORT => self.answer(cx, sock, &msg),
                Ok(_) => {}
                Err(e) => self.report.errors.push(format!("malformed DHCP message from {from}: {e}")),
            }
        }
    }

    fn is_finished(&self) -> bool {
        true
    }

    fn report(&self) -> AppReport {
        AppReport { complete: self.sock.is_some(), ..self.report.clone() }
    }
}
