//! Selective acknowledgement (RFC 2018): the sender's scoreboard of what the peer holds above SND.UNA, so
//! recovery resends only the holes (which RACK, `rack.rs`, decides are lost), several per round trip, instead
//! of one per round trip (NewReno) or everything (go-back-N after a timeout).

use super::seq::SeqNum;

/// Ranges `[start, end)` above SND.UNA the peer reported holding. Sorted, disjoint, non-adjacent. Kept with
/// RACK's log (`rack.rs`), and boxed from the first SACK block on: a connection that sent data but was never
/// SACKed keeps one word for it there.
#[derive(Debug, Default, Clone)]
pub(crate) struct Scoreboard {
    // One word inline instead of a `Vec`'s three: the point of the extra box.
    #[allow(clippy::box_collection)]
    ranges: Option<Box<Vec<(SeqNum, SeqNum)>>>,
}

/// Most ranges remembered; a hostile peer cannot make the scoreboard grow without bound.
const MAX_RANGES: usize = 64;

impl Scoreboard {
    pub(crate) const EMPTY: Scoreboard = Scoreboard { ranges: None };

    pub(crate) fn clear(&mut self) {
        if let Some(r) = &mut self.ranges {
            r.clear();
        }
    }

    fn ranges(&self) -> &[(SeqNum, SeqNum)] {
        self.ranges.as_deref().map_or(&[], Vec::as_slice)
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
        let ranges = self.ranges.get_or_insert_with(Box::default);
        crate::ranges::insert(ranges, start, end);
        ranges.truncate(MAX_RANGES);
    }

    /// Forgets everything at or below the new cumulative ACK.
    pub(crate) fn advance(&mut self, snd_una: SeqNum) {
        let Some(ranges) = &mut self.ranges else { return };
        ranges.retain_mut(|(s, e)| {
            if *e <= snd_una {
                return false;
            }
            *s = (*s).max(snd_una);
            true
        });
    }

    pub(crate) fn sacked_bytes(&self) -> usize {
        self.ranges().iter().map(|(s, e)| *e - *s).sum()
    }

    /// If `seq` lies in a SACKed range, that range's end.
    pub(crate) fn sacked_end(&self, seq: SeqNum) -> Option<SeqNum> {
        self.ranges().iter().find(|(s, e)| *s <= seq && seq < *e).map(|(_, e)| *e)
    }

    /// The first SACKed range starting after `seq` (where an unSACKed stretch beginning at `seq` ends).
    pub(crate) fn next_sacked_start(&self, seq: SeqNum) -> Option<SeqNum> {
        self.ranges().iter().map(|(s, _)| *s).find(|s| *s > seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: u32, e: u32) -> Option<(SeqNum, SeqNum)> {
        Some((SeqNum(s), SeqNum(e)))
    }

    #[test]
    fn merges_validates_and_finds_sacked_ranges() {
        let mut sb = Scoreboard::default();
        let (una, max) = (SeqNum(1000), SeqNum(9000));
        assert!(sb.update(&[b(3000, 4000), b(5000, 6000), None, None], una, max));
        assert!(!sb.update(&[b(3000, 4000)], una, max), "nothing new");
        assert!(!sb.update(&[b(500, 900), b(8000, 9500)], una, max), "outside the window: ignored");
        assert!(sb.update(&[b(4000, 4500)], una, max), "adjacent merges");
        assert_eq!(sb.sacked_bytes(), 2500);
        assert_eq!(sb.next_sacked_start(una), Some(SeqNum(3000)));
        assert_eq!(sb.next_sacked_start(SeqNum(3000)), Some(SeqNum(5000)));
        assert_eq!(sb.next_sacked_start(SeqNum(5000)), None);
        assert_eq!(sb.sacked_end(SeqNum(3500)), Some(SeqNum(4500)));
        sb.advance(SeqNum(3200));
        assert_eq!(sb.sacked_bytes(), 1300 + 1000);
        sb.advance(SeqNum(7000));
        assert_eq!(sb.sacked_bytes(), 0);
    }

    #[test]
    fn wraps_around_2_pow_32() {
        let mut sb = Scoreboard::default();
        let una = SeqNum(u32::MAX - 100);
        assert!(sb.update(&[b(50, 150)], una, SeqNum(1000)));
        assert_eq!(sb.next_sacked_start(una), Some(SeqNum(50)));
        assert_eq!(sb.sacked_end(SeqNum(100)), Some(SeqNum(150)));
        assert_eq!(sb.sacked_bytes(), 100);
    }
}
