//! Two stacks in memory: ARP resolution, ping, UDP exchange and the error paths, asserting the exact frames.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;
use synack::{Command, CommandError, DropReason, Event, Instant, Reply, SocketHandle, UnreachableReason};
use synack_tests::{Pair, Side};

const IP_A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const IP_B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

fn bound(r: Result<Reply, CommandError>) -> (SocketHandle, SocketAddr) {
    match r {
        Ok(Reply::Bound { sock, local }) => (sock, local),
        other => panic!("expected Bound, got {other:?}"),
    }
}

#[test]
fn ping_resolves_arp_then_echoes_with_rtt() {
    let mut p = Pair::new(1);
    let (sock, local) = bound(p.command(Side::A, Command::PingOpen { ident: Some(0x1234) }));
    assert_eq!(local, SocketAddr::from((IP_A, 0x1234)));
    for seq_no in 1..=2 {
        let r = p.command(Side::A, Command::Ping { sock, dst: IP_B.into(), seq_no, payload_len: 56 });
        assert_eq!(r, Ok(Reply::Sent { len: 56 }));
        p.run_until(p.now + Duration::from_millis(10));
    }
    p.run_until_idle();
    assert_eq!(
        p.lines(),
        [
            "A>B ARP who-has 10.0.0.2 tell 10.0.0.1",
            "B>A ARP 10.0.0.2 is-at 02:00:00:00:00:0b",
            "A>B 10.0.0.1 > 10.0.0.2 ICMP echo-request id=4660 seq=1 len=56",
            // B learned A's address from A's request (RFC 826), so its reply needs no ARP.
            "B>A 10.0.0.2 > 10.0.0.1 ICMP echo-reply id=4660 seq=1 len=56",
            "A>B 10.0.0.1 > 10.0.0.2 ICMP echo-request id=4660 seq=2 len=56",
            "B>A 10.0.0.2 > 10.0.0.1 ICMP echo-reply id=4660 seq=2 len=56",
        ]
    );
    let ev = p.events_of(Side::A);
    // First ping waited one ARP round trip (2 ms) plus its own (2 ms); the second only its own.
    let rtt = |ms| Duration::from_millis(ms);
    assert_eq!(ev[0].1, Event::EchoReply { from: IP_B.into(), seq_no: 1, rtt: rtt(4), ttl: 64, len: 56 });
    assert_eq!(ev[1].1, Event::EchoReply { from: IP_B.into(), seq_no: 2, rtt: rtt(2), ttl: 64, len: 56 });
    assert_eq!(p.b.stats().icmp_echo_replies_sent, 2);
    assert_eq!(p.a.stats().total_drops() + p.b.stats().total_drops(), 0);
    // Every emitted frame is padded to the Ethernet minimum.
    assert!(p.log.iter().all(|l| l.frame.len() >= 60));
    assert_eq!(p.log[0].frame.len(), 60);
}

