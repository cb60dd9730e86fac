//! TCP helpers for the pair: open a connection, move bytes both ways with an application loop.

use crate::{Pair, Side};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;
use synack::{Command, CommandError, Event, Instant, Reply, SocketHandle};

pub const IP_A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
pub const IP_B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

/// A client on A connected to a listener on B: (A's socket, B's listener, B's accepted socket).
pub fn connect(p: &mut Pair, port: u16) -> (SocketHandle, SocketHandle, SocketHandle) {
    let l = listen(p, Side::B, port);
    let c = start_connect(p, Side::A, SocketAddrV4::new(IP_B, port));
    p.run_until(p.now + Duration::from_millis(50));
    assert!(p.events_of(Side::A).contains(&(c, Event::Connected)), "not connected: {:#?}", p.lines());
    let s = accept(p, l);
    (c, l, s)
}

pub fn listen(p: &mut Pair, side: Side, port: u16) -> SocketHandle {
    match p.command(side, Command::TcpListen { local: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port), backlog: 16 }) {
        Ok(Reply::Bound { sock, .. }) => sock,
        other => panic!("listen: {other:?}"),
    }
}

pub fn start_connect(p: &mut Pair, side: Side, remote: SocketAddrV4) -> SocketHandle {
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
