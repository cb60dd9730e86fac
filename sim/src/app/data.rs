//! The deterministic bytes scripted apps send: stream `seed` is the little-endian 64-bit words
//! `derive_seed(seed, 0)`, `derive_seed(seed, 1)`, ... (counter mode: any byte is computed from its position
//! alone, so a sender regenerates exactly the bytes it needs, wherever a write starts). Every committed trace
//! carries these bytes: the stream must not change.

use synack::seed::{mix64, Scheme, SIM_PURPOSE_MULTIPLIER};

/// Word `index` of stream `seed`: [`crate::rng::derive_seed`]`(seed, index)`.
#[inline(always)]
fn word(seed: u64, index: u64) -> u64 {
    mix64(Scheme::Sim.premix(seed, index))
}

/// Fills `buf` with the bytes of stream `seed` starting at byte `offset`.
pub fn fill_data(seed: u64, offset: u64, buf: &mut [u8]) {
    let mut index = offset / 8;
    let skip = (offset % 8) as usize;
    let mut rest = buf;
    if skip != 0 {
        let bytes = word(seed, index).to_le_bytes();
        let take = (8 - skip).min(rest.len());
        let (head, tail) = rest.split_at_mut(take);
        head.copy_from_slice(&bytes[skip..skip + take]);
        rest = tail;
        index += 1;
    }
    // Word k is mix64((seed + γ) ^ k·M): step k·M by additions instead of a multiplication per word.
    let (base, step) = (Scheme::Sim.premix(seed, 0), SIM_PURPOSE_MULTIPLIER);
    let mut k_times_m = index.wrapping_mul(step);
    let mut words = rest.chunks_exact_mut(8);
    for chunk in &mut words {
        chunk.copy_from_slice(&mix64(base ^ k_times_m).to_le_bytes());
        k_times_m = k_times_m.wrapping_add(step);
        index += 1;
    }
    let tail = words.into_remainder();
    if !tail.is_empty() {
        let n = tail.len();
        tail.copy_from_slice(&word(seed, index).to_le_bytes()[..n]);
    }
}

/// `len` bytes of stream `seed` from byte `offset`.
pub fn data_chunk(seed: u64, offset: u64, len: usize) -> Vec<u8> {
    let mut v = vec![0; len];
    fill_data(seed, offset, &mut v);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stream as first defined, one word at a time: every trace depends on it.
    fn reference(seed: u64, offset: u64, len: usize) -> Vec<u8> {
        (offset..offset + len as u64)
            .map(|pos| crate::rng::derive_seed(seed, pos / 8).to_le_bytes()[(pos % 8) as usize])
            .collect()
    }

    #[test]
    fn chunks_are_the_reference_stream_wherever_they_start() {
        for seed in [0, 9, u64::MAX] {
            for offset in [0, 1, 7, 8, 13, 63, 1 << 40] {
                for len in [0, 1, 5, 8, 9, 100, 1460] {
                    assert_eq!(data_chunk(seed, offset, len), reference(seed, offset, len), "{seed} {offset} {len}");
                }
            }
        }
    }

    #[test]
    fn chunks_are_position_independent() {
        let whole = data_chunk(9, 0, 100);
        let mut parts = data_chunk(9, 0, 13);
        parts.extend(data_chunk(9, 13, 50));
        parts.extend(data_chunk(9, 63, 37));
        assert_eq!(whole, parts);
        assert_ne!(whole, data_chunk(10, 0, 100));
        assert_eq!(&data_chunk(7, 0, 8)[..], &crate::rng::derive_seed(7, 0).to_le_bytes()[..]);
    }
}
