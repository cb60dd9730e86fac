//! A TCP transfer between two stacks over a link whose every decision (deliver, drop, duplicate, delay,
//! corrupt, truncate) comes from the fuzz input, frame by frame. Once the decisions run out the link is perfect.
//! A link still that hostile when four hours of virtual time are up ends the run as `Unfinished` (the stack
//! was still trying); on a perfect link the transfer must end within the budget.
//!
//! The data must arrive intact — what the receiver has read is always a prefix of what was sent, and at the end
//! it is all of it — or the connection must fail cleanly with `Reset` or `TimedOut`. Never silently wrong data,
//! and never a connection that is stuck with nothing scheduled.

use crate::check_transmit;
use arbitrary::Unstructured;
use core::net::{Ipv4Addr, SocketAddr};
use core::time::Duration;
use synack::{Command, CommandError, Config, Event, Input, Instant, Output, Reply, SocketHandle, Stack};
use synack_testkit::{fire_due_timers, next_event, Side, IP_A, IP_B, MAC_A, MAC_B};
const PORT: u16 = 5001;
/// One-way delay of the link.
const DELAY: Duration = Duration::from_millis(5);
/// Virtual time after which the transfer must have finished one way or the other.
const LIMIT: Instant = Instant::from_secs(4 * 3600);

/// What the link does to one frame. Decoded by hand (a tag byte, then the fields) so seeds are easy to write.
#[derive(Debug, Clone, Copy)]
pub enum Decision {
    Deliver,
    Drop,
    Duplicate,
    /// Extra delay in milliseconds (so later frames overtake it).
    Delay(u8),
    /// XOR one byte with a non-zero value: the checksums must catch it (or it hits a field without one).
    Corrupt {
        at: u16,
        xor: u8,
    },
    /// Cut the frame short.
    Truncate {
        len: u16,
    },
}

impl Decision {
    fn decode(u: &mut Unstructured<'_>) -> Decision {
        let mut byte = || u.arbitrary::<u8>().unwrap_or(0);
        match byte() % 6 {
            0 => Decision::Deliver,
            1 => Decision::Drop,
            2 => Decision::Duplicate,
            3 => Decision::Delay(byte()),
            4 => Decision::Corrupt { at: u16::from_le_bytes([byte(), byte()]), xor: byte() },
            _ => Decision::Truncate { len: u16::from_le_bytes([byte(), byte()]) },
        }
    }
}

/// A decoded fuzz input.
#[derive(Debug, Clone)]
pub struct Plan {
    pub len: usize,
    pub seed: u8,
    pub variant: u8,
    /// The receiver does not read before this many milliseconds (so its window closes).
    pub stall_ms: u16,
    pub decisions: Vec<Decision>,
}

impl Plan {
    /// Layout: len (u16 LE), seed, variant, stall (u16 LE), then one decision per frame.
    pub fn decode(data: &[u8]) -> Plan {
        let mut u = Unstructured::new(data);
        let len = usize::from(u16::from_le_bytes([u.arbitrary().unwrap_or(0), u.arbitrary().unwrap_or(0)]));
        let seed = u.arbitrary().unwrap_or(0);
        let variant = u.arbitrary().unwrap_or(0);
        let stall_ms = u16::from_le_bytes([u.arbitrary().unwrap_or(0), u.arbitrary().unwrap_or(0)]);
        let mut decisions = Vec::new();
        while !u.is_empty() && decisions.len() < 4096 {
            decisions.push(Decision::decode(&mut u));
        }
        Plan { len, seed, variant, stall_ms, decisions }
    }
}

fn configs(variant: u8, seed: u8) -> (Config, Config) {
    let (mut a, mut b) = synack_testkit::configs(u64::from(seed), u64::from(seed) ^ 0xb);
    match variant % 4 {
        0 => {
            // Both buffers autotuned: windows and send buffers grow under the fuzzer's link.
            for c in [&mut a, &mut b] {
                c.tcp.send_buffer_max = 2 << 20;
                c.tcp.recv_buffer_max = 2 << 20;
            }
        }
        1 => {
            // Small windows: zero-window probing and window updates.
            b.tcp.recv_buffer = 3000;
            a.tcp.send_buffer = 5000;
            b.tcp.max_out_of_order = 2;
        }
        2 => {
            a.mtu = 576;
            b.tcp.window_scaling = false;
            a.tcp.nodelay = true;
        }
        _ => {
            // Give up fast: failures must be clean too.
            for c in [&mut a, &mut b] {
                c.tcp.max_retransmissions = 3;
                c.tcp.syn_retries = 2;
                c.tcp.synack_retries = 2;
                c.tcp.rto_max = Duration::from_secs(2);
            }
        }
    }
    (a, b)
}

