//! Simulator throughput: simulated frames per wall-clock second on an unimpaired link.
//!
//! `cargo run --release -p synack-sim --example throughput [MEGABYTES]`
//!
//! Two hosts, one unimpaired link (1 ms delay, no rate limit, no capture): a TCP bulk transfer and a UDP
//! burst. Every frame is built, checksummed, parsed and acknowledged by real stacks; the figure is therefore
//! the whole system (stacks + engine + link pipeline), not the engine alone.

use std::time::Instant;
use synack_sim::{run, BuildOptions, Scenario, Source};

fn scenario(app: &str) -> String {
    format!(
        r#"
name = "throughput"
duration = "1000s"
[[host]]
name = "a"
ip = "10.0.0.1/24"
[[host]]
name = "b"
ip = "10.0.0.2/24"
[[link]]
a = "a"
b = "b"
{app}
"#
    )
}

fn measure(label: &str, text: &str) {
    let file = label.to_string();
    let sc = Scenario::parse(&file, text).unwrap_or_else(|e| panic!("{e}"));
    let src = Source { file, text: text.to_string() };
    let wall = Instant::now();
    let out = run(&sc, &src, &BuildOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let secs = wall.elapsed().as_secs_f64();
    let frames = out.result.frames_delivered;
    assert!(out.result.passed(), "{}", out.result);
    println!(
        "{label}: {frames} frames in {secs:.3}s wall ({:.0} frames/s, {:.2} virtual s), {} events",
        frames as f64 / secs,
        out.result.end.as_nanos() as f64 / 1e9,
        out.result.events
    );
}

fn main() {
    let mb: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(200);
    let tcp = format!(
        "[[app]]\nname = \"sink\"\nhost = \"b\"\nkind = \"tcp_sink\"\n[[app]]\nname = \"bulk\"\nhost = \"a\"\nkind = \"tcp_bulk\"\ndst = \"b\"\nbytes = {}\n[[expect]]\napp = \"sink\"\nhash_equals = \"bulk\"\n",
        mb * 1_000_000
    );
    measure(&format!("tcp bulk {mb} MB"), &scenario(&tcp));
    let udp = "[[app]]\nname = \"sink\"\nhost = \"b\"\nkind = \"udp_sink\"\n[[app]]\nname = \"burst\"\nhost = \"a\"\nkind = \"udp_bulk\"\ndst = \"b\"\ncount = 200000\nsize = 100\ninterval = \"1us\"\n[[expect]]\napp = \"burst\"\n";
    measure("udp 200k datagrams", &scenario(udp));
}
