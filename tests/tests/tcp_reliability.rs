//! Loss, reordering, duplication: every byte arrives intact, recovered the way RFC 5681/6582/6298 say.

use std::time::Duration;
use synack::wire::{DstUnreachable, Icmpv4Repr};
use synack::{Command, Config, SocketHandle};
use synack_tests::frames::is_pure_ack;
use synack_tests::tcp::{connect, pattern, read_available, sha256_hex, transfer, IP_A, IP_B};
use synack_tests::{Impairment, Pair, Side, MAC_A, MAC_B};

fn data_frames_from(p: &Pair, side: Side) -> Vec<(synack::Instant, String)> {
    p.log
        .iter()
        .filter(|l| l.from == side && l.line().contains(" TCP ") && !l.line().contains("len=0"))
        .map(|l| (l.at, l.line()))
        .collect()
}

#[test]
fn single_lost_segment_is_fast_retransmitted() {
    let mut p = Pair::new(21);
    let (c, _, s) = connect(&mut p, 80);
    let sent_before = p.log.iter().filter(|l| l.from == Side::A).count() as u64;
    p.drop_nth(Side::A, sent_before + 5); // the 5th data segment
    let data = pattern(200_000, 1);
    let t = transfer(&mut p, Side::A, c, s, &data, Duration::from_secs(30));
    assert!(t.eof && t.received == data);
    let info = p.a.tcp_info(c).unwrap();
    assert_eq!(info.counters.fast_retransmits, 1, "{info:?}");
    assert_eq!(info.counters.timeouts, 0);
    assert_eq!(info.counters.retransmitted_segments, 1);
    assert!(info.counters.dup_acks_received >= 3);
    // B acknowledged the out-of-order segments at once (no delayed ACKs while a hole exists).
    assert!(p.b.stats().total_drops() == 0);
}

fn without_sack(seed: u64) -> Pair {
    let tcp = synack::config::TcpConfig { sack: false, ..Default::default() };
    let a = Config { mac: MAC_A, ipv4: "10.0.0.1/24".parse().unwrap(), tcp: tcp.clone(), seed, ..Config::default() };
    let b = Config { mac: MAC_B, ipv4: "10.0.0.2/24".parse().unwrap(), tcp, seed: seed + 1, ..Config::default() };
    Pair::with_configs(a, b)
}

#[test]
fn several_losses_in_one_window_recover_with_sack_in_one_episode() {
    let mut p = Pair::new(28);
    let (c, _, s) = connect(&mut p, 80);
    let base = p.log.iter().filter(|l| l.from == Side::A).count() as u64;
    let lost = [5, 7, 9, 11, 12, 13, 15, 17];
    for k in lost {
        p.drop_nth(Side::A, base + k);
    }
    let data = pattern(300_000, 12);
    let t = transfer(&mut p, Side::A, c, s, &data, Duration::from_secs(30));
    assert!(t.eof && t.received == data);
    let info = p.a.tcp_info(c).unwrap();
    assert_eq!(info.counters.fast_retransmits, 1, "{info:?}");
    assert_eq!(info.counters.timeouts, 0);
    assert_eq!(info.counters.retransmitted_segments, lost.len() as u64, "only the holes are resent");
    let sacks = p.lines().iter().filter(|l| l.starts_with("B>A") && l.contains("sack=")).count();
    assert!(sacks > 0);
    assert!(p.lines()[..12].iter().any(|l| l.contains("sackOK")), "negotiated in the handshake");
}

#[test]
fn several_losses_in_one_window_recover_with_newreno_partial_acks() {
    let mut p = without_sack(22);
    let (c, _, s) = connect(&mut p, 80);
    let base = p.log.iter().filter(|l| l.from == Side::A).count() as u64;
    for k in [5, 7, 9] {
        p.drop_nth(Side::A, base + k);
    }
    let data = pattern(200_000, 2);
    let t = transfer(&mut p, Side::A, c, s, &data, Duration::from_secs(30));
    assert!(t.eof && t.received == data);
    let info = p.a.tcp_info(c).unwrap();
    assert_eq!(info.counters.fast_retransmits, 1, "one recovery episode: {info:?}");
    assert_eq!(info.counters.timeouts, 0, "partial ACKs repaired the other holes without an RTO");
    assert_eq!(info.counters.retransmitted_segments, 3);
}

