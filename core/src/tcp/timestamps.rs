//! RFC 7323 timestamps: TSval from a per-connection offset on a 1 ms clock (never a wall clock: the stack's
//! `now` plus an offset keyed from the seed, §5.4), TS.Recent and its update rule (§4.3), round-trip time
//! measurement from TSecr (§4.1, RTTM), and protection against wrapped sequence numbers (§5, PAWS) with the
//! 24-day idle rule.

use super::seq::SeqNum;
use super::tcb::Tcb;
use crate::time::Instant;
use crate::wire::{TcpFlags, TcpRepr};
use core::time::Duration;

/// Option bytes a timestamp adds to every segment (NOP, NOP, kind, length, TSval, TSecr).
pub(crate) const TIMESTAMP_OVERHEAD: usize = 12;

/// RFC 7323 §5.5: a TS.Recent older than this is too old to judge by (the peer's clock may have wrapped).
const PAWS_IDLE: Duration = Duration::from_secs(24 * 24 * 60 * 60);

/// Older than `b` in the 32-bit timestamp space (RFC 7323 §5.2: compared as sequence numbers are).
fn ts_before(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

/// A connection's timestamp state.
#[derive(Debug)]
pub(crate) struct Timestamps {
    /// Both SYNs carried the option: every segment but a reset carries one.
    enabled: bool,
    /// Added to our millisecond clock (RFC 7323 §5.4: per connection, unpredictable to others).
    offset: u32,
    /// TS.Recent: the peer's TSval we echo.
    recent: u32,
    /// When TS.Recent was last set.
    recent_at: Instant,
    /// Last.ACK.sent: the acknowledgement number of the last segment we sent.
    last_ack_sent: SeqNum,
    /// Our TSval when the retransmission timer last fired: an echo older than that names a transmission from
    /// before the timeout (the peer's answer to a duplicate echoes TS.Recent from long ago), not the round trip.
    echo_floor: Option<u32>,
}

impl Timestamps {
    pub(crate) fn new(offset: u32) -> Timestamps {
        Timestamps {
            enabled: false,
            offset,
            recent: 0,
            recent_at: Instant::ZERO,
            last_ack_sent: SeqNum(0),
            echo_floor: None,
        }
    }

    pub(crate) fn enabled(&self) -> bool {
        self.enabled
    }

    /// Our TSval at `now`.
    pub(crate) fn value(&self, now: Instant) -> u32 {
        ((now.as_nanos() / 1_000_000) as u32).wrapping_add(self.offset)
    }

    /// The option for a segment sent at `now`: (TSval, TSecr).
    pub(crate) fn option(&self, now: Instant) -> (u32, u32) {
        (self.value(now), self.recent)
    }

    /// A segment acknowledging `ack` is going out.
    pub(crate) fn ack_sent(&mut self, ack: SeqNum) {
        self.last_ack_sent = ack;
    }

    /// The handshake settled whether timestamps are used (`peer`: the peer's SYN's option, if any), and the
    /// peer's first TSval is the first TS.Recent. `rcv_nxt`: what our first ACK will acknowledge.
    pub(crate) fn negotiate(&mut self, ours: bool, peer: Option<(u32, u32)>, rcv_nxt: SeqNum, now: Instant) {
        self.enabled = false;
        if let (true, Some((tsval, _))) = (ours, peer) {
            self.enabled = true;
            self.recent = tsval;
            self.recent_at = now;
            self.last_ack_sent = rcv_nxt;
        }
    }

    /// RFC 7323 §5.3 R1 (PAWS): is this segment an old duplicate, its TSval older than TS.Recent (unless TS.Recent
    /// has been idle for 24 days, §5.5)?
    pub(crate) fn rejects(&self, seg: &TcpRepr<'_>, now: Instant) -> bool {
        let Some((tsval, _)) = seg.options.timestamp.filter(|_| self.enabled) else {
            return false;
        };
        ts_before(tsval, self.recent) && now.saturating_duration_since(self.recent_at) < PAWS_IDLE
    }

    /// RFC 7323 §4.3: an acceptable segment at `seq` with TSval at least TS.Recent, not beyond what we last
    /// acknowledged, sets TS.Recent (so a delayed ACK echoes the earliest unacknowledged segment's TSval, and
    /// out-of-order segments do not advance it).
    pub(crate) fn update_recent(&mut self, seg: &TcpRepr<'_>, now: Instant) {
        let Some((tsval, _)) = seg.options.timestamp.filter(|_| self.enabled) else {
            return;
        };
        if !ts_before(tsval, self.recent) && seg.seq_number <= self.last_ack_sent {
            self.recent = tsval;
            self.recent_at = now;
        }
    }

    /// The retransmission timer fired at `now`.
    pub(crate) fn timed_out(&mut self, now: Instant) {
        self.echo_floor = Some(self.value(now));
    }

    /// RFC 7323 §4.1 RTTM: the round trip an ACK's TSecr measures (it echoes the TSval of the segment that
    /// advanced the peer's RCV.NXT, a retransmission included, so Karn's ambiguity does not arise). An echo from
    /// before the last timeout is not taken: the peer answers a duplicate of data it already has with the
    /// TS.Recent of the segment that first delivered it, which may be minutes old, and one such sample would
    /// inflate SRTT (and the RTO) by as much.
    pub(crate) fn round_trip(&self, seg: &TcpRepr<'_>, now: Instant) -> Option<Duration> {
        let (_, tsecr) = seg.options.timestamp.filter(|_| self.enabled)?;
        if tsecr == 0 || self.echo_floor.is_some_and(|floor| ts_before(tsecr, floor)) {
            return None;
        }
        let elapsed = self.value(now).wrapping_sub(tsecr);
        // An echo from the future (or older than 24 days) is no measurement.
        (elapsed < (1 << 31)).then(|| Duration::from_millis(u64::from(elapsed)))
    }

    /// Does `seg` echo a TSval older than ours at `at`, so the segment that triggered it was sent before `at`?
    /// (False without timestamps, or when the echo cannot tell, as within one millisecond.)
    pub(crate) fn echoes_before(&self, seg: &TcpRepr<'_>, at: Instant) -> bool {
        match seg.options.timestamp.filter(|_| self.enabled) {
            Some((_, tsecr)) if tsecr != 0 => ts_before(tsecr, self.value(at)),
            _ => false,
        }
    }

    /// RFC 6191 with timestamps: how a SYN's TSval compares with TS.Recent (newer proves a new incarnation, older
    /// fails PAWS). `None`: the SYN carries no timestamp (or the old connection used none).
    pub(crate) fn syn_timestamp_order(&self, syn: &TcpRepr<'_>) -> Option<std::cmp::Ordering> {
        let (tsval, _) = syn.options.timestamp.filter(|_| self.enabled)?;
        Some(if tsval == self.recent {
            std::cmp::Ordering::Equal
        } else if ts_before(self.recent, tsval) {
            std::cmp::Ordering::Greater
        } else {
            std::cmp::Ordering::Less
        })
    }
}

impl Tcb {
    /// RFC 7323 §5.3 R1 (PAWS) as Linux applies it: an old duplicate is dropped, but not a duplicate ACK that was
    /// merely overtaken on the way (Linux's `tcp_disordered_ack`): a pure ACK at RCV.NXT acknowledging SND.UNA,
    /// not updating the window, whose TSval is behind TS.Recent by less than an RTO. A path that reorders ACKs
    /// delivers such ACKs all the time, and their SACK blocks are what RACK needs to see the reordering.
    pub(crate) fn paws_rejects(&self, seg: &TcpRepr<'_>, now: Instant) -> bool {
        if !self.ts.rejects(seg, now) {
            return false;
        }
        let disordered_ack = seg.flags == TcpFlags::ACK
            && seg.payload.is_empty()
            && seg.seq_number == self.rcv.nxt()
            && seg.ack_number == self.snd.una()
            && usize::from(seg.window_len) << self.snd.wscale() == self.snd.wnd()
            && seg.options.timestamp.is_some_and(|(tsval, _)| {
                let behind = u64::from(self.ts.recent.wrapping_sub(tsval));
                behind <= self.rtt.rto().as_millis() as u64
            });
        !disordered_ack
    }

    /// Option bytes every data segment carries (the timestamp, if used): the MSS counts them.
    pub(crate) fn option_overhead(&self) -> usize {
        if self.ts.enabled() {
            TIMESTAMP_OVERHEAD
        } else {
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{TcpFlags, TcpOptions};

    fn seg(seq: u32, ts: Option<(u32, u32)>) -> TcpRepr<'static> {
        TcpRepr {
            src_port: 1,
            dst_port: 2,
            seq_number: SeqNum(seq),
            ack_number: SeqNum(0),
            flags: TcpFlags::ACK,
            window_len: 1000,
            urgent_ptr: 0,
            options: TcpOptions { timestamp: ts, ..TcpOptions::default() },
            payload: &[],
        }
    }

    fn negotiated(recent: u32, rcv_nxt: u32) -> Timestamps {
        let mut t = Timestamps::new(1000);
        t.negotiate(true, Some((recent, 0)), SeqNum(rcv_nxt), Instant::ZERO);
        t
    }

    #[test]
    fn negotiated_only_when_both_syns_carry_it() {
        let mut t = Timestamps::new(7);
        t.negotiate(true, None, SeqNum(1), Instant::ZERO);
        assert!(!t.enabled());
        t.negotiate(false, Some((5, 0)), SeqNum(1), Instant::ZERO);
        assert!(!t.enabled());
        t.negotiate(true, Some((5, 0)), SeqNum(1), Instant::ZERO);
        assert!(t.enabled());
        assert_eq!(t.option(Instant::from_millis(3)), (10, 5), "TSval = clock (ms) + offset, TSecr = TS.Recent");
    }

    #[test]
    fn paws_rejects_an_older_tsval_across_the_wrap_unless_idle_for_24_days() {
        let t = negotiated(5, 100); // TS.Recent just past a wrap of the peer's clock
        assert!(t.rejects(&seg(100, Some((u32::MAX - 10, 0))), Instant::from_secs(1)));
        assert!(!t.rejects(&seg(100, Some((6, 0))), Instant::from_secs(1)));
        assert!(
            !t.rejects(&seg(100, None), Instant::from_secs(1)),
            "a segment without a timestamp is judged by sequence"
        );
        assert!(!t.rejects(&seg(100, Some((1, 0))), Instant::from_secs(25 * 86_400)), "idle for 24 days");
    }

    #[test]
    fn ts_recent_follows_the_segment_that_our_next_ack_covers() {
        let mut t = negotiated(10, 100);
        t.update_recent(&seg(100, Some((20, 0))), Instant::ZERO);
        assert_eq!(t.recent, 20);
        // Beyond Last.ACK.sent (data we have not acknowledged yet): TS.Recent stays for the delayed ACK.
        t.update_recent(&seg(200, Some((30, 0))), Instant::ZERO);
        assert_eq!(t.recent, 20);
        t.ack_sent(SeqNum(300));
        t.update_recent(&seg(200, Some((30, 0))), Instant::ZERO);
        assert_eq!(t.recent, 30);
        // Never backwards.
        t.update_recent(&seg(250, Some((25, 0))), Instant::ZERO);
        assert_eq!(t.recent, 30);
    }

    #[test]
    fn the_echo_measures_the_round_trip_in_milliseconds() {
        let t = negotiated(10, 100);
        let sent = t.value(Instant::from_millis(40));
        let rtt = t.round_trip(&seg(100, Some((11, sent))), Instant::from_millis(65));
        assert_eq!(rtt, Some(Duration::from_millis(25)));
        assert_eq!(t.round_trip(&seg(100, Some((11, 0))), Instant::from_millis(65)), None, "TSecr 0: no echo");
        assert_eq!(t.round_trip(&seg(100, Some((11, sent + 100))), Instant::from_millis(65)), None, "from the future");
    }

    #[test]
    fn an_echo_from_before_the_last_timeout_is_no_measurement() {
        let mut t = negotiated(10, 100);
        let old = t.value(Instant::from_millis(1_000));
        // The RTO fired at 61 s; the peer answers the retransmission of data it already had with the echo of
        // the first delivery, 60 s old: not a 60 s round trip.
        t.timed_out(Instant::from_millis(61_000));
        assert_eq!(t.round_trip(&seg(100, Some((11, old))), Instant::from_millis(61_010)), None);
        let fresh = t.value(Instant::from_millis(61_000));
        assert_eq!(
            t.round_trip(&seg(100, Some((12, fresh))), Instant::from_millis(61_010)),
            Some(Duration::from_millis(10))
        );
    }
}
