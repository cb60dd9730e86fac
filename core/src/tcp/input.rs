//! Segment arrival (RFC 9293 §3.10.7), with the RFC 5961 defences against blind injection.

use super::ack::AckDue;
use super::segment::{Outgoing, OutgoingKind};
use super::seq::SeqNum;
use super::tcb::{Effects, Tcb};
use super::TcpState;
use crate::api::Event;
use crate::config::TcpConfig;
use crate::explain::{AckWhy, ResetWhy, Why};
use crate::stats::DropReason;
use crate::time::Instant;
use crate::wire::{EcnCodepoint, PendingChecksum, TcpFlags, TcpRepr};

impl Tcb {
    /// A segment for this connection arrived, in an IP datagram with the ECN codepoint `ip`.
    pub(crate) fn on_segment(
        &mut self,
        seg: &TcpRepr<'_>,
        ip: EcnCodepoint,
        now: Instant,
        cfg: &TcpConfig,
        fx: &mut Effects,
    ) {
        self.counters.segment_received();
        match self.state {
            TcpState::SynSent => self.on_segment_syn_sent(seg, ip, now, cfg, fx),
            TcpState::Closed | TcpState::Listen => fx.drops.push(DropReason::TcpNoSocket),
            _ => self.on_segment_synchronized(seg, ip, now, cfg, fx),
        }
        self.drop_staged(fx);
        if !fx.release {
            self.poll_send(now, cfg, fx);
        }
    }

    /// Verifies the payload of `seg`, whose checksum is `pending` without it, before anything looks at the
    /// segment. The next bytes in order that fit are copied into the receive buffer as they are summed
    /// (`fx.staged`): the text step then takes them without a second pass over them (one pass over a received
    /// payload, as Linux's csum-and-copy). Anything else is summed where it lies.
    pub(crate) fn verify_payload(&mut self, seg: &TcpRepr<'_>, pending: PendingChecksum, fx: &mut Effects) -> bool {
        let payload = seg.payload;
        // SYN-RECEIVED too: the ACK that completes the handshake may carry data, taken once it has.
        let next_in_order = seg.seq_number == self.rcv.nxt()
            && (self.state == TcpState::SynReceived || self.accepts_text())
            && !seg.flags.contains(TcpFlags::SYN)
            && payload.len() <= self.rcv.buf().free();
        if !next_in_order {
            return pending.verifies(payload);
        }
        let verified = pending.verifies_with(self.rcv.stage(payload, &mut fx.blocks));
        if verified {
            fx.staged = payload.len();
        } else {
            self.rcv.unstage(&mut fx.blocks);
        }
        verified
    }

    /// RFC 9293 §3.10.7.4, seventh step: the states whose segments' text is queued for the application.
    fn accepts_text(&self) -> bool {
        matches!(self.state, TcpState::Established | TcpState::FinWait1 | TcpState::FinWait2)
    }

    /// The segment was handled (or dropped) without the text step taking what `verify_payload` staged.
    pub(crate) fn drop_staged(&mut self, fx: &mut Effects) {
        if core::mem::take(&mut fx.staged) != 0 {
            self.rcv.unstage(&mut fx.blocks);
        }
    }

    /// RFC 9293 §3.10.7.3: SYN-SENT.
    fn on_segment_syn_sent(
        &mut self,
        seg: &TcpRepr<'_>,
        ip: EcnCodepoint,
        now: Instant,
        cfg: &TcpConfig,
        fx: &mut Effects,
    ) {
        let has_ack = seg.flags.contains(TcpFlags::ACK);
        // First: the ACK must acknowledge our SYN.
        if has_ack && !self.snd.acknowledges_syn(seg.ack_number) {
            if !seg.flags.contains(TcpFlags::RST) {
                fx.transmit.push(Outgoing::control(seg.ack_number, TcpFlags::RST, Why::Reset(ResetWhy::BadAck)));
            }
            fx.drops.push(DropReason::TcpBadAck);
            return;
        }
        // Second: a reset with an acceptable ACK refuses the connection.
        if seg.flags.contains(TcpFlags::RST) {
            if has_ack {
                self.terminate(Some(Event::Reset), fx);
            } else {
                fx.drops.push(DropReason::TcpBadAck);
            }
            return;
        }
        if !seg.flags.contains(TcpFlags::SYN) {
            fx.drops.push(DropReason::TcpBadAck);
            return;
        }
        // Fourth: the SYN.
        self.rcv.synchronize(seg.seq_number);
        // Our interface's MSS, or less if a path MTU was learned while the SYN was out.
        let mtu_mss = self.opts.local_mss().min(self.opts.mss());
        self.take_syn_options(seg, mtu_mss, cfg, now);
        if has_ack {
            self.ecn.take_syn_ack(seg.flags);
            self.ack.request_now(AckWhy::Handshake);
            self.establish_on_syn_ack(seg, now, cfg, fx);
        } else {
            // Simultaneous open: answer with SYN-ACK from the same ISS.
            self.ecn.take_syn(seg.flags, ip, true);
            self.transition(TcpState::SynReceived);
            self.snd.take_syn_window(seg.seq_number, seg.window_len);
            self.rtt.cancel_timing();
            self.send_syn(now, fx);
        }
    }

