//! `synack-sim plot` of a time series: one connection's congestion window, slow-start threshold and bytes in
//! flight (top), and its smoothed RTT and RTO (bottom), over virtual time, as SVG.

use super::Row;
use plotters::prelude::*;
use std::path::Path;

/// What was drawn.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesPlot {
    /// `client #2 10.0.0.1:49152 > 10.0.0.2:5001`.
    pub connection: String,
    /// Rows of that connection.
    pub rows: usize,
    /// Connections in the series.
    pub connections: usize,
    /// Largest congestion window, bytes.
    pub max_cwnd: f64,
}

/// The connection to draw: among those with port `port` at either end (all without a filter), the one whose
/// peer acknowledged the most bytes (the sender of the main transfer), the first seen on a tie.
fn pick(rows: &[Row], port: Option<u16>) -> Result<(Vec<&Row>, usize), String> {
    let mut conns: Vec<(&str, u64)> = Vec::new();
    for r in rows {
        if !conns.iter().any(|&(h, s)| h == r.host && s == r.sock) {
            conns.push((&r.host, r.sock));
        }
    }
    let has_port = |r: &Row| {
        let p = |a: &str| a.rsplit_once(':').and_then(|(_, p)| p.parse::<u16>().ok());
        port.is_none_or(|port| p(&r.local) == Some(port) || p(&r.remote) == Some(port))
    };
    let acked =
        |h: &str, s: u64| rows.iter().filter(|r| r.host == h && r.sock == s).map(|r| r.bytes_acked).fold(0.0, f64::max);
    let mut best: Option<((&str, u64), f64)> = None;
    for &(h, s) in &conns {
        if !rows.iter().any(|r| r.host == h && r.sock == s && has_port(r)) {
            continue;
        }
        let a = acked(h, s);
        if best.is_none_or(|(_, b)| a > b) {
            best = Some(((h, s), a));
        }
    }
    let Some(((h, s), _)) = best else {
        return Err(match port {
            Some(p) if !conns.is_empty() => format!("--conn {p}: no TCP connection with port {p} in the series"),
            _ => "no TCP connection in the series (was anything connected?)".to_string(),
        });
    };
    Ok((rows.iter().filter(|r| r.host == h && r.sock == s).collect(), conns.len()))
}

/// Draws the series of one connection (see `pick`) into `svg`.
pub fn plot(rows: &[Row], port: Option<u16>, svg: &Path) -> Result<SeriesPlot, String> {
    let (conn, connections) = pick(rows, port)?;
    let first = conn[0];
    let connection = format!("{} #{} {} > {}", first.host, first.sock, first.local, first.remote);
    let err = |e: &dyn std::fmt::Display| format!("{}: {e}", svg.display());
    let t_min = conn.iter().map(|r| r.time_s).fold(f64::MAX, f64::min);
    let t_max = conn.iter().map(|r| r.time_s).fold(0.0, f64::max).max(t_min + 1e-6);
    // A step line: each value holds until the next row.
    let step = |pick: &dyn Fn(&Row) -> Option<f64>| -> Vec<(f64, f64)> {
        let mut v: Vec<(f64, f64)> = Vec::new();
        for r in &conn {
            let Some(y) = pick(r) else { continue };
            if let Some(&(_, prev)) = v.last() {
                v.push((r.time_s, prev));
            }
            v.push((r.time_s, y));
        }
        v
    };
    let max_cwnd = conn.iter().map(|r| r.cwnd).fold(0.0, f64::max);
    let y_top = conn.iter().map(|r| r.cwnd.max(r.in_flight)).fold(1.0, f64::max) * 1.1;
    let ssthresh_clipped = conn.iter().any(|r| r.ssthresh.is_some_and(|s| s > y_top));
    // The RTT panel fits the values once an RTT is known: the initial 1 s RTO would flatten the rest (it runs
    // along the top edge, and the legend says so).
    let measured = |r: &&&Row| r.srtt_ms.is_some();
    let ms_fit = |r: &&Row| r.rto_ms.max(r.srtt_ms.unwrap_or(0.0) + 4.0 * r.rttvar_ms);
    let ms_top = conn.iter().filter(measured).map(ms_fit).fold(1.0, f64::max) * 1.1;
    let ms_top = if conn.iter().any(|r| r.srtt_ms.is_some()) {
        ms_top
    } else {
        conn.iter().map(ms_fit).fold(1.0, f64::max) * 1.1
    };
    let rto_clipped = conn.iter().any(|r| r.rto_ms > ms_top);

    let root = SVGBackend::new(svg, (1280, 900)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let root = root.titled(&connection, ("sans-serif", 24)).map_err(|e| err(&e))?;
    let (top, bottom) = root.split_vertically(500);
    let x = t_min..t_max + (t_max - t_min) * 0.02;
    let blue = RGBColor(30, 70, 200);
    let orange = RGBColor(240, 150, 20);
    let green = RGBColor(20, 150, 60);
    let purple = RGBColor(130, 40, 160);

    let mut chart = ChartBuilder::on(&top)
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(90)
        .build_cartesian_2d(x.clone(), 0.0..y_top)
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .y_desc("bytes (kB)")
        .y_label_formatter(&|y| format!("{:.0}", y / 1000.0))
        .x_label_formatter(&|x| format!("{x:.2}"))
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 17))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(|e| err(&e))?;
    chart
        .draw_series(LineSeries::new(step(&|r| Some(r.cwnd)), blue.stroke_width(2)))
        .map_err(|e| err(&e))?
        .label("cwnd")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], blue.stroke_width(2)));
    let ssthresh_label = if ssthresh_clipped { "ssthresh (clipped at the top)" } else { "ssthresh" };
    chart
        .draw_series(LineSeries::new(step(&|r| r.ssthresh.map(|s| s.min(y_top))), orange.stroke_width(2)))
        .map_err(|e| err(&e))?
        .label(ssthresh_label)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], orange.stroke_width(2)));
    chart
        .draw_series(LineSeries::new(step(&|r| Some(r.in_flight)), green.stroke_width(1)))
        .map_err(|e| err(&e))?
        .label("bytes in flight")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], green.stroke_width(1)));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(("sans-serif", 15))
        .draw()
        .map_err(|e| err(&e))?;

    let mut chart = ChartBuilder::on(&bottom)
        .margin(16)
        .x_label_area_size(50)
        .y_label_area_size(90)
        .build_cartesian_2d(x, 0.0..ms_top)
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_desc("virtual time (s)")
        .y_desc("ms")
        .x_label_formatter(&|x| format!("{x:.2}"))
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 17))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(|e| err(&e))?;
    chart
        .draw_series(LineSeries::new(step(&|r| r.srtt_ms), blue.stroke_width(2)))
        .map_err(|e| err(&e))?
        .label("srtt")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], blue.stroke_width(2)));
    chart
        .draw_series(LineSeries::new(step(&|r| r.srtt_ms.map(|s| s + 4.0 * r.rttvar_ms)), purple.stroke_width(1)))
        .map_err(|e| err(&e))?
        .label("srtt + 4 rttvar")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], purple.stroke_width(1)));
    chart
        .draw_series(LineSeries::new(step(&|r| Some(r.rto_ms.min(ms_top))), RED.stroke_width(2)))
        .map_err(|e| err(&e))?
        .label(if rto_clipped { "RTO (clipped at the top)" } else { "RTO" })
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED.stroke_width(2)));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(("sans-serif", 15))
        .draw()
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))?;
    Ok(SeriesPlot { connection, rows: conn.len(), connections, max_cwnd })
}
