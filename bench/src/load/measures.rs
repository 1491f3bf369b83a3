//! What a run measured, per scope (a journey, a step, a party, a hub's added latency, one
//! second of the run), in HDR histograms written out exactly, so that shards merge into the
//! figures one process would have measured.

use std::time::Duration;

use hdrhistogram::Histogram;
use serde_json::{Value, json};

/// How many failures a scope keeps for the report.
const KEPT_FAILURES: usize = 5;

/// What one scope measured.
#[derive(Clone, Debug)]
pub struct JourneyMeasures {
    pub name: String,
    /// Latencies after the warm-up, microseconds (for journeys: from each iteration's
    /// intended start).
    pub histogram: Histogram<u64>,
    pub iterations: u64,
    pub errors: u64,
    /// Iterations that started more than 2 ms after their intended time (no free VU).
    pub late: u64,
    /// The first few failures, for the report.
    pub failures: Vec<String>,
}

impl JourneyMeasures {
    /// An empty scope named `name`.
    pub fn new(name: &str) -> JourneyMeasures {
        JourneyMeasures {
            name: name.to_string(),
            histogram: histogram(3),
            iterations: 0,
            errors: 0,
            late: 0,
            failures: Vec::new(),
        }
    }

    /// Records one measure.
    pub fn record(&mut self, took: Duration, failure: Option<String>, late: bool) {
        self.iterations += 1;
        self.late += u64::from(late);
        let _ = self
            .histogram
            .record((took.as_micros() as u64).clamp(1, self.histogram.high()));
        if let Some(why) = failure {
            self.errors += 1;
            if self.failures.len() < KEPT_FAILURES {
                self.failures.push(why);
            }
        }
    }

    /// Adds `other`'s measures to these (histograms added, counts summed).
    pub fn add(&mut self, other: &JourneyMeasures) -> Result<(), String> {
        self.histogram
            .add(&other.histogram)
            .map_err(|e| e.to_string())?;
        self.iterations += other.iterations;
        self.errors += other.errors;
        self.late += other.late;
        for f in &other.failures {
            if self.failures.len() < KEPT_FAILURES {
                self.failures.push(f.clone());
            }
        }
        Ok(())
    }

    /// Failed measures over all of them.
    pub fn error_rate(&self) -> f64 {
        if self.iterations == 0 {
            0.0
        } else {
            self.errors as f64 / self.iterations as f64
        }
    }

    /// The latency at quantile `q` (0–1), milliseconds.
    pub fn ms(&self, q: f64) -> f64 {
        self.histogram.value_at_quantile(q) as f64 / 1000.0
    }

    /// The scope as JSON: counts, p50 … p99.99 and max, and its histogram exactly.
    pub fn json(&self, elapsed_s: f64) -> Value {
        let q = |p: f64| self.ms(p);
        json!({
            "name": self.name, "iterations": self.iterations, "errors": self.errors,
            "late_starts": self.late, "error_rate": self.error_rate(),
            "rate_per_s": self.iterations as f64 / elapsed_s.max(1e-9),
            "latency_ms": {"p50": q(0.5), "p90": q(0.9), "p95": q(0.95), "p99": q(0.99),
                "p99.9": q(0.999), "p99.99": q(0.9999), "max": self.histogram.max() as f64 / 1000.0,
                "mean": self.histogram.mean() / 1000.0},
            "failures": self.failures,
            "histogram_us": encode(&self.histogram),
        })
    }

    /// Reads back what [`JourneyMeasures::json`] wrote.
    pub fn from_json(v: &Value) -> Result<JourneyMeasures, String> {
        let count = |k: &str| {
            v[k].as_u64()
                .ok_or_else(|| format!("no {k:?} in {}", v["name"]))
        };
        let mut m = JourneyMeasures::new(v["name"].as_str().ok_or("a scope without a name")?);
        m.iterations = count("iterations")?;
        m.errors = count("errors")?;
        m.late = count("late_starts")?;
        m.failures = v["failures"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|f| f.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        decode(&v["histogram_us"], &mut m.histogram)?;
        Ok(m)
    }
}

impl super::threshold::Measures for JourneyMeasures {
    fn percentile_us(&self, p: f64) -> u64 {
        self.histogram.value_at_quantile(p / 100.0)
    }
    fn max_us(&self) -> u64 {
        self.histogram.max()
    }
    fn mean_us(&self) -> f64 {
        self.histogram.mean()
    }
    fn error_rate(&self) -> f64 {
        JourneyMeasures::error_rate(self)
    }
}

/// 1 µs to 1 hour at `digits` significant digits.
fn histogram(digits: u8) -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, digits).expect("valid bounds")
}

