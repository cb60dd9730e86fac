//! Data-path probes: congestion control and loss recovery as RFCs 5681, 6298, 6937, 8985 and 9438 and Linux have
//! them (the window after SACK recovery, the RTO margin over SRTT, tail loss probes before the RTO, CUBIC after a
//! timeout; the restart after idle; no growth of a window the application leaves unused).

use std::time::Duration;
use synack::{Command, Instant, Reply, SocketHandle};
use synack_tests::frames::is_tcp_data;
use synack_tests::tcp::{connect, read_available};
use synack_tests::{Pair, Side};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A connection from A to B over a path of 150 ms each way, after 30 round trips of `segments` full segments
/// each (what B received is in the returned sink): SRTT has settled and RTTVAR decayed.
fn steady_long_path(mut p: Pair, segments: usize) -> (Pair, SocketHandle, SocketHandle, usize, Vec<u8>) {
    p.delay = ms(150);
    let l = synack_tests::tcp::listen(&mut p, Side::B, 80);
    let c =
        synack_tests::tcp::start_connect(&mut p, Side::A, std::net::SocketAddr::from((synack_tests::tcp::IP_B, 80)));
    p.run_until(p.now + ms(1000)); // ARP, then the handshake
    let s = synack_tests::tcp::accept(&mut p, l);
    let mut sink = Vec::new();
    let mss = p.a.tcp_info(c).unwrap().mss;
    for _ in 0..30 {
        p.command(Side::A, Command::TcpSend { sock: c, data: vec![5u8; segments * mss] }).unwrap();
        p.run_until(p.now + ms(400));
        read_available(&mut p, Side::B, s, &mut sink);
    }
    (p, c, s, mss, sink)
}

/// Data segments `from` sent at exactly `at` (with an infinitely fast link, one flight leaves at one instant).
fn data_sent_at(p: &Pair, from: Side, at: Instant) -> usize {
    p.log.iter().filter(|l| l.from == from && l.at == at && is_tcp_data(&l.frame)).count()
}

/// RFC 9438 §5.8 ("Behavior for Application-Limited Flows"): "CUBIC does not increase its congestion window
/// if a flow is currently limited by the application instead of the congestion window." Linux: `tcp_cong_avoid`
/// → `tcp_is_cwnd_limited` (in slow start: cwnd < 2 * max_packets_out) gates every increase. Here the
/// application sends one 100-byte message per round trip (one segment in flight against a window of ten):
/// every ACK grew cwnd anyway, and the window earned by nothing was then spent as one line-rate burst.
#[test]
fn cwnd_does_not_grow_while_application_limited() {
    let mut p = Pair::new(7101);
    let (c, _, s) = connect(&mut p, 80);
    let iw = p.a.tcp_info(c).unwrap().cwnd;
    let mut sink = Vec::new();
    for _ in 0..300 {
        p.command(Side::A, Command::TcpSend { sock: c, data: vec![7u8; 100] }).unwrap();
        p.run_until(p.now + ms(60)); // past B's delayed ACK: the message is acknowledged
        read_available(&mut p, Side::B, s, &mut sink);
    }
    assert_eq!(sink.len(), 30_000);
    let info = p.a.tcp_info(c).unwrap();
    assert_eq!(info.in_flight, 0);
    // A bulk write now: how many segments leave at once?
    let t = p.now;
    p.command(Side::A, Command::TcpSend { sock: c, data: vec![1u8; 200_000] }).unwrap();
    let burst = data_sent_at(&p, Side::A, t);
    assert!(
        info.cwnd <= iw && burst <= iw / info.mss,
        "after 300 round trips with one 100-byte segment in flight (never cwnd-limited) cwnd grew from {iw} to \
         {} bytes; the next write left as a burst of {burst} segments (initial window {} segments)",
        info.cwnd,
        iw / info.mss
    );
}

