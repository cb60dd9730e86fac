//! `synack-sim ladder` end to end: from a scenario or two captures to the terminal ladder and the SVG, and its
//! errors.

mod common;

use std::process::Command;

fn sim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_synack-sim"))
}

fn traces() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("traces")
}

#[test]
fn a_scenario_and_its_captures_give_the_same_ladder_and_an_svg() {
    let dir = common::temp_dir("cli-ladder");
    let svg = dir.join("syn.svg");
    let t = traces();
    let from_toml = sim().arg("ladder").arg(t.join("tour_02_syn_loss.toml")).arg("--svg").arg(&svg).output().unwrap();
    assert!(from_toml.status.success(), "{}", String::from_utf8_lossy(&from_toml.stderr));
    let from_files = sim()
        .arg("ladder")
        .arg(t.join("tour_02_syn_loss-client.pcapng"))
        .arg(t.join("tour_02_syn_loss-server.pcapng"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&from_files.stdout);
    // Not a terminal: no pager, the whole ladder on stdout.
    assert_eq!(text, String::from_utf8_lossy(&from_toml.stdout));
    assert!(text.contains("SYN-SENT") && text.contains('✗') && text.ends_with("1 dropped by the link\n"), "{text}");
    assert!(String::from_utf8_lossy(&from_toml.stderr).contains("wrote "));
    let picture = std::fs::read_to_string(&svg).unwrap();
    assert!(picture.starts_with("<svg ") && picture.contains("SYN seq=0") && picture.contains("class=\"drop\""));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_inputs_are_errors_that_name_the_file_or_the_option() {
    let t = traces();
    let missing = sim().arg("ladder").arg(t.join("tour_02_syn_loss.toml").with_extension("md")).output().unwrap();
    assert!(
        missing.status.code() == Some(2) && String::from_utf8_lossy(&missing.stderr).contains("tour_02_syn_loss.md: ")
    );
    let readme = sim().arg("ladder").arg(t.join("README.md")).output().unwrap();
    let err = String::from_utf8_lossy(&readme.stderr);
    assert!(readme.status.code() == Some(2) && err.contains("README.md: not pcapng"), "{err}");
    let conn =
        sim().arg("ladder").arg(t.join("tour_01_handshake-client.pcapng")).args(["--conn", "9"]).output().unwrap();
    let err = String::from_utf8_lossy(&conn.stderr);
    assert!(conn.status.code() == Some(2) && err.contains("no TCP connection with port 9"), "{err}");
    assert!(err.contains("10.0.0.1:58627-10.0.0.2:7"), "names the connections there are: {err}");
    let window = sim()
        .arg("ladder")
        .arg(t.join("tour_01_handshake-client.pcapng"))
        .args(["--from", "2", "--until", "1"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&window.stderr).contains("--from 2.000000 is after --until 1.000000"));
}

/// `run --ladder` prints the summary, then the same ladder as `ladder SCENARIO.toml`.
#[test]
fn run_with_ladder_prints_the_summary_then_the_ladder() {
    let toml = traces().join("tour_02_syn_loss.toml");
    let run = sim().arg("run").arg(&toml).arg("--ladder").output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let out = String::from_utf8_lossy(&run.stdout);
    let ladder = sim().arg("ladder").arg(&toml).output().unwrap();
    let ladder = String::from_utf8_lossy(&ladder.stdout);
    let at = out.find("ladder: TCP").unwrap_or_else(|| panic!("no ladder after the summary: {out}"));
    assert!(out[..at].contains("PASS") || out[..at].contains("pass"), "the summary comes first: {out}");
    assert_eq!(&out[at..], ladder.as_ref());
    assert!(ladder.contains("SYN seq=0 · handshake retransmission #1"), "{ladder}");
}
