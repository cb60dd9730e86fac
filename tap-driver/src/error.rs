//! Errors that stop the driver from starting, each worded to say what to do about it.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Why a TAP device (or the driver around it) could not be set up.
#[derive(Debug)]
pub enum TapError {
    /// `/dev/net/tun` does not exist.
    NoTunDevice,
    /// The process may not create the TAP device (no CAP_NET_ADMIN, or /dev/net/tun not accessible), or, if
    /// `exists`, not attach to the existing one (it belongs to another user).
    PermissionDenied { name: String, exists: bool, err: io::Error },
    /// Another process holds a TAP device of this name.
    Busy(String),
    /// A network device of this name exists but is not a TAP device; `tun`: it is a TUN/TAP device made with
    /// other flags (a TUN device, or multi-queue), else some other kind (loopback, veth, a real card...).
    NotTap { name: String, tun: bool },
    /// The device name is not usable.
    BadName(String, &'static str),
    /// The stack refused its configuration (bad address, gateway, MAC, ...).
    BadConfig(synack::ConfigError),
    /// Another host on the link answered our ARP probe for our address (RFC 5227), or probes for it too.
    AddressInUse { addr: std::net::Ipv4Addr, mac: synack::wire::EthernetAddress, how: &'static str, link: String },
    /// The pcapng capture file could not be created or written.
    Capture(PathBuf, io::Error),
    /// Anything else, with what we were doing.
    Io(&'static str, io::Error),
}

impl fmt::Display for TapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TapError::NoTunDevice => write!(
                f,
                "/dev/net/tun does not exist: load the tun module (`modprobe tun`), or in a container start it \
                 with `--device /dev/net/tun --cap-add NET_ADMIN`"
            ),
            TapError::PermissionDenied { name, exists: false, err } => write!(
                f,
                "not allowed to create TAP device {name:?} ({err}): this needs CAP_NET_ADMIN; run as root, e.g. \
                 `sudo ip netns exec NS synack-tap ...`, or grant it once with \
                 `sudo setcap cap_net_admin+ep path/to/synack-tap`"
            ),
            TapError::PermissionDenied { name, exists: true, err } => write!(
                f,
                "not allowed to attach to the existing TAP device {name:?} ({err}): it belongs to another user; \
                 run as root (`sudo ip netns exec NS synack-tap ...`), or have it made for you with \
                 `sudo ip tuntap add dev {name} mode tap user $USER`"
            ),
            TapError::Busy(name) => write!(
                f,
                "TAP device {name:?} is busy: another process has it open; stop that process or choose another \
                 --tap name"
            ),
            TapError::NotTap { name, tun: false } => write!(
                f,
                "a network device {name:?} exists and is not a TAP device: synack-tap needs a TAP device of its \
                 own; choose another --tap name (e.g. --tap tap0), and do not delete it"
            ),
            TapError::NotTap { name, tun: true } => write!(
                f,
                "{name:?} is a TUN device, or a TAP device made with other flags (e.g. multi_queue): choose another \
                 --tap name, or if it is a leftover of yours, delete it with `ip link del {name}`"
            ),
            TapError::AddressInUse { addr, mac, how, link } => write!(
                f,
                "address {addr} is already in use on {link}: {mac} {how} (RFC 5227 ARP probe); choose another --ip \
                 (the Linux side's own address on the link is taken too)"
            ),
            TapError::BadName(name, why) => write!(f, "bad TAP device name {name:?}: {why}"),
            TapError::BadConfig(e) => write!(f, "bad stack configuration: {e}"),
            TapError::Capture(path, e) => write!(f, "cannot write capture file {}: {e}", path.display()),
            TapError::Io(what, e) => write!(f, "{what}: {e}"),
        }
    }
}

impl std::error::Error for TapError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TapError::PermissionDenied { err: e, .. } | TapError::Capture(_, e) | TapError::Io(_, e) => Some(e),
            TapError::BadConfig(e) => Some(e),
            _ => None,
        }
    }
}

impl From<synack::ConfigError> for TapError {
    fn from(e: synack::ConfigError) -> Self {
        TapError::BadConfig(e)
    }
}