#[test]
fn tail_loss_is_repaired_by_rto_with_exponential_backoff() {
    let mut p = Pair::new(23);
    let (c, _, s) = connect(&mut p, 80);
    let base = p.log.iter().filter(|l| l.from == Side::A).count() as u64;
    // One small segment and the FIN right behind it, lost; then the tail loss probe that resends them at the
    // RTO's time (RFC 8985 §7.2), and the first retransmission, lost too.
    for k in 1..=4 {
        p.drop_nth(Side::A, base + k);
    }
    let t = transfer(&mut p, Side::A, c, s, b"tail", Duration::from_secs(30));
    assert!(t.eof && t.received == b"tail");
    let frames = data_frames_from(&p, Side::A);
    assert!(frames.len() >= 4, "{frames:?}");
    let gaps: Vec<Duration> = frames.windows(2).map(|w| w[1].0 - w[0].0).collect();
    // The RTO: SRTT (a few ms) plus the 200 ms floor of its variance term (Linux's tcp_rto_min).
    assert!(gaps[0] >= Duration::from_millis(200) && gaps[0] < Duration::from_millis(210), "{frames:?}");
    assert!(frames[1].1.contains("F"), "the probe resends the data and the FIN: {frames:?}");
    assert_eq!(gaps[1], gaps[0], "the probe restarted the timer, which then expired: {frames:?}");
    assert_eq!(gaps[2], gaps[1] * 2, "RTO doubles: {frames:?}");
    assert!(frames[2].1.contains("[FP.]"), "the retransmission carries the FIN too: {frames:?}");
    let info = p.a.tcp_info(c).unwrap();
    assert_eq!((info.counters.tail_loss_probes, info.counters.timeouts), (1, 2));
    assert_eq!(info.counters.fast_retransmits, 0);
}

#[test]
fn lost_acks_do_not_lose_data() {
    let mut p = Pair::new(24);
    let (c, _, s) = connect(&mut p, 80);
    let base = p.log.iter().filter(|l| l.from == Side::B).count() as u64;
    for k in 1..=40 {
        if k % 3 != 0 {
            p.drop_nth(Side::B, base + k);
        }
    }
    let data = pattern(300_000, 3);
    let t = transfer(&mut p, Side::A, c, s, &data, Duration::from_secs(30));
    assert!(t.eof && t.received == data);
}

fn impaired_pair(seed: u64, imp: Impairment) -> Pair {
    let mut p = Pair::new(seed);
    p.impair(Side::A, imp, seed);
    p.impair(Side::B, imp, seed ^ 0xffff);
    p
}

#[test]
fn reordering_and_duplication_deliver_exact_bytes() {
    let imp =
        Impairment { duplicate: 0.05, reorder: 0.05, reorder_delay: Duration::from_millis(3), ..Default::default() };
    let mut p = impaired_pair(25, imp);
    let (c, _, s) = connect(&mut p, 80);
    let data = pattern(2_000_000, 4);
    let t = transfer(&mut p, Side::A, c, s, &data, Duration::from_secs(60));
    assert!(t.eof);
    assert_eq!(sha256_hex(&t.received), sha256_hex(&data));
}

