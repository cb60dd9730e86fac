//! What to send now (RFC 9293 §3.8.6, RFC 5681, RFC 1122 §4.2.3.4): segmentation by MSS, the send and
//! congestion windows, Nagle, sender silly-window avoidance, FIN placement, zero-window persistence, ACKs.

use super::ack::AckDue;
use super::segment::{Outgoing, OutgoingKind};
use super::tcb::{Effects, Tcb};
use super::TcpState;
use crate::config::TcpConfig;
use crate::time::Instant;
use crate::wire::TcpFlags;

impl Tcb {
    /// Queues a segment that carries an ACK: any pending acknowledgement rides on it.
    pub(crate) fn push_with_ack(&mut self, tx: Outgoing, fx: &mut Effects) {
        if tx.flags.contains(TcpFlags::ACK) {
            self.ack.sent();
            self.timers.delack = None;
        }
        fx.transmit.push(tx);
    }

    /// Sends our SYN (SYN-SENT) or SYN-ACK (SYN-RECEIVED) from ISS.
    pub(crate) fn send_syn(&mut self, now: Instant, fx: &mut Effects) {
        let flags = if self.state == TcpState::SynSent { TcpFlags::SYN } else { TcpFlags::SYN | TcpFlags::ACK };
        let mut tx = Outgoing::control(self.snd.iss, flags);
        tx.kind = OutgoingKind::Syn;
        self.push_with_ack(tx, fx);
        self.snd.nxt = self.snd.iss + 1;
        if self.snd.max < self.snd.nxt {
            self.snd.max = self.snd.nxt;
        }
        if self.timers.rtx_count == 0 && self.timing.is_none() {
            self.timing = Some((self.snd.iss + 1, now));
        }
        self.ensure_rtx_timer(now);
    }

    /// Sends whatever the windows, Nagle and SWS avoidance allow, then any ACK still due.
    pub(crate) fn poll_send(&mut self, now: Instant, cfg: &TcpConfig, fx: &mut Effects) {
        let sends_data = matches!(
            self.state,
            TcpState::Established | TcpState::CloseWait | TcpState::FinWait1 | TcpState::Closing | TcpState::LastAck
        );
        if sends_data {
            if self.sack_recovery() {
                self.resend_sack_holes(now, fx);
            }
            self.send_data(now, cfg, fx);
            self.update_persist_timer(now, cfg);
        }
        let may_ack = !matches!(self.state, TcpState::Closed | TcpState::Listen | TcpState::SynSent);
        if may_ack {
            match self.ack.due {
                AckDue::EndOfBatch if fx.in_batch => fx.ack_at_batch_end = true,
                AckDue::EndOfBatch | AckDue::Now => {
                    self.push_with_ack(Outgoing::control(self.snd.nxt, TcpFlags::ACK), fx)
                }
                AckDue::None | AckDue::Delayed => {}
            }
        }
    }

    /// RFC 6675 §5 rule 1: resend holes the scoreboard shows lost, lowest first, while pipe allows.
    fn resend_sack_holes(&mut self, now: Instant, fx: &mut Effects) {
        while self.pipe() + self.opts.mss <= self.cc.ssthresh() {
            let from = self.recovery.rtx_next.max(self.snd.una);
            let Some((start, end)) = self.recovery.scoreboard.next_hole(from) else {
                break;
            };
            let len = (end - start).min(self.opts.mss).min(self.snd.buf_end() - start);
            if len == 0 {
                break;
            }
            let offset = start - self.snd.buf_seq;
            let seg = Outgoing::data(start, TcpFlags::ACK, offset, len);
            self.counters.retransmitted_segments += 1;
            self.counters.retransmitted_bytes += len as u64;
            self.timing = None;
            self.push_with_ack(seg, fx);
            self.recovery.rtx_next = start + len;
            self.recovery.rtx_log.record(start, start + len, self.snd.max);
            self.ensure_rtx_timer(now);
        }
    }

    /// Room for new (or, after a timeout, re-sent) data: the congestion window less what is in flight, within
    /// the peer's window. In SACK recovery the window is ssthresh and in-flight is RFC 6675's pipe.
    fn usable_window(&self) -> usize {
        let (mut window, in_flight) =
            if self.sack_recovery() { (self.cc.ssthresh(), self.pipe()) } else { (self.cc.cwnd(), self.snd.flight()) };
        if !self.recovery.in_recovery && self.recovery.dup_acks > 0 {
            // RFC 3042 limited transmit: each of the first two duplicate ACKs lets one new segment out, so a
            // small window still produces the duplicate ACKs fast retransmit needs.
            window += self.recovery.dup_acks.min(2) as usize * self.opts.mss;
        }
        let peer_room = (self.snd.una + self.snd.wnd) - self.snd.nxt;
        window.saturating_sub(in_flight).min(peer_room)
    }

