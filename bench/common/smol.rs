//! The smoltcp 0.14 side of the comparison: two `Interface`s, each with its own in-memory `Device`, joined by a
//! zero-delay link, driven by the same rules as synack's harness (`synack_bench::Pair`): frames move until the
//! link is empty, time is virtual and only jumps to the next poll deadline when both sides are idle.
//!
//! Like with like: Ethernet medium, IP MTU 1500 (frames of at most 1514 bytes), 256 KiB socket buffers, and by
//! default checksums computed on transmit and verified on receive for IPv4 and TCP (`Checksum::Both`). The
//! variant with checksums off (what smoltcp's own `Loopback` device advertises) is available for reference.
//!
//! Compiled into examples, benches and tests with `#[path]` (smoltcp is a dev-dependency only).

#![allow(dead_code)]

use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{self, ChecksumCapabilities, Device, DeviceCapabilities, Medium};
use smoltcp::socket::tcp;
use smoltcp::time::Instant;
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpAddress, IpCidr, Ipv4Address};
use std::collections::VecDeque;
use synack_bench::pattern::Pattern;
use synack_bench::{Bulk, Handshakes, BUFFER, MAC_A, MAC_B, MTU, WRITE_CHUNK};

/// One end of the in-memory link.
pub struct MemDevice {
    /// Frames received from the peer, oldest first.
    rx: VecDeque<Vec<u8>>,
    /// Frames transmitted, for the harness to move to the peer.
    tx: VecDeque<Vec<u8>>,
    /// Empty buffers for transmission (recycled from frames the peer consumed).
    pool: Vec<Vec<u8>>,
    /// Buffers of received frames after consumption, to be returned to the peer's pool.
    spent: Vec<Vec<u8>>,
    checksums: bool,
}

impl MemDevice {
    fn new(checksums: bool) -> MemDevice {
        MemDevice { rx: VecDeque::new(), tx: VecDeque::new(), pool: Vec::new(), spent: Vec::new(), checksums }
    }
}

pub struct Rx<'a> {
    buf: Vec<u8>,
    spent: &'a mut Vec<Vec<u8>>,
}

pub struct Tx<'a> {
    tx: &'a mut VecDeque<Vec<u8>>,
    pool: &'a mut Vec<Vec<u8>>,
}

impl phy::RxToken for Rx<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        let r = f(&self.buf);
        self.spent.push(self.buf);
        r
    }
}

impl phy::TxToken for Tx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut buf = self.pool.pop().unwrap_or_default();
        buf.clear();
        buf.resize(len, 0);
        let r = f(&mut buf);
        self.tx.push_back(buf);
        r
    }
}

impl Device for MemDevice {
    type RxToken<'a> = Rx<'a>;
    type TxToken<'a> = Tx<'a>;

    fn receive(&mut self, _now: Instant) -> Option<(Rx<'_>, Tx<'_>)> {
        let buf = self.rx.pop_front()?;
        Some((Rx { buf, spent: &mut self.spent }, Tx { tx: &mut self.tx, pool: &mut self.pool }))
    }

    fn transmit(&mut self, _now: Instant) -> Option<Tx<'_>> {
        Some(Tx { tx: &mut self.tx, pool: &mut self.pool })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = MTU + 14;
        caps.checksum = if self.checksums { ChecksumCapabilities::default() } else { ChecksumCapabilities::ignored() };
        caps
    }
}

/// One host: interface, device and sockets.
pub struct Host {
    pub iface: Interface,
    pub dev: MemDevice,
    pub sockets: SocketSet<'static>,
}

impl Host {
    fn new(mac: [u8; 6], ip: [u8; 4], checksums: bool, now: Instant) -> Host {
        let mut dev = MemDevice::new(checksums);
        let config = Config::new(HardwareAddress::Ethernet(EthernetAddress(mac)));
        let mut iface = Interface::new(config, &mut dev, now);
        iface.update_ip_addrs(|a| {
            a.push(IpCidr::new(IpAddress::v4(ip[0], ip[1], ip[2], ip[3]), 24)).expect("one address");
        });
        Host { iface, dev, sockets: SocketSet::new(Vec::new()) }
    }

    fn poll(&mut self, now: Instant) {
        self.iface.poll(now, &mut self.dev, &mut self.sockets);
    }

    pub fn tcp(&mut self, h: SocketHandle) -> &mut tcp::Socket<'static> {
        self.sockets.get_mut::<tcp::Socket>(h)
    }
}

/// A TCP socket with `BUFFER`-byte receive and send buffers.
pub fn socket() -> tcp::Socket<'static> {
    tcp::Socket::new(tcp::SocketBuffer::new(vec![0; BUFFER]), tcp::SocketBuffer::new(vec![0; BUFFER]))
}

/// Two hosts on a zero-delay link.
pub struct SmolPair {
    pub a: Host,
    pub b: Host,
    pub now: Instant,
    pub frames: u64,
}

impl SmolPair {
    pub fn new(checksums: bool) -> SmolPair {
        let now = Instant::from_micros(0);
        SmolPair {
            a: Host::new(MAC_A, [10, 0, 0, 1], checksums, now),
            b: Host::new(MAC_B, [10, 0, 0, 2], checksums, now),
            now,
            frames: 0,
        }
    }

