//! `--dhcp` (waiting for the lease, printing the DHCP client's news) and the `get` mode: resolve, connect, GET,
//! write the body.

use crate::ModeResult;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;
use synack::resolver::ResolverConfig;
use synack::{DhcpEvent, DhcpLease};
use synack_tap::{Handle, TcpStream};

/// Time a `get` may take to connect, and to wait for each read.
const GET_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest response `get` reads.
const MAX_RESPONSE: u64 = 1 << 30;

fn say_dhcp(ev: &DhcpEvent) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "dhcp: {ev}");
    let _ = out.flush();
}

/// Prints the DHCP client's events as they come and returns the first lease bound; later events are printed
/// by a thread of their own for as long as the driver runs. Gives up only when the driver stops.
pub fn wait_for_lease(handle: &Handle, events: mpsc::Receiver<DhcpEvent>) -> Result<DhcpLease, String> {
    say_dhcp_waiting();
    loop {
        match events.recv_timeout(Duration::from_millis(200)) {
            Ok(ev) => {
                say_dhcp(&ev);
                if let DhcpEvent::Bound(lease) = ev {
                    std::thread::spawn(move || {
                        for ev in events {
                            say_dhcp(&ev);
                        }
                    });
                    return Ok(lease);
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) if !handle.is_stopped() => {}
            Err(_) => return Err("stopped before a DHCP lease was bound".into()),
        }
    }
}

fn say_dhcp_waiting() {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "dhcp: DHCPDISCOVER sent, waiting for a lease");
    let _ = out.flush();
}

/// Whether the stack has a global IPv6 address in use. Configured ones are still tentative for a second or two
/// after start (duplicate address detection): wait for them, briefly.
fn has_global_ipv6(handle: &Handle) -> bool {
    let global = |h: &Handle| {
        h.ipv6_addresses().iter().any(|a| a.state == "preferred" && !synack::wire::ipv6::is_link_local(&a.addr))
    };
    let configured = handle.config().ipv6.is_some_and(|c| !c.addresses.is_empty());
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while configured && !global(handle) && std::time::Instant::now() < deadline && !handle.is_stopped() {
        std::thread::sleep(Duration::from_millis(50));
    }
    global(handle)
}

/// `http://host[:port]/path` split up (an IPv6 literal in brackets, RFC 3986: `http://[fd00::2]:8080/`);
/// `None` if it is not of that form.
fn parse_url(url: &str) -> Option<(&str, u16, &str)> {
    let rest = url.strip_prefix("http://")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let port_of = |p: &str| p.parse::<u16>().ok().filter(|p| *p != 0);
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let (h, after) = bracketed.split_once(']')?;
        h.parse::<std::net::Ipv6Addr>().ok()?;
        match after.strip_prefix(':') {
            Some(p) => (h, port_of(p)?),
            None if after.is_empty() => (h, 80),
            None => return None,
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, port_of(p)?),
            None => (authority, 80),
        }
    };
    (!host.is_empty() && !path.contains(char::is_whitespace)).then_some((host, port, path))
}

