//! The options a connection sends: what our SYN offers (RFC 9293 MSS, RFC 7323 window scale, RFC 2018
//! SACK-permitted), what a SYN-ACK echoes, and the SACK blocks of later segments when they fit.

use super::segment::{Outgoing, OutgoingKind};
use super::tcb::Tcb;
use super::TcpState;
use crate::config::TcpConfig;
use crate::wire::{TcpFlags, TcpOptions, TcpRepr};

/// The options agreed in the handshake, and what our SYN offers.
#[derive(Debug)]
pub(crate) struct Agreed {
    /// Effective send MSS.
    pub mss: usize,
    /// The MSS our own interface allows (what we offered in our SYN), before the peer's option clamps `mss`.
    pub local_mss: usize,
    /// What our SYN offers (an active open; `TcpConfig::window_scaling`, `TcpConfig::sack`).
    pub offer_wscale: bool,
    pub offer_sack: bool,
    /// The peer offered window scaling in its SYN (a SYN-ACK echoes it).
    pub peer_wants_wscale: bool,
    /// Both sides agreed on SACK (RFC 2018).
    pub sack: bool,
}

impl Agreed {
    /// Before the handshake: our interface's MSS, and what the configuration lets us offer.
    pub(crate) fn new(local_mss: usize, cfg: &TcpConfig) -> Agreed {
        Agreed {
            mss: local_mss,
            local_mss,
            offer_wscale: cfg.window_scaling,
            offer_sack: cfg.sack,
            peer_wants_wscale: false,
            sack: false,
        }
    }
}

impl Tcb {
    /// The options of `tx`.
    pub(crate) fn segment_options(&self, tx: &Outgoing) -> TcpOptions {
        let mut options = TcpOptions::default();
        if tx.kind == OutgoingKind::Syn {
            options.mss = Some(self.opts.local_mss as u16);
            // An active open offers what the configuration allows; a SYN-ACK echoes what the peer offered.
            let active = self.state == TcpState::SynSent;
            let wscale = if active { self.opts.offer_wscale } else { self.opts.peer_wants_wscale };
            if wscale {
                options.window_scale = Some(self.rcv.wscale);
            }
            options.sack_permitted = if active { self.opts.offer_sack } else { self.opts.sack };
        } else if self.opts.sack && tx.flags.contains(TcpFlags::ACK) && self.rcv.buf.has_out_of_order() {
            options.sack_blocks = self.rcv.sack_blocks();
        }
        options
    }
}

/// A full-sized data segment has no room for SACK blocks (the MSS leaves none for options, RFC 6691): they are
/// left out, and the next pure ACK carries them.
pub(crate) fn fit_options(repr: &mut TcpRepr<'_>, payload_len: usize, max_ip_payload: usize) {
    if repr.header_len() + payload_len > max_ip_payload {
        repr.options.sack_blocks = Default::default();
    }
}
