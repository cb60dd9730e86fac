//! Retransmission timeout estimation (RFC 6298), with Karn's rule applied by the caller (no samples from
//! retransmitted segments) and exponential backoff.

use super::seq::SeqNum;
use super::tcb::Tcb;
use crate::time::{Instant, Span};
use crate::wire::TcpRepr;
use core::time::Duration;

#[derive(Debug, Clone)]
pub(crate) struct RttEstimator {
    srtt: Option<Span>,
    rttvar: Span,
    /// The RTO before backoff.
    base_rto: Span,
    /// Number of consecutive timeouts (each doubles the RTO; saturating: past 16 the RTO stays at `max`).
    backoff: u8,
    /// The RTO's ceiling (`TcpConfig::rto_max`); its floor, `rto_min`, is passed to each sample instead of
    /// being kept per connection.
    max: Span,
    /// The one segment being timed for a sample (RFC 6298 §3: one measurement per round trip): when it was
    /// sent, and the sequence number that acknowledges it (kept here, beside the estimate, where it fills room
    /// the estimate's alignment leaves).
    timed_sent: Option<Instant>,
    timed_end: SeqNum,
}

impl Tcb {
    /// `seg`, acknowledging new data, arrived at `now`: folds in the round trip of the timed segment if it
    /// covers it; when nothing could be timed (Karn: a retransmission), the timestamp echo measures it
    /// instead (RFC 7323 §4.1), so an RTO's backoff ends at the first ACK of new data, as on Linux.
    ///
    /// Returns whatever this ACK measured, the timed segment or (more often) the echo, for the congestion
    /// controller (`AckSample::rtt`: HyStart++ wants a sample per ACK), even when SRTT takes only one per round.
    /// Returned, not kept: it is read only while the same ACK is handled, and an idle connection should stay
    /// small.
    pub(crate) fn sample_rtt(&mut self, seg: &TcpRepr<'_>, now: Instant, rto_min: Duration) -> Option<Duration> {
        let timed = self.rtt.timed_round_trip(seg.ack_number, now);
        let echoed = self.ts.round_trip(seg, now);
        let sample = match timed {
            Some(rtt) => Some(rtt),
            None if !self.rtt.is_timing() => echoed,
            None => None,
        };
        if let Some(rtt) = sample {
            self.rtt.sample(rtt, rto_min);
        }
        // Without timestamps, RACK's per-segment round trip gives HyStart++ its samples (one per ACK).
        timed.or(echoed).or(self.recovery.rack().ack_sample()).map(|rtt| Span::new(rtt).get())
    }
}

/// The RTO data starts with after a handshake that measured no round trip (RFC 6298 §5.7).
const FALLBACK_RTO: Duration = Duration::from_secs(3);

/// Clock granularity G of RFC 6298 §2: our clock is nanoseconds, but a floor keeps RTO sane when RTTVAR ~ 0.
const GRANULARITY: Duration = Duration::from_millis(1);

impl RttEstimator {
    pub(crate) fn new(initial: Duration, min: Duration, max: Duration) -> RttEstimator {
        RttEstimator {
            srtt: None,
            rttvar: Span::ZERO,
            base_rto: initial.clamp(min, max).into(),
            backoff: 0,
            max: max.into(),
            timed_sent: None,
            timed_end: SeqNum(0),
        }
    }

    /// Times the segment that `end` acknowledges, sent at `now`, unless one is being timed already.
    pub(crate) fn start_timing(&mut self, end: SeqNum, now: Instant) {
        if self.timed_sent.is_none() {
            (self.timed_sent, self.timed_end) = (Some(now), end);
        }
    }

    pub(crate) fn is_timing(&self) -> bool {
        self.timed_sent.is_some()
    }

    /// Karn's rule (RFC 6298 §3): something was retransmitted, so the round trip now measured would be
    /// ambiguous: no sample from this flight.
    pub(crate) fn cancel_timing(&mut self) {
        self.timed_sent = None;
    }

    /// `ack` arrived at `now`: the round trip of the timed segment if `ack` covers it (timing then stops).
    fn timed_round_trip(&mut self, ack: SeqNum, now: Instant) -> Option<Duration> {
        let sent = self.timed_sent?;
        if ack < self.timed_end {
            return None;
        }
        self.timed_sent = None;
        Some(now - sent)
    }

