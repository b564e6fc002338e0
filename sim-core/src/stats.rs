//! Online statistics for simulation output: moments, confidence intervals and quantiles.
//!
//! - [`OnlineStats`] keeps count, mean, variance, min and max of a stream in O(1) memory with
//!   Welford's update (B. P. Welford, *Technometrics* 4(3), 1962), and merges two accumulators with
//!   the pairwise formula of Chan, Golub & LeVeque (1979), so per-replication results can be
//!   combined without keeping the samples.
//! - [`OnlineStats::confidence_interval`] / [`OnlineStats::ci95`] give a Student-t interval for the
//!   mean, with the quantile taken from [`statrs::distribution::StudentsT`] (n − 1 degrees of
//!   freedom), which is what a replication-based simulation study reports.
//! - [`Samples`] keeps every value and answers exact quantiles with linear interpolation between
//!   order statistics (Hyndman & Fan type 7, the default of R's `quantile` and numpy's `percentile`).
//! - [`P2Quantile`] estimates one quantile of an arbitrarily long stream in O(1) memory with the
//!   P² algorithm (R. Jain & I. Chlamtac, *Communications of the ACM* 28(10), 1985).
//!
//! Values are `f64`; convert [`SimDuration`](crate::SimDuration)s with `as_secs_f64` first. Nothing
//! here feeds back into the simulated clock.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ChiSquared, ContinuousCDF, StudentsT};
use thiserror::Error;

/// Errors from building a statistics accumulator.
///
/// All variants come from a bad parameter at construction time: nothing has been recorded yet, and
/// the run can continue once the parameter is fixed.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum StatsError {
    /// A quantile probability outside the open interval (0, 1), or NaN.
    #[error("quantile probability {p} is not in the open interval (0, 1)")]
    InvalidProbability {
        /// The rejected probability.
        p: f64,
    },
}

/// Count, mean, variance, min and max of a stream of values, in O(1) memory.
///
/// Uses Welford's running update, which stays accurate when the values share a large offset (for
/// example timestamps in nanoseconds), where the textbook `Σx² − n·x̄²` loses every digit.
/// [`merge`](Self::merge) combines two accumulators exactly as if one had seen both streams.
///
/// Non-finite inputs (NaN, ±∞) are accepted and propagate into the mean and variance; `min` and
/// `max` ignore NaN.
///
/// # Example
///
/// ```
/// use sim_core::stats::OnlineStats;
///
/// let s: OnlineStats = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0].into_iter().collect();
/// assert_eq!(s.mean(), Some(5.0));
/// assert_eq!(s.population_variance(), Some(4.0));
/// let ci = s.ci95().unwrap();
/// assert!(ci.lo < 5.0 && 5.0 < ci.hi);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OnlineStats {
    count: u64,
    mean: f64,
    /// Sum of squared deviations from the current mean.
    m2: f64,
    /// `None` while empty (so that an empty accumulator survives a JSON round trip, which has no ∞).
    min: Option<f64>,
    max: Option<f64>,
}

impl Default for OnlineStats {
    fn default() -> Self {
        Self::new()
    }
}

impl OnlineStats {
    /// An empty accumulator.
    pub const fn new() -> Self {
        OnlineStats {
            count: 0,
            mean: 0.0,
            m2: 0.0,
            min: None,
            max: None,
        }
    }

    /// Records one value. O(1).
    pub fn push(&mut self, x: f64) {
        self.count += 1;
        let delta = x - self.mean;
        self.mean += delta / self.count as f64;
        self.m2 += delta * (x - self.mean);
        self.min = Some(self.min.map_or(x, |m| m.min(x)));
        self.max = Some(self.max.map_or(x, |m| m.max(x)));
    }

