//! FQ-CoDel (RFC 8290): frames are hashed by their 5-tuple (with a seed, so flows collide the same way in
//! every run of a seed) into one of `flows` queues, each run by its own CoDel; a deficit round robin with a
//! quantum of bytes serves new flows (those that just became active) before old ones. When the whole queue
//! is full, the flow with the largest backlog loses its head frame.

use super::codel::CoDelState;
use super::{CoDelParams, Discipline, Fifo, Limit, QueueCx, Queued};
use std::collections::VecDeque;
use synack::wire::{ethernet, EtherType, EthernetFrame, IpProtocol, Ipv4Packet};

#[derive(Debug, Default)]
struct Flow {
    fifo: Fifo,
    codel: CoDelState,
    deficit: i64,
    /// On the new or the old list.
    listed: bool,
}

#[derive(Debug)]
pub struct FqCoDel {
    flows: Vec<Flow>,
    new_flows: VecDeque<usize>,
    old_flows: VecDeque<usize>,
    limit: Limit,
    params: CoDelParams,
    quantum: i64,
    seed: u64,
    bytes: usize,
    packets: usize,
}

impl FqCoDel {
    pub fn new(limit: Limit, params: CoDelParams, quantum: usize, flows: usize, seed: u64) -> FqCoDel {
        let flows = (0..flows.max(1)).map(|_| Flow::default()).collect();
        let (new_flows, old_flows) = (VecDeque::new(), VecDeque::new());
        let quantum = quantum as i64;
        FqCoDel { flows, new_flows, old_flows, limit, params, quantum, seed, bytes: 0, packets: 0 }
    }

    /// The flow queue of a frame: a seeded hash of protocol, addresses and ports (non-IPv4 frames and
    /// fragments hash what they have).
    pub fn flow_of(&self, frame: &[u8]) -> usize {
        let mut h = mix(self.seed);
        if let Ok(eth) = EthernetFrame::new_checked(frame) {
            h = mix(h ^ u64::from(u16::from(eth.ethertype())));
            if eth.ethertype() == EtherType::Ipv4 {
                if let Ok(ip) = Ipv4Packet::new_checked(&frame[ethernet::HEADER_LEN..]) {
                    h = mix(h ^ u64::from(u32::from(ip.src_addr())));
                    h = mix(h ^ u64::from(u32::from(ip.dst_addr())));
                    let proto = ip.protocol();
                    h = mix(h ^ u64::from(u8::from(proto)));
                    let ports = matches!(proto, IpProtocol::Tcp | IpProtocol::Udp) && ip.frag_offset() == 0;
                    if let Some(p) = ip.payload().get(..4).filter(|_| ports) {
                        h = mix(h ^ u64::from(u32::from_be_bytes([p[0], p[1], p[2], p[3]])));
                    }
                }
            }
        }
        (h % self.flows.len() as u64) as usize
    }

    /// Drops the head of the fattest flow (RFC 8290 §4.1.1 drops from the flow with the largest backlog).
    fn drop_from_fattest(&mut self, cx: &mut QueueCx<'_>) {
        let Some(fat) = (0..self.flows.len()).max_by_key(|&i| (self.flows[i].fifo.bytes(), std::cmp::Reverse(i)))
        else {
            return;
        };
        if let Some(q) = self.flows[fat].fifo.pop() {
            self.bytes -= q.bytes.len();
            self.packets -= 1;
            cx.stats.drop("full");
        }
    }
}

