//! The explanations a learner reads: the `why:`/`state:` packet comments the simulator writes, the ladder drawn
//! from them, and the tour text that quotes the ladders. Each test states what a student should see; each once
//! saw something else (a repeated FIN called unacceptable, CE-mark ACKs called reordering, path-MTU resends
//! called timeouts, data hidden on a FIN, states drawn early or written on ARP frames).

use synack_sim::decode::{read, CapturedFrame};
use synack_sim::ladder::text::{render, Window};
use synack_sim::ladder::{build, HostCapture, Side};
use synack_sim::run::RunOutput;
use synack_sim::{run, BuildOptions, Scenario, Source};
use synack_tests::traces::{scenario, traces_dir};

/// Runs an inline scenario with captures.
fn run_text(text: &str) -> RunOutput {
    let file = "<test>".to_string();
    let sc = Scenario::parse(&file, text).unwrap_or_else(|e| panic!("{e}"));
    let src = Source { file, text: text.to_string() };
    run(&sc, &src, &BuildOptions { capture: true, ..BuildOptions::default() }).unwrap_or_else(|e| panic!("{e}"))
}

/// One host's frames from a run: (sent by the host, one-line decode, comment).
fn frames(out: &RunOutput, host: &str) -> Vec<(bool, String, String)> {
    let (_, bytes) = out.captures.iter().find(|(h, _)| h == host).expect("a capture of the host");
    let file = read(bytes).unwrap();
    let mac = file.mac;
    file.frames
        .iter()
        .map(|f: &CapturedFrame| {
            let sent = f.src_mac() == mac;
            let line = synack::wire::pretty::frame_summary(&f.data);
            (sent, line, f.comment.clone().unwrap_or_default())
        })
        .collect()
}

fn why(comment: &str) -> Option<&str> {
    comment.lines().find_map(|l| l.strip_prefix("why: "))
}

fn captures_of(out: &RunOutput) -> Vec<HostCapture> {
    out.captures.iter().take(2).map(|(h, b)| HostCapture::from_bytes(b, h).unwrap()).collect()
}

fn committed(name: &str) -> Vec<HostCapture> {
    let ts = scenario(name);
    ts.scenario.hosts.iter().map(|h| HostCapture::read(&ts.trace_path(&h.name)).unwrap()).collect()
}

/// Tour 1's exchange between `client` and the echo server, with extra TOML appended.
fn hello(name: &str, extra: &str) -> String {
    let base = std::fs::read_to_string(traces_dir().join("tour_01_handshake.toml")).unwrap();
    format!("{}\n{extra}\n", base.replace("name = \"tour_01_handshake\"", &format!("name = \"{name}\"")))
}

/// RFC 9293 §3.10.7.4 (TIME-WAIT): the peer's retransmitted FIN is acknowledged and 2 MSL restarts. The stack
/// has a reason for exactly that (`AckWhy::TimeWaitFin`), and tour 10 is about it, yet the re-ACK was explained
/// as "ACK (unacceptable segment)" and the FIN as an out-of-window drop.
#[test]
fn a_repeated_fin_in_time_wait_is_acked_as_such() {
    let out = scenario("tour_10_time_wait").run(None, true);
    let client = frames(&out, "client");
    let last_sent = client.iter().rev().find(|(sent, l, _)| *sent && l.contains("TCP")).unwrap();
    assert_eq!(why(&last_sent.2), Some("ACK of a repeated FIN (TIME-WAIT)"), "{last_sent:?}");
    let repeated_fin = client.iter().rev().find(|(sent, l, _)| !*sent && l.contains("[F.]")).unwrap();
    assert!(
        !repeated_fin.2.contains("TcpOutOfWindow"),
        "a retransmitted FIN is no out-of-window segment: {repeated_fin:?}"
    );
}

