//! `synack-tap serve` against Linux's own clients, in a network namespace of its own: TCP echo, discard,
//! daytime and chargen with `nc`, UDP echo, discard, daytime and chargen with `nc -u`, HTTP with `curl`, ICMP
//! with `ping`; then the switches. Skipped loudly without root/tools, unless CI=true.

mod common;

use common::{random_file, run, sha256_file, text, Netns, Synack, SYNACK_IP};
use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::Stdio;
use std::time::Duration;

/// `nc` to synack's TCP `port` with `input` (then FIN, `-N`); returns what came back.
fn nc_tcp(ns: &Netns, port: u16, input: Option<&std::path::Path>) -> Vec<u8> {
    let mut cmd = ns.cmd("timeout");
    cmd.args(["30", "nc"]);
    match input {
        Some(path) => cmd.arg("-N").stdin(File::open(path).unwrap()),
        None => cmd.stdin(Stdio::null()),
    };
    run(cmd.args([SYNACK_IP, &port.to_string()])).stdout
}

/// One datagram to synack's UDP `port` with `nc -u`; returns what came back within a second.
fn nc_udp(ns: &Netns, port: u16, msg: &[u8]) -> Vec<u8> {
    let mut nc = ns
        .cmd("timeout")
        .args(["10", "nc", "-u", "-w", "1", SYNACK_IP, &port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Dropping stdin after the write closes it: nc sends one datagram, prints the answer, exits when idle.
    nc.stdin.take().unwrap().write_all(msg).unwrap();
    nc.wait_with_output().unwrap().stdout
}

/// RFC 864's stream: lines of 72 of the 95 printable characters, each line starting one further, CRLF.
fn chargen(len: usize) -> Vec<u8> {
    (0..len)
        .map(|k| match k % 74 {
            72 => b'\r',
            73 => b'\n',
            col => ((k / 74 + col) % 95 + 32) as u8,
        })
        .collect()
}

/// A daytime answer: `Weekday, Month D, YYYY HH:MM:SS-UTC` and CRLF, this year.
fn assert_daytime(answer: &[u8]) {
    let answer = text(answer);
    let year =
        1970 + std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() / 31_556_952;
    assert!(answer.ends_with("-UTC\r\n") && answer.contains(", "), "{answer:?}");
    assert!(answer.contains(&year.to_string()) || answer.contains(&(year - 1).to_string()), "{answer:?}");
}

#[test]
fn serve_answers_each_classic_service_to_linux_clients() {
    if !common::live("serve", &["nc", "curl", "ping", "sha256sum"]) {
        return;
    }
    let ns = Netns::with_tap("serve");
    let mut synack = Synack::start(&ns, &["serve", "--chargen-bytes", "200000"]);
    // One line per service, what listens where; udp-chargen's is the last.
    synack.expect_line("ready: udp-chargen on 10.77.0.2:19", Duration::from_secs(5));
    for want in ["echo on 10.77.0.2:7", "discard on 10.77.0.2:9", "http on 10.77.0.2:80", "udp-echo on 10.77.0.2:7"] {
        assert!(synack.seen.iter().any(|l| *l == format!("ready: {want}")), "{want}: {:?}", synack.seen);
    }
    assert!(synack.seen.iter().any(|l| l == "ready: chargen on 10.77.0.2:19 (200000 bytes per connection)"));

    // TCP echo (RFC 862): 300 KB back unchanged.
    let input = random_file("serve-echo", 300_000);
    let back = common::TempPath(input.with_extension("back"));
    std::fs::write(&*back, nc_tcp(&ns, 7, Some(&input))).unwrap();
    assert_eq!(sha256_file(&back), sha256_file(&input), "echo");
    // Discard (RFC 863): 1 MB in, nothing back, closed when the client closes.
    let big = random_file("serve-discard", 1_000_000);
    assert!(nc_tcp(&ns, 9, Some(&big)).is_empty(), "discard answers nothing");
    // Daytime (RFC 867): the server says the time and closes first.
    assert_daytime(&nc_tcp(&ns, 13, None));
    // Chargen (RFC 864): exactly --chargen-bytes of the rotating lines, then the server closes.
    let got = nc_tcp(&ns, 19, None);
    assert_eq!(got.len(), 200_000, "chargen is bounded by --chargen-bytes");
    assert!(got == chargen(200_000), "chargen's lines");
    // HTTP with curl.
    let curl = |path: &str| {
        run(ns.cmd("curl").args(["-sS", "--fail", "--max-time", "20", &format!("http://{SYNACK_IP}{path}")])).stdout
    };
    assert_eq!(text(&curl("/")), "hello from synack, a user-space TCP/IP stack\n");
    let body = curl("/bytes/300000");
    assert!(body.len() == 300_000 && body.iter().enumerate().all(|(i, b)| usize::from(*b) == i % 251), "pattern");

    // UDP: echo, discard (no answer), daytime, chargen (six lines per datagram).
    assert_eq!(nc_udp(&ns, 7, b"hello over udp\n"), b"hello over udp\n");
    assert!(nc_udp(&ns, 9, b"into the void\n").is_empty());
    assert_daytime(&nc_udp(&ns, 13, b"time?\n"));
    assert_eq!(nc_udp(&ns, 19, b"chars?\n"), chargen(6 * 74), "the first UDP chargen answer");
    // ICMP, as always.
    run(ns.cmd("ping").args(["-c", "2", "-i", "0.2", "-W", "2", "-q", SYNACK_IP]));

    let lines = synack.stop();
    for want in [
        "echo: 300000 bytes echoed (1 connection)",
        "discard: 1000000 bytes discarded (1 connection)",
        "daytime: 1 connection",
        "chargen: 200000 bytes sent (1 connection)",
        "http: 2 requests answered (2 connections): 2 × 200 OK",
        "udp-echo: 1 datagrams echoed",
        "udp-discard: 1 datagrams discarded",
        "udp-daytime: 1 datagrams answered",
        "udp-chargen: 1 datagrams answered",
        "ICMP echo replies sent: 2",
    ] {
        assert!(lines.iter().any(|l| l.trim() == want), "no line {want:?} in {lines:?}");
    }
    // Quiet by default: no line per connection.
    assert!(!lines.iter().any(|l| l.contains("(peer ")), "{lines:?}");
}

#[test]
fn serve_switches_services_off_and_verbose_names_each_connection() {
    if !common::live("serve-switches", &["nc", "curl"]) {
        return;
    }
    let ns = Netns::with_tap("servesw");
    let mut synack = Synack::start(&ns, &["serve", "--no-http", "--no-udp", "--no-chargen", "--verbose"]);
    if !synack.seen.iter().any(|l| l.starts_with("ready: daytime")) {
        synack.expect_line("ready: daytime on 10.77.0.2:13", Duration::from_secs(5));
    }
    assert_daytime(&nc_tcp(&ns, 13, None));
    // HTTP is off: nobody listens on port 80 (synack resets the SYN).
    let mut c = ns.cmd("curl");
    c.args(["-sS", "--max-time", "10", &format!("http://{SYNACK_IP}/")]);
    let out = c.output().unwrap();
    // curl's exit code 7: it could not connect.
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));
    let input = random_file("servesw-echo", 5000);
    assert_eq!(nc_tcp(&ns, 7, Some(&input)), std::fs::read(&*input).unwrap());
    let lines = synack.stop();
    let ready: Vec<&String> = lines.iter().filter(|l| l.starts_with("ready:")).collect();
    assert_eq!(ready.len(), 3, "echo, discard, daytime over TCP only: {lines:?}");
    assert!(lines.iter().any(|l| l.starts_with("daytime: ") && l.contains("bytes sent (peer 10.77.0.1:")), "{lines:?}");
    assert!(lines.iter().any(|l| l.starts_with("echo: 5000 bytes echoed (peer ")), "{lines:?}");
}

