//! 100,000 spoofed SYNs: memory stays bounded (SYN queue + SYN cookies), and a genuine client still connects
//! and transfers data. Its own test binary, so the counting allocator sees only this test.

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Duration;
use synack::tcp::{SeqNum, TcpState};
use synack::wire::{EthernetAddress, TcpFlags, TcpOptions, TcpRepr};
use synack::{Input, Instant};
use synack_tests::tcp::{accept, listen, pattern, start_connect, transfer, IP_B};
use synack_tests::{frames, Pair, Side, MAC_B};

struct Counting;
static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: forwarding the caller's layout to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: `ptr` was allocated by `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn live_bytes() -> isize {
    LIVE.load(Ordering::Relaxed)
}

/// A SYN from a forged on-link source.
fn spoofed_syn(i: u32) -> Vec<u8> {
    let host = 3 + (i % 250) as u8;
    let src = Ipv4Addr::new(10, 0, 0, host);
    let mac = EthernetAddress([0x02, 0xee, 0, 0, (i >> 8) as u8, host]);
    let syn = TcpRepr {
        src_port: 1024 + (i % 60_000) as u16,
        dst_port: 80,
        seq_number: SeqNum(i.wrapping_mul(2_654_435_761)),
        ack_number: SeqNum(0),
        flags: TcpFlags::SYN,
        window_len: 64_240,
        urgent_ptr: 0,
        options: TcpOptions { mss: Some(1460), window_scale: Some(7), ..TcpOptions::default() },
        payload: &[],
    };
    frames::tcp_frame(mac, MAC_B, src, IP_B, &syn)
}

#[test]
fn syn_flood_keeps_memory_bounded_and_a_genuine_client_connects() {
    let mut p = Pair::new(61);
    let l = listen(&mut p, Side::B, 80);
    let flood = |p: &mut Pair, from: u32, to: u32| {
        for i in from..to {
            let now = Instant::from_micros(u64::from(i) * 10);
            p.now = p.now.max(now);
            let f = spoofed_syn(i);
            let _ = p.b.handle(Input::Frame(&f), p.now);
            if i % 1000 == 0 {
                let _ = p.b.handle(Input::Timer, p.now);
            }
        }
    };
    flood(&mut p, 0, 20_000);
    let after_20k = live_bytes();
    assert!(p.b.tcp_connections().len() <= 256, "SYN queue bounded: {}", p.b.tcp_connections().len());
    flood(&mut p, 20_000, 100_000);
    let after_100k = live_bytes();
    let growth = after_100k - after_20k;
    assert!(growth < 2 << 20, "memory grew by {growth} bytes between 20k and 100k spoofed SYNs");
    let stats = p.b.stats().clone();
    assert!(stats.tcp_syn_cookies_sent > 90_000, "{stats}");
    assert_eq!(stats.tcp_syn_cookies_valid, 0);
    // A genuine client, mid-flood, completes a cookie handshake and moves data.
    let c = start_connect(&mut p, Side::A, SocketAddr::from((IP_B, 80)));
    p.run_until(p.now + Duration::from_millis(50));
    assert_eq!(p.a.tcp_info(c).map(|i| i.state), Some(TcpState::Established));
    assert_eq!(p.b.stats().tcp_syn_cookies_valid, 1);
    let s = accept(&mut p, l);
    let data = pattern(500_000, 1);
    let t = transfer(&mut p, Side::A, c, s, &data, Duration::from_secs(30));
    assert!(t.eof && t.received == data);
    println!("live bytes after 20k SYNs: {after_20k}, after 100k: {after_100k}; {stats}");
}
