//! A household: its declarants, children, address, incomes and CAF or MSA file.

use super::*;

impl Builder {
    /// Adds a household with its declarants and children. `first` describes declarant 1,
    /// `spouse` declarant 2 when the situation is a couple. Draws always come in the same order
    /// (situation, declarants, children, address, incomes, CAF or MSA file).
    ///
    /// Long: the draws in their fixed order; cut further, the order that keeps a seed's population
    /// unchanged would no longer read in one place.
    pub(crate) fn household(
        &mut self,
        rng: &mut Stream,
        spec: HouseholdSpec,
        first: PersonSpec,
        spouse: Option<PersonSpec>,
        persona: Option<String>,
    ) -> HouseholdId {
        let id = self.households.len() as HouseholdId;
        let ry = self.reference_year;
        let situation = spec.situation.unwrap_or_else(|| {
            rng.weighted(&[
                (35, FamilySituation::Married),
                (20, FamilySituation::Pacsed),
                (25, FamilySituation::Single),
                (12, FamilySituation::Divorced),
                (8, FamilySituation::Widowed),
            ])
        });
        let born_between = match situation {
            FamilySituation::Widowed => (ry - 90, ry - 55),
            _ => (ry - 80, ry - 22),
        };
        let first_gender = first.gender;
        let first_place = Placement {
            household: id,
            default_family_name: None,
            born_between,
            adult: true,
            persona: persona.clone(),
        };
        let d1 = self.citizen(rng, first, first_place);
        let mut declarants = vec![d1];
        if situation.is_couple() {
            let spouse = spouse.unwrap_or_else(PersonSpec::random);
            let persona = persona.as_ref().map(|p| format!("{p}#conjoint"));
            let d2 = self.spouse(
                rng,
                (id, situation),
                (d1, first_gender),
                spouse,
                persona,
                born_between,
            );
            declarants.push(d2);
        }
        let children_count = spec.children.unwrap_or_else(|| match situation {
            FamilySituation::Married | FamilySituation::Pacsed => {
                rng.weighted(&[(30, 0), (25, 1), (30, 2), (12, 3), (3, 4)])
            }
            FamilySituation::Single | FamilySituation::Divorced => {
                rng.weighted(&[(55, 0), (25, 1), (15, 2), (5, 3)])
            }
            FamilySituation::Widowed => 0,
        });
        let children = self.children(rng, id, &declarants, children_count);
        let aeeh_count = spec
            .aeeh_children
            .unwrap_or_else(|| children.iter().filter(|_| rng.chance(20)).count() as u32);
        let aeeh_children: Vec<CitizenId> =
            children.iter().take(aeeh_count as usize).copied().collect();
        let address = self.address(rng, spec.commune.as_deref());
        let first_income_year = ry - INCOME_YEARS;
        let taxable_income = taxable_income(rng, ry, declarants.len(), spec.annual_resources);
        let social = match spec.regime {
            Some(given) => given,
            None => random_regime(rng, children_count > 0),
        }
        .map(|regime| SocialFile {
            regime,
            numero_allocataire: self.numero_allocataire(),
        });
        self.households.push(Household {
            id,
            declarants,
            children,
            aeeh_children,
            situation,
            address,
            first_income_year,
            taxable_income,
            deductions_permille: rng.range(0, 30) as u16,
            capital_permille: rng.range(0, 50) as u16,
            social,
        });
        id
    }

