//! Personas: the named people and companies scenarios talk about, read from
//! `scenarios/personas.toml` and merged into the generated population.
//!
//! Every value is checked while the file is read, so a mistake is reported with the file, line and
//! column, e.g. `scenarios/personas.toml:14:9: invalid SIREN "418166097": 9 digits passing Luhn`.

use std::collections::HashMap;
use std::path::Path;

use chrono::NaiveDate;
use serde::Deserialize;
use toml::Spanned;

use crate::config::{self, FileError};

use super::generate::{Builder, CompanySpec, HouseholdSpec, PersonSpec, Stream};
use super::ids;
use super::model::*;
use super::referentials as refs;

/// A persona file that could not be used: file, line, column and problem.
pub type PersonaError = FileError;

/// The parsed persona file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonaFile {
    /// `[[citizens]]`: the citizen personas, each with a household.
    #[serde(default)]
    pub citizens: Vec<CitizenPersona>,
    /// `[[companies]]`: the company personas.
    #[serde(default)]
    pub companies: Vec<CompanyPersona>,
    #[serde(skip)]
    source: String,
    #[serde(skip)]
    file: String,
}

macro_rules! checked_string {
    ($(#[$doc:meta])* $name:ident, $what:literal, $check:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
        #[serde(try_from = "String")]
        pub struct $name(pub String);
        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                let check: fn(&str) -> bool = $check;
                if check(&s) { Ok($name(s)) } else { Err(format!("invalid {} {:?}: expected {}", stringify!($name).trim_end_matches("Field"), s, $what)) }
            }
        }
    };
}

checked_string!(
    /// A SIREN passing Luhn.
    SirenField, "9 digits passing Luhn", ids::is_valid_siren);
checked_string!(
    /// A SIRET passing its check (Luhn, or La Poste's rule).
    SiretField, "14 digits passing Luhn (La Poste: digit sum a multiple of 5)", ids::is_valid_siret);
checked_string!(
    /// A NIR whose key matches.
    NirField, "15 characters with a valid key", ids::is_valid_nir);
checked_string!(
    /// A numéro fiscal whose key matches.
    NumeroFiscalField, "13 digits, first 0-3, last three = first ten mod 511", ids::is_valid_numero_fiscal);
checked_string!(
    /// An INSEE COG commune code.
    CommuneField, "a 5-character COG commune code (e.g. 75111, 2A004)", |s| s.len() == 5
        && s.is_ascii() && (s[..2].bytes().all(|b| b.is_ascii_digit()) || s.starts_with("2A") || s.starts_with("2B"))
        && s[2..].bytes().all(|b| b.is_ascii_digit()));
checked_string!(
    /// An INSEE COG country code.
    CountryField, "a COG country code 99xxx (99100 for France)", |s| s.len() == 5 && s.starts_with("99") && s.bytes().all(|b| b.is_ascii_digit()));
checked_string!(
    /// A birth date, possibly presumed.
    BirthDateField, "YYYY-MM-DD, with 00 for an unknown month or day", |s| BirthDate::parse(s).is_some());
checked_string!(
    /// A NAF code in INSEE's dotted form.
    NafField, "a NAF code in dotted form, e.g. 43.99C", |s| s.len() == 6 && s.as_bytes()[2] == b'.'
        && s[..2].bytes().chain(s[3..5].bytes()).all(|b| b.is_ascii_digit()) && s.as_bytes()[5].is_ascii_uppercase());
checked_string!(
    /// A catégorie juridique of the referential.
    LegalFormField, "a catégorie juridique code, e.g. 5710 (SAS) or 5499 (SARL)", |s| refs::legal_form_label(s).is_some());
checked_string!(
    /// A headcount band code.
    HeadcountField, "an INSEE headcount band (NN, 00, 01, 02, 03, 11, 12, 21, 22, 31, 32, 41, 42, 51, 52, 53)", |s| refs::headcount_band(s).is_some());
checked_string!(
    /// A family situation.
    SituationField, "one of married, pacsed, single, divorced, widowed (or M, O, C, D, V)", |s| FamilySituation::parse(s).is_some());

/// A date `YYYY-MM-DD`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct DateField(pub NaiveDate);
impl TryFrom<String> for DateField {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        NaiveDate::parse_from_str(&s, "%Y-%m-%d")
            .map(DateField)
            .map_err(|_| format!("invalid date {s:?}: expected YYYY-MM-DD"))
    }
}

