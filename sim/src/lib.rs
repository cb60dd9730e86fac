//! synack-sim: a deterministic network simulator for the synack stack.
//!
//! A [`Scenario`] (TOML) names hosts (each a [`synack::Stack`] plus scripted [`app`]s), links with
//! per-direction [`impairment`] pipelines, scheduled events, exact faults and expectations. [`run::run`]
//! simulates it in virtual time; the same scenario and seed give the same frames, byte for byte, and the same
//! pcapng captures. [`shrink`] reduces a failing run to the few faults that matter.

pub mod app;
pub mod aqm;
pub mod build;
pub mod capture;
pub mod cli;
pub mod decode;
pub mod engine;
pub mod expect;
pub mod impairment;
mod ip_view;
pub mod lab_summary;
pub mod ladder;
pub mod link;
pub mod node;
pub mod plot;
pub mod queue;
pub mod rng;
pub mod run;
pub mod scenario;
pub mod series;
pub mod shrink;
pub mod summary;
pub mod topology;
pub mod units;

pub use build::{build, BuildOptions, Digests};
pub use engine::Sim;
pub use run::{run, RunOutput};
pub use scenario::{Scenario, ScenarioError, Source};
pub use summary::RunResult;
