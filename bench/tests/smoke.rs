//! Keeps the benchmark harnesses compiling and correct: tiny transfers through both, bytes checked.
//! (Benchmarks themselves are never timed tests.)

#[path = "../common/smol.rs"]
mod smol;

#[test]
fn synack_harness_moves_one_megabyte() {
    let r = synack_bench::synack_bulk(1 << 20, true);
    assert_eq!(r.bytes, 1 << 20);
    assert!(r.frames > 700);
    assert_eq!(r.unverified_checksums, 0);
}

#[test]
fn synack_harness_with_checksums_left_to_the_link() {
    let r = synack_bench::synack_bulk_with(1 << 20, true, true);
    assert_eq!(r.bytes, 1 << 20);
    // Every data segment (and the handshake's last ACK) reached B unverified.
    assert!(r.unverified_checksums > 700, "{r:?}");
}

#[test]
fn synack_harness_moves_one_megabyte_over_ipv6() {
    use synack_bench::{synack_bulk_over, Family};
    for offloaded in [false, true] {
        let r = synack_bulk_over(Family::Ipv6, 1 << 20, true, offloaded);
        assert_eq!(r.bytes, 1 << 20);
        // 1440 payload bytes per segment over IPv6 against 1460 over IPv4: more data frames than 2^20 / 1460.
        assert!(r.frames > 728, "{r:?}");
        assert_eq!(r.unverified_checksums > 700, offloaded, "{r:?}");
    }
}

#[test]
fn smoltcp_harness_moves_one_megabyte_with_and_without_checksums() {
    for checksums in [true, false] {
        let r = smol::smol_bulk(1 << 20, true, checksums);
        assert_eq!(r.bytes, 1 << 20);
    }
}

#[test]
fn handshake_harnesses_complete() {
    assert_eq!(synack_bench::synack_handshakes(20).count, 20);
    assert_eq!(smol::smol_handshakes(20, true).count, 20);
}

#[test]
fn scale_harness_opens_and_exchanges() {
    let mut m = synack_bench::scale::Many::new();
    m.grow_to(300);
    assert_eq!(m.conns.len(), 300);
    assert!(m.exchange(50, 100).frames >= 100);
    m.close_all();
    assert_eq!(m.pair.a.tcp_connections().len(), 300, "A's side of each waits in TIME-WAIT");
    assert!(m.pair.b.tcp_connections().is_empty());
}
