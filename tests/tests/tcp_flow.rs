//! Flow control and send policy: zero window with persist probes, window updates, Nagle, delayed ACKs.

use std::time::Duration;
use synack::{Command, CommandError, Config, Event, Reply};
use synack_tests::tcp::{connect, pattern, read_available};
use synack_tests::{Pair, Side, MAC_A, MAC_B};

fn small_buffers(recv: usize) -> Pair {
    let tcp = synack::config::TcpConfig { recv_buffer: recv, ..Default::default() };
    let a = Config { mac: MAC_A, ipv4: "10.0.0.1/24".parse().unwrap(), ..Config::default() };
    let b = Config { mac: MAC_B, ipv4: "10.0.0.2/24".parse().unwrap(), tcp, seed: 3, ..Config::default() };
    Pair::with_configs(a, b)
}

#[test]
fn slow_reader_closes_the_window_persist_probes_then_reopen() {
    let mut p = small_buffers(16_384);
    let (c, _, s) = connect(&mut p, 80);
    let data = pattern(100_000, 1);
    let r = p.command(Side::A, Command::TcpSend { sock: c, data: data.clone() });
    assert_eq!(r, Ok(Reply::Sent { len: 100_000 }));
    // B does not read: its window fills and closes.
    p.run_until(p.now + Duration::from_secs(10));
    let info = p.a.tcp_info(c).unwrap();
    assert_eq!(info.snd_wnd, 0, "{info:?}");
    let bi = p.b.tcp_info(s).unwrap();
    assert_eq!(bi.recv_queued, 16_384);
    assert!(info.counters.zero_window_probes >= 3, "{info:?}");
    let probes: Vec<_> = p
        .log
        .iter()
        .filter(|l| l.from == Side::A && l.line().contains("len=0") && l.at > synack::Instant::from_millis(100))
        .map(|l| l.at)
        .collect();
    let gaps: Vec<Duration> = probes.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps.windows(2).all(|g| g[1] >= g[0]), "persist backoff grows: {gaps:?}");
    assert_eq!(info.counters.timeouts, 0, "a zero window is not a loss");
    // B reads: a window update reopens the flow, and everything arrives.
    let mut got = Vec::new();
    for _ in 0..200 {
        read_available(&mut p, Side::B, s, &mut got);
        if got.len() == data.len() {
            break;
        }
        p.run_until(p.now + Duration::from_millis(20));
    }
    assert!(got == data);
    assert!(p.lines().iter().any(|l| l.starts_with("B>A") && l.contains("win=")));
}

/// A connected pair whose client (A) has a 10,000-byte send buffer: (pair, A's socket).
fn small_send_buffer() -> (Pair, synack::SocketHandle) {
    let tcp = synack::config::TcpConfig { send_buffer: 10_000, ..Default::default() };
    let a = Config { mac: MAC_A, ipv4: "10.0.0.1/24".parse().unwrap(), tcp, ..Config::default() };
    let b = Config { mac: MAC_B, ipv4: "10.0.0.2/24".parse().unwrap(), seed: 3, ..Config::default() };
    let mut p = Pair::with_configs(a, b);
    let (c, _, _) = connect(&mut p, 80);
    (p, c)
}

#[test]
fn full_send_buffer_refuses_then_signals_writable() {
    let (mut p, c) = small_send_buffer();
    assert_eq!(
        p.command(Side::A, Command::TcpSend { sock: c, data: vec![1; 15_000] }),
        Ok(Reply::Sent { len: 10_000 })
    );
    assert_eq!(p.command(Side::A, Command::TcpSend { sock: c, data: vec![1; 10] }), Err(CommandError::WouldBlock));
    p.run_until(p.now + Duration::from_millis(20));
    assert!(p.events_of(Side::A).contains(&(c, Event::Writable)));
}

#[test]
fn an_empty_send_asks_for_room_and_waits_for_writable_like_a_refused_one() {
    let (mut p, c) = small_send_buffer();
    let empty = |p: &mut Pair| p.command(Side::A, Command::TcpSend { sock: c, data: Vec::new() });
    assert_eq!(empty(&mut p), Ok(Reply::Sent { len: 0 }), "room: nothing to wait for");
    assert_eq!(
        p.command(Side::A, Command::TcpSend { sock: c, data: vec![1; 10_000] }),
        Ok(Reply::Sent { len: 10_000 }),
        "filled exactly: no writer was refused"
    );
    assert_eq!(empty(&mut p), Err(CommandError::WouldBlock), "no room");
    p.run_until(p.now + Duration::from_millis(20));
    assert!(p.events_of(Side::A).contains(&(c, Event::Writable)), "the empty send asked for Writable");
    assert_eq!(empty(&mut p), Ok(Reply::Sent { len: 0 }));
}

