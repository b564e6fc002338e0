//! Numbers as a person reads them in a message.

/// `v` as Rust prints it (the shortest text that reads back to `v`) when that is short, and in
/// scientific notation when it is not: `1e308` rather than 309 digits, `1e-300` rather than 300
/// zeros. For echoing a user's out-of-range value in an error.
pub fn number(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 || !a.is_finite() || (1e-4..1e15).contains(&a) {
        v.to_string()
    } else {
        format!("{v:e}")
    }
}

#[cfg(test)]
mod tests {
    use super::number;

    #[test]
    fn short_numbers_stay_as_typed_and_extreme_ones_turn_scientific() {
        assert_eq!(number(2.1), "2.1");
        assert_eq!(number(-100.0), "-100");
        assert_eq!(number(0.0), "0");
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(number(f64::INFINITY), "inf");
        assert_eq!(number(1e308), "1e308");
        assert_eq!(number(1e-300), "1e-300");
        assert_eq!(number(-2.5e20), "-2.5e20");
    }
}
