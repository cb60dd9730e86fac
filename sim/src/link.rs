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
    /// Say in words what the link did to each frame (the packet comments of captures); without captures
    /// nobody reads them, and writing them costs more than the decisions.
    pub notes: bool,
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
            notes: true,
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
        let mut frame = FrameState { next_id: 1, sender_note: String::new(), notes: self.notes };

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
            Self::effect(&mut self.stats, copies, pos, verdict, &mut frame, "fault");
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
                if !Self::effect(&mut self.stats, copies, i, verdict, &mut frame, name) {
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
        (!frame.sender_note.is_empty()).then_some(frame.sender_note)
    }

    /// Carries out a verdict on copy `pos` and, with notes on, says what it did; returns true if that copy was
    /// removed.
    fn effect(
        stats: &mut DirStats,
        copies: &mut Vec<Copy>,
        pos: usize,
        verdict: Verdict,
        frame: &mut FrameState,
        cause: &'static str,
    ) -> bool {
        let id = copies[pos].id;
        let done = Self::carry_out(stats, copies, pos, verdict, &mut frame.next_id, cause);
        if frame.notes {
            Self::annotate(copies, pos, id, done, &mut frame.sender_note, cause);
        }
        matches!(done, Done::Dropped(_))
    }

    /// The verdict's effect on the copies and the counters.
    fn carry_out(
        stats: &mut DirStats,
        copies: &mut Vec<Copy>,
        pos: usize,
        verdict: Verdict,
        next_id: &mut u8,
        cause: &'static str,
    ) -> Done {
        match verdict {
            Verdict::Pass => Done::Nothing,
            Verdict::Drop(reason) => {
                copies.remove(pos);
                let reason = if cause == "fault" { "fault" } else { reason };
                *stats.dropped.entry(reason).or_insert(0) += 1;
                Done::Dropped(reason)
            }
            Verdict::Duplicate => {
                stats.duplicated += 1;
                let c = &copies[pos];
                let dup = Copy { id: *next_id, bytes: c.bytes.clone(), at: c.at, note: String::new() };
                *next_id = next_id.saturating_add(1);
                copies.push(dup);
                Done::Duplicated
            }
            Verdict::Corrupt { bit } => {
                // A scripted bit past the end of this frame flips nothing: not counted, and said so.
                if bit / 8 >= copies[pos].bytes.len() {
                    return Done::BeyondFrame(bit);
                }
                stats.corrupted += 1;
                apply_bytes(&mut copies[pos].bytes, FaultAction::Corrupt { bit });
                Done::Corrupted(bit)
            }
            Verdict::MarkCe => {
                let mark = mark_ce(&mut copies[pos].bytes);
                if mark == CeMark::Marked {
                    stats.ce_marked += 1;
                }
                Done::Ce(mark)
            }
            Verdict::Delay(d) => {
                stats.delayed += 1;
                let c = &mut copies[pos];
                c.at = c.at + d;
                Done::Delayed(d)
            }
        }
    }

    /// Says what [`Direction::carry_out`] did to copy `id` (at `pos`, unless dropped): in the copy's own note
    /// (what its receiver's capture says) and in the sender's.
    fn annotate(copies: &mut [Copy], pos: usize, id: u8, done: Done, sender_note: &mut String, cause: &str) {
        let sep = |s: &mut String| {
            if !s.is_empty() {
                s.push_str("; ");
            }
        };
        let which = if id == 0 { String::new() } else { format!("copy {id} ") };
        sep(sender_note);
        match done {
            Done::Nothing => {}
            Done::Dropped(reason) => {
                let _ = write!(sender_note, "{which}dropped by link ({reason})");
            }
            Done::Duplicated => {
                let mut note = copies[pos].note.clone();
                sep(&mut note);
                if let Some(dup) = copies.last_mut() {
                    let _ = write!(note, "duplicate (copy {}) made by link ({cause})", dup.id);
                    dup.note = note;
                }
                let _ = write!(sender_note, "{which}duplicated by link ({cause})");
            }
            Done::Corrupted(bit) => {
                let c = &mut copies[pos];
                sep(&mut c.note);
                let _ = write!(c.note, "corrupted by link: bit {bit} flipped ({cause})");
                let _ = write!(sender_note, "{which}corrupted by link: bit {bit} ({cause})");
            }
            Done::BeyondFrame(bit) => {
                let len = copies[pos].bytes.len();
                let _ = write!(sender_note, "{which}left alone: bit {bit} lies beyond this {len}-byte frame ({cause})");
            }
            Done::Ce(mark) => {
                let c = &mut copies[pos];
                sep(&mut c.note);
                let what = match mark {
                    CeMark::Marked => "CE marked by link",
                    CeMark::AlreadyCe => "CE already, left alone by link",
                    CeMark::NotEct => "not ECN-capable, left unmarked by link",
                };
                let _ = write!(c.note, "{what} ({cause})");
                let _ = write!(sender_note, "{which}{what} ({cause})");
            }
            Done::Delayed(d) => {
                let c = &mut copies[pos];
                sep(&mut c.note);
                let _ = write!(c.note, "delayed by link +{} ({cause})", format_duration(d));
                let _ = write!(sender_note, "{which}delayed by link +{} ({cause})", format_duration(d));
            }
        }
    }
}

/// One frame's way through a direction.
struct FrameState {
    /// The number the next duplicate gets.
    next_id: u8,
    /// What the link did, for the sender's capture.
    sender_note: String,
    /// Whether notes are written at all ([`Direction::notes`]).
    notes: bool,
}

/// What a verdict did to a frame copy.
#[derive(Clone, Copy, Debug)]
enum Done {
    Nothing,
    Dropped(&'static str),
    /// A copy was added at the end of the list.
    Duplicated,
    Corrupted(usize),
    /// A corrupt fault whose bit lies past the frame's end: nothing flipped.
    BeyondFrame(usize),
    Ce(CeMark),
    Delayed(Duration),
}

/// One end of a link: a host (index into the simulation's hosts) or a port of a switch or router.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Host(usize),
    Port { node: usize, port: usize },
}

/// A point-to-point link: ends `a` and `b` and two directions.
#[derive(Debug)]
pub struct Link {
    pub name: String,
    pub a: End,
    pub b: End,
    /// `[a->b, b->a]`.
    pub dirs: [Direction; 2],
}
