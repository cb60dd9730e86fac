//! DHCP messages (RFC 2131 §2, options of RFC 2132): the BOOTP header, the magic cookie and the options a
//! client needs.
//!
//! Parsing reads the fixed header and walks the options once, bounded by the buffer: every option's length is
//! checked against what is left, each known option against the length its kind needs, so no input can make it
//! read out of bounds or loop. Options we do not use are skipped; the `sname`/`file` fields are never read
//! as options (option overload, RFC 2132 §9.3, is ignored: every option a client needs fits the options field).

use super::{Error, EthernetAddress, Result};
use core::net::Ipv4Addr;

/// The port a DHCP server listens on.
pub const SERVER_PORT: u16 = 67;
/// The port a DHCP client listens on.
pub const CLIENT_PORT: u16 = 68;
/// The fixed BOOTP header: op .. file, before the magic cookie.
const FIXED_LEN: usize = 236;
/// RFC 2131 §3: the four bytes that say the options are DHCP options.
const MAGIC_COOKIE: [u8; 4] = [99, 130, 83, 99];
/// Where the options start.
const OPTIONS_START: usize = FIXED_LEN + MAGIC_COOKIE.len();
/// RFC 1542 §3.2.1: a BOOTP message is at least 300 bytes; shorter ones are padded (some relays drop them).
const MIN_MESSAGE_LEN: usize = 300;
/// Most DNS servers a parsed message keeps (the rest are ignored).
pub const MAX_DNS_SERVERS: usize = 4;

mod field {
    use core::ops::Range;
    pub const OP: usize = 0;
    pub const HTYPE: usize = 1;
    pub const HLEN: usize = 2;
    pub const XID: Range<usize> = 4..8;
    pub const SECS: Range<usize> = 8..10;
    pub const FLAGS: Range<usize> = 10..12;
    pub const CIADDR: Range<usize> = 12..16;
    pub const YIADDR: Range<usize> = 16..20;
    pub const SIADDR: Range<usize> = 20..24;
    pub const GIADDR: Range<usize> = 24..28;
    pub const CHADDR: Range<usize> = 28..34;
    pub const COOKIE: Range<usize> = 236..240;
}

/// Option codes (RFC 2132).
mod opt {
    pub const PAD: u8 = 0;
    pub const SUBNET_MASK: u8 = 1;
    pub const ROUTER: u8 = 3;
    pub const DNS: u8 = 6;
    pub const HOSTNAME: u8 = 12;
    pub const REQUESTED_IP: u8 = 50;
    pub const LEASE_TIME: u8 = 51;
    pub const MESSAGE_TYPE: u8 = 53;
    pub const SERVER_ID: u8 = 54;
    pub const PARAMETER_REQUEST: u8 = 55;
    pub const MAX_MESSAGE_SIZE: u8 = 57;
    pub const RENEWAL_TIME: u8 = 58;
    pub const REBINDING_TIME: u8 = 59;
    pub const CLIENT_ID: u8 = 61;
    pub const END: u8 = 255;
}

/// BOOTP `op`: who sends the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DhcpOp {
    /// From a client (BOOTREQUEST).
    Request,
    /// From a server (BOOTREPLY).
    Reply,
}

/// Option 53, the DHCP message type (RFC 2132 §9.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DhcpMessageType {
    Discover,
    Offer,
    Request,
    Decline,
    Ack,
    Nak,
    Release,
    Inform,
}

impl DhcpMessageType {
    fn from_code(code: u8) -> Option<Self> {
        use DhcpMessageType::*;
        Some(match code {
            1 => Discover,
            2 => Offer,
            3 => Request,
            4 => Decline,
            5 => Ack,
            6 => Nak,
            7 => Release,
            8 => Inform,
            _ => return None,
        })
    }

    fn code(self) -> u8 {
        use DhcpMessageType::*;
        match self {
            Discover => 1,
            Offer => 2,
            Request => 3,
            Decline => 4,
            Ack => 5,
            Nak => 6,
            Release => 7,
            Inform => 8,
        }
    }

    /// The name RFC 2131 uses, e.g. `DHCPOFFER`.
    pub fn name(self) -> &'static str {
        use DhcpMessageType::*;
        match self {
            Discover => "DHCPDISCOVER",
            Offer => "DHCPOFFER",
            Request => "DHCPREQUEST",
            Decline => "DHCPDECLINE",
            Ack => "DHCPACK",
            Nak => "DHCPNAK",
            Release => "DHCPRELEASE",
            Inform => "DHCPINFORM",
        }
    }
}

