//! Live tests of everything below TCP's connection engine, against Linux over a TAP device in a network namespace
//! of each test's own: ping, UDP echo (binary and library), refused connections, the pcapng capture, and the error
//! messages. Skipped loudly without root//dev/net/tun/tools, unless CI=true.

mod common;

use common::{field, run, text, Netns, Synack, LINUX_IP, SYNACK_IP, TAP};
use std::net::{SocketAddr, UdpSocket};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use synack_tap::{Driver, DriverConfig};

#[test]
fn linux_pings_synack_100_times_without_loss() {
    if !common::live("ping", &["ping"]) {
        return;
    }
    let ns = Netns::new("ping");
    // This test lets synack-tap create the TAP device itself (the others attach to a pre-made one).
    let synack = Synack::start_creating(&ns, &["udp-echo"]);
    let out = run(ns.cmd("ping").args(["-c", "100", "-i", "0.01", "-W", "2", "-q", SYNACK_IP]));
    let summary = text(&out.stdout);
    eprintln!("{summary}");
    assert!(summary.contains("100 packets transmitted, 100 received, 0% packet loss"), "{summary}");
    let lines = synack.stop();
    assert!(lines.iter().any(|l| l == "ICMP echo replies sent: 100"), "{lines:?}");
}

#[test]
fn linux_nc_udp_echo() {
    if !common::live("udp-nc", &["nc"]) {
        return;
    }
    let ns = Netns::with_tap("udpnc");
    let synack = Synack::start(&ns, &["udp-echo"]);
    let mut nc = ns
        .cmd("timeout")
        .args(["10", "nc", "-u", "-w", "1", SYNACK_IP, "7"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Dropping stdin after the write closes it: nc sends one datagram, prints the echo, exits when idle.
    std::io::Write::write_all(&mut nc.stdin.take().unwrap(), b"hello synack\n").unwrap();
    let out = nc.wait_with_output().unwrap();
    assert_eq!(text(&out.stdout), "hello synack\n");
    let lines = synack.stop();
    assert!(lines.iter().any(|l| l == "udp-echo: 1 datagrams echoed"), "{lines:?}");
}

#[test]
fn linux_sockets_udp_echo_all_sizes() {
    if !common::live("udp-sizes", &[]) {
        return;
    }
    let ns = Netns::with_tap("udpsizes");
    let synack = Synack::start(&ns, &["udp-echo", "--port", "7777"]);
    let linux = ns.within(|| {
        let sock = UdpSocket::bind((LINUX_IP, 0)).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut buf = vec![0u8; 2048];
        for i in 0..300usize {
            let len = (i * 37) % 1473; // 0..=1472: up to a full 1500-byte IP datagram
            let msg: Vec<u8> = (0..len).map(|j| (i + j) as u8).collect();
            sock.send_to(&msg, (SYNACK_IP, 7777)).unwrap();
            let (n, from) = sock.recv_from(&mut buf).unwrap_or_else(|e| panic!("datagram {i} ({len} bytes): {e}"));
            assert_eq!(&buf[..n], &msg[..], "datagram {i}");
            assert_eq!(from.to_string(), format!("{SYNACK_IP}:7777"));
        }
    });
    linux.join().unwrap();
    let lines = synack.stop();
    assert!(lines.iter().any(|l| l == "udp-echo: 300 datagrams echoed"), "{lines:?}");
}

#[test]
fn library_udp_socket_on_a_live_tap() {
    if !common::live("lib-udp", &[]) {
        return;
    }
    let ns = Netns::new("libudp");
    let path = std::path::PathBuf::from("/var/run/netns").join(&ns.name);
    // The driver opens (creates) the TAP device from a thread inside the namespace.
    let (tx, rx) = std::sync::mpsc::channel();
    let synack = std::thread::spawn(move || {
        common::enter(&path);
        let config = DriverConfig {
            stack: synack::Config { ipv4: format!("{SYNACK_IP}/24").parse().unwrap(), ..synack::Config::default() },
            ..DriverConfig::default()
        };
        let driver = Driver::open_tap(TAP, config).unwrap();
        let sock = synack_tap::UdpSocket::bind(&driver.handle(), "0.0.0.0:5353".parse().unwrap()).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        tx.send(()).unwrap();
        let mut buf = [0u8; 1500];
        for _ in 0..10 {
            let (n, from) = sock.recv_from(&mut buf).unwrap();
            let reply: Vec<u8> = buf[..n].iter().rev().copied().collect();
            sock.send_to(&reply, from).unwrap();
        }
        driver.stop()
    });
    rx.recv_timeout(Duration::from_secs(5)).unwrap();
    ns.linux_side_up();
    ns.wait_link_up();
    let linux = ns.within(|| {
        let sock = UdpSocket::bind((LINUX_IP, 0)).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        for i in 0..10 {
            let msg = format!("ping {i}");
            sock.send_to(msg.as_bytes(), (SYNACK_IP, 5353)).unwrap();
            let mut buf = [0u8; 64];
            let (n, _) = sock.recv_from(&mut buf).unwrap();
            assert_eq!(buf[..n].iter().rev().copied().collect::<Vec<u8>>(), msg.as_bytes());
        }
    });
    linux.join().unwrap();
    let report = synack.join().unwrap();
    assert_eq!(report.stack.udp_datagrams_received, 10, "{report}");
}

#[test]
fn connecting_to_a_closed_port_is_refused() {
    if !common::live("refused", &["nc"]) {
        return;
    }
    let ns = Netns::with_tap("refused");
    let synack = Synack::start(&ns, &["udp-echo"]);
    let linux = ns.within(|| {
        let to: SocketAddr = format!("{SYNACK_IP}:4242").parse().unwrap();
        let t = Instant::now();
        let err = std::net::TcpStream::connect_timeout(&to, Duration::from_secs(5)).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused, "{err}");
        t.elapsed()
    });
    let took = linux.join().unwrap();
    assert!(took < Duration::from_secs(1), "refusal took {took:?}");
    let out =
        ns.cmd("timeout").args(["10", "nc", "-v", "-w", "3", SYNACK_IP, "4243"]).stdin(Stdio::null()).output().unwrap();
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("refused"), "{}", text(&out.stderr));
    let lines = synack.stop();
    assert!(lines.iter().any(|l| l == "TCP resets sent: 2"), "{lines:?}");
}

