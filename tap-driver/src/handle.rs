//! The application's side of the driver: starting it, talking to it, stopping it.
//!
//! A [`Driver`] owns a thread that owns the [`synack::Stack`]. Sockets ([`crate::TcpStream`], ...) hold a cloned
//! [`Handle`] and send it [`Request`]s; the driver thread answers each on a channel of its own, parking blocking
//! calls until an event of their socket (or their deadline) comes.

use crate::app::App;
use crate::driver::DriverLoop;
use crate::error::TapError;
use crate::impair::{ImpairCounts, Impairments};
use crate::link::Link;
use crate::sys::Waker;
use crate::tap::TapDevice;
use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use synack::{Command, Reply, SocketHandle, Stack, Stats};

/// How a driver runs, besides the stack's own [`synack::Config`].
#[derive(Clone, Debug, Default)]
pub struct DriverConfig {
    pub stack: synack::Config,
    /// Write a pcapng capture of every frame the stack saw and sent.
    pub pcap: Option<PathBuf>,
    /// Loss, duplication and reordering applied to live traffic in both directions.
    pub impair: Impairments,
    /// Print a one-line decode of every frame to stderr.
    pub trace: bool,
    /// Before starting, make sure nobody on the link uses our address (RFC 5227 ARP probes; `None`: don't).
    /// Not done with DHCP (`stack.dhcp`): the DHCP client probes the address it is given instead.
    pub probe: Option<crate::AddressProbe>,
    /// Where the DHCP client's news goes (lease bound, renewed, lost; retransmissions for lack of an answer).
    pub dhcp_events: Option<mpsc::Sender<synack::DhcpEvent>>,
}

/// How a blocking call waits when the stack cannot answer it yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wait {
    /// Answer at once, whatever the stack says.
    No,
    /// On `WouldBlock`, retry whenever this socket has an event, until the deadline.
    Retry(SocketHandle),
    /// `TcpConnect`: answer when the socket is connected, reset, timed out or unreachable.
    Connect,
}

pub(crate) type ReplyTx = mpsc::Sender<io::Result<Reply>>;

/// One command from a socket, and where its answer goes.
#[derive(Debug)]
pub(crate) struct Call {
    pub(crate) cmd: Command,
    pub(crate) wait: Wait,
    pub(crate) deadline: Option<Instant>,
    pub(crate) reply: ReplyTx,
}

#[derive(Debug)]
pub(crate) enum Request {
    Call(Call),
    /// A command whose answer nobody waits for (closing a dropped socket).
    Detached(Command),
    Stats(mpsc::Sender<Stats>),
    /// How many connections still wait for the peer to acknowledge our FIN.
    ClosesPending(mpsc::Sender<usize>),
    /// Start an app inside the driver thread.
    Install(Installing, mpsc::Sender<io::Result<()>>),
    /// The application shut a connection's reading side: reads blocked on it, and later ones, return end of
    /// stream.
    ShutRead(SocketHandle),
}

/// An app on its way to the driver thread.
pub(crate) struct Installing(pub(crate) Box<dyn App>);

impl fmt::Debug for Installing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Installing(app)")
    }
}

/// What a driver did, returned when it stops.
#[derive(Clone, Debug, Default)]
pub struct DriverReport {
    pub stack: Stats,
    pub frames_read: u64,
    pub frames_written: u64,
    /// Frames the device refused (e.g. while the interface was down).
    pub write_errors: u64,
    pub impair_in: ImpairCounts,
    pub impair_out: ImpairCounts,
    pub impair_active: bool,
    pub captured: Option<(PathBuf, u64)>,
    /// Blocked calls answered by the periodic re-check rather than by an event (should stay 0).
    pub late_wakeups: u64,
    /// Times the stack's timers were run.
    pub timer_runs: u64,
    /// The stack's next timer when the driver stopped, in ms from then (negative: overdue); `None` if none.
    pub next_timer_ms: Option<f64>,
    /// Why the driver stopped, if not on request.
    pub error: Option<String>,
}

impl fmt::Display for DriverReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "device: {} frames read, {} written, {} write errors", self.frames_read, self.frames_written, {
            self.write_errors
        })?;
        if self.impair_active {
            writeln!(f, "impairment in:  {}", self.impair_in)?;
            writeln!(f, "impairment out: {}", self.impair_out)?;
        }
        if let Some((path, n)) = &self.captured {
            writeln!(f, "capture: {n} frames in {}", path.display())?;
        }
        match self.next_timer_ms {
            Some(ms) => writeln!(f, "timers: {} runs, next due in {ms:.1} ms", self.timer_runs)?,
            None => writeln!(f, "timers: {} runs, none pending", self.timer_runs)?,
        }
        if self.late_wakeups > 0 {
            writeln!(f, "late wake-ups: {}", self.late_wakeups)?;
        }
        if let Some(e) = &self.error {
            writeln!(f, "driver error: {e}")?;
        }
        write!(f, "{}", self.stack)
    }
}

