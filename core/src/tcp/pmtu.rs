//! Path MTU discovery (RFC 1191): an ICMP "fragmentation needed" names the next hop's MTU; the connection
//! sends smaller segments from then on and resends what the larger ones may have lost.

use super::tcb::{Effects, Tcb};
use crate::config::TcpConfig;
use crate::time::Instant;

impl Tcb {
    /// The path to the peer carries at most `path_mtu` bytes per datagram (already checked to be usable).
    pub(crate) fn on_path_mtu(&mut self, path_mtu: u16, now: Instant, cfg: &TcpConfig, fx: &mut Effects) {
        let headers =
            crate::ip::header_len(self.ends.remote_ip()) + crate::wire::tcp::HEADER_LEN + self.option_overhead();
        let mss = usize::from(path_mtu) - headers;
        if mss >= self.opts.mss() {
            return;
        }
        self.opts.clamp_mss(mss);
        if !self.synchronized() {
            // Only the SYN is out, and it was small enough: the clamp holds when the peer's MSS is taken (as
            // Linux's `tcp_finish_connect` syncs the MSS to the path MTU); nothing is resent or rewound.
            return;
        }
        // Everything in flight was sent in segments too big for the path: send it again, smaller.
        self.snd.rewind(Some(path_mtu));
        self.rtt.cancel_timing();
        self.poll_send(now, cfg, fx);
    }
}
