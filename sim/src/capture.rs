//! pcapng capture, one file per host interface.
//!
//! What a host's capture holds, as a tap on its interface would see it:
//! - every frame the host sent, as sent, at its send time; if the link did something to it, a packet comment
//!   says what ("dropped by link (loss)", "duplicated by link (duplicate)", "corrupted by link: bit 812
//!   (corrupt)", "delayed by link +2ms (reorder)");
//! - every frame the host received, as delivered (corruption visible), at its delivery time, with a comment
//!   when it is a duplicate, corrupted or delayed.
//!
//! A scenario's `[capture]` table ([`CaptureSettings`]) may keep only a window of virtual time and only the
//! first bytes of each frame (the snap length; the frame's real length stays in the file), so a run that moves
//! gigabytes still leaves a small file; the section header comment then says so.
//!
//! Frames are never merged across hosts: a merged file would show each frame twice and fake retransmissions.
//! Files are little-endian pcapng, link type Ethernet, `if_tsresol = 9` (timestamps in nanoseconds of virtual
//! time), with the scenario name and seed in the section header comment and the host's MAC address in the
//! interface block. [`crate::decode`] reads them back as one line per frame.

use crate::units::format_duration;
use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
use pcap_file::pcapng::blocks::interface_description::{InterfaceDescriptionBlock, InterfaceDescriptionOption};
use pcap_file::pcapng::blocks::section_header::{SectionHeaderBlock, SectionHeaderOption};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::{DataLink, Endianness};
use std::borrow::Cow;
use std::time::Duration;
use synack::wire::EthernetAddress;
use synack::Instant;

/// Largest frame we capture whole.
const SNAPLEN: u32 = 65535;

/// What a capture keeps: frames seen in `[from, until)`, each cut to `snaplen` bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CaptureSettings {
    pub snaplen: u32,
    pub from: Instant,
    pub until: Instant,
}

impl Default for CaptureSettings {
    /// Everything, whole.
    fn default() -> CaptureSettings {
        CaptureSettings { snaplen: SNAPLEN, from: Instant::ZERO, until: Instant::MAX }
    }
}

impl CaptureSettings {
    /// ` snaplen=128 from=1.5s until=1.6s`, the parts that differ from the default.
    fn describe(&self) -> String {
        let mut s = String::new();
        if self.snaplen != SNAPLEN {
            s += &format!(" snaplen={}", self.snaplen);
        }
        if self.from != Instant::ZERO {
            s += &format!(" from={}", format_duration(self.from - Instant::ZERO));
        }
        if self.until != Instant::MAX {
            s += &format!(" until={}", format_duration(self.until - Instant::ZERO));
        }
        s
    }
}

/// An in-memory pcapng file for one host interface.
pub struct Capture {
    writer: PcapNgWriter<Vec<u8>>,
    frames: u64,
    settings: CaptureSettings,
}

impl std::fmt::Debug for Capture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Capture").field("frames", &self.frames).finish()
    }
}

impl Capture {
    /// Starts a file whose section header names the scenario, seed and host; the interface block carries the
    /// host's MAC address (`if_MACaddr`), which tells sent frames from received ones.
    pub fn new(scenario: &str, seed: u64, host: &str, mac: EthernetAddress, settings: CaptureSettings) -> Capture {
        Capture::for_interface(scenario, seed, host, "eth0", mac, settings)
    }

    /// A capture of one interface `iface` of a host, switch or router `host`.
    pub fn for_interface(
        scenario: &str,
        seed: u64,
        host: &str,
        iface: &str,
        mac: EthernetAddress,
        settings: CaptureSettings,
    ) -> Capture {
        let section = SectionHeaderBlock {
            endianness: Endianness::Little,
            options: vec![
                SectionHeaderOption::Comment(Cow::Owned(format!(
                    "synack-sim scenario={scenario} seed={seed} host={host}{}",
                    settings.describe()
                ))),
                SectionHeaderOption::UserApplication(Cow::Borrowed("synack-sim")),
            ],
            ..SectionHeaderBlock::default()
        };
        let mut writer = match PcapNgWriter::with_section_header(Vec::new(), section) {
            Ok(w) => w,
            Err(e) => unreachable!("writing to a Vec cannot fail: {e}"),
        };
        let interface = InterfaceDescriptionBlock {
            linktype: DataLink::ETHERNET,
            snaplen: settings.snaplen,
            options: vec![
                InterfaceDescriptionOption::IfName(Cow::Owned(format!("{host}/{iface}"))),
                InterfaceDescriptionOption::IfTsResol(9),
                InterfaceDescriptionOption::IfMacAddr(Cow::Owned(mac.0.to_vec())),
            ],
        };
        if let Err(e) = writer.write_pcapng_block(interface) {
            unreachable!("writing to a Vec cannot fail: {e}");
        }
        Capture { writer, frames: 0, settings }
    }

    /// Whether a frame seen at `at` is written (inside the capture window).
    pub fn wants(&self, at: Instant) -> bool {
        (self.settings.from..self.settings.until).contains(&at)
    }

    /// Appends one frame seen at `at`, with an optional comment, if [`Capture::wants`] it.
    pub fn record(&mut self, at: Instant, frame: &[u8], comment: Option<&str>) {
        self.record_with(at, frame, comment, None);
    }

    /// [`Capture::record`] with the frame's direction in the packet's flags (`epb_flags`): a switch port
    /// forwards frames that are not its own, so its MAC address cannot tell which way they went.
    pub fn record_directed(&mut self, at: Instant, frame: &[u8], comment: Option<&str>, outbound: bool) {
        self.record_with(at, frame, comment, Some(if outbound { 0b10 } else { 0b01 }));
    }

    fn record_with(&mut self, at: Instant, frame: &[u8], comment: Option<&str>, flags: Option<u32>) {
        if !self.wants(at) {
            return;
        }
        let len = frame.len().min(self.settings.snaplen as usize);
        let block = EnhancedPacketBlock {
            interface_id: 0,
            timestamp: Duration::from_nanos(at.as_nanos()),
            original_len: frame.len() as u32,
            data: Cow::Borrowed(&frame[..len]),
            options: flags
                .map(EnhancedPacketOption::Flags)
                .into_iter()
                .chain(comment.map(|c| EnhancedPacketOption::Comment(Cow::Borrowed(c))))
                .collect(),
        };
        if let Err(e) = self.writer.write_pcapng_block(block) {
            unreachable!("writing to a Vec cannot fail: {e}");
        }
        self.frames += 1;
    }

    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// The finished file.
    pub fn into_bytes(self) -> Vec<u8> {
        self.writer.into_inner()
    }
}
