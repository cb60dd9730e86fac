//! Errors that stop the driver from starting, each worded to say what to do about it.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Why a TAP device (or the driver around it) could not be set up.
#[derive(Debug)]
pub enum TapError {
    /// `/dev/net/tun` does not exist.
    NoTunDevice,
    /// The process may not create TAP devices (no CAP_NET_ADMIN, or /dev/net/tun not accessible).
    PermissionDenied(io::Error),
    /// Another process holds a TAP device of this name.
    Busy(String),
    /// A network device of this name exists but is not a TAP device.
    NotTap(String),
    /// The device name is not usable.
    BadName(String, &'static str),
    /// The stack refused its configuration (bad address, gateway, MAC, ...).
    BadConfig(synack::ConfigError),
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
            TapError::PermissionDenied(e) => write!(
                f,
                "not allowed to create a TAP device ({e}): this needs CAP_NET_ADMIN; run as root, e.g. \
                 `sudo ip netns exec NS synack-tap ...`, or grant it once with \
                 `sudo setcap cap_net_admin+ep path/to/synack-tap`"
            ),
            TapError::Busy(name) => write!(
                f,
                "TAP device {name:?} is busy: another process has it open; stop that process or choose another \
                 --tap name"
            ),
            TapError::NotTap(name) => write!(
                f,
                "a network device {name:?} exists and is not a TAP device (or was created with other flags): choose \
                 another --tap name, or delete it with `ip link del {name}`"
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
            TapError::PermissionDenied(e) | TapError::Capture(_, e) | TapError::Io(_, e) => Some(e),
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
