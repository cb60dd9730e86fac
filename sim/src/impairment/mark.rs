//! Congestion marks: a frame set to CE (RFC 3168 §5), as an ECN-capable router's queue would instead of
//! dropping it. Only an exact fault marks today (`mark_ce`); queues that mark by their own rule are to come.
//!
//! Only an unfragmented or fragmented IPv4 datagram that is ECN-capable (ECT(0) or ECT(1)) is marked, and its
//! header checksum is refilled. A CE datagram stays CE. A Not-ECT datagram (or anything not IPv4) is left
//! alone: a router that would mark it drops it instead (RFC 3168 §5), but an exact mark fault is about marking,
//! so dropping is left to the `drop` fault.

use synack::wire::{ethernet, EcnCodepoint, EtherType, EthernetFrame, Ipv4Packet};

/// What marking did to a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CeMark {
    /// ECT(0) or ECT(1) became CE.
    Marked,
    /// It was CE already.
    AlreadyCe,
    /// Not an ECN-capable IPv4 datagram (Not-ECT, not IPv4, or a header that does not check): untouched.
    NotEct,
}

/// Marks an ECN-capable IPv4 frame CE and refills its header checksum.
pub fn mark_ce(frame: &mut [u8]) -> CeMark {
    let is_ipv4 = EthernetFrame::new_checked(&frame[..]).is_ok_and(|eth| eth.ethertype() == EtherType::Ipv4);
    let Some(ip_bytes) = frame.get_mut(ethernet::HEADER_LEN..).filter(|_| is_ipv4) else {
        return CeMark::NotEct;
    };
    let Ok(mut ip) = Ipv4Packet::new_checked(ip_bytes) else {
        return CeMark::NotEct;
    };
    if !ip.verify_checksum() {
        return CeMark::NotEct; // a router drops such a header; a mark fault leaves it to the receiver
    }
    match ip.ecn() {
        EcnCodepoint::Ce => CeMark::AlreadyCe,
        EcnCodepoint::NotEct => CeMark::NotEct,
        EcnCodepoint::Ect0 | EcnCodepoint::Ect1 => {
            ip.set_ecn(EcnCodepoint::Ce);
            ip.fill_checksum();
            CeMark::Marked
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use synack::wire::{EthernetAddress, EthernetRepr, IpProtocol, Ipv4Repr};

    fn frame(ecn: EcnCodepoint) -> Vec<u8> {
        let ip = Ipv4Repr {
            src_addr: [10, 0, 0, 1].into(),
            dst_addr: [10, 0, 0, 2].into(),
            protocol: IpProtocol::Udp,
            payload_len: 8,
            ttl: 64,
            ident: 1,
            dont_frag: true,
            ecn,
        };
        let mut buf = vec![0u8; ethernet::frame_len(28)];
        let mut eth = EthernetFrame::new_unchecked(&mut buf[..]);
        let (a, b) = (EthernetAddress([2, 0, 0, 0, 0, 1]), EthernetAddress([2, 0, 0, 0, 0, 2]));
        EthernetRepr { src_addr: a, dst_addr: b, ethertype: EtherType::Ipv4 }.emit(&mut eth);
        ip.emit(&mut Ipv4Packet::new_unchecked(&mut eth.payload_mut()[..28]));
        buf
    }

    fn ecn_of(frame: &[u8]) -> EcnCodepoint {
        let ip = Ipv4Packet::new_checked(&frame[ethernet::HEADER_LEN..]).unwrap();
        assert!(ip.verify_checksum());
        ip.ecn()
    }

    #[test]
    fn marks_ect_only_and_keeps_the_checksum_valid() {
        for (ecn, outcome, after) in [
            (EcnCodepoint::Ect0, CeMark::Marked, EcnCodepoint::Ce),
            (EcnCodepoint::Ect1, CeMark::Marked, EcnCodepoint::Ce),
            (EcnCodepoint::Ce, CeMark::AlreadyCe, EcnCodepoint::Ce),
            (EcnCodepoint::NotEct, CeMark::NotEct, EcnCodepoint::NotEct),
        ] {
            let mut f = frame(ecn);
            assert_eq!(mark_ce(&mut f), outcome, "{ecn}");
            assert_eq!(ecn_of(&f), after, "{ecn}");
        }
        let mut arp = frame(EcnCodepoint::Ect0);
        arp[12..14].copy_from_slice(&[0x08, 0x06]);
        let before = arp.clone();
        assert_eq!(mark_ce(&mut arp), CeMark::NotEct);
        assert_eq!(arp, before);
        for len in 0..30 {
            let mut short = frame(EcnCodepoint::Ect0)[..len].to_vec();
            assert_eq!(mark_ce(&mut short), CeMark::NotEct, "len {len}");
        }
    }
}
