//! Hostile input, as properties: the stack never panics, counts every frame it does not use under exactly one
//! `DropReason`, answers every command with exactly one reply (first), every frame it emits is valid (checked
//! with etherparse), and the same seed gives the same outputs. The harness lives in `common/malformed.rs`;
//! named cases are in `malformed_cases.rs`.

mod common;

use common::malformed::*;
use common::malformed6::*;
use common::tcp::*;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use core::time::Duration;
use proptest::prelude::*;
use synack::wire::EthernetAddress;
use synack::{Command, SocketHandle};

// ---- Property: arbitrary bytes ----------------------------------------------------------------------------

/// Random frames, some shaped to get past the Ethernet and IPv4 checks so the deeper parsers see garbage too.
fn arbitrary_frame() -> impl Strategy<Value = Vec<u8>> {
    let dst =
        prop_oneof![Just(STACK_MAC), Just(EthernetAddress::BROADCAST), any::<[u8; 6]>().prop_map(EthernetAddress)];
    prop_oneof![
        // Pure noise, any length (mostly "not our MAC" or truncated).
        prop::collection::vec(any::<u8>(), 0..1600),
        // Aimed at us with a known EtherType, random body.
        (prop::collection::vec(any::<u8>(), 14..1600), dst.clone(), prop_oneof![Just(0x0800u16), Just(0x0806)])
            .prop_map(|(mut b, dst, et)| {
                b[..6].copy_from_slice(&dst.0);
                b[12..14].copy_from_slice(&et.to_be_bytes());
                b
            }),
        // A valid-looking IPv4 header to us (checksum right, lengths plausible), random transport.
        (
            prop::collection::vec(any::<u8>(), 34..1600),
            dst,
            prop_oneof![Just(1u8), Just(6), Just(17), any::<u8>()],
            1u8..=254,
            any::<bool>(),
            prop_oneof![
                6 => Just(STACK_IP),
                1 => Just(Ipv4Addr::new(10, 0, 0, 255)),
                1 => Just(Ipv4Addr::BROADCAST),
                1 => any::<[u8; 4]>().prop_map(Ipv4Addr::from),
            ],
        )
            .prop_map(|(mut b, dst, protocol, src_host, fix_len, dst_ip)| {
                b[..6].copy_from_slice(&dst.0);
                b[6..12].copy_from_slice(&mac_for(Ipv4Addr::new(10, 0, 0, src_host)).0);
                b[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
                b[14] = 0x45;
                if fix_len {
                    let total = (b.len() - ETH_LEN) as u16;
                    b[16..18].copy_from_slice(&total.to_be_bytes());
                    b[20..22].fill(0); // not a fragment
                }
                b[23] = protocol;
                b[26..30].copy_from_slice(&[10, 0, 0, src_host]);
                b[30..34].copy_from_slice(&dst_ip.octets());
                refresh_ipv4_checksum(&mut b);
                b
            }),
    ]
}

/// Random bytes behind a plausible IPv6 header to a dual-stack stack: to one of its addresses or groups (or
/// not), from a neighbour or any address, with any next header and a payload length that fits or not.
fn arbitrary_ipv6_frame() -> impl Strategy<Value = Vec<u8>> {
    let dst = prop_oneof![
        6 => Just(STACK_IP6),
        2 => Just(stack_ll()),
        1 => Just(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1)),
        1 => Just(solicited_node(STACK_IP6)),
        1 => any::<[u8; 16]>().prop_map(Ipv6Addr::from),
    ];
    let src = prop_oneof![
        6 => (1u16..128).prop_map(|h| Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, h)),
        2 => (1u16..128).prop_map(|h| Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, h)),
        1 => Just(Ipv6Addr::UNSPECIFIED),
        1 => any::<[u8; 16]>().prop_map(Ipv6Addr::from),
    ];
    let next = prop_oneof![Just(0u8), Just(6), Just(17), Just(43), Just(44), Just(58), Just(59), Just(60), any::<u8>()];
    (prop::collection::vec(any::<u8>(), 0..1500), src, dst, next, any::<u8>(), any::<bool>()).prop_map(
        |(body, src, dst, next, hop_limit, fix_len)| {
            let mut frame = Ip6 { dst, hop_limit, ..Ip6::new(src, next) }.frame(&body);
            if !fix_len {
                let claimed = (body.len() as u16).wrapping_add(hop_limit.into());
                frame[ETH_LEN + 4..ETH_LEN + 6].copy_from_slice(&claimed.to_be_bytes());
            }
            frame
        },
    )
}