pub fn get(handle: &Handle, url: &str, dns: &[Ipv4Addr], seed: u64, output: Option<&Path>) -> ModeResult {
    let (host, port, path) =
        parse_url(url).ok_or_else(|| format!("get: {url:?} is not a URL of the form http://NAME[:PORT]/PATH"))?;
    let addr: IpAddr = match host.parse::<IpAddr>() {
        Ok(a) => a,
        Err(_) => {
            if dns.is_empty() {
                return Err(format!("get: no DNS server to resolve {host:?}: give --dns A.B.C.D (or use --dhcp)"));
            }
            // As getaddrinfo with AI_ADDRCONFIG: ask for IPv6 addresses (first, RFC 6724) only when we have a
            // global one to reach them from; a name without any falls back to IPv4.
            let global_v6 = has_global_ipv6(handle);
            let mut families = if global_v6 { vec![true, false] } else { vec![false] };
            loop {
                let ipv6 = families.remove(0);
                let config = ResolverConfig { servers: dns.to_vec(), ..ResolverConfig::default() };
                let r = synack_tap::resolve_family(handle, host, ipv6, config, seed)
                    .map_err(|e| format!("get: resolving: {e}"))?;
                let s = r.stats;
                eprintln!(
                    "synack-tap: dns: {} UDP and {} TCP queries, {} malformed, {} mismatched, {} truncated, {} timeouts \
                     ({} records)",
                    s.queries_udp,
                    s.queries_tcp,
                    s.malformed,
                    s.mismatched,
                    s.truncated,
                    s.timeouts,
                    if ipv6 { "AAAA" } else { "A" },
                );
                match r.result {
                    // No AAAA answer (none, refused, timed out): IPv4 then, as getaddrinfo uses whichever family
                    // answers; a name that does not exist does not exist in either.
                    Err(e) if !families.is_empty() && !matches!(e, synack::resolver::ResolveError::NoSuchName(_)) => {
                        eprintln!("synack-tap: dns: no IPv6 address for {host} ({e}); asking for IPv4");
                        continue;
                    }
                    result => {
                        let resolved = result.map_err(|e| format!("get: resolving {host}: {e}"))?;
                        let addrs: Vec<String> = resolved.addrs.iter().map(|a| a.to_string()).collect();
                        println!("resolved: {host} is {} ({})", resolved.canonical, addrs.join(", "));
                        break resolved.addrs[0];
                    }
                }
            }
        }
    };
    let remote = SocketAddr::from((addr, port));
    let mut stream =
        TcpStream::connect_timeout(handle, remote, GET_TIMEOUT).map_err(|e| format!("get: connect {remote}: {e}"))?;
    stream.set_read_timeout(Some(GET_TIMEOUT)).map_err(|e| e.to_string())?;
    let request = format!("GET {path} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: synack-tap\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).map_err(|e| format!("get: sending the request: {e}"))?;
    let mut response = Vec::new();
    (&mut stream).take(MAX_RESPONSE).read_to_end(&mut response).map_err(|e| format!("get: reading: {e}"))?;
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").ok_or("get: the response has no header end")?;
    let head = String::from_utf8_lossy(&response[..split]);
    let status = head.lines().next().unwrap_or_default().to_string();
    let body = &response[split + 4..];
    eprintln!("synack-tap: get: {status} ({} body bytes from {remote})", body.len());
    match output {
        Some(p) => std::fs::write(p, body).map_err(|e| format!("get: cannot write {}: {e}", p.display()))?,
        None => {
            let mut out = io::stdout().lock();
            out.write_all(body).and_then(|()| out.flush()).map_err(|e| e.to_string())?;
        }
    }
    let code = status.split_whitespace().nth(1).unwrap_or_default();
    if code.starts_with('2') {
        Ok(())
    } else {
        Err(format!("get: {url}: {status}"))
    }
}

#[cfg(test)]
mod tests {
    use super::parse_url;

    #[test]
    fn urls_split_into_host_port_and_path() {
        assert_eq!(parse_url("http://web.test/a/b"), Some(("web.test", 80, "/a/b")));
        assert_eq!(parse_url("http://web.test:8080"), Some(("web.test", 8080, "/")));
        assert_eq!(parse_url("http://10.0.0.1:81/x"), Some(("10.0.0.1", 81, "/x")));
        assert_eq!(parse_url("http://[fd00:77::2]:8080/x"), Some(("fd00:77::2", 8080, "/x")));
        assert_eq!(parse_url("http://[fd00:77::2]/"), Some(("fd00:77::2", 80, "/")));
        assert_eq!(parse_url("http://[fd00:77::2"), None);
        assert_eq!(parse_url("http://[nonsense]/"), None);
        for bad in ["https://a/", "http://", "http://a:0/", "http://a:x/", "http://a/b c", "web.test/"] {
            assert_eq!(parse_url(bad), None, "{bad}");
        }
    }
}
