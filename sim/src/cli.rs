//! The `synack-sim` command line: run, sweep, decode, plot, ladder, shrink.

use crate::build::{BuildOptions, Digests};
use crate::run::{run, write_captures};
use crate::scenario::{Scenario, Source};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};

#[derive(Debug, Parser)]
#[command(name = "synack-sim", version, about = "Deterministic network simulator for the synack TCP/IP stack")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Cmd,
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Run a scenario (the built-in default without a file) and print a summary.
    Run {
        /// Scenario TOML file.
        scenario: Option<PathBuf>,
        /// Override the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Write one pcapng per host into this directory.
        #[arg(long)]
        out: Option<PathBuf>,
        /// After the summary, draw the ladder diagram of the first TCP connection between the first two hosts
        /// (as `synack-sim ladder SCENARIO.toml`).
        #[arg(long)]
        ladder: bool,
        /// Also write every TCP connection's cwnd, ssthresh, RTT, RTO, bytes in flight, windows and delivery
        /// rate, a row per change, into DIR/SCENARIO-series.csv (needs --out DIR; draw it with `plot`), and
        /// every switch and router queue's backlog and sojourn times into DIR/SCENARIO-queues.csv.
        #[arg(long, requires = "out")]
        series: bool,
    },
    /// Run a scenario over a range of seeds in parallel; print each failing seed with its replay command.
    Sweep {
        /// Scenario TOML file.
        scenario: PathBuf,
        /// Seeds to run: `A..B` (B excluded) or `A..=B`; the range must not be empty.
        #[arg(long)]
        seeds: String,
        /// Worker threads, at least 1 (default: available cores).
        #[arg(long, value_parser = parse_jobs)]
        jobs: Option<usize>,
    },
    /// Print a capture one decoded line per frame (relative time, > sent / < received, comment).
    Decode {
        /// pcapng capture (from `run --out` or `synack-tap --pcap`).
        trace: PathBuf,
    },
    /// Draw the time-sequence graph of the busiest TCP flow of a capture (.pcapng), or one connection's cwnd and
    /// RTT over time from a time series (.csv from `run --series`, or a scenario .toml, run for it).
    Plot {
        /// pcapng capture (from `run --out` or `synack-tap --pcap`), series CSV, or scenario TOML.
        trace: PathBuf,
        /// SVG output (default: the input's name with .svg; for a .toml, ./SCENARIO-series.svg).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Series only: the connection with this port at either end (default: the one that delivered most).
        #[arg(long)]
        conn: Option<u16>,
        /// Scenario .toml only: run with this seed instead of the scenario's.
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Draw the message sequence (ladder) diagram of one connection: time going down, one arrow per frame.
    Ladder(crate::ladder::cli::LadderArgs),
    /// Reduce a failing seed to a minimal list of exact faults; write it as a scenario without randomness.
    Shrink {
        /// Scenario TOML file with random impairments.
        scenario: PathBuf,
        /// The failing seed to shrink (from `sweep`).
        #[arg(long)]
        seed: u64,
        /// Output scenario (default: `<scenario>-seed<N>-shrunk.toml` beside the input).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Give up after this many simulation runs (at least 1); the list written then still fails but may not
        /// be minimal, and the output says so.
        #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..))]
        max_runs: u64,
    },
}

/// Why a command stopped early.
#[derive(Debug)]
enum Failure {
    /// Reported on stderr, exit status 2.
    Msg(String),
    /// Whoever read our output went away (`synack-sim run | head`): stop quietly.
    StdoutClosed,
}

impl From<String> for Failure {
    fn from(s: String) -> Failure {
        Failure::Msg(s)
    }
}

/// Writes to stdout; a closed pipe becomes [`Failure::StdoutClosed`] instead of a panic.
fn write_stdout(args: std::fmt::Arguments<'_>) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    out.write_fmt(args).and_then(|()| out.flush()).map_err(|e| match e.kind() {
        std::io::ErrorKind::BrokenPipe => Failure::StdoutClosed,
        _ => Failure::Msg(format!("cannot write to stdout: {e}")),
    })
}

/// `println!` that returns a [`Failure`] instead of panicking when stdout is closed.
macro_rules! say {
    ($($arg:tt)*) => { write_stdout(format_args!("{}\n", format_args!($($arg)*)))? };
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match execute(cli.command) {
        Ok(code) => code,
        Err(Failure::StdoutClosed) => ExitCode::SUCCESS,
        Err(Failure::Msg(e)) => {
            eprintln!("synack-sim: {e}");
            ExitCode::from(2)
        }
    }
}

fn load(path: Option<&Path>) -> Result<(Scenario, Source), String> {
    match path {
        Some(p) => Scenario::load(p).map_err(|e| e.to_string()),
        None => Ok(Scenario::builtin()),
    }
}

