//! The receive sequence space (RFC 9293 §3.3.1): what the peer sent us, the window we advertise (with receiver
//! silly-window avoidance) and the SACK blocks that describe what arrived out of order.

use super::autotune::RecvAutotune;
use super::buffer::RecvBuffer;
use super::byte_queue::BlockPool;
use super::flags::Flags;
use super::seq::SeqNum;
use crate::time::Instant;

#[derive(Debug)]
pub(crate) struct RecvSequence {
    /// Initial receive sequence number.
    irs: SeqNum,
    nxt: SeqNum,
    /// Our window scale shift (applied to windows we advertise).
    wscale: u8,
    /// Right edge of the window we last advertised; it never moves left.
    adv_edge: SeqNum,
    buf: RecvBuffer,
    /// Receive-buffer autotuning state, when `TcpConfig::recv_buffer_max` allows growth.
    tune: Option<Box<RecvAutotune>>,
    /// The peer's FIN has been received (in order).
    fin_received: bool,
    /// A FIN seen beyond a gap: its sequence number (if `marked` has `FIN_PENDING`).
    pending_fin: SeqNum,
    /// The most recent out-of-order segment, reported first in our SACK blocks (if `OUT_OF_ORDER`).
    last_out_of_order: SeqNum,
    /// RFC 2883 D-SACK: data that arrived again, reported once in the first SACK block of the next ACK (if
    /// `DUPLICATE`).
    duplicate: (SeqNum, SeqNum),
    /// Which of the three above are set: sequence numbers have no spare value, so three `Option`s would take
    /// 28 bytes of every connection instead of these 17.
    marked: Flags,
}

/// Bits of `RecvSequence::marked`.
const FIN_PENDING: u8 = 1;
const OUT_OF_ORDER: u8 = 2;
const DUPLICATE: u8 = 4;

impl RecvSequence {
    fn pending_fin(&self) -> Option<SeqNum> {
        self.marked.has(FIN_PENDING).then_some(self.pending_fin)
    }
    fn last_out_of_order(&self) -> Option<SeqNum> {
        self.marked.has(OUT_OF_ORDER).then_some(self.last_out_of_order)
    }
    fn set_duplicate(&mut self, range: (SeqNum, SeqNum)) {
        self.duplicate = range;
        self.marked.set(DUPLICATE, true);
    }
    fn take_duplicate(&mut self) -> Option<(SeqNum, SeqNum)> {
        self.marked.take(DUPLICATE).then_some(self.duplicate)
    }
}

