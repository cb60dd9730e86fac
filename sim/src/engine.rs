//! The discrete-event engine: virtual time in integer nanoseconds, one queue of events ordered by (time,
//! insertion sequence), hosts (a `Stack` plus apps) and links. Nothing reads a wall clock, iterates a hash
//! map or starts a thread: a run is a pure function of its scenario and seed.
//!
//! Topology: each host has one Ethernet interface. A host on several links reaches them through an ideal
//! switch port: a unicast frame goes down the link whose far end owns the destination MAC, a broadcast or
//! multicast frame goes down every link of the host (each copy through that link's own impairments). A frame
//! for a MAC on none of the host's links is counted as unroutable and only captured. A link may also end at a
//! port of a switch or router ([`crate::node`]); a host's link to a switch carries every frame of the host.

use crate::app::{App, AppReport, Cx};
use crate::capture::Capture;
use crate::impairment::Fault;
use crate::link::{Delivery, End, Link};
use crate::node::Node;
use crate::queue::EventQueue;

mod nodes;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use synack::wire::{EthernetAddress, EthernetFrame};
use synack::{Input, Instant, Note, Output, SocketHandle, Stack};

/// One simulated machine.
#[derive(Debug)]
pub struct Host {
    pub name: String,
    pub ip: Ipv4Addr,
    pub mac: EthernetAddress,
    pub stack: Stack,
    pub apps: Vec<Box<dyn App>>,
    pub capture: Option<Capture>,
    /// Frames sent to a MAC on none of the host's links.
    pub unroutable: u64,
    /// (link, direction index, MAC at the far end) for each link the host is on; `None` for a switch port,
    /// which takes every frame.
    pub(crate) ports: Vec<(usize, usize, Option<EthernetAddress>)>,
    owners: BTreeMap<SocketHandle, usize>,
    timer_at: Option<Instant>,
    /// State changes and drops no received frame carried (a command's, a timer's), waiting for the next frame
    /// the host sends of its own protocols (not neighbour discovery, which a connection's SYN may wait behind).
    pending_notes: Vec<String>,
}

impl Host {
    pub fn new(name: String, ip: Ipv4Addr, stack: Stack, capture: Option<Capture>) -> Host {
        let mac = stack.config().mac;
        let (apps, ports, owners) = (Vec::new(), Vec::new(), BTreeMap::new());
        let pending_notes = Vec::new();
        Host { name, ip, mac, stack, apps, capture, unroutable: 0, ports, owners, timer_at: None, pending_notes }
    }
}

#[derive(Debug)]
enum Ev {
    /// A frame reaches `host`; `from` built it (its buffer goes back to that stack afterwards; `None`: a node
    /// did).
    Deliver {
        host: usize,
        from: Option<usize>,
        bytes: Vec<u8>,
        note: Option<String>,
    },
    StackTimer {
        host: usize,
        deadline: Instant,
    },
    AppStart {
        host: usize,
        app: usize,
    },
    AppTimer {
        host: usize,
        app: usize,
        token: u64,
    },
    Partition {
        link: usize,
        down: bool,
    },
    /// A frame reaches a node's port.
    NodeRx {
        node: usize,
        port: usize,
        bytes: Vec<u8>,
        note: Option<String>,
    },
    /// A node's port has finished sending the frame on its wire.
    PortSent {
        node: usize,
        port: usize,
    },
    /// A node's own timer (a router's advertisement is due).
    NodeTimer {
        node: usize,
        deadline: Instant,
    },
}

