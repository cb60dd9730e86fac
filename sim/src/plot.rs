//! Time-sequence graphs (Stevens style) of the main TCP flow of a pcapng capture, drawn as SVG.
//!
//! The flow drawn is the direction carrying the most payload. Each data segment is a vertical bar from its
//! first to its last sequence number (relative to the SYN); retransmissions (segments ending at or below the
//! highest sequence already sent) are red bars with a small dot on top (small, so that neighbouring data stays
//! visible); segments the link dropped (comment "dropped by link" from the simulator, "impairment: dropped"
//! from `synack-tap --loss`) get a cross; the receiver's cumulative ACK is a green step line and ACK +
//! advertised window (scaled) an orange one. The y axis is scaled to the data and ACKs: a window reaching
//! above it is drawn along the top edge (clipped), not allowed to squeeze the data. Time 0 is the capture's
//! first frame of any kind, as in `synack-sim decode`.

use pcap_file::pcapng::{Block, PcapNgReader};
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use synack::wire::{IpProtocol, TcpFlags, TcpOptions, TcpPacket};

/// One TCP segment of a capture.
#[derive(Clone, Debug, PartialEq)]
pub struct Segment {
    /// Seconds since the capture's first frame (of any kind: time 0 of `synack-sim decode` too).
    pub t: f64,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: u32,
    pub ack: u32,
    pub len: u32,
    pub win: u16,
    pub flags: TcpFlags,
    pub window_scale: Option<u8>,
    pub dropped: bool,
}

/// Reads every TCP segment of a pcapng file (Ethernet link type).
pub fn read_segments(path: &Path) -> Result<Vec<Segment>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    read_segments_from(&bytes).map_err(|e| format!("{}: {e}", path.display()))
}

/// Reads every TCP segment of pcapng bytes.
pub fn read_segments_from(bytes: &[u8]) -> Result<Vec<Segment>, String> {
    let mut reader = PcapNgReader::new(bytes).map_err(|e| format!("not pcapng: {e}"))?;
    let mut out = Vec::new();
    let mut first_ns: Option<u128> = None;
    while let Some(block) = reader.next_block() {
        let block = block.map_err(|e| e.to_string())?;
        let Block::EnhancedPacket(p) = block else { continue };
        let dropped = p.options.iter().any(|o| match o {
            pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketOption::Comment(c) => {
                crate::decode::comment_says_dropped(c)
            }
            _ => false,
        });
        // Relative in whole nanoseconds first: a live capture's wall-clock seconds (~1.7e9) as f64 lose them.
        let ns = p.timestamp.as_nanos();
        let first = *first_ns.get_or_insert(ns);
        let t = ns.saturating_sub(first) as f64 / 1e9;
        // A frame cut by the capture's snap length: its headers are whole; zeros stand in for the payload.
        let frame = if p.data.len() < p.original_len as usize {
            let mut whole = p.data.to_vec();
            whole.resize(p.original_len as usize, 0);
            std::borrow::Cow::Owned(whole)
        } else {
            std::borrow::Cow::Borrowed(&p.data[..])
        };
        if let Some(seg) = parse(&frame, t, dropped) {
            out.push(seg);
        }
    }
    Ok(out)
}

fn parse(frame: &[u8], t: f64, dropped: bool) -> Option<Segment> {
    let (src, dst, protocol, transport) = crate::ip_view::transport(frame)?;
    if protocol != IpProtocol::Tcp {
        return None;
    }
    let tcp = TcpPacket::new_checked(transport).ok()?;
    let window_scale = TcpOptions::parse(tcp.options()).ok().and_then(|o| o.window_scale);
    Some(Segment {
        t,
        src: SocketAddr::new(src, tcp.src_port()),
        dst: SocketAddr::new(dst, tcp.dst_port()),
        seq: tcp.seq_number().0,
        ack: tcp.ack_number().0,
        len: tcp.payload().len() as u32,
        win: tcp.window_len(),
        flags: tcp.flags(),
        window_scale,
        dropped,
    })
}

/// What was drawn.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PlotStats {
    pub data_segments: usize,
    pub retransmissions: usize,
    pub dropped: usize,
    pub acks: usize,
}

