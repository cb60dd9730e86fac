//! Shrinking: from a failing seed to the few exact faults that make it fail.
//!
//! 1. Run the scenario with the seed, recording every impairment decision (random and scripted) as an exact
//!    fault list.
//! 2. Rebuild the scenario without randomness: same hosts, apps, events and deterministic link properties
//!    (delay, rate, queue, MTU), the random impairments removed, the recorded list as its faults. Replaying it
//!    reproduces the failing run exactly.
//! 3. Delta-debug (Zeller's ddmin) the list down to a 1-minimal one that still fails: removing any single
//!    remaining fault makes the run pass.

use crate::build::BuildOptions;
use crate::impairment::fault::FaultSpec;
use crate::impairment::Fault;
use crate::run::run;
use crate::scenario::{Scenario, ScenarioError, Source};
use std::fmt;

/// Why a run could not be shrunk.
#[derive(Debug)]
pub enum ShrinkError {
    Scenario(ScenarioError),
    /// The seed passes: nothing to shrink.
    Passes,
    /// Replaying the recorded decisions did not fail (a determinism bug in the simulator).
    ReplayDiffers,
}

impl fmt::Display for ShrinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShrinkError::Scenario(e) => write!(f, "{e}"),
            ShrinkError::Passes => write!(f, "the run passes with this seed: nothing to shrink"),
            ShrinkError::ReplayDiffers => {
                write!(f, "replaying the recorded impairment decisions did not reproduce the failure")
            }
        }
    }
}

impl std::error::Error for ShrinkError {}

impl From<ScenarioError> for ShrinkError {
    fn from(e: ScenarioError) -> Self {
        ShrinkError::Scenario(e)
    }
}

/// The result of shrinking.
#[derive(Debug)]
pub struct Shrunk {
    /// Decisions recorded in the failing run.
    pub recorded: Vec<Fault>,
    /// A subset that still fails: 1-minimal when `complete`.
    pub minimal: Vec<Fault>,
    /// Whether the search ended (the list is 1-minimal) rather than ran out of its run budget.
    pub complete: bool,
    /// The scenario without randomness, with `minimal` as its faults.
    pub scenario: Scenario,
    /// The first failed expectation of the minimal run.
    pub failure: String,
    /// Simulation runs spent.
    pub runs: usize,
}

/// The scenario with its random impairments removed and `faults` as its exact faults.
pub fn deterministic(sc: &Scenario, seed: u64, faults: &[Fault]) -> Scenario {
    let mut out = sc.clone();
    out.seed = seed;
    for l in &mut out.links {
        let both = l.both().without_randomness();
        l.set_both(&both);
        l.a_to_b = l.a_to_b.as_ref().map(|s| s.without_randomness());
        l.b_to_a = l.b_to_a.as_ref().map(|s| s.without_randomness());
    }
    out.faults = faults.iter().map(FaultSpec::from_fault).collect();
    out
}

/// Runs `faults` against the deterministic scenario: `Some(failure)` if it fails.
fn fails(sc: &Scenario, seed: u64, faults: &[Fault], source: &Source) -> Result<Option<String>, ScenarioError> {
    let candidate = deterministic(sc, seed, faults);
    let out = run(&candidate, source, &BuildOptions { seed: Some(seed), ..BuildOptions::default() })?;
    Ok(if out.result.passed() { None } else { Some(out.result.first_failure().unwrap_or_default()) })
}

