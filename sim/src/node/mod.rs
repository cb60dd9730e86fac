//! Nodes besides hosts: learning Ethernet [`Switch`]es and IPv4/IPv6 [`Router`]s. A node has ports; each port is
//! on one link, has a MAC address, an [`Egress`] queue (a rate and a queue discipline, or none: send at once)
//! and its own capture (`<scenario>-<node>-<port>.pcapng`).

mod egress;
mod router;
mod router6;
mod switch;

pub use egress::{Egress, Offered};
pub use router::{fragment, mask, Interface, Route, Router, ICMP_BURST, ICMP_PER_SECOND, MAX_PENDING};
pub use router6::{mask6, Advertise, Route6, DEFAULT_RA_INTERVAL, MIN_DELAY_BETWEEN_RAS};
pub use switch::Switch;

use crate::capture::Capture;
use std::collections::BTreeMap;
use synack::wire::EthernetAddress;

/// What a node is.
#[derive(Debug)]
pub enum NodeKind {
    Switch(Switch),
    Router(Router),
}

/// One port of a node.
#[derive(Debug)]
pub struct Port {
    pub name: String,
    pub mac: EthernetAddress,
    /// (link, direction index of the port's sending direction), once linked.
    pub link: Option<(usize, usize)>,
    pub egress: Egress,
    pub capture: Option<Capture>,
}

#[derive(Debug)]
pub struct Node {
    pub name: String,
    pub ports: Vec<Port>,
    pub kind: NodeKind,
    /// The deadline of the node's pending timer event, if one is queued.
    pub(crate) timer_at: Option<synack::Instant>,
}

impl Node {
    /// When the node next acts of its own accord (a router's advertisement).
    pub fn poll_timeout(&self) -> Option<synack::Instant> {
        match &self.kind {
            NodeKind::Router(r) => r.poll_timeout(),
            NodeKind::Switch(_) => None,
        }
    }

    /// The node's counters, by what: a router's forwarding decisions, a switch's floods and forwards.
    pub fn counters(&self) -> BTreeMap<&'static str, u64> {
        match &self.kind {
            NodeKind::Router(r) => r.counters.clone(),
            NodeKind::Switch(s) => [
                ("forwarded", s.forwarded),
                ("flooded", s.flooded),
                ("filtered", s.filtered),
                ("dropped: malformed frame", s.malformed),
            ]
            .into_iter()
            .filter(|&(_, n)| n > 0)
            .collect(),
        }
    }

    /// `switch` or `router`.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            NodeKind::Switch(_) => "switch",
            NodeKind::Router(_) => "router",
        }
    }
}
