//! synack: a user-space TCP/IP stack whose whole protocol logic is one pure state machine.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod tcp;
pub mod time;
pub mod wire;

pub use time::Instant;
