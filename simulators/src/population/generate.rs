//! The seeded generator: households (with their citizens) and companies.
//!
//! Each persona draws from its own stream (seeded by the population seed and the persona key), and
//! the random population from the main stream, so adding a persona never reshuffles the others.
//! Identifiers come from bijections over the record index, so they are unique without a lookup.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use fake::Fake;
use fake::faker::address::raw::StreetName;
use fake::faker::internet::raw::FreeEmailProvider;
use fake::faker::name::raw::LastName;
use fake::locales::FR_FR;
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use sha2::{Digest, Sha256};

use super::ids;
use super::model::*;
use super::referentials::{self as refs, COMMUNES};

/// Random source for one stream of the population.
pub(crate) struct Stream(ChaCha8Rng);

impl Stream {
    /// The main stream of a seed.
    pub(crate) fn main(seed: u64) -> Self {
        Stream(ChaCha8Rng::seed_from_u64(seed))
    }
    /// A stream of its own for a named persona.
    pub(crate) fn named(seed: u64, name: &str) -> Self {
        let digest = Sha256::new()
            .chain_update(seed.to_le_bytes())
            .chain_update(name.as_bytes())
            .finalize();
        let mut key = [0u8; 32];
        key.copy_from_slice(&digest);
        Stream(ChaCha8Rng::from_seed(key))
    }
    pub(crate) fn below(&mut self, n: u32) -> u32 {
        self.0.random_range(0..n.max(1))
    }
    pub(crate) fn range(&mut self, lo: u32, hi_inclusive: u32) -> u32 {
        self.0.random_range(lo..=hi_inclusive.max(lo))
    }
    /// True with probability `per_mille` / 1000.
    pub(crate) fn chance(&mut self, per_mille: u32) -> bool {
        self.below(1000) < per_mille
    }
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u32) as usize]
    }
    /// Picks from `(weight, value)` pairs.
    pub(crate) fn weighted<T: Copy>(&mut self, items: &[(u32, T)]) -> T {
        let total: u32 = items.iter().map(|(w, _)| w).sum();
        let mut x = self.below(total);
        for (w, v) in items {
            if x < *w {
                return *v;
            }
            x -= w;
        }
        items[items.len() - 1].1
    }
    fn last_name(&mut self) -> String {
        LastName(FR_FR)
            .fake_with_rng::<String, _>(&mut self.0)
            .to_uppercase()
    }
    fn street_name(&mut self) -> String {
        // fake's French street names come with a type ("Rue Roxanne"): keep the name, the type is
        // drawn separately with INSEE's codes.
        let full: String = StreetName(FR_FR).fake_with_rng(&mut self.0);
        let name = full.split_once(' ').map(|(_, n)| n).unwrap_or(&full);
        let name = name.to_uppercase();
        if name.starts_with(|c: char| "AEIOUYH".contains(c)) {
            format!("D'{name}")
        } else {
            format!("DE {name}")
        }
    }
    fn email_provider(&mut self) -> String {
        FreeEmailProvider(FR_FR).fake_with_rng::<String, _>(&mut self.0)
    }
}

/// Everything generated so far, and the counters that keep identifiers unique.
pub(crate) struct Builder {
    pub seed: u64,
    pub reference_year: u16,
    pub citizens: Vec<Citizen>,
    pub households: Vec<Household>,
    pub companies: Vec<Company>,
    /// Next NIR order number by (sex, year, month, place) prefix.
    nir_orders: HashMap<u64, u16>,
    next_spi: u64,
    next_siren: u64,
    next_allocataire: u64,
    /// Identifiers fixed by personas, that generated ones must avoid.
    pub reserved: HashSet<String>,
}

/// What a household generator needs to know about one adult.
pub(crate) struct PersonSpec {
    pub given_names: Option<String>,
    pub family_name: Option<String>,
    pub usage_name: Option<String>,
    pub gender: Option<Gender>,
    pub birth_date: Option<BirthDate>,
    pub birthplace: Option<String>,
    pub birthcountry: Option<String>,
    pub nir: Option<String>,
    pub numero_fiscal: Option<String>,
    pub email: Option<String>,
}

