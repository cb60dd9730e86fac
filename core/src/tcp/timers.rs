//! A connection's timers: retransmission (RFC 6298), tail loss probe and RACK's reordering timer (RFC 8985),
//! persist (zero-window probes), delayed ACK, and the
//! close timer (TIME-WAIT's 2*MSL, or an orphaned FIN-WAIT-2).

use super::segment::Outgoing;
use super::tcb::{Effects, Tcb};
use super::TcpState;
use crate::config::TcpConfig;
use crate::explain::{ResetWhy, Why};
use crate::time::Instant;
use crate::wire::TcpFlags;
use core::time::Duration;

/// A connection's deadlines and backoff counters. The stack keeps one heap entry per connection, armed at
/// `armed`, for the earliest of them.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    /// Retransmission timer (RFC 6298).
    rtx: Option<Instant>,
    /// Tail loss probe (RFC 8985 §7): fires before the RTO when the last segments may have been lost.
    tlp: Option<Instant>,
    /// RACK's reordering timer (RFC 8985 §6.2): a segment still in doubt is overdue then.
    reorder: Option<Instant>,
    /// Zero-window probe (RFC 9293 §3.8.6.1).
    persist: Option<Instant>,
    delack: Option<Instant>,
    /// TIME-WAIT's 2*MSL, or an orphaned FIN-WAIT-2's limit; while the application holds a synchronized
    /// connection with keep-alive on, the next keep-alive probe (the two never run at once, as in Linux, whose
    /// keep-alive timer also times FIN-WAIT-2).
    close: Option<Instant>,
    /// The deadline of the stack's heap entry for this connection.
    armed: Option<Instant>,
    /// Consecutive retransmission timeouts (or SYN retransmissions). The limits they are held to are at most
    /// `MAX_RETRIES` (`Config::validate`), so these counts fit 16 bits.
    rtx_count: u16,
    /// Zero-window probes (and window overrides) since the window shut; saturates (only up to 16 matters for
    /// the interval).
    persist_backoff: u16,
    /// Zero-window or keep-alive probes in a row that the peer did not answer (one kind runs at a time: keep-alive
    /// only with nothing to send).
    probes_unanswered: u16,
    /// `close` holds the next keep-alive probe, not the end of the connection: a deadline left from keep-alive
    /// after the connection moved on (to LAST-ACK, say) is then never taken for the close timer.
    close_is_keepalive: bool,
}

impl Timers {
    /// The earliest deadline.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        // Called after every input, just after the input set some of the deadlines: each is read on its own (an
        // array of them was copied in 16-byte loads, each spanning two 8-byte fields just stored, which stalls
        // the CPU: store forwarding fails).
        let earlier = Instant::earlier;
        let transfer = earlier(earlier(self.rtx, self.tlp), earlier(self.reorder, self.persist));
        earlier(transfer, earlier(self.delack, self.close))
    }

    /// Records the stack's heap entry for `at` if it is earlier than the one armed; returns whether a new entry
    /// is needed.
    pub(crate) fn arm(&mut self, at: Instant) -> bool {
        if self.armed.is_none_or(|armed| at < armed) {
            self.armed = Some(at);
            return true;
        }
        false
    }

    /// Is the stack's heap entry for `at` the one armed (the one this connection waits for)?
    pub(crate) fn armed_at(&self, at: Instant) -> bool {
        self.armed == Some(at)
    }

    /// The stack's heap entry for `at` fired: is it the one armed (and not a stale one)?
    pub(crate) fn fire(&mut self, at: Instant) -> bool {
        if self.armed == Some(at) {
            self.armed = None;
            return true;
        }
        false
    }

    /// Stops every timer except the close timer.
    pub(crate) fn stop_transfer_timers(&mut self) {
        self.rtx = None;
        self.tlp = None;
        self.reorder = None;
        self.persist = None;
        self.delack = None;
    }

    /// Stops every timer: the connection is closed.
    pub(crate) fn stop_all(&mut self) {
        self.stop_transfer_timers();
        self.close = None;
        self.close_is_keepalive = false;
    }

    pub(crate) fn rtx_count(&self) -> u32 {
        u32::from(self.rtx_count)
    }

    /// A retransmission timeout (or a SYN retransmission).
    fn count_timeout(&mut self) {
        self.rtx_count = self.rtx_count.saturating_add(1);
    }

    /// New data was acknowledged: the timeouts in a row are over.
    pub(crate) fn reset_timeouts(&mut self) {
        self.rtx_count = 0;
    }

    pub(crate) fn stop_rtx(&mut self) {
        self.rtx = None;
    }

    pub(crate) fn stop_tlp(&mut self) {
        self.tlp = None;
    }

    /// RACK's reordering timer fires at `at` (or not at all).
    pub(crate) fn reorder_at(&mut self, at: Option<Instant>) {
        self.reorder = at;
    }

    pub(crate) fn is_persisting(&self) -> bool {
        self.persist.is_some()
    }

    /// The persist timer fires at `at` (a zero window holds data back).
    pub(crate) fn persist_at(&mut self, at: Instant) {
        self.persist = Some(at);
    }

    /// The peer's window opened: no more probing, and the next zero window starts from the shortest interval.
    pub(crate) fn stop_persist(&mut self) {
        self.persist = None;
        self.persist_backoff = 0;
    }

    /// Nothing waits for a window (the backoff is kept while the window stays shut).
    pub(crate) fn pause_persist(&mut self) {
        self.persist = None;
    }

    /// The peer answered (any acceptable ACK): zero-window probes are not going unanswered.
    pub(crate) fn peer_answered(&mut self) {
        self.probes_unanswered = 0;
    }

    pub(crate) fn delay_ack(&mut self, at: Instant) {
        self.delack = Some(at);
    }

    pub(crate) fn stop_delack(&mut self) {
        self.delack = None;
    }

    /// The close timer (TIME-WAIT's 2*MSL, an orphaned FIN-WAIT-2's limit) fires at `at`.
    pub(crate) fn close_at(&mut self, at: Instant) {
        self.close = Some(at);
        self.close_is_keepalive = false;
    }

    /// The next keep-alive probe is due at `at` (in the close timer's slot, which keep-alive's states leave free).
    fn keepalive_at(&mut self, at: Instant) {
        self.close = Some(at);
        self.close_is_keepalive = true;
    }

    /// Keep-alive's deadline, if the slot holds one, goes.
    fn stop_keepalive(&mut self) {
        if self.close_is_keepalive {
            self.close = None;
            self.close_is_keepalive = false;
        }
    }
}