#[test]
fn ten_megabytes_each_way_under_five_percent_loss_with_reordering() {
    let imp = Impairment { loss: 0.05, reorder: 0.02, reorder_delay: Duration::from_millis(2), ..Default::default() };
    let mut p = impaired_pair(26, imp);
    let (c, _, s) = connect(&mut p, 80);
    let up = pattern(10_000_000, 5);
    let t = transfer(&mut p, Side::A, c, s, &up, Duration::from_secs(3600));
    assert!(t.eof, "A->B did not finish");
    assert_eq!(sha256_hex(&t.received), sha256_hex(&up));
    let (c2, _, s2) = {
        let l = synack_tests::tcp::listen(&mut p, Side::B, 81);
        let c2 = synack_tests::tcp::start_connect(
            &mut p,
            Side::A,
            std::net::SocketAddr::from((synack_tests::tcp::IP_B, 81)),
        );
        p.run_until(p.now + Duration::from_secs(20));
        (c2, l, synack_tests::tcp::accept(&mut p, l))
    };
    let down = pattern(10_000_000, 6);
    let t = transfer(&mut p, Side::B, s2, c2, &down, Duration::from_secs(3600));
    assert!(t.eof, "B->A did not finish");
    assert_eq!(sha256_hex(&t.received), sha256_hex(&down));
    let info = p.b.tcp_info(s2).unwrap();
    assert!(info.counters.retransmitted_segments > 0 && info.counters.fast_retransmits > 0, "{info:?}");
}

#[test]
fn sequence_numbers_wrap_past_2_pow_32_during_a_10_mb_transfer() {
    // Find a seed whose client ISN lies within 10 MB below 2^32, so the transfer crosses the wrap.
    let data = pattern(10_000_000, 7);
    let mut found = None;
    for seed in 0..20_000u64 {
        let mut p = Pair::new(seed);
        let (c, _, s) = connect(&mut p, 80);
        let isn = p.a.tcp_info(c).unwrap().snd_una.0;
        if isn > u32::MAX - 9_000_000 {
            found = Some((p, c, s, isn));
            break;
        }
    }
    let (mut p, c, s, isn) = found.expect("a seed with an ISN near the wrap");
    let t = transfer(&mut p, Side::A, c, s, &data, Duration::from_secs(600));
    assert!(t.eof && t.received == data);
    let end = p.a.tcp_info(c).unwrap().snd_una.0;
    assert!(end < isn, "sequence space wrapped: {isn} -> {end}");
}

#[test]
fn window_scaling_fills_a_long_fat_pipe() {
    let big = synack::config::TcpConfig { send_buffer: 4 << 20, recv_buffer: 4 << 20, ..Default::default() };
    let a = Config { mac: MAC_A, ipv4: "10.0.0.1/24".parse().unwrap(), tcp: big.clone(), ..Config::default() };
    let b = Config { mac: MAC_B, ipv4: "10.0.0.2/24".parse().unwrap(), tcp: big, seed: 9, ..Config::default() };
    let mut p = Pair::with_configs(a, b);
    p.delay = Duration::from_millis(50);
    let l = synack_tests::tcp::listen(&mut p, Side::B, 80);
    let c =
        synack_tests::tcp::start_connect(&mut p, Side::A, std::net::SocketAddr::from((synack_tests::tcp::IP_B, 80)));
    p.run_until(p.now + Duration::from_millis(500));
    let s = synack_tests::tcp::accept(&mut p, l);
    let info = p.a.tcp_info(c).unwrap();
    assert_eq!((info.rcv_wscale, info.snd_wscale), (7, 7));
    let data = pattern(20_000_000, 8);
    let start = p.now;
    let t = transfer(&mut p, Side::A, c, s, &data, Duration::from_secs(120));
    assert!(t.eof && t.received == data);
    let secs = (t.finished_at - start).as_secs_f64();
    let goodput = data.len() as f64 * 8.0 / secs;
    // Without scaling the window caps at 64 KiB per 100 ms RTT: 5.2 Mbit/s. Scaled, far more.
    assert!(goodput > 50e6, "goodput {goodput:.0} bit/s in {secs:.2} s");
    assert!(p.a.tcp_info(c).map(|i| i.snd_wnd).unwrap_or(0) > 65_535 || t.eof);
}

#[test]
fn mss_follows_the_smaller_mtu() {
    let a = Config { mac: MAC_A, ipv4: "10.0.0.1/24".parse().unwrap(), ..Config::default() };
    let b = Config { mac: MAC_B, ipv4: "10.0.0.2/24".parse().unwrap(), mtu: 1000, ..Config::default() };
    let mut p = Pair::with_configs(a, b);
    let (c, _, s) = connect(&mut p, 80);
    // 1000 - 40 bytes of headers, less the 12 that timestamps take of every segment.
    assert_eq!(p.a.tcp_info(c).unwrap().mss, 948);
    let data = pattern(50_000, 9);
    let t = transfer(&mut p, Side::A, c, s, &data, Duration::from_secs(10));
    assert!(t.received == data);
    let biggest = p.log.iter().filter(|l| l.from == Side::A).map(|l| l.frame.len()).max().unwrap();
    assert_eq!(biggest, 14 + 1000);
    let _ = Command::TcpClose { sock: c };
}

