//! The bytes every benchmark sends: a fixed pseudo-random block repeated, so any offset can be checked without
//! keeping a copy of the whole stream.

/// Length of the repeated block (a prime, so block boundaries never line up with segment boundaries).
pub const BLOCK: usize = 65_521;

use synack::Bytes;

/// A stream of bytes; byte `i` is `block[i % BLOCK]`.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// The block twice over, so any `len <= BLOCK` slice at any offset is contiguous. Shared, so a sender can
    /// hand out pieces of it without copying ([`Pattern::shared`]).
    doubled: Bytes,
}

impl Pattern {
    pub fn new() -> Pattern {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let block: Vec<u8> = (0..BLOCK)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        let mut doubled = block.clone();
        doubled.extend_from_slice(&block);
        Pattern { doubled: Bytes::from(doubled) }
    }

    /// `len` bytes of the stream from `offset`; `len` is capped at the block length.
    pub fn slice(&self, offset: u64, len: usize) -> &[u8] {
        let start = (offset % BLOCK as u64) as usize;
        &self.doubled[start..start + len.min(BLOCK)]
    }

    /// The same bytes as [`Pattern::slice`], as a reference to the shared block: what a zero-copy writer
    /// ([`synack::Stack::tcp_write`]) hands over.
    pub fn shared(&self, offset: u64, len: usize) -> Bytes {
        let start = (offset % BLOCK as u64) as usize;
        self.doubled.slice(start..start + len.min(BLOCK))
    }

    /// Compares `data` with the stream at `offset` (any length).
    pub fn matches(&self, mut offset: u64, mut data: &[u8]) -> bool {
        while !data.is_empty() {
            let expect = self.slice(offset, data.len());
            if data[..expect.len()] != *expect {
                return false;
            }
            offset += expect.len() as u64;
            data = &data[expect.len()..];
        }
        true
    }
}

impl Default for Pattern {
    fn default() -> Self {
        Pattern::new()
    }
}
