//! The sweep specification, its points, their keys and their seeds.
//!
//! A sweep is fixed by its [`SweepSpec`]: the resolved scenario (by digest, so the same scenario
//! reached through another path is the same sweep), the axes, the replications, the seed, the
//! kubetwin version and the digest of the source that computes the points (`model_digest`,
//! cli/build.rs). Its hash, [`SweepSpec::hash`], is stored in `sweep.json` and in every point
//! file, so points of different sweeps are never mixed.
//!
//! # Point order
//!
//! Points are the Cartesian product of the axes in the order pods (outermost), delay, then each
//! `--set` in the order given (innermost), each axis in the order its values were written. A
//! point's index in this order decides its shard (`index % N == K - 1`) and its row in the
//! results; nothing else.
//!
//! # Seeds
//!
//! Every point uses the experiment seed: replication `r` of any point runs with
//! `sim_core::rng::replication_seed(seed, r)`, exactly as `kubetwin run` and `validate` simulate
//! a cell, so without `--set` a sweep point, a `validate` cell and a `run` of the same seed, pods,
//! delay and replications give the same numbers. These are common random numbers: with the
//! model's keyed draws (`models::draws`) two points that differ in one value differ by what
//! that value does, and the difference of two points (replication by replication, from the point files)
//! is far less noisy than either point. The seed is in the results (`seed` column).

use models::spec::Scenario;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use sim_core::rng::mix64;
use sim_core::SimDuration;
use topologies::check::Size;

use super::axes::{expand, show_delay, split_range, SetArg};

/// FNV-1a (64 bit) followed by SplitMix64's finalizer: a stable, platform-independent digest.
pub(crate) fn digest(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    mix64(h)
}

/// One `--set` axis as stored in the spec: a scenario path and its values, typed as the
/// scenario's field is (integers, floats, booleans or strings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SetAxis {
    /// Dotted path, e.g. `kubernetes.kubelet.kube_api_qps`.
    pub(crate) path: String,
    /// Values in the order given.
    pub(crate) values: Vec<Json>,
    /// A fault axis's fault (`sweep --fault`, [`super::fault_axes`]): its text with `{}` where
    /// the value goes; `path` is then its column's name, not a scenario path. Left out of
    /// `sweep.json` for a `--set` axis, so that sweeps written before it keep their hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) fault: Option<String>,
}

/// Everything that fixes a sweep's results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SweepSpec {
    /// The version of kubetwin that computed the points.
    pub(crate) kubetwin_version: String,
    /// Digest of the source that computed them ([`MODEL_DIGEST`]): builds of one version whose
    /// results may differ do not resume or merge each other's points. Empty in a `sweep.json`
    /// written before it, which no build resumes.
    #[serde(default)]
    pub(crate) model_digest: String,
    /// The scenario's name.
    pub(crate) scenario: String,
    /// Digest of the resolved scenario (after `--params` or the shipped calibration), as JSON.
    pub(crate) scenario_digest: String,
    /// Pod counts (the scenario's `workload.replicas` when `--pods` is not given).
    pub(crate) pods: Vec<u32>,
    /// Delays as scenario files write them (the scenario's `netem.delay` without `--delay`).
    pub(crate) delay: Vec<String>,
    /// The `--set` axes, then the `--fault` axes.
    pub(crate) set: Vec<SetAxis>,
    /// The `--fault`s of every point, as written (they are in the scenario's digest too; named
    /// here so that the results say which faults were laid over it). Left out of `sweep.json`
    /// when there are none, so that sweeps written before it keep their hash.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) faults: Vec<String>,
    /// Replications per point.
    pub(crate) reps: u64,
    /// Experiment seed.
    pub(crate) seed: u64,
    /// How points are seeded (`store::SEED_RULE`): part of the hash, so a sweep computed under
    /// another rule is never resumed with this one (a `sweep.json` written before the field
    /// existed reads as an empty rule, so it is refused as another sweep).
    #[serde(default)]
    pub(crate) seeds: String,
}

/// One point of the sweep.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Point {
    /// Position in the full point order.
    pub(crate) index: usize,
    /// Pods.
    pub(crate) pods: u32,
    /// Added delay, ns.
    pub(crate) delay_ns: u64,
    /// Index of each `--set` axis's value, in spec order.
    pub(crate) set_idx: Vec<usize>,
    /// The `--set` values, in spec order.
    pub(crate) set: Vec<Json>,
}

