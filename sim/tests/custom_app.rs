//! Apps of your own, tested the way turmoil users test: a network built in Rust (two hosts through a router),
//! a request/response protocol with its own framing over TCP (`examples/custom_protocol.rs`), assertions on
//! what the apps report, and determinism (same seed, same bytes on the wire).

#[allow(dead_code)] // the example's `main` and `network` are not used here
#[path = "../examples/custom_protocol.rs"]
mod custom_protocol;

use custom_protocol::{answer, fnv1a, frame, Deframer, RpcClient, RpcServer};
use std::time::Duration;
use synack_sim::app::AppReport;
use synack_sim::builder::NetworkBuilder;

const REQUESTS: u64 = 50;

/// Everything a run leaves: the app reports and every capture.
struct Run {
    reports: Vec<AppReport>,
    captures: Vec<(String, Vec<u8>)>,
    end: synack::Instant,
}

fn run(seed: u64, loss: f64) -> Run {
    let mut net = NetworkBuilder::new("custom_app");
    net.seed(seed).duration(Duration::from_secs(120)).capture(true);
    net.host("client", "10.0.1.2/24").gateway([10, 0, 1, 1].into());
    net.host("server", "10.0.2.2/24").gateway([10, 0, 2, 1].into());
    net.router("r1").interface("lan", "10.0.1.1/24").interface("wan", "10.0.2.1/24");
    net.link("client", "r1:lan").delay(Duration::from_millis(5)).loss(loss).rate(10_000_000, 64 * 1024);
    net.link("r1:wan", "server").delay(Duration::from_millis(20)).loss(loss);
    net.app("server", Duration::ZERO, Box::new(RpcServer::new("server", 7000)));
    let server = "10.0.2.2:7000".parse().unwrap();
    net.app("client", Duration::from_millis(10), Box::new(RpcClient::new("client", server, REQUESTS)));
    let mut sim = net.build().unwrap_or_else(|e| panic!("{e}"));
    sim.run();
    Run { reports: sim.app_reports(), end: sim.now, captures: sim.take_captures() }
}

fn by_name<'a>(run: &'a Run, name: &str) -> &'a AppReport {
    run.reports.iter().find(|r| r.name == name).unwrap_or_else(|| panic!("no app {name}"))
}

#[test]
fn every_request_gets_its_computed_answer_through_a_router() {
    let run = run(1, 0.01);
    let client = by_name(&run, "client");
    let server = by_name(&run, "server");
    assert!(client.errors.is_empty() && server.errors.is_empty(), "{:?} {:?}", client.errors, server.errors);
    assert!(client.complete, "client: {}", client.status());
    assert_eq!(client.count, REQUESTS, "answers the client verified");
    assert_eq!(server.count, REQUESTS, "requests the server answered");
    assert_eq!(client.rtts.len(), REQUESTS as usize);
    // Each answer crosses the router both ways: 2 x (5 + 20) ms of propagation at least.
    let fastest = client.rtts.iter().min().copied().unwrap_or_default();
    assert!(fastest >= Duration::from_millis(50), "fastest answer {fastest:?}");
    // Answers are 8 bytes longer than requests (the hash), each message has a 4-byte length.
    assert_eq!(client.bytes, server.bytes + 8 * REQUESTS, "client read {}, server {}", client.bytes, server.bytes);
    assert_eq!(client.host, "client");
    assert_eq!(server.host, "server");
    let names: Vec<&str> = run.captures.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["client", "server", "r1-lan", "r1-wan"]);
    assert!(run.end > synack::Instant::ZERO);
}

#[test]
fn same_seed_same_bytes_other_seed_other_run() {
    let a = run(7, 0.02);
    let b = run(7, 0.02);
    assert!(by_name(&a, "client").complete, "{}", by_name(&a, "client").status());
    assert_eq!(a.reports, b.reports, "app reports of two runs with seed 7");
    assert_eq!(a.end, b.end);
    assert_eq!(a.captures.len(), b.captures.len());
    for ((name, x), (_, y)) in a.captures.iter().zip(&b.captures) {
        assert!(x == y, "capture {name} differs between two runs with seed 7");
    }
    // Another seed draws other request sizes, think times, losses and initial sequence numbers.
    let c = run(8, 0.02);
    assert!(by_name(&c, "client").complete, "{}", by_name(&c, "client").status());
    assert_ne!(by_name(&a, "client").rtts, by_name(&c, "client").rtts, "answer times of seeds 7 and 8");
    assert_ne!(by_name(&a, "server").bytes, by_name(&c, "server").bytes, "request bytes of seeds 7 and 8");
}

#[test]
fn the_framing_survives_any_split() {
    let messages: Vec<Vec<u8>> = (0..20u8).map(|i| vec![i; usize::from(i) * 37]).collect();
    let stream: Vec<u8> = messages.iter().flat_map(|m| frame(m)).collect();
    for piece in [1, 3, 4, 5, 100, stream.len()] {
        let mut d = Deframer::default();
        let mut got = Vec::new();
        for chunk in stream.chunks(piece) {
            d.push(chunk);
            while let Some(m) = d.next_message().unwrap() {
                got.push(m);
            }
        }
        assert_eq!(got, messages, "pieces of {piece} bytes");
    }
    let mut d = Deframer::default();
    d.push(&u32::MAX.to_be_bytes());
    assert!(d.next_message().is_err(), "a length above the limit is refused");
    let reply = answer(&[0, 0, 0, 0, 0, 0, 0, 9, b'a', b'b']).unwrap();
    assert_eq!(&reply[..8], &[0, 0, 0, 0, 0, 0, 0, 9]);
    assert_eq!(reply[8..16], fnv1a(b"ab").to_be_bytes());
    assert_eq!(&reply[16..], b"ba");
    assert!(answer(b"short").is_err());
}
