//! Shrinking a failing seed to the exact faults that matter, on real injected bugs.

mod common;

use synack_sim::impairment::FaultAction;
use synack_sim::shrink::shrink;
use synack_sim::{run, BuildOptions, Scenario, Source};

/// The "bug": a UDP ping-pong client that never retransmits, expected to get every reply over a lossy,
/// duplicating, jittery link. Any one lost request or reply makes it fail.
fn fragile_pingpong() -> String {
    common::two_hosts(
        "loss = 0.05\nduplicate = 0.05\njitter = \"1ms\"",
        r#"
[[app]]
name = "echo"
host = "b"
kind = "udp_echo"
[[app]]
name = "client"
host = "a"
kind = "udp_pingpong"
dst = "b"
count = 40
interval = "5ms"
[[expect]]
app = "client"
"#,
    )
}

#[test]
fn a_lossy_run_shrinks_to_the_single_drop_that_breaks_it() {
    let (sc, src) = common::scenario(&fragile_pingpong());
    let seed = (1..50)
        .find(|s| !run(&sc, &src, &BuildOptions { seed: Some(*s), ..BuildOptions::default() }).unwrap().result.passed())
        .expect("some seed fails");
    let shrunk = shrink(&sc, &src, seed, 500, |_, _| {}).unwrap_or_else(|e| panic!("{e}"));
    assert!(shrunk.recorded.len() > 20, "{} decisions recorded", shrunk.recorded.len());
    assert_eq!(shrunk.minimal.len(), 1, "{:?}", shrunk.minimal);
    assert_eq!(shrunk.minimal[0].action, FaultAction::Drop);
    assert!(shrunk.failure.contains("client: complete"), "{}", shrunk.failure);

    // The written scenario has no randomness left, and replays the failure under any seed.
    let text = shrunk.scenario.to_toml();
    assert!(!text.contains("loss") && !text.contains("jitter") && !text.contains("duplicate ="), "{text}");
    let again = Scenario::parse("shrunk.toml", &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let src = Source { file: "shrunk.toml".into(), text };
    for seed in [1, 2, 3] {
        let out = run(&again, &src, &BuildOptions { seed: Some(seed), ..BuildOptions::default() }).unwrap();
        assert!(!out.result.passed(), "the shrunk scenario must fail with seed {seed}");
    }
    // Without its one fault it passes.
    let mut fixed = again.clone();
    fixed.faults.clear();
    assert!(run(&fixed, &src, &BuildOptions::default()).unwrap().result.passed());
}

#[test]
fn replaying_the_recorded_decisions_reproduces_the_run_exactly() {
    let (sc, src) = common::shipped("lossy_mix.toml");
    let rec = run(&sc, &src, &BuildOptions { record: true, capture: true, ..BuildOptions::default() }).unwrap();
    let det = synack_sim::shrink::deterministic(&sc, sc.seed, &rec.faults);
    let text = det.to_toml();
    let det = Scenario::parse("replay", &text).unwrap_or_else(|e| panic!("{e}"));
    let replay = run(&det, &src, &BuildOptions { capture: true, ..BuildOptions::default() }).unwrap();
    assert!(rec.faults.len() > 100);
    for ((h, a), (_, b)) in rec.captures.iter().zip(&replay.captures) {
        // Same frames at the same times; only the comments' causes differ ("fault" instead of "loss", ...).
        let segs = |bytes: &[u8]| synack_sim::plot::read_segments_from(bytes).expect("pcapng");
        let (x, y) = (segs(a), segs(b));
        assert!(x.len() > 100, "{h}");
        assert!(x == y, "{h}: the replay's TCP segments differ");
    }
    assert_eq!(rec.result.apps, replay.result.apps);
}

#[test]
fn a_passing_seed_has_nothing_to_shrink() {
    let (sc, src) = synack_sim::Scenario::builtin();
    let e = shrink(&sc, &src, 1, 10, |_, _| {}).unwrap_err();
    assert!(e.to_string().contains("passes"), "{e}");
}

#[test]
fn tight_deadline_fails_on_some_seeds_as_the_readmes_show() {
    // README.md, traces/README.md and sim/README.md use this scenario to show sweep and shrink at work.
    let (sc, src) = common::shipped("tight_deadline.toml");
    let passed: Vec<bool> = (0..100)
        .map(|seed| {
            let opts = synack_sim::BuildOptions { seed: Some(seed), ..Default::default() };
            synack_sim::run(&sc, &src, &opts).expect("runs").result.passed()
        })
        .collect();
    assert_eq!(passed.iter().filter(|p| !**p).count(), 26, "the READMEs say 26 of 100 seeds fail");
    assert!(!passed[6], "the READMEs replay and shrink seed 6");
    let first_failure = passed.iter().position(|p| !p);
    assert_eq!(first_failure, Some(6), "the sweep's shrink line names seed 6");
}
