//! Time series of every TCP connection of a run (`synack-sim run --series`): congestion window, slow-start
//! threshold, RTT estimates, RTO, bytes in flight, both windows and the delivery rate, as CSV.
//!
//! After each event that a host's stack handled (a frame, a timer, an app's command), every connection of that
//! host is read through [`synack::Stack::tcp_info`] and gets a row if anything but the time changed since its
//! last row: a row per change, never one per tick. Sampling only reads the stacks, so a run's frames, captures
//! and verdicts are the same with or without it, and the CSV is a pure function of the scenario and seed.
//!
//! One CSV per run, with `host` and `sock` columns naming the connection (`sock` is the stack's handle, unique
//! within its host). Columns, integers only:
//!
//! | column | meaning |
//! |---|---|
//! | `time_ns` | virtual time of the row |
//! | `host`, `sock`, `local`, `remote` | the connection |
//! | `state` | RFC 9293 state (`ESTABLISHED`, ...) |
//! | `cwnd`, `ssthresh` | congestion window and slow-start threshold, bytes (`ssthresh` empty while unset) |
//! | `srtt_us`, `rttvar_us`, `rto_us` | RFC 6298 estimates, µs (`srtt_us` empty before the first sample) |
//! | `in_flight` | bytes presumed in the network (RFC 6675 pipe) |
//! | `snd_wnd`, `rcv_wnd` | the peer's advertised window and ours, bytes (scaled) |
//! | `bytes_acked` | payload bytes the peer acknowledged so far |
//! | `delivery_rate_bps` | `bytes_acked` growth over the last smoothed RTT, bit/s (empty before an RTT is known) |

pub mod plot;
pub mod queue_plot;
pub mod queues;

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use synack::tcp::{TcpInfo, TcpState};
use synack::{Instant, SocketHandle, Stack};

/// The CSV header line (without its newline).
pub const HEADER: &str = "time_ns,host,sock,local,remote,state,cwnd,ssthresh,srtt_us,rttvar_us,rto_us,in_flight,snd_wnd,rcv_wnd,bytes_acked,delivery_rate_bps";

/// What a row says besides its time and the delivery rate: a new row is written when this changes.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Reading {
    state: TcpState,
    cwnd: usize,
    ssthresh: usize,
    srtt_us: Option<u64>,
    rttvar_us: u64,
    rto_us: u64,
    in_flight: usize,
    snd_wnd: usize,
    rcv_wnd: usize,
    bytes_acked: u64,
}

impl Reading {
    fn of(info: &TcpInfo) -> Reading {
        let us = |d: core::time::Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        Reading {
            state: info.state,
            cwnd: info.cwnd,
            ssthresh: info.ssthresh,
            srtt_us: info.srtt.map(us),
            rttvar_us: us(info.rttvar),
            rto_us: us(info.rto),
            in_flight: info.in_flight,
            snd_wnd: info.snd_wnd,
            rcv_wnd: info.rcv_wnd,
            bytes_acked: info.counters.bytes_acked,
        }
    }
}

/// One connection's last row and the recent `(time, bytes_acked)` points the delivery rate is measured over.
#[derive(Debug)]
struct Track {
    last: Reading,
    acked: VecDeque<(u64, u64)>,
}

/// The rows of a run so far.
#[derive(Debug, Default)]
pub struct Series {
    csv: String,
    rows: usize,
    tracks: BTreeMap<(usize, SocketHandle), Track>,
}

impl Series {
    pub fn new() -> Series {
        let mut csv = String::from(HEADER);
        csv.push('\n');
        Series { csv, rows: 0, tracks: BTreeMap::new() }
    }

    /// Reads every connection of host number `host` (named `name`) at `now`; writes a row for each that changed.
    pub fn sample(&mut self, host: usize, name: &str, stack: &Stack, now: Instant) {
        let t = now.as_nanos();
        for sock in stack.tcp_connections() {
            let Some(info) = stack.tcp_info(sock) else { continue };
            let reading = Reading::of(&info);
            let track = match self.tracks.get_mut(&(host, sock)) {
                Some(track) if track.last == reading => continue,
                Some(track) => {
                    track.last = reading.clone();
                    track
                }
                None => {
                    self.tracks.entry((host, sock)).or_insert(Track { last: reading.clone(), acked: VecDeque::new() })
                }
            };
            let rate = delivery_rate(&mut track.acked, t, reading.bytes_acked, reading.srtt_us);
            self.rows += 1;
            let opt = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
            let ssthresh = (reading.ssthresh != usize::MAX).then_some(reading.ssthresh as u64);
            let _ = writeln!(
                self.csv,
                "{t},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
                field(name),
                sock.0,
                info.local,
                info.remote,
                reading.state,
                reading.cwnd,
                opt(ssthresh),
                opt(reading.srtt_us),
                reading.rttvar_us,
                reading.rto_us,
                reading.in_flight,
                reading.snd_wnd,
                reading.rcv_wnd,
                reading.bytes_acked,
                opt(rate)
            );
        }
    }

    /// Rows written so far (not counting the header).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The CSV text, header first.
    pub fn into_csv(self) -> String {
        self.csv
    }
}

