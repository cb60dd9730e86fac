//! The network-lab part of a run summary: what each switch and router did, each queued port's drops, marks
//! and sojourn times, and each flow of a multi-flow app with Jain's fairness index. Printed only for
//! scenarios with nodes or app copies, so every other summary reads as it always did.

use crate::app::{AppReport, ConnReport};
use crate::aqm::stats::percentile;
use crate::aqm::QueueStats;
use crate::engine::Sim;
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;
use synack::Instant;

/// One switch or router at the end of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeReport {
    pub name: String,
    pub kind: &'static str,
    pub counters: BTreeMap<&'static str, u64>,
    pub queues: Vec<QueueReport>,
}

/// One queued port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueReport {
    /// `node:port`.
    pub port: String,
    pub discipline: &'static str,
    pub rate: u64,
    pub stats: QueueStats,
}

/// The nodes of a finished simulation.
pub fn node_reports(sim: &Sim) -> Vec<NodeReport> {
    sim.nodes
        .iter()
        .map(|n| NodeReport {
            name: n.name.clone(),
            kind: n.kind_name(),
            counters: n.counters(),
            queues: n
                .ports
                .iter()
                .filter_map(|p| {
                    let (rate, disc) = (p.egress.rate?, p.egress.discipline.as_ref()?);
                    let port = format!("{}:{}", n.name, p.name);
                    Some(QueueReport { port, discipline: disc.name(), rate, stats: p.egress.stats.clone() })
                })
                .collect(),
        })
        .collect()
}

/// Jain's fairness index of `x`: `(sum x)^2 / (n * sum x^2)`, 1 when all are equal, `1/n` when one has all.
pub fn jain(x: &[f64]) -> Option<f64> {
    let sum: f64 = x.iter().sum();
    let squares: f64 = x.iter().map(|v| v * v).sum();
    (!x.is_empty() && squares > 0.0).then(|| sum * sum / (x.len() as f64 * squares))
}

/// The flows' goodput together: every byte delivered over the span from the first start to the last finish.
/// (Summing each flow's own average would count a flow that finished early at its rate while others were
/// still sending, and add up to more than the bottleneck carried.)
fn total_goodput_bps<'a>(flows: impl Iterator<Item = &'a ConnReport> + Clone, end: Instant) -> f64 {
    let bytes: u64 = flows.clone().map(ConnReport::delivered).sum();
    let (Some(first), Some(last)) =
        (flows.clone().map(|c| c.started).min(), flows.map(|c| c.finished.unwrap_or(end)).max())
    else {
        return 0.0;
    };
    let took = last.saturating_duration_since(first);
    if took.is_zero() {
        0.0
    } else {
        bytes as f64 * 8.0 / took.as_secs_f64()
    }
}

fn goodput_bps(c: &ConnReport, end: Instant) -> f64 {
    let took = c.finished.unwrap_or(end) - c.started;
    let bytes = c.delivered();
    if took.is_zero() {
        0.0
    } else {
        bytes as f64 * 8.0 / took.as_secs_f64()
    }
}

fn mbit(bps: f64) -> String {
    format!("{:.2} Mbit/s", bps / 1e6)
}

fn ms(d: Duration) -> String {
    format!("{:.3}ms", d.as_secs_f64() * 1e3)
}

/// The lab sections of the summary.
#[derive(Debug)]
pub struct LabSummary<'a> {
    pub nodes: &'a [NodeReport],
    pub apps: &'a [AppReport],
    pub end: Instant,
}

impl LabSummary<'_> {
    /// Whether there is anything to print.
    pub fn applies(&self) -> bool {
        !self.nodes.is_empty() || self.apps.iter().any(|a| a.group.is_some())
    }
}

impl fmt::Display for LabSummary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.nodes.is_empty() {
            writeln!(f, "\nnodes:")?;
        }
        for n in self.nodes {
            let c: Vec<String> = n.counters.iter().map(|(k, v)| format!("{k} {v}")).collect();
            writeln!(f, "  {} ({}): {}", n.name, n.kind, if c.is_empty() { "idle".into() } else { c.join(", ") })?;
            for q in &n.queues {
                let s = &q.stats;
                let drops: Vec<String> = s.dropped.iter().map(|(k, v)| format!("{k} {v}")).collect();
                let p = |x| s.sojourn_percentile(x).map(ms).unwrap_or_else(|| "-".into());
                writeln!(
                    f,
                    "    queue {} ({}, {}): sent {} frames ({} B), dropped {}{}, CE-marked {}, sojourn p50 {} p99 {}, \
                     max backlog {} B / {} frames",
                    q.port,
                    q.discipline,
                    mbit(q.rate as f64),
                    s.sent,
                    s.bytes_sent,
                    s.total_dropped(),
                    if drops.is_empty() { String::new() } else { format!(" ({})", drops.join(", ")) },
                    s.marked,
                    p(50),
                    p(99),
                    s.max_bytes,
                    s.max_packets
                )?;
            }
        }
        // Flows: every app with several connections, and every group of copies.
        let mut groups: Vec<(String, Vec<(String, &ConnReport)>)> = Vec::new();
        for a in self.apps {
            let key = a.group.clone().unwrap_or_else(|| a.name.clone());
            let flows: Vec<(String, &ConnReport)> =
                a.conns.iter().map(|c| (format!("{} conn #{}", a.name, c.sock), c)).collect();
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, v)) => v.extend(flows),
                None => groups.push((key, flows)),
            }
        }
        groups.retain(|(_, v)| v.len() > 1);
        if groups.is_empty() {
            return Ok(());
        }
        writeln!(f, "\nflows:")?;
        for (name, flows) in groups {
            let rates: Vec<f64> = flows.iter().map(|(_, c)| goodput_bps(c, self.end)).collect();
            let retx: u64 = flows.iter().filter_map(|(_, c)| c.retransmits).sum();
            writeln!(
                f,
                "  {name}: {} flows, goodput total {}, Jain's fairness {}, retransmissions {retx}",
                flows.len(),
                mbit(total_goodput_bps(flows.iter().map(|(_, c)| *c), self.end)),
                jain(&rates).map_or("-".into(), |j| format!("{j:.3}"))
            )?;
            for ((label, c), r) in flows.iter().zip(&rates) {
                let mut s = c.srtt_samples.clone();
                s.sort_unstable();
                let pct = |p| percentile(&s, p).map(ms).unwrap_or_else(|| "-".into());
                writeln!(
                    f,
                    "    {label}: goodput {}, retransmissions {}, srtt p50 {} p99 {}",
                    mbit(*r),
                    c.retransmits.map_or("n/a".into(), |n| n.to_string()),
                    pct(50),
                    pct(99)
                )?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jain_index() {
        assert_eq!(jain(&[5.0, 5.0, 5.0, 5.0]), Some(1.0));
        assert_eq!(jain(&[1.0, 0.0, 0.0, 0.0]), Some(0.25));
        assert_eq!(jain(&[]), None);
        let j = jain(&[1.0, 2.0]).unwrap();
        assert!((j - 0.9).abs() < 1e-12);
    }
}
