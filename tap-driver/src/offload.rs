//! A TAP device with receive offloads: Linux may hand the stack TCP segments of up to 64 KB (segmentation
//! offload, as it does to a virtual machine's virtio-net card) and leave their checksum to the receiver.
//!
//! A TAP stack makes one system call per frame, and with 1500-byte frames that is what limits it; one read of
//! a 64 KB segment replaces ~45. Every frame carries a virtio-net header (`struct virtio_net_hdr`, 10 bytes,
//! native byte order). On receive, a header asking for a checksum (`NEEDS_CSUM`) is honoured here, before the
//! stack sees the frame, so the stack keeps verifying every checksum as usual; segmentation needs nothing: the
//! large segment is one valid IPv4/TCP packet. On send, the header is all zero: the stack's frames are
//! complete (no offload in that direction).

use crate::error::TapError;
use crate::link::Link;
use crate::sys;
use crate::tap::{check_name, classify_open_error};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::Path;

/// Length of `struct virtio_net_hdr` (without the `num_buffers` field).
pub const VNET_HDR_LEN: usize = 10;
/// `VIRTIO_NET_HDR_F_NEEDS_CSUM`: the checksum from `csum_start` on is left for us to compute.
const NEEDS_CSUM: u8 = 1;

/// The fields of a virtio-net header the driver acts on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VnetHeader {
    pub flags: u8,
    pub gso_type: u8,
    pub gso_size: u16,
    pub csum_start: u16,
    pub csum_offset: u16,
}

impl VnetHeader {
    pub fn parse(b: &[u8; VNET_HDR_LEN]) -> VnetHeader {
        let u16_at = |i: usize| u16::from_ne_bytes([b[i], b[i + 1]]);
        VnetHeader { flags: b[0], gso_type: b[1], gso_size: u16_at(4), csum_start: u16_at(6), csum_offset: u16_at(8) }
    }
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
    let sum = synack::wire::checksum::data(&frame[start..]);
    frame[field..field + 2].copy_from_slice(&(!sum).to_be_bytes());
    true
}

/// A TAP device opened with a virtio-net header and checksum + TCPv4 segmentation offload enabled.
#[derive(Debug)]
pub struct OffloadTap {
    fd: OwnedFd,
    name: String,
}

impl OffloadTap {
    /// Creates (or attaches to a persistent) TAP device `name` with receive offloads, non-blocking.
    pub fn open(name: &str) -> Result<OffloadTap, TapError> {
        check_name(name)?;
        if !Path::new("/dev/net/tun").exists() {
            return Err(TapError::NoTunDevice);
        }
        let fd = sys::open_tap_with_vnet_header(name, VNET_HDR_LEN, libc::TUN_F_CSUM | libc::TUN_F_TSO4)
            .map_err(|e| classify_open_error(name, e))?;
        Ok(OffloadTap { fd, name: name.to_string() })
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
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut head = [0u8; VNET_HDR_LEN];
        let n = sys::read_two(self.fd.as_raw_fd(), &mut head, buf)?;
        let len = n.saturating_sub(VNET_HDR_LEN);
        complete_checksum(&VnetHeader::parse(&head), &mut buf[..len]);
        Ok(len)
    }

    fn send(&mut self, frame: &[u8]) -> io::Result<()> {
        sys::write_two(self.fd.as_raw_fd(), &[0u8; VNET_HDR_LEN], frame).map(|_| ())
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
            let src = "10.0.0.1".parse().unwrap();
            let dst = "10.0.0.2".parse().unwrap();
            assert!(TcpPacket::new_checked(&f[34..]).unwrap().verify_checksum(&src, &dst), "len {len}");
        }
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
