//! The ladder as an SVG picture (plain SVG text, no external renderer): two vertical lanes, time going down,
//! each frame a slanted arrow from its send time on one lane to its arrival time on the other, labelled along
//! the arrow; dropped frames end in a red cross half-way; state names beside the lanes where they change; each
//! lane's event times in the outer margins.
//!
//! Time runs down in event order rather than to scale: every send and every arrival gets its own step, and a
//! gap in time adds a little space (logarithmic), so a 10 µs burst and a 3 s timeout both stay readable.

use super::text::{fit, link_tag};
use super::{seconds, Ladder, Side};
use std::fmt::Write as _;

const WIDTH: f64 = 900.0;
const LEFT_LANE: f64 = 270.0;
const RIGHT_LANE: f64 = 630.0;
const TOP: f64 = 100.0;
/// Vertical step between two events.
const STEP: f64 = 20.0;

/// One end of an arrow on a lane.
#[derive(Clone, Copy, Debug)]
struct End {
    time: u64,
    arrow: usize,
    /// 0: the send, 1: the arrival.
    which: u8,
}

/// Where a label sits: its centre, its angle, its length; for keeping labels off each other.
#[derive(Clone, Copy, Debug)]
struct Label {
    x: f64,
    y: f64,
    angle: f64,
    /// Half the text's length, px (monospace at 11 px: about 6.6 px a character).
    half: f64,
    /// Baseline offset from the arrow, px: above it (-4) or, where that is taken, below it (13).
    dy: f64,
}

impl Label {
    fn new(x: f64, y: f64, angle: f64, chars: f64, dy: f64) -> Label {
        Label { x, y, angle, half: chars * 3.3, dy }
    }

    /// Points along the text's middle line.
    fn points(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        let (dx, dy) = (self.angle.cos(), self.angle.sin());
        // The text is 11 px tall: its middle line is 4 px above its baseline.
        let up = 4.0 - self.dy;
        let (cx, cy) = (self.x + up * dy, self.y - up * dx);
        // One point every 6 px or so (a character's width).
        let n = (self.half / 3.0).ceil().max(1.0) as u32;
        (0..=n).map(move |k| {
            let t = self.half * (2.0 * f64::from(k) / f64::from(n) - 1.0);
            (cx + t * dx, cy + t * dy)
        })
    }

