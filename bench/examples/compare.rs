//! synack vs smoltcp 0.14, in one run: bulk transfer over a zero-delay in-memory link and handshakes per second.
//!
//! `cargo run --release -p synack-bench --example compare -- [--mb N] [--runs N] [--handshakes N] [--ipv6]`
//!
//! Runs are interleaved (synack, smoltcp, then both with checksums left to the link, synack, ...) so machine
//! noise hits every variant alike; the table shows medians and the ratio of medians.
//!
//! `--ipv6` adds synack over IPv6 to every run (both stacks dual-stack, the transfer to B's IPv6 address,
//! checksums on and off) and a table of IPv6 against IPv4 from the same runs.

#[path = "../common/smol.rs"]
mod smol;

use synack_bench::{median, synack_bulk, synack_bulk_over, synack_bulk_with, synack_handshakes, Family};

struct Args {
    bytes: u64,
    runs: usize,
    handshakes: u64,
    verify: bool,
    ipv6: bool,
}

fn parse_args() -> Args {
    let mut a = Args { bytes: 1 << 30, runs: 5, handshakes: 20_000, verify: false, ipv6: false };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().and_then(|v| v.parse::<u64>().ok()).expect("flag needs a number");
        match flag.as_str() {
            "--mb" => a.bytes = value() << 20,
            "--runs" => a.runs = value() as usize,
            "--handshakes" => a.handshakes = value(),
            "--verify" => a.verify = true,
            "--ipv6" => a.ipv6 = true,
            "--help" | "-h" => {
                println!(
                    "compare [--mb MiB (default 1024)] [--runs N (5)] [--handshakes N (20000, 0 skips)] [--verify] \
                     [--ipv6]"
                );
                std::process::exit(0);
            }
            other => panic!("unknown flag {other}"),
        }
    }
    a
}

fn main() {
    let args = parse_args();
    let mib = args.bytes >> 20;
    println!("bulk transfer: {mib} MiB one way, MTU 1500, 256 KiB buffers, {} runs (interleaved)", args.runs);
    let (mut s, mut m, mut s_off, mut m_off) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut s_frames, mut m_frames) = (0, 0);
    let (mut s6, mut s6_off, mut s6_frames) = (Vec::new(), Vec::new(), 0);
    for run in 1..=args.runs {
        let a = synack_bulk(args.bytes, args.verify);
        let b = smol::smol_bulk(args.bytes, args.verify, true);
        let c = synack_bulk_with(args.bytes, args.verify, true);
        let d = smol::smol_bulk(args.bytes, args.verify, false);
        println!(
            "  run {run}: synack {:6.2} | smoltcp {:6.2} | checksums off: synack {:6.2} | smoltcp {:6.2} Gbit/s",
            a.gbit_per_s(),
            b.gbit_per_s(),
            c.gbit_per_s(),
            d.gbit_per_s()
        );
        s.push(a.gbit_per_s());
        m.push(b.gbit_per_s());
        s_off.push(c.gbit_per_s());
        m_off.push(d.gbit_per_s());
        (s_frames, m_frames) = (a.frames, b.frames);
        if args.ipv6 {
            let e = synack_bulk_over(Family::Ipv6, args.bytes, args.verify, false);
            let f = synack_bulk_over(Family::Ipv6, args.bytes, args.verify, true);
            println!("         synack over IPv6 {:6.2} | checksums off {:6.2} Gbit/s", e.gbit_per_s(), f.gbit_per_s());
            s6.push(e.gbit_per_s());
            s6_off.push(f.gbit_per_s());
            s6_frames = e.frames;
        }
    }
    let (s, m, s_off, m_off) = (median(s), median(m), median(s_off), median(m_off));
    println!();
    println!("| checksums | synack Gbit/s (median of {}) | smoltcp 0.14 Gbit/s | synack / smoltcp | frames (synack / smoltcp) |", args.runs);
    println!("|---|---:|---:|---:|---:|");
    println!(
        "| on: computed and verified (smoltcp `Checksum::Both`) | {s:.2} | {m:.2} | {:.2} | {s_frames} / {m_frames} |",
        s / m
    );
    println!("| off: left to the link (synack `tx_checksum_offload` + `RxFrame::checksum_offloaded`, smoltcp `ignored()` as its Loopback) | {s_off:.2} | {m_off:.2} | {:.2} | |", s_off / m_off);
    if args.ipv6 {
        let (s6, s6_off) = (median(s6), median(s6_off));
        println!();
        println!(
            "| checksums | synack IPv4 Gbit/s (median of {}) | synack IPv6 Gbit/s | IPv6 / IPv4 | frames (IPv4 / IPv6) |",
            args.runs
        );
        println!("|---|---:|---:|---:|---:|");
        println!("| on | {s:.2} | {s6:.2} | {:.2} | {s_frames} / {s6_frames} |", s6 / s);
        println!("| off | {s_off:.2} | {s6_off:.2} | {:.2} | |", s6_off / s_off);
    }

    if args.handshakes > 0 {
        let n = args.handshakes;
        println!();
        println!("handshakes: {n} sequential connect + accept + close (FIN both ways), {} runs", args.runs);
        let (mut hs, mut hm) = (Vec::new(), Vec::new());
        let (mut fs, mut fm) = (0, 0);
        for _ in 0..args.runs {
            let a = synack_handshakes(n);
            let b = smol::smol_handshakes(n, true);
            hs.push(a.per_sec());
            hm.push(b.per_sec());
            (fs, fm) = (a.frames, b.frames);
        }
        let (hs, hm) = (median(hs), median(hm));
        println!();
        println!("| stack | handshakes/s (median) | synack / this | frames per connection |");
        println!("|---|---:|---:|---:|");
        println!("| synack | {hs:.0} | 1.00 | {:.1} |", fs as f64 / n as f64);
        println!("| smoltcp 0.14, checksums on | {hm:.0} | {:.2} | {:.1} |", hs / hm, fm as f64 / n as f64);
    }
}
