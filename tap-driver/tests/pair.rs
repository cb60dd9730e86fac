//! The driver and its sockets between two stacks joined by a socket pair: no root, no TAP device needed.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use synack_tap::{Driver, DriverConfig, Impairments, PairLink, TcpListener, TcpStream, UdpSocket};

fn config(last: u8, impair: Impairments) -> DriverConfig {
    DriverConfig { impair, ..PairLink::host_config(last) }
}

fn two_drivers(impair: Impairments) -> (Driver, Driver) {
    let (a, b) = PairLink::pair().unwrap();
    let da = Driver::start(a, config(1, impair.clone())).unwrap();
    let db = Driver::start(b, config(2, impair)).unwrap();
    (da, db)
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

#[test]
fn udp_echo_between_two_drivers() {
    let (da, db) = two_drivers(Impairments::default());
    let server = UdpSocket::bind(&db.handle(), addr("0.0.0.0:7")).unwrap();
    server.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let echo = std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        for _ in 0..20 {
            let (n, from) = server.recv_from(&mut buf).unwrap();
            server.send_to(&buf[..n], from).unwrap();
        }
    });
    let client = UdpSocket::bind(&da.handle(), addr("0.0.0.0:0")).unwrap();
    client.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 2048];
    for i in 0..20u32 {
        let msg = format!("hello {i}");
        client.send_to(msg.as_bytes(), addr("10.99.0.2:7")).unwrap();
        let (n, from) = client.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], msg.as_bytes());
        assert_eq!(from, addr("10.99.0.2:7"));
    }
    echo.join().unwrap();
    let report = da.stop();
    assert_eq!(report.stack.udp_datagrams_received, 20);
    assert!(report.frames_read >= 21, "{report}");
    db.stop();
}

#[test]
fn recv_times_out_and_stop_unblocks_callers() {
    let (da, _db) = two_drivers(Impairments::default());
    let sock = UdpSocket::bind(&da.handle(), addr("0.0.0.0:9")).unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let t = Instant::now();
    let err = sock.recv_from(&mut [0u8; 16]).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
    assert!(t.elapsed() >= Duration::from_millis(100) && t.elapsed() < Duration::from_secs(2));

    sock.set_read_timeout(None).unwrap();
    let handle = da.handle();
    let blocked = std::thread::spawn(move || sock.recv_from(&mut [0u8; 16]).map(|_| ()));
    std::thread::sleep(Duration::from_millis(50));
    handle.stop();
    let err = blocked.join().unwrap().unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotConnected, "{err}");
    assert!(UdpSocket::bind(&handle, addr("0.0.0.0:10")).is_err());
}

#[test]
fn bind_errors_are_io_errors() {
    let (da, _db) = two_drivers(Impairments::default());
    let h = da.handle();
    let _a = UdpSocket::bind(&h, addr("0.0.0.0:7")).unwrap();
    assert_eq!(UdpSocket::bind(&h, addr("0.0.0.0:7")).unwrap_err().kind(), std::io::ErrorKind::AddrInUse);
    assert_eq!(UdpSocket::bind(&h, addr("10.1.1.1:8")).unwrap_err().kind(), std::io::ErrorKind::AddrNotAvailable);
}

