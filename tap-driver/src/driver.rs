//! The driver thread: frames between the device and the stack, timers, and the blocked calls of the sockets.
//!
//! One loop: sleep in poll(2) until a frame, a request or the earliest deadline (stack timer, held-back frame,
//! a blocked call's timeout); then read frames, run requests, fire timers, and retry blocked calls whose socket
//! had an event. Time is nanoseconds since the loop started.

use crate::app::{App, AppContext};
use crate::capture::{Capture, Direction};
use crate::error::TapError;
use crate::handle::{stopped_error, Call, DriverConfig, DriverReport, ReplyTx, Request, Wait};
use crate::impair::{Fate, Impairer};
use crate::link::Link;
use crate::sys::{poll2, Waker};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::io;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};
use synack::wire::pretty::frame_summary;
use synack::{Command, CommandError, Event, Input, Output, Reply, RxFrame, SocketHandle, Stack, UnreachableReason};

/// Frames read per loop iteration before requests and timers get a turn.
const READ_BATCH: usize = 256;
/// Most frames handed to the stack in one `handle_frames_into` call.
const STACK_BATCH: usize = 64;
/// Most bytes handed to the stack in one call: a batch ends with one ACK, and offloaded 64 KB segments would
/// otherwise make that one ACK per megabytes, which starves the sender's ACK clock (Linux's receiver acknowledges
/// about every large segment).
const STACK_BATCH_BYTES: usize = 128 * 1024;
/// Largest frame we accept from the device (jumbo-safe; the stack's MTU bounds what it sends).
const FRAME_BUF: usize = 65_536 + 256;
/// Blocked calls are re-tried this often even without an event, as a safety net (counted as late wake-ups).
const RECHECK: Duration = Duration::from_millis(200);
/// Rounds of event-driven retries per iteration (a retry can cause events that unblock other calls).
const RETRY_ROUNDS: usize = 8;
/// Rounds of app calls per step (what an app does can cause events for it: e.g. a send completing a close).
const APP_ROUNDS: usize = 16;

/// Why a socket handle was released by the stack: the answer to later calls on it.
#[derive(Clone, Copy, Debug)]
enum Gone {
    Reset {
        connecting: bool,
    },
    /// Retransmissions ran out; `soft_error` is the last soft error the connection saw (RFC 1122 §4.2.3.9).
    TimedOut {
        soft_error: Option<UnreachableReason>,
    },
    /// A hard ICMP error while the connection was opening.
    Unreachable {
        dst: std::net::IpAddr,
        reason: UnreachableReason,
    },
    Closed,
}

impl Gone {
    /// The error Linux would give: a refused connect is `ECONNREFUSED`, a hard ICMP error its
    /// `icmp_err_convert` errno, and a timeout after a soft error that error (`EHOSTUNREACH` for an unanswered
    /// ARP, as Linux's neighbour layer reports), else `ETIMEDOUT`.
    fn error(self) -> io::Error {
        use io::ErrorKind as K;
        match self {
            Gone::Reset { connecting: true } => io::Error::new(K::ConnectionRefused, "connection refused"),
            Gone::Reset { connecting: false } => io::Error::new(K::ConnectionReset, "connection reset by peer"),
            Gone::TimedOut { soft_error: None } => {
                io::Error::new(K::TimedOut, "connection timed out (retransmissions ran out)")
            }
            Gone::TimedOut { soft_error: Some(reason) } => io::Error::new(
                unreachable_kind(reason),
                format!("connection timed out (retransmissions ran out; last error: {})", describe(reason)),
            ),
            Gone::Unreachable { dst, reason } => {
                io::Error::new(unreachable_kind(reason), format!("{dst}: {}", describe(reason)))
            }
            Gone::Closed => io::Error::new(K::NotConnected, "socket closed"),
        }
    }
}

/// The `io::ErrorKind` of the errno Linux maps an ICMP error to (`icmp_err_convert`; a missing ARP answer and
/// time exceeded are `EHOSTUNREACH`).
fn unreachable_kind(reason: UnreachableReason) -> io::ErrorKind {
    use io::ErrorKind as K;
    match reason {
        UnreachableReason::NoNeighbour | UnreachableReason::TimeExceeded { .. } => K::HostUnreachable,
        UnreachableReason::DstUnreachable { code, .. } => match code {
            // Net unreachable, unknown, administratively prohibited, unreachable for this TOS.
            0 | 6 | 9 | 11 => K::NetworkUnreachable,
            // Port unreachable: nobody listens (Linux's ECONNREFUSED); protocol unreachable: the host speaks no
            // TCP at all (Linux's ENOPROTOOPT, which has no kind of its own), refused all the same.
            2 | 3 => K::ConnectionRefused,
            // Fragmentation needed with no usable MTU (Linux's EMSGSIZE): the path cannot carry our segments.
            4 => K::Other,
            // Host unreachable, unknown, isolated, prohibited, filtered, precedence: EHOSTUNREACH and kin.
            _ => K::HostUnreachable,
        },
        // Linux's icmpv6_err_convert: no route ENETUNREACH, prohibited/policy/reject EACCES, beyond scope and
        // address unreachable EHOSTUNREACH, port unreachable ECONNREFUSED, parameter problem EPROTO.
        UnreachableReason::Icmpv6DstUnreachable { code } => match code {
            0 => K::NetworkUnreachable,
            1 | 5 | 6 => K::PermissionDenied,
            4 => K::ConnectionRefused,
            _ => K::HostUnreachable,
        },
        UnreachableReason::PacketTooBig { .. } | UnreachableReason::ParameterProblem { .. } => K::Other,
    }
}

