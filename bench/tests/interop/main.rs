//! synack against another stack: smoltcp 0.14 on the other end of an in-memory Ethernet link (IPv4, ARP,
//! MTU 1500) with a one-way delay of 1–5 ms and, in the lossy runs, seeded loss, duplication, reordering and
//! corruption in both directions (`link.rs`). Virtual time only (`net.rs`), so every run is reproducible from its
//! seed: `INTEROP_SEED=7 cargo test -p synack-bench --test interop` runs seed 7 alone, and `INTEROP_PCAP=/tmp/x.pcap`
//! writes the frames of the last run (and of a failing one) for tshark.
//!
//! Every byte is compared with the pattern sent, both ways; each connection must end closed on both sides
//! without a reset; every corrupted frame that reaches synack must be dropped as malformed; on a clean link
//! nothing may be retransmitted and no RST may appear at all. `INTEROP_SEEDS=200` searches more seeds and
//! `INTEROP_LOSS=0.05` sets the loss rate of the lossy runs, `INTEROP_HOLD_MS=20` how long a reordered frame
//! may be held back (3 ms by default).

mod link;
mod net;

use link::{Dir, Faults};
use net::{End, Net, Read, Setup};
use smoltcp::iface::SocketHandle as SmolHandle;
use smoltcp::socket::tcp;
use synack::{Event, SocketHandle};
use synack_bench::pattern::Pattern;

const PORT: u16 = 5001;
/// Socket buffers on the smoltcp side (synack keeps its default, 256 KiB).
const SMOL_BUFFER: usize = 256 * 1024;
/// Largest write or read per call.
const CHUNK: usize = 64 * 1024;
const MS: u64 = 1_000_000;
const SEC: u64 = 1_000 * MS;

/// The seeds of a scenario: 1..=n, or the one `INTEROP_SEED` names, or 1..=`INTEROP_SEEDS` (a longer search).
fn seeds(n: u64) -> Vec<u64> {
    if let Ok(s) = std::env::var("INTEROP_SEED") {
        return vec![s.parse().expect("INTEROP_SEED is a number")];
    }
    let n = std::env::var("INTEROP_SEEDS").map_or(n, |s| s.parse().expect("INTEROP_SEEDS is a number"));
    (1..=n).collect()
}

/// The link of `seed`: 1–5 ms one way, and with `lossy` 1–3 % loss plus duplication, reordering and corruption.
/// smoltcp sends timestamps on even seeds (RFC 7323 on both ends; synack always offers them), and on every
/// third seed its MTU is 1000 bytes, so synack must keep to an MSS of 960.
fn setup(seed: u64, lossy: bool) -> Setup {
    let loss =
        std::env::var("INTEROP_LOSS").map_or(0.01 + (seed % 3) as f64 * 0.01, |s| s.parse().expect("a fraction"));
    let mut faults = if lossy { Faults::lossy(loss) } else { Faults::CLEAN };
    if let (true, Ok(ms)) = (lossy, std::env::var("INTEROP_HOLD_MS")) {
        faults.hold_back_ns = ms.parse::<u64>().expect("INTEROP_HOLD_MS is a number") * MS;
    }
    Setup {
        seed,
        delay_ns: (1 + seed % 5) * MS,
        faults: [faults; 2],
        smol_timestamps: seed.is_multiple_of(2),
        smol_mtu: if seed.is_multiple_of(3) { 1000 } else { 1500 },
    }
}

/// smoltcp's socket buffers for `seed`: 256 KiB mostly, 64 KiB (window scale 1) or 16 KiB (no scaling) on some.
fn smol_buffer(seed: u64) -> usize {
    [256 * 1024, 64 * 1024, 256 * 1024, 16 * 1024][(seed % 4) as usize]
}

/// One direction of a conversation: `total` bytes of the pattern (from `offset` in it) from `from` to `to`.
struct Stream {
    from: End,
    to: End,
    total: u64,
    offset: u64,
    /// Start sending only once this stream (by index) reached end of stream: a strict half-close.
    after_eof_of: Option<usize>,
    /// A slow reader: at most this many bytes per this many ns.
    pace: Option<(usize, u64)>,
    next_read: u64,
    sent: u64,
    received: u64,
    shut: bool,
    eof: bool,
}