/// A histogram as `[[value, count], …]` over its recorded buckets: re-recording each value
/// lands in the same bucket, so decoding gives the same histogram back.
fn encode(h: &Histogram<u64>) -> Value {
    Value::Array(
        h.iter_recorded()
            .map(|v| json!([v.value_iterated_to(), v.count_at_value()]))
            .collect(),
    )
}

fn decode(v: &Value, into: &mut Histogram<u64>) -> Result<(), String> {
    for pair in v
        .as_array()
        .ok_or("a histogram is a list of [value, count]")?
    {
        let (Some(value), Some(count)) = (pair[0].as_u64(), pair[1].as_u64()) else {
            return Err(format!("a histogram entry is [value, count], not {pair}"));
        };
        into.record_n(value, count).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The run second by second (by intended start), for the report's plots.
#[derive(Clone, Debug, Default)]
pub struct Timeline {
    pub seconds: Vec<Second>,
}

/// One second of the run.
#[derive(Clone, Debug)]
pub struct Second {
    pub iterations: u64,
    pub errors: u64,
    /// Two significant digits are enough for a plot, and keep an hour's run small.
    pub histogram: Histogram<u64>,
}

impl Timeline {
    /// Records an iteration meant to start at `at` from the run's start.
    pub fn record(&mut self, at: Duration, took: Duration, failed: bool) {
        let s = at.as_secs() as usize;
        while self.seconds.len() <= s {
            self.seconds.push(Second {
                iterations: 0,
                errors: 0,
                histogram: histogram(2),
            });
        }
        let second = &mut self.seconds[s];
        second.iterations += 1;
        second.errors += u64::from(failed);
        let _ = second
            .histogram
            .record((took.as_micros() as u64).clamp(1, second.histogram.high()));
    }

    /// Adds `other` second by second.
    pub fn add(&mut self, other: &Timeline) -> Result<(), String> {
        for (i, s) in other.seconds.iter().enumerate() {
            if i >= self.seconds.len() {
                self.seconds.push(s.clone());
                continue;
            }
            let mine = &mut self.seconds[i];
            mine.iterations += s.iterations;
            mine.errors += s.errors;
            mine.histogram
                .add(&s.histogram)
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// As JSON: per second its counts, p50, p99, max and histogram.
    pub fn json(&self) -> Value {
        Value::Array(
            self.seconds
                .iter()
                .enumerate()
                .map(|(t, s)| {
                    let q = |p: f64| s.histogram.value_at_quantile(p) as f64 / 1000.0;
                    json!({"t": t, "iterations": s.iterations, "errors": s.errors,
                        "p50_ms": q(0.5), "p99_ms": q(0.99), "max_ms": s.histogram.max() as f64 / 1000.0,
                        "histogram_us": encode(&s.histogram)})
                })
                .collect(),
        )
    }

    /// Reads back what [`Timeline::json`] wrote.
    pub fn from_json(v: &Value) -> Result<Timeline, String> {
        let mut t = Timeline::default();
        for s in v.as_array().ok_or("the timeline is a list of seconds")? {
            let mut second = Second {
                iterations: s["iterations"].as_u64().unwrap_or(0),
                errors: s["errors"].as_u64().unwrap_or(0),
                histogram: histogram(2),
            };
            decode(&s["histogram_us"], &mut second.histogram)?;
            t.seconds.push(second);
        }
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scope_reads_back_exactly_and_adds_up() {
        let mut a = JourneyMeasures::new("a");
        for us in [120u64, 950, 4_321, 77_777, 1_200_000] {
            a.record(Duration::from_micros(us), None, false);
        }
        a.record(Duration::from_millis(3), Some("500".into()), true);
        let back = JourneyMeasures::from_json(&a.json(1.0)).unwrap();
        assert_eq!(back.histogram, a.histogram);
        assert_eq!((back.iterations, back.errors, back.late), (6, 1, 1));
        let mut sum = back.clone();
        sum.add(&a).unwrap();
        assert_eq!(sum.iterations, 12);
        assert_eq!(
            sum.histogram.value_at_quantile(0.5),
            a.histogram.value_at_quantile(0.5)
        );
        let mut t = Timeline::default();
        t.record(Duration::from_millis(2500), Duration::from_millis(4), true);
        let mut u = Timeline::from_json(&t.json()).unwrap();
        u.add(&t).unwrap();
        assert_eq!(u.seconds.len(), 3);
        assert_eq!((u.seconds[2].iterations, u.seconds[2].errors), (2, 2));
    }
}
