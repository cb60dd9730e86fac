//! Seed derivation: one seed spread into independent-looking values, one per purpose, with no global RNG and
//! no OS randomness. The stack derives its keys and counters from [`Config::seed`](crate::Config) this way;
//! the simulator and the TAP driver derive their own streams through this module too, so there is one
//! implementation to read and test.
//!
//! A derived value is SplitMix64's output function ([`mix64`]) applied to a *pre-mix* of seed and purpose.
//! The finaliser is the shared part; the pre-mix is a [`Scheme`]. There are two schemes because two were in
//! use before they were unified, and every recorded value (the stack's ISN keys and ephemeral ports, the
//! simulator's host seeds and link streams, and so the committed traces) depends on which: each consumer keeps
//! its scheme, and a scheme never changes. New code in the stack uses [`derive_seed`].
//!
//! [`unit_interval`] turns 64 random bits into a probability draw; the stack itself draws nothing at random.

/// 2^64 / φ rounded to odd: SplitMix64's increment, the "golden gamma".
pub const GOLDEN_GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// The odd multiplier the [`Scheme::Sim`] pre-mix spreads purposes with.
pub const SIM_PURPOSE_MULTIPLIER: u64 = 0xd1b5_4a32_d192_ed03;

/// SplitMix64's output function (Stafford's "Mix13"): a bijection on `u64` in which every input bit affects
/// every output bit.
pub const fn mix64(z: u64) -> u64 {
    let z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    let z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// How a purpose number is folded into the seed before [`mix64`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `seed ^ purpose·GOLDEN_GAMMA`. The stack's own values ([`derive_seed`]); purposes are small integers
    /// named where they are used. Note that seed 0 with purpose 0 gives 0.
    Stack,
    /// `(seed + GOLDEN_GAMMA) ^ purpose·SIM_PURPOSE_MULTIPLIER`. The simulator (`synack-sim`'s `rng` module):
    /// stack seeds, link-direction streams and apps, each in its own range of purposes.
    Sim,
}

impl Scheme {
    /// The value [`mix64`] finalises.
    pub const fn premix(self, seed: u64, purpose: u64) -> u64 {
        match self {
            Scheme::Stack => seed ^ purpose.wrapping_mul(GOLDEN_GAMMA),
            Scheme::Sim => seed.wrapping_add(GOLDEN_GAMMA) ^ purpose.wrapping_mul(SIM_PURPOSE_MULTIPLIER),
        }
    }

    /// The value derived from `seed` for `purpose`: `mix64(self.premix(seed, purpose))`.
    pub const fn derive(self, seed: u64, purpose: u64) -> u64 {
        mix64(self.premix(seed, purpose))
    }
}

/// The stack's derivation ([`Scheme::Stack`]): what `Stack::new` and the TCP layer derive from
/// [`Config::seed`](crate::Config).
pub const fn derive_seed(seed: u64, purpose: u64) -> u64 {
    Scheme::Stack.derive(seed, purpose)
}

/// A uniform value in [0, 1) from 64 random bits: the top 53 bits times 2^-53, so every value is exact. The
/// random impairments of the simulator and of the TAP driver compare it with their probabilities.
pub fn unit_interval(bits: u64) -> f64 {
    (bits >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stack's function before unification (`core/src/stack.rs`), verbatim.
    fn old_stack_derive_seed(seed: u64, purpose: u64) -> u64 {
        let mut z = seed ^ purpose.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// The simulator's function before unification (`sim/src/rng.rs`), verbatim.
    fn old_sim_derive_seed(seed: u64, purpose: u64) -> u64 {
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15) ^ purpose.wrapping_mul(0xd1b5_4a32_d192_ed03);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// The TAP driver's inline mixing before unification (`tap-driver/src/impair.rs`, direction `stream`).
    fn old_tap_stream_seed(seed: u64, stream: u64) -> u64 {
        seed ^ stream.wrapping_add(1).wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }

    const SEEDS: [u64; 7] = [0, 1, 7, 42, 0xdead_beef, 1 << 63, u64::MAX];
    const PURPOSES: [u64; 9] = [0, 1, 2, 3, 4, 5, 6, 0x1000, 0x3000 + 17];

    #[test]
    fn known_values_of_each_scheme() {
        let stack =
            [(0, 0, 0), (7, 1, 0xf75f_04cb_b5a1_a1dd), (7, 5, 0x301e_278f_aa01_5dc5), (1, 4, 0x71c1_8690_ee42_c90b)];
        for (seed, purpose, value) in stack {
            assert_eq!(derive_seed(seed, purpose), value, "stack scheme, seed {seed} purpose {purpose}");
        }
        let sim = [
            (0, 0, 0xe220_a839_7b1d_cdaf),
            (7, 1, 0x2f26_9cf2_e1e7_f0c1),
            (0xdead_beef, 0x1000, 0x1bee_64bc_8b19_f7ed),
            (u64::MAX, 3, 0xa990_f205_47c8_a81e),
        ];
        for (seed, purpose, value) in sim {
            assert_eq!(Scheme::Sim.derive(seed, purpose), value, "sim scheme, seed {seed} purpose {purpose}");
        }
        assert_eq!(Scheme::Stack.premix(0, 1), 0x9e37_79b9_7f4a_7c15);
        assert_eq!(Scheme::Stack.premix(42, 2), 0x3c6e_f372_fe94_f800);
    }

    #[test]
    fn each_old_function_is_a_scheme() {
        for seed in SEEDS {
            for purpose in PURPOSES {
                assert_eq!(derive_seed(seed, purpose), old_stack_derive_seed(seed, purpose));
                assert_eq!(Scheme::Stack.derive(seed, purpose), old_stack_derive_seed(seed, purpose));
                assert_eq!(Scheme::Sim.derive(seed, purpose), old_sim_derive_seed(seed, purpose));
                // The TAP driver numbers its directions from 0 and uses the pre-mix of direction + 1 as is.
                assert_eq!(Scheme::Stack.premix(seed, purpose + 1), old_tap_stream_seed(seed, purpose));
            }
        }
    }

    /// Both formulas that were in use (the TAP driver divided by 2^53, the simulator multiplied by 2^-53) give
    /// the same bits: scaling an integer below 2^53 by a power of two is exact.
    #[test]
    fn unit_interval_is_both_old_draws() {
        for bits in [0, 1, 1 << 11, 0x8000_0000_0000_0000, 0x1234_5678_9abc_def0, u64::MAX, u64::MAX - (1 << 11)] {
            let u = unit_interval(bits);
            assert_eq!(u.to_bits(), ((bits >> 11) as f64 / (1u64 << 53) as f64).to_bits());
            assert!((0.0..1.0).contains(&u));
        }
        assert_eq!(unit_interval(u64::MAX), 1.0 - f64::EPSILON / 2.0);
    }

    /// Under one seed and scheme, every purpose gets its own value (the pre-mix is injective in the purpose and
    /// `mix64` is a bijection). Values are not independent across schemes or seeds: `Stack` with seed 0 and
    /// purpose 1 pre-mixes to γ, exactly as `Sim` with seed 0 and purpose 0 does.
    #[test]
    fn purposes_of_one_seed_get_distinct_values() {
        for scheme in [Scheme::Stack, Scheme::Sim] {
            for seed in SEEDS {
                let seen: std::collections::BTreeSet<u64> = PURPOSES.iter().map(|p| scheme.derive(seed, *p)).collect();
                assert_eq!(seen.len(), PURPOSES.len(), "{scheme:?}, seed {seed}");
            }
        }
        assert_eq!(Scheme::Stack.derive(0, 1), Scheme::Sim.derive(0, 0));
    }
}
