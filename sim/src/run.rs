//! One complete run: build, simulate, collect.

use crate::build::{build, BuildOptions};
use crate::expect::evaluate;
use crate::impairment::Fault;
use crate::scenario::{Scenario, ScenarioError, Source};
use crate::summary::RunResult;

/// What a run leaves behind.
#[derive(Debug)]
pub struct RunOutput {
    pub result: RunResult,
    /// (host name, pcapng bytes), when capturing.
    pub captures: Vec<(String, Vec<u8>)>,
    /// Every impairment decision, when recording.
    pub faults: Vec<Fault>,
    /// The TCP time series as CSV ([`crate::series`]), when asked for.
    pub series: Option<String>,
    /// The node queues' time series as CSV ([`crate::series::queues`]), when asked for; `None` also when the
    /// scenario has no queue.
    pub queue_series: Option<String>,
}

/// Builds and runs a scenario.
pub fn run(sc: &Scenario, source: &Source, opts: &BuildOptions) -> Result<RunOutput, ScenarioError> {
    let mut sim = build(sc, source, opts)?;
    sim.run();
    let apps = sim.app_reports();
    let checks = evaluate(&sc.expects, &apps);
    let result = RunResult {
        scenario: sc.name.clone(),
        seed: sim.seed,
        end: sim.now,
        hosts: sim.hosts.iter().map(|h| (h.name.clone(), h.stack.stats().clone(), h.unroutable)).collect(),
        links: sim.links.iter().flat_map(|l| l.dirs.iter().map(|d| (d.label.clone(), d.stats.clone()))).collect(),
        apps,
        nodes: crate::lab_summary::node_reports(&sim),
        checks,
        frames_delivered: sim.frames_delivered,
        events: sim.events,
    };
    let faults = sim.recorded_faults();
    let captures = sim.take_captures();
    let series = sim.series.take().map(crate::series::Series::into_csv);
    let queue_series = sim.queue_series.take().filter(|q| q.rows() > 0).map(|q| q.into_csv());
    Ok(RunOutput { result, captures, faults, series, queue_series })
}

/// The file `run --out DIR --series` writes the time series into: `DIR/<scenario>-series.csv`.
pub fn series_path(dir: &std::path::Path, scenario: &str) -> std::path::PathBuf {
    dir.join(format!("{}-series.csv", safe_name(scenario)))
}

/// The file `run --out DIR --series` writes the node queues' time series into: `DIR/<scenario>-queues.csv`.
pub fn queue_series_path(dir: &std::path::Path, scenario: &str) -> std::path::PathBuf {
    dir.join(format!("{}-queues.csv", safe_name(scenario)))
}

/// A name as a file name part: letters, digits, `-` and `_`, anything else `_`.
pub(crate) fn safe_name(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

/// Writes each capture as `DIR/<scenario>-<host>.pcapng`; returns the paths.
pub fn write_captures(
    dir: &std::path::Path,
    scenario: &str,
    captures: &[(String, Vec<u8>)],
) -> std::io::Result<Vec<std::path::PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let safe = safe_name;
    let mut paths: Vec<std::path::PathBuf> = Vec::new();
    for (host, _) in captures {
        let p = dir.join(format!("{}-{}.pcapng", safe(scenario), safe(host)));
        // Names that differ only where a file name cannot (`h 1`, `h_1`; a host `sw-1` beside switch `sw`'s port
        // 1) would overwrite one capture with another.
        if let Some(j) = paths.iter().position(|q| *q == p) {
            let msg = format!(
                "{:?} and {:?} would both be captured to {}: rename one of them",
                captures[j].0,
                host,
                p.display()
            );
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, msg));
        }
        paths.push(p);
    }
    for (p, (_, bytes)) in paths.iter().zip(captures) {
        std::fs::write(p, bytes)?;
    }
    Ok(paths)
}
