//! Loss recovery: RACK-TLP (RFC 8985, in `rack.rs`) finds losses on SACK connections, duplicate ACK counting
//! (RFC 5681, RFC 5827 early retransmit) on the others; fast recovery resends what was lost (RFC 6675's "pipe"
//! with SACK, NewReno's one hole per round trip (RFC 6582) without); a retransmission timeout goes back; and a
//! reduction that turns out needless — the timestamp echo shows the original arrived (Eifel, RFC 3522) or D-SACKs
//! (RFC 2883) report every retransmission received twice (RFC 3708) — is undone, as Linux does.

use super::ack::AckDue;
use super::prr::Prr;
use super::rack::Rack;
use super::sack::Scoreboard;
use super::segment::Outgoing;
use super::seq::SeqNum;
use super::tcb::{Effects, Tcb};
use crate::explain::Why;
use crate::time::Instant;
use crate::wire::{TcpFlags, TcpRepr};
use core::time::Duration;

#[derive(Debug)]
pub(crate) struct LossRecovery {
    /// RACK's transmission log and reordering window (SACK connections).
    rack: Rack,
    /// Duplicate ACKs in a row.
    dup_acks: u32,
    phase: Phase,
    /// RFC 6582 "recover": highest sequence number sent when recovery (or a timeout) began.
    recover: SeqNum,
    /// A tail loss probe went out and its outcome is not known yet (one probe per episode).
    tlp_in_flight: bool,
    /// The last loss episode's undo and PRR state, boxed: only loss episodes need it, and an idle connection's
    /// state stays small.
    episode: Option<Box<Episode>>,
    /// `TcpConfig::prr`.
    use_prr: bool,
    /// Fast recovery began and its first retransmission has not gone out: it goes whatever the window says.
    fast_retransmit_due: bool,
}

/// Whether the sender is repairing a loss that duplicate ACKs (or SACK) revealed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Sending normally (possibly going back after a timeout).
    Open,
    /// Fast recovery until everything outstanding at its start is acknowledged.
    FastRecovery,
}

/// A loss episode's state, in one box made when an episode begins and freed once neither part is left.
#[derive(Debug, Default)]
struct Episode {
    /// How to take back the episode's reduction if it proves needless (kept after the episode ends, until late
    /// D-SACKs can no longer come).
    undo: Option<Undo>,
    /// Proportional Rate Reduction's accounting during SACK recovery.
    prr: Option<Prr>,
}

/// The window before a loss episode (a fast recovery or a timeout) and what it resent, as Linux's
/// `undo_marker`/`undo_retrans`/`retrans_stamp`.
#[derive(Clone, Debug)]
struct Undo {
    cwnd: usize,
    ssthresh: usize,
    /// The episode began with a retransmission timeout (which also went back to SND.UNA).
    timeout: bool,
    /// The first sequence number presumed lost: an ACK beyond it before anything was resent proves it was not.
    marker: SeqNum,
    /// The episode's first retransmission: when it went out and where what it resent ended.
    first_rtx: Option<(Instant, SeqNum)>,
    /// Ranges resent in the episode that no D-SACK has reported yet; `None` once there were too many to track.
    unconfirmed: Option<Vec<(SeqNum, SeqNum)>>,
    /// Once SND.UNA passes this (SND.MAX when the episode ended), late D-SACKs no longer undo it.
    expires: Option<SeqNum>,
}

/// Retransmissions one episode may track for a D-SACK undo; an episode with more is undone only by timestamps.
const MAX_UNDO_RANGES: usize = 64;

impl Undo {
    fn new(cwnd: usize, ssthresh: usize, timeout: bool, marker: SeqNum) -> Undo {
        Undo { cwnd, ssthresh, timeout, marker, first_rtx: None, unconfirmed: Some(Vec::new()), expires: None }
    }

    /// `[start, end)` was resent at `now`.
    fn resent(&mut self, start: SeqNum, end: SeqNum, now: Instant) {
        self.first_rtx.get_or_insert((now, end));
        if let Some(ranges) = &mut self.unconfirmed {
            if ranges.len() == MAX_UNDO_RANGES {
                self.unconfirmed = None;
            } else {
                ranges.push((start, end));
            }
        }
    }