fn due(at: Option<Instant>, now: Instant) -> bool {
    at.is_some_and(|t| t <= now)
}

impl Tcb {
    /// Runs every timer due at `now`.
    pub(crate) fn on_timer(&mut self, now: Instant, cfg: &TcpConfig, fx: &mut Effects) {
        if due(self.timers.close, now) {
            if !self.timers.close_is_keepalive {
                self.finish(fx);
                return;
            }
            self.timers.stop_keepalive();
            // A probe only while keep-alive still watches this connection (not after it moved on).
            if self.keepalive_applies() {
                self.on_keepalive_timeout(now, cfg, fx);
                if fx.release {
                    return;
                }
            }
        }
        // A tail loss probe scheduled at the RTO's own time goes instead of the timeout (RFC 8985 §7.2): sending
        // it restarts the RTO.
        let probe_at_rto = self.timers.tlp.is_some_and(|t| self.timers.rtx.is_some_and(|r| t >= r));
        if probe_at_rto && due(self.timers.tlp, now) {
            self.timers.tlp = None;
            self.send_tail_loss_probe(now, fx);
        }
        if due(self.timers.rtx, now) {
            self.timers.rtx = None;
            self.on_retransmission_timeout(now, cfg, fx);
            if fx.release {
                return;
            }
        }
        if due(self.timers.reorder, now) {
            self.timers.reorder = None;
            self.rack_detect_loss(now, fx);
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
            self.on_delayed_ack_timeout();
        }
        self.poll_send(now, cfg, fx);
    }

    /// RFC 6298 §5.4-5.6 and RFC 5681 §3.1: back off, collapse cwnd, go back to SND.UNA.
    /// The retransmission timeout now, in whole milliseconds (for a reason's text).
    fn rto_ms(&self) -> u32 {
        u32::try_from(self.rtt.rto().as_millis()).unwrap_or(u32::MAX)
    }