    /// A SYN-ACK acknowledged our SYN (in SYN-SENT, or ending a simultaneous open): the active open is
    /// established (RFC 9293 §3.10.7.3), with the SYN-ACK's window, which is not scaled (RFC 7323 §2.2), and
    /// data or a FIN riding on it is taken.
    fn establish_on_syn_ack(&mut self, seg: &TcpRepr<'_>, now: Instant, cfg: &TcpConfig, fx: &mut Effects) {
        self.snd.syn_acknowledged(seg.ack_number);
        self.snd.take_window(seg.seq_number, seg.ack_number, usize::from(seg.window_len));
        self.timers.stop_rtx();
        self.timers.reset_timeouts();
        // The congestion controller hears of no round trip before data is acknowledged.
        let _ = self.sample_rtt(seg, now, cfg.rto_min);
        self.rtt.cancel_timing();
        self.rtt.fall_back_if_unmeasured();
        self.transition(TcpState::Established);
        self.restart_keepalive(now, cfg);
        fx.events.push(Event::Connected);
        self.accept_text_and_fin(seg, seg.seq_number + 1, seg.payload, now, cfg, fx);
    }

    /// RFC 9293 §3.10.7.4: every state from SYN-RECEIVED on.
    fn on_segment_synchronized(
        &mut self,
        seg: &TcpRepr<'_>,
        ip: EcnCodepoint,
        now: Instant,
        cfg: &TcpConfig,
        fx: &mut Effects,
    ) {
        let flags = seg.flags;
        if self.is_superseding_syn_ack(seg) {
            // A bare SYN crossed our own (simultaneous open), but this SYN-ACK acknowledges our ISS, which only
            // a host that saw our SYN can know, and names another initial sequence number. The bare SYN proved
            // nothing (an off-path attacker can forge one with any sequence number); this one proves the peer
            // is real. Synchronise to it as SYN-SENT would have, instead of answering with the stale ACK that
            // makes the peer reset the connection.
            self.transition(TcpState::SynSent);
            self.rcv.set_wscale(Tcb::offered_window_shift(cfg));
            self.opts.forget_peer();
            self.counters.rare().crossed_syns_superseded += 1;
            self.on_segment_syn_sent(seg, ip, now, cfg, fx);
            return;
        }
        if self.is_simultaneous_open_syn_ack(seg) {
            // RFC 9293 §3.5 figure 7 step 6 (and Linux since 6.11): the peer's SYN-ACK, repeating the SYN that
            // crossed ours and acknowledging ours, completes a simultaneous open. It starts one below RCV.NXT,
            // so the acceptability test would only answer it with an ACK and leave both ends in SYN-RECEIVED a
            // round trip longer. No ACK is owed: our own SYN-ACK is on its way to the peer.
            self.ts.update_recent(seg, now);
            self.establish_on_syn_ack(seg, now, cfg, fx);
            return;
        }
        // A retransmitted SYN while our SYN-ACK is unacknowledged: the SYN-ACK was lost, send it again.
        if self.state == TcpState::SynReceived
            && flags.contains(TcpFlags::SYN)
            && !flags.contains(TcpFlags::ACK)
            && seg.seq_number == self.rcv.irs()
        {
            // Echo this SYN's timestamp, not the first one's: the peer times its handshake by it. Its ECN flags
            // decide again: a peer that stopped asking (its first SYN may have been dropped for asking) gets a
            // plain SYN-ACK.
            self.ts.update_recent(seg, now);
            self.ecn.take_syn(flags, ip, !self.owner.passive());
            self.send_syn_because(now, Why::SynAckForRepeatedSyn, fx);
            return;
        }

        // A handshake ACK that does not acknowledge our SYN is refused before anything else (as SYN-SENT does,
        // and Linux for half-open connections): <SEQ=SEG.ACK><CTL=RST>. Checking the sequence number first would
        // answer with an ACK instead, and two half-open ends that each took a forged SYN would trade ACKs
        // until both time out; the reset clears the forged one.
        if self.state == TcpState::SynReceived
            && flags.contains(TcpFlags::ACK)
            && !flags.contains(TcpFlags::RST)
            && !self.snd.acknowledges_syn(seg.ack_number)
        {
            fx.transmit.push(Outgoing::control(seg.ack_number, TcpFlags::RST, Why::Reset(ResetWhy::BadAck)));
            fx.drops.push(DropReason::TcpBadAck);
            return;
        }

        // First: is the segment acceptable?
        let mut seq = seg.seq_number;
        let mut payload = seg.payload;
        let mut fin = flags.contains(TcpFlags::FIN);
        let seg_len = payload.len() + usize::from(flags.contains(TcpFlags::SYN)) + usize::from(fin);
        // RFC 7323 §5.3 R1: an old duplicate (TSval older than TS.Recent) is dropped whatever its sequence number,
        // even one a wrapped sequence space makes look new; it is answered like any unacceptable segment.
        if !flags.contains(TcpFlags::RST) && self.paws_rejects(seg, now) {
            self.answer_unacceptable(seg_len, now, cfg);
            fx.drops.push(DropReason::TcpPaws);
            return;
        }
        if !self.segment_acceptable(seq, seg_len) {
            let zero_window_at_edge = self.rcv.window() == 0 && seq == self.rcv.nxt();
            if !zero_window_at_edge {
                let repeated_fin = self.state == TcpState::TimeWait && fin && !flags.contains(TcpFlags::RST);
                if repeated_fin {
                    // What TIME-WAIT is for (RFC 9293 §3.10.7.4): the peer's FIN again, because our last ACK was
                    // lost. Acknowledged and 2 MSL restarted; no stray segment.
                    self.ack.request_now(AckWhy::TimeWaitFin);
                    self.timers.close_at(now + cfg.time_wait);
                    return;
                }
                if flags.contains(TcpFlags::RST) {
                    // Never answered (RFC 9293).
                } else if self.is_plausible_duplicate(seq) {
                    // A retransmission of what we already have (our ACK was lost), a keep-alive, a repeated
                    // FIN: the peer needs our ACK now, with a D-SACK for data it sent twice.
                    if !payload.is_empty() {
                        self.rcv.note_duplicate(seq, seq + payload.len());
                    }
                    self.answer_unacceptable(seg_len, now, cfg);
                } else {
                    // Nowhere a real peer would send: most likely forged with a guessed sequence number. Answer
                    // under the challenge-ACK rate limit, so a flood cannot turn us into an ACK cannon that
                    // fills the link our genuine traffic shares (Linux limits such ACKs for non-data segments).
                    self.challenge_ack(fx);
                }
                fx.drops.push(DropReason::TcpOutOfWindow);
                return;
            }
            // Zero window: still process the ACK, drop the data.
            payload = &[];
            fin = false;
            self.ack.request_now(AckWhy::Unacceptable);
        }
        // Trim what lies before RCV.NXT and beyond the window.
        let rcv_nxt = self.rcv.nxt();
        if seq < rcv_nxt && !flags.contains(TcpFlags::SYN) {
            let skip = (rcv_nxt - seq).min(payload.len());
            self.rcv.note_duplicate(seq, seq + skip);
            payload = &payload[skip..];
            seq = seq + skip;
        }
        let room = (self.rcv.adv_edge() - seq).min(payload.len());
        if room < payload.len() {
            payload = &payload[..room];
            fin = false;
        }

        // Second: RST (RFC 5961 §3.2: only an exact match resets; in-window gets a challenge ACK).
        if flags.contains(TcpFlags::RST) {
            if seg.seq_number != self.rcv.nxt() {
                self.challenge_ack(fx);
                fx.drops.push(DropReason::TcpRstChallenged);
                return;
            }
            let event = match self.state {
                // An un-accepted passive connection just vanishes; the listener forgets it.
                TcpState::SynReceived if self.owner.passive() => None,
                TcpState::SynReceived => {
                    self.return_to_syn_sent(now, cfg, fx);
                    return;
                }
                TcpState::Established | TcpState::FinWait1 | TcpState::FinWait2 | TcpState::CloseWait => {
                    Some(Event::Reset)
                }
                // CLOSING, LAST-ACK, TIME-WAIT: both sides had closed, so this ends the connection as its last
                // ACK would have (the peer's TIME-WAIT may simply have ended first): `Closed`, and the handle
                // stays until `TcpClose`.
                _ => {
                    self.finish(fx);
                    return;
                }
            };
            self.terminate(event, fx);
            return;
        }

        // Fourth: SYN in a synchronized state (RFC 5961 §4): challenge ACK, never reset.
        if flags.contains(TcpFlags::SYN) {
            self.challenge_ack(fx);
            fx.drops.push(DropReason::TcpSynChallenged);
            return;
        }

        // Fifth: ACK.
        if !flags.contains(TcpFlags::ACK) {
            fx.drops.push(DropReason::TcpNoAck);
            return;
        }
        if self.state == TcpState::SynReceived {
            // The ACK acknowledges our SYN (checked above).
            self.transition(TcpState::Established);
            let window = usize::from(seg.window_len) << self.snd.wscale();
            self.snd.take_window(seg.seq_number, seg.ack_number, window);
            if self.owner.passive() {
                fx.established = true;
            } else {
                fx.events.push(Event::Connected);
            }
            // Nothing will time this ACK (the SYN-ACK went again, and there is no timestamp to echo): RFC 6298
            // §5.7's 3 s for data.
            if !self.rtt.is_timing() && !self.ts.enabled() {
                self.rtt.fall_back_if_unmeasured();
            }
        }
        if !self.process_ack(seg, now, cfg, fx) {
            return;
        }
        // RFC 7323 §4.3 only once the segment is known to be taken: a challenged RST or SYN, or an ACK of data
        // never sent, dropped above, must not set TS.Recent (as Linux's `tcp_ack` updates it, "after we are sure
        // that the packet is in window"). A forged one with a far-future TSval would otherwise make every
        // genuine segment fail PAWS.
        self.ts.update_recent(seg, now);
        if seg_len > 0 {
            self.receive_congestion_feedback(flags, ip);
        }

        // Seventh and eighth: text and FIN.
        let mut trimmed_flags = flags;
        if !fin {
            trimmed_flags.remove(TcpFlags::FIN);
        }
        let trimmed = TcpRepr { seq_number: seq, payload, flags: trimmed_flags, ..*seg };
        self.accept_text_and_fin(&trimmed, seq, payload, now, cfg, fx);
    }

