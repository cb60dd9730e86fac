//! RACK (RFC 8985): loss detection by time for SACK connections. A segment is lost once a segment sent
//! sufficiently *later* has been delivered — later by send time, not by sequence number — so a retransmission
//! that is lost again is found like any other loss, and a path that reorders by less than the reordering window
//! makes nobody retransmit. The window starts at a quarter of the minimum RTT (none at all in recovery until
//! reordering has been seen) and grows with each round trip whose D-SACKs (RFC 2883) show a retransmission was
//! needless.
//!
//! The log below keeps one entry per transmitted range (split where a retransmission covers part of one); the
//! peer's SACKs mark entries delivered only when they cover all of an entry, so a hostile peer's SACK blocks
//! cannot fragment it.

use super::sack::Scoreboard;
use super::seq::SeqNum;
use crate::time::{Instant, Span};
use core::time::Duration;
use std::collections::VecDeque;

/// The latest transmission of `[start, end)`.
#[derive(Clone, Copy, Debug)]
struct Sent {
    start: SeqNum,
    end: SeqNum,
    /// When it was (last) sent.
    at: Instant,
    /// Which transmission of the connection that was (they count up): orders segments sent at one instant,
    /// where a retransmission may follow new data.
    order: u64,
    retransmitted: bool,
    /// Marked lost and not sent again since.
    lost: bool,
    /// The peer SACKed all of it.
    sacked: bool,
}

impl Sent {
    /// Anything but a plain segment sent once and still in flight.
    fn flagged(&self) -> bool {
        self.retransmitted || self.lost || self.sacked
    }

    fn len(&self) -> usize {
        self.end - self.start
    }
}

/// Linux's `tcp_max_reordering`-like cap on the reordering window's growth (in quarters of the min RTT; the
/// window never exceeds SRTT anyway).
const MAX_REO_WND_MULT: u32 = 64;
/// Recoveries without a D-SACK after which the reordering window shrinks back (RFC 8985 §6.2: 16).
const REO_WND_PERSIST: u32 = 16;

/// RACK's state for one connection: none until the first data segment goes out (a connection that only opens
/// and closes, or that is idle before its first byte, holds one word here), then [`RackState`] for good.
#[derive(Debug, Default)]
pub(crate) struct Rack {
    state: Option<Box<RackState>>,
}

/// A connection that has logged nothing: what every question about a [`Rack`] without state is answered from.
static FRESH: RackState = RackState::FRESH;

/// RACK's variables (RFC 8985 §6.1's RACK.*) and the per-segment records, with the SACK scoreboard they are
/// read against (SACK blocks only ever cover data this log holds).
#[derive(Debug)]
struct RackState {
    sent: VecDeque<Sent>,
    /// What the peer reported holding above SND.UNA.
    scoreboard: Scoreboard,
    /// Entries of `sent` that are [`Sent::flagged`]: with none, an ACK retires its whole prefix as one run
    /// without reading every entry.
    flagged: usize,
    /// Transmissions so far (the next one's `order`).
    transmissions: u64,
    /// Bytes marked lost and not yet sent again: RFC 6675's "pipe" leaves them out.
    lost_bytes: usize,
    /// RACK.xmit_ts (with the transmission's order in place of RACK.end_seq): the most recently sent segment
    /// known to be delivered.
    latest: Option<(Instant, u64)>,
    /// RACK.rtt: that segment's round trip.
    rtt: Span,
    /// The round trip the last ACK measured (of the most recently sent segment it delivered), if it measured one.
    ack_sample: Option<Span>,
    /// RACK.min_RTT over the connection.
    min_rtt: Option<Span>,
    /// RACK.fack: the highest end of a delivered segment.
    fack: Option<SeqNum>,
    /// RACK.reord: a never-retransmitted segment was delivered below one sent after it, or a D-SACK came.
    reordering_seen: bool,
    /// RACK.reo_wnd_mult: the reordering window in quarters of the min RTT.
    reo_wnd_mult: u32,
    /// RACK.reo_wnd_persist: recoveries left before the window shrinks back.
    reo_wnd_persist: u32,
    /// SND.MAX when a D-SACK last widened the window: at most one step per round trip.
    dsack_round: Option<SeqNum>,
}

