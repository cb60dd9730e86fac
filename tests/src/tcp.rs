//! TCP helpers for the pair: open a connection, move bytes both ways with an application loop.

use crate::{Pair, Side};
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;
use synack::{Command, CommandError, Event, Instant, Reply, SocketHandle};

pub const IP_A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
pub const IP_B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

/// A client on A connected to a listener on B: (A's socket, B's listener, B's accepted socket).
pub fn connect(p: &mut Pair, port: u16) -> (SocketHandle, SocketHandle, SocketHandle) {
    let l = listen(p, Side::B, port);
    let c = start_connect(p, Side::A, SocketAddr::from((IP_B, port)));
    p.run_until(p.now + Duration::from_millis(50));
    assert!(p.events_of(Side::A).contains(&(c, Event::Connected)), "not connected: {:#?}", p.lines());
    let s = accept(p, l);
    (c, l, s)
}

pub fn listen(p: &mut Pair, side: Side, port: u16) -> SocketHandle {
    match p.command(side, Command::TcpListen { local: SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)), backlog: 16 }) {
        Ok(Reply::Bound { sock, .. }) => sock,
        other => panic!("listen: {other:?}"),
    }
}

pub fn start_connect(p: &mut Pair, side: Side, remote: SocketAddr) -> SocketHandle {
    match p.command(side, Command::TcpConnect { remote, local_port: None }) {
        Ok(Reply::Bound { sock, .. }) => sock,
        other => panic!("connect: {other:?}"),
    }
}

pub fn accept(p: &mut Pair, listener: SocketHandle) -> SocketHandle {
    match p.command(Side::B, Command::TcpAccept { listener }) {
        Ok(Reply::Accepted { sock, .. }) => sock,
        other => panic!("accept: {other:?}"),
    }
}

/// Reads everything currently readable; `None` at end of stream.
pub fn read_available(p: &mut Pair, side: Side, sock: SocketHandle, into: &mut Vec<u8>) -> Option<()> {
    loop {
        match p.command(side, Command::TcpRecv { sock, max: 1 << 20 }) {
            Ok(Reply::Data(d)) if d.is_empty() => return None,
            Ok(Reply::Data(d)) => into.extend_from_slice(&d),
            Err(CommandError::WouldBlock) => return Some(()),
            other => panic!("recv: {other:?}"),
        }
    }
}

/// Result of [`transfer`].
#[derive(Debug)]
pub struct Transfer {
    pub received: Vec<u8>,
    pub eof: bool,
    pub finished_at: Instant,
}

/// Sends `data` from `tx` (on `from`), then shuts down; reads on `rx` until EOF or `limit` of virtual time.
pub fn transfer(
    p: &mut Pair,
    from: Side,
    tx: SocketHandle,
    rx: SocketHandle,
    data: &[u8],
    limit: Duration,
) -> Transfer {
    let to = if from == Side::A { Side::B } else { Side::A };
    let deadline = p.now + limit;
    let mut sent = 0;
    let mut shut = false;
    let mut received = Vec::new();
    let mut eof = false;
    while p.now <= deadline {
        while sent < data.len() {
            let chunk = data[sent..].len().min(64 * 1024);
            match p.command(from, Command::TcpSend { sock: tx, data: data[sent..sent + chunk].to_vec() }) {
                Ok(Reply::Sent { len }) => sent += len,
                Err(CommandError::WouldBlock) => break,
                other => panic!("send: {other:?}"),
            }
        }
        if sent == data.len() && !shut {
            p.command(from, Command::TcpShutdown { sock: tx }).expect("shutdown");
            shut = true;
        }
        if read_available(p, to, rx, &mut received).is_none() {
            eof = true;
            break;
        }
        if !p.step_once() {
            break;
        }
    }
    Transfer { received, eof, finished_at: p.now }
}

/// Delivers a hand-made segment to `to` as if its peer had sent it (an attacker can do exactly this).
pub fn inject(p: &mut Pair, to: Side, seg: &synack::wire::TcpRepr<'_>) -> Vec<synack::Output> {
    let (src_mac, dst_mac, src, dst) = match to {
        Side::A => (crate::MAC_B, crate::MAC_A, IP_B, IP_A),
        Side::B => (crate::MAC_A, crate::MAC_B, IP_A, IP_B),
    };
    let frame = crate::frames::tcp_frame(src_mac, dst_mac, src, dst, seg);
    let now = p.now;
    let out = p.stack(to).handle(synack::Input::Frame(&frame), now);
    p.absorb_all(to, out.clone());
    out
}

/// A segment from the peer of `sock` (on `side`) with the given sequence/ack numbers and flags.
pub fn segment_to(
    p: &Pair,
    side: Side,
    sock: SocketHandle,
    seq: synack::tcp::SeqNum,
    ack: synack::tcp::SeqNum,
    flags: synack::wire::TcpFlags,
    payload: &'static [u8],
) -> synack::wire::TcpRepr<'static> {
    let stack = if side == Side::A { &p.a } else { &p.b };
    let info = stack.tcp_info(sock).expect("connection exists");
    synack::wire::TcpRepr {
        src_port: info.remote.port(),
        dst_port: info.local.port(),
        seq_number: seq,
        ack_number: ack,
        flags,
        window_len: 1000,
        urgent_ptr: 0,
        options: synack::wire::TcpOptions::default(),
        payload,
    }
}

/// sha256 of `data`, hex.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// Deterministic pseudo-random bytes.
pub fn pattern(n: usize, seed: u64) -> Vec<u8> {
    use rand::RngCore;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut v = vec![0u8; n];
    rng.fill_bytes(&mut v);
    v
}

use rand::SeedableRng;
