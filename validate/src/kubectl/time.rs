//! RFC 3339 timestamps as the Kubernetes API prints them.
//!
//! kubectl prints `metadata.creationTimestamp`, condition `lastTransitionTime`, container `startedAt` and
//! event `firstTimestamp`/`lastTimestamp` with whole seconds (`2026-11-25T12:03:54Z`), and an event's
//! `eventTime` with microseconds (`2026-11-25T12:03:54.499379Z`); both shapes are in the captures under
//! `shared/data/kubectl-captures/`. This is a small hand parser rather than a date-time crate: the API
//! server always writes UTC with `Z`, but numeric offsets are accepted too.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::{Serialize, Serializer};

const MICROS_PER_SECOND: i64 = 1_000_000;

/// An instant in UTC with microsecond resolution, as written in Kubernetes objects.
///
/// Ordered by time. Fractions finer than a microsecond are truncated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    micros: i64,
}

/// Why a string is not an RFC 3339 timestamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an RFC 3339 timestamp ({reason}): {input:?}")]
pub struct TimestampError {
    /// The rejected text (cut to 64 characters).
    pub input: String,
    /// What was wrong with it.
    pub reason: &'static str,
}

impl Timestamp {
    /// The instant `micros` microseconds after 1970-01-01T00:00:00Z.
    pub fn from_unix_micros(micros: i64) -> Self {
        Self { micros }
    }

    /// Microseconds since 1970-01-01T00:00:00Z.
    pub fn unix_micros(self) -> i64 {
        self.micros
    }

    /// The instant `seconds` whole seconds after 1970-01-01T00:00:00Z (saturating far outside year 0–9999).
    pub fn from_unix_seconds(seconds: i64) -> Self {
        Self {
            micros: seconds.saturating_mul(MICROS_PER_SECOND),
        }
    }