    /// Folds `other` into `self`, as if every value pushed into `other` had been pushed here. O(1).
    ///
    /// Uses the pairwise update of Chan, Golub & LeVeque: with `δ = mean_b − mean_a`,
    /// `M2 = M2_a + M2_b + δ²·n_a·n_b / n`. Merging is commutative up to rounding.
    pub fn merge(&mut self, other: &OnlineStats) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = other.clone();
            return;
        }
        let (na, nb) = (self.count as f64, other.count as f64);
        let n = na + nb;
        let delta = other.mean - self.mean;
        self.mean += delta * nb / n;
        self.m2 += other.m2 + delta * delta * na * nb / n;
        self.count += other.count;
        self.min = self.min.zip(other.min).map(|(a, b)| a.min(b));
        self.max = self.max.zip(other.max).map(|(a, b)| a.max(b));
    }

    /// Number of values recorded.
    pub const fn count(&self) -> u64 {
        self.count
    }

    /// Whether nothing has been recorded.
    pub const fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Arithmetic mean, or `None` when empty.
    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then_some(self.mean)
    }

    /// Sum of the values (`mean · count`), zero when empty.
    pub fn sum(&self) -> f64 {
        self.mean * self.count as f64
    }

    /// Unbiased sample variance (divisor n − 1), or `None` with fewer than two values.
    pub fn variance(&self) -> Option<f64> {
        (self.count > 1).then(|| self.m2 / (self.count - 1) as f64)
    }

    /// Population variance (divisor n), or `None` when empty.
    pub fn population_variance(&self) -> Option<f64> {
        (self.count > 0).then(|| self.m2 / self.count as f64)
    }

    /// Sample standard deviation (square root of [`variance`](Self::variance)).
    pub fn std_dev(&self) -> Option<f64> {
        self.variance().map(f64::sqrt)
    }

    /// Standard error of the mean, `s / √n`, or `None` with fewer than two values.
    pub fn std_err(&self) -> Option<f64> {
        self.std_dev().map(|s| s / (self.count as f64).sqrt())
    }

    /// Smallest value, or `None` when empty.
    pub fn min(&self) -> Option<f64> {
        self.min
    }

    /// Largest value, or `None` when empty.
    pub fn max(&self) -> Option<f64> {
        self.max
    }

    /// Two-sided Student-t confidence interval for the mean at `level` (e.g. `0.99`).
    ///
    /// The half-width is `t · s / √n` with `t` the `(1 + level) / 2` quantile of Student's t with
    /// n − 1 degrees of freedom. The interval assumes independent, roughly normal values, which is
    /// why a study feeds it one value per replication (for example each run's mean latency), not
    /// the correlated observations inside one run. Costs one inverse regularised incomplete beta
    /// evaluation (a few microseconds); call it when reporting, not per sample.
    ///
    /// Returns `None` with fewer than two values, or when `level` is not in the open interval
    /// (0, 1) or is NaN.
    pub fn confidence_interval(&self, level: f64) -> Option<ConfidenceInterval> {
        self.t_interval(level, 0.0, |s| s / (self.count as f64).sqrt())
    }

    /// [`confidence_interval`](Self::confidence_interval) of values read at resolution `res`
    /// (kubectl's whole seconds: `1.0`) by an observer of random phase: the standard deviation
    /// is taken as at least [`reading_sd`]`(res)`, the spread the reading alone gives them, so
    /// that a few readings that happen to coincide (three runs all read as 90 s) do not make an
    /// interval of zero width.
    pub fn confidence_interval_read_at(&self, level: f64, res: f64) -> Option<ConfidenceInterval> {
        self.t_interval(level, reading_sd(res), |s| s / (self.count as f64).sqrt())
    }

    /// The 95 % Student-t confidence interval for the mean; see
    /// [`confidence_interval`](Self::confidence_interval).
    ///
    /// Returns `None` with fewer than two values.
    pub fn ci95(&self) -> Option<ConfidenceInterval> {
        self.confidence_interval(0.95)
    }

    /// A Student-t prediction interval for the mean of `m` new values drawn from the same
    /// distribution: where, at `level`, the mean of a future `m`-run measurement should fall if
    /// the values here describe it. The half-width is `t · s · √(1/m + 1/n)`: the spread of an
    /// `m`-value mean plus the uncertainty of this sample's own mean, with `t` the
    /// `(1 + level) / 2` quantile of Student's t with n − 1 degrees of freedom (the standard
    /// interval for a future sample mean, e.g. Hahn & Meeker, *Statistical Intervals*, §4.4).
    ///
    /// This is the interval to hold a measured mean against: a measured mean of five runs is
    /// itself noisy, so a confidence interval of the simulated mean alone is too narrow a test.
    ///
    /// Returns `None` with fewer than two values, `m == 0`, or `level` outside (0, 1).
    pub fn prediction_interval_for_mean(&self, m: u64, level: f64) -> Option<ConfidenceInterval> {
        self.prediction_interval_for_mean_read_at(m, level, 0.0)
    }

    /// [`prediction_interval_for_mean`](Self::prediction_interval_for_mean) of values read at
    /// resolution `res`, with the standard deviation at least [`reading_sd`]`(res)` (see
    /// [`confidence_interval_read_at`](Self::confidence_interval_read_at)).
    pub fn prediction_interval_for_mean_read_at(&self, m: u64, level: f64, res: f64) -> Option<ConfidenceInterval> {
        if m == 0 {
            return None;
        }
        self.t_interval(level, reading_sd(res), |s| {
            s * (1.0 / m as f64 + 1.0 / self.count as f64).sqrt()
        })
    }

    /// The `(1 + level) / 2` quantile of Student's t with `dof` degrees of freedom: the `t` of a
    /// two-sided `level` interval. `None` unless `dof > 0` and `level` is in (0, 1).
    pub fn student_t(dof: f64, level: f64) -> Option<f64> {
        if dof.is_nan() || dof <= 0.0 || level.is_nan() || level <= 0.0 || level >= 1.0 {
            return None;
        }
        Some(StudentsT::new(0.0, 1.0, dof).ok()?.inverse_cdf((1.0 + level) / 2.0))
    }

    /// `mean ± t · spread(s)`, with `t` the `(1 + level) / 2` quantile of Student's t with n − 1
    /// degrees of freedom and `s` the sample standard deviation, at least `sd_floor`; `None` with
    /// fewer than two values, a NaN among them, or `level` outside (0, 1).
    fn t_interval(&self, level: f64, sd_floor: f64, spread: impl FnOnce(f64) -> f64) -> Option<ConfidenceInterval> {
        if self.count < 2 || level.is_nan() || level <= 0.0 || level >= 1.0 {
            return None;
        }
        let dof = (self.count - 1) as f64;
        // `dof > 0` holds, so construction cannot fail; stay panic-free all the same.
        let t = StudentsT::new(0.0, 1.0, dof).ok()?.inverse_cdf((1.0 + level) / 2.0);
        // A NaN among the values makes the spread NaN, which `max` would drop for the floor:
        // no interval then, rather than one of the floor's width around a NaN mean.
        let s = self.std_dev().filter(|s| !s.is_nan())?;
        let half_width = t * spread(s.max(sd_floor));
        Some(ConfidenceInterval {
            level,
            mean: self.mean,
            half_width,
            lo: self.mean - half_width,
            hi: self.mean + half_width,
            t,
            count: self.count,
        })
    }
}

