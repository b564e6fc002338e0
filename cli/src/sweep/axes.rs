//! Parsing the axes of a sweep: `--pods`, `--delay`, `--set` and `--shard`.
//!
//! An axis is a comma-separated list whose items are single values or inclusive ranges
//! `START..END/STEP`: `--pods 4,20,100`, `--pods 10..50/10`, `--delay 0ms..500ms/100ms`,
//! `--delay 0ms,50ms..250ms/100ms`. A range includes both ends, so `END - START` must be a
//! multiple of `STEP`; `100ms..100ms/10ms` is the single value 100 ms. A value may appear once.
//!
//! Every parser here returns a message meant for the user; the caller turns it into a usage
//! error (exit code 2) before any work starts.

use std::fmt;
use std::str::FromStr;

use sim_core::SimDuration;

/// The most values one axis may expand to (a typo such as `0ms..1h/1ms` is refused rather than
/// run for weeks).
const MAX_AXIS_VALUES: u64 = 100_000;

/// Largest pod count: the one bound every command and data file shares.
const MAX_PODS: u64 = validate::dataset::MAX_PODS as u64;

/// Largest delay: the one bound every command and data file shares (30 days, the scenario's limit
/// on every duration, E015). The seed derivation keeps whole milliseconds in 32 bits, which it
/// fits.
const MAX_DELAY_NS: u64 = validate::dataset::MAX_DELAY_MS as u64 * 1_000_000;

/// The values of `--pods`, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PodsAxis(pub(crate) Vec<u32>);

/// The values of `--delay`, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DelayAxis(pub(crate) Vec<SimDuration>);

/// One `--set PATH=V1,V2,...`: the path and the values as typed (checked against the scenario
/// later, when its fields are known).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SetArg {
    /// Dotted path of a scenario field, e.g. `kubernetes.kubelet.kube_api_qps`.
    pub(crate) path: String,
    /// The raw values.
    pub(crate) values: Vec<String>,
}

/// `--shard K/N`: this process runs the points whose index modulo N is K-1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shard {
    /// 1-based shard number.
    pub(crate) k: u64,
    /// Number of shards.
    pub(crate) n: u64,
}

impl Shard {
    /// Whether the point with index `i` (in the full point order) belongs to this shard.
    pub(crate) fn owns(self, i: usize) -> bool {
        i as u64 % self.n == self.k - 1
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

/// Splits a comma-separated axis into non-empty items. A comma inside a double-quoted string (a
/// TOML basic string, where `\"` is a quote and not its end) belongs to the string; a string left
/// open is an error.
pub(crate) fn items<'a>(raw: &'a str, what: &str) -> Result<Vec<&'a str>, String> {
    if raw.trim().is_empty() {
        return Err(format!("empty {what} list: give values such as {}", example(what)));
    }
    split_outside_quotes(raw)
        .ok_or_else(|| {
            format!("the {what} list `{raw}` opens a double-quoted string it does not close: write a value with a comma as \"a,b\"")
        })?
        .into_iter()
        .map(|s| {
            let s = s.trim();
            if s.is_empty() {
                Err(format!("empty value in the {what} list `{raw}`"))
            } else {
                Ok(s)
            }
        })
        .collect()
}

/// `raw` split at the commas outside double-quoted strings; `None` if a string is not closed.
fn split_outside_quotes(raw: &str) -> Option<Vec<&str>> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in raw.char_indices() {
        if quoted {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => quoted = false,
                _ => {}
            }
        } else if c == '"' {
            quoted = true;
        } else if c == ',' {
            parts.push(&raw[start..i]);
            start = i + 1;
        }
    }
    parts.push(&raw[start..]);
    (!quoted).then_some(parts)
}

fn example(what: &str) -> &'static str {
    if what == "delay" {
        "0ms,100ms or 0ms..500ms/100ms"
    } else if what.starts_with("--set") {
        "5,10,50 or 10..50/10 (or 50ms..300ms/50ms for a duration)"
    } else {
        "4,20,100 or 10..50/10"
    }
}

