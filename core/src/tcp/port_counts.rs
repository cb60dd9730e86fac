//! How many connections use each local port (ephemeral allocation looks for a port none uses): a count per
//! port, in pages of 256 ports, a page allocated with its first connection and freed with its last.
//!
//! Ports are small integers, so they index instead of hash: a count is one read of the page table and one of
//! the page, with no hashing or probing on a connection's way in or out, and the code for it is a few
//! instructions where a hash table's insert and remove took about a kilobyte on every handshake. A stack whose
//! connections use a few ports holds a 2 KiB page table and a 1 KiB page per 256 ports in use; every port in
//! use takes 258 KiB. A page that empties stays (a listener's port empties and fills again with every short
//! connection) until empty pages are most of those held: then they all go, so a spike's pages are given back.

/// Ports per page.
const PAGE: usize = 256;

#[derive(Debug)]
struct Page {
    counts: [u32; PAGE],
    /// Ports of the page with a count above zero.
    used: u32,
}

#[derive(Debug, Default)]
pub(crate) struct PortCounts {
    /// `(u16::MAX + 1) / PAGE` entries once any port was counted, empty before.
    pages: Vec<Option<Box<Page>>>,
    /// Pages held, and pages with a port in use.
    held: usize,
    in_use: usize,
}

fn split(port: u16) -> (usize, usize) {
    (usize::from(port) / PAGE, usize::from(port) % PAGE)
}

impl PortCounts {
    /// Does any connection use `port`?
    pub(crate) fn contains(&self, port: u16) -> bool {
        let (page, at) = split(port);
        self.pages.get(page).and_then(Option::as_ref).is_some_and(|p| p.counts[at] > 0)
    }

    /// One more connection uses `port`.
    pub(crate) fn add(&mut self, port: u16) {
        if self.pages.is_empty() {
            self.pages.resize_with(usize::from(u16::MAX) / PAGE + 1, || None);
        }
        let (page, at) = split(port);
        let slot = &mut self.pages[page];
        if slot.is_none() {
            self.held += 1;
        }
        let page = slot.get_or_insert_with(|| Box::new(Page { counts: [0; PAGE], used: 0 }));
        if page.counts[at] == 0 {
            self.in_use += usize::from(page.used == 0);
            page.used += 1;
        }
        page.counts[at] += 1;
    }

    /// One connection fewer uses `port` (one that `add` counted).
    pub(crate) fn remove(&mut self, port: u16) {
        let (page, at) = split(port);
        let Some(slot) = self.pages.get_mut(page) else {
            return;
        };
        let Some(p) = slot else {
            return;
        };
        if p.counts[at] == 0 {
            return;
        }
        p.counts[at] -= 1;
        if p.counts[at] == 0 {
            p.used -= 1;
            if p.used == 0 {
                self.in_use -= 1;
                if self.held > 4 * self.in_use + 4 {
                    self.release_empty_pages();
                }
            }
        }
    }

    /// Frees every page with no port in use.
    #[cold]
    fn release_empty_pages(&mut self) {
        for slot in &mut self.pages {
            if slot.as_ref().is_some_and(|p| p.used == 0) {
                *slot = None;
            }
        }
        self.held = self.in_use;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    proptest::proptest! {
        /// Counts as a map of counts would; empty pages never outnumber used ones more than fourfold (plus four).
        #[test]
        fn counts_like_a_map(ops in proptest::collection::vec((proptest::bool::ANY, 0u16..4, proptest::num::u16::ANY), 0..400)) {
            let (mut counts, mut model) = (PortCounts::default(), HashMap::<u16, u32>::new());
            for (add, spread, raw) in ops {
                // A few ports, some sharing a page, some not.
                let port = match spread {
                    0 => raw % 4,
                    1 => 255 + raw % 3,
                    2 => u16::MAX - raw % 2,
                    _ => raw,
                };
                if add {
                    counts.add(port);
                    *model.entry(port).or_default() += 1;
                } else if model.get(&port).is_some_and(|&n| n > 0) {
                    counts.remove(port);
                    *model.get_mut(&port).unwrap() -= 1;
                }
                proptest::prop_assert_eq!(counts.contains(port), model.get(&port).is_some_and(|&n| n > 0));
            }
            for port in [0u16, 1, 2, 3, 255, 256, 257, u16::MAX - 1, u16::MAX] {
                proptest::prop_assert_eq!(counts.contains(port), model.get(&port).is_some_and(|&n| n > 0));
            }
            let model_pages: std::collections::BTreeSet<usize> =
                model.iter().filter(|(_, &n)| n > 0).map(|(&p, _)| split(p).0).collect();
            let pages: Vec<&Page> = counts.pages.iter().flatten().map(|p| &**p).collect();
            proptest::prop_assert_eq!(pages.len(), counts.held);
            proptest::prop_assert_eq!(pages.iter().filter(|p| p.used > 0).count(), model_pages.len());
            proptest::prop_assert_eq!(counts.in_use, model_pages.len());
            proptest::prop_assert!(counts.held <= 4 * counts.in_use + 4);
        }
    }

    #[test]
    fn a_spike_gives_its_pages_back_and_a_busy_port_keeps_its_page() {
        let mut counts = PortCounts::default();
        let spike: Vec<u16> = (0..200u16).map(|i| 1024 + i * 256).collect();
        for &p in &spike {
            counts.add(p);
        }
        assert_eq!(counts.held, 200);
        for &p in &spike {
            counts.remove(p);
        }
        assert!(counts.held <= 4, "{} pages held after the spike", counts.held);
        // A listener's port, emptied and filled by each short connection, keeps its page.
        counts.add(80);
        let page = counts.pages[0].as_deref().map(|p| p as *const Page);
        for _ in 0..10 {
            counts.remove(80);
            counts.add(80);
        }
        assert_eq!(counts.pages[0].as_deref().map(|p| p as *const Page), page);
    }
}
