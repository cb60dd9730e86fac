//! Many connections at once in one stack pair.

use std::net::SocketAddrV4;
use std::time::Duration;
use synack::{Command, CommandError, Event, Reply};
use synack_tests::tcp::{read_available, IP_B};
use synack_tests::{Pair, Side};

#[test]
fn a_thousand_concurrent_connections_each_deliver_their_bytes() {
    let mut p = Pair::new(51);
    let l = match p.command(Side::B, Command::TcpListen { local: "0.0.0.0:80".parse().unwrap(), backlog: 1000 }) {
        Ok(Reply::Bound { sock, .. }) => sock,
        other => panic!("{other:?}"),
    };
    let n = 1000;
    let mut clients = Vec::new();
    for _ in 0..n {
        match p.command(Side::A, Command::TcpConnect { remote: SocketAddrV4::new(IP_B, 80), local_port: None }) {
            Ok(Reply::Bound { sock, local }) => clients.push((sock, local.port())),
            other => panic!("{other:?}"),
        }
    }
    // 256 SYNs wait for ARP (the default queue per neighbour); the rest are retransmitted 1 s later.
    p.run_until(p.now + Duration::from_secs(3));
    let connected = p.events_of(Side::A).iter().filter(|(_, e)| *e == Event::Connected).count();
    assert_eq!(connected, n);
    assert_eq!(p.a.stats().drops(synack::DropReason::ArpQueueFull), (n - 256) as u64);
    // Each client sends its own port number 100 times, then closes.
    for (sock, port) in &clients {
        let msg: Vec<u8> = port.to_be_bytes().repeat(100);
        p.command(Side::A, Command::TcpSend { sock: *sock, data: msg }).unwrap();
        p.command(Side::A, Command::TcpShutdown { sock: *sock }).unwrap();
    }
    let mut servers = Vec::new();
    loop {
        match p.command(Side::B, Command::TcpAccept { listener: l }) {
            Ok(Reply::Accepted { sock, remote, .. }) => servers.push((sock, remote.port())),
            Err(CommandError::WouldBlock) => break,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(servers.len(), n);
    p.run_until(p.now + Duration::from_secs(1));
    for (sock, port) in &servers {
        let mut got = Vec::new();
        assert_eq!(read_available(&mut p, Side::B, *sock, &mut got), None, "EOF");
        assert_eq!(got, port.to_be_bytes().repeat(100));
        p.command(Side::B, Command::TcpClose { sock: *sock }).unwrap();
    }
    p.run_until(p.now + Duration::from_secs(1));
    assert!(p.b.tcp_connections().is_empty());
    assert_eq!(p.a.tcp_connections().len(), n, "TIME-WAIT on the active closer");
    assert_eq!(p.b.stats().total_drops(), 0);
}