/// The shortest dotted ending of `path` that no other of `paths` shares: its last part
/// (`kube_api_qps`) unless another path ends the same way, then as many parts as tell them apart
/// (`kubelet.kube_api_qps`, `controller_manager.kube_api_qps`). How the sweep's table, its
/// figures and `plot`'s column names name a `--set` axis.
pub(crate) fn short_name<'a>(path: &'a str, paths: &[&str]) -> &'a str {
    let parts = path.split('.').count();
    for keep in 1..parts {
        let cut = path.rsplitn(keep + 1, '.').take(keep).map(str::len).sum::<usize>() + keep - 1;
        let ending = &path[path.len() - cut..];
        let shared = paths
            .iter()
            .filter(|&&p| p != path)
            .any(|p| *p == ending || p.ends_with(&format!(".{ending}")));
        if !shared {
            return ending;
        }
    }
    path
}

/// A range item split into (start, end, step), or `None` for a single value (a quoted TOML
/// string is one, `..` in it or not: `"../x"`).
pub(crate) fn split_range<'a>(item: &'a str, what: &str) -> Result<Option<(&'a str, &'a str, &'a str)>, String> {
    if item.trim_start().starts_with('"') {
        return Ok(None);
    }
    let Some((start, rest)) = item.split_once("..") else {
        return Ok(None);
    };
    let (end, step) = match rest.rsplit_once('/') {
        Some((e, s)) => (e.trim(), s.trim()),
        None => {
            return Err(format!(
                "range `{item}` has no step: write START..END/STEP, e.g. {}",
                example(what)
            ))
        }
    };
    let start = start.trim();
    if start.is_empty() || end.is_empty() || step.is_empty() {
        return Err(format!(
            "empty range `{item}`: a range needs a start, an end and a step, e.g. {}",
            example(what)
        ));
    }
    Ok(Some((start, end, step)))
}

/// Expands `start..=end` by `step` (all in the axis's integer unit), refusing reversed, zero-step,
/// off-grid and oversized ranges. `show` prints a value as the user wrote it.
pub(crate) fn expand(
    item: &str,
    start: u64,
    end: u64,
    step: u64,
    show: &dyn Fn(u64) -> String,
) -> Result<Vec<u64>, String> {
    if step == 0 {
        return Err(format!("range `{item}` has a zero step"));
    }
    if start > end {
        return Err(format!(
            "range `{item}` is reversed: its start {} is after its end {}",
            show(start),
            show(end)
        ));
    }
    if !(end - start).is_multiple_of(step) {
        return Err(format!(
            "range `{item}` does not end on its grid: {} minus {} is not a multiple of {} (ranges include both ends)",
            show(end),
            show(start),
            show(step)
        ));
    }
    let n = (end - start) / step + 1;
    if n > MAX_AXIS_VALUES {
        return Err(format!("range `{item}` has {n} values, more than {MAX_AXIS_VALUES}"));
    }
    Ok((0..n).map(|i| start + i * step).collect())
}

fn no_duplicates<T: PartialEq + Copy>(values: &[T], what: &str, show: &dyn Fn(T) -> String) -> Result<(), String> {
    for (i, v) in values.iter().enumerate() {
        if values[..i].contains(v) {
            return Err(format!("{what} value {} appears twice", show(*v)));
        }
    }
    if values.len() as u64 > MAX_AXIS_VALUES {
        return Err(format!(
            "{what} has {} values, more than {MAX_AXIS_VALUES}",
            values.len()
        ));
    }
    Ok(())
}

fn parse_pod_count(s: &str) -> Result<u64, String> {
    let n: u64 = s
        .parse()
        .map_err(|_| format!("`{s}` is not a pod count (a whole number from 1 to {MAX_PODS})"))?;
    if n == 0 || n > MAX_PODS {
        return Err(format!("pod count {n} is out of range: 1 to {MAX_PODS}"));
    }
    Ok(n)
}

/// Parses `--pods`: e.g. `4,20,100` or `10..50/10`.
pub(crate) fn parse_pods(raw: &str) -> Result<PodsAxis, String> {
    let mut out: Vec<u32> = Vec::new();
    for item in items(raw, "pods")? {
        match split_range(item, "pods")? {
            None => out.push(parse_pod_count(item)? as u32),
            Some((a, b, s)) => {
                let (a, b) = (parse_pod_count(a)?, parse_pod_count(b)?);
                let s: u64 = s
                    .parse()
                    .map_err(|_| format!("step `{s}` of range `{item}` is not a whole number"))?;
                out.extend(expand(item, a, b, s, &|v| v.to_string())?.into_iter().map(|v| v as u32));
            }
        }
    }
    no_duplicates(&out, "--pods", &|v| v.to_string())?;
    Ok(PodsAxis(out))
}