impl SweepSpec {
    /// The same sweep with `reps` replications per point.
    pub(crate) fn with_reps(&self, reps: u64) -> SweepSpec {
        SweepSpec { reps, ..self.clone() }
    }

    /// The spec's hash, 16 hex digits: of its JSON text, whose field order is fixed.
    pub(crate) fn hash(&self) -> String {
        let text = serde_json::to_string(self).expect("a spec serializes");
        format!("{:016x}", digest(text.as_bytes()))
    }

    /// The delays in nanoseconds.
    pub(crate) fn delays_ns(&self) -> anyhow::Result<Vec<u64>> {
        self.delay
            .iter()
            .map(|d| {
                crate::commands::run::parse_delay(d)
                    .map(SimDuration::as_nanos)
                    .map_err(|e| anyhow::anyhow!("delay {d:?} in the sweep spec: {e}"))
            })
            .collect()
    }

    /// Every point, in the full point order.
    ///
    /// # Errors
    ///
    /// A delay that does not parse, or more than [`MAX_POINTS`] points (each axis is capped,
    /// their product is checked here, before anything is built).
    pub(crate) fn points(&self) -> anyhow::Result<Vec<Point>> {
        let count = [self.pods.len(), self.delay.len()]
            .into_iter()
            .chain(self.set.iter().map(|a| a.values.len()))
            .try_fold(1u64, |n, k| n.checked_mul(k as u64))
            .filter(|&n| n <= MAX_POINTS);
        if count.is_none() {
            let axes: Vec<String> = [("--pods", self.pods.len()), ("--delay", self.delay.len())]
                .into_iter()
                .map(|(name, k)| format!("{k} {name}"))
                .chain(self.set.iter().map(|a| format!("{} {}", a.values.len(), a.path)))
                .collect();
            anyhow::bail!(
                "the sweep has more than {MAX_POINTS} points ({}, every combination); narrow the axes or \
                 split the sweep",
                axes.join(" x ")
            );
        }
        let delays = self.delays_ns()?;
        let combos = self.set_combinations();
        let mut out = Vec::with_capacity(self.pods.len() * delays.len() * combos.len());
        for &pods in &self.pods {
            for &delay_ns in &delays {
                for idx in &combos {
                    out.push(Point {
                        index: out.len(),
                        pods,
                        delay_ns,
                        set_idx: idx.clone(),
                        set: idx.iter().zip(&self.set).map(|(&i, a)| a.values[i].clone()).collect(),
                    });
                }
            }
        }
        Ok(out)
    }

    /// Every combination of `--set` values (indices in spec order), the last axis fastest; one
    /// empty combination without `--set`.
    pub(crate) fn set_combinations(&self) -> Vec<Vec<usize>> {
        let mut combos: Vec<Vec<usize>> = vec![Vec::new()];
        for axis in &self.set {
            combos = combos
                .into_iter()
                .flat_map(|c| {
                    (0..axis.values.len()).map(move |i| {
                        let mut c = c.clone();
                        c.push(i);
                        c
                    })
                })
                .collect();
        }
        combos
    }

    /// The seed of `p`'s replications: the experiment seed, the same for every point (see the
    /// module docs).
    pub(crate) fn point_seed(&self, _p: &Point) -> u64 {
        self.seed
    }

    /// The point's file name without `.json`: readable values plus a digest of all of them, so
    /// that two points never share a key.
    pub(crate) fn point_key(&self, p: &Point) -> String {
        let mut identity = format!("pods={};delay_ns={}", p.pods, p.delay_ns);
        let mut readable = format!("pods-{}_delay-{}", p.pods, show_delay(p.delay_ns));
        for (a, v) in self.set.iter().zip(&p.set) {
            identity.push_str(&format!(";{}={v}", a.path));
            let short = a.path.rsplit('.').next().unwrap_or(&a.path);
            readable.push_str(&format!("_{short}-{}", plain(v)));
        }
        let mut readable: String = readable
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        readable.truncate(160);
        format!("{readable}_{:08x}", digest(identity.as_bytes()) >> 32)
    }

    /// `pods=4 delay=100ms kube_api_qps=5.0`: the point for people.
    pub(crate) fn describe(&self, p: &Point) -> String {
        let mut s = format!("pods={} delay={}", p.pods, show_delay(p.delay_ns));
        for (a, v) in self.set.iter().zip(&p.set) {
            s.push_str(&format!(" {}={}", a.path, plain(v)));
        }
        s
    }