/// The standard deviation of the error of reading a duration at resolution `res` as the
/// difference of two readings of one clock of random phase (kubectl's whole-second
/// timestamps): a duration whose fractional part is `f` steps reads `f` steps short or
/// `1 - f` long, a variance of `f (1 - f)` steps², `1/6` on average over a uniform `f`, so
/// `res / √6` (0.41 s for whole seconds). `0.0` for a `res` that is not positive.
pub fn reading_sd(res: f64) -> f64 {
    if res > 0.0 {
        res / 6f64.sqrt()
    } else {
        0.0
    }
}

/// The probability that a χ² variable with `dof` degrees of freedom is at least `chi2`: the
/// p-value of a goodness-of-fit test. `None` unless `dof > 0` and `chi2` is a number ≥ 0.
pub fn chi_square_p_value(chi2: f64, dof: u32) -> Option<f64> {
    if dof == 0 || chi2.is_nan() || chi2 < 0.0 {
        return None;
    }
    Some(ChiSquared::new(f64::from(dof)).ok()?.sf(chi2))
}

impl Extend<f64> for OnlineStats {
    fn extend<I: IntoIterator<Item = f64>>(&mut self, iter: I) {
        for x in iter {
            self.push(x);
        }
    }
}

impl FromIterator<f64> for OnlineStats {
    fn from_iter<I: IntoIterator<Item = f64>>(iter: I) -> Self {
        let mut s = OnlineStats::new();
        s.extend(iter);
        s
    }
}

/// A two-sided confidence interval for a mean, as computed by
/// [`OnlineStats::confidence_interval`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ConfidenceInterval {
    /// Confidence level, e.g. `0.95`.
    pub level: f64,
    /// Sample mean (the centre of the interval).
    pub mean: f64,
    /// Half-width: `t · s / √n`.
    pub half_width: f64,
    /// Lower bound, `mean − half_width`.
    pub lo: f64,
    /// Upper bound, `mean + half_width`.
    pub hi: f64,
    /// The Student-t quantile used (2.776 for n = 5 at 95 %).
    pub t: f64,
    /// Number of values the interval rests on.
    pub count: u64,
}

impl ConfidenceInterval {
    /// `(lo, hi)`.
    pub const fn bounds(&self) -> (f64, f64) {
        (self.lo, self.hi)
    }

    /// Whether `x` lies in the closed interval `[lo, hi]`.
    pub fn contains(&self, x: f64) -> bool {
        self.lo <= x && x <= self.hi
    }

    /// Half-width relative to the mean (`half_width / |mean|`), the usual stopping rule for adding
    /// replications; infinite when the mean is zero.
    pub fn relative_half_width(&self) -> f64 {
        self.half_width / self.mean.abs()
    }
}

/// Every value of a stream, for exact quantiles.
///
/// Memory is O(n). [`push`](Self::push) is O(1) amortised; the first quantile query after a push
/// sorts the values (O(n log n), using `f64::total_cmp`, so NaN sorts above +∞), and later queries
/// cost O(1) until the next push. Use [`P2Quantile`] when a stream is too long to keep.
///
/// Quantiles follow Hyndman & Fan's definition 7, the default of R's `quantile()` and numpy's
/// `percentile`/`quantile` (`method="linear"`): with the values sorted as `x[0] ≤ … ≤ x[n−1]`,
/// `h = (n − 1)·p`, the p-quantile is `x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋])`.
///
/// # Example
///
/// ```
/// use sim_core::stats::Samples;
///
/// let mut s: Samples = (1..=100).map(f64::from).collect();
/// assert_eq!(s.quantile(0.5), Some(50.5));
/// assert_eq!(s.quantile(0.99), Some(99.01));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Samples {
    values: Vec<f64>,
    sorted: bool,
}

