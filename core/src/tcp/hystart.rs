//! HyStart++ (RFC 9406): a slow start that watches the round-trip time and leaves before the window overshoots.
//!
//! Standard slow start doubles the window every round trip until a loss, and by the round in which the loss
//! happens the window is already up to twice what the path holds: a burst of losses, often a timeout. HyStart++
//! takes the minimum RTT of each round (sequence-numbered rounds: a round ends when the data outstanding at its
//! start is acknowledged); once a round's minimum, over at least [`N_RTT_SAMPLE`] samples, exceeds the last
//! round's by `clamp(lastRoundMinRTT / 8, 4 ms, 16 ms)`, a queue is building: the window then grows at a quarter
//! of the slow-start rate (Conservative Slow Start, CSS) for at most [`CSS_ROUNDS`] rounds, after which
//! congestion avoidance begins at the window reached (`ssthresh = cwnd`). Should the RTT fall below the minimum
//! that started CSS, the increase was noise and slow start resumes.
//!
//! As RFC 9406 §4.3 recommends, HyStart++ runs only in the first slow start (while `ssthresh` is still at its
//! initial "infinity"): after a loss or a timeout, the `ssthresh` found that way ends slow start.
//!
//! **L, the per-ACK growth limit.** RFC 9406 §4.2 grows the window by at most `L * SMSS` per ACK and §4.3
//! recommends L = 8 for a sender that does not pace (synack does not) and L = infinity for one that does. The
//! built-in algorithms use L = infinity: an ACK grows the window by everything it newly acknowledges, as
//! synack's standard slow start and Linux's do. Issue 16 asked for exactly that (a stretch ACK from a batching
//! or GRO receiver covers dozens of segments; with any fixed L slow start then grows by a fraction of the
//! window per round instead of doubling it), and the burst an N-segment stretch ACK releases (2N segments) is
//! the one standard slow start releases anyway. An algorithm that wants the RFC's unpaced value builds its
//! state with [`HyStart::with_ack_limit`]`(8)`.
//!
//! **RTT samples.** HyStart++ wants a sample from (nearly) every ACK: [`AckSample::rtt`] carries the one this
//! ACK measured, from the RFC 7323 timestamp echo when timestamps are in use (on by default, as on Linux) or from
//! the one segment RFC 6298 times per round trip. Without timestamps a round therefore yields one sample, never
//! the [`N_RTT_SAMPLE`] the delay test needs, and slow start behaves as the standard one.
//!
//! Public, so that an algorithm of one's own (`CongestionAlgorithm::Custom`) can use it: keep a `HyStart` and
//! call [`HyStart::slow_start`] where the standard slow start would run.

use super::congestion::{standard_slow_start, AckSample};
use super::flags::Flags;
use super::seq::SeqNum;
use crate::time::Span;
use core::time::Duration;

/// Lower bound of the RTT increase that ends slow start (RFC 9406 §4.3).
pub const MIN_RTT_THRESH: Duration = Duration::from_millis(4);
/// Upper bound of the RTT increase that ends slow start.
pub const MAX_RTT_THRESH: Duration = Duration::from_millis(16);
/// The increase that ends slow start is the last round's minimum RTT divided by this (then clamped).
pub const MIN_RTT_DIVISOR: u32 = 8;
/// RTT samples a round needs before its minimum is compared with the last round's.
pub const N_RTT_SAMPLE: u32 = 8;
/// Conservative Slow Start grows the window by the acknowledged bytes divided by this.
pub const CSS_GROWTH_DIVISOR: usize = 4;
/// Rounds of Conservative Slow Start before congestion avoidance (the round CSS began in counts).
pub const CSS_ROUNDS: u32 = 5;

/// Where HyStart++ stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HyStartPhase {
    /// The first slow start, watching the RTT.
    SlowStart,
    /// Conservative Slow Start: the RTT rose; the window grows at a quarter of the slow-start rate.
    Conservative,
    /// Slow start is over (by HyStart++, or by a loss that set `ssthresh`): HyStart++ no longer acts.
    Done,
}

