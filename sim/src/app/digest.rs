//! The digest a TCP app keeps of the bytes it sent or received, for the summary and `hash_equals`. Hashing
//! every byte is most of what a bulk transfer costs the simulator, so an app whose digest nobody reads keeps
//! none, and a run that only wants verdicts may use a far cheaper fingerprint (see [`crate::build::Digests`]).

use sha2::{Digest as _, Sha256};
use std::fmt;
use twox_hash::XxHash3_128;

/// How a stream is hashed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashKind {
    /// Not at all.
    Off,
    /// SHA-256: what the summary shows and what `hash_equals` compares in a normal run.
    Sha256,
    /// XXH3-128: a non-cryptographic fingerprint, about 20 times cheaper; enough to tell whether two streams
    /// are equal when only the verdict is read.
    Xxh3,
}

/// A finished digest of a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Digest {
    Sha256([u8; 32]),
    Xxh3([u8; 16]),
}

impl Digest {
    /// The algorithm's name as the summary and expectations write it.
    pub fn algorithm(&self) -> &'static str {
        match self {
            Digest::Sha256(_) => "SHA-256",
            Digest::Xxh3(_) => "XXH3-128",
        }
    }

    pub fn bytes(&self) -> &[u8] {
        match self {
            Digest::Sha256(d) => d,
            Digest::Xxh3(d) => d,
        }
    }

    /// The first 8 bytes in hex, as the summary shows a digest.
    pub fn short(&self) -> String {
        super::hex(&self.bytes()[..8])
    }
}

impl fmt::Display for Digest {
    /// `sha256 96899649990004b5` (or `xxh3 ...`): the algorithm and the first 8 bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Digest::Sha256(_) => "sha256",
            Digest::Xxh3(_) => "xxh3",
        };
        write!(f, "{name} {}", self.short())
    }
}

#[derive(Clone)]
enum Hasher {
    Off,
    Sha256(Sha256),
    Xxh3(Box<XxHash3_128>),
}

impl fmt::Debug for Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Hasher::Off => "Off",
            Hasher::Sha256(_) => "Sha256",
            Hasher::Xxh3(_) => "Xxh3",
        })
    }
}

/// A running digest of one byte stream.
#[derive(Clone, Debug)]
pub struct StreamDigest {
    hasher: Hasher,
    /// Stream bytes hashed so far.
    hashed: u64,
}

impl StreamDigest {
    pub fn new(kind: HashKind) -> StreamDigest {
        let hasher = match kind {
            HashKind::Off => Hasher::Off,
            HashKind::Sha256 => Hasher::Sha256(Sha256::new()),
            HashKind::Xxh3 => Hasher::Xxh3(Box::new(XxHash3_128::new())),
        };
        StreamDigest { hasher, hashed: 0 }
    }

    /// Appends `bytes`, the next bytes of the stream.
    pub fn update(&mut self, bytes: &[u8]) {
        match &mut self.hasher {
            Hasher::Off => {}
            Hasher::Sha256(sha) => sha.update(bytes),
            Hasher::Xxh3(x) => x.write(bytes),
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
    pub fn finish(&self) -> Option<Digest> {
        match &self.hasher {
            Hasher::Off => None,
            Hasher::Sha256(sha) => Some(Digest::Sha256(sha.clone().finalize().into())),
            Hasher::Xxh3(x) => Some(Digest::Xxh3(x.finish_128().to_be_bytes())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_writes_hash_each_byte_once() {
        let data: Vec<u8> = (0..100u8).collect();
        for kind in [HashKind::Sha256, HashKind::Xxh3] {
            let mut d = StreamDigest::new(kind);
            d.update_from(0, &data[..40]);
            d.update_from(10, &data[10..30]);
            d.update_from(25, &data[25..]);
            let mut whole = StreamDigest::new(kind);
            whole.update(&data);
            assert_eq!(d.finish(), whole.finish());
        }
        let mut sha = StreamDigest::new(HashKind::Sha256);
        sha.update(&data);
        assert_eq!(sha.finish(), Some(Digest::Sha256(Sha256::digest(&data).into())));
        let mut off = StreamDigest::new(HashKind::Off);
        off.update_from(0, &data);
        assert_eq!(off.finish(), None);
    }

    #[test]
    fn fingerprints_tell_streams_apart_and_split_writes_do_not_matter() {
        let data: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 251) as u8).collect();
        let digest = |parts: &[&[u8]]| {
            let mut d = StreamDigest::new(HashKind::Xxh3);
            parts.iter().for_each(|p| d.update(p));
            d.finish()
        };
        assert_eq!(digest(&[&data]), digest(&[&data[..1], &data[1..1460], &data[1460..]]));
        let mut flipped = data.clone();
        flipped[2000] ^= 1;
        assert_ne!(digest(&[&data]), digest(&[&flipped]));
        assert_ne!(digest(&[&data]), digest(&[&data[..4999]]));
        assert_eq!(digest(&[&data]).map(|d| d.algorithm()), Some("XXH3-128"));
    }
}
