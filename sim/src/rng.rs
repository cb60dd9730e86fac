//! Seeds and random draws. Every random choice of a run comes from a ChaCha8 stream derived from the scenario
//! seed and a fixed purpose number, so a run depends on nothing but its scenario and seed.

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Purposes of derived seeds. Stack seeds use `HOST_BASE + host index`, link directions
/// `LINK_BASE + 2 * link index + direction` (0 = a->b, 1 = b->a), apps `APP_BASE + app index`, and
/// [`crate::app::Cx::seed`] `USER_APP_BASE + (host index << 16) + app index on the host`.
pub const HOST_BASE: u64 = 0x1000;
pub const LINK_BASE: u64 = 0x2000;
pub const APP_BASE: u64 = 0x3000;
pub const USER_APP_BASE: u64 = 0x1_0000_0000;

/// The simulator's seed for `purpose`: synack's [`Scheme::Sim`](synack::seed::Scheme::Sim) derivation (the
/// SplitMix64 finaliser over `(seed + γ) ^ purpose·0xd1b5_4a32_d192_ed03`). Every stream, stack seed and app
/// seed of a run comes from here, so changing the scheme would change every trace.
pub fn derive_seed(seed: u64, purpose: u64) -> u64 {
    synack::seed::Scheme::Sim.derive(seed, purpose)
}

/// The ChaCha8 stream for one purpose of one run.
pub fn stream(seed: u64, purpose: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(derive_seed(seed, purpose))
}

/// A uniform draw in [0, 1) with 53 bits of precision ([`synack::seed::unit_interval`]).
pub fn unit(rng: &mut ChaCha8Rng) -> f64 {
    synack::seed::unit_interval(rng.next_u64())
}

/// True with probability `p` (no draw is made when `p` is 0 or 1, keeping streams stable when disabled).
pub fn chance(rng: &mut ChaCha8Rng, p: f64) -> bool {
    if p <= 0.0 {
        false
    } else if p >= 1.0 {
        true
    } else {
        unit(rng) < p
    }
}

/// A uniform integer in [0, n) (n > 0), by rejection so it is unbiased.
pub fn below(rng: &mut ChaCha8Rng, n: u64) -> u64 {
    debug_assert!(n > 0);
    let zone = u64::MAX - (u64::MAX % n);
    loop {
        let v = rng.next_u64();
        if v < zone {
            return v % n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The values the simulator derived before its function moved to `synack::seed`: every trace depends on them.
    #[test]
    fn derived_seeds_are_the_recorded_ones() {
        assert_eq!(derive_seed(0, 0), 0xe220_a839_7b1d_cdaf);
        assert_eq!(derive_seed(7, 1), 0x2f26_9cf2_e1e7_f0c1);
        assert_eq!(derive_seed(0xdead_beef, HOST_BASE), 0x1bee_64bc_8b19_f7ed);
    }

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4).map(|_| stream(7, 1).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(stream(7, 1).next_u64(), stream(7, 2).next_u64());
        assert_ne!(stream(7, 1).next_u64(), stream(8, 1).next_u64());
    }

    #[test]
    fn draws_stay_in_range() {
        let mut r = stream(1, 1);
        for _ in 0..1000 {
            let u = unit(&mut r);
            assert!((0.0..1.0).contains(&u));
            assert!(below(&mut r, 7) < 7);
        }
        assert!(!chance(&mut r, 0.0));
        assert!(chance(&mut r, 1.0));
    }
}