#[test]
fn pcap_capture_passes_tshark_validation() {
    if !common::live("pcap", &["tshark", "ping", "nc"]) {
        return;
    }
    let ns = Netns::with_tap("pcap");
    let pcap = common::TempPath::new(&format!("{}.pcapng", ns.name));
    let pcap_s = pcap.to_str().unwrap();
    // Impairments on, so the capture also carries dropped/duplicated/late frames and their comments.
    let impair = ["--loss", "0.1", "--duplicate", "0.1", "--reorder", "0.1", "--seed", "3"];
    let synack = Synack::start(&ns, &[&["--pcap", pcap_s][..], &impair, &["udp-echo"]].concat());
    let _ = ns.cmd("ping").args(["-c", "50", "-i", "0.01", "-W", "1", "-q", SYNACK_IP]).output().unwrap();
    let linux = ns.within(|| {
        let sock = UdpSocket::bind((LINUX_IP, 0)).unwrap();
        for i in 0..50u32 {
            sock.send_to(&i.to_be_bytes().repeat(100), (SYNACK_IP, 7)).unwrap();
        }
        let _ = std::net::TcpStream::connect_timeout(
            &format!("{SYNACK_IP}:4242").parse::<SocketAddr>().unwrap(),
            Duration::from_secs(2),
        );
    });
    linux.join().unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let lines = synack.stop();
    let captured: u64 = lines
        .iter()
        .find(|l| l.starts_with("capture:"))
        .map(|l| field(l, "capture:").parse().unwrap())
        .unwrap_or_else(|| panic!("{lines:?}"));
    assert!(captured > 100, "{lines:?}");

    let check = |args: &[&str]| tshark(pcap_s, args);
    assert_eq!(tshark_problems(pcap_s), "", "tshark found problems in {pcap_s}");
    let all = check(&[]);
    assert_eq!(all.lines().count() as u64, captured, "tshark reads every frame");
    assert!(all.contains("ICMP") && all.contains("ARP"), "{all}");
    assert!(!check(&["-Y", "udp"]).is_empty() && !check(&["-Y", "tcp.flags.reset == 1"]).is_empty(), "{all}");
    let comments = check(&["-Y", "frame.comment", "-T", "fields", "-e", "frame.comment"]);
    assert!(comments.contains("impairment: dropped"), "{comments}");
    // The stack's reasons ride along: each reset synack sent to the closed port says why, unless the impairment
    // held it back (a held frame leaves later, after its note).
    let resets = check(&["-Y", "tcp.srcport == 4242 && tcp.flags.reset == 1", "-T", "fields", "-e", "frame.comment"]);
    assert!(!resets.trim().is_empty(), "synack reset the connection to port 4242: {all}");
    for comment in resets.lines().filter(|c| !c.contains("held back")) {
        assert!(comment.contains("why: RST: no socket on port 4242"), "{resets}");
    }
    // And a received frame's comment says what it did: Linux's SYN to the closed port was dropped by the stack
    // (it answered with the reset above), unless the impairment dropped it first.
    let syns = check(&[
        "-Y",
        "tcp.dstport == 4242 && tcp.flags.syn == 1 && frame.packet_flags_direction == 1",
        "-T",
        "fields",
        "-e",
        "frame.comment",
    ]);
    assert!(syns.lines().any(|c| c.contains("drop: TcpNoSocket")), "{syns}");
    for comment in syns.lines() {
        assert!(comment.contains("drop: TcpNoSocket") || comment.contains("impairment: dropped"), "{syns}");
    }
    let ts = check(&["-c", "1", "-T", "fields", "-e", "frame.time_epoch"]);
    assert_eq!(ts.trim().split('.').nth(1).map(str::len), Some(9), "nanosecond timestamps: {ts}");
    // Every frame's direction flag, and the interface's MAC address (if_MACaddr, as the simulator writes it),
    // so `synack-sim decode` and `plot` tell sent from received.
    let dirs = check(&["-T", "fields", "-e", "frame.packet_flags_direction"]);
    let mut kinds: Vec<&str> = dirs.lines().collect();
    kinds.sort();
    kinds.dedup();
    assert_eq!(kinds, ["0x00000001", "0x00000002"], "inbound and outbound flags on every frame");
    let bytes = std::fs::read(&*pcap).unwrap();
    let mut reader = pcap_file::pcapng::PcapNgReader::new(&bytes[..]).unwrap();
    let mut mac = None;
    while let Some(block) = reader.next_block() {
        if let pcap_file::pcapng::Block::InterfaceDescription(idb) = block.unwrap() {
            for o in idb.options {
                if let pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption::IfMacAddr(m) = o {
                    mac = Some(m.to_vec());
                }
            }
        }
    }
    assert_eq!(mac, Some(vec![0x02, 0, 10, 77, 0, 2]), "if_MACaddr is synack's MAC");
}

