//! A protocol of your own over synack, tested in the simulator: a request/response protocol with its own
//! length-prefixed framing, between two hosts on two subnets joined by a router, over lossy links.
//!
//! The protocol: every message is a 4-byte big-endian length and that many bytes. A request carries an 8-byte
//! id and some data; the answer carries the same id, the FNV-1a hash of the data and the data reversed. The
//! client sends `requests` requests one after the other (a random think time apart, random sizes: drawn from
//! the seed the simulator gives it) and checks every answer.
//!
//! `cargo run -p synack-sim --example custom_protocol [SEED]` runs it and prints what each app saw;
//! `sim/tests/custom_app.rs` runs the same apps under assertions.

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;
use synack::{Command, Event, Reply, SocketHandle};
use synack_sim::app::{App, AppReport, Cx};
use synack_sim::builder::NetworkBuilder;

/// The longest message either side accepts; a longer length prefix is a protocol error.
pub const MAX_MESSAGE: usize = 64 * 1024;

/// A message on the wire: its length, then its bytes.
pub fn frame(payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(4 + payload.len());
    v.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    v.extend_from_slice(payload);
    v
}

/// Collects a byte stream and cuts it into messages, however TCP split it into segments.
#[derive(Debug, Default)]
pub struct Deframer {
    buf: Vec<u8>,
}

impl Deframer {
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole message, if it has arrived; an error for a length above [`MAX_MESSAGE`].
    pub fn next_message(&mut self) -> Result<Option<Vec<u8>>, String> {
        let Some(head) = self.buf.first_chunk::<4>() else { return Ok(None) };
        let len = u32::from_be_bytes(*head) as usize;
        if len > MAX_MESSAGE {
            return Err(format!("message of {len} bytes announced, at most {MAX_MESSAGE} allowed"));
        }
        if self.buf.len() < 4 + len {
            return Ok(None);
        }
        let message = self.buf[4..4 + len].to_vec();
        self.buf.drain(..4 + len);
        Ok(Some(message))
    }
}

/// FNV-1a, 64 bits: the "computation" the server does for each request.
pub fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// The server's answer to a request (`id` and data): id, hash of the data, data reversed.
pub fn answer(request: &[u8]) -> Result<Vec<u8>, String> {
    if request.len() < 8 {
        return Err(format!("request of {} bytes has no id", request.len()));
    }
    let (id, data) = request.split_at(8);
    let mut v = id.to_vec();
    v.extend_from_slice(&fnv1a(data).to_be_bytes());
    v.extend(data.iter().rev());
    Ok(v)
}

/// Bytes queued for a socket and handed to the stack as it takes them.
#[derive(Debug, Default)]
struct Outbox {
    pending: Vec<u8>,
}

impl Outbox {
    fn flush(&mut self, cx: &mut Cx<'_>, sock: SocketHandle) {
        while !self.pending.is_empty() {
            match cx.command(Command::TcpSend { sock, data: self.pending.clone() }) {
                Ok(Reply::Sent { len }) => drop(self.pending.drain(..len)),
                _ => return, // full: `Writable` comes when there is room
            }
        }
    }
}

#[derive(Debug, Default)]
struct ServerConn {
    input: Deframer,
    output: Outbox,
    closed: bool,
}

/// Answers every request on every connection to `port`; closes a connection after the client's end of
/// stream. A server: always finished.
#[derive(Debug)]
pub struct RpcServer {
    report: AppReport,
    port: u16,
    listener: Option<SocketHandle>,
    conns: BTreeMap<SocketHandle, ServerConn>,
}

impl RpcServer {
    pub fn new(name: &str, port: u16) -> RpcServer {
        let report = AppReport::new(name, "rpc_server", "responses");
        RpcServer { report, port, listener: None, conns: BTreeMap::new() }
    }
}

impl App for RpcServer {
    fn start(&mut self, cx: &mut Cx<'_>) {
        let local = cx.wildcard(self.port);
        match cx.command(Command::TcpListen { local, backlog: 16 }) {
            Ok(Reply::Bound { sock, .. }) => self.listener = Some(sock),
            other => self.report.errors.push(format!("listen {local}: {other:?}")),
        }
    }

