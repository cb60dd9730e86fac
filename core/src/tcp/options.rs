//! The options a connection sends: what our SYN offers (RFC 9293 MSS, RFC 7323 window scale, RFC 2018
//! SACK-permitted), what a SYN-ACK echoes, and the SACK blocks of later segments when they fit.

use super::segment::{Outgoing, OutgoingKind};
use super::tcb::Tcb;
use super::TcpState;
use crate::wire::{TcpFlags, TcpOptions, TcpRepr};

impl Tcb {
    /// The options of `tx`.
    pub(crate) fn segment_options(&self, tx: &Outgoing) -> TcpOptions {
        let mut options = TcpOptions::default();
        if tx.kind == OutgoingKind::Syn {
            options.mss = Some(self.local_mss as u16);
            // An active open offers what the configuration allows; a SYN-ACK echoes what the peer offered.
            let active = self.state == TcpState::SynSent;
            let wscale = if active { self.offer_wscale } else { self.peer_wants_wscale };
            if wscale {
                options.window_scale = Some(self.rcv_shift);
            }
            options.sack_permitted = if active { self.offer_sack } else { self.sack_ok };
        } else if self.sack_ok && tx.flags.contains(TcpFlags::ACK) && self.recv_buf.has_out_of_order() {
            options.sack_blocks = self.sack_blocks();
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
