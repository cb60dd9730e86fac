//! A first-in first-out queue of frames that knows its size in bytes: the building block of every discipline.

use std::collections::VecDeque;
use synack::Instant;

/// A frame waiting in a queue, with the time it arrived (for sojourn times, CoDel's measure).
#[derive(Debug)]
pub struct Queued {
    pub bytes: Vec<u8>,
    pub enqueued: Instant,
}

#[derive(Debug, Default)]
pub struct Fifo {
    frames: VecDeque<Queued>,
    bytes: usize,
}

impl Fifo {
    pub fn push(&mut self, q: Queued) {
        self.bytes += q.bytes.len();
        self.frames.push_back(q);
    }
    pub fn pop(&mut self) -> Option<Queued> {
        let q = self.frames.pop_front()?;
        self.bytes -= q.bytes.len();
        Some(q)
    }
    pub fn bytes(&self) -> usize {
        self.bytes
    }
    pub fn len(&self) -> usize {
        self.frames.len()
    }
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }
}