/// How the transfer ended.
#[derive(Debug, PartialEq, Eq)]
pub enum End {
    /// Everything arrived, in order, then end of stream.
    Complete,
    /// A side reported this failure (after which the data read so far was still a correct prefix).
    Failed(Event),
    /// The input's decisions were still spoiling the link when the time budget ran out (a link that drops
    /// nearly everything for hours; the stack was still trying, with timers armed). Not a finding.
    Unfinished,
}

struct Link {
    a: Stack,
    b: Stack,
    now: Instant,
    link: synack_testkit::Link,
    decisions: std::vec::IntoIter<Decision>,
    events: Vec<(bool, SocketHandle, Event)>,
    /// Every frame put on the link, as sent (for seed corpora).
    pub sent: Vec<(bool, Vec<u8>)>,
    record: bool,
}

impl Link {
    /// Puts the outputs of `from` on the link (or in `events`).
    fn absorb(&mut self, from_a: bool, out: Vec<Output>) {
        for o in out {
            match o {
                Output::Transmit(mut f) => {
                    let (mac, ip, mtu) =
                        if from_a { (MAC_A, IP_A, self.a.config().mtu) } else { (MAC_B, IP_B, self.b.config().mtu) };
                    check_transmit(&f, mac, ip, mtu);
                    if self.record {
                        self.sent.push((from_a, f.clone()));
                    }
                    let mut at = self.now + DELAY;
                    let to = if from_a { Side::B } else { Side::A };
                    match self.decisions.next().unwrap_or(Decision::Deliver) {
                        Decision::Deliver => {}
                        Decision::Drop => continue,
                        Decision::Duplicate => self.link.send(at, to, f.clone()),
                        Decision::Delay(ms) => at = at + Duration::from_millis(u64::from(ms) * 4),
                        Decision::Corrupt { at: i, xor } => {
                            let n = f.len();
                            f[usize::from(i) % n] ^= xor.max(1);
                        }
                        Decision::Truncate { len } => f.truncate(usize::from(len) % (f.len() + 1)),
                    }
                    self.link.send(at, to, f);
                }
                Output::Event(s, e) => self.events.push((from_a, s, e)),
                Output::Reply(r) => panic!("a reply outside a command: {r:?}"),
                Output::Note(n) => assert!(!n.to_string().is_empty()),
            }
        }
    }

    /// Runs a command; its reply comes back from `Stack::command` (the `stack_handle` target checks that
    /// `handle` puts it first and alone).
    fn command(&mut self, on_a: bool, cmd: Command) -> Result<Reply, CommandError> {
        let now = self.now;
        let mut out = Vec::new();
        let reply = if on_a { &mut self.a } else { &mut self.b }.command(cmd.clone(), now, &mut out);
        crate::check_reply(&cmd, &reply);
        self.absorb(on_a, out);
        reply
    }

    fn next_time(&self) -> Option<Instant> {
        next_event(&self.link, &self.a, &self.b)
    }

    /// Delivers what is due and fires due timers at `self.now`.
    fn step(&mut self) {
        let now = self.now;
        while let Some((to, frame)) = self.link.pop_arrived(now) {
            let out = synack_testkit::stack(&mut self.a, &mut self.b, to).handle(Input::Frame(&frame), now);
            self.absorb(to == Side::A, out);
        }
        for (side, out) in fire_due_timers(&mut self.a, &mut self.b, now) {
            self.absorb(side == Side::A, out);
        }
    }

    fn failure(&self, socks: &[(bool, SocketHandle)]) -> Option<Event> {
        self.events.iter().find_map(|(on_a, s, e)| {
            let ours = socks.contains(&(*on_a, *s));
            (ours && matches!(e, Event::Reset | Event::TimedOut { .. })).then(|| e.clone())
        })
    }
}

/// Runs the transfer; panics if data arrives wrong or the connection neither completes nor fails cleanly.
pub fn run(plan: &Plan) -> End {
    run_recorded(plan, false).0
}