/// An unreachable reason in words, naming the ICMP code: `ICMP port unreachable (code 3)`.
fn describe(reason: UnreachableReason) -> String {
    match reason {
        UnreachableReason::NoNeighbour => "no ARP reply from the next hop".into(),
        UnreachableReason::DstUnreachable { code, next_hop_mtu } => {
            let what = match code {
                0 => "net unreachable",
                1 => "host unreachable",
                2 => "protocol unreachable",
                3 => "port unreachable",
                4 => return format!("ICMP fragmentation needed (code 4, next-hop MTU {next_hop_mtu})"),
                5 => "source route failed",
                6 => "destination network unknown",
                7 => "destination host unknown",
                8 => "source host isolated",
                9 | 10 => "communication administratively prohibited",
                11 | 12 => "unreachable for this type of service",
                13 => "communication administratively filtered",
                14 => "host precedence violation",
                15 => "precedence cutoff in effect",
                _ => "destination unreachable",
            };
            format!("ICMP {what} (code {code})")
        }
        UnreachableReason::TimeExceeded { code: 0 } => "ICMP TTL exceeded in transit".into(),
        UnreachableReason::TimeExceeded { code } => format!("ICMP time exceeded (code {code})"),
        UnreachableReason::Icmpv6DstUnreachable { code } => {
            let what = match code {
                0 => "no route to destination",
                1 => "communication administratively prohibited",
                2 => "beyond scope of source address",
                3 => "address unreachable",
                4 => "port unreachable",
                5 => "source address failed policy",
                6 => "reject route to destination",
                _ => "destination unreachable",
            };
            format!("ICMPv6 {what} (code {code})")
        }
        UnreachableReason::PacketTooBig { mtu } => format!("ICMPv6 packet too big (MTU {mtu})"),
        UnreachableReason::ParameterProblem { code, pointer } => {
            format!("ICMPv6 parameter problem (code {code}, pointer {pointer})")
        }
    }
}

/// A blocked call, waiting for its socket.
#[derive(Debug)]
struct Parked {
    cmd: Command,
    /// For a connect: the `Bound` reply to give once connected.
    bound: Option<Reply>,
    deadline: Option<Instant>,
    reply: ReplyTx,
}

/// Maps a stack error to the `std::io` error a socket user expects: the kind of the errno Linux gives for the
/// same mistake (`EADDRINUSE`, `EADDRNOTAVAIL`, `ENETUNREACH`, `EINVAL`, `EPIPE` for a write after shutdown).
pub(crate) fn io_error(e: CommandError) -> io::Error {
    use io::ErrorKind as K;
    let kind = match e {
        CommandError::NoSuchSocket(_) => K::NotConnected,
        CommandError::AddrInUse(_) => K::AddrInUse,
        CommandError::AddrNotAvailable(_) => K::AddrNotAvailable,
        CommandError::NoEphemeralPort => K::AddrInUse,
        // Off-link with no gateway: Linux's ENETUNREACH.
        CommandError::NoRoute(_) => K::NetworkUnreachable,
        CommandError::BadDestination(_) | CommandError::MessageTooLong { .. } | CommandError::BadArgument(_) => {
            K::InvalidInput
        }
        CommandError::WouldBlock => K::WouldBlock,
        CommandError::InvalidState(_) => K::BrokenPipe,
        CommandError::ConnectionAborted => K::ConnectionAborted,
    };
    io::Error::new(kind, e)
}

pub(crate) struct DriverLoop<L: Link> {
    link: L,
    stack: Stack,
    epoch: Instant,
    rx: mpsc::Receiver<Request>,
    waker: Arc<Waker>,
    stop: Arc<AtomicBool>,
    /// What `Handle::config` shows: refreshed when a DHCP lease changes the stack's address.
    shared_config: Arc<std::sync::RwLock<crate::handle::Shown>>,
    capture: Option<Capture>,
    trace: bool,
    imp_in: Impairer,
    imp_out: Impairer,
    /// Blocked calls by socket, oldest first.
    parked: HashMap<SocketHandle, Vec<Parked>>,
    /// Connects waiting for their outcome.
    connecting: HashMap<SocketHandle, Parked>,
    /// Handles the stack released, with why, until the application closes them.
    gone: HashMap<SocketHandle, Gone>,
    /// Connections the application closed that the stack still runs (closing, TIME-WAIT): their last events
    /// concern nobody, so they are neither recorded in `gone` nor retried. Kept until the stack lets go.
    closed_by_app: HashSet<SocketHandle>,
    /// Connections whose reading side the application shut: reads answer end of stream.
    read_shut: HashSet<SocketHandle>,
    /// Sockets with an event since their blocked calls were last tried.
    ready: BTreeSet<SocketHandle>,
    outs: Vec<Output>,
    fates: Vec<(Vec<u8>, Fate)>,
    /// Buffers the frames of one batch are read into (each `FRAME_BUF` long, kept for reuse).
    batch: Vec<Vec<u8>>,
    report: DriverReport,
    next_recheck: Instant,
    dhcp_events: Option<mpsc::Sender<synack::DhcpEvent>>,
    /// The installed app, if any, and the sockets whose events go to it.
    app: Option<Box<dyn App>>,
    app_socks: BTreeSet<SocketHandle>,
    /// Events for the app, in the order the stack gave them.
    app_events: Vec<(SocketHandle, Event)>,
}

impl<L: Link> std::fmt::Debug for DriverLoop<L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DriverLoop").field("link", &self.link.name()).finish_non_exhaustive()
    }
}

