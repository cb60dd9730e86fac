//! Wire formats: for each protocol a zero-copy view over bytes (`…Packet<T>` / `…Frame<T>`, checked once by
//! `new_checked`) and a plain `…Repr` that parses from and emits into a view.
//!
//! Parsing never panics: any malformed input yields a typed [`Error`].

pub mod arp;
pub mod checksum;
pub mod dhcp;
pub mod dns;
pub mod ethernet;
pub mod icmpv4;
pub mod icmpv6;
pub mod ipv4;
pub mod ipv4_echo_options;
pub mod ipv6;
pub mod ndp;
pub mod pretty;
pub mod tcp;
pub mod tcp_options;
pub mod udp;

pub use arp::{ArpOperation, ArpPacket, ArpRepr};
pub use ethernet::{EtherType, EthernetAddress, EthernetFrame, EthernetRepr};
pub use icmpv4::{DstUnreachable, Icmpv4Packet, Icmpv4Repr, QuotedDatagram, TimeExceeded};
pub use icmpv6::{Icmpv6DstUnreachable, Icmpv6Packet, Icmpv6Repr, Icmpv6TimeExceeded, QuotedPacket};
pub use ipv4::{EcnCodepoint, IpProtocol, Ipv4Packet, Ipv4Repr};
pub use ipv6::{ExtHeaderWalk, Ipv6FragmentHeader, Ipv6FragmentRepr, Ipv6Packet, Ipv6Repr, ParamProblem, WalkStart};
pub use ndp::{NdpRepr, PrefixInformation, Prefixes};
pub use tcp::{PendingChecksum, TcpFlags, TcpOptions, TcpPacket, TcpRepr};
pub use udp::{UdpPacket, UdpRepr};

use core::fmt;

/// Why bytes could not be parsed as a given format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Error {
    /// Shorter than the fixed header, or than a length field says.
    Truncated,
    /// The checksum does not verify.
    BadChecksum,
    /// An unsupported version (IPv4 version != 4).
    BadVersion,
    /// A length field is inconsistent (IHL < 5, total length < header, TCP data offset < 5, ...).
    BadLength,
    /// A TCP or IPv4 option with a malformed length or pointer.
    BadOption,
    /// A well-formed value we do not handle (ARP for other hardware, unknown ICMP type, ...).
    Unsupported,
    /// A field holds a value the protocol forbids (e.g. a multicast source address).
    BadField,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Error::Truncated => "truncated",
            Error::BadChecksum => "bad checksum",
            Error::BadVersion => "bad version",
            Error::BadLength => "bad length field",
            Error::BadOption => "malformed option",
            Error::Unsupported => "unsupported",
            Error::BadField => "forbidden field value",
        };
        f.write_str(s)
    }
}

impl std::error::Error for Error {}

/// Result of parsing a wire format.
pub type Result<T> = core::result::Result<T, Error>;
