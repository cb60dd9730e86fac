//! Many established connections in one stack pair: memory per connection and cost per frame as N grows.
//!
//! A connects from explicit local ports to several listening ports of B, so N can exceed the 64 Ki ports of one
//! address: connection `i` uses A port `1024 + i % PORTS_A` and B port `BASE_B + i / PORTS_A`.

use crate::{configs, Pair, Side, IP_B};
use std::net::{Ipv4Addr, SocketAddr};
use synack::{Command, CommandError, Event, Reply, SocketHandle};

/// Local ports A uses per B port.
const PORTS_A: u64 = 60_000;
/// First listening port of B.
const BASE_B: u16 = 20_000;
/// Connections opened per round (connect all, pump, accept all).
const BATCH: u64 = 4_000;

/// Established connection pairs.
#[derive(Debug)]
pub struct Many {
    pub pair: Pair,
    /// (A's socket, B's socket) per connection.
    pub conns: Vec<(SocketHandle, SocketHandle)>,
    listeners: Vec<SocketHandle>,
    /// State of the xorshift that picks the next exchange's connection (successive exchanges continue it).
    pick: u64,
}

/// Timing of one phase.
#[derive(Clone, Copy, Debug, Default)]
pub struct Phase {
    pub secs: f64,
    pub frames: u64,
}

impl Phase {
    pub fn ns_per_frame(&self) -> f64 {
        self.secs * 1e9 / self.frames.max(1) as f64
    }
}

impl Many {
    pub fn new() -> Many {
        let (mut a, mut b) = configs();
        for c in [&mut a, &mut b] {
            c.tcp.max_backlog = BATCH as usize;
        }
        Many { pair: Pair::with_configs(a, b), conns: Vec::new(), listeners: Vec::new(), pick: 0x2545_f491_4f6c_dd1d }
    }

    /// Opens connections until there are `n`; returns the cost of the last batch (the marginal cost at n).
    pub fn grow_to(&mut self, n: u64) -> Phase {
        let mut last = Phase::default();
        while (self.conns.len() as u64) < n {
            let first = self.conns.len() as u64;
            // The first connection alone, so ARP is resolved before a batch of SYNs would queue behind it.
            let count = if first == 0 { 1 } else { BATCH.min(n - first) };
            let start = std::time::Instant::now();
            let frames_before = self.pair.frames;
            let mut pending = Vec::with_capacity(count as usize);
            for i in first..first + count {
                let b_port = BASE_B + (i / PORTS_A) as u16;
                let a_port = 1024 + (i % PORTS_A) as u16;
                let listener = self.listener(b_port);
                let remote = SocketAddr::from((IP_B, b_port));
                let cmd = Command::TcpConnect { remote, local_port: Some(a_port) };
                match self.pair.command(Side::A, cmd) {
                    Ok(Reply::Bound { sock, .. }) => pending.push((sock, listener)),
                    other => panic!("connect #{i}: {other:?}"),
                }
            }
            self.pair.pump();
            for (c, l) in pending {
                match self.pair.command(Side::B, Command::TcpAccept { listener: l }) {
                    Ok(Reply::Accepted { sock, .. }) => self.conns.push((c, sock)),
                    other => panic!("accept: {other:?}"),
                }
            }
            self.pair.events.clear();
            last = Phase { secs: start.elapsed().as_secs_f64(), frames: self.pair.frames - frames_before };
        }
        last
    }

    fn listener(&mut self, port: u16) -> SocketHandle {
        let idx = usize::from(port - BASE_B);
        while self.listeners.len() <= idx {
            let p = BASE_B + self.listeners.len() as u16;
            let local = SocketAddr::from((Ipv4Addr::UNSPECIFIED, p));
            match self.pair.command(Side::B, Command::TcpListen { local, backlog: BATCH as usize }) {
                Ok(Reply::Bound { sock, .. }) => self.listeners.push(sock),
                other => panic!("listen: {other:?}"),
            }
        }
        self.listeners[idx]
    }

