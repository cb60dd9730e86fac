//! IPv6 between two stacks: duplicate address detection, neighbour discovery, ping, UDP, TCP (with loss and
//! reordering, resets, ICMPv6 errors), fragments, dual-stack listeners. The IPv6 twins of the IPv4 tests.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;
use synack::wire::pretty::frame_summary;
use synack::{
    AddressChange, Command, CommandError, Config, DropReason, Event, Instant, Ipv6Config, Reply, SocketHandle,
    UnreachableReason,
};
use synack_tests::tcp::{accept, pattern, sha256_hex, start_connect, transfer};
use synack_tests::{configs, Impairment, Pair, Side};

const GA: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
const GB: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);

fn v6(addr: Option<&str>) -> Ipv6Config {
    Ipv6Config { addresses: addr.map(|a| vec![a.parse().unwrap()]).unwrap_or_default(), ..Ipv6Config::default() }
}

/// Both sides dual-stack with 2001:db8::1/64 and ::2/64, run until duplicate address detection is over.
fn pair(seed: u64) -> Pair {
    let (mut a, mut b) = configs(seed);
    a.ipv6 = Some(v6(Some("2001:db8::1/64")));
    b.ipv6 = Some(v6(Some("2001:db8::2/64")));
    let mut p = Pair::with_configs(a, b);
    p.run_until(Instant::from_secs(3));
    p
}

fn link_local(c: &Config) -> Ipv6Addr {
    synack::wire::ipv6::link_local_from_mac(c.mac)
}

fn ping(p: &mut Pair, side: Side, dst: IpAddr, len: usize) -> Vec<Event> {
    let Ok(Reply::Bound { sock, .. }) = p.command(side, Command::PingOpen { ident: None }) else { panic!() };
    p.command(side, Command::Ping { sock, dst, seq_no: 1, payload_len: len }).expect("ping");
    p.run_until(p.now + Duration::from_secs(2));
    p.events_of(side).into_iter().filter(|(s, _)| *s == sock).map(|(_, e)| e).collect()
}

#[test]
fn addresses_pass_dad_and_are_announced() {
    let p = pair(1);
    let assigned: Vec<IpAddr> = p
        .events_of(Side::A)
        .into_iter()
        .filter_map(|(s, e)| match e {
            Event::Address { addr, change: AddressChange::Assigned } if s == SocketHandle::STACK => Some(addr),
            _ => None,
        })
        .collect();
    let ll = link_local(p.a.config());
    assert!(assigned.contains(&IpAddr::V6(ll)) && assigned.contains(&IpAddr::V6(GA)), "{assigned:?}");
    let lines = p.lines();
    // DAD probes from ::, router solicitations, unsolicited advertisements after DAD.
    assert!(lines.iter().any(|l| l.contains("NS") && l.contains(":: >")), "{lines:#?}");
    assert!(lines.iter().any(|l| l.contains("RS")), "{lines:#?}");
    assert!(lines.iter().any(|l| l.contains("NA")), "{lines:#?}");
    let addrs = p.a.ipv6_addresses();
    assert!(addrs.iter().all(|a| a.state == "preferred"), "{addrs:?}");
}

#[test]
fn ping6_global_and_link_local() {
    let mut p = pair(2);
    let ev = ping(&mut p, Side::A, IpAddr::V6(GB), 56);
    assert!(
        matches!(ev.as_slice(), [Event::EchoReply { from, len: 56, ttl: 64, .. }] if *from == IpAddr::V6(GB)),
        "{ev:?}"
    );
    let ll_b = link_local(p.b.config());
    let ev = ping(&mut p, Side::A, IpAddr::V6(ll_b), 1000);
    assert!(matches!(ev.as_slice(), [Event::EchoReply { from, len: 1000, .. }] if *from == IpAddr::V6(ll_b)), "{ev:?}");
    // Neighbour discovery ran once per address: a solicitation to the solicited-node group, an advertisement.
    let lines = p.lines();
    assert!(lines.iter().any(|l| l.contains("ff02::1:ff00:2")), "{lines:#?}");
    assert_eq!(p.b.stats().icmp_echo_replies_sent, 2);
}

