//! Virtual time. The core never reads a clock: every input carries `now`.

use core::fmt;
use core::num::NonZeroU64;
use core::ops::{Add, Sub};
use core::time::Duration;

/// A point in time: nanoseconds since the driver's epoch (the simulator starts at 0).
///
/// Integer nanoseconds keep arithmetic exact and runs reproducible; `u64` covers 584 years. The one value
/// `u64::MAX` is left out (times saturate one below it, at [`Instant::MAX`]) so that an `Option<Instant>` takes
/// 8 bytes, not 16: a connection keeps about a dozen of them, and an idle one should stay small.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Instant(
    /// The nanoseconds, bit-inverted: never zero, since the nanoseconds are never `u64::MAX`.
    NonZeroU64,
);

/// The largest nanosecond count an [`Instant`] holds.
const MAX_NANOS: u64 = u64::MAX - 1;

impl Instant {
    /// The driver's epoch.
    pub const ZERO: Instant = Instant::from_nanos(0);
    /// Later than any real time; used for "never".
    pub const MAX: Instant = Instant::from_nanos(MAX_NANOS);

    /// `nanos` after the epoch (at most [`Instant::MAX`]).
    pub const fn from_nanos(nanos: u64) -> Instant {
        let nanos = if nanos > MAX_NANOS { MAX_NANOS } else { nanos };
        match NonZeroU64::new(!nanos) {
            Some(inverted) => Instant(inverted),
            None => Instant(NonZeroU64::MAX), // never: `nanos` is below `u64::MAX`
        }
    }
    pub const fn from_micros(micros: u64) -> Instant {
        Instant::from_nanos(micros.saturating_mul(1_000))
    }
    pub const fn from_millis(millis: u64) -> Instant {
        Instant::from_nanos(millis.saturating_mul(1_000_000))
    }
    pub const fn from_secs(secs: u64) -> Instant {
        Instant::from_nanos(secs.saturating_mul(1_000_000_000))
    }
    pub const fn as_nanos(self) -> u64 {
        !self.0.get()
    }
    /// The earlier of two optional times, `None` meaning never. Branch-free on the stored words: `None` is
    /// stored as 0, below every time, and a later time's inverted nanoseconds are smaller, so the earlier time
    /// is the larger word.
    pub(crate) fn earlier(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
        let word = |t: Option<Instant>| t.map_or(0, |t| t.0.get());
        NonZeroU64::new(word(a).max(word(b))).map(Instant)
    }

    /// Time elapsed since `earlier`, zero if `earlier` is in the future.
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_nanos(self.as_nanos().saturating_sub(earlier.as_nanos()))
    }
}

impl Default for Instant {
    fn default() -> Instant {
        Instant::ZERO
    }
}

impl PartialOrd for Instant {
    fn partial_cmp(&self, other: &Instant) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Instant {
    fn cmp(&self, other: &Instant) -> core::cmp::Ordering {
        self.as_nanos().cmp(&other.as_nanos())
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Instant").field(&self.as_nanos()).finish()
    }
}

fn duration_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Add<Duration> for Instant {
    type Output = Instant;
    /// Saturates at [`Instant::MAX`] instead of overflowing.
    fn add(self, rhs: Duration) -> Instant {
        Instant::from_nanos(self.as_nanos().saturating_add(duration_nanos(rhs)))
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;
    fn sub(self, rhs: Duration) -> Instant {
        Instant::from_nanos(self.as_nanos().saturating_sub(duration_nanos(rhs)))
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, rhs: Instant) -> Duration {
        self.saturating_duration_since(rhs)
    }
}

impl fmt::Display for Instant {
    /// Seconds with nanosecond precision, e.g. `1.000250000`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:09}", self.as_nanos() / 1_000_000_000, self.as_nanos() % 1_000_000_000)
    }
}

/// A stored duration in one word: whole nanoseconds (up to 584 years; longer saturates), and an
/// `Option<Span>` is one word too (bit-inverted, like [`Instant`]). Arithmetic stays on `Duration`: a span is
/// only how a connection keeps a duration, converted without loss both ways.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span(NonZeroU64);

impl Span {
    pub(crate) const ZERO: Span = Span(NonZeroU64::MAX);

