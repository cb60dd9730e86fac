//! Reads a host's pcapng capture back as one line per frame: time since the first frame, direction, synack's
//! one-line decode ([`synack::wire::pretty::frame_summary`]) and the simulator's packet comment.
//!
//! ```text
//!  0.000000000 > ARP who-has 10.0.0.2 tell 10.0.0.1
//!  0.002000000 < ARP 10.0.0.2 is-at 02:00:00:00:00:02
//!  0.002000000 > 10.0.0.1:49152 > 10.0.0.2:7 TCP [S] seq=... win=65535 mss=1460 ws=7 len=0  # dropped by link (fault)
//! ```
//!
//! `>` marks a frame the host sent, `<` one it received: by the packet's direction flag (pcapng `epb_flags`,
//! which `synack-tap --pcap` writes) when it has one, else by the interface's `if_MACaddr` (the simulator's
//! captures); `|` when the file says neither. Time 0 is the capture's first frame, of any kind (`plot` uses the
//! same). Snapshot tests and `synack-sim decode` print exactly these lines.

use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketOption;
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;
use pcap_file::pcapng::blocks::section_header::SectionHeaderOption;
use pcap_file::pcapng::{Block, PcapNgReader};
use synack::wire::pretty::{frame_summary, truncated_frame_summary};
use synack::wire::EthernetAddress;

/// One captured frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapturedFrame {
    /// Timestamp in nanoseconds of virtual time.
    pub time_ns: u64,
    /// The bytes kept (all of the frame unless the capture's snap length cut it).
    pub data: Vec<u8>,
    /// The frame's length on the wire.
    pub original_len: usize,
    /// The simulator's packet comment (what the link did to the frame), if any.
    pub comment: Option<String>,
    /// The direction the packet's `epb_flags` give (bits 0-1: 01 inbound, 10 outbound), if any.
    pub direction: Option<Direction>,
}

/// Which way a frame went, seen from the capturing host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Inbound,
    Outbound,
}

impl Direction {
    /// The direction bits of a pcapng `epb_flags` word.
    pub fn from_epb_flags(flags: u32) -> Option<Direction> {
        match flags & 0b11 {
            0b01 => Some(Direction::Inbound),
            0b10 => Some(Direction::Outbound),
            _ => None,
        }
    }
}

/// What a packet comment says the link (the simulator's, or `synack-tap`'s `--loss`) did: dropped the frame.
pub fn comment_says_dropped(comment: &str) -> bool {
    comment.contains("dropped by link") || comment.starts_with("impairment: dropped")
}

impl CapturedFrame {
    /// The frame's source MAC address, if it is long enough to have one.
    pub fn src_mac(&self) -> Option<EthernetAddress> {
        let s = self.data.get(6..12)?;
        Some(EthernetAddress([s[0], s[1], s[2], s[3], s[4], s[5]]))
    }
}

/// A parsed capture file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CaptureFile {
    /// Section header comment (`synack-sim scenario=NAME seed=N host=HOST`).
    pub comment: Option<String>,
    /// The interface's name (`HOST/eth0`) and MAC address.
    pub interface: Option<String>,
    pub mac: Option<EthernetAddress>,
    pub frames: Vec<CapturedFrame>,
}

/// Parses pcapng bytes (one Ethernet interface, as the simulator writes them).
pub fn read(bytes: &[u8]) -> Result<CaptureFile, String> {
    let mut reader = PcapNgReader::new(bytes).map_err(|e| format!("not pcapng: {e}"))?;
    let mut file = CaptureFile::default();
    for opt in &reader.section().options {
        if let SectionHeaderOption::Comment(c) = opt {
            file.comment = Some(c.to_string());
        }
    }
    while let Some(block) = reader.next_block() {
        match block.map_err(|e| format!("bad pcapng block: {e}"))? {
            Block::InterfaceDescription(idb) => {
                for opt in &idb.options {
                    match opt {
                        InterfaceDescriptionOption::IfName(n) => file.interface = Some(n.to_string()),
                        InterfaceDescriptionOption::IfMacAddr(m) if m.len() == 6 => {
                            file.mac = Some(EthernetAddress([m[0], m[1], m[2], m[3], m[4], m[5]]));
                        }
                        _ => {}
                    }
                }
            }
            Block::EnhancedPacket(p) => {
                let comment = p.options.iter().find_map(|o| match o {
                    EnhancedPacketOption::Comment(c) => Some(c.to_string()),
                    _ => None,
                });
                let direction = p.options.iter().find_map(|o| match o {
                    EnhancedPacketOption::Flags(f) => Direction::from_epb_flags(*f),
                    _ => None,
                });
                let time_ns = u64::try_from(p.timestamp.as_nanos()).unwrap_or(u64::MAX);
                let original_len = p.original_len as usize;
                let data = p.data.into_owned();
                file.frames.push(CapturedFrame { time_ns, data, original_len, comment, direction });
            }
            _ => {}
        }
    }
    Ok(file)
}

/// `seconds.nanoseconds`, e.g. `1.002000000`: the way tshark prints `frame.time_relative` at ns resolution.
pub fn format_relative(ns: u64) -> String {
    format!("{}.{:09}", ns / 1_000_000_000, ns % 1_000_000_000)
}