#[test]
fn tcp_over_ipv6_moves_a_megabyte_and_both_addresses_are_ipv6() {
    let mut p = pair(3);
    let l = listen6(&mut p, Side::B, 80);
    let c = start_connect(&mut p, Side::A, SocketAddr::new(IpAddr::V6(GB), 80));
    p.run_until(p.now + Duration::from_millis(50));
    assert!(p.events_of(Side::A).contains(&(c, Event::Connected)), "{:#?}", p.lines());
    let Ok(Reply::Accepted { sock: s, local, remote }) = p.command(Side::B, Command::TcpAccept { listener: l }) else {
        panic!()
    };
    assert_eq!(local, SocketAddr::new(IpAddr::V6(GB), 80));
    assert_eq!(remote.ip(), IpAddr::V6(GA));
    let info = p.a.tcp_info(c).unwrap();
    assert_eq!(info.mss, 1500 - 40 - 20 - 12, "MSS for IPv6 headers, less the timestamp option");
    let data = pattern(1 << 20, 3);
    let t = transfer(&mut p, Side::A, c, s, &data, Duration::from_secs(30));
    assert!(t.eof);
    assert_eq!(sha256_hex(&t.received), sha256_hex(&data));
}

fn listen6(p: &mut Pair, side: Side, port: u16) -> SocketHandle {
    let local = SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port);
    match p.command(side, Command::TcpListen { local, backlog: 16 }) {
        Ok(Reply::Bound { sock, .. }) => sock,
        other => panic!("listen: {other:?}"),
    }
}

#[test]
fn tcp_over_ipv6_survives_loss_and_reordering() {
    for seed in 0..4 {
        let mut p = pair(10 + seed);
        let l = listen6(&mut p, Side::B, 80);
        let c = start_connect(&mut p, Side::A, SocketAddr::new(IpAddr::V6(GB), 80));
        p.run_until(p.now + Duration::from_millis(50));
        let s = accept(&mut p, l);
        let imp = Impairment { loss: 0.03, duplicate: 0.01, reorder: 0.05, reorder_delay: Duration::from_millis(3) };
        p.impair(Side::A, imp, seed);
        p.impair(Side::B, imp, seed + 100);
        let data = pattern(300_000, seed);
        let t = transfer(&mut p, Side::A, c, s, &data, Duration::from_secs(120));
        assert!(t.eof, "seed {seed}");
        assert_eq!(sha256_hex(&t.received), sha256_hex(&data), "seed {seed}");
    }
}

#[test]
fn closed_ports_answer_with_reset_and_port_unreachable() {
    let mut p = pair(4);
    let c = start_connect(&mut p, Side::A, SocketAddr::new(IpAddr::V6(GB), 9));
    p.run_until(p.now + Duration::from_millis(50));
    assert!(p.events_of(Side::A).contains(&(c, Event::Reset)), "{:#?}", p.lines());
    assert_eq!(p.b.stats().tcp_resets_sent, 1);
    let Ok(Reply::Bound { sock: u, .. }) =
        p.command(Side::A, Command::UdpBind { local: SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0) })
    else {
        panic!()
    };
    let remote = SocketAddr::new(IpAddr::V6(GB), 53);
    p.command(Side::A, Command::UdpSendTo { sock: u, remote, data: b"hello?".to_vec() }).unwrap();
    p.run_until(p.now + Duration::from_millis(50));
    let reason = UnreachableReason::Icmpv6DstUnreachable { code: 4 };
    assert!(
        p.events_of(Side::A).contains(&(
            u,
            Event::Unreachable { dst: IpAddr::V6(GB), port: Some(53), reason, reporter: Some(IpAddr::V6(GB)) }
        )),
        "{:#?}",
        p.lines()
    );
    assert_eq!(p.b.stats().drops(DropReason::UdpNoSocket), 1);
}

