//! Hostile TCP input, named cases, on connections built by hand (see `common/tcp.rs`): each bad segment is
//! dropped under the expected `DropReason`, the connection survives, and the data read stays exact.

mod common;

use common::malformed::*;
use common::tcp::*;
use synack::tcp::TcpState;
use synack::wire;
use synack::{Command, DropReason, Layer, Output, Reply};

/// The passive connection's ports as the peer sends them, and its RCV.NXT / SND.NXT.
fn passive(h: &Harness) -> ((u16, u16), u32, u32) {
    let info = h.stack.tcp_info(PASSIVE).unwrap();
    ((info.remote.port(), info.local.port()), info.rcv_nxt.0, info.snd_nxt.0)
}

fn read(h: &mut Harness) -> Vec<u8> {
    let out = h.command(Command::TcpRecv { sock: PASSIVE, max: 1 << 20 });
    match &out[0] {
        Output::Reply(Ok(Reply::Data(d))) => d.clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn hand_built_connections_carry_exact_data_even_out_of_order() {
    let mut h = tcp_harness(3);
    let (ports, rcv, snd) = passive(&h);
    // The second half first (held out of order), then the first half.
    let second = segment_frame(ports, rcv + 100, snd, ACK, 65535, &[], &payload_at(rcv + 100, 100), None);
    h.frame(&second);
    let first = segment_frame(ports, rcv, snd, ACK | PSH, 65535, &[], &payload_at(rcv, 100), None);
    h.frame(&first);
    assert_eq!(read(&mut h), payload_at(rcv, 200));
    // A retransmission overlapping what was read adds only the new bytes.
    let overlap = segment_frame(ports, rcv + 150, snd, ACK, 65535, &[], &payload_at(rcv + 150, 100), None);
    h.frame(&overlap);
    assert_eq!(read(&mut h), payload_at(rcv + 200, 50));
}

#[test]
fn data_offset_beyond_the_segment_is_truncated() {
    let mut h = tcp_harness(3);
    let (ports, rcv, snd) = passive(&h);
    for words in 6..16u8 {
        let f = segment_frame(ports, rcv, snd, ACK, 65535, &[], &[], Some(words));
        assert_dropped(&mut h, &f, DropReason::Malformed(Layer::Tcp, wire::Error::Truncated));
    }
    assert_eq!(h.stack.tcp_info(PASSIVE).unwrap().state, TcpState::Established);
}

#[test]
fn data_offset_shorter_than_the_options_turns_them_into_data() {
    // With the checksum right, a sender that claims 20 header bytes while writing 12 option bytes really sent
    // 12 bytes of data: the stack takes them as such (that is what the bytes say).
    let mut h = tcp_harness(3);
    let (ports, rcv, snd) = passive(&h);
    let f = segment_frame(ports, rcv, snd, ACK, 65535, &[1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0], &[], Some(5));
    h.tainted = true; // the harness's byte-for-byte check does not apply to these bytes
    h.frame(&f);
    assert_eq!(read(&mut h), vec![1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0]);
}

#[test]
fn in_window_reset_with_the_wrong_sequence_number_is_challenged() {
    let mut h = tcp_harness(3);
    let (ports, rcv, snd) = passive(&h);
    let rst = segment_frame(ports, rcv + 10, 0, RST, 0, &[], &[], None);
    let out = assert_dropped(&mut h, &rst, DropReason::TcpRstChallenged);
    let acks = sent_segments(&out);
    assert_eq!(acks, vec![(ports.1, ports.0, snd, rcv, ACK)], "one challenge ACK: {out:?}");
    assert_eq!(h.stack.tcp_info(PASSIVE).unwrap().state, TcpState::Established);
}

#[test]
fn syn_on_an_established_connection_is_challenged() {
    let mut h = tcp_harness(3);
    let (ports, rcv, snd) = passive(&h);
    let syn = segment_frame(ports, rcv + 5, 0, SYN, 65535, &[], &[], None);
    let out = assert_dropped(&mut h, &syn, DropReason::TcpSynChallenged);
    assert_eq!(sent_segments(&out), vec![(ports.1, ports.0, snd, rcv, ACK)], "{out:?}");
    assert_eq!(h.stack.tcp_info(PASSIVE).unwrap().state, TcpState::Established);
}

#[test]
fn data_far_outside_the_window_is_dropped_and_acknowledged() {
    let mut h = tcp_harness(3);
    let (ports, rcv, snd) = passive(&h);
    for seq in [rcv.wrapping_add(1 << 30), rcv.wrapping_sub(1 << 30), rcv.wrapping_sub(100_000)] {
        let f = segment_frame(ports, seq, snd, ACK, 65535, &[], &payload_at(seq, 10), None);
        let out = assert_dropped(&mut h, &f, DropReason::TcpOutOfWindow);
        assert_eq!(sent_segments(&out), vec![(ports.1, ports.0, snd, rcv, ACK)], "{out:?}");
    }
    let out = h.command(Command::TcpRecv { sock: PASSIVE, max: 100 });
    assert_eq!(out[0], Output::Reply(Err(synack::CommandError::WouldBlock)));
}
