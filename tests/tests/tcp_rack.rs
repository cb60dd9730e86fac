//! RACK-TLP (RFC 8985), D-SACK (RFC 2883) and undoing needless reductions (RFC 3522 Eifel, RFC 3708) between two
//! synack stacks: losses found by time rather than by counting duplicate ACKs, a reordering window that learns,
//! D-SACKs both ways, and a reordered segment that costs no window.

use std::time::Duration;
use synack::config::TcpConfig;
use synack::wire::{EthernetFrame, Ipv4Packet, TcpOptions, TcpPacket};
use synack::{Command, Config, Input};
use synack_tests::tcp::{connect, pattern, transfer};
use synack_tests::{Pair, Side, MAC_A, MAC_B};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Two stacks with `tcp` on both sides and a 5 ms one-way delay (RTT 10 ms, RACK's min-RTT window 2.5 ms).
fn pair(seed: u64, tcp: TcpConfig) -> Pair {
    let a = Config { mac: MAC_A, ipv4: "10.0.0.1/24".parse().unwrap(), tcp: tcp.clone(), seed, ..Config::default() };
    let b = Config { mac: MAC_B, ipv4: "10.0.0.2/24".parse().unwrap(), tcp, seed: seed + 1, ..Config::default() };
    let mut p = Pair::with_configs(a, b);
    p.delay = ms(5);
    p
}

/// Frames `side` sent so far.
fn sent_by(p: &Pair, side: Side) -> u64 {
    p.log.iter().filter(|l| l.from == side).count() as u64
}

/// (sequence number, payload length, options) of a logged TCP frame.
fn tcp_of(frame: &[u8]) -> (u32, u32, usize, TcpOptions) {
    let eth = EthernetFrame::new_checked(frame).unwrap();
    let ip = Ipv4Packet::new_checked(eth.payload()).unwrap();
    let tcp = TcpPacket::new_checked(ip.payload()).unwrap();
    let options = TcpOptions::parse(tcp.options()).unwrap();
    (tcp.seq_number().0, tcp.ack_number().0, tcp.payload().len(), options)
}

/// Runs a transfer of `bytes` A -> B in which the `nth` frame A sends from then on (a data segment) arrives
/// `hold` late, for each `(nth, hold)`; returns A's view of the connection at the end.
fn transfer_with_held_segments(p: &mut Pair, holds: &[(u64, Duration)], bytes: usize) -> synack::tcp::TcpInfo {
    let (c, _, s) = connect(p, 80);
    p.run_until(p.now + ms(50));
    let base = sent_by(p, Side::A);
    for &(nth, hold) in holds {
        p.hold_nth(Side::A, base + nth, hold);
    }
    let data = pattern(bytes, 7);
    let t = transfer(p, Side::A, c, s, &data, Duration::from_secs(30));
    assert!(t.eof && t.received == data, "every byte arrives, in order");
    p.a.tcp_info(c).unwrap()
}

#[test]
fn once_reordering_is_seen_a_segment_overtaken_within_the_window_is_not_retransmitted() {
    // RTT 10 ms. The first time a segment is overtaken (held 1 ms) by three others, RACK has no reason yet to
    // wait (RFC 8985 §6.2: no reordering seen, a duplicate-ACK threshold's worth SACKed) and resends it; the
    // original's arrival undoes that, and from then on RACK waits a quarter of the min RTT (2.5 ms) past a
    // segment's expected delivery: the same 1 ms reordering later costs nothing.
    let mut p = pair(1, TcpConfig::default());
    let info = transfer_with_held_segments(&mut p, &[(20, ms(1)), (150, ms(1))], 400_000);
    assert_eq!(info.counters.retransmitted_segments, 1, "{info:?}");
    assert_eq!(info.counters.spurious_recoveries_undone, 1, "{info:?}");
    assert!(info.reordering_seen, "{info:?}");
    assert_eq!(info.min_rtt, Some(ms(10)));
}

#[test]
fn a_reduction_for_a_segment_that_was_only_late_is_undone_by_the_timestamp_echo() {
    // Held 8 ms: past the window, so RACK calls it lost and fast recovery resends it. The original arrives
    // first; the ACK covering it echoes the original's timestamp (Eifel): the reduction is taken back.
    let mut p = pair(2, TcpConfig::default());
    let info = transfer_with_held_segments(&mut p, &[(20, ms(8))], 300_000);
    assert_eq!(info.counters.fast_retransmits, 1, "{info:?}");
    assert_eq!(info.counters.spurious_recoveries_undone, 1, "{info:?}");
    assert_eq!(info.counters.timeouts, 0, "{info:?}");
    assert!(info.reordering_seen);
    // B got the segment twice and said so with a D-SACK.
    assert!(info.counters.dsacks_received >= 1, "{info:?}");
}

#[test]
fn without_timestamps_the_d_sack_undoes_it() {
    let tcp = TcpConfig { timestamps: false, ..TcpConfig::default() };
    let mut p = pair(3, tcp);
    let info = transfer_with_held_segments(&mut p, &[(20, ms(8))], 300_000);
    assert_eq!(info.counters.fast_retransmits, 1, "{info:?}");
    assert_eq!(info.counters.dsacks_received, 1, "{info:?}");
    assert_eq!(info.counters.spurious_recoveries_undone, 1, "{info:?}");
}

#[test]
fn the_reordering_window_grows_after_a_d_sack_so_the_same_reordering_costs_nothing_next_time() {
    let mut p = pair(4, TcpConfig::default());
    // Two segments, far apart, each held 4 ms: more than a quarter RTT (2.5 ms), less than two quarters.
    let info = transfer_with_held_segments(&mut p, &[(20, ms(4)), (200, ms(4))], 600_000);
    assert_eq!(info.counters.retransmitted_segments, 1, "only the first one is resent: {info:?}");
    assert_eq!(info.counters.spurious_recoveries_undone, 1, "{info:?}");
    assert_eq!(info.reorder_window, Duration::from_millis(5), "two quarters of the min RTT: {info:?}");
}

#[test]
fn a_lost_retransmission_is_found_by_time_not_by_a_timeout() {
    let mut p = pair(5, TcpConfig::default());
    let (c, _, s) = connect(&mut p, 80);
    p.run_until(p.now + ms(50));
    let base = sent_by(&p, Side::A);
    p.drop_nth(Side::A, base + 20);
    let data = pattern(400_000, 9);
    // The 20th segment's bytes start at the ISN + 1 + 19 full segments; its retransmission is dropped too.
    let iss = p.a.tcp_info(c).unwrap().snd_una.0;
    let mss = p.a.tcp_info(c).unwrap().mss as u32;
    p.drop_next_data_at(Side::A, iss.wrapping_add(19 * mss));
    let t = transfer(&mut p, Side::A, c, s, &data, Duration::from_secs(30));
    assert!(t.eof && t.received == data);
    let info = p.a.tcp_info(c).unwrap();
    assert_eq!(info.counters.timeouts, 0, "RACK found the lost retransmission: {info:?}");
    assert_eq!(info.counters.retransmitted_segments, 2, "{info:?}");
    assert_eq!(info.counters.spurious_recoveries_undone, 0, "a real loss stays a reduction: {info:?}");
}

#[test]
fn d_sacks_report_data_received_twice_below_and_above_rcv_nxt() {
    let mut p = pair(6, TcpConfig::default());
    let (c, _, _s) = connect(&mut p, 80);
    p.run_until(p.now + ms(50));
    p.command(Side::A, Command::TcpSetNoDelay { sock: c, nodelay: true }).unwrap();
    let base = sent_by(&p, Side::A);
    // Three segments; the second is lost, so the third is held out of order.
    p.drop_nth(Side::A, base + 2);
    for i in 0..3u8 {
        p.command(Side::A, Command::TcpSend { sock: c, data: vec![i; 1000] }).unwrap();
    }
    let frames: Vec<Vec<u8>> =
        p.log.iter().filter(|l| l.from == Side::A).skip(base as usize).map(|l| l.frame.clone()).collect();
    assert_eq!(frames.len(), 3);
    p.run_until(p.now + ms(6));
    let deliver = |p: &mut Pair, frame: &[u8]| {
        let now = p.now;
        let out = p.b.handle(Input::Frame(frame), now);
        p.absorb_all(Side::B, out);
        let last = p.log.iter().rev().find(|l| l.from == Side::B).unwrap();
        tcp_of(&last.frame)
    };
    let (s1, _, _, _) = tcp_of(&frames[0]);
    let (s3, _, _, _) = tcp_of(&frames[2]);
    // The held third segment again: a D-SACK for it, then the block that holds it (RFC 2883 §4, case 3).
    let (_, ack, _, opts) = deliver(&mut p, &frames[2]);
    assert_eq!(ack, s1 + 1000);
    let blocks: Vec<_> = opts.sack_blocks.iter().flatten().map(|(a, b)| (a.0, b.0)).collect();
    assert_eq!(blocks, vec![(s3, s3 + 1000), (s3, s3 + 1000)]);
    // The first segment again, below RCV.NXT: a D-SACK below the cumulative ACK, then the out-of-order block.
    let (_, _, _, opts) = deliver(&mut p, &frames[0]);
    let blocks: Vec<_> = opts.sack_blocks.iter().flatten().map(|(a, b)| (a.0, b.0)).collect();
    assert_eq!(blocks, vec![(s1, s1 + 1000), (s3, s3 + 1000)]);
    // Reported once: the next ACK carries only the out-of-order block.
    let (_, _, _, opts) = deliver(&mut p, &frames[2]);
    let blocks: Vec<_> = opts.sack_blocks.iter().flatten().map(|(a, b)| (a.0, b.0)).collect();
    assert_eq!(blocks, vec![(s3, s3 + 1000), (s3, s3 + 1000)], "a new duplicate is a new report");
}

#[test]
fn a_delay_spike_that_fires_the_retransmission_timer_is_undone() {
    // The path stalls for 600 ms (longer than the 200 ms minimum RTO) with data in flight, then delivers
    // everything: the originals arrive, the ACK for the timed-out segment echoes their timestamp, and the
    // timeout's collapse of the window is taken back (Linux's undo of a spurious RTO).
    let mut p = pair(7, TcpConfig::default());
    let (c, _, s) = connect(&mut p, 80);
    let data = pattern(200_000, 10);
    p.command(Side::A, Command::TcpSend { sock: c, data: data[..100_000].to_vec() }).unwrap();
    p.run_until(p.now + ms(60));
    let cwnd_before = p.a.tcp_info(c).unwrap().cwnd;
    let base = sent_by(&p, Side::B);
    // Everything B sends for a while arrives 600 ms late.
    for k in 1..=300 {
        p.hold_nth(Side::B, base + k, ms(600));
    }
    p.command(Side::A, Command::TcpSend { sock: c, data: data[100_000..].to_vec() }).unwrap();
    p.command(Side::A, Command::TcpShutdown { sock: c }).unwrap();
    let mut received = Vec::new();
    while synack_tests::tcp::read_available(&mut p, Side::B, s, &mut received).is_some() && p.step_once() {}
    assert_eq!(received, data);
    // B has everything; A hears of it when the held ACKs arrive.
    p.run_until(p.now + Duration::from_secs(2));
    let info = p.a.tcp_info(c).unwrap();
    assert!(info.counters.timeouts >= 1, "{info:?}");
    assert_eq!(info.counters.spurious_timeouts_undone, 1, "{info:?}");
    assert!(info.cwnd >= cwnd_before, "window back: {} < {cwnd_before}", info.cwnd);
}

/// One loss deep in a transfer over a 100 Mbit/s link (so ACKs come back spread over the round trip).
/// Returns the new data segments A sent in the first 3 ms (of a 10 ms RTT) after the retransmission and in the
/// two round trips after it.
fn recovery_sending(prr: bool) -> (usize, usize) {
    // Buffers large enough that the congestion window, not the send buffer, limits the flight.
    let big = 4 << 20;
    let tcp = TcpConfig { prr, send_buffer: big, recv_buffer: big, ..TcpConfig::default() };
    let mut p = pair(8, tcp);
    p.rate = Some(100_000_000);
    let (c, _, s) = connect(&mut p, 80);
    p.run_until(p.now + ms(50));
    let base = sent_by(&p, Side::A);
    p.drop_nth(Side::A, base + 300);
    let data = pattern(1_500_000, 11);
    let t = transfer(&mut p, Side::A, c, s, &data, Duration::from_secs(30));
    assert!(t.eof && t.received == data);
    let info = p.a.tcp_info(c).unwrap();
    assert_eq!((info.counters.fast_retransmits, info.counters.retransmitted_segments), (1, 1), "{info:?}");
    let seq_len = |frame: &[u8]| synack_tests::frames::tcp_seq_len(frame).unwrap_or((0, 0));
    let a_frames: Vec<_> = p.log.iter().filter(|l| l.from == Side::A).collect();
    let lost_seq = seq_len(&a_frames[base as usize + 299].frame).0;
    let rtx_at = a_frames.iter().filter(|l| seq_len(&l.frame).0 == lost_seq).nth(1).unwrap().at;
    let new_data_between = |from: Duration, to: Duration| {
        let highest_before = a_frames.iter().filter(|l| l.at <= rtx_at).map(|l| seq_len(&l.frame).0).max().unwrap();
        a_frames
            .iter()
            .filter(|l| l.at > rtx_at + from && l.at <= rtx_at + to)
            .filter(|l| seq_len(&l.frame).1 > 0 && seq_len(&l.frame).0.wrapping_sub(highest_before) < 1 << 31)
            .count()
    };
    (new_data_between(Duration::ZERO, ms(3)), new_data_between(Duration::ZERO, ms(20)))
}

#[test]
fn proportional_rate_reduction_spreads_recovery_sending_over_the_round_trip() {
    // CUBIC cuts the window to 0.7. RFC 6675's rule alone sends nothing new until 30 % of the flight has been
    // delivered (here most of a round trip), then one segment per ACK; PRR (RFC 6937) sends ~0.7 segment per
    // segment delivered from the first ACK on, so it also gets more through in the two round trips after.
    let (early_prr, total_prr) = recovery_sending(true);
    let (early_pipe, total_pipe) = recovery_sending(false);
    eprintln!("PRR: {early_prr} / {total_prr}, pipe rule: {early_pipe} / {total_pipe}");
    assert!(early_prr >= 10, "PRR sends from the first ACKs on: {early_prr} in the first 3 ms");
    assert_eq!(early_pipe, 0, "the pipe rule waits for the pipe to drain below ssthresh");
    assert!(total_prr > total_pipe, "{total_prr} vs {total_pipe}");
}
