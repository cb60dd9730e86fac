//! Live TCP against Linux over a TAP device, each test in a network namespace of its own: echo through `nc`,
//! `curl` against the HTTP mode, bulk transfers both ways (also under seeded loss and reordering), refused
//! connections, and 100 concurrent connections. Skipped loudly without root/tools, unless CI=true.

mod common;

use common::{field, random_file, run, sha256_file, text, Netns, Synack, LINUX_IP, SYNACK_IP};
use std::fs::File;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

fn synack_addr(port: u16) -> SocketAddr {
    SocketAddr::new(SYNACK_IP.parse().unwrap(), port)
}

/// Sends `input` to synack's `port` with `nc -N` and returns the sha256 of what came back.
fn nc_roundtrip(ns: &Netns, port: u16, input: &Path) -> String {
    let output = common::TempPath(input.with_extension("back"));
    run(ns
        .cmd("timeout")
        .args(["60", "nc", "-N", SYNACK_IP, &port.to_string()])
        .stdin(File::open(input).unwrap())
        .stdout(File::create(&*output).unwrap()));
    sha256_file(&output)
}

#[test]
fn nc_echo_1mb_round_trip() {
    if !common::live("tcp-echo", &["nc", "sha256sum"]) {
        return;
    }
    let ns = Netns::with_tap("echo");
    let mut synack = Synack::start(&ns, &["--max-connections", "1", "echo"]);
    let input = random_file("echo-1mb", 1 << 20);
    let t = Instant::now();
    assert_eq!(nc_roundtrip(&ns, 7, &input), sha256_file(&input), "1 MB echoed back unchanged");
    eprintln!("1 MB echo round trip via nc: {:?}", t.elapsed());
    let line = synack.expect_line("echo:", Duration::from_secs(10));
    assert!(line.starts_with("echo: 1048576 bytes echoed"), "{line}");
    assert!(synack.wait(Duration::from_secs(10)).is_some_and(|s| s.success()), "{}", synack.stderr_text());
}

#[test]
fn curl_gets_pages_from_http_mode() {
    if !common::live("curl", &["curl"]) {
        return;
    }
    let ns = Netns::with_tap("curl");
    let mut synack = Synack::start(&ns, &["--max-connections", "3", "http"]);
    let curl = |path: &str| {
        let url = format!("http://{SYNACK_IP}{path}");
        let out = run(ns.cmd("curl").args(["-sS", "--fail", "--max-time", "20", "-D", "/dev/stderr", &url]));
        (out.stdout, text(&out.stderr))
    };
    let (body, headers) = curl("/");
    assert_eq!(text(&body), "hello from synack, a user-space TCP/IP stack\n");
    assert!(headers.starts_with("HTTP/1.1 200 OK\r\n") && headers.contains("Content-Length: 45"), "{headers}");
    let (body, _) = curl("/bytes/1000000");
    assert_eq!(body.len(), 1_000_000);
    assert!(body.iter().enumerate().all(|(i, b)| usize::from(*b) == i % 251), "pattern intact");
    let mut c = ns.cmd("curl");
    c.args(["-sS", "--max-time", "20", "-o", "/dev/null", "-w", "%{http_code}"]).arg(format!("http://{SYNACK_IP}/x"));
    assert_eq!(text(&run(&mut c).stdout), "404");
    // After its third connection the server finishes (each connection first reads curl's FIN) and exits.
    assert!(synack.wait(Duration::from_secs(20)).is_some_and(|s| s.success()), "{}", synack.stderr_text());
    // One summary line, no line per request (that is --verbose).
    let lines = synack.collect();
    let summary = "http: 3 requests answered (3 connections): 2 × 200 OK, 1 × 404 Not Found";
    assert!(lines.iter().any(|l| l == summary), "{lines:?}");
    assert!(!lines.iter().any(|l| l.starts_with("http: GET")), "{lines:?}");
}

