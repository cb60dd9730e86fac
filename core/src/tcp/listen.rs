//! Listening sockets: passive open (RFC 9293 §3.10.7.2), a bounded backlog of half-open and established
//! connections, and the accept queue.

use super::seq::SeqNum;
use super::tcb::Tcb;
use super::{reset_reply, Stack, TcpState};
use crate::api::{CommandError, Event, Output, Reply, SocketHandle};
use crate::ipv4::Received;
use crate::stats::DropReason;
use crate::time::Instant;
use crate::wire::{EcnCodepoint, TcpFlags, TcpRepr};
use core::net::SocketAddr;
use std::collections::VecDeque;

#[derive(Debug)]
pub(crate) struct Listener {
    pub local: SocketAddr,
    pub backlog: usize,
    /// Connections in SYN-RECEIVED.
    pub half_open: HandleSet,
    /// Established connections waiting for `TcpAccept`, oldest first.
    pub ready: VecDeque<SocketHandle>,
}

impl Listener {
    pub(crate) fn new(local: SocketAddr, backlog: usize) -> Listener {
        Listener { local, backlog, half_open: HandleSet::default(), ready: VecDeque::new() }
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

/// Every listener's state by its handle: a vector in handle order. A stack has few listeners and a handshake
/// looks its listener up several times; each lookup calls one small search, where a B-tree's search was copied
/// into every place that looked.
#[derive(Debug, Default)]
pub(crate) struct ListenerTable {
    entries: Vec<(SocketHandle, Listener)>,
}

impl ListenerTable {
    #[inline(never)]
    fn find(&self, h: SocketHandle) -> Result<usize, usize> {
        self.entries.binary_search_by_key(&h, |e| e.0)
    }

    pub(crate) fn get(&self, h: &SocketHandle) -> Option<&Listener> {
        self.find(*h).ok().map(|i| &self.entries[i].1)
    }

    pub(crate) fn get_mut(&mut self, h: &SocketHandle) -> Option<&mut Listener> {
        self.find(*h).ok().map(|i| &mut self.entries[i].1)
    }

    pub(crate) fn contains_key(&self, h: &SocketHandle) -> bool {
        self.find(*h).is_ok()
    }

    /// Adds (or replaces) the state of listener `h`.
    pub(crate) fn insert(&mut self, h: SocketHandle, l: Listener) {
        match self.find(h) {
            Ok(i) => self.entries[i].1 = l,
            Err(i) => self.entries.insert(i, (h, l)),
        }
    }

    pub(crate) fn remove(&mut self, h: &SocketHandle) -> Option<Listener> {
        self.find(*h).ok().map(|i| self.entries.remove(i).1)
    }
}

/// Handles in increasing order. The stack hands handles out in increasing order and a listener's half-open
/// connections mostly leave oldest first, so adding one appends and removing one finds it at or near the front:
/// a plain deque, where a B-tree took more code on every handshake than the few handles it ever holds.
#[derive(Debug, Default)]
pub(crate) struct HandleSet {
    handles: VecDeque<SocketHandle>,
}

impl HandleSet {
    pub(crate) fn len(&self) -> usize {
        self.handles.len()
    }

    pub(crate) fn insert(&mut self, h: SocketHandle) {
        match self.handles.back() {
            Some(&last) if last >= h => {
                if let Err(at) = self.handles.binary_search(&h) {
                    self.handles.insert(at, h);
                }
            }
            _ => self.handles.push_back(h),
        }
    }

    pub(crate) fn remove(&mut self, h: &SocketHandle) {
        if self.handles.front() == Some(h) {
            self.handles.pop_front();
        } else if let Ok(at) = self.handles.binary_search(h) {
            self.handles.remove(at);
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &SocketHandle> {
        self.handles.iter()
    }
}

impl Stack {
    /// A segment for a listening port with no connection yet. `iss`: the initial sequence number a new
    /// connection must use (one that replaces a TIME-WAIT incarnation), instead of RFC 6528's.
    pub(crate) fn on_listen_segment(
        &mut self,
        listener: SocketHandle,
        rx: &Received<'_>,
        seg: &TcpRepr<'_>,
        iss: Option<SeqNum>,
        now: Instant,
        out: &mut Vec<Output>,
    ) {
        let flags = seg.flags;
        if flags.contains(TcpFlags::RST) {
            return self.drop_frame(DropReason::TcpNoSocket);
        }
        let local = SocketAddr::new(rx.dst, seg.dst_port);
        let remote = SocketAddr::new(rx.src, seg.src_port);
        if flags.contains(TcpFlags::ACK) {
            // Perhaps the end of a SYN-cookie handshake; otherwise any ACK-bearing segment, a SYN-ACK included,
            // is reset (RFC 9293 §3.10.7.2). The reset matters: it is how a client that took a crossed SYN
            // learns that we never saw it.
            let bare_ack = !flags.contains(TcpFlags::SYN);
            if bare_ack && self.config.tcp.syn_cookies && self.accept_cookie(listener, local, remote, seg, now, out) {
                return;
            }
            self.drop_frame(DropReason::TcpNoSocket);
            if let Some(reset) = reset_reply(seg) {
                let why = crate::explain::Why::Reset(crate::explain::ResetWhy::AckToListener);
                self.send_stateless(rx.dst, rx.src, &reset, why, now, out);
            }
            return;
        }
        if !flags.contains(TcpFlags::SYN) || flags.contains(TcpFlags::FIN) {
            return self.drop_frame(DropReason::TcpBadFlags);
        }
        let Some(state) = self.tcp.listener_state.get(&listener) else {
            return self.drop_frame(DropReason::TcpNoSocket);
        };
        if state.ready.len() >= state.backlog {
            // Like Linux: with the accept queue full, drop; the peer retransmits its SYN.
            return self.drop_frame(DropReason::TcpListenOverflow);
        }
        if state.half_open.len() >= self.config.tcp.syn_queue {
            if !self.config.tcp.syn_cookies {
                return self.drop_frame(DropReason::TcpSynQueueFull);
            }
            return self.send_cookie(local, remote, seg, now, out);
        }
        let opening = super::Opening::Passive { listener, syn: seg, ip: rx.ecn, iss };
        self.open_connection(opening, local, remote, now, out);
    }

    /// SYN queue full: answer with a SYN-ACK whose ISN is a cookie, and remember nothing. It offers no ECN
    /// whatever the SYN asked (the cookie cannot remember the request; see `tcp::ecn`).
    fn send_cookie(
        &mut self,
        local: SocketAddr,
        remote: SocketAddr,
        seg: &TcpRepr<'_>,
        now: Instant,
        out: &mut Vec<Output>,
    ) {
        let peer_mss = super::tcb::peer_mss(seg.options.mss, remote.ip());
        let mss = peer_mss.min(self.mtu_mss(remote.ip())) as u16;
        let cookie = self.tcp.cookies.make(local, remote, seg.seq_number, mss, now);
        let window = self.config.tcp.recv_buffer.min(usize::from(u16::MAX)) as u16;
        let syn_ack = TcpRepr {
            src_port: local.port(),
            dst_port: remote.port(),
            seq_number: cookie,
            ack_number: seg.seq_number + 1,
            flags: TcpFlags::SYN | TcpFlags::ACK,
            window_len: window,
            urgent_ptr: 0,
            options: crate::wire::TcpOptions { mss: Some(self.mtu_mss(remote.ip()) as u16), ..Default::default() },
            payload: &[],
        };
        self.stats.tcp_syn_cookies_sent += 1;
        self.send_stateless(local.ip(), remote.ip(), &syn_ack, crate::explain::Why::SynAck, now, out);
    }

    /// The final ACK of a cookie handshake: if the cookie checks out, the connection is born established.
    fn accept_cookie(
        &mut self,
        listener: SocketHandle,
        local: SocketAddr,
        remote: SocketAddr,
        seg: &TcpRepr<'_>,
        now: Instant,
        out: &mut Vec<Output>,
    ) -> bool {
        let Some(mss) = self.tcp.cookies.check(local, remote, seg.seq_number, seg.ack_number, now) else {
            return false;
        };
        match self.tcp.listener_state.get(&listener) {
            Some(state) if state.ready.len() < state.backlog => {}
            _ => {
                self.drop_frame(DropReason::TcpListenOverflow);
                return true;
            }
        }
        self.stats.tcp_syn_cookies_valid += 1;
        let handle = self.alloc_handle();
        let (initial, cfg) = (Tcb::cookie_initial(seg, usize::from(mss)), &self.config.tcp);
        let mut tcb = self.tcp.new_tcb(handle, TcpState::Established, (local, remote), initial, cfg);
        tcb.take_cookie_ack(listener, seg, cfg);
        self.tcp.register(local, remote, handle);
        if let Some(state) = self.tcp.listener_state.get_mut(&listener) {
            state.half_open.insert(handle);
        }
        let mut fx = self.new_effects();
        fx.established = true;
        // A cookie connection never uses ECN (see `tcp::ecn`), so the codepoint is never looked at.
        tcb.on_segment(seg, EcnCodepoint::NotEct, now, &self.config.tcp, &mut fx);
        self.apply_effects(tcb, fx, now, out);
        true
    }

    pub(crate) fn tcp_listen(&mut self, local: SocketAddr, backlog: usize) -> Result<Reply, CommandError> {
        self.check_bindable(local.ip())?;
        if backlog == 0 {
            return Err(CommandError::BadArgument("backlog must be at least 1"));
        }
        let backlog = backlog.min(self.config.tcp.max_backlog);
        let port = match local.port() {
            0 => self.tcp.allocate_free_port().ok_or(CommandError::NoEphemeralPort)?,
            p => p,
        };
        let sock = self.alloc_handle();
        self.tcp.listeners.bind(local.ip(), port, sock)?;
        let local = SocketAddr::new(local.ip(), port);
        self.tcp.listener_state.insert(sock, Listener::new(local, backlog));
        Ok(Reply::Bound { sock, local })
    }

    pub(crate) fn tcp_accept(&mut self, listener: SocketHandle, out: &mut Vec<Output>) -> Result<Reply, CommandError> {
        let state = self.tcp.listener_state.get_mut(&listener).ok_or(CommandError::NoSuchSocket(listener))?;
        let sock = state.ready.pop_front().ok_or(CommandError::WouldBlock)?;
        let tcb = self.tcp.conns.get_mut(&sock).ok_or(CommandError::WouldBlock)?;
        tcb.owner.accepted();
        // Replay what happened before the application knew the connection.
        if tcb.rcv.buf().readable() > 0 {
            out.push(Output::Event(sock, Event::Readable));
        }
        if tcb.rcv.fin_received() {
            out.push(Output::Event(sock, Event::PeerClosed));
        }
        Ok(Reply::Accepted { sock, local: tcb.ends.local(), remote: tcb.ends.remote() })
    }

    /// Stops listening; connections not yet accepted are reset.
    pub(crate) fn tcp_close_listener(&mut self, listener: SocketHandle, now: Instant, out: &mut Vec<Output>) -> bool {
        let Some(state) = self.tcp.listener_state.remove(&listener) else {
            return false;
        };
        self.tcp.listeners.release(state.local.port(), listener);
        let members: Vec<SocketHandle> = state.half_open.iter().copied().chain(state.ready.iter().copied()).collect();
        for h in members {
            if let Some(tcb) = self.tcp.conns.get_mut(&h) {
                tcb.owner.release();
            }
            self.with_tcb(h, now, out, |tcb, _, fx| tcb.abort(fx));
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    proptest::proptest! {
        /// The deque holds what a set would, in the set's order, whatever the order of adds and removes.
        #[test]
        fn handle_set_matches_a_b_tree_set(ops in proptest::collection::vec((proptest::bool::ANY, 0u32..40), 0..300)) {
            let (mut set, mut model) = (HandleSet::default(), BTreeSet::new());
            // Mostly increasing handles, as the stack hands them out, with some going back.
            for (i, (add, jitter)) in ops.into_iter().enumerate() {
                let h = SocketHandle((i as u32 / 2).saturating_sub(jitter % 8) + jitter / 8);
                if add {
                    set.insert(h);
                    model.insert(h);
                } else {
                    set.remove(&h);
                    model.remove(&h);
                }
                proptest::prop_assert_eq!(set.len(), model.len());
                proptest::prop_assert!(set.iter().eq(model.iter()));
            }
        }
    }
}