#[test]
fn udp_exchange_delivers_datagrams_and_readable_events() {
    let mut p = Pair::new(2);
    let (srv, _) = bound(p.command(Side::B, Command::UdpBind { local: "0.0.0.0:7".parse().unwrap() }));
    let (cli, cli_local) = bound(p.command(Side::A, Command::UdpBind { local: "0.0.0.0:0".parse().unwrap() }));
    let (lo, hi) = p.a.config().ephemeral_ports;
    assert!((lo..=hi).contains(&cli_local.port()));
    let server = SocketAddr::from((IP_B, 7));
    let r = p.command(Side::A, Command::UdpSendTo { sock: cli, remote: server, data: b"hello".to_vec() });
    assert_eq!(r, Ok(Reply::Sent { len: 5 }));
    p.run_until_idle();
    assert_eq!(p.events_of(Side::B), [(srv, Event::Readable)]);
    let client = SocketAddr::from((IP_A, cli_local.port()));
    let got = p.command(Side::B, Command::UdpRecv { sock: srv });
    assert_eq!(got, Ok(Reply::Datagram { from: client, data: b"hello".to_vec() }));
    assert_eq!(p.command(Side::B, Command::UdpRecv { sock: srv }), Err(CommandError::WouldBlock));
    // Echo it back.
    p.command(Side::B, Command::UdpSendTo { sock: srv, remote: client, data: b"HELLO".to_vec() }).unwrap();
    p.run_until_idle();
    assert_eq!(
        p.command(Side::A, Command::UdpRecv { sock: cli }),
        Ok(Reply::Datagram { from: server, data: b"HELLO".to_vec() })
    );
    let port = cli_local.port();
    assert_eq!(
        p.lines(),
        [
            "A>B ARP who-has 10.0.0.2 tell 10.0.0.1".to_string(),
            "B>A ARP 10.0.0.2 is-at 02:00:00:00:00:0b".to_string(),
            format!("A>B 10.0.0.1:{port} > 10.0.0.2:7 UDP len=5"),
            format!("B>A 10.0.0.2:7 > 10.0.0.1:{port} UDP len=5"),
        ]
    );
}

#[test]
fn udp_to_closed_port_gets_port_unreachable_reported_to_the_sender() {
    let mut p = Pair::new(3);
    let (cli, local) = bound(p.command(Side::A, Command::UdpBind { local: "0.0.0.0:5000".parse().unwrap() }));
    assert_eq!(local.port(), 5000);
    let dst = SocketAddr::from((IP_B, 9));
    p.command(Side::A, Command::UdpSendTo { sock: cli, remote: dst, data: vec![0xab; 20] }).unwrap();
    p.run_until_idle();
    let lines = p.lines();
    assert_eq!(lines[3], "B>A 10.0.0.2 > 10.0.0.1 ICMP port-unreachable for 10.0.0.1:5000 > 10.0.0.2:9 UDP");
    assert_eq!(p.b.stats().drops(DropReason::UdpNoSocket), 1);
    assert_eq!(p.b.stats().icmp_errors_sent, 1);
    let reason = UnreachableReason::DstUnreachable { code: 3, next_hop_mtu: 0 };
    assert_eq!(
        p.events_of(Side::A),
        [(cli, Event::Unreachable { dst: IP_B.into(), port: Some(9), reason, reporter: Some(IP_B.into()) })]
    );
    // The error quotes the whole original datagram (it is short): IP header + UDP header + 20 bytes.
    assert_eq!(p.log[3].frame.len(), 14 + 20 + 8 + 20 + 8 + 20);
}

#[test]
fn tcp_syn_to_closed_port_is_refused_with_rst() {
    use synack::tcp::SeqNum;
    use synack::wire::{TcpFlags, TcpOptions, TcpRepr};
    let mut p = Pair::new(4);
    // Teach B where A is, then hand-craft a SYN from A (A has no TCP yet).
    let (s, _) = bound(p.command(Side::A, Command::PingOpen { ident: None }));
    p.command(Side::A, Command::Ping { sock: s, dst: IP_B.into(), seq_no: 1, payload_len: 0 }).unwrap();
    p.run_until_idle();
    let syn = TcpRepr {
        src_port: 40000,
        dst_port: 80,
        seq_number: SeqNum(1000),
        ack_number: SeqNum(0),
        flags: TcpFlags::SYN,
        window_len: 64240,
        urgent_ptr: 0,
        options: TcpOptions { mss: Some(1460), ..TcpOptions::default() },
        payload: &[],
    };
    let frame = synack_tests::frames::tcp_frame(synack_tests::MAC_A, synack_tests::MAC_B, IP_A, IP_B, &syn);
    let out = p.b.handle(synack::Input::Frame(&frame), p.now);
    let rst = match &out[..] {
        [synack::Output::Transmit(f)] => synack::wire::pretty::frame_summary(f),
        other => panic!("{other:?}"),
    };
    assert_eq!(rst, "10.0.0.2:80 > 10.0.0.1:40000 TCP [R.] seq=0 ack=1001 win=0 len=0");
    assert_eq!(p.b.stats().tcp_resets_sent, 1);
}