proptest! {
    #[test]
    fn arbitrary_ipv6_bytes_never_panic_and_are_always_counted(
        frames in prop::collection::vec(prop_oneof![3 => arbitrary_ipv6_frame(), 1 => arbitrary_frame()], 1..16),
        seed in any::<u64>(),
    ) {
        let mut h = Harness::dual(seed);
        for f in &frames {
            h.frame(f);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_are_always_counted(
        frames in prop::collection::vec(arbitrary_frame(), 1..16),
        seed in any::<u64>(),
    ) {
        let mut h = Harness::primed(seed);
        for f in &frames {
            h.frame(f);
        }
    }
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        Just(Kind::ArpRequest),
        (0usize..1500).prop_map(|len| Kind::Echo { len }),
        (0usize..1500).prop_map(|len| Kind::UdpBound { len }),
        (0usize..1500).prop_map(|len| Kind::UdpClosed { len }),
        (any::<u32>(), prop_oneof![Just(80u16), 1u16..]).prop_map(|(seq, port)| Kind::TcpSyn { seq, port }),
        prop_oneof![Just(2u8), Just(47), Just(132), any::<u8>()]
            .prop_map(|protocol| Kind::UnknownProtocol { protocol }),
        (
            prop_oneof![Just(Fragmented::UdpBound), Just(Fragmented::UdpClosed), Just(Fragmented::Echo)],
            0usize..3000,
            1usize..100,
            any::<bool>(),
            any::<u16>()
        )
            .prop_map(|(what, len, units, reverse, ident)| Kind::Fragments {
                what,
                len,
                units,
                reverse,
                ident
            }),
        (prop_oneof![Just(0x77u16), any::<u16>()], 0u16..4, 0usize..100)
            .prop_map(|(ident, seq, len)| Kind::EchoReply { ident, seq, len }),
        (prop_oneof![Just(3u8), Just(11)], 0u8..16, port(), 0usize..60)
            .prop_map(|(ty, code, src_port, quote_len)| Kind::IcmpError { ty, code, src_port, quote_len }),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let positions = || prop::collection::vec((any::<usize>(), any::<u8>()), 1..8);
    prop_oneof![
        2 => Just(Mutation::None),
        2 => positions().prop_map(Mutation::FlipBits),
        1 => any::<usize>().prop_map(Mutation::Truncate),
        2 => positions().prop_map(Mutation::Overwrite),
        1 => (0u8..16, any::<bool>()).prop_map(|(ihl, fix)| Mutation::SetIhl(ihl, fix)),
        1 => (prop_oneof![0u16..64, any::<u16>()], any::<bool>()).prop_map(|(len, fix)| Mutation::SetTotalLen(len, fix)),
        1 => (0u8..16).prop_map(Mutation::SetDataOffset),
        1 => prop_oneof![0u16..16, any::<u16>()].prop_map(Mutation::SetUdpLen),
    ]
}

fn socket() -> impl Strategy<Value = SocketHandle> {
    prop_oneof![4 => 1u32..6, 1 => 0u32..16].prop_map(SocketHandle)
}

fn port() -> impl Strategy<Value = u16> {
    prop_oneof![Just(0u16), Just(BOUND_PORT), Just(9), Just(53), any::<u16>()]
}

/// Destinations: answering and silent neighbours, broadcasts, ourselves, and addresses that are refused.
fn destination() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        12 => destination4().prop_map(IpAddr::V4),
        1 => Just(IpAddr::V6(Ipv6Addr::UNSPECIFIED)),
        1 => Just(IpAddr::V6(Ipv6Addr::LOCALHOST)),
        1 => Just(IpAddr::V6("fe80::1".parse().unwrap())),
        1 => Just(IpAddr::V6("2001:db8::1".parse().unwrap())),
        1 => Just(IpAddr::V6("ff02::1".parse().unwrap())),
        1 => Just(IpAddr::V6(PEER_IP.to_ipv6_mapped())),
    ]
}

fn destination4() -> impl Strategy<Value = Ipv4Addr> {
    prop_oneof![
        4 => Just(PEER_IP),
        2 => any::<u8>().prop_map(|h| Ipv4Addr::new(10, 0, 0, h)),
        1 => Just(Ipv4Addr::new(10, 0, 0, 255)),
        1 => Just(Ipv4Addr::BROADCAST),
        1 => Just(Ipv4Addr::UNSPECIFIED),
        1 => Just(Ipv4Addr::new(224, 0, 0, 1)),
        1 => Just(Ipv4Addr::new(127, 0, 0, 1)),
        1 => Just(STACK_IP),
        1 => Just(Ipv4Addr::new(192, 168, 1, 1)),
    ]
}