    /// The differences between two specs, field by field, for error messages (another build's
    /// digest said as such).
    pub(crate) fn differences(&self, other: &SweepSpec) -> Vec<String> {
        let a = serde_json::to_value(self).expect("a spec serializes");
        let b = serde_json::to_value(other).expect("a spec serializes");
        let (Json::Object(a), Json::Object(b)) = (a, b) else {
            return Vec::new();
        };
        a.iter()
            .filter(|(k, v)| b.get(*k) != Some(*v))
            .map(|(k, v)| {
                let why = if k == "model_digest" {
                    " (another build of kubetwin, whose model or engine may compute other results)"
                } else {
                    ""
                };
                format!("{k}: {v} vs {}{why}", b.get(k).unwrap_or(&Json::Null))
            })
            .collect()
    }
}

/// Digest of the source this build computes points with: the engine, the model, the built-in
/// scenarios and parameters, the command's own source and `Cargo.lock` (cli/build.rs).
pub(crate) const MODEL_DIGEST: &str = env!("KUBETWIN_MODEL_DIGEST");

/// Most points one sweep may have: every point is a directory entry, a row of results.csv and a
/// pass of the merge; a million cover any grid a study plots, and building the list takes
/// a fraction of a second and about 100 MB.
pub(crate) const MAX_POINTS: u64 = 1_000_000;

/// The flag that gives axis `a` its value `v`, for messages: `--set PATH=V`, or a fault axis's
/// fault at that value (`--fault 'crash lb at 30s repair 60s'`).
pub(crate) fn flag_of(a: &SetAxis, v: &Json) -> String {
    match &a.fault {
        Some(template) => format!("--fault '{}'", template.replacen("{}", &plain(v), 1)),
        None => format!("--set {}={}", a.path, plain(v)),
    }
}

/// A JSON scalar without quotes around strings.
pub(crate) fn plain(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The paths `--set` accepts: every scalar of the scenario as TOML (tables are walked, arrays
/// are not), with its current value.
pub(crate) fn leaf_paths(scenario: &Scenario) -> Vec<(String, toml::Value)> {
    fn walk(prefix: &str, v: &toml::Value, out: &mut Vec<(String, toml::Value)>) {
        match v {
            toml::Value::Table(t) => {
                for (k, v) in t {
                    let bare = !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                    if !bare {
                        continue;
                    }
                    let path = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&path, v, out);
                }
            }
            toml::Value::Array(_) => {}
            scalar => out.push((prefix.to_owned(), scalar.clone())),
        }
    }
    let mut out = Vec::new();
    if let Ok(v) = toml::Value::try_from(scenario) {
        walk("", &v, &mut out);
    }
    // Optional settings a scenario file may leave out, which serialization then skips; a
    // `--set` may still give them (now "": unset).
    if scenario.runtime.registry_host.is_none() {
        out.push(("runtime.registry_host".to_owned(), toml::Value::String(String::new())));
    }
    // Axes have their own flags; the name and description change no number.
    out.retain(|(p, _)| !AXIS_PATHS.iter().any(|(a, _)| a == p) && p != "name" && p != "description");
    out
}

/// The path among `paths` nearest to `typed`, if one is near enough to be what was meant: at
/// most two edits (a letter left out, added, changed or two swapped; case ignored) per ten
/// characters of its last part, the setting's own name (so that a shared prefix does not let
/// a different name through), and nearer than any other.
fn closest_path<'a>(typed: &str, paths: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let typed = typed.to_lowercase();
    let last = typed.rsplit('.').next().unwrap_or(&typed);
    let budget = 2 * last.chars().count().div_ceil(10);
    let mut best: Option<(usize, &str)> = None;
    let mut tie = false;
    for p in paths {
        let d = edit_distance(&typed, p);
        match best {
            Some((b, _)) if d > b => {}
            Some((b, _)) if d == b => tie = true,
            _ => {
                best = Some((d, p));
                tie = false;
            }
        }
    }
    best.filter(|&(d, _)| d <= budget && !tie).map(|(_, p)| p)
}

/// The optimal string alignment distance between `a` and `b`: insertions, deletions,
/// substitutions and swaps of two neighbouring characters, each one edit.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

/// Scenario paths that have their own axis flag.
const AXIS_PATHS: [(&str, &str); 2] = [("workload.replicas", "--pods"), ("netem.delay", "--delay")];