impl Stream {
    fn new(from: End, to: End, total: u64, offset: u64) -> Stream {
        Stream {
            from,
            to,
            total,
            offset,
            after_eof_of: None,
            pace: None,
            next_read: 0,
            sent: 0,
            received: 0,
            shut: false,
            eof: false,
        }
    }

    fn paced(mut self, bytes: usize, every_ns: u64) -> Stream {
        self.pace = Some((bytes, every_ns));
        self
    }

    fn after_eof_of(mut self, other: usize) -> Stream {
        self.after_eof_of = Some(other);
        self
    }
}

/// Moves every stream's bytes, each end shutting down its sending side once its stream is sent, and reads
/// until every stream reached end of stream, comparing every byte.
fn exchange(net: &mut Net, streams: &mut [Stream], max_ns: u64) {
    let pattern = Pattern::new();
    net.run("exchange", max_ns, |net| {
        for i in 0..streams.len() {
            let ready = streams[i].after_eof_of.is_none_or(|j| streams[j].eof);
            let st = &mut streams[i];
            while ready && st.sent < st.total {
                let len = (st.total - st.sent).min(CHUNK as u64) as usize;
                match net.send(st.from, pattern.slice(st.offset + st.sent, len)) {
                    Ok(0) => break,
                    Ok(n) => st.sent += n as u64,
                    Err(e) => net.fail(&format!("stream {i} at {} of {}: {e}", st.sent, st.total)),
                }
            }
            if ready && st.sent == st.total && !st.shut {
                net.shutdown(st.from);
                st.shut = true;
            }
            let mut budget = match st.pace {
                Some(_) if net.now < st.next_read => 0,
                Some((bytes, every)) => {
                    st.next_read = net.now + every;
                    bytes
                }
                None => usize::MAX,
            };
            while !st.eof && budget > 0 {
                let at = st.offset + st.received;
                let mut bad = None;
                let mut got = 0u64;
                let r = net.recv(st.to, CHUNK.min(budget), |bytes| {
                    if bad.is_none() && !pattern.matches(at + got, bytes) {
                        bad = Some(got);
                    }
                    got += bytes.len() as u64;
                });
                if let Some(off) = bad {
                    net.fail(&format!("stream {i}: bytes differ in the read at offset {}", st.received + off));
                }
                match r {
                    Read::Data(n) => {
                        st.received += n as u64;
                        budget -= n;
                    }
                    Read::Eof if st.received == st.total => st.eof = true,
                    Read::Eof => net.fail(&format!("stream {i}: end of stream after {} of {}", st.received, st.total)),
                    Read::WouldBlock => break,
                    Read::Gone(why) => net.fail(&format!("stream {i} at {} of {}: {why}", st.received, st.total)),
                }
            }
        }
        // A slow reader looks again when its pace allows, even if nothing else happens by then.
        net.wake_at = streams.iter().filter(|s| s.pace.is_some() && !s.eof).map(|s| s.next_read).min();
        streams.iter().all(|s| s.eof && s.shut)
    });
}

/// synack connects to a smoltcp listener, until synack hears `Connected` (smoltcp's end may still wait for the
/// handshake's last ACK, which then rides on the first data if it was lost, as with any application).
///
/// smoltcp's listening socket takes one connection (its documented model: one socket per connection, several
/// listening on a port for a backlog), so a spare listens beside it: a stale duplicate SYN of an earlier
/// connection, held back on the link, may take one of them, as it would take a slot of any listener's backlog.
/// The socket that answers is found by its remote port; listeners a stale SYN took return to LISTEN when
/// synack resets them.
fn synack_opens(net: &mut Net, local_port: Option<u16>, buffer: usize) -> (SocketHandle, SmolHandle) {
    const LISTENERS: usize = 2;
    for (h, state) in net.smol.states() {
        if state == tcp::State::Closed {
            net.smol.sockets.remove(h);
        }
    }
    let listening = net.smol.states().iter().filter(|(_, st)| *st == tcp::State::Listen).count();
    for _ in listening..LISTENERS {
        net.smol_listen(PORT, buffer);
    }
    let c = net.synack_connect(PORT, local_port);
    net.run("handshake", 30 * SEC, |n| n.saw(c, &Event::Connected) || n.saw(c, &Event::Reset));
    if net.saw(c, &Event::Reset) {
        net.fail("smoltcp refused the connection");
    }
    let port = net.synack.tcp_info(c).expect("connected").local.port();
    let ours = net
        .smol
        .states()
        .into_iter()
        .map(|(h, _)| h)
        .find(|&h| net.smol.sockets.get::<tcp::Socket>(h).remote_endpoint().is_some_and(|e| e.port == port));
    (c, ours.unwrap_or_else(|| net.fail("no smoltcp socket holds the connection")))
}