/// A simulation: build it (see [`crate::build`](mod@crate::build)), [`Sim::run`] it, read the results.
#[derive(Debug)]
pub struct Sim {
    pub name: String,
    pub seed: u64,
    pub now: Instant,
    /// Virtual time limit.
    pub end: Instant,
    /// Stop as soon as every app is finished.
    pub stop_when_done: bool,
    pub hosts: Vec<Host>,
    /// Switches and routers.
    pub nodes: Vec<Node>,
    pub links: Vec<Link>,
    /// Frames handed to a receiving stack.
    pub frames_delivered: u64,
    /// Events processed.
    pub events: u64,
    queue: EventQueue<Ev>,
    out: Vec<Output>,
    timers: Vec<(Instant, usize, u64)>,
    /// Scratch space, kept to spare an allocation per frame: socket events waiting for their apps, and the
    /// copies of a frame leaving a link direction.
    socket_events: Vec<(SocketHandle, synack::Event)>,
    deliveries: Vec<Delivery>,
    apps_touched: bool,
    /// Apps whose start time has not come yet.
    unstarted: usize,
    /// Each TCP connection's congestion and RTT state over time, when asked for (`run --series`).
    pub series: Option<crate::series::Series>,
    /// Each node queue's backlog and sojourn times over time, alongside `series`.
    pub queue_series: Option<crate::series::queues::QueueSeries>,
}

impl Sim {
    pub fn new(name: String, seed: u64, end: Instant) -> Sim {
        Sim {
            name,
            seed,
            now: Instant::ZERO,
            end,
            stop_when_done: true,
            hosts: Vec::new(),
            nodes: Vec::new(),
            links: Vec::new(),
            frames_delivered: 0,
            events: 0,
            queue: EventQueue::default(),
            out: Vec::new(),
            timers: Vec::new(),
            socket_events: Vec::new(),
            deliveries: Vec::new(),
            apps_touched: false,
            unstarted: 0,
            series: None,
            queue_series: None,
        }
    }

    fn push(&mut self, at: Instant, ev: Ev) {
        self.queue.push(at, None, ev);
    }

    /// The index of the host named `name` (for [`Sim::add_app`]).
    pub fn host_index(&self, name: &str) -> Option<usize> {
        self.hosts.iter().position(|h| h.name == name)
    }

    /// Adds an app to a host (by index, see [`Sim::host_index`]), starting at `start`; it is the host's last.
    pub fn add_app(&mut self, host: usize, app: Box<dyn App>, start: Instant) {
        let idx = self.hosts[host].apps.len();
        self.hosts[host].apps.push(app);
        self.unstarted += 1;
        self.push(start, Ev::AppStart { host, app: idx });
    }

    /// Schedules a link to go down (`true`) or come back (`false`).
    pub fn schedule_partition(&mut self, link: usize, at: Instant, down: bool) {
        self.push(at, Ev::Partition { link, down });
    }

    /// Connects two hosts or node ports with a link (whose directions are already set up).
    pub fn add_link(&mut self, link: Link) {
        let idx = self.links.len();
        let ends = [link.a, link.b];
        for (dir, (me, peer)) in [(ends[0], ends[1]), (ends[1], ends[0])].into_iter().enumerate() {
            match me {
                End::Host(h) => {
                    let peer_mac = self.end_mac(peer);
                    self.hosts[h].ports.push((idx, dir, peer_mac));
                }
                End::Port { node, port } => self.nodes[node].ports[port].link = Some((idx, dir)),
            }
        }
        self.links.push(link);
    }

    /// The MAC address a host sends to, to reach this end of a link (`None`: a switch port, which takes all).
    fn end_mac(&self, end: End) -> Option<EthernetAddress> {
        match end {
            End::Host(h) => Some(self.hosts[h].mac),
            End::Port { node, port } => match self.nodes[node].kind {
                crate::node::NodeKind::Switch(_) => None,
                crate::node::NodeKind::Router(_) => Some(self.nodes[node].ports[port].mac),
            },
        }
    }

    /// Schedules a frame copy leaving direction `dir` of `link` for the end it leads to.
    pub(crate) fn schedule_delivery(&mut self, link: usize, dir: usize, from: Option<usize>, d: Delivery) {
        let l = &self.links[link];
        let to = if dir == 0 { l.b } else { l.a };
        let ev = match to {
            End::Host(host) => Ev::Deliver { host, from, bytes: d.bytes, note: d.note },
            End::Port { node, port } => Ev::NodeRx { node, port, bytes: d.bytes, note: d.note },
        };
        self.queue.push(d.at, Some(2 * link + dir), ev);
    }

