//! Raw frame builders: every header byte is written here, so a builder can express what no `Repr` can
//! (bad data offsets, malformed options, lying length fields). Checksums use RFC 1071 directly.

use core::net::Ipv4Addr;
use synack::wire::EthernetAddress;

pub const ETH_LEN: usize = 14;
pub const IP_LEN: usize = 20;

/// RFC 1071 one's complement sum, folded, not complemented.
fn sum(bytes: &[u8], mut acc: u32) -> u32 {
    for c in bytes.chunks(2) {
        acc += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    acc
}

fn fold(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// Ethernet header + payload, zero-padded to the 60-byte minimum.
pub fn ethernet(src: EthernetAddress, dst: EthernetAddress, ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(ETH_LEN + payload.len().max(46));
    f.extend_from_slice(&dst.0);
    f.extend_from_slice(&src.0);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    if f.len() < 60 {
        f.resize(60, 0);
    }
    f
}

/// An Ethernet/IPv4 ARP packet (operation 1 request, 2 reply).
pub fn arp(
    op: u16,
    eth_dst: EthernetAddress,
    sender: (EthernetAddress, Ipv4Addr),
    target: (EthernetAddress, Ipv4Addr),
) -> Vec<u8> {
    let mut p = vec![0, 1, 8, 0, 6, 4];
    p.extend_from_slice(&op.to_be_bytes());
    p.extend_from_slice(&sender.0 .0);
    p.extend_from_slice(&sender.1.octets());
    p.extend_from_slice(&target.0 .0);
    p.extend_from_slice(&target.1.octets());
    ethernet(sender.0, eth_dst, 0x0806, &p)
}

/// An unfragmented IPv4 datagram (no options, TTL 64) in an Ethernet frame.
pub fn ipv4(
    src_mac: EthernetAddress,
    dst_mac: EthernetAddress,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    protocol: u8,
    payload: &[u8],
) -> Vec<u8> {
    let total = (IP_LEN + payload.len()) as u16;
    let mut p = vec![0x45, 0];
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&[0x12, 0x34, 0x40, 0, 64, protocol, 0, 0]);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(payload);
    let mut f = ethernet(src_mac, dst_mac, 0x0800, &p);
    fix_checksums(&mut f);
    f
}

/// The fields of a TCP segment a builder sets; options are raw bytes (padded with zeros to a multiple of 4).
#[derive(Clone, Debug, Default)]
pub struct Tcp<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    /// The 12 flag bits (NS, CWR, ECE, URG, ACK, PSH, RST, SYN, FIN in the low 9).
    pub flags: u16,
    pub window: u16,
    pub urgent: u16,
    pub options: &'a [u8],
    pub payload: &'a [u8],
}

pub const FIN: u16 = 0x01;
pub const SYN: u16 = 0x02;
pub const RST: u16 = 0x04;
pub const PSH: u16 = 0x08;
pub const ACK: u16 = 0x10;

impl Tcp<'_> {
    /// The segment's bytes (checksum left zero; [`fix_checksums`] fills it once inside a frame).
    pub fn bytes(&self) -> Vec<u8> {
        let mut opts = self.options[..self.options.len().min(40)].to_vec();
        opts.resize(opts.len().next_multiple_of(4), 0);
        let words = (5 + opts.len() / 4) as u16;
        let mut s = Vec::with_capacity(20 + opts.len() + self.payload.len());
        s.extend_from_slice(&self.src_port.to_be_bytes());
        s.extend_from_slice(&self.dst_port.to_be_bytes());
        s.extend_from_slice(&self.seq.to_be_bytes());
        s.extend_from_slice(&self.ack.to_be_bytes());
        s.extend_from_slice(&((words << 12) | (self.flags & 0x0fff)).to_be_bytes());
        s.extend_from_slice(&self.window.to_be_bytes());
        s.extend_from_slice(&[0, 0]);
        s.extend_from_slice(&self.urgent.to_be_bytes());
        s.extend_from_slice(&opts);
        s.extend_from_slice(self.payload);
        s
    }

    /// A whole frame from `src` to `dst`.
    pub fn frame(&self, src: (EthernetAddress, Ipv4Addr), dst: (EthernetAddress, Ipv4Addr)) -> Vec<u8> {
        ipv4(src.0, dst.0, src.1, dst.1, 6, &self.bytes())
    }
}

/// Recomputes the IPv4 header checksum and the TCP/UDP/ICMP checksum of an Ethernet/IPv4 frame over the
/// lengths its headers claim, where they fit in the frame; anything that does not fit is left alone. Used after
/// mutating header fields so that the mutation, not the checksum, is what the stack sees.
pub fn fix_checksums(frame: &mut [u8]) {
    if frame.len() < ETH_LEN + IP_LEN || frame[12..14] != [0x08, 0x00] {
        return;
    }
    let ip = &mut frame[ETH_LEN..];
    let header_len = usize::from(ip[0] & 0x0f) * 4;
    if header_len < IP_LEN || ip.len() < header_len {
        return;
    }
    ip[10..12].fill(0);
    let c = !fold(sum(&ip[..header_len], 0));
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    let fragment = u16::from_be_bytes([ip[6], ip[7]]) & 0x3fff != 0;
    if total < header_len || total > ip.len() || fragment {
        return;
    }
    let (src, dst, protocol) = ([ip[12], ip[13], ip[14], ip[15]], [ip[16], ip[17], ip[18], ip[19]], ip[9]);
    let l4 = &mut ip[header_len..total];
    let at = match protocol {
        1 if l4.len() >= 4 => 2,
        6 if l4.len() >= 20 => 16,
        17 if l4.len() >= 8 => 6,
        _ => return,
    };
    l4[at..at + 2].fill(0);
    let mut acc = 0;
    if protocol != 1 {
        acc = sum(&src, acc);
        acc = sum(&dst, acc);
        acc += u32::from(protocol) + l4.len() as u32;
    }
    let mut c = !fold(sum(l4, acc));
    if protocol == 17 && c == 0 {
        c = 0xffff;
    }
    l4[at..at + 2].copy_from_slice(&c.to_be_bytes());
}

/// An ICMP message (type, code, 4 bytes rest-of-header, data) with a correct checksum, unframed.
pub fn icmp(ty: u8, code: u8, rest: [u8; 4], data: &[u8]) -> Vec<u8> {
    let mut m = vec![ty, code, 0, 0];
    m.extend_from_slice(&rest);
    m.extend_from_slice(data);
    let c = !fold(sum(&m, 0));
    m[2..4].copy_from_slice(&c.to_be_bytes());
    m
}

/// The TCP segment (ports, seq, ack, flags) carried by an Ethernet/IPv4 frame, if it is one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeenTcp {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u16,
    pub payload_len: usize,
}

pub fn seen_tcp(frame: &[u8]) -> Option<SeenTcp> {
    if frame.len() < ETH_LEN + IP_LEN + 20 || frame[12..14] != [0x08, 0x00] || frame[ETH_LEN + 9] != 6 {
        return None;
    }
    let ip = &frame[ETH_LEN..];
    let header_len = usize::from(ip[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    let t = ip.get(header_len..total)?;
    let be32 = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    let data_offset = usize::from(t.get(12)? >> 4) * 4;
    Some(SeenTcp {
        src_port: u16::from_be_bytes([t[0], t[1]]),
        dst_port: u16::from_be_bytes([t[2], t[3]]),
        seq: be32(&t[4..8]),
        ack: be32(&t[8..12]),
        flags: u16::from_be_bytes([t[12], t[13]]) & 0x0fff,
        payload_len: t.len().saturating_sub(data_offset),
    })
}