/// A DHCP message over Ethernet, as a client sends and reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DhcpRepr {
    pub op: DhcpOp,
    pub message_type: DhcpMessageType,
    /// Transaction id: the client picks it, the server echoes it.
    pub xid: u32,
    /// Seconds since the client began acquiring or renewing.
    pub secs: u16,
    /// The client asks the server to broadcast its answer (it cannot receive unicast before it has an address).
    pub broadcast: bool,
    /// The client's hardware address (`chaddr`, Ethernet only).
    pub client_hw: EthernetAddress,
    /// The client's address when it already has one (renewing, rebinding).
    pub ciaddr: Ipv4Addr,
    /// The address the server offers or assigns ("your" address).
    pub yiaddr: Ipv4Addr,
    pub siaddr: Ipv4Addr,
    pub giaddr: Ipv4Addr,
    /// Option 54: which server sent it / which server's offer the client takes.
    pub server_id: Option<Ipv4Addr>,
    /// Option 50: the address a client asks for.
    pub requested_ip: Option<Ipv4Addr>,
    /// Option 1.
    pub subnet_mask: Option<Ipv4Addr>,
    /// Option 3: the first router listed.
    pub router: Option<Ipv4Addr>,
    /// Option 6: up to [`MAX_DNS_SERVERS`] name servers, in the server's order.
    pub dns_servers: Vec<Ipv4Addr>,
    /// Option 51, seconds (`u32::MAX` is "infinite").
    pub lease_time: Option<u32>,
    /// Option 58 (T1), seconds.
    pub renewal_time: Option<u32>,
    /// Option 59 (T2), seconds.
    pub rebinding_time: Option<u32>,
    /// Option 55: the options a client asks for (emitted only; a parsed message leaves it empty).
    pub parameter_request: Vec<u8>,
    /// Option 57: the largest message the client accepts (emitted only).
    pub max_message_size: Option<u16>,
    /// Option 61: the client identifier (type 1, Ethernet, and `client_hw`) is sent with every client message.
    pub client_id: bool,
    /// Option 12: the client's host name (emitted only).
    pub hostname: Option<String>,
}

impl DhcpRepr {
    /// A client message with every optional field empty.
    pub fn client(message_type: DhcpMessageType, xid: u32, client_hw: EthernetAddress) -> DhcpRepr {
        DhcpRepr {
            op: DhcpOp::Request,
            message_type,
            xid,
            secs: 0,
            broadcast: false,
            client_hw,
            ciaddr: Ipv4Addr::UNSPECIFIED,
            yiaddr: Ipv4Addr::UNSPECIFIED,
            siaddr: Ipv4Addr::UNSPECIFIED,
            giaddr: Ipv4Addr::UNSPECIFIED,
            server_id: None,
            requested_ip: None,
            subnet_mask: None,
            router: None,
            dns_servers: Vec::new(),
            lease_time: None,
            renewal_time: None,
            rebinding_time: None,
            parameter_request: Vec::new(),
            max_message_size: None,
            client_id: false,
            hostname: None,
        }
    }

