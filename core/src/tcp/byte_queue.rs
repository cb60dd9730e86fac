//! A FIFO of bytes kept in fixed-size blocks, so its memory follows what it holds.
//!
//! A receive buffer kept as one ring keeps its largest size for as long as the connection lives: a connection
//! that once took a burst of 256 KiB holds 256 KiB while idle, and in TIME-WAIT. Here a block goes back as soon
//! as its last byte is read, so an idle or closed connection holds no buffer memory at all (as Linux, whose
//! receive memory is the queued packets). Emptied blocks wait in the stack's [`BlockPool`] for the next
//! connection that receives: a bulk transfer then cycles the same few blocks instead of asking the allocator
//! for 16 KiB every eleven segments (glibc's malloc answers that by trimming and re-growing its heap).

use crate::wire::checksum;
use std::collections::VecDeque;

/// Bytes per block: large enough that a bulk transfer allocates rarely (one block per ~11 full-sized segments),
/// small enough that the slack of a nearly empty queue stays small.
const BLOCK: usize = 16 * 1024;

/// Emptied blocks kept for reuse, shared by every connection of a stack.
#[derive(Debug, Default)]
pub(crate) struct BlockPool {
    free: Vec<Vec<u8>>,
}

/// Most blocks a pool keeps (4 MiB): what a few fast receivers cycle; more go back to the allocator.
const POOL_MAX: usize = 256;

impl BlockPool {
    /// A block: a kept one, or a new one, zeroed once when the allocator hands it out (bytes are then written
    /// into it in place, as many times as it goes round).
    fn take(&mut self) -> Vec<u8> {
        self.free.pop().unwrap_or_else(|| vec![0; BLOCK])
    }