impl PersonSpec {
    pub(crate) fn random() -> Self {
        PersonSpec {
            given_names: None,
            family_name: None,
            usage_name: None,
            gender: None,
            birth_date: None,
            birthplace: None,
            birthcountry: None,
            nir: None,
            numero_fiscal: None,
            email: None,
        }
    }
}

/// Where a new citizen goes: household, default family name, birth years, adult or child.
pub(crate) struct Placement<'a> {
    pub household: HouseholdId,
    pub default_family_name: Option<&'a str>,
    pub born_between: (u16, u16),
    pub adult: bool,
    pub persona: Option<String>,
}

/// What a household generator needs to know about the household.
pub(crate) struct HouseholdSpec {
    pub situation: Option<FamilySituation>,
    pub children: Option<u32>,
    pub aeeh_children: Option<u32>,
    /// Revenu imposable of reference year − 2 (the EAJE "annual resources").
    pub annual_resources: Option<u32>,
    /// `Some(None)`: no CAF/MSA file.
    pub regime: Option<Option<Regime>>,
    pub commune: Option<String>,
}

impl HouseholdSpec {
    pub(crate) fn random() -> Self {
        HouseholdSpec {
            situation: None,
            children: None,
            aeeh_children: None,
            annual_resources: None,
            regime: None,
            commune: None,
        }
    }
}

const STREET_TYPES: &[(u32, &str)] = &[
    (60, "RUE"),
    (15, "AV"),
    (8, "BD"),
    (6, "ALL"),
    (5, "IMP"),
    (4, "PL"),
    (2, "CHE"),
];

impl Builder {
    pub(crate) fn new(seed: u64, reference_year: u16) -> Self {
        Builder {
            seed,
            reference_year,
            citizens: Vec::new(),
            households: Vec::new(),
            companies: Vec::new(),
            nir_orders: HashMap::new(),
            next_spi: 0,
            next_siren: 0,
            next_allocataire: 0,
            reserved: HashSet::new(),
        }
    }

    pub(crate) fn address(&mut self, rng: &mut Stream, commune: Option<&str>) -> Address {
        let c = commune
            .and_then(refs::commune)
            .unwrap_or_else(|| rng.pick(COMMUNES));
        Address {
            number: rng.range(1, 150) as u16,
            street_type: rng.weighted(STREET_TYPES).to_string(),
            street_name: rng.street_name(),
            commune_cog: c.cog.to_string(),
            postal_code: c.postal_code.to_string(),
            city: c.name.to_string(),
        }
    }

    fn given_names(rng: &mut Stream, gender: Gender) -> String {
        let list = match gender {
            Gender::Female => refs::FEMALE_GIVEN_NAMES,
            Gender::Male => refs::MALE_GIVEN_NAMES,
        };
        let count = rng.weighted(&[(55, 1u32), (35, 2), (10, 3)]);
        let mut names: Vec<&str> = Vec::with_capacity(count as usize);
        while names.len() < count as usize {
            let n = *rng.pick(list);
            if !names.contains(&n) {
                names.push(n);
            }
        }
        names.join(" ")
    }

    fn nir(
        &mut self,
        rng: &mut Stream,
        gender: Gender,
        birth: BirthDate,
        birthplace: &str,
        birthcountry: &str,
    ) -> String {
        // Month 20 stands for an unknown month; born abroad: department 99 + country code.
        let month = if birth.month == 0 { 20 } else { birth.month };
        let place = if birthcountry == refs::FRANCE {
            birthplace.to_string()
        } else {
            birthcountry.to_string()
        };
        let prefix = format!(
            "{}{:02}{:02}{}",
            gender.nir_digit(),
            birth.year % 100,
            month,
            place
        );
        let prefix_key = ids::nir_index_key(&format!("{prefix}00000")).unwrap_or(0);
        loop {
            let order = self
                .nir_orders
                .entry(prefix_key)
                .or_insert_with(|| rng.range(1, 400) as u16);
            let current = *order;
            *order = if current >= 999 { 1 } else { current + 1 };
            let mut nir = format!("{prefix}{current:03}");
            let key = ids::nir_key(&nir).unwrap_or(0);
            nir.push_str(&format!("{key:02}"));
            if !self.reserved.contains(&nir) {
                return nir;
            }
        }
    }

