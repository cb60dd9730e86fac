//! Blocking `std::io`-style sockets over a running [`crate::Driver`].
//!
//! Each call is one command to the driver thread; a call the stack cannot answer yet (no data, no room, no
//! connection to accept) waits in the driver for its socket's next event, up to the socket's timeout.

mod tcp;
mod udp;

pub use tcp::{TcpListener, TcpStream};
pub use udp::UdpSocket;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// An optional timeout shareable between threads (0 = none).
#[derive(Debug, Default)]
pub(crate) struct Timeout(AtomicU64);

impl Timeout {
    pub(crate) fn set(&self, t: Option<Duration>) -> std::io::Result<()> {
        let nanos = match t {
            Some(d) if d.is_zero() => {
                return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "a timeout of zero is not allowed"))
            }
            Some(d) => u64::try_from(d.as_nanos()).unwrap_or(u64::MAX),
            None => 0,
        };
        self.0.store(nanos, Ordering::Relaxed);
        Ok(())
    }
    pub(crate) fn get(&self) -> Option<Duration> {
        match self.0.load(Ordering::Relaxed) {
            0 => None,
            n => Some(Duration::from_nanos(n)),
        }
    }
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.get().and_then(|d| Instant::now().checked_add(d))
    }
}

pub(crate) fn unexpected(reply: synack::Reply) -> std::io::Error {
    std::io::Error::other(format!("unexpected reply from the stack: {reply:?}"))
}