/// SplitMix64's finaliser: a cheap, well-mixed hash step.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Discipline for FqCoDel {
    fn enqueue(&mut self, frame: Queued, cx: &mut QueueCx<'_>) -> Result<(), Queued> {
        let i = self.flow_of(&frame.bytes);
        self.bytes += frame.bytes.len();
        self.packets += 1;
        let f = &mut self.flows[i];
        f.fifo.push(frame);
        if !f.listed {
            f.listed = true;
            f.deficit = self.quantum;
            self.new_flows.push_back(i);
        }
        while self.bytes > self.limit.bytes || self.packets > self.limit.packets {
            self.drop_from_fattest(cx);
        }
        Ok(())
    }

    fn dequeue(&mut self, cx: &mut QueueCx<'_>) -> Option<Queued> {
        loop {
            let (from_new, i) = match (self.new_flows.front(), self.old_flows.front()) {
                (Some(&i), _) => (true, i),
                (None, Some(&i)) => (false, i),
                (None, None) => return None,
            };
            let list = if from_new { &mut self.new_flows } else { &mut self.old_flows };
            let f = &mut self.flows[i];
            if f.deficit <= 0 {
                f.deficit += self.quantum;
                list.pop_front();
                self.old_flows.push_back(i);
                continue;
            }
            let before = (f.fifo.bytes(), f.fifo.len());
            let got = f.codel.dequeue(&mut f.fifo, &self.params, cx);
            // CoDel's drops leave the flow too.
            let gone = (before.0 - f.fifo.bytes(), before.1 - f.fifo.len());
            self.bytes -= gone.0;
            self.packets -= gone.1;
            match got {
                Some(q) => {
                    f.deficit -= q.bytes.len() as i64;
                    return Some(q);
                }
                None => {
                    list.pop_front();
                    if from_new && !self.old_flows.is_empty() {
                        // An emptied new flow goes to the old list, so it cannot jump the line again at once.
                        self.old_flows.push_back(i);
                    } else {
                        self.flows[i].listed = false;
                    }
                }
            }
        }
    }

    fn name(&self) -> &'static str {
        "fq_codel"
    }
    fn backlog(&self) -> (usize, usize) {
        (self.bytes, self.packets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aqm::QueueStats;
    use crate::rng::stream;
    use synack::wire::{EthernetAddress, EthernetRepr, Ipv4Repr};
    use synack::Instant;

    fn udp_frame(src_port: u16, len: usize) -> Vec<u8> {
        let ip = Ipv4Repr {
            src_addr: [10, 0, 0, 1].into(),
            dst_addr: [10, 0, 1, 1].into(),
            protocol: IpProtocol::Udp,
            payload_len: len,
            ttl: 64,
            ident: 1,
            dont_frag: true,
            ecn: synack::wire::EcnCodepoint::NotEct,
        };
        let mut buf = vec![0u8; ethernet::frame_len(20 + len)];
        let mut eth = EthernetFrame::new_unchecked(&mut buf[..]);
        let mac = EthernetAddress([2, 0, 0, 0, 0, 1]);
        EthernetRepr { src_addr: mac, dst_addr: mac, ethertype: EtherType::Ipv4 }.emit(&mut eth);
        ip.emit(&mut Ipv4Packet::new_unchecked(eth.payload_mut()));
        buf[34..36].copy_from_slice(&src_port.to_be_bytes());
        buf
    }

    /// A flow with 100 frames queued does not hold back a flow that sends one: once the bulk flow has used
    /// its quantum, the newcomer goes first.
    #[test]
    fn a_sparse_flow_overtakes_a_bulk_one() {
        let mut q = FqCoDel::new(Limit { bytes: 1 << 20, packets: 10_240 }, CoDelParams::default(), 1514, 1024, 9);
        let (mut rng, mut stats) = (stream(1, 1), QueueStats::default());
        let mut cx = QueueCx { now: Instant::ZERO, rng: &mut rng, ecn: false, stats: &mut stats };
        let (bulk, sparse) = (udp_frame(1000, 1000), udp_frame(2000, 100));
        assert_ne!(q.flow_of(&bulk), q.flow_of(&sparse), "pick ports that do not collide for this seed");
        for _ in 0..100 {
            q.enqueue(Queued { bytes: bulk.clone(), enqueued: Instant::ZERO }, &mut cx).expect("room");
        }
        // The bulk flow spends its quantum (1514 bytes: two frames) before it leaves the new list.
        for _ in 0..2 {
            assert_eq!(q.dequeue(&mut cx).map(|f| f.bytes.len()), Some(bulk.len()));
        }
        q.enqueue(Queued { bytes: sparse.clone(), enqueued: Instant::ZERO }, &mut cx).expect("room");
        assert_eq!(q.dequeue(&mut cx).map(|f| f.bytes.len()), Some(sparse.len()), "new flow first");
        assert_eq!(q.backlog(), (98 * bulk.len(), 98));
        assert_eq!(q.dequeue(&mut cx).map(|f| f.bytes.len()), Some(bulk.len()), "then the bulk flow again");
    }
}
