//! Figures derived from a household: income-tax assessment (DGFiP) and quotient familial (CAF/MSA).
//!
//! Simplified but coherent: the progressive scale is real (per income year), the quotient
//! familial cap, the décote and tax credits are left out. Everything is integer arithmetic so the
//! same household gives the same figures on every machine.

use super::model::{FamilySituation, Household};

/// Tax brackets (upper bound of the bracket in euros per part, rate in per mille) of an income year.
fn brackets(income_year: u16) -> [(u64, u64); 5] {
    // Barème of the 2023, 2024 and 2025 tax notices (incomes 2022, 2023, 2024); later years reuse
    // the last known scale.
    let bounds: [u64; 4] = match income_year {
        ..=2022 => [10_777, 27_478, 78_570, 168_994],
        2023 => [11_294, 28_797, 82_341, 177_106],
        _ => [11_497, 29_315, 83_823, 180_294],
    };
    [
        (bounds[0], 0),
        (bounds[1], 110),
        (bounds[2], 300),
        (bounds[3], 410),
        (u64::MAX, 450),
    ]
}

/// Number of tax parts, in half parts (5 = 2.5 parts).
pub fn half_parts(h: &Household) -> u32 {
    let adults = if h.situation.is_couple() { 4 } else { 2 };
    let children = h.children.len() as u32;
    let for_children = children.min(2) + children.saturating_sub(2) * 2;
    // Parent isolé (case T): half a part more for a single parent.
    let single_parent = u32::from(!h.situation.is_couple() && children > 0);
    // A child holding an invalidity card: half a part more (AEEH children here).
    adults + for_children + single_parent + h.aeeh_children.len() as u32
}

/// Number of parts as DGFiP prints it (`2.5`).
pub fn parts(h: &Household) -> f64 {
    f64::from(half_parts(h)) / 2.0
}

/// Income tax in euros for a taxable income and a number of half parts.
pub fn income_tax(taxable: u32, half_parts: u32, income_year: u16) -> u64 {
    let half_parts = u64::from(half_parts.max(1));
    // Income per part, in cents, to stay in integers.
    let per_part = u64::from(taxable) * 200 / half_parts;
    let mut tax_per_part = 0u64; // cents × per mille
    let mut lower = 0u64;
    for (upper, rate) in brackets(income_year) {
        let upper_cents = upper.saturating_mul(100);
        if per_part > lower {
            tax_per_part += (per_part.min(upper_cents) - lower) * rate;
        }
        lower = upper_cents;
    }
    // Back to euros for the household.
    tax_per_part * half_parts / 2 / 1000 / 100
}

/// The income-tax assessment (avis d'imposition) of one income year.
#[derive(Clone, Debug, PartialEq)]
pub struct Assessment {
    /// The income year assessed (the tax is paid the year after).
    pub income_year: u16,
    /// Revenu imposable, euros.
    pub taxable_income: u32,
    /// Revenu brut global, euros.
    pub gross_income: u32,
    /// Revenu fiscal de référence, euros.
    pub reference_income: u32,
    /// Number of parts, in halves (2 parts: 4).
    pub half_parts: u32,
    /// Impôt sur le revenu net, euros.
    pub tax: u64,
    /// Family situation that year.
    pub situation: FamilySituation,
    /// Dependants counted (personnes à charge).
    pub dependants: u32,
}

/// The assessment of `income_year`, if the household filed for it.
pub fn assessment(h: &Household, income_year: u16) -> Option<Assessment> {
    let taxable = h.taxable_income_of(income_year)?;
    let half = half_parts(h);
    Some(Assessment {
        income_year,
        taxable_income: taxable,
        gross_income: taxable
            + (u64::from(taxable) * u64::from(h.deductions_permille) / 1000) as u32,
        reference_income: taxable
            + (u64::from(taxable) * u64::from(h.capital_permille) / 1000) as u32,
        half_parts: half,
        tax: income_tax(taxable, half, income_year),
        situation: h.situation,
        dependants: h.children.len() as u32,
    })
}

/// Family benefits paid in a month, in cents (allocations familiales and AEEH base, 2025 amounts;
/// the income-dependent modulation is left out).
pub fn monthly_benefits_cents(h: &Household) -> u64 {
    let children = h.children.len() as u64;
    let family = match children {
        0 | 1 => 0,
        2 => 15_105,
        n => 34_456 + (n - 3) * 19_351,
    };
    family + h.aeeh_children.len() as u64 * 15_105
}