#[test]
fn udp_survives_heavy_impairment() {
    // Heavy loss/duplication/reordering on both directions: a plausible share gets through, every kind happens.
    let run = || {
        let impair = Impairments { loss: 0.2, duplicate: 0.2, reorder: 0.2, seed: 5, ..Impairments::default() };
        let (da, db) = two_drivers(impair);
        let server = UdpSocket::bind(&db.handle(), addr("0.0.0.0:7")).unwrap();
        let client = UdpSocket::bind(&da.handle(), addr("0.0.0.0:5000")).unwrap();
        // Resolve ARP first, retrying through the loss.
        server.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
        for _ in 0..20 {
            client.send_to(b"arp", addr("10.99.0.2:7")).unwrap();
            if server.recv_from(&mut [0u8; 16]).is_ok() {
                break;
            }
        }
        while server.recv_from(&mut [0u8; 16]).is_ok() {}
        for i in 0..200u32 {
            client.send_to(&i.to_be_bytes(), addr("10.99.0.2:7")).unwrap();
            std::thread::sleep(Duration::from_micros(200));
        }
        server.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
        let mut got = 0;
        while server.recv_from(&mut [0u8; 16]).is_ok() {
            got += 1;
        }
        let report = da.stop();
        (got, report.impair_out)
    };
    let (got, counts) = run();
    assert!(got > 100 && got < 260, "{got} {counts}");
    assert!(counts.dropped > 0 && counts.duplicated > 0 && counts.reordered > 0, "{counts}");
}

