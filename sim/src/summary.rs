//! The result of a run and its human-readable summary.

use crate::app::AppReport;
use crate::expect::Check;
use crate::link::DirStats;
use std::fmt;
use std::time::Duration;
use synack::{Instant, Stats};

/// Everything a run produced except the captures.
#[derive(Clone, Debug)]
pub struct RunResult {
    pub scenario: String,
    pub seed: u64,
    /// Virtual time at the end.
    pub end: Instant,
    pub hosts: Vec<(String, Stats, u64)>,
    pub links: Vec<(String, DirStats)>,
    pub apps: Vec<AppReport>,
    /// Switches and routers, with their queues.
    pub nodes: Vec<crate::lab_summary::NodeReport>,
    pub checks: Vec<Check>,
    pub frames_delivered: u64,
    pub events: u64,
}

impl RunResult {
    /// Every expectation held.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }

    /// The first failed expectation, in one line.
    pub fn first_failure(&self) -> Option<String> {
        self.checks.iter().find(|c| !c.ok).map(|c| format!("{} (got {})", c.what, c.detail))
    }
}

fn rate(bytes: u64, d: Duration) -> String {
    if d.is_zero() {
        return "-".into();
    }
    let bps = bytes as f64 * 8.0 / d.as_secs_f64();
    if bps >= 1e6 {
        format!("{:.2} Mbit/s", bps / 1e6)
    } else {
        format!("{:.1} kbit/s", bps / 1e3)
    }
}

fn ms(d: Duration) -> String {
    format!("{:.3}ms", d.as_secs_f64() * 1e3)
}

impl fmt::Display for RunResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "scenario {:?} seed {}: ended at {}s virtual time, {} frames delivered, {} events",
            self.scenario, self.seed, self.end, self.frames_delivered, self.events
        )?;
        writeln!(f, "\nlinks:")?;
        for (label, s) in &self.links {
            let drops: Vec<String> = s.dropped.iter().map(|(k, v)| format!("{k} {v}")).collect();
            let drops = if drops.is_empty() { "none".into() } else { drops.join(", ") };
            write!(
                f,
                "  {label:<24} in {:>7}  delivered {:>7}  dropped {} ({drops})  duplicated {}  corrupted {}  delayed {}",
                s.frames_in,
                s.delivered,
                s.total_dropped(),
                s.duplicated,
                s.corrupted,
                s.delayed
            )?;
            // Only where the link marked anything, so other runs' summaries read as they always did.
            if s.ce_marked > 0 {
                write!(f, "  CE-marked {}", s.ce_marked)?;
            }
            writeln!(f)?;
        }
        writeln!(f, "\nhosts:")?;
        for (name, stats, unroutable) in &self.hosts {
            writeln!(f, "  {name}:")?;
            for line in stats.to_string().lines() {
                writeln!(f, "    {line}")?;
            }
            if *unroutable > 0 {
                writeln!(f, "    frames with no link to their destination: {unroutable}")?;
            }
        }
        writeln!(f, "\napps:")?;
        for a in &self.apps {
            writeln!(f, "  {} ({} on {}): {}, {} {}", a.name, a.kind, a.host, a.status(), a.count, a.count_unit)?;
            if !a.rtts.is_empty() {
                let mut r = a.rtts.clone();
                r.sort_unstable();
                let avg = r.iter().sum::<Duration>() / r.len() as u32;
                writeln!(f, "    rtt min/avg/max {}/{}/{} over {}", ms(r[0]), ms(avg), ms(r[r.len() - 1]), r.len())?;
            }
            for c in &a.conns {
                let end = c.finished.unwrap_or(self.end);
                let took = end - c.started;
                let bytes = c.delivered();
                let hash = c.digest.map(|d| format!(" {d}")).unwrap_or_default();

                writeln!(
                    f,
                    "    conn #{}: sent {} B, received {} B in {} ({}), goodput {}, retransmissions {}, srtt {}{hash}",
                    c.sock,
                    c.bytes_sent,
                    c.bytes_received,
                    ms(took),
                    if c.outcome.is_empty() { "open" } else { &c.outcome },
                    rate(bytes, took),
                    c.retransmits.map(|r| r.to_string()).unwrap_or_else(|| "n/a".into()),
                    c.srtt.map(ms).unwrap_or_else(|| "n/a".into()),
                )?;
                // How losses were handled, where there was any (a clean transfer reads as it always did).
                if let Some(n) = c.counters.filter(|n| n.retransmitted_segments + n.dsacks_received > 0) {
                    writeln!(
                        f,
                        "      recovery: fast recoveries {}, timeouts {}, tail loss probes {}, RACK marked lost {}, \
                         D-SACKs {}, undone {} recoveries + {} timeouts",
                        n.fast_retransmits,
                        n.timeouts,
                        n.tail_loss_probes,
                        n.lost_segments,
                        n.dsacks_received,
                        n.spurious_recoveries_undone,
                        n.spurious_timeouts_undone
                    )?;
                }
                // A line on ECN only where it was agreed, so other connections read as they always did.
                if let Some(n) = c.counters.filter(|_| c.ecn) {
                    writeln!(
                        f,
                        "      ECN: CE marks received {}, ECE received {}, window reductions for ECE {}",
                        n.ce_received, n.ece_received, n.cwnd_reductions_ecn
                    )?;
                }
            }
            for line in &a.lines {
                writeln!(f, "    {line}")?;
            }
            for e in a.errors.iter().take(5) {
                writeln!(f, "    error: {e}")?;
            }
            if a.errors.len() > 5 {
                writeln!(f, "    ... and {} more errors", a.errors.len() - 5)?;
            }
        }
        let lab = crate::lab_summary::LabSummary { nodes: &self.nodes, apps: &self.apps, end: self.end };
        if lab.applies() {
            write!(f, "{lab}")?;
        }
        writeln!(f, "\nexpectations:")?;
        if self.checks.is_empty() {
            writeln!(f, "  (none)")?;
        }
        for c in &self.checks {
            writeln!(f, "  [{}] {} — {}", if c.ok { "ok" } else { "FAILED" }, c.what, c.detail)?;
        }
        writeln!(f, "\n{}", if self.passed() { "PASS" } else { "FAIL" })
    }
}