impl<L: Link> DriverLoop<L> {
    pub(crate) fn new(
        link: L,
        stack: Stack,
        cfg: &DriverConfig,
        rx: mpsc::Receiver<Request>,
        waker: Arc<Waker>,
        stop: Arc<AtomicBool>,
        shared_config: Arc<std::sync::RwLock<crate::handle::Shown>>,
    ) -> Result<Self, TapError> {
        let epoch = Instant::now();
        let capture = match &cfg.pcap {
            Some(path) => {
                let i = &cfg.impair;
                let comment = format!(
                    "synack-tap on {}: ip {} mac {}; impairment loss={} reorder={} duplicate={} seed={}",
                    link.name(),
                    cfg.stack.ipv4,
                    cfg.stack.mac,
                    i.loss,
                    i.reorder,
                    i.duplicate,
                    i.seed
                );
                Some(Capture::create(path, link.name(), cfg.stack.mac, &comment, epoch)?)
            }
            None => None,
        };
        Ok(DriverLoop {
            imp_in: Impairer::new(&cfg.impair, 0),
            imp_out: Impairer::new(&cfg.impair, 1),
            report: DriverReport { impair_active: cfg.impair.active(), ..DriverReport::default() },
            link,
            stack,
            epoch,
            rx,
            waker,
            stop,
            shared_config,
            capture,
            trace: cfg.trace,
            parked: HashMap::new(),
            connecting: HashMap::new(),
            gone: HashMap::new(),
            closed_by_app: HashSet::new(),
            read_shut: HashSet::new(),
            ready: BTreeSet::new(),
            outs: Vec::new(),
            fates: Vec::new(),
            batch: Vec::new(),
            next_recheck: epoch + RECHECK,
            dhcp_events: cfg.dhcp_events.clone(),
            app: None,
            app_socks: BTreeSet::new(),
            app_events: Vec::new(),
        })
    }

    fn now(&self, t: Instant) -> synack::Instant {
        synack::Instant::from_nanos(u64::try_from(t.duration_since(self.epoch).as_nanos()).unwrap_or(u64::MAX))
    }

    fn to_std(&self, t: synack::Instant) -> Option<Instant> {
        self.epoch.checked_add(Duration::from_nanos(t.as_nanos()))
    }

    /// Runs until stopped; returns the report.
    pub(crate) fn run(mut self) -> DriverReport {
        if let Err(e) = self.run_loop() {
            self.report.error = Some(e.to_string());
        }
        self.shut_down();
        self.report
    }

    fn run_loop(&mut self) -> io::Result<()> {
        while !self.stop.load(Ordering::SeqCst) {
            let ready = poll2(self.link.as_raw_fd(), self.waker.as_raw_fd(), self.sleep_time(Instant::now()))?;
            if ready.waker {
                self.waker.drain();
            }
            if ready.link {
                self.read_frames()?;
            }
            self.take_requests()?;
            let now = Instant::now();
            self.release_held(now)?;
            if self.stack.poll_timeout().and_then(|t| self.to_std(t)).is_some_and(|t| t <= now) {
                self.report.timer_runs += 1;
                self.stack.handle_into(Input::Timer, self.now(now), &mut self.outs);
                self.flush_outputs(now)?;
            }
            self.run_app(now)?;
            self.retry_ready()?;
            self.expire_and_recheck(Instant::now())?;
        }
        Ok(())
    }

    /// How long poll may sleep: until the earliest stack timer, held frame, blocked-call deadline or re-check.
    fn sleep_time(&self, now: Instant) -> Option<Duration> {
        let mut wake: Option<Instant> = self.stack.poll_timeout().and_then(|t| self.to_std(t));
        let mut consider = |t: Option<Instant>| {
            if let Some(t) = t {
                wake = Some(wake.map_or(t, |w| w.min(t)));
            }
        };
        consider(self.app.as_ref().and_then(|a| a.next_deadline()));
        consider(self.imp_in.next_deadline());
        consider(self.imp_out.next_deadline());
        if !self.parked.is_empty() || !self.connecting.is_empty() {
            consider(Some(self.next_recheck));
        }
        for p in self.parked.values().flatten().chain(self.connecting.values()) {
            consider(p.deadline);
        }
        if !self.ready.is_empty() || !self.app_events.is_empty() {
            return Some(Duration::ZERO);
        }
        wake.map(|w| w.saturating_duration_since(now))
    }

