//! A connection's timers: retransmission (RFC 6298), persist (zero-window probes), delayed ACK, and the
//! close timer (TIME-WAIT's 2*MSL, or an orphaned FIN-WAIT-2).

use super::segment::Outgoing;
use super::tcb::{AckDue, Effects, Tcb};
use super::TcpState;
use crate::config::TcpConfig;
use crate::time::Instant;
use crate::wire::TcpFlags;

fn due(at: Option<Instant>, now: Instant) -> bool {
    at.is_some_and(|t| t <= now)
}

impl Tcb {
    /// Runs every timer due at `now`.
    pub(crate) fn on_timer(&mut self, now: Instant, cfg: &TcpConfig, fx: &mut Effects) {
        if due(self.close_at, now) {
            self.finish(fx);
            return;
        }
        if due(self.rtx_at, now) {
            self.rtx_at = None;
            self.on_retransmission_timeout(now, cfg, fx);
            if fx.release {
                return;
            }
        }
        if due(self.tlp_at, now) {
            self.tlp_at = None;
            self.send_tail_loss_probe(now, fx);
        }
        if due(self.persist_at, now) {
            self.persist_at = None;
            self.on_persist_timeout(now, cfg, fx);
            if fx.release {
                return;
            }
        }
        if due(self.delack_at, now) {
            self.delack_at = None;
            if self.ack_due != AckDue::None {
                self.ack_due = AckDue::Now;
            }
        }
        self.poll_send(now, cfg, fx);
    }

    /// RFC 6298 §5.4-5.6 and RFC 5681 §3.1: back off, collapse cwnd, go back to SND.UNA.
    fn on_retransmission_timeout(&mut self, now: Instant, cfg: &TcpConfig, fx: &mut Effects) {
        match self.state {
            TcpState::SynSent | TcpState::SynReceived => {
                let limit = if self.state == TcpState::SynSent { cfg.syn_retries } else { cfg.synack_retries };
                if self.rtx_count >= limit {
                    if self.passive {
                        self.terminate(None, fx);
                    } else {
                        self.time_out(fx);
                    }
                    return;
                }
                self.rtx_count += 1;
                self.counters.timeouts += 1;
                self.counters.retransmitted_segments += 1;
                self.rtt.back_off();
                self.timing = None;
                self.snd_nxt = self.iss;
                self.send_syn(now, fx);
            }
            _ => {
                if self.snd_una == self.snd_max {
                    return;
                }
                if self.rtx_count >= cfg.max_retransmissions {
                    self.time_out(fx);
                    return;
                }
                self.rtx_count += 1;
                self.counters.timeouts += 1;
                self.rtt.back_off();
                let flight = self.snd_max - self.snd_una;
                let mss = self.mss;
                self.cc.on_timeout(flight, mss);
                self.in_recovery = false;
                self.dup_acks = 0;
                // RFC 6582 §4: after a timeout, no fast retransmit until everything sent so far is acknowledged.
                self.recover = self.snd_max;
                self.timing = None;
                self.snd_nxt = self.snd_una;
                // RFC 2018 §8: a timeout may mean the receiver reneged on what it SACKed. The first timeout
                // still trusts the scoreboard (skipping SACKed data, as Linux does); repeated ones do not.
                if self.rtx_count >= 2 {
                    self.scoreboard.clear();
                }
                // The segment at SND.UNA always goes out, whatever the scoreboard or windows say (the peer may
                // have reneged, or its window shrunk); poll_send (by the caller) continues from there.
                let occupied = self.retransmit_first(fx);
                self.snd_nxt = self.snd_una + occupied;
                self.restart_rtx_timer(now);
            }
        }
    }

    /// RFC 8985 §7.3: send one new segment if the peer's window allows, else resend the last one, so that an ACK
    /// (with SACK) comes back and fast recovery can repair a tail loss without waiting for the RTO.
    fn send_tail_loss_probe(&mut self, now: Instant, fx: &mut Effects) {
        if self.in_recovery || self.snd_max == self.snd_una {
            return;
        }
        let unsent = if self.snd_nxt <= self.buf_end() { self.buf_end() - self.snd_nxt } else { 0 };
        let peer_room = (self.snd_una + self.snd_wnd) - self.snd_nxt;
        let new_len = unsent.min(self.mss).min(peer_room);
        let seg = if new_len > 0 && self.snd_nxt == self.snd_max {
            let seg = Outgoing::data(self.snd_nxt, TcpFlags::ACK | TcpFlags::PSH, self.snd_nxt - self.buf_seq, new_len);
            self.counters.bytes_sent += new_len as u64;
            self.snd_nxt = self.snd_nxt + new_len;
            self.snd_max = self.snd_nxt;
            seg
        } else {
            // Resend the last sent segment (data, and FIN if it carried one).
            let data_end = self.snd_max.min(self.buf_end());
            let sent_data = data_end - self.snd_una;
            let len = sent_data.min(self.mss);
            let start = data_end - len;
            let mut flags = TcpFlags::ACK;
            if self.fin_sent() {
                flags |= TcpFlags::FIN;
            }
            if len == 0 && !self.fin_sent() {
                return;
            }
            let offset = start - self.buf_seq;
            self.counters.retransmitted_segments += 1;
            self.counters.retransmitted_bytes += len as u64;
            let seq = if len == 0 { self.buf_end() } else { start };
            Outgoing::data(seq, flags, offset, len)
        };
        self.counters.tail_loss_probes += 1;
        self.tlp_in_flight = true;
        self.timing = None;
        self.push_with_ack(seg, fx);
        self.restart_rtx_timer(now);
    }

    /// Zero-window probe: an ACK carrying SND.UNA - 1, which the receiver must answer with its window.
    fn on_persist_timeout(&mut self, now: Instant, cfg: &TcpConfig, fx: &mut Effects) {
        if self.snd_wnd > 0 || self.flight() > 0 {
            return;
        }
        self.probes_unanswered += 1;
        if self.probes_unanswered > cfg.max_retransmissions {
            self.time_out(fx);
            return;
        }
        self.counters.zero_window_probes += 1;
        self.push_with_ack(Outgoing::control(self.snd_una - 1, TcpFlags::ACK), fx);
        self.persist_backoff = self.persist_backoff.saturating_add(1);
        self.persist_at = Some(now + self.persist_interval(cfg.rto_max));
    }
}