/// A Linux client in `ns` sends `len` bytes of `byte` to synack's echo port, shuts down and reads: true if the
/// same bytes came back.
fn linux_echo_round_trip(ns: &Netns, len: usize, byte: u8) -> bool {
    let linux = ns.within(move || {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect((SYNACK_IP, 7)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let data = vec![byte; len];
        s.write_all(&data).unwrap();
        s.shutdown(std::net::Shutdown::Write).unwrap();
        let mut back = Vec::new();
        s.read_to_end(&mut back).unwrap();
        back == data
    });
    linux.join().unwrap()
}

/// Linux with its default sysctls and synack agree on window scaling, SACK and RFC 7323 timestamps: the
/// capture, read by tshark with every checksum checked, shows them in both SYNs and timestamps on every later
/// segment but resets.
#[test]
fn linux_negotiates_timestamps_sack_and_window_scaling() {
    if !common::live("negotiation", &["tshark"]) {
        return;
    }
    let ns = Netns::with_tap("negot");
    let pcap = common::TempPath::new(&format!("{}.pcapng", ns.name));
    let pcap_s = pcap.to_str().unwrap();
    let synack = Synack::start(&ns, &["--pcap", pcap_s, "--max-connections", "1", "echo"]);
    assert!(linux_echo_round_trip(&ns, 100_000, 7), "echoed intact");
    let _ = synack.stop();
    assert_eq!(tshark_problems(pcap_s), "", "tshark found problems in {pcap_s}");
    let syn_fields = |filter: &str| {
        let fields =
            ["-e", "tcp.options.wscale.shift", "-e", "tcp.options.sack_perm", "-e", "tcp.options.timestamp.tsval"];
        tshark(pcap_s, &[&["-Y", filter, "-T", "fields"][..], &fields].concat())
    };
    for (who, filter) in [
        ("Linux's SYN", "tcp.flags.syn == 1 && tcp.flags.ack == 0"),
        ("synack's SYN-ACK", "tcp.flags.syn == 1 && tcp.flags.ack == 1"),
    ] {
        let line = syn_fields(filter);
        let cols: Vec<&str> = line.lines().next().unwrap_or_default().split('\t').collect();
        assert!(
            cols.len() == 3 && cols.iter().all(|c| !c.is_empty()),
            "{who}: wscale, SACK-permitted, TSval: {line:?}"
        );
    }
    let without_ts = tshark(pcap_s, &["-Y", "tcp && !tcp.options.timestamp.tsval && tcp.flags.reset == 0"]);
    assert_eq!(without_ts, "", "every segment carries a timestamp");
    let with_ts = tshark(pcap_s, &["-Y", "tcp.len > 0 && tcp.options.timestamp.tsval"]);
    assert!(with_ts.lines().count() > 100, "{with_ts}");
}

/// Linux and synack agree on ECN (RFC 3168) in both directions, as `--pcap` captures read by tshark (every
/// checksum checked) show: synack with `--ecn on` asks in its SYN (ECE and CWR) and Linux with its default
/// `tcp_ecn=2` answers with an ECN-setup SYN-ACK (ECE alone); a Linux client with `tcp_ecn=1` (set inside the
/// test's own namespace: the setting is per namespace, the host's is never touched) asks, and synack's default
/// (`--ecn passive`) answers. Either way the data leaves ECT(0) and the ACKs Not-ECT.
#[test]
fn linux_negotiates_ecn_both_ways() {
    if !common::live("ecn", &["tshark", "sysctl"]) {
        return;
    }
    const BYTES: usize = 200_000;
    // The SYNs (`opener`'s) and SYN-ACKs (the other end's) of a capture, each as "ECE CWR IP-ECN" (0 or 1 for
    // the flags, the codepoint as a number), printed with tshark's own decode of the handshake.
    let handshake = |pcap: &str, opener: &str| {
        let fields = ["-e", "ip.src", "-e", "tcp.flags.ack", "-e", "tcp.flags.ece", "-e", "tcp.flags.cwr"];
        let filter = ["-Y", "tcp.flags.syn == 1", "-T", "fields", "-e", "ip.dsfield.ecn"];
        let out = tshark(pcap, &[&filter[..], &fields].concat());
        eprintln!("{pcap}:\n{}", tshark(pcap, &["-Y", "tcp.flags.syn == 1 || tcp.flags.cwr == 1"]));
        let (mut syns, mut syn_acks) = (Vec::new(), Vec::new());
        for line in out.lines() {
            let f: Vec<&str> = line.split('\t').collect();
            let (ecn, src, ack, ece, cwr) = (f[0], f[1], f[2], f[3], f[4]);
            let entry = format!("{ece} {cwr} {ecn}");
            match (src == opener, ack) {
                (true, "0") => syns.push(entry),
                (false, "1") => syn_acks.push(entry),
                _ => panic!("unexpected SYN {line:?} in {pcap}"),
            }
        }
        (syns, syn_acks)
    };
    // RFC 3168 §6.1.1: the first SYN asks (ECE and CWR), a retransmitted one (if the link lost the first) does
    // not; every SYN-ACK agrees (ECE alone); all of them Not-ECT.
    let check_handshake = |pcap: &str, opener: &str| {
        let (syns, syn_acks) = handshake(pcap, opener);
        assert_eq!(syns.first().map(String::as_str), Some("1 1 0"), "an ECN-setup SYN first: {syns:?}");
        assert!(syns[1..].iter().all(|s| s == "0 0 0"), "retransmitted SYNs ask for nothing: {syns:?}");
        assert!(!syn_acks.is_empty() && syn_acks.iter().all(|s| s == "1 0 0"), "ECN-setup SYN-ACKs: {syn_acks:?}");
    };
    // The IP ECN field of every segment from `src` with data / without.
    let codepoints = |pcap: &str, filter: &str| {
        let mut c: Vec<String> =
            tshark(pcap, &["-Y", filter, "-T", "fields", "-e", "ip.dsfield.ecn"]).lines().map(str::to_string).collect();
        c.sort();
        c.dedup();
        c
    };

    // synack opens (--ecn on) to a Linux listener with default sysctls.
    let ns = Netns::with_tap("ecn-out");
    assert_eq!(text(&run(ns.cmd("sysctl").args(["-n", "net.ipv4.tcp_ecn"]).stdout(Stdio::piped())).stdout).trim(), "2");
    let pcap = common::TempPath::new(&format!("{}.pcapng", ns.name));
    let pcap_s = pcap.to_str().unwrap();
    let (bound, listening) = std::sync::mpsc::channel();
    let linux = ns.within(move || {
        use std::io::Read;
        let l = std::net::TcpListener::bind((LINUX_IP, 5001)).unwrap();
        bound.send(()).unwrap();
        let (mut s, _) = l.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).unwrap();
        got.len()
    });
    listening.recv_timeout(Duration::from_secs(5)).unwrap();
    let to = format!("{LINUX_IP}:5001");
    let args = ["--pcap", pcap_s, "--ecn", "on", "send", "--connect", &to, "--bytes", &BYTES.to_string()];
    // Not `Synack::start`: it waits for Linux to see the link up, and this synack may be done and gone by then.
    // A first ARP request lost while the link comes up is asked again a second later.
    let mut synack = Synack::spawn(&ns, &common::synack_tap_bin(), &args);
    synack.expect_line("sent ", Duration::from_secs(30));
    let status = synack.wait(Duration::from_secs(15));
    assert!(status.is_some_and(|s| s.success()), "{status:?} {}", synack.stderr_text());
    assert_eq!(linux.join().unwrap(), BYTES);
    assert_eq!(tshark_problems(pcap_s), "", "tshark found problems in {pcap_s}");
    check_handshake(pcap_s, SYNACK_IP);
    // First transmissions of data leave ECT(0); retransmissions Not-ECT (RFC 3168 §6.1.5, on both stacks): under
    // load a segment may be sent twice, so the two are checked apart (tshark tells which is which).
    const RTX: &str = "tcp.analysis.retransmission || tcp.analysis.fast_retransmission";
    let ect_first_sends = |pcap: &str, src: &str| {
        assert_eq!(codepoints(pcap, &format!("ip.src == {src} && tcp.len > 0 && !({RTX})")), ["2"], "{src}'s data");
        let resent = codepoints(pcap, &format!("ip.src == {src} && tcp.len > 0 && ({RTX})"));
        assert!(resent.iter().all(|c| c == "0"), "{src}'s retransmissions are Not-ECT: {resent:?}");
    };
    ect_first_sends(pcap_s, SYNACK_IP);
    let acks = format!("ip.src == {LINUX_IP} && tcp.len == 0");
    assert_eq!(codepoints(pcap_s, &acks), ["0"], "Linux's ACKs are Not-ECT");
    drop(ns);

    // A Linux client with tcp_ecn=1 in this namespace asks; synack's default accepts.
    let ns = Netns::with_tap("ecn-in");
    run(ns.cmd("sysctl").args(["-qw", "net.ipv4.tcp_ecn=1"]));
    let pcap = common::TempPath::new(&format!("{}.pcapng", ns.name));
    let pcap_s = pcap.to_str().unwrap();
    let synack = Synack::start(&ns, &["--pcap", pcap_s, "--max-connections", "1", "echo"]);
    assert!(linux_echo_round_trip(&ns, BYTES, 5), "echoed intact");
    let _ = synack.stop();
    assert_eq!(tshark_problems(pcap_s), "", "tshark found problems in {pcap_s}");
    check_handshake(pcap_s, LINUX_IP);
    for src in [LINUX_IP, SYNACK_IP] {
        ect_first_sends(pcap_s, src);
    }
}

