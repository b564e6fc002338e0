//! Control-plane placements: `--placements A,B,C;D,E,F`, applied by moving the existing masters
//! (and the load balancer) of a scenario to other sites.
//!
//! A scenario file cannot be re-generated (it need not come from a CSV), so a placement edits the
//! `Scenario` itself: master k moves to the option's k-th site and the load balancer to the first;
//! each moved host's LAN link is removed and a new one, with the same delay, bandwidth and loss,
//! joins it to the new site's router. Everything else (workers, WAN links, tunnels, Kubernetes
//! settings) stays as it was, and the result must pass the scenario checks.

use models::spec::{Link, LinkKind, Scenario};
use topologies::generate::{sanitize_name, LAN_BANDWIDTH, LAN_DELAY};

use super::net::masters;

/// One placement: the site of each master, in `haproxy.backends` order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Placement {
    /// The site of each master (scenario site names).
    pub(crate) sites: Vec<String>,
}

impl Placement {
    /// `at a, b, c`, or `all at a`.
    pub(crate) fn label(&self) -> String {
        if self.sites.windows(2).all(|w| w[0] == w[1]) {
            format!("all at {}", self.sites[0])
        } else {
            format!("at {}", self.sites.join(", "))
        }
    }
}

/// The placement a scenario has now.
pub(crate) fn current(s: &Scenario) -> Placement {
    Placement {
        sites: masters(s)
            .iter()
            .map(|m| {
                s.hosts
                    .iter()
                    .find(|h| &h.name == m)
                    .map(|h| h.site.clone())
                    .unwrap_or_default()
            })
            .collect(),
    }
}

/// A site of `s` by its name or by the sanitized form of a CSV name (`Keio University (Tokyo)`).
pub(crate) fn resolve_site(s: &Scenario, raw: &str) -> Option<String> {
    let t = raw.trim();
    let clean = sanitize_name(t);
    s.sites
        .iter()
        .find(|x| x.name == t)
        .or_else(|| s.sites.iter().find(|x| !clean.is_empty() && x.name == clean))
        .map(|x| x.name.clone())
}

fn known_sites(s: &Scenario) -> String {
    let mut names: Vec<&str> = s.sites.iter().take(16).map(|x| x.name.as_str()).collect();
    if s.sites.len() > 16 {
        names.push("...");
    }
    format!("{} ({})", names.join(", "), crate::output::count(s.sites.len(), "site"))
}

/// Parses the `--placements` values: options separated by `;` (the flag may also repeat), each a
/// comma-separated list of one site per master (or one site for all of them).
///
/// # Errors
///
/// A message naming the option and the site that is not in the scenario, or a wrong count.
pub(crate) fn parse(raw: &[String], s: &Scenario) -> Result<Vec<Placement>, String> {
    let n = masters(s).len();
    let mut out: Vec<Placement> = Vec::new();
    if let Some(r) = raw.iter().find(|r| r.split(';').all(|o| o.trim().is_empty())) {
        return Err(format!(
            "--placements `{r}` names no placement; expected `A,B,C` (one site per master) or one site, options separated by `;`"
        ));
    }
    let options = raw
        .iter()
        .flat_map(|r| r.split(';'))
        .map(str::trim)
        .filter(|o| !o.is_empty());
    for (k, opt) in options.enumerate() {
        let names: Vec<&str> = opt.split(',').map(str::trim).collect();
        if names.len() != n && names.len() != 1 {
            return Err(format!(
                "--placements option {} (`{opt}`) names {} sites; expected {n} comma-separated sites, one per master ({}), or one site for all",
                k + 1,
                names.len(),
                masters(s).join(", ")
            ));
        }
        let mut sites = Vec::with_capacity(n);
        for name in &names {
            match resolve_site(s, name) {
                Some(site) => sites.push(site),
                None => {
                    return Err(format!(
                        "--placements option {} (`{opt}`): site `{name}` is not in scenario `{}`; expected one of: {}",
                        k + 1,
                        s.name,
                        known_sites(s)
                    ))
                }
            }
        }
        if sites.len() == 1 {
            sites = vec![sites[0].clone(); n];
        }
        let p = Placement { sites };
        if let Some(j) = out.iter().position(|q| *q == p) {
            return Err(format!(
                "--placements option {} (`{opt}`) puts the masters where option {} already does; name each placement once",
                k + 1,
                j + 1
            ));
        }
        out.push(p);
    }
    Ok(out)
}

/// Moves host `name` to `site`, relinking it to the site's router with its old LAN link's delay,
/// bandwidth and loss.
fn move_host(s: &mut Scenario, name: &str, site: &str) -> Result<(), String> {
    let router = s
        .sites
        .iter()
        .find(|x| x.name == site)
        .map(|x| x.router.clone())
        .ok_or_else(|| format!("site `{site}` is not in the scenario"))?;
    let host = s
        .hosts
        .iter_mut()
        .find(|h| h.name == name)
        .ok_or_else(|| format!("host `{name}` is not in the scenario"))?;
    if host.site == site {
        return Ok(());
    }
    host.site = site.to_owned();
    let is_lan_of = |l: &Link| l.kind == LinkKind::Lan && (l.a == name || l.b == name);
    let old = s.links.iter().find(|l| is_lan_of(l)).cloned();
    s.links.retain(|l| !is_lan_of(l));
    s.links.push(Link {
        a: name.to_owned(),
        b: router,
        delay: old.as_ref().map_or(LAN_DELAY, |l| l.delay),
        bandwidth: old.as_ref().map_or(LAN_BANDWIDTH, |l| l.bandwidth),
        loss_pct: old.as_ref().map_or(0.0, |l| l.loss_pct),
        kind: LinkKind::Lan,
    });
    Ok(())
}

/// `s` with its masters at `p`'s sites and its load balancer at the first of them.
///
/// # Errors
///
/// When the result fails the scenario checks (e.g. a hub-and-spoke VPN that no longer reaches).
pub(crate) fn apply(s: &Scenario, p: &Placement) -> Result<Scenario, String> {
    let mut out = s.clone();
    for (m, site) in masters(s).iter().zip(&p.sites) {
        move_host(&mut out, m, site)?;
    }
    let lb = s.haproxy.host.clone();
    move_host(&mut out, &lb, &p.sites[0])?;
    let errors: Vec<String> = topologies::check::run(&out)
        .into_iter()
        .filter(|f| f.severity() == topologies::Severity::Error)
        .map(|f| format!("[{}] `{}`: {}", f.code, f.field, f.message))
        .collect();
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(format!(
            "placement `{}` makes scenario `{}` invalid: {}",
            p.label(),
            s.name,
            errors.join("; ")
        ))
    }
}