/// `"CNAF"`, `"MSA"` or `"none"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum RegimeField {
    /// A CAF file.
    #[serde(rename = "CNAF")]
    Cnaf,
    /// An MSA file.
    #[serde(rename = "MSA")]
    Msa,
    /// No family-benefits file.
    #[serde(rename = "none")]
    None,
}

/// A person the scenarios talk about, with their household.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CitizenPersona {
    /// Name scenarios use for this persona.
    pub key: Spanned<String>,
    /// What the persona stands for, for the people writing scenarios.
    pub description: String,
    /// Given names in civil-status order; drawn when absent.
    pub given_names: Option<String>,
    /// Birth family name; drawn when absent.
    pub family_name: Option<String>,
    /// Usage name (nom d'usage).
    pub usage_name: Option<String>,
    /// Sex; drawn when absent.
    pub gender: Option<Gender>,
    /// Birth date; drawn when absent.
    pub birth_date: Option<BirthDateField>,
    /// COG commune of birth.
    pub birthplace: Option<CommuneField>,
    /// COG country of birth (`99100` for France).
    pub birthcountry: Option<CountryField>,
    /// NIR; computed from the identity when absent.
    pub nir: Option<NirField>,
    /// Numéro fiscal; drawn when absent.
    pub numero_fiscal: Option<NumeroFiscalField>,
    /// E-mail; made from the names when absent.
    pub email: Option<String>,
    /// Family situation of the household.
    pub situation: Option<SituationField>,
    /// Number of dependent children.
    pub children: Option<u32>,
    /// Of them, children entitled to AEEH.
    pub aeeh_children: Option<u32>,
    /// Annual resources (revenu imposable of reference year − 2), euros.
    pub annual_resources: Option<u32>,
    /// CAF or MSA file (`none`: no file).
    pub regime: Option<RegimeField>,
    /// Commune (COG) of the household's address.
    pub commune: Option<CommuneField>,
    /// The spouse, for a couple.
    pub spouse: Option<SpousePersona>,
}

/// The spouse of a citizen persona.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpousePersona {
    /// Given names; drawn when absent.
    pub given_names: Option<String>,
    /// Birth family name; drawn when absent.
    pub family_name: Option<String>,
    /// Usage name (nom d'usage).
    pub usage_name: Option<String>,
    /// Sex; mostly the other one when absent.
    pub gender: Option<Gender>,
    /// Birth date; near declarant 1's when absent.
    pub birth_date: Option<BirthDateField>,
    /// COG commune of birth.
    pub birthplace: Option<CommuneField>,
    /// COG country of birth.
    pub birthcountry: Option<CountryField>,
}

/// A company the scenarios talk about.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompanyPersona {
    /// Name scenarios use for this persona.
    pub key: Spanned<String>,
    /// What the persona stands for, for the people writing scenarios.
    pub description: String,
    /// Raison sociale; drawn when absent.
    pub name: Option<String>,
    /// SIREN; drawn when absent.
    pub siren: Option<SirenField>,
    /// The head office's SIRET, when it must be a known one (a case of the real staging data);
    /// it starts with `siren`.
    pub head_office_siret: Option<SiretField>,
    /// Its acronym (sigle).
    pub sigle: Option<String>,
    /// Catégorie juridique; drawn when absent.
    pub legal_form: Option<LegalFormField>,
    /// NAF code; drawn when absent.
    pub naf: Option<NafField>,
    /// Headcount band; drawn when absent.
    pub headcount_band: Option<HeadcountField>,
    /// Sirene publication status.
    pub diffusion: Option<Diffusion>,
    /// URSSAF attestation status.
    pub urssaf: Option<UrssafStatus>,
    /// DGFiP attestation status.
    pub dgfip: Option<FiscalStatus>,
    /// MSA compliance (agricultural employers).
    pub msa: Option<MsaStatus>,
    /// Creation date.
    pub created: Option<DateField>,
    /// Cessation date (a ceased company).
    pub ceased: Option<DateField>,
    /// Number of establishments, head office included.
    pub establishments: Option<u32>,
    /// Keys of citizen personas who are its officers (mandataires sociaux).
    pub officers: Option<Vec<Spanned<String>>>,
    /// Key of the citizen persona running it (entrepreneur individuel).
    pub owner: Option<Spanned<String>>,
    /// Turnover of the last three financial years, oldest first.
    pub turnover: Option<Vec<u64>>,
    /// Commune (COG) of the head office.
    pub commune: Option<CommuneField>,
}

