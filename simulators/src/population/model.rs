//! The records of the synthetic population. Plain data: derived figures (tax, quotient familial)
//! are computed on demand in [`super::tax`], so they can never disagree with the inputs.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Index of a citizen in [`super::Population::citizens`].
pub type CitizenId = u32;
/// Index of a household in [`super::Population::households`].
pub type HouseholdId = u32;
/// Index of a company in [`super::Population::companies`].
pub type CompanyId = u32;

/// Civil-status gender, as in the identity pivot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Gender {
    /// Female (NIR first digit 2).
    Female,
    /// Male (NIR first digit 1).
    Male,
}

impl Gender {
    /// The OpenID Connect / FranceConnect value.
    pub fn oidc(self) -> &'static str {
        match self {
            Gender::Female => "female",
            Gender::Male => "male",
        }
    }
    /// The civil-status letter used by CNAF, MSA and API Particulier (`F`/`M`).
    pub fn letter(self) -> &'static str {
        match self {
            Gender::Female => "F",
            Gender::Male => "M",
        }
    }
    /// First digit of the NIR.
    pub fn nir_digit(self) -> u8 {
        match self {
            Gender::Male => 1,
            Gender::Female => 2,
        }
    }
}

/// A birth date, possibly "presumed": month and/or day unknown (0), as civil status allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BirthDate {
    /// Year, four digits.
    pub year: u16,
    /// 1–12, or 0 when unknown.
    pub month: u8,
    /// 1–31, or 0 when unknown.
    pub day: u8,
}

impl BirthDate {
    /// Whether the month or day is unknown ("présumé né").
    pub fn is_presumed(&self) -> bool {
        self.month == 0 || self.day == 0
    }
    /// Raw form as identity providers send it: `YYYY-MM-DD` with `00` for unknown parts.
    pub fn raw(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
    /// Normalised form as FranceConnect hands it to service providers: unknown parts become `01`.
    pub fn normalized(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}",
            self.year,
            self.month.max(1),
            self.day.max(1)
        )
    }
    /// The date, with unknown parts as the first of month/year.
    pub fn as_date(&self) -> NaiveDate {
        NaiveDate::from_ymd_opt(
            i32::from(self.year),
            u32::from(self.month.max(1)),
            u32::from(self.day.max(1)),
        )
        .unwrap_or(NaiveDate::MIN)
    }
    /// Parses `YYYY-MM-DD`, accepting `00` for month and day.
    pub fn parse(s: &str) -> Option<BirthDate> {
        let mut it = s.splitn(3, '-');
        let (y, m, d) = (it.next()?, it.next()?, it.next()?);
        if y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return None;
        }
        let b = BirthDate {
            year: y.parse().ok()?,
            month: m.parse().ok()?,
            day: d.parse().ok()?,
        };
        if b.month > 12 || b.day > 31 || (b.month == 0 && b.day != 0) {
            return None;
        }
        if b.month != 0
            && b.day != 0
            && NaiveDate::from_ymd_opt(i32::from(b.year), u32::from(b.month), u32::from(b.day))
                .is_none()
        {
            return None;
        }
        Some(b)
    }
}

/// A postal address in France.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// Street number; 0 when the address has none.
    pub number: u16,
    /// INSEE street type code (`RUE`, `AV`, `BD`, `ALL`, `IMP`, `PL`, `CHE`).
    pub street_type: String,
    /// Street name, upper case, without the type.
    pub street_name: String,
    /// COG code of the commune.
    pub commune_cog: String,
    /// Postal code (5 digits).
    pub postal_code: String,
    /// Commune name as the post writes it.
    pub city: String,
}

impl Address {
    /// Street type label as printed (`RUE`, `AVENUE`…).
    pub fn street_type_label(&self) -> &'static str {
        match self.street_type.as_str() {
            "AV" => "AVENUE",
            "BD" => "BOULEVARD",
            "ALL" => "ALLEE",
            "IMP" => "IMPASSE",
            "PL" => "PLACE",
            "CHE" => "CHEMIN",
            _ => "RUE",
        }
    }
    /// `12 RUE DES LILAS`.
    pub fn line(&self) -> String {
        format!(
            "{} {} {}",
            self.number,
            self.street_type_label(),
            self.street_name
        )
    }
    /// `75011 PARIS 11E ARRONDISSEMENT`.
    pub fn city_line(&self) -> String {
        format!("{} {}", self.postal_code, self.city.to_uppercase())
    }
}

