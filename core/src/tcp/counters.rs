//! A connection's counters as it keeps them: the five that every connection moves inline, the rest (losses,
//! probes, ECN, autotuning: events most connections never see) in a box made on the first such event. An idle
//! connection then carries 48 bytes of counters instead of 200; [`TcpCounters`] is the full set as exported.

use super::tcb::TcpCounters;

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub segments_sent: u64,
    pub segments_received: u64,
    pub bytes_sent: u64,
    pub bytes_acked: u64,
    pub bytes_received: u64,
    /// Every other counter, once one of them moved (the five above are unused in it).
    rare: Option<Box<TcpCounters>>,
}

impl Counters {
    /// The counters of rare events, made (all zero) the first time one happens.
    pub(crate) fn rare(&mut self) -> &mut TcpCounters {
        self.rare.get_or_insert_default()
    }

    /// Counts one retransmitted segment of `len` payload bytes.
    pub(crate) fn retransmitted(&mut self, len: usize) {
        let rare = self.rare();
        rare.retransmitted_segments += 1;
        rare.retransmitted_bytes += len as u64;
    }

    /// The full set, as [`super::TcpInfo`] exports it.
    pub(crate) fn snapshot(&self) -> TcpCounters {
        TcpCounters {
            segments_sent: self.segments_sent,
            segments_received: self.segments_received,
            bytes_sent: self.bytes_sent,
            bytes_acked: self.bytes_acked,
            bytes_received: self.bytes_received,
            ..self.rare.as_deref().copied().unwrap_or_default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rare_counters_cost_nothing_until_they_move() {
        let mut c = Counters { segments_sent: 3, bytes_acked: 7, ..Counters::default() };
        assert!(c.rare.is_none());
        assert_eq!(c.snapshot(), TcpCounters { segments_sent: 3, bytes_acked: 7, ..TcpCounters::default() });
        c.retransmitted(1460);
        c.rare().timeouts += 1;
        let s = c.snapshot();
        assert_eq!((s.segments_sent, s.retransmitted_segments, s.retransmitted_bytes, s.timeouts), (3, 1, 1460, 1));
        assert!(core::mem::size_of::<Counters>() <= 48);
    }
}
