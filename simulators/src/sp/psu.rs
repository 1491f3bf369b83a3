//! The CNAF's national scale for nursery fees (barème PSU, circulaire Cnaf 2019-005): the hourly
//! fee is the family's monthly resources, held between a floor and a ceiling, times an effort
//! rate that depends on the number of children in charge, one rate lower for each child
//! receiving the AEEH. The monthly bill spreads the contracted hours of the year over twelve
//! months. Floors and ceilings change over time, so they are dated configuration
//! (`[sp-creche.psu]` in `scenarios/service_providers.toml`).
//!
//! Amounts are integer cents; rates are in millionths (0.0619 % is 619), so the arithmetic is
//! exact until the one rounding each step makes.
//!
//! ```
//! use simulators::sp::psu::{Bareme, Family};
//! use chrono::NaiveDate;
//! let bareme = Bareme::default();
//! // The CNAF's EAJE case: 40,923 € a year, 2 children of whom 1 receives the AEEH.
//! let family = Family { annual_resources_cents: 4_092_300, children: 2, aeeh_children: 1 };
//! let fee = bareme.compute(&family, 2070, NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()).unwrap();
//! assert_eq!(fee.hourly_cents, 141); // 3,410.25 € × 0.0413 % (the rate of 3 children)
//! assert_eq!(fee.monthly_bill_cents, 24_323); // 1.41 € × 2,070 h / 12
//! ```

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A value that applies from a date on (until the next one).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dated {
    /// The first day the value applies.
    pub from: NaiveDate,
    /// Euros per month.
    pub monthly: f64,
}

/// How the hourly fee is rounded to the cent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// To the nearest cent, half up (the CNAF's simulator and most managers).
    #[default]
    Nearest,
    /// Down to the cent (some towns' published grids, e.g. Vincennes's example).
    Down,
}

/// The scale: effort rates, dated floors and ceilings, rounding.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bareme {
    /// Hourly effort rate in percent for 1, 2, 3… children in charge; the last one applies to
    /// every larger family (accueil collectif: 0.0619, 0.0516, 0.0413, 0.0310 ×4, 0.0206).
    pub taux_effort: Vec<f64>,
    /// Monthly ceiling of resources (plafond), by date.
    pub plafonds: Vec<Dated>,
    /// Monthly floor of resources (plancher), by date.
    pub planchers: Vec<Dated>,
    /// How the hourly fee is rounded to the cent (nearest by default).
    #[serde(default)]
    pub rounding: Rounding,
}

impl Default for Bareme {
    /// The national scale for accueil collectif as `../shared/reference/hubs.md` §6 sources it.
    fn default() -> Self {
        let d = |y, m, day, monthly| Dated {
            from: NaiveDate::from_ymd_opt(y, m, day).expect("valid date"),
            monthly,
        };
        Bareme {
            taux_effort: vec![
                0.0619, 0.0516, 0.0413, 0.0310, 0.0310, 0.0310, 0.0310, 0.0206,
            ],
            plafonds: vec![
                d(2019, 9, 1, 5300.0),
                d(2020, 1, 1, 5600.0),
                d(2021, 1, 1, 6000.0),
                d(2024, 9, 1, 7000.0),
                d(2025, 9, 1, 8500.0),
            ],
            planchers: vec![
                d(2019, 1, 1, 705.27),
                d(2020, 1, 1, 712.33),
                d(2023, 1, 1, 754.16),
            ],
            rounding: Rounding::Nearest,
        }
    }
}

/// What the scale needs to know of a family.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Family {
    /// Resources of the reference year (N-2), in cents.
    pub annual_resources_cents: i64,
    /// Children in charge.
    pub children: u32,
    /// Of them, children receiving the AEEH (allocation d'éducation de l'enfant handicapé).
    pub aeeh_children: u32,
}

/// Which bound applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    /// Resources between floor and ceiling: they apply as they are.
    None,
    /// Resources below the floor: the floor applies.
    Plancher,
    /// Resources above the ceiling: the ceiling applies.
    Plafond,
}

