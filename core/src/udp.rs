//! UDP sockets (RFC 768): bind, send, a bounded receive queue per socket, close.

use crate::api::{CommandError, Event, Output, Reply, SocketHandle};
use crate::icmp::IcmpError;
use crate::ipv4::Received;
use crate::ports::BoundPorts;
use crate::ports::PortAllocator;
use crate::stack::Stack;
use crate::stats::{DropReason, Layer};
use crate::time::Instant;
use crate::wire::{DstUnreachable, IpProtocol, UdpPacket, UdpRepr};
use core::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::collections::{BTreeMap, VecDeque};

#[derive(Debug)]
struct UdpSocket {
    local: SocketAddr,
    queue: VecDeque<(SocketAddr, Vec<u8>)>,
}

/// Open UDP sockets, by handle and by local port (one socket per port).
#[derive(Debug)]
pub(crate) struct UdpSockets {
    by_handle: BTreeMap<SocketHandle, UdpSocket>,
    by_port: BoundPorts,
    ports: PortAllocator,
}

impl UdpSockets {
    pub(crate) fn new(ports: PortAllocator) -> UdpSockets {
        UdpSockets { by_handle: BTreeMap::new(), by_port: BoundPorts::default(), ports }
    }

    /// The socket taking datagrams to `port` of address `dst`.
    pub(crate) fn by_port(&self, dst: IpAddr, port: u16) -> Option<SocketHandle> {
        self.by_port.get(dst, port)
    }

    /// Lets a socket bound to `[::]` take IPv4 datagrams too (`dual`), or stop.
    pub(crate) fn set_dual_stack(&mut self, sock: SocketHandle, dual: bool) -> Result<(), CommandError> {
        let s = self.by_handle.get(&sock).ok_or(CommandError::NoSuchSocket(sock))?;
        if s.local.ip() != IpAddr::V6(Ipv6Addr::UNSPECIFIED) {
            return Err(CommandError::BadArgument("only a socket bound to [::] can take IPv4 too"));
        }
        self.by_port.set_dual(s.local.port(), sock, dual)
    }

    pub(crate) fn recv(&mut self, sock: SocketHandle) -> Result<Reply, CommandError> {
        let s = self.by_handle.get_mut(&sock).ok_or(CommandError::NoSuchSocket(sock))?;
        let (from, data) = s.queue.pop_front().ok_or(CommandError::WouldBlock)?;
        Ok(Reply::Datagram { from, data })
    }

    pub(crate) fn close(&mut self, sock: SocketHandle) -> Result<Reply, CommandError> {
        let s = self.by_handle.remove(&sock).ok_or(CommandError::NoSuchSocket(sock))?;
        self.by_port.release(s.local.port(), sock);
        Ok(Reply::Done)
    }
}

impl Stack {
    pub(crate) fn udp_bind(&mut self, local: SocketAddr) -> Result<Reply, CommandError> {
        self.check_bindable(local.ip())?;
        let port = match local.port() {
            0 => {
                let used = &self.udp.by_port;
                self.udp.ports.allocate(|p| used.is_taken(p)).ok_or(CommandError::NoEphemeralPort)?
            }
            p => p,
        };
        let sock = self.alloc_handle();
        self.udp.by_port.bind(local.ip(), port, sock)?;
        let local = SocketAddr::new(local.ip(), port);
        self.udp.by_handle.insert(sock, UdpSocket { local, queue: VecDeque::new() });
        Ok(Reply::Bound { sock, local })
    }

    pub(crate) fn udp_send_to(
        &mut self,
        sock: SocketHandle,
        remote: SocketAddr,
        data: &[u8],
        now: Instant,
        out: &mut Vec<Output>,
    ) -> Result<Reply, CommandError> {
        let local = self.udp.by_handle.get(&sock).ok_or(CommandError::NoSuchSocket(sock))?.local;
        // A socket sends in its own family; one on [::] sends IPv4 too once it takes IPv4 (dual stack).
        let family_ok =
            local.is_ipv4() == remote.is_ipv4() || (remote.is_ipv4() && self.udp.by_port.is_dual(local.port(), sock));
        if remote.port() == 0 || !family_ok {
            return Err(CommandError::BadDestination(remote));
        }
        let dst = remote.ip();
        let src = match local.ip() {
            ip if !ip.is_unspecified() && ip.is_ipv4() == dst.is_ipv4() => {
                self.source_for(remote)?;
                ip
            }
            _ => self.source_for(remote)?,
        };
        // Larger than the link is fine: the datagram leaves in fragments (as on Linux).
        let max = crate::ip::largest_payload(dst) - crate::wire::udp::HEADER_LEN;
        if data.len() > max {
            return Err(CommandError::MessageTooLong { max });
        }
        let repr = UdpRepr { src_port: local.port(), dst_port: remote.port(), payload: data };
        let ecn = crate::wire::EcnCodepoint::NotEct;
        let (owner, port) = (Some(sock), Some(remote.port()));
        self.send_ip(src, dst, IpProtocol::Udp, ecn, repr.buffer_len(), owner, port, now, out, |b| {
            repr.emit(&mut UdpPacket::new_unchecked(b), &src, &dst)
        })
        .map_err(|e| match e {
            CommandError::BadDestination(_) => CommandError::BadDestination(remote),
            other => other,
        })?;
        self.stats.udp_datagrams_sent += 1;
        Ok(Reply::Sent { len: data.len() })
    }

    /// A UDP datagram arrived for us.
    pub(crate) fn on_udp(&mut self, rx: &Received<'_>, now: Instant, out: &mut Vec<Output>) {
        let parsed = UdpPacket::new_checked(rx.payload).and_then(|p| {
            if rx.checksum_offloaded {
                UdpRepr::parse_unverified(&p)
            } else {
                UdpRepr::parse(&p, &rx.src, &rx.dst)
            }
        });
        self.stats.transport_checksums_offloaded += u64::from(rx.checksum_offloaded && parsed.is_ok());
        let repr = match parsed {
            Ok(r) => r,
            Err(e) => return self.drop_frame(DropReason::Malformed(Layer::Udp, e)),
        };
        if repr.dst_port == crate::wire::dhcp::CLIENT_PORT && self.dhcp.is_some() && rx.src.is_ipv4() {
            return self.on_dhcp(&repr, now, out);
        }
        let sock = self.udp.by_port(rx.dst, repr.dst_port).filter(|s| {
            self.udp.by_handle.get(s).is_some_and(|u| u.local.ip().is_unspecified() || u.local.ip() == rx.dst)
        });
        let Some(sock) = sock else {
            self.drop_frame(DropReason::UdpNoSocket);
            let kind = IcmpError::DstUnreachable(DstUnreachable::PortUnreachable, 0);
            return self.send_icmp_error(rx, kind, now, out);
        };
        let limit = self.config.udp_recv_queue;
        let Some(s) = self.udp.by_handle.get_mut(&sock) else {
            return self.drop_frame(DropReason::UdpNoSocket);
        };
        if s.queue.len() >= limit {
            return self.drop_frame(DropReason::UdpQueueFull);
        }
        let was_empty = s.queue.is_empty();
        s.queue.push_back((SocketAddr::new(rx.src, repr.src_port), repr.payload.to_vec()));
        self.stats.udp_datagrams_received += 1;
        if was_empty {
            out.push(Output::Event(sock, Event::Readable));
        }
    }
}