/// RFC 5681 §4.1: "TCP SHOULD set cwnd to no more than RW before beginning transmission if the TCP has not sent
/// data in an interval exceeding the retransmission timeout", RW = min(IW, cwnd). Linux does so by default
/// (`net.ipv4.tcp_slow_start_after_idle = 1`, `tcp_cwnd_restart` called from `tcp_event_data_sent`), and CUBIC
/// restarts its epoch after idle (`cubictcp_cwnd_event(CA_EVENT_TX_START)`). synack kept the window of the last
/// bulk transfer through any idle period and released it as one burst.
#[test]
fn cwnd_restarts_after_idle_longer_than_rto() {
    let mut p = Pair::new(7102);
    let (c, _, s) = connect(&mut p, 80);
    // Grow the window with a bulk transfer B reads as it comes (the connection stays open).
    let mut sink = Vec::new();
    let data = vec![3u8; 400_000];
    let mut sent = 0;
    while sink.len() < data.len() {
        while sent < data.len() {
            match p.command(
                Side::A,
                Command::TcpSend { sock: c, data: data[sent..(sent + 65536).min(data.len())].to_vec() },
            ) {
                Ok(Reply::Sent { len }) => sent += len,
                _ => break,
            }
        }
        read_available(&mut p, Side::B, s, &mut sink);
        if !p.step_once() {
            break;
        }
    }
    p.run_until_idle();
    let before = p.a.tcp_info(c).unwrap();
    let iw = 10 * before.mss;
    assert!(before.cwnd > 2 * iw, "the bulk transfer grew cwnd ({})", before.cwnd);
    // Idle for 5 s: many RTOs (the RTO here is about rto_min).
    p.run_until(p.now + Duration::from_secs(5));
    assert!(before.rto < Duration::from_secs(1));
    let t = p.now;
    p.command(Side::A, Command::TcpSend { sock: c, data: vec![1u8; 300_000] }).unwrap();
    let burst = data_sent_at(&p, Side::A, t);
    assert!(
        burst <= 10,
        "after 5 s idle (RTO {:?}) the sender burst {burst} segments at once (cwnd {} bytes before the idle \
         period); RFC 5681 §4.1 restart window is min(IW, cwnd) = 10 segments",
        before.rto,
        before.cwnd
    );
}

/// RFC 6298 §2.4 puts a 1 s floor under the RTO; Linux, whose 200 ms `rto_min` synack documents as its choice,
/// puts the floor under the variance term, not under the whole RTO: `tcp_rtt_estimator` keeps
/// `mdev_max_us >= tcp_rto_min_us(sk)` and `tcp_set_rto` makes RTO = SRTT + max(4·RTTVAR, rto_min) (the
/// "RTO = srtt + 200 ms" rule of thumb), so a delayed ACK or a little jitter on a long path never fires it.
/// synack clamped SRTT + 4·RTTVAR to [rto_min, rto_max]: on a steady 300 ms path RTTVAR decayed towards zero and
/// the RTO to about 301 ms, and the first segment the peer acknowledged with its (200 ms, Windows') delayed ACK
/// was retransmitted needlessly.
#[test]
fn rto_keeps_a_margin_over_srtt_on_a_steady_long_path() {
    let (a, mut b) = synack_tests::configs(7103);
    b.tcp.delayed_ack = ms(200); // Windows' delayed-ACK time (Linux's TCP_DELACK_MAX)
                                 // 30 round trips of two full segments each: B acknowledges every second segment at once.
    let (mut p, c, _s, _mss, _sink) = steady_long_path(Pair::with_configs(a, b), 2);
    let info = p.a.tcp_info(c).unwrap();
    let srtt = info.srtt.unwrap();
    let data_before = p.log.iter().filter(|l| l.from == Side::A && is_tcp_data(&l.frame)).count();
    // One small request: B's delayed-ACK timer (200 ms) acknowledges it.
    p.command(Side::A, Command::TcpSend { sock: c, data: vec![6u8; 100] }).unwrap();
    p.run_until(p.now + ms(1000));
    let data_after = p.log.iter().filter(|l| l.from == Side::A && is_tcp_data(&l.frame)).count();
    assert!(
        info.rto >= srtt + ms(200) && data_after - data_before == 1,
        "SRTT {srtt:?}, RTTVAR {:?}, RTO {:?} (Linux: >= SRTT + 200 ms; RFC 6298: >= 1 s); a 100-byte segment \
         acknowledged by a 200 ms delayed ACK went {} times: {:#?}",
        info.rttvar,
        info.rto,
        data_after - data_before,
        &p.lines()[p.lines().len().saturating_sub(6)..]
    );
}

