//! `synack-tap`'s messages for bad command lines, checked without root: everything here fails before a device
//! is opened (or, for `--tap lo`, at the TUNSETIFF that refuses a non-TAP device, which needs no privilege and
//! changes nothing).

use std::process::{Command, Stdio};

/// Runs synack-tap with `args`; it must fail. Returns its stderr.
fn fails(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_synack-tap"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("cannot run synack-tap");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{args:?} succeeded: {err}");
    assert!(!err.contains("panicked"), "{args:?}: {err}");
    err
}

#[test]
fn negative_probabilities_get_a_range_message() {
    for flag in ["--loss", "--reorder", "--duplicate"] {
        let err = fails(&[flag, "-0.1", "udp-echo"]);
        let name = flag.trim_start_matches("--");
        assert!(err.contains(&format!("--{name} -0.1 must be a probability between 0 and 1")), "{err}");
        assert!(!err.contains("unexpected argument"), "{err}");
    }
    let err = fails(&["--loss", "NaN", "udp-echo"]);
    assert!(err.contains("between 0 and 1"), "{err}");
    let err = fails(&["--loss", "lots", "udp-echo"]);
    assert!(err.contains("invalid value 'lots' for '--loss <P>'"), "{err}");
}

#[test]
fn bad_durations_say_seconds() {
    for bad in ["-1", "0", "inf"] {
        let err = fails(&["--duration", bad, "udp-echo"]);
        assert!(err.contains("must be a positive number of seconds"), "{bad}: {err}");
    }
}

#[test]
fn subnet_broadcast_and_network_addresses_are_refused() {
    let err = fails(&["--ip", "10.77.0.255/24", "udp-echo"]);
    assert!(err.contains("address 10.77.0.255 is the broadcast address of subnet 10.77.0.0/24"), "{err}");
    let err = fails(&["--ip", "10.77.0.0/24", "udp-echo"]);
    assert!(err.contains("address 10.77.0.0 is the network address of subnet 10.77.0.0/24"), "{err}");
}

#[test]
fn loopback_is_not_a_tap_device_and_is_not_to_be_deleted() {
    // `lo` exists in every namespace; TUNSETIFF refuses it with EINVAL before any privilege check.
    let err = fails(&["--tap", "lo", "--probes", "0", "udp-echo"]);
    assert!(err.contains("\"lo\" exists and is not a TAP device") && err.contains("do not delete it"), "{err}");
    assert!(!err.contains("ip link del"), "{err}");
}

#[test]
fn probe_settings_are_bounded() {
    let err = fails(&["--probe-interval", "0", "udp-echo"]);
    assert!(err.contains("--probe-interval") && err.contains("1..=10000"), "{err}");
    let err = fails(&["--probe-interval", "18446744073709551615", "udp-echo"]);
    assert!(err.contains("--probe-interval") && err.contains("1..=10000"), "{err}");
    let err = fails(&["--probes", "-1", "udp-echo"]);
    assert!(err.contains("--probes"), "{err}");
}

#[test]
fn negative_counts_and_ports_say_what_is_wrong() {
    for args in [
        &["--seed", "-1", "udp-echo"][..],
        &["--max-connections", "-3", "echo"],
        &["--send-buffer", "-5", "echo"],
        &["echo", "--port", "-7"],
        &["send", "--connect", "10.77.0.1:5001", "--bytes", "-1"],
    ] {
        let err = fails(args);
        assert!(err.contains("invalid value '-"), "{args:?}: {err}");
        assert!(!err.contains("unexpected argument"), "{args:?}: {err}");
    }
}

#[test]
fn port_zero_names_no_port() {
    for args in [
        &["echo", "--port", "0"][..],
        &["recv", "--port", "0"],
        &["udp-echo", "--port", "0"],
        &["send", "--connect", "10.77.0.1:0", "--bytes", "1"],
    ] {
        let err = fails(args);
        assert!(err.contains("invalid value") && err.contains("0 names no port"), "{args:?}: {err}");
    }
}

#[test]
fn serve_names_a_mistyped_switch_and_refuses_to_serve_nothing() {
    let err = fails(&["serve", "--no-ecoh"]);
    assert!(err.contains("unexpected argument '--no-ecoh'") && err.contains("--no-echo"), "{err}");
    let err = fails(&["serve", "--only", "echo"]);
    assert!(err.contains("unexpected argument '--only'"), "{err}");
    let all_off = ["serve", "--no-echo", "--no-discard", "--no-daytime", "--no-chargen", "--no-http"];
    let err = fails(&all_off);
    assert!(err.contains("every service is switched off"), "{err}");
    let err = fails(&["serve", "--no-udp", "--no-tcp"]);
    assert!(err.contains("cannot be used with"), "{err}");
    let err = fails(&["serve", "--chargen-bytes", "0"]);
    assert!(err.contains("--chargen-bytes") && err.contains("0 is not in 1..=1000000000000"), "{err}");
    let err = fails(&["daytime"]);
    assert!(err.contains("unrecognized subcommand 'daytime'"), "{err}");
}
