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
