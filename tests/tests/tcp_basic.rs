use std::time::Duration;
use synack::tcp::TcpState;
use synack::Event;
use synack_tests::tcp::{connect, transfer};
use synack_tests::{Pair, Side};

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect()
}

#[test]
fn handshake_transfer_and_close() {
    let mut p = Pair::new(1);
    let (c, _l, s) = connect(&mut p, 5001);
    let data = pattern(1_000_000);
    let t = transfer(&mut p, Side::A, c, s, &data, Duration::from_secs(60));
    assert!(t.eof);
    assert_eq!(t.received.len(), data.len());
    assert!(t.received == data);
    for l in p.lines().iter().take(12) {
        println!("{l}");
    }
    println!("finished at {}", t.finished_at);
    println!("{:?}", p.a.tcp_info(c));
    p.command(Side::B, synack::Command::TcpClose { sock: s }).unwrap();
    p.command(Side::A, synack::Command::TcpClose { sock: c }).unwrap();
    p.run_until_idle();
    for l in p.lines().iter().rev().take(6) {
        println!("{l}");
    }
    assert!(p.events_of(Side::B).contains(&(s, Event::Closed)));
    assert_eq!(p.a.tcp_info(c), None);
    let _ = TcpState::Closed;
}