/// smoltcp connects from `local_port` to a synack listener; both ends established.
fn smol_opens(
    net: &mut Net,
    listener: SocketHandle,
    local_port: u16,
    existing: Option<SmolHandle>,
    buffer: usize,
) -> (SmolHandle, SocketHandle) {
    let c = net.smol_connect(PORT, local_port, existing, buffer);
    let mut accepted = None;
    net.run("handshake", 30 * SEC, |n| {
        if accepted.is_none() {
            accepted = n.synack_accept(listener);
        }
        accepted.is_some() && n.smol_state(c) == tcp::State::Established
    });
    (c, accepted.expect("accepted"))
}

/// After both streams ended: synack releases its handle, then both ends must reach CLOSED (through TIME-WAIT,
/// 60 s on synack and 10 s on smoltcp) with synack reporting `Closed`, never a reset or a timeout.
fn both_close(net: &mut Net, c: SocketHandle, s: SmolHandle) {
    net.synack_close(c);
    net.run("close", 120 * SEC, |n| n.synack_state(c).is_none() && n.smol_state(s) == tcp::State::Closed);
    if !net.saw(c, &Event::Closed) {
        net.fail("synack never reported Closed");
    }
    for bad in [Event::Reset, Event::TimedOut { soft_error: None }] {
        if net.saw(c, &bad) {
            net.fail(&format!("synack reported {bad:?}"));
        }
    }
}

/// On a clean link: no frame was sent twice and no reset was sent, by either stack.
fn assert_clean(net: &Net, synack_retransmits: u64) {
    for dir in Dir::BOTH {
        let t = net.tally(dir);
        if t.resets != 0 || t.retransmissions != 0 {
            net.fail(&format!(
                "clean link, yet {dir:?} carried {} RST and {} retransmissions",
                t.resets, t.retransmissions
            ));
        }
    }
    if synack_retransmits != 0 {
        net.fail(&format!("clean link, yet synack counted {synack_retransmits} retransmitted segments"));
    }
}

/// synack's count of retransmitted segments on `c`, while the connection exists.
fn retransmits(net: &Net, c: SocketHandle) -> u64 {
    net.synack.tcp_info(c).map_or(0, |i| i.counters.retransmitted_segments)
}

/// Virtual time a transfer of `bytes` may take: generous on a clean link, more under loss (timeouts back off).
fn bound(bytes: u64, lossy: bool) -> u64 {
    let base = 5 * SEC + bytes / 100_000 * 100 * MS;
    if lossy {
        base * 12
    } else {
        base
    }
}

const BULK: u64 = 1 << 20;

fn bulk_synack_to_smoltcp(seed: u64, lossy: bool) {
    let label = format!("bulk synack->smoltcp seed {seed} lossy {lossy}");
    let mut net = Net::with_config(&label, setup(seed, lossy), |c| Net::synack_variant(seed / 4, c));
    let (c, s) = synack_opens(&mut net, None, smol_buffer(seed));
    let (c, s) = (End::Synack(c), End::Smol(s));
    let mut streams = [Stream::new(c, s, BULK, 0), Stream::new(s, c, 0, 0).after_eof_of(0)];
    exchange(&mut net, &mut streams, bound(BULK, lossy));
    finish(&mut net, c, s, lossy);
}

fn bulk_smoltcp_to_synack(seed: u64, lossy: bool) {
    let label = format!("bulk smoltcp->synack seed {seed} lossy {lossy}");
    let mut net = Net::with_config(&label, setup(seed, lossy), |c| Net::synack_variant(seed / 4, c));
    let l = net.synack_listen(PORT);
    let (s, c) = smol_opens(&mut net, l, 40_000 + seed as u16, None, smol_buffer(seed));
    let (c, s) = (End::Synack(c), End::Smol(s));
    let mut streams = [Stream::new(s, c, BULK, 0), Stream::new(c, s, 0, 0).after_eof_of(0)];
    exchange(&mut net, &mut streams, bound(BULK, lossy));
    finish(&mut net, c, s, lossy);
}