    /// A reset ended the simultaneous open a crossed bare SYN started. Deliberately not "connection refused"
    /// (RFC 9293): the bare SYN proved nothing (an off-path attacker may have forged it, then the reset the
    /// real peer sends when our SYN-ACK names the forged sequence number). Forget it, go back to waiting for an
    /// answer to our own SYN, and send that SYN again; a peer that really refuses resets our SYN in SYN-SENT.
    fn return_to_syn_sent(&mut self, now: Instant, cfg: &TcpConfig, fx: &mut Effects) {
        self.transition(TcpState::SynSent);
        self.rcv.unsynchronize(Tcb::offered_window_shift(cfg));
        self.opts.forget_peer();
        self.ecn.forget_peer();
        self.ts.negotiate(false, None, SeqNum(0), now);
        self.snd.set_peer_wscale(0);
        self.ack.set_due(AckDue::None);
        self.counters.rare().crossed_syns_reset += 1;
        self.send_syn(now, fx);
    }

    /// A SYN-ACK that answers our SYN after a crossed bare SYN put an active open into SYN-RECEIVED, and names
    /// an initial sequence number other than the bare SYN's. In a genuine simultaneous open the peer's SYN-ACK
    /// repeats the SYN's sequence number.
    fn is_superseding_syn_ack(&self, seg: &TcpRepr<'_>) -> bool {
        self.state == TcpState::SynReceived
            && !self.owner.passive()
            && seg.flags.contains(TcpFlags::SYN | TcpFlags::ACK)
            && !seg.flags.contains(TcpFlags::RST)
            && seg.ack_number == self.snd.iss() + 1
            && seg.seq_number != self.rcv.irs()
    }

