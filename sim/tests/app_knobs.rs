//! The app and host knobs the trace library uses: slow readers, replies after end of stream, closing first,
//! fixed local ports (simultaneous open), request text, TCP buffer/scaling/TIME-WAIT overrides, and the
//! `outcome` / `error_contains` expectations. Each is checked on the wire, through the capture's decode.

mod common;

use synack_sim::decode::decode;
use synack_sim::RunOutput;

/// The decoded frames of `host`'s capture, without their comments (the stack's reasons, the link's notes).
fn lines(out: &RunOutput, host: &str) -> Vec<String> {
    let (_, bytes) = out.captures.iter().find(|(h, _)| h == host).expect("a capture of that host");
    decode(bytes)
        .expect("decodes")
        .into_iter()
        .map(|l| l.split("  # ").next().unwrap_or_default().to_string())
        .collect()
}

fn done_secs(out: &RunOutput, app: &str) -> f64 {
    let a = out.result.apps.iter().find(|a| a.name == app).expect("app");
    a.done_at.map(|t| t.as_nanos() as f64 / 1e9).expect("done")
}

const SINK_AND_BULK: &str = r#"
[[app]]
name = "bulk"
host = "a"
kind = "tcp_bulk"
dst = "b"
bytes = 16000
[[expect]]
app = "bulk"
[[expect]]
app = "sink"
hash_equals = "bulk"
"#;

#[test]
fn a_reader_that_waits_closes_the_window_and_the_sender_probes() {
    let text = common::two_hosts("delay = \"5ms\"", SINK_AND_BULK).replace(
        "[[link]]",
        "[[app]]\nname = \"sink\"\nhost = \"b\"\nkind = \"tcp_sink\"\nread_delay = \"1s\"\n[[link]]",
    );
    let text = text.replace("ip = \"10.0.0.2/24\"", "ip = \"10.0.0.2/24\"\nconfig = { tcp_recv_buffer = 4096 }");
    let out = common::run_text(&text, None, true);
    assert!(out.result.passed(), "{}", out.result);
    let a = lines(&out, "a");
    let zero =
        a.iter().position(|l| l.contains(" < 10.0.0.2:5001 > ") && l.contains(" win=0 ")).expect("a zero window");
    let probes = a[zero..].iter().filter(|l| l.contains(" > 10.0.0.1:") && l.ends_with("len=0")).count();
    assert!(probes >= 2, "persist probes after the zero window:\n{}", a.join("\n"));
    assert!(done_secs(&out, "sink") > 1.0);
}

#[test]
fn a_reader_with_a_rate_takes_as_long_as_its_rate_says() {
    let text = common::two_hosts("delay = \"1ms\"", SINK_AND_BULK)
        .replace("[[link]]", "[[app]]\nname = \"sink\"\nhost = \"b\"\nkind = \"tcp_sink\"\nread_rate = 8000\n[[link]]");
    let text = text.replace("ip = \"10.0.0.2/24\"", "ip = \"10.0.0.2/24\"\nconfig = { tcp_recv_buffer = 4096 }");
    let out = common::run_text(&text, None, false);
    assert!(out.result.passed(), "{}", out.result);
    // 16000 bytes at 8000 B/s, less what the 4 KiB buffer holds at the start.
    let t = done_secs(&out, "sink");
    assert!((1.3..2.5).contains(&t), "done at {t}s");
}

#[test]
fn a_sink_with_a_reply_answers_after_the_peers_fin_and_the_client_reads_it() {
    let text = common::two_hosts(
        "delay = \"5ms\"",
        r#"
[[app]]
name = "server"
host = "b"
kind = "tcp_sink"
reply_bytes = 5000
[[app]]
name = "client"
host = "a"
kind = "tcp_bulk"
dst = "b"
bytes = 3000
[[expect]]
app = "client"
[[expect]]
app = "server"
hash_equals = "client"
"#,
    );
    let out = common::run_text(&text, None, true);
    assert!(out.result.passed(), "{}", out.result);
    let client = out.result.apps.iter().find(|a| a.name == "client").expect("client");
    assert_eq!(client.conns[0].bytes_received, 5000);
    let b = lines(&out, "b");
    let fin_in = b.iter().position(|l| l.contains(" < ") && l.contains("F")).expect("client FIN");
    let data_out =
        b.iter().position(|l| l.contains("10.0.0.2:5001 > 10.0.0.1") && !l.ends_with("len=0")).expect("reply");
    assert!(fin_in < data_out, "the reply follows the client's FIN:\n{}", b.join("\n"));
}

