//! Live-test helpers: a network namespace per test (deleted on drop, even after a panic), the `synack-tap`
//! binary running inside it, the Linux side of its TAP device, and the skip-or-fail policy.
//!
//! Safety rules kept here: every address lives inside a namespace this file created; the root namespace is only
//! used to create and delete namespaces; every wait has a timeout; every child is killed by its own pid.
#![allow(dead_code)]

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The Linux side of the TAP device.
pub const LINUX_IP: &str = "10.77.0.1";
/// The synack side.
pub const SYNACK_IP: &str = "10.77.0.2";
pub const TAP: &str = "tap0";

/// True when live tests must run (CI=true): missing privileges or tools are then failures, not skips.
pub fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Checks root, /dev/net/tun, `ip` and `tools`; returns false (after a loud message) if the test must skip.
/// Under CI=true a missing requirement fails the test instead.
pub fn live(test: &str, tools: &[&str]) -> bool {
    let mut missing = Vec::new();
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        missing.push("root (live tests create network namespaces and TAP devices)".to_string());
    }
    if !Path::new("/dev/net/tun").exists() {
        missing.push("/dev/net/tun (modprobe tun)".to_string());
    }
    for tool in std::iter::once(&"ip").chain(tools) {
        if !have(tool) {
            missing.push(format!("the `{tool}` command (apt-get install {})", package_of(tool)));
        }
    }
    if missing.is_empty() {
        return true;
    }
    let msg = format!("LIVE TEST {test} needs {}", missing.join(", "));
    if ci() {
        panic!("{msg}; CI=true, so this is a failure, not a skip");
    }
    loud(&format!("SKIPPED: {msg} (run as root with the tools installed, or with CI=true to fail instead)"));
    false
}

/// Writes straight to the process's stderr: the test harness captures `eprintln!`, and a skip must be seen.
pub fn loud(msg: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "\n!!!!! {msg}\n");
}

fn package_of(tool: &str) -> &str {
    match tool {
        "nc" => "netcat-openbsd",
        "ping" => "iputils-ping",
        "ip" | "nstat" | "ss" => "iproute2",
        "ab" => "apache2-utils",
        "dnsmasq" => "dnsmasq-base",
        other => other,
    }
}

pub fn have(tool: &str) -> bool {
    Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().is_ok_and(|o| o.status.success())
}

/// Runs a command to completion, failing the test with its output if it fails.
pub fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed: {}{}", text(&out.stdout), text(&out.stderr));
    out
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A network namespace of our own; dropping it kills what runs inside and deletes it.
#[derive(Debug)]
pub struct Netns {
    pub name: String,
}

static SERIAL: AtomicU32 = AtomicU32::new(0);

/// Deletes the namespaces a test process that no longer runs left behind (`synack-<tag>-<pid>-<n>` whose pid is
/// gone): one killed outright (a timeout's SIGKILL) never reached its `Drop`. Anything still running inside one
/// is killed first, as `Drop` would. A namespace of a live process, this one's or a test binary's running beside
/// it, is left alone. Once per test process.
fn delete_orphaned_namespaces() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let Ok(out) = Command::new("ip").args(["netns", "list"]).output() else { return };
        for name in text(&out.stdout).lines().filter_map(|l| l.split_whitespace().next()) {
            let mut parts = name.rsplitn(3, '-');
            let (Some(serial), Some(pid), Some(prefix)) = (parts.next(), parts.next(), parts.next()) else { continue };
            let orphaned = prefix.starts_with("synack-")
                && serial.parse::<u32>().is_ok()
                && pid.parse::<u32>().is_ok_and(|pid| !Path::new(&format!("/proc/{pid}")).exists());
            if orphaned {
                drop(Netns { name: name.to_string() });
            }
        }
    });
}

impl Netns {
    /// Creates `synack-<tag>-<pid>-<n>` with its loopback up (after deleting those of test processes gone).
    pub fn new(tag: &str) -> Netns {
        delete_orphaned_namespaces();
        let name = format!("synack-{tag}-{}-{}", std::process::id(), SERIAL.fetch_add(1, Ordering::Relaxed));
        run(Command::new("ip").args(["netns", "add", &name]));
        let ns = Netns { name };
        run(Command::new("ip").args(["-n", &ns.name, "link", "set", "lo", "up"]));
        ns
    }

