//! Proportional Rate Reduction (RFC 6937): how much fast recovery may send on each ACK. The congestion
//! controller names the target (ssthresh); PRR spreads the reduction to it over the round trip in proportion
//! to what the peer reports delivered, instead of sending nothing for half a round trip and then a burst
//! (RFC 6675's pipe rule alone), and, when losses leave the pipe below the target, grows back to it no faster
//! than slow start would (PRR-SSRB). Linux uses it for every congestion control.

/// PRR's counters for one recovery episode (all in bytes).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Prr {
    /// RecoverFS: the flight size when recovery began.
    recover_fs: usize,
    /// prr_delivered: bytes the peer reported delivered (cumulatively or by SACK) since then.
    delivered: usize,
    /// prr_out: bytes sent since then.
    out: usize,
    /// The window the last ACK set (pipe then + what PRR allowed to send): as on Linux, what may be in flight
    /// until the next ACK, so losses found in between (RACK's timer) free room as they would in the pipe.
    cwnd: usize,
}

impl Prr {
    /// Recovery begins with `flight` bytes outstanding and `pipe` presumed in the network (the fast retransmit
    /// goes regardless: see `LossRecovery`).
    pub(crate) fn start(flight: usize, pipe: usize) -> Prr {
        Prr { recover_fs: flight.max(1), delivered: 0, out: 0, cwnd: pipe }
    }

    /// An ACK during recovery reported `delivered` more bytes (RFC 6937's DeliveredData); `pipe` is what is
    /// still in flight and `ssthresh` the target. Sets how much may be sent now (RFC 6937 §3.1).
    pub(crate) fn on_ack(&mut self, delivered: usize, pipe: usize, ssthresh: usize, mss: usize) {
        self.delivered += delivered;
        let send = if pipe > ssthresh {
            // Proportional part: sent so far ≈ delivered × ssthresh / RecoverFS, rounded up.
            let target = (self.delivered as u128 * ssthresh as u128).div_ceil(self.recover_fs as u128);
            (target.min(usize::MAX as u128) as usize).saturating_sub(self.out)
        } else {
            // Slow-start reduction bound: back up to ssthresh, at most one segment more than delivered.
            let limit = self.delivered.saturating_sub(self.out).max(delivered) + mss;
            (ssthresh - pipe).min(limit)
        };
        self.cwnd = pipe + send;
    }

    /// What may be sent now, with `pipe` bytes presumed in the network.
    pub(crate) fn allowance(&self, pipe: usize) -> usize {
        self.cwnd.saturating_sub(pipe)
    }

    /// `len` bytes were sent during recovery.
    pub(crate) fn sent(&mut self, len: usize) {
        self.out += len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSS: usize = 1000;

    #[test]
    fn sends_in_proportion_while_the_pipe_is_above_ssthresh() {
        // RFC 6937 §3's example: 20 segments in flight, ssthresh 10 (half): one segment out per two delivered.
        let mut prr = Prr::start(20 * MSS, 19 * MSS);
        prr.sent(MSS); // the fast retransmit
        let mut out = 1;
        for delivered in 1..=14 {
            // 19 presumed in flight at the start (one lost), one fewer per delivery, one more per send: it stays
            // above ssthresh throughout.
            let pipe = |out: usize| (19 + out - delivered) * MSS;
            prr.on_ack(MSS, pipe(out), 10 * MSS, MSS);
            while prr.allowance(pipe(out)) >= MSS {
                prr.sent(MSS);
                out += 1;
            }
        }
        assert_eq!(out, 7, "ssthresh/RecoverFS of what was delivered");
    }

    #[test]
    fn grows_back_no_faster_than_slow_start_when_the_pipe_fell_below_ssthresh() {
        let mut prr = Prr::start(20 * MSS, 19 * MSS);
        prr.sent(MSS);
        // Heavy losses: the pipe is 2 segments, ssthresh 10. One segment delivered allows two out.
        prr.on_ack(MSS, 2 * MSS, 10 * MSS, MSS);
        assert_eq!(prr.allowance(2 * MSS), 2 * MSS);
        // A loss found before the next ACK frees its room.
        assert_eq!(prr.allowance(MSS), 3 * MSS);
        // A big stretch ACK still cannot send more than ssthresh - pipe.
        prr.on_ack(20 * MSS, 2 * MSS, 10 * MSS, MSS);
        assert_eq!(prr.allowance(2 * MSS), 8 * MSS);
    }
}