/// CAF parts: 2 for a couple or a single parent, 1 for a single adult, half a part per child for
/// the first two, a whole one for the third, half a part each after, half a part per disabled child.
pub fn caf_half_parts(h: &Household) -> u32 {
    let children = h.children.len() as u32;
    let adults = if h.situation.is_couple() || children > 0 {
        4
    } else {
        2
    };
    let kids = match children {
        0..=2 => children,
        n => 2 + 2 + (n - 3),
    };
    adults + kids + h.aeeh_children.len() as u32
}

/// Quotient familial of a month of `year`: (revenu imposable of year − 2 / 12 + benefits of the
/// month) / CAF parts, in whole euros. `None` when the resources of year − 2 are unknown.
pub fn quotient_familial(h: &Household, year: u16) -> Option<u32> {
    let resources = u64::from(h.taxable_income_of(year.checked_sub(2)?)?);
    let monthly_cents = resources * 100 / 12 + monthly_benefits_cents(h);
    let qf_cents = monthly_cents * 2 / u64::from(caf_half_parts(h));
    Some((qf_cents / 100) as u32)
}

/// Parameters of the PSU nursery-fee computation (participation familiale EAJE) for `year`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EajeParameters {
    /// Children in charge in the household.
    pub children_in_charge: u32,
    /// Of them, children entitled to AEEH (counted once more).
    pub aeeh_children: u32,
    /// Annual resources of year − 2, in euros.
    pub annual_resources: u32,
    /// The year those resources were computed for (year − 2).
    pub resources_year: u16,
}

/// EAJE parameters for a computation in `year`; `None` if a parameter is missing (no partial answer).
pub fn eaje_parameters(h: &Household, year: u16) -> Option<EajeParameters> {
    let resources_year = year.checked_sub(2)?;
    Some(EajeParameters {
        children_in_charge: h.children.len() as u32,
        aeeh_children: h.aeeh_children.len() as u32,
        annual_resources: h.taxable_income_of(resources_year)?,
        resources_year,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::population::model::{Address, Household};

    fn household(situation: FamilySituation, children: u32, aeeh: u32, income: u32) -> Household {
        Household {
            id: 0,
            declarants: vec![0],
            children: (1..=children).collect(),
            aeeh_children: (1..=aeeh).collect(),
            situation,
            address: Address {
                number: 1,
                street_type: "RUE".into(),
                street_name: "DE LA GARE".into(),
                commune_cog: "75111".into(),
                postal_code: "75011".into(),
                city: "Paris".into(),
            },
            first_income_year: 2022,
            taxable_income: vec![income; 4],
            deductions_permille: 0,
            capital_permille: 0,
            social: None,
        }
    }

    #[test]
    fn parts_follow_the_code_general_des_impots() {
        assert_eq!(half_parts(&household(FamilySituation::Single, 0, 0, 0)), 2);
        assert_eq!(half_parts(&household(FamilySituation::Married, 2, 0, 0)), 6);
        assert_eq!(half_parts(&household(FamilySituation::Married, 3, 0, 0)), 8);
        assert_eq!(
            half_parts(&household(FamilySituation::Divorced, 1, 0, 0)),
            4
        ); // 1 + 0.5 + T
    }

    #[test]
    fn tax_of_a_single_person_matches_the_scale() {
        // 30 000 € in 2024, one part: (29 315 − 11 497) × 11 % + (30 000 − 29 315) × 30 %.
        let expected = (29_315 - 11_497) * 11 / 100 + (30_000 - 29_315) * 30 / 100;
        let got = income_tax(30_000, 2, 2024);
        assert!(got.abs_diff(expected) <= 1, "{got} vs {expected}");
        assert_eq!(income_tax(10_000, 2, 2024), 0);
    }

    #[test]
    fn quotient_familial_uses_resources_of_year_minus_two() {
        let h = household(FamilySituation::Married, 2, 0, 36_000);
        // (36 000 / 12 + 151.05) / 3 parts = 1 050.35 → 1 050.
        assert_eq!(quotient_familial(&h, 2024), Some(1050));
        assert_eq!(quotient_familial(&h, 2030), None);
    }
}
