//! DHCP client (RFC 2131) inside the stack: with [`Config::dhcp`](crate::Config) set, the stack starts without an
//! address, broadcasts DISCOVER from 0.0.0.0, takes the offered lease and applies its address, prefix and
//! gateway; it renews at T1, rebinds at T2 and drops the address when the lease expires. Its retransmissions
//! and lease timers run through [`crate::Stack::poll_timeout`] like every other timer, and what happens is
//! told as [`Event::Dhcp`] on [`SocketHandle::STACK`].

mod client;

pub(crate) use client::DhcpClient;
use client::{Action, Unused};

use crate::api::{Event, Output, SocketHandle};
use crate::config::Ipv4Cidr;
use crate::stack::Stack;
use crate::stats::{DropReason, Layer};
use crate::time::Instant;
use crate::timer::TimerKey;
use crate::wire::arp::{ArpOperation, ArpRepr};
use crate::wire::dhcp::{DhcpMessageType, DhcpRepr, CLIENT_PORT, SERVER_PORT};
use crate::wire::{EthernetAddress, IpProtocol, UdpPacket, UdpRepr};
use core::fmt;
use core::net::Ipv4Addr;
use core::time::Duration;

/// How the DHCP client behaves. The defaults are RFC 2131's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DhcpConfig {
    /// First retransmission interval of DISCOVER and REQUEST; each retry doubles it up to `retransmit_max`,
    /// ± 1 s (RFC 2131 §4.1: 4 s, 8 s, ... 64 s).
    pub retransmit_initial: Duration,
    pub retransmit_max: Duration,
    /// REQUESTs sent for one offer before starting over with DISCOVER.
    pub request_attempts: u32,
    /// How long to wait for an answer to the ARP probe of an acknowledged address before using it (RFC 2131
    /// §4.4.1); an answer means someone else has it, and the client declines it. Zero skips the probe.
    pub arp_probe_wait: Duration,
    /// Host name sent in option 12, if any.
    pub hostname: Option<String>,
}

impl Default for DhcpConfig {
    fn default() -> Self {
        DhcpConfig {
            retransmit_initial: Duration::from_secs(4),
            retransmit_max: Duration::from_secs(64),
            request_attempts: 4,
            arp_probe_wait: Duration::from_secs(1),
            hostname: None,
        }
    }
}

/// What a DHCP server granted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DhcpLease {
    /// Our address and the on-link prefix (from the subnet mask option).
    pub address: Ipv4Cidr,
    /// The first router the server named, if it lies inside the prefix.
    pub gateway: Option<Ipv4Addr>,
    /// Name servers (option 6), in the server's order.
    pub dns_servers: Vec<Ipv4Addr>,
    /// The server that granted the lease (option 54).
    pub server: Ipv4Addr,
    /// How long the lease lasts (at least 10 s: shorter leases are stretched).
    pub lease_time: Duration,
    /// The server said the lease never ends: nothing is renewed.
    pub infinite: bool,
    /// When the REQUEST that obtained it was sent: the lease's times count from here.
    pub obtained: Instant,
    /// T1: when renewing starts.
    pub renew_at: Instant,
    /// T2: when rebinding starts.
    pub rebind_at: Instant,
    pub expires_at: Instant,
}

/// Why a leased address was given up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LostReason {
    /// No server extended it before it ran out.
    Expired,
    /// A server answered our renewal with DHCPNAK.
    Refused,
}

/// What the DHCP client tells the application ([`Event::Dhcp`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DhcpEvent {
    /// A message got no answer and was sent again (`attempt` is how many have gone out); the next try follows
    /// in `next_in` unless an answer comes.
    Retrying { message: DhcpMessageType, attempt: u32, next_in: Duration },
    /// A lease was obtained and its address is in use.
    Bound(DhcpLease),
    /// The lease was extended (same address); its times moved.
    Renewed(DhcpLease),
    /// The address is no longer ours; the client starts over.
    Lost { address: Ipv4Addr, reason: LostReason },
    /// The server refused our REQUEST (DHCPNAK); the client starts over.
    Refused { server: Ipv4Addr },
    /// Another host (`by`) answered the ARP probe of the acknowledged address: it was declined (DHCPDECLINE).
    Declined { address: Ipv4Addr, by: EthernetAddress },
}

