//! Tail drop: a FIFO that refuses a frame that does not fit.

use super::{Discipline, Fifo, Limit, QueueCx, Queued};

#[derive(Debug)]
pub struct TailDrop {
    fifo: Fifo,
    limit: Limit,
}

impl TailDrop {
    pub fn new(limit: Limit) -> TailDrop {
        TailDrop { fifo: Fifo::default(), limit }
    }
}

impl Discipline for TailDrop {
    fn enqueue(&mut self, frame: Queued, cx: &mut QueueCx<'_>) -> Result<(), Queued> {
        if !self.limit.admits(self.fifo.bytes(), self.fifo.len(), frame.bytes.len()) {
            cx.stats.drop("full");
            return Err(frame);
        }
        self.fifo.push(frame);
        Ok(())
    }
    fn dequeue(&mut self, _cx: &mut QueueCx<'_>) -> Option<Queued> {
        self.fifo.pop()
    }
    fn name(&self) -> &'static str {
        "tail_drop"
    }
    fn backlog(&self) -> (usize, usize) {
        (self.fifo.bytes(), self.fifo.len())
    }
}