    /// Reads what the device has (at most `READ_BATCH` frames) and hands the frames to the stack in batches
    /// of up to `STACK_BATCH`, so a connection receiving a burst acknowledges it with one ACK per batch
    /// (`Stack::handle_frames_into`). Frames are read straight into the batch's buffers (full-sized, kept
    /// between wake-ups, so a 64 KB offloaded segment is never copied again). With impairments on, frames go
    /// one at a time through the impairment.
    fn read_frames(&mut self) -> io::Result<()> {
        let mut batch = std::mem::take(&mut self.batch);
        let mut lens = [(0usize, false); STACK_BATCH];
        let (mut filled, mut bytes) = (0, 0);
        let mut result = Ok(());
        // A capture and a trace show whole checksums, and the impairment path hands frames over as plain bytes:
        // then the device finishes every checksum; otherwise the stack takes the ones it vouches for as they are.
        let whole_checksums = self.capture.is_some() || self.trace || self.report.impair_active;
        for _ in 0..READ_BATCH {
            if filled == batch.len() {
                batch.push(vec![0u8; FRAME_BUF]);
            }
            let buf = &mut batch[filled];
            let read =
                if whole_checksums { self.link.recv(buf).map(|n| (n, false)) } else { self.link.recv_frame(buf) };
            let (n, offloaded) = match read {
                Ok(r) => r,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    result = Err(io::Error::new(e.kind(), format!("reading from {}: {e}", self.link.name())));
                    break;
                }
            };
            self.report.frames_read += 1;
            let now = Instant::now();
            if self.report.impair_active {
                self.imp_in.push(batch[filled][..n].to_vec(), now, &mut self.fates);
                self.deliver_fates(now)?;
                continue;
            }
            lens[filled] = (n, offloaded);
            filled += 1;
            bytes += n;
            if filled == STACK_BATCH || bytes >= STACK_BATCH_BYTES {
                self.deliver_batch(&batch, &lens[..filled], now)?;
                (filled, bytes) = (0, 0);
            }
        }
        if filled > 0 {
            self.deliver_batch(&batch, &lens[..filled], Instant::now())?;
        }
        self.batch = batch;
        result
    }

    /// Records, traces and hands over frames that arrived together (no impairment in the way): frame `i` is
    /// the first `lens[i].0` bytes of `bufs[i]`, and `lens[i].1` says the device vouched for its checksum.
    fn deliver_batch(&mut self, bufs: &[Vec<u8>], lens: &[(usize, bool)], now: Instant) -> io::Result<()> {
        if self.capture.is_some() {
            // One at a time, so that each frame's packet comment says what that frame did (see `deliver`).
            for (b, &(n, _)) in bufs.iter().zip(lens) {
                self.deliver(&b[..n], Fate::Pass, now)?;
            }
            return Ok(());
        }
        for (b, &(n, _)) in bufs.iter().zip(lens) {
            self.note_inbound(&b[..n], Fate::Pass, now, &[])?;
        }
        let frames =
            bufs.iter().zip(lens).map(|(b, &(n, offloaded))| RxFrame { bytes: &b[..n], checksum_offloaded: offloaded });
        self.stack.handle_frames_into(frames, self.now(now), &mut self.outs);
        self.flush_outputs(now)?;
        Ok(())
    }

    /// Hands inbound frames the impairment let through (or dropped, for the capture) to the stack.
    fn deliver_fates(&mut self, now: Instant) -> io::Result<()> {
        let fates = std::mem::take(&mut self.fates);
        for (frame, fate) in &fates {
            self.deliver(frame, *fate, now)?;
        }
        self.fates = fates;
        self.fates.clear();
        Ok(())
    }

    /// Capture and trace of an inbound frame, with what the stack said about it (`told`: its state changes and
    /// its drop, one line each, as the simulator's captures carry them).
    fn note_inbound(&mut self, frame: &[u8], fate: Fate, now: Instant, told: &[synack::Note]) -> io::Result<()> {
        if let Some(c) = &mut self.capture {
            let lines: Vec<String> = told.iter().map(ToString::to_string).collect();
            let note = (!lines.is_empty()).then(|| lines.join("\n"));
            c.record(frame, Direction::In, fate, note.as_deref(), now).map_err(io::Error::other)?;
        }
        if self.trace {
            eprintln!("{} < {}{}", self.now(now), frame_summary(frame), fate.comment().unwrap_or_default());
        }
        for note in told {
            self.tell(note);
        }
        Ok(())
    }

    /// Hands one inbound frame to the stack (if the impairment let it through), then records it: after the stack
    /// took it, so that its packet comment says what it did (a state change, a drop), and before the frames the
    /// stack sent in answer. With a capture, frames that arrived together go through here one at a time (the
    /// stack then acknowledges every second segment instead of once per read batch).
    fn deliver(&mut self, frame: &[u8], fate: Fate, now: Instant) -> io::Result<()> {
        if !fate.forwarded() {
            return self.note_inbound(frame, fate, now, &[]);
        }
        self.stack.handle_into(Input::Frame(frame), self.now(now), &mut self.outs);
        let told =
            if self.capture.is_some() || self.trace { synack::Note::take_received(&mut self.outs) } else { Vec::new() };
        self.note_inbound(frame, fate, now, &told)?;
        self.flush_outputs(now)
    }

    /// A note from the stack on `--trace` and as a `tracing` event (target `synack_tap::explain`).
    fn tell(&self, note: &synack::Note) {
        if self.trace {
            eprintln!("    {note}");
        }
        tracing::debug!(target: "synack_tap::explain", "{note}");
    }

    fn release_held(&mut self, now: Instant) -> io::Result<()> {
        self.imp_in.poll(now, &mut self.fates);
        self.deliver_fates(now)?;
        self.imp_out.poll(now, &mut self.fates);
        self.transmit_fates(now, None)
    }

    /// Carries out the stack's outputs: frames to the device, events to blocked calls.
    fn flush_outputs(&mut self, now: Instant) -> io::Result<()> {
        let mut outs = std::mem::take(&mut self.outs);
        let mut it = outs.drain(..).peekable();
        while let Some(out) = it.next() {
            match out {
                Output::Transmit(frame) => {
                    // The stack's reason for this frame follows it; a capture writes it into the frame's comment.
                    let why = match it.peek() {
                        Some(Output::Note(note @ synack::Note::Sent(_))) if self.capture.is_some() => {
                            Some(note.to_string())
                        }
                        _ => None,
                    };
                    self.imp_out.push(frame, now, &mut self.fates);
                    self.transmit_fates(now, why.as_deref())?;
                }
                // Commands go through `Stack::command`, which returns the reply instead of pushing it.
                Output::Reply(_) => {}
                Output::Event(sock, ev) => self.on_event(sock, ev),
                // Why the frame above was sent, a state change, a drop (`--trace` turns `Config::explain` on).
                Output::Note(note) => self.tell(&note),
            }
        }
        drop(it);
        self.outs = outs;
        Ok(())
    }

    /// Writes the frames the impairment let through (all of them, without impairment) to the device, and
    /// hands their buffers back to the stack for later frames.
    /// `why`: the stack's reason for the frame just pushed (not for one the impairment held back earlier).
    fn transmit_fates(&mut self, now: Instant, why: Option<&str>) -> io::Result<()> {
        let mut fates = std::mem::take(&mut self.fates);
        let result = self.transmit(&mut fates, why, now);
        for (frame, _) in fates.drain(..) {
            self.stack.recycle_frame(frame);
        }
        self.fates = fates;
        result
    }

    fn transmit(&mut self, fates: &mut [(Vec<u8>, Fate)], why: Option<&str>, now: Instant) -> io::Result<()> {
        for (frame, fate) in fates.iter() {
            let (frame, fate) = (frame.as_slice(), *fate);
            if let Some(c) = &mut self.capture {
                let note = if fate == Fate::Late { None } else { why };
                c.record(frame, Direction::Out, fate, note, now).map_err(io::Error::other)?;
            }
            if self.trace {
                let t = synack::Instant::from_nanos(now.duration_since(self.epoch).as_nanos() as u64);
                eprintln!("{t} > {}{}", frame_summary(frame), fate.comment().unwrap_or_default());
            }
            if !fate.forwarded() {
                continue;
            }
            match self.link.send(frame) {
                Ok(()) => self.report.frames_written += 1,
                // The interface is down (EIO), or a buffer is full: the frame is lost, as on a real wire.
                Err(e) if matches!(e.raw_os_error(), Some(libc::EIO)) || e.kind() == io::ErrorKind::WouldBlock => {
                    self.report.write_errors += 1
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => self.report.write_errors += 1,
                Err(e) => return Err(io::Error::new(e.kind(), format!("writing to {}: {e}", self.link.name()))),
            }
        }
        Ok(())
    }

    fn on_event(&mut self, sock: SocketHandle, ev: Event) {
        if let Event::Address { addr, change } = ev {
            // An operator wants to know which address autoconfiguration gave (or that DAD failed).
            eprintln!("synack-tap: address {addr} {change}");
            if let Ok(mut shown) = self.shared_config.write() {
                shown.ipv6 = self.stack.ipv6_addresses();
            }
            return;
        }
        if let Event::Dhcp(news) = ev {
            if let Ok(mut shown) = self.shared_config.write() {
                shown.config = self.stack.config().clone();
            }
            if let Some(tx) = &self.dhcp_events {
                let _ = tx.send(*news);
            }
            return;
        }
        if self.app_socks.contains(&sock) {
            // Handles are never reused: a released one hears nothing more.
            if matches!(ev, Event::Closed | Event::Reset | Event::TimedOut { .. }) {
                self.app_socks.remove(&sock);
            }
            self.app_events.push((sock, ev));
            return;
        }
        if self.closed_by_app.contains(&sock) {
            // Handles are never reused: the application that closed this one waits for nothing more from it.
            if matches!(ev, Event::Closed | Event::Reset | Event::TimedOut { .. }) {
                self.closed_by_app.remove(&sock);
            }
            return;
        }
        let connecting = self.connecting.contains_key(&sock);
        let gone = match ev {
            Event::Reset => Some(Gone::Reset { connecting }),
            Event::TimedOut { soft_error } => Some(Gone::TimedOut { soft_error }),
            Event::Closed => Some(Gone::Closed),
            // RFC 1122 §4.2.3.9: a TCP connection hears only a hard error, only while opening, and the stack has
            // then released it; soft errors come later, in `TimedOut`. (A UDP socket's `Unreachable` is news,
            // not the end of the socket.)
            Event::Unreachable { dst, reason, .. } if connecting => Some(Gone::Unreachable { dst, reason }),
            _ => None,
        };
        if let Some(g) = gone {
            self.gone.insert(sock, g);
        }
        if connecting {
            let outcome = match (&ev, gone) {
                (Event::Connected, _) => Some(Ok(())),
                (_, Some(g)) => Some(Err(g)),
                _ => None,
            };
            if let Some(outcome) = outcome {
                if let Some(p) = self.connecting.remove(&sock) {
                    self.answer_connect(sock, p, outcome);
                }
            }
        }
        self.ready.insert(sock);
    }

    fn answer_connect(&mut self, sock: SocketHandle, p: Parked, outcome: Result<(), Gone>) {
        let answer = match outcome {
            Ok(()) => Ok(p.bound.unwrap_or(Reply::Done)),
            Err(g) => {
                // The stack already released the handle (reset, hard error or timeout) and nobody will hold it.
                self.gone.remove(&sock);
                Err(g.error())
            }
        };
        let _ = p.reply.send(answer);
    }

    fn take_requests(&mut self) -> io::Result<()> {
        while let Ok(req) = self.rx.try_recv() {
            let now = Instant::now();
            match req {
                Request::Call(call) => self.exec(call, now),
                Request::Install(app, reply) => {
                    let answer = self.install(app.0, now);
                    let _ = reply.send(answer);
                }
                Request::Detached(cmd) => {
                    let _ = self.command(cmd, now);
                }
                Request::ShutRead(sock) => {
                    self.read_shut.insert(sock);
                    let (reads, rest): (Vec<_>, Vec<_>) = self
                        .parked
                        .remove(&sock)
                        .unwrap_or_default()
                        .into_iter()
                        .partition(|p| matches!(p.cmd, Command::TcpRecv { .. }));
                    for p in reads {
                        let _ = p.reply.send(Ok(Reply::Data(Vec::new())));
                    }
                    if !rest.is_empty() {
                        self.parked.insert(sock, rest);
                    }
                }
                Request::Stats(tx) => {
                    let _ = tx.send(self.stack.stats().clone());
                }
                Request::ClosesPending(tx) => {
                    use synack::tcp::TcpState::{Closing, FinWait1, LastAck};
                    let handles = self.stack.tcp_connections();
                    let states = handles.iter().filter_map(|h| self.stack.tcp_info(*h).map(|i| i.state));
                    let _ = tx.send(states.filter(|s| matches!(s, FinWait1 | Closing | LastAck)).count());
                }
            }
        }
        Ok(())
    }

    /// Starts `app`; on success it is the driver's app from now on.
    fn install(&mut self, mut app: Box<dyn App>, now: Instant) -> io::Result<()> {
        if self.app.is_some() {
            return Err(io::Error::new(io::ErrorKind::AlreadyExists, "an app is already installed"));
        }
        let mut owned = BTreeSet::new();
        let mut cx = AppContext {
            stack: &mut self.stack,
            outs: &mut self.outs,
            owned: &mut owned,
            now,
            stack_now: synack::Instant::from_nanos(now.duration_since(self.epoch).as_nanos() as u64),
        };
        let started = app.start(&mut cx);
        if started.is_err() {
            // The sockets opened before the refusal: listeners and UDP sockets (anything else is refused alike).
            for sock in std::mem::take(cx.owned) {
                for cmd in [Command::TcpClose { sock }, Command::UdpClose { sock }] {
                    let _ = cx.command(cmd);
                }
            }
        }
        self.app_socks.extend(owned);
        self.flush_outputs(now)?;
        match started {
            Ok(()) => {
                self.app = Some(app);
                Ok(())
            }
            Err(e) => Err(io::Error::other(e)),
        }
    }

    /// Hands the app its events (and its timer, when due), until what it does causes no more events.
    fn run_app(&mut self, now: Instant) -> io::Result<()> {
        let Some(mut app) = self.app.take() else { return Ok(()) };
        let stack_now = self.now(now);
        let mut result = Ok(());
        for round in 0..APP_ROUNDS {
            let timer_due = round == 0 && app.next_deadline().is_some_and(|d| d <= now);
            if self.app_events.is_empty() && !timer_due {
                break;
            }
            let events = std::mem::take(&mut self.app_events);
            let mut cx =
                AppContext { stack: &mut self.stack, outs: &mut self.outs, owned: &mut self.app_socks, now, stack_now };
            for (sock, ev) in &events {
                app.on_event(&mut cx, *sock, ev);
            }
            if timer_due {
                app.on_timer(&mut cx);
            }
            result = self.flush_outputs(now);
            if result.is_err() {
                break;
            }
        }
        self.app = Some(app);
        result
    }

    /// Runs one command through the stack and carries out its outputs.
    fn command(&mut self, cmd: Command, now: Instant) -> io::Result<Result<Reply, CommandError>> {
        let closes = match &cmd {
            Command::TcpClose { sock } | Command::TcpAbort { sock } | Command::UdpClose { sock } => Some(*sock),
            _ => None,
        };
        let reply = self.stack.command(cmd, self.now(now), &mut self.outs);
        self.flush_outputs(now)?;
        if let Some(sock) = closes {
            self.gone.remove(&sock);
            self.read_shut.remove(&sock);
            if self.stack.tcp_info(sock).is_some() {
                self.closed_by_app.insert(sock);
            }
        }
        Ok(reply)
    }

    fn exec(&mut self, call: Call, now: Instant) {
        let Call { cmd, wait, deadline, reply } = call;
        // A blocking send is not copied for a retry (its data can be a quarter megabyte): when the stack has no
        // room, an empty send registers the wait for `Writable` and the send waits as it is; with room, a send
        // is never refused.
        if let (Command::TcpSend { sock, data }, Wait::Retry(_)) = (&cmd, wait) {
            let sock = *sock;
            let probe = Command::TcpSend { sock, data: Vec::new() };
            if !data.is_empty() && matches!(self.command(probe, now), Ok(Err(CommandError::WouldBlock))) {
                if deadline.is_some_and(|d| d <= now) {
                    let _ = reply.send(Err(timed_out()));
                } else {
                    self.parked.entry(sock).or_default().push(Parked { cmd, bound: None, deadline, reply });
                }
                return;
            }
        }
        let target = command_socket(&cmd).filter(|_| wait != Wait::No);
        let is_recv = matches!(cmd, Command::TcpRecv { .. });
        if is_recv && target.is_some_and(|s| self.read_shut.contains(&s)) {
            let _ = reply.send(Ok(Reply::Data(Vec::new())));
            return;
        }
        // A shared `TcpSendBytes` is kept for its retry as a reference (no copy), like every other command.
        let needs_retry = wait != Wait::No && !matches!(cmd, Command::TcpSend { .. });
        let retry_cmd = if needs_retry { Some(cmd.clone()) } else { None };
        let result = match self.command(cmd, now) {
            Ok(r) => r,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        match (result, wait, retry_cmd) {
            (Err(CommandError::WouldBlock), Wait::Retry(sock), Some(cmd)) => {
                if deadline.is_some_and(|d| d <= now) {
                    let _ = reply.send(Err(timed_out()));
                } else {
                    self.parked.entry(sock).or_default().push(Parked { cmd, bound: None, deadline, reply });
                }
            }
            (Ok(Reply::Bound { sock, local }), Wait::Connect, Some(cmd)) => {
                if let Some(g) = self.gone.remove(&sock) {
                    let _ = reply.send(Err(g.error()));
                } else {
                    let bound = Some(Reply::Bound { sock, local });
                    self.connecting.insert(sock, Parked { cmd, bound, deadline, reply });
                }
            }
            (Err(CommandError::NoSuchSocket(_) | CommandError::ConnectionAborted), _, _)
                if target.is_some_and(|s| self.gone.contains_key(&s)) =>
            {
                let answer = match target.and_then(|s| self.gone.get(&s).copied()) {
                    // A connection that closed gracefully reads as end of stream, not as an error.
                    Some(Gone::Closed) if is_recv => Ok(Reply::Data(Vec::new())),
                    Some(g) => Err(g.error()),
                    None => Err(io_error(CommandError::ConnectionAborted)),
                };
                let _ = reply.send(answer);
            }
            (r, _, _) => {
                let _ = reply.send(r.map_err(io_error));
            }
        }
    }

    /// Retries the blocked calls of sockets that had events.
    fn retry_ready(&mut self) -> io::Result<()> {
        for _ in 0..RETRY_ROUNDS {
            if self.ready.is_empty() {
                break;
            }
            let socks = std::mem::take(&mut self.ready);
            for sock in socks {
                if let Some(calls) = self.parked.remove(&sock) {
                    self.retry(calls, Instant::now());
                }
            }
        }
        Ok(())
    }

    fn retry(&mut self, calls: Vec<Parked>, now: Instant) {
        for p in calls {
            let Some(sock) = command_socket(&p.cmd) else { continue };
            self.exec(Call { cmd: p.cmd, wait: Wait::Retry(sock), deadline: p.deadline, reply: p.reply }, now);
        }
    }

    /// Answers blocked calls whose deadline passed; every [`RECHECK`], retries all blocked calls.
    fn expire_and_recheck(&mut self, now: Instant) -> io::Result<()> {
        let expired = |p: &Parked| p.deadline.is_some_and(|d| d <= now);
        for calls in self.parked.values_mut() {
            calls.retain(|p| {
                let keep = !expired(p);
                if !keep {
                    let _ = p.reply.send(Err(timed_out()));
                }
                keep
            });
        }
        self.parked.retain(|_, calls| !calls.is_empty());
        let late: Vec<SocketHandle> = self.connecting.iter().filter(|(_, p)| expired(p)).map(|(s, _)| *s).collect();
        for sock in late {
            if let Some(p) = self.connecting.remove(&sock) {
                let _ = self.command(Command::TcpAbort { sock }, now);
                let _ = p.reply.send(Err(timed_out()));
            }
        }
        if now >= self.next_recheck {
            self.next_recheck = now + RECHECK;
            // A connection can end without an event (a TIME-WAIT cut short by the stack's bound).
            let stack = &self.stack;
            self.closed_by_app.retain(|&sock| stack.tcp_info(sock).is_some());
            let all: Vec<SocketHandle> = self.parked.keys().copied().collect();
            for sock in all {
                if let Some(calls) = self.parked.remove(&sock) {
                    let before = calls.len();
                    self.retry(calls, now);
                    let after = self.parked.get(&sock).map_or(0, Vec::len);
                    self.report.late_wakeups += before.saturating_sub(after) as u64;
                }
            }
        }
        Ok(())
    }

    fn shut_down(&mut self) {
        if let Some(mut app) = self.app.take() {
            app.on_stop();
        }
        for p in self.parked.drain().flat_map(|(_, v)| v).chain(self.connecting.drain().map(|(_, p)| p)) {
            let _ = p.reply.send(Err(stopped_error()));
        }
        while let Ok(req) = self.rx.try_recv() {
            if let Request::Call(c) = req {
                let _ = c.reply.send(Err(stopped_error()));
            }
        }
        // The stack ends with the driver: every connection the application still holds is reset, so no peer is
        // left with a half-open connection it retransmits into (what Linux does for an exiting process's sockets
        // it cannot close gracefully). Connections already closed by the application have sent their FIN.
        let t = Instant::now();
        for sock in self.stack.tcp_connections() {
            let _ = self.stack.command(Command::TcpAbort { sock }, self.now(t), &mut self.outs);
        }
        let _ = self.flush_outputs(t);
        self.report.stack = self.stack.stats().clone();
        let now = self.now(Instant::now()).as_nanos() as f64;
        self.report.next_timer_ms = self.stack.poll_timeout().map(|t| (t.as_nanos() as f64 - now) / 1e6);
        self.report.impair_in = self.imp_in.counts;
        self.report.impair_out = self.imp_out.counts;
        if let Some(c) = self.capture.take() {
            let n = c.frames;
            let path = c.path().to_path_buf();
            if let Err(e) = c.finish() {
                self.report.error.get_or_insert(e.to_string());
            }
            self.report.captured = Some((path, n));
        }
    }
}

/// The socket a blocking command waits on.
fn command_socket(cmd: &Command) -> Option<SocketHandle> {
    match cmd {
        Command::TcpAccept { listener } => Some(*listener),
        Command::TcpRecv { sock, .. }
        | Command::TcpSend { sock, .. }
        | Command::TcpSendBytes { sock, .. }
        | Command::UdpRecv { sock } => Some(*sock),
        _ => None,
    }
}

fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "timed out")
}