fn parse_one_delay(s: &str) -> Result<u64, String> {
    if f64::from_str(s).is_ok() {
        return Err(format!("delay `{s}` has no unit: write e.g. {s}ms or {s}s"));
    }
    let d = crate::commands::run::parse_delay(s).map_err(|e| format!("delay `{s}`: {e}"))?;
    let ns = d.as_nanos();
    if ns > MAX_DELAY_NS {
        return Err(format!("delay `{s}` is too large (at most 720h, 30 days)"));
    }
    Ok(ns)
}

/// A delay as scenario files write it (`0s`, `100ms`, `1500us`).
pub(crate) fn show_delay(ns: u64) -> String {
    models::units::Dur(SimDuration::from_nanos(ns)).to_string()
}

/// Parses `--delay`: e.g. `0ms,100ms` or `0ms..500ms/100ms`; every value needs a unit.
pub(crate) fn parse_delays(raw: &str) -> Result<DelayAxis, String> {
    let mut out: Vec<u64> = Vec::new();
    for item in items(raw, "delay")? {
        match split_range(item, "delay")? {
            None => out.push(parse_one_delay(item)?),
            Some((a, b, s)) => {
                let (a, b, s) = (parse_one_delay(a)?, parse_one_delay(b)?, parse_one_delay(s)?);
                out.extend(expand(item, a, b, s, &show_delay)?);
            }
        }
    }
    no_duplicates(&out, "--delay", &show_delay)?;
    Ok(DelayAxis(out.into_iter().map(SimDuration::from_nanos).collect()))
}

/// Parses `--set PATH=V1,V2,...` (the path and values are checked against the scenario later).
pub(crate) fn parse_set(raw: &str) -> Result<SetArg, String> {
    let (path, values) = raw
        .split_once('=')
        .ok_or_else(|| format!("`{raw}` is not PATH=V1,V2,...: e.g. kubernetes.kubelet.kube_api_qps=5,10,50"))?;
    let path = path.trim();
    if path.is_empty() {
        return Err(format!("`{raw}` has no path before `=`"));
    }
    let values: Vec<String> = items(values, &format!("--set {path}"))?
        .into_iter()
        .map(str::to_owned)
        .collect();
    for (i, v) in values.iter().enumerate() {
        if values[..i].contains(v) {
            return Err(format!("--set {path}: value {v} appears twice"));
        }
    }
    Ok(SetArg {
        path: path.to_owned(),
        values,
    })
}

