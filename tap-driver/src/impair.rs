//! Seeded loss, duplication and reordering applied to live frames (this kernel has no netem).
//!
//! Each direction has its own ChaCha stream derived from the seed, so a run's decisions depend only on the seed
//! and the order of frames. Three independent draws per frame: lost? else duplicated? else held back? A held-back
//! frame is released right after the next frame of the same direction (it arrives one position late), or after
//! [`Impairments::max_hold`] if no frame follows.

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::fmt;
use std::time::{Duration, Instant};
use synack::seed::Scheme;

/// Impairment probabilities (each in 0..=1) and the seed of their random streams.
#[derive(Clone, Debug, PartialEq)]
pub struct Impairments {
    pub loss: f64,
    pub reorder: f64,
    pub duplicate: f64,
    pub seed: u64,
    /// Longest time a frame is held back for reordering when no later frame comes to overtake it.
    pub max_hold: Duration,
}

impl Default for Impairments {
    fn default() -> Self {
        Impairments { loss: 0.0, reorder: 0.0, duplicate: 0.0, seed: 0, max_hold: Duration::from_millis(2) }
    }
}

impl Impairments {
    /// True if any probability is non-zero.
    pub fn active(&self) -> bool {
        self.loss > 0.0 || self.reorder > 0.0 || self.duplicate > 0.0
    }

    /// Checks that every probability lies in 0..=1.
    pub fn validate(&self) -> Result<(), String> {
        for (name, p) in [("loss", self.loss), ("reorder", self.reorder), ("duplicate", self.duplicate)] {
            if !(0.0..=1.0).contains(&p) {
                return Err(format!("--{name} {p} must be a probability between 0 and 1"));
            }
        }
        Ok(())
    }
}

/// What the impairment did to a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fate {
    /// Forwarded unchanged.
    Pass,
    /// Lost: not forwarded (reported so that captures can show it).
    Dropped,
    /// The extra copy of a duplicated frame.
    Duplicate,
    /// Forwarded late, after being held back.
    Late,
}

impl Fate {
    pub(crate) fn forwarded(self) -> bool {
        self != Fate::Dropped
    }
    /// A capture comment, `None` for an untouched frame.
    pub(crate) fn comment(self) -> Option<&'static str> {
        match self {
            Fate::Pass => None,
            Fate::Dropped => Some("impairment: dropped (--loss)"),
            Fate::Duplicate => Some("impairment: duplicate copy (--duplicate)"),
            Fate::Late => Some("impairment: held back and delivered late (--reorder)"),
        }
    }
}

/// Frames each impairment acted on, for one direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImpairCounts {
    pub frames: u64,
    pub dropped: u64,
    pub duplicated: u64,
    pub reordered: u64,
}

impl fmt::Display for ImpairCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} frames, {} dropped, {} duplicated, {} reordered",
            self.frames, self.dropped, self.duplicated, self.reordered
        )
    }
}

/// The impairment of one direction.
#[derive(Debug)]
pub(crate) struct Impairer {
    cfg: Impairments,
    rng: ChaCha8Rng,
    held: Option<(Vec<u8>, Instant)>,
    pub(crate) counts: ImpairCounts,
}

impl Impairer {
    /// `stream` tells directions apart (0 inbound, 1 outbound).
    ///
    /// The direction's ChaCha seed is synack's [`Scheme::Stack`] pre-mix of `--seed` and `stream + 1`, without
    /// the SplitMix64 finaliser (ChaCha8's `seed_from_u64` spreads its seed with PCG32 anyway): the mixing
    /// this driver always used, so a given `--seed` keeps making the same decisions.
    pub(crate) fn new(cfg: &Impairments, stream: u64) -> Impairer {
        let seed = Scheme::Stack.premix(cfg.seed, stream.wrapping_add(1));
        Impairer { cfg: cfg.clone(), rng: ChaCha8Rng::seed_from_u64(seed), held: None, counts: ImpairCounts::default() }
    }

    /// One draw per call, whatever `p` (so the three draws of a frame stay in step): true with probability `p`.
    fn draw(&mut self, p: f64) -> bool {
        synack::seed::unit_interval(self.rng.next_u64()) < p
    }