#[test]
fn tcp_echo_between_two_drivers() {
    let (da, db) = two_drivers(Impairments::default());
    let listener = TcpListener::bind(&db.handle(), addr("0.0.0.0:7")).unwrap();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept_timeout(Duration::from_secs(5)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut r = s.clone();
        std::io::copy(&mut r, &mut s).unwrap();
        s.shutdown(std::net::Shutdown::Write).unwrap();
    });
    let data: Vec<u8> = (0..1_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let mut c = TcpStream::connect_timeout(&da.handle(), addr("10.99.0.2:7"), Duration::from_secs(5)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let writer = {
        let (mut w, data) = (c.clone(), data.clone());
        std::thread::spawn(move || {
            std::io::Write::write_all(&mut w, &data).unwrap();
            w.shutdown(std::net::Shutdown::Write).unwrap();
        })
    };
    let mut back = Vec::new();
    std::io::Read::read_to_end(&mut c, &mut back).unwrap();
    writer.join().unwrap();
    server.join().unwrap();
    assert_eq!(back, data);
}

/// `TcpStream::write_bytes` hands the stack a shared buffer without copying it: the same 300 kB buffer written
/// four times (more than the send buffer holds, so writes are partial and block for room) arrives in order, and
/// once everything is acknowledged and the connection is gone the stack holds no reference to it any more.
#[test]
fn shared_writes_arrive_whole_and_the_buffer_is_let_go() {
    let (da, db) = two_drivers(Impairments::default());
    let (a, mut b) = connected(&da, &db);
    b.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let block = synack::Bytes::from((0..300_000u32).map(|i| (i * 13 % 253) as u8).collect::<Vec<u8>>());
    let writer = {
        let block = block.clone();
        std::thread::spawn(move || {
            let mut partial = 0;
            for _ in 0..4 {
                let mut rest = block.clone();
                while !rest.is_empty() {
                    let n = a.write_bytes(rest.clone()).unwrap();
                    assert!(n > 0);
                    partial += usize::from(n < rest.len());
                    let _ = rest.split_to(n);
                }
            }
            a.shutdown(std::net::Shutdown::Write).unwrap();
            (a, partial)
        })
    };
    let mut got = Vec::new();
    b.read_to_end(&mut got).unwrap();
    let (a, partial) = writer.join().unwrap();
    assert_eq!(got.len(), 4 * block.len());
    assert!(got.chunks(block.len()).all(|c| c == &block[..]), "every copy arrived intact and in order");
    assert!(partial > 0, "the send buffer took the writes in parts");
    drop((a, b));
    let deadline = Instant::now() + Duration::from_secs(5);
    while !block.is_unique() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(block.is_unique(), "acknowledged and closed: the stack let go of the buffer");
}

/// One end of a socket pair whose outgoing frames can be cut off (a peer that went silent).
#[derive(Debug)]
struct Cuttable {
    inner: PairLink,
    cut: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl std::os::fd::AsRawFd for Cuttable {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.inner.as_raw_fd()
    }
}

impl synack_tap::Link for Cuttable {
    fn recv(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.recv(buf)
    }
    fn send(&mut self, frame: &[u8]) -> std::io::Result<()> {
        if self.cut.load(std::sync::atomic::Ordering::Relaxed) {
            return Ok(());
        }
        self.inner.send(frame)
    }
    fn name(&self) -> &str {
        "cuttable"
    }
}

#[test]
fn linger_waits_for_the_last_fin_to_be_acknowledged() {
    let (a, b) = PairLink::pair().unwrap();
    let cut = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let da = Driver::start(a, config(1, Impairments::default())).unwrap();
    let db = Driver::start(Cuttable { inner: b, cut: cut.clone() }, config(2, Impairments::default())).unwrap();
    let listener = TcpListener::bind(&db.handle(), addr("0.0.0.0:80")).unwrap();
    let open = |da: &Driver| {
        let c = TcpStream::connect_timeout(&da.handle(), addr("10.99.0.2:80"), Duration::from_secs(5)).unwrap();
        let (s, _) = listener.accept_timeout(Duration::from_secs(5)).unwrap();
        (c, s)
    };
    // The peer acknowledges our FIN: nothing to wait for.
    let (c, _s) = open(&da);
    drop(c);
    let start = Instant::now();
    assert_eq!(da.handle().linger(Duration::from_secs(5)).unwrap(), 0);
    assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());
    // The peer went silent: our FIN stays unacknowledged, and linger gives up at its grace.
    let (c, _s) = open(&da);
    cut.store(true, std::sync::atomic::Ordering::Relaxed);
    drop(c);
    let start = Instant::now();
    assert_eq!(da.handle().linger(Duration::from_millis(300)).unwrap(), 1, "one FIN still unacknowledged");
    assert!(start.elapsed() >= Duration::from_millis(300));
    // It comes back: the retransmitted FIN is acknowledged, and nothing is pending any more.
    cut.store(false, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(da.handle().linger(Duration::from_secs(10)).unwrap(), 0, "the retransmitted FIN got through");
    da.stop();
    db.stop();
}

#[test]
fn connect_to_an_address_nobody_answers_fails_as_host_unreachable_after_the_syn_retries() {
    // Nobody has 10.99.0.3: every ARP resolution gives up, a soft error (RFC 1122 §4.2.3.9) that only the
    // connect's timeout reports, as Linux's EHOSTUNREACH. Two SYN retries: the stack gives up after 7 s (the
    // first resolution gave up at 3 s).
    let (a, b) = PairLink::pair().unwrap();
    let mut cfg = config(1, Impairments::default());
    cfg.stack.tcp.syn_retries = 2;
    let da = Driver::start(a, cfg).unwrap();
    let _db = Driver::start(b, config(2, Impairments::default())).unwrap();
    let t = Instant::now();
    let err = TcpStream::connect(&da.handle(), addr("10.99.0.3:80")).map(|_| ()).unwrap_err();
    let took = t.elapsed();
    assert_eq!(err.kind(), std::io::ErrorKind::HostUnreachable, "{err}");
    assert!(err.to_string().contains("timed out") && err.to_string().contains("no ARP reply"), "{err}");
    // Not at the first ARP give-up (1 s retries, 3 requests): when the SYN's retries ran out.
    assert!(took >= Duration::from_millis(6900) && took < Duration::from_secs(15), "gave up after {took:?}");
    let report = da.stop();
    assert!(report.stack.drops(synack::DropReason::ArpUnresolved) >= 1, "{report}");
}

/// A connected pair of streams: `a` connects from driver `da` to a listener on `db` port 80.
fn connected(da: &Driver, db: &Driver) -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind(&db.handle(), addr("0.0.0.0:80")).unwrap();
    let a = TcpStream::connect_timeout(&da.handle(), addr("10.99.0.2:80"), Duration::from_secs(5)).unwrap();
    let (b, _) = listener.accept_timeout(Duration::from_secs(5)).unwrap();
    (a, b)
}

