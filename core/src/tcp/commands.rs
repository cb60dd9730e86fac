//! The application's TCP commands: connect, send, receive, shutdown, close, abort, options.

use super::buffer::Chunk;
use super::demux::ConnectionKey;
use super::segment::Outgoing;
use super::tcb::{Effects, Tcb};
use super::{Stack, TcpState};
use crate::api::{CommandError, Event, Output, Reply, SocketHandle};
use crate::explain::{AckWhy, ResetWhy, Why};
use crate::time::Instant;
use crate::wire::TcpFlags;
use bytes::Bytes;
use core::net::{IpAddr, SocketAddr};

impl Tcb {
    /// Sends RST if the peer knows the connection, then forgets it (RFC 9293 §3.10.5 ABORT).
    pub(crate) fn abort(&mut self, fx: &mut Effects) {
        if !matches!(self.state, TcpState::SynSent | TcpState::Closed | TcpState::TimeWait) {
            self.send_reset(ResetWhy::Abort, fx);
        }
        self.terminate(None, fx);
    }

    /// A reset that ends this connection for `why`: <SEQ=SND.MAX><ACK=RCV.NXT><CTL=RST,ACK>.
    pub(crate) fn send_reset(&mut self, why: ResetWhy, fx: &mut Effects) {
        let mut rst = Outgoing::control(self.snd.max(), TcpFlags::RST | TcpFlags::ACK, Why::Reset(why));
        rst.ack = Some(self.rcv.nxt());
        fx.transmit.push(rst);
    }

    /// Queues our FIN (RFC 9293 §3.10.4 CLOSE, sending side).
    fn shutdown_send(&mut self, fx: &mut Effects) {
        match self.state {
            TcpState::Established | TcpState::SynReceived => {
                self.snd.queue_fin();
                self.transition(TcpState::FinWait1);
            }
            TcpState::CloseWait => {
                self.snd.queue_fin();
                self.transition(TcpState::LastAck);
            }
            TcpState::SynSent => self.terminate(Some(Event::Closed), fx),
            _ => {}
        }
    }

    /// Queues the FIN and sends what can go now (unless that ended the connection).
    fn shutdown_and_flush(&mut self, now: Instant, cfg: &crate::config::TcpConfig, fx: &mut Effects) {
        self.shutdown_send(fx);
        if !fx.release {
            self.poll_send(now, cfg, fx);
        }
    }
}

impl Stack {
    /// Runs `f` on a connection the application owns and answers `Done`; `NoSuchSocket` if it owns none.
    fn with_owned_tcb(
        &mut self,
        sock: SocketHandle,
        now: Instant,
        out: &mut Vec<Output>,
        f: impl FnOnce(&mut Tcb, &crate::config::TcpConfig, &mut Effects),
    ) -> Result<Reply, CommandError> {
        self.owned_tcb(sock)?;
        self.with_tcb(sock, now, out, f);
        Ok(Reply::Done)
    }

    /// Looks up a connection the application owns.
    fn owned_tcb(&self, sock: SocketHandle) -> Result<&Tcb, CommandError> {
        match self.tcp.conns.get(&sock) {
            Some(t) if t.owner.held_by_app() => Ok(t),
            _ => Err(CommandError::NoSuchSocket(sock)),
        }
    }

    pub(crate) fn tcp_connect(
        &mut self,
        remote: SocketAddr,
        local_port: Option<u16>,
        now: Instant,
        out: &mut Vec<Output>,
    ) -> Result<Reply, CommandError> {
        if remote.port() == 0 {
            return Err(CommandError::BadDestination(remote));
        }
        let local_ip = self.source_for(remote)?;
        let unicast = match remote.ip() {
            IpAddr::V4(v4) => !v4.is_broadcast() && Some(v4) != self.config.ipv4.broadcast(),
            IpAddr::V6(v6) => !v6.is_multicast(),
        };
        if !unicast {
            return Err(CommandError::BadDestination(remote));
        }
        let port = match local_port {
            Some(0) | None => self.tcp.allocate_port_for(local_ip, remote).ok_or(CommandError::NoEphemeralPort)?,
            Some(p) if self.tcp.demux.contains(&ConnectionKey::new(SocketAddr::new(local_ip, p), remote)) => {
                return Err(CommandError::AddrInUse(p))
            }
            Some(p) => p,
        };
        let local = SocketAddr::new(local_ip, port);
        // The reply must precede the SYN's effects in `out`; the stack inserts it at the front.
        let sock = self.open_connection(super::Opening::Active, local, remote, now, out);
        Ok(Reply::Bound { sock, local })
    }

    /// `TcpSend` (a `Vec`) and `TcpSendBytes` (a shared `Bytes`).
    pub(crate) fn tcp_send(
        &mut self,
        sock: SocketHandle,
        data: Chunk,
        now: Instant,
        out: &mut Vec<Output>,
    ) -> Result<Reply, CommandError> {
        let len = self.queue_write(sock, data, now, out)?;
        Ok(Reply::Sent { len })
    }

