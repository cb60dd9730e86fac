//! Benchmark harnesses for synack: two [`Stack`]s joined by a zero-delay in-memory Ethernet link.
//!
//! Every frame one stack emits is handed straight to the other stack's `handle_into`; nothing is delayed,
//! dropped or copied on the way. Time is virtual: it stands still while frames or application work are pending
//! and jumps to the next timer deadline only when both stacks are idle, so a run measures the CPU cost of the
//! protocol code alone (the same rule drives the smoltcp harness in `common/smol.rs`).
//!
//! The modules here depend on synack only; the smoltcp side lives in `common/` and is compiled into the
//! examples, benches and tests (where dev-dependencies are available).

pub mod alloc_count;
pub mod pattern;
pub mod scale;

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use synack::{
    Bytes, Command, CommandError, Config, Event, Input, Instant, Ipv6Config, Output, Reply, RxFrame, SocketHandle,
    Stack,
};

/// Stack A (the client / sender) and stack B (the server / receiver) are addressed as in every harness.
pub use synack_testkit::{Side, IP_A, IP_B};
/// MAC of stack A, as bytes (for the smoltcp harness too).
pub const MAC_A: [u8; 6] = synack_testkit::MAC_A.0;
/// MAC of stack B, as bytes.
pub const MAC_B: [u8; 6] = synack_testkit::MAC_B.0;
/// IP MTU of the link, for both stacks.
pub const MTU: usize = 1500;
/// Socket buffer size of every connection, for both stacks (synack's default `TcpConfig`).
pub const BUFFER: usize = 256 * 1024;
/// Largest application write per call.
pub const WRITE_CHUNK: usize = 64 * 1024;

/// The two stack configurations: MTU 1500 and 256 KiB buffers on both sides, and no TCP timestamps: the
/// smoltcp harness sends none, so both stacks carry 1460 payload bytes per segment (like with like).
pub fn configs() -> (Config, Config) {
    let (mut a, mut b) = synack_testkit::configs(1, 2);
    for c in [&mut a, &mut b] {
        c.mtu = MTU;
        c.tcp.send_buffer = BUFFER;
        c.tcp.recv_buffer = BUFFER;
        c.tcp.timestamps = false;
    }
    (a, b)
}

/// The IP family a transfer runs over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    Ipv4,
    /// Both stacks dual-stack ([`IP6_A`], [`IP6_B`] on a /64); the connection goes to B's IPv6 address.
    Ipv6,
}

/// IPv6 addresses of stack A and B in [`Family::Ipv6`] runs.
pub const IP6_A: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0xa);
pub const IP6_B: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0xb);

/// [`configs`], made dual-stack for [`Family::Ipv6`]: each stack gets its address on 2001:db8::/64 and
/// ignores router advertisements (there is no router on the link, so no solicitations either).
pub fn configs_for(family: Family) -> (Config, Config) {
    let (mut a, mut b) = configs();
    if family == Family::Ipv6 {
        for (c, ip) in [(&mut a, IP6_A), (&mut b, IP6_B)] {
            let cidr = format!("{ip}/64").parse().expect("a valid prefix");
            c.ipv6 = Some(Ipv6Config { addresses: vec![cidr], accept_ra: false, ..Ipv6Config::default() });
        }
    }
    (a, b)
}

/// Two stacks and the frames in flight between them.
#[derive(Debug)]
pub struct Pair {
    pub a: Stack,
    pub b: Stack,
    pub now: Instant,
    /// Frames sent by A, not yet handled by B (and the other way round).
    to_b: VecDeque<Vec<u8>>,
    to_a: VecDeque<Vec<u8>>,
    /// The output vector every `handle_into` appends to, drained after each call.
    out: Vec<Output>,
    /// Events not yet looked at: (side, socket, event).
    pub events: Vec<(Side, SocketHandle, Event)>,
    /// Frames moved across the link.
    pub frames: u64,
    /// Return transmitted frames to their sender for reuse (synack's `Stack::recycle_frame`).
    pub recycle: bool,
    /// Hand each side everything queued for it as one batch (`Stack::handle_frames_into`, one ACK per batch
    /// and connection, as smoltcp's `poll` ingests all queued frames); `SYNACK_BENCH_NO_BATCH=1` hands frames
    /// over one `handle_into` call at a time.
    pub batched: bool,
    /// TCP checksums are left to the link: both stacks send partial checksums (`Config::tx_checksum_offload`)
    /// and take frames as `RxFrame::checksum_offloaded`, as over a virtio or veth link (only in batched mode).
    pub checksums_offloaded: bool,
    /// FNV-1a digest of every frame in link order, when `SYNACK_BENCH_DIGEST` is set (to check that an
    /// optimisation leaves the frames byte-identical).
    pub digest: Option<u64>,
    /// The address A connects to: B's IPv4 address, or its IPv6 one after [`Pair::use_ipv6`].
    pub server: IpAddr,
}

