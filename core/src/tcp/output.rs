//! What to send now (RFC 9293 §3.8.6, RFC 5681, RFC 1122 §4.2.3.4): segmentation by MSS, the send and
//! congestion windows, Nagle, sender silly-window avoidance, FIN placement, zero-window persistence.

use super::segment::{Outgoing, OutgoingKind};
use super::tcb::{Effects, Tcb};
use super::TcpState;
use crate::config::TcpConfig;
use crate::explain::Why;
use crate::time::Instant;
use crate::wire::TcpFlags;

impl Tcb {
    /// Sends our SYN (SYN-SENT) or SYN-ACK (SYN-RECEIVED) from ISS, with the ECN flags of RFC 3168 §6.1.1.
    pub(crate) fn send_syn(&mut self, now: Instant, fx: &mut Effects) {
        let why = match self.state {
            TcpState::SynSent => Why::Connect,
            _ if !self.owner.passive() => Why::SimultaneousOpen,
            _ => Why::SynAck,
        };
        self.send_syn_because(now, why, fx);
    }

    /// Sends our SYN or SYN-ACK for `why` (a first one, or a retransmission).
    pub(crate) fn send_syn_because(&mut self, now: Instant, why: Why, fx: &mut Effects) {
        let flags = if self.state == TcpState::SynSent {
            TcpFlags::SYN | self.ecn.syn_flags(self.timers.rtx_count() > 0)
        } else {
            TcpFlags::SYN | TcpFlags::ACK | self.ecn.syn_ack_flags()
        };
        let mut tx = Outgoing::control(self.snd.iss(), flags, why);
        tx.kind = OutgoingKind::Syn;
        self.push_with_ack(tx, fx);
        // Only the first SYN (or SYN-ACK) is timed. One sent again, by a timeout or for a repeated SYN, makes
        // the answer's round trip ambiguous (Karn, RFC 6298 §3; Linux's `tcp_synack_rtt_meas` skips any
        // retransmitted SYN-ACK): the timestamp echo, if any, measures it instead.
        let first = self.snd.max() == self.snd.iss();
        self.snd.syn_sent();
        if first {
            self.rtt.start_timing(self.snd.iss() + 1, now);
        } else {
            self.rtt.cancel_timing();
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
                self.resend_lost(now, fx);
            }
            self.send_data(now, cfg, fx);
            self.update_persist_timer(now, cfg);
        }
        let may_ack = !matches!(self.state, TcpState::Closed | TcpState::Listen | TcpState::SynSent);
        if may_ack {
            self.send_due_ack(fx);
        }
    }

    /// Room for new (or, after a timeout, re-sent) data: the congestion window less what is in flight, within
    /// the peer's window. In SACK recovery, what PRR (or RFC 6675's pipe) allows.
    fn usable_window(&self) -> usize {
        if self.sack_recovery() {
            return self.recovery_allowance().min(self.snd.peer_room());
        }
        let (mut window, in_flight) = (self.cc.cwnd(), self.snd.flight());
        let dup_acks = self.recovery.dup_acks();
        if !self.recovery.in_recovery() && dup_acks > 0 {
            // RFC 3042 limited transmit: each of the first two duplicate ACKs lets one new segment out, so a
            // small window still produces the duplicate ACKs fast retransmit needs.
            window += dup_acks.min(2) as usize * self.opts.mss();
        }
        window.saturating_sub(in_flight).min(self.snd.peer_room())
    }

    fn send_data(&mut self, now: Instant, cfg: &TcpConfig, fx: &mut Effects) {
        // Nothing queued beyond SND.NXT and no FIN to send (a receiver's every segment): the loop below would
        // find no length to send. Without a FIN, SND.MAX is at most the end of the queue, so nothing is rewound.
        if !self.snd.fin_queued() && self.snd.nxt() == self.snd.buf_end() {
            return;
        }
        self.restart_after_idle(now);
        let mss = self.send_mss();
        let max_len = self.max_frame_payload(cfg, mss);
        let mut sent_any = false;
        loop {
            let (nxt, max, buf_end) = (self.snd.nxt(), self.snd.max(), self.snd.buf_end());
            if nxt > buf_end {
                break; // the FIN is out
            }
            let scoreboard = self.recovery.scoreboard();
            // Going back after a timeout: skip what the peer SACKed.
            if nxt < max {
                if let Some(end) = scoreboard.sacked_end(nxt) {
                    self.snd.resume_from(end.min(max));
                    continue;
                }
            }
            let mut unsent = buf_end - nxt;
            if nxt < max {
                if let Some(next) = scoreboard.next_sacked_start(nxt) {
                    unsent = unsent.min(next - nxt);
                }
            }
            let flight = self.snd.flight();
            let usable = self.usable_window();
            let mut len = unsent.min(max_len).min(usable);
            if len > mss && len < unsent {
                // Offloaded segments: whole MSS-sized pieces, so the device cuts no runt from the middle.
                len -= len % mss;
            }
            let fin_now = self.snd.fin_queued() && nxt + len == buf_end;
            if len == 0 && !fin_now {
                break;
            }
            if len > 0 && len < mss {
                let window_limited = len < unsent;
                // Sender SWS avoidance (RFC 9293 §3.8.6.2.1): a window-limited runt waits for a full segment or
                // half the peer's largest window, in flight or not; the persist timer overrides the wait
                // (`send_window_override`).
                if window_limited && len < self.snd.max_wnd() / 2 {
                    break;
                }
                // Nagle (RFC 1122 §4.2.3.4): one small segment in flight at a time, unless closing or disabled.
                if !window_limited && flight > 0 && !self.switches.has(super::tcb::NODELAY) && !self.snd.fin_queued() {
                    break;
                }
            }
            self.send_data_segment(len, unsent, fin_now, now, fx);
            sent_any = true;
            if fin_now {
                break;
            }
        }
        let flight = self.snd.flight();
        let cwnd_limited = flight + self.opts.mss() > self.cc.cwnd();
        if sent_any || cwnd_limited {
            self.window_use.on_sent(cwnd_limited, flight, self.snd.una(), self.snd.nxt());
        }
        if sent_any {
            // Once for the whole burst: only the state after its last segment decides the probe's time.
            self.arm_tail_loss_probe(now);
        }
    }

    /// RFC 5681 §4.1, as Linux's `tcp_cwnd_restart` (on by default): after an idle period longer than the RTO
    /// the ACK clock is gone, so new data starts from the restart window instead of bursting a window learned
    /// long ago. The window halves per RTO of idleness, down to min(IW, cwnd); ssthresh keeps three quarters
    /// of the old window, so slow start climbs back quickly.
    fn restart_after_idle(&mut self, now: Instant) {
        if self.snd.outstanding() != 0 {
            return;
        }
        let rto = self.rtt.rto();
        let Some(mut idle) = self.snd.idle_for(now).filter(|&idle| idle > rto) else { return };
        let (cwnd, ssthresh) = (self.cc.cwnd(), self.cc.ssthresh());
        let restart = super::congestion::initial_window(self.opts.mss()).min(cwnd);
        let mut window = cwnd;
        while idle > rto && window > restart {
            idle -= rto;
            window /= 2;
        }
        let window = window.max(restart);
        if window < cwnd {
            self.cc.resume(window, ssthresh.max(cwnd / 4 * 3));
        }
    }

    /// Sends `len` bytes from SND.NXT (of `unsent` queued there), with the FIN if `fin`. The caller arms the tail
    /// loss probe after its last segment.
    fn send_data_segment(&mut self, len: usize, unsent: usize, fin: bool, now: Instant, fx: &mut Effects) {
        let (nxt, max) = (self.snd.nxt(), self.snd.max());
        let mut flags = TcpFlags::ACK;
        if len > 0 && len == unsent {
            flags |= TcpFlags::PSH;
        }
        if fin {
            flags |= TcpFlags::FIN;
        }
        let occupied = len + usize::from(fin);
        let offset = self.snd.offset_of(nxt);
        let tx = if nxt < max {
            self.counters.retransmitted(len);
            let why = match self.snd.rewound_for_mtu() {
                Some(mtu) => Why::PathMtuResend { mtu },
                None => Why::Resend,
            };
            Outgoing::data(nxt, flags, offset, len, why)
        } else {
            self.counters.sent(len);
            self.rtt.start_timing(nxt + occupied, now);
            if len > 0 {
                Outgoing::new_data(nxt, flags, offset, len, if fin { Why::DataAndFin } else { Why::Data })
            } else {
                Outgoing::data(nxt, flags, offset, len, Why::Fin) // a FIN alone carries no data to mark
            }
        };
        self.queue_data(tx, now, fx);
        self.snd.sent(occupied);
        self.ensure_rtx_timer(now);
    }

    /// Sender SWS avoidance held data back with nothing in flight, and the override timer (the persist timer,
    /// RFC 9293 §3.8.6.2.1) fired: send what the peer's window allows now.
    pub(crate) fn send_window_override(&mut self, now: Instant, fx: &mut Effects) {
        let unsent = self.snd.unsent();
        let len = unsent.min(self.snd.peer_room()).min(self.send_mss());
        if len == 0 || self.snd.flight() > 0 {
            return;
        }
        let fin = self.snd.fin_queued() && len == unsent;
        self.send_data_segment(len, unsent, fin, now, fx);
        self.arm_tail_loss_probe(now);
    }

    /// Is data held back by sender SWS avoidance with nothing in flight, so only the override timer will send
    /// it?
    fn held_by_sws(&self) -> bool {
        let (unsent, room) = (self.snd.unsent(), self.snd.peer_room());
        room > 0 && room < unsent && room < self.send_mss() && room < self.snd.max_wnd() / 2
    }

    /// Payload bytes one data frame may carry: `mss` ([`Tcb::send_mss`]), or with segmentation offload as many
    /// whole MSS as fit the offload size (only while the MSS is the one our MTU allows, which is what the device
    /// cuts by, and no SACK blocks shorten it).
    fn max_frame_payload(&self, cfg: &TcpConfig, mss: usize) -> usize {
        let options = self.option_overhead();
        let headers = crate::ip::header_len(self.ends.remote_ip()) + crate::wire::tcp::HEADER_LEN + options;
        let offload_payload = cfg.segmentation_offload.saturating_sub(headers);
        if offload_payload > mss && mss + options == self.opts.local_mss() {
            offload_payload - offload_payload % mss
        } else {
            mss
        }
    }

    /// RFC 9293 §3.8.6.1: with data waiting, nothing in flight and a zero window, probe periodically; with a
    /// window too small to use (sender SWS avoidance), the same timer is the override that sends into it.
    fn update_persist_timer(&mut self, now: Instant, cfg: &TcpConfig) {
        if self.snd.unsent() > 0 && self.snd.flight() == 0 && (self.snd.wnd() == 0 || self.held_by_sws()) {
            if !self.timers.is_persisting() {
                self.timers.persist_at(now + self.persist_interval(cfg.rto_max));
            }
        } else if self.snd.wnd() > 0 {
            self.timers.stop_persist();
        } else {
            self.timers.pause_persist();
        }
    }
}
