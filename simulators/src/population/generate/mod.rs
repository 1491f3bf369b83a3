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

mod company;
mod household;

pub(crate) use company::CompanySpec;

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
    ///
    /// Long: the draws in their fixed order; cut further, the order that keeps a seed's population
    /// unchanged would no longer read in one place.
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
