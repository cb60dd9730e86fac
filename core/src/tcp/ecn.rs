//! Explicit Congestion Notification at the TCP endpoint (RFC 3168 §6.1): the handshake that agrees on it, the
//! receiver's echo of congestion marks (ECE on every ACK from a CE mark until the sender's CWR), and the sender's
//! answer (one window reduction per window of data, CWR on the next new data segment, ECT(0) on new data only).
//!
//! A router that would drop an ECN-capable packet may mark it CE instead; the receiving TCP tells the sender,
//! and the sender slows down as for a loss, without the loss: nothing is retransmitted. Marking itself belongs to
//! the network (in the simulator, an exact `mark_ce` fault).
//!
//! Choices where RFC 3168 leaves one, as Linux makes them:
//! - `Ecn::Passive` is the default (Linux's `tcp_ecn = 2`): accept ECN when the peer asks, never ask.
//! - Only the first SYN asks; a retransmitted SYN carries neither ECE nor CWR (RFC 3168 §6.1.1.1 allows it;
//!   Linux's `tcp_ecn_fallback`), in case a middlebox drops ECN-setup SYNs. The SYN-ACK still decides: an
//!   ECN-setup SYN-ACK means the first SYN got through, and ECN is used.
//! - A listener that sees a retransmitted SYN decides again from it: one without ECE and CWR (a client falling
//!   back) gets a plain SYN-ACK.
//! - A SYN that itself arrives ECN-capable (ECT or CE) is declined: SYNs are sent Not-ECT (§6.1.1), so the path
//!   rewrites the field and its marks mean nothing.
//! - SYN-cookie connections never use ECN: the cookie has no room to remember the SYN's request (Linux keeps it
//!   in the timestamp bits, which synack's cookies do not carry), so the cookie's SYN-ACK does not offer it.
//! - A CE mark makes the next two ACKs go at once (Linux's quick-ACK on CE): the sender may be down to a small
//!   window, where a delayed ACK stalls it. A CWR on data is acknowledged at once too.
//! - Within a window already reduced for ECE, a loss does not reduce the window again (§6.1.2: ssthresh is not
//!   reduced twice in one round trip): fast recovery repairs it with the window it has.

use super::flags::Flags;
use super::segment::{Outgoing, OutgoingKind};
use super::seq::SeqNum;
use super::tcb::Tcb;
use crate::wire::{EcnCodepoint, TcpFlags};

/// Whether connections use ECN (RFC 3168), as Linux's `net.ipv4.tcp_ecn`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Ecn {
    /// Never (`tcp_ecn = 0`): our SYNs ask for nothing and an ECN-setup SYN gets a plain SYN-ACK.
    Off,
    /// Accept ECN when the peer asks for it in its SYN, but never ask (`tcp_ecn = 2`, Linux's default): a peer
    /// that wants ECN gets it, and a connection we open never meets a middlebox that drops ECN-setup SYNs.
    #[default]
    Passive,
    /// Also ask for ECN in the SYN of every connection we open (`tcp_ecn = 1`).
    On,
}

/// What an arriving data segment said about congestion (RFC 3168 §6.1.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Feedback {
    /// It was CE-marked.
    pub ce: bool,
    /// The mark starts a new echo: the ACK should go at once.
    pub new_echo: bool,
    /// It carried CWR: the sender reduced its window, the echo is over.
    pub cwr: bool,
}

/// A connection's ECN state.
#[derive(Debug)]
pub(crate) struct EcnState {
    setting: Ecn,
    /// `AGREED`, `SENT_ECT`, `ECHO`, `CWR_PENDING`, `REDUCED`: one byte where five `bool`s would take five, so the
    /// state takes 8 bytes of every connection.
    flags: Flags,
    /// Sender: SND.MAX when the window was last reduced for an ECE (if `REDUCED`). Another ECE counts only once
    /// an ACK covers data beyond it, sent after the reduction: the window whose marks caused it is over.
    reduced_at: SeqNum,
}

/// Both SYNs agreed: data goes out ECT(0), CE marks are echoed and echoes answered.
const AGREED: u8 = 1;
/// We sent an ECN-capable packet: only then can an ECE be about one of ours.
const SENT_ECT: u8 = 1 << 1;
/// Receiver: a CE mark arrived and no CWR since, so every ACK carries ECE.
const ECHO: u8 = 1 << 2;
/// Sender: the window was reduced (ECE, fast retransmit or timeout); the next new data segment says CWR.
const CWR_PENDING: u8 = 1 << 3;
/// Sender: the window was reduced for an ECE, at `reduced_at`.
const REDUCED: u8 = 1 << 4;