#[test]
fn retransmissions_give_up_with_timed_out_and_rto_collapses_cwnd() {
    let tcp = synack::config::TcpConfig { max_retransmissions: 3, ..Default::default() };
    let a = Config { mac: MAC_A, ipv4: "10.0.0.1/24".parse().unwrap(), tcp, ..Config::default() };
    let b = Config { mac: MAC_B, ipv4: "10.0.0.2/24".parse().unwrap(), seed: 5, ..Config::default() };
    let mut p = Pair::with_configs(a, b);
    let (c, _, _s) = connect(&mut p, 80);
    // Let the window grow, then cut the link for good.
    let data = pattern(100_000, 10);
    p.command(Side::A, Command::TcpSend { sock: c, data }).unwrap();
    p.run_until(p.now + Duration::from_millis(3));
    let sent = p.log.iter().filter(|l| l.from == Side::A).count() as u64;
    for k in 1..=500 {
        p.drop_nth(Side::A, sent + k);
    }
    // The last ACKs arrive, then nothing: the window the timeout will cut.
    p.run_until(p.now + Duration::from_millis(50));
    let cwnd_before = p.a.tcp_info(c).unwrap().cwnd;
    p.run_until(p.now + Duration::from_millis(200));
    let info = p.a.tcp_info(c).unwrap();
    assert_eq!(info.counters.timeouts, 1);
    assert_eq!(info.cwnd, info.mss, "RFC 5681: loss window after an RTO");
    assert!(info.ssthresh >= 2 * info.mss && info.ssthresh < cwnd_before);
    p.run_until(p.now + Duration::from_secs(60));
    assert!(p.events_of(Side::A).contains(&(c, synack::Event::TimedOut { soft_error: None })));
    assert_eq!(p.a.tcp_info(c), None);
}

#[test]
fn icmp_fragmentation_needed_shrinks_the_mss_and_resends() {
    use synack::wire::{DstUnreachable, Icmpv4Repr};
    let mut p = Pair::new(27);
    let (c, _, s) = connect(&mut p, 80);
    let sent = p.log.iter().filter(|l| l.from == Side::A).count() as u64;
    p.drop_nth(Side::A, sent + 1);
    p.command(Side::A, Command::TcpSend { sock: c, data: pattern(1460, 11) }).unwrap();
    // A router on the path says the segment was too big for its 1000-byte MTU.
    let big = p.log.last().unwrap().frame.clone();
    let quote = &big[14..14 + 28];
    let msg = Icmpv4Repr::DstUnreachable { reason: DstUnreachable::FragRequired, next_hop_mtu: 1000, original: quote };
    let frame = synack_tests::frames::icmp_frame(MAC_B, MAC_A, synack_tests::tcp::IP_B, synack_tests::tcp::IP_A, &msg);
    let out = p.a.handle(synack::Input::Frame(&frame), p.now);
    p.absorb_all(Side::A, out);
    assert_eq!(p.a.tcp_info(c).unwrap().mss, 948, "the path's 960, less 12 bytes of timestamps");
    // Resent at once in a segment that fits; the 500-byte rest follows its ACK (Nagle holds runts meanwhile).
    assert_eq!(p.log.last().unwrap().frame.len(), 14 + 1000);
    p.run_until(p.now + Duration::from_millis(50));
    let mut got = Vec::new();
    synack_tests::tcp::read_available(&mut p, Side::B, s, &mut got);
    assert_eq!(got, pattern(1460, 11));
}