/// A cheap, cloneable way to reach a running driver from any thread.
#[derive(Clone, Debug)]
pub struct Handle {
    tx: mpsc::Sender<Request>,
    waker: Arc<Waker>,
    stop: Arc<AtomicBool>,
    /// The stack's configuration and addresses as they are now (a DHCP lease changes the address, IPv6
    /// autoconfiguration adds some): the driver updates them.
    config: Arc<std::sync::RwLock<Shown>>,
}

/// What the driver shows of the stack to other threads.
#[derive(Debug)]
pub(crate) struct Shown {
    pub config: synack::Config,
    pub ipv6: Vec<synack::Ipv6Address>,
}

pub(crate) fn stopped_error() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "the synack driver has stopped")
}

/// Slack on top of a call's own deadline before the caller gives up on the driver thread itself.
const DRIVER_GRACE: Duration = Duration::from_secs(5);

impl Handle {
    /// The stack's configuration (our MAC and address) as it is now: under DHCP, the leased address and
    /// gateway once a lease is bound (0.0.0.0 before, and after the lease is lost).
    pub fn config(&self) -> synack::Config {
        match self.config.read() {
            Ok(c) => c.config.clone(),
            Err(poisoned) => poisoned.into_inner().config.clone(),
        }
    }

    /// The stack's IPv6 addresses as they are now (link-local, configured, autoconfigured), with their state.
    pub fn ipv6_addresses(&self) -> Vec<synack::Ipv6Address> {
        match self.config.read() {
            Ok(c) => c.ipv6.clone(),
            Err(poisoned) => poisoned.into_inner().ipv6.clone(),
        }
    }

