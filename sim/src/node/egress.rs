//! A port's transmitter: frames leave at the port's rate, one after another; those that find the wire busy
//! wait in the port's queue discipline. Without a rate the port sends at once and never queues.

use crate::aqm::{Discipline, QueueCx, QueueStats, Queued};
use rand_chacha::ChaCha8Rng;
use std::time::Duration;
use synack::Instant;

#[derive(Debug)]
pub struct Egress {
    /// Bits per second; `None`: infinitely fast.
    pub rate: Option<u64>,
    pub discipline: Option<Box<dyn Discipline>>,
    pub ecn: bool,
    pub stats: QueueStats,
    rng: ChaCha8Rng,
    /// The frame being serialised (it enters the link when done).
    on_wire: Option<Vec<u8>>,
}

/// What became of a frame offered to a port.
#[derive(Debug)]
pub enum Offered {
    /// Send it down the link now (no rate: no queue).
    SendNow(Vec<u8>),
    /// The wire was idle: it is being serialised, done after this long.
    Started(Duration),
    /// It waits in the queue.
    Queued,
    /// The discipline dropped it (counted in the stats).
    Dropped,
}

impl Egress {
    pub fn new(rate: Option<u64>, discipline: Option<Box<dyn Discipline>>, ecn: bool, rng: ChaCha8Rng) -> Egress {
        Egress { rate, discipline, ecn, stats: QueueStats::default(), rng, on_wire: None }
    }

    /// Whether the port has a queue at all (a rate).
    pub fn is_queued(&self) -> bool {
        self.rate.is_some() && self.discipline.is_some()
    }

    fn tx_time(&self, len: usize) -> Duration {
        let bps = u128::from(self.rate.unwrap_or(u64::MAX).max(1));
        let ns = (len as u128 * 8 * 1_000_000_000).div_ceil(bps);
        Duration::from_nanos(u64::try_from(ns).unwrap_or(u64::MAX))
    }

    /// Offers a frame at `now`.
    pub fn offer(&mut self, bytes: Vec<u8>, now: Instant) -> Offered {
        let (Some(_), Some(disc)) = (self.rate, self.discipline.as_mut()) else {
            self.stats.enqueued += 1;
            self.stats.sent += 1;
            self.stats.bytes_sent += bytes.len() as u64;
            return Offered::SendNow(bytes);
        };
        let mut cx = QueueCx { now, rng: &mut self.rng, ecn: self.ecn, stats: &mut self.stats };
        if disc.enqueue(Queued { bytes, enqueued: now }, &mut cx).is_err() {
            return Offered::Dropped;
        }
        self.stats.enqueued += 1;
        let (b, p) = disc.backlog();
        self.stats.saw_backlog(b, p);
        if self.on_wire.is_some() {
            return Offered::Queued;
        }
        match self.start_next(now) {
            Some(d) => Offered::Started(d),
            None => Offered::Queued, // dropped at dequeue by the discipline
        }
    }

    /// The wire is free: takes the next frame from the queue onto it; returns how long it takes to send.
    pub fn start_next(&mut self, now: Instant) -> Option<Duration> {
        let disc = self.discipline.as_mut()?;
        let mut cx = QueueCx { now, rng: &mut self.rng, ecn: self.ecn, stats: &mut self.stats };
        let q = disc.dequeue(&mut cx)?;
        self.stats.sojourn_ns.push((now - q.enqueued).as_nanos() as u64);
        self.stats.sent += 1;
        self.stats.bytes_sent += q.bytes.len() as u64;
        let d = self.tx_time(q.bytes.len());
        self.on_wire = Some(q.bytes);
        Some(d)
    }

    /// The frame on the wire is sent: it leaves the port.
    pub fn finish(&mut self) -> Option<Vec<u8>> {
        self.on_wire.take()
    }
}
