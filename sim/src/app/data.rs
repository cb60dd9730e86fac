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
    let whole = rest.len() / 8 * 8;
    let (body, tail) = rest.split_at_mut(whole);
    // Word k is mix64((seed + γ) ^ k·M): step k·M by additions instead of a multiplication per word.
    let first = index.wrapping_mul(SIM_PURPOSE_MULTIPLIER);
    pulp::Arch::new().dispatch(FillWords { out: body, base: Scheme::Sim.premix(seed, 0), first });
    index += (whole / 8) as u64;
    if !tail.is_empty() {
        let n = tail.len();
        tail.copy_from_slice(&word(seed, index).to_le_bytes()[..n]);
    }
}

/// Words in a row for [`fill_words`]: each has its own multiple of M, so their mixes are independent and the
/// compiler can run them side by side in one vector.
const LANES: usize = 4;

/// [`fill_words`] for `pulp`'s dispatch: its body is compiled for each instruction set `pulp` may pick (AVX2's
/// 256-bit vectors hold four words), the choice made at run time. Every choice writes the same bytes.
struct FillWords<'a> {
    out: &'a mut [u8],
    base: u64,
    first: u64,
}

impl pulp::WithSimd for FillWords<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        fill_words(self.out, self.base, self.first);
    }
}

/// Fills `out` (whole words) with mix64(base ^ k·M), k·M starting at `first`.
#[inline(always)]
fn fill_words(out: &mut [u8], base: u64, first: u64) {
    const STEP: u64 = SIM_PURPOSE_MULTIPLIER;
    let mut k = [0; LANES];
    for (lane, k) in k.iter_mut().enumerate() {
        *k = first.wrapping_add(STEP.wrapping_mul(lane as u64));
    }
    let mut rows = out.chunks_exact_mut(8 * LANES);
    for row in &mut rows {
        for (word, k) in row.chunks_exact_mut(8).zip(k.iter_mut()) {
            word.copy_from_slice(&mix64(base ^ *k).to_le_bytes());
            *k = k.wrapping_add(STEP.wrapping_mul(LANES as u64));
        }
    }
    let mut k = k[0];
    for word in rows.into_remainder().chunks_exact_mut(8) {
        word.copy_from_slice(&mix64(base ^ k).to_le_bytes());
        k = k.wrapping_add(STEP);
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
                for len in [0, 1, 5, 8, 9, 31, 32, 33, 40, 100, 1460, 4103] {
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
