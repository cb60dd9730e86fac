//! Live hostile traffic against `synack-tap` (issue 9, item 5): while a Linux echo client keeps round-tripping
//! data through synack's echo mode, `nmap -sS -sV -O` scans it and `hping3` sends bounded bursts of odd TCP flag
//! combinations (SYN+FIN, XMAS, NULL), bad data offsets, tiny fragments, UDP and ICMP. synack must keep running,
//! every echo must come back equal (before, during and after), and its exit stats must show the drops by reason.
//!
//! Everything happens inside a namespace of the test's own (10.77.0.0/24 on a TAP device, no other link);
//! every burst is bounded in count and time. Skipped loudly without root/tools, unless CI=true.

mod common;

use common::{text, Netns, Synack, SYNACK_IP, TAP};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::process::Output;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Echo round trips the client does in the "before" and "after" phases.
const PHASE_TRIPS: u64 = 20;
/// Hard cap on round trips of the whole run (the loop also stops when the hostile phase ends).
const MAX_TRIPS: u64 = 100_000;
/// Each hping3 burst: this many packets, one per 100 us.
const BURST: &str = "2000";

/// What the echo client saw, per phase.
#[derive(Debug, Default, Clone, Copy)]
struct Trips {
    ok: [u64; 3],
    failed: [u64; 3],
    bytes: u64,
    /// Round trips on one connection kept open through all phases, and failures on it.
    kept_ok: u64,
    kept_failed: u64,
}

/// One 100-byte round trip on the long-lived connection.
fn echo_on(s: &mut TcpStream, n: u64) -> Result<(), String> {
    let data: Vec<u8> = (0..100u64).map(|i| (i * 7 + n) as u8).collect();
    s.write_all(&data).map_err(|e| format!("write: {e}"))?;
    let mut back = vec![0; data.len()];
    s.read_exact(&mut back).map_err(|e| format!("read: {e}"))?;
    if back != data {
        return Err("long-lived connection echoed different bytes".to_string());
    }
    Ok(())
}

/// One echo round trip over a fresh Linux TCP connection: `len` bytes out, the same bytes back.
fn echo_once(n: u64) -> Result<usize, String> {
    let len = 1 + (n as usize * 977) % 16_000;
    let data: Vec<u8> = (0..len).map(|i| (i as u64 * 31 + n) as u8).collect();
    let addr = SocketAddr::new(SYNACK_IP.parse().unwrap(), 7);
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(10)).map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(&data).map_err(|e| format!("write: {e}"))?;
    s.shutdown(Shutdown::Write).map_err(|e| format!("shutdown: {e}"))?;
    let mut back = Vec::with_capacity(len);
    s.read_to_end(&mut back).map_err(|e| format!("read after {} bytes: {e}", back.len()))?;
    if back != data {
        let at = back.iter().zip(&data).position(|(a, b)| a != b).unwrap_or(back.len().min(data.len()));
        return Err(format!("echo differs: sent {len} bytes, got {} back, first difference at {at}", back.len()));
    }
    Ok(len)
}

/// Runs a command (inside the namespace) with a hard time limit, returning its output whatever its status.
fn run_bounded(ns: &Netns, secs: u32, program: &str, args: &[&str]) -> Output {
    let mut c = ns.cmd("timeout");
    c.args(["-s", "KILL", &secs.to_string(), program]).args(args);
    c.output().unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
}

/// Packets hping3 says it sent (`N packets transmitted`), failing on anything else.
fn hping(ns: &Netns, what: &str, args: &[&str]) -> u64 {
    let mut all = vec!["-I", TAP, "-q", "-c", BURST, "-i", "u100"];
    all.extend_from_slice(args);
    all.push(SYNACK_IP);
    let out = run_bounded(ns, 20, "hping3", &all);
    let report = format!("{}{}", text(&out.stdout), text(&out.stderr));
    let sent = report
        .lines()
        .find_map(|l| l.split_once(" packets transmitted"))
        .and_then(|(n, _)| n.trim().parse::<u64>().ok());
    let sent = sent.unwrap_or_else(|| panic!("hping3 {what} {all:?}: no count in {report:?} ({})", out.status));
    eprintln!("hping3 {what}: {sent} packets sent");
    // hping3 -c stops once it has *received* that many frames (which may include its own, seen on the
    // interface), so a burst can end before all were sent.
    assert!(sent >= 1000, "hping3 {what} sent most of the burst: {report}");
    sent
}

/// `dropped (REASON): N` lines of synack-tap's exit stats.
fn drops(lines: &[String]) -> BTreeMap<String, u64> {
    lines
        .iter()
        .filter_map(|l| {
            let rest = l.strip_prefix("dropped (")?;
            let (reason, n) = rest.rsplit_once("): ")?;
            Some((reason.to_string(), n.trim().parse().ok()?))
        })
        .collect()
}

