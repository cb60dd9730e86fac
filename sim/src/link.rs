//! Links: point-to-point Ethernet between two hosts, each direction with its own impairment pipeline, RNG
//! stream, counters and record of decisions.

use crate::impairment::{
    fault::apply_bytes, mark_ce, CeMark, Fault, FaultAction, FaultScript, FrameInfo, Impairment, Mtu, Partition,
    RateLimit, Verdict,
};
use crate::units::format_duration;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;
use synack::Instant;

/// A frame copy leaving a direction: delivered to the far end at `at`.
#[derive(Debug)]
pub struct Delivery {
    pub at: Instant,
    pub bytes: Vec<u8>,
    /// What the link did to this copy, for the receiver's capture (`None` if nothing notable).
    pub note: Option<String>,
}

/// What happened to one frame sent into a direction.
#[derive(Debug, Default)]
pub struct Outcome {
    pub deliveries: Vec<Delivery>,
    /// What the link did to the frame, for the sender's capture (`None` if delivered untouched).
    pub note: Option<String>,
}

/// Counters of one direction.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DirStats {
    pub frames_in: u64,
    pub delivered: u64,
    pub bytes_delivered: u64,
    pub duplicated: u64,
    pub corrupted: u64,
    pub delayed: u64,
    /// ECN-capable frames marked CE (RFC 3168).
    pub ce_marked: u64,
    /// Drops by cause ("loss", "burst loss", "queue full", "mtu", "partition", "fault").
    pub dropped: BTreeMap<&'static str, u64>,
}

impl DirStats {
    pub fn total_dropped(&self) -> u64 {
        self.dropped.values().sum()
    }
}

/// One direction of a link.
#[derive(Debug)]
pub struct Direction {
    /// `"client->server"`.
    pub label: String,
    pub partition: Partition,
    pub mtu: Option<Mtu>,
    pub rate: Option<RateLimit>,
    pub faults: FaultScript,
    pub random: Vec<Box<dyn Impairment>>,
    pub delay: Duration,
    pub rng: ChaCha8Rng,
    /// Record every fault and random decision (for `shrink`).
    pub recording: bool,
    pub record: Vec<Fault>,
    pub stats: DirStats,
    sent: u64,
    /// The copies of the frame being processed (kept to spare an allocation per frame).
    copies: Vec<Copy>,
}

#[derive(Debug)]
struct Copy {
    id: u8,
    bytes: Vec<u8>,
    at: Instant,
    note: String,
}

impl Direction {
    pub fn new(label: String, delay: Duration, rng: ChaCha8Rng) -> Direction {
        Direction {
            label,
            partition: Partition::default(),
            mtu: None,
            rate: None,
            faults: FaultScript::default(),
            random: Vec::new(),
            delay,
            rng,
            recording: false,
            record: Vec::new(),
            stats: DirStats::default(),
            sent: 0,
            copies: Vec::new(),
        }
    }

    /// Number of frames sent into this direction so far.
    pub fn frames_sent(&self) -> u64 {
        self.sent
    }

    /// Runs one frame sent at `now` through the pipeline.
    pub fn process(&mut self, bytes: Vec<u8>, now: Instant) -> Outcome {
        let mut deliveries = Vec::new();
        let note = self.process_into(bytes, now, &mut deliveries);
        Outcome { deliveries, note }
    }

    /// [`Direction::process`] for the engine, without an allocation per frame: the copies that leave the
    /// direction are appended to `deliveries`; returns what the link did to the frame, for the sender's capture
    /// (`None` if delivered untouched).
    pub fn process_into(&mut self, bytes: Vec<u8>, now: Instant, deliveries: &mut Vec<Delivery>) -> Option<String> {
        let mut copies = std::mem::take(&mut self.copies);
        copies.push(Copy { id: 0, bytes, at: now, note: String::new() });
        let note = self.pipeline(&mut copies, deliveries);
        copies.clear();
        self.copies = copies;
        note
    }

