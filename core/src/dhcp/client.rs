//! The DHCP client's state machine (RFC 2131 §4.4, figure 5), apart from the stack: messages and timer expiries
//! go in, [`Action`]s come out. It never touches frames; `dhcp/mod.rs` carries the actions out.

use super::{DhcpConfig, DhcpEvent, DhcpLease, LostReason};
use crate::config::Ipv4Cidr;
use crate::seed::{mix64, GOLDEN_GAMMA};
use crate::time::Instant;
use crate::wire::dhcp::{DhcpMessageType, DhcpOp, DhcpRepr};
use crate::wire::{Error, EthernetAddress};
use core::net::Ipv4Addr;
use core::time::Duration;

/// The options every DISCOVER and REQUEST asks for: mask, router, DNS, lease time, T1, T2.
const PARAMETERS: [u8; 6] = [1, 3, 6, 51, 58, 59];
/// Shortest lease we accept; a shorter one is taken as this long, so a hostile server cannot make us renew in
/// a tight loop.
const MIN_LEASE: Duration = Duration::from_secs(10);
/// RFC 2131 §3.1.5: after declining an address, wait at least ten seconds before starting over.
const DECLINE_WAIT: Duration = Duration::from_secs(10);
/// The shortest wait between REQUESTs while renewing or rebinding (RFC 2131 §4.4.5).
const EXTEND_RETRY_MIN: Duration = Duration::from_secs(60);

/// Something the stack must do for the client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    /// Send this message from port 68 to port 67 of `to` (255.255.255.255: broadcast).
    Send { message: DhcpRepr, to: Ipv4Addr },
    /// RFC 2131 §4.4.1: ask the link whether anyone uses `addr` (an ARP probe, sender 0.0.0.0).
    Probe(Ipv4Addr),
    /// Use this lease's address, prefix and gateway from now on.
    Configure(DhcpLease),
    /// Stop using the leased address.
    Unconfigure,
    /// Tell the application.
    Event(DhcpEvent),
}

/// A server's offer, remembered while requesting it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Offer {
    address: Ipv4Addr,
    server: Ipv4Addr,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum State {
    /// Broadcasting DISCOVERs, waiting for an OFFER. `attempt` counts the DISCOVERs sent; `secs` is the
    /// latest one's `secs` field.
    Selecting {
        attempt: u32,
        secs: u16,
    },
    /// Broadcasting a REQUEST for `offer`; `sent` is when the latest went out (the lease counts from it).
    /// Every REQUEST carries `secs`, the DISCOVER's (RFC 2131 §4.4.1: relays and failover servers read it).
    Requesting {
        offer: Offer,
        attempt: u32,
        sent: Instant,
        secs: u16,
    },
    /// Probing the acknowledged address with ARP before using it.
    Checking {
        lease: DhcpLease,
    },
    Bound {
        lease: DhcpLease,
    },
    /// Unicasting REQUESTs to the server that gave the lease.
    Renewing {
        lease: DhcpLease,
        sent: Instant,
    },
    /// Broadcasting REQUESTs to any server.
    Rebinding {
        lease: DhcpLease,
        sent: Instant,
    },
}

/// The client. Its one deadline is [`DhcpClient::deadline`]; the stack wakes it with [`DhcpClient::on_timer`].
#[derive(Debug)]
pub(crate) struct DhcpClient {
    config: DhcpConfig,
    mac: EthernetAddress,
    state: State,
    /// Transaction id of the current exchange.
    xid: u32,
    /// When the current exchange began (the `secs` field counts from it).
    began: Instant,
    deadline: Option<Instant>,
    rng: u64,
    /// REQUESTs sent to extend the lease since T1 (renewing, then rebinding): past the first, each is a retry.
    extend_attempts: u32,
}

