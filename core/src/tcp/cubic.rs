//! CUBIC (RFC 9438), Linux's default congestion control: after a reduction to β = 0.7 of the window, the window
//! grows along a cubic curve of the time since, flat near the window where the loss happened (W_max) and
//! steep far from it, so it reclaims bandwidth fast on long fat paths yet stays stable near the last loss; a
//! Reno-friendly estimate keeps it at least as fast as NewReno where NewReno would win (short RTTs).
//!
//! Integer arithmetic only (the cube root too), so every platform computes the same windows from the same
//! inputs: determinism is not left to a libm.

use super::congestion::{
    deflate_on_partial_ack, initial_window, slow_start, window_after_recovery, AckSample, CongestionControl,
};
use super::hystart::HyStart;
use crate::time::Instant;

/// β_cubic = 0.7 (RFC 9438 §4.6), as a fraction.
const BETA_NUM: usize = 7;
const BETA_DEN: usize = 10;

/// The cube root of `x`, rounded down.
fn icbrt(x: u128) -> u128 {
    let (mut lo, mut hi) = (0u128, 1u128 << 43); // (2^43)^3 = 2^129 > any u128
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if mid.checked_pow(3).is_some_and(|c| c <= x) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

#[derive(Debug, Clone)]
pub struct Cubic {
    cwnd: usize,
    ssthresh: usize,
    /// The curve's state: none while the connection is in its first slow start (most connections never leave
    /// it), made at the first congestion event or the first ACK past slow start.
    curve: Option<Box<Curve>>,
    /// HyStart++ state, already finished when it is off (RFC 9438 §4.10: CUBIC SHOULD use HyStart++ for slow
    /// start).
    hystart: HyStart,
}

/// CUBIC's variables for congestion avoidance (RFC 9438 §4.1).
#[derive(Debug, Clone)]
struct Curve {
    /// W_max: the window (bytes) when the last congestion event happened.
    w_max: usize,
    /// W_max before the last event, for fast convergence (RFC 9438 §4.7).
    w_last_max: usize,
    /// Start of the current congestion avoidance epoch (set by its first ACK).
    epoch_start: Option<Instant>,
    /// K (ms): when the cubic curve reaches W_max again.
    k_ms: u64,
    /// W_est (bytes): the Reno-friendly estimate (RFC 9438 §4.3).
    w_est: usize,
    /// Growth owed to the window, in byte·bytes (divided by cwnd as it is paid), so small steps add up.
    cwnd_acc: u128,
    /// The same for W_est.
    est_acc: u128,
    /// Since when the application, not the window, has limited sending in this epoch: that time does not count
    /// in t (RFC 9438 §5.8), so the epoch's start moves by it when the window is used again.
    app_limited_since: Option<Instant>,
}

impl Curve {
    const FRESH: Curve = Curve {
        w_max: 0,
        w_last_max: 0,
        epoch_start: None,
        k_ms: 0,
        w_est: 0,
        cwnd_acc: 0,
        est_acc: 0,
        app_limited_since: None,
    };
}

/// What a connection without its curve yet reads.
static FRESH_CURVE: Curve = Curve::FRESH;

impl Cubic {
    /// CUBIC with HyStart++ in its first slow start.
    pub fn new(mss: usize) -> Cubic {
        Cubic { cwnd: initial_window(mss), ssthresh: usize::MAX, curve: None, hystart: HyStart::new() }
    }

    /// The curve to read: the connection's, or a fresh one.
    fn view(&self) -> &Curve {
        self.curve.as_deref().unwrap_or(&FRESH_CURVE)
    }

    /// The curve to change, made on first use.
    fn curve_mut(&mut self) -> &mut Curve {
        self.curve.get_or_insert_with(|| Box::new(Curve::FRESH))
    }

    /// With HyStart++ (the default) or the standard slow start only.
    pub fn with_hystart(mut self, on: bool) -> Cubic {
        self.hystart = if on { HyStart::new() } else { HyStart::finished() };
        self
    }

    /// W_cubic(t) in bytes (RFC 9438 eq. 1): C·(t−K)³ + W_max with C = 0.4 segments/s³, t in ms.
    pub fn w_cubic(&self, t_ms: u64, mss: usize) -> usize {
        self.view().w_cubic(t_ms, mss)
    }

    /// A congestion event (RFC 9438 §4.6, §4.7): remember W_max (less, with fast convergence, if the window
    /// had not regained the last one), cut the window to β of it, start a new epoch.
    fn reduce(&mut self, mss: usize) {
        let cwnd = self.cwnd;
        let c = self.curve_mut();
        c.w_max = if cwnd < c.w_last_max {
            // Fast convergence: another flow is taking bandwidth; give some up. W_max·(1+β)/2.
            cwnd * (BETA_DEN + BETA_NUM) / (2 * BETA_DEN)
        } else {
            cwnd
        };
        c.w_last_max = cwnd;
        c.epoch_start = None;
        c.app_limited_since = None;
        c.cwnd_acc = 0;
        c.est_acc = 0;
        self.ssthresh = (cwnd * BETA_NUM / BETA_DEN).max(2 * mss);
    }

    /// Congestion avoidance on `ack` (RFC 9438 §4.2-4.5).
    fn avoid(&mut self, ack: &AckSample, acked: usize) {
        let cwnd = self.cwnd;
        self.cwnd = self.curve_mut().avoid(cwnd, ack, acked);
    }
}

impl Curve {
    /// W_cubic(t): see [`Cubic::w_cubic`].
    fn w_cubic(&self, t_ms: u64, mss: usize) -> usize {
        let d = i128::from(t_ms) - i128::from(self.k_ms);
        // 0.4 · (d/1000)³ segments = 2·d³ / (5·10⁹) segments.
        let delta = 2 * d * d * d * mss as i128 / 5_000_000_000;
        (self.w_max as i128 + delta).max(0) as usize
    }

    /// Congestion avoidance on `ack` from a window of `cwnd`: the window after it.
    fn avoid(&mut self, cwnd: usize, ack: &AckSample, acked: usize) -> usize {
        let mss = ack.mss;
        let start = *self.epoch_start.get_or_insert_with(|| {
            // K = ∛((W_max − cwnd_epoch)/C) s (RFC 9438 eq. 2); in ms, with C = 0.4: ∛(2.5·10⁹·Δ/mss).
            self.k_ms = if self.w_max > cwnd {
                icbrt((self.w_max - cwnd) as u128 * 2_500_000_000 / mss as u128) as u64
            } else {
                0
            };
            self.w_est = cwnd;
            ack.now
        });
        let t_ms = (ack.now.saturating_duration_since(start) + ack.srtt.unwrap_or_default()).as_millis() as u64;
        // The target one RTT ahead, never more than 1.5 windows (RFC 9438 §4.2).
        let target = self.w_cubic(t_ms, mss).clamp(cwnd, cwnd + cwnd / 2);
        // cwnd grows by (target − cwnd)/cwnd per acknowledged byte (a segment per segment, in bytes).
        self.cwnd_acc += (target - cwnd) as u128 * acked as u128;
        let grow = (self.cwnd_acc / cwnd as u128) as usize;
        self.cwnd_acc -= grow as u128 * cwnd as u128;
        // Reno-friendly estimate: W_est grows by α = 3(1−β)/(1+β) = 9/17 segment per window acknowledged.
        self.est_acc += 9 * acked as u128 * mss as u128;
        let est_grow = (self.est_acc / (17 * cwnd as u128)) as usize;
        self.est_acc -= est_grow as u128 * 17 * cwnd as u128;
        self.w_est += est_grow;
        (cwnd + grow).max(self.w_est)
    }
}

impl CongestionControl for Cubic {
    fn name(&self) -> &'static str {
        "cubic"
    }
    fn cwnd(&self) -> usize {
        self.cwnd
    }
    fn ssthresh(&self) -> usize {
        self.ssthresh
    }
    fn on_ack(&mut self, ack: &AckSample) {
        if !ack.cwnd_limited {
            // RFC 9438 §5.8: the window does not grow while the application limits the flow, and the time it
            // does is left out of the curve's t.
            if let Some(c) = self.curve.as_deref_mut() {
                if c.epoch_start.is_some() && c.app_limited_since.is_none() {
                    c.app_limited_since = Some(ack.now);
                }
            }
            return;
        }
        if let Some(c) = self.curve.as_deref_mut() {
            if let (Some(since), Some(start)) = (c.app_limited_since.take(), c.epoch_start.as_mut()) {
                *start = *start + ack.now.saturating_duration_since(since);
            }
        }
        let first_slow_start = self.ssthresh == usize::MAX;
        let left = slow_start(&mut self.cwnd, &mut self.ssthresh, Some(&mut self.hystart), ack);
        if first_slow_start && self.ssthresh != usize::MAX {
            // RFC 9438 §4.10: HyStart++ ended slow start without a congestion event, so there is no W_max yet:
            // the cubic curve starts flat at the window reached (W_max = cwnd, K = 0) from the next ACK.
            let cwnd = self.cwnd;
            let c = self.curve_mut();
            c.w_max = cwnd;
            c.epoch_start = None;
        }
        if let Some(acked) = left {
            self.avoid(ack, acked);
        }
    }
    fn on_enter_recovery(&mut self, _flight: usize, mss: usize) {
        self.reduce(mss);
        // RFC 5681 fast recovery: the three duplicate ACKs' segments have left the network.
        self.cwnd = self.ssthresh + 3 * mss;
    }
    fn on_recovery_dup_ack(&mut self, mss: usize) {
        self.cwnd += mss;
    }
    fn on_partial_ack(&mut self, acked: usize, mss: usize) {
        self.cwnd = deflate_on_partial_ack(self.cwnd, acked, mss);
    }
    fn on_exit_recovery(&mut self, flight: usize, mss: usize) {
        self.cwnd = window_after_recovery(self.ssthresh, flight, mss);
    }
    fn on_timeout(&mut self, _flight: usize, mss: usize) {
        // RFC 9438 §4.8: the same reduction as a congestion event, then RFC 5681's loss window; and the curve
        // forgets W_max: the first congestion avoidance after it starts flat where slow start left the window
        // (K = 0, W_max = cwnd then), as Linux's `bictcp_reset` on entering loss.
        self.reduce(mss);
        self.cwnd = mss;
        let c = self.curve_mut();
        c.w_max = 0;
        c.w_last_max = 0;
    }
    fn resume(&mut self, cwnd: usize, ssthresh: usize) {
        (self.cwnd, self.ssthresh) = (cwnd, ssthresh);
        if let Some(c) = &mut self.curve {
            c.epoch_start = None; // a fresh curve has no epoch either
            c.app_limited_since = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcp::SeqNum;
    use core::time::Duration;

    const MSS: usize = 1000;

    fn ack(acked: usize, now_ms: u64, srtt_ms: u64) -> AckSample {
        AckSample {
            acked,
            mss: MSS,
            now: Instant::from_millis(now_ms),
            srtt: Some(Duration::from_millis(srtt_ms)),
            rtt: None,
            ack: SeqNum(0),
            snd_max: SeqNum(0),
            cwnd_limited: true,
        }
    }

    #[test]
    fn integer_cube_root() {
        for x in [0u128, 1, 7, 8, 26, 27, 1_000_000, 999_999, u64::MAX as u128] {
            let r = icbrt(x);
            assert!(r * r * r <= x && (r + 1) * (r + 1) * (r + 1) > x, "{x}: {r}");
        }
    }

    #[test]
    fn a_loss_cuts_the_window_to_beta() {
        let mut c = Cubic::new(MSS);
        c.cwnd = 100 * MSS;
        c.on_enter_recovery(100 * MSS, MSS);
        assert_eq!(c.ssthresh(), 70 * MSS);
        assert_eq!(c.view().w_max, 100 * MSS);
        c.on_exit_recovery(100 * MSS, MSS);
        assert_eq!(c.cwnd(), 70 * MSS);
        // Fast convergence: a second loss below the last W_max remembers less.
        c.on_enter_recovery(70 * MSS, MSS);
        assert_eq!(c.view().w_max, 70 * MSS * 17 / 20);
    }

    /// RFC 9438 §4.8: after a timeout the first congestion avoidance starts flat where slow start left the
    /// window (K = 0): the pre-timeout W_max is forgotten, as Linux's `bictcp_reset`.
    #[test]
    fn after_a_timeout_the_curve_starts_at_the_window_reached() {
        let mut c = Cubic::new(MSS);
        c.cwnd = 100 * MSS;
        c.on_timeout(100 * MSS, MSS);
        assert_eq!((c.cwnd, c.ssthresh, c.view().w_max), (MSS, 70 * MSS, 0));
        c.cwnd = c.ssthresh; // slow start reached ssthresh
        c.on_ack(&ack(MSS, 1_000, 0));
        assert_eq!(c.view().k_ms, 0, "the curve's plateau is here, not at the old W_max");
    }

    /// RFC 9438 §5.8: while the application limits the flow the window does not grow, and that time is left
    /// out of the curve's t: a flow that idled at the application for 5 s resumes on the curve where it left.
    #[test]
    fn time_limited_by_the_application_does_not_count_in_the_curve() {
        let run = |pause_ms: u64| {
            let mut c = Cubic::new(MSS);
            c.cwnd = 100 * MSS;
            c.on_enter_recovery(100 * MSS, MSS);
            c.cwnd = c.ssthresh;
            c.on_ack(&ack(MSS, 1_000, 100)); // the epoch starts at 1 s
            let before = c.cwnd();
            for t in (1_100..1_100 + pause_ms).step_by(100) {
                c.on_ack(&AckSample { cwnd_limited: false, ..ack(MSS, t, 100) });
            }
            assert_eq!(c.cwnd(), before, "no growth while application-limited");
            c.on_ack(&ack(MSS, 1_100 + pause_ms, 100));
            (c.cwnd(), c.view().epoch_start)
        };
        let (cwnd, start) = run(5_000);
        assert_eq!(start, Some(Instant::from_millis(1_000 + 5_000)), "the epoch moved by the pause");
        assert_eq!(cwnd, run(0).0, "the same window as without the pause");
    }

    #[test]
    fn the_window_follows_rfc_9438s_curve() {
        let mut c = Cubic::new(MSS);
        c.cwnd = 100 * MSS;
        c.on_enter_recovery(100 * MSS, MSS);
        c.cwnd = c.ssthresh; // as after recovery: 70 segments, W_max 100
                             // K = cbrt(W_max (1 - beta) / C) = cbrt(100 * 0.3 / 0.4) = cbrt(75) = 4.217 s.
        c.on_ack(&ack(MSS, 1_000, 0));
        assert_eq!(c.view().k_ms, 4217);
        // The curve itself, against the formula in floating point: C (t - K)^3 + W_max, in segments.
        for t in [0u64, 1_000, 2_000, 4_217, 6_000, 8_000] {
            let expected = 0.4 * ((t as f64 - 4217.0) / 1000.0).powi(3) + 100.0;
            let got = c.w_cubic(t, MSS) as f64 / MSS as f64;
            assert!((got - expected).abs() < 0.01, "t={t}: {got} vs {expected}");
        }
        // Acknowledging a window per RTT (100 ms) for 10 s: concave up to W_max by about K, then convex past it.
        let (mut now, rtt) = (1_000u64, 100u64);
        let mut at = Vec::new();
        while now < 11_000 {
            for _ in 0..c.cwnd() / MSS {
                c.on_ack(&ack(MSS, now, rtt));
            }
            now += rtt;
            at.push((now, c.cwnd() / MSS));
        }
        // The window tracks the curve (one RTT ahead, as RFC 9438 §4.2 aims): concave up to W_max by about K,
        // flat there, convex past it.
        let curve = |elapsed_ms: u64| 0.4 * ((elapsed_ms as f64 - 4217.0) / 1000.0).powi(3) + 100.0;
        for &(t, w) in at.iter().filter(|(t, _)| (t - 1_000) % 1_000 == 0) {
            let elapsed = t - 1_000;
            let (lo, hi) = (curve(elapsed.saturating_sub(rtt)) - 2.0, curve(elapsed + rtt) + 2.0);
            assert!((lo..=hi).contains(&(w as f64)), "t={elapsed} ms: {w} segments, the curve gives {lo}..{hi}");
        }
        let w = |t: u64| at.iter().find(|(n, _)| *n >= t).map(|(_, w)| *w).unwrap();
        assert!((98..=102).contains(&w(5_217)), "flat near W_max around K: {}", w(5_217));
        assert!(w(10_000) > 140, "then probing beyond (the curve: 143.8 at 9 s): {}", w(10_000));
    }

    #[test]
    fn at_short_rtts_it_is_at_least_as_fast_as_reno() {
        let mut c = Cubic::new(MSS);
        c.cwnd = 20 * MSS;
        c.on_timeout(20 * MSS, MSS);
        c.cwnd = c.ssthresh; // 14 segments, W_max 20
        let start = c.cwnd();
        // 1 ms RTT: the cubic curve barely moves in 100 round trips; Reno-friendly growth (≈0.53 segment per
        // RTT) carries the window.
        for now in 0..100 {
            for _ in 0..c.cwnd() / MSS {
                c.on_ack(&ack(MSS, now, 1));
            }
        }
        assert!(c.cwnd() >= start + 45 * MSS, "{} -> {}", start, c.cwnd());
    }
}
