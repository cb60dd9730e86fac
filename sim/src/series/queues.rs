//! Time series of every egress queue of the switches and routers (`synack-sim run --series`): backlog in bytes
//! and frames, the sojourn time of each frame sent, and the running counts of frames sent, dropped and marked
//! CE, as CSV next to the TCP series.
//!
//! After each frame a port queues, drops or sends, the port gets a row if its backlog or a count changed: a row
//! per change. Only ports with a queue (a rate) appear. Sampling only reads the queues, so a run's frames,
//! captures and verdicts are the same with or without it. Columns, integers only:
//!
//! | column | meaning |
//! |---|---|
//! | `time_ns` | virtual time of the row |
//! | `node`, `port` | the queue |
//! | `backlog_bytes`, `backlog_packets` | what waits in the queue after the change (not the frame on the wire) |
//! | `sojourn_ns` | how long the frame that just left waited (empty when none left) |
//! | `sent`, `dropped`, `marked` | frames sent, dropped (any cause) and marked CE since the start |

use crate::node::Egress;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use synack::Instant;

/// The CSV header line (without its newline).
pub const HEADER: &str = "time_ns,node,port,backlog_bytes,backlog_packets,sojourn_ns,sent,dropped,marked";

/// What a row says besides its time and sojourn: a new row is written when this changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Reading {
    backlog_bytes: usize,
    backlog_packets: usize,
    sent: u64,
    dropped: u64,
    marked: u64,
}

/// The queue rows of a run so far.
#[derive(Debug)]
pub struct QueueSeries {
    csv: String,
    rows: usize,
    last: BTreeMap<(usize, usize), Reading>,
}

impl Default for QueueSeries {
    fn default() -> QueueSeries {
        QueueSeries::new()
    }
}

impl QueueSeries {
    pub fn new() -> QueueSeries {
        let mut csv = String::from(HEADER);
        csv.push('\n');
        QueueSeries { csv, rows: 0, last: BTreeMap::new() }
    }

    /// Reads the queue of port `port` of node `node` (named `node_name` and `port_name`) at `now`; writes a row
    /// if it changed.
    pub fn sample(&mut self, (node, port): (usize, usize), names: (&str, &str), egress: &Egress, now: Instant) {
        let Some(disc) = egress.discipline.as_ref().filter(|_| egress.is_queued()) else { return };
        let (backlog_bytes, backlog_packets) = disc.backlog();
        let s = &egress.stats;
        let reading =
            Reading { backlog_bytes, backlog_packets, sent: s.sent, dropped: s.total_dropped(), marked: s.marked };
        let before = self.last.insert((node, port), reading);
        if before == Some(reading) {
            return;
        }
        let sojourn = match before {
            Some(b) if b.sent == reading.sent => None,
            _ if reading.sent == 0 => None,
            _ => s.sojourn_ns.last().copied(),
        };
        self.rows += 1;
        let _ = writeln!(
            self.csv,
            "{},{},{},{backlog_bytes},{backlog_packets},{},{},{},{}",
            now.as_nanos(),
            super::field(names.0),
            super::field(names.1),
            sojourn.map(|v| v.to_string()).unwrap_or_default(),
            reading.sent,
            reading.dropped,
            reading.marked,
        );
    }

    /// Rows written so far (without the header).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The CSV text: the header, then the rows in time order.
    pub fn into_csv(self) -> String {
        self.csv
    }
}