/// What [`Rack::detect_loss`] found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Detection {
    /// The lowest sequence number newly marked lost, if any.
    pub lowest_lost: Option<SeqNum>,
    /// Segments newly marked lost.
    pub lost_segments: u32,
    /// When to look again: the earliest a segment still in doubt would be declared lost.
    pub recheck_in: Option<Duration>,
}

/// RFC 8985 §6.2 RACK_sent_after: was (t1, n1) sent after (t2, n2)? Segments sent at one instant order by
/// transmission (the RFC uses the sequence number, which puts a retransmission queued after new data first).
fn sent_after(t1: Instant, n1: u64, t2: Instant, n2: u64) -> bool {
    t1 > t2 || (t1 == t2 && n1 > n2)
}

impl Rack {
    pub(crate) fn new() -> Rack {
        Rack { state: None }
    }

    /// The state to read: a connection's own, or a fresh one's.
    fn view(&self) -> &RackState {
        self.state.as_deref().unwrap_or(&FRESH)
    }

    /// The state to change, made on first use.
    fn state_mut(&mut self) -> &mut RackState {
        self.state.get_or_insert_with(|| Box::new(RackState::FRESH))
    }

    /// Nothing is logged (no data outstanding): an ACK has nothing to tell RACK.
    pub(crate) fn is_idle(&self) -> bool {
        self.view().is_idle()
    }
    pub(crate) fn lost_bytes(&self) -> usize {
        self.view().lost_bytes
    }
    pub(crate) fn reordering_seen(&self) -> bool {
        self.view().reordering_seen
    }
    /// The round trip the last ACK measured, without timestamps too (for HyStart++'s per-ACK samples).
    pub(crate) fn ack_sample(&self) -> Option<Duration> {
        self.view().ack_sample()
    }
    pub(crate) fn min_rtt(&self) -> Option<Duration> {
        self.view().min_rtt()
    }
    /// See [`RackState::reorder_window`].
    pub(crate) fn reorder_window(&self, recovering: bool, srtt: Option<Duration>) -> Duration {
        self.view().reorder_window(recovering, srtt)
    }
    /// See [`RackState::anything_in_doubt`].
    pub(crate) fn anything_in_doubt(&self) -> bool {
        self.view().anything_in_doubt()
    }
    /// See [`RackState::next_lost`].
    pub(crate) fn next_lost(&self, from: SeqNum) -> Option<(SeqNum, SeqNum)> {
        self.view().next_lost(from)
    }

    /// See [`RackState::on_send`]: the first data segment gives the connection its RACK state.
    pub(crate) fn on_send(&mut self, start: SeqNum, end: SeqNum, now: Instant) -> usize {
        self.state_mut().on_send(start, end, now)
    }
    /// See [`RackState::on_ack`].
    pub(crate) fn on_ack(
        &mut self,
        una: SeqNum,
        blocks: &[Option<(SeqNum, SeqNum)>; 4],
        echo_older: impl Fn(Instant) -> bool,
        now: Instant,
    ) {
        let state = self.state_mut();
        // Read while the log changes: lent out for the call (a pointer moved, no copy).
        let board = core::mem::take(&mut state.scoreboard);
        state.on_ack(una, &board, blocks, echo_older, now);
        state.scoreboard = board;
    }
    /// See [`RackState::detect_loss`].
    pub(crate) fn detect_loss(&mut self, reo_wnd: Duration, now: Instant) -> Detection {
        self.state_mut().detect_loss(reo_wnd, now)
    }
    /// See [`RackState::on_timeout`].
    pub(crate) fn on_timeout(&mut self, reneged: bool) {
        self.state_mut().on_timeout(reneged)
    }
    /// See [`RackState::delivered_piecewise`].
    pub(crate) fn delivered_piecewise(&mut self, start: SeqNum, end: SeqNum) {
        self.state_mut().delivered_piecewise(start, end)
    }
    /// A fast recovery turned out spurious: what it took for a loss was reordering (RACK.reord).
    pub(crate) fn note_reordering(&mut self) {
        self.state_mut().reordering_seen = true;
    }
    /// See [`RackState::unmark_lost`].
    pub(crate) fn unmark_lost(&mut self) {
        self.state_mut().unmark_lost()
    }
    /// See [`RackState::on_dsack`].
    pub(crate) fn on_dsack(&mut self, una: SeqNum, max: SeqNum) {
        self.state_mut().on_dsack(una, max)
    }
    /// See [`RackState::on_recovery_end`].
    pub(crate) fn on_recovery_end(&mut self) {
        self.state_mut().on_recovery_end()
    }