#[test]
fn nagle_coalesces_small_writes_and_nodelay_does_not() {
    for nodelay in [false, true] {
        let mut p = Pair::new(31);
        let (c, _, s) = connect(&mut p, 80);
        p.command(Side::A, Command::TcpSetNoDelay { sock: c, nodelay }).unwrap();
        let before = p.log.len();
        for _ in 0..10 {
            p.command(Side::A, Command::TcpSend { sock: c, data: b"ab".to_vec() }).unwrap();
        }
        let immediate = p.log[before..].iter().filter(|l| l.from == Side::A && !l.line().contains("len=0")).count();
        if nodelay {
            assert_eq!(immediate, 10, "TCP_NODELAY sends each write");
        } else {
            assert_eq!(immediate, 1, "Nagle: one small segment in flight");
        }
        p.run_until(p.now + Duration::from_millis(100));
        let mut got = Vec::new();
        read_available(&mut p, Side::B, s, &mut got);
        assert_eq!(got, b"ab".repeat(10));
    }
}

#[test]
fn delayed_ack_waits_40ms_for_one_segment_and_acks_every_second() {
    let mut p = Pair::new(32);
    let (c, _, _s) = connect(&mut p, 80);
    let t0 = p.now;
    p.command(Side::A, Command::TcpSend { sock: c, data: vec![7; 100] }).unwrap();
    p.run_until(p.now + Duration::from_millis(100));
    let ack = p.log.iter().find(|l| l.from == Side::B && l.at > t0).unwrap();
    assert_eq!(ack.at - t0, Duration::from_millis(41), "1 ms to arrive + 40 ms delayed ACK");
    // Two full segments: the second is acknowledged at once.
    let t1 = p.now;
    p.command(Side::A, Command::TcpSend { sock: c, data: vec![7; 2920] }).unwrap();
    p.run_until(p.now + Duration::from_millis(100));
    let ack = p.log.iter().find(|l| l.from == Side::B && l.at > t1).unwrap();
    assert_eq!(ack.at - t1, Duration::from_millis(1));
}

/// A sends ten full segments; returns (the pair, A's socket, B's socket, the ten frames, not delivered).
fn ten_segments_in_flight() -> (Pair, synack::SocketHandle, synack::SocketHandle, Vec<Vec<u8>>) {
    let mut p = Pair::new(61);
    let (c, _, s) = connect(&mut p, 80);
    p.run_until_idle();
    let now = p.now;
    // Ten full segments (1448 bytes each: timestamps take 12 of the 1460 the MSS allows).
    let mss = p.a.tcp_info(c).unwrap().mss;
    let out = p.a.handle(synack::Input::Command(Command::TcpSend { sock: c, data: pattern(10 * mss, 7) }), now);
    let frames: Vec<Vec<u8>> =
        out.into_iter().filter_map(|o| if let synack::Output::Transmit(f) = o { Some(f) } else { None }).collect();
    assert_eq!(frames.len(), 10, "initial window of ten segments");
    (p, c, s, frames)
}

fn transmitted(out: &[synack::Output]) -> Vec<String> {
    out.iter()
        .filter_map(|o| {
            if let synack::Output::Transmit(f) = o {
                Some(synack::wire::pretty::frame_summary(f))
            } else {
                None
            }
        })
        .collect()
}