    /// Parses a DHCP message (a UDP payload). `Truncated` if shorter than the fixed header and cookie or if an
    /// option runs past the end; `BadField` for a wrong cookie, op, hardware type or a message without option
    /// 53; `BadOption` for a known option with the wrong length or value; `Unsupported` for non-Ethernet
    /// hardware.
    pub fn parse(bytes: &[u8]) -> Result<DhcpRepr> {
        if bytes.len() < OPTIONS_START {
            return Err(Error::Truncated);
        }
        if bytes[field::COOKIE] != MAGIC_COOKIE {
            return Err(Error::BadField);
        }
        let op = match bytes[field::OP] {
            1 => DhcpOp::Request,
            2 => DhcpOp::Reply,
            _ => return Err(Error::BadField),
        };
        if bytes[field::HTYPE] != 1 || bytes[field::HLEN] != 6 {
            return Err(Error::Unsupported);
        }
        let addr = |r: core::ops::Range<usize>| {
            Ipv4Addr::new(bytes[r.start], bytes[r.start + 1], bytes[r.start + 2], bytes[r.start + 3])
        };
        let mut hw = [0u8; 6];
        hw.copy_from_slice(&bytes[field::CHADDR]);
        let mut repr =
            DhcpRepr::client(DhcpMessageType::Discover, u32_at(bytes, field::XID.start), EthernetAddress(hw));
        repr.op = op;
        repr.secs = u16::from_be_bytes([bytes[field::SECS.start], bytes[field::SECS.start + 1]]);
        repr.broadcast = bytes[field::FLAGS.start] & 0x80 != 0;
        repr.ciaddr = addr(field::CIADDR);
        repr.yiaddr = addr(field::YIADDR);
        repr.siaddr = addr(field::SIADDR);
        repr.giaddr = addr(field::GIADDR);
        let mut message_type = None;
        let mut at = OPTIONS_START;
        while at < bytes.len() {
            let code = bytes[at];
            if code == opt::PAD {
                at += 1;
                continue;
            }
            if code == opt::END {
                break;
            }
            let len = usize::from(*bytes.get(at + 1).ok_or(Error::Truncated)?);
            let data = bytes.get(at + 2..at + 2 + len).ok_or(Error::Truncated)?;
            at += 2 + len;
            // The first occurrence of an option counts (RFC 3396's concatenation of long options is not needed
            // for anything a client reads).
            match code {
                opt::MESSAGE_TYPE if message_type.is_none() => {
                    let [t] = data else { return Err(Error::BadOption) };
                    message_type = Some(DhcpMessageType::from_code(*t).ok_or(Error::BadOption)?);
                }
                opt::SERVER_ID if repr.server_id.is_none() => repr.server_id = Some(one_addr(data)?),
                opt::REQUESTED_IP if repr.requested_ip.is_none() => repr.requested_ip = Some(one_addr(data)?),
                opt::SUBNET_MASK if repr.subnet_mask.is_none() => repr.subnet_mask = Some(one_addr(data)?),
                opt::ROUTER if repr.router.is_none() => {
                    repr.router = Some(addr_list(data)?.next().ok_or(Error::BadOption)?)
                }
                opt::DNS if repr.dns_servers.is_empty() => {
                    repr.dns_servers = addr_list(data)?.take(MAX_DNS_SERVERS).collect();
                }
                opt::LEASE_TIME if repr.lease_time.is_none() => repr.lease_time = Some(one_u32(data)?),
                opt::RENEWAL_TIME if repr.renewal_time.is_none() => repr.renewal_time = Some(one_u32(data)?),
                opt::REBINDING_TIME if repr.rebinding_time.is_none() => repr.rebinding_time = Some(one_u32(data)?),
                _ => {}
            }
        }
        repr.message_type = message_type.ok_or(Error::BadField)?;
        Ok(repr)
    }

    /// Bytes [`emit`](Self::emit) writes: the header, cookie and options, padded to 300 bytes.
    pub fn buffer_len(&self) -> usize {
        (OPTIONS_START + self.options_len()).max(MIN_MESSAGE_LEN)
    }

    fn options_len(&self) -> usize {
        let addr = |a: Option<Ipv4Addr>| if a.is_some() { 6 } else { 0 };
        let word = |w: Option<u32>| if w.is_some() { 6 } else { 0 };
        let list = |n: usize| if n > 0 { 2 + n } else { 0 };
        3 + addr(self.server_id)
            + addr(self.requested_ip)
            + addr(self.subnet_mask)
            + addr(self.router)
            + list(4 * self.dns_servers.len().min(MAX_DNS_SERVERS))
            + word(self.lease_time)
            + word(self.renewal_time)
            + word(self.rebinding_time)
            + list(self.parameter_request.len().min(255))
            + if self.max_message_size.is_some() { 4 } else { 0 }
            + if self.client_id { 9 } else { 0 }
            + list(self.hostname.as_ref().map_or(0, |h| h.len().min(255)))
            + 1
    }