    pub(crate) fn scoreboard(&self) -> &Scoreboard {
        &self.view().scoreboard
    }
    /// Folds in an ACK's SACK blocks (`una`..`max`: what may be SACKed); returns whether they reported anything
    /// new. An ACK without blocks leaves a connection without state as it is.
    pub(crate) fn sacked(&mut self, blocks: &[Option<(SeqNum, SeqNum)>; 4], una: SeqNum, max: SeqNum) -> bool {
        if blocks.iter().all(Option::is_none) {
            return false;
        }
        self.state_mut().scoreboard.update(blocks, una, max)
    }
    /// The cumulative ACK reached `una`: the scoreboard forgets what lies below.
    pub(crate) fn advance_scoreboard(&mut self, una: SeqNum) {
        if let Some(state) = &mut self.state {
            state.scoreboard.advance(una);
        }
    }
    /// The peer may have reneged (RFC 2018 §8): what it SACKed is forgotten.
    pub(crate) fn clear_scoreboard(&mut self) {
        if let Some(state) = &mut self.state {
            state.scoreboard.clear();
        }
    }
}

impl RackState {
    const FRESH: RackState = RackState {
        sent: VecDeque::new(),
        scoreboard: Scoreboard::EMPTY,
        flagged: 0,
        transmissions: 0,
        lost_bytes: 0,
        latest: None,
        rtt: Span::ZERO,
        ack_sample: None,
        min_rtt: None,
        fack: None,
        reordering_seen: false,
        reo_wnd_mult: 1,
        reo_wnd_persist: 0,
        dsack_round: None,
    };

    /// Nothing is logged (no data outstanding): an ACK has nothing to tell RACK.
    fn is_idle(&self) -> bool {
        self.sent.is_empty()
    }

    /// The round trip the last ACK measured, without timestamps too (for HyStart++'s per-ACK samples).
    fn ack_sample(&self) -> Option<Duration> {
        self.ack_sample.map(Span::get)
    }

    fn min_rtt(&self) -> Option<Duration> {
        self.min_rtt.map(Span::get)
    }

    /// `[start, end)` went out at `now`. Returns the bytes of it that had gone out before (a retransmission).
    fn on_send(&mut self, start: SeqNum, end: SeqNum, now: Instant) -> usize {
        let tail = self.sent.back().map(|s| s.end);
        let Some(tail) = tail.filter(|&tail| start < tail) else {
            self.push_new(start, end, now);
            self.transmissions += 1;
            return 0;
        };
        let start = self.sent.front().map_or(start, |s| start.max(s.start));
        let rtx_end = end.min(tail);
        let mut resent = 0;
        if start < rtx_end {
            self.split_at(start);
            self.split_at(rtx_end);
            let first = self.sent.partition_point(|s| s.start < start);
            for s in self.sent.range_mut(first..).take_while(|s| s.end <= rtx_end) {
                self.flagged += usize::from(!s.flagged());
                if s.lost {
                    s.lost = false;
                    self.lost_bytes -= s.len();
                }
                s.retransmitted = true;
                s.at = now;
                s.order = self.transmissions;
                resent += s.len();
            }
        }
        if end > tail {
            self.push_new(tail, end, now);
        }
        self.transmissions += 1;
        resent
    }

    fn push_new(&mut self, start: SeqNum, end: SeqNum, at: Instant) {
        if start < end {
            let order = self.transmissions;
            self.sent.push_back(Sent { start, end, at, order, retransmitted: false, lost: false, sacked: false });
        }
    }

    /// Splits the entry that straddles `seq` into two with the same record.
    fn split_at(&mut self, seq: SeqNum) {
        let i = self.sent.partition_point(|s| s.end <= seq);
        let Some(&s) = self.sent.get(i) else { return };
        if s.start < seq && seq < s.end {
            self.sent[i].end = seq;
            self.sent.insert(i + 1, Sent { start: seq, ..s });
            self.flagged += usize::from(s.flagged());
        }
    }

