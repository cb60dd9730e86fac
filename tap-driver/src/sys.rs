//! The system calls the driver makes itself: poll(2), an eventfd(2) used to wake the driver thread, and the
//! open/ioctl/readv/writev of a TAP device with a virtio-net header (which the `tun-tap` crate cannot set up).
//!
//! Every `unsafe` block of the crate's library lives here, each with the reason it is sound.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

/// Which of the polled descriptors are readable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Ready {
    pub(crate) link: bool,
    pub(crate) waker: bool,
}

/// Sleeps until `link` or `waker` is readable, or `timeout` passes (`None`: no limit). EINTR counts as a wake-up.
pub(crate) fn poll2(link: RawFd, waker: RawFd, timeout: Option<Duration>) -> io::Result<Ready> {
    let mut fds = [
        libc::pollfd { fd: link, events: libc::POLLIN, revents: 0 },
        libc::pollfd { fd: waker, events: libc::POLLIN, revents: 0 },
    ];
    let ms: libc::c_int = match timeout {
        None => -1,
        // Round up so that we never wake before a deadline and spin.
        Some(d) => i32::try_from(d.as_nanos().div_ceil(1_000_000)).unwrap_or(i32::MAX),
    };
    // SAFETY: `fds` is a valid, initialised array of two pollfd that outlives the call, and we pass its length.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
    if n < 0 {
        let err = io::Error::last_os_error();
        return if err.kind() == io::ErrorKind::Interrupted { Ok(Ready::default()) } else { Err(err) };
    }
    let hit = |p: &libc::pollfd| p.revents & (libc::POLLIN | libc::POLLERR | libc::POLLHUP) != 0;
    Ok(Ready { link: hit(&fds[0]), waker: hit(&fds[1]) })
}

/// A counter descriptor: any thread may `wake` it; the driver polls it and `drain`s it.
#[derive(Debug)]
pub(crate) struct Waker {
    fd: OwnedFd,
}

impl Waker {
    pub(crate) fn new() -> io::Result<Waker> {
        // SAFETY: eventfd takes no pointers; a non-negative result is a fresh descriptor that we then own.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just returned by eventfd, is open, and nothing else owns it.
        Ok(Waker { fd: unsafe { OwnedFd::from_raw_fd(fd) } })
    }

    pub(crate) fn wake(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live u64 to our own open descriptor. A failure can only be a saturated
        // counter (EAGAIN), which already means "wake up", so the result is deliberately ignored.
        let _ = unsafe { libc::write(self.fd.as_raw_fd(), (&one as *const u64).cast(), 8) };
    }

    pub(crate) fn drain(&self) {
        let mut n: u64 = 0;
        // SAFETY: reads at most 8 bytes into a live u64 from our own non-blocking descriptor; EAGAIN when the
        // counter is already zero is fine to ignore.
        let _ = unsafe { libc::read(self.fd.as_raw_fd(), (&mut n as *mut u64).cast(), 8) };
    }
}

