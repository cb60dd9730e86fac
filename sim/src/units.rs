//! Human units in scenarios: durations ("10ms", "1.5s") and bit rates ("10Mbit", "1Gbit").

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;
use std::time::Duration;

/// A duration written as a number with a unit: `ns`, `us`, `ms`, `s`, `min` (e.g. `"250us"`, `"1.5s"`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dur(pub Duration);

/// A bit rate written as a number with a unit: `bit`, `kbit`, `Mbit`, `Gbit` (per second), or a plain integer
/// of bits per second.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rate(pub u64);

fn split_number(s: &str) -> Option<(f64, &str)> {
    let s = s.trim();
    let end = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (num, unit) = s.split_at(end);
    let n: f64 = num.parse().ok()?;
    (n.is_finite() && n >= 0.0).then_some((n, unit.trim()))
}

/// Parses `"10ms"` and friends.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let err = || format!("invalid duration {s:?}: expected a number and a unit (ns, us, ms, s, min), e.g. \"10ms\"");
    let (n, unit) = split_number(s).ok_or_else(err)?;
    let scale = match unit {
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "min" => 60e9,
        _ => return Err(err()),
    };
    let nanos = (n * scale).round();
    if nanos > u64::MAX as f64 {
        return Err(format!("duration {s:?} is too long: at most {}", format_duration(Duration::from_nanos(u64::MAX))));
    }
    Ok(Duration::from_nanos(nanos as u64))
}

/// Writes a duration the way [`parse_duration`] reads it, exactly.
pub fn format_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        "0s".into()
    } else if ns % 1_000_000_000 == 0 {
        format!("{}s", ns / 1_000_000_000)
    } else if ns % 1_000_000 == 0 {
        format!("{}ms", ns / 1_000_000)
    } else if ns % 1_000 == 0 {
        format!("{}us", ns / 1_000)
    } else {
        format!("{ns}ns")
    }
}

/// Parses `"10Mbit"` and friends into bits per second.
pub fn parse_rate(s: &str) -> Result<u64, String> {
    let err = || format!("invalid rate {s:?}: expected a number and a unit (bit, kbit, Mbit, Gbit), e.g. \"10Mbit\"");
    let (n, unit) = split_number(s).ok_or_else(err)?;
    let scale = match unit {
        "bit" | "bps" | "" => 1.0,
        "kbit" => 1e3,
        "Mbit" => 1e6,
        "Gbit" => 1e9,
        _ => return Err(err()),
    };
    let bps = (n * scale).round();
    if bps < 1.0 {
        return Err(format!("rate {s:?} must be positive (at least 1bit)"));
    }
    if bps > u64::MAX as f64 {
        return Err(format!("rate {s:?} is too high: at most {} bit/s", u64::MAX));
    }
    Ok(bps as u64)
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Dur;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration string such as \"10ms\"")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Dur, E> {
                parse_duration(s).map(Dur).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

impl Serialize for Dur {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_duration(self.0))
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Rate;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a rate such as \"10Mbit\" or an integer of bits per second")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Rate, E> {
                parse_rate(s).map(Rate).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Rate, E> {
                u64::try_from(v).ok().filter(|v| *v > 0).map(Rate).ok_or_else(|| E::custom("rate must be positive"))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Rate, E> {
                (v > 0).then_some(Rate(v)).ok_or_else(|| E::custom("rate must be positive"))
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for Rate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{}bit", self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_round_trip() {
        for (s, ns) in
            [("10ms", 10_000_000), ("1.5s", 1_500_000_000), ("250us", 250_000), ("7ns", 7), ("2min", 120e9 as u64)]
        {
            let d = parse_duration(s).unwrap();
            assert_eq!(d.as_nanos() as u64, ns, "{s}");
            assert_eq!(parse_duration(&format_duration(d)).unwrap(), d);
        }
        for bad in ["", "10", "ms", "10 parsecs", "-1s", "1e3s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    /// Values that parse as a number and a unit but cannot be used say so, not "expected a number and a unit".
    #[test]
    fn out_of_range_values_say_what_is_wrong() {
        assert!(parse_rate("0Mbit").unwrap_err().contains("must be positive"));
        assert!(parse_rate("99999999999Gbit").unwrap_err().contains("too high"));
        assert!(parse_duration("18446744074s").unwrap_err().contains("too long"));
    }

    #[test]
    fn rates_parse() {
        assert_eq!(parse_rate("10Mbit").unwrap(), 10_000_000);
        assert_eq!(parse_rate("1.5Gbit").unwrap(), 1_500_000_000);
        assert!(parse_rate("10MB").is_err());
        assert!(parse_rate("0bit").is_err());
    }
}