    fn numero_fiscal(&mut self) -> String {
        loop {
            let head = ids::spread(self.next_spi, 2_654_435_761, 1_000_000_007, 4_000_000_000);
            self.next_spi += 1;
            let spi = ids::numero_fiscal_from_head(head);
            if !self.reserved.contains(&spi) {
                return spi;
            }
        }
    }

    pub(crate) fn siren(&mut self) -> String {
        loop {
            let body = ids::spread(self.next_siren, 48_271_129, 31_337_000, 100_000_000) as u32;
            self.next_siren += 1;
            let siren = ids::siren_from_body(body);
            if !self.reserved.contains(&siren)
                && siren != ids::LA_POSTE_SIREN
                && !siren.starts_with("000")
            {
                return siren;
            }
        }
    }

    fn numero_allocataire(&mut self) -> String {
        let n = ids::spread(self.next_allocataire, 7_919_093, 1_234_567, 10_000_000);
        self.next_allocataire += 1;
        format!("{n:07}")
    }

    fn email(rng: &mut Stream, given: &str, family: &str, id: CitizenId) -> String {
        let first = given.split(' ').next().unwrap_or("");
        let mut email = String::with_capacity(first.len() + family.len() + 24);
        for (i, part) in [first, family].into_iter().enumerate() {
            if i == 1 {
                email.push('.');
            }
            let ascii = if part.is_ascii() {
                std::borrow::Cow::Borrowed(part)
            } else {
                std::borrow::Cow::Owned(deunicode::deunicode(part))
            };
            email.extend(
                ascii
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .map(|c| c.to_ascii_lowercase()),
            );
        }
        email.push_str(&(id % 1000).to_string());
        email.push('@');
        email.push_str(&rng.email_provider());
        email
    }

    /// Adds one citizen; unknown fields are drawn from `rng`.
    pub(crate) fn citizen(
        &mut self,
        rng: &mut Stream,
        spec: PersonSpec,
        place: Placement<'_>,
    ) -> CitizenId {
        let Placement {
            household,
            default_family_name,
            born_between,
            adult,
            persona,
        } = place;
        let id = self.citizens.len() as CitizenId;
        let gender = spec.gender.unwrap_or_else(|| {
            if rng.chance(500) {
                Gender::Female
            } else {
                Gender::Male
            }
        });
        let birth_date = spec.birth_date.unwrap_or_else(|| {
            let year = rng.range(u32::from(born_between.0), u32::from(born_between.1)) as u16;
            let presumed = rng.below(1000);
            let month = if presumed < 3 {
                0
            } else {
                rng.range(1, 12) as u8
            };
            let day = if presumed < 6 {
                0
            } else {
                rng.range(1, 28) as u8
            };
            BirthDate {
                year,
                month,
                day: if month == 0 { 0 } else { day },
            }
        });
        let (birthplace, birthcountry) = match (spec.birthplace, spec.birthcountry) {
            (Some(p), Some(c)) => (p, c),
            (Some(p), None) => (p, refs::FRANCE.to_string()),
            (None, Some(c)) if c == refs::FRANCE => (rng.pick(COMMUNES).cog.to_string(), c),
            (None, Some(c)) => (String::new(), c),
            (None, None) => {
                if rng.chance(120) {
                    (
                        String::new(),
                        rng.pick(refs::FOREIGN_COUNTRIES).0.to_string(),
                    )
                } else {
                    (rng.pick(COMMUNES).cog.to_string(), refs::FRANCE.to_string())
                }
            }
        };
        let family_name = spec.family_name.unwrap_or_else(|| {
            default_family_name
                .map(str::to_string)
                .unwrap_or_else(|| rng.last_name())
        });
        let given_names = spec
            .given_names
            .unwrap_or_else(|| Self::given_names(rng, gender));
        let nir = match spec.nir {
            Some(n) => n,
            None => self.nir(rng, gender, birth_date, &birthplace, &birthcountry),
        };
        let numero_fiscal = match (spec.numero_fiscal, adult) {
            (Some(n), _) => Some(n),
            (None, true) => Some(self.numero_fiscal()),
            (None, false) => None,
        };
        let email = spec
            .email
            .unwrap_or_else(|| Self::email(rng, &given_names, &family_name, id));
        self.citizens.push(Citizen {
            id,
            persona,
            nir,
            numero_fiscal,
            given_names,
            family_name,
            usage_name: spec.usage_name,
            gender,
            birth_date,
            birthplace,
            birthcountry,
            email,
            household,
        });
        id
    }