#[test]
fn arp_failure_drops_queued_datagrams_and_reports_unreachable() {
    let mut p = Pair::new(5);
    let (cli, _) = bound(p.command(Side::A, Command::UdpBind { local: "0.0.0.0:0".parse().unwrap() }));
    let ghost = SocketAddr::from((Ipv4Addr::new(10, 0, 0, 99), 53));
    for _ in 0..3 {
        p.command(Side::A, Command::UdpSendTo { sock: cli, remote: ghost, data: b"q".to_vec() }).unwrap();
    }
    p.run_until_idle();
    let requests = p.lines().iter().filter(|l| l.contains("who-has 10.0.0.99")).count();
    assert_eq!(requests, 3, "{:?}", p.lines());
    // B drops the requests that are not for it.
    assert_eq!(p.b.stats().drops(DropReason::ArpNotForUs), 3);
    assert_eq!(p.a.stats().drops(DropReason::ArpUnresolved), 3);
    let reason = UnreachableReason::NoNeighbour;
    let dst = ghost.ip();
    assert_eq!(p.events_of(Side::A), [(cli, Event::Unreachable { dst, port: Some(53), reason, reporter: None })]);
    // Requests went out at 0 s, 1 s and 2 s; the give-up came at 3 s.
    let times: Vec<Instant> = p.log.iter().map(|l| l.at).collect();
    assert_eq!(times, [Instant::ZERO, Instant::from_secs(1), Instant::from_secs(2)]);
    assert_eq!(p.events[0].0, Instant::from_secs(3));
}

#[test]
fn commands_fail_with_clear_errors() {
    let mut p = Pair::new(6);
    let (u, _) = bound(p.command(Side::A, Command::UdpBind { local: "0.0.0.0:7".parse().unwrap() }));
    assert_eq!(
        p.command(Side::A, Command::UdpBind { local: "0.0.0.0:7".parse().unwrap() }),
        Err(CommandError::AddrInUse(7))
    );
    let foreign: SocketAddr = "10.9.9.9:7".parse().unwrap();
    assert_eq!(
        p.command(Side::A, Command::UdpBind { local: foreign }),
        Err(CommandError::AddrNotAvailable(foreign.ip()))
    );
    let off_link: SocketAddr = "192.168.1.1:53".parse().unwrap();
    let r = p.command(Side::A, Command::UdpSendTo { sock: u, remote: off_link, data: vec![1] });
    assert_eq!(r, Err(CommandError::NoRoute(off_link.ip())));
    let r = p.command(Side::A, Command::UdpSendTo { sock: u, remote: SocketAddr::from((IP_B, 0)), data: vec![1] });
    assert!(matches!(r, Err(CommandError::BadDestination(_))));
    let r = p.command(Side::A, Command::UdpSendTo { sock: u, remote: "127.0.0.1:9".parse().unwrap(), data: vec![1] });
    assert!(matches!(r, Err(CommandError::BadDestination(_))));
    let nobody = SocketHandle(999);
    assert_eq!(p.command(Side::A, Command::UdpRecv { sock: nobody }), Err(CommandError::NoSuchSocket(nobody)));
    assert_eq!(p.command(Side::A, Command::UdpClose { sock: u }), Ok(Reply::Done));
    assert_eq!(p.command(Side::A, Command::UdpClose { sock: u }), Err(CommandError::NoSuchSocket(u)));
    // Nothing was sent by any failed command.
    assert!(p.log.is_empty());
}