#[cfg(test)]
mod tests {
    use super::*;
    use io::ErrorKind as K;

    fn icmp(code: u8) -> UnreachableReason {
        UnreachableReason::DstUnreachable { code, next_hop_mtu: 0 }
    }

    #[test]
    fn errors_have_the_kinds_linux_gives() {
        let dst = std::net::Ipv4Addr::new(10, 0, 0, 2).into();
        let hard = |code| Gone::Unreachable { dst, reason: icmp(code) }.error();
        assert_eq!(hard(3).kind(), K::ConnectionRefused);
        assert_eq!(hard(3).to_string(), "10.0.0.2: ICMP port unreachable (code 3)");
        assert_eq!(hard(2).kind(), K::ConnectionRefused);
        assert_eq!(hard(13).kind(), K::HostUnreachable);
        assert_eq!(hard(9).kind(), K::NetworkUnreachable);
        let timed_out = |soft_error| Gone::TimedOut { soft_error }.error();
        assert_eq!(timed_out(None).kind(), K::TimedOut);
        assert_eq!(timed_out(Some(UnreachableReason::NoNeighbour)).kind(), K::HostUnreachable);
        assert_eq!(timed_out(Some(icmp(1))).kind(), K::HostUnreachable);
        assert_eq!(timed_out(Some(icmp(0))).kind(), K::NetworkUnreachable);
        assert_eq!(timed_out(Some(UnreachableReason::TimeExceeded { code: 0 })).kind(), K::HostUnreachable);
        let msg = timed_out(Some(icmp(1))).to_string();
        assert!(msg.contains("timed out") && msg.contains("ICMP host unreachable (code 1)"), "{msg}");
    }

