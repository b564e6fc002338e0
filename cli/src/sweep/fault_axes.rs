//! `sweep --fault`: faults laid over every point, and faults as axes.
//!
//! A `--fault` is written as `run`'s (`crash lb at 30s repair 60s`). One `{V1,V2,...}` group in
//! it makes it an axis: one value per point, each put in the group's place, as in
//! `crash lb at 30s repair {40s..120s/20s}` (an outage of 10 to 90 s) or
//! `crash {master02,lb} at 30s repair 60s`. A group's items are values or, for durations,
//! inclusive ranges `START..END/STEP`. Without a group the fault is part of every point's
//! scenario (and of its digest), as a `[[faults]]` entry of the scenario file would be.
//!
//! A fault axis is stored in the sweep's spec as a `--set` axis is ([`SetAxis`]), with the
//! fault's text in [`SetAxis::fault`] and `{}` where the value goes; it comes after the `--set`
//! axes in the point order. Its column is named `fault.` and the keyword before the group
//! (`fault.repair`, `fault.at`, `fault.delay`, `fault.loss`; `fault.jitter` for the value
//! after a delay), or the fault's kind when none comes before it (`fault.crash`: the host that
//! crashes); a second axis of the same name gets `fault2.`, and so on. The group is a whole
//! word, and two values that make the same fault (`1m` and `60s`) are refused.

use models::spec::{Fault, Scenario};
use serde_json::Value as Json;

use super::axes::{expand, items, show_delay, split_range};
use super::spec::SetAxis;
use crate::commands::run::{fault_text, parse_fault};

/// The keywords of the fault syntax that name the value after them.
const KEYWORDS: [&str; 4] = ["at", "repair", "delay", "loss"];

/// The most points one fault axis may have (as for the other axes).
const MAX_FAULT_VALUES: usize = 100_000;

/// One `--fault` of `sweep`, as read from the command line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FaultArg {
    /// A fault of every point.
    Fixed(Fault),
    /// A fault axis.
    Axis {
        /// The fault's text with `{}` where each value goes.
        template: String,
        /// The keyword before the group, or the fault's kind.
        name: String,
        /// The values, in the order given, ranges expanded.
        values: Vec<String>,
    },
}

/// Parses a `--fault` of `sweep`: every value its group gives must make a fault `run` reads.
pub(crate) fn parse(raw: &str) -> Result<FaultArg, String> {
    let Some(open) = raw.find('{') else {
        if raw.contains('}') {
            return Err(format!("`{raw}`: a `}}` without its `{{`"));
        }
        return parse_fault(raw).map(FaultArg::Fixed);
    };
    let close = raw[open..]
        .find('}')
        .map(|i| open + i)
        .ok_or_else(|| format!("`{raw}`: the `{{` is never closed; write the values as {{V1,V2,...}}"))?;
    let (head, group, tail) = (&raw[..open], &raw[open + 1..close], &raw[close + 1..]);
    if tail.contains(['{', '}']) || head.contains('}') {
        return Err(format!(
            "`{raw}`: one {{...}} group per --fault; give another --fault for another axis"
        ));
    }
    // A whole word, so that its column holds the values the fault takes (`3{0,5}s` would name
    // 30 s and 35 s by 0 and 5).
    let glued = |side: &str, space: bool| !side.is_empty() && !space;
    if glued(head, head.ends_with(char::is_whitespace)) || glued(tail, tail.starts_with(char::is_whitespace)) {
        return Err(format!(
            "`{raw}`: the {{...}} group must be a whole word, each value a whole time, host or site (such as `repair {{40s,60s}}`)"
        ));
    }
    let what = format!("--fault `{raw}`");
    let mut values: Vec<String> = Vec::new();
    for item in items(group, &what)? {
        match split_range(item, &what)? {
            None => values.push(item.to_owned()),
            Some((a, b, step)) => {
                let ns = |v: &str| {
                    v.parse::<models::units::Dur>().map(|d| d.get().as_nanos()).map_err(|e| {
                        format!("{what}: `{v}` in range `{item}`: {e} (ranges in a --fault are of durations; list other values)")
                    })
                };
                values.extend(
                    expand(item, ns(a)?, ns(b)?, ns(step)?, &show_delay)?
                        .into_iter()
                        .map(show_delay),
                );
            }
        }
        if values.len() > MAX_FAULT_VALUES {
            return Err(format!("{what}: more than {MAX_FAULT_VALUES} values"));
        }
    }
    // The same fault however it is written (`1m` and `60s`), by the text `run` writes it back
    // in: a set, as a scan per value would be quadratic in 100,000 values.
    let mut seen: std::collections::HashMap<String, &str> = std::collections::HashMap::with_capacity(values.len());
    for v in &values {
        let fault = parse_fault(&format!("{head}{v}{tail}")).map_err(|e| format!("{what} with {v}: {e}"))?;
        if let Some(first) = seen.insert(fault_text(&fault), v) {
            return Err(format!("{what}: value {v} appears twice (as {first})"));
        }
    }
    let words: Vec<&str> = head.split_whitespace().collect();
    let name = match words.iter().rposition(|w| KEYWORDS.contains(w)) {
        // `delay D {J1,J2}`: the value after the delay is netem's jitter.
        Some(k) if words[k] == "delay" && k + 1 < words.len() => "jitter",
        Some(k) => words[k],
        None => words.first().copied().unwrap_or("value"),
    }
    .to_owned();
    Ok(FaultArg::Axis {
        template: format!("{head}{{}}{tail}"),
        name,
        values,
    })
}