fn size() -> impl Strategy<Value = usize> {
    prop_oneof![4 => 0usize..100, 2 => 1400usize..1600, 1 => Just(1472usize), 1 => Just(1473usize), 1 => Just(70_000usize)]
}

fn command() -> impl Strategy<Value = Command> {
    let bind_ip = prop_oneof![
        Just(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        Just(IpAddr::V4(STACK_IP)),
        Just(IpAddr::V4(PEER_IP)),
        Just(IpAddr::V6(Ipv6Addr::UNSPECIFIED)),
        Just(IpAddr::V6("fe80::1".parse().unwrap())),
    ];
    prop_oneof![
        (bind_ip, port()).prop_map(|(ip, port)| Command::UdpBind { local: SocketAddr::from((ip, port)) }),
        (socket(), destination(), port(), size()).prop_map(|(sock, ip, port, len)| Command::UdpSendTo {
            sock,
            remote: SocketAddr::from((ip, port)),
            data: pattern(len),
        }),
        socket().prop_map(|sock| Command::UdpRecv { sock }),
        socket().prop_map(|sock| Command::UdpClose { sock }),
        prop::option::of(prop_oneof![Just(0x77u16), any::<u16>()]).prop_map(|ident| Command::PingOpen { ident }),
        (socket(), destination(), 0u16..4, prop_oneof![4 => size(), 1 => Just(usize::MAX)])
            .prop_map(|(sock, dst, seq_no, payload_len)| Command::Ping { sock, dst, seq_no, payload_len }),
        socket().prop_map(|sock| Command::PingClose { sock }),
        (socket(), any::<bool>()).prop_map(|(sock, ipv6_only)| Command::SetIpv6Only { sock, ipv6_only }),
    ]
}

/// TCP commands, with handles that mostly hit the listener (#2) and the two connections (#3, #4).
fn tcp_command() -> impl Strategy<Value = Command> {
    let local_ip = prop_oneof![
        3 => Just(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        1 => Just(IpAddr::V4(STACK_IP)),
        1 => Just(IpAddr::V4(PEER_IP)),
        1 => Just(IpAddr::V6(Ipv6Addr::UNSPECIFIED)),
    ];
    let local_port = prop_oneof![Just(80u16), Just(0), Just(8080), any::<u16>()];
    let remote_port = prop_oneof![Just(PEER_PORT), Just(0), any::<u16>()];
    prop_oneof![
        1 => (local_ip, local_port, prop_oneof![Just(0usize), 1usize..8, Just(usize::MAX)])
            .prop_map(|(ip, port, backlog)| Command::TcpListen { local: SocketAddr::from((ip, port)), backlog }),
        1 => socket().prop_map(|listener| Command::TcpAccept { listener }),
        1 => (destination(), remote_port, prop::option::of(prop_oneof![Just(0u16), Just(80), any::<u16>()])).prop_map(
            |(ip, port, local_port)| Command::TcpConnect { remote: SocketAddr::from((ip, port)), local_port }
        ),
        3 => (socket(), prop_oneof![size(), 200_000usize..300_000]).prop_map(|(sock, len)| Command::TcpSend { sock, data: pattern(len) }),
        3 => (socket(), prop_oneof![Just(0usize), 1usize..2000, Just(usize::MAX)]).prop_map(|(sock, max)| Command::TcpRecv { sock, max }),
        1 => socket().prop_map(|sock| Command::TcpShutdown { sock }),
        1 => socket().prop_map(|sock| Command::TcpClose { sock }),
        1 => socket().prop_map(|sock| Command::TcpAbort { sock }),
        1 => (socket(), any::<bool>()).prop_map(|(sock, nodelay)| Command::TcpSetNoDelay { sock, nodelay }),
        1 => (socket(), any::<bool>()).prop_map(|(sock, ipv6_only)| Command::SetIpv6Only { sock, ipv6_only }),
    ]
}

fn kind6() -> impl Strategy<Value = Kind6> {
    let option = prop_oneof![Just(0x1eu8), Just(0x5e), Just(0x9e), Just(0xde), Just(5), any::<u8>()];
    prop_oneof![
        ((0usize..1400), any::<bool>()).prop_map(|(len, to_group)| Kind6::Echo { len, to_group }),
        (0usize..1400).prop_map(|len| Kind6::UdpBound { len }),
        (0usize..1400).prop_map(|len| Kind6::UdpClosed { len }),
        (any::<u32>(), prop_oneof![Just(80u16), 1u16..]).prop_map(|(seq, port)| Kind6::TcpSyn { seq, port }),
        prop_oneof![Just(0u8), Just(43), Just(132), any::<u8>()]
            .prop_map(|next_header| Kind6::UnknownNextHeader { next_header }),
        prop::collection::vec(prop::collection::vec(option, 0..3), 0..11)
            .prop_map(|headers| Kind6::Options { headers }),
        (any::<bool>(), 0usize..3000, 1usize..100, any::<bool>(), any::<u32>())
            .prop_map(|(echo, len, units, reverse, ident)| Kind6::Fragments { echo, len, units, reverse, ident }),
        any::<bool>().prop_map(|target_ours| Kind6::NeighborSolicit { target_ours }),
        (any::<bool>(), any::<bool>()).prop_map(|(solicited, to_group)| Kind6::NeighborAdvert { solicited, to_group }),
        any::<bool>().prop_map(|link_local| Kind6::RouterAdvert { link_local }),
        (1u8..5, 0u8..8, port(), 0usize..80).prop_map(|(ty, code, src_port, quote_len)| Kind6::Error {
            ty,
            code,
            src_port,
            quote_len
        }),
    ]
}

/// What a dual-stack run does: IPv6 and IPv4 frames (mutated), timers, and commands of both families.
#[derive(Clone, Debug)]
enum Action6 {
    Frame6 { kind: Kind6, mutation: Mutation, victim: usize, src: Ipv6Addr },
    Frame4 { kind: Kind, mutation: Mutation, victim: usize },
    Timer(Duration),
    NextDeadline,
    Command(Command),
}

/// IPv6 destinations the stack can reach on a dual-stack link (and some it cannot).
fn destination6() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        4 => Just(IpAddr::V6(PEER_IP6)),
        2 => (0u16..256).prop_map(|h| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, h))),
        2 => Just(IpAddr::V6(PEER_LL)),
        1 => Just(IpAddr::V6(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1))),
        1 => Just(IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb9, 0, 0, 0, 0, 0, 1))),
        1 => Just(IpAddr::V6(STACK_IP6)),
        2 => destination(),
    ]
}

