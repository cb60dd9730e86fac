//! `decode` and `plot` on a capture written the way `synack-tap --pcap` writes it: no `if_MACaddr`, the
//! direction in each packet's `epb_flags`, and `impairment: dropped (--loss)` comments. Made here by rewriting
//! a shipped simulator trace, so both readings can be compared with the original's.

use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketOption;
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;
use pcap_file::pcapng::{Block, PcapNgReader, PcapNgWriter};
use std::borrow::Cow;

const TRACE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../traces/tcp_loss-client.pcapng");

/// The trace as synack-tap would have written it.
fn as_live_capture(bytes: &[u8]) -> Vec<u8> {
    let mut reader = PcapNgReader::new(bytes).unwrap();
    let mut writer = PcapNgWriter::with_section_header(Vec::new(), reader.section().clone()).unwrap();
    let mut mac = Vec::new();
    while let Some(block) = reader.next_block() {
        match block.unwrap() {
            Block::InterfaceDescription(mut idb) => {
                idb.options.retain(|o| match o {
                    InterfaceDescriptionOption::IfMacAddr(m) => {
                        mac = m.to_vec();
                        false
                    }
                    _ => true,
                });
                writer.write_pcapng_block(idb).unwrap();
            }
            Block::EnhancedPacket(mut epb) => {
                let outbound = epb.data.get(6..12) == Some(&mac[..]);
                for o in &mut epb.options {
                    if let EnhancedPacketOption::Comment(c) = o {
                        if c.contains("dropped by link") {
                            *c = Cow::Borrowed("impairment: dropped (--loss)");
                        }
                    }
                }
                epb.options.push(EnhancedPacketOption::Flags(if outbound { 0b10 } else { 0b01 }));
                writer.write_pcapng_block(epb).unwrap();
            }
            other => {
                writer.write_block(&other).unwrap();
            }
        }
    }
    assert_eq!(mac.len(), 6, "the simulator's trace has if_MACaddr");
    writer.into_inner()
}

#[test]
fn a_live_style_capture_decodes_and_plots_like_the_simulators() {
    let original = std::fs::read(TRACE).unwrap();
    let live = as_live_capture(&original);
    let dirs = |lines: Vec<String>| -> String { lines.iter().map(|l| l.chars().nth(13).unwrap_or(' ')).collect() };
    let (a, b) = (synack_sim::decode::decode(&original).unwrap(), synack_sim::decode::decode(&live).unwrap());
    assert_eq!(synack_sim::decode::read(&live).unwrap().mac, None);
    assert!(!dirs(b.clone()).contains('|'), "every frame has a direction: {b:?}");
    assert_eq!(dirs(a.clone()), dirs(b.clone()), "same directions from the flags as from the MAC address");
    assert_eq!(a.len(), b.len());
    let dir = std::env::temp_dir().join(format!("synack-live-plot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (p1, p2) = (dir.join("sim.pcapng"), dir.join("live.pcapng"));
    std::fs::write(&p1, &original).unwrap();
    std::fs::write(&p2, &live).unwrap();
    let s1 = synack_sim::plot::plot(&p1, &dir.join("sim.svg")).unwrap();
    let s2 = synack_sim::plot::plot(&p2, &dir.join("live.svg")).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(s1.dropped > 0, "{s1:?}");
    assert_eq!(s1, s2, "`impairment: dropped` counts as dropped by the link");
}

/// decode and plot agree on time 0: the capture's first frame, whatever it is (here an ARP request).
#[test]
fn plot_time_zero_is_decodes() {
    let bytes = std::fs::read(TRACE).unwrap();
    let lines = synack_sim::decode::decode(&bytes).unwrap();
    let first_tcp = lines.iter().find(|l| l.contains(" TCP ")).unwrap();
    let t: f64 = first_tcp.split_whitespace().next().unwrap().parse().unwrap();
    let segs = synack_sim::plot::read_segments_from(&bytes).unwrap();
    assert!((segs[0].t - t).abs() < 1e-9, "plot {} vs decode {t}", segs[0].t);
    assert!(lines[0].contains("ARP"), "{}", lines[0]);
}
