//! The addresses an IPv6 host derives (RFC 4291, RFC 4862): from its MAC, and the multicast groups and
//! Ethernet addresses neighbour discovery uses.

use crate::wire::ethernet::EthernetAddress;
use core::net::Ipv6Addr;

/// The solicited-node multicast address of `addr` (RFC 4291 §2.7.1): ff02::1:ff00:0/104 plus its low 24 bits.
pub fn solicited_node(addr: &Ipv6Addr) -> Ipv6Addr {
    let o = addr.octets();
    Ipv6Addr::from([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, o[13], o[14], o[15]])
}

/// Whether `addr` is a solicited-node multicast address (ff02::1:ffXX:XXXX).
pub fn is_solicited_node(addr: &Ipv6Addr) -> bool {
    addr.octets()[..13] == solicited_node(&Ipv6Addr::UNSPECIFIED).octets()[..13]
}

/// The Ethernet address an IPv6 multicast address maps to: 33:33 and its low 32 bits (RFC 2464 §7).
pub fn multicast_mac(addr: &Ipv6Addr) -> EthernetAddress {
    let o = addr.octets();
    EthernetAddress([0x33, 0x33, o[12], o[13], o[14], o[15]])
}

/// The modified EUI-64 interface identifier of a MAC: ff:fe in the middle, the universal/local bit inverted
/// (RFC 4291 Appendix A).
pub fn eui64_interface_id(mac: EthernetAddress) -> [u8; 8] {
    let m = mac.0;
    [m[0] ^ 0x02, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]]
}

/// The address `prefix` (its first 64 bits) plus the interface identifier of `mac` (RFC 4862 §5.5.3).
pub fn address_from_mac(prefix: &Ipv6Addr, mac: EthernetAddress) -> Ipv6Addr {
    let mut o = prefix.octets();
    o[8..].copy_from_slice(&eui64_interface_id(mac));
    Ipv6Addr::from(o)
}

/// The link-local address fe80::/64 plus the interface identifier of `mac` (RFC 4862 §5.3).
pub fn link_local_from_mac(mac: EthernetAddress) -> Ipv6Addr {
    address_from_mac(&Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), mac)
}

/// Whether `addr` is link-local unicast (fe80::/10).
pub fn is_link_local(addr: &Ipv6Addr) -> bool {
    addr.segments()[0] & 0xffc0 == 0xfe80
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{DST, SRC};
    use super::super::ALL_NODES;
    use super::*;

    #[test]
    fn derived_addresses() {
        // RFC 4291 App. A: ff:fe in the middle, the universal/local bit (0x02 of the first byte) inverted.
        let mac = EthernetAddress([0x00, 0x1b, 0x21, 0x3a, 0x4c, 0x5d]);
        assert_eq!(eui64_interface_id(mac), [0x02, 0x1b, 0x21, 0xff, 0xfe, 0x3a, 0x4c, 0x5d]);
        assert_eq!(link_local_from_mac(mac), "fe80::21b:21ff:fe3a:4c5d".parse::<Ipv6Addr>().unwrap());
        let prefix: Ipv6Addr = "2001:db8:1:2::".parse().unwrap();
        assert_eq!(address_from_mac(&prefix, mac), "2001:db8:1:2:21b:21ff:fe3a:4c5d".parse::<Ipv6Addr>().unwrap());
        let addr: Ipv6Addr = "2001:db8::abcd:1234:5678".parse().unwrap();
        let group = solicited_node(&addr);
        assert_eq!(group, "ff02::1:ff34:5678".parse::<Ipv6Addr>().unwrap());
        assert!(is_solicited_node(&group));
        assert!(!is_solicited_node(&ALL_NODES));
        assert!(!is_solicited_node(&addr));
        assert_eq!(multicast_mac(&group), EthernetAddress([0x33, 0x33, 0xff, 0x34, 0x56, 0x78]));
        assert_eq!(multicast_mac(&ALL_NODES), EthernetAddress([0x33, 0x33, 0, 0, 0, 1]));
        assert!(is_link_local(&SRC));
        assert!(is_link_local(&"febf::1".parse().unwrap()));
        assert!(!is_link_local(&"fec0::1".parse().unwrap()));
        assert!(!is_link_local(&DST));
    }
}