impl EcnState {
    pub(crate) fn new(setting: Ecn) -> EcnState {
        EcnState { setting, flags: Flags::NONE, reduced_at: SeqNum(0) }
    }

    pub(crate) fn agreed(&self) -> bool {
        self.flags.has(AGREED)
    }

    /// The ECN flags of our SYN (RFC 3168 §6.1.1): ECE and CWR (an "ECN-setup SYN") when we ask, on the first
    /// transmission only.
    pub(crate) fn syn_flags(&self, retransmission: bool) -> TcpFlags {
        if self.setting == Ecn::On && !retransmission {
            TcpFlags::ECE | TcpFlags::CWR
        } else {
            TcpFlags::empty()
        }
    }

    /// The ECN flags of our SYN-ACK: ECE alone (an "ECN-setup SYN-ACK", never CWR) when ECN was agreed.
    pub(crate) fn syn_ack_flags(&self) -> TcpFlags {
        if self.flags.has(AGREED) {
            TcpFlags::ECE
        } else {
            TcpFlags::empty()
        }
    }

    /// The peer's SYN without ACK (`ip`: the codepoint it arrived with): a passive open, a retransmission of it,
    /// or the crossed SYN of a simultaneous open (`active`: we opened too, so we must have asked ourselves). It
    /// asks for ECN with ECE and CWR both set.
    pub(crate) fn take_syn(&mut self, flags: TcpFlags, ip: EcnCodepoint, active: bool) {
        let asks = flags.contains(TcpFlags::ECE | TcpFlags::CWR) && ip == EcnCodepoint::NotEct;
        let willing = if active { self.setting == Ecn::On } else { self.setting != Ecn::Off };
        self.flags.set(AGREED, asks && willing);
    }

    /// The SYN-ACK answering our SYN: ECN is agreed if we asked and it has ECE without CWR. One with both is
    /// a peer that reflects the flags it does not understand (RFC 3168 §6.1.1), and one with neither declines.
    pub(crate) fn take_syn_ack(&mut self, flags: TcpFlags) {
        self.flags
            .set(AGREED, self.setting == Ecn::On && flags.contains(TcpFlags::ECE) && !flags.contains(TcpFlags::CWR));
    }

    /// Forgets what a peer's SYN said (a crossed SYN turned out bogus).
    pub(crate) fn forget_peer(&mut self) {
        self.flags.set(AGREED, false);
    }

    /// RFC 3168 §6.1.3: an acceptable segment with data arrived with `ip`'s codepoint. A CWR ends the echo (the
    /// sender reduced its window), then a CE mark (even on the same segment) starts it again.
    pub(crate) fn receive(&mut self, flags: TcpFlags, ip: EcnCodepoint) -> Feedback {
        let mut fb = Feedback { ce: false, new_echo: false, cwr: false };
        if !self.flags.has(AGREED) {
            return fb;
        }
        if flags.contains(TcpFlags::CWR) {
            self.flags.set(ECHO, false);
            fb.cwr = true;
        }
        if ip == EcnCodepoint::Ce {
            fb.ce = true;
            fb.new_echo = !self.flags.has(ECHO);
            self.flags.set(ECHO, true);
        }
        fb
    }

    /// A window reduction for a loss (fast retransmit or timeout): the next new data segment says CWR too
    /// (RFC 3168 §6.1.2), which also ends any echo the peer keeps up meanwhile.
    pub(crate) fn loss_reduction(&mut self) {
        self.flags.set(CWR_PENDING, self.flags.has(AGREED));
    }

    /// The ECN flags and IP codepoint of `tx` at the moment it is built: ECT(0) and, once after a reduction,
    /// CWR on new data; ECE on every ACK while a CE mark is being echoed. Pure ACKs, SYNs, resets, probes and
    /// retransmissions stay Not-ECT (RFC 3168 §6.1.4, §6.1.5, §6.1.6).
    pub(crate) fn mark(&mut self, tx: &Outgoing) -> (TcpFlags, EcnCodepoint) {
        let mut flags = TcpFlags::empty();
        if !self.flags.has(AGREED) {
            return (flags, EcnCodepoint::NotEct);
        }
        let acknowledges = tx.flags.contains(TcpFlags::ACK) && !tx.flags.intersects(TcpFlags::SYN | TcpFlags::RST);
        if self.flags.has(ECHO) && acknowledges {
            flags |= TcpFlags::ECE;
        }
        if tx.kind != OutgoingKind::NewData {
            return (flags, EcnCodepoint::NotEct);
        }
        if self.flags.take(CWR_PENDING) {
            flags |= TcpFlags::CWR;
        }
        self.flags.set(SENT_ECT, true);
        (flags, EcnCodepoint::Ect0)
    }
}

