//! The receive sequence space (RFC 9293 §3.3.1): what the peer sent us, the window we advertise (with receiver
//! silly-window avoidance) and the SACK blocks that describe what arrived out of order.

use super::autotune::RecvAutotune;
use super::buffer::RecvBuffer;
use super::seq::SeqNum;

#[derive(Debug)]
pub(crate) struct RecvSequence {
    /// Initial receive sequence number.
    pub irs: SeqNum,
    pub nxt: SeqNum,
    /// Our window scale shift (applied to windows we advertise).
    pub wscale: u8,
    /// Right edge of the window we last advertised; it never moves left.
    pub adv_edge: SeqNum,
    pub buf: RecvBuffer,
    /// Receive-buffer autotuning state, when `TcpConfig::recv_buffer_max` allows growth.
    pub tune: Option<Box<RecvAutotune>>,
    /// The peer's FIN has been received (in order).
    pub fin_received: bool,
    /// A FIN seen beyond a gap: its sequence number.
    pub pending_fin: Option<SeqNum>,
    /// The most recent out-of-order segment, reported first in our SACK blocks.
    pub last_out_of_order: Option<SeqNum>,
}

impl RecvSequence {
    /// Nothing received yet (the peer's SYN sets IRS).
    pub(crate) fn new(buf: RecvBuffer, tune: Option<Box<RecvAutotune>>, wscale: u8) -> RecvSequence {
        RecvSequence {
            irs: SeqNum(0),
            nxt: SeqNum(0),
            wscale,
            adv_edge: SeqNum(0),
            buf,
            tune,
            fin_received: false,
            pending_fin: None,
            last_out_of_order: None,
        }
    }

    /// The peer's SYN at `irs` arrived: the next byte expected follows it.
    pub(crate) fn synchronize(&mut self, irs: SeqNum) {
        self.irs = irs;
        self.nxt = irs + 1;
        self.adv_edge = self.nxt;
    }

    /// The receive window we may accept data into: up to the edge we advertised.
    pub(crate) fn window(&self) -> usize {
        self.adv_edge - self.nxt
    }

    /// Moves the advertised right edge if the buffer allows, with receiver SWS avoidance (RFC 9293 §3.8.6.2.2):
    /// the edge only advances by at least min(buffer/2, MSS). Returns the window field to put on the wire.
    pub(crate) fn advertise_window(&mut self, in_syn: bool, mss: usize) -> u16 {
        let potential = self.nxt + self.buf.free();
        let step = (self.buf.capacity() / 2).min(mss).max(1);
        if potential - self.adv_edge >= step || self.adv_edge < self.nxt {
            self.adv_edge = potential;
        }
        let wnd = self.window();
        if in_syn {
            // RFC 7323 §2.2: the window in a SYN is never scaled.
            let w = wnd.min(usize::from(u16::MAX));
            self.adv_edge = self.nxt + w;
            return w as u16;
        }
        (wnd >> self.wscale).min(usize::from(u16::MAX)) as u16
    }

    /// After the application read: is a window update worth a segment of its own? Like Linux, only when the
    /// window at least doubles (a reader keeping up sends none), or when it reopens from below one segment —
    /// and always subject to receiver SWS avoidance (the edge must move by min(buffer/2, MSS)).
    pub(crate) fn window_update_worthwhile(&self, mss: usize) -> bool {
        let free = self.buf.free();
        let advertised = self.window();
        let edge_moves = (self.nxt + free) - self.adv_edge;
        let sws_step = (self.buf.capacity() / 2).min(mss).max(1);
        edge_moves >= sws_step && (free >= 2 * advertised || advertised < mss)
    }

    /// RFC 2018 §4: up to four out-of-order runs, the one holding the latest segment first.
    pub(crate) fn sack_blocks(&self) -> [Option<(SeqNum, SeqNum)>; 4] {
        let mut blocks = [None; 4];
        let latest = self.last_out_of_order;
        let first = self.buf.out_of_order_ranges().find(|(s, e)| latest.is_some_and(|l| *s <= l && l < *e));
        let rest = self.buf.out_of_order_ranges().filter(|r| Some(*r) != first);
        for (slot, block) in blocks.iter_mut().zip(first.into_iter().chain(rest)) {
            *slot = Some(block);
        }
        blocks
    }
}
