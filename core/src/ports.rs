//! Deterministic ephemeral port (and ping identifier) allocation.

/// Hands out numbers from `lo..=hi`, starting at a seed-derived point and moving forward, skipping used ones.
#[derive(Debug)]
pub(crate) struct PortAllocator {
    lo: u16,
    hi: u16,
    cursor: u16,
}

impl PortAllocator {
    pub(crate) fn new(lo: u16, hi: u16, seed: u64) -> PortAllocator {
        let span = u64::from(hi - lo) + 1;
        let cursor = lo + (seed % span) as u16;
        PortAllocator { lo, hi, cursor }
    }

    /// The next number for which `in_use` is false, or `None` if all are taken.
    pub(crate) fn allocate(&mut self, in_use: impl Fn(u16) -> bool) -> Option<u16> {
        let span = u32::from(self.hi - self.lo) + 1;
        for _ in 0..span {
            let candidate = self.cursor;
            self.cursor = if self.cursor >= self.hi { self.lo } else { self.cursor + 1 };
            if !in_use(candidate) {
                return Some(candidate);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_used_and_wraps() {
        let mut a = PortAllocator::new(10, 12, 1);
        assert_eq!(a.allocate(|_| false), Some(11));
        assert_eq!(a.allocate(|p| p == 12), Some(10));
        assert_eq!(a.allocate(|_| true), None);
        let mut full = PortAllocator::new(1, 65535, 0);
        assert_eq!(full.allocate(|p| p != 65535), Some(65535));
    }
}