/// Starts `nc -l` on the Linux side writing to `out`; returns once it listens.
fn linux_nc_listen(ns: &Netns, port: u16, out: &Path) -> std::process::Child {
    let mut child = ns
        .cmd("timeout")
        .args(["120", "nc", "-l", LINUX_IP, &port.to_string()])
        .stdin(Stdio::null())
        .stdout(File::create(out).unwrap())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        let ss = run(ns.cmd("ss").args(["-Htln", &format!("sport = :{port}")]));
        if !ss.stdout.is_empty() {
            return child;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("nc -l did not start listening");
}

/// synack `send`s `bytes` to a Linux `nc -l`; returns (synack's sha, Linux's sha, synack's report line).
fn synack_sends(ns: &Netns, bin: &Path, bytes: u64, extra: &[&str]) -> (String, String, String) {
    let out = common::TempPath::new(&format!("{}.recv", ns.name));
    let nc = linux_nc_listen(ns, 5001, &out);
    let to = format!("{LINUX_IP}:5001");
    let mut synack =
        Synack::start_bin(ns, bin, &[extra, &["send", "--connect", &to, "--bytes", &bytes.to_string()]].concat());
    let line = synack.expect_line("sent ", Duration::from_secs(150));
    let status = synack.wait(Duration::from_secs(10));
    assert!(status.is_some_and(|s| s.success()), "{status:?} {}", synack.stderr_text());
    let nc = nc.wait_with_output().unwrap();
    assert!(nc.status.success(), "nc -l: {} {}", nc.status, text(&nc.stderr));
    let linux_sha = sha256_file(&out);
    // The report line, then synack-tap's exit stats.
    let report = format!("{line}\n{}", synack.collect().join("\n"));
    (field(&line, "sha256").to_string(), linux_sha, report)
}

/// From synack-tap's stats: the device's (frames read, frames written).
fn device_frames(stats: &str) -> (u64, u64) {
    let line = stats.lines().find_map(|l| l.trim().strip_prefix("device: ")).unwrap_or_else(|| panic!("{stats}"));
    let numbers: Vec<u64> = line.split(|c: char| !c.is_ascii_digit()).filter_map(|w| w.parse().ok()).collect();
    (numbers[0], numbers[1])
}

#[test]
fn synack_sends_10mb_to_linux_nc() {
    if !common::live("send-10mb", &["nc", "ss", "sha256sum"]) {
        return;
    }
    let ns = Netns::with_tap("send");
    let (ours, theirs, line) = synack_sends(&ns, &common::synack_tap_bin(), 10_000_000, &[]);
    eprintln!("{line}");
    assert_eq!(ours, theirs, "{line}");
    assert!(line.starts_with("sent 10000000 bytes"), "{line}");
}

#[test]
fn connect_to_a_closed_port_while_listening_elsewhere_is_refused() {
    if !common::live("tcp-refused", &[]) {
        return;
    }
    let ns = Netns::with_tap("tcprefused");
    let synack = Synack::start(&ns, &["echo", "--port", "7"]);
    let linux = ns.within(|| {
        let err = TcpStream::connect_timeout(&synack_addr(8), Duration::from_secs(5)).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused, "{err}");
        // The listening port still works.
        let mut s = TcpStream::connect_timeout(&synack_addr(7), Duration::from_secs(5)).unwrap();
        s.write_all(b"still here").unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        let mut back = String::new();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.read_to_string(&mut back).unwrap();
        assert_eq!(back, "still here");
    });
    linux.join().unwrap();
    synack.stop();
}

#[test]
fn synack_refuses_and_reports_a_closed_linux_port() {
    if !common::live("tcp-refused-out", &[]) {
        return;
    }
    let ns = Netns::with_tap("refusedout");
    let mut synack =
        Synack::spawn(&ns, &common::synack_tap_bin(), &["send", "--connect", "10.77.0.1:5999", "--bytes", "1"]);
    let status = synack.wait(Duration::from_secs(15));
    assert!(status.is_some_and(|s| !s.success()), "{status:?}");
    assert!(synack.stderr_text().contains("connection refused"), "{}", synack.stderr_text());
}

