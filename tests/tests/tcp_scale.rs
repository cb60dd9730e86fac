//! Many connections at once in one stack pair.

use std::net::SocketAddr;
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
        match p.command(Side::A, Command::TcpConnect { remote: SocketAddr::from((IP_B, 80)), local_port: None }) {
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

#[test]
fn ephemeral_ports_are_shared_between_destinations_once_all_are_taken() {
    // Four ephemeral ports, one of them held by a listener on A: three connections to B:80 take the other
    // three; connections to B:81 and B:82 reuse them (their four-tuples differ), as Linux's connect() does; a
    // fourth to B:80 finds none.
    let a = synack::Config {
        mac: synack_tests::MAC_A,
        ipv4: "10.0.0.1/24".parse().unwrap(),
        ephemeral_ports: (50_000, 50_003),
        ..synack::Config::default()
    };
    let b = synack::Config { mac: synack_tests::MAC_B, ipv4: "10.0.0.2/24".parse().unwrap(), ..Default::default() };
    let mut p = Pair::with_configs(a, b);
    let listeners: Vec<_> =
        [80u16, 81, 82].iter().map(|port| synack_tests::tcp::listen(&mut p, Side::B, *port)).collect();
    // A listener on an ephemeral port keeps it from being shared.
    synack_tests::tcp::listen(&mut p, Side::A, 50_002);
    let connect = |p: &mut Pair, port: u16| {
        p.command(Side::A, Command::TcpConnect { remote: SocketAddr::from((IP_B, port)), local_port: None })
    };
    let mut clients = Vec::new();
    for server in [80, 80, 80, 81, 81, 81, 82] {
        match connect(&mut p, server) {
            Ok(Reply::Bound { sock, local }) => clients.push((sock, local.port(), server)),
            other => panic!("to {server}: {other:?}"),
        }
    }
    assert_eq!(connect(&mut p, 80), Err(CommandError::NoEphemeralPort));
    let ports: std::collections::BTreeSet<(u16, u16)> = clients.iter().map(|c| (c.1, c.2)).collect();
    assert_eq!(ports.len(), clients.len(), "every four-tuple is unique: {clients:?}");
    assert!(clients.iter().all(|c| (50_000..=50_003).contains(&c.1) && c.1 != 50_002), "{clients:?}");
    p.run_until(p.now + Duration::from_millis(100));
    // Every connection carries its own bytes to the right server socket.
    for (sock, port, server) in &clients {
        let msg = format!("{port}->{server}").repeat(500).into_bytes();
        p.command(Side::A, Command::TcpSend { sock: *sock, data: msg }).unwrap();
    }
    p.run_until(p.now + Duration::from_millis(200));
    let mut seen = 0;
    for (i, l) in listeners.iter().enumerate() {
        while let Ok(Reply::Accepted { sock, remote, .. }) = p.command(Side::B, Command::TcpAccept { listener: *l }) {
            let mut got = Vec::new();
            read_available(&mut p, Side::B, sock, &mut got);
            let server = [80u16, 81, 82][i];
            assert_eq!(got, format!("{}->{server}", remote.port()).repeat(500).into_bytes());
            seen += 1;
        }
    }
    assert_eq!(seen, clients.len());
}
