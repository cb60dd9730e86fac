//! Receive-buffer autotuning ("dynamic right-sizing", as Linux's `tcp_rcv_space_adjust`): a connection whose
//! application keeps up with a fast sender grows its receive buffer, and so the window it offers, until the
//! window no longer limits the transfer or the configured maximum is reached.
//!
//! A window of W bytes lets a sender move at most W bytes per round trip. The receiver measures two things, in
//! the stack's own virtual time:
//! - its round-trip time as it sees it: how long one buffer's worth of data takes to arrive (from the moment
//!   the sequence number `RCV.NXT + buffer size` was noted until `RCV.NXT` passes it; an upper bound, so the
//!   smallest sample wins), and
//! - how many bytes the application read during each such round trip.
//!
//! When the application read more in a round trip than in the last one that grew the buffer, the sender was
//! limited by the window, not by the reader: the buffer grows to twice what was read plus sixteen segments of
//! slack, and at least doubles when the reader took half the buffer or more in that round trip. A reader
//! whose pace does not rise leaves its buffer alone. Buffers only grow; a connection keeps its size until it
//! closes.

use super::seq::SeqNum;
use crate::time::Instant;
use core::time::Duration;

/// Per-connection measurement state.
#[derive(Clone, Debug)]
pub(crate) struct RecvAutotune {
    /// Smallest time one buffer's worth of data took to arrive (the receiver's view of the round trip).
    rtt: Option<Duration>,
    /// The sequence number being waited for (RCV.NXT + buffer size when noted), and when it was noted.
    edge: Option<(SeqNum, Instant)>,
    /// Bytes the application read since `since`.
    copied: usize,
    since: Option<Instant>,
    /// Bytes read in the round trip that last grew the buffer (starts at ten segments, as Linux).
    space: usize,
}

impl RecvAutotune {
    pub(crate) fn new(mss: usize) -> RecvAutotune {
        RecvAutotune { rtt: None, edge: None, copied: 0, since: None, space: 10 * mss }
    }

    /// In-order data arrived: `rcv_nxt` is the new RCV.NXT, `window` the buffer's size.
    pub(crate) fn on_data(&mut self, rcv_nxt: SeqNum, window: usize, now: Instant) {
        match self.edge {
            Some((edge, _)) if rcv_nxt < edge => return,
            Some((_, at)) => {
                let sample = now - at;
                self.rtt = Some(self.rtt.map_or(sample, |r| r.min(sample)));
            }
            None => {}
        }
        self.edge = Some((rcv_nxt + window, now));
    }

    /// The application read `n` bytes. Returns the buffer size to grow to, if the last round trip shows the
    /// window limited the sender; `current` is the buffer's size, `limit` the most it may reach.
    pub(crate) fn on_read(
        &mut self,
        n: usize,
        mss: usize,
        current: usize,
        limit: usize,
        now: Instant,
    ) -> Option<usize> {
        let Some(since) = self.since else {
            // The first read starts the clock; what it took arrived before any interval began.
            self.since = Some(now);
            return None;
        };
        self.copied += n;
        let rtt = self.rtt.filter(|r| !r.is_zero())?;
        if now - since < rtt {
            return None;
        }
        let copied = core::mem::take(&mut self.copied);
        self.since = Some(now);
        if copied <= self.space {
            return None;
        }
        self.space = copied;
        let mut target = copied.saturating_mul(2).saturating_add(16 * mss);
        if copied >= current / 2 {
            // The reader emptied half the buffer or more in one round trip: the window is what holds the
            // sender back, so double it (reaching a large limit in a few round trips, not dozens).
            target = target.max(current.saturating_mul(2));
        }
        let target = target.min(limit);
        (target > current).then_some(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSS: usize = 1460;

    fn at(us: u64) -> Instant {
        Instant::from_nanos(us * 1000)
    }

    /// A receiver whose window arrives every 100 µs and whose reader takes everything at once.
    fn run_rounds(window: &mut usize, limit: usize, reader_share: f64, rounds: u64) -> Vec<usize> {
        let mut t = RecvAutotune::new(MSS);
        let mut nxt = SeqNum(1000);
        let mut sizes = Vec::new();
        t.on_data(nxt, *window, at(0));
        for r in 1..=rounds {
            nxt = nxt + *window;
            t.on_data(nxt, *window, at(r * 100));
            let read = (*window as f64 * reader_share) as usize;
            if let Some(grown) = t.on_read(read, MSS, *window, limit, at(r * 100)) {
                *window = grown;
            }
            sizes.push(*window);
        }
        sizes
    }

    #[test]
    fn a_reader_that_keeps_up_grows_the_buffer_to_the_limit() {
        let mut window = 256 * 1024;
        let sizes = run_rounds(&mut window, 4 << 20, 1.0, 8);
        assert_eq!(*sizes.last().unwrap(), 4 << 20, "{sizes:?}");
        // Doubling per round trip, not a jump to the limit.
        assert!(sizes.iter().any(|&s| s > 256 * 1024 && s < 4 << 20), "{sizes:?}");
        assert!(sizes.windows(2).all(|w| w[0] <= w[1]), "never shrinks: {sizes:?}");
    }

    #[test]
    fn a_reader_that_takes_the_same_each_round_does_not_grow_it_again() {
        // The reader takes a fixed 64 KiB per round trip: one growth at most (past the initial ten segments).
        let mut t = RecvAutotune::new(MSS);
        let mut window = 256 * 1024;
        let mut grown = 0;
        t.on_data(SeqNum(0), window, at(0));
        for r in 1..=20u64 {
            t.on_data(SeqNum(0) + (r as usize * window), window, at(r * 100));
            if let Some(w) = t.on_read(64 * 1024, MSS, window, 4 << 20, at(r * 100)) {
                window = w;
                grown += 1;
            }
        }
        assert_eq!(window, 256 * 1024, "2 x 64 KiB + slack stays below the buffer already there");
        assert_eq!(grown, 0);
    }

    #[test]
    fn frozen_time_never_grows_anything() {
        // A harness whose clock stands still measures a zero round trip: no decision is taken.
        let mut t = RecvAutotune::new(MSS);
        t.on_data(SeqNum(0), 1000, at(5));
        t.on_data(SeqNum(2000), 1000, at(5));
        assert_eq!(t.on_read(1 << 20, MSS, 1000, 4 << 20, at(5)), None);
    }
}
