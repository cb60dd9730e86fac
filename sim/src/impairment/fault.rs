//! Exact faults: "drop frame #3 client->server", "duplicate #5", "corrupt #7 bit 100", "delay #4 by 50ms",
//! "mark CE on #6" (an ECN-capable IPv4 frame only; see `mark.rs`).
//!
//! A fault names a frame by its 1-based number among the frames sent in one direction, and a copy (0 for the
//! original, n for the n-th duplicate made on the way). Faults of one frame apply in list order; a `Duplicate`
//! makes the next copy number. Recorded random decisions use the same form, so a run replays from its list.

use super::flip_bit;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// What to do to the frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FaultAction {
    Drop,
    Duplicate,
    Corrupt {
        bit: usize,
    },
    Delay(Duration),
    /// Set the IPv4 ECN field to CE (RFC 3168) if the frame is ECN-capable; anything else is left alone.
    MarkCe,
}

/// One exact fault, with the impairment that decided it when it was recorded from a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    /// Direction label, `"client->server"`.
    pub dir: String,
    pub frame: u64,
    pub copy: u8,
    pub action: FaultAction,
    /// Which impairment decided it ("loss", "jitter", "fault", ...): for humans only.
    pub cause: &'static str,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let copy = if self.copy > 0 { format!(" copy {}", self.copy) } else { String::new() };
        let what = match self.action {
            FaultAction::Drop => "drop".to_string(),
            FaultAction::Duplicate => "duplicate".to_string(),
            FaultAction::Corrupt { bit } => format!("corrupt bit {bit} of"),
            FaultAction::Delay(d) => format!("delay by {} ", crate::units::format_duration(d)),
            FaultAction::MarkCe => "mark CE on".to_string(),
        };
        write!(f, "{what} frame #{}{copy} {} ({})", self.frame, self.dir, self.cause)
    }
}

/// The faults of one direction, looked up by frame number.
#[derive(Clone, Debug, Default)]
pub struct FaultScript {
    by_frame: BTreeMap<u64, Vec<(u8, FaultAction)>>,
}

impl FaultScript {
    pub fn push(&mut self, frame: u64, copy: u8, action: FaultAction) {
        self.by_frame.entry(frame).or_default().push((copy, action));
    }
    pub fn is_empty(&self) -> bool {
        self.by_frame.is_empty()
    }
    /// The faults for frame `index`, in order.
    pub fn for_frame(&self, index: u64) -> &[(u8, FaultAction)] {
        self.by_frame.get(&index).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// Applies the byte-level part of `action` to a copy (only `Corrupt` changes bytes).
pub(crate) fn apply_bytes(bytes: &mut [u8], action: FaultAction) {
    if let FaultAction::Corrupt { bit } = action {
        flip_bit(bytes, bit);
    }
}

/// A fault as written in a scenario's `[[fault]]` table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// `"client->server"`.
    pub dir: String,
    /// 1-based frame number in that direction.
    pub frame: u64,
    /// 0 (default) for the original frame, n for the n-th duplicate.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub copy: u8,
    /// `drop`, `duplicate`, `corrupt` (needs `bit`), `delay` (needs `by`) or `mark_ce` (sets an ECN-capable
    /// IPv4 frame's ECN field to CE, leaves any other frame alone).
    pub action: ActionName,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bit: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<crate::units::Dur>,
}

fn is_zero(v: &u8) -> bool {
    *v == 0
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionName {
    Drop,
    Duplicate,
    Corrupt,
    Delay,
    MarkCe,
}

impl FaultSpec {
    /// The action, or what is missing.
    pub fn action(&self) -> Result<FaultAction, &'static str> {
        match (self.action, self.bit, self.by) {
            (ActionName::Drop, None, None) => Ok(FaultAction::Drop),
            (ActionName::Duplicate, None, None) => Ok(FaultAction::Duplicate),
            (ActionName::MarkCe, None, None) => Ok(FaultAction::MarkCe),
            (ActionName::Corrupt, Some(bit), None) => Ok(FaultAction::Corrupt { bit }),
            (ActionName::Corrupt, _, _) => Err("action \"corrupt\" needs `bit` (and no `by`)"),
            (ActionName::Delay, None, Some(by)) => Ok(FaultAction::Delay(by.0)),
            (ActionName::Delay, _, _) => Err("action \"delay\" needs `by` (and no `bit`)"),
            _ => Err("only \"corrupt\" takes `bit` and only \"delay\" takes `by`"),
        }
    }

    pub fn from_fault(f: &Fault) -> FaultSpec {
        let (action, bit, by) = match f.action {
            FaultAction::Drop => (ActionName::Drop, None, None),
            FaultAction::Duplicate => (ActionName::Duplicate, None, None),
            FaultAction::Corrupt { bit } => (ActionName::Corrupt, Some(bit), None),
            FaultAction::Delay(d) => (ActionName::Delay, None, Some(crate::units::Dur(d))),
            FaultAction::MarkCe => (ActionName::MarkCe, None, None),
        };
        FaultSpec { dir: f.dir.clone(), frame: f.frame, copy: f.copy, action, bit, by }
    }
}
