//! RFC 5961 blind injection (issue 9, item 3): an off-path attacker forges RSTs, SYNs and data segments on a
//! running transfer's four-tuple with guessed sequence numbers. Over many seeds the connection survives, the
//! data arrives intact, and the victims' `Stats` show every forged segment dropped.

mod common;

use synack::{DropReason, Stats};
use synack_sim::{run, BuildOptions, RunResult};

const SEEDS: u64 = 20;
const FORGED: u64 = 60_000;

/// Drops a blind-injected segment can cause.
const REASONS: [DropReason; 4] =
    [DropReason::TcpOutOfWindow, DropReason::TcpRstChallenged, DropReason::TcpSynChallenged, DropReason::TcpBadAck];

fn host<'a>(r: &'a RunResult, name: &str) -> &'a Stats {
    &r.hosts.iter().find(|(n, _, _)| n == name).expect("host").1
}

fn delivered(r: &RunResult, dir: &str) -> u64 {
    r.links.iter().find(|(l, _)| l == dir).expect("link direction").1.delivered
}

#[derive(Debug, Default)]
struct Totals {
    drops: [u64; 4],
    forged_to: [u64; 2],
    challenge_acks_suppressed: u64,
}

fn check(r: &RunResult, totals: &mut Totals) {
    assert!(r.passed(), "seed {}: {}", r.seed, r);
    let app = |name: &str| r.apps.iter().find(|a| a.name == name).expect("app");
    let (bulk, sink, attacker) = (app("bulk"), app("sink"), app("attacker"));
    assert_eq!(attacker.count, FORGED, "seed {}: every forged segment sent", r.seed);
    assert_eq!(bulk.bytes, 2_000_000);
    assert_eq!(sink.count, 2_000_000, "seed {}", r.seed);
    assert_eq!(sink.hashes(), bulk.hashes(), "seed {}: data intact", r.seed);
    for a in [bulk, sink] {
        assert_eq!(a.conns.len(), 1);
        assert_eq!(a.conns[0].outcome, "ok", "seed {}: {} never reset", r.seed, a.name);
    }
    for (victim, dir, i) in [("server", "attacker->server", 0), ("client", "attacker->client", 1)] {
        let stats = host(r, victim);
        let forged = delivered(r, dir);
        let dropped: u64 = REASONS.iter().map(|&d| stats.drops(d)).sum();
        assert!(forged > FORGED / 3, "seed {}: {forged} forged segments reached the {victim}", r.seed);
        // Every forged segment is dropped for one of the reasons (genuine traffic may add a few).
        assert!(dropped >= forged, "seed {}: {victim} dropped {dropped} of {forged} forged segments", r.seed);
        assert_eq!(stats.tcp_resets_sent, 0, "seed {}: {victim} sent no RST", r.seed);
        for (t, &d) in totals.drops.iter_mut().zip(&REASONS) {
            *t += stats.drops(d);
        }
        totals.forged_to[i] += forged;
        totals.challenge_acks_suppressed += stats.tcp_challenge_acks_suppressed;
    }
}

/// Runs `SEEDS` seeds of a scenario on two threads.
fn sweep(sc: &synack_sim::Scenario, src: &synack_sim::Source) -> Vec<RunResult> {
    let results: Vec<RunResult> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2u64)
            .map(|half| {
                let (sc, src) = (&sc, &src);
                s.spawn(move || {
                    (0..SEEDS)
                        .filter(|seed| seed % 2 == half)
                        .map(|seed| {
                            let opts = BuildOptions { seed: Some(seed), ..BuildOptions::default() };
                            run(sc, src, &opts).unwrap_or_else(|e| panic!("{e}")).result
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("worker")).collect()
    });
    assert_eq!(results.len() as u64, SEEDS);
    results
}

#[test]
fn blind_injection_never_breaks_the_transfer() {
    let (sc, src) = common::shipped("blind_attack.toml");
    let results = sweep(&sc, &src);
    let mut totals = Totals::default();
    for r in &results {
        check(r, &mut totals);
    }
    eprintln!("blind injection over {SEEDS} seeds, {FORGED} forged segments each: {totals:?} (drops: {REASONS:?})");
    assert!(totals.drops[0] > totals.forged_to.iter().sum::<u64>() * 99 / 100, "most guesses fall outside the window");
    // A few uniform guesses land inside a window of a few hundred KB: the RST and SYN ones draw challenge ACKs.
    assert!(totals.drops[1] + totals.drops[2] > 0, "some guesses land in the window and are challenged");
}

#[test]
fn blind_injection_from_before_the_handshake_on_a_lossy_link_never_breaks_the_transfer() {
    // The attack starts with the client's connect, so forged bare SYNs reach the client in SYN-SENT (a crossed
    // SYN it must set aside for the real SYN-ACK) and the server's listener before the real SYN (an embryonic
    // connection the client's RST clears); 2% random loss on the victims' link makes the handshake slow and
    // uneven. The connection may take a retransmitted SYN to open, but it opens, and the data arrives intact.
    let (_, shipped) = common::shipped("blind_attack.toml");
    let text = shipped
        .text
        .replace("start = \"50ms\"", "start = \"10ms\"")
        .replace("queue = 100000", "queue = 100000\nloss = 0.02");
    assert_ne!(text, shipped.text);
    let (sc, src) = common::scenario(&text);
    let mut superseded = 0;
    for r in sweep(&sc, &src) {
        assert!(r.passed(), "seed {}: {}", r.seed, r);
        let app = |name: &str| r.apps.iter().find(|a| a.name == name).expect("app");
        let (bulk, sink) = (app("bulk"), app("sink"));
        assert_eq!(sink.count, 2_000_000, "seed {}", r.seed);
        assert_eq!(sink.hashes(), bulk.hashes(), "seed {}: data intact", r.seed);
        assert_eq!(bulk.conns.len(), 1, "seed {}", r.seed);
        assert_eq!(bulk.conns[0].outcome, "ok", "seed {}: the client's connection never reset", r.seed);
        superseded += bulk.conns[0].counters.map_or(0, |c| c.crossed_syns_superseded);
    }
    assert!(superseded > 0, "some forged SYNs crossed the client's SYN and were set aside");
}

#[test]
fn the_attacker_needs_the_victims_four_tuple() {
    let text = common::two_hosts(
        "",
        r#"
[[host]]
name = "x"
ip = "10.0.0.3/24"
[[app]]
host = "x"
kind = "blind_attacker"
dst = "b"
spoof = "a"
"#,
    );
    let (sc, src) = common::scenario(&text);
    let err = run(&sc, &src, &BuildOptions::default()).expect_err("no spoof_port");
    assert!(err.to_string().contains("spoof_port"), "{err}");
}