fn command6() -> impl Strategy<Value = Command> {
    prop_oneof![
        1 => (socket(), destination6(), port(), size()).prop_map(|(sock, ip, port, len)| Command::UdpSendTo {
            sock,
            remote: SocketAddr::from((ip, port)),
            data: pattern(len),
        }),
        1 => (socket(), destination6(), 0u16..4, size())
            .prop_map(|(sock, dst, seq_no, payload_len)| Command::Ping { sock, dst, seq_no, payload_len }),
        1 => (destination6(), prop_oneof![Just(80u16), any::<u16>()])
            .prop_map(|(ip, port)| Command::TcpConnect { remote: SocketAddr::from((ip, port)), local_port: None }),
        2 => command(),
        2 => tcp_command(),
    ]
}

fn action6() -> impl Strategy<Value = Action6> {
    let src = prop_oneof![
        4 => Just(PEER_IP6),
        1 => Just(PEER_LL),
        1 => (0u16..256).prop_map(|h| Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, h)),
    ];
    let mutation = prop_oneof![3 => Just(Mutation::None), 2 => mutation()];
    prop_oneof![
        6 => (kind6(), mutation.clone(), any::<usize>(), src)
            .prop_map(|(kind, mutation, victim, src)| Action6::Frame6 { kind, mutation, victim, src }),
        2 => (kind(), mutation, any::<usize>()).prop_map(|(kind, mutation, victim)| Action6::Frame4 { kind, mutation, victim }),
        1 => (0u64..40_000).prop_map(|ms| Action6::Timer(Duration::from_millis(ms))),
        1 => Just(Action6::NextDeadline),
        3 => command6().prop_map(Action6::Command),
    ]
}

fn run6(h: &mut Harness, actions: &[Action6]) {
    for action in actions {
        match action {
            Action6::Frame6 { kind, mutation, victim, src } => {
                let mut frames = kind.frames(*src);
                let n = frames.len();
                mutation.apply(&mut frames[victim % n]);
                for f in &frames {
                    h.frame(f);
                }
            }
            Action6::Frame4 { kind, mutation, victim } => {
                let mut frames = kind.frames(PEER_IP);
                let n = frames.len();
                mutation.apply(&mut frames[victim % n]);
                for f in &frames {
                    h.frame(f);
                }
            }
            Action6::Timer(advance) => {
                h.timer(*advance);
            }
            Action6::NextDeadline => {
                let advance = h.stack.poll_timeout().map_or(Duration::ZERO, |at| at - h.now);
                h.timer(advance);
            }
            Action6::Command(cmd) => {
                h.command(cmd.clone());
            }
        }
    }
    for _ in 0..64 {
        match h.stack.poll_timeout() {
            Some(at) => {
                let advance = at - h.now;
                h.timer(advance);
            }
            None => break,
        }
    }
}