impl PersonaFile {
    /// Reads and checks a persona file.
    pub fn load(path: &Path) -> Result<PersonaFile, PersonaError> {
        Self::parse(&config::read(path)?, &path.display().to_string())
    }

    /// Parses and checks persona text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<PersonaFile, PersonaError> {
        let mut parsed: PersonaFile = config::parse_toml(text, file)?;
        parsed.source = text.to_string();
        parsed.file = file.to_string();
        parsed.check()?;
        Ok(parsed)
    }

    fn error_at(&self, span: std::ops::Range<usize>, message: String) -> PersonaError {
        FileError::at(&self.file, &self.source, span, message)
    }

    /// Cross-field and cross-persona rules.
    ///
    /// Long: one check per persona field, in the file's order.
    fn check(&self) -> Result<(), PersonaError> {
        for co in &self.companies {
            if let Some(siret) = &co.head_office_siret {
                let siren_ok = co.siren.as_ref().is_some_and(|s| siret.0.starts_with(&s.0));
                if !siren_ok {
                    return Err(self.error_at(
                        co.key.span(),
                        format!(
                            "head_office_siret {:?} needs the company's siren, and must start with it",
                            siret.0
                        ),
                    ));
                }
            }
        }
        let mut keys: HashMap<&str, ()> = HashMap::new();
        for c in &self.citizens {
            if keys.insert(c.key.get_ref(), ()).is_some() {
                return Err(self.error_at(
                    c.key.span(),
                    format!("duplicate persona key {:?}", c.key.get_ref()),
                ));
            }
            if let (Some(a), Some(n)) = (c.aeeh_children, c.children) {
                if a > n {
                    return Err(self.error_at(
                        c.key.span(),
                        format!(
                            "persona {:?}: aeeh_children ({a}) exceeds children ({n})",
                            c.key.get_ref()
                        ),
                    ));
                }
            }
            if c.aeeh_children.unwrap_or(0) > 0 && c.children.is_none() {
                return Err(self.error_at(
                    c.key.span(),
                    format!(
                        "persona {:?}: aeeh_children needs children",
                        c.key.get_ref()
                    ),
                ));
            }
            let couple = c
                .situation
                .as_ref()
                .and_then(|s| FamilySituation::parse(&s.0))
                .is_some_and(FamilySituation::is_couple);
            if c.spouse.is_some() && !couple {
                return Err(self.error_at(
                    c.key.span(),
                    format!(
                        "persona {:?}: a spouse needs situation married or pacsed",
                        c.key.get_ref()
                    ),
                ));
            }
            if let (Some(place), Some(country)) = (&c.birthplace, &c.birthcountry) {
                if country.0 != refs::FRANCE && !place.0.is_empty() {
                    return Err(self.error_at(
                        c.key.span(),
                        format!(
                            "persona {:?}: born abroad ({}) must have no birthplace",
                            c.key.get_ref(),
                            country.0
                        ),
                    ));
                }
            }
        }
        let mut company_keys: HashMap<&str, ()> = HashMap::new();
        for co in &self.companies {
            if company_keys.insert(co.key.get_ref(), ()).is_some() {
                return Err(self.error_at(
                    co.key.span(),
                    format!("duplicate persona key {:?}", co.key.get_ref()),
                ));
            }
            for r in co.officers.iter().flatten().chain(co.owner.iter()) {
                if !keys.contains_key(r.get_ref().as_str()) {
                    return Err(self.error_at(
                        r.span(),
                        format!("unknown citizen persona {:?}", r.get_ref()),
                    ));
                }
            }
            if let Some(t) = &co.turnover {
                if t.len() != 3 {
                    return Err(self.error_at(
                        co.key.span(),
                        format!(
                            "persona {:?}: turnover needs three years, got {}",
                            co.key.get_ref(),
                            t.len()
                        ),
                    ));
                }
            }
            if co.owner.is_some() && co.legal_form.as_ref().is_some_and(|l| l.0 != "1000") {
                return Err(self.error_at(
                    co.key.span(),
                    format!(
                        "persona {:?}: only an entrepreneur individuel (1000) has an owner",
                        co.key.get_ref()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Adds the personas to the population being built, each from its own random stream.
    ///
    /// Long: one field after the other, in the order the generator draws them.
    pub(crate) fn apply(&self, b: &mut Builder) {
        for c in &self.citizens {
            for id in [
                c.nir.as_ref().map(|n| &n.0),
                c.numero_fiscal.as_ref().map(|n| &n.0),
            ]
            .into_iter()
            .flatten()
            {
                b.reserved.insert(id.clone());
            }
        }
        for co in &self.companies {
            if let Some(s) = &co.siren {
                b.reserved.insert(s.0.clone());
            }
        }
        let mut citizen_of: HashMap<String, CitizenId> = HashMap::new();
        for c in &self.citizens {
            let key = c.key.get_ref().clone();
            let mut rng = Stream::named(b.seed, &key);
            let person = PersonSpec {
                given_names: c.given_names.clone(),
                family_name: c.family_name.as_ref().map(|s| s.to_uppercase()),
                usage_name: c.usage_name.as_ref().map(|s| s.to_uppercase()),
                gender: c.gender,
                birth_date: c.birth_date.as_ref().and_then(|d| BirthDate::parse(&d.0)),
                birthplace: c.birthplace.as_ref().map(|p| p.0.clone()).or_else(|| {
                    c.birthcountry
                        .as_ref()
                        .filter(|c| c.0 != refs::FRANCE)
                        .map(|_| String::new())
                }),
                birthcountry: c.birthcountry.as_ref().map(|c| c.0.clone()),
                nir: c.nir.as_ref().map(|n| n.0.clone()),
                numero_fiscal: c.numero_fiscal.as_ref().map(|n| n.0.clone()),
                email: c.email.clone(),
            };
            let spouse = c.spouse.as_ref().map(|s| PersonSpec {
                given_names: s.given_names.clone(),
                family_name: s.family_name.as_ref().map(|f| f.to_uppercase()),
                usage_name: s.usage_name.as_ref().map(|f| f.to_uppercase()),
                gender: s.gender,
                birth_date: s.birth_date.as_ref().and_then(|d| BirthDate::parse(&d.0)),
                birthplace: s.birthplace.as_ref().map(|p| p.0.clone()),
                birthcountry: s.birthcountry.as_ref().map(|c| c.0.clone()),
                ..PersonSpec::random()
            });
            let household = HouseholdSpec {
                situation: Some(
                    c.situation
                        .as_ref()
                        .and_then(|s| FamilySituation::parse(&s.0))
                        .unwrap_or(FamilySituation::Single),
                ),
                children: Some(c.children.unwrap_or(0)),
                aeeh_children: Some(c.aeeh_children.unwrap_or(0)),
                annual_resources: c.annual_resources,
                regime: c.regime.map(|r| match r {
                    RegimeField::Cnaf => Some(Regime::Cnaf),
                    RegimeField::Msa => Some(Regime::Msa),
                    RegimeField::None => None,
                }),
                commune: c.commune.as_ref().map(|c| c.0.clone()),
            };
            let h = b.household(&mut rng, household, person, spouse, Some(key.clone()));
            citizen_of.insert(key, b.households[h as usize].declarants[0]);
        }
        for co in &self.companies {
            let key = co.key.get_ref().clone();
            let mut rng = Stream::named(b.seed, &key);
            let spec = CompanySpec {
                siren: co.siren.as_ref().map(|s| s.0.clone()),
                head_office_siret: co.head_office_siret.as_ref().map(|s| s.0.clone()),
                sigle: co.sigle.as_ref().map(|s| s.to_uppercase()),
                name: co.name.as_ref().map(|n| n.to_uppercase()),
                owner: co
                    .owner
                    .as_ref()
                    .and_then(|o| citizen_of.get(o.get_ref()).copied()),
                legal_form: co
                    .legal_form
                    .as_ref()
                    .map(|l| l.0.clone())
                    .or_else(|| co.owner.as_ref().map(|_| "1000".to_string())),
                naf: co.naf.as_ref().map(|n| n.0.clone()),
                headcount_band: co.headcount_band.as_ref().map(|h| h.0.clone()),
                diffusion: Some(co.diffusion.unwrap_or(Diffusion::Diffusible)),
                created: co.created.as_ref().map(|d| d.0),
                ceased: Some(co.ceased.as_ref().map(|d| d.0)),
                establishments: co.establishments,
                officers: co.officers.as_ref().map(|list| {
                    list.iter()
                        .filter_map(|k| citizen_of.get(k.get_ref()).copied())
                        .collect()
                }),
                urssaf: co.urssaf,
                fiscal: co.dgfip,
                msa: co.msa,
                turnover: co.turnover.clone(),
                commune: co.commune.as_ref().map(|c| c.0.clone()),
            };
            b.company(&mut rng, spec, Some(key));
        }
    }
}