/// A person of the population, adult or child.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Citizen {
    /// Index in [`Population::citizens`](super::Population::citizens).
    pub id: CitizenId,
    /// Persona key when this citizen comes from `scenarios/personas.toml`.
    pub persona: Option<String>,
    /// NIR (social security number) with its key.
    pub nir: String,
    /// Numéro fiscal (SPI), adults only.
    pub numero_fiscal: Option<String>,
    /// Given names in civil-status order, space separated ("Jean Pierre").
    pub given_names: String,
    /// Birth family name, upper case.
    pub family_name: String,
    /// Usage name (nom d'usage), upper case, when different.
    pub usage_name: Option<String>,
    /// Sex as civil status records it.
    pub gender: Gender,
    /// Birth date, possibly presumed.
    pub birth_date: BirthDate,
    /// COG commune of birth; empty when born abroad.
    pub birthplace: String,
    /// COG country of birth (`99100` for France).
    pub birthcountry: String,
    /// Contact e-mail, as identity providers release it.
    pub email: String,
    /// The tax household it belongs to.
    pub household: HouseholdId,
}

impl Citizen {
    /// First given name.
    pub fn first_given_name(&self) -> &str {
        self.given_names.split(' ').next().unwrap_or("")
    }

    /// What the identity providers' login forms take: the persona key, else `c` + id.
    pub fn login(&self) -> String {
        self.persona
            .clone()
            .unwrap_or_else(|| format!("c{}", self.id))
    }
}

/// Tax family situation, with DGFiP's one-letter codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FamilySituation {
    /// `M`: marié(e)s.
    Married,
    /// `O`: pacsé(e)s.
    Pacsed,
    /// `C`: célibataire.
    Single,
    /// `D`: divorcé(e) / séparé(e).
    Divorced,
    /// `V`: veuf(ve).
    Widowed,
}

impl FamilySituation {
    /// DGFiP code.
    pub fn code(self) -> &'static str {
        match self {
            FamilySituation::Married => "M",
            FamilySituation::Pacsed => "O",
            FamilySituation::Single => "C",
            FamilySituation::Divorced => "D",
            FamilySituation::Widowed => "V",
        }
    }
    /// Label as printed on the tax notice.
    pub fn label(self) -> &'static str {
        match self {
            FamilySituation::Married => "Marié(e)s",
            FamilySituation::Pacsed => "Pacsé(e)s",
            FamilySituation::Single => "Célibataire",
            FamilySituation::Divorced => "Divorcé(e)",
            FamilySituation::Widowed => "Veuf(ve)",
        }
    }
    /// Whether two people declare jointly.
    pub fn is_couple(self) -> bool {
        matches!(self, FamilySituation::Married | FamilySituation::Pacsed)
    }
    /// Parses a DGFiP code or an English name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "m" | "married" => FamilySituation::Married,
            "o" | "pacsed" => FamilySituation::Pacsed,
            "c" | "single" => FamilySituation::Single,
            "d" | "divorced" => FamilySituation::Divorced,
            "v" | "widowed" => FamilySituation::Widowed,
            _ => return None,
        })
    }
}

/// Family benefits regime holding the household's file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Regime {
    /// Caisse nationale des allocations familiales (régime général).
    Cnaf,
    /// Mutualité sociale agricole.
    Msa,
}

impl Regime {
    /// `CNAF` or `MSA`, as the hubs print it.
    pub fn label(self) -> &'static str {
        match self {
            Regime::Cnaf => "CNAF",
            Regime::Msa => "MSA",
        }
    }
}

/// The household's CAF or MSA file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocialFile {
    /// CNAF or MSA.
    pub regime: Regime,
    /// Numéro d'allocataire (7 digits).
    pub numero_allocataire: String,
}

/// A tax household (foyer fiscal), which is also the family the CAF/MSA knows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Household {
    /// Index in [`Population::households`](super::Population::households).
    pub id: HouseholdId,
    /// One or two declarants (adults).
    pub declarants: Vec<CitizenId>,
    /// Dependent children.
    pub children: Vec<CitizenId>,
    /// Children entitled to AEEH (allocation d'éducation de l'enfant handicapé), a subset of `children`.
    pub aeeh_children: Vec<CitizenId>,
    /// Family situation on the tax return.
    pub situation: FamilySituation,
    /// The household's address (every member's).
    pub address: Address,
    /// First income year of `taxable_income`.
    pub first_income_year: u16,
    /// Revenu imposable in euros, one entry per income year from `first_income_year`.
    pub taxable_income: Vec<u32>,
    /// Deductible charges, per mille of taxable income (revenu brut global = imposable + charges).
    pub deductions_permille: u16,
    /// Capital income counted in the RFR, per mille of taxable income.
    pub capital_permille: u16,
    /// Its CAF or MSA file, if any.
    pub social: Option<SocialFile>,
}

impl Household {
    /// Revenu imposable of an income year, if the household has an assessment for it.
    pub fn taxable_income_of(&self, year: u16) -> Option<u32> {
        let i = year.checked_sub(self.first_income_year)? as usize;
        self.taxable_income.get(i).copied()
    }
    /// Last income year with an assessment.
    pub fn last_income_year(&self) -> u16 {
        self.first_income_year + self.taxable_income.len() as u16 - 1
    }
}

/// INSEE diffusion status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Diffusion {
    /// `O`: diffusible.
    Diffusible,
    /// `P`: partially diffusible (personal data of a natural person withheld from open data).
    Partial,
    /// `N`: never diffused (defence units…): INSEE refuses to answer.
    NonDiffusible,
}

