//! The engine's side of switches and routers: a frame reaching a node's port is captured, handed to the node
//! (which learns, forwards or answers), and every frame the node sends goes through the egress queue of its
//! port and then down that port's link, like a host's frame.

use super::{join_comment, Ev, Sim};
use crate::node::{NodeKind, Offered};
use synack::Instant;

impl Sim {
    pub(super) fn node_receive(&mut self, node: usize, port: usize, bytes: Vec<u8>, note: Option<String>) {
        let now = self.now;
        let n = &mut self.nodes[node];
        if let Some(c) = n.ports[port].capture.as_mut() {
            c.record_directed(now, &bytes, note.as_deref(), false);
        }
        let mut outs: Vec<(usize, Vec<u8>)> = Vec::new();
        match &mut n.kind {
            NodeKind::Switch(sw) => {
                let mut ports = Vec::new();
                sw.receive(port, &bytes, n.ports.len(), &mut ports);
                let last = ports.len();
                let mut bytes = Some(bytes);
                for (i, p) in ports.into_iter().enumerate() {
                    let frame = if i + 1 == last { bytes.take() } else { bytes.clone() };
                    outs.extend(frame.map(|f| (p, f)));
                }
            }
            NodeKind::Router(r) => r.receive(port, &bytes, now, &mut outs),
        }
        for (p, frame) in outs {
            self.offer(node, p, frame);
        }
        self.schedule_node_timer(node);
    }

    /// The node's timer event at `deadline` is due: unless the node has moved it since, it acts.
    pub(super) fn node_timer(&mut self, node: usize, deadline: Instant) {
        let now = self.now;
        let n = &mut self.nodes[node];
        if n.timer_at != Some(deadline) {
            return;
        }
        n.timer_at = None;
        let mut outs: Vec<(usize, Vec<u8>)> = Vec::new();
        if let NodeKind::Router(r) = &mut n.kind {
            r.on_timer(now, &mut outs);
        }
        for (p, frame) in outs {
            self.offer(node, p, frame);
        }
        self.schedule_node_timer(node);
    }

    /// Queues the node's next timer event if it has a new deadline (a node without timers queues nothing).
    pub(super) fn schedule_node_timer(&mut self, node: usize) {
        let n = &mut self.nodes[node];
        match n.poll_timeout() {
            Some(t) if n.timer_at != Some(t) => {
                n.timer_at = Some(t);
                let at = t.max(self.now);
                self.push(at, Ev::NodeTimer { node, deadline: t });
            }
            Some(_) => {}
            None => n.timer_at = None,
        }
    }

    /// A frame leaves `node` through `port`: queued, or on the wire at once.
    fn offer(&mut self, node: usize, port: usize, frame: Vec<u8>) {
        let now = self.now;
        match self.nodes[node].ports[port].egress.offer(frame, now) {
            Offered::SendNow(f) => self.port_to_link(node, port, f),
            Offered::Started(d) => self.queue.push(now + d, None, Ev::PortSent { node, port }),
            Offered::Queued | Offered::Dropped => {}
        }
        self.sample_queue(node, port);
    }

    /// A row of the queue series for the port, if asked for and something changed.
    fn sample_queue(&mut self, node: usize, port: usize) {
        if let Some(series) = self.queue_series.as_mut() {
            let (n, p) = (&self.nodes[node], &self.nodes[node].ports[port]);
            series.sample((node, port), (&n.name, &p.name), &p.egress, self.now);
        }
    }

    pub(super) fn port_sent(&mut self, node: usize, port: usize) {
        let now = self.now;
        let egress = &mut self.nodes[node].ports[port].egress;
        let done = egress.finish();
        if let Some(d) = egress.start_next(now) {
            self.queue.push(now + d, None, Ev::PortSent { node, port });
        }
        self.sample_queue(node, port);
        if let Some(f) = done {
            self.port_to_link(node, port, f);
        }
    }

    /// Puts a frame on the port's link (its impairments and delay) and records it in the port's capture.
    fn port_to_link(&mut self, node: usize, port: usize, frame: Vec<u8>) {
        let now = self.now;
        let p = &mut self.nodes[node].ports[port];
        let Some((link, dir)) = p.link else { return };
        let captured = p.capture.as_ref().is_some_and(|c| c.wants(now)).then(|| frame.clone());
        let mut deliveries = std::mem::take(&mut self.deliveries);
        let note = self.links[link].dirs[dir].process_into(frame, now, &mut deliveries);
        for d in deliveries.drain(..) {
            self.schedule_delivery(link, dir, None, d);
        }
        self.deliveries = deliveries;
        if let (Some(c), Some(bytes)) = (self.nodes[node].ports[port].capture.as_mut(), captured) {
            c.record_directed(now, &bytes, join_comment(note.as_deref(), &[]).as_deref(), true);
        }
    }
}