/// A computed fee, with every figure that explains it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Fee {
    /// Annual resources / 12, in cents.
    pub monthly_resources_cents: i64,
    /// The monthly floor that applied, in cents.
    pub plancher_cents: i64,
    /// The monthly ceiling that applied, in cents.
    pub plafond_cents: i64,
    /// Which bound, if any, replaced the resources.
    pub bound: Bound,
    /// The resources the rate applies to, in cents.
    pub retained_resources_cents: i64,
    /// Children in charge.
    pub children: u32,
    /// Of them, children entitled to AEEH.
    pub aeeh_children: u32,
    /// The rate's row: children in charge plus one per AEEH child.
    pub rate_row: u32,
    /// The effort rate in millionths (619 for 0.0619 %).
    pub taux_effort_millionths: i64,
    /// The hourly fee (participation familiale), in cents.
    pub hourly_cents: i64,
    /// Hours a year in the contract.
    pub annual_hours: u32,
    /// The monthly bill (hourly fee × annual hours / 12), in cents.
    pub monthly_bill_cents: i64,
    /// The date the scale was read at.
    pub date: NaiveDate,
}

impl Fee {
    /// The effort rate as people write it ("0.0516 %").
    pub fn taux_effort_percent(&self) -> String {
        format!("{:.4} %", self.taux_effort_millionths as f64 / 10_000.0)
    }
}

fn cents(euros: f64) -> i64 {
    (euros * 100.0).round() as i64
}

/// `n / d` rounded half up, for non-negative `n` and positive `d`.
fn div_round(n: i64, d: i64) -> i64 {
    (n + d / 2) / d
}

impl Bareme {
    /// Checks the configuration: at least one rate, increasing dates, positive amounts.
    pub fn check(&self) -> Result<(), String> {
        if self.taux_effort.is_empty() {
            return Err("psu.taux_effort needs at least one rate".into());
        }
        if self
            .taux_effort
            .iter()
            .any(|t| !t.is_finite() || *t <= 0.0 || *t >= 1.0)
        {
            return Err("psu.taux_effort rates are percentages between 0 and 1 (0.0619)".into());
        }
        for (name, list) in [("plafonds", &self.plafonds), ("planchers", &self.planchers)] {
            if list.is_empty() {
                return Err(format!("psu.{name} needs at least one dated amount"));
            }
            if list.windows(2).any(|w| w[0].from >= w[1].from) {
                return Err(format!("psu.{name} must be in increasing date order"));
            }
            if list
                .iter()
                .any(|d| !d.monthly.is_finite() || d.monthly <= 0.0)
            {
                return Err(format!("psu.{name} amounts must be positive"));
            }
        }
        Ok(())
    }

    fn at(list: &[Dated], date: NaiveDate) -> Option<i64> {
        list.iter()
            .rev()
            .find(|d| d.from <= date)
            .map(|d| cents(d.monthly))
    }

