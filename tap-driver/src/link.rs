//! What the driver moves frames over: a TAP device, or (for tests without root) one end of a datagram socket pair.

use std::fmt::Debug;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixDatagram;

/// A non-blocking, frame-preserving device: one `recv` returns one Ethernet frame, one `send` writes one.
pub trait Link: AsRawFd + Debug + Send {
    /// Reads one frame; `WouldBlock` when none is waiting.
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize>;
    /// Like [`Link::recv`], and says whether the device vouched for the frame's TCP/UDP checksum, leaving it
    /// unfinished (a local sender's packet; see [`synack::RxFrame`]). Devices without offloads never do.
    fn recv_frame(&mut self, buf: &mut [u8]) -> io::Result<(usize, bool)> {
        self.recv(buf).map(|n| (n, false))
    }
    /// Writes one frame.
    fn send(&mut self, frame: &[u8]) -> io::Result<()>;
    /// A name for messages, e.g. `tap0`.
    fn name(&self) -> &str;
}

/// One end of a Unix datagram socket pair: two drivers joined by a [`PairLink::pair`] form a two-host Ethernet
/// without any privileges (used by the crate's own tests and handy for experiments).
#[derive(Debug)]
pub struct PairLink {
    sock: UnixDatagram,
    name: String,
}

impl PairLink {
    /// Two connected ends, named `pair-a` and `pair-b`.
    pub fn pair() -> io::Result<(PairLink, PairLink)> {
        let (a, b) = UnixDatagram::pair()?;
        a.set_nonblocking(true)?;
        b.set_nonblocking(true)?;
        Ok((PairLink { sock: a, name: "pair-a".into() }, PairLink { sock: b, name: "pair-b".into() }))
    }

    /// A driver configuration for host `host` (1..=254) on the link a pair forms: MAC `02:00:00:00:00:host`,
    /// address `10.99.0.host/24`, seeded with `host`; the rest as [`crate::DriverConfig::default`].
    pub fn host_config(host: u8) -> crate::DriverConfig {
        crate::DriverConfig {
            stack: synack::Config {
                mac: synack::wire::EthernetAddress([0x02, 0, 0, 0, 0, host]),
                ipv4: synack::Ipv4Cidr::new(std::net::Ipv4Addr::new(10, 99, 0, host), 24).expect("a /24 prefix"),
                seed: u64::from(host),
                ..synack::Config::default()
            },
            ..crate::DriverConfig::default()
        }
    }
}

impl AsRawFd for PairLink {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

impl Link for PairLink {
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.sock.recv(buf)
    }
    fn send(&mut self, frame: &[u8]) -> io::Result<()> {
        self.sock.send(frame).map(|_| ())
    }
    fn name(&self) -> &str {
        &self.name
    }
}