impl Samples {
    /// An empty collector.
    pub const fn new() -> Self {
        Samples {
            values: Vec::new(),
            sorted: true,
        }
    }

    /// Records one value. O(1) amortised.
    pub fn push(&mut self, x: f64) {
        self.values.push(x);
        self.sorted = self.values.len() < 2;
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether no value has been recorded.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The values, in insertion order until a quantile has been asked for, sorted after.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// Mean, variance, min and max of the values. O(n).
    pub fn stats(&self) -> OnlineStats {
        self.values.iter().copied().collect()
    }

    fn sort(&mut self) {
        if !self.sorted {
            self.values.sort_unstable_by(f64::total_cmp);
            self.sorted = true;
        }
    }

    /// The type-7 p-quantile (see the type docs), or `None` when empty or when `p` is outside
    /// `[0, 1]` or NaN. O(n log n) after a push, O(1) otherwise.
    pub fn quantile(&mut self, p: f64) -> Option<f64> {
        if self.values.is_empty() || p.is_nan() || !(0.0..=1.0).contains(&p) {
            return None;
        }
        self.sort();
        Some(type7(&self.values, p))
    }

    /// Several quantiles at once; `None` under the same conditions as [`quantile`](Self::quantile)
    /// for any of them.
    pub fn quantiles(&mut self, ps: &[f64]) -> Option<Vec<f64>> {
        ps.iter().map(|&p| self.quantile(p)).collect()
    }

    /// The usual report line: count, mean, standard deviation, min, median, p90, p95, p99, max.
    /// `None` when empty.
    pub fn summary(&mut self) -> Option<Summary> {
        let stats = self.stats();
        Some(Summary {
            count: self.values.len(),
            mean: stats.mean()?,
            std_dev: stats.std_dev(),
            min: self.quantile(0.0)?,
            p50: self.quantile(0.5)?,
            p90: self.quantile(0.9)?,
            p95: self.quantile(0.95)?,
            p99: self.quantile(0.99)?,
            max: self.quantile(1.0)?,
        })
    }
}

/// Type-7 quantile of sorted, non-empty `xs` with `p` in `[0, 1]`.
fn type7(xs: &[f64], p: f64) -> f64 {
    let h = (xs.len() - 1) as f64 * p;
    let lo = h.floor();
    let i = lo as usize;
    match xs.get(i + 1) {
        Some(&next) => xs[i] + (h - lo) * (next - xs[i]),
        None => xs[i],
    }
}

impl Extend<f64> for Samples {
    fn extend<I: IntoIterator<Item = f64>>(&mut self, iter: I) {
        self.values.extend(iter);
        self.sorted = self.values.len() < 2;
    }
}

impl FromIterator<f64> for Samples {
    fn from_iter<I: IntoIterator<Item = f64>>(iter: I) -> Self {
        let mut s = Samples::new();
        s.extend(iter);
        s
    }
}

/// A distribution summary for reports, from [`Samples::summary`]. Quantiles are type 7.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Number of values.
    pub count: usize,
    /// Arithmetic mean.
    pub mean: f64,
    /// Sample standard deviation; `None` with a single value.
    pub std_dev: Option<f64>,
    /// Smallest value.
    pub min: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest value.
    pub max: f64,
}

/// One quantile of a stream estimated in O(1) memory and O(1) time per value: the P² algorithm.
///
/// Jain & Chlamtac (1985) keep five markers: the minimum, the maximum, the target p-quantile and
/// the p/2- and (1+p)/2-quantiles. Each value shifts the marker positions; a marker that drifts
/// one or more positions from where it should be moves by one, its height adjusted with a
/// piecewise-parabolic (P²) fit through its neighbours, or linearly when the parabola would break
/// the order of heights. Until five values have arrived the estimate is the exact type-7 quantile
/// of those seen (the same definition as [`Samples`]).
///
/// The estimate is not exact: on smooth distributions it is typically within a fraction of a
/// percent of the sample quantile after 10⁴ values, but it can be off for multimodal data or
/// extreme `p` with few values. Keep [`Samples`] where exactness matters and memory allows.
///
/// # Example
///
/// ```
/// use sim_core::stats::P2Quantile;
///
/// let mut median = P2Quantile::new(0.5)?;
/// for i in 0..1001 {
///     median.push(f64::from(i));
/// }
/// assert!((median.estimate().unwrap() - 500.0).abs() < 5.0);
/// # Ok::<(), sim_core::stats::StatsError>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct P2Quantile {
    p: f64,
    count: u64,
    /// Marker heights; while `count < 5`, the first `count` slots hold the raw values.
    q: [f64; 5],
    /// Actual marker positions (1-based, as in the paper).
    n: [f64; 5],
    /// Desired marker positions.
    np: [f64; 5],
    /// Increments of the desired positions per value.
    dn: [f64; 5],
}

