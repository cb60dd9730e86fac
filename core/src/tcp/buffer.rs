//! Send and receive buffers of one connection.
//!
//! The send buffer holds every byte from SND.UNA on: sent-but-unacknowledged first, then not yet sent, so a
//! retransmission re-reads the real bytes. The receive buffer holds in-order bytes the application has not
//! read, plus out-of-order segments (bounded) waiting for the gap before them to fill.

use super::byte_queue::{BlockPool, ByteQueue};
use super::seq::SeqNum;
use bytes::Bytes;
use std::collections::VecDeque;

/// Bytes queued for sending; offset 0 is the byte at SND.UNA.
///
/// Kept as the application's own buffers (chunks) rather than one ring: a `TcpSend` hands over its `Vec` and
/// [`Stack::tcp_write`](crate::Stack::tcp_write) a shared [`Bytes`], and the stack keeps either instead of
/// copying it, so payload bytes are copied once on their way out (chunk to frame). Small writes are appended to
/// the last chunk the stack owns, so chatty applications do not make a chunk per byte. The chunks exist only
/// while bytes are queued: an idle connection keeps one word here, not the queue.
#[derive(Debug)]
pub(crate) struct SendBuffer {
    queued: Option<Box<Chunks>>,
    cap: usize,
}

/// The bytes of a [`SendBuffer`] that has any.
#[derive(Debug, Default)]
struct Chunks {
    chunks: VecDeque<Chunk>,
    /// Bytes at the front of the first chunk that are already acknowledged.
    head: usize,
    len: usize,
}

/// One application write as the send buffer keeps it.
#[derive(Debug)]
pub(crate) enum Chunk {
    /// A `Vec` handed over by `TcpSend`: the stack owns it and appends small writes to it.
    Owned(Vec<u8>),
    /// A shared buffer handed over by `tcp_write`: kept as it is (a reference), never written to.
    Shared(Bytes),
}