#[test]
fn early_retransmit_repairs_a_loss_when_too_little_is_outstanding_for_three_dup_acks() {
    for sack in [true, false] {
        let mut p = if sack { Pair::new(29) } else { without_sack(29) };
        let (c, _, s) = connect(&mut p, 80);
        // A first exchange, so B's ACKs already carry its scaled window (a window change is not a duplicate).
        p.command(Side::A, Command::TcpSend { sock: c, data: vec![0] }).unwrap();
        p.run_until(p.now + Duration::from_millis(50));
        synack_tests::tcp::read_available(&mut p, Side::B, s, &mut Vec::new());
        let sent = p.log.iter().filter(|l| l.from == Side::A).count() as u64;
        p.drop_nth(Side::A, sent + 1);
        let data = pattern(3 * 1460, 13);
        p.command(Side::A, Command::TcpSend { sock: c, data: data.clone() }).unwrap();
        p.run_until(p.now + Duration::from_millis(50));
        let info = p.a.tcp_info(c).unwrap();
        assert_eq!((info.counters.fast_retransmits, info.counters.timeouts), (1, 0), "sack={sack}: {info:?}");
        let mut got = Vec::new();
        synack_tests::tcp::read_available(&mut p, Side::B, s, &mut got);
        assert_eq!(got, data);
    }
}

#[test]
fn heavy_loss_both_ways_is_repaired_by_sack_recovery_and_tail_loss_probes_not_timeouts() {
    // 5% loss in both directions (so ACKs and SACKs are lost too) and 2% reordering, on a 100 µs RTT path: every
    // retransmission timeout (200 ms floor) would cost two thousand round trips.
    let imp = Impairment { loss: 0.05, reorder: 0.02, reorder_delay: Duration::from_micros(200), ..Default::default() };
    let mut p = Pair::new(3);
    p.delay = Duration::from_micros(50);
    p.impair(Side::A, imp, 1);
    p.impair(Side::B, imp, 2);
    let (c, _, s) = connect(&mut p, 80);
    let start = p.now;
    let data = pattern(5_000_000, 1);
    let t = transfer(&mut p, Side::A, c, s, &data, Duration::from_secs(600));
    assert!(t.eof && t.received == data);
    let info = p.a.tcp_info(c).unwrap();
    let took = t.finished_at - start;
    assert!(info.counters.timeouts <= 2, "{info:?}");
    assert!(info.counters.tail_loss_probes > 0 && info.counters.fast_retransmits > 50, "{info:?}");
    assert!(took < Duration::from_secs(1), "5 MB took {took:?}: {info:?}");
}

/// Sends `up` from A's `c` and `down` from B's `s` at once, reading both sides as the link runs (two minutes of
/// virtual time at most); returns what B and A received.
fn send_both_ways(p: &mut Pair, (c, s): (SocketHandle, SocketHandle), up: &[u8], down: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let (mut sent_up, mut sent_down, mut got_up, mut got_down) = (0, 0, Vec::new(), Vec::new());
    let deadline = p.now + Duration::from_secs(120);
    while (got_up.len() < up.len() || got_down.len() < down.len()) && p.now < deadline {
        for (side, sock, data, sent) in [(Side::A, c, up, &mut sent_up), (Side::B, s, down, &mut sent_down)] {
            if *sent < data.len() {
                let chunk = data[*sent..].len().min(64 * 1024);
                if let Ok(synack::Reply::Sent { len }) =
                    p.command(side, synack::Command::TcpSend { sock, data: data[*sent..*sent + chunk].to_vec() })
                {
                    *sent += len;
                }
            }
        }
        read_available(p, Side::B, s, &mut got_up);
        read_available(p, Side::A, c, &mut got_down);
        if !p.step_once() {
            break;
        }
    }
    (got_up, got_down)
}