#[test]
fn udp_over_ipv6_echoes_and_a_zero_checksum_is_refused() {
    let mut p = pair(5);
    let any6 = SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 7);
    let Ok(Reply::Bound { sock: srv, .. }) = p.command(Side::B, Command::UdpBind { local: any6 }) else { panic!() };
    let Ok(Reply::Bound { sock: cli, local }) =
        p.command(Side::A, Command::UdpBind { local: SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0) })
    else {
        panic!()
    };
    p.command(
        Side::A,
        Command::UdpSendTo { sock: cli, remote: SocketAddr::new(IpAddr::V6(GB), 7), data: b"ping6".to_vec() },
    )
    .unwrap();
    p.run_until(p.now + Duration::from_millis(20));
    let Ok(Reply::Datagram { from, data }) = p.command(Side::B, Command::UdpRecv { sock: srv }) else { panic!() };
    assert_eq!((from.ip(), from.port(), data.as_slice()), (IpAddr::V6(GA), local.port(), &b"ping6"[..]));
    // An IPv4 datagram to the same port does not reach an IPv6-only socket.
    let Ok(Reply::Bound { sock: cli4, .. }) =
        p.command(Side::A, Command::UdpBind { local: SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0) })
    else {
        panic!()
    };
    let b4 = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 7);
    p.command(Side::A, Command::UdpSendTo { sock: cli4, remote: b4, data: b"v4".to_vec() }).unwrap();
    p.run_until(p.now + Duration::from_millis(20));
    assert_eq!(p.command(Side::B, Command::UdpRecv { sock: srv }), Err(CommandError::WouldBlock));
    // Dual stack on request: now it does, and names the plain IPv4 sender.
    p.command(Side::B, Command::SetIpv6Only { sock: srv, ipv6_only: false }).unwrap();
    p.command(Side::A, Command::UdpSendTo { sock: cli4, remote: b4, data: b"v4 again".to_vec() }).unwrap();
    p.run_until(p.now + Duration::from_millis(20));
    let Ok(Reply::Datagram { from, .. }) = p.command(Side::B, Command::UdpRecv { sock: srv }) else { panic!() };
    assert_eq!(from.ip(), IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)));
    // A UDP datagram over IPv6 with checksum 0 is malformed (RFC 8200 §8.1), where IPv4 allows it.
    let first =
        p.log.iter().find(|l| l.from == Side::A && frame_summary(&l.frame).contains("ping6")).map(|l| l.frame.clone());
    let mut frame = first.unwrap_or_else(|| {
        p.log
            .iter()
            .find(|l| l.from == Side::A && l.frame[12..14] == [0x86, 0xdd] && l.frame[20] == 17)
            .unwrap()
            .frame
            .clone()
    });
    assert_eq!((frame[12..14].to_vec(), frame[20]), (vec![0x86, 0xdd], 17), "an IPv6 UDP frame");
    frame[54 + 6..54 + 8].fill(0);
    let bad = DropReason::Malformed(synack::Layer::Udp, synack::wire::Error::BadChecksum);
    let before = p.b.stats().drops(bad);
    let _ = p.b.handle(synack::Input::Frame(&frame), p.now);
    assert_eq!(p.b.stats().drops(bad), before + 1);
}

#[test]
fn a_dual_stack_listener_takes_both_families() {
    let mut p = pair(6);
    let l = listen6(&mut p, Side::B, 80);
    // IPv6-only by default: an IPv4 SYN is reset.
    let c4 = start_connect(&mut p, Side::A, SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 80));
    p.run_until(p.now + Duration::from_millis(50));
    assert!(p.events_of(Side::A).contains(&(c4, Event::Reset)));
    p.command(Side::B, Command::SetIpv6Only { sock: l, ipv6_only: false }).unwrap();
    let c4 = start_connect(&mut p, Side::A, SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 80));
    let c6 = start_connect(&mut p, Side::A, SocketAddr::new(IpAddr::V6(GB), 80));
    p.run_until(p.now + Duration::from_millis(50));
    assert!(p.events_of(Side::A).contains(&(c4, Event::Connected)));
    assert!(p.events_of(Side::A).contains(&(c6, Event::Connected)));
    let mut remotes = Vec::new();
    while let Ok(Reply::Accepted { remote, .. }) = p.command(Side::B, Command::TcpAccept { listener: l }) {
        remotes.push(remote.ip());
    }
    remotes.sort();
    assert_eq!(remotes, vec![IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), IpAddr::V6(GA)]);
    // An IPv4 listener on the port now conflicts; without dual stack it would not.
    let r = p.command(
        Side::B,
        Command::TcpListen { local: SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 80), backlog: 1 },
    );
    assert_eq!(r, Err(CommandError::AddrInUse(80)));
}

