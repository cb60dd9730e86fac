//! IPv6 as a host (RFC 8200, RFC 4861, RFC 4862): our addresses, source selection, path MTU, sending and
//! receiving. Until an interface has IPv6 configured, every IPv6 destination is unroutable (as on a Linux host
//! with IPv6 disabled: `ENETUNREACH`).

use crate::api::{CommandError, Output, SocketHandle};
use crate::stack::Stack;
use crate::time::Instant;
use crate::wire::{EcnCodepoint, IpProtocol};
use core::net::{IpAddr, Ipv6Addr};

impl Stack {
    /// Is `ip` one of our IPv6 addresses?
    pub(crate) fn ipv6_is_ours(&self, _ip: Ipv6Addr) -> bool {
        false
    }

    /// Our address toward `dst`.
    pub(crate) fn ipv6_source_for(&self, dst: Ipv6Addr) -> Result<Ipv6Addr, CommandError> {
        Err(CommandError::NoRoute(IpAddr::V6(dst)))
    }

    /// The largest IPv6 packet toward `dst`.
    pub(crate) fn ipv6_path_mtu(&self, _dst: Ipv6Addr) -> usize {
        self.config.mtu
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn send_ipv6(
        &mut self,
        _src: Ipv6Addr,
        dst: Ipv6Addr,
        _protocol: IpProtocol,
        _ecn: EcnCodepoint,
        _payload_len: usize,
        _owner: Option<SocketHandle>,
        _port: Option<u16>,
        _now: Instant,
        _out: &mut Vec<Output>,
        _fill: impl FnOnce(&mut [u8]),
    ) -> Result<(), CommandError> {
        Err(CommandError::NoRoute(IpAddr::V6(dst)))
    }

    /// Sends an ICMPv6 echo request for a ping socket.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn ping6_send(
        &mut self,
        _sock: SocketHandle,
        _ident: u16,
        dst: Ipv6Addr,
        _seq_no: u16,
        _payload_len: usize,
        _now: Instant,
        _out: &mut Vec<Output>,
    ) -> Result<crate::api::Reply, CommandError> {
        Err(CommandError::NoRoute(IpAddr::V6(dst)))
    }
}
