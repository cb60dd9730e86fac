//! `synack-sim run --series` and `synack-sim plot` of a time series, end to end: the CSV of a lossy bulk
//! transfer reads as TCP behaves (slow start, then a loss halves the window), reruns give the same bytes,
//! sampling leaves the captures alone, and the SVG draws it.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use synack_sim::series::{parse, Row, HEADER};

fn sim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_synack-sim"))
}

fn tcp_loss() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../traces/tcp_loss.toml")
}

fn ok(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

fn run_series(dir: &Path) -> String {
    let stdout = ok(&sim().arg("run").arg(tcp_loss()).arg("--out").arg(dir).arg("--series").output().unwrap());
    assert!(stdout.contains(&format!("wrote {}", dir.join("tcp_loss-series.csv").display())), "{stdout}");
    std::fs::read_to_string(dir.join("tcp_loss-series.csv")).unwrap()
}

#[test]
fn a_lossy_transfer_shows_slow_start_then_a_loss_and_reruns_give_the_same_bytes() {
    let dir = common::temp_dir("series");
    let csv = run_series(&dir);
    assert_eq!(csv.lines().next(), Some(HEADER));
    let rows = parse(&csv, "tcp_loss-series.csv").unwrap();
    // The sender: the client's connection, whose peer acknowledged all 100 000 bytes.
    let client: Vec<&Row> = rows.iter().filter(|r| r.host == "client").collect();
    let server: Vec<&Row> = rows.iter().filter(|r| r.host == "server").collect();
    assert!(!server.is_empty() && client.iter().all(|r| r.remote == "10.0.0.2:5001"), "{csv}");
    assert_eq!(client.last().map(|r| r.bytes_acked), Some(100_000.0), "{csv}");
    assert!(rows.windows(2).all(|w| w[0].time_s <= w[1].time_s), "rows in time order");
    // Slow start: no ssthresh yet, and the window grows with every ACK, to at least three times its start.
    let first_loss = client.iter().position(|r| r.ssthresh.is_some()).expect("a loss sets ssthresh");
    // (From the handshake's end: the window is set again once the peer's MSS is known.)
    let slow_start: Vec<&Row> = client[..first_loss].iter().copied().filter(|r| r.srtt_ms.is_some()).collect();
    assert!(slow_start.windows(2).all(|w| w[1].cwnd >= w[0].cwnd), "{csv}");
    let (start, peak) = (slow_start[0].cwnd, slow_start.last().unwrap().cwnd);
    assert!(peak >= 3.0 * start, "slow start from {start} to {peak}");
    // The loss: ssthresh about half of what was in flight, and the window falls below its peak.
    let at_loss = client[first_loss];
    assert!(at_loss.ssthresh.unwrap() < peak && at_loss.cwnd < peak, "{at_loss:?} after a peak of {peak}");
    // RTT: the 10 ms link each way plus serialisation at 10 Mbit/s, and an RTO of at least 200 ms.
    let srtt = client.iter().filter_map(|r| r.srtt_ms).collect::<Vec<_>>();
    assert!(srtt.iter().all(|&s| (20.0..100.0).contains(&s)), "{srtt:?}");
    assert!(client.iter().all(|r| r.rto_ms >= 200.0), "{csv}");
    assert!(client.iter().any(|r| r.delivery_rate_bps.is_some_and(|b| b > 1e6)), "{csv}");

    // The same run again: the same bytes; and the captures are those of a run without --series.
    let again = common::temp_dir("series-again");
    assert_eq!(run_series(&again), csv);
    let plain = common::temp_dir("series-plain");
    ok(&sim().arg("run").arg(tcp_loss()).arg("--out").arg(&plain).output().unwrap());
    for host in ["client", "server"] {
        let name = format!("tcp_loss-{host}.pcapng");
        assert!(std::fs::read(dir.join(&name)).unwrap() == std::fs::read(plain.join(&name)).unwrap(), "{name}");
    }
    assert!(!plain.join("tcp_loss-series.csv").exists());
    for d in [&dir, &again, &plain] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn plot_draws_cwnd_and_rtt_from_the_csv_or_the_scenario() {
    let dir = common::temp_dir("series-plot");
    run_series(&dir);
    let csv = dir.join("tcp_loss-series.csv");
    let stdout = ok(&sim().arg("plot").arg(&csv).output().unwrap());
    assert!(stdout.contains("client #1") && stdout.contains("> 10.0.0.2:5001"), "{stdout}");
    let svg = std::fs::read_to_string(dir.join("tcp_loss-series.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.len() > 10_000, "{} bytes", svg.len());
    for label in ["cwnd", "ssthresh", "bytes in flight", "srtt", "RTO"] {
        assert!(svg.contains(&format!(">\n{label}")), "no {label:?} in the SVG legend");
    }
    assert!(svg.matches("<polyline").count() >= 6, "a line per series");
    // From the scenario directly: the same run, the same picture.
    let direct = dir.join("direct.svg");
    ok(&sim().arg("plot").arg(tcp_loss()).arg("--out").arg(&direct).output().unwrap());
    assert_eq!(std::fs::read_to_string(&direct).unwrap(), svg);
    // --conn picks by port: the server's side of the same connection is drawn when only it matches... both
    // ends have port 5001, so the busier (the client) stays; a port nobody used is an error naming the flag.
    let none = sim().arg("plot").arg(&csv).args(["--conn", "9"]).output().unwrap();
    assert_eq!(none.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&none.stderr).contains("--conn 9: no TCP connection with port 9"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_flags_and_bad_csv_are_errors_that_say_where() {
    let dir = common::temp_dir("series-errors");
    let no_out = sim().arg("run").arg(tcp_loss()).arg("--series").output().unwrap();
    assert_eq!(no_out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&no_out.stderr).contains("--out"), "{}", String::from_utf8_lossy(&no_out.stderr));
    let pcap = Path::new(env!("CARGO_MANIFEST_DIR")).join("../traces/tcp_loss-client.pcapng");
    let conn = sim().arg("plot").arg(&pcap).args(["--conn", "5001", "--out"]).arg(dir.join("x.svg")).output().unwrap();
    assert_eq!(conn.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&conn.stderr).contains("--conn applies to a time series"));
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, format!("{HEADER}\n1,client,1,a:1,b:2,ESTABLISHED,lots,,,0,0,0,0,0,0,\n")).unwrap();
    let out = sim().arg("plot").arg(&bad).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(err.contains("bad.csv: line 2: column cwnd: \"lots\" is not a whole number"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