    /// Seconds from `earlier` to `self`; negative when `self` is before `earlier`.
    pub fn seconds_since(self, earlier: Timestamp) -> f64 {
        let delta = i128::from(self.micros) - i128::from(earlier.micros);
        // Exact for any span below 2^53 µs (285 years).
        delta as f64 / MICROS_PER_SECOND as f64
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`.
    ///
    /// `t`, `z` and a space instead of `T` are accepted, as RFC 3339 allows. A leap second (`:60`) is
    /// read as the first instant of the next minute.
    ///
    /// # Errors
    /// [`TimestampError`] naming the first thing that does not fit.
    pub fn parse(input: &str) -> Result<Self, TimestampError> {
        let fail = |reason| TimestampError {
            input: input.chars().take(64).collect(),
            reason,
        };
        let b = input.as_bytes();
        if b.len() < 20 {
            return Err(fail("too short"));
        }
        let num = |range: std::ops::Range<usize>, reason| -> Result<i64, TimestampError> {
            let digits = &b[range];
            if !digits.iter().all(u8::is_ascii_digit) {
                return Err(fail(reason));
            }
            Ok(digits.iter().fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0')))
        };
        let year = num(0..4, "year must be four digits")?;
        if b[4] != b'-' || b[7] != b'-' {
            return Err(fail("expected YYYY-MM-DD"));
        }
        let month = num(5..7, "month must be two digits")?;
        let day = num(8..10, "day must be two digits")?;
        if !matches!(b[10], b'T' | b't' | b' ') {
            return Err(fail("expected 'T' between date and time"));
        }
        let hour = num(11..13, "hour must be two digits")?;
        if b[13] != b':' || b[16] != b':' {
            return Err(fail("expected HH:MM:SS"));
        }
        let minute = num(14..16, "minute must be two digits")?;
        let second = num(17..19, "second must be two digits")?;
        if !(1..=12).contains(&month) {
            return Err(fail("month out of range"));
        }
        if day < 1 || day > days_in_month(year, month) {
            return Err(fail("day out of range"));
        }
        if hour > 23 || minute > 59 || second > 60 {
            return Err(fail("time of day out of range"));
        }
        let mut pos = 19;
        let mut fraction_micros = 0i64;
        if b[pos] == b'.' {
            pos += 1;
            let start = pos;
            while pos < b.len() && b[pos].is_ascii_digit() {
                if pos - start < 6 {
                    fraction_micros = fraction_micros * 10 + i64::from(b[pos] - b'0');
                }
                pos += 1;
            }
            let digits = pos - start;
            if digits == 0 {
                return Err(fail("empty fraction of a second"));
            }
            for _ in digits..6 {
                fraction_micros *= 10;
            }
        }
        let offset_seconds = match b.get(pos) {
            Some(b'Z' | b'z') if pos + 1 == b.len() => 0,
            Some(sign @ (b'+' | b'-')) if pos + 6 == b.len() && b[pos + 3] == b':' => {
                let oh = num(pos + 1..pos + 3, "offset hour must be two digits")?;
                let om = num(pos + 4..pos + 6, "offset minute must be two digits")?;
                if oh > 23 || om > 59 {
                    return Err(fail("offset out of range"));
                }
                let off = oh * 3600 + om * 60;
                if *sign == b'-' {
                    -off
                } else {
                    off
                }
            }
            _ => return Err(fail("expected 'Z' or ±HH:MM at the end")),
        };
        let days = days_from_civil(year, month, day);
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
        Ok(Self {
            micros: seconds * MICROS_PER_SECOND + fraction_micros,
        })
    }
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

impl fmt::Display for Timestamp {
    /// Writes UTC with `Z`, whole seconds when there is no fraction, else the fraction without trailing zeros.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = self.micros.div_euclid(MICROS_PER_SECOND);
        let fraction = self.micros.rem_euclid(MICROS_PER_SECOND);
        let (year, month, day) = civil_from_days(seconds.div_euclid(86_400));
        let sod = seconds.rem_euclid(86_400);
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
            sod / 3600,
            sod / 60 % 60,
            sod % 60
        )?;
        if fraction != 0 {
            let digits = format!("{fraction:06}");
            write!(f, ".{}", digits.trim_end_matches('0'))?;
        }
        f.write_str("Z")
    }
}

impl FromStr for Timestamp {
    type Err = TimestampError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TimestampVisitor;
        impl Visitor<'_> for TimestampVisitor {
            type Value = Timestamp;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RFC 3339 timestamp string")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Timestamp, E> {
                Timestamp::parse(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(TimestampVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_whole_seconds_and_microseconds_from_the_captures() {
        let created = Timestamp::parse("2026-11-25T12:03:54Z").unwrap();
        let bound = Timestamp::parse("2026-11-25T12:03:54.499379Z").unwrap();
        assert_eq!(bound.seconds_since(created), 0.499379);
        assert_eq!(created.to_string(), "2026-11-25T12:03:54Z");
        assert_eq!(bound.to_string(), "2026-11-25T12:03:54.499379Z");
    }

    #[test]
    fn known_epoch_values() {
        assert_eq!(Timestamp::parse("1970-01-01T00:00:00Z").unwrap().unix_micros(), 0);
        assert_eq!(
            Timestamp::parse("2000-03-01T00:00:00Z").unwrap(),
            Timestamp::from_unix_seconds(951_868_800)
        );
        assert_eq!(
            Timestamp::parse("2026-11-25T13:03:54+01:00").unwrap(),
            Timestamp::parse("2026-11-25T12:03:54Z").unwrap()
        );
        assert_eq!(
            Timestamp::parse("1969-12-31T23:59:59.5Z").unwrap().unix_micros(),
            -500_000
        );
        assert_eq!(
            Timestamp::from_unix_micros(-500_000).to_string(),
            "1969-12-31T23:59:59.5Z"
        );
    }

    #[test]
    fn rejects_malformed_input_without_panicking() {
        for bad in [
            "",
            "2026-11-25",
            "2026-11-25T12:03:54",
            "2026-13-25T12:03:54Z",
            "2026-02-29T12:03:54Z",
            "2026-11-25T24:00:00Z",
            "2026-11-25T12:03:54.Z",
            "2026-11-25T12:03:54Zjunk",
            "2026-11-25T12:03:54+0100",
            "20a6-11-25T12:03:54Z",
            "2026-11-25T12:03:54\u{e9}",
            "ééééééééééééééééééééééé",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(Timestamp::parse("2024-02-29T00:00:00Z").is_ok());
    }

    #[test]
    fn deserializes_null_as_none() {
        let v: Option<Timestamp> = serde_json::from_str("null").unwrap();
        assert_eq!(v, None);
        let err = serde_json::from_str::<Timestamp>("\"yesterday\"").unwrap_err();
        assert!(err.to_string().contains("RFC 3339"), "{err}");
    }

    proptest::proptest! {
        #[test]
        fn display_then_parse_round_trips(micros in -62_135_596_800_000_000i64..253_402_300_799_999_999i64) {
            let t = Timestamp::from_unix_micros(micros);
            proptest::prop_assert_eq!(Timestamp::parse(&t.to_string()).unwrap(), t);
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,40}") {
            let _ = Timestamp::parse(&s);
        }
    }
}
