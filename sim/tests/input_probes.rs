//! Input a user can write that the simulator took, misreported or crashed on (each test failed before its fix):
//! huge app sizes, refused IPv6 addresses, doubled links, colliding capture names, impossible expectations.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use synack_sim::{build, BuildOptions, Scenario, ScenarioError, Source};

fn sim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_synack-sim"))
}

fn error(text: &str) -> ScenarioError {
    let file = "bad.toml";
    let src = Source { file: file.into(), text: text.into() };
    match Scenario::parse(file, text) {
        Err(e) => e,
        Ok(sc) => match build(&sc, &src, &BuildOptions::default()) {
            Err(e) => e,
            Ok(_) => panic!("the scenario should be rejected"),
        },
    }
}

const HOSTS: &str = "name = \"x\"\n[[host]]\nname = \"a\"\nip = \"10.0.0.1/24\"\n[[host]]\nname = \"b\"\nip = \"10.0.0.2/24\"\n[[link]]\na = \"a\"\nb = \"b\"\n";

fn check(e: &ScenarioError, line: usize, field: &str) {
    let shown = e.to_string();
    assert_eq!((e.line, e.field.as_str()), (line, field), "{shown}");
    assert!(shown.starts_with(&format!("bad.toml:{line}:")), "{shown}");
}

/// `size = 100000000000` on a UDP or TCP app was taken, and the run aborted with "memory allocation of
/// 100000000000 bytes failed" (SIGABRT) when the app built its first datagram or request.
#[test]
fn an_app_size_no_datagram_can_carry_is_refused_at_load() {
    let udp = format!(
        "{HOSTS}[[app]]\nname = \"e\"\nhost = \"b\"\nkind = \"udp_echo\"\n[[app]]\nname = \"p\"\nhost = \"a\"\nkind = \"udp_pingpong\"\ndst = \"b\"\nsize = 100000000000\n"
    );
    check(&error(&udp), 20, "app[1].size");
    let ping = format!("{HOSTS}[[app]]\nname = \"p\"\nhost = \"a\"\nkind = \"ping\"\ndst = \"b\"\nsize = 100000\n");
    check(&error(&ping), 16, "app[0].size");
    let rr = format!(
        "{HOSTS}[[app]]\nname = \"e\"\nhost = \"b\"\nkind = \"tcp_echo\"\n[[app]]\nname = \"r\"\nhost = \"a\"\nkind = \"tcp_rr\"\ndst = \"b\"\nsize = 100000000000\n"
    );
    check(&error(&rr), 20, "app[1].size");
}

/// An IPv6 address the stack refuses was reported at `host[0].config`, a table the file does not have, on
/// the `[[host]]` line.
#[test]
fn a_refused_ipv6_address_points_at_its_ip6_entry() {
    let text = "[[host]]\nname = \"a\"\nip = \"10.0.0.1/24\"\nip6 = [\"2001:db8::1/64\", \"ff02::1/64\"]\n";
    let e = error(text);
    check(&e, 4, "host[0].ip6[1]");
    assert!(e.to_string().contains("ff02::1"), "{e}");
}

/// `ip6 = ["2001:db8::1/129"]` said "invalid IPv4 CIDR ...: expected a.b.c.d/len with len 0..=32".
#[test]
fn a_bad_ipv6_prefix_is_not_explained_as_ipv4() {
    let e = error("[[host]]\nname = \"a\"\nip = \"10.0.0.1/24\"\nip6 = [\"2001:db8::1/129\"]\n");
    check(&e, 4, "host[0].ip6[0]");
    assert!(!e.to_string().contains("IPv4"), "{e}");
}

/// Two links between the same two hosts were taken: every frame then went down both, so each ping arrived
/// twice and half the replies counted as `IcmpUnmatched`.
#[test]
fn a_second_link_between_the_same_hosts_is_refused() {
    let text = format!("{HOSTS}[[link]]\na = \"b\"\nb = \"a\"\n");
    check(&error(&text), 13, "link[1].b");
}

/// `hash_equals` naming the app itself compared a digest with itself (and a ping has none): the run
/// failed with "SHA-256 equals p's — [] vs []" instead of the file being refused.
#[test]
fn hash_equals_naming_its_own_app_is_refused() {
    let text = format!(
        "{HOSTS}[[app]]\nname = \"p\"\nhost = \"a\"\nkind = \"ping\"\ndst = \"b\"\n[[expect]]\napp = \"p\"\nhash_equals = \"p\"\n"
    );
    check(&error(&text), 18, "expect[0].hash_equals");
}