/// The common end of a conversation: clean-link checks, then both ends close.
fn finish(net: &mut Net, c: End, s: End, lossy: bool) {
    let (End::Synack(c), End::Smol(s)) = (c, s) else { unreachable!("synack end first") };
    let rtx = retransmits(net, c);
    both_close(net, c, s);
    if !lossy {
        assert_clean(net, rtx);
    }
    net.finish();
}

#[test]
fn bulk_one_megabyte_synack_to_smoltcp() {
    for seed in seeds(12) {
        bulk_synack_to_smoltcp(seed, false);
        bulk_synack_to_smoltcp(seed, true);
    }
}

#[test]
fn bulk_one_megabyte_smoltcp_to_synack() {
    for seed in seeds(12) {
        bulk_smoltcp_to_synack(seed, false);
        bulk_smoltcp_to_synack(seed, true);
    }
}

/// Both ends send 256 KiB at once and read at once; each shuts down when its bytes are queued, so the FINs
/// cross (a simultaneous close when they pass on the wire).
#[test]
fn both_ways_at_once() {
    const EACH: u64 = 256 * 1024;
    for seed in seeds(12) {
        for lossy in [false, true] {
            let label = format!("both ways seed {seed} lossy {lossy}");
            let mut net = Net::with_config(&label, setup(seed, lossy), |c| Net::synack_variant(seed / 4, c));
            let (c, s) = if seed % 2 == 0 {
                let (c, s) = synack_opens(&mut net, None, smol_buffer(seed));
                (End::Synack(c), End::Smol(s))
            } else {
                let l = net.synack_listen(PORT);
                let (s, c) = smol_opens(&mut net, l, 40_000, None, smol_buffer(seed));
                (End::Synack(c), End::Smol(s))
            };
            let mut streams = [Stream::new(c, s, EACH, 0), Stream::new(s, c, EACH, 7_777)];
            exchange(&mut net, &mut streams, bound(2 * EACH, lossy));
            finish(&mut net, c, s, lossy);
        }
    }
}

/// An echo server on one side: everything the client sends comes back, read while it is still sending.
fn echo(seed: u64, lossy: bool, synack_serves: bool) {
    const TOTAL: u64 = 200_000;
    let label = format!("echo seed {seed} lossy {lossy} synack serves {synack_serves}");
    let mut net = Net::new(&label, setup(seed, lossy));
    let (client, server, c, s) = if synack_serves {
        let l = net.synack_listen(PORT);
        let (s, c) = smol_opens(&mut net, l, 40_000, None, SMOL_BUFFER);
        (End::Smol(s), End::Synack(c), End::Synack(c), End::Smol(s))
    } else {
        let (c, s) = synack_opens(&mut net, None, SMOL_BUFFER);
        (End::Synack(c), End::Smol(s), End::Synack(c), End::Smol(s))
    };
    let pattern = Pattern::new();
    let (mut sent, mut echoed, mut back) = (0u64, 0u64, 0u64);
    let mut pending: Vec<u8> = Vec::new();
    let (mut client_shut, mut server_eof, mut server_shut, mut client_eof) = (false, false, false, false);
    net.run("echo", bound(2 * TOTAL, lossy), |net| {
        while sent < TOTAL {
            let len = (TOTAL - sent).min(CHUNK as u64) as usize;
            match net.send(client, pattern.slice(sent, len)) {
                Ok(0) => break,
                Ok(n) => sent += n as u64,
                Err(e) => net.fail(&e),
            }
        }
        if sent == TOTAL && !client_shut {
            net.shutdown(client);
            client_shut = true;
        }
        // The server reads only what it can echo at once, so it never holds more than one chunk.
        while !server_eof && pending.is_empty() {
            match net.recv(server, CHUNK, |b| pending.extend_from_slice(b)) {
                Read::Data(n) => echoed += n as u64,
                Read::Eof => server_eof = true,
                Read::WouldBlock => break,
                Read::Gone(why) => net.fail(&format!("server at {echoed}: {why}")),
            }
            while !pending.is_empty() {
                match net.send(server, &pending) {
                    Ok(0) => break,
                    Ok(n) => drop(pending.drain(..n)),
                    Err(e) => net.fail(&e),
                }
            }
        }
        while !pending.is_empty() {
            match net.send(server, &pending) {
                Ok(0) => break,
                Ok(n) => drop(pending.drain(..n)),
                Err(e) => net.fail(&e),
            }
        }
        if server_eof && pending.is_empty() && !server_shut {
            net.shutdown(server);
            server_shut = true;
        }
        while !client_eof {
            let mut ok = true;
            let at = back;
            let mut got = 0u64;
            let r = net.recv(client, CHUNK, |b| {
                ok &= pattern.matches(at + got, b);
                got += b.len() as u64;
            });
            if !ok {
                net.fail(&format!("echoed bytes differ near offset {back}"));
            }
            match r {
                Read::Data(n) => back += n as u64,
                Read::Eof if back == TOTAL => client_eof = true,
                Read::Eof => net.fail(&format!("echo ended after {back} of {TOTAL}")),
                Read::WouldBlock => break,
                Read::Gone(why) => net.fail(&format!("client at {back}: {why}")),
            }
        }
        client_eof && server_shut
    });
    finish(&mut net, c, s, lossy);
}

