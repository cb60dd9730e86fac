//! The options a connection sends: what our SYN offers (RFC 9293 MSS, RFC 7323 window scale and timestamps,
//! RFC 2018 SACK-permitted), what a SYN-ACK echoes, the timestamp on every later segment, and SACK blocks when
//! they fit.

use super::flags::Flags;
use super::segment::{Outgoing, OutgoingKind};
use super::tcb::{peer_mss, Tcb, MAX_WINDOW_SHIFT};
use super::timestamps::TIMESTAMP_OVERHEAD;
use super::TcpState;
use crate::config::TcpConfig;
use crate::time::Instant;
use crate::wire::tcp_options::{sack_blocks_within, sack_option_len, MAX_OPTIONS_LEN};
use crate::wire::{TcpFlags, TcpOptions, TcpRepr};

/// The options agreed in the handshake, and what our SYN offers.
#[derive(Debug)]
pub(crate) struct Agreed {
    /// Payload bytes a full segment carries: the MSS agreed (RFC 6691, no options counted) less the options
    /// every segment carries (timestamps). Both MSS fit 16 bits (the option's size; the MTU is at most 65,535).
    mss: u16,
    /// The MSS our own interface allows (what we offered in our SYN), before the peer's option clamps `mss`.
    local_mss: u16,
    /// `OFFER_WSCALE`, `OFFER_SACK`, `OFFER_TIMESTAMPS`, `PEER_WANTS_WSCALE`, `SACK`: one byte for five flags.
    flags: Flags,
}

/// What our SYN offers (an active open; `TcpConfig::window_scaling`, `sack`, `timestamps`).
const OFFER_WSCALE: u8 = 1;
const OFFER_SACK: u8 = 1 << 1;
const OFFER_TIMESTAMPS: u8 = 1 << 2;
/// The peer offered window scaling in its SYN (a SYN-ACK echoes it).
const PEER_WANTS_WSCALE: u8 = 1 << 3;
/// Both sides agreed on SACK (RFC 2018).
const SACK: u8 = 1 << 4;

impl Agreed {
    /// Before the handshake: our interface's MSS, and what the configuration lets us offer.
    pub(crate) fn new(local_mss: usize, cfg: &TcpConfig) -> Agreed {
        let local_mss = to_u16(local_mss);
        let mut flags = Flags::NONE;
        flags.set(OFFER_WSCALE, cfg.window_scaling);
        flags.set(OFFER_SACK, cfg.sack);
        flags.set(OFFER_TIMESTAMPS, cfg.timestamps);
        Agreed { mss: local_mss, local_mss, flags }
    }

    pub(crate) fn mss(&self) -> usize {
        usize::from(self.mss)
    }
    pub(crate) fn local_mss(&self) -> usize {
        usize::from(self.local_mss)
    }
    pub(crate) fn sack(&self) -> bool {
        self.flags.has(SACK)
    }

    /// Forgets what a peer's SYN said (a crossed SYN turned out bogus).
    pub(crate) fn forget_peer(&mut self) {
        self.mss = self.local_mss;
        self.flags.set(PEER_WANTS_WSCALE, false);
        self.flags.set(SACK, false);
    }

    /// The path allows only `mss` (RFC 1191): never above what the peer and our interface allow.
    pub(crate) fn clamp_mss(&mut self, mss: usize) {
        self.mss = self.mss.min(to_u16(mss));
    }

    /// Every data segment carries `bytes` of options (timestamps): a segment's payload is that much less.
    fn reserve_for_options(&mut self, bytes: usize) {
        self.mss = self.mss.saturating_sub(to_u16(bytes)).max(64);
    }
}