proptest! {
    #[test]
    fn dual_stack_mutated_frames_timers_and_commands_never_panic(
        actions in prop::collection::vec(action6(), 1..40),
        seed in any::<u64>(),
    ) {
        let mut h = Harness::dual(seed);
        run6(&mut h, &actions);
    }

    #[test]
    fn dual_stack_same_seed_same_outputs(
        actions in prop::collection::vec(action6(), 1..40),
        seed in any::<u64>(),
    ) {
        let mut a = Harness::dual(seed);
        let mut b = Harness::dual(seed);
        run6(&mut a, &actions);
        run6(&mut b, &actions);
        prop_assert_eq!(&a.log, &b.log);
        prop_assert_eq!(a.stats(), b.stats());
    }
}

#[derive(Clone, Debug)]
enum Action {
    /// A TCP segment to the listener or a live connection, then mutated.
    Tcp(TcpSeg, Mutation),
    /// The peer acknowledges everything sent so far.
    AckAll,
    Frame {
        kind: Kind,
        mutation: Mutation,
        victim: usize,
        src_host: u8,
    },
    Timer(Duration),
    /// Jump straight to the stack's next deadline and fire it.
    NextDeadline,
    Command(Command),
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        6 => (kind(), mutation(), any::<usize>(), prop_oneof![4 => Just(1u8), 1 => any::<u8>()])
            .prop_map(|(kind, mutation, victim, src_host)| Action::Frame { kind, mutation, victim, src_host }),
        1 => (0u64..40_000).prop_map(|ms| Action::Timer(Duration::from_millis(ms))),
        1 => Just(Action::NextDeadline),
        2 => command().prop_map(Action::Command),
        5 => (tcp_seg(), prop_oneof![4 => Just(Mutation::None), 1 => mutation()]).prop_map(|(s, m)| Action::Tcp(s, m)),
        1 => Just(Action::AckAll),
        3 => tcp_command().prop_map(Action::Command),
    ]
}

fn run(h: &mut Harness, actions: &[Action]) {
    for action in actions {
        match action {
            Action::Frame { kind, mutation, victim, src_host } => {
                let mut frames = kind.frames(Ipv4Addr::new(10, 0, 0, *src_host));
                let n = frames.len();
                mutation.apply(&mut frames[victim % n]);
                for f in &frames {
                    h.frame(f);
                }
            }
            Action::Tcp(seg, mutation) => {
                let Some(mut frame) = seg.frame(h) else { continue };
                if seg.data_offset.is_some() || !matches!(mutation, Mutation::None) {
                    // The stack may now take option bytes or mutated bytes for data.
                    h.tainted = true;
                }
                mutation.apply(&mut frame);
                h.frame(&frame);
            }
            Action::AckAll => ack_all(h),
            Action::Timer(advance) => {
                h.timer(*advance);
            }
            Action::NextDeadline => {
                let advance = h.stack.poll_timeout().map_or(Duration::ZERO, |at| at - h.now);
                h.timer(advance);
            }
            Action::Command(cmd) => {
                h.command(cmd.clone());
            }
        }
    }
    // Let every timer run out; nothing may be left behind that panics later.
    for _ in 0..64 {
        match h.stack.poll_timeout() {
            Some(at) => {
                let advance = at - h.now;
                h.timer(advance);
            }
            None => break,
        }
    }
}

proptest! {
    #[test]
    fn mutated_frames_timers_and_commands_never_panic(
        actions in prop::collection::vec(action(), 1..40),
        seed in any::<u64>(),
    ) {
        let mut h = tcp_harness(seed);
        run(&mut h, &actions);
    }

    #[test]
    fn same_seed_same_outputs(
        actions in prop::collection::vec(action(), 1..40),
        seed in any::<u64>(),
    ) {
        let mut a = tcp_harness(seed);
        let mut b = tcp_harness(seed);
        run(&mut a, &actions);
        run(&mut b, &actions);
        prop_assert_eq!(&a.log, &b.log);
        prop_assert_eq!(a.stats(), b.stats());
    }
}