    fn on_retransmission_timeout(&mut self, now: Instant, cfg: &TcpConfig, fx: &mut Effects) {
        match self.state {
            TcpState::SynSent | TcpState::SynReceived => {
                let limit = if self.state == TcpState::SynSent { cfg.syn_retries } else { cfg.synack_retries };
                if self.timers.rtx_count() >= limit {
                    if self.owner.passive() {
                        self.terminate(None, fx);
                    } else {
                        self.time_out(fx);
                    }
                    return;
                }
                let why = Why::HandshakeRetransmit { attempt: self.timers.rtx_count() + 1, rto_ms: self.rto_ms() };
                self.timers.count_timeout();
                self.counters.rare().timeouts += 1;
                self.counters.rare().retransmitted_segments += 1;
                self.rtt.back_off();
                self.rtt.cancel_timing();
                self.send_syn_because(now, why, fx);
            }
            _ => {
                if self.snd.outstanding() == 0 {
                    return;
                }
                // A peer that shut its window on data in flight makes each retransmission a zero-window
                // probe: while it answers them the connection stays (RFC 1122 §4.2.2.17; Linux's
                // `tcp_retransmit_timer` for a window shrunk to zero), and it ends as an unanswered probe
                // would. A connection the application has closed gives up as usual, as Linux's orphans.
                let probing = self.snd.wnd() == 0 && !self.owner.app_closed();
                if probing {
                    self.timers.probes_unanswered = self.timers.probes_unanswered.saturating_add(1);
                }
                let answered = probing && u32::from(self.timers.probes_unanswered) <= cfg.max_retransmissions;
                if self.timers.rtx_count() >= cfg.max_retransmissions && !answered {
                    self.time_out(fx);
                    return;
                }
                let why = Why::RtoRetransmit { attempt: self.timers.rtx_count() + 1, rto_ms: self.rto_ms() };
                self.timers.count_timeout();
                self.counters.rare().timeouts += 1;
                self.rtt.back_off();
                self.ts.timed_out(now);
                // The first timeout still trusts the scoreboard (skipping SACKed data, as Linux does); repeated
                // ones do not.
                self.on_timeout_recovery(self.timers.rtx_count >= 2);
                self.rtt.cancel_timing();
                // The segment at SND.UNA always goes out, whatever the scoreboard or windows say (the peer may
                // have reneged, or its window shrunk); poll_send (by the caller) continues from there.
                let una = self.snd.una();
                self.snd.rewind(None);
                let occupied = self.retransmit_first(now, why, fx);
                self.snd.resume_from(una + occupied);
                self.restart_rtx_timer(now);
            }
        }
    }

    /// RFC 8985 §7.3: send one new segment if the peer's window allows, else resend the last one, so that an ACK
    /// (with SACK) comes back and fast recovery can repair a tail loss without waiting for the RTO.
    fn send_tail_loss_probe(&mut self, now: Instant, fx: &mut Effects) {
        if self.recovery.in_recovery() || self.snd.outstanding() == 0 {
            return;
        }
        let nxt = self.snd.nxt();
        let new_len = self.snd.unsent().min(self.send_mss()).min(self.snd.peer_room());
        let new_data = new_len > 0 && nxt == self.snd.max();
        let tx = if new_data {
            self.counters.sent(new_len);
            Outgoing::new_data(nxt, TcpFlags::ACK | TcpFlags::PSH, self.snd.offset_of(nxt), new_len, Why::TailLossProbe)
        } else {
            // Resend the last sent segment (data, and FIN if it carried one).
            let data_end = self.snd.max().min(self.snd.buf_end());
            let sent_data = data_end - self.snd.una();
            let len = sent_data.min(self.send_mss());
            let start = data_end - len;
            let mut flags = TcpFlags::ACK;
            if self.snd.fin_sent() {
                flags |= TcpFlags::FIN;
            }
            if len == 0 && !self.snd.fin_sent() {
                return;
            }
            let offset = self.snd.offset_of(start);
            self.counters.retransmitted(len);
            let seq = if len == 0 { self.snd.buf_end() } else { start };
            Outgoing::data(seq, flags, offset, len, Why::TailLossProbe)
        };
        self.counters.rare().tail_loss_probes += 1;
        self.recovery.probe_sent();
        self.rtt.cancel_timing();
        self.queue_data(tx, now, fx);
        if new_data {
            self.snd.sent(new_len);
        }
        self.restart_rtx_timer(now);
    }

    /// Zero-window probe: an ACK carrying SND.UNA - 1, which the receiver must answer with its window.
    fn on_persist_timeout(&mut self, now: Instant, cfg: &TcpConfig, fx: &mut Effects) {
        if self.snd.flight() > 0 {
            return;
        }
        if self.snd.wnd() > 0 {
            // The window is open but too small to be worth a segment: the SWS override sends into it.
            self.timers.persist_backoff = self.timers.persist_backoff.saturating_add(1);
            self.send_window_override(now, fx);
            return;
        }
        self.timers.probes_unanswered = self.timers.probes_unanswered.saturating_add(1);
        if u32::from(self.timers.probes_unanswered) > cfg.max_retransmissions {
            self.time_out(fx);
            return;
        }
        self.counters.rare().zero_window_probes += 1;
        // Probes since the window shut (the backoff counts them; the peer's answers do not reset it).
        let why = Why::ZeroWindowProbe { attempt: u32::from(self.timers.persist_backoff) + 1 };
        self.push_with_ack(Outgoing::control(self.snd.una() - 1, TcpFlags::ACK, why), fx);
        self.timers.persist_backoff = self.timers.persist_backoff.saturating_add(1);
        self.timers.persist = Some(now + self.persist_interval(cfg.rto_max));
    }

