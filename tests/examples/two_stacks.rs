//! Two synack stacks in memory: ARP resolution, a ping, a UDP exchange and a refused TCP connection,
//! printed one decoded frame per line with its virtual time.
//!
//! Run: `cargo run -p synack-tests --example two_stacks`

use std::net::{Ipv4Addr, SocketAddr};
use synack::{Command, Reply};
use synack_tests::{Pair, Side};

fn main() {
    let mut p = Pair::new(7);
    let b = Ipv4Addr::new(10, 0, 0, 2);
    let Ok(Reply::Bound { sock: ping, .. }) = p.command(Side::A, Command::PingOpen { ident: None }) else {
        unreachable!("a fresh stack has free identifiers")
    };
    p.command(Side::A, Command::Ping { sock: ping, dst: b.into(), seq_no: 1, payload_len: 56 }).expect("ping");
    p.run_until_idle();

    let Ok(Reply::Bound { sock: srv, .. }) =
        p.command(Side::B, Command::UdpBind { local: "0.0.0.0:7".parse().unwrap() })
    else {
        unreachable!("port 7 is free")
    };
    let Ok(Reply::Bound { sock: cli, local }) =
        p.command(Side::A, Command::UdpBind { local: "0.0.0.0:0".parse().unwrap() })
    else {
        unreachable!("ephemeral ports are free")
    };
    let remote = SocketAddr::from((b, 7));
    p.command(Side::A, Command::UdpSendTo { sock: cli, remote, data: b"hello".to_vec() }).expect("send");
    p.run_until_idle();
    if let Ok(Reply::Datagram { from, data }) = p.command(Side::B, Command::UdpRecv { sock: srv }) {
        p.command(Side::B, Command::UdpSendTo { sock: srv, remote: from, data }).expect("echo");
    }
    // A datagram to a port nobody listens on: B answers with ICMP port unreachable.
    p.command(Side::A, Command::UdpSendTo { sock: cli, remote: SocketAddr::from((b, 9)), data: b"?".to_vec() })
        .expect("send");
    p.run_until_idle();

    for l in &p.log {
        println!("{:>12}  {}", l.at.to_string(), l.line());
    }
    println!();
    for (at, side, sock, ev) in &p.events {
        println!("{:>12}  event {side:?} {sock}: {ev:?}", at.to_string());
    }
    println!("\nA ({local}):\n{}B:\n{}", p.a.stats(), p.b.stats());
}
