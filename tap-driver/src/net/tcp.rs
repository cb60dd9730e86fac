//! `TcpListener` and `TcpStream`: blocking TCP over the driver, shaped like `std::net`'s.

use super::{unexpected, Timeout};
use crate::handle::{Handle, Wait};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use synack::{Command, Reply, SocketHandle};

/// Connections waiting in a listener's accept queue unless told otherwise.
pub const DEFAULT_BACKLOG: usize = 128;
/// Most bytes one read asks the stack for: more than a receive buffer holds, so a read takes everything that
/// is waiting (one round trip to the driver thread per buffer-full, not per 64 KiB).
const MAX_READ: usize = 1 << 20;
/// Most bytes one write hands over (copied into a `Vec` the stack keeps): a default send buffer's worth, so a
/// large write does not copy bytes the stack has no room for yet.
const MAX_WRITE: usize = 256 * 1024;

/// A listening TCP socket. Dropping it stops listening.
#[derive(Debug)]
pub struct TcpListener {
    handle: Handle,
    sock: SocketHandle,
    local: SocketAddr,
}

impl TcpListener {
    /// Listens on `local` (`0.0.0.0:port` or our address; port 0 picks one).
    pub fn bind(handle: &Handle, local: SocketAddr) -> io::Result<TcpListener> {
        TcpListener::bind_with_backlog(handle, local, DEFAULT_BACKLOG)
    }

    pub fn bind_with_backlog(handle: &Handle, local: SocketAddr, backlog: usize) -> io::Result<TcpListener> {
        match handle.call(Command::TcpListen { local, backlog }, Wait::No, None)? {
            Reply::Bound { sock, local } => Ok(TcpListener { handle: handle.clone(), sock, local }),
            other => Err(unexpected(other)),
        }
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Waits for the next established connection.
    pub fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        self.accept_until(None)
    }

    /// Like [`TcpListener::accept`], failing with `TimedOut` after `timeout`.
    pub fn accept_timeout(&self, timeout: Duration) -> io::Result<(TcpStream, SocketAddr)> {
        self.accept_until(Instant::now().checked_add(timeout))
    }

    fn accept_until(&self, deadline: Option<Instant>) -> io::Result<(TcpStream, SocketAddr)> {
        let cmd = Command::TcpAccept { listener: self.sock };
        match self.handle.call(cmd, Wait::Retry(self.sock), deadline)? {
            Reply::Accepted { sock, local, remote } => Ok((TcpStream::new(&self.handle, sock, local, remote), remote)),
            other => Err(unexpected(other)),
        }
    }
}

impl Drop for TcpListener {
    fn drop(&mut self) {
        self.handle.detach(Command::TcpClose { sock: self.sock });
    }
}

/// The shared part of a stream and its clones; the connection is closed when the last one goes.
#[derive(Debug)]
struct Inner {
    handle: Handle,
    sock: SocketHandle,
    local: SocketAddr,
    peer: SocketAddr,
    read_shut: AtomicBool,
    read_timeout: Timeout,
    write_timeout: Timeout,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.handle.detach(Command::TcpClose { sock: self.sock });
    }
}

/// A TCP connection: `Read` pulls received bytes, `Write` queues bytes in the stack's send buffer.
///
/// Clones (from [`TcpStream::try_clone`]) share the connection, e.g. one thread reading while another writes.
#[derive(Debug, Clone)]
pub struct TcpStream {
    inner: Arc<Inner>,
}

impl TcpStream {
    fn new(handle: &Handle, sock: SocketHandle, local: SocketAddr, peer: SocketAddr) -> TcpStream {
        let inner = Inner {
            handle: handle.clone(),
            sock,
            local,
            peer,
            read_shut: AtomicBool::new(false),
            read_timeout: Timeout::default(),
            write_timeout: Timeout::default(),
        };
        TcpStream { inner: Arc::new(inner) }
    }

    /// Opens a connection; waits until it is established, refused, unreachable or timed out by the stack.
    pub fn connect(handle: &Handle, remote: SocketAddr) -> io::Result<TcpStream> {
        TcpStream::connect_until(handle, remote, None)
    }

    /// Like [`TcpStream::connect`], giving up (and aborting the attempt) after `timeout`.
    pub fn connect_timeout(handle: &Handle, remote: SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
        TcpStream::connect_until(handle, remote, Instant::now().checked_add(timeout))
    }

