//! The ladder for a terminal: at most 100 columns, Unicode box drawing, time going down.
//!
//! ```text
//!      time        state │client 10.0.0.1:58627              10.0.0.2:7 server│ state             time
//!  0.010000     SYN-SENT ├─ SYN seq=0 · SYN (connect) ─╮                      │
//!                        │                             ╰──────────╮           │
//!                        │                                        ╰──────────▶│               0.015000
//!                        │                   ╭─ SYN-ACK (SYN for a listener) ─┤ SYN-RECEIVED  0.015000
//!                        │          ╭────────╯                                │
//!  0.020000  ESTABLISHED │◀─────────╯                                         │
//! ```
//!
//! Every send and every arrival is a row of its own, in time order; a frame is a line that leaves the sender's
//! lane on the row of its send and steps down across the rows in between to the receiver's lane on the row of
//! its arrival, so it slants by the link delay. A gap in time adds a few empty rows (a gap of one link delay one
//! row), and a long idle gap becomes one row that says how long it was, so a 10 µs burst and a 1 s timeout both
//! stay readable. A row's time and state are those of the lane where its event happened: the state a side
//! entered by that send or that arrival. The frame's label is written on its first step, beside the sender; a
//! frame the link dropped ends in `✗` two thirds of the way across. With one capture only the far end's times
//! are unknown, and each frame is a flat arrow on one row.

use super::{seconds, Arrow, Ladder, Side};

/// Width of the field between the two lanes.
const FIELD: usize = 52;
/// Widths of the time and state columns on each side.
const TIME: usize = 9;
const STATE: usize = 12;
/// At most this many empty rows stand for a gap in time (a gap of one link delay is one).
const MAX_GAP_ROWS: u64 = 3;
/// A gap longer than this many link delays is idle time, drawn as one row that says how long it was.
const IDLE_DELAYS: u64 = 4;

/// Which frames to draw: a time window and a limit on their number (a last line says how to see the rest).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Window {
    /// First time shown, ns (frames sent earlier are skipped).
    pub from: Option<u64>,
    /// Last time shown, ns.
    pub until: Option<u64>,
    /// At most this many frames.
    pub max_rows: Option<usize>,
}

impl Window {
    /// Whether a frame starting at `t` (ns) is inside the time window.
    pub fn contains(&self, t: u64) -> bool {
        self.from.is_none_or(|f| t >= f) && self.until.is_none_or(|u| t <= u)
    }

