//! The top-level README's "Running it live" block, run as it stands: the test finds the fenced block that starts
//! with the `# readme-live` marker, stubs `sudo` (the test is root) and `cargo` (the binary is already built),
//! renames the namespace `synack-demo` to one of the test's own, and runs it with bash inside a namespace the
//! test creates, under `timeout`. Both namespaces are deleted (what runs inside them killed) even on failure.
//! Skipped loudly without root, /dev/net/tun or nc, unless CI=true.

mod common;

use common::{text, Netns};
use std::process::{Command, Stdio};

const MARKER: &str = "# readme-live";
/// The whole block is bounded: synack-tap waits at most 10 s for `ready:`, exits after one connection.
const BLOCK_TIMEOUT_SECS: &str = "60";

/// The fenced block of `markdown` whose first line is `marker`.
fn block_with(markdown: &str, marker: &str) -> Option<String> {
    let start = markdown.find(&format!("```sh\n{marker}"))? + "```sh\n".len();
    let len = markdown[start..].find("\n```")?;
    Some(markdown[start..start + len + 1].to_string())
}

#[test]
fn readme_block_finds_the_marked_block() {
    let md = "text\n```sh\nother\n```\n```sh\n# readme-live: x\necho a\n```\nmore\n";
    assert_eq!(block_with(md, MARKER).as_deref(), Some("# readme-live: x\necho a\n"));
    assert_eq!(block_with("```sh\necho\n```\n", MARKER), None);
}

#[test]
fn readme_running_it_live_works_as_pasted() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let block = block_with(&readme, MARKER).expect("README.md has a ```sh block starting with `# readme-live`");
    if !common::live("readme", &["nc", "timeout", "bash"]) {
        return;
    }
    let outer = Netns::new("readme");
    // The block's own namespace, renamed: this guard deletes it (killing synack-tap if it still runs) on drop.
    let demo = Netns { name: format!("{}-demo", outer.name) };
    let script = block.replace("synack-demo", &demo.name);
    // `target/release/synack-tap` is the binary cargo built for this test.
    let dir = common::TempDir::new(&format!("{}-dir", outer.name));
    std::fs::create_dir_all(dir.join("target/release")).unwrap();
    std::os::unix::fs::symlink(common::synack_tap_bin(), dir.join("target/release/synack-tap")).unwrap();
    let stubs = "sudo() { \"$@\"; }\ncargo() { echo \"(test: skipped cargo $*)\"; }\nset -e -o pipefail\n";
    let out = outer
        .cmd("timeout")
        .args(["--kill-after=5", BLOCK_TIMEOUT_SECS, "bash", "-c", &format!("{stubs}{script}")])
        .current_dir(&*dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    eprintln!("--- script\n{script}--- stdout\n{stdout}--- stderr\n{stderr}");
    assert!(out.status.success(), "the README block failed ({:?})", out.status);
    assert!(!stderr.contains("Cannot find device"), "{stderr}");
    assert!(stdout.lines().any(|l| l == "hello"), "nc got the echo back: {stdout}");
    assert!(stdout.contains("ready: echo on 10.77.0.2:7"), "{stdout}");
    assert!(stdout.contains("echo: 6 bytes echoed"), "{stdout}");
    assert!(stdout.contains("--- synack-tap stats (echo) ---"), "{stdout}");
    // The block deleted its namespace itself.
    let left = Command::new("ip").args(["netns", "list"]).output().unwrap();
    assert!(!text(&left.stdout).contains(&demo.name), "{}", text(&left.stdout));
}