impl DhcpClient {
    /// A client that sends its first DISCOVER when the stack's timers first run.
    pub(crate) fn new(config: DhcpConfig, mac: EthernetAddress, seed: u64) -> DhcpClient {
        let mut c = DhcpClient {
            config,
            mac,
            state: State::Selecting { attempt: 0, secs: 0 },
            xid: 0,
            began: Instant::ZERO,
            deadline: Some(Instant::ZERO),
            rng: seed,
            extend_attempts: 0,
        };
        c.xid = c.next_random() as u32;
        c
    }

    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// The address being probed before use, if any.
    pub(crate) fn checking(&self) -> Option<Ipv4Addr> {
        match &self.state {
            State::Checking { lease } => Some(lease.address.addr()),
            _ => None,
        }
    }

    /// True while the client has no address and must take unicast replies to an address not yet ours.
    pub(crate) fn acquiring(&self) -> bool {
        matches!(self.state, State::Selecting { .. } | State::Requesting { .. } | State::Checking { .. })
    }

    fn next_random(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(GOLDEN_GAMMA);
        mix64(self.rng)
    }

    /// RFC 2131 §4.1: the `attempt`-th retransmission waits 4, 8, 16, 32, 64, 64, ... seconds, each moved by a
    /// uniform draw in ±1 s (scaled down with the base when a shorter one is configured).
    fn backoff(&mut self, attempt: u32) -> Duration {
        let base =
            self.config.retransmit_initial.saturating_mul(1u32 << attempt.min(16)).min(self.config.retransmit_max);
        let spread = (base / 4).min(Duration::from_secs(1));
        let span = spread.as_nanos() as u64 * 2 + 1;
        let jitter = Duration::from_nanos(self.next_random() % span);
        (base + jitter).saturating_sub(spread)
    }

    fn secs(&self, now: Instant) -> u16 {
        u16::try_from(now.saturating_duration_since(self.began).as_secs()).unwrap_or(u16::MAX)
    }

    fn message(&self, message_type: DhcpMessageType, now: Instant) -> DhcpRepr {
        DhcpRepr {
            secs: self.secs(now),
            parameter_request: PARAMETERS.to_vec(),
            max_message_size: Some(1500),
            client_id: true,
            hostname: self.config.hostname.clone(),
            ..DhcpRepr::client(message_type, self.xid, self.mac)
        }
    }

    /// Starts over: a new transaction, a DISCOVER now (or after `delay`).
    fn restart(&mut self, now: Instant, delay: Duration, out: &mut Vec<Action>) {
        self.xid = self.next_random() as u32;
        self.began = now + delay;
        self.state = State::Selecting { attempt: 0, secs: 0 };
        if delay.is_zero() {
            self.send_discover(now, out);
        } else {
            self.deadline = Some(now + delay);
        }
    }

    fn send_discover(&mut self, now: Instant, out: &mut Vec<Action>) {
        let secs_now = self.secs(now);
        let State::Selecting { attempt, secs } = &mut self.state else { return };
        let n = *attempt;
        *attempt += 1;
        *secs = secs_now;
        let wait = self.backoff(n);
        // A DISCOVER asks for broadcast answers: we cannot take unicast to an address we do not have yet.
        let message = DhcpRepr { broadcast: true, ..self.message(DhcpMessageType::Discover, now) };
        out.push(Action::Send { message, to: Ipv4Addr::BROADCAST });
        if n > 0 {
            let retrying = DhcpEvent::Retrying { message: DhcpMessageType::Discover, attempt: n + 1, next_in: wait };
            out.push(Action::Event(retrying));
        }
        self.deadline = Some(now + wait);
    }

    fn send_request(&mut self, now: Instant, out: &mut Vec<Action>) {
        let State::Requesting { offer, attempt, sent, secs } = &mut self.state else { return };
        let (offer, n, secs) = (*offer, *attempt, *secs);
        *attempt += 1;
        *sent = now;
        let wait = self.backoff(n);
        let message = DhcpRepr {
            broadcast: true,
            secs,
            requested_ip: Some(offer.address),
            server_id: Some(offer.server),
            ..self.message(DhcpMessageType::Request, now)
        };
        out.push(Action::Send { message, to: Ipv4Addr::BROADCAST });
        if n > 0 {
            let retrying = DhcpEvent::Retrying { message: DhcpMessageType::Request, attempt: n + 1, next_in: wait };
            out.push(Action::Event(retrying));
        }
        self.deadline = Some(now + wait);
    }