/// Checks each `--set` against the scenario and types its values as the field is typed.
pub(crate) fn resolve_sets(base: &Scenario, args: &[SetArg]) -> Result<Vec<SetAxis>, String> {
    let leaves = leaf_paths(base);
    let mut out: Vec<SetAxis> = Vec::new();
    for a in args {
        if let Some((_, flag)) = AXIS_PATHS.iter().find(|(p, _)| *p == a.path) {
            return Err(format!("--set {}: this is the {flag} axis; use {flag} instead", a.path));
        }
        if out.iter().any(|o| o.path == a.path) {
            return Err(format!(
                "--set {} is given twice; put all its values in one --set",
                a.path
            ));
        }
        let Some((_, current)) = leaves.iter().find(|(p, _)| *p == a.path) else {
            let list: Vec<String> = leaves.iter().map(|(p, v)| format!("  {p} (now {v})")).collect();
            let candidates = leaves
                .iter()
                .map(|(p, _)| p.as_str())
                .chain(AXIS_PATHS.iter().map(|(p, _)| *p));
            let meant = closest_path(&a.path, candidates).map_or(String::new(), |p| {
                match AXIS_PATHS.iter().find(|(axis, _)| *axis == p) {
                    Some((_, flag)) => format!(" (did you mean `{p}`? that is the {flag} axis)"),
                    None => format!(" (did you mean `{p}`?)"),
                }
            });
            return Err(format!(
                "--set: unknown scenario path `{}`{meant}; valid paths (the scenario's scalar settings; \
                 workload.replicas and netem.delay are the --pods and --delay axes):\n{}",
                a.path,
                list.join("\n")
            ));
        };
        let values = expand_ranges(&a.path, current, &a.values)?
            .iter()
            .map(|raw| coerce(&a.path, current, raw))
            .collect::<Result<Vec<_>, _>>()?;
        // A set of the values' JSON text: a scan per value was quadratic, 100,000 values took
        // minutes before the sweep began (found by adversarial testing).
        let mut seen = std::collections::HashSet::with_capacity(values.len());
        for v in &values {
            // -0 and 0 are one value (as they compare equal).
            let key = match v.as_f64() {
                Some(0.0) => "0".to_owned(),
                _ => v.to_string(),
            };
            if !seen.insert(key) {
                return Err(format!("--set {}: value {} appears twice", a.path, plain(v)));
            }
        }
        out.push(SetAxis {
            path: a.path.clone(),
            values,
            fault: None,
        });
    }
    Ok(out)
}

/// Expands the range items (`START..END/STEP`, both ends included) of a `--set` list, for
/// integer, number and duration fields; single values pass through as typed.
fn expand_ranges(path: &str, current: &toml::Value, raw: &[String]) -> Result<Vec<String>, String> {
    let what = format!("--set {path}");
    let mut out = Vec::new();
    for item in raw {
        let Some((a, b, step)) = split_range(item, &what)? else {
            out.push(item.clone());
            continue;
        };
        match current {
            toml::Value::Integer(_) => {
                let int = |v: &str| {
                    v.parse::<u64>()
                        .map_err(|_| format!("{what}: `{v}` in range `{item}` is not a whole number"))
                };
                let v = expand(item, int(a)?, int(b)?, int(step)?, &|v| v.to_string())?;
                out.extend(v.into_iter().map(|v| v.to_string()));
            }
            toml::Value::Float(_) => out.extend(float_range(&what, item, a, b, step)?),
            toml::Value::String(now) if now.parse::<models::units::Dur>().is_ok() => {
                let ns = |v: &str| {
                    v.parse::<models::units::Dur>()
                        .map(|d| d.get().as_nanos())
                        .map_err(|e| format!("{what}: `{v}` in range `{item}`: {e}"))
                };
                out.extend(expand(item, ns(a)?, ns(b)?, ns(step)?, &show_delay)?.into_iter().map(show_delay));
            }
            _ => {
                return Err(format!(
                    "{what}: `{item}` is a range; ranges work for integer, number and duration fields, and this one is {current}: list its values"
                ))
            }
        }
    }
    Ok(out)
}

