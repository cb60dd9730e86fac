//! NewReno (RFC 5681 + RFC 6582): slow start (with HyStart++, RFC 9406, in the first one), congestion
//! avoidance by byte counting, fast recovery with partial-ACK deflation.

use super::congestion::{
    deflate_on_partial_ack, initial_window, slow_start, window_after_recovery, AckSample, CongestionControl,
};
use super::hystart::HyStart;

/// NewReno: slow start, congestion avoidance by byte counting, fast recovery with partial-ACK deflation.
#[derive(Debug, Clone)]
pub struct NewReno {
    cwnd: usize,
    ssthresh: usize,
    /// Bytes acknowledged since cwnd last grew in congestion avoidance (RFC 5681 §3.1 byte counting).
    bytes_acked: usize,
    /// HyStart++ state (already finished when it is off).
    hystart: HyStart,
}

impl NewReno {
    /// NewReno with HyStart++ in its first slow start.
    pub fn new(mss: usize) -> NewReno {
        NewReno { cwnd: initial_window(mss), ssthresh: usize::MAX, bytes_acked: 0, hystart: HyStart::new() }
    }

    /// With HyStart++ (the default) or the standard slow start only.
    pub fn with_hystart(mut self, on: bool) -> NewReno {
        self.hystart = if on { HyStart::new() } else { HyStart::finished() };
        self
    }

    /// RFC 5681 equation (4): half the flight, but at least two segments.
    fn half_flight(flight: usize, mss: usize) -> usize {
        (flight / 2).max(2 * mss)
    }
}

impl CongestionControl for NewReno {
    fn name(&self) -> &'static str {
        "newreno"
    }
    fn cwnd(&self) -> usize {
        self.cwnd
    }
    fn ssthresh(&self) -> usize {
        self.ssthresh
    }
    fn on_ack(&mut self, ack: &AckSample) {
        if !ack.cwnd_limited {
            return; // RFC 7661 / RFC 9438 §5.8: an unused window does not grow
        }
        let Some(acked) = slow_start(&mut self.cwnd, &mut self.ssthresh, Some(&mut self.hystart), ack) else {
            return;
        };
        // RFC 5681 §3.1 byte counting: one segment per window's worth acknowledged.
        self.bytes_acked += acked;
        if self.bytes_acked >= self.cwnd {
            self.bytes_acked -= self.cwnd;
            self.cwnd += ack.mss;
        }
    }
    fn on_enter_recovery(&mut self, flight: usize, mss: usize) {
        self.ssthresh = Self::half_flight(flight, mss);
        self.cwnd = self.ssthresh + 3 * mss;
        self.bytes_acked = 0;
    }
    fn on_recovery_dup_ack(&mut self, mss: usize) {
        self.cwnd += mss;
    }
    fn on_partial_ack(&mut self, acked: usize, mss: usize) {
        self.cwnd = deflate_on_partial_ack(self.cwnd, acked, mss);
    }
    fn on_exit_recovery(&mut self, flight: usize, mss: usize) {
        self.cwnd = window_after_recovery(self.ssthresh, flight, mss);
        self.bytes_acked = 0;
    }
    fn on_timeout(&mut self, flight: usize, mss: usize) {
        // RFC 5681 §3.1: ssthresh per equation (4), cwnd to the loss window of one segment.
        self.ssthresh = Self::half_flight(flight, mss);
        self.cwnd = mss;
        self.bytes_acked = 0;
    }
    fn resume(&mut self, cwnd: usize, ssthresh: usize) {
        (self.cwnd, self.ssthresh, self.bytes_acked) = (cwnd, ssthresh, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcp::SeqNum;

    const MSS: usize = 1000;

    fn ack(acked: usize) -> AckSample {
        let (ack, snd_max) = (SeqNum(0), SeqNum(0));
        AckSample {
            acked,
            mss: MSS,
            now: crate::time::Instant::ZERO,
            srtt: None,
            rtt: None,
            ack,
            snd_max,
            cwnd_limited: true,
        }
    }

    #[test]
    fn slow_start_then_avoidance() {
        let mut c = NewReno::new(MSS);
        assert_eq!(c.cwnd(), 10 * MSS.min(1460));
        c.on_ack(&ack(5 * MSS)); // a stretch ACK: every acknowledged segment counts (no RFC 3465 L = 2 cap)
        assert_eq!(c.cwnd(), 15 * MSS);
        c.on_timeout(12 * MSS, MSS);
        assert_eq!((c.cwnd(), c.ssthresh()), (MSS, 6 * MSS));
        for _ in 0..5 {
            c.on_ack(&ack(MSS));
        }
        assert_eq!(c.cwnd(), 6 * MSS);
        // Congestion avoidance: one segment per window of acknowledged bytes.
        for _ in 0..5 {
            c.on_ack(&ack(MSS));
        }
        assert_eq!(c.cwnd(), 6 * MSS);
        c.on_ack(&ack(MSS));
        assert_eq!(c.cwnd(), 7 * MSS);
    }

    /// RFC 7661 / RFC 9438 §5.8: ACKs of a flow the application limits leave the window where it is, in slow
    /// start and in congestion avoidance.
    #[test]
    fn an_unused_window_does_not_grow() {
        let mut c = NewReno::new(MSS);
        let idle = AckSample { cwnd_limited: false, ..ack(5 * MSS) };
        c.on_ack(&idle);
        assert_eq!(c.cwnd(), 10 * MSS);
        c.on_timeout(12 * MSS, MSS);
        c.resume(8 * MSS, 6 * MSS);
        for _ in 0..20 {
            c.on_ack(&idle);
        }
        assert_eq!(c.cwnd(), 8 * MSS);
    }

    #[test]
    fn slow_start_stops_at_ssthresh_and_the_rest_of_the_ack_counts_for_avoidance() {
        let mut c = NewReno::new(MSS);
        c.on_timeout(8 * MSS, MSS);
        assert_eq!((c.cwnd(), c.ssthresh()), (MSS, 4 * MSS));
        // One cumulative ACK for 10 segments after a go-back: up to ssthresh, not beyond.
        c.on_ack(&ack(10 * MSS));
        assert_eq!(c.cwnd(), 5 * MSS, "3 segments of slow start, then 7 counted in avoidance: one more");
    }

    #[test]
    fn fast_recovery_inflates_deflates_and_exits() {
        let mut c = NewReno::new(MSS);
        c.on_enter_recovery(10 * MSS, MSS);
        assert_eq!((c.ssthresh(), c.cwnd()), (5 * MSS, 8 * MSS));
        c.on_recovery_dup_ack(MSS);
        assert_eq!(c.cwnd(), 9 * MSS);
        c.on_partial_ack(2 * MSS, MSS);
        assert_eq!(c.cwnd(), 8 * MSS);
        c.on_exit_recovery(3 * MSS, MSS);
        assert_eq!(c.cwnd(), 4 * MSS);
        c.on_exit_recovery(30 * MSS, MSS);
        assert_eq!(c.cwnd(), 5 * MSS);
    }
}
