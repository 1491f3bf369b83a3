//! k6-style thresholds: `p(95) < 300ms`, `p(99.9) <= 1s`, `max < 2s`, `avg < 100ms`,
//! `error_rate < 1%`, checked against a journey's measures.

use std::time::Duration;

/// A measured quantity.
#[derive(Clone, Debug, PartialEq)]
enum Metric {
    Percentile(f64),
    Max,
    Mean,
    ErrorRate,
}

/// A parsed threshold.
#[derive(Clone, Debug, PartialEq)]
pub struct Threshold {
    /// As written in the profile.
    pub text: String,
    metric: Metric,
    strict: bool,
    /// The bound: microseconds for latencies, a fraction for the error rate.
    bound: f64,
}

/// What a threshold is checked against.
pub trait Measures {
    /// The latency at percentile `p` (0–100), microseconds.
    fn percentile_us(&self, p: f64) -> u64;
    /// The largest latency, microseconds.
    fn max_us(&self) -> u64;
    /// The mean latency, microseconds.
    fn mean_us(&self) -> f64;
    /// Failed iterations over all of them.
    fn error_rate(&self) -> f64;
}

impl Threshold {
    /// Parses `metric op bound`.
    pub fn parse(text: &str) -> Result<Threshold, String> {
        let bad = |why: &str| {
            format!("threshold {text:?}: {why} (e.g. \"p(95) < 300ms\", \"error_rate < 1%\")")
        };
        let (left, strict, right) = if let Some((l, r)) = text.split_once("<=") {
            (l, false, r)
        } else if let Some((l, r)) = text.split_once('<') {
            (l, true, r)
        } else {
            return Err(bad("only < and <= bounds are supported"));
        };
        let (left, right) = (left.trim(), right.trim());
        let metric = match left {
            "max" => Metric::Max,
            "avg" | "mean" => Metric::Mean,
            "error_rate" => Metric::ErrorRate,
            p if p.starts_with("p(") && p.ends_with(')') => {
                let v: f64 = p[2..p.len() - 1]
                    .parse()
                    .map_err(|_| bad("p(N) needs a number"))?;
                if !(0.0..=100.0).contains(&v) {
                    return Err(bad("a percentile is between 0 and 100"));
                }
                Metric::Percentile(v)
            }
            _ => return Err(bad("unknown metric")),
        };
        let bound = if metric == Metric::ErrorRate {
            let v = right
                .strip_suffix('%')
                .ok_or_else(|| bad("an error rate is a percentage"))?;
            v.trim().parse::<f64>().map_err(|_| bad("not a number"))? / 100.0
        } else {
            duration_us(right)
                .ok_or_else(|| bad("a latency bound is a duration: 300ms, 1s, 500us"))?
        };
        Ok(Threshold {
            text: text.to_string(),
            metric,
            strict,
            bound,
        })
    }

    /// Whether `m` holds under it, and the measured value as text.
    pub fn check(&self, m: &dyn Measures) -> (bool, String) {
        let (value, shown) = match self.metric {
            Metric::Percentile(p) => {
                let v = m.percentile_us(p) as f64;
                (v, format!("{:.1} ms", v / 1000.0))
            }
            Metric::Max => {
                let v = m.max_us() as f64;
                (v, format!("{:.1} ms", v / 1000.0))
            }
            Metric::Mean => {
                let v = m.mean_us();
                (v, format!("{:.1} ms", v / 1000.0))
            }
            Metric::ErrorRate => {
                let v = m.error_rate();
                (v, format!("{:.2} %", v * 100.0))
            }
        };
        let holds = if self.strict {
            value < self.bound
        } else {
            value <= self.bound
        };
        (holds, shown)
    }
}

/// `300ms`, `1.5s`, `500us` in microseconds.
fn duration_us(text: &str) -> Option<f64> {
    let t = text.trim();
    let (number, unit) = t.split_at(t.find(|c: char| c.is_ascii_alphabetic())?);
    let v: f64 = number.trim().parse().ok()?;
    let factor = match unit {
        "us" | "µs" => 1.0,
        "ms" => 1_000.0,
        "s" => 1_000_000.0,
        _ => return None,
    };
    Some(v * factor)
}

/// A duration as profiles write it (`30s`, `500ms`, `2m`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let minutes = t.strip_suffix('m').and_then(|m| m.parse::<f64>().ok());
    if let Some(v) = minutes {
        return Ok(Duration::from_secs_f64(v * 60.0));
    }
    duration_us(t)
        .map(|us| Duration::from_secs_f64(us / 1_000_000.0))
        .ok_or_else(|| format!("{text:?} is not a duration (30s, 500ms, 2m)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed;
    impl Measures for Fixed {
        fn percentile_us(&self, p: f64) -> u64 {
            (p * 1000.0) as u64
        }
        fn max_us(&self) -> u64 {
            250_000
        }
        fn mean_us(&self) -> f64 {
            40_000.0
        }
        fn error_rate(&self) -> f64 {
            0.005
        }
    }

    #[test]
    fn thresholds_read_as_k6_writes_them() {
        let t = |s: &str| Threshold::parse(s).unwrap().check(&Fixed).0;
        assert!(t("p(95) < 300ms"), "p95 is 95 ms here");
        assert!(!t("p(95) < 90ms"));
        assert!(t("p(99.9) <= 99.9ms"));
        assert!(!t("max < 250ms") && t("max <= 250ms"));
        assert!(t("avg < 0.05s"));
        assert!(t("error_rate < 1%") && !t("error_rate < 0.1%"));
        for bad in [
            "p(95) > 3ms",
            "p(x) < 1ms",
            "rps < 3",
            "error_rate < 1",
            "p(95) < 3 parsecs",
        ] {
            assert!(Threshold::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert!(parse_duration("soon").is_err());
    }
}
