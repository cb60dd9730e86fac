//! The blocking façade against std::net / Linux semantics, over two drivers joined by a socket pair
//! (no root, no TAP device).

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::time::{Duration, Instant};
use synack_tap::{Driver, PairLink, TcpListener, TcpStream, UdpSocket};

fn two_drivers() -> (Driver, Driver) {
    let (a, b) = PairLink::pair().unwrap();
    (Driver::start(a, PairLink::host_config(1)).unwrap(), Driver::start(b, PairLink::host_config(2)).unwrap())
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn connected(da: &Driver, db: &Driver, port: u16) -> (TcpStream, TcpStream, TcpListener) {
    let listener = TcpListener::bind(&db.handle(), addr(&format!("0.0.0.0:{port}"))).unwrap();
    let a =
        TcpStream::connect_timeout(&da.handle(), addr(&format!("10.99.0.2:{port}")), Duration::from_secs(5)).unwrap();
    let (b, _) = listener.accept_timeout(Duration::from_secs(5)).unwrap();
    (a, b, listener)
}

/// std: "Read: ... All currently blocked and future reads will return Ok(0)". Linux wakes a reader blocked in
/// recv(2) when another thread calls shutdown(SHUT_RD) (or SHUT_RDWR), and it returns 0. This is the usual way
/// to unblock a reader thread.
#[test]
fn shutdown_read_wakes_a_blocked_reader() {
    shutdown_wakes_a_blocked_reader(Shutdown::Read);
}

/// The same with shutdown(Both): the peer stays silent (it does not close its side), so only the local
/// shutdown can end the read.
#[test]
fn shutdown_both_wakes_a_blocked_reader() {
    shutdown_wakes_a_blocked_reader(Shutdown::Both);
}

fn shutdown_wakes_a_blocked_reader(how: Shutdown) {
    let (da, db) = two_drivers();
    let (a, _b, _l) = connected(&da, &db, 80);
    a.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut reader = a.try_clone().unwrap();
    let t = std::thread::spawn(move || {
        let start = Instant::now();
        let r = reader.read(&mut [0u8; 64]).map_err(|e| e.kind());
        (r, start.elapsed())
    });
    std::thread::sleep(Duration::from_millis(200));
    a.shutdown(how).unwrap();
    let (r, took) = t.join().unwrap();
    assert_eq!(r, Ok(0), "blocked read after shutdown({how:?}) (took {took:?})");
    assert!(took < Duration::from_secs(2), "the blocked read was not woken: {took:?}");
}

#[test]
fn read_after_fin_is_ok0_repeatedly_and_half_close_works() {
    let (da, db) = two_drivers();
    let (mut a, mut b, _l) = connected(&da, &db, 80);
    a.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    b.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    b.write_all(b"bye").unwrap();
    b.shutdown(Shutdown::Write).unwrap();
    let mut got = Vec::new();
    a.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"bye");
    for _ in 0..3 {
        assert_eq!(a.read(&mut [0u8; 8]).unwrap(), 0);
    }
    // Half-close: we can still send, the peer still reads.
    a.write_all(b"still here").unwrap();
    a.shutdown(Shutdown::Write).unwrap();
    let mut got = Vec::new();
    b.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"still here");
    assert_eq!(a.peer_addr(), addr("10.99.0.2:80"));
    assert_eq!(b.peer_addr(), a.local_addr());
}

