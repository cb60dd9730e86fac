//! TCP apps against the real engine: transfers complete, hashes match, within the time asked.

mod common;

fn assert_passes(out: &synack_sim::RunOutput) {
    assert!(out.result.passed(), "{}", out.result);
}

#[test]
fn bulk_transfer_over_a_lossy_link_arrives_intact() {
    let text = common::two_hosts(
        "delay = \"5ms\"\nrate = \"20Mbit\"\nloss = 0.02\nreorder = 0.01",
        r#"
[[app]]
name = "sink"
host = "b"
kind = "tcp_sink"
[[app]]
name = "bulk"
host = "a"
kind = "tcp_bulk"
dst = "b"
bytes = 300000
[[expect]]
app = "bulk"
[[expect]]
app = "sink"
within = "20s"
hash_equals = "bulk"
"#,
    );
    for seed in [1, 2, 3] {
        let out = common::run_text(&text, Some(seed), false);
        assert_passes(&out);
        let bulk = out.result.apps.iter().find(|a| a.name == "bulk").expect("bulk");
        assert_eq!(bulk.bytes, 300_000);
        assert!(bulk.conns[0].retransmits.unwrap_or(0) > 0, "2% loss must cost retransmissions");
    }
}

#[test]
fn many_parallel_connections_all_complete() {
    let text = common::two_hosts(
        "delay = \"2ms\"\nloss = 0.01",
        r#"
[[app]]
name = "sink"
host = "b"
kind = "tcp_sink"
connections = 50
[[app]]
name = "many"
host = "a"
kind = "tcp_bulk"
dst = "b"
bytes = 20000
connections = 50
[[expect]]
app = "many"
[[expect]]
app = "sink"
hash_equals = "many"
"#,
    );
    let out = common::run_text(&text, None, false);
    assert_passes(&out);
    let sink = out.result.apps.iter().find(|a| a.name == "sink").expect("sink");
    assert_eq!(sink.conns.len(), 50);
    assert_eq!(sink.bytes, 50 * 20_000);
}

#[test]
fn request_response_over_echo() {
    let text = common::two_hosts(
        "delay = \"10ms\"\nduplicate = 0.02\njitter = \"1ms\"",
        r#"
[[app]]
name = "echo"
host = "b"
kind = "tcp_echo"
[[app]]
name = "rr"
host = "a"
kind = "tcp_rr"
dst = "b"
requests = 25
size = 3000
[[expect]]
app = "rr"
within = "5s"
"#,
    );
    let out = common::run_text(&text, None, false);
    assert_passes(&out);
    let rr = out.result.apps.iter().find(|a| a.name == "rr").expect("rr");
    assert_eq!(rr.rtts.len(), 25);
    assert!(rr.rtts.iter().all(|r| r.as_millis() >= 20), "each request takes at least one round trip");
}

#[test]
fn a_partition_longer_than_the_transfer_deadline_fails_the_expectation() {
    let text = common::two_hosts(
        "delay = \"5ms\"\nrate = \"10Mbit\"",
        r#"
[[app]]
name = "sink"
host = "b"
kind = "tcp_sink"
[[app]]
name = "bulk"
host = "a"
kind = "tcp_bulk"
dst = "b"
bytes = 1000000
[[event]]
at = "100ms"
action = "partition"
link = "a-b"
[[event]]
at = "3s"
action = "heal"
link = "a-b"
[[expect]]
app = "sink"
within = "2s"
"#,
    );
    let out = common::run_text(&text, None, false);
    assert!(!out.result.passed());
    assert!(out.result.first_failure().unwrap_or_default().contains("within 2s"));
    // It still completes after the heal.
    assert!(out.result.apps.iter().all(|a| a.complete), "{}", out.result);
}

#[test]
fn shipped_scenarios_pass() {
    for name in ["default.toml", "tcp_bulk.toml", "lossy_mix.toml"] {
        let (sc, src) = common::shipped(name);
        let out = synack_sim::run(&sc, &src, &synack_sim::BuildOptions::default()).expect("runs");
        assert_passes(&out);
    }
}

#[test]
fn plot_draws_a_time_sequence_graph() {
    let (sc, src) = common::shipped("tcp_bulk.toml");
    let opts = synack_sim::BuildOptions { capture: true, ..Default::default() };
    let out = synack_sim::run(&sc, &src, &opts).expect("runs");
    let dir = common::temp_dir("plot");
    let paths = synack_sim::run::write_captures(&dir, &sc.name, &out.captures).expect("writes");
    let svg = dir.join("client.svg");
    let stats = synack_sim::plot::plot(&paths[0], &svg).expect("plots");
    assert!(stats.data_segments > 1000 && stats.retransmissions > 0 && stats.dropped > 0 && stats.acks > 500);
    let text = std::fs::read_to_string(&svg).expect("svg");
    assert!(text.starts_with("<svg") && text.contains("time-sequence graph") && text.contains("retransmission"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Two transfers of different streams; the sink of the first is checked against each sender.
fn crossed_hashes() -> String {
    common::two_hosts(
        "delay = \"2ms\"\nloss = 0.01\ncorrupt = 0.005",
        r#"
[[app]]
name = "sink1"
host = "b"
kind = "tcp_sink"
port = 5001
[[app]]
name = "sink2"
host = "b"
kind = "tcp_sink"
port = 5002
[[app]]
name = "bulk1"
host = "a"
kind = "tcp_bulk"
dst = "b"
port = 5001
bytes = 200000
[[app]]
name = "bulk2"
host = "a"
kind = "tcp_bulk"
dst = "b"
port = 5002
bytes = 200000
[[expect]]
app = "sink1"
hash_equals = "bulk1"
[[expect]]
app = "sink1"
hash_equals = "bulk2"
"#,
    )
}

#[test]
fn every_digest_mode_gives_the_same_verdicts_and_hashes_only_what_is_compared() {
    use synack_sim::{run, BuildOptions, Digests};
    let (sc, src) = common::scenario(&crossed_hashes());
    let result = |digests| run(&sc, &src, &BuildOptions { digests, ..BuildOptions::default() }).expect("runs").result;
    let all = result(Digests::All);
    let verdicts = |r: &synack_sim::RunResult| r.checks.iter().map(|c| c.ok).collect::<Vec<_>>();
    assert_eq!(verdicts(&all), [true, false], "{all}");
    for digests in [Digests::Checked, Digests::Fingerprints] {
        let r = result(digests);
        assert_eq!(verdicts(&r), verdicts(&all), "{digests:?}: {r}");
        // Hashing changes nothing that is simulated.
        assert_eq!((r.frames_delivered, r.events, r.end), (all.frames_delivered, all.events, all.end));
        let hashed = |name: &str| r.apps.iter().find(|a| a.name == name).is_some_and(|a| !a.hashes().is_empty());
        assert!(hashed("sink1") && hashed("bulk1") && hashed("bulk2") && !hashed("sink2"), "{digests:?}");
    }
    // SHA-256 digests are the summary's; fingerprints say what they are.
    assert_eq!(result(Digests::Checked).checks, all.checks);
    let fingerprinted = result(Digests::Fingerprints);
    assert!(fingerprinted.checks[1].what.contains("XXH3-128 equals"), "{fingerprinted}");
    assert!(all.checks[1].what.contains("SHA-256 equals"), "{all}");
}