/// The fault of an axis's `template` at `value` (checked when the axis was read).
pub(crate) fn fault_at(template: &str, value: &Json) -> Result<Fault, String> {
    let text = template.replacen("{}", &super::spec::plain(value), 1);
    parse_fault(&text)
}

/// `base` with the fixed faults of `args` added.
pub(crate) fn with_fixed_faults(base: &Scenario, args: &[FaultArg]) -> Scenario {
    let mut s = base.clone();
    s.faults.extend(args.iter().filter_map(|a| match a {
        FaultArg::Fixed(f) => Some(f.clone()),
        FaultArg::Axis { .. } => None,
    }));
    s
}

/// The fault axes of `args`, as the spec stores them, each named by its column (`fault.repair`,
/// then `fault2.repair` for a second of that name).
pub(crate) fn axes(args: &[FaultArg]) -> Vec<SetAxis> {
    let mut out: Vec<SetAxis> = Vec::new();
    for a in args {
        let FaultArg::Axis { template, name, values } = a else {
            continue;
        };
        let path = (1..)
            .map(|n| match n {
                1 => format!("fault.{name}"),
                n => format!("fault{n}.{name}"),
            })
            .find(|p| !out.iter().any(|o| o.path == *p))
            .expect("an unused name");
        out.push(SetAxis {
            path,
            values: values.iter().map(|v| Json::String(v.clone())).collect(),
            fault: Some(template.clone()),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use models::units::Dur;

    #[test]
    fn a_group_makes_an_axis_named_by_the_keyword_before_it() {
        let FaultArg::Axis { template, name, values } = parse("crash lb at 30s repair {40s..80s/20s,2m}").unwrap()
        else {
            panic!("an axis")
        };
        assert_eq!(template, "crash lb at 30s repair {}");
        assert_eq!(name, "repair");
        // A range's values are written as scenario files write durations; a value as given.
        assert_eq!(values, ["40s", "60s", "80s", "2m"]);
        let f = fault_at(&template, &Json::String("1m".into())).unwrap();
        assert_eq!(f.repair(), Some(Dur::secs(60)));
        let FaultArg::Axis { name, .. } = parse("crash {master02,lb} at 30s").unwrap() else {
            panic!("an axis")
        };
        assert_eq!(name, "crash");
        let FaultArg::Axis { name, .. } = parse("degrade vlan10 vlan20 delay 100ms {0ms,20ms} at 5s").unwrap() else {
            panic!("an axis")
        };
        assert_eq!(name, "jitter");
        assert_eq!(
            parse("crash lb at 30s repair 60s").unwrap(),
            FaultArg::Fixed(parse_fault("crash lb at 30s repair 60s").unwrap())
        );
    }

    #[test]
    fn bad_groups_say_why() {
        for (raw, says) in [
            ("crash lb at {30s repair 60s", "never closed"),
            ("crash lb at 30s} repair 60s", "without its"),
            ("crash lb at {10s,20s} repair {60s}", "one {...} group"),
            ("crash lb at 30s repair {40s,40s}", "appears twice"),
            ("crash lb at 30s repair {soon}", "with soon"),
            ("crash {a..b/c} at 30s", "ranges in a --fault are of durations"),
            ("crash lb at 30s repair {}", "repair {}"),
            ("crash lb at 30s repair {1m,60s}", "value 60s appears twice (as 1m)"),
            ("crash lb at 3{0,5}s", "a whole word"),
        ] {
            let e = parse(raw).unwrap_err();
            assert!(e.contains(says), "{raw}: {e}");
        }
    }

    #[test]
    fn two_axes_of_one_name_get_numbered_columns() {
        let args = [
            parse("crash lb at 30s repair {60s,90s}").unwrap(),
            parse("crash master02 at 10s").unwrap(),
            parse("crash master03 at 10s repair {20s,40s}").unwrap(),
        ];
        let paths: Vec<String> = axes(&args).into_iter().map(|a| a.path).collect();
        assert_eq!(paths, ["fault.repair", "fault2.repair"]);
        let base = topologies::params::resolve("thesis-2019", None).unwrap().0;
        let s = with_fixed_faults(&base, &args);
        assert_eq!(s.faults.len(), base.faults.len() + 1);
    }
}