    fn on_event(&mut self, cx: &mut Cx<'_>, sock: SocketHandle, event: &Event) {
        if Some(sock) == self.listener {
            while let Ok(Reply::Accepted { sock, .. }) = cx.command(Command::TcpAccept { listener: sock }) {
                self.conns.insert(sock, ServerConn::default());
            }
            return;
        }
        let Some(c) = self.conns.get_mut(&sock) else { return };
        match event {
            Event::Readable | Event::PeerClosed => {
                let mut eof = false;
                loop {
                    let input = &mut c.input;
                    match cx.tcp_read(sock, 1 << 16, |bytes| input.push(bytes)) {
                        Ok(0) => {
                            eof = true;
                            break;
                        }
                        Ok(n) => self.report.bytes += n as u64,
                        Err(_) => break, // nothing more buffered
                    }
                }
                loop {
                    match c.input.next_message().and_then(|m| m.map(|m| answer(&m)).transpose()) {
                        Ok(Some(reply)) => {
                            c.output.pending.extend_from_slice(&frame(&reply));
                            self.report.count += 1;
                        }
                        Ok(None) => break,
                        Err(e) => {
                            self.report.errors.push(e);
                            let _ = cx.command(Command::TcpAbort { sock });
                            self.conns.remove(&sock);
                            return;
                        }
                    }
                }
                c.output.flush(cx, sock);
                if eof && !c.closed {
                    c.closed = true;
                    let _ = cx.command(Command::TcpClose { sock });
                }
            }
            Event::Writable => c.output.flush(cx, sock),
            Event::Closed | Event::Reset | Event::TimedOut { .. } => drop(self.conns.remove(&sock)),
            _ => {}
        }
    }

    fn is_finished(&self) -> bool {
        true
    }

    fn report(&self) -> AppReport {
        AppReport { complete: self.listener.is_some() && self.report.errors.is_empty(), ..self.report.clone() }
    }
}

/// Timer token of the client's next request.
const NEXT_REQUEST: u64 = 1;

/// Sends `requests` requests to `server`, one at a time, and checks every answer; closes after the last.
#[derive(Debug)]
pub struct RpcClient {
    report: AppReport,
    server: SocketAddr,
    requests: u64,
    rng: Option<ChaCha8Rng>,
    sock: Option<SocketHandle>,
    input: Deframer,
    output: Outbox,
    /// The request waiting for its answer: its data and when it was sent.
    outstanding: Option<(Vec<u8>, synack::Instant)>,
    done: bool,
}

impl RpcClient {
    pub fn new(name: &str, server: SocketAddr, requests: u64) -> RpcClient {
        RpcClient {
            report: AppReport::new(name, "rpc_client", "responses"),
            server,
            requests,
            rng: None,
            sock: None,
            input: Deframer::default(),
            output: Outbox::default(),
            outstanding: None,
            done: false,
        }
    }

    fn fail(&mut self, cx: &mut Cx<'_>, why: String) {
        self.report.errors.push(why);
        self.done = true;
        self.report.done_at = Some(cx.now());
        if let Some(sock) = self.sock {
            let _ = cx.command(Command::TcpAbort { sock });
        }
    }

    /// Sends request number `count + 1`: 1 to 4000 bytes of random data.
    fn send_request(&mut self, cx: &mut Cx<'_>) {
        let (Some(sock), Some(rng)) = (self.sock, self.rng.as_mut()) else { return };
        let len = 1 + (rng.next_u32() % 4000) as usize;
        let mut data = vec![0; len];
        rng.fill_bytes(&mut data);
        let mut request = (self.report.count + 1).to_be_bytes().to_vec();
        request.extend_from_slice(&data);
        self.output.pending.extend_from_slice(&frame(&request));
        self.output.flush(cx, sock);
        self.outstanding = Some((data, cx.now()));
    }

    /// Checks one answer against the request waiting for it.
    fn check(&mut self, cx: &mut Cx<'_>, reply: &[u8]) -> Result<(), String> {
        let Some((data, sent_at)) = self.outstanding.take() else {
            return Err("an answer nobody asked for".into());
        };
        let id = self.report.count + 1;
        let expected = answer(&[&id.to_be_bytes()[..], &data].concat())?;
        if reply != expected {
            return Err(format!("answer {id} is wrong ({} bytes, expected {})", reply.len(), expected.len()));
        }
        self.report.count += 1;
        self.report.rtts.push(cx.now() - sent_at);
        Ok(())
    }