    /// Sends without copying: the send queue keeps `data` itself (a reference to the caller's buffer, which
    /// may be shared) until the peer acknowledges its last byte, and frames are built from it. The zero-copy
    /// counterpart of [`Command::TcpSend`](crate::Command::TcpSend), which hands over a `Vec` instead.
    ///
    /// Returns how many bytes were taken, from the front of `data`: what the send buffer had room for. The rest
    /// can be offered again later at no cost (`data.slice(n..)`); a short write asks for
    /// [`Event::Writable`](crate::Event::Writable), as `TcpSend` does. Zero bytes ask whether there is room.
    /// Errors as `TcpSend`: `WouldBlock` when nothing was taken, `InvalidState` after a shutdown or in a state
    /// that cannot send, `ConnectionAborted` once the connection is gone. Effects are appended to `out`.
    pub fn tcp_write(
        &mut self,
        sock: SocketHandle,
        data: Bytes,
        now: Instant,
        out: &mut Vec<Output>,
    ) -> Result<usize, CommandError> {
        let now = self.clock.advance(now);
        self.queue_write(sock, data.into(), now, out)
    }

    /// Queues one write (either kind) on `sock` and lets the connection send what it can.
    fn queue_write(
        &mut self,
        sock: SocketHandle,
        data: Chunk,
        now: Instant,
        out: &mut Vec<Output>,
    ) -> Result<usize, CommandError> {
        let tcb = self.owned_tcb(sock)?;
        match tcb.state {
            TcpState::SynSent | TcpState::SynReceived | TcpState::Established | TcpState::CloseWait
                if !tcb.snd.fin_queued() => {}
            other => return Err(CommandError::InvalidState(other)),
        }
        let offered = data.len();
        if offered == 0 {
            // Zero bytes ask whether there is room: with none, the caller waits for `Writable` as after a
            // refused write (a driver can then keep a write's bytes until there is room, instead of a copy).
            if tcb.snd.buf().free() > 0 {
                return Ok(0);
            }
            if let Some(t) = self.tcp.conns.get_mut(&sock) {
                t.owner.wish_writable();
            }
            return Err(CommandError::WouldBlock);
        }
        let mut accepted = 0;
        self.with_tcb(sock, now, out, |tcb, cfg, fx| {
            accepted = tcb.snd.queue(data);
            if accepted < offered {
                tcb.owner.wish_writable();
            }
            tcb.poll_send(now, cfg, fx);
        });
        if accepted == 0 {
            return Err(CommandError::WouldBlock);
        }
        Ok(accepted)
    }

    pub(crate) fn tcp_recv(
        &mut self,
        sock: SocketHandle,
        max: usize,
        now: Instant,
        out: &mut Vec<Output>,
    ) -> Result<Reply, CommandError> {
        let mut data = Vec::with_capacity(max.min(self.owned_tcb(sock)?.rcv.buf().readable()));
        self.tcp_read_with(sock, max, now, out, |bytes| data.extend_from_slice(bytes))?;
        Ok(Reply::Data(data))
    }

    /// Reads received bytes without copying them out: up to `max` in-order bytes are lent to `f` where they
    /// lie in the connection's receive queue (one call per contiguous slice, in order), then released. The
    /// zero-copy counterpart of [`Command::TcpRecv`](crate::Command::TcpRecv), which copies the same bytes into
    /// a new `Vec`. Effects (a window update the read makes worthwhile) are appended to `out`.
    ///
    /// Returns how many bytes were read; `Ok(0)` means the peer's FIN was reached (end of stream). Errors as
    /// `TcpRecv`: `WouldBlock` while nothing is readable, `ConnectionAborted` once the connection is gone.
    pub fn tcp_read(
        &mut self,
        sock: SocketHandle,
        max: usize,
        now: Instant,
        out: &mut Vec<Output>,
        f: impl FnMut(&[u8]),
    ) -> Result<usize, CommandError> {
        let now = self.clock.advance(now);
        self.tcp_read_with(sock, max, now, out, f)
    }

    /// Reads received bytes into the caller's buffer in one pass (the one copy a `std::io::Read` needs):
    /// up to `buf.len()` bytes, as [`Stack::tcp_read`], with no allocation.
    pub fn tcp_read_into(
        &mut self,
        sock: SocketHandle,
        buf: &mut [u8],
        now: Instant,
        out: &mut Vec<Output>,
    ) -> Result<usize, CommandError> {
        let mut at = 0;
        self.tcp_read(sock, buf.len(), now, out, |bytes| {
            // Never short: `tcp_read` lends at most `buf.len()` bytes in all.
            if let Some(dst) = buf.get_mut(at..at + bytes.len()) {
                dst.copy_from_slice(bytes);
            }
            at += bytes.len();
        })
    }

