//! The committed traces seen through tshark, with IP/TCP/UDP checksum validation switched on:
//! - no malformed frame, no error-level expert item, no checksum problem except on frames the simulator
//!   corrupted on purpose (their packet comment says "corrupted by link");
//! - tshark's per-frame fields (time, addresses, ports, TCP flags, raw seq/ack, lengths, window, ICMP type and
//!   code, ARP opcode) agree with our one-line decode on every frame.
//!
//! Without tshark these tests skip with a loud message, unless CI=true, where they fail.

use std::path::{Path, PathBuf};
use synack_tests::traces::{committed_traces, parallel_map, tshark, tshark_available};

/// A checksum tshark flags inside the packet an ICMPv6 error quotes does not count when the error's own checksum
/// is good: RFC 4443 quotes up to 1,232 bytes, so a quoted full-size segment is cut short and tshark checks a
/// checksum over part of it.
const FILTER: &str = r#"(_ws.malformed || _ws.expert.severity >= "Error" || _ws.expert.group == "Checksum") && !(icmpv6.type < 128 && icmpv6.checksum.status == "Good")"#;

/// Frames tshark flags, as (frame number, packet comment).
fn flagged(path: &Path) -> Vec<(usize, String)> {
    tshark(path, &["-Y", FILTER, "-T", "fields", "-e", "frame.number", "-e", "frame.comment"])
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (n, c) = l.split_once('\t').unwrap_or((l, ""));
            (n.trim().parse().unwrap_or(0), c.to_string())
        })
        .collect()
}

fn name(path: &Path) -> String {
    path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string()
}