/// Shrinks the failing run of `sc` with `seed`; `progress` is told (runs so far, current list length).
pub fn shrink(
    sc: &Scenario,
    source: &Source,
    seed: u64,
    max_runs: usize,
    mut progress: impl FnMut(usize, usize),
) -> Result<Shrunk, ShrinkError> {
    let recorded = run(sc, source, &BuildOptions { seed: Some(seed), record: true, ..BuildOptions::default() })?;
    if recorded.result.passed() {
        return Err(ShrinkError::Passes);
    }
    let all = recorded.faults;
    let mut runs = 1;
    let generated = Source { file: format!("{} (shrinking)", source.file), text: String::new() };
    let mut error = None;
    let mut test = |faults: &[Fault]| -> bool {
        runs += 1;
        progress(runs, faults.len());
        match fails(sc, seed, faults, &generated) {
            Ok(f) => f.is_some(),
            Err(e) => {
                error.get_or_insert(e);
                false
            }
        }
    };
    if !test(&all) {
        return Err(ShrinkError::ReplayDiffers);
    }
    let (minimal, complete) = ddmin(all.clone(), &mut test, max_runs);
    if let Some(e) = error {
        return Err(ShrinkError::Scenario(e));
    }
    let failure = fails(sc, seed, &minimal, &generated)?.unwrap_or_default();
    let mut scenario = deterministic(sc, seed, &minimal);
    scenario.name = format!("{}-seed{seed}-shrunk", sc.name);
    Ok(Shrunk { recorded: all, minimal, complete, scenario, failure, runs: runs + 1 })
}

/// Zeller's ddmin: a subsequence of `items` for which `fails` holds (given that it holds for `items`), spending
/// at most `budget` tests, and whether it is 1-minimal (false: the budget ran out first; what is returned still
/// fails).
pub fn ddmin<T: Clone>(items: Vec<T>, fails: &mut dyn FnMut(&[T]) -> bool, budget: usize) -> (Vec<T>, bool) {
    let spent = std::cell::Cell::new(0usize);
    let mut check = |c: &[T]| {
        if spent.get() >= budget {
            return false; // not tested: the candidate stays what it was
        }
        spent.set(spent.get() + 1);
        fails(c)
    };
    if items.is_empty() || check(&[]) {
        return (Vec::new(), true);
    }
    let mut cur = items;
    let mut n = 2usize;
    while cur.len() >= 2 {
        if spent.get() >= budget {
            return (cur, false);
        }
        let chunk = cur.len().div_ceil(n);
        let parts: Vec<Vec<T>> = cur.chunks(chunk).map(<[T]>::to_vec).collect();
        let mut reduced = false;
        for p in &parts {
            if check(p) {
                cur = p.clone();
                n = 2;
                reduced = true;
                break;
            }
        }
        if !reduced && parts.len() > 2 {
            for i in 0..parts.len() {
                let complement: Vec<T> =
                    parts.iter().enumerate().filter(|(j, _)| *j != i).flat_map(|(_, p)| p.iter().cloned()).collect();
                if check(&complement) {
                    cur = complement;
                    n = (n - 1).max(2);
                    reduced = true;
                    break;
                }
            }
        }
        if !reduced {
            if spent.get() >= budget {
                return (cur, false); // some candidates of this round went untested
            }
            if n >= cur.len() {
                break;
            }
            n = (n * 2).min(cur.len());
        }
    }
    (cur, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ddmin_finds_the_culprits() {
        let items: Vec<u32> = (0..100).collect();
        let mut tests = 0;
        let mut fails = |s: &[u32]| {
            tests += 1;
            s.contains(&17) && s.contains(&83)
        };
        assert_eq!(ddmin(items, &mut fails, 10_000), (vec![17, 83], true));
        assert!(tests < 200, "{tests} tests");
    }

    #[test]
    fn ddmin_of_an_always_failing_test_is_empty() {
        assert_eq!(ddmin(vec![1, 2, 3], &mut |_| true, 100), (vec![], true));
    }

    #[test]
    fn ddmin_keeps_to_its_budget_and_says_the_result_is_not_minimal() {
        let items: Vec<u32> = (0..100).collect();
        let mut tests = 0;
        let mut fails = |s: &[u32]| {
            tests += 1;
            s.contains(&17) && s.contains(&83)
        };
        let (found, complete) = ddmin(items, &mut fails, 5);
        assert_eq!(tests, 5);
        assert!(!complete && found.contains(&17) && found.contains(&83), "{found:?}");
    }
}
