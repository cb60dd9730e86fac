//! A TAP device with offloads both ways: Linux may hand the stack TCP segments of up to 64 KB (as it does to
//! a virtual machine's virtio-net card) and leave their checksum to the receiver, and it cuts the stack's own
//! large TCP frames into MTU-sized segments.
//!
//! A TAP stack makes one system call per frame, and with 1500-byte frames that is what limits it; one read of
//! a 64 KB segment replaces ~45. Every frame carries a virtio-net header (`struct virtio_net_hdr`, 10 bytes,
//! native byte order). On receive, a header asking for a checksum (`NEEDS_CSUM`) is honoured here, before the
//! stack sees the frame, so the stack keeps verifying every checksum as usual; segmentation needs nothing: the
//! large segment is one valid IPv4/TCP packet. On send, frames that fit the MTU go out with an all-zero header
//! (complete, nothing to do); a TCP frame larger than the MTU (the stack builds them when
//! `TcpConfig::segmentation_offload` is on) goes out with a segmentation request (`GSO_TCPV4`, segment size
//! = what the MTU leaves after the headers) and a partial checksum (the pseudo-header sum in the field, as
//! Linux's own TSO path expects), and Linux cuts it into MTU-sized segments.

use crate::error::TapError;
use crate::link::Link;
use crate::sys;
use crate::tap::{check_name, classify_open_error};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::Path;
use synack::wire::{
    checksum, ethernet, tcp, udp, EtherType, EthernetFrame, IpProtocol, Ipv4Packet, TcpPacket, UdpPacket,
};

/// Length of `struct virtio_net_hdr` (without the `num_buffers` field).
pub const VNET_HDR_LEN: usize = 10;
/// `VIRTIO_NET_HDR_F_NEEDS_CSUM`: the checksum from `csum_start` on is left for us to compute.
const NEEDS_CSUM: u8 = 1;
/// `VIRTIO_NET_HDR_GSO_TCPV4`.
const GSO_TCPV4: u8 = 1;
/// `VIRTIO_NET_HDR_GSO_ECN`: the segment to cut carries CWR (RFC 3168), which only the first piece may keep.
const GSO_ECN: u8 = 0x80;

/// The fields of a virtio-net header the driver acts on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VnetHeader {
    pub flags: u8,
    pub gso_type: u8,
    pub hdr_len: u16,
    pub gso_size: u16,
    pub csum_start: u16,
    pub csum_offset: u16,
}

impl VnetHeader {
    pub fn parse(b: &[u8; VNET_HDR_LEN]) -> VnetHeader {
        let u16_at = |i: usize| u16::from_ne_bytes([b[i], b[i + 1]]);
        VnetHeader {
            flags: b[0],
            gso_type: b[1],
            hdr_len: u16_at(2),
            gso_size: u16_at(4),
            csum_start: u16_at(6),
            csum_offset: u16_at(8),
        }
    }

    pub fn to_bytes(self) -> [u8; VNET_HDR_LEN] {
        let mut b = [0u8; VNET_HDR_LEN];
        b[0] = self.flags;
        b[1] = self.gso_type;
        b[2..4].copy_from_slice(&self.hdr_len.to_ne_bytes());
        b[4..6].copy_from_slice(&self.gso_size.to_ne_bytes());
        b[6..8].copy_from_slice(&self.csum_start.to_ne_bytes());
        b[8..10].copy_from_slice(&self.csum_offset.to_ne_bytes());
        b
    }
}

/// For an IPv4/TCP frame longer than `mtu` allows: the header asking the device to cut it into segments, where
/// the TCP checksum field starts in the frame, and the partial checksum (pseudo-header sum) to put there.
/// `None` for anything else (sent as it is).
pub fn segmentation_request(frame: &[u8], mtu: usize) -> Option<(VnetHeader, usize, u16)> {
    let eth = EthernetFrame::new_checked(frame).ok()?;
    if frame.len() <= ethernet::HEADER_LEN + mtu || eth.ethertype() != EtherType::Ipv4 {
        return None;
    }
    let ip = Ipv4Packet::new_checked(eth.payload()).ok()?;
    if ip.protocol() != IpProtocol::Tcp {
        return None;
    }
    let tcp = TcpPacket::new_checked(ip.payload()).ok()?;
    let (ihl, thl) = (ip.header_len(), tcp.header_len());
    if ihl + thl >= mtu {
        return None;
    }
    let tcp_len = u16::try_from(ip.payload().len()).ok()?;
    let pseudo = checksum::pseudo_header(&ip.src_addr(), &ip.dst_addr(), IpProtocol::Tcp, tcp_len);
    let csum_start = ethernet::HEADER_LEN + ihl;
    let ecn = if tcp.flags().contains(tcp::TcpFlags::CWR) { GSO_ECN } else { 0 };
    let hdr = VnetHeader {
        flags: NEEDS_CSUM,
        gso_type: GSO_TCPV4 | ecn,
        hdr_len: (csum_start + thl) as u16,
        gso_size: (mtu - ihl - thl) as u16,
        csum_start: csum_start as u16,
        csum_offset: tcp::CHECKSUM_OFFSET as u16,
    };
    Some((hdr, csum_start + tcp::CHECKSUM_OFFSET, pseudo))
}

