//! Address conflict detection at start (RFC 5227): before the stack sees a frame, ARP probes ask whether anyone
//! on the link already uses our address; if so the driver refuses to start, naming the address and the MAC that
//! answered. Then one ARP announcement tells the link that the address is ours.
//!
//! It lives in the driver rather than the sans-IO core: it is a start-up step that blocks for a bounded time
//! before the stack may run at all, and on failure the answer is "do not start", which only the driver can
//! give. The simulator needs no probing: its scenarios are checked for duplicate addresses when loaded.
//! Not done: defending the address later (RFC 5227 §2.4) — a host that takes it after we started is not noticed.

use crate::error::TapError;
use crate::link::Link;
use crate::sys::poll2;
use std::io;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};
use synack::wire::{ArpOperation, ArpPacket, ArpRepr, EtherType, EthernetAddress, EthernetFrame, EthernetRepr};

/// How the probing at start is done (RFC 5227 §2.1.1 with shorter times, as Linux's `arping -D -c 3 -i 0.2`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddressProbe {
    /// ARP probes sent; 0 turns probing (and the announcement) off.
    pub probes: u32,
    /// Time between probes, and how long an answer to the last one is waited for.
    pub interval: Duration,
}

impl Default for AddressProbe {
    fn default() -> Self {
        AddressProbe { probes: 3, interval: Duration::from_millis(200) }
    }
}

/// Who else uses our address, as RFC 5227 §2.1.1 defines a conflict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Conflict {
    /// An ARP packet whose sender address is ours: a reply to a probe, or that host's own traffic.
    Uses(EthernetAddress),
    /// Another host's probe for the same address: it is claiming it too.
    Probes(EthernetAddress),
}

/// What an ARP frame says about `ip`, seen from a host whose MAC is `mac`.
pub(crate) fn conflict_in(frame: &[u8], ip: Ipv4Addr, mac: EthernetAddress) -> Option<Conflict> {
    let eth = EthernetFrame::new_checked(frame).ok()?;
    if EthernetRepr::parse(&eth).ok()?.ethertype != EtherType::Arp {
        return None;
    }
    let arp = ArpRepr::parse(&ArpPacket::new_checked(eth.payload()).ok()?).ok()?;
    let from = arp.source_hardware_addr;
    if from == mac {
        return None;
    }
    if arp.source_protocol_addr == ip {
        return Some(Conflict::Uses(from));
    }
    let is_probe = arp.operation == ArpOperation::Request && arp.source_protocol_addr.is_unspecified();
    (is_probe && arp.target_protocol_addr == ip).then_some(Conflict::Probes(from))
}

/// An ARP request from `mac` for `ip`: a probe (sender address 0.0.0.0) or an announcement (sender `ip`).
pub(crate) fn arp_request(mac: EthernetAddress, sender: Ipv4Addr, ip: Ipv4Addr) -> Vec<u8> {
    let arp = ArpRepr {
        operation: ArpOperation::Request,
        source_hardware_addr: mac,
        source_protocol_addr: sender,
        target_hardware_addr: EthernetAddress([0; 6]),
        target_protocol_addr: ip,
    };
    let eth = EthernetRepr { src_addr: mac, dst_addr: EthernetAddress::BROADCAST, ethertype: EtherType::Arp };
    let mut buf = vec![0u8; synack::wire::ethernet::frame_len(arp.buffer_len())];
    let mut frame = EthernetFrame::new_unchecked(&mut buf[..]);
    eth.emit(&mut frame);
    arp.emit(&mut ArpPacket::new_unchecked(frame.payload_mut()));
    buf
}

