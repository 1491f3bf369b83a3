//! The synthetic population every simulated party serves: citizens grouped in tax households
//! (with their CAF/MSA file) and companies with their establishments, registry entry and social
//! and fiscal standing.
//!
//! Deterministic: the same [`PopulationConfig`] and persona file give the same population, byte
//! for byte ([`Population::fingerprint`]), on any machine.
//!
//! ```
//! use simulators::population::{Population, PopulationConfig};
//! let config = PopulationConfig { citizens: 200, companies: 20, ..PopulationConfig::default() };
//! let a = Population::generate(&config, None);
//! let b = Population::generate(&config, None);
//! assert_eq!(a.fingerprint(), b.fingerprint());
//! let company = &a.companies[0];
//! assert!(simulators::population::ids::is_valid_siren(&company.siren));
//! assert_eq!(a.company_by_siren(&company.siren).unwrap().id, company.id);
//! ```

pub mod export;
pub mod generate;
pub mod ids;
pub mod model;
pub mod personas;
pub mod referentials;
pub mod tax;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use model::*;
pub use personas::{PersonaError, PersonaFile};

use generate::{Builder, CompanySpec, HouseholdSpec, PersonSpec, Stream};

/// Size and seed of a population.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PopulationConfig {
    /// Seed of every random draw: the same seed gives the same population.
    pub seed: u64,
    /// Number of citizens (adults and children), personas included.
    pub citizens: usize,
    /// Number of companies, personas included.
    pub companies: usize,
    /// The year the simulation stands in: tax assessments cover the four income years before it.
    pub reference_year: u16,
}

impl Default for PopulationConfig {
    fn default() -> Self {
        PopulationConfig {
            seed: 42,
            citizens: 10_000,
            companies: 2_000,
            reference_year: 2026,
        }
    }
}

/// Identity pivot fields a provider matches a person on (as CNAF, MSA or FranceConnect send them).
#[derive(Clone, Debug, Default)]
pub struct PivotQuery<'a> {
    /// Birth name or usage name.
    pub family_name: &'a str,
    /// Given names as sent; matched on the first one.
    pub given_names: &'a str,
    /// Sex, when sent.
    pub gender: Option<Gender>,
    /// Birth year, when sent.
    pub birth_year: Option<u16>,
    /// Birth month, when sent (0: unknown).
    pub birth_month: Option<u8>,
    /// Birth day, when sent (0: unknown).
    pub birth_day: Option<u8>,
    /// COG commune; ignored when empty or when born abroad.
    pub birthplace: Option<&'a str>,
    /// COG country of birth (`99100` for France), when sent.
    pub birthcountry: Option<&'a str>,
}

/// The generated population with its lookup indexes.
#[derive(Debug)]
pub struct Population {
    /// What it was generated from.
    pub config: PopulationConfig,
    /// Every citizen, indexed by [`CitizenId`].
    pub citizens: Vec<Citizen>,
    /// Every tax household, indexed by [`HouseholdId`].
    pub households: Vec<Household>,
    /// Every company, indexed by [`CompanyId`].
    pub companies: Vec<Company>,
    by_nir: HashMap<u64, CitizenId>,
    by_numero_fiscal: HashMap<u64, CitizenId>,
    by_siren: HashMap<String, CompanyId>,
    by_siret: HashMap<String, (CompanyId, u32)>,
    by_name: HashMap<String, Vec<CitizenId>>,
    citizen_personas: HashMap<String, CitizenId>,
    company_personas: HashMap<String, CompanyId>,
}

