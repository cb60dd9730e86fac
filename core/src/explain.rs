//! Why the stack did what it did, for drivers that explain a run ([`Config::explain`](crate::Config)).
//!
//! A pcapng shows what was sent, never why; the stack knows why. With `explain` on, every TCP segment a
//! connection sends is followed in the outputs by an [`Output::Note`](crate::Output) with its [`Why`], every
//! state change of a connection by a [`Note::State`], and every frame the stack drops by a [`Note::Dropped`]
//! with the [`DropReason`] it counted. The simulator writes them as pcapng packet comments; `synack-sim decode`
//! prints them. With `explain` off (the default) nothing is recorded: a reason is a byte stored per segment.

use crate::api::SocketHandle;
use crate::stats::DropReason;
use crate::tcp::TcpState;
use core::fmt;

/// Why a TCP segment was sent. Kept small (12 bytes): every segment a connection queues carries one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Why {
    /// Our SYN: the application connected.
    Connect,
    /// Our SYN-ACK: a SYN arrived for a listener.
    SynAck,
    /// Our SYN-ACK in a simultaneous open: the peer's SYN crossed ours (RFC 9293 §3.5).
    SimultaneousOpen,
    /// A SYN or SYN-ACK sent again after its timer (of `rto_ms` milliseconds) expired.
    HandshakeRetransmit { attempt: u32, rto_ms: u32 },
    /// Our SYN-ACK sent again because the peer's SYN came again: its copy of ours was lost.
    SynAckForRepeatedSyn,
    /// New data, first transmission.
    Data,
    /// Our FIN: the application closed or shut down its sending side.
    Fin,
    /// New data with our FIN on the same segment (the last of the data the application wrote before closing).
    DataAndFin,
    /// Retransmission after the retransmission timer (of `rto_ms` milliseconds) expired (RFC 6298).
    RtoRetransmit { attempt: u32, rto_ms: u32 },
    /// Fast retransmit (RFC 5681): duplicate ACKs said the first unacknowledged segment was lost.
    FastRetransmit { dup_acks: u32 },
    /// Retransmission of a segment that RACK (RFC 8985) or the SACK scoreboard marked lost.
    LostRetransmit,
    /// Sent again because the send point went back (after a timeout, data already sent once).
    Resend,
    /// Sent again in smaller segments: an ICMP message lowered the path MTU to `mtu` (RFC 1191, RFC 8201).
    PathMtuResend { mtu: u16 },
    /// Retransmission of the next hole on a partial ACK in NewReno fast recovery (RFC 6582 §3.2), without SACK.
    PartialAckRetransmit,
    /// A tail loss probe (RFC 8985 §7): the last segments may have been lost.
    TailLossProbe,
    /// A zero-window probe (RFC 9293 §3.8.6.1): the peer's window is shut.
    ZeroWindowProbe { attempt: u32 },
    /// A keep-alive probe (RFC 1122 §4.2.3.6): nothing heard from the peer for a while.
    KeepAliveProbe { attempt: u32 },
    /// A pure acknowledgement.
    Ack(AckWhy),
    /// An RFC 5961 challenge ACK: a RST or SYN in the window but not exactly where expected.
    ChallengeAck,
    /// A reset.
    Reset(ResetWhy),
}

/// Why a pure ACK went out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AckWhy {
    /// The third segment of the handshake.
    Handshake,
    /// Every second full segment (RFC 5681 §4.2), or the end of a batch of frames.
    SecondSegment,
    /// The delayed-ACK timer fired.
    DelayedTimer,
    /// Out-of-order data, a filled gap or data that did not fit: the sender must hear at once (a duplicate ACK
    /// when something is missing).
    OutOfOrder,
    /// Quick-ACK mode after recent out-of-order data (or a gap filled, or data that did not fit).
    Quick,
    /// A CE mark arrived (RFC 3168 §6.1.3): the echo goes at once, on this ACK and the next.
    CeMark,
    /// The peer's FIN.
    Fin,
    /// The application read and the window opened enough to tell the peer.
    WindowUpdate,
    /// A segment outside the window, or old (the peer retransmits what we have).
    Unacceptable,
    /// A CWR ended our ECN echo, or another ECN event.
    Ecn,
    /// A duplicate FIN in TIME-WAIT (our last ACK was lost): acknowledged again.
    TimeWaitFin,
}