    fn send_data(&mut self, now: Instant, cfg: &TcpConfig, fx: &mut Effects) {
        let max_len = self.max_frame_payload(cfg);
        loop {
            let buf_end = self.snd.buf_end();
            if self.snd.nxt > buf_end {
                break; // the FIN is out
            }
            // Going back after a timeout: skip what the peer SACKed.
            if self.snd.nxt < self.snd.max {
                if let Some(end) = self.recovery.scoreboard.sacked_end(self.snd.nxt) {
                    self.snd.nxt = end.min(self.snd.max);
                    continue;
                }
            }
            let mut unsent = buf_end - self.snd.nxt;
            if self.snd.nxt < self.snd.max {
                if let Some(next) = self.recovery.scoreboard.next_sacked_start(self.snd.nxt) {
                    unsent = unsent.min(next - self.snd.nxt);
                }
            }
            let flight = self.snd.flight();
            let usable = self.usable_window();
            let mut len = unsent.min(max_len).min(usable);
            if len > self.opts.mss && len < unsent {
                // Offloaded segments: whole MSS-sized pieces, so the device cuts no runt from the middle.
                len -= len % self.opts.mss;
            }
            let fin_now = self.snd.fin_queued && self.snd.nxt + len == buf_end;
            if len == 0 && !fin_now {
                break;
            }
            if len > 0 && len < self.opts.mss && flight > 0 {
                let window_limited = len < unsent;
                // Sender SWS avoidance (RFC 9293 §3.8.6.2.1): a window-limited runt waits for half the max window.
                if window_limited && len < self.snd.max_wnd / 2 {
                    break;
                }
                // Nagle (RFC 1122 §4.2.3.4): one small segment in flight at a time, unless closing or disabled.
                if !window_limited && !self.nodelay && !self.snd.fin_queued {
                    break;
                }
            }
            let offset = self.snd.nxt - self.snd.buf_seq;
            let mut flags = TcpFlags::ACK;
            if len > 0 && len == unsent {
                flags |= TcpFlags::PSH;
            }
            if fin_now {
                flags |= TcpFlags::FIN;
            }
            let seg = Outgoing::data(self.snd.nxt, flags, offset, len);
            let occupied = len + usize::from(fin_now);
            if self.snd.nxt < self.snd.max {
                self.counters.retransmitted_segments += 1;
                self.counters.retransmitted_bytes += len as u64;
            } else {
                self.counters.bytes_sent += len as u64;
                if self.timing.is_none() {
                    self.timing = Some((self.snd.nxt + occupied, now));
                }
            }
            self.push_with_ack(seg, fx);
            self.snd.nxt = self.snd.nxt + occupied;
            if self.snd.max < self.snd.nxt {
                self.snd.max = self.snd.nxt;
            }
            self.ensure_rtx_timer(now);
            self.arm_tail_loss_probe(now);
            if fin_now {
                break;
            }
        }
    }

    /// Payload bytes one data frame may carry: the MSS, or with segmentation offload as many whole MSS as
    /// fit the offload size (only while the MSS is the one our MTU allows, which is what the device cuts by).
    fn max_frame_payload(&self, cfg: &TcpConfig) -> usize {
        let headers = crate::wire::ipv4::HEADER_LEN + crate::wire::tcp::HEADER_LEN;
        let offload_payload = cfg.segmentation_offload.saturating_sub(headers);
        if offload_payload > self.opts.mss && self.opts.mss == self.opts.local_mss {
            offload_payload - offload_payload % self.opts.mss
        } else {
            self.opts.mss
        }
    }

    /// RFC 9293 §3.8.6.1: with data waiting, nothing in flight and a zero window, probe periodically.
    fn update_persist_timer(&mut self, now: Instant, cfg: &TcpConfig) {
        let waiting = self.snd.nxt <= self.snd.buf_end() && self.snd.buf_end() - self.snd.nxt > 0;
        if waiting && self.snd.flight() == 0 && self.snd.wnd == 0 {
            if self.timers.persist.is_none() {
                self.timers.persist = Some(now + self.persist_interval(cfg.rto_max));
            }
        } else {
            self.timers.persist = None;
            if self.snd.wnd > 0 {
                self.timers.persist_backoff = 0;
            }
        }
    }
}