#[test]
fn every_committed_trace_is_clean_in_tshark_except_frames_corrupted_on_purpose() {
    if !tshark_available("tshark validation of traces/") {
        return;
    }
    let files = committed_traces();
    assert!(!files.is_empty(), "no pcapng in traces/");
    let results = parallel_map(&files, |p| (flagged(p), synack_sim::decode::read(&std::fs::read(p).expect("read"))));
    let mut problems = Vec::new();
    let mut corrupted_flagged = 0;
    for (path, (flagged, file)) in files.iter().zip(results) {
        let file = file.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for (n, comment) in &flagged {
            if comment.contains("corrupted by link") {
                corrupted_flagged += 1;
            } else {
                problems.push(format!(
                    "{} frame {n}: flagged by tshark, not corrupted on purpose ({comment:?})",
                    name(path)
                ));
            }
        }
        // Conversely, every frame delivered corrupted must be caught by the checksums tshark checks.
        for (i, f) in file.frames.iter().enumerate() {
            let delivered_corrupted = f.comment.as_deref().is_some_and(|c| c.contains("flipped"));
            if delivered_corrupted && !flagged.iter().any(|(n, _)| *n == i + 1) {
                problems.push(format!(
                    "{} frame {}: corrupted on purpose but tshark saw no problem",
                    name(path),
                    i + 1
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(corrupted_flagged > 0, "tcp_corrupt delivers corrupted frames: tshark should have flagged some");
}

/// Our view of a frame and tshark's, normalised to the same text.
#[derive(Debug)]
struct FrameView {
    time: String,
    what: String,
}

/// tshark `tcp.flags` (hex) in our letters and order: F S R P . U E W e.
fn flag_letters(hex: &str) -> String {
    let bits = u16::from_str_radix(hex.trim_start_matches("0x"), 16).unwrap_or(0);
    let table = [
        (0x001, 'F'),
        (0x002, 'S'),
        (0x004, 'R'),
        (0x008, 'P'),
        (0x010, '.'),
        (0x020, 'U'),
        (0x040, 'E'),
        (0x080, 'W'),
        (0x100, 'e'),
    ];
    let s: String = table.iter().filter(|(b, _)| bits & b != 0).map(|(_, c)| *c).collect();
    if s.is_empty() {
        "none".into()
    } else {
        s
    }
}

const FIELDS: &[&str] = &[
    "frame.time_relative",
    "ip.src",
    "ip.dst",
    "tcp.srcport",
    "tcp.dstport",
    "tcp.flags",
    "tcp.seq_raw",
    "tcp.ack_raw",
    "tcp.len",
    "tcp.window_size_value",
    "udp.srcport",
    "udp.dstport",
    "udp.length",
    "icmp.type",
    "icmp.code",
    "arp.opcode",
    "arp.src.proto_ipv4",
    "arp.dst.proto_ipv4",
    "ipv6.src",
    "ipv6.dst",
    "icmpv6.type",
    "icmpv6.code",
];

/// tshark's fields of every frame, normalised. Fields with several occurrences (an ICMP error quotes an IP
/// header and the first bytes of a UDP or TCP header) are comma-separated: the outer one comes first.
fn tshark_views(path: &Path) -> Vec<FrameView> {
    let mut args = vec!["-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=,"];
    for f in FIELDS {
        args.extend(["-e", f]);
    }
    tshark(path, &args)
        .lines()
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            let get = |field: &str| -> Vec<&str> {
                let i = FIELDS.iter().position(|f| *f == field).expect("known field");
                cols.get(i).map(|c| c.split(',').filter(|s| !s.is_empty()).collect()).unwrap_or_default()
            };
            let one = |field: &str| get(field).first().copied().unwrap_or("").to_string();
            let v6 = get("ip.src").is_empty() && !get("ipv6.src").is_empty();
            let (src, dst) = if v6 { (one("ipv6.src"), one("ipv6.dst")) } else { (one("ip.src"), one("ip.dst")) };
            // Our decode brackets IPv6 addresses that carry a port.
            let (psrc, pdst) = if v6 { (format!("[{src}]"), format!("[{dst}]")) } else { (src.clone(), dst.clone()) };
            let what = if let Some(op) = get("arp.opcode").first() {
                match *op {
                    "1" => format!("ARP request {}->{}", one("arp.src.proto_ipv4"), one("arp.dst.proto_ipv4")),
                    "2" => format!("ARP reply {}", one("arp.src.proto_ipv4")),
                    other => format!("ARP op {other}"),
                }
            } else if !get("icmp.type").is_empty() {
                let mut s = format!("ICMP {src}>{dst} type={} code={}", one("icmp.type"), one("icmp.code"));
                let (ips, dsts) = (get("ip.src"), get("ip.dst"));
                let ports = [get("udp.srcport"), get("udp.dstport"), get("tcp.srcport"), get("tcp.dstport")];
                let quoted = match (&ports[0].first(), &ports[1].first(), &ports[2].first(), &ports[3].first()) {
                    (Some(sp), Some(dp), _, _) | (_, _, Some(sp), Some(dp)) => Some((*sp, *dp)),
                    _ => None,
                };
                if let (Some(qs), Some(qd), Some((sp, dp))) = (ips.get(1), dsts.get(1), quoted) {
                    s += &format!(" quote={qs}:{sp}>{qd}:{dp}");
                }
                s
            } else if !get("icmpv6.type").is_empty() {
                format!("ICMPv6 {src}>{dst} type={} code={}", one("icmpv6.type"), one("icmpv6.code"))
            } else if !get("tcp.srcport").is_empty() {
                let flags = flag_letters(&one("tcp.flags"));
                let ack = if flags.contains('.') { one("tcp.ack_raw") } else { "-".into() };
                format!(
                    "TCP {psrc}:{}>{pdst}:{} [{flags}] seq={} ack={ack} win={} len={}",
                    one("tcp.srcport"),
                    one("tcp.dstport"),
                    one("tcp.seq_raw"),
                    one("tcp.window_size_value"),
                    one("tcp.len")
                )
            } else if !get("udp.srcport").is_empty() {
                let len = one("udp.length").parse::<i64>().map(|l| (l - 8).to_string()).unwrap_or_default();
                format!("UDP {psrc}:{}>{pdst}:{} len={len}", one("udp.srcport"), one("udp.dstport"))
            } else {
                format!("other {src}>{dst}")
            };
            FrameView { time: one("frame.time_relative"), what }
        })
        .collect()
}

/// ICMPv6 type and code from our decode's message name (RFC 4443, RFC 4861).
fn icmpv6_type_code(kind: &str) -> Option<(u8, u8)> {
    Some(match kind {
        "echo-request" => (128, 0),
        "echo-reply" => (129, 0),
        "RS" => (133, 0),
        "RA" => (134, 0),
        "NS" => (135, 0),
        "NA" => (136, 0),
        "redirect" => (137, 0),
        "packet-too-big" => (2, 0),
        "time-exceeded" => (3, 0),
        "port-unreachable" => (1, 4),
        "addr-unreachable" => (1, 3),
        _ => return None,
    })
}

/// ICMP type and code from our decode's message name.
fn icmp_type_code(kind: &str) -> Option<(u8, u8)> {
    Some(match kind {
        "echo-reply" => (0, 0),
        "echo-request" => (8, 0),
        "net-unreachable" => (3, 0),
        "host-unreachable" => (3, 1),
        "proto-unreachable" => (3, 2),
        "port-unreachable" => (3, 3),
        "frag-needed" => (3, 4),
        "time-exceeded" => (11, 0),
        "reassembly-time-exceeded" => (11, 1),
        _ => return None,
    })
}

/// Our decode line (`  0.010000000 > 10.0.0.1:5 > 10.0.0.2:7 TCP [S] seq=1 win=2 len=0  # comment`),
/// normalised like [`tshark_views`].
fn our_view(line: &str) -> FrameView {
    let line = line.split("  # ").next().unwrap_or(line);
    let mut tokens = line.split_whitespace();
    let time = tokens.next().unwrap_or_default().to_string();
    let _direction = tokens.next();
    let t: Vec<&str> = tokens.collect();
    let value = |key: &str| {
        t.iter().find_map(|tok| tok.strip_prefix(key).and_then(|v| v.strip_prefix('='))).unwrap_or("-").to_string()
    };
    let what = match t.as_slice() {
        ["ARP", "who-has", target, "tell", sender, ..] => format!("ARP request {sender}->{target}"),
        ["ARP", sender, "is-at", ..] => format!("ARP reply {sender}"),
        [src, ">", dst, "TCP", flags, ..] => format!(
            "TCP {src}>{dst} {flags} seq={} ack={} win={} len={}",
            value("seq"),
            value("ack"),
            value("win"),
            value("len")
        ),
        [src, ">", dst, "UDP", ..] => format!("UDP {src}>{dst} len={}", value("len")),
        [src, ">", dst, "ICMP", kind, rest @ ..] => {
            let (ty, code) = icmp_type_code(kind).map(|(t, c)| (t.to_string(), c.to_string())).unwrap_or_default();
            let mut s = format!("ICMP {src}>{dst} type={ty} code={code}");
            if let Some(i) = rest.iter().position(|x| *x == "for") {
                if let [qs, ">", qd, ..] = &rest[i + 1..] {
                    if qs.contains(':') {
                        s += &format!(" quote={qs}>{qd}");
                    }
                }
            }
            s
        }
        [src, ">", dst, "ICMPv6", kind, ..] => {
            let (ty, code) = icmpv6_type_code(kind).map(|(t, c)| (t.to_string(), c.to_string())).unwrap_or_default();
            format!("ICMPv6 {src}>{dst} type={ty} code={code}")
        }
        _ => format!("undecoded: {}", t.join(" ")),
    };
    FrameView { time, what }
}

#[test]
fn tshark_agrees_with_our_decode_on_every_frame() {
    if !tshark_available("differential decode against tshark") {
        return;
    }
    let files: Vec<PathBuf> = committed_traces();
    let results = parallel_map(&files, |path| {
        let ours: Vec<FrameView> = synack_tests::traces::decode_lines(&std::fs::read(path).expect("read"))
            .iter()
            .map(|l| our_view(l))
            .collect();
        let theirs = tshark_views(path);
        let mut problems = Vec::new();
        if ours.len() != theirs.len() {
            problems.push(format!("{}: {} frames decoded by us, {} by tshark", name(path), ours.len(), theirs.len()));
        }
        for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            if a.time != b.time || a.what != b.what {
                problems.push(format!(
                    "{} frame {}:\n  ours:   {} {}\n  tshark: {} {}",
                    name(path),
                    i + 1,
                    a.time,
                    a.what,
                    b.time,
                    b.what
                ));
            }
        }
        (ours.len(), problems)
    });
    let frames: usize = results.iter().map(|(n, _)| n).sum();
    let problems: Vec<String> = results.into_iter().flat_map(|(_, p)| p).collect();
    assert!(frames > 1000, "only {frames} frames compared");
    assert!(
        problems.is_empty(),
        "{} of {frames} frames disagree:\n{}",
        problems.len(),
        problems.iter().take(40).cloned().collect::<Vec<_>>().join("\n")
    );
    eprintln!("tshark agrees with our decode on all {frames} frames of {} traces", files.len());
}

/// The stack's reasons are in the committed traces as packet comments that tshark reads (`frame.comment`):
/// every TCP segment a host sent says why, and state changes are told.
#[test]
fn tshark_shows_why_every_segment_was_sent() {
    if !tshark_available("tshark view of the reasons in traces/") {
        return;
    }
    let files = committed_traces();
    let views = parallel_map(&files, |p| {
        let comments = tshark(p, &["-T", "fields", "-e", "frame.number", "-e", "tcp.srcport", "-e", "frame.comment"]);
        (comments, synack_sim::decode::read(&std::fs::read(p).expect("read")))
    });
    let (mut sent, mut states) = (0, 0);
    let mut problems = Vec::new();
    for (path, (comments, file)) in files.iter().zip(views) {
        let file = file.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for (line, f) in comments.lines().zip(&file.frames) {
            let fields: Vec<&str> = line.split('\t').collect();
            let (is_tcp, comment) = (fields.get(1).is_some_and(|p| !p.is_empty()), fields.get(2).unwrap_or(&""));
            states += comment.matches("state: ").count();
            // A router's or switch's port capture (its frames carry direction flags) forwards other hosts'
            // segments: their reasons are in the sending host's capture.
            if is_tcp && file.mac.is_some() && f.src_mac() == file.mac && f.direction.is_none() {
                sent += 1;
                if !comment.contains("why: ") {
                    problems.push(format!("{} frame {}: sent without a reason ({comment:?})", name(path), fields[0]));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(sent > 1000 && states > 50, "{sent} segments sent, {states} state changes");
}

/// Issue 19 through tshark's eyes: the traceroute client's capture holds ICMP time exceeded from each router
/// in hop order, then port unreachable from the server; a router forwards each probe with its TTL one less
/// and a header checksum tshark accepts; the path MTU router's answer carries the next-hop MTU.
#[test]
fn tshark_sees_routers_answer_in_hop_order() {
    if !tshark_available("tshark view of the router traces") {
        return;
    }
    let dir = synack_tests::traces::traces_dir();
    let fields = |file: &str, filter: &str, field: &str| -> Vec<String> {
        // The first occurrence: an ICMP error also quotes the header of the datagram it answers.
        tshark(&dir.join(file), &["-Y", filter, "-T", "fields", "-E", "occurrence=f", "-e", field])
            .lines()
            .map(str::to_string)
            .filter(|l| !l.is_empty())
            .collect()
    };
    let answers = fields("traceroute-client.pcapng", "icmp.type == 11 || icmp.type == 3", "ip.src");
    assert_eq!(answers, ["10.0.1.1", "10.0.12.2", "10.0.23.2", "10.0.2.2"]);
    // Status 1 is "good" (checksum verified).
    let ttls = fields("traceroute-r2-east.pcapng", "udp && !icmp && ip.checksum.status == 1", "ip.ttl");
    assert_eq!(ttls, ["1", "2"], "probes 3 and 4 leave r2 with TTL 1 and 2, checksums good");
    let mtu = fields("path_mtu-client.pcapng", "icmp.type == 3 && icmp.code == 4", "icmp.mtu");
    assert!(!mtu.is_empty() && mtu.iter().all(|m| m == "1000"), "{mtu:?}");
}

/// The IPv6 traceroute through tshark's eyes: ICMPv6 time exceeded from r1, r2 and r3 in hop order, then port
/// unreachable from the server's autoconfigured address; r2 forwards probes 3 and 4 with their hop limit one
/// less and UDP checksums tshark verifies; the hosts hear Router Advertisements of their prefixes with the
/// flags SLAAC needs and a good checksum.
#[test]
fn tshark_sees_ipv6_routers_answer_in_hop_order() {
    if !tshark_available("tshark view of the IPv6 router traces") {
        return;
    }
    let dir = synack_tests::traces::traces_dir();
    let fields = |file: &str, filter: &str, fields: &[&str]| -> Vec<String> {
        let mut args = vec!["-Y", filter, "-T", "fields", "-E", "occurrence=f"];
        for f in fields {
            args.extend(["-e", f]);
        }
        tshark(&dir.join(file), &args).lines().map(str::to_string).filter(|l| !l.is_empty()).collect()
    };
    let answers = fields("traceroute6-client.pcapng", "icmpv6.type == 3 || icmpv6.type == 1", &["ipv6.src"]);
    assert_eq!(answers, ["2001:db8:1::1", "2001:db8:12::2", "2001:db8:23::2", "2001:db8:2::ff:fe00:2"]);
    // Status 1 is "good" (checksum verified).
    let hops = fields("traceroute6-r2-east.pcapng", "udp && !icmpv6 && udp.checksum.status == 1", &["ipv6.hlim"]);
    assert_eq!(hops, ["1", "2"], "probes 3 and 4 leave r2 with hop limit 1 and 2, checksums good");
    let ra = [
        "ipv6.src",
        "ipv6.hlim",
        "icmpv6.nd.ra.router_lifetime",
        "icmpv6.opt.prefix",
        "icmpv6.opt.prefix.flag.l",
        "icmpv6.opt.prefix.flag.a",
        "icmpv6.checksum.status",
    ];
    for (file, expected) in [
        ("traceroute6-client.pcapng", "fe80::1ff:fe00:101\t255\t30\t2001:db8:1::\t1\t1\t1"),
        ("traceroute6-server.pcapng", "fe80::1ff:fe00:302\t255\t30\t2001:db8:2::\t1\t1\t1"),
    ] {
        assert_eq!(fields(file, "icmpv6.type == 134", &ra), [expected], "{file}");
    }
}