/// HyStart++ state of one connection (RFC 9406 §4.2's variables).
#[derive(Clone, Debug)]
pub struct HyStart {
    /// windowEnd: the round ends when an ACK covers this; set by the first ACK (`WINDOW_END_SET`).
    window_end: SeqNum,
    /// lastRoundMinRTT (`None`: infinity).
    last_round_min_rtt: Option<Span>,
    /// currentRoundMinRTT (`None`: infinity).
    current_round_min_rtt: Option<Span>,
    /// rttSampleCount of the current round (saturating: only whether it reached `N_RTT_SAMPLE` matters).
    rtt_sample_count: u8,
    /// cssBaselineMinRtt: set while in Conservative Slow Start.
    css_baseline_min_rtt: Option<Span>,
    /// Rounds ended in Conservative Slow Start.
    css_rounds: u8,
    /// L in segments (saturating at 255; RFC 9406 suggests 8); 0 is infinity.
    ack_limit: u8,
    /// CSS's credit (bits 0-1: acknowledged bytes not turned into growth yet, the remainder of a division by
    /// 4), `DONE` and `WINDOW_END_SET`: one byte, so every connection's HyStart++ state takes 32 bytes.
    bits: Flags,
}

/// `HyStart::bits`: the credit's bits, slow start ended (congestion avoidance or a loss), windowEnd set.
const CREDIT: u8 = 0b11;
const DONE: u8 = 1 << 2;
const WINDOW_END_SET: u8 = 1 << 3;

impl Default for HyStart {
    fn default() -> HyStart {
        HyStart::new()
    }
}

impl HyStart {
    /// HyStart++ with L = infinity (see the module docs).
    pub fn new() -> HyStart {
        HyStart {
            window_end: SeqNum(0),
            last_round_min_rtt: None,
            current_round_min_rtt: None,
            rtt_sample_count: 0,
            css_baseline_min_rtt: None,
            css_rounds: 0,
            ack_limit: 0,
            bits: Flags::NONE,
        }
    }

    fn done(&self) -> bool {
        self.bits.has(DONE)
    }
    fn css_credit(&self) -> usize {
        usize::from(self.bits.bits(CREDIT))
    }
    /// `credit` is below `CSS_GROWTH_DIVISOR` (4): two bits hold it.
    fn set_css_credit(&mut self, credit: usize) {
        self.bits.set_bits(CREDIT, credit as u8);
    }
    fn window_end(&self) -> Option<SeqNum> {
        self.bits.has(WINDOW_END_SET).then_some(self.window_end)
    }
    fn set_window_end(&mut self, end: SeqNum) {
        self.window_end = end;
        self.bits.set(WINDOW_END_SET, true);
    }

    /// State whose slow start is already over: [`HyStart::slow_start`] is then the standard one (what a
    /// connection with `TcpConfig::hystart` off uses, with no `Option` around the state).
    pub(crate) fn finished() -> HyStart {
        HyStart { bits: Flags::with(DONE), ..HyStart::new() }
    }

    /// HyStart++ that grows the window by at most `segments` segments per ACK (RFC 9406's L; 8 for an unpaced
    /// sender as §4.3 recommends). At least 1, at most 255 (more saturates).
    pub fn with_ack_limit(segments: usize) -> HyStart {
        let limit = u8::try_from(segments).unwrap_or(u8::MAX);
        HyStart { ack_limit: limit.max(1), ..HyStart::new() }
    }

    pub fn phase(&self) -> HyStartPhase {
        if self.done() {
            HyStartPhase::Done
        } else if self.css_baseline_min_rtt.is_some() {
            HyStartPhase::Conservative
        } else {
            HyStartPhase::SlowStart
        }
    }