/// Bits per second acknowledged over the last smoothed RTT, from the points kept in `acked` (updated with
/// `(t, bytes)`): the growth since the latest point at least one SRTT old (or the oldest, for a connection
/// younger than that).
fn delivery_rate(acked: &mut VecDeque<(u64, u64)>, t: u64, bytes: u64, srtt_us: Option<u64>) -> Option<u64> {
    acked.push_back((t, bytes));
    let srtt_ns = srtt_us?.saturating_mul(1000).max(1);
    let window_start = t.saturating_sub(srtt_ns);
    while acked.len() > 1 && acked[1].0 <= window_start {
        acked.pop_front();
    }
    let &(t0, b0) = acked.front()?;
    let dt = t.checked_sub(t0).filter(|&d| d > 0)?;
    Some(u64::try_from(u128::from(bytes.saturating_sub(b0)) * 8 * 1_000_000_000 / u128::from(dt)).unwrap_or(u64::MAX))
}

/// A CSV field: quoted when it holds a comma, a quote or a line break.
pub(crate) fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// One row read back from a series CSV (for `synack-sim plot`).
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub time_s: f64,
    pub host: String,
    pub sock: u64,
    pub local: String,
    pub remote: String,
    pub cwnd: f64,
    pub ssthresh: Option<f64>,
    pub srtt_ms: Option<f64>,
    pub rttvar_ms: f64,
    pub rto_ms: f64,
    pub in_flight: f64,
    pub bytes_acked: f64,
    pub delivery_rate_bps: Option<f64>,
}

/// Splits one CSV line into fields (quotes as [`field`] writes them).
fn split(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let (mut cur, mut quoted, mut chars) = (String::new(), false, line.chars().peekable());
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut cur)),
            (c, _) => cur.push(c),
        }
    }
    fields.push(cur);
    fields
}

/// Parses a series CSV; errors name the line and the column.
pub fn parse(text: &str, origin: &str) -> Result<Vec<Row>, String> {
    let mut lines = text.lines().enumerate();
    let Some((_, header)) = lines.next() else { return Err(format!("{origin}: empty, expected the header {HEADER}")) };
    let columns: Vec<String> = split(header);
    let col = |name: &str| -> Result<usize, String> {
        columns.iter().position(|c| c == name).ok_or_else(|| format!("{origin}: line 1: no column {name:?} (a series CSV from `synack-sim run --series` starts with {HEADER})"))
    };
    let idx = [
        col("time_ns")?,
        col("host")?,
        col("sock")?,
        col("local")?,
        col("remote")?,
        col("cwnd")?,
        col("ssthresh")?,
        col("srtt_us")?,
        col("rttvar_us")?,
        col("rto_us")?,
        col("in_flight")?,
        col("bytes_acked")?,
        col("delivery_rate_bps")?,
    ];
    let mut rows = Vec::new();
    for (n, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let f = split(line);
        let get = |i: usize| -> Result<&str, String> {
            f.get(idx[i])
                .map(String::as_str)
                .ok_or_else(|| format!("{origin}: line {}: {} fields, expected {}", n + 1, f.len(), columns.len()))
        };
        let num = |i: usize| -> Result<Option<f64>, String> {
            let v = get(i)?;
            if v.is_empty() {
                return Ok(None);
            }
            v.parse::<u64>().map(|v| Some(v as f64)).map_err(|_| {
                format!("{origin}: line {}: column {}: {v:?} is not a whole number", n + 1, columns[idx[i]])
            })
        };
        let need = |i: usize| -> Result<f64, String> {
            num(i)?.ok_or_else(|| format!("{origin}: line {}: column {} is empty", n + 1, columns[idx[i]]))
        };
        rows.push(Row {
            time_s: need(0)? / 1e9,
            host: get(1)?.to_string(),
            sock: need(2)? as u64,
            local: get(3)?.to_string(),
            remote: get(4)?.to_string(),
            cwnd: need(5)?,
            ssthresh: num(6)?,
            srtt_ms: num(7)?.map(|v| v / 1000.0),
            rttvar_ms: need(8)? / 1000.0,
            rto_ms: need(9)? / 1000.0,
            in_flight: need(10)?,
            bytes_acked: need(11)?,
            delivery_rate_bps: num(12)?,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_rate_is_the_growth_over_the_last_srtt() {
        let mut acked = VecDeque::new();
        assert_eq!(delivery_rate(&mut acked, 0, 0, None), None);
        // 10 ms SRTT; 12_500 bytes in the 10 ms up to t = 20 ms: 10 Mbit/s.
        assert_eq!(delivery_rate(&mut acked, 10_000_000, 0, Some(10_000)), Some(0));
        assert_eq!(delivery_rate(&mut acked, 20_000_000, 12_500, Some(10_000)), Some(10_000_000));
        assert_eq!(acked.len(), 2, "points older than one SRTT before the newest are dropped");
    }

    #[test]
    fn csv_fields_round_trip() {
        assert_eq!(split(&format!("1,{},x", field("a,\"b\""))), ["1", "a,\"b\"", "x"]);
        let err = parse("time_ns,host\n", "s.csv").unwrap_err();
        assert!(err.starts_with("s.csv: line 1: no column \"sock\""), "{err}");
        let bad = format!("{HEADER}\n5,a,1,x,y,ESTABLISHED,abc,,,0,0,0,0,0,0,\n");
        let err = parse(&bad, "s.csv").unwrap_err();
        assert_eq!(err, "s.csv: line 2: column cwnd: \"abc\" is not a whole number");
    }
}
