//! A connection's timers: retransmission (RFC 6298), persist (zero-window probes), delayed ACK, and the
//! close timer (TIME-WAIT's 2*MSL, or an orphaned FIN-WAIT-2).

use super::ack::AckDue;
use super::segment::Outgoing;
use super::tcb::{Effects, Tcb};
use super::TcpState;
use crate::config::TcpConfig;
use crate::time::Instant;
use crate::wire::TcpFlags;

/// A connection's deadlines and backoff counters. The stack keeps one heap entry per connection, armed at
/// `armed`, for the earliest of them.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    /// Retransmission timer (RFC 6298).
    pub rtx: Option<Instant>,
    /// Tail loss probe (RFC 8985 §7): fires before the RTO when the last segments may have been lost.
    pub tlp: Option<Instant>,
    /// Zero-window probe (RFC 9293 §3.8.6.1).
    pub persist: Option<Instant>,
    pub delack: Option<Instant>,
    /// TIME-WAIT's 2*MSL, or an orphaned FIN-WAIT-2's limit.
    pub close: Option<Instant>,
    /// The deadline of the stack's heap entry for this connection.
    pub armed: Option<Instant>,
    /// Consecutive retransmission timeouts (or SYN retransmissions).
    pub rtx_count: u32,
    pub persist_backoff: u32,
    pub probes_unanswered: u32,
}

impl Timers {
    /// The earliest deadline.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        // Called after every input: a plain loop (cheaper than `min` over the options).
        let mut next: Option<Instant> = None;
        for t in [self.rtx, self.tlp, self.persist, self.delack, self.close].into_iter().flatten() {
            if next.is_none_or(|n| t < n) {
                next = Some(t);
            }
        }
        next
    }

    /// Stops every timer except the close timer.
    pub(crate) fn stop_transfer_timers(&mut self) {
        self.rtx = None;
        self.tlp = None;
        self.persist = None;
        self.delack = None;
    }
}

fn due(at: Option<Instant>, now: Instant) -> bool {
    at.is_some_and(|t| t <= now)
}

impl Tcb {
    /// Runs every timer due at `now`.
    pub(crate) fn on_timer(&mut self, now: Instant, cfg: &TcpConfig, fx: &mut Effects) {
        if due(self.timers.close, now) {
            self.finish(fx);
            return;
        }
        if due(self.timers.rtx, now) {
            self.timers.rtx = None;
            self.on_retransmission_timeout(now, cfg, fx);
            if fx.release {
                return;
            }
        }
        if due(self.timers.tlp, now) {
            self.timers.tlp = None;
            self.send_tail_loss_probe(now, fx);
        }
        if due(self.timers.persist, now) {
            self.timers.persist = None;
            self.on_persist_timeout(now, cfg, fx);
            if fx.release {
                return;
            }
        }
        if due(self.timers.delack, now) {
            self.timers.delack = None;
            if self.ack.due != AckDue::None {
                self.ack.due = AckDue::Now;
            }
        }
        self.poll_send(now, cfg, fx);
    }

