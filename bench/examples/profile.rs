//! A fixed workload for profilers (`valgrind --tool=callgrind`, `perf record`): one synack bulk transfer.
//!
//! `cargo build --release -p synack-bench --example profile && valgrind --tool=callgrind \
//!   /tmp/target-bench/release/examples/profile 16`

fn main() {
    let mib: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(16);
    let r = synack_bench::synack_bulk(mib << 20, false);
    println!("{} bytes, {} frames, {:.2} Gbit/s, frame digest {:?}", r.bytes, r.frames, r.gbit_per_s(), r.digest);
}
