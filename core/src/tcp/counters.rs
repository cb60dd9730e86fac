//! A connection's counters as it keeps them: the five that every connection moves inline in 32 bits each, the
//! rest (losses, probes, ECN, autotuning: events most connections never see) in a box made on the first such
//! event. An idle connection then carries 32 bytes of counters instead of 200; [`TcpCounters`] is the full set
//! as exported.

use super::tcb::TcpCounters;

/// The five counters every connection moves, each the low 32 bits of its 64-bit count; what carries past 32
/// bits goes to the same field of the rare box (unused for anything else), so nothing is lost.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    segments_sent: u32,
    segments_received: u32,
    bytes_sent: u32,
    bytes_acked: u32,
    bytes_received: u32,
    /// Every other counter, once one of them moved; the five above keep their carries here.
    rare: Option<Box<TcpCounters>>,
}

/// Adds `n` to the low 32 bits in `low`: returns the carry (a multiple of 2^32) for the high part.
fn add_low(low: &mut u32, n: u64) -> u64 {
    let sum = u64::from(*low) + n;
    *low = sum as u32; // the low 32 bits, by design
    sum & !u64::from(u32::MAX)
}

impl Counters {
    /// The counters of rare events, made (all zero) the first time one happens.
    pub(crate) fn rare(&mut self) -> &mut TcpCounters {
        self.rare.get_or_insert_default()
    }

    pub(crate) fn segment_sent(&mut self) {
        let carry = add_low(&mut self.segments_sent, 1);
        self.carry(carry, |r| &mut r.segments_sent);
    }
    pub(crate) fn segment_received(&mut self) {
        let carry = add_low(&mut self.segments_received, 1);
        self.carry(carry, |r| &mut r.segments_received);
    }
    /// New payload sent (first transmissions only).
    pub(crate) fn sent(&mut self, bytes: usize) {
        let carry = add_low(&mut self.bytes_sent, bytes as u64);
        self.carry(carry, |r| &mut r.bytes_sent);
    }
    pub(crate) fn acked(&mut self, bytes: usize) {
        let carry = add_low(&mut self.bytes_acked, bytes as u64);
        self.carry(carry, |r| &mut r.bytes_acked);
    }
    /// Payload received in order.
    pub(crate) fn received(&mut self, bytes: usize) {
        let carry = add_low(&mut self.bytes_received, bytes as u64);
        self.carry(carry, |r| &mut r.bytes_received);
    }

    /// Adds what carried past 32 bits to the high part the rare box keeps (`field` of it).
    fn carry(&mut self, carry: u64, field: impl FnOnce(&mut TcpCounters) -> &mut u64) {
        if carry != 0 {
            *field(self.rare()) += carry;
        }
    }

    /// Counts one retransmitted segment of `len` payload bytes.
    pub(crate) fn retransmitted(&mut self, len: usize) {
        let rare = self.rare();
        rare.retransmitted_segments += 1;
        rare.retransmitted_bytes += len as u64;
    }

    /// The full set, as [`super::TcpInfo`] exports it.
    pub(crate) fn snapshot(&self) -> TcpCounters {
        let rare = self.rare.as_deref().copied().unwrap_or_default();
        TcpCounters {
            segments_sent: rare.segments_sent + u64::from(self.segments_sent),
            segments_received: rare.segments_received + u64::from(self.segments_received),
            bytes_sent: rare.bytes_sent + u64::from(self.bytes_sent),
            bytes_acked: rare.bytes_acked + u64::from(self.bytes_acked),
            bytes_received: rare.bytes_received + u64::from(self.bytes_received),
            ..rare
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rare_counters_cost_nothing_until_they_move() {
        let mut c = Counters::default();
        for _ in 0..3 {
            c.segment_sent();
        }
        c.acked(7);
        assert!(c.rare.is_none());
        assert_eq!(c.snapshot(), TcpCounters { segments_sent: 3, bytes_acked: 7, ..TcpCounters::default() });
        c.retransmitted(1460);
        c.rare().timeouts += 1;
        let s = c.snapshot();
        assert_eq!((s.segments_sent, s.retransmitted_segments, s.retransmitted_bytes, s.timeouts), (3, 1, 1460, 1));
        assert!(core::mem::size_of::<Counters>() <= 32);
    }

    #[test]
    fn counts_carry_past_32_bits() {
        let mut c = Counters::default();
        let big = (1usize << 32) + 5;
        c.received(big);
        c.received(u32::MAX as usize);
        c.sent(u32::MAX as usize);
        c.sent(1);
        c.acked(3);
        c.received(0);
        let s = c.snapshot();
        assert_eq!(s.bytes_received, (1 << 32) + 5 + u64::from(u32::MAX));
        assert_eq!(s.bytes_sent, 1 << 32);
        assert_eq!(s.bytes_acked, 3);
        c.segments_received = u32::MAX;
        c.segment_received();
        c.segment_received();
        assert_eq!(c.snapshot().segments_received, (1 << 32) + 1);
    }
}
