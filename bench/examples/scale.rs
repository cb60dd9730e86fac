//! Many established connections in one synack stack pair: memory per connection and cost per frame as N grows.
//!
//! `cargo run --release -p synack-bench --example scale -- [N ...]` (default 10000 100000 1000000)
//!
//! Memory is counted by a counting global allocator (every heap byte of the process); the per-connection figure
//! is the growth of live heap bytes while opening connections, divided by N (each connection is two TCBs, one
//! per stack). Cost per frame is wall time divided by frames moved, for (a) the last batch of 4000 opens
//! before reaching N and (b) 20000 request/response exchanges of 100 bytes on connections picked at random.

use synack_bench::alloc_count::{live_bytes, peak_bytes, CountingAlloc};
use synack_bench::scale::Many;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn main() {
    let mut targets: Vec<u64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    if targets.is_empty() {
        targets = vec![10_000, 100_000, 1_000_000];
    }
    targets.sort_unstable();
    let base = live_bytes();
    let mut many = Many::new();
    let empty = live_bytes() - base;
    println!("empty stack pair: {empty} heap bytes");
    println!();
    println!("| N connections | heap bytes / connection (2 TCBs) | live heap | open: ns/frame (last 4000) | exchange: ns/frame (20000 random) |");
    println!("|---:|---:|---:|---:|---:|");
    for n in targets {
        let t = std::time::Instant::now();
        let open = many.grow_to(n);
        let grow_secs = t.elapsed().as_secs_f64();
        let live = live_bytes() - base;
        let per_conn = (live - empty) as f64 / n as f64;
        let ex = many.exchange(20_000, 100);
        println!(
            "| {n} | {per_conn:.0} | {:.1} MiB | {:.0} | {:.0} |",
            live as f64 / (1 << 20) as f64,
            open.ns_per_frame(),
            ex.ns_per_frame()
        );
        eprintln!(
            "  (opened up to {n} in {grow_secs:.1} s; peak heap {:.1} MiB)",
            peak_bytes() as f64 / (1 << 20) as f64
        );
    }
}