#[test]
fn an_unanswered_neighbour_is_given_up_and_reported() {
    let mut p = pair(7);
    let ghost = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x99);
    let Ok(Reply::Bound { sock: u, .. }) =
        p.command(Side::A, Command::UdpBind { local: SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0) })
    else {
        panic!()
    };
    p.command(Side::A, Command::UdpSendTo { sock: u, remote: SocketAddr::new(IpAddr::V6(ghost), 53), data: vec![1] })
        .unwrap();
    p.run_until(p.now + Duration::from_secs(5));
    let ns = p.lines().iter().filter(|l| l.starts_with("A>B") && l.contains("NS") && l.contains("::99")).count();
    assert_eq!(ns, 3, "{:#?}", p.lines());
    let reason = UnreachableReason::NoNeighbour;
    let event = Event::Unreachable { dst: IpAddr::V6(ghost), port: Some(53), reason, reporter: None };
    assert!(p.events_of(Side::A).contains(&(u, event)));
    assert_eq!(p.a.stats().drops(DropReason::NdpUnresolved), 1);
}

#[test]
fn no_route_without_ipv6_and_off_link_without_a_router() {
    let mut p = Pair::new(8);
    let r = p.command(Side::A, Command::TcpConnect { remote: SocketAddr::new(IpAddr::V6(GB), 80), local_port: None });
    assert_eq!(r, Err(CommandError::NoRoute(IpAddr::V6(GB))));
    let mut p = pair(8);
    let far: Ipv6Addr = "2001:db8:1::5".parse().unwrap();
    let r = p.command(Side::A, Command::TcpConnect { remote: SocketAddr::new(IpAddr::V6(far), 80), local_port: None });
    assert_eq!(r, Err(CommandError::NoRoute(IpAddr::V6(far))));
    // A stack without IPv6 ignores IPv6 multicast (not its MAC), and drops IPv6 sent to its own MAC.
    let mut q = Pair::with_configs(p.a.config().clone(), configs(8).1);
    q.run_until(Instant::from_secs(3));
    assert!(q.b.stats().drops(DropReason::NotOurMac) > 0);
    let mut frame = q.log.iter().find(|l| l.from == Side::A).unwrap().frame.clone();
    assert_eq!(frame[12..14], [0x86, 0xdd]);
    frame[..6].copy_from_slice(&q.b.config().mac.0);
    let _ = q.b.handle(synack::Input::Frame(&frame), q.now);
    assert_eq!(q.b.stats().drops(DropReason::Ipv6Disabled), 1);
}

/// An IPv6 frame from B's MAC to A's with `payload` after a fixed header (`next_header`).
fn ipv6_frame(p: &Pair, to: Side, src: Ipv6Addr, dst: Ipv6Addr, next_header: u8, payload: &[u8]) -> Vec<u8> {
    use synack::wire::ipv6::{Ipv6Packet, Ipv6Repr};
    let (to_mac, from_mac) = match to {
        Side::A => (p.a.config().mac, p.b.config().mac),
        Side::B => (p.b.config().mac, p.a.config().mac),
    };
    let mut f = vec![0u8; 14 + 40 + payload.len()];
    f[..6].copy_from_slice(&to_mac.0);
    f[6..12].copy_from_slice(&from_mac.0);
    f[12..14].copy_from_slice(&[0x86, 0xdd]);
    let repr = Ipv6Repr {
        src_addr: src,
        dst_addr: dst,
        next_header: synack::wire::IpProtocol::from(next_header),
        payload_len: payload.len(),
        hop_limit: 64,
        dscp: 0,
        ecn: synack::wire::EcnCodepoint::NotEct,
        flow_label: 0,
    };
    repr.emit(&mut Ipv6Packet::new_unchecked(&mut f[14..]));
    f[54..].copy_from_slice(payload);
    f
}

#[test]
fn packet_too_big_shrinks_tcp_segments_and_the_transfer_completes() {
    use synack::wire::icmpv6::{Icmpv6Packet, Icmpv6Repr};
    let mut p = pair(9);
    let l = listen6(&mut p, Side::B, 80);
    let c = start_connect(&mut p, Side::A, SocketAddr::new(IpAddr::V6(GB), 80));
    p.run_until(p.now + Duration::from_millis(50));
    let s = accept(&mut p, l);
    let data = pattern(200_000, 9);
    p.command(Side::A, Command::TcpSend { sock: c, data: data[..50_000].to_vec() }).unwrap();
    // The first full-sized data segment A sent, quoted by a router that can carry only 1280 bytes.
    let seg =
        p.log.iter().find(|l| l.from == Side::A && l.frame.len() == 14 + 1500).expect("a full segment").frame.clone();
    let router = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0xfe);
    let original = &seg[14..14 + 1232];
    let ptb = Icmpv6Repr::PacketTooBig { mtu: 1280, original };
    let mut icmp = vec![0u8; ptb.buffer_len()];
    ptb.emit(&mut Icmpv6Packet::new_unchecked(&mut icmp[..]), &router, &GA);
    let frame = ipv6_frame(&p, Side::A, router, GA, 58, &icmp);
    let out = p.a.handle(synack::Input::Frame(&frame), p.now);
    p.absorb_all(Side::A, out);
    assert_eq!(p.a.tcp_info(c).unwrap().mss, 1280 - 40 - 20 - 12);
    let t = transfer(&mut p, Side::A, c, s, &data[50_000..], Duration::from_secs(30));
    assert!(t.eof);
    assert_eq!(sha256_hex(&t.received), sha256_hex(&data));
    let later = p.log.iter().rev().filter(|l| l.from == Side::A).take(20).map(|l| l.frame.len()).max().unwrap();
    assert!(later <= 14 + 1280, "segments after Packet Too Big fit 1280 bytes: {later}");
}