/// Completes a partial checksum as the header asks: the one's complement of the sum from `csum_start` to the
/// end of the frame (the checksum field holds the pseudo-header sum) goes into `csum_start + csum_offset`.
/// Returns false (frame untouched) if the offsets do not fit the frame; the stack then drops it as corrupt.
pub fn complete_checksum(hdr: &VnetHeader, frame: &mut [u8]) -> bool {
    if hdr.flags & NEEDS_CSUM == 0 {
        return true;
    }
    let start = usize::from(hdr.csum_start);
    let field = start + usize::from(hdr.csum_offset);
    if start >= frame.len() || field + 2 > frame.len() {
        return false;
    }
    let sum = checksum::data(&frame[start..]);
    frame[field..field + 2].copy_from_slice(&(!sum).to_be_bytes());
    true
}

/// Where the TCP or UDP checksum of an unfragmented IPv4 frame is computed from and stored:
/// (`csum_start`, `csum_offset`) as a virtio-net header names them. `None` for anything else.
fn transport_checksum_at(frame: &[u8]) -> Option<(u16, u16)> {
    let eth = EthernetFrame::new_checked(frame).ok()?;
    if eth.ethertype() != EtherType::Ipv4 {
        return None;
    }
    let ip = Ipv4Packet::new_checked(eth.payload()).ok()?;
    if ip.is_fragment() {
        return None;
    }
    let offset = match ip.protocol() {
        IpProtocol::Tcp => tcp::CHECKSUM_OFFSET,
        IpProtocol::Udp => udp::CHECKSUM_OFFSET,
        _ => return None,
    };
    if ip.payload().len() < offset + 2 {
        return None;
    }
    Some(((ethernet::HEADER_LEN + ip.header_len()) as u16, offset as u16))
}

/// Does the header's checksum request cover exactly the TCP or UDP checksum of an unfragmented IPv4 packet in
/// `frame` (the only requests a receiver may leave to the stack's transport layer)?
fn is_transport_checksum(hdr: &VnetHeader, frame: &[u8]) -> bool {
    transport_checksum_at(frame) == Some((hdr.csum_start, hdr.csum_offset))
}

/// Fills in the TCP or UDP checksum of an IPv4 frame from scratch (a frame whose checksum Linux left
/// unfinished, for a reader that wants it whole); anything else is left as it is.
fn finish_transport_checksum(frame: &mut [u8]) {
    let Ok(eth) = EthernetFrame::new_checked(&*frame) else { return };
    let Ok(ip) = Ipv4Packet::new_checked(eth.payload()) else { return };
    let (src, dst, protocol) = (ip.src_addr(), ip.dst_addr(), ip.protocol());
    let start = ethernet::HEADER_LEN + ip.header_len();
    let end = start + ip.payload().len();
    let l4 = &mut frame[start..end];
    match protocol {
        IpProtocol::Tcp => {
            if let Ok(mut tcp) = TcpPacket::new_checked(l4) {
                tcp.fill_checksum(&src, &dst);
            }
        }
        IpProtocol::Udp => {
            if let Ok(mut udp) = UdpPacket::new_checked(l4) {
                udp.fill_checksum(&src, &dst);
            }
        }
        _ => {}
    }
}

/// A TAP device opened with a virtio-net header and checksum + TCPv4 segmentation offload enabled.
#[derive(Debug)]
pub struct OffloadTap {
    fd: OwnedFd,
    name: String,
    /// IP MTU of the link: larger TCP frames are handed over for segmentation.
    mtu: usize,
    /// The stack leaves TCP/UDP checksums partial (`Config::tx_checksum_offload`): ask Linux to finish them.
    finish_tx_checksums: bool,
}

impl OffloadTap {
    /// Creates (or attaches to a persistent) TAP device `name` with offloads, non-blocking; `mtu` is the
    /// link's IP MTU (frames beyond it are segmented by Linux).
    pub fn open(name: &str, mtu: usize) -> Result<OffloadTap, TapError> {
        check_name(name)?;
        if !Path::new("/dev/net/tun").exists() {
            return Err(TapError::NoTunDevice);
        }
        let fd = sys::open_tap_with_vnet_header(name, VNET_HDR_LEN, libc::TUN_F_CSUM | libc::TUN_F_TSO4)
            .map_err(|e| classify_open_error(name, e))?;
        crate::tap::raise_tx_queue(name);
        Ok(OffloadTap { fd, name: name.to_string(), mtu, finish_tx_checksums: false })
    }
}