    /// Slow start for one ACK of new data, with HyStart++ while this is the first slow start (`ssthresh` still
    /// `usize::MAX`) and the standard one after. Grows `cwnd`; ends slow start by setting `ssthresh` to `cwnd`
    /// after [`CSS_ROUNDS`] rounds of Conservative Slow Start. Returns what is left of the acknowledged bytes
    /// for congestion avoidance, or `None` when slow start took all of them.
    pub fn slow_start(&mut self, cwnd: &mut usize, ssthresh: &mut usize, ack: &AckSample) -> Option<usize> {
        if *ssthresh != usize::MAX {
            self.bits.set(DONE, true);
        }
        if self.done() {
            return standard_slow_start(cwnd, *ssthresh, ack.acked);
        }
        // RFC 9406 §4.2: rounds by sequence number; the first ACK starts the first one.
        let window_end = match self.window_end() {
            Some(end) => end,
            None => {
                self.set_window_end(ack.snd_max);
                ack.snd_max
            }
        };
        let bytes = match self.ack_limit {
            0 => ack.acked,
            l => ack.acked.min(usize::from(l).saturating_mul(ack.mss)),
        };
        if self.css_baseline_min_rtt.is_some() {
            let credit = self.css_credit() + bytes;
            let grow = credit / CSS_GROWTH_DIVISOR;
            self.set_css_credit(credit % CSS_GROWTH_DIVISOR);
            *cwnd = cwnd.saturating_add(grow);
        } else {
            *cwnd = cwnd.saturating_add(bytes);
        }
        if let Some(rtt) = ack.rtt {
            self.on_rtt_sample(rtt);
        }
        if ack.ack >= window_end {
            if self.css_baseline_min_rtt.is_some() {
                self.css_rounds += 1;
                if u32::from(self.css_rounds) >= CSS_ROUNDS {
                    // Congestion avoidance from the window reached.
                    *ssthresh = *cwnd;
                    self.bits.set(DONE, true);
                    return None;
                }
            }
            self.start_round(ack.snd_max);
        }
        None
    }

    /// A new round begins; it ends when `snd_max` (everything sent so far) is acknowledged.
    fn start_round(&mut self, snd_max: SeqNum) {
        self.last_round_min_rtt = self.current_round_min_rtt;
        self.current_round_min_rtt = None;
        self.rtt_sample_count = 0;
        self.set_window_end(snd_max);
    }