    /// The peer's SYN-ACK in a genuine simultaneous open: after a bare SYN put our active open into SYN-RECEIVED,
    /// it repeats that SYN's sequence number and acknowledges exactly our SYN.
    fn is_simultaneous_open_syn_ack(&self, seg: &TcpRepr<'_>) -> bool {
        self.state == TcpState::SynReceived
            && !self.owner.passive()
            && seg.flags.contains(TcpFlags::SYN | TcpFlags::ACK)
            && !seg.flags.contains(TcpFlags::RST)
            && seg.seq_number == self.rcv.irs()
            && seg.ack_number == self.snd.iss() + 1
    }

    /// An unacceptable segment that starts at most one receive buffer below RCV.NXT: data (or a FIN) the peer
    /// may still be retransmitting because our acknowledgement did not reach it. A real peer never has more
    /// than the window we advertised unacknowledged, and our windows never exceed the receive buffer.
    fn is_plausible_duplicate(&self, seq: SeqNum) -> bool {
        let nxt = self.rcv.nxt();
        seq < nxt && nxt - seq <= self.rcv.buf().capacity()
    }

    /// An unacceptable segment that is no forgery gets our ACK: at once if it carries data (the peer is
    /// retransmitting what we have), at most once per `invalid_ack_interval` if not (a stale ACK, a probe), so
    /// two ends that each find the other's ACKs unacceptable cannot trade them without end (Linux's
    /// `tcp_oow_rate_limited`).
    fn answer_unacceptable(&mut self, seg_len: usize, now: Instant, cfg: &TcpConfig) {
        if seg_len > 0 || self.ack.may_answer_invalid(now, cfg.invalid_ack_interval) {
            self.ack.request_now(AckWhy::Unacceptable);
        } else {
            self.counters.rare().invalid_acks_suppressed += 1;
        }
    }

