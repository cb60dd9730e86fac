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
//!
//! Then the exchanges run again in five slices of 4000, alternated with the same slices on a second stack pair that holds
//! the smallest N (made before the heap count starts): both are timed in the same stretch of the run, so a
//! busy spell on a shared machine slows both, and the ratio of their medians is the cost of size alone. Before
//! each timed slice a pair runs three exchanges per connection untimed, for at most 30,000 (a pair of 10,000
//! has each connection touched with probability 95 %): a small pair running alone keeps its state in cache,
//! and the other pair's slice has just evicted it; a big one's does not fit either way. Every slice starts
//! with all connections idle.

use synack_bench::alloc_count::{live_bytes, peak_bytes, CountingAlloc};
use synack_bench::median;
use synack_bench::scale::Many;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Timed slices of exchanges per pair.
const SLICES: usize = 5;
/// Exchanges per slice.
const SLICE_ROUNDS: u64 = 4_000;
/// Untimed exchanges per connection before each timed slice, on up to this many connections' worth.
const WARM_UP_PER_CONNECTION: u64 = 3;
const WARM_UP_CONNECTIONS: u64 = 10_000;

fn main() {
    let mut targets: Vec<u64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    if targets.is_empty() {
        targets = vec![10_000, 100_000, 1_000_000];
    }
    targets.sort_unstable();
    let size = std::env::var("SCALE_MSG").ok().and_then(|v| v.parse().ok()).unwrap_or(100);
    let small_n = targets[0];
    let mut small = Many::new();
    small.grow_to(small_n);
    small.settle();
    let base = live_bytes();
    let mut many = Many::new();
    let empty = live_bytes() - base;
    println!("empty stack pair: {empty} heap bytes");
    println!();
    println!(
        "| N connections | heap bytes / connection (2 TCBs) | live heap | open: ns/frame (last 4000) | exchange: \
         ns/frame ({} random) | heap bytes / connection after the exchange, idle | exchange: ns/frame (median of \
         {SLICES} × {SLICE_ROUNDS}) | same slices at {small_n}, alternated | ratio |",
        SLICE_ROUNDS * SLICES as u64
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for n in targets {
        let t = std::time::Instant::now();
        let open = many.grow_to(n);
        let grow_secs = t.elapsed().as_secs_f64();
        let live = live_bytes() - base;
        let per_conn = (live - empty) as f64 / n as f64;
        let alone = many.exchange(SLICE_ROUNDS * SLICES as u64, size);
        many.settle();
        let idle = (live_bytes() - base - empty) as f64 / n as f64;
        let (big, reference) = alternate(&mut many, &mut small, size);
        many.settle();
        small.settle();
        println!(
            "| {n} | {per_conn:.0} | {:.1} MiB | {:.0} | {:.0} | {idle:.0} | {big:.0} | {reference:.0} | {:.2}x |",
            live as f64 / (1 << 20) as f64,
            open.ns_per_frame(),
            alone.ns_per_frame(),
            big / reference,
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

/// Median ns per frame of `big`'s and `small`'s exchanges, their timed slices taken in turn.
fn alternate(big: &mut Many, small: &mut Many, size: usize) -> (f64, f64) {
    let (mut b, mut s) = (Vec::new(), Vec::new());
    for _ in 0..SLICES {
        for (pair, times) in [(&mut *small, &mut s), (&mut *big, &mut b)] {
            pair.exchange(WARM_UP_PER_CONNECTION * (pair.conns.len() as u64).min(WARM_UP_CONNECTIONS), size);
            pair.settle();
            times.push(pair.exchange(SLICE_ROUNDS, size).ns_per_frame());
            pair.settle();
        }
    }
    (median(b), median(s))
}
