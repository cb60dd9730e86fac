//! SYN cookies (RFC 4987 §3.6): when a listener's SYN queue is full, the SYN-ACK's sequence number encodes
//! what the connection needs (time slot, MSS class) plus a keyed MAC of the four-tuple, so no state is kept
//! until the handshake's final ACK proves the peer received it.
//!
//! Layout of the 32-bit cookie: `[t:5][mss:3][mac:24]`, `t` a 64-second time slot. Window scaling cannot be
//! encoded, so a cookie connection runs unscaled (as Linux does without timestamps).

use super::seq::SeqNum;
use crate::time::Instant;
use core::hash::Hasher;
use core::net::SocketAddr;

/// MSS classes a cookie can name (the largest not above the peer's MSS is used).
const MSS_TABLE: [u16; 8] = [536, 1024, 1220, 1360, 1440, 1460, 4312, 8960];
/// Seconds per time slot.
const SLOT_SECS: u64 = 64;
/// A cookie stays valid for this many slots after the one it was made in (so 64..128 s).
const MAX_AGE_SLOTS: u32 = 1;

#[derive(Clone, Copy, Debug)]
pub(crate) struct CookieJar {
    key: (u64, u64),
}

fn slot(now: Instant) -> u32 {
    ((now.as_nanos() / 1_000_000_000 / SLOT_SECS) & 0x1f) as u32
}

impl CookieJar {
    pub(crate) fn new(key: (u64, u64)) -> CookieJar {
        CookieJar { key }
    }

    fn mac(&self, local: SocketAddr, remote: SocketAddr, peer_isn: SeqNum, t: u32, mss_idx: u32) -> u32 {
        let mut h = siphasher::sip::SipHasher24::new_with_keys(self.key.0, self.key.1);
        for end in [local, remote] {
            match end.ip() {
                core::net::IpAddr::V4(ip) => h.write(&ip.octets()),
                core::net::IpAddr::V6(ip) => h.write(&ip.octets()),
            }
            h.write(&end.port().to_be_bytes());
        }
        h.write(&peer_isn.0.to_be_bytes());
        h.write(&[t as u8, mss_idx as u8]);
        (h.finish() as u32) & 0x00ff_ffff
    }

    /// The ISN to answer a SYN with, encoding the largest MSS class not above `mss`.
    pub(crate) fn make(
        &self,
        local: SocketAddr,
        remote: SocketAddr,
        peer_isn: SeqNum,
        mss: u16,
        now: Instant,
    ) -> SeqNum {
        let idx = MSS_TABLE.iter().rposition(|m| *m <= mss).unwrap_or(0) as u32;
        let t = slot(now);
        SeqNum((t << 27) | (idx << 24) | self.mac(local, remote, peer_isn, t, idx))
    }

    /// Checks the final ACK of a cookie handshake: `ack - 1` must be a fresh cookie for this four-tuple and
    /// `seq - 1` the peer's ISN. Returns the MSS it encodes.
    pub(crate) fn check(
        &self,
        local: SocketAddr,
        remote: SocketAddr,
        seq: SeqNum,
        ack: SeqNum,
        now: Instant,
    ) -> Option<u16> {
        let cookie = (ack - 1).0;
        let t = cookie >> 27;
        let idx = (cookie >> 24) & 0x7;
        let age = slot(now).wrapping_sub(t) & 0x1f;
        if age > MAX_AGE_SLOTS {
            return None;
        }
        (self.mac(local, remote, seq - 1, t, idx) == cookie & 0x00ff_ffff).then(|| MSS_TABLE[idx as usize])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs() -> (SocketAddr, SocketAddr) {
        ("10.0.0.2:80".parse().unwrap(), "10.0.0.9:40000".parse().unwrap())
    }

    #[test]
    fn cookie_round_trips_and_rejects_forgery_and_age() {
        let jar = CookieJar::new((1, 2));
        let (l, r) = addrs();
        let peer_isn = SeqNum(u32::MAX);
        let now = Instant::from_secs(1000);
        let c = jar.make(l, r, peer_isn, 1460, now);
        assert_eq!(jar.check(l, r, peer_isn + 1, c + 1, now), Some(1460));
        assert_eq!(jar.check(l, r, peer_isn + 1, c + 1, now + core::time::Duration::from_secs(64)), Some(1460));
        assert_eq!(jar.check(l, r, peer_isn + 1, c + 1, now + core::time::Duration::from_secs(200)), None);
        assert_eq!(jar.check(l, r, peer_isn + 2, c + 1, now), None, "wrong peer ISN");
        assert_eq!(jar.check(l, r, peer_isn + 1, c + 2, now), None, "wrong cookie");
        let other: SocketAddr = "10.0.0.9:40001".parse().unwrap();
        assert_eq!(jar.check(l, other, peer_isn + 1, c + 1, now), None, "other four-tuple");
        assert_eq!(CookieJar::new((3, 4)).check(l, r, peer_isn + 1, c + 1, now), None, "other key");
        let small = jar.make(l, r, peer_isn, 1000, now);
        assert_eq!(jar.check(l, r, peer_isn + 1, small + 1, now), Some(536));
    }
}
