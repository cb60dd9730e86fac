//! What an echo reply's IPv4 options say (RFC 1122 §3.2.2.6): the request's Record Route and Timestamp options,
//! updated with this host, as Linux's `ip_options_echo` sends them back (`ping -R`, `ping -T`).

use super::ipv4::option;
use core::net::Ipv4Addr;

/// Options are padded to whole 32-bit words.
const WORD: usize = 4;

/// The options an echo reply carries back (RFC 1122 §3.2.2.6: a Record Route or Timestamp option in an echo
/// request SHOULD be updated to include the current host and included in the reply), as Linux's
/// `ip_options_compile` on receipt then `ip_options_echo` and `ip_options_build` on the reply: this host is
/// recorded twice, once as the request's last hop and once as the reply's first, where there is room. `stamp`
/// is the timestamp written (RFC 791: milliseconds since midnight UT, or any value with the high bit set).
/// `options` are a received header's, already found sound. Other options are not echoed. Padded with
/// end-of-list to whole words; empty if there is nothing to echo.
pub fn echo_options(options: &[u8], ours: Ipv4Addr, stamp: u32) -> Vec<u8> {
    let mut echoed = Vec::new();
    let mut i = 0;
    while let Some(&kind) = options.get(i) {
        match kind {
            option::END => break,
            option::NOP => {
                i += 1;
                continue;
            }
            _ => {}
        }
        let Some(len) = options.get(i + 1).map(|&l| usize::from(l)).filter(|&l| l >= 2 && i + l <= options.len())
        else {
            break;
        };
        if matches!(kind, option::RECORD_ROUTE | option::TIMESTAMP) && len >= 4 {
            let mut opt = options[i..i + len].to_vec();
            record_hop(&mut opt, ours, stamp, true); // the request's arrival
            record_hop(&mut opt, ours, stamp, false); // the reply's departure
            echoed.extend_from_slice(&opt);
        }
        i += len;
    }
    echoed.resize(echoed.len().div_ceil(WORD) * WORD, option::END);
    echoed
}

/// One hop's entry in a Record Route or Timestamp option (`opt`: type, length, pointer, ...; RFC 791). A full
/// timestamp option counts the hop in its overflow field when `count_overflow` (on arrival; Linux leaves the
/// count alone on the reply).
fn record_hop(opt: &mut [u8], ours: Ipv4Addr, stamp: u32, count_overflow: bool) {
    let (len, pointer) = (opt.len(), usize::from(opt[2]));
    let put = |opt: &mut [u8], at: usize, bytes: [u8; 4]| opt[at - 1..at + 3].copy_from_slice(&bytes);
    if opt[0] == option::RECORD_ROUTE {
        if pointer >= 4 && pointer + 3 <= len {
            put(opt, pointer, ours.octets());
            opt[2] += 4;
        }
        return;
    }
    let flags = opt[3] & 0x0f;
    let entry = if matches!(flags, 1 | 3) { 8 } else { 4 };
    if pointer < 5 || pointer + entry - 1 > len {
        // Full: one more hop that could not stamp, in the overflow count (prespecified ones never overflow).
        let overflow = opt[3] >> 4;
        if count_overflow && flags != 3 && overflow < 15 {
            opt[3] = ((overflow + 1) << 4) | flags;
        }
        return;
    }
    match flags {
        0 => put(opt, pointer, stamp.to_be_bytes()),
        1 => {
            put(opt, pointer, ours.octets());
            put(opt, pointer + 4, stamp.to_be_bytes());
        }
        3 if opt[pointer - 1..pointer + 3] == ours.octets() => put(opt, pointer + 4, stamp.to_be_bytes()),
        _ => return, // another host's turn, or flags we do not know
    }
    opt[2] += entry as u8;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ping -R` and `ping -T`: this host is recorded on the request's arrival and the reply's departure, where
    /// there is room; a full timestamp option counts the arrival in its overflow; other options stay behind.
    #[test]
    fn echo_replies_carry_record_route_and_timestamps_updated() {
        let me = Ipv4Addr::new(10, 0, 0, 2);
        let stamp = 0x8000_1234u32.to_be_bytes();
        // Record route with three slots, the first filled by a router; a router alert not echoed.
        let rr = [7, 15, 8, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        let mut options = rr.to_vec();
        options.extend_from_slice(&[148, 4, 0, 0]);
        let echoed = echo_options(&options, me, 0x8000_1234);
        assert_eq!(echoed, [7, 15, 16, 10, 0, 0, 1, 10, 0, 0, 2, 10, 0, 0, 2, 0]);
        // One slot: recorded once.
        assert_eq!(echo_options(&[1, 7, 7, 4, 0, 0, 0, 0], me, 1), [7, 7, 8, 10, 0, 0, 2, 0]);
        // Timestamps only (flag 0), room for two.
        let echoed = echo_options(&[68, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0], me, 0x8000_1234);
        assert_eq!(echoed[..4], [68, 12, 13, 0]);
        assert_eq!((echoed[4..8].to_vec(), echoed[8..12].to_vec()), (stamp.to_vec(), stamp.to_vec()));
        // Address and timestamp (flag 1), room for one: the reply's departure finds it full, uncounted.
        let echoed = echo_options(&[68, 12, 5, 1, 0, 0, 0, 0, 0, 0, 0, 0], me, 0x8000_1234);
        assert_eq!(echoed[..4], [68, 12, 13, 1]);
        assert_eq!((&echoed[4..8], &echoed[8..12]), (&me.octets()[..], &stamp[..]));
        // Full on arrival: the overflow count goes up by one.
        assert_eq!(echo_options(&[68, 8, 9, 0x20, 0, 0, 0, 1], me, 1), [68, 8, 9, 0x30, 0, 0, 0, 1]);
        // Prespecified (flag 3): only our own entry is stamped.
        let pre = [68, 20, 5, 3, 10, 0, 0, 9, 0, 0, 0, 0, 10, 0, 0, 2, 0, 0, 0, 0];
        assert_eq!(echo_options(&pre, me, 0x8000_1234), pre, "another host's turn first");
        let pre = [68, 12, 5, 3, 10, 0, 0, 2, 0, 0, 0, 0];
        let echoed = echo_options(&pre, me, 0x8000_1234);
        assert_eq!((echoed[2], &echoed[8..12]), (13, &stamp[..]));
        assert!(echo_options(&[1, 1, 148, 4, 0, 0, 0, 0], me, 1).is_empty());
    }
}