    /// RFC 6298 §2.2 and §2.3: fold in one measurement; the RTO is kept within `min` (`TcpConfig::rto_min`)
    /// and the ceiling.
    ///
    /// In whole nanoseconds (wide enough that nothing overflows or saturates before the results are stored):
    /// the same values `Duration` arithmetic gives (its division rounds down, as integer division does),
    /// without splitting seconds from nanoseconds at every step.
    pub(crate) fn sample(&mut self, r: Duration, min: Duration) {
        let r = r.as_nanos();
        let (srtt, rttvar) = match self.srtt {
            None => (r, r / 2),
            Some(srtt) => {
                let srtt = u128::from(srtt.nanos());
                let delta = srtt.abs_diff(r);
                // RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R'|, SRTT = 7/8 SRTT + 1/8 R'
                ((srtt * 7 + r) / 8, (u128::from(self.rttvar.nanos()) * 3 + delta) / 4)
            }
        };
        self.srtt = Some(Span::from_nanos(srtt));
        self.rttvar = Span::from_nanos(rttvar);
        // RFC 6298 (2.3) with `min` as the floor of the variance term, as Linux (`tcp_rtt_estimator` keeps RTTVAR
        // at least `tcp_rto_min`): on a steady path RTTVAR decays, and a floor under the whole RTO would leave it
        // hugging SRTT, so one ACK delayed by the peer would look like a loss.
        let (min, max) = (u128::from(Span::new(min).nanos()), u128::from(self.max.nanos()));
        self.base_rto = Span::from_nanos((srtt + GRANULARITY.as_nanos().max(rttvar * 4).max(min)).min(max));
        self.backoff = 0;
    }

    /// The current RTO, backoff included.
    pub(crate) fn rto(&self) -> Duration {
        let (base, max) = (self.base_rto.get(), self.max.get());
        if self.backoff == 0 {
            return base.min(max); // the common case: no timeout since the last sample
        }
        let factor = 1u32.checked_shl(u32::from(self.backoff.min(16))).unwrap_or(u32::MAX);
        base.saturating_mul(factor).min(max)
    }

    /// The handshake is over and measured no round trip (its SYN or SYN-ACK went again, without timestamps to
    /// time the answer): data starts with an RTO of at least 3 seconds, and the handshake's backoff ends
    /// (RFC 6298 §5.7; Linux's `tcp_init_metrics`, `TCP_TIMEOUT_FALLBACK`).
    pub(crate) fn fall_back_if_unmeasured(&mut self) {
        if self.srtt.is_none() {
            self.base_rto = self.base_rto.get().max(FALLBACK_RTO).min(self.max.get()).into();
            self.backoff = 0;
        }
    }

    /// RFC 6298 §5.5: a timeout doubles the RTO.
    pub(crate) fn back_off(&mut self) {
        self.backoff = self.backoff.saturating_add(1);
    }

    pub(crate) fn srtt(&self) -> Option<Duration> {
        self.srtt.map(Span::get)
    }

    pub(crate) fn rttvar(&self) -> Duration {
        self.rttvar.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn first_sample_then_smoothing() {
        let mut r = RttEstimator::new(ms(1000), ms(200), ms(60_000));
        assert_eq!(r.rto(), ms(1000));
        r.sample(ms(100), ms(200));
        // SRTT 100, RTTVAR 50 -> RTO 300
        assert_eq!(r.srtt(), Some(ms(100)));
        assert_eq!(r.rto(), ms(300));
        r.sample(ms(100), ms(200));
        // RTTVAR = 3/4*50 + 0 = 37.5: 4 RTTVAR = 150 is below the 200 ms floor of the variance term, so
        // RTO = 100 + 200 (Linux), not 250.
        assert_eq!(r.rto(), ms(300));
    }

    #[test]
    fn floor_backoff_and_ceiling() {
        let mut r = RttEstimator::new(ms(1000), ms(200), ms(5_000));
        r.sample(ms(1), ms(200));
        // The floor is under the variance term: SRTT + 200 ms.
        assert_eq!(r.rto(), ms(201));
        r.back_off();
        assert_eq!(r.rto(), ms(402));
        for _ in 0..40 {
            r.back_off();
        }
        assert_eq!(r.rto(), ms(5_000));
        r.sample(ms(1), ms(200));
        assert_eq!(r.rto(), ms(201));
    }
}