    /// Reads up to `max` in-order bytes, lending them to `f` where they lie in the receive queue (one call per
    /// contiguous slice). `Ok(0)`: the peer's FIN was reached (end of stream).
    pub(crate) fn tcp_read_with(
        &mut self,
        sock: SocketHandle,
        max: usize,
        now: Instant,
        out: &mut Vec<Output>,
        f: impl FnMut(&[u8]),
    ) -> Result<usize, CommandError> {
        let tcb = self.owned_tcb(sock)?;
        if max == 0 {
            return Err(CommandError::BadArgument("max must be at least 1"));
        }
        if tcb.rcv.buf().readable() == 0 {
            if tcb.rcv.fin_received() {
                return Ok(0);
            }
            return match tcb.state {
                TcpState::Closed => Err(CommandError::ConnectionAborted),
                _ => Err(CommandError::WouldBlock),
            };
        }
        let mut read = 0;
        self.with_tcb(sock, now, out, |tcb, cfg, fx| {
            read = tcb.rcv.read_with(max, &mut fx.blocks, f);
            tcb.note_read(read, now, cfg);
            // Reading opened the window: tell the peer if it is worth it (receiver SWS avoidance).
            if tcb.synchronized() && !tcb.rcv.fin_received() && tcb.rcv.window_update_worthwhile(tcb.opts.mss()) {
                tcb.ack.request_now(AckWhy::WindowUpdate);
            }
            tcb.poll_send(now, cfg, fx);
        });
        Ok(read)
    }

    pub(crate) fn tcp_shutdown(
        &mut self,
        sock: SocketHandle,
        now: Instant,
        out: &mut Vec<Output>,
    ) -> Result<Reply, CommandError> {
        self.with_owned_tcb(sock, now, out, |tcb, cfg, fx| tcb.shutdown_and_flush(now, cfg, fx))
    }

    pub(crate) fn tcp_close(
        &mut self,
        sock: SocketHandle,
        now: Instant,
        out: &mut Vec<Output>,
    ) -> Result<Reply, CommandError> {
        if self.tcp_close_listener(sock, now, out) {
            return Ok(Reply::Done);
        }
        self.with_owned_tcb(sock, now, out, |tcb, cfg, fx| {
            // Keep-alive is for connections the application holds; its deadline shares the close timer.
            tcb.stop_keepalive();
            tcb.owner.release();
            if tcb.rcv.buf().readable() > 0 {
                // Unread data is lost: tell the peer with a reset, as Linux does (RFC 2525 §2.17).
                tcb.abort(fx);
                return;
            }
            match tcb.state {
                TcpState::Closed => tcb.terminate(None, fx),
                TcpState::TimeWait => {}
                TcpState::FinWait2 => tcb.timers.close_at(now + cfg.time_wait),
                _ => tcb.shutdown_and_flush(now, cfg, fx),
            }
        })
    }

    pub(crate) fn tcp_abort(
        &mut self,
        sock: SocketHandle,
        now: Instant,
        out: &mut Vec<Output>,
    ) -> Result<Reply, CommandError> {
        if self.tcp_close_listener(sock, now, out) {
            return Ok(Reply::Done);
        }
        self.with_owned_tcb(sock, now, out, |tcb, _, fx| {
            tcb.owner.release();
            tcb.abort(fx);
        })
    }

    pub(crate) fn tcp_set_congestion(
        &mut self,
        sock: SocketHandle,
        algorithm: &crate::tcp::CongestionAlgorithm,
        now: Instant,
        out: &mut Vec<Output>,
    ) -> Result<Reply, CommandError> {
        self.with_owned_tcb(sock, now, out, |tcb, cfg, fx| {
            tcb.switch_congestion(algorithm);
            tcb.poll_send(now, cfg, fx);
        })
    }

    pub(crate) fn tcp_set_keepalive(
        &mut self,
        sock: SocketHandle,
        keepalive: bool,
        now: Instant,
        out: &mut Vec<Output>,
    ) -> Result<Reply, CommandError> {
        self.with_owned_tcb(sock, now, out, |tcb, cfg, _| {
            tcb.stop_keepalive();
            tcb.switches.set(super::tcb::KEEPALIVE, keepalive);
            tcb.restart_keepalive(now, cfg);
        })
    }

    pub(crate) fn tcp_set_nodelay(
        &mut self,
        sock: SocketHandle,
        nodelay: bool,
        now: Instant,
        out: &mut Vec<Output>,
    ) -> Result<Reply, CommandError> {
        self.with_owned_tcb(sock, now, out, |tcb, cfg, fx| {
            tcb.switches.set(super::tcb::NODELAY, nodelay);
            tcb.poll_send(now, cfg, fx);
        })
    }
}