    /// One turn of `run_loop`, sleeping at most 10 ms.
    fn drive_one_round<L: Link>(dl: &mut DriverLoop<L>) {
        let sleep =
            dl.sleep_time(Instant::now()).map_or(Duration::from_millis(10), |d| d.min(Duration::from_millis(10)));
        let ready = poll2(dl.link.as_raw_fd(), dl.waker.as_raw_fd(), Some(sleep)).unwrap();
        if ready.waker {
            dl.waker.drain();
        }
        if ready.link {
            dl.read_frames().unwrap();
        }
        dl.take_requests().unwrap();
        let now = Instant::now();
        dl.release_held(now).unwrap();
        if dl.stack.poll_timeout().and_then(|t| dl.to_std(t)).is_some_and(|t| t <= now) {
            dl.stack.handle_into(Input::Timer, dl.now(now), &mut dl.outs);
            dl.flush_outputs(now).unwrap();
        }
        dl.run_app(now).unwrap();
        dl.retry_ready().unwrap();
        dl.expire_and_recheck(Instant::now()).unwrap();
    }

    /// A blocking call through the loop's request channel, turning the loop until it is answered.
    fn call_and_drive<L: Link>(
        dl: &mut DriverLoop<L>,
        tx: &mpsc::Sender<crate::handle::Request>,
        cmd: Command,
        wait: Wait,
    ) -> io::Result<Reply> {
        let (rtx, rrx) = mpsc::channel();
        let deadline = Some(Instant::now() + Duration::from_secs(5));
        tx.send(crate::handle::Request::Call(Call { cmd, wait, deadline, reply: rtx })).unwrap();
        loop {
            drive_one_round(dl);
            if let Ok(r) = rrx.try_recv() {
                return r;
            }
        }
    }