/// RFC 9438 §4.8: "During the first congestion avoidance stage after a timeout, CUBIC increases its congestion
/// window size using Figure 1, where t is the elapsed time since the beginning of the current congestion
/// avoidance stage, K is set to 0, and W_max is set to the congestion window size at the beginning of the
/// current congestion avoidance stage" (and W_est starts there too). Linux: `cubictcp_state(TCP_CA_Loss)` →
/// `bictcp_reset` zeroes `last_max_cwnd`, so `bictcp_update` takes K = 0 and origin = cwnd. synack's
/// `on_timeout` kept the W_max of the loss (`reduce`), so after slow start back to ssthresh the curve climbed
/// concavely back towards the pre-timeout window (K ≈ 4.2 s for 100 segments) instead of starting flat.
#[test]
fn cubic_after_a_timeout_starts_its_curve_flat_at_the_window_reached() {
    use synack::tcp::{AckSample, CongestionControl, Cubic, SeqNum};
    let mss = 1000;
    let rtt = ms(100);
    let mut c = Cubic::new(mss).with_hystart(false);
    let mut now = Instant::ZERO + Duration::from_secs(1);
    let mut ack = SeqNum(0);
    let mut on_ack = |c: &mut Cubic, now: Instant| {
        ack = ack + mss;
        c.on_ack(&AckSample {
            acked: mss,
            mss,
            now,
            srtt: Some(rtt),
            rtt: Some(rtt),
            ack,
            snd_max: ack + 100_000,
            cwnd_limited: true,
        });
    };
    while c.cwnd() < 100 * mss {
        on_ack(&mut c, now);
    }
    now = now + rtt;
    c.on_timeout(100 * mss, mss);
    assert_eq!((c.cwnd(), c.ssthresh()), (mss, 70 * mss));
    // Slow start back to ssthresh, one window per round trip.
    while c.cwnd() < c.ssthresh() {
        for _ in 0..c.cwnd() / mss {
            on_ack(&mut c, now);
        }
        now = now + rtt;
    }
    let at_ca = c.cwnd();
    // One second of congestion avoidance, a window of ACKs per round trip.
    for _ in 0..10 {
        for _ in 0..c.cwnd() / mss {
            on_ack(&mut c, now);
        }
        now = now + rtt;
    }
    // RFC 9438: W_max = 70, K = 0: W_cubic(1.1 s) = 70 + 0.4·1.1³ ≈ 70.5 segments; W_est grows α = 9/17 per
    // round: ≈ 75 segments. Allow up to 80.
    assert!(
        c.cwnd() <= 80 * mss,
        "1 s after congestion avoidance resumed at {} segments following a timeout, cwnd is {} segments: the \
         curve aims at the pre-timeout W_max (100) instead of starting flat (K = 0, W_max = cwnd at the start \
         of congestion avoidance: about 75)",
        at_ca / mss,
        c.cwnd() / mss
    );
}