    /// Declarant 2: mostly of the other gender, born within eight years of declarant 1; married
    /// women often use their spouse's name.
    fn spouse(
        &mut self,
        rng: &mut Stream,
        (id, situation): (HouseholdId, FamilySituation),
        (d1, first_gender): (CitizenId, Option<Gender>),
        mut spec: PersonSpec,
        persona: Option<String>,
        (oldest, youngest): (u16, u16),
    ) -> CitizenId {
        let g1 = first_gender.unwrap_or(self.citizens[d1 as usize].gender);
        if spec.gender.is_none() {
            spec.gender = Some(if rng.chance(950) {
                match g1 {
                    Gender::Female => Gender::Male,
                    Gender::Male => Gender::Female,
                }
            } else {
                g1
            });
        }
        let d1_year = self.citizens[d1 as usize].birth_date.year;
        let lo = d1_year.saturating_sub(8).max(oldest);
        let hi = (d1_year + 8).min(youngest);
        let place = Placement {
            household: id,
            default_family_name: None,
            born_between: (lo, hi.max(lo)),
            adult: true,
            persona,
        };
        let d2 = self.citizen(rng, spec, place);
        let (c1, c2) = (&self.citizens[d1 as usize], &self.citizens[d2 as usize]);
        if situation == FamilySituation::Married && c1.gender != c2.gender && rng.chance(600) {
            let (wife, husband_name) = if c1.gender == Gender::Female {
                (d1, c2.family_name.clone())
            } else {
                (d2, c1.family_name.clone())
            };
            let w = &mut self.citizens[wife as usize];
            if w.usage_name.is_none() && w.family_name != husband_name {
                w.usage_name = Some(husband_name);
            }
        }
        d2
    }

    /// The children, born after the youngest parent's eighteenth year, with the father's name.
    fn children(
        &mut self,
        rng: &mut Stream,
        id: HouseholdId,
        declarants: &[CitizenId],
        count: u32,
    ) -> Vec<CitizenId> {
        let ry = self.reference_year;
        let youngest_parent = declarants
            .iter()
            .map(|d| self.citizens[*d as usize].birth_date.year)
            .max()
            .unwrap_or(ry - 30);
        let family_name = {
            let c = &self.citizens[declarants[declarants.len() - 1].min(declarants[0]) as usize];
            let father = declarants
                .iter()
                .map(|d| &self.citizens[*d as usize])
                .find(|c| c.gender == Gender::Male);
            father.unwrap_or(c).family_name.clone()
        };
        let child_lo = (youngest_parent + 18).max(ry - 19);
        (0..count)
            .map(|_| {
                let place = Placement {
                    household: id,
                    default_family_name: Some(&family_name),
                    born_between: (child_lo.min(ry), ry),
                    adult: false,
                    persona: None,
                };
                self.citizen(rng, PersonSpec::random(), place)
            })
            .collect()
    }
}

/// Income years kept per household, ending with reference year − 1.
const INCOME_YEARS: u16 = 4;

/// Revenu imposable of each income year, drifting by a few per mille a year around the anchor
/// (reference year − 2, the EAJE "annual resources"), given or drawn per declarant.
fn taxable_income(rng: &mut Stream, ry: u16, declarants: usize, anchor: Option<u32>) -> Vec<u32> {
    let first_income_year = ry - INCOME_YEARS;
    let growth = rng.range(0, 40);
    let base_of = |rng: &mut Stream| {
        if rng.chance(20) {
            0
        } else {
            let u = rng.below(1000);
            8_000 + u * u / 1000 * 110
        }
    };
    let resources_slot = (ry - 2 - first_income_year) as u32;
    let anchor = anchor.unwrap_or_else(|| (0..declarants).map(|_| base_of(rng)).sum());
    (0..u32::from(INCOME_YEARS))
        .map(|slot| {
            let steps = slot as i64 - resources_slot as i64;
            (i64::from(anchor) + i64::from(anchor) * i64::from(growth) * steps / 1000).max(0) as u32
        })
        .collect()
}

/// Most families with children have a CAF or MSA file, few others do.
fn random_regime(rng: &mut Stream, has_children: bool) -> Option<Regime> {
    let has_file = if has_children {
        rng.chance(950)
    } else {
        rng.chance(200)
    };
    has_file.then(|| {
        if rng.chance(60) {
            Regime::Msa
        } else {
            Regime::Cnaf
        }
    })
}