    /// Polls both sides and moves frames until the link is empty. Returns how many frames moved.
    pub fn pump(&mut self) -> u64 {
        let mut moved = 0;
        loop {
            self.a.poll(self.now);
            let n = self.a.dev.tx.len();
            self.b.dev.rx.extend(self.a.dev.tx.drain(..));
            self.b.poll(self.now);
            let m = self.b.dev.tx.len();
            self.a.dev.rx.extend(self.b.dev.tx.drain(..));
            // Buffers B consumed came from A (and the other way round): give them back.
            self.a.dev.pool.append(&mut self.b.dev.spent);
            self.b.dev.pool.append(&mut self.a.dev.spent);
            moved += (n + m) as u64;
            if n + m == 0 && self.a.dev.rx.is_empty() && self.b.dev.rx.is_empty() {
                break;
            }
        }
        self.frames += moved;
        moved
    }

    /// Both sides idle: jump to the earliest poll deadline. False if none is pending.
    pub fn advance(&mut self) -> bool {
        let next = [self.a.iface.poll_at(self.now, &self.a.sockets), self.b.iface.poll_at(self.now, &self.b.sockets)]
            .into_iter()
            .flatten()
            .min();
        match next {
            Some(t) => {
                self.now = if t > self.now { t } else { self.now + smoltcp::time::Duration::from_micros(1) };
                true
            }
            None => false,
        }
    }
}

const PORT: u16 = 5001;

/// One connection A -> B, established: (A's socket, B's socket).
fn open(p: &mut SmolPair, local_port: u16, client: SocketHandle, server: SocketHandle) {
    p.b.tcp(server).listen(PORT).expect("listen");
    let cx = p.a.iface.context();
    let client_sock = p.a.sockets.get_mut::<tcp::Socket>(client);
    client_sock.connect(cx, (IpAddress::Ipv4(Ipv4Address::new(10, 0, 0, 2)), PORT), local_port).expect("connect");
    while !(p.a.tcp(client).state() == tcp::State::Established && p.b.tcp(server).state() == tcp::State::Established) {
        if p.pump() == 0 && !p.advance() {
            panic!("handshake stalled");
        }
    }
}

/// The smoltcp counterpart of `synack_bulk`: same bytes, same chunking, same end-of-stream handling.
pub fn smol_bulk(total: u64, verify: bool, checksums: bool) -> Bulk {
    let mut p = SmolPair::new(checksums);
    let client = p.a.sockets.add(socket());
    let server = p.b.sockets.add(socket());
    open(&mut p, 49152, client, server);
    let frames_before = p.frames;
    let data = Pattern::new();
    let mut sent: u64 = 0;
    let mut received: u64 = 0;
    let mut shut = false;
    let start = std::time::Instant::now();
    loop {
        let mut progress = false;
        let c = p.a.tcp(client);
        while sent < total && c.can_send() {
            let len = (total - sent).min(WRITE_CHUNK as u64) as usize;
            let n = c.send_slice(data.slice(sent, len)).expect("send");
            if n == 0 {
                break;
            }
            sent += n as u64;
            progress = true;
        }
        if sent == total && !shut {
            c.close();
            shut = true;
        }
        progress |= p.pump() > 0;
        let s = p.b.tcp(server);
        let mut eof = false;
        loop {
            // The application reads where the bytes lie in the ring (smoltcp's zero-copy `recv`), as synack's
            // harness does with `Stack::tcp_read`.
            let at = received;
            match s.recv(|ring| {
                if verify {
                    assert!(data.matches(at, ring), "bytes differ at offset {at}");
                }
                (ring.len(), ring.len())
            }) {
                Ok(0) => break,
                Ok(n) => {
                    received += n as u64;
                    progress = true;
                }
                Err(tcp::RecvError::Finished) => {
                    eof = true;
                    break;
                }
                Err(e) => panic!("recv: {e:?}"),
            }
        }
        if eof {
            break;
        }
        if !progress && !p.advance() {
            panic!("stalled at {received} of {total} bytes");
        }
    }
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(received, total, "receiver got every byte");
    Bulk { digest: None, bytes: received, secs, frames: p.frames - frames_before, unverified_checksums: 0 }
}

/// The smoltcp counterpart of `synack_handshakes`: connect, accept, A closes, B closes after end of stream,
/// the FIN exchange completes. Sockets (and their buffers) are reused: the listening socket listens again once
/// closed, and A's socket, left in TIME-WAIT, is aborted (smoltcp sends nothing for that) so it can connect
/// again from the next port.
pub fn smol_handshakes(count: u64, checksums: bool) -> Handshakes {
    let mut p = SmolPair::new(checksums);
    let client = p.a.sockets.add(socket());
    let server = p.b.sockets.add(socket());
    let start = std::time::Instant::now();
    for i in 0..count {
        let port = 1024 + (i % 60_000) as u16;
        open(&mut p, port, client, server);
        p.a.tcp(client).close();
        loop {
            p.pump();
            let s = p.b.tcp(server);
            if s.state() == tcp::State::CloseWait {
                s.close();
            }
            if s.state() == tcp::State::Closed && p.a.tcp(client).state() == tcp::State::TimeWait {
                break;
            }
            if p.pump() == 0 && p.b.tcp(server).state() != tcp::State::CloseWait && !p.advance() {
                panic!("close stalled");
            }
        }
        p.a.tcp(client).abort();
        p.pump();
    }
    let secs = start.elapsed().as_secs_f64();
    Handshakes { count, secs, frames: p.frames }
}