    /// Records every fault and random decision of every link direction from now on.
    pub fn set_recording(&mut self, on: bool) {
        for l in &mut self.links {
            for d in &mut l.dirs {
                d.recording = on;
            }
        }
    }

    /// The recorded decisions, link by link, a->b before b->a, in the order they were made.
    pub fn recorded_faults(&self) -> Vec<Fault> {
        self.links.iter().flat_map(|l| l.dirs.iter().flat_map(|d| d.record.iter().cloned())).collect()
    }

    /// True when every app of every host has started and finished.
    pub fn all_finished(&self) -> bool {
        self.unstarted == 0 && self.hosts.iter().all(|h| h.apps.iter().all(|a| a.is_finished()))
    }

    /// Runs until the time limit, until nothing is left to do, or (with `stop_when_done`) until every app is
    /// finished.
    pub fn run(&mut self) {
        // A stack may have a timer before anything happens to it (a DHCP client's first DISCOVER).
        for host in 0..self.hosts.len() {
            let h = &mut self.hosts[host];
            if let Some(t) = h.stack.poll_timeout().filter(|t| h.timer_at != Some(*t)) {
                h.timer_at = Some(t);
                self.push(t.max(self.now), Ev::StackTimer { host, deadline: t });
            }
        }
        for node in 0..self.nodes.len() {
            self.schedule_node_timer(node);
        }
        while let Some((at, ev)) = self.queue.pop_until(self.end) {
            self.now = at;
            self.events += 1;
            self.dispatch(ev);
            if self.apps_touched {
                self.apps_touched = false;
                if self.stop_when_done && self.all_finished() {
                    break;
                }
            }
        }
    }

    fn dispatch(&mut self, ev: Ev) {
        let now = self.now;
        match ev {
            Ev::Deliver { host, from, bytes, note } => {
                self.frames_delivered += 1;
                let h = &mut self.hosts[host];
                h.stack.handle_into(Input::Frame(&bytes), now, &mut self.out);
                if let Some(c) = h.capture.as_mut() {
                    // Recorded after the stack took it, so that the frame's comment says what it did to the
                    // connection (state changes) or why it dropped it; before the frames it sent in answer.
                    let told: Vec<String> = Note::take_received(&mut self.out).iter().map(Note::to_string).collect();
                    for line in &told {
                        tracing::debug!(target: "synack_sim::explain", host = %h.name, at = %now, "{line}");
                    }
                    c.record(now, &bytes, join_comment(note.as_deref(), &told).as_deref());
                }
                // The buffer is free again: the stack that built it builds a later frame in it (a bulk sender
                // would otherwise allocate every frame while its receiver's pool overflows).
                if let Some(from) = from {
                    self.hosts[from].stack.recycle_frame(bytes);
                }
                self.after_stack(host);
            }
            Ev::StackTimer { host, deadline } => {
                let h = &mut self.hosts[host];
                if h.timer_at == Some(deadline) {
                    h.timer_at = None;
                    h.stack.handle_into(Input::Timer, now, &mut self.out);
                    self.after_stack(host);
                }
            }
            Ev::AppStart { host, app } => {
                self.unstarted -= 1;
                self.with_app(host, app, |a, cx| a.start(cx));
                self.after_stack(host);
            }
            Ev::AppTimer { host, app, token } => {
                self.with_app(host, app, |a, cx| a.on_timer(cx, token));
                self.after_stack(host);
            }
            Ev::Partition { link, down } => {
                for d in &mut self.links[link].dirs {
                    d.partition.down = down;
                }
            }
            Ev::NodeRx { node, port, bytes, note } => {
                self.frames_delivered += 1;
                self.node_receive(node, port, bytes, note);
            }
            Ev::PortSent { node, port } => self.port_sent(node, port),
            Ev::NodeTimer { node, deadline } => self.node_timer(node, deadline),
        }
    }