fn tshark(pcap: &str, args: &[&str]) -> String {
    let mut c = Command::new("tshark");
    c.args(["-n", "-r", pcap]).args(args);
    text(&run(&mut c).stdout)
}

/// Frames tshark finds malformed, in error, or with a bad checksum (every checksum checked).
///
/// One exception, for Linux's frames only: a TCP checksum of 0xffff where 0x0000 is due. When Linux finishes a
/// checksum in software for a device without offload (`skb_checksum_help`, a TAP device), it writes 0xffff for
/// a zero result, as UDP must; both mean zero in one's complement and verify, but tshark calls it an error
/// (`tcp.checksum.ffff`). About one Linux segment in 65,536 has it; synack's own frames never may.
///
/// Only the link, IP, ICMP and transport layers are dissected: a payload is whatever the test sent, and a
/// dissector chosen by Linux's random ephemeral port (TwinCAT's TC-NV, one run) calls it malformed.
fn tshark_problems(pcap: &str) -> String {
    let filter = format!(
        "(_ws.malformed || _ws.expert.severity >= \"Error\" || _ws.expert.group == \"Checksum\") \
         && !(tcp.checksum.ffff && ip.src == {LINUX_IP})"
    );
    tshark(
        pcap,
        &[
            "--disable-protocol",
            "ALL",
            "--enable-protocol",
            "frame,eth,ethertype,arp,ip,ipv6,icmp,icmpv6,tcp,udp,data",
            "-o",
            "ip.check_checksum:TRUE",
            "-o",
            "tcp.check_checksum:TRUE",
            "-o",
            "udp.check_checksum:TRUE",
            "-Y",
            &filter,
        ],
    )
}

