//! A learning Ethernet switch: it remembers on which port each source MAC address was last seen, sends a
//! unicast frame only out of that port, and floods broadcast, multicast and unknown destinations out of every
//! other port. A frame is never sent back out of the port it came in on.

use std::collections::BTreeMap;
use synack::wire::{EthernetAddress, EthernetFrame};

#[derive(Debug, Default)]
pub struct Switch {
    /// MAC address -> port it was last seen on.
    table: BTreeMap<EthernetAddress, usize>,
    pub flooded: u64,
    pub forwarded: u64,
    /// Frames whose known destination is on the port they came from (nothing to do).
    pub filtered: u64,
    pub malformed: u64,
}

impl Switch {
    /// Learns from a frame that came in on `port` and says which of `ports` ports it goes out of.
    pub fn receive(&mut self, port: usize, frame: &[u8], ports: usize, out: &mut Vec<usize>) {
        out.clear();
        let Ok(eth) = EthernetFrame::new_checked(frame) else {
            self.malformed += 1;
            return;
        };
        let (src, dst) = (eth.src_addr(), eth.dst_addr());
        if !src.is_multicast() {
            self.table.insert(src, port);
        }
        match self.table.get(&dst).filter(|_| !dst.is_multicast()) {
            Some(&p) if p == port => self.filtered += 1,
            Some(&p) => {
                self.forwarded += 1;
                out.push(p);
            }
            None => {
                self.flooded += 1;
                out.extend((0..ports).filter(|&p| p != port));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(src: u8, dst: EthernetAddress) -> Vec<u8> {
        let mut f = vec![0u8; 60];
        f[..6].copy_from_slice(&dst.0);
        f[6..12].copy_from_slice(&[2, 0, 0, 0, 0, src]);
        f
    }

    #[test]
    fn floods_until_it_learns_then_forwards() {
        let mut sw = Switch::default();
        let mut out = Vec::new();
        let b = EthernetAddress([2, 0, 0, 0, 0, 2]);
        sw.receive(0, &frame(1, b), 3, &mut out);
        assert_eq!(out, [1, 2], "unknown destination: flooded");
        sw.receive(1, &frame(2, EthernetAddress([2, 0, 0, 0, 0, 1])), 3, &mut out);
        assert_eq!(out, [0], "learnt on port 0");
        sw.receive(0, &frame(1, b), 3, &mut out);
        assert_eq!(out, [1], "learnt on port 1");
        sw.receive(0, &frame(1, EthernetAddress::BROADCAST), 3, &mut out);
        assert_eq!(out, [1, 2]);
    }
}
