//! When iterations are meant to start, in k6's vocabulary: a constant arrival rate, or stages
//! ramping linearly from one rate to the next (open model: arrivals do not wait for answers).

use std::time::Duration;

/// How iterations arrive.
#[derive(Clone, Debug, PartialEq)]
pub enum Arrivals {
    /// `constant-arrival-rate`: `rate` iterations a second for `duration`.
    Constant { rate: f64, duration: Duration },
    /// `ramping-arrival-rate`: from `start_rate`, each stage ramps linearly to its target rate
    /// over its duration.
    Ramping {
        start_rate: f64,
        stages: Vec<(Duration, f64)>,
    },
    /// `constant-vus`, the closed model: `vus` users each start their next iteration when the
    /// last one ends, for `duration` (throughput; latency is then not corrected).
    ConstantVus { vus: usize, duration: Duration },
}

impl Arrivals {
    /// How long arrivals last.
    pub fn duration(&self) -> Duration {
        match self {
            Arrivals::Constant { duration, .. } => *duration,
            Arrivals::Ramping { stages, .. } => stages.iter().map(|(d, _)| *d).sum(),
            Arrivals::ConstantVus { duration, .. } => *duration,
        }
    }

    /// The same arrivals at `factor` times the rate (a shard's share).
    pub fn scaled(&self, factor: f64) -> Arrivals {
        match self {
            Arrivals::Constant { rate, duration } => Arrivals::Constant {
                rate: rate * factor,
                duration: *duration,
            },
            Arrivals::Ramping { start_rate, stages } => Arrivals::Ramping {
                start_rate: start_rate * factor,
                stages: stages.iter().map(|(d, r)| (*d, r * factor)).collect(),
            },
            Arrivals::ConstantVus { vus, duration } => Arrivals::ConstantVus {
                vus: ((*vus as f64) * factor).ceil().max(1.0) as usize,
                duration: *duration,
            },
        }
    }

    /// The intended start of every iteration, from the run's start, at most `max` of them.
    pub fn offsets(&self, max: usize) -> Vec<Duration> {
        match self {
            Arrivals::Constant { rate, duration } => {
                if *rate <= 0.0 {
                    return Vec::new();
                }
                let n = ((duration.as_secs_f64() * rate).floor() as usize).min(max);
                (0..n)
                    .map(|i| Duration::from_secs_f64(i as f64 / rate))
                    .collect()
            }
            Arrivals::Ramping { start_rate, stages } => ramping(*start_rate, stages, max),
            // Closed: iterations start when others end, not on a schedule.
            Arrivals::ConstantVus { .. } => Vec::new(),
        }
    }
}

/// Arrivals under a piecewise-linear rate: the k-th iteration (from 0) starts when the
/// integral of the rate reaches k.
fn ramping(start_rate: f64, stages: &[(Duration, f64)], max: usize) -> Vec<Duration> {
    let mut out = Vec::new();
    let (mut t0, mut r0, mut done) = (0.0f64, start_rate.max(0.0), 0.0f64);
    for (d, r1) in stages {
        let (len, r1) = (d.as_secs_f64(), r1.max(0.0));
        let slope = if len > 0.0 { (r1 - r0) / len } else { 0.0 };
        let area = (r0 + r1) / 2.0 * len;
        loop {
            let need = out.len() as f64 - done;
            if need >= area || out.len() >= max {
                break;
            }
            // r0 t + slope t² / 2 = need.
            let t = if slope.abs() < 1e-12 {
                need / r0
            } else {
                (-r0 + (r0 * r0 + 2.0 * slope * need).max(0.0).sqrt()) / slope
            };
            out.push(Duration::from_secs_f64(t0 + t.clamp(0.0, len)));
        }
        done += area;
        t0 += len;
        r0 = r1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_constant_rate_spaces_arrivals_evenly() {
        let a = Arrivals::Constant {
            rate: 50.0,
            duration: Duration::from_secs(2),
        };
        let o = a.offsets(usize::MAX);
        assert_eq!(o.len(), 100);
        assert_eq!(o[1], Duration::from_millis(20));
        assert_eq!(a.offsets(10).len(), 10, "bounded in count");
        assert_eq!(a.scaled(0.5).offsets(usize::MAX).len(), 50, "half the rate");
    }

    #[test]
    fn a_ramp_arrives_as_often_as_its_rate_integrates() {
        // 0 → 100/s over 10 s: 500 iterations, denser at the end.
        let a = Arrivals::Ramping {
            start_rate: 0.0,
            stages: vec![(Duration::from_secs(10), 100.0)],
        };
        let o = a.offsets(usize::MAX);
        assert!((495..=501).contains(&o.len()), "{}", o.len());
        let first_half = o.iter().filter(|t| t.as_secs_f64() < 5.0).count();
        assert!((120..=130).contains(&first_half), "{first_half}");
        assert!(o.windows(2).all(|w| w[0] <= w[1]));
        // Then a plateau at 100/s for 2 s: 200 more.
        let b = Arrivals::Ramping {
            start_rate: 0.0,
            stages: vec![
                (Duration::from_secs(10), 100.0),
                (Duration::from_secs(2), 100.0),
            ],
        };
        let n = b.offsets(usize::MAX).len();
        assert!((695..=701).contains(&n), "{n}");
        assert_eq!(b.duration(), Duration::from_secs(12));
    }
}
