//! The container's demo script (`container/demo.sh`), run as a plain script: it makes a namespace of its own
//! (outside a container), brings dnsmasq and synack-tap up on a TAP device there, and checks ping, TCP echo,
//! curl by name, and synack's `get` by name. The container image runs the same script; this keeps it working
//! where Docker cannot run.

mod common;

use common::text;
use std::path::Path;
use std::process::Command;

#[test]
fn the_container_demo_script_passes_in_a_namespace_of_its_own() {
    if !common::live("container-demo", &["dnsmasq", "tshark", "nc", "curl", "ping", "timeout"]) {
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../container/demo.sh");
    let out = Command::new("timeout")
        .args(["180", "bash"])
        .arg(&script)
        .env("SYNACK_TAP", common::synack_tap_bin())
        .env_remove("SYNACK_IN_CONTAINER")
        .output()
        .expect("cannot run bash");
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    eprintln!("{stdout}");
    assert!(out.status.success(), "demo failed: {:?}\n{stderr}", out.status);
    for line in [
        "dhcp: bound 10.77.0.2/24 gateway 10.77.0.1 dns 10.77.0.1 from 10.77.0.1",
        "3 packets transmitted, 3 received, 0% packet loss",
        "nc got back: hello synack",
        "curl got: hello from synack",
        "resolved: www.linux.test is linux.test (10.77.0.1)",
        "Standard query response",
        "=== demo: all steps passed",
    ] {
        assert!(stdout.contains(line), "no {line:?} in the demo's output");
    }
    let left = text(&Command::new("ip").args(["netns", "list"]).output().expect("ip").stdout);
    assert!(!left.contains("synack-demo-"), "the demo left a namespace behind: {left}");
}