impl Pair {
    pub fn new() -> Pair {
        let (a, b) = configs();
        Pair::with_configs(a, b)
    }

    pub fn with_configs(a: Config, b: Config) -> Pair {
        Pair {
            a: Stack::new(a).expect("config A"),
            b: Stack::new(b).expect("config B"),
            now: Instant::ZERO,
            to_b: VecDeque::new(),
            to_a: VecDeque::new(),
            out: Vec::with_capacity(256),
            events: Vec::new(),
            frames: 0,
            // SYNACK_BENCH_NO_RECYCLE=1 measures the plain `handle_into` API (a fresh Vec per frame).
            recycle: std::env::var_os("SYNACK_BENCH_NO_RECYCLE").is_none(),
            batched: std::env::var_os("SYNACK_BENCH_NO_BATCH").is_none(),
            checksums_offloaded: false,
            digest: std::env::var_os("SYNACK_BENCH_DIGEST").map(|_| 0xcbf2_9ce4_8422_2325),
            server: IpAddr::V4(IP_B),
        }
    }

    /// Runs the clock until both stacks' IPv6 addresses passed duplicate address detection, then makes
    /// [`Pair::connect`] go to B's IPv6 address. Panics if the stacks have no IPv6 or DAD does not finish.
    pub fn use_ipv6(&mut self) {
        let ready = |s: &Stack| {
            let addrs = s.ipv6_addresses();
            !addrs.is_empty() && addrs.iter().all(|a| a.state == "preferred")
        };
        for _ in 0..64 {
            if ready(&self.a) && ready(&self.b) {
                break;
            }
            self.pump();
            if !self.advance_to_next_timer() {
                break;
            }
        }
        self.pump();
        assert!(ready(&self.a) && ready(&self.b), "IPv6 addresses never became preferred");
        self.server = IpAddr::V6(IP6_B);
        self.events.clear();
    }

    fn stack(&mut self, side: Side) -> &mut Stack {
        synack_testkit::stack(&mut self.a, &mut self.b, side)
    }