impl Chunk {
    fn as_slice(&self) -> &[u8] {
        match self {
            Chunk::Owned(v) => v,
            Chunk::Shared(b) => b,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// Keeps the first `n` bytes.
    fn truncate(&mut self, n: usize) {
        match self {
            Chunk::Owned(v) => v.truncate(n),
            Chunk::Shared(b) => b.truncate(n),
        }
    }
}

impl From<Vec<u8>> for Chunk {
    fn from(bytes: Vec<u8>) -> Chunk {
        Chunk::Owned(bytes)
    }
}

impl From<Bytes> for Chunk {
    fn from(bytes: Bytes) -> Chunk {
        Chunk::Shared(bytes)
    }
}

/// Writes up to this size are copied into the last chunk instead of becoming a chunk of their own.
const SMALL_WRITE: usize = 4096;
/// A last chunk takes small writes until it holds this much.
const CHUNK_TARGET: usize = 64 * 1024;

impl SendBuffer {
    pub(crate) fn new(cap: usize) -> SendBuffer {
        SendBuffer { queued: None, cap }
    }

    pub(crate) fn len(&self) -> usize {
        self.queued.as_ref().map_or(0, |q| q.len)
    }

    pub(crate) fn capacity(&self) -> usize {
        self.cap
    }

    /// Raises the capacity (send autotuning); never shrinks it.
    pub(crate) fn grow_to(&mut self, cap: usize) {
        self.cap = self.cap.max(cap);
    }

    pub(crate) fn free(&self) -> usize {
        self.cap - self.len()
    }

    /// Appends as much of `bytes` as fits; returns how much.
    #[cfg(test)]
    pub(crate) fn push(&mut self, bytes: &[u8]) -> usize {
        self.push_chunk(bytes.to_vec())
    }

    /// Appends as much of `bytes` as fits, keeping the buffer itself where it can; returns how much.
    pub(crate) fn push_chunk(&mut self, bytes: impl Into<Chunk>) -> usize {
        let mut bytes = bytes.into();
        let n = bytes.len().min(self.free());
        if n == 0 {
            return 0;
        }
        let q = self.queued.get_or_insert_with(Box::default);
        q.len += n;
        if let Some(Chunk::Owned(last)) = q.chunks.back_mut() {
            if n <= SMALL_WRITE && last.len() + n <= CHUNK_TARGET {
                last.extend_from_slice(&bytes.as_slice()[..n]);
                return n;
            }
        }
        bytes.truncate(n);
        if let Chunk::Owned(v) = &mut bytes {
            if v.capacity() > 2 * n.max(SMALL_WRITE) {
                // Do not pin a mostly unused allocation for as long as the bytes wait for their ACK.
                v.shrink_to_fit();
            }
        }
        q.chunks.push_back(bytes);
        n
    }

    /// Forgets the first `n` bytes (they were acknowledged).
    pub(crate) fn ack(&mut self, n: usize) {
        let Some(q) = &mut self.queued else { return };
        let mut n = n.min(q.len);
        q.len -= n;
        if q.len == 0 {
            // All acknowledged: an idle connection keeps no queue memory.
            self.queued = None;
            return;
        }
        while n > 0 {
            let Some(first) = q.chunks.front() else { break };
            let left = first.len() - q.head;
            if n < left {
                q.head += n;
                return;
            }
            n -= left;
            q.head = 0;
            q.chunks.pop_front();
        }
    }

    /// Copies `out.len()` bytes starting `offset` bytes after SND.UNA into `out`. The caller keeps the range
    /// inside the buffer; anything outside it is left untouched rather than panicking.
    #[inline]
    pub(crate) fn copy_out(&self, offset: usize, out: &mut [u8]) {
        self.copy_out_with(offset, out, |from, to| to.copy_from_slice(from));
    }

    /// [`SendBuffer::copy_out`] that also returns the Internet checksum of the bytes (as
    /// [`checksum::data`](crate::wire::checksum::data) of `out` would), summed while they are copied; `None` if
    /// the range reached past the buffer (then `out` is not all written).
    pub(crate) fn copy_out_summed(&self, offset: usize, out: &mut [u8]) -> Option<u16> {
        let mut sum = crate::wire::checksum::CopySum::default();
        let written = self.copy_out_with(offset, out, |from, to| sum.copy(from, to));
        (written == out.len()).then_some(sum.sum())
    }

    /// Hands `copy` each queued piece of the range, in order, and the part of `out` it goes to; returns how many
    /// bytes of `out` were handed out.
    #[inline]
    fn copy_out_with(&self, offset: usize, out: &mut [u8], mut copy: impl FnMut(&[u8], &mut [u8])) -> usize {
        let Some(q) = &self.queued else { return 0 };
        let mut skip = q.head + offset;
        let mut written = 0;
        for chunk in &q.chunks {
            if written == out.len() {
                break;
            }
            let Some(rest) = chunk.as_slice().get(skip..) else {
                skip -= chunk.len();
                continue;
            };
            skip = 0;
            let n = rest.len().min(out.len() - written);
            copy(&rest[..n], &mut out[written..written + n]);
            written += n;
        }
        written
    }

    /// Chunks held (for tests: small writes share one).
    #[cfg(test)]
    fn chunk_count(&self) -> usize {
        self.queued.as_ref().map_or(0, |q| q.chunks.len())
    }
}

/// Received bytes not yet read by the application. The queues exist only while bytes are held: an idle
/// connection keeps one word here.
#[derive(Debug)]
pub(crate) struct RecvBuffer {
    held: Option<Box<Held>>,
    /// At most 1 GiB (`Config::validate`), so 32 bits hold it.
    cap: u32,
    /// Most out-of-order runs kept at once; more are dropped (the sender retransmits them). Saturates at
    /// `u32::MAX` runs, far past what memory holds.
    max_runs: u32,
}

/// A size kept in 32 bits, saturating (see the fields that use it).
fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The bytes of a [`RecvBuffer`] that holds any.
#[derive(Debug, Default)]
struct Held {
    /// In-order bytes; the last one is at RCV.NXT - 1. In blocks, so memory follows what is unread.
    data: ByteQueue,
    /// Out-of-order runs beyond RCV.NXT: (first sequence number, bytes), sorted, non-overlapping, non-adjacent.
    ooo: Vec<(SeqNum, Vec<u8>)>,
    ooo_bytes: usize,
    /// Arrivals that landed in the out-of-order runs reported before the latest one's, newest first: SACK
    /// blocks after the first repeat the runs reported most recently (RFC 2018 §4), as Linux keeps them.
    earlier: [Option<SeqNum>; 2],
}

impl RecvBuffer {
    pub(crate) fn new(cap: usize, max_runs: usize) -> RecvBuffer {
        RecvBuffer { held: None, cap: to_u32(cap), max_runs: to_u32(max_runs) }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.cap as usize
    }

    /// Raises the capacity (receive autotuning); never shrinks it.
    pub(crate) fn grow_to(&mut self, cap: usize) {
        self.cap = self.cap.max(to_u32(cap));
    }

    /// In-order bytes the application can read.
    pub(crate) fn readable(&self) -> usize {
        self.held.as_ref().map_or(0, |h| h.data.len())
    }

    /// Space after the in-order data: what the window may offer.
    pub(crate) fn free(&self) -> usize {
        self.capacity() - self.readable()
    }

    pub(crate) fn has_out_of_order(&self) -> bool {
        self.held.as_ref().is_some_and(|h| !h.ooo.is_empty())
    }

    /// Out-of-order data arrived at `latest`; the arrival before it was at `previous`. If that lies in another
    /// run, it becomes the most recent of the earlier reports (a run already among them moves to the front).
    pub(crate) fn note_out_of_order(&mut self, previous: SeqNum, latest: SeqNum) {
        let run = self.run_holding(previous);
        if run.is_none() || run == self.run_holding(latest) {
            return;
        }
        let older = self.earlier_out_of_order()[0].filter(|&e| self.run_holding(e) != run);
        if let Some(h) = &mut self.held {
            h.earlier = [Some(previous), older];
        }
    }

    /// The out-of-order run (start, end) that holds sequence number `at`, if one does.
    pub(crate) fn run_holding(&self, at: SeqNum) -> Option<(SeqNum, SeqNum)> {
        self.out_of_order_ranges().find(|&(s, e)| s <= at && at < e)
    }

    /// The arrivals `note_out_of_order` remembers, newest first (they may lie in no run any more).
    pub(crate) fn earlier_out_of_order(&self) -> [Option<SeqNum>; 2] {
        self.held.as_ref().map_or([None; 2], |h| h.earlier)
    }

    /// Out-of-order runs as (start, end) sequence ranges, lowest first.
    pub(crate) fn out_of_order_ranges(&self) -> impl Iterator<Item = (SeqNum, SeqNum)> + '_ {
        self.held.iter().flat_map(|h| h.ooo.iter().map(|(s, d)| (*s, *s + d.len())))
    }

    /// Reads up to `max` bytes; emptied blocks go back to `pool`.
    #[cfg(test)]
    pub(crate) fn read(&mut self, max: usize, pool: &mut BlockPool) -> Vec<u8> {
        let mut out = Vec::new();
        self.read_with(max, pool, |bytes| out.extend_from_slice(bytes));
        out
    }

    /// Reads up to `max` bytes by lending them to `f` where they lie (see `ByteQueue::read_with`).
    pub(crate) fn read_with(&mut self, max: usize, pool: &mut BlockPool, f: impl FnMut(&[u8])) -> usize {
        let Some(h) = &mut self.held else { return 0 };
        let n = h.data.read_with(max, pool, f);
        self.release_if_empty();
        n
    }

    /// Forgets bytes staged and not taken (their segment was dropped), so a queue that holds nothing else lets
    /// its memory go as an idle one does.
    pub(crate) fn unstage(&mut self, pool: &mut BlockPool) {
        if let Some(h) = &mut self.held {
            h.data.release_room(pool);
        }
        self.release_if_empty();
    }

    /// Lets the queues go once they hold nothing.
    fn release_if_empty(&mut self) {
        if self.held.as_ref().is_some_and(|h| h.data.len() == 0 && h.ooo.is_empty()) {
            self.held = None;
        }
    }

    /// Heap bytes the in-order data holds (for tests: memory follows what is queued).
    #[cfg(test)]
    pub(crate) fn allocated(&self) -> usize {
        self.held.as_ref().map_or(0, |h| h.data.allocated())
    }

    /// Copies `payload`, the next in-order bytes (it fits in `free`), past the in-order data without adding
    /// it, and returns its checksum (see `ByteQueue::stage_summed`). `insert` then adds it without a copy.
    pub(crate) fn stage(&mut self, payload: &[u8], pool: &mut BlockPool) -> u16 {
        self.held.get_or_insert_with(Box::default).data.stage_summed(payload, pool)
    }

    /// Stores `payload`, which starts at `seq`, given the current `rcv_nxt`. The caller has trimmed it to the
    /// window. `staged`: how many of its first bytes `stage` already wrote (they are taken as they lie).
    /// Returns how far RCV.NXT advances (in-order bytes added, including out-of-order runs it joined).
    pub(crate) fn insert(
        &mut self,
        rcv_nxt: SeqNum,
        seq: SeqNum,
        payload: &[u8],
        staged: usize,
        pool: &mut BlockPool,
    ) -> usize {
        if payload.is_empty() {
            return 0;
        }
        let cap = self.capacity();
        if seq == rcv_nxt {
            let room = self.free();
            let h = self.held.get_or_insert_with(Box::default);
            let take = payload.len().min(room);
            let staged = staged.min(take);
            h.data.commit(staged);
            h.data.extend(&payload[staged..take], pool);
            let mut next = rcv_nxt + take;
            let mut advanced = take;
            // Pull in out-of-order runs that are now contiguous (or overlap what we have).
            while h.ooo.first().is_some_and(|(start, _)| *start <= next) {
                let (start, bytes) = h.ooo.remove(0);
                h.ooo_bytes -= bytes.len();
                let skip = next - start;
                if skip < bytes.len() {
                    let rest = &bytes[skip..];
                    let take = rest.len().min(cap - h.data.len());
                    h.data.extend(&rest[..take], pool);
                    next = next + take;
                    advanced += take;
                }
            }
            self.release_if_empty(); // nothing taken (no room) and nothing waiting: nothing to hold
            return advanced;
        }
        // Out of order: keep it if there is room, merging with neighbours.
        let held = self.held.as_ref().map_or(0, |h| h.data.len() + h.ooo_bytes);
        if held + payload.len() > cap {
            return 0;
        }
        let max_runs = self.max_runs as usize;
        self.held.get_or_insert_with(Box::default).insert_ooo(seq, payload, max_runs);
        self.release_if_empty();
        0
    }
}

impl Held {
    fn insert_ooo(&mut self, seq: SeqNum, payload: &[u8], max_runs: usize) {
        let (mut start, mut end) = (seq, seq + payload.len());
        let mut merged: Vec<u8> = payload.to_vec();
        let mut i = 0;
        while i < self.ooo.len() {
            let (s, ref d) = self.ooo[i];
            let e = s + d.len();
            if e < start || s > end {
                i += 1;
                continue;
            }
            // Overlapping or adjacent: the union, preferring bytes already held. A run that starts first keeps
            // its buffer and grows at its end, so segments arriving in order behind a hole append to their run
            // instead of copying all of it again (a zero-filled copy per segment was quadratic in the run).
            let (_, mut run) = self.ooo.remove(i);
            self.ooo_bytes -= run.len();
            if s <= start {
                if end > e {
                    run.extend_from_slice(&merged[e - start..]);
                }
                merged = run;
                start = s;
            } else {
                let mut union = Vec::with_capacity(end.max(e) - start);
                union.extend_from_slice(&merged[..s - start]);
                union.extend_from_slice(&run);
                if end > e {
                    union.extend_from_slice(&merged[e - start..]);
                }
                merged = union;
            }
            end = end.max(e);
        }
        if self.ooo.len() >= max_runs {
            return;
        }
        let pos = self.ooo.iter().position(|(s, _)| *s > start).unwrap_or(self.ooo.len());
        self.ooo_bytes += merged.len();
        self.ooo.insert(pos, (start, merged));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// A copy summed in one pass is the plain copy, and its sum is the checksum of the bytes copied, whatever
        /// the chunks (odd lengths put later chunks at odd offsets) and wherever the range starts.
        #[test]
        fn a_summed_copy_is_a_copy_with_its_checksum(
            writes in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 1..700), 1..6),
            start in 0usize..2000,
            len in 0usize..3000,
        ) {
            let mut b = SendBuffer::new(1 << 20);
            for w in &writes {
                b.push_chunk(w.clone());
            }
            let start = start.min(b.len());
            let len = len.min(b.len() - start);
            let (mut plain, mut summed) = (vec![0; len], vec![0xa5; len]);
            b.copy_out(start, &mut plain);
            let sum = b.copy_out_summed(start, &mut summed);
            proptest::prop_assert_eq!(&summed, &plain);
            proptest::prop_assert_eq!(sum, Some(crate::wire::checksum::data(&plain)));
            // Past the end: not all written, no sum.
            let mut over = vec![0; len + 1];
            proptest::prop_assert_eq!(b.copy_out_summed(b.len() - len, &mut over), None);
        }
    }

    #[test]
    fn send_buffer_keeps_large_writes_and_merges_small_ones() {
        let mut b = SendBuffer::new(200_000);
        let big: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        assert_eq!(b.push_chunk(big.clone()), 100_000);
        for i in 0..50u8 {
            assert_eq!(b.push(&[i; 10]), 10);
        }
        // The big write is a chunk as it came; the small ones share one chunk after it.
        assert_eq!(b.chunk_count(), 2);
        assert_eq!(b.push_chunk(big.clone()), 99_500, "only what fits");
        assert_eq!(b.free(), 0);
        assert_eq!(b.chunk_count(), 3);
        // Reads that cross chunk boundaries, after acknowledging part of the first chunk.
        b.ack(99_990);
        let mut out = vec![0u8; 30];
        b.copy_out(0, &mut out);
        let mut want: Vec<u8> = big[99_990..].to_vec();
        want.extend_from_slice(&[0; 10]);
        want.extend_from_slice(&[1; 10]);
        assert_eq!(out, want);
        let mut out = vec![0u8; 5];
        b.copy_out(10 + 500, &mut out);
        assert_eq!(out, big[..5]);
        b.ack(10 + 500 + 99_500);
        assert_eq!((b.len(), b.chunk_count(), b.free()), (0, 0, 200_000));
        assert!(b.queued.is_none(), "an acknowledged buffer keeps no queue");
    }

    #[test]
    fn send_buffer_keeps_shared_writes_as_references() {
        let mut b = SendBuffer::new(100_000);
        let big = Bytes::from((0..60_000u32).map(|i| (i % 253) as u8).collect::<Vec<u8>>());
        assert_eq!(b.push_chunk(big.clone()), 60_000);
        assert!(!big.is_unique(), "kept as a reference, not copied");
        // A small write is never appended to a shared chunk: it starts an owned one, and small shared writes
        // are then copied into that.
        assert_eq!(b.push_chunk(vec![1u8; 10]), 10);
        assert_eq!(b.push_chunk(Bytes::from_static(&[2u8; 10])), 10);
        assert_eq!(b.chunk_count(), 2);
        // Only what fits, and the shared buffer is cut to it, not copied.
        assert_eq!(b.push_chunk(big.clone()), 39_980);
        assert_eq!(b.chunk_count(), 3);
        b.ack(59_995);
        let mut out = vec![0u8; 30];
        b.copy_out(0, &mut out);
        let mut want = big[59_995..].to_vec();
        want.extend_from_slice(&[1; 10]);
        want.extend_from_slice(&[2; 10]);
        want.extend_from_slice(&big[..5]);
        assert_eq!(out, want);
        b.ack(b.len());
        assert_eq!(b.chunk_count(), 0);
        assert!(big.is_unique(), "acknowledged: the references are gone");
    }

    #[test]
    fn send_buffer_copies_across_the_wrap() {
        let mut b = SendBuffer::new(8);
        assert_eq!(b.push(b"abcdefghij"), 8);
        b.ack(5);
        assert_eq!(b.push(b"XYZW"), 4);
        let mut out = [0u8; 7];
        b.copy_out(0, &mut out);
        assert_eq!(&out, b"fghXYZW");
        let mut out = [0u8; 3];
        b.copy_out(2, &mut out);
        assert_eq!(&out, b"hXY");
        let mut out = [0u8; 2];
        b.copy_out(5, &mut out);
        assert_eq!(&out, b"ZW");
        assert_eq!(b.free(), 1);
    }

    #[test]
    fn recv_buffer_reassembles_out_of_order_runs() {
        let mut pool = BlockPool::default();
        let mut r = RecvBuffer::new(100, 64);
        let base = SeqNum(u32::MAX - 5);
        assert_eq!(r.insert(base, base + 10, b"klmno", 0, &mut pool), 0);
        assert_eq!(r.insert(base, base + 20, b"uv", 0, &mut pool), 0);
        assert_eq!(r.insert(base, base + 12, b"mnopq", 0, &mut pool), 0); // overlaps and extends the first run
        assert_eq!(r.out_of_order_ranges().collect::<Vec<_>>(), vec![(base + 10, base + 17), (base + 20, base + 22)]);
        assert_eq!(r.insert(base, base, b"abcdefghij", 0, &mut pool), 17);
        assert_eq!(r.read(100, &mut pool), b"abcdefghijklmnopq");
        assert!(r.has_out_of_order());
        assert_eq!(r.insert(base + 17, base + 17, b"rst", 0, &mut pool), 5);
        assert_eq!(r.read(100, &mut pool), b"rstuv");
        assert!(!r.has_out_of_order());
    }

    /// Out-of-order segments of every overlap, in any order: each byte is the first one received for its
    /// position, exactly as a map of sequence numbers (the model) keeps them.
    #[test]
    fn recv_buffer_keeps_the_first_copy_of_every_out_of_order_byte() {
        let mut pool = BlockPool::default();
        let mut r = RecvBuffer::new(1 << 20, 1024);
        let base = SeqNum(u32::MAX - 3000);
        let mut model = std::collections::BTreeMap::new();
        let mut x: u64 = 7;
        for n in 0..600u32 {
            x = crate::seed::mix64(x);
            let (offset, len) = (1 + (x % 4000) as usize, 1 + (x >> 20) as usize % 300);
            let fill = (n % 251) as u8;
            assert_eq!(r.insert(base, base + offset, &vec![fill; len], 0, &mut pool), 0);
            for at in offset..offset + len {
                model.entry(at).or_insert(fill);
            }
        }
        let mut runs: Vec<(usize, Vec<u8>)> = Vec::new();
        for (&at, &byte) in &model {
            match runs.last_mut() {
                Some((start, bytes)) if *start + bytes.len() == at => bytes.push(byte),
                _ => runs.push((at, vec![byte])),
            }
        }
        let ranges: Vec<(SeqNum, SeqNum)> = runs.iter().map(|(s, b)| (base + *s, base + *s + b.len())).collect();
        assert_eq!(r.out_of_order_ranges().collect::<Vec<_>>(), ranges);
        // Fill the hole before the first run: everything up to the next hole becomes readable, byte for byte.
        let (first, bytes) = &runs[0];
        assert_eq!(r.insert(base, base, &vec![0xee; *first], 0, &mut pool), first + bytes.len());
        let mut want = vec![0xee; *first];
        want.extend_from_slice(bytes);
        assert_eq!(r.read(usize::MAX, &mut pool), want);
    }

    #[test]
    fn recv_buffer_respects_capacity() {
        let mut pool = BlockPool::default();
        let mut r = RecvBuffer::new(4, 64);
        assert_eq!(r.insert(SeqNum(0), SeqNum(0), b"abcdef", 0, &mut pool), 4);
        assert_eq!(r.free(), 0);
        assert_eq!(r.insert(SeqNum(4), SeqNum(6), b"x", 0, &mut pool), 0);
        assert!(!r.has_out_of_order());
        assert_eq!(r.read(2, &mut pool), b"ab");
        assert_eq!(r.free(), 2);
    }

    #[test]
    fn recv_buffer_frees_what_was_read() {
        let mut pool = BlockPool::default();
        let mut r = RecvBuffer::new(256 * 1024, 64);
        let mut seq = SeqNum(1);
        for _ in 0..100 {
            seq = seq + r.insert(seq, seq, &[9u8; 1460], 0, &mut pool);
        }
        assert!(r.allocated() >= 146_000);
        assert_eq!(r.read(usize::MAX, &mut pool).len(), 146_000);
        assert_eq!(r.allocated(), 0, "a drained buffer keeps no memory");
        assert!(r.held.is_none(), "nor its queues");
        // Nothing taken into a full (here: zero-sized) buffer makes no queues either.
        let mut full = RecvBuffer::new(0, 64);
        assert_eq!(full.insert(SeqNum(1), SeqNum(1), b"x", 0, &mut pool), 0);
        assert!(full.held.is_none());
    }
}