    /// Passes one frame through; appends what to forward now (and dropped frames, marked) to `out`, in order.
    pub(crate) fn push(&mut self, frame: Vec<u8>, now: Instant, out: &mut Vec<(Vec<u8>, Fate)>) {
        self.counts.frames += 1;
        if !self.cfg.active() {
            return out.push((frame, Fate::Pass));
        }
        let (lost, dup, late) = (self.draw(self.cfg.loss), self.draw(self.cfg.duplicate), self.draw(self.cfg.reorder));
        if lost {
            self.counts.dropped += 1;
            return out.push((frame, Fate::Dropped));
        }
        if late {
            // Only one frame is held at a time: an earlier one goes out now, then this one waits.
            if let Some((old, _)) = self.held.take() {
                out.push((old, Fate::Late));
            }
            self.counts.reordered += 1;
            self.held = Some((frame, now + self.cfg.max_hold));
            return;
        }
        if dup {
            self.counts.duplicated += 1;
            out.push((frame.clone(), Fate::Pass));
            out.push((frame, Fate::Duplicate));
        } else {
            out.push((frame, Fate::Pass));
        }
        if let Some((old, _)) = self.held.take() {
            out.push((old, Fate::Late));
        }
    }

    /// Releases a held frame whose time is up.
    pub(crate) fn poll(&mut self, now: Instant, out: &mut Vec<(Vec<u8>, Fate)>) {
        if self.held.as_ref().is_some_and(|(_, at)| *at <= now) {
            if let Some((frame, _)) = self.held.take() {
                out.push((frame, Fate::Late));
            }
        }
    }

    /// When [`Impairer::poll`] must run next.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.held.as_ref().map(|(_, at)| *at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(cfg: &Impairments, n: u8) -> Vec<(u8, Fate)> {
        let mut imp = Impairer::new(cfg, 0);
        let now = Instant::now();
        let mut out = Vec::new();
        for i in 0..n {
            imp.push(vec![i], now, &mut out);
        }
        imp.poll(now + Duration::from_secs(1), &mut out);
        out.into_iter().map(|(f, fate)| (f[0], fate)).collect()
    }

    /// A direction's ChaCha seed is the mixing this driver always used, so a `--seed` replays as before.
    #[test]
    fn direction_seeds_are_unchanged() {
        let cfg = Impairments { loss: 0.5, seed: 42, ..Impairments::default() };
        let mut inbound = Impairer::new(&cfg, 0);
        let mut expected = ChaCha8Rng::seed_from_u64(42 ^ 0x9e37_79b9_7f4a_7c15);
        assert_eq!(inbound.rng.next_u64(), expected.next_u64());
        let mut outbound = Impairer::new(&cfg, 1);
        let mut expected = ChaCha8Rng::seed_from_u64(0x3c6e_f372_fe94_f800);
        assert_eq!(outbound.rng.next_u64(), expected.next_u64());
    }

    #[test]
    fn inactive_passes_everything_in_order() {
        let out = run(&Impairments::default(), 50);
        assert_eq!(out, (0..50).map(|i| (i, Fate::Pass)).collect::<Vec<_>>());
    }

    #[test]
    fn same_seed_same_fates_and_rates_are_plausible() {
        let cfg = Impairments { loss: 0.1, reorder: 0.1, duplicate: 0.1, seed: 42, ..Impairments::default() };
        assert_eq!(run(&cfg, 200), run(&cfg, 200));
        let other = Impairments { seed: 43, ..cfg.clone() };
        assert_ne!(run(&cfg, 200), run(&other, 200));
        let out = run(&cfg, 200);
        let count = |f| out.iter().filter(|(_, x)| *x == f).count();
        assert!((5..40).contains(&count(Fate::Dropped)), "{out:?}");
        assert!((5..40).contains(&count(Fate::Duplicate)));
        assert!((3..40).contains(&count(Fate::Late)));
        // Every frame is accounted for exactly once, plus the duplicate copies.
        assert_eq!(out.len(), 200 + count(Fate::Duplicate));
    }

    #[test]
    fn a_held_frame_comes_after_the_next_one_or_on_timeout() {
        let cfg = Impairments { reorder: 1.0, ..Impairments::default() };
        let mut imp = Impairer::new(&cfg, 0);
        let t = Instant::now();
        let mut out = Vec::new();
        imp.push(vec![1], t, &mut out);
        assert!(out.is_empty());
        assert_eq!(imp.next_deadline(), Some(t + cfg.max_hold));
        imp.poll(t, &mut out);
        assert!(out.is_empty());
        imp.poll(t + cfg.max_hold, &mut out);
        assert_eq!(out, vec![(vec![1], Fate::Late)]);
        assert_eq!(imp.next_deadline(), None);
    }

    #[test]
    fn probabilities_are_validated() {
        assert!(Impairments { loss: 1.5, ..Impairments::default() }.validate().is_err());
        assert!(Impairments { reorder: -0.1, ..Impairments::default() }.validate().is_err());
        assert!(Impairments { duplicate: 0.5, ..Impairments::default() }.validate().is_ok());
    }
}