/// `a..b/step` over numbers: both ends included, `b - a` a whole number of steps (to 1e-9
/// relative), each value rounded to 10 decimals so that `0.1..0.3/0.1` gives 0.1, 0.2, 0.3.
fn float_range(what: &str, item: &str, a: &str, b: &str, step: &str) -> Result<Vec<String>, String> {
    let num = |v: &str| {
        v.parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| format!("{what}: `{v}` in range `{item}` is not a finite number"))
    };
    let (a, b, step) = (num(a)?, num(b)?, num(step)?);
    if step <= 0.0 {
        return Err(format!("{what}: range `{item}` needs a step above 0"));
    }
    if a > b {
        return Err(format!(
            "{what}: range `{item}` is reversed: its start {a} is after its end {b}"
        ));
    }
    let n = ((b - a) / step).round();
    if (a + n * step - b).abs() > 1e-9 * b.abs().max(1.0) {
        return Err(format!(
            "{what}: range `{item}` does not end on its grid: {b} minus {a} is not a multiple of {step} (ranges include both ends)"
        ));
    }
    if n >= MAX_SET_RANGE_VALUES as f64 {
        return Err(format!(
            "{what}: range `{item}` has more than {MAX_SET_RANGE_VALUES} values"
        ));
    }
    Ok((0..=n as u64)
        .map(|i| ((a + i as f64 * step) * 1e10).round() / 1e10)
        .map(|v| v.to_string())
        .collect())
}

/// The most values a number range of `--set` may expand to (as for the other axes).
const MAX_SET_RANGE_VALUES: u64 = 100_000;

/// `raw` without its double quotes, read as a TOML basic string (`"a\"b"` is `a"b`); as is when
/// it is not quoted.
fn unquote(path: &str, raw: &str) -> Result<String, String> {
    if !(raw.len() >= 2 && raw.starts_with('"') && raw.ends_with('"')) {
        return Ok(raw.to_owned());
    }
    toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .filter(|t| t.len() == 1)
        .and_then(|mut t| match t.remove("v") {
            Some(toml::Value::String(s)) => Some(s),
            _ => None,
        })
        .ok_or_else(|| {
            format!("--set {path}: `{raw}` is not a TOML string: inside the quotes, write a quote as \\\" and a backslash as \\\\")
        })
}

/// Types `raw` like `current`.
fn coerce(path: &str, current: &toml::Value, raw: &str) -> Result<Json, String> {
    let unquoted = match current {
        toml::Value::String(_) => unquote(path, raw)?,
        _ => raw.to_owned(),
    };
    let unquoted = unquoted.as_str();
    match current {
        // A duration or bandwidth is written the way scenario files write it, so that `1s` and
        // `1000ms` are one value (one point, one seed), not two.
        toml::Value::String(now) if now.parse::<models::units::Dur>().is_ok() => unquoted
            .parse::<models::units::Dur>()
            .map(|d| Json::String(d.to_string()))
            .map_err(|e| format!("--set {path}: `{raw}`: {e} (the field is a duration, now {current})")),
        toml::Value::String(now) if now.parse::<models::units::Bandwidth>().is_ok() => unquoted
            .parse::<models::units::Bandwidth>()
            .map(|b| Json::String(b.to_string()))
            .map_err(|e| format!("--set {path}: `{raw}`: {e} (the field is a bandwidth, now {current})")),
        toml::Value::String(_) => Ok(Json::String(unquoted.to_owned())),
        toml::Value::Integer(_) => raw
            .parse::<i64>()
            .map(Json::from)
            .map_err(|_| format!("--set {path}: `{raw}` is not an integer (the field is one, now {current})")),
        toml::Value::Float(_) => raw
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Json::Number)
            .ok_or_else(|| format!("--set {path}: `{raw}` is not a finite number (the field is one, now {current})")),
        toml::Value::Boolean(_) => raw
            .parse::<bool>()
            .map(Json::Bool)
            .map_err(|_| format!("--set {path}: `{raw}` is not true or false")),
        other => Err(format!("--set {path}: fields like this one ({other}) cannot be set")),
    }
}

/// The TOML form of a spec value.
fn to_toml(v: &Json) -> toml::Value {
    match v {
        Json::Bool(b) => toml::Value::Boolean(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => toml::Value::Integer(i),
            None => toml::Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => toml::Value::String(s.clone()),
        other => toml::Value::String(other.to_string()),
    }
}

/// The parameter overlay that sets `values` (one per axis of `set`), as TOML text; fault axes
/// are not in it ([`scenario_with_warnings`] adds their faults).
pub(crate) fn overlay(set: &[SetAxis], values: &[Json]) -> String {
    let mut root = toml::Table::new();
    for (axis, v) in set.iter().zip(values).filter(|(a, _)| a.fault.is_none()) {
        let mut table = &mut root;
        let segments: Vec<&str> = axis.path.split('.').collect();
        for seg in &segments[..segments.len() - 1] {
            table = table
                .entry((*seg).to_owned())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()))
                .as_table_mut()
                .expect("scenario paths walk tables");
        }
        table.insert(segments[segments.len() - 1].to_owned(), to_toml(v));
    }
    toml::to_string(&root).expect("an overlay serializes")
}