/// What Linux's end of an open connection sees when synack-tap is stopped by a signal: an exiting Linux process
/// has its sockets closed by the kernel, and the peer learns the connection is gone. synack-tap used to exit
/// leaving its peers' connections established, retransmitting into a TAP nobody read.
#[test]
fn sigterm_tells_open_connections_they_are_gone() {
    if !common::live("stop-peers", &[]) {
        return;
    }
    let ns = Netns::with_tap("stoppeers");
    let mut synack = Synack::start(&ns, &["echo"]);
    let addr = format!("{SYNACK_IP}:7");
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let linux = ns.within(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(b"hi").unwrap();
        let mut buf = [0u8; 2];
        s.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"hi");
        tx.send(()).unwrap();
        // synack-tap is stopped now: the connection should end (EOF or reset) well within 5 s.
        std::thread::sleep(Duration::from_millis(500));
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        match s.read(&mut buf) {
            Ok(0) => Ok("FIN"),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => Ok("RST"),
            other => Err(format!("the connection is still open after synack-tap exited: {other:?}")),
        }
    });
    rx.recv_timeout(Duration::from_secs(10)).expect("echo round trip");
    // SAFETY: kill takes no pointers; the pid is our own child, synack-tap.
    unsafe { libc::kill(synack.pid() as i32, libc::SIGTERM) };
    assert!(synack.wait(Duration::from_secs(15)).is_some(), "synack-tap did not stop on SIGTERM");
    let outcome = linux.join().unwrap();
    assert!(outcome.is_ok(), "{outcome:?}");
}