/// Why a reset went out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResetWhy {
    /// A segment arrived for a port where nothing listens, or for no connection.
    NoSocket { port: u16 },
    /// The application aborted the connection, or closed it with data unread (as Linux).
    Abort,
    /// The ACK field of a segment does not belong to our SYN (RFC 9293 §3.10.7.3).
    BadAck,
    /// An ACK-bearing segment reached a listener: it belongs to no connection (RFC 9293 §3.10.7.2).
    AckToListener,
    /// Data arrived after the application closed the connection: nobody can read it (RFC 1122 §4.2.2.13).
    DataAfterClose,
    /// Keep-alive probes went unanswered: the peer is gone (as Linux, which resets the connection).
    KeepAliveTimeout,
}

/// Something the stack explains, in the outputs right where it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Note {
    /// The [`Output::Transmit`](crate::Output) just before this note was sent for this reason.
    Sent(Why),
    /// A connection changed state (from what it was after the last input that touched it).
    State { sock: SocketHandle, from: TcpState, to: TcpState },
    /// A received frame (or a frame about to be sent) was dropped and counted in [`crate::Stats`].
    Dropped(DropReason),
}

/// Milliseconds, or seconds when whole: "200 ms", "2 s".
struct Rto(u32);

impl fmt::Display for Rto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0;
        if ms % 1000 == 0 {
            write!(f, "{} s", ms / 1000)
        } else {
            write!(f, "{ms} ms")
        }
    }
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Why::Connect => write!(f, "SYN (connect)"),
            Why::SynAck => write!(f, "SYN-ACK (SYN for a listener)"),
            Why::SimultaneousOpen => write!(f, "SYN-ACK (simultaneous open)"),
            Why::SynAckForRepeatedSyn => write!(f, "SYN-ACK again (the peer's SYN came again)"),
            Why::HandshakeRetransmit { attempt, rto_ms } => {
                write!(f, "handshake retransmission #{attempt} (RTO {})", Rto(*rto_ms))
            }
            Why::Data => write!(f, "new data"),
            Why::Fin => write!(f, "FIN (application closed)"),
            Why::DataAndFin => write!(f, "new data + FIN (application closed)"),
            Why::RtoRetransmit { attempt, rto_ms } => {
                write!(f, "retransmission #{attempt} (RTO {} expired)", Rto(*rto_ms))
            }
            Why::FastRetransmit { dup_acks } => write!(f, "fast retransmit ({dup_acks} dup ACKs)"),
            Why::LostRetransmit => write!(f, "retransmission (RACK/SACK: marked lost)"),
            Why::Resend => write!(f, "sent again (send point went back after a timeout)"),
            Why::PathMtuResend { mtu } => write!(f, "sent again, smaller (path MTU now {mtu})"),
            Why::PartialAckRetransmit => write!(f, "retransmission (NewReno partial ACK)"),
            Why::TailLossProbe => write!(f, "RACK/TLP probe"),
            Why::ZeroWindowProbe { attempt } => write!(f, "zero-window probe #{attempt}"),
            Why::KeepAliveProbe { attempt } => write!(f, "keep-alive probe #{attempt}"),
            Why::Ack(a) => write!(f, "{a}"),
            Why::ChallengeAck => write!(f, "challenge ACK (RFC 5961)"),
            Why::Reset(r) => write!(f, "{r}"),
        }
    }
}

impl fmt::Display for AckWhy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AckWhy::Handshake => "ACK (handshake)",
            AckWhy::SecondSegment => "ACK (every second segment)",
            AckWhy::DelayedTimer => "delayed ACK (timer)",
            AckWhy::OutOfOrder => "ACK at once (out of order / gap filled)",
            AckWhy::Quick => "ACK at once (quick-ACK after out-of-order data)",
            AckWhy::CeMark => "ACK at once (CE mark echoed, RFC 3168)",
            AckWhy::Fin => "ACK of the peer's FIN",
            AckWhy::WindowUpdate => "window update (application read)",
            AckWhy::Unacceptable => "ACK (unacceptable segment)",
            AckWhy::Ecn => "ACK (ECN)",
            AckWhy::TimeWaitFin => "ACK of a repeated FIN (TIME-WAIT)",
        })
    }
}