    /// The cumulative ACK reached `una` and the peer's SACK blocks of this ACK (`blocks`, merged into `board`
    /// already) may cover more: every segment delivered by it updates RACK's view (RFC 8985 §6.2 steps 1-3).
    /// `echo_older(at)` tells whether the ACK's timestamp echo is older than a transmission at `at` (false
    /// without timestamps): a retransmitted segment whose ACK echoes an earlier send says nothing of when the
    /// retransmission arrived.
    fn on_ack(
        &mut self,
        una: SeqNum,
        board: &Scoreboard,
        blocks: &[Option<(SeqNum, SeqNum)>; 4],
        echo_older: impl Fn(Instant) -> bool,
        now: Instant,
    ) {
        self.ack_sample = None;
        debug_assert_eq!(self.flagged, self.sent.iter().filter(|s| s.flagged()).count());
        // Segments sent once and acknowledged together (the common case) are taken as one run.
        let mut run: Option<(Sent, Sent)> = None;
        if self.flagged == 0 {
            // Nothing but plain segments: the run is the whole prefix up to `una`, found without a walk.
            let done = self.sent.partition_point(|s| s.end <= una);
            if done > 0 {
                run = Some((self.sent[0], self.sent[done - 1]));
                self.sent.drain(..done);
            }
        }
        while let Some(&front) = self.sent.front() {
            if front.end > una {
                if front.start < una {
                    let s = &mut self.sent[0];
                    if s.lost {
                        self.lost_bytes -= una - s.start;
                    }
                    s.start = una;
                }
                break;
            }
            self.sent.pop_front();
            self.flagged -= usize::from(front.flagged());
            if front.lost {
                self.lost_bytes -= front.len();
            }
            if front.sacked {
                continue;
            }
            if front.retransmitted {
                if let Some((first, last)) = run.take() {
                    self.delivered_run(&first, &last, now);
                }
                self.delivered(&front, &echo_older, now);
            } else {
                run = Some((run.map_or(front, |(first, _)| first), front));
            }
        }
        if let Some((first, last)) = run {
            self.delivered_run(&first, &last, now);
        }
        if self.sent.is_empty() && self.sent.capacity() > 0 {
            // Everything is acknowledged: an idle connection keeps no log memory (the next send makes it again).
            self.sent = VecDeque::new();
        }
        for &(start, end) in blocks.iter().flatten() {
            if end <= una || end <= start {
                continue;
            }
            let first = self.sent.partition_point(|s| s.end <= start);
            let mut i = first;
            while let Some(&s) = self.sent.get(i) {
                if s.start >= end {
                    break;
                }
                if !s.sacked && board.sacked_end(s.start).is_some_and(|e| e >= s.end) {
                    self.flagged += usize::from(!s.flagged());
                    let entry = &mut self.sent[i];
                    entry.sacked = true;
                    if entry.lost {
                        entry.lost = false;
                        self.lost_bytes -= s.len();
                    }
                    self.delivered(&s, &echo_older, now);
                }
                i += 1;
            }
        }
    }

    /// Segments `first..=last`, consecutive and in sending order (each sent once, or a single segment), are
    /// known delivered: RFC 8985 §6.2 steps 2-3 for each in turn, in one step (the last has the smallest round
    /// trip and the latest send time, the first alone can lie below RACK.fack).
    fn delivered_run(&mut self, first: &Sent, last: &Sent, now: Instant) {
        let rtt = now.saturating_duration_since(last.at);
        self.ack_sample = Some(self.ack_sample().map_or(rtt, |r| r.min(rtt)).into());
        self.min_rtt = Some(self.min_rtt().map_or(rtt, |min| min.min(rtt)).into());
        // Step 3: delivered below the highest delivered, never resent: the network reordered it.
        if !first.retransmitted && self.fack.is_some_and(|fack| first.end <= fack) {
            self.reordering_seen = true;
        }
        if self.fack.is_none_or(|fack| last.end > fack) {
            self.fack = Some(last.end);
        }
        if self.latest.is_none_or(|(t, n)| sent_after(last.at, last.order, t, n)) {
            self.latest = Some((last.at, last.order));
            self.rtt = rtt.into();
        }
    }

    /// One segment is known delivered.
    fn delivered(&mut self, s: &Sent, echo_older: &impl Fn(Instant) -> bool, now: Instant) {
        let rtt = now.saturating_duration_since(s.at);
        // Step 2: a retransmitted segment's delivery may be the original's; skip it when that is possible.
        if s.retransmitted && (echo_older(s.at) || self.min_rtt().is_some_and(|min| rtt < min)) {
            return;
        }
        self.delivered_run(s, s, now);
    }