impl AsRawFd for Waker {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// `struct ifreq` as TUNSETIFF reads it: the name, then the flags (the rest of the union is unused).
#[repr(C)]
struct IfReq {
    name: [u8; libc::IFNAMSIZ],
    flags: libc::c_short,
    _rest: [u8; 22],
}

/// Opens `/dev/net/tun` non-blocking and attaches it to TAP device `name` (created if missing) with a
/// `vnet_hdr_len`-byte virtio-net header on every frame, then enables `offloads` (`TUN_F_*`).
pub(crate) fn open_tap_with_vnet_header(
    name: &str,
    vnet_hdr_len: usize,
    offloads: libc::c_uint,
) -> io::Result<OwnedFd> {
    let path = c"/dev/net/tun";
    // SAFETY: `path` is a NUL-terminated string that outlives the call; a non-negative result is a fresh
    // descriptor that we then own.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDWR | libc::O_NONBLOCK | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just returned by open, is open, and nothing else owns it.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut req = IfReq { name: [0; libc::IFNAMSIZ], flags: 0, _rest: [0; 22] };
    let bytes = name.as_bytes();
    if bytes.len() >= libc::IFNAMSIZ {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    req.name[..bytes.len()].copy_from_slice(bytes);
    req.flags = (libc::IFF_TAP | libc::IFF_NO_PI | libc::IFF_VNET_HDR) as libc::c_short;
    // SAFETY: TUNSETIFF reads (and may update the name of) a `struct ifreq`, which `IfReq` lays out (40 bytes:
    // 16-byte name, short flags, padding to the union's size); `req` lives across the call.
    if unsafe { libc::ioctl(fd.as_raw_fd(), libc::TUNSETIFF, &mut req as *mut IfReq) } < 0 {
        return Err(io::Error::last_os_error());
    }
    let len = vnet_hdr_len as libc::c_int;
    // SAFETY: TUNSETVNETHDRSZ reads one int through the pointer, which points at a live c_int.
    if unsafe { libc::ioctl(fd.as_raw_fd(), libc::TUNSETVNETHDRSZ, &len as *const libc::c_int) } < 0 {
        return Err(io::Error::last_os_error());
    }
    set_offload(fd.as_raw_fd(), offloads)?;
    Ok(fd)
}

/// `struct ifreq` with its union read as `ifr_qlen` (SIOCGIFTXQLEN / SIOCSIFTXQLEN).
#[repr(C)]
struct IfReqQueueLen {
    name: [u8; libc::IFNAMSIZ],
    qlen: libc::c_int,
    _rest: [u8; 20],
}

/// The queue Linux keeps for frames it sends into TAP device `name` (its `txqueuelen`) holds at least `frames`.
/// The default 1000 overflows when many connections' flights arrive while the stack reads: Linux then drops
/// frames (SYNs too), which costs seconds of retransmission timeouts for what a longer queue absorbs. Needs
/// CAP_NET_ADMIN, as opening the device does.
pub(crate) fn raise_tx_queue_len(name: &str, frames: usize) -> io::Result<()> {
    let bytes = name.as_bytes();
    if bytes.len() >= libc::IFNAMSIZ {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    let mut req = IfReqQueueLen { name: [0; libc::IFNAMSIZ], qlen: 0, _rest: [0; 20] };
    req.name[..bytes.len()].copy_from_slice(bytes);
    // SAFETY: socket takes no pointers; a non-negative result is a fresh descriptor that we then own.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just returned by socket, is open, and nothing else owns it.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: SIOCGIFTXQLEN writes `ifr_qlen` of the `struct ifreq` the pointer names; `IfReqQueueLen` lays it
    // out (16-byte name, then the int at the union's start, 40 bytes in all) and lives across the call.
    if unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFTXQLEN, &mut req as *mut IfReqQueueLen) } < 0 {
        return Err(io::Error::last_os_error());
    }
    let want = libc::c_int::try_from(frames).unwrap_or(libc::c_int::MAX);
    if req.qlen >= want {
        return Ok(());
    }
    req.qlen = want;
    // SAFETY: as above; SIOCSIFTXQLEN reads the same structure.
    if unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFTXQLEN, &mut req as *mut IfReqQueueLen) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Sets the offloads (`TUN_F_*`) of the TAP device behind `fd`. They are a property of the device and outlive
/// the descriptor: a persistent device keeps them for its next reader.
pub(crate) fn set_offload(fd: RawFd, offloads: libc::c_uint) -> io::Result<()> {
    // SAFETY: TUNSETOFFLOAD takes the flags by value; no memory is passed.
    if unsafe { libc::ioctl(fd, libc::TUNSETOFFLOAD, offloads as libc::c_ulong) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// One read into two buffers (a header, then the frame); returns the total length.
pub(crate) fn read_two(fd: RawFd, head: &mut [u8], body: &mut [u8]) -> io::Result<usize> {
    let iov = [
        libc::iovec { iov_base: head.as_mut_ptr().cast(), iov_len: head.len() },
        libc::iovec { iov_base: body.as_mut_ptr().cast(), iov_len: body.len() },
    ];
    // SAFETY: both iovecs describe live, writable, exclusively borrowed buffers of the given lengths, and the
    // array of two outlives the call.
    let n = unsafe { libc::readv(fd, iov.as_ptr(), 2) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n as usize)
}

/// One write of up to four buffers, in order (a header, then the frame in pieces); returns the length written.
pub(crate) fn write_parts(fd: RawFd, parts: &[&[u8]]) -> io::Result<usize> {
    let mut iov = [libc::iovec { iov_base: std::ptr::null_mut(), iov_len: 0 }; 4];
    if parts.len() > iov.len() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "a frame in more than four parts"));
    }
    let count = parts.len();
    for (v, p) in iov.iter_mut().zip(parts) {
        *v = libc::iovec { iov_base: p.as_ptr() as *mut libc::c_void, iov_len: p.len() };
    }
    // SAFETY: the first `count` iovecs describe live buffers of the given lengths that writev only reads, and
    // the array outlives the call.
    let n = unsafe { libc::writev(fd, iov.as_ptr(), count as libc::c_int) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waker_wakes_poll_and_drains() {
        let w = Waker::new().unwrap();
        let r = poll2(w.as_raw_fd(), w.as_raw_fd(), Some(Duration::from_millis(1))).unwrap();
        assert!(!r.waker);
        w.wake();
        w.wake();
        let r = poll2(w.as_raw_fd(), w.as_raw_fd(), Some(Duration::from_secs(5))).unwrap();
        assert!(r.waker);
        w.drain();
        let r = poll2(w.as_raw_fd(), w.as_raw_fd(), Some(Duration::ZERO)).unwrap();
        assert!(!r.waker);
    }
}