impl fmt::Display for DhcpLease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.address)?;
        if let Some(g) = self.gateway {
            write!(f, " gateway {g}")?;
        }
        if !self.dns_servers.is_empty() {
            let dns: Vec<String> = self.dns_servers.iter().map(|a| a.to_string()).collect();
            write!(f, " dns {}", dns.join(","))?;
        }
        if self.infinite {
            write!(f, " from {}, lease infinite", self.server)
        } else {
            let t = |at: Instant| at.saturating_duration_since(self.obtained).as_secs();
            write!(
                f,
                " from {}, lease {} s (renew at {} s, rebind at {} s)",
                self.server,
                self.lease_time.as_secs(),
                t(self.renew_at),
                t(self.rebind_at)
            )
        }
    }
}

impl fmt::Display for DhcpEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DhcpEvent::Retrying { message, attempt, next_in } => write!(
                f,
                "no answer yet: {} sent again (attempt {attempt}), next try in {:.1} s",
                message.name(),
                next_in.as_secs_f64()
            ),
            DhcpEvent::Bound(lease) => write!(f, "bound {lease}"),
            DhcpEvent::Renewed(lease) => write!(f, "renewed {lease}"),
            DhcpEvent::Lost { address, reason: LostReason::Expired } => {
                write!(f, "lease of {address} expired; address removed, starting over")
            }
            DhcpEvent::Lost { address, reason: LostReason::Refused } => {
                write!(f, "renewal of {address} refused (DHCPNAK); address removed, starting over")
            }
            DhcpEvent::Refused { server } => write!(f, "{server} refused our request (DHCPNAK); starting over"),
            DhcpEvent::Declined { address, by } => {
                write!(f, "{address} is already used by {by} (ARP): declined, starting over in 10 s")
            }
        }
    }
}

impl Stack {
    /// The lease in use, if the DHCP client has one.
    pub fn dhcp_lease(&self) -> Option<&DhcpLease> {
        self.dhcp_lease.as_ref()
    }

    /// Does an IPv4 datagram to `dst` (not ours, not broadcast) belong to the DHCP client? While acquiring, a
    /// server may unicast its OFFER or ACK to the offered address before we use it.
    pub(crate) fn dhcp_takes_unicast(&self, protocol: IpProtocol, payload: &[u8]) -> bool {
        self.dhcp.as_ref().is_some_and(DhcpClient::acquiring)
            && protocol == IpProtocol::Udp
            && UdpPacket::new_checked(payload).is_ok_and(|u| u.dst_port() == CLIENT_PORT)
    }

    /// A UDP datagram to port 68 with the client on: a DHCP message, or a drop with its reason.
    pub(crate) fn on_dhcp(&mut self, udp: &UdpRepr<'_>, now: Instant, out: &mut Vec<Output>) {
        let msg = match DhcpRepr::parse(udp.payload) {
            Ok(m) => m,
            Err(e) => return self.drop_frame(DropReason::Malformed(Layer::Dhcp, e)),
        };
        if udp.src_port != SERVER_PORT {
            return self.drop_frame(DropReason::DhcpUnexpected);
        }
        let Some(client) = self.dhcp.as_mut() else { return };
        let mut actions = Vec::new();
        match client.on_message(&msg, now, &mut actions) {
            Ok(()) => self.stats.dhcp_messages_received += 1,
            Err(Unused::NotOurs | Unused::Unexpected) => self.drop_frame(DropReason::DhcpUnexpected),
            Err(Unused::Malformed(e)) => self.drop_frame(DropReason::Malformed(Layer::Dhcp, e)),
        }
        self.run_dhcp_actions(actions, now, out);
    }

