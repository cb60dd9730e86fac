//! Loss recovery: duplicate ACK counting (RFC 5681, RFC 5827 early retransmit), fast retransmit and NewReno
//! fast recovery (RFC 6582), SACK-based recovery with the scoreboard and "pipe" (RFC 6675), and what a
//! retransmission timeout does to them.

use super::ack::AckDue;
use super::sack::{RetransmitLog, Scoreboard};
use super::segment::Outgoing;
use super::seq::SeqNum;
use super::tcb::{Effects, Tcb};
use crate::time::Instant;
use crate::wire::TcpFlags;

#[derive(Debug)]
pub(crate) struct LossRecovery {
    /// What the peer reported holding above SND.UNA.
    scoreboard: Scoreboard,
    /// SACK recovery: holes below this were already retransmitted in the current episode.
    rtx_next: SeqNum,
    /// Retransmissions of the current recovery, to notice when one of them is lost too.
    rtx_log: RetransmitLog,
    /// Duplicate ACKs in a row.
    dup_acks: u32,
    phase: Phase,
    /// RFC 6582 "recover": highest sequence number sent when recovery (or a timeout) began.
    recover: SeqNum,
    /// A tail loss probe went out and its outcome is not known yet (one probe per episode).
    tlp_in_flight: bool,
}

/// Whether the sender is repairing a loss that duplicate ACKs (or SACK) revealed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Sending normally (possibly going back after a timeout).
    Open,
    /// Fast recovery until everything outstanding at its start is acknowledged.
    FastRecovery,
}

impl LossRecovery {
    /// Nothing sent, nothing lost; `iss` is where the send sequence space starts.
    pub(crate) fn new(iss: SeqNum) -> LossRecovery {
        LossRecovery {
            scoreboard: Scoreboard::default(),
            rtx_next: iss,
            rtx_log: RetransmitLog::default(),
            dup_acks: 0,
            phase: Phase::Open,
            recover: iss,
            tlp_in_flight: false,
        }
    }

    pub(crate) fn in_recovery(&self) -> bool {
        self.phase == Phase::FastRecovery
    }
    pub(crate) fn recover(&self) -> SeqNum {
        self.recover
    }
    pub(crate) fn dup_acks(&self) -> u32 {
        self.dup_acks
    }
    pub(crate) fn scoreboard(&self) -> &Scoreboard {
        &self.scoreboard
    }
    pub(crate) fn tlp_in_flight(&self) -> bool {
        self.tlp_in_flight
    }

    /// Folds in an ACK's SACK blocks; returns whether they reported anything new.
    pub(crate) fn sacked(&mut self, blocks: &[Option<(SeqNum, SeqNum)>; 4], una: SeqNum, max: SeqNum) -> bool {
        self.scoreboard.update(blocks, una, max)
    }

    /// SND.UNA moved to `ack`.
    pub(crate) fn advance(&mut self, ack: SeqNum) {
        self.scoreboard.advance(ack);
    }

    /// A tail loss probe went out.
    pub(crate) fn probe_sent(&mut self) {
        self.tlp_in_flight = true;
    }
}

impl Tcb {
    /// The handshake agreed the MSS, and nothing but the SYN was sent: the congestion window starts over in
    /// segments of that size (RFC 6928's initial window counts segments).
    pub(crate) fn restart_congestion(&mut self) {
        self.cc = self.cc_algorithm.build(self.opts.mss(), self.hystart);
    }

    /// Hands the congestion window to `algorithm` (built for this connection's MSS), which takes over the
    /// window reached so far.
    pub(crate) fn switch_congestion(&mut self, algorithm: &super::CongestionAlgorithm) {
        let (cwnd, ssthresh) = (self.cc.cwnd(), self.cc.ssthresh());
        self.cc = algorithm.build(self.opts.mss(), self.hystart);
        self.cc.resume(cwnd, ssthresh);
        self.cc_algorithm = algorithm.clone();
    }