    /// Writes the message into `buf`, which must hold [`buffer_len`](Self::buffer_len) bytes.
    pub fn emit(&self, buf: &mut [u8]) {
        let len = self.buffer_len();
        let buf = &mut buf[..len];
        buf.fill(0);
        buf[field::OP] = match self.op {
            DhcpOp::Request => 1,
            DhcpOp::Reply => 2,
        };
        buf[field::HTYPE] = 1;
        buf[field::HLEN] = 6;
        buf[field::XID].copy_from_slice(&self.xid.to_be_bytes());
        buf[field::SECS].copy_from_slice(&self.secs.to_be_bytes());
        buf[field::FLAGS].copy_from_slice(&(if self.broadcast { 0x8000u16 } else { 0 }).to_be_bytes());
        buf[field::CIADDR].copy_from_slice(&self.ciaddr.octets());
        buf[field::YIADDR].copy_from_slice(&self.yiaddr.octets());
        buf[field::SIADDR].copy_from_slice(&self.siaddr.octets());
        buf[field::GIADDR].copy_from_slice(&self.giaddr.octets());
        buf[field::CHADDR].copy_from_slice(&self.client_hw.0);
        buf[field::COOKIE].copy_from_slice(&MAGIC_COOKIE);
        let mut w = OptionWriter { buf, at: OPTIONS_START };
        w.put(opt::MESSAGE_TYPE, &[self.message_type.code()]);
        if self.client_id {
            let mut id = [1u8; 7];
            id[1..].copy_from_slice(&self.client_hw.0);
            w.put(opt::CLIENT_ID, &id);
        }
        if let Some(size) = self.max_message_size {
            w.put(opt::MAX_MESSAGE_SIZE, &size.to_be_bytes());
        }
        for (code, a) in [
            (opt::SERVER_ID, self.server_id),
            (opt::REQUESTED_IP, self.requested_ip),
            (opt::SUBNET_MASK, self.subnet_mask),
            (opt::ROUTER, self.router),
        ] {
            if let Some(a) = a {
                w.put(code, &a.octets());
            }
        }
        if !self.dns_servers.is_empty() {
            let list: Vec<u8> = self.dns_servers.iter().take(MAX_DNS_SERVERS).flat_map(|a| a.octets()).collect();
            w.put(opt::DNS, &list);
        }
        for (code, v) in [
            (opt::LEASE_TIME, self.lease_time),
            (opt::RENEWAL_TIME, self.renewal_time),
            (opt::REBINDING_TIME, self.rebinding_time),
        ] {
            if let Some(v) = v {
                w.put(code, &v.to_be_bytes());
            }
        }
        if !self.parameter_request.is_empty() {
            let n = self.parameter_request.len().min(255);
            w.put(opt::PARAMETER_REQUEST, &self.parameter_request[..n]);
        }
        if let Some(h) = &self.hostname {
            if !h.is_empty() {
                let n = h.len().min(255);
                w.put(opt::HOSTNAME, &h.as_bytes()[..n]);
            }
        }
        w.buf[w.at] = opt::END;
    }
}

/// Appends options at `at`.
struct OptionWriter<'a> {
    buf: &'a mut [u8],
    at: usize,
}

impl OptionWriter<'_> {
    fn put(&mut self, code: u8, data: &[u8]) {
        self.buf[self.at] = code;
        self.buf[self.at + 1] = data.len() as u8;
        self.buf[self.at + 2..self.at + 2 + data.len()].copy_from_slice(data);
        self.at += 2 + data.len();
    }
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn one_addr(data: &[u8]) -> Result<Ipv4Addr> {
    match data {
        [a, b, c, d] => Ok(Ipv4Addr::new(*a, *b, *c, *d)),
        _ => Err(Error::BadOption),
    }
}

fn one_u32(data: &[u8]) -> Result<u32> {
    match data {
        [a, b, c, d] => Ok(u32::from_be_bytes([*a, *b, *c, *d])),
        _ => Err(Error::BadOption),
    }
}

