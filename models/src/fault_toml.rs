//! How a `[[faults]]` entry is read: as one flat record, so that an error inside it names its
//! field (`faults[0].at`), then checked against its `kind` (which fields it needs, which do not
//! apply). An internally tagged enum would lose the field path and say "missing field" for a
//! value that is present but malformed.

use serde::Deserialize;

use crate::spec::Fault;
use crate::units::Dur;

/// The kinds of fault, as written in `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Kind {
    Crash,
    CrashEtcdLeader,
    Partition,
    Degrade,
    IsolateSite,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Crash => "crash",
            Kind::CrashEtcdLeader => "crash-etcd-leader",
            Kind::Partition => "partition",
            Kind::Degrade => "degrade",
            Kind::IsolateSite => "isolate-site",
        }
    }

    /// The fields of this kind besides `kind`, `at` and `repair`.
    fn fields(self) -> &'static [&'static str] {
        match self {
            Kind::Crash => &["host"],
            Kind::CrashEtcdLeader => &[],
            Kind::Partition => &["a", "b"],
            Kind::Degrade => &["a", "b", "delay", "jitter", "loss_pct"],
            Kind::IsolateSite => &["site"],
        }
    }
}

/// Every field any kind of fault has; which apply depends on `kind`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FaultRecord {
    kind: Kind,
    // Optional here so that a missing `at` gets this module's message, not the duration
    // parser's.
    at: Option<Dur>,
    #[serde(default)]
    repair: Option<Dur>,
    host: Option<String>,
    a: Option<String>,
    b: Option<String>,
    site: Option<String>,
    delay: Option<Dur>,
    jitter: Option<Dur>,
    loss_pct: Option<f64>,
}

impl TryFrom<FaultRecord> for Fault {
    type Error = String;

    fn try_from(r: FaultRecord) -> Result<Fault, String> {
        let kind = r.kind;
        let given = [
            ("host", r.host.is_some()),
            ("a", r.a.is_some()),
            ("b", r.b.is_some()),
            ("site", r.site.is_some()),
            ("delay", r.delay.is_some()),
            ("jitter", r.jitter.is_some()),
            ("loss_pct", r.loss_pct.is_some()),
        ];
        let expected = || {
            let mut all: Vec<&str> = kind.fields().to_vec();
            all.extend(["at", "repair"]);
            all.join(", ")
        };
        if let Some((field, _)) = given.iter().find(|(f, set)| *set && !kind.fields().contains(f)) {
            return Err(format!(
                "`{field}` does not apply to a fault of kind `{}`; its fields are kind, {}",
                kind.name(),
                expected()
            ));
        }
        let need = |v: Option<String>, field: &str| {
            v.ok_or_else(|| {
                format!(
                    "a fault of kind `{}` needs `{field}`; its fields are kind, {}",
                    kind.name(),
                    expected()
                )
            })
        };
        let at = r.at.ok_or_else(|| {
            format!(
                "a fault of kind `{}` needs `at`, when it happens (a duration from the `kubectl create`, such as \"10s\"); its fields are kind, {}",
                kind.name(),
                expected()
            )
        })?;
        let repair = r.repair;
        Ok(match kind {
            Kind::Crash => Fault::Crash {
                host: need(r.host, "host")?,
                at,
                repair,
            },
            Kind::CrashEtcdLeader => Fault::CrashEtcdLeader { at, repair },
            Kind::Partition => Fault::Partition {
                a: need(r.a, "a")?,
                b: need(r.b, "b")?,
                at,
                repair,
            },
            Kind::Degrade => Fault::Degrade {
                a: need(r.a, "a")?,
                b: need(r.b, "b")?,
                delay: r.delay.unwrap_or_default(),
                jitter: r.jitter.unwrap_or_default(),
                loss_pct: r.loss_pct.unwrap_or_default(),
                at,
                repair,
            },
            Kind::IsolateSite => Fault::IsolateSite {
                site: need(r.site, "site")?,
                at,
                repair,
            },
        })
    }
}
