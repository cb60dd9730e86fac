//! Many established connections in one synack stack pair: memory per connection and cost per frame as N grows.
//!
//! `cargo run --release -p synack-bench --example scale -- [N ...]` (default 10000 100000 1000000)
//!
//! Memory is counted by a counting global allocator (every heap byte of the process); the per-connection figure
//! is the growth of live heap bytes while opening connections, divided by N (each connection is two TCBs, one
//! per stack). Cost per frame is wall time divided by frames moved, for (a) the last batch of 4000 opens
//! before reaching N and (b) 20000 request/response exchanges of 100 bytes (`SCALE_MSG=bytes` to change) on
//! connections picked at random; then the heap per connection once they are all idle again, and after every
//! connection is closed (A's side in TIME-WAIT).

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
    println!("| N connections | heap bytes / connection (2 TCBs) | live heap | open: ns/frame (last 4000) | exchange: ns/frame (20000 random) | heap bytes / connection after the exchange, idle |");
    println!("|---:|---:|---:|---:|---:|---:|");
    for n in targets {
        let t = std::time::Instant::now();
        let open = many.grow_to(n);
        let grow_secs = t.elapsed().as_secs_f64();
        let live = live_bytes() - base;
        let per_conn = (live - empty) as f64 / n as f64;
        let size = std::env::var("SCALE_MSG").ok().and_then(|v| v.parse().ok()).unwrap_or(100);
        let ex = many.exchange(20_000, size);
        // Timers run (delayed ACKs, then the segments Nagle held back for them, then their ACKs) until no
        // connection holds data it sent: every one is idle.
        for _ in 0..10 {
            if !many.pair.advance_to_next_timer() {
                break;
            }
            many.pair.pump();
        }
        let idle = (live_bytes() - base - empty) as f64 / n as f64;
        println!(
            "| {n} | {per_conn:.0} | {:.1} MiB | {:.0} | {:.0} | {idle:.0} |",
            live as f64 / (1 << 20) as f64,
            open.ns_per_frame(),
            ex.ns_per_frame()
        );
        eprintln!(
            "  (opened up to {n} in {grow_secs:.1} s; peak heap {:.1} MiB)",
            peak_bytes() as f64 / (1 << 20) as f64
        );
    }
    // Every connection closes (A first): A keeps each one in TIME-WAIT for `TcpConfig::time_wait`, up to
    // `TcpConfig::max_time_wait` of them; the rest close at once.
    let n = many.conns.len() as u64;
    let before = live_bytes() - base;
    let close = many.close_all();
    let after = live_bytes() - base;
    let waiting = n - many.pair.a.stats().tcp_time_wait_overflows;
    println!();
    println!("| closed | left in TIME-WAIT on A | heap bytes / TIME-WAIT connection | live heap before → after | close: ns/frame |");
    println!("|---:|---:|---:|---:|---:|");
    println!(
        "| {n} | {waiting} | {:.0} | {:.1} → {:.1} MiB | {:.0} |",
        after.saturating_sub(empty) as f64 / waiting.max(1) as f64,
        before as f64 / (1 << 20) as f64,
        after as f64 / (1 << 20) as f64,
        close.ns_per_frame()
    );
}
