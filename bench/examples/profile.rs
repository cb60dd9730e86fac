//! Fixed workloads for profilers (`valgrind --tool=callgrind`, `perf record`): one synack bulk transfer of N MiB
//! (`profile N`), or N rounds of 20,000 sequential handshakes, each round on a new stack pair (`profile
//! handshakes N`; one pair runs out of ephemeral ports past ~64k, as its TIME-WAIT connections keep theirs).
//!
//! `profile ipv6 N` runs the synack bulk transfer over IPv6 (both stacks dual-stack, the connection to B's IPv6
//! address), to compare instruction counts per byte with the IPv4 run under callgrind.
//!
//! `profile smoltcp N` runs the same bulk transfer through smoltcp's harness (checksums on), and `profile smoltcp
//! handshakes N` its handshakes, to compare profiles.
//!
//! `cargo build --release -p synack-bench --example profile && valgrind --tool=callgrind \
//!   /tmp/target-bench/release/examples/profile 16`

#[path = "../common/smol.rs"]
mod smol;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("handshakes") {
        let rounds: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(5);
        for _ in 0..rounds {
            let h = synack_bench::synack_handshakes(20_000);
            println!("{} handshakes, {} frames, {:.0} per second", h.count, h.frames, h.count as f64 / h.secs);
        }
        return;
    }
    if args.first().map(String::as_str) == Some("smoltcp") && args.get(1).map(String::as_str) == Some("handshakes") {
        let rounds: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(5);
        for _ in 0..rounds {
            let h = smol::smol_handshakes(20_000, true);
            println!("smoltcp: {} handshakes, {} frames, {:.0} per second", h.count, h.frames, h.count as f64 / h.secs);
        }
        return;
    }
    if args.first().map(String::as_str) == Some("ipv6") {
        let mib: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(16);
        let r = synack_bench::synack_bulk_over(synack_bench::Family::Ipv6, mib << 20, false, false);
        println!(
            "IPv6: {} bytes, {} frames, {:.2} Gbit/s, frame digest {:?}",
            r.bytes,
            r.frames,
            r.gbit_per_s(),
            r.digest
        );
        return;
    }
    if args.first().map(String::as_str) == Some("smoltcp") {
        let mib: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(16);
        let r = smol::smol_bulk(mib << 20, false, true);
        println!("smoltcp: {} bytes, {} frames, {:.2} Gbit/s", r.bytes, r.frames, r.gbit_per_s());
        return;
    }
    let mib: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(16);
    let r = synack_bench::synack_bulk(mib << 20, false);
    println!("{} bytes, {} frames, {:.2} Gbit/s, frame digest {:?}", r.bytes, r.frames, r.gbit_per_s(), r.digest);
}
