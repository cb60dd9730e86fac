//! Wire parsers: parse -> emit -> parse must give back the same `Repr` (and emit must be a fixed point), for
//! every format. The first input byte picks the format; the rest is the bytes to parse.

use core::net::Ipv4Addr;
use synack::wire::ethernet::{self, EthernetRepr};
use synack::wire::pretty::frame_summary;
use synack::wire::{
    ArpPacket, ArpRepr, EthernetFrame, Icmpv4Packet, Icmpv4Repr, Ipv4Packet, Ipv4Repr, TcpOptions, TcpPacket, TcpRepr,
    UdpPacket, UdpRepr,
};

/// The formats, in the order of the selector byte (modulo their count).
pub const FORMATS: [&str; 8] = ["ethernet", "arp", "ipv4", "icmpv4", "udp", "tcp", "tcp_options", "pretty"];

/// Runs the round trip for one input; panics on any violation.
pub fn roundtrip(data: &[u8]) {
    let Some((&selector, bytes)) = data.split_first() else { return };
    match usize::from(selector) % FORMATS.len() {
        0 => ethernet_roundtrip(bytes),
        1 => arp_roundtrip(bytes),
        2 => ipv4_roundtrip(bytes),
        3 => icmp_roundtrip(bytes),
        4 => with_addrs(bytes, udp_roundtrip),
        5 => with_addrs(bytes, tcp_roundtrip),
        6 => options_roundtrip(bytes),
        _ => {
            let _ = frame_summary(bytes);
        }
    }
}

/// The pretty printer must never panic either (it is used on every logged frame).
fn pretty(frame: &[u8]) {
    let _ = frame_summary(frame);
}

fn ethernet_roundtrip(bytes: &[u8]) {
    pretty(bytes);
    let Ok(frame) = EthernetFrame::new_checked(bytes) else { return };
    let Ok(repr) = EthernetRepr::parse(&frame) else { return };
    let payload = frame.payload();
    let mut buf = vec![0u8; repr.buffer_len() + payload.len()];
    let mut out = EthernetFrame::new_unchecked(&mut buf[..]);
    repr.emit(&mut out);
    out.payload_mut().copy_from_slice(payload);
    assert_eq!(buf, bytes, "Ethernet header fields are all kept, so the bytes must come back unchanged");
    let again = EthernetFrame::new_checked(&buf[..]).expect("our own frame parses");
    assert_eq!(EthernetRepr::parse(&again).expect("our own header parses"), repr);
    assert!(ethernet::frame_len(payload.len()) >= 60);
}

fn arp_roundtrip(bytes: &[u8]) {
    let Ok(packet) = ArpPacket::new_checked(bytes) else { return };
    let Ok(repr) = ArpRepr::parse(&packet) else { return };
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut ArpPacket::new_unchecked(&mut buf[..]));
    // Only Ethernet/IPv4 parses, and every field of that layout is in the Repr: same bytes.
    assert_eq!(&buf[..], &bytes[..buf.len()], "ARP bytes differ after a round trip");
    let again = ArpPacket::new_checked(&buf[..]).expect("our own ARP packet is long enough");
    assert_eq!(ArpRepr::parse(&again).expect("our own ARP packet parses"), repr);
}

fn ipv4_roundtrip(bytes: &[u8]) {
    let Ok(packet) = Ipv4Packet::new_checked(bytes) else { return };
    let Ok(repr) = Ipv4Repr::parse(&packet) else { return };
    assert!(repr.payload_len <= packet.payload().len(), "payload_len beyond the view");
    let payload = &packet.payload()[..repr.payload_len];
    let mut buf = vec![0u8; repr.buffer_len() + repr.payload_len];
    let mut out = Ipv4Packet::new_unchecked(&mut buf[..]);
    repr.emit(&mut out);
    out.payload_mut().copy_from_slice(payload);
    let again = Ipv4Packet::new_checked(&buf[..]).expect("our own datagram passes the length checks");
    let reparsed = Ipv4Repr::parse(&again).expect("our own datagram parses");
    assert_eq!(reparsed, repr);
    assert_eq!(again.payload(), payload);
    assert!(!again.is_fragment() && again.options().is_empty());
}

