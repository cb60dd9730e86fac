//! Hand-built frames for tests: what a peer (or an attacker) would put on the wire.

use std::net::Ipv4Addr;
use synack::wire::ethernet::{self, EthernetRepr};
use synack::wire::{
    EtherType, EthernetAddress, EthernetFrame, Icmpv4Packet, Icmpv4Repr, IpProtocol, Ipv4Packet, Ipv4Repr, TcpPacket,
    TcpRepr, UdpPacket, UdpRepr,
};

/// An Ethernet frame carrying an IPv4 datagram whose payload `fill` writes.
pub fn ipv4_frame(
    src_mac: EthernetAddress,
    dst_mac: EthernetAddress,
    ip: &Ipv4Repr,
    fill: impl FnOnce(&mut [u8]),
) -> Vec<u8> {
    let ip_len = 20 + ip.payload_len;
    let mut buf = vec![0u8; ethernet::frame_len(ip_len)];
    let mut frame = EthernetFrame::new_unchecked(&mut buf[..]);
    EthernetRepr { src_addr: src_mac, dst_addr: dst_mac, ethertype: EtherType::Ipv4 }.emit(&mut frame);
    let mut packet = Ipv4Packet::new_unchecked(&mut frame.payload_mut()[..ip_len]);
    ip.emit(&mut packet);
    fill(packet.payload_mut());
    buf
}

fn ip_repr(src: Ipv4Addr, dst: Ipv4Addr, protocol: IpProtocol, payload_len: usize) -> Ipv4Repr {
    Ipv4Repr {
        src_addr: src,
        dst_addr: dst,
        protocol,
        payload_len,
        ttl: 64,
        ident: 1,
        dont_frag: true,
        ecn: Default::default(),
    }
}

pub fn tcp_frame(
    src_mac: EthernetAddress,
    dst_mac: EthernetAddress,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    seg: &TcpRepr<'_>,
) -> Vec<u8> {
    ipv4_frame(src_mac, dst_mac, &ip_repr(src, dst, IpProtocol::Tcp, seg.buffer_len()), |b| {
        seg.emit(&mut TcpPacket::new_unchecked(b), &src, &dst)
    })
}

pub fn udp_frame(
    src_mac: EthernetAddress,
    dst_mac: EthernetAddress,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    dgram: &UdpRepr<'_>,
) -> Vec<u8> {
    ipv4_frame(src_mac, dst_mac, &ip_repr(src, dst, IpProtocol::Udp, dgram.buffer_len()), |b| {
        dgram.emit(&mut UdpPacket::new_unchecked(b), &src, &dst)
    })
}

pub fn icmp_frame(
    src_mac: EthernetAddress,
    dst_mac: EthernetAddress,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    msg: &Icmpv4Repr<'_>,
) -> Vec<u8> {
    ipv4_frame(src_mac, dst_mac, &ip_repr(src, dst, IpProtocol::Icmp, msg.buffer_len()), |b| {
        msg.emit(&mut Icmpv4Packet::new_unchecked(b))
    })
}

/// Splits an IPv4 datagram's payload into fragments of at most `chunk` bytes (a multiple of 8), each a
/// complete Ethernet frame with the right MF flag and offset.
pub fn fragments(
    src_mac: EthernetAddress,
    dst_mac: EthernetAddress,
    ip: &Ipv4Repr,
    payload: &[u8],
    chunk: usize,
) -> Vec<Vec<u8>> {
    assert!(chunk % 8 == 0 && chunk > 0);
    let pieces: Vec<&[u8]> = payload.chunks(chunk).collect();
    let last = pieces.len() - 1;
    pieces
        .iter()
        .enumerate()
        .map(|(i, piece)| {
            let repr = Ipv4Repr { payload_len: piece.len(), dont_frag: false, ..*ip };
            let mut frame = ipv4_frame(src_mac, dst_mac, &repr, |b| b.copy_from_slice(piece));
            let mut eth = EthernetFrame::new_unchecked(&mut frame[..]);
            let mut packet = Ipv4Packet::new_unchecked(eth.payload_mut());
            packet.set_flags_and_frag_offset(false, i != last, (i * chunk) as u16);
            packet.fill_checksum();
            frame
        })
        .collect()
}

/// Is this Ethernet frame an ARP packet (a filter for [`crate::Pair::drop_next_where`])?
pub fn is_arp(frame: &[u8]) -> bool {
    frame.get(12..14) == Some(&[0x08, 0x06][..])
}