impl OffloadTap {
    /// Whether the frames handed to [`Link::send`] carry partial TCP/UDP checksums that Linux must finish (the
    /// stack runs with `Config::tx_checksum_offload`). Off by default: frames leave complete.
    pub fn set_finish_tx_checksums(&mut self, on: bool) {
        self.finish_tx_checksums = on;
    }
}

impl Drop for OffloadTap {
    /// Turns the offloads off again: a persistent device keeps them, and a later reader without the
    /// virtio-net header would get frames with unfinished checksums.
    fn drop(&mut self) {
        let _ = sys::set_offload(self.fd.as_raw_fd(), 0);
    }
}

impl AsRawFd for OffloadTap {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl Link for OffloadTap {
    /// Every checksum comes back finished.
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let (len, unfinished) = self.recv_frame(buf)?;
        if unfinished {
            finish_transport_checksum(&mut buf[..len]);
        }
        Ok(len)
    }

    /// A frame whose header asks for the TCP or UDP checksum of an IPv4 packet (Linux's own segments) comes
    /// back unfinished and flagged; any other request for a checksum is completed here.
    fn recv_frame(&mut self, buf: &mut [u8]) -> io::Result<(usize, bool)> {
        let mut head = [0u8; VNET_HDR_LEN];
        let n = sys::read_two(self.fd.as_raw_fd(), &mut head, buf)?;
        let len = n.saturating_sub(VNET_HDR_LEN);
        let hdr = VnetHeader::parse(&head);
        if hdr.flags & NEEDS_CSUM != 0 && is_transport_checksum(&hdr, &buf[..len]) {
            return Ok((len, true));
        }
        complete_checksum(&hdr, &mut buf[..len]);
        Ok((len, false))
    }

    fn send(&mut self, frame: &[u8]) -> io::Result<()> {
        let fd = self.fd.as_raw_fd();
        match segmentation_request(frame, self.mtu) {
            Some((hdr, field, pseudo)) => {
                let parts = [&hdr.to_bytes()[..], &frame[..field], &pseudo.to_be_bytes()[..], &frame[field + 2..]];
                sys::write_parts(fd, &parts).map(|_| ())
            }
            None => {
                let hdr = match transport_checksum_at(frame).filter(|_| self.finish_tx_checksums) {
                    Some((csum_start, csum_offset)) => {
                        VnetHeader { flags: NEEDS_CSUM, csum_start, csum_offset, ..VnetHeader::default() }
                    }
                    None => VnetHeader::default(),
                };
                sys::write_parts(fd, &[&hdr.to_bytes(), frame]).map(|_| ())
            }
        }
    }