/// The fragments of a UDP datagram from A to B, cut at `cuts` (byte offsets into the UDP datagram).
fn udp_fragments(p: &Pair, payload: &[u8], cuts: &[(usize, usize, bool)], ident: u32) -> Vec<Vec<u8>> {
    use synack::wire::udp::{UdpPacket, UdpRepr};
    let repr = UdpRepr { src_port: 4000, dst_port: 7, payload };
    let mut udp = vec![0u8; repr.buffer_len()];
    repr.emit(&mut UdpPacket::new_unchecked(&mut udp[..]), &GA, &GB);
    cuts.iter()
        .map(|&(from, to, more)| {
            let mut body = vec![17u8, 0];
            body.extend_from_slice(&((from as u16) | u16::from(more)).to_be_bytes());
            body.extend_from_slice(&ident.to_be_bytes());
            body.extend_from_slice(&udp[from..to.min(udp.len())]);
            ipv6_frame(p, Side::B, GA, GB, 44, &body)
        })
        .collect()
}

#[test]
fn fragments_are_reassembled_overlaps_dropped_and_atomic_fragments_accepted() {
    let mut p = pair(11);
    let any6 = SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 7);
    let Ok(Reply::Bound { sock: srv, .. }) = p.command(Side::B, Command::UdpBind { local: any6 }) else { panic!() };
    let payload = pattern(3000, 11);
    let frames = udp_fragments(&p, &payload, &[(1448, 3008, false), (0, 1448, true)], 1);
    for f in &frames {
        let _ = p.b.handle(synack::Input::Frame(f), p.now);
    }
    let Ok(Reply::Datagram { from, data }) = p.command(Side::B, Command::UdpRecv { sock: srv }) else { panic!() };
    assert_eq!((from.ip(), data), (IpAddr::V6(GA), payload.clone()));
    assert_eq!(p.b.stats().datagrams_reassembled, 1);
    // RFC 5722: an overlap, even with equal bytes, drops the datagram.
    let frames = udp_fragments(&p, &payload, &[(0, 1448, true), (1440, 3008, false)], 2);
    for f in &frames {
        let _ = p.b.handle(synack::Input::Frame(f), p.now);
    }
    assert_eq!(p.command(Side::B, Command::UdpRecv { sock: srv }), Err(CommandError::WouldBlock));
    assert_eq!(p.b.stats().drops(DropReason::FragmentOverlap), 1);
    // An exact duplicate is ignored, and the datagram completes.
    let frames = udp_fragments(&p, &payload, &[(0, 1448, true), (0, 1448, true), (1448, 3008, false)], 3);
    for f in &frames {
        let _ = p.b.handle(synack::Input::Frame(f), p.now);
    }
    assert!(matches!(p.command(Side::B, Command::UdpRecv { sock: srv }), Ok(Reply::Datagram { .. })));
    // An atomic fragment (offset 0, no more fragments) is delivered as it is (RFC 6946).
    let small = pattern(100, 12);
    let frames = udp_fragments(&p, &small, &[(0, 108, false)], 4);
    let _ = p.b.handle(synack::Input::Frame(&frames[0]), p.now);
    let Ok(Reply::Datagram { data, .. }) = p.command(Side::B, Command::UdpRecv { sock: srv }) else { panic!() };
    assert_eq!(data, small);
    // A lone first fragment times out: ICMPv6 time exceeded (reassembly) goes back to the sender.
    let frames = udp_fragments(&p, &payload, &[(0, 1448, true)], 5);
    let out = p.b.handle(synack::Input::Frame(&frames[0]), p.now);
    p.absorb_all(Side::B, out);
    p.run_until(p.now + Duration::from_secs(61));
    assert!(p.lines().iter().any(|l| l.starts_with("B>A") && l.contains("time-exceeded")), "{:#?}", p.lines());
}

