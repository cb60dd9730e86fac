//! Listening sockets: passive open (RFC 9293 §3.10.7.2), a bounded backlog of half-open and established
//! connections, and the accept queue.

use super::tcb::{Effects, Tcb};
use super::{reset_reply, Stack, TcpState};
use crate::api::{CommandError, Event, Output, Reply, SocketHandle};
use crate::ipv4::Received;
use crate::stats::DropReason;
use crate::time::Instant;
use crate::wire::{TcpFlags, TcpRepr};
use core::net::SocketAddrV4;
use std::collections::{BTreeSet, VecDeque};

#[derive(Debug)]
pub(crate) struct Listener {
    pub local: SocketAddrV4,
    pub backlog: usize,
    /// Connections in SYN-RECEIVED.
    pub half_open: BTreeSet<SocketHandle>,
    /// Established connections waiting for `TcpAccept`, oldest first.
    pub ready: VecDeque<SocketHandle>,
}

impl Listener {
    pub(crate) fn new(local: SocketAddrV4, backlog: usize) -> Listener {
        Listener { local, backlog, half_open: BTreeSet::new(), ready: VecDeque::new() }
    }

    fn full(&self) -> bool {
        self.half_open.len() + self.ready.len() >= self.backlog
    }

    /// A half-open connection completed its handshake.
    pub(crate) fn promote(&mut self, h: SocketHandle) {
        self.half_open.remove(&h);
        self.ready.push_back(h);
    }

    /// A member connection went away before it was accepted.
    pub(crate) fn forget(&mut self, h: SocketHandle) {
        self.half_open.remove(&h);
        self.ready.retain(|r| *r != h);
    }
}

impl Stack {
    /// A segment for a listening port with no connection yet.
    pub(crate) fn on_listen_segment(
        &mut self,
        listener: SocketHandle,
        rx: &Received<'_>,
        seg: &TcpRepr<'_>,
        now: Instant,
        out: &mut Vec<Output>,
    ) {
        let flags = seg.flags;
        if flags.contains(TcpFlags::RST) {
            return self.drop_frame(DropReason::TcpNoSocket);
        }
        if flags.contains(TcpFlags::ACK) {
            // An ACK for no connection (e.g. a stale or forged handshake end): reset it.
            self.drop_frame(DropReason::TcpNoSocket);
            if let Some(reset) = reset_reply(seg) {
                self.send_tcp_reset(rx.dst, rx.src, &reset, now, out);
            }
            return;
        }
        if !flags.contains(TcpFlags::SYN) || flags.contains(TcpFlags::FIN) {
            return self.drop_frame(DropReason::TcpBadFlags);
        }
        let Some(state) = self.tcp.listener_state.get(&listener) else {
            return self.drop_frame(DropReason::TcpNoSocket);
        };
        if state.full() {
            // Like Linux without SYN cookies: drop; the peer retransmits its SYN.
            return self.drop_frame(DropReason::TcpListenOverflow);
        }
        let local = SocketAddrV4::new(rx.dst, seg.dst_port);
        let remote = SocketAddrV4::new(rx.src, seg.src_port);
        let handle = self.alloc_handle();
        let iss = self.tcp.isn(local, remote, now);
        let mtu_mss = self.mtu_mss();
        let cfg = &self.config.tcp;
        let cc = cfg.congestion.build(mtu_mss);
        let mut tcb = Tcb::new(handle, TcpState::SynReceived, local, remote, iss, mtu_mss, cfg, cc);
        tcb.passive = true;
        tcb.listener = Some(listener);
        tcb.irs = seg.seq_number;
        tcb.rcv_nxt = seg.seq_number + 1;
        tcb.rcv_adv_edge = tcb.rcv_nxt;
        tcb.take_syn_options(seg, mtu_mss, cfg);
        tcb.snd_wnd = usize::from(seg.window_len);
        tcb.snd_wl1 = seg.seq_number;
        tcb.snd_wl2 = iss;
        tcb.counters.segments_received += 1;
        let mut fx = Effects::default();
        tcb.send_syn(now, &mut fx);
        if let Some(state) = self.tcp.listener_state.get_mut(&listener) {
            state.half_open.insert(handle);
        }
        self.tcp.register(local, remote, handle);
        self.apply_effects(tcb, fx, now, out);
    }

    pub(crate) fn tcp_listen(&mut self, local: SocketAddrV4, backlog: usize) -> Result<Reply, CommandError> {
        let ours = self.config.ipv4.addr();
        if !local.ip().is_unspecified() && *local.ip() != ours {
            return Err(CommandError::AddrNotAvailable(*local.ip()));
        }
        if backlog == 0 {
            return Err(CommandError::BadArgument("backlog must be at least 1"));
        }
        let backlog = backlog.min(self.config.tcp.max_backlog);
        let port = match local.port() {
            0 => self.tcp.allocate_port().ok_or(CommandError::NoEphemeralPort)?,
            p if self.tcp.listeners.contains_key(&p) => return Err(CommandError::AddrInUse(p)),
            p => p,
        };
        let sock = self.alloc_handle();
        let local = SocketAddrV4::new(*local.ip(), port);
        self.tcp.listeners.insert(port, sock);
        self.tcp.listener_state.insert(sock, Listener::new(local, backlog));
        Ok(Reply::Bound { sock, local })
    }

    pub(crate) fn tcp_accept(&mut self, listener: SocketHandle, out: &mut Vec<Output>) -> Result<Reply, CommandError> {
        let state = self.tcp.listener_state.get_mut(&listener).ok_or(CommandError::NoSuchSocket(listener))?;
        let sock = state.ready.pop_front().ok_or(CommandError::WouldBlock)?;
        let tcb = self.tcp.conns.get_mut(&sock).ok_or(CommandError::WouldBlock)?;
        tcb.listener = None;
        // Replay what happened before the application knew the connection.
        if tcb.recv_buf.readable() > 0 {
            out.push(Output::Event(sock, Event::Readable));
        }
        if tcb.fin_received {
            out.push(Output::Event(sock, Event::PeerClosed));
        }
        Ok(Reply::Accepted { sock, local: tcb.local, remote: tcb.remote })
    }

    /// Stops listening; connections not yet accepted are reset.
    pub(crate) fn tcp_close_listener(&mut self, listener: SocketHandle, now: Instant, out: &mut Vec<Output>) -> bool {
        let Some(state) = self.tcp.listener_state.remove(&listener) else {
            return false;
        };
        self.tcp.listeners.remove(&state.local.port());
        let members: Vec<SocketHandle> = state.half_open.iter().copied().chain(state.ready.iter().copied()).collect();
        for h in members {
            if let Some(tcb) = self.tcp.conns.get_mut(&h) {
                tcb.listener = None;
                tcb.app_closed = true;
            }
            self.with_tcb(h, now, out, |tcb, _, fx| tcb.abort(fx));
        }
        true
    }
}
