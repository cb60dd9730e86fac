//! One synack `Stack` (10.0.0.1) and one smoltcp `Interface` (10.0.0.2) on a [`Link`], driven in virtual time.
//!
//! Time is integer nanoseconds and moves only to the next event: a frame's arrival, synack's timer
//! (`Stack::poll_timeout`) or smoltcp's poll deadline (`Interface::poll_at`, microseconds). At each instant the
//! application step, frame delivery, synack's due timers and a smoltcp poll repeat until nothing moves. Every
//! run is bounded in steps and in virtual time, and a stall or overrun fails with the latest frames decoded.

use crate::link::{Dir, Faults, Link, Tally};
use smoltcp::iface::{Config as SmolConfig, Interface, SocketHandle as SmolHandle, SocketSet};
use smoltcp::phy::{self, ChecksumCapabilities, Device, DeviceCapabilities, Medium};
use smoltcp::socket::tcp;
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpAddress, IpCidr};
use std::collections::VecDeque;
use synack::api::TcpState;
use synack::{Command, CommandError, Config, Event, Input, Instant, Output, Reply, SocketHandle, Stack};
use synack_bench::{IP_A, IP_B, MAC_B, MTU};

/// synack's address; smoltcp's is [`SMOL_IP`].
pub const SYNACK_IP: std::net::Ipv4Addr = IP_A;
pub const SMOL_IP: std::net::Ipv4Addr = IP_B;

/// Most loop turns one `run` may take before it is called a livelock.
const MAX_STEPS: u64 = 2_000_000;

/// smoltcp's end of the link: frames in, frames out.
#[derive(Default)]
pub struct SmolDevice {
    rx: VecDeque<Vec<u8>>,
    tx: Vec<Vec<u8>>,
    /// IP MTU: smoltcp announces an MSS of 40 bytes less.
    mtu: usize,
}

pub struct SmolRx(Vec<u8>);
pub struct SmolTx<'a>(&'a mut Vec<Vec<u8>>);

impl phy::RxToken for SmolRx {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

impl phy::TxToken for SmolTx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut buf = vec![0; len];
        let r = f(&mut buf);
        self.0.push(buf);
        r
    }
}

impl Device for SmolDevice {
    type RxToken<'a> = SmolRx;
    type TxToken<'a> = SmolTx<'a>;

    fn receive(&mut self, _now: smoltcp::time::Instant) -> Option<(SmolRx, SmolTx<'_>)> {
        let frame = self.rx.pop_front()?;
        Some((SmolRx(frame), SmolTx(&mut self.tx)))
    }

    fn transmit(&mut self, _now: smoltcp::time::Instant) -> Option<SmolTx<'_>> {
        Some(SmolTx(&mut self.tx))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = self.mtu + 14;
        // Checksums computed on transmit and verified on receive: a corrupted frame must be dropped.
        caps.checksum = ChecksumCapabilities::default();
        caps
    }
}

/// The smoltcp host.
pub struct Smol {
    pub iface: Interface,
    pub dev: SmolDevice,
    pub sockets: SocketSet<'static>,
}

impl Smol {
    pub fn tcp(&mut self, h: SmolHandle) -> &mut tcp::Socket<'static> {
        self.sockets.get_mut::<tcp::Socket>(h)
    }

    /// Every TCP socket's state, in handle order.
    pub fn states(&self) -> Vec<(SmolHandle, tcp::State)> {
        self.sockets
            .iter()
            .filter_map(|(h, s)| match s {
                smoltcp::socket::Socket::Tcp(t) => Some((h, t.state())),
                #[allow(unreachable_patterns)]
                _ => None,
            })
            .collect()
    }

    /// Adds a TCP socket with `buffer`-byte receive and send buffers, sending timestamps if `timestamps`.
    pub fn add_socket(&mut self, buffer: usize, timestamps: bool) -> SmolHandle {
        let mut s = tcp::Socket::new(tcp::SocketBuffer::new(vec![0; buffer]), tcp::SocketBuffer::new(vec![0; buffer]));
        if timestamps {
            s.set_tsval_generator(Some(virtual_tsval));
        }
        self.sockets.add(s)
    }
}

/// One end of a connection, in either stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Synack(SocketHandle),
    Smol(SmolHandle),
}

