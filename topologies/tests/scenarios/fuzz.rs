//! Mutated thesis files never panic, and every error names the file and a line.

use proptest::prelude::*;
use topologies::load;

const ORIGIN: &str = "mutant.toml";

/// Values that go wrong in interesting ways: types, units, ranges, names, TOML specials.
const NASTY: &[&str] = &[
    "-1",
    "0",
    "-0.0",
    "nan",
    "inf",
    "-inf",
    "1e309",
    "18446744073709551616",
    "\"\"",
    "\"100\"",
    "\"-5ms\"",
    "\"99999999h\"",
    "\"1e300s\"",
    "\"0ms\"",
    "\"µs\"",
    "\"10 parsecs\"",
    "\"master09\"",
    "\"vyos01\"",
    "\"node01\"",
    "true",
    "[]",
    "{}",
    "[1, \"a\"]",
    "{ kind = \"hub-and-spoke\" }",
    "\"hub-and-spoke\"",
    "\"load-balancer\"",
    "\"wan\"",
    "2019-11-01T00:00:00Z",
    "'''",
    "\"\\u0000\"",
];

#[derive(Debug, Clone)]
enum Mutation {
    Truncate(usize),
    Replace { line: usize, value: usize },
    Delete(Vec<usize>),
    Garbage { offset: usize, text: String },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (0usize..20_000).prop_map(Mutation::Truncate),
        (0usize..400, 0..NASTY.len()).prop_map(|(line, value)| Mutation::Replace { line, value }),
        prop::collection::vec(0usize..400, 1..6).prop_map(Mutation::Delete),
        (0usize..20_000, "[\\[\\]=\"#a-z0-9.\n ]{0,8}").prop_map(|(offset, text)| Mutation::Garbage { offset, text }),
    ]
}

fn floor_boundary(s: &str, at: usize) -> usize {
    let mut at = at % (s.len() + 1);
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn apply(text: &str, m: &Mutation) -> String {
    match m {
        Mutation::Truncate(at) => text[..floor_boundary(text, *at)].to_owned(),
        Mutation::Replace { line, value } => {
            let lines: Vec<&str> = text.lines().collect();
            let with_values: Vec<usize> = (0..lines.len()).filter(|&i| lines[i].contains(" = ")).collect();
            let Some(&target) = with_values.get(line % with_values.len().max(1)) else {
                return text.to_owned();
            };
            lines
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    if i == target {
                        let key = &l[..l.find(" = ").unwrap_or(0)];
                        format!("{key} = {}", NASTY[*value])
                    } else {
                        (*l).to_owned()
                    }
                })
                .collect::<Vec<_>>()
                .join("\n")
        }
        Mutation::Delete(which) => {
            let lines: Vec<&str> = text.lines().collect();
            let drop: Vec<usize> = which.iter().map(|w| w % lines.len().max(1)).collect();
            lines
                .iter()
                .enumerate()
                .filter(|(i, _)| !drop.contains(i))
                .map(|(_, l)| *l)
                .collect::<Vec<_>>()
                .join("\n")
        }
        Mutation::Garbage { offset, text: g } => {
            let at = floor_boundary(text, *offset);
            format!("{}{g}{}", &text[..at], &text[at..])
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutants_never_panic_and_errors_name_file_and_line(ms in prop::collection::vec(mutation(), 1..3)) {
        let mut text = super::thesis_text().to_owned();
        for m in &ms {
            text = apply(&text, m);
        }
        if let Err(e) = load::load_str(&text, ORIGIN) {
            let shown = e.to_string();
            prop_assert!(shown.contains(ORIGIN), "{}", shown);
            prop_assert!(shown.contains("line "), "{}", shown);
            for d in e.diagnostics() {
                let line_count = text.lines().count().max(1);
                prop_assert!(d.line >= 1 && d.line <= line_count + 1, "{}", d);
            }
        }
    }
}

/// A random scenario built from parts: random site, host and link counts (zero included),
/// links forming cycles, ends that name nothing, negative or unit-less delays, roles in any mix.
fn random_scenario() -> impl Strategy<Value = String> {
    let delay = prop_oneof![
        Just("\"1ms\"".to_owned()),
        Just("\"-3ms\"".to_owned()),
        Just("5".to_owned()),
        Just("\"0s\"".to_owned()),
        Just("\"9999999999h\"".to_owned()),
        (1u32..500).prop_map(|n| format!("\"{n}us\"")),
    ];
    let role = prop_oneof![
        Just("master"),
        Just("worker"),
        Just("router"),
        Just("load-balancer"),
        Just("client"),
        Just("boss")
    ];
    (
        0usize..4,
        prop::collection::vec((0usize..5, role), 0..10),
        prop::collection::vec((0usize..12, 0usize..12, delay), 0..14),
        prop::collection::vec(0usize..12, 0..4),
        any::<bool>(),
    )
        .prop_map(|(sites, hosts, links, backends, vpn)| {
            let mut t = String::from("name = \"random\"\n");
            t.push_str(&format!("[vpn]\nenabled = {vpn}\n"));
            let name = |i: usize| format!("h{i}");
            t.push_str("[haproxy]\nhost = \"h0\"\n");
            let b: Vec<String> = backends.iter().map(|&i| format!("\"{}\"", name(i))).collect();
            t.push_str(&format!("backends = [{}]\n", b.join(", ")));
            for s in 0..sites {
                t.push_str(&format!("[[sites]]\nname = \"s{s}\"\nrouter = \"h{s}\"\n"));
            }
            for (i, (site, role)) in hosts.iter().enumerate() {
                t.push_str(&format!(
                    "[[hosts]]\nname = \"{}\"\nsite = \"s{site}\"\nrole = \"{role}\"\n",
                    name(i)
                ));
            }
            for (a, b, d) in &links {
                t.push_str(&format!(
                    "[[links]]\na = \"{}\"\nb = \"{}\"\ndelay = {d}\n",
                    name(*a),
                    name(*b)
                ));
            }
            t
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_scenarios_never_panic_and_errors_name_file_and_line(text in random_scenario()) {
        match load::load_str(&text, ORIGIN) {
            Ok(s) => {
                // A scenario that loads must also assemble and run without a panic.
                let mut s = s;
                s.workload.replicas = 2;
                s.workload.timeout = models::units::Dur::secs(600);
                let _ = models::cluster::run(&s, 1, false);
            }
            Err(e) => {
                let shown = e.to_string();
                prop_assert!(shown.contains(ORIGIN), "{}", shown);
                prop_assert!(shown.contains("line "), "{}", shown);
            }
        }
    }
}