    fn with_app(&mut self, host: usize, app: usize, f: impl FnOnce(&mut dyn App, &mut Cx<'_>)) {
        self.apps_touched = true;
        let h = &mut self.hosts[host];
        let mut cx = Cx {
            now: self.now,
            run_seed: self.seed,
            host,
            stack: &mut h.stack,
            out: &mut self.out,
            owners: &mut h.owners,
            app,
            timers: &mut self.timers,
        };
        f(h.apps[app].as_mut(), &mut cx);
    }

    /// Carries out what the stack of `host` produced: frames go to the links, events to the apps that own
    /// the sockets (whose own commands may produce more), then timers are rescheduled.
    fn after_stack(&mut self, host: usize) {
        let mut events = std::mem::take(&mut self.socket_events);
        let mut next = 0;
        // State changes and drops that no received frame carries (a command, a timer) go with the next frame the
        // host sends other than an ARP or neighbour discovery one (a connect's SYN may wait behind its ARP
        // request; the change is the SYN's), even one of a later turn; a frame's own reason follows it.
        let mut told = std::mem::take(&mut self.hosts[host].pending_notes);
        loop {
            let mut outs = std::mem::take(&mut self.out);
            let mut it = outs.drain(..).peekable();
            while let Some(o) = it.next() {
                match o {
                    Output::Transmit(frame) => {
                        let own = match it.peek() {
                            Some(Output::Note(Note::Sent(why))) => {
                                let note = Note::Sent(*why);
                                trace_note(&self.hosts[host].name, self.now, &note);
                                it.next();
                                Some(note.to_string())
                            }
                            _ => None,
                        };
                        if is_neighbour_discovery(&frame) {
                            self.transmit(host, frame, own.as_slice());
                        } else {
                            told.extend(own);
                            self.transmit(host, frame, &told);
                            told.clear();
                        }
                    }
                    Output::Event(sock, ev) => events.push((sock, ev)),
                    Output::Note(n) => {
                        trace_note(&self.hosts[host].name, self.now, &n);
                        told.push(n.to_string());
                    }
                    Output::Reply(_) => {}
                }
            }
            drop(it);
            self.out = outs;
            let Some((sock, ev)) = events.get(next).cloned() else { break };
            next += 1;
            if let Some(&app) = self.hosts[host].owners.get(&sock) {
                self.with_app(host, app, |a, cx| a.on_event(cx, sock, &ev));
            }
        }
        // A host that only receives would keep them without end: the latest few are what its next frame tells.
        if told.len() > MAX_PENDING_NOTES {
            told.drain(..told.len() - MAX_PENDING_NOTES);
        }
        self.hosts[host].pending_notes = told;
        events.clear();
        self.socket_events = events;
        let mut timers = std::mem::take(&mut self.timers);
        for (at, app, token) in timers.drain(..) {
            self.push(at.max(self.now), Ev::AppTimer { host, app, token });
        }
        self.timers = timers;
        if let Some(series) = self.series.as_mut() {
            let h = &self.hosts[host];
            series.sample(host, &h.name, &h.stack, self.now);
        }
        let h = &mut self.hosts[host];
        match h.stack.poll_timeout() {
            Some(t) if h.timer_at != Some(t) => {
                h.timer_at = Some(t);
                let at = t.max(self.now);
                self.push(at, Ev::StackTimer { host, deadline: t });
            }
            Some(_) => {}
            None => h.timer_at = None,
        }
    }

    /// Sends a frame from `host` down its links.
    fn transmit(&mut self, host: usize, frame: Vec<u8>, told: &[String]) {
        let now = self.now;
        let dst = EthernetFrame::new_checked(&frame[..]).ok().map(|f| f.dst_addr());
        let group = dst.is_some_and(|d| d.is_multicast());
        let leads_there =
            |&(_, _, peer): &(usize, usize, Option<EthernetAddress>)| group || peer.is_none() || peer == dst;
        let h = &self.hosts[host];
        let targets = h.ports.iter().filter(|p| leads_there(p)).count();
        let captured = h.capture.as_ref().is_some_and(|c| c.wants(now)).then(|| frame.clone());
        let mut note: Option<String> = None;
        if targets == 0 {
            self.hosts[host].unroutable += 1;
            note = Some("not sent: no link leads to the destination MAC".into());
        }
        let mut frame = Some(frame);
        let mut deliveries = std::mem::take(&mut self.deliveries);
        let mut sent = 0;
        for port in 0..self.hosts[host].ports.len() {
            let p = self.hosts[host].ports[port];
            if !leads_there(&p) {
                continue;
            }
            let (link, dir, _) = p;
            sent += 1;
            let bytes =
                if sent == targets { frame.take().unwrap_or_default() } else { frame.clone().unwrap_or_default() };
            let l = &mut self.links[link];
            let to = if dir == 0 { l.b } else { l.a };
            if let Some(n) = l.dirs[dir].process_into(bytes, now, &mut deliveries) {
                let n = if targets > 1 { format!("to {}: {n}", self.end_name(to)) } else { n };
                note = Some(match note {
                    Some(prev) => format!("{prev}; {n}"),
                    None => n,
                });
            }
            for d in deliveries.drain(..) {
                self.schedule_delivery(link, dir, Some(host), d);
            }
        }
        self.deliveries = deliveries;
        if let (Some(c), Some(bytes)) = (self.hosts[host].capture.as_mut(), captured) {
            c.record(now, &bytes, join_comment(note.as_deref(), told).as_deref());
        }
    }

    /// Reports of every app, host by host.
    pub fn app_reports(&self) -> Vec<AppReport> {
        let mut v = Vec::new();
        for h in &self.hosts {
            for a in &h.apps {
                let mut r = a.report();
                r.host = h.name.clone();
                v.push(r);
            }
        }
        v
    }

    /// Takes the finished pcapng files: (host name, bytes), then (`<node>-<port>`, bytes) for every node port.
    pub fn take_captures(&mut self) -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<(String, Vec<u8>)> =
            self.hosts.iter_mut().filter_map(|h| h.capture.take().map(|c| (h.name.clone(), c.into_bytes()))).collect();
        for n in &mut self.nodes {
            for p in &mut n.ports {
                if let Some(c) = p.capture.take() {
                    v.push((format!("{}-{}", n.name, p.name), c.into_bytes()));
                }
            }
        }
        v
    }