#[test]
fn hundred_concurrent_linux_connections_are_all_served() {
    if !common::live("concurrent", &[]) {
        return;
    }
    let ns = Netns::with_tap("concurrent");
    let mut synack = Synack::start(&ns, &["--max-connections", "100", "--verbose", "echo"]);
    let linux = ns.within(|| {
        // Threads spawned here inherit the namespace. All connect first, then all talk at once.
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(100));
        let clients: Vec<_> = (0..100u32)
            .map(|i| {
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    let mut s = TcpStream::connect_timeout(&synack_addr(7), Duration::from_secs(10))
                        .unwrap_or_else(|e| panic!("client {i}: {e}"));
                    // Generous: a client whose segments the TAP queue dropped several times waits out RTO backoff.
                    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
                    barrier.wait();
                    let msg: Vec<u8> = (0..20_000u32).map(|j| (i * 31 + j) as u8).collect();
                    s.write_all(&msg).unwrap();
                    s.shutdown(Shutdown::Write).unwrap();
                    let mut back = Vec::new();
                    s.read_to_end(&mut back).unwrap_or_else(|e| panic!("client {i}: {e}"));
                    assert_eq!(back, msg, "client {i}");
                })
            })
            .collect();
        clients.into_iter().map(|c| c.join().is_ok()).filter(|ok| *ok).count()
    });
    assert_eq!(linux.join().unwrap(), 100, "every client got its bytes back");
    assert!(synack.wait(Duration::from_secs(20)).is_some_and(|s| s.success()), "{}", synack.stderr_text());
    let lines = synack.collect();
    // --verbose: a line per connection, then the summary.
    assert_eq!(lines.iter().filter(|l| l.starts_with("echo: 20000 bytes echoed (peer ")).count(), 100, "{lines:?}");
    assert!(lines.iter().any(|l| l == "echo: 2000000 bytes echoed (100 connections)"), "{lines:?}");
}

/// Megabytes per direction for the impaired bulk test: the issue's 100 MB by default (about 40 s: synack's
/// sender runs at ~20 Mbit/s under 5% loss both ways, Linux's into synack at ~500 Mbit/s); SYNACK_LIVE_BULK_MB
/// lowers it for quick runs.
fn impaired_mb() -> u64 {
    std::env::var("SYNACK_LIVE_BULK_MB").ok().and_then(|v| v.parse().ok()).unwrap_or(100)
}

/// Linux `nc` sends `input` to a running `synack-tap ... recv`; checks the sha256 synack reports and that it
/// exits cleanly; returns its report line and its stats.
fn linux_sends_to_recv(ns: &Netns, mut synack: Synack, input: &Path) -> (String, String) {
    run(ns
        .cmd("timeout")
        .args(["150", "nc", "-N", SYNACK_IP, "5001"])
        .stdin(File::open(input).unwrap())
        .stdout(Stdio::null()));
    let line = synack.expect_line("received", Duration::from_secs(30));
    assert!(synack.wait(Duration::from_secs(10)).is_some_and(|s| s.success()), "{}", synack.stderr_text());
    let stats = synack.collect().join("\n");
    assert_eq!(field(&line, "sha256"), sha256_file(input), "Linux -> synack: {line}");
    (line, stats)
}

