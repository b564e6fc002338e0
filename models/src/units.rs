//! Quantities with units as scenario files write them: `"100ms"`, `"2s"`, `"100Mbit"`.
//!
//! A bare number is rejected: a delay of `100` could mean seconds or milliseconds, and a wrong
//! guess silently shifts every result by a factor of 1000.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sim_core::SimDuration;

/// A duration written with its unit: `ns`, `us`/`µs`, `ms`, `s`, `m`, `h` (e.g. `"1.5s"`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Dur(pub SimDuration);

/// A bandwidth written with its unit: `bit`, `kbit`, `Mbit`, `Gbit` per second (tc's spelling).
#[derive(Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Bandwidth {
    /// Bits per second.
    pub bits_per_s: f64,
}

/// Why a quantity did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UnitError(pub String);

impl Dur {
    /// `ms` milliseconds.
    pub const fn millis(ms: u64) -> Self {
        Dur(SimDuration::from_millis(ms))
    }
    /// `s` seconds.
    pub const fn secs(s: u64) -> Self {
        Dur(SimDuration::from_secs(s))
    }
    /// The span.
    pub fn get(self) -> SimDuration {
        self.0
    }
    /// The span in seconds.
    pub fn secs_f64(self) -> f64 {
        self.0.as_secs_f64()
    }
}

/// Splits `"1.5e3ms"` into `("1.5e3", "ms")`: digits, a decimal point, a sign and an exponent
/// (`e` followed by a digit or a sign) belong to the number.
fn split_number(s: &str) -> (&str, &str) {
    let b = s.as_bytes();
    let mut end = 0;
    while end < b.len() {
        let c = b[end];
        let exponent = (c == b'e' || c == b'E')
            && end > 0
            && b.get(end + 1)
                .is_some_and(|n| n.is_ascii_digit() || *n == b'-' || *n == b'+');
        if c.is_ascii_digit() || c == b'.' || c == b'-' || c == b'+' || exponent {
            end += 1;
        } else {
            break;
        }
    }
    (&s[..end], s[end..].trim())
}

impl FromStr for Dur {
    type Err = UnitError;
    fn from_str(raw: &str) -> Result<Self, UnitError> {
        let s = raw.trim();
        let (num, unit) = split_number(s);
        let value: f64 = num.parse().map_err(|_| {
            UnitError(format!(
                "expected a duration such as \"100ms\" or \"2s\", got \"{raw}\""
            ))
        })?;
        if value < 0.0 {
            return Err(UnitError(format!("a duration cannot be negative, got \"{raw}\"")));
        }
        let scale = match unit {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" | "min" => 60.0,
            "h" => 3600.0,
            "" => {
                return Err(UnitError(format!(
                    "a duration needs a unit (ns, us, ms, s, m, h), got the bare number \"{raw}\""
                )))
            }
            other => {
                return Err(UnitError(format!(
                    "unknown duration unit \"{other}\" in \"{raw}\"; use ns, us, ms, s, m or h"
                )))
            }
        };
        let secs = value * scale;
        if !secs.is_finite() || secs > 1e9 {
            // 1e9 s is what a duration can hold here; a scenario's checks allow 30 days (E015),
            // and most users meet this bound through a unit typo, so both are named.
            return Err(UnitError(format!(
                "duration \"{raw}\" is too large (a scenario's durations are at most 30 days, \"720h\"; check the unit)"
            )));
        }
        Ok(Dur(SimDuration::from_secs_f64(secs)))
    }
}

/// The smallest bandwidth a scenario may give: 1 kbit/s. Not a property of any software: below
/// it a single API object takes longer than the kubelet's timeouts to cross a link, so a
/// smaller figure is a slip of the unit, which the parser says rather than running for hours.
pub const MIN_BANDWIDTH_BITS_PER_S: f64 = 1e3;

impl FromStr for Bandwidth {
    type Err = UnitError;
    fn from_str(raw: &str) -> Result<Self, UnitError> {
        let s = raw.trim();
        let (num, unit) = split_number(s);
        let value: f64 = num
            .parse()
            .map_err(|_| UnitError(format!("expected a bandwidth such as \"100Mbit\", got \"{raw}\"")))?;
        let scale = match unit {
            "bit" => 1.0,
            "kbit" | "Kbit" => 1e3,
            "mbit" | "Mbit" => 1e6,
            "gbit" | "Gbit" => 1e9,
            "" => {
                return Err(UnitError(format!(
                    "a bandwidth needs a unit (bit, kbit, Mbit, Gbit), got \"{raw}\""
                )))
            }
            other if other.to_ascii_lowercase().ends_with("bps") => {
                // tc reads `bps`, `kbps`, `mbps` as bytes per second (tc(8), "RATES"), where
                // most people mean bits: refused rather than guessed.
                return Err(UnitError(format!(
                    "\"{other}\" in \"{raw}\" is ambiguous: tc reads it as bytes per second, most people as bits; write bits with bit, kbit, Mbit or Gbit (\"20Mbit\"), or, for bytes per second, eight times the number in bits"
                )));
            }
            other => {
                return Err(UnitError(format!(
                    "unknown bandwidth unit \"{other}\" in \"{raw}\"; use bit, kbit, Mbit or Gbit"
                )))
            }
        };
        let bits = value * scale;
        if !bits.is_finite() {
            return Err(UnitError(format!(
                "\"{raw}\" is too large to be a bandwidth; expected a finite number of bits per second, such as \"10Gbit\""
            )));
        }
        if bits <= 0.0 {
            return Err(UnitError(format!("a bandwidth must be positive, got \"{raw}\"")));
        }
        if bits < MIN_BANDWIDTH_BITS_PER_S {
            return Err(UnitError(format!(
                "\"{raw}\" is below 1kbit: at that rate one API object (about 1 kB) takes over 8 s to send and no run finishes; expected at least \"1kbit\" (check the unit: kbit, Mbit, Gbit)"
            )));
        }
        Ok(Bandwidth { bits_per_s: bits })
    }
}

