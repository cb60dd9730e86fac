//! The start of a transport header quoted inside an ICMP error (RFC 792): only its first 8 bytes are
//! guaranteed, which hold the ports of TCP and UDP and TCP's sequence number (or ICMP echo's identifier).

use super::{Error, Result};

/// Bytes an ICMP error must quote of the original datagram's payload.
pub const QUOTED_LEN: usize = 8;

mod field {
    use core::ops::Range;

    pub const SRC_PORT: Range<usize> = 0..2;
    pub const DST_PORT: Range<usize> = 2..4;
    /// TCP's sequence number.
    pub const TCP_SEQ: Range<usize> = 4..8;
}

/// A view of the quoted transport header's first 8 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuotedTransport<T: AsRef<[u8]>> {
    buf: T,
}

impl<T: AsRef<[u8]>> QuotedTransport<T> {
    /// At least the 8 bytes RFC 792 requires, or `Truncated`.
    pub fn new_checked(buf: T) -> Result<Self> {
        if buf.as_ref().len() < QUOTED_LEN {
            return Err(Error::Truncated);
        }
        Ok(QuotedTransport { buf })
    }

    fn word16(&self, at: core::ops::Range<usize>) -> u16 {
        let b = &self.buf.as_ref()[at];
        u16::from_be_bytes([b[0], b[1]])
    }

    /// Source port (TCP, UDP): ours, for a datagram we sent.
    pub fn src_port(&self) -> u16 {
        self.word16(field::SRC_PORT)
    }

    /// Destination port (TCP, UDP): the peer's.
    pub fn dst_port(&self) -> u16 {
        self.word16(field::DST_PORT)
    }

    /// TCP's sequence number.
    pub fn tcp_seq_number(&self) -> u32 {
        let b = &self.buf.as_ref()[field::TCP_SEQ];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_ports_and_sequence_number_from_eight_bytes() {
        let q = QuotedTransport::new_checked([0xc0, 0x00, 0x00, 0x50, 0x01, 0x02, 0x03, 0x04]).unwrap();
        assert_eq!((q.src_port(), q.dst_port(), q.tcp_seq_number()), (49152, 80, 0x0102_0304));
        assert_eq!(QuotedTransport::new_checked(&[0u8; 7][..]), Err(Error::Truncated));
    }
}