#[test]
fn unknown_options_and_headers_are_answered_as_rfc_8200_says() {
    let mut p = pair(12);
    // A destination options header with an unknown option of type 0x80 (action 10: discard and answer with a
    // parameter problem, code 2, pointing at the option type), then UDP.
    let mut body = vec![17u8, 0, 0x80, 4, 0, 0, 0, 0];
    body.extend_from_slice(&[0, 1, 0, 7, 0, 8, 0, 0]);
    let f = ipv6_frame(&p, Side::B, GA, GB, 60, &body);
    let out = p.b.handle(synack::Input::Frame(&f), p.now);
    p.absorb_all(Side::B, out);
    // An unknown next header (253): parameter problem code 1, pointing at the next header field.
    let f = ipv6_frame(&p, Side::B, GA, GB, 253, &[0; 8]);
    let out = p.b.handle(synack::Input::Frame(&f), p.now);
    p.absorb_all(Side::B, out);
    // Action 01: dropped silently.
    let mut body = vec![17u8, 0, 0x40, 4, 0, 0, 0, 0];
    body.extend_from_slice(&[0, 1, 0, 7, 0, 8, 0, 0]);
    let f = ipv6_frame(&p, Side::B, GA, GB, 60, &body);
    let _ = p.b.handle(synack::Input::Frame(&f), p.now);
    p.run_until(p.now + Duration::from_millis(10));
    let problems: Vec<String> = p.lines().into_iter().filter(|l| l.starts_with("B>A") && l.contains("param")).collect();
    assert_eq!(problems.len(), 2, "{:#?}", p.lines());
    assert_eq!(p.b.stats().drops(DropReason::Ipv6OptionDiscarded), 1);
    assert_eq!(p.b.stats().drops(DropReason::Ipv6ParameterProblem), 2);
}

#[test]
fn datagrams_larger_than_the_path_leave_in_fragments() {
    let mut p = pair(13);
    let any6 = SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 9);
    let Ok(Reply::Bound { sock: srv, .. }) = p.command(Side::B, Command::UdpBind { local: any6 }) else { panic!() };
    let Ok(Reply::Bound { sock: u, .. }) =
        p.command(Side::A, Command::UdpBind { local: SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0) })
    else {
        panic!()
    };
    let data = pattern(4000, 13);
    p.command(Side::A, Command::UdpSendTo { sock: u, remote: SocketAddr::new(IpAddr::V6(GB), 9), data: data.clone() })
        .unwrap();
    p.run_until(p.now + Duration::from_millis(50));
    let Ok(Reply::Datagram { data: got, .. }) = p.command(Side::B, Command::UdpRecv { sock: srv }) else { panic!() };
    assert_eq!(got, data);
    assert_eq!((p.a.stats().datagrams_fragmented, p.b.stats().datagrams_reassembled), (1, 1));
    let frags = p.lines().into_iter().filter(|l| l.starts_with("A>B") && l.contains("fragment")).count();
    assert_eq!(frags, 3, "{:#?}", p.lines());
    // ping6 with 3000 bytes: the request and the reply both travel in fragments.
    let ev = ping(&mut p, Side::A, IpAddr::V6(GB), 3000);
    assert!(matches!(ev.as_slice(), [Event::EchoReply { len: 3000, .. }]), "{ev:?}");
    assert_eq!(p.b.stats().datagrams_fragmented, 1);
    // TCP never fragments; the largest datagram is the limit.
    let r = p.command(
        Side::A,
        Command::UdpSendTo { sock: u, remote: SocketAddr::new(IpAddr::V6(GB), 9), data: vec![0; 65_520] },
    );
    assert_eq!(r, Err(CommandError::MessageTooLong { max: 65_519 }));
}