    /// The fee of `family` for `annual_hours` contracted hours, with the scale in force at
    /// `date`; none when the scale has no floor or ceiling that early.
    pub fn compute(&self, family: &Family, annual_hours: u32, date: NaiveDate) -> Option<Fee> {
        let plancher = Self::at(&self.planchers, date)?;
        let plafond = Self::at(&self.plafonds, date)?;
        let monthly = div_round(family.annual_resources_cents.max(0), 12);
        let (bound, retained) = if monthly < plancher {
            (Bound::Plancher, plancher)
        } else if monthly > plafond {
            (Bound::Plafond, plafond)
        } else {
            (Bound::None, monthly)
        };
        // Each AEEH child moves the family one row down the table (the rate of one more child).
        let row = family.children.max(1) + family.aeeh_children;
        let index = (row as usize - 1).min(self.taux_effort.len() - 1);
        let rate = (self.taux_effort[index] * 10_000.0).round() as i64;
        let product = retained * rate;
        let hourly = match self.rounding {
            Rounding::Nearest => div_round(product, 1_000_000),
            Rounding::Down => product / 1_000_000,
        };
        Some(Fee {
            monthly_resources_cents: monthly,
            plancher_cents: plancher,
            plafond_cents: plafond,
            bound,
            retained_resources_cents: retained,
            children: family.children,
            aeeh_children: family.aeeh_children,
            rate_row: row,
            taux_effort_millionths: rate,
            hourly_cents: hourly,
            annual_hours,
            monthly_bill_cents: div_round(hourly * i64::from(annual_hours), 12),
            date,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn family(annual_euros: i64, children: u32, aeeh: u32) -> Family {
        Family {
            annual_resources_cents: annual_euros * 100,
            children,
            aeeh_children: aeeh,
        }
    }

    #[test]
    fn the_worked_examples_of_the_reference_come_out_to_the_cent() {
        let b = Bareme::default();
        let today = day(2026, 11, 23);
        // Vincennes's page: 1 child, 3,600 €/month, 2,070 h/yr → 2.22 €/h (rounded down there)
        // and 382.95 €/month.
        let down = Bareme {
            rounding: Rounding::Down,
            ..Bareme::default()
        };
        let v = down.compute(&family(43_200, 1, 0), 2070, today).unwrap();
        assert_eq!((v.hourly_cents, v.monthly_bill_cents), (222, 38_295));
        // Rounded to the nearest cent, the same family pays 2.23 €/h.
        assert_eq!(
            b.compute(&family(43_200, 1, 0), 2070, today)
                .unwrap()
                .hourly_cents,
            223
        );
        // The CNAF's EAJE case with 1 child: 3,410.25 €/month; with AEEH the rate of 2 children
        // (1.76 €/h), without it 2.11 €/h.
        let e = b.compute(&family(40_923, 1, 1), 2070, today).unwrap();
        assert_eq!(e.monthly_resources_cents, 341_025);
        assert_eq!((e.rate_row, e.hourly_cents), (2, 176));
        assert_eq!(
            b.compute(&family(40_923, 1, 0), 2070, today)
                .unwrap()
                .hourly_cents,
            211
        );
        // The bounds: 8,500 € ceiling → 5.26 €/h for 1 child; 754.16 € floor → 0.47 €/h.
        let high = b.compute(&family(200_000, 1, 0), 2070, today).unwrap();
        assert_eq!((high.bound, high.hourly_cents), (Bound::Plafond, 526));
        let low = b.compute(&family(0, 1, 0), 2070, today).unwrap();
        assert_eq!((low.bound, low.hourly_cents), (Bound::Plancher, 47));
    }

    #[test]
    fn the_ceiling_is_the_one_in_force_that_day() {
        let b = Bareme::default();
        let f = family(120_000, 2, 0);
        let at = |d| b.compute(&f, 1000, d).unwrap().plafond_cents;
        assert_eq!(at(day(2024, 8, 31)), 600_000);
        assert_eq!(at(day(2024, 9, 1)), 700_000);
        assert_eq!(at(day(2025, 9, 1)), 850_000);
        assert!(b.compute(&f, 1000, day(2018, 1, 1)).is_none());
    }

    #[test]
    fn large_families_use_the_last_rows() {
        let b = Bareme::default();
        let rate = |children, aeeh| {
            b.compute(&family(40_000, children, aeeh), 100, day(2026, 1, 1))
                .unwrap()
                .taux_effort_millionths
        };
        assert_eq!(rate(3, 0), 413);
        assert_eq!(rate(4, 0), 310);
        assert_eq!(rate(7, 0), 310);
        assert_eq!(rate(8, 0), 206);
        assert_eq!(rate(12, 0), 206);
        assert_eq!(rate(7, 1), 206);
    }

    #[test]
    fn bad_scales_are_refused_with_a_reason() {
        let mut b = Bareme::default();
        b.plafonds.reverse();
        assert!(b.check().unwrap_err().contains("increasing"));
        let b = Bareme {
            taux_effort: vec![6.19],
            ..Bareme::default()
        };
        assert!(b.check().unwrap_err().contains("between 0 and 1"));
        assert!(Bareme::default().check().is_ok());
    }

    proptest! {
        /// More resources never lower the fee; an AEEH child never raises it; the fee stays
        /// between the floor's and the ceiling's.
        #[test]
        fn the_fee_is_monotonic_and_bounded(
            r in 0i64..30_000_000, extra in 0i64..1_000_000, children in 1u32..10, hours in 1u32..3000,
        ) {
            let b = Bareme::default();
            let d = day(2026, 6, 1);
            let f = |r, aeeh| b.compute(&Family { annual_resources_cents: r, children, aeeh_children: aeeh }, hours, d).unwrap();
            prop_assert!(f(r + extra, 0).hourly_cents >= f(r, 0).hourly_cents);
            prop_assert!(f(r, 1).hourly_cents <= f(r, 0).hourly_cents);
            let fee = f(r, 0);
            prop_assert!(fee.retained_resources_cents >= fee.plancher_cents);
            prop_assert!(fee.retained_resources_cents <= fee.plafond_cents);
        }
    }
}