/// RFC 8985 §7.2 `TLP_calc_PTO`: "If Now() + PTO > TCP_RTO_expiration(): PTO = TCP_RTO_expiration() - Now()":
/// when the probe timeout would come after the RTO, the probe is sent at the RTO's time *instead of* a
/// retransmission timeout (Linux `tcp_schedule_loss_probe`: `timeout = min(timeout, rto_delta)`, the loss-probe
/// timer replacing the RTO timer). synack's `arm_tail_loss_probe` armed no probe at all then, so the RTO fired:
/// cwnd collapsed to one segment and the RTO backed off; on a steady path a tail loss was never probed. Here:
/// 150 ms each way, ten segments in flight, the last one lost.
#[test]
fn a_tail_loss_is_probed_at_the_rto_time_when_the_pto_would_come_later() {
    let (mut p, c, s, mss, mut sink) = steady_long_path(Pair::new(7104), 10);
    let before = p.a.tcp_info(c).unwrap();
    assert_eq!(before.in_flight, 0);
    p.drop_next_data_at(Side::A, (before.snd_nxt + 9 * mss).0);
    p.command(Side::A, Command::TcpSend { sock: c, data: vec![6u8; 10 * mss] }).unwrap();
    p.run_until(p.now + ms(3000));
    read_available(&mut p, Side::B, s, &mut sink);
    assert_eq!(sink.len(), 31 * 10 * mss);
    let after = p.a.tcp_info(c).unwrap();
    let (timeouts, probes) = (
        after.counters.timeouts - before.counters.timeouts,
        after.counters.tail_loss_probes - before.counters.tail_loss_probes,
    );
    assert!(
        timeouts == 0 && probes == 1,
        "SRTT {:?}, RTO {:?}: PTO 2·SRTT > RTO, and the lost last segment was repaired by {timeouts} RTO(s) and \
         {probes} tail loss probe(s) (RFC 8985: a probe at the RTO time, no timeout); cwnd {} -> {} bytes",
        before.srtt,
        before.rto,
        before.cwnd,
        after.cwnd
    );
}

/// RFC 6937 §3 (PRR), at the end of recovery: "cwnd = ssthresh"; RFC 6675 §5 sets cwnd = ssthresh on entry and
/// nothing lowers it after. Linux `tcp_end_cwnd_reduction`: cwnd = ssthresh. synack ended SACK recovery with
/// RFC 6582's NewReno rule min(ssthresh, FlightSize + SMSS) (`window_after_recovery`): a loss in a response the
/// application had finished writing left nothing in flight at the end, so cwnd dropped to 2 segments (the
/// loss answered like a timeout), and the next response started from there.
#[test]
fn sack_recovery_ends_with_cwnd_at_ssthresh() {
    let mut p = Pair::new(7105);
    let (c, _, s) = connect(&mut p, 80);
    let mss = p.a.tcp_info(c).unwrap().mss;
    let mut sink = Vec::new();
    p.command(Side::A, Command::TcpSend { sock: c, data: vec![5u8; 10 * mss] }).unwrap();
    p.run_until(p.now + ms(100));
    read_available(&mut p, Side::B, s, &mut sink);
    let before = p.a.tcp_info(c).unwrap();
    assert!(before.timestamps && before.in_flight == 0);
    // Twenty segments, the fifth lost; nothing more to send after them.
    p.drop_next_data_at(Side::A, (before.snd_nxt + 4 * mss).0);
    p.command(Side::A, Command::TcpSend { sock: c, data: vec![6u8; 20 * mss] }).unwrap();
    p.run_until(p.now + ms(1000));
    read_available(&mut p, Side::B, s, &mut sink);
    assert_eq!(sink.len(), 30 * mss);
    let after = p.a.tcp_info(c).unwrap();
    assert_eq!(after.counters.timeouts, 0);
    assert_eq!(after.counters.fast_retransmits, 1);
    assert!(!after.in_recovery);
    assert!(
        after.cwnd >= after.ssthresh,
        "after SACK recovery of one lost segment, cwnd {} < ssthresh {} (cwnd before {}): RFC 6937 ends recovery \
         with cwnd = ssthresh",
        after.cwnd,
        after.ssthresh,
        before.cwnd
    );
}