/// An ICMPv6 error from a router about A's first SYN to `dst`, quoting it.
fn icmpv6_error_about_syn(p: &Pair, dst: Ipv6Addr, kind: u8, code: u8) -> Vec<u8> {
    let syn = p
        .log
        .iter()
        .rev()
        .find(|l| l.from == Side::A && frame_summary(&l.frame).contains("[S]") && l.frame[38..54] == dst.octets())
        .expect("a SYN to quote")
        .frame
        .clone();
    let router = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0xfe);
    let original = &syn[14..];
    let mut icmp = vec![kind, code, 0, 0, 0, 0, 0, 0];
    icmp.extend_from_slice(original);
    let sum = synack::wire::checksum::combine(&[
        synack::wire::checksum::pseudo_header_v6(&router, &GA, synack::wire::IpProtocol::from(58), icmp.len() as u32),
        synack::wire::checksum::data(&icmp),
    ]);
    icmp[2..4].copy_from_slice(&(!sum).to_be_bytes());
    ipv6_frame(p, Side::A, router, GA, 58, &icmp)
}

#[test]
fn icmpv6_errors_abort_an_opening_connection_when_hard_and_are_remembered_when_soft() {
    // Port unreachable (code 4) is hard: the connect ends at once with it.
    let mut p = pair(14);
    // The SYN is lost on the link (a router refuses it), so only the ICMPv6 error answers.
    p.drop_next_where(Side::A, 1, |f| f[12..14] == [0x86, 0xdd] && f[20] == 6 && f[54 + 13] & 0x02 != 0);
    let c = start_connect(&mut p, Side::A, SocketAddr::new(IpAddr::V6(GB), 5555));
    p.run_until(p.now + Duration::from_millis(10));
    let f = icmpv6_error_about_syn(&p, GB, 1, 4);
    let out = p.a.handle(synack::Input::Frame(&f), p.now);
    p.absorb_all(Side::A, out);
    let reason = UnreachableReason::Icmpv6DstUnreachable { code: 4 };
    // The router that refused the SYN is named, not the destination.
    let router = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0xfe));
    let event = Event::Unreachable { dst: IpAddr::V6(GB), port: Some(5555), reason, reporter: Some(router) };
    assert!(p.events_of(Side::A).contains(&(c, event)));
    // Address unreachable (code 3) is soft: retransmissions go on, and the timeout names it.
    let far = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x77);
    let mut p = pair(15);
    let c = start_connect(&mut p, Side::A, SocketAddr::new(IpAddr::V6(far), 80));
    // Let neighbour discovery fail: the connection keeps trying; then a router says address unreachable.
    p.run_until(p.now + Duration::from_millis(10));
    let out = p.a.handle(synack::Input::Frame(&icmpv6_error_about_syn_or_skip(&p, far)), p.now);
    p.absorb_all(Side::A, out);
    assert!(!p.events_of(Side::A).iter().any(|(s, _)| *s == c), "a soft error must not end the connect");
    p.run_until(p.now + Duration::from_secs(200));
    let ended: Vec<Event> = p.events_of(Side::A).into_iter().filter(|(s, _)| *s == c).map(|(_, e)| e).collect();
    assert!(matches!(ended.as_slice(), [Event::TimedOut { soft_error: Some(_) }]), "{ended:?}");
}

/// The SYN to `far` may still wait for neighbour discovery (no frame to quote yet): quote a SYN built here.
fn icmpv6_error_about_syn_or_skip(p: &Pair, far: Ipv6Addr) -> Vec<u8> {
    let router = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0xfe);
    let info = p.a.tcp_info(p.a.tcp_connections()[0]).unwrap();
    let mut tcp = vec![0u8; 20];
    tcp[..2].copy_from_slice(&info.local.port().to_be_bytes());
    tcp[2..4].copy_from_slice(&80u16.to_be_bytes());
    tcp[4..8].copy_from_slice(&info.snd_una.0.to_be_bytes());
    tcp[12] = 5 << 4;
    tcp[13] = 0x02;
    let mut original = vec![0x60, 0, 0, 0, 0, 20, 6, 64];
    original.extend_from_slice(&GA.octets());
    original.extend_from_slice(&far.octets());
    original.extend_from_slice(&tcp);
    let mut icmp = vec![1, 3, 0, 0, 0, 0, 0, 0];
    icmp.extend_from_slice(&original);
    let sum = synack::wire::checksum::combine(&[
        synack::wire::checksum::pseudo_header_v6(&router, &GA, synack::wire::IpProtocol::from(58), icmp.len() as u32),
        synack::wire::checksum::data(&icmp),
    ]);
    icmp[2..4].copy_from_slice(&(!sum).to_be_bytes());
    ipv6_frame(p, Side::A, router, GA, 58, &icmp)
}
