//! Live tests of the DHCP client and the DNS resolver against dnsmasq, each in a namespace of its own: a lease
//! obtained and renewed under short T1/T2, `synack-tap get` resolving a CNAME through dnsmasq and fetching a
//! file (checked by hash), a truncated DNS answer retried over TCP, and a link without a DHCP server.
//!
//! dnsmasq runs inside the test's namespace only, bound to the TAP device's address, with no configuration file,
//! no /etc/hosts and no /etc/resolv.conf, its lease and pid files in a temporary directory, under `timeout`; the
//! namespace's teardown kills it with everything else inside.

mod common;

use common::{run, sha256_file, text, Netns, Synack, TempDir, LINUX_IP, TAP};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// A server started under `timeout` for one test: ended and reaped when the test ends, even on a panic.
/// SIGTERM to `timeout` (our own child, by pid) is passed on to the server; the namespace's teardown kills
/// whatever would still be left inside.
struct Background(Child);

impl Drop for Background {
    fn drop(&mut self) {
        // SAFETY: kill takes no pointers; the pid is our own child's.
        unsafe { libc::kill(self.0.id() as i32, libc::SIGTERM) };
        let _ = self.0.wait();
    }
}

/// Starts dnsmasq in `ns` with a DHCP range of 10.77.0.50-60 (lease 2 minutes, dnsmasq's least, with
/// T1 = 3 s and T2 = 5 s so renewals come quickly) and DNS records for web.test (A) and www.test (CNAME),
/// plus `extra` arguments. Waits until it listens.
fn dnsmasq(ns: &Netns, dir: &Path, extra: &[String]) -> Background {
    let log = dir.join("dnsmasq.log");
    let mut args: Vec<String> = [
        "60",
        "dnsmasq",
        "--keep-in-foreground",
        "--conf-file=/dev/null",
        "--no-resolv",
        "--no-hosts",
        "--no-poll",
        "--bind-interfaces",
        "--user=root",
        "--group=root",
        "--dhcp-authoritative",
        "--dhcp-range=10.77.0.50,10.77.0.60,255.255.255.0,2m",
        "--dhcp-option=option:T1,3s",
        "--dhcp-option=option:T2,5s",
        "--host-record=web.test,10.77.0.1",
        "--cname=www.test,web.test",
        "--log-dhcp",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(format!("--interface={TAP}"));
    args.push(format!("--listen-address={LINUX_IP}"));
    args.push(format!("--dhcp-leasefile={}", dir.join("leases").display()));
    args.push(format!("--pid-file={}", dir.join("dnsmasq.pid").display()));
    args.push(format!("--log-facility={}", log.display()));
    args.extend(extra.iter().cloned());
    let child = Background(
        ns.cmd("timeout")
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start dnsmasq"),
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let out = ns.cmd("ss").args(["-Hlun", "sport = :53"]).output().expect("ss");
        if text(&out.stdout).contains(LINUX_IP) {
            return child;
        }
        assert!(
            Instant::now() < deadline,
            "dnsmasq does not listen: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn dnsmasq_log(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("dnsmasq.log")).unwrap_or_default()
}

#[test]
fn a_lease_from_dnsmasq_is_bound_used_and_renewed() {
    if !common::live("dhcp-lease", &["dnsmasq", "ping", "ss"]) {
        return;
    }
    let ns = Netns::with_tap("dhcp");
    let dir = TempDir::new("dhcp");
    let _server = dnsmasq(&ns, &dir, &[]);
    let mut synack = Synack::spawn(&ns, &common::synack_tap_bin(), &["--dhcp", "--duration", "30", "echo"]);
    let bound = synack.expect_line("dhcp: bound", Duration::from_secs(15));
    eprintln!("{bound}");
    assert!(
        bound.contains("gateway 10.77.0.1 dns 10.77.0.1 from 10.77.0.1, lease 120 s (renew at 3 s, rebind at 5 s)"),
        "{bound}"
    );
    let addr = bound.split_whitespace().nth(2).unwrap().split('/').next().unwrap().to_string();
    assert!(addr.starts_with("10.77.0.5") || addr == "10.77.0.60", "{addr} outside the range");
    synack.expect_line("ready: echo on", Duration::from_secs(5));
    ns.wait_link_up();
    // The address is in use: Linux reaches synack at it.
    let out = common::run(ns.cmd("ping").args(["-c", "3", "-i", "0.2", "-W", "2", "-q", &addr]));
    assert!(text(&out.stdout).contains("3 received"), "{}", text(&out.stdout));
    // Renewed at T1 (3 s after the REQUEST), twice within 10 s.
    for _ in 0..2 {
        let renewed = synack.expect_line("dhcp: renewed", Duration::from_secs(6));
        assert!(renewed.contains(&format!("renewed {addr}/24")), "{renewed}");
    }
    let lines = synack.stop();
    let received: u64 =
        lines.iter().find_map(|l| l.strip_prefix("DHCP messages received: ")).and_then(|n| n.parse().ok()).unwrap_or(0);
    assert!(received >= 4, "OFFER, ACK and two renewal ACKs: {lines:?}");
    let log = dnsmasq_log(&dir);
    assert!(log.contains(&format!("DHCPACK({TAP}) {addr} 02:00:0a:4d:00:02")), "{log}");
    let leases = std::fs::read_to_string(dir.join("leases")).unwrap_or_default();
    assert!(leases.contains(&addr), "dnsmasq's lease file: {leases}");
}

#[test]
fn get_resolves_a_cname_through_dnsmasq_and_fetches_the_file() {
    if !common::live("dhcp-get", &["dnsmasq", "python3", "ss"]) {
        return;
    }
    let ns = Netns::with_tap("dnsget");
    let dir = TempDir::new("dnsget");
    let _server = dnsmasq(&ns, &dir, &[]);
    let www = dir.join("www");
    std::fs::create_dir_all(&www).unwrap();
    let file = www.join("blob.bin");
    std::fs::copy(&*common::random_file("dnsget", 300_000), &file).unwrap();
    let _http = Background(
        ns.cmd("timeout")
            .args(["60", "python3", "-m", "http.server", "--bind", LINUX_IP, "--directory"])
            .arg(&www)
            .arg("8080")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !text(&ns.cmd("ss").args(["-Hltn", "sport = :8080"]).output().unwrap().stdout).contains(LINUX_IP) {
        assert!(Instant::now() < deadline, "the HTTP server does not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    let got = dir.join("got.bin");
    let got_arg = got.display().to_string();
    let mut synack = Synack::spawn(
        &ns,
        &common::synack_tap_bin(),
        &["--dhcp", "--duration", "30", "get", "http://WWW.test:8080/blob.bin", "--output", &got_arg],
    );
    let status = synack.wait(Duration::from_secs(35));
    let lines = synack.collect();
    assert!(status.is_some_and(|s| s.success()), "{status:?} {lines:?} {}", synack.stderr_text());
    assert!(lines.iter().any(|l| l == "resolved: WWW.test is web.test (10.77.0.1)"), "{lines:?}");
    assert_eq!(sha256_file(&got), sha256_file(&file), "the fetched file differs");
    let stderr = synack.stderr_text();
    assert!(stderr.contains("get: HTTP/1.0 200 OK (300000 body bytes from 10.77.0.1:8080)"), "{stderr}");
    assert!(stderr.contains("dns: 1 UDP and 0 TCP queries, 0 malformed, 0 mismatched"), "{stderr}");
}

#[test]
fn a_truncated_answer_from_dnsmasq_is_asked_again_over_tcp() {
    if !common::live("dns-tcp", &["dnsmasq", "ss"]) {
        return;
    }
    let ns = Netns::with_tap("dnstcp");
    let dir = TempDir::new("dnstcp");
    // 40 addresses for one name: 16 bytes each with compression, well over the 512 bytes of a UDP answer.
    let many: Vec<String> = (1..=40).map(|i| format!("10.77.1.{i}")).collect();
    let records: Vec<String> = many.iter().map(|a| format!("--host-record=big.test,{a}")).collect();
    let _server = dnsmasq(&ns, &dir, &records);
    let lookup = ns.within(|| {
        let stack = synack::Config { ipv4: "10.77.0.2/24".parse().unwrap(), ..synack::Config::default() };
        let driver = synack_tap::Driver::open_tap(TAP, synack_tap::DriverConfig { stack, ..Default::default() })
            .expect("driver");
        let config = synack::resolver::ResolverConfig {
            servers: vec![LINUX_IP.parse().unwrap()],
            ..synack::resolver::ResolverConfig::default()
        };
        let r = synack_tap::resolve(&driver.handle(), "big.test", config, 5).expect("sockets");
        drop(driver);
        r
    });
    let r = lookup.join().unwrap();
    let resolved = r.result.unwrap_or_else(|e| panic!("{e}; {:?}; {}", r.stats, dnsmasq_log(&dir)));
    let mut addrs: Vec<String> = resolved.addrs.iter().map(|a| a.to_string()).collect();
    addrs.sort();
    let mut want = many.clone();
    want.sort();
    assert_eq!(addrs, want);
    assert_eq!((r.stats.truncated, r.stats.queries_udp, r.stats.queries_tcp), (1, 1, 1), "{:?}", r.stats);
}

#[test]
fn without_a_dhcp_server_synack_keeps_retrying_with_backoff_and_says_so() {
    if !common::live("dhcp-silent", &[]) {
        return;
    }
    let ns = Netns::with_tap("dhcpsilent");
    let mut synack = Synack::spawn(&ns, &common::synack_tap_bin(), &["--dhcp", "--duration", "14", "echo"]);
    synack.expect_line("dhcp: DHCPDISCOVER sent, waiting for a lease", Duration::from_secs(5));
    let started = Instant::now();
    let second = synack
        .expect_line("dhcp: no answer yet: DHCPDISCOVER sent again (attempt 2), next try in", Duration::from_secs(7));
    let first_gap = started.elapsed();
    let third = synack
        .expect_line("dhcp: no answer yet: DHCPDISCOVER sent again (attempt 3), next try in", Duration::from_secs(12));
    let second_gap = started.elapsed() - first_gap;
    eprintln!("{second} after {first_gap:?}; {third} {second_gap:?} later");
    // 4 s ± 1 s, then 8 s ± 1 s (the first wait started a little before `started`).
    assert!(first_gap <= Duration::from_secs(5) + Duration::from_millis(500), "{first_gap:?}");
    assert!(second_gap >= Duration::from_secs(7) - Duration::from_millis(300), "{second_gap:?}");
    let next: f64 = second.rsplit("next try in ").next().unwrap().trim_end_matches(" s").parse().unwrap();
    assert!((7.0..=9.0).contains(&next), "{second}");
    let status = synack.wait(Duration::from_secs(10));
    assert!(status.is_some_and(|s| !s.success()), "stopped without a lease is a failure: {status:?}");
    let stderr = synack.stderr_text();
    assert!(stderr.contains("stopped before a DHCP lease was bound"), "{stderr}");
}

#[test]
fn get_asks_for_aaaa_first_and_fetches_over_ipv6() {
    if !common::live("dns-aaaa", &["dnsmasq", "python3", "ss"]) {
        return;
    }
    let ns = Netns::with_tap("dnsaaaa");
    for key in ["all", "default", TAP] {
        run(ns.cmd("sysctl").args(["-q", "-w", &format!("net.ipv6.conf.{key}.disable_ipv6=0")]));
    }
    ns.ip(&["-6", "addr", "add", "fd00:77::1/64", "dev", TAP, "nodad"]);
    let dir = TempDir::new("dnsaaaa");
    // web6.test has only an IPv6 address; web.test (from the helper) only an IPv4 one.
    let _server = dnsmasq(&ns, &dir, &["--host-record=web6.test,fd00:77::1".to_string()]);
    let www = dir.join("www");
    std::fs::create_dir_all(&www).unwrap();
    let file = www.join("blob.bin");
    std::fs::copy(&*common::random_file("dnsaaaa", 200_000), &file).unwrap();
    let _http = Background(
        ns.cmd("timeout")
            .args(["60", "python3", "-m", "http.server", "--bind", "::", "--directory"])
            .arg(&www)
            .arg("8080")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !text(&ns.cmd("ss").args(["-Hltn", "sport = :8080"]).output().unwrap().stdout).contains("8080") {
        assert!(Instant::now() < deadline, "the HTTP server does not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    let fetch = |url: &str, out: &Path| {
        let out_arg = out.display().to_string();
        let args = ["--ip6", "fd00:77::2/64", "--dns", LINUX_IP, "--duration", "30", "get", url, "--output", &out_arg];
        let mut synack = Synack::spawn(&ns, &common::synack_tap_bin(), &args);
        let status = synack.wait(Duration::from_secs(35));
        let lines = synack.collect();
        assert!(status.is_some_and(|s| s.success()), "{status:?} {lines:?} {}", synack.stderr_text());
        (lines, synack.stderr_text())
    };
    let got = dir.join("got6.bin");
    let (lines, stderr) = fetch("http://web6.test:8080/blob.bin", &got);
    assert!(lines.iter().any(|l| l == "resolved: web6.test is web6.test (fd00:77::1)"), "{lines:?}");
    assert_eq!(sha256_file(&got), sha256_file(&file), "the file fetched over IPv6 differs");
    assert!(stderr.contains("body bytes from [fd00:77::1]:8080)"), "{stderr}");
    // A name with no AAAA record falls back to A.
    let got4 = dir.join("got4.bin");
    let (lines, stderr) = fetch("http://web.test:8080/blob.bin", &got4);
    assert!(lines.iter().any(|l| l == "resolved: web.test is web.test (10.77.0.1)"), "{lines:?}");
    assert!(stderr.contains("(AAAA records)") && stderr.contains("(A records)"), "{stderr}");
    assert_eq!(sha256_file(&got4), sha256_file(&file));
}
