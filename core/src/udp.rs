//! UDP sockets (RFC 768): bind, send, a bounded receive queue per socket, close.

use crate::api::{CommandError, Event, Output, Reply, SocketHandle};
use crate::icmp::IcmpError;
use crate::ipv4::Received;
use crate::ports::PortAllocator;
use crate::stack::Stack;
use crate::stats::{DropReason, Layer};
use crate::time::Instant;
use crate::wire::{DstUnreachable, IpProtocol, UdpPacket, UdpRepr};
use core::net::SocketAddrV4;
use std::collections::{BTreeMap, VecDeque};

#[derive(Debug)]
struct UdpSocket {
    local: SocketAddrV4,
    queue: VecDeque<(SocketAddrV4, Vec<u8>)>,
}

/// Open UDP sockets, by handle and by local port (one socket per port).
#[derive(Debug)]
pub(crate) struct UdpSockets {
    by_handle: BTreeMap<SocketHandle, UdpSocket>,
    by_port: BTreeMap<u16, SocketHandle>,
    ports: PortAllocator,
}

impl UdpSockets {
    pub(crate) fn new(ports: PortAllocator) -> UdpSockets {
        UdpSockets { by_handle: BTreeMap::new(), by_port: BTreeMap::new(), ports }
    }

    pub(crate) fn by_port(&self, port: u16) -> Option<SocketHandle> {
        self.by_port.get(&port).copied()
    }

    pub(crate) fn recv(&mut self, sock: SocketHandle) -> Result<Reply, CommandError> {
        let s = self.by_handle.get_mut(&sock).ok_or(CommandError::NoSuchSocket(sock))?;
        let (from, data) = s.queue.pop_front().ok_or(CommandError::WouldBlock)?;
        Ok(Reply::Datagram { from, data })
    }

    pub(crate) fn close(&mut self, sock: SocketHandle) -> Result<Reply, CommandError> {
        let s = self.by_handle.remove(&sock).ok_or(CommandError::NoSuchSocket(sock))?;
        self.by_port.remove(&s.local.port());
        Ok(Reply::Done)
    }
}

impl Stack {
    pub(crate) fn udp_bind(&mut self, local: SocketAddrV4) -> Result<Reply, CommandError> {
        let ours = self.config.ipv4.addr();
        if !local.ip().is_unspecified() && *local.ip() != ours {
            return Err(CommandError::AddrNotAvailable(*local.ip()));
        }
        let port = match local.port() {
            0 => {
                let used = &self.udp.by_port;
                self.udp.ports.allocate(|p| used.contains_key(&p)).ok_or(CommandError::NoEphemeralPort)?
            }
            p if self.udp.by_port.contains_key(&p) => return Err(CommandError::AddrInUse(p)),
            p => p,
        };
        let sock = self.alloc_handle();
        let local = SocketAddrV4::new(*local.ip(), port);
        self.udp.by_handle.insert(sock, UdpSocket { local, queue: VecDeque::new() });
        self.udp.by_port.insert(port, sock);
        Ok(Reply::Bound { sock, local })
    }

    pub(crate) fn udp_send_to(
        &mut self,
        sock: SocketHandle,
        remote: SocketAddrV4,
        data: &[u8],
        now: Instant,
        out: &mut Vec<Output>,
    ) -> Result<Reply, CommandError> {
        let local = self.udp.by_handle.get(&sock).ok_or(CommandError::NoSuchSocket(sock))?.local;
        if remote.port() == 0 {
            return Err(CommandError::BadDestination(remote));
        }
        let max = self.max_ip_payload() - crate::wire::udp::HEADER_LEN;
        if data.len() > max {
            return Err(CommandError::MessageTooLong { max });
        }
        let repr = UdpRepr { src_port: local.port(), dst_port: remote.port(), payload: data };
        let (src, dst) = (self.config.ipv4.addr(), *remote.ip());
        self.send_ipv4(dst, IpProtocol::Udp, repr.buffer_len(), Some(sock), Some(remote.port()), now, out, |b| {
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
        if repr.dst_port == crate::wire::dhcp::CLIENT_PORT && self.dhcp.is_some() {
            return self.on_dhcp(&repr, now, out);
        }
        let sock = self.udp.by_port(repr.dst_port).filter(|s| {
            self.udp.by_handle.get(s).is_some_and(|u| u.local.ip().is_unspecified() || *u.local.ip() == rx.dst)
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
        s.queue.push_back((SocketAddrV4::new(rx.src, repr.src_port), repr.payload.to_vec()));
        self.stats.udp_datagrams_received += 1;
        if was_empty {
            out.push(Output::Event(sock, Event::Readable));
        }
    }
}