#[test]
fn echo_both_directions() {
    for seed in seeds(12) {
        for lossy in [false, true] {
            echo(seed, lossy, false);
            echo(seed, lossy, true);
        }
    }
}

/// Half-close: one end sends 100 kB and shuts down its sending side; only after reading that end of stream does
/// the other send 300 kB back, which the first keeps reading; then it closes too.
fn half_close(seed: u64, synack_first: bool, lossy: bool) {
    let label = format!("half-close seed {seed} synack first {synack_first} lossy {lossy}");
    let mut net = Net::new(&label, setup(seed, lossy));
    let (c, s) = synack_opens(&mut net, None, SMOL_BUFFER);
    let (c, s) = (End::Synack(c), End::Smol(s));
    let (first, second) = if synack_first { (c, s) } else { (s, c) };
    let mut streams =
        [Stream::new(first, second, 100_000, 0), Stream::new(second, first, 300_000, 4_321).after_eof_of(0)];
    exchange(&mut net, &mut streams, bound(400_000, lossy));
    finish(&mut net, c, s, lossy);
}

#[test]
fn half_close_either_end_first() {
    for seed in seeds(12) {
        for lossy in [false, true] {
            half_close(seed, true, lossy);
            half_close(seed, false, lossy);
        }
    }
}

/// 50 connections one after the other, 2 kB each way, synack connecting from a fresh ephemeral port and closing
/// first each time: its TIME-WAIT connections pile up and must not hold up the next one.
fn many_short_synack_client(seed: u64, lossy: bool) {
    let mut net = Net::new(&format!("many short synack client seed {seed} lossy {lossy}"), setup(seed, lossy));
    for i in 0..50u64 {
        let (c, s) = synack_opens(&mut net, None, 16 * 1024);
        let (c, s) = (End::Synack(c), End::Smol(s));
        let mut streams = [Stream::new(c, s, 2_000, i), Stream::new(s, c, 2_000, 9_000 + i).after_eof_of(0)];
        exchange(&mut net, &mut streams, bound(4_000, lossy));
        let (End::Synack(sock), End::Smol(h)) = (c, s) else { unreachable!() };
        let rtx = retransmits(&net, sock);
        net.synack_close(sock);
        // smoltcp closed passively (LAST-ACK, then CLOSED); synack's end waits in TIME-WAIT meanwhile.
        net.run("passive close", 30 * SEC, |n| n.smol_state(h) == tcp::State::Closed);
        if !lossy {
            assert_clean(&net, rtx);
        }
    }
    // Every connection then leaves TIME-WAIT.
    net.run("TIME-WAIT ends", 120 * SEC, |n| n.synack.tcp_connections().is_empty());
    net.finish();
}

/// 50 connections from smoltcp's same local port to a synack listener, synack closing first each time: every
/// new SYN meets synack's TIME-WAIT connection of the previous one (RFC 6191) and must still get through.
fn many_short_same_port(seed: u64) {
    let mut net = Net::new(&format!("many short same port seed {seed}"), setup(seed, false));
    let l = net.synack_listen(PORT);
    let mut socket = None;
    let mut reused = 0;
    for i in 0..50u64 {
        let start = net.now;
        let (h, sock) = smol_opens(&mut net, l, 40_000, socket, 16 * 1024);
        socket = Some(h);
        let (c, s) = (End::Synack(sock), End::Smol(h));
        let mut streams = [Stream::new(c, s, 2_000, i), Stream::new(s, c, 2_000, 9_000 + i).after_eof_of(0)];
        exchange(&mut net, &mut streams, 10 * SEC);
        net.synack_close(sock);
        net.run("passive close", 30 * SEC, |n| n.smol_state(h) == tcp::State::Closed);
        if net.now - start > 3 * SEC {
            reused += 1;
        }
    }
    assert!(net.synack.stats().tcp_time_wait_reused > 0, "{}: no SYN reused a TIME-WAIT", net.label);
    // A new SYN that TIME-WAIT cannot take costs one SYN timeout of smoltcp (1 s) at most: count how often.
    assert_eq!(reused, 0, "{}: {reused} connections took more than 3 s to open and close", net.label);
    net.finish();
}