    /// Moves everything in `self.out` (produced by `side`) to the link and the event list.
    fn route(&mut self, side: Side) {
        if self.out.is_empty() {
            return; // most commands and many deliveries send nothing: no drain to set up and drop
        }
        let queue = match side {
            Side::A => &mut self.to_b,
            Side::B => &mut self.to_a,
        };
        // Each output is taken apart where it lies (its frame or event moved out, an empty one left) and the
        // husks cleared after: moving every 72-byte output out of the vector first cost more than the routing.
        for o in &mut self.out {
            match o {
                Output::Transmit(frame) => {
                    if let Some(d) = self.digest.as_mut() {
                        for &b in frame.iter() {
                            *d = (*d ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
                        }
                    }
                    queue.push_back(std::mem::take(frame));
                }
                Output::Event(sock, ev) => self.events.push((side, *sock, std::mem::replace(ev, Event::Readable))),
                Output::Reply(r) => panic!("a reply outside a command: {r:?}"),
                Output::Note(n) => panic!("a note without Config::explain: {n}"),
            }
        }
        self.out.clear();
    }

    /// Runs one command on `side` and returns its reply (frames it caused are queued on the link).
    pub fn command(&mut self, side: Side, cmd: Command) -> Result<Reply, CommandError> {
        let now = self.now;
        let stack = synack_testkit::stack(&mut self.a, &mut self.b, side);
        let reply = stack.command(cmd, now, &mut self.out);
        self.route(side);
        reply
    }

    /// Reads on `side`'s connection `sock` with the zero-copy read ([`Stack::tcp_read`]): up to `max` bytes lent
    /// to `f` where they lie in the receive queue.
    pub fn read(
        &mut self,
        side: Side,
        sock: SocketHandle,
        max: usize,
        f: impl FnMut(&[u8]),
    ) -> Result<usize, CommandError> {
        let now = self.now;
        let mut out = std::mem::take(&mut self.out);
        let read = self.stack(side).tcp_read(sock, max, now, &mut out, f);
        self.out = out;
        self.route(side);
        read
    }

    /// Writes on `side`'s connection `sock` with the zero-copy write ([`Stack::tcp_write`]): the send queue keeps
    /// `data` itself. Returns how many bytes it took.
    pub fn write(&mut self, side: Side, sock: SocketHandle, data: Bytes) -> Result<usize, CommandError> {
        let now = self.now;
        let mut out = std::mem::take(&mut self.out);
        let written = self.stack(side).tcp_write(sock, data, now, &mut out);
        self.out = out;
        self.route(side);
        written
    }

    /// Delivers queued frames both ways until the link is empty. Returns how many frames moved.
    pub fn pump(&mut self) -> u64 {
        let mut moved = 0;
        loop {
            let step = self.deliver(Side::B) + self.deliver(Side::A);
            if step == 0 {
                break;
            }
            moved += step;
        }
        self.frames += moved;
        moved
    }

    /// Hands `to` every frame queued for it (one batch, or one at a time) and routes what it sends back.
    fn deliver(&mut self, to: Side) -> u64 {
        let now = self.now;
        let (stack, queue, sender) = match to {
            Side::A => (&mut self.a, &mut self.to_a, &mut self.b),
            Side::B => (&mut self.b, &mut self.to_b, &mut self.a),
        };
        if queue.is_empty() {
            // Nothing arrived: a driver whose device has no frame for the stack does not call it (every pump
            // ends with a round of these).
            return 0;
        }
        let mut out = std::mem::take(&mut self.out);
        let moved = queue.len() as u64;
        if self.batched {
            let offloaded = self.checksums_offloaded;
            let frames = queue.iter().map(|f| RxFrame { bytes: f, checksum_offloaded: offloaded });
            stack.handle_frames_into(frames, now, &mut out);
        } else if self.checksums_offloaded {
            // One frame at a time, still marked as checked by the device (a batch of one).
            for frame in queue.iter() {
                let one = RxFrame { bytes: frame, checksum_offloaded: true };
                stack.handle_frames_into(std::iter::once(one), now, &mut out);
            }
        } else {
            for frame in queue.iter() {
                stack.handle_into(Input::Frame(frame), now, &mut out);
            }
        }
        // Popped one by one: a drain of the deque cost more to set up and drop than the few frames it moved.
        while let Some(frame) = queue.pop_front() {
            if self.recycle {
                sender.recycle_frame(frame);
            }
        }
        self.out = out;
        self.route(to);
        moved
    }

    /// Nothing in flight: jump to the earliest timer and fire it on both sides. False if no timer is pending.
    pub fn advance_to_next_timer(&mut self) -> bool {
        let next = [self.a.poll_timeout(), self.b.poll_timeout()].into_iter().flatten().min();
        let Some(t) = next else {
            return false;
        };
        self.now = self.now.max(t);
        self.fire_due_timers();
        true
    }

    /// Fires the timers due now on both sides, without moving the clock.
    pub fn fire_due_timers(&mut self) {
        let now = self.now;
        for side in [Side::A, Side::B] {
            if self.stack(side).poll_timeout().is_some_and(|d| d <= now) {
                let mut out = std::mem::take(&mut self.out);
                self.stack(side).handle_into(Input::Timer, now, &mut out);
                self.out = out;
                self.route(side);
            }
        }
    }

    /// Takes the events seen so far.
    pub fn take_events(&mut self) -> Vec<(Side, SocketHandle, Event)> {
        std::mem::take(&mut self.events)
    }

    /// Listens on B's `port` (of the family of [`Pair::server`]).
    pub fn listen(&mut self, port: u16, backlog: usize) -> SocketHandle {
        let any = match self.server {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        };
        let local = SocketAddr::new(any, port);
        match self.command(Side::B, Command::TcpListen { local, backlog }) {
            Ok(Reply::Bound { sock, .. }) => sock,
            other => panic!("listen: {other:?}"),
        }
    }

    /// Starts a connection from A to B's `port`.
    pub fn connect(&mut self, port: u16) -> SocketHandle {
        let remote = SocketAddr::new(self.server, port);
        match self.command(Side::A, Command::TcpConnect { remote, local_port: None }) {
            Ok(Reply::Bound { sock, .. }) => sock,
            other => panic!("connect: {other:?}"),
        }
    }

    /// Accepts one connection on B's listener, if one is ready.
    pub fn accept(&mut self, listener: SocketHandle) -> Option<SocketHandle> {
        match self.command(Side::B, Command::TcpAccept { listener }) {
            Ok(Reply::Accepted { sock, .. }) => Some(sock),
            Err(CommandError::WouldBlock) => None,
            other => panic!("accept: {other:?}"),
        }
    }

    /// One connection A -> B, established and accepted: (A's socket, B's socket).
    pub fn open_one(&mut self, port: u16) -> (SocketHandle, SocketHandle) {
        let l = self.listen(port, 16);
        let c = self.connect(port);
        self.pump();
        let s = self.accept(l).expect("accepted");
        self.events.clear();
        (c, s)
    }
}

impl Default for Pair {
    fn default() -> Self {
        Pair::new()
    }
}

/// Outcome of one bulk transfer.
#[derive(Clone, Copy, Debug)]
pub struct Bulk {
    /// Digest of every frame (see [`Pair::digest`]).
    pub digest: Option<u64>,
    /// Payload bytes the receiver read.
    pub bytes: u64,
    /// Wall-clock time of the transfer (handshake excluded).
    pub secs: f64,
    /// Frames moved across the link during the transfer.
    pub frames: u64,
    /// TCP/UDP checksums the receiver took unverified (synack's `Stats`; 0 for smoltcp).
    pub unverified_checksums: u64,
}

impl Bulk {
    pub fn gbit_per_s(&self) -> f64 {
        self.bytes as f64 * 8.0 / self.secs / 1e9
    }
}

/// Sends `total` bytes from A to B over one connection, then closes; B reads everything until end of stream.
/// With `verify`, every byte read is compared against what was sent.
pub fn synack_bulk(total: u64, verify: bool) -> Bulk {
    synack_bulk_with(total, verify, false)
}

/// [`synack_bulk`] with TCP checksums left to the link (`checksums_offloaded`): neither stack computes or
/// verifies them, the counterpart of smoltcp with `ChecksumCapabilities::ignored()`.
pub fn synack_bulk_with(total: u64, verify: bool, checksums_offloaded: bool) -> Bulk {
    synack_bulk_over(Family::Ipv4, total, verify, checksums_offloaded)
}

/// [`synack_bulk_with`] over `family`. Over IPv6 the link MTU is the same, so segments carry 20 bytes less
/// (1440 payload bytes) and the transfer takes about 1.4 % more frames.
pub fn synack_bulk_over(family: Family, total: u64, verify: bool, checksums_offloaded: bool) -> Bulk {
    let (mut a, mut b) = configs_for(family);
    a.tx_checksum_offload = checksums_offloaded;
    b.tx_checksum_offload = checksums_offloaded;
    let mut p = Pair::with_configs(a, b);
    p.checksums_offloaded = checksums_offloaded;
    if family == Family::Ipv6 {
        p.use_ipv6();
    }
    let (tx, rx) = p.open_one(5001);
    let frames_before = p.frames;
    let data = pattern::Pattern::new();
    let copy_writes = std::env::var_os("SYNACK_BENCH_COPY_WRITES").is_some();
    let mut sent: u64 = 0;
    let mut received: u64 = 0;
    let mut writable = true;
    let mut readable = false;
    let mut shut = false;
    let mut eof = false;
    let start = std::time::Instant::now();
    while !eof {
        let mut progress = false;
        while writable && sent < total {
            // At most one block: a piece of the pattern is contiguous up to that length.
            let len = ((total - sent).min(WRITE_CHUNK as u64) as usize).min(pattern::BLOCK);
            // The application hands over a piece of its shared block (the zero-copy write: the send queue keeps
            // the reference). With SYNACK_BENCH_COPY_WRITES=1, each write is copied into a `Vec` for `TcpSend`
            // instead, and whatever the stack had no room for is copied again on the next try.
            let written = if copy_writes {
                let chunk = data.slice(sent, len).to_vec();
                match p.command(Side::A, Command::TcpSend { sock: tx, data: chunk }) {
                    Ok(Reply::Sent { len: n }) => Ok(n),
                    Ok(other) => panic!("send: {other:?}"),
                    Err(e) => Err(e),
                }
            } else {
                p.write(Side::A, tx, data.shared(sent, len))
            };
            match written {
                Ok(n) => {
                    sent += n as u64;
                    progress = true;
                    if n < len {
                        writable = false;
                    }
                }
                Err(CommandError::WouldBlock) => writable = false,
                other => panic!("send: {other:?}"),
            }
        }
        if sent == total && !shut {
            p.command(Side::A, Command::TcpShutdown { sock: tx }).expect("shutdown");
            shut = true;
        }
        progress |= p.pump() > 0;
        for (side, sock, ev) in p.events.drain(..) {
            match (side, ev) {
                (Side::A, Event::Writable) if sock == tx => writable = true,
                (Side::B, Event::Readable | Event::PeerClosed) if sock == rx => readable = true,
                _ => {}
            }
        }
        while readable {
            // The application reads where the bytes lie (no copy): the zero-copy read, as smoltcp's `recv`
            // closure in its harness.
            let mut at = received;
            match p.read(Side::B, rx, BUFFER, |bytes| {
                if verify {
                    assert!(data.matches(at, bytes), "bytes differ at offset {at}");
                }
                at += bytes.len() as u64;
            }) {
                Ok(0) => {
                    eof = true;
                    readable = false;
                }
                Ok(n) => {
                    received += n as u64;
                    progress = true;
                }
                Err(CommandError::WouldBlock) => readable = false,
                other => panic!("recv: {other:?}"),
            }
        }
        if !progress && !p.advance_to_next_timer() {
            panic!("stalled at {received} of {total} bytes");
        }
    }
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(received, total, "receiver got every byte");
    let unverified_checksums = p.b.stats().transport_checksums_offloaded;
    Bulk { digest: p.digest, bytes: received, secs, frames: p.frames - frames_before, unverified_checksums }
}

/// Outcome of a handshake run.
#[derive(Clone, Copy, Debug)]
pub struct Handshakes {
    pub count: u64,
    pub secs: f64,
    pub frames: u64,
}

impl Handshakes {
    pub fn per_sec(&self) -> f64 {
        self.count as f64 / self.secs
    }
}

/// `count` times, one after the other: A connects, B accepts, A closes, B reads end of stream and closes, and
/// the FIN exchange completes (A ends in TIME-WAIT, as any active closer does).
pub fn synack_handshakes(count: u64) -> Handshakes {
    let (mut a, b) = configs();
    // One port per connection; TIME-WAIT connections keep theirs.
    a.ephemeral_ports = (1024, 65535);
    let mut p = Pair::with_configs(a, b);
    let l = p.listen(5001, 64);
    let start = std::time::Instant::now();
    for _ in 0..count {
        let c = p.connect(5001);
        p.pump();
        let s = p.accept(l).expect("accepted");
        p.command(Side::A, Command::TcpClose { sock: c }).expect("close A");
        p.pump();
        p.command(Side::B, Command::TcpClose { sock: s }).expect("close B");
        p.pump();
        p.events.clear();
    }
    let secs = start.elapsed().as_secs_f64();
    Handshakes { count, secs, frames: p.frames }
}

/// Median of a non-empty list of measurements.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}