/// Like [`run`], also returning every frame put on the link when `record` is set (`true` = sent by A).
pub fn run_recorded(plan: &Plan, record: bool) -> (End, Vec<(bool, Vec<u8>)>) {
    let (ca, cb) = configs(plan.variant, plan.seed);
    let mut l = Link {
        a: Stack::new(ca).expect("config A"),
        b: Stack::new(cb).expect("config B"),
        now: Instant::ZERO,
        link: synack_testkit::Link::default(),
        decisions: plan.decisions.clone().into_iter(),
        events: Vec::new(),
        sent: Vec::new(),
        record,
    };
    let end = transfer(&mut l, plan);
    (end, l.sent)
}

fn transfer(l: &mut Link, plan: &Plan) -> End {
    let data: Vec<u8> =
        (0..plan.len).map(|i| (i as u32).wrapping_mul(2_654_435_761).rotate_left(u32::from(plan.seed)) as u8).collect();
    let Ok(Reply::Bound { sock: listener, .. }) =
        l.command(false, Command::TcpListen { local: SocketAddr::from((Ipv4Addr::UNSPECIFIED, PORT)), backlog: 4 })
    else {
        panic!("listen failed")
    };
    let Ok(Reply::Bound { sock: tx, .. }) =
        l.command(true, Command::TcpConnect { remote: SocketAddr::from((IP_B, PORT)), local_port: None })
    else {
        panic!("connect failed")
    };
    let mut socks = vec![(true, tx)];
    let mut rx: Option<SocketHandle> = None;
    let (mut sent, mut shut, mut received) = (0usize, false, Vec::new());
    let stall_until = Instant::from_millis(u64::from(plan.stall_ms) * 10);
    loop {
        if let Some(e) = l.failure(&socks) {
            assert!(data.starts_with(&received), "wrong data before the failure");
            return End::Failed(e);
        }
        // Sender: queue what fits, then shut down.
        while sent < data.len() {
            let chunk = (data.len() - sent).min(16 * 1024);
            match l.command(true, Command::TcpSend { sock: tx, data: data[sent..sent + chunk].to_vec() }) {
                Ok(Reply::Sent { len }) => sent += len,
                Err(_) => break,
                Ok(other) => panic!("send: {other:?}"),
            }
        }
        // Shut down only once connected: in SYN-SENT, CLOSE deletes the connection (RFC 9293 §3.10.4).
        let connected = l.events.contains(&(true, tx, Event::Connected));
        if sent == data.len() && !shut && connected && l.command(true, Command::TcpShutdown { sock: tx }).is_ok() {
            shut = true;
        }
        // Receiver: accept, then read everything readable (after the stall).
        if rx.is_none() {
            if let Ok(Reply::Accepted { sock, .. }) = l.command(false, Command::TcpAccept { listener }) {
                rx = Some(sock);
                socks.push((false, sock));
            }
        }
        if let Some(sock) = rx.filter(|_| l.now >= stall_until) {
            loop {
                match l.command(false, Command::TcpRecv { sock, max: 1 << 16 }) {
                    Ok(Reply::Data(d)) if d.is_empty() => {
                        assert!(received == data, "end of stream after {} of {} bytes", received.len(), data.len());
                        return End::Complete;
                    }
                    Ok(Reply::Data(d)) => {
                        received.extend_from_slice(&d);
                        assert!(data.starts_with(&received), "received bytes differ from the sent ones");
                    }
                    _ => break,
                }
            }
        }
        if let Some(e) = l.failure(&socks) {
            assert!(data.starts_with(&received), "wrong data before the failure");
            return End::Failed(e);
        }
        let mut next = l.next_time();
        if rx.is_some() && l.now < stall_until {
            next = Some(next.map_or(stall_until, |t| t.min(stall_until)));
        }
        match next {
            Some(t) if t <= LIMIT => {
                l.now = l.now.max(t);
                l.step();
            }
            // Past the budget while the fuzz input still decides the fate of frames: the link, not the
            // stack, is what holds the transfer up. Once it is perfect, the budget must suffice.
            Some(_) if l.decisions.len() > 0 => return End::Unfinished,
            other => panic!(
                "transfer stuck at {:?} (next event {other:?}): sent {sent}/{}, received {}, events {:?}, A {:?}, B {:?}",
                l.now,
                data.len(),
                received.len(),
                l.events,
                l.a.tcp_info(tx),
                rx.and_then(|s| l.b.tcp_info(s)),
            ),
        }
    }
}

pub fn fuzz(data: &[u8]) {
    let _ = run(&Plan::decode(data));
}