/// Is this Ethernet frame an IPv4 datagram carrying TCP (no options, protocol byte at offset 23)?
pub fn is_tcp(frame: &[u8]) -> bool {
    frame.get(12..14) == Some(&[0x08, 0x00][..]) && frame.get(23) == Some(&6)
}

/// What a test looks at in a TCP frame: the IP ECN codepoint and the TCP header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpFields {
    pub ecn: synack::wire::EcnCodepoint,
    pub flags: synack::wire::TcpFlags,
    pub seq: synack::tcp::SeqNum,
    pub ack: synack::tcp::SeqNum,
    /// Payload bytes.
    pub len: usize,
}

/// The [`TcpFields`] of an Ethernet frame carrying TCP in IPv4, `None` for anything else.
pub fn tcp_fields(frame: &[u8]) -> Option<TcpFields> {
    let eth = EthernetFrame::new_checked(frame).ok()?;
    let ip = Ipv4Packet::new_checked(eth.payload()).ok().filter(|ip| ip.protocol() == IpProtocol::Tcp)?;
    let tcp = TcpPacket::new_checked(ip.payload()).ok()?;
    Some(TcpFields {
        ecn: ip.ecn(),
        flags: tcp.flags(),
        seq: tcp.seq_number(),
        ack: tcp.ack_number(),
        len: tcp.payload().len(),
    })
}

/// Is this Ethernet frame a TCP segment carrying data?
pub fn is_tcp_data(frame: &[u8]) -> bool {
    tcp_fields(frame).is_some_and(|t| t.len > 0)
}

/// Is this Ethernet frame a SYN (with or without ACK)?
pub fn is_syn(frame: &[u8]) -> bool {
    tcp_fields(frame).is_some_and(|t| t.flags.contains(synack::wire::TcpFlags::SYN))
}

/// Rewrites the TCP flags of a frame carrying TCP in IPv4 (the TCP checksum follows); anything else is left.
pub fn set_tcp_flags(frame: &mut [u8], flags: impl FnOnce(synack::wire::TcpFlags) -> synack::wire::TcpFlags) {
    let Ok(mut eth) = EthernetFrame::new_checked(&mut frame[..]) else { return };
    let Ok(mut ip) = Ipv4Packet::new_checked(eth.payload_mut()) else { return };
    let (src, dst) = (ip.src_addr(), ip.dst_addr());
    let Ok(mut tcp) = TcpPacket::new_checked(ip.payload_mut()) else { return };
    let new = flags(tcp.flags());
    tcp.set_flags(new);
    tcp.fill_checksum(&src, &dst);
}

/// Sets the IP ECN codepoint of an IPv4 frame whatever it was (the header checksum follows): a router that
/// marks what it must not, or a middlebox that rewrites the field.
pub fn set_ip_ecn(frame: &mut [u8], ecn: synack::wire::EcnCodepoint) {
    let Ok(mut eth) = EthernetFrame::new_checked(&mut frame[..]) else { return };
    let Ok(mut ip) = Ipv4Packet::new_checked(eth.payload_mut()) else { return };
    ip.set_ecn(ecn);
    ip.fill_checksum();
}

/// Is this Ethernet frame a TCP segment with nothing but an acknowledgement (ACK alone, no payload)?
pub fn is_pure_ack(frame: &[u8]) -> bool {
    use synack::wire::{Ipv4Packet, TcpFlags, TcpPacket};
    if !is_tcp(frame) {
        return false;
    }
    let Ok(ip) = Ipv4Packet::new_checked(&frame[14..]) else { return false };
    let Ok(tcp) = TcpPacket::new_checked(ip.payload()) else { return false };
    tcp.flags() == TcpFlags::ACK && tcp.payload().is_empty()
}

/// The sequence number and payload length of a TCP segment in `frame`, if it is one.
pub fn tcp_seq_len(frame: &[u8]) -> Option<(u32, usize)> {
    let eth = synack::wire::EthernetFrame::new_checked(frame).ok()?;
    let ip = synack::wire::Ipv4Packet::new_checked(eth.payload()).ok()?;
    if ip.protocol() != synack::wire::IpProtocol::Tcp {
        return None;
    }
    let tcp = synack::wire::TcpPacket::new_checked(ip.payload()).ok()?;
    Some((tcp.seq_number().0, tcp.payload().len()))
}