    /// RENEWING and REBINDING (RFC 2131 §4.4.5): a REQUEST with our address in `ciaddr`, unicast to the
    /// leasing server or broadcast; the next one after half the time left until `until` (T2 or expiry), but
    /// not sooner than 60 s (RFC 2131 §4.4.5), or a tenth of a short lease, but never sooner than the first
    /// retransmission interval.
    fn send_extend(&mut self, now: Instant, out: &mut Vec<Action>) {
        let (lease, rebinding) = match &mut self.state {
            State::Renewing { lease, sent } => {
                *sent = now;
                (lease.clone(), false)
            }
            State::Rebinding { lease, sent } => {
                *sent = now;
                (lease.clone(), true)
            }
            _ => return,
        };
        let message = DhcpRepr { ciaddr: lease.address.addr(), ..self.message(DhcpMessageType::Request, now) };
        let to = if rebinding { Ipv4Addr::BROADCAST } else { lease.server };
        out.push(Action::Send { message, to });
        let until = if rebinding { lease.expires_at } else { lease.rebind_at };
        let half = until.saturating_duration_since(now) / 2;
        // RFC 2131 §4.4.5: half the time left, down to 60 s; a short lease (tests, labs) scales that floor down
        // to a tenth of the lease, never below the first retransmission interval.
        let lease_len = lease.expires_at.saturating_duration_since(lease.obtained);
        let floor = EXTEND_RETRY_MIN.min(lease_len / 10).max(self.config.retransmit_initial);
        let next = (now + half.max(floor)).min(until);
        self.deadline = Some(next);
        self.extend_attempts += 1;
        if self.extend_attempts > 1 {
            // The server did not answer the last one (unicast while renewing; broadcast once rebinding): say so.
            let next_in = next.saturating_duration_since(now);
            out.push(Action::Event(DhcpEvent::Retrying {
                message: DhcpMessageType::Request,
                attempt: self.extend_attempts,
                next_in,
            }));
        }
    }

    /// A deadline passed (the stack calls this whenever its DHCP timer fires; early calls do nothing).
    pub(crate) fn on_timer(&mut self, now: Instant, out: &mut Vec<Action>) {
        if self.deadline.is_none_or(|d| d > now) {
            return;
        }
        match self.state.clone() {
            State::Selecting { .. } => self.send_discover(now, out),
            State::Requesting { attempt, .. } => {
                if attempt >= self.config.request_attempts {
                    // RFC 2131 §4.4.1: no ACK or NAK after the retransmissions: start over.
                    self.restart(now, Duration::ZERO, out);
                } else {
                    self.send_request(now, out);
                }
            }
            State::Checking { lease } => self.bind(lease, false, now, out),
            State::Bound { lease } => {
                self.xid = self.next_random() as u32;
                self.began = now;
                self.state = State::Renewing { lease, sent: now };
                self.extend_attempts = 0;
                self.send_extend(now, out);
            }
            State::Renewing { lease, .. } if now < lease.rebind_at => self.send_extend(now, out),
            State::Renewing { lease, .. } | State::Rebinding { lease, .. } if now < lease.expires_at => {
                self.state = State::Rebinding { lease, sent: now };
                self.send_extend(now, out);
            }
            State::Renewing { lease, .. } | State::Rebinding { lease, .. } => {
                self.lose(lease.address.addr(), LostReason::Expired, out);
                self.restart(now, Duration::ZERO, out);
            }
        }
    }

    fn lose(&mut self, address: Ipv4Addr, reason: LostReason, out: &mut Vec<Action>) {
        out.push(Action::Unconfigure);
        out.push(Action::Event(DhcpEvent::Lost { address, reason }));
    }