#[test]
fn same_seed_gives_byte_identical_frames() {
    fn run(seed: u64) -> Vec<Vec<u8>> {
        let mut p = Pair::new(seed);
        let (s, _) = bound(p.command(Side::A, Command::PingOpen { ident: None }));
        let (u, _) = bound(p.command(Side::A, Command::UdpBind { local: "0.0.0.0:0".parse().unwrap() }));
        p.command(Side::A, Command::Ping { sock: s, dst: IP_B.into(), seq_no: 1, payload_len: 32 }).unwrap();
        p.command(Side::A, Command::UdpSendTo { sock: u, remote: SocketAddr::from((IP_B, 9)), data: vec![7; 9] })
            .unwrap();
        p.run_until_idle();
        p.log.into_iter().map(|l| l.frame).collect()
    }
    assert_eq!(run(42), run(42));
    assert_ne!(run(42), run(43), "the seed picks ephemeral ports, ping identifiers and IP identifications");
}

/// A UDP datagram from A:1234 to B:9000 carrying `data`, and the IP header for sending it in fragments.
fn udp_datagram_to_b(data: &[u8], ident: u16) -> (synack::wire::Ipv4Repr, Vec<u8>) {
    use synack::wire::{IpProtocol, Ipv4Repr, UdpPacket, UdpRepr};
    let udp = UdpRepr { src_port: 1234, dst_port: 9000, payload: data };
    let mut dgram = vec![0u8; udp.buffer_len()];
    udp.emit(&mut UdpPacket::new_unchecked(&mut dgram[..]), &IP_A, &IP_B);
    let protocol = IpProtocol::Udp;
    let ip = Ipv4Repr {
        src_addr: IP_A,
        dst_addr: IP_B,
        protocol,
        payload_len: dgram.len(),
        ttl: 64,
        ident,
        dont_frag: false,
        ecn: Default::default(),
    };
    (ip, dgram)
}

#[test]
fn fragmented_udp_datagram_is_reassembled_out_of_order() {
    use synack_tests::{frames, MAC_A, MAC_B};
    let mut p = Pair::new(7);
    let (srv, _) = bound(p.command(Side::B, Command::UdpBind { local: "0.0.0.0:9000".parse().unwrap() }));
    let data: Vec<u8> = (0..3000u32).map(|i| (i * 31 % 251) as u8).collect();
    let (ip, dgram) = udp_datagram_to_b(&data, 77);
    let mut frags = frames::fragments(MAC_A, MAC_B, &ip, &dgram, 1480);
    assert_eq!(frags.len(), 3);
    frags.reverse();
    let dup = frags[1].clone();
    frags.insert(1, dup);
    let mut outs = Vec::new();
    for f in &frags {
        outs.extend(p.b.handle(synack::Input::Frame(f), p.now));
    }
    assert_eq!(outs, [synack::Output::Event(srv, Event::Readable)]);
    assert_eq!(p.b.stats().fragments_received, 4);
    assert_eq!(p.b.stats().datagrams_reassembled, 1);
    let from = SocketAddr::from((IP_A, 1234));
    assert_eq!(p.command(Side::B, Command::UdpRecv { sock: srv }), Ok(Reply::Datagram { from, data }));
}

#[test]
fn incomplete_fragments_time_out_with_time_exceeded() {
    use synack::wire::{IpProtocol, Ipv4Repr};
    use synack_tests::{frames, MAC_A, MAC_B};
    let mut p = Pair::new(8);
    // B must know A's MAC to send the error; a ping teaches it.
    let (s, _) = bound(p.command(Side::A, Command::PingOpen { ident: None }));
    p.command(Side::A, Command::Ping { sock: s, dst: IP_B.into(), seq_no: 1, payload_len: 0 }).unwrap();
    p.run_until_idle();
    let before = p.log.len();
    let payload = vec![5u8; 2000];
    let ip = Ipv4Repr {
        src_addr: IP_A,
        dst_addr: IP_B,
        protocol: IpProtocol::Udp,
        payload_len: payload.len(),
        ttl: 64,
        ident: 9,
        dont_frag: false,
        ecn: Default::default(),
    };
    let frags = frames::fragments(MAC_A, MAC_B, &ip, &payload, 1000);
    let out = p.b.handle(synack::Input::Frame(&frags[0]), p.now);
    assert!(out.is_empty());
    let deadline = p.b.poll_timeout().unwrap();
    assert_eq!(deadline, p.now + Duration::from_secs(30));
    p.run_until_idle();
    assert_eq!(p.b.stats().drops(DropReason::ReassemblyTimeout), 1);
    let new: Vec<String> = p.lines()[before..].to_vec();
    // The payload bytes are all 5, so the quoted "ports" read 0x0505.
    assert_eq!(
        new,
        ["B>A 10.0.0.2 > 10.0.0.1 ICMP reassembly-time-exceeded for 10.0.0.1:1285 > 10.0.0.2:1285 UDP ttl=64"]
    );
    assert_eq!(p.b.stats().icmp_errors_sent, 1);
}

