//! The segments a connection sends. While it handles an input, a connection queues what it decided to send
//! ([`Outgoing`]: sequence number, flags, which bytes of the send buffer); when the stack puts one on the wire it
//! asks the connection for the complete header ([`Tcb::build_segment`]): acknowledgement number, window and
//! options come from the connection's state at that moment, so one input's segments all carry its final
//! RCV.NXT. The stack only checks the challenge-ACK budget, wraps the segment in IP and copies the payload.

use super::seq::SeqNum;
use super::tcb::Tcb;
use crate::explain::Why;
use crate::time::Instant;
use crate::wire::{EcnCodepoint, TcpFlags, TcpOptions, TcpRepr};

/// Why a segment carries what it does, where that changes how it is built or sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OutgoingKind {
    /// A retransmission, a FIN, a pure ACK, a probe or a reset.
    Plain,
    /// A first transmission of payload bytes: on an ECN connection it leaves ECN-capable (ECT(0)) and may
    /// carry CWR (RFC 3168 §6.1.2, §6.1.4: never retransmissions, pure ACKs or probes).
    NewData,
    /// Our SYN or SYN-ACK: carries the SYN options and an unscaled window.
    Syn,
    /// An RFC 5961 challenge ACK, subject to the stack's global rate limit.
    ChallengeAck,
}

/// A segment the connection decided to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Outgoing {
    pub seq: SeqNum,
    pub flags: TcpFlags,
    /// An explicit ACK field (resets answering a segment); `None` means RCV.NXT when ACK is set.
    pub ack: Option<SeqNum>,
    /// Payload: `len` bytes of the send buffer from `offset` (bytes after the buffer's first sequence number).
    pub offset: usize,
    pub len: usize,
    pub kind: OutgoingKind,
    /// Why it is sent ([`crate::Config::explain`] reports it).
    pub why: Why,
}

impl Outgoing {
    /// A segment without payload.
    pub(crate) fn control(seq: SeqNum, flags: TcpFlags, why: Why) -> Outgoing {
        Outgoing { seq, flags, ack: None, offset: 0, len: 0, kind: OutgoingKind::Plain, why }
    }

    /// `len` bytes of the send buffer from `offset`, at `seq`: a retransmission.
    pub(crate) fn data(seq: SeqNum, flags: TcpFlags, offset: usize, len: usize, why: Why) -> Outgoing {
        Outgoing { seq, flags, ack: None, offset, len, kind: OutgoingKind::Plain, why }
    }

    /// `len` bytes of the send buffer from `offset`, at `seq`, sent for the first time.
    pub(crate) fn new_data(seq: SeqNum, flags: TcpFlags, offset: usize, len: usize, why: Why) -> Outgoing {
        Outgoing { seq, flags, ack: None, offset, len, kind: OutgoingKind::NewData, why }
    }

    pub(crate) fn is_challenge_ack(&self) -> bool {
        self.kind == OutgoingKind::ChallengeAck
    }
}

impl Tcb {
    /// Writes the complete header of `tx` to `repr` (every field and option; the payload is `tx.len` bytes that
    /// [`Tcb::copy_payload`] writes), for a frame whose IP payload may be at most `max_ip_payload` bytes, and
    /// returns the ECN codepoint of its IP header. Advertising the window moves the receive window's right
    /// edge, and a CWR is owed once, so call it once per segment sent.
    ///
    /// The header is written where the caller keeps it: returned, it was built on the stack and copied in
    /// 16-byte pieces that read back fields just written with narrower stores (the CPU stalls when store
    /// forwarding fails).
    #[inline]
    pub(crate) fn build_segment(
        &mut self,
        tx: &Outgoing,
        max_ip_payload: usize,
        now: Instant,
        repr: &mut TcpRepr<'static>,
    ) -> EcnCodepoint {
        let window_len = if tx.flags.contains(TcpFlags::RST) {
            0
        } else {
            self.rcv.advertise_window(tx.kind == OutgoingKind::Syn, self.opts.mss())
        };
        let ack_number = tx.ack.unwrap_or(if tx.flags.contains(TcpFlags::ACK) { self.rcv.nxt() } else { SeqNum(0) });
        let (ecn_flags, ecn) = self.ecn.mark(tx);
        *repr = TcpRepr {
            src_port: self.ends.local_port(),
            dst_port: self.ends.remote_port(),
            seq_number: tx.seq,
            ack_number,
            flags: tx.flags | ecn_flags,
            window_len,
            urgent_ptr: 0,
            options: TcpOptions::default(),
            payload: &[],
        };
        self.segment_options(tx, max_ip_payload, now, &mut repr.options);
        if tx.flags.contains(TcpFlags::ACK) {
            self.ts.ack_sent(ack_number);
        }
        self.counters.segment_sent();
        if tx.is_challenge_ack() {
            self.counters.rare().challenge_acks += 1;
        }
        ecn
    }

    /// Writes the payload of `tx` (`into` is exactly `tx.len` bytes).
    #[inline]
    pub(crate) fn copy_payload(&self, tx: &Outgoing, into: &mut [u8]) {
        self.snd.copy_out(tx.offset, into);
    }

    /// [`Tcb::copy_payload`], returning the payload's checksum, summed in the same pass (`None`: not all of
    /// `into` was written).
    pub(crate) fn copy_payload_summed(&self, tx: &Outgoing, into: &mut [u8]) -> Option<u16> {
        self.snd.copy_out_summed(tx.offset, into)
    }
}
