//! RFC 3168 ECN between two synack stacks: negotiation (who asks, who accepts, what a SYN-ACK must say, SYN
//! retransmissions, SYN cookies), ECT(0) on new data only, the receiver's ECE echo from a CE mark until CWR, the
//! sender's one reduction per window of data with CWR on the next new segment and nothing retransmitted, and
//! flags or marks on a connection without ECN changing nothing. CE marks are exact: the link marks the n-th
//! frame a side sends, if it is ECN-capable, as a congested router would.

use std::time::Duration;
use synack::tcp::{CongestionAlgorithm, Ecn, SeqNum, TcpInfo};
use synack::wire::{EcnCodepoint, TcpFlags};
use synack::{Command, Instant, SocketHandle};
use synack_tests::frames::{self, tcp_fields, TcpFields};
use synack_tests::tcp::{accept, connect, listen, pattern, read_available, sha256_hex, start_connect, transfer, IP_B};
use synack_tests::{configs, Pair, Side};

const ECE_CWR: TcpFlags = TcpFlags::from_bits_truncate(TcpFlags::ECE.bits() | TcpFlags::CWR.bits());

/// The flags of `f` among `which`.
fn only(f: TcpFlags, which: TcpFlags) -> TcpFlags {
    TcpFlags::from_bits_truncate(f.bits() & which.bits())
}