impl Tcb {
    /// RFC 3168 §6.1.2: an acceptable ACK (acknowledging up to `ack`) carries ECE: a packet of ours was CE-marked.
    /// The window is reduced once per window of data, nothing retransmitted: not during fast recovery, not
    /// before everything outstanding at the last loss or timeout is acknowledged (that window was reduced
    /// already), and not again until an ACK covers data sent after the last ECN reduction (the CWR segment).
    pub(crate) fn on_ecn_echo(&mut self, ack: SeqNum) {
        if !self.ecn.flags.has(AGREED) || !self.ecn.flags.has(SENT_ECT) || ack < self.snd.una() {
            // An ECE about nothing of ours (no ECN, or no ECN-capable packet sent yet) means nothing; an old ACK
            // (reordered behind newer ones) tells nothing new.
            return;
        }
        self.counters.rare().ece_received += 1;
        let after_loss_window = ack > self.recovery.recover();
        let after_ecn_window = !self.ecn.flags.has(REDUCED) || ack > self.ecn.reduced_at;
        if self.recovery.in_recovery() || !after_loss_window || !after_ecn_window {
            return;
        }
        self.cc.on_ecn(self.snd.outstanding(), self.opts.mss());
        // The network signalled congestion: undoing an earlier loss episode must not take this back (Linux
        // forgets its undo state when it enters CWR).
        self.recovery.forget_undo();
        self.ecn.flags.set(REDUCED, true);
        self.ecn.reduced_at = self.snd.max();
        self.ecn.flags.set(CWR_PENDING, true);
        self.counters.rare().cwnd_reductions_ecn += 1;
    }

    /// The window of data an ECE reduction covered is not over yet (no ACK beyond it): a loss found in it
    /// does not reduce the window again.
    pub(crate) fn reduced_for_ecn_this_window(&self) -> bool {
        self.ecn.flags.has(REDUCED) && self.snd.una() <= self.ecn.reduced_at
    }

