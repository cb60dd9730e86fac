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
        format!("traces/{}.toml", self.name)
    }

    /// Runs the scenario with its own seed (or `seed`), capturing every host.
    pub fn run(&self, seed: Option<u64>, capture: bool) -> RunOutput {
        let opts = BuildOptions { seed, capture, record: false };
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

/// A unified diff of two decodes (`-` committed, `+` regenerated), at most `max_lines` lines of it.
pub fn line_diff(old: &[String], new: &[String], max_lines: usize) -> String {
    let old = old.join("\n") + "\n";
    let new = new.join("\n") + "\n";
    let diff = similar::TextDiff::from_lines(&old, &new);
    let text = diff.unified_diff().context_radius(3).header("committed", "regenerated").to_string();
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() <= max_lines {
        return text;
    }
    let mut out = lines[..max_lines].join("\n");
    out.push_str(&format!("\n... {} more diff lines\n", lines.len() - max_lines));
    out
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