/// The counter `name: N` of the exit stats (0 when omitted, as zero counters are).
fn counter(lines: &[String], name: &str) -> u64 {
    let prefix = format!("{name}: ");
    lines.iter().find_map(|l| l.strip_prefix(&prefix)?.trim().parse().ok()).unwrap_or(0)
}

#[test]
fn echo_survives_nmap_and_hping3_floods() {
    if !common::live("hostile", &["nmap", "hping3", "timeout"]) {
        return;
    }
    let started = Instant::now();
    let ns = Netns::with_tap("hostile");
    let mut synack = Synack::start(&ns, &["echo"]);

    // The echo client: phase 0 before, 1 during, 2 after the hostile traffic.
    let phase = Arc::new(AtomicU8::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let before = Arc::new(AtomicU64::new(0));
    let (p, d, b) = (phase.clone(), done.clone(), before.clone());
    let client = ns.within(move || {
        let mut t = Trips::default();
        let deadline = Instant::now() + Duration::from_secs(330);
        let mut in_phase = 0;
        let mut last_phase = 0;
        let addr = SocketAddr::new(SYNACK_IP.parse().unwrap(), 7);
        let mut kept = TcpStream::connect_timeout(&addr, Duration::from_secs(10)).ok();
        if let Some(k) = &kept {
            k.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        } else {
            t.kept_failed += 1;
        }
        for n in 0..MAX_TRIPS {
            let ph = p.load(Ordering::SeqCst);
            if ph != last_phase {
                (last_phase, in_phase) = (ph, 0);
            }
            let finished_phase = ph != 1 && in_phase >= PHASE_TRIPS;
            if (finished_phase && (ph == 2 || d.load(Ordering::SeqCst))) || Instant::now() > deadline {
                break;
            }
            if finished_phase {
                // Before: wait for the hostile phase to start.
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
            match echo_once(n) {
                Ok(len) => {
                    t.ok[usize::from(ph)] += 1;
                    t.bytes += len as u64;
                }
                Err(e) => {
                    common::loud(&format!("echo round trip {n} (phase {ph}) failed: {e}"));
                    t.failed[usize::from(ph)] += 1;
                }
            }
            if let Some(k) = &mut kept {
                match echo_on(k, n) {
                    Ok(()) => t.kept_ok += 1,
                    Err(e) => {
                        common::loud(&format!("long-lived echo round trip {n} (phase {ph}) failed: {e}"));
                        t.kept_failed += 1;
                        kept = None;
                    }
                }
            }
            in_phase += 1;
            if ph == 0 {
                b.fetch_add(1, Ordering::SeqCst);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        if let Some(mut k) = kept {
            // Close it cleanly: nothing more comes back.
            let mut rest = Vec::new();
            if k.shutdown(Shutdown::Write).and_then(|()| k.read_to_end(&mut rest)).is_err() || !rest.is_empty() {
                t.kept_failed += 1;
            }
        }
        t
    });
    // Phase 0 ends once its round trips are done (bounded wait).
    let wait_until = Instant::now() + Duration::from_secs(30);
    while !client.is_finished() && Instant::now() < wait_until && before.load(Ordering::SeqCst) < PHASE_TRIPS {
        std::thread::sleep(Duration::from_millis(20));
    }
    phase.store(1, Ordering::SeqCst);
    let hostile_start = Instant::now();

    // nmap: SYN scan, version and OS detection; bounded by --host-timeout and a hard kill. It usually takes
    // ~20 s (service scan 6 s, OS detection ~12 s); once in CI its service scan took 53 s and the 60 s host
    // timeout hid the port, so the bound is generous and a slow scan is reported loudly instead.
    let nmap = run_bounded(
        &ns,
        180,
        "nmap",
        &[
            "-v",
            "-sS",
            "-sV",
            "-O",
            "-Pn",
            "-n",
            "-e",
            TAP,
            "--max-retries",
            "1",
            "--host-timeout",
            "150s",
            "-p",
            "1-1024,7",
            SYNACK_IP,
        ],
    );
    let nmap_out = text(&nmap.stdout);
    assert!(nmap.status.success(), "nmap {}: {nmap_out}{}", nmap.status, text(&nmap.stderr));
    let nmap_raw =
        nmap_out.lines().find(|l| l.contains("Raw packets sent")).unwrap_or("no raw packet count").to_string();
    let port7 = nmap_out.lines().find(|l| l.starts_with("7/tcp")).unwrap_or("port 7 not reported").to_string();
    let nmap_took = hostile_start.elapsed();
    eprintln!("nmap: {port7}; {nmap_raw}; took {nmap_took:?}");
    if nmap_took > Duration::from_secs(45) {
        let timing: Vec<&str> = nmap_out.lines().filter(|l| l.contains("elapsed") || l.contains("try #")).collect();
        common::loud(&format!("nmap took {nmap_took:?} (usually ~20 s): {timing:?}"));
    }
    assert!(port7.contains("open"), "nmap sees the echo port open: {nmap_out}\nsynack-tap: {}", synack.stderr_text());
    assert!(synack.wait(Duration::ZERO).is_none(), "synack-tap exited during nmap; {}", synack.stderr_text());

    // hping3: bounded bursts of odd segments, each to the listening port 7 (and a closed one).
    let mut hping_sent = 0;
    for (what, args) in [
        ("SYN+FIN", &["-S", "-F", "-p", "7"][..]),
        ("XMAS", &["-F", "-P", "-U", "-p", "7"]),
        ("XMAS+X+Y", &["-F", "-S", "-R", "-P", "-A", "-U", "-X", "-Y", "-p", "7"]),
        ("NULL", &["-p", "7"]),
        ("NULL closed port", &["-p", "9"]),
        ("SYN data offset 3", &["-S", "-O", "3", "-p", "7"]),
        ("SYN data offset 15", &["-S", "-O", "15", "-p", "7"]),
        ("SYN+FIN tiny fragments", &["-S", "-F", "-f", "-d", "40", "-p", "7"]),
        // A lone first fragment with "more fragments" set (64 bytes: a multiple of 8, as a non-last fragment
        // must be), a new IP id each time: never completes.
        ("SYN first fragment only", &["-S", "-x", "-d", "44", "-p", "7"]),
        ("SYN flood", &["-S", "-p", "7"]),
        ("UDP", &["-2", "-d", "64", "-p", "9"]),
        ("UDP tiny fragments", &["-2", "-f", "-d", "64", "-p", "9"]),
        ("ICMP echo", &["-1", "-d", "56"]),
        ("ICMP timestamp", &["--icmp-ts"]),
    ] {
        hping_sent += hping(&ns, what, args);
        assert!(synack.wait(Duration::ZERO).is_none(), "synack-tap exited during {what}; {}", synack.stderr_text());
    }
    let hostile = hostile_start.elapsed();
    phase.store(2, Ordering::SeqCst);
    done.store(true, Ordering::SeqCst);
    let trips = client.join().expect("echo client panicked");
    eprintln!("echo client: {trips:?}; hostile phase {hostile:?}; hping3 sent {hping_sent} packets");

    // synack is still alive; SIGTERM makes it print its stats. Should one of nmap's -sV probes end with a reset,
    // the echo service reports a failed connection (exit status 1 with that message); anything else is a bug.
    assert!(synack.wait(Duration::ZERO).is_none(), "synack-tap exited; {}", synack.stderr_text());
    // SAFETY: kill takes no pointers; the pid is our own child, synack-tap (ip netns exec execs it in place).
    unsafe { libc::kill(synack.pid() as i32, libc::SIGTERM) };
    let status = synack.wait(Duration::from_secs(10)).expect("synack-tap did not stop on SIGTERM");
    let stderr = synack.stderr_text();
    assert!(!stderr.contains("panicked"), "synack-tap panicked: {stderr}");
    assert!(
        status.success() || (status.code() == Some(1) && stderr.contains("connections failed")),
        "synack-tap exit {status:?}; {stderr}"
    );
    let resets = stderr.lines().filter(|l| l.contains("synack-tap: connection from")).count();
    eprintln!("synack-tap: {status}; {resets} echo connections ended in an error");
    let lines = synack.collect();
    let stats: Vec<String> = lines.iter().skip_while(|l| !l.starts_with("--- synack-tap stats")).cloned().collect();
    eprintln!("{}", stats.join("\n"));
    let drops = drops(&stats);

    assert_eq!(trips.failed, [0, 0, 0], "every echo round trip succeeds: {trips:?}");
    assert_eq!(trips.kept_failed, 0, "the long-lived connection survives: {trips:?}");
    assert!(trips.ok[0] >= PHASE_TRIPS && trips.ok[2] >= PHASE_TRIPS, "{trips:?}");
    assert!(trips.ok[1] >= 10, "echoes kept going during the hostile phase: {trips:?}");
    let at_least = |reason: &str, n: u64| {
        let got = drops.get(reason).copied().unwrap_or(0);
        assert!(got >= n, "dropped ({reason}): {got}, expected at least {n}; {drops:?}");
    };
    at_least("TcpBadFlags", 4000); // SYN+FIN, XMAS (several), NULL to the listener, reassembled SYN+FIN
    at_least("TcpNoSocket", 2000); // NULL to the closed port, RSTs to the listener, nmap's closed ports
    at_least("UdpNoSocket", 2000);
    assert!(drops.keys().any(|k| k.starts_with("malformed Tcp")), "bad data offsets are malformed: {drops:?}");
    // 256 incomplete datagrams at most (Config::reassembly.max_datagrams): the rest of the lone fragments evict.
    at_least("ReassemblyEvicted", 1000);
    assert!(counter(&stats, "fragments received") >= 8000, "{stats:?}");
    assert!(counter(&stats, "datagrams reassembled") >= 2000, "{stats:?}");
    assert!(counter(&stats, "ICMP echo replies sent") >= 2000, "{stats:?}");
    eprintln!("whole test: {:?}", started.elapsed());
}