    /// Recovering with SACK information (RFC 6675) rather than NewReno.
    pub(crate) fn sack_recovery(&self) -> bool {
        self.recovery.in_recovery() && self.opts.sack() && !self.recovery.scoreboard.is_empty()
    }

    /// RFC 6675 "pipe": bytes presumed still in the network — outstanding, minus what the peer SACKed, minus
    /// holes presumed lost that were not retransmitted yet.
    pub(crate) fn pipe(&self) -> usize {
        let r = &self.recovery;
        let lost = r.scoreboard.hole_bytes_from(r.rtx_next.max(self.snd.una()));
        self.snd.outstanding().saturating_sub(r.scoreboard.sacked_bytes()).saturating_sub(lost)
    }

    /// SEG.ACK == SND.UNA with nothing else: RFC 5681 duplicate ACK.
    pub(crate) fn on_duplicate_ack(&mut self, fx: &mut Effects) {
        self.counters.dup_acks_received += 1;
        self.recovery.dup_acks += 1;
        let mss = self.opts.mss();
        let r = &self.recovery;
        // RFC 6675 §5: with SACK, three segments' worth of SACKed data above SND.UNA also means loss.
        // After a tail loss probe, SACK for the probe means what lies below it is lost (RFC 8985 §7.4's aim).
        let sack_says_lost = self.opts.sack()
            && (r.scoreboard.sacked_bytes() >= 3 * mss || (r.tlp_in_flight && !r.scoreboard.is_empty()));
        if r.in_recovery() {
            self.cc.on_recovery_dup_ack(mss);
        } else if (r.dup_acks >= self.dup_threshold() || sack_says_lost) && self.snd.una() >= r.recover {
            // RFC 6582 §3.2 step 2 / RFC 6675 §5: fast retransmit, then fast recovery. The guard keeps duplicate
            // ACKs caused by go-back retransmissions after a timeout (SND.UNA still below "recover") from
            // triggering it; once everything sent before is acknowledged, losses after "recover" are genuine.
            self.enter_fast_recovery(fx);
        }
    }

    /// RFC 6582 §3.2 step 2 / RFC 6675 §5.
    fn enter_fast_recovery(&mut self, fx: &mut Effects) {
        let r = &mut self.recovery;
        r.phase = Phase::FastRecovery;
        r.tlp_in_flight = false;
        r.recover = self.snd.max();
        r.rtx_next = self.snd.una();
        r.rtx_log.clear();
        self.timers.stop_tlp();
        self.cc.on_enter_recovery(self.snd.outstanding(), self.opts.mss());
        self.counters.fast_retransmits += 1;
        if !self.sack_recovery() {
            self.retransmit_first(fx);
        }
    }

    /// Duplicate ACKs that signal a loss: three (RFC 5681), or fewer when so little is outstanding and nothing
    /// new can be sent that three could never arrive (RFC 5827 early retransmit).
    fn dup_threshold(&self) -> u32 {
        let outstanding = self.snd.outstanding();
        let outstanding_segments = outstanding.div_ceil(self.opts.mss().max(1));
        let nothing_new = self.snd.buf_end() <= self.snd.max() || self.snd.wnd() <= outstanding;
        if nothing_new && outstanding_segments < 4 {
            (outstanding_segments as u32).saturating_sub(1).max(1)
        } else {
            3
        }
    }