    /// RFC 9406 §4.2: the round's minimum RTT, and the delay tests once it rests on enough samples.
    fn on_rtt_sample(&mut self, rtt: Duration) {
        let current = self.current_round_min_rtt.map_or(rtt, |m| m.get().min(rtt));
        self.current_round_min_rtt = Some(current.into());
        self.rtt_sample_count = self.rtt_sample_count.saturating_add(1);
        if u32::from(self.rtt_sample_count) < N_RTT_SAMPLE {
            return;
        }
        match self.css_baseline_min_rtt {
            None => {
                let Some(last) = self.last_round_min_rtt.map(Span::get) else { return };
                let threshold = (last / MIN_RTT_DIVISOR).clamp(MIN_RTT_THRESH, MAX_RTT_THRESH);
                if current >= last + threshold {
                    // A queue is building: Conservative Slow Start.
                    self.css_baseline_min_rtt = Some(current.into());
                    self.css_rounds = 0;
                    self.set_css_credit(0);
                }
            }
            Some(baseline) if current < baseline.get() => {
                // The increase was spurious (jitter): back to slow start.
                self.css_baseline_min_rtt = None;
                self.css_rounds = 0;
            }
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Instant;

    const MSS: usize = 1000;

    /// One connection's slow start, ACK-clocked: every ACK acknowledges two segments and the sender then fills
    /// the window again, so SND.MAX runs one window ahead of the ACKs.
    struct Flow {
        h: HyStart,
        cwnd: usize,
        ssthresh: usize,
        /// SND.MAX and SND.UNA, relative to a start that may sit just below the wrap.
        sent: u32,
        acked: u32,
    }

    impl Flow {
        fn new() -> Flow {
            Flow::starting_at(0, HyStart::new())
        }

        fn starting_at(seq: u32, h: HyStart) -> Flow {
            Flow { h, cwnd: 10 * MSS, ssthresh: usize::MAX, sent: seq.wrapping_add(10 * MSS as u32), acked: seq }
        }

        fn ack(&mut self, bytes: usize, rtt: Option<Duration>) -> Option<usize> {
            self.acked = self.acked.wrapping_add(bytes as u32);
            let sample = AckSample {
                acked: bytes,
                mss: MSS,
                now: Instant::ZERO,
                srtt: None,
                rtt,
                ack: SeqNum(self.acked),
                snd_max: SeqNum(self.sent),
                cwnd_limited: true,
            };
            let left = self.h.slow_start(&mut self.cwnd, &mut self.ssthresh, &sample);
            self.sent = SeqNum(self.sent).max(SeqNum(self.acked.wrapping_add(self.cwnd as u32))).0;
            left
        }

        /// ACKs until the current round ends (or HyStart++ is done), the i-th carrying the sample `rtt(i)`;
        /// returns how many.
        fn round_with(&mut self, rtt: impl Fn(usize) -> Option<Duration>) -> usize {
            let end = SeqNum(self.h.window_end().map_or(self.sent, |e| e.0));
            let mut i = 0;
            while SeqNum(self.acked) < end && self.h.phase() != HyStartPhase::Done {
                self.ack(2 * MSS, rtt(i));
                i += 1;
            }
            i
        }

        fn round(&mut self, rtt: impl Fn(usize) -> Duration) -> usize {
            self.round_with(|i| Some(rtt(i)))
        }

        /// Slow start proper: every acknowledged byte grew the window.
        fn grew_by_everything_acked(&self, from: u32) -> bool {
            self.cwnd == 10 * MSS + self.acked.wrapping_sub(from) as usize
        }
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn an_rtt_increase_beyond_the_threshold_ends_slow_start() {
        let mut f = Flow::new();
        assert_eq!(f.round(|_| ms(40)), 5);
        f.round(|_| ms(40));
        assert_eq!(f.h.phase(), HyStartPhase::SlowStart);
        assert!(f.grew_by_everything_acked(0));
        // The last round's minimum was 40 ms, so the threshold is 40 / 8 = 5 ms: a round whose minimum is 45 ms
        // enters Conservative Slow Start at its 8th sample.
        let before = f.cwnd;
        let acks = f.round(|i| ms(45 + i as u64));
        assert_eq!(f.h.phase(), HyStartPhase::Conservative);
        assert!(acks > 8);
        assert_eq!(f.cwnd, before + 8 * 2 * MSS + (acks - 8) * 2 * MSS / CSS_GROWTH_DIVISOR);
        assert_eq!(f.ssthresh, usize::MAX, "not congestion avoidance yet");
    }

    #[test]
    fn noise_below_the_threshold_leaves_slow_start_alone() {
        let mut f = Flow::new();
        f.round(|_| ms(40));
        // Minimum 4.9 ms above the last round's (40 ms / 8 = 5 ms needed), whatever the spread above it; and
        // each round's minimum becomes the next one's reference.
        for _ in 0..4 {
            f.round(|i| ms(40) + Duration::from_micros(4_900) + ms(i as u64 % 7));
            assert_eq!(f.h.phase(), HyStartPhase::SlowStart);
        }
        assert!(f.grew_by_everything_acked(0));
        assert!(f.cwnd > 100 * MSS);
        // The threshold is never below 4 ms, even on a 1 ms path.
        let mut f = Flow::new();
        f.round(|_| ms(1));
        f.round(|_| Duration::from_micros(4_900));
        assert_eq!(f.h.phase(), HyStartPhase::SlowStart, "3.9 ms more");
        f.round(|_| Duration::from_micros(8_900));
        assert_eq!(f.h.phase(), HyStartPhase::Conservative, "4 ms more");
    }

    #[test]
    fn fewer_than_eight_samples_decide_nothing() {
        let mut f = Flow::new();
        f.round(|_| ms(40));
        // A round of 8 ACKs of which one carries no sample: 7 samples, all far higher, decide nothing.
        let acks = f.round_with(|i| (i != 3).then(|| ms(100)));
        assert_eq!(acks, 8);
        assert_eq!(f.h.phase(), HyStartPhase::SlowStart);
        // With all 8 the same round would have.
        let mut f = Flow::new();
        f.round(|_| ms(40));
        f.round(|_| ms(100));
        assert_eq!(f.h.phase(), HyStartPhase::Conservative);
    }

    #[test]
    fn a_falling_rtt_in_conservative_slow_start_resumes_slow_start() {
        let mut f = Flow::new();
        f.round(|_| ms(40));
        f.round(|_| ms(60));
        assert_eq!(f.h.phase(), HyStartPhase::Conservative);
        // The next round's minimum stays at the baseline (60 ms): still conservative, a quarter of the growth.
        let before = f.cwnd;
        let acks = f.round(|_| ms(60));
        assert_eq!(f.h.phase(), HyStartPhase::Conservative);
        assert_eq!(f.cwnd, before + acks * 2 * MSS / CSS_GROWTH_DIVISOR);
        // Below the baseline (jitter had raised it): slow start again from the 8th sample on, at full rate.
        let before = f.cwnd;
        let acks = f.round(|_| ms(59));
        assert_eq!(f.h.phase(), HyStartPhase::SlowStart);
        assert_eq!(f.cwnd, before + 8 * 2 * MSS / CSS_GROWTH_DIVISOR + (acks - 8) * 2 * MSS);
        assert_eq!(f.ssthresh, usize::MAX);
        // And HyStart++ still watches: a later rise enters CSS again.
        f.round(|_| ms(59));
        f.round(|_| ms(80));
        assert_eq!(f.h.phase(), HyStartPhase::Conservative);
    }

    #[test]
    fn five_rounds_of_conservative_slow_start_lead_to_congestion_avoidance() {
        let mut f = Flow::new();
        f.round(|_| ms(40));
        // CSS begins at the 8th sample of this round, which counts as its first.
        f.round(|i| ms(50 + i as u64));
        assert_eq!((f.h.phase(), f.h.css_rounds), (HyStartPhase::Conservative, 1));
        for n in 2..=CSS_ROUNDS {
            f.round(|i| ms(50 + i as u64));
            let expected = if n < CSS_ROUNDS { HyStartPhase::Conservative } else { HyStartPhase::Done };
            assert_eq!(f.h.phase(), expected, "after CSS round {n}");
        }
        assert_eq!(f.ssthresh, f.cwnd, "congestion avoidance from the window reached");
        // From here on, whatever the RTT: nothing is left to slow start.
        let cwnd = f.cwnd;
        assert_eq!(f.ack(2 * MSS, Some(ms(10))), Some(2 * MSS));
        assert_eq!(f.cwnd, cwnd);
    }

    #[test]
    fn only_the_first_slow_start_and_l_limits_growth_per_ack() {
        // Once a loss set ssthresh, slow start is the standard one, whatever the RTT does.
        let mut f = Flow::new();
        f.ssthresh = 1000 * MSS;
        f.ack(2 * MSS, Some(ms(40)));
        assert_eq!(f.h.phase(), HyStartPhase::Done);
        for _ in 0..40 {
            f.ack(2 * MSS, Some(ms(400)));
        }
        assert!(f.grew_by_everything_acked(0));
        // L: a stretch ACK of 20 segments grows the window by 20 segments by default, by 8 with L = 8.
        let mut f = Flow::new();
        f.ack(20 * MSS, Some(ms(40)));
        assert_eq!(f.cwnd, 30 * MSS);
        let mut f = Flow::starting_at(0, HyStart::with_ack_limit(8));
        f.ack(20 * MSS, Some(ms(40)));
        assert_eq!(f.cwnd, 18 * MSS);
    }

    #[test]
    fn rounds_follow_sequence_numbers_across_the_wrap() {
        let start = u32::MAX - 15 * MSS as u32;
        let mut f = Flow::starting_at(start, HyStart::new());
        f.round(|_| ms(40));
        f.round(|_| ms(40));
        assert!(f.acked < start, "the sequence numbers wrapped: {}", f.acked);
        f.round(|_| ms(50));
        assert_eq!(f.h.phase(), HyStartPhase::Conservative);
    }
}