impl P2Quantile {
    /// An estimator of the `p`-quantile.
    ///
    /// # Errors
    ///
    /// [`StatsError::InvalidProbability`] when `p` is not in the open interval (0, 1). (Use
    /// [`OnlineStats::min`] / [`OnlineStats::max`] for the extremes.)
    pub fn new(p: f64) -> Result<Self, StatsError> {
        if p.is_nan() || p <= 0.0 || p >= 1.0 {
            return Err(StatsError::InvalidProbability { p });
        }
        Ok(P2Quantile {
            p,
            count: 0,
            q: [0.0; 5],
            n: [1.0, 2.0, 3.0, 4.0, 5.0],
            np: [1.0, 1.0 + 2.0 * p, 1.0 + 4.0 * p, 3.0 + 2.0 * p, 5.0],
            dn: [0.0, p / 2.0, p, (1.0 + p) / 2.0, 1.0],
        })
    }

    /// The probability this estimator targets.
    pub const fn p(&self) -> f64 {
        self.p
    }

    /// Number of values seen.
    pub const fn count(&self) -> u64 {
        self.count
    }

    /// Records one value. O(1). NaN values are ignored (they have no place in the order).
    pub fn push(&mut self, x: f64) {
        if x.is_nan() {
            return;
        }
        if self.count < 5 {
            self.q[self.count as usize] = x;
            self.count += 1;
            if self.count == 5 {
                self.q.sort_unstable_by(f64::total_cmp);
            }
            return;
        }
        self.count += 1;
        let q = &mut self.q;
        // Cell k such that q[k] <= x < q[k+1], extending the extreme markers when needed.
        let k = if x < q[0] {
            q[0] = x;
            0
        } else if x < q[1] {
            0
        } else if x < q[2] {
            1
        } else if x < q[3] {
            2
        } else if x <= q[4] {
            3
        } else {
            q[4] = x;
            3
        };
        for pos in &mut self.n[k + 1..] {
            *pos += 1.0;
        }
        for (want, inc) in self.np.iter_mut().zip(self.dn) {
            *want += inc;
        }
        for i in 1..4 {
            let d = self.np[i] - self.n[i];
            if (d >= 1.0 && self.n[i + 1] - self.n[i] > 1.0) || (d <= -1.0 && self.n[i - 1] - self.n[i] < -1.0) {
                let d = d.signum();
                let candidate = self.parabolic(i, d);
                self.q[i] = if self.q[i - 1] < candidate && candidate < self.q[i + 1] {
                    candidate
                } else {
                    self.linear(i, d)
                };
                self.n[i] += d;
            }
        }
    }

    /// The P² (piecewise-parabolic) height for marker `i` moved by `d` (±1).
    fn parabolic(&self, i: usize, d: f64) -> f64 {
        let (q, n) = (&self.q, &self.n);
        q[i] + d / (n[i + 1] - n[i - 1])
            * ((n[i] - n[i - 1] + d) * (q[i + 1] - q[i]) / (n[i + 1] - n[i])
                + (n[i + 1] - n[i] - d) * (q[i] - q[i - 1]) / (n[i] - n[i - 1]))
    }

    /// The linear height for marker `i` moved by `d` (±1) towards its neighbour.
    fn linear(&self, i: usize, d: f64) -> f64 {
        let j = if d > 0.0 { i + 1 } else { i - 1 };
        self.q[i] + d * (self.q[j] - self.q[i]) / (self.n[j] - self.n[i])
    }

    /// The current estimate of the p-quantile, or `None` before the first value.
    pub fn estimate(&self) -> Option<f64> {
        match self.count {
            0 => None,
            c if c < 5 => {
                let mut seen = [0.0; 5];
                let seen = &mut seen[..c as usize];
                seen.copy_from_slice(&self.q[..c as usize]);
                seen.sort_unstable_by(f64::total_cmp);
                Some(type7(seen, self.p))
            }
            _ => Some(self.q[2]),
        }
    }
}

