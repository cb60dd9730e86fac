//! Selective acknowledgement (RFC 2018) and SACK-based loss recovery (RFC 6675, simplified): the sender's
//! scoreboard of what the peer holds above SND.UNA, so recovery resends only the holes, several per round
//! trip, instead of one per round trip (NewReno) or everything (go-back-N after a timeout).

use super::seq::SeqNum;

/// Ranges `[start, end)` above SND.UNA the peer reported holding. Sorted, disjoint, non-adjacent.
#[derive(Debug, Default, Clone)]
pub(crate) struct Scoreboard {
    ranges: Vec<(SeqNum, SeqNum)>,
}

/// Most ranges remembered; a hostile peer cannot make the scoreboard grow without bound.
const MAX_RANGES: usize = 64;

impl Scoreboard {
    pub(crate) fn clear(&mut self) {
        self.ranges.clear();
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Merges the peer's SACK blocks, ignoring any outside `(snd_una, snd_max]`. True if they said something new.
    pub(crate) fn update(&mut self, blocks: &[Option<(SeqNum, SeqNum)>], snd_una: SeqNum, snd_max: SeqNum) -> bool {
        let before = self.sacked_bytes();
        for &(start, end) in blocks.iter().flatten() {
            if !(snd_una < end && start < end && end <= snd_max) {
                continue; // RFC 2018 §5: blocks below the cumulative ACK or beyond what we sent are bogus
            }
            self.insert(start.max(snd_una), end);
        }
        self.sacked_bytes() != before
    }

    fn insert(&mut self, start: SeqNum, end: SeqNum) {
        crate::ranges::insert(&mut self.ranges, start, end);
        self.ranges.truncate(MAX_RANGES);
    }

    /// Forgets everything at or below the new cumulative ACK.
    pub(crate) fn advance(&mut self, snd_una: SeqNum) {
        self.ranges.retain_mut(|(s, e)| {
            if *e <= snd_una {
                return false;
            }
            *s = (*s).max(snd_una);
            true
        });
    }

    pub(crate) fn sacked_bytes(&self) -> usize {
        self.ranges.iter().map(|(s, e)| *e - *s).sum()
    }

    /// The highest sequence number the peer reported holding (the end of the last range).
    pub(crate) fn highest(&self) -> Option<SeqNum> {
        self.ranges.last().map(|(_, e)| *e)
    }

    /// If `seq` lies in a SACKed range, that range's end.
    pub(crate) fn sacked_end(&self, seq: SeqNum) -> Option<SeqNum> {
        self.ranges.iter().find(|(s, e)| *s <= seq && seq < *e).map(|(_, e)| *e)
    }

    /// The first SACKed range starting after `seq` (where an unSACKed stretch beginning at `seq` ends).
    pub(crate) fn next_sacked_start(&self, seq: SeqNum) -> Option<SeqNum> {
        self.ranges.iter().map(|(s, _)| *s).find(|s| *s > seq)
    }

    /// The first hole at or after `from` and below the highest SACKed byte: `(start, end)`.
    pub(crate) fn next_hole(&self, from: SeqNum) -> Option<(SeqNum, SeqNum)> {
        let highest = self.highest()?;
        let mut at = from;
        while at < highest {
            if let Some(end) = self.sacked_end(at) {
                at = end;
                continue;
            }
            let end = self.next_sacked_start(at).unwrap_or(highest);
            return Some((at, end));
        }
        None
    }

    /// Unsacked bytes in `[from, highest)`: holes presumed lost and not yet retransmitted (RFC 6675 IsLost,
    /// simplified: a hole below SACKed data is lost).
    pub(crate) fn hole_bytes_from(&self, from: SeqNum) -> usize {
        let mut total = 0;
        let mut at = from;
        while let Some((s, e)) = self.next_hole(at) {
            total += e - s;
            at = e;
        }
        total
    }
}

/// Retransmissions made during SACK recovery, each with the highest sequence number sent at that moment.
/// When the peer SACKs data sent *after* a retransmission while the retransmitted hole is still missing, the
/// retransmission itself was lost (the idea of RACK, RFC 8985 §6.1, reduced to sequence order): resend it now
/// instead of waiting for a timeout.
#[derive(Debug, Default, Clone)]
pub(crate) struct RetransmitLog {
    entries: Vec<(SeqNum, SeqNum, SeqNum)>,
}

impl RetransmitLog {
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
    }