/// Moves `mb` megabytes each way at once, in two namespaces: Linux `nc` -> synack `recv`, and synack `send` ->
/// Linux `nc -l`; checks both sha256s and returns the two report lines and the receiver's stats.
fn bulk_both_ways(tag: &str, mb: u64, impair: &'static [&'static str]) -> (String, String, String) {
    let bytes = mb * 1_000_000;
    let bin = common::synack_tap_bin();
    let sender_bin = bin.clone();
    let out_tag = format!("{tag}out");
    let sender = std::thread::spawn(move || {
        let ns = Netns::with_tap(&out_tag);
        synack_sends(&ns, &sender_bin, bytes, impair)
    });
    let ns = Netns::with_tap(&format!("{tag}in"));
    let synack = Synack::start_bin(&ns, &bin, &[impair, &["--max-connections", "1", "recv"]].concat());
    let input = random_file(&ns.name, bytes as usize);
    let (line, stats) = linux_sends_to_recv(&ns, synack, &input);
    assert_eq!(field(&line, "received"), bytes.to_string());
    let (ours, theirs, out_line) = sender.join().unwrap();
    assert_eq!(ours, theirs, "synack -> Linux: {out_line}");
    eprintln!("{mb} MB Linux -> synack {impair:?}: {line}");
    eprintln!("{mb} MB synack -> Linux {impair:?}: {out_line}");
    (line, out_line, stats)
}

#[test]
fn bulk_100mb_each_direction() {
    if !common::live("bulk", &["nc", "ss", "sha256sum"]) {
        return;
    }
    bulk_both_ways("bulk", 100, &[]);
}