    fn read(&mut self, cx: &mut Cx<'_>, sock: SocketHandle) {
        loop {
            let input = &mut self.input;
            match cx.tcp_read(sock, 1 << 16, |bytes| input.push(bytes)) {
                Ok(0) => return self.fail(cx, format!("server closed after {} answers", self.report.count)),
                Ok(n) => self.report.bytes += n as u64,
                Err(_) => break,
            }
        }
        loop {
            let reply = match self.input.next_message() {
                Ok(Some(reply)) => reply,
                Ok(None) => return,
                Err(e) => return self.fail(cx, e),
            };
            if let Err(e) = self.check(cx, &reply) {
                return self.fail(cx, e);
            }
            if self.report.count == self.requests {
                let _ = cx.command(Command::TcpClose { sock });
                self.done = true;
                self.report.complete = true;
                self.report.done_at = Some(cx.now());
                return;
            }
            // Think for up to 10 ms before the next request.
            let think = self.rng.as_mut().map_or(0, |r| u64::from(r.next_u32() % 10_000));
            cx.set_timer(cx.now() + Duration::from_micros(think), NEXT_REQUEST);
        }
    }
}

impl App for RpcClient {
    fn start(&mut self, cx: &mut Cx<'_>) {
        self.rng = Some(ChaCha8Rng::seed_from_u64(cx.seed()));
        match cx.command(Command::TcpConnect { remote: self.server, local_port: None }) {
            Ok(Reply::Bound { sock, .. }) => self.sock = Some(sock),
            other => self.fail(cx, format!("connect {}: {other:?}", self.server)),
        }
    }

    fn on_event(&mut self, cx: &mut Cx<'_>, sock: SocketHandle, event: &Event) {
        if self.done {
            return;
        }
        match event {
            Event::Connected if self.requests == 0 => {
                let _ = cx.command(Command::TcpClose { sock });
                self.done = true;
                self.report.complete = true;
            }
            Event::Connected => self.send_request(cx),
            Event::Readable | Event::PeerClosed => self.read(cx, sock),
            Event::Writable => self.output.flush(cx, sock),
            Event::Closed | Event::Reset | Event::TimedOut { .. } | Event::Unreachable { .. } => {
                self.fail(cx, format!("connection ended after {} answers: {event:?}", self.report.count));
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, cx: &mut Cx<'_>, token: u64) {
        if token == NEXT_REQUEST && !self.done {
            self.send_request(cx);
        }
    }

    fn is_finished(&self) -> bool {
        self.done
    }

    fn report(&self) -> AppReport {
        self.report.clone()
    }
}

/// The network of the example: `client` (10.0.1.2) and `server` (10.0.2.2) on two subnets joined by router
/// `r1`; 1% loss on both links, 10 Mbit/s towards the server.
pub fn network(seed: u64, requests: u64) -> NetworkBuilder {
    let mut net = NetworkBuilder::new("custom_protocol");
    net.seed(seed).duration(Duration::from_secs(60));
    net.host("client", "10.0.1.2/24").gateway([10, 0, 1, 1].into());
    net.host("server", "10.0.2.2/24").gateway([10, 0, 2, 1].into());
    net.router("r1").interface("lan", "10.0.1.1/24").interface("wan", "10.0.2.1/24");
    net.link("client", "r1:lan").delay(Duration::from_millis(5)).loss(0.01).rate(10_000_000, 64 * 1024);
    net.link("r1:wan", "server").delay(Duration::from_millis(20)).loss(0.01);
    net.app("server", Duration::ZERO, Box::new(RpcServer::new("server", 7000)));
    let client = RpcClient::new("client", "10.0.2.2:7000".parse().expect("an address"), requests);
    net.app("client", Duration::from_millis(10), Box::new(client));
    net
}

fn main() {
    let seed = std::env::args().nth(1).map_or(Ok(1), |s| s.parse::<u64>());
    let Ok(seed) = seed else {
        eprintln!("usage: custom_protocol [SEED]  (SEED: an unsigned integer)");
        std::process::exit(2);
    };
    let mut sim = match network(seed, 100).build() {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    sim.run();
    println!("seed {seed}: ran to {}s of virtual time, {} frames delivered", sim.now, sim.frames_delivered);
    let mut ok = true;
    for r in sim.app_reports() {
        let mut rtts = r.rtts.clone();
        rtts.sort_unstable();
        let median = rtts.get(rtts.len() / 2).map_or("-".into(), |d| format!("{d:?}"));
        println!(
            "{} on {}: {} {}, {} bytes read, median answer time {median}, {}",
            r.name,
            r.host,
            r.count,
            r.count_unit,
            r.bytes,
            r.status()
        );
        for e in &r.errors {
            println!("  error: {e}");
        }
        ok &= r.complete && r.errors.is_empty();
    }
    for h in &sim.hosts {
        let stats = h.stack.stats();
        println!("{}: {} frames sent, {} received", h.name, stats.frames_out, stats.frames_in);
    }
    if !ok {
        std::process::exit(1);
    }
}
