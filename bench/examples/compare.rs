//! synack vs smoltcp 0.14, in one run: bulk transfer over a zero-delay in-memory link and handshakes per second.
//!
//! `cargo run --release -p synack-bench --example compare -- [--mb N] [--runs N] [--handshakes N]`
//!
//! Runs are interleaved (synack, smoltcp, then both with checksums left to the link, synack, ...) so machine
//! noise hits every variant alike; the table shows medians and the ratio of medians.

#[path = "../common/smol.rs"]
mod smol;

use synack_bench::{median, synack_bulk, synack_bulk_with, synack_handshakes};

struct Args {
    bytes: u64,
    runs: usize,
    handshakes: u64,
    verify: bool,
}

fn parse_args() -> Args {
    let mut a = Args { bytes: 1 << 30, runs: 5, handshakes: 20_000, verify: false };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().and_then(|v| v.parse::<u64>().ok()).expect("flag needs a number");
        match flag.as_str() {
            "--mb" => a.bytes = value() << 20,
            "--runs" => a.runs = value() as usize,
            "--handshakes" => a.handshakes = value(),
            "--verify" => a.verify = true,
            "--help" | "-h" => {
                println!(
                    "compare [--mb MiB (default 1024)] [--runs N (5)] [--handshakes N (20000, 0 skips)] [--verify]"
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