/// RFC 3168 §6.1.3: a CE-marked segment is acknowledged at once (with ECE). ecn_marks has no reordering at
/// all, yet those ACKs said "quick-ACK after reordering".
#[test]
fn an_ack_for_a_ce_mark_is_not_explained_as_reordering() {
    let out = scenario("ecn_marks").run(None, true);
    let server = frames(&out, "server");
    let wrong: Vec<_> = server.iter().filter(|(s, _, c)| *s && c.contains("reordering")).collect();
    assert!(wrong.is_empty(), "ACKs for CE marks explained as reordering: {wrong:#?}");
}

/// Without SACK (neither side offers it) a partial ACK in NewReno recovery makes the sender resend the next
/// hole (RFC 6582 §3.2 step 3). That retransmission was explained as "RACK/SACK: marked lost".
#[test]
fn a_newreno_partial_ack_retransmission_is_not_called_rack_or_sack() {
    let text = r#"
name = "nosack2"
seed = 1
stop_when_done = false
duration = "2s"
[[host]]
name = "client"
ip = "10.0.0.1/24"
config = { tcp_sack = false }
[[host]]
name = "server"
ip = "10.0.0.2/24"
config = { tcp_sack = false }
[[link]]
a = "client"
b = "server"
delay = "5ms"
[[fault]]
dir = "client->server"
frame = 5
action = "drop"
[[fault]]
dir = "client->server"
frame = 7
action = "drop"
[[app]]
name = "sink"
host = "server"
kind = "tcp_sink"
port = 5001
[[app]]
name = "bulk"
host = "client"
kind = "tcp_bulk"
dst = "server"
port = 5001
bytes = 14480
"#;
    let out = run_text(text);
    let client = frames(&out, "client");
    assert!(client.iter().all(|(_, l, _)| !l.contains("sackOK")), "no SACK on this connection");
    let whys: Vec<&str> = client.iter().filter(|(s, _, _)| *s).filter_map(|(_, _, c)| why(c)).collect();
    assert!(whys.iter().any(|w| w.starts_with("fast retransmit")), "{whys:?}");
    let wrong: Vec<&&str> = whys.iter().filter(|w| w.contains("RACK/SACK")).collect();
    assert!(wrong.is_empty(), "a connection without SACK explains a retransmission by SACK: {whys:?}");
}

/// RFC 1191: after ICMP "fragmentation needed" the sender resends in smaller segments. No timer expired, yet
/// each one said "send point went back after a timeout".
#[test]
fn a_path_mtu_resend_is_not_called_a_timeout() {
    let out = scenario("path_mtu").run(None, true);
    let client = frames(&out, "client");
    let icmp = client.iter().position(|(s, l, _)| !*s && l.contains("frag-needed")).expect("an ICMP frag-needed");
    let timed_out_before = client[..icmp].iter().any(|(_, _, c)| c.contains("RTO"));
    assert!(!timed_out_before);
    let next = client[icmp..].iter().find(|(s, l, _)| *s && l.contains("TCP")).unwrap();
    assert!(!next.2.contains("timeout"), "no timer expired before this resend: {next:?}");
}

/// A segment that carries new data and the FIN (tour 6: 552 bytes; tour 5: 952 bytes) was explained as a bare
/// "FIN (application closed)", and the ladder then showed no bytes at all on it.
#[test]
fn data_riding_with_the_fin_is_not_hidden() {
    let out = scenario("tour_06_half_close").run(None, true);
    let server = frames(&out, "server");
    let fin = server.iter().find(|(s, l, _)| *s && l.contains("[FP.]")).expect("the server's FIN with data");
    assert!(fin.1.contains("len=552"), "{fin:?}");
    assert_ne!(why(&fin.2), Some("FIN (application closed)"), "552 bytes of new data ride on it: {fin:?}");
    let ladder = build(&committed("tour_06_half_close"), None).unwrap();
    let arrow = ladder.arrows.iter().find(|a| a.from == Side::Right && a.label.contains("new data + FIN")).unwrap();
    assert!(arrow.label.contains("1449:2001"), "the ladder hides the FIN's 552 bytes: {arrow:?}");
}

