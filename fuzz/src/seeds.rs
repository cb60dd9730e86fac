//! Seed corpora from real frames: a two-stack transfer (ARP, handshake, data, FIN) plus ping and UDP traffic,
//! written as inputs for each target. Run with `cargo test --lib -- --ignored write_seed_corpora` from `fuzz/`.

use crate::handle::RAW_TAG;
use crate::link;
use core::net::SocketAddr;
use std::path::Path;
use synack::{Command, Input, Instant, Output, Stack};
use synack_testkit::IP_B;

/// Frames from real runs: (sent by A = 10.0.0.1, frame).
pub fn real_frames() -> Vec<(bool, Vec<u8>)> {
    let plan = link::Plan { len: 5000, seed: 1, variant: 0, stall_ms: 0, decisions: Vec::new() };
    let (end, mut frames) = link::run_recorded(&plan, true);
    assert_eq!(end, link::End::Complete);
    // UDP, ping and their answers, between two fresh stacks.
    let (config_a, config_b) = synack_testkit::configs(0, 0);
    let (mut a, mut b) = (Stack::new(config_a).unwrap(), Stack::new(config_b).unwrap());
    let mut pending: Vec<(bool, Vec<u8>)> = Vec::new();
    let take = |out: Vec<Output>, from_a: bool, pending: &mut Vec<(bool, Vec<u8>)>| {
        for o in out {
            if let Output::Transmit(f) = o {
                pending.push((from_a, f));
            }
        }
    };
    let now = Instant::ZERO;
    let udp = a.handle(Input::Command(Command::UdpBind { local: "0.0.0.0:5353".parse().unwrap() }), now);
    take(udp, true, &mut pending);
    let sock = synack::SocketHandle(1);
    let cmds = [
        Command::UdpSendTo { sock, remote: SocketAddr::from((IP_B, 7)), data: b"hello".to_vec() },
        Command::PingOpen { ident: Some(0x77) },
        Command::Ping { sock: synack::SocketHandle(2), dst: IP_B.into(), seq_no: 1, payload_len: 56 },
    ];
    for cmd in cmds {
        let out = a.handle(Input::Command(cmd), now);
        take(out, true, &mut pending);
        while let Some((from_a, f)) = pending.pop() {
            frames.push((from_a, f.clone()));
            let out = if from_a { &mut b } else { &mut a }.handle(Input::Frame(&f), now);
            take(out, !from_a, &mut pending);
        }
    }
    frames
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
}