    /// Adds a household with its declarants and children. `first` describes declarant 1,
    /// `spouse` declarant 2 when the situation is a couple.
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
        let (oldest, youngest) = match situation {
            FamilySituation::Widowed => (ry - 90, ry - 55),
            _ => (ry - 80, ry - 22),
        };
        let first_gender = first.gender;
        let first_place = Placement {
            household: id,
            default_family_name: None,
            born_between: (oldest, youngest),
            adult: true,
            persona: persona.clone(),
        };
        let d1 = self.citizen(rng, first, first_place);
        let mut declarants = vec![d1];
        if situation.is_couple() {
            let mut s = spouse.unwrap_or_else(PersonSpec::random);
            let g1 = first_gender.unwrap_or(self.citizens[d1 as usize].gender);
            if s.gender.is_none() {
                s.gender = Some(if rng.chance(950) {
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
            let spouse_place = Placement {
                household: id,
                default_family_name: None,
                born_between: (lo, hi.max(lo)),
                adult: true,
                persona: persona.as_ref().map(|p| format!("{p}#conjoint")),
            };
            let d2 = self.citizen(rng, s, spouse_place);
            // Married women often use their spouse's name.
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
        let mut children = Vec::new();
        let child_lo = (youngest_parent + 18).max(ry - 19);
        for _ in 0..children_count {
            let child_place = Placement {
                household: id,
                default_family_name: Some(&family_name),
                born_between: (child_lo.min(ry), ry),
                adult: false,
                persona: None,
            };
            let c = self.citizen(rng, PersonSpec::random(), child_place);
            children.push(c);
        }
        let aeeh_count = spec
            .aeeh_children
            .unwrap_or_else(|| children.iter().filter(|_| rng.chance(20)).count() as u32);
        let aeeh_children: Vec<CitizenId> =
            children.iter().take(aeeh_count as usize).copied().collect();
        let address = self.address(rng, spec.commune.as_deref());

        // Incomes: four income years ending with reference year − 1, drifting by a few per mille a year.
        let years = 4u16;
        let first_income_year = ry - years;
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
        let anchor = spec
            .annual_resources
            .unwrap_or_else(|| declarants.iter().map(|_| base_of(rng)).sum());
        let taxable_income: Vec<u32> = (0..u32::from(years))
            .map(|slot| {
                let steps = slot as i64 - resources_slot as i64;
                (i64::from(anchor) + i64::from(anchor) * i64::from(growth) * steps / 1000).max(0)
                    as u32
            })
            .collect();
        let social = match spec.regime {
            Some(None) => None,
            Some(Some(regime)) => Some(regime),
            None => {
                let has_file = if children_count > 0 {
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

    /// Adds a random company. `owner_pool` lists adult citizens that may run or direct it.
    pub(crate) fn company(
        &mut self,
        rng: &mut Stream,
        spec: CompanySpec,
        persona: Option<String>,
    ) -> CompanyId {
        let id = self.companies.len() as CompanyId;
        let ry = i32::from(self.reference_year);
        let legal_form = spec.legal_form.unwrap_or_else(|| {
            rng.weighted(&[
                (25, "5710"),
                (20, "5499"),
                (10, "5498"),
                (12, "5720"),
                (18, "1000"),
                (3, "5599"),
                (1, "5202"),
                (2, "5485"),
                (5, "6540"),
                (2, "6533"),
                (2, "9220"),
            ])
            .to_string()
        });
        let naf = spec.naf.unwrap_or_else(|| {
            match legal_form.as_str() {
                "6533" => *rng.pick(&["01.11Z", "01.21Z", "01.41Z"]),
                "6540" => "68.20B",
                "5485" => "86.21Z",
                _ => {
                    // Postal and public-administration activities belong to their personas only.
                    let non_agri: Vec<&str> = refs::NAF
                        .iter()
                        .filter(|n| !n.2 && !matches!(n.0, "53.10Z" | "84.11Z"))
                        .map(|n| n.0)
                        .collect();
                    if rng.chance(40) {
                        *rng.pick(&["01.21Z", "02.20Z", "81.30Z"])
                    } else {
                        *rng.pick(&non_agri)
                    }
                }
            }
            .to_string()
        });
        let natural_person = legal_form == "1000";
        let headcount_band = spec.headcount_band.unwrap_or_else(|| {
            if natural_person || legal_form == "6540" {
                rng.weighted(&[(50, "NN"), (30, "00"), (20, "01")])
                    .to_string()
            } else {
                rng.weighted(&[
                    (10, "NN"),
                    (15, "00"),
                    (20, "01"),
                    (15, "02"),
                    (12, "03"),
                    (10, "11"),
                    (8, "12"),
                    (4, "21"),
                    (3, "22"),
                    (1, "31"),
                    (1, "32"),
                    (1, "41"),
                ])
                .to_string()
            }
        });
        let siren = spec.siren.clone().unwrap_or_else(|| self.siren());
        let owner = if natural_person {
            spec.owner.or_else(|| self.random_adult(rng))
        } else {
            None
        };
        let name = spec.name.clone().unwrap_or_else(|| match owner {
            Some(o) => {
                let c = &self.citizens[o as usize];
                format!("{} {}", c.family_name, c.given_names)
            }
            None => company_name(rng, &legal_form, &naf),
        });
        let diffusion = spec.diffusion.unwrap_or_else(|| {
            if natural_person {
                rng.weighted(&[
                    (68, Diffusion::Diffusible),
                    (30, Diffusion::Partial),
                    (2, Diffusion::NonDiffusible),
                ])
            } else {
                rng.weighted(&[(98, Diffusion::Diffusible), (2, Diffusion::NonDiffusible)])
            }
        });
        let created = spec
            .created
            .unwrap_or_else(|| date_between(rng, 1960, ry - 1));
        let ceased = match spec.ceased {
            Some(c) => c,
            None => rng.chance(40).then(|| {
                date_between(
                    rng,
                    (created
                        .format("%Y")
                        .to_string()
                        .parse::<i32>()
                        .unwrap_or(2000)
                        + 1)
                    .min(ry - 1),
                    ry - 1,
                )
            }),
        };
        let employees_mid = refs::headcount_band(&headcount_band)
            .map(|b| (b.2.unwrap_or(0) + b.3.unwrap_or(b.2.unwrap_or(0))) / 2)
            .unwrap_or(0);
        let secondary = spec
            .establishments
            .map(|n| n.saturating_sub(1))
            .unwrap_or_else(|| match employees_mid {
                0..=9 => rng.weighted(&[(85, 0), (15, 1)]),
                10..=49 => rng.weighted(&[(50, 0), (35, 1), (15, 2)]),
                _ => rng.range(1, 4),
            });
        let mut establishments = Vec::new();
        let mut used_nic = HashSet::new();
        for i in 0..=secondary {
            let mut nic_body = if i == 0 {
                rng.range(1, 3) as u16
            } else {
                rng.range(10, 9999) as u16
            };
            // A known head office keeps its NIC, and no other establishment takes it.
            if let (Some(known), 0) = (&spec.head_office_siret, i) {
                nic_body = known[9..13].parse().unwrap_or(nic_body);
            }
            while !used_nic.insert(nic_body) {
                nic_body = nic_body % 9999 + 1;
            }
            let siret = match (&spec.head_office_siret, i) {
                (Some(known), 0) => known.clone(),
                _ => ids::siret_from(&siren, nic_body),
            };
            let address = self.address(
                rng,
                if i == 0 {
                    spec.commune.as_deref()
                } else {
                    None
                },
            );
            let est_created = if i == 0 {
                created
            } else {
                date_between(
                    rng,
                    created.format("%Y").to_string().parse().unwrap_or(2000),
                    ry - 1,
                )
                .max(created)
            };
            establishments.push(Establishment {
                siret,
                head_office: i == 0,
                address,
                created: est_created,
                closed: ceased,
                sign: (i > 0 && rng.chance(300)).then(|| name.clone()),
            });
        }
        let agricultural = refs::naf_is_agricultural(&naf);
        let rcs = (!matches!(legal_form.as_str(), "9220" | "7210")
            && (!natural_person || rng.chance(500))
            || spec.officers.is_some())
        .then(|| {
            let head = &establishments[0].address;
            let dept = &head.commune_cog[..2];
            let (greffe_code, greffe_name) = if matches!(dept, "57" | "67" | "68") {
                (
                    format!("{dept}02"),
                    format!("TRIBUNAL JUDICIAIRE {}", of_city(&head.city)),
                )
            } else {
                (
                    format!("{dept}01"),
                    format!("GREFFE DU TRIBUNAL DE COMMERCE {}", of_city(&head.city)),
                )
            };
            let capital = match legal_form.as_str() {
                "1000" => 0,
                "5599" => u64::from(rng.range(37, 5000)) * 1000,
                _ => u64::from(*rng.pick(&[
                    1u32, 100, 1000, 1500, 5000, 7500, 10_000, 15_000, 50_000, 100_000,
                ])),
            };
            RcsEntry {
                greffe_code,
                greffe_name,
                registered: created,
                struck_off: ceased,
                capital,
                officers: Vec::new(),
            }
        });
        let urssaf = spec.urssaf.unwrap_or_else(|| {
            if ceased.is_some() || agricultural || (headcount_band == "NN" && rng.chance(600)) {
                UrssafStatus::OutsidePerimeter
            } else {
                rng.weighted(&[
                    (85, UrssafStatus::UpToDate),
                    (6, UrssafStatus::Refused),
                    (5, UrssafStatus::OutsidePerimeter),
                    (4, UrssafStatus::ManualReview),
                ])
            }
        });
        let fiscal = spec.fiscal.unwrap_or_else(|| {
            if ceased.is_some() {
                FiscalStatus::OutsidePerimeter
            } else {
                rng.weighted(&[
                    (90, FiscalStatus::Compliant),
                    (7, FiscalStatus::NonCompliant),
                    (3, FiscalStatus::OutsidePerimeter),
                ])
            }
        });
        let msa = spec.msa.or_else(|| {
            agricultural.then(|| {
                rng.weighted(&[
                    (85, MsaStatus::UpToDate),
                    (10, MsaStatus::Outdated),
                    (5, MsaStatus::UnderInvestigation),
                ])
            })
        });
        let turnover = match spec.turnover {
            Some(t) => t
                .into_iter()
                .enumerate()
                .map(|(i, amount)| (self.reference_year - 3 + i as u16, amount))
                .collect(),
            None => {
                let base = u64::from(employees_mid.max(1)) * u64::from(rng.range(60, 140)) * 1000;
                (0..3u16)
                    .map(|i| {
                        let drift = u64::from(rng.range(900, 1150));
                        (
                            self.reference_year - 3 + i,
                            base * drift / 1000 * (100 + u64::from(i) * 3) / 100,
                        )
                    })
                    .collect()
            }
        };
        let mut company = Company {
            sigle: spec.sigle.clone(),
            id,
            persona,
            siren,
            name,
            owner,
            legal_form,
            naf,
            headcount_band,
            diffusion,
            created,
            ceased,
            establishments,
            rcs,
            urssaf,
            fiscal,
            msa,
            turnover,
        };
        // Officers: the persona's, or random adults in the roles the legal form calls for.
        if let Some(rcs) = company.rcs.as_mut() {
            let roles: &[&str] = match company.legal_form.as_str() {
                "5710" | "5720" => &["Président", "Directeur général"],
                "5599" => &[
                    "Président du conseil d'administration",
                    "Directeur général",
                    "Administrateur",
                ],
                "1000" => &[],
                _ => &["Gérant", "Gérant"],
            };
            match spec.officers {
                Some(list) => {
                    for (i, citizen) in list.into_iter().enumerate() {
                        let role = roles.get(i).copied().unwrap_or("Gérant").to_string();
                        rcs.officers.push(Officer { citizen, role });
                    }
                }
                None => {
                    let n = if roles.is_empty() {
                        0
                    } else {
                        rng.range(1, roles.len() as u32) as usize
                    };
                    for role in roles.iter().take(n) {
                        if let Some(citizen) = random_adult_in(rng, &self.citizens) {
                            rcs.officers.push(Officer {
                                citizen,
                                role: role.to_string(),
                            });
                        }
                    }
                }
            }
        }
        self.companies.push(company);
        id
    }

    fn random_adult(&self, rng: &mut Stream) -> Option<CitizenId> {
        random_adult_in(rng, &self.citizens)
    }
}

fn random_adult_in(rng: &mut Stream, citizens: &[Citizen]) -> Option<CitizenId> {
    if citizens.is_empty() {
        return None;
    }
    for _ in 0..16 {
        let c = &citizens[rng.below(citizens.len() as u32) as usize];
        if c.numero_fiscal.is_some() && c.persona.is_none() {
            return Some(c.id);
        }
    }
    citizens
        .iter()
        .find(|c| c.numero_fiscal.is_some())
        .map(|c| c.id)
}

/// A date drawn uniformly between 1 January of `from` and 31 December of `to`.
pub(crate) fn date_between(rng: &mut Stream, from: i32, to: i32) -> NaiveDate {
    let to = to.max(from);
    let year = rng.range(from as u32, to as u32) as i32;
    let ordinal = rng.range(1, 365);
    NaiveDate::from_yo_opt(year, ordinal).unwrap_or(NaiveDate::MIN)
}

/// "DE NANCY", "D'ORLÉANS", "DU HAVRE", "DE LA ROCHELLE".
fn of_city(city: &str) -> String {
    let up = city.to_uppercase();
    if let Some(rest) = up.strip_prefix("LE ") {
        format!("DU {rest}")
    } else if up.starts_with(|c: char| "AEIOUYÉÈH".contains(c)) {
        format!("D'{up}")
    } else {
        format!("DE {up}")
    }
}

fn company_name(rng: &mut Stream, legal_form: &str, naf: &str) -> String {
    let n = rng.last_name();
    let patterns: &[&str] = match (legal_form, &naf[..2]) {
        ("6540", _) => &["SCI {N}", "SCI DU {N}", "SCI LES JARDINS {N}"],
        ("6533", _) => &["GAEC DU DOMAINE {N}", "GAEC {N}", "GAEC DES TERRES {N}"],
        ("9220", _) => &["ASSOCIATION {N}", "AMICALE {N}"],
        (_, "41" | "42" | "43") => &[
            "BATIMENTS {N}",
            "{N} CONSTRUCTION",
            "ENTREPRISE {N}",
            "{N} ET FILS",
            "{N} BTP",
            "MACONNERIE {N}",
        ],
        (_, "62" | "70" | "71") => &[
            "{N} INFORMATIQUE",
            "{N} CONSEIL",
            "SOLUTIONS {N}",
            "{N} INGENIERIE",
        ],
        (_, "56") => &["RESTAURANT {N}", "CHEZ {N}", "{N} RESTAURATION"],
        (_, "49") => &["TRANSPORTS {N}", "{N} LOGISTIQUE"],
        (_, "01" | "02" | "81") => &["DOMAINE {N}", "{N} PAYSAGES", "EARL {N}"],
        _ => &[
            "ETABLISSEMENTS {N}",
            "{N} ET ASSOCIES",
            "SOCIETE {N}",
            "{N} SERVICES",
        ],
    };
    rng.pick(patterns).replace("{N}", &n)
}

/// What a company generator needs to know; `None` fields are drawn at random.
#[derive(Default)]
pub(crate) struct CompanySpec {
    pub siren: Option<String>,
    /// The head office's SIRET (it starts with `siren`).
    pub head_office_siret: Option<String>,
    pub sigle: Option<String>,
    pub name: Option<String>,
    pub owner: Option<CitizenId>,
    pub legal_form: Option<String>,
    pub naf: Option<String>,
    pub headcount_band: Option<String>,
    pub diffusion: Option<Diffusion>,
    pub created: Option<NaiveDate>,
    /// `Some(None)`: explicitly active.
    pub ceased: Option<Option<NaiveDate>>,
    pub establishments: Option<u32>,
    pub officers: Option<Vec<CitizenId>>,
    pub urssaf: Option<UrssafStatus>,
    pub fiscal: Option<FiscalStatus>,
    pub msa: Option<MsaStatus>,
    pub turnover: Option<Vec<u64>>,
    pub commune: Option<String>,
}