#[test]
fn a_batch_of_in_order_segments_is_acknowledged_once_at_its_end() {
    let (mut p, c, s, frames) = ten_segments_in_flight();
    let now = p.now;
    // One frame at a time: an ACK for every second segment.
    let (mut q, _, _, same) = ten_segments_in_flight();
    assert_eq!(frames, same, "deterministic");
    let mut one_by_one = Vec::new();
    for f in &same {
        q.b.handle_into(synack::Input::Frame(f), now, &mut one_by_one);
    }
    assert_eq!(transmitted(&one_by_one).len(), 5);
    // The same frames as one batch: one ACK, for all of them, after the last.
    let mut out = Vec::new();
    p.b.handle_frames_into(frames.iter().map(Vec::as_slice), now, &mut out);
    let acks = transmitted(&out);
    assert_eq!(acks.len(), 1, "{acks:#?}");
    let info = p.b.tcp_info(s).unwrap();
    assert!(acks[0].contains(&format!("ack={}", info.rcv_nxt.0)), "{acks:#?} vs {info:?}");
    assert_eq!(info.recv_queued, 10 * info.mss);
    assert!(out.iter().any(|o| matches!(o, synack::Output::Event(h, Event::Readable) if *h == s)));
    // The ACK releases all ten segments at A.
    p.absorb_all(Side::B, out);
    p.run_until(p.now + Duration::from_millis(5));
    let a = p.a.tcp_info(c).unwrap();
    assert_eq!(a.snd_una, a.snd_nxt, "{a:?}");
}

#[test]
fn out_of_order_segments_in_a_batch_are_still_acknowledged_at_once() {
    let (mut p, _c, s, mut frames) = ten_segments_in_flight();
    let now = p.now;
    frames.remove(2); // lost: segments 4..10 arrive beyond a gap.
    let mut out = Vec::new();
    p.b.handle_frames_into(frames.iter().map(Vec::as_slice), now, &mut out);
    let acks = transmitted(&out);
    // Segment 2 completes the first pair (held to the end of the batch), each of the seven beyond the gap
    // draws an immediate duplicate ACK with SACK, so the sender's loss detection sees every one.
    let dup = acks.iter().filter(|a| a.contains("sack")).count();
    assert_eq!(dup, 7, "{acks:#?}");
    assert!(acks.len() <= 8, "{acks:#?}");
    let info = p.b.tcp_info(s).unwrap();
    assert_eq!(info.recv_queued, 2 * info.mss);
}

#[test]
fn with_segmentation_offload_data_frames_carry_many_segments_and_loss_is_still_repaired() {
    let mut a = Config { mac: MAC_A, ipv4: "10.0.0.1/24".parse().unwrap(), seed: 62, ..Config::default() };
    a.tcp.segmentation_offload = 65_535;
    let b = Config { mac: MAC_B, ipv4: "10.0.0.2/24".parse().unwrap(), seed: 63, ..Config::default() };
    let mut p = Pair::with_configs(a, b);
    p.impair(Side::A, synack_tests::Impairment { loss: 0.02, ..Default::default() }, 62);
    let (c, _, s) = connect(&mut p, 80);
    let data = pattern(3_000_000, 9);
    let t = synack_tests::tcp::transfer(&mut p, Side::A, c, s, &data, Duration::from_secs(120));
    assert!(t.eof && t.received == data);
    let from_a: Vec<usize> = p.log.iter().filter(|l| l.from == Side::A).map(|l| l.frame.len()).collect();
    let largest = *from_a.iter().max().unwrap();
    assert!(largest > 1514 && largest <= 14 + 65_535, "largest frame {largest}");
    // Far fewer frames than 1460-byte segments (2,055 for 3 MB): several segments per frame on average.
    assert!(from_a.len() < 3_000_000 / 1460 / 3, "{} frames for 3 MB", from_a.len());
    let info = p.a.tcp_info(c).unwrap();
    assert!(info.counters.retransmitted_segments > 0, "losses were repaired: {info:?}");
    // B acknowledged like two segments per large one (no delayed-ACK stalls): the transfer did not crawl.
    assert!(t.finished_at < synack::Instant::ZERO + Duration::from_secs(30), "took until {:?}", t.finished_at);
}

#[test]
fn segmentation_offload_must_fit_an_ip_datagram() {
    let mut c = Config::default();
    c.tcp.segmentation_offload = 70_000;
    assert!(c.validate().is_err());
    c.tcp.segmentation_offload = 1000; // below the MTU
    assert!(c.validate().is_err());
    c.tcp.segmentation_offload = 1500;
    assert!(c.validate().is_ok());
}