    /// A DHCP message arrived on port 68. `Err` says why it was not for us or made no sense (the stack counts
    /// it as a drop); `Ok` means it was used.
    pub(crate) fn on_message(&mut self, msg: &DhcpRepr, now: Instant, out: &mut Vec<Action>) -> Result<(), Unused> {
        if msg.op != DhcpOp::Reply || msg.xid != self.xid || msg.client_hw != self.mac {
            return Err(Unused::NotOurs);
        }
        match (self.state.clone(), msg.message_type) {
            (State::Selecting { secs, .. }, DhcpMessageType::Offer) => {
                let server = msg.server_id.ok_or(Unused::Malformed(Error::BadField))?;
                if !usable_unicast(msg.yiaddr) || !usable_unicast(server) {
                    return Err(Unused::Malformed(Error::BadField));
                }
                let offer = Offer { address: msg.yiaddr, server };
                self.state = State::Requesting { offer, attempt: 0, sent: now, secs };
                self.send_request(now, out);
                Ok(())
            }
            (State::Requesting { offer, sent, .. }, DhcpMessageType::Ack) => {
                if msg.server_id.is_some_and(|s| s != offer.server) {
                    return Err(Unused::NotOurs);
                }
                let lease = lease_of(msg, offer.server, sent).map_err(Unused::Malformed)?;
                if self.config.arp_probe_wait.is_zero() {
                    self.bind(lease, false, now, out);
                } else {
                    out.push(Action::Probe(lease.address.addr()));
                    self.deadline = Some(now + self.config.arp_probe_wait);
                    self.state = State::Checking { lease };
                }
                Ok(())
            }
            (State::Requesting { offer, .. }, DhcpMessageType::Nak) => {
                if msg.server_id.is_some_and(|s| s != offer.server) {
                    return Err(Unused::NotOurs);
                }
                out.push(Action::Event(DhcpEvent::Refused { server: offer.server }));
                self.restart(now, self.config.retransmit_initial, out);
                Ok(())
            }
            (State::Renewing { lease, sent } | State::Rebinding { lease, sent }, DhcpMessageType::Ack) => {
                let server = msg.server_id.unwrap_or(lease.server);
                let new = lease_of(msg, server, sent).map_err(Unused::Malformed)?;
                let moved = new.address != lease.address || new.gateway != lease.gateway;
                self.bind(new, !moved, now, out);
                Ok(())
            }
            (State::Renewing { lease, .. } | State::Rebinding { lease, .. }, DhcpMessageType::Nak) => {
                self.lose(lease.address.addr(), LostReason::Refused, out);
                self.restart(now, Duration::ZERO, out);
                Ok(())
            }
            _ => Err(Unused::Unexpected),
        }
    }

    /// Someone on the link answered (or sent) ARP for the address being checked: decline it (RFC 2131 §4.4.1).
    pub(crate) fn on_conflict(&mut self, by: EthernetAddress, now: Instant, out: &mut Vec<Action>) {
        let State::Checking { lease } = self.state.clone() else { return };
        let address = lease.address.addr();
        let message = DhcpRepr {
            requested_ip: Some(address),
            server_id: Some(lease.server),
            parameter_request: Vec::new(),
            max_message_size: None,
            hostname: None,
            // RFC 2131 §4.4.1 table 5: 'secs' is 0 in a DHCPDECLINE.
            secs: 0,
            ..self.message(DhcpMessageType::Decline, now)
        };
        out.push(Action::Send { message, to: Ipv4Addr::BROADCAST });
        out.push(Action::Event(DhcpEvent::Declined { address, by }));
        self.restart(now, DECLINE_WAIT, out);
    }

    fn bind(&mut self, lease: DhcpLease, renewal: bool, now: Instant, out: &mut Vec<Action>) {
        if !renewal {
            out.push(Action::Configure(lease.clone()));
        }
        out.push(Action::Event(if renewal {
            DhcpEvent::Renewed(lease.clone())
        } else {
            DhcpEvent::Bound(lease.clone())
        }));
        self.deadline = if lease.infinite { None } else { Some(lease.renew_at.max(now)) };
        self.state = State::Bound { lease };
    }
}

/// Why a well-formed DHCP message was not used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Unused {
    /// Not an answer to our current transaction (another xid or client, or a request).
    NotOurs,
    /// Ours, but not a message our state expects (an ACK while selecting, a second OFFER, ...).
    Unexpected,
    /// Ours, but with a value that makes no sense (no server id, an unusable address or mask, no lease time).
    Malformed(Error),
}