    /// RFC 8985 §6.2 step 4: how long past its expected delivery a segment may be missing before it is lost.
    /// Nothing while recovering (or with a duplicate-ACK threshold's worth SACKed) until reordering is seen.
    fn reorder_window(&self, recovering: bool, srtt: Option<Duration>) -> Duration {
        if !self.reordering_seen && recovering {
            return Duration::ZERO;
        }
        let Some(min_rtt) = self.min_rtt() else { return Duration::ZERO };
        let window = min_rtt / 4 * self.reo_wnd_mult;
        srtt.map_or(window, |srtt| window.min(srtt))
    }

    /// Could [`Rack::detect_loss`] find anything? Not when the oldest segment outstanding was sent once, is not
    /// SACKed, and went out after the latest delivered one: every later segment went out later still (the
    /// common case, checked on every ACK).
    fn anything_in_doubt(&self) -> bool {
        let (Some((latest_at, latest_order)), Some(front)) = (self.latest, self.sent.front()) else { return false };
        front.sacked || front.lost || front.retransmitted || !sent_after(front.at, front.order, latest_at, latest_order)
    }

    /// RFC 8985 §6.2 step 5: marks lost every segment sent before the latest delivered one whose delivery is
    /// overdue by more than `reo_wnd`.
    fn detect_loss(&mut self, reo_wnd: Duration, now: Instant) -> Detection {
        let mut found = Detection::default();
        let Some((latest_at, latest_order)) = self.latest else { return found };
        let deadline_slack = self.rtt.get() + reo_wnd;
        for s in self.sent.iter_mut() {
            if s.sacked || s.lost {
                continue;
            }
            if !sent_after(latest_at, latest_order, s.at, s.order) {
                // Original transmissions go out in sequence order: every later one was sent later still.
                if s.retransmitted {
                    continue;
                }
                break;
            }
            let due = s.at + deadline_slack;
            if due <= now {
                self.flagged += usize::from(!s.flagged());
                s.lost = true;
                self.lost_bytes += s.end - s.start;
                found.lost_segments += 1;
                found.lowest_lost = Some(found.lowest_lost.map_or(s.start, |l: SeqNum| l.min(s.start)));
            } else {
                let wait = due - now;
                found.recheck_in = Some(found.recheck_in.map_or(wait, |w: Duration| w.max(wait)));
            }
        }
        found
    }

    /// The first range marked lost at or after `from` and not yet sent again.
    fn next_lost(&self, from: SeqNum) -> Option<(SeqNum, SeqNum)> {
        let i = self.sent.partition_point(|s| s.end <= from);
        self.sent.range(i..).find(|s| s.lost).map(|s| (s.start.max(from), s.end))
    }

    /// A retransmission timeout (RFC 8985 §6.3): everything not SACKed is lost. `reneged`: the scoreboard was
    /// dropped (the peer may have discarded what it SACKed), so SACKed entries count as missing again.
    fn on_timeout(&mut self, reneged: bool) {
        for s in self.sent.iter_mut() {
            if reneged {
                s.sacked = false;
            }
            if !s.sacked && !s.lost {
                s.lost = true;
                self.lost_bytes += s.end - s.start;
            }
        }
        self.recount_flagged();
    }

    fn recount_flagged(&mut self) {
        self.flagged = self.sent.iter().filter(|s| s.flagged()).count();
    }

    /// The peer's SACKs, arriving in pieces, add up to all of `[start, end)`: delivered, though too late to time.
    fn delivered_piecewise(&mut self, start: SeqNum, end: SeqNum) {
        let first = self.sent.partition_point(|s| s.end <= start);
        for s in self.sent.range_mut(first..).take_while(|s| s.end <= end) {
            self.flagged += usize::from(!s.flagged());
            s.sacked = true;
            if s.lost {
                s.lost = false;
                self.lost_bytes -= s.end - s.start;
            }
        }
    }

    /// A loss episode turned out spurious (undone): nothing marked lost and not yet resent is lost after all.
    fn unmark_lost(&mut self) {
        for s in self.sent.iter_mut() {
            s.lost = false;
        }
        self.lost_bytes = 0;
        self.recount_flagged();
    }