// The facade's errors, one `io::ErrorKind` each, as Linux's sockets give them (the ICMP-driven ones, refused by
// port unreachable and unreachable hosts and networks, are in tests/live_errors.rs; a read timeout and a stopped
// driver in recv_times_out_and_stop_unblocks_callers; an unanswered ARP in the test above).

#[test]
fn a_connect_nobody_listens_for_is_connection_refused() {
    let (da, _db) = two_drivers(Impairments::default());
    let err = TcpStream::connect_timeout(&da.handle(), addr("10.99.0.2:81"), Duration::from_secs(5)).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused, "{err}");
}

#[test]
fn a_peer_that_aborts_is_connection_reset_for_reads_and_writes() {
    let (da, db) = two_drivers(Impairments::default());
    let (mut a, b) = connected(&da, &db);
    b.abort().unwrap();
    a.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let err = a.read(&mut [0u8; 16]).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset, "{err}");
    let err = a.write(b"late").unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset, "{err}");
}

#[test]
fn data_never_acknowledged_is_timed_out_when_retransmissions_run_out() {
    let (a, b) = PairLink::pair().unwrap();
    let cut = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut cfg = config(1, Impairments::default());
    cfg.stack.tcp.max_retransmissions = 3;
    cfg.stack.tcp.rto_min = Duration::from_millis(20);
    cfg.stack.tcp.rto_max = Duration::from_millis(200);
    let da = Driver::start(a, cfg).unwrap();
    let db = Driver::start(Cuttable { inner: b, cut: cut.clone() }, config(2, Impairments::default())).unwrap();
    let (mut a, _b) = connected(&da, &db);
    // The peer goes silent: our data is never acknowledged.
    cut.store(true, std::sync::atomic::Ordering::Relaxed);
    a.write_all(b"into the silence").unwrap();
    a.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let t = Instant::now();
    let err = a.read(&mut [0u8; 16]).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut, "{err}");
    assert!(err.to_string().contains("retransmissions ran out"), "{err}");
    assert!(t.elapsed() < Duration::from_secs(10), "the stack gave up, not the read timeout: {:?}", t.elapsed());
}

#[test]
fn an_off_link_destination_without_a_gateway_is_network_unreachable() {
    let (da, _db) = two_drivers(Impairments::default());
    let h = da.handle();
    let err = TcpStream::connect_timeout(&h, addr("192.168.7.7:80"), Duration::from_secs(5)).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NetworkUnreachable, "{err}");
    let sock = UdpSocket::bind(&h, addr("0.0.0.0:0")).unwrap();
    let err = sock.send_to(b"x", addr("192.168.7.7:53")).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NetworkUnreachable, "{err}");
}

#[test]
fn listening_twice_is_addr_in_use_and_a_foreign_address_addr_not_available() {
    let (da, _db) = two_drivers(Impairments::default());
    let h = da.handle();
    let _l = TcpListener::bind(&h, addr("0.0.0.0:80")).unwrap();
    let err = TcpListener::bind(&h, addr("0.0.0.0:80")).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse, "{err}");
    let err = TcpListener::bind(&h, addr("10.1.1.1:81")).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::AddrNotAvailable, "{err}");
}

#[test]
fn bad_destinations_and_oversized_datagrams_are_invalid_input() {
    let (da, _db) = two_drivers(Impairments::default());
    let h = da.handle();
    let err = TcpStream::connect_timeout(&h, addr("10.99.0.2:0"), Duration::from_secs(5)).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{err}");
    let sock = UdpSocket::bind(&h, addr("0.0.0.0:0")).unwrap();
    // Larger than the MTU leaves in fragments (as on Linux); larger than any IPv4 datagram is refused.
    assert_eq!(sock.send_to(&[0u8; 1500], addr("10.99.0.2:7")).unwrap(), 1500);
    let err = sock.send_to(&vec![0u8; 65_508], addr("10.99.0.2:7")).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{err}");
}

