//! The ladder for a terminal: one row per frame, at most 100 columns, Unicode box drawing.
//!
//! ```text
//!      time        state │client 10.0.0.1:49152                   10.0.0.2:5001 server│ state             time
//!  0.010000     SYN-SENT │───────────────── SYN seq=0 ───────────────────────────────▶│ SYN-RECEIVED  0.015000
//! ```
//!
//! Each column has its own clock: the left time is when the frame left or reached the left host, the right
//! time when it reached or left the right one, so the two times of a row are the arrow's slant. A state name
//! appears on the side whose state the row's frame changed. A frame the link dropped ends in `✗` half-way.

use super::{seconds, Arrow, Ladder, Side};

/// Width of the arrow between the two lanes.
const ARROW: usize = 52;
/// Widths of the time and state columns on each side.
const TIME: usize = 9;
const STATE: usize = 12;

/// Which rows to print: a time window and a row limit (the note at the end says how to see the rest).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Window {
    /// First time shown, ns (rows starting earlier are skipped).
    pub from: Option<u64>,
    /// Last time shown, ns.
    pub until: Option<u64>,
    /// At most this many rows.
    pub max_rows: Option<usize>,
}

impl Window {
    /// Whether a row starting at `t` (ns) is inside the time window.
    pub fn contains(&self, t: u64) -> bool {
        self.from.is_none_or(|f| t >= f) && self.until.is_none_or(|u| t <= u)
    }

    /// The ladder with only the rows this window shows (for the SVG, which has no room for notes).
    pub fn cut(&self, ladder: &Ladder) -> Ladder {
        let mut cut = ladder.clone();
        cut.arrows.retain(|a| self.contains(a.start()));
        cut.arrows.truncate(self.max_rows.unwrap_or(usize::MAX));
        if cut.arrows.len() < ladder.arrows.len() {
            let (first, last) = (cut.arrows.first().map(Arrow::start), cut.arrows.last().map(Arrow::start));
            let span = first.zip(last).map(|(f, l)| format!(" ({} to {})", seconds(f), seconds(l))).unwrap_or_default();
            cut.notes.push(format!("{} of {} frames shown{span}", cut.arrows.len(), ladder.arrows.len()));
        }
        cut
    }
}

/// The rows of `ladder` inside `window`, with the heading and a closing line.
pub fn render(ladder: &Ladder, window: &Window) -> String {
    let mut out = String::new();
    out.push_str(&format!("ladder: {}\n", ladder.title));
    for n in &ladder.notes {
        out.push_str(&format!("  ({n})\n"));
    }
    let (l, r) = (&ladder.left, &ladder.right);
    let left_head = fit(&format!("{} {}", l.name, l.addr), ARROW / 2 - 1);
    let right_head = fit(&format!("{} {}", r.addr, r.name), ARROW / 2 - 1);
    let gap = ARROW.saturating_sub(left_head.chars().count() + right_head.chars().count()).max(1);
    push_line(
        &mut out,
        &format!(
            "{:>TIME$} {:>STATE$} │{}{}{}│ {:<STATE$} {:>TIME$}",
            "time",
            "state",
            left_head,
            " ".repeat(gap),
            right_head,
            "state",
            "time"
        ),
    );
    let inside = |a: &&Arrow| window.contains(a.start());
    let rows: Vec<&Arrow> = ladder.arrows.iter().filter(inside).collect();
    let shown = window.max_rows.map_or(rows.len(), |m| m.min(rows.len()));
    let skipped_before = ladder.arrows.iter().filter(|a| window.from.is_some_and(|f| a.start() < f)).count();
    if skipped_before > 0 {
        push_line(&mut out, &format!("{:>TIME$} {:>STATE$} ┆ … {skipped_before} earlier rows", "", ""));
    }
    for a in &rows[..shown] {
        push_line(&mut out, &row(a));
    }
    if shown < rows.len() {
        let next = rows[shown].start();
        push_line(
            &mut out,
            &format!(
                "{:>TIME$} {:>STATE$} ┆ … {} more rows: --from {} --max-rows N to go on",
                "",
                "",
                rows.len() - shown,
                seconds(next)
            ),
        );
    }
    let after = ladder.arrows.iter().filter(|a| window.until.is_some_and(|u| a.start() > u)).count();
    if after > 0 {
        push_line(&mut out, &format!("{:>TIME$} {:>STATE$} ┆ … {after} later rows", "", ""));
    }
    let dropped = ladder.arrows.iter().filter(|a| a.dropped).count();
    out.push_str(&format!(
        "{} frames ({} from {}, {} from {}), {} dropped by the link\n",
        ladder.arrows.len(),
        ladder.arrows.iter().filter(|a| a.from == Side::Left).count(),
        l.name,
        ladder.arrows.iter().filter(|a| a.from == Side::Right).count(),
        r.name,
        dropped
    ));
    out
}

fn push_line(out: &mut String, line: &str) {
    out.push_str(line.trim_end());
    out.push('\n');
}

/// `(dup)`, `(late)`, `(corrupt)`: what the link did to a frame that still arrived.
pub(crate) fn link_tag(a: &Arrow) -> &'static str {
    match a.link_note.as_deref() {
        Some(n) if n.contains("corrupt") => " (corrupt)",
        Some(n) if n.contains("duplicat") => " (dup)",
        Some(n) if n.contains("delayed") => " (late)",
        Some(n) if n.contains("CE marked") => " (CE)",
        _ => "",
    }
}

/// One row: times, states, and the arrow with its label.
fn row(a: &Arrow) -> String {
    let (left_time, right_time) = match a.from {
        Side::Left => (a.sent, a.arrived),
        Side::Right => (a.arrived, a.sent),
    };
    let (left_state, right_state) = match a.from {
        Side::Left => (&a.sender_state, &a.receiver_state),
        Side::Right => (&a.receiver_state, &a.sender_state),
    };
    let t = |v: Option<u64>| v.map(seconds).unwrap_or_default();
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    format!(
        "{:>TIME$} {:>STATE$} │{}│ {:<STATE$} {:>TIME$}",
        t(left_time),
        s(left_state),
        arrow(a),
        s(right_state),
        t(right_time)
    )
}

/// The arrow, `ARROW` characters wide.
fn arrow(a: &Arrow) -> String {
    let label = format!("{}{}", a.label, link_tag(a));
    // A dropped frame's line stops two thirds of the way.
    let body = if a.dropped { ARROW * 2 / 3 } else { ARROW - 1 };
    let room = body.saturating_sub(6);
    let label = fit(&label, room);
    let n = label.chars().count() + 2;
    let before = (body - n) / 2;
    let line = format!("{} {label} {}", "─".repeat(before), "─".repeat(body - n - before));
    let pad = " ".repeat(ARROW - body - 1);
    match (a.from, a.dropped) {
        (Side::Left, false) => format!("{line}▶"),
        (Side::Right, false) => format!("◀{line}"),
        (Side::Left, true) => format!("{line}✗{pad}"),
        (Side::Right, true) => format!("{pad}✗{line}"),
    }
}

/// `text` cut to `max` characters, ending in `…` when cut.
pub(crate) fn fit(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
    s.push('…');
    s
}