#[test]
fn many_short_connections() {
    for seed in seeds(6) {
        many_short_synack_client(seed, false);
        many_short_synack_client(seed, true);
        many_short_same_port(seed);
    }
}

/// A connect to a smoltcp port nobody listens on is refused with RST: synack reports `Reset` and the handle
/// is gone.
#[test]
fn connect_to_closed_port_is_refused() {
    for seed in seeds(12) {
        let mut net = Net::new(&format!("refused seed {seed}"), setup(seed, false));
        let c = net.synack_connect(PORT + 1, None);
        net.run("refusal", 5 * SEC, |n| n.saw(c, &Event::Reset));
        if net.tally(Dir::ToSynack).resets != 1 || net.synack_state(c).is_some() {
            net.fail("expected exactly one RST from smoltcp and the connection gone");
        }
        match net.send(End::Synack(c), b"x") {
            Err(e) if e.contains("NoSuchSocket") => {}
            other => net.fail(&format!("send after refusal: {other:?}")),
        }
        if net.events.iter().any(|(s, e)| *s == c && *e == Event::Connected) {
            net.fail("reported Connected for a refused connect");
        }
        net.finish();
    }
}

/// The receiver reads at most 1 kB every 20 ms from an 8 KiB receive buffer while the sender pushes 60 kB: the
/// window closes again and again, the sender must probe it (persist timer) and the reader's window updates must
/// reopen it, lost or not. Nothing may reset; the bytes arrive intact.
fn slow_reader(seed: u64, synack_reads: bool, lossy: bool) {
    const TOTAL: u64 = 60_000;
    const SMALL: usize = 8 * 1024;
    let label = format!("slow reader seed {seed} synack reads {synack_reads} lossy {lossy}");
    let mut net = Net::with_config(&label, setup(seed, lossy), |c| c.tcp.recv_buffer = SMALL);
    let (c, s) = synack_opens(&mut net, None, SMALL);
    let (c, s) = (End::Synack(c), End::Smol(s));
    let (from, to) = if synack_reads { (s, c) } else { (c, s) };
    let mut streams =
        [Stream::new(from, to, TOTAL, 0).paced(1_000, 20 * MS), Stream::new(to, from, 0, 0).after_eof_of(0)];
    exchange(&mut net, &mut streams, 100 * SEC);
    let (End::Synack(sock), End::Smol(h)) = (c, s) else { unreachable!() };
    both_close(&mut net, sock, h);
    // Window probes repeat bytes by design, so only resets are counted here.
    for dir in Dir::BOTH {
        if !lossy && net.tally(dir).resets != 0 {
            net.fail(&format!("clean link, yet {dir:?} carried a RST"));
        }
    }
    net.finish();
}

#[test]
fn slow_reader_closes_and_reopens_the_window() {
    for seed in seeds(6) {
        for lossy in [false, true] {
            slow_reader(seed, true, lossy);
            slow_reader(seed, false, lossy);
        }
    }
}