/// A size in bytes as an MSS field: sizes past 16 bits saturate (no MSS can be that large).
fn to_u16(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

impl Tcb {
    /// Applies the peer's SYN options (RFC 6691 MSS, RFC 7323 window scale and timestamps, RFC 2018
    /// SACK-permitted), received at `now`. `mtu_mss` is what our interface allows.
    pub(crate) fn take_syn_options(&mut self, syn: &TcpRepr<'_>, mtu_mss: usize, cfg: &TcpConfig, now: Instant) {
        self.opts.flags.set(SACK, cfg.sack && syn.options.sack_permitted);
        let peer_mss = peer_mss(syn.options.mss, self.ends.remote_ip());
        self.opts.mss = to_u16(peer_mss.min(mtu_mss).max(64));
        self.ts.negotiate(cfg.timestamps, syn.options.timestamp, self.rcv.nxt(), now);
        if self.ts.enabled() {
            // RFC 6691: the MSS counts no options; ours take 12 bytes of every segment.
            self.opts.reserve_for_options(TIMESTAMP_OVERHEAD);
        }
        self.restart_congestion();
        match syn.options.window_scale {
            Some(shift) if cfg.window_scaling => {
                self.opts.flags.set(PEER_WANTS_WSCALE, true);
                self.snd.set_peer_wscale(shift.min(MAX_WINDOW_SHIFT));
            }
            _ => {
                self.opts.flags.set(PEER_WANTS_WSCALE, false);
                self.snd.set_peer_wscale(0);
                self.rcv.set_wscale(0);
            }
        }
    }

    /// Writes the options of `tx`, sent at `now` in a frame whose IP payload may be at most `max_ip_payload`
    /// bytes, into `options` (empty on entry). SACK blocks go in as far as the segment has room for them
    /// ([`sack_blocks_fitting`]); a pending D-SACK goes out with the first of them. Written in place: a returned
    /// `TcpOptions` was copied out just after being written.
    pub(crate) fn segment_options(
        &mut self,
        tx: &Outgoing,
        max_ip_payload: usize,
        now: Instant,
        options: &mut TcpOptions,
    ) {
        if self.ts.enabled() && !tx.flags.contains(TcpFlags::RST) {
            options.timestamp = Some(self.ts.option(now));
        }
        if tx.kind == OutgoingKind::Syn {
            options.mss = Some(self.opts.local_mss);
            // An active open offers what the configuration allows; a SYN-ACK echoes what the peer offered.
            let active = self.state == TcpState::SynSent;
            if active && self.opts.flags.has(OFFER_TIMESTAMPS) {
                options.timestamp = Some((self.ts.value(now), 0));
            }
            let wscale = self.opts.flags.has(if active { OFFER_WSCALE } else { PEER_WANTS_WSCALE });
            if wscale {
                options.window_scale = Some(self.rcv.wscale());
            }
            options.sack_permitted = self.opts.flags.has(if active { OFFER_SACK } else { SACK });
        } else if self.opts.sack() && tx.flags.contains(TcpFlags::ACK) && self.rcv.has_sack_news() {
            let (mss, reserved) = (self.opts.mss(), self.option_overhead());
            let limit = sack_blocks_fitting(options.len(), tx.len, max_ip_payload, mss, reserved);
            options.sack_blocks = self.rcv.take_sack_blocks(limit);
        }
    }

    /// Bytes of SACK option an ACK sent now owes the peer (none without SACK news).
    fn owed_sack_option_len(&self) -> usize {
        if !self.opts.sack() || !self.rcv.has_sack_news() {
            return 0;
        }
        let room = MAX_OPTIONS_LEN - self.option_overhead();
        sack_option_len(self.rcv.sack_blocks_owed().min(sack_blocks_within(room)))
    }

    /// Payload bytes a data segment sent now may carry: the MSS, less the SACK blocks it has to carry while
    /// out-of-order data is held or a D-SACK is owed, as Linux's `tcp_current_mss`: otherwise every ACK riding
    /// on a full-sized segment of a two-way transfer would leave them out, and the peer would recover from
    /// losses without them. Not below half the MSS (a tiny MSS keeps its payload and sends fewer blocks).
    pub(crate) fn send_mss(&self) -> usize {
        let (mss, sack) = (self.opts.mss(), self.owed_sack_option_len());
        if sack == 0 || sack > mss / 2 {
            mss
        } else {
            mss - sack
        }
    }
}

/// How many SACK blocks fit in a segment whose options without them take `options_len` bytes and whose payload
/// is `payload_len` bytes. A full-sized data segment has no room for them (the MSS leaves none for options,
/// RFC 6691): [`Tcb::send_mss`] cuts data segments short while blocks are owed, so this only leaves blocks out
/// when the receive side changed after a segment was cut (the next ACK carries them).
///
/// Room is what both limits leave: our frame (`max_ip_payload`) and the peer's MSS (`mss`, the payload of a
/// segment whose options are only the `reserved` bytes every segment carries). The peer's MSS may be the smaller
/// one: options beyond `reserved` then count against it (RFC 9293 §3.7.1), or the segment would outgrow the
/// peer's MTU while fitting ours. A segment of several MSS (segmentation offload) is cut into MSS-sized pieces
/// that each repeat the options, so none of them has room either.
pub(crate) fn sack_blocks_fitting(
    options_len: usize,
    payload_len: usize,
    max_ip_payload: usize,
    mss: usize,
    reserved: usize,
) -> usize {
    let header = crate::wire::tcp::HEADER_LEN + options_len;
    let by_frame = max_ip_payload.saturating_sub(header + payload_len);
    let by_mss = mss.saturating_sub(payload_len.min(mss) + options_len.saturating_sub(reserved));
    let by_header = MAX_OPTIONS_LEN.saturating_sub(options_len);
    sack_blocks_within(by_frame.min(by_mss).min(by_header))
}

#[cfg(test)]
mod tests {
    use super::sack_blocks_fitting;

    /// With timestamps (12 bytes of options on every segment, counted in the MSS of 1448 payload bytes) in a
    /// 1500-byte MTU: a full segment has no room, one 12 bytes short has room for one block, a pure ACK for
    /// three (40 bytes of options at most); without timestamps a pure ACK carries four.
    #[test]
    fn blocks_fit_what_the_segment_leaves() {
        let (ts, mss_ts, ip) = (12, 1448, 1480);
        assert_eq!(sack_blocks_fitting(ts, mss_ts, ip, mss_ts, ts), 0);
        assert_eq!(sack_blocks_fitting(ts, mss_ts - 11, ip, mss_ts, ts), 0);
        assert_eq!(sack_blocks_fitting(ts, mss_ts - 12, ip, mss_ts, ts), 1);
        assert_eq!(sack_blocks_fitting(ts, mss_ts - 20, ip, mss_ts, ts), 2);
        assert_eq!(sack_blocks_fitting(ts, 0, ip, mss_ts, ts), 3);
        assert_eq!(sack_blocks_fitting(0, 0, ip, 1460, 0), 4);
        // Several MSS for segmentation offload: every piece repeats the options, none has room.
        assert_eq!(sack_blocks_fitting(ts, 4 * mss_ts, 65_000, mss_ts, ts), 0);
        // Our frame is the tighter limit (a peer MSS larger than our MTU allows).
        assert_eq!(sack_blocks_fitting(ts, 1400, 1400 + 20 + ts + 12, 9000, ts), 1);
    }
}