/// `f` without the flags of `which`.
fn without(mut f: TcpFlags, which: TcpFlags) -> TcpFlags {
    f.remove(which);
    f
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A pair whose A and B use these ECN settings.
fn pair(seed: u64, a: Ecn, b: Ecn) -> Pair {
    let (mut ca, mut cb) = configs(seed);
    ca.tcp.ecn = a;
    cb.tcp.ecn = b;
    Pair::with_configs(ca, cb)
}

/// The TCP frames `from` put on the link, oldest first, with their time (as the log holds them: after any
/// mark or rewrite of the link).
fn tcp_sent(p: &Pair, from: Side) -> Vec<(Instant, TcpFields)> {
    p.log.iter().filter(|l| l.from == from).filter_map(|l| Some((l.at, tcp_fields(&l.frame)?))).collect()
}

/// A's frames with CWR, its SYN (which asks for ECN with ECE and CWR) left out.
fn cwr_segments(p: &Pair) -> Vec<TcpFields> {
    let sent = tcp_sent(p, Side::A).into_iter().map(|(_, f)| f);
    sent.filter(|f| f.flags.contains(TcpFlags::CWR) && !f.flags.contains(TcpFlags::SYN)).collect()
}

fn info(p: &Pair, side: Side, sock: SocketHandle) -> TcpInfo {
    let stack = if side == Side::A { &p.a } else { &p.b };
    stack.tcp_info(sock).expect("connection exists")
}

/// Is this frame's data new (beyond everything sent before it), rather than a retransmission?
fn first_transmissions(frames: &[(Instant, TcpFields)]) -> Vec<bool> {
    let mut end: Option<SeqNum> = None;
    frames
        .iter()
        .map(|(_, t)| {
            let new = t.len > 0 && end.is_none_or(|e| t.seq >= e);
            let this_end = t.seq + t.len;
            if t.len > 0 && end.is_none_or(|e| this_end > e) {
                end = Some(this_end);
            }
            new
        })
        .collect()
}

#[test]
fn negotiated_only_when_the_opener_asks_and_the_listener_accepts() {
    for a in [Ecn::Off, Ecn::Passive, Ecn::On] {
        for b in [Ecn::Off, Ecn::Passive, Ecn::On] {
            let mut p = pair(90, a, b);
            let (c, _, s) = connect(&mut p, 80);
            let agreed = a == Ecn::On && b != Ecn::Off;
            assert_eq!(info(&p, Side::A, c).ecn, agreed, "A {a:?} opens to B {b:?}");
            assert_eq!(info(&p, Side::B, s).ecn, agreed, "A {a:?} opens to B {b:?}");
            // RFC 3168 §6.1.1: an ECN-setup SYN has ECE and CWR, an ECN-setup SYN-ACK ECE alone; both Not-ECT.
            let syn = tcp_sent(&p, Side::A)[0].1;
            assert_eq!(only(syn.flags, ECE_CWR), if a == Ecn::On { ECE_CWR } else { TcpFlags::empty() }, "{a:?}");
            let syn_ack = tcp_sent(&p, Side::B)[0].1;
            assert!(syn_ack.flags.contains(TcpFlags::SYN | TcpFlags::ACK));
            assert_eq!(only(syn_ack.flags, ECE_CWR), if agreed { TcpFlags::ECE } else { TcpFlags::empty() }, "{b:?}");
            assert_eq!((syn.ecn, syn_ack.ecn), (EcnCodepoint::NotEct, EcnCodepoint::NotEct));
        }
    }
}

#[test]
fn a_syn_ack_with_cwr_is_not_an_ecn_setup_syn_ack() {
    let reflect: fn(&mut Vec<u8>) = |f| frames::set_tcp_flags(f, |fl| fl | TcpFlags::CWR);
    let cwr_only: fn(&mut Vec<u8>) = |f| frames::set_tcp_flags(f, |fl| without(fl, TcpFlags::ECE) | TcpFlags::CWR);
    for (name, rewrite) in [("ECE and CWR (flags reflected)", reflect), ("CWR alone", cwr_only)] {
        let mut p = pair(91, Ecn::On, Ecn::Passive);
        // A middlebox (or a peer that reflects flags it does not know) changes B's SYN-ACK.
        p.rewrite_next_where(Side::B, 1, frames::is_syn, rewrite);
        let (c, _, s) = connect(&mut p, 80);
        assert!(!info(&p, Side::A, c).ecn, "{name}: no ECN for A");
        let data = pattern(100_000, 91);
        let t = transfer(&mut p, Side::A, c, s, &data, Duration::from_secs(10));
        assert!(t.eof && t.received == data, "{name}");
        assert!(tcp_sent(&p, Side::A).iter().all(|(_, f)| f.ecn == EcnCodepoint::NotEct), "{name}: A sends no ECT");
    }
}

#[test]
fn odd_syns_get_no_ecn_and_an_unasked_ecn_syn_ack_is_ignored() {
    // ECE alone, or ECE and CWR on a SYN that arrives ECN-capable (a path that rewrites the field): declined.
    let ece_only: fn(&mut Vec<u8>) = |f| frames::set_tcp_flags(f, |fl| fl | TcpFlags::ECE);
    let ect_syn: fn(&mut Vec<u8>) = |f| frames::set_ip_ecn(f, EcnCodepoint::Ect0);
    for (name, a, rewrite) in [("ECE alone", Ecn::Off, ece_only), ("an ECT(0) SYN", Ecn::On, ect_syn)] {
        let mut p = pair(92, a, Ecn::Passive);
        p.rewrite_next_where(Side::A, 1, frames::is_syn, rewrite);
        let (c, _, s) = connect(&mut p, 80);
        assert!(!info(&p, Side::B, s).ecn && !info(&p, Side::A, c).ecn, "{name}");
        assert!(!tcp_sent(&p, Side::B)[0].1.flags.contains(TcpFlags::ECE), "{name}: plain SYN-ACK");
    }
    // A (Off) never asked, but its SYN reaches B as an ECN-setup SYN: B agrees, A ignores the ECE of B's SYN-ACK.
    let mut p = pair(93, Ecn::Off, Ecn::Passive);
    p.rewrite_next_where(Side::A, 1, frames::is_syn, |f| frames::set_tcp_flags(f, |fl| fl | ECE_CWR));
    let (c, _, s) = connect(&mut p, 80);
    assert!(info(&p, Side::B, s).ecn && !info(&p, Side::A, c).ecn);
    // B sends ECT(0); a CE mark on it means nothing to A, which echoes nothing.
    let marked = p.frames_sent(Side::B) + 3;
    p.mark_ce_nth(Side::B, marked);
    let data = pattern(50_000, 93);
    let t = transfer(&mut p, Side::B, s, c, &data, Duration::from_secs(10));
    assert!(t.eof && t.received == data);
    assert_eq!(p.ce_marked, 1);
    assert_eq!(info(&p, Side::A, c).counters.ce_received, 0);
    let after_syn = tcp_sent(&p, Side::A).into_iter().skip(1);
    assert!(after_syn.into_iter().all(|(_, f)| !f.flags.contains(TcpFlags::ECE)));
    assert_eq!(info(&p, Side::B, s).counters.cwnd_reductions_ecn, 0);
}

#[test]
fn only_new_data_segments_leave_ect0() {
    let mut p = pair(94, Ecn::On, Ecn::Passive);
    let (c, _, s) = connect(&mut p, 80);
    // Lose a data segment (fast retransmit) and the tail (a tail loss probe or timeout resends it).
    let first_data = p.frames_sent(Side::A) + 1;
    p.drop_nth(Side::A, first_data + 4);
    let data = pattern(120_000, 94);
    let t = transfer(&mut p, Side::A, c, s, &data, Duration::from_secs(20));
    assert!(t.eof && t.received == data);
    let a = info(&p, Side::A, c);
    assert!(a.counters.retransmitted_segments >= 1, "{:?}", a.counters);
    let sent = tcp_sent(&p, Side::A);
    for ((_, f), new) in sent.iter().zip(first_transmissions(&sent)) {
        // RFC 3168 §6.1.4-6.1.6: ECT(0) on first transmissions of data only; SYNs, pure ACKs, the FIN and
        // retransmissions are Not-ECT.
        let expected = if new { EcnCodepoint::Ect0 } else { EcnCodepoint::NotEct };
        assert_eq!(f.ecn, expected, "{f:?}");
    }
    assert!(sent.iter().any(|(_, f)| f.len > 0 && f.ecn == EcnCodepoint::NotEct), "a retransmission went out");
    assert!(tcp_sent(&p, Side::B).iter().all(|(_, f)| f.ecn == EcnCodepoint::NotEct), "B sent no data");
    // Without ECN (the default, Passive on both sides) nothing is ECN-capable: the wire is as it always was.
    let mut p = Pair::new(94);
    let (c, _, s) = connect(&mut p, 80);
    let t = transfer(&mut p, Side::A, c, s, &data, Duration::from_secs(20));
    assert!(t.eof && t.received == data);
    assert!(!info(&p, Side::A, c).ecn);
    for side in [Side::A, Side::B] {
        assert!(tcp_sent(&p, side).iter().all(|(_, f)| f.ecn == EcnCodepoint::NotEct && !f.flags.intersects(ECE_CWR)));
    }
}

#[test]
fn a_ce_mark_is_echoed_with_ece_until_a_segment_with_cwr_arrives() {
    let mut p = pair(95, Ecn::On, Ecn::Passive);
    let (c, _, s) = connect(&mut p, 80);
    p.mark_ce_nth(Side::A, p.frames_sent(Side::A) + 3);
    let data = pattern(200_000, 95);
    let t = transfer(&mut p, Side::A, c, s, &data, Duration::from_secs(10));
    assert!(t.eof && t.received == data);
    assert_eq!(p.ce_marked, 1);
    let a_sent = tcp_sent(&p, Side::A);
    let ce = a_sent.iter().find(|(_, f)| f.ecn == EcnCodepoint::Ce).expect("the marked segment").1;
    let cwr = cwr_segments(&p);
    assert_eq!(cwr.len(), 1, "one reduction, one CWR: {cwr:?}");
    let cwr = cwr[0];
    assert!(cwr.len > 0 && cwr.ecn == EcnCodepoint::Ect0 && cwr.seq > ce.seq, "CWR rides on new data: {cwr:?}");
    // B: ECE on every ACK that acknowledges the marked segment but not yet the CWR segment, none before or after.
    let acks: Vec<TcpFields> = tcp_sent(&p, Side::B).into_iter().map(|(_, f)| f).skip(1).collect();
    let echoing: Vec<bool> = acks.iter().map(|f| f.flags.contains(TcpFlags::ECE)).collect();
    let expected: Vec<bool> = acks.iter().map(|f| f.ack > ce.seq && f.ack <= cwr.seq).collect();
    assert_eq!(echoing, expected, "ECE from the CE mark to the CWR");
    assert!(echoing.iter().filter(|e| **e).count() >= 2, "the echo is repeated: {echoing:?}");
    assert_eq!(info(&p, Side::B, s).counters.ce_received, 1);
    let a = info(&p, Side::A, c).counters;
    assert_eq!((a.cwnd_reductions_ecn, a.ece_received), (1, echoing.iter().filter(|e| **e).count() as u64));
}

#[test]
fn a_ce_mark_and_a_cwr_are_acknowledged_at_once() {
    let mut p = pair(96, Ecn::On, Ecn::Passive);
    let (c, _, _s) = connect(&mut p, 80);
    p.run_until_idle();
    p.command(Side::A, Command::TcpSetNoDelay { sock: c, nodelay: true }).unwrap();
    let small = |p: &mut Pair, byte: u8| {
        p.command(Side::A, Command::TcpSend { sock: c, data: vec![byte; 100] }).unwrap();
        let sent_at = p.now;
        p.run_until(p.now + ms(200));
        let (at, ack) = *tcp_sent(p, Side::B).last().unwrap();
        (at - sent_at, ack.flags, *tcp_sent(p, Side::A).iter().rev().find(|(_, f)| f.len > 0).map(|(_, f)| f).unwrap())
    };
    // A lone segment is acknowledged after the delayed-ACK time (40 ms) ...
    let (delay, flags, _) = small(&mut p, 1);
    assert_eq!((delay, flags), (ms(41), TcpFlags::ACK));
    // ... but a CE-marked one at once (Linux's quick-ACK on CE), with ECE.
    p.mark_ce_nth(Side::A, p.frames_sent(Side::A) + 1);
    let (delay, flags, seg) = small(&mut p, 2);
    assert_eq!((delay, flags, seg.ecn), (ms(1), TcpFlags::ACK | TcpFlags::ECE, EcnCodepoint::Ce));
    // A reduces its window and says CWR on its next new segment, which B acknowledges at once without ECE.
    let (delay, flags, seg) = small(&mut p, 3);
    assert!(seg.flags.contains(TcpFlags::CWR), "{seg:?}");
    assert_eq!((delay, flags), (ms(1), TcpFlags::ACK));
    // The next segments are acknowledged as usual again (the quick ACKs are spent).
    let (delay, _, seg) = small(&mut p, 4);
    assert!(!seg.flags.contains(TcpFlags::CWR));
    assert_eq!(delay, ms(41));
}

/// A's connection sends `data` to B (A On, B Passive, `algorithm`) with CE marks on the given data segments
/// (1-based among A's data segments), stepping one frame at a time; returns the pair, the sockets and, for each
/// ECN reduction, A's connection just before and just after the ACK that caused it.
fn run_marked(
    seed: u64,
    algorithm: CongestionAlgorithm,
    marks: &[u64],
    drops: &[u64],
    data: &[u8],
) -> (Pair, SocketHandle, SocketHandle, Vec<(TcpInfo, TcpInfo)>) {
    let (mut ca, mut cb) = configs(seed);
    (ca.tcp.ecn, cb.tcp.ecn, ca.tcp.congestion) = (Ecn::On, Ecn::Passive, algorithm);
    let mut p = Pair::with_configs(ca, cb);
    let (c, _, s) = connect(&mut p, 80);
    p.run_until_idle();
    let before = p.frames_sent(Side::A);
    for m in marks {
        p.mark_ce_nth(Side::A, before + m);
    }
    for d in drops {
        p.drop_nth(Side::A, before + d);
    }
    assert!(data.len() <= 256 * 1024, "fits the buffers: no reads needed while stepping");
    p.command(Side::A, Command::TcpSend { sock: c, data: data.to_vec() }).unwrap();
    p.command(Side::A, Command::TcpShutdown { sock: c }).unwrap();
    let mut reductions = Vec::new();
    let deadline = p.now + Duration::from_secs(30);
    while p.now < deadline {
        let was = info(&p, Side::A, c);
        if !p.step_one() {
            break;
        }
        let Some(now) = p.a.tcp_info(c) else { break };
        if now.counters.cwnd_reductions_ecn > was.counters.cwnd_reductions_ecn {
            reductions.push((was, now));
        }
    }
    (p, c, s, reductions)
}

#[test]
fn an_echo_reduces_the_window_once_per_window_and_the_next_new_segment_says_cwr() {
    let data = pattern(200_000, 97);
    for algorithm in [CongestionAlgorithm::Cubic, CongestionAlgorithm::NewReno] {
        // Three marks in the first flight: one congestion signal for that window.
        let (mut p, c, s, reductions) = run_marked(97, algorithm.clone(), &[4, 5, 6], &[], &data);
        let mut got = Vec::new();
        read_available(&mut p, Side::B, s, &mut got);
        assert_eq!(sha256_hex(&got), sha256_hex(&data), "{algorithm:?}");
        assert_eq!(p.ce_marked, 3);
        let a = info(&p, Side::A, c).counters;
        assert_eq!(a.cwnd_reductions_ecn, 1, "{algorithm:?}: {a:?}");
        assert!(a.ece_received > 1, "{algorithm:?}: several ECE ACKs, one reduction: {a:?}");
        // An ECN reduction is no loss: nothing retransmitted.
        assert_eq!((a.retransmitted_segments, a.fast_retransmits, a.timeouts), (0, 0, 0), "{algorithm:?}");
        // The multiplicative decrease (RFC 3168 §6.1.2 as the algorithm reduces for a loss).
        let (was, now) = &reductions[0];
        let mss = was.mss;
        let expected = match algorithm {
            CongestionAlgorithm::NewReno => ((was.snd_nxt - was.snd_una) / 2).max(2 * mss),
            _ => (was.cwnd * 7 / 10).max(2 * mss),
        };
        assert_eq!(now.ssthresh, expected, "{algorithm:?}: {was:?} -> {now:?}");
        assert!(now.cwnd < was.cwnd && now.cwnd <= now.ssthresh + mss, "{algorithm:?}: {} -> {}", was.cwnd, now.cwnd);
        // CWR on the first new data segment sent after the reduction, and on no other.
        let sent = tcp_sent(&p, Side::A);
        let new = first_transmissions(&sent);
        let after: Vec<TcpFields> =
            sent.iter().zip(new).filter(|((_, f), new)| *new && f.seq >= now.snd_nxt).map(|((_, f), _)| *f).collect();
        assert!(after[0].flags.contains(TcpFlags::CWR), "{:?}", after[0]);
        assert_eq!(cwr_segments(&p).len(), 1);
    }
}

#[test]
fn marks_in_later_windows_reduce_again() {
    let data = pattern(250_000, 98);
    let (mut p, c, s, reductions) = run_marked(98, CongestionAlgorithm::Cubic, &[4, 5, 60, 61, 150], &[], &data);
    let mut got = Vec::new();
    read_available(&mut p, Side::B, s, &mut got);
    assert_eq!(got, data);
    let a = info(&p, Side::A, c).counters;
    assert_eq!(p.ce_marked, 5);
    assert_eq!(a.cwnd_reductions_ecn, 3, "marks 4-5, 60-61 and 150 fall in three windows: {a:?}");
    assert_eq!(reductions.len(), 3);
    // Each reduction came after the previous one's window was acknowledged.
    for w in reductions.windows(2) {
        assert!(w[1].0.snd_una > w[0].1.snd_nxt, "{:?} then {:?}", w[0].1, w[1].0);
    }
    assert_eq!(cwr_segments(&p).len(), 3);
    assert_eq!(a.retransmitted_segments, 0);
}

#[test]
fn an_echo_during_fast_recovery_does_not_reduce_the_window_again() {
    // Data segment 3 is lost; 8, beyond it in the same flight, is marked: its ECE arrives on a duplicate ACK
    // while fast recovery repairs the loss, whose reduction already covers that window.
    let data = pattern(150_000, 99);
    let (mut p, c, s, reductions) = run_marked(99, CongestionAlgorithm::Cubic, &[8], &[3], &data);
    let mut got = Vec::new();
    read_available(&mut p, Side::B, s, &mut got);
    assert_eq!(got, data);
    let a = info(&p, Side::A, c).counters;
    assert_eq!((a.fast_retransmits, p.ce_marked), (1, 1), "{a:?}");
    assert!(a.ece_received > 0, "{a:?}");
    assert_eq!(a.cwnd_reductions_ecn, 0, "{a:?}");
    assert!(reductions.is_empty());
    // The loss's reduction sent CWR (RFC 3168 §6.1.2: any reduction), which ended B's echo.
    assert_eq!(cwr_segments(&p).len(), 1);
    let last_b = tcp_sent(&p, Side::B).last().unwrap().1;
    assert!(!last_b.flags.contains(TcpFlags::ECE));
}

#[test]
fn a_loss_in_a_window_already_reduced_for_an_echo_does_not_reduce_it_again() {
    // Segment 2 is marked, 6 lost: the echo reduces the window first, then fast recovery repairs the loss
    // in the same window without a second reduction (RFC 3168 §6.1.2).
    let data = pattern(150_000, 100);
    let (mut p, c, s, reductions) = run_marked(100, CongestionAlgorithm::Cubic, &[2], &[6], &data);
    let mut got = Vec::new();
    read_available(&mut p, Side::B, s, &mut got);
    assert_eq!(got, data);
    let a = info(&p, Side::A, c);
    assert_eq!((a.counters.cwnd_reductions_ecn, a.counters.fast_retransmits), (1, 1), "{:?}", a.counters);
    let ssthresh = reductions[0].1.ssthresh;
    assert_eq!(a.ssthresh, ssthresh, "the loss left ssthresh where the echo put it");
}

#[test]
fn a_transfer_with_many_ce_marks_completes_intact_without_retransmissions() {
    let mut p = pair(101, Ecn::On, Ecn::Passive);
    let (c, _, s) = connect(&mut p, 80);
    let first = p.frames_sent(Side::A);
    for n in (5..1_200).step_by(37) {
        p.mark_ce_nth(Side::A, first + n);
    }
    let data = pattern(2_000_000, 101);
    let t = transfer(&mut p, Side::A, c, s, &data, Duration::from_secs(60));
    assert!(t.eof);
    assert_eq!(sha256_hex(&t.received), sha256_hex(&data));
    let (a, b) = (info(&p, Side::A, c).counters, info(&p, Side::B, s).counters);
    assert!(p.ce_marked >= 30, "{}", p.ce_marked);
    assert_eq!(b.ce_received, p.ce_marked);
    assert!(a.cwnd_reductions_ecn >= 2 && a.cwnd_reductions_ecn <= p.ce_marked, "{a:?}");
    assert_eq!((a.retransmitted_segments, a.timeouts), (0, 0), "{a:?}");
}

#[test]
fn a_retransmitted_syn_does_not_ask_and_the_listener_decides_again() {
    // The first SYN is lost: the second asks for nothing (as Linux with tcp_ecn_fallback), so no ECN.
    let mut p = pair(102, Ecn::On, Ecn::Passive);
    p.drop_next_where(Side::A, 1, frames::is_syn);
    let l = listen(&mut p, Side::B, 80);
    let c = start_connect(&mut p, Side::A, std::net::SocketAddr::from((IP_B, 80)));
    p.run_until(p.now + Duration::from_secs(2));
    let s = accept(&mut p, l);
    let syns: Vec<TcpFlags> =
        tcp_sent(&p, Side::A).iter().map(|(_, f)| f.flags).filter(|f| f.contains(TcpFlags::SYN)).collect();
    assert_eq!(syns, [TcpFlags::SYN | ECE_CWR, TcpFlags::SYN]);
    assert!(!info(&p, Side::A, c).ecn && !info(&p, Side::B, s).ecn);

    // The ECN-setup SYN-ACK is lost: the listener sees the plain retransmitted SYN and answers it plainly.
    let mut p = pair(103, Ecn::On, Ecn::Passive);
    p.drop_next_where(Side::B, 1, frames::is_syn);
    let l = listen(&mut p, Side::B, 80);
    let c = start_connect(&mut p, Side::A, std::net::SocketAddr::from((IP_B, 80)));
    p.run_until(p.now + Duration::from_secs(2));
    let s = accept(&mut p, l);
    let syn_acks: Vec<TcpFlags> =
        tcp_sent(&p, Side::B).iter().map(|(_, f)| f.flags).filter(|f| f.contains(TcpFlags::SYN)).collect();
    assert_eq!(syn_acks, [TcpFlags::SYN | TcpFlags::ACK | TcpFlags::ECE, TcpFlags::SYN | TcpFlags::ACK]);
    assert!(!info(&p, Side::A, c).ecn && !info(&p, Side::B, s).ecn);

    // The SYN-ACK and the retransmitted SYN are lost: the listener's retransmitted ECN-setup SYN-ACK still
    // answers the first SYN, which asked, so ECN is agreed (as Linux decides on the SYN-ACK).
    let mut p = pair(104, Ecn::On, Ecn::Passive);
    p.drop_next_where(Side::B, 1, frames::is_syn);
    p.drop_nth(Side::A, 3); // after the ARP request and the first SYN: the retransmitted SYN
    let l = listen(&mut p, Side::B, 80);
    let c = start_connect(&mut p, Side::A, std::net::SocketAddr::from((IP_B, 80)));
    p.run_until(p.now + Duration::from_secs(3));
    let syns: Vec<TcpFlags> =
        tcp_sent(&p, Side::B).iter().map(|(_, f)| f.flags).filter(|f| f.contains(TcpFlags::SYN)).collect();
    assert_eq!(syns, [TcpFlags::SYN | TcpFlags::ACK | TcpFlags::ECE; 2], "{:#?}", p.lines());
    let s = accept(&mut p, l);
    assert!(info(&p, Side::A, c).ecn && info(&p, Side::B, s).ecn, "{:#?}", p.lines());
}

#[test]
fn a_syn_cookie_connection_does_not_use_ecn() {
    let (mut ca, mut cb) = configs(105);
    ca.tcp.ecn = Ecn::On;
    cb.tcp.syn_queue = 1;
    let mut p = Pair::with_configs(ca, cb);
    let l = listen(&mut p, Side::B, 80);
    // A half-open connection from elsewhere fills B's SYN queue; A's SYN then gets a cookie.
    let other = synack::wire::TcpRepr {
        src_port: 4000,
        dst_port: 80,
        seq_number: SeqNum(7),
        ack_number: SeqNum(0),
        flags: TcpFlags::SYN,
        window_len: 1000,
        urgent_ptr: 0,
        options: Default::default(),
        payload: &[],
    };
    let frame = frames::tcp_frame(
        synack::wire::EthernetAddress([2, 0, 0, 0, 0, 0x0c]),
        synack_tests::MAC_B,
        std::net::Ipv4Addr::new(10, 0, 0, 3),
        IP_B,
        &other,
    );
    let _ = p.b.handle(synack::Input::Frame(&frame), p.now);
    let c = start_connect(&mut p, Side::A, std::net::SocketAddr::from((IP_B, 80)));
    p.run_until(p.now + ms(50));
    assert_eq!(p.b.stats().tcp_syn_cookies_valid, 1);
    let s = accept(&mut p, l);
    let syn_ack = tcp_sent(&p, Side::B)[0].1;
    assert_eq!(syn_ack.flags, TcpFlags::SYN | TcpFlags::ACK, "the cookie's SYN-ACK does not offer ECN");
    assert!(!info(&p, Side::A, c).ecn && !info(&p, Side::B, s).ecn);
    let data = pattern(30_000, 105);
    let t = transfer(&mut p, Side::A, c, s, &data, Duration::from_secs(10));
    assert!(t.eof && t.received == data);
}

#[test]
fn echo_flags_and_marks_on_a_connection_without_ecn_change_nothing() {
    // The same transfer twice, without ECN; the second time every ACK of B arrives with ECE and CWR set and
    // every segment of A arrives CE-marked (a broken router marks Not-ECT packets). Neither end may react:
    // the frames, their times and their numbers stay the same.
    let data = pattern(150_000, 106);
    let run = |broken: bool| {
        let mut p = Pair::new(106);
        let (c, _, s) = connect(&mut p, 80);
        if broken {
            p.rewrite_next_where(Side::B, u64::MAX, frames::is_pure_ack, |f| {
                frames::set_tcp_flags(f, |fl| fl | ECE_CWR)
            });
            p.rewrite_next_where(Side::A, u64::MAX, frames::is_tcp_data, |f| frames::set_ip_ecn(f, EcnCodepoint::Ce));
        }
        let t = transfer(&mut p, Side::A, c, s, &data, Duration::from_secs(10));
        assert!(t.eof && t.received == data);
        let (a, b) = (info(&p, Side::A, c).counters, info(&p, Side::B, s).counters);
        assert_eq!((a.ece_received, a.cwnd_reductions_ecn, b.ce_received), (0, 0, 0));
        let normal = |f: TcpFields| (f.seq, f.ack, f.len, without(f.flags, ECE_CWR));
        let frames: Vec<_> = [Side::A, Side::B]
            .iter()
            .flat_map(|&side| tcp_sent(&p, side).into_iter().map(move |(at, f)| (side, at, normal(f))))
            .collect();
        (frames, tcp_sent(&p, Side::A).iter().filter(|(_, f)| f.ecn == EcnCodepoint::Ce).count())
    };
    let (plain, _) = run(false);
    let (broken, marked) = run(true);
    assert!(marked > 50, "{marked}");
    assert_eq!(plain, broken);
}

#[test]
fn hostile_ecn_flags_and_codepoints_on_an_ecn_connection_do_no_harm() {
    use rand::{Rng, SeedableRng};
    let mut p = pair(107, Ecn::On, Ecn::Passive);
    let (c, _, s) = connect(&mut p, 80);
    p.command(Side::A, Command::TcpSend { sock: c, data: pattern(20_000, 1) }).unwrap();
    p.run_until(p.now + ms(20));
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(107);
    let codepoints = [EcnCodepoint::NotEct, EcnCodepoint::Ect0, EcnCodepoint::Ect1, EcnCodepoint::Ce];
    // Segments on A's four-tuple into B (and B's into A) near the real sequence numbers, every combination of
    // ACK, ECE, CWR and PSH, with or without data, in every ECN codepoint.
    for i in 0..4_000u32 {
        let (to, sock) = if i % 2 == 0 { (Side::B, s) } else { (Side::A, c) };
        let info = info(&p, to, sock);
        let mut flags = TcpFlags::from_bits_truncate(rng.gen_range(0..16) << 3) | TcpFlags::ACK; // PSH ACK URG ECE
        if rng.gen_bool(0.5) {
            flags |= TcpFlags::CWR;
        }
        let seq = info.rcv_nxt + rng.gen_range(0..3_000) - 1_500;
        let ack = info.snd_una + rng.gen_range(0..3_000) - 1_500;
        let payload: &'static [u8] = if rng.gen_bool(0.5) { b"hostile bytes" } else { b"" };
        let mut seg = synack_tests::tcp::segment_to(&p, to, sock, seq, ack, flags, payload);
        seg.urgent_ptr = 0;
        let (src_mac, dst_mac, src, dst) = match to {
            Side::A => (synack_tests::MAC_B, synack_tests::MAC_A, IP_B, synack_tests::tcp::IP_A),
            Side::B => (synack_tests::MAC_A, synack_tests::MAC_B, synack_tests::tcp::IP_A, IP_B),
        };
        let mut frame = frames::tcp_frame(src_mac, dst_mac, src, dst, &seg);
        frames::set_ip_ecn(&mut frame, codepoints[rng.gen_range(0..4)]);
        let now = p.now;
        let out = p.stack(to).handle(synack::Input::Frame(&frame), now);
        p.absorb_all(to, out);
        if i % 100 == 0 {
            p.run_until(p.now + ms(1));
        }
    }
    // Nothing panicked; both ends still stand (in-window bytes were taken in, as any blind injection that guesses
    // right is) with a usable window, and a new ECN connection carries data intact.
    p.run_until(p.now + ms(500));
    for (side, sock) in [(Side::A, c), (Side::B, s)] {
        let i = info(&p, side, sock);
        assert!(i.state == synack::tcp::TcpState::Established && i.ecn && i.cwnd >= i.mss, "{i:?}");
    }
    let (c2, _, s2) = connect(&mut p, 81);
    let data = pattern(100_000, 107);
    let t = transfer(&mut p, Side::A, c2, s2, &data, Duration::from_secs(30));
    assert!(t.eof && t.received == data && info(&p, Side::A, c2).ecn);
}
