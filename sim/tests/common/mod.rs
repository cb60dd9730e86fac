//! Helpers shared by the simulator's integration tests.
#![allow(dead_code)]

use std::path::PathBuf;
use synack_sim::{run, BuildOptions, RunOutput, Scenario, Source};

/// Parses an inline scenario (panicking with the located error).
pub fn scenario(text: &str) -> (Scenario, Source) {
    let file = "<test>".to_string();
    let sc = Scenario::parse(&file, text).unwrap_or_else(|e| panic!("{e}"));
    (sc, Source { file, text: text.to_string() })
}

/// Runs an inline scenario.
pub fn run_text(text: &str, seed: Option<u64>, capture: bool) -> RunOutput {
    let (sc, src) = scenario(text);
    run(&sc, &src, &BuildOptions { seed, capture, ..BuildOptions::default() }).unwrap_or_else(|e| panic!("{e}"))
}

/// Loads a scenario shipped in sim/scenarios/.
pub fn shipped(name: &str) -> (Scenario, Source) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(name);
    Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

/// A fresh, empty directory under the system temp dir.
pub fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("synack-sim-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// Two hosts on one link with the given extra link lines, and the given apps/expectations.
pub fn two_hosts(link_extra: &str, rest: &str) -> String {
    format!(
        r#"
name = "test"
seed = 1
duration = "60s"
[[host]]
name = "a"
ip = "10.0.0.1/24"
[[host]]
name = "b"
ip = "10.0.0.2/24"
[[link]]
a = "a"
b = "b"
{link_extra}
{rest}
"#
    )
}