/// Probes for `ip` on `link`; `Err(AddressInUse)` if someone answers (or probes for it too) in time, else sends
/// the announcement. Frames read meanwhile are not for the stack yet and are dropped. A link whose other end is
/// down (a write fails with EIO, e.g. a TAP device synack-tap just created) has nobody to answer: probing stops.
pub(crate) fn probe<L: Link>(
    link: &mut L,
    ip: Ipv4Addr,
    mac: EthernetAddress,
    cfg: &AddressProbe,
) -> Result<(), TapError> {
    if cfg.probes == 0 {
        return Ok(());
    }
    let name = link.name().to_string();
    let in_use = |c: Conflict| {
        let (who, how) = match c {
            Conflict::Uses(m) => (m, "answered for it"),
            Conflict::Probes(m) => (m, "is probing for it too"),
        };
        TapError::AddressInUse { addr: ip, mac: who, how, link: name.clone() }
    };
    let probe = arp_request(mac, Ipv4Addr::UNSPECIFIED, ip);
    let mut buf = vec![0u8; 65_536 + 256];
    for _ in 0..cfg.probes {
        match link.send(&probe) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EIO) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(TapError::Io("cannot send an ARP probe", e)),
        }
        let until = Instant::now() + cfg.interval;
        while let Some(left) = until.checked_duration_since(Instant::now()).filter(|d| !d.is_zero()) {
            let ready = poll2(link.as_raw_fd(), -1, Some(left)).map_err(|e| TapError::Io("poll", e))?;
            if !ready.link {
                continue;
            }
            loop {
                match link.recv(&mut buf) {
                    Ok(n) => {
                        if let Some(c) = conflict_in(&buf[..n], ip, mac) {
                            return Err(in_use(c));
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(TapError::Io("reading while probing for our address", e)),
                }
            }
        }
    }
    // RFC 5227 §2.3: the address is ours; say so (sender and target both our address).
    match link.send(&arp_request(mac, ip, ip)) {
        Err(e) if e.raw_os_error() != Some(libc::EIO) && e.kind() != io::ErrorKind::WouldBlock => {
            Err(TapError::Io("cannot send the ARP announcement", e))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::PairLink;

    const MAC: EthernetAddress = EthernetAddress([2, 0, 10, 77, 0, 1]);
    const OTHER: EthernetAddress = EthernetAddress([0x52, 0x54, 0, 1, 2, 3]);
    const IP: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);

    fn reply(from: EthernetAddress, sender: Ipv4Addr) -> Vec<u8> {
        let mut f = arp_request(from, sender, IP);
        let mut eth = EthernetFrame::new_unchecked(&mut f[..]);
        ArpPacket::new_unchecked(eth.payload_mut()).set_operation(ArpOperation::Reply);
        f
    }

    #[test]
    fn conflicts_are_what_rfc_5227_calls_them() {
        assert_eq!(conflict_in(&reply(OTHER, IP), IP, MAC), Some(Conflict::Uses(OTHER)));
        assert_eq!(
            conflict_in(&arp_request(OTHER, IP, Ipv4Addr::new(10, 77, 0, 9)), IP, MAC),
            Some(Conflict::Uses(OTHER))
        );
        assert_eq!(conflict_in(&arp_request(OTHER, Ipv4Addr::UNSPECIFIED, IP), IP, MAC), Some(Conflict::Probes(OTHER)));
        // Our own frames, other addresses, and garbage are not conflicts.
        assert_eq!(conflict_in(&arp_request(MAC, Ipv4Addr::UNSPECIFIED, IP), IP, MAC), None);
        assert_eq!(conflict_in(&reply(OTHER, Ipv4Addr::new(10, 77, 0, 9)), IP, MAC), None);
        assert_eq!(conflict_in(&[0u8; 7], IP, MAC), None);
        assert_eq!(conflict_in(&[0xffu8; 60], IP, MAC), None);
    }

    #[test]
    fn probe_is_refused_when_the_address_answers() {
        let (mut a, mut b) = PairLink::pair().unwrap();
        let fast = AddressProbe { probes: 3, interval: Duration::from_millis(20) };
        // Nobody answers: the probes and then the announcement go out.
        probe(&mut a, IP, MAC, &fast).unwrap();
        let mut buf = [0u8; 128];
        let mut sent = Vec::new();
        while let Ok(n) = b.recv(&mut buf) {
            sent.push(buf[..n].to_vec());
        }
        assert_eq!(sent.len(), 4);
        assert!(sent[..3].iter().all(|f| *f == arp_request(MAC, Ipv4Addr::UNSPECIFIED, IP)));
        assert_eq!(sent[3], arp_request(MAC, IP, IP));
        // Someone holds the address: its answer (waiting before our probe is even sent) refuses the start.
        b.send(&reply(OTHER, IP)).unwrap();
        let err = probe(&mut a, IP, MAC, &fast).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("10.77.0.1") && msg.contains("52:54:00:01:02:03") && msg.contains("pair-a"), "{msg}");
        // Zero probes: nothing sent.
        probe(&mut a, IP, MAC, &AddressProbe { probes: 0, ..fast }).unwrap();
    }
}
