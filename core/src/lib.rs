//! synack: a user-space TCP/IP stack whose whole protocol logic is one pure state machine.
//!
//! ```
//! use synack::{Command, Config, Input, Instant, Output, Stack};
//! let mut stack = Stack::new(Config { ipv4: "10.0.0.2/24".parse().unwrap(), seed: 7, ..Config::default() }).unwrap();
//! let out = stack.handle(Input::Command(Command::UdpBind { local: "0.0.0.0:7".parse().unwrap() }), Instant::ZERO);
//! assert!(matches!(out[0], Output::Reply(Ok(_))));
//! ```
//!
//! Every [`Command`] yields exactly one [`Output::Reply`], first in its output. When only the reply is wanted,
//! [`Stack::command`] returns it directly and appends the other effects (frames, events) to a vector:
//!
//! ```
//! use synack::{Command, Config, Instant, Reply, Stack};
//! let mut stack = Stack::new(Config { ipv4: "10.0.0.2/24".parse().unwrap(), ..Config::default() }).unwrap();
//! let mut out = Vec::new();
//! let reply = stack.command(Command::UdpBind { local: "0.0.0.0:7".parse().unwrap() }, Instant::ZERO, &mut out);
//! assert!(matches!(reply, Ok(Reply::Bound { .. })));
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod api;
mod arp;
pub mod config;
pub mod dhcp;
pub mod explain;
mod icmp;
mod ip;
mod ip_ident;
mod ipv4;
pub(crate) mod ipv6;
// Wired into `Stack` by `ipv6.rs`; a few read-only accessors (cache size, link parameters, router and prefix
// lists) serve only its unit tests so far.
#[allow(dead_code)]
mod ndp;
mod path_mtu;
mod ports;
mod ranges;
mod ratelimit;
mod reassembly;
pub mod resolver;
pub mod seed;
mod stack;
pub mod stats;
pub mod tcp;
pub mod time;
mod timer;
mod udp;
pub mod wire;

pub use api::{AddressChange, Command, CommandError, Event, Input, Output, Reply, SocketHandle, UnreachableReason};
/// The shared, reference-counted byte buffer [`Stack::tcp_write`] takes (re-exported so callers need not
/// match the `bytes` version).
pub use bytes::Bytes;
pub use config::{ArpConfig, Config, ConfigError, Ipv4Cidr, Ipv6Cidr, Ipv6Config, RateLimit, ReassemblyConfig};
pub use dhcp::{DhcpConfig, DhcpEvent, DhcpLease, LostReason};
pub use explain::{AckWhy, Note, ResetWhy, Why};
pub use ipv6::Ipv6Address;
pub use ndp::{NdpConfig, NdpConfigError};
pub use stack::{RxFrame, Stack};
pub use stats::{DropReason, Layer, Stats};
pub use time::Instant;
