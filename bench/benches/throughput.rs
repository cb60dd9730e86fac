//! Criterion view of the same harnesses as `examples/compare.rs` (smaller sizes, many samples):
//! `cargo bench -p synack-bench --bench throughput`.

#[path = "../common/smol.rs"]
mod smol;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const BYTES: u64 = 32 << 20;

fn bulk(c: &mut Criterion) {
    let mut g = c.benchmark_group("bulk_32MiB");
    g.throughput(Throughput::Bytes(BYTES));
    g.sample_size(10);
    g.bench_function("synack", |b| b.iter(|| synack_bench::synack_bulk(BYTES, false)));
    g.bench_function("smoltcp_checksums_on", |b| b.iter(|| smol::smol_bulk(BYTES, false, true)));
    g.bench_function("smoltcp_checksums_off", |b| b.iter(|| smol::smol_bulk(BYTES, false, false)));
    g.finish();
}

fn handshakes(c: &mut Criterion) {
    let mut g = c.benchmark_group("handshakes_1000");
    g.throughput(Throughput::Elements(1000));
    g.sample_size(10);
    g.bench_function("synack", |b| b.iter(|| synack_bench::synack_handshakes(1000)));
    g.bench_function("smoltcp", |b| b.iter(|| smol::smol_handshakes(1000, true)));
    g.finish();
}

criterion_group!(benches, bulk, handshakes);
criterion_main!(benches);