fn usable_unicast(a: Ipv4Addr) -> bool {
    !(a.is_unspecified() || a.is_broadcast() || a.is_multicast() || a.is_loopback())
}

/// The prefix length of a contiguous mask; `None` for a mask with holes.
fn prefix_of(mask: Ipv4Addr) -> Option<u8> {
    let m = u32::from(mask);
    let len = m.leading_ones();
    (m.checked_shl(len).unwrap_or(0) == 0 && len <= 32).then_some(len as u8)
}

/// RFC 2131 §2.2 leaves a missing mask to the client; like most clients we take the address class's.
fn classful_prefix(a: Ipv4Addr) -> u8 {
    match a.octets()[0] {
        0..=127 => 8,
        128..=191 => 16,
        _ => 24,
    }
}

/// The lease an ACK grants, counted from `sent` (when the REQUEST it answers went out, RFC 2131 §4.4.1).
fn lease_of(msg: &DhcpRepr, server: Ipv4Addr, sent: Instant) -> Result<DhcpLease, Error> {
    let address = msg.yiaddr;
    if !usable_unicast(address) {
        return Err(Error::BadField);
    }
    let prefix = match msg.subnet_mask {
        Some(mask) => prefix_of(mask).ok_or(Error::BadOption)?,
        None => classful_prefix(address),
    };
    let cidr = Ipv4Cidr::new(address, prefix).ok_or(Error::BadOption)?;
    if Some(address) == cidr.network() || Some(address) == cidr.broadcast() || prefix == 0 {
        return Err(Error::BadField);
    }
    let seconds = msg.lease_time.ok_or(Error::BadField)?;
    let infinite = seconds == u32::MAX;
    let lease_time = Duration::from_secs(u64::from(seconds)).max(MIN_LEASE);
    // T1 and T2 from the server when they make sense (T1 < T2 < lease), else RFC 2131 §4.4.5's 1/2 and 7/8.
    let t1 = msg.renewal_time.map(|s| Duration::from_secs(u64::from(s)));
    let t2 = msg.rebinding_time.map(|s| Duration::from_secs(u64::from(s)));
    let t2 = t2.filter(|t| *t < lease_time && !t.is_zero()).unwrap_or(lease_time * 7 / 8);
    let t1 = t1.filter(|t| *t < t2 && !t.is_zero()).unwrap_or((lease_time / 2).min(t2));
    let gateway = msg.router.filter(|g| cidr.contains(*g) && *g != address && Some(*g) != cidr.broadcast());
    Ok(DhcpLease {
        address: cidr,
        gateway,
        dns_servers: msg.dns_servers.iter().copied().filter(|a| usable_unicast(*a)).collect(),
        server,
        lease_time,
        infinite,
        obtained: sent,
        renew_at: sent + t1,
        rebind_at: sent + t2,
        expires_at: sent + lease_time,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_become_prefixes_and_holes_are_refused() {
        assert_eq!(prefix_of(Ipv4Addr::new(255, 255, 255, 0)), Some(24));
        assert_eq!(prefix_of(Ipv4Addr::new(255, 255, 255, 255)), Some(32));
        assert_eq!(prefix_of(Ipv4Addr::new(0, 0, 0, 0)), Some(0));
        assert_eq!(prefix_of(Ipv4Addr::new(255, 0, 255, 0)), None);
        assert_eq!(prefix_of(Ipv4Addr::new(255, 255, 254, 1)), None);
    }

    #[test]
    fn backoff_doubles_to_the_cap_with_at_most_a_second_of_jitter() {
        let mut c = DhcpClient::new(DhcpConfig::default(), EthernetAddress([2, 0, 0, 0, 0, 1]), 9);
        for (attempt, base) in [(0, 4), (1, 8), (2, 16), (3, 32), (4, 64), (5, 64), (40, 64)] {
            for _ in 0..50 {
                let d = c.backoff(attempt).as_secs_f64();
                assert!((d - base as f64).abs() <= 1.0, "attempt {attempt}: {d}");
            }
        }
    }
}