/// A list of addresses: a non-zero multiple of four bytes.
fn addr_list(data: &[u8]) -> Result<impl Iterator<Item = Ipv4Addr> + '_> {
    if data.is_empty() || data.len() % 4 != 0 {
        return Err(Error::BadOption);
    }
    Ok(data.chunks_exact(4).map(|c| Ipv4Addr::new(c[0], c[1], c[2], c[3])))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x33]);

    fn offer() -> DhcpRepr {
        DhcpRepr {
            op: DhcpOp::Reply,
            yiaddr: Ipv4Addr::new(10, 0, 0, 50),
            server_id: Some(Ipv4Addr::new(10, 0, 0, 1)),
            subnet_mask: Some(Ipv4Addr::new(255, 255, 255, 0)),
            router: Some(Ipv4Addr::new(10, 0, 0, 1)),
            dns_servers: vec![Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2)],
            lease_time: Some(120),
            renewal_time: Some(60),
            rebinding_time: Some(105),
            broadcast: true,
            ..DhcpRepr::client(DhcpMessageType::Offer, 0xdead_beef, MAC)
        }
    }

    fn bytes_of(repr: &DhcpRepr) -> Vec<u8> {
        let mut buf = vec![0u8; repr.buffer_len()];
        repr.emit(&mut buf);
        buf
    }

    #[test]
    fn a_server_message_round_trips() {
        let repr = offer();
        let buf = bytes_of(&repr);
        assert_eq!(buf.len(), 300, "padded to the BOOTP minimum");
        assert_eq!(DhcpRepr::parse(&buf), Ok(repr));
    }

    #[test]
    fn a_client_message_carries_its_options() {
        let repr = DhcpRepr {
            requested_ip: Some(Ipv4Addr::new(10, 0, 0, 50)),
            parameter_request: vec![1, 3, 6, 51, 58, 59],
            max_message_size: Some(1500),
            client_id: true,
            hostname: Some("synack".into()),
            ..DhcpRepr::client(DhcpMessageType::Request, 7, MAC)
        };
        let buf = bytes_of(&repr);
        let parsed = DhcpRepr::parse(&buf).unwrap();
        assert_eq!(parsed.message_type, DhcpMessageType::Request);
        assert_eq!(parsed.requested_ip, repr.requested_ip);
        assert_eq!(parsed.op, DhcpOp::Request);
        let opts = &buf[OPTIONS_START..];
        assert_eq!(&opts[..3], &[53, 1, 3]);
        assert_eq!(&opts[3..12], &[61, 7, 1, 2, 0, 0, 0, 0, 0x33]);
    }

    #[test]
    fn malformed_messages_are_refused_with_a_reason() {
        let good = bytes_of(&offer());
        assert_eq!(DhcpRepr::parse(&good[..239]), Err(Error::Truncated));
        let mut bad = good.clone();
        bad[236] = 0;
        assert_eq!(DhcpRepr::parse(&bad), Err(Error::BadField), "cookie");
        let mut bad = good.clone();
        bad[0] = 3;
        assert_eq!(DhcpRepr::parse(&bad), Err(Error::BadField), "op");
        let mut bad = good.clone();
        bad[1] = 6;
        assert_eq!(DhcpRepr::parse(&bad), Err(Error::Unsupported), "token ring");
        // An option whose length runs past the end.
        let mut bad = good[..OPTIONS_START].to_vec();
        bad.extend_from_slice(&[53, 1, 2, 51, 200, 0, 0]);
        assert_eq!(DhcpRepr::parse(&bad), Err(Error::Truncated));
        // A lease time of three bytes, an empty router list, an unknown message type.
        for opts in [&[53, 1, 2, 51, 3, 0, 0, 1, 255][..], &[53, 1, 2, 3, 0, 255], &[53, 1, 99, 255]] {
            let mut bad = good[..OPTIONS_START].to_vec();
            bad.extend_from_slice(opts);
            assert_eq!(DhcpRepr::parse(&bad), Err(Error::BadOption), "{opts:?}");
        }
        // No message type: a BOOTP message, not DHCP.
        let mut bad = good[..OPTIONS_START].to_vec();
        bad.extend_from_slice(&[1, 4, 255, 255, 255, 0, 255]);
        assert_eq!(DhcpRepr::parse(&bad), Err(Error::BadField));
    }

    #[test]
    fn pads_unknown_options_and_repeats_are_skipped_and_the_first_wins() {
        let good = bytes_of(&offer());
        let mut msg = good[..OPTIONS_START].to_vec();
        msg.extend_from_slice(&[0, 0, 53, 1, 5, 200, 2, 9, 9, 51, 4, 0, 0, 0, 30, 51, 4, 0, 0, 0, 99, 255, 1, 2]);
        let parsed = DhcpRepr::parse(&msg).unwrap();
        assert_eq!(parsed.message_type, DhcpMessageType::Ack);
        assert_eq!(parsed.lease_time, Some(30));
        // Options end at the buffer's end even without END.
        msg.truncate(msg.len() - 3);
        assert!(DhcpRepr::parse(&msg).is_ok());
    }

    proptest! {
        #[test]
        fn parsing_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = DhcpRepr::parse(&bytes);
        }

        #[test]
        fn parsing_mutated_messages_never_panics(flips in proptest::collection::vec((0usize..300, any::<u8>()), 1..20)) {
            let mut buf = bytes_of(&offer());
            for (at, v) in flips {
                buf[at] = v;
            }
            if let Ok(r) = DhcpRepr::parse(&buf) {
                // Whatever parses re-emits into something that parses the same.
                let again = bytes_of(&r);
                prop_assert_eq!(DhcpRepr::parse(&again).map(|p| p.lease_time), Ok(r.lease_time));
            }
        }
    }
}