    pub(crate) fn new(d: Duration) -> Span {
        let nanos = duration_nanos(d).min(MAX_NANOS);
        NonZeroU64::new(!nanos).map_or(Span::ZERO, Span)
    }

    pub(crate) fn get(self) -> Duration {
        Duration::from_nanos(self.nanos())
    }

    /// The span in whole nanoseconds (what arithmetic on the hot path works in: no seconds to split off).
    pub(crate) fn nanos(self) -> u64 {
        !self.0.get()
    }

    /// `nanos` nanoseconds, saturating as [`Span::new`] does.
    pub(crate) fn from_nanos(nanos: u128) -> Span {
        let nanos = u64::try_from(nanos).unwrap_or(u64::MAX).min(MAX_NANOS);
        NonZeroU64::new(!nanos).map_or(Span::ZERO, Span)
    }
}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.get().fmt(f)
    }
}

impl Default for Span {
    fn default() -> Span {
        Span::ZERO
    }
}

impl From<Duration> for Span {
    fn from(d: Duration) -> Span {
        Span::new(d)
    }
}

/// Keeps time monotonic: a `now` earlier than the last one seen is treated as the last one.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Clock {
    last: Instant,
}

impl Clock {
    /// The latest time the stack was told.
    pub(crate) fn now(&self) -> Instant {
        self.last
    }

    pub(crate) fn advance(&mut self, now: Instant) -> Instant {
        if now > self.last {
            self.last = now;
        }
        self.last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates() {
        assert_eq!(Instant::MAX + Duration::from_secs(1), Instant::MAX);
        assert_eq!(Instant::ZERO - Duration::from_secs(1), Instant::ZERO);
        assert_eq!(Instant::from_secs(1) - Instant::from_secs(2), Duration::ZERO);
        assert_eq!(Instant::from_millis(1500).to_string(), "1.500000000");
        assert_eq!(Instant::from_nanos(u64::MAX), Instant::MAX);
        assert_eq!(Instant::MAX.as_nanos(), u64::MAX - 1);
    }

    #[test]
    fn a_span_keeps_a_duration_exactly_in_one_word() {
        assert_eq!(core::mem::size_of::<Option<Span>>(), 8);
        for d in [Duration::ZERO, Duration::from_nanos(1), Duration::new(3, 999_999_999), Duration::from_secs(1 << 33)]
        {
            assert_eq!(Span::new(d).get(), d);
        }
        assert_eq!(Span::ZERO.get(), Duration::ZERO);
        assert_eq!(Span::new(Duration::MAX).get(), Duration::from_nanos(u64::MAX - 1));
    }

    #[test]
    fn the_earlier_of_two_optional_times_treats_none_as_never() {
        let times =
            [None, Some(Instant::ZERO), Some(Instant::from_nanos(7)), Some(Instant::from_secs(9)), Some(Instant::MAX)];
        for a in times {
            for b in times {
                let want = match (a, b) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, None) => a,
                    (None, b) => b,
                };
                assert_eq!(Instant::earlier(a, b), want, "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn an_optional_instant_is_one_word_and_orders_by_time() {
        assert_eq!(core::mem::size_of::<Option<Instant>>(), 8);
        let (a, b) = (Instant::from_nanos(1), Instant::from_nanos(2));
        assert!(a < b && Instant::ZERO < a && b < Instant::MAX);
        assert_eq!(Instant::default(), Instant::ZERO);
        assert_eq!(format!("{b:?}"), "Instant(2)");
    }

    #[test]
    fn clock_never_goes_backwards() {
        let mut c = Clock::default();
        assert_eq!(c.advance(Instant::from_secs(5)), Instant::from_secs(5));
        assert_eq!(c.advance(Instant::from_secs(3)), Instant::from_secs(5));
        assert_eq!(c.advance(Instant::from_secs(6)), Instant::from_secs(6));
    }
}