/// Parses `--shard K/N` (1 <= K <= N).
pub(crate) fn parse_shard(raw: &str) -> Result<Shard, String> {
    let (k, n) = raw
        .split_once('/')
        .ok_or_else(|| format!("shard `{raw}` is not K/N (e.g. 1/4: the first of four shards)"))?;
    let k: u64 = k
        .trim()
        .parse()
        .map_err(|_| format!("shard `{raw}`: K `{k}` is not a whole number"))?;
    let n: u64 = n
        .trim()
        .parse()
        .map_err(|_| format!("shard `{raw}`: N `{n}` is not a whole number"))?;
    if n == 0 {
        return Err(format!("shard `{raw}`: N must be at least 1"));
    }
    if k == 0 {
        return Err(format!("shard `{raw}`: K counts from 1 (shards are 1/{n} to {n}/{n})"));
    }
    if k > n {
        return Err(format!("shard `{raw}`: K must be between 1 and N = {n}"));
    }
    Ok(Shard { k, n })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Commas inside a double-quoted string (with its escaped quotes) belong to the string.
    #[test]
    fn commas_inside_quotes_do_not_split() {
        assert_eq!(items(r#""a,b",c"#, "v").unwrap(), [r#""a,b""#, "c"]);
        assert_eq!(items(r#""a\",b",c"#, "v").unwrap(), [r#""a\",b""#, "c"]);
        assert_eq!(items(r#""",x"#, "v").unwrap(), [r#""""#, "x"]);
        assert!(items(r#""a,b"#, "v").unwrap_err().contains("does not close"));
    }

    fn ms(v: &[u64]) -> DelayAxis {
        DelayAxis(v.iter().map(|&m| SimDuration::from_millis(m)).collect())
    }

    /// The sweep takes the delays every other command and data file takes: up to 30 days.
    #[test]
    fn delays_share_the_scenarios_limit() {
        assert_eq!(parse_delays("2h").unwrap(), ms(&[7_200_000]));
        assert_eq!(parse_delays("720h").unwrap(), ms(&[2_592_000_000]));
        assert!(parse_delays("721h").unwrap_err().contains("at most 720h, 30 days"));
    }

    #[test]
    fn a_set_path_is_named_by_its_shortest_unshared_ending() {
        let paths = [
            "kubernetes.kubelet.kube_api_qps",
            "kubernetes.controller_manager.kube_api_qps",
            "runtime.registry_rtt",
        ];
        let names: Vec<&str> = paths.iter().map(|p| short_name(p, &paths)).collect();
        assert_eq!(
            names,
            [
                "kubelet.kube_api_qps",
                "controller_manager.kube_api_qps",
                "registry_rtt"
            ]
        );
        assert_eq!(short_name("delay_ms", &["delay_ms", "pods"]), "delay_ms");
        assert_eq!(short_name("a.b", &["a.b", "b"]), "a.b");
    }

    #[test]
    fn lists_and_ranges() {
        assert_eq!(parse_pods("4,20,100").unwrap(), PodsAxis(vec![4, 20, 100]));
        assert_eq!(parse_pods("10..30/10, 100").unwrap(), PodsAxis(vec![10, 20, 30, 100]));
        assert_eq!(parse_delays("0ms..200ms/100ms").unwrap(), ms(&[0, 100, 200]));
        assert_eq!(parse_delays("0.5s,100ms").unwrap(), ms(&[500, 100]));
        assert_eq!(parse_delays("100ms..100ms/10ms").unwrap(), ms(&[100]));
        assert_eq!(parse_delays("0s..1s/0.5s").unwrap(), ms(&[0, 500, 1000]));
    }

    #[test]
    fn bad_axes_say_why() {
        let e = |r: Result<DelayAxis, String>| r.unwrap_err();
        assert!(e(parse_delays("500")).contains("no unit"));
        assert!(e(parse_delays("0ms..500/100ms")).contains("no unit"));
        assert!(e(parse_delays("500ms..0ms/100ms")).contains("reversed"));
        assert!(e(parse_delays("0ms..500ms/0ms")).contains("zero step"));
        assert!(e(parse_delays("0ms..500ms")).contains("no step"));
        assert!(e(parse_delays("..500ms/100ms")).contains("empty range"));
        assert!(e(parse_delays("")).contains("empty"));
        assert!(e(parse_delays("0ms,,1ms")).contains("empty value"));
        assert!(e(parse_delays("0ms..500ms/300ms")).contains("multiple"));
        assert!(e(parse_delays("100ms,0.1s")).contains("twice"));
        assert!(parse_pods("0").unwrap_err().contains("out of range"));
        assert!(parse_pods("4,x").unwrap_err().contains("`x`"));
        assert!(parse_pods("20..10/5").unwrap_err().contains("reversed"));
    }

    #[test]
    fn shards() {
        assert_eq!(parse_shard("2/3").unwrap(), Shard { k: 2, n: 3 });
        assert!(parse_shard("3/2").unwrap_err().contains("between 1 and N"));
        assert!(parse_shard("0/2").unwrap_err().contains("counts from 1"));
        assert!(parse_shard("1/0").unwrap_err().contains("at least 1"));
        assert!(parse_shard("1").unwrap_err().contains("K/N"));
        let s = Shard { k: 2, n: 3 };
        assert_eq!((0..7).filter(|&i| s.owns(i)).collect::<Vec<_>>(), vec![1, 4]);
    }

    #[test]
    fn set_syntax() {
        let s = parse_set("kubernetes.kubelet.kube_api_qps=5,10,50").unwrap();
        assert_eq!(s.path, "kubernetes.kubelet.kube_api_qps");
        assert_eq!(s.values, ["5", "10", "50"]);
        assert!(parse_set("kube_api_qps").unwrap_err().contains("PATH=V1"));
        assert!(parse_set("=5").unwrap_err().contains("no path"));
        assert!(parse_set("a.b=").unwrap_err().contains("empty"));
    }
}