#[test]
fn offload_capture_shows_whole_checksums() {
    // With --offload, Linux leaves the checksums of its segments to the device and the stack does not verify
    // them, and the stack leaves its own to Linux; a capture and a trace must still show them finished (and
    // the stack then verifies them as usual).
    if !common::live("pcap-offload", &["tshark"]) {
        return;
    }
    let ns = Netns::with_tap("pcapoff");
    let pcap = common::TempPath::new(&format!("{}.pcapng", ns.name));
    let pcap_s = pcap.to_str().unwrap();
    let args = ["--offload", "--pcap", pcap_s, "--trace", "--max-connections", "1", "recv"];
    let mut synack = Synack::start(&ns, &args);
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 + i / 1000) as u8).collect();
    let linux = ns.within(move || {
        let addr: SocketAddr = format!("{SYNACK_IP}:5001").parse().unwrap();
        let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
        std::io::Write::write_all(&mut s, &data).unwrap();
        s.shutdown(std::net::Shutdown::Write).unwrap();
        let _ = std::io::Read::read_to_end(&mut s, &mut Vec::new());
    });
    linux.join().unwrap();
    let line = synack.expect_line("received", Duration::from_secs(30));
    assert!(line.starts_with("received 3000000 bytes"), "{line}");
    assert!(synack.wait(Duration::from_secs(10)).is_some_and(|s| s.success()));
    let stats = synack.collect().join("\n");
    assert!(!stats.contains("checksums left to the device"), "a capture finishes them: {stats}");
    let trace = synack.stderr_text();
    assert!(trace.contains(" > ") && !trace.contains("bad checksum"), "the trace shows whole checksums: {trace}");
    assert_eq!(tshark_problems(pcap_s), "", "tshark found problems in {pcap_s}");
    let big = tshark(pcap_s, &["-Y", "tcp.len > 1460", "-T", "fields", "-e", "tcp.len"]);
    assert!(big.lines().count() > 5, "large segments were captured: {big}");
}