    fn give(&mut self, block: Vec<u8>) {
        if self.free.len() < POOL_MAX {
            self.free.push(block);
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct ByteQueue {
    /// Blocks of `BLOCK` bytes, filled in order from `head`: the queue's bytes are the `len` after it, across
    /// blocks. Bytes written past them (staged, see `stage_summed`) and blocks past the last byte are room,
    /// not data.
    blocks: VecDeque<Vec<u8>>,
    /// Bytes of the first block already read.
    head: usize,
    len: usize,
}

impl ByteQueue {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Heap bytes held by the blocks (what the queue costs, as opposed to what it holds).
    #[cfg(test)]
    pub(crate) fn allocated(&self) -> usize {
        self.blocks.iter().map(Vec::capacity).sum()
    }

    /// Appends all of `bytes`.
    pub(crate) fn extend(&mut self, bytes: &[u8], pool: &mut BlockPool) {
        self.write_past_end(bytes, pool, |src, dst| dst.copy_from_slice(src));
        self.len += bytes.len();
    }

    /// Writes `bytes` just past the queue's end without adding them, and returns their checksum (what
    /// [`checksum::data`] of them gives): the copy a received segment's payload needs anyway also verifies it
    /// (Linux's csum-and-copy), before the segment may change anything. [`ByteQueue::commit`] then adds them,
    /// or they stay room for whatever is written next.
    pub(crate) fn stage_summed(&mut self, bytes: &[u8], pool: &mut BlockPool) -> u16 {
        let mut sum = checksum::CopySum::default();
        self.write_past_end(bytes, pool, |src, dst| sum.copy(src, dst));
        sum.sum()
    }

    /// Gives the blocks back to `pool` if the queue holds no bytes (what was staged and not added goes too).
    pub(crate) fn release_room(&mut self, pool: &mut BlockPool) {
        if self.len == 0 {
            for spent in core::mem::take(&mut self.blocks) {
                pool.give(spent);
            }
            self.head = 0;
        }
    }

    /// Adds the first `n` bytes staged by [`ByteQueue::stage_summed`] to the queue.
    pub(crate) fn commit(&mut self, n: usize) {
        self.len += n;
    }

    /// Writes `bytes` after the last byte, block by block (taking blocks from `pool` as needed), through
    /// `write(source piece, destination piece)`.
    fn write_past_end(&mut self, mut bytes: &[u8], pool: &mut BlockPool, mut write: impl FnMut(&[u8], &mut [u8])) {
        let mut at = self.head + self.len;
        while !bytes.is_empty() {
            let (index, offset) = (at / BLOCK, at % BLOCK);
            while self.blocks.len() <= index {
                self.blocks.push_back(pool.take());
            }
            let Some(block) = self.blocks.get_mut(index) else {
                return; // never: the block was just made sure of
            };
            let n = bytes.len().min(BLOCK - offset);
            write(&bytes[..n], &mut block[offset..offset + n]);
            at += n;
            bytes = &bytes[n..];
        }
    }

    /// Removes the first `n` bytes (at most `len`) and returns them.
    #[cfg(test)]
    pub(crate) fn read(&mut self, n: usize, pool: &mut BlockPool) -> Vec<u8> {
        let mut out = Vec::with_capacity(n.min(self.len));
        self.read_with(n, pool, |bytes| out.extend_from_slice(bytes));
        out
    }

    /// Removes the first `n` bytes (at most `len`), lending them to `f` as the blocks' own slices, in order
    /// (one call per block touched): the application sees the bytes where they already are, with no copy.
    /// Returns how many bytes went.
    pub(crate) fn read_with(&mut self, n: usize, pool: &mut BlockPool, mut f: impl FnMut(&[u8])) -> usize {
        let n = n.min(self.len);
        let mut done = 0;
        while done < n {
            let Some(first) = self.blocks.front() else {
                break; // never: `len` counts the bytes in the blocks
            };
            let take = (n - done).min(BLOCK - self.head);
            f(&first[self.head..self.head + take]);
            done += take;
            self.head += take;
            self.len -= take;
            if self.head == BLOCK {
                // Read to its end (only a full block can be: a partial one is the last, emptied below).
                if let Some(spent) = self.blocks.pop_front() {
                    pool.give(spent);
                }
                self.head = 0;
            }
        }
        // Nothing left: the last block goes too, and the next byte starts a fresh one.
        self.release_room(pool);
        done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_come_out_in_order_across_blocks() {
        let (mut q, mut pool) = (ByteQueue::default(), BlockPool::default());
        let data: Vec<u8> = (0..3 * BLOCK as u32 + 123).map(|i| (i % 251) as u8).collect();
        let mut fed = 0;
        let mut got = Vec::new();
        // Uneven writes and reads, so both cross block boundaries in every position.
        for (i, size) in [1usize, 1460, 7, BLOCK, 65_000, 3].iter().cycle().enumerate() {
            if fed < data.len() {
                let n = (*size).min(data.len() - fed);
                q.extend(&data[fed..fed + n], &mut pool);
                fed += n;
            }
            got.extend(q.read([5000, 1, BLOCK + 1, 20_000][i % 4], &mut pool));
            assert_eq!(q.len(), fed - got.len());
            if got.len() == data.len() {
                break;
            }
        }
        assert_eq!(got, data);
    }

    #[test]
    fn lent_slices_are_the_blocks_in_order() {
        let (mut q, mut pool) = (ByteQueue::default(), BlockPool::default());
        let data: Vec<u8> = (0..2 * BLOCK as u32 + 500).map(|i| (i % 253) as u8).collect();
        q.extend(&data, &mut pool);
        let mut sizes = Vec::new();
        let mut got = Vec::new();
        assert_eq!(q.read_with(100, &mut pool, |b| got.extend_from_slice(b)), 100);
        let n = q.read_with(usize::MAX, &mut pool, |b| {
            sizes.push(b.len());
            got.extend_from_slice(b);
        });
        assert_eq!(n, data.len() - 100);
        // One slice per block: the rest of the first, the whole second, the part-filled third.
        assert_eq!(sizes, [BLOCK - 100, BLOCK, 500]);
        assert_eq!(got, data);
        assert_eq!((q.len(), q.allocated(), pool.free.len()), (0, 0, 3));
        assert_eq!(q.read_with(10, &mut pool, |_| panic!("nothing to lend")), 0);
    }

    #[test]
    fn memory_follows_what_is_queued() {
        let (mut q, mut pool) = (ByteQueue::default(), BlockPool::default());
        q.extend(&vec![7u8; 100_000], &mut pool);
        assert_eq!(q.allocated(), 7 * BLOCK);
        assert_eq!(q.read(2 * BLOCK + 5, &mut pool).len(), 2 * BLOCK + 5);
        assert_eq!((q.allocated(), pool.free.len()), (5 * BLOCK, 2));
        assert_eq!(q.read(usize::MAX, &mut pool).len(), 100_000 - 2 * BLOCK - 5);
        assert_eq!((q.len(), q.allocated(), pool.free.len()), (0, 0, 7));
        // A fresh start after emptying: the head is back at the start of a block, taken from the pool.
        q.extend(b"abc", &mut pool);
        assert_eq!(pool.free.len(), 6);
        assert_eq!(q.read(10, &mut pool), b"abc");
        assert_eq!(q.read(10, &mut pool), b"");
    }

    #[test]
    fn the_pool_keeps_a_bounded_number_of_blocks() {
        let (mut q, mut pool) = (ByteQueue::default(), BlockPool::default());
        q.extend(&vec![1u8; (POOL_MAX + 10) * BLOCK], &mut pool);
        q.read(usize::MAX, &mut pool);
        assert_eq!(pool.free.len(), POOL_MAX);
        // Kept whole: a block is written in place, never grown again.
        assert!(pool.free.iter().all(|b| b.len() == BLOCK));
    }

    #[test]
    fn staged_bytes_are_summed_and_added_only_when_committed() {
        let (mut q, mut pool) = (ByteQueue::default(), BlockPool::default());
        q.extend(&[5u8; BLOCK - 3], &mut pool);
        // Across a block boundary at an odd offset into the staged bytes: the pieces' sums still add up.
        let bytes: Vec<u8> = (0..1460u32).map(|i| (i * 7 + 1) as u8).collect();
        assert_eq!(q.stage_summed(&bytes, &mut pool), checksum::data(&bytes));
        assert_eq!(q.len(), BLOCK - 3);
        q.commit(1000);
        assert_eq!(q.len(), BLOCK - 3 + 1000);
        // What was staged and not committed is room: the next write goes over it.
        q.stage_summed(b"never added", &mut pool);
        q.extend(b"xyz", &mut pool);
        let out = q.read(usize::MAX, &mut pool);
        assert_eq!(&out[BLOCK - 3..], [&bytes[..1000], b"xyz"].concat());
        // Staged into an empty queue and never added: the blocks go back to the pool.
        let pooled = pool.free.len();
        q.stage_summed(&bytes, &mut pool);
        assert_eq!((q.len(), q.allocated()), (0, BLOCK));
        q.release_room(&mut pool);
        assert_eq!((q.allocated(), pool.free.len()), (0, pooled));
    }

    proptest::proptest! {
        /// Writes, staged writes committed in part or abandoned, and reads, against a plain deque of bytes.
        #[test]
        fn staged_writes_keep_the_queue_a_fifo(ops in proptest::collection::vec((0u8..4, 0usize..40_000, 0usize..40_000), 1..40)) {
            let (mut q, mut pool) = (ByteQueue::default(), BlockPool::default());
            let mut model = VecDeque::new();
            let mut next = 0u8;
            for (op, n, k) in ops {
                let bytes: Vec<u8> = (0..n).map(|_| { next = next.wrapping_mul(31).wrapping_add(17); next }).collect();
                match op {
                    0 => {
                        q.extend(&bytes, &mut pool);
                        model.extend(&bytes);
                    }
                    1 | 2 => {
                        proptest::prop_assert_eq!(q.stage_summed(&bytes, &mut pool), checksum::data(&bytes));
                        if op == 1 {
                            let keep = k.min(n);
                            q.commit(keep);
                            model.extend(&bytes[..keep]);
                        }
                    }
                    _ => {
                        let got = q.read(k, &mut pool);
                        let want: Vec<u8> = model.drain(..k.min(model.len())).collect();
                        proptest::prop_assert_eq!(got, want);
                    }
                }
                proptest::prop_assert_eq!(q.len(), model.len());
            }
            let rest: Vec<u8> = model.into_iter().collect();
            proptest::prop_assert_eq!(q.read(usize::MAX, &mut pool), rest);
        }
    }
}