impl Bandwidth {
    /// `m` megabits per second.
    pub fn mbit(m: f64) -> Self {
        Bandwidth { bits_per_s: m * 1e6 }
    }
    /// Time to put `bytes` on the wire.
    pub fn serialize(self, bytes: u64) -> SimDuration {
        SimDuration::from_secs_f64(bytes as f64 * 8.0 / self.bits_per_s)
    }
}

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.as_nanos();
        if n.is_multiple_of(1_000_000_000) {
            write!(f, "{}s", n / 1_000_000_000)
        } else if n.is_multiple_of(1_000_000) {
            write!(f, "{}ms", n / 1_000_000)
        } else if n.is_multiple_of(1_000) {
            write!(f, "{}us", n / 1_000)
        } else {
            write!(f, "{n}ns")
        }
    }
}

impl fmt::Debug for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl fmt::Display for Bandwidth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}Mbit", self.bits_per_s / 1e6)
    }
}

impl fmt::Debug for Bandwidth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl Serialize for Dur {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d).map_err(|_| {
            serde::de::Error::custom("expected a duration string with a unit, such as \"100ms\" or \"2s\"")
        })?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl Serialize for Bandwidth {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Bandwidth {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)
            .map_err(|_| serde::de::Error::custom("expected a bandwidth string with a unit, such as \"100Mbit\""))?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_need_units() {
        assert_eq!("100ms".parse::<Dur>().unwrap(), Dur::millis(100));
        assert_eq!("1.5s".parse::<Dur>().unwrap(), Dur::millis(1500));
        assert_eq!("250us".parse::<Dur>().unwrap().0, SimDuration::from_micros(250));
        assert!("100".parse::<Dur>().unwrap_err().0.contains("needs a unit"));
        assert!("100 parsecs"
            .parse::<Dur>()
            .unwrap_err()
            .0
            .contains("unknown duration unit"));
        assert!("-5ms".parse::<Dur>().unwrap_err().0.contains("negative"));
        assert!("1e300s".parse::<Dur>().is_err());
        assert_eq!("1e3ms".parse::<Dur>().unwrap(), Dur::secs(1));
        assert_eq!(Dur::millis(100).to_string(), "100ms");
    }

    /// A duration past what one can hold says what a scenario allows, in the unit to check (a
    /// `1e30ms` said "at most 1e9 s", where scenarios allow 30 days).
    #[test]
    fn a_duration_too_large_names_the_scenarios_limit() {
        let e = "1e30ms".parse::<Dur>().unwrap_err().to_string();
        assert!(e.contains("at most 30 days, \"720h\"; check the unit"), "{e}");
        assert!("720h".parse::<Dur>().is_ok());
    }

    #[test]
    fn bandwidths_need_units() {
        assert_eq!("100Mbit".parse::<Bandwidth>().unwrap().bits_per_s, 1e8);
        assert!("100".parse::<Bandwidth>().is_err());
        assert!("0Mbit".parse::<Bandwidth>().is_err());
        let too_large = "1e308Gbit".parse::<Bandwidth>().unwrap_err().to_string();
        assert!(too_large.contains("too large"), "{too_large}");
        assert_eq!(Bandwidth::mbit(8.0).serialize(1_000_000), SimDuration::from_secs(1));
    }

    /// tc reads `bps` as bytes per second; a reviewer's `"2500000bps"`, meant as tc's 20 Mbit/s,
    /// ran as 2.5 Mbit/s. Every spelling of it is refused, and a rate too small to carry an API
    /// object is a unit slip, not a run that times out hours later.
    #[test]
    fn bytes_per_second_spellings_and_tiny_rates_are_refused() {
        for raw in ["2500000bps", "100Mbps", "100mbps", "1kbps", "1Gbps"] {
            let e = raw.parse::<Bandwidth>().unwrap_err().to_string();
            assert!(e.contains("ambiguous") && e.contains("bytes per second"), "{raw}: {e}");
        }
        let e = "1e-30bit".parse::<Bandwidth>().unwrap_err().to_string();
        assert!(e.contains("below 1kbit"), "{e}");
        assert_eq!("1kbit".parse::<Bandwidth>().unwrap().bits_per_s, 1e3);
        assert_eq!("1000bit".parse::<Bandwidth>().unwrap().bits_per_s, 1e3);
    }
}