    /// The driver keeps a `gone` entry for every handle the stack releases until the application closes it, but
    /// the stack reports `Closed` for a connection the application already closed (LAST-ACK acknowledged,
    /// TIME-WAIT entered after `TcpClose`): that entry was inserted after the close and never removed, so a
    /// long-running server built on the façade grew `gone` by one entry per connection, forever.
    #[test]
    fn closed_connections_leave_no_gone_entries() {
        use crate::handle::{Request, Shown};
        let cfg = crate::PairLink::host_config;
        let (a, b) = crate::PairLink::pair().unwrap();
        let peer = crate::Driver::start(b, cfg(2)).unwrap();
        let listener = crate::TcpListener::bind(&peer.handle(), "0.0.0.0:80".parse().unwrap()).unwrap();
        const N: usize = 20;
        // The server answers and closes each connection (as an HTTP/1.0 server does).
        let server = std::thread::spawn(move || {
            for _ in 0..N {
                let (mut s, _) = listener.accept_timeout(Duration::from_secs(5)).unwrap();
                std::io::Write::write_all(&mut s, b"hi").unwrap();
            }
        });
        let ours = cfg(1);
        let stack = Stack::new(ours.stack.clone()).unwrap();
        let shown = Shown { config: stack.config().clone(), ipv6: Vec::new() };
        let (tx, rx) = mpsc::channel::<Request>();
        let mut dl = DriverLoop::new(
            a,
            stack,
            &ours,
            rx,
            Arc::new(Waker::new().unwrap()),
            Arc::new(AtomicBool::new(false)),
            Arc::new(std::sync::RwLock::new(shown)),
        )
        .unwrap();
        for _ in 0..N {
            let connect = Command::TcpConnect { remote: "10.99.0.2:80".parse().unwrap(), local_port: None };
            let Reply::Bound { sock, .. } = call_and_drive(&mut dl, &tx, connect, Wait::Connect).unwrap() else {
                panic!("connect")
            };
            // Read to the end of the stream, as a client does, then drop the stream (TcpStream's Drop).
            loop {
                match call_and_drive(&mut dl, &tx, Command::TcpRecv { sock, max: 64 }, Wait::Retry(sock)).unwrap() {
                    Reply::Data(d) if d.is_empty() => break,
                    Reply::Data(_) => {}
                    other => panic!("{other:?}"),
                }
            }
            tx.send(Request::Detached(Command::TcpClose { sock })).unwrap();
        }
        server.join().unwrap();
        let until = Instant::now() + Duration::from_secs(1);
        while Instant::now() < until {
            drive_one_round(&mut dl);
        }
        assert_eq!(dl.stack.tcp_connections().len(), 0, "every connection finished");
        assert!(
            dl.gone.is_empty(),
            "{} handles closed by the application still in `gone`: {:?}",
            dl.gone.len(),
            dl.gone
        );
    }
}