    /// RFC 9293 §3.10.7.4 acceptability test.
    pub(crate) fn segment_acceptable(&self, seq: SeqNum, seg_len: usize) -> bool {
        let (nxt, wnd) = (self.rcv.nxt(), self.rcv.window());
        let in_window = |s: SeqNum| s >= nxt && s < nxt + wnd;
        match (seg_len, wnd) {
            (0, 0) => seq == nxt,
            (0, _) => in_window(seq),
            (_, 0) => false,
            (len, _) => in_window(seq) || in_window(seq + (len - 1)),
        }
    }

    /// RFC 5961 challenge ACK: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, rate-limited by the stack.
    pub(crate) fn challenge_ack(&mut self, fx: &mut Effects) {
        let mut tx = Outgoing::control(self.snd.max(), TcpFlags::ACK, Why::ChallengeAck);
        tx.kind = OutgoingKind::ChallengeAck;
        fx.transmit.push(tx);
    }

    /// Steps seven and eight: queue the text, process the FIN.
    fn accept_text_and_fin(
        &mut self,
        seg: &TcpRepr<'_>,
        seq: SeqNum,
        payload: &[u8],
        now: Instant,
        cfg: &TcpConfig,
        fx: &mut Effects,
    ) {
        let accepts_text = self.accepts_text();
        if accepts_text && !payload.is_empty() && self.owner.app_closed() {
            // New data for a connection the application closed (FIN-WAIT-1 or -2 after `TcpClose`): nobody will
            // read it. RFC 1122 §4.2.2.13 says to reset, and Linux does (`tcp_rcv_state_process`,
            // TCPAbortOnData), with <SEQ=SEG.ACK><CTL=RST>: the sequence number the peer expects next, exactly.
            fx.transmit.push(Outgoing::control(seg.ack_number, TcpFlags::RST, Why::Reset(ResetWhy::DataAfterClose)));
            fx.drops.push(DropReason::TcpDataAfterClose);
            self.terminate(None, fx);
            return;
        }
        if accepts_text && !payload.is_empty() {
            // The stack staged the segment's payload while verifying its checksum, if it was next in order.
            let staged = if seq == seg.seq_number { core::mem::take(&mut fx.staged) } else { 0 };
            let accepted = self.rcv.accept(seq, payload, staged, &mut fx.blocks);
            self.counters.received(accepted.advanced);
            if accepted.advanced > 0 {
                self.rcv.note_in_order_data(now);
                if accepted.was_empty {
                    fx.events.push(Event::Readable);
                }
            }
            self.schedule_ack_for_data(payload.len(), accepted.urgent, now, cfg);
        }
        let fin = seg.flags.contains(TcpFlags::FIN);
        if fin && accepts_text {
            self.rcv.note_fin(seq + payload.len());
        }
        if self.rcv.take_fin() {
            self.receive_fin(now, cfg, fx);
        } else if fin && self.state == TcpState::TimeWait {
            self.ack.request_now(AckWhy::TimeWaitFin);
            self.timers.close_at(now + cfg.time_wait);
        }
    }

    /// The peer's FIN, in order (RFC 9293 §3.10.7.4 eighth).
    fn receive_fin(&mut self, now: Instant, cfg: &TcpConfig, fx: &mut Effects) {
        self.ack.request_now(AckWhy::Fin);
        fx.events.push(Event::PeerClosed);
        match self.state {
            TcpState::SynReceived | TcpState::Established => self.transition(TcpState::CloseWait),
            TcpState::FinWait1 => {
                if self.snd.fin_acked() {
                    self.enter_time_wait(now, cfg, fx);
                } else {
                    self.transition(TcpState::Closing);
                }
            }
            TcpState::FinWait2 => self.enter_time_wait(now, cfg, fx),
            _ => {}
        }
    }
}