/// Request and response, one at a time: the client writes 100 bytes, the server reads them all and answers
/// 1,500 (one full segment and a small one that Nagle holds until the first is acknowledged, while the client may
/// delay that ACK), 100 times. Each turn must take at most two round trips plus one delayed ACK (40 ms, synack's;
/// smoltcp's is 10 ms), so neither side's timers may stall the conversation.
fn request_response(seed: u64, synack_serves: bool) {
    const TURNS: u64 = 100;
    const REQUEST: u64 = 100;
    const RESPONSE: u64 = 1_500;
    let label = format!("request/response seed {seed} synack serves {synack_serves}");
    let mut net = Net::new(&label, setup(seed, false));
    let (client, server, c, s) = if synack_serves {
        let l = net.synack_listen(PORT);
        let (s, c) = smol_opens(&mut net, l, 40_000, None, smol_buffer(seed));
        (End::Smol(s), End::Synack(c), End::Synack(c), End::Smol(s))
    } else {
        let (c, s) = synack_opens(&mut net, None, smol_buffer(seed));
        (End::Synack(c), End::Smol(s), End::Synack(c), End::Smol(s))
    };
    let pattern = Pattern::new();
    let rtt = 2 * net.setup.delay_ns;
    for turn in 0..TURNS {
        let start = net.now;
        let (req_at, resp_at) = (turn * REQUEST, 1_000_000 + turn * RESPONSE);
        let mut streams = [
            Stream::new(client, server, REQUEST, req_at),
            Stream::new(server, client, RESPONSE, resp_at).after_eof_of(0),
        ];
        turn_once(&mut net, &mut streams, &pattern);
        let took = net.now - start;
        if took > 2 * rtt + 45 * MS {
            net.fail(&format!(
                "turn {turn} took {:.1} ms with a {:.1} ms round trip",
                took as f64 / 1e6,
                rtt as f64 / 1e6
            ));
        }
    }
    let rtx = retransmits(
        &net,
        match c {
            End::Synack(h) => h,
            End::Smol(_) => unreachable!(),
        },
    );
    let (End::Synack(ch), End::Smol(sh)) = (c, s) else { unreachable!() };
    net.shutdown(c);
    net.shutdown(s);
    let mut eofs = [false, false];
    net.run("close", 10 * SEC, |n| {
        for (i, end) in [c, s].into_iter().enumerate() {
            if !eofs[i] {
                match n.recv(end, CHUNK, |_| {}) {
                    Read::Eof => eofs[i] = true,
                    Read::WouldBlock => {}
                    other => n.fail(&format!("closing: {other:?}")),
                }
            }
        }
        eofs == [true, true]
    });
    both_close(&mut net, ch, sh);
    assert_clean(&net, rtx);
    net.finish();
}

/// One request/response turn: like [`exchange`] but without end of stream, each stream done when its bytes
/// arrived (the response starts only once the whole request is read).
fn turn_once(net: &mut Net, streams: &mut [Stream; 2], pattern: &Pattern) {
    net.run("turn", 10 * SEC, |net| {
        for i in 0..2 {
            let ready = i == 0 || streams[0].received == streams[0].total;
            let st = &mut streams[i];
            while ready && st.sent < st.total {
                match net.send(st.from, pattern.slice(st.offset + st.sent, (st.total - st.sent) as usize)) {
                    Ok(0) => break,
                    Ok(n) => st.sent += n as u64,
                    Err(e) => net.fail(&e),
                }
            }
            while st.received < st.total {
                let (at, mut got, mut ok) = (st.offset + st.received, 0u64, true);
                let r = net.recv(st.to, (st.total - st.received) as usize, |b| {
                    ok &= pattern.matches(at + got, b);
                    got += b.len() as u64;
                });
                if !ok {
                    net.fail(&format!("stream {i}: bytes differ"));
                }
                match r {
                    Read::Data(n) => st.received += n as u64,
                    Read::WouldBlock => break,
                    other => net.fail(&format!("stream {i}: {other:?}")),
                }
            }
        }
        streams.iter().all(|s| s.received == s.total)
    });
}

#[test]
fn request_response_turns_do_not_stall() {
    for seed in seeds(12) {
        request_response(seed, false);
        request_response(seed, true);
    }
}

/// The other way round: smoltcp connects to a synack port nobody listens on. synack must answer the SYN with a
/// RST that smoltcp accepts (its socket closes at once, no SYN retransmitted), and count the segment.
#[test]
fn synack_refuses_a_connect_to_a_closed_port() {
    for seed in seeds(12) {
        let mut net = Net::new(&format!("synack refuses seed {seed}"), setup(seed, false));
        let h = net.smol_connect(PORT, 40_000, None, 16 * 1024);
        net.run("refusal", 5 * SEC, |n| n.smol_state(h) == tcp::State::Closed);
        let (to_smol, to_synack) = (net.tally(Dir::ToSmol), net.tally(Dir::ToSynack));
        if to_smol.resets != 1 || to_synack.retransmissions != 0 || to_synack.resets != 0 {
            net.fail("expected one RST from synack and no SYN sent twice");
        }
        if net.synack.stats().drops(synack::DropReason::TcpNoSocket) != 1 {
            net.fail("synack did not count the SYN to a closed port");
        }
        net.finish();
    }
}