impl Diffusion {
    /// INSEE's one-letter code.
    pub fn code(self) -> &'static str {
        match self {
            Diffusion::Diffusible => "O",
            Diffusion::Partial => "P",
            Diffusion::NonDiffusible => "N",
        }
    }
}

/// Whether URSSAF delivers an attestation de vigilance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UrssafStatus {
    /// Up to date with contributions: attestation delivered.
    UpToDate,
    /// Not up to date: delivery refused.
    Refused,
    /// Unknown to the attestation system (no employees, struck off, not régime général…).
    OutsidePerimeter,
    /// Under manual review by an URSSAF agent.
    ManualReview,
}

/// Whether DGFiP delivers an attestation de régularité fiscale.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FiscalStatus {
    /// Up to date: the attestation is delivered.
    Compliant,
    /// Not up to date: refused.
    NonCompliant,
    /// Not followed by the DGFiP for this tax.
    OutsidePerimeter,
}

/// MSA contributions compliance of an agricultural employer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MsaStatus {
    /// Contributions up to date.
    UpToDate,
    /// Contributions overdue.
    Outdated,
    /// Under investigation by the MSA.
    UnderInvestigation,
}

/// An establishment (établissement) of a company.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Establishment {
    /// SIRET: SIREN and NIC.
    pub siret: String,
    /// Whether this is the head office (siège social).
    pub head_office: bool,
    /// Its address.
    pub address: Address,
    /// Creation date.
    pub created: NaiveDate,
    /// Closing date; `None` while open.
    pub closed: Option<NaiveDate>,
    /// Shop sign (enseigne).
    pub sign: Option<String>,
}

impl Establishment {
    /// NIC: the last five digits of the SIRET.
    pub fn nic(&self) -> &str {
        &self.siret[9..]
    }
}

/// A company officer (mandataire social) as registered at the RCS.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Officer {
    /// The citizen holding the office.
    pub citizen: CitizenId,
    /// Role as the greffe writes it ("Président", "Gérant"…).
    pub role: String,
}

/// The company's entry in the Registre du commerce et des sociétés.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RcsEntry {
    /// Code of the greffe keeping the entry.
    pub greffe_code: String,
    /// Name of that greffe.
    pub greffe_name: String,
    /// Registration date.
    pub registered: NaiveDate,
    /// Date struck off the register, if it was.
    pub struck_off: Option<NaiveDate>,
    /// Share capital in euros.
    pub capital: u64,
    /// Officers (mandataires sociaux).
    pub officers: Vec<Officer>,
}

/// A company (unité légale) and what every provider knows of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Company {
    /// Index in [`Population::companies`](super::Population::companies).
    pub id: CompanyId,
    /// Persona key when the company comes from `scenarios/personas.toml`.
    pub persona: Option<String>,
    /// SIREN (9 digits, Luhn).
    pub siren: String,
    /// Raison sociale (legal persons) or "NOM Prénom" (entrepreneur individuel).
    pub name: String,
    /// Its acronym (sigle), when it has one (left out of the fingerprint when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sigle: Option<String>,
    /// For an entrepreneur individuel: the citizen running it.
    pub owner: Option<CitizenId>,
    /// Catégorie juridique code.
    pub legal_form: String,
    /// NAF code, dotted.
    pub naf: String,
    /// Headcount band code.
    pub headcount_band: String,
    /// Sirene publication status (statut de diffusion).
    pub diffusion: Diffusion,
    /// Creation date.
    pub created: NaiveDate,
    /// Cessation date of a ceased company.
    pub ceased: Option<NaiveDate>,
    /// Head office first.
    pub establishments: Vec<Establishment>,
    /// Its RCS entry, if registered.
    pub rcs: Option<RcsEntry>,
    /// URSSAF attestation de vigilance status.
    pub urssaf: UrssafStatus,
    /// DGFiP attestation de régularité fiscale status.
    pub fiscal: FiscalStatus,
    /// Present for MSA-affiliated (agricultural) employers.
    pub msa: Option<MsaStatus>,
    /// Turnover in euros of the last three financial years (year, amount), oldest first.
    pub turnover: Vec<(u16, u64)>,
}

impl Company {
    /// The head office.
    pub fn head_office(&self) -> &Establishment {
        self.establishments
            .iter()
            .find(|e| e.head_office)
            .unwrap_or(&self.establishments[0])
    }
    /// Whether the company is a natural person (entrepreneur individuel).
    pub fn is_natural_person(&self) -> bool {
        self.legal_form == "1000"
    }
    /// INSEE's company category from the headcount band.
    pub fn category(&self) -> Option<&'static str> {
        match self.headcount_band.as_str() {
            "NN" => None,
            "42" | "51" | "52" | "53" => Some("GE"),
            "32" | "41" => Some("ETI"),
            _ => Some("PME"),
        }
    }
}