/// What taking in a data segment did.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Accepted {
    /// Bytes RCV.NXT moved (the segment and any out-of-order data it joined).
    pub advanced: usize,
    /// The receive buffer had nothing to read before.
    pub was_empty: bool,
    /// Out of order, filling a gap, or not all of it fitted: the sender needs to hear at once.
    pub urgent: bool,
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
            pending_fin: SeqNum(0),
            last_out_of_order: SeqNum(0),
            duplicate: (SeqNum(0), SeqNum(0)),
            marked: Flags::NONE,
        }
    }

    pub(crate) fn irs(&self) -> SeqNum {
        self.irs
    }
    pub(crate) fn nxt(&self) -> SeqNum {
        self.nxt
    }
    pub(crate) fn wscale(&self) -> u8 {
        self.wscale
    }
    pub(crate) fn adv_edge(&self) -> SeqNum {
        self.adv_edge
    }
    pub(crate) fn buf(&self) -> &RecvBuffer {
        &self.buf
    }
    pub(crate) fn fin_received(&self) -> bool {
        self.fin_received
    }

    /// The peer's SYN at `irs` arrived: the next byte expected follows it.
    pub(crate) fn synchronize(&mut self, irs: SeqNum) {
        self.irs = irs;
        self.nxt = irs + 1;
        self.adv_edge = self.nxt;
    }

    /// A SYN cookie's final ACK at `seq`: the SYN was at `seq - 1`, and our SYN-ACK offered `window` bytes,
    /// unscaled (the cookie could not carry window scaling).
    pub(crate) fn synchronize_from_cookie(&mut self, seq: SeqNum, window: usize) {
        self.synchronize(seq - 1);
        self.wscale = 0;
        self.adv_edge = self.nxt + window;
    }

    /// Back to before the peer's SYN (a crossed SYN turned out bogus); `wscale` is what our SYN offers again.
    pub(crate) fn unsynchronize(&mut self, wscale: u8) {
        self.irs = SeqNum(0);
        self.nxt = SeqNum(0);
        self.adv_edge = SeqNum(0);
        self.wscale = wscale;
    }

    /// Our window scale shift: what our SYN offers, or 0 when the peer's SYN did not offer scaling.
    pub(crate) fn set_wscale(&mut self, shift: u8) {
        self.wscale = shift;
    }

    /// Copies `payload`, the next bytes in order, into the buffer without taking them in, and returns its
    /// checksum (`RecvBuffer::stage`); `accept` then takes them as they lie.
    pub(crate) fn stage(&mut self, payload: &[u8], blocks: &mut BlockPool) -> u16 {
        self.buf.stage(payload, blocks)
    }

    /// Forgets bytes `stage` copied whose segment did not add them (`RecvBuffer::unstage`).
    pub(crate) fn unstage(&mut self, blocks: &mut BlockPool) {
        self.buf.unstage(blocks);
    }

    /// Takes in `payload` at `seq` (trimmed to the window by the caller), of which the first `staged` bytes are
    /// in the buffer already (`RecvBuffer::stage`).
    pub(crate) fn accept(&mut self, seq: SeqNum, payload: &[u8], staged: usize, blocks: &mut BlockPool) -> Accepted {
        let was_empty = self.buf.readable() == 0;
        let in_order = seq == self.nxt;
        let previous = if in_order { None } else { self.last_out_of_order() };
        if !in_order {
            self.last_out_of_order = seq;
            self.marked.set(OUT_OF_ORDER, true);
            // RFC 2883 §4 case 3: out-of-order data we already hold is reported too, with the block holding it
            // next (it is the latest, so it comes right after the D-SACK).
            let end = seq + payload.len();
            if !payload.is_empty() && self.buf.run_holding(seq).is_some_and(|(_, e)| end <= e) {
                self.set_duplicate((seq, end));
            }
        }
        let had_gap = self.buf.has_out_of_order();
        let advanced = self.buf.insert(self.nxt, seq, payload, staged, blocks);
        self.nxt = self.nxt + advanced;
        if let Some(previous) = previous {
            self.buf.note_out_of_order(previous, seq);
        }
        Accepted { advanced, was_empty, urgent: !in_order || had_gap || advanced < payload.len() }
    }

    /// A FIN at `seq` arrived (perhaps beyond a gap).
    pub(crate) fn note_fin(&mut self, seq: SeqNum) {
        self.pending_fin = seq;
        self.marked.set(FIN_PENDING, true);
    }

    /// If the FIN noted is next in sequence, it is received now (RCV.NXT moves past it): returns whether it was.
    pub(crate) fn take_fin(&mut self) -> bool {
        if self.pending_fin() != Some(self.nxt) || self.fin_received {
            return false;
        }
        self.marked.set(FIN_PENDING, false);
        self.nxt = self.nxt + 1;
        self.fin_received = true;
        true
    }

    /// The application reads up to `max` bytes where they lie, lent to `f`.
    pub(crate) fn read_with(&mut self, max: usize, blocks: &mut BlockPool, f: impl FnMut(&[u8])) -> usize {
        self.buf.read_with(max, blocks, f)
    }

    /// In-order data arrived (RCV.NXT moved): receive autotuning times how long a whole buffer's worth takes
    /// to arrive (the window still open now may be nearly closed, which would time nothing).
    pub(crate) fn note_in_order_data(&mut self, now: Instant) {
        let (nxt, wnd) = (self.nxt, self.buf.capacity());
        if let Some(t) = &mut self.tune {
            t.on_data(nxt, wnd, now);
        }
    }

    /// The application read `n` bytes: with autotuning, the receive buffer grows if the window held the
    /// sender back (never past `limit`, nor what the window scale can advertise). Returns whether it grew.
    pub(crate) fn autotune_after_read(&mut self, n: usize, mss: usize, limit: usize, now: Instant) -> bool {
        let Some(t) = &mut self.tune else { return false };
        let limit = limit.min(usize::from(u16::MAX) << self.wscale);
        match t.on_read(n, mss, self.buf.capacity(), limit, now) {
            Some(size) => {
                self.buf.grow_to(size);
                true
            }
            None => false,
        }
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

    /// Bytes `start..end` (below RCV.NXT) arrived again: the next ACK reports them (RFC 2883), so the sender
    /// learns that its retransmission was needless.
    pub(crate) fn note_duplicate(&mut self, start: SeqNum, end: SeqNum) {
        if start < end {
            self.set_duplicate((start, end));
        }
    }

    /// Is there anything for SACK blocks to say?
    pub(crate) fn has_sack_news(&self) -> bool {
        self.marked.has(DUPLICATE) || self.buf.has_out_of_order()
    }

    /// How many SACK blocks an ACK sent now has to report (a D-SACK and the out-of-order runs; at most four).
    pub(crate) fn sack_blocks_owed(&self) -> usize {
        let runs = self.buf.out_of_order_ranges().take(4).count();
        (usize::from(self.marked.has(DUPLICATE)) + runs).min(4)
    }

    /// RFC 2018 §4: up to `limit` (at most four) blocks: a D-SACK first if data arrived twice (RFC 2883 §4,
    /// reported once: it is taken, unless no block fits), then the out-of-order runs, the one holding the latest
    /// segment first.
    pub(crate) fn take_sack_blocks(&mut self, limit: usize) -> [Option<(SeqNum, SeqNum)>; 4] {
        let mut blocks = [None; 4];
        if limit == 0 {
            return blocks;
        }
        let dsack = self.take_duplicate();
        let latest = self.last_out_of_order();
        let run_of = |at: Option<SeqNum>| at.and_then(|a| self.buf.run_holding(a));
        // The run the latest segment landed in, then the runs reported most recently (RFC 2018 §4), then the
        // rest, lowest first.
        let [earlier, older] = self.buf.earlier_out_of_order();
        let mut recent = [run_of(latest), run_of(earlier), run_of(older)];
        for i in 1..recent.len() {
            if recent[..i].contains(&recent[i]) {
                recent[i] = None;
            }
        }
        let rest = self.buf.out_of_order_ranges().filter(|r| !recent.contains(&Some(*r)));
        let reported = dsack.into_iter().chain(recent.into_iter().flatten()).chain(rest).take(limit);
        for (slot, block) in blocks.iter_mut().zip(reported) {
            *slot = Some(block);
        }
        blocks
    }
}