#[cfg(test)]
mod tests {
    /// χ²'s upper tail at known points: 5.991 is the 95 % point at 2 degrees of freedom, 3.841
    /// at 1; nothing without degrees of freedom or with a NaN.
    #[test]
    fn chi_square_p_values() {
        assert!((chi_square_p_value(5.991, 2).unwrap() - 0.05).abs() < 1e-4);
        assert!((chi_square_p_value(3.841, 1).unwrap() - 0.05).abs() < 1e-4);
        assert_eq!(chi_square_p_value(0.0, 3), Some(1.0));
        assert_eq!(chi_square_p_value(1.0, 0), None);
        assert_eq!(chi_square_p_value(f64::NAN, 2), None);
    }

    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, Normal};

    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-300)
    }

    fn two_pass(xs: &[f64]) -> (f64, f64) {
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);
        (mean, var)
    }

    #[test]
    fn welford_matches_known_data() {
        let s: OnlineStats = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0].into_iter().collect();
        assert_eq!(s.count(), 8);
        assert_eq!(s.mean(), Some(5.0));
        assert_eq!(s.population_variance(), Some(4.0));
        assert!(close(s.variance().unwrap(), 32.0 / 7.0, 1e-15));
        assert_eq!(s.min(), Some(2.0));
        assert_eq!(s.max(), Some(9.0));
        assert_eq!(s.sum(), 40.0);
    }

    #[test]
    fn welford_matches_two_pass_with_large_offset() {
        // Values around 1e9 with unit spread: the naive sum-of-squares formula loses all digits.
        // The reference is a two-pass computation on the exactly recoverable deviations x − 1e9.
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let xs: Vec<f64> = (0..10_000).map(|_| 1e9 + rng.random::<f64>()).collect();
        let s: OnlineStats = xs.iter().copied().collect();
        let deviations: Vec<f64> = xs.iter().map(|x| x - 1e9).collect();
        let (dev_mean, var) = two_pass(&deviations);
        let err_mean = (s.mean().unwrap() - 1e9 - dev_mean).abs();
        let err_var = (s.variance().unwrap() - var).abs() / var;
        // The running mean rounds to ulp(1e9) ≈ 1.2e-7 at each of 10⁴ updates (measured: 3e-6).
        assert!(err_mean < 1e-4, "mean off by {err_mean}");
        assert!(err_var < 1e-6, "variance off by {err_var} (relative)");
        assert!(close(var, 1.0 / 12.0, 0.05));
        // The textbook one-pass formula Σx²/n − x̄² is useless here, which is why Welford is used.
        let n = xs.len() as f64;
        let naive = (xs.iter().map(|x| x * x).sum::<f64>() / n - (xs.iter().sum::<f64>() / n).powi(2)) * n / (n - 1.0);
        assert!((naive - var).abs() / var > 0.1, "naive {naive}");
    }

    #[test]
    fn empty_and_single_value() {
        let mut s = OnlineStats::new();
        assert!(s.is_empty());
        assert_eq!((s.mean(), s.variance(), s.min(), s.max()), (None, None, None, None));
        assert!(s.ci95().is_none());
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<OnlineStats>(&json).unwrap(), s);
        s.push(3.5);
        assert_eq!(s.mean(), Some(3.5));
        assert_eq!(s.variance(), None);
        assert_eq!(s.population_variance(), Some(0.0));
        assert!(s.ci95().is_none());
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<OnlineStats>(&json).unwrap(), s);
    }

    #[test]
    fn merge_equals_single_pass() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let xs: Vec<f64> = (0..1000).map(|_| rng.random::<f64>() * 100.0 - 20.0).collect();
        let whole: OnlineStats = xs.iter().copied().collect();
        for split in [0, 1, 2, 500, 999, 1000] {
            let mut a: OnlineStats = xs[..split].iter().copied().collect();
            let b: OnlineStats = xs[split..].iter().copied().collect();
            a.merge(&b);
            assert_eq!(a.count(), whole.count());
            assert!(close(a.mean().unwrap(), whole.mean().unwrap(), 1e-12));
            assert!(close(a.variance().unwrap(), whole.variance().unwrap(), 1e-12));
            assert_eq!(a.min(), whole.min());
            assert_eq!(a.max(), whole.max());
        }
        // Many small pieces, as when merging per-replication accumulators.
        let mut acc = OnlineStats::new();
        for chunk in xs.chunks(7) {
            acc.merge(&chunk.iter().copied().collect());
        }
        assert!(close(acc.variance().unwrap(), whole.variance().unwrap(), 1e-12));
    }

    #[test]
    fn ci_uses_student_t() {
        // n = 5: t(0.975, 4) = 2.776445.
        let s: OnlineStats = [1.0, 2.0, 3.0, 4.0, 5.0].into_iter().collect();
        let ci = s.ci95().unwrap();
        assert!((ci.t - 2.776).abs() < 5e-4, "t = {}", ci.t);
        let se = (2.5f64 / 5.0).sqrt();
        assert!(close(ci.half_width, 2.776_445 * se, 1e-5));
        assert!(close(ci.lo, 3.0 - ci.half_width, 1e-15) && close(ci.hi, 3.0 + ci.half_width, 1e-15));
        assert_eq!(ci.bounds(), (ci.lo, ci.hi));
        // n = 2, 99 %: t(0.995, 1) = 63.657.
        let two: OnlineStats = [0.0, 1.0].into_iter().collect();
        assert!((two.confidence_interval(0.99).unwrap().t - 63.657).abs() < 1e-2);
        // Many degrees of freedom: t approaches z = 1.95996.
        let mut big = OnlineStats::new();
        big.extend((0..1_000_000).map(|i| f64::from(i % 2)));
        assert!((big.ci95().unwrap().t - 1.959_96).abs() < 1e-4);
    }

    #[test]
    fn ci_rejects_bad_levels() {
        let s: OnlineStats = [1.0, 2.0, 3.0].into_iter().collect();
        for level in [0.0, 1.0, -0.5, 1.5, f64::NAN] {
            assert!(s.confidence_interval(level).is_none(), "level {level}");
        }
    }

    #[test]
    fn ci95_coverage_is_nominal() {
        // 2000 replications of n = 10 normal values; the 95 % interval must cover the true mean in
        // 95 % ± 1.5 % of them (3 binomial standard deviations).
        let mut rng = ChaCha8Rng::seed_from_u64(2024);
        let normal = Normal::new(3.0, 2.0).unwrap();
        let reps = 2000;
        let covered = (0..reps)
            .filter(|_| {
                let s: OnlineStats = (0..10).map(|_| normal.sample(&mut rng)).collect();
                s.ci95().unwrap().contains(3.0)
            })
            .count();
        let rate = covered as f64 / reps as f64;
        assert!((0.935..=0.965).contains(&rate), "coverage {rate}");
    }

    /// The floor is the spread a random-phase reading gives a duration, on average over where
    /// the duration falls between two ticks.
    #[test]
    fn the_reading_floor_is_the_spread_of_a_duration_read_at_a_random_phase() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let errors: OnlineStats = (0..200_000)
            .map(|_| {
                let (t, u) = (10.0 + rng.random::<f64>(), rng.random::<f64>());
                (t + u).floor() - u.floor() - t
            })
            .collect();
        let sd = errors.std_dev().unwrap();
        assert!((sd - reading_sd(1.0)).abs() < 0.005, "{sd} against {}", reading_sd(1.0));
        assert!(errors.mean().unwrap().abs() < 0.005);
    }

    #[test]
    fn a_nan_among_the_values_gives_no_interval() {
        let s: OnlineStats = [90.0, f64::NAN, 91.0].into_iter().collect();
        assert_eq!(s.confidence_interval_read_at(0.95, 1.0), None);
        assert_eq!(s.prediction_interval_for_mean_read_at(5, 0.95, 1.0), None);
    }

    #[test]
    fn readings_that_coincide_still_give_an_interval() {
        // Three runs all read as 90 s: no spread among them, but reading a duration as the
        // difference of two whole-second timestamps spreads it by 1/√6 s on average.
        let s: OnlineStats = [90.0, 90.0, 90.0].into_iter().collect();
        assert_eq!(s.ci95().unwrap().half_width, 0.0);
        let ci = s.confidence_interval_read_at(0.95, 1.0).unwrap();
        let t2 = OnlineStats::student_t(2.0, 0.95).unwrap();
        assert!((ci.half_width - t2 * reading_sd(1.0) / 3f64.sqrt()).abs() < 1e-12);
        let pi = s.prediction_interval_for_mean_read_at(5, 0.95, 1.0).unwrap();
        assert!((pi.half_width - t2 * reading_sd(1.0) * (1.0 / 5.0 + 1.0 / 3.0f64).sqrt()).abs() < 1e-12);
        // A spread above the floor is left as it is.
        let wide: OnlineStats = [88.0, 90.0, 93.0].into_iter().collect();
        assert_eq!(wide.ci95(), wide.confidence_interval_read_at(0.95, 1.0));
        // A start-up of exactly 90.3 s read by a whole-second clock of random phase: 90 or 91,
        // mean 90.3. Three readings coincide in 37 % of trials, where the plain interval has no
        // width and misses 90.3; with the floor the interval holds it far more often.
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let trials = 4000;
        let (mut plain, mut floored) = (0, 0);
        for _ in 0..trials {
            let s: OnlineStats = (0..3).map(|_| (90.3 + rng.random::<f64>()).floor()).collect();
            plain += usize::from(s.ci95().unwrap().contains(90.3));
            floored += usize::from(s.confidence_interval_read_at(0.95, 1.0).unwrap().contains(90.3));
        }
        let (plain, floored) = (plain as f64 / trials as f64, floored as f64 / trials as f64);
        assert!(
            plain < 0.7 && floored > 0.95,
            "coverage {plain} plain, {floored} with the floor"
        );
    }

    #[test]
    fn prediction_interval_for_a_future_mean_has_nominal_coverage() {
        // 2000 trials: n = 30 "simulated" values, then a fresh mean of m = 5 "measured" values of
        // the same distribution; the 95 % prediction interval must hold that mean in 95 % ± 1.5 %
        // of the trials. The confidence interval of the 30-value mean, used the same way, is far
        // too narrow: it covers P(|Z| < 2.045 · √(1/30) / √(1/5 + 1/30)) ≈ 56 %, the reason the
        // interval exists.
        let mut rng = ChaCha8Rng::seed_from_u64(77);
        let normal = Normal::new(120.0, 4.0).unwrap();
        let trials = 2000;
        let (mut in_pi, mut in_ci) = (0, 0);
        for _ in 0..trials {
            let sim: OnlineStats = (0..30).map(|_| normal.sample(&mut rng)).collect();
            let measured: OnlineStats = (0..5).map(|_| normal.sample(&mut rng)).collect();
            let m = measured.mean().unwrap();
            in_pi += usize::from(sim.prediction_interval_for_mean(5, 0.95).unwrap().contains(m));
            in_ci += usize::from(sim.ci95().unwrap().contains(m));
        }
        let rate = in_pi as f64 / trials as f64;
        assert!((0.935..=0.965).contains(&rate), "coverage {rate}");
        let ci_rate = in_ci as f64 / trials as f64;
        assert!((0.50..=0.62).contains(&ci_rate), "ci coverage {ci_rate}");
        // Half-width: t(29) · s · √(1/5 + 1/30), and None where it cannot be computed.
        let s: OnlineStats = [1.0, 2.0, 3.0].into_iter().collect();
        let pi = s.prediction_interval_for_mean(1, 0.95).unwrap();
        assert!((pi.half_width - 4.302_65 * 1.0 * (1.0f64 + 1.0 / 3.0).sqrt()).abs() < 1e-4);
        assert!(s.prediction_interval_for_mean(0, 0.95).is_none());
        assert!(s.prediction_interval_for_mean(5, 1.0).is_none());
        assert!(OnlineStats::new().prediction_interval_for_mean(5, 0.95).is_none());
    }

    #[test]
    fn quantiles_match_numpy() {
        // numpy.percentile(numpy.arange(1, 101), [0, 25, 50, 75, 90, 95, 99, 100])
        let mut s: Samples = (1..=100).rev().map(f64::from).collect();
        let got = s.quantiles(&[0.0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0]).unwrap();
        let want = [1.0, 25.75, 50.5, 75.25, 90.1, 95.05, 99.01, 100.0];
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-9, "{g} vs {w}");
        }
        // numpy.percentile([3, 1, 2, 10], 40) == 2.2
        let mut small: Samples = [3.0, 1.0, 2.0, 10.0].into_iter().collect();
        assert!((small.quantile(0.4).unwrap() - 2.2).abs() < 1e-12);
        assert_eq!(small.quantile(1.5), None);
        assert_eq!(Samples::new().quantile(0.5), None);
        let one: Samples = [7.0].into_iter().collect();
        assert_eq!(one.clone().quantile(0.3), Some(7.0));
    }

    #[test]
    fn samples_summary_and_resorting() {
        let mut s: Samples = (1..=100).map(f64::from).collect();
        let sum = s.summary().unwrap();
        assert_eq!((sum.count, sum.min, sum.max, sum.p50), (100, 1.0, 100.0, 50.5));
        assert!((sum.p99 - 99.01).abs() < 1e-9 && (sum.mean - 50.5).abs() < 1e-12);
        // A push after a query invalidates the sorted order.
        s.push(0.0);
        assert_eq!(s.quantile(0.0), Some(0.0));
        assert_eq!(s.quantile(0.5), Some(50.0));
    }

    #[test]
    fn p2_median_of_uniform_draws() {
        let mut rng = ChaCha8Rng::seed_from_u64(99);
        let mut p2 = P2Quantile::new(0.5).unwrap();
        let mut exact = Samples::new();
        for _ in 0..100_000 {
            let x: f64 = rng.random();
            p2.push(x);
            exact.push(x);
        }
        let est = p2.estimate().unwrap();
        assert!(close(est, 0.5, 0.01), "P² median {est}");
        assert!(close(est, exact.quantile(0.5).unwrap(), 0.01));
    }

    #[test]
    fn p2_tail_quantile_of_exponential() {
        // p90 of Exp(1) is ln 10 = 2.302585.
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let exp = rand_distr::Exp1;
        let mut p2 = P2Quantile::new(0.9).unwrap();
        for _ in 0..100_000 {
            let x: f64 = exp.sample(&mut rng);
            p2.push(x);
        }
        let est = p2.estimate().unwrap();
        assert!(close(est, 10f64.ln(), 0.02), "P² p90 {est}");
    }

    #[test]
    fn p2_small_counts_and_errors() {
        let mut p2 = P2Quantile::new(0.5).unwrap();
        assert_eq!(p2.estimate(), None);
        for x in [5.0, 1.0, 3.0] {
            p2.push(x);
        }
        assert_eq!(p2.estimate(), Some(3.0));
        p2.push(f64::NAN);
        assert_eq!(p2.count(), 3);
        for p in [0.0, 1.0, -1.0, f64::NAN] {
            assert!(matches!(P2Quantile::new(p), Err(StatsError::InvalidProbability { .. })));
        }
    }
}
