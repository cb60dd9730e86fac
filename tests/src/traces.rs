//! Helpers for the reference-trace tests: the scenario library in `traces/`, regenerating its captures,
//! decoding them one line per frame, diffing decodes, running seeds in parallel, and finding tshark.
//!
//! Each `traces/NAME.toml` is a simulator scenario whose `name` is `NAME`; its committed captures are
//! `traces/NAME-HOST.pcapng`, one per host, exactly as `synack-sim run traces/NAME.toml --out traces` writes
//! them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use synack_sim::run::RunOutput;
use synack_sim::{run, BuildOptions, Scenario, Source};

/// The environment variable that makes the trace test rewrite the committed captures.
pub const UPDATE_ENV: &str = "UPDATE_TRACES";

/// The repository's `traces/` directory.
pub fn traces_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("traces")
}

/// One scenario of the library.
#[derive(Debug)]
pub struct TraceScenario {
    /// File stem, which is also the scenario's name.
    pub name: String,
    pub path: PathBuf,
    pub scenario: Scenario,
    pub source: Source,
}

impl TraceScenario {
    /// The committed capture of `host`.
    pub fn trace_path(&self, host: &str) -> PathBuf {
        traces_dir().join(format!("{}-{host}.pcapng", self.name))
    }

    /// The path as a user would type it from the repository root.
    pub fn display_path(&self) -> String {
        let root = traces_dir().join("..");
        let canonical = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
        let path = canonical(&self.path);
        path.strip_prefix(canonical(&root)).unwrap_or(&path).display().to_string()
    }

    /// Runs the scenario with its own seed (or `seed`), capturing every host.
    pub fn run(&self, seed: Option<u64>, capture: bool) -> RunOutput {
        let opts = BuildOptions { seed, capture, ..BuildOptions::default() };
        run(&self.scenario, &self.source, &opts).unwrap_or_else(|e| panic!("{e}"))
    }
}

/// Every scenario in `traces/`, sorted by name. Panics (with file and line) on a scenario that does not parse
/// or whose `name` differs from its file stem.
pub fn scenarios() -> Vec<TraceScenario> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(traces_dir())
        .expect("traces/ exists")
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let (scenario, source) = Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
            let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
            assert_eq!(scenario.name, name, "{}: the scenario's `name` must equal its file stem", path.display());
            TraceScenario { name, path, scenario, source }
        })
        .collect()
}

/// A scenario of `sim/scenarios/` by name (runs and sweeps, no committed trace).
pub fn sim_scenario(name: &str) -> TraceScenario {
    let path = traces_dir().join("..").join("sim").join("scenarios").join(format!("{name}.toml"));
    let (scenario, source) = Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    TraceScenario { name: name.to_string(), path, scenario, source }
}

/// One scenario by name.
pub fn scenario(name: &str) -> TraceScenario {
    scenarios().into_iter().find(|s| s.name == name).unwrap_or_else(|| panic!("no traces/{name}.toml"))
}

/// Every committed `.pcapng` in `traces/`, sorted.
pub fn committed_traces() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(traces_dir())
        .expect("traces/ exists")
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcapng"))
        .collect();
    v.sort();
    v
}

/// One line per frame (see `synack_sim::decode`), or the reason the bytes do not parse.
pub fn decode_lines(bytes: &[u8]) -> Vec<String> {
    synack_sim::decode::decode(bytes).unwrap_or_else(|e| vec![format!("<unreadable capture: {e}>")])
}

/// A diff of two decodes (`-` committed, `+` regenerated), at most `max_lines` lines of it, headed by how many
/// lines changed with and without their timestamps. Replaced lines are shown in pairs, old above new, so a
/// small change that shifts every later timestamp (a few more bytes on a rate-limited link) stays readable.
pub fn line_diff(old: &[String], new: &[String], max_lines: usize) -> String {
    let untimed = |v: &[String]| -> Vec<String> {
        v.iter().map(|l| l.trim_start().split_once(' ').map(|(_, rest)| rest.to_string()).unwrap_or_default()).collect()
    };
    let changed = |a: &[String], b: &[String]| {
        let (a, b): (Vec<&str>, Vec<&str>) =
            (a.iter().map(String::as_str).collect(), b.iter().map(String::as_str).collect());
        similar::TextDiff::from_slices(&a, &b)
            .ops()
            .iter()
            .map(|op| match op.tag() {
                similar::DiffTag::Equal => 0,
                _ => op.old_range().len().max(op.new_range().len()),
            })
            .sum::<usize>()
    };
    let mut out = vec![format!(
        "{} -> {} frames; {} lines differ, {} ignoring timestamps ('-' committed, '+' regenerated):",
        old.len(),
        new.len(),
        changed(old, new),
        changed(&untimed(old), &untimed(new))
    )];
    let (a, b): (Vec<&str>, Vec<&str>) =
        (old.iter().map(String::as_str).collect(), new.iter().map(String::as_str).collect());
    let diff = similar::TextDiff::from_slices(&a, &b);
    for group in diff.grouped_ops(2) {
        let first = group.first().map(|op| (op.old_range().start, op.new_range().start)).unwrap_or_default();
        out.push(format!("@@ committed line {}, regenerated line {} @@", first.0 + 1, first.1 + 1));
        for op in group {
            let (o, n) = (op.old_range(), op.new_range());
            match op.tag() {
                similar::DiffTag::Equal => out.extend(a[o].iter().map(|l| format!(" {l}"))),
                _ => {
                    let pairs = o.len().max(n.len());
                    for i in 0..pairs {
                        if let Some(l) = a.get(o.start + i).filter(|_| i < o.len()) {
                            out.push(format!("-{l}"));
                        }
                        if let Some(l) = b.get(n.start + i).filter(|_| i < n.len()) {
                            out.push(format!("+{l}"));
                        }
                    }
                }
            }
        }
    }
    let total = out.len();
    if total > max_lines {
        out.truncate(max_lines);
        out.push(format!(
            "... {} more diff lines (run the test with UPDATE_TRACES=1 and use `git diff` on the snapshots)",
            total - max_lines
        ));
    }
    out.join("\n")
}

/// Runs `f` on every item on all cores, returning the results in item order.
pub fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let jobs = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).clamp(1, items.len().max(1));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                let r = f(item);
                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
            });
        }
    });
    results.into_inner().unwrap_or_else(|e| e.into_inner()).into_iter().map(|r| r.expect("every item ran")).collect()
}

/// Whether tshark can be run. Without it: a loud skip message, or a panic when `CI=true`.
pub fn tshark_available(what: &str) -> bool {
    let found = Command::new("tshark").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{what}: tshark is required when CI=true (apt-get install -y tshark; scripts/test installs it)");
        }
        eprintln!(
            "\n!!!!!!!!!!!!!!!! SKIPPING {what}: tshark not found (apt-get install -y tshark) !!!!!!!!!!!!!!!!\n"
        );
    }
    found
}

/// Runs tshark on a capture with checksum validation on, plus `args`; returns stdout (panics on failure).
pub fn tshark(path: &Path, args: &[&str]) -> String {
    let out = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(path)
        .args(["-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE"])
        .args(args)
        .output()
        .expect("tshark runs");
    assert!(out.status.success(), "tshark failed on {}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}