    /// Asks the driver to stop; every blocked and later call fails. Safe from any thread (e.g. a signal thread).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.waker.wake();
    }

    /// True once [`Handle::stop`] was called.
    pub fn is_stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// A snapshot of the stack's counters.
    pub fn stats(&self) -> io::Result<Stats> {
        let (tx, rx) = mpsc::channel();
        self.send(Request::Stats(tx))?;
        rx.recv_timeout(DRIVER_GRACE).map_err(|_| stopped_error())
    }

    /// Waits (at most `grace`) until every connection the application closed has had its FIN acknowledged,
    /// and returns how many had not. A program about to exit calls it before stopping the driver: the kernel
    /// keeps retransmitting a closed socket's FIN after its process exits, but a user-space stack stops with
    /// its process, and a peer whose copy of our FIN was lost would wait for it forever.
    pub fn linger(&self, grace: Duration) -> io::Result<usize> {
        let deadline = Instant::now() + grace;
        loop {
            let (tx, rx) = mpsc::channel();
            self.send(Request::ClosesPending(tx))?;
            let pending = rx.recv_timeout(DRIVER_GRACE).map_err(|_| stopped_error())?;
            if pending == 0 || Instant::now() >= deadline {
                return Ok(pending);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Starts `app` inside the driver thread (see [`crate::app`]); returns once its [`App::start`] has run,
    /// with its error if it refused. One app per driver.
    pub fn install(&self, app: Box<dyn App>) -> io::Result<()> {
        let (tx, rx) = mpsc::channel();
        self.send(Request::Install(Installing(app), tx))?;
        rx.recv().unwrap_or_else(|_| Err(stopped_error()))
    }

    fn send(&self, req: Request) -> io::Result<()> {
        if self.is_stopped() {
            return Err(stopped_error());
        }
        self.tx.send(req).map_err(|_| stopped_error())?;
        self.waker.wake();
        Ok(())
    }

    /// Runs one command and waits for its answer as `wait` says, until `deadline`.
    pub(crate) fn call(&self, cmd: Command, wait: Wait, deadline: Option<Instant>) -> io::Result<Reply> {
        let (tx, rx) = mpsc::channel();
        self.send(Request::Call(Call { cmd, wait, deadline, reply: tx }))?;
        let answer = match deadline {
            // The driver answers at the deadline; the grace only guards against a wedged driver thread.
            Some(d) => rx.recv_timeout(d.saturating_duration_since(Instant::now()) + DRIVER_GRACE).ok(),
            None => rx.recv().ok(),
        };
        answer.unwrap_or_else(|| Err(stopped_error()))
    }

    /// Sends a command without waiting for the answer.
    pub(crate) fn detach(&self, cmd: Command) {
        let _ = self.send(Request::Detached(cmd));
    }

    /// Wakes the reads blocked on `sock` with end of stream, and answers later ones so (`shutdown(Read)`).
    pub(crate) fn shut_read(&self, sock: SocketHandle) -> io::Result<()> {
        self.send(Request::ShutRead(sock))
    }
}

/// A running driver thread. Dropping it stops the thread and waits for it.
#[derive(Debug)]
pub struct Driver {
    handle: Handle,
    thread: Option<JoinHandle<DriverReport>>,
}

impl Driver {
    /// Opens TAP device `name` and starts driving it. The device lives in the calling thread's network namespace.
    pub fn open_tap(name: &str, config: DriverConfig) -> Result<Driver, TapError> {
        let dev = TapDevice::open(name)?;
        Driver::start(dev, config)
    }

    /// Like [`Driver::open_tap`], with offloads ([`crate::OffloadTap`]): Linux hands the stack TCP segments of
    /// up to 64 KB and cuts the stack's 64 KB TCP frames (`TcpConfig::segmentation_offload` is set), one read
    /// or write each instead of one per 1500-byte frame.
    pub fn open_tap_with_offload(name: &str, mut config: DriverConfig) -> Result<Driver, TapError> {
        let mut dev = crate::OffloadTap::open(name, config.stack.mtu)?;
        // Linux cuts what we send, too: TCP frames of up to 64 KB.
        config.stack.tcp.segmentation_offload = 65_535;
        // And finishes their checksums, unless a capture or a trace should show them complete.
        let partial = config.pcap.is_none() && !config.trace;
        config.stack.tx_checksum_offload = partial;
        dev.set_finish_tx_checksums(partial);
        Driver::start(dev, config)
    }

    /// Starts a driver thread moving frames between `link` and a new stack.
    /// With `config.probe`, first probes for the stack's address and refuses to start if it is in use.
    pub fn start<L: Link + 'static>(mut link: L, config: DriverConfig) -> Result<Driver, TapError> {
        config.impair.validate().map_err(|e| TapError::Io("bad impairment", io::Error::other(e)))?;
        // A capture's packet comments carry the stack's reasons (`Config::explain`), as the simulator's do.
        let stack = Stack::new(synack::Config {
            explain: config.stack.explain || config.pcap.is_some(),
            ..config.stack.clone()
        })?;
        if let Some(p) = config.probe.as_ref().filter(|_| config.stack.dhcp.is_none()) {
            crate::probe::probe(&mut link, config.stack.ipv4.addr(), config.stack.mac, p)?;
        }
        let waker = Arc::new(Waker::new().map_err(|e| TapError::Io("cannot create an eventfd", e))?);
        let (tx, rx) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let shown = Shown { config: stack.config().clone(), ipv6: stack.ipv6_addresses() };
        let shared = Arc::new(std::sync::RwLock::new(shown));
        let handle = Handle { tx, waker: waker.clone(), stop: stop.clone(), config: shared.clone() };
        let run = DriverLoop::new(link, stack, &config, rx, waker, stop, shared)?;
        let thread = std::thread::Builder::new()
            .name("synack-driver".into())
            .spawn(move || run.run())
            .map_err(|e| TapError::Io("cannot start the driver thread", e))?;
        Ok(Driver { handle, thread: Some(thread) })
    }

    /// A handle for sockets and control.
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }

    /// Stops the driver and returns what it did.
    pub fn stop(mut self) -> DriverReport {
        self.join()
    }

    /// Waits until someone calls [`Handle::stop`] (or the driver fails), then returns the report.
    pub fn wait(mut self) -> DriverReport {
        match self.thread.take() {
            Some(t) => t.join().unwrap_or_else(|_| panicked()),
            None => DriverReport::default(),
        }
    }

    fn join(&mut self) -> DriverReport {
        self.handle.stop();
        match self.thread.take() {
            Some(t) => t.join().unwrap_or_else(|_| panicked()),
            None => DriverReport::default(),
        }
    }
}

fn panicked() -> DriverReport {
    DriverReport { error: Some("the driver thread panicked".into()), ..DriverReport::default() }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.join();
        }
    }
}
