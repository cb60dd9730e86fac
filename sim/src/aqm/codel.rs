//! CoDel (RFC 8289): drops (or marks) at dequeue when frames have waited longer than `target` for at least
//! `interval`, then ever faster by the control law `next = t + interval / sqrt(count)` until the sojourn time
//! falls below `target` again. [`CoDelState`] is the per-queue state machine FQ-CoDel runs on each flow.

use super::{Discipline, Fifo, Limit, QueueCx, Queued};
use std::time::Duration;
use synack::Instant;

/// A queue shorter than one full-size frame is never judged standing (RFC 8289 §4.2 `maxpacket`).
const MAX_PACKET: usize = 1514;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CoDelParams {
    pub target: Duration,
    pub interval: Duration,
}

impl Default for CoDelParams {
    /// RFC 8289's values for the Internet: 5 ms and 100 ms.
    fn default() -> CoDelParams {
        CoDelParams { target: Duration::from_millis(5), interval: Duration::from_millis(100) }
    }
}

/// CoDel's state for one queue (RFC 8289 §5).
#[derive(Clone, Debug, Default)]
pub struct CoDelState {
    /// When the sojourn time will have been above target for an interval (`None`: below target).
    first_above: Option<Instant>,
    drop_next: Instant,
    count: u32,
    last_count: u32,
    dropping: bool,
}

impl CoDelState {
    fn control_law(t: Instant, interval: Duration, count: u32) -> Instant {
        let step = interval.as_nanos() as f64 / f64::from(count.max(1)).sqrt();
        t + Duration::from_nanos(step as u64)
    }

    /// Pops the head of `fifo` and tells whether it may be dropped (the queue has stood above target for
    /// an interval).
    fn pop(&mut self, fifo: &mut Fifo, p: &CoDelParams, now: Instant) -> (Option<Queued>, bool) {
        let Some(q) = fifo.pop() else {
            self.first_above = None;
            return (None, false);
        };
        let sojourn = now - q.enqueued;
        let mut ok_to_drop = false;
        if sojourn < p.target || fifo.bytes() <= MAX_PACKET {
            self.first_above = None;
        } else {
            match self.first_above {
                None => self.first_above = Some(now + p.interval),
                Some(t) if now >= t => ok_to_drop = true,
                Some(_) => {}
            }
        }
        (Some(q), ok_to_drop)
    }

    /// The next frame of `fifo` to send, after CoDel's drops and marks.
    pub fn dequeue(&mut self, fifo: &mut Fifo, p: &CoDelParams, cx: &mut QueueCx<'_>) -> Option<Queued> {
        let now = cx.now;
        let (mut q, mut ok_to_drop) = self.pop(fifo, p, now);
        let Some(mut frame) = q.take() else {
            self.dropping = false;
            return None;
        };
        if self.dropping {
            if !ok_to_drop {
                self.dropping = false;
            }
            while self.dropping && now >= self.drop_next {
                self.count += 1;
                if cx.signal(&mut frame, "codel") {
                    // Marked: it goes on, and the next signal comes by the control law.
                    self.drop_next = Self::control_law(self.drop_next, p.interval, self.count);
                    return Some(frame);
                }
                (q, ok_to_drop) = self.pop(fifo, p, now);
                let Some(next) = q.take() else {
                    self.dropping = false;
                    return None;
                };
                frame = next;
                if ok_to_drop {
                    self.drop_next = Self::control_law(self.drop_next, p.interval, self.count);
                } else {
                    self.dropping = false;
                }
            }
        } else if ok_to_drop {
            if !cx.signal(&mut frame, "codel") {
                let (next, _) = self.pop(fifo, p, now);
                match next {
                    Some(n) => frame = n,
                    None => {
                        self.enter_dropping(now, p);
                        return None;
                    }
                }
            }
            self.enter_dropping(now, p);
        }
        Some(frame)
    }

    /// Starts a dropping episode, resuming the previous episode's rate if it ended recently (RFC 8289 §5.4).
    fn enter_dropping(&mut self, now: Instant, p: &CoDelParams) {
        self.dropping = true;
        let delta = self.count.saturating_sub(self.last_count);
        let recent = now < self.drop_next + p.interval * 16;
        self.count = if delta > 1 && recent { delta } else { 1 };
        self.drop_next = Self::control_law(now, p.interval, self.count);
        self.last_count = self.count;
    }
}

/// CoDel on one FIFO, with a tail-drop limit.
#[derive(Debug)]
pub struct CoDel {
    fifo: Fifo,
    limit: Limit,
    params: CoDelParams,
    state: CoDelState,
}

impl CoDel {
    pub fn new(limit: Limit, params: CoDelParams) -> CoDel {
        CoDel { fifo: Fifo::default(), limit, params, state: CoDelState::default() }
    }
}

impl Discipline for CoDel {
    fn enqueue(&mut self, frame: Queued, cx: &mut QueueCx<'_>) -> Result<(), Queued> {
        if !self.limit.admits(self.fifo.bytes(), self.fifo.len(), frame.bytes.len()) {
            cx.stats.drop("full");
            return Err(frame);
        }
        self.fifo.push(frame);
        Ok(())
    }
    fn dequeue(&mut self, cx: &mut QueueCx<'_>) -> Option<Queued> {
        self.state.dequeue(&mut self.fifo, &self.params, cx)
    }
    fn name(&self) -> &'static str {
        "codel"
    }
    fn backlog(&self) -> (usize, usize) {
        (self.fifo.bytes(), self.fifo.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aqm::QueueStats;
    use crate::rng::stream;

    /// A standing queue (frames arrive twice as fast as they leave) gets drops once the sojourn time has
    /// been above target for an interval, and the drops come faster as the episode goes on.
    #[test]
    fn a_standing_queue_is_drained_by_drops() {
        let mut q = CoDel::new(Limit { bytes: 10_000_000, packets: 100_000 }, CoDelParams::default());
        let (mut rng, mut stats) = (stream(1, 1), QueueStats::default());
        let ms = |n: u64| Instant::ZERO + Duration::from_micros(n * 500);
        let mut first_drop = None;
        for step in 0..2000u64 {
            let mut cx = QueueCx { now: ms(step), rng: &mut rng, ecn: false, stats: &mut stats };
            for _ in 0..2 {
                let f = Queued { bytes: vec![0; 1000], enqueued: ms(step) };
                q.enqueue(f, &mut cx).expect("room");
            }
            q.dequeue(&mut cx);
            if first_drop.is_none() && cx.stats.total_dropped() > 0 {
                first_drop = Some(step);
            }
        }
        let first = first_drop.expect("CoDel dropped");
        // Above target after ~10 frames (5 ms), then one interval (100 ms = 200 steps) more.
        assert!((200..260).contains(&first), "first drop at step {first}");
        assert!(stats.dropped["codel"] > 20, "{stats:?}");
    }
}
