//! Simulator throughput: simulated frames per wall-clock second on an unimpaired link.
//!
//! `cargo run --release -p synack-sim --example throughput [MEGABYTES] [tcp|tcp-sha256|udp]...`
//!
//! Two hosts, one unimpaired link (1 ms delay, no rate limit, no capture): a TCP bulk transfer and a UDP
//! burst. Every frame is built, checksummed, parsed and acknowledged by real stacks; the figure is therefore
//! the whole system (stacks + engine + link pipeline + apps), not the engine alone. The TCP transfer is checked
//! by byte counts, as in a sweep of a scenario without `hash_equals` (no app hashes); `tcp-sha256` repeats it
//! with the sink's SHA-256 compared with the sender's, which costs more than the simulation itself. CPU time
//! is printed beside wall time: on a shared machine it is the steadier figure.

use std::time::Instant;
use synack_sim::{run, BuildOptions, Digests, Scenario, Source};

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

/// CPU time this thread has run so far, in seconds (Linux's /proc/thread-self/schedstat, in nanoseconds);
/// `None` elsewhere.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: u64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(nanos as f64 / 1e9)
}

fn measure(label: &str, text: &str, check: impl Fn(&synack_sim::RunResult)) {
    let file = label.to_string();
    let sc = Scenario::parse(&file, text).unwrap_or_else(|e| panic!("{e}"));
    let src = Source { file, text: text.to_string() };
    let opts = BuildOptions { digests: Digests::Checked, ..BuildOptions::default() };
    let (wall, cpu) = (Instant::now(), cpu_seconds());
    let out = run(&sc, &src, &opts).unwrap_or_else(|e| panic!("{e}"));
    let secs = wall.elapsed().as_secs_f64();
    let cpu = cpu.zip(cpu_seconds()).map(|(a, b)| b - a);
    let frames = out.result.frames_delivered;
    assert!(out.result.passed(), "{}", out.result);
    check(&out.result);
    let per_cpu = cpu.filter(|c| *c > 0.0).map(|c| format!(", {:.0} frames/s of CPU time", frames as f64 / c));
    println!(
        "{label}: {frames} frames in {secs:.3}s wall ({:.0} frames/s{}, {:.2} virtual s), {} events",
        frames as f64 / secs,
        per_cpu.unwrap_or_default(),
        out.result.end.as_nanos() as f64 / 1e9,
        out.result.events
    );
}

fn tcp(mb: u64, sha256: bool) -> String {
    let expect = if sha256 { "hash_equals = \"bulk\"" } else { "complete = true" };
    format!(
        "[[app]]\nname = \"sink\"\nhost = \"b\"\nkind = \"tcp_sink\"\n[[app]]\nname = \"bulk\"\nhost = \"a\"\nkind = \"tcp_bulk\"\ndst = \"b\"\nbytes = {}\n[[expect]]\napp = \"sink\"\n{expect}\n[[expect]]\napp = \"bulk\"\n",
        mb * 1_000_000
    )
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mb: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(200);
    let picked: Vec<&str> = args.iter().skip_while(|a| a.parse::<u64>().is_ok()).map(String::as_str).collect();
    let wants = |what: &str| picked.is_empty() && what != "tcp-sha256" || picked.contains(&what);
    // Every byte arrived: the sink read as much as the sender sent, and the sender sent all it had.
    let all_bytes = |r: &synack_sim::RunResult| {
        let bytes: Vec<u64> = r.apps.iter().map(|a| a.bytes).collect();
        assert_eq!(bytes, [mb * 1_000_000; 2], "bytes read and sent");
    };
    if wants("tcp") {
        measure(&format!("tcp bulk {mb} MB"), &scenario(&tcp(mb, false)), all_bytes);
    }
    if wants("tcp-sha256") {
        measure(&format!("tcp bulk {mb} MB, SHA-256 compared"), &scenario(&tcp(mb, true)), all_bytes);
    }
    if wants("udp") {
        let udp = "[[app]]\nname = \"sink\"\nhost = \"b\"\nkind = \"udp_sink\"\n[[app]]\nname = \"burst\"\nhost = \"a\"\nkind = \"udp_bulk\"\ndst = \"b\"\ncount = 200000\nsize = 100\ninterval = \"1us\"\n[[expect]]\napp = \"burst\"\n";
        measure("udp 200k datagrams", &scenario(udp), |_| {});
    }
}