/// A 1 ms link without a rate limit holds a sender back only by the receiver's window (and the sender's
/// congestion window; A's send buffer is large enough not to): B's reader takes everything as soon as it
/// arrives.
fn autotuned(recv_buffer_max: usize) -> Pair {
    let tcp = synack::config::TcpConfig { recv_buffer_max, ..Default::default() };
    let sender = synack::config::TcpConfig { send_buffer: 8 << 20, ..Default::default() };
    let a = Config { mac: MAC_A, ipv4: "10.0.0.1/24".parse().unwrap(), tcp: sender, ..Config::default() };
    let b = Config { mac: MAC_B, ipv4: "10.0.0.2/24".parse().unwrap(), tcp, seed: 3, ..Config::default() };
    Pair::with_configs(a, b)
}

#[test]
fn receive_autotuning_grows_the_window_for_a_reader_that_keeps_up() {
    let data = pattern(16 << 20, 9);
    let mut took = Vec::new();
    for max in [0, 4 << 20] {
        let mut p = autotuned(max);
        let (c, _, s) = connect(&mut p, 80);
        let start = p.now;
        let t = synack_tests::tcp::transfer(&mut p, Side::A, c, s, &data, Duration::from_secs(60));
        assert!(t.eof && t.received == data, "max {max}: {} of {} bytes", t.received.len(), data.len());
        let info = p.b.tcp_info(s).unwrap();
        // The largest window B advertised, scaled.
        let widest = p
            .log
            .iter()
            .filter(|l| l.from == Side::B && !l.line().contains("TCP [S"))
            .filter_map(|l| l.line().split(" win=").nth(1).and_then(|w| w.split(' ').next()?.parse::<usize>().ok()))
            .max()
            .unwrap()
            << info.rcv_wscale;
        took.push(t.finished_at - start);
        if max == 0 {
            assert_eq!(info.recv_buffer, 256 * 1024, "{info:?}");
            assert_eq!(info.counters.recv_buffer_growths, 0);
            assert!(widest <= 256 * 1024, "{widest}");
        } else {
            assert_eq!(info.recv_buffer, 4 << 20, "grew to the limit: {info:?}");
            assert!(info.counters.recv_buffer_growths >= 2, "{info:?}");
            assert!(widest > 2 << 20, "advertised {widest}");
            // Room for the limit in the window scale offered in the SYN.
            assert!(usize::from(u16::MAX) << info.rcv_wscale >= 4 << 20, "{info:?}");
        }
    }
    // Virtual time: the same bytes over the same link, in well under half the round trips.
    assert!(took[1] * 2 < took[0], "fixed {:?} vs autotuned {:?}", took[0], took[1]);
}

#[test]
fn receive_autotuning_leaves_a_slow_reader_alone() {
    let mut p = autotuned(4 << 20);
    let (c, _, s) = connect(&mut p, 80);
    let data = pattern(2 << 20, 10);
    let mut sent = 0;
    let mut got = Vec::new();
    // B reads 16 KiB every 10 ms (1.6 MB/s), far below what the link and window could carry.
    while got.len() < data.len() && p.now < synack::Instant::from_secs(60) {
        while sent < data.len() {
            let end = (sent + 65_536).min(data.len());
            match p.command(Side::A, Command::TcpSend { sock: c, data: data[sent..end].to_vec() }) {
                Ok(Reply::Sent { len }) => sent += len,
                Err(CommandError::WouldBlock) => break,
                other => panic!("send: {other:?}"),
            }
        }
        if let Ok(Reply::Data(d)) = p.command(Side::B, Command::TcpRecv { sock: s, max: 16_384 }) {
            got.extend_from_slice(&d);
        }
        p.run_until(p.now + Duration::from_millis(10));
    }
    assert!(got == data, "{} of {} bytes", got.len(), data.len());
    let info = p.b.tcp_info(s).unwrap();
    assert_eq!(info.recv_buffer, 256 * 1024, "{info:?}");
    assert_eq!(info.counters.recv_buffer_growths, 0);
}

