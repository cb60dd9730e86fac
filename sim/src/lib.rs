//! synack-sim: a deterministic network simulator for the synack stack.
//!
//! A [`Scenario`] (TOML) names hosts (each a [`synack::Stack`] plus scripted [`app`]s), links with
//! per-direction [`impairment`] pipelines, scheduled events, exact faults and expectations. [`run::run`]
//! simulates it in virtual time; the same scenario and seed give the same frames, byte for byte, and the same
//! pcapng captures. [`shrink`] reduces a failing run to the few faults that matter.
//!
//! # Your own apps
//!
//! The simulator is also a library for testing protocols of your own over synack, the way one tests with
//! turmoil: build a network in Rust with a [`builder::NetworkBuilder`] (hosts, routers, switches, links with
//! delay, rate and loss), put apps of your own on its hosts, run it, and assert on what the apps report.
//!
//! The model: each host is a [`synack::Stack`] with a list of apps, each app an [`app::App`]. Nothing runs on
//! its own. The simulator pops the next event in virtual time (a frame arriving, a stack timer, an app's start
//! or timer) and calls the app it concerns with a [`app::Cx`]: through it the app runs [`synack::Command`]s on
//! its host's stack (sockets it creates are its own, and their [`synack::Event`]s come back to it), reads the
//! virtual clock and sets timers. When every app [`is_finished`](app::App::is_finished), or at the time limit,
//! the run ends and [`Sim::app_reports`] collects each app's [`app::AppReport`].
//!
//! Determinism: the same network and seed give the same frames, byte for byte, and the same reports, provided
//! the apps keep to the rules the simulator keeps: read time only from [`app::Cx::now`] (never
//! `std::time`), draw randomness only from [`app::Cx::seed`] or a seed given to the app (never `thread_rng`
//! or the OS), start no thread, and let no `HashMap`/`HashSet` iteration order decide anything (use
//! `BTreeMap` or a `Vec`).
//!
//! An app that connects, sends a greeting, and counts the bytes the built-in echo server sends back:
//!
//! ```
//! use std::time::Duration;
//! use synack::{Command, Event, Reply, SocketHandle};
//! use synack_sim::app::{App, AppReport, Cx, TcpEcho};
//! use synack_sim::builder::NetworkBuilder;
//!
//! #[derive(Debug)]
//! struct Greeter {
//!     report: AppReport,
//! }
//!
//! impl App for Greeter {
//!     fn start(&mut self, cx: &mut Cx<'_>) {
//!         let remote = "10.0.0.2:7".parse().unwrap();
//!         if let Err(e) = cx.command(Command::TcpConnect { remote, local_port: None }) {
//!             self.report.errors.push(format!("connect: {e}"));
//!         }
//!     }
//!     fn on_event(&mut self, cx: &mut Cx<'_>, sock: SocketHandle, event: &Event) {
//!         match event {
//!             Event::Connected => {
//!                 let _ = cx.command(Command::TcpSend { sock, data: b"hello".to_vec() });
//!             }
//!             Event::Readable => {
//!                 if let Ok(Reply::Data(data)) = cx.command(Command::TcpRecv { sock, max: 1024 }) {
//!                     self.report.bytes += data.len() as u64;
//!                 }
//!                 if self.report.bytes == 5 {
//!                     let _ = cx.command(Command::TcpClose { sock });
//!                     self.report.complete = true;
//!                     self.report.done_at = Some(cx.now());
//!                 }
//!             }
//!             _ => {}
//!         }
//!     }
//!     fn is_finished(&self) -> bool {
//!         self.report.complete || !self.report.errors.is_empty()
//!     }
//!     fn report(&self) -> AppReport {
//!         self.report.clone()
//!     }
//! }
//!
//! let mut net = NetworkBuilder::new("greeting");
//! net.host("client", "10.0.0.1/24");
//! net.host("server", "10.0.0.2/24");
//! net.link("client", "server").delay(Duration::from_millis(20));
//! let echo = TcpEcho::new(AppReport::new("echo", "tcp_echo", "connections"), 7);
//! net.app("server", Duration::ZERO, Box::new(echo));
//! let greeter = Greeter { report: AppReport::new("greeter", "greeter", "bytes") };
//! net.app("client", Duration::from_millis(1), Box::new(greeter));
//! let mut sim = net.build().unwrap();
//! sim.run();
//! let reports = sim.app_reports();
//! let greeter = reports.iter().find(|r| r.name == "greeter").unwrap();
//! assert!(greeter.complete);
//! // Handshake, request and answer: two round trips of 40 ms, after the ARP exchange.
//! assert!(greeter.done_at.unwrap().as_nanos() > 80_000_000);
//! ```
//!
//! `sim/examples/custom_protocol.rs` is a complete program: a request/response protocol with its own
//! length-prefixed framing between two hosts through a router (`cargo run -p synack-sim --example
//! custom_protocol`).

pub mod app;
pub mod aqm;
pub mod build;
pub mod builder;
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
pub use builder::NetworkBuilder;
pub use engine::Sim;
pub use run::{run, RunOutput};
pub use scenario::{Scenario, ScenarioError, Source};
pub use summary::RunResult;