/// What a read found.
#[derive(Debug, PartialEq, Eq)]
pub enum Read {
    Data(usize),
    Eof,
    WouldBlock,
    /// The connection is gone (reset, timed out) or never could be read: why.
    Gone(String),
}

/// Parameters of a [`Net`].
#[derive(Clone, Copy, Debug)]
pub struct Setup {
    pub seed: u64,
    pub delay_ns: u64,
    pub faults: [Faults; 2],
    /// smoltcp's sockets send RFC 7323 timestamps (off by default in smoltcp).
    pub smol_timestamps: bool,
    /// smoltcp's IP MTU (synack's is 1500): below it, synack must keep to the smaller MSS smoltcp announces.
    pub smol_mtu: usize,
}

thread_local! {
    /// Virtual time in milliseconds, for smoltcp's timestamp clock (a plain `fn() -> u32`, so it cannot carry
    /// the net): each test thread drives one net at a time.
    static VIRTUAL_MS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// smoltcp's TSval: virtual milliseconds.
fn virtual_tsval() -> u32 {
    VIRTUAL_MS.with(|c| c.get())
}

/// Both stacks and the link.
pub struct Net {
    pub synack: Stack,
    pub smol: Smol,
    pub link: Link,
    /// Virtual time, in nanoseconds.
    pub now: u64,
    /// Every synack event so far, in order.
    pub events: Vec<(SocketHandle, Event)>,
    pub setup: Setup,
    /// A name for failure messages: scenario and seed.
    pub label: String,
    steps: u64,
    /// The application wants another look at this time even if nothing else happens (a slow reader's pace).
    pub wake_at: Option<u64>,
}

impl Net {
    pub fn new(label: &str, setup: Setup) -> Net {
        Net::with_config(label, setup, |_| {})
    }

    /// synack's TCP options by `variant` (0–3), so negotiation meets smoltcp in more than one shape: the
    /// defaults (CUBIC, SACK, timestamps, window scaling, ECN passive); ECN asked for (smoltcp never answers it)
    /// with NewReno; no SACK and no timestamps; no window scaling (windows of at most 64 KiB).
    pub fn synack_variant(variant: u64, c: &mut Config) {
        match variant % 4 {
            1 => {
                c.tcp.ecn = synack::tcp::Ecn::On;
                c.tcp.congestion = synack::tcp::CongestionAlgorithm::NewReno;
            }
            2 => {
                c.tcp.sack = false;
                c.tcp.timestamps = false;
            }
            3 => c.tcp.window_scaling = false,
            _ => {}
        }
    }

    /// A net whose synack configuration `tweak` adjusts first.
    pub fn with_config(label: &str, setup: Setup, tweak: impl FnOnce(&mut Config)) -> Net {
        let (mut config, _) = synack_testkit::configs(synack::seed::derive_seed(setup.seed, 1), 0);
        config.mtu = MTU;
        tweak(&mut config);
        let synack = Stack::new(config).expect("synack config");
        let mut dev = SmolDevice { mtu: setup.smol_mtu, ..SmolDevice::default() };
        let mut cfg = SmolConfig::new(HardwareAddress::Ethernet(EthernetAddress(MAC_B)));
        cfg.random_seed = synack::seed::derive_seed(setup.seed, 2);
        let mut iface = Interface::new(cfg, &mut dev, smoltcp::time::Instant::from_micros(0));
        let [a, b, c, d] = SMOL_IP.octets();
        iface.update_ip_addrs(|addrs| addrs.push(IpCidr::new(IpAddress::v4(a, b, c, d), 24)).expect("one address"));
        let capture = std::env::var_os("INTEROP_PCAP").is_some();
        Net {
            synack,
            smol: Smol { iface, dev, sockets: SocketSet::new(Vec::new()) },
            link: Link::new(setup.seed, setup.delay_ns, setup.faults, capture),
            now: 0,
            events: Vec::new(),
            setup,
            label: label.to_string(),
            steps: 0,
            wake_at: None,
        }
    }

    fn synack_now(&self) -> Instant {
        Instant::from_nanos(self.now)
    }

    fn smol_now(&self) -> smoltcp::time::Instant {
        smoltcp::time::Instant::from_micros((self.now / 1000) as i64)
    }

    /// Carries out synack's outputs: frames onto the link, events into `events`.
    fn route(&mut self, out: Vec<Output>) {
        for o in out {
            match o {
                Output::Transmit(frame) => self.link.send(self.now, Dir::ToSmol, frame),
                Output::Event(sock, ev) => self.events.push((sock, ev)),
                Output::Reply(_) | Output::Note(_) => {}
            }
        }
    }

    /// Runs a synack command now.
    pub fn command(&mut self, cmd: Command) -> Result<Reply, CommandError> {
        let mut out = Vec::new();
        let now = self.synack_now();
        let reply = self.synack.command(cmd, now, &mut out);
        self.route(out);
        reply
    }

    /// synack connects to smoltcp's `port`, from `local_port` or an ephemeral one.
    pub fn synack_connect(&mut self, port: u16, local_port: Option<u16>) -> SocketHandle {
        let remote = std::net::SocketAddr::new(SMOL_IP.into(), port);
        match self.command(Command::TcpConnect { remote, local_port }) {
            Ok(Reply::Bound { sock, .. }) => sock,
            other => self.fail(&format!("synack connect: {other:?}")),
        }
    }

    /// synack listens on `port`.
    pub fn synack_listen(&mut self, port: u16) -> SocketHandle {
        let local = std::net::SocketAddr::new(std::net::Ipv4Addr::UNSPECIFIED.into(), port);
        match self.command(Command::TcpListen { local, backlog: 16 }) {
            Ok(Reply::Bound { sock, .. }) => sock,
            other => self.fail(&format!("synack listen: {other:?}")),
        }
    }

    /// Takes one connection from a synack listener, if one is ready.
    pub fn synack_accept(&mut self, listener: SocketHandle) -> Option<SocketHandle> {
        match self.command(Command::TcpAccept { listener }) {
            Ok(Reply::Accepted { sock, .. }) => Some(sock),
            Err(CommandError::WouldBlock) => None,
            other => self.fail(&format!("synack accept: {other:?}")),
        }
    }

    /// A smoltcp socket listening on `port`.
    pub fn smol_listen(&mut self, port: u16, buffer: usize) -> SmolHandle {
        let h = self.smol.add_socket(buffer, self.setup.smol_timestamps);
        self.smol.tcp(h).listen(port).expect("smoltcp listen");
        h
    }

    /// A smoltcp socket connecting from `local_port` to synack's `port` (`existing` reuses a closed socket).
    pub fn smol_connect(
        &mut self,
        port: u16,
        local_port: u16,
        existing: Option<SmolHandle>,
        buffer: usize,
    ) -> SmolHandle {
        let ts = self.setup.smol_timestamps;
        let h = existing.unwrap_or_else(|| self.smol.add_socket(buffer, ts));
        let cx = self.smol.iface.context();
        let sock = self.smol.sockets.get_mut::<tcp::Socket>(h);
        let [a, b, c, d] = SYNACK_IP.octets();
        sock.connect(cx, (IpAddress::v4(a, b, c, d), port), local_port).expect("smoltcp connect");
        h
    }

    /// Queues up to all of `data` on `end`; how much it took (0 when its buffer is full).
    pub fn send(&mut self, end: End, data: &[u8]) -> Result<usize, String> {
        match end {
            End::Synack(sock) => match self.command(Command::TcpSend { sock, data: data.to_vec() }) {
                Ok(Reply::Sent { len }) => Ok(len),
                Err(CommandError::WouldBlock) => Ok(0),
                other => Err(format!("synack send: {other:?}")),
            },
            End::Smol(h) => {
                let s = self.smol.tcp(h);
                if matches!(s.state(), tcp::State::Listen | tcp::State::SynSent | tcp::State::SynReceived) {
                    // Still opening: the bytes wait, as a blocking socket's write would.
                    return Ok(0);
                }
                if !s.may_send() {
                    return Err(format!("smoltcp send in state {}", s.state()));
                }
                s.send_slice(data).map_err(|e| format!("smoltcp send: {e}"))
            }
        }
    }

    /// Reads up to `max` bytes from `end`, lending them to `f`.
    pub fn recv(&mut self, end: End, max: usize, f: impl FnMut(&[u8])) -> Read {
        match end {
            End::Synack(sock) => {
                let mut out = Vec::new();
                let now = self.synack_now();
                let r = self.synack.tcp_read(sock, max, now, &mut out, f);
                self.route(out);
                match r {
                    Ok(0) => Read::Eof,
                    Ok(n) => Read::Data(n),
                    Err(CommandError::WouldBlock) => Read::WouldBlock,
                    Err(e) => Read::Gone(format!("synack read: {e}")),
                }
            }
            End::Smol(h) => {
                let s = self.smol.tcp(h);
                if matches!(s.state(), tcp::State::Listen | tcp::State::SynSent | tcp::State::SynReceived) {
                    return Read::WouldBlock;
                }
                let mut f = f;
                match s.recv(|buf| {
                    let n = buf.len().min(max);
                    f(&buf[..n]);
                    (n, n)
                }) {
                    Ok(0) if matches!(s.state(), tcp::State::Closed | tcp::State::Listen) => {
                        Read::Gone(format!("smoltcp socket {}", s.state()))
                    }
                    Ok(0) => Read::WouldBlock,
                    Ok(n) => Read::Data(n),
                    Err(tcp::RecvError::Finished) => Read::Eof,
                    Err(e) => Read::Gone(format!("smoltcp read in state {}: {e}", s.state())),
                }
            }
        }
    }

    /// Half-close: `end` sends FIN after its queued data and keeps receiving.
    pub fn shutdown(&mut self, end: End) {
        match end {
            End::Synack(sock) => {
                if let Err(e) = self.command(Command::TcpShutdown { sock }) {
                    self.fail(&format!("synack shutdown: {e}"));
                }
            }
            // smoltcp's close() closes the transmit half only.
            End::Smol(h) => self.smol.tcp(h).close(),
        }
    }

    /// Releases synack's handle (after end of stream this sends nothing new).
    pub fn synack_close(&mut self, sock: SocketHandle) {
        if let Err(e) = self.command(Command::TcpClose { sock }) {
            self.fail(&format!("synack close: {e}"));
        }
    }

    pub fn smol_state(&mut self, h: SmolHandle) -> tcp::State {
        self.smol.tcp(h).state()
    }

    /// synack's state of `sock`, `None` once the connection is gone.
    pub fn synack_state(&self, sock: SocketHandle) -> Option<TcpState> {
        self.synack.tcp_info(sock).map(|i| i.state)
    }

    pub fn tally(&self, dir: Dir) -> Tally {
        self.link.tally[dir.index()]
    }

    /// Did synack report `event` on `sock`?
    pub fn saw(&self, sock: SocketHandle, event: &Event) -> bool {
        self.events.iter().any(|(s, e)| *s == sock && e == event)
    }

    /// Runs the stacks, calling `app` at every instant until it returns true. Fails after `max_ns` of
    /// virtual time (from now), on a livelock, or when nothing is left to happen.
    pub fn run(&mut self, what: &str, max_ns: u64, mut app: impl FnMut(&mut Net) -> bool) {
        let deadline = self.now + max_ns;
        loop {
            self.steps += 1;
            if self.steps > MAX_STEPS {
                self.fail(&format!("{what}: still running after {MAX_STEPS} steps"));
            }
            if app(self) {
                return;
            }
            if self.settle_now() {
                continue;
            }
            let smol_at = self
                .smol
                .iface
                .poll_at(self.smol_now(), &self.smol.sockets)
                .map(|t| (t.total_micros().max(0) as u64 * 1000).max(self.now + 1000));
            let wake = self.wake_at.filter(|&t| t > self.now);
            let next = [self.link.next_arrival(), self.synack.poll_timeout().map(|t| t.as_nanos()), smol_at, wake]
                .into_iter()
                .flatten()
                .min();
            match next {
                None => self.fail(&format!("{what}: stalled, nothing left to happen")),
                Some(t) if t > deadline => {
                    self.fail(&format!("{what}: not done within {} ms of virtual time", max_ns / 1_000_000))
                }
                Some(t) => self.now = self.now.max(t),
            }
        }
    }

    /// One round at the current instant: frames that arrived, synack's due timers, a smoltcp poll. True if
    /// anything moved (then the application gets another look at this instant).
    fn settle_now(&mut self) -> bool {
        let mut moved = false;
        while let Some((dir, frame, corrupted)) = self.link.pop_arrived(self.now) {
            moved = true;
            match dir {
                Dir::ToSynack => {
                    let now = self.synack_now();
                    let malformed = self.malformed_drops();
                    let out = self.synack.handle(Input::Frame(&frame), now);
                    if corrupted && self.malformed_drops() == malformed {
                        self.fail(&format!(
                            "synack took a corrupted frame: {} -> {:?}",
                            synack::wire::pretty::frame_summary(&frame),
                            out
                        ));
                    }
                    self.route(out);
                }
                Dir::ToSmol => {
                    if frame.len() > self.setup.smol_mtu + 14 {
                        self.fail(&format!(
                            "synack sent a {}-byte frame past smoltcp's MTU {}: {}",
                            frame.len(),
                            self.setup.smol_mtu,
                            synack::wire::pretty::frame_summary(&frame)
                        ));
                    }
                    self.smol.dev.rx.push_back(frame)
                }
            }
        }
        if self.synack.poll_timeout().is_some_and(|t| t.as_nanos() <= self.now) {
            moved = true;
            let now = self.synack_now();
            let out = self.synack.handle(Input::Timer, now);
            self.route(out);
        }
        let now = self.smol_now();
        VIRTUAL_MS.with(|c| c.set((self.now / 1_000_000) as u32));
        // A socket state change (a TIME-WAIT that ended, say) is news for the application too, though smoltcp's
        // `PollResult` does not report every one.
        let before = self.smol.states();
        self.smol.iface.poll(now, &mut self.smol.dev, &mut self.smol.sockets);
        moved |= self.smol.states() != before;
        for frame in std::mem::take(&mut self.smol.dev.tx) {
            moved = true;
            self.link.send(self.now, Dir::ToSynack, frame);
        }
        moved
    }

    /// Frames synack dropped as malformed so far (bad checksums among them).
    pub fn malformed_drops(&self) -> u64 {
        let stats = self.synack.stats();
        stats.drop_counts().filter(|(r, _)| matches!(r, synack::DropReason::Malformed(..))).map(|(_, n)| n).sum()
    }

    /// Fails the test with what led here: the label, the time, the link's tallies and latest frames.
    pub fn fail(&self, why: &str) -> ! {
        self.write_capture();
        let synack_conns: Vec<_> = self
            .synack
            .tcp_connections()
            .into_iter()
            .filter_map(|c| Some((c, self.synack.tcp_info(c)?.state)))
            .collect();
        let smol_socks = self.smol.states();
        panic!(
            "{}: {why}\nat {:.3} ms virtual; link synack->smoltcp {:?}\n  smoltcp->synack {:?}\nsynack events: {:?}\n\
             synack connections {synack_conns:?}, smoltcp sockets {smol_socks:?}\n\
             latest frames:\n{}replay: INTEROP_SEED={} cargo test -p synack-bench --test interop (INTEROP_PCAP=/tmp/x.pcap \
             writes every frame)",
            self.label,
            self.now as f64 / 1e6,
            self.tally(Dir::ToSmol),
            self.tally(Dir::ToSynack),
            self.events.iter().rev().take(12).collect::<Vec<_>>(),
            self.link.history(),
            self.setup.seed,
        )
    }

    /// Writes the capture when `INTEROP_PCAP` names a file (the last run to finish wins).
    pub fn finish(&self) {
        // Shown by `cargo test -- --nocapture`: what each run cost and what the link did to it.
        let (a, b) = (self.tally(Dir::ToSmol), self.tally(Dir::ToSynack));
        eprintln!(
            "{}: {:.1} ms virtual; synack->smoltcp {} frames ({} lost, {} dup, {} held, {} corrupt, {} rtx, {} rst); \
             smoltcp->synack {} frames ({} lost, {} dup, {} held, {} corrupt, {} rtx, {} rst); synack drops {}",
            self.label,
            self.now as f64 / 1e6,
            a.frames,
            a.lost,
            a.duplicated,
            a.held_back,
            a.corrupted,
            a.retransmissions,
            a.resets,
            b.frames,
            b.lost,
            b.duplicated,
            b.held_back,
            b.corrupted,
            b.retransmissions,
            b.resets,
            self.synack.stats().total_drops(),
        );
        self.write_capture();
    }

    /// Writes every frame to the file `INTEROP_PCAP` names, if this run's label contains `INTEROP_LABEL` (when
    /// set). One file, overwritten by each run that qualifies.
    fn write_capture(&self) {
        let wanted = std::env::var("INTEROP_LABEL").map_or(true, |l| self.label.contains(&l));
        if let (Some(frames), Some(path), true) = (&self.link.capture, std::env::var_os("INTEROP_PCAP"), wanted) {
            crate::link::write_pcap(std::path::Path::new(&path), frames).expect("write INTEROP_PCAP");
        }
    }
}