    /// Whether the two texts would overlap (some of their points closer than a line of text).
    fn collides(&self, other: &Label) -> bool {
        self.points().any(|(x, y)| other.points().any(|(u, v)| (x - u).abs() < 7.0 && (y - v).abs() < 11.0))
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn lane(side: Side) -> f64 {
    match side {
        Side::Left => LEFT_LANE,
        Side::Right => RIGHT_LANE,
    }
}

/// The whole ladder as an SVG document.
pub fn render(ladder: &Ladder) -> String {
    // Every known end, in time order; an arrow known at one end only is drawn flat at that end.
    let mut ends: Vec<End> = Vec::new();
    for (i, a) in ladder.arrows.iter().enumerate() {
        if let Some(t) = a.sent {
            ends.push(End { time: t, arrow: i, which: 0 });
        }
        if let Some(t) = a.arrived {
            ends.push(End { time: t, arrow: i, which: 1 });
        }
    }
    // At equal times arrivals come first (what arrives is what a host answers), except the arrival of an
    // arrow sent at that same time, which must stay below its start.
    let rank = |e: &End| match e.which {
        1 if ladder.arrows[e.arrow].sent == Some(e.time) => 2,
        1 => 0,
        _ => 1,
    };
    ends.sort_by_key(|e| (e.time, rank(e), e.arrow));
    let mut ys: Vec<[Option<f64>; 2]> = vec![[None, None]; ladder.arrows.len()];
    let mut y = TOP;
    let mut last: Option<u64> = None;
    for e in &ends {
        if let Some(prev) = last {
            y += STEP;
            let gap_ms = (e.time - prev) as f64 / 1e6;
            if gap_ms > 0.0 {
                y += (6.0 * (1.0 + gap_ms).ln()).min(40.0);
            }
        }
        last = Some(e.time);
        ys[e.arrow][usize::from(e.which)] = Some(y);
    }
    let height = y + 70.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height:.0}" viewBox="0 0 {WIDTH} {height:.0}" font-family="DejaVu Sans Mono, monospace" font-size="11">"#
    );
    s.push_str(
        r##"<defs><marker id="head" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#333"/></marker></defs>
<rect width="100%" height="100%" fill="white"/>
"##,
    );
    let _ = writeln!(
        s,
        r#"<text x="{}" y="22" font-size="14" text-anchor="middle" font-weight="bold">{}</text>"#,
        WIDTH / 2.0,
        escape(&ladder.title)
    );
    for (i, n) in ladder.notes.iter().enumerate() {
        let _ = writeln!(
            s,
            r##"<text x="{}" y="{}" text-anchor="middle" fill="#666">{}</text>"##,
            WIDTH / 2.0,
            38 + 13 * i,
            escape(&fit(n, 120))
        );
    }
    for (col, x) in [(&ladder.left, LEFT_LANE), (&ladder.right, RIGHT_LANE)] {
        let _ = writeln!(
            s,
            r#"<text x="{x}" y="{}" text-anchor="middle" font-size="13" font-weight="bold">{}</text>"#,
            TOP - 30.0,
            escape(&col.name)
        );
        let _ = writeln!(s, r#"<text x="{x}" y="{}" text-anchor="middle">{}</text>"#, TOP - 16.0, escape(&col.addr));
        let _ = writeln!(
            s,
            r##"<line x1="{x}" y1="{}" x2="{x}" y2="{:.1}" stroke="#333" stroke-width="2"/>"##,
            TOP - 10.0,
            height - 40.0
        );
    }
    let _ = writeln!(s, r##"<text x="10" y="{}" fill="#666">time (s)</text>"##, TOP - 16.0);
    let _ =
        writeln!(s, r##"<text x="{}" y="{}" fill="#666" text-anchor="end">time (s)</text>"##, WIDTH - 10.0, TOP - 16.0);
    let mut labels: Vec<String> = Vec::new();
    let mut placed: Vec<Label> = Vec::new();
    for (i, a) in ladder.arrows.iter().enumerate() {
        let (x1, x2) = (lane(a.from), lane(a.from.other()));
        let (y1, y2) = match ys[i] {
            [Some(s), Some(r)] => (s, r),
            [Some(s), None] if a.dropped => (s, s + 2.0 * STEP),
            [Some(s), None] => (s, s),
            [None, Some(r)] => (r, r),
            [None, None] => continue,
        };
        // Times in the margins, states beside the lanes, at each known end.
        let ends =
            [(a.from, ys[i][0], a.sent, &a.sender_state), (a.from.other(), ys[i][1], a.arrived, &a.receiver_state)];
        for (side, y, t, state) in ends {
            let (Some(y), Some(t)) = (y, t) else { continue };
            let (tx, anchor, sx, sanchor) = match side {
                Side::Left => (10.0, "start", LEFT_LANE - 8.0, "end"),
                Side::Right => (WIDTH - 10.0, "end", RIGHT_LANE + 8.0, "start"),
            };
            let _ = writeln!(
                s,
                r##"<text x="{tx}" y="{:.1}" text-anchor="{anchor}" fill="#666">{}</text>"##,
                y + 4.0,
                seconds(t)
            );
            if let Some(state) = state {
                let _ = writeln!(
                    s,
                    r##"<text x="{sx}" y="{:.1}" text-anchor="{sanchor}" fill="#1f5fa8" font-weight="bold">{}</text>"##,
                    y + 4.0,
                    escape(state)
                );
            }
        }
        let colour = if a.dropped { "#c0392b" } else { "#333" };
        let full = format!("{}{}", a.label, link_tag(a));
        let label = escape(&fit(&full, 52));
        // A label cut to fit the arrow keeps its whole text as the tooltip (SVG viewers show it on hover).
        let tooltip = if label == escape(&full) { String::new() } else { format!("<title>{}</title>", escape(&full)) };
        if a.dropped {
            // The line stops 60% of the way, in a cross.
            let (cx, cy) = (x1 + 0.6 * (x2 - x1), y1 + 0.6 * (y2 - y1));
            let _ = writeln!(
                s,
                r#"<line x1="{x1}" y1="{y1:.1}" x2="{cx:.1}" y2="{cy:.1}" stroke="{colour}" stroke-width="1.3" stroke-dasharray="5,3"/>"#
            );
            let _ = writeln!(
                s,
                r#"<path class="drop" d="M{:.1},{:.1} l10,10 m0,-10 l-10,10" stroke="{colour}" stroke-width="2.5"/>"#,
                cx - 5.0,
                cy - 5.0
            );
        } else {
            let _ = writeln!(
                s,
                r#"<line x1="{x1}" y1="{y1:.1}" x2="{x2}" y2="{y2:.1}" stroke="{colour}" stroke-width="1.3" marker-end="url(#head)"/>"#
            );
        }
        // The label along the arrow, a third of the way from the sender (crossing arrows keep theirs apart),
        // or further along where that would cover a label already placed.
        let candidates: &[f64] = if a.dropped { &[0.3, 0.15, 0.45] } else { &[0.35, 0.2, 0.5, 0.65, 0.8] };
        let angle = (y2 - y1).atan2(x2 - x1);
        let angle = if angle.abs() > std::f64::consts::FRAC_PI_2 {
            angle - std::f64::consts::PI.copysign(angle)
        } else {
            angle
        };
        let chars = label.chars().count() as f64;
        let mut options: Vec<Label> = [-4.0, 13.0]
            .iter()
            .flat_map(|&dy| candidates.iter().map(move |&f| (f, dy)))
            .map(|(f, dy)| Label::new(x1 + f * (x2 - x1), y1 + f * (y2 - y1), angle, chars, dy))
            .collect();
        if a.dropped {
            // Level: under the cross, or just past it (the text may run over the other lane, on a white halo).
            let (cx, cy) = (x1 + 0.6 * (x2 - x1), y1 + 0.6 * (y2 - y1));
            let away = (x2 - x1).signum() * (12.0 + chars * 3.3);
            options.push(Label::new(cx, cy, 0.0, chars, 18.0));
            options.push(Label::new(cx + away, cy, 0.0, chars, 4.0));
        }
        let best = options
            .into_iter()
            .enumerate()
            .min_by_key(|(i, l)| (placed.iter().filter(|p| p.collides(l)).count(), *i))
            .map(|(_, l)| l);
        if let Some(l) = best {
            labels.push(format!(
                r#"<text x="{:.1}" y="{:.1}" dy="{}" text-anchor="middle" fill="{colour}" stroke="white" stroke-width="3" paint-order="stroke" transform="rotate({:.2} {:.1} {:.1})">{tooltip}{label}</text>"#,
                l.x,
                l.y,
                l.dy,
                l.angle.to_degrees(),
                l.x,
                l.y
            ));
            placed.push(l);
        }
    }
    // Labels over every line, so that no line runs through one.
    for l in labels {
        s.push_str(&l);
        s.push('\n');
    }
    let dropped = ladder.arrows.iter().filter(|a| a.dropped).count();
    let _ = writeln!(
        s,
        r##"<text x="{}" y="{:.1}" text-anchor="middle" fill="#666">{} frames, {} dropped by the link</text>"##,
        WIDTH / 2.0,
        height - 15.0,
        ladder.arrows.len(),
        dropped
    );
    s.push_str("</svg>\n");
    s
}