#[test]
fn send_autotuning_grows_the_buffer_while_it_holds_the_writer_back() {
    let data = pattern(16 << 20, 11);
    let mut took = Vec::new();
    for max in [0, 4 << 20] {
        // B's window is large and fixed: only A's send buffer (and congestion window) can hold A back.
        let sender = synack::config::TcpConfig { send_buffer_max: max, ..Default::default() };
        let receiver = synack::config::TcpConfig { recv_buffer: 8 << 20, ..Default::default() };
        let a = Config { mac: MAC_A, ipv4: "10.0.0.1/24".parse().unwrap(), tcp: sender, ..Config::default() };
        let b =
            Config { mac: MAC_B, ipv4: "10.0.0.2/24".parse().unwrap(), tcp: receiver, seed: 3, ..Config::default() };
        let mut p = Pair::with_configs(a, b);
        let (c, _, s) = connect(&mut p, 80);
        let start = p.now;
        let t = synack_tests::tcp::transfer(&mut p, Side::A, c, s, &data, Duration::from_secs(60));
        assert!(t.eof && t.received == data, "max {max}: {} of {} bytes", t.received.len(), data.len());
        took.push(t.finished_at - start);
        let info = p.a.tcp_info(c).unwrap();
        if max == 0 {
            assert_eq!((info.send_buffer, info.counters.send_buffer_growths), (256 * 1024, 0), "{info:?}");
        } else {
            assert_eq!(info.send_buffer, 4 << 20, "grew to the limit: {info:?}");
            assert!(info.counters.send_buffer_growths >= 2, "{info:?}");
        }
    }
    assert!(took[1] * 2 < took[0], "fixed {:?} vs autotuned {:?}", took[0], took[1]);
}

#[test]
fn autotuning_limits_are_checked() {
    let bad = |tcp: synack::config::TcpConfig| {
        let c = Config { tcp, ..Config::default() };
        synack::Stack::new(c).unwrap_err().to_string()
    };
    let d = synack::config::TcpConfig::default;
    assert!(bad(synack::config::TcpConfig { recv_buffer_max: 1000, ..d() }).contains("recv_buffer_max"));
    assert!(bad(synack::config::TcpConfig { send_buffer_max: 1000, ..d() }).contains("send_buffer_max"));
    assert!(bad(synack::config::TcpConfig { send_buffer_max: 2 << 30, ..d() }).contains("1 GiB"));
}

/// The zero-copy reads (`Stack::tcp_read` lends the receive queue's own slices, `Stack::tcp_read_into` fills the
/// caller's buffer) deliver the same stream as `TcpRecv`, open the window as a read should, and report the end
/// of the stream and the errors as `TcpRecv` does.
#[test]
fn lent_and_into_reads_deliver_the_stream_and_open_the_window() {
    let mut p = small_buffers(32_768);
    let (c, _, s) = connect(&mut p, 80);
    let data = pattern(300_000, 7);
    let mut queued = 0;
    let (mut got, mut lent_calls, mut buf) = (Vec::new(), 0, vec![0u8; 5_000]);
    let mut out = Vec::new();
    let mut eof = false;
    for round in 0..2_000 {
        if queued < data.len() {
            if let Ok(Reply::Sent { len }) =
                p.command(Side::A, Command::TcpSend { sock: c, data: data[queued..].to_vec() })
            {
                queued += len;
                if queued == data.len() {
                    assert_eq!(p.command(Side::A, Command::TcpShutdown { sock: c }), Ok(Reply::Done));
                }
            }
        }
        let now = p.now;
        // Alternate the two reads; both stop at what is readable.
        let r = if round % 2 == 0 {
            p.b.tcp_read(s, 20_000, now, &mut out, |bytes| {
                assert!(!bytes.is_empty());
                lent_calls += 1;
                got.extend_from_slice(bytes);
            })
        } else {
            p.b.tcp_read_into(s, &mut buf, now, &mut out).inspect(|&n| got.extend_from_slice(&buf[..n]))
        };
        p.absorb_all(Side::B, core::mem::take(&mut out));
        match r {
            Ok(0) => {
                eof = true;
                break;
            }
            Ok(_) | Err(CommandError::WouldBlock) => {}
            Err(e) => panic!("read failed: {e:?}"),
        }
        p.run_until(p.now + Duration::from_millis(5));
    }
    assert!(eof, "the FIN reads as Ok(0)");
    assert_eq!(got.len(), data.len());
    assert!(got == data, "same bytes in the same order");
    assert!(lent_calls > 0);
    // The 32 KiB window closed and reopened many times over 300 KB: the reads sent window updates.
    let updates = p.lines().iter().filter(|l| l.starts_with("B>A") && l.contains("win=")).count();
    assert!(updates > 10, "{updates} window updates");
    // As TcpRecv: a zero-length read is refused, an unknown socket is named.
    let now = p.now;
    assert_eq!(p.b.tcp_read_into(s, &mut [], now, &mut out), Err(CommandError::BadArgument("max must be at least 1")));
    let bogus = synack::SocketHandle(9_999);
    assert_eq!(p.b.tcp_read(bogus, 10, now, &mut out, |_| {}), Err(CommandError::NoSuchSocket(bogus)));
}

