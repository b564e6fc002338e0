//! Number formatting for the report: every figure with its unit.

/// A duration in seconds as `40 s`, `10.5 s`, or in milliseconds below one second.
pub(crate) fn dur(x: f64) -> String {
    if !x.is_finite() {
        return "n/a".into();
    }
    if x.abs() < 1.0 {
        return dur_ms(x);
    }
    let r = (x * 10.0).round() / 10.0;
    if r.fract() == 0.0 {
        format!("{r:.0} s")
    } else {
        format!("{r:.1} s")
    }
}

/// A duration in seconds written in milliseconds: `0.40 ms`, `12.3 ms`, `1000 ms`.
pub(crate) fn dur_ms(x: f64) -> String {
    if !x.is_finite() {
        return "n/a".into();
    }
    let ms = x * 1e3;
    if ms.abs() >= 100.0 {
        format!("{ms:.0} ms")
    } else if ms.abs() >= 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.2} ms")
    }
}

/// Seconds with two decimals: `68.55 s`.
pub(crate) fn s2(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.2} s")
    } else {
        "n/a".into()
    }
}

/// A 95 % CI as `[lo, hi] s`, or why there is none: every figure with an interval is over
/// replications (those that finished, that placed pods at a site, or that finished both with
/// and without a change), and one of them gives none.
pub(crate) fn ci(c: Option<(f64, f64)>) -> String {
    match c {
        Some((lo, hi)) => format!("[{lo:.2}, {hi:.2}] s"),
        None => "n/a (needs 2 replications)".into(),
    }
}