    fn connect_until(handle: &Handle, remote: SocketAddr, deadline: Option<Instant>) -> io::Result<TcpStream> {
        match handle.call(Command::TcpConnect { remote, local_port: None }, Wait::Connect, deadline)? {
            Reply::Bound { sock, local } => Ok(TcpStream::new(handle, sock, local, remote)),
            other => Err(unexpected(other)),
        }
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.inner.local
    }

    pub fn peer_addr(&self) -> SocketAddr {
        self.inner.peer
    }

    /// The stack's handle of this connection.
    pub fn socket_handle(&self) -> SocketHandle {
        self.inner.sock
    }

    /// Another handle on the same connection.
    pub fn try_clone(&self) -> io::Result<TcpStream> {
        Ok(self.clone())
    }

    /// `Write` sends FIN after the queued data; `Read` makes blocked and later reads return end of stream (as
    /// std documents; a thread blocked in `read` on a clone wakes); `Both` does both.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        if matches!(how, Shutdown::Read | Shutdown::Both) {
            self.inner.read_shut.store(true, Ordering::Relaxed);
            self.inner.handle.shut_read(self.inner.sock)?;
        }
        if matches!(how, Shutdown::Write | Shutdown::Both) {
            self.inner.handle.call(Command::TcpShutdown { sock: self.inner.sock }, Wait::No, None)?;
        }
        Ok(())
    }

    /// Aborts the connection with a reset.
    pub fn abort(self) -> io::Result<()> {
        self.inner.handle.call(Command::TcpAbort { sock: self.inner.sock }, Wait::No, None).map(|_| ())
    }

    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.inner.handle.call(Command::TcpSetNoDelay { sock: self.inner.sock, nodelay }, Wait::No, None).map(|_| ())
    }

    /// Keep-alive probes for this connection (`SO_KEEPALIVE`), with the stack's times (`TcpConfig::keepalive_idle`
    /// and after): a peer that vanished is then noticed, and a blocked read fails with `TimedOut`.
    pub fn set_keepalive(&self, keepalive: bool) -> io::Result<()> {
        let cmd = Command::TcpSetKeepAlive { sock: self.inner.sock, keepalive };
        self.inner.handle.call(cmd, Wait::No, None).map(|_| ())
    }

    /// `None` waits forever (the default); a read that times out fails with `TimedOut`.
    pub fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        self.inner.read_timeout.set(t)
    }

    pub fn set_write_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        self.inner.write_timeout.set(t)
    }

    pub fn read_timeout(&self) -> Option<Duration> {
        self.inner.read_timeout.get()
    }

    /// Writes without copying: the stack keeps a reference to `data` (the `bytes` crate's shared buffer,
    /// re-exported as [`synack::Bytes`]) until the peer acknowledges it, so the same buffer can be written many
    /// times or to many connections. Returns how many bytes were taken from the front, blocking (up to the
    /// write timeout) while the send buffer is full, as [`Write::write`] does; offer the rest again with
    /// `data.slice(n..)`.
    pub fn write_bytes(&self, data: synack::Bytes) -> io::Result<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        let (sock, deadline) = (self.inner.sock, self.inner.write_timeout.deadline());
        match self.inner.handle.call(Command::TcpSendBytes { sock, data }, Wait::Retry(sock), deadline)? {
            Reply::Sent { len } => Ok(len),
            other => Err(unexpected(other)),
        }
    }

    pub fn write_timeout(&self) -> Option<Duration> {
        self.inner.write_timeout.get()
    }

    fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() || self.inner.read_shut.load(Ordering::Relaxed) {
            return Ok(0);
        }
        let (sock, deadline) = (self.inner.sock, self.inner.read_timeout.deadline());
        let cmd = Command::TcpRecv { sock, max: buf.len().min(MAX_READ) };
        match self.inner.handle.call(cmd, Wait::Retry(sock), deadline)? {
            Reply::Data(data) if data.len() <= buf.len() => {
                buf[..data.len()].copy_from_slice(&data);
                Ok(data.len())
            }
            other => Err(unexpected(other)),
        }
    }

    fn send(&self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let (sock, deadline) = (self.inner.sock, self.inner.write_timeout.deadline());
        let cmd = Command::TcpSend { sock, data: buf[..buf.len().min(MAX_WRITE)].to_vec() };
        match self.inner.handle.call(cmd, Wait::Retry(sock), deadline)? {
            Reply::Sent { len } => Ok(len),
            other => Err(unexpected(other)),
        }
    }
}

impl Read for TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.recv(buf)
    }
}

impl Read for &TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.recv(buf)
    }
}

impl Write for TcpStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.send(buf)
    }
    /// Bytes are in the stack's send buffer once `write` returns; there is nothing more to flush.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Write for &TcpStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.send(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