    /// A D-SACK arrived with SND.UNA at `una` and SND.MAX at `max` (RFC 8985 §6.2 step 4): reordering is real,
    /// and the window widens by a quarter of the min RTT, once per round trip.
    fn on_dsack(&mut self, una: SeqNum, max: SeqNum) {
        self.reordering_seen = true;
        if self.dsack_round.is_none_or(|round| una >= round) {
            self.reo_wnd_mult = (self.reo_wnd_mult + 1).min(MAX_REO_WND_MULT);
            self.dsack_round = Some(max);
        }
        self.reo_wnd_persist = REO_WND_PERSIST;
    }

    /// A loss recovery ended: after enough of them without D-SACKs the window returns to its start.
    fn on_recovery_end(&mut self) {
        self.reo_wnd_persist = self.reo_wnd_persist.saturating_sub(1);
        if self.reo_wnd_persist == 0 {
            self.reo_wnd_mult = 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Instant {
        Instant::from_nanos(n * 1_000_000)
    }

    /// Questions before the first data segment are answered as a fresh state would, with nothing allocated.
    #[test]
    fn a_rack_holds_no_state_until_data_goes_out() {
        let mut r = Rack::new();
        assert!(r.is_idle() && !r.anything_in_doubt() && !r.reordering_seen());
        assert_eq!((r.lost_bytes(), r.min_rtt(), r.next_lost(SeqNum(0))), (0, None, None));
        assert_eq!(r.reorder_window(false, Some(Duration::from_millis(10))), Duration::ZERO);
        assert!(r.state.is_none());
        r.on_send(SeqNum(0), SeqNum(100), ms(0));
        assert!(r.state.is_some() && !r.is_idle());
        assert_eq!(r.view().reo_wnd_mult, 1, "made from the same fresh state");
    }

    /// The peer's SACK blocks for `ranges`, as the connection's scoreboard now holds them (it starts over, so
    /// each test step states the whole picture).
    fn board(r: &mut Rack, ranges: &[(u32, u32)], una: u32, max: u32) -> [Option<(SeqNum, SeqNum)>; 4] {
        let mut blocks = [None; 4];
        for (slot, &(s, e)) in blocks.iter_mut().zip(ranges) {
            *slot = Some((SeqNum(s), SeqNum(e)));
        }
        r.clear_scoreboard();
        r.sacked(&blocks, SeqNum(una), SeqNum(max));
        blocks
    }

    /// Ten 100-byte segments from 0, one per millisecond.
    fn ten_segments() -> Rack {
        let mut r = Rack::new();
        for i in 0..10u32 {
            assert_eq!(r.on_send(SeqNum(i * 100), SeqNum(i * 100 + 100), ms(u64::from(i))), 0);
        }
        r
    }

    #[test]
    fn a_segment_is_lost_once_a_later_one_is_delivered_and_the_window_passed() {
        let mut r = ten_segments();
        // At 20 ms the peer SACKs segment 2 (sent at 2 ms): RTT 18 ms, min RTT 18 ms.
        let blocks = board(&mut r, &[(200, 300)], 0, 1000);
        r.on_ack(SeqNum(0), &blocks, |_| false, ms(20));
        // Not recovering and no reordering seen: the window is min_rtt / 4 = 4.5 ms.
        let wnd = r.reorder_window(false, None);
        assert_eq!(wnd, Duration::from_micros(4500));
        let d = r.detect_loss(wnd, ms(20));
        assert_eq!(d.lost_segments, 0, "segments 0 and 1 are not overdue yet");
        assert_eq!(d.recheck_in, Some(Duration::from_micros(3500)), "segment 1 is due at 1 + 18 + 4.5 ms");
        let d = r.detect_loss(wnd, ms(25));
        assert_eq!((d.lost_segments, d.lowest_lost), (2, Some(SeqNum(0))));
        assert_eq!(r.lost_bytes(), 200);
        assert_eq!(r.next_lost(SeqNum(0)), Some((SeqNum(0), SeqNum(100))));
        // Segments 3.. were sent after segment 2: never marked by its delivery.
        assert_eq!(r.next_lost(SeqNum(150)), Some((SeqNum(150), SeqNum(200))));
        assert_eq!(r.next_lost(SeqNum(200)), None);
    }

    #[test]
    fn in_recovery_without_reordering_the_window_is_zero_and_reordering_opens_it() {
        let mut r = ten_segments();
        let blocks = board(&mut r, &[(300, 400)], 0, 1000);
        r.on_ack(SeqNum(0), &blocks, |_| false, ms(23));
        assert_eq!(r.reorder_window(true, None), Duration::ZERO);
        // Segment 1 arrives late (never retransmitted, below RACK.fack): reordering.
        let blocks = board(&mut r, &[(100, 200), (300, 400)], 0, 1000);
        r.on_ack(SeqNum(0), &blocks, |_| false, ms(24));
        assert!(r.reordering_seen());
        assert_eq!(r.reorder_window(true, Some(Duration::from_millis(100))), Duration::from_micros(5000));
        assert_eq!(r.reorder_window(true, Some(Duration::from_millis(1))), Duration::from_millis(1), "capped by SRTT");
    }

    #[test]
    fn a_lost_retransmission_is_found_by_time() {
        let mut r = ten_segments();
        let blocks = board(&mut r, &[(100, 1000)], 0, 1000);
        r.on_ack(SeqNum(0), &blocks, |_| false, ms(30));
        let d = r.detect_loss(Duration::ZERO, ms(30));
        assert_eq!(d.lowest_lost, Some(SeqNum(0)));
        assert_eq!(r.on_send(SeqNum(0), SeqNum(100), ms(30)), 100, "a retransmission");
        assert_eq!(r.lost_bytes(), 0);
        // New data sent after the retransmission is delivered; the retransmission is not.
        r.on_send(SeqNum(1000), SeqNum(1100), ms(31));
        let blocks = board(&mut r, &[(100, 1100)], 0, 1100);
        r.on_ack(SeqNum(0), &blocks, |_| false, ms(60));
        let d = r.detect_loss(Duration::ZERO, ms(60));
        assert_eq!(d.lowest_lost, Some(SeqNum(0)), "the retransmission was lost too");
    }

    #[test]
    fn a_retransmission_acknowledged_by_an_earlier_echo_gives_no_sample() {
        let mut r = ten_segments();
        let blocks = board(&mut r, &[(100, 200)], 0, 1000);
        r.on_ack(SeqNum(0), &blocks, |_| false, ms(20));
        r.on_send(SeqNum(0), SeqNum(100), ms(21));
        // The ACK covering segment 0 echoes its first transmission: ambiguous, RACK.xmit_ts stays.
        r.on_ack(SeqNum(100), &blocks, |at| at > ms(5), ms(22));
        assert_eq!(r.view().latest, Some((ms(1), 1)), "segment 1, the second transmission");
    }

    #[test]
    fn retransmissions_split_entries_and_partial_acks_trim_them() {
        let mut r = Rack::new();
        r.on_send(SeqNum(0), SeqNum(1000), ms(0));
        assert_eq!(r.on_send(SeqNum(300), SeqNum(500), ms(5)), 200);
        assert_eq!(r.view().sent.len(), 3);
        assert_eq!(r.on_send(SeqNum(900), SeqNum(1200), ms(6)), 100, "partly new");
        assert_eq!(r.view().sent.back().map(|s| (s.start, s.end)), Some((SeqNum(1000), SeqNum(1200))));
        r.on_timeout(false);
        assert_eq!(r.lost_bytes(), 1200);
        let blocks = board(&mut r, &[], 0, 1200);
        r.on_ack(SeqNum(350), &blocks, |_| false, ms(10));
        assert_eq!(r.lost_bytes(), 850);
        assert_eq!(r.next_lost(SeqNum(0)), Some((SeqNum(350), SeqNum(500))));
        r.unmark_lost();
        assert_eq!(r.next_lost(SeqNum(0)), None);
    }

    #[test]
    fn dsacks_widen_the_window_once_per_round_and_recoveries_narrow_it() {
        let mut r = ten_segments();
        let blocks = board(&mut r, &[(100, 200)], 0, 1000);
        r.on_ack(SeqNum(0), &blocks, |_| false, ms(20));
        r.on_dsack(SeqNum(0), SeqNum(1000));
        r.on_dsack(SeqNum(500), SeqNum(1000));
        assert_eq!(r.view().reo_wnd_mult, 2, "one step per round trip");
        r.on_dsack(SeqNum(1000), SeqNum(2000));
        assert_eq!(r.view().reo_wnd_mult, 3);
        for _ in 0..REO_WND_PERSIST {
            r.on_recovery_end();
        }
        assert_eq!(r.view().reo_wnd_mult, 1);
    }
}