#[test]
fn checksums_the_device_vouched_for_are_not_verified_except_in_fragments() {
    use synack::wire::{checksum, IpProtocol, TcpFlags, TcpRepr, UdpRepr};
    use synack::{Layer, RxFrame};
    use synack_tests::{frames, MAC_A, MAC_B};
    // As Linux hands a local sender's packet to a virtio-net device: the checksum field holds only the
    // pseudo-header sum, the rest is left to whoever finishes it.
    fn leave_partial(frame: &mut [u8], field: usize, pseudo: u16) {
        frame[field..field + 2].copy_from_slice(&pseudo.to_be_bytes());
    }
    let mut p = Pair::new(8);
    let (srv, _) = bound(p.command(Side::B, Command::UdpBind { local: "0.0.0.0:9000".parse().unwrap() }));
    let udp = UdpRepr { src_port: 1234, dst_port: 9000, payload: b"unfinished" };
    let mut frame = frames::udp_frame(MAC_A, MAC_B, IP_A, IP_B, &udp);
    let pseudo = checksum::pseudo_header(&IP_A, &IP_B, IpProtocol::Udp, udp.buffer_len() as u16);
    leave_partial(&mut frame, 14 + 20 + 6, pseudo);
    let now = p.now;
    let mut out = Vec::new();
    p.b.handle_into(synack::Input::Frame(&frame), now, &mut out);
    assert!(out.is_empty());
    let bad = DropReason::Malformed(Layer::Udp, synack::wire::Error::BadChecksum);
    assert_eq!(p.b.stats().drops(bad), 1, "a plain frame's checksum is verified");
    p.b.handle_frames_into([RxFrame { bytes: &frame, checksum_offloaded: true }], now, &mut out);
    assert_eq!(out, [synack::Output::Event(srv, Event::Readable)]);
    assert_eq!(p.b.stats().transport_checksums_offloaded, 1);

    // TCP: a SYN with an unfinished checksum is answered when the device vouched for it.
    bound(p.command(Side::B, Command::TcpListen { local: "0.0.0.0:80".parse().unwrap(), backlog: 4 }));
    let syn = TcpRepr {
        src_port: 40000,
        dst_port: 80,
        seq_number: synack::tcp::seq::SeqNum(1),
        ack_number: synack::tcp::seq::SeqNum(0),
        flags: TcpFlags::SYN,
        window_len: 65535,
        urgent_ptr: 0,
        options: Default::default(),
        payload: &[],
    };
    let mut frame = frames::tcp_frame(MAC_A, MAC_B, IP_A, IP_B, &syn);
    let pseudo = checksum::pseudo_header(&IP_A, &IP_B, IpProtocol::Tcp, syn.buffer_len() as u16);
    leave_partial(&mut frame, 14 + 20 + 16, pseudo);
    out.clear();
    p.b.handle_frames_into([RxFrame { bytes: &frame, checksum_offloaded: true }], now, &mut out);
    assert!(matches!(out.as_slice(), [synack::Output::Transmit(_)]), "a SYN-ACK: {out:?}");
    assert_eq!(p.b.stats().transport_checksums_offloaded, 2);

    // A reassembled datagram is always verified: the flag speaks for one frame, not for a datagram made of many.
    let (ip, mut dgram) = udp_datagram_to_b(&[3u8; 2000], 5);
    dgram[6] ^= 0xff;
    let frags = frames::fragments(MAC_A, MAC_B, &ip, &dgram, 1480);
    out.clear();
    p.b.handle_frames_into(frags.iter().map(|f| RxFrame { bytes: f, checksum_offloaded: true }), now, &mut out);
    assert!(out.is_empty(), "{out:?}");
    assert_eq!(p.b.stats().drops(bad), 2);
    assert_eq!(p.b.stats().transport_checksums_offloaded, 2);
}