    /// Do keep-alive probes watch this connection? Only one the application holds, once synchronized and
    /// before TIME-WAIT (the close timer's other uses come after the application closed).
    fn keepalive_applies(&self) -> bool {
        self.switches.has(super::tcb::KEEPALIVE)
            && !self.owner.app_closed()
            && matches!(
                self.state,
                TcpState::Established | TcpState::CloseWait | TcpState::FinWait1 | TcpState::FinWait2
            )
    }

    /// Something acceptable came from the peer (or keep-alive was just turned on): the next probe is due after
    /// `keepalive_idle` of silence.
    pub(crate) fn restart_keepalive(&mut self, now: Instant, cfg: &TcpConfig) {
        if self.keepalive_applies() {
            self.timers.keepalive_at(now + cfg.keepalive_idle);
        } else {
            self.timers.stop_keepalive();
        }
    }

    /// Keep-alive stops (turned off, or the application closes): its deadline leaves the close timer.
    pub(crate) fn stop_keepalive(&mut self) {
        self.timers.stop_keepalive();
    }

    /// RFC 1122 §4.2.3.6, as Linux's `tcp_keepalive_timer`: with data in flight or waiting the retransmission or
    /// persist timer watches the peer, so the probe waits another idle period; otherwise an empty ACK one below
    /// SND.UNA, which the peer must answer (an older Linux or BSD peer would want a garbage byte: RFC 1122 lets
    /// a probe carry none), until `keepalive_probes` went unanswered: then a reset and `TimedOut`.
    fn on_keepalive_timeout(&mut self, now: Instant, cfg: &TcpConfig, fx: &mut Effects) {
        if self.snd.outstanding() > 0 || self.snd.unsent() > 0 {
            self.timers.keepalive_at(now + cfg.keepalive_idle);
            return;
        }
        if u32::from(self.timers.probes_unanswered) >= cfg.keepalive_probes {
            self.send_reset(ResetWhy::KeepAliveTimeout, fx);
            self.time_out(fx);
            return;
        }
        self.timers.probes_unanswered = self.timers.probes_unanswered.saturating_add(1);
        self.counters.rare().keepalive_probes += 1;
        let why = Why::KeepAliveProbe { attempt: u32::from(self.timers.probes_unanswered) };
        self.push_with_ack(Outgoing::control(self.snd.una() - 1, TcpFlags::ACK, why), fx);
        self.timers.keepalive_at(now + cfg.keepalive_interval);
    }

    /// Arms the retransmission timer if it is not running.
    pub(crate) fn ensure_rtx_timer(&mut self, now: Instant) {
        if self.timers.rtx.is_none() {
            self.timers.rtx = Some(now + self.rtt.rto());
        }
    }

    pub(crate) fn restart_rtx_timer(&mut self, now: Instant) {
        self.timers.rtx = Some(now + self.rtt.rto());
    }

    /// RFC 8985 §7.2: arms the tail loss probe (2 SRTT, or more when a lone segment may wait for a delayed
    /// ACK) if it would fire before the RTO, data is outstanding and no probe is out already.
    pub(crate) fn arm_tail_loss_probe(&mut self, now: Instant) {
        self.timers.tlp = None;
        let Some(srtt) = self.rtt.srtt() else {
            return;
        };
        let outstanding = self.snd.outstanding();
        if self.recovery.in_recovery() || self.recovery.tlp_in_flight() || outstanding == 0 || !self.synchronized() {
            return;
        }
        let mut pto = srtt * 2;
        if outstanding <= self.opts.mss() {
            // The peer may hold a lone segment's ACK for its delayed-ACK time (RFC 8985 uses 200 ms).
            pto = pto.max(srtt + srtt / 2 + Duration::from_millis(200));
        }
        let at = now + pto.max(Duration::from_millis(10));
        // RFC 8985 §7.2: a probe due after the RTO goes at the RTO's time instead (Linux's
        // `tcp_schedule_loss_probe`), and before it (`on_timer`): the probe restarts the RTO, so a tail loss is
        // repaired without a timeout; if the probe is cancelled the RTO stays armed.
        self.timers.tlp = Some(self.timers.rtx.map_or(at, |rto| at.min(rto)));
    }

    /// Persist timer interval with its own exponential backoff, bounded like the RTO.
    pub(crate) fn persist_interval(&self, max: Duration) -> Duration {
        let factor = 1u32.checked_shl(u32::from(self.timers.persist_backoff.min(16))).unwrap_or(u32::MAX);
        self.rtt.rto().saturating_mul(factor).min(max)
    }
}