#[test]
fn full_sized_data_segments_leave_no_room_for_sack_blocks_and_are_still_sent() {
    // Data both ways at once on one connection, with loss: each side holds out-of-order data (so its ACKs
    // carry SACK blocks) while it sends full-sized segments, which have no room for options. Every segment the
    // connection counts as sent must be on the wire, none over the MTU.
    let imp = Impairment { loss: 0.03, ..Default::default() };
    let mut p = impaired_pair(27, imp);
    let (c, _, s) = connect(&mut p, 80);
    let (up, down) = (pattern(1_500_000, 7), pattern(1_500_000, 8));
    let (got_up, got_down) = send_both_ways(&mut p, (c, s), &up, &down);
    assert!(got_up == up && got_down == down, "up {} / down {} bytes", got_up.len(), got_down.len());
    for (side, sock) in [(Side::A, c), (Side::B, s)] {
        let counted = p.stack(side).tcp_info(sock).unwrap().counters.segments_sent;
        let on_wire = p.log.iter().filter(|l| l.from == side && l.line().contains(" TCP ")).count() as u64;
        assert_eq!(counted, on_wire, "{side:?}: segments counted as sent vs frames on the link");
        assert!(p.log.iter().all(|l| l.frame.len() <= 1514), "no frame over the MTU");
    }
    let sacks_on_data = p.log.iter().filter(|l| l.line().contains("sack") && !l.line().contains("len=0")).count();
    eprintln!("data segments carrying SACK blocks: {sacks_on_data}");
}

#[test]
fn sack_blocks_on_data_segments_respect_the_peers_smaller_mss() {
    // Found against smoltcp (bench/tests/interop): B's MTU is 1000, so B announces an MSS of 960 while A's own MTU
    // would allow 1460. With data both ways and loss, A sends data segments while holding out-of-order data; SACK
    // blocks may ride on them only while options and payload together stay within B's MSS (RFC 6691, RFC 9293
    // §3.7.1), never merely within A's MTU: no frame A sends may exceed what B's MTU carries.
    let a = Config { mac: MAC_A, ipv4: "10.0.0.1/24".parse().unwrap(), seed: 3, ..Config::default() };
    let b = Config { mac: MAC_B, ipv4: "10.0.0.2/24".parse().unwrap(), seed: 4, mtu: 1000, ..Config::default() };
    let mut p = Pair::with_configs(a, b);
    let imp = Impairment { loss: 0.03, ..Default::default() };
    p.impair(Side::A, imp, 31);
    p.impair(Side::B, imp, 32);
    let (c, _, s) = connect(&mut p, 80);
    let (up, down) = (pattern(300_000, 9), pattern(300_000, 10));
    let (got_up, got_down) = send_both_ways(&mut p, (c, s), &up, &down);
    assert!(got_up == up && got_down == down, "up {} / down {} bytes", got_up.len(), got_down.len());
    let too_big: Vec<_> =
        p.log.iter().filter(|l| l.from == Side::A && l.frame.len() > 14 + 1000).map(|l| l.line()).collect();
    assert!(too_big.is_empty(), "{} frames from A exceed B's MTU, first: {:?}", too_big.len(), too_big.first());
    // The case was exercised: A held out-of-order data (its ACKs carried SACK blocks) while it sent data.
    let sacks = p.log.iter().filter(|l| l.from == Side::A && l.line().contains("sack")).count();
    assert!(sacks > 0, "A never sent SACK blocks: the case went untested");
}

#[test]
fn autotuned_buffers_grow_while_losses_are_repaired_and_every_byte_arrives() {
    // Both buffers may grow to 4 MiB while 1 % of frames (both ways) are lost and 2 % reordered: growth happens
    // with out-of-order data held and retransmissions in flight, and nothing may be lost or corrupted by it.
    let tcp = synack::config::TcpConfig { send_buffer_max: 4 << 20, recv_buffer_max: 4 << 20, ..Default::default() };
    let a = Config { mac: MAC_A, ipv4: "10.0.0.1/24".parse().unwrap(), tcp: tcp.clone(), ..Config::default() };
    let b = Config { mac: MAC_B, ipv4: "10.0.0.2/24".parse().unwrap(), tcp, seed: 5, ..Config::default() };
    let mut p = Pair::with_configs(a, b);
    let imp = Impairment { loss: 0.01, reorder: 0.02, reorder_delay: Duration::from_millis(2), ..Default::default() };
    p.impair(Side::A, imp, 27);
    p.impair(Side::B, imp, 28);
    let (c, _, s) = connect(&mut p, 80);
    let data = pattern(12_000_000, 7);
    let t = transfer(&mut p, Side::A, c, s, &data, Duration::from_secs(3600));
    assert!(t.eof, "did not finish");
    assert_eq!(sha256_hex(&t.received), sha256_hex(&data));
    let (sender, receiver) = (p.a.tcp_info(c).unwrap(), p.b.tcp_info(s).unwrap());
    assert!(sender.counters.retransmitted_segments > 0, "losses were repaired: {sender:?}");
    assert!(receiver.counters.recv_buffer_growths > 0 && receiver.recv_buffer > 256 * 1024, "{receiver:?}");
    assert!(sender.counters.send_buffer_growths > 0 && sender.send_buffer > 256 * 1024, "{sender:?}");
}