    /// A command run inside the namespace (`ip netns exec NAME program ...`).
    pub fn cmd(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name]).arg(program);
        c
    }

    /// `ip -n NAME args...`, which must succeed.
    pub fn ip(&self, args: &[&str]) {
        run(Command::new("ip").args(["-n", &self.name]).args(args));
    }

    /// A namespace holding a persistent TAP device, already addressed and up on the Linux side: synack-tap then
    /// attaches to it, and the link is ready the moment synack-tap is.
    pub fn with_tap(tag: &str) -> Netns {
        let ns = Netns::new(tag);
        ns.ip(&["tuntap", "add", "dev", TAP, "mode", "tap"]);
        // Room for bursts from Linux (100 connections' first flights) while synack reads: the default 1000
        // frames overflow and the drops then hinge on synack's loss recovery.
        ns.ip(&["link", "set", TAP, "txqueuelen", "10000"]);
        ns.linux_side_up();
        ns
    }

    /// Gives the TAP device its Linux address and brings it up.
    pub fn linux_side_up(&self) {
        self.ip(&["addr", "add", &format!("{LINUX_IP}/24"), "dev", TAP]);
        // No IPv6 chatter (router solicitations, MLD) on the test link.
        let _ = self.cmd("sysctl").args(["-qw", &format!("net.ipv6.conf.{TAP}.disable_ipv6=1")]).output();
        self.ip(&["link", "set", TAP, "up"]);
    }

    /// Waits (at most 5 s) until Linux sees the TAP link operational: after synack-tap attaches, the kernel turns
    /// the carrier on but activates the device's queueing only in its link-watch work, up to a second later;
    /// frames sent before that are silently dropped.
    pub fn wait_link_up(&self) {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let out = run(Command::new("ip").args(["-n", &self.name, "-o", "link", "show", TAP]));
            let line = text(&out.stdout);
            if line.contains("LOWER_UP") && (line.contains("state UP") || line.contains("state UNKNOWN")) {
                return;
            }
            assert!(Instant::now() < deadline, "{TAP} never came up: {line}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Runs `f` on a thread that has entered this namespace: sockets it opens are the namespace's Linux sockets.
    pub fn within<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> std::thread::JoinHandle<T> {
        let path = PathBuf::from("/var/run/netns").join(&self.name);
        std::thread::spawn(move || {
            enter(&path);
            f()
        })
    }
}

/// Moves the calling thread into the network namespace at `path`.
pub fn enter(path: &Path) {
    let f = File::open(path).unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    // SAFETY: a valid, open namespace descriptor; setns only changes the calling thread's network namespace.
    let rc = unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) };
    assert_eq!(rc, 0, "setns {}: {}", path.display(), std::io::Error::last_os_error());
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Anything still running inside was started by this test: end it by pid, then delete the namespace.
        if let Ok(out) = Command::new("ip").args(["netns", "pids", &self.name]).output() {
            for pid in text(&out.stdout).split_whitespace().filter_map(|p| p.parse::<i32>().ok()) {
                // SAFETY: kill takes no pointers; the pid belongs to a process inside our own namespace.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
        let _ = Command::new("ip").args(["netns", "del", &self.name]).stderr(Stdio::null()).status();
    }
}

/// Path of the synack-tap binary cargo built for these tests.
pub fn synack_tap_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_synack-tap"))
}

/// True if the TAP device was brought up administratively (a [`Netns::with_tap`] namespace).
fn link_is_up(ns: &Netns) -> bool {
    let out = Command::new("ip").args(["-n", &ns.name, "-o", "link", "show", TAP]).output();
    out.is_ok_and(|o| text(&o.stdout).contains(",UP"))
}

/// A running `synack-tap` inside a namespace, with its stdout lines on a channel.
#[derive(Debug)]
pub struct Synack {
    child: Child,
    lines: mpsc::Receiver<String>,
    pub seen: Vec<String>,
    stderr: PathBuf,
}

impl Synack {
    /// Starts `synack-tap --tap tap0 --ip 10.77.0.2/24 ARGS` in `ns` (made by [`Netns::with_tap`]) and waits for
    /// its `ready:` line.
    pub fn start(ns: &Netns, args: &[&str]) -> Synack {
        Synack::start_bin(ns, &synack_tap_bin(), args)
    }

