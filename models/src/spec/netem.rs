//! The delay, jitter and loss that `tc netem` adds, and on which tunnel directions.

use serde::{Deserialize, Serialize};

use crate::units::Dur;

/// Where `tc netem` adds delay between the control-plane site and the worker sites.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum NetemPlacement {
    /// On traffic leaving the control-plane site toward workers (one `tc` on the masters'
    /// side).
    MastersEgress,
    /// On traffic leaving the worker sites toward the control plane.
    WorkersEgress,
    /// Both directions, as a longer link would add it. The default; `docs/model.md` argues why.
    #[default]
    Both,
}

impl NetemPlacement {
    /// The name scenario files use.
    pub fn as_str(self) -> &'static str {
        match self {
            NetemPlacement::MastersEgress => "masters-egress",
            NetemPlacement::WorkersEgress => "workers-egress",
            NetemPlacement::Both => "both",
        }
    }
}

/// `tc qdisc ... netem delay D J distribution normal loss L%` between masters and workers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Netem {
    /// Added one-way delay.
    pub delay: Dur,
    /// Jitter (standard deviation of a normal distribution, as `distribution normal`).
    pub jitter: Dur,
    /// Loss in percent.
    pub loss_pct: f64,
    /// Which direction(s).
    pub placement: NetemPlacement,
    /// The near side: the site whose tunnels carry the rule (`masters-egress` is traffic leaving
    /// it). The control-plane site if absent.
    pub near: Option<String>,
    /// The far sides: only tunnels between `near` and these sites; every other site if empty.
    /// Written `far = []` when empty, as generated scenarios always have: a resolved scenario's
    /// serialized form is part of a sweep's digest, which must not change under sweeps already
    /// on disk.
    pub far: Vec<String>,
}

impl Netem {
    /// Reads the arguments of `tc qdisc ... netem` that kubetwin models:
    /// `delay TIME [JITTER [CORRELATION]] [distribution normal] [loss PERCENT%]`.
    ///
    /// # Errors
    ///
    /// A message naming the word that is not understood.
    pub fn parse_tc(&mut self, args: &str) -> Result<(), String> {
        let words: Vec<&str> = args.split_whitespace().collect();
        for (k, w) in words.iter().enumerate() {
            if matches!(*w, "delay" | "distribution" | "loss") && words[..k].contains(w) {
                return Err(format!("netem `{args}`: `{w}` is given twice; give it once"));
            }
        }
        // As tc, the distribution shapes the delay's jitter: without a delay it would shape nothing.
        if words.contains(&"distribution") && !words.contains(&"delay") {
            return Err(format!(
                "netem `{args}`: `distribution` shapes the jitter of a delay, and no `delay` is given; expected `delay TIME JITTER distribution normal`"
            ));
        }
        let mut i = 0;
        let mut jitter_given = false;
        let dur = |w: &str| w.parse::<Dur>().map_err(|e| format!("netem `{args}`: {e}"));
        while i < words.len() {
            match words[i] {
                "delay" => {
                    let d = words
                        .get(i + 1)
                        .ok_or_else(|| format!("netem `{args}`: `delay` needs a time"))?;
                    self.delay = dur(d)?;
                    i += 2;
                    if let Some(j) = words.get(i).filter(|w| w.starts_with(|c: char| c.is_ascii_digit())) {
                        self.jitter = dur(j)?;
                        jitter_given = !self.jitter.get().is_zero();
                        i += 1;
                        // netem's delay correlation (`delay 100ms 10ms 25%`) is not modelled:
                        // refused rather than dropped without a word.
                        if let Some(c) = words.get(i).filter(|w| w.ends_with('%')) {
                            return Err(format!(
                                "netem `{args}`: the delay correlation `{c}` is not modelled (jitter is drawn independently for each message); give the delay and the jitter only"
                            ));
                        }
                    }
                }
                "distribution" => match words.get(i + 1) {
                    Some(&"normal") => i += 2,
                    other => {
                        return Err(format!(
                            "netem `{args}`: only `distribution normal` is modelled, got {}",
                            other.map_or("nothing".to_owned(), |w| format!("`{w}`"))
                        ))
                    }
                },
                "loss" => {
                    let w = words
                        .get(i + 1)
                        .ok_or_else(|| format!("netem `{args}`: `loss` needs a percentage"))?;
                    // One `%` at most: `5%%%` is a typo, not 5 %.
                    let v: f64 = w
                        .strip_suffix('%')
                        .unwrap_or(w)
                        .parse()
                        .map_err(|_| format!("netem `{args}`: expected a loss like `0.1%`, got `{w}`"))?;
                    if !(0.0..100.0).contains(&v) {
                        return Err(format!(
                            "netem `{args}`: loss must be at least 0 and below 100 % (100 % is a partition: use a fault), got {v}"
                        ));
                    }
                    self.loss_pct = v;
                    i += 2;
                }
                w => {
                    return Err(format!(
                        "netem `{args}`: `{w}` is not understood; expected delay, distribution normal or loss"
                    ))
                }
            }
        }
        // tc refuses it too ("distribution specified but no latency and jitter values",
        // iproute2 q_netem.c): a distribution with no jitter to shape.
        if words.contains(&"distribution") && !jitter_given {
            return Err(format!(
                "netem `{args}`: `distribution` shapes the delay's jitter, and no jitter is given; expected `delay TIME JITTER distribution normal`"
            ));
        }
        Ok(())
    }
}