#[test]
fn setup_errors_say_what_to_do() {
    if !common::live("errors", &["setpriv"]) {
        return;
    }
    let ns = Netns::with_tap("errors");
    let bin = common::synack_tap_bin();
    let fails = |cmd: &mut Command| {
        let out = cmd.stdin(Stdio::null()).output().unwrap();
        assert!(!out.status.success(), "{cmd:?} succeeded");
        text(&out.stderr)
    };
    // Busy: a second process on the same device.
    let synack = Synack::start(&ns, &["udp-echo"]);
    let err = fails(ns.cmd(&bin).args(["--tap", TAP, "--ip", "10.77.0.3/24", "udp-echo"]));
    assert!(err.contains("is busy") && err.contains("another process"), "{err}");
    synack.stop();
    // Not a TAP device.
    ns.ip(&["link", "add", "veth0", "type", "veth", "peer", "name", "veth1"]);
    let err = fails(ns.cmd(&bin).args(["--tap", "veth0", "udp-echo"]));
    assert!(err.contains("is not a TAP device") && err.contains("do not delete it"), "{err}");
    assert!(!err.contains("ip link del"), "{err}");
    let err = fails(ns.cmd(&bin).args(["--tap", "lo", "udp-echo"]));
    assert!(err.contains("\"lo\" exists and is not a TAP device") && !err.contains("ip link del"), "{err}");
    // No permission: an unprivileged user, creating a device or attaching to root's persistent tap0.
    let unprivileged = |tap: &str| {
        fails(
            ns.cmd("setpriv")
                .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all"])
                .arg(&bin)
                .args(["--tap", tap, "udp-echo"]),
        )
    };
    let err = unprivileged("tapx");
    assert!(err.contains("CAP_NET_ADMIN") && err.contains("not allowed to create"), "{err}");
    let err = unprivileged(TAP);
    assert!(err.contains("not allowed to attach to the existing TAP device") && !err.contains("create"), "{err}");
    // Bad addresses and names.
    let err = fails(ns.cmd(&bin).args(["--ip", "10.77.0.2", "udp-echo"]));
    assert!(err.contains("a.b.c.d/len"), "{err}");
    let err = fails(ns.cmd(&bin).args(["--ip", "127.0.0.1/8", "udp-echo"]));
    assert!(err.contains("loopback") && err.contains("--ip 10.77.0.2/24"), "{err}");
    let err = fails(ns.cmd(&bin).args(["--gateway", "192.168.9.1", "udp-echo"]));
    assert!(err.contains("gateway 192.168.9.1 must be on-link"), "{err}");
    let err = fails(ns.cmd(&bin).args(["--tap", "this-name-is-too-long", "udp-echo"]));
    assert!(err.contains("at most 15 bytes"), "{err}");
    let err = fails(ns.cmd(&bin).args(["--loss", "2", "udp-echo"]));
    assert!(err.contains("between 0 and 1"), "{err}");
}