fn icmp_roundtrip(bytes: &[u8]) {
    let Ok(packet) = Icmpv4Packet::new_checked(bytes) else { return };
    let Ok(repr) = Icmpv4Repr::parse(&packet) else { return };
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Icmpv4Packet::new_unchecked(&mut buf[..]));
    let again = Icmpv4Packet::new_checked(&buf[..]).expect("our own ICMP message passes the length checks");
    assert_eq!(Icmpv4Repr::parse(&again).expect("our own ICMP message parses"), repr);
    // Echo messages keep every byte, so they come back identical, but for the checksum, where 0x0000 and
    // 0xffff both verify when the sum is zero, and a request's code: any is taken, and the stack answers with
    // the message's own (the repr has none).
    if matches!(repr, Icmpv4Repr::EchoRequest { .. } | Icmpv4Repr::EchoReply { .. }) {
        assert_eq!((buf[0], &buf[4..]), (bytes[0], &bytes[4..]), "echo bytes differ after a round trip");
        assert!(buf[1] == bytes[1] || matches!(repr, Icmpv4Repr::EchoRequest { .. }), "echo reply code changed");
    }
}

/// Takes the pseudo-header addresses from the first 8 bytes.
fn with_addrs(bytes: &[u8], f: fn(&[u8], &Ipv4Addr, &Ipv4Addr)) {
    if bytes.len() < 8 {
        return;
    }
    let src = Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]);
    let dst = Ipv4Addr::new(bytes[4], bytes[5], bytes[6], bytes[7]);
    f(&bytes[8..], &src, &dst)
}

fn udp_roundtrip(bytes: &[u8], src: &Ipv4Addr, dst: &Ipv4Addr) {
    let Ok(packet) = UdpPacket::new_checked(bytes) else { return };
    let Ok(repr) = UdpRepr::parse(&packet, src, dst) else { return };
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut UdpPacket::new_unchecked(&mut buf[..]), src, dst);
    let again = UdpPacket::new_checked(&buf[..]).expect("our own datagram passes the length checks");
    assert_eq!(UdpRepr::parse(&again, src, dst).expect("our own datagram parses"), repr);
    // Same bytes, except that a sender may omit the checksum (0) where we always compute one.
    let len = buf.len();
    if bytes[6..8] != [0, 0] {
        assert_eq!(&buf[..], &bytes[..len], "UDP bytes differ after a round trip");
    }
}

/// SACK blocks that did not fit next to the other options may be dropped from the end by `emit`; everything
/// else must come back.
fn assert_options_match(reparsed: &TcpOptions, original: &TcpOptions) {
    let mut expected = *original;
    let kept = reparsed.sack_blocks.iter().flatten().count();
    let present = original.sack_blocks.iter().flatten().count();
    assert!(kept <= present, "SACK blocks appeared: {reparsed:?} from {original:?}");
    for slot in expected.sack_blocks.iter_mut().skip(kept) {
        *slot = None;
    }
    if kept < present {
        // Dropping a block is only allowed when one more would not have fit in 40 bytes.
        let one_more = if kept == 0 { 12 } else { 8 };
        assert!(reparsed.len() + one_more > 40, "dropped a SACK block that fits: {original:?}");
    }
    assert_eq!(*reparsed, expected, "options changed in a round trip");
    assert!(reparsed.len() <= 40 && reparsed.len().is_multiple_of(4));
}

fn tcp_roundtrip(bytes: &[u8], src: &Ipv4Addr, dst: &Ipv4Addr) {
    let Ok(packet) = TcpPacket::new_checked(bytes) else { return };
    let Ok(repr) = TcpRepr::parse(&packet, src, dst) else { return };
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut TcpPacket::new_unchecked(&mut buf[..]), src, dst);
    let again = TcpPacket::new_checked(&buf[..]).expect("our own segment passes the length checks");
    let reparsed = TcpRepr::parse(&again, src, dst).expect("our own segment parses");
    assert_options_match(&reparsed.options, &repr.options);
    assert_eq!(TcpRepr { options: repr.options, ..reparsed }, repr, "TCP fields changed in a round trip");
    // Emitting what we parsed back is a fixed point.
    let mut twice = vec![0u8; reparsed.buffer_len()];
    reparsed.emit(&mut TcpPacket::new_unchecked(&mut twice[..]), src, dst);
    assert_eq!(twice, buf, "emit is not a fixed point");
}

fn options_roundtrip(bytes: &[u8]) {
    let bytes = &bytes[..bytes.len().min(40)];
    let Ok(opts) = TcpOptions::parse(bytes) else { return };
    let mut buf = [0u8; 40];
    let n = opts.emit(&mut buf);
    assert_eq!(n, opts.len());
    let reparsed = TcpOptions::parse(&buf[..n]).expect("our own options parse");
    assert_options_match(&reparsed, &opts);
}
