//! Live ICMP errors for `synack_tap::TcpStream::connect` against Linux over a TAP device, in a network namespace
//! of the test's own whose firewall rejects some ports: a hard error (port or protocol unreachable) fails the
//! connect at once, a soft one (host unreachable) does not: the SYN is retried, and only the timeout reports
//! it (RFC 1122 §4.2.3.9), with the `io::ErrorKind`s Linux gives. Skipped loudly without root, /dev/net/tun or
//! iptables, unless CI=true.

mod common;

use common::{run, Netns, LINUX_IP, SYNACK_IP, TAP};
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use synack_tap::{Driver, DriverConfig, TcpStream};

/// Starts a driver on a TAP device it creates inside `ns` (SYN retried twice: a connect gives up after 7 s).
fn driver_in(ns: &Netns) -> Driver {
    let path = std::path::PathBuf::from("/var/run/netns").join(&ns.name);
    let driver = std::thread::spawn(move || {
        common::enter(&path);
        let mut stack =
            synack::Config { ipv4: format!("{SYNACK_IP}/24").parse().unwrap(), ..synack::Config::default() };
        stack.tcp.syn_retries = 2;
        Driver::open_tap(TAP, DriverConfig { stack, ..DriverConfig::default() }).unwrap()
    })
    .join()
    .unwrap();
    ns.linux_side_up();
    ns.wait_link_up();
    driver
}

/// Linux rejects TCP to `port` with the given ICMP error (`iptables ... -j REJECT --reject-with WHAT`).
fn reject(ns: &Netns, port: u16, with: &str) {
    let port = port.to_string();
    run(ns.cmd("iptables").args(["-A", "INPUT", "-p", "tcp", "--dport", &port, "-j", "REJECT", "--reject-with", with]));
}

fn linux(port: u16) -> SocketAddr {
    SocketAddr::new(LINUX_IP.parse().unwrap(), port)
}

#[test]
fn icmp_errors_fail_a_connect_hard_or_soft_as_linux_does() {
    if !common::live("icmp-errors", &["iptables"]) {
        return;
    }
    let ns = Netns::new("icmperr");
    let driver = driver_in(&ns);
    let h = driver.handle();
    reject(&ns, 9, "icmp-port-unreachable");
    reject(&ns, 10, "icmp-proto-unreachable");
    reject(&ns, 11, "icmp-host-unreachable");

    // Hard: the first SYN's ICMP error ends the connect, as ECONNREFUSED does on Linux.
    for (port, what) in [(9, "port unreachable (code 3)"), (10, "protocol unreachable (code 2)")] {
        let t = Instant::now();
        let err = TcpStream::connect(&h, linux(port)).map(|_| ()).unwrap_err();
        let took = t.elapsed();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "port {port}: {err}");
        assert!(err.to_string().contains(what), "port {port}: {err}");
        assert!(took < Duration::from_millis(900), "port {port}: refused only after {took:?}, not at the first SYN");
    }

    // Soft: host unreachable does not end the connect; the SYN is retried (at 1 s and 3 s) and the timeout
    // names the error, as EHOSTUNREACH does on Linux.
    let t = Instant::now();
    let err = TcpStream::connect(&h, linux(11)).map(|_| ()).unwrap_err();
    let took = t.elapsed();
    assert_eq!(err.kind(), ErrorKind::HostUnreachable, "{err}");
    assert!(err.to_string().contains("timed out") && err.to_string().contains("host unreachable (code 1)"), "{err}");
    assert!(took >= Duration::from_secs(6) && took < Duration::from_secs(20), "gave up after {took:?}");

    let report = driver.stop();
    // Three SYNs to port 11 (each answered), one to 9 and one to 10: Linux's ICMP errors all arrived.
    assert!(report.stack.icmp_errors_received >= 5, "{report}");
}