/// `--jobs`: a positive number of threads.
fn parse_jobs(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("at least one worker thread is needed".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(format!("expected a number of threads: {e}")),
    }
}

/// Parses `A..B` or `A..=B`.
pub fn parse_seeds(s: &str) -> Result<std::ops::Range<u64>, String> {
    let err = || format!("bad seed range {s:?}: expected A..B or A..=B");
    let (a, b) = s.split_once("..").ok_or_else(err)?;
    let a: u64 = a.trim().parse().map_err(|_| err())?;
    let (b, inclusive) = match b.strip_prefix('=') {
        Some(b) => (b, true),
        None => (b, false),
    };
    let b: u64 = b.trim().parse().map_err(|_| err())?;
    let end = match inclusive {
        true => b.checked_add(1).ok_or_else(|| {
            format!(
                "bad seed range {s:?}: the last seed can be at most {} (write A..{} instead)",
                u64::MAX - 1,
                u64::MAX
            )
        })?,
        false => b,
    };
    if end <= a {
        let last = if inclusive { "last" } else { "end (excluded)" };
        return Err(format!("seed range {s:?} is empty: the {last} seed must be above the first"));
    }
    Ok(a..end)
}

/// Makes sure files can be written into `dir` (creating it if needed) before any long work starts, so a bad
/// `--out` fails at once instead of after the run.
pub fn ensure_writable_dir(dir: &Path) -> Result<(), String> {
    let shown = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    std::fs::create_dir_all(shown).map_err(|e| format!("cannot create directory {}: {e}", shown.display()))?;
    if !shown.is_dir() {
        return Err(format!("cannot create directory {}: it exists and is not a directory", shown.display()));
    }
    // Root may write where the permission bits say no, and a read-only mount refuses everyone: try it.
    let probe = shown.join(format!(".synack-sim-probe-{}", std::process::id()));
    std::fs::write(&probe, b"")
        .and_then(|()| std::fs::remove_file(&probe))
        .map_err(|e| format!("cannot write into directory {}: {e}", shown.display()))
}

/// [`ensure_writable_dir`] for the directory an output file goes into; also refuses an existing directory
/// as the file.
fn ensure_writable_file(file: &Path) -> Result<(), String> {
    if file.is_dir() {
        return Err(format!("cannot write {}: it is a directory", file.display()));
    }
    ensure_writable_dir(file.parent().unwrap_or(Path::new(".")))
}