/// Writes `corpus/<target>/seed-*` under `root` (the `fuzz/` directory).
pub fn write_all(root: &Path) {
    let frames = real_frames();
    let wire = root.join("corpus/wire_roundtrip");
    for (i, (_, f)) in frames.iter().enumerate() {
        let mut pieces: Vec<(u8, Vec<u8>)> = vec![(0, f.clone()), (7, f.clone())];
        if f[12..14] == [0x08, 0x06] {
            pieces.push((1, f[14..42].to_vec()));
        } else if f[12..14] == [0x08, 0x00] {
            let ip = &f[14..];
            let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
            pieces.push((2, ip[..total].to_vec()));
            let l4 = &ip[20..total];
            let mut addrs = ip[12..20].to_vec();
            addrs.extend_from_slice(l4);
            match ip[9] {
                1 => pieces.push((3, l4.to_vec())),
                17 => pieces.push((4, addrs)),
                6 => {
                    let off = usize::from(l4[12] >> 4) * 4;
                    pieces.push((6, l4[20..off].to_vec()));
                    pieces.push((5, addrs));
                }
                _ => {}
            }
        }
        for (sel, bytes) in pieces {
            let mut seed = vec![sel];
            seed.extend_from_slice(&bytes);
            write(&wire, &format!("seed-{i:03}-{sel}"), &seed);
        }
    }
    // stack_handle: the frames A sent to B (B is the fuzzed stack: same MAC and address), as raw ops, in
    // windows of a few frames; plus a few structured op sequences.
    let handle = root.join("corpus/stack_handle");
    let to_b: Vec<&Vec<u8>> = frames.iter().filter(|(a, _)| *a).map(|(_, f)| f).collect();
    for (i, window) in to_b.windows(3).enumerate().step_by(2) {
        let mut seed = vec![(i % 4) as u8, i as u8];
        for f in window {
            seed.push(RAW_TAG);
            seed.extend_from_slice(&(f.len() as u16).to_le_bytes());
            seed.extend_from_slice(f);
        }
        write(&handle, &format!("seed-raw-{i:03}"), &seed);
    }
    let structured: [&[u8]; 6] = [
        // AckAll, NextDeadline, ToConn with zeros, Timer
        &[0, 0, 4, 7, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6, 100, 0],
        // Commands: each tag-8 op followed by a handful of bytes
        &[1, 3, 8, 3, 1, 200, 0, 4, 8, 4, 1, 50, 0, 8, 6, 2, 7, 7, 7],
        // ToListener SYNs then CompleteHandshake then AckAll
        &[2, 9, 2, 5, 0, 0, 0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 4, 7],
        // ICMP about TCP, echo, UDP
        &[0, 0, 5, 4, 0, 1, 3, 0, 0, 0, 0, 0, 0, 5, 2, 10, 0, 0, 5, 3, 1, 20, 0, 0],
        // Data to the first connection, then reads
        &[3, 2, 1, 0, 0, 0x50, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 8, 4, 1, 255, 255, 4],
        &[0, 7, 7, 7, 7, 6, 255, 255, 7, 7],
    ];
    for (i, s) in structured.iter().enumerate() {
        write(&handle, &format!("seed-ops-{i}"), s);
    }
    // wire6: messages built by our IPv6 emitters (the stacks speak no IPv6 yet).
    for (name, bytes) in crate::wire6::seeds() {
        write(&root.join("corpus/wire6"), &name, &bytes);
    }
    // tcp_transfer: header (len, seed, variant, stall), then per-frame decisions.
    let transfer = root.join("corpus/tcp_transfer");
    let seeds: [&[u8]; 8] = [
        &[0x88, 0x13, 1, 0, 0, 0],
        &[0xff, 0xff, 2, 1, 0, 0],
        &[0x00, 0x40, 3, 1, 100, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0],
        &[0x00, 0x20, 4, 2, 0, 0, 0, 0, 0, 1, 1, 0, 2, 0, 3, 50, 0, 3, 200, 0, 0],
        &[0x00, 0x30, 5, 3, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1],
        &[0x10, 0x27, 6, 0, 0, 0, 0, 0, 0, 0, 4, 60, 0, 1, 0, 4, 30, 0, 255, 0, 5, 40, 0],
        &[0x00, 0x80, 7, 1, 0x10, 0, 0, 0, 0, 0, 0, 2, 2, 2, 0, 0, 3, 10, 0, 0, 0, 3, 250],
        &[0, 0, 8, 0, 0, 0, 1, 0, 0],
    ];
    for (i, s) in seeds.iter().enumerate() {
        write(&transfer, &format!("seed-{i}"), s);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    #[ignore = "writes the seed corpora into fuzz/corpus/"]
    fn write_seed_corpora() {
        super::write_all(std::path::Path::new(env!("CARGO_MANIFEST_DIR")));
    }

    /// Every crash input ever found (kept in `fuzz/regressions/<target>/`) must now pass its target.
    #[test]
    fn regressions_pass() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions");
        type Target = (&'static str, fn(&[u8]));
        let targets: [Target; 5] = [
            ("wire_roundtrip", crate::wire::roundtrip),
            ("wire6", crate::wire6::fuzz),
            ("dhcp_dns", crate::dhcp_dns::fuzz),
            ("stack_handle", crate::handle::fuzz),
            ("tcp_transfer", crate::link::fuzz),
        ];
        for (target, run) in targets {
            let Ok(dir) = std::fs::read_dir(root.join(target)) else { continue };
            for entry in dir {
                let path = entry.unwrap().path();
                run(&std::fs::read(&path).unwrap());
            }
        }
    }

    /// The seeds themselves must pass every target.
    #[test]
    fn seeds_pass_every_target() {
        let frames = super::real_frames();
        assert!(frames.len() > 10);
        for (_, f) in &frames {
            for sel in 0..8u8 {
                let mut input = vec![sel];
                input.extend_from_slice(f);
                crate::wire::roundtrip(&input);
            }
        }
        for (_, seed) in crate::wire6::seeds() {
            // Each seed as it is, with its checksum fixed, and as every other format.
            crate::wire6::fuzz(&seed);
            for sel in 0..7u8 {
                let mut input = seed.clone();
                input[0] = sel | (seed[0] & 0x80);
                crate::wire6::fuzz(&input);
                input[0] |= crate::wire6::FIX_CHECKSUM;
                crate::wire6::fuzz(&input);
            }
        }
        crate::handle::fuzz(&[0, 0, 4, 7, 6, 100, 0]);
        crate::link::fuzz(&[0x88, 0x13, 1, 0, 0, 0]);
        for mode in 0..4u8 {
            crate::dhcp_dns::fuzz(&[mode, 1, 2, 0, 1, 0, 0, 0, 0, 0, 1, 5, 1, 2, 3]);
        }
    }
}