    /// A link end in words: the host's name, or `node:port`.
    pub fn end_name(&self, end: End) -> String {
        match end {
            End::Host(h) => self.hosts[h].name.clone(),
            End::Port { node, port } => format!("{}:{}", self.nodes[node].name, self.nodes[node].ports[port].name),
        }
    }
}

/// A packet comment: what the link did (if anything), then what the stack said, one line each.
fn join_comment(link: Option<&str>, told: &[String]) -> Option<String> {
    if told.is_empty() {
        return link.map(str::to_string);
    }
    let mut lines: Vec<&str> = link.into_iter().collect();
    lines.extend(told.iter().map(String::as_str));
    Some(lines.join("\n"))
}

/// A note as a `tracing` event (target `synack_sim::explain`, level DEBUG): off unless a subscriber asks for it.
fn trace_note(host: &str, at: Instant, note: &Note) {
    tracing::debug!(target: "synack_sim::explain", host, at = %at, "{note}");
}

/// Notes kept for a host's next frame, at most (the latest).
const MAX_PENDING_NOTES: usize = 1024;

/// An ARP frame, or an ICMPv6 neighbour or router discovery message (types 133 to 137): the link's own business,
/// which carries no connection's state changes.
fn is_neighbour_discovery(frame: &[u8]) -> bool {
    match frame.get(12..14) {
        Some([0x08, 0x06]) => true,
        // IPv6 without extension headers (as NDP is sent), next header 58, the ICMPv6 type after the 40 bytes.
        Some([0x86, 0xdd]) => frame.get(20) == Some(&58) && frame.get(54).is_some_and(|t| (133..=137).contains(t)),
        _ => false,
    }
}