    /// RFC 3168 §6.1.3 for an acceptable segment that carries data and arrived with `ip`'s codepoint: note a
    /// CWR or a CE mark; a mark that starts an echo makes the next two ACKs go at once.
    pub(crate) fn receive_congestion_feedback(&mut self, flags: TcpFlags, ip: EcnCodepoint) {
        let fb = self.ecn.receive(flags, ip);
        if fb.ce {
            self.counters.rare().ce_received += 1;
        }
        if fb.new_echo {
            self.ack.quick_ack(2, crate::explain::AckWhy::CeMark);
        }
        if fb.cwr {
            self.ack.request_now(crate::explain::AckWhy::Ecn);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explain::{AckWhy, ResetWhy, Why};

    fn data(kind: OutgoingKind) -> Outgoing {
        let mut tx = Outgoing::data(SeqNum(1), TcpFlags::ACK | TcpFlags::PSH, 0, 100, Why::Data);
        tx.kind = kind;
        tx
    }

    fn agreed() -> EcnState {
        let mut e = EcnState::new(Ecn::Passive);
        e.take_syn(TcpFlags::SYN | TcpFlags::ECE | TcpFlags::CWR, EcnCodepoint::NotEct, false);
        assert!(e.agreed());
        e
    }

    #[test]
    fn negotiation_follows_the_setting_and_the_flags() {
        let ecn_syn = TcpFlags::SYN | TcpFlags::ECE | TcpFlags::CWR;
        for (setting, accepts, asks) in [(Ecn::Off, false, false), (Ecn::Passive, true, false), (Ecn::On, true, true)] {
            let mut e = EcnState::new(setting);
            assert_eq!(e.syn_flags(false).contains(TcpFlags::ECE | TcpFlags::CWR), asks, "{setting:?}");
            assert_eq!(e.syn_flags(true), TcpFlags::empty(), "never on a retransmitted SYN");
            e.take_syn(ecn_syn, EcnCodepoint::NotEct, false);
            assert_eq!(e.agreed(), accepts, "{setting:?}");
            assert_eq!(e.syn_ack_flags(), if accepts { TcpFlags::ECE } else { TcpFlags::empty() });
            e.take_syn_ack(TcpFlags::SYN | TcpFlags::ACK | TcpFlags::ECE);
            assert_eq!(e.agreed(), asks, "{setting:?}");
        }
        let mut e = EcnState::new(Ecn::On);
        for (flags, ok) in [
            (TcpFlags::ECE | TcpFlags::CWR, false),
            (TcpFlags::CWR, false),
            (TcpFlags::empty(), false),
            (TcpFlags::ECE, true),
        ] {
            e.take_syn_ack(TcpFlags::SYN | TcpFlags::ACK | flags);
            assert_eq!(e.agreed(), ok, "{flags}");
        }
        // A SYN asks with both flags, and only if it arrived Not-ECT.
        let mut e = EcnState::new(Ecn::Passive);
        for (flags, ip, ok) in [
            (TcpFlags::SYN | TcpFlags::ECE, EcnCodepoint::NotEct, false),
            (TcpFlags::SYN | TcpFlags::CWR, EcnCodepoint::NotEct, false),
            (ecn_syn, EcnCodepoint::Ect0, false),
            (ecn_syn, EcnCodepoint::Ce, false),
            (ecn_syn, EcnCodepoint::NotEct, true),
        ] {
            e.take_syn(flags, ip, false);
            assert_eq!(e.agreed(), ok, "{flags} {ip}");
        }
        // A crossed SYN of a simultaneous open agrees only if we asked too.
        e.take_syn(ecn_syn, EcnCodepoint::NotEct, true);
        assert!(!e.agreed());
    }

    #[test]
    fn only_new_data_is_ect_and_cwr_goes_once() {
        let mut e = agreed();
        let ack = Outgoing::control(SeqNum(1), TcpFlags::ACK, Why::Ack(AckWhy::SecondSegment));
        assert_eq!(e.mark(&ack), (TcpFlags::empty(), EcnCodepoint::NotEct));
        assert_eq!(e.mark(&data(OutgoingKind::Plain)), (TcpFlags::empty(), EcnCodepoint::NotEct), "retransmission");
        assert_eq!(e.mark(&data(OutgoingKind::NewData)), (TcpFlags::empty(), EcnCodepoint::Ect0));
        e.loss_reduction();
        assert_eq!(e.mark(&ack), (TcpFlags::empty(), EcnCodepoint::NotEct), "CWR waits for new data");
        assert_eq!(e.mark(&data(OutgoingKind::NewData)), (TcpFlags::CWR, EcnCodepoint::Ect0));
        assert_eq!(e.mark(&data(OutgoingKind::NewData)), (TcpFlags::empty(), EcnCodepoint::Ect0));
        let mut off = EcnState::new(Ecn::On);
        off.loss_reduction();
        assert_eq!(off.mark(&data(OutgoingKind::NewData)), (TcpFlags::empty(), EcnCodepoint::NotEct));
    }

    #[test]
    fn ce_is_echoed_until_cwr() {
        let mut e = agreed();
        let ack = Outgoing::control(SeqNum(1), TcpFlags::ACK, Why::Ack(AckWhy::SecondSegment));
        let rst = Outgoing::control(SeqNum(1), TcpFlags::RST | TcpFlags::ACK, Why::Reset(ResetWhy::Abort));
        let fb = e.receive(TcpFlags::ACK, EcnCodepoint::Ce);
        assert_eq!(fb, Feedback { ce: true, new_echo: true, cwr: false });
        assert_eq!(e.mark(&ack).0, TcpFlags::ECE);
        assert_eq!(e.mark(&data(OutgoingKind::NewData)).0, TcpFlags::ECE, "data carries the echo too");
        assert_eq!(e.mark(&rst).0, TcpFlags::empty());
        assert!(!e.receive(TcpFlags::ACK, EcnCodepoint::Ce).new_echo, "already echoing");
        assert_eq!(e.receive(TcpFlags::ACK, EcnCodepoint::Ect0), Feedback { ce: false, new_echo: false, cwr: false });
        assert_eq!(e.mark(&ack).0, TcpFlags::ECE);
        assert!(e.receive(TcpFlags::ACK | TcpFlags::CWR, EcnCodepoint::Ect0).cwr);
        assert_eq!(e.mark(&ack).0, TcpFlags::empty());
        // CWR and a new mark on the same segment: the new mark wins.
        let fb = e.receive(TcpFlags::ACK | TcpFlags::CWR, EcnCodepoint::Ce);
        assert!(fb.cwr && fb.new_echo);
        assert_eq!(e.mark(&ack).0, TcpFlags::ECE);
        // Without ECN, marks and flags mean nothing.
        let mut off = EcnState::new(Ecn::On);
        assert_eq!(off.receive(TcpFlags::CWR, EcnCodepoint::Ce), Feedback { ce: false, new_echo: false, cwr: false });
        assert_eq!(off.mark(&ack).0, TcpFlags::empty());
    }
}