#[test]
fn bulk_100mb_each_direction_with_offload() {
    if !common::live("bulk-offload", &["nc", "ss", "sha256sum"]) {
        return;
    }
    let (line, out, stats) = bulk_both_ways("offl", 100, &["--offload"]);
    // Large segments both ways: far fewer reads and writes than the ~68,500 full-sized frames of 100 MB.
    let (reads, _) = device_frames(&stats);
    assert!(reads < 30_000, "{reads} frames read for 100 MB with --offload: {line}\n{stats}");
    let (_, writes) = device_frames(&out);
    assert!(writes < 30_000, "{writes} frames written for 100 MB with --offload: {out}");
    // Linux's own segments come with their checksums left to the device: the stack takes them unverified
    // (and, sha256 equal, nothing was lost by it).
    let trusted: u64 = stats
        .lines()
        .find_map(|l| l.strip_prefix("TCP/UDP checksums left to the device: "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    assert!(trusted > reads / 2, "{trusted} of {reads} frames taken with the device's checksum: {stats}");
}

#[test]
fn plain_mode_after_offload_mode_on_the_same_device_gets_whole_checksums() {
    // Offloads belong to the (persistent) device, not to the descriptor: a plain reader after an --offload one
    // must not get frames whose checksums Linux left unfinished.
    if !common::live("offload-reset", &["nc", "ss", "sha256sum"]) {
        return;
    }
    let ns = Netns::with_tap("offrst");
    let input = random_file(&ns.name, 3_000_000);
    for args in [&["--offload"][..], &[][..], &["--offload"][..]] {
        let synack = Synack::start(&ns, &[args, &["--max-connections", "1", "recv"]].concat());
        let (_, stats) = linux_sends_to_recv(&ns, synack, &input);
        assert!(!stats.contains("bad checksum"), "{args:?}: {stats}");
    }
}

#[test]
fn bulk_both_directions_under_loss_and_reordering() {
    if !common::live("bulk-impaired", &["nc", "ss", "sha256sum"]) {
        return;
    }
    let impair = &["--loss", "0.05", "--reorder", "0.02", "--seed", "11"];
    let (_, _, stats) = bulk_both_ways("lossy", impaired_mb(), impair);
    assert!(stats.contains("impairment in:") && stats.contains("dropped"), "impairments were active: {stats}");
}

/// The examples built beside this test binary (`target/<profile>/examples/`).
fn example(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap().join("examples");
    dir.join(name)
}

#[test]
fn examples_talk_synack_to_synack_over_a_bridge() {
    if !common::live("examples", &[]) {
        return;
    }
    let (server_bin, client_bin) = (example("echo_server"), example("echo_client"));
    if !server_bin.exists() || !client_bin.exists() {
        assert!(!common::ci(), "examples not built at {}", server_bin.display());
        common::loud("SKIPPED: examples not built (`cargo test` builds them, `cargo test --test live_tcp` does not)");
        return;
    }
    let ns = Netns::new("examples");
    ns.ip(&["link", "add", "br0", "type", "bridge"]);
    ns.ip(&["link", "set", "br0", "up"]);
    for tap in ["tap0", "tap1"] {
        ns.ip(&["tuntap", "add", "dev", tap, "mode", "tap"]);
        ns.ip(&["link", "set", tap, "master", "br0"]);
        ns.ip(&["link", "set", tap, "up"]);
    }
    let mut server = ns
        .cmd("timeout")
        .arg("30")
        .arg(&server_bin)
        .args(["--tap", "tap0", "--ip", "10.77.0.2/24", "--port", "7"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(server.stdout.as_mut().unwrap()), &mut first).unwrap();
    assert!(first.starts_with("echoing"), "{first}");
    let out = run(ns.cmd("timeout").arg("20").arg(&client_bin).args([
        "--tap",
        "tap1",
        "--ip",
        "10.77.0.3/24",
        "--connect",
        "10.77.0.2:7",
        "synack to synack",
    ]));
    assert_eq!(text(&out.stdout), "synack to synack\n");
    let _ = server.kill();
    let _ = server.wait();
}

/// An HTTP load generator cycling through a few hundred client ports against `synack-tap http`, which closes
/// first and so keeps each four-tuple in TIME-WAIT: Linux reuses a port whose four-tuple synack still holds,
/// and synack must open the new connection at once (RFC 6191 by timestamp or sequence number, as Linux does),
/// not answer with a challenge ACK that makes Linux reset and retransmit its SYN after a second.
#[test]
fn http_load_reusing_client_ports_never_retransmits_a_syn() {
    if !common::live("http_load", &["ab", "nstat"]) {
        return;
    }
    // 3,000 in CI; the issue's 20,000 with SYNACK_LIVE_HTTP_REQUESTS=20000.
    let requests: u64 =
        std::env::var("SYNACK_LIVE_HTTP_REQUESTS").ok().and_then(|v| v.parse().ok()).unwrap_or(3000).max(300);
    let ns = Netns::with_tap("abload");
    // 300 client ports: every port is reused ten times (at 3,000) within synack's 60 s TIME-WAIT.
    run(ns.cmd("sysctl").args(["-qw", "net.ipv4.ip_local_port_range=40000 40299"]));
    run(ns.cmd("nstat").args(["-n"]));
    let max = requests.to_string();
    let limit = (150 + requests / 20).to_string();
    let mut synack = Synack::start(&ns, &["--max-connections", &max, "http"]);
    let url = format!("http://{SYNACK_IP}/");
    let ab = run(ns.cmd("timeout").args([limit.as_str(), "ab", "-q", "-n", &max, "-c", "8", "-s", "20", &url]));
    let report = text(&ab.stdout);
    let ab_field = |name: &str| {
        report.lines().find(|l| l.starts_with(name)).and_then(|l| l.split_whitespace().nth(2)).map(str::to_string)
    };
    assert_eq!(ab_field("Complete requests:").as_deref(), Some(max.as_str()), "{report}");
    assert_eq!(ab_field("Failed requests:").as_deref(), Some("0"), "{report}");
    let nstat = text(&run(ns.cmd("nstat").args(["-az", "TcpExtTCPSynRetrans", "TcpRetransSegs"])).stdout);
    let counter = |name: &str| {
        nstat.lines().find(|l| l.starts_with(name)).and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
    };
    let longest: Option<u64> = report
        .lines()
        .find(|l| l.contains("(longest request)"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok());
    let syn_retrans = counter("TcpExtTCPSynRetrans");
    eprintln!(
        "http load: {} complete, {} failed, longest {longest:?} ms, Linux TcpExtTCPSynRetrans {syn_retrans:?}",
        ab_field("Complete requests:").unwrap_or_default(),
        ab_field("Failed requests:").unwrap_or_default(),
    );
    // A SYN answered by a challenge ACK instead of a new connection costs Linux a retransmission after its 1 s
    // initial RTO: no request may take that long. The broken reuse this guards against retransmitted thousands
    // of SYNs; CI runs counted up to 2 with every request done within 16 ms, and up to 7 once the server was
    // fast: Linux reusing a port within the millisecond of the old connection's last segment sends a SYN whose
    // timestamp equals TS.Recent, which synack challenged until it let the sequence number decide, as Linux
    // does. 0 in every run since; up to 2 still pass, loudly.
    assert!(longest.is_some_and(|ms| ms < 1000), "a request waited for a SYN retransmission:\n{nstat}\n{report}");
    let syn_retrans = syn_retrans.expect("nstat reports TcpExtTCPSynRetrans");
    if syn_retrans > 0 {
        eprintln!("!!!!! Linux counted {syn_retrans} SYN retransmissions (no request slowed by one):\n{nstat}");
    }
    assert!(syn_retrans <= 2, "Linux retransmitted SYNs:\n{nstat}\n{report}");
    assert!(synack.wait(Duration::from_secs(30)).is_some_and(|s| s.success()), "{}", synack.stderr_text());
    let stats = synack.collect().join("\n");
    assert!(stats.contains("TIME-WAIT reused"), "synack's stats name the reuse: {stats}");
}

/// With ECN agreed, every window reduction sends CWR on the next new data segment (RFC 3168 §6.1.2: for a
/// loss too, not only for an echo). Under `--loss` the reductions are fast retransmits and timeouts; with
/// `--offload` the CWR segment is a large frame that Linux cuts, asked for with `VIRTIO_NET_HDR_GSO_ECN`. Linux
/// takes it all: the data arrives intact, and synack's capture shows Linux's ECN-setup SYN-ACK and CWRs (on
/// ECT(0) data) from synack. The seed keeps the impairment off the handshake (a lost ECN-setup SYN makes the
/// retransmitted one ask for nothing).
#[test]
fn ecn_sender_with_offload_under_loss_sends_cwr_and_delivers_intact() {
    if !common::live("ecn-offload", &["nc", "ss", "sha256sum", "tshark"]) {
        return;
    }
    let ns = Netns::with_tap("ecnoffl");
    let pcap = common::TempPath::new(&format!("{}.pcapng", ns.name));
    let pcap_s = pcap.to_str().unwrap();
    let args = ["--ecn", "on", "--offload", "--loss", "0.05", "--seed", "7", "--pcap", pcap_s];
    let (ours, theirs, report) = synack_sends(&ns, &common::synack_tap_bin(), 20_000_000, &args);
    let line = report.lines().next().unwrap_or_default();
    assert_eq!(ours, theirs, "{report}");
    let count = |filter: &str| {
        let out = run(std::process::Command::new("tshark").args(["-n", "-r", pcap_s, "-Y", filter]));
        text(&out.stdout).lines().count()
    };
    let syn_ack = format!("ip.src == {LINUX_IP} && tcp.flags.syn == 1 && tcp.flags.ece == 1 && tcp.flags.cwr == 0");
    assert_eq!(count(&syn_ack), 1, "Linux agreed to ECN: {report}");
    let cwr = format!("ip.src == {SYNACK_IP} && tcp.flags.cwr == 1 && tcp.flags.syn == 0 && ip.dsfield.ecn == 2");
    let cwrs = count(&cwr);
    let retransmissions = count(&format!("ip.src == {SYNACK_IP} && tcp.analysis.retransmission"));
    eprintln!("{line}: {cwrs} CWR segments, {retransmissions} retransmissions");
    assert!(cwrs >= 1 && retransmissions >= 1, "{cwrs} CWR, {retransmissions} retransmissions: {report}");
}