/// The warnings `base` has, as (code, field): what [`scenario_with_warnings`] leaves out of a
/// combination's. Found once per sweep, not once per combination (20,000 combinations ran the
/// base's checks 20,000 times).
pub(crate) fn warning_keys(base: &Scenario) -> Vec<(&'static str, String)> {
    topologies::check::run(base)
        .into_iter()
        .filter(|f| f.severity() == topologies::Severity::Warning)
        .map(|f| (f.code, f.field))
        .collect()
}

/// The scenario of one combination of `--set` values (no `--set`: `base` itself), with the
/// warnings the values bring that `base` does not have, `known` being its own
/// ([`warning_keys`]; their origin names the values). The workload's size is judged only at
/// `size` [`Size::OfTheFile`] (a `--pods` axis is judged by the sweep, size by size).
pub(crate) fn scenario_with_warnings(
    base: &Scenario,
    known: &[(&'static str, String)],
    set: &[SetAxis],
    values: &[Json],
    size: Size,
) -> Result<(Scenario, Vec<topologies::Diagnostic>), String> {
    if set.is_empty() {
        return Ok((base.clone(), Vec::new()));
    }
    let text = overlay(set, values);
    let origin = set
        .iter()
        .zip(values)
        .map(|(a, v)| flag_of(a, v))
        .collect::<Vec<_>>()
        .join(" ");
    // The overlay is text the sweep wrote, not the user: its line numbers would point nowhere,
    // so its findings are named by the values alone.
    let (mut scenario, mut warnings) = topologies::params::apply_generated_with_warnings(base, &text, &origin, size)
        .map_err(|mut e| match &mut e {
            topologies::ScenarioError::Parse {
                origin, field, message, ..
            } => format!("{origin}: `{field}`: {}", topologies::load::plain_numbers(message)),
            topologies::ScenarioError::Invalid { diagnostics, .. } => {
                diagnostics.iter_mut().for_each(|d| d.line = 0);
                e.to_string()
            }
            _ => e.to_string(),
        })?;
    let faults: Vec<_> = set
        .iter()
        .zip(values)
        .filter_map(|(a, v)| Some((a.fault.as_deref()?, v)))
        .collect();
    if !faults.is_empty() {
        for (template, v) in faults {
            scenario.faults.push(super::fault_axes::fault_at(template, v)?);
        }
        // The faults' checks (a host that does not exist, a repair before its fault), named by
        // the values; no fault changes which host a route reaches.
        for f in topologies::check::run_with_added_faults(&scenario)
            .into_iter()
            .filter(|f| size.judges(f.code, base.workload.replicas))
        {
            match f.severity() {
                topologies::Severity::Error => return Err(format!("{origin}: `{}`: {}", f.field, f.message)),
                topologies::Severity::Warning if !warnings.iter().any(|w| w.code == f.code && w.field == f.field) => {
                    warnings.push(f.at(&origin, 0, 0));
                }
                topologies::Severity::Warning => {}
            }
        }
    }
    warnings.iter_mut().for_each(|w| w.line = 0);
    let new = warnings
        .into_iter()
        .filter(|w| !known.iter().any(|(c, f)| *c == w.code && *f == w.field))
        .collect();
    Ok((scenario, new))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Scenario {
        topologies::params::resolve("thesis-2019", None).unwrap().0
    }

    fn spec(set: Vec<SetAxis>) -> SweepSpec {
        SweepSpec {
            kubetwin_version: "t".into(),
            model_digest: "d".into(),
            seeds: String::new(),
            scenario: "s".into(),
            scenario_digest: "d".into(),
            pods: vec![4, 8],
            delay: vec!["0s".into(), "100ms".into()],
            set,
            faults: Vec::new(),
            reps: 3,
            seed: 1,
        }
    }

    /// Points of another build do not resume or merge: the spec holds this build's digest of
    /// its source (cli/build.rs), sixteen hex digits, and a spec of another build differs in
    /// it and says so; one written before the digest (none) differs too.
    #[test]
    fn another_builds_points_are_another_sweeps() {
        assert_eq!(MODEL_DIGEST.len(), 16, "{MODEL_DIGEST}");
        assert!(MODEL_DIGEST.chars().all(|c| c.is_ascii_hexdigit()), "{MODEL_DIGEST}");
        let ours = spec(Vec::new());
        let mut theirs = spec(Vec::new());
        theirs.model_digest = "e".into();
        assert_ne!(ours, theirs);
        assert_eq!(
            ours.differences(&theirs),
            [
                r#"model_digest: "d" vs "e" (another build of kubetwin, whose model or engine may compute other results)"#
            ]
        );
        let mut json = serde_json::to_value(&ours).unwrap();
        json.as_object_mut().unwrap().remove("model_digest");
        let old: SweepSpec = serde_json::from_value(json).unwrap();
        assert_eq!(old.model_digest, "");
        assert_ne!(old, ours);
    }

    /// An unknown `--set` path near a real one is answered with it; one near none, or near two
    /// alike, is not.
    #[test]
    fn an_unknown_set_path_suggests_the_nearest() {
        let set = |path: &str| SetArg {
            path: path.into(),
            values: vec!["5".into()],
        };
        let err = resolve_sets(&base(), &[set("kubernetes.kubelet.kube_api_qp")]).unwrap_err();
        assert!(
            err.starts_with(
                "--set: unknown scenario path `kubernetes.kubelet.kube_api_qp` (did you mean `kubernetes.kubelet.kube_api_qps`?)"
            ),
            "{err}"
        );
        let err = resolve_sets(&base(), &[set("kubernetes.kublet.kube_api_qsp")]).unwrap_err();
        assert!(
            err.contains("(did you mean `kubernetes.kubelet.kube_api_qps`?)"),
            "{err}"
        );
        let err = resolve_sets(&base(), &[set("frobnicate")]).unwrap_err();
        assert!(!err.contains("did you mean"), "{err}");
        // A shared prefix lets no other setting through; case does not count; an axis is named.
        let err = resolve_sets(&base(), &[set("kubernetes.scheduler.lease")]).unwrap_err();
        assert!(!err.contains("did you mean"), "{err}");
        let err = resolve_sets(&base(), &[set("HAPROXY.FALL")]).unwrap_err();
        assert!(err.contains("(did you mean `haproxy.fall`?)"), "{err}");
        let err = resolve_sets(&base(), &[set("netem.dealy")]).unwrap_err();
        assert!(
            err.contains("(did you mean `netem.delay`? that is the --delay axis)"),
            "{err}"
        );
        assert_eq!(edit_distance("ab", "ba"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(closest_path("x1", ["x2", "x3"].into_iter()), None, "a tie");
    }

    /// A quoted value is read as a TOML basic string, escapes and all.
    #[test]
    fn quoted_values_are_toml_basic_strings() {
        assert_eq!(unquote("p", r#""a\"b,c""#).unwrap(), "a\"b,c");
        assert_eq!(unquote("p", r#""""#).unwrap(), "");
        assert_eq!(unquote("p", "plain").unwrap(), "plain");
        assert!(unquote("p", r#""a\qb""#).unwrap_err().contains("is not a TOML string"));
    }

    #[test]
    fn more_points_than_the_cap_are_refused_before_any_is_built() {
        let mut s = spec(Vec::new());
        s.pods = (1..=1000).collect();
        s.delay = (0..1001).map(|d| format!("{d}ms")).collect();
        let err = s.points().unwrap_err().to_string();
        assert!(err.contains("1000 --pods x 1001 --delay"), "{err}");
        s.delay.truncate(1000);
        assert_eq!(s.points().unwrap().len(), 1_000_000);
    }

    #[test]
    fn every_point_uses_the_experiment_seed_and_ignores_other_points() {
        let s = spec(Vec::new());
        let pts = s.points().unwrap();
        assert_eq!(pts.len(), 4);
        assert!(pts.iter().all(|p| s.point_seed(p) == s.seed));
        let mut bigger = spec(Vec::new());
        bigger.pods = vec![2, 8, 16];
        let same = bigger
            .points()
            .unwrap()
            .into_iter()
            .find(|p| p.pods == 8 && p.delay_ns == 100_000_000)
            .unwrap();
        assert_eq!(bigger.point_seed(&same), s.point_seed(&pts[3]));
        assert_eq!(bigger.point_key(&same), s.point_key(&pts[3]));
    }

    #[test]
    fn set_values_change_the_key_but_not_the_seed_or_their_order() {
        let a = SetAxis {
            path: "a.x".into(),
            values: vec![Json::from(1), Json::from(2)],
            fault: None,
        };
        let b = SetAxis {
            path: "b.y".into(),
            values: vec![Json::from("p")],
            fault: None,
        };
        let ab = spec(vec![a.clone(), b.clone()]);
        let ba = spec(vec![b, a]);
        let p_ab = &ab.points().unwrap()[1];
        let p_ba = ba
            .points()
            .unwrap()
            .into_iter()
            .find(|p| p.set[1] == p_ab.set[0])
            .unwrap();
        assert_eq!(ab.point_seed(p_ab), ba.point_seed(&p_ba));
        let p0 = &ab.points().unwrap()[0];
        assert_eq!(ab.point_seed(p0), ab.point_seed(p_ab));
        assert_ne!(ab.point_key(p0), ab.point_key(p_ab));
        assert_eq!(ab.points().unwrap().len(), 8);
    }

    /// `START..END/STEP` in `--set`, as the sweep's help promises for every axis: integers,
    /// numbers (without binary-fraction noise) and durations; lists elsewhere.
    #[test]
    fn set_ranges_expand_for_integers_numbers_and_durations() {
        let b = base();
        let one = |path: &str, values: &[&str]| {
            resolve_sets(
                &b,
                &[SetArg {
                    path: path.into(),
                    values: values.iter().map(|v| (*v).to_owned()).collect(),
                }],
            )
            .map(|s| s[0].values.clone())
        };
        assert_eq!(
            one("kubernetes.kubelet.kube_api_burst", &["10..30/10", "50"]).unwrap(),
            vec![Json::from(10), Json::from(20), Json::from(30), Json::from(50)]
        );
        assert_eq!(
            one("kubernetes.kubelet.kube_api_qps", &["0.1..0.3/0.1"]).unwrap(),
            vec![Json::from(0.1), Json::from(0.2), Json::from(0.3)]
        );
        assert_eq!(
            one("runtime.registry_rtt", &["50ms..150ms/50ms"]).unwrap(),
            vec![Json::from("50ms"), Json::from("100ms"), Json::from("150ms")]
        );
        let err = one("kubernetes.kubelet.kube_api_qps", &["5..16/5"]).unwrap_err();
        assert!(err.contains("does not end on its grid"), "{err}");
        let err = one("runtime.pull_policy", &["a..b/c"]).unwrap_err();
        assert!(
            err.contains("ranges work for integer, number and duration fields"),
            "{err}"
        );
        let err = one("kubernetes.kubelet.kube_api_burst", &["10..30/10", "20"]).unwrap_err();
        assert!(err.contains("appears twice"), "{err}");
        // One duration, or bandwidth, in two spellings is one value.
        let err = one("runtime.registry_rtt", &["1s", "1000ms"]).unwrap_err();
        assert!(err.contains("appears twice"), "{err}");
        let err = one("runtime.download_bandwidth", &["1Gbit", "1000Mbit"]).unwrap_err();
        assert!(err.contains("appears twice"), "{err}");
        // So are 0 and -0 (found when the check became a set of the values' text).
        let err = one("netem.loss_pct", &["0", "-0"]).unwrap_err();
        assert!(err.contains("appears twice"), "{err}");
        let err = one("runtime.registry_rtt", &["fast"]).unwrap_err();
        assert!(err.contains("the field is a duration"), "{err}");
        // A quoted TOML string is one value, `..` in it or not (a review found `"a..b"` read as
        // a range without a step).
        assert_eq!(
            one("workload.image", &["\"a..b\"", "\"../x\""]).unwrap(),
            vec![Json::from("a..b"), Json::from("../x")]
        );
    }

    #[test]
    fn sets_are_typed_and_applied() {
        let b = base();
        let set = resolve_sets(
            &b,
            &[SetArg {
                path: "kubernetes.kubelet.kube_api_qps".into(),
                values: vec!["5".into(), "10".into()],
            }],
        )
        .unwrap();
        assert_eq!(set[0].values, vec![Json::from(5.0), Json::from(10.0)]);
        assert_eq!(
            overlay(&set, &set[0].values[..1]),
            "[kubernetes.kubelet]\nkube_api_qps = 5.0\n"
        );
        let (s, _) = scenario_with_warnings(&b, &warning_keys(&b), &set, &set[0].values[1..], Size::OfTheFile).unwrap();
        assert_eq!(s.kubernetes.kubelet.kube_api_qps, 10.0);
        let e = resolve_sets(
            &b,
            &[SetArg {
                path: "kubernetes.kubelet.nope".into(),
                values: vec!["1".into()],
            }],
        )
        .unwrap_err();
        assert!(e.contains("kubernetes.kubelet.kube_api_qps"), "{e}");
        let e = resolve_sets(
            &b,
            &[SetArg {
                path: "workload.replicas".into(),
                values: vec!["1".into()],
            }],
        )
        .unwrap_err();
        assert!(e.contains("--pods"), "{e}");
    }
}