/// Both ends time out with data outstanding each way, each holding all the other sent: each rewinds SND.NXT
/// and resends from SND.UNA, and the other finds that segment a duplicate. Its answer must still be an ACK the
/// first end can read: sent at SND.MAX, not at the rewound SND.NXT below the first end's RCV.NXT (which it
/// would drop unread, answering with an ACK of its own as unreadable, for ever: the connection then died by
/// `TimedOut` minutes later).
#[test]
fn both_ends_timed_out_still_read_each_others_acks() {
    let mut p = Pair::new(61);
    let (c, _, s) = connect(&mut p, 80);
    // Every pure ACK is lost until both ends have timed out.
    p.drop_next_where(Side::A, u64::MAX, is_pure_ack);
    p.drop_next_where(Side::B, u64::MAX, is_pure_ack);
    // Five full segments each way, written at the same instant: none acknowledges any of the other's data.
    let (to_b, to_a) = (pattern(5 * 1460, 1), pattern(5 * 1460, 2));
    p.command(Side::A, Command::TcpSend { sock: c, data: to_b.clone() }).unwrap();
    p.command(Side::B, Command::TcpSend { sock: s, data: to_a.clone() }).unwrap();
    p.run_until(p.now + Duration::from_secs(2));
    let timeouts = |p: &Pair| (p.a.tcp_info(c).unwrap().counters.timeouts, p.b.tcp_info(s).unwrap().counters.timeouts);
    let (ta, tb) = timeouts(&p);
    assert!(ta >= 1 && tb >= 1, "both ends timed out: {ta} {tb}");
    p.heal();
    let healed_at = p.log.len();
    p.run_until(p.now + Duration::from_secs(5));
    let (mut at_a, mut at_b) = (Vec::new(), Vec::new());
    read_available(&mut p, Side::A, c, &mut at_a);
    read_available(&mut p, Side::B, s, &mut at_b);
    assert_eq!((at_a == to_a, at_b == to_b), (true, true));
    for info in [p.a.tcp_info(c).unwrap(), p.b.tcp_info(s).unwrap()] {
        assert_eq!(info.snd_una, info.snd_nxt, "everything acknowledged: {info:?}");
    }
    // At most the retransmission already scheduled: the first exchange after the heal repairs everything.
    let (ta2, tb2) = timeouts(&p);
    assert!(ta2 <= ta + 1 && tb2 <= tb + 1, "timeouts {ta} -> {ta2}, {tb} -> {tb2}");
    // No ACK ping-pong either: a handful of frames after the heal, not thousands.
    let after_heal = p.log.len() - healed_at;
    assert!(after_heal < 20, "{after_heal} frames after the heal: {:#?}", &p.lines()[healed_at..]);
}

/// Flips one bit of the frame's last byte (the payload's, for a data segment) and leaves the checksum as it was.
fn flip_last_payload_bit(frame: &mut [u8]) {
    if let Some(last) = frame.last_mut() {
        *last ^= 0x10;
    }
}