    /// New data was acknowledged (`data_acked` bytes of it): recovery ends on a full acknowledgement
    /// (RFC 6582 §3.2 step 3), repairs the next hole on a partial one, or the window grows.
    pub(crate) fn on_ack_during_recovery(&mut self, ack: SeqNum, data_acked: usize, now: Instant, fx: &mut Effects) {
        let mss = self.opts.mss();
        if self.recovery.in_recovery() {
            if ack >= self.recovery.recover {
                // Full acknowledgement: recovery is over.
                self.recovery.phase = Phase::Open;
                self.recovery.dup_acks = 0;
                self.cc.on_exit_recovery(self.snd.outstanding(), mss);
            } else if self.sack_recovery() {
                // Partial acknowledgement with SACK: the scoreboard drives what is resent (in poll_send).
                self.restart_rtx_timer(now);
            } else {
                // Partial acknowledgement: the next hole is lost too; retransmit it at once.
                self.cc.on_partial_ack(data_acked, mss);
                self.retransmit_first(fx);
                self.restart_rtx_timer(now);
            }
        } else {
            self.recovery.dup_acks = 0;
            self.cc.on_ack(&self.ack_sample(ack, data_acked, now));
        }
        self.recovery.tlp_in_flight = false;
    }

    /// During SACK recovery: a retransmission that the peer's SACKs show lost as well makes its hole eligible
    /// for resending again.
    pub(crate) fn note_lost_retransmissions(&mut self) {
        if !self.sack_recovery() {
            return;
        }
        let r = &mut self.recovery;
        if let Some(lost) = r.rtx_log.take_lost(&r.scoreboard, self.snd.una()) {
            r.rtx_next = r.rtx_next.min(lost);
        }
    }

    /// RFC 6298 §5.4-5.6 and RFC 5681 §3.1 for data: collapse cwnd, leave fast recovery, and (RFC 6582 §4) no
    /// fast retransmit until everything sent so far is acknowledged. `repeated`: not the first timeout in a
    /// row, so (RFC 2018 §8) the receiver may have reneged on what it SACKed and the scoreboard is dropped.
    pub(crate) fn on_timeout_recovery(&mut self, repeated: bool) {
        self.cc.on_timeout(self.snd.outstanding(), self.opts.mss());
        let r = &mut self.recovery;
        r.phase = Phase::Open;
        r.dup_acks = 0;
        r.recover = self.snd.max();
        if repeated {
            r.scoreboard.clear();
        }
    }

    /// Queues a retransmission of the first unacknowledged segment.
    /// Returns the sequence space it occupies (0 if nothing is outstanding).
    pub(crate) fn retransmit_first(&mut self, fx: &mut Effects) -> usize {
        if self.snd.outstanding() == 0 {
            return 0;
        }
        let una = self.snd.una();
        let sent_data = self.snd.max().min(self.snd.buf_end()) - una;
        let len = sent_data.min(self.opts.mss());
        let mut flags = TcpFlags::ACK;
        let fin = self.snd.fin_sent() && una + len == self.snd.buf_end();
        if fin {
            flags |= TcpFlags::FIN;
        }
        if len > 0 {
            flags |= TcpFlags::PSH;
        }
        self.counters.retransmitted_segments += 1;
        self.counters.retransmitted_bytes += len as u64;
        self.timing.cancel();
        fx.transmit.push(Outgoing::data(una, flags, self.snd.offset_of(una), len));
        self.ack.set_due(AckDue::None);
        len + usize::from(fin)
    }

    /// RFC 6675 §5 rule 1: resend holes the scoreboard shows lost, lowest first, while pipe allows.
    pub(crate) fn resend_sack_holes(&mut self, now: Instant, fx: &mut Effects) {
        let mss = self.opts.mss();
        while self.pipe() + mss <= self.cc.ssthresh() {
            let from = self.recovery.rtx_next.max(self.snd.una());
            let Some((start, end)) = self.recovery.scoreboard.next_hole(from) else {
                break;
            };
            let len = (end - start).min(mss).min(self.snd.buf_end() - start);
            if len == 0 {
                break;
            }
            self.counters.retransmitted_segments += 1;
            self.counters.retransmitted_bytes += len as u64;
            self.timing.cancel();
            self.push_with_ack(Outgoing::data(start, TcpFlags::ACK, self.snd.offset_of(start), len), fx);
            let r = &mut self.recovery;
            r.rtx_next = start + len;
            r.rtx_log.record(start, start + len, self.snd.max());
            self.ensure_rtx_timer(now);
        }
    }
}