/// Draws the time-sequence graph of the busiest flow of `pcapng` into `svg`.
pub fn plot(pcapng: &Path, svg: &Path) -> Result<PlotStats, String> {
    let segs = read_segments(pcapng)?;
    let mut bytes: BTreeMap<(SocketAddr, SocketAddr), u64> = BTreeMap::new();
    for s in &segs {
        *bytes.entry((s.src, s.dst)).or_insert(0) += u64::from(s.len);
    }
    let Some((&(src, dst), _)) = bytes.iter().filter(|(_, b)| **b > 0).max_by_key(|(_, b)| **b) else {
        return Err(format!("{}: no TCP payload to plot", pcapng.display()));
    };
    let fwd: Vec<&Segment> = segs.iter().filter(|s| s.src == src && s.dst == dst).collect();
    let rev: Vec<&Segment> = segs.iter().filter(|s| s.src == dst && s.dst == src).collect();
    let isn = fwd.iter().find(|s| s.flags.contains(TcpFlags::SYN)).map(|s| s.seq.wrapping_add(1));
    let base = isn.unwrap_or_else(|| fwd.iter().map(|s| s.seq).next().unwrap_or(0));
    let rel = |seq: u32| f64::from(seq.wrapping_sub(base) as i32);
    // The receiver's window scale applies to its windows only if both SYNs carried the option.
    let syn_scale = |v: &[&Segment]| v.iter().find(|s| s.flags.contains(TcpFlags::SYN)).and_then(|s| s.window_scale);
    let shift = match (syn_scale(&fwd), syn_scale(&rev)) {
        (Some(_), Some(r)) => u32::from(r),
        _ => 0,
    };

    let mut stats = PlotStats::default();
    let mut data: Vec<(f64, f64, f64)> = Vec::new();
    let mut retx: Vec<(f64, f64, f64)> = Vec::new();
    let mut drops: Vec<(f64, f64)> = Vec::new();
    let mut highest = f64::MIN;
    for s in fwd.iter().filter(|s| s.len > 0) {
        let (lo, hi) = (rel(s.seq), rel(s.seq) + f64::from(s.len));
        let t = s.t;
        if hi <= highest {
            retx.push((t, lo, hi));
        } else {
            data.push((t, lo, hi));
        }
        highest = highest.max(hi);
        if s.dropped {
            drops.push((t, (lo + hi) / 2.0));
        }
    }
    let acks: Vec<(f64, f64, f64)> = rev
        .iter()
        .filter(|s| s.flags.contains(TcpFlags::ACK) && !s.flags.contains(TcpFlags::SYN))
        .map(|s| (s.t, rel(s.ack), rel(s.ack) + f64::from(u32::from(s.win) << shift)))
        .collect();
    stats.data_segments = data.len() + retx.len();
    stats.retransmissions = retx.len();
    stats.dropped = drops.len();
    stats.acks = acks.len();

    let t_max = segs.iter().map(|s| s.t).fold(0.0, f64::max).max(1e-6);
    // Scaled to the data and the cumulative ACK; the window line is clipped to it.
    let y_max = data.iter().chain(&retx).map(|d| d.2).chain(acks.iter().map(|a| a.1)).fold(1.0, f64::max);
    let y_min = data.iter().chain(&retx).map(|d| d.1).fold(0.0, f64::min);
    let y_top = y_max * 1.05;
    let window_clipped = acks.iter().any(|a| a.2 > y_top);
    let title = format!("{src} > {dst}: time-sequence graph");
    let root = SVGBackend::new(svg, (1280, 760)).into_drawing_area();
    let err = |e: &dyn std::fmt::Display| format!("{}: {e}", svg.display());
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 24))
        .margin(16)
        .x_label_area_size(50)
        .y_label_area_size(90)
        .build_cartesian_2d(0.0..t_max * 1.02, y_min..y_top)
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_desc("time (s) since the capture's first frame (time 0 of synack-sim decode)")
        .y_desc("relative sequence number (kB)")
        .y_label_formatter(&|y| format!("{:.0}", y / 1000.0))
        .x_label_formatter(&|x| format!("{x:.2}"))
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 17))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(|e| err(&e))?;

    let step = |pts: &[(f64, f64, f64)], pick: fn(&(f64, f64, f64)) -> f64| -> Vec<(f64, f64)> {
        let mut v = Vec::new();
        for (i, p) in pts.iter().enumerate() {
            if i > 0 {
                v.push((p.0, pick(&pts[i - 1])));
            }
            v.push((p.0, pick(p)));
        }
        v
    };
    let orange = RGBColor(240, 150, 20);
    let green = RGBColor(20, 150, 60);
    let blue = RGBColor(30, 70, 200);
    let window_label =
        if window_clipped { "ACK + receive window (clipped at the top)" } else { "ACK + receive window" };
    let clipped: Vec<(f64, f64, f64)> = acks.iter().map(|&(t, a, w)| (t, a, w.min(y_top))).collect();
    chart
        .draw_series(LineSeries::new(step(&clipped, |a| a.2), orange.stroke_width(2)))
        .map_err(|e| err(&e))?
        .label(window_label)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], orange.stroke_width(2)));
    chart
        .draw_series(LineSeries::new(step(&acks, |a| a.1), green.stroke_width(2)))
        .map_err(|e| err(&e))?
        .label("cumulative ACK")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], green.stroke_width(2)));
    chart
        .draw_series(data.iter().map(|&(t, lo, hi)| PathElement::new(vec![(t, lo), (t, hi)], blue.stroke_width(2))))
        .map_err(|e| err(&e))?
        .label("data segment")
        .legend(move |(x, y)| PathElement::new(vec![(x + 10, y - 6), (x + 10, y + 6)], blue.stroke_width(2)));
    // Red bars as thin as the data's, marked by a radius-2 dot at their top: visible, without hiding data.
    chart
        .draw_series(retx.iter().map(|&(t, lo, hi)| PathElement::new(vec![(t, lo), (t, hi)], RED.stroke_width(2))))
        .map_err(|e| err(&e))?
        .label("retransmission")
        .legend(|(x, y)| PathElement::new(vec![(x + 10, y - 6), (x + 10, y + 6)], RED.stroke_width(2)));
    chart.draw_series(retx.iter().map(|&(t, _, hi)| Circle::new((t, hi), 2, RED.filled()))).map_err(|e| err(&e))?;
    chart
        .draw_series(drops.iter().map(|&(t, y)| Cross::new((t, y), 4, BLACK.stroke_width(1))))
        .map_err(|e| err(&e))?
        .label("dropped by link")
        .legend(|(x, y)| Cross::new((x + 10, y), 4, BLACK.stroke_width(1)));
    // Lower right: below a time-sequence graph's rising data, where the window line (above it) never is.
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(("sans-serif", 15))
        .draw()
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))?;
    Ok(stats)
}