impl fmt::Display for ResetWhy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResetWhy::NoSocket { port } => write!(f, "RST: no socket on port {port}"),
            ResetWhy::Abort => write!(f, "RST: connection aborted"),
            ResetWhy::BadAck => write!(f, "RST: ACK does not match our SYN"),
            ResetWhy::AckToListener => write!(f, "RST: ACK for no connection (listener)"),
            ResetWhy::DataAfterClose => write!(f, "RST: data after the application closed"),
            ResetWhy::KeepAliveTimeout => write!(f, "RST: keep-alive probes unanswered"),
        }
    }
}

impl fmt::Display for Note {
    /// `why: ...`, `state: #3 SYN-SENT -> ESTABLISHED`, `drop: ...`: one line, as packet comments carry it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::Sent(why) => write!(f, "why: {why}"),
            Note::State { sock, from, to } => write!(f, "state: {sock} {from} -> {to}"),
            Note::Dropped(reason) => write!(f, "drop: {reason}"),
        }
    }
}

impl Note {
    /// Takes out of `out` (the outputs of one received frame) the notes about that frame: the state changes it
    /// caused and its drop, for a driver that writes them beside the frame (a capture's packet comment). A sent
    /// frame's reason ([`Note::Sent`], right after its [`Output::Transmit`](crate::Output)) stays with it.
    pub fn take_received(out: &mut Vec<crate::Output>) -> Vec<Note> {
        let mut told = Vec::new();
        let mut i = 0;
        while i < out.len() {
            match &out[i] {
                crate::Output::Note(Note::State { .. } | Note::Dropped(_)) => {
                    if let crate::Output::Note(n) = out.remove(i) {
                        told.push(n);
                    }
                }
                crate::Output::Transmit(_) => {
                    // Skip the frame's own reason with it.
                    i += if matches!(out.get(i + 1), Some(crate::Output::Note(Note::Sent(_)))) { 2 } else { 1 };
                }
                _ => i += 1,
            }
        }
        told
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_read_as_one_line() {
        let rto = Why::HandshakeRetransmit { attempt: 2, rto_ms: 2_000 };
        assert_eq!(Note::Sent(rto).to_string(), "why: handshake retransmission #2 (RTO 2 s)");
        let fr = Why::FastRetransmit { dup_acks: 3 };
        assert_eq!(Note::Sent(fr).to_string(), "why: fast retransmit (3 dup ACKs)");
        let rst = Why::Reset(ResetWhy::NoSocket { port: 9 });
        assert_eq!(Note::Sent(rst).to_string(), "why: RST: no socket on port 9");
        let rt = Why::RtoRetransmit { attempt: 1, rto_ms: 250 };
        assert_eq!(rt.to_string(), "retransmission #1 (RTO 250 ms expired)");
        let st = Note::State { sock: SocketHandle(3), from: TcpState::Established, to: TcpState::FinWait1 };
        assert!(st.to_string().starts_with("state: #3 "), "{st}");
        // A reason is small: it rides in every segment a connection queues.
        assert!(core::mem::size_of::<Why>() <= 12);
    }

    #[test]
    fn a_received_frames_notes_are_taken_and_a_sent_frames_reason_stays() {
        use crate::Output;
        let st = Note::State { sock: SocketHandle(1), from: TcpState::Listen, to: TcpState::SynReceived };
        let mut out = vec![
            Output::Note(st.clone()),
            Output::Transmit(vec![1]),
            Output::Note(Note::Sent(Why::SynAck)),
            Output::Note(Note::Dropped(DropReason::TcpNoSocket)),
        ];
        assert_eq!(Note::take_received(&mut out), [st, Note::Dropped(DropReason::TcpNoSocket)]);
        assert_eq!(out, [Output::Transmit(vec![1]), Output::Note(Note::Sent(Why::SynAck))]);
    }
}