impl Default for Netem {
    fn default() -> Self {
        Netem {
            delay: Dur::default(),
            jitter: Dur::default(),
            loss_pct: 0.0,
            placement: NetemPlacement::Both,
            near: None,
            far: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tc_netem_arguments_parse() {
        let mut n = Netem::default();
        n.parse_tc("delay 100ms 10ms distribution normal loss 0.1%").unwrap();
        assert_eq!(
            (n.delay, n.jitter, n.loss_pct),
            (Dur::millis(100), Dur::millis(10), 0.1)
        );
        let mut n = Netem::default();
        n.parse_tc("delay 300ms 20ms loss 1%").unwrap();
        assert_eq!(
            (n.delay, n.jitter, n.loss_pct),
            (Dur::millis(300), Dur::millis(20), 1.0)
        );
        // What the model does not have is refused, not dropped: a delay correlation, a keyword
        // given twice (tc would keep one of them), 100 % loss (a partition).
        let mut n = Netem::default();
        assert!(n
            .parse_tc("delay 300ms 20ms 25%")
            .unwrap_err()
            .contains("correlation `25%` is not modelled"));
        assert!(n
            .parse_tc("delay 100ms delay 200ms")
            .unwrap_err()
            .contains("`delay` is given twice"));
        assert!(n.parse_tc("loss 100%").unwrap_err().contains("partition"));
        assert!(n.parse_tc("delay 100").unwrap_err().contains("needs a unit"));
        assert!(n
            .parse_tc("delay 1ms distribution pareto")
            .unwrap_err()
            .contains("distribution normal"));
        assert!(n.parse_tc("rate 1mbit").unwrap_err().contains("`rate`"));
        assert!(n.parse_tc("loss 120%").unwrap_err().contains("below 100 %"));
        // A loss with its `%` doubled, a distribution without a delay to shape.
        assert!(n
            .parse_tc("loss 5%%%")
            .unwrap_err()
            .contains("expected a loss like `0.1%`, got `5%%%`"));
        assert!(n
            .parse_tc("distribution normal")
            .unwrap_err()
            .contains("no `delay` is given"));
        assert!(n
            .parse_tc("delay 100ms distribution normal")
            .unwrap_err()
            .contains("no jitter is given"));
        assert!(n
            .parse_tc("delay 100ms 0ms distribution normal")
            .unwrap_err()
            .contains("no jitter is given"));
    }
}