/// Host names `h 1` and `h_1` (or a host `sw-1` beside switch `sw`'s port 1) give the same capture file:
/// the second silently overwrote the first ("wrote .../x-h_1.pcapng" twice, one file left).
#[test]
fn captures_of_two_hosts_never_share_a_file() {
    let dir = common::temp_dir("input-probes-collide");
    let path = dir.join("x.toml");
    let text = "name = \"x\"\nduration = \"1s\"\n[[host]]\nname = \"h 1\"\nip = \"10.0.0.1/24\"\n[[host]]\nname = \"h_1\"\nip = \"10.0.0.2/24\"\n[[link]]\na = \"h 1\"\nb = \"h_1\"\n";
    std::fs::write(&path, text).expect("write");
    let out = sim().arg("run").arg(&path).arg("--out").arg(dir.join("out")).output().expect("runs");
    let files = std::fs::read_dir(dir.join("out")).map(|d| d.count()).unwrap_or(0);
    // Either refused at load (naming host[1].name) or two files: never one capture lost.
    assert!(
        (!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("host[1].name")) || files == 2,
        "status {:?}, {files} file(s): {}",
        out.status,
        String::from_utf8_lossy(&out.stdout)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A range ending at u64::MAX: the workers' `fetch_add` wrapped `next` to 0 and the sweep ran seeds 0, 1, 2...
/// for ever, printing "4376 of 2 seeds failed" when interrupted.
#[test]
fn a_sweep_at_the_top_of_the_seed_space_runs_only_its_seeds() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../traces/tcp_hello.toml");
    let mut child = sim()
        .arg("sweep")
        .arg(&path)
        .args(["--seeds", "18446744073709551613..18446744073709551615", "--jobs", "2"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("starts");
    let start = Instant::now();
    while child.try_wait().expect("waits").is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("a sweep of 2 seeds still running after 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && stdout.contains("0 of 2 seeds failed"), "{stdout}");
}

/// `ladder A.pcapng A.pcapng` (or two captures of unrelated runs) drew a ladder whose both columns are the
/// same host, the right one showing the left one's states.
#[test]
fn a_ladder_of_one_host_twice_is_refused() {
    let cap = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../traces/tcp_hello-client.pcapng");
    let out = sim().arg("ladder").arg(&cap).arg(&cap).output().expect("runs");
    assert!(!out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

/// A scripted corruption whose bit lies past the end of its frame flips nothing: it was counted as a corruption
/// and the capture said "corrupted by link".
#[test]
fn a_corrupt_fault_beyond_its_frame_is_not_counted() {
    let dir = common::temp_dir("input-probes-corrupt");
    let path = dir.join("c.toml");
    let text = "name = \"c\"\nduration = \"2s\"\n[[host]]\nname = \"a\"\nip = \"10.0.0.1/24\"\n[[host]]\nname = \"b\"\nip = \"10.0.0.2/24\"\n[[link]]\na = \"a\"\nb = \"b\"\n[[app]]\nname = \"p\"\nhost = \"a\"\nkind = \"ping\"\ndst = \"b\"\ncount = 2\n[[fault]]\ndir = \"a->b\"\nframe = 2\naction = \"corrupt\"\nbit = 99999999\n";
    std::fs::write(&path, text).expect("write");
    let out = sim().arg("run").arg(&path).arg("--out").arg(dir.join("out")).output().expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let a_to_b = stdout.lines().find(|l| l.trim_start().starts_with("a->b")).expect("a link line");
    assert!(a_to_b.contains("corrupted 0"), "{a_to_b}");
    let decoded = sim().arg("decode").arg(dir.join("out").join("c-a.pcapng")).output().expect("decodes");
    assert!(String::from_utf8_lossy(&decoded.stdout).contains("lies beyond this 98-byte frame"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// An expectation's `within` past the end of the run was taken (it could only ever mean "complete").
#[test]
fn a_within_past_the_end_of_the_run_is_refused() {
    let hosts = HOSTS.replacen("name = \"x\"\n", "name = \"x\"\nduration = \"5s\"\n", 1);
    let apps = "[[app]]\nname = \"p\"\nhost = \"a\"\nkind = \"ping\"\ndst = \"b\"\n[[expect]]\napp = \"p\"\nwithin = \"10s\"\n";
    check(&error(&format!("{hosts}{apps}")), 19, "expect[0].within");
}

/// A sender's goodput counted the bytes it handed its stack: a transfer the run cut short showed more than its
/// 10 Mbit/s link carries (10.27 Mbit/s; its sink 9.52). It counts what the peer acknowledged.
#[test]
fn a_senders_goodput_never_exceeds_its_link() {
    let dir = common::temp_dir("input-probes-goodput");
    let path = dir.join("g.toml");
    let text = "name = \"g\"\nduration = \"2s\"\n[[host]]\nname = \"a\"\nip = \"10.0.0.1/24\"\n[[host]]\nname = \"b\"\nip = \"10.0.0.2/24\"\n[[link]]\na = \"a\"\nb = \"b\"\ndelay = \"10ms\"\nrate = \"10Mbit\"\n[[app]]\nname = \"sink\"\nhost = \"b\"\nkind = \"tcp_sink\"\n[[app]]\nname = \"bulk\"\nhost = \"a\"\nkind = \"tcp_bulk\"\ndst = \"b\"\nbytes = 100000000\n";
    std::fs::write(&path, text).expect("write");
    let out = sim().arg("run").arg(&path).output().expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let rates: Vec<f64> = stdout
        .lines()
        .filter_map(|l| l.split("goodput ").nth(1))
        .filter_map(|r| r.split_whitespace().next().and_then(|v| v.parse().ok()))
        .collect();
    assert_eq!(rates.len(), 2, "{stdout}");
    assert!(rates.iter().all(|&r| r > 5.0 && r <= 10.0), "goodputs {rates:?} over a 10 Mbit/s link: {stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}