#[test]
fn writing_after_shutdown_is_broken_pipe() {
    let (da, db) = two_drivers(Impairments::default());
    let (mut a, _b) = connected(&da, &db);
    a.shutdown(std::net::Shutdown::Write).unwrap();
    let err = a.write(b"after FIN").unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe, "{err}");
}

/// The comments of a pcapng capture's inbound frames (direction flag 1), in order.
fn inbound_comments(path: &std::path::Path) -> Vec<String> {
    use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketOption;
    let bytes = std::fs::read(path).unwrap();
    let mut reader = pcap_file::pcapng::PcapNgReader::new(&bytes[..]).unwrap();
    let mut comments = Vec::new();
    while let Some(block) = reader.next_block() {
        if let pcap_file::pcapng::Block::EnhancedPacket(p) = block.unwrap() {
            let inbound = p.options.iter().any(|o| matches!(o, EnhancedPacketOption::Flags(f) if f & 3 == 1));
            let comment = p.options.iter().find_map(|o| match o {
                EnhancedPacketOption::Comment(c) => Some(c.to_string()),
                _ => None,
            });
            if inbound {
                comments.push(comment.unwrap_or_default());
            }
        }
    }
    comments
}

/// `--pcap` captures say, in a received frame's comment, what that frame did: the SYN that made a listener's
/// child SYN-RECEIVED, the ACK that made it ESTABLISHED, the SYN to a closed port the stack dropped (as the
/// simulator's captures do).
#[test]
fn a_capture_tells_what_each_received_frame_did() {
    let pcap = std::env::temp_dir().join(format!("synack-pair-notes-{}.pcapng", std::process::id()));
    let (a, b) = PairLink::pair().unwrap();
    let da = Driver::start(a, config(1, Impairments::default())).unwrap();
    let db = Driver::start(b, DriverConfig { pcap: Some(pcap.clone()), ..config(2, Impairments::default()) }).unwrap();
    let listener = TcpListener::bind(&db.handle(), addr("0.0.0.0:7")).unwrap();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept_timeout(Duration::from_secs(5)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut r = s.clone();
        std::io::copy(&mut r, &mut s).unwrap();
        s.shutdown(std::net::Shutdown::Write).unwrap();
    });
    let mut c = TcpStream::connect_timeout(&da.handle(), addr("10.99.0.2:7"), Duration::from_secs(5)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    std::io::Write::write_all(&mut c, b"hello, capture").unwrap();
    c.shutdown(std::net::Shutdown::Write).unwrap();
    let mut back = Vec::new();
    std::io::Read::read_to_end(&mut c, &mut back).unwrap();
    server.join().unwrap();
    assert_eq!(back, b"hello, capture");
    let refused = TcpStream::connect_timeout(&da.handle(), addr("10.99.0.2:9"), Duration::from_secs(5));
    assert_eq!(refused.map(|_| ()).unwrap_err().kind(), std::io::ErrorKind::ConnectionRefused);
    da.stop();
    let report = db.stop();
    let comments = inbound_comments(&pcap);
    let _ = std::fs::remove_file(&pcap);
    assert!(report.error.is_none(), "{report}");
    let has = |what: &str| {
        comments.iter().filter(|c| c.lines().any(|l| l.starts_with("state: ") && l.ends_with(what))).count()
    };
    assert_eq!(has("LISTEN -> SYN-RECEIVED"), 1, "{comments:#?}");
    assert_eq!(has("SYN-RECEIVED -> ESTABLISHED"), 1, "{comments:#?}");
    assert_eq!(has("ESTABLISHED -> CLOSE-WAIT"), 1, "{comments:#?}");
    assert_eq!(comments.iter().filter(|c| c.contains("drop: TcpNoSocket")).count(), 1, "{comments:#?}");
    // Reasons for frames sent stay on those frames, never on a received one.
    assert!(comments.iter().all(|c| !c.contains("why: ")), "{comments:#?}");
}