fn execute(cmd: Cmd) -> Result<ExitCode, Failure> {
    match cmd {
        Cmd::Run { scenario, seed, out, ladder, series } => {
            let (sc, source) = load(scenario.as_deref())?;
            if let Some(dir) = &out {
                ensure_writable_dir(dir)?;
            }
            let opts = BuildOptions { seed, capture: out.is_some() || ladder, series, ..BuildOptions::default() };
            let wall = std::time::Instant::now();
            let output = run(&sc, &source, &opts).map_err(|e| e.to_string())?;
            let elapsed = wall.elapsed();
            write_stdout(format_args!("{}", output.result))?;
            say!("(simulated in {:.3}s wall-clock)", elapsed.as_secs_f64());
            if let Some(dir) = out {
                let paths =
                    write_captures(&dir, &sc.name, &output.captures).map_err(|e| format!("{}: {e}", dir.display()))?;
                for p in paths {
                    say!("wrote {}", p.display());
                }
                if let Some(csv) = &output.series {
                    let path = crate::run::series_path(&dir, &sc.name);
                    std::fs::write(&path, csv).map_err(|e| format!("--series: {}: {e}", path.display()))?;
                    say!("wrote {} ({} rows)", path.display(), csv.lines().count().saturating_sub(1));
                }
                if let Some(csv) = &output.queue_series {
                    let path = crate::run::queue_series_path(&dir, &sc.name);
                    std::fs::write(&path, csv).map_err(|e| format!("--series: {}: {e}", path.display()))?;
                    say!("wrote {} ({} rows)", path.display(), csv.lines().count().saturating_sub(1));
                }
            }
            if ladder {
                let hosts = output
                    .captures
                    .iter()
                    .take(2)
                    .map(|(host, bytes)| crate::ladder::HostCapture::from_bytes(bytes, &format!("host {host}")))
                    .collect::<Result<Vec<_>, String>>()?;
                let drawn = crate::ladder::build(&hosts, None)?;
                write_stdout(format_args!("\n{}", crate::ladder::text::render(&drawn, &Default::default())))?;
            }
            Ok(if output.result.passed() { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Cmd::Sweep { scenario, seeds, jobs } => sweep(&scenario, &seeds, jobs),
        Cmd::Decode { trace } => {
            let bytes = std::fs::read(&trace).map_err(|e| format!("{}: {e}", trace.display()))?;
            let file = crate::decode::read(&bytes).map_err(|e| format!("{}: {e}", trace.display()))?;
            if let Some(c) = &file.comment {
                say!("# {c}");
            }
            for line in file.lines() {
                say!("{line}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Plot { trace, out, conn, seed } => {
            let ext = trace.extension().and_then(|e| e.to_str()).unwrap_or("");
            if ext == "csv" || ext == "toml" {
                return plot_series(&trace, out, conn, seed);
            }
            if conn.is_some() {
                return Err(
                    format!("--conn applies to a time series (.csv or .toml), not to {}", trace.display()).into()
                );
            }
            if seed.is_some() {
                return Err(format!("--seed applies to a scenario .toml, not to {}", trace.display()).into());
            }
            let out = out.unwrap_or_else(|| trace.with_extension("svg"));
            ensure_writable_file(&out)?;
            let stats = crate::plot::plot(&trace, &out)?;
            say!(
                "wrote {}: {} data segments ({} retransmissions, {} dropped by the link), {} ACKs",
                out.display(),
                stats.data_segments,
                stats.retransmissions,
                stats.dropped,
                stats.acks
            );
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Ladder(args) => {
            if let Some(svg) = &args.svg {
                ensure_writable_file(svg)?;
            }
            let done = crate::ladder::cli::ladder(&args)?;
            if let Some(line) = done.svg_written {
                eprintln!("{line}");
            }
            if done.page && crate::ladder::cli::page(&done.text) {
                return Ok(ExitCode::SUCCESS);
            }
            write_stdout(format_args!("{}", done.text))?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Shrink { scenario, seed, out, max_runs } => {
            let (sc, source) = load(Some(&scenario))?;
            let out = out.unwrap_or_else(|| {
                let stem = scenario.file_stem().and_then(|s| s.to_str()).unwrap_or("scenario");
                scenario.with_file_name(format!("{stem}-seed{seed}-shrunk.toml"))
            });
            ensure_writable_file(&out)?;
            let bar = ProgressBar::new_spinner();
            let max_runs = usize::try_from(max_runs).unwrap_or(usize::MAX);
            let shrunk = crate::shrink::shrink(&sc, &source, seed, max_runs, |runs, len| {
                bar.set_message(format!("{runs} runs, {len} faults in the candidate"));
                bar.tick();
            })
            .map_err(|e| e.to_string())?;
            bar.finish_and_clear();
            let cut_short = (!shrunk.complete).then(|| {
                format!("gave up after {max_runs} runs (--max-runs): the list still fails but may not be minimal")
            });
            let header = format!(
                "# Shrunk by `synack-sim shrink {} --seed {seed}`: {} recorded impairment decisions reduced to {} in {} runs.\n{}# Still fails: {}\n",
                scenario.display(),
                shrunk.recorded.len(),
                shrunk.minimal.len(),
                shrunk.runs,
                cut_short.as_ref().map(|c| format!("# {c}\n")).unwrap_or_default(),
                shrunk.failure
            );
            std::fs::write(&out, header + &shrunk.scenario.to_toml()).map_err(|e| format!("{}: {e}", out.display()))?;
            say!(
                "{} recorded decisions -> {} faults ({} runs):",
                shrunk.recorded.len(),
                shrunk.minimal.len(),
                shrunk.runs
            );
            for f in &shrunk.minimal {
                say!("  {f}");
            }
            if let Some(c) = &cut_short {
                say!("{c}");
            }
            say!("still fails: {}", shrunk.failure);
            say!("wrote {}; replay: synack-sim run {}", out.display(), out.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `plot` of a time series: read from a CSV, or from a run of a scenario.
fn plot_series(input: &Path, out: Option<PathBuf>, conn: Option<u16>, seed: Option<u64>) -> Result<ExitCode, Failure> {
    let is_toml = input.extension().is_some_and(|e| e == "toml");
    if seed.is_some() && !is_toml {
        return Err(format!("--seed applies to a scenario .toml, not to {}", input.display()).into());
    }
    let (csv, out) = if is_toml {
        let (sc, source) = load(Some(input))?;
        let opts = BuildOptions { seed, series: true, ..BuildOptions::default() };
        let output = run(&sc, &source, &opts).map_err(|e| e.to_string())?;
        let out = out.unwrap_or_else(|| crate::run::series_path(Path::new("."), &sc.name).with_extension("svg"));
        (output.series.unwrap_or_default(), out)
    } else {
        let csv = std::fs::read_to_string(input).map_err(|e| format!("{}: {e}", input.display()))?;
        (csv, out.unwrap_or_else(|| input.with_extension("svg")))
    };
    ensure_writable_file(&out)?;
    if crate::series::queue_plot::is_queue_series(&csv) {
        if conn.is_some() {
            return Err(format!("--conn applies to a TCP series, not to the queue series {}", input.display()).into());
        }
        let origin = input.display().to_string();
        let drawn = crate::series::queue_plot::plot(&csv, &origin, None, &out)?;
        say!(
            "wrote {}: queue {} ({} rows; {} queues in the series), backlog up to {:.0} bytes, sojourn up to {:.1} ms",
            out.display(),
            drawn.queue,
            drawn.rows,
            drawn.queues,
            drawn.max_backlog_bytes,
            drawn.max_sojourn_ms
        );
        return Ok(ExitCode::SUCCESS);
    }
    let rows = crate::series::parse(&csv, &input.display().to_string())?;
    let drawn = crate::series::plot::plot(&rows, conn, &out).map_err(|e| format!("{}: {e}", input.display()))?;
    say!(
        "wrote {}: {} ({} rows; {} connections in the series), cwnd up to {:.0} bytes",
        out.display(),
        drawn.connection,
        drawn.rows,
        drawn.connections,
        drawn.max_cwnd
    );
    Ok(ExitCode::SUCCESS)
}

/// One seed of a sweep: `None` if it passes, else its first failure exactly as `run --seed` reports it.
///
/// Only the verdict is read, so streams are fingerprinted (XXH3-128) and only where an expectation compares
/// them; a failing seed is run again as `run` runs it (SHA-256), for the message.
fn sweep_seed(sc: &Scenario, source: &Source, seed: u64) -> Result<Option<String>, String> {
    let quick = BuildOptions { seed: Some(seed), digests: Digests::Fingerprints, ..BuildOptions::default() };
    if run(sc, source, &quick).map_err(|e| e.to_string())?.result.passed() {
        return Ok(None);
    }
    let full =
        run(sc, source, &BuildOptions { seed: Some(seed), ..BuildOptions::default() }).map_err(|e| e.to_string())?;
    // Equal streams have equal fingerprints, so the replay fails too (unless SHA-256 and XXH3-128 disagree on
    // an equality, which would be a collision: say so rather than hide the seed).
    Ok(Some(full.result.first_failure().unwrap_or_else(|| "failed with fingerprints, passed with SHA-256".into())))
}

fn sweep(path: &Path, seeds: &str, jobs: Option<usize>) -> Result<ExitCode, Failure> {
    let (sc, source) = load(Some(path))?;
    let range = parse_seeds(seeds)?;
    // Fail on a broken scenario before starting any thread.
    crate::build::build(&sc, &source, &BuildOptions::default()).map_err(|e| e.to_string())?;
    let jobs = jobs.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)).max(1);
    let total = range.end - range.start;
    // Progress only for a person watching: a CI log or a test reading stderr sees nothing of it.
    let target =
        if std::io::stderr().is_terminal() { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
    let bar = ProgressBar::with_draw_target(Some(total), target);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} seeds, {msg} [{elapsed_precise}, eta {eta}]")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message("0 failed");
    // Ctrl-C: no new seed starts; the seeds running finish and the summary covers the seeds done.
    let interrupted = Arc::new(AtomicBool::new(false));
    let _ = signal_hook::flag::register(signal_hook::consts::SIGINT, Arc::clone(&interrupted));
    let next = AtomicU64::new(range.start);
    let (tx, rx) = mpsc::channel::<(u64, Result<Option<String>, String>)>();
    let mut failures: Vec<(u64, String)> = Vec::new();
    let mut done = 0u64;
    std::thread::scope(|s| {
        for _ in 0..jobs {
            let tx = tx.clone();
            let (sc, source, next, end, stop) = (&sc, &source, &next, range.end, &interrupted);
            s.spawn(move || loop {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                // Never past `end`: a counter at u64::MAX would wrap to 0 and sweep seeds never asked for.
                let Ok(seed) = next.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| (n < end).then(|| n + 1))
                else {
                    break;
                };
                let r = sweep_seed(sc, source, seed);
                if tx.send((seed, r)).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        for (seed, r) in rx {
            done += 1;
            match r {
                Ok(None) => {}
                Ok(Some(why)) => failures.push((seed, why)),
                Err(e) => failures.push((seed, format!("error: {e}"))),
            }
            bar.set_message(format!("{} failed", failures.len()));
            bar.inc(1);
        }
    });
    bar.finish_and_clear();
    failures.sort();
    let stopped = interrupted.load(Ordering::Relaxed) && done < total;
    if stopped {
        say!("interrupted: {} of {done} seeds run failed ({total} asked for)", failures.len());
    } else {
        say!("{} of {total} seeds failed", failures.len());
    }
    for (seed, why) in &failures {
        say!("seed {seed}: {why}\n  replay: synack-sim run {} --seed {seed}", path.display());
    }
    if let Some((seed, _)) = failures.first() {
        say!("shrink the first: synack-sim shrink {} --seed {seed}", path.display());
    }
    Ok(if stopped {
        ExitCode::from(130)
    } else if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