/// Upper-case ASCII letters only, words separated by one space: how providers compare names.
pub fn normalize_name(s: &str) -> String {
    let ascii = deunicode::deunicode(s).to_uppercase();
    ascii
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

impl Population {
    /// Generates a population, merging the personas first (so they come first in every list).
    pub fn generate(config: &PopulationConfig, personas: Option<&PersonaFile>) -> Population {
        let mut b = Builder::new(config.seed, config.reference_year);
        if let Some(p) = personas {
            p.apply(&mut b);
        }
        let persona_households = b.households.len();
        let mut rng = Stream::main(config.seed);
        while b.citizens.len() < config.citizens {
            b.household(
                &mut rng,
                HouseholdSpec::random(),
                PersonSpec::random(),
                None,
                None,
            );
        }
        // The last household may overshoot the target: drop it and top up with single adults.
        while b.citizens.len() > config.citizens && b.households.len() > persona_households {
            let h = b.households.pop().expect("non-empty");
            b.citizens.truncate(h.declarants[0] as usize);
        }
        while b.citizens.len() < config.citizens {
            let single = HouseholdSpec {
                situation: Some(FamilySituation::Single),
                children: Some(0),
                ..HouseholdSpec::random()
            };
            b.household(&mut rng, single, PersonSpec::random(), None, None);
        }
        while b.companies.len() < config.companies {
            b.company(&mut rng, CompanySpec::default(), None);
        }
        Self::index(config.clone(), b)
    }

    fn index(config: PopulationConfig, b: Builder) -> Population {
        let citizens = b.citizens;
        // Identifier maps on one core, name map on the other: this is half of start-up at 1M.
        let ((by_nir, by_numero_fiscal), by_name) = std::thread::scope(|s| {
            let ids = s.spawn(|| {
                let mut by_nir = HashMap::with_capacity(citizens.len());
                let mut by_spi = HashMap::with_capacity(citizens.len());
                for c in &citizens {
                    if let Some(k) = ids::nir_index_key(&c.nir) {
                        by_nir.insert(k, c.id);
                    }
                    if let Some(spi) = c
                        .numero_fiscal
                        .as_deref()
                        .and_then(|s| s.parse::<u64>().ok())
                    {
                        by_spi.insert(spi, c.id);
                    }
                }
                (by_nir, by_spi)
            });
            let mut by_name: HashMap<String, Vec<CitizenId>> = HashMap::new();
            // Few distinct names: normalise each once.
            let mut normalized: HashMap<&str, String> = HashMap::new();
            for c in &citizens {
                for name in std::iter::once(&c.family_name).chain(c.usage_name.as_ref()) {
                    let key = normalized
                        .entry(name.as_str())
                        .or_insert_with(|| normalize_name(name))
                        .clone();
                    by_name.entry(key).or_default().push(c.id);
                }
            }
            (ids.join().expect("index thread"), by_name)
        });
        let mut p = Population {
            config,
            by_nir,
            by_numero_fiscal,
            by_siren: HashMap::with_capacity(b.companies.len()),
            by_siret: HashMap::with_capacity(b.companies.len() * 2),
            by_name,
            citizen_personas: HashMap::new(),
            company_personas: HashMap::new(),
            citizens,
            households: b.households,
            companies: b.companies,
        };
        for c in &p.citizens {
            if let Some(k) = &c.persona {
                p.citizen_personas.insert(k.clone(), c.id);
            }
        }
        for co in &p.companies {
            p.by_siren.insert(co.siren.clone(), co.id);
            for (i, e) in co.establishments.iter().enumerate() {
                p.by_siret.insert(e.siret.clone(), (co.id, i as u32));
            }
            if let Some(k) = &co.persona {
                p.company_personas.insert(k.clone(), co.id);
            }
        }
        p
    }

    /// SHA-256 of the whole population's canonical JSON: equal fingerprints, equal populations.
    pub fn fingerprint(&self) -> String {
        let mut hasher = Sha256::new();
        for part in [
            serde_json::to_vec(&self.citizens),
            serde_json::to_vec(&self.households),
            serde_json::to_vec(&self.companies),
        ] {
            hasher.update(part.expect("population serialises"));
        }
        hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The company documentation examples use: the `batiments-dupont` persona, else the first.
    pub fn example_company(&self) -> &Company {
        self.company_persona("batiments-dupont")
            .unwrap_or(&self.companies[0])
    }

    /// The citizen documentation examples use: the `famille-eaje-aeeh` persona, else the first
    /// allocataire.
    pub fn example_citizen(&self) -> &Citizen {
        self.citizen_persona("famille-eaje-aeeh")
            .or_else(|| {
                self.citizens.iter().find(|c| {
                    let h = self.household_of(c);
                    h.social.is_some() && h.declarants.contains(&c.id)
                })
            })
            .unwrap_or(&self.citizens[0])
    }

    /// A citizen by id (ids come from this population).
    pub fn citizen(&self, id: CitizenId) -> &Citizen {
        &self.citizens[id as usize]
    }
    /// A household by id.
    pub fn household(&self, id: HouseholdId) -> &Household {
        &self.households[id as usize]
    }
    /// The household a citizen belongs to.
    pub fn household_of(&self, c: &Citizen) -> &Household {
        self.household(c.household)
    }
    /// The citizen with this NIR (key included), if any.
    pub fn citizen_by_nir(&self, nir: &str) -> Option<&Citizen> {
        ids::nir_index_key(nir)
            .and_then(|k| self.by_nir.get(&k))
            .map(|id| self.citizen(*id))
    }
    /// The declarant holding a numéro fiscal.
    pub fn citizen_by_numero_fiscal(&self, spi: &str) -> Option<&Citizen> {
        if !ids::is_valid_numero_fiscal(spi) {
            return None;
        }
        spi.parse::<u64>()
            .ok()
            .and_then(|k| self.by_numero_fiscal.get(&k))
            .map(|id| self.citizen(*id))
    }
    /// The company with this SIREN, if any.
    pub fn company_by_siren(&self, siren: &str) -> Option<&Company> {
        self.by_siren
            .get(siren)
            .map(|id| &self.companies[*id as usize])
    }
    /// A company and one of its establishments, by SIRET.
    pub fn establishment_by_siret(&self, siret: &str) -> Option<(&Company, &Establishment)> {
        self.by_siret.get(siret).map(|(c, e)| {
            let company = &self.companies[*c as usize];
            (company, &company.establishments[*e as usize])
        })
    }
    /// A citizen persona by key.
    pub fn citizen_persona(&self, key: &str) -> Option<&Citizen> {
        self.citizen_personas.get(key).map(|id| self.citizen(*id))
    }
    /// A company persona by key.
    pub fn company_persona(&self, key: &str) -> Option<&Company> {
        self.company_personas
            .get(key)
            .map(|id| &self.companies[*id as usize])
    }

    /// Citizens matching an identity pivot: name (birth or usage, accents and punctuation
    /// ignored), first given name, and every other field given.
    pub fn find_by_pivot(&self, q: &PivotQuery<'_>) -> Vec<&Citizen> {
        let Some(candidates) = self.by_name.get(&normalize_name(q.family_name)) else {
            return Vec::new();
        };
        let first = normalize_name(q.given_names.split([' ', ',']).next().unwrap_or(""));
        candidates
            .iter()
            .map(|id| self.citizen(*id))
            // Cheap comparisons first; the given name (normalised) last.
            .filter(|c| q.birth_year.is_none_or(|y| y == c.birth_date.year))
            .filter(|c| q.gender.is_none_or(|g| g == c.gender))
            .filter(|c| {
                q.birth_month
                    .is_none_or(|m| m == c.birth_date.month || (m == 1 && c.birth_date.month == 0))
            })
            .filter(|c| {
                q.birth_day
                    .is_none_or(|d| d == c.birth_date.day || (d == 1 && c.birth_date.day == 0))
            })
            .filter(|c| {
                q.birthcountry
                    .is_none_or(|bc| bc.is_empty() || bc == c.birthcountry)
            })
            .filter(|c| {
                q.birthplace.is_none_or(|bp| {
                    bp.is_empty() || c.birthcountry != referentials::FRANCE || bp == c.birthplace
                })
            })
            .filter(|c| normalize_name(c.first_given_name()) == first)
            .collect()
    }
}

#[cfg(test)]
mod tests;