    /// The DHCP client's timer fired.
    pub(crate) fn on_dhcp_timer(&mut self, now: Instant, out: &mut Vec<Output>) {
        let Some(client) = self.dhcp.as_mut() else { return };
        let mut actions = Vec::new();
        client.on_timer(now, &mut actions);
        self.run_dhcp_actions(actions, now, out);
    }

    /// ARP from `sender` about `sender_ip` (announcing, answering or probing for `target_ip`): if the client is
    /// checking that address, someone else has it.
    pub(crate) fn dhcp_check_arp(&mut self, repr: &ArpRepr, now: Instant, out: &mut Vec<Output>) -> bool {
        let Some(checking) = self.dhcp.as_ref().and_then(DhcpClient::checking) else { return false };
        let claims = repr.source_protocol_addr == checking
            || (repr.source_protocol_addr.is_unspecified()
                && repr.target_protocol_addr == checking
                && repr.operation == ArpOperation::Request);
        if !claims {
            return false;
        }
        let mut actions = Vec::new();
        if let Some(client) = self.dhcp.as_mut() {
            client.on_conflict(repr.source_hardware_addr, now, &mut actions);
        }
        self.run_dhcp_actions(actions, now, out);
        true
    }

    fn run_dhcp_actions(&mut self, actions: Vec<Action>, now: Instant, out: &mut Vec<Output>) {
        for action in actions {
            match action {
                Action::Send { message, to } => self.send_dhcp(&message, to, now, out),
                Action::Probe(addr) => self.send_arp_probe(addr, out),
                Action::Configure(lease) => {
                    self.config.ipv4 = lease.address;
                    self.config.gateway = lease.gateway;
                    self.dhcp_lease = Some(lease);
                }
                Action::Unconfigure => {
                    self.config.ipv4 = Ipv4Cidr::UNCONFIGURED;
                    self.config.gateway = None;
                    self.dhcp_lease = None;
                }
                Action::Event(ev) => {
                    if let DhcpEvent::Renewed(lease) = &ev {
                        self.dhcp_lease = Some(lease.clone());
                    }
                    out.push(Output::Event(SocketHandle::STACK, Event::Dhcp(Box::new(ev))));
                }
            }
        }
        if let Some(at) = self.dhcp.as_ref().and_then(DhcpClient::deadline) {
            if self.dhcp_timer.is_none_or(|t| t != at) {
                self.dhcp_timer = Some(at);
                self.timers.schedule(at, TimerKey::Dhcp);
            }
        }
    }

    fn send_dhcp(&mut self, message: &DhcpRepr, to: Ipv4Addr, now: Instant, out: &mut Vec<Output>) {
        let mut payload = vec![0u8; message.buffer_len()];
        message.emit(&mut payload);
        let repr = UdpRepr { src_port: CLIENT_PORT, dst_port: SERVER_PORT, payload: &payload };
        let src = self.config.ipv4.addr();
        let sent = self.send_ipv4(to, IpProtocol::Udp, repr.buffer_len(), None, None, now, out, |b| {
            repr.emit(&mut UdpPacket::new_unchecked(b), &src, &to)
        });
        // Only a unicast renewal can fail (no route to the server after all): the retransmission timer covers it.
        if sent.is_ok() {
            self.stats.dhcp_messages_sent += 1;
        }
    }
}

/// RFC 2131 §4.4.1's probe: "who has `addr`?" from sender address 0.0.0.0, so no one learns a binding from it.
pub(crate) fn probe_repr(mac: EthernetAddress, addr: Ipv4Addr) -> ArpRepr {
    ArpRepr {
        operation: ArpOperation::Request,
        source_hardware_addr: mac,
        source_protocol_addr: Ipv4Addr::UNSPECIFIED,
        target_hardware_addr: EthernetAddress([0; 6]),
        target_protocol_addr: addr,
    }
}
