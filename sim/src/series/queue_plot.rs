//! `synack-sim plot` of a queue series (`<scenario>-queues.csv`): one switch or router queue's backlog (top)
//! and the sojourn time of each frame it sent (bottom) over virtual time, as SVG: what bufferbloat and an AQM
//! look like.

use super::queues::HEADER;
use plotters::prelude::*;
use std::path::Path;

/// One row of a queue series.
#[derive(Clone, Debug, PartialEq)]
struct QueueRow {
    time_s: f64,
    queue: String,
    backlog_bytes: f64,
    sojourn_ms: Option<f64>,
    dropped: u64,
}

/// Whether `csv` is a queue series (rather than a TCP one).
pub fn is_queue_series(csv: &str) -> bool {
    csv.lines().next().is_some_and(|h| h.trim_end() == HEADER)
}

/// What was drawn.
#[derive(Clone, Debug, PartialEq)]
pub struct QueuePlot {
    /// `node:port`.
    pub queue: String,
    pub rows: usize,
    /// Queues in the series.
    pub queues: usize,
    pub max_backlog_bytes: f64,
    pub max_sojourn_ms: f64,
}

fn parse(csv: &str, origin: &str) -> Result<Vec<QueueRow>, String> {
    let mut rows = Vec::new();
    for (i, line) in csv.lines().enumerate().skip(1).filter(|(_, l)| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split(',').collect();
        let at = |c: usize, name: &str| -> Result<&str, String> {
            cols.get(c).copied().ok_or_else(|| format!("{origin}: line {}: column {name} is missing", i + 1))
        };
        let num = |c: usize, name: &str| -> Result<f64, String> {
            at(c, name)?.parse::<f64>().map_err(|_| format!("{origin}: line {}: column {name}: not a number", i + 1))
        };
        let sojourn = at(5, "sojourn_ns")?;
        rows.push(QueueRow {
            time_s: num(0, "time_ns")? / 1e9,
            queue: format!("{}:{}", at(1, "node")?, at(2, "port")?),
            backlog_bytes: num(3, "backlog_bytes")?,
            sojourn_ms: if sojourn.is_empty() { None } else { Some(num(5, "sojourn_ns")? / 1e6) },
            dropped: num(7, "dropped")? as u64,
        });
    }
    Ok(rows)
}

