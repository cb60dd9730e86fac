//! pcapng capture of what the stack saw and sent: one Ethernet interface, nanosecond timestamps, the direction
//! in each packet's flags, and a comment on every frame an impairment acted on.

use crate::error::TapError;
use crate::impair::Fate;
use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
use pcap_file::pcapng::blocks::interface_description::{InterfaceDescriptionBlock, InterfaceDescriptionOption};
use pcap_file::pcapng::blocks::section_header::{SectionHeaderBlock, SectionHeaderOption};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::DataLink;
use std::borrow::Cow;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// `if_tsresol` = 9: timestamps count nanoseconds.
const TS_RESOL_NANOS: u8 = 9;
/// epb_flags direction bits (pcapng spec): 01 inbound, 10 outbound.
const INBOUND: u32 = 0b01;
const OUTBOUND: u32 = 0b10;

/// Which way a captured frame went, seen from the stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    In,
    Out,
}

/// A pcapng file being written.
pub(crate) struct Capture {
    writer: PcapNgWriter<BufWriter<File>>,
    path: PathBuf,
    /// Wall-clock time at `epoch`: timestamps are `wall_epoch + (now - epoch)`, so they never go backwards.
    wall_epoch: Duration,
    epoch: Instant,
    pub(crate) frames: u64,
}

impl std::fmt::Debug for Capture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Capture").field("path", &self.path).field("frames", &self.frames).finish_non_exhaustive()
    }
}

impl Capture {
    /// Creates `path` and writes the section header (with `comment`) and the interface description.
    /// The interface block carries the stack's MAC address (`if_MACaddr`) too, as the simulator's captures do.
    pub(crate) fn create(
        path: &Path,
        ifname: &str,
        mac: synack::wire::EthernetAddress,
        comment: &str,
        epoch: Instant,
    ) -> Result<Capture, TapError> {
        let err = |e: std::io::Error| TapError::Capture(path.to_path_buf(), e);
        let pcap_err = |e: pcap_file::PcapError| TapError::Capture(path.to_path_buf(), std::io::Error::other(e));
        let file = File::create(path).map_err(err)?;
        let section = SectionHeaderBlock {
            options: vec![
                SectionHeaderOption::Comment(Cow::Owned(comment.to_string())),
                SectionHeaderOption::UserApplication(Cow::Borrowed(concat!("synack-tap ", env!("CARGO_PKG_VERSION")))),
            ],
            ..SectionHeaderBlock::default()
        };
        let mut writer = PcapNgWriter::with_section_header(BufWriter::new(file), section).map_err(pcap_err)?;
        let interface = InterfaceDescriptionBlock {
            linktype: DataLink::ETHERNET,
            snaplen: 0,
            options: vec![
                InterfaceDescriptionOption::IfName(Cow::Owned(ifname.to_string())),
                InterfaceDescriptionOption::IfTsResol(TS_RESOL_NANOS),
                InterfaceDescriptionOption::IfMacAddr(Cow::Owned(mac.0.to_vec())),
            ],
        };
        writer.write_pcapng_block(interface).map_err(pcap_err)?;
        let wall_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        Ok(Capture { writer, path: path.to_path_buf(), wall_epoch, epoch, frames: 0 })
    }

    /// Appends one frame.
    /// Writes one frame; its comment says what the impairment did (`fate`) and, one line further, what the
    /// stack said of it (`note`: why it was sent).
    pub(crate) fn record(
        &mut self,
        frame: &[u8],
        dir: Direction,
        fate: Fate,
        note: Option<&str>,
        now: Instant,
    ) -> Result<(), TapError> {
        let mut options = vec![EnhancedPacketOption::Flags(if dir == Direction::In { INBOUND } else { OUTBOUND })];
        let comment = match (fate.comment().map(str::trim), note) {
            (Some(f), Some(n)) => Some(Cow::Owned(format!("{f}\n{n}"))),
            (Some(f), None) => Some(Cow::Borrowed(f)),
            (None, Some(n)) => Some(Cow::Borrowed(n)),
            (None, None) => None,
        };
        if let Some(c) = comment {
            options.push(EnhancedPacketOption::Comment(c));
        }
        let block = EnhancedPacketBlock {
            interface_id: 0,
            timestamp: self.wall_epoch + now.saturating_duration_since(self.epoch),
            original_len: frame.len() as u32,
            data: Cow::Borrowed(frame),
            options,
        };
        self.writer
            .write_pcapng_block(block)
            .map_err(|e| TapError::Capture(self.path.clone(), std::io::Error::other(e)))?;
        self.frames += 1;
        Ok(())
    }

    /// Flushes everything to disk.
    pub(crate) fn finish(mut self) -> Result<(), TapError> {
        self.writer.get_mut().flush().map_err(|e| TapError::Capture(self.path.clone(), e))
    }
}

impl Capture {
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}