/// Linux: closing a socket with unread data sends RST (RFC 2525 2.17): the peer's next read is ECONNRESET.
/// Without unread data: FIN, the peer reads Ok(0).
#[test]
fn drop_with_unread_data_resets_without_sends_fin() {
    let (da, db) = two_drivers();
    let (a, mut b, l) = connected(&da, &db, 80);
    b.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    b.write_all(b"unread").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    drop(a);
    let err = b.read(&mut [0u8; 8]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
    drop((b, l));
    let (a, mut b, _l) = connected(&da, &db, 81);
    b.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    drop(a);
    assert_eq!(b.read(&mut [0u8; 8]).unwrap(), 0);
}

#[test]
fn write_timeout_fires_when_the_peer_does_not_read() {
    let (da, db) = two_drivers();
    let (mut a, _b, _l) = connected(&da, &db, 80);
    a.set_write_timeout(Some(Duration::from_millis(300))).unwrap();
    let chunk = vec![7u8; 64 * 1024];
    let start = Instant::now();
    let err = loop {
        match a.write(&chunk) {
            Ok(n) => assert!(n > 0 && start.elapsed() < Duration::from_secs(20), "writes never blocked"),
            Err(e) => break e,
        }
    };
    assert!(matches!(err.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock), "{err}");
}

/// A blocked write whose peer resets: ConnectionReset (Linux ECONNRESET, later EPIPE).
#[test]
fn blocked_write_fails_when_the_peer_resets() {
    let (da, db) = two_drivers();
    let (a, b, _l) = connected(&da, &db, 80);
    let mut w = a.try_clone().unwrap();
    let t = std::thread::spawn(move || {
        let chunk = vec![7u8; 64 * 1024];
        loop {
            if let Err(e) = w.write(&chunk) {
                return e.kind();
            }
        }
    });
    std::thread::sleep(Duration::from_millis(500));
    b.abort().unwrap();
    let kind = t.join().unwrap();
    assert!(matches!(kind, ErrorKind::ConnectionReset | ErrorKind::BrokenPipe), "{kind:?}");
}

/// Linux: close(2) of a listener resets the connections waiting in its accept queue.
#[test]
fn dropping_a_listener_resets_unaccepted_connections() {
    let (da, db) = two_drivers();
    let listener = TcpListener::bind(&db.handle(), addr("0.0.0.0:80")).unwrap();
    let mut a = TcpStream::connect_timeout(&da.handle(), addr("10.99.0.2:80"), Duration::from_secs(5)).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    drop(listener);
    a.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let err = a.read(&mut [0u8; 8]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
}

#[test]
fn accepts_many_connections() {
    let (da, db) = two_drivers();
    let listener = TcpListener::bind(&db.handle(), addr("0.0.0.0:80")).unwrap();
    let server = std::thread::spawn(move || {
        let mut n = 0;
        while let Ok((mut s, _)) = listener.accept_timeout(Duration::from_secs(5)) {
            s.write_all(b"x").unwrap();
            n += 1;
            if n == 300 {
                break;
            }
        }
        n
    });
    for _ in 0..300 {
        let mut c = TcpStream::connect_timeout(&da.handle(), addr("10.99.0.2:80"), Duration::from_secs(5)).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut one = [0u8; 1];
        c.read_exact(&mut one).unwrap();
    }
    assert_eq!(server.join().unwrap(), 300);
}

/// std/Linux: recv_from into a short buffer returns the truncated length; an empty datagram is Ok((0, from)).
#[test]
fn udp_truncation_and_empty_datagrams() {
    let (da, db) = two_drivers();
    let server = UdpSocket::bind(&db.handle(), addr("0.0.0.0:7")).unwrap();
    server.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let client = UdpSocket::bind(&da.handle(), addr("0.0.0.0:0")).unwrap();
    assert_ne!(client.local_addr().port(), 0);
    client.send_to(b"warm up arp", addr("10.99.0.2:7")).unwrap();
    server.recv_from(&mut [0u8; 64]).unwrap();
    client.send_to(&[9u8; 100], addr("10.99.0.2:7")).unwrap();
    let mut small = [0u8; 10];
    let (n, from) = server.recv_from(&mut small).unwrap();
    assert_eq!((n, from.port()), (10, client.local_addr().port()));
    assert_eq!(client.send_to(b"", addr("10.99.0.2:7")).unwrap(), 0);
    let (n, _) = server.recv_from(&mut small).unwrap();
    assert_eq!(n, 0);
}

#[test]
fn connect_timeout_is_timed_out() {
    let (da, _db) = two_drivers();
    let start = Instant::now();
    let err = TcpStream::connect_timeout(&da.handle(), addr("10.99.0.9:80"), Duration::from_millis(500)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
    assert!(start.elapsed() < Duration::from_secs(2));
}