/// A FIN that arrives ahead of a hole is queued (RFC 9293 §3.10.7.4, eighth: only a FIN in sequence is
/// processed): the receiver enters CLOSE-WAIT when the hole fills. Tours 3 and 9 drew CLOSE-WAIT on the
/// FIN's arrival, while the server's own comment puts it on the late (or retransmitted) segment.
#[test]
fn an_out_of_order_fin_does_not_move_the_receiver_to_close_wait() {
    for name in ["tour_09_reordering", "tour_03_fast_retransmit"] {
        let ladder = build(&committed(name), None).unwrap();
        let closing = ladder
            .arrows
            .iter()
            .find(|a| a.from == Side::Left && a.receiver_state.as_deref() == Some("CLOSE-WAIT"))
            .unwrap();
        assert!(closing.label.contains("1:1449") || closing.label.contains("retransmission"), "{name}: {closing:?}");
    }
}

/// The ladder called a 1-byte segment one below SND.NXT a window probe whatever the window. Here "x" is lost and
/// the tail loss probe resends it with the peer's window wide open.
#[test]
fn a_one_byte_retransmission_is_not_a_window_probe() {
    let text = hello("onebyte", "[[fault]]\ndir = \"client->server\"\nframe = 4\naction = \"drop\"")
        .replace("text = \"hello\"", "text = \"x\"");
    let out = run_text(&text);
    let ladder = build(&captures_of(&out), None).unwrap();
    let probes: Vec<_> = ladder.arrows.iter().filter(|a| a.label.contains("window probe")).collect();
    assert!(probes.is_empty(), "no window was ever zero: {probes:#?}");
}

/// The tour's text quotes what its ladders show; the ladders replaced the segment with the reason when both
/// did not fit, so the quoted SACK blocks, probe and window were nowhere on them.
#[test]
fn what_the_tour_quotes_is_on_its_ladders() {
    let tour = std::fs::read_to_string(traces_dir().join("..").join("docs").join("tour.md")).unwrap();
    for (name, quoted) in [
        ("tour_03_fast_retransmit", "sack 2897:4345"),
        ("tour_05_zero_window", "window probe seq=2048"),
        ("tour_05_zero_window", "win=2048"),
    ] {
        assert!(tour.contains(&format!("`{quoted}`")), "the tour quotes {quoted}");
        let text = render(&build(&committed(name), None).unwrap(), &Window::default());
        assert!(text.contains(quoted), "{name}: the tour quotes `{quoted}`, its ladder never shows it:\n{text}");
    }
}

/// The state change of a connect belongs on the SYN, not on the ARP request that happens to leave first.
#[test]
fn a_state_change_is_told_on_the_connections_segment_not_on_arp() {
    let out = scenario("tour_01_handshake").run(None, true);
    let client = frames(&out, "client");
    let arp = client.iter().find(|(s, l, _)| *s && l.starts_with("ARP")).unwrap();
    assert!(!arp.2.contains("state:"), "ARP carries a TCP state change: {arp:?}");
    let syn = client.iter().find(|(s, l, _)| *s && l.contains("[S]")).unwrap();
    assert!(syn.2.contains("CLOSED -> SYN-SENT"), "{syn:?}");
}

/// The engine says state changes no received frame carries (a timer's) "go with the next frame the host sends";
/// TIME-WAIT's end was dropped instead, even when the host sent again later.
#[test]
fn a_timer_state_change_rides_on_the_next_frame() {
    let extra = "[[app]]\nname = \"hello2\"\nhost = \"client\"\nkind = \"tcp_rr\"\ndst = \"server\"\nport = 7\n\
                 requests = 1\ntext = \"again\"\nstart = \"500ms\"";
    let text = hello("tw2", extra).replace("tcp_time_wait = \"1s\"", "tcp_time_wait = \"100ms\"");
    let out = run_text(&text);
    let client = frames(&out, "client");
    assert!(client.iter().any(|(_, l, _)| l.contains("58628")), "a second connection later");
    assert!(
        client.iter().any(|(_, _, c)| c.contains("TIME-WAIT -> CLOSED")),
        "TIME-WAIT's end is told nowhere: {client:#?}"
    );
}