    pub fn start_bin(ns: &Netns, bin: &Path, args: &[&str]) -> Synack {
        let mut s = Synack::spawn(ns, bin, args);
        s.expect_line("ready:", Duration::from_secs(10));
        if link_is_up(ns) {
            ns.wait_link_up();
        }
        s
    }

    /// Starts in a namespace without a TAP device: synack-tap creates it, then the Linux side is brought up.
    pub fn start_creating(ns: &Netns, args: &[&str]) -> Synack {
        let s = Synack::start(ns, args);
        ns.linux_side_up();
        ns.wait_link_up();
        s
    }

    /// Starts without waiting for anything.
    pub fn spawn(ns: &Netns, bin: &Path, args: &[&str]) -> Synack {
        let stderr = std::env::temp_dir().join(format!("{}.stderr", ns.name));
        let mut child = ns
            .cmd(bin)
            .args(["--tap", TAP, "--ip", &format!("{SYNACK_IP}/24")])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(File::create(&stderr).expect("stderr file"))
            .spawn()
            .expect("cannot start synack-tap");
        let out = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Synack { child, lines, seen: Vec::new(), stderr }
    }

    /// Waits for a stdout line starting with `prefix`.
    pub fn expect_line(&mut self, prefix: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.starts_with(prefix) {
                        return line;
                    }
                }
                Err(_) => panic!("no line {prefix:?} within {timeout:?}; stdout so far {:?}; {}", self.seen, {
                    self.stderr_text()
                }),
            }
        }
    }

    pub fn stderr_text(&self) -> String {
        format!("stderr: {}", std::fs::read_to_string(&self.stderr).unwrap_or_default())
    }

    /// Sends SIGINT, waits (bounded) for a clean exit, and returns every stdout line.
    pub fn stop(mut self) -> Vec<String> {
        // SAFETY: kill takes no pointers; the pid is our own child (ip netns exec execs synack-tap in place).
        unsafe { libc::kill(self.child.id() as i32, libc::SIGINT) };
        let status = self.wait(Duration::from_secs(10));
        assert!(status.is_some_and(|s| s.success()), "synack-tap exit {status:?}; {}", self.stderr_text());
        self.collect()
    }

    /// The process id of synack-tap (`ip netns exec` execs it in place).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits up to `timeout` for the process to exit by itself.
    pub fn wait(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Every stdout line (after the process ended).
    pub fn collect(&mut self) -> Vec<String> {
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(2)) {
            self.seen.push(line);
        }
        self.seen.clone()
    }
}

impl Drop for Synack {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let _ = std::fs::remove_file(&self.stderr);
    }
}

/// sha256 of a file, as lowercase hex (via `sha256sum`, part of coreutils).
pub fn sha256_file(path: &Path) -> String {
    let out = run(Command::new("sha256sum").arg(path));
    text(&out.stdout).split_whitespace().next().unwrap_or_default().to_string()
}

/// A temporary file path, removed on drop (also when the test panics).
#[derive(Debug)]
pub struct TempPath(pub PathBuf);

impl TempPath {
    pub fn new(name: &str) -> TempPath {
        TempPath(std::env::temp_dir().join(name))
    }
}

impl std::ops::Deref for TempPath {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Writes `len` random bytes to a fresh temporary file.
pub fn random_file(tag: &str, len: usize) -> TempPath {
    let path = TempPath::new(&format!("synack-{tag}-{}.bin", std::process::id()));
    run(Command::new("head").args(["-c", &len.to_string(), "/dev/urandom"]).stdout(File::create(&*path).unwrap()));
    path
}

/// The value after `key` in a line like `received 100 bytes sha256 abcd...`.
pub fn field<'a>(line: &'a str, key: &str) -> &'a str {
    let mut words = line.split_whitespace();
    while let Some(w) = words.next() {
        if w == key {
            return words.next().unwrap_or_default();
        }
    }
    panic!("no {key:?} in {line:?}")
}

/// A temporary directory, removed with everything in it on drop (also when the test panics).
#[derive(Debug)]
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let path = std::env::temp_dir().join(name);
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        TempDir(path)
    }
}

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