#[test]
fn a_sink_that_closes_at_accept_sends_its_fin_first() {
    let text = common::two_hosts(
        "delay = \"5ms\"",
        r#"
[[app]]
name = "sink"
host = "b"
kind = "tcp_sink"
shutdown_at_accept = true
[[app]]
name = "c"
host = "a"
kind = "tcp_bulk"
dst = "b"
bytes = 1000
[[expect]]
app = "c"
[[expect]]
app = "sink"
"#,
    );
    let out = common::run_text(&text, None, true);
    assert!(out.result.passed(), "{}", out.result);
    let b = lines(&out, "b");
    let fin_out =
        b.iter().position(|l| l.contains("10.0.0.2:5001 > 10.0.0.1") && l.contains("[F")).expect("server FIN");
    let data_in = b.iter().position(|l| l.contains(" < ") && l.contains("len=1000")).expect("client data");
    assert!(fin_out < data_in, "{}", b.join("\n"));
}

#[test]
fn two_clients_on_fixed_ports_aimed_at_each_other_open_simultaneously() {
    let text = common::two_hosts(
        "delay = \"5ms\"",
        r#"
[[app]]
name = "ab"
host = "a"
kind = "tcp_bulk"
dst = "b"
port = 5000
local_port = 5000
bytes = 100
[[app]]
name = "ba"
host = "b"
kind = "tcp_bulk"
dst = "a"
port = 5000
local_port = 5000
bytes = 100
[[expect]]
app = "ab"
[[expect]]
app = "ba"
"#,
    );
    let out = common::run_text(&text, None, true);
    assert!(out.result.passed(), "{}", out.result);
    let a = lines(&out, "a");
    let syn_in = a.iter().position(|l| l.contains(" < ") && l.contains("[S]")).expect("b's SYN");
    let synack = a.iter().position(|l| l.contains("[S.]")).expect("a SYN-ACK");
    assert!(syn_in < synack, "the SYNs cross:\n{}", a.join("\n"));
}

#[test]
fn request_text_host_overrides_and_outcome_expectations() {
    let text = common::two_hosts(
        "delay = \"5ms\"",
        r#"
[[app]]
name = "echo"
host = "b"
kind = "tcp_echo"
[[app]]
name = "hi"
host = "a"
kind = "tcp_rr"
dst = "b"
requests = 1
text = "hello"
[[app]]
name = "refused"
host = "a"
kind = "tcp_bulk"
dst = "b"
port = 1
bytes = 10
[[app]]
name = "udp"
host = "a"
kind = "udp_pingpong"
dst = "b"
port = 9
count = 1
[[expect]]
app = "hi"
outcome = "ok"
[[expect]]
app = "refused"
outcome = "reset"
[[expect]]
app = "udp"
error_contains = "ICMP port unreachable"
"#,
    )
    .replace("ip = \"10.0.0.1/24\"", "ip = \"10.0.0.1/24\"\nconfig = { tcp_window_scaling = false }");
    let out = common::run_text(&text, None, true);
    assert!(out.result.passed(), "{}", out.result);
    let a = lines(&out, "a");
    assert!(a.iter().any(|l| l.contains(" > 10.0.0.1:") && l.contains("[P.]") && l.ends_with("len=5")));
    assert!(a.iter().filter(|l| l.contains("[S]")).all(|l| !l.contains("ws=")), "no window scaling offered");
    let (_, bytes) = &out.captures[0];
    assert!(bytes.windows(5).any(|w| w == b"hello"));
    // The same expectations the other way round fail.
    let wrong = text.replace("outcome = \"reset\"", "outcome = \"ok\"").replace("ICMP port", "no ARP");
    let out = common::run_text(&wrong, None, false);
    let failed: Vec<&str> = out.result.checks.iter().filter(|c| !c.ok).map(|c| c.what.as_str()).collect();
    assert_eq!(failed.len(), 2, "{failed:?}");
}

#[test]
fn knobs_out_of_range_are_located_errors() {
    let (sc, src) = common::scenario(&common::two_hosts(
        "",
        "[[app]]\nname = \"s\"\nhost = \"b\"\nkind = \"tcp_sink\"\nread_rate = 0\n",
    ));
    let err = synack_sim::build(&sc, &src, &Default::default()).expect_err("rejected").to_string();
    assert!(err.contains("app[0].read_rate") && err.contains("never reads"), "{err}");
    let (sc, src) = common::scenario(&common::two_hosts(
        "",
        "[[app]]\nname = \"c\"\nhost = \"a\"\nkind = \"tcp_bulk\"\ndst = \"b\"\nconnections = 2\nlocal_port = 5\n",
    ));
    let err = synack_sim::build(&sc, &src, &Default::default()).expect_err("rejected").to_string();
    assert!(err.contains("app[0].local_port"), "{err}");
}