/// Draws the busiest queue of the series in `csv` (the one with the largest backlog; `queue` = `node:port`
/// picks one) into `svg`.
pub fn plot(csv: &str, origin: &str, queue: Option<&str>, svg: &Path) -> Result<QueuePlot, String> {
    let rows = parse(csv, origin)?;
    let mut names: Vec<&str> = Vec::new();
    for r in &rows {
        if !names.contains(&r.queue.as_str()) {
            names.push(&r.queue);
        }
    }
    let largest = |q: &str| rows.iter().filter(|r| r.queue == q).map(|r| r.backlog_bytes).fold(0.0, f64::max);
    let chosen = match queue {
        Some(q) => names
            .iter()
            .find(|n| **n == q)
            .copied()
            .ok_or_else(|| format!("{origin}: no queue {q:?} in the series; it has {}", names.join(", ")))?,
        None => names
            .iter()
            .copied()
            .fold(None, |best: Option<&str>, n| match best {
                Some(b) if largest(b) >= largest(n) => Some(b),
                _ => Some(n),
            })
            .ok_or_else(|| format!("{origin}: the queue series has no rows"))?,
    };
    let q: Vec<&QueueRow> = rows.iter().filter(|r| r.queue == chosen).collect();
    let err = |e: &dyn std::fmt::Display| format!("{}: {e}", svg.display());
    let t_min = q.iter().map(|r| r.time_s).fold(f64::MAX, f64::min);
    let t_max = q.iter().map(|r| r.time_s).fold(0.0, f64::max).max(t_min + 1e-6);
    let max_backlog = q.iter().map(|r| r.backlog_bytes).fold(0.0, f64::max);
    let max_sojourn = q.iter().filter_map(|r| r.sojourn_ms).fold(0.0, f64::max);
    let dropped = q.last().map_or(0, |r| r.dropped);
    let root = SVGBackend::new(svg, (1280, 800)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let title = format!("queue {chosen}: {dropped} frames dropped");
    let root = root.titled(&title, ("sans-serif", 24)).map_err(|e| err(&e))?;
    let (top, bottom) = root.split_vertically(400);
    let x = t_min..t_max + (t_max - t_min) * 0.02;
    let blue = RGBColor(30, 70, 200);
    let mut chart = ChartBuilder::on(&top)
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(90)
        .build_cartesian_2d(x.clone(), 0.0..(max_backlog * 1.1).max(1.0))
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .y_desc("backlog (kB)")
        .y_label_formatter(&|y| format!("{:.0}", y / 1000.0))
        .x_label_formatter(&|x| format!("{x:.2}"))
        .label_style(("sans-serif", 15))
        .draw()
        .map_err(|e| err(&e))?;
    let mut steps: Vec<(f64, f64)> = Vec::new();
    for r in &q {
        if let Some(&(_, prev)) = steps.last() {
            steps.push((r.time_s, prev));
        }
        steps.push((r.time_s, r.backlog_bytes));
    }
    chart
        .draw_series(LineSeries::new(steps, blue.stroke_width(2)))
        .map_err(|e| err(&e))?
        .label("backlog")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], blue.stroke_width(2)));
    chart.configure_series_labels().border_style(BLACK).draw().map_err(|e| err(&e))?;
    let mut chart = ChartBuilder::on(&bottom)
        .margin(16)
        .x_label_area_size(50)
        .y_label_area_size(90)
        .build_cartesian_2d(x, 0.0..(max_sojourn * 1.1).max(1.0))
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_desc("virtual time (s)")
        .y_desc("sojourn (ms)")
        .x_label_formatter(&|x| format!("{x:.2}"))
        .label_style(("sans-serif", 15))
        .draw()
        .map_err(|e| err(&e))?;
    let points = q.iter().filter_map(|r| r.sojourn_ms.map(|s| Circle::new((r.time_s, s), 1, RED.filled())));
    chart
        .draw_series(points)
        .map_err(|e| err(&e))?
        .label("sojourn of each frame sent")
        .legend(|(x, y)| Circle::new((x + 10, y), 3, RED.filled()));
    chart.configure_series_labels().border_style(BLACK).draw().map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))?;
    Ok(QueuePlot {
        queue: chosen.to_string(),
        rows: q.len(),
        queues: names.len(),
        max_backlog_bytes: max_backlog,
        max_sojourn_ms: max_sojourn,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fullest_queue_is_drawn_and_bad_rows_are_named() {
        let csv = format!(
            "{HEADER}\n1000000,r1,wan,1500,1,,0,0,0\n2000000,r1,wan,3000,2,,0,0,0\n3000000,r1,wan,1500,1,2000000,1,0,0\n\
             1000000,sw,p1,100,1,,0,0,0\n"
        );
        assert!(is_queue_series(&csv) && !is_queue_series("time_ns,host,sock\n"));
        let svg = std::env::temp_dir().join(format!("synack-queue-plot-{}.svg", std::process::id()));
        let drawn = plot(&csv, "q.csv", None, &svg).unwrap();
        assert_eq!((drawn.queue.as_str(), drawn.rows, drawn.queues), ("r1:wan", 3, 2));
        assert_eq!((drawn.max_backlog_bytes, drawn.max_sojourn_ms), (3000.0, 2.0));
        let text = std::fs::read_to_string(&svg).unwrap();
        assert!(text.contains("backlog") && text.contains("sojourn of each frame sent"));
        let _ = std::fs::remove_file(&svg);
        assert_eq!(plot(&csv, "q.csv", Some("sw:p1"), &svg).unwrap().queue, "sw:p1");
        let _ = std::fs::remove_file(&svg);
        assert!(plot(&csv, "q.csv", Some("x:y"), &svg).unwrap_err().contains("no queue \"x:y\""));
        let bad = format!("{HEADER}\n1000,r1,wan,lots,1,,0,0,0\n");
        assert!(plot(&bad, "q.csv", None, &svg).unwrap_err().contains("line 2: column backlog_bytes"));
    }
}
