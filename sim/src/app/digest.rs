//! The SHA-256 a TCP app keeps of the bytes it sent or received, for the summary and `hash_equals`. Hashing
//! every byte is most of what a bulk transfer costs the simulator, so an app whose digest nobody reads keeps
//! none (see [`crate::build::Digests`]).

use sha2::{Digest, Sha256};

/// A running SHA-256 of one byte stream, or nothing when no one reads it.
#[derive(Clone, Debug)]
pub struct StreamDigest {
    sha: Option<Sha256>,
    /// Stream bytes hashed so far.
    hashed: u64,
}

impl StreamDigest {
    /// A digest that hashes (`on`) or ignores everything.
    pub fn new(on: bool) -> StreamDigest {
        StreamDigest { sha: on.then(Sha256::new), hashed: 0 }
    }

    /// Appends `bytes`, the next bytes of the stream.
    pub fn update(&mut self, bytes: &[u8]) {
        if let Some(sha) = &mut self.sha {
            sha.update(bytes);
        }
        self.hashed += bytes.len() as u64;
    }

    /// Appends what `bytes`, the stream's bytes from `offset` on, hold past the bytes already hashed: a sender
    /// may hash a write before the stack says how much of it fits, and offer the rest again later.
    pub fn update_from(&mut self, offset: u64, bytes: &[u8]) {
        let skip = self.hashed.saturating_sub(offset);
        if let Some(new) = usize::try_from(skip).ok().and_then(|s| bytes.get(s..)) {
            debug_assert!(offset + skip == self.hashed, "a gap in the hashed stream");
            self.update(new);
        }
    }

    /// The digest of every byte appended so far (`None` when not hashing).
    pub fn finish(&self) -> Option<[u8; 32]> {
        self.sha.clone().map(|s| s.finalize().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_writes_hash_each_byte_once() {
        let data: Vec<u8> = (0..100u8).collect();
        let mut d = StreamDigest::new(true);
        d.update_from(0, &data[..40]);
        d.update_from(10, &data[10..30]);
        d.update_from(25, &data[25..]);
        assert_eq!(d.finish(), Some(Sha256::digest(&data).into()));
        let mut off = StreamDigest::new(false);
        off.update_from(0, &data);
        assert_eq!(off.finish(), None);
    }
}
