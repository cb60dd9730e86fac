//! `UdpSocket`: blocking datagrams over the driver, shaped like `std::net::UdpSocket`.

use super::{unexpected, Timeout};
use crate::handle::{Handle, Wait};
use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use synack::{Command, Reply, SocketHandle};

/// A bound UDP socket. Dropping it closes it.
#[derive(Debug)]
pub struct UdpSocket {
    handle: Handle,
    sock: SocketHandle,
    local: SocketAddr,
    read_timeout: Timeout,
}

impl UdpSocket {
    /// Binds `local` (`0.0.0.0:port` or our address; port 0 picks one).
    pub fn bind(handle: &Handle, local: SocketAddr) -> io::Result<UdpSocket> {
        match handle.call(Command::UdpBind { local }, Wait::No, None)? {
            Reply::Bound { sock, local } => {
                Ok(UdpSocket { handle: handle.clone(), sock, local, read_timeout: Timeout::default() })
            }
            other => Err(unexpected(other)),
        }
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Sends one datagram; returns its length. The datagram may still wait for ARP resolution (and be lost).
    pub fn send_to(&self, buf: &[u8], remote: SocketAddr) -> io::Result<usize> {
        let cmd = Command::UdpSendTo { sock: self.sock, remote, data: buf.to_vec() };
        match self.handle.call(cmd, Wait::No, None)? {
            Reply::Sent { len } => Ok(len),
            other => Err(unexpected(other)),
        }
    }

    /// Waits for one datagram; copies as much as fits into `buf` (the rest is discarded, as with std).
    pub fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let cmd = Command::UdpRecv { sock: self.sock };
        match self.handle.call(cmd, Wait::Retry(self.sock), self.read_timeout.deadline())? {
            Reply::Datagram { from, data } => {
                let n = data.len().min(buf.len());
                buf[..n].copy_from_slice(&data[..n]);
                Ok((n, from))
            }
            other => Err(unexpected(other)),
        }
    }

    /// `None` waits forever (the default); a receive that times out fails with `TimedOut`.
    pub fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        self.read_timeout.set(t)
    }

    pub fn read_timeout(&self) -> Option<Duration> {
        self.read_timeout.get()
    }
}

impl Drop for UdpSocket {
    fn drop(&mut self) {
        self.handle.detach(Command::UdpClose { sock: self.sock });
    }
}
