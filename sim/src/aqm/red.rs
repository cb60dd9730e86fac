//! RED (Floyd and Jacobson 1993, recommended by RFC 2309): an exponentially weighted average of the queue
//! length decides on arrival. Below `min_th` every frame is taken; between `min_th` and `max_th` a frame is
//! dropped (or marked) with a probability rising linearly to `max_p`, spread out by the count of frames since
//! the last one (`pa = pb / (1 - count * pb)`); at or above `max_th` every frame is dropped. Lengths are in
//! bytes. While the queue is empty the average decays as if `idle / typical frame time` empty arrivals had
//! been seen.

use super::{Discipline, Fifo, Limit, QueueCx, Queued};
use crate::rng::unit;
use std::time::Duration;
use synack::Instant;

/// The frame size RED assumes when aging its average over an idle period.
const TYPICAL_FRAME: u64 = 1000;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RedParams {
    pub min_th: usize,
    pub max_th: usize,
    pub max_p: f64,
    /// Weight of a new sample in the average (Floyd: 0.002).
    pub weight: f64,
}

#[derive(Debug)]
pub struct Red {
    fifo: Fifo,
    limit: Limit,
    p: RedParams,
    avg: f64,
    /// Frames since the last drop or mark (`None`: the average was below `min_th`).
    count: Option<u32>,
    /// When the queue went empty, to age the average.
    idle_since: Option<Instant>,
    /// Time to send a typical frame at the port's rate.
    frame_time: Duration,
}

impl Red {
    pub fn new(limit: Limit, p: RedParams, bits_per_second: u64) -> Red {
        let frame_time = Duration::from_nanos(TYPICAL_FRAME * 8 * 1_000_000_000 / bits_per_second.max(1));
        let idle_since = Some(Instant::ZERO);
        Red { fifo: Fifo::default(), limit, p, avg: 0.0, count: None, idle_since, frame_time }
    }

    /// The average queue length in bytes.
    pub fn average(&self) -> f64 {
        self.avg
    }
}

impl Discipline for Red {
    fn enqueue(&mut self, mut frame: Queued, cx: &mut QueueCx<'_>) -> Result<(), Queued> {
        let w = self.p.weight;
        match self.idle_since.take() {
            Some(since) => {
                let idle = (cx.now - since).as_nanos() as f64;
                let m = idle / self.frame_time.as_nanos().max(1) as f64;
                self.avg *= (1.0 - w).powf(m);
            }
            None => self.avg = (1.0 - w) * self.avg + w * self.fifo.bytes() as f64,
        }
        let (min, max) = (self.p.min_th as f64, self.p.max_th as f64);
        if self.avg >= max {
            self.count = Some(0);
            cx.stats.drop("red forced");
            self.idle_if_empty(cx.now);
            return Err(frame);
        }
        if self.avg >= min {
            let count = self.count.map_or(0, |c| c + 1);
            let pb = self.p.max_p * (self.avg - min) / (max - min);
            let pa = if f64::from(count) * pb >= 1.0 { 1.0 } else { pb / (1.0 - f64::from(count) * pb) };
            if unit(cx.rng) < pa {
                self.count = Some(0);
                if !cx.signal(&mut frame, "red") {
                    self.idle_if_empty(cx.now);
                    return Err(frame);
                }
            } else {
                self.count = Some(count);
            }
        } else {
            self.count = None;
        }
        if !self.limit.admits(self.fifo.bytes(), self.fifo.len(), frame.bytes.len()) {
            cx.stats.drop("full");
            self.idle_if_empty(cx.now);
            return Err(frame);
        }
        self.fifo.push(frame);
        Ok(())
    }
    fn dequeue(&mut self, cx: &mut QueueCx<'_>) -> Option<Queued> {
        let q = self.fifo.pop();
        self.idle_if_empty(cx.now);
        q
    }
    fn name(&self) -> &'static str {
        "red"
    }
    fn backlog(&self) -> (usize, usize) {
        (self.fifo.bytes(), self.fifo.len())
    }
}

impl Red {
    fn idle_if_empty(&mut self, now: Instant) {
        if self.fifo.is_empty() && self.idle_since.is_none() {
            self.idle_since = Some(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aqm::QueueStats;
    use crate::rng::stream;

    /// Offered a tenth more than it sends, RED keeps the average between the thresholds by early drops, well below
    /// the hard limit, and the same seed gives the same drops.
    #[test]
    fn early_drops_hold_the_average_between_the_thresholds() {
        let run = || {
            let p = RedParams { min_th: 10_000, max_th: 30_000, max_p: 0.1, weight: 0.002 };
            let mut q = Red::new(Limit { bytes: 1_000_000, packets: 10_000 }, p, 8_000_000);
            let (mut rng, mut stats) = (stream(7, 1), QueueStats::default());
            for step in 0..20_000u64 {
                let now = Instant::ZERO + Duration::from_micros(step * 500);
                let mut cx = QueueCx { now, rng: &mut rng, ecn: false, stats: &mut stats };
                let _ = q.enqueue(Queued { bytes: vec![0; 500], enqueued: now }, &mut cx);
                if step % 10 != 0 {
                    q.dequeue(&mut cx);
                }
            }
            (q.average(), stats)
        };
        let (avg, stats) = run();
        assert!((10_000.0..30_000.0).contains(&avg), "average {avg}");
        assert!(stats.dropped.get("red").copied().unwrap_or(0) > 500, "{stats:?}");
        assert_eq!(stats.dropped.get("full"), None);
        assert_eq!(stats.dropped.get("red forced"), None);
        assert_eq!(run().1, stats, "same seed, same drops");
    }
}
