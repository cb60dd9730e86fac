//! The only system calls the driver makes itself: poll(2) and an eventfd(2) used to wake the driver thread.
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
