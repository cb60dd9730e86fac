//! `synack-sim ladder`: its arguments, and the pager for a long ladder on a terminal.

use super::text::Window;
use super::{build, load_inputs, ConnFilter};
use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct LadderArgs {
    /// One or two pcapng captures (the first is the left column; give both hosts' files to see the arrows
    /// slant by the link delay), or one scenario .toml to run (its first two hosts).
    #[arg(required = true, num_args = 1..=2)]
    pub inputs: Vec<PathBuf>,
    /// Which connection: a port (`5001`) or both endpoints (`10.0.0.1:49152-10.0.0.2:5001`). Default: the first.
    #[arg(long)]
    pub conn: Option<ConnFilter>,
    /// Rows from this time on (seconds, `1.5`, or a duration, `1500ms`).
    #[arg(long, value_parser = parse_time)]
    pub from: Option<u64>,
    /// Rows up to this time.
    #[arg(long, value_parser = parse_time)]
    pub until: Option<u64>,
    /// At most this many frames (a last line says where the rest begins).
    #[arg(long)]
    pub max_rows: Option<usize>,
    /// Also draw the ladder as SVG into this file (the same frames: --from, --until and --max-rows apply).
    #[arg(long)]
    pub svg: Option<PathBuf>,
    /// Seed of the scenario run (with a .toml only).
    #[arg(long)]
    pub seed: Option<u64>,
}

/// `1.5` (seconds) or `1500ms`, as nanoseconds.
fn parse_time(s: &str) -> Result<u64, String> {
    match s.trim().parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs >= 0.0 => Ok((secs * 1e9).round() as u64),
        Ok(_) => Err(format!("{s:?}: a time must be zero or more seconds")),
        Err(_) => crate::units::parse_duration(s).map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)),
    }
}

/// What the command produced.
#[derive(Debug)]
pub struct LadderOutput {
    /// The terminal ladder.
    pub text: String,
    /// `wrote FILE (N frames)` when an SVG was asked for.
    pub svg_written: Option<String>,
    /// Worth a pager: stdout is a terminal and the ladder is longer than it.
    pub page: bool,
}

/// Reads the inputs, builds the ladder, writes the SVG if asked.
pub fn ladder(args: &LadderArgs) -> Result<LadderOutput, String> {
    if let (Some(f), Some(u)) = (args.from, args.until) {
        if f > u {
            return Err(format!("--from {} is after --until {}", super::seconds(f), super::seconds(u)));
        }
    }
    let captures = load_inputs(&args.inputs, args.seed)?;
    let ladder = build(&captures, args.conn.as_ref())?;
    let window = Window { from: args.from, until: args.until, max_rows: args.max_rows };
    let text = super::text::render(&ladder, &window);
    let svg_written = match &args.svg {
        Some(path) => {
            std::fs::write(path, super::svg::render(&window.cut(&ladder)))
                .map_err(|e| format!("{}: {e}", path.display()))?;
            Some(format!("wrote {} ({} frames)", path.display(), window.cut(&ladder).arrows.len()))
        }
        None => None,
    };
    let rows = terminal_rows();
    let page = std::io::stdout().is_terminal() && text.lines().count() > rows;
    Ok(LadderOutput { text, svg_written, page })
}

/// The terminal's height from `LINES`, else 40.
fn terminal_rows() -> usize {
    std::env::var("LINES").ok().and_then(|l| l.parse().ok()).unwrap_or(40)
}

/// Shows `text` through `$PAGER` (default `less -FRX`); false if no pager could be started.
pub fn page(text: &str) -> bool {
    let pager = std::env::var("PAGER").ok().filter(|p| !p.trim().is_empty()).unwrap_or_else(|| "less -FRX".into());
    let mut words = pager.split_whitespace();
    let Some(program) = words.next() else { return false };
    let Ok(mut child) = std::process::Command::new(program).args(words).stdin(std::process::Stdio::piped()).spawn()
    else {
        return false;
    };
    if let Some(mut stdin) = child.stdin.take() {
        // The reader may quit early (q in less): a broken pipe is not an error.
        let _ = stdin.write_all(text.as_bytes());
    }
    child.wait().is_ok()
}
