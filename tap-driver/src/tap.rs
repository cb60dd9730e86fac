//! Opening a Linux TAP device (via the `tun-tap` crate) and turning its failures into [`TapError`]s.

use crate::error::TapError;
use crate::link::Link;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::path::Path;
use tun_tap::{Iface, Mode};

/// Longest interface name Linux accepts (IFNAMSIZ - 1).
const MAX_NAME_LEN: usize = 15;
const TUN_PATH: &str = "/dev/net/tun";

/// A TAP device opened without packet information: every read and write is exactly one Ethernet frame.
///
/// The device exists while this value lives (unless it was made persistent by someone else), in the network
/// namespace of the thread that opened it.
#[derive(Debug)]
pub struct TapDevice {
    iface: Iface,
}

impl TapDevice {
    /// Creates (or attaches to a persistent) TAP device `name` and makes it non-blocking.
    pub fn open(name: &str) -> Result<TapDevice, TapError> {
        check_name(name)?;
        if !Path::new(TUN_PATH).exists() {
            return Err(TapError::NoTunDevice);
        }
        let iface = Iface::without_packet_info(name, Mode::Tap).map_err(|e| classify_open_error(name, e))?;
        iface.set_non_blocking().map_err(|e| TapError::Io("cannot make the TAP device non-blocking", e))?;
        // Without a virtio-net header nothing could tell us that a checksum was left unfinished: make sure a
        // persistent device does not still carry offloads an `--offload` reader enabled (it resets them when it
        // closes, but not if it was killed).
        crate::sys::set_offload(iface.as_raw_fd(), 0)
            .map_err(|e| TapError::Io("cannot turn the TAP device's offloads off", e))?;
        raise_tx_queue(name);
        Ok(TapDevice { iface })
    }
}

/// Frames Linux may queue for the stack in the TAP device (`txqueuelen`; Linux's default is 1000).
pub(crate) const TX_QUEUE_FRAMES: usize = 10_000;

/// Lengthens the queue of frames Linux sends us ([`crate::sys::raise_tx_queue_len`]): with the default 1000,
/// twenty concurrent downloads had Linux drop a third of its frames to the stack, SYNs included, and clients
/// waited seconds for retransmissions. Best effort: a device we may open but not configure keeps its queue.
pub(crate) fn raise_tx_queue(name: &str) {
    if let Err(e) = crate::sys::raise_tx_queue_len(name, TX_QUEUE_FRAMES) {
        eprintln!(
            "synack-tap: cannot lengthen {name}'s queue to {TX_QUEUE_FRAMES} frames ({e}); bursts may overflow it"
        );
    }
}

pub(crate) fn check_name(name: &str) -> Result<(), TapError> {
    let bad = |why| Err(TapError::BadName(name.to_string(), why));
    if name.is_empty() {
        return bad("it is empty; use e.g. --tap tap0");
    }
    if name.len() > MAX_NAME_LEN {
        return bad("Linux interface names are at most 15 bytes");
    }
    if name.contains(['/', ':', '%']) || name.chars().any(|c| c.is_whitespace() || c.is_control()) || name == "." {
        return bad("it must not contain '/', ':', '%', whitespace or control characters");
    }
    Ok(())
}

/// What a network device name stands for in this namespace, before we open it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Existing {
    /// No device of that name: opening it creates one.
    None,
    /// A TUN/TAP device (it has `tun_flags` in sysfs).
    TunTap,
    /// Some other kind of device (loopback, veth, bridge, a real card, ...).
    Other,
}

/// Looks `name` up in this namespace's sysfs (`ip netns exec` mounts the namespace's own).
pub(crate) fn existing(name: &str) -> Existing {
    let dir = Path::new("/sys/class/net").join(name);
    if dir.join("tun_flags").exists() {
        Existing::TunTap
    } else if dir.exists() {
        Existing::Other
    } else {
        Existing::None
    }
}

/// Maps the errno of open(/dev/net/tun) + ioctl(TUNSETIFF) to what the user should do.
pub(crate) fn classify_open_error(name: &str, e: io::Error) -> TapError {
    classify(name, e, existing(name))
}

fn classify(name: &str, e: io::Error, dev: Existing) -> TapError {
    match e.raw_os_error() {
        Some(libc::ENOENT | libc::ENODEV | libc::ENXIO) => TapError::NoTunDevice,
        Some(libc::EPERM | libc::EACCES) => {
            TapError::PermissionDenied { name: name.to_string(), exists: dev != Existing::None, err: e }
        }
        Some(libc::EBUSY) => TapError::Busy(name.to_string()),
        Some(libc::EINVAL) => TapError::NotTap { name: name.to_string(), tun: dev == Existing::TunTap },
        _ => TapError::Io("cannot open the TAP device", e),
    }
}

impl AsRawFd for TapDevice {
    fn as_raw_fd(&self) -> RawFd {
        self.iface.as_raw_fd()
    }
}

impl Link for TapDevice {
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.iface.recv(buf)
    }
    fn send(&mut self, frame: &[u8]) -> io::Result<()> {
        self.iface.send(frame).map(|_| ())
    }
    fn name(&self) -> &str {
        self.iface.name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_before_any_syscall() {
        for bad in ["", "a-very-long-name-here", "tap/0", "tap 0", "t:1"] {
            let err = TapDevice::open(bad).unwrap_err();
            assert!(matches!(err, TapError::BadName(..)), "{bad}: {err}");
        }
    }

    #[test]
    fn errno_maps_to_advice() {
        let e = |n| io::Error::from_raw_os_error(n);
        let none = |n| classify("t", e(n), Existing::None);
        assert!(matches!(none(libc::ENOENT), TapError::NoTunDevice));
        assert!(matches!(none(libc::EPERM), TapError::PermissionDenied { exists: false, .. }));
        assert!(matches!(none(libc::EBUSY), TapError::Busy(_)));
        assert!(matches!(none(libc::EINVAL), TapError::NotTap { tun: false, .. }));
        let create = none(libc::EPERM).to_string();
        assert!(create.contains("CAP_NET_ADMIN") && create.contains("create"), "{create}");
        // An existing device (root's persistent tap0): the user could only have attached to it.
        let attach = classify("tap0", e(libc::EPERM), Existing::TunTap).to_string();
        assert!(
            attach.contains("attach to the existing TAP device \"tap0\"") && !attach.contains("create"),
            "{attach}"
        );
        assert!(attach.contains("user"), "{attach}");
        // Loopback or any non-TUN/TAP device: never suggest deleting it.
        let lo = classify("lo", e(libc::EINVAL), Existing::Other).to_string();
        assert!(lo.contains("\"lo\" exists and is not a TAP device") && lo.contains("do not delete it"), "{lo}");
        assert!(!lo.contains("ip link del"), "{lo}");
        // A TUN device, or a TAP device made with other flags, may be a leftover: deleting it is an option.
        let tun = classify("tun0", e(libc::EINVAL), Existing::TunTap).to_string();
        assert!(tun.contains("ip link del tun0"), "{tun}");
        assert!(TapError::NoTunDevice.to_string().contains("modprobe tun"));
        assert!(TapError::Busy("tap0".into()).to_string().contains("another process"));
    }
}