    /// The ladder with only the frames this window shows (for the SVG, which has no room for notes).
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

/// The frames of `ladder` inside `window`, with the heading and a closing line.
pub fn render(ladder: &Ladder, window: &Window) -> String {
    let mut out = String::new();
    out.push_str(&format!("ladder: {}\n", ladder.title));
    for n in &ladder.notes {
        out.push_str(&format!("  ({n})\n"));
    }
    let (l, r) = (&ladder.left, &ladder.right);
    let left_head = fit(&format!("{} {}", l.name, l.addr), FIELD / 2 - 1);
    let right_head = fit(&format!("{} {}", r.addr, r.name), FIELD / 2 - 1);
    let gap = FIELD.saturating_sub(left_head.chars().count() + right_head.chars().count()).max(1);
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
    let inside: Vec<&Arrow> = ladder.arrows.iter().filter(|a| window.contains(a.start())).collect();
    let shown = window.max_rows.map_or(inside.len(), |m| m.min(inside.len()));
    let skipped_before = ladder.arrows.iter().filter(|a| window.from.is_some_and(|f| a.start() < f)).count();
    if skipped_before > 0 {
        push_line(&mut out, &format!("{:>TIME$} {:>STATE$} ┆ … {skipped_before} earlier frames", "", ""));
    }
    for row in Grid::draw(&inside[..shown]).rows {
        push_line(&mut out, &row.to_string());
    }
    if shown < inside.len() {
        let next = inside[shown].start();
        push_line(
            &mut out,
            &format!(
                "{:>TIME$} {:>STATE$} ┆ … {} more frames: --from {} --max-rows N to go on",
                "",
                "",
                inside.len() - shown,
                seconds(next)
            ),
        );
    }
    let after = ladder.arrows.iter().filter(|a| window.until.is_some_and(|u| a.start() > u)).count();
    if after > 0 {
        push_line(&mut out, &format!("{:>TIME$} {:>STATE$} ┆ … {after} later frames", "", ""));
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

fn lane(side: Side) -> usize {
    usize::from(side == Side::Right)
}

/// One printed row: each lane's time and state, the lanes, the field between them.
#[derive(Clone, Debug)]
struct Row {
    times: [Option<u64>; 2],
    states: [Option<String>; 2],
    lanes: [char; 2],
    /// The lines drawn across the field.
    lines: Vec<char>,
    /// Text over the lines (labels, the length of an idle gap): it wins where both are.
    text: Vec<Option<char>>,
}

impl Row {
    fn new(lane: char) -> Row {
        Row {
            times: [None, None],
            states: [None, None],
            lanes: [lane; 2],
            lines: vec![' '; FIELD],
            text: vec![None; FIELD],
        }
    }

    /// Draws line character `c` at `col`. Where lines meet, the character joins their directions (a corner
    /// over a horizontal line is `┬` or `┴`, two lines crossing `┼`); an arrowhead or a cross stays what it is.
    fn put(&mut self, col: usize, c: char) {
        let cell = &mut self.lines[col];
        *cell = match (ends(*cell), ends(c)) {
            (Some(a), Some(b)) => box_char(a | b).unwrap_or(c),
            _ if matches!(*cell, '▶' | '◀' | '✗') => *cell,
            _ => c,
        };
    }

    fn write(&mut self, col: usize, text: &str) {
        for (i, c) in text.chars().enumerate() {
            if let Some(cell) = self.text.get_mut(col + i) {
                *cell = Some(c);
            }
        }
    }
}

impl std::fmt::Display for Row {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let t = |v: Option<u64>| v.map(seconds).unwrap_or_default();
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        let field: String = self.lines.iter().zip(&self.text).map(|(l, t)| t.unwrap_or(*l)).collect();
        write!(
            f,
            "{:>TIME$} {:>STATE$} {}{field}{} {:<STATE$} {:>TIME$}",
            t(self.times[0]),
            s(&self.states[0]),
            self.lanes[0],
            self.lanes[1],
            s(&self.states[1]),
            t(self.times[1])
        )
    }
}

/// Box-drawing characters as the directions their lines go: up, down, left, right.
const BOX: [(char, u8); 11] = [
    ('│', 0b1100),
    ('─', 0b0011),
    ('╮', 0b0110),
    ('╭', 0b0101),
    ('╰', 0b1001),
    ('╯', 0b1010),
    ('┬', 0b0111),
    ('┴', 0b1011),
    ('├', 0b1101),
    ('┤', 0b1110),
    ('┼', 0b1111),
];

fn ends(c: char) -> Option<u8> {
    BOX.iter().find(|(b, _)| *b == c).map(|(_, e)| *e)
}

fn box_char(ends: u8) -> Option<char> {
    BOX.iter().find(|(_, e)| *e == ends).map(|(b, _)| *b)
}

/// One end of a frame's line: its send (or its only known time) or its arrival (or where it was lost).
#[derive(Clone, Copy, Debug)]
struct Event {
    time: u64,
    arrow: usize,
    arrival: bool,
}

/// The rows of a ladder: one for every send and arrival, and the empty ones that stand for time passing.
struct Grid {
    rows: Vec<Row>,
}

impl Grid {
    fn draw(arrows: &[&Arrow]) -> Grid {
        // The link delay: the shortest trip of a frame seen at both ends (a gap of that long is one empty row).
        let delay = arrows.iter().filter_map(|a| a.arrived?.checked_sub(a.sent?)).filter(|&d| d > 0).min();
        let delay = delay.unwrap_or(1_000_000);
        let slanted = |a: &Arrow| a.sent.is_some() && (a.arrived.is_some() || a.dropped);
        let mut events: Vec<Event> = Vec::new();
        for (i, a) in arrows.iter().enumerate() {
            events.push(Event { time: a.start(), arrow: i, arrival: false });
            if slanted(a) {
                // A lost frame's line ends half a delay after it was sent.
                let end = a.arrived.unwrap_or(a.start() + (delay / 2).max(1));
                events.push(Event { time: end, arrow: i, arrival: true });
            }
        }
        // At equal times arrivals come first (what arrives is what a host answers), except the arrival of a
        // frame sent at that same time, which must stay below its send.
        let rank = |e: &Event| match e.arrival {
            true if arrows[e.arrow].start() == e.time => 2,
            true => 0,
            false => 1,
        };
        events.sort_by_key(|e| (e.time, rank(e), e.arrow));
        let mut rows: Vec<Row> = Vec::new();
        let mut at: Vec<[usize; 2]> = vec![[0, 0]; arrows.len()];
        let mut last: Option<u64> = None;
        for e in &events {
            if let Some(prev) = last {
                let gap = e.time - prev;
                if gap > IDLE_DELAYS * delay {
                    rows.push(Row::new('│'));
                    let mut idle = Row::new('┆');
                    let text = format!(" {} later ", duration(gap));
                    idle.write((FIELD - text.chars().count()) / 2, &text);
                    rows.push(idle);
                    rows.push(Row::new('│'));
                } else {
                    let empty = ((2 * gap + delay / 2) / delay).saturating_sub(1).min(MAX_GAP_ROWS);
                    rows.extend((0..empty).map(|_| Row::new('│')));
                }
            }
            last = Some(e.time);
            let a = arrows[e.arrow];
            let mut row = Row::new('│');
            let (from, to) = (lane(a.from), lane(a.from.other()));
            if e.arrival {
                if !a.dropped {
                    row.times[to] = a.arrived;
                    row.states[to] = a.receiver_state.clone();
                }
            } else {
                row.times[from] = a.sent;
                row.states[from] = a.sender_state.clone();
                if !slanted(a) {
                    row.times[to] = a.arrived;
                    row.states[to] = a.receiver_state.clone();
                }
            }
            at[e.arrow][usize::from(e.arrival)] = rows.len();
            rows.push(row);
        }
        let mut grid = Grid { rows };
        for (i, a) in arrows.iter().enumerate() {
            let [start, end] = at[i];
            grid.line(a, start, if slanted(a) { end } else { start });
        }
        grid
    }

    /// Draws frame `a` from row `start` to row `end`: its label on the first step beside the sender, then a
    /// step down on every row to the arrowhead (or the cross).
    fn line(&mut self, a: &Arrow, start: usize, end: usize) {
        // Columns counted from the sender's lane; `col` turns them into the field's.
        let col = |c: usize| if a.from == Side::Left { c } else { FIELD - 1 - c };
        let glyph = |c: char| match (a.from, c) {
            (Side::Right, '╮') => '╭',
            (Side::Right, '╰') => '╯',
            (Side::Right, '▶') => '◀',
            (_, c) => c,
        };
        let last = if a.dropped { FIELD * 2 / 3 } else { FIELD - 1 };
        let head = if a.dropped { '✗' } else { '▶' };
        let label = format!("{}{}", a.label, link_tag(a));
        let steps = end - start;
        self.rows[start].lanes[lane(a.from)] = if a.from == Side::Left { '├' } else { '┤' };
        if steps == 0 {
            // A flat arrow, the label in its middle.
            let label = fit(&label, last.saturating_sub(5));
            let n = label.chars().count() + 2;
            let row = &mut self.rows[start];
            for c in 0..last {
                row.put(col(c), '─');
            }
            row.put(col(last), glyph(head));
            let before = (last - n) / 2;
            self.write_label(start, col, before, &format!(" {label} "));
            return;
        }
        // The first step holds the label, `── label ──╮`, when that leaves each later step two columns (lines in
        // flight together stay apart); otherwise the step is short and the label follows it, `─╮ label`, over
        // whatever lines it covers.
        let label_len = label.chars().count();
        let natural = last / (steps + 1);
        let inline = label_len + 4 <= last.saturating_sub(2 * steps).max(natural);
        // Beside, the first step gets shorter if that lets the whole label show.
        let first =
            if inline { (label_len + 4).max(natural) } else { natural.min(FIELD.saturating_sub(label_len + 3)) };
        let first = first.clamp(1, last - 1);
        let corner = |i: usize| first + (last - first) * (i - 1) / steps;
        let row = &mut self.rows[start];
        for c in 0..first {
            row.put(col(c), '─');
        }
        row.put(col(first), glyph('╮'));
        if inline {
            self.write_label(start, col, 1, &format!(" {label} "));
        } else {
            let label = fit(&label, FIELD - first - 3);
            self.write_label(start, col, first + 1, &format!(" {label} "));
        }
        for i in 1..=steps {
            let (from, to) = (corner(i), if i == steps { last } else { corner(i + 1) });
            let row = &mut self.rows[start + i];
            if from == to && i < steps {
                row.put(col(from), '│');
                continue;
            }
            row.put(col(from), glyph('╰'));
            for c in from + 1..to {
                row.put(col(c), '─');
            }
            row.put(col(to), glyph(if i == steps { head } else { '╮' }));
        }
    }

    /// Writes `text` on row `row` from column `from` (counted from the sender's lane) onwards, reading left to
    /// right whichever way the frame goes.
    fn write_label(&mut self, row: usize, col: impl Fn(usize) -> usize, from: usize, text: &str) {
        let n = text.chars().count();
        let left = col(from).min(col(from + n - 1));
        self.rows[row].write(left, text);
    }
}

/// `195 ms`, `1.4 s`: how long an idle gap was.
fn duration(ns: u64) -> String {
    if ns >= 1_000_000_000 {
        let tenths = (ns + 50_000_000) / 100_000_000;
        format!("{}.{} s", tenths / 10, tenths % 10)
    } else if ns >= 1_000_000 {
        format!("{} ms", (ns + 500_000) / 1_000_000)
    } else {
        format!("{} µs", (ns + 500) / 1_000)
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