/// The zero-copy write (`Stack::tcp_write`, `Command::TcpSendBytes`): the send queue keeps a reference to the caller's shared buffer
/// (no copy) until the peer acknowledges it, takes what fits and leaves the rest to be offered again, mixes with
/// `TcpSend`'s `Vec`s in order, and answers the same errors as `TcpSend`.
#[test]
fn zero_copy_writes_keep_the_callers_buffer_until_acknowledged() {
    use synack::Bytes;
    let tcp = synack::config::TcpConfig { send_buffer: 16_384, send_buffer_max: 0, ..Default::default() };
    let a = Config { mac: MAC_A, ipv4: "10.0.0.1/24".parse().unwrap(), tcp, ..Config::default() };
    let b = Config { mac: MAC_B, ipv4: "10.0.0.2/24".parse().unwrap(), seed: 3, ..Config::default() };
    let mut p = Pair::with_configs(a, b);
    let (c, _, s) = connect(&mut p, 80);
    let data = Bytes::from(pattern(200_000, 9));
    let mut out = Vec::new();
    let now = p.now;
    assert_eq!(p.a.tcp_write(c, Bytes::new(), now, &mut out), Ok(0), "a zero-length write: there is room");
    let (mut queued, mut refused, mut shared_while_queued) = (0, 0, false);
    let mut got = Vec::new();
    let mut eof = false;
    for round in 0..5_000 {
        if queued < data.len() {
            let now = p.now;
            if round % 3 == 2 {
                // A small `Vec` through `TcpSend` between the shared pieces: appended in order.
                let end = (queued + 100).min(data.len());
                let r = p.command(Side::A, Command::TcpSend { sock: c, data: data[queued..end].to_vec() });
                if let Ok(Reply::Sent { len }) = r {
                    queued += len;
                }
            } else {
                // The method and its command form (`TcpSendBytes`) in turn.
                let written = if round % 3 == 0 {
                    let r = p.a.tcp_write(c, data.slice(queued..), now, &mut out);
                    p.absorb_all(Side::A, core::mem::take(&mut out));
                    r
                } else {
                    match p.command(Side::A, Command::TcpSendBytes { sock: c, data: data.slice(queued..) }) {
                        Ok(Reply::Sent { len }) => Ok(len),
                        Ok(other) => panic!("unexpected reply {other:?}"),
                        Err(e) => Err(e),
                    }
                };
                match written {
                    Ok(n) => {
                        assert!(n > 0 && n <= 16_384, "took {n}: at most the buffer");
                        queued += n;
                    }
                    Err(CommandError::WouldBlock) => refused += 1,
                    Err(e) => panic!("write failed: {e:?}"),
                }
                shared_while_queued |= !data.is_unique();
            }
            if queued == data.len() {
                assert_eq!(p.command(Side::A, Command::TcpShutdown { sock: c }), Ok(Reply::Done));
            }
        }
        if read_available(&mut p, Side::B, s, &mut got).is_none() {
            eof = true;
            break;
        }
        p.run_until(p.now + Duration::from_millis(1));
    }
    assert!(eof, "end of stream reached");
    assert!(got == data, "same bytes in the same order ({} of {})", got.len(), data.len());
    assert!(refused > 0, "a full send buffer refuses a write");
    let writable = p.events_of(Side::A).iter().filter(|(h, e)| *h == c && *e == Event::Writable).count();
    assert!(writable > 0, "a refused write is answered by Writable");
    assert!(shared_while_queued, "the queue held the caller's buffer, not a copy");
    p.run_until_idle();
    assert!(data.is_unique(), "acknowledged: the stack let go of the caller's buffer");
    // Errors as TcpSend: after the shutdown, and on a socket that does not exist.
    let now = p.now;
    assert!(matches!(p.a.tcp_write(c, data.slice(..10), now, &mut out), Err(CommandError::InvalidState(_))));
    let bogus = synack::SocketHandle(9_999);
    assert_eq!(p.a.tcp_write(bogus, data.slice(..10), now, &mut out), Err(CommandError::NoSuchSocket(bogus)));
}
