//! The send sequence space (RFC 9293 §3.3.1): what we sent, what the peer acknowledged, the window it offers,
//! and the bytes the application queued behind them.

use super::buffer::SendBuffer;
use super::seq::SeqNum;

#[derive(Debug)]
pub(crate) struct SendSequence {
    /// Initial send sequence number.
    pub iss: SeqNum,
    pub una: SeqNum,
    pub nxt: SeqNum,
    /// Highest sequence number sent + 1 (SND.NXT may rewind on a timeout; this never does).
    pub max: SeqNum,
    /// The peer's window, scaled, in bytes.
    pub wnd: usize,
    /// The largest window the peer ever offered.
    pub max_wnd: usize,
    /// Sequence and acknowledgement numbers of the segment that last updated the window.
    pub wl1: SeqNum,
    pub wl2: SeqNum,
    /// The peer's window scale shift (applied to windows it advertises).
    pub wscale: u8,
    /// Bytes queued by the application and not yet acknowledged.
    pub buf: SendBuffer,
    /// Sequence number of `buf`'s first byte.
    pub buf_seq: SeqNum,
    /// The application shut down sending: a FIN follows the queued data.
    pub fin_queued: bool,
}

impl SendSequence {
    /// Nothing sent yet; the first data byte will follow the SYN at `iss`.
    pub(crate) fn new(iss: SeqNum, buffer: usize) -> SendSequence {
        SendSequence {
            iss,
            una: iss,
            nxt: iss,
            max: iss,
            wnd: 0,
            max_wnd: 0,
            wl1: SeqNum(0),
            wl2: iss,
            wscale: 0,
            buf: SendBuffer::new(buffer),
            buf_seq: iss + 1,
            fin_queued: false,
        }
    }

    /// Sequence number just after the last queued byte (where the FIN goes).
    pub(crate) fn buf_end(&self) -> SeqNum {
        self.buf_seq + self.buf.len()
    }

    /// Bytes (and SYN/FIN) sent from SND.NXT's point of view but not acknowledged.
    pub(crate) fn flight(&self) -> usize {
        self.nxt - self.una
    }

    /// Has our FIN been sent (at least once)?
    pub(crate) fn fin_sent(&self) -> bool {
        self.fin_queued && self.max == self.buf_end() + 1
    }

    /// Has our FIN been acknowledged?
    pub(crate) fn fin_acked(&self) -> bool {
        self.fin_sent() && self.una == self.max
    }
}