    /// `[start, end)` was retransmitted while `sent_up_to` was the highest sequence number sent.
    pub(crate) fn record(&mut self, start: SeqNum, end: SeqNum, sent_up_to: SeqNum) {
        if self.entries.len() >= MAX_RANGES {
            self.entries.remove(0);
        }
        self.entries.push((start, end, sent_up_to));
    }

    /// The lowest start of a retransmission now known lost, forgetting it (it will be recorded again when
    /// resent); entries below `snd_una` are dropped.
    pub(crate) fn take_lost(&mut self, board: &Scoreboard, snd_una: SeqNum) -> Option<SeqNum> {
        self.entries.retain(|(_, end, _)| *end > snd_una);
        let highest = board.highest()?;
        let mut lost: Option<SeqNum> = None;
        self.entries.retain(|(start, _, mark)| {
            let start = (*start).max(snd_una);
            let still_missing = board.sacked_end(start).is_none();
            if still_missing && highest > *mark {
                lost = Some(lost.map_or(start, |l| l.min(start)));
                false
            } else {
                true
            }
        });
        lost
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: u32, e: u32) -> Option<(SeqNum, SeqNum)> {
        Some((SeqNum(s), SeqNum(e)))
    }

    #[test]
    fn merges_validates_and_finds_holes() {
        let mut sb = Scoreboard::default();
        let (una, max) = (SeqNum(1000), SeqNum(9000));
        assert!(sb.update(&[b(3000, 4000), b(5000, 6000), None, None], una, max));
        assert!(!sb.update(&[b(3000, 4000)], una, max), "nothing new");
        assert!(!sb.update(&[b(500, 900), b(8000, 9500)], una, max), "outside the window: ignored");
        assert!(sb.update(&[b(4000, 4500)], una, max), "adjacent merges");
        assert_eq!(sb.sacked_bytes(), 2500);
        assert_eq!(sb.highest(), Some(SeqNum(6000)));
        assert_eq!(sb.next_hole(una), Some((SeqNum(1000), SeqNum(3000))));
        assert_eq!(sb.next_hole(SeqNum(3000)), Some((SeqNum(4500), SeqNum(5000))));
        assert_eq!(sb.next_hole(SeqNum(5000)), None);
        assert_eq!(sb.hole_bytes_from(una), 2500);
        assert_eq!(sb.sacked_end(SeqNum(3500)), Some(SeqNum(4500)));
        sb.advance(SeqNum(3200));
        assert_eq!(sb.sacked_bytes(), 1300 + 1000);
        sb.advance(SeqNum(7000));
        assert!(sb.is_empty());
    }

    #[test]
    fn a_retransmission_is_lost_when_later_data_is_sacked_first() {
        let mut sb = Scoreboard::default();
        let mut log = RetransmitLog::default();
        let una = SeqNum(1000);
        sb.update(&[b(2000, 5000)], una, SeqNum(5000));
        log.record(una, SeqNum(2000), SeqNum(5000));
        assert_eq!(log.take_lost(&sb, una), None, "nothing sent after it has been SACKed yet");
        sb.update(&[b(5000, 6000)], una, SeqNum(6000));
        assert_eq!(log.take_lost(&sb, una), Some(una));
        assert_eq!(log.take_lost(&sb, una), None, "reported once");
    }

    #[test]
    fn wraps_around_2_pow_32() {
        let mut sb = Scoreboard::default();
        let una = SeqNum(u32::MAX - 100);
        assert!(sb.update(&[b(50, 150)], una, SeqNum(1000)));
        assert_eq!(sb.next_hole(una), Some((una, SeqNum(50))));
        assert_eq!(sb.hole_bytes_from(una), 151);
    }
}