    /// A D-SACK reported `[start, end)` received twice; returns whether every retransmission now is.
    fn confirmed_by(&mut self, start: SeqNum, end: SeqNum) -> bool {
        let Some(ranges) = &mut self.unconfirmed else { return false };
        let before = ranges.len();
        ranges.retain(|&(s, e)| !(start <= s && e <= end));
        ranges.len() < before && ranges.is_empty()
    }
}

/// RFC 2883 §4: the first SACK block reports duplicate data (a D-SACK) if it lies below the cumulative ACK or
/// inside the second block.
fn dsack_of(blocks: &[Option<(SeqNum, SeqNum)>; 4], ack: SeqNum) -> Option<(SeqNum, SeqNum)> {
    let (start, end) = blocks[0]?;
    let inside_next = blocks[1].is_some_and(|(s, e)| s <= start && end <= e);
    (start < end && (end <= ack || inside_next)).then_some((start, end))
}

impl LossRecovery {
    /// Nothing sent, nothing lost; `iss` is where the send sequence space starts.
    pub(crate) fn new(iss: SeqNum, use_prr: bool) -> LossRecovery {
        LossRecovery {
            rack: Rack::new(),
            dup_acks: 0,
            phase: Phase::Open,
            recover: iss,
            tlp_in_flight: false,
            episode: None,
            use_prr,
            fast_retransmit_due: false,
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
    /// What the peer reported holding above SND.UNA (kept with RACK's log).
    pub(crate) fn scoreboard(&self) -> &Scoreboard {
        self.rack.scoreboard()
    }
    pub(crate) fn rack(&self) -> &Rack {
        &self.rack
    }
    pub(crate) fn tlp_in_flight(&self) -> bool {
        self.tlp_in_flight
    }

    fn undo(&self) -> Option<&Undo> {
        self.episode.as_ref()?.undo.as_ref()
    }
    fn undo_mut(&mut self) -> Option<&mut Undo> {
        self.episode.as_mut()?.undo.as_mut()
    }
    fn prr(&self) -> Option<&Prr> {
        self.episode.as_ref()?.prr.as_ref()
    }
    fn prr_mut(&mut self) -> Option<&mut Prr> {
        self.episode.as_mut()?.prr.as_mut()
    }
    fn set_undo(&mut self, undo: Undo) {
        self.episode.get_or_insert_default().undo = Some(undo);
    }
    fn set_prr(&mut self, prr: Prr) {
        self.episode.get_or_insert_default().prr = Some(prr);
    }
    fn take_undo(&mut self) -> Option<Undo> {
        let undo = self.episode.as_mut()?.undo.take();
        self.release_episode();
        undo
    }
    fn drop_prr(&mut self) {
        if let Some(e) = &mut self.episode {
            e.prr = None;
            self.release_episode();
        }
    }
    /// Frees the episode's box once nothing is left in it.
    fn release_episode(&mut self) {
        if self.episode.as_ref().is_some_and(|e| e.undo.is_none() && e.prr.is_none()) {
            self.episode = None;
        }
    }

    /// Folds in an ACK's SACK blocks; returns whether they reported anything new.
    pub(crate) fn sacked(&mut self, blocks: &[Option<(SeqNum, SeqNum)>; 4], una: SeqNum, max: SeqNum) -> bool {
        self.rack.sacked(blocks, una, max)
    }

    /// SND.UNA moved to `ack`.
    pub(crate) fn advance(&mut self, ack: SeqNum) {
        self.rack.advance_scoreboard(ack);
        if self.undo().and_then(|u| u.expires).is_some_and(|expires| ack > expires) {
            self.take_undo();
        }
    }

    /// A reduction that is not a loss (an ECN echo) happened: the last loss episode can no longer be undone.
    pub(crate) fn forget_undo(&mut self) {
        self.take_undo();
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
        self.cc = self.cc.algorithm().build(self.opts.mss(), self.hystart);
    }

    /// Hands the congestion window to `algorithm` (built for this connection's MSS), which takes over the
    /// window reached so far.
    pub(crate) fn switch_congestion(&mut self, algorithm: &super::CongestionAlgorithm) {
        let (cwnd, ssthresh) = (self.cc.cwnd(), self.cc.ssthresh());
        self.cc = algorithm.build(self.opts.mss(), self.hystart);
        self.cc.resume(cwnd, ssthresh);
    }

    /// Recovering with SACK information (RFC 6675, losses found by RACK) rather than NewReno.
    pub(crate) fn sack_recovery(&self) -> bool {
        self.recovery.in_recovery() && self.opts.sack()
    }

    /// RFC 6675 "pipe": bytes presumed still in the network — outstanding, minus what the peer SACKed, minus
    /// what RACK marked lost and was not resent yet.
    pub(crate) fn pipe(&self) -> usize {
        let r = &self.recovery;
        self.snd.outstanding().saturating_sub(r.scoreboard().sacked_bytes()).saturating_sub(r.rack.lost_bytes())
    }

    /// Queues data (and/or a FIN) sent at `now`. RACK logs every transmission of data, and one that resends something
    /// counts towards undoing the current loss episode.
    pub(crate) fn queue_data(&mut self, tx: Outgoing, now: Instant, fx: &mut Effects) {
        let end = tx.seq + tx.len + usize::from(tx.flags.contains(TcpFlags::FIN));
        if tx.len > 0 {
            self.snd.data_sent_at(now);
        }
        // RACK logs data; a lone FIN sent for the first time is left to the tail loss probe and the RTO (as before
        // RACK), which spares a connection that only opens and closes the log's allocation. A FIN sent again may
        // be the end of a logged segment whose data the peer SACKed: logging it marks that entry resent.
        let resent = if self.opts.sack() && (tx.len > 0 || tx.seq < self.snd.max()) {
            self.recovery.rack.on_send(tx.seq, end, now) > 0
        } else {
            tx.seq < self.snd.max()
        };
        if resent {
            self.recovery.fast_retransmit_due = false;
            if let Some(undo) = self.recovery.undo_mut() {
                undo.resent(tx.seq, end, now);
            }
        }
        if let Some(prr) = self.recovery.prr_mut() {
            prr.sent(end - tx.seq);
        }
        self.push_with_ack(tx, fx);
    }

    /// SEG.ACK == SND.UNA with nothing else: RFC 5681 duplicate ACK. With SACK, RACK decides what is lost;
    /// without, the third duplicate (or fewer, RFC 5827) starts fast retransmit.
    pub(crate) fn on_duplicate_ack(&mut self, now: Instant, fx: &mut Effects) {
        self.counters.rare().dup_acks_received += 1;
        self.recovery.dup_acks += 1;
        let r = &self.recovery;
        if r.in_recovery() {
            self.cc.on_recovery_dup_ack(self.opts.mss());
        } else if !self.opts.sack() && r.dup_acks >= self.dup_threshold() && self.snd.una() >= r.recover {
            // RFC 6582 §3.2 step 2: fast retransmit, then fast recovery. The guard keeps duplicate ACKs caused
            // by go-back retransmissions after a timeout (SND.UNA still below "recover") from triggering it;
            // once everything sent before is acknowledged, losses after "recover" are genuine.
            self.enter_fast_recovery(self.snd.una(), now, fx);
        }
    }

    /// An acceptable ACK with its SACK blocks merged, acknowledging up to `una`: RACK learns what was delivered
    /// (RFC 8985 §6.2 steps 1-3), before the ACK's other effects, so the congestion controller hears the round
    /// trip it measured. Returns whether there was anything to learn; `rack_detect_loss` then follows.
    pub(crate) fn rack_learn(&mut self, seg: &TcpRepr<'_>, una: SeqNum, now: Instant) -> bool {
        let ts = &self.ts;
        let r = &mut self.recovery;
        if r.rack.is_idle() && seg.options.sack_blocks[0].is_none() {
            return false; // nothing logged, nothing reported: nothing to learn or detect
        }
        r.rack.on_ack(una, &seg.options.sack_blocks, |at| ts.echoes_before(seg, at), now);
        true
    }

    /// RACK's loss detection, after an ACK or when its reordering timer fires.
    pub(crate) fn rack_detect_loss(&mut self, now: Instant, fx: &mut Effects) {
        let mss = self.opts.mss();
        let r = &mut self.recovery;
        if !r.rack.anything_in_doubt() {
            self.timers.reorder_at(None);
            return;
        }
        // RFC 8985 §6.2 step 4: without reordering seen, no extra wait once recovering or once a duplicate-ACK
        // threshold's worth of data is SACKed.
        let recovering = r.in_recovery() || r.scoreboard().sacked_bytes() >= 3 * mss;
        let window = r.rack.reorder_window(recovering, self.rtt.srtt());
        let found = r.rack.detect_loss(window, now);
        self.counters.rare().lost_segments += u64::from(found.lost_segments);
        self.timers.reorder_at(found.recheck_in.map(|wait| now + wait));
        if let Some(lowest) = found.lowest_lost {
            if !self.recovery.in_recovery() && self.snd.una() >= self.recovery.recover {
                self.enter_fast_recovery(lowest, now, fx);
            }
        }
    }

    /// RFC 6582 §3.2 step 2 / RFC 6675 §5; `first_lost`: the lowest sequence number presumed lost.
    fn enter_fast_recovery(&mut self, first_lost: SeqNum, now: Instant, fx: &mut Effects) {
        let (cwnd, ssthresh, pipe) = (self.cc.cwnd(), self.cc.ssthresh(), self.pipe());
        let r = &mut self.recovery;
        r.set_undo(Undo::new(cwnd, ssthresh, false, first_lost));
        r.phase = Phase::FastRecovery;
        r.fast_retransmit_due = true;
        r.tlp_in_flight = false;
        r.recover = self.snd.max();
        if r.use_prr && self.opts.sack() {
            r.set_prr(Prr::start(self.snd.outstanding(), pipe));
        }
        self.timers.stop_tlp();
        // RFC 3168 §6.1.2: a window an ECN echo reduced is not reduced again for a loss in it.
        if !self.reduced_for_ecn_this_window() {
            self.cc.on_enter_recovery(self.snd.outstanding(), self.opts.mss());
        }
        self.ecn.loss_reduction();
        self.counters.rare().fast_retransmits += 1;
        if !self.sack_recovery() {
            let why = Why::FastRetransmit { dup_acks: self.recovery.dup_acks };
            self.retransmit_first(now, why, fx);
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
    /// (RFC 6582 §3.2 step 3), repairs the next hole on a partial one, or the window grows. `rtt`: the round
    /// trip the ACK measured (`Tcb::sample_rtt`).
    pub(crate) fn on_ack_during_recovery(
        &mut self,
        (ack, data_acked, rtt): (SeqNum, usize, Option<Duration>),
        now: Instant,
        fx: &mut Effects,
    ) {
        let mss = self.opts.mss();
        if self.recovery.in_recovery() {
            if ack >= self.recovery.recover {
                // Full acknowledgement: recovery is over. RFC 6582's min(ssthresh, FlightSize + MSS) is for
                // recovery without SACK, whose window duplicate ACKs inflated; SACK recovery ends at ssthresh
                // (RFC 6937 §3): a flight that drained at the end of the data must not leave a window of two.
                let bound = if self.sack_recovery() { self.cc.ssthresh() } else { self.snd.outstanding() };
                self.end_recovery();
                self.cc.on_exit_recovery(bound, mss);
            } else if self.sack_recovery() {
                // Partial acknowledgement with SACK: RACK marks what is lost, the scoreboard what to skip.
                self.restart_rtx_timer(now);
            } else {
                // Partial acknowledgement: the next hole is lost too; retransmit it at once.
                self.cc.on_partial_ack(data_acked, mss);
                self.retransmit_first(now, Why::PartialAckRetransmit, fx);
                self.restart_rtx_timer(now);
            }
        } else {
            self.recovery.dup_acks = 0;
            let sample = self.ack_sample(ack, data_acked, rtt, now);
            self.cc.on_ack(&sample);
        }
        self.recovery.tlp_in_flight = false;
    }

    /// Fast recovery is over (completed or undone).
    fn end_recovery(&mut self) {
        let r = &mut self.recovery;
        r.phase = Phase::Open;
        r.dup_acks = 0;
        r.drop_prr();
        r.rack.on_recovery_end();
        if let Some(undo) = r.undo_mut() {
            undo.expires = Some(self.snd.max());
        }
    }

    /// Was the last loss episode's reduction needless? Linux's `tcp_packet_delayed`: an ACK beyond what was
    /// presumed lost before anything was resent, or (Eifel, RFC 3522) one that covers the episode's first
    /// retransmission but echoes a timestamp from before it, was triggered by the original: the original was
    /// delayed, not lost. Called when `seg` acknowledged new data.
    pub(crate) fn undo_if_delayed(&mut self, seg: &TcpRepr<'_>) {
        let Some(undo) = self.recovery.undo() else { return };
        let delayed = match undo.first_rtx {
            None => seg.ack_number > undo.marker,
            Some((at, end)) => seg.ack_number >= end && self.ts.echoes_before(seg, at),
        };
        if delayed {
            self.undo_reduction();
        }
    }

    /// A D-SACK (RFC 2883) in `seg`'s SACK blocks: the peer got some data twice. The reordering window widens;
    /// when every retransmission of the last episode is reported so, the episode is undone (RFC 3708).
    pub(crate) fn on_dsack(&mut self, seg: &TcpRepr<'_>) {
        let Some((start, end)) = dsack_of(&seg.options.sack_blocks, seg.ack_number) else { return };
        self.counters.rare().dsacks_received += 1;
        self.recovery.rack.on_dsack(self.snd.una(), self.snd.max());
        if self.recovery.undo_mut().is_some_and(|u| u.confirmed_by(start, end)) {
            self.undo_reduction();
        }
    }

    /// Takes back the last loss episode's reduction (Linux's `tcp_undo_cwnd_reduction`): the window and
    /// threshold it had, nothing presumed lost, fast retransmit allowed again, and after a timeout no more
    /// going back (the peer has what was sent).
    fn undo_reduction(&mut self) {
        let Some(undo) = self.recovery.take_undo() else { return };
        let (cwnd, ssthresh) = (self.cc.cwnd().max(undo.cwnd), self.cc.ssthresh().max(undo.ssthresh));
        self.cc.resume(cwnd, ssthresh);
        if self.recovery.in_recovery() {
            self.end_recovery();
        }
        let r = &mut self.recovery;
        r.take_undo();
        r.rack.unmark_lost();
        r.recover = self.snd.una();
        if undo.timeout {
            self.snd.resume_from(self.snd.max());
            self.counters.rare().spurious_timeouts_undone += 1;
        } else {
            // What looked like a loss was the network reordering: RACK waits for it from now on (Linux notes
            // reordering on such an undo too).
            self.recovery.rack.note_reordering();
            self.counters.rare().spurious_recoveries_undone += 1;
        }
    }

    /// RFC 6298 §5.4-5.6 and RFC 5681 §3.1 for data: collapse cwnd, leave fast recovery, and (RFC 6582 §4) no
    /// fast retransmit until everything sent so far is acknowledged; RACK counts everything not SACKed lost
    /// (RFC 8985 §6.3). `repeated`: not the first timeout in a row, so (RFC 2018 §8) the receiver may have
    /// reneged on what it SACKed and the scoreboard is dropped, and the episode is past undoing.
    pub(crate) fn on_timeout_recovery(&mut self, repeated: bool) {
        let (cwnd, ssthresh) = (self.cc.cwnd(), self.cc.ssthresh());
        self.cc.on_timeout(self.snd.outstanding(), self.opts.mss());
        self.ecn.loss_reduction();
        let r = &mut self.recovery;
        let undo = match r.take_undo() {
            _ if repeated => None,
            // A timeout during fast recovery: undoing it restores the window from before the recovery.
            Some(mut undo) if r.phase == Phase::FastRecovery => {
                undo.timeout = true;
                Some(undo)
            }
            _ => Some(Undo::new(cwnd, ssthresh, true, self.snd.una())),
        };
        if let Some(undo) = undo {
            r.set_undo(undo);
        }
        r.phase = Phase::Open;
        r.dup_acks = 0;
        r.drop_prr();
        r.recover = self.snd.max();
        if repeated {
            r.rack.clear_scoreboard();
        }
        r.rack.on_timeout(repeated);
        self.timers.reorder_at(None);
    }

    /// Queues a retransmission of the first unacknowledged segment.
    /// Returns the sequence space it occupies (0 if nothing is outstanding).
    pub(crate) fn retransmit_first(&mut self, now: Instant, why: Why, fx: &mut Effects) -> usize {
        if self.snd.outstanding() == 0 {
            return 0;
        }
        let una = self.snd.una();
        let sent_data = self.snd.max().min(self.snd.buf_end()) - una;
        let len = sent_data.min(self.send_mss());
        let mut flags = TcpFlags::ACK;
        let fin = self.snd.fin_sent() && una + len == self.snd.buf_end();
        if fin {
            flags |= TcpFlags::FIN;
        }
        if len > 0 {
            flags |= TcpFlags::PSH;
        }
        self.counters.retransmitted(len);
        self.rtt.cancel_timing();
        self.queue_data(Outgoing::data(una, flags, self.snd.offset_of(una), len, why), now, fx);
        self.ack.set_due(AckDue::None);
        len + usize::from(fin)
    }

    /// What SACK recovery may send now: PRR's allowance (RFC 6937), or without PRR what RFC 6675's pipe
    /// leaves below ssthresh.
    pub(crate) fn recovery_allowance(&self) -> usize {
        let allowance = match self.recovery.prr() {
            Some(prr) => prr.allowance(self.pipe()),
            None => self.cc.ssthresh().saturating_sub(self.pipe()),
        };
        if self.recovery.fast_retransmit_due {
            allowance.max(self.opts.mss())
        } else {
            allowance
        }
    }

    /// An ACK during SACK recovery reported `delivered` bytes delivered (RFC 6937's DeliveredData: newly
    /// acknowledged plus newly SACKed): PRR sets what may go out in answer.
    pub(crate) fn prr_on_ack(&mut self, delivered: usize) {
        if self.recovery.prr().is_none() {
            return;
        }
        let (pipe, ssthresh, mss) = (self.pipe(), self.cc.ssthresh(), self.opts.mss());
        // PRR's state exists only during fast recovery (made on entry, dropped when it ends).
        if let Some(prr) = self.recovery.prr_mut() {
            prr.on_ack(delivered, pipe, ssthresh, mss);
        }
    }

    /// RFC 6675 §5 rule 1 with RACK's marks: resend what is lost, lowest first, skipping what the peer SACKed,
    /// while the recovery allowance lasts.
    pub(crate) fn resend_lost(&mut self, now: Instant, fx: &mut Effects) {
        let mss = self.send_mss();
        let mut from = self.snd.una();
        while self.recovery_allowance() >= mss {
            let Some((start, end)) = self.recovery.rack.next_lost(from) else {
                break;
            };
            let board = self.recovery.scoreboard();
            let mut at = start;
            while let Some(sacked_end) = board.sacked_end(at) {
                at = sacked_end;
            }
            if at >= end {
                // SACKed in pieces that only now add up to the whole: delivered, not lost.
                self.recovery.rack.delivered_piecewise(start, end);
                from = end;
                continue;
            }
            let stop = board.next_sacked_start(at).map_or(end, |next| next.min(end));
            let data_end = self.snd.buf_end();
            let len = if at < data_end { (stop.min(data_end) - at).min(mss) } else { 0 };
            let fin = self.snd.fin_sent() && at + len == data_end && stop > data_end;
            if len == 0 && !fin {
                break;
            }
            let mut flags = TcpFlags::ACK;
            if fin {
                flags |= TcpFlags::FIN;
            }
            self.counters.retransmitted(len);
            self.rtt.cancel_timing();
            self.queue_data(Outgoing::data(at, flags, self.snd.offset_of(at), len, Why::LostRetransmit), now, fx);
            from = at + len + usize::from(fin);
            self.ensure_rtx_timer(now);
        }
    }
}