    fn pipeline(&mut self, copies: &mut Vec<Copy>, deliveries: &mut Vec<Delivery>) -> Option<String> {
        self.sent += 1;
        self.stats.frames_in += 1;
        let index = self.sent;
        let mut sender_note = String::new();
        let mut next_id = 1u8;

        // 1. Deterministic stages, on the original only.
        let fixed: [Option<&mut dyn Impairment>; 3] = [
            Some(&mut self.partition),
            self.mtu.as_mut().map(|m| m as &mut dyn Impairment),
            self.rate.as_mut().map(|r| r as &mut dyn Impairment),
        ];
        for stage in fixed.into_iter().flatten() {
            let c = &mut copies[0];
            match stage.apply(&FrameInfo { bytes: &c.bytes, index, copy: 0, at: c.at }, &mut self.rng) {
                Verdict::Drop(cause) => {
                    *self.stats.dropped.entry(cause).or_insert(0) += 1;
                    return Some(format!("dropped by link ({cause})"));
                }
                Verdict::Delay(d) => c.at = c.at + d, // queueing and serialisation: not an impairment note
                _ => {}
            }
        }

        // 2. Exact faults.
        for &(copy, action) in self.faults.for_frame(index) {
            let Some(pos) = copies.iter().position(|c| c.id == copy) else { continue };
            let verdict = match action {
                FaultAction::Drop => Verdict::Drop("fault"),
                FaultAction::Duplicate => Verdict::Duplicate,
                FaultAction::Corrupt { bit } => Verdict::Corrupt { bit },
                FaultAction::Delay(d) => Verdict::Delay(d),
                FaultAction::MarkCe => Verdict::MarkCe,
            };
            Self::effect(&mut self.stats, copies, pos, verdict, &mut next_id, &mut sender_note, "fault");
            if self.recording {
                let cause = "fault";
                self.record.push(Fault { dir: self.label.clone(), frame: index, copy, action, cause });
            }
        }

        // 3. Random impairments, in order; copies made on the way go through the later stages.
        for stage in self.random.iter_mut() {
            let mut i = 0;
            while i < copies.len() {
                let c = &copies[i];
                let info = FrameInfo { bytes: &c.bytes, index, copy: c.id, at: c.at };
                let verdict = stage.apply(&info, &mut self.rng);
                if verdict == Verdict::Pass {
                    i += 1;
                    continue;
                }
                let id = c.id;
                if self.recording {
                    let action = match verdict {
                        Verdict::Drop(_) => FaultAction::Drop,
                        Verdict::Duplicate => FaultAction::Duplicate,
                        Verdict::Corrupt { bit } => FaultAction::Corrupt { bit },
                        Verdict::Delay(d) => FaultAction::Delay(d),
                        Verdict::MarkCe => FaultAction::MarkCe,
                        Verdict::Pass => unreachable!("handled above"),
                    };
                    let cause = stage.name();
                    self.record.push(Fault { dir: self.label.clone(), frame: index, copy: id, action, cause });
                }
                let name = stage.name();
                if !Self::effect(&mut self.stats, copies, i, verdict, &mut next_id, &mut sender_note, name) {
                    i += 1;
                }
            }
        }

        // 4. Propagation.
        for c in copies.drain(..) {
            self.stats.delivered += 1;
            self.stats.bytes_delivered += c.bytes.len() as u64;
            let note = (!c.note.is_empty()).then_some(c.note);
            deliveries.push(Delivery { at: c.at + self.delay, bytes: c.bytes, note });
        }
        (!sender_note.is_empty()).then_some(sender_note)
    }

    /// Carries out a verdict on copy `pos`; returns true if that copy was removed.
    fn effect(
        stats: &mut DirStats,
        copies: &mut Vec<Copy>,
        pos: usize,
        verdict: Verdict,
        next_id: &mut u8,
        sender_note: &mut String,
        cause: &'static str,
    ) -> bool {
        let sep = |s: &mut String| {
            if !s.is_empty() {
                s.push_str("; ");
            }
        };
        let id = copies[pos].id;
        let which = if id == 0 { String::new() } else { format!("copy {id} ") };
        sep(sender_note);
        match verdict {
            Verdict::Pass => {}
            Verdict::Drop(reason) => {
                copies.remove(pos);
                let reason = if cause == "fault" { "fault" } else { reason };
                *stats.dropped.entry(reason).or_insert(0) += 1;
                let _ = write!(sender_note, "{which}dropped by link ({reason})");
                return true;
            }
            Verdict::Duplicate => {
                stats.duplicated += 1;
                let c = &copies[pos];
                let mut note = c.note.clone();
                sep(&mut note);
                let _ = write!(note, "duplicate (copy {}) made by link ({cause})", *next_id);
                let dup = Copy { id: *next_id, bytes: c.bytes.clone(), at: c.at, note };
                *next_id = next_id.saturating_add(1);
                copies.push(dup);
                let _ = write!(sender_note, "{which}duplicated by link ({cause})");
            }
            Verdict::Corrupt { bit } => {
                stats.corrupted += 1;
                let c = &mut copies[pos];
                apply_bytes(&mut c.bytes, FaultAction::Corrupt { bit });
                sep(&mut c.note);
                let _ = write!(c.note, "corrupted by link: bit {bit} flipped ({cause})");
                let _ = write!(sender_note, "{which}corrupted by link: bit {bit} ({cause})");
            }
            Verdict::MarkCe => {
                let c = &mut copies[pos];
                sep(&mut c.note);
                match mark_ce(&mut c.bytes) {
                    CeMark::Marked => {
                        stats.ce_marked += 1;
                        let _ = write!(c.note, "CE marked by link ({cause})");
                        let _ = write!(sender_note, "{which}CE marked by link ({cause})");
                    }
                    CeMark::AlreadyCe => {
                        let _ = write!(c.note, "CE already, left alone by link ({cause})");
                        let _ = write!(sender_note, "{which}CE already, left alone by link ({cause})");
                    }
                    CeMark::NotEct => {
                        let _ = write!(c.note, "not ECN-capable, left unmarked by link ({cause})");
                        let _ = write!(sender_note, "{which}not ECN-capable, left unmarked by link ({cause})");
                    }
                }
            }
            Verdict::Delay(d) => {
                stats.delayed += 1;
                let c = &mut copies[pos];
                c.at = c.at + d;
                sep(&mut c.note);
                let _ = write!(c.note, "delayed by link +{} ({cause})", format_duration(d));
                let _ = write!(sender_note, "{which}delayed by link +{} ({cause})", format_duration(d));
            }
        }
        false
    }
}

/// A point-to-point link: host `a` and host `b` (indices into the simulation's hosts) and two directions.
#[derive(Debug)]
pub struct Link {
    pub name: String,
    pub a: usize,
    pub b: usize,
    /// `[a->b, b->a]`.
    pub dirs: [Direction; 2],
}