#[test]
fn with_transmit_checksum_offload_tcp_and_udp_leave_partial_checksums_a_device_finishes() {
    use synack::wire::{checksum, EthernetFrame, IpProtocol, Ipv4Packet, TcpPacket, UdpPacket};
    let a = synack::Config {
        mac: synack_tests::MAC_A,
        ipv4: "10.0.0.1/24".parse().unwrap(),
        tx_checksum_offload: true,
        ..synack::Config::default()
    };
    let b =
        synack::Config { mac: synack_tests::MAC_B, ipv4: "10.0.0.2/24".parse().unwrap(), ..synack::Config::default() };
    let mut p = Pair::with_configs(a, b);
    let (u, _) = bound(p.command(Side::A, Command::UdpBind { local: "0.0.0.0:0".parse().unwrap() }));
    p.command(Side::A, Command::UdpSendTo { sock: u, remote: SocketAddr::from((IP_B, 9)), data: vec![1; 333] })
        .unwrap();
    p.command(Side::A, Command::TcpConnect { remote: SocketAddr::from((IP_B, 80)), local_port: None }).unwrap();
    let (ping, _) = bound(p.command(Side::A, Command::PingOpen { ident: None }));
    p.command(Side::A, Command::Ping { sock: ping, dst: IP_B.into(), seq_no: 1, payload_len: 8 }).unwrap();
    p.run_until(p.now + Duration::from_millis(10));
    let mut seen = [0; 3];
    for l in p.log.iter().filter(|l| l.from == Side::A) {
        let eth = EthernetFrame::new_checked(&l.frame[..]).unwrap();
        let Ok(ip) = Ipv4Packet::new_checked(eth.payload()) else { continue }; // ARP
        let (src, dst, len) = (ip.src_addr(), ip.dst_addr(), ip.payload().len());
        let mut transport = ip.payload().to_vec();
        let field = match ip.protocol() {
            IpProtocol::Tcp => 16,
            IpProtocol::Udp => 6,
            _ => {
                // ICMP is always complete: a device only finishes TCP and UDP.
                assert_eq!(checksum::data(ip.payload()), 0xffff, "{}", l.line());
                seen[2] += 1;
                continue;
            }
        };
        let pseudo = checksum::pseudo_header(&src, &dst, ip.protocol(), len as u16);
        assert_eq!(transport[field..field + 2], pseudo.to_be_bytes(), "partial checksum in {}", l.line());
        // What the device does: the one's complement of the sum from the transport header on.
        let sum = !checksum::data(&transport);
        transport[field..field + 2].copy_from_slice(&sum.to_be_bytes());
        let ok = match ip.protocol() {
            IpProtocol::Tcp => TcpPacket::new_checked(&transport[..]).unwrap().verify_checksum(&src, &dst),
            _ => UdpPacket::new_checked(&transport[..]).unwrap().verify_checksum(&src, &dst),
        };
        assert!(ok, "finished checksum verifies: {}", l.line());
        seen[usize::from(ip.protocol() == IpProtocol::Udp)] += 1;
    }
    assert!(seen.iter().all(|&n| n > 0), "TCP, UDP and ICMP frames seen: {seen:?}");
}

