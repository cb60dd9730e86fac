//! Applications that run inside the driver thread, called on their sockets' events with the stack at hand.
//!
//! A blocking socket of [`crate::net`] costs two thread hand-offs per call (the request to the driver thread and
//! its answer) and a thread per connection; an [`App`] costs none: the driver calls it right after the frame,
//! command or timer that produced the event, and what the app then sends goes out in the same wake-up. The
//! built-in servers of `synack-tap` are one app serving every connection of every service.

use std::collections::BTreeSet;
use std::time::Instant;
use synack::{Command, CommandError, Output, Reply, SocketHandle, Stack};

/// An event-driven application inside the driver thread. Installed with [`crate::Handle::install`].
pub trait App: Send {
    /// Called once, when installed: open listeners and sockets here. An error refuses the installation (the
    /// sockets opened so far are closed) and is the installer's answer.
    fn start(&mut self, cx: &mut AppContext<'_>) -> Result<(), String>;
    /// An event of a socket the app opened or accepted. Events of one socket come in the stack's order.
    fn on_event(&mut self, cx: &mut AppContext<'_>, sock: SocketHandle, event: &synack::Event);
    /// When the app next wants [`App::on_timer`] (`None`: no timer).
    fn next_deadline(&self) -> Option<Instant> {
        None
    }
    /// Called once the deadline of [`App::next_deadline`] has passed.
    fn on_timer(&mut self, _cx: &mut AppContext<'_>) {}
    /// Called when the driver stops, before the app is dropped.
    fn on_stop(&mut self) {}
}

/// What an app may do while it is called: run commands on the stack, read the time and the configuration.
pub struct AppContext<'a> {
    pub(crate) stack: &'a mut Stack,
    pub(crate) outs: &'a mut Vec<Output>,
    /// The sockets whose events go to the app.
    pub(crate) owned: &'a mut BTreeSet<SocketHandle>,
    pub(crate) now: Instant,
    pub(crate) stack_now: synack::Instant,
}

impl std::fmt::Debug for AppContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppContext").field("owned", &self.owned.len()).finish_non_exhaustive()
    }
}

impl AppContext<'_> {
    /// Runs one command. A socket it creates (bound, accepted) sends its events to the app from now on. Frames
    /// and events it causes are carried out when the app's call returns.
    pub fn command(&mut self, cmd: Command) -> Result<Reply, CommandError> {
        let released = match &cmd {
            Command::TcpAbort { sock } | Command::UdpClose { sock } | Command::PingClose { sock } => Some(*sock),
            _ => None,
        };
        let closing = if let Command::TcpClose { sock } = &cmd { Some(*sock) } else { None };
        let reply = self.stack.command(cmd, self.stack_now, self.outs);
        if let Ok(Reply::Bound { sock, .. } | Reply::Accepted { sock, .. }) = &reply {
            self.owned.insert(*sock);
        }
        if let Some(sock) = released {
            self.owned.remove(&sock);
        }
        // A close the stack carried out at once (a listener, a connection reset for unread data) brings no
        // `Closed` event to end the handle's ownership.
        if let Some(sock) = closing.filter(|&s| self.stack.tcp_info(s).is_none()) {
            self.owned.remove(&sock);
        }
        reply
    }

    /// Reads up to `max` received bytes without copying them out of the stack: they are lent to `f` where they
    /// lie in the receive queue ([`Stack::tcp_read`]). `Ok(0)` is the end of the stream; `WouldBlock` while
    /// nothing is readable ([`synack::Event::Readable`] comes when there is).
    pub fn tcp_read(&mut self, sock: SocketHandle, max: usize, f: impl FnMut(&[u8])) -> Result<usize, CommandError> {
        self.stack.tcp_read(sock, max, self.stack_now, self.outs, f)
    }

    /// Queues as much of `data` as the send buffer has room for (one copy, of only what fits) and returns how
    /// much that was. With no room at all: `WouldBlock`, and [`synack::Event::Writable`] comes when there is.
    pub fn tcp_send(&mut self, sock: SocketHandle, data: &[u8]) -> Result<usize, CommandError> {
        let room = match self.stack.tcp_info(sock) {
            Some(info) => info.send_buffer.saturating_sub(info.send_queued),
            None => return Err(CommandError::NoSuchSocket(sock)),
        };
        let take = room.min(data.len());
        // Nothing fits (or nothing to send): an empty send asks the stack to say when there is room.
        let reply = self.command(Command::TcpSend { sock, data: data[..take].to_vec() })?;
        match reply {
            Reply::Sent { len } if take > 0 || data.is_empty() => Ok(len),
            Reply::Sent { .. } => Err(CommandError::WouldBlock),
            _ => Ok(0),
        }
    }

    /// The driver's clock now (the same instant for everything done in this call).
    pub fn now(&self) -> Instant {
        self.now
    }

    /// The stack's configuration (its address, MAC, buffers).
    pub fn config(&self) -> &synack::Config {
        self.stack.config()
    }

    /// A connection's state and counters.
    pub fn tcp_info(&self, sock: SocketHandle) -> Option<synack::tcp::TcpInfo> {
        self.stack.tcp_info(sock)
    }
}