impl CaptureFile {
    /// Times relative to the first frame, in nanoseconds.
    pub fn relative_times(&self) -> Vec<u64> {
        let first = self.frames.first().map(|f| f.time_ns).unwrap_or(0);
        self.frames.iter().map(|f| f.time_ns.saturating_sub(first)).collect()
    }

    /// One line per frame (see the module documentation).
    pub fn lines(&self) -> Vec<String> {
        self.frames
            .iter()
            .zip(self.relative_times())
            .map(|(f, t)| {
                let dir = match (f.direction, self.mac, f.src_mac()) {
                    (Some(Direction::Outbound), _, _) => '>',
                    (Some(Direction::Inbound), _, _) => '<',
                    (None, Some(me), Some(src)) if me == src => '>',
                    (None, Some(_), _) => '<',
                    (None, None, _) => '|',
                };
                let summary = if f.data.len() < f.original_len {
                    truncated_frame_summary(&f.data, f.original_len)
                } else {
                    frame_summary(&f.data)
                };
                let mut line = format!("{:>12} {dir} {summary}", format_relative(t));
                if let Some(c) = &f.comment {
                    // A comment holds one line per note (link, reason, state change): one decoded line each way.
                    line.push_str("  # ");
                    line.push_str(&c.replace('\n', "; "));
                }
                line
            })
            .collect()
    }
}

/// Decodes pcapng bytes into one line per frame.
pub fn decode(bytes: &[u8]) -> Result<Vec<String>, String> {
    read(bytes).map(|f| f.lines())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::Capture;
    use synack::Instant;

    #[test]
    fn a_capture_reads_back_with_direction_time_and_comment() {
        let me = EthernetAddress([2, 0, 0, 0, 0, 1]);
        let mut c = Capture::new("t", 1, "h", me, crate::capture::CaptureSettings::default());
        let mut sent = vec![0u8; 60];
        sent[6..12].copy_from_slice(&me.0);
        let mut received = vec![0u8; 60];
        received[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 2]);
        c.record(Instant::from_nanos(5_000), &sent, None);
        c.record(Instant::from_nanos(1_005_000), &received, Some("dropped by link (loss)"));
        let file = read(&c.into_bytes()).expect("reads");
        assert_eq!(file.mac, Some(me));
        assert_eq!(file.comment.as_deref(), Some("synack-sim scenario=t seed=1 host=h"));
        assert_eq!(file.relative_times(), vec![0, 1_000_000]);
        let lines = file.lines();
        assert!(lines[0].starts_with(" 0.000000000 > "), "{lines:?}");
        assert!(lines[1].starts_with(" 0.001000000 < ") && lines[1].ends_with("  # dropped by link (loss)"));
    }

    /// A capture as `synack-tap --pcap` writes it: no `if_MACaddr` needed, each packet's `epb_flags` says the
    /// direction, and `--loss` comments say `impairment: dropped (--loss)`.
    #[test]
    fn direction_flags_win_over_the_mac_address() {
        use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
        use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionBlock;
        use pcap_file::pcapng::PcapNgWriter;
        use std::borrow::Cow;
        let mut w = PcapNgWriter::new(Vec::new()).unwrap();
        let idb = InterfaceDescriptionBlock { linktype: pcap_file::DataLink::ETHERNET, snaplen: 0, options: vec![] };
        w.write_pcapng_block(idb).unwrap();
        let frame = [0u8; 60];
        for (ns, flags, comment) in
            [(7u64, 0b10u32, None), (9, 0b01, Some("impairment: dropped (--loss)")), (12, 0, None)]
        {
            let mut options = vec![EnhancedPacketOption::Flags(flags)];
            options.extend(comment.map(|c| EnhancedPacketOption::Comment(Cow::Borrowed(c))));
            let epb = EnhancedPacketBlock {
                interface_id: 0,
                timestamp: std::time::Duration::from_nanos(1_700_000_000_000_000_000 + ns),
                original_len: 60,
                data: Cow::Borrowed(&frame[..]),
                options,
            };
            w.write_pcapng_block(epb).unwrap();
        }
        let file = read(&w.into_inner()).unwrap();
        let dirs: Vec<_> = file.frames.iter().map(|f| f.direction).collect();
        assert_eq!(dirs, [Some(Direction::Outbound), Some(Direction::Inbound), None]);
        let lines = file.lines();
        assert!(lines[0].starts_with(" 0.000000000 > "), "{lines:?}");
        assert!(lines[1].starts_with(" 0.000000002 < ") && lines[1].ends_with("# impairment: dropped (--loss)"));
        assert!(lines[2].starts_with(" 0.000000005 | "), "{lines:?}");
        assert!(comment_says_dropped(file.frames[1].comment.as_deref().unwrap()));
        assert!(comment_says_dropped("dropped by link (loss)") && !comment_says_dropped("delayed by link +2ms"));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(read(b"not a pcapng file at all").is_err());
        assert_eq!(format_relative(1_002_000_000), "1.002000000");
    }
}