/// `ping -s 1473`: the request arrives in two fragments and its reply, larger than the 1,500-byte MTU, leaves in
/// two fragments too (DF clear), as Linux answers; the pinger reassembles it and matches it.
#[test]
fn echo_request_whose_reply_exceeds_the_mtu_is_answered_in_fragments() {
    use synack::wire::{Icmpv4Packet, Icmpv4Repr, IpProtocol, Ipv4Repr};
    use synack_tests::{frames, MAC_A, MAC_B};
    let mut p = Pair::new(7);
    let echo = |len: usize| {
        let data = vec![0x5a; len];
        let req = Icmpv4Repr::EchoRequest { ident: 9, seq_no: 1, data: &data };
        let mut icmp = vec![0u8; req.buffer_len()];
        req.emit(&mut Icmpv4Packet::new_unchecked(&mut icmp[..]));
        let ip = Ipv4Repr {
            src_addr: IP_A,
            dst_addr: IP_B,
            protocol: IpProtocol::Icmp,
            payload_len: icmp.len(),
            ttl: 64,
            ident: len as u16,
            dont_frag: false,
            ecn: Default::default(),
        };
        frames::fragments(MAC_A, MAC_B, &ip, &icmp, 1480)
    };
    let frags = echo(1473);
    assert_eq!(frags.len(), 2);
    for f in &frags {
        let out = p.b.handle(synack::Input::Frame(f), p.now);
        p.absorb_all(Side::B, out);
    }
    p.run_until(p.now + Duration::from_millis(20));
    assert_eq!(p.b.stats().datagrams_reassembled, 1);
    assert_eq!(p.b.stats().icmp_echo_replies_sent, 1);
    assert_eq!(p.b.stats().datagrams_fragmented, 1);
    assert_eq!(p.b.stats().drops(DropReason::IcmpEchoReplyTooBig), 0);
    let replies: Vec<String> = p.lines().into_iter().filter(|l| l.starts_with("B>A") && !l.contains("ARP")).collect();
    assert_eq!(replies.len(), 2, "{replies:#?}");
    // A reassembled the reply: the ping socket it does not have drops it as unmatched, after reassembly.
    assert_eq!(p.a.stats().datagrams_reassembled, 1);
}

/// A UDP datagram larger than the MTU leaves in fragments and arrives whole; the largest datagram is the limit.
#[test]
fn udp_larger_than_the_mtu_is_sent_in_fragments_and_arrives_whole() {
    let mut p = Pair::new(8);
    let Ok(Reply::Bound { sock: srv, .. }) =
        p.command(Side::B, Command::UdpBind { local: "0.0.0.0:9".parse().unwrap() })
    else {
        panic!()
    };
    let Ok(Reply::Bound { sock: u, .. }) = p.command(Side::A, Command::UdpBind { local: "0.0.0.0:0".parse().unwrap() })
    else {
        panic!()
    };
    let data: Vec<u8> = (0..4000u32).map(|i| (i * 7) as u8).collect();
    p.command(Side::A, Command::UdpSendTo { sock: u, remote: SocketAddr::from((IP_B, 9)), data: data.clone() })
        .unwrap();
    p.run_until(p.now + Duration::from_millis(20));
    let Ok(Reply::Datagram { data: got, .. }) = p.command(Side::B, Command::UdpRecv { sock: srv }) else { panic!() };
    assert_eq!(got, data);
    let frags = p.lines().into_iter().filter(|l| l.starts_with("A>B") && !l.contains("ARP")).count();
    assert_eq!(frags, 3, "{:#?}", p.lines());
    let r =
        p.command(Side::A, Command::UdpSendTo { sock: u, remote: SocketAddr::from((IP_B, 9)), data: vec![0; 65_508] });
    assert_eq!(r, Err(CommandError::MessageTooLong { max: 65_507 }));
}
