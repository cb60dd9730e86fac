//! Every pcapng we write opens in tshark with no malformed frames, no expert errors and no checksum errors
//! other than on frames the simulator corrupted on purpose (their comment says so).
//!
//! Without tshark the test skips loudly, unless CI=true, where it fails.

mod common;

use std::process::Command;
use synack_sim::run::write_captures;
use synack_sim::{run, BuildOptions, Scenario};

const FILTER: &str = r#"_ws.malformed || _ws.expert.severity >= "Error" || _ws.expert.group == "Checksum""#;

fn tshark_available() -> bool {
    let found = Command::new("tshark").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("tshark is required in CI (apt-get install tshark)");
        }
        eprintln!("\n!!!!!!!! SKIPPING tshark validation: tshark not found (apt-get install -y tshark) !!!!!!!!\n");
    }
    found
}

/// Frames tshark flags, as (frame number, comment).
fn flagged(path: &std::path::Path) -> Vec<(String, String)> {
    let out = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(path)
        .args(["-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE"])
        .args(["-Y", FILTER, "-T", "fields", "-e", "frame.number", "-e", "frame.comment"])
        .output()
        .expect("tshark runs");
    assert!(out.status.success(), "tshark failed on {}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (n, c) = l.split_once('\t').unwrap_or((l, ""));
            (n.to_string(), c.to_string())
        })
        .collect()
}

#[test]
fn every_capture_is_clean_except_frames_corrupted_on_purpose() {
    if !tshark_available() {
        return;
    }
    let dir = common::temp_dir("tshark");
    let scenarios = [Scenario::builtin(), common::shipped("tcp_bulk.toml"), common::shipped("lossy_mix.toml")];
    let mut files = 0;
    let mut corrupted_seen = 0;
    for (sc, src) in scenarios {
        let out = run(&sc, &src, &BuildOptions { capture: true, ..BuildOptions::default() }).expect("runs");
        for path in write_captures(&dir, &sc.name, &out.captures).expect("writes") {
            files += 1;
            for (frame, comment) in flagged(&path) {
                assert!(
                    comment.contains("corrupted by link"),
                    "{}: frame {frame} flagged by tshark but not corrupted on purpose (comment {comment:?})",
                    path.display()
                );
                corrupted_seen += 1;
            }
        }
    }
    assert_eq!(files, 2 + 2 + 3);
    assert!(corrupted_seen > 0, "lossy_mix corrupts frames: tshark should have flagged them");
    let _ = std::fs::remove_dir_all(&dir);
}