    /// RFC 6298 §5.4-5.6 and RFC 5681 §3.1: back off, collapse cwnd, go back to SND.UNA.
    fn on_retransmission_timeout(&mut self, now: Instant, cfg: &TcpConfig, fx: &mut Effects) {
        match self.state {
            TcpState::SynSent | TcpState::SynReceived => {
                let limit = if self.state == TcpState::SynSent { cfg.syn_retries } else { cfg.synack_retries };
                if self.timers.rtx_count >= limit {
                    if self.owner.passive {
                        self.terminate(None, fx);
                    } else {
                        self.time_out(fx);
                    }
                    return;
                }
                self.timers.rtx_count += 1;
                self.counters.timeouts += 1;
                self.counters.retransmitted_segments += 1;
                self.rtt.back_off();
                self.timing = None;
                self.snd.nxt = self.snd.iss;
                self.send_syn(now, fx);
            }
            _ => {
                if self.snd.una == self.snd.max {
                    return;
                }
                if self.timers.rtx_count >= cfg.max_retransmissions {
                    self.time_out(fx);
                    return;
                }
                self.timers.rtx_count += 1;
                self.counters.timeouts += 1;
                self.rtt.back_off();
                let flight = self.snd.max - self.snd.una;
                let mss = self.opts.mss;
                self.cc.on_timeout(flight, mss);
                self.recovery.in_recovery = false;
                self.recovery.dup_acks = 0;
                // RFC 6582 §4: after a timeout, no fast retransmit until everything sent so far is acknowledged.
                self.recovery.recover = self.snd.max;
                self.timing = None;
                self.snd.nxt = self.snd.una;
                // RFC 2018 §8: a timeout may mean the receiver reneged on what it SACKed. The first timeout
                // still trusts the scoreboard (skipping SACKed data, as Linux does); repeated ones do not.
                if self.timers.rtx_count >= 2 {
                    self.recovery.scoreboard.clear();
                }
                // The segment at SND.UNA always goes out, whatever the scoreboard or windows say (the peer may
                // have reneged, or its window shrunk); poll_send (by the caller) continues from there.
                let occupied = self.retransmit_first(fx);
                self.snd.nxt = self.snd.una + occupied;
                self.restart_rtx_timer(now);
            }
        }
    }

    /// RFC 8985 §7.3: send one new segment if the peer's window allows, else resend the last one, so that an ACK
    /// (with SACK) comes back and fast recovery can repair a tail loss without waiting for the RTO.
    fn send_tail_loss_probe(&mut self, now: Instant, fx: &mut Effects) {
        if self.recovery.in_recovery || self.snd.max == self.snd.una {
            return;
        }
        let unsent = if self.snd.nxt <= self.snd.buf_end() { self.snd.buf_end() - self.snd.nxt } else { 0 };
        let peer_room = (self.snd.una + self.snd.wnd) - self.snd.nxt;
        let new_len = unsent.min(self.opts.mss).min(peer_room);
        let seg = if new_len > 0 && self.snd.nxt == self.snd.max {
            let seg =
                Outgoing::data(self.snd.nxt, TcpFlags::ACK | TcpFlags::PSH, self.snd.nxt - self.snd.buf_seq, new_len);
            self.counters.bytes_sent += new_len as u64;
            self.snd.nxt = self.snd.nxt + new_len;
            self.snd.max = self.snd.nxt;
            seg
        } else {
            // Resend the last sent segment (data, and FIN if it carried one).
            let data_end = self.snd.max.min(self.snd.buf_end());
            let sent_data = data_end - self.snd.una;
            let len = sent_data.min(self.opts.mss);
            let start = data_end - len;
            let mut flags = TcpFlags::ACK;
            if self.snd.fin_sent() {
                flags |= TcpFlags::FIN;
            }
            if len == 0 && !self.snd.fin_sent() {
                return;
            }
            let offset = start - self.snd.buf_seq;
            self.counters.retransmitted_segments += 1;
            self.counters.retransmitted_bytes += len as u64;
            let seq = if len == 0 { self.snd.buf_end() } else { start };
            Outgoing::data(seq, flags, offset, len)
        };
        self.counters.tail_loss_probes += 1;
        self.recovery.tlp_in_flight = true;
        self.timing = None;
        self.push_with_ack(seg, fx);
        self.restart_rtx_timer(now);
    }

    /// Zero-window probe: an ACK carrying SND.UNA - 1, which the receiver must answer with its window.
    fn on_persist_timeout(&mut self, now: Instant, cfg: &TcpConfig, fx: &mut Effects) {
        if self.snd.wnd > 0 || self.snd.flight() > 0 {
            return;
        }
        self.timers.probes_unanswered += 1;
        if self.timers.probes_unanswered > cfg.max_retransmissions {
            self.time_out(fx);
            return;
        }
        self.counters.zero_window_probes += 1;
        self.push_with_ack(Outgoing::control(self.snd.una - 1, TcpFlags::ACK), fx);
        self.timers.persist_backoff = self.timers.persist_backoff.saturating_add(1);
        self.timers.persist = Some(now + self.persist_interval(cfg.rto_max));
    }
}
