//! Name resolution over the driver: runs the core's sans-IO [`synack::resolver::Lookup`] with a [`UdpSocket`]
//! (and a [`TcpStream`] when an answer comes back truncated), blocking until it is done.

use crate::handle::Handle;
use crate::net::{TcpStream, UdpSocket};
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};
use synack::resolver::{Lookup, ResolveError, Resolved, ResolverConfig, ResolverStats, Step, Transmit};

/// How a lookup ended, with what it saw on the way.
#[derive(Debug)]
pub struct Resolution {
    pub result: Result<Resolved, ResolveError>,
    pub stats: ResolverStats,
}

/// Resolves `name` to IPv4 addresses by asking `config.servers`. `seed` picks the query ids. An error is only
/// returned for socket failures; DNS failures are in [`Resolution::result`].
pub fn resolve(handle: &Handle, name: &str, config: ResolverConfig, seed: u64) -> io::Result<Resolution> {
    resolve_family(handle, name, false, config, seed)
}

/// Resolves `name` to IPv6 addresses (AAAA records) with `ipv6`, else to IPv4 addresses, as [`resolve`].
pub fn resolve_family(
    handle: &Handle,
    name: &str,
    ipv6: bool,
    config: ResolverConfig,
    seed: u64,
) -> io::Result<Resolution> {
    let epoch = Instant::now();
    let now = || synack::Instant::from_nanos(u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX));
    let started =
        if ipv6 { Lookup::start_ipv6(name, config, seed, now()) } else { Lookup::start(name, config, seed, now()) };
    let (mut lookup, first) = match started {
        Ok(l) => l,
        Err(e) => return Ok(Resolution { result: Err(e), stats: ResolverStats::default() }),
    };
    let udp = UdpSocket::bind(handle, SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)))?;
    let mut step = Step::Send(first);
    let mut buf = vec![0u8; 65_536];
    loop {
        step = match step {
            Step::Done(result) => return Ok(Resolution { result, stats: lookup.stats }),
            Step::Send(Transmit::Udp { server, query }) => {
                udp.send_to(&query, server)?;
                Step::Wait
            }
            Step::Send(Transmit::Tcp { server, query }) => tcp_exchange(handle, &mut lookup, server, &query, &now),
            Step::Wait => {
                let left = Duration::from_nanos(lookup.deadline().as_nanos().saturating_sub(now().as_nanos()));
                if left.is_zero() {
                    lookup.on_timeout(now())
                } else {
                    udp.set_read_timeout(Some(left))?;
                    match udp.recv_from(&mut buf) {
                        Ok((n, from)) => lookup.on_udp(from, &buf[..n], now()),
                        Err(e) if e.kind() == io::ErrorKind::TimedOut => lookup.on_timeout(now()),
                        Err(e) => return Err(e),
                    }
                }
            }
        };
    }
}

/// Asks over TCP until the lookup is done with the answer or the deadline passes (then it is a timeout).
fn tcp_exchange(
    handle: &Handle,
    lookup: &mut Lookup,
    server: SocketAddr,
    query: &[u8],
    now: &dyn Fn() -> synack::Instant,
) -> Step {
    let left = |l: &Lookup| Duration::from_nanos(l.deadline().as_nanos().saturating_sub(now().as_nanos()));
    let stream = match TcpStream::connect_timeout(handle, server, left(lookup).max(Duration::from_millis(1))) {
        Ok(s) => s,
        Err(_) => return lookup.on_timeout(lookup.deadline()),
    };
    let mut stream = stream;
    if stream.write_all(query).is_err() {
        return lookup.on_timeout(lookup.deadline());
    }
    let mut buf = vec![0u8; 65_536];
    loop {
        let wait = left(lookup);
        if wait.is_zero() || stream.set_read_timeout(Some(wait)).is_err() {
            return lookup.on_timeout(lookup.deadline());
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return lookup.on_timeout(lookup.deadline()),
            Ok(n) => match lookup.on_tcp_data(&buf[..n], now()) {
                Step::Wait => continue,
                other => return other,
            },
        }
    }
}
