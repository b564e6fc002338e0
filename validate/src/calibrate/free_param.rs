//! The parameters calibration may fit: the model's "calibrated" defaults, each with its range
//! and the unconstrained coordinate (a logistic squashing on a log scale) the optimizer moves.

use models::spec::Scenario;
use models::units::{Bandwidth, Dur};
use sim_core::SimDuration;

use super::CalibrateError;

/// A parameter calibration may fit, with its range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FreeParam {
    /// Dotted path in the scenario (and in the parameter file).
    pub path: &'static str,
    /// Unit shown to users.
    pub unit: &'static str,
    /// Lower end of the plausible range.
    pub lo: f64,
    /// Upper end.
    pub hi: f64,
}

/// Every parameter the model marks "calibrated", with its search range. A range is where a
/// physical value can lie, not a prior: the optimizer moves in a logistic coordinate over it,
/// so a fit that ends near an end says the data push against what is physical.
pub const CALIBRATABLE: &[FreeParam] = &[
    // 5 ms: a registry or mirror on the campus network. 300 ms: the round trip of the path
    // inflation rule (`docs/sources.md` §11, 2 x 2.1 x great circle / 2e8 m/s) at 14,300 km,
    // farther than Tokyo to Docker Hub's US-East front end (10,900 km, 229 ms). The thesis fit,
    // 269 ms, is interior: at 31 Mbit/s the corners' RMS error is 7.5 % at 240 ms, 3.9 % at
    // 269 ms, 6.7 % at 290 ms and 13 % at 320 ms (`validate --params`, 30 replications).
    FreeParam {
        path: "runtime.registry_rtt",
        unit: "ms",
        lo: 5.0,
        hi: 300.0,
    },
    // 1 Mbit/s: a congested shared uplink; 1000 Mbit/s: a gigabit campus link to one node.
    FreeParam {
        path: "runtime.download_bandwidth",
        unit: "Mbit/s",
        lo: 1.0,
        hi: 1000.0,
    },
    // 0.2 s: a bare pause container on an idle host; 5 s: about the 4.8 s `run_podsandbox`
    // under a density test's load (kubernetes issue #66672).
    FreeParam {
        path: "runtime.sandbox_time",
        unit: "s",
        lo: 0.2,
        hi: 5.0,
    },
    // 0.2 s: below the 0.36 s `create_container` p50 of kubernetes issue #22585 alone; 5 s: a
    // container start on an overloaded host.
    FreeParam {
        path: "runtime.container_start_time",
        unit: "s",
        lo: 0.2,
        hi: 5.0,
    },
    // 0.5 ms: a cached GET; 50 ms: beyond the 6-20 ms writes of kubemark's density runs
    // (kubernetes issues #24532, #25827, #52949), etcd included.
    FreeParam {
        path: "kubernetes.apiserver.service_time",
        unit: "ms",
        lo: 0.5,
        hi: 50.0,
    },
];

/// The parameters fitted unless the caller names others.
pub const DEFAULT_FREE: &[&str] = &["runtime.registry_rtt", "runtime.download_bandwidth"];

impl FreeParam {
    /// Looks up a calibratable parameter by path.
    ///
    /// # Errors
    ///
    /// [`CalibrateError::UnknownParam`].
    pub fn by_path(path: &str) -> Result<FreeParam, CalibrateError> {
        CALIBRATABLE.iter().copied().find(|p| p.path == path).ok_or_else(|| {
            CalibrateError::UnknownParam(
                path.to_owned(),
                CALIBRATABLE.iter().map(|p| p.path).collect::<Vec<_>>().join(", "),
            )
        })
    }

    /// The parameter's value in `s`, in its unit.
    pub fn get(&self, s: &Scenario) -> f64 {
        match self.path {
            "runtime.registry_rtt" => s.runtime.registry_rtt.get().as_millis_f64(),
            "runtime.download_bandwidth" => s.runtime.download_bandwidth.bits_per_s / 1e6,
            "runtime.sandbox_time" => s.runtime.sandbox_time.secs_f64(),
            "runtime.container_start_time" => s.runtime.container_start_time.secs_f64(),
            "kubernetes.apiserver.service_time" => s.kubernetes.apiserver.service_time.get().as_millis_f64(),
            _ => f64::NAN,
        }
    }

    /// Sets the parameter in `s` to `v` (in its unit).
    pub fn set(&self, s: &mut Scenario, v: f64) {
        let ms = |v: f64| Dur(SimDuration::from_secs_f64(v / 1e3));
        let secs = |v: f64| Dur(SimDuration::from_secs_f64(v));
        match self.path {
            "runtime.registry_rtt" => s.runtime.registry_rtt = ms(v),
            "runtime.download_bandwidth" => s.runtime.download_bandwidth = Bandwidth::mbit(v),
            "runtime.sandbox_time" => s.runtime.sandbox_time = secs(v),
            "runtime.container_start_time" => s.runtime.container_start_time = secs(v),
            "kubernetes.apiserver.service_time" => s.kubernetes.apiserver.service_time = ms(v),
            _ => {}
        }
    }

    /// The value as a parameter file writes it.
    pub fn toml_value(&self, v: f64) -> String {
        match self.unit {
            "ms" => format!("\"{}us\"", (v * 1e3).round()),
            "s" => format!("\"{}ms\"", (v * 1e3).round()),
            "Mbit/s" => format!("\"{:.3}Mbit\"", v),
            _ => format!("{v}"),
        }
    }

    pub(super) fn value_at(&self, z: f64) -> f64 {
        let u = 1.0 / (1.0 + (-z).exp());
        self.lo * (self.hi / self.lo).powf(u)
    }

    pub(super) fn coordinate_of(&self, v: f64) -> f64 {
        let u = ((v.clamp(self.lo, self.hi)).ln() - self.lo.ln()) / (self.hi.ln() - self.lo.ln());
        let u = u.clamp(1e-6, 1.0 - 1e-6);
        (u / (1.0 - u)).ln()
    }
}
