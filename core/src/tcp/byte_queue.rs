//! A FIFO of bytes kept in fixed-size blocks, so its memory follows what it holds.
//!
//! A receive buffer kept as one ring keeps its largest size for as long as the connection lives: a connection
//! that once took a burst of 256 KiB holds 256 KiB while idle, and in TIME-WAIT. Here a block goes back as soon
//! as its last byte is read, so an idle or closed connection holds no buffer memory at all (as Linux, whose
//! receive memory is the queued packets). Emptied blocks wait in the stack's [`BlockPool`] for the next
//! connection that receives: a bulk transfer then cycles the same few blocks instead of asking the allocator
//! for 16 KiB every eleven segments (glibc's malloc answers that by trimming and re-growing its heap).

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
    fn take(&mut self) -> Vec<u8> {
        self.free.pop().unwrap_or_else(|| Vec::with_capacity(BLOCK))
    }

    fn give(&mut self, mut block: Vec<u8>) {
        if self.free.len() < POOL_MAX {
            block.clear();
            self.free.push(block);
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct ByteQueue {
    /// Blocks of `BLOCK` bytes' capacity, filled in order (every block but the last is full); a block's
    /// length is how much of it was written, so a new block is never zeroed first.
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
    pub(crate) fn extend(&mut self, mut bytes: &[u8], pool: &mut BlockPool) {
        while !bytes.is_empty() {
            if self.blocks.back().is_none_or(|b| b.len() >= BLOCK) {
                self.blocks.push_back(pool.take());
            }
            let Some(last) = self.blocks.back_mut() else {
                return; // never: a block was just made sure of
            };
            let n = bytes.len().min(BLOCK - last.len());
            last.extend_from_slice(&bytes[..n]);
            self.len += n;
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
            let take = (n - done).min(first.len() - self.head);
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
        if self.len == 0 {
            // Nothing left: the last block goes too, and the next byte starts a fresh one.
            for spent in core::mem::take(&mut self.blocks) {
                pool.give(spent);
            }
            self.head = 0;
        }
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
        assert!(pool.free.iter().all(|b| b.is_empty() && b.capacity() >= BLOCK));
    }
}