    fn name(&self) -> &str {
        &self.name
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use synack::wire::{Ipv4Packet, TcpPacket};

    /// A TCP segment 10.0.0.1:1 -> 10.0.0.2:2 as Linux hands it over with checksum offload: the checksum field
    /// holds the pseudo-header sum only.
    fn partial_frame(payload: &[u8]) -> (Vec<u8>, VnetHeader) {
        let mut f = vec![0u8; 14 + 20 + 20 + payload.len()];
        f[12..14].copy_from_slice(&[0x08, 0x00]);
        let ip_len = (40 + payload.len()) as u16;
        f[14..34].copy_from_slice(&[0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
        f[16..18].copy_from_slice(&ip_len.to_be_bytes());
        Ipv4Packet::new_unchecked(&mut f[14..]).fill_checksum();
        let tcp = &mut f[34..];
        tcp[..4].copy_from_slice(&[0, 1, 0, 2]);
        tcp[12] = 0x50;
        tcp[13] = 0x18;
        tcp[20..].copy_from_slice(payload);
        let src = "10.0.0.1".parse().unwrap();
        let dst = "10.0.0.2".parse().unwrap();
        let pseudo =
            synack::wire::checksum::pseudo_header(&src, &dst, synack::wire::IpProtocol::Tcp, 20 + payload.len() as u16);
        tcp[16..18].copy_from_slice(&pseudo.to_be_bytes());
        let hdr = VnetHeader { flags: NEEDS_CSUM, csum_start: 34, csum_offset: 16, ..VnetHeader::default() };
        (f, hdr)
    }

    #[test]
    fn a_partial_checksum_is_completed_to_what_the_stack_verifies() {
        for len in [0, 1, 1460, 60_000] {
            let payload: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
            let (mut f, hdr) = partial_frame(&payload);
            assert!(complete_checksum(&hdr, &mut f));
            let src: std::net::Ipv4Addr = "10.0.0.1".parse().unwrap();
            let dst: std::net::Ipv4Addr = "10.0.0.2".parse().unwrap();
            assert!(TcpPacket::new_checked(&f[34..]).unwrap().verify_checksum(&src, &dst), "len {len}");
        }
    }

    #[test]
    fn only_a_request_for_the_transport_checksum_is_left_to_the_stack() {
        let (mut f, mut hdr) = partial_frame(&[9u8; 300]);
        assert!(is_transport_checksum(&hdr, &f), "TCP checksum of an IPv4 packet");
        hdr.csum_offset = 6;
        assert!(!is_transport_checksum(&hdr, &f), "UDP's offset in a TCP packet");
        hdr.csum_offset = 16;
        hdr.csum_start = 14;
        assert!(!is_transport_checksum(&hdr, &f), "not where the TCP header starts");
        hdr.csum_start = 34;
        f[20] = 0x20; // more fragments
        Ipv4Packet::new_unchecked(&mut f[14..]).fill_checksum();
        assert!(!is_transport_checksum(&hdr, &f), "a fragment");
        f[20] = 0;
        Ipv4Packet::new_unchecked(&mut f[14..]).fill_checksum();
        // Finished for a capture: the same checksum the completion gives.
        let mut finished = f.clone();
        finish_transport_checksum(&mut finished);
        assert!(complete_checksum(&hdr, &mut f));
        assert_eq!(finished, f);
        assert_eq!(transport_checksum_at(&f), Some((34, 16)));
        let mut udp = f.clone();
        udp[23] = 17;
        assert_eq!(transport_checksum_at(&udp), Some((34, 6)), "UDP's checksum field");
        udp[23] = 1;
        assert_eq!(transport_checksum_at(&udp), None, "ICMP is never left to the device");
        let mut garbage = vec![0xffu8; 30];
        finish_transport_checksum(&mut garbage);
        assert_eq!(garbage, vec![0xffu8; 30], "not an IPv4 frame: untouched");
    }

    #[test]
    fn bad_offsets_leave_the_frame_alone() {
        let (mut f, mut hdr) = partial_frame(b"x");
        let before = f.clone();
        hdr.csum_start = 60_000;
        assert!(!complete_checksum(&hdr, &mut f));
        hdr.csum_start = 34;
        hdr.csum_offset = 40;
        assert!(!complete_checksum(&hdr, &mut f));
        assert_eq!(f, before);
        let untouched = VnetHeader::default();
        assert!(complete_checksum(&untouched, &mut f));
        assert_eq!(f, before);
    }

    #[test]
    fn frames_over_the_mtu_are_handed_over_for_segmentation_with_a_partial_checksum() {
        let (mut f, partial) = partial_frame(&vec![7u8; 5000]);
        // As the stack sends it: checksum complete. The request puts the pseudo-header sum in its place, which
        // the partial-checksum completion (what Linux does for each segment) turns back into the full one.
        assert!(complete_checksum(&partial, &mut f));
        let complete = f[50..52].to_vec();
        let (hdr, field, pseudo) = segmentation_request(&f, 1500).expect("TCP over the MTU");
        assert_eq!((hdr.gso_type, hdr.gso_size, hdr.hdr_len, hdr.csum_start, field), (1, 1460, 54, 34, 50));
        f[field..field + 2].copy_from_slice(&pseudo.to_be_bytes());
        assert!(complete_checksum(&hdr, &mut f));
        assert_eq!(f[50..52], complete[..]);
        assert_eq!(VnetHeader::parse(&hdr.to_bytes()), hdr);
        // Within the MTU, or not TCP: sent as it is.
        let (small, _) = partial_frame(&[1u8; 100]);
        assert!(segmentation_request(&small, 1500).is_none());
        let mut udp = f.clone();
        udp[23] = 17;
        assert!(segmentation_request(&udp, 1500).is_none());
        assert!(segmentation_request(&f[..40], 10).is_none(), "truncated frames are not parsed past their end");
        // A segment with CWR (RFC 3168) says so, as virtio-net asks.
        let mut cwr = f.clone();
        cwr[47] |= 0x80;
        assert_eq!(segmentation_request(&cwr, 1500).map(|(h, _, _)| h.gso_type), Some(GSO_TCPV4 | GSO_ECN));
    }

    #[test]
    fn header_fields_parse_in_native_order() {
        let mut b = [0u8; VNET_HDR_LEN];
        b[0] = NEEDS_CSUM;
        b[1] = 1;
        b[4..6].copy_from_slice(&1448u16.to_ne_bytes());
        b[6..8].copy_from_slice(&34u16.to_ne_bytes());
        b[8..10].copy_from_slice(&16u16.to_ne_bytes());
        let h = VnetHeader::parse(&b);
        assert_eq!((h.flags, h.gso_type, h.gso_size, h.csum_start, h.csum_offset), (1, 1, 1448, 34, 16));
    }
}