#[test]
fn corrupted_in_order_payloads_are_dropped_before_they_count_and_the_data_arrives_intact() {
    // The receiver verifies an in-order payload while copying it into its receive buffer (one pass): a bad
    // one must leave nothing behind, neither bytes nor sequence space, whatever the block boundaries.
    let mut p = Pair::new(61);
    let (c, _, s) = connect(&mut p, 80);
    // One segment at a time, each corrupted on its first try, so each arrives in order and is copied and
    // verified in one pass; 24 of them cross the receive buffer's first 16 KiB block boundary unread.
    let mut expected = Vec::new();
    for i in 0..24 {
        p.rewrite_next_where(Side::A, 1, synack_tests::frames::is_tcp_data, |f| flip_last_payload_bit(f));
        let chunk = pattern(1_400 + i, 100 + i as u64);
        p.command(Side::A, Command::TcpSend { sock: c, data: chunk.clone() }).unwrap();
        expected.extend_from_slice(&chunk);
        p.run_until(p.now + Duration::from_secs(5));
    }
    let mut got = Vec::new();
    read_available(&mut p, Side::B, s, &mut got);
    assert_eq!(got, expected);
    let bad = synack::DropReason::Malformed(synack::Layer::Tcp, synack::wire::Error::BadChecksum);
    assert_eq!(p.b.stats().drops(bad), 24);
    assert_eq!(p.b.tcp_info(s).unwrap().counters.bytes_received, expected.len() as u64);

    // A fresh connection's first flight, its first nine segments corrupted: the first is next in order, the
    // eight behind it are not (summed where they lie).
    let mut p = Pair::new(62);
    let (c, _, s) = connect(&mut p, 80);
    let corrupted = 9;
    p.rewrite_next_where(Side::A, corrupted, synack_tests::frames::is_tcp_data, |f| flip_last_payload_bit(f));
    let data = pattern(400_000, 61);
    let t = transfer(&mut p, Side::A, c, s, &data, Duration::from_secs(60));
    assert!(t.eof);
    assert_eq!(sha256_hex(&t.received), sha256_hex(&data));
    assert_eq!(p.b.stats().drops(bad), corrupted);
    let info = p.b.tcp_info(s).unwrap();
    assert_eq!(info.counters.bytes_received, data.len() as u64, "{info:?}");
    assert!(p.a.tcp_info(c).unwrap().counters.retransmitted_segments >= corrupted);
}

/// A path MTU learnt from one connection's ICMP message is met by another connection to the same destination
/// before it cuts its next segments (Linux's `tcp_current_mss`). The other connection cut its whole next flight
/// at the old size, lost all of it locally and waited for a retransmission timeout.
#[test]
fn a_path_mtu_learnt_by_another_connection_costs_no_timeout() {
    let mut p = Pair::new(7393);
    let (c1, _, _) = connect(&mut p, 80);
    let (c2, _, s2) = connect(&mut p, 81);
    let sent = p.log.iter().filter(|l| l.from == Side::A).count() as u64;
    p.drop_nth(Side::A, sent + 1);
    p.command(Side::A, Command::TcpSend { sock: c1, data: pattern(1460, 11) }).unwrap();
    let big = p.log.last().unwrap().frame.clone();
    let quote = &big[14..14 + 28];
    let msg = Icmpv4Repr::DstUnreachable { reason: DstUnreachable::FragRequired, next_hop_mtu: 1000, original: quote };
    let frame = synack_tests::frames::icmp_frame(MAC_B, MAC_A, IP_B, IP_A, &msg);
    let out = p.a.handle(synack::Input::Frame(&frame), p.now);
    p.absorb_all(Side::A, out);
    p.run_until(p.now + Duration::from_millis(50));
    // The other connection to B now sends: its segments must follow the path MTU without being lost first.
    let data = pattern(8 * 1448, 12);
    p.command(Side::A, Command::TcpSend { sock: c2, data: data.clone() }).unwrap();
    p.run_until(p.now + Duration::from_millis(1000));
    let mut got = Vec::new();
    read_available(&mut p, Side::B, s2, &mut got);
    let info = p.a.tcp_info(c2).unwrap();
    assert_eq!(
        (info.counters.timeouts, info.counters.retransmitted_segments, got.len()),
        (0, 0, data.len()),
        "mss {} ; {:#?}",
        info.mss,
        p.lines().iter().rev().take(20).collect::<Vec<_>>()
    );
}