/// RFC 5227: Linux already has 10.77.0.1 on the link; synack-tap asked for the same address probes for it,
/// hears Linux answer, and refuses to start, naming the address and Linux's MAC. With another address it
/// starts.
#[test]
fn an_address_linux_already_has_is_refused_after_an_arp_probe() {
    if !common::live("addr-conflict", &["timeout", "ping"]) {
        return;
    }
    let ns = Netns::with_tap("conflict");
    let link = text(&run(Command::new("ip").args(["-n", &ns.name, "-o", "link", "show", TAP])).stdout);
    let linux_mac = field(&link, "link/ether").to_string();
    let bin = common::synack_tap_bin();
    let out = ns
        .cmd("timeout")
        .args(["10"])
        .arg(&bin)
        .args(["--tap", TAP, "--ip", &format!("{LINUX_IP}/24"), "udp-echo"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(&format!("address {LINUX_IP} is already in use on {TAP}: {linux_mac} answered")), "{err}");
    assert!(err.contains("choose another --ip"), "{err}");
    // A free address: the probes go unanswered and synack-tap starts (and answers).
    let synack = Synack::start(&ns, &["udp-echo"]);
    run(ns.cmd("ping").args(["-c", "1", "-W", "2", SYNACK_IP]));
    synack.stop();
}

#[test]
fn duration_bound_stops_cleanly_with_stats() {
    if !common::live("duration", &[]) {
        return;
    }
    let ns = Netns::with_tap("duration");
    let mut synack = Synack::start(&ns, &["--duration", "0.5", "udp-echo"]);
    let status = synack.wait(Duration::from_secs(10));
    assert!(status.is_some_and(|s| s.success()), "{status:?} {}", synack.stderr_text());
    let lines = synack.collect();
    assert!(lines.iter().any(|l| l.starts_with("--- synack-tap stats (udp-echo)")), "{lines:?}");
}
