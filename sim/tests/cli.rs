//! The `synack-sim` binary: run, sweep, shrink and plot end to end.

mod common;

use std::process::Command;

fn sim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_synack-sim"))
}

#[test]
fn run_without_a_file_uses_the_default_scenario_and_writes_captures() {
    let dir = common::temp_dir("cli-run");
    let out = sim().args(["run", "--out"]).arg(&dir).output().expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("PASS") && stdout.contains("goodput") && stdout.contains("sha256"), "{stdout}");
    assert!(dir.join("default-client.pcapng").exists() && dir.join("default-server.pcapng").exists());
    let plot = sim().arg("plot").arg(dir.join("default-client.pcapng")).output().expect("plots");
    assert!(plot.status.success(), "{}", String::from_utf8_lossy(&plot.stderr));
    assert!(dir.join("default-client.svg").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sweep_prints_failing_seeds_with_replay_commands_and_shrink_writes_a_scenario() {
    let dir = common::temp_dir("cli-sweep");
    let path = dir.join("fragile.toml");
    let text = common::two_hosts(
        "loss = 0.03",
        "[[app]]\nname = \"echo\"\nhost = \"b\"\nkind = \"udp_echo\"\n[[app]]\nname = \"c\"\nhost = \"a\"\nkind = \"udp_pingpong\"\ndst = \"b\"\ncount = 20\ninterval = \"5ms\"\n[[expect]]\napp = \"c\"\n",
    );
    std::fs::write(&path, text).expect("write");
    let out = sim().arg("sweep").arg(&path).args(["--seeds", "0..20", "--jobs", "2"]).output().expect("sweeps");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let replay = stdout.lines().find(|l| l.contains("replay: synack-sim run")).expect("a replay line");
    let seed: u64 = replay.rsplit(' ').next().and_then(|s| s.parse().ok()).expect("seed at the end");
    // The replay command reproduces the failure.
    let again = sim().arg("run").arg(&path).args(["--seed", &seed.to_string()]).output().expect("runs");
    assert_eq!(again.status.code(), Some(1));
    // Shrink it.
    let shrunk = dir.join("min.toml");
    let out = sim()
        .arg("shrink")
        .arg(&path)
        .args(["--seed", &seed.to_string(), "--out"])
        .arg(&shrunk)
        .output()
        .expect("shrinks");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let min = std::fs::read_to_string(&shrunk).expect("written");
    assert!(min.contains("[[fault]]") && !min.contains("loss"), "{min}");
    let replay = sim().arg("run").arg(&shrunk).output().expect("runs");
    assert_eq!(replay.status.code(), Some(1), "the shrunk scenario still fails");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("gave up"), "a full search is 1-minimal");
    // A budget too small to finish (seed 1 of a lossier link loses several frames): the list written still
    // fails, and the output says it may not be minimal.
    let lossy = dir.join("lossy.toml");
    std::fs::write(&lossy, std::fs::read_to_string(&path).expect("read").replace("loss = 0.03", "loss = 0.2"))
        .expect("write");
    let cut = dir.join("cut.toml");
    let args = ["--seed", "1", "--max-runs", "3", "--out"];
    let out = sim().arg("shrink").arg(&lossy).args(args).arg(&cut).output().expect("shrinks");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && stdout.contains("gave up after 3 runs"), "{stdout}");
    assert!(std::fs::read_to_string(&cut).expect("written").contains("may not be minimal"));
    assert_eq!(sim().arg("run").arg(&cut).output().expect("runs").status.code(), Some(1));
    let zero = sim().arg("shrink").arg(&path).args(["--seed", "1", "--max-runs", "0"]).output().expect("runs");
    assert_eq!(zero.status.code(), Some(2), "{}", String::from_utf8_lossy(&zero.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A sweep compares streams with cheap fingerprints but reports a failing seed as `run` does, with SHA-256.
#[test]
fn sweep_reports_a_hash_mismatch_with_the_sha256_digests_of_run() {
    let dir = common::temp_dir("cli-sweep-hash");
    let path = dir.join("crossed.toml");
    let apps = "[[app]]\nname = \"sink\"\nhost = \"b\"\nkind = \"tcp_sink\"\nport = 5001\n[[app]]\nname = \"sink2\"\nhost = \"b\"\nkind = \"tcp_sink\"\nport = 5002\n[[app]]\nname = \"bulk\"\nhost = \"a\"\nkind = \"tcp_bulk\"\ndst = \"b\"\nport = 5001\nbytes = 30000\n[[app]]\nname = \"other\"\nhost = \"a\"\nkind = \"tcp_bulk\"\ndst = \"b\"\nport = 5002\nbytes = 30000\n[[expect]]\napp = \"sink\"\nhash_equals = \"other\"\n";
    std::fs::write(&path, common::two_hosts("", apps)).expect("write");
    let out = sim().arg("sweep").arg(&path).args(["--seeds", "3..5", "--jobs", "2"]).output().expect("sweeps");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let line = stdout.lines().find(|l| l.starts_with("seed 3:")).expect("seed 3 fails");
    let run = sim().arg("run").arg(&path).args(["--seed", "3"]).output().expect("runs");
    let summary = String::from_utf8_lossy(&run.stdout);
    let failed = summary.lines().find(|l| l.contains("[FAILED]")).expect("the run fails too");
    assert!(line.contains("sink: SHA-256 equals other's (got ["), "{line}");
    // The same digests as the summary's check line: `[FAILED] what — detail`.
    let detail = failed.split(" — ").nth(1).expect("a detail");
    assert!(line.ends_with(&format!("(got {detail})")), "{line}\n{failed}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_scenario_is_reported_with_file_and_line() {
    let dir = common::temp_dir("cli-bad");
    let path = dir.join("bad.toml");
    std::fs::write(&path, "[[host]]\nname = \"a\"\nip = \"nope\"\n").expect("write");
    let out = sim().arg("run").arg(&path).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml:3:") && err.contains("host[0].ip"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_closed_stdout_ends_the_run_quietly() {
    // `synack-sim run | head -0`: the reader is gone before the first line is written.
    let mut child = sim()
        .arg("run")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "status {:?}, stderr: {stderr}", out.status);
    assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{stderr}");
}

#[test]
fn decode_prints_one_line_per_frame_with_direction() {
    let dir = common::temp_dir("cli-decode");
    let path = dir.join("p.toml");
    let text = common::two_hosts(
        "",
        "[[app]]\nname = \"ping\"\nhost = \"a\"\nkind = \"ping\"\ndst = \"b\"\ncount = 1\n[[expect]]\napp = \"ping\"\n",
    );
    std::fs::write(&path, text).expect("write");
    let out = sim().arg("run").arg(&path).arg("--out").arg(&dir).output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let out = sim().arg("decode").arg(dir.join("test-a.pcapng")).output().expect("decodes");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "# synack-sim scenario=test seed=1 host=a");
    assert_eq!(lines[1], " 0.000000000 > ARP who-has 10.0.0.2 tell 10.0.0.1");
    assert!(lines[2].contains(" < ARP 10.0.0.2 is-at 02:00:00:00:00:02"), "{stdout}");
    assert!(lines[3].contains(" > 10.0.0.1 > 10.0.0.2 ICMP echo-request"), "{stdout}");
    assert!(lines[4].contains(" < 10.0.0.2 > 10.0.0.1 ICMP echo-reply"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs the binary, expecting exit status 2 and no stdout: the error came before any work.
fn fails_at_once(args: &[&std::ffi::OsStr]) -> String {
    let out = sim().args(args).output().expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "stdout: {stdout}\nstderr: {stderr}");
    assert!(stdout.is_empty(), "nothing should run before the error: {stdout}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

#[test]
fn run_out_dev_null_fails_before_running() {
    let err = fails_at_once(&["run".as_ref(), "--out".as_ref(), "/dev/null".as_ref()]);
    assert!(err.contains("cannot create directory /dev/null:"), "{err}");
}

#[test]
fn run_out_below_a_file_fails_before_running() {
    let dir = common::temp_dir("cli-out-file");
    let file = dir.join("plain");
    std::fs::write(&file, "").expect("write");
    let out = file.join("traces");
    let err = fails_at_once(&["run".as_ref(), "--out".as_ref(), out.as_os_str()]);
    assert!(err.contains(&format!("cannot create directory {}:", out.display())), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn shrink_and_plot_check_their_output_before_working() {
    let dir = common::temp_dir("cli-out-shrink");
    let scenario = dir.join("s.toml");
    std::fs::write(&scenario, common::two_hosts("loss = 0.5", "")).expect("write");
    let out = std::path::Path::new("/dev/null/min.toml");
    let err = fails_at_once(&[
        "shrink".as_ref(),
        scenario.as_os_str(),
        "--seed".as_ref(),
        "1".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    assert!(err.contains("cannot create directory /dev/null:"), "{err}");
    let err = fails_at_once(&["plot".as_ref(), scenario.as_os_str(), "--out".as_ref(), "/dev/null/x.svg".as_ref()]);
    assert!(err.contains("cannot create directory /dev/null:"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sweep_rejects_an_empty_seed_range_and_zero_jobs() {
    let scenario = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/default.toml");
    for seeds in ["5..1", "5..5", "5..=4"] {
        let err = fails_at_once(&["sweep".as_ref(), scenario.as_os_str(), "--seeds".as_ref(), seeds.as_ref()]);
        assert!(err.contains("is empty"), "{seeds}: {err}");
    }
    let out = sim().arg("sweep").arg(&scenario).args(["--seeds", "0..2", "--jobs", "0"]).output().expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--jobs") && err.contains("at least one worker thread"), "{err}");
}

#[test]
fn sweep_without_a_terminal_prints_no_progress() {
    let scenario = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/default.toml");
    let out = sim().arg("sweep").arg(&scenario).args(["--seeds", "0..3", "--jobs", "1"]).output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "0 of 3 seeds failed\n");
}

#[test]
fn ctrl_c_stops_a_sweep_with_a_partial_summary() {
    let scenario = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/default.toml");
    let child = sim()
        .arg("sweep")
        .arg(&scenario)
        .args(["--seeds", "0..100000000", "--jobs", "1"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    std::thread::sleep(std::time::Duration::from_millis(500));
    let kill = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill");
    assert!(kill.success());
    let out = child.wait_with_output().expect("ends");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(130), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let first = stdout.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("interrupted: ") && first.ends_with("seeds run failed (100000000 asked for)"),
        "{stdout}"
    );
}

#[test]
fn the_summary_states_each_app_in_one_vocabulary() {
    let out = sim().arg("run").output().expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let apps: Vec<&str> = stdout
        .lines()
        .skip_while(|l| *l != "apps:")
        .take_while(|l| !l.is_empty())
        .filter(|l| l.contains(" on "))
        .collect();
    assert!(!apps.is_empty(), "{stdout}");
    for line in &apps {
        let status = line.split("): ").nth(1).expect("a status").split(", ").next().expect("a word");
        let known = status.starts_with("done at ") || status == "running (server)" || status == "incomplete";
        assert!(known, "{line}");
    }
    assert!(stdout.contains("echo (udp_echo on server): running (server), "), "{stdout}");
    assert!(stdout.contains("bulk (tcp_bulk on client): done at "), "{stdout}");
    assert!(!stdout.contains("INCOMPLETE") && !stdout.contains("not done"), "{stdout}");
}

#[test]
fn every_argument_of_every_subcommand_has_help() {
    use clap::CommandFactory;
    let cli = synack_sim::cli::Cli::command();
    let mut missing = Vec::new();
    for sub in cli.get_subcommands() {
        assert!(sub.get_about().is_some(), "{} has no description", sub.get_name());
        for arg in sub.get_arguments() {
            if ["help", "version"].contains(&arg.get_id().as_str()) {
                continue;
            }
            if arg.get_help().is_none() && arg.get_long_help().is_none() {
                missing.push(format!("{} {}", sub.get_name(), arg.get_id()));
            }
        }
        // And the binary shows each one.
        let out = sim().args([sub.get_name(), "--help"]).output().expect("runs");
        assert!(out.status.success());
        let help = String::from_utf8_lossy(&out.stdout);
        for arg in sub.get_arguments().filter(|a| a.get_id() != "help") {
            let shown = match arg.get_long() {
                Some(l) => vec![format!("--{l}")],
                None => {
                    let name = arg.get_id().as_str().to_uppercase();
                    vec![format!("<{name}>"), format!("[{name}]")]
                }
            };
            let line = help.lines().find(|l| shown.iter().any(|s| l.trim_start().starts_with(s.as_str())));
            let shown = &shown[0];
            let line = line.unwrap_or_else(|| panic!("{} --help does not show {shown}:\n{help}", sub.get_name()));
            assert!(
                line.trim().len() > shown.len() + 12,
                "{} --help: {shown} has no description: {line:?}",
                sub.get_name()
            );
        }
    }
    assert!(missing.is_empty(), "arguments without help: {missing:?}");
}

#[test]
fn run_out_into_a_read_only_directory_fails_before_running() {
    use std::os::unix::fs::PermissionsExt;
    let dir = common::temp_dir("cli-out-ro");
    let ro = dir.join("ro");
    std::fs::create_dir(&ro).expect("mkdir");
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).expect("chmod");
    if std::fs::write(ro.join("x"), "").is_ok() {
        // Root writes anyway: nothing to see here (the /dev/null and below-a-file cases still run).
        eprintln!("skipped: permission bits do not stop this user");
    } else {
        let err = fails_at_once(&["run".as_ref(), "--out".as_ref(), ro.as_os_str()]);
        assert!(err.contains(&format!("cannot write into directory {}:", ro.display())), "{err}");
    }
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).expect("chmod back");
    let _ = std::fs::remove_dir_all(&dir);
}