    /// `rounds` request/response exchanges, each on a pseudo-randomly chosen connection: A sends `size` bytes,
    /// B reads them and sends them back, A reads them.
    pub fn exchange(&mut self, rounds: u64, size: usize) -> Phase {
        let msg = vec![0x5a; size];
        let mut x = self.pick;
        let start = std::time::Instant::now();
        let frames_before = self.pair.frames;
        for _ in 0..rounds {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let (a, b) = self.conns[(x % self.conns.len() as u64) as usize];
            self.pair.command(Side::A, Command::TcpSend { sock: a, data: msg.clone() }).expect("send");
            self.pair.pump();
            let got = recv_all(&mut self.pair, Side::B, b);
            assert_eq!(got.len(), size);
            self.pair.command(Side::B, Command::TcpSend { sock: b, data: got }).expect("echo");
            self.pair.pump();
            assert_eq!(recv_all(&mut self.pair, Side::A, a).len(), size);
            self.pair.events.retain(|e| !matches!(e.2, Event::Readable | Event::Writable));
        }
        self.pick = x;
        Phase { secs: start.elapsed().as_secs_f64(), frames: self.pair.frames - frames_before }
    }

    /// Runs timers (delayed ACKs, then the segments Nagle held back for them, then their ACKs) until no
    /// connection holds data it sent: every one is idle again.
    pub fn settle(&mut self) {
        for _ in 0..10 {
            if !self.pair.advance_to_next_timer() {
                break;
            }
            self.pair.pump();
        }
    }

    /// Closes every connection the way a client that asked and a server that answered do: A closes first (its
    /// side ends in TIME-WAIT), B reads the end of stream and closes (its side is gone once its FIN is
    /// acknowledged). Afterwards A holds N connections in TIME-WAIT and B none.
    pub fn close_all(&mut self) -> Phase {
        let start = std::time::Instant::now();
        let frames_before = self.pair.frames;
        for chunk in self.conns.chunks(BATCH as usize) {
            for &(a, _) in chunk {
                self.pair.command(Side::A, Command::TcpClose { sock: a }).expect("close A");
            }
            self.pair.pump();
            for &(_, b) in chunk {
                assert!(recv_all(&mut self.pair, Side::B, b).is_empty(), "only the end of stream is left");
                self.pair.command(Side::B, Command::TcpClose { sock: b }).expect("close B");
            }
            self.pair.pump();
            // Connections past `max_time_wait` end on a timer due at once (a driver runs it right away).
            self.pair.fire_due_timers();
            self.pair.events.clear();
        }
        // The list's memory (16 bytes a connection, a million's worth) is the harness's, not the stacks': gone
        // before the heap is counted, as the connections are.
        self.conns = Vec::new();
        // Then ten seconds pass, as they would for a driver (TIME-WAIT lasts 60): the timers of connections that
        // are gone fall due and leave the timer heaps, which give back their room (a clock that stood still
        // would leave a million stale entries counted against the connections in TIME-WAIT).
        self.pair.now = self.pair.now + std::time::Duration::from_secs(10);
        self.pair.fire_due_timers();
        self.pair.pump();
        Phase { secs: start.elapsed().as_secs_f64(), frames: self.pair.frames - frames_before }
    }
}

impl Default for Many {
    fn default() -> Self {
        Many::new()
    }
}

fn recv_all(p: &mut Pair, side: Side, sock: SocketHandle) -> Vec<u8> {
    let mut all = Vec::new();
    loop {
        match p.command(side, Command::TcpRecv { sock, max: 1 << 20 }) {
            Ok(Reply::Data(d)) if !d.is_empty() => all.extend_from_slice(&d),
            Ok(Reply::Data(_)) | Err(CommandError::WouldBlock) => return all,
            other => panic!("recv: {other:?}"),
        }
    }
}
