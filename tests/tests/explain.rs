//! `Config::explain`: every segment a connection sends is followed by a note saying why, every state change and
//! every drop by one too; the notes are deterministic and the frames are the same with explain on or off.

use std::time::Duration;
use synack::api::TcpState;
use synack::{AckWhy, Command, Config, Note, ResetWhy, Why};
use synack_tests::tcp::{connect, pattern, transfer};
use synack_tests::{Pair, Side, MAC_A, MAC_B};

fn pair(explain: bool) -> Pair {
    let a = Config { mac: MAC_A, ipv4: "10.0.0.1/24".parse().unwrap(), explain, ..Config::default() };
    let b = Config { mac: MAC_B, ipv4: "10.0.0.2/24".parse().unwrap(), seed: 3, explain, ..Config::default() };
    Pair::with_configs(a, b)
}

/// A connection, 200 kB with A's 5th and 9th frames lost, both sides close; returns the pair.
fn lossy_run(explain: bool) -> Pair {
    let mut p = pair(explain);
    p.drop_nth(Side::A, 5);
    p.drop_nth(Side::A, 9);
    let (c, _, s) = connect(&mut p, 80);
    let data = pattern(200_000, 1);
    let t = transfer(&mut p, Side::A, c, s, &data, Duration::from_secs(60));
    assert!(t.eof && t.received == data, "every byte, in order, then the FIN");
    p.command(Side::A, Command::TcpClose { sock: c }).unwrap();
    p.command(Side::B, Command::TcpClose { sock: s }).unwrap();
    p.run_until(p.now + Duration::from_secs(130));
    p
}

fn sent(p: &Pair, side: Side) -> Vec<Why> {
    p.notes
        .iter()
        .filter(|(_, s, _)| *s == side)
        .filter_map(|(_, _, n)| if let Note::Sent(w) = n { Some(*w) } else { None })
        .collect()
}

fn states(p: &Pair, side: Side) -> Vec<(TcpState, TcpState)> {
    p.notes
        .iter()
        .filter(|(_, s, _)| *s == side)
        .filter_map(|(_, _, n)| if let Note::State { from, to, .. } = n { Some((*from, *to)) } else { None })
        .collect()
}

#[test]
fn every_segment_says_why_and_every_state_change_is_told() {
    let p = lossy_run(true);
    let (a, b) = (sent(&p, Side::A), sent(&p, Side::B));
    // One note per TCP frame sent (ARP frames carry none).
    let tcp_frames = |side: Side| p.log.iter().filter(|l| l.from == side && l.line().contains("TCP")).count();
    assert_eq!(a.len(), tcp_frames(Side::A), "{a:?}");
    assert_eq!(b.len(), tcp_frames(Side::B), "{b:?}");
    assert_eq!(a[0], Why::Connect);
    assert_eq!(b[0], Why::SynAck);
    assert_eq!(a[1], Why::Ack(AckWhy::Handshake));
    // The last data rides on the FIN.
    assert!(a.contains(&Why::Data) && (a.contains(&Why::Fin) || a.contains(&Why::DataAndFin)), "{a:?}");
    // Two lost data segments are repaired, by fast retransmit or RACK, and B asked for them at once.
    let repairs = a.iter().filter(|w| matches!(w, Why::FastRetransmit { .. } | Why::LostRetransmit)).count();
    assert!(repairs >= 2, "{a:?}");
    assert!(b.contains(&Why::Ack(AckWhy::OutOfOrder)), "{b:?}");
    assert!(b.contains(&Why::Ack(AckWhy::Fin)), "{b:?}");
    use TcpState::*;
    assert_eq!(
        states(&p, Side::A),
        [
            (Closed, SynSent),
            (SynSent, Established),
            (Established, FinWait1),
            (FinWait1, FinWait2),
            (FinWait2, TimeWait),
            (TimeWait, Closed)
        ]
    );
    assert_eq!(
        states(&p, Side::B),
        [
            (Listen, SynReceived),
            (SynReceived, Established),
            (Established, CloseWait),
            (CloseWait, LastAck),
            (LastAck, Closed)
        ]
    );
    // A note follows its frame: in one stack's outputs a `why` is never first.
    let line = Note::Sent(Why::FastRetransmit { dup_acks: 3 }).to_string();
    assert_eq!(line, "why: fast retransmit (3 dup ACKs)");
}

#[test]
fn notes_are_deterministic_and_change_no_frame() {
    let (on, again, off) = (lossy_run(true), lossy_run(true), lossy_run(false));
    assert_eq!(on.notes, again.notes);
    assert!(off.notes.is_empty());
    let frames = |p: &Pair| p.log.iter().map(|l| (l.at, l.from, l.line())).collect::<Vec<_>>();
    assert_eq!(frames(&on), frames(&off), "explain changes no frame");
}

#[test]
fn a_closed_port_and_a_bad_frame_are_explained() {
    let mut p = pair(true);
    let c = synack_tests::tcp::start_connect(&mut p, Side::A, "10.0.0.2:9".parse().unwrap());
    p.run_until(p.now + Duration::from_millis(50));
    assert!(sent(&p, Side::B).contains(&Why::Reset(ResetWhy::NoSocket { port: 9 })), "{:?}", p.notes);
    let _ = c;
    // A frame for another MAC is dropped, and the drop is told.
    let mut out = Vec::new();
    let mut frame = vec![0u8; 60];
    frame[..6].copy_from_slice(&[2, 0, 0, 0, 0, 0x99]);
    frame[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 0x98]);
    let now = p.now;
    p.b.handle_into(synack::Input::Frame(&frame), now, &mut out);
    assert!(matches!(out.as_slice(), [synack::Output::Note(Note::Dropped(synack::DropReason::NotOurMac))]), "{out:?}");
}

/// The peer's SYN came again because our SYN-ACK was lost: the SYN-ACK that answers it says so. It said "SYN-ACK
/// (SYN for a listener)", as if a new connection were being answered.
#[test]
fn a_syn_ack_for_a_repeated_syn_says_so() {
    use synack_tests::tcp::{accept, listen, start_connect, IP_B};
    let mut p = pair(true);
    p.drop_nth(Side::B, 2); // B's first frame is its ARP reply, the second its SYN-ACK
    let l = listen(&mut p, Side::B, 80);
    start_connect(&mut p, Side::A, std::net::SocketAddr::from((IP_B, 80)));
    p.run_until(p.now + Duration::from_secs(3));
    accept(&mut p, l);
    let b = sent(&p, Side::B);
    assert_eq!(b.first(), Some(&Why::SynAck), "{b:?}");
    assert_eq!(b.get(1), Some(&Why::SynAckForRepeatedSyn), "{b:?}");
}
